/*
 * trace_text.h - text traces of a request/response parser (Redis,
 * memcached: the same API under two prefixes): run() feeds a stream to a
 * fresh parser as a careful caller would, appending each event, as text,
 * to a trace; check_stream_x runs a stream whole (compared with the
 * expected text), one byte at a time, split in two everywhere and in
 * pseudo-random partitions, each compared with the whole. Header-only,
 * after unit.h and guard.h. The test defines, before including it:
 *   TXT(x)     its API's functions: shim_redis_##x (init, feed, eof)
 *   TXT_RC(x)  its constants: SHIM_REDIS_##x (EVENT, NEED_MORE, BAD, IDLE,
 *              TRUNCATED, REQUEST, RESPONSE, EV_REQ_BEGIN, EV_REQ_DONE)
 *   TXT_STATE, TXT_EVENT  its parser state and event types
 * and, anywhere, the four functions declared below (note, caller_start,
 * caller_progress, caller_answered) and, when its runs are told what to
 * expect, struct expects.
 *
 *   check_stream("name", "literal stream", mode, "expected trace");
 */
#ifndef TESTS_UNIT_TRACE_TEXT_H
#define TESTS_UNIT_TRACE_TEXT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TRACE_CAP 16384

struct trace {
    size_t len;
    int overflow;
    char s[TRACE_CAP];
};

/* What a run is told besides the bytes (the test's own; may stay undefined). */
struct expects;

/* The caller's side of a run, besides the parser's state. */
struct caller {
    const struct expects *ex; /* what the response parser is told */
    size_t told;              /* replies it was told about */
    int last;                 /* type of the previous request event */
    int zero;                 /* events in a row that took no byte */
};

/* note: append one event (at stream offset off) to the trace, checking
 * its invariants. */
static void note(struct trace *t, const TXT_EVENT *ev, uint64_t off, int mode);
/* caller_start: what the caller does to a fresh parser before any byte. */
static void caller_start(TXT_STATE *st, struct caller *k);
/* caller_progress: CHECK that an event may take c bytes; 0 stops the run. */
static int caller_progress(struct caller *k, const TXT_EVENT *ev, size_t c);
/* caller_answered: what the caller does after each response event. */
static void caller_answered(TXT_STATE *st, struct caller *k);

/* put: append printf-style text to a trace. */
static void put(struct trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct trace *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->s + t->len, TRACE_CAP - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= TRACE_CAP - t->len) {
        t->overflow = 1;
        return;
    }
    t->len += (size_t)n;
}

/* same: compare a run's trace with the reference; print both on failure. */
static int same(const struct trace *ref, const struct trace *t, const char *how)
{
    int ok = !ref->overflow && !t->overflow && ref->len == t->len && memcmp(ref->s, t->s, t->len) == 0;
    CHECK_MSG(ok, "%s differs:\n  whole: %s\n  this:  %s", how, ref->s, t->s);
    return ok;
}

/*
 * run: feed in[0..len) to a fresh parser in the chunks delimited by the
 * ncuts ascending offsets of cuts, as a careful caller would (loop until
 * NEED_MORE; requests alternate BEGIN and DONE), then call eof; record the
 * trace.
 */
static void run(const uint8_t *in, size_t len, int mode, const struct expects *ex, const size_t *cuts,
                size_t ncuts, struct trace *t)
{
    TXT_STATE st;
    TXT_EVENT ev;
    struct caller k = {ex, 0, TXT_RC(EV_REQ_DONE), 0};
    size_t ci, a = 0, b, off, c;
    int rc;

    t->len = 0;
    t->overflow = 0;
    t->s[0] = 0;
    if (mode == TXT_RC(REQUEST))
        memset(&st, 0, sizeof(st)); /* zero-filled state is a request parser */
    else
        TXT(init)(&st, TXT_RC(RESPONSE));
    caller_start(&st, &k);
    for (ci = 0; ci <= ncuts; ci++, a = b) {
        const uint8_t *p;
        b = ci < ncuts ? cuts[ci] : len;
        p = at_guard(in + a, b - a);
        off = 0;
        for (;;) {
            memset(&ev, 0xA5, sizeof(ev));
            c = (size_t)-1;
            rc = TXT(feed)(&st, p + off, b - a - off, &ev, &c);
            CHECK(c <= b - a - off);
            if (rc == TXT_RC(EVENT)) {
                if (!caller_progress(&k, &ev, c))
                    return;
                off += c;
                /* grammar: BEGIN, DONE, BEGIN, DONE ... for requests */
                if (mode == TXT_RC(REQUEST)) {
                    CHECK(ev.type == (k.last == TXT_RC(EV_REQ_DONE) ? TXT_RC(EV_REQ_BEGIN) : TXT_RC(EV_REQ_DONE)));
                    k.last = ev.type;
                }
                note(t, &ev, a + off, mode);
                if (mode == TXT_RC(RESPONSE))
                    caller_answered(&st, &k);
                continue;
            }
            if (rc == TXT_RC(NEED_MORE)) {
                CHECK_EQ(off + c, b - a);
                break;
            }
            CHECK_EQ(rc, TXT_RC(BAD));
            put(t, "%sBAD@%llu", t->len ? " " : "", (unsigned long long)(a + off + c));
            /* sticky */
            CHECK_EQ(TXT(feed)(&st, p, b - a, &ev, &c), TXT_RC(BAD));
            CHECK_EQ(c, 0);
            CHECK_EQ(TXT(eof)(&st), TXT_RC(BAD));
            return;
        }
    }
    rc = TXT(eof)(&st);
    put(t, "%sEOF=%s", t->len ? " " : "", rc == TXT_RC(IDLE) ? "IDLE" : rc == TXT_RC(TRUNCATED) ? "TRUNC" : "?");
    /* closed afterwards */
    CHECK_EQ(TXT(eof)(&st), TXT_RC(IDLE));
    CHECK_EQ(TXT(feed)(&st, in, len, &ev, &c), TXT_RC(BAD));
}

static struct trace ref_t, cur_t;
static size_t cuts_buf[1u << 16];
#define CUTS_CAP (sizeof(cuts_buf) / sizeof(cuts_buf[0]))

/* lcg: deterministic pseudo-random numbers for the partitions. */
static uint32_t lcg_state = 12345;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return lcg_state >> 8;
}

/*
 * check_stream_x: run in[0..len) every way and compare with `expect` (the
 * whole run; NULL: not compared) and with each other. Long inputs (over
 * 4096 bytes) are split in two at 1024 evenly spaced positions instead of
 * every one.
 */
static void check_stream_x(const char *name, const void *inp, size_t len, int mode, const struct expects *ex,
                           const char *expect)
{
    const uint8_t *in = inp;
    size_t k, i, n;
    int r;

    unit_set_context("%s", name);
    run(in, len, mode, ex, NULL, 0, &ref_t);
    if (expect)
        CHECK_MSG(!ref_t.overflow && strcmp(ref_t.s, expect) == 0, "trace:\n  got:      %s\n  expected: %s",
                  ref_t.s, expect);
    /* one byte at a time */
    if (len > 1 && len - 1 <= CUTS_CAP) {
        for (k = 1; k < len; k++)
            cuts_buf[k - 1] = k;
        run(in, len, mode, ex, cuts_buf, len - 1, &cur_t);
        same(&ref_t, &cur_t, "byte at a time");
    }
    /* split in two at every position (bounded for long inputs) */
    for (k = 0; k <= len; k += (len > 4096 ? len / 1024 : 1)) {
        cuts_buf[0] = k;
        run(in, len, mode, ex, cuts_buf, 1, &cur_t);
        if (!same(&ref_t, &cur_t, "split in two"))
            fprintf(stderr, "  at %zu\n", k);
    }
    /* pseudo-random partitions */
    for (r = 0; r < 8; r++) {
        n = 0;
        for (i = 0; i < len && n < CUTS_CAP;) {
            i += 1 + lcg() % (r < 4 ? 7 : 97);
            if (i < len)
                cuts_buf[n++] = i;
        }
        run(in, len, mode, ex, cuts_buf, n, &cur_t);
        same(&ref_t, &cur_t, "random partition");
    }
    unit_set_context("%s", "");
}

/* check_stream on a string literal (its NUL not included), nothing expected. */
#define check_stream(name, lit, mode, expect) check_stream_x(name, lit, sizeof(lit) - 1, mode, NULL, expect)

#endif
