/*
 * real.h - the one table through which promshim calls the real libc
 * functions it interposes. Filled once by shim_real_init() (dlsym RTLD_NEXT);
 * a hook that runs before that goes through the once-only slow path
 * (shim_init). Nothing else in the library calls an interposed name
 * directly: internal I/O goes through real.X or a raw syscall.
 */
#ifndef SHIM_REAL_H
#define SHIM_REAL_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct mmsghdr;

struct shim_real {
    int (*socket)(int, int, int);
    int (*socketpair)(int, int, int, int[2]);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*close)(int);
    int (*close_range)(unsigned int, unsigned int, int);
    int (*shutdown)(int, int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
    int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
    ssize_t (*sendfile)(int, int, off_t *, size_t);
    ssize_t (*sendfile64)(int, int, off_t *, size_t);
    ssize_t (*__read_chk)(int, void *, size_t, size_t);
    ssize_t (*__recv_chk)(int, void *, size_t, size_t, int);
    ssize_t (*__recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
    pid_t (*fork)(void);
    void (*_exit)(int) __attribute__((noreturn));
};

extern struct shim_real real;

/* shim_real_init: resolve every entry with dlsym(RTLD_NEXT). Idempotent.
 * Returns 0, or -ENOSYS when a symbol every program needs is missing (then
 * the caller drops to pass-through; missing optional ones stay NULL and
 * their hooks fall back to the raw syscall). */
int shim_real_init(void);

#endif
