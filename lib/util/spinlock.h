/*
 * A test-and-test-and-set spinlock: the emulation of KVM's mmu_lock.
 *
 * Threads may outnumber CPUs (overcommitted vCPUs), so a waiter that has
 * spun for a while yields its CPU: the holder may be preempted and need it.
 */
#ifndef DLBENCH_SPINLOCK_H
#define DLBENCH_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>

#include "lib/util/timing.h"

struct spinlock {
	atomic_int locked;
};

#define SPINLOCK_SPINS_BEFORE_YIELD 512u

static inline void spinlock_init(struct spinlock *l)
{
	atomic_store_explicit(&l->locked, 0, memory_order_relaxed);
}

static inline void spinlock_lock(struct spinlock *l)
{
	unsigned spins = 0;

	/* acquire: pairs with the release in spinlock_unlock, so the previous
	 * holder's critical section happens before ours */
	while (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire)) {
		/* relaxed: only says when to retry; the exchange acquires */
		while (atomic_load_explicit(&l->locked, memory_order_relaxed)) {
			if (++spins < SPINLOCK_SPINS_BEFORE_YIELD) {
				cpu_relax();
			} else {
				sched_yield();
				spins = 0;
			}
		}
	}
}

static inline void spinlock_unlock(struct spinlock *l)
{
	/* release: the critical section happens before the next owner's
	 * acquiring exchange */
	atomic_store_explicit(&l->locked, 0, memory_order_release);
}

#endif
