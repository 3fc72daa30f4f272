/*
 * daemon_server PORT PIDFILE [REPLY_LEN]
 *
 * A classic daemon: the parent makes the listening socket on 127.0.0.1:PORT,
 * forks, writes the child's pid to PIDFILE and exits at once. The child
 * (setsid, stdin on /dev/null) serves until killed, one connection at a
 * time: read until it has 64 bytes or EOF; when it got any, send REPLY_LEN
 * bytes (default 1000); close. Under promshim the exporter starts in the
 * parent (its socket call) and must keep answering from the child.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_LEN 64

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s PORT PIDFILE [REPLY_LEN]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    const char *pidfile = argv[2];
    long reply_len = argc == 4 ? strtol(argv[3], NULL, 10) : 1000;
    if (reply_len < 0 || reply_len > 1 << 20)
        return 2;
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0) {
        perror("daemon_server: socket");
        return 1;
    }
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, 128) < 0) {
        perror("daemon_server: bind/listen");
        return 1;
    }

    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("daemon_server: fork");
        return 1;
    }
    if (child > 0) {
        FILE *f = fopen(pidfile, "w");
        if (!f) {
            perror("daemon_server: pidfile");
            kill(child, SIGKILL);
            return 1;
        }
        fprintf(f, "%ld\n", (long)child);
        fclose(f);
        return 0;
    }

    setsid();
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    char *reply = malloc((size_t)reply_len + 1);
    if (!reply)
        return 1;
    memset(reply, 'd', (size_t)reply_len);
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("daemon_server: accept");
            return 1;
        }
        char buf[REQ_LEN];
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t r = recv(c, buf + got, sizeof buf - got, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        size_t off = 0;
        while (got > 0 && off < (size_t)reply_len) {
            ssize_t w = send(c, reply + off, (size_t)reply_len - off, 0);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                break;
            off += (size_t)w;
        }
        close(c);
    }
}
