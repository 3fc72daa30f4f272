/*
 * callsite.c - who opened a connection: the module (libcurl.so.4,
 * libpq.so.5, the program) and function that called connect(), named from
 * connect's return address with dladdr and cached by that address.
 *
 * dladdr takes the loader's lock, so hooks never call it: they read the
 * cache only (shim_callsite_cached, lock-free), and a call site not in it
 * yet is named later on promshim's own thread (shim_callsite, from
 * metrics.c's drain of the connects waiting for a name). A connect made
 * inside libc (DNS over TCP) is named as libc's: nothing walks the stack.
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

/* lookup: copy ret's names out of its cache slot; 1 on a hit. A slot
 * another thread is reading or filling is skipped, not waited for: without
 * that, a reader could copy names half overwritten by a writer of another
 * call site sharing the slot. Lock-free. */
static int lookup(struct site *c, void *ret, char *module, size_t ms, char *function, size_t fs)
{
    int hit = 0;
    if (ret && !atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire)) {
        hit = atomic_load_explicit(&c->ret, memory_order_relaxed) == ret;
        if (hit) {
            shim_snprintf(module, ms, "%s", c->module);
            shim_snprintf(function, fs, "%s", c->function);
        }
        atomic_flag_clear_explicit(&c->busy, memory_order_release);
    }
    return hit;
}

int shim_callsite_cached(void *ret, char *module, size_t ms, char *function, size_t fs)
{
    return lookup(&cache[((uintptr_t)ret >> 2) % CACHE], ret, module, ms, function, fs);
}

void shim_callsite(void *ret, char *module, size_t ms, char *function, size_t fs)
{
    struct site *c = &cache[((uintptr_t)ret >> 2) % CACHE];
    if (lookup(c, ret, module, ms, function, fs))
        return;
    Dl_info di;
    if (ret && dladdr((void *)((uintptr_t)ret - 1), &di)) {
        name(&di, module, ms, function, fs);
        /* cache the caller's name */
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
