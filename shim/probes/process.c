/*
 * process.c - the process_* metrics of the Prometheus client libraries,
 * summed over the live processes of the fork tree this endpoint covers
 * (a prefork server's master and workers answer as one service):
 * CPU, resident and virtual memory, open fds and threads are sums;
 * process_start_time_seconds is the oldest process's; process_max_fds is
 * the soft limit of the process that answers. Read from /proc at scrape
 * time: always fresh, and it costs nothing between scrapes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/registry.h"
#include "shim/shim.h"

struct totals {
    double cpu_ticks, rss_pages, vsize, threads, fds;
    double oldest_start_ticks;
    int n;
};

/* read_file: up to size-1 bytes of path into buf, NUL-terminated; -1 */
static long read_file(const char *path, char *buf, size_t size)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long n = syscall(SYS_read, fd, buf, size - 1);
    syscall(SYS_close, fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* count_fds: entries of /proc/PID/fd */
static int count_fds(int pid)
{
    char path[64], buf[4096];
    int n = 0;
    shim_snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    int dfd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    for (;;) {
        long r = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
        if (r <= 0)
            break;
        for (long off = 0; off < r;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof(reclen));
            const char *name = buf + off + 19;
            if (name[0] != '.')
                n++;
            off += reclen;
        }
    }
    syscall(SYS_close, dfd);
    return pid == shim_pid ? n - 1 : n; /* our own directory fd */
}

static void add_pid(int pid, void *arg)
{
    struct totals *t = arg;
    char path[64], buf[1024];
    shim_snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (read_file(path, buf, sizeof(buf)) <= 0)
        return;
    char *p = strrchr(buf, ')');
    if (!p)
        return;
    /* fields after ") ": 3 state ... 14 utime 15 stime ... 20 threads ...
     * 22 starttime 23 vsize 24 rss */
    double f[25] = {0};
    int field = 3;
    p += 2;
    while (*p && field <= 24) {
        char *end;
        f[field] = strtod(p, &end);
        if (end == p)
            end = p + 1; /* the state letter */
        p = end;
        while (*p == ' ')
            p++;
        field++;
    }
    t->cpu_ticks += f[14] + f[15];
    t->threads += f[20];
    t->vsize += f[23];
    t->rss_pages += f[24];
    if (!t->n || f[22] < t->oldest_start_ticks)
        t->oldest_start_ticks = f[22];
    t->fds += count_fds(pid);
    t->n++;
}

static double boot_time(void)
{
    char buf[8192];
    if (read_file("/proc/stat", buf, sizeof(buf)) <= 0)
        return 0;
    char *p = strstr(buf, "\nbtime ");
    return p ? strtod(p + 7, NULL) : 0;
}

void shim_process_render(struct shim_buf *b, int om)
{
    struct totals t = {0};
    shim_procs_each(add_pid, &t);
    if (!t.n)
        return;
    double tick = (double)sysconf(_SC_CLK_TCK);
    double page = (double)sysconf(_SC_PAGESIZE);
    struct rlimit rl = {0};
    getrlimit(RLIMIT_NOFILE, &rl);
    shim_expfmt_header(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", om);
    shim_buf_printf(b, "process_cpu_seconds_total %.2f\n", t.cpu_ticks / tick);
    shim_expfmt_header(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", om);
    shim_buf_printf(b, "process_resident_memory_bytes %.0f\n", t.rss_pages * page);
    shim_expfmt_header(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", om);
    shim_buf_printf(b, "process_virtual_memory_bytes %.0f\n", t.vsize);
    shim_expfmt_header(b, "process_open_fds", "gauge", "Number of open file descriptors.", om);
    shim_buf_printf(b, "process_open_fds %.0f\n", t.fds);
    shim_expfmt_header(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.", om);
    shim_buf_printf(b, "process_max_fds %.0f\n", rl.rlim_cur == RLIM_INFINITY ? 1e18 : (double)rl.rlim_cur);
    shim_expfmt_header(b, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", om);
    shim_buf_printf(b, "process_start_time_seconds %.2f\n", boot_time() + t.oldest_start_ticks / tick);
    shim_expfmt_header(b, "process_threads", "gauge", "Number of OS threads in the process.", om);
    shim_buf_printf(b, "process_threads %.0f\n", t.threads);
}

/* shim_process_totals: the same sums as numbers, for the status page
 * (exporter/page.c): returns the live processes counted, 0 when none. */
int shim_process_totals(struct shim_proc_totals *out)
{
    struct totals t = {0};
    memset(out, 0, sizeof(*out));
    shim_procs_each(add_pid, &t);
    if (!t.n)
        return 0;
    double tick = (double)sysconf(_SC_CLK_TCK);
    double page = (double)sysconf(_SC_PAGESIZE);
    struct rlimit rl = {0};
    getrlimit(RLIMIT_NOFILE, &rl);
    out->processes = t.n;
    out->cpu_seconds = t.cpu_ticks / tick;
    out->resident_bytes = t.rss_pages * page;
    out->virtual_bytes = t.vsize;
    out->open_fds = t.fds;
    out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 1e18 : (double)rl.rlim_cur;
    out->threads = t.threads;
    out->start_time_seconds = boot_time() + t.oldest_start_ticks / tick;
    return t.n;
}
