/*
 * server.c - the exporter: a listening socket promshim makes itself, handed
 * to libmicrohttpd (loaded with dlopen on first use, so a process that never
 * serves pays nothing for it and GnuTLS stays out of short processes).
 *
 * Lifecycle per process:
 *   first socket/connect/accept hook -> shim_exporter_kick():
 *     make the listening socket (once per fork tree: forked children inherit
 *     it), then start one promshim thread with every signal blocked;
 *   that thread marks itself (guard), dlopens libmicrohttpd and starts a
 *     daemon on the socket; the daemon's own thread inherits the mask.
 *   fork: the child's threads are gone; it starts its own daemon on the
 *     inherited socket at its first kick, so the tree keeps serving while
 *     any of its processes lives.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <zlib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/acl.h"
#include "shim/config.h"
#include "shim/metrics.h"
#include "shim/conn.h"
#include "shim/real.h"
#include "shim/promshim.h"
#include "shim/registry.h"
#include "shim/scheduler.h"
#include "shim/shim.h"

/* this process's exporter: not started yet (0), or started or given up
 * (K_DONE); read inline by shim_exporter_kick (exporter.h) */
enum { K_NONE = 0, K_DONE = SHIM_EXPORTER_KICKED };
_Atomic int shim_exporter_kicked;
/* held while libmicrohttpd is loaded and started, and across fork, so a
 * child never inherits a half-loaded library */
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static int listen_fd = -1;  /* inherited by forked children */
static int made_here;       /* this process made listen_fd (not inherited) */
static int listen_port;
static struct MHD_Daemon *daemon_h;
static int make_listener(int only_port);

/* the libmicrohttpd functions promshim uses, resolved from the dlopen'ed lib */
static struct {
    void *lib;
    struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                       MHD_AccessHandlerCallback, void *, ...);
    struct MHD_Response *(*create_response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
    enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    void (*destroy_response)(struct MHD_Response *);
    const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
    char *(*basic_auth)(struct MHD_Connection *, char **);
    enum MHD_Result (*auth_fail)(struct MHD_Connection *, const char *, struct MHD_Response *);
    void (*free)(void *);
} mhd;

/* protection, set up by the exporter thread before the daemon starts */
static struct shim_acl acl;
static int acl_on;
static char auth_password[256];
static int auth_on; /* 1: check; -1: configured but unusable: refuse all */

int shim_exporter_fd(void)
{
    return listen_fd;
}

/* load_mhd: dlopen libmicrohttpd and resolve what we use. 0 or -ENOENT. */
static int load_mhd(void)
{
    if (mhd.lib)
        return 0;
    void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return -ENOENT;
#define SYM(field, name) *(void **)&mhd.field = dlsym(h, name)
    SYM(start_daemon, "MHD_start_daemon");
    SYM(create_response_from_buffer, "MHD_create_response_from_buffer");
    SYM(add_response_header, "MHD_add_response_header");
    SYM(queue_response, "MHD_queue_response");
    SYM(destroy_response, "MHD_destroy_response");
    SYM(lookup_connection_value, "MHD_lookup_connection_value");
    SYM(basic_auth, "MHD_basic_auth_get_username_password");
    SYM(auth_fail, "MHD_queue_basic_auth_fail_response");
    SYM(free, "MHD_free");
#undef SYM
    if (!mhd.start_daemon || !mhd.create_response_from_buffer || !mhd.add_response_header ||
        !mhd.queue_response || !mhd.destroy_response || !mhd.lookup_connection_value)
        return -ENOENT;
    mhd.lib = h;
    return 0;
}

/* zlib, loaded on the first scrape that asks for gzip */
static struct {
    _Atomic int state; /* 0 not tried, 1 loaded, -1 unavailable */
    int (*init2)(z_streamp, int, int, int, int, int, const char *, int);
    int (*deflate)(z_streamp, int);
    int (*end)(z_streamp);
    unsigned long (*bound)(z_streamp, unsigned long);
} z;

static int load_zlib(void)
{
    int st = atomic_load(&z.state);
    if (st)
        return st > 0;
    void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h) {
        *(void **)&z.init2 = dlsym(h, "deflateInit2_");
        *(void **)&z.deflate = dlsym(h, "deflate");
        *(void **)&z.end = dlsym(h, "deflateEnd");
        *(void **)&z.bound = dlsym(h, "deflateBound");
    }
    int ok = h && z.init2 && z.deflate && z.end && z.bound;
    atomic_store(&z.state, ok ? 1 : -1);
    return ok;
}

/* gzip: body compressed into out (a fresh buffer). 0, or -1 (send it plain) */
static int gzip(const struct shim_buf *body, struct shim_buf *out)
{
    if (!load_zlib())
        return -1;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (z.init2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(zs)) != Z_OK)
        return -1;
    size_t cap = z.bound(&zs, body->len) + 32;
    int rc = -1;
    if (shim_buf_reserve(out, cap) != 0)
        goto end;
    out->len = 0;
    zs.next_in = (Bytef *)body->p;
    zs.avail_in = (uInt)body->len;
    zs.next_out = (Bytef *)out->p;
    zs.avail_out = (uInt)out->cap;
    if (z.deflate(&zs, Z_FINISH) == Z_STREAM_END) {
        out->len = zs.total_out;
        rc = 0;
    }
end:
    z.end(&zs);
    return rc;
}

/* reply: queue a response with a copy of body */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, size_t len,
                             const char *ctype)
{
    struct MHD_Response *r = mhd.create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    mhd.add_response_header(r, "Content-Type", ctype);
    enum MHD_Result rc = mhd.queue_response(c, status, r);
    mhd.destroy_response(r);
    return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    return reply(c, status, text, strlen(text), "text/plain; charset=utf-8");
}

/* accept_policy: the allow list, before a byte of the request is read; a
 * refused client is closed without a body */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
    if (shim_acl_allows(&acl, sa, len))
        return MHD_YES;
    shim_m_scrape_refused("address");
    return MHD_NO;
}

/* same: constant-time comparison of a against the NUL-terminated b */
static int same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* authorized: basic auth, when configured */
static int authorized(struct MHD_Connection *c)
{
    if (!auth_on)
        return 1;
    if (auth_on < 0 || !mhd.basic_auth)
        return 0;
    char *pass = NULL;
    char *user = mhd.basic_auth(c, &pass);
    int ok = user && pass && same(user, shim_cfg.basic_auth_user) && same(pass, auth_password);
    if (mhd.free) {
        if (user)
            mhd.free(user);
        if (pass)
            mhd.free(pass);
    }
    return ok;
}

/* setup_protection: the allow list and the basic auth password (read from
 * its file here, once: it is never in the environment) */
static void setup_protection(void)
{
    if (shim_cfg.metrics_protection_enabled) {
        int bad = 0;
        shim_acl_parse(&acl, shim_cfg.allow_metrics_ips, &bad);
        if (bad)
            LOG_ERROR("allow_metrics_ips: entry %d of \"%s\" is not an address or CIDR range; it is ignored", bad,
                      shim_cfg.allow_metrics_ips);
        if (!acl.n)
            LOG_WARN("metrics_protection_enabled with no usable allow_metrics_ips: every scrape is refused");
        acl_on = 1;
    }
    if (shim_cfg.basic_auth_user[0]) {
        auth_on = -1;
        int fd = shim_cfg.basic_auth_password_file[0]
                     ? (int)syscall(SYS_openat, AT_FDCWD, shim_cfg.basic_auth_password_file, O_RDONLY | O_CLOEXEC)
                     : -1;
        long n = fd >= 0 ? syscall(SYS_read, fd, auth_password, sizeof(auth_password) - 1) : -1;
        if (fd >= 0)
            syscall(SYS_close, fd);
        if (n > 0) {
            auth_password[n] = '\0';
            auth_password[strcspn(auth_password, "\r\n")] = '\0';
            auth_on = 1;
        } else {
            LOG_ERROR("basic_auth_user is set but basic_auth_password_file \"%s\" cannot be read: every scrape is "
                      "refused",
                      shim_cfg.basic_auth_password_file);
        }
    }
}

/* handle: GET /metrics, /healthz, / */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    if (!authorized(c)) {
        shim_m_scrape_refused("auth");
        struct MHD_Response *r = mhd.create_response_from_buffer(13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        enum MHD_Result rc = mhd.auth_fail ? mhd.auth_fail(c, "promshim", r) : mhd.queue_response(c, 401, r);
        mhd.destroy_response(r);
        return rc;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(c, 405, "method not allowed\n");
    if (!strcmp(url, "/metrics")) {
        const char *accept = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
        int om = accept && strstr(accept, "application/openmetrics-text") != NULL;
        struct shim_buf b = {0};
        shim_m_origins_drain(); /* connects from call sites not named yet */
        shim_expfmt_render(&b, om);
        enum MHD_Result rc;
        const char *ctype = om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                               : "text/plain; version=0.0.4; charset=utf-8";
        const char *enc = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
        struct shim_buf zb = {0};
        if (b.oom || !b.p) {
            rc = reply_text(c, 500, "out of memory\n");
        } else if (enc && strstr(enc, "gzip") && b.len > 1024 && gzip(&b, &zb) == 0) {
            struct MHD_Response *r = mhd.create_response_from_buffer(zb.len, zb.p, MHD_RESPMEM_MUST_COPY);
            rc = MHD_NO;
            if (r) {
                mhd.add_response_header(r, "Content-Type", ctype);
                mhd.add_response_header(r, "Content-Encoding", "gzip");
                rc = mhd.queue_response(c, 200, r);
                mhd.destroy_response(r);
            }
        } else {
            rc = reply(c, 200, b.p, b.len, ctype);
        }
        shim_buf_free(&zb);
        shim_buf_free(&b);
        return rc;
    }
    if (!strcmp(url, "/healthz"))
        return reply_text(c, 200, "ok\n");
    if (!strcmp(url, "/")) {
        struct shim_buf b = {0};
        shim_m_origins_drain();
        shim_page_render(&b);
        enum MHD_Result rc = b.oom || !b.p ? reply_text(c, 500, "out of memory\n")
                                           : reply(c, 200, b.p, b.len, "text/html; charset=utf-8");
        shim_buf_free(&b);
        return rc;
    }
    return reply_text(c, 404, "not found\n");
}

/* serve: load libmicrohttpd and start the daemon on listen_fd */
static void serve(void)
{
    pthread_mutex_lock(&load_mu);
    if (load_mhd() != 0) {
        pthread_mutex_unlock(&load_mu);
        LOG_ERROR("libmicrohttpd.so.12 could not be loaded (%s): no /metrics endpoint; "
                  "install libmicrohttpd12, or use PROMSHIM_TEXTFILE_PATH",
                  dlerror() ? "not found" : "symbols missing");
        return;
    }
    setup_protection();
    daemon_h = mhd.start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, 0, acl_on ? accept_policy : NULL, NULL, handle, NULL,
                                MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd, MHD_OPTION_CONNECTION_LIMIT,
                                (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    pthread_mutex_unlock(&load_mu);
    if (!daemon_h)
        LOG_ERROR("the exporter could not start on port %d: no /metrics endpoint in process %d", listen_port,
                  shim_pid);
    else
        LOG_INFO("serving /metrics on port %d (process %d)", listen_port, shim_pid);
}

static int plugins_loaded; /* per tree: a forked child has them already */

/* load_plugins: dlopen each PROMSHIM_PLUGINS object and call its
 * promshim_plugin_init; every failure is one line on stderr */
static void load_plugins(void)
{
    if (plugins_loaded || !shim_cfg.plugins[0])
        return;
    plugins_loaded = 1;
    char list[sizeof(shim_cfg.plugins)];
    memcpy(list, shim_cfg.plugins, sizeof(list));
    char *save = NULL;
    for (char *path = strtok_r(list, ":,", &save); path; path = strtok_r(NULL, ":,", &save)) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            LOG_ERROR("plugin %s cannot be loaded: %s", path, e ? e : "unknown error");
            continue;
        }
        int (*init)(void);
        *(void **)&init = dlsym(h, "promshim_plugin_init");
        if (!init) {
            LOG_ERROR("plugin %s has no promshim_plugin_init function; it is ignored", path);
            continue;
        }
        int rc = init();
        if (rc)
            LOG_ERROR("plugin %s: promshim_plugin_init failed (returned %d)", path, rc);
    }
}

/* exporter_main: promshim's thread: serves /metrics (or waits to take the
 * tree's endpoint over), loads the plugins, runs the scheduler */
static void *exporter_main(void *arg)
{
    shim_tls.guard = 1;
    prctl(PR_SET_NAME, "promshim", 0, 0, 0);
    int deferred = arg != NULL;
    if (!deferred && listen_fd >= 0) {
        serve();
        if (made_here && daemon_h)
            shim_discovery_write(listen_port);
    }
    load_plugins();
    struct shim_shared *sh = shim_shared();
    for (;;) {
        uint64_t now = shim_now_ns();
        shim_m_origins_drain(); /* at least once a second: the wait is capped below */
        uint64_t next = shim_scheduler_tick(now);
        shim_history_tick(now);
        uint64_t wait = next > now ? next - now : 0;
        if (wait > 1000000000ull || deferred)
            wait = 1000000000ull;
        struct timespec ts = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
        nanosleep(&ts, NULL);
        if (deferred) {
            /* another process of the tree serves its endpoint; take it over
             * when that process is gone and the port frees */
            int port = sh ? atomic_load(&sh->exporter_port) : 0;
            if (port && make_listener(port) == 0) {
                deferred = 0;
                serve();
                if (daemon_h)
                    shim_discovery_write(listen_port);
            }
        }
    }
    return NULL;
}

/* make_listener: bind the first free port of the configured range. 0 or
 * -errno; says once on stderr when it had to move or found none. */
static int make_listener(int only_port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    int fam;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, shim_cfg.bind_address, &in->sin_addr) == 1) {
        fam = AF_INET;
        sl = sizeof(*in);
    } else if (inet_pton(AF_INET6, shim_cfg.bind_address, &in6->sin6_addr) == 1) {
        fam = AF_INET6;
        sl = sizeof(*in6);
    } else {
        LOG_ERROR("PROMSHIM_BIND_ADDRESS=\"%s\" is not an IPv4 or IPv6 address; using 0.0.0.0",
                  shim_cfg.bind_address);
        fam = AF_INET;
        sl = sizeof(*in);
        in->sin_addr.s_addr = htonl(INADDR_ANY);
    }
    ss.ss_family = (sa_family_t)fam;
    int first = only_port ? only_port : shim_cfg.exporter_port, n = only_port ? 1 : shim_cfg.exporter_port_range;
    for (int port = first; port < first + n && port <= 65535; port++) {
        int fd = real.socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            return -errno;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fam == AF_INET)
            in->sin_port = htons((uint16_t)port);
        else
            in6->sin6_port = htons((uint16_t)port);
        if (bind(fd, (struct sockaddr *)&ss, sl) == 0 && listen(fd, 64) == 0) {
            shim_conn_own(fd, 1);
            listen_fd = fd;
            listen_port = port;
            made_here = 1;
            struct shim_shared *sh = shim_shared();
            if (sh)
                atomic_store(&sh->exporter_port, port);
            if (only_port)
                LOG_INFO("took over the process tree's /metrics endpoint on port %d (process %d)", port, shim_pid);
            else if (port != first)
                LOG_WARN("exporter port %d is taken; serving /metrics on port %d (process %d)", first, port,
                         shim_pid);
            return 0;
        }
        int err = errno;
        real.close(fd);
        if (only_port)
            return -err;
        if (err != EADDRINUSE && err != EACCES)
            return -err;
    }
    LOG_WARN("exporter ports %d-%d are all taken: no /metrics endpoint for process %d", first,
             first + n - 1 > 65535 ? 65535 : first + n - 1, shim_pid);
    return -EADDRINUSE;
}

/* start_thread: the promshim thread, with every signal blocked */
static void start_thread(int deferred)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &a, exporter_main, deferred ? (void *)1 : NULL);
    pthread_attr_destroy(&a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        LOG_ERROR("cannot start the exporter thread (error %d): no /metrics endpoint", rc);
}

/*
 * kick: the first socket call of a process starts its exporter. A process
 * that inherited the tree's listening socket serves it too. One that did not
 * (its tree made the socket after it forked) makes the tree's endpoint only
 * if nobody has; otherwise its thread waits, trying once a second to bind
 * the tree's port: when that works, the processes that served it are gone
 * and this one takes over, on the same port.
 */
static void kick(int force)
{
    int k = atomic_load_explicit(&shim_exporter_kicked, memory_order_relaxed);
    if (SHIM_LIKELY(k != K_NONE) || !shim_active)
        return;
    if (!atomic_compare_exchange_strong(&shim_exporter_kicked, &k, K_DONE))
        return;
    shim_tls.guard++;
    struct shim_shared *sh = shim_shared();
    int deferred = 0;
    if (!shim_cfg.exporter_enabled) {
        if (!force && !shim_scheduler_wanted)
            goto out; /* nothing for a thread to do */
    } else if (listen_fd < 0 && sh) {
        int st = 0;
        if (!atomic_compare_exchange_strong(&sh->exporter_state, &st, 1)) {
            deferred = 1; /* the tree has (or is making) its endpoint */
        } else {
            int rc = make_listener(0);
            atomic_store(&sh->exporter_state, 2);
            if (rc != 0 && !shim_scheduler_wanted)
                goto out;
        }
    } else if (listen_fd < 0 && make_listener(0) != 0 && !shim_scheduler_wanted) {
        goto out;
    }
    start_thread(deferred);
out:
    shim_tls.guard--;
}

void shim_exporter_kick_slow(void)
{
    kick(0);
}

SHIM_EXPORT int promshim_start_metrics_server(void)
{
    shim_engine_start();
    if (!shim_active || !shim_cfg.exporter_enabled) {
        errno = ENOTSUP;
        return -1;
    }
    kick(1);
    return listen_fd >= 0 ? 0 : (errno = EADDRINUSE, -1);
}

SHIM_EXPORT int promshim_register_probe(const char *name, promshim_probe_fn fn, void *arg)
{
    shim_engine_start();
    int rc = shim_probe_add(name, fn, arg);
    if (rc) {
        errno = -rc;
        return -1;
    }
    shim_scheduler_wanted = 1;
    kick(1);
    return 0;
}

SHIM_EXPORT int promshim_start_scheduler(unsigned interval_seconds)
{
    shim_engine_start();
    if (!shim_active) {
        errno = ENOTSUP;
        return -1;
    }
    if (interval_seconds)
        __atomic_store_n(&shim_scheduler_interval_s, interval_seconds, __ATOMIC_RELAXED); /* promshim's thread reads it */
    shim_scheduler_wanted = 1;
    kick(1);
    return 0;
}

static int fork_locked; /* the forking thread holds load_mu */

/* shim_exporter_fork_prepare: wait (at most 200 ms: never wedge the host,
 * say if it forks from inside a library constructor while our thread waits
 * for the loader) until libmicrohttpd is not half loaded */
void shim_exporter_fork_prepare(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 200000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    fork_locked = pthread_mutex_timedlock(&load_mu, &t) == 0;
}

void shim_exporter_fork_parent(void)
{
    if (fork_locked) {
        fork_locked = 0;
        pthread_mutex_unlock(&load_mu);
    }
}

void shim_exporter_after_fork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    load_mu = fresh; /* held by the parent's forking thread, which is not here */
    fork_locked = 0;
    daemon_h = NULL; /* its threads stayed with the parent */
    made_here = 0;
    atomic_store(&shim_exporter_kicked, K_NONE);
}
