/*
 * The real MMU's state, shared by its files (mmu_real.c: create, protect,
 * the handler thread; fault_dispatch.c: the signal handlers and the
 * per-thread registrations).  Internal to lib/mmu.
 */
#ifndef DLBENCH_MMU_INTERNAL_H
#define DLBENCH_MMU_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "lib/mmu/mmu_real.h"

/* A registration for the thread delivery: faults of thread @tid go to
 * fn(arg, page) on the handler thread. */
struct mmu_wp_reg {
	pid_t tid;
	mmu_wp_fault_fn fn;
	void *arg;
};

struct mmu_wp {
	uint8_t *base;
	uint64_t bytes;
	uint64_t npages;
	size_t page_size;
	unsigned page_shift;
	enum mmu_wp_mechanism mechanism; /* never MMU_WP_AUTO */
	enum mmu_wp_delivery delivery;
	int uffd; /* -1 under mprotect */
	char name[24];
	char fallback[256]; /* why auto took mprotect, or "" */

	/* thread delivery */
	pthread_t handler;
	int handler_started;
	int stop_fd;		   /* eventfd: the handler thread exits */
	pthread_mutex_t regs_lock; /* regs, nregs, regs_cap */
	struct mmu_wp_reg *regs;
	size_t nregs, regs_cap;
	atomic_uint_fast64_t unregistered;
	void (*handler_init)(void *arg);
	void (*handler_fini)(void *arg);
	void *handler_arg;

	/* harvester side */
	atomic_uint_fast64_t protect_calls;
};

/* The system's page size (4096 if sysconf cannot say). */
size_t mmu_page_size(void);

/* 0 if [@base, @base + @bytes) is whole pages of @ps, page aligned, and not
 * empty; else -EINVAL with "@who: the range must be whole pages, page
 * aligned" in @err.  For every creator of a tracked range. */
int mmu_check_range(const char *who, const void *base, uint64_t bytes, size_t ps, char *err,
		    size_t errlen);

/* The test hook of mmu_wp_probe and uffd_async_probe: with
 * DLBENCH_MMU_NO_UFFD set, -EOPNOTSUPP with "@prefix" + "userfaultfd
 * write-protect turned off by DLBENCH_MMU_NO_UFFD (a test hook)" in @why;
 * else 0. */
int mmu_uffd_turned_off(const char *prefix, char *why, size_t len);

/* The fault floors' memory (fault_floor.c): @bytes anonymous, without
 * transparent huge pages (one fault per 4 KiB page), or MAP_FAILED. */
uint8_t *mmu_floor_map(size_t bytes);
/* The timed part of a fault floor's round: one store to each of @npages
 * pages of @ps bytes at @mem; ns per store. */
double mmu_floor_stores(uint8_t *mem, uint32_t npages, size_t ps);

/* The signal the mechanism's faults arrive with: SIGBUS or SIGSEGV. */
int mmu_wp_fault_signal(const struct mmu_wp *wp);

/* Installs the process's handler for @sig once (fault_dispatch.c). */
int mmu_fault_handler_install(int sig, char *err, size_t errlen);

/* Thread-delivery registrations (fault_dispatch.c). */
int mmu_wp_reg_add(struct mmu_wp *wp, pid_t tid, mmu_wp_fault_fn fn, void *arg);
void mmu_wp_reg_remove(struct mmu_wp *wp, pid_t tid);
/* fn and arg of @tid's registration; 0 if found, -ENOENT if not. */
int mmu_wp_reg_find(struct mmu_wp *wp, pid_t tid, mmu_wp_fault_fn *fn, void **arg);

#endif
