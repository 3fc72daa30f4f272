/*
 * callsite.c - who opened a connection: at connect time (rare, so the cost
 * is acceptable there, never on send or recv), the first frame of the
 * caller's stack outside libc, the threading library, the loader and
 * promshim, named by its module (libcurl.so.4, libpq.so.5, the program) and
 * function.
 *
 * The direct caller of connect() is usually that frame already: its return
 * address is named with dladdr and cached. When it is inside libc (a DNS
 * lookup, say), the stack is walked with libunwind (local unwinding),
 * loaded with dlopen on first need. A frame that cannot be named is
 * "unknown"; a program without unwind tables stops the walk there.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <string.h>

#include "shim/callsite.h"
#include "shim/shim.h"

#define CACHE 256

struct site {
    void *_Atomic ret;
    atomic_flag busy; /* held while the names are read or written; never waited for */
    char module[64];
    char function[64];
};
static struct site cache[CACHE];

/* libunwind, loaded on first need; its context and cursor are opaque
 * blocks (sizes from libunwind.h for x86_64, rounded up) */
typedef struct { uint64_t w[256]; } ctx_t;    /* unw_context_t: 944 bytes */
typedef struct { uint64_t w[160]; } cursor_t; /* unw_cursor_t: 1016 bytes */
static struct {
    _Atomic int state; /* 0 not tried, 1 loaded, -1 unavailable */
    int (*getcontext)(ctx_t *);
    int (*init_local)(cursor_t *, ctx_t *);
    int (*step)(cursor_t *);
    int (*get_reg)(cursor_t *, int, uint64_t *);
} unw;

#define UNW_X86_64_RIP 16

static void *_Atomic self_base; /* promshim's own load address (set by the first caller of any thread) */

/* base: the file name's last component */
static const char *base(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "";
}

/* system: a frame of libc, the threading library, the loader or promshim */
static int system_frame(const Dl_info *di)
{
    if (di->dli_fbase == self_base)
        return 1;
    const char *b = base(di->dli_fname);
    return !strncmp(b, "libc.so", 7) || !strncmp(b, "libpthread", 10) || !strncmp(b, "ld-linux", 8) ||
           !strncmp(b, "libunwind", 9);
}

/* name: fill module and function for the frame at ip */
static void name(const Dl_info *di, char *module, size_t ms, char *function, size_t fs)
{
    const char *m = base(di->dli_fname);
    shim_snprintf(module, ms, "%s", m && *m ? m : "unknown");
    shim_snprintf(function, fs, "%s", di->dli_sname ? di->dli_sname : "unknown");
}

/* load_unwind: dlopen libunwind once; 1 when usable */
static int load_unwind(void)
{
    int st = atomic_load(&unw.state);
    if (st)
        return st > 0;
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (h) {
        *(void **)&unw.getcontext = dlsym(h, "_Ux86_64_getcontext");
        *(void **)&unw.init_local = dlsym(h, "_ULx86_64_init_local");
        *(void **)&unw.step = dlsym(h, "_ULx86_64_step");
        *(void **)&unw.get_reg = dlsym(h, "_ULx86_64_get_reg");
    }
    int ok = h && unw.getcontext && unw.init_local && unw.step && unw.get_reg;
    atomic_store(&unw.state, ok ? 1 : -1);
    return ok;
}

/* walk: the first frame of the stack outside the system libraries */
static int walk(char *module, size_t ms, char *function, size_t fs)
{
    if (!load_unwind())
        return -1;
    ctx_t ctx;
    cursor_t cur;
    if (unw.getcontext(&ctx) != 0 || unw.init_local(&cur, &ctx) != 0)
        return -1;
    for (int depth = 0; depth < 64 && unw.step(&cur) > 0; depth++) {
        uint64_t ip = 0;
        Dl_info di;
        if (unw.get_reg(&cur, UNW_X86_64_RIP, &ip) != 0 || !ip)
            break;
        if (!dladdr((void *)(uintptr_t)(ip - 1), &di))
            continue;
        if (system_frame(&di))
            continue;
        name(&di, module, ms, function, fs);
        return 0;
    }
    return -1;
}

void shim_callsite(void *ret, char *module, size_t ms, char *function, size_t fs)
{
    if (!self_base) {
        Dl_info me;
        if (dladdr((void *)shim_callsite, &me))
            self_base = me.dli_fbase;
    }
    struct site *c = &cache[((uintptr_t)ret >> 2) % CACHE];
    /* A slot another thread is reading or filling is skipped, not waited
     * for: without that, a reader could copy names half overwritten by a
     * writer of another call site sharing the slot. */
    if (ret && !atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire)) {
        int hit = atomic_load_explicit(&c->ret, memory_order_relaxed) == ret;
        if (hit) {
            shim_snprintf(module, ms, "%s", c->module);
            shim_snprintf(function, fs, "%s", c->function);
        }
        atomic_flag_clear_explicit(&c->busy, memory_order_release);
        if (hit)
            return;
    }
    Dl_info di;
    if (ret && dladdr((void *)((uintptr_t)ret - 1), &di) && !system_frame(&di)) {
        name(&di, module, ms, function, fs);
        /* cache the direct caller's name */
        if (!atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire)) {
            shim_snprintf(c->module, sizeof(c->module), "%s", module);
            shim_snprintf(c->function, sizeof(c->function), "%s", function);
            atomic_store_explicit(&c->ret, ret, memory_order_relaxed);
            atomic_flag_clear_explicit(&c->busy, memory_order_release);
        }
        return;
    }
    if (walk(module, ms, function, fs) != 0) {
        shim_snprintf(module, ms, "unknown");
        shim_snprintf(function, fs, "unknown");
    }
}
