/*
 * session.h - what promshim keeps for a connection once it knows which
 * protocol the connection speaks: the parsers of both directions and the
 * requests in flight. One fixed-size object per connection, from a fixed
 * per-process pool (so memory is bounded: a connection that finds the pool
 * empty is counted and passes through unparsed).
 *
 * The connection layer (conn.c) sniffs the first bytes, picks a protocol
 * and hands every later byte to that protocol's session code (http.c, ...),
 * which runs the pure parser of shim/proto/ and turns its events into
 * metric updates through metrics.c.
 */
#ifndef SHIM_SESSION_H
#define SHIM_SESSION_H

#include <stdint.h>
#include <sys/uio.h>

#include "shim/conn.h"
#include "shim/db.h"
#include "shim/messaging.h"
#include "shim/metrics.h"
#include "shim/proto/http1.h"
#include "shim/route.h"

#define SHIM_HTTP_INFLIGHT 4 /* pipelined requests followed per connection */

/* One HTTP request waiting for its response. */
struct shim_http_req {
    uint64_t t0;         /* first byte of the request (server: read; client: written) */
    uint64_t req_body;   /* request body bytes */
    uint32_t route_hash; /* client side: for retry detection */
    uint8_t method;      /* enum shim_http_method */
    uint8_t head_done;   /* the request's head was parsed (route known) */
    uint16_t route_len;
    char route[SHIM_ROUTE_CAP];
};

struct shim_http_sess {
    struct shim_h1 req;  /* requests: server RX, client TX */
    struct shim_h1 resp; /* responses: server TX, client RX */
    uint8_t head, count; /* ring of requests in flight */
    uint8_t active;      /* requests counted in the active-requests gauge */
    struct shim_series *active_series;
    struct shim_m_cache cache; /* the last label set recorded */
    uint64_t rc_hash;          /* route cache: hash of the target whose route is q[rc_slot].route */
    uint8_t rc_slot;
    uint8_t rc_valid;
    struct shim_http_req q[SHIM_HTTP_INFLIGHT];
};

struct shim_ext {
    uint8_t proto; /* enum shim_proto */
    union {
        struct shim_http_sess http;
        struct shim_db_sess db; /* Redis, memcached, PostgreSQL, MySQL (db.c) */
        struct shim_kafka_sess kafka; /* messaging.c */
    } u;
};

/* shim_session_init: map the pool (per process; a forked child works on its
 * copy). 0 or -errno. */
int shim_session_init(unsigned max_sessions);

/* shim_session_data: n bytes of the connection moved in direction dir;
 * decides the protocol on the first bytes, then parses. iov NULL: n bytes
 * whose content we cannot see (sendfile). */
void shim_session_data(struct shim_fd *e, enum shim_dir dir, const struct iovec *iov, int cnt, long n);

/* shim_session_end: the direction ended (dir RX: the peer closed its side,
 * or a read failed with err) or the connection is closing (dir -1, err 0:
 * the program closed it). Finishes what is in flight and, on close, gives
 * the session back to the pool. */
void shim_session_end(struct shim_fd *e, int dir, int err);

/* shim_session_busy: 1 when the connection has an operation in flight */
int shim_session_busy(const struct shim_fd *e);
/* the db sessions' answer to the same (db.c; 0 until it says otherwise) */
int shim_db_inflight(const struct shim_db_sess *s);

/* HTTP (http.c) */
int shim_http_start(struct shim_fd *e, struct shim_http_sess *s);
/* returns 0, or -EPROTO when the bytes are not HTTP (the caller passes the
 * connection through from then on) */
int shim_http_data(struct shim_fd *e, struct shim_http_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n);
void shim_http_end(struct shim_fd *e, struct shim_http_sess *s, int dir, int err);
void shim_http_config(const char *routes);

#endif
