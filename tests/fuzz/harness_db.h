/*
 * harness_db.h - the harness of a database protocol parser with a frontend
 * and a backend direction whose backend parser is told each frontend event
 * (MySQL and PostgreSQL: the same API under two prefixes), its
 * LLVMFuzzerTestOneInput included. Header-only, after harness.h. The
 * harness defines, before including it:
 *   DB(x)     its API's names: shim_mysql_##x (event, mode, init, feed,
 *             expect, idle)
 *   DB_RC(x)  its constants: SHIM_MYSQL_##x (EVENT, NEED_MORE, BAD,
 *             ENCRYPTED, FRONTEND, BACKEND)
 *   DB_STATE  its parser state: struct shim_mysql
 * and, anywhere, the functions declared below.
 *
 * Input: byte 0 is control: bits 0-1 the run kind (0 frontend, 1 backend
 * with expectations made up from byte 1, 2 frontend then backend: the rest
 * is split at its first "\xff\xfe\xfd\xfc" marker, the frontend part's
 * events are handed to the backend parser before its part, 3 the
 * harness's own: other_kind), bits 2-7 the split point (0..63 scaled to
 * the length).
 */
#ifndef TESTS_FUZZ_HARNESS_DB_H
#define TESTS_FUZZ_HARNESS_DB_H

/* note: check the event (NULL: rc is a final code) and fold the record
 * into the trace. */
static void note(struct trace *t, int rc, const struct DB(event) *ev, uint64_t off, int mode);
/* expect_made_up: tell a backend parser exp[0..nexp) as made-up events. */
static void expect_made_up(DB_STATE *st, const uint8_t *exp, size_t nexp);
/* frontend_extra: more checks on a frontend stream after its runs. */
static void frontend_extra(const uint8_t *data, size_t len);
/* other_kind: run kind 3. */
static void other_kind(const uint8_t *data, size_t len, size_t split);

/* Frontend events kept for a backend run (pair mode). */
#define MAX_FE 4096
static struct DB(event) fe_events[MAX_FE];
static unsigned n_fe;

struct run {
    struct trace t;
    DB_STATE st;
    int mode;
    int stopped;
    int keep;       /* keep frontend events in fe_events */
    uint64_t base;
};

/* What the runs of the current stream are told. */
static struct {
    int mode;
    const uint8_t *exp; /* made-up expectations */
    size_t nexp;
    int pair;           /* backend: the frontend events kept in fe_events */
    int keep;           /* frontend: keep the whole run's events */
} told;

static void run_start(void *rv, int way)
{
    struct run *r = rv;
    size_t i;
    memset(r, 0, sizeof(*r));
    r->mode = told.mode;
    DB(init)(&r->st, (enum DB(mode))told.mode);
    trace_init(&r->t);
    if (told.keep && way == WAY_WHOLE) {
        n_fe = 0;
        r->keep = 1;
    }
    if (told.mode != DB_RC(BACKEND))
        return;
    if (told.pair) {
        for (i = 0; i < n_fe; i++)
            DB(expect)(&r->st, &fe_events[i]);
        return;
    }
    expect_made_up(&r->st, told.exp, told.nexp);
}

static void run_chunk(void *rv, const uint8_t *data, size_t len)
{
    struct run *r = rv;
    uint8_t *copy;
    struct DB(event) ev;
    size_t off = 0, c;
    int rc;

    if (r->stopped) {
        r->base += len;
        return;
    }
    copy = copy_of(data, len);
    for (;;) {
        memset(&ev, 0xA5, sizeof(ev));
        c = (size_t)-1;
        rc = DB(feed)(&r->st, copy + off, len - off, &ev, &c);
        if (c > len - off)
            fail("consumed past the end", (unsigned long)c, (unsigned long)(len - off));
        if (rc == DB_RC(EVENT)) {
            if (c == 0)
                fail("event without progress", ev.type, 0);
            off += c;
            note(&r->t, rc, &ev, r->base + off, r->mode);
            if (r->keep && n_fe < MAX_FE)
                fe_events[n_fe++] = ev;
            continue;
        }
        if (rc == DB_RC(NEED_MORE)) {
            if (off + c != len)
                fail("NEED_MORE before the end", (unsigned long)(off + c), (unsigned long)len);
            break;
        }
        if (rc != DB_RC(BAD) && rc != DB_RC(ENCRYPTED))
            fail("feed return value", (unsigned long)rc, 0);
        if (rc == DB_RC(ENCRYPTED) && c != 0)
            fail("ENCRYPTED consumed bytes", (unsigned long)c, 0);
        note(&r->t, rc, NULL, r->base + off + c, r->mode);
        if (DB(feed)(&r->st, copy, len, &ev, &c) != rc || c != 0)
            fail("BAD/ENCRYPTED not sticky", (unsigned long)rc, (unsigned long)c);
        if (DB(idle)(&r->st) != -1)
            fail("idle after BAD/ENCRYPTED", 0, 0);
        r->stopped = 1;
        break;
    }
    free(copy);
    r->base += len;
}

static void run_end(void *rv)
{
    struct run *r = rv;
    int idle = DB(idle)(&r->st);
    note(&r->t, 50 + idle, NULL, r->base, r->mode);
}

static const struct replay db_replay = {run_start, run_chunk, run_end, CHUNKS_HASHED, 4096};

/* all_ways: one direction fed whole, split, in random chunks, byte by byte. */
static void all_ways(int mode, const uint8_t *data, size_t len, size_t split, const uint8_t *exp, size_t nexp,
                     int pair, int keep)
{
    static struct run whole, other;
    told.mode = mode;
    told.exp = exp;
    told.nexp = nexp;
    told.pair = pair;
    told.keep = keep;
    replay(&db_replay, &whole, &other, data, len, split);
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
        all_ways(DB_RC(FRONTEND), data, len, split, NULL, 0, 0, 0);
        frontend_extra(data, len);
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
        all_ways(DB_RC(BACKEND), data, len, split, exp, nexp, 0, 0);
        break;
    case 2:
        for (i = 0; i + 4 <= len; i++)
            if (memcmp(data + i, marker, 4) == 0)
                break;
        if (i + 4 > len)
            i = len;
        all_ways(DB_RC(FRONTEND), data, i, split > i ? i : split, NULL, 0, 0, 1);
        if (i + 4 <= len) {
            const uint8_t *be = data + i + 4;
            size_t blen = len - i - 4;
            all_ways(DB_RC(BACKEND), be, blen, split > blen ? blen : split, NULL, 0, 1, 0);
        }
        break;
    default:
        other_kind(data, len, split);
        break;
    }
    return 0;
}

#endif
