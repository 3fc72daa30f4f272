/*
 * fuzz_redis.c - libFuzzer harness for the RESP2 / RESP3 parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_redis.c shim/proto/redis.c -o build/fuzz_redis
 *   build/fuzz_redis -max_total_time=60 /tmp/redis-corpus tests/fuzz/corpus/redis
 *
 * Input: byte 0 is control: bit 0 response mode, bits 1-7 the split point
 * (0..127 scaled to the length). The rest is the byte stream. It is fed
 * whole, split in two, in small chunks whose sizes come from the data, and,
 * when short, byte by byte; each chunk is copied to its own exact-size heap
 * block so ASan sees any read past it. The traces (every event, its fields
 * and its stream offset, then the BAD offset or the eof result) must be
 * identical, and each run must keep the API's invariants; otherwise
 * abort(). The request detector is run over growing prefixes too.
 */
#include "shim/proto/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one run saw: a hash over the ordered records and their count. */
struct trace {
    uint64_t hash;
    unsigned n;
};

static void mix(struct trace *t, const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t i;
    for (i = 0; i < len; i++) {
        t->hash ^= b[i];
        t->hash *= 1099511628211ull;
    }
}

static void fail(const char *what, unsigned long a, unsigned long b)
{
    fprintf(stderr, "fuzz_redis: %s (%lu, %lu)\n", what, a, b);
    abort();
}

/* The caller's side of one run. */
struct run {
    struct shim_redis st;
    int mode;
    int last;      /* type of the previous request event */
    int stopped;   /* BAD seen */
    uint64_t base; /* stream offset of the current chunk */
    struct trace t;
};

static void run_start(struct run *r, int mode)
{
    memset(r, 0, sizeof(*r));
    r->mode = mode;
    shim_redis_init(&r->st, (enum shim_redis_mode)mode);
    r->t.hash = 14695981039346656037ull;
    r->last = SHIM_REDIS_EV_REQ_DONE;
}

/* check_event: the invariants of one event. */
static void check_event(struct run *r, const struct shim_redis_event *ev)
{
    size_t i;
    for (i = 0; i < SHIM_REDIS_ERR_CAP && ev->err[i]; i++)
        if (ev->err[i] < 'A' || ev->err[i] > 'Z')
            fail("error code not [A-Z]", (unsigned long)ev->err[i], i);
    if (i == SHIM_REDIS_ERR_CAP)
        fail("error code not terminated", i, 0);
    if (ev->is_error != (i > 0))
        fail("is_error without code or code without is_error", ev->is_error, i);
    switch (ev->type) {
    case SHIM_REDIS_EV_REQ_BEGIN:
    case SHIM_REDIS_EV_REQ_DONE:
        if (r->mode != SHIM_REDIS_REQUEST)
            fail("request event in response mode", ev->type, 0);
        if (ev->type != (r->last == SHIM_REDIS_EV_REQ_DONE ? SHIM_REDIS_EV_REQ_BEGIN : SHIM_REDIS_EV_REQ_DONE))
            fail("request events out of order", ev->type, (unsigned long)r->last);
        r->last = ev->type;
        if (ev->cmd >= SHIM_REDIS_CMD_COUNT)
            fail("command out of range", ev->cmd, 0);
        if (ev->keys > ev->argc)
            fail("more keys than arguments", ev->keys, ev->argc);
        if (ev->type == SHIM_REDIS_EV_REQ_DONE && ev->argc == 0 && !(ev->flags & SHIM_REDIS_F_NOREPLY))
            fail("empty command without NOREPLY", 0, 0);
        break;
    case SHIM_REDIS_EV_RESP_DONE:
    case SHIM_REDIS_EV_PUSH:
        if (r->mode != SHIM_REDIS_RESPONSE)
            fail("response event in request mode", ev->type, 0);
        if (!strchr("+-:$*_#,(!=%~>", ev->reply) || ev->reply == 0)
            fail("reply type", ev->reply, 0);
        if (ev->is_error != (ev->reply == '-' || ev->reply == '!'))
            fail("is_error vs reply type", ev->is_error, ev->reply);
        if (ev->is_error && (ev->nils || ev->values))
            fail("error with nils or values", ev->nils, ev->values);
        if ((ev->type == SHIM_REDIS_EV_PUSH) != (ev->reply == '>'))
            fail("push event vs reply type", ev->type, ev->reply);
        if (!strchr("*%~>", ev->reply) && ev->nils + ev->values != (ev->is_error ? 0u : 1u))
            fail("scalar reply counts", ev->nils, ev->values);
        break;
    default:
        fail("event type", ev->type, 0);
    }
}

/* feed: one chunk, copied to an exact-size heap block. */
static void feed(struct run *r, const uint8_t *p, size_t n)
{
    uint8_t *copy;
    size_t off = 0, c;
    struct shim_redis_event ev;
    int rc;

    if (r->stopped)
        return;
    copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    for (;;) {
        uint8_t rec[64];
        uint64_t at;
        memset(&ev, 0x5A, sizeof(ev));
        c = (size_t)-1;
        rc = shim_redis_feed(&r->st, copy + off, n - off, &ev, &c);
        if (c > n - off)
            fail("consumed beyond the chunk", (unsigned long)c, (unsigned long)(n - off));
        if (rc == SHIM_REDIS_EVENT) {
            if (c == 0)
                fail("event consumed nothing", 0, 0);
            off += c;
            check_event(r, &ev);
            at = r->base + off;
            memset(rec, 0, sizeof(rec));
            memcpy(rec, &at, 8);
            rec[8] = ev.type;
            rec[9] = ev.flags;
            rec[10] = ev.reply;
            rec[11] = ev.is_error;
            memcpy(rec + 12, &ev.cmd, 2);
            memcpy(rec + 14, &ev.argc, 4);
            memcpy(rec + 18, &ev.keys, 4);
            memcpy(rec + 22, &ev.nils, 4);
            memcpy(rec + 26, &ev.values, 4);
            memcpy(rec + 30, ev.err, SHIM_REDIS_ERR_CAP);
            mix(&r->t, rec, sizeof(rec));
            r->t.n++;
            continue;
        }
        if (rc == SHIM_REDIS_NEED_MORE) {
            if (off + c != n)
                fail("NEED_MORE without using everything", (unsigned long)(off + c), (unsigned long)n);
            break;
        }
        if (rc != SHIM_REDIS_BAD)
            fail("unknown return code", (unsigned long)rc, 0);
        at = r->base + off + c;
        memset(rec, 0xEE, sizeof(rec));
        memcpy(rec, &at, 8);
        mix(&r->t, rec, sizeof(rec));
        r->stopped = 1;
        if (shim_redis_feed(&r->st, copy, n, &ev, &c) != SHIM_REDIS_BAD || c != 0)
            fail("BAD is not sticky", 0, 0);
        break;
    }
    free(copy);
    r->base += n;
}

/* finish: eof, folded into the trace. */
static void finish(struct run *r)
{
    int rc = shim_redis_eof(&r->st);
    uint8_t b = (uint8_t)(rc + 10);
    if (r->stopped != (rc == SHIM_REDIS_BAD))
        fail("eof vs BAD", (unsigned long)r->stopped, (unsigned long)rc);
    mix(&r->t, &b, 1);
    if (shim_redis_eof(&r->st) != (rc == SHIM_REDIS_BAD ? SHIM_REDIS_BAD : SHIM_REDIS_IDLE))
        fail("second eof", 0, 0);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
    if (a->t.hash != b->t.hash || a->t.n != b->t.n) {
        fprintf(stderr, "fuzz_redis: %s gives another trace (%u vs %u events)\n", how, a->t.n, b->t.n);
        abort();
    }
}

/* check_detect: the detector over growing prefixes: once it has decided
 * (0, 1 or 2) longer prefixes must give the same answer. */
static void check_detect(const uint8_t *data, size_t len)
{
    size_t n, max = len < 48 ? len : 48;
    int decided = -1;
    for (n = 0; n <= max; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        int d;
        if (!copy)
            abort();
        memcpy(copy, data, n);
        d = shim_redis_detect_request(copy, n);
        free(copy);
        if (d < -1 || d > 2)
            fail("detector result", (unsigned long)d, n);
        if (decided >= 0 && d != decided)
            fail("detector changed its mind", (unsigned long)decided, (unsigned long)d);
        if (d >= 0)
            decided = d;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, other;
    const uint8_t *in;
    size_t len, split, i, step;
    int mode;

    if (size < 1)
        return 0;
    mode = data[0] & 1;
    in = data + 1;
    len = size - 1;
    split = len * (size_t)(data[0] >> 1) / 127;

    run_start(&whole, mode);
    feed(&whole, in, len);
    finish(&whole);

    run_start(&other, mode);
    feed(&other, in, split);
    feed(&other, in + split, len - split);
    finish(&other);
    same(&whole, &other, "split in two");

    /* small chunks, sizes from the data */
    run_start(&other, mode);
    for (i = 0; i < len; i += step) {
        step = 1 + (in[i] % 13);
        if (step > len - i)
            step = len - i;
        feed(&other, in + i, step);
    }
    finish(&other);
    same(&whole, &other, "small chunks");

    if (len <= 4096) {
        run_start(&other, mode);
        for (i = 0; i < len; i++)
            feed(&other, in + i, 1);
        finish(&other);
        same(&whole, &other, "byte at a time");
    }
    if (mode == SHIM_REDIS_REQUEST)
        check_detect(in, len);
    return 0;
}
