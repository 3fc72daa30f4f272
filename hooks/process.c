/*
 * process.c - fork. The registry mapping is shared, so a forked child adds
 * into its parent's series; what belongs to one process (its pid, its
 * process slot, its connections' active count, its exporter thread) is set
 * up afresh in the child before fork returns there. See hooks/hook.h.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "hooks/hook.h"
#include "shim/metrics.h"
#include "shim/registry.h"
#include "shim/scheduler.h"

static pid_t shim_fork(void)
{
    need_real();
    if (!shim_active && shim_wanted)
        shim_engine_start(); /* so parent and child share one registry */
    if (!shim_active)
        return real.fork();
    int slot = shim_registry_fork_prepare();
    shim_exporter_fork_prepare();
    pid_t r = real.fork();
    int saved = errno;
    if (r != 0) {
        shim_exporter_fork_parent();
        shim_registry_fork_parent(slot, r);
    } else {
        shim_pid = (int)syscall(SYS_getpid);
        shim_registry_fork_child(slot);
        shim_conn_after_fork_child();
        shim_m_origins_after_fork_child();
        shim_scheduler_after_fork_child();
        shim_exporter_after_fork_child();
    }
    errno = saved;
    return r;
}

/* _exit and _Exit skip destructors: the exit work happens here (dash, many daemons
 * and prefork workers end this way). */
__attribute__((noreturn)) static void shim__exit(int status)
{
    need_real();
    shim_exit();
    if (real._exit)
        real._exit(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

SHIM_EXPORT pid_t fork(void) { return shim_fork(); }
SHIM_EXPORT void _exit(int status) { shim__exit(status); }
/* glibc's _Exit is another name of _exit: a call to it does not reach the
 * hook above unless it is hooked too. */
SHIM_EXPORT void _Exit(int status) { shim__exit(status); }
