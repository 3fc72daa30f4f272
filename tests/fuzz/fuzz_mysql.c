/*
 * fuzz_mysql.c - libFuzzer harness for the MySQL / MariaDB protocol parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_mysql.c shim/proto/mysql.c shim/proto/sqlop.c -o build/fuzz_mysql
 *   build/fuzz_mysql -max_total_time=60 /tmp/mysql-corpus tests/fuzz/corpus/mysql
 *
 * Input: byte 0 is control: bits 0-1 the run kind (0 frontend, 1 backend
 * with expectations made up from byte 1, 2 frontend then backend: the rest
 * is split at its first "\xff\xfe\xfd\xfc" marker, the frontend part's
 * events are handed to the backend with shim_mysql_expect before its part,
 * 3 the SQL keyword scanner), bits 2-7 the split point (0..63 scaled to
 * the length). The stream is fed whole, split in two, in pseudo-random
 * small chunks and, when short, byte by byte; each chunk is copied to its
 * own exact-size heap block so ASan sees any read past it. The traces
 * (every event, field and stream offset, and the final state) must be
 * identical and every event must keep the API's invariants; otherwise
 * abort().
 */
#include "shim/proto/mysql.h"
#include "shim/proto/sqlop.h"

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
    fprintf(stderr, "fuzz_mysql: %s (%lu, %lu)\n", what, a, b);
    abort();
}

/* note: fold one record into the trace after checking the event. */
static void note(struct trace *t, int rc, const struct shim_mysql_event *ev, uint64_t off, int mode)
{
    uint8_t rec[64];
    memset(rec, 0, sizeof(rec));
    rec[0] = (uint8_t)(rc + 1);
    memcpy(rec + 1, &off, 8);
    if (ev) {
        if (ev->type == SHIM_MYSQL_EV_NONE || ev->type > SHIM_MYSQL_EV_RESP_DONE)
            fail("event type", ev->type, 0);
        if ((mode == SHIM_MYSQL_FRONTEND) !=
            (ev->type == SHIM_MYSQL_EV_HANDSHAKE || ev->type == SHIM_MYSQL_EV_REQ))
            fail("event of the other direction", ev->type, (unsigned long)mode);
        if (ev->op >= SHIM_SQL_OP_COUNT)
            fail("op out of range", ev->op, 0);
        if (ev->sqlstate[5] != 0 || strlen(ev->sqlstate) > 5)
            fail("sqlstate not terminated", 0, 0);
        if (ev->type != SHIM_MYSQL_EV_RESP_DONE && (ev->flags & SHIM_MYSQL_F_ERROR))
            fail("error on a non-response", ev->flags, 0);
        if (!(ev->flags & SHIM_MYSQL_F_ERROR) && (ev->err_code || ev->sqlstate[0]))
            fail("error code without the error flag", ev->err_code, 0);
        memcpy(rec + 9, ev, 39);
    }
    mix(t, rec, sizeof(rec));
    t->n++;
}

/* Frontend events kept for a backend run (pair mode). */
#define MAX_FE 4096
static struct shim_mysql_event fe_events[MAX_FE];
static unsigned n_fe;

struct run {
    struct shim_mysql st;
    int mode;
    int stopped;
    int keep;       /* keep frontend events in fe_events */
    uint64_t base;
    struct trace t;
};

static void run_start(struct run *r, int mode, const uint8_t *exp, size_t nexp, int pair)
{
    size_t i;
    struct shim_mysql_event ev;
    memset(r, 0, sizeof(*r));
    r->mode = mode;
    shim_mysql_init(&r->st, (enum shim_mysql_mode)mode);
    r->t.hash = 14695981039346656037ull;
    if (mode != SHIM_MYSQL_BACKEND)
        return;
    if (pair) {
        for (i = 0; i < n_fe; i++)
            shim_mysql_expect(&r->st, &fe_events[i]);
        return;
    }
    /* made-up expectations: a handshake (caps from the first byte), then
     * commands */
    for (i = 0; i < nexp; i++) {
        static const uint8_t cmds[8] = {0x03, 0x16, 0x17, 0x0e, 0x04, 0x09, 0x11, 0x1c};
        memset(&ev, 0, sizeof(ev));
        if (i == 0) {
            ev.type = SHIM_MYSQL_EV_HANDSHAKE;
            ev.caps = 0x200u | ((exp[i] & 1) ? SHIM_MYSQL_CLIENT_DEPRECATE_EOF : 0) |
                      ((exp[i] & 2) ? SHIM_MYSQL_CLIENT_QUERY_ATTRIBUTES : 0);
            if ((exp[i] & 0x0c) == 0x0c)
                ev.flags = SHIM_MYSQL_F_COMPRESS;
        } else {
            ev.type = SHIM_MYSQL_EV_REQ;
            ev.cmd = cmds[exp[i] & 7];
            ev.op = (uint8_t)((exp[i] >> 3) % SHIM_SQL_OP_COUNT);
            ev.stmt_id = exp[i] >> 6;
        }
        shim_mysql_expect(&r->st, &ev);
    }
}

static void run_chunk(struct run *r, const uint8_t *data, size_t len)
{
    uint8_t *copy;
    struct shim_mysql_event ev;
    size_t off = 0, c;
    int rc;

    if (r->stopped) {
        r->base += len;
        return;
    }
    copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    for (;;) {
        memset(&ev, 0xA5, sizeof(ev));
        c = (size_t)-1;
        rc = shim_mysql_feed(&r->st, copy + off, len - off, &ev, &c);
        if (c > len - off)
            fail("consumed past the end", (unsigned long)c, (unsigned long)(len - off));
        if (rc == SHIM_MYSQL_EVENT) {
            if (c == 0)
                fail("event without progress", ev.type, 0);
            off += c;
            note(&r->t, rc, &ev, r->base + off, r->mode);
            if (r->keep && n_fe < MAX_FE)
                fe_events[n_fe++] = ev;
            continue;
        }
        if (rc == SHIM_MYSQL_NEED_MORE) {
            if (off + c != len)
                fail("NEED_MORE before the end", (unsigned long)(off + c), (unsigned long)len);
            break;
        }
        if (rc != SHIM_MYSQL_BAD && rc != SHIM_MYSQL_ENCRYPTED)
            fail("feed return value", (unsigned long)rc, 0);
        if (rc == SHIM_MYSQL_ENCRYPTED && c != 0)
            fail("ENCRYPTED consumed bytes", (unsigned long)c, 0);
        note(&r->t, rc, NULL, r->base + off + c, r->mode);
        if (shim_mysql_feed(&r->st, copy, len, &ev, &c) != rc || c != 0)
            fail("BAD/ENCRYPTED not sticky", (unsigned long)rc, (unsigned long)c);
        if (shim_mysql_idle(&r->st) != -1)
            fail("idle after BAD/ENCRYPTED", 0, 0);
        r->stopped = 1;
        break;
    }
    free(copy);
    r->base += len;
}

static void run_end(struct run *r)
{
    int idle = shim_mysql_idle(&r->st);
    note(&r->t, 50 + idle, NULL, r->base, r->mode);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
    if (a->t.hash != b->t.hash || a->t.n != b->t.n) {
        fprintf(stderr, "fuzz_mysql: trace of %s differs from whole (%u vs %u records)\n", how,
                b->t.n, a->t.n);
        abort();
    }
}

/* all_ways: one direction fed whole, split, in random chunks, byte by byte. */
static void all_ways(int mode, const uint8_t *data, size_t len, size_t split,
                     const uint8_t *exp, size_t nexp, int pair, int keep)
{
    static struct run whole, other;
    uint64_t seed = 14695981039346656037ull;
    size_t i, n;

    if (keep)
        n_fe = 0;
    run_start(&whole, mode, exp, nexp, pair);
    whole.keep = keep;
    run_chunk(&whole, data, len);
    run_end(&whole);

    run_start(&other, mode, exp, nexp, pair);
    run_chunk(&other, data, split);
    run_chunk(&other, data + split, len - split);
    run_end(&other);
    same(&whole, &other, "split");

    for (i = 0; i < len; i++)
        seed = (seed ^ data[i]) * 1099511628211ull;
    run_start(&other, mode, exp, nexp, pair);
    for (i = 0; i < len; i += n) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        n = 1 + (size_t)(seed >> 60);
        if (n > len - i)
            n = len - i;
        run_chunk(&other, data + i, n);
    }
    run_end(&other);
    same(&whole, &other, "random chunks");

    if (len <= 4096) {
        run_start(&other, mode, exp, nexp, pair);
        for (i = 0; i < len; i++)
            run_chunk(&other, data + i, 1);
        run_end(&other);
        same(&whole, &other, "byte by byte");
    }
}

/* detector: over growing prefixes (exact-size copies) it says "need more"
 * for a while, then settles on 0 or 1 for good, by 7 bytes at most. */
static void detector(const uint8_t *data, size_t len)
{
    size_t k, max = len < 16 ? len : 16;
    int settled = -1, r;
    for (k = 0; k <= max; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        if (!copy)
            abort();
        memcpy(copy, data, k);
        r = shim_mysql_detect(copy, k);
        free(copy);
        if (r < -1 || r > 1 || (settled >= 0 && r != settled))
            fail("detector not monotonic", (unsigned long)k, (unsigned long)(r + 1));
        if (r >= 0)
            settled = r;
    }
    if (len >= 7 && settled < 0)
        fail("detector undecided after 7 bytes", 0, 0);
    if (strcmp(shim_mysql_cmd_name(len ? data[0] : 0), "") == 0)
        fail("empty command name", 0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t marker[4] = {0xff, 0xfe, 0xfd, 0xfc};
    uint8_t ctl;
    size_t len, split, nexp = 0, i;
    const uint8_t *exp = NULL;

    if (size < 1)
        return 0;
    ctl = data[0];
    data++;
    len = size - 1;
    split = (size_t)(ctl >> 2) * len / 63;

    switch (ctl & 3) {
    case 0:
        all_ways(SHIM_MYSQL_FRONTEND, data, len, split, NULL, 0, 0, 0);
        break;
    case 1:
        if (len >= 1) {
            nexp = data[0] & 15;
            exp = data + 1;
            if (nexp > len - 1)
                nexp = len - 1;
            data += 1 + nexp;
            len -= 1 + nexp;
            split = split > len ? len : split;
        }
        all_ways(SHIM_MYSQL_BACKEND, data, len, split, exp, nexp, 0, 0);
        break;
    case 2:
        for (i = 0; i + 4 <= len; i++)
            if (memcmp(data + i, marker, 4) == 0)
                break;
        if (i + 4 > len)
            i = len;
        all_ways(SHIM_MYSQL_FRONTEND, data, i, split > i ? i : split, NULL, 0, 0, 1);
        if (i + 4 <= len) {
            const uint8_t *be = data + i + 4;
            size_t blen = len - i - 4;
            all_ways(SHIM_MYSQL_BACKEND, be, blen, split > blen ? blen : split, NULL, 0, 1, 0);
        }
        break;
    default:
        detector(data, len);
        break;
    }
    return 0;
}
