/* bench_hooks: wall-clock ns per call of the hooked I/O functions.
 *
 *   bench_hooks [FILE_ITERATIONS [SOCKET_ITERATIONS]]
 *
 * Defaults: 2,000,000 iterations for the file calls, 200,000 for the socket
 * round trip (one tenth of FILE_ITERATIONS when only that is given).
 * Prints one "name ns_per_call" line per measurement, each the best (minimum)
 * of 5 repetitions. Run it with and without LD_PRELOAD=build/libpromshim.so
 * (scripts/bench-hooks.sh does) to see what the hooks add:
 *
 *   read_devzero_1B   read(2) of 1 byte from /dev/zero: an fd the shim does not track
 *   write_devnull_1B  write(2) of 1 byte to /dev/null: not tracked either
 *   tcp_send_recv_1B  send(2)/recv(2) of 1 byte each way over a connected
 *                     127.0.0.1 TCP pair (made by socket/listen/connect/accept,
 *                     so the shim tracks both ends); per call, 4 calls a round trip
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define REPS 5

static void die(const char *what)
{
    fprintf(stderr, "bench_hooks: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime");
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long parse_count(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0) {
        fprintf(stderr, "bench_hooks: bad iteration count '%s'\n", s);
        exit(2);
    }
    return v;
}

static double bench_read(int fd, long n)
{
    char c;
    uint64_t best = UINT64_MAX;
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (read(fd, &c, 1) != 1)
                die("read /dev/zero");
        }
        uint64_t dt = now_ns() - t0;
        if (dt < best)
            best = dt;
    }
    return (double)best / (double)n;
}

static double bench_write(int fd, long n)
{
    const char c = 'x';
    uint64_t best = UINT64_MAX;
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (write(fd, &c, 1) != 1)
                die("write /dev/null");
        }
        uint64_t dt = now_ns() - t0;
        if (dt < best)
            best = dt;
    }
    return (double)best / (double)n;
}

static void xsend(int fd, const char *c)
{
    for (;;) {
        ssize_t k = send(fd, c, 1, 0);
        if (k == 1)
            return;
        if (k < 0 && errno == EINTR)
            continue;
        die("send");
    }
}

static void xrecv(int fd, char *c)
{
    for (;;) {
        ssize_t k = recv(fd, c, 1, 0);
        if (k == 1)
            return;
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            errno = ECONNRESET;
        die("recv");
    }
}

static void tcp_pair(int *client, int *server)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int one = 1;

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("bind 127.0.0.1:0");
    if (listen(lfd, 1) != 0)
        die("listen");
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) != 0)
        die("getsockname");

    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0)
        die("socket");
    if (connect(cfd, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("connect");
    int sfd = accept(lfd, NULL, NULL);
    if (sfd < 0)
        die("accept");
    close(lfd);

    /* One-byte ping-pong: no Nagle / delayed-ACK stalls. */
    if (setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        die("setsockopt TCP_NODELAY");
    *client = cfd;
    *server = sfd;
}

static double bench_tcp(int cfd, int sfd, long n)
{
    char c = 'p';
    uint64_t best = UINT64_MAX;
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = now_ns();
        for (long i = 0; i < n; i++) {
            xsend(cfd, &c);
            xrecv(sfd, &c);
            xsend(sfd, &c);
            xrecv(cfd, &c);
        }
        uint64_t dt = now_ns() - t0;
        if (dt < best)
            best = dt;
    }
    return (double)best / (double)(4 * n);
}

int main(int argc, char **argv)
{
    long n_file = 2000000;
    long n_sock = 200000;

    if (argc > 3 || (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: %s [FILE_ITERATIONS [SOCKET_ITERATIONS]]\n", argv[0]);
        return 2;
    }
    if (argc > 1) {
        n_file = parse_count(argv[1]);
        n_sock = n_file / 10 > 0 ? n_file / 10 : 1;
    }
    if (argc > 2)
        n_sock = parse_count(argv[2]);

    int zfd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (zfd < 0)
        die("open /dev/zero");
    int nfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (nfd < 0)
        die("open /dev/null");
    int cfd, sfd;
    tcp_pair(&cfd, &sfd);

    printf("read_devzero_1B %.1f\n", bench_read(zfd, n_file));
    fflush(stdout);
    printf("write_devnull_1B %.1f\n", bench_write(nfd, n_file));
    fflush(stdout);
    printf("tcp_send_recv_1B %.1f\n", bench_tcp(cfd, sfd, n_sock));
    fflush(stdout);

    close(cfd);
    close(sfd);
    close(zfd);
    close(nfd);
    return 0;
}
