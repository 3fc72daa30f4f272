/*
 * errno_probe
 *
 * Makes calls that fail (and a few that succeed) through the functions
 * promshim interposes, and prints one line per call: its name, the return
 * value and the errno name when it failed (or the errno value left after a
 * successful call, which must not change either). Its output must be
 * byte-for-byte the same with and without the shim. Loopback only; every
 * port it needs it makes itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *ename(int e)
{
    const char *n = e ? strerrorname_np(e) : "0";
    return n ? n : "?";
}

/* Print "what ret=R errno=NAME" (errno only when R is -1). */
static void report(const char *what, long ret, int err)
{
    if (ret == -1)
        printf("%-34s ret=-1 errno=%s\n", what, ename(err));
    else
        printf("%-34s ret=%ld\n", what, ret);
}

#define PROBE(what, expr)                                                      \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(expr);                                                \
        report((what), r_, errno);                                             \
    } while (0)

/* errno left after a call that succeeds: set EDOM before, print after. */
#define KEEP(what, expr)                                                       \
    do {                                                                       \
        errno = EDOM;                                                          \
        long r_ = (long)(expr);                                                \
        int e_ = errno;                                                        \
        printf("%-34s ok=%d errno_after=%s\n", (what), r_ >= 0, ename(e_));    \
    } while (0)

static struct sockaddr_in loopback(unsigned short port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

/* A listening socket on a kernel-chosen loopback port. */
static int listener(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    *addr = loopback(0);
    socklen_t len = sizeof *addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof *addr) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
        perror("errno_probe: listener");
        exit(2);
    }
    return fd;
}

/* A loopback port nobody listens on: bind one, note it, close it. */
static struct sockaddr_in closed_port(void)
{
    struct sockaddr_in a;
    int fd = listener(&a);
    close(fd);
    return a;
}

static int wait_writable(int fd)
{
    struct pollfd p = {fd, POLLOUT, 0};
    return poll(&p, 1, 5000);
}

int main(void)
{
    char buf[64] = "x";
    struct iovec iov = {buf, 1};
    int sock_err;
    socklen_t sl;

    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Not a socket, bad fds. */
    int p[2];
    if (pipe(p) < 0)
        return 2;
    PROBE("recv on pipe", recv(p[0], buf, 1, MSG_DONTWAIT));
    PROBE("send on pipe", send(p[1], buf, 1, 0));
    sl = sizeof sock_err;
    PROBE("getsockopt on pipe", getsockopt(p[0], SOL_SOCKET, SO_ERROR, &sock_err, &sl));
    PROBE("shutdown on pipe", shutdown(p[0], SHUT_RDWR));
    int gone = dup(p[0]);
    close(gone);
    PROBE("recv on closed fd", recv(gone, buf, 1, 0));
    PROBE("read on closed fd", read(gone, buf, 1));
    PROBE("write on closed fd", write(gone, buf, 1));
    PROBE("readv on closed fd", readv(gone, &iov, 1));
    PROBE("writev on closed fd", writev(gone, &iov, 1));
    PROBE("send on closed fd", send(gone, buf, 1, 0));
    PROBE("close on closed fd", close(gone));
    PROBE("dup on closed fd", dup(gone));
    PROBE("dup2 from closed fd", dup2(gone, 200));
    PROBE("fcntl F_GETFL on closed fd", fcntl(gone, F_GETFL));
    PROBE("shutdown on closed fd", shutdown(gone, SHUT_RDWR));
    PROBE("connect on closed fd", connect(gone, (struct sockaddr *)&(struct sockaddr_in){0}, 16));
    PROBE("socket bad family", socket(12345, SOCK_STREAM, 0));

    /* Successful calls leave errno alone. */
    KEEP("write on pipe", write(p[1], buf, 1));
    KEEP("read on pipe", read(p[0], buf, 1));

    /* Blocking connect to a closed port. */
    struct sockaddr_in closed = closed_port();
    int c = socket(AF_INET, SOCK_STREAM, 0);
    PROBE("blocking connect closed port", connect(c, (struct sockaddr *)&closed, sizeof closed));
    close(c);

    /* Non-blocking connect to a closed port: EINPROGRESS, then SO_ERROR. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    PROBE("nonblocking connect closed port", connect(c, (struct sockaddr *)&closed, sizeof closed));
    wait_writable(c);
    sock_err = -1;
    sl = sizeof sock_err;
    PROBE("getsockopt SO_ERROR", getsockopt(c, SOL_SOCKET, SO_ERROR, &sock_err, &sl));
    printf("%-34s %s\n", "  so_error", ename(sock_err));
    close(c);

    /* Non-blocking connect to a listener. */
    struct sockaddr_in la;
    int l = listener(&la);
    int fl = fcntl(l, F_GETFL);
    PROBE("fcntl F_SETFL O_NONBLOCK", fcntl(l, F_SETFL, fl | O_NONBLOCK));
    PROBE("accept nonblocking no client", accept(l, NULL, NULL));
    PROBE("accept4 nonblocking no client", accept4(l, NULL, NULL, SOCK_CLOEXEC));
    PROBE("fcntl F_SETFL blocking", fcntl(l, F_SETFL, fl));
    int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    PROBE("nonblocking connect listener", connect(nb, (struct sockaddr *)&la, sizeof la));
    wait_writable(nb);
    sock_err = -1;
    sl = sizeof sock_err;
    PROBE("getsockopt SO_ERROR", getsockopt(nb, SOL_SOCKET, SO_ERROR, &sock_err, &sl));
    printf("%-34s %s\n", "  so_error", ename(sock_err));
    PROBE("connect already connected", connect(nb, (struct sockaddr *)&la, sizeof la));
    int a = accept(l, NULL, NULL);
    printf("%-34s %s\n", "accept", a >= 0 ? "ok" : ename(errno));

    /* Nothing to read on a non-blocking socket. */
    PROBE("read nonblocking no data", read(nb, buf, sizeof buf));
    PROBE("recv nonblocking no data", recv(nb, buf, sizeof buf, 0));
    PROBE("recvfrom nonblocking no data", recvfrom(nb, buf, sizeof buf, 0, NULL, NULL));
    PROBE("readv nonblocking no data", readv(nb, &iov, 1));
    PROBE("recv MSG_DONTWAIT on blocking", recv(a, buf, sizeof buf, MSG_DONTWAIT));

    /* Data both ways: successful calls leave errno alone. */
    KEEP("send 5 bytes", send(nb, "hello", 5, 0));
    KEEP("recv 5 bytes", recv(a, buf, 5, MSG_WAITALL));
    KEEP("write 3 bytes", write(a, "abc", 3));
    struct pollfd pin = {nb, POLLIN, 0};
    poll(&pin, 1, 5000);
    KEEP("read 3 bytes", read(nb, buf, 3));

    /* Send after shutdown. */
    PROBE("shutdown SHUT_WR", shutdown(nb, SHUT_WR));
    PROBE("send after shutdown", send(nb, buf, 1, 0));
    PROBE("write after shutdown", write(nb, buf, 1));
    PROBE("writev after shutdown", writev(nb, &iov, 1));
    PROBE("sendto after shutdown", sendto(nb, buf, 1, 0, NULL, 0));
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    PROBE("sendmsg after shutdown", sendmsg(nb, &mh, 0));
    PROBE("read after peer shutdown", recv(a, buf, sizeof buf, 0));
    close(a);
    close(nb);

    /* Unconnected and listening sockets. */
    int u = socket(AF_INET, SOCK_STREAM, 0);
    PROBE("recv unconnected", recv(u, buf, 1, 0));
    PROBE("send unconnected", send(u, buf, 1, 0));
    PROBE("accept not listening", accept(u, NULL, NULL));
    PROBE("shutdown unconnected", shutdown(u, SHUT_RDWR));
    PROBE("recv on listener", recv(l, buf, 1, 0));
    PROBE("sendfile from socket", sendfile(p[1], u, NULL, 1));
    close(u);
    close(l);

    /* UDP and AF_UNIX pass through too. */
    int ud = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    PROBE("recvfrom udp no data", recvfrom(ud, buf, 1, 0, NULL, NULL));
    PROBE("sendto udp no address", sendto(ud, buf, 1, 0, NULL, 0));
    close(ud);
    int sp[2];
    PROBE("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
    KEEP("send on socketpair", send(sp[0], "z", 1, 0));
    KEEP("recv on socketpair", recv(sp[1], buf, 1, 0));
    PROBE("recv socketpair no data", recv(sp[1], buf, 1, MSG_DONTWAIT));
    close(sp[0]);
    PROBE("recv after peer close", recv(sp[1], buf, 1, 0));
    PROBE("send to closed peer", send(sp[1], buf, 1, 0));
    close(sp[1]);
    close(p[0]);
    close(p[1]);
    return 0;
}
