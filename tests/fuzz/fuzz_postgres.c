/*
 * fuzz_postgres.c - libFuzzer harness for the PostgreSQL protocol parser
 * and the SQL keyword scanner.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_postgres.c shim/proto/postgres.c shim/proto/sqlop.c -o build/fuzz_postgres
 *   build/fuzz_postgres -max_total_time=60 /tmp/pg-corpus tests/fuzz/corpus/postgres
 *
 * Input: byte 0 is control: bits 0-1 the run kind (0 frontend, 1 backend
 * with expectations made up from byte 1, 2 frontend then backend: the rest
 * is split at its first "\xff\xfe\xfd\xfc" marker, the frontend part's
 * events are handed to the backend with shim_pg_expect before its part,
 * 3 the SQL keyword scanner), bits 2-7 the split point (0..63 scaled to
 * the length). The stream is fed whole, split in two, in pseudo-random
 * small chunks and, when short, byte by byte; each chunk is copied to its
 * own exact-size heap block so ASan sees any read past it. The traces
 * (every event, field and stream offset, and the final state) must be
 * identical and every event must keep the API's invariants; otherwise
 * abort().
 */
#include "shim/proto/postgres.h"
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
    fprintf(stderr, "fuzz_postgres: %s (%lu, %lu)\n", what, a, b);
    abort();
}

/* note: fold one record into the trace after checking the event. */
static void note(struct trace *t, int rc, const struct shim_pg_event *ev, uint64_t off, int mode)
{
    uint8_t rec[48];
    memset(rec, 0, sizeof(rec));
    rec[0] = (uint8_t)(rc + 1);
    memcpy(rec + 1, &off, 8);
    if (ev) {
        if (ev->type == SHIM_PG_EV_NONE || ev->type > SHIM_PG_EV_RESP)
            fail("event type", ev->type, 0);
        if ((mode == SHIM_PG_FRONTEND) != (ev->type < SHIM_PG_EV_SSL_ANSWER))
            fail("event of the other direction", ev->type, (unsigned long)mode);
        if (ev->op >= SHIM_SQL_OP_COUNT)
            fail("op out of range", ev->op, 0);
        if (ev->sqlstate[5] != 0 || strlen(ev->sqlstate) > 5)
            fail("sqlstate not terminated", 0, 0);
        if (ev->aborted > ev->done)
            fail("aborted > done", ev->aborted, ev->done);
        if (ev->type == SHIM_PG_EV_REQ && (ev->kind < SHIM_PG_REQ_SIMPLE || ev->kind > SHIM_PG_REQ_FUNCTION))
            fail("REQ kind", ev->kind, 0);
        if (ev->type == SHIM_PG_EV_RESP && (ev->kind < SHIM_PG_RESP_COMPLETE || ev->kind > SHIM_PG_RESP_READY))
            fail("RESP kind", ev->kind, 0);
        if (ev->type != SHIM_PG_EV_RESP && (ev->done || ev->flags & (SHIM_PG_F_ERROR | SHIM_PG_F_ROWS)))
            fail("done/error on a non-response", ev->done, ev->flags);
        if (ev->type == SHIM_PG_EV_RESP && ev->kind != SHIM_PG_RESP_READY && ev->done > 1)
            fail("a completion message completes more than one", ev->done, ev->kind);
        memcpy(rec + 9, ev, sizeof(*ev) < 39 ? sizeof(*ev) : 39);
    }
    mix(t, rec, sizeof(rec));
    t->n++;
}

/* Frontend events kept for a backend run (pair mode). */
#define MAX_FE 4096
static struct shim_pg_event fe_events[MAX_FE];
static unsigned n_fe;

struct run {
    struct shim_pg st;
    int mode;
    int stopped;
    int keep;       /* keep frontend events in fe_events */
    uint64_t base;
    struct trace t;
};

static void run_start(struct run *r, int mode, const uint8_t *exp, size_t nexp, int pair)
{
    size_t i;
    struct shim_pg_event ev;
    memset(r, 0, sizeof(*r));
    r->mode = mode;
    shim_pg_init(&r->st, (enum shim_pg_mode)mode);
    r->t.hash = 14695981039346656037ull;
    if (mode != SHIM_PG_BACKEND)
        return;
    if (pair) {
        for (i = 0; i < n_fe; i++)
            shim_pg_expect(&r->st, &fe_events[i]);
        return;
    }
    /* made-up expectations: 2 bits each */
    for (i = 0; i < nexp; i++) {
        memset(&ev, 0, sizeof(ev));
        switch (exp[i] & 3) {
        case 0: ev.type = SHIM_PG_EV_REQ; ev.kind = SHIM_PG_REQ_SIMPLE; break;
        case 1: ev.type = SHIM_PG_EV_REQ; ev.kind = SHIM_PG_REQ_EXECUTE; break;
        case 2: ev.type = SHIM_PG_EV_SYNC; break;
        default: ev.type = SHIM_PG_EV_SSL_REQUEST; break;
        }
        shim_pg_expect(&r->st, &ev);
    }
}

static void run_chunk(struct run *r, const uint8_t *data, size_t len)
{
    uint8_t *copy;
    struct shim_pg_event ev;
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
        rc = shim_pg_feed(&r->st, copy + off, len - off, &ev, &c);
        if (c > len - off)
            fail("consumed past the end", (unsigned long)c, (unsigned long)(len - off));
        if (rc == SHIM_PG_EVENT) {
            if (c == 0)
                fail("event without progress", ev.type, 0);
            off += c;
            note(&r->t, rc, &ev, r->base + off, r->mode);
            if (r->keep && n_fe < MAX_FE)
                fe_events[n_fe++] = ev;
            continue;
        }
        if (rc == SHIM_PG_NEED_MORE) {
            if (off + c != len)
                fail("NEED_MORE before the end", (unsigned long)(off + c), (unsigned long)len);
            break;
        }
        if (rc != SHIM_PG_BAD && rc != SHIM_PG_ENCRYPTED)
            fail("feed return value", (unsigned long)rc, 0);
        if (rc == SHIM_PG_ENCRYPTED && c != 0)
            fail("ENCRYPTED consumed bytes", (unsigned long)c, 0);
        note(&r->t, rc, NULL, r->base + off + c, r->mode);
        if (shim_pg_feed(&r->st, copy, len, &ev, &c) != rc || c != 0)
            fail("BAD/ENCRYPTED not sticky", (unsigned long)rc, (unsigned long)c);
        if (shim_pg_idle(&r->st) != -1)
            fail("idle after BAD/ENCRYPTED", 0, 0);
        r->stopped = 1;
        break;
    }
    free(copy);
    r->base += len;
}

static void run_end(struct run *r)
{
    int idle = shim_pg_idle(&r->st);
    note(&r->t, 50 + idle, NULL, r->base, r->mode);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
    if (a->t.hash != b->t.hash || a->t.n != b->t.n) {
        fprintf(stderr, "fuzz_postgres: trace of %s differs from whole (%u vs %u records)\n", how,
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

/* scanner: the keyword of data, whole vs split vs byte by byte. */
static void scanner(const uint8_t *data, size_t len, size_t split)
{
    struct shim_sql_scan s;
    uint8_t *copy = malloc(len ? len : 1);
    int whole, r;
    size_t i;
    if (!copy)
        abort();
    memcpy(copy, data, len);
    whole = shim_sql_op(copy, len);
    if (whole < 0 || whole >= SHIM_SQL_OP_COUNT)
        fail("op out of range", (unsigned long)whole, 0);
    shim_sql_scan_init(&s);
    shim_sql_scan_feed(&s, copy, split);
    shim_sql_scan_feed(&s, copy + split, len - split);
    r = shim_sql_scan_end(&s);
    if (r != whole)
        fail("scanner split differs", (unsigned long)r, (unsigned long)whole);
    shim_sql_scan_init(&s);
    for (i = 0; i < len; i++)
        shim_sql_scan_feed(&s, copy + i, 1);
    if (shim_sql_scan_end(&s) != whole)
        fail("scanner byte by byte differs", 0, 0);
    if (strcmp(shim_sql_op_name(whole), "") == 0)
        fail("empty op name", (unsigned long)whole, 0);
    free(copy);
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
        all_ways(SHIM_PG_FRONTEND, data, len, split, NULL, 0, 0, 0);
        if (len >= 8 || shim_pg_detect(data, len) != -1) {
            int d = shim_pg_detect(data, len);
            if (d < -1 || d > 1 || (len >= 8 && d == -1))
                fail("detector", (unsigned long)(d + 1), (unsigned long)len);
        }
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
        all_ways(SHIM_PG_BACKEND, data, len, split, exp, nexp, 0, 0);
        break;
    case 2:
        for (i = 0; i + 4 <= len; i++)
            if (memcmp(data + i, marker, 4) == 0)
                break;
        if (i + 4 > len)
            i = len;
        all_ways(SHIM_PG_FRONTEND, data, i, split > i ? i : split, NULL, 0, 0, 1);
        if (i + 4 <= len) {
            const uint8_t *be = data + i + 4;
            size_t blen = len - i - 4;
            all_ways(SHIM_PG_BACKEND, be, blen, split > blen ? blen : split, NULL, 0, 1, 0);
        }
        break;
    default:
        scanner(data, len, split);
        break;
    }
    return 0;
}
