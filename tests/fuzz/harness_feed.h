/*
 * harness_feed.h - one chunk fed as a careful caller would: an exact-size
 * heap copy, events until NEED_MORE, BAD sticky and folded as a stop
 * record; and the end of a run. For the harnesses that fold their own
 * event records (Redis, memcached, Kafka). Header-only, after harness.h.
 * The harness defines, before including it:
 *   PX_FEED    its parser's feed function (shim_redis_feed)
 *   PX_EOF     its parser's eof function, if it has one (shim_redis_eof)
 *   PX_IDLE    else its idle function (shim_kafka_idle: -1 once BAD)
 *   PX_RC(x)   its constants: SHIM_REDIS_##x (EVENT, NEED_MORE, BAD, and
 *              with PX_EOF IDLE)
 *   PX_EVENT   its event type
 *   STOP_REC   how many bytes the stop record is (mix_stop)
 *   struct run, with the members st (the parser), stopped, base (stream
 *   offset of the chunk) and t
 * and, anywhere, on_event (declared below).
 */
#ifndef TESTS_FUZZ_HARNESS_FEED_H
#define TESTS_FUZZ_HARNESS_FEED_H

/* on_event: check an event that took c bytes and ends at stream offset
 * `at`, and fold its record into r->t. */
static void on_event(struct run *r, const PX_EVENT *ev, size_t c, uint64_t at);

#ifdef PX_IDLE
/* check_state: the parser is BAD (idle -1) exactly when the run stopped. */
static void check_state(struct run *r)
{
    int idle = PX_IDLE(&r->st);
    if (r->stopped != (idle == -1))
        fail("idle vs BAD", (unsigned long)r->stopped, (unsigned long)idle);
}

/* finish: the final state, folded into the trace. */
static void finish(void *rv)
{
    struct run *r = rv;
    uint8_t b = (uint8_t)(PX_IDLE(&r->st) + 10);
    check_state(r);
    mix(&r->t, &b, 1);
}
#else
/* check_state: nothing to ask between chunks (eof would end the stream). */
static void check_state(struct run *r)
{
}

/* finish: eof, folded into the trace; a second eof finds it closed. */
static void finish(void *rv)
{
    struct run *r = rv;
    int rc = PX_EOF(&r->st);
    uint8_t b = (uint8_t)(rc + 10);
    if (r->stopped != (rc == PX_RC(BAD)))
        fail("eof vs BAD", (unsigned long)r->stopped, (unsigned long)rc);
    mix(&r->t, &b, 1);
    if (PX_EOF(&r->st) != (rc == PX_RC(BAD) ? PX_RC(BAD) : PX_RC(IDLE)))
        fail("second eof", 0, 0);
}
#endif

/* feed: one chunk, copied to an exact-size heap block. */
static void feed(void *rv, const uint8_t *p, size_t n)
{
    struct run *r = rv;
    uint8_t *copy;
    size_t off = 0, c;
    PX_EVENT ev;
    int rc;

    if (r->stopped)
        return;
    copy = copy_of(p, n);
    for (;;) {
        memset(&ev, 0x5A, sizeof(ev));
        c = (size_t)-1;
        rc = PX_FEED(&r->st, copy + off, n - off, &ev, &c);
        if (c > n - off)
            fail("consumed beyond the chunk", (unsigned long)c, (unsigned long)(n - off));
        if (rc == PX_RC(EVENT)) {
            off += c;
            on_event(r, &ev, c, r->base + off);
            continue;
        }
        if (rc == PX_RC(NEED_MORE)) {
            if (off + c != n)
                fail("NEED_MORE without using everything", (unsigned long)(off + c), (unsigned long)n);
            check_state(r);
            break;
        }
        if (rc != PX_RC(BAD))
            fail("unknown return code", (unsigned long)rc, 0);
        mix_stop(&r->t, r->base + off + c, STOP_REC);
        r->stopped = 1;
        if (PX_FEED(&r->st, copy, n, &ev, &c) != PX_RC(BAD) || c != 0)
            fail("BAD is not sticky", 0, 0);
        check_state(r);
        break;
    }
    free(copy);
    r->base += n;
}

#endif
