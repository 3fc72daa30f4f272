/*
 * fuzz_memcached.c - libFuzzer harness for the memcached parser (text, meta
 * and binary protocols).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_memcached.c shim/proto/memcached.c -o build/fuzz_memcached
 *   build/fuzz_memcached -max_total_time=60 /tmp/mc-corpus tests/fuzz/corpus/memcached
 *
 * Input: byte 0 is control: bit 0 response mode, bits 1-2 what the caller
 * tells the response parser before every reply (0 AUTO, 1 GET, 2 LINES,
 * 3 cycling through the three), bits 3-7 the split point (0..31 scaled to
 * the length). The rest is the byte stream. It is fed whole, split in two,
 * in small chunks whose sizes come from the data, and, when short, byte by
 * byte; each chunk is copied to its own exact-size heap block so ASan sees
 * any read past it. The traces (every event, its fields and its stream
 * offset, then the BAD offset or the eof result) must be identical, and
 * each run must keep the API's invariants; otherwise abort(). The
 * detectors are run over growing prefixes too.
 */
#include "shim/proto/memcached.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    fprintf(stderr, "fuzz_memcached: %s (%lu, %lu)\n", what, a, b);
    abort();
}

/* The caller's side of one run. */
struct run {
    struct shim_mc st;
    int mode;
    int expect;    /* control bits 1-2 */
    unsigned replies;
    int last;      /* type of the previous request event */
    int stopped;   /* BAD seen */
    uint64_t base; /* stream offset of the current chunk */
    struct trace t;
};

/* tell: say what the next reply answers. */
static void tell(struct run *r)
{
    int k = r->expect == 3 ? (int)(r->replies % 3) : r->expect;
    if (r->mode == SHIM_MC_RESPONSE)
        shim_memcached_expect(&r->st, (enum shim_mc_expect)k);
}

static void run_start(struct run *r, int mode, int expect)
{
    memset(r, 0, sizeof(*r));
    r->mode = mode;
    r->expect = expect;
    shim_memcached_init(&r->st, (enum shim_mc_mode)mode);
    tell(r);
    r->t.hash = 14695981039346656037ull;
    r->last = SHIM_MC_EV_REQ_DONE;
}

/* check_event: the invariants of one event (c: bytes it consumed). */
static void check_event(struct run *r, const struct shim_mc_event *ev, size_t c)
{
    if (ev->cmd >= SHIM_MC_CMD_COUNT || ev->result >= SHIM_MC_R_COUNT || ev->error >= SHIM_MC_E_COUNT)
        fail("id out of range", ev->cmd, ev->result);
    if (ev->is_error != (ev->error != SHIM_MC_E_NONE))
        fail("is_error vs error", ev->is_error, ev->error);
    if (c == 0 && !(ev->type == SHIM_MC_EV_REQ_DONE && r->last == SHIM_MC_EV_REQ_BEGIN))
        fail("event consumed nothing", ev->type, (unsigned long)r->last);
    switch (ev->type) {
    case SHIM_MC_EV_REQ_BEGIN:
    case SHIM_MC_EV_REQ_DONE:
        if (r->mode != SHIM_MC_REQUEST)
            fail("request event in response mode", ev->type, 0);
        if (ev->type != (r->last == SHIM_MC_EV_REQ_DONE ? SHIM_MC_EV_REQ_BEGIN : SHIM_MC_EV_REQ_DONE))
            fail("request events out of order", ev->type, (unsigned long)r->last);
        r->last = ev->type;
        if (ev->is_error || ev->hits || ev->result)
            fail("reply fields in a request event", ev->is_error, ev->hits);
        if (ev->keys && !(ev->cmd == SHIM_MC_CMD_GET || ev->cmd == SHIM_MC_CMD_GETS || ev->cmd == SHIM_MC_CMD_GAT ||
                          ev->cmd == SHIM_MC_CMD_GATS || ev->cmd == SHIM_MC_CMD_MG))
            fail("keys for a command that looks nothing up", ev->cmd, ev->keys);
        if ((ev->flags & SHIM_MC_F_DATA) && ev->bytes > SHIM_MC_MAX_DATA)
            fail("data block over the limit", (unsigned long)ev->bytes, 0);
        break;
    case SHIM_MC_EV_RESP_DONE:
        if (r->mode != SHIM_MC_RESPONSE)
            fail("response event in request mode", ev->type, 0);
        if (ev->result == SHIM_MC_R_BINARY) {
            if (!(ev->flags & SHIM_MC_F_BINARY) || ev->hits > 1)
                fail("binary reply", ev->flags, ev->hits);
        } else if (ev->flags & SHIM_MC_F_BINARY) {
            fail("text result in a binary reply", ev->result, 0);
        } else if ((ev->result == SHIM_MC_R_ERROR || ev->result == SHIM_MC_R_CLIENT_ERROR ||
                    ev->result == SHIM_MC_R_SERVER_ERROR) != ev->is_error) {
            fail("error result vs is_error", ev->result, ev->is_error);
        }
        if (ev->hits && ev->result != SHIM_MC_R_END && ev->result != SHIM_MC_R_VA && ev->result != SHIM_MC_R_HD &&
            ev->result != SHIM_MC_R_BINARY && !ev->is_error)
            fail("hits in a reply that has none", ev->result, ev->hits);
        r->replies++;
        tell(r);
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
    struct shim_mc_event ev;
    int rc, zero = 0;

    if (r->stopped)
        return;
    copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    for (;;) {
        uint8_t rec[48];
        uint64_t at;
        memset(&ev, 0x5A, sizeof(ev));
        c = (size_t)-1;
        rc = shim_memcached_feed(&r->st, copy + off, n - off, &ev, &c);
        if (c > n - off)
            fail("consumed beyond the chunk", (unsigned long)c, (unsigned long)(n - off));
        if (rc == SHIM_MC_EVENT) {
            zero = c ? 0 : zero + 1;
            if (zero > 1)
                fail("two events consumed nothing", 0, 0);
            off += c;
            check_event(r, &ev, c);
            at = r->base + off;
            memset(rec, 0, sizeof(rec));
            memcpy(rec, &at, 8);
            rec[8] = ev.type;
            rec[9] = ev.flags;
            rec[10] = ev.cmd;
            rec[11] = ev.result;
            rec[12] = ev.is_error;
            rec[13] = ev.error;
            rec[14] = ev.opcode;
            memcpy(rec + 16, &ev.status, 2);
            memcpy(rec + 18, &ev.keys, 4);
            memcpy(rec + 22, &ev.hits, 4);
            memcpy(rec + 26, &ev.opaque, 4);
            memcpy(rec + 30, &ev.keyhash, 4);
            memcpy(rec + 34, &ev.bytes, 8);
            mix(&r->t, rec, sizeof(rec));
            r->t.n++;
            continue;
        }
        if (rc == SHIM_MC_NEED_MORE) {
            if (off + c != n)
                fail("NEED_MORE without using everything", (unsigned long)(off + c), (unsigned long)n);
            break;
        }
        if (rc != SHIM_MC_BAD)
            fail("unknown return code", (unsigned long)rc, 0);
        at = r->base + off + c;
        memset(rec, 0xEE, sizeof(rec));
        memcpy(rec, &at, 8);
        mix(&r->t, rec, sizeof(rec));
        r->stopped = 1;
        if (shim_memcached_feed(&r->st, copy, n, &ev, &c) != SHIM_MC_BAD || c != 0)
            fail("BAD is not sticky", 0, 0);
        break;
    }
    free(copy);
    r->base += n;
}

static void finish(struct run *r)
{
    int rc = shim_memcached_eof(&r->st);
    uint8_t b = (uint8_t)(rc + 10);
    if (r->stopped != (rc == SHIM_MC_BAD))
        fail("eof vs BAD", (unsigned long)r->stopped, (unsigned long)rc);
    mix(&r->t, &b, 1);
    if (shim_memcached_eof(&r->st) != (rc == SHIM_MC_BAD ? SHIM_MC_BAD : SHIM_MC_IDLE))
        fail("second eof", 0, 0);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
    if (a->t.hash != b->t.hash || a->t.n != b->t.n) {
        fprintf(stderr, "fuzz_memcached: %s gives another trace (%u vs %u events)\n", how, a->t.n, b->t.n);
        abort();
    }
}

/* check_detect: a detector over growing prefixes: once decided (0 or 1),
 * longer prefixes must give the same answer. */
static void check_detect(const uint8_t *data, size_t len, int (*detect)(const uint8_t *, size_t))
{
    size_t n, max = len < 48 ? len : 48;
    int decided = -1;
    for (n = 0; n <= max; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        int d;
        if (!copy)
            abort();
        memcpy(copy, data, n);
        d = detect(copy, n);
        free(copy);
        if (d < -1 || d > 1)
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
    int mode, expect;

    if (size < 1)
        return 0;
    mode = data[0] & 1;
    expect = (data[0] >> 1) & 3;
    in = data + 1;
    len = size - 1;
    split = len * (size_t)(data[0] >> 3) / 31;

    run_start(&whole, mode, expect);
    feed(&whole, in, len);
    finish(&whole);

    run_start(&other, mode, expect);
    feed(&other, in, split);
    feed(&other, in + split, len - split);
    finish(&other);
    same(&whole, &other, "split in two");

    run_start(&other, mode, expect);
    for (i = 0; i < len; i += step) {
        step = 1 + (in[i] % 13);
        if (step > len - i)
            step = len - i;
        feed(&other, in + i, step);
    }
    finish(&other);
    same(&whole, &other, "small chunks");

    if (len <= 4096) {
        run_start(&other, mode, expect);
        for (i = 0; i < len; i++)
            feed(&other, in + i, 1);
        finish(&other);
        same(&whole, &other, "byte at a time");
    }
    check_detect(in, len, mode == SHIM_MC_REQUEST ? shim_memcached_detect_request : shim_memcached_detect_response);
    return 0;
}
