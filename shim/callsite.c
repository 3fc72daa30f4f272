/*
 * callsite.c - who opened a connection: at connect time (rare, so the cost
 * is acceptable there, never on send or recv), the module (libcurl.so.4,
 * libpq.so.5, the program) and function that called connect(), named from
 * connect's return address with dladdr and cached by that address.
 *
 * A connect made inside libc (DNS over TCP, say) is named as libc's: the
 * stack is not walked further, because a hook does not unwind (hook.h's
 * rules). dladdr takes the loader's (recursive) lock; that happens once per
 * call site, on its first connect, and is the one lock this hook may take.
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


/* base: the file name's last component */
static const char *base(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "";
}

/* name: fill module and function for the frame at ip */
static void name(const Dl_info *di, char *module, size_t ms, char *function, size_t fs)
{
    const char *m = base(di->dli_fname);
    shim_snprintf(module, ms, "%s", m && *m ? m : "unknown");
    shim_snprintf(function, fs, "%s", di->dli_sname ? di->dli_sname : "unknown");
}

void shim_callsite(void *ret, char *module, size_t ms, char *function, size_t fs)
{
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
    if (ret && dladdr((void *)((uintptr_t)ret - 1), &di)) {
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
    shim_snprintf(module, ms, "unknown");
    shim_snprintf(function, fs, "unknown");
}
