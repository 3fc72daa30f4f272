/*
 * conn.h - the fd table and per-connection state.
 *
 * One fixed-size entry per fd number, in a process-private mapping reserved
 * for RLIMIT_NOFILE's hard limit (at most 1M) with MAP_NORESERVE and touched
 * only as fds are used. The entry of an fd that is not a tracked socket has
 * kind 0, so a hook on a file or pipe pays one bounds check and one load:
 *
 *     struct shim_fd *e = shim_fd(fd);   // NULL: not ours, pass through
 *
 * Every call that returns an fd overwrites its entry; close clears it before
 * the real close. Fds held when the library loads are classified once at
 * start-up (shim_conn_scan_inherited).
 */
#ifndef SHIM_CONN_H
#define SHIM_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shim/shim.h"

enum shim_fd_kind {
    FD_NONE = 0,
    FD_INET,       /* AF_INET/AF_INET6 stream socket, not yet connected/accepted */
    FD_CLIENT,     /* connected by this process */
    FD_SERVER,     /* accepted by this process (or handed over connected) */
    FD_UNIX,       /* AF_UNIX: noted, not measured */
    FD_OWN,        /* promshim's own exporter connection: never measured */
    FD_OWN_LISTEN, /* promshim's exporter listening socket */
};

enum shim_role { ROLE_CLIENT = 0, ROLE_SERVER = 1 };
enum shim_dir { DIR_TX = 0, DIR_RX = 1 };

/* Protocols a connection can be found to speak (struct shim_fd.proto). */
enum shim_proto {
    PROTO_UNKNOWN = 0, /* not decided yet: the first bytes will tell */
    PROTO_NONE,        /* nothing we parse: bytes are only counted */
    PROTO_HTTP,
    PROTO_REDIS,
    PROTO_MEMCACHED,
    PROTO_POSTGRES,
    PROTO_MYSQL,
    PROTO_TLS, /* a TLS handshake: the plaintext will come through the TLS hooks */
    PROTO_KAFKA,
    PROTO_COUNT
};

/* shim_proto_name: "http", "redis", ... for labels */
const char *shim_proto_name(int proto);

struct shim_ext; /* per-connection protocol state, from a fixed pool (session.h) */

/*
 * One fd's entry: 64 bytes, one cache line.
 *
 * The peer fields (family, port, addr, and kind, proto and ext as they are
 * rewritten with them) are also read by promshim's own thread (the tcp and
 * pools probes) while the host's threads rewrite them. The hooks that
 * rewrite them (socket, accept, connect, dup) do it inside a seq section
 * (seq_begin/seq_end in conn.c): seq's low byte counts the sections in
 * progress, each section's end adds one to the generation above it, and
 * every peer field is stored with a release store. A reader
 * (shim_conn_peek) copies the fields between two loads of seq and keeps the
 * copy only when seq was the same both times, with no section in progress.
 * Counting (not the usual odd/even) keeps that true when two sections
 * overlap on one entry: two threads accepting on one listening socket, or a
 * signal handler reusing the fd of the section it interrupted.
 */
struct shim_fd {
    uint8_t kind;               /* enum shim_fd_kind; read and written with __atomic builtins */
    uint8_t connecting;         /* non-blocking connect in progress */
    uint8_t active;             /* counted in connections_active by this process */
    uint8_t family;             /* AF_INET, AF_INET6 (peer field) */
    uint16_t port;              /* peer port (client), local port (server, listening), host order (peer field) */
    uint8_t proto;              /* enum shim_proto; __atomic builtins across threads */
    uint8_t nsniff;             /* bytes kept in sniff while the protocol is undecided */
    uint64_t t0;                /* connect start, ns */
    union {
        uint8_t addr[16];       /* peer address (client) (peer field) */
        uint64_t addr_w[2];     /* the same, as the two words stored and loaded atomically */
    };
    struct shim_ext *ext;       /* protocol state, NULL when none */
    uint32_t seq;               /* peer fields' sections: generation << 8 | sections in progress */
    uint8_t tls;                /* plaintext comes through the TLS hooks: raw bytes are not parsed */
    uint8_t sniff[19];          /* first bytes of the connection, while undecided (every detector
                                 * decides within 18) */
};
_Static_assert(sizeof(struct shim_fd) == 64, "an fd entry is one cache line");
_Static_assert(offsetof(struct shim_fd, addr_w) % 8 == 0, "addr_w is loaded and stored as aligned words");
_Static_assert(offsetof(struct shim_fd, seq) % 4 == 0, "seq is an aligned atomic word");

/* A copy of the peer fields of an entry, taken by shim_conn_peek. */
struct shim_fd_peer {
    uint8_t kind, family, proto;
    uint16_t port;
    uint8_t addr[16];
    int busy; /* shim_session_busy of the same connection (when asked for) */
};

extern struct shim_fd *shim_fdtab;
extern unsigned shim_fdmax;

/* shim_fd: the entry of a tracked fd, NULL for anything else. The hot path. */
static inline struct shim_fd *shim_fd(int fd)
{
    /* acquire (a plain load on x86): shim_fdmax publishes shim_fdtab */
    if (SHIM_LIKELY((unsigned)fd >= __atomic_load_n(&shim_fdmax, __ATOMIC_ACQUIRE)))
        return NULL;
    struct shim_fd *e = &shim_fdtab[fd];
    return __atomic_load_n(&e->kind, __ATOMIC_RELAXED) ? e : NULL;
}

/* measured kinds: bytes and connections are counted */
static inline int shim_fd_measured(const struct shim_fd *e)
{
    uint8_t k = __atomic_load_n(&e->kind, __ATOMIC_RELAXED);
    return k == FD_CLIENT || k == FD_SERVER || k == FD_INET;
}

int shim_conn_init(void);
void shim_conn_scan_inherited(void);
void shim_conn_classify_late(int fd);
void shim_conn_after_fork_child(void);
/* one past the highest fd number that ever had an entry */
unsigned shim_conn_hwm(void);

/* events from the hooks; each is given the real call's result and errno */
void shim_conn_socket(int fd, int domain, int type);
void shim_conn_clear(int fd);
int shim_conn_wants_connect_time(int fd);
/* caller: the return address of the connect() call, for the origin */
void shim_conn_connect(int fd, const struct sockaddr *sa, socklen_t len, int rc, int err, uint64_t t0, void *caller);
void shim_conn_connect_result(int fd, int so_error);
void shim_conn_accept(int lfd, int fd);
void shim_conn_dup(int oldfd, int newfd);
void shim_conn_close(int fd);
/* shutdown(fd, how) succeeded */
void shim_conn_shutdown(int fd, int how);
/* shim_conn_tls_data: plaintext that a TLS library (hooks/tls.c) moved on
 * fd: n bytes of buf (buf NULL: unseen), or the stream ended (n == 0) */
void shim_conn_tls_data(int fd, enum shim_dir dir, const void *buf, long n);

/* shim_conn_io: a data call finished on a tracked fd: n bytes moved (n > 0)
 * held by iov[0..cnt) in order (iov NULL: bytes we cannot see, such as
 * sendfile's), or it failed with err (n < 0), or the peer closed (n == 0,
 * receive). */
struct iovec;
void shim_conn_io(struct shim_fd *e, int fd, enum shim_dir dir, const struct iovec *iov, int cnt, long n, int err);

/* shim_conn_peek: a consistent copy of e's peer fields into *out, for a
 * thread other than the fd's (the probes), while the host may rewrite the
 * entry; with busy, also whether an operation is in flight on the same
 * connection. 0, or -EAGAIN when the entry kept changing through a few
 * tries (skip it this round). Never blocks, never writes to e. */
int shim_conn_peek(const struct shim_fd *e, struct shim_fd_peer *out, int busy);

/* mark fd as promshim's own (exporter) */
void shim_conn_own(int fd, int listening);

#endif
