/*
 * memcached.c - incremental memcached parser: text, meta and binary
 * protocols (see memcached.h for the contract).
 *
 * Text lines are tokenised on the fly (tokens split on spaces, as the
 * server does); of each line only the first word (15 bytes), the value of
 * the one token that holds a length, and a few bits per token (numeric?
 * "noreply"? "q"?) are kept. Data blocks and binary bodies are skipped by
 * length. A binary header is collected in the state (24 bytes).
 */
#include "shim/proto/memcached.h"

#include <stddef.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Parser states (st->state). */
enum {
    S_IDLE = 0,  /* between messages */
    S_LINE,      /* text line */
    S_LF,        /* LF after a text line's CR */
    S_DATA,      /* data block / value bytes: st->remaining left */
    S_DATA_CR,   /* CR after a data block */
    S_DATA_LF,   /* LF after it */
    S_PEND_DONE, /* REQ_DONE of a bare-LF empty line, reported next call */
    S_BHDR,      /* binary header: st->hpos bytes collected */
    S_BBODY,     /* binary body: st->remaining left */
    S_CLOSED,    /* after shim_memcached_eof */
    S_BAD        /* invalid stream, sticky */
};

enum { A_OK = 0, A_BAD, A_EV };

enum { P_UNKNOWN = 0, P_TEXT, P_BINARY };

/* st->bits: the current token */
#define B_INTOK 0x01u /* inside a token */
#define B_NR 0x02u    /* still matching "noreply" */
#define B_NUM 0x04u   /* only digits (after an optional leading '-') so far */
#define B_DIG 0x08u   /* a digit seen */
#define B_NEG 0x10u   /* leading '-' */
#define B_Q 0x20u     /* the token is "q" so far */
#define B_LASTNR 0x40u /* the last complete token was "noreply" */
#define B_LENOK 0x80u /* the length token was a valid length */

/* st->hbits: what the current token's bytes are hashed for (meta) */
#define H_KEY 0x01u /* the key (request token 1, or a reply's k flag) */
#define H_OPQ 0x02u /* an O flag's value */

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

/* Reply shapes (st->shape). */
enum { SH_ONE = 0, SH_GET, SH_LINES, SH_VA };

/* Word ids of reply first words beyond enum shim_mc_result. */
#define W_VALUE 100
#define W_STAT 101

/* Fixed-size strings, so the tables need no relocations. */
static const char cmd_names[SHIM_MC_CMD_COUNT][16] = {
    "_OTHER", "get", "gets", "gat", "gats", "set", "add", "replace", "append",
    "prepend", "cas", "delete", "incr", "decr", "touch", "flush_all", "version",
    "stats", "verbosity", "quit", "mg", "ms", "md", "ma", "mn", "me", "noop"};

static const char result_names[SHIM_MC_R_COUNT][16] = {
    "_OTHER", "END", "STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED",
    "TOUCHED", "OK", "RESET", "VERSION", "NUMBER", "ERROR", "CLIENT_ERROR",
    "SERVER_ERROR", "HD", "VA", "EN", "NF", "NS", "EX", "MN", "ME", "BINARY"};

static const char error_names[SHIM_MC_E_COUNT][20] = {
    "", "ERROR", "CLIENT_ERROR", "SERVER_ERROR", "VALUE_TOO_LARGE",
    "INVALID_ARGUMENTS", "NON_NUMERIC", "NOT_MY_VBUCKET", "AUTH_ERROR",
    "UNKNOWN_COMMAND", "OUT_OF_MEMORY", "NOT_SUPPORTED", "INTERNAL_ERROR",
    "BUSY", "TEMPORARY_FAILURE", "OTHER_STATUS"};

/* Binary opcodes 0x00..0x24: command id, | Q_ for quiet ones. */
#define Q_ 0x80u
static const uint8_t bin_ops[0x25] = {
    SHIM_MC_CMD_GET, SHIM_MC_CMD_SET, SHIM_MC_CMD_ADD, SHIM_MC_CMD_REPLACE,        /* 00-03 */
    SHIM_MC_CMD_DELETE, SHIM_MC_CMD_INCR, SHIM_MC_CMD_DECR, SHIM_MC_CMD_QUIT,      /* 04-07 */
    SHIM_MC_CMD_FLUSH_ALL, SHIM_MC_CMD_GET | Q_, SHIM_MC_CMD_NOOP, SHIM_MC_CMD_VERSION, /* 08-0b */
    SHIM_MC_CMD_GET, SHIM_MC_CMD_GET | Q_, SHIM_MC_CMD_APPEND, SHIM_MC_CMD_PREPEND, /* 0c-0f */
    SHIM_MC_CMD_STATS, SHIM_MC_CMD_SET | Q_, SHIM_MC_CMD_ADD | Q_, SHIM_MC_CMD_REPLACE | Q_, /* 10-13 */
    SHIM_MC_CMD_DELETE | Q_, SHIM_MC_CMD_INCR | Q_, SHIM_MC_CMD_DECR | Q_, SHIM_MC_CMD_QUIT | Q_, /* 14-17 */
    SHIM_MC_CMD_FLUSH_ALL | Q_, SHIM_MC_CMD_APPEND | Q_, SHIM_MC_CMD_PREPEND | Q_,
    SHIM_MC_CMD_VERBOSITY,                                                          /* 18-1b */
    SHIM_MC_CMD_TOUCH, SHIM_MC_CMD_GAT, SHIM_MC_CMD_GAT | Q_, SHIM_MC_CMD_OTHER,   /* 1c-1f */
    SHIM_MC_CMD_OTHER, SHIM_MC_CMD_OTHER, SHIM_MC_CMD_OTHER,                       /* 20-22 SASL */
    SHIM_MC_CMD_GAT, SHIM_MC_CMD_GAT | Q_};                                        /* 23-24 */
#define BIN_OP_STAT 0x10u
#define BIN_OP_QUITQ 0x17u

/* ---------------------------------------------------------------- names */

const char *shim_memcached_command_name(unsigned cmd)
{
    return cmd < SHIM_MC_CMD_COUNT ? cmd_names[cmd] : cmd_names[0];
}

const char *shim_memcached_error_name(unsigned error)
{
    return error < SHIM_MC_E_COUNT ? error_names[error] : error_names[0];
}

const char *shim_memcached_result_name(unsigned result)
{
    return result < SHIM_MC_R_COUNT ? result_names[result] : result_names[0];
}

void shim_memcached_init(struct shim_mc *st, enum shim_mc_mode mode)
{
    memset(st, 0, sizeof(*st));
    st->mode = (uint8_t)mode;
}

void shim_memcached_expect(struct shim_mc *st, enum shim_mc_expect kind)
{
    st->expect = (uint8_t)kind;
}

enum shim_mc_expect shim_memcached_expect_for(enum shim_mc_cmd cmd)
{
    switch (cmd) {
    case SHIM_MC_CMD_STATS:
        return SHIM_MC_EXPECT_LINES;
    case SHIM_MC_CMD_GET: case SHIM_MC_CMD_GETS: case SHIM_MC_CMD_GAT: case SHIM_MC_CMD_GATS:
        return SHIM_MC_EXPECT_GET;
    default:
        return SHIM_MC_EXPECT_AUTO;
    }
}

/* ---------------------------------------------------------------- helpers */

static inline int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static inline int is_get_family(unsigned cmd)
{
    return cmd == SHIM_MC_CMD_GET || cmd == SHIM_MC_CMD_GETS || cmd == SHIM_MC_CMD_GAT ||
           cmd == SHIM_MC_CMD_GATS;
}

static inline int is_storage(unsigned cmd)
{
    return cmd >= SHIM_MC_CMD_SET && cmd <= SHIM_MC_CMD_CAS;
}

static inline int is_meta(unsigned cmd)
{
    return cmd >= SHIM_MC_CMD_MG && cmd <= SHIM_MC_CMD_ME;
}

/* word_is: 1 if the kept first word is exactly s. */
static int word_is(const struct shim_mc *st, const char *s)
{
    size_t n = strlen(s);
    return st->wlen == n && memcmp(st->word, s, n) == 0;
}

/* lookup_cmd: text command id of the first word (text words only). */
static uint8_t lookup_cmd(const struct shim_mc *st)
{
    unsigned k;
    for (k = 1; k < SHIM_MC_CMD_NOOP; k++)
        if (word_is(st, cmd_names[k]))
            return (uint8_t)k;
    return SHIM_MC_CMD_OTHER;
}

/* lookup_reply_word: result id (or W_VALUE / W_STAT) of a reply's first word. */
static uint8_t lookup_reply_word(const struct shim_mc *st, int numeric)
{
    unsigned k;
    if (word_is(st, "VALUE"))
        return W_VALUE;
    if (word_is(st, "STAT"))
        return W_STAT;
    if (numeric)
        return SHIM_MC_R_NUMBER;
    for (k = SHIM_MC_R_END; k < SHIM_MC_R_BINARY; k++)
        if (k != SHIM_MC_R_NUMBER && word_is(st, result_names[k]))
            return (uint8_t)k;
    return SHIM_MC_R_OTHER;
}

/* is_meta_reply: 1 if reply word w is a meta reply code (flags may follow). */
static inline int is_meta_reply(unsigned w)
{
    return w >= SHIM_MC_R_HD && w <= SHIM_MC_R_ME;
}

/* flag_start: index of the first flag token on a meta line (0: not meta). */
static uint32_t flag_start(const struct shim_mc *st)
{
    if (st->mode == SHIM_MC_REQUEST) {
        if (!is_meta(st->cmd) || st->cmd == SHIM_MC_CMD_MN)
            return 0;
        return st->cmd == SHIM_MC_CMD_MS ? 3 : 2;
    }
    if (!is_meta_reply(st->cmd))
        return 0;
    return st->cmd == SHIM_MC_R_VA ? 2 : 1;
}

/* line_reset: ready for a new text line. */
static void line_reset(struct shim_mc *st)
{
    st->ntok = 0;
    st->linelen = 0;
    st->wlen = 0;
    st->tlen = 0;
    st->bits = 0;
    st->lentok = 0;
    st->nummask = 0;
    st->negmask = 0;
    st->num = 0;
    st->cmd = 0;
    st->hbits = 0;
    memset(st->word, 0, sizeof(st->word));
}

/* ---------------------------------------------------------------- tokens */

/* token_end: the current token ended (space or end of line). */
static void token_end(struct shim_mc *st)
{
    uint32_t idx = st->ntok - 1;
    int numeric = (st->bits & (B_NUM | B_DIG)) == (B_NUM | B_DIG);

    if (idx == 0) {
        if (st->mode == SHIM_MC_REQUEST) {
            st->cmd = lookup_cmd(st);
            if (is_storage(st->cmd))
                st->lentok = 4;
            else if (st->cmd == SHIM_MC_CMD_MS)
                st->lentok = 2;
        } else {
            st->cmd = lookup_reply_word(st, numeric && !(st->bits & B_NEG));
            if (st->cmd == W_VALUE)
                st->lentok = 3;
            else if (st->cmd == SHIM_MC_R_VA)
                st->lentok = 1;
        }
    }
    if (idx >= 1 && idx <= 7 && numeric) {
        if (st->bits & B_NEG)
            st->negmask = (uint8_t)(st->negmask | (1u << idx));
        else
            st->nummask = (uint8_t)(st->nummask | (1u << idx));
    }
    if (idx == 1 && st->tlen > SHIM_MC_KEY_MAX)
        st->negmask |= 1u; /* bit 0 of negmask: key too long */
    if (st->lentok && idx == st->lentok && numeric && !(st->bits & B_NEG) &&
        st->num <= SHIM_MC_MAX_DATA)
        st->bits |= B_LENOK;
    if ((st->bits & B_NR) && st->mpos == 7)
        st->bits |= B_LASTNR;
    else
        st->bits &= (uint8_t)~B_LASTNR;
    if (idx >= 2 && (st->bits & B_Q) && st->tlen == 1 && st->mode == SHIM_MC_REQUEST && is_meta(st->cmd))
        st->evflags |= SHIM_MC_F_QUIET;
    if (st->hbits & H_KEY) {
        st->keyhash = st->hash;
        st->evflags |= SHIM_MC_F_KEY;
    } else if (st->hbits & H_OPQ) {
        st->opaque = st->hash;
        st->evflags |= SHIM_MC_F_OPAQUE;
    }
    st->hbits = 0;
    st->bits &= (uint8_t)~(B_INTOK | B_NR | B_NUM | B_DIG | B_NEG | B_Q);
}

/* token_char: one byte of a token. */
static void token_char(struct shim_mc *st, uint8_t c)
{
    static const char nr[] = "noreply";
    uint32_t idx;

    if (!(st->bits & B_INTOK)) {
        uint32_t fs;
        if (st->ntok != UINT32_MAX)
            st->ntok++;
        st->tlen = 0;
        st->mpos = 0;
        st->bits |= B_INTOK | B_NR | B_NUM | B_Q;
        if (c != 'q')
            st->bits &= (uint8_t)~B_Q;
        /* meta: hash the key and the O / k flag values for pairing */
        idx = st->ntok - 1;
        fs = idx ? flag_start(st) : 0;
        st->hbits = 0;
        st->hash = FNV_BASIS;
        if (fs && idx == 1 && st->mode == SHIM_MC_REQUEST) {
            st->hbits = H_KEY;
        } else if (fs && idx >= fs && (c == 'O' || (c == 'k' && st->mode == SHIM_MC_RESPONSE))) {
            st->hbits = c == 'O' ? H_OPQ : H_KEY;
            st->hbits |= 0x80u; /* skip the flag letter itself */
        }
    }
    idx = st->ntok - 1;
    if (st->hbits & 0x80u)
        st->hbits &= 0x7fu;
    else if (st->hbits)
        st->hash = (st->hash ^ c) * FNV_PRIME;
    if (st->tlen < 255)
        st->tlen++;
    if (idx == 0) {
        if (st->wlen < sizeof(st->word) - 1)
            st->word[st->wlen++] = (char)c;
        else
            st->wlen = sizeof(st->word); /* too long: matches nothing */
    }
    if (st->bits & B_NR) {
        if (st->mpos < 7 && (uint8_t)nr[st->mpos] == c)
            st->mpos++;
        else
            st->bits &= (uint8_t)~B_NR;
    }
    if (st->tlen > 1)
        st->bits &= (uint8_t)~B_Q;
    if (is_digit(c)) {
        st->bits |= B_DIG;
        if (st->lentok && idx == st->lentok && st->num <= SHIM_MC_MAX_DATA)
            st->num = st->num * 10 + (uint64_t)(c - '0');
    } else if (c == '-' && st->tlen == 1) {
        st->bits |= B_NEG;
    } else {
        st->bits &= (uint8_t)~B_NUM;
    }
}

/* ---------------------------------------------------------------- events */

static void fill_req_done(const struct shim_mc *st, struct shim_mc_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = SHIM_MC_EV_REQ_DONE;
    ev->flags = st->evflags;
    ev->cmd = st->cmd;
    ev->keys = st->keys;
    ev->bytes = st->bytes;
    if (st->evflags & SHIM_MC_F_OPAQUE)
        ev->opaque = st->opaque;
    if (st->evflags & SHIM_MC_F_KEY)
        ev->keyhash = st->keyhash;
    if (st->proto == P_BINARY)
        ev->opcode = st->hdr[1];
}

static int req_done(struct shim_mc *st, struct shim_mc_event *ev)
{
    fill_req_done(st, ev);
    st->state = S_IDLE;
    return A_EV;
}

static int resp_done(struct shim_mc *st, struct shim_mc_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = SHIM_MC_EV_RESP_DONE;
    ev->flags = st->evflags;
    ev->result = st->result;
    ev->error = st->error;
    ev->is_error = st->error != SHIM_MC_E_NONE;
    ev->hits = st->hits;
    ev->bytes = st->bytes;
    if (st->evflags & SHIM_MC_F_OPAQUE)
        ev->opaque = st->opaque;
    if (st->evflags & SHIM_MC_F_KEY)
        ev->keyhash = st->keyhash;
    st->expect = SHIM_MC_EXPECT_AUTO;
    st->state = S_IDLE;
    return A_EV;
}

/* ---------------------------------------------------------------- text */

/* data_start: a data block of st->num bytes follows the line. */
static void data_start(struct shim_mc *st)
{
    st->remaining = st->num;
    st->state = st->remaining ? S_DATA : S_DATA_CR;
}

/* req_line_end: the LF of a command line. */
static int req_line_end(struct shim_mc *st, struct shim_mc_event *ev)
{
    unsigned need;
    uint8_t cmd = st->cmd;

    st->keys = 0;
    st->bytes = 0;
    if (st->ntok == 0)
        return req_done(st, ev); /* empty line: the server answers ERROR */
    if (is_get_family(cmd)) {
        uint32_t fixed = (cmd == SHIM_MC_CMD_GAT || cmd == SHIM_MC_CMD_GATS) ? 2 : 1;
        st->keys = st->ntok > fixed ? st->ntok - fixed : 0;
        return req_done(st, ev);
    }
    if (cmd == SHIM_MC_CMD_QUIT) {
        st->evflags |= SHIM_MC_F_NOREPLY;
        return req_done(st, ev);
    }
    if (is_meta(cmd)) {
        if (cmd == SHIM_MC_CMD_MG && st->ntok >= 2)
            st->keys = 1;
        if (cmd == SHIM_MC_CMD_MS && st->ntok >= 3 && (st->bits & B_LENOK) && !(st->negmask & 1u))
            goto data;
        return req_done(st, ev);
    }
    if (st->bits & B_LASTNR)
        st->evflags |= SHIM_MC_F_NOREPLY;
    if (!is_storage(cmd))
        return req_done(st, ev);
    /* <cmd> <key> <flags> <exptime> <bytes> [<cas>] [noreply] */
    need = cmd == SHIM_MC_CMD_CAS ? 6 : 5;
    if (st->ntok < need || (st->negmask & 1u) || !(st->nummask & (1u << 2)) ||
        !((st->nummask | st->negmask) & (1u << 3)) || !(st->bits & B_LENOK) ||
        (cmd == SHIM_MC_CMD_CAS && !(st->nummask & (1u << 5))))
        return req_done(st, ev); /* malformed: the server reads no block */
data:
    st->evflags |= SHIM_MC_F_DATA;
    st->bytes = st->num;
    data_start(st);
    return A_OK;
}

/* value_block: a VALUE or VA line announces a value of st->num bytes. */
static int value_block(struct shim_mc *st)
{
    if (!(st->bits & B_LENOK) || st->ntok < (st->cmd == W_VALUE ? 4u : 2u))
        return A_BAD;
    if (st->hits != UINT32_MAX)
        st->hits++;
    st->bytes += st->num;
    data_start(st);
    return A_OK;
}

/* reply_error: set the error type for an error reply word; 1 if it is one. */
static int reply_error(struct shim_mc *st, uint8_t w)
{
    switch (w) {
    case SHIM_MC_R_ERROR:
        st->error = SHIM_MC_E_ERROR;
        break;
    case SHIM_MC_R_CLIENT_ERROR:
        st->error = SHIM_MC_E_CLIENT_ERROR;
        break;
    case SHIM_MC_R_SERVER_ERROR:
        st->error = SHIM_MC_E_SERVER_ERROR;
        break;
    default:
        return 0;
    }
    st->result = w;
    return 1;
}

/* next_line: the reply goes on with another line. */
static int next_line(struct shim_mc *st)
{
    line_reset(st);
    st->state = S_LINE;
    return A_OK;
}

/* resp_line_end: the LF of a reply line. */
static int resp_line_end(struct shim_mc *st, struct shim_mc_event *ev)
{
    uint8_t w = st->cmd;
    int first = st->lines == 0;

    if (st->ntok == 0)
        return A_BAD; /* the server never sends an empty line */
    if (st->lines != UINT32_MAX)
        st->lines++;
    if (!first) {
        if (st->shape == SH_GET) {
            if (w == W_VALUE)
                return value_block(st);
            if (w == SHIM_MC_R_END)
                return resp_done(st, ev);
            if (reply_error(st, w))
                return resp_done(st, ev);
            return A_BAD;
        }
        /* SH_LINES */
        if (w == SHIM_MC_R_END)
            return resp_done(st, ev);
        return next_line(st);
    }
    switch (w) {
    case W_VALUE:
        st->shape = SH_GET;
        st->result = SHIM_MC_R_END;
        return value_block(st);
    case SHIM_MC_R_VA:
        st->shape = SH_VA;
        st->result = SHIM_MC_R_VA;
        return value_block(st);
    case W_STAT:
        st->shape = SH_LINES;
        st->result = SHIM_MC_R_END;
        return next_line(st);
    case SHIM_MC_R_HD:
        st->hits = 1;
        st->result = w;
        return resp_done(st, ev);
    case SHIM_MC_R_OTHER:
        if (st->expect == SHIM_MC_EXPECT_LINES) {
            st->shape = SH_LINES;
            st->result = SHIM_MC_R_END;
            return next_line(st);
        }
        st->result = w;
        return resp_done(st, ev);
    default:
        if (!reply_error(st, w))
            st->result = w;
        return resp_done(st, ev);
    }
}

/* line_byte: one byte of a text line (either mode). */
static int line_byte(struct shim_mc *st, uint8_t c, struct shim_mc_event *ev)
{
    uint32_t cap;

    if (c == '\r') {
        st->state = S_LF;
        return A_OK;
    }
    if (c == '\n') {
        if (st->bits & B_INTOK)
            token_end(st);
        return st->mode == SHIM_MC_REQUEST ? req_line_end(st, ev) : resp_line_end(st, ev);
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f)
        return A_BAD;
    cap = (st->mode == SHIM_MC_REQUEST && st->ntok > 1 && is_get_family(st->cmd)) ? SHIM_MC_GET_LINE_CAP
                                                                                 : SHIM_MC_LINE_CAP;
    if (++st->linelen > cap)
        return A_BAD;
    if (c == ' ') {
        if (st->bits & B_INTOK)
            token_end(st);
        return A_OK;
    }
    token_char(st, c);
    return A_OK;
}

/* ---------------------------------------------------------------- binary */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* bin_error: error type of a binary status (NONE for outcomes). */
static uint8_t bin_error(uint16_t status)
{
    switch (status) {
    case 0x00: case 0x01: case 0x02: case 0x05: case 0x21:
        return SHIM_MC_E_NONE;
    case 0x03: return SHIM_MC_E_VALUE_TOO_LARGE;
    case 0x04: return SHIM_MC_E_INVALID_ARGUMENTS;
    case 0x06: return SHIM_MC_E_NON_NUMERIC;
    case 0x07: return SHIM_MC_E_NOT_MY_VBUCKET;
    case 0x20: return SHIM_MC_E_AUTH_ERROR;
    case 0x81: return SHIM_MC_E_UNKNOWN_COMMAND;
    case 0x82: return SHIM_MC_E_OUT_OF_MEMORY;
    case 0x83: return SHIM_MC_E_NOT_SUPPORTED;
    case 0x84: return SHIM_MC_E_INTERNAL_ERROR;
    case 0x85: return SHIM_MC_E_BUSY;
    case 0x86: return SHIM_MC_E_TEMPORARY_FAILURE;
    default: return SHIM_MC_E_OTHER_STATUS;
    }
}

/* bin_op: command id and quiet bit of an opcode. */
static uint8_t bin_op(uint8_t op)
{
    return op < NELEM(bin_ops) ? bin_ops[op] : SHIM_MC_CMD_OTHER;
}

/* bin_done: a whole binary packet (header and body) was read. */
static int bin_done(struct shim_mc *st, struct shim_mc_event *ev)
{
    uint8_t op = st->hdr[1], m = bin_op(op);
    uint16_t keylen = (uint16_t)(st->hdr[2] << 8 | st->hdr[3]);
    uint16_t status = (uint16_t)(st->hdr[6] << 8 | st->hdr[7]);
    uint32_t body = be32(st->hdr + 8);
    uint8_t cmd = (uint8_t)(m & ~Q_);

    st->bytes = body - keylen - st->hdr[4];
    st->cmd = cmd;
    st->opaque = be32(st->hdr + 12);
    if (st->mode == SHIM_MC_REQUEST) {
        st->evflags = SHIM_MC_F_BINARY | SHIM_MC_F_OPAQUE;
        if (m & Q_)
            st->evflags |= SHIM_MC_F_QUIET;
        if (op == BIN_OP_QUITQ)
            st->evflags |= SHIM_MC_F_NOREPLY;
        st->keys = (cmd == SHIM_MC_CMD_GET || cmd == SHIM_MC_CMD_GAT) ? 1 : 0;
        return req_done(st, ev);
    }
    if (op == BIN_OP_STAT && keylen != 0 && status == 0) {
        /* one statistic of a series ended by an empty-key packet */
        st->hpos = 0;
        st->state = S_BHDR;
        return A_OK;
    }
    memset(ev, 0, sizeof(*ev));
    ev->type = SHIM_MC_EV_RESP_DONE;
    ev->flags = SHIM_MC_F_BINARY | SHIM_MC_F_OPAQUE;
    ev->cmd = cmd;
    ev->opcode = op;
    ev->result = SHIM_MC_R_BINARY;
    ev->status = status;
    ev->error = bin_error(status);
    ev->is_error = ev->error != SHIM_MC_E_NONE;
    ev->hits = ((cmd == SHIM_MC_CMD_GET || cmd == SHIM_MC_CMD_GAT) && status == 0) ? 1 : 0;
    ev->bytes = st->bytes;
    ev->opaque = st->opaque;
    st->state = S_IDLE;
    return A_EV;
}

/* bin_byte: one header byte of a binary packet. */
static int bin_byte(struct shim_mc *st, uint8_t c, struct shim_mc_event *ev)
{
    uint32_t body;
    uint8_t magic = st->mode == SHIM_MC_REQUEST ? 0x80 : 0x81;

    if (st->hpos == 0 && c != magic)
        return A_BAD;
    if (st->hpos == 5 && c != 0)
        return A_BAD; /* data type: only raw bytes exist */
    st->hdr[st->hpos++] = c;
    if (st->hpos < 24)
        return A_OK;
    body = be32(st->hdr + 8);
    if (body > SHIM_MC_BIN_BODY_CAP || (uint32_t)(st->hdr[2] << 8 | st->hdr[3]) + st->hdr[4] > body)
        return A_BAD;
    st->remaining = body;
    if (body == 0)
        return bin_done(st, ev);
    st->state = S_BBODY;
    return A_OK;
}

/* ---------------------------------------------------------------- step */

/* begin: the first byte of a message in S_IDLE. */
static int begin(struct shim_mc *st, uint8_t c, struct shim_mc_event *ev)
{
    int r;

    if (st->proto == P_UNKNOWN)
        st->proto = (c == 0x80 || c == 0x81) ? P_BINARY : P_TEXT;
    st->evflags = 0;
    st->keys = 0;
    st->hits = 0;
    st->lines = 0;
    st->bytes = 0;
    st->result = 0;
    st->error = 0;
    st->shape = SH_ONE;
    if (st->proto == P_BINARY) {
        st->hpos = 0;
        st->state = S_BHDR;
        r = bin_byte(st, c, ev);
        if (r != A_OK || st->mode == SHIM_MC_RESPONSE)
            return r;
        memset(ev, 0, sizeof(*ev));
        ev->type = SHIM_MC_EV_REQ_BEGIN;
        ev->flags = SHIM_MC_F_BINARY;
        return A_EV;
    }
    /* every reply of the server starts with a capital or a digit (only the
     * odd lines of some stats replies, read as LINES, do not) */
    if (st->mode == SHIM_MC_RESPONSE && st->expect != SHIM_MC_EXPECT_LINES &&
        !((c >= 'A' && c <= 'Z') || is_digit(c)))
        return A_BAD;
    line_reset(st);
    st->state = S_LINE;
    r = line_byte(st, c, ev);
    if (r == A_BAD || st->mode == SHIM_MC_RESPONSE)
        return r;
    if (r == A_EV)
        st->state = S_PEND_DONE; /* a bare LF: REQ_DONE on the next call */
    memset(ev, 0, sizeof(*ev));
    ev->type = SHIM_MC_EV_REQ_BEGIN;
    return A_EV;
}

static int step(struct shim_mc *st, uint8_t c, struct shim_mc_event *ev)
{
    switch (st->state) {
    case S_IDLE:
        return begin(st, c, ev);
    case S_LINE:
        return line_byte(st, c, ev);
    case S_LF:
        if (c != '\n')
            return A_BAD;
        st->state = S_LINE;
        return line_byte(st, c, ev);
    case S_DATA_CR:
        if (c != '\r')
            return A_BAD;
        st->state = S_DATA_LF;
        return A_OK;
    case S_DATA_LF:
        if (c != '\n')
            return A_BAD;
        if (st->mode == SHIM_MC_REQUEST)
            return req_done(st, ev);
        if (st->shape == SH_VA)
            return resp_done(st, ev);
        return next_line(st); /* SH_GET: VALUE or END follows */
    case S_BHDR:
        return bin_byte(st, c, ev);
    default:
        return A_BAD;
    }
}

/* shim_memcached_feed: see memcached.h. */
int shim_memcached_feed(struct shim_mc *st, const uint8_t *buf, size_t len,
                        struct shim_mc_event *ev, size_t *consumed)
{
    size_t i = 0;
    int r;

    *consumed = 0;
    if (st->state >= S_CLOSED)
        return SHIM_MC_BAD;
    if (st->state == S_PEND_DONE)
        return req_done(st, ev) == A_EV ? SHIM_MC_EVENT : SHIM_MC_BAD;
    while (i < len) {
        if (st->state == S_DATA || st->state == S_BBODY) {
            size_t take = len - i;
            if (take > st->remaining)
                take = (size_t)st->remaining;
            st->remaining -= take;
            i += take;
            if (st->remaining)
                continue;
            if (st->state == S_DATA) {
                st->state = S_DATA_CR;
                continue;
            }
            if (bin_done(st, ev) == A_OK)
                continue; /* a statistic of a series: more packets follow */
            *consumed = i;
            return SHIM_MC_EVENT;
        }
        r = step(st, buf[i], ev);
        if (r == A_OK) {
            i++;
            continue;
        }
        if (r == A_BAD) {
            st->state = S_BAD;
            *consumed = i;
            return SHIM_MC_BAD;
        }
        *consumed = i + 1;
        return SHIM_MC_EVENT;
    }
    *consumed = len;
    return SHIM_MC_NEED_MORE;
}

/* shim_memcached_eof: see memcached.h. */
int shim_memcached_eof(struct shim_mc *st)
{
    switch (st->state) {
    case S_BAD:
        return SHIM_MC_BAD;
    case S_IDLE:
    case S_CLOSED:
        st->state = S_CLOSED;
        return SHIM_MC_IDLE;
    default:
        st->state = S_CLOSED;
        return SHIM_MC_TRUNCATED;
    }
}

/* ---------------------------------------------------------------- detect */

/* detect_word: 1 if buf starts with one of the words followed by one of the
 * terminators, -1 if buf is a proper prefix of such a start, 0 if not. */
static int detect_word(const uint8_t *buf, size_t len, const char (*words)[16], size_t n,
                       const char *terms)
{
    size_t k;
    int partial = 0;
    for (k = 0; k < n; k++) {
        size_t wl = strlen(words[k]);
        size_t m = len < wl ? len : wl;
        if (memcmp(buf, words[k], m) != 0)
            continue;
        if (len <= wl) {
            partial = 1;
            continue;
        }
        if (strchr(terms, buf[wl]) && buf[wl] != 0)
            return 1;
    }
    return partial ? -1 : 0;
}

/* detect_binary: a plausible binary header with the given magic. */
static int detect_binary(const uint8_t *buf, size_t len, uint8_t magic)
{
    uint32_t body;
    if (buf[0] != magic)
        return 0;
    if (len >= 2 && (buf[1] >= NELEM(bin_ops) || buf[1] == 0x1f))
        return 0;
    if (len >= 6 && buf[5] != 0)
        return 0;
    if (len < 12)
        return -1;
    body = be32(buf + 8);
    if (body > SHIM_MC_BIN_BODY_CAP || (uint32_t)(buf[2] << 8 | buf[3]) + buf[4] > body)
        return 0;
    return 1;
}

int shim_memcached_detect_request(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return -1;
    if (buf[0] == 0x80)
        return detect_binary(buf, len, 0x80);
    return detect_word(buf, len, cmd_names + 1, SHIM_MC_CMD_NOOP - 1, " \r\n");
}

int shim_memcached_detect_response(const uint8_t *buf, size_t len)
{
    static const char words[][16] = {
        "VALUE", "END", "STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED",
        "TOUCHED", "OK", "RESET", "VERSION", "STAT", "ERROR", "CLIENT_ERROR",
        "SERVER_ERROR", "HD", "VA", "EN", "NF", "NS", "EX", "MN", "ME"};
    size_t i;

    if (len == 0)
        return -1;
    if (buf[0] == 0x81)
        return detect_binary(buf, len, 0x81);
    if (is_digit(buf[0])) {
        for (i = 0; i < len && i < 21 && is_digit(buf[i]); i++)
            ;
        if (i == len)
            return -1;
        if (buf[i] != '\r')
            return 0;
        if (i + 1 == len)
            return -1;
        return buf[i + 1] == '\n' ? 1 : 0;
    }
    return detect_word(buf, len, words, NELEM(words), " \r");
}
