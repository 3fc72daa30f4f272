/*
 * session.c - protocol detection and the per-connection session pool.
 *
 * A connection's protocol is decided on the first bytes of its first data:
 * a request method read by a server or written by a client is HTTP; anything
 * else passes through (bytes still counted). Until the first bytes decide,
 * up to sizeof(e->sniff) of them are kept in the fd entry, so a request
 * line that arrives one byte at a time is still recognised.
 *
 * Sessions come from a fixed per-process pool claimed with an atomic bitmap
 * (lock-free, async-signal-safe). An empty pool drops the connection to
 * pass-through and counts the event as dropped.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "shim/metrics.h"
#include "shim/session.h"
#include "shim/proto/kafka.h"
#include "shim/proto/memcached.h"
#include "shim/proto/mysql.h"
#include "shim/proto/postgres.h"
#include "shim/proto/redis.h"
#include "shim/shim.h"

static struct shim_ext *pool;
static _Atomic uint64_t *used;
static unsigned pool_n;
static _Atomic unsigned hint;

int shim_session_init(unsigned max_sessions)
{
    size_t words = (max_sessions + 63) / 64;
    size_t bytes = (size_t)max_sessions * sizeof(struct shim_ext) + words * 8;
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    used = m;
    pool = (struct shim_ext *)((char *)m + words * 8);
    pool_n = max_sessions;
    return 0;
}

/* ext_alloc: claim a zeroed session, or NULL when the pool is empty */
static struct shim_ext *ext_alloc(void)
{
    unsigned words = (pool_n + 63) / 64;
    unsigned start = atomic_load_explicit(&hint, memory_order_relaxed) % (words ? words : 1);
    for (unsigned i = 0; i < words; i++) {
        unsigned w = (start + i) % words;
        uint64_t v = atomic_load_explicit(&used[w], memory_order_relaxed);
        while (~v) {
            unsigned bit = (unsigned)__builtin_ctzll(~v);
            if (w * 64 + bit >= pool_n)
                break;
            if (atomic_compare_exchange_weak(&used[w], &v, v | (1ull << bit))) {
                atomic_store_explicit(&hint, w, memory_order_relaxed);
                struct shim_ext *x = &pool[w * 64 + bit];
                memset(x, 0, sizeof(*x));
                return x;
            }
        }
    }
    return NULL;
}

static void ext_free(struct shim_ext *x)
{
    size_t i = (size_t)(x - pool);
    if (NEVER(i >= pool_n))
        return;
    atomic_fetch_and(&used[i / 64], ~(1ull << (i % 64)));
}

/* server-side and client-side request directions */
static int request_dir(const struct shim_fd *e, enum shim_dir dir)
{
    return e->kind == FD_SERVER ? dir == DIR_RX : dir == DIR_TX;
}

/* start: make the session for proto on e; 0, or -ENOMEM (pool empty) */
static int start(struct shim_fd *e, enum shim_proto proto)
{
    struct shim_ext *x = ext_alloc();
    if (!x) {
        shim_drop_event();
        return -ENOMEM;
    }
    x->proto = (uint8_t)proto;
    if (proto == PROTO_HTTP)
        shim_http_start(e, &x->u.http);
    else if (proto == PROTO_KAFKA)
        shim_kafka_start(e, &x->u.kafka);
    else
        shim_db_start(e, &x->u.db, proto);
    struct shim_ext *none = NULL;
    if (!__atomic_compare_exchange_n(&e->ext, &none, x, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        ext_free(x); /* another thread decided first */
        return 0;
    }
    __atomic_store_n(&e->proto, (uint8_t)proto, __ATOMIC_RELEASE);
    return 0;
}

/* other_method: an HTTP request with a method outside the nine known ones
 * (PURGE, PROPFIND...): 1-16 of A-Z, '-' or '_', a space, then '/'. 1 yes,
 * 0 no, -1 need more. */
static int other_method(const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && i <= 16 && ((b[i] >= 'A' && b[i] <= 'Z') || b[i] == '-' || b[i] == '_'))
        i++;
    if (i == n)
        return i <= 16 ? -1 : 0;
    if (i == 0 || i > 16 || b[i] != ' ')
        return 0;
    if (i + 1 == n)
        return -1;
    return b[i + 1] == '/';
}

/* decide: look at the first bytes of the connection. Returns the protocol,
 * or PROTO_UNKNOWN when more bytes are needed. The side that speaks first
 * tells: the client for HTTP, Redis, memcached and PostgreSQL, the server
 * for MySQL. */
static enum shim_proto decide(struct shim_fd *e, enum shim_dir dir, const uint8_t *b, size_t n)
{
    if (e->kind != FD_SERVER && e->kind != FD_CLIENT && e->kind != FD_INET)
        return PROTO_NONE;
    int more = 0, r;
    if (!e->tls && n >= 1 && b[0] == 0x16 && (n < 2 || b[1] == 0x03))
        return n >= 2 ? PROTO_TLS : PROTO_UNKNOWN; /* a TLS handshake record */
    if (request_dir(e, dir)) {
        if ((r = shim_h1_detect_request(b, n)) > 0 || (r = other_method(b, n)) > 0)
            return PROTO_HTTP;
        more |= r < 0;
        int redis = shim_redis_detect_request(b, n); /* 1 RESP, 2 an inline command */
        if (redis == 1)
            return PROTO_REDIS;
        more |= redis < 0;
        if ((r = shim_pg_detect(b, n)) > 0)
            return PROTO_POSTGRES;
        more |= r < 0;
        /* a Kafka request frame; its client id may run past what is kept
         * while undecided: a header that passed every check so far will do */
        if (e->kind != FD_SERVER && ((r = shim_kafka_detect_request(b, n)) > 0 || (r < 0 && n >= sizeof(e->sniff))))
            return PROTO_KAFKA;
        more |= r < 0;
        /* memcached's "get k" is also a Redis inline command: memcached wins */
        if ((r = shim_memcached_detect_request(b, n)) > 0)
            return PROTO_MEMCACHED;
        more |= r < 0;
        if (redis == 2)
            return PROTO_REDIS;
    } else {
        if ((r = shim_mysql_detect(b, n)) > 0)
            return PROTO_MYSQL;
        more |= r < 0;
    }
    return more && n < sizeof(e->sniff) ? PROTO_UNKNOWN : PROTO_NONE;
}

const char *shim_proto_name(int proto)
{
    static const char *const names[PROTO_COUNT] = {"unknown", "none", "http", "redis", "memcached", "postgresql",
                                                   "mysql", "tls", "kafka"};
    return proto >= 0 && proto < PROTO_COUNT ? names[proto] : "unknown";
}

/* proto_data: one run of bytes to the session's protocol */
static int proto_data(struct shim_fd *e, struct shim_ext *x, enum shim_dir dir, const uint8_t *b, size_t n)
{
    if (x->proto == PROTO_HTTP)
        return shim_http_data(e, &x->u.http, dir, b, n);
    if (x->proto == PROTO_KAFKA)
        return shim_kafka_data(e, &x->u.kafka, dir, b, n);
    return shim_db_data(e, &x->u.db, dir, b, n);
}

/* feed: hand n bytes of iov (or n unseen bytes) to the session's protocol.
 * A protocol error or an upgrade ends parsing on this connection. */
static void feed(struct shim_fd *e, struct shim_ext *x, enum shim_dir dir, const struct iovec *iov, int cnt, long n)
{
    static const uint8_t zeros[4096];
    int rc = 0;
    if (!iov) { /* sendfile: a body we do not see; its content does not matter */
        for (long left = n; left > 0 && rc == 0;) {
            size_t k = left > (long)sizeof(zeros) ? sizeof(zeros) : (size_t)left;
            rc = proto_data(e, x, dir, zeros, k);
            left -= (long)k;
        }
    } else {
        for (int i = 0; i < cnt && n > 0 && rc == 0; i++) {
            size_t k = iov[i].iov_len < (size_t)n ? iov[i].iov_len : (size_t)n;
            if (k)
                rc = proto_data(e, x, dir, iov[i].iov_base, k);
            n -= (long)k;
        }
    }
    if (rc < 0) {
        if (rc == -EPROTO)
            shim_m_parse_error(x->proto);
        __atomic_store_n(&e->proto, PROTO_NONE, __ATOMIC_RELEASE);
    }
}

void shim_session_data(struct shim_fd *e, enum shim_dir dir, const struct iovec *iov, int cnt, long n)
{
    uint8_t proto = __atomic_load_n(&e->proto, __ATOMIC_ACQUIRE);
    if (proto == PROTO_NONE || proto == PROTO_TLS)
        return;
    if (proto == PROTO_UNKNOWN) {
        if (!iov) {
            __atomic_store_n(&e->proto, PROTO_NONE, __ATOMIC_RELAXED); /* read by the probes */
            return;
        }
        /* the kept first bytes and the new ones, up to sizeof(e->sniff) */
        uint8_t head[sizeof(e->sniff)];
        size_t k = e->nsniff > sizeof(head) ? 0 : e->nsniff;
        memcpy(head, e->sniff, k);
        size_t keep = k;
        for (int i = 0; i < cnt && k < sizeof(head); i++) {
            size_t take = iov[i].iov_len < sizeof(head) - k ? iov[i].iov_len : sizeof(head) - k;
            if ((long)(k - keep + take) > n)
                take = (size_t)n - (k - keep);
            memcpy(head + k, iov[i].iov_base, take);
            k += take;
        }
        enum shim_proto p = decide(e, dir, head, k);
        if (p == PROTO_UNKNOWN) {
            memcpy(e->sniff, head, k);
            e->nsniff = (uint8_t)k;
            return;
        }
        if (p == PROTO_TLS) { /* wait for the plaintext from the TLS hooks */
            __atomic_store_n(&e->proto, PROTO_TLS, __ATOMIC_RELAXED);
            e->nsniff = 0;
            return;
        }
        if (p == PROTO_NONE || start(e, p) != 0) {
            __atomic_store_n(&e->proto, PROTO_NONE, __ATOMIC_RELAXED); /* read by the probes */
            return;
        }
        if (keep) { /* the kept bytes first: they are the start of the stream */
            struct iovec kv = {head, keep};
            feed(e, e->ext, dir, &kv, 1, (long)keep);
        }
        e->nsniff = 0;
        if (__atomic_load_n(&e->proto, __ATOMIC_ACQUIRE) == PROTO_NONE)
            return;
    }
    struct shim_ext *x = __atomic_load_n(&e->ext, __ATOMIC_ACQUIRE);
    if (ALWAYS(x != NULL))
        feed(e, x, dir, iov, cnt, n);
}

void shim_session_end(struct shim_fd *e, int dir, int err)
{
    struct shim_ext *x = __atomic_load_n(&e->ext, __ATOMIC_ACQUIRE);
    if (!x)
        return;
    if (e->proto == x->proto) {
        if (x->proto == PROTO_HTTP)
            shim_http_end(e, &x->u.http, dir, err);
        else if (x->proto == PROTO_KAFKA)
            shim_kafka_end(e, &x->u.kafka, dir, err);
        else if (dir != DIR_TX)
            shim_db_end(e, &x->u.db, dir, err);
    }
    if (dir < 0) {
        struct shim_ext *mine = x;
        if (__atomic_compare_exchange_n(&e->ext, &mine, NULL, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            ext_free(x);
    }
}

int shim_session_busy(const struct shim_fd *e)
{
    const struct shim_ext *x = __atomic_load_n(&e->ext, __ATOMIC_ACQUIRE);
    if (!x || __atomic_load_n(&e->proto, __ATOMIC_RELAXED) != x->proto)
        return 0;
    if (x->proto == PROTO_HTTP)
        return __atomic_load_n(&x->u.http.count, __ATOMIC_RELAXED) > 0;
    if (x->proto == PROTO_KAFKA)
        return shim_kafka_inflight(&x->u.kafka) > 0;
    return shim_db_inflight(&x->u.db) > 0;
}

/* the db sessions define their own; until then nothing is in flight */
__attribute__((weak)) int shim_db_inflight(const struct shim_db_sess *s)
{
    return 0;
}
