/*
 * postgres.c - incremental PostgreSQL wire protocol parser (see postgres.h
 * for the contract and the caller's pairing rules).
 *
 * Each message is a header (the startup packet's int32 length + int32 code,
 * or a type byte + int32 length) and a body of a known length. The header
 * is read byte by byte; the body is skipped by length except for the few
 * fields the events need, which are read by small per-type sub-states
 * (st->field): query text (keyword scanner), statement / portal names
 * (FNV-1a hash), CommandComplete tags, ErrorResponse fields, the
 * ReadyForQuery status byte. The event of a message is built when its last
 * byte is consumed.
 */
#include "shim/proto/postgres.h"

#include <string.h>

/* Parser states (st->state). */
enum {
    S_HDR = 0,   /* reading a header: st->hpos bytes of it so far */
    S_BODY,      /* st->remaining body bytes left */
    S_ENCRYPTED, /* TLS / GSS from here on */
    S_BAD
};

/* Body sub-states (st->field). */
enum {
    F_SKIP = 0,  /* nothing more to read in this body */
    F_TEXT,      /* Query / Parse query text: scanner until NUL */
    F_NAME1,     /* first name: hash until NUL */
    F_NAME2,     /* second name (Bind statement, Close target after the kind byte) */
    F_CLOSE_KIND,/* Close: 'S' or 'P' */
    F_TAG,       /* CommandComplete tag */
    F_ECODE,     /* ErrorResponse: a field code byte (0 ends the list) */
    F_EVAL,      /* ErrorResponse: a field value until NUL */
    F_STATUS     /* ReadyForQuery status byte */
};

/* Backend queue kinds. */
enum { K_SIMPLE = SHIM_PG_REQ_SIMPLE, K_EXECUTE = SHIM_PG_REQ_EXECUTE,
       K_FUNCTION = SHIM_PG_REQ_FUNCTION, K_SYNC = 4 };

/* Startup codes. */
#define CODE_CANCEL 80877102u
#define CODE_SSL 80877103u
#define CODE_GSS 80877104u

/* Per-message flags (st->flags). */
#define M_ERRCODE_C 0x01u  /* ErrorResponse: in the 'C' (SQLSTATE) field */
#define M_ERRCODE_V 0x02u  /* in the 'V' (severity) field */
#define M_FATAL 0x04u      /* severity FATAL / PANIC */
#define M_TAGWORD 0x08u    /* CommandComplete: inside a word */

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

void shim_pg_init(struct shim_pg *st, enum shim_pg_mode mode)
{
    memset(st, 0, sizeof(*st));
    st->mode = (uint8_t)mode;
}

/* ------------------------------------------------------------ validation */

/* len_check: is len a valid length for a message of type t in this
 * direction? 1 yes, 0 no, -1 when t is not a message type there at all. */
static int len_check(int mode, uint8_t t, uint32_t len)
{
    if (mode == SHIM_PG_FRONTEND) {
        switch (t) {
        case 'S': case 'H': case 'X': case 'c': return len == 4;
        case 'Q': return len >= 5;
        case 'P': return len >= 8;
        case 'B': return len >= 12;
        case 'E': return len >= 9;
        case 'C': case 'D': return len >= 6;
        case 'F': return len >= 14;
        case 'f': return len >= 5;
        case 'p': case 'd': return len >= 4;
        default: return -1;
        }
    }
    switch (t) {
    case 'Z': return len == 5;
    case '1': case '2': case '3': case 'n': case 'I': case 's': case 'c': return len == 4;
    case 'K': return len >= 12 && len <= 264;
    case 'R': return len >= 8;
    case 'C': case 'E': case 'N': return len >= 5;
    case 'S': case 'T': case 'D': case 't': return len >= 6;
    case 'G': case 'H': case 'W': return len >= 7;
    case 'A': return len >= 10;
    case 'V': return len >= 8;
    case 'v': return len >= 12;
    case 'd': return len >= 4;
    default: return -1;
    }
}

/* startup_ok: is (len, code) a valid untyped packet? */
static int startup_ok(uint32_t len, uint32_t code)
{
    if (code == CODE_SSL || code == CODE_GSS)
        return len == 8;
    if (code == CODE_CANCEL)
        return len >= 16 && len <= 268;
    return (code >> 16) == 3 && len >= 9 && len <= SHIM_PG_MAX_STARTUP;
}

int shim_pg_detect(const uint8_t *buf, size_t len)
{
    uint32_t l, code;
    size_t k;
    /* byte-wise prefix checks: length 8..10000 is 00 00 00..27 xx; the code
     * is 00 03 xx xx or 04 d2 16 2e..30 */
    static const uint8_t special[3] = {0x04, 0xd2, 0x16};
    for (k = 0; k < len && k < 8; k++) {
        uint8_t c = buf[k];
        switch (k) {
        case 0: case 1: if (c != 0) return 0; break;
        case 2: if (c > 0x27) return 0; break;
        case 3: if (buf[2] == 0 && c < 8) return 0; break;
        case 4: if (c != 0 && c != 0x04) return 0; break;
        case 5: if (buf[4] == 0 ? c != 3 : c != special[1]) return 0; break;
        case 6: if (buf[4] == 0x04 && c != special[2]) return 0; break;
        case 7: if (buf[4] == 0x04 && (c < 0x2e || c > 0x30)) return 0; break;
        }
    }
    if (len < 8)
        return -1;
    l = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    code = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
    return startup_ok(l, code);
}

/* ------------------------------------------------------------ maps (frontend) */

/* name_hash: finish a name hash: 0 for the empty name (unnamed), never 0
 * otherwise. st->spos counts the name's bytes (saturating). */
static uint32_t name_hash(const struct shim_pg *st)
{
    if (st->spos == 0)
        return 0;
    return st->hash ? st->hash : 1;
}

static uint8_t stmt_lookup(const struct shim_pg_front *f, uint32_t h)
{
    unsigned k;
    if (h == 0)
        return f->unnamed_stmt_op;
    for (k = 0; k < SHIM_PG_STMT_CAP; k++)
        if (f->stmt_hash[k] == h)
            return f->stmt_op[k] < SHIM_SQL_OP_COUNT ? f->stmt_op[k] : SHIM_SQL_OTHER;
    return SHIM_SQL_OTHER;
}

static void stmt_store(struct shim_pg_front *f, uint32_t h, uint8_t op)
{
    unsigned k, free_slot = SHIM_PG_STMT_CAP;
    if (h == 0) {
        f->unnamed_stmt_op = op;
        return;
    }
    for (k = 0; k < SHIM_PG_STMT_CAP; k++) {
        if (f->stmt_hash[k] == h) {
            f->stmt_op[k] = op;
            return;
        }
        if (f->stmt_hash[k] == 0 && free_slot == SHIM_PG_STMT_CAP)
            free_slot = k;
    }
    if (free_slot == SHIM_PG_STMT_CAP) {
        free_slot = f->stmt_clock % SHIM_PG_STMT_CAP;
        f->stmt_clock = (uint8_t)((free_slot + 1) % SHIM_PG_STMT_CAP);
    }
    f->stmt_hash[free_slot] = h;
    f->stmt_op[free_slot] = op;
}

static void stmt_forget(struct shim_pg_front *f, uint32_t h)
{
    unsigned k;
    if (h == 0) {
        f->unnamed_stmt_op = SHIM_SQL_OTHER;
        return;
    }
    for (k = 0; k < SHIM_PG_STMT_CAP; k++)
        if (f->stmt_hash[k] == h)
            f->stmt_hash[k] = 0;
}

static uint8_t portal_lookup(const struct shim_pg_front *f, uint32_t h)
{
    unsigned k;
    if (h == 0)
        return f->unnamed_portal_op < SHIM_SQL_OP_COUNT ? f->unnamed_portal_op : SHIM_SQL_OTHER;
    for (k = 0; k < SHIM_PG_PORTAL_CAP; k++)
        if (f->portal_hash[k] == h)
            return f->portal_op[k] < SHIM_SQL_OP_COUNT ? f->portal_op[k] : SHIM_SQL_OTHER;
    return SHIM_SQL_OTHER;
}

static void portal_store(struct shim_pg_front *f, uint32_t h, uint8_t op)
{
    unsigned k, free_slot = SHIM_PG_PORTAL_CAP;
    if (h == 0) {
        f->unnamed_portal_op = op;
        return;
    }
    for (k = 0; k < SHIM_PG_PORTAL_CAP; k++) {
        if (f->portal_hash[k] == h) {
            f->portal_op[k] = op;
            return;
        }
        if (f->portal_hash[k] == 0 && free_slot == SHIM_PG_PORTAL_CAP)
            free_slot = k;
    }
    if (free_slot == SHIM_PG_PORTAL_CAP) {
        free_slot = f->portal_clock % SHIM_PG_PORTAL_CAP;
        f->portal_clock = (uint8_t)((free_slot + 1) % SHIM_PG_PORTAL_CAP);
    }
    f->portal_hash[free_slot] = h;
    f->portal_op[free_slot] = op;
}

static void portal_forget(struct shim_pg_front *f, uint32_t h)
{
    unsigned k;
    if (h == 0) {
        f->unnamed_portal_op = SHIM_SQL_OTHER;
        return;
    }
    for (k = 0; k < SHIM_PG_PORTAL_CAP; k++)
        if (f->portal_hash[k] == h)
            f->portal_hash[k] = 0;
}

/* ------------------------------------------------------------ queue (backend) */

static void q_push(struct shim_pg_back *b, uint8_t kind)
{
    unsigned tail;
    if (b->desync)
        return; /* untracked until the queue drains */
    if (b->qlen > SHIM_PG_QUEUE_CAP || b->qhead >= SHIM_PG_QUEUE_CAP) {
        b->qlen = 0; /* can't happen: state corrupted by the caller */
        b->qhead = 0;
    }
    if (b->qlen) {
        tail = (b->qhead + b->qlen - 1u) % SHIM_PG_QUEUE_CAP;
        if (b->qkind[tail] == kind && b->qcount[tail] < UINT32_MAX) {
            b->qcount[tail]++;
            return;
        }
    }
    if (b->qlen == SHIM_PG_QUEUE_CAP) {
        b->desync = 1;
        return;
    }
    tail = (b->qhead + b->qlen) % SHIM_PG_QUEUE_CAP;
    b->qkind[tail] = kind;
    b->qcount[tail] = 1;
    b->qlen++;
}

/* q_head: kind of the oldest pending entry, 0 when none. */
static uint8_t q_head(const struct shim_pg_back *b)
{
    if (b->qlen == 0 || b->qhead >= SHIM_PG_QUEUE_CAP)
        return 0;
    return b->qkind[b->qhead];
}

/* q_pop: remove n (<= the head run's count) entries of the head run. */
static void q_pop(struct shim_pg_back *b, uint32_t n)
{
    if (b->qlen == 0 || b->qhead >= SHIM_PG_QUEUE_CAP)
        return;
    if (n >= b->qcount[b->qhead]) {
        b->qcount[b->qhead] = 0;
        b->qhead = (uint8_t)((b->qhead + 1u) % SHIM_PG_QUEUE_CAP);
        b->qlen--;
    } else {
        b->qcount[b->qhead] -= n;
    }
}

void shim_pg_expect(struct shim_pg *st, const struct shim_pg_event *ev)
{
    struct shim_pg_back *b = &st->u.be;
    if (st->mode != SHIM_PG_BACKEND || !ev)
        return;
    switch (ev->type) {
    case SHIM_PG_EV_SSL_REQUEST:
        b->ssl_pending = 1;
        break;
    case SHIM_PG_EV_REQ:
        if (ev->kind >= K_SIMPLE && ev->kind <= K_FUNCTION)
            q_push(b, ev->kind);
        break;
    case SHIM_PG_EV_SYNC:
        q_push(b, K_SYNC);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ events */

static void ev_clear(struct shim_pg_event *ev)
{
    memset(ev, 0, sizeof(*ev));
}

/* fe_finish: a frontend message ended. Returns 1 if *ev holds an event. */
static int fe_finish(struct shim_pg *st, struct shim_pg_event *ev)
{
    struct shim_pg_front *f = &st->u.fe;
    ev_clear(ev);
    ev->msg_len = st->len;
    switch (st->type) {
    case 0:
        ev->code = st->num;
        if (st->num == CODE_SSL || st->num == CODE_GSS) {
            ev->type = SHIM_PG_EV_SSL_REQUEST;
            if (st->num == CODE_GSS)
                ev->flags = SHIM_PG_F_GSS;
            f->after_ssl = 1;
        } else if (st->num == CODE_CANCEL) {
            ev->type = SHIM_PG_EV_CANCEL;
        } else {
            ev->type = SHIM_PG_EV_STARTUP;
            f->startup_done = 1;
            f->after_ssl = 0;
        }
        return 1;
    case 'Q':
        ev->type = SHIM_PG_EV_REQ;
        ev->kind = SHIM_PG_REQ_SIMPLE;
        ev->op = (uint8_t)shim_sql_scan_end(&st->scan);
        return 1;
    case 'P':
        /* hash2: the statement name, set when the text began */
        stmt_store(f, f->hash2, (uint8_t)shim_sql_scan_end(&st->scan));
        return 0;
    case 'B':
        portal_store(f, f->hash2, stmt_lookup(f, st->field == F_NAME1 ? 0 : name_hash(st)));
        return 0;
    case 'E':
        ev->type = SHIM_PG_EV_REQ;
        ev->kind = SHIM_PG_REQ_EXECUTE;
        ev->op = portal_lookup(f, name_hash(st));
        return 1;
    case 'F':
        ev->type = SHIM_PG_EV_REQ;
        ev->kind = SHIM_PG_REQ_FUNCTION;
        return 1;
    case 'C':
        if (st->op == 'S')
            stmt_forget(f, name_hash(st));
        else if (st->op == 'P')
            portal_forget(f, name_hash(st));
        return 0;
    case 'S':
        ev->type = SHIM_PG_EV_SYNC;
        return 1;
    case 'X':
        ev->type = SHIM_PG_EV_TERMINATE;
        return 1;
    default:
        return 0;
    }
}

/* resp_one: a completion message (C, I, s, E) for the head of the queue. */
static void resp_one(struct shim_pg *st, struct shim_pg_event *ev, int is_error)
{
    struct shim_pg_back *b = &st->u.be;
    uint8_t head = q_head(b);
    if (!b->ready_seen)
        return; /* startup phase: no request can be answered yet */
    if (head == K_EXECUTE) {
        q_pop(b, 1);
        ev->done = 1;
    } else if (head == K_SIMPLE || head == K_FUNCTION) {
        if (is_error && !b->failed)
            memcpy(b->err_state, ev->sqlstate, sizeof(b->err_state));
        if (!is_error && (ev->flags & SHIM_PG_F_ROWS))
            b->rows_sum += ev->rows;
    }
    if (is_error)
        b->failed = 1;
}

/* be_finish: a backend message ended. Returns 1 if *ev holds an event. */
static int be_finish(struct shim_pg *st, struct shim_pg_event *ev)
{
    struct shim_pg_back *b = &st->u.be;
    uint8_t head;
    uint32_t n;
    ev_clear(ev);
    ev->msg_len = st->len;
    switch (st->type) {
    case 'C':
        ev->type = SHIM_PG_EV_RESP;
        ev->kind = SHIM_PG_RESP_COMPLETE;
        ev->op = (uint8_t)shim_sql_scan_end(&st->scan);
        if (st->ndig && st->ndig != 0xff) {
            ev->flags |= SHIM_PG_F_ROWS;
            ev->rows = st->rows;
        }
        resp_one(st, ev, 0);
        break;
    case 'I':
        ev->type = SHIM_PG_EV_RESP;
        ev->kind = SHIM_PG_RESP_EMPTY;
        resp_one(st, ev, 0);
        break;
    case 's':
        ev->type = SHIM_PG_EV_RESP;
        ev->kind = SHIM_PG_RESP_SUSPENDED;
        resp_one(st, ev, 0);
        break;
    case 'E':
        ev->type = SHIM_PG_EV_RESP;
        ev->kind = SHIM_PG_RESP_ERROR;
        ev->flags |= SHIM_PG_F_ERROR;
        if (st->flags & M_FATAL)
            ev->flags |= SHIM_PG_F_FATAL;
        memcpy(ev->sqlstate, st->sqlstate, sizeof(ev->sqlstate));
        ev->sqlstate[5] = 0;
        resp_one(st, ev, 1);
        break;
    case 'Z':
        ev->type = SHIM_PG_EV_RESP;
        ev->kind = SHIM_PG_RESP_READY;
        ev->txn = st->op;
        if (!b->ready_seen) {
            /* the end of the startup: requests sent early stay queued */
            ev->flags |= SHIM_PG_F_STARTUP;
            b->ready_seen = 1;
            break;
        }
        while ((head = q_head(b)) != 0) {
            if (head == K_EXECUTE) {
                n = b->qcount[b->qhead];
                if (n > 0xffffu - ev->done)
                    n = 0xffffu - ev->done;
                ev->done = (uint16_t)(ev->done + n);
                ev->aborted = (uint16_t)(ev->aborted + n);
                q_pop(b, b->qcount[b->qhead]);
                continue;
            }
            q_pop(b, 1);
            if (head != K_SYNC) {
                if (ev->done < 0xffffu)
                    ev->done++;
                ev->flags |= SHIM_PG_F_ROWS;
                ev->rows = b->rows_sum;
                if (b->failed) {
                    ev->flags |= SHIM_PG_F_ERROR;
                    memcpy(ev->sqlstate, b->err_state, sizeof(ev->sqlstate));
                    ev->sqlstate[5] = 0;
                }
            }
            break;
        }
        b->failed = 0;
        b->rows_sum = 0;
        memset(b->err_state, 0, sizeof(b->err_state));
        break;
    default:
        return 0;
    }
    if (b->desync) {
        ev->flags |= SHIM_PG_F_DESYNC;
        if (b->qlen == 0) {
            ev->flags |= SHIM_PG_F_RESYNC;
            b->desync = 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------ body */

/* body_start: set up the sub-state for a body of type st->type. */
static void body_start(struct shim_pg *st)
{
    st->field = F_SKIP;
    st->hash = FNV_BASIS;
    st->spos = 0;
    st->flags = 0;
    st->op = 0;
    st->ndig = 0;
    st->rows = 0;
    memset(st->sqlstate, 0, sizeof(st->sqlstate));
    shim_sql_scan_init(&st->scan);
    if (st->mode == SHIM_PG_FRONTEND) {
        st->u.fe.hash2 = 0;
        switch (st->type) {
        case 'Q': st->field = F_TEXT; break;
        case 'P': case 'B': case 'E': st->field = F_NAME1; break;
        case 'C': st->field = F_CLOSE_KIND; break;
        default: break;
        }
    } else {
        switch (st->type) {
        case 'C': st->field = F_TAG; break;
        case 'E': st->field = F_ECODE; break;
        case 'Z': st->field = F_STATUS; break;
        default: break;
        }
    }
}

/* name_byte: one byte of a name being hashed. */
static inline void name_byte(struct shim_pg *st, uint8_t c)
{
    st->hash = (st->hash ^ c) * FNV_PRIME;
    if (st->spos < 255)
        st->spos++;
}

/* name_end: a name ended: what happens next depends on the message. */
static void name_end(struct shim_pg *st)
{
    uint32_t h = name_hash(st);
    switch (st->type) {
    case 'P': /* statement name, then the query text */
        st->u.fe.hash2 = h;
        st->field = F_TEXT;
        break;
    case 'B':
        if (st->field == F_NAME1) { /* portal name, then the statement name */
            st->u.fe.hash2 = h;
            st->hash = FNV_BASIS;
            st->spos = 0;
            st->field = F_NAME2;
        } else {
            st->field = F_SKIP; /* hash/spos keep the statement name */
        }
        break;
    default: /* Execute portal, Close target: kept in hash/spos */
        st->field = F_SKIP;
        break;
    }
}

/* tag_byte: one byte of a CommandComplete tag (not the NUL). */
static void tag_byte(struct shim_pg *st, uint8_t c)
{
    if (c == ' ') {
        st->flags &= (uint8_t)~M_TAGWORD;
        return;
    }
    if (!(st->flags & M_TAGWORD)) {
        st->flags |= M_TAGWORD;
        st->ndig = 0;
        st->rows = 0;
    }
    if (c >= '0' && c <= '9' && st->ndig != 0xff) {
        uint64_t d = (uint64_t)(c - '0');
        if (st->rows > (UINT64_MAX - d) / 10) {
            st->ndig = 0xff; /* more than any row count */
            return;
        }
        st->rows = st->rows * 10 + d;
        if (st->ndig < 100)
            st->ndig++;
    } else {
        st->ndig = 0xff;
    }
}

/* body: consume n body bytes (n <= st->remaining), reading the fields the
 * events need. */
static void body(struct shim_pg *st, const uint8_t *p, size_t n)
{
    size_t i = 0;
    const uint8_t *z;
    while (i < n) {
        uint8_t c;
        switch (st->field) {
        case F_SKIP:
            return;
        case F_TEXT:
            z = memchr(p + i, 0, n - i);
            shim_sql_scan_feed(&st->scan, p + i, (size_t)((z ? z : p + n) - (p + i)));
            if (!z)
                return;
            i = (size_t)(z - p) + 1;
            st->field = F_SKIP;
            break;
        case F_NAME1:
        case F_NAME2:
            c = p[i++];
            if (c == 0)
                name_end(st);
            else
                name_byte(st, c);
            break;
        case F_CLOSE_KIND:
            st->op = p[i++];
            st->field = F_NAME2;
            break;
        case F_TAG:
            c = p[i++];
            if (c == 0) {
                st->field = F_SKIP;
                break;
            }
            tag_byte(st, c);
            shim_sql_scan_feed(&st->scan, &c, 1); /* free once the first word is decided */
            break;
        case F_ECODE:
            c = p[i++];
            if (c == 0) {
                st->field = F_SKIP;
                break;
            }
            st->flags &= (uint8_t)~(M_ERRCODE_C | M_ERRCODE_V);
            if (c == 'C')
                st->flags |= M_ERRCODE_C;
            else if (c == 'V')
                st->flags |= M_ERRCODE_V;
            st->spos = 0;
            st->field = F_EVAL;
            break;
        case F_EVAL:
            c = p[i++];
            if (c == 0) {
                st->field = F_ECODE;
                break;
            }
            if ((st->flags & M_ERRCODE_C) && st->spos < 5)
                st->sqlstate[st->spos] = (char)c;
            if ((st->flags & M_ERRCODE_V) && st->spos == 0 && (c == 'F' || c == 'P'))
                st->flags |= M_FATAL;
            if (st->spos < 255)
                st->spos++;
            break;
        case F_STATUS:
            st->op = p[i++];
            st->field = F_SKIP;
            break;
        default:
            return;
        }
    }
}

/* ------------------------------------------------------------ feed */

int shim_pg_idle(const struct shim_pg *st)
{
    if (st->state == S_BAD || st->state == S_ENCRYPTED)
        return -1;
    return st->state == S_HDR && st->hpos == 0;
}

/* finish: the current message ended (all of its body consumed). */
static int finish(struct shim_pg *st, struct shim_pg_event *ev)
{
    int r;
    st->state = S_HDR;
    st->hpos = 0;
    r = st->mode == SHIM_PG_FRONTEND ? fe_finish(st, ev) : be_finish(st, ev);
    return r;
}

int shim_pg_feed(struct shim_pg *st, const uint8_t *buf, size_t len,
                 struct shim_pg_event *ev, size_t *consumed)
{
    size_t i = 0, take;
    uint8_t c;

    *consumed = 0;
    if (st->state == S_BAD)
        return SHIM_PG_BAD;
    if (st->state == S_ENCRYPTED)
        return SHIM_PG_ENCRYPTED;
    if (st->state > S_BAD) {
        st->state = S_BAD;
        return SHIM_PG_BAD;
    }

    while (i < len) {
        if (st->state == S_BODY) {
            take = len - i;
            if (take > st->remaining)
                take = st->remaining;
            body(st, buf + i, take);
            i += take;
            st->remaining -= (uint32_t)take;
            if (st->remaining == 0) {
                if (finish(st, ev)) {
                    *consumed = i;
                    return SHIM_PG_EVENT;
                }
            }
            continue;
        }

        /* S_HDR */
        c = buf[i];
        if (st->hpos == 0) {
            if (st->mode == SHIM_PG_BACKEND && st->u.be.ssl_pending) {
                st->u.be.ssl_pending = 0;
                if (c == 'S' || c == 'G' || c == 'N') {
                    ev_clear(ev);
                    ev->type = SHIM_PG_EV_SSL_ANSWER;
                    if (c != 'N') {
                        ev->flags = SHIM_PG_F_ACCEPTED;
                        st->state = S_ENCRYPTED;
                    }
                    *consumed = i + 1;
                    return SHIM_PG_EVENT;
                }
                if (c != 'E') {
                    st->state = S_BAD;
                    *consumed = i;
                    return SHIM_PG_BAD;
                }
                /* 'E': a server refusing with an ErrorResponse: typed */
            }
            if (st->mode == SHIM_PG_FRONTEND && !st->u.fe.startup_done) {
                if (st->u.fe.after_ssl && c == 0x16) {
                    st->state = S_ENCRYPTED;
                    *consumed = i;
                    return SHIM_PG_ENCRYPTED;
                }
                st->type = 0;
                st->len = 0;
                st->num = 0;
            } else {
                if (len_check(st->mode, c, 0) < 0) {
                    st->state = S_BAD;
                    *consumed = i;
                    return SHIM_PG_BAD;
                }
                st->type = c;
                st->len = 0;
                st->hpos = 1;
                i++;
                continue;
            }
        }
        if (st->type == 0) {
            /* untyped: 4 length bytes, 4 code bytes */
            if (st->hpos < 4) {
                st->len = st->len << 8 | c;
                if (st->hpos == 3 && (st->len < 8 || st->len > SHIM_PG_MAX_STARTUP)) {
                    st->state = S_BAD;
                    *consumed = i;
                    return SHIM_PG_BAD;
                }
            } else {
                st->num = st->num << 8 | c;
            }
            st->hpos++;
            i++;
            if (st->hpos == 8) {
                if (!startup_ok(st->len, st->num)) {
                    st->state = S_BAD;
                    *consumed = i - 1;
                    return SHIM_PG_BAD;
                }
                st->remaining = st->len - 8;
                body_start(st);
                st->state = S_BODY;
                if (st->remaining == 0 && finish(st, ev)) {
                    *consumed = i;
                    return SHIM_PG_EVENT;
                }
            }
            continue;
        }
        /* typed: 4 length bytes after the type */
        if (st->hpos == 1 && c > 0x3f) {
            st->state = S_BAD; /* length >= 1 GiB (or negative) */
            *consumed = i;
            return SHIM_PG_BAD;
        }
        st->len = st->len << 8 | c;
        st->hpos++;
        i++;
        if (st->hpos == 5) {
            if (len_check(st->mode, st->type, st->len) != 1) {
                st->state = S_BAD;
                *consumed = i - 1;
                return SHIM_PG_BAD;
            }
            st->remaining = st->len - 4;
            body_start(st);
            st->state = S_BODY;
            if (st->remaining == 0 && finish(st, ev)) {
                *consumed = i;
                return SHIM_PG_EVENT;
            }
        }
    }
    *consumed = len;
    return SHIM_PG_NEED_MORE;
}
