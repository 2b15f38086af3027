/*
 * Groups of pinned threads (vCPUs, SRCU readers) that start together.
 * Each thread pins itself to its CPU with hwloc before the group starts, so
 * a pinning failure is reported (which thread, which CPU, why) and nothing
 * runs unpinned.
 */
#ifndef DLBENCH_WORKERS_H
#define DLBENCH_WORKERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct workers;

struct worker {
	int index; /* 0..n-1 */
	int cpu;   /* OS CPU it is pinned to, -1 for unpinned */
	void *arg; /* the group's argument */
	struct workers *group;
	pthread_t thread;
	int pin_error; /* -errno from pinning, 0 if pinned */
};

struct workers {
	int n;
	struct worker *w;
	void (*fn)(struct worker *w);
	/* start-up handshake: threads count themselves ready, then wait for go
	 * (a condition variable rather than a barrier, so that a group whose
	 * creation failed half-way can still release the threads it has) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;
	bool go, aborted;
	uint64_t start_ns; /* set by workers_go */
};

/* Creates @n threads pinned to @cpus[i] (NULL: unpinned), each to run
 * @fn(worker) once workers_go() is called.  Returns 0 with every thread
 * pinned and waiting; on failure writes one line to stderr naming the
 * thread and CPU, joins the threads and returns -1. */
int workers_start(struct workers *g, int n, const int *cpus, void (*fn)(struct worker *w),
		  void *arg, const char *what);
/* Releases the threads. */
void workers_go(struct workers *g);
/* Joins the threads and frees the group. */
void workers_join(struct workers *g);

#endif
