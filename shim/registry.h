/*
 * registry.h - metric families, series and their values, in one shared
 * anonymous mapping so that forked children add into the same series.
 *
 * Contract:
 * - Families are defined by static `struct shim_family_def`s and looked up
 *   by shim_family(); each def gets one family per registry (idempotent).
 * - shim_series() finds a series by label values without a lock (open
 *   addressing over a published slot array); a missing series is created
 *   under the process-shared robust mutex. Over the family's cap it returns
 *   the family's overflow series and counts promshim_series_dropped_total.
 *   It returns NULL only when the event must be dropped (registry full, or
 *   the calling thread already holds the mutex: a signal handler that
 *   interrupted it); the caller then counts the drop with shim_drop_event().
 * - Updates are relaxed atomics on 64-bit integers: counters and histogram
 *   counts in units, histogram sums in the family's integer unit
 *   (nanoseconds for durations, bytes for sizes), gauges as int64.
 * - Gauges of kind SHIM_PER_PROCESS are kept per live process and summed at
 *   render time, so a process's share leaves with it when it dies.
 *
 * Pointers into the mapping are valid in every process of the fork tree (the
 * mapping sits at the same address in each).
 */
#ifndef SHIM_REGISTRY_H
#define SHIM_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_MAX_LABELS 6
#define SHIM_MAX_BUCKETS 24
#define SHIM_LABEL_BYTES 240 /* packed label values of one series, NULs included */
#define SHIM_MAX_FAMILIES 128
#define SHIM_MAX_PROCS 1024
#define SHIM_MAX_PGAUGES 4096 /* per-process gauge series in one registry */

enum shim_mtype { SHIM_COUNTER, SHIM_GAUGE, SHIM_HISTOGRAM };

/* flags of a family */
#define SHIM_PER_PROCESS 1u /* gauge: per process, summed over live ones */
#define SHIM_NO_EXPIRE 2u   /* never dropped from output when idle */

struct shim_family_def {
    const char *name;
    const char *help;
    enum shim_mtype type;
    unsigned flags;
    unsigned nlabels;
    const char *labels[SHIM_MAX_LABELS];
    /* histograms: upper bounds in base units (seconds, bytes), ascending;
     * nbuckets 0 = the default duration buckets. */
    unsigned nbuckets;
    double buckets[SHIM_MAX_BUCKETS];
    /* the integer unit per base unit: 1e9 for seconds kept as ns, 1 for bytes;
     * counters and gauges with a scale above 1 are fixed-point (custom
     * metrics: 1e6) and rendered as value / scale */
    double scale;
};

struct shim_family;
struct shim_series;

/* A label value as seen by shim_series: bytes and a length, not
 * NUL-terminated, possibly hostile (escaped at render). */
struct shim_lv {
    const char *p;
    size_t n;
};

/* shim_registry_init: map the registry (reserve `bytes`, MAP_NORESERVE,
 * touched as it fills). Called once per exec'd program. 0 or -errno. */
int shim_registry_init(size_t bytes, unsigned series_cap);

/* shim_registry_child: call in a forked child: registers its process slot. */
void shim_registry_child(void);

/* fork: a slot for the child is taken before the real fork
 * (shim_registry_fork_prepare, -1 if none), then given the child's pid in
 * the parent (or freed when fork failed: child <= 0) and adopted by the
 * child. */
int shim_registry_fork_prepare(void);
void shim_registry_fork_parent(int slot, int child);
void shim_registry_fork_child(int slot);

/* shim_registry_exit: the process is exiting normally: releases its process
 * slot (its per-process gauges leave with it; a gauge update from then on
 * is dropped, but one that read the slot just before may still land in the
 * zeroed row: stop promshim's scheduler first, shim_scheduler_stop). Returns
 * 1 when it was the last live process of the tree, else 0. */
int shim_registry_exit(void);

struct shim_family *shim_family(const struct shim_family_def *def);
struct shim_series *shim_series(struct shim_family *f, const struct shim_lv *values);

void shim_counter_add(struct shim_series *s, uint64_t v);
void shim_gauge_add(struct shim_series *s, int64_t v); /* per-process or global */
void shim_gauge_set(struct shim_series *s, int64_t v); /* global gauges only */
void shim_hist_observe(struct shim_series *s, uint64_t units);

/* Memory in the shared mapping, for definitions made at run time (custom
 * metrics): valid in every process of the tree, never freed. NULL when the
 * reservation is used up. */
char *shim_registry_strdup(const char *s, size_t n);
void *shim_registry_calloc(size_t n);

/* shim_drop_event: count one event dropped because it could not be recorded
 * without blocking (promshim_events_dropped_total). */
void shim_drop_event(void);

/* Render-side walk (exporter/expfmt.c). Iteration is lock-free and sees every
 * fully published family and series. */
struct shim_family *shim_family_next(struct shim_family *prev);
struct shim_series *shim_series_next(struct shim_family *f, struct shim_series *prev);
const struct shim_family_def *shim_family_def_of(const struct shim_family *f);
unsigned shim_family_nbuckets(const struct shim_family *f);
/* upper bound of bucket i in base units */
double shim_family_bucket(const struct shim_family *f, unsigned i);
/* label value i of a series (NUL-terminated, raw bytes) */
const char *shim_series_label(const struct shim_series *s, unsigned i);
int shim_series_is_overflow(const struct shim_series *s);
/* events of a family that landed in its overflow series */
uint64_t shim_family_dropped(const struct shim_family *f);
/* shim_series_idle: for expiry at render time: notes the series' current
 * activity (its count) and returns 1 when it has not moved for ttl_s seconds
 * as seen by renders (now_s: a monotonic clock in seconds). Costs nothing on
 * the update path. */
int shim_series_idle(struct shim_series *s, uint64_t now_s, uint64_t ttl_s);
uint64_t shim_counter_value(const struct shim_series *s);
/* gauges: per-process ones summed over live processes */
int64_t shim_gauge_value(const struct shim_series *s);
/* histogram: cumulative count of bucket i (i == nbuckets: +Inf = count) */
uint64_t shim_hist_bucket(const struct shim_series *s, unsigned i);
uint64_t shim_hist_count(const struct shim_series *s);
uint64_t shim_hist_sum_units(const struct shim_series *s);

/* Live processes of the tree (slots whose pid is alive), for the process
 * metrics and the "last one out writes the textfile" rule. fn is called with
 * each live pid; returns how many. Reclaims slots of dead processes. */
int shim_procs_each(void (*fn)(int pid, void *arg), void *arg);

/* Registry-wide self-metrics */
unsigned long shim_series_count(void);
size_t shim_registry_used(void);
unsigned long shim_events_dropped(void);

/* The shared header also carries a few values for the whole tree. */
struct shim_shared {
    _Atomic int exporter_state; /* 0 none, 1 being made, 2 made: one endpoint per tree */
    _Atomic int exporter_port;  /* the port the tree's endpoint is bound to */
    _Atomic int discovery_port; /* the port whose file_sd target file the tree wrote, 0 none */
    uint64_t start_ns; /* wall-clock start of the tree */
};
struct shim_shared *shim_shared(void);

/* Default duration buckets, seconds */
extern const double shim_default_buckets[];
extern const unsigned shim_default_nbuckets;

#endif
