/*
 * trace_db.h - the traces of a database protocol parser with a frontend and
 * a backend direction, whose backend parser is told each frontend event at
 * the backend offset where it was sent (MySQL and PostgreSQL: the same API
 * under two prefixes). Header-only, after unit.h, guard.h and trace.h. The
 * test defines, before including it:
 *   DB(x)     its API's names: shim_mysql_##x (event, mode, init, feed,
 *             expect, idle)
 *   DB_STATE  its parser state: struct shim_mysql
 *   DB_RC(x)  its constants: SHIM_MYSQL_##x (EVENT, NEED_MORE, BAD,
 *             ENCRYPTED, FRONTEND, BACKEND)
 * and, anywhere, the three functions declared below: same_event,
 * check_event and render_event.
 *
 *   check_session(name, capture, NSEG(capture), want_frontend, want_backend)
 *   check_stream(name, mode, &buf, frontend_trace_or_NULL, want, idle)
 */
#ifndef TESTS_UNIT_TRACE_DB_H
#define TESTS_UNIT_TRACE_DB_H

#define MAXREC 400

struct rec {
    int rc;
    struct DB(event) ev;
    uint64_t off;   /* stream offset just after the event */
    size_t point;   /* frontend events: backend offset where it was sent */
};

struct trace {
    int n;
    int overflow;
    struct rec r[MAXREC];
};

/* same_event: two events equal in every field the test compares. */
static int same_event(const struct DB(event) *x, const struct DB(event) *y);
/* check_event: CHECK what holds for every event. */
static void check_event(const struct DB(event) *e);
/* render_event: the token of one event, appended at out + *n (appendf). */
static void render_event(const struct DB(event) *e, char *out, size_t cap, size_t *n);

static struct session sess;
static struct trace tr_fe, tr_whole, tr_other;

static void record(struct trace *t, int rc, const struct DB(event) *ev, uint64_t off)
{
    struct rec *r;
    if (t->n >= MAXREC) {
        t->overflow = 1;
        return;
    }
    r = &t->r[t->n++];
    memset(r, 0, sizeof(*r));
    r->rc = rc;
    r->off = off;
    if (ev)
        r->ev = *ev;
}

/* same_trace: every record equal. */
static int same_trace(const struct trace *a, const struct trace *b)
{
    int k;
    if (a->n != b->n || a->overflow != b->overflow)
        return 0;
    for (k = 0; k < a->n; k++) {
        const struct rec *x = &a->r[k], *y = &b->r[k];
        if (x->rc != y->rc || x->off != y->off || !same_event(&x->ev, &y->ev))
            return 0;
    }
    return 1;
}

/*
 * run: feed in[0..len) to a fresh parser of the given mode, in the chunks
 * delimited by the ascending offsets cuts[0..ncuts); a backend run also
 * cuts at the send points of the frontend events in fe (when not NULL)
 * and calls the expect function for each at its point. Records the trace.
 */
static void run(int mode, const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts,
                const struct trace *fe, struct trace *t)
{
    DB_STATE st;
    struct DB(event) ev;
    size_t a = 0, b, off, c, ci = 0;
    int fi = 0, rc, stopped = 0;

    memset(t, 0, sizeof(*t));
    DB(init)(&st, (enum DB(mode))mode);
    while (a <= len) {
        const uint8_t *p;
        /* the expectations due here */
        while (fe && fi < fe->n && fe->r[fi].point <= a) {
            if (fe->r[fi].rc == DB_RC(EVENT))
                DB(expect)(&st, &fe->r[fi].ev);
            fi++;
        }
        if (a == len)
            break;
        /* the next boundary: a cut or a send point */
        b = next_cut(cuts, ncuts, &ci, a, len);
        if (fe && fi < fe->n && fe->r[fi].point < b)
            b = fe->r[fi].point;
        p = at_guard(in + a, b - a);
        off = 0;
        while (!stopped) {
            memset(&ev, 0xA5, sizeof(ev));
            rc = DB(feed)(&st, p + off, b - a - off, &ev, &c);
            CHECK(c <= b - a - off);
            if (rc == DB_RC(EVENT)) {
                CHECK(c > 0);
                if (c == 0)
                    return;
                off += c;
                check_event(&ev);
                record(t, rc, &ev, a + off);
                continue;
            }
            if (rc == DB_RC(NEED_MORE)) {
                CHECK_EQ(off + c, b - a);
                break;
            }
            CHECK(rc == DB_RC(BAD) || rc == DB_RC(ENCRYPTED));
            record(t, rc, NULL, a + off + c);
            CHECK_EQ(DB(feed)(&st, p, b - a, &ev, &c), rc); /* sticky */
            CHECK_EQ(c, 0);
            stopped = 1;
        }
        a = b;
    }
    record(t, 100 + DB(idle)(&st), NULL, len);
}

/* mark_points: fill in each frontend event's send point. */
static void mark_points(struct trace *fe, const struct session *s)
{
    int k;
    for (k = 0; k < fe->n; k++)
        fe->r[k].point = send_point(s, fe->r[k].off);
}

/* ---------------------------------------------------------------- split checks */

/* every split, 50 random partitions (half of them in chunks of 1..7) */
static const struct split_plan db_plan = {SIZE_MAX, SIZE_MAX, 50, 25, 200, 200, ~0ul};

/* db_again: split_all's run; s->told: the frontend trace (or NULL). */
static int db_again(const struct split_ctx *s, const size_t *cuts, size_t ncuts)
{
    run(s->mode, s->in, s->len, cuts, ncuts, s->told, &tr_other);
    return same_trace(&tr_whole, &tr_other);
}

/* check_splits: the whole run of one direction into tr_whole, then every
 * way of split_all, each compared with the whole. */
static void check_splits(const char *name, int mode, const uint8_t *in, size_t len, const struct trace *fe)
{
    struct split_ctx s = {mode, in, len, fe};
    run(mode, in, len, NULL, 0, fe, &tr_whole);
    CHECK(!tr_whole.overflow);
    split_all(name, &s, &db_plan, len, db_again);
}

/* render: one token per record, space separated: render_event's, BAD /
 * ENCRYPTED where the stream stops; the final idle state is not rendered
 * (checked separately). */
static void render(const struct trace *t, char *out, size_t cap)
{
    size_t n = 0;
    int k;
    out[0] = 0;
    for (k = 0; k < t->n; k++) {
        const struct rec *r = &t->r[k];
        if (r->rc >= 99)
            continue;
        if (k)
            appendf(out, cap, &n, " ");
        if (r->rc == DB_RC(BAD))
            appendf(out, cap, &n, "BAD");
        else if (r->rc == DB_RC(ENCRYPTED))
            appendf(out, cap, &n, "ENCRYPTED");
        else
            render_event(&r->ev, out, cap, &n);
    }
}

static char got[16384];

/* check_done: tr_whole renders as want and ends in the given idle state. */
static void check_done(const char *label, const char *want, int want_idle)
{
    render(&tr_whole, got, sizeof(got));
    unit_set_context("%s", label);
    CHECK_STREQ(got, want);
    CHECK(tr_whole.n > 0 && tr_whole.r[tr_whole.n - 1].rc == 100 + want_idle);
    unit_context[0] = 0;
}

/* check_session: both directions of a capture: splits, expected renders,
 * both parsers end idle; the frontend trace is left in tr_fe. */
static void check_session(const char *name, const struct seg *segs, size_t nseg,
                          const char *want_fe, const char *want_be)
{
    char label[64];
    session_load(&sess, segs, nseg);

    snprintf(label, sizeof(label), "%s frontend", name);
    check_splits(label, DB_RC(FRONTEND), sess.client, sess.client_len, NULL);
    check_done(label, want_fe, 1);
    tr_fe = tr_whole;
    mark_points(&tr_fe, &sess);

    snprintf(label, sizeof(label), "%s backend", name);
    check_splits(label, DB_RC(BACKEND), sess.server, sess.server_len, &tr_fe);
    check_done(label, want_be, 1);
}

/* ---------------------------------------------------------------- synthetic streams */

struct buf {
    uint8_t b[8192];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > sizeof(b->b)) {
        fprintf(stderr, "buffer full\n");
        exit(2);
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static struct trace tr_syn;
static char want[4096];

/*
 * check_stream_at: feed a synthetic stream whole and in every split (with
 * the frontend events of fe_tr, when given, sent at backend offset
 * `point`), compare with the expected render and the final idle state.
 * check_stream: the same with every frontend event sent before the first
 * backend byte.
 */
static void check_stream_at(const char *name, int mode, const struct buf *in, struct trace *fe_tr, size_t point,
                            const char *want_render, int want_idle)
{
    int k;
    if (fe_tr)
        for (k = 0; k < fe_tr->n; k++)
            fe_tr->r[k].point = point;
    check_splits(name, mode, in->b, in->n, fe_tr);
    check_done(name, want_render, want_idle);
}
#define check_stream(name, mode, in, fe_tr, want_render, want_idle)                                 \
    check_stream_at(name, mode, in, fe_tr, 0, want_render, want_idle)

/* frontend_trace: the whole-run trace of a frontend stream into *t. */
static void frontend_trace(const struct buf *in, struct trace *t)
{
    run(DB_RC(FRONTEND), in->b, in->n, NULL, 0, NULL, t);
}

#endif
