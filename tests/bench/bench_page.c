/*
 * bench_page - how long the status page takes to render (exporter/page.c)
 * over a registry of 10,000 series: HTTP server and client, database,
 * Kafka, connect errors, cache lookups and consumer lag, named as the real
 * families, each observed a few times, with a full 5-minute history of 60
 * snapshots (a snapshot's time set 5 s apart, ending now). Prints the
 * median and the slowest of RENDERS renders, the page's size, and what one
 * history snapshot costs.
 *
 *   bench_page [RENDERS [OUT.html]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/registry.h"
#include "shim/shim.h"

#define SERIES 10000

static const struct shim_family_def def_server = {
    .name = "http_server_request_duration_seconds", .help = "h", .type = SHIM_HISTOGRAM, .nlabels = 5,
    .labels = {"http_request_method", "http_route", "http_response_status_code", "server_port", "error_type"},
    .scale = 1e9};
static const struct shim_family_def def_client = {
    .name = "http_client_request_duration_seconds", .help = "h", .type = SHIM_HISTOGRAM, .nlabels = 5,
    .labels = {"http_request_method", "http_response_status_code", "server_address", "server_port", "error_type"},
    .scale = 1e9};
static const struct shim_family_def def_db = {
    .name = "db_client_operation_duration_seconds", .help = "h", .type = SHIM_HISTOGRAM, .nlabels = 5,
    .labels = {"db_system_name", "db_operation_name", "server_address", "server_port", "error_type"}, .scale = 1e9};
static const struct shim_family_def def_kafka = {
    .name = "messaging_client_operation_duration_seconds", .help = "h", .type = SHIM_HISTOGRAM, .nlabels = 4,
    .labels = {"messaging_system", "messaging_operation_name", "messaging_destination_name", "error_type"},
    .scale = 1e9};
static const struct shim_family_def def_conn_err = {
    .name = "promshim_connect_errors_total", .help = "h", .type = SHIM_COUNTER, .nlabels = 3,
    .labels = {"server_address", "server_port", "error_type"}};
static const struct shim_family_def def_cache = {
    .name = "db_client_cache_lookups_total", .help = "h", .type = SHIM_COUNTER, .nlabels = 2,
    .labels = {"db_system_name", "result"}};
static const struct shim_family_def def_lag = {
    .name = "messaging_kafka_consumer_lag", .help = "h", .type = SHIM_GAUGE, .nlabels = 2,
    .labels = {"messaging_destination_name", "partition"}};

static struct shim_series *all[SERIES];
static int kind[SERIES]; /* 0 histogram, 1 counter, 2 gauge */
static int nall;

static struct shim_lv lv(const char *s)
{
    struct shim_lv v = {s, strlen(s)};
    return v;
}

static void add(struct shim_family *f, int k, const char *a, const char *b, const char *c, const char *d,
                const char *e)
{
    struct shim_lv v[5] = {lv(a), lv(b), lv(c), lv(d), lv(e)};
    struct shim_series *s = shim_series(f, v);
    if (!s) {
        fprintf(stderr, "bench_page: cannot make series %d\n", nall);
        exit(1);
    }
    all[nall] = s;
    kind[nall++] = k;
}

static uint64_t rnd(void)
{
    static uint64_t x = 88172645463325252ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

/* traffic: a few observations on every series */
static void traffic(int per)
{
    for (int i = 0; i < nall; i++) {
        for (int j = 0; j < per; j++) {
            if (kind[i] == 0)
                shim_hist_observe(all[i], 100000 + rnd() % 400000000); /* 0.1 ms .. 400 ms */
            else if (kind[i] == 1)
                shim_counter_add(all[i], 1 + rnd() % 3);
            else
                shim_gauge_set(all[i], (int64_t)(rnd() % 5000));
        }
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    int renders = argc > 1 ? atoi(argv[1]) : 50;
    if (renders < 1)
        renders = 1;
    shim_config_defaults(&shim_cfg);
    shim_cfg.series_cap = SERIES;
    shim_pid = (int)getpid();
    snprintf(shim_program, sizeof(shim_program), "bench_page");
    if (shim_registry_init(256 << 20, SERIES) != 0) {
        fprintf(stderr, "bench_page: registry init failed\n");
        return 1;
    }
    struct shim_family *fs = shim_family(&def_server), *fc = shim_family(&def_client), *fd = shim_family(&def_db),
                       *fk = shim_family(&def_kafka), *fe = shim_family(&def_conn_err),
                       *fl = shim_family(&def_cache), *fg = shim_family(&def_lag);
    if (!fs || !fc || !fd || !fk || !fe || !fl || !fg) {
        fprintf(stderr, "bench_page: families\n");
        return 1;
    }
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *const codes[] = {"200", "201", "404", "500", "503"};
    char a[64], b[64], c[64];
    /* 5000 HTTP server series: 250 routes x 4 methods x 5 statuses */
    for (int r = 0; r < 250; r++)
        for (int m = 0; m < 4; m++)
            for (int s = 0; s < 5; s++) {
                snprintf(a, sizeof(a), "/api/v1/resource%d/{id}", r);
                add(fs, 0, methods[m], a, codes[s], "8080", codes[s][0] == '5' ? codes[s] : "");
            }
    /* 2000 HTTP client series: 100 peers x 4 methods x 5 statuses */
    for (int p = 0; p < 100; p++)
        for (int m = 0; m < 4; m++)
            for (int s = 0; s < 5; s++) {
                snprintf(a, sizeof(a), "10.0.%d.%d", p / 250, p % 250 + 1);
                add(fc, 0, methods[m], codes[s], a, "443", codes[s][0] >= '4' ? codes[s] : "");
            }
    /* 1500 database series */
    static const char *const sys[] = {"redis", "postgresql", "mysql"};
    for (int i = 0; i < 1500; i++) {
        snprintf(a, sizeof(a), "OP%d", i / 3 % 100);
        snprintf(b, sizeof(b), "db%d.internal", i % 5);
        snprintf(c, sizeof(c), "%d", 5432 + i / 300);
        add(fd, 0, sys[i % 3], a, b, c, i % 50 ? "" : "timeout");
    }
    /* 1000 Kafka series */
    for (int i = 0; i < 1000; i++) {
        snprintf(a, sizeof(a), "topic-%d", i / 2);
        add(fk, 0, "kafka", i % 2 ? "send" : "receive", a, i % 97 ? "" : "timeout", "");
    }
    /* 296 connect error series, 4 cache series, 200 lag series */
    for (int i = 0; i < 296; i++) {
        snprintf(a, sizeof(a), "192.168.%d.%d", i / 200, i % 200);
        add(fe, 1, a, "80", i % 2 ? "ECONNREFUSED" : "ETIMEDOUT", "", "");
    }
    add(fl, 1, "redis", "hit", "", "", "");
    add(fl, 1, "redis", "miss", "", "", "");
    add(fl, 1, "memcached", "hit", "", "", "");
    add(fl, 1, "memcached", "miss", "", "", "");
    for (int i = 0; i < 200; i++) {
        snprintf(a, sizeof(a), "topic-%d", i / 4);
        snprintf(b, sizeof(b), "%d", i % 4);
        add(fg, 2, a, b, "", "", "");
    }
    if (nall != SERIES || shim_series_count() != SERIES) {
        fprintf(stderr, "bench_page: %d series made, registry says %lu\n", nall, shim_series_count());
        return 1;
    }

    /* 60 snapshots 5 s apart ending now, traffic between them */
    uint64_t t_end = shim_now_ns();
    double snap_ms[60];
    for (int i = 0; i < 60; i++) {
        traffic(1 + i % 3);
        double t0 = now_ms();
        shim_history_snapshot(t_end - (uint64_t)(59 - i) * 5000000000ull);
        snap_ms[i] = now_ms() - t0;
    }
    traffic(2);

    double *ms = malloc((size_t)renders * sizeof(*ms));
    size_t bytes = 0;
    for (int i = 0; i < renders; i++) {
        struct shim_buf buf = {0};
        double t0 = now_ms();
        shim_page_render(&buf);
        ms[i] = now_ms() - t0;
        if (buf.oom) {
            fprintf(stderr, "bench_page: out of memory\n");
            return 1;
        }
        bytes = buf.len;
        if (i == renders - 1 && argc > 2) {
            FILE *f = fopen(argv[2], "w");
            if (!f || fwrite(buf.p, 1, buf.len, f) != buf.len || fclose(f) != 0) {
                fprintf(stderr, "bench_page: cannot write %s\n", argv[2]);
                return 1;
            }
        }
        shim_buf_free(&buf);
    }
    qsort(ms, (size_t)renders, sizeof(*ms), cmp_d);
    qsort(snap_ms, 60, sizeof(*snap_ms), cmp_d);
    printf("page_render %d series: median %.2f ms, slowest %.2f ms of %d renders, %zu bytes\n", SERIES,
           ms[renders / 2], ms[renders - 1], renders, bytes);
    printf("history_snapshot %d series: median %.2f ms, slowest %.2f ms of 60\n", SERIES, snap_ms[30], snap_ms[59]);
    free(ms);
    return 0;
}
