/*
 * http1.c - incremental HTTP/1.x parser (see http1.h for the contract).
 *
 * A byte-at-a-time state machine over the start line, headers, chunk-size
 * lines and trailers, with bulk skipping of body bytes. Everything it knows
 * lives in struct shim_h1; the only bytes kept are the request target.
 * Header names and the list values of Connection / Transfer-Encoding are
 * matched on the fly against small candidate tables (no header is stored).
 */
#include "shim/proto/http1.h"

#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Parser states (st->state). */
enum {
    S_IDLE = 0,     /* between messages: skip empty lines, first byte is BEGIN */
    S_METHOD,       /* request line: method token */
    S_TGT_SP,       /* spaces before the request target */
    S_TARGET,       /* request target */
    S_VER_SP,       /* spaces before the version */
    S_VER,          /* "HTTP/1." of a request line */
    S_VER_MINOR,    /* its minor digit */
    S_RL_END,       /* request line: CR or LF after the version */
    S_RL_LF,        /* start line: LF after CR */
    S_RVER,         /* "HTTP/1." of a status line */
    S_RVER_MINOR,   /* its minor digit */
    S_RSP,          /* spaces before the status code */
    S_STATUS,       /* the three status digits */
    S_STATUS_END,   /* SP, CR or LF after them */
    S_REASON,       /* reason phrase */
    S_HSTART,       /* start of a header (or trailer) line */
    S_HNAME,        /* header name */
    S_HLWS,         /* whitespace after the colon */
    S_HVALUE,       /* header value */
    S_HVALUE_LF,    /* LF after CR at the end of a header line */
    S_HEND_LF,      /* LF after CR of the empty line ending the head/trailers */
    S_BODY_LEN,     /* Content-Length body: st->remaining bytes left */
    S_BODY_CLOSE,   /* body until the connection closes */
    S_CSIZE,        /* chunk size hex digits */
    S_CSIZE_WS,     /* whitespace after the chunk size */
    S_CEXT,         /* chunk extension, skipped */
    S_CSIZE_LF,     /* LF after CR of the chunk-size line */
    S_CDATA,        /* chunk data: st->remaining bytes left */
    S_CDATA_CR,     /* CR (or bare LF) after chunk data */
    S_CDATA_LF,     /* LF after it */
    S_PENDING_DONE, /* HEAD reported for a bodyless message: DONE is next */
    S_UPGRADED,     /* after a 101 or a CONNECT tunnel: not HTTP any more */
    S_CLOSED,       /* after shim_h1_eof */
    S_BAD           /* invalid stream, sticky */
};

/* What step() tells the feed loop. */
enum { A_OK = 0, A_BAD, A_HEAD, A_DONE };

/* Headers we interpret (st->hdr); HDR_x = index in hdr_names + 1. */
enum { HDR_NONE = 0, HDR_CL, HDR_TE, HDR_CONN, HDR_UPG };

/* st->hbits */
#define H_CL 0x01u         /* Content-Length seen */
#define H_TE 0x02u         /* Transfer-Encoding with at least one coding seen */
#define H_UPG 0x04u        /* Upgrade header seen */
#define H_TRAILER 0x40u    /* parsing trailers, not the head */
#define H_ANY 0x80u        /* a header line was seen (obs-fold is legal) */

/* st->conn: Connection tokens seen; index in conn_tokens */
#define C_CLOSE 0x01u
#define C_KEEPALIVE 0x02u
#define C_UPGRADE 0x04u

/* A token to match; fixed arrays, so the tables need no relocations. */
struct tok {
    char s[18]; /* lowercase */
    uint8_t len;
};

static const struct tok hdr_names[] = {
    {"content-length", 14}, {"transfer-encoding", 17}, {"connection", 10}, {"upgrade", 7}};
static const struct tok conn_tokens[] = {{"close", 5}, {"keep-alive", 10}, {"upgrade", 7}};
static const struct tok te_tokens[] = {{"chunked", 7}};

static const struct tok method_names[SHIM_HTTP_METHOD_COUNT] = {
    {"_OTHER", 6}, {"GET", 3}, {"HEAD", 4}, {"POST", 4}, {"PUT", 3}, {"DELETE", 6},
    {"CONNECT", 7}, {"OPTIONS", 7}, {"TRACE", 5}, {"PATCH", 5}};

/* lower: ASCII lowercase of c, other bytes unchanged. */
static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* is_tchar: 1 if c may appear in a header name (RFC 9110 token). */
static inline int is_tchar(uint8_t c)
{
    /* bit c of the table: RFC 9110 tchar (ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~) */
    static const uint32_t tchar[8] = {0, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff, 0, 0, 0, 0};
    return (tchar[c >> 5] >> (c & 31)) & 1;
}

/* is_vchar: 1 if c may appear in a header value, reason phrase or chunk
 * extension: HTAB, visible ASCII, space, obs-text; not CTLs or DEL. */
static inline int is_vchar(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* hexval: value of hex digit c, or -1. */
static inline int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* match_start: begin matching a token against the n candidates of a table. */
static void match_start(struct shim_h1 *st, unsigned n)
{
    st->mpos = 0;
    st->mmask = (uint8_t)((1u << n) - 1);
    st->mend = 0;
}

/* match_char: feed one token byte (case-insensitive) to the matcher. */
static void match_char(struct shim_h1 *st, const struct tok *t, unsigned n, uint8_t c)
{
    unsigned k;
    c = lower(c);
    for (k = 0; k < n; k++)
        if ((st->mmask & (1u << k)) && (st->mpos >= t[k].len || (uint8_t)t[k].s[st->mpos] != c))
            st->mmask = (uint8_t)(st->mmask & ~(1u << k));
    if (st->mpos < 255)
        st->mpos++;
}

/* match_result: index of the candidate equal to the whole token, or -1. */
static int match_result(const struct shim_h1 *st, const struct tok *t, unsigned n)
{
    unsigned k;
    for (k = 0; k < n; k++)
        if ((st->mmask & (1u << k)) && st->mpos == t[k].len)
            return (int)k;
    return -1;
}

/* list_elem_end: one element of a Connection / Transfer-Encoding list ended:
 * record what it was. Empty elements are ignored. */
static void list_elem_end(struct shim_h1 *st)
{
    int k;
    if (st->mpos == 0)
        return;
    if (st->hdr == HDR_CONN) {
        k = match_result(st, conn_tokens, 3);
        if (k >= 0)
            st->conn = (uint8_t)(st->conn | (1u << k));
    } else {
        k = match_result(st, te_tokens, 1);
        st->hbits |= H_TE;
        st->te_chunked = (k == 0);
    }
}

/* list_char: one value byte of a Connection / Transfer-Encoding header.
 * Elements are comma-separated tokens; whitespace around them and
 * parameters after ';' are skipped. */
static void list_char(struct shim_h1 *st, uint8_t c)
{
    unsigned n = st->hdr == HDR_CONN ? 3 : 1;
    if (c == ',') {
        list_elem_end(st);
        match_start(st, n);
        return;
    }
    if (st->mend)
        return;
    if (c == ' ' || c == '\t' || c == ';') {
        if (st->mpos > 0 || c == ';')
            st->mend = 1;
        return;
    }
    match_char(st, st->hdr == HDR_CONN ? conn_tokens : te_tokens, n, c);
}

/* value_char: one byte of a header value (not CR/LF). Returns A_OK/A_BAD. */
static int value_char(struct shim_h1 *st, uint8_t c)
{
    unsigned d;
    if (!is_vchar(c))
        return A_BAD;
    switch (st->hdr) {
    case HDR_CL:
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
            if (st->mend || st->num > (UINT64_MAX - d) / 10)
                return A_BAD;
            st->num = st->num * 10 + d;
            st->ndig = 1;
            return A_OK;
        }
        if ((c == ' ' || c == '\t') && st->ndig) {
            st->mend = 1;
            return A_OK;
        }
        return A_BAD;
    case HDR_TE:
    case HDR_CONN:
        list_char(st, c);
        return A_OK;
    default:
        return A_OK;
    }
}

/* header_line_end: a header line ended: apply what it said. A_OK/A_BAD. */
static int header_line_end(struct shim_h1 *st)
{
    switch (st->hdr) {
    case HDR_CL:
        if (!st->ndig)
            return A_BAD;
        if ((st->hbits & H_CL) && st->cl != st->num)
            return A_BAD;
        st->cl = st->num;
        st->hbits |= H_CL;
        break;
    case HDR_TE:
    case HDR_CONN:
        list_elem_end(st);
        break;
    case HDR_UPG:
        st->hbits |= H_UPG;
        break;
    default:
        break;
    }
    st->state = S_HSTART;
    return A_OK;
}

/* chunk_line_start: get ready for a chunk-size line. */
static void chunk_line_start(struct shim_h1 *st)
{
    st->state = S_CSIZE;
    st->num = 0;
    st->ndig = 0;
    st->hbytes = 0;
}

/* chunk_size_done: the chunk-size line ended: data, or trailers after 0. */
static void chunk_size_done(struct shim_h1 *st)
{
    if (st->num == 0) {
        st->hbits = (uint8_t)((st->hbits | H_TRAILER) & ~H_ANY);
        st->hdr = HDR_NONE;
        st->hbytes = 0;
        st->state = S_HSTART;
    } else {
        st->remaining = st->num;
        st->state = S_CDATA;
    }
}

/* head_end: the empty line ending the head (or the trailers) was seen.
 * Decides the body framing and the next state. Returns A_HEAD, A_DONE
 * (end of trailers) or A_BAD. */
static int head_end(struct shim_h1 *st)
{
    unsigned s = st->status;
    uint8_t body;

    if (st->hbits & H_TRAILER)
        return A_DONE;
    st->flags |= SHIM_H1_F_HEAD_DONE;
    if (st->mode != SHIM_H1_RESPONSE) {
        if (st->method == SHIM_HTTP_CONNECT || ((st->hbits & H_UPG) && (st->conn & C_UPGRADE)))
            st->flags |= SHIM_H1_F_UPGRADE;
        if (st->hbits & H_TE) {
            if (!st->te_chunked)
                return A_BAD;
            body = SHIM_H1_BODY_CHUNKED;
        } else if (st->hbits & H_CL) {
            body = SHIM_H1_BODY_LENGTH;
        } else {
            body = SHIM_H1_BODY_NONE;
        }
    } else if (s < 200) {
        body = SHIM_H1_BODY_NONE;
        st->flags |= s == 101 ? SHIM_H1_F_UPGRADE : SHIM_H1_F_INTERIM;
    } else if (st->req_method == SHIM_HTTP_HEAD) {
        body = SHIM_H1_BODY_NONE;
    } else if (st->req_method == SHIM_HTTP_CONNECT && s < 300) {
        body = SHIM_H1_BODY_NONE;
        st->flags |= SHIM_H1_F_UPGRADE;
    } else if (s == 204 || s == 304) {
        body = SHIM_H1_BODY_NONE;
    } else if (st->hbits & H_TE) {
        body = st->te_chunked ? SHIM_H1_BODY_CHUNKED : SHIM_H1_BODY_CLOSE;
    } else if (st->hbits & H_CL) {
        body = SHIM_H1_BODY_LENGTH;
    } else {
        body = SHIM_H1_BODY_CLOSE;
    }
    st->body = body;
    if ((st->conn & C_CLOSE) || (st->minor == 0 && !(st->conn & C_KEEPALIVE)) ||
        body == SHIM_H1_BODY_CLOSE)
        st->flags |= SHIM_H1_F_CLOSE;

    switch (body) {
    case SHIM_H1_BODY_LENGTH:
        st->remaining = st->cl;
        st->state = st->cl ? S_BODY_LEN : S_PENDING_DONE;
        break;
    case SHIM_H1_BODY_CHUNKED:
        chunk_line_start(st);
        break;
    case SHIM_H1_BODY_CLOSE:
        st->state = S_BODY_CLOSE;
        break;
    default:
        st->state = S_PENDING_DONE;
        break;
    }
    return A_HEAD;
}

/* identify_method: map the method token kept in st->path[0..mpos) to the enum. */
static uint8_t identify_method(const struct shim_h1 *st)
{
    unsigned m;
    for (m = 1; m < SHIM_HTTP_METHOD_COUNT; m++)
        if (method_names[m].len == st->mpos && memcmp(method_names[m].s, st->path, st->mpos) == 0)
            return (uint8_t)m;
    return SHIM_HTTP_OTHER;
}

/*
 * step: advance the state machine by one byte of the start line, headers,
 * chunk framing or trailers (never a body byte). Returns A_OK, A_BAD, A_HEAD
 * (this byte completed the head) or A_DONE (it completed the message).
 */
static inline __attribute__((always_inline)) int step(struct shim_h1 *st, uint8_t c)
{
    static const char ver[] = "HTTP/1.";
    int v;

    if (++st->hbytes > SHIM_H1_HEAD_CAP)
        return A_BAD;

    switch (st->state) {
    /* ---- request line ---- */
    case S_METHOD:
        if ((c >= 'A' && c <= 'Z') || c == '-' || c == '_') {
            if (st->mpos >= 16)
                return A_BAD;
            st->path[st->mpos++] = c;
            return A_OK;
        }
        if (c != ' ' || st->mpos == 0)
            return A_BAD;
        st->method = identify_method(st);
        st->state = S_TGT_SP;
        st->rl = 1;
        return A_OK;
    case S_TGT_SP:
        if (c == ' ')
            return A_OK;
        st->state = S_TARGET;
        /* fall through */
    case S_TARGET:
        if (c == ' ') {
            st->state = S_VER_SP;
            return A_OK;
        }
        if (c <= 0x20 || c == 0x7f)
            return A_BAD;
        if (st->path_len < SHIM_H1_PATH_CAP)
            st->path[st->path_len++] = c;
        else
            st->flags |= SHIM_H1_F_PATH_TRUNC;
        return A_OK;
    case S_VER_SP:
        if (c == ' ')
            return A_OK;
        st->state = S_VER;
        st->mpos = 0;
        /* fall through */
    case S_VER:
        if (c != (uint8_t)ver[st->mpos])
            return A_BAD;
        if (++st->mpos == 7)
            st->state = S_VER_MINOR;
        return A_OK;
    case S_VER_MINOR:
        if (c < '0' || c > '9')
            return A_BAD;
        st->minor = (uint8_t)(c - '0');
        st->state = S_RL_END;
        return A_OK;
    case S_RL_END:
        if (c == '\r')
            st->state = S_RL_LF;
        else if (c == '\n')
            st->state = S_HSTART;
        else
            return A_BAD;
        return A_OK;
    case S_RL_LF:
        if (c != '\n')
            return A_BAD;
        st->state = S_HSTART;
        return A_OK;

    /* ---- status line ---- */
    case S_RVER:
        if (c != (uint8_t)ver[st->mpos])
            return A_BAD;
        if (++st->mpos == 7)
            st->state = S_RVER_MINOR;
        return A_OK;
    case S_RVER_MINOR:
        if (c < '0' || c > '9')
            return A_BAD;
        st->minor = (uint8_t)(c - '0');
        st->state = S_RSP;
        st->mend = 0;
        return A_OK;
    case S_RSP:
        if (c == ' ') {
            st->mend = 1;
            return A_OK;
        }
        if (!st->mend || c < '0' || c > '9')
            return A_BAD;
        st->state = S_STATUS;
        /* fall through */
    case S_STATUS:
        if (c < '0' || c > '9')
            return A_BAD;
        st->status = (uint16_t)(st->status * 10 + (c - '0'));
        if (++st->ndig == 3) {
            if (st->status < 100)
                return A_BAD;
            st->state = S_STATUS_END;
        }
        return A_OK;
    case S_STATUS_END:
        if (c == ' ')
            st->state = S_REASON;
        else if (c == '\r')
            st->state = S_RL_LF;
        else if (c == '\n')
            st->state = S_HSTART;
        else
            return A_BAD;
        return A_OK;
    case S_REASON:
        if (c == '\r')
            st->state = S_RL_LF;
        else if (c == '\n')
            st->state = S_HSTART;
        else if (!is_vchar(c))
            return A_BAD;
        return A_OK;

    /* ---- header and trailer lines ---- */
    case S_HSTART:
        if (c == '\r') {
            st->state = S_HEND_LF;
            return A_OK;
        }
        if (c == '\n')
            return head_end(st);
        if (c == ' ' || c == '\t') {
            /* obs-fold: continuation of an uninterpreted header, ignored */
            if (!(st->hbits & H_ANY) || st->hdr != HDR_NONE)
                return A_BAD;
            st->state = S_HVALUE;
            return A_OK;
        }
        if (!is_tchar(c))
            return A_BAD;
        st->hbits |= H_ANY;
        st->hdr = HDR_NONE;
        match_start(st, 4);
        if (st->hbits & H_TRAILER)
            st->mmask = 0; /* trailers are not interpreted */
        st->state = S_HNAME;
        match_char(st, hdr_names, 4, c);
        return A_OK;
    case S_HNAME:
        if (is_tchar(c)) {
            match_char(st, hdr_names, 4, c);
            return A_OK;
        }
        if (c != ':')
            return A_BAD;
        st->hdr = (uint8_t)(match_result(st, hdr_names, 4) + 1);
        st->num = 0;
        st->ndig = 0;
        match_start(st, st->hdr == HDR_CONN ? 3 : 1);
        st->state = S_HLWS;
        return A_OK;
    case S_HLWS:
        if (c == ' ' || c == '\t')
            return A_OK;
        st->state = S_HVALUE;
        /* fall through */
    case S_HVALUE:
        if (c == '\r') {
            st->state = S_HVALUE_LF;
            return A_OK;
        }
        if (c == '\n')
            return header_line_end(st);
        return value_char(st, c);
    case S_HVALUE_LF:
        if (c != '\n')
            return A_BAD;
        return header_line_end(st);
    case S_HEND_LF:
        if (c != '\n')
            return A_BAD;
        return head_end(st);

    /* ---- chunk framing ---- */
    case S_CSIZE:
        v = hexval(c);
        if (v >= 0) {
            if (st->num >> 60)
                return A_BAD; /* would overflow 64 bits */
            st->num = (st->num << 4) | (uint64_t)v;
            st->ndig = 1;
            return A_OK;
        }
        if (!st->ndig)
            return A_BAD;
        /* fall through */
    case S_CSIZE_WS:
        if (c == ' ' || c == '\t')
            st->state = S_CSIZE_WS;
        else if (c == ';')
            st->state = S_CEXT;
        else if (c == '\r')
            st->state = S_CSIZE_LF;
        else if (c == '\n')
            chunk_size_done(st);
        else
            return A_BAD;
        return A_OK;
    case S_CEXT:
        if (c == '\r')
            st->state = S_CSIZE_LF;
        else if (c == '\n')
            chunk_size_done(st);
        else if (!is_vchar(c))
            return A_BAD;
        return A_OK;
    case S_CSIZE_LF:
        if (c != '\n')
            return A_BAD;
        chunk_size_done(st);
        return A_OK;
    case S_CDATA_CR:
        if (c == '\r') {
            st->state = S_CDATA_LF;
            return A_OK;
        }
        if (c != '\n')
            return A_BAD;
        chunk_line_start(st);
        return A_OK;
    case S_CDATA_LF:
        if (c != '\n')
            return A_BAD;
        chunk_line_start(st);
        return A_OK;
    default:
        return A_BAD;
    }
}

/* begin: reset the per-message fields (mode and req_method stay) and enter
 * the first state of a request or status line. */
static void begin(struct shim_h1 *st)
{
    uint8_t mode = st->mode, req = st->req_method;
    memset(st, 0, offsetof(struct shim_h1, path));
    st->mode = mode;
    st->req_method = req;
    st->state = mode == SHIM_H1_RESPONSE ? S_RVER : S_METHOD;
}

/* fill: describe the current message in *ev as an event of the given type. */
static void fill(const struct shim_h1 *st, uint8_t type, struct shim_h1_event *ev)
{
    ev->type = type;
    ev->method = st->mode == SHIM_H1_RESPONSE ? st->req_method : st->method;
    ev->minor = st->minor;
    ev->body = st->body;
    ev->status = st->status;
    ev->flags = st->flags;
    ev->path_len = st->mode == SHIM_H1_RESPONSE ? 0 : st->path_len;
    ev->path = st->path;
    ev->content_length = st->cl;
    ev->body_bytes = st->body_bytes;
}

/* finish: report DONE in *ev and get ready for the next message (or stop
 * after an upgrade). A final response uses up the caller's req_method. */
static void finish(struct shim_h1 *st, struct shim_h1_event *ev)
{
    fill(st, SHIM_H1_EV_DONE, ev);
    st->state = S_IDLE;
    if (st->mode == SHIM_H1_RESPONSE) {
        if (st->flags & SHIM_H1_F_UPGRADE)
            st->state = S_UPGRADED;
        else if (!(st->flags & SHIM_H1_F_INTERIM))
            st->req_method = SHIM_HTTP_OTHER;
    }
}

/* shim_h1_init: see http1.h. */
void shim_h1_init(struct shim_h1 *st, enum shim_h1_mode mode)
{
    memset(st, 0, sizeof(*st));
    st->mode = (uint8_t)mode;
}

/* shim_h1_request_so_far: see http1.h. */
int shim_h1_request_so_far(const struct shim_h1 *st, struct shim_h1_event *ev)
{
    if (st->mode != SHIM_H1_REQUEST || !st->rl)
        return 0;
    ev->method = st->method;
    ev->path = st->path;
    ev->path_len = st->path_len;
    return 1;
}

/* shim_h1_expect: see http1.h. */
void shim_h1_expect(struct shim_h1 *st, enum shim_http_method m)
{
    st->req_method = (uint8_t)m;
}

/*
 * scan_run: the index of the first byte of buf[j..n) that is a CTL below
 * lim other than `allowed`, or DEL, or n. Bytes from lim up (obs-text
 * included) pass. Sixteen bytes at a time with SSE2 where the whole block is
 * inside the buffer; never reads past n. Inlined with constant lim/allowed.
 */
static inline __attribute__((always_inline)) size_t scan_run(const uint8_t *buf, size_t j, size_t n, uint8_t lim,
                                                             uint8_t allowed)
{
#if defined(__SSE2__)
    const __m128i flip = _mm_set1_epi8((char)0x80), vlim = _mm_set1_epi8((char)(lim ^ 0x80));
    const __m128i ok = _mm_set1_epi8((char)allowed), del = _mm_set1_epi8(0x7f);
    while (j + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + j));
        __m128i ctl = _mm_cmplt_epi8(_mm_xor_si128(v, flip), vlim); /* v < lim, unsigned */
        __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, ok), ctl), _mm_cmpeq_epi8(v, del));
        int mask = _mm_movemask_epi8(bad);
        if (mask)
            return j + (size_t)__builtin_ctz((unsigned)mask);
        j += 16;
    }
#endif
    while (j < n && (buf[j] >= lim ? buf[j] != 0x7f : buf[j] == allowed))
        j++;
    return j;
}

/* scan_vchar: the first byte of buf[j..n) that is not a field-value byte
 * (HTAB, SP..~, obs-text), or n. */
static size_t scan_vchar(const uint8_t *buf, size_t j, size_t n)
{
    return scan_run(buf, j, n, 0x20, '\t');
}

/* scan_target: the first byte of buf[0..n) that cannot be in a request
 * target (a CTL, space or DEL; obs-text passes), or n. 0xff as `allowed`
 * is never below lim: no exception. */
static size_t scan_target(const uint8_t *buf, size_t n)
{
    return scan_run(buf, 0, n, 0x21, 0xff);
}

/*
 * fast_scan: the bytes of a run that step() would accept one by one without
 * changing anything but the head byte count (an uninterpreted header value,
 * a reason phrase, a header name no longer matching any interpreted header)
 * or the path copy (request target), taken in one tight loop. Returns how
 * many bytes of buf it took; the byte that stops it (CR, LF, ':', a space,
 * a bad byte, or the head cap) is left to step(), so the outcome is exactly
 * step()'s, byte for byte.
 */
static size_t fast_scan(struct shim_h1 *restrict st, const uint8_t *restrict buf, size_t len)
{
    size_t room = SHIM_H1_HEAD_CAP - (st->hbytes < SHIM_H1_HEAD_CAP ? st->hbytes : SHIM_H1_HEAD_CAP);
    size_t n = len < room ? len : room, j = 0;
    switch (st->state) {
    case S_HVALUE:
        if (st->hdr != HDR_NONE)
            return 0;
        /* fall through */
    case S_REASON:
        j = scan_vchar(buf, 0, n);
        break;
    case S_HNAME:
        if (st->mmask)
            return 0;
        while (j < n && is_tchar(buf[j]))
            j++;
        if (st->mpos + j > 255)
            st->mpos = 255;
        else
            st->mpos = (uint8_t)(st->mpos + j);
        break;
    case S_TARGET: {
        j = scan_target(buf, n);
        size_t keep = SHIM_H1_PATH_CAP - st->path_len;
        if (j > keep)
            st->flags |= SHIM_H1_F_PATH_TRUNC;
        else
            keep = j;
        memcpy(st->path + st->path_len, buf, keep);
        st->path_len = (uint16_t)(st->path_len + keep);
        break;
    }
    default:
        break;
    }
    st->hbytes += (uint32_t)j;
    return j;
}

/* word: 8 bytes of p, in host order, with no alignment needed. */
static inline uint64_t word(const void *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* same_ci: 1 if the n (8..16) bytes of name equal the lowercase s of the
 * same length, ignoring ASCII case. Two overlapping 8-byte words with 0x20
 * ORed in: exact for a name of tchars against letters and '-', because no
 * tchar but an uppercase letter turns into one of those under | 0x20. */
static inline int same_ci(const uint8_t *name, const char *s, size_t n)
{
    const uint64_t up = 0x2020202020202020ull;
    return ((word(name) | up) == word(s)) && ((word(name + n - 8) | up) == word(s + n - 8));
}

/* interpreted: which header step() would interpret name[0..n), a run of
 * tchars, as (HDR_CL, HDR_TE, HDR_CONN, HDR_UPG), or 0 (HDR_NONE). */
static int interpreted(const uint8_t *name, size_t n)
{
    switch (n) {
    case 14:
        return same_ci(name, hdr_names[0].s, 14) ? HDR_CL : HDR_NONE;
    case 17:
        return same_ci(name, hdr_names[1].s, 16) && (name[16] | 0x20) == 'g' ? HDR_TE : HDR_NONE;
    case 10:
        return same_ci(name, hdr_names[2].s, 10) ? HDR_CONN : HDR_NONE;
    case 7:
        for (size_t m = 0; m < 7; m++)
            if (lower(name[m]) != (uint8_t)hdr_names[3].s[m])
                return HDR_NONE;
        return HDR_UPG;
    default:
        return HDR_NONE;
    }
}

/*
 * name_colon: the index of the ':' that ends a header name starting at
 * buf[i], found sixteen bytes at a time when the name is only letters,
 * digits and '-' (all tchars) and its ':' is within those sixteen bytes;
 * otherwise 0, and the caller scans the name a byte at a time. Reads only
 * buf[i..i+16), and only when that is inside len.
 */
static size_t name_colon(const uint8_t *buf, size_t i, size_t len)
{
#if defined(__SSE2__)
    if (i + 16 > len)
        return 0;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
    /* (v | 0x20) - 'a' < 26, and v - '0' < 10, as signed compares after a shift by 0x80 */
    __m128i lo = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_cmplt_epi8(_mm_add_epi8(lo, _mm_set1_epi8((char)(0x80 - 'a'))), _mm_set1_epi8((char)(0x80 + 26)));
    __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0'))), _mm_set1_epi8((char)(0x80 + 10)));
    __m128i ok = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
    unsigned stop = ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
    unsigned colon = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')));
    if (!stop)
        return 0;
    unsigned at = (unsigned)__builtin_ctz(stop);
    return at > 0 && (colon >> at) & 1u ? i + at : 0;
#else
    (void)buf, (void)i, (void)len;
    return 0;
#endif
}

/*
 * fast_lines: whole header lines that no rule interprets (a name that is not
 * Content-Length, Transfer-Encoding, Connection or Upgrade: its first letter
 * tells), taken a line at a time when the line is complete in buf. The state
 * afterwards is exactly what step() leaves after such a line; anything else
 * (an interpreted header, a partial line, a bad byte, the head cap) is left
 * to step(). Returns the bytes taken.
 */
static size_t fast_lines(struct shim_h1 *restrict st, const uint8_t *restrict buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = name_colon(buf, i, len);
        if (!j) {
            if (!is_tchar(buf[i]))
                break;
            j = i + 1;
            while (j < len && is_tchar(buf[j]))
                j++;
        }
        if (j >= len || buf[j] != ':')
            break;
        int which = (st->hbits & H_TRAILER) ? 0 : interpreted(buf + i, j - i);
        if (which != 0 && which != HDR_CL && which != HDR_CONN)
            break;
        j++;
        size_t v0 = j;
        j = scan_vchar(buf, j, len);
        size_t v1 = j, end;
        if (j < len && buf[j] == '\n')
            end = j + 1;
        else if (j + 1 < len && buf[j] == '\r' && buf[j + 1] == '\n')
            end = j + 2;
        else
            break;
        if (st->hbytes + (end - i) > SHIM_H1_HEAD_CAP)
            break;
        /* the value without its surrounding whitespace */
        while (v0 < v1 && (buf[v0] == ' ' || buf[v0] == '\t'))
            v0++;
        while (v1 > v0 && (buf[v1 - 1] == ' ' || buf[v1 - 1] == '\t'))
            v1--;
        if (which == HDR_CL) {
            uint64_t v = 0;
            size_t k = v0;
            for (; k < v1 && buf[k] >= '0' && buf[k] <= '9'; k++) {
                unsigned d = (unsigned)(buf[k] - '0');
                if (v > (UINT64_MAX - d) / 10)
                    break;
                v = v * 10 + d;
            }
            if (k == v0 || k != v1 || ((st->hbits & H_CL) && st->cl != v))
                break; /* not plain digits, or a conflict: step() says what is wrong */
            st->cl = v;
            st->num = v;
            st->ndig = 1;
            st->hbits |= H_CL;
            st->hdr = HDR_CL;
        } else if (which == HDR_CONN) {
            size_t n = v1 - v0, m = 0;
            unsigned bit;
            if (n == 5)
                bit = C_CLOSE;
            else if (n == 10)
                bit = C_KEEPALIVE;
            else
                break;
            const char *tok = bit == C_CLOSE ? "close" : "keep-alive";
            while (m < n && lower(buf[v0 + m]) == (uint8_t)tok[m])
                m++;
            if (m != n)
                break;
            st->conn = (uint8_t)(st->conn | bit);
            st->hdr = HDR_CONN;
            st->num = 0;
            st->ndig = 0;
        } else {
            st->hdr = HDR_NONE;
            st->num = 0;
            st->ndig = 0;
        }
        st->hbytes += (uint32_t)(end - i);
        st->hbits |= H_ANY;
        match_start(st, 1);
        i = end;
    }
    return i;
}

/*
 * fast_start: the rest of a request or status line when it is all in buf
 * and plain ("GET /x HTTP/1.1" with single spaces, "HTTP/1.1 200 OK"), left
 * in the state step() would leave it in. Anything unusual is left to
 * step(). Returns the bytes taken.
 */
static size_t fast_start(struct shim_h1 *restrict st, const uint8_t *restrict buf, size_t len)
{
    size_t j = 0;
    if (st->hbytes + len > SHIM_H1_HEAD_CAP)
        return 0;
    if (st->state == S_METHOD) {
        size_t m = st->mpos;
        while (j < len && m < 16 && ((buf[j] >= 'A' && buf[j] <= 'Z') || buf[j] == '-' || buf[j] == '_'))
            st->path[m++] = buf[j++];
        if (j >= len || buf[j] != ' ' || m == 0 || m > 16) {
            st->hbytes += (uint32_t)j;
            st->mpos = (uint8_t)m;
            return j;
        }
        st->mpos = (uint8_t)m;
        st->method = identify_method(st);
        st->state = S_TGT_SP;
        st->rl = 1;
        j++;
        st->hbytes += (uint32_t)j;
        return j;
    }
    if (st->state == S_VER_SP) {
        /* "HTTP/1.d" then CRLF or LF */
        if (len < 9 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' || buf[7] > '9')
            return 0;
        if (buf[8] == '\n')
            j = 9;
        else if (len >= 10 && buf[8] == '\r' && buf[9] == '\n')
            j = 10;
        else
            return 0;
        st->mpos = 7;
        st->minor = (uint8_t)(buf[7] - '0');
        st->state = S_HSTART;
        st->hbytes += (uint32_t)j;
        return j;
    }
    if (st->state == S_RVER && st->mpos == 1) {
        /* "TTP/1.d DDD" and then a space, CR or LF (left to step) */
        if (len < 11 || memcmp(buf, "TTP/1.", 6) != 0 || buf[6] < '0' || buf[6] > '9' || buf[7] != ' ' ||
            buf[8] < '1' || buf[8] > '9' || buf[9] < '0' || buf[9] > '9' || buf[10] < '0' || buf[10] > '9')
            return 0;
        st->mpos = 7;
        st->minor = (uint8_t)(buf[6] - '0');
        st->mend = 1;
        st->status = (uint16_t)((buf[8] - '0') * 100 + (buf[9] - '0') * 10 + (buf[10] - '0'));
        st->ndig = 3;
        st->state = S_STATUS_END;
        st->hbytes += 11;
        return 11;
    }
    return 0;
}

/* shim_h1_feed: see http1.h. */
int shim_h1_feed(struct shim_h1 *restrict st, const uint8_t *restrict buf, size_t len,
                 struct shim_h1_event *ev, size_t *consumed)
{
    size_t i = 0, take;
    int r;

    *consumed = 0;
    switch (st->state) {
    case S_BAD:
    case S_CLOSED:
        return SHIM_H1_BAD;
    case S_UPGRADED:
        return SHIM_H1_UPGRADED;
    case S_PENDING_DONE:
        finish(st, ev);
        return SHIM_H1_EVENT;
    default:
        break;
    }

    while (i < len) {
        switch (st->state) {
        case S_BODY_LEN:
        case S_CDATA:
            take = len - i;
            if (take > st->remaining)
                take = (size_t)st->remaining;
            st->remaining -= take;
            st->body_bytes += take;
            i += take;
            if (st->remaining)
                continue;
            if (st->state == S_CDATA) {
                st->state = S_CDATA_CR;
                continue;
            }
            finish(st, ev);
            *consumed = i;
            return SHIM_H1_EVENT;
        case S_BODY_CLOSE:
            st->body_bytes += len - i;
            i = len;
            continue;
        case S_IDLE:
            if (buf[i] == '\r' || buf[i] == '\n') {
                i++;
                continue;
            }
            begin(st);
            if (step(st, buf[i]) != A_OK) {
                st->state = S_BAD;
                *consumed = i;
                return SHIM_H1_BAD;
            }
            fill(st, SHIM_H1_EV_BEGIN, ev);
            *consumed = i + 1;
            return SHIM_H1_EVENT;
        case S_METHOD:
        case S_VER_SP:
        case S_RVER:
            i += fast_start(st, buf + i, len - i);
            if (i == len)
                continue;
            if (st->state == S_HSTART)
                i += fast_lines(st, buf + i, len - i);
            if (i == len)
                continue;
            break;
        case S_HSTART:
            i += fast_lines(st, buf + i, len - i);
            if (i == len)
                continue;
            break;
        case S_HVALUE:
        case S_REASON:
        case S_TARGET:
        case S_HNAME:
            i += fast_scan(st, buf + i, len - i);
            if (i == len)
                continue;
            break;
        default:
            break;
        }
        r = step(st, buf[i]);
        if (r == A_OK) {
            i++;
            continue;
        }
        if (r == A_BAD) {
            st->state = S_BAD;
            *consumed = i;
            return SHIM_H1_BAD;
        }
        i++;
        *consumed = i;
        if (r == A_HEAD)
            fill(st, SHIM_H1_EV_HEAD, ev);
        else
            finish(st, ev);
        return SHIM_H1_EVENT;
    }
    *consumed = len;
    return SHIM_H1_NEED_MORE;
}

/* shim_h1_eof: see http1.h. */
int shim_h1_eof(struct shim_h1 *st, struct shim_h1_event *ev)
{
    switch (st->state) {
    case S_IDLE:
        st->state = S_CLOSED;
        return SHIM_H1_IDLE;
    case S_CLOSED:
        return SHIM_H1_IDLE;
    case S_BAD:
        return SHIM_H1_BAD;
    case S_UPGRADED:
        return SHIM_H1_UPGRADED;
    case S_PENDING_DONE:
    case S_BODY_CLOSE:
        finish(st, ev);
        st->state = S_CLOSED;
        return SHIM_H1_EVENT;
    default:
        fill(st, SHIM_H1_EV_TRUNCATED, ev);
        st->state = S_CLOSED;
        return SHIM_H1_TRUNCATED;
    }
}

/* detect_prefix: 1 if buf starts with the whole of pat, -1 if buf (short)
 * is a proper prefix of pat, 0 otherwise. */
static int detect_prefix(const uint8_t *buf, size_t len, const char *pat, size_t plen)
{
    size_t n = len < plen ? len : plen;
    if (memcmp(buf, pat, n) != 0)
        return 0;
    return len >= plen ? 1 : -1;
}

/* shim_h1_detect_request: see http1.h. */
int shim_h1_detect_request(const uint8_t *buf, size_t len)
{
    static const struct tok reqs[] = {
        {"GET ", 4}, {"HEAD ", 5}, {"POST ", 5}, {"PUT ", 4}, {"DELETE ", 7},
        {"CONNECT ", 8}, {"OPTIONS ", 8}, {"TRACE ", 6}, {"PATCH ", 6}};
    unsigned k;
    int r, partial = 0;

    if (len == 0)
        return -1;
    for (k = 0; k < NELEM(reqs); k++) {
        r = detect_prefix(buf, len, reqs[k].s, reqs[k].len);
        if (r == 1)
            return 1;
        if (r < 0)
            partial = 1;
    }
    return partial ? -1 : 0;
}

/* shim_h1_detect_response: see http1.h. */
int shim_h1_detect_response(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return -1;
    return detect_prefix(buf, len, "HTTP/1.", 7);
}

/* shim_http_method_name: see http1.h. */
const char *shim_http_method_name(enum shim_http_method m)
{
    if ((unsigned)m >= SHIM_HTTP_METHOD_COUNT)
        return method_names[SHIM_HTTP_OTHER].s;
    return method_names[m].s;
}
