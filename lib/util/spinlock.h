/*
 * A test-and-test-and-set spinlock: the emulation of KVM's mmu_lock.
 *
 * Threads may outnumber CPUs (overcommitted vCPUs), so a waiter that has
 * spun for a while yields its CPU: the holder may be preempted and need it.
 */
#ifndef DLBENCH_SPINLOCK_H
#define DLBENCH_SPINLOCK_H

#include <sched.h>

#include "lib/util/timing.h"

struct spinlock {
	int locked;
};

#define SPINLOCK_SPINS_BEFORE_YIELD 512u

static inline void spinlock_init(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELAXED);
}

static inline void spinlock_lock(struct spinlock *l)
{
	unsigned spins = 0;

	/* acquire: pairs with the release in spinlock_unlock, so the previous
	 * holder's critical section happens before ours */
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		/* relaxed: only says when to retry; the exchange acquires */
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
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
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
