/*
 * mt_client HOST PORT THREADS PER_THREAD
 *
 * THREADS threads, each making PER_THREAD blocking TCP connections to
 * HOST:PORT, each connection only connect + close (no payload). Prints
 *
 *   connections=THREADS*PER_THREAD ok=K errors=E
 *
 * and exits 0 when every connect succeeded, 1 otherwise (2: usage).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct addrinfo *target;
static long per_thread;
static long ok_total, err_total;

static void *worker(void *arg)
{
    long ok = 0, err = 0;
    for (long i = 0; i < per_thread; i++) {
        int fd = socket(target->ai_family, SOCK_STREAM, 0);
        if (fd < 0) {
            err++;
            continue;
        }
        if (connect(fd, target->ai_addr, target->ai_addrlen) == 0)
            ok++;
        else
            err++;
        close(fd);
    }
    __atomic_add_fetch(&ok_total, ok, __ATOMIC_RELAXED);
    __atomic_add_fetch(&err_total, err, __ATOMIC_RELAXED);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT THREADS PER_THREAD\n", argv[0]);
        return 2;
    }
    long threads = strtol(argv[3], NULL, 10);
    per_thread = strtol(argv[4], NULL, 10);
    if (threads < 1 || threads > 1024 || per_thread < 0) {
        fprintf(stderr, "mt_client: bad THREADS or PER_THREAD\n");
        return 2;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &target);
    if (rc != 0) {
        fprintf(stderr, "mt_client: %s:%s: %s\n", argv[1], argv[2], gai_strerror(rc));
        return 2;
    }
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (!tids)
        return 2;
    for (long i = 0; i < threads; i++) {
        rc = pthread_create(&tids[i], NULL, worker, NULL);
        if (rc != 0) {
            fprintf(stderr, "mt_client: pthread_create: %s\n", strerror(rc));
            return 2;
        }
    }
    for (long i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    freeaddrinfo(target);
    printf("connections=%ld ok=%ld errors=%ld\n", threads * per_thread, ok_total, err_total);
    return err_total ? 1 : 0;
}
