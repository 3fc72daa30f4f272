/*
 * state.c - the few process-wide globals every part reads, kept apart from
 * init.c (whose constructor must not be linked into the unit tests).
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/real.h"
#include "shim/shim.h"

struct shim_real real;
__thread struct shim_tls shim_tls __attribute__((tls_model("initial-exec")));
int shim_pid;
_Atomic int shim_active;
int shim_wanted;

int shim_foreign_process(void)
{
    return (int)syscall(SYS_getpid) != shim_pid;
}
