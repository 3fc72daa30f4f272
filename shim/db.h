/*
 * db.h - sessions of the database and cache protocols: Redis, memcached,
 * PostgreSQL and MySQL. The events of each protocol's two parsers
 * (shim/proto/) become db_client_operation_duration_seconds (or the server
 * side's db_server_...) and db_client_cache_lookups_total.
 *
 * One struct shim_db_sess per connection, inside the session union of
 * session.h: the two parsers of the connection's protocol, a ring of the
 * operations in flight and a small cache of the series last recorded. It is
 * fixed-size (1176 bytes on LP64, less than the HTTP session, so the pool
 * entry does not grow) and everything here runs inside hooks: no malloc, no
 * locks, the clock read at most once per call that carries an operation
 * boundary.
 *
 * Threads: the ring's indices are atomics with one writer each (the request
 * side pushes, the reply side pops), so a reader and a writer thread on one
 * connection never corrupt it; pairing still assumes a request's bytes are
 * seen before its reply's, as they are when one thread drives the
 * connection (every Redis, memcached, PostgreSQL and MySQL client library
 * and server we know). PostgreSQL and MySQL also tell the reply parser what
 * each request was (shim_pg_expect, shim_mysql_expect) from the request
 * side: their two directions must not be parsed concurrently.
 */
#ifndef SHIM_DB_H
#define SHIM_DB_H

#include <stddef.h>
#include <stdint.h>

#include "shim/conn.h"
#include "shim/proto/memcached.h"
#include "shim/proto/mysql.h"
#include "shim/proto/postgres.h"
#include "shim/proto/redis.h"

#define SHIM_DB_INFLIGHT 32 /* operations followed per connection (a power of two) */
#define SHIM_DB_CACHE 8     /* successful operation names whose series are remembered per connection */

/* One operation waiting for its reply. */
struct shim_db_op {
    uint64_t t0;   /* its first byte (client: written; server: read) */
    uint32_t keys; /* cache lookups it makes (client side, Redis and memcached) */
    uint16_t name; /* operation name id (see dbmetrics.c: shim_db_op_name) */
    uint8_t flags; /* SHIM_DB_OPF_* */
    uint8_t opcode; /* memcached binary opcode */
};
#define SHIM_DB_OPF_QUIET 0x01u  /* memcached: a reply comes only for some outcomes */
#define SHIM_DB_OPF_OPAQUE 0x02u /* memcached: opaque[] is set */
#define SHIM_DB_OPF_KEY 0x04u    /* memcached: keyhash[] is set */
#define SHIM_DB_OPF_SUB 0x08u    /* Redis: SUBSCRIBE / MONITOR: the connection turns into a stream */
#define SHIM_DB_OPF_MC_NOOP 0x10u /* memcached: mn (meta no-op) */

/* The series of one operation name that succeeded on this connection
 * (failures are rare: they look their series up each time). */
struct shim_db_cache_ent {
    struct shim_series *s; /* NULL: free */
    uint16_t name;
};

struct shim_db_sess {
    uint8_t proto;      /* enum shim_proto */
    uint8_t server;     /* the program accepted the connection */
    uint8_t in_multi;   /* Redis: between MULTI and EXEC / DISCARD (request side) */
    uint8_t sub_req;    /* Redis: a SUBSCRIBE / MONITOR was sent: commands after it are not followed */
    uint8_t sub_resp;   /* Redis: it was confirmed: replies are not paired any more */
    uint8_t mc_armed;   /* memcached: the reply parser was told what the next reply answers */
    uint8_t cache_next; /* cache slot replaced next */
    uint8_t pad;
    char fatal[8];      /* error_type for what is pending when the server ended the connection */
    uint64_t cur_t0;    /* first byte of the operation being sent (request side), 0: none yet */
    _Atomic uint32_t head;     /* ring: consumer (reply side) */
    _Atomic uint32_t tail;     /* ring: producer (request side) */
    _Atomic uint32_t untracked; /* operations after the ring's that are not followed */
    uint32_t pad2;
    struct shim_db_op q[SHIM_DB_INFLIGHT];
    struct shim_db_cache_ent cache[SHIM_DB_CACHE];
    union {
        struct {
            struct shim_redis req, resp;
        } redis;
        struct {
            struct shim_mc req, resp;
            uint32_t opaque[SHIM_DB_INFLIGHT]; /* by ring slot */
            uint32_t keyhash[SHIM_DB_INFLIGHT];
        } mc;
        struct {
            struct shim_pg fe, be;
        } pg;
        struct {
            struct shim_mysql fe, be;
        } my;
    } p;
};

/* shim_db_metrics_init: create the db families (called by shim_metrics_init
 * once per registry). 0 or -ENOMEM. */
int shim_db_metrics_init(void);

/* shim_db_start: a connection was found to speak proto (PROTO_REDIS ..
 * PROTO_MYSQL): set up its zeroed session s. 0 or -EINVAL. */
int shim_db_start(struct shim_fd *e, struct shim_db_sess *s, enum shim_proto proto);
/* returns 0, -EPROTO (not this protocol after all: pass through, counted as
 * a parse error) or -ENOTCONN (stop parsing: TLS follows) */
int shim_db_data(struct shim_fd *e, struct shim_db_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n);
/* dir DIR_RX: the peer closed (err 0) or reset (err); -1: the program closed
 * the connection; -2: parsing stops, in-flight operations are not recorded */
void shim_db_end(struct shim_fd *e, struct shim_db_sess *s, int dir, int err);

/* dbmetrics.c: the name of operation name id `name` of protocol proto
 * (static storage; "_OTHER" for what is not known). */
const char *shim_db_op_name(int proto, unsigned name);
/* shim_db_m_op: one operation of connection e finished: observe dur_ns in
 * the client or server duration histogram under (name, err); err "" when it
 * succeeded. A success uses and fills the session's series cache. */
void shim_db_m_op(const struct shim_fd *e, struct shim_db_sess *s, unsigned name, const char *err, uint64_t dur_ns);
/* shim_db_m_lookups: hits and misses of cache lookups (client side). */
void shim_db_m_lookups(int proto, uint32_t hits, uint32_t misses);

#endif
