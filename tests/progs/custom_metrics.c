/*
 * custom_metrics [SECONDS] - a program with its own business metrics,
 * through promshim's API declared weak: the same binary runs with and
 * without the shim (it prints "promshim: absent" then and exits 0).
 *
 * Defines shop_orders_total{kind} (counter), shop_queue_depth (gauge, kept
 * by a probe that counts its runs), shop_latency_seconds (histogram), makes
 * known updates, starts the scheduler at 1 s and lives SECONDS (default 5).
 */
#define PROMSHIM_WEAK
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim/promshim.h"

static promshim_metric *depth;
static int runs;

/* the probe: the queue depth gauge is the number of probe runs so far */
static int depth_probe(void *arg)
{
    runs++;
    return promshim_set(depth, NULL, runs);
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 5;
    if (!promshim_counter) {
        printf("promshim: absent\n");
        return 0;
    }
    static const char *const kind[] = {"kind", NULL};
    promshim_metric *orders = promshim_counter("shop_orders_total", "Orders taken, by kind.", kind);
    depth = promshim_gauge("shop_queue_depth", "Orders waiting.", NULL);
    static const double b[] = {0.1, 0.5, 1};
    promshim_metric *lat = promshim_histogram("shop_latency_seconds", "Order latency.", NULL, b, 3);
    if (!orders || !depth || !lat) {
        perror("custom_metrics: define");
        return 1;
    }
    const char *const book[] = {"book"}, *const pen[] = {"pen \"blue\""};
    promshim_inc(orders, book, 1);
    promshim_inc(orders, book, 2);
    promshim_inc(orders, pen, 0.5);
    promshim_observe(lat, NULL, 0.25);
    promshim_observe(lat, NULL, 2);
    if (promshim_inc(orders, book, -1) == 0 || promshim_counter("bad name!", "", NULL) != NULL) {
        fprintf(stderr, "custom_metrics: a bad call was accepted\n");
        return 1;
    }
    if (promshim_register_probe("queue", depth_probe, NULL) != 0 || promshim_start_scheduler(1) != 0) {
        perror("custom_metrics: scheduler");
        return 1;
    }
    printf("promshim: present\n");
    fflush(stdout);
    sleep((unsigned)seconds);
    return 0;
}
