/*
 * expfmt.c - the registry as Prometheus text (0.0.4) or OpenMetrics 1.0.
 * Runs on the exporter thread or the exit path: malloc is fine here, the
 * hooks never come here.
 *
 * Label values come from the network and are hostile: \ " and newline are
 * escaped, bytes that are not UTF-8 become U+FFFD, so the output always
 * parses (promtool check metrics).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/registry.h"
#include "shim/shim.h"

/* shim_buf_put: append n bytes. The buffer grows with mmap/mremap, not
 * malloc, so the exit path stays usable from _exit in a signal handler. */
int shim_buf_reserve(struct shim_buf *b, size_t want)
{
    if (b->oom)
        return -1;
    if (want > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < want)
            cap *= 2;
        void *p = b->p ? mremap(b->p, b->cap, cap, MREMAP_MAYMOVE)
                       : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            b->oom = 1;
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    return 0;
}

void shim_buf_put(struct shim_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1)
            cap *= 2;
        void *p = b->p ? mremap(b->p, b->cap, cap, MREMAP_MAYMOVE)
                       : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void shim_buf_free(struct shim_buf *b)
{
    if (b->p)
        munmap(b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
}

void shim_buf_puts(struct shim_buf *b, const char *s)
{
    shim_buf_put(b, s, strlen(s));
}

void shim_buf_printf(struct shim_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    shim_buf_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* utf8_len: length of the valid UTF-8 sequence at s (n bytes left), 0 if
 * the bytes there are not one */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
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
    unsigned cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void shim_expfmt_escape(struct shim_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
            i++;
            continue;
        }
        size_t l = utf8_len(u + i, n - i);
        if (l && c != '\\' && c != '"' && c != '\n') {
            i += l;
            continue;
        }
        shim_buf_put(b, s + run, i - run);
        if (c == '\\')
            shim_buf_put(b, "\\\\", 2);
        else if (c == '"')
            shim_buf_put(b, "\\\"", 2);
        else if (c == '\n')
            shim_buf_put(b, "\\n", 2);
        else
            shim_buf_put(b, "\xef\xbf\xbd", 3);
        i++;
        run = i;
    }
    shim_buf_put(b, s + run, i - run);
}

/* put_double: a float as Prometheus reads it, short where exact */
static void put_double(struct shim_buf *b, double v)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    shim_buf_puts(b, tmp);
}

/* header: # HELP and # TYPE of a family; OpenMetrics names counters
 * without their _total */
void shim_expfmt_header(struct shim_buf *b, const char *name, const char *type, const char *help, int om)
{
    size_t n = strlen(name);
    if (om && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
        n -= 6;
    shim_buf_puts(b, "# HELP ");
    shim_buf_put(b, name, n);
    shim_buf_put(b, " ", 1);
    for (const char *h = help; *h; h++) { /* HELP escapes \\ and newline */
        if (*h == '\\')
            shim_buf_put(b, "\\\\", 2);
        else if (*h == '\n')
            shim_buf_put(b, "\\n", 2);
        else
            shim_buf_put(b, h, 1);
    }
    shim_buf_puts(b, "\n# TYPE ");
    shim_buf_put(b, name, n);
    shim_buf_put(b, " ", 1);
    shim_buf_puts(b, type);
    shim_buf_put(b, "\n", 1);
}

static const char *type_name(enum shim_mtype t)
{
    return t == SHIM_COUNTER ? "counter" : t == SHIM_GAUGE ? "gauge" : "histogram";
}

static uint64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

/* put_u64: v in decimal, no printf */
static void put_u64(struct shim_buf *b, uint64_t v)
{
    char t[24];
    int n = 0;
    do {
        t[sizeof(t) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    shim_buf_put(b, t + sizeof(t) - n, (size_t)n);
}

static void put_i64(struct shim_buf *b, int64_t v)
{
    if (v < 0) {
        shim_buf_put(b, "-", 1);
        put_u64(b, 0ull - (uint64_t)v);
    } else {
        put_u64(b, (uint64_t)v);
    }
}

/* label_set: `a="x",b="y"` of a series into lb (escaped), without braces */
static void label_set(struct shim_buf *lb, const struct shim_family_def *d, const struct shim_series *s)
{
    lb->len = 0;
    for (unsigned i = 0; i < d->nlabels; i++) {
        if (i)
            shim_buf_put(lb, ",", 1);
        shim_buf_puts(lb, d->labels[i]);
        shim_buf_put(lb, "=\"", 2);
        const char *v = shim_series_label(s, i);
        shim_expfmt_escape(lb, v, strlen(v));
        shim_buf_put(lb, "\"", 1);
    }
}

/* line: NAME SUFFIX{LABELS[,le="LE"]} VALUE-to-follow */
static void line_head(struct shim_buf *b, const char *name, size_t nlen, const char *suffix, size_t slen,
                      const struct shim_buf *lb, const char *le, size_t lelen)
{
    shim_buf_put(b, name, nlen);
    shim_buf_put(b, suffix, slen);
    if (lb->len || le) {
        shim_buf_put(b, "{", 1);
        shim_buf_put(b, lb->p ? lb->p : "", lb->len);
        if (le) {
            if (lb->len)
                shim_buf_put(b, ",", 1);
            shim_buf_put(b, "le=\"", 4);
            shim_buf_put(b, le, lelen);
            shim_buf_put(b, "\"", 1);
        }
        shim_buf_put(b, "}", 1);
    }
    shim_buf_put(b, " ", 1);
}

/* render_family: every visible series of f. The label set of a series is
 * escaped once and the bucket bounds formatted once per family. */
static void render_family(struct shim_buf *b, struct shim_family *f, int om, uint64_t now)
{
    const struct shim_family_def *d = shim_family_def_of(f);
    int header = 0;
    size_t nlen = strlen(d->name);
    unsigned nb = d->type == SHIM_HISTOGRAM ? shim_family_nbuckets(f) : 0;
    char le[SHIM_MAX_BUCKETS + 1][32];
    size_t lelen[SHIM_MAX_BUCKETS + 1];
    for (unsigned i = 0; i < nb; i++) {
        snprintf(le[i], sizeof(le[i]), "%.15g", shim_family_bucket(f, i));
        if (om && !strchr(le[i], '.') && !strchr(le[i], 'e'))
            strcat(le[i], ".0"); /* OpenMetrics wants canonical floats */
        lelen[i] = strlen(le[i]);
    }
    strcpy(le[nb], "+Inf");
    lelen[nb] = 4;
    struct shim_buf lb = {0};
    for (struct shim_series *s = shim_series_next(f, NULL); s; s = shim_series_next(f, s)) {
        if (shim_series_idle(s, now, (uint64_t)shim_cfg.series_ttl_seconds))
            continue;
        if (!header) {
            shim_expfmt_header(b, d->name, type_name(d->type), d->help, om);
            header = 1;
        }
        label_set(&lb, d, s);
        switch (d->type) {
        case SHIM_COUNTER:
            line_head(b, d->name, nlen, "", 0, &lb, NULL, 0);
            if (d->scale > 1)
                put_double(b, (double)shim_counter_value(s) / d->scale);
            else
                put_u64(b, shim_counter_value(s));
            shim_buf_put(b, "\n", 1);
            break;
        case SHIM_GAUGE:
            line_head(b, d->name, nlen, "", 0, &lb, NULL, 0);
            if (d->scale > 1)
                put_double(b, (double)shim_gauge_value(s) / d->scale);
            else
                put_i64(b, shim_gauge_value(s));
            shim_buf_put(b, "\n", 1);
            break;
        case SHIM_HISTOGRAM: {
            uint64_t total = shim_hist_bucket(s, nb);
            for (unsigned i = 0; i <= nb; i++) {
                line_head(b, d->name, nlen, "_bucket", 7, &lb, le[i], lelen[i]);
                put_u64(b, i < nb ? shim_hist_bucket(s, i) : total);
                shim_buf_put(b, "\n", 1);
            }
            line_head(b, d->name, nlen, "_sum", 4, &lb, NULL, 0);
            put_double(b, (double)shim_hist_sum_units(s) / (d->scale > 0 ? d->scale : 1));
            shim_buf_put(b, "\n", 1);
            line_head(b, d->name, nlen, "_count", 6, &lb, NULL, 0);
            put_u64(b, total);
            shim_buf_put(b, "\n", 1);
            break;
        }
        }
    }
    shim_buf_free(&lb);
}

static _Atomic double last_scrape_s; /* renders run at once: a scrape, the textfile at exit */

/* render_self: promshim's own health */
static void render_self(struct shim_buf *b, int om)
{
    shim_expfmt_header(b, "promshim_info", "gauge", "promshim build information.", om);
    shim_buf_puts(b, "promshim_info{version=\"" PROMSHIM_VERSION "\"} 1\n");
    shim_expfmt_header(b, "promshim_processes", "gauge", "Live processes of the tree this endpoint covers.", om);
    shim_buf_printf(b, "promshim_processes %d\n", shim_procs_each(NULL, NULL));
    shim_expfmt_header(b, "promshim_series", "gauge", "Series in the registry.", om);
    shim_buf_printf(b, "promshim_series %lu\n", shim_series_count());
    shim_expfmt_header(b, "promshim_series_dropped_total", "counter",
               "Events that went to a family's overflow series because it was at its series cap.", om);
    int any = 0;
    for (struct shim_family *f = shim_family_next(NULL); f; f = shim_family_next(f)) {
        uint64_t n = shim_family_dropped(f);
        if (!n)
            continue;
        any = 1;
        shim_buf_printf(b, "promshim_series_dropped_total{metric=\"%s\"} %llu\n", shim_family_def_of(f)->name,
                        (unsigned long long)n);
    }
    if (!any)
        shim_buf_puts(b, "promshim_series_dropped_total{metric=\"\"} 0\n");
    shim_expfmt_header(b, "promshim_events_dropped_total", "counter",
               "Events not recorded because that would have blocked the program.", om);
    shim_buf_printf(b, "promshim_events_dropped_total %lu\n", shim_events_dropped());
    shim_expfmt_header(b, "promshim_scrape_duration_seconds", "gauge", "Time the previous render of the metrics took.", om);
    shim_buf_puts(b, "promshim_scrape_duration_seconds ");
    put_double(b, last_scrape_s);
    shim_buf_put(b, "\n", 1);
}

void shim_expfmt_render(struct shim_buf *b, int om)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t now = mono_s();
    shim_procs_each(NULL, NULL); /* first: the slots of dead processes go, and their gauges with them */
    for (struct shim_family *f = shim_family_next(NULL); f; f = shim_family_next(f))
        render_family(b, f, om, now);
    shim_process_render(b, om);
    render_self(b, om);
    if (om)
        shim_buf_puts(b, "# EOF\n");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    last_scrape_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}
