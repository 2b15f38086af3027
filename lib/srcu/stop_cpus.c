/*
 * classic's expedited sync_func, the stop-machine half: an emulation of
 * synchronize_sched_expedited of Linux 3.0-3.3 (kernel/sched.c), which
 * synchronize_srcu_expedited ran three times per grace period.
 *
 * What the kernel did: try_stop_cpus(cpu_online_mask, ...) queued a stop
 * work on every online CPU's stopper thread (kernel/stop_machine.c, one
 * per CPU, the highest priority there is), woke them all, and waited on a
 * completion until each had run its (empty) function and counted itself
 * done.  A stopper preempts whatever runs on its CPU, so every CPU passed
 * through a context switch, and every preempt-disabled section (a 2012
 * srcu_read_lock's counter increment among them) had ended.  If another
 * stop_cpus held the stopper mutex, try_stop_cpus returned -EAGAIN and
 * synchronize_sched_expedited retried, falling back to synchronize_sched
 * after ten failures.  Under a hypervisor every vCPU is made to run a
 * stopper, so each of the three costs the slowest vCPU's wake-up.
 *
 * What is emulated here: one stopper thread per CPU this process may run
 * on (topology_pick_cpus: the CPUs of its affinity mask, so a cgroup or a
 * taskset shrinks it where the kernel's would not), pinned there
 * (topology_pin_self) and SCHED_FIFO at the highest priority when
 * sched_setscheduler allows it, else at normal priority (recorded:
 * srcu_stop_cpus_fifo; the vCPU threads are then not preempted, only time
 * shared with).  A run bumps a generation word and wakes every stopper
 * with one FUTEX_WAKE; each runs a full fence, decrements a pending count,
 * and the last one wakes the caller, which sleeps on that count with
 * FUTEX_WAIT (a completion, as wait_for_completion).
 *
 * Why a futex and not a condition variable or eventfds: the kernel wakes
 * its stoppers without any lock they would then contend for, and the
 * caller sleeps until the last acknowledgement.  A condvar's waiters
 * re-take its mutex one after another on wake-up (a serialization the
 * kernel did not have); eventfds need one write(2) per CPU from the
 * caller.  One FUTEX_WAKE for all, and one for the caller, is closest.
 *
 * How it differs: the stoppers are threads of this process, one set per
 * domain (the kernel had one per CPU for everything, serialized by
 * stop_cpus_mutex: no -EAGAIN, no retry, no fallback here, since a
 * domain's grace periods are already serialized on its gp_mutex); they
 * preempt only threads of lower priority (other SCHED_FIFO threads, and
 * with normal priority nothing, are not preempted); and a vCPU thread
 * here is a thread, not a vCPU the host must schedule.  The cost it adds
 * is one wake-up, context switch and switch back per CPU, and the wait for
 * the slowest.
 *
 * Ordering: the domain does not rely on the stoppers.  srcu.c's sync_func
 * issues membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) first and then runs
 * the stoppers.  A stopper that ran on a CPU did order that CPU's earlier
 * accesses (the scheduler's full barrier at the context switch, then the
 * stopper's fence and its release of the pending count, which the caller
 * acquires), but only the accesses of a thread that ran on one of the
 * stoppers' CPUs: a reader thread moved by its own sched_setaffinity to a
 * CPU outside this process's initial mask, or one preempted and migrated
 * between the stopper's run and the caller's wake-up, is not covered the
 * way membarrier's kernel-side walk of the runqueues covers it.  So the
 * stop is cost, membarrier is the order, and removing the wait for a
 * stopper would change no outcome a test can see: it has no mutant.
 */
#include "lib/srcu/stop_cpus.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util/topology.h"

struct srcu_stopper {
	pthread_t thread;
	int cpu;
	struct srcu_stop_cpus *set;
};

struct srcu_stop_cpus {
	/* bumped by each run (and by destroy): the stoppers sleep on it */
	_Alignas(64) _Atomic uint32_t gen;
	/* stoppers still to acknowledge: the caller sleeps on it */
	_Alignas(64) _Atomic uint32_t pending;
	_Atomic uint32_t stop;
	_Atomic uint32_t fifo; /* stoppers that got SCHED_FIFO */
	int n;
	struct srcu_stopper *t;
};

/* The futex calls only sleep and wake: the atomics around them carry the
 * order (a waiter re-loads the word with acquire after each wake-up). */
static void futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
	/* EAGAIN (the word moved), EINTR: the callers re-check and loop */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* A stopper is done with this run (or with starting up). */
static void stopper_ack(struct srcu_stop_cpus *s)
{
	/* release: the caller's acquire load of pending (srcu_stop_cpus_wait)
	 * sees this stopper's fence before it returns; the RMWs form a release
	 * sequence, so the acquire half orders nothing the caller needs (on
	 * x86 the same locked instruction either way) */
	if (atomic_fetch_sub_explicit(&s->pending, 1, memory_order_acq_rel) == 1)
		futex_wake(&s->pending, 1);
}

static void stopper_priority(struct srcu_stop_cpus *s)
{
	struct sched_param p = { .sched_priority = sched_get_priority_max(SCHED_FIFO) };

	/* as the kernel's stopper: above everything; refused without
	 * CAP_SYS_NICE or an RLIMIT_RTPRIO: normal priority, and said */
	if (p.sched_priority > 0 && !pthread_setschedparam(pthread_self(), SCHED_FIFO, &p))
		atomic_fetch_add_explicit(&s->fifo, 1, memory_order_relaxed);
}

static void *stopper_main(void *arg)
{
	struct srcu_stopper *t = arg;
	struct srcu_stop_cpus *s = t->set;
	uint32_t seen = 0, g; /* gen is 0 until every stopper started */

	topology_pin_self(t->cpu); /* best effort: the CPU came from the mask */
	stopper_priority(s);
	stopper_ack(s);
	for (;;) {
		/* acquire: pairs with the release bump of srcu_stop_cpus_run,
		 * after which pending is set */
		while ((g = atomic_load_explicit(&s->gen, memory_order_acquire)) == seen)
			futex_wait(&s->gen, seen);
		seen = g;
		/* relaxed: the acquire of gen above ordered it (stop_cpus_free) */
		if (atomic_load_explicit(&s->stop, memory_order_relaxed))
			break;
		/* the stopper's work: a full fence on this CPU */
		atomic_thread_fence(memory_order_seq_cst);
		stopper_ack(s);
	}
	return NULL;
}

/* Sleeps until every stopper has acknowledged. */
static void srcu_stop_cpus_wait(struct srcu_stop_cpus *s)
{
	uint32_t p;

	/* acquire: pairs with stopper_ack's release */
	while ((p = atomic_load_explicit(&s->pending, memory_order_acquire)) != 0)
		futex_wait(&s->pending, p);
}

void srcu_stop_cpus_run(struct srcu_stop_cpus *s)
{
	/* relaxed: published by the release bump of gen below */
	atomic_store_explicit(&s->pending, (uint32_t)s->n, memory_order_relaxed);
	/* release: a stopper that sees the new generation sees pending set */
	atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
	futex_wake(&s->gen, INT_MAX);
	srcu_stop_cpus_wait(s);
}

/* Stops and joins the first @started stoppers, frees @s. */
static void stop_cpus_free(struct srcu_stop_cpus *s, int started)
{
	atomic_store_explicit(&s->stop, 1, memory_order_relaxed);
	/* release: orders stop before the generation a stopper wakes on */
	atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
	futex_wake(&s->gen, INT_MAX);
	for (int i = 0; i < started; i++)
		pthread_join(s->t[i].thread, NULL);
	free(s->t);
	free(s);
}

static int stop_cpus_pick(struct srcu_stop_cpus *s, int **cpus, char *err, size_t errlen)
{
	int overcommit;
	char why[128];

	s->n = topology_cpu_count();
	if (s->n < 1)
		s->n = 1;
	*cpus = calloc((size_t)s->n, sizeof(**cpus));
	s->t = calloc((size_t)s->n, sizeof(*s->t));
	if (!*cpus || !s->t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (topology_pick_cpus(s->n, PLACEMENT_COMPACT, NULL, *cpus, &overcommit, why,
			       sizeof(why))) {
		snprintf(err, errlen, "its CPUs: %s", why);
		return -ENODEV;
	}
	return 0;
}

struct srcu_stop_cpus *srcu_stop_cpus_create(const char *name, char *err, size_t errlen)
{
	struct srcu_stop_cpus *s = calloc(1, sizeof(*s));
	int *cpus = NULL, started = 0, rc = -ENOMEM;
	char why[160] = "out of memory";

	if (s && !(rc = stop_cpus_pick(s, &cpus, why, sizeof(why)))) {
		/* each stopper acknowledges once running, pinned, prioritized */
		atomic_store_explicit(&s->pending, (uint32_t)s->n, memory_order_relaxed);
		for (; started < s->n; started++) {
			s->t[started] = (struct srcu_stopper){ .cpu = cpus[started], .set = s };
			rc = pthread_create(&s->t[started].thread, NULL, stopper_main,
					    &s->t[started]);
			if (rc) {
				snprintf(why, sizeof(why), "pthread_create: %s", strerror(rc));
				rc = -rc;
				break;
			}
		}
	}
	free(cpus);
	if (rc) {
		if (s && s->t)
			stop_cpus_free(s, started);
		else
			free(s);
		if (err && errlen)
			snprintf(err, errlen, "srcu: domain %s: stop-cpus stoppers: %s", name, why);
		return NULL;
	}
	srcu_stop_cpus_wait(s);
	return s;
}

void srcu_stop_cpus_destroy(struct srcu_stop_cpus *s)
{
	if (s)
		stop_cpus_free(s, s->n);
}

bool srcu_stop_cpus_fifo(const struct srcu_stop_cpus *s)
{
	/* relaxed: each stopper counted itself before its first ack, which
	 * srcu_stop_cpus_create's wait acquired */
	return atomic_load_explicit(&s->fifo, memory_order_relaxed) == (uint32_t)s->n;
}

int srcu_stop_cpus_count(const struct srcu_stop_cpus *s)
{
	return s->n;
}
