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

#define HARNESS "fuzz_kafka"
#include "harness.h"

struct expectation {
    int32_t corr;
    int16_t key, ver;
};

/* The caller's side of one run. */
struct run {
    struct trace t;
    struct shim_kafka st;
    struct shim_kafka_topic_map map;
    int mode;
    int stopped;   /* BAD seen */
    int zero;      /* events in a row that consumed nothing */
    uint64_t base; /* stream offset of the current chunk */
};

/* The current input's runs: their mode and the expectations they are given. */
static int cur_mode;
static struct expectation cur_ex[SHIM_KAFKA_INFLIGHT];
static unsigned cur_nex;

#define PX_IDLE shim_kafka_idle
#define PX_FEED shim_kafka_feed
#define PX_RC(x) SHIM_KAFKA_##x
#define PX_EVENT struct shim_kafka_event
#define STOP_REC 16
#include "harness_feed.h"

static void run_start(void *rv, int way)
{
    struct run *r = rv;
    unsigned k;
    memset(r, 0, sizeof(*r));
    r->mode = cur_mode;
    shim_kafka_init(&r->st, (enum shim_kafka_mode)cur_mode);
    for (k = 0; k < cur_nex; k++) {
        int rc = shim_kafka_expect(&r->st, cur_ex[k].corr, cur_ex[k].key, cur_ex[k].ver);
        if (rc < -1 || rc > 1)
            fail("expect result", (unsigned long)rc, k);
    }
    trace_init(&r->t);
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

/* on_event: at most 8 events in a row at one offset; the invariants, then
 * the record: stream offset, fields and topic bytes. */
static void on_event(struct run *r, const struct shim_kafka_event *ev, size_t c, uint64_t at)
{
    uint8_t rec[100];
    r->zero = c ? 0 : r->zero + 1;
    if (r->zero > 8)
        fail("too many events at one offset", (unsigned long)r->zero, 0);
    check_event(r, ev);
    memset(rec, 0, sizeof(rec));
    memcpy(rec, &at, 8);
    rec[8] = ev->type;
    rec[9] = ev->codec;
    rec[10] = ev->topic_len;
    memcpy(rec + 12, &ev->flags, 2);
    memcpy(rec + 14, &ev->api_key, 2);
    memcpy(rec + 16, &ev->api_version, 2);
    memcpy(rec + 18, &ev->error_code, 2);
    memcpy(rec + 20, &ev->correlation_id, 4);
    memcpy(rec + 24, &ev->partition, 4);
    memcpy(rec + 28, &ev->frame_size, 4);
    memcpy(rec + 32, &ev->batches, 4);
    memcpy(rec + 36, &ev->records, 8);
    memcpy(rec + 44, &ev->offset, 8);
    memcpy(rec + 52, &ev->high_watermark, 8);
    memcpy(rec + 60, &ev->last_stable_offset, 8);
    memcpy(rec + 68, &ev->log_start_offset, 8);
    memcpy(rec + 76, &ev->timestamp, 8);
    memcpy(rec + 84, ev->topic_id, 16);
    mix(&r->t, rec, sizeof(rec));
    mix(&r->t, ev->topic, ev->topic_len);
    r->t.n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct replay how = {run_start, feed, finish, CHUNKS_FROM_DATA, 4096};
    static struct run whole, other;
    unsigned k;
    const uint8_t *in;
    size_t len, split;

    if (size < 1)
        return 0;
    cur_mode = data[0] & 1;
    cur_nex = 0;
    in = data + 1;
    len = size - 1;
    if (cur_mode == SHIM_KAFKA_RESPONSE) {
        if (len < 1)
            return 0;
        cur_nex = in[0] % (SHIM_KAFKA_INFLIGHT + 1);
        in++;
        len--;
        if (len < (size_t)cur_nex * 6)
            cur_nex = (unsigned)(len / 6);
        for (k = 0; k < cur_nex; k++) {
            cur_ex[k].corr = (int32_t)((uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3]);
            cur_ex[k].key = in[4];
            cur_ex[k].ver = in[5];
            in += 6;
            len -= 6;
        }
    }
    split = len * (size_t)(data[0] >> 1) / 127;
    replay(&how, &whole, &other, in, len, split);
    /* the request detector: once it has decided (0 or 1), longer prefixes
     * give the same answer */
    if (cur_mode == SHIM_KAFKA_REQUEST)
        check_detect(in, len, 48, 1, shim_kafka_detect_request);
    return 0;
}
