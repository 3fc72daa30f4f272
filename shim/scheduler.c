/*
 * scheduler.c - probes run every collection interval on promshim's thread
 * (the MetricScheduler of the settings file). A probe that fails is counted
 * in promshim_probe_failures_total and said once on stderr; it keeps being
 * run. Each run's duration is promshim_probe_duration_seconds{probe}.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "shim/config.h"
#include "shim/registry.h"
#include "shim/scheduler.h"
#include "shim/shim.h"

struct probe {
    char name[48];
    shim_probe_fn fn;
    void *arg;
    int said; /* a failure was said on stderr */
    struct shim_series *dur, *fail;
};

static struct probe probes[SHIM_MAX_PROBES];
static _Atomic unsigned nprobes;
/* RUN_BUSY while a tick runs the probes, RUN_STOP once the process exits.
 * One word: a tick either takes RUN_BUSY before the stop (and the stop
 * waits for it) or never starts. */
#define RUN_BUSY 1u
#define RUN_STOP 2u
static _Atomic unsigned run_state;
static uint64_t last_run_ns; /* promshim's thread only */
static int ran;              /* last_run_ns is set */
int shim_scheduler_wanted;
unsigned shim_scheduler_interval_s;

static const struct shim_family_def def_probe_dur = {
    .name = "promshim_probe_duration_seconds",
    .help = "How long the last run of each probe took.",
    .type = SHIM_GAUGE,
    .flags = SHIM_NO_EXPIRE,
    .nlabels = 1,
    .labels = {"probe"},
    .scale = 1e9,
};
static const struct shim_family_def def_probe_fail = {
    .name = "promshim_probe_failures_total",
    .help = "Probe runs that failed.",
    .type = SHIM_COUNTER,
    .flags = SHIM_NO_EXPIRE,
    .nlabels = 1,
    .labels = {"probe"},
};

int shim_probe_add(const char *name, shim_probe_fn fn, void *arg)
{
    if (!name || !*name || !fn)
        return -EINVAL;
    unsigned i = atomic_fetch_add(&nprobes, 1);
    if (i >= SHIM_MAX_PROBES) {
        atomic_store(&nprobes, SHIM_MAX_PROBES);
        return -ENOSPC;
    }
    struct probe *p = &probes[i];
    size_t n = strlen(name) < sizeof(p->name) - 1 ? strlen(name) : sizeof(p->name) - 1;
    memcpy(p->name, name, n);
    p->name[n] = '\0';
    p->arg = arg;
    __atomic_store_n(&p->fn, fn, __ATOMIC_RELEASE); /* published last */
    return 0;
}

/* run: one probe, timed */
static void run(struct probe *p)
{
    if (!p->dur) {
        struct shim_lv v = {p->name, strlen(p->name)};
        p->dur = shim_series(shim_family(&def_probe_dur), &v);
        p->fail = shim_series(shim_family(&def_probe_fail), &v);
    }
    uint64_t t0 = shim_now_ns();
    int rc = p->fn(p->arg);
    uint64_t t1 = shim_now_ns();
    if (p->dur)
        shim_gauge_set(p->dur, (int64_t)(t1 - t0));
    if (rc) {
        if (p->fail)
            shim_counter_add(p->fail, 1);
        if (!p->said) {
            p->said = 1;
            LOG_WARN("probe %s failed (returned %d); it keeps running every interval", p->name, rc);
        }
    }
}

uint64_t shim_scheduler_tick(uint64_t now)
{
    /* read at every tick: promshim_start_scheduler may set it after the
     * thread started (promshim_register_probe starts it), and the next run
     * is due one new interval after the last one */
    unsigned interval = __atomic_load_n(&shim_scheduler_interval_s, __ATOMIC_RELAXED);
    if (!interval)
        interval = (unsigned)shim_cfg.collection_interval_seconds;
    uint64_t step = (uint64_t)interval * 1000000000ull;
    if (ran && now < last_run_ns + step)
        return last_run_ns + step;
    ran = 1;
    last_run_ns = now;
    unsigned idle = 0;
    if (!atomic_compare_exchange_strong(&run_state, &idle, RUN_BUSY))
        return now + step; /* stopped: the process is exiting */
    shim_tls.in_probes++;
    unsigned n = atomic_load(&nprobes);
    for (unsigned i = 0; i < n && i < SHIM_MAX_PROBES; i++)
        if (__atomic_load_n(&probes[i].fn, __ATOMIC_ACQUIRE))
            run(&probes[i]);
    shim_tls.in_probes--;
    atomic_fetch_and(&run_state, ~RUN_BUSY);
    return now + step;
}

int shim_scheduler_stop(unsigned wait_ms)
{
    unsigned st = atomic_fetch_or(&run_state, RUN_STOP);
    if (!(st & RUN_BUSY) || shim_tls.in_probes)
        return 0;
    uint64_t end = shim_now_ns() + (uint64_t)wait_ms * 1000000ull;
    while (atomic_load(&run_state) & RUN_BUSY) {
        if (shim_now_ns() >= end)
            return -ETIMEDOUT;
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    return 0;
}

void shim_scheduler_after_fork_child(void)
{
    atomic_store(&run_state, 0);
}
