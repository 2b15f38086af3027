/*
 * classic's expedited stop-cpus (lib/srcu internal): one stopper thread per
 * CPU this process may run on, each pinned to its CPU, SCHED_FIFO when the
 * process may ask for it; srcu_stop_cpus_run wakes them all and waits until
 * every one has run.  The emulation of try_stop_cpus and what differs:
 * stop_cpus.c, at the top.
 */
#ifndef DLBENCH_SRCU_STOP_CPUS_H
#define DLBENCH_SRCU_STOP_CPUS_H

#include <stdbool.h>
#include <stddef.h>

struct srcu_stop_cpus;

/* Starts the stoppers and waits until each runs pinned (and at its final
 * priority); NULL with one line in @err on error. */
struct srcu_stop_cpus *srcu_stop_cpus_create(const char *name, char *err, size_t errlen);
/* Wakes every stopper; each runs a full fence and acknowledges; returns
 * once all have.  One caller at a time (classic: under gp_mutex). */
void srcu_stop_cpus_run(struct srcu_stop_cpus *s);
/* Stops and joins the stoppers, frees @s (NULL: nothing). */
void srcu_stop_cpus_destroy(struct srcu_stop_cpus *s);
/* true if every stopper runs SCHED_FIFO, false if they run at normal
 * priority (sched_setscheduler refused: no CAP_SYS_NICE, RLIMIT_RTPRIO). */
bool srcu_stop_cpus_fifo(const struct srcu_stop_cpus *s);
/* How many stoppers (CPUs) there are. */
int srcu_stop_cpus_count(const struct srcu_stop_cpus *s);

#endif
