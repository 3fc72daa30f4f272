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
#include "shim/registry.h"

static pid_t shim_fork(void)
{
    need_real();
    pid_t r = real.fork();
    if (r == 0 && shim_active) {
        int saved = errno;
        shim_pid = (int)syscall(SYS_getpid);
        shim_registry_child();
        shim_conn_after_fork_child();
        shim_exporter_after_fork_child();
        errno = saved;
    }
    return r;
}

SHIM_EXPORT pid_t fork(void) { return shim_fork(); }
