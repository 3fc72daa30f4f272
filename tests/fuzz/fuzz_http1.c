/*
 * fuzz_http1.c - libFuzzer harness for the HTTP/1.x parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_http1.c shim/proto/http1.c -o build/fuzz_http1
 *   build/fuzz_http1 -max_total_time=60 /tmp/http1-corpus tests/fuzz/corpus/http1
 *
 * Input: byte 0 is control: bit 0 response mode, bits 1-2 the method the
 * responses answer (none, HEAD, CONNECT, GET), bits 3-7 the split point
 * (0..31 scaled to the length). The rest is the byte stream. It is fed
 * whole, split in two, in pseudo-random small chunks (derived from the
 * data) and, when short, byte by byte; each chunk is copied to its own
 * exact-size heap block so ASan sees any read past it. The traces (every
 * event, field and stream offset, then the eof result) must be identical,
 * and each run must keep the API's invariants; otherwise abort(). The
 * detectors are run over growing prefixes of the stream too.
 */
#include "shim/proto/http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HARNESS "fuzz_http1"
#include "harness.h"

/* note: fold one record (rc, event fields, offset) into the trace and check
 * the event's own invariants. */
static void note(struct trace *t, int rc, const struct shim_h1_event *ev, uint64_t off, int mode)
{
    uint8_t rec[40];
    memset(rec, 0, sizeof(rec));
    rec[0] = (uint8_t)(rc + 1);
    memcpy(rec + 1, &off, 8);
    if (ev) {
        if (ev->path_len > SHIM_H1_PATH_CAP)
            fail("path_len over cap", ev->path_len, SHIM_H1_PATH_CAP);
        if (mode == SHIM_H1_RESPONSE && ev->path_len)
            fail("response with a path", ev->path_len, 0);
        if (ev->method >= SHIM_HTTP_METHOD_COUNT)
            fail("method out of range", ev->method, 0);
        if (ev->body > SHIM_H1_BODY_CLOSE)
            fail("body mode out of range", ev->body, 0);
        if (ev->type >= SHIM_H1_EV_HEAD && (ev->flags & SHIM_H1_F_HEAD_DONE)) {
            if (mode == SHIM_H1_RESPONSE && (ev->status < 100 || ev->status > 999))
                fail("status out of range", ev->status, 0);
            if (mode == SHIM_H1_REQUEST && (ev->status != 0 || ev->body == SHIM_H1_BODY_CLOSE))
                fail("request with status or close body", ev->status, ev->body);
        }
        if (ev->type == SHIM_H1_EV_DONE) {
            if (!(ev->flags & SHIM_H1_F_HEAD_DONE))
                fail("DONE without HEAD_DONE flag", ev->flags, 0);
            if (ev->body == SHIM_H1_BODY_LENGTH && ev->body_bytes != ev->content_length)
                fail("length body count", (unsigned long)ev->body_bytes, (unsigned long)ev->content_length);
            if (ev->body == SHIM_H1_BODY_NONE && ev->body_bytes != 0)
                fail("bodyless message with body bytes", (unsigned long)ev->body_bytes, 0);
        }
        rec[9] = ev->type;
        rec[10] = ev->method;
        rec[11] = ev->minor;
        rec[12] = ev->body;
        memcpy(rec + 13, &ev->status, 2);
        memcpy(rec + 15, &ev->flags, 2);
        memcpy(rec + 17, &ev->path_len, 2);
        memcpy(rec + 19, &ev->content_length, 8);
        memcpy(rec + 27, &ev->body_bytes, 8);
    }
    mix(t, rec, sizeof(rec));
    if (ev)
        mix(t, ev->path, ev->path_len);
    t->n++;
}

/* The caller's side of one run. */
struct run {
    struct trace t;
    struct shim_h1 st;
    int mode;
    uint8_t expect;   /* method every response answers (0: none given) */
    int last_type;    /* grammar: type of the previous event */
    int stopped;      /* BAD or UPGRADED seen */
    uint64_t base;    /* stream offset of the current chunk */
};

/* The current input's runs: their mode and the method responses answer. */
static int cur_mode;
static uint8_t cur_expect;

/* run_start: a fresh parser and trace. */
static void run_start(void *rv, int way)
{
    struct run *r = rv;
    memset(r, 0, sizeof(*r));
    r->mode = cur_mode;
    r->expect = cur_expect;
    shim_h1_init(&r->st, (enum shim_h1_mode)cur_mode);
    if (cur_mode == SHIM_H1_RESPONSE)
        shim_h1_expect(&r->st, (enum shim_http_method)cur_expect);
    trace_init(&r->t);
    r->last_type = SHIM_H1_EV_DONE;
}

/* check_order: BEGIN, HEAD, DONE, BEGIN ... */
static void check_order(struct run *r, int type)
{
    int want = r->last_type == SHIM_H1_EV_DONE ? SHIM_H1_EV_BEGIN
             : r->last_type == SHIM_H1_EV_BEGIN ? SHIM_H1_EV_HEAD : SHIM_H1_EV_DONE;
    if (type != want)
        fail("event order", (unsigned long)r->last_type, (unsigned long)type);
    r->last_type = type;
}

/* run_chunk: feed one chunk (copied to an exact-size heap block) as a
 * careful caller would: loop until NEED_MORE. */
static void run_chunk(void *rv, const uint8_t *data, size_t len)
{
    struct run *r = rv;
    uint8_t *copy;
    struct shim_h1_event ev;
    size_t off = 0, c;
    int rc, zero = 0;

    if (r->stopped)
        return;
    copy = copy_of(data, len);
    for (;;) {
        memset(&ev, 0xA5, sizeof(ev));
        c = (size_t)-1;
        rc = shim_h1_feed(&r->st, copy + off, len - off, &ev, &c);
        if (c > len - off)
            fail("consumed past the end", (unsigned long)c, (unsigned long)(len - off));
        if (rc == SHIM_H1_EVENT) {
            off += c;
            if (c == 0 && (ev.type != SHIM_H1_EV_DONE || ++zero > 1))
                fail("event without progress", ev.type, (unsigned long)zero);
            if (c)
                zero = 0;
            check_order(r, ev.type);
            note(&r->t, rc, &ev, r->base + off, r->mode);
            if (r->mode == SHIM_H1_RESPONSE && ev.type == SHIM_H1_EV_DONE &&
                !(ev.flags & SHIM_H1_F_INTERIM)) {
                if (r->st.req_method != SHIM_HTTP_OTHER && !(ev.flags & SHIM_H1_F_UPGRADE))
                    fail("expectation not used up", r->st.req_method, 0);
                shim_h1_expect(&r->st, (enum shim_http_method)r->expect);
            }
            continue;
        }
        if (rc == SHIM_H1_NEED_MORE) {
            if (off + c != len)
                fail("NEED_MORE before the end", (unsigned long)(off + c), (unsigned long)len);
            break;
        }
        if (rc != SHIM_H1_BAD && rc != SHIM_H1_UPGRADED)
            fail("feed return value", (unsigned long)rc, 0);
        if (rc == SHIM_H1_UPGRADED && c != 0)
            fail("UPGRADED consumed bytes", (unsigned long)c, 0);
        note(&r->t, rc, NULL, r->base + off + c, r->mode);
        if (shim_h1_feed(&r->st, copy, len, &ev, &c) != rc || c != 0)
            fail("BAD/UPGRADED not sticky", (unsigned long)rc, (unsigned long)c);
        r->stopped = 1;
        break;
    }
    free(copy);
    r->base += len;
}

/* run_end: eof, recorded. */
static void run_end(void *rv)
{
    struct run *r = rv;
    struct shim_h1_event ev;
    int rc;
    memset(&ev, 0xA5, sizeof(ev));
    rc = shim_h1_eof(&r->st, &ev);
    if (r->stopped) {
        note(&r->t, 100, NULL, 0, r->mode);
        return;
    }
    switch (rc) {
    case SHIM_H1_EVENT:
        check_order(r, ev.type);
        if (ev.body != SHIM_H1_BODY_CLOSE && ev.body != SHIM_H1_BODY_NONE)
            fail("eof DONE of a length/chunked body", ev.body, 0);
        note(&r->t, rc, &ev, r->base, r->mode);
        break;
    case SHIM_H1_TRUNCATED:
        if (ev.type != SHIM_H1_EV_TRUNCATED)
            fail("TRUNCATED event type", ev.type, 0);
        note(&r->t, rc, &ev, r->base, r->mode);
        break;
    case SHIM_H1_IDLE:
        if (r->last_type != SHIM_H1_EV_DONE)
            fail("IDLE inside a message", (unsigned long)r->last_type, 0);
        note(&r->t, rc, NULL, r->base, r->mode);
        break;
    default:
        fail("eof return value", (unsigned long)rc, 0);
    }
    if (shim_h1_eof(&r->st, &ev) != SHIM_H1_IDLE)
        fail("second eof not IDLE", 0, 0);
}

/* check_detects: the detectors over growing prefixes (each in an
 * exact-size copy) say "need more" for a while, then settle on 0 or 1 for
 * good, by 8 bytes at most. */
static void check_detects(const uint8_t *data, size_t len)
{
    if (check_detect(data, len, 12, 1, shim_h1_detect_request) < 0 && len >= 8)
        fail("detector undecided after 8 bytes", 0, 0);
    if (check_detect(data, len, 12, 1, shim_h1_detect_response) < 0 && len >= 8)
        fail("detector undecided after 8 bytes", 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput: see the header comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t methods[4] = {SHIM_HTTP_OTHER, SHIM_HTTP_HEAD, SHIM_HTTP_CONNECT, SHIM_HTTP_GET};
    static const struct replay how = {run_start, run_chunk, run_end, CHUNKS_HASHED, 2048};
    static struct run whole, other;
    uint8_t ctl;
    size_t len, split;

    if (size < 1)
        return 0;
    ctl = data[0];
    data++;
    len = size - 1;
    cur_mode = (ctl & 1) ? SHIM_H1_RESPONSE : SHIM_H1_REQUEST;
    cur_expect = methods[(ctl >> 1) & 3];
    split = (size_t)(ctl >> 3) * len / 31;
    check_detects(data, len);
    replay(&how, &whole, &other, data, len, split);
    return 0;
}
