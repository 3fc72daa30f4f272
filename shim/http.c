/*
 * http.c - HTTP/1.x sessions: the events of the two parsers of a connection
 * (shim/proto/http1.c) turned into request metrics.
 *
 *   server (accepted socket): requests are read, responses written; a
 *     request's duration runs from its first byte read to its response's
 *     last byte written.
 *   client (connected socket): requests are written, responses read; from
 *     the request's first byte written to the response's last byte read.
 *
 * Requests wait in a small ring until their response completes, so
 * pipelined requests pair with their responses in order. A request that
 * never gets a response is still counted when the connection ends, with
 * error_type saying why. Everything here runs inside hooks: no malloc, no
 * locks but the registry's series creation, the clock read only at request
 * boundaries.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "shim/config.h"
#include "shim/metrics.h"
#include "shim/session.h"
#include "shim/shim.h"

static struct shim_routes routes; /* configured patterns (PROMSHIM_HTTP_ROUTES) */

void shim_http_config(const char *spec)
{
    int bad = -1;
    shim_routes_parse(&routes, spec, &bad);
    if (bad >= 0)
        LOG_WARN("PROMSHIM_HTTP_ROUTES: entry %d is not a route pattern such as /users/{id}; it is ignored", bad + 1);
}

/* ---- retries: a failed request repeated soon after, per peer, method and
 * route; a run of failures that stops without a success is "exhausted" ---- */

#define RETRY_SLOTS 256
#define RETRY_WINDOW_NS (10ull * 1000000000ull)

struct retry_slot {
    _Atomic uint64_t key;     /* 0: free */
    _Atomic uint64_t fail_ns; /* last failure */
    _Atomic uint32_t retries; /* retries in the current run of failures */
    uint8_t family;
    uint8_t addr[16];
    uint16_t port;
};
static struct retry_slot retry[RETRY_SLOTS];
static _Atomic unsigned retry_sweep;

static uint64_t retry_key(const struct shim_fd *e, const struct shim_http_req *r)
{
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = e->addr;
    for (int i = 0; i < 16; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ e->port) * 1099511628211ull;
    h = (h ^ r->method) * 1099511628211ull;
    h = (h ^ r->route_hash) * 1099511628211ull;
    return h | 1;
}

/* retry_expire: a run of failures older than the window ends: exhausted */
static void retry_expire(struct retry_slot *s, uint64_t now)
{
    uint64_t k = atomic_load(&s->key);
    uint64_t f = atomic_load(&s->fail_ns);
    if (!k || now - f < RETRY_WINDOW_NS)
        return;
    if (atomic_compare_exchange_strong(&s->key, &k, 0) && atomic_load(&s->retries) > 0)
        shim_m_retry(s->family, s->addr, s->port, 1);
}

/* retry_on_request: is this request a retry of a recent failure? */
static void retry_on_request(const struct shim_fd *e, const struct shim_http_req *r, uint64_t now)
{
    uint64_t key = retry_key(e, r);
    struct retry_slot *s = &retry[key % RETRY_SLOTS];
    retry_expire(&retry[atomic_fetch_add(&retry_sweep, 1) % RETRY_SLOTS], now);
    retry_expire(s, now);
    if (atomic_load(&s->key) == key) {
        atomic_fetch_add(&s->retries, 1);
        shim_m_retry(e->family, e->addr, e->port, 0);
    }
}

/* retry_on_outcome: remember a failure, forget the run on success */
static void retry_on_outcome(const struct shim_fd *e, const struct shim_http_req *r, int failed, uint64_t now)
{
    uint64_t key = retry_key(e, r);
    struct retry_slot *s = &retry[key % RETRY_SLOTS];
    if (!failed) {
        uint64_t k = key;
        atomic_compare_exchange_strong(&s->key, &k, 0);
        return;
    }
    uint64_t cur = atomic_load(&s->key);
    if (cur != key) {
        retry_expire(s, now);
        cur = 0;
        if (!atomic_compare_exchange_strong(&s->key, &cur, key))
            return; /* slot busy with another live run: this one is not followed */
        atomic_store(&s->retries, 0);
        s->family = e->family;
        memcpy(s->addr, e->addr, 16);
        s->port = e->port;
    }
    atomic_store(&s->fail_ns, now);
}

/* ---- the ring of requests in flight ---- */

static struct shim_http_req *oldest(struct shim_http_sess *s)
{
    return s->count ? &s->q[s->head] : NULL;
}

static struct shim_http_req *newest(struct shim_http_sess *s)
{
    return s->count ? &s->q[(s->head + s->count - 1) % SHIM_HTTP_INFLIGHT] : NULL;
}

static int is_server(const struct shim_fd *e)
{
    return e->kind == FD_SERVER;
}

static void active(struct shim_fd *e, struct shim_http_sess *s, int delta)
{
    if (is_server(e))
        shim_m_http_server_active(&s->active_series, e->port, delta);
    else
        shim_m_http_client_active(&s->active_series, e->family, e->addr, e->port, delta);
}

/* count_add: s->count += d. The pools probe's thread reads count
 * (shim_session_busy), so it is stored atomically, relaxed: a plain move. */
static inline void count_add(struct shim_http_sess *s, int d)
{
    __atomic_store_n(&s->count, (uint8_t)(s->count + d), __ATOMIC_RELAXED);
}

/* target_hash: a 64-bit hash of the request target path[0..n), eight
 * bytes at a time. Not keyed: it only lets a connection skip normalising
 * the target it sent last time (route_of), so a collision can only mislabel
 * that connection's own request. */
static uint64_t target_hash(const uint8_t *path, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, path + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (i < n) {
        w = 0;
        memcpy(&w, path + i, n - i);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

/* route_of: r's route (and route_len) for the target path[0..n). A
 * keep-alive connection mostly asks for the same target again: when the
 * target hashes as the last one normalised on this connection, its route is
 * copied from the slot that holds it (and is already there when that slot
 * is r: BEGIN keeps route). Every write of a slot's route goes through
 * here, so the cache always names the latest route written. */
static void route_of(struct shim_http_sess *s, struct shim_http_req *r, const uint8_t *path, size_t n)
{
    uint64_t h = target_hash(path, n);
    uint8_t slot = (uint8_t)(r - s->q);
    if (s->rc_valid && s->rc_hash == h && ALWAYS(s->rc_slot < SHIM_HTTP_INFLIGHT)) {
        const struct shim_http_req *c = &s->q[s->rc_slot];
        if (c != r) {
            memcpy(r->route, c->route, c->route_len + 1u);
            r->route_len = c->route_len;
        }
    } else {
        r->route_len = (uint16_t)shim_route(&routes, path, n, r->route, sizeof(r->route));
        s->rc_hash = h;
        s->rc_valid = 1;
    }
    s->rc_slot = slot;
}

/* finish: record the oldest request: with its response's status and body
 * size, or (status 0) with no response and error_type why */
static void finish(struct shim_fd *e, struct shim_http_sess *s, unsigned status, uint64_t resp_body, const char *why)
{
    struct shim_http_req *r = oldest(s);
    if (!r)
        return;
    struct shim_h1_event so_far;
    if (!r->head_done && r == newest(s) && shim_h1_request_so_far(&s->req, &so_far)) {
        /* a head cut short (or over the cap): its request line is still known */
        r->method = so_far.method;
        route_of(s, r, so_far.path, so_far.path_len);
    }
    uint64_t now = shim_now_ns();
    uint64_t dur = now > r->t0 ? now - r->t0 : 0;
    const char *err = why;
    if (!err && status >= (is_server(e) ? 500u : 400u))
        err = status >= 500 ? "5xx" : "4xx";
    if (is_server(e)) {
        shim_m_http_server(&s->cache, r->method, r->route, r->route_len, status, e->port, err ? err : "", dur, r->req_body,
                           resp_body, status != 0);
    } else {
        shim_m_http_client(&s->cache, r->method, status, e->family, e->addr, e->port, err ? err : "", dur);
        if (r->head_done)
            retry_on_outcome(e, r, err != NULL, now);
    }
    if (s->active) {
        s->active--;
        active(e, s, -1);
    }
    s->head = (uint8_t)((s->head + 1) % SHIM_HTTP_INFLIGHT);
    count_add(s, -1);
}

/* on_request: an event of the request parser */
static void on_request(struct shim_fd *e, struct shim_http_sess *s, const struct shim_h1_event *ev)
{
    struct shim_http_req *r;
    switch (ev->type) {
    case SHIM_H1_EV_BEGIN:
        if (s->count == SHIM_HTTP_INFLIGHT) { /* deeper pipelining than we follow */
            shim_drop_event();
            if (s->active) {
                s->active--;
                active(e, s, -1);
            }
            s->head = (uint8_t)((s->head + 1) % SHIM_HTTP_INFLIGHT);
            count_add(s, -1);
        }
        r = &s->q[(s->head + s->count) % SHIM_HTTP_INFLIGHT];
        count_add(s, 1);
        memset(r, 0, offsetof(struct shim_http_req, route));
        r->t0 = shim_now_ns();
        s->active++;
        active(e, s, 1);
        break;
    case SHIM_H1_EV_HEAD:
        r = newest(s);
        if (!r)
            break;
        r->method = ev->method;
        route_of(s, r, ev->path, ev->path_len);
        r->head_done = 1;
        if (!is_server(e)) {
            uint32_t h = 2166136261u;
            for (unsigned i = 0; i < r->route_len; i++)
                h = (h ^ (uint8_t)r->route[i]) * 16777619u;
            r->route_hash = h;
            retry_on_request(e, r, r->t0);
        }
        break;
    case SHIM_H1_EV_DONE:
        r = newest(s);
        if (r)
            r->req_body = ev->body_bytes;
        break;
    default:
        break;
    }
}

/* on_response: an event of the response parser */
static void on_response(struct shim_fd *e, struct shim_http_sess *s, const struct shim_h1_event *ev)
{
    struct shim_http_req *r = oldest(s);
    switch (ev->type) {
    case SHIM_H1_EV_BEGIN:
        shim_h1_expect(&s->resp, r ? (enum shim_http_method)r->method : SHIM_HTTP_OTHER);
        break;
    case SHIM_H1_EV_DONE:
        if (ev->flags & SHIM_H1_F_INTERIM)
            break; /* 100 Continue and friends: the final response follows */
        if (!r)
            break; /* a response to nothing we saw (the 408 of an idle connection) */
        if (is_server(e) && (ev->status == 429 || ev->status == 503))
            shim_m_http_shed(e->port, ev->status);
        if (!is_server(e) && ev->status == 429)
            shim_m_http_rate_limited(e->family, e->addr, e->port);
        finish(e, s, ev->status, ev->body_bytes, NULL);
        break;
    default:
        break;
    }
}

int shim_http_start(struct shim_fd *e, struct shim_http_sess *s)
{
    shim_h1_init(&s->req, SHIM_H1_REQUEST);
    shim_h1_init(&s->resp, SHIM_H1_RESPONSE);
    return 0;
}

int shim_http_data(struct shim_fd *e, struct shim_http_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n)
{
    int req = is_server(e) ? dir == DIR_RX : dir == DIR_TX;
    struct shim_h1 *p = req ? &s->req : &s->resp;
    struct shim_h1_event ev;
    for (;;) {
        size_t used = 0;
        int rc = shim_h1_feed(p, buf, n, &ev, &used);
        if (rc == SHIM_H1_NEED_MORE)
            return 0;
        if (rc == SHIM_H1_BAD) {
            shim_http_end(e, s, -2, 0);
            return -EPROTO;
        }
        if (rc == SHIM_H1_UPGRADED) { /* a WebSocket or a CONNECT tunnel: not HTTP any more */
            shim_http_end(e, s, -2, 0);
            return -ENOTCONN;
        }
        if (NEVER(used > n))
            used = n;
        buf += used;
        n -= used;
        if (req)
            on_request(e, s, &ev);
        else
            on_response(e, s, &ev);
    }
}

void shim_http_end(struct shim_fd *e, struct shim_http_sess *s, int dir, int err)
{
    struct shim_h1_event ev;
    if (dir == -2) { /* parsing stops: what is in flight is not recorded */
        while (s->count) {
            if (s->active) {
                s->active--;
                active(e, s, -1);
            }
            s->head = (uint8_t)((s->head + 1) % SHIM_HTTP_INFLIGHT);
            count_add(s, -1);
        }
        return;
    }
    int server = is_server(e);
    if (!err && (server ? dir != DIR_RX : dir == DIR_RX)) {
        /* the server's side of the stream ended (the client read EOF, or
         * the server closed or shut down writing): a body read until close
         * ends here */
        if (shim_h1_eof(&s->resp, &ev) == SHIM_H1_EVENT && ev.type == SHIM_H1_EV_DONE)
            on_response(e, s, &ev);
    }
    if (dir == DIR_TX)
        return; /* a shutdown of writing: requests may still be answered (client) or were (server) */
    const char *why;
    if (err == ECONNRESET || err == EPIPE)
        why = "connection_reset";
    else if (err == ETIMEDOUT)
        why = "timeout";
    else if (err)
        return; /* EAGAIN and friends are not an end */
    else if (dir == DIR_RX)
        why = "no_response"; /* the peer closed with requests unanswered */
    else
        why = server ? "no_response" : "timeout"; /* the program closed while waiting */
    if (dir == DIR_RX && !err && server)
        return; /* the client half-closed: its requests may still be answered */
    while (s->count)
        finish(e, s, 0, 0, why);
}
