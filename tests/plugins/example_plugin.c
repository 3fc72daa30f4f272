/*
 * example_plugin.so - a plugin for a program that cannot be changed at all:
 * PROMSHIM_PLUGINS=/path/example_plugin.so. Its init registers a probe that
 * publishes the 1-minute load average of the machine as a gauge.
 */
#include <stdio.h>

#include "shim/promshim.h"

static promshim_metric *load1;

/* load_probe: read /proc/loadavg */
static int load_probe(void *arg)
{
    double l = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%lf", &l) == 1;
    fclose(f);
    return ok ? promshim_set(load1, NULL, l) : -1;
}

int promshim_plugin_init(void)
{
    load1 = promshim_gauge("example_load1", "1-minute load average, from the example plugin.", NULL);
    if (!load1)
        return -1;
    return promshim_register_probe("example_load", load_probe, NULL);
}
