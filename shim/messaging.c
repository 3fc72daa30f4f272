/*
 * messaging.c - Kafka sessions (client side: a program that produces or
 * consumes through librdkafka, the Java client, kcat...). The request
 * parser follows what the client writes, the response parser what it
 * reads; each request is timed from its first byte written to its
 * response's last byte read. This file is also the messaging part of the
 * catalogue:
 *
 *   messaging_client_operation_duration_seconds{messaging_system,
 *       messaging_operation_name (publish, receive, commit, or the Kafka API
 *       name), messaging_destination_name (the request's first topic),
 *       error_type (Kafka error name)}
 *   messaging_client_sent_messages_total / _consumed_messages_total
 *       {messaging_system, messaging_destination_name}: records produced
 *       (counted as written) and records fetched (complete batches)
 *   messaging_kafka_consumer_lag{messaging_destination_name, partition}:
 *       high watermark minus the committed offset (or, before a commit,
 *       the consumer's next fetch offset)
 *   messaging_dead_letter_messages_total{messaging_destination_name}:
 *       records produced to topics matching the dead-letter patterns
 *
 * Hook context: no malloc, no locks (series creation aside), clock at
 * request boundaries only. The topic id -> name map (Fetch v13+) is per
 * process and written without a lock: a race can only misname a series
 * briefly, never crash.
 */
#include <errno.h>
#include <string.h>

#include "shim/messaging.h"
#include "shim/metrics.h"
#include "shim/registry.h"
#include "shim/shim.h"

static const struct shim_family_def def_op = {
    .name = "messaging_client_operation_duration_seconds",
    .help = "Duration of Kafka requests, from the first byte written to the last byte of the response read.",
    .type = SHIM_HISTOGRAM,
    .nlabels = 4,
    .labels = {"messaging_system", "messaging_operation_name", "messaging_destination_name", "error_type"},
    .scale = 1e9,
};
static const struct shim_family_def def_sent = {
    .name = "messaging_client_sent_messages_total",
    .help = "Messages (records) a producer sent, by topic.",
    .type = SHIM_COUNTER,
    .nlabels = 2,
    .labels = {"messaging_system", "messaging_destination_name"},
};
static const struct shim_family_def def_consumed = {
    .name = "messaging_client_consumed_messages_total",
    .help = "Messages (records) a consumer received, by topic.",
    .type = SHIM_COUNTER,
    .nlabels = 2,
    .labels = {"messaging_system", "messaging_destination_name"},
};
static const struct shim_family_def def_lag = {
    .name = "messaging_kafka_consumer_lag",
    .help = "Records between a partition's high watermark and the consumer group's committed offset (before a commit: the next offset it fetches).",
    .type = SHIM_GAUGE,
    .nlabels = 2,
    .labels = {"messaging_destination_name", "partition"},
};
static const struct shim_family_def def_dlq = {
    .name = "messaging_dead_letter_messages_total",
    .help = "Messages sent to dead-letter topics (names matching the dead-letter patterns).",
    .type = SHIM_COUNTER,
    .nlabels = 1,
    .labels = {"messaging_destination_name"},
};

static struct shim_kafka_topic_map topics;

/*
 * Consumer lag per partition: the high watermark (from the last fetch
 * response) minus the group's committed offset (from the last commit), the
 * lag consumer-group tools report; before any commit, minus the consumer's
 * next fetch offset. A fixed table per process (a consumer follows a
 * bounded number of partitions; past it, new partitions are not followed).
 */
#define LAG_CAP 128
static struct {
    uint32_t hash;
    int32_t partition;
    int64_t hw, committed, next;
    struct shim_series *series;
} lags[LAG_CAP];

static void lag_update(const struct shim_kafka_event *ev, int64_t hw, int64_t committed, int64_t next)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < ev->topic_len; i++)
        h = (h ^ ev->topic[i]) * 16777619u;
    h |= 1;
    int k = -1;
    for (int i = 0; i < LAG_CAP; i++) {
        if (lags[i].hash == h && lags[i].partition == ev->partition) {
            k = i;
            break;
        }
        if (!lags[i].hash && k < 0)
            k = i;
    }
    if (k < 0)
        return;
    if (!lags[k].hash) {
        char part[16];
        struct shim_lv v[2] = {{(const char *)ev->topic, ev->topic_len},
                               {part, (size_t)shim_snprintf(part, sizeof(part), "%d", ev->partition)}};
        lags[k].series = shim_series(shim_family(&def_lag), v);
        if (!lags[k].series)
            return;
        lags[k].hw = lags[k].committed = lags[k].next = -1;
        lags[k].partition = ev->partition;
        lags[k].hash = h;
    }
    if (hw >= 0)
        lags[k].hw = hw;
    if (committed >= 0)
        lags[k].committed = committed;
    if (next >= 0)
        lags[k].next = next;
    int64_t pos = lags[k].committed >= 0 ? lags[k].committed : lags[k].next;
    if (lags[k].hw >= 0 && pos >= 0)
        shim_gauge_set(lags[k].series, lags[k].hw > pos ? lags[k].hw - pos : 0);
}

/* dead-letter patterns: "*.dlq,*-dlq,*.DLT,dlq.*" (one '*' at either end) */
static char dlq_patterns[512] = "*.dlq,*-dlq,*.DLT,dlq.*,*.dead-letter";

void shim_kafka_config(const char *patterns)
{
    if (patterns && patterns[0])
        shim_snprintf(dlq_patterns, sizeof(dlq_patterns), "%s", patterns);
}

/* dead_letter: the topic matches one of the patterns */
static int dead_letter(const char *t, size_t n)
{
    for (const char *p = dlq_patterns; *p;) {
        size_t k = strcspn(p, ",");
        if (k) {
            if (p[0] == '*') { /* suffix */
                size_t sl = k - 1;
                if (n >= sl && memcmp(t + n - sl, p + 1, sl) == 0)
                    return 1;
            } else if (p[k - 1] == '*') { /* prefix */
                size_t pl = k - 1;
                if (n >= pl && memcmp(t, p, pl) == 0)
                    return 1;
            } else if (k == n && memcmp(t, p, n) == 0) {
                return 1;
            }
        }
        p += k;
        if (*p == ',')
            p++;
    }
    return 0;
}

static struct shim_lv lv(const char *s, size_t n)
{
    struct shim_lv v = {s, n};
    return v;
}

/* count: add n to the family's series for the topic */
static void count(const struct shim_family_def *def, const uint8_t *topic, size_t tl, uint64_t n)
{
    struct shim_lv v[2] = {lv("kafka", 5), lv((const char *)topic, tl)};
    struct shim_series *s = shim_series(shim_family(def), def->nlabels == 1 ? v + 1 : v);
    if (s)
        shim_counter_add(s, n);
    else
        shim_drop_event();
}

static uint32_t topic_hash(const uint8_t *t, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ t[i]) * 16777619u;
    return h;
}

static struct shim_kafka_req *slot_by_corr(struct shim_kafka_sess *s, int32_t corr)
{
    for (int i = 0; i < SHIM_KAFKA_SESS_INFLIGHT; i++)
        if (s->q[i].used && s->q[i].corr == corr)
            return &s->q[i];
    return NULL;
}

/* op_name: what the request does, for the operation label */
static const char *op_name(int api)
{
    switch (api) {
    case SHIM_KAFKA_API_PRODUCE:
        return "publish";
    case SHIM_KAFKA_API_FETCH:
        return "receive";
    case SHIM_KAFKA_API_OFFSET_COMMIT:
        return "commit";
    default:
        return shim_kafka_api_name(api);
    }
}

/* finish: record a request that got its answer (or needs none) */
static void finish(struct shim_kafka_req *r, const char *err)
{
    uint64_t now = shim_now_ns();
    const char *op = op_name(r->api);
    struct shim_lv v[4] = {lv("kafka", 5), lv(op, strlen(op)), lv(r->topic, r->topic_len), lv(err, strlen(err))};
    struct shim_series *s = shim_series(shim_family(&def_op), v);
    if (s)
        shim_hist_observe(s, now > r->t0 ? now - r->t0 : 0);
    else
        shim_drop_event();
    __atomic_store_n(&r->used, 0, __ATOMIC_RELAXED); /* read by the pools probe */
}

/* note_topic: the request's first topic names its destination */
static void note_topic(struct shim_kafka_sess *s, const struct shim_kafka_event *ev)
{
    struct shim_kafka_req *r = slot_by_corr(s, ev->correlation_id);
    if (r && !r->topic_len && ev->topic_len) {
        size_t n = ev->topic_len < sizeof(r->topic) ? ev->topic_len : sizeof(r->topic);
        memcpy(r->topic, ev->topic, n);
        r->topic_len = (uint8_t)n;
    }
}

static void on_request(struct shim_kafka_sess *s, struct shim_kafka_event *ev)
{
    shim_kafka_map_resolve(&topics, ev);
    switch (ev->type) {
    case SHIM_KAFKA_EV_REQ: {
        struct shim_kafka_req *r = NULL;
        for (int i = 0; i < SHIM_KAFKA_SESS_INFLIGHT && !r; i++)
            if (!s->q[i].used)
                r = &s->q[i];
        if (!r) { /* more in flight than followed: the oldest is given up */
            r = &s->q[s->clock++ % SHIM_KAFKA_SESS_INFLIGHT];
            shim_drop_event();
        }
        memset(r, 0, sizeof(*r));
        __atomic_store_n(&r->used, 1, __ATOMIC_RELAXED);
        r->corr = ev->correlation_id;
        r->api = ev->api_key;
        r->t0 = shim_now_ns();
        break;
    }
    case SHIM_KAFKA_EV_PRODUCE_RECORDS:
        note_topic(s, ev);
        if (ev->records > 0) {
            count(&def_sent, ev->topic, ev->topic_len, (uint64_t)ev->records);
            if (dead_letter((const char *)ev->topic, ev->topic_len))
                count(&def_dlq, ev->topic, ev->topic_len, (uint64_t)ev->records);
        }
        break;
    case SHIM_KAFKA_EV_FETCH_OFFSET: {
        note_topic(s, ev);
        uint32_t h = topic_hash(ev->topic, ev->topic_len);
        int k = 0;
        for (int i = 0; i < 8; i++)
            if (s->fetch[i].topic_hash == h && s->fetch[i].partition == ev->partition) {
                k = i;
                break;
            } else if (!s->fetch[i].topic_hash) {
                k = i;
            }
        s->fetch[k].topic_hash = h;
        s->fetch[k].partition = ev->partition;
        s->fetch[k].offset = ev->offset;
        break;
    }
    case SHIM_KAFKA_EV_COMMIT:
        note_topic(s, ev);
        if (ev->offset >= 0)
            lag_update(ev, -1, ev->offset, -1);
        break;
    case SHIM_KAFKA_EV_REQ_DONE:
        if (ev->flags & SHIM_KAFKA_F_NO_RESPONSE) { /* acks=0: done when written */
            struct shim_kafka_req *r = slot_by_corr(s, ev->correlation_id);
            if (r)
                finish(r, "");
        } else {
            shim_kafka_expect(&s->resp, ev->correlation_id, ev->api_key, ev->api_version);
        }
        break;
    default:
        break;
    }
}

static void on_response(struct shim_kafka_sess *s, struct shim_kafka_event *ev)
{
    if (ev->type == SHIM_KAFKA_EV_TOPIC) {
        shim_kafka_map_learn(&topics, ev);
        return;
    }
    shim_kafka_map_resolve(&topics, ev);
    if (ev->type == SHIM_KAFKA_EV_FETCH_RECORDS) {
        if (ev->records > 0)
            count(&def_consumed, ev->topic, ev->topic_len, (uint64_t)ev->records);
        int64_t next = ev->offset;
        if (next < 0) {
            uint32_t h = topic_hash(ev->topic, ev->topic_len);
            for (int i = 0; i < 8; i++)
                if (s->fetch[i].topic_hash == h && s->fetch[i].partition == ev->partition)
                    next = s->fetch[i].offset;
        }
        if (ev->high_watermark >= 0 && !ev->error_code)
            lag_update(ev, ev->high_watermark, -1, next);
    } else if (ev->type == SHIM_KAFKA_EV_RESP_DONE) {
        struct shim_kafka_req *r = slot_by_corr(s, ev->correlation_id);
        if (r)
            finish(r, (ev->flags & SHIM_KAFKA_F_ERROR) ? shim_kafka_error_name(ev->error_code) : "");
    }
}

int shim_kafka_start(struct shim_fd *e, struct shim_kafka_sess *s)
{
    shim_kafka_init(&s->req, SHIM_KAFKA_REQUEST);
    shim_kafka_init(&s->resp, SHIM_KAFKA_RESPONSE);
    return 0;
}

int shim_kafka_data(struct shim_fd *e, struct shim_kafka_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n)
{
    if (e->kind == FD_SERVER)
        return -ENOTCONN; /* a broker under the shim: not followed */
    int req = dir == DIR_TX;
    struct shim_kafka *p = req ? &s->req : &s->resp;
    struct shim_kafka_event ev;
    for (;;) {
        size_t used = 0;
        int rc = shim_kafka_feed(p, buf, n, &ev, &used);
        if (rc == SHIM_KAFKA_NEED_MORE)
            return 0;
        if (rc == SHIM_KAFKA_BAD)
            return -EPROTO;
        if (NEVER(used > n))
            used = n;
        buf += used;
        n -= used;
        if (req)
            on_request(s, &ev);
        else
            on_response(s, &ev);
    }
}

void shim_kafka_end(struct shim_fd *e, struct shim_kafka_sess *s, int dir, int err)
{
    /* requests in flight at the end (a consumer's long poll when it closes)
     * are not recorded: the end of a connection is not a failed operation */
    if (dir != DIR_RX)
        for (int i = 0; i < SHIM_KAFKA_SESS_INFLIGHT; i++)
            __atomic_store_n(&s->q[i].used, 0, __ATOMIC_RELAXED);
}

int shim_kafka_inflight(const struct shim_kafka_sess *s)
{
    int n = 0;
    for (int i = 0; i < SHIM_KAFKA_SESS_INFLIGHT; i++)
        n += __atomic_load_n(&s->q[i].used, __ATOMIC_RELAXED);
    return n;
}
