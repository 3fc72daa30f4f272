/*
 * promshim.h - the public API: a program's own metrics and probes next to
 * the automatic ones (the C form of defining a Counter, Gauge or Histogram
 * with label names, a MetricProbe, the MetricScheduler and
 * start_metrics_server).
 *
 * A program that may run with or without the shim declares the functions
 * weak and checks them before use, so the same binary works both ways:
 *
 *     #define PROMSHIM_WEAK
 *     #include "promshim.h"
 *     ...
 *     if (promshim_counter) {
 *         static const char *const labels[] = {"kind", NULL};
 *         promshim_metric *orders = promshim_counter("shop_orders_total", "Orders taken.", labels);
 *         const char *const values[] = {"book"};
 *         promshim_inc(orders, values, 1);
 *     }
 *
 * All calls are thread-safe. The update calls (promshim_inc, promshim_set,
 * promshim_observe) are lock-free once a label set has been seen and may be
 * used from a probe; creating a metric takes the registry's lock. Values are
 * kept in fixed point with 6 decimals. Metric and label names follow the
 * Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*, labels not starting with
 * "__"); each metric has the registry's series cap.
 */
#ifndef PROMSHIM_H
#define PROMSHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef PROMSHIM_WEAK
#define PROMSHIM_API __attribute__((weak))
#else
#define PROMSHIM_API
#endif

typedef struct promshim_metric promshim_metric;

/* Define a metric (labels: NULL-terminated names, or NULL for none; at most
 * 6). Defining the same name again returns the same metric when its type
 * and labels agree. Returns NULL (errno EINVAL or ENOMEM) on a bad name or
 * when the registry is full; the error is also said once on stderr. */
PROMSHIM_API promshim_metric *promshim_counter(const char *name, const char *help, const char *const *labels);
PROMSHIM_API promshim_metric *promshim_gauge(const char *name, const char *help, const char *const *labels);
/* buckets: ascending upper bounds; NULL/0 for the default duration buckets */
PROMSHIM_API promshim_metric *promshim_histogram(const char *name, const char *help, const char *const *labels,
                                                 const double *buckets, size_t nbuckets);

/* Update with one value per label name (values may be NULL when the metric
 * has no labels). Return 0, or -1 with errno (EINVAL: wrong type or a
 * negative counter increment; EAGAIN: dropped, counted in
 * promshim_events_dropped_total). */
PROMSHIM_API int promshim_inc(promshim_metric *m, const char *const *values, double by);
PROMSHIM_API int promshim_set(promshim_metric *m, const char *const *values, double v);
PROMSHIM_API int promshim_observe(promshim_metric *m, const char *const *values, double v);

/* A probe: called by the scheduler every collection interval on promshim's
 * own thread; it updates gauges with promshim_set. Returning non-zero counts
 * a failure (promshim_probe_failures_total) and the probe keeps running. */
typedef int (*promshim_probe_fn)(void *arg);
PROMSHIM_API int promshim_register_probe(const char *name, promshim_probe_fn fn, void *arg);

/* Start the scheduler (probes every interval_seconds; 0 keeps the
 * configured observability.metrics.collection_interval_seconds). */
PROMSHIM_API int promshim_start_scheduler(unsigned interval_seconds);

/* Start the exporter now when the settings enable it (a program that links
 * the library directly instead of preloading it). 0, or -1 with errno. */
PROMSHIM_API int promshim_start_metrics_server(void);

/* A plugin (PROMSHIM_PLUGINS=/path/a.so:/path/b.so) defines this; it is
 * called once on promshim's thread and registers probes. 0 on success. */
int promshim_plugin_init(void);

#ifdef __cplusplus
}
#endif

#endif
