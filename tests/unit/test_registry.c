/*
 * test_registry.c - the shared registry: values, the series cap and its
 * overflow series, lock-free lookups under threads, fork sharing, per-process
 * gauges leaving with their process, and the text rendering of hostile
 * label values.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/registry.h"
#include "shim/shim.h"
#include "unit.h"

static const struct shim_family_def def_c = {
    .name = "t_requests_total", .help = "h", .type = SHIM_COUNTER, .nlabels = 2, .labels = {"a", "b"}};
static const struct shim_family_def def_g = {
    .name = "t_active", .help = "h", .type = SHIM_GAUGE, .flags = SHIM_PER_PROCESS, .nlabels = 1, .labels = {"r"}};
static const struct shim_family_def def_h = {.name = "t_duration_seconds",
                                             .help = "h",
                                             .type = SHIM_HISTOGRAM,
                                             .nlabels = 1,
                                             .labels = {"x"},
                                             .nbuckets = 3,
                                             .buckets = {0.001, 0.01, 0.1},
                                             .scale = 1e9};
static const struct shim_family_def def_cap = {
    .name = "t_capped_total", .help = "h", .type = SHIM_COUNTER, .nlabels = 1, .labels = {"id"}};

static struct shim_lv lv(const char *s)
{
    struct shim_lv v = {s, strlen(s)};
    return v;
}

static struct shim_series *series2(struct shim_family *f, const char *a, const char *b)
{
    struct shim_lv v[2] = {lv(a), lv(b)};
    return shim_series(f, v);
}

static void test_counter(void)
{
    struct shim_family *f = shim_family(&def_c);
    REQUIRE(f != NULL);
    CHECK(shim_family(&def_c) == f); /* idempotent */
    struct shim_series *s1 = series2(f, "x", "y");
    struct shim_series *s2 = series2(f, "xy", "");
    REQUIRE(s1 && s2);
    CHECK(s1 != s2); /* ("x","y") and ("xy","") are different label sets */
    CHECK(series2(f, "x", "y") == s1);
    shim_counter_add(s1, 3);
    shim_counter_add(s1, 4);
    CHECK_EQ(shim_counter_value(s1), 7);
    CHECK_EQ(shim_counter_value(s2), 0);
    CHECK_STREQ(shim_series_label(s1, 0), "x");
    CHECK_STREQ(shim_series_label(s1, 1), "y");
}

static void test_histogram(void)
{
    struct shim_family *f = shim_family(&def_h);
    struct shim_lv v = lv("op");
    struct shim_series *s = shim_series(f, &v);
    REQUIRE(s != NULL);
    shim_hist_observe(s, 500000);     /* 0.5 ms -> le 0.001 */
    shim_hist_observe(s, 1000000);    /* exactly 1 ms -> le 0.001 (upper bound inclusive) */
    shim_hist_observe(s, 5000000);    /* 5 ms -> le 0.01 */
    shim_hist_observe(s, 2000000000); /* 2 s -> +Inf only */
    CHECK_EQ(shim_family_nbuckets(f), 3);
    CHECK_EQ(shim_hist_bucket(s, 0), 2);
    CHECK_EQ(shim_hist_bucket(s, 1), 3);
    CHECK_EQ(shim_hist_bucket(s, 2), 3);
    CHECK_EQ(shim_hist_bucket(s, 3), 4);
    CHECK_EQ(shim_hist_count(s), 4);
    CHECK_EQ(shim_hist_sum_units(s), 2006500000ull);
}

static void test_cap(void)
{
    struct shim_family *f = shim_family(&def_cap);
    char id[32];
    struct shim_series *first = NULL, *over = NULL;
    for (int i = 0; i < 50; i++) { /* the test registry's cap is 20 */
        snprintf(id, sizeof(id), "%d", i);
        struct shim_lv v = lv(id);
        struct shim_series *s = shim_series(f, &v);
        REQUIRE(s != NULL);
        shim_counter_add(s, 1);
        if (i == 0)
            first = s;
        if (i >= 20) {
            CHECK(shim_series_is_overflow(s));
            over = s;
        } else {
            CHECK(!shim_series_is_overflow(s));
        }
    }
    CHECK_EQ(shim_counter_value(first), 1);
    REQUIRE(over != NULL);
    CHECK_EQ(shim_counter_value(over), 30);
    CHECK_STREQ(shim_series_label(over, 0), "_overflow");
    CHECK_EQ(shim_family_dropped(f), 30);
    /* a series made before the cap is still found, not sent to overflow */
    struct shim_lv v0 = lv("0");
    CHECK(shim_series(f, &v0) == first);
}

#define THREADS 8
#define PER_THREAD 20000
static void *hammer(void *arg)
{
    struct shim_family *f = shim_family(&def_c);
    char b[16];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(b, sizeof(b), "k%d", i % 7);
        struct shim_series *s = series2(f, "threads", b);
        if (s)
            shim_counter_add(s, 1);
    }
    return arg;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    struct shim_family *f = shim_family(&def_c);
    uint64_t total = 0;
    char b[16];
    for (int k = 0; k < 7; k++) {
        snprintf(b, sizeof(b), "k%d", k);
        total += shim_counter_value(series2(f, "threads", b));
    }
    CHECK_EQ(total, (uint64_t)THREADS * PER_THREAD);
    CHECK_EQ(shim_events_dropped(), 0);
}

static void test_fork_shares(void)
{
    struct shim_family *f = shim_family(&def_c);
    struct shim_series *s = series2(f, "fork", "shared");
    for (int c = 0; c < 4; c++) {
        pid_t p = fork();
        if (p == 0) {
            shim_pid = getpid();
            shim_registry_child();
            for (int i = 0; i < 1000; i++)
                shim_counter_add(s, 1);
            /* a series created in the child is visible to the parent */
            struct shim_series *n = series2(f, "fork", c == 0 ? "child0" : "childN");
            if (n)
                shim_counter_add(n, 1);
            shim_registry_exit();
            _exit(0);
        }
        waitpid(p, NULL, 0);
    }
    CHECK_EQ(shim_counter_value(s), 4000);
    CHECK_EQ(shim_counter_value(series2(f, "fork", "child0")), 1);
    CHECK_EQ(shim_counter_value(series2(f, "fork", "childN")), 3);
}

static void test_per_process_gauge(void)
{
    struct shim_family *f = shim_family(&def_g);
    struct shim_lv v = lv("client");
    struct shim_series *g = shim_series(f, &v);
    REQUIRE(g != NULL);
    shim_gauge_add(g, 2);
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    pid_t p = fork();
    if (p == 0) {
        shim_pid = getpid();
        shim_registry_child();
        shim_gauge_add(g, 5);
        char c = 1;
        if (write(pipefd[1], &c, 1) != 1)
            _exit(1);
        pause(); /* killed below, without a chance to clean up */
        _exit(0);
    }
    char c;
    REQUIRE(read(pipefd[0], &c, 1) == 1);
    CHECK_EQ(shim_gauge_value(g), 7);
    CHECK_EQ(shim_procs_each(NULL, NULL), 2);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    CHECK_EQ(shim_procs_each(NULL, NULL), 1); /* the dead one's slot is reclaimed */
    CHECK_EQ(shim_gauge_value(g), 2);
    shim_gauge_add(g, -2);
    CHECK_EQ(shim_gauge_value(g), 0);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void test_render_escapes(void)
{
    struct shim_family *f = shim_family(&def_c);
    const char hostile[] = "a\"b\\c\nd\xff\xfe" "e\xc3\xa9"; /* quote, backslash, newline, bad UTF-8, é */
    struct shim_lv v[2] = {{hostile, sizeof(hostile) - 1}, lv("z")};
    struct shim_series *s = shim_series(f, v);
    REQUIRE(s != NULL);
    shim_counter_add(s, 9);
    struct shim_buf b = {0};
    shim_expfmt_render(&b, 0);
    REQUIRE(b.p != NULL);
    CHECK(strstr(b.p, "t_requests_total{a=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\xef\xbf\xbd" "e\xc3\xa9\",b=\"z\"} 9\n") != NULL);
    CHECK(strstr(b.p, "# TYPE t_duration_seconds histogram\n") != NULL);
    CHECK(strstr(b.p, "t_duration_seconds_bucket{x=\"op\",le=\"0.001\"} 2\n") != NULL);
    CHECK(strstr(b.p, "t_duration_seconds_bucket{x=\"op\",le=\"+Inf\"} 4\n") != NULL);
    CHECK(strstr(b.p, "t_duration_seconds_sum{x=\"op\"} 2.0065\n") != NULL);
    CHECK(strstr(b.p, "promshim_series_dropped_total{metric=\"t_capped_total\"} 30\n") != NULL);
    shim_buf_free(&b);
    /* OpenMetrics: counter family named without _total, # EOF at the end */
    struct shim_buf o = {0};
    shim_expfmt_render(&o, 1);
    REQUIRE(o.p != NULL);
    CHECK(strstr(o.p, "# TYPE t_requests counter\n") != NULL);
    CHECK(strstr(o.p, "le=\"0.001\"") != NULL);
    CHECK(o.len > 6 && strcmp(o.p + o.len - 6, "# EOF\n") == 0);
    shim_buf_free(&o);
}

int main(void)
{
    shim_config_defaults(&shim_cfg);
    shim_pid = getpid();
    if (shim_registry_init(64 << 20, 20) != 0) {
        fprintf(stderr, "registry init failed\n");
        return 1;
    }
    UNIT_RUN(test_counter);
    UNIT_RUN(test_histogram);
    UNIT_RUN(test_cap);
    UNIT_RUN(test_threads);
    UNIT_RUN(test_fork_shares);
    UNIT_RUN(test_per_process_gauge);
    UNIT_RUN(test_render_escapes);
    return unit_summary();
}
