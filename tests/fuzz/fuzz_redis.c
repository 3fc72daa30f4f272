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

#define HARNESS "fuzz_redis"
#include "harness.h"

/* The caller's side of one run. */
struct run {
    struct trace t;
    struct shim_redis st;
    int mode;
    int last;      /* type of the previous request event */
    int stopped;   /* BAD seen */
    uint64_t base; /* stream offset of the current chunk */
};

static int cur_mode; /* the mode of the current input's runs */

#define PX_EOF shim_redis_eof
#define PX_FEED shim_redis_feed
#define PX_RC(x) SHIM_REDIS_##x
#define PX_EVENT struct shim_redis_event
#define STOP_REC 64
#include "harness_feed.h"

static void run_start(void *rv, int way)
{
    struct run *r = rv;
    memset(r, 0, sizeof(*r));
    r->mode = cur_mode;
    shim_redis_init(&r->st, (enum shim_redis_mode)cur_mode);
    trace_init(&r->t);
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

/* on_event: every event takes a byte; its invariants, then its record:
 * stream offset and fields. */
static void on_event(struct run *r, const struct shim_redis_event *ev, size_t c, uint64_t at)
{
    uint8_t rec[64];
    if (c == 0)
        fail("event consumed nothing", 0, 0);
    check_event(r, ev);
    memset(rec, 0, sizeof(rec));
    memcpy(rec, &at, 8);
    rec[8] = ev->type;
    rec[9] = ev->flags;
    rec[10] = ev->reply;
    rec[11] = ev->is_error;
    memcpy(rec + 12, &ev->cmd, 2);
    memcpy(rec + 14, &ev->argc, 4);
    memcpy(rec + 18, &ev->keys, 4);
    memcpy(rec + 22, &ev->nils, 4);
    memcpy(rec + 26, &ev->values, 4);
    memcpy(rec + 30, ev->err, SHIM_REDIS_ERR_CAP);
    mix(&r->t, rec, sizeof(rec));
    r->t.n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct replay how = {run_start, feed, finish, CHUNKS_FROM_DATA, 4096};
    static struct run whole, other;
    const uint8_t *in;
    size_t len, split;

    if (size < 1)
        return 0;
    cur_mode = data[0] & 1;
    in = data + 1;
    len = size - 1;
    split = len * (size_t)(data[0] >> 1) / 127;
    replay(&how, &whole, &other, in, len, split);
    /* the request detector: once it has decided (0, 1 or 2), longer
     * prefixes give the same answer */
    if (cur_mode == SHIM_REDIS_REQUEST)
        check_detect(in, len, 48, 2, shim_redis_detect_request);
    return 0;
}
