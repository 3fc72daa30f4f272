/*
 * dbmetrics.c - the database and cache families of the catalogue and the
 * functions db.c records operations with. Runs inside hooks: no malloc, no
 * stdio, no lock but the registry's creation mutex (taken only for a series
 * not seen before).
 *
 *   db_client_operation_duration_seconds  histogram  db_system_name,
 *       db_operation_name, server_address, server_port, error_type
 *   db_server_operation_duration_seconds  histogram  db_system_name,
 *       db_operation_name, server_port, error_type
 *   db_client_cache_lookups_total         counter    db_system_name, result
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "shim/db.h"
#include "shim/metrics.h"
#include "shim/netaddr.h"
#include "shim/proto/memcached.h"
#include "shim/proto/mysql.h"
#include "shim/proto/redis.h"
#include "shim/proto/sqlop.h"
#include "shim/shim.h"

static const struct shim_family_def def_db_client = {
    .name = "db_client_operation_duration_seconds",
    .help = "Duration of database and cache operations made, from the first byte of the request written to the "
            "last byte of its reply read.",
    .type = SHIM_HISTOGRAM,
    .nlabels = 5,
    .labels = {"db_system_name", "db_operation_name", "server_address", "server_port", "error_type"},
    .scale = 1e9,
};
static const struct shim_family_def def_db_server = {
    .name = "db_server_operation_duration_seconds",
    .help = "Duration of database and cache operations served, from the first byte of the request read to the "
            "last byte of its reply written.",
    .type = SHIM_HISTOGRAM,
    .nlabels = 4,
    .labels = {"db_system_name", "db_operation_name", "server_port", "error_type"},
    .scale = 1e9,
};
static const struct shim_family_def def_db_lookups = {
    .name = "db_client_cache_lookups_total",
    .help = "Cache lookups made (Redis GET, MGET, HGET ...; memcached get, gets, gat ...: one per key), by result.",
    .type = SHIM_COUNTER,
    .nlabels = 2,
    .labels = {"db_system_name", "result"},
};

static struct shim_family *f_client, *f_server, *f_lookups;
/* the hit / miss series per protocol, made on first use (the registry is
 * shared with forked children at the same address, so they stay valid) */
static struct shim_series *_Atomic lookups[PROTO_COUNT][2];

int shim_db_metrics_init(void)
{
    f_client = shim_family(&def_db_client);
    f_server = shim_family(&def_db_server);
    f_lookups = shim_family(&def_db_lookups);
    for (int p = 0; p < PROTO_COUNT; p++)
        lookups[p][0] = lookups[p][1] = NULL;
    return f_client && f_server && f_lookups ? 0 : -ENOMEM;
}

/* MySQL names: SQL keywords below 0x100, protocol commands as 0x100 | cmd */
const char *shim_db_op_name(int proto, unsigned name)
{
    switch (proto) {
    case PROTO_REDIS:
        return shim_redis_command_name(name);
    case PROTO_MEMCACHED:
        return shim_memcached_command_name(name);
    case PROTO_POSTGRES:
        return shim_sql_op_name((int)name);
    case PROTO_MYSQL:
        return name < 0x100 ? shim_sql_op_name((int)name) : shim_mysql_cmd_name((int)(name & 0xff));
    default:
        return "_OTHER";
    }
}

/* lv: a NUL-terminated label value */
static struct shim_lv lv(const char *p)
{
    struct shim_lv v = {p, strlen(p)};
    return v;
}

/* find: the series of (name, err) for connection e, made when new; NULL
 * when the event must be dropped */
static struct shim_series *find(const struct shim_fd *e, const struct shim_db_sess *s, unsigned name, const char *err)
{
    char a[64], p[8];
    struct shim_lv v[5];
    unsigned n = 0;
    v[n++] = lv(shim_proto_name(s->proto));
    v[n++] = lv(shim_db_op_name(s->proto, name));
    if (!s->server) {
        v[n].p = a;
        v[n++].n = shim_addr_format(e->family, e->addr, a, sizeof(a));
    }
    v[n].p = p;
    v[n++].n = (size_t)shim_snprintf(p, sizeof(p), "%u", (unsigned)e->port);
    v[n++] = lv(err);
    return shim_series(s->server ? f_server : f_client, v);
}

void shim_db_m_op(const struct shim_fd *e, struct shim_db_sess *s, unsigned name, const char *err, uint64_t dur_ns)
{
    struct shim_series *ser;
    if (!err[0]) {
        for (unsigned i = 0; i < SHIM_DB_CACHE; i++) {
            if (s->cache[i].s && s->cache[i].name == name) {
                shim_hist_observe(s->cache[i].s, dur_ns);
                return;
            }
        }
    }
    ser = (s->server ? f_server : f_client) ? find(e, s, name, err) : NULL;
    if (!ser) {
        shim_drop_event();
        return;
    }
    shim_hist_observe(ser, dur_ns);
    if (!err[0]) {
        struct shim_db_cache_ent *c = &s->cache[s->cache_next++ % SHIM_DB_CACHE];
        c->s = ser;
        c->name = (uint16_t)name;
    }
}

/* lookup_series: the hit (1) or miss (0) series of proto */
static struct shim_series *lookup_series(int proto, int hit)
{
    struct shim_series *ser = atomic_load_explicit(&lookups[proto][hit], memory_order_acquire);
    if (ser || !f_lookups)
        return ser;
    struct shim_lv v[2] = {lv(shim_proto_name(proto)), lv(hit ? "hit" : "miss")};
    ser = shim_series(f_lookups, v);
    if (ser)
        atomic_store_explicit(&lookups[proto][hit], ser, memory_order_release);
    return ser;
}

void shim_db_m_lookups(int proto, uint32_t hits, uint32_t misses)
{
    if (proto < 0 || proto >= PROTO_COUNT)
        return;
    for (int hit = 0; hit < 2; hit++) {
        uint32_t n = hit ? hits : misses;
        if (!n)
            continue;
        struct shim_series *ser = lookup_series(proto, hit);
        if (ser)
            shim_counter_add(ser, n);
        else
            shim_drop_event();
    }
}
