/*
 * mprotect: the garbage collector's write barrier, Linux's oldest way for
 * userspace to learn which pages it wrote.  At a harvest the whole heap
 * (each slot) becomes PROT_READ in one mprotect call; a write faults with
 * SIGSEGV in the writing thread, whose handler makes the page writable
 * again (mprotect of the page) and records it in a bitmap; get_log takes
 * the bitmap word by word with xchg.  Each page made writable inside a
 * protected range can split the mapping, so a slot of N pages may need N
 * mappings: creation refuses, with one line, before vm.max_map_count
 * would be passed.  See linux_wp.h (the orders, and what --fault-path
 * means here).
 */
#include <stdio.h>

#include "lib/dirty_log/linux_wp.h"
#include "lib/mmu/linux_dirty.h"

static int mprotect_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct linux_wp *w = log->priv;

	w->protect_slots = true;
	return linux_wp_init(log, err, errlen);
}

static int mprotect_probe(const struct dirty_log *log, char *why, size_t len)
{
	(void)log;
	return linux_dirty_probe(LINUX_DIRTY_MPROTECT, why, len);
}

const struct dirty_log_ops dirty_log_mprotect_ops = {
	.name = "mprotect",
	.summary = "Linux: a GC write barrier; PROT_READ over each slot at a harvest, SIGSEGV "
		   "un-protects the page and marks a bitmap, get_log takes it with xchg (real MMU "
		   "only)",
	.mmu = DIRTY_LOG_MMU_MPROTECT,
	.priv_size = sizeof(struct linux_wp),
	.probe = mprotect_probe,
	.init = mprotect_init,
	.destroy = linux_wp_destroy,
	.enable = linux_wp_enable,
	.mark_dirty = linux_wp_no_mark,
	.handle_fault = linux_wp_fault,
	.get_log = linux_wp_get_log,
};
