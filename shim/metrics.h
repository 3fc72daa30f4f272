/*
 * metrics.h - the catalogue: promshim's metric families and the events that
 * update them. The connection layer reports events here in its own terms
 * (a connect finished, bytes moved); only this file knows metric names.
 */
#ifndef SHIM_METRICS_H
#define SHIM_METRICS_H

#include <stdint.h>

#include "shim/registry.h"
#include "shim/shim.h"

/* shim_metrics_init: create the families (once per registry). 0 or -errno. */
int shim_metrics_init(void);

/* a connect attempt finished: err 0 for success, else an errno value, or
 * -1 for "abandoned" (closed while still in progress) */
void shim_m_connect(int family, const uint8_t *addr, uint16_t port, uint64_t dur_ns, int err);
void shim_m_conn_open(int role);
int shim_metrics_idle(void);

/* HTTP: method is an enum shim_http_method; status 0 = no response; err ""
 * when the request did not fail */
/* A connection's last label set and its series, so a keep-alive
 * connection repeating the same route pays no lookup (owned by the
 * connection's session; zero-filled = empty). */
struct shim_m_cache {
    struct shim_series *dur, *reqb, *respb;
    const char *err;
    uint16_t status, route_len;
    uint8_t method;
    char route[64];
};
void shim_m_http_server(struct shim_m_cache *c, unsigned method, const char *route, size_t route_len, unsigned status,
                        uint16_t port, const char *err, uint64_t dur_ns, uint64_t req_body, uint64_t resp_body,
                        int responded);
void shim_m_http_server_active(struct shim_series **cache, uint16_t port, int delta);
void shim_m_http_shed(uint16_t port, unsigned status);
void shim_m_http_client(struct shim_m_cache *c, unsigned method, unsigned status, int family, const uint8_t *addr,
                        uint16_t port, const char *err, uint64_t dur_ns);
void shim_m_http_client_active(struct shim_series **cache, int family, const uint8_t *addr, uint16_t port, int delta);
void shim_m_http_rate_limited(int family, const uint8_t *addr, uint16_t port);
void shim_m_retry(int family, const uint8_t *addr, uint16_t port, int exhausted);
void shim_m_parse_error(int proto);
/* the exporter refused a scrape: reason "address" or "auth" */
void shim_m_scrape_refused(const char *reason);
/* a TLS call whose socket could not be found */
void shim_m_tls_unattributed(void);
/* a connect was tried from caller (its return address): counted at once
 * when the call site has a name, else queued for shim_m_origins_drain
 * (a full queue drops it, counted). Hook-safe. */
void shim_m_origin(int family, const uint8_t *addr, uint16_t port, void *caller);
/* name and count the queued connects: promshim's own threads only (the
 * exporter's loop, before a render, at exit), never a hook */
void shim_m_origins_drain(void);
/* in a forked child: forget the parent's queue */
void shim_m_origins_after_fork_child(void);
void shim_m_conn_close(int role);

/* bytes: the four series are made at init, so this is one atomic add */
extern struct shim_series *shim_m_bytes_series[2][2]; /* [dir][role] */
static inline void shim_m_bytes(int dir, int role, uint64_t n)
{
    struct shim_series *s = shim_m_bytes_series[dir][role];
    if (SHIM_LIKELY(s != 0))
        shim_counter_add(s, n);
}

#endif
