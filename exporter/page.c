/*
 * page.c - the status page at / and the short history its charts and
 * last-minute figures come from.
 *
 * Threads: shim_page_render runs on libmicrohttpd's thread, shim_history_tick
 * on promshim's own thread (about once a second). Neither is ever reached
 * from a hook, so malloc and stdio are fine here.
 *
 * The page is one self-contained HTML5 document: inline CSS and inline SVG,
 * no script, no external font, stylesheet, image or link to another host
 * (the host may have no internet). It refreshes itself every 5 s. Every
 * label value comes from the network and is escaped for HTML (& < > " ' and
 * control bytes; bytes that are not UTF-8 become U+FFFD).
 *
 * Rows. Each table row aggregates the series of one family that share the
 * row's key labels (HTTP server: method, route and status class; HTTP
 * client: method, peer and status class; databases: system, operation and
 * server; Kafka: system, operation and destination; plus connect errors,
 * cache lookups and parse errors). Totals are read live from the registry.
 *
 * History. Every 5 s the tick aggregates the registry the same way and
 * keeps, for the HIST_ROWS busiest rows (most requests since the previous
 * snapshot, then most in total), the total count, the errors and the
 * cumulative bucket counts, plus exact per-section totals and the process
 * tree's CPU and memory. HIST_SNAPS snapshots (5 minutes) sit in a ring
 * mapped once (about 0.5 MB, private to the process that serves the page:
 * each process of a prefork tree that serves the endpoint keeps its own,
 * all sampling the same shared registry). Rows past HIST_ROWS in a snapshot
 * are not kept: that snapshot is marked truncated, and a row it does not
 * hold is a gap in that row's chart; if the snapshot a minute back does not
 * hold a row, that row's rate and percentiles fall back to totals since
 * start (marked † on the page).
 *
 * The page's thread reads the ring while promshim's thread writes it:
 * each slot is a sequence lock over relaxed atomic words, so a slot caught
 * mid-write is dropped from that render, with no lock to wedge a forked
 * child. Only a process that serves the endpoint ticks (one waiting to take
 * it over starts its history when it does).
 *
 * Last minute. Rates, error ratios and p50/p95/p99 (linear interpolation
 * inside the bucket, as PromQL's histogram_quantile) come from the live
 * totals minus the newest snapshot that is at least 60 s old (the oldest
 * one while the process is younger than that); with no snapshot at all,
 * from totals since the tree started. Rows whose window holds no request
 * show their percentiles since start, greyed. Series that /metrics hides
 * as idle stay on the page with their totals (they sort last).
 *
 * Cost: one walk of the registry per render, bucket counts read only for
 * the rows shown; 10,000 series render in about 5 ms on this project's
 * 2-core machine (tests/bench/bench_page.c).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/registry.h"
#include "shim/shim.h"

#define HIST_ROWS 64              /* rows kept per snapshot: the busiest */
#define HIST_SNAPS 60             /* snapshots kept: 5 minutes */
#define HIST_STEP_NS 5000000000ull
#define WINDOW_NS 60000000000ull  /* "the last minute" */
#define PAGE_ROWS 50              /* rows shown per table; the rest are in /metrics */
#define NB (SHIM_MAX_BUCKETS + 1) /* buckets incl. +Inf */

/* ---------------------------------------------------------- sections ---- */

enum { SK_HIST, SK_COUNTER };

struct section {
    const char *family;  /* registry family name */
    const char *id;      /* HTML id */
    const char *title;
    const char *unit;    /* of the rate column: "req/s" ... */
    int kind;
    unsigned nkeys;
    const char *keys[4]; /* label names making a row */
    const char *heads[4];
    const char *status;  /* label grouped by status class, or NULL */
    const char *error;   /* histograms: a non-empty value marks an error */
    const char *miss;    /* counters: series whose `error` label equals this count as misses */
};

static const struct section sections[] = {
    {"http_server_request_duration_seconds", "http-server", "HTTP server", "req/s", SK_HIST, 2,
     {"http_request_method", "http_route"}, {"Method", "Route"}, "http_response_status_code", "error_type", NULL},
    {"http_client_request_duration_seconds", "http-client", "HTTP client", "req/s", SK_HIST, 3,
     {"http_request_method", "server_address", "server_port"}, {"Method", "Peer", "Port"},
     "http_response_status_code", "error_type", NULL},
    {"db_client_operation_duration_seconds", "db-client", "Databases and caches", "ops/s", SK_HIST, 4,
     {"db_system_name", "db_operation_name", "server_address", "server_port"},
     {"System", "Operation", "Server", "Port"}, NULL, "error_type", NULL},
    {"db_server_operation_duration_seconds", "db-server", "Databases and caches served", "ops/s", SK_HIST, 3,
     {"db_system_name", "db_operation_name", "server_port"}, {"System", "Operation", "Port"}, NULL, "error_type",
     NULL},
    {"messaging_client_operation_duration_seconds", "kafka", "Kafka", "ops/s", SK_HIST, 3,
     {"messaging_system", "messaging_operation_name", "messaging_destination_name"},
     {"System", "Operation", "Destination"}, NULL, "error_type", NULL},
    {"promshim_connect_errors_total", "connect-errors", "Connection errors", "errors/s", SK_COUNTER, 3,
     {"server_address", "server_port", "error_type"}, {"Peer", "Port", "Error"}, NULL, NULL, NULL},
    {"db_client_cache_lookups_total", "cache", "Cache hit ratio", "lookups/s", SK_COUNTER, 1, {"db_system_name"},
     {"System"}, NULL, "result", "miss"},
    {"promshim_parse_errors_total", "parse-errors", "Parse errors", "errors/s", SK_COUNTER, 1, {"protocol"},
     {"Protocol"}, NULL, NULL, NULL},
};
#define NSEC (sizeof(sections) / sizeof(sections[0]))
enum { SEC_HTTP_SERVER = 0, SEC_CONNECT_ERRORS = 5, SEC_CACHE = 6, SEC_PARSE_ERRORS = 7 };

static int section_of(const char *name)
{
    for (unsigned i = 0; i < NSEC; i++)
        if (!strcmp(name, sections[i].family))
            return (int)i;
    return -1;
}

/* status classes */
enum { SC_NONE, SC_1, SC_2, SC_3, SC_4, SC_5, SC_NORESP, SC_OTHER };
static const char *const sclass_name[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx", "none", "other"};

static unsigned status_class(const char *v)
{
    if (!v[0])
        return SC_NORESP;
    if (v[0] >= '1' && v[0] <= '5' && v[1] >= '0' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9' && !v[3])
        return (unsigned)(v[0] - '0');
    return SC_OTHER;
}

/* -------------------------------------------------------------- rows ---- */

struct row {
    uint64_t key;       /* hash of section, key labels and status class */
    const char *k[4];   /* key label values (in the registry: never freed) */
    const struct shim_family *f;
    uint8_t sec, sclass, overflow, est;
    uint32_t nb;        /* finite buckets */
    uint32_t first;     /* its series: index + 1 into agg.ser, chained by agg.snext */
    uint64_t count, errors;
    /* the last minute, filled at render */
    double rate;
    uint64_t wcount, werrors;
    int wbase;          /* index of the row in the base snapshot, -1: none */
};

struct agg {
    struct row *rows;
    size_t n, cap;
    uint32_t *ht; /* row index + 1, 0 = empty */
    size_t hcap;
    /* the series of the rows (histogram sections): bucket counts are read
     * only for the rows that need them (shown, or kept in a snapshot) */
    const struct shim_series **ser;
    uint32_t *snext;
    size_t nser, capser;
    int oom;
    /* per family, in registry order */
    unsigned nfam;
    struct shim_family *fam[SHIM_MAX_FAMILIES];
    unsigned nseries[SHIM_MAX_FAMILIES];
    /* exact totals per section (every row) */
    uint64_t sec_count[NSEC], sec_errors[NSEC];
    /* a few gauges */
    int64_t conns[2], in_flight;
    struct shim_family *lag;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++) {
        h ^= u[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t row_hash(unsigned sec, const char *const *k, unsigned nk, unsigned sclass)
{
    uint64_t h = 1469598103934665603ull;
    unsigned char t = (unsigned char)sec;
    h = fnv(h, &t, 1);
    for (unsigned i = 0; i < nk; i++)
        h = fnv(h, k[i], strlen(k[i]) + 1); /* the NUL separates */
    t = (unsigned char)sclass;
    h = fnv(h, &t, 1);
    /* spread the bits (the table index uses the low ones) */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static int agg_grow(struct agg *a)
{
    size_t hcap = a->hcap ? a->hcap * 2 : 1024;
    uint32_t *ht = calloc(hcap, sizeof(*ht));
    if (!ht)
        return -1;
    for (size_t i = 0; i < a->n; i++) {
        size_t j = a->rows[i].key & (hcap - 1);
        while (ht[j])
            j = (j + 1) & (hcap - 1);
        ht[j] = (uint32_t)(i + 1);
    }
    free(a->ht);
    a->ht = ht;
    a->hcap = hcap;
    return 0;
}

/* agg_row: the row for (sec, k, sclass), made when new; NULL when out of
 * memory. The pointer is valid until the next call. */
static struct row *agg_row(struct agg *a, unsigned sec, const char *const *k, unsigned nk, unsigned sclass,
                           const struct shim_family *f)
{
    if ((a->n + 1) * 2 > a->hcap && agg_grow(a) != 0)
        return NULL;
    uint64_t h = row_hash(sec, k, nk, sclass);
    size_t j = h & (a->hcap - 1);
    for (;; j = (j + 1) & (a->hcap - 1)) {
        uint32_t e = a->ht[j];
        if (!e)
            break;
        struct row *r = &a->rows[e - 1];
        if (r->key != h || r->sec != sec || r->sclass != sclass)
            continue;
        unsigned i = 0;
        while (i < nk && (r->k[i] == k[i] || !strcmp(r->k[i], k[i])))
            i++;
        if (i == nk)
            return r;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        struct row *rows = realloc(a->rows, cap * sizeof(*rows));
        if (!rows)
            return NULL;
        a->rows = rows;
        a->cap = cap;
    }
    struct row *r = &a->rows[a->n];
    memset(r, 0, sizeof(*r));
    r->key = h;
    for (unsigned i = 0; i < nk; i++)
        r->k[i] = k[i];
    r->f = f;
    r->sec = (uint8_t)sec;
    r->sclass = (uint8_t)sclass;
    r->nb = shim_family_nbuckets(f);
    r->wbase = -1;
    a->ht[j] = (uint32_t)(++a->n);
    return r;
}

static int label_index(const struct shim_family_def *d, const char *name)
{
    if (!name)
        return -1;
    for (unsigned i = 0; i < d->nlabels && i < SHIM_MAX_LABELS; i++)
        if (d->labels[i] && !strcmp(d->labels[i], name))
            return (int)i;
    return -1;
}

static const char *label_or_empty(const struct shim_series *s, int i)
{
    return i >= 0 ? shim_series_label(s, (unsigned)i) : "";
}

/* add_series: one series of section sec into its row */
static void add_series(struct agg *a, unsigned sec, const struct shim_family *f, const struct shim_series *s,
                       const int *idx, int sidx, int eidx)
{
    const struct section *sc = &sections[sec];
    const char *k[4];
    for (unsigned i = 0; i < sc->nkeys; i++)
        k[i] = label_or_empty(s, idx[i]);
    unsigned cls = sc->status ? status_class(label_or_empty(s, sidx)) : SC_NONE;
    struct row *r = agg_row(a, sec, k, sc->nkeys, cls, f);
    if (!r) {
        a->oom = 1;
        return;
    }
    if (shim_series_is_overflow(s))
        r->overflow = 1;
    uint64_t c, err = 0;
    if (sc->kind == SK_HIST) {
        if (a->nser == a->capser) {
            size_t cap = a->capser ? a->capser * 2 : 1024;
            const struct shim_series **ser = realloc(a->ser, cap * sizeof(*ser));
            uint32_t *nx = ser ? realloc(a->snext, cap * sizeof(*nx)) : NULL;
            if (ser)
                a->ser = ser;
            if (!nx) {
                a->oom = 1;
                return;
            }
            a->snext = nx;
            a->capser = cap;
        }
        a->ser[a->nser] = s;
        a->snext[a->nser] = r->first;
        r->first = (uint32_t)++a->nser;
        c = shim_hist_count(s);
        if (eidx >= 0 && label_or_empty(s, eidx)[0])
            err = c;
    } else {
        c = shim_counter_value(s);
        if (sc->miss && eidx >= 0 && !strcmp(label_or_empty(s, eidx), sc->miss))
            err = c;
    }
    r->count += c;
    r->errors += err;
    a->sec_count[sec] += c;
    a->sec_errors[sec] += err;
}

/* aggregate: walk the whole registry once */
static void aggregate(struct agg *a)
{
    for (struct shim_family *f = shim_family_next(NULL); f; f = shim_family_next(f)) {
        const struct shim_family_def *d = shim_family_def_of(f);
        int sec = section_of(d->name);
        int idx[4] = {-1, -1, -1, -1}, sidx = -1, eidx = -1;
        int gauge = 0; /* 1: connections by role, 2: in-flight requests */
        if (sec >= 0) {
            const struct section *sc = &sections[sec];
            if ((sc->kind == SK_HIST) != (d->type == SHIM_HISTOGRAM) || d->type == SHIM_GAUGE)
                sec = -1; /* a custom family of the same name and another type */
            for (unsigned i = 0; i < sc->nkeys; i++)
                idx[i] = label_index(d, sc->keys[i]);
            sidx = label_index(d, sc->status);
            eidx = label_index(d, sc->error);
        } else if (!strcmp(d->name, "promshim_connections_active") && d->type == SHIM_GAUGE) {
            gauge = 1;
        } else if (!strcmp(d->name, "http_server_active_requests") && d->type == SHIM_GAUGE) {
            gauge = 2;
        } else if (!strcmp(d->name, "messaging_kafka_consumer_lag") && d->type == SHIM_GAUGE) {
            a->lag = f;
        }
        int role = label_index(d, "role");
        unsigned n = 0;
        for (struct shim_series *s = shim_series_next(f, NULL); s; s = shim_series_next(f, s)) {
            n++;
            if (sec >= 0) {
                add_series(a, (unsigned)sec, f, s, idx, sidx, eidx);
            } else if (gauge == 1 && role >= 0) {
                const char *rv = shim_series_label(s, (unsigned)role);
                if (!strcmp(rv, "client"))
                    a->conns[0] += shim_gauge_value(s);
                else if (!strcmp(rv, "server"))
                    a->conns[1] += shim_gauge_value(s);
            } else if (gauge == 2) {
                a->in_flight += shim_gauge_value(s);
            }
        }
        if (a->nfam < SHIM_MAX_FAMILIES) {
            a->fam[a->nfam] = f;
            a->nseries[a->nfam++] = n;
        }
    }
}

static void agg_free(struct agg *a)
{
    free(a->rows);
    free(a->ht);
    free(a->ser);
    free(a->snext);
}

/* row_buckets: the cumulative bucket counts of a histogram row into
 * b[0..nb] (b[nb]: the count as read now) */
static void row_buckets(const struct agg *a, const struct row *r, uint64_t *b)
{
    memset(b, 0, NB * sizeof(*b));
    unsigned nb = r->nb < SHIM_MAX_BUCKETS ? r->nb : SHIM_MAX_BUCKETS;
    for (uint32_t i = r->first; i; i = a->snext[i - 1]) {
        const struct shim_series *s = a->ser[i - 1];
        uint64_t prev = 0;
        for (unsigned j = 0; j <= nb; j++) {
            uint64_t v = shim_hist_bucket(s, j);
            if (v < prev) /* read while it moved: keep it cumulative */
                v = prev;
            b[j] += v;
            prev = v;
        }
    }
}

/* top_k: the k first elements of v[0..n) in cmp order moved to v[0..k)
 * and sorted (a bounded heap: O(n log k), the rest left unordered) */
typedef int (*cmp_fn)(const void *, const void *);

static void swap_el(char *a, char *b, size_t size)
{
    char t[64];
    memcpy(t, a, size);
    memcpy(a, b, size);
    memcpy(b, t, size);
}

static void sift(char *v, size_t n, size_t i, size_t size, cmp_fn cmp)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cmp(v + l * size, v + m * size) > 0)
            m = l;
        if (r < n && cmp(v + r * size, v + m * size) > 0)
            m = r;
        if (m == i)
            return;
        swap_el(v + i * size, v + m * size, size);
        i = m;
    }
}

static void top_k(void *base, size_t n, size_t k, size_t size, cmp_fn cmp)
{
    char *v = base;
    if (n > k && k > 0 && size <= 64) {
        /* v[0..k): a heap whose root is the worst element kept */
        for (size_t i = k / 2; i-- > 0;)
            sift(v, k, i, size, cmp);
        for (size_t i = k; i < n; i++) {
            if (cmp(v + i * size, v) < 0) {
                swap_el(v, v + i * size, size);
                sift(v, k, 0, size, cmp);
            }
        }
        n = k;
    }
    if (n > 1) /* qsort's array must not be NULL, even empty (UBSan: nonnull-attribute) */
        qsort(v, n, size, cmp);
}

/* ----------------------------------------------------------- history ---- */

/* one row of a snapshot: totals at that time. Bucket counts are kept as
 * their low 32 bits: differences over a minute stay exact mod 2^32. */
struct hrow {
    uint64_t key;
    uint64_t count, errors;
    uint32_t b[NB];
};

struct snap {
    uint64_t gen;         /* which snapshot this is (0, 1, ...) */
    uint64_t t_ns;        /* monotonic */
    uint32_t nrows;
    uint32_t truncated;   /* more rows existed than were kept */
    double cpu_s, rss;
    uint64_t sec_count[NSEC], sec_errors[NSEC];
    struct hrow rows[HIST_ROWS]; /* sorted by key */
};

/* A slot of the ring: a snapshot as 64-bit words under a sequence lock
 * (odd while being written). Every word is a relaxed atomic, so the page's
 * thread reading a slot while promshim's thread rewrites it is not a data
 * race: it just sees the sequence move and drops that slot. */
#define SNAP_WORDS ((sizeof(struct snap) + 7) / 8)
#define SNAP_HEAD_WORDS ((offsetof(struct snap, rows) + 7) / 8)
struct slot {
    _Atomic uint64_t seq;
    _Atomic uint64_t w[SNAP_WORDS];
};

struct history {
    _Atomic uint64_t taken; /* snapshots written; the newest is gen taken-1 */
    struct slot s[HIST_SNAPS];
};

static struct history *_Atomic hist; /* made by promshim's thread, read by the page's */
static int hist_failed;
static uint64_t hist_last_ns;
static struct snap staging;

/* every row's count at the previous snapshot, sorted by key: picks the
 * busiest rows (promshim's thread only) */
struct kc {
    uint64_t key, count;
};
static struct kc *prev_kc;
static size_t prev_n;

static int cmp_kc(const void *x, const void *y)
{
    uint64_t a = ((const struct kc *)x)->key, b = ((const struct kc *)y)->key;
    return a < b ? -1 : a > b;
}

static const struct kc *kc_find(const struct kc *v, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].key == key ? &v[lo] : NULL;
}

static const struct hrow *snap_find(const struct snap *s, uint64_t key)
{
    size_t lo = 0, hi = s->nrows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->rows[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nrows && s->rows[lo].key == key ? &s->rows[lo] : NULL;
}

struct pick {
    uint64_t score, count;
    size_t i;
};

static int cmp_pick(const void *x, const void *y)
{
    const struct pick *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_hrow(const void *x, const void *y)
{
    uint64_t a = ((const struct hrow *)x)->key, b = ((const struct hrow *)y)->key;
    return a < b ? -1 : a > b;
}

void shim_history_snapshot(uint64_t now)
{
    if (hist_failed || (hist_last_ns && now - hist_last_ns < HIST_STEP_NS - HIST_STEP_NS / 10))
        return;
    struct history *h = atomic_load_explicit(&hist, memory_order_relaxed);
    if (!h) {
        void *p = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            hist_failed = 1;
            return;
        }
        h = p;
        atomic_store_explicit(&hist, h, memory_order_release);
    }
    hist_last_ns = now;
    struct agg a;
    memset(&a, 0, sizeof(a));
    aggregate(&a);
    struct pick *pk = a.n ? malloc(a.n * sizeof(*pk)) : NULL;
    struct kc *kc = a.n ? malloc(a.n * sizeof(*kc)) : NULL;
    if (a.oom || (a.n && (!pk || !kc))) {
        free(pk);
        free(kc);
        agg_free(&a);
        return;
    }
    for (size_t i = 0; i < a.n; i++) {
        const struct row *r = &a.rows[i];
        const struct kc *p = kc_find(prev_kc, prev_n, r->key);
        pk[i].score = p && r->count >= p->count ? r->count - p->count : r->count;
        pk[i].count = r->count;
        pk[i].i = i;
        kc[i].key = r->key;
        kc[i].count = r->count;
    }
    top_k(pk, a.n, HIST_ROWS, sizeof(*pk), cmp_pick);
    struct snap *st = &staging;
    size_t keep = a.n < HIST_ROWS ? a.n : HIST_ROWS;
    st->nrows = (uint32_t)keep;
    st->truncated = a.n > HIST_ROWS;
    st->t_ns = now;
    for (size_t j = 0; j < keep; j++) {
        const struct row *r = &a.rows[pk[j].i];
        struct hrow *hr = &st->rows[j];
        hr->key = r->key;
        hr->count = r->count;
        hr->errors = r->errors;
        uint64_t bk[NB];
        if (sections[r->sec].kind == SK_HIST)
            row_buckets(&a, r, bk);
        else
            memset(bk, 0, sizeof(bk));
        for (unsigned i = 0; i < NB; i++)
            hr->b[i] = (uint32_t)bk[i];
    }
    qsort(st->rows, keep, sizeof(st->rows[0]), cmp_hrow);
    memcpy(st->sec_count, a.sec_count, sizeof(st->sec_count));
    memcpy(st->sec_errors, a.sec_errors, sizeof(st->sec_errors));
    struct shim_proc_totals pt;
    shim_process_totals(&pt);
    st->cpu_s = pt.cpu_seconds;
    st->rss = pt.resident_bytes;

    /* publish into the ring */
    uint64_t gen = atomic_load_explicit(&h->taken, memory_order_relaxed);
    st->gen = gen;
    struct slot *slot = &h->s[gen % HIST_SNAPS];
    uint64_t seq = atomic_load_explicit(&slot->seq, memory_order_relaxed);
    seq += seq & 1; /* odd: a fork copied the slot mid-write; start even */
    atomic_store_explicit(&slot->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    size_t words = SNAP_HEAD_WORDS + (keep * sizeof(st->rows[0]) + 7) / 8;
    const char *from = (const char *)st;
    for (size_t i = 0; i < words && i < SNAP_WORDS; i++) {
        uint64_t x;
        memcpy(&x, from + i * 8, 8);
        atomic_store_explicit(&slot->w[i], x, memory_order_relaxed);
    }
    atomic_store_explicit(&slot->seq, seq + 2, memory_order_release);
    atomic_store_explicit(&h->taken, gen + 1, memory_order_release);

    if (a.n > 1) /* kc is NULL when there is nothing (UBSan: nonnull-attribute) */
        qsort(kc, a.n, sizeof(*kc), cmp_kc);
    free(prev_kc);
    prev_kc = kc;
    prev_n = a.n;
    free(pk);
    agg_free(&a);
}

void shim_history_tick(uint64_t now)
{
    /* only a process that serves the endpoint keeps a history (a process of
     * the tree waiting to take the endpoint over starts one when it does) */
    if (shim_exporter_fd() < 0)
        return;
    shim_history_snapshot(now);
}

/* hist_copy: the snapshots, oldest first, into out[HIST_SNAPS]; how many */
static int hist_copy(struct snap *out)
{
    struct history *h = atomic_load_explicit(&hist, memory_order_acquire);
    if (!h)
        return 0;
    uint64_t n = atomic_load_explicit(&h->taken, memory_order_acquire);
    uint64_t first = n > HIST_SNAPS ? n - HIST_SNAPS : 0;
    int k = 0;
    for (uint64_t g = first; g < n; g++) {
        struct slot *sl = &h->s[g % HIST_SNAPS];
        uint64_t s1 = atomic_load_explicit(&sl->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        struct snap *o = &out[k];
        char *to = (char *)o;
        for (size_t i = 0; i < SNAP_HEAD_WORDS; i++) {
            uint64_t x = atomic_load_explicit(&sl->w[i], memory_order_relaxed);
            memcpy(to + i * 8, &x, 8);
        }
        if (o->nrows > HIST_ROWS)
            o->nrows = HIST_ROWS; /* torn: the check below drops it */
        size_t words = SNAP_HEAD_WORDS + (o->nrows * sizeof(o->rows[0]) + 7) / 8;
        for (size_t i = SNAP_HEAD_WORDS; i < words && i < SNAP_WORDS; i++) {
            uint64_t x = atomic_load_explicit(&sl->w[i], memory_order_relaxed);
            memcpy(to + i * 8, &x, 8);
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&sl->seq, memory_order_relaxed) != s1 || o->gen != g)
            continue;
        k++;
    }
    return k;
}

/* ------------------------------------------------------------ output ---- */

static void put(struct shim_buf *b, const char *s)
{
    shim_buf_puts(b, s);
}

/* put_u64: a decimal integer without printf */
static void put_u64(struct shim_buf *b, uint64_t v)
{
    char t[24];
    int i = sizeof(t);
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    shim_buf_put(b, t + i, sizeof(t) - (size_t)i);
}

static void put_i64(struct shim_buf *b, int64_t v)
{
    if (v < 0) {
        shim_buf_put(b, "-", 1);
        put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(b, (uint64_t)v);
    }
}

/* valid_utf8: length of the well-formed UTF-8 sequence at s that HTML may
 * carry as text (not a C1 control, not a noncharacter), else 0 */
static size_t valid_utf8(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp, min;
    size_t len;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (cp <= 0x9f || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
        return 0;
    return len;
}

/* put_html: text or attribute value, escaped: & < > " ' as entities,
 * control bytes and bytes that are not UTF-8 as U+FFFD */
static void put_html_n(struct shim_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'') {
            i++;
            continue;
        }
        size_t l = c >= 0x80 ? valid_utf8(u + i, n - i) : 0;
        if (l) {
            i += l;
            continue;
        }
        shim_buf_put(b, s + run, i - run);
        switch (c) {
        case '&': put(b, "&amp;"); break;
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '"': put(b, "&quot;"); break;
        case '\'': put(b, "&#39;"); break;
        default: put(b, "\xef\xbf\xbd"); break;
        }
        i++;
        run = i;
    }
    shim_buf_put(b, s + run, i - run);
}

static void put_html(struct shim_buf *b, const char *s)
{
    put_html_n(b, s, strlen(s));
}

/* put_num: a rate or ratio, short */
static void put_num(struct shim_buf *b, double v)
{
    if (v <= 0)
        put(b, "0");
    else if (v < 0.01)
        put(b, "&lt;0.01");
    else if (v < 10)
        shim_buf_printf(b, "%.2f", v);
    else if (v < 1000)
        shim_buf_printf(b, "%.1f", v);
    else
        shim_buf_printf(b, "%.0f", v);
}

/* put_dur: seconds, in a readable unit; over: past the last finite bucket */
static void put_dur(struct shim_buf *b, double s, int over)
{
    if (s < 0) {
        put(b, "–");
        return;
    }
    if (over)
        put(b, "&gt;");
    if (s < 0.00001)
        shim_buf_printf(b, "%.1f µs", s * 1e6);
    else if (s < 0.001)
        shim_buf_printf(b, "%.0f µs", s * 1e6);
    else if (s < 0.01)
        shim_buf_printf(b, "%.2f ms", s * 1e3);
    else if (s < 1)
        shim_buf_printf(b, "%.1f ms", s * 1e3);
    else
        shim_buf_printf(b, "%.2f s", s);
}

static void put_bytes(struct shim_buf *b, double v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    shim_buf_printf(b, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void put_age(struct shim_buf *b, double s)
{
    uint64_t t = s > 0 ? (uint64_t)s : 0;
    if (t >= 86400)
        shim_buf_printf(b, "%llud %lluh", (unsigned long long)(t / 86400), (unsigned long long)(t % 86400 / 3600));
    else if (t >= 3600)
        shim_buf_printf(b, "%lluh %llum", (unsigned long long)(t / 3600), (unsigned long long)(t % 3600 / 60));
    else if (t >= 60)
        shim_buf_printf(b, "%llum %llus", (unsigned long long)(t / 60), (unsigned long long)(t % 60));
    else
        shim_buf_printf(b, "%llus", (unsigned long long)t);
}

/* quantile: histogram_quantile over cumulative counts c[0..nb] (c[nb] the
 * total) and upper bounds ub[0..nb-1]; -1 when there is no observation;
 * *over = 1 when the rank falls in the +Inf bucket (the highest finite
 * bound is returned, as Prometheus does) */
static double quantile(double q, const double *c, const double *ub, unsigned nb, int *over)
{
    double total = c[nb];
    *over = 0;
    if (!(total > 0) || nb == 0)
        return -1;
    double rank = q * total;
    unsigned i = 0;
    while (i < nb && c[i] < rank)
        i++;
    if (i == nb) {
        *over = 1;
        return ub[nb - 1];
    }
    if (i == 0 && ub[0] <= 0)
        return ub[0];
    double lo = i ? ub[i - 1] : 0, below = i ? c[i - 1] : 0, in = c[i] - below;
    if (in <= 0)
        return ub[i];
    return lo + (ub[i] - lo) * (rank - below) / in;
}

/* sparkline: v[0..n) the newest n points (v < 0: a gap), oldest first,
 * drawn right-aligned in a w x h box; area: filled under the line. The
 * time axis spans the history there is, at least a minute (a young
 * process's chart fills from its first minute on), at most 5 minutes. */
#define SP_AREA 1  /* filled under the line */
#define SP_RANGE 2 /* scaled from the lowest value, not from 0 */

static void put_spark(struct shim_buf *b, const double *v, int n, int w, int h, const char *cls, int flags,
                      const char *title)
{
    int area = flags & SP_AREA;
    int slots = n > 13 ? n : 13;
    if (slots > HIST_SNAPS - 1)
        slots = HIST_SNAPS - 1;
    double max = 0, min = -1;
    for (int i = 0; i < n; i++) {
        if (v[i] > max)
            max = v[i];
        if (v[i] >= 0 && (min < 0 || v[i] < min))
            min = v[i];
    }
    if (!(flags & SP_RANGE) || min < 0)
        min = 0;
    shim_buf_printf(b, "<svg class=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\"><title>", cls,
                    w, h, w, h);
    put(b, title);
    put(b, "</title><path class=\"g\" d=\"M0 ");
    put_u64(b, (uint64_t)(h - 1));
    put(b, "H");
    put_u64(b, (uint64_t)w);
    put(b, "\"/>");
    if (n < 2) {
        put(b, "</svg>");
        return;
    }
    int xs[HIST_SNAPS], ys[HIST_SNAPS];
    for (int i = 0; i < n; i++) {
        xs[i] = 1 + (slots - n + i) * (w - 2) / (slots - 1);
        double f = max > min && v[i] > min ? (v[i] - min) / (max - min) : (flags & SP_RANGE) && max > 0 ? 0.5 : 0;
        ys[i] = h - 2 - (int)(f * (h - 4) + 0.5);
    }
    for (int pass = area ? 0 : 1; pass < 2; pass++) {
        put(b, pass ? "<path class=\"l\" d=\"" : "<path class=\"a\" d=\"");
        int open = 0, start = 0;
        for (int i = 0; i <= n; i++) {
            if (i == n || v[i] < 0) {
                if (open && !pass) {
                    put(b, "V");
                    put_u64(b, (uint64_t)h);
                    put(b, "H");
                    put_u64(b, (uint64_t)xs[start]);
                    put(b, "Z");
                }
                open = 0;
                continue;
            }
            put(b, open ? "L" : "M");
            if (!open)
                start = i;
            put_u64(b, (uint64_t)xs[i]);
            put(b, " ");
            put_u64(b, (uint64_t)ys[i]);
            open = 1;
        }
        put(b, "\"/>");
    }
    put(b, "</svg>");
}

/* ------------------------------------------------------------ render ---- */

struct view {
    struct agg a;
    struct snap *snaps; /* oldest first */
    int nsnaps;
    const struct snap *base; /* a minute back (or the oldest) */
    double window_s;         /* now - base */
    double age_s;            /* since the tree started */
    uint64_t now;
    struct shim_proc_totals pt;
};

/* row_series: a row's rate per snapshot interval (v < 0: unknown) */
static int row_series(const struct view *vw, const struct row *r, double *v)
{
    int n = 0;
    double cp = 0;
    for (int j = 0; j < vw->nsnaps; j++) {
        const struct snap *s = &vw->snaps[j];
        const struct hrow *hs = snap_find(s, r->key);
        double cs = hs ? (double)hs->count : s->truncated ? -1 : 0;
        if (j) {
            double dt = (double)(s->t_ns - vw->snaps[j - 1].t_ns) / 1e9;
            v[n++] = cp < 0 || cs < 0 || cs < cp || dt <= 0 ? -1 : (cs - cp) / dt;
        }
        cp = cs;
    }
    return n;
}

/* window: a row's last-minute figures (est = 1: from totals since start) */
static void row_window(const struct view *vw, struct row *r)
{
    const struct snap *base = vw->base;
    const struct hrow *h = base ? snap_find(base, r->key) : NULL;
    if (base && vw->window_s >= 1 && (h || !base->truncated) && (!h || r->count >= h->count)) {
        r->wcount = r->count - (h ? h->count : 0);
        r->werrors = h && r->errors >= h->errors ? r->errors - h->errors : h ? 0 : r->errors;
        r->wbase = h ? (int)(h - base->rows) : -1;
        r->rate = (double)r->wcount / vw->window_s;
        r->est = 0;
    } else {
        r->wcount = r->count;
        r->werrors = r->errors;
        r->wbase = -1;
        r->rate = vw->age_s > 0 ? (double)r->count / vw->age_s : 0;
        r->est = 1;
    }
}

static int cmp_rowp(const void *x, const void *y)
{
    const struct row *a = *(const struct row *const *)x, *b = *(const struct row *const *)y;
    if (a->rate != b->rate)
        return a->rate > b->rate ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    for (unsigned i = 0; i < 4 && a->k[i]; i++) {
        int c = strcmp(a->k[i], b->k[i]);
        if (c)
            return c;
    }
    return (int)a->sclass - (int)b->sclass;
}

static const char css[] =
    ":root{--fg:#1f2328;--mute:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff;--acc:#2563eb;--bad:#c2410c}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:13px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "header{background:#111827;color:#f9fafb;padding:12px 20px}"
    "header h1{margin:0;font-size:18px;font-weight:600}header h1 span{color:#93c5fd;font-weight:500}"
    "header p{margin:2px 0 0;color:#cbd5e1;font-size:12px}header a{color:#93c5fd}"
    "main{padding:14px 20px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:14px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:230px}"
    ".card h2{margin:0 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--mute)}"
    ".big{font-size:22px;font-weight:600}.big small{font-size:12px;font-weight:400;color:var(--mute)}"
    "dl{margin:0;display:grid;grid-template-columns:auto auto;gap:1px 14px}dt{color:var(--mute)}"
    "dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;"
    "margin-bottom:14px;overflow-x:auto}"
    "section h2{margin:0 0 8px;font-size:15px}section h2 small{color:var(--mute);font-weight:400}"
    "table{border-collapse:collapse;width:100%}"
    "th{text-align:left;font-weight:600;color:var(--mute);border-bottom:1px solid var(--line);padding:4px 8px;"
    "white-space:nowrap}"
    "td{padding:3px 8px;border-bottom:1px solid #f0f1f3;vertical-align:middle}"
    "tbody tr:hover{background:#f8fafc}"
    ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".k{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}"
    ".mute,.est{color:var(--mute)}.bad{color:var(--bad);font-weight:600}.ovf{font-style:italic;color:var(--mute)}"
    ".st{display:inline-block;padding:0 6px;border-radius:9px;font-size:11px;background:#e5e7eb}"
    ".s2{background:#dcfce7;color:#166534}.s3{background:#e0f2fe;color:#075985}"
    ".s4{background:#fef3c7;color:#92400e}.s5,.s6{background:#fee2e2;color:#991b1b}"
    "svg.sp{display:block}svg path.l{fill:none;stroke:var(--acc);stroke-width:1.3}"
    "svg path.a{fill:#dbeafe;stroke:none}svg path.g{fill:none;stroke:#e5e7eb;stroke-width:1}svg.cpu path.l{stroke:#7c3aed}svg.cpu path.a{fill:#ede9fe}"
    ".bar{display:inline-block;width:120px;height:8px;background:#e5e7eb;border-radius:4px;overflow:hidden;"
    "vertical-align:middle}.bar i{display:block;height:100%;background:var(--acc)}.bar i.full{background:var(--bad)}"
    "p.note{color:var(--mute);margin:6px 0 0}"
    "footer{color:var(--mute);padding:0 20px 16px;font-size:12px}";

static void put_status(struct shim_buf *b, unsigned cls)
{
    if (cls == SC_NONE)
        return;
    shim_buf_printf(b, "<td><span class=\"st s%u\">%s</span></td>", cls == SC_NORESP ? 6u : cls, sclass_name[cls]);
}

/* section_card: a card with the section's last-minute rate and its chart */
static void section_card(struct shim_buf *b, const struct view *vw, unsigned sec)
{
    const struct section *sc = &sections[sec];
    double rate, err;
    const struct snap *base = vw->base;
    int est = !base || vw->window_s < 1;
    uint64_t c = vw->a.sec_count[sec], e = vw->a.sec_errors[sec];
    if (!est && c >= base->sec_count[sec]) {
        rate = (double)(c - base->sec_count[sec]) / vw->window_s;
        uint64_t wc = c - base->sec_count[sec], we = e - base->sec_errors[sec];
        err = wc ? (double)we / (double)wc : 0;
    } else {
        rate = vw->age_s > 0 ? (double)c / vw->age_s : 0;
        err = c ? (double)e / (double)c : 0;
    }
    double v[HIST_SNAPS];
    int n = 0;
    for (int j = 1; j < vw->nsnaps; j++) {
        const struct snap *p = &vw->snaps[j - 1], *s = &vw->snaps[j];
        double dt = (double)(s->t_ns - p->t_ns) / 1e9;
        v[n++] = dt > 0 && s->sec_count[sec] >= p->sec_count[sec]
                     ? (double)(s->sec_count[sec] - p->sec_count[sec]) / dt
                     : -1;
    }
    shim_buf_printf(b, "<div class=\"card\"><h2>%s</h2><div class=\"big\">", sc->title);
    put_num(b, rate);
    shim_buf_printf(b, " <small>%s</small>", sc->unit);
    if (sc->kind == SK_HIST) {
        shim_buf_printf(b, " <small class=\"%s\">", err > 0 ? "bad" : "");
        shim_buf_printf(b, "%.1f%% errors</small>", err * 100);
    }
    put(b, "</div>");
    char title[96];
    snprintf(title, sizeof(title), "%s over the last 5 minutes, 5 s steps", sc->unit);
    put_spark(b, v, n, 236, 40, "sp", SP_AREA, title);
    put(b, "<p class=\"note\">");
    put_u64(b, c);
    put(b, " in total</p></div>");
}

static void process_card(struct shim_buf *b, const struct view *vw)
{
    const struct shim_proc_totals *pt = &vw->pt;
    put(b, "<div class=\"card\"><h2>Process tree</h2>");
    if (!pt->processes) {
        put(b, "<p class=\"note\">no live process</p></div>");
        return;
    }
    double cpu;
    const struct snap *base = vw->base;
    if (base && vw->window_s >= 1 && pt->cpu_seconds >= base->cpu_s)
        cpu = (pt->cpu_seconds - base->cpu_s) / vw->window_s;
    else
        cpu = vw->age_s > 0 ? pt->cpu_seconds / vw->age_s : 0;
    put(b, "<div class=\"big\">");
    shim_buf_printf(b, "%.1f%% <small>CPU</small> ", cpu * 100);
    put_bytes(b, pt->resident_bytes);
    put(b, " <small>resident</small></div>");
    double v[HIST_SNAPS], m[HIST_SNAPS];
    int n = 0;
    for (int j = 1; j < vw->nsnaps; j++) {
        const struct snap *p = &vw->snaps[j - 1], *s = &vw->snaps[j];
        double dt = (double)(s->t_ns - p->t_ns) / 1e9;
        v[n] = dt > 0 && s->cpu_s >= p->cpu_s ? (s->cpu_s - p->cpu_s) / dt * 100 : -1;
        m[n++] = s->rss;
    }
    put_spark(b, v, n, 236, 28, "sp cpu", SP_AREA, "CPU % (of one core) over the last 5 minutes");
    put_spark(b, m, n, 236, 28, "sp", SP_AREA | SP_RANGE, "resident memory over the last 5 minutes");
    put(b, "<p class=\"note\">CPU (violet) and resident memory (blue), 5 s steps</p>");
    put(b, "<dl><dt>processes</dt><dd>");
    put_u64(b, (uint64_t)pt->processes);
    put(b, "</dd><dt>CPU time</dt><dd>");
    shim_buf_printf(b, "%.2f s", pt->cpu_seconds);
    put(b, "</dd><dt>virtual memory</dt><dd>");
    put_bytes(b, pt->virtual_bytes);
    put(b, "</dd><dt>open fds</dt><dd>");
    shim_buf_printf(b, "%.0f / %.0f", pt->open_fds, pt->max_fds);
    put(b, "</dd><dt>threads</dt><dd>");
    shim_buf_printf(b, "%.0f", pt->threads);
    put(b, "</dd><dt>connections open</dt><dd>");
    put_i64(b, vw->a.conns[1]);
    put(b, " in, ");
    put_i64(b, vw->a.conns[0]);
    put(b, " out</dd><dt>requests in flight</dt><dd>");
    put_i64(b, vw->a.in_flight);
    put(b, "</dd></dl></div>");
}

static void health_card(struct shim_buf *b, const struct view *vw)
{
    uint64_t dropped = 0;
    unsigned maxs = 0;
    for (unsigned i = 0; i < vw->a.nfam; i++) {
        dropped += shim_family_dropped(vw->a.fam[i]);
        if (vw->a.nseries[i] > maxs)
            maxs = vw->a.nseries[i];
    }
    put(b, "<div class=\"card\"><h2>promshim</h2><dl><dt>series</dt><dd>");
    put_u64(b, shim_series_count());
    put(b, "</dd><dt>fullest family</dt><dd>");
    shim_buf_printf(b, "%u / %d", maxs, shim_cfg.series_cap);
    put(b, "</dd><dt>series dropped (over cap)</dt><dd");
    put(b, dropped ? " class=\"bad\">" : ">");
    put_u64(b, dropped);
    put(b, "</dd><dt>events dropped</dt><dd");
    unsigned long ev = shim_events_dropped();
    put(b, ev ? " class=\"bad\">" : ">");
    put_u64(b, ev);
    put(b, "</dd><dt>parse errors</dt><dd");
    uint64_t pe = vw->a.sec_count[SEC_PARSE_ERRORS];
    put(b, pe ? " class=\"bad\">" : ">");
    put_u64(b, pe);
    put(b, "</dd><dt>snapshots</dt><dd>");
    shim_buf_printf(b, "%d / %d", vw->nsnaps, HIST_SNAPS);
    put(b, "</dd></dl></div>");
}

static void put_keys(struct shim_buf *b, const struct section *sc, const struct row *r)
{
    for (unsigned i = 0; i < sc->nkeys; i++) {
        put(b, r->overflow ? "<td class=\"k ovf\">" : "<td class=\"k\">");
        put_html(b, r->k[i]);
        put(b, "</td>");
    }
}

static const char est_mark[] = "<span class=\"est\" title=\"not in the snapshot a minute back: average since "
                               "start\">†</span>";

/* table of a histogram section */
static void hist_table(struct shim_buf *b, const struct view *vw, unsigned sec, struct row **rows, size_t n)
{
    const struct section *sc = &sections[sec];
    shim_buf_printf(b, "<section id=\"%s\"><h2>%s <small>", sc->id, sc->title);
    put_u64(b, n);
    put(b, n == 1 ? " row" : " rows");
    put(b, "</small></h2><table><thead><tr>");
    for (unsigned i = 0; i < sc->nkeys; i++)
        shim_buf_printf(b, "<th>%s</th>", sc->heads[i]);
    if (sc->status)
        put(b, "<th>Status</th>");
    shim_buf_printf(b, "<th class=\"n\">%s</th><th class=\"n\">Errors</th><th class=\"n\">p50</th>"
                       "<th class=\"n\">p95</th><th class=\"n\">p99</th><th class=\"n\">Total</th>"
                       "<th>Last 5 min</th></tr></thead><tbody>",
                    sc->unit);
    size_t shown = n < PAGE_ROWS ? n : PAGE_ROWS;
    for (size_t j = 0; j < shown; j++) {
        const struct row *r = rows[j];
        put(b, "<tr>");
        put_keys(b, sc, r);
        put_status(b, r->sclass);
        put(b, "<td class=\"n\">");
        put_num(b, r->rate);
        if (r->est)
            put(b, est_mark);
        put(b, "</td>");
        /* errors: share of the window's requests */
        double er = r->wcount ? (double)r->werrors / (double)r->wcount : 0;
        shim_buf_printf(b, "<td class=\"n%s\" title=\"%llu errors in the window, %llu in total\">",
                        r->werrors ? " bad" : " mute", (unsigned long long)r->werrors,
                        (unsigned long long)r->errors);
        shim_buf_printf(b, "%.1f%%</td>", er * 100);
        /* percentiles over the window's buckets; none in the window: totals */
        double c[NB], ub[NB];
        unsigned nb = r->nb < SHIM_MAX_BUCKETS ? r->nb : SHIM_MAX_BUCKETS;
        const struct hrow *h = r->wbase >= 0 && !r->est ? &vw->base->rows[r->wbase] : NULL;
        int from_total = r->est || r->wcount == 0;
        uint64_t bk[NB];
        row_buckets(&vw->a, r, bk);
        for (unsigned i = 0; i <= nb; i++) {
            uint64_t v = i == nb ? r->count : bk[i];
            if (!from_total && h)
                v = (uint32_t)((uint32_t)v - h->b[i == nb ? nb : i]);
            c[i] = (double)v;
            if (i < nb)
                ub[i] = shim_family_bucket(r->f, i);
        }
        if (!from_total && h) /* the window's total: exact, not mod 2^32 */
            c[nb] = (double)r->wcount;
        static const double qs[3] = {.5, .95, .99};
        for (int q = 0; q < 3; q++) {
            int over;
            double d = quantile(qs[q], c, ub, nb, &over);
            put(b, from_total && r->count ? "<td class=\"n mute\" title=\"no request in the window: since start\">"
                                          : "<td class=\"n\">");
            put_dur(b, d, over);
            put(b, "</td>");
        }
        put(b, "<td class=\"n\">");
        put_u64(b, r->count);
        put(b, "</td><td>");
        double v[HIST_SNAPS];
        int nv = row_series(vw, r, v);
        char title[64];
        snprintf(title, sizeof(title), "%s, 5 s steps", sc->unit);
        put_spark(b, v, nv, 118, 22, "sp", 0, title);
        put(b, "</td></tr>");
    }
    put(b, "</tbody></table>");
    if (n > shown)
        shim_buf_printf(b, "<p class=\"note\">%zu more rows, less busy, are not shown: all of them are in "
                           "<a href=\"/metrics\">/metrics</a>.</p>",
                        n - shown);
    put(b, "</section>");
}

/* connection errors and parse errors: counts with a rate */
static void counter_table(struct shim_buf *b, const struct view *vw, unsigned sec, struct row **rows, size_t n)
{
    const struct section *sc = &sections[sec];
    shim_buf_printf(b, "<section id=\"%s\"><h2>%s</h2><table><thead><tr>", sc->id, sc->title);
    for (unsigned i = 0; i < sc->nkeys; i++)
        shim_buf_printf(b, "<th>%s</th>", sc->heads[i]);
    if (sec == SEC_CACHE)
        put(b, "<th class=\"n\">Hit ratio (last minute)</th><th class=\"n\">Hit ratio (total)</th>"
               "<th class=\"n\">Hits</th><th class=\"n\">Misses</th>");
    shim_buf_printf(b, "<th class=\"n\">%s</th><th class=\"n\">Total</th><th>Last 5 min</th></tr></thead><tbody>",
                    sc->unit);
    size_t shown = n < PAGE_ROWS ? n : PAGE_ROWS;
    for (size_t j = 0; j < shown; j++) {
        const struct row *r = rows[j];
        put(b, "<tr>");
        put_keys(b, sc, r);
        if (sec == SEC_CACHE) {
            put(b, "<td class=\"n\">");
            if (r->wcount)
                shim_buf_printf(b, "%.1f%%", 100.0 * (double)(r->wcount - r->werrors) / (double)r->wcount);
            else
                put(b, "–");
            put(b, "</td><td class=\"n\">");
            if (r->count)
                shim_buf_printf(b, "%.1f%%", 100.0 * (double)(r->count - r->errors) / (double)r->count);
            else
                put(b, "–");
            put(b, "</td><td class=\"n\">");
            put_u64(b, r->count - r->errors);
            put(b, "</td><td class=\"n\">");
            put_u64(b, r->errors);
            put(b, "</td>");
        }
        put(b, "<td class=\"n\">");
        put_num(b, r->rate);
        if (r->est)
            put(b, est_mark);
        put(b, "</td><td class=\"n\">");
        put_u64(b, r->count);
        put(b, "</td><td>");
        double v[HIST_SNAPS];
        int nv = row_series(vw, r, v);
        put_spark(b, v, nv, 118, 22, "sp", 0, sc->unit);
        put(b, "</td></tr>");
    }
    put(b, "</tbody></table>");
    if (n > shown)
        shim_buf_printf(b, "<p class=\"note\">%zu more rows are in <a href=\"/metrics\">/metrics</a>.</p>",
                        n - shown);
    put(b, "</section>");
}

struct lag_row {
    const struct shim_series *s;
    int64_t v;
};

static int cmp_lag(const void *x, const void *y)
{
    const struct lag_row *a = x, *b = y;
    return a->v > b->v ? -1 : a->v < b->v;
}

/* consumer lag: the gauge's series, largest first, every label a column */
static void lag_table(struct shim_buf *b, struct shim_family *f)
{
    const struct shim_family_def *d = shim_family_def_of(f);
    size_t n = 0, cap = 0;
    struct lag_row *v = NULL;
    for (struct shim_series *s = shim_series_next(f, NULL); s; s = shim_series_next(f, s)) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct lag_row *nv = realloc(v, nc * sizeof(*nv));
            if (!nv)
                break;
            v = nv;
            cap = nc;
        }
        v[n].s = s;
        v[n++].v = shim_gauge_value(s);
    }
    if (!n) {
        free(v);
        return;
    }
    qsort(v, n, sizeof(*v), cmp_lag);
    put(b, "<section id=\"lag\"><h2>Kafka consumer lag</h2><table><thead><tr>");
    for (unsigned i = 0; i < d->nlabels; i++) {
        put(b, "<th>");
        put_html(b, d->labels[i]);
        put(b, "</th>");
    }
    put(b, "<th class=\"n\">Lag (messages)</th></tr></thead><tbody>");
    size_t shown = n < PAGE_ROWS ? n : PAGE_ROWS;
    for (size_t j = 0; j < shown; j++) {
        put(b, "<tr>");
        for (unsigned i = 0; i < d->nlabels; i++) {
            put(b, "<td class=\"k\">");
            put_html(b, shim_series_label(v[j].s, i));
            put(b, "</td>");
        }
        put(b, v[j].v > 0 ? "<td class=\"n bad\">" : "<td class=\"n\">");
        put_i64(b, v[j].v);
        put(b, "</td></tr>");
    }
    put(b, "</tbody></table>");
    if (n > shown)
        shim_buf_printf(b, "<p class=\"note\">%zu more partitions are in <a href=\"/metrics\">/metrics</a>.</p>",
                        n - shown);
    put(b, "</section>");
    free(v);
}

/* families: series used against the cap, and what went to overflow */
static void families_table(struct shim_buf *b, const struct view *vw)
{
    put(b, "<section id=\"families\"><h2>Series by family <small>cap ");
    put_u64(b, (uint64_t)(shim_cfg.series_cap > 0 ? shim_cfg.series_cap : 0));
    put(b, " per family</small></h2><table><thead><tr><th>Family</th><th class=\"n\">Series</th><th>Of the cap</th>"
           "<th class=\"n\">Events over the cap</th></tr></thead><tbody>");
    for (unsigned i = 0; i < vw->a.nfam; i++) {
        unsigned ns = vw->a.nseries[i];
        uint64_t dr = shim_family_dropped(vw->a.fam[i]);
        if (!ns && !dr)
            continue;
        put(b, "<tr><td class=\"k\">");
        put_html(b, shim_family_def_of(vw->a.fam[i])->name);
        put(b, "</td><td class=\"n\">");
        put_u64(b, ns);
        double pc = shim_cfg.series_cap > 0 ? 100.0 * ns / shim_cfg.series_cap : 0;
        if (pc > 100)
            pc = 100;
        shim_buf_printf(b, "</td><td><span class=\"bar\"><i%s style=\"width:%.0f%%\"></i></span> %.0f%%</td>",
                        pc >= 100 ? " class=\"full\"" : "", pc, pc);
        put(b, dr ? "<td class=\"n bad\">" : "<td class=\"n\">");
        put_u64(b, dr);
        put(b, "</td></tr>");
    }
    put(b, "</tbody></table></section>");
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void shim_page_render(struct shim_buf *b)
{
    uint64_t t0 = shim_now_ns();
    struct view vw;
    memset(&vw, 0, sizeof(vw));
    vw.now = t0;
    shim_process_totals(&vw.pt); /* first: slots of dead processes go */
    aggregate(&vw.a);
    vw.snaps = malloc(HIST_SNAPS * sizeof(*vw.snaps));
    vw.nsnaps = vw.snaps ? hist_copy(vw.snaps) : 0;
    if (vw.nsnaps) {
        int j = 0;
        for (int i = 0; i < vw.nsnaps; i++)
            if (vw.snaps[i].t_ns + WINDOW_NS <= t0)
                j = i;
        vw.base = &vw.snaps[j];
        vw.window_s = (double)(t0 - vw.base->t_ns) / 1e9;
    }
    struct shim_shared *sh = shim_shared();
    double now_wall = wall_s();
    if (sh && sh->start_ns)
        vw.age_s = now_wall - (double)sh->start_ns / 1e9;
    else if (vw.pt.start_time_seconds > 0)
        vw.age_s = now_wall - vw.pt.start_time_seconds;
    if (vw.age_s < 1)
        vw.age_s = 1;

    /* rows by section, busiest first */
    struct row **order = vw.a.n ? malloc(vw.a.n * sizeof(*order)) : NULL;
    size_t start[NSEC + 1] = {0};
    if (order) {
        size_t cnt[NSEC] = {0};
        for (size_t i = 0; i < vw.a.n; i++) {
            row_window(&vw, &vw.a.rows[i]);
            cnt[vw.a.rows[i].sec]++;
        }
        for (unsigned s = 0; s < NSEC; s++)
            start[s + 1] = start[s] + cnt[s];
        size_t at[NSEC];
        memcpy(at, start, sizeof(at));
        for (size_t i = 0; i < vw.a.n; i++)
            order[at[vw.a.rows[i].sec]++] = &vw.a.rows[i];
        for (unsigned s = 0; s < NSEC; s++)
            top_k(order + start[s], start[s + 1] - start[s], PAGE_ROWS, sizeof(*order), cmp_rowp);
    }

    put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta http-equiv=\"refresh\" content=\"5\">"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>promshim · ");
    put_html(b, shim_program[0] ? shim_program : "?");
    put(b, "</title><style>");
    put(b, css);
    put(b, "</style></head><body><header><h1>promshim <span>");
    put_html(b, shim_program[0] ? shim_program : "?");
    put(b, "</span></h1><p>pid ");
    put_u64(b, (uint64_t)(shim_pid > 0 ? shim_pid : 0));
    put(b, " · ");
    put_u64(b, (uint64_t)vw.pt.processes);
    put(b, vw.pt.processes == 1 ? " process" : " processes");
    if (sh && atomic_load(&sh->exporter_port)) {
        put(b, " · port ");
        put_u64(b, (uint64_t)atomic_load(&sh->exporter_port));
    }
    put(b, " · up ");
    put_age(b, vw.age_s);
    put(b, " · promshim " PROMSHIM_VERSION " · <a href=\"/metrics\">/metrics</a> · <a href=\"/healthz\">/healthz</a>"
           "</p></header><main><div class=\"cards\">");
    process_card(b, &vw);
    int any = 0;
    for (unsigned s = 0; s < NSEC; s++) {
        if (sections[s].kind != SK_HIST || start[s + 1] == start[s])
            continue;
        section_card(b, &vw, s);
        any = 1;
    }
    health_card(b, &vw);
    put(b, "</div>");
    if (!any)
        put(b, "<section><h2>No traffic seen yet</h2><p class=\"note\">Requests served and made, database, cache "
               "and Kafka operations show here as soon as the program handles them.</p></section>");
    if (order) {
        for (unsigned s = 0; s < NSEC; s++) {
            size_t n = start[s + 1] - start[s];
            if (!n)
                continue;
            if (sections[s].kind == SK_HIST)
                hist_table(b, &vw, s, order + start[s], n);
            else if (s != SEC_PARSE_ERRORS || vw.a.sec_count[s])
                counter_table(b, &vw, s, order + start[s], n);
        }
    }
    if (vw.a.lag)
        lag_table(b, vw.a.lag);
    families_table(b, &vw);
    put(b, "</main><footer>");
    if (vw.base && vw.window_s >= 1)
        shim_buf_printf(b, "Rates, errors and percentiles over the last %.0f s", vw.window_s);
    else
        put(b, "No snapshot yet: rates are averages since start");
    put(b, "; charts: the last 5 minutes in 5 s steps; † average since start (the row was not among the ");
    put_u64(b, HIST_ROWS);
    put(b, " busiest a minute ago). Percentiles are estimated from the histogram buckets. Refreshes every 5 s. "
           "Rendered in ");
    shim_buf_printf(b, "%.2f ms", (double)(shim_now_ns() - t0) / 1e6);
    put(b, ".</footer></body></html>\n");
    free(order);
    free(vw.snaps);
    agg_free(&vw.a);
}
