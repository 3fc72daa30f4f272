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

#define HARNESS "fuzz_postgres"
#include "harness.h"

#define DB(x) shim_pg_##x
#define DB_RC(x) SHIM_PG_##x
#define DB_STATE struct shim_pg
#include "harness_db.h"

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

/* expect_made_up: 2 bits each. */
static void expect_made_up(struct shim_pg *st, const uint8_t *exp, size_t nexp)
{
    struct shim_pg_event ev;
    size_t i;
    for (i = 0; i < nexp; i++) {
        memset(&ev, 0, sizeof(ev));
        switch (exp[i] & 3) {
        case 0: ev.type = SHIM_PG_EV_REQ; ev.kind = SHIM_PG_REQ_SIMPLE; break;
        case 1: ev.type = SHIM_PG_EV_REQ; ev.kind = SHIM_PG_REQ_EXECUTE; break;
        case 2: ev.type = SHIM_PG_EV_SYNC; break;
        default: ev.type = SHIM_PG_EV_SSL_REQUEST; break;
        }
        shim_pg_expect(st, &ev);
    }
}

/* frontend_extra: the detector decides by 8 bytes. */
static void frontend_extra(const uint8_t *data, size_t len)
{
    if (len >= 8 || shim_pg_detect(data, len) != -1) {
        int d = shim_pg_detect(data, len);
        if (d < -1 || d > 1 || (len >= 8 && d == -1))
            fail("detector", (unsigned long)(d + 1), (unsigned long)len);
    }
}

/* other_kind: the SQL keyword scanner: the keyword of data, whole vs split
 * vs byte by byte. */
static void other_kind(const uint8_t *data, size_t len, size_t split)
{
    struct shim_sql_scan s;
    uint8_t *copy = copy_of(data, len);
    int whole, r;
    size_t i;
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
