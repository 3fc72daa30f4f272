/*
 * shim.h - what every promshim source file shares: visibility, the
 * can't-happen macros, the logging macro, per-thread state and the clock.
 *
 * Everything in the library is hidden by default (-fvisibility=hidden); only
 * the hooks (SHIM_EXPORT) and the promshim_* API are exported, and the version
 * script in shim/exports.map is the final word on that.
 */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_LIKELY(x) __builtin_expect(!!(x), 1)
#define SHIM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SHIM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * ALWAYS(x) / NEVER(x), as in SQLite: mark a condition we believe always
 * (never) holds. They stay real checks in release builds, so the code after
 * them handles the impossible case gracefully; a debug build
 * (-DSHIM_DEBUG) counts the surprise in shim_surprises so tests can see it.
 * Never abort in a hook.
 */
extern unsigned long shim_surprises;
#ifdef SHIM_DEBUG
#define ALWAYS(x) ((x) ? 1 : (__atomic_add_fetch(&shim_surprises, 1, __ATOMIC_RELAXED), 0))
#define NEVER(x) ((x) ? (__atomic_add_fetch(&shim_surprises, 1, __ATOMIC_RELAXED), 1) : 0)
#else
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#endif

/* Log levels. SHIM_LOG_MAX is fixed at compile time; the configured level
 * (PROMSHIM_LOG_LEVEL) filters at run time below that. */
enum shim_log_level { SHIM_LOG_ERROR = 0, SHIM_LOG_WARN = 1, SHIM_LOG_INFO = 2, SHIM_LOG_DEBUG = 3 };
#ifndef SHIM_LOG_MAX
#define SHIM_LOG_MAX SHIM_LOG_INFO
#endif
extern int shim_log_level;

/*
 * shim_log: format into a stack buffer and write(2) it to stderr with the
 * real write. Async-signal-safe (own formatter: %s %d %u %ld %lu %zu %x %c
 * %%), no malloc, no stdio, never touches errno as seen by the host.
 */
void shim_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define SHIM_LOG(level, ...)                                                   \
    do {                                                                       \
        if ((level) <= SHIM_LOG_MAX && (level) <= shim_log_level)              \
            shim_log_write((level), __VA_ARGS__);                              \
    } while (0)
#define LOG_ERROR(...) SHIM_LOG(SHIM_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) SHIM_LOG(SHIM_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) SHIM_LOG(SHIM_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) SHIM_LOG(SHIM_LOG_DEBUG, __VA_ARGS__)

/* shim_snprintf: the async-signal-safe formatter behind shim_log_write.
 * Always NUL-terminates when size > 0; returns the length it would have
 * written (like snprintf). */
int shim_vsnprintf(char *buf, size_t size, const char *fmt, __builtin_va_list ap);
int shim_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Per-thread state. `guard` is set by promshim's own threads (and around
 * promshim's own calls that may re-enter a hook): hooks seeing it pass
 * straight through. initial-exec TLS: a preloaded library gets static TLS, so
 * reading it is one %fs-relative load, no __tls_get_addr, no malloc.
 */
struct shim_tls {
    int guard;       /* >0: pass straight through */
    int in_registry; /* >0: this thread holds the registry mutex */
    int in_ssl;      /* >0: inside a TLS library's read or write (hooks/tls.c) */
    int ssl_fd;      /* the tracked socket that TLS call moved bytes on, or -1 */
    int in_probes;   /* >0: promshim's thread is running the probes (scheduler.c) */
};
extern __thread struct shim_tls shim_tls __attribute__((tls_model("initial-exec")));

/* Monotonic and wall clocks in nanoseconds (vDSO, async-signal-safe). */
static inline uint64_t shim_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The program's name as it started (argv[0]'s last part), kept before main
 * can rewrite argv. */
extern char shim_program[64];

/* The process's pid, cached; refreshed in a forked child by the fork hook. */
extern int shim_pid;

/* shim_foreign_process: 1 when the caller is not the process promshim set
 * up for: a vfork child (it shares its parent's memory, so it must not
 * touch the parent's fd table) or a child made by a raw clone. One getpid
 * syscall: only for rare paths (closing a tracked socket), never per I/O. */
int shim_foreign_process(void);

/* True once the library is initialised and enabled: hooks do their work.
 * False: everything passes through (disabled by settings, or an internal
 * failure dropped us to pass-through). Atomic: the engine starts it from
 * whichever thread makes the first socket while the others read it (a read
 * is a plain load on x86). */
extern _Atomic int shim_active;

/* True when the settings want promshim in this program: the engine starts
 * (shim_engine_start) on its first socket call, fork or API call. */
extern int shim_wanted;
void shim_engine_start(void);

/* shim_init: idempotent; called by the constructor and by the first hook
 * that runs before it. */
void shim_init(void);

/* shim_exit: the process is exiting: release its share of the registry,
 * write the textfile when it is the last of its tree. */
void shim_exit(void);

/* shim_fail: drop to pass-through after an internal failure. Says so once on
 * stderr with `why` and counts it in promshim_internal_errors_total. */
void shim_fail(const char *why);

#endif
