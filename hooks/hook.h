/*
 * hook.h - the rules every hook follows, and the helpers they share.
 *
 * HOT-PATH RULES (read before touching any hook):
 *  1. Call the real function first, through the one table `real.X`; never
 *     an interposed name (that would recurse).
 *  2. Save errno right after the real call and restore it before returning:
 *     the host sees exactly the errno the real call left.
 *  3. An fd that is not a tracked socket costs one bounds check and one
 *     load (shim_fd()); nothing else: no clock, no lock, no TLS walk.
 *  4. Async-signal-safe only: no malloc, no stdio, no dlsym (except the
 *     once-only boot before the constructor), no locks, no unwinding. What
 *     cannot be recorded without blocking is dropped and counted.
 *  5. promshim's own threads set shim_tls.guard: their calls pass straight
 *     through and the fds they make are never measured.
 *  6. Three layers: the exported symbol is one line calling a static
 *     shim_X(), which does the work.
 */
#ifndef HOOKS_HOOK_H
#define HOOKS_HOOK_H

#include <errno.h>

#include "exporter/exporter.h"
#include "shim/conn.h"
#include "shim/real.h"
#include "shim/shim.h"

/* need_real: before the constructor the table may still be empty: fill it
 * (dlsym; this is the once-only slow path). */
static inline void need_real(void)
{
    if (SHIM_UNLIKELY(!__atomic_load_n(&real.read, __ATOMIC_ACQUIRE)))
        shim_real_init();
}

/* engaged: the engine wants this call (active, and not our own thread) */
static inline int engaged(void)
{
    return shim_active && !shim_tls.guard;
}

/* shim_tracked: the hot-path test: is fd a socket we follow? One bounds
 * check and one load; everything else happens out of line. */
static inline int shim_tracked(int fd)
{
    /* acquire (a plain load on x86): shim_fdmax publishes shim_fdtab */
    return SHIM_UNLIKELY((unsigned)fd < __atomic_load_n(&shim_fdmax, __ATOMIC_ACQUIRE)) &&
           shim_fdtab[fd].kind != FD_NONE;
}

/* shim_io_done: report a finished data call on tracked fd (n bytes held by
 * iov[0..cnt), iov NULL when unseen; or -1 with errno), errno intact. Out of line and cold, so the untracked path of
 * a hook keeps no registers and no stack frame for it. */
struct iovec;
__attribute__((noinline, cold)) void shim_io_done(int fd, enum shim_dir dir, const struct iovec *iov, int cnt, long n);

#endif
