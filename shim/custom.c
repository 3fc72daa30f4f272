/*
 * custom.c - the program's own metrics (shim/promshim.h): families made at
 * run time, their definitions kept in the shared registry so a forked child
 * updates the same series. Values are fixed point with 6 decimals.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "shim/promshim.h"
#include "shim/registry.h"
#include "shim/shim.h"

#define FIXED 1e6

/* valid_name: Prometheus metric (label = 0) or label (label = 1) name */
static int valid_name(const char *s, int label)
{
    if (!s || !*s || strlen(s) > 200)
        return 0;
    if (label && s[0] == '_' && s[1] == '_')
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':') ||
                 (p != s && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static _Atomic int said_bad;

/* refuse: say once why a definition was refused; NULL with errno */
static promshim_metric *refuse(const char *name, const char *why, int err)
{
    int expect = 0;
    if (atomic_compare_exchange_strong(&said_bad, &expect, 1))
        LOG_ERROR("custom metric \"%.*s\" refused: %s", 64, name ? name : "(null)", why);
    errno = err;
    return NULL;
}

/* define: find or make the family; NULL with errno on failure */
static promshim_metric *define(enum shim_mtype type, const char *name, const char *help, const char *const *labels,
                               const double *buckets, size_t nbuckets)
{
    unsigned nl = 0;
    shim_engine_start();
    if (!valid_name(name, 0))
        return refuse(name, "not a valid metric name", EINVAL);
    for (; labels && labels[nl]; nl++)
        if (nl >= SHIM_MAX_LABELS || !valid_name(labels[nl], 1))
            return refuse(name, "too many labels, or a label name that is not valid", EINVAL);
    if (nbuckets > SHIM_MAX_BUCKETS)
        return refuse(name, "too many buckets", EINVAL);
    for (size_t i = 0; i < nbuckets; i++)
        if (!(buckets[i] >= -1e12 && buckets[i] <= 1e12) || (i && buckets[i] <= buckets[i - 1]))
            return refuse(name, "buckets must be finite and ascending", EINVAL);
    /* the same name again: the same metric when type and labels agree */
    for (struct shim_family *f = shim_family_next(NULL); f; f = shim_family_next(f)) {
        const struct shim_family_def *d = shim_family_def_of(f);
        if (strcmp(d->name, name) != 0)
            continue;
        int same = d->type == type && d->nlabels == nl;
        for (unsigned i = 0; same && i < nl; i++)
            same = strcmp(d->labels[i], labels[i]) == 0;
        return same ? (promshim_metric *)f : refuse(name, "defined before with another type or labels", EINVAL);
    }
    struct shim_family_def *d = shim_registry_calloc(sizeof(*d));
    if (!d)
        return refuse(name, "the registry is full", ENOMEM);
    d->name = shim_registry_strdup(name, strlen(name));
    help = help ? help : "";
    d->help = shim_registry_strdup(help, strlen(help) < 1024 ? strlen(help) : 1024);
    d->type = type;
    d->nlabels = nl;
    for (unsigned i = 0; i < nl; i++) {
        d->labels[i] = shim_registry_strdup(labels[i], strlen(labels[i]));
        if (!d->labels[i])
            return refuse(name, "the registry is full", ENOMEM);
    }
    d->nbuckets = (unsigned)nbuckets;
    for (size_t i = 0; i < nbuckets; i++)
        d->buckets[i] = buckets[i];
    d->scale = FIXED;
    if (!d->name || !d->help)
        return refuse(name, "the registry is full", ENOMEM);
    struct shim_family *f = shim_family(d);
    return f ? (promshim_metric *)f : refuse(name, "too many metric families", ENOMEM);
}

SHIM_EXPORT promshim_metric *promshim_counter(const char *name, const char *help, const char *const *labels)
{
    return define(SHIM_COUNTER, name, help, labels, NULL, 0);
}

SHIM_EXPORT promshim_metric *promshim_gauge(const char *name, const char *help, const char *const *labels)
{
    return define(SHIM_GAUGE, name, help, labels, NULL, 0);
}

SHIM_EXPORT promshim_metric *promshim_histogram(const char *name, const char *help, const char *const *labels,
                                                const double *buckets, size_t nbuckets)
{
    return define(SHIM_HISTOGRAM, name, help, labels, buckets, buckets ? nbuckets : 0);
}

/* series_of: the series of m for values; NULL with errno */
static struct shim_series *series_of(promshim_metric *m, const char *const *values, enum shim_mtype type)
{
    struct shim_family *f = (struct shim_family *)m;
    if (!f || shim_family_def_of(f)->type != type) {
        errno = EINVAL;
        return NULL;
    }
    const struct shim_family_def *d = shim_family_def_of(f);
    struct shim_lv v[SHIM_MAX_LABELS];
    for (unsigned i = 0; i < d->nlabels; i++) {
        const char *s = values && values[i] ? values[i] : "";
        v[i].p = s;
        v[i].n = strlen(s);
    }
    struct shim_series *s = shim_series(f, v);
    if (!s) {
        shim_drop_event();
        errno = EAGAIN;
    }
    return s;
}

SHIM_EXPORT int promshim_inc(promshim_metric *m, const char *const *values, double by)
{
    if (!(by >= 0) || by > 1e12) {
        errno = EINVAL;
        return -1;
    }
    struct shim_series *s = series_of(m, values, SHIM_COUNTER);
    if (!s)
        return -1;
    shim_counter_add(s, (uint64_t)(by * FIXED + 0.5));
    return 0;
}

SHIM_EXPORT int promshim_set(promshim_metric *m, const char *const *values, double v)
{
    if (!(v >= -9e12 && v <= 9e12)) {
        errno = EINVAL;
        return -1;
    }
    struct shim_series *s = series_of(m, values, SHIM_GAUGE);
    if (!s)
        return -1;
    shim_gauge_set(s, (int64_t)(v < 0 ? v * FIXED - 0.5 : v * FIXED + 0.5));
    return 0;
}

SHIM_EXPORT int promshim_observe(promshim_metric *m, const char *const *values, double v)
{
    if (!(v >= 0) || v > 1e12) {
        errno = EINVAL;
        return -1;
    }
    struct shim_series *s = series_of(m, values, SHIM_HISTOGRAM);
    if (!s)
        return -1;
    shim_hist_observe(s, (uint64_t)(v * FIXED + 0.5));
    return 0;
}
