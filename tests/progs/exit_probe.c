/*
 * exit_probe MODE MS - a program that exits while its probe runs.
 *
 * Registers the probe "slow" and starts the scheduler at 1 s. On its first
 * run the probe writes "probe start", then:
 *   MODE wait: sleeps MS ms, sets the gauge exit_probe_done to 42 and
 *              writes "probe end";
 *   MODE self: calls exit(3) itself (the exit path runs on promshim's
 *              thread, inside the probe run).
 * Main waits for "probe start", writes "exit" and calls exit(0). Every line
 * goes out with write(2), unbuffered, so their order on stdout is the order
 * things happened in. A probe run that starts after that writes "probe
 * again". Needs the shim (exits 2 without it).
 */
#define PROMSHIM_WEAK
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim/promshim.h"

static promshim_metric *done;
static int self, ms;
static int started; /* __atomic: the probe has begun */

static void say(const char *s)
{
    ssize_t r = write(1, s, strlen(s));
    (void)r;
}

static void sleep_ms(int n)
{
    struct timespec t = {n / 1000, (long)(n % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
}

/* the probe: see the header */
static int slow_probe(void *arg)
{
    if (__atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL)) {
        say("probe again\n");
        return 0;
    }
    say("probe start\n");
    if (self)
        exit(3);
    sleep_ms(ms);
    promshim_set(done, NULL, 42);
    say("probe end\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "wait") && strcmp(argv[1], "self"))) {
        say("usage: exit_probe wait|self MS\n");
        return 2;
    }
    self = !strcmp(argv[1], "self");
    ms = atoi(argv[2]);
    if (!promshim_gauge)
        return 2;
    done = promshim_gauge("exit_probe_done", "Set by the probe as its run ends.", NULL);
    if (!done || promshim_register_probe("slow", slow_probe, NULL) != 0 || promshim_start_scheduler(1) != 0)
        return 2;
    for (int i = 0; i < 10000 && !__atomic_load_n(&started, __ATOMIC_ACQUIRE); i++)
        sleep_ms(1);
    if (self) {
        sleep_ms(10000); /* the probe exits */
        return 1;
    }
    say("exit\n");
    exit(0);
}
