/*
 * test_http1.c - unit tests of the incremental HTTP/1.x parser
 * (shim/proto/http1.c).
 *
 * Every message is fed (a) whole, (b) one byte at a time, (c) split in two at
 * every byte position and (d) in a few pseudo-random partitions; each run
 * must give the same trace (events, their fields and their stream offsets),
 * and the whole run must match the expected trace written here. Every chunk
 * handed to the parser is copied so that it ends right at a PROT_NONE page:
 * reading one byte past what it was given crashes the test.
 */
#include "shim/proto/http1.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

/* ---------------------------------------------------------------- guard */

#define AREA (64 * 1024)
#include "guard.h"

/* ---------------------------------------------------------------- traces */

#define MAXREC 64

/* One thing the caller saw: an event, or a final return code. */
struct rec {
    int rc;
    uint8_t type, method, minor, body;
    uint16_t status, flags, path_len;
    uint64_t cl, bb;
    uint64_t off; /* stream offset just after the event */
    uint8_t path[SHIM_H1_PATH_CAP];
};

struct trace {
    int n;
    int overflow;
    struct rec r[MAXREC];
};

/* How to play the caller. */
struct opts {
    int mode;                /* SHIM_H1_REQUEST / SHIM_H1_RESPONSE */
    const uint8_t *expect;   /* response mode: methods of the requests answered, in order */
    size_t nexpect;
    int eof;                 /* call shim_h1_eof after the last byte */
};

/* record: append one rec built from rc and ev (ev may be NULL). */
static void record(struct trace *t, int rc, const struct shim_h1_event *ev, uint64_t off)
{
    struct rec *r;
    if (t->n >= MAXREC) {
        t->overflow = 1;
        return;
    }
    r = &t->r[t->n++];
    memset(r, 0, sizeof(*r));
    r->rc = rc;
    r->off = off;
    if (ev) {
        r->type = ev->type;
        r->method = ev->method;
        r->minor = ev->minor;
        r->body = ev->body;
        r->status = ev->status;
        r->flags = ev->flags;
        r->path_len = ev->path_len;
        r->cl = ev->content_length;
        r->bb = ev->body_bytes;
        if (ev->path_len <= SHIM_H1_PATH_CAP)
            memcpy(r->path, ev->path, ev->path_len);
    }
}

/*
 * run: feed in[0..len) to a fresh parser in the chunks delimited by the
 * ncuts ascending offsets of cuts, as a careful caller would (loop until
 * NEED_MORE, set the expected request method at each BEGIN), and record
 * the trace.
 */
static void run(const uint8_t *in, size_t len, const struct opts *o,
                const size_t *cuts, size_t ncuts, struct trace *t)
{
    struct shim_h1 st;
    struct shim_h1_event ev;
    size_t qi = 0, ci, a = 0, b, off, c, zero_events = 0;
    int rc;

    memset(t, 0, sizeof(*t));
    shim_h1_init(&st, (enum shim_h1_mode)o->mode);
    if (o->mode == SHIM_H1_RESPONSE && o->nexpect)
        shim_h1_expect(&st, (enum shim_http_method)o->expect[0]);
    for (ci = 0; ci <= ncuts; ci++, a = b) {
        const uint8_t *p;
        b = ci < ncuts ? cuts[ci] : len;
        p = at_guard(in + a, b - a);
        off = 0;
        for (;;) {
            memset(&ev, 0xA5, sizeof(ev));
            rc = shim_h1_feed(&st, p + off, b - a - off, &ev, &c);
            CHECK(c <= b - a - off);
            if (rc == SHIM_H1_EVENT) {
                off += c;
                zero_events = c ? 0 : zero_events + 1;
                CHECK(zero_events < 2);
                if (zero_events >= 2)
                    return;
                CHECK(ev.path_len <= SHIM_H1_PATH_CAP);
                record(t, rc, &ev, a + off);
                /* pipelining style: the next response's request method is
                 * given as soon as the previous final response is done */
                if (o->mode == SHIM_H1_RESPONSE && ev.type == SHIM_H1_EV_DONE &&
                    !(ev.flags & SHIM_H1_F_INTERIM) && ++qi < o->nexpect)
                    shim_h1_expect(&st, (enum shim_http_method)o->expect[qi]);
                continue;
            }
            if (rc == SHIM_H1_NEED_MORE) {
                CHECK_EQ(off + c, b - a);
                break;
            }
            /* BAD or UPGRADED: the caller stops parsing; both are sticky */
            CHECK(c == 0 || rc == SHIM_H1_BAD);
            record(t, rc, NULL, a + off + c);
            CHECK_EQ(shim_h1_feed(&st, p, b - a, &ev, &c), rc);
            CHECK_EQ(c, 0);
            return;
        }
    }
    if (o->eof) {
        memset(&ev, 0xA5, sizeof(ev));
        rc = shim_h1_eof(&st, &ev);
        record(t, rc, (rc == SHIM_H1_EVENT || rc == SHIM_H1_TRUNCATED) ? &ev : NULL, len);
        /* after eof: closed */
        CHECK_EQ(shim_h1_eof(&st, &ev), rc == SHIM_H1_BAD || rc == SHIM_H1_UPGRADED ? rc : SHIM_H1_IDLE);
    }
}

/* rec_eq: 1 if two recs are the same. */
static int rec_eq(const struct rec *x, const struct rec *y)
{
    return x->rc == y->rc && x->type == y->type && x->method == y->method && x->minor == y->minor &&
           x->body == y->body && x->status == y->status && x->flags == y->flags &&
           x->path_len == y->path_len && x->cl == y->cl && x->bb == y->bb && x->off == y->off &&
           memcmp(x->path, y->path, x->path_len) == 0;
}

/* trace_diff: index of the first difference between two traces, or -1. */
static int trace_diff(const struct trace *x, const struct trace *y)
{
    int i;
    for (i = 0; i < x->n && i < y->n; i++)
        if (!rec_eq(&x->r[i], &y->r[i]))
            return i;
    return x->n == y->n && x->overflow == y->overflow ? -1 : i;
}

/* dump: print a trace on stderr (for failures). */
static void dump(const char *what, const struct trace *t)
{
    int i;
    fprintf(stderr, "  %s:\n", what);
    for (i = 0; i < t->n; i++) {
        const struct rec *r = &t->r[i];
        fprintf(stderr, "    rc=%d type=%u method=%u minor=%u body=%u status=%u flags=0x%x cl=%llu bb=%llu off=%llu path=%.*s\n",
                r->rc, r->type, r->method, r->minor, r->body, r->status, r->flags,
                (unsigned long long)r->cl, (unsigned long long)r->bb, (unsigned long long)r->off,
                (int)r->path_len, (const char *)r->path);
    }
}

/* ---------------------------------------------------------------- expectations */

/* An expected rec; path NULL = don't check the path. */
struct exp {
    int rc;
    uint8_t type, method;
    uint16_t status;
    uint8_t body;
    uint16_t flags;
    const char *path;
    uint64_t cl, bb;
    uint64_t off;
    uint8_t minor;
};

#define HD SHIM_H1_F_HEAD_DONE
#define XB(o) {SHIM_H1_EVENT, SHIM_H1_EV_BEGIN, 0, 0, 0, 0, NULL, 0, 0, (o), 0}
#define XBM(m, o) {SHIM_H1_EVENT, SHIM_H1_EV_BEGIN, (m), 0, 0, 0, NULL, 0, 0, (o), 0}
#define XH(m, s, body, fl, path, cl, minor, o) \
    {SHIM_H1_EVENT, SHIM_H1_EV_HEAD, (m), (s), (body), (uint16_t)((fl) | HD), (path), (cl), 0, (o), (minor)}
#define XD(m, s, body, fl, path, cl, bb, minor, o) \
    {SHIM_H1_EVENT, SHIM_H1_EV_DONE, (m), (s), (body), (uint16_t)((fl) | HD), (path), (cl), (bb), (o), (minor)}
#define XRC(rc, o) {(rc), 0, 0, 0, 0, 0, NULL, 0, 0, (o), 0}

/* check_expected: compare a trace with the expected list. */
static int check_expected(const struct trace *t, const struct exp *x, size_t nx)
{
    size_t i;
    unsigned long before = unit_failures;
    CHECK_EQ(t->n, nx);
    for (i = 0; i < nx && i < (size_t)t->n; i++) {
        const struct rec *r = &t->r[i];
        CHECK_MSG(r->rc == x[i].rc, "rec %zu rc %d want %d", i, r->rc, x[i].rc);
        CHECK_MSG(r->off == x[i].off, "rec %zu off %llu want %llu", i,
                  (unsigned long long)r->off, (unsigned long long)x[i].off);
        if (x[i].rc != SHIM_H1_EVENT && x[i].rc != SHIM_H1_TRUNCATED)
            continue;
        CHECK_MSG(r->type == x[i].type, "rec %zu type %u want %u", i, r->type, x[i].type);
        CHECK_MSG(r->method == x[i].method, "rec %zu method %u want %u", i, r->method, x[i].method);
        if (x[i].type == SHIM_H1_EV_BEGIN)
            continue;
        CHECK_MSG(r->status == x[i].status, "rec %zu status %u want %u", i, r->status, x[i].status);
        CHECK_MSG(r->body == x[i].body, "rec %zu body %u want %u", i, r->body, x[i].body);
        CHECK_MSG(r->flags == x[i].flags, "rec %zu flags 0x%x want 0x%x", i, r->flags, x[i].flags);
        CHECK_MSG(r->cl == x[i].cl, "rec %zu cl %llu want %llu", i, (unsigned long long)r->cl,
                  (unsigned long long)x[i].cl);
        CHECK_MSG(r->bb == x[i].bb, "rec %zu body_bytes %llu want %llu", i,
                  (unsigned long long)r->bb, (unsigned long long)x[i].bb);
        CHECK_MSG(r->minor == x[i].minor, "rec %zu minor %u want %u", i, r->minor, x[i].minor);
        if (x[i].path)
            CHECK_MEMEQ(r->path, r->path_len, x[i].path, strlen(x[i].path));
    }
    return unit_failures == before;
}

static size_t cutbuf[AREA];

/* lcg: tiny deterministic PRNG for the random partitions. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

/*
 * check_case: the heart of the tests: expected trace for the whole input,
 * then the same trace byte by byte, at every split (every stride-th for big
 * inputs) and in random partitions.
 */
static void check_case(const char *name, const void *vin, size_t len, const struct opts *o,
                       const struct exp *x, size_t nx)
{
    const uint8_t *in = vin;
    static struct trace whole, t;
    size_t k, n, stride = len > 4096 ? len / 512 + 1 : 1;
    uint32_t seed = 12345;
    int d, r;

    unit_set_context("%s: whole", name);
    run(in, len, o, NULL, 0, &whole);
    if (!check_expected(&whole, x, nx))
        dump("got", &whole);

    unit_set_context("%s: byte by byte", name);
    for (k = 1; k < len; k++)
        cutbuf[k - 1] = k;
    run(in, len, o, cutbuf, len ? len - 1 : 0, &t);
    d = trace_diff(&whole, &t);
    CHECK_MSG(d < 0, "differs from whole at rec %d", d);

    for (k = 0; k <= len; k += stride) {
        unit_set_context("%s: split at %zu", name, k);
        run(in, len, o, &k, 1, &t);
        d = trace_diff(&whole, &t);
        CHECK_MSG(d < 0, "differs from whole at rec %d", d);
        if (d >= 0) {
            dump("whole", &whole);
            dump("split", &t);
            break;
        }
    }

    for (r = 0; r < 20; r++) {
        unit_set_context("%s: random partition %d", name, r);
        n = 0;
        for (k = lcg(&seed) % 7; k < len && n < AREA; k += 1 + lcg(&seed) % 13)
            cutbuf[n++] = k;
        run(in, len, o, cutbuf, n, &t);
        d = trace_diff(&whole, &t);
        CHECK_MSG(d < 0, "differs from whole at rec %d", d);
    }
    unit_set_context("%s", "");
}

#define S(lit) (lit), (sizeof(lit) - 1)
#define NX(a) (sizeof(a) / sizeof((a)[0]))

static const struct opts REQ = {SHIM_H1_REQUEST, NULL, 0, 0};
static const struct opts REQ_EOF = {SHIM_H1_REQUEST, NULL, 0, 1};

/* after: offset just after the nth (1-based) occurrence of needle in hay. */
static uint64_t after(const char *hay, size_t len, const char *needle, int nth)
{
    size_t nl = strlen(needle), i;
    for (i = 0; i + nl <= len; i++)
        if (memcmp(hay + i, needle, nl) == 0 && --nth == 0)
            return i + nl;
    fprintf(stderr, "after: %s not found\n", needle);
    exit(2);
}

/* ---------------------------------------------------------------- good messages */

/* A GET with headers (empty and padded values): bodyless, then clean eof. */
static void test_get_with_headers(void)
{
    static const char m[] = "GET /api/v1/users/42?x=1&y=%20 HTTP/1.1\r\n"
                            "Host: example.com\r\n"
                            "User-Agent: curl/8.0.1\r\n"
                            "Accept: */*\r\n"
                            "X-Empty:\r\n"
                            "X-Spaces: \t  padded  \t\r\n\r\n";
    size_t len = sizeof(m) - 1;
    const struct exp x[] = {
        XB(1),
        XH(SHIM_HTTP_GET, 0, SHIM_H1_BODY_NONE, 0, "/api/v1/users/42?x=1&y=%20", 0, 1, len),
        XD(SHIM_HTTP_GET, 0, SHIM_H1_BODY_NONE, 0, "/api/v1/users/42?x=1&y=%20", 0, 0, 1, len),
    };
    check_case("get", m, len, &REQ, x, NX(x));
    check_case("get+eof", m, len, &REQ_EOF, (const struct exp[]){x[0], x[1], x[2], XRC(SHIM_H1_IDLE, len)}, 4);
}

/* Content-Length bodies (also 0 and repeated), a chunked request body. */
static void test_post_content_length(void)
{
    static const char m[] = "POST /orders HTTP/1.1\r\n"
                            "Host: shop\r\n"
                            "Content-Type: application/json\r\n"
                            "content-LENGTH:   13  \r\n"
                            "\r\n"
                            "{\"a\":\"hello\"}";
    size_t len = sizeof(m) - 1, h = after(m, len, "\r\n\r\n", 1);
    const struct exp x[] = {
        XB(1),
        XH(SHIM_HTTP_POST, 0, SHIM_H1_BODY_LENGTH, 0, "/orders", 13, 1, h),
        XD(SHIM_HTTP_POST, 0, SHIM_H1_BODY_LENGTH, 0, "/orders", 13, 13, 1, len),
    };
    check_case("post", m, len, &REQ, x, NX(x));

    /* the same Content-Length twice is fine; Content-Length: 0 is bodyless */
    static const char m2[] = "PUT /k HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n";
    size_t len2 = sizeof(m2) - 1;
    const struct exp x2[] = {
        XB(1),
        XH(SHIM_HTTP_PUT, 0, SHIM_H1_BODY_LENGTH, 0, "/k", 0, 1, len2),
        XD(SHIM_HTTP_PUT, 0, SHIM_H1_BODY_LENGTH, 0, "/k", 0, 0, 1, len2),
    };
    check_case("put cl0", m2, len2, &REQ, x2, NX(x2));

    /* chunked request body, TE wins over CL */
    static const char m3[] = "POST /up HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                             "4\r\nabcd\r\n0\r\n\r\n";
    size_t len3 = sizeof(m3) - 1, h3 = after(m3, len3, "\r\n\r\n", 1);
    const struct exp x3[] = {
        XB(1),
        XH(SHIM_HTTP_POST, 0, SHIM_H1_BODY_CHUNKED, 0, "/up", 3, 1, h3),
        XD(SHIM_HTTP_POST, 0, SHIM_H1_BODY_CHUNKED, 0, "/up", 3, 4, 1, len3),
    };
    check_case("post chunked", m3, len3, &REQ, x3, NX(x3));
}

/* Chunked response with extensions, hex case, trailers; TE beats CL. */
static void test_chunked_response(void)
{
    static const char m[] = "HTTP/1.1 200 OK\r\n"
                            "Transfer-Encoding: chunked\r\n"
                            "Content-Length: 999\r\n"
                            "\r\n"
                            "5;name=value\r\nhello\r\n"
                            "6 ; foo=\"bar\"\r\n world\r\n"
                            "00A\r\n0123456789\r\n"
                            "0;last\r\n"
                            "X-Trailer: yes\r\n"
                            "X-Checksum: 1234\r\n"
                            "\r\n";
    static const uint8_t q[] = {SHIM_HTTP_GET};
    const struct opts o = {SHIM_H1_RESPONSE, q, 1, 1};
    size_t len = sizeof(m) - 1, h = after(m, len, "\r\n\r\n", 1);
    const struct exp x[] = {
        XBM(SHIM_HTTP_GET, 1),
        XH(SHIM_HTTP_GET, 200, SHIM_H1_BODY_CHUNKED, 0, "", 999, 1, h),
        XD(SHIM_HTTP_GET, 200, SHIM_H1_BODY_CHUNKED, 0, "", 999, 21, 1, len),
        XRC(SHIM_H1_IDLE, len),
    };
    check_case("chunked response", m, len, &o, x, NX(x));
}

/* A response to HEAD has no body despite Content-Length; the next does. */
static void test_head_response(void)
{
    static const char m[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Length: 1234\r\n"
                            "Content-Type: text/html\r\n"
                            "\r\n"
                            "HTTP/1.1 404 Not Found\r\n"
                            "Content-Length: 3\r\n"
                            "\r\n"
                            "abc";
    static const uint8_t q[] = {SHIM_HTTP_HEAD, SHIM_HTTP_GET};
    const struct opts o = {SHIM_H1_RESPONSE, q, 2, 1};
    size_t len = sizeof(m) - 1, h1 = after(m, len, "\r\n\r\n", 1), h2 = after(m, len, "\r\n\r\n", 2);
    const struct exp x[] = {
        XBM(SHIM_HTTP_HEAD, 1),
        XH(SHIM_HTTP_HEAD, 200, SHIM_H1_BODY_NONE, 0, "", 1234, 1, h1),
        XD(SHIM_HTTP_HEAD, 200, SHIM_H1_BODY_NONE, 0, "", 1234, 0, 1, h1),
        XBM(SHIM_HTTP_GET, h1 + 1),
        XH(SHIM_HTTP_GET, 404, SHIM_H1_BODY_LENGTH, 0, "", 3, 1, h2),
        XD(SHIM_HTTP_GET, 404, SHIM_H1_BODY_LENGTH, 0, "", 3, 3, 1, len),
        XRC(SHIM_H1_IDLE, len),
    };
    check_case("head response", m, len, &o, x, NX(x));
}

/* 204 and 304 have no body; keep-alive carries on. */
static void test_204_304(void)
{
    static const char m[] = "HTTP/1.1 204 No Content\r\n"
                            "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
                            "\r\n"
                            "HTTP/1.1 304 Not Modified\r\n"
                            "ETag: \"abc\"\r\n"
                            "Content-Length: 500\r\n"
                            "\r\n"
                            "HTTP/1.1 200 OK\r\n"
                            "Content-Length: 2\r\n"
                            "\r\n"
                            "ok";
    const struct opts o = {SHIM_H1_RESPONSE, NULL, 0, 0};
    size_t len = sizeof(m) - 1, h1 = after(m, len, "\r\n\r\n", 1), h2 = after(m, len, "\r\n\r\n", 2),
           h3 = after(m, len, "\r\n\r\n", 3);
    const struct exp x[] = {
        XB(1),
        XH(0, 204, SHIM_H1_BODY_NONE, 0, "", 0, 1, h1),
        XD(0, 204, SHIM_H1_BODY_NONE, 0, "", 0, 0, 1, h1),
        XB(h1 + 1),
        XH(0, 304, SHIM_H1_BODY_NONE, 0, "", 500, 1, h2),
        XD(0, 304, SHIM_H1_BODY_NONE, 0, "", 500, 0, 1, h2),
        XB(h2 + 1),
        XH(0, 200, SHIM_H1_BODY_LENGTH, 0, "", 2, 1, h3),
        XD(0, 200, SHIM_H1_BODY_LENGTH, 0, "", 2, 2, 1, len),
    };
    check_case("204 304", m, len, &o, x, NX(x));
}

/* 1xx interim responses, and a HEAD expectation surviving one. */
static void test_100_continue(void)
{
    static const char m[] = "HTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    static const uint8_t q[] = {SHIM_HTTP_POST};
    const struct opts o = {SHIM_H1_RESPONSE, q, 1, 0};
    size_t len = sizeof(m) - 1, h1 = after(m, len, "\r\n\r\n", 1), h2 = after(m, len, "\r\n\r\n", 2);
    const struct exp x[] = {
        XBM(SHIM_HTTP_POST, 1),
        XH(SHIM_HTTP_POST, 100, SHIM_H1_BODY_NONE, SHIM_H1_F_INTERIM, "", 0, 1, h1),
        XD(SHIM_HTTP_POST, 100, SHIM_H1_BODY_NONE, SHIM_H1_F_INTERIM, "", 0, 0, 1, h1),
        XBM(SHIM_HTTP_POST, h1 + 1),
        XH(SHIM_HTTP_POST, 200, SHIM_H1_BODY_LENGTH, 0, "", 5, 1, h2),
        XD(SHIM_HTTP_POST, 200, SHIM_H1_BODY_LENGTH, 0, "", 5, 5, 1, len),
    };
    check_case("100 continue", m, len, &o, x, NX(x));

    /* a HEAD expectation survives the interim response */
    static const char m2[] = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    static const uint8_t q2[] = {SHIM_HTTP_HEAD};
    const struct opts o2 = {SHIM_H1_RESPONSE, q2, 1, 0};
    size_t len2 = sizeof(m2) - 1, g1 = after(m2, len2, "\r\n\r\n", 1);
    const struct exp x2[] = {
        XBM(SHIM_HTTP_HEAD, 1),
        XH(SHIM_HTTP_HEAD, 103, SHIM_H1_BODY_NONE, SHIM_H1_F_INTERIM, "", 0, 1, g1),
        XD(SHIM_HTTP_HEAD, 103, SHIM_H1_BODY_NONE, SHIM_H1_F_INTERIM, "", 0, 0, 1, g1),
        XBM(SHIM_HTTP_HEAD, g1 + 1),
        XH(SHIM_HTTP_HEAD, 200, SHIM_H1_BODY_NONE, 0, "", 5, 1, len2),
        XD(SHIM_HTTP_HEAD, 200, SHIM_H1_BODY_NONE, 0, "", 5, 0, 1, len2),
    };
    check_case("103 then HEAD", m2, len2, &o2, x2, NX(x2));
}

/* 101 ends HTTP (UPGRADED after DONE); an upgrade request is only flagged. */
static void test_101_upgrade(void)
{
    static const char m[] = "HTTP/1.1 101 Switching Protocols\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                            "\r\n"
                            "\x81\x05hello";
    const struct opts o = {SHIM_H1_RESPONSE, NULL, 0, 1};
    size_t len = sizeof(m) - 1, h = after(m, len, "\r\n\r\n", 1);
    const struct exp x[] = {
        XB(1),
        XH(0, 101, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "", 0, 1, h),
        XD(0, 101, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "", 0, 0, 1, h),
        XRC(SHIM_H1_UPGRADED, h),
    };
    check_case("101", m, len, &o, x, NX(x));
    /* the 101 alone, then eof */
    check_case("101 eof", m, h, &o,
               (const struct exp[]){x[0], x[1], x[2], XRC(SHIM_H1_UPGRADED, h)}, 4);

    /* the request side: flagged, parser carries on */
    static const char r[] = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                            "Connection: keep-alive, Upgrade\r\n\r\n";
    size_t rl = sizeof(r) - 1;
    const struct exp xr[] = {
        XB(1),
        XH(SHIM_HTTP_GET, 0, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "/chat", 0, 1, rl),
        XD(SHIM_HTTP_GET, 0, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "/chat", 0, 0, 1, rl),
    };
    check_case("upgrade request", r, rl, &REQ, xr, NX(xr));
}

/* CONNECT: flagged request; a 2xx answer opens a tunnel, a 407 does not. */
static void test_connect(void)
{
    static const char r[] = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    size_t rl = sizeof(r) - 1;
    const struct exp xr[] = {
        XB(1),
        XH(SHIM_HTTP_CONNECT, 0, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "example.com:443", 0, 1, rl),
        XD(SHIM_HTTP_CONNECT, 0, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "example.com:443", 0, 0, 1, rl),
    };
    check_case("connect request", r, rl, &REQ, xr, NX(xr));

    static const char m[] = "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00\x05";
    static const uint8_t q[] = {SHIM_HTTP_CONNECT};
    const struct opts o = {SHIM_H1_RESPONSE, q, 1, 0};
    size_t len = sizeof(m) - 1, h = after(m, len, "\r\n\r\n", 1);
    const struct exp x[] = {
        XBM(SHIM_HTTP_CONNECT, 1),
        XH(SHIM_HTTP_CONNECT, 200, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "", 0, 1, h),
        XD(SHIM_HTTP_CONNECT, 200, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "", 0, 0, 1, h),
        XRC(SHIM_H1_UPGRADED, h),
    };
    check_case("connect response", m, len, &o, x, NX(x));

    /* a refused CONNECT is an ordinary response */
    static const char m2[] = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 200 OK\r\n\r\n";
    static const uint8_t q2[] = {SHIM_HTTP_CONNECT, SHIM_HTTP_CONNECT};
    const struct opts o2 = {SHIM_H1_RESPONSE, q2, 2, 0};
    size_t len2 = sizeof(m2) - 1, g1 = after(m2, len2, "\r\n\r\n", 1), g2 = after(m2, len2, "\r\n\r\n", 2);
    const struct exp x2[] = {
        XBM(SHIM_HTTP_CONNECT, 1),
        XH(SHIM_HTTP_CONNECT, 407, SHIM_H1_BODY_LENGTH, 0, "", 2, 1, g1),
        XD(SHIM_HTTP_CONNECT, 407, SHIM_H1_BODY_LENGTH, 0, "", 2, 2, 1, g1 + 2),
        XBM(SHIM_HTTP_CONNECT, g1 + 3),
        XH(SHIM_HTTP_CONNECT, 200, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "", 0, 1, g2),
        XD(SHIM_HTTP_CONNECT, 200, SHIM_H1_BODY_NONE, SHIM_H1_F_UPGRADE, "", 0, 0, 1, g2),
        XRC(SHIM_H1_UPGRADED, g2),
    };
    check_case("connect 407 then 200", m2, len2, &o2, x2, NX(x2));
}

/* Responses read until close, ended by shim_h1_eof. */
static void test_http10_until_close(void)
{
    static const char m[] = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\n<html>body</html>";
    const struct opts o = {SHIM_H1_RESPONSE, NULL, 0, 1};
    size_t len = sizeof(m) - 1, h = after(m, len, "\r\n\r\n", 1);
    const struct exp x[] = {
        XB(1),
        XH(0, 200, SHIM_H1_BODY_CLOSE, SHIM_H1_F_CLOSE, "", 0, 0, h),
        XD(0, 200, SHIM_H1_BODY_CLOSE, SHIM_H1_F_CLOSE, "", 0, 17, 0, len),
    };
    check_case("1.0 until close", m, len, &o, x, NX(x));

    /* HTTP/1.1 with neither CL nor chunked and an empty body */
    static const char m2[] = "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n";
    size_t len2 = sizeof(m2) - 1;
    const struct exp x2[] = {
        XB(1),
        XH(0, 500, SHIM_H1_BODY_CLOSE, SHIM_H1_F_CLOSE, "", 0, 1, len2),
        XD(0, 500, SHIM_H1_BODY_CLOSE, SHIM_H1_F_CLOSE, "", 0, 0, 1, len2),
    };
    check_case("1.1 close empty", m2, len2, &o, x2, NX(x2));

    /* a non-chunked transfer coding on a response: until close */
    static const char m3[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nxyz";
    size_t len3 = sizeof(m3) - 1, h3 = after(m3, len3, "\r\n\r\n", 1);
    const struct exp x3[] = {
        XB(1),
        XH(0, 200, SHIM_H1_BODY_CLOSE, SHIM_H1_F_CLOSE, "", 2, 1, h3),
        XD(0, 200, SHIM_H1_BODY_CLOSE, SHIM_H1_F_CLOSE, "", 2, 3, 1, len3),
    };
    check_case("gzip until close", m3, len3, &o, x3, NX(x3));
}

/* eof inside a head, a length body, a chunked body; eof between messages. */
static void test_truncated(void)
{
    const struct opts o = {SHIM_H1_RESPONSE, NULL, 0, 1};
    static const char m[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    size_t len = sizeof(m) - 1, h = after(m, len, "\r\n\r\n", 1);
    const struct exp x[] = {
        XB(1),
        XH(0, 200, SHIM_H1_BODY_LENGTH, 0, "", 10, 1, h),
        {SHIM_H1_TRUNCATED, SHIM_H1_EV_TRUNCATED, 0, 200, SHIM_H1_BODY_LENGTH, HD, "", 10, 3, len, 1},
    };
    check_case("truncated body", m, len, &o, x, NX(x));

    static const char m2[] = "HTTP/1.1 503 Unavailable\r\nContent-";
    size_t len2 = sizeof(m2) - 1;
    const struct exp x2[] = {
        XB(1),
        {SHIM_H1_TRUNCATED, SHIM_H1_EV_TRUNCATED, 0, 503, 0, 0, "", 0, 0, len2, 1},
    };
    check_case("truncated head", m2, len2, &o, x2, NX(x2));

    static const char m3[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
    size_t len3 = sizeof(m3) - 1, h3 = after(m3, len3, "\r\n\r\n", 1);
    const struct exp x3[] = {
        XB(1),
        XH(0, 200, SHIM_H1_BODY_CHUNKED, 0, "", 0, 1, h3),
        {SHIM_H1_TRUNCATED, SHIM_H1_EV_TRUNCATED, 0, 200, SHIM_H1_BODY_CHUNKED, HD, "", 0, 3, len3, 1},
    };
    check_case("truncated chunked", m3, len3, &o, x3, NX(x3));

    /* eof right after the request: clean */
    static const char m4[] = "\r\n";
    check_case("only crlf", m4, 2, &REQ_EOF, (const struct exp[]){XRC(SHIM_H1_IDLE, 2)}, 1);
    check_case("empty", "", 0, &REQ_EOF, (const struct exp[]){XRC(SHIM_H1_IDLE, 0)}, 1);
}

/* Three pipelined requests in one buffer, after a stray CRLF. */
static void test_pipelined_requests(void)
{
    static const char m[] = "\r\n"
                            "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                            "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                            "DELETE /c/9 HTTP/1.0\r\nHost: x\r\n\r\n";
    size_t len = sizeof(m) - 1, h1 = after(m, len, "\r\n\r\n", 1), h2 = after(m, len, "\r\n\r\n", 2);
    const struct exp x[] = {
        XB(3),
        XH(SHIM_HTTP_GET, 0, SHIM_H1_BODY_NONE, 0, "/a", 0, 1, h1),
        XD(SHIM_HTTP_GET, 0, SHIM_H1_BODY_NONE, 0, "/a", 0, 0, 1, h1),
        XB(h1 + 1),
        XH(SHIM_HTTP_POST, 0, SHIM_H1_BODY_LENGTH, 0, "/b", 3, 1, h2),
        XD(SHIM_HTTP_POST, 0, SHIM_H1_BODY_LENGTH, 0, "/b", 3, 3, 1, h2 + 3),
        XB(h2 + 4),
        XH(SHIM_HTTP_DELETE, 0, SHIM_H1_BODY_NONE, SHIM_H1_F_CLOSE, "/c/9", 0, 0, len),
        XD(SHIM_HTTP_DELETE, 0, SHIM_H1_BODY_NONE, SHIM_H1_F_CLOSE, "/c/9", 0, 0, 0, len),
        XRC(SHIM_H1_IDLE, len),
    };
    check_case("pipelined", m, len, &REQ_EOF, x, NX(x));
}

/* A keep-alive sequence of responses, each answering a different method. */
static void test_keepalive_responses(void)
{
    static const char m[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n"
                            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n!"
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    static const uint8_t q[] = {SHIM_HTTP_GET, SHIM_HTTP_PATCH, SHIM_HTTP_OPTIONS, SHIM_HTTP_TRACE};
    const struct opts o = {SHIM_H1_RESPONSE, q, 4, 1};
    size_t len = sizeof(m) - 1, h1 = after(m, len, "\r\n\r\n", 1), h2 = after(m, len, "\r\n\r\n", 2),
           e2 = after(m, len, "\r\n\r\n", 3), h3 = after(m, len, "\r\n\r\n", 4);
    const struct exp x[] = {
        XBM(SHIM_HTTP_GET, 1),
        XH(SHIM_HTTP_GET, 200, SHIM_H1_BODY_LENGTH, 0, "", 2, 1, h1),
        XD(SHIM_HTTP_GET, 200, SHIM_H1_BODY_LENGTH, 0, "", 2, 2, 1, h1 + 2),
        XBM(SHIM_HTTP_PATCH, h1 + 3),
        XH(SHIM_HTTP_PATCH, 200, SHIM_H1_BODY_CHUNKED, 0, "", 0, 1, h2),
        XD(SHIM_HTTP_PATCH, 200, SHIM_H1_BODY_CHUNKED, 0, "", 0, 2, 1, e2),
        XBM(SHIM_HTTP_OPTIONS, e2 + 1),
        XH(SHIM_HTTP_OPTIONS, 200, SHIM_H1_BODY_LENGTH, 0, "", 1, 0, h3),
        XD(SHIM_HTTP_OPTIONS, 200, SHIM_H1_BODY_LENGTH, 0, "", 1, 1, 0, h3 + 1),
        XBM(SHIM_HTTP_TRACE, h3 + 2),
        XH(SHIM_HTTP_TRACE, 404, SHIM_H1_BODY_LENGTH, SHIM_H1_F_CLOSE, "", 0, 1, len),
        XD(SHIM_HTTP_TRACE, 404, SHIM_H1_BODY_LENGTH, SHIM_H1_F_CLOSE, "", 0, 0, 1, len),
        XRC(SHIM_H1_IDLE, len),
    };
    check_case("keep-alive responses", m, len, &o, x, NX(x));
}

/* Bare LF line ends in heads, chunk lines and trailers. */
static void test_bare_lf(void)
{
    static const char m[] = "GET /lf HTTP/1.1\nHost: x\nContent-Length: 2\n\nhi";
    size_t len = sizeof(m) - 1, h = after(m, len, "\n\n", 1);
    const struct exp x[] = {
        XB(1),
        XH(SHIM_HTTP_GET, 0, SHIM_H1_BODY_LENGTH, 0, "/lf", 2, 1, h),
        XD(SHIM_HTTP_GET, 0, SHIM_H1_BODY_LENGTH, 0, "/lf", 2, 2, 1, len),
    };
    check_case("bare lf request", m, len, &REQ, x, NX(x));

    static const char m2[] = "HTTP/1.1 200\nTransfer-Encoding: chunked\n\n3\nabc\n0\nT: 1\n\n";
    const struct opts o = {SHIM_H1_RESPONSE, NULL, 0, 0};
    size_t len2 = sizeof(m2) - 1, h2 = after(m2, len2, "\n\n", 1);
    const struct exp x2[] = {
        XB(1),
        XH(0, 200, SHIM_H1_BODY_CHUNKED, 0, "", 0, 1, h2),
        XD(0, 200, SHIM_H1_BODY_CHUNKED, 0, "", 0, 3, 1, len2),
    };
    check_case("bare lf chunked response", m2, len2, &o, x2, NX(x2));
}

/* Connection close / keep-alive rules, obs-fold, *, other methods, HTTP/1.7. */
static void test_connection_flags(void)
{
    static const char m1[] = "GET / HTTP/1.0\r\n\r\n";
    static const char m2[] = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    static const char m3[] = "GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n";
    static const char m4[] = "GET / HTTP/1.1\r\nConnection: closed\r\nX-Folded: a\r\n  b\r\n\r\n";
    static const char m5[] = "OPTIONS * HTTP/1.1\r\n\r\n";
    static const char m6[] = "PROPFIND  /dav/  HTTP/1.1\r\nDepth: 1\r\n\r\n";
    static const char m7[] = "GET /x HTTP/1.7\r\n\r\n";
    check_case("1.0", m1, sizeof(m1) - 1, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_GET, 0, 0, SHIM_H1_F_CLOSE, "/", 0, 0, sizeof(m1) - 1),
        XD(SHIM_HTTP_GET, 0, 0, SHIM_H1_F_CLOSE, "/", 0, 0, 0, sizeof(m1) - 1)}, 3);
    check_case("1.0 keep-alive", m2, sizeof(m2) - 1, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_GET, 0, 0, 0, "/", 0, 0, sizeof(m2) - 1),
        XD(SHIM_HTTP_GET, 0, 0, 0, "/", 0, 0, 0, sizeof(m2) - 1)}, 3);
    check_case("close", m3, sizeof(m3) - 1, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_GET, 0, 0, SHIM_H1_F_CLOSE, "/", 0, 1, sizeof(m3) - 1),
        XD(SHIM_HTTP_GET, 0, 0, SHIM_H1_F_CLOSE, "/", 0, 0, 1, sizeof(m3) - 1)}, 3);
    check_case("closed+fold", m4, sizeof(m4) - 1, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_GET, 0, 0, 0, "/", 0, 1, sizeof(m4) - 1),
        XD(SHIM_HTTP_GET, 0, 0, 0, "/", 0, 0, 1, sizeof(m4) - 1)}, 3);
    check_case("options *", m5, sizeof(m5) - 1, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_OPTIONS, 0, 0, 0, "*", 0, 1, sizeof(m5) - 1),
        XD(SHIM_HTTP_OPTIONS, 0, 0, 0, "*", 0, 0, 1, sizeof(m5) - 1)}, 3);
    check_case("other method", m6, sizeof(m6) - 1, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_OTHER, 0, 0, 0, "/dav/", 0, 1, sizeof(m6) - 1),
        XD(SHIM_HTTP_OTHER, 0, 0, 0, "/dav/", 0, 0, 1, sizeof(m6) - 1)}, 3);
    check_case("HTTP/1.7", m7, sizeof(m7) - 1, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_GET, 0, 0, 0, "/x", 0, 7, sizeof(m7) - 1),
        XD(SHIM_HTTP_GET, 0, 0, 0, "/x", 0, 0, 7, sizeof(m7) - 1)}, 3);
}

/* A target past SHIM_H1_PATH_CAP is cut and flagged; at the cap it is not. */
static void test_long_path(void)
{
    static char m[1200];
    static char want[SHIM_H1_PATH_CAP + 1];
    size_t i, len;
    memcpy(m, "GET /", 5);
    for (i = 5; i < 5 + 600; i++)
        m[i] = (char)('a' + i % 26);
    /* a non-ASCII byte and a quote inside: kept raw */
    m[10] = (char)0xC3;
    m[11] = (char)0xA9;
    m[12] = '"';
    memcpy(m + i, " HTTP/1.1\r\n\r\n", 13);
    len = i + 13;
    memcpy(want, m + 4, SHIM_H1_PATH_CAP);
    want[SHIM_H1_PATH_CAP] = 0;
    check_case("long path", m, len, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_GET, 0, 0, SHIM_H1_F_PATH_TRUNC, want, 0, 1, len),
        XD(SHIM_HTTP_GET, 0, 0, SHIM_H1_F_PATH_TRUNC, want, 0, 0, 1, len)}, 3);

    /* exactly the cap: not truncated */
    len = 4 + SHIM_H1_PATH_CAP;
    memcpy(m + len, " HTTP/1.1\r\n\r\n", 13);
    len += 13;
    check_case("path at cap", m, len, &REQ, (const struct exp[]){XB(1),
        XH(SHIM_HTTP_GET, 0, 0, 0, want, 0, 1, len),
        XD(SHIM_HTTP_GET, 0, 0, 0, want, 0, 0, 1, len)}, 3);
}

/* A 40000-byte body is skipped, not buffered, in any split. */
static void test_big_body(void)
{
    /* a 40000-byte Content-Length body and chunks, fed in pieces */
    static char m[50000];
    size_t len = (size_t)snprintf(m, sizeof(m), "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n");
    size_t h = len;
    const struct opts o = {SHIM_H1_RESPONSE, NULL, 0, 0};
    memset(m + len, 'z', 40000);
    len += 40000;
    check_case("big body", m, len, &o, (const struct exp[]){XB(1),
        XH(0, 200, SHIM_H1_BODY_LENGTH, 0, "", 40000, 1, h),
        XD(0, 200, SHIM_H1_BODY_LENGTH, 0, "", 40000, 40000, 1, len)}, 3);
}

/* ---------------------------------------------------------------- bad input */

/* check_bad: in must end in BAD at offset at (bytes accepted before the
 * offending one), in any split; then a fresh state parses a good message. */
static void check_bad(const char *name, const void *in, size_t len, int mode, uint64_t at)
{
    const struct opts o = {mode, NULL, 0, 0};
    static const char good_req[] = "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n";
    static const char good_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct shim_h1 st;
    struct shim_h1_event ev;
    size_t c;
    static struct trace t;
    int i;

    run(in, len, &o, NULL, 0, &t);
    unit_set_context("%s", name);
    CHECK_MSG(t.n > 0 && t.r[t.n - 1].rc == SHIM_H1_BAD, "not BAD");
    if (t.n > 0)
        CHECK_EQ(t.r[t.n - 1].off, at);
    for (i = 0; i < t.n - 1; i++)
        CHECK(t.r[i].rc == SHIM_H1_EVENT);
    {
        /* same in every split */
        struct exp x[MAXREC];
        memset(x, 0, sizeof(x));
        for (i = 0; i < t.n; i++) {
            x[i].rc = t.r[i].rc;
            x[i].type = t.r[i].type;
            x[i].method = t.r[i].method;
            x[i].status = t.r[i].status;
            x[i].body = t.r[i].body;
            x[i].flags = t.r[i].flags;
            x[i].cl = t.r[i].cl;
            x[i].bb = t.r[i].bb;
            x[i].off = t.r[i].off;
            x[i].minor = t.r[i].minor;
        }
        check_case(name, in, len, &o, x, (size_t)t.n);
    }
    unit_set_context("%s: recovery", name);
    /* eof on a BAD parser says BAD */
    memset(&st, 0, sizeof(st));
    st.mode = (uint8_t)mode;
    {
        const uint8_t *p = at_guard(in, len);
        size_t off = 0;
        int rc;
        while ((rc = shim_h1_feed(&st, p + off, len - off, &ev, &c)) == SHIM_H1_EVENT)
            off += c;
        CHECK_EQ(rc, SHIM_H1_BAD);
        CHECK_EQ(off + c, at);
        CHECK_EQ(shim_h1_eof(&st, &ev), SHIM_H1_BAD);
    }
    /* a fresh (memset) state recovers */
    memset(&st, 0, sizeof(st));
    st.mode = (uint8_t)mode;
    {
        const char *g = mode == SHIM_H1_RESPONSE ? good_resp : good_req;
        size_t gl = strlen(g), off = 0;
        const uint8_t *p = at_guard((const uint8_t *)g, gl);
        int rc, events = 0;
        while ((rc = shim_h1_feed(&st, p + off, gl - off, &ev, &c)) == SHIM_H1_EVENT) {
            off += c;
            events++;
        }
        CHECK_EQ(rc, SHIM_H1_NEED_MORE);
        CHECK_EQ(events, 3);
        CHECK_EQ(ev.type, SHIM_H1_EV_DONE);
    }
    unit_set_context("%s", "");
}

#define BAD_REQ(name, lit, at) check_bad(name, lit, sizeof(lit) - 1, SHIM_H1_REQUEST, at)
#define BAD_RESP(name, lit, at) check_bad(name, lit, sizeof(lit) - 1, SHIM_H1_RESPONSE, at)

/* Invalid streams: BAD at the offending byte in any split, then recovery. */
static void test_bad_inputs(void)
{
    /* request line */
    BAD_REQ("lowercase method", "get / HTTP/1.1\r\n\r\n", 0);
    BAD_REQ("no space after method", "GET/ HTTP/1.1\r\n\r\n", 3);
    BAD_REQ("method too long", "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", 16);
    BAD_REQ("http/0.9", "GET /\r\n\r\n", 5);
    BAD_REQ("http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 11);
    BAD_REQ("version junk", "GET / HTTP/1.1 extra\r\n\r\n", 14);
    BAD_REQ("version lowercase", "GET / http/1.1\r\n\r\n", 6);
    BAD_REQ("two-digit minor", "GET / HTTP/1.10\r\n\r\n", 14);
    BAD_REQ("nul in target", "GET /a\0b HTTP/1.1\r\n\r\n", 6);
    BAD_REQ("nul in method", "GE\0T / HTTP/1.1\r\n\r\n", 2);
    BAD_REQ("tab in target", "GET /a\tb HTTP/1.1\r\n\r\n", 6);
    BAD_REQ("cr without lf", "GET / HTTP/1.1\rX\n\r\n", 15);
    /* headers */
    BAD_REQ("space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 20);
    BAD_REQ("no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 20);
    BAD_REQ("empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 16);
    BAD_REQ("fold first", "GET / HTTP/1.1\r\n x\r\n\r\n", 16);
    BAD_REQ("fold content-length", "GET / HTTP/1.1\r\nContent-Length: 1\r\n 2\r\n\r\n", 35);
    BAD_REQ("ctl in value", "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", 20);
    BAD_REQ("nul in value", "GET / HTTP/1.1\r\nX: a\0\r\n\r\n", 20);
    /* framing */
    BAD_REQ("cl overflow", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 52);
    BAD_REQ("cl two values", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 54);
    BAD_REQ("cl list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 34);
    BAD_REQ("cl negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 33);
    BAD_REQ("cl hex", "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 34);
    BAD_REQ("cl empty", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 34);
    BAD_REQ("cl inner space", "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 35);
    BAD_REQ("te not chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 52);
    BAD_REQ("chunk size not hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 47);
    BAD_REQ("chunk size empty", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", 47);
    BAD_REQ("chunk size overflow",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", 63);
    BAD_REQ("chunk data no crlf",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 52);
    /* status line */
    BAD_RESP("status 2 digits", "HTTP/1.1 20 OK\r\n\r\n", 11);
    BAD_RESP("status 4 digits", "HTTP/1.1 2000 OK\r\n\r\n", 12);
    BAD_RESP("status < 100", "HTTP/1.1 099 OK\r\n\r\n", 11);
    BAD_RESP("no space before status", "HTTP/1.1200 OK\r\n\r\n", 8);
    BAD_RESP("http/2 response", "HTTP/2 200\r\n\r\n", 5);
    BAD_RESP("ctl in reason", "HTTP/1.1 200 O\x02K\r\n\r\n", 14);
    BAD_RESP("resp chunk not hex",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nq\r\n", 57);
    BAD_RESP("request on response parser", "GET / HTTP/1.1\r\n\r\n", 0);
    BAD_REQ("response on request parser", "HTTP/1.1 200 OK\r\n\r\n", 4);
    /* binary garbage: a TLS ClientHello */
    BAD_REQ("tls hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0);
    BAD_RESP("tls on response", "\x16\x03\x03\x00\x7a\x02\x00\x00", 0);
    BAD_REQ("redis", "*1\r\n$4\r\nPING\r\n", 0);

    /* header section over the cap, counted not stored */
    {
        static char big[SHIM_H1_HEAD_CAP + 200];
        size_t n = 0;
        n += (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
        while (n + 40 < sizeof(big) - 4)
            n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        memcpy(big + n, "\r\n", 2);
        n += 2;
        check_bad("head over cap", big, n, SHIM_H1_REQUEST, SHIM_H1_HEAD_CAP);
        /* trailers over the cap too */
        n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
        {
            size_t t0 = n;
            while (n + 40 < sizeof(big) - 4)
                n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
            check_bad("trailers over cap", big, n, SHIM_H1_RESPONSE, t0 + SHIM_H1_HEAD_CAP);
        }
        /* a chunk-size line of endless zeros */
        n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        {
            size_t t0 = n;
            memset(big + n, '0', sizeof(big) - n);
            check_bad("zeros over cap", big, sizeof(big), SHIM_H1_RESPONSE, t0 + SHIM_H1_HEAD_CAP);
        }
        /* just under the cap is fine */
        n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
        memset(big + n, 'a', SHIM_H1_HEAD_CAP - n - 4);
        n = SHIM_H1_HEAD_CAP - 4;
        memcpy(big + n, "\r\n\r\n", 4);
        n += 4;
        check_case("head at cap", big, n, &REQ, (const struct exp[]){XB(1),
            XH(SHIM_HTTP_GET, 0, 0, 0, "/", 0, 1, n),
            XD(SHIM_HTTP_GET, 0, 0, 0, "/", 0, 0, 1, n)}, 3);
    }
}

/* ---------------------------------------------------------------- API bits */

/* Zero state, copies of the state, expectations, detectors, method names. */
static void test_api(void)
{
    struct shim_h1 st;
    struct shim_h1_event ev;
    size_t c = 99;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    printf("sizeof(struct shim_h1) = %zu\n", sizeof(struct shim_h1));
    CHECK(sizeof(struct shim_h1) < 400);

    /* zero state, zero bytes */
    memset(&st, 0, sizeof(st));
    CHECK_EQ(st.mode, SHIM_H1_REQUEST);
    CHECK_EQ(shim_h1_feed(&st, NULL, 0, &ev, &c), SHIM_H1_NEED_MORE);
    CHECK_EQ(c, 0);
    CHECK_EQ(shim_h1_eof(&st, &ev), SHIM_H1_IDLE);
    CHECK_EQ(shim_h1_feed(&st, (const uint8_t *)"GET", 3, &ev, &c), SHIM_H1_BAD); /* after eof */
    CHECK_EQ(c, 0);
    CHECK_EQ(shim_h1_eof(&st, &ev), SHIM_H1_IDLE);

    /* the state can be copied mid-message and both copies go on alike */
    {
        struct shim_h1 a, b;
        struct shim_h1_event ea, eb;
        size_t ca, cb, off = 0;
        int ra, rb;
        shim_h1_init(&a, SHIM_H1_RESPONSE);
        shim_h1_expect(&a, SHIM_HTTP_HEAD);
        CHECK_EQ(a.req_method, SHIM_HTTP_HEAD);
        ra = shim_h1_feed(&a, (const uint8_t *)resp, 10, &ea, &ca); /* BEGIN */
        CHECK_EQ(ra, SHIM_H1_EVENT);
        CHECK_EQ(ca, 1);
        ra = shim_h1_feed(&a, (const uint8_t *)resp + 1, 9, &ea, &ca);
        CHECK_EQ(ra, SHIM_H1_NEED_MORE);
        b = a;
        off = 10;
        ra = shim_h1_feed(&a, (const uint8_t *)resp + off, sizeof(resp) - 1 - off, &ea, &ca);
        rb = shim_h1_feed(&b, (const uint8_t *)resp + off, sizeof(resp) - 1 - off, &eb, &cb);
        CHECK_EQ(ra, SHIM_H1_EVENT);
        CHECK_EQ(rb, SHIM_H1_EVENT);
        CHECK_EQ(ca, cb);
        CHECK_EQ(ea.type, SHIM_H1_EV_HEAD);
        CHECK_EQ(ea.body, SHIM_H1_BODY_NONE);
        CHECK(ea.path == a.path && eb.path == b.path);
        /* DONE of the final response uses up the expectation */
        CHECK_EQ(shim_h1_feed(&a, NULL, 0, &ea, &ca), SHIM_H1_EVENT);
        CHECK_EQ(ea.type, SHIM_H1_EV_DONE);
        CHECK_EQ(ea.method, SHIM_HTTP_HEAD);
        CHECK_EQ(a.req_method, SHIM_HTTP_OTHER);
        CHECK_EQ(shim_h1_feed(&a, NULL, 0, &ea, &ca), SHIM_H1_NEED_MORE);
        /* eof with a pending DONE still delivers it */
        CHECK_EQ(shim_h1_eof(&b, &eb), SHIM_H1_EVENT);
        CHECK_EQ(eb.type, SHIM_H1_EV_DONE);
    }

    /* the expectation may also be given at the response's BEGIN event */
    {
        static const char two[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
                                  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        size_t off = 0, tl = sizeof(two) - 1;
        const uint8_t *p = at_guard((const uint8_t *)two, tl);
        int rc, dones = 0;
        uint64_t bb = 99;
        shim_h1_init(&st, SHIM_H1_RESPONSE);
        while ((rc = shim_h1_feed(&st, p + off, tl - off, &ev, &c)) == SHIM_H1_EVENT) {
            off += c;
            if (ev.type == SHIM_H1_EV_BEGIN)
                shim_h1_expect(&st, dones == 0 ? SHIM_HTTP_HEAD : SHIM_HTTP_GET);
            if (ev.type == SHIM_H1_EV_DONE) {
                CHECK_EQ(ev.method, dones == 0 ? SHIM_HTTP_HEAD : SHIM_HTTP_GET);
                dones++;
                bb = ev.body_bytes;
            }
        }
        CHECK_EQ(rc, SHIM_H1_NEED_MORE);
        CHECK_EQ(dones, 2);
        CHECK_EQ(bb, 3);
    }

    /* detectors */
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"GET / HTTP/1.1", 14), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"GET ", 4), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"GET", 3), -1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"P", 1), -1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"PATC", 4), -1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"PATCH /", 7), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"OPTIONS *", 9), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"CONNECT h:1", 11), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"DELETE /", 8), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"TRACE /", 7), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"HEAD /", 6), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"PUT /", 5), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"POST /", 6), 1);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"GETX /", 6), 0);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"get /", 5), 0);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"\x16\x03", 2), 0);
    CHECK_EQ(shim_h1_detect_request((const uint8_t *)"", 0), -1);
    CHECK_EQ(shim_h1_detect_request(at_guard((const uint8_t *)"DELE", 4), 4), -1);
    CHECK_EQ(shim_h1_detect_response((const uint8_t *)"HTTP/1.1 200", 12), 1);
    CHECK_EQ(shim_h1_detect_response((const uint8_t *)"HTTP/1.", 7), 1);
    CHECK_EQ(shim_h1_detect_response(at_guard((const uint8_t *)"HTT", 3), 3), -1);
    CHECK_EQ(shim_h1_detect_response((const uint8_t *)"HTTP/2", 6), 0);
    CHECK_EQ(shim_h1_detect_response((const uint8_t *)"+OK\r\n", 5), 0);
    CHECK_EQ(shim_h1_detect_response((const uint8_t *)"", 0), -1);

    /* names */
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_GET), "GET");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_HEAD), "HEAD");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_POST), "POST");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_PUT), "PUT");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_DELETE), "DELETE");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_CONNECT), "CONNECT");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_OPTIONS), "OPTIONS");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_TRACE), "TRACE");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_PATCH), "PATCH");
    CHECK_STREQ(shim_http_method_name(SHIM_HTTP_OTHER), "_OTHER");
    CHECK_STREQ(shim_http_method_name((enum shim_http_method)200), "_OTHER");
}

/* main: run every test; exit status 1 on any failure. */
int main(void)
{
    guard_init();
    UNIT_RUN(test_api);
    UNIT_RUN(test_get_with_headers);
    UNIT_RUN(test_post_content_length);
    UNIT_RUN(test_chunked_response);
    UNIT_RUN(test_head_response);
    UNIT_RUN(test_204_304);
    UNIT_RUN(test_100_continue);
    UNIT_RUN(test_101_upgrade);
    UNIT_RUN(test_connect);
    UNIT_RUN(test_http10_until_close);
    UNIT_RUN(test_truncated);
    UNIT_RUN(test_pipelined_requests);
    UNIT_RUN(test_keepalive_responses);
    UNIT_RUN(test_bare_lf);
    UNIT_RUN(test_connection_flags);
    UNIT_RUN(test_long_path);
    UNIT_RUN(test_big_body);
    UNIT_RUN(test_bad_inputs);
    return unit_summary();
}
