/*
 * conn_client HOST PORT N [LINGER_SECS]
 *
 * N sequential blocking TCP connections to HOST:PORT (IPv4 or IPv6 literal).
 * Each one: connect, send() a fixed REQ_LEN-byte request, recv() the reply
 * until EOF, close. Prints one summary line with the exact payload byte
 * counts, so a test can compare them with what the shim counted:
 *
 *   connections=N ok=K errors=E sent=S received=R last_errno=NAME
 *
 * With LINGER_SECS it then sleeps that long (until killed) so the process's
 * own exporter can be scraped. Exit status 0 when every connection worked,
 * 1 when any failed, 2 on usage errors.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_LEN 64

static void linger(long secs)
{
    struct timespec ts = {secs, 0};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s HOST PORT N [LINGER_SECS]\n", argv[0]);
        return 2;
    }
    const char *host = argv[1], *port = argv[2];
    long n = strtol(argv[3], NULL, 10);
    long linger_secs = argc == 5 ? strtol(argv[4], NULL, 10) : 0;
    signal(SIGPIPE, SIG_IGN);

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "conn_client: %s:%s: %s\n", host, port, gai_strerror(rc));
        return 2;
    }

    char req[REQ_LEN];
    memset(req, 'q', sizeof req);
    memcpy(req, "PROMSHIM-TEST-REQUEST", 21);
    req[REQ_LEN - 1] = '\n';

    long ok = 0, errors = 0;
    long long sent = 0, received = 0;
    int last_errno = 0;
    for (long i = 0; i < n; i++) {
        int fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0) {
            perror("conn_client: socket");
            return 2;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            last_errno = errno;
            errors++;
            close(fd);
            continue;
        }
        size_t off = 0;
        int failed = 0;
        while (off < sizeof req) {
            ssize_t w = send(fd, req + off, sizeof req - off, 0);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                last_errno = errno;
                failed = 1;
                break;
            }
            off += (size_t)w;
            sent += w;
        }
        char buf[4096];
        while (!failed) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                last_errno = errno;
                failed = 1;
                break;
            }
            if (r == 0)
                break;
            received += r;
        }
        close(fd);
        if (failed)
            errors++;
        else
            ok++;
    }
    freeaddrinfo(ai);
    printf("connections=%ld ok=%ld errors=%ld sent=%lld received=%lld last_errno=%s\n", n, ok,
           errors, sent, received, last_errno ? strerrorname_np(last_errno) : "-");
    fflush(stdout);
    if (linger_secs > 0)
        linger(linger_secs);
    return errors ? 1 : 0;
}
