/*
 * redis.c - incremental RESP2 / RESP3 parser (see redis.h for the contract).
 *
 * A byte-at-a-time state machine over type bytes, length lines and simple
 * lines, with bulk skipping of bulk-string payloads. Nested aggregates are
 * tracked on a fixed stack of element counts (no recursion); an element
 * that completes walks up that stack in a loop, closing every aggregate it
 * was the last element of. Command names are matched against a sorted
 * static table by binary search; only their first SHIM_REDIS_NAME_CAP bytes
 * are kept.
 */
#include "shim/proto/redis.h"

#include <stddef.h>
#include <string.h>

/* Parser states (st->state). */
enum {
    S_IDLE = 0,  /* between messages: next byte begins a command / reply */
    S_TYPE,      /* type byte of the next element (request: '$' of an argument) */
    S_LEN,       /* length or count line after $ ! = * % ~ | > or ';' */
    S_LINE,      /* content of a + - : , ( # line */
    S_CR,        /* CR that must follow '_' or '.' */
    S_LF,        /* LF after a line's CR: the line is complete */
    S_BULK,      /* payload bytes: st->remaining left */
    S_BULK_CR,   /* CR after a payload */
    S_BULK_LF,   /* LF after it */
    S_CHUNK,     /* ';' of the next chunk of a streamed string */
    S_INL_NAME,  /* inline command: the command word */
    S_INL_ARGS,  /* inline command: the rest of the line */
    S_INL_LF,    /* inline command: LF after CR */
    S_CLOSED,    /* after shim_redis_eof */
    S_BAD        /* invalid stream, sticky */
};

/* What step() tells the feed loop. */
enum { A_OK = 0, A_BAD, A_EV };

/* st->bits */
#define B_NEG 0x01u     /* length line: '-' seen */
#define B_STREAM 0x02u  /* length line: '?' seen (streamed) */
#define B_CHUNKED 0x04u /* inside a streamed string's chunks */
#define B_ERRDONE 0x08u /* error code capture finished */
#define B_ERRBAD 0x10u  /* error code is not 1-15 of [A-Z] then space / end */
#define B_DIGIT 0x20u   /* integer line: a digit was seen */

/* st->kind[] */
#define K_ATTR 0x01u   /* attribute: not an element of its parent */
#define K_PUSH 0x02u   /* push */
#define K_STREAM 0x04u /* streamed: ended by '.', not by a count */

/* What a completed element was (for nils / values). */
enum { W_VALUE = 0, W_NIL, W_ERROR };

/* st->iq: inline word-splitting state */
enum { IQ_SPACE = 0, IQ_WORD, IQ_DQ, IQ_DQ_ESC, IQ_SQ, IQ_SQ_ESC };

#define INT_LINE_CAP 21u    /* ':' line: sign and 20 digits */
#define DOUBLE_LINE_CAP 64u /* ',' line */

/* Fixed-size strings, so the table needs no relocations. */
#define NAME_(name) #name,
static const char cmd_names[SHIM_REDIS_CMD_COUNT][SHIM_REDIS_NAME_CAP + 1] = {
    "_OTHER", SHIM_REDIS_COMMANDS(NAME_)};
#undef NAME_

/* upper: ASCII uppercase of c, other bytes unchanged. */
static inline uint8_t upper(uint8_t c)
{
    return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
}

static inline int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* is_name_char: 1 if c may appear in a command name. */
static inline int is_name_char(uint8_t c)
{
    uint8_t l = (uint8_t)(c | 0x20);
    return (l >= 'a' && l <= 'z') || is_digit(c) || c == '_' || c == '-';
}

/* cmp_name: compare the upper-case n bytes at a with the NUL-terminated b. */
static int cmp_name(const uint8_t *a, size_t n, const char *b)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t x = upper(a[i]), y = (uint8_t)b[i];
        if (y == 0 || x > y)
            return 1;
        if (x < y)
            return -1;
    }
    return b[n] == 0 ? 0 : -1;
}

/* shim_redis_lookup_command: see redis.h. */
unsigned shim_redis_lookup_command(const uint8_t *name, size_t len)
{
    unsigned lo = 1, hi = SHIM_REDIS_CMD_COUNT; /* search [lo, hi) */
    if (len == 0 || len > SHIM_REDIS_NAME_CAP)
        return SHIM_REDIS_CMD_OTHER;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = cmp_name(name, len, cmd_names[mid]);
        if (c == 0)
            return mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return SHIM_REDIS_CMD_OTHER;
}

/* shim_redis_command_name: see redis.h. */
const char *shim_redis_command_name(unsigned cmd)
{
    return cmd < SHIM_REDIS_CMD_COUNT ? cmd_names[cmd] : cmd_names[0];
}

/* shim_redis_init: see redis.h. */
void shim_redis_init(struct shim_redis *st, enum shim_redis_mode mode)
{
    memset(st, 0, sizeof(*st));
    st->mode = (uint8_t)mode;
}

/* ---------------------------------------------------------------- events */

/* keys_of: cache lookups made by command cmd with argc arguments. */
static uint32_t keys_of(unsigned cmd, uint32_t argc)
{
    switch (cmd) {
    case SHIM_REDIS_CMD_GET:
    case SHIM_REDIS_CMD_GETEX:
    case SHIM_REDIS_CMD_GETDEL:
        return argc >= 2 ? 1 : 0;
    case SHIM_REDIS_CMD_HGET:
        return argc >= 3 ? 1 : 0;
    case SHIM_REDIS_CMD_MGET:
        return argc >= 2 ? argc - 1 : 0;
    case SHIM_REDIS_CMD_HMGET:
        return argc >= 3 ? argc - 2 : 0;
    default:
        return 0;
    }
}

/* req_begin: the first byte of a command. */
static int req_begin(struct shim_redis *st, uint8_t flags, struct shim_redis_event *ev)
{
    st->argc = 0;
    st->argi = 0;
    st->namelen = 0;
    st->bits = 0;
    st->evflags = flags;
    memset(ev, 0, sizeof(*ev));
    ev->type = SHIM_REDIS_EV_REQ_BEGIN;
    ev->flags = flags;
    return A_EV;
}

/* req_done: the last byte of a command. */
static int req_done(struct shim_redis *st, struct shim_redis_event *ev)
{
    unsigned cmd = SHIM_REDIS_CMD_OTHER;
    if (st->namelen <= SHIM_REDIS_NAME_CAP)
        cmd = shim_redis_lookup_command(st->name, st->namelen);
    memset(ev, 0, sizeof(*ev));
    ev->type = SHIM_REDIS_EV_REQ_DONE;
    ev->flags = st->evflags;
    ev->cmd = (uint16_t)cmd;
    ev->argc = st->argc;
    ev->keys = keys_of(cmd, st->argc);
    st->state = S_IDLE;
    return A_EV;
}

/* resp_begin: the first byte of a reply (or of the attribute before it). */
static void resp_begin(struct shim_redis *st)
{
    st->depth = 0;
    st->top = 0;
    st->bits = 0;
    st->errlen = 0;
    st->evflags = 0;
    st->is_error = 0;
    st->nils = 0;
    st->values = 0;
    memset(st->err, 0, sizeof(st->err));
}

/* count: one direct element of the top-level reply (or the reply itself when
 * it is not an aggregate) completed as `what`. Saturating. */
static void count(struct shim_redis *st, int what)
{
    if (what == W_NIL) {
        if (st->nils != UINT32_MAX)
            st->nils++;
    } else if (what == W_VALUE) {
        if (st->values != UINT32_MAX)
            st->values++;
    }
}

/*
 * complete: an element just ended. what: W_*; agg: it was a (non-nil)
 * aggregate, whose direct elements were counted already; kind: its K_* bits.
 * Walks up the stack closing every aggregate this was the last element of;
 * reports the reply when the top level is complete.
 */
static int complete(struct shim_redis *st, int what, int agg, uint8_t kind,
                    struct shim_redis_event *ev)
{
    for (;;) {
        unsigned lvl;
        st->state = S_TYPE;
        if (kind & K_ATTR)
            return A_OK; /* metadata: the element it annotates follows */
        if (st->depth == 0) {
            if (!agg)
                count(st, what);
            memset(ev, 0, sizeof(*ev));
            ev->type = (kind & K_PUSH) ? SHIM_REDIS_EV_PUSH : SHIM_REDIS_EV_RESP_DONE;
            ev->flags = st->evflags;
            ev->reply = st->top;
            ev->is_error = st->is_error;
            ev->nils = st->nils;
            ev->values = st->values;
            memcpy(ev->err, st->err, sizeof(ev->err));
            ev->err[SHIM_REDIS_ERR_CAP - 1] = 0;
            st->state = S_IDLE;
            return A_EV;
        }
        lvl = st->depth - 1u;
        if (lvl == 0 && !(st->kind[0] & K_ATTR))
            count(st, what);
        if (st->kind[lvl] & K_STREAM)
            return A_OK;
        if (--st->count[lvl] > 0)
            return A_OK;
        kind = st->kind[lvl];
        st->depth--;
        what = W_VALUE;
        agg = 1;
    }
}

/* ---------------------------------------------------------------- error code */

/* err_char: one byte of a top-level error message, while capturing. */
static void err_char(struct shim_redis *st, uint8_t c)
{
    if (c >= 'A' && c <= 'Z' && st->errlen < SHIM_REDIS_ERR_CAP - 1) {
        st->err[st->errlen++] = (char)c;
        return;
    }
    if (c == ' ' && st->errlen > 0)
        st->bits |= B_ERRDONE;
    else
        st->bits |= B_ERRDONE | B_ERRBAD;
}

/* err_end: the top-level error message ended: settle the code. */
static void err_end(struct shim_redis *st)
{
    if ((st->bits & B_ERRBAD) || st->errlen == 0) {
        memset(st->err, 0, sizeof(st->err));
        memcpy(st->err, "ERR", 3);
        st->errlen = 3;
    }
    st->bits |= B_ERRDONE;
}

/* capturing_err: 1 if payload / line bytes are to be fed to err_char. */
static inline int capturing_err(const struct shim_redis *st)
{
    return st->mode == SHIM_REDIS_RESPONSE && st->depth == 0 && (st->cur == '-' || st->cur == '!') &&
           !(st->bits & B_ERRDONE);
}

/* capturing_name: 1 if payload bytes are the command name to keep. */
static inline int capturing_name(const struct shim_redis *st)
{
    return st->mode == SHIM_REDIS_REQUEST && st->argi == 0 && st->namelen <= SHIM_REDIS_NAME_CAP;
}

/* name_char: one byte of the command name. */
static void name_char(struct shim_redis *st, uint8_t c)
{
    if (st->namelen < SHIM_REDIS_NAME_CAP)
        st->name[st->namelen++] = upper(c);
    else
        st->namelen = SHIM_REDIS_NAME_CAP + 1;
}

/* ---------------------------------------------------------------- replies */

/* type_byte: the first byte of a reply element. */
static int type_byte(struct shim_redis *st, uint8_t c)
{
    if (st->depth == 0) {
        if (c == '|')
            st->evflags |= SHIM_REDIS_F_ATTRIB;
        else
            st->top = c;
    }
    st->cur = c;
    st->num = 0;
    st->ndig = 0;
    st->linelen = 0;
    st->bits &= (uint8_t)~(B_NEG | B_STREAM | B_DIGIT);
    switch (c) {
    case '-':
    case '!':
        if (st->depth == 0) {
            st->is_error = 1;
            st->errlen = 0;
            memset(st->err, 0, sizeof(st->err));
            st->bits &= (uint8_t)~(B_ERRDONE | B_ERRBAD);
        }
        st->state = c == '-' ? S_LINE : S_LEN;
        return A_OK;
    case '+': case ':': case ',': case '(': case '#':
        st->state = S_LINE;
        return A_OK;
    case '_':
        st->state = S_CR;
        return A_OK;
    case '.':
        if (st->depth == 0 || !(st->kind[st->depth - 1] & K_STREAM))
            return A_BAD;
        st->state = S_CR;
        return A_OK;
    case '$': case '=': case '*': case '%': case '~': case '|': case '>':
        st->state = S_LEN;
        return A_OK;
    default:
        return A_BAD;
    }
}

/* line_byte: one content byte of a + - : , ( # line (not CR). */
static int line_byte(struct shim_redis *st, uint8_t c)
{
    if (c == '\n')
        return A_BAD;
    if (++st->linelen > SHIM_REDIS_LINE_CAP)
        return A_BAD;
    switch (st->cur) {
    case ':':
    case '(':
        if (st->cur == ':' && st->linelen > INT_LINE_CAP)
            return A_BAD;
        if (is_digit(c)) {
            st->bits |= B_DIGIT;
            return A_OK;
        }
        return (st->linelen == 1 && (c == '-' || c == '+')) ? A_OK : A_BAD;
    case '#':
        return (st->linelen == 1 && (c == 't' || c == 'f')) ? A_OK : A_BAD;
    case ',':
        if (st->linelen > DOUBLE_LINE_CAP)
            return A_BAD;
        if (is_digit(c) || c == '.' || c == '+' || c == '-' || (((c | 0x20) >= 'a') && ((c | 0x20) <= 'z')))
            return A_OK;
        return A_BAD;
    case '-':
        if (capturing_err(st))
            err_char(st, c);
        return A_OK;
    default: /* '+' */
        return A_OK;
    }
}

/* line_cr: CR ending a + - : , ( # line: is the line complete? */
static int line_cr(struct shim_redis *st)
{
    switch (st->cur) {
    case ':':
    case '(':
        if (!(st->bits & B_DIGIT))
            return A_BAD;
        break;
    case '#':
    case ',':
        if (st->linelen == 0)
            return A_BAD;
        break;
    case '-':
        if (st->depth == 0)
            err_end(st);
        break;
    default:
        break;
    }
    st->state = S_LF;
    return A_OK;
}

/* len_byte: one byte of a length / count line (not CR). */
static int len_byte(struct shim_redis *st, uint8_t c)
{
    uint64_t cap;
    if (st->bits & B_STREAM)
        return A_BAD; /* only CR after '?' */
    if (c == '-') {
        /* "-1": nil bulk or nil array, replies only */
        if (st->ndig == 0 && !(st->bits & B_NEG) && st->mode == SHIM_REDIS_RESPONSE &&
            (st->cur == '$' || st->cur == '*')) {
            st->bits |= B_NEG;
            return A_OK;
        }
        /* requests: "*-1" is an empty command the server ignores */
        if (st->ndig == 0 && !(st->bits & B_NEG) && st->mode == SHIM_REDIS_REQUEST && st->cur == '*') {
            st->bits |= B_NEG;
            return A_OK;
        }
        return A_BAD;
    }
    if (c == '?') {
        if (st->ndig == 0 && !(st->bits & B_NEG) && st->mode == SHIM_REDIS_RESPONSE &&
            st->cur != '!' && st->cur != '=' && st->cur != ';' && !(st->bits & B_CHUNKED)) {
            st->bits |= B_STREAM;
            return A_OK;
        }
        return A_BAD;
    }
    if (!is_digit(c) || st->ndig >= 20)
        return A_BAD;
    st->num = st->num * 10 + (uint64_t)(c - '0');
    st->ndig++;
    if (st->bits & B_NEG)
        return st->num == 1 && st->ndig == 1 ? A_OK : A_BAD;
    cap = (st->cur == '$' || st->cur == '!' || st->cur == '=' || st->cur == ';') ? SHIM_REDIS_MAX_BULK
                                                                                 : SHIM_REDIS_MAX_COUNT;
    return st->num <= cap ? A_OK : A_BAD;
}

/* open_level: push an aggregate of n elements (0: streamed) of kind k. */
static int open_level(struct shim_redis *st, uint32_t n, uint8_t k)
{
    if (st->depth >= SHIM_REDIS_DEPTH)
        return A_BAD;
    st->count[st->depth] = n;
    st->kind[st->depth] = k;
    st->depth++;
    st->state = S_TYPE;
    return A_OK;
}

/* bulk_start: a bulk payload of st->num bytes follows. */
static void bulk_start(struct shim_redis *st)
{
    st->remaining = st->num;
    st->state = st->remaining ? S_BULK : S_BULK_CR;
}

/* line_end: the LF of a line: act on what the line was. */
static int line_end(struct shim_redis *st, struct shim_redis_event *ev)
{
    uint8_t k;
    uint32_t n;

    if (st->mode == SHIM_REDIS_REQUEST) {
        if (st->cur == '*') {
            if ((st->bits & B_NEG) || st->num == 0) {
                st->evflags |= SHIM_REDIS_F_NOREPLY;
                st->argc = 0;
                return req_done(st, ev);
            }
            st->argc = (uint32_t)st->num;
            st->state = S_TYPE;
            return A_OK;
        }
        bulk_start(st); /* '$' */
        return A_OK;
    }

    switch (st->cur) {
    case '+': case ':': case ',': case '(': case '#':
        return complete(st, W_VALUE, 0, 0, ev);
    case '-':
        return complete(st, W_ERROR, 0, 0, ev);
    case '_':
        return complete(st, W_NIL, 0, 0, ev);
    case '.':
        k = st->kind[st->depth - 1];
        st->depth--;
        return complete(st, W_VALUE, 1, k, ev);
    case '$': case '!': case '=':
        if (st->bits & B_NEG)
            return complete(st, W_NIL, 0, 0, ev);
        if (st->bits & B_STREAM) {
            st->bits |= B_CHUNKED;
            st->state = S_CHUNK;
            return A_OK;
        }
        bulk_start(st);
        return A_OK;
    case ';':
        if (st->num == 0) {
            st->bits &= (uint8_t)~B_CHUNKED;
            return complete(st, W_VALUE, 0, 0, ev);
        }
        bulk_start(st);
        return A_OK;
    default: /* aggregates */
        k = st->cur == '|' ? K_ATTR : st->cur == '>' ? K_PUSH : 0;
        if (st->bits & B_NEG)
            return complete(st, W_NIL, 0, 0, ev);
        if (st->bits & B_STREAM)
            return open_level(st, 0, (uint8_t)(k | K_STREAM));
        if (st->num == 0)
            return complete(st, W_VALUE, 1, k, ev);
        n = (uint32_t)st->num;
        if (st->cur == '%' || st->cur == '|')
            n *= 2;
        return open_level(st, n, k);
    }
}

/* bulk_end: the LF after a payload. */
static int bulk_end(struct shim_redis *st, struct shim_redis_event *ev)
{
    if (st->mode == SHIM_REDIS_REQUEST) {
        st->argi++;
        if (st->argi >= st->argc)
            return req_done(st, ev);
        st->state = S_TYPE;
        return A_OK;
    }
    if (st->bits & B_CHUNKED) {
        st->state = S_CHUNK;
        return A_OK;
    }
    if (st->cur == '!') {
        if (st->depth == 0)
            err_end(st);
        return complete(st, W_ERROR, 0, 0, ev);
    }
    return complete(st, W_VALUE, 0, 0, ev);
}

/* ---------------------------------------------------------------- inline */

/* inline_known: 1 if the command word of an inline command is a known name. */
static int inline_known(const struct shim_redis *st)
{
    return st->namelen <= SHIM_REDIS_NAME_CAP &&
           shim_redis_lookup_command(st->name, st->namelen) != SHIM_REDIS_CMD_OTHER;
}

/* inline_arg_byte: one byte of an inline command after its first word. */
static void inline_arg_byte(struct shim_redis *st, uint8_t c)
{
    int space = c == ' ' || c == '\t';
    switch (st->iq) {
    case IQ_SPACE:
        if (space)
            break;
        if (st->argc != UINT32_MAX)
            st->argc++;
        st->iq = c == '"' ? IQ_DQ : c == '\'' ? IQ_SQ : IQ_WORD;
        break;
    case IQ_WORD:
        if (space)
            st->iq = IQ_SPACE;
        break;
    case IQ_DQ:
        st->iq = c == '\\' ? IQ_DQ_ESC : c == '"' ? IQ_WORD : IQ_DQ;
        break;
    case IQ_DQ_ESC:
        st->iq = IQ_DQ;
        break;
    case IQ_SQ:
        st->iq = c == '\\' ? IQ_SQ_ESC : c == '\'' ? IQ_WORD : IQ_SQ;
        break;
    default: /* IQ_SQ_ESC */
        st->iq = IQ_SQ;
        break;
    }
}

/* ---------------------------------------------------------------- step */

/* step: one byte in any state but S_BULK's bulk skipping. */
static int step(struct shim_redis *st, uint8_t c, struct shim_redis_event *ev)
{
    switch (st->state) {
    case S_IDLE:
        if (st->mode == SHIM_REDIS_RESPONSE) {
            resp_begin(st);
            return type_byte(st, c);
        }
        if (c == '\r' || c == '\n')
            return A_OK; /* empty inline line: ignored by the server */
        if (c == '*') {
            st->cur = '*';
            st->num = 0;
            st->ndig = 0;
            st->state = S_LEN;
            return req_begin(st, 0, ev);
        }
        if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            req_begin(st, SHIM_REDIS_F_INLINE, ev);
            name_char(st, c);
            st->argc = 1;
            st->linelen = 1;
            st->iq = IQ_SPACE;
            st->state = S_INL_NAME;
            return A_EV;
        }
        return A_BAD;
    case S_TYPE:
        if (st->mode == SHIM_REDIS_REQUEST) {
            if (c != '$')
                return A_BAD;
            st->cur = '$';
            st->num = 0;
            st->ndig = 0;
            st->bits &= (uint8_t)~(B_NEG | B_STREAM);
            st->state = S_LEN;
            return A_OK;
        }
        return type_byte(st, c);
    case S_LEN:
        if (c == '\r') {
            if (st->ndig == 0 && !(st->bits & B_STREAM))
                return A_BAD;
            st->state = S_LF;
            return A_OK;
        }
        return len_byte(st, c);
    case S_LINE:
        if (c == '\r')
            return line_cr(st);
        return line_byte(st, c);
    case S_CR:
        if (c != '\r')
            return A_BAD;
        st->state = S_LF;
        return A_OK;
    case S_LF:
        if (c != '\n')
            return A_BAD;
        return line_end(st, ev);
    case S_BULK: /* one byte, capturing */
        if (capturing_name(st))
            name_char(st, c);
        else if (capturing_err(st))
            err_char(st, c);
        if (--st->remaining == 0)
            st->state = S_BULK_CR;
        return A_OK;
    case S_BULK_CR:
        if (c != '\r')
            return A_BAD;
        st->state = S_BULK_LF;
        return A_OK;
    case S_BULK_LF:
        if (c != '\n')
            return A_BAD;
        return bulk_end(st, ev);
    case S_CHUNK:
        if (c != ';')
            return A_BAD;
        st->cur = ';';
        st->num = 0;
        st->ndig = 0;
        st->bits &= (uint8_t)~(B_NEG | B_STREAM);
        st->state = S_LEN;
        return A_OK;
    case S_INL_NAME:
    case S_INL_ARGS:
        if (c == '\r' || c == '\n') {
            if (st->state == S_INL_NAME && !inline_known(st))
                return A_BAD;
            if (c == '\n')
                return req_done(st, ev);
            st->state = S_INL_LF;
            return A_OK;
        }
        if (++st->linelen > SHIM_REDIS_INLINE_CAP)
            return A_BAD;
        if (st->state == S_INL_NAME) {
            if (c == ' ' || c == '\t') {
                if (!inline_known(st))
                    return A_BAD;
                st->state = S_INL_ARGS;
                return A_OK;
            }
            if (!is_name_char(c))
                return A_BAD;
            name_char(st, c);
            return A_OK;
        }
        if (c < 0x20 && c != '\t')
            return A_BAD;
        inline_arg_byte(st, c);
        return A_OK;
    case S_INL_LF:
        if (c != '\n')
            return A_BAD;
        return req_done(st, ev);
    default:
        return A_BAD;
    }
}

/* shim_redis_feed: see redis.h. */
int shim_redis_feed(struct shim_redis *st, const uint8_t *buf, size_t len,
                    struct shim_redis_event *ev, size_t *consumed)
{
    size_t i = 0;
    int r;

    *consumed = 0;
    if (st->state >= S_CLOSED)
        return SHIM_REDIS_BAD;
    while (i < len) {
        if (st->state == S_BULK && !capturing_name(st) && !capturing_err(st)) {
            size_t take = len - i;
            if (take > st->remaining)
                take = (size_t)st->remaining;
            st->remaining -= take;
            i += take;
            if (st->remaining == 0)
                st->state = S_BULK_CR;
            continue;
        }
        if (st->state == S_LINE && st->cur == '+') {
            /* simple string: skip to the CR */
            size_t j = i;
            while (j < len && buf[j] != '\r' && buf[j] != '\n')
                j++;
            if (j - i > SHIM_REDIS_LINE_CAP - st->linelen) {
                st->state = S_BAD;
                *consumed = i + (SHIM_REDIS_LINE_CAP - st->linelen);
                return SHIM_REDIS_BAD;
            }
            st->linelen += (uint32_t)(j - i);
            i = j;
            if (i == len)
                break;
        }
        r = step(st, buf[i], ev);
        if (r == A_OK) {
            i++;
            continue;
        }
        if (r == A_BAD) {
            st->state = S_BAD;
            *consumed = i;
            return SHIM_REDIS_BAD;
        }
        *consumed = i + 1;
        return SHIM_REDIS_EVENT;
    }
    *consumed = len;
    return SHIM_REDIS_NEED_MORE;
}

/* shim_redis_eof: see redis.h. */
int shim_redis_eof(struct shim_redis *st)
{
    switch (st->state) {
    case S_BAD:
        return SHIM_REDIS_BAD;
    case S_IDLE:
    case S_CLOSED:
        st->state = S_CLOSED;
        return SHIM_REDIS_IDLE;
    default:
        st->state = S_CLOSED;
        return SHIM_REDIS_TRUNCATED;
    }
}

/* ---------------------------------------------------------------- detect */

/* shim_redis_detect_request: see redis.h. */
int shim_redis_detect_request(const uint8_t *buf, size_t len)
{
    size_t i, n;
    unsigned k;

    if (len == 0)
        return -1;
    if (buf[0] == '*') {
        /* '*' [1-9][0-9]* CR LF '$' */
        if (len < 2)
            return -1;
        if (buf[1] < '1' || buf[1] > '9')
            return 0;
        for (i = 2; i < len && is_digit(buf[i]); i++)
            if (i > 11)
                return 0;
        if (i == len)
            return -1;
        if (buf[i] != '\r')
            return 0;
        if (++i == len)
            return -1;
        if (buf[i] != '\n')
            return 0;
        if (++i == len)
            return -1;
        return buf[i] == '$' ? 1 : 0;
    }
    /* inline: a known command name then space, CR or LF */
    for (n = 0; n < len && is_name_char(buf[n]); n++)
        if (n >= SHIM_REDIS_NAME_CAP)
            return 0;
    if (n == 0 || !((buf[0] | 0x20) >= 'a' && (buf[0] | 0x20) <= 'z'))
        return 0;
    if (n < len) {
        if (buf[n] != ' ' && buf[n] != '\r' && buf[n] != '\n')
            return 0;
        return shim_redis_lookup_command(buf, n) != SHIM_REDIS_CMD_OTHER ? 2 : 0;
    }
    /* all of buf is a name so far: is it a prefix of a known one? */
    for (k = 1; k < SHIM_REDIS_CMD_COUNT; k++) {
        const char *s = cmd_names[k];
        for (i = 0; i < n && s[i] && upper(buf[i]) == (uint8_t)s[i]; i++)
            ;
        if (i == n)
            return -1;
    }
    return 0;
}
