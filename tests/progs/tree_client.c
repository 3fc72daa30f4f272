/*
 * tree_client HOST PORT PARENT_N CHILD_N GATE_FILE
 *
 * A process tree whose root is not its last process: the parent makes
 * PARENT_N connections, forks, prints "child PID" and exits at once. The
 * child waits (up to 30 s) until GATE_FILE exists, then makes CHILD_N
 * connections and exits. Each connection: connect, send a 64-byte request,
 * read the reply until EOF, close. The child exits 0 when all worked.
 * For the textfile (written by the last process of the tree to exit).
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

static int conns(const struct addrinfo *ai, long n)
{
    int failed = 0;
    char req[REQ_LEN], buf[4096];
    memset(req, 't', sizeof req);
    req[REQ_LEN - 1] = '\n';
    for (long i = 0; i < n; i++) {
        int fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            failed = 1;
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (send(fd, req, sizeof req, 0) != (ssize_t)sizeof req)
            failed = 1;
        ssize_t r;
        while ((r = recv(fd, buf, sizeof buf, 0)) > 0 || (r < 0 && errno == EINTR))
            ;
        if (r < 0)
            failed = 1;
        close(fd);
    }
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT PARENT_N CHILD_N GATE_FILE\n", argv[0]);
        return 2;
    }
    long parent_n = strtol(argv[3], NULL, 10);
    long child_n = strtol(argv[4], NULL, 10);
    const char *gate = argv[5];
    signal(SIGPIPE, SIG_IGN);

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "tree_client: %s:%s: %s\n", argv[1], argv[2], gai_strerror(rc));
        return 2;
    }
    if (conns(ai, parent_n) < 0) {
        fprintf(stderr, "tree_client: parent connections failed\n");
        return 1;
    }
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("tree_client: fork");
        return 2;
    }
    if (child > 0) {
        printf("child %ld\n", (long)child);
        return 0;
    }
    for (int i = 0; i < 3000 && access(gate, F_OK) != 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (access(gate, F_OK) != 0) {
        fprintf(stderr, "tree_client: child: no gate file %s\n", gate);
        return 1;
    }
    return conns(ai, child_n) < 0 ? 1 : 0;
}
