/*
 * fork_client HOST PORT CHILDREN PER_CHILD [LINGER_SECS]
 *
 * The parent forks CHILDREN children; each child makes PER_CHILD sequential
 * blocking connections to HOST:PORT (write() a REQ_LEN-byte request, read()
 * the reply until EOF, close) and exits with 0 when all worked. The parent
 * waits for every child, then prints
 *
 *   children=C per_child=P connections=C*P failed_children=F sent=S
 *
 * (S: the request bytes all the children together sent, when none failed;
 * what they received is C*P times the server's reply length), and with
 * LINGER_SECS sleeps that long so its exporter can be
 * scraped. Before forking, the parent makes (and closes) one socket without
 * connecting it: under promshim that starts the exporter in the parent,
 * which then serves the whole tree's totals.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_LEN 64

static int one_connection(const struct addrinfo *ai)
{
    char req[REQ_LEN], buf[4096];
    memset(req, 'f', sizeof req);
    req[REQ_LEN - 1] = '\n';
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        close(fd);
        return -1;
    }
    size_t off = 0;
    while (off < sizeof req) {
        ssize_t w = write(fd, req + off, sizeof req - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s HOST PORT CHILDREN PER_CHILD [LINGER_SECS]\n", argv[0]);
        return 2;
    }
    long children = strtol(argv[3], NULL, 10);
    long per_child = strtol(argv[4], NULL, 10);
    long linger_secs = argc == 6 ? strtol(argv[5], NULL, 10) : 0;
    signal(SIGPIPE, SIG_IGN);

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "fork_client: %s:%s: %s\n", argv[1], argv[2], gai_strerror(rc));
        return 2;
    }

    /* Touch the socket API once in the parent (no connection). */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s >= 0)
        close(s);

    fflush(stdout);
    fflush(stderr);
    for (long c = 0; c < children; c++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork_client: fork");
            return 2;
        }
        if (pid == 0) {
            int failed = 0;
            for (long i = 0; i < per_child; i++)
                if (one_connection(ai) < 0)
                    failed = 1;
            /* exit(), not _exit(): run the exit handlers a real program runs. */
            exit(failed ? 1 : 0);
        }
    }
    long failed_children = 0;
    for (;;) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (WIFSIGNALED(status)) {
            fprintf(stderr, "fork_client: child %ld killed by signal %d\n", (long)pid,
                    WTERMSIG(status));
            failed_children++;
        } else if (WEXITSTATUS(status) != 0) {
            fprintf(stderr, "fork_client: child %ld exited %d\n", (long)pid,
                    WEXITSTATUS(status));
            failed_children++;
        }
    }
    freeaddrinfo(ai);
    printf("children=%ld per_child=%ld connections=%ld failed_children=%ld sent=%ld\n", children,
           per_child, children * per_child, failed_children, children * per_child * REQ_LEN);
    fflush(stdout);
    if (linger_secs > 0) {
        struct timespec ts = {linger_secs, 0};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
    }
    return failed_children ? 1 : 0;
}
