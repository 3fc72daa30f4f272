/*
 * metrics.c - the connection-level families of the catalogue and the event
 * functions that update them. Everything here may run inside a hook: no
 * malloc, no stdio, no lock but the registry's creation mutex (taken only
 * for a series not seen before; a signal handler that interrupted its own
 * thread there gets the event dropped and counted).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "shim/conn.h"
#include "shim/metrics.h"
#include "shim/netaddr.h"
#include "shim/shim.h"

static const struct shim_family_def def_connect_duration = {
    .name = "promshim_connect_duration_seconds",
    .help = "Time taken by outgoing TCP connects, by peer and outcome.",
    .type = SHIM_HISTOGRAM,
    .nlabels = 3,
    .labels = {"server_address", "server_port", "outcome"},
    .scale = 1e9,
};
static const struct shim_family_def def_connect_errors = {
    .name = "promshim_connect_errors_total",
    .help = "Outgoing TCP connects that failed, by peer and errno name.",
    .type = SHIM_COUNTER,
    .nlabels = 3,
    .labels = {"server_address", "server_port", "error_type"},
};
static const struct shim_family_def def_connections = {
    .name = "promshim_connections_total",
    .help = "TCP connections opened (connected or accepted), by role.",
    .type = SHIM_COUNTER,
    .flags = SHIM_NO_EXPIRE,
    .nlabels = 1,
    .labels = {"role"},
};
static const struct shim_family_def def_active = {
    .name = "promshim_connections_active",
    .help = "TCP connections open now, by role (of live processes).",
    .type = SHIM_GAUGE,
    .flags = SHIM_PER_PROCESS | SHIM_NO_EXPIRE,
    .nlabels = 1,
    .labels = {"role"},
};
static const struct shim_family_def def_bytes = {
    .name = "promshim_network_io_bytes_total",
    .help = "Bytes moved on tracked TCP connections, by direction and role.",
    .type = SHIM_COUNTER,
    .flags = SHIM_NO_EXPIRE,
    .nlabels = 2,
    .labels = {"direction", "role"},
};

static const char *const role_name[2] = {"client", "server"};
static const char *const dir_name[2] = {"transmit", "receive"};

static struct shim_family *f_connect, *f_errors;
static struct shim_series *s_conns[2], *s_active[2];
struct shim_series *shim_m_bytes_series[2][2];

static struct shim_lv lv(const char *s)
{
    struct shim_lv v = {s, strlen(s)};
    return v;
}

int shim_metrics_init(void)
{
    struct shim_family *fc = shim_family(&def_connections);
    struct shim_family *fa = shim_family(&def_active);
    struct shim_family *fb = shim_family(&def_bytes);
    f_connect = shim_family(&def_connect_duration);
    f_errors = shim_family(&def_connect_errors);
    if (!fc || !fa || !fb || !f_connect || !f_errors)
        return -ENOMEM;
    for (int r = 0; r < 2; r++) {
        struct shim_lv role = lv(role_name[r]);
        s_conns[r] = shim_series(fc, &role);
        s_active[r] = shim_series(fa, &role);
        for (int d = 0; d < 2; d++) {
            struct shim_lv v[2] = {lv(dir_name[d]), role};
            shim_m_bytes_series[d][r] = shim_series(fb, v);
        }
    }
    return 0;
}

void shim_m_connect(int family, const uint8_t *addr, uint16_t port, uint64_t dur_ns, int err)
{
    char a[64], p[8], e[16];
    struct shim_lv v[3];
    v[0].p = a;
    v[0].n = shim_addr_format(family, addr, a, sizeof(a));
    v[1].p = p;
    v[1].n = (size_t)shim_snprintf(p, sizeof(p), "%u", (unsigned)port);
    v[2] = lv(err ? "error" : "success");
    struct shim_series *s = shim_series(f_connect, v);
    if (s)
        shim_hist_observe(s, dur_ns);
    else
        shim_drop_event();
    if (!err)
        return;
    v[2] = lv(err < 0 ? "abandoned" : shim_errno_name(err, e, sizeof(e)));
    s = shim_series(f_errors, v);
    if (s)
        shim_counter_add(s, 1);
    else
        shim_drop_event();
}

void shim_m_conn_open(int role)
{
    if (s_conns[role])
        shim_counter_add(s_conns[role], 1);
    if (s_active[role])
        shim_gauge_add(s_active[role], 1);
}

void shim_m_conn_close(int role)
{
    if (s_active[role])
        shim_gauge_add(s_active[role], -1);
}

/* shim_metrics_idle: 1 when this tree has seen no network activity at all
 * (no connection opened, no connect tried): an exec'd helper such as `true`
 * then does not overwrite the textfile of the program that ran it. */
int shim_metrics_idle(void)
{
    for (int r = 0; r < 2; r++)
        if (s_conns[r] && shim_counter_value(s_conns[r]))
            return 0;
    return !f_connect || !shim_series_next(f_connect, NULL);
}
