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

#define HARNESS "fuzz_memcached"
#include "harness.h"

/* The caller's side of one run. */
struct run {
    struct trace t;
    struct shim_mc st;
    int mode;
    int expect;    /* control bits 1-2 */
    unsigned replies;
    int last;      /* type of the previous request event */
    int zero;      /* events in a row that consumed nothing */
    int stopped;   /* BAD seen */
    uint64_t base; /* stream offset of the current chunk */
};

static int cur_mode, cur_expect; /* the current input's runs' */

#define PX_EOF shim_memcached_eof
#define PX_FEED shim_memcached_feed
#define PX_RC(x) SHIM_MC_##x
#define PX_EVENT struct shim_mc_event
#define STOP_REC 48
#include "harness_feed.h"

/* tell: say what the next reply answers. */
static void tell(struct run *r)
{
    int k = r->expect == 3 ? (int)(r->replies % 3) : r->expect;
    if (r->mode == SHIM_MC_RESPONSE)
        shim_memcached_expect(&r->st, (enum shim_mc_expect)k);
}

static void run_start(void *rv, int way)
{
    struct run *r = rv;
    memset(r, 0, sizeof(*r));
    r->mode = cur_mode;
    r->expect = cur_expect;
    shim_memcached_init(&r->st, (enum shim_mc_mode)cur_mode);
    tell(r);
    trace_init(&r->t);
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

/* on_event: at most one event in a row takes no byte; its invariants,
 * then its record: stream offset and fields. */
static void on_event(struct run *r, const struct shim_mc_event *ev, size_t c, uint64_t at)
{
    uint8_t rec[48];
    r->zero = c ? 0 : r->zero + 1;
    if (r->zero > 1)
        fail("two events consumed nothing", 0, 0);
    check_event(r, ev, c);
    memset(rec, 0, sizeof(rec));
    memcpy(rec, &at, 8);
    rec[8] = ev->type;
    rec[9] = ev->flags;
    rec[10] = ev->cmd;
    rec[11] = ev->result;
    rec[12] = ev->is_error;
    rec[13] = ev->error;
    rec[14] = ev->opcode;
    memcpy(rec + 16, &ev->status, 2);
    memcpy(rec + 18, &ev->keys, 4);
    memcpy(rec + 22, &ev->hits, 4);
    memcpy(rec + 26, &ev->opaque, 4);
    memcpy(rec + 30, &ev->keyhash, 4);
    memcpy(rec + 34, &ev->bytes, 8);
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
    cur_expect = (data[0] >> 1) & 3;
    in = data + 1;
    len = size - 1;
    split = len * (size_t)(data[0] >> 3) / 31;
    replay(&how, &whole, &other, in, len, split);
    /* the detector of the direction: once decided (0 or 1), longer
     * prefixes give the same answer */
    check_detect(in, len, 48, 1,
                 cur_mode == SHIM_MC_REQUEST ? shim_memcached_detect_request : shim_memcached_detect_response);
    return 0;
}
