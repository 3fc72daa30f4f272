/*
 * registry.c - families, series and values in one shared anonymous mapping.
 *
 * The mapping (MAP_SHARED|MAP_ANONYMOUS|MAP_NORESERVE) is made once per
 * exec'd program and inherited by forked children at the same address, so
 * plain pointers into it are valid in the whole fork tree and every process
 * adds into the same atomics. Layout:
 *
 *   [header: mutex, bump offset, family table, process slots, shared values]
 *   [per-process gauge rows: SHIM_MAX_PROCS x SHIM_MAX_PGAUGES int64]
 *   [bump area: families (with their hash slots) and series]
 *
 * Readers never lock: a family or series is fully written before its pointer
 * is published with a release store, and found with acquire loads. Writers
 * (creation only) take the process-shared robust mutex. Nothing is ever freed:
 * the series cap bounds the memory, expiry only hides idle series.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/registry.h"
#include "shim/shim.h"

#define REG_MAGIC 0x70726f6d7368696dull /* "promshim" */

const double shim_default_buckets[] = {.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10};
const unsigned shim_default_nbuckets = SHIM_ARRAY_LEN(shim_default_buckets);

struct shim_series {
    uint64_t hash;
    const struct shim_family *fam;
    struct shim_series *_Atomic next; /* creation order, for rendering */
    uint32_t flags;                   /* SERIES_OVERFLOW */
    uint32_t pgi;                     /* per-process gauge index */
    uint64_t seen;                    /* activity at the last render */
    uint64_t seen_at;                 /* when it last moved, render clock */
    uint16_t lab_off[SHIM_MAX_LABELS];
    uint16_t lab_len;
    /* then: labels (packed, NUL-terminated), padded to 8, then values */
    _Alignas(8) char data[];
};
#define SERIES_OVERFLOW 1u

struct shim_family {
    const struct shim_family_def *def;
    unsigned cap, nb;
    uint64_t bounds[SHIM_MAX_BUCKETS]; /* in units */
    double base_bounds[SHIM_MAX_BUCKETS];
    _Atomic unsigned nseries;
    _Atomic uint64_t dropped; /* events that went to the overflow series */
    struct shim_series *_Atomic overflow;
    struct shim_series *_Atomic head;
    struct shim_series *tail; /* under the mutex */
    uint32_t hmask;
    struct shim_series *_Atomic slots[];
};

#define SLOT_RESERVED (-2) /* taken for a child being forked */

struct proc_slot {
    _Atomic int pid; /* 0 free, -1 being reclaimed, SLOT_RESERVED, or a pid */
};

struct reg_header {
    uint64_t magic;
    pthread_mutex_t mu;
    size_t size, used; /* bump allocator, under mu */
    unsigned series_cap;
    _Atomic unsigned nfamilies;
    struct shim_family *_Atomic families[SHIM_MAX_FAMILIES];
    _Atomic unsigned long nseries;
    _Atomic unsigned long events_dropped;
    _Atomic unsigned npg;
    _Atomic int live;
    struct proc_slot procs[SHIM_MAX_PROCS];
    struct shim_shared shared;
};

static struct reg_header *reg;
static _Atomic int64_t *pg_rows; /* SHIM_MAX_PROCS x SHIM_MAX_PGAUGES */
/* this process's row; private, set again after fork. Atomic: promshim's
 * threads update per-process gauges while the host exits; each update reads
 * it once. */
static _Atomic int my_slot = -1;

/* ---- the mutex ---- */

/* reg_lock: take the registry mutex. Returns 0, or -EDEADLK when this thread
 * already holds it (a signal handler interrupted it: the event is dropped),
 * or -ENOTRECOVERABLE. A holder that died is recovered: whatever it was
 * building was not published, so the registry stays consistent. */
static int reg_lock(void)
{
    if (shim_tls.in_registry)
        return -EDEADLK;
    int rc = pthread_mutex_lock(&reg->mu);
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&reg->mu);
        rc = 0;
    }
    if (rc)
        return -rc;
    shim_tls.in_registry = 1;
    return 0;
}

static void reg_unlock(void)
{
    shim_tls.in_registry = 0;
    pthread_mutex_unlock(&reg->mu);
}

/* reg_alloc: bump-allocate n bytes (8-aligned, zeroed by the mapping) under
 * the mutex. NULL when the reservation is used up. */
static void *reg_alloc(size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (reg->used + n > reg->size)
        return NULL;
    void *p = (char *)reg + reg->used;
    reg->used += n;
    return p;
}

/* ---- process slots ---- */

/* proc_dead: 1 when pid no longer runs (ESRCH). Zombies count as alive here;
 * shim_procs_each looks closer. */
static int proc_dead(int pid)
{
    int saved = errno;
    int dead = kill(pid, 0) == -1 && errno == ESRCH;
    errno = saved;
    return dead;
}

/* slot_release: zero slot i's per-process gauges, then free it and count
 * one live process less. Only the caller that moves pid from `pid` to -1
 * does this; returns 1 for it, 0 for anyone else. */
static int slot_release(int i, int pid)
{
    int expect = pid;
    if (!atomic_compare_exchange_strong(&reg->procs[i].pid, &expect, -1))
        return 0;
    unsigned n = atomic_load(&reg->npg);
    for (unsigned g = 0; g < n; g++)
        atomic_store_explicit(&pg_rows[(size_t)i * SHIM_MAX_PGAUGES + g], 0, memory_order_relaxed);
    atomic_store(&reg->procs[i].pid, 0);
    atomic_fetch_sub(&reg->live, 1);
    return 1;
}

/* proc_register: take a free process slot for `pid`. Returns the slot or -1
 * (more than SHIM_MAX_PROCS live processes: per-process gauges of this one
 * are dropped and counted). */
static int proc_register(int pid)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < SHIM_MAX_PROCS; i++) {
            int expect = 0;
            if (atomic_load_explicit(&reg->procs[i].pid, memory_order_relaxed) == 0 &&
                atomic_compare_exchange_strong(&reg->procs[i].pid, &expect, pid)) {
                atomic_fetch_add(&reg->live, 1);
                return i;
            }
        }
        for (int i = 0; i < SHIM_MAX_PROCS; i++) { /* reclaim slots of dead processes */
            int p = atomic_load(&reg->procs[i].pid);
            if (p > 0 && proc_dead(p))
                slot_release(i, p);
        }
    }
    return -1;
}

/* ---- init ---- */

int shim_registry_init(size_t bytes, unsigned series_cap)
{
    size_t pgbytes = (size_t)SHIM_MAX_PROCS * SHIM_MAX_PGAUGES * sizeof(int64_t);
    size_t hdr = (sizeof(struct reg_header) + 4095) & ~(size_t)4095;
    size_t total = hdr + pgbytes + bytes;
    void *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    reg = m;
    pg_rows = (_Atomic int64_t *)((char *)m + hdr);
    reg->magic = REG_MAGIC;
    reg->size = total;
    reg->used = hdr + pgbytes;
    reg->series_cap = series_cap;

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(&reg->mu, &a);
    pthread_mutexattr_destroy(&a);
    if (rc) {
        munmap(m, total);
        reg = NULL;
        return -rc;
    }
    atomic_store(&my_slot, proc_register(shim_pid));
    return 0;
}

void shim_registry_child(void)
{
    if (reg)
        atomic_store(&my_slot, proc_register(shim_pid));
}

/* A slot taken for a child about to be forked: counted as alive from before
 * fork returns, so a parent exiting at once does not think itself the last
 * process of the tree while its child has not run yet. */
int shim_registry_fork_prepare(void)
{
    return reg ? proc_register(SLOT_RESERVED) : -1;
}

void shim_registry_fork_parent(int slot, int child)
{
    if (slot < 0)
        return;
    if (child > 0) {
        int expect = SLOT_RESERVED;
        atomic_compare_exchange_strong(&reg->procs[slot].pid, &expect, child);
    } else {
        slot_release(slot, SLOT_RESERVED);
    }
}

void shim_registry_fork_child(int slot)
{
    if (slot < 0) {
        shim_registry_child();
        return;
    }
    int expect = SLOT_RESERVED;
    atomic_compare_exchange_strong(&reg->procs[slot].pid, &expect, shim_pid);
    atomic_store(&my_slot, slot);
}

int shim_registry_exit(void)
{
    if (!reg)
        return 0;
    /* let go of the slot before its row is zeroed: updates from now on are
     * dropped */
    int slot = atomic_exchange(&my_slot, -1);
    if (slot >= 0)
        slot_release(slot, shim_pid);
    int last = atomic_load(&reg->live) <= 0;
    if (!last) { /* others may have been killed without saying so */
        last = 1;
        for (int i = 0; i < SHIM_MAX_PROCS && last; i++) {
            int p = atomic_load(&reg->procs[i].pid);
            if (p == SLOT_RESERVED || (p > 0 && !proc_dead(p)))
                last = 0;
        }
    }
    return last;
}

struct shim_shared *shim_shared(void)
{
    return reg ? &reg->shared : NULL;
}

/* ---- families ---- */

/* family_find: the published family for def, or NULL. Lock-free. */
static struct shim_family *family_find(const struct shim_family_def *def)
{
    unsigned n = atomic_load_explicit(&reg->nfamilies, memory_order_acquire);
    for (unsigned i = 0; i < n && i < SHIM_MAX_FAMILIES; i++) {
        struct shim_family *f = atomic_load_explicit(&reg->families[i], memory_order_acquire);
        if (f && f->def == def)
            return f;
    }
    return NULL;
}

/*
 * shim_family: the family for def, created on first use. Returns NULL when
 * the registry is not there, full, or the mutex cannot be taken now.
 */
struct shim_family *shim_family(const struct shim_family_def *def)
{
    if (!reg)
        return NULL;
    struct shim_family *f = family_find(def);
    if (f || reg_lock())
        return f;
    f = family_find(def);
    if (f)
        goto out;
    unsigned n = atomic_load(&reg->nfamilies);
    unsigned cap = reg->series_cap;
    unsigned hsize = 16;
    while (hsize < 2 * (cap + 1))
        hsize <<= 1;
    if (n >= SHIM_MAX_FAMILIES)
        goto out;
    f = reg_alloc(sizeof(*f) + hsize * sizeof(f->slots[0]));
    if (!f)
        goto out;
    f->def = def;
    f->cap = cap;
    f->hmask = hsize - 1;
    if (def->type == SHIM_HISTOGRAM) {
        const double *b = def->nbuckets ? def->buckets : shim_default_buckets;
        unsigned nb = def->nbuckets ? def->nbuckets : shim_default_nbuckets;
        double scale = def->scale > 0 ? def->scale : 1;
        for (unsigned i = 0; i < nb && i < SHIM_MAX_BUCKETS; i++) {
            f->base_bounds[i] = b[i];
            f->bounds[i] = (uint64_t)(b[i] * scale + 0.5);
        }
        f->nb = nb < SHIM_MAX_BUCKETS ? nb : SHIM_MAX_BUCKETS;
    }
    atomic_store_explicit(&reg->families[n], f, memory_order_release);
    atomic_store_explicit(&reg->nfamilies, n + 1, memory_order_release);
out:
    reg_unlock();
    return f;
}

/* ---- series ---- */

static uint64_t labels_hash(unsigned n, const struct shim_lv *v)
{
    uint64_t h = 1469598103934665603ull;
    for (unsigned i = 0; i < n; i++) {
        for (size_t j = 0; j < v[i].n; j++) {
            h ^= (unsigned char)v[i].p[j];
            h *= 1099511628211ull;
        }
        h ^= 0xff; /* separator: ("ab","c") differs from ("a","bc") */
        h *= 1099511628211ull;
    }
    return h;
}

/* clipped length of a label value as stored */
static size_t lv_len(const struct shim_lv *v, unsigned n)
{
    size_t max = (SHIM_LABEL_BYTES / (n ? n : 1)) - 1;
    return v->n < max ? v->n : max;
}

static int labels_equal(const struct shim_series *s, unsigned n, const struct shim_lv *v)
{
    for (unsigned i = 0; i < n; i++) {
        const char *l = s->data + s->lab_off[i];
        size_t len = lv_len(&v[i], n);
        if (memcmp(l, v[i].p, len) != 0 || l[len] != '\0')
            return 0;
    }
    return 1;
}

/* values area of a series: labels padded to 8 */
static inline _Atomic uint64_t *series_values(const struct shim_series *s)
{
    return (_Atomic uint64_t *)(uintptr_t)(s->data + ((s->lab_len + 7u) & ~7u));
}

static size_t values_bytes(const struct shim_family *f)
{
    if (f->def->type == SHIM_HISTOGRAM)
        return (2 + f->nb + 1) * sizeof(uint64_t); /* sum, spare, buckets incl. +Inf */
    return sizeof(uint64_t);
}

/* series_new: build a series (under the mutex). NULL when out of room. */
static struct shim_series *series_new(struct shim_family *f, const struct shim_lv *v, uint64_t h, int overflow)
{
    unsigned n = f->def->nlabels;
    size_t lab = 0;
    for (unsigned i = 0; i < n; i++)
        lab += (overflow ? 9 : lv_len(&v[i], n)) + 1;
    struct shim_series *s = reg_alloc(sizeof(*s) + ((lab + 7) & ~(size_t)7) + values_bytes(f));
    if (!s)
        return NULL;
    s->hash = h;
    s->fam = f;
    size_t at = 0;
    for (unsigned i = 0; i < n; i++) {
        s->lab_off[i] = (uint16_t)at;
        if (overflow) {
            memcpy(s->data + at, "_overflow", 9);
            at += 9;
        } else {
            size_t len = lv_len(&v[i], n);
            memcpy(s->data + at, v[i].p, len);
            /* a NUL inside a value would cut it short: make it visible */
            for (size_t j = 0; j < len; j++)
                if (s->data[at + j] == '\0')
                    s->data[at + j] = '?';
            at += len;
        }
        s->data[at++] = '\0';
    }
    s->lab_len = (uint16_t)at;
    if (overflow)
        s->flags |= SERIES_OVERFLOW;
    if (f->def->type == SHIM_GAUGE && (f->def->flags & SHIM_PER_PROCESS)) {
        unsigned g = atomic_load(&reg->npg);
        if (g >= SHIM_MAX_PGAUGES)
            return NULL;
        s->pgi = g;
        atomic_store(&reg->npg, g + 1);
    }
    /* append to the render list */
    if (f->tail)
        atomic_store_explicit(&f->tail->next, s, memory_order_release);
    else
        atomic_store_explicit(&f->head, s, memory_order_release);
    f->tail = s;
    atomic_fetch_add(&reg->nseries, 1);
    return s;
}

/* slot_find: the series with these labels, or NULL; *slot gets the empty
 * slot where it would go. Lock-free. */
static struct shim_series *slot_find(struct shim_family *f, const struct shim_lv *v, uint64_t h, uint32_t *slot)
{
    unsigned n = f->def->nlabels;
    for (uint32_t i = (uint32_t)h & f->hmask, probes = 0; probes <= f->hmask; i = (i + 1) & f->hmask, probes++) {
        struct shim_series *s = atomic_load_explicit(&f->slots[i], memory_order_acquire);
        if (!s) {
            *slot = i;
            return NULL;
        }
        if (s->hash == h && labels_equal(s, n, v))
            return s;
    }
    *slot = UINT32_MAX;
    return NULL;
}

struct shim_series *shim_series(struct shim_family *f, const struct shim_lv *v)
{
    if (!f)
        return NULL;
    uint64_t h = labels_hash(f->def->nlabels, v);
    uint32_t slot;
    struct shim_series *s = slot_find(f, v, h, &slot);
    if (s)
        return s;
    if (reg_lock())
        return NULL;
    s = slot_find(f, v, h, &slot);
    if (s)
        goto out;
    if (atomic_load(&f->nseries) >= f->cap || slot == UINT32_MAX) {
        s = atomic_load(&f->overflow);
        if (!s) {
            s = series_new(f, v, 0, 1);
            if (s)
                atomic_store_explicit(&f->overflow, s, memory_order_release);
        }
        atomic_fetch_add_explicit(&f->dropped, 1, memory_order_relaxed);
        goto out;
    }
    s = series_new(f, v, h, 0);
    if (s) {
        atomic_store_explicit(&f->slots[slot], s, memory_order_release);
        atomic_fetch_add(&f->nseries, 1);
    }
out:
    reg_unlock();
    return s;
}

/* ---- updates: relaxed atomics, no lock, no clock ---- */

void shim_counter_add(struct shim_series *s, uint64_t v)
{
    atomic_fetch_add_explicit(series_values(s), v, memory_order_relaxed);
}

/* shim_gauge_add: a per-process gauge adds into this process's row (dropped
 * and counted when the process has no slot); a global one into the series. */
void shim_gauge_add(struct shim_series *s, int64_t v)
{
    if (s->fam->def->flags & SHIM_PER_PROCESS) {
        int slot = atomic_load_explicit(&my_slot, memory_order_relaxed);
        if (NEVER(slot < 0)) {
            shim_drop_event();
            return;
        }
        atomic_fetch_add_explicit(&pg_rows[(size_t)slot * SHIM_MAX_PGAUGES + s->pgi], v, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit((_Atomic int64_t *)series_values(s), v, memory_order_relaxed);
}

void shim_gauge_set(struct shim_series *s, int64_t v)
{
    if (s->fam->def->flags & SHIM_PER_PROCESS) {
        int slot = atomic_load_explicit(&my_slot, memory_order_relaxed);
        if (slot >= 0)
            atomic_store_explicit(&pg_rows[(size_t)slot * SHIM_MAX_PGAUGES + s->pgi], v, memory_order_relaxed);
        return;
    }
    atomic_store_explicit((_Atomic int64_t *)series_values(s), v, memory_order_relaxed);
}

/* shim_registry_strdup: a copy of s[0..n) in the shared mapping (for the
 * definitions of metrics made at run time: valid in the whole fork tree),
 * NUL-terminated, or NULL when full or the mutex cannot be had now. */
char *shim_registry_strdup(const char *s, size_t n)
{
    if (!reg || reg_lock())
        return NULL;
    char *p = reg_alloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    reg_unlock();
    return p;
}

/* shim_registry_calloc: n zeroed bytes in the shared mapping, or NULL */
void *shim_registry_calloc(size_t n)
{
    if (!reg || reg_lock())
        return NULL;
    void *p = reg_alloc(n);
    reg_unlock();
    return p;
}

/* shim_hist_observe: one observation of `units` (ns for durations): the sum
 * and the one bucket it falls in (buckets are kept non-cumulative). */
void shim_hist_observe(struct shim_series *s, uint64_t units)
{
    const struct shim_family *f = s->fam;
    _Atomic uint64_t *val = series_values(s);
    unsigned i = 0;
    while (i < f->nb && units > f->bounds[i])
        i++;
    atomic_fetch_add_explicit(&val[0], units, memory_order_relaxed);
    atomic_fetch_add_explicit(&val[2 + i], 1, memory_order_relaxed);
}

void shim_drop_event(void)
{
    if (reg)
        atomic_fetch_add_explicit(&reg->events_dropped, 1, memory_order_relaxed);
}

/* ---- render side ---- */

struct shim_family *shim_family_next(struct shim_family *prev)
{
    if (!reg)
        return NULL;
    unsigned n = atomic_load_explicit(&reg->nfamilies, memory_order_acquire);
    unsigned i = 0;
    if (prev) {
        while (i < n && atomic_load(&reg->families[i]) != prev)
            i++;
        i++;
    }
    return i < n ? atomic_load_explicit(&reg->families[i], memory_order_acquire) : NULL;
}

struct shim_series *shim_series_next(struct shim_family *f, struct shim_series *prev)
{
    return prev ? atomic_load_explicit(&prev->next, memory_order_acquire)
                : atomic_load_explicit(&f->head, memory_order_acquire);
}

const struct shim_family_def *shim_family_def_of(const struct shim_family *f) { return f->def; }
unsigned shim_family_nbuckets(const struct shim_family *f) { return f->nb; }
double shim_family_bucket(const struct shim_family *f, unsigned i) { return i < f->nb ? f->base_bounds[i] : 0; }
const char *shim_series_label(const struct shim_series *s, unsigned i) { return s->data + s->lab_off[i]; }
int shim_series_is_overflow(const struct shim_series *s) { return !!(s->flags & SERIES_OVERFLOW); }
uint64_t shim_counter_value(const struct shim_series *s) { return atomic_load(series_values(s)); }

int64_t shim_gauge_value(const struct shim_series *s)
{
    if (!(s->fam->def->flags & SHIM_PER_PROCESS))
        return (int64_t)atomic_load(series_values(s));
    int64_t sum = 0;
    for (int i = 0; i < SHIM_MAX_PROCS; i++)
        if (atomic_load_explicit(&reg->procs[i].pid, memory_order_relaxed) > 0)
            sum += atomic_load_explicit(&pg_rows[(size_t)i * SHIM_MAX_PGAUGES + s->pgi], memory_order_relaxed);
    return sum;
}

/* cumulative count of bucket i; i == nb is +Inf, the total count */
uint64_t shim_hist_bucket(const struct shim_series *s, unsigned i)
{
    _Atomic uint64_t *val = series_values(s);
    uint64_t c = 0;
    for (unsigned j = 0; j <= i && j <= s->fam->nb; j++)
        c += atomic_load_explicit(&val[2 + j], memory_order_relaxed);
    return c;
}

uint64_t shim_hist_count(const struct shim_series *s) { return shim_hist_bucket(s, s->fam->nb); }
uint64_t shim_hist_sum_units(const struct shim_series *s) { return atomic_load(&series_values(s)[0]); }

/* activity of a series: what changes whenever it is updated */
static uint64_t series_activity(const struct shim_series *s)
{
    switch (s->fam->def->type) {
    case SHIM_HISTOGRAM:
        return shim_hist_count(s);
    case SHIM_COUNTER:
        return shim_counter_value(s);
    case SHIM_GAUGE:
        return (uint64_t)shim_gauge_value(s);
    }
    return 0;
}

int shim_series_idle(struct shim_series *s, uint64_t now_s, uint64_t ttl_s)
{
    /* Renders can run at once (a scrape on the exporter thread, the
     * textfile at exit, another process of the tree): relaxed atomics, so
     * none reads a torn value; the last writer wins, as before. */
    uint64_t a = series_activity(s);
    uint64_t seen_at = __atomic_load_n(&s->seen_at, __ATOMIC_RELAXED);
    if (seen_at == 0 || a != __atomic_load_n(&s->seen, __ATOMIC_RELAXED)) {
        __atomic_store_n(&s->seen, a, __ATOMIC_RELAXED);
        __atomic_store_n(&s->seen_at, now_s ? now_s : 1, __ATOMIC_RELAXED);
        return 0;
    }
    if (ttl_s == 0 || (s->fam->def->flags & SHIM_NO_EXPIRE))
        return 0;
    if (s->fam->def->type == SHIM_GAUGE && a != 0)
        return 0; /* a gauge holding a value is alive, moving or not */
    return now_s - seen_at >= ttl_s;
}

unsigned long shim_series_count(void) { return reg ? atomic_load(&reg->nseries) : 0; }
unsigned long shim_events_dropped(void) { return reg ? atomic_load(&reg->events_dropped) : 0; }
uint64_t shim_family_dropped(const struct shim_family *f) { return atomic_load(&((struct shim_family *)f)->dropped); }

/* proc_zombie: 1 when /proc/PID/stat says Z or X (or is gone). Exporter
 * thread only: it reads a file. */
static int proc_zombie(int pid)
{
    char path[64], buf[256];
    shim_snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    long n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
    syscall(SYS_close, fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return !rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X';
}

int shim_procs_each(void (*fn)(int pid, void *arg), void *arg)
{
    int n = 0;
    if (!reg)
        return 0;
    for (int i = 0; i < SHIM_MAX_PROCS; i++) {
        int p = atomic_load(&reg->procs[i].pid);
        if (p <= 0)
            continue;
        if (p != shim_pid && (proc_dead(p) || proc_zombie(p))) {
            slot_release(i, p);
            continue;
        }
        n++;
        if (fn)
            fn(p, arg);
    }
    return n;
}

/* shim_registry_used: bytes of the bump area in use (families and series) */
size_t shim_registry_used(void)
{
    return reg ? reg->used : 0;
}
