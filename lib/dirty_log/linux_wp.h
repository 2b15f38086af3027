/*
 * What the two Linux strategies with a fault handler share
 * (lib/dirty_log/uffd_wp.c, lib/dirty_log/mprotect.c): userspace without
 * KVM tracking writes with write protection of its own memory.  Internal to
 * lib/dirty_log.  The two kernel markers (soft_dirty.c, uffd_wp_async.c)
 * take linux_wp_no_mark and linux_wp_set_run from here too.
 *
 * The state is one bitmap over the VM's pages (no memslots: the Linux MM
 * has none; the VM's memory is one range).  A write to a protected page
 * faults; the handler (linux_wp_fault) un-protects the page, then sets its
 * bit.  get_log takes the bitmap word by word with xchg and protects what
 * it took: the runs of taken pages (uffd-wp, one UFFDIO_WRITEPROTECT per
 * run, as CRIU and postcopy do), or every page of each slot in one call
 * (mprotect: a garbage collector's PROT_READ of its heap at the start of a
 * cycle).
 *
 * The fault path (vm_options.fault_path):
 *   locked  the handler's un-protect and mark, and the harvester's take and
 *           protect, each under the VM's mmu_lock: one lock orders them;
 *   fast    no lock: the handler un-protects BEFORE it marks.  A harvest
 *           that takes the bit then protects after the un-protect, so the
 *           page ends protected; a bit set after the harvest's xchg stays
 *           for the next harvest, with its page writable until then.
 *           Marking first would let a harvest take the bit and protect,
 *           and the un-protect that follows would leave the page writable
 *           with no bit: its writes lost.
 */
#ifndef DLBENCH_DIRTY_LOG_LINUX_WP_H
#define DLBENCH_DIRTY_LOG_LINUX_WP_H

#include "lib/dirty_log/dirty_log.h"

struct linux_wp {
	atomic_ulong *bitmap; /* one bit per gfn of the VM */
	bool protect_slots;   /* mprotect: protect whole slots at a harvest */
};

int linux_wp_init(struct dirty_log *log, char *err, size_t errlen);
void linux_wp_destroy(struct dirty_log *log);
/* Logging on again: every page clean (the VM protects them all). */
void linux_wp_enable(struct dirty_log *log);
void linux_wp_fault(struct dirty_log *log, struct vcpu *v, uint64_t gfn);
int linux_wp_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags);
/* The marker is never the spte fault path: the VM calls handle_fault (or,
 * for a kernel marker, no handler runs at all). */
void linux_wp_no_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot, uint64_t rel);
/* A linux_dirty_run_fn for the kernel markers' get_log: sets the bits of
 * pages [first, first + npages) in the plain bitmap @arg. */
void linux_wp_set_run(void *arg, uint64_t first, uint64_t npages);

#endif
