/*
 * tcp.c - built-in probes over this process's open client connections:
 *   tcp:   promshim_tcp_rtt_seconds and promshim_tcp_retransmits by peer
 *          (getsockopt TCP_INFO: the kernel's smoothed RTT, averaged over
 *          the peer's connections, and their retransmitted segments);
 *   pools: promshim_pool_connections by peer, protocol and state (busy:
 *          an operation in flight now; idle: open, waiting), what a
 *          connection pool holds.
 * Both are per-process gauges: a process's share leaves with it. A peer
 * with no connection left goes to 0 (and leaves the output once idle for
 * the series TTL). Promshim's thread only.
 *
 * The host's threads rewrite the fd entries meanwhile: a connection's peer
 * is taken with shim_conn_peek (a consistent copy, or the entry is left out
 * of this round when it kept changing), never read field by field.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "shim/conn.h"
#include "shim/netaddr.h"
#include "shim/real.h"
#include "shim/registry.h"
#include "shim/scheduler.h"
#include "shim/session.h"

#define MAX_PEERS 256

struct peer {
    uint8_t family, proto, used;
    uint16_t port;
    uint8_t addr[16];
    uint32_t n, busy;
    uint64_t rtt_us, retrans;
    struct shim_series *s[4]; /* rtt, retrans or busy, idle */
};

static const struct shim_family_def def_rtt = {
    .name = "promshim_tcp_rtt_seconds",
    .help = "Smoothed round-trip time of open client connections, averaged per peer (TCP_INFO).",
    .type = SHIM_GAUGE,
    .flags = SHIM_PER_PROCESS,
    .nlabels = 2,
    .labels = {"server_address", "server_port"},
    .scale = 1e6,
};
static const struct shim_family_def def_retrans = {
    .name = "promshim_tcp_retransmits",
    .help = "Segments retransmitted on the open client connections to a peer (TCP_INFO).",
    .type = SHIM_GAUGE,
    .flags = SHIM_PER_PROCESS,
    .nlabels = 2,
    .labels = {"server_address", "server_port"},
};
static const struct shim_family_def def_pool = {
    .name = "promshim_pool_connections",
    .help = "Open client connections by peer and protocol: busy (an operation in flight) or idle.",
    .type = SHIM_GAUGE,
    .flags = SHIM_PER_PROCESS,
    .nlabels = 4,
    .labels = {"server_address", "server_port", "protocol", "state"},
};

/* two tables per probe: this round's peers and the last round's (to zero
 * the peers that are gone) */
static struct peer tcp_peers[2][MAX_PEERS], pool_peers[2][MAX_PEERS];
static unsigned tcp_n[2], pool_n[2];
static int tcp_cur, pool_cur;

/* find: the peer entry of e (a copy) in t (n entries), added when new;
 * NULL if full */
static struct peer *find(struct peer *t, unsigned *n, const struct shim_fd_peer *e, uint8_t proto)
{
    for (unsigned i = 0; i < *n; i++)
        if (t[i].family == e->family && t[i].port == e->port && t[i].proto == proto &&
            memcmp(t[i].addr, e->addr, 16) == 0)
            return &t[i];
    if (*n >= MAX_PEERS)
        return NULL;
    struct peer *p = &t[(*n)++];
    memset(p, 0, sizeof(*p));
    p->family = e->family;
    p->port = e->port;
    p->proto = proto;
    memcpy(p->addr, e->addr, 16);
    return p;
}

/* same_peer: a and b are copies of client entries to one peer */
static int same_peer(const struct shim_fd_peer *a, const struct shim_fd_peer *b)
{
    return a->kind == b->kind && a->family == b->family && a->port == b->port &&
           memcmp(a->addr, b->addr, 16) == 0;
}

/* carry: the series found last round for the same peer */
static void carry(struct peer *p, const struct peer *old, unsigned nold)
{
    for (unsigned i = 0; i < nold; i++)
        if (old[i].family == p->family && old[i].port == p->port && old[i].proto == p->proto &&
            memcmp(old[i].addr, p->addr, 16) == 0) {
            memcpy(p->s, old[i].s, sizeof(p->s));
            return;
        }
}

/* series: the series of def for the peer (+ protocol and state labels) */
static struct shim_series *series(const struct shim_family_def *def, const struct peer *p, const char *state)
{
    char a[64], pt[8];
    struct shim_lv v[4];
    v[0].p = a;
    v[0].n = shim_addr_format(p->family, p->addr, a, sizeof(a));
    v[1].p = pt;
    v[1].n = (size_t)shim_snprintf(pt, sizeof(pt), "%u", (unsigned)p->port);
    const char *proto = shim_proto_name(p->proto);
    v[2].p = proto;
    v[2].n = strlen(proto);
    v[3].p = state;
    v[3].n = state ? strlen(state) : 0;
    return shim_series(shim_family(def), v);
}

/* gone: peers of the last round not seen in this one go to 0 */
static void zero_gone(struct peer *old, unsigned nold, const struct peer *cur, unsigned ncur)
{
    for (unsigned i = 0; i < nold; i++) {
        int seen = 0;
        for (unsigned j = 0; j < ncur && !seen; j++)
            seen = cur[j].family == old[i].family && cur[j].port == old[i].port && cur[j].proto == old[i].proto &&
                   memcmp(cur[j].addr, old[i].addr, 16) == 0;
        for (int k = 0; k < 4 && !seen; k++)
            if (old[i].s[k])
                shim_gauge_set(old[i].s[k], 0);
    }
}

int shim_probe_tcp(void *arg)
{
    int next = !tcp_cur;
    struct peer *t = tcp_peers[next];
    unsigned *n = &tcp_n[next];
    *n = 0;
    unsigned hwm = shim_conn_hwm();
    for (unsigned fd = 0; fd < hwm && fd < shim_fdmax; fd++) {
        struct shim_fd *e = &shim_fdtab[fd];
        if (__atomic_load_n(&e->kind, __ATOMIC_ACQUIRE) != FD_CLIENT)
            continue;
        struct shim_fd_peer pe, again;
        if (shim_conn_peek(e, &pe, 0) != 0 || pe.kind != FD_CLIENT)
            continue;
        struct tcp_info ti;
        socklen_t len = sizeof(ti);
        if (!real.getsockopt || real.getsockopt((int)fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
            continue;
        /* the fd may have been closed and reused meanwhile: the numbers
         * count only if it still goes to the same peer */
        if (shim_conn_peek(e, &again, 0) != 0 || !same_peer(&pe, &again))
            continue;
        struct peer *p = find(t, n, &pe, 0);
        if (!p)
            continue;
        p->n++;
        p->rtt_us += ti.tcpi_rtt;
        p->retrans += ti.tcpi_total_retrans;
    }
    for (unsigned i = 0; i < *n; i++) {
        struct peer *p = &t[i];
        carry(p, tcp_peers[tcp_cur], tcp_n[tcp_cur]);
        if (!p->s[0])
            p->s[0] = series(&def_rtt, p, NULL);
        if (!p->s[1])
            p->s[1] = series(&def_retrans, p, NULL);
        if (p->s[0])
            shim_gauge_set(p->s[0], (int64_t)(p->rtt_us / p->n));
        if (p->s[1])
            shim_gauge_set(p->s[1], (int64_t)p->retrans);
    }
    zero_gone(tcp_peers[tcp_cur], tcp_n[tcp_cur], t, *n);
    tcp_cur = next;
    return 0;
}

int shim_probe_pools(void *arg)
{
    int next = !pool_cur;
    struct peer *t = pool_peers[next];
    unsigned *n = &pool_n[next];
    *n = 0;
    unsigned hwm = shim_conn_hwm();
    for (unsigned fd = 0; fd < hwm && fd < shim_fdmax; fd++) {
        struct shim_fd *e = &shim_fdtab[fd];
        if (__atomic_load_n(&e->kind, __ATOMIC_ACQUIRE) != FD_CLIENT)
            continue;
        struct shim_fd_peer pe;
        if (shim_conn_peek(e, &pe, 1) != 0 || pe.kind != FD_CLIENT)
            continue;
        struct peer *p = find(t, n, &pe, pe.proto);
        if (!p)
            continue;
        p->n++;
        p->busy += (uint32_t)pe.busy;
    }
    for (unsigned i = 0; i < *n; i++) {
        struct peer *p = &t[i];
        carry(p, pool_peers[pool_cur], pool_n[pool_cur]);
        if (!p->s[2])
            p->s[2] = series(&def_pool, p, "busy");
        if (!p->s[3])
            p->s[3] = series(&def_pool, p, "idle");
        if (p->s[2])
            shim_gauge_set(p->s[2], p->busy);
        if (p->s[3])
            shim_gauge_set(p->s[3], (int64_t)(p->n - p->busy));
    }
    zero_gone(pool_peers[pool_cur], pool_n[pool_cur], t, *n);
    pool_cur = next;
    return 0;
}
