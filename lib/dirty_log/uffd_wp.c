/*
 * uffd-wp: synchronous userfaultfd write-protect, Linux's own dirty
 * tracking as userspace without KVM has it (QEMU's postcopy, CRIU's lazy
 * pages and its pre-dump).  The VM's pages are write-protected with
 * UFFDIO_WRITEPROTECT; a write faults, and the handler (SIGBUS in the
 * writing thread, or a handler thread reading the userfaultfd:
 * --fault-delivery) un-protects the page and records it in a bitmap;
 * get_log takes the bitmap word by word with xchg and write-protects the
 * runs of taken pages again, one UFFDIO_WRITEPROTECT per run (the kernel's
 * TLB shootdown in each).  No sptes, no memslots: see linux_wp.h (the
 * orders, and what --fault-path means here).
 */
#include <stdio.h>

#include "lib/dirty_log/linux_wp.h"
#include "lib/mmu/linux_dirty.h"

static int uffd_wp_probe(const struct dirty_log *log, char *why, size_t len)
{
	(void)log;
	return linux_dirty_probe(LINUX_DIRTY_UFFD_WP, why, len);
}

const struct dirty_log_ops dirty_log_uffd_wp_ops = {
	.name = "uffd-wp",
	.summary = "Linux: userfaultfd write-protect; the fault handler un-protects and marks a "
		   "bitmap, get_log takes it with xchg and re-protects the runs (real MMU only)",
	.mmu = DIRTY_LOG_MMU_UFFD,
	.priv_size = sizeof(struct linux_wp),
	.probe = uffd_wp_probe,
	.init = linux_wp_init,
	.destroy = linux_wp_destroy,
	.enable = linux_wp_enable,
	.mark_dirty = linux_wp_no_mark,
	.handle_fault = linux_wp_fault,
	.get_log = linux_wp_get_log,
};
