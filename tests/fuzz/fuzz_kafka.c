/*
 * fuzz_kafka.c - libFuzzer harness for the Kafka wire-protocol parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_kafka.c shim/proto/kafka.c -o build/fuzz_kafka
 *   build/fuzz_kafka -max_total_time=120 /tmp/kafka-corpus tests/fuzz/corpus/kafka
 *
 * Input: byte 0 is control: bit 0 response mode, bits 1-7 the split point
 * (0..127 scaled to the stream's length). Response mode: byte 1 is a count
 * n (taken modulo SHIM_KAFKA_INFLIGHT + 1) of expectations that follow,
 * 6 bytes each (correlation id int32 big-endian, api key, api version),
 * all handed to shim_kafka_expect before the first byte. The rest is the
 * byte stream. It is fed whole, split in two, in small chunks whose sizes
 * come from the data, and, when short, byte by byte; each chunk is copied
 * to its own exact-size heap block so ASan sees any read past it. The
 * traces (every event, its fields, its topic bytes and its stream offset,
 * then the BAD offset and the final idle state) must be identical, and each
 * run must keep the API's invariants; otherwise abort(). The request
 * detector is run over growing prefixes too, and the topic map learns from
 * and resolves every event.
 */
#include "shim/proto/kafka.h"

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
    fprintf(stderr, "fuzz_kafka: %s (%lu, %lu)\n", what, a, b);
    abort();
}

struct expectation {
    int32_t corr;
    int16_t key, ver;
};

/* The caller's side of one run. */
struct run {
    struct shim_kafka st;
    struct shim_kafka_topic_map map;
    int mode;
    int stopped;   /* BAD seen */
    int zero;      /* events in a row that consumed nothing */
    uint64_t base; /* stream offset of the current chunk */
    struct trace t;
};

static void run_start(struct run *r, int mode, const struct expectation *ex, unsigned nex)
{
    unsigned k;
    memset(r, 0, sizeof(*r));
    r->mode = mode;
    shim_kafka_init(&r->st, (enum shim_kafka_mode)mode);
    for (k = 0; k < nex; k++) {
        int rc = shim_kafka_expect(&r->st, ex[k].corr, ex[k].key, ex[k].ver);
        if (rc < -1 || rc > 1)
            fail("expect result", (unsigned long)rc, k);
    }
    r->t.hash = 14695981039346656037ull;
}

/* check_event: the invariants of one event. */
static void check_event(struct run *r, const struct shim_kafka_event *ev)
{
    if (ev->type <= SHIM_KAFKA_EV_NONE || ev->type >= SHIM_KAFKA_EV_COUNT)
        fail("event type", ev->type, 0);
    if (r->mode == SHIM_KAFKA_REQUEST && ev->type > SHIM_KAFKA_EV_REQ_DONE)
        fail("response event in request mode", ev->type, 0);
    if (r->mode == SHIM_KAFKA_RESPONSE && ev->type < SHIM_KAFKA_EV_RESP)
        fail("request event in response mode", ev->type, 0);
    if (!ev->topic || ev->topic_len > SHIM_KAFKA_NAME_CAP)
        fail("topic", ev->topic_len, 0);
    if (ev->codec > 7)
        fail("codec", ev->codec, 0);
    if (ev->records < 0)
        fail("negative records", 0, 0);
    if (ev->frame_size > SHIM_KAFKA_MAX_FRAME)
        fail("frame size", ev->frame_size, 0);
    if (ev->type == SHIM_KAFKA_EV_RESP_DONE &&
        (((ev->flags & SHIM_KAFKA_F_ERROR) != 0) != (ev->records > 0)))
        fail("error flag vs error count", ev->flags, (unsigned long)ev->records);
    if ((ev->type == SHIM_KAFKA_EV_REQ || ev->type == SHIM_KAFKA_EV_REQ_DONE) &&
        (ev->api_key < 0 || ev->api_key > SHIM_KAFKA_MAX_API_KEY || ev->api_version < 0 ||
         ev->api_version > SHIM_KAFKA_MAX_API_VERSION))
        fail("request key / version", (unsigned long)ev->api_key, (unsigned long)ev->api_version);
    if ((ev->flags & SHIM_KAFKA_F_UNMATCHED) && ev->api_key != -1)
        fail("unmatched with a key", (unsigned long)ev->api_key, 0);
    /* exercise the topic map */
    if (ev->type == SHIM_KAFKA_EV_TOPIC) {
        shim_kafka_map_learn(&r->map, ev);
    } else {
        struct shim_kafka_event copy = *ev;
        if (shim_kafka_map_resolve(&r->map, &copy) &&
            (copy.topic_len == 0 || copy.topic_len > SHIM_KAFKA_NAME_CAP))
            fail("resolved name", copy.topic_len, 0);
    }
    (void)shim_kafka_error_name(ev->error_code);
    (void)shim_kafka_api_name(ev->api_key);
}

/* feed: one chunk, copied to an exact-size heap block. */
static void feed(struct run *r, const uint8_t *p, size_t n)
{
    uint8_t *copy;
    size_t off = 0, c;
    struct shim_kafka_event ev;
    int rc;

    if (r->stopped)
        return;
    copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    for (;;) {
        uint8_t rec[200];
        uint64_t at;
        memset(&ev, 0x5A, sizeof(ev));
        c = (size_t)-1;
        rc = shim_kafka_feed(&r->st, copy + off, n - off, &ev, &c);
        if (c > n - off)
            fail("consumed beyond the chunk", (unsigned long)c, (unsigned long)(n - off));
        if (rc == SHIM_KAFKA_EVENT) {
            off += c;
            r->zero = c ? 0 : r->zero + 1;
            if (r->zero > 8)
                fail("too many events at one offset", (unsigned long)r->zero, 0);
            check_event(r, &ev);
            at = r->base + off;
            memset(rec, 0, sizeof(rec));
            memcpy(rec, &at, 8);
            rec[8] = ev.type;
            rec[9] = ev.codec;
            rec[10] = ev.topic_len;
            memcpy(rec + 12, &ev.flags, 2);
            memcpy(rec + 14, &ev.api_key, 2);
            memcpy(rec + 16, &ev.api_version, 2);
            memcpy(rec + 18, &ev.error_code, 2);
            memcpy(rec + 20, &ev.correlation_id, 4);
            memcpy(rec + 24, &ev.partition, 4);
            memcpy(rec + 28, &ev.frame_size, 4);
            memcpy(rec + 32, &ev.batches, 4);
            memcpy(rec + 36, &ev.records, 8);
            memcpy(rec + 44, &ev.offset, 8);
            memcpy(rec + 52, &ev.high_watermark, 8);
            memcpy(rec + 60, &ev.last_stable_offset, 8);
            memcpy(rec + 68, &ev.log_start_offset, 8);
            memcpy(rec + 76, &ev.timestamp, 8);
            memcpy(rec + 84, ev.topic_id, 16);
            mix(&r->t, rec, 100);
            mix(&r->t, ev.topic, ev.topic_len);
            r->t.n++;
            continue;
        }
        if (rc == SHIM_KAFKA_NEED_MORE) {
            if (off + c != n)
                fail("NEED_MORE without using everything", (unsigned long)(off + c), (unsigned long)n);
            if (shim_kafka_idle(&r->st) < 0)
                fail("NEED_MORE while BAD", 0, 0);
            break;
        }
        if (rc != SHIM_KAFKA_BAD)
            fail("unknown return code", (unsigned long)rc, 0);
        at = r->base + off + c;
        memset(rec, 0xEE, sizeof(rec));
        memcpy(rec, &at, 8);
        mix(&r->t, rec, 16);
        r->stopped = 1;
        if (shim_kafka_feed(&r->st, copy, n, &ev, &c) != SHIM_KAFKA_BAD || c != 0)
            fail("BAD is not sticky", 0, 0);
        if (shim_kafka_idle(&r->st) != -1)
            fail("idle after BAD", 0, 0);
        break;
    }
    free(copy);
    r->base += n;
}

/* finish: the final state, folded into the trace. */
static void finish(struct run *r)
{
    int idle = shim_kafka_idle(&r->st);
    uint8_t b = (uint8_t)(idle + 10);
    if (r->stopped != (idle == -1))
        fail("idle vs BAD", (unsigned long)r->stopped, (unsigned long)idle);
    mix(&r->t, &b, 1);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
    if (a->t.hash != b->t.hash || a->t.n != b->t.n) {
        fprintf(stderr, "fuzz_kafka: %s gives another trace (%u vs %u events)\n", how, a->t.n, b->t.n);
        abort();
    }
}

/* check_detect: the detector over growing prefixes: once it has decided
 * (0 or 1) longer prefixes must give the same answer. */
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
        d = shim_kafka_detect_request(copy, n);
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
    struct expectation ex[SHIM_KAFKA_INFLIGHT];
    unsigned nex = 0, k;
    const uint8_t *in;
    size_t len, split, i, step;
    int mode;

    if (size < 1)
        return 0;
    mode = data[0] & 1;
    in = data + 1;
    len = size - 1;
    if (mode == SHIM_KAFKA_RESPONSE) {
        if (len < 1)
            return 0;
        nex = in[0] % (SHIM_KAFKA_INFLIGHT + 1);
        in++;
        len--;
        if (len < (size_t)nex * 6)
            nex = (unsigned)(len / 6);
        for (k = 0; k < nex; k++) {
            ex[k].corr = (int32_t)((uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3]);
            ex[k].key = in[4];
            ex[k].ver = in[5];
            in += 6;
            len -= 6;
        }
    }
    split = len * (size_t)(data[0] >> 1) / 127;

    run_start(&whole, mode, ex, nex);
    feed(&whole, in, len);
    finish(&whole);

    run_start(&other, mode, ex, nex);
    feed(&other, in, split);
    feed(&other, in + split, len - split);
    finish(&other);
    same(&whole, &other, "split in two");

    /* small chunks, sizes from the data */
    run_start(&other, mode, ex, nex);
    for (i = 0; i < len; i += step) {
        step = 1 + (in[i] % 13);
        if (step > len - i)
            step = len - i;
        feed(&other, in + i, step);
    }
    finish(&other);
    same(&whole, &other, "small chunks");

    if (len <= 4096) {
        run_start(&other, mode, ex, nex);
        for (i = 0; i < len; i++)
            feed(&other, in + i, 1);
        finish(&other);
        same(&whole, &other, "byte at a time");
    }
    if (mode == SHIM_KAFKA_REQUEST)
        check_detect(in, len);
    return 0;
}
