/*
 * discovery.c - a Prometheus file_sd target file for the tree's endpoint,
 * so Prometheus finds every instrumented program of a machine:
 *
 *   DIR/promshim-PORT.json: [{"targets": ["127.0.0.1:PORT"],
 *                             "labels": {"job": "...", "pid": "...", "program": "..."}}]
 *
 * Written (temporary file, then rename) by the process that made the
 * endpoint, removed by the last process of its tree at exit. A file left by
 * a tree that died without exiting (killed) is stale when nothing listens
 * on its port any more: the next process that writes one removes it.
 * Named by port (unique on the machine while it is served), so a tree whose
 * first process exits keeps its file while its children serve.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/real.h"
#include "shim/registry.h"
#include "shim/shim.h"

/* json_str: s into b as a JSON string (quotes, backslashes, controls) */
static void json_str(struct shim_buf *b, const char *s)
{
    shim_buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            shim_buf_put(b, e, 2);
        } else if (c < 0x20) {
            shim_buf_printf(b, "\\u%04x", c);
        } else {
            shim_buf_put(b, (const char *)&c, 1);
        }
    }
    shim_buf_put(b, "\"", 1);
}

/* port_served: something listens on 127.0.0.1:port (a bind there fails) */
static int port_served(int port)
{
    int fd = real.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int busy = bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno == EADDRINUSE;
    real.close(fd);
    return busy;
}

/* sweep: remove the target files of endpoints nobody serves any more */
static void sweep(const char *dir, int mine)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int port;
        char tail[8];
        if (sscanf(de->d_name, "promshim-%d.jso%1s", &port, tail) != 2 || port == mine || port <= 0 || port > 65535)
            continue;
        if (!port_served(port)) {
            char path[1024];
            shim_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

void shim_discovery_write(int port)
{
    const char *dir = shim_cfg.discovery_dir;
    if (!dir[0])
        return;
    sweep(dir, port);
    char host[160];
    const char *ba = shim_cfg.bind_address;
    if (shim_cfg.discovery_host[0])
        shim_snprintf(host, sizeof(host), "%s", shim_cfg.discovery_host);
    else if (!strcmp(ba, "0.0.0.0") || !strcmp(ba, "::") || !ba[0])
        shim_snprintf(host, sizeof(host), "127.0.0.1");
    else
        shim_snprintf(host, sizeof(host), strchr(ba, ':') ? "[%s]" : "%s", ba);
    const char *prog = shim_program;
    char target[200], pid[16];
    shim_snprintf(target, sizeof(target), "%s:%d", host, port);
    shim_snprintf(pid, sizeof(pid), "%d", shim_pid);
    struct shim_buf b = {0};
    shim_buf_puts(&b, "[{\"targets\": [");
    json_str(&b, target);
    shim_buf_puts(&b, "], \"labels\": {\"job\": ");
    json_str(&b, shim_cfg.job[0] ? shim_cfg.job : prog);
    shim_buf_puts(&b, ", \"pid\": ");
    json_str(&b, pid);
    shim_buf_puts(&b, ", \"program\": ");
    json_str(&b, prog);
    shim_buf_puts(&b, "}}]\n");
    char path[1024], tmp[1100];
    shim_snprintf(path, sizeof(path), "%s/promshim-%d.json", dir, port);
    shim_snprintf(tmp, sizeof(tmp), "%s/.promshim-%d.json.tmp", dir, port);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && !b.oom && syscall(SYS_write, fd, b.p, b.len) == (long)b.len;
    if (fd >= 0)
        syscall(SYS_close, fd);
    struct shim_shared *sh = shim_shared();
    if (ok && rename(tmp, path) == 0) {
        if (sh)
            atomic_store(&sh->discovery_port, port);
    } else {
        unlink(tmp);
        LOG_ERROR("cannot write the target file %s (errno %d)", path, errno);
    }
    shim_buf_free(&b);
}

void shim_discovery_remove(void)
{
    struct shim_shared *sh = shim_shared();
    int port = sh ? atomic_load(&sh->discovery_port) : 0;
    if (!shim_cfg.discovery_dir[0] || !port)
        return;
    char path[1024];
    shim_snprintf(path, sizeof(path), "%s/promshim-%d.json", shim_cfg.discovery_dir, port);
    unlink(path);
}
