/*
 * io.c - the data calls: read, write, readv, writev, send, recv, sendto,
 * recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, sendfile and the
 * fortified __*_chk variants. See hooks/hook.h for the hot-path rules.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hooks/hook.h"

/* after: the common tail of every data hook: a tracked fd gets its result
 * reported (MSG_PEEK reads are not: the bytes will be read again). */
#define AFTER(fd, dir, r)                                                      \
    do {                                                                       \
        struct shim_fd *e_ = shim_fd(fd);                                      \
        if (SHIM_UNLIKELY(e_ != NULL))                                         \
            io_done(e_, fd, dir, (long)(r));                                   \
    } while (0)

static ssize_t shim_read(int fd, void *buf, size_t n)
{
    need_real();
    ssize_t r = real.read(fd, buf, n);
    AFTER(fd, DIR_RX, r);
    return r;
}

static ssize_t shim_read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    need_real();
    ssize_t r = real.__read_chk(fd, buf, n, buflen);
    AFTER(fd, DIR_RX, r);
    return r;
}

static ssize_t shim_write(int fd, const void *buf, size_t n)
{
    need_real();
    ssize_t r = real.write(fd, buf, n);
    AFTER(fd, DIR_TX, r);
    return r;
}

static ssize_t shim_readv(int fd, const struct iovec *iov, int cnt)
{
    need_real();
    ssize_t r = real.readv(fd, iov, cnt);
    AFTER(fd, DIR_RX, r);
    return r;
}

static ssize_t shim_writev(int fd, const struct iovec *iov, int cnt)
{
    need_real();
    ssize_t r = real.writev(fd, iov, cnt);
    AFTER(fd, DIR_TX, r);
    return r;
}

static ssize_t shim_send(int fd, const void *buf, size_t n, int flags)
{
    need_real();
    ssize_t r = real.send(fd, buf, n, flags);
    AFTER(fd, DIR_TX, r);
    return r;
}

static ssize_t shim_recv(int fd, void *buf, size_t n, int flags)
{
    need_real();
    ssize_t r = real.recv(fd, buf, n, flags);
    if (!(flags & MSG_PEEK))
        AFTER(fd, DIR_RX, r);
    return r;
}

static ssize_t shim_recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    need_real();
    ssize_t r = real.__recv_chk(fd, buf, n, buflen, flags);
    if (!(flags & MSG_PEEK))
        AFTER(fd, DIR_RX, r);
    return r;
}

static ssize_t shim_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tl)
{
    need_real();
    ssize_t r = real.sendto(fd, buf, n, flags, to, tl);
    AFTER(fd, DIR_TX, r);
    return r;
}

static ssize_t shim_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fl)
{
    need_real();
    ssize_t r = real.recvfrom(fd, buf, n, flags, from, fl);
    if (!(flags & MSG_PEEK))
        AFTER(fd, DIR_RX, r);
    return r;
}

static ssize_t shim_recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from,
                                 socklen_t *fl)
{
    need_real();
    ssize_t r = real.__recvfrom_chk(fd, buf, n, buflen, flags, from, fl);
    if (!(flags & MSG_PEEK))
        AFTER(fd, DIR_RX, r);
    return r;
}

static ssize_t shim_sendmsg(int fd, const struct msghdr *m, int flags)
{
    need_real();
    ssize_t r = real.sendmsg(fd, m, flags);
    AFTER(fd, DIR_TX, r);
    return r;
}

static ssize_t shim_recvmsg(int fd, struct msghdr *m, int flags)
{
    need_real();
    ssize_t r = real.recvmsg(fd, m, flags);
    if (!(flags & MSG_PEEK))
        AFTER(fd, DIR_RX, r);
    return r;
}

/* the mmsg calls return a message count; the bytes are in msg_len */
static long mmsg_bytes(const struct mmsghdr *v, int r)
{
    long n = 0;
    for (int i = 0; i < r; i++)
        n += v[i].msg_len;
    return r < 0 ? -1 : n;
}

static int shim_sendmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags)
{
    need_real();
    int r = real.sendmmsg(fd, v, cnt, flags);
    struct shim_fd *e = shim_fd(fd);
    if (SHIM_UNLIKELY(e != NULL))
        io_done(e, fd, DIR_TX, mmsg_bytes(v, r));
    return r;
}

static int shim_recvmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags, struct timespec *t)
{
    need_real();
    int r = real.recvmmsg(fd, v, cnt, flags, t);
    struct shim_fd *e = shim_fd(fd);
    if (SHIM_UNLIKELY(e != NULL) && !(flags & MSG_PEEK))
        io_done(e, fd, DIR_RX, mmsg_bytes(v, r));
    return r;
}

static ssize_t shim_sendfile(int out, int in, off_t *off, size_t n)
{
    need_real();
    ssize_t r = real.sendfile(out, in, off, n);
    AFTER(out, DIR_TX, r);
    return r;
}

static ssize_t shim_sendfile64(int out, int in, off_t *off, size_t n)
{
    need_real();
    ssize_t r = real.sendfile64(out, in, off, n);
    AFTER(out, DIR_TX, r);
    return r;
}

/* ---- the exported symbols: one line each ---- */

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t n) { return shim_read(fd, buf, n); }
SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) { return shim_read_chk(fd, buf, n, buflen); }
SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t n) { return shim_write(fd, buf, n); }
SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt) { return shim_readv(fd, iov, cnt); }
SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt) { return shim_writev(fd, iov, cnt); }
SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) { return shim_send(fd, buf, n, flags); }
SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags) { return shim_recv(fd, buf, n, flags); }
SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    return shim_recv_chk(fd, buf, n, buflen, flags);
}
SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tl)
{
    return shim_sendto(fd, buf, n, flags, to, tl);
}
SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fl)
{
    return shim_recvfrom(fd, buf, n, flags, from, fl);
}
SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from,
                                   socklen_t *fl)
{
    return shim_recvfrom_chk(fd, buf, n, buflen, flags, from, fl);
}
SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags) { return shim_sendmsg(fd, m, flags); }
SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags) { return shim_recvmsg(fd, m, flags); }
SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags) { return shim_sendmmsg(fd, v, cnt, flags); }
SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags, struct timespec *t)
{
    return shim_recvmmsg(fd, v, cnt, flags, t);
}
SHIM_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n) { return shim_sendfile(out, in, off, n); }
SHIM_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n) { return shim_sendfile64(out, in, off, n); }
