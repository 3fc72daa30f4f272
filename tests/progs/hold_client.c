/*
 * hold_client HOST PORT PARENT_CONNS CHILD_CONNS [late]
 *
 * Holds connections open in two processes, for the per-process
 * promshim_connections_active gauge:
 *   - the parent makes (and closes) one unconnected socket, which under
 *     promshim starts the exporter in the parent, as a server's listening
 *     socket would; with "late" it skips that, so both processes first
 *     touch the socket API after the fork, at about the same time;
 *   - it forks one child; the child connects CHILD_CONNS times to
 *     HOST:PORT, keeps every connection open and sleeps until killed;
 *   - then the parent connects PARENT_CONNS times and keeps those open.
 * The parent prints "child PID" and, once both sides hold their connections,
 * "ready". Then it waits for the child (reaping it, as a real server does),
 * prints "child_gone signal=N" (or "exit=N") and sleeps until killed.
 * Nothing is sent on the connections: the server sees idle clients.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_conns(const struct addrinfo *ai, long n)
{
    for (long i = 0; i < n; i++) {
        int fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            perror("hold_client: connect");
            return -1;
        }
        /* fd deliberately kept open */
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6 || (argc == 6 && strcmp(argv[5], "late") != 0)) {
        fprintf(stderr, "usage: %s HOST PORT PARENT_CONNS CHILD_CONNS [late]\n", argv[0]);
        return 2;
    }
    int late = argc == 6;
    long parent_conns = strtol(argv[3], NULL, 10);
    long child_conns = strtol(argv[4], NULL, 10);
    signal(SIGPIPE, SIG_IGN);

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "hold_client: %s:%s: %s\n", argv[1], argv[2], gai_strerror(rc));
        return 2;
    }

    if (!late) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s >= 0)
            close(s);
    }

    int ready_pipe[2];
    if (pipe(ready_pipe) < 0) {
        perror("hold_client: pipe");
        return 2;
    }
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("hold_client: fork");
        return 2;
    }
    if (child == 0) {
        close(ready_pipe[0]);
        char c = open_conns(ai, child_conns) == 0 ? 'y' : 'n';
        if (write(ready_pipe[1], &c, 1) != 1)
            _exit(1);
        close(ready_pipe[1]);
        for (;;)
            pause();
    }
    close(ready_pipe[1]);
    printf("child %ld\n", (long)child);
    fflush(stdout);

    if (open_conns(ai, parent_conns) < 0)
        return 1;
    char c = 0;
    ssize_t r;
    do
        r = read(ready_pipe[0], &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1 || c != 'y') {
        fprintf(stderr, "hold_client: child could not connect\n");
        kill(child, SIGKILL);
        return 1;
    }
    close(ready_pipe[0]);
    printf("ready\n");
    fflush(stdout);

    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status))
        printf("child_gone signal=%d\n", WTERMSIG(status));
    else
        printf("child_gone exit=%d\n", WEXITSTATUS(status));
    fflush(stdout);
    for (;;)
        pause();
}
