/*
 * callsite.h - the module and function that opened a connection.
 */
#ifndef SHIM_CALLSITE_H
#define SHIM_CALLSITE_H

#include <stddef.h>

/* shim_callsite_cached: ret's module and function (ret: connect's return
 * address) when its call site has been named before; 1, else 0 and nothing
 * filled. Lock-free: for hooks. */
int shim_callsite_cached(void *ret, char *module, size_t ms, char *function, size_t fs);

/* shim_callsite: name ret's call site, from the cache or with dladdr (then
 * cached): its module and function, a connect made inside libc being
 * libc's; "unknown" when it cannot be named. Takes the loader's lock: for
 * promshim's own threads, never a hook. */
void shim_callsite(void *ret, char *module, size_t ms, char *function, size_t fs);

#endif
