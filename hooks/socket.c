/*
 * socket.c - the calls that make, connect, accept, copy and close sockets:
 * socket, socketpair, connect, accept, accept4, getsockopt (SO_ERROR ends a
 * non-blocking connect), close, close_range, shutdown, dup, dup2, dup3,
 * fcntl/fcntl64 (F_DUPFD). See hooks/hook.h for the hot-path rules.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "hooks/hook.h"

static int shim_socket(int domain, int type, int proto)
{
    need_real();
    int r = real.socket(domain, type, proto);
    if (r >= 0 && SHIM_UNLIKELY(!shim_active) && shim_wanted && !shim_tls.guard &&
        (domain == AF_INET || domain == AF_INET6))
        shim_engine_start(); /* the first TCP/IP socket of the program */
    if (r >= 0 && shim_active) {
        int saved = errno;
        if (shim_tls.guard) {
            shim_conn_clear(r);
        } else {
            shim_conn_socket(r, domain, type);
            shim_exporter_kick();
        }
        errno = saved;
    }
    return r;
}

static int shim_socketpair(int domain, int type, int proto, int sv[2])
{
    need_real();
    int r = real.socketpair(domain, type, proto, sv);
    if (r == 0 && shim_active) {
        int saved = errno;
        shim_conn_socket(sv[0], domain, type);
        shim_conn_socket(sv[1], domain, type);
        errno = saved;
    }
    return r;
}

static int shim_connect(int fd, const struct sockaddr *sa, socklen_t len, void *caller)
{
    need_real();
    if (!engaged() || !shim_conn_wants_connect_time(fd))
        return real.connect(fd, sa, len);
    uint64_t t0 = shim_now_ns();
    int r = real.connect(fd, sa, len);
    int saved = errno;
    shim_conn_connect(fd, sa, len, r, r ? saved : 0, t0, caller);
    shim_exporter_kick();
    errno = saved;
    return r;
}

/* accepted: a new fd came out of lfd */
static void accepted(int lfd, int r)
{
    int saved = errno;
    if (!shim_tls.guard && !shim_fd(lfd)) {
        /* a listening socket the program had before the engine started */
        shim_engine_start();
        shim_conn_classify_late(lfd);
    }
    if (shim_tls.guard) {
        shim_conn_clear(r);
    } else {
        shim_conn_accept(lfd, r);
        shim_exporter_kick();
    }
    errno = saved;
}

static int shim_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    need_real();
    if (engaged())
        shim_exporter_kick(); /* before: a daemon child may block here for long */
    int r = real.accept(fd, sa, len);
    if (r >= 0 && (shim_active || shim_wanted))
        accepted(fd, r);
    return r;
}

static int shim_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    need_real();
    if (engaged())
        shim_exporter_kick(); /* before: a daemon child may block here for long */
    int r = real.accept4(fd, sa, len, flags);
    if (r >= 0 && (shim_active || shim_wanted))
        accepted(fd, r);
    return r;
}

static int shim_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    need_real();
    int r = real.getsockopt(fd, level, name, val, len);
    if (r == 0 && level == SOL_SOCKET && name == SO_ERROR && val && len && *len >= (socklen_t)sizeof(int)) {
        struct shim_fd *e = shim_fd(fd);
        if (e && __atomic_load_n(&e->connecting, __ATOMIC_ACQUIRE)) {
            int saved = errno;
            shim_conn_connect_result(fd, *(int *)val);
            errno = saved;
        }
    }
    return r;
}

/* own_listener: fd is promshim's exporter socket and the caller is the host:
 * the host never opened it, so for the host it is not open (EBADF), and it
 * stays open for the exporter. */
static int own_listener(int fd)
{
    struct shim_fd *e = shim_fd(fd);
    return e && e->kind == FD_OWN_LISTEN && !shim_tls.guard;
}

static int shim_close(int fd)
{
    need_real();
    struct shim_fd *e = shim_fd(fd);
    if (SHIM_UNLIKELY(e != NULL)) {
        int saved = errno;
        if (shim_foreign_process()) /* a vfork child: not our table */
            return real.close(fd);
        if (own_listener(fd)) {
            errno = EBADF;
            return -1;
        }
        shim_conn_close(fd);
        errno = saved;
    }
    return real.close(fd);
}

/* close_range: every tracked fd in the range is closed for us too; our own
 * listening socket is stepped around */
static int shim_close_range(unsigned first, unsigned last, int flags)
{
    need_real();
    if (!real.close_range) {
        errno = ENOSYS;
        return -1;
    }
    if (!shim_active || (flags & CLOSE_RANGE_CLOEXEC) || shim_foreign_process())
        return real.close_range(first, last, flags);
    int saved = errno;
    int own = shim_exporter_fd();
    unsigned hwm = shim_conn_hwm();
    for (unsigned fd = first; fd <= last && fd < hwm; fd++) {
        if (shim_fd((int)fd) && (int)fd != own)
            shim_conn_close((int)fd);
        if (fd == ~0u)
            break;
    }
    errno = saved;
    if (own >= 0 && (unsigned)own >= first && (unsigned)own <= last && !shim_tls.guard) {
        int r = 0;
        if ((unsigned)own > first)
            r = real.close_range(first, (unsigned)own - 1, flags);
        if (r == 0 && (unsigned)own < last)
            r = real.close_range((unsigned)own + 1, last, flags);
        return r;
    }
    return real.close_range(first, last, flags);
}

static int shim_shutdown(int fd, int how)
{
    need_real();
    int r = real.shutdown(fd, how);
    if (r == 0 && shim_tracked(fd)) {
        int saved = errno;
        shim_conn_shutdown(fd, how);
        errno = saved;
    }
    return r;
}

/* duplicated: newfd is now a copy of oldfd (it was closed first if open) */
static void duplicated(int oldfd, int newfd)
{
    if (!shim_active || (!shim_fd(oldfd) && !shim_fd(newfd)))
        return;
    int saved = errno;
    if (shim_foreign_process())
        goto out;
    shim_conn_close(newfd);
    shim_conn_dup(oldfd, newfd);
out:
    errno = saved;
}

static int shim_dup(int fd)
{
    need_real();
    int r = real.dup(fd);
    if (r >= 0)
        duplicated(fd, r);
    return r;
}

static int shim_dup2(int fd, int fd2)
{
    need_real();
    int r = real.dup2(fd, fd2);
    if (r >= 0 && fd != fd2)
        duplicated(fd, r);
    return r;
}

static int shim_dup3(int fd, int fd2, int flags)
{
    need_real();
    int r = real.dup3(fd, fd2, flags);
    if (r >= 0)
        duplicated(fd, r);
    return r;
}

/* fcntl's third argument is an int, a long or a pointer depending on cmd;
 * on this ABI all travel in one register, so it is forwarded as a pointer,
 * as glibc's own fcntl reads it. */
static int shim_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    int r = fn(fd, cmd, arg);
    if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
        duplicated(fd, r);
    return r;
}

/* ---- the exported symbols: one line each ---- */

SHIM_EXPORT int socket(int domain, int type, int proto) { return shim_socket(domain, type, proto); }
SHIM_EXPORT int socketpair(int domain, int type, int proto, int sv[2]) { return shim_socketpair(domain, type, proto, sv); }
SHIM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    return shim_connect(fd, sa, len, __builtin_return_address(0));
}
SHIM_EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len) { return shim_accept(fd, sa, len); }
SHIM_EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags) { return shim_accept4(fd, sa, len, flags); }
SHIM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    return shim_getsockopt(fd, level, name, val, len);
}
SHIM_EXPORT int close(int fd) { return shim_close(fd); }
SHIM_EXPORT int close_range(unsigned first, unsigned last, int flags) { return shim_close_range(first, last, flags); }
SHIM_EXPORT int shutdown(int fd, int how) { return shim_shutdown(fd, how); }
SHIM_EXPORT int dup(int fd) { return shim_dup(fd); }
SHIM_EXPORT int dup2(int fd, int fd2) { return shim_dup2(fd, fd2); }
SHIM_EXPORT int dup3(int fd, int fd2, int flags) { return shim_dup3(fd, fd2, flags); }

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    need_real();
    return shim_fcntl(real.fcntl, fd, cmd, arg);
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    need_real();
    return shim_fcntl(real.fcntl64, fd, cmd, arg);
}
