/*
 * io.c - the data calls: read, write, readv, writev, send, recv, sendto,
 * recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, sendfile and the
 * fortified __*_chk variants. See hooks/hook.h for the hot-path rules.
 *
 * Every data hook has the same two halves:
 *  - shim_X: an untracked fd (a file, a pipe, a socket we do not follow)
 *    tail-calls the real function: no stack frame, no clock, just the
 *    shim_tracked() test (one bounds check, one load) and the table load;
 *  - X_slow: everything else (a tracked socket, or the table not filled
 *    yet because the constructor has not run): call the real function,
 *    then report the result. MSG_PEEK reads are not reported: the bytes
 *    will be read again.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hooks/hook.h"

void shim_io_done(int fd, enum shim_dir dir, const struct iovec *iov, int cnt, long n)
{
    int saved = errno;
    struct shim_fd *e = shim_fd(fd);
    if (e) {
        shim_conn_io(e, fd, dir, iov, cnt, n, saved);
        shim_exporter_kick(); /* a forked child starts its exporter here too */
    }
    errno = saved;
}

/* report: a call with one plain buffer */
static void report(int fd, enum shim_dir dir, void *buf, long r)
{
    struct iovec v = {buf, r > 0 ? (size_t)r : 0};
    shim_io_done(fd, dir, &v, 1, r);
}

/* report_mmsg: the mmsg calls return a message count; each message's bytes
 * are reported on their own, in order */
static void report_mmsg(int fd, enum shim_dir dir, struct mmsghdr *v, int r)
{
    if (r < 0) {
        shim_io_done(fd, dir, NULL, 0, -1);
        return;
    }
    for (int i = 0; i < r; i++)
        if (v[i].msg_len)
            shim_io_done(fd, dir, v[i].msg_hdr.msg_iov, (int)v[i].msg_hdr.msg_iovlen, (long)v[i].msg_len);
}

static __attribute__((noinline)) ssize_t read_slow(int fd, void *buf, size_t n)
{
    need_real();
    ssize_t r = real.read(fd, buf, n);
    if (shim_tracked(fd))
        report(fd, DIR_RX, buf, r);
    return r;
}

static inline ssize_t shim_read(int fd, void *buf, size_t n)
{
    if (SHIM_LIKELY(real.read && !shim_tracked(fd)))
        return real.read(fd, buf, n);
    return read_slow(fd, buf, n);
}

static __attribute__((noinline)) ssize_t read_chk_slow(int fd, void *buf, size_t n, size_t buflen)
{
    need_real();
    ssize_t r = real.__read_chk(fd, buf, n, buflen);
    if (shim_tracked(fd))
        report(fd, DIR_RX, buf, r);
    return r;
}

static inline ssize_t shim_read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (SHIM_LIKELY(real.__read_chk && !shim_tracked(fd)))
        return real.__read_chk(fd, buf, n, buflen);
    return read_chk_slow(fd, buf, n, buflen);
}

static __attribute__((noinline)) ssize_t write_slow(int fd, const void *buf, size_t n)
{
    need_real();
    ssize_t r = real.write(fd, buf, n);
    if (shim_tracked(fd))
        report(fd, DIR_TX, (void *)buf, r);
    return r;
}

static inline ssize_t shim_write(int fd, const void *buf, size_t n)
{
    if (SHIM_LIKELY(real.write && !shim_tracked(fd)))
        return real.write(fd, buf, n);
    return write_slow(fd, buf, n);
}

static __attribute__((noinline)) ssize_t readv_slow(int fd, const struct iovec *iov, int cnt)
{
    need_real();
    ssize_t r = real.readv(fd, iov, cnt);
    if (shim_tracked(fd))
        shim_io_done(fd, DIR_RX, iov, cnt, (long)r);
    return r;
}

static inline ssize_t shim_readv(int fd, const struct iovec *iov, int cnt)
{
    if (SHIM_LIKELY(real.readv && !shim_tracked(fd)))
        return real.readv(fd, iov, cnt);
    return readv_slow(fd, iov, cnt);
}

static __attribute__((noinline)) ssize_t writev_slow(int fd, const struct iovec *iov, int cnt)
{
    need_real();
    ssize_t r = real.writev(fd, iov, cnt);
    if (shim_tracked(fd))
        shim_io_done(fd, DIR_TX, iov, cnt, (long)r);
    return r;
}

static inline ssize_t shim_writev(int fd, const struct iovec *iov, int cnt)
{
    if (SHIM_LIKELY(real.writev && !shim_tracked(fd)))
        return real.writev(fd, iov, cnt);
    return writev_slow(fd, iov, cnt);
}

static __attribute__((noinline)) ssize_t send_slow(int fd, const void *buf, size_t n, int flags)
{
    need_real();
    ssize_t r = real.send(fd, buf, n, flags);
    if (shim_tracked(fd))
        report(fd, DIR_TX, (void *)buf, r);
    return r;
}

static inline ssize_t shim_send(int fd, const void *buf, size_t n, int flags)
{
    if (SHIM_LIKELY(real.send && !shim_tracked(fd)))
        return real.send(fd, buf, n, flags);
    return send_slow(fd, buf, n, flags);
}

static __attribute__((noinline)) ssize_t recv_slow(int fd, void *buf, size_t n, int flags)
{
    need_real();
    ssize_t r = real.recv(fd, buf, n, flags);
    if (shim_tracked(fd) && !(flags & MSG_PEEK))
        report(fd, DIR_RX, buf, r);
    return r;
}

static inline ssize_t shim_recv(int fd, void *buf, size_t n, int flags)
{
    if (SHIM_LIKELY(real.recv && (!shim_tracked(fd) || (flags & MSG_PEEK))))
        return real.recv(fd, buf, n, flags);
    return recv_slow(fd, buf, n, flags);
}

static __attribute__((noinline)) ssize_t recv_chk_slow(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    need_real();
    ssize_t r = real.__recv_chk(fd, buf, n, buflen, flags);
    if (shim_tracked(fd) && !(flags & MSG_PEEK))
        report(fd, DIR_RX, buf, r);
    return r;
}

static inline ssize_t shim_recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    if (SHIM_LIKELY(real.__recv_chk && (!shim_tracked(fd) || (flags & MSG_PEEK))))
        return real.__recv_chk(fd, buf, n, buflen, flags);
    return recv_chk_slow(fd, buf, n, buflen, flags);
}

static __attribute__((noinline)) ssize_t sendto_slow(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tl)
{
    need_real();
    ssize_t r = real.sendto(fd, buf, n, flags, to, tl);
    if (shim_tracked(fd))
        report(fd, DIR_TX, (void *)buf, r);
    return r;
}

static inline ssize_t shim_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tl)
{
    if (SHIM_LIKELY(real.sendto && !shim_tracked(fd)))
        return real.sendto(fd, buf, n, flags, to, tl);
    return sendto_slow(fd, buf, n, flags, to, tl);
}

static __attribute__((noinline)) ssize_t recvfrom_slow(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fl)
{
    need_real();
    ssize_t r = real.recvfrom(fd, buf, n, flags, from, fl);
    if (shim_tracked(fd) && !(flags & MSG_PEEK))
        report(fd, DIR_RX, buf, r);
    return r;
}

static inline ssize_t shim_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fl)
{
    if (SHIM_LIKELY(real.recvfrom && (!shim_tracked(fd) || (flags & MSG_PEEK))))
        return real.recvfrom(fd, buf, n, flags, from, fl);
    return recvfrom_slow(fd, buf, n, flags, from, fl);
}

static __attribute__((noinline)) ssize_t recvfrom_chk_slow(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from, socklen_t *fl)
{
    need_real();
    ssize_t r = real.__recvfrom_chk(fd, buf, n, buflen, flags, from, fl);
    if (shim_tracked(fd) && !(flags & MSG_PEEK))
        report(fd, DIR_RX, buf, r);
    return r;
}

static inline ssize_t shim_recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from, socklen_t *fl)
{
    if (SHIM_LIKELY(real.__recvfrom_chk && (!shim_tracked(fd) || (flags & MSG_PEEK))))
        return real.__recvfrom_chk(fd, buf, n, buflen, flags, from, fl);
    return recvfrom_chk_slow(fd, buf, n, buflen, flags, from, fl);
}

static __attribute__((noinline)) ssize_t sendmsg_slow(int fd, const struct msghdr *m, int flags)
{
    need_real();
    ssize_t r = real.sendmsg(fd, m, flags);
    if (shim_tracked(fd))
        shim_io_done(fd, DIR_TX, m->msg_iov, (int)m->msg_iovlen, (long)r);
    return r;
}

static inline ssize_t shim_sendmsg(int fd, const struct msghdr *m, int flags)
{
    if (SHIM_LIKELY(real.sendmsg && !shim_tracked(fd)))
        return real.sendmsg(fd, m, flags);
    return sendmsg_slow(fd, m, flags);
}

static __attribute__((noinline)) ssize_t recvmsg_slow(int fd, struct msghdr *m, int flags)
{
    need_real();
    ssize_t r = real.recvmsg(fd, m, flags);
    if (shim_tracked(fd) && !(flags & MSG_PEEK))
        shim_io_done(fd, DIR_RX, m->msg_iov, (int)m->msg_iovlen, (long)r);
    return r;
}

static inline ssize_t shim_recvmsg(int fd, struct msghdr *m, int flags)
{
    if (SHIM_LIKELY(real.recvmsg && (!shim_tracked(fd) || (flags & MSG_PEEK))))
        return real.recvmsg(fd, m, flags);
    return recvmsg_slow(fd, m, flags);
}

static __attribute__((noinline)) int sendmmsg_slow(int fd, struct mmsghdr *v, unsigned int cnt, int flags)
{
    need_real();
    int r = real.sendmmsg(fd, v, cnt, flags);
    if (shim_tracked(fd))
        report_mmsg(fd, DIR_TX, v, r);
    return r;
}

static inline int shim_sendmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags)
{
    if (SHIM_LIKELY(real.sendmmsg && !shim_tracked(fd)))
        return real.sendmmsg(fd, v, cnt, flags);
    return sendmmsg_slow(fd, v, cnt, flags);
}

static __attribute__((noinline)) int recvmmsg_slow(int fd, struct mmsghdr *v, unsigned int cnt, int flags, struct timespec *t)
{
    need_real();
    int r = real.recvmmsg(fd, v, cnt, flags, t);
    if (shim_tracked(fd) && !(flags & MSG_PEEK))
        report_mmsg(fd, DIR_RX, v, r);
    return r;
}

static inline int shim_recvmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags, struct timespec *t)
{
    if (SHIM_LIKELY(real.recvmmsg && (!shim_tracked(fd) || (flags & MSG_PEEK))))
        return real.recvmmsg(fd, v, cnt, flags, t);
    return recvmmsg_slow(fd, v, cnt, flags, t);
}

static __attribute__((noinline)) ssize_t sendfile_slow(int out, int in, off_t *off, size_t n)
{
    need_real();
    ssize_t r = real.sendfile(out, in, off, n);
    if (shim_tracked(out))
        shim_io_done(out, DIR_TX, NULL, 0, (long)r);
    return r;
}

static inline ssize_t shim_sendfile(int out, int in, off_t *off, size_t n)
{
    if (SHIM_LIKELY(real.sendfile && !shim_tracked(out)))
        return real.sendfile(out, in, off, n);
    return sendfile_slow(out, in, off, n);
}

static __attribute__((noinline)) ssize_t sendfile64_slow(int out, int in, off_t *off, size_t n)
{
    need_real();
    ssize_t r = real.sendfile64(out, in, off, n);
    if (shim_tracked(out))
        shim_io_done(out, DIR_TX, NULL, 0, (long)r);
    return r;
}

static inline ssize_t shim_sendfile64(int out, int in, off_t *off, size_t n)
{
    if (SHIM_LIKELY(real.sendfile64 && !shim_tracked(out)))
        return real.sendfile64(out, in, off, n);
    return sendfile64_slow(out, in, off, n);
}

/* ---- the exported symbols: one line each ---- */

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t n) { return shim_read(fd, buf, n); }
SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    return shim_read_chk(fd, buf, n, buflen);
}
SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t n) { return shim_write(fd, buf, n); }
SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt) { return shim_readv(fd, iov, cnt); }
SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt) { return shim_writev(fd, iov, cnt); }
SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return shim_send(fd, buf, n, flags);
}
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
SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from, socklen_t *fl)
{
    return shim_recvfrom_chk(fd, buf, n, buflen, flags, from, fl);
}
SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags) { return shim_sendmsg(fd, m, flags); }
SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags) { return shim_recvmsg(fd, m, flags); }
SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags)
{
    return shim_sendmmsg(fd, v, cnt, flags);
}
SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int cnt, int flags, struct timespec *t)
{
    return shim_recvmmsg(fd, v, cnt, flags, t);
}
SHIM_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n) { return shim_sendfile(out, in, off, n); }
SHIM_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
    return shim_sendfile64(out, in, off, n);
}
