/*
 * conn.c - the fd table and the connection state machine.
 *
 *   socket(INET, STREAM) -> FD_INET --connect ok--> FD_CLIENT
 *                              |  \--EINPROGRESS--> connecting, resolved by
 *                              |     getsockopt(SO_ERROR) or the first I/O
 *                              \--accept on it--> new fd FD_SERVER
 *   close -> FD_NONE (before the real close)
 *
 * Everything here runs inside hooks: no malloc, no stdio, no locks (the
 * registry takes its own only to create a series not seen before).
 *
 * The peer fields of an entry are rewritten inside a seq section (see
 * conn.h), at socket, accept, connect and dup time only, never on the data
 * path: two atomic adds a section, and release stores (plain moves on x86).
 * shim_conn_peek is the reader's side, for promshim's probes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/conn.h"
#include "shim/metrics.h"
#include "shim/real.h"
#include "shim/session.h"

struct shim_fd *shim_fdtab;
unsigned shim_fdmax;
static _Atomic unsigned fd_hwm; /* highest fd number ever given an entry, + 1 */

#define FDMAX_CAP (1u << 20)

int shim_conn_init(void)
{
    struct rlimit rl;
    rlim_t n = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        n = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FDMAX_CAP ? FDMAX_CAP : rl.rlim_max;
    if (n < 1024)
        n = 1024;
    void *m = mmap(NULL, (size_t)n * sizeof(struct shim_fd), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    shim_fdtab = m;
    __atomic_store_n(&shim_fdmax, (unsigned)n, __ATOMIC_RELEASE);
    return 0;
}

/* entry: the slot of fd whatever its kind, NULL when out of the table */
static struct shim_fd *entry(int fd)
{
    /* acquire: pairs with shim_conn_init's release, so shim_fdtab is seen */
    if ((unsigned)fd >= __atomic_load_n(&shim_fdmax, __ATOMIC_ACQUIRE))
        return NULL;
    unsigned h = atomic_load_explicit(&fd_hwm, memory_order_relaxed);
    while ((unsigned)fd + 1 > h &&
           !atomic_compare_exchange_weak_explicit(&fd_hwm, &h, (unsigned)fd + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    return &shim_fdtab[fd];
}

#define SEQ_IN 1u         /* one section in progress: seq's low byte counts them */
#define SEQ_BUSY 0xffu    /* the low byte */
#define SEQ_GEN 0x100u    /* one generation, added as a section ends */
#define PEEK_TRIES 4

/* seq_begin: open a section over e's peer fields. Relaxed: the release
 * stores of the fields that follow keep it ahead of them for a reader that
 * sees any of them (shim_conn_peek). */
static inline void seq_begin(struct shim_fd *e)
{
    __atomic_fetch_add(&e->seq, SEQ_IN, __ATOMIC_RELAXED);
}

/* seq_end: close the section: one in progress less, one generation more.
 * Release: a reader that sees the new seq sees the fields written. */
static inline void seq_end(struct shim_fd *e)
{
    __atomic_fetch_add(&e->seq, SEQ_GEN - SEQ_IN, __ATOMIC_RELEASE);
}

/* peer_store: e's family, port and address (w: the 16 bytes as words, NULL
 * for none). Inside a section only. */
static void peer_store(struct shim_fd *e, int family, uint16_t port, const uint64_t *w)
{
    __atomic_store_n(&e->family, (uint8_t)family, __ATOMIC_RELEASE);
    __atomic_store_n(&e->port, port, __ATOMIC_RELEASE);
    __atomic_store_n(&e->addr_w[0], w ? w[0] : 0, __ATOMIC_RELEASE);
    __atomic_store_n(&e->addr_w[1], w ? w[1] : 0, __ATOMIC_RELEASE);
}

/* set: overwrite fd's entry with a fresh one of `kind`, its peer family and
 * port given, no address: one section */
static struct shim_fd *set(int fd, enum shim_fd_kind kind, int family, uint16_t port)
{
    struct shim_fd *e = entry(fd);
    if (!e)
        return NULL;
    /* acquire: pairs with the release of shim_conn_close (whose fd number
     * the kernel may hand to this socket), so its writes are seen */
    if (__atomic_load_n(&e->kind, __ATOMIC_ACQUIRE) && e->ext) /* a stale entry (its close did not pass through us) */
        shim_session_end(e, -2, 0);
    seq_begin(e);
    __atomic_store_n(&e->kind, FD_NONE, __ATOMIC_RELEASE);
    e->connecting = 0;
    e->active = 0;
    e->nsniff = 0;
    e->tls = 0;
    e->t0 = 0;
    peer_store(e, family, port, NULL);
    __atomic_store_n(&e->proto, PROTO_UNKNOWN, __ATOMIC_RELEASE);
    __atomic_store_n(&e->ext, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&e->kind, (uint8_t)kind, __ATOMIC_RELEASE);
    seq_end(e);
    return e;
}

static int role_of(const struct shim_fd *e)
{
    return e->kind == FD_SERVER ? ROLE_SERVER : ROLE_CLIENT;
}

/* opened: count a new connection of e's role once */
static void opened(struct shim_fd *e)
{
    e->active = 1;
    shim_m_conn_open(role_of(e));
}

void shim_conn_socket(int fd, int domain, int type)
{
    int st = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if ((domain == AF_INET || domain == AF_INET6) && st == SOCK_STREAM) {
        set(fd, FD_INET, domain, 0);
    } else if (domain == AF_UNIX) {
        set(fd, FD_UNIX, 0, 0);
    } else {
        shim_conn_clear(fd);
    }
}

void shim_conn_clear(int fd)
{
    struct shim_fd *e = entry(fd);
    if (e && e->kind)
        __atomic_store_n(&e->kind, FD_NONE, __ATOMIC_RELEASE);
}

void shim_conn_own(int fd, int listening)
{
    set(fd, listening ? FD_OWN_LISTEN : FD_OWN, 0, 0);
}

int shim_conn_wants_connect_time(int fd)
{
    struct shim_fd *e = shim_fd(fd);
    return e && e->kind == FD_INET;
}

/* take the peer address of sa into e (the bytes past an IPv4 address
 * zeroed): one section */
static void take_peer(struct shim_fd *e, const struct sockaddr *sa, socklen_t len)
{
    uint64_t w[2] = {0, 0};
    int family;
    uint16_t port;
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        family = AF_INET;
        memcpy(w, &in->sin_addr, 4);
        port = ntohs(in->sin_port);
    } else if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        family = AF_INET6;
        memcpy(w, &in6->sin6_addr, 16);
        port = ntohs(in6->sin6_port);
    } else {
        return;
    }
    seq_begin(e);
    peer_store(e, family, port, w);
    seq_end(e);
}

/* finish: a connect attempt on e ended with err (0 = connected) */
static void finish(struct shim_fd *e, int err)
{
    uint64_t t = shim_now_ns();
    shim_m_connect(e->family, e->addr, e->port, t > e->t0 ? t - e->t0 : 0, err);
    if (!err) {
        __atomic_store_n(&e->kind, FD_CLIENT, __ATOMIC_RELEASE);
        opened(e);
    }
}

void shim_conn_connect(int fd, const struct sockaddr *sa, socklen_t len, int rc, int err, uint64_t t0, void *caller)
{
    struct shim_fd *e = shim_fd(fd);
    if (!e || e->kind != FD_INET)
        return;
    if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return; /* AF_UNSPEC dissolves an association; nothing to measure */
    take_peer(e, sa, len);
    e->t0 = t0;
    if (err != EALREADY && err != EISCONN)
        shim_m_origin(e->family, e->addr, e->port, caller);
    if (rc == 0) {
        finish(e, 0);
    } else if (err == EINPROGRESS || err == EINTR) {
        /* EINTR: the connect goes on in the background, like EINPROGRESS */
        __atomic_store_n(&e->connecting, 1, __ATOMIC_RELEASE);
    } else if (err == EALREADY || err == EISCONN || err == EAGAIN || err == EBADF || err == EFAULT ||
               err == ENOTSOCK || err == EINVAL || err == EAFNOSUPPORT) {
        /* not a network outcome: a retry of a pending connect, or misuse */
    } else {
        finish(e, err);
    }
}

/* resolve: settle a pending non-blocking connect once (whichever thread
 * first learns the outcome) */
static void resolve(struct shim_fd *e, int err)
{
    uint8_t one = 1;
    if (__atomic_compare_exchange_n(&e->connecting, &one, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        finish(e, err);
}

void shim_conn_connect_result(int fd, int so_error)
{
    struct shim_fd *e = shim_fd(fd);
    if (e && __atomic_load_n(&e->connecting, __ATOMIC_ACQUIRE) && so_error != EINPROGRESS &&
        so_error != EALREADY)
        resolve(e, so_error);
}

void shim_conn_accept(int lfd, int fd)
{
    struct shim_fd *l = shim_fd(lfd);
    if (!l) {
        shim_conn_clear(fd);
        return;
    }
    uint8_t k = __atomic_load_n(&l->kind, __ATOMIC_RELAXED);
    if (k == FD_OWN_LISTEN) {
        set(fd, FD_OWN, 0, 0);
    } else if (k == FD_INET || k == FD_SERVER) {
        /* atomic loads: threads accepting on one listening socket at once
         * may both learn its port */
        uint16_t port = __atomic_load_n(&l->port, __ATOMIC_RELAXED);
        if (!port) { /* the listening port, learned once per listening socket */
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            if (syscall(SYS_getsockname, lfd, &ss, &sl) == 0) {
                if (ss.ss_family == AF_INET)
                    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
                else if (ss.ss_family == AF_INET6)
                    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            }
            if (port) {
                seq_begin(l);
                __atomic_store_n(&l->port, port, __ATOMIC_RELEASE);
                seq_end(l);
            }
        }
        struct shim_fd *e = set(fd, FD_SERVER, __atomic_load_n(&l->family, __ATOMIC_RELAXED), port);
        if (e)
            opened(e);
    } else if (k == FD_UNIX) {
        set(fd, FD_UNIX, 0, 0);
    } else {
        shim_conn_clear(fd);
    }
}

void shim_conn_dup(int oldfd, int newfd)
{
    if (oldfd == newfd)
        return;
    struct shim_fd *o = shim_fd(oldfd);
    if (!o) {
        shim_conn_clear(newfd);
        return;
    }
    if (o->kind == FD_OWN_LISTEN) { /* a copy of ours is the host's: not measured */
        shim_conn_clear(newfd);
        return;
    }
    struct shim_fd *n = entry(newfd);
    if (!n)
        return;
    /* the copy is an alias of the same connection: it is not counted again
     * as opened nor as active */
    seq_begin(n);
    __atomic_store_n(&n->kind, FD_NONE, __ATOMIC_RELEASE);
    n->connecting = 0;
    n->active = 0;
    n->t0 = o->t0;
    n->nsniff = 0;
    n->tls = o->tls;
    peer_store(n, o->family, o->port, o->addr_w);
    __atomic_store_n(&n->proto, PROTO_NONE, __ATOMIC_RELEASE); /* the session stays with the original fd */
    __atomic_store_n(&n->ext, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&n->kind, o->kind, __ATOMIC_RELEASE);
    seq_end(n);
}

void shim_conn_close(int fd)
{
    struct shim_fd *e = shim_fd(fd);
    if (!e)
        return;
    if (__atomic_load_n(&e->connecting, __ATOMIC_ACQUIRE))
        resolve(e, -1); /* closed while still connecting: abandoned */
    if (e->ext)
        shim_session_end(e, -1, 0);
    if (e->active) {
        e->active = 0;
        shim_m_conn_close(role_of(e));
    }
    __atomic_store_n(&e->kind, FD_NONE, __ATOMIC_RELEASE);
}

void shim_conn_tls_data(int fd, enum shim_dir dir, const void *buf, long n)
{
    struct shim_fd *e = shim_fd(fd);
    if (!e || (e->kind != FD_CLIENT && e->kind != FD_SERVER && e->kind != FD_INET))
        return;
    if (!e->tls) {
        /* the first plaintext: whatever the raw bytes looked like (a TLS
         * handshake, an SSLRequest answered 'S'), the protocol is decided
         * afresh on the plaintext */
        if (e->ext)
            shim_session_end(e, -2, 0);
        __atomic_store_n(&e->proto, PROTO_UNKNOWN, __ATOMIC_RELEASE);
        e->nsniff = 0;
        e->tls = 1;
    }
    if (n > 0) {
        if (e->proto != PROTO_NONE) {
            struct iovec v = {(void *)buf, (size_t)n};
            shim_session_data(e, dir, buf ? &v : NULL, buf ? 1 : 0, n);
        }
    } else if (n == 0 && dir == DIR_RX && e->ext) {
        shim_session_end(e, DIR_RX, 0);
    }
}

void shim_conn_shutdown(int fd, int how)
{
    struct shim_fd *e = shim_fd(fd);
    if (e && e->ext && (how == SHUT_WR || how == SHUT_RDWR))
        shim_session_end(e, DIR_TX, 0);
}

void shim_conn_io(struct shim_fd *e, int fd, enum shim_dir dir, const struct iovec *iov, int cnt, long n, int err)
{
    if (SHIM_UNLIKELY(__atomic_load_n(&e->connecting, __ATOMIC_RELAXED))) {
        if (n > 0 || (n == 0 && dir == DIR_RX))
            resolve(e, 0);
        else if (n < 0 && err != EAGAIN && err != EWOULDBLOCK && err != EINTR && err != EINPROGRESS &&
                 err != EBADF && err != EFAULT && err != EINVAL)
            resolve(e, err == ENOTCONN ? ECONNREFUSED : err);
    }
    uint8_t k = __atomic_load_n(&e->kind, __ATOMIC_RELAXED);
    if (k != FD_CLIENT && k != FD_SERVER && k != FD_INET)
        return;
    if (n > 0) {
        shim_m_bytes(dir, k == FD_SERVER ? ROLE_SERVER : ROLE_CLIENT, (uint64_t)n);
        if (shim_tls.in_ssl)
            shim_tls.ssl_fd = fd; /* the TLS call running on this thread moves its bytes here */
        if (e->proto != PROTO_NONE && !e->tls)
            shim_session_data(e, dir, iov, cnt, n);
    } else if (e->tls) {
        /* the TLS hooks report the end of the plaintext stream */
    } else if (e->ext && dir == DIR_RX && (n == 0 || (err != EAGAIN && err != EWOULDBLOCK && err != EINTR))) {
        shim_session_end(e, DIR_RX, n == 0 ? 0 : err);
    } else if (e->ext && dir == DIR_TX && n < 0 && (err == EPIPE || err == ECONNRESET)) {
        shim_session_end(e, DIR_RX, err);
    }
}

/* classify: what the socket fd already is (inherited): a listening or
 * connected TCP socket gets its entry. One fstat, three getsockopts. */
static void classify(int fd)
{
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        return;
    int dom = 0, type = 0, acc = 0;
    socklen_t l1 = sizeof(dom), l2 = sizeof(type), l3 = sizeof(acc);
    if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &dom, &l1) != 0 ||
        syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, &type, &l2) != 0)
        return;
    syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l3);
    shim_conn_socket(fd, dom, type);
    struct shim_fd *e = shim_fd(fd);
    if (!e || e->kind != FD_INET || acc)
        return;
    /* a connected stream socket handed over (inetd, systemd Accept=yes) is
     * the server end of a connection */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (syscall(SYS_getpeername, fd, &ss, &sl) == 0) {
        take_peer(e, (struct sockaddr *)&ss, sl);
        __atomic_store_n(&e->kind, FD_SERVER, __ATOMIC_RELEASE);
        opened(e);
    }
}

/*
 * shim_conn_scan_inherited: classify the fds the process already holds
 * (inherited across exec: inetd, systemd socket activation, a supervisor's
 * listening socket). Reads /proc/self/fd with raw getdents64 into a stack
 * buffer. Runs when the engine starts, not in every process.
 */
void shim_conn_scan_inherited(void)
{
    char buf[4096];
    int dfd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof(reclen));
            const char *name = buf + off + 19;
            off += reclen;
            if (name[0] < '0' || name[0] > '9')
                continue;
            int fd = 0;
            for (const char *p = name; *p >= '0' && *p <= '9'; p++)
                fd = fd * 10 + (*p - '0');
            if (fd != dfd)
                classify(fd);
        }
    }
    syscall(SYS_close, dfd);
}

/* shim_conn_classify_late: accept() succeeded on fd, which has no entry: a
 * socket inherited before the engine started. Classify it now. */
void shim_conn_classify_late(int fd)
{
    if (!shim_fd(fd))
        classify(fd);
}

unsigned shim_conn_hwm(void)
{
    return atomic_load_explicit(&fd_hwm, memory_order_relaxed);
}

/*
 * shim_conn_peek: see conn.h. Copies the fields between two loads of seq:
 * every field load is an acquire, so a field written by a section that
 * began after the first load of seq makes the second load see that
 * section's begin (seq differs); a section in progress at the first load
 * shows in its low byte. Between tries the writer gets the CPU.
 */
int shim_conn_peek(const struct shim_fd *e, struct shim_fd_peer *out, int busy)
{
    for (int i = 0; i < PEEK_TRIES; i++) {
        if (i)
            sched_yield();
        uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        if (s & SEQ_BUSY)
            continue;
        out->kind = __atomic_load_n(&e->kind, __ATOMIC_ACQUIRE);
        out->family = __atomic_load_n(&e->family, __ATOMIC_ACQUIRE);
        out->port = __atomic_load_n(&e->port, __ATOMIC_ACQUIRE);
        uint64_t w[2] = {__atomic_load_n(&e->addr_w[0], __ATOMIC_ACQUIRE),
                         __atomic_load_n(&e->addr_w[1], __ATOMIC_ACQUIRE)};
        memcpy(out->addr, w, sizeof(out->addr));
        out->proto = __atomic_load_n(&e->proto, __ATOMIC_ACQUIRE);
        out->busy = busy ? shim_session_busy(e) : 0; /* its ext load is an acquire too */
        if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s)
            return 0;
    }
    return -EAGAIN;
}

/* In a forked child: the connections it inherited are counted as active by
 * the parent; the child counts only what it opens itself. A section some
 * other thread of the parent was in when it forked never ends here: its
 * count goes (the entry is rewritten before it is trusted again anyway). */
void shim_conn_after_fork_child(void)
{
    unsigned h = atomic_load(&fd_hwm);
    for (unsigned fd = 0; fd < h && fd < shim_fdmax; fd++) {
        struct shim_fd *e = &shim_fdtab[fd];
        e->active = 0;
        uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
        if (s & SEQ_BUSY)
            __atomic_store_n(&e->seq, (s & ~SEQ_BUSY) + SEQ_GEN, __ATOMIC_RELEASE);
    }
}
