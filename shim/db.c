/*
 * db.c - database and cache sessions: the events of the two parsers of a
 * Redis, memcached, PostgreSQL or MySQL connection (shim/proto/) turned
 * into operation metrics (dbmetrics.c).
 *
 *   client (connected socket): requests are written, replies read; an
 *     operation runs from its first byte written to its reply's last byte
 *     read.
 *   server (accepted socket): requests are read, replies written; from the
 *     first byte read to the reply's last byte written.
 *
 * Operations wait in a ring (struct shim_db_sess.q) until their reply
 * completes; every protocol answers in order, so replies pop the ring from
 * its head (memcached's quiet commands and PostgreSQL's skipped Executes
 * complete several at once). When more operations are in flight than the
 * ring holds, the newer ones are only counted as untracked (and as dropped
 * events) until the ring drains: pairing stays exact, their durations are
 * lost. An operation still waiting when the connection ends is recorded
 * with error_type saying why (no_response, connection_reset, timeout, or
 * the error the server ended the connection with).
 *
 * The clock is read at most once per call (struct ctx), and only when the
 * call carries an operation boundary.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "shim/db.h"
#include "shim/registry.h"
#include "shim/shim.h"

#define RING_MASK (SHIM_DB_INFLIGHT - 1)
_Static_assert((SHIM_DB_INFLIGHT & RING_MASK) == 0, "SHIM_DB_INFLIGHT must be a power of two");
_Static_assert(SHIM_MYSQL_QUEUE_CAP <= SHIM_DB_INFLIGHT, "the ring must hold what the MySQL parser tracks");

/* the clock of one call: read on first use */
struct ctx {
    uint64_t now;
};

/* now_ns: the call's clock, read once */
static uint64_t now_ns(struct ctx *c)
{
    if (!c->now)
        c->now = shim_now_ns();
    return c->now;
}

/* ---- the ring of operations in flight ---- */

/* pending: tracked operations in the ring */
static uint32_t pending(struct shim_db_sess *s)
{
    return atomic_load_explicit(&s->tail, memory_order_acquire) - atomic_load_explicit(&s->head, memory_order_relaxed);
}

/* at: the i-th oldest tracked operation (i < pending) */
static struct shim_db_op *at(struct shim_db_sess *s, uint32_t i)
{
    return &s->q[(atomic_load_explicit(&s->head, memory_order_relaxed) + i) & RING_MASK];
}

/* push: queue op (request side). Returns its ring slot, or -1 when it is
 * not followed (ring full, or older operations are untracked: it must not
 * overtake them). */
static int push(struct shim_db_sess *s, const struct shim_db_op *op)
{
    uint32_t t = atomic_load_explicit(&s->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&s->head, memory_order_acquire);
    if (atomic_load_explicit(&s->untracked, memory_order_acquire) || t - h >= SHIM_DB_INFLIGHT) {
        atomic_fetch_add_explicit(&s->untracked, 1, memory_order_acq_rel);
        shim_drop_event();
        return -1;
    }
    s->q[t & RING_MASK] = *op;
    atomic_store_explicit(&s->tail, t + 1, memory_order_release);
    return (int)(t & RING_MASK);
}

/* pop: take the oldest operation (reply side). 1: *out filled; 0: it was
 * an untracked one (nothing to record); -1: nothing is pending. */
static int pop(struct shim_db_sess *s, struct shim_db_op *out)
{
    uint32_t h = atomic_load_explicit(&s->head, memory_order_relaxed);
    if (h != atomic_load_explicit(&s->tail, memory_order_acquire)) {
        *out = s->q[h & RING_MASK];
        atomic_store_explicit(&s->head, h + 1, memory_order_release);
        return 1;
    }
    uint32_t u = atomic_load_explicit(&s->untracked, memory_order_acquire);
    while (u)
        if (atomic_compare_exchange_weak_explicit(&s->untracked, &u, u - 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return 0;
    return -1;
}

/* drop_all: forget what is in flight without recording it */
static void drop_all(struct shim_db_sess *s)
{
    atomic_store_explicit(&s->head, atomic_load_explicit(&s->tail, memory_order_acquire), memory_order_release);
    atomic_store_explicit(&s->untracked, 0, memory_order_release);
}

/* finish: record op as ended now with error_type err ("" for success) */
static void finish(const struct shim_fd *e, struct shim_db_sess *s, const struct shim_db_op *op, const char *err,
                   struct ctx *c)
{
    uint64_t t = now_ns(c);
    shim_db_m_op(e, s, op->name, err, t > op->t0 ? t - op->t0 : 0);
}

/* lookups: a lookup operation of `keys` keys found `hits` of them */
static void lookups(const struct shim_db_sess *s, uint32_t keys, uint32_t hits)
{
    if (!keys || s->server)
        return;
    if (hits > keys)
        hits = keys;
    shim_db_m_lookups(s->proto, hits, keys - hits);
}

/* ---- Redis ---- */

/* redis_is_sub: the command turns the connection into a stream of messages */
static int redis_is_sub(unsigned cmd)
{
    return cmd == SHIM_REDIS_CMD_SUBSCRIBE || cmd == SHIM_REDIS_CMD_PSUBSCRIBE || cmd == SHIM_REDIS_CMD_SSUBSCRIBE ||
           cmd == SHIM_REDIS_CMD_MONITOR;
}

/* redis_request: an event of the command parser */
static void redis_request(struct shim_db_sess *s, const struct shim_redis_event *ev, struct ctx *c)
{
    if (ev->type == SHIM_REDIS_EV_REQ_BEGIN) {
        s->cur_t0 = now_ns(c);
        return;
    }
    if (ev->type != SHIM_REDIS_EV_REQ_DONE || (ev->flags & SHIM_REDIS_F_NOREPLY))
        return;
    /* inside MULTI the reply is +QUEUED, not the value: no lookups */
    struct shim_db_op op = {.t0 = s->cur_t0, .keys = s->in_multi ? 0 : ev->keys, .name = ev->cmd};
    if (ev->cmd == SHIM_REDIS_CMD_MULTI)
        s->in_multi = 1;
    else if (ev->cmd == SHIM_REDIS_CMD_EXEC || ev->cmd == SHIM_REDIS_CMD_DISCARD)
        s->in_multi = 0;
    if (s->sub_req)
        return; /* a subscriber or monitor connection: not followed */
    if (redis_is_sub(ev->cmd)) {
        op.flags = SHIM_DB_OPF_SUB;
        s->sub_req = 1;
    }
    push(s, &op);
}

/* redis_reply: an event of the reply parser */
static void redis_reply(const struct shim_fd *e, struct shim_db_sess *s, const struct shim_redis_event *ev,
                        struct ctx *c)
{
    if (s->sub_resp || (ev->type != SHIM_REDIS_EV_RESP_DONE && ev->type != SHIM_REDIS_EV_PUSH))
        return;
    /* a push answers nothing, unless it confirms the SUBSCRIBE waiting (RESP3) */
    if (ev->type == SHIM_REDIS_EV_PUSH && !(pending(s) && (at(s, 0)->flags & SHIM_DB_OPF_SUB)))
        return;
    struct shim_db_op op;
    if (pop(s, &op) <= 0)
        return;
    finish(e, s, &op, ev->is_error ? ev->err : "", c);
    if (!ev->is_error)
        lookups(s, op.keys, ev->values);
    if (op.flags & SHIM_DB_OPF_SUB) { /* from now on a stream of messages */
        s->sub_resp = 1;
        drop_all(s);
    }
}

/* redis_as_memcached: the first bytes a client sent were taken for an
 * inline Redis command but are memcached's text protocol ("get k", "set k
 * 0 0 1"): the session becomes a memcached one. */
static int redis_as_memcached(struct shim_db_sess *s, int req, const uint8_t *buf, size_t n)
{
    if (!req || atomic_load_explicit(&s->tail, memory_order_relaxed) || s->cur_t0 || !n || buf[0] == '*' ||
        shim_memcached_detect_request(buf, n) != 1)
        return 0;
    memset(&s->p, 0, sizeof(s->p));
    shim_memcached_init(&s->p.mc.req, SHIM_MC_REQUEST);
    shim_memcached_init(&s->p.mc.resp, SHIM_MC_RESPONSE);
    s->proto = PROTO_MEMCACHED;
    return 1;
}

/* redis_data: n bytes of one direction through its parser; 0 or -EPROTO */
static int redis_data(const struct shim_fd *e, struct shim_db_sess *s, int req, const uint8_t *buf, size_t n,
                      struct ctx *c)
{
    struct shim_redis *p = req ? &s->p.redis.req : &s->p.redis.resp;
    struct shim_redis_event ev;
    for (;;) {
        size_t used = 0;
        int rc = shim_redis_feed(p, buf, n, &ev, &used);
        if (rc == SHIM_REDIS_NEED_MORE)
            return 0;
        if (rc != SHIM_REDIS_EVENT)
            return -EPROTO;
        if (NEVER(used > n))
            used = n;
        buf += used;
        n -= used;
        if (req)
            redis_request(s, &ev, c);
        else
            redis_reply(e, s, &ev, c);
    }
}

/* ---- memcached ---- */

/* mc_arm: tell the reply parser what the next reply answers */
static void mc_arm(struct shim_db_sess *s)
{
    s->mc_armed = pending(s) != 0;
    if (s->mc_armed)
        shim_memcached_expect(&s->p.mc.resp, shim_memcached_expect_for((enum shim_mc_cmd)at(s, 0)->name));
}

/* mc_request: an event of the command parser: queue the command (a
 * noreply one is recorded at once) */
static void mc_request(const struct shim_fd *e, struct shim_db_sess *s, const struct shim_mc_event *ev, struct ctx *c)
{
    if (ev->type == SHIM_MC_EV_REQ_BEGIN) {
        s->cur_t0 = now_ns(c);
        return;
    }
    if (ev->type != SHIM_MC_EV_REQ_DONE)
        return;
    struct shim_db_op op = {.t0 = s->cur_t0, .keys = ev->keys, .name = ev->cmd, .opcode = ev->opcode};
    if (ev->cmd == SHIM_MC_CMD_QUIT)
        return; /* the end of the connection, not an operation (its binary reply is not awaited) */
    if (ev->flags & SHIM_MC_F_NOREPLY) {
        /* "set ... noreply": no reply will tell its end; the request itself
         * is the operation */
        finish(e, s, &op, "", c);
        return;
    }
    if (ev->flags & SHIM_MC_F_QUIET)
        op.flags |= SHIM_DB_OPF_QUIET;
    if (ev->flags & SHIM_MC_F_OPAQUE)
        op.flags |= SHIM_DB_OPF_OPAQUE;
    if (ev->flags & SHIM_MC_F_KEY)
        op.flags |= SHIM_DB_OPF_KEY;
    if (ev->cmd == SHIM_MC_CMD_MN)
        op.flags |= SHIM_DB_OPF_MC_NOOP;
    uint32_t t = atomic_load_explicit(&s->tail, memory_order_relaxed) & RING_MASK;
    s->p.mc.opaque[t] = ev->opaque; /* the slot push will fill, before it is published */
    s->p.mc.keyhash[t] = ev->keyhash;
    push(s, &op);
}

/* mc_match: which pending operation (index from the oldest) a reply
 * answers, by the rules of memcached.h; 0 when nothing better is found */
static uint32_t mc_match(struct shim_db_sess *s, const struct shim_mc_event *ev, uint32_t n)
{
    uint32_t h = atomic_load_explicit(&s->head, memory_order_relaxed);
    for (uint32_t i = 0; i < n && (ev->flags & (SHIM_MC_F_OPAQUE | SHIM_MC_F_KEY)); i++) {
        const struct shim_db_op *op = &s->q[(h + i) & RING_MASK];
        uint32_t slot = (h + i) & RING_MASK;
        if (ev->flags & SHIM_MC_F_OPAQUE) {
            if ((op->flags & SHIM_DB_OPF_OPAQUE) && s->p.mc.opaque[slot] == ev->opaque &&
                (!(ev->flags & SHIM_MC_F_BINARY) || op->opcode == ev->opcode))
                return i;
        } else if ((op->flags & SHIM_DB_OPF_KEY) && s->p.mc.keyhash[slot] == ev->keyhash) {
            return i;
        }
    }
    uint32_t first_loud = n, first_quiet = n;
    for (uint32_t i = 0; i < n && (first_loud == n || first_quiet == n); i++) {
        if (s->q[(h + i) & RING_MASK].flags & SHIM_DB_OPF_QUIET) {
            if (first_quiet == n)
                first_quiet = i;
        } else if (first_loud == n) {
            first_loud = i;
        }
    }
    if (first_loud < n && (s->q[(h + first_loud) & RING_MASK].flags & SHIM_DB_OPF_MC_NOOP) &&
        ev->result != SHIM_MC_R_MN && first_quiet < n)
        return first_quiet;
    return first_loud < n ? first_loud : 0;
}

/* mc_reply: an event of the reply parser: complete the command it answers
 * and the quiet ones before it */
static void mc_reply(const struct shim_fd *e, struct shim_db_sess *s, const struct shim_mc_event *ev, struct ctx *c)
{
    if (ev->type != SHIM_MC_EV_RESP_DONE)
        return;
    struct shim_db_op op;
    uint32_t n = pending(s);
    uint32_t k = n > 1 ? mc_match(s, ev, n) : 0;
    /* the quiet operations before the one answered had their silent
     * outcome: success, or a miss for a lookup */
    for (uint32_t i = 0; i < k; i++) {
        if (pop(s, &op) <= 0)
            break;
        finish(e, s, &op, "", c);
        lookups(s, op.keys, 0);
    }
    if (pop(s, &op) > 0) {
        finish(e, s, &op, ev->is_error ? shim_memcached_error_name(ev->error) : "", c);
        if (!ev->is_error)
            lookups(s, op.keys, ev->hits);
    }
    mc_arm(s);
}

/* mc_data: n bytes of one direction through its parser; 0 or -EPROTO */
static int mc_data(const struct shim_fd *e, struct shim_db_sess *s, int req, const uint8_t *buf, size_t n,
                   struct ctx *c)
{
    struct shim_mc *p = req ? &s->p.mc.req : &s->p.mc.resp;
    struct shim_mc_event ev;
    if (!req && !s->mc_armed)
        mc_arm(s);
    for (;;) {
        size_t used = 0;
        int rc = shim_memcached_feed(p, buf, n, &ev, &used);
        if (rc == SHIM_MC_NEED_MORE)
            return 0;
        if (rc != SHIM_MC_EVENT)
            return -EPROTO;
        if (NEVER(used > n))
            used = n;
        buf += used;
        n -= used;
        if (req)
            mc_request(e, s, &ev, c);
        else
            mc_reply(e, s, &ev, c);
    }
}

/* ---- PostgreSQL and MySQL: the request side ---- */

/* Their requests are reported at their last byte; an operation's first
 * byte is the first one seen since the previous event (Parse and Bind
 * before an Execute; the Query message itself). cur_t0 holds it, 0 while
 * nothing of the next operation was seen. */
static void sql_started(struct shim_db_sess *s, size_t n, struct ctx *c)
{
    if (!s->cur_t0 && n)
        s->cur_t0 = now_ns(c);
}

/* sql_after_event: the bytes after an event, if any, begin the next message */
static void sql_after_event(struct shim_db_sess *s, size_t left, struct ctx *c)
{
    s->cur_t0 = left ? now_ns(c) : 0;
}

/* valid_code: a SQLSTATE is 5 of [0-9A-Z] */
static int valid_code(const char *st)
{
    for (int i = 0; i < 5; i++)
        if (!((st[i] >= '0' && st[i] <= '9') || (st[i] >= 'A' && st[i] <= 'Z')))
            return 0;
    return st[5] == 0;
}

/* ---- PostgreSQL ---- */

/* pg_request: a frontend event: told to the backend parser, a request queued */
static void pg_request(struct shim_db_sess *s, const struct shim_pg_event *ev)
{
    shim_pg_expect(&s->p.pg.be, ev);
    if (ev->type == SHIM_PG_EV_REQ) {
        struct shim_db_op op = {.t0 = s->cur_t0, .name = ev->op};
        push(s, &op);
    }
}

/* pg_reply: a backend event: complete the requests it ends (see postgres.h) */
static void pg_reply(const struct shim_fd *e, struct shim_db_sess *s, const struct shim_pg_event *ev, struct ctx *c)
{
    if (ev->type != SHIM_PG_EV_RESP)
        return;
    const char *state = valid_code(ev->sqlstate) ? ev->sqlstate : "_OTHER";
    if (ev->kind == SHIM_PG_RESP_ERROR && (ev->flags & SHIM_PG_F_FATAL))
        memcpy(s->fatal, state, strlen(state) + 1); /* the server closes next */
    struct shim_db_op op;
    if (ev->flags & SHIM_PG_F_RESYNC) { /* the parser lost count: what is pending is not known */
        drop_all(s);
    } else if (!(ev->flags & SHIM_PG_F_DESYNC)) {
        for (unsigned i = 0; i < ev->done; i++) {
            int r = pop(s, &op);
            if (r < 0)
                break;
            if (r == 0)
                continue;
            finish(e, s, &op, i < ev->aborted ? "aborted" : (ev->flags & SHIM_PG_F_ERROR) ? state : "", c);
        }
    }
    /* the server waits for a request: bytes the client sent before (a
     * password message, a Parse-only batch) started no operation */
    if (ev->kind == SHIM_PG_RESP_READY && !pending(s) && shim_pg_idle(&s->p.pg.fe) == 1)
        s->cur_t0 = 0;
}

/* pg_data: n bytes of one direction; 0, -EPROTO or -ENOTCONN (encrypted) */
static int pg_data(const struct shim_fd *e, struct shim_db_sess *s, int req, const uint8_t *buf, size_t n,
                   struct ctx *c)
{
    struct shim_pg *p = req ? &s->p.pg.fe : &s->p.pg.be;
    struct shim_pg_event ev;
    if (req)
        sql_started(s, n, c);
    for (;;) {
        size_t used = 0;
        int rc = shim_pg_feed(p, buf, n, &ev, &used);
        if (rc == SHIM_PG_NEED_MORE)
            return 0;
        if (rc == SHIM_PG_ENCRYPTED)
            return -ENOTCONN;
        if (rc != SHIM_PG_EVENT)
            return -EPROTO;
        if (NEVER(used > n))
            used = n;
        buf += used;
        n -= used;
        if (req) {
            pg_request(s, &ev);
            sql_after_event(s, n, c);
        } else {
            pg_reply(e, s, &ev, c);
        }
    }
}

/* ---- MySQL ---- */

/* my_name: the operation name id of a command: the SQL keyword for
 * statements, PREPARE / FETCH / USE for the commands that are those,
 * 0x100 | cmd (COM_PING ...) for the others */
static unsigned my_name(unsigned cmd, unsigned op)
{
    switch (cmd) {
    case SHIM_MYSQL_COM_QUERY:
    case SHIM_MYSQL_COM_STMT_EXECUTE:
    case SHIM_MYSQL_COM_STMT_BULK_EXECUTE:
        return op < SHIM_SQL_OP_COUNT ? op : SHIM_SQL_OTHER;
    case SHIM_MYSQL_COM_STMT_PREPARE:
        return SHIM_SQL_PREPARE;
    case SHIM_MYSQL_COM_STMT_FETCH:
        return SHIM_SQL_FETCH;
    case SHIM_MYSQL_COM_INIT_DB:
        return SHIM_SQL_USE;
    default:
        return 0x100u | (cmd & 0xffu);
    }
}

/* my_request: a frontend event: told to the backend parser, a command queued */
static void my_request(struct shim_db_sess *s, const struct shim_mysql_event *ev)
{
    shim_mysql_expect(&s->p.my.be, ev);
    if (ev->type == SHIM_MYSQL_EV_REQ && !(ev->flags & SHIM_MYSQL_F_NORESP)) {
        struct shim_db_op op = {.t0 = s->cur_t0, .name = (uint16_t)my_name(ev->cmd, ev->op)};
        push(s, &op);
    }
}

/* my_reply: a backend event: complete the command it answers (see mysql.h) */
static void my_reply(const struct shim_fd *e, struct shim_db_sess *s, const struct shim_mysql_event *ev,
                     struct ctx *c)
{
    if (ev->type != SHIM_MYSQL_EV_RESP_DONE)
        return;
    struct shim_db_op op;
    if (ev->cmd == SHIM_MYSQL_CMD_CONNECT) {
        /* the handshake's end: the auth packets sent before were no operation */
    } else if (ev->cmd == SHIM_MYSQL_COM_SLEEP && (ev->flags & SHIM_MYSQL_F_ERROR)) {
        /* an ERR nobody asked for: the server is ending the connection */
        shim_snprintf(s->fatal, sizeof(s->fatal), "%u", (unsigned)ev->err_code);
    } else if (ev->flags & (SHIM_MYSQL_F_DESYNC | SHIM_MYSQL_F_RESYNC)) {
        /* the parser's queue overflowed: this answer's command is not known */
        pop(s, &op);
        if (ev->flags & SHIM_MYSQL_F_RESYNC)
            drop_all(s);
    } else if (pop(s, &op) > 0) {
        char code[8] = "";
        if (ev->flags & SHIM_MYSQL_F_ERROR)
            shim_snprintf(code, sizeof(code), "%u", (unsigned)ev->err_code);
        op.name = (uint16_t)my_name(ev->cmd, ev->op); /* the backend knows a prepared statement's keyword */
        finish(e, s, &op, code, c);
    }
    if (!pending(s) && shim_mysql_idle(&s->p.my.fe) == 1)
        s->cur_t0 = 0;
}

/* my_data: n bytes of one direction; 0, -EPROTO or -ENOTCONN (TLS, compression) */
static int my_data(const struct shim_fd *e, struct shim_db_sess *s, int req, const uint8_t *buf, size_t n,
                   struct ctx *c)
{
    struct shim_mysql *p = req ? &s->p.my.fe : &s->p.my.be;
    struct shim_mysql_event ev;
    if (req)
        sql_started(s, n, c);
    for (;;) {
        size_t used = 0;
        int rc = shim_mysql_feed(p, buf, n, &ev, &used);
        if (rc == SHIM_MYSQL_NEED_MORE)
            return 0;
        if (rc == SHIM_MYSQL_ENCRYPTED)
            return -ENOTCONN;
        if (rc != SHIM_MYSQL_EVENT)
            return -EPROTO;
        if (NEVER(used > n))
            used = n;
        buf += used;
        n -= used;
        if (req) {
            my_request(s, &ev);
            sql_after_event(s, n, c);
        } else {
            my_reply(e, s, &ev, c);
        }
    }
}

/* ---- the session interface ---- */

int shim_db_start(struct shim_fd *e, struct shim_db_sess *s, enum shim_proto proto)
{
    s->proto = (uint8_t)proto;
    s->server = e->kind == FD_SERVER;
    switch (proto) {
    case PROTO_REDIS:
        shim_redis_init(&s->p.redis.req, SHIM_REDIS_REQUEST);
        shim_redis_init(&s->p.redis.resp, SHIM_REDIS_RESPONSE);
        return 0;
    case PROTO_MEMCACHED:
        shim_memcached_init(&s->p.mc.req, SHIM_MC_REQUEST);
        shim_memcached_init(&s->p.mc.resp, SHIM_MC_RESPONSE);
        return 0;
    case PROTO_POSTGRES:
        shim_pg_init(&s->p.pg.fe, SHIM_PG_FRONTEND);
        shim_pg_init(&s->p.pg.be, SHIM_PG_BACKEND);
        return 0;
    case PROTO_MYSQL:
        shim_mysql_init(&s->p.my.fe, SHIM_MYSQL_FRONTEND);
        shim_mysql_init(&s->p.my.be, SHIM_MYSQL_BACKEND);
        return 0;
    default:
        s->proto = PROTO_NONE;
        return -EINVAL;
    }
}

int shim_db_data(struct shim_fd *e, struct shim_db_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n)
{
    struct ctx c = {0};
    int req = s->server ? dir == DIR_RX : dir == DIR_TX;
    int rc;
    switch (s->proto) {
    case PROTO_REDIS:
        if (!redis_as_memcached(s, req, buf, n)) {
            rc = redis_data(e, s, req, buf, n, &c);
            break;
        }
        /* fall through */
    case PROTO_MEMCACHED:
        rc = mc_data(e, s, req, buf, n, &c);
        break;
    case PROTO_POSTGRES:
        rc = pg_data(e, s, req, buf, n, &c);
        break;
    case PROTO_MYSQL:
        rc = my_data(e, s, req, buf, n, &c);
        break;
    default:
        rc = -ENOTCONN;
        break;
    }
    if (rc < 0)
        drop_all(s); /* parsing stops: what is in flight is not recorded */
    return rc;
}

void shim_db_end(struct shim_fd *e, struct shim_db_sess *s, int dir, int err)
{
    if (dir == -2) {
        drop_all(s);
        return;
    }
    const char *why;
    if (err == ECONNRESET || err == EPIPE)
        why = "connection_reset";
    else if (err == ETIMEDOUT)
        why = "timeout";
    else if (err)
        return; /* EAGAIN and friends are not an end */
    else if (dir == DIR_RX && s->server)
        return; /* the client half-closed: what it sent may still be answered */
    else if (dir == DIR_RX)
        why = "no_response"; /* the server closed with operations unanswered */
    else
        why = s->server ? "no_response" : "timeout"; /* the program closed while waiting */
    if (s->fatal[0])
        why = s->fatal; /* the server said why before it closed */
    struct ctx c = {0};
    struct shim_db_op op;
    int r;
    while ((r = pop(s, &op)) >= 0)
        if (r > 0)
            finish(e, s, &op, why, &c);
}

/* shim_db_inflight: operations waiting for their reply (the pools probe's
 * busy connections) */
int shim_db_inflight(const struct shim_db_sess *s)
{
    uint32_t h = atomic_load_explicit(&((struct shim_db_sess *)s)->head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&((struct shim_db_sess *)s)->tail, memory_order_relaxed);
    return (int)(t - h);
}
