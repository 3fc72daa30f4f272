/*
 * scheduler.h - the metric scheduler: probes run every collection interval
 * on promshim's own thread, each run timed and its failures counted.
 */
#ifndef SHIM_SCHEDULER_H
#define SHIM_SCHEDULER_H

#include <stdint.h>

#define SHIM_MAX_PROBES 64

typedef int (*shim_probe_fn)(void *arg);

/* shim_probe_add: register a probe (per process; a forked child inherits
 * the list). 0, -EINVAL or -ENOSPC. */
int shim_probe_add(const char *name, shim_probe_fn fn, void *arg);

/* shim_scheduler_tick: run the probes that are due at now_ns; returns the
 * time of the next run. Promshim's thread only. Runs nothing once
 * shim_scheduler_stop was called. */
uint64_t shim_scheduler_tick(uint64_t now_ns);

/* How long the exit path waits for a probe run in progress to end. */
#define SHIM_SCHEDULER_STOP_WAIT_MS 1000

/* shim_scheduler_stop: the process is exiting: no probe run starts from
 * now on, and one in progress on promshim's thread is waited for, at most
 * wait_ms (polled every millisecond; async-signal-safe). 0 when no run is
 * in progress (or the caller is that run: a probe that exits), -ETIMEDOUT
 * when one still is. */
int shim_scheduler_stop(unsigned wait_ms);

/* shim_scheduler_after_fork_child: the parent's thread, and any probe run
 * it was in, are not in the child: probes may run again */
void shim_scheduler_after_fork_child(void);

/* shim_scheduler_wanted: the program asked for the scheduler (it registered
 * probes or started it), so promshim's thread runs even without an exporter */
extern int shim_scheduler_wanted;
/* promshim_start_scheduler's interval (0: the configured one); __atomic
 * builtins: the thread may be running already */
extern unsigned shim_scheduler_interval_s;

/* built-in probes (probes/tcp.c) */
int shim_probe_tcp(void *arg);
int shim_probe_pools(void *arg);

#endif
