/*
 * exporter.h - the HTTP side: the exporter thread (server.c), exposition
 * rendering (expfmt.c) and the at-exit textfile (textfile.c).
 */
#ifndef EXPORTER_EXPORTER_H
#define EXPORTER_EXPORTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A growable output buffer (exporter thread and exit path only). */
struct shim_buf {
    char *p;
    size_t len, cap;
    int oom; /* an allocation failed: the content is incomplete */
};
void shim_buf_put(struct shim_buf *b, const char *s, size_t n);
void shim_buf_puts(struct shim_buf *b, const char *s);
void shim_buf_free(struct shim_buf *b);
/* room for at least want bytes in all; 0 or -1 (oom set) */
int shim_buf_reserve(struct shim_buf *b, size_t want);
void shim_buf_printf(struct shim_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* shim_expfmt_render: the whole registry plus the process and self metrics
 * in the Prometheus text format 0.0.4 (openmetrics = 0) or OpenMetrics 1.0
 * (openmetrics = 1, with its # EOF). Appends to b. */
void shim_expfmt_render(struct shim_buf *b, int openmetrics);

/* label value escaping for the text format: \ " and newline escaped, bytes
 * that are not UTF-8 replaced by U+FFFD. */
void shim_expfmt_escape(struct shim_buf *b, const char *s, size_t n);

/* shim_exporter_kick: called from socket-making hooks; on the first call in
 * a process it makes (or inherits) the listening socket and starts the
 * exporter thread. Cheap after that: one relaxed load. */
void shim_exporter_kick_slow(void);
#define SHIM_EXPORTER_KICKED 1
extern _Atomic int shim_exporter_kicked;
static inline void shim_exporter_kick(void)
{
    /* after the first kick this is all a data hook pays: one load */
    if (__builtin_expect(atomic_load_explicit(&shim_exporter_kicked, memory_order_relaxed) == 0, 0))
        shim_exporter_kick_slow();
}
/* fork: never while libmicrohttpd is being loaded */
void shim_exporter_fork_prepare(void);
void shim_exporter_fork_parent(void);
/* in a forked child: the parent's threads are gone, start afresh on kick */
void shim_exporter_after_fork_child(void);
/* the exporter's listening fd in this process, or -1 */
int shim_exporter_fd(void);

/* file_sd target files (discovery.c): written by the process that made the
 * tree's endpoint (its thread), removed by the tree's last process */
void shim_discovery_write(int port);
void shim_discovery_remove(void);

/* shim_push: PUT the tree's final metrics to the configured Pushgateway,
 * bounded by pushgateway_timeout_ms in all (push.c). 0 or -errno. */
int shim_push(void);

/* the status page at / (page.c) and the short history of snapshots it
 * draws its charts from, kept by promshim's thread */
void shim_page_render(struct shim_buf *b);
void shim_history_tick(uint64_t now_ns);
/* shim_history_snapshot: the tick's work without its "does this process
 * serve the endpoint" check: takes a snapshot when 5 s have passed since
 * the last one (now_ns: CLOCK_MONOTONIC). For tests and benchmarks. */
void shim_history_snapshot(uint64_t now_ns);

/* shim_textfile_write: render the tree's metrics to path atomically (temp
 * file in the same folder, then rename). 0 or -errno. */
int shim_textfile_write(const char *path);

/* shim_process_render: the process_* metrics summed over the live processes
 * of the tree (probes/process.c). */
void shim_process_render(struct shim_buf *b, int openmetrics);

/* shim_process_totals: the process_* values as numbers (the sums that
 * shim_process_render prints), for the status page. Returns how many live
 * processes were counted (0: none, *t zeroed). Reads /proc: promshim's
 * threads only. */
struct shim_proc_totals {
    int processes;
    double cpu_seconds;        /* user + system, summed */
    double resident_bytes;     /* summed */
    double virtual_bytes;      /* summed */
    double open_fds;           /* summed */
    double max_fds;            /* soft limit of the process that answers */
    double threads;            /* summed */
    double start_time_seconds; /* the oldest process's, since the epoch */
};
int shim_process_totals(struct shim_proc_totals *t);

/* # HELP and # TYPE lines of a family (OpenMetrics: counters named without
 * their _total suffix) */
void shim_expfmt_header(struct shim_buf *b, const char *name, const char *type, const char *help, int openmetrics);

#endif
