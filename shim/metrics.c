/*
 * metrics.c - the connection-level families of the catalogue and the event
 * functions that update them. Everything here may run inside a hook: no
 * malloc, no stdio, no lock but the registry's creation mutex (taken only
 * for a series not seen before; a signal handler that interrupted its own
 * thread there gets the event dropped and counted).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "shim/conn.h"
#include "shim/callsite.h"
#include "shim/config.h"
#include "shim/db.h"
#include "shim/metrics.h"
#include "shim/netaddr.h"
#include "shim/proto/http1.h"
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
static int http_families(void);
static struct shim_series *s_conns[2], *s_active[2];
struct shim_series *shim_m_bytes_series[2][2];

static struct shim_lv lv(const char *s)
{
    struct shim_lv v = {s, strlen(s)};
    return v;
}

/* peer_lv: address and port label values into the caller's buffers */
static void peer_lv(struct shim_lv *v, int family, const uint8_t *addr, uint16_t port, char *a, size_t an, char *p,
                    size_t pn)
{
    v[0].p = a;
    v[0].n = shim_addr_format(family, addr, a, an);
    v[1].p = p;
    v[1].n = (size_t)shim_snprintf(p, pn, "%u", (unsigned)port);
}

/* num_lv: a number's label value ("" for 0) in buf */
static struct shim_lv num_lv(unsigned v, char *buf, size_t n)
{
    struct shim_lv r = {buf, 0};
    if (v)
        r.n = (size_t)shim_snprintf(buf, n, "%u", v);
    return r;
}

/* get: the series of f for the label values v; one that cannot be had now
 * is a dropped event (NULL) */
static struct shim_series *get(struct shim_family *f, const struct shim_lv *v)
{
    struct shim_series *s = shim_series(f, v);
    if (!s)
        shim_drop_event();
    return s;
}

/* count: one more in the counter of f for the label values v */
static void count(struct shim_family *f, const struct shim_lv *v)
{
    struct shim_series *s = get(f, v);
    if (s)
        shim_counter_add(s, 1);
}

int shim_metrics_init(void)
{
    struct shim_family *fc = shim_family(&def_connections);
    struct shim_family *fa = shim_family(&def_active);
    struct shim_family *fb = shim_family(&def_bytes);
    f_connect = shim_family(&def_connect_duration);
    f_errors = shim_family(&def_connect_errors);
    if (!fc || !fa || !fb || !f_connect || !f_errors || http_families() != 0 || shim_db_metrics_init() != 0)
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
    peer_lv(v, family, addr, port, a, sizeof(a), p, sizeof(p));
    v[2] = lv(err ? "error" : "success");
    struct shim_series *s = get(f_connect, v);
    if (s)
        shim_hist_observe(s, dur_ns);
    if (!err)
        return;
    v[2] = lv(err < 0 ? "abandoned" : shim_errno_name(err, e, sizeof(e)));
    count(f_errors, v);
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

/* ---- HTTP ---- */

/* an HTTP server request's histogram, by the request's labels */
#define HTTP_SERVER_HIST                                                                                        \
    .type = SHIM_HISTOGRAM, .nlabels = 5,                                                                       \
    .labels = {"http_request_method", "http_route", "http_response_status_code", "server_port", "error_type"}
/* body sizes in bytes, 64 B to 16 MiB */
#define BODY_SIZES                                                                                              \
    .nbuckets = 10, .buckets = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216}, .scale = 1
/* a peer's labels */
#define PEER_LABELS .nlabels = 2, .labels = {"server_address", "server_port"}

static const struct shim_family_def def_http_server = {
    .name = "http_server_request_duration_seconds",
    .help = "Duration of HTTP requests served, from the first byte read to the last byte of the response written.",
    HTTP_SERVER_HIST,
    .scale = 1e9,
};
static const struct shim_family_def def_http_server_req_body = {
    .name = "http_server_request_body_size_bytes",
    .help = "Size of HTTP request bodies received.",
    HTTP_SERVER_HIST,
    BODY_SIZES,
};
static const struct shim_family_def def_http_server_resp_body = {
    .name = "http_server_response_body_size_bytes",
    .help = "Size of HTTP response bodies sent.",
    HTTP_SERVER_HIST,
    BODY_SIZES,
};
static const struct shim_family_def def_http_server_active = {
    .name = "http_server_active_requests",
    .help = "HTTP requests being served now.",
    .type = SHIM_GAUGE,
    .flags = SHIM_PER_PROCESS,
    .nlabels = 1,
    .labels = {"server_port"},
};
static const struct shim_family_def def_http_shed = {
    .name = "promshim_load_shed_total",
    .help = "HTTP requests a server turned away with 429 or 503 (shed load).",
    .type = SHIM_COUNTER,
    .nlabels = 2,
    .labels = {"server_port", "http_response_status_code"},
};
static const struct shim_family_def def_http_client = {
    .name = "http_client_request_duration_seconds",
    .help = "Duration of HTTP requests made, from the first byte written to the last byte of the response read.",
    .type = SHIM_HISTOGRAM,
    .nlabels = 5,
    .labels = {"http_request_method", "http_response_status_code", "server_address", "server_port", "error_type"},
    .scale = 1e9,
};
static const struct shim_family_def def_http_client_active = {
    .name = "http_client_active_requests",
    .help = "HTTP requests in flight to a peer now (the concurrency a bulkhead would limit).",
    .type = SHIM_GAUGE,
    .flags = SHIM_PER_PROCESS,
    PEER_LABELS,
};
static const struct shim_family_def def_rate_limited = {
    .name = "http_client_rate_limited_total",
    .help = "HTTP responses 429 Too Many Requests received, by peer.",
    .type = SHIM_COUNTER,
    PEER_LABELS,
};
static const struct shim_family_def def_retries = {
    .name = "promshim_retries_total",
    .help = "HTTP requests repeated to the same peer, method and route within 10 s of a failure.",
    .type = SHIM_COUNTER,
    PEER_LABELS,
};
static const struct shim_family_def def_retries_exhausted = {
    .name = "promshim_retries_exhausted_total",
    .help = "Runs of retried HTTP requests that stopped without a success.",
    .type = SHIM_COUNTER,
    PEER_LABELS,
};
static const struct shim_family_def def_consecutive = {
    .name = "promshim_peer_consecutive_failures",
    .help = "HTTP requests to a peer that failed since its last success (what a circuit breaker trips on).",
    .type = SHIM_GAUGE,
    PEER_LABELS,
};
static const struct shim_family_def def_parse_errors = {
    .name = "promshim_parse_errors_total",
    .help = "Connections whose bytes did not parse as the protocol they started as (then passed through).",
    .type = SHIM_COUNTER,
    .nlabels = 1,
    .labels = {"protocol"},
};

/* the HTTP families, made at init (families are never freed) */
static struct {
    struct shim_family *http_server, *http_server_req_body, *http_server_resp_body, *http_server_active, *http_shed, *http_client, *http_client_active, *rate_limited, *retries, *retries_exhausted, *consecutive, *parse_errors;
} fam;

static int http_families(void)
{
    fam.http_server = shim_family(&def_http_server);
    fam.http_server_req_body = shim_family(&def_http_server_req_body);
    fam.http_server_resp_body = shim_family(&def_http_server_resp_body);
    fam.http_server_active = shim_family(&def_http_server_active);
    fam.http_shed = shim_family(&def_http_shed);
    fam.http_client = shim_family(&def_http_client);
    fam.http_client_active = shim_family(&def_http_client_active);
    fam.rate_limited = shim_family(&def_rate_limited);
    fam.retries = shim_family(&def_retries);
    fam.retries_exhausted = shim_family(&def_retries_exhausted);
    fam.consecutive = shim_family(&def_consecutive);
    fam.parse_errors = shim_family(&def_parse_errors);
    return fam.http_server && fam.http_server_req_body && fam.http_server_resp_body && fam.http_server_active && fam.http_shed && fam.http_client && fam.http_client_active && fam.rate_limited && fam.retries && fam.retries_exhausted && fam.consecutive && fam.parse_errors ? 0 : -ENOMEM;
}

/* cache_hit: the request's labels are those of the series in c */
static int cache_hit(const struct shim_m_cache *c, unsigned method, const char *route, size_t route_len,
                     unsigned status, const char *err)
{
    return c->dur && c->method == method && c->status == status && c->err == err && c->route_len == route_len &&
           memcmp(c->route, route, route_len) == 0;
}

static void cache_fill(struct shim_m_cache *c, unsigned method, const char *route, size_t route_len, unsigned status,
                       const char *err)
{
    c->method = (uint8_t)method;
    c->status = (uint16_t)status;
    c->err = err;
    c->route_len = (uint16_t)(route_len < sizeof(c->route) ? route_len : 0);
    memcpy(c->route, route, c->route_len);
    if (route_len >= sizeof(c->route))
        c->dur = NULL; /* too long to compare: not cached */
}

void shim_m_http_server(struct shim_m_cache *c, unsigned method, const char *route, size_t route_len, unsigned status,
                        uint16_t port, const char *err, uint64_t dur_ns, uint64_t req_body, uint64_t resp_body,
                        int responded)
{
    if (!cache_hit(c, method, route, route_len, status, err)) {
        char st[8], pt[8];
        struct shim_lv v[5] = {lv(shim_http_method_name((enum shim_http_method)method)),
                               {route, route_len},
                               num_lv(status, st, sizeof(st)),
                               num_lv(port, pt, sizeof(pt)),
                               lv(err)};
        c->dur = get(fam.http_server, v);
        c->reqb = get(fam.http_server_req_body, v);
        c->respb = responded ? get(fam.http_server_resp_body, v) : NULL;
        cache_fill(c, method, route, route_len, status, err);
        if (!c->dur || !c->reqb || (responded && !c->respb)) {
            if (c->dur)
                shim_hist_observe(c->dur, dur_ns);
            if (c->reqb)
                shim_hist_observe(c->reqb, req_body);
            if (c->respb)
                shim_hist_observe(c->respb, resp_body);
            c->dur = NULL;
            return;
        }
    }
    shim_hist_observe(c->dur, dur_ns);
    shim_hist_observe(c->reqb, req_body);
    if (responded && c->respb)
        shim_hist_observe(c->respb, resp_body);
}

void shim_m_http_server_active(struct shim_series **cache, uint16_t port, int delta)
{
    if (!*cache) {
        char pt[8];
        struct shim_lv v = num_lv(port, pt, sizeof(pt));
        *cache = get(fam.http_server_active, &v);
    }
    if (*cache)
        shim_gauge_add(*cache, delta);
}

void shim_m_http_shed(uint16_t port, unsigned status)
{
    char pt[8], st[8];
    struct shim_lv v[2] = {num_lv(port, pt, sizeof(pt)), num_lv(status, st, sizeof(st))};
    count(fam.http_shed, v);
}

void shim_m_http_client(struct shim_m_cache *c, unsigned method, unsigned status, int family, const uint8_t *addr,
                        uint16_t port, const char *err, uint64_t dur_ns)
{
    if (!cache_hit(c, method, "", 0, status, err)) {
        char st[8], a[64], p[8];
        struct shim_lv v[5];
        v[0] = lv(shim_http_method_name((enum shim_http_method)method));
        v[1] = num_lv(status, st, sizeof(st));
        peer_lv(v + 2, family, addr, port, a, sizeof(a), p, sizeof(p));
        v[4] = lv(err);
        c->dur = get(fam.http_client, v);
        c->reqb = get(fam.consecutive, v + 2);
        cache_fill(c, method, "", 0, status, err);
        if (!c->dur || !c->reqb) {
            if (c->dur)
                shim_hist_observe(c->dur, dur_ns);
            c->dur = NULL;
            return;
        }
    }
    shim_hist_observe(c->dur, dur_ns);
    if (err[0])
        shim_gauge_add(c->reqb, 1);
    else
        shim_gauge_set(c->reqb, 0);
}

void shim_m_http_client_active(struct shim_series **cache, int family, const uint8_t *addr, uint16_t port, int delta)
{
    if (!*cache) {
        char a[64], p[8];
        struct shim_lv v[2];
        peer_lv(v, family, addr, port, a, sizeof(a), p, sizeof(p));
        *cache = get(fam.http_client_active, v);
    }
    if (*cache)
        shim_gauge_add(*cache, delta);
}

void shim_m_http_rate_limited(int family, const uint8_t *addr, uint16_t port)
{
    char a[64], p[8];
    struct shim_lv v[2];
    peer_lv(v, family, addr, port, a, sizeof(a), p, sizeof(p));
    count(fam.rate_limited, v);
}

void shim_m_retry(int family, const uint8_t *addr, uint16_t port, int exhausted)
{
    char a[64], p[8];
    struct shim_lv v[2];
    peer_lv(v, family, addr, port, a, sizeof(a), p, sizeof(p));
    count(exhausted ? fam.retries_exhausted : fam.retries, v);
}

void shim_m_parse_error(int proto)
{
    struct shim_lv v = lv(shim_proto_name(proto));
    count(fam.parse_errors, &v);
}

/* ---- the exporter's own ---- */

static const struct shim_family_def def_refused = {
    .name = "promshim_scrapes_refused_total",
    .help = "Connections to the exporter refused by the allow list, or requests refused by basic auth.",
    .type = SHIM_COUNTER,
    .flags = SHIM_NO_EXPIRE,
    .nlabels = 1,
    .labels = {"reason"},
};

void shim_m_scrape_refused(const char *reason)
{
    struct shim_lv v = lv(reason);
    struct shim_series *s = shim_series(shim_family(&def_refused), &v);
    if (s)
        shim_counter_add(s, 1);
}

static const struct shim_family_def def_tls_unattributed = {
    .name = "promshim_tls_unattributed_total",
    .help = "TLS reads and writes whose socket could not be found (memory BIOs, no socket at all): not parsed.",
    .type = SHIM_COUNTER,
    .flags = SHIM_NO_EXPIRE,
    .nlabels = 0,
};

void shim_m_tls_unattributed(void)
{
    struct shim_series *s = shim_series(shim_family(&def_tls_unattributed), NULL);
    if (s)
        shim_counter_add(s, 1);
}

static const struct shim_family_def def_origins = {
    .name = "promshim_connection_origins_total",
    .help = "Outgoing connects by peer and the module and function that made them (first frame outside libc).",
    .type = SHIM_COUNTER,
    .nlabels = 4,
    .labels = {"server_address", "server_port", "module", "function"},
};

/* Connects whose call site had no name yet, waiting for promshim's thread
 * to name it (shim_m_origins_drain), one entry per call site and peer with
 * a count, so a burst of first connects (a thread pool starting) takes one
 * entry. Each entry's state, generation and count share one atomic word:
 * a hook adds to the count with a CAS that fails if the entry was drained
 * or reused meanwhile (the generation changes), so no add is lost or lands
 * on another entry; the key fields are atomics, stable while READY. Per
 * process; emptied in a forked child. */
#define ORIGINS_PENDING 64
enum { P_FREE = 0, P_FILLING, P_READY, P_DRAINING };
#define P_STATE(w) ((w) & 3u)
#define P_GEN(w) ((w) & 0xfcu)
#define P_ONE 0x100u /* one connect in the count bits (8..31) */
#define P_COUNT(w) ((w) >> 8)
static struct pending_origin {
    _Atomic uint32_t word;    /* state | generation << 2 | count << 8 */
    _Atomic uint32_t fam_port; /* family << 16 | port */
    _Atomic uint64_t addr[2];
    void *_Atomic caller;
} pending[ORIGINS_PENDING];

/* origin_count: n connects of the named call site to the peer */
static void origin_count(int family, const uint8_t *addr, uint16_t port, const char *module, const char *function,
                         uint64_t n)
{
    char a[64], p[8];
    struct shim_lv v[4];
    peer_lv(v, family, addr, port, a, sizeof(a), p, sizeof(p));
    v[2] = lv(module);
    v[3] = lv(function);
    struct shim_series *s = get(shim_family(&def_origins), v);
    if (s)
        shim_counter_add(s, n);
}

/* pending_add: count one connect of (caller, peer) in the queue; 0, or
 * -ENOSPC when every entry holds another call site or peer. Lock-free. */
static int pending_add(void *caller, uint32_t fam_port, const uint64_t *addr)
{
    unsigned start = (unsigned)((((uintptr_t)caller >> 4) ^ fam_port) % ORIGINS_PENDING);
    for (unsigned k = 0; k < ORIGINS_PENDING; k++) {
        struct pending_origin *q = &pending[(start + k) % ORIGINS_PENDING];
        uint32_t w = atomic_load_explicit(&q->word, memory_order_acquire);
        if (P_STATE(w) == P_READY && atomic_load_explicit(&q->caller, memory_order_relaxed) == caller &&
            atomic_load_explicit(&q->fam_port, memory_order_relaxed) == fam_port &&
            atomic_load_explicit(&q->addr[0], memory_order_relaxed) == addr[0] &&
            atomic_load_explicit(&q->addr[1], memory_order_relaxed) == addr[1]) {
            /* the same entry still (same generation, still READY): one more */
            uint32_t gen = P_GEN(w);
            while (P_STATE(w) == P_READY && P_GEN(w) == gen && P_COUNT(w) < (UINT32_MAX >> 8))
                if (atomic_compare_exchange_weak_explicit(&q->word, &w, w + P_ONE, memory_order_acq_rel,
                                                          memory_order_acquire))
                    return 0;
            continue;
        }
        if (P_STATE(w) != P_FREE)
            continue;
        uint32_t gen = (P_GEN(w) + 4u) & 0xfcu;
        if (!atomic_compare_exchange_strong_explicit(&q->word, &w, gen | P_FILLING, memory_order_acquire,
                                                     memory_order_relaxed))
            continue;
        atomic_store_explicit(&q->caller, caller, memory_order_relaxed);
        atomic_store_explicit(&q->fam_port, fam_port, memory_order_relaxed);
        atomic_store_explicit(&q->addr[0], addr[0], memory_order_relaxed);
        atomic_store_explicit(&q->addr[1], addr[1], memory_order_relaxed);
        atomic_store_explicit(&q->word, gen | P_READY | P_ONE, memory_order_release);
        return 0;
    }
    return -ENOSPC;
}

void shim_m_origin(int family, const uint8_t *addr, uint16_t port, void *caller)
{
    if (!shim_cfg.callsite_enabled)
        return;
    char module[64], function[64];
    if (shim_callsite_cached(caller, module, sizeof(module), function, sizeof(function))) {
        origin_count(family, addr, port, module, function, 1);
        return;
    }
    /* a call site without a name yet: naming it takes a lock (dladdr),
     * which is for promshim's thread */
    uint64_t a[2];
    memcpy(a, addr, sizeof(a));
    if (pending_add(caller, (uint32_t)family << 16 | port, a) != 0)
        shim_drop_event();
}

void shim_m_origins_drain(void)
{
    for (unsigned k = 0; k < ORIGINS_PENDING; k++) {
        struct pending_origin *q = &pending[k];
        uint32_t w = atomic_load_explicit(&q->word, memory_order_acquire);
        /* take the count out and the entry with it: from here no hook adds
         * to it (not READY), and a second drainer (a scrape and the
         * exporter's loop at once) skips it */
        do {
            if (P_STATE(w) != P_READY)
                break;
        } while (!atomic_compare_exchange_weak_explicit(&q->word, &w, P_GEN(w) | P_DRAINING, memory_order_acq_rel,
                                                        memory_order_acquire));
        if (P_STATE(w) != P_READY)
            continue;
        uint64_t n = P_COUNT(w);
        void *caller = atomic_load_explicit(&q->caller, memory_order_relaxed);
        uint32_t fp = atomic_load_explicit(&q->fam_port, memory_order_relaxed);
        uint64_t a[2] = {atomic_load_explicit(&q->addr[0], memory_order_relaxed),
                         atomic_load_explicit(&q->addr[1], memory_order_relaxed)};
        atomic_store_explicit(&q->word, P_GEN(w) | P_FREE, memory_order_release);
        char module[64], function[64];
        shim_callsite(caller, module, sizeof(module), function, sizeof(function));
        uint8_t addr[16];
        memcpy(addr, a, sizeof(addr));
        origin_count((int)(fp >> 16), addr, (uint16_t)fp, module, function, n);
    }
}

void shim_m_origins_after_fork_child(void)
{
    /* the parent's waiting connects are the parent's to count */
    for (unsigned k = 0; k < ORIGINS_PENDING; k++)
        atomic_store_explicit(&pending[k].word, 0, memory_order_relaxed);
}
