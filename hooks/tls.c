/*
 * tls.c - plaintext from the TLS libraries' own read and write functions:
 * OpenSSL's SSL_read, SSL_write, SSL_read_ex, SSL_write_ex, SSL_sendfile and
 * SSL_free, GnuTLS's gnutls_record_recv and gnutls_record_send. The
 * plaintext goes to the same sessions as a plain socket's bytes; the socket
 * is marked so its ciphertext is counted (network bytes) but not parsed.
 * See hooks/hook.h for the hot-path rules.
 *
 * Finding the real functions: dlsym(RTLD_NEXT) when the TLS library is in
 * the global scope; when it was loaded RTLD_LOCAL (Python's _ssl module: the
 * module's calls still land here, ahead of it in the lookup order), through
 * the loaded library itself: dl_iterate_phdr finds its path, dlopen with
 * RTLD_NOLOAD gives a handle. Resolved on the first call, never for a
 * program that does not use TLS.
 *
 * Which socket: SSL_get_fd when the SSL object sits on a socket BIO; else
 * the tracked socket on which the call itself moved bytes (a custom BIO such
 * as libcurl's), remembered per SSL object for the calls that are served
 * from the library's buffer. What cannot be attributed is counted in
 * promshim_tls_unattributed_total.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/types.h>

#include "hooks/hook.h"
#include "shim/metrics.h"

typedef struct ssl_st SSL;

static struct {
    int (*SSL_read)(SSL *, void *, int);
    int (*SSL_write)(SSL *, const void *, int);
    int (*SSL_read_ex)(SSL *, void *, size_t, size_t *);
    int (*SSL_write_ex)(SSL *, const void *, size_t, size_t *);
    ssize_t (*SSL_sendfile)(SSL *, int, off_t, size_t, int);
    void (*SSL_free)(SSL *);
    int (*SSL_get_fd)(const SSL *);
    ssize_t (*gnutls_record_recv)(void *, void *, size_t);
    ssize_t (*gnutls_record_send)(void *, const void *, size_t);
    int (*gnutls_transport_get_int)(void *);
} tls;

static _Atomic int resolved_ssl, resolved_gnutls;

struct find {
    const char *prefix;
    char path[512];
};

/* find_cb: dl_iterate_phdr callback: the first loaded object whose file
 * name starts with f->prefix */
static int find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct find *f = arg;
    const char *name = info->dlpi_name;
    const char *base = name ? strrchr(name, '/') : NULL;
    base = base ? base + 1 : name;
    if (base && strncmp(base, f->prefix, strlen(f->prefix)) == 0 && strlen(name) < sizeof(f->path)) {
        strcpy(f->path, name);
        return 1;
    }
    return 0;
}

/* sym: the real function name: the next definition after ours, else the
 * one in the loaded library whose file name starts with prefix */
static void *sym(const char *name, const char *prefix, void **handle)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (p)
        return p;
    if (!*handle) {
        struct find f = {prefix, ""};
        if (dl_iterate_phdr(find_cb, &f) && f.path[0])
            *handle = dlopen(f.path, RTLD_LAZY | RTLD_NOLOAD);
    }
    return *handle ? dlsym(*handle, name) : NULL;
}

/* resolve: fill the table for OpenSSL (gnutls = 0) or GnuTLS, once. Not
 * async-signal-safe (dlsym): TLS calls are not made from signal handlers. */
static void resolve(int gnutls)
{
    _Atomic int *flag = gnutls ? &resolved_gnutls : &resolved_ssl;
    if (SHIM_LIKELY(atomic_load_explicit(flag, memory_order_acquire)))
        return;
    void *h = NULL;
    if (!gnutls) {
        *(void **)&tls.SSL_read = sym("SSL_read", "libssl.so", &h);
        *(void **)&tls.SSL_write = sym("SSL_write", "libssl.so", &h);
        *(void **)&tls.SSL_read_ex = sym("SSL_read_ex", "libssl.so", &h);
        *(void **)&tls.SSL_write_ex = sym("SSL_write_ex", "libssl.so", &h);
        *(void **)&tls.SSL_sendfile = sym("SSL_sendfile", "libssl.so", &h);
        *(void **)&tls.SSL_free = sym("SSL_free", "libssl.so", &h);
        *(void **)&tls.SSL_get_fd = sym("SSL_get_fd", "libssl.so", &h);
    } else {
        *(void **)&tls.gnutls_record_recv = sym("gnutls_record_recv", "libgnutls.so", &h);
        *(void **)&tls.gnutls_record_send = sym("gnutls_record_send", "libgnutls.so", &h);
        *(void **)&tls.gnutls_transport_get_int = sym("gnutls_transport_get_int", "libgnutls.so", &h);
    }
    atomic_store_explicit(flag, 1, memory_order_release);
}

/* ---- which socket an SSL object (or a GnuTLS session) is on ---- */

#define CACHE 1024
static struct {
    void *_Atomic obj;
    _Atomic int fd;
} cache[CACHE];

static unsigned slot_of(const void *obj)
{
    uintptr_t v = (uintptr_t)obj;
    return (unsigned)((v >> 4) ^ (v >> 14)) % CACHE;
}

static int cached_fd(const void *obj)
{
    unsigned i = slot_of(obj);
    return atomic_load_explicit(&cache[i].obj, memory_order_acquire) == obj ? atomic_load(&cache[i].fd) : -1;
}

static void remember(void *obj, int fd)
{
    unsigned i = slot_of(obj);
    atomic_store(&cache[i].fd, fd);
    atomic_store_explicit(&cache[i].obj, obj, memory_order_release);
}

static void forget(const void *obj)
{
    unsigned i = slot_of(obj);
    void *o = (void *)obj;
    atomic_compare_exchange_strong(&cache[i].obj, &o, NULL);
}

/* attribute: the tracked socket of obj after a call (direct: what the
 * library says, or -1), else where the call moved bytes, else the cache */
static int attribute(void *obj, int direct)
{
    int fd = direct;
    if (!shim_tracked(fd))
        fd = shim_tls.ssl_fd;
    if (shim_tracked(fd)) {
        if (cached_fd(obj) != fd)
            remember(obj, fd);
        return fd;
    }
    fd = cached_fd(obj);
    return shim_tracked(fd) ? fd : -1;
}

/* enter/leave: around the real call, so the raw hooks note the socket */
static int enter(void)
{
    int was = shim_tls.in_ssl;
    shim_tls.in_ssl = 1;
    shim_tls.ssl_fd = -1;
    return was;
}

static void leave(int was)
{
    shim_tls.in_ssl = was;
}

/* report: n plaintext bytes (n == 0: the stream ended) of obj's socket */
static void report(void *obj, int direct, enum shim_dir dir, const void *buf, long n)
{
    int fd = attribute(obj, direct);
    if (fd >= 0)
        shim_conn_tls_data(fd, dir, buf, n);
    else if (n > 0)
        shim_m_tls_unattributed();
}

static int ssl_fd(SSL *s)
{
    return tls.SSL_get_fd ? tls.SSL_get_fd(s) : -1;
}

/* tls_engaged: a TLS call is network use: the engine starts here if no
 * socket call started it yet */
static int tls_engaged(void)
{
    if (SHIM_UNLIKELY(!shim_active) && shim_wanted && !shim_tls.guard)
        shim_engine_start();
    return engaged();
}

/* ---- OpenSSL ---- */

static int shim_SSL_read(SSL *s, void *buf, int num)
{
    resolve(0);
    if (!tls.SSL_read)
        return -1;
    if (!tls_engaged())
        return tls.SSL_read(s, buf, num);
    int was = enter();
    int r = tls.SSL_read(s, buf, num);
    int saved = errno;
    leave(was);
    if (r >= 0)
        report(s, ssl_fd(s), DIR_RX, buf, r);
    errno = saved;
    return r;
}

static int shim_SSL_write(SSL *s, const void *buf, int num)
{
    resolve(0);
    if (!tls.SSL_write)
        return -1;
    if (!tls_engaged())
        return tls.SSL_write(s, buf, num);
    int was = enter();
    int r = tls.SSL_write(s, buf, num);
    int saved = errno;
    leave(was);
    if (r > 0)
        report(s, ssl_fd(s), DIR_TX, buf, r);
    errno = saved;
    return r;
}

static int shim_SSL_read_ex(SSL *s, void *buf, size_t num, size_t *got)
{
    resolve(0);
    if (!tls.SSL_read_ex)
        return 0;
    if (!tls_engaged())
        return tls.SSL_read_ex(s, buf, num, got);
    int was = enter();
    int r = tls.SSL_read_ex(s, buf, num, got);
    int saved = errno;
    leave(was);
    if (r == 1 && got && *got)
        report(s, ssl_fd(s), DIR_RX, buf, (long)*got);
    errno = saved;
    return r;
}

static int shim_SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *put)
{
    resolve(0);
    if (!tls.SSL_write_ex)
        return 0;
    if (!tls_engaged())
        return tls.SSL_write_ex(s, buf, num, put);
    int was = enter();
    int r = tls.SSL_write_ex(s, buf, num, put);
    int saved = errno;
    leave(was);
    if (r == 1 && put && *put)
        report(s, ssl_fd(s), DIR_TX, buf, (long)*put);
    errno = saved;
    return r;
}

/* SSL_sendfile (kernel TLS): the file's bytes are plaintext we do not see */
static ssize_t shim_SSL_sendfile(SSL *s, int fd, off_t off, size_t size, int flags)
{
    resolve(0);
    if (!tls.SSL_sendfile)
        return -1;
    if (!tls_engaged())
        return tls.SSL_sendfile(s, fd, off, size, flags);
    int was = enter();
    ssize_t r = tls.SSL_sendfile(s, fd, off, size, flags);
    int saved = errno;
    leave(was);
    if (r > 0)
        report(s, ssl_fd(s), DIR_TX, NULL, (long)r);
    errno = saved;
    return r;
}

static void shim_SSL_free(SSL *s)
{
    resolve(0);
    if (s)
        forget(s);
    if (tls.SSL_free)
        tls.SSL_free(s);
}

/* ---- GnuTLS ---- */

static int gnutls_fd(void *session)
{
    return tls.gnutls_transport_get_int ? tls.gnutls_transport_get_int(session) : -1;
}

static ssize_t shim_gnutls_record_recv(void *session, void *buf, size_t n)
{
    resolve(1);
    if (!tls.gnutls_record_recv)
        return -1;
    if (!tls_engaged())
        return tls.gnutls_record_recv(session, buf, n);
    int was = enter();
    ssize_t r = tls.gnutls_record_recv(session, buf, n);
    int saved = errno;
    leave(was);
    if (r >= 0)
        report(session, gnutls_fd(session), DIR_RX, buf, (long)r);
    errno = saved;
    return r;
}

static ssize_t shim_gnutls_record_send(void *session, const void *buf, size_t n)
{
    resolve(1);
    if (!tls.gnutls_record_send)
        return -1;
    if (!tls_engaged())
        return tls.gnutls_record_send(session, buf, n);
    int was = enter();
    ssize_t r = tls.gnutls_record_send(session, buf, n);
    int saved = errno;
    leave(was);
    if (r > 0)
        report(session, gnutls_fd(session), DIR_TX, buf, (long)r);
    errno = saved;
    return r;
}

/* ---- the exported symbols: one line each ---- */

SHIM_EXPORT int SSL_read(SSL *s, void *buf, int num) { return shim_SSL_read(s, buf, num); }
SHIM_EXPORT int SSL_write(SSL *s, const void *buf, int num) { return shim_SSL_write(s, buf, num); }
SHIM_EXPORT int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *got) { return shim_SSL_read_ex(s, buf, num, got); }
SHIM_EXPORT int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *put)
{
    return shim_SSL_write_ex(s, buf, num, put);
}
SHIM_EXPORT ssize_t SSL_sendfile(SSL *s, int fd, off_t off, size_t size, int flags)
{
    return shim_SSL_sendfile(s, fd, off, size, flags);
}
SHIM_EXPORT void SSL_free(SSL *s) { shim_SSL_free(s); }
SHIM_EXPORT ssize_t gnutls_record_recv(void *session, void *buf, size_t n)
{
    return shim_gnutls_record_recv(session, buf, n);
}
SHIM_EXPORT ssize_t gnutls_record_send(void *session, const void *buf, size_t n)
{
    return shim_gnutls_record_send(session, buf, n);
}
