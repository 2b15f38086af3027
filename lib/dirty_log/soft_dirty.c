/*
 * soft-dirty: CONFIG_MEM_SOFT_DIRTY, as CRIU's iterative pre-dump uses it.
 * The kernel is the marker: writing "4" to /proc/self/clear_refs clears the
 * soft-dirty bit of every page of the process and write-protects them, and
 * the kernel sets the bit again at the next write (a fault resolved in the
 * kernel); bit 55 of each /proc/self/pagemap entry reads it.
 *
 * Reading and clearing are two steps over the whole process, so a write
 * between them would be lost: get_log stops the vCPUs around the pair
 * (vm_pause_vcpus: each leaves guest mode at its next exit point, as CRIU
 * freezes the task), reads pagemap, clears, and lets them go.  The pause
 * is part of the harvest's cost here, and of the vCPUs' stall
 * (vcpu_pause_wait records it).
 *
 * On a kernel without it the probe says why, in one line; `all` skips the
 * strategy and naming it fails with that line.  No handler runs, so
 * --fault-path and --fault-delivery do not apply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/dirty_log/linux_wp.h"
#include "lib/mmu/linux_dirty.h"
#include "lib/vm/vm.h"

struct soft_dirty_log {
	struct soft_dirty *sd;
};

static int sd_probe(const struct dirty_log *log, char *why, size_t len)
{
	(void)log;
	return soft_dirty_probe(why, len);
}

static int sd_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct soft_dirty_log *d = log->priv;
	struct vm *vm = log->vm;
	int rc;

	d->sd = soft_dirty_create(vm->guest_base, vm->npages << PAGE_SHIFT, err, errlen);
	if (!d->sd)
		return -EOPNOTSUPP;
	/* every page clean: a new mapping starts soft-dirty */
	if ((rc = soft_dirty_clear(d->sd)))
		snprintf(err, errlen, "soft-dirty: clear_refs: %s", strerror(-rc));
	return rc;
}

static void sd_destroy(struct dirty_log *log)
{
	struct soft_dirty_log *d = log->priv;

	soft_dirty_destroy(d->sd);
	d->sd = NULL;
}

static void sd_enable(struct dirty_log *log)
{
	struct soft_dirty_log *d = log->priv;

	vm_mmu_error(log->vm, soft_dirty_clear(d->sd));
}

/* Read, then clear, with every vCPU out of guest mode in between. */
static int sd_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct soft_dirty_log *d = log->priv;
	struct vm *vm = log->vm;
	int64_t n;
	int rc = 0;

	(void)flags;
	memset(dirty, 0, bitmap_words(vm->npages) * sizeof(*dirty));
	vm_pause_vcpus(vm);
	n = soft_dirty_scan(d->sd, 0, vm->npages, linux_wp_set_run, dirty);
	vm_test_delay(vm->delay.harvest_ns);
	if (n >= 0)
		rc = soft_dirty_clear(d->sd);
	vm_resume_vcpus(vm);
	return n < 0 ? (int)n : rc;
}

/* The harvest floor: make the pages soft-dirty again (a store of what they
 * hold), then the bare clear_refs. */
static void sd_floor_reset(struct dirty_log *log, const unsigned long *dirty)
{
	struct vm *vm = log->vm;

	for (uint64_t p = 0; p < vm->npages; p++)
		if (bitmap_test(dirty, p)) {
			_Atomic uint64_t *w = guest_word(vm->guest_base + (p << PAGE_SHIFT));

			/* relaxed: the vCPU is idle (the harvest workload's) */
			atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed),
					      memory_order_relaxed);
		}
}

static int sd_floor_pass(struct dirty_log *log, const unsigned long *dirty)
{
	struct soft_dirty_log *d = log->priv;

	(void)dirty;
	return soft_dirty_clear(d->sd);
}

static int sd_fault_floor(const struct dirty_log *log, double *ns, char *err, size_t errlen)
{
	(void)log;
	return linux_dirty_fault_floor(LINUX_DIRTY_SOFT_DIRTY, MMU_FAULT_FLOOR_PAGES,
				       MMU_FAULT_FLOOR_FAULTS, ns, err, errlen);
}

const struct dirty_log_ops dirty_log_soft_dirty_ops = {
	.name = "soft-dirty",
	.summary = "Linux: CONFIG_MEM_SOFT_DIRTY; the kernel marks, get_log pauses the vCPUs, "
		   "reads pagemap bit 55, clears with clear_refs (real MMU only; no handler: "
		   "--fault-path does not apply)",
	.mmu = DIRTY_LOG_MMU_KERNEL,
	.priv_size = sizeof(struct soft_dirty_log),
	.probe = sd_probe,
	.init = sd_init,
	.destroy = sd_destroy,
	.enable = sd_enable,
	.mark_dirty = linux_wp_no_mark,
	.get_log = sd_get_log,
	.floor_reset = sd_floor_reset,
	.floor_pass = sd_floor_pass,
	.fault_floor = sd_fault_floor,
};
