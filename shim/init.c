/*
 * init.c - start-up and shut-down: the real-symbol table, the constructor
 * (settings, fd table, registry, inherited fds), the destructor (the
 * textfile of the last process of the tree), and the one way promshim drops
 * to pass-through after an internal failure.
 */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <sys/stat.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/conn.h"
#include "shim/metrics.h"
#include "shim/real.h"
#include "shim/registry.h"
#include "shim/scheduler.h"
#include "shim/messaging.h"
#include "shim/session.h"
#include "shim/shim.h"

static _Atomic int init_state; /* 0 not yet, 1 running, 2 done */
static _Atomic int failed;

extern char **environ;

#define RESOLVE(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

int shim_real_init(void)
{
    if (real.read && real.close)
        return 0;
    RESOLVE(socket);
    RESOLVE(socketpair);
    RESOLVE(connect);
    RESOLVE(accept);
    RESOLVE(accept4);
    RESOLVE(close);
    RESOLVE(close_range);
    RESOLVE(shutdown);
    RESOLVE(dup);
    RESOLVE(dup2);
    RESOLVE(dup3);
    RESOLVE(fcntl);
    RESOLVE(fcntl64);
    RESOLVE(getsockopt);
    RESOLVE(write);
    RESOLVE(readv);
    RESOLVE(writev);
    RESOLVE(send);
    RESOLVE(recv);
    RESOLVE(sendto);
    RESOLVE(recvfrom);
    RESOLVE(sendmsg);
    RESOLVE(recvmsg);
    RESOLVE(sendmmsg);
    RESOLVE(recvmmsg);
    RESOLVE(sendfile);
    RESOLVE(sendfile64);
    RESOLVE(__read_chk);
    RESOLVE(__recv_chk);
    RESOLVE(__recvfrom_chk);
    RESOLVE(fork);
    RESOLVE(_exit);
    RESOLVE(read); /* last: the hooks test it to know the table is filled */
    if (!real.fcntl64)
        real.fcntl64 = real.fcntl;
    if (!real.sendfile64)
        real.sendfile64 = real.sendfile;
    return real.read && real.write && real.close && real.socket ? 0 : -ENOSYS;
}

/* shim_log_level_from: the configured level name to its number */
static int level_from(const char *s)
{
    if (!strcmp(s, "error"))
        return SHIM_LOG_ERROR;
    if (!strcmp(s, "info"))
        return SHIM_LOG_INFO;
    if (!strcmp(s, "debug"))
        return SHIM_LOG_DEBUG;
    if (strcmp(s, "warn") && strcmp(s, "warning"))
        LOG_WARN("PROMSHIM_LOG_LEVEL=\"%s\" is not error, warn, info or debug; using warn", s);
    return SHIM_LOG_WARN;
}

void shim_fail(const char *why)
{
    int expect = 0;
    shim_active = 0;
    if (atomic_compare_exchange_strong(&failed, &expect, 1))
        LOG_ERROR("internal failure (%s): passing every call straight through from now on", why);
}

extern char *program_invocation_short_name;
char shim_program[64]; /* the program's name, copied before main can rewrite argv (nginx does) */

/* program_wanted: PROMSHIM_PROGRAMS, when set, names the programs to
 * instrument (comma-separated); any other passes through untouched (and
 * keeps promshim in LD_PRELOAD for its children) */
static int program_wanted(void)
{
    const char *list = shim_cfg.programs, *me = shim_program;
    if (!list[0])
        return 1;
    size_t n = me ? strlen(me) : 0;
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t k = strcspn(p, ", ");
        if (k && k == n && memcmp(p, me, n) == 0)
            return 1;
        p += k;
    }
    return 0;
}

/* drop_from_preload: PROMSHIM_FOLLOW_CHILDREN=false: take promshim out of
 * LD_PRELOAD, so the programs this one executes run without it (constructor
 * only: setenv allocates) */
static void drop_from_preload(void)
{
    const char *v = getenv("LD_PRELOAD");
    if (!v)
        return;
    char out[4096];
    size_t at = 0;
    for (const char *p = v; *p;) {
        while (*p == ':' || *p == ' ')
            p++;
        size_t k = strcspn(p, ": ");
        if (!k)
            break;
        const char *slash = memrchr(p, '/', k);
        const char *name = slash ? slash + 1 : p;
        size_t nl = k - (size_t)(name - p);
        int ours = nl == strlen("libpromshim.so") && memcmp(name, "libpromshim.so", nl) == 0;
        if (!ours && at + k + 2 < sizeof(out)) {
            if (at)
                out[at++] = ':';
            memcpy(out + at, p, k);
            at += k;
        }
        p += k;
    }
    out[at] = '\0';
    if (at)
        setenv("LD_PRELOAD", out, 1);
    else
        unsetenv("LD_PRELOAD");
}

/* delayed: PROMSHIM_EXPORTER_START_DELAY_MS: a process that lives that long
 * starts its exporter even if it never opens a socket */
static void *delayed(void *arg)
{
    shim_tls.guard = 1;
    struct timespec t = {shim_cfg.start_delay_ms / 1000, (long)(shim_cfg.start_delay_ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    shim_tls.guard = 0;
    shim_engine_start();
    shim_exporter_kick();
    return NULL;
}

static void start_delayed(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (pthread_create(&t, &a, delayed, NULL) != 0)
        LOG_WARN("cannot start the delayed-start thread: the exporter starts on the first socket only");
    pthread_attr_destroy(&a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* holds_sockets: the process was handed a socket: on stdin, stdout or
 * stderr (inetd, systemd Accept=yes) or as systemd's LISTEN_FDS (fds 3 and
 * up). A socket inherited at another fd number is found when the program
 * first accepts on it (hooks/socket.c). At most a few fstat calls. */
static int holds_sockets(void)
{
    struct stat st;
    for (int fd = 0; fd < 3; fd++)
        if (syscall(SYS_fstat, fd, &st) == 0 && S_ISSOCK(st.st_mode))
            return 1;
    const char *n = shim_config_env(environ, "LISTEN_FDS");
    return n && atoi(n) > 0;
}

static _Atomic int engine_state; /* 0 not started, 1 starting, 2 started (or failed) */

/*
 * shim_engine_start: map the fd table, the shared registry and the session
 * pool, make the metric families, classify the inherited sockets. Once per
 * program (a forked child shares what its parent started); a second caller
 * waits for the first. Returns with shim_active set, or not after a failure.
 */
void shim_engine_start(void)
{
    if (SHIM_LIKELY(atomic_load_explicit(&engine_state, memory_order_acquire) == 2))
        return;
    if (!__atomic_load_n(&shim_wanted, __ATOMIC_ACQUIRE))
        return;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&engine_state, &expect, 1)) {
        while (atomic_load_explicit(&engine_state, memory_order_acquire) != 2)
            sched_yield();
        return;
    }
    int saved = errno;
    shim_tls.guard++;
    if (shim_conn_init() != 0) {
        shim_fail("cannot map the fd table");
        goto out;
    }
    if (shim_registry_init((size_t)shim_cfg.registry_size_mb << 20, (unsigned)shim_cfg.series_cap) != 0) {
        shim_fail("cannot map the registry");
        goto out;
    }
    if (shim_metrics_init() != 0) {
        shim_fail("cannot create the metric families");
        goto out;
    }
    if (shim_session_init((unsigned)shim_cfg.max_sessions) != 0) {
        shim_fail("cannot map the session pool");
        goto out;
    }
    shim_http_config(shim_cfg.http_routes);
    shim_kafka_config(shim_cfg.dlq_patterns);
    shim_probe_add("tcp", shim_probe_tcp, NULL);
    shim_probe_add("pools", shim_probe_pools, NULL);
    /* the inherited fds before the hooks go live: once shim_active is set,
     * other threads' hooks write their new sockets' entries, and a scan
     * running then would overwrite them under their feet */
    shim_conn_scan_inherited();
    atomic_store_explicit(&shim_active, 1, memory_order_release);
out:
    shim_tls.guard--;
    atomic_store_explicit(&engine_state, 2, memory_order_release);
    errno = saved;
}

/*
 * shim_init: the constructor's work, also run by the first hook that comes
 * before the constructor. Single-shot; a second caller while it runs (a
 * hook re-entered from inside it) sees real.* filled first and passes
 * through.
 */
void shim_init(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&init_state, &expect, 1))
        return;
    int saved = errno;
    shim_pid = (int)syscall(SYS_getpid);
    if (shim_real_init() != 0) {
        shim_fail("libc symbols not found");
        goto out;
    }
    shim_snprintf(shim_program, sizeof(shim_program), "%s",
                  program_invocation_short_name ? program_invocation_short_name : "unknown");
    shim_config_defaults(&shim_cfg);
    /* defaults, then the file, then the environment, later winning */
    const char *check = shim_config_env(environ, "PROMSHIM_CHECK_CONFIG");
    const char *file = check ? check : shim_config_env(environ, "PROMSHIM_CONFIG");
    int problems = 0;
    if (!file && syscall(SYS_faccessat, AT_FDCWD, "/etc/promshim.toml", R_OK) == 0)
        file = "/etc/promshim.toml";
    if (file && file[0])
        problems += shim_config_from_file(&shim_cfg, file, shim_config_env(environ, "PROMSHIM_ENV"));
    problems += shim_config_from_env(&shim_cfg, environ);
    shim_log_level = level_from(shim_cfg.log_level);
    if (check) { /* promshim --check-config FILE: print, say, stop */
        shim_config_print(&shim_cfg, 1);
        syscall(SYS_exit_group, problems ? 1 : 0);
    }
    if (!shim_cfg.follow_children)
        drop_from_preload();
    if (!shim_cfg.enabled || !shim_cfg.metrics_enabled || !program_wanted())
        goto out;
    /* The engine (fd table, shared registry, sessions) starts on the first
     * socket call, fork or API call: a process that never uses a socket
     * (the many `true`, `sed`, `ls` of a shell script) maps nothing. The
     * sockets it already holds (inetd, socket activation) start it now. */
    __atomic_store_n(&shim_wanted, 1, __ATOMIC_RELEASE);
    if (holds_sockets())
        shim_engine_start();
    if (shim_cfg.start_delay_ms > 0)
        start_delayed();
out:
    atomic_store(&init_state, 2);
    errno = saved;
}

__attribute__((constructor)) static void shim_ctor(void)
{
    shim_init();
}

/*
 * parent_has_shim: 1 when our parent process has promshim loaded too (we
 * were exec'd by an instrumented program). Reads /proc/PPID/maps; exit
 * path only.
 */
static int parent_has_shim(void)
{
    char path[64], buf[4096];
    int found = 0;
    shim_snprintf(path, sizeof(path), "/proc/%d/maps", (int)getppid());
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t keep = 0;
    for (;;) {
        long n = syscall(SYS_read, fd, buf + keep, sizeof(buf) - 1 - keep);
        if (n <= 0)
            break;
        buf[keep + (size_t)n] = '\0';
        if (strstr(buf, "libpromshim")) {
            found = 1;
            break;
        }
        /* keep a tail so a name split between two reads is still found */
        size_t len = keep + (size_t)n;
        keep = len < 32 ? len : 32;
        memmove(buf, buf + len - keep, keep);
    }
    syscall(SYS_close, fd);
    return found;
}

/*
 * shim_exit: the process is exiting (exit, return from main, or _exit):
 * stop the probes (they write this process's per-process gauges), give up
 * its process slot; the last process of the tree writes the textfile. Once
 * per process; never in a vfork child. Waits at most
 * SHIM_SCHEDULER_STOP_WAIT_MS for a probe run in progress.
 */
void shim_exit(void)
{
    static _Atomic int done_pid;
    if (!shim_active && shim_wanted && (shim_cfg.textfile_path[0] || shim_cfg.pushgateway_url[0]) &&
        !shim_foreign_process() && !parent_has_shim())
        shim_engine_start(); /* a job that never used a socket still leaves its process metrics */
    if (!shim_active || shim_foreign_process())
        return;
    if (atomic_exchange(&done_pid, shim_pid) == shim_pid)
        return; /* the destructor after an exit, or two threads exiting */
    int saved = errno;
    shim_tls.guard++;
    if (shim_scheduler_stop(SHIM_SCHEDULER_STOP_WAIT_MS) != 0)
        LOG_WARN("a probe run did not end within %d ms of exit; process %d exits without it",
                 SHIM_SCHEDULER_STOP_WAIT_MS, shim_pid);
    shim_m_origins_drain(); /* this process's connects still waiting for a name */
    int last = shim_registry_exit();
    if (last)
        shim_discovery_remove();
    if (last && (shim_cfg.textfile_path[0] || shim_cfg.pushgateway_url[0]) &&
        (!shim_metrics_idle() || !parent_has_shim())) {
        /* back in the tree for the render, so its process_* are there */
        shim_registry_child();
        if (shim_cfg.textfile_path[0])
            shim_textfile_write(shim_cfg.textfile_path);
        if (shim_cfg.pushgateway_url[0])
            shim_push();
        shim_registry_exit();
    }
    shim_tls.guard--;
    errno = saved;
}

__attribute__((destructor)) static void shim_dtor(void)
{
    shim_exit();
}
