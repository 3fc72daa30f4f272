/*
 * textfile.c - the metrics of the whole tree to a file at exit, in the form
 * node_exporter's textfile collector reads: written to a temporary file in
 * the same folder, then renamed, so a reader never sees half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/shim.h"

int shim_textfile_write(const char *path)
{
    struct shim_buf b = {0};
    char tmp[600];
    int rc = 0, fd = -1;
    if (shim_snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, shim_pid) >= (int)sizeof(tmp)) {
        rc = -ENAMETOOLONG;
        goto out;
    }
    shim_expfmt_render(&b, 0);
    if (b.oom) {
        rc = -ENOMEM;
        goto out;
    }
    fd = (int)syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    for (size_t off = 0; off < b.len;) {
        long n = syscall(SYS_write, fd, b.p + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto out;
        }
        off += (size_t)n;
    }
    if (syscall(SYS_close, fd) != 0) {
        fd = -1;
        rc = -errno;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        rc = -errno;
out:
    if (fd >= 0)
        syscall(SYS_close, fd);
    if (rc) {
        unlink(tmp);
        LOG_ERROR("cannot write the textfile %s (errno %d)", path, -rc);
    }
    shim_buf_free(&b);
    return rc;
}
