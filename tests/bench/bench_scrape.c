/*
 * bench_scrape N - the cost of a scrape with N series: N series of a
 * counter family (2 labels) and N/10 of a histogram family, each updated
 * once; prints the render time (best of 5) and the registry memory per
 * series. Linked against the engine, no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/registry.h"
#include "shim/shim.h"

static const struct shim_family_def def_c = {
    .name = "bench_requests_total", .help = "h", .type = SHIM_COUNTER, .nlabels = 2, .labels = {"route", "peer"}};
static const struct shim_family_def def_h = {.name = "bench_duration_seconds",
                                             .help = "h",
                                             .type = SHIM_HISTOGRAM,
                                             .nlabels = 2,
                                             .labels = {"route", "peer"},
                                             .scale = 1e9};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000;
    shim_config_defaults(&shim_cfg);
    shim_pid = 1;
    if (shim_registry_init((size_t)1 << 30, (unsigned)(n + 10)) != 0)
        return 1;
    struct shim_family *fc = shim_family(&def_c), *fh = shim_family(&def_h);
    size_t before = shim_registry_used();
    long made = 0;
    for (long i = 0; i < n; i++) {
        char route[32], peer[32];
        snprintf(route, sizeof(route), "/api/v1/item%ld", i % 1000);
        snprintf(peer, sizeof(peer), "10.0.%ld.%ld", (i / 1000) % 256, i % 256);
        struct shim_lv v[2] = {{route, strlen(route)}, {peer, strlen(peer)}};
        int hist = i % 10 == 0;
        struct shim_series *s = shim_series(hist ? fh : fc, v);
        if (!s)
            return 1;
        if (hist)
            shim_hist_observe(s, 1000000 + (uint64_t)i);
        else
            shim_counter_add(s, (uint64_t)i);
        made++;
    }
    size_t used = shim_registry_used() - before;
    double best = 1e30;
    size_t bytes = 0;
    for (int rep = 0; rep < 5; rep++) {
        struct shim_buf b = {0};
        double t0 = now_ms();
        shim_expfmt_render(&b, 0);
        double dt = now_ms() - t0;
        bytes = b.len;
        shim_buf_free(&b);
        if (dt < best)
            best = dt;
    }
    printf("scrape_series %ld render_ms %.2f output_bytes %zu registry_bytes_per_series %.0f\n", made, best, bytes,
           (double)used / (double)made);
    return 0;
}
