/*
 * Linux's own dirty tracking, as building blocks: how userspace without
 * KVM asks the kernel's MM "which pages were written since I last looked".
 * The dirty-log strategies built on them come later; this file only
 * drives the kernel mechanisms and says whether the kernel offers them.
 *
 *   uffd-wp        synchronous userfaultfd write-protect: the real MMU of
 *                  lib/mmu/mmu_real.h (MMU_WP_UFFD, signal or thread
 *                  delivery); the fault handler records the page and
 *                  un-protects it (QEMU postcopy, CRIU lazy pages).
 *   uffd-wp-async  UFFD_FEATURE_WP_ASYNC (Linux 6.7): the kernel resolves
 *                  write-protect faults itself, without a message or a
 *                  signal, and leaves the page "written"; one PAGEMAP_SCAN
 *                  ioctl on /proc/self/pagemap returns the written runs and
 *                  write-protects them again in the same page-table walk
 *                  (PM_SCAN_WP_MATCHING), so no write between the report
 *                  and the re-protection is lost.  Built for Wine's
 *                  GetWriteWatch.
 *   soft-dirty     CONFIG_MEM_SOFT_DIRTY: writing "4" to
 *                  /proc/self/clear_refs clears the soft-dirty bit of every
 *                  page of the process (and write-protects them so that
 *                  the next write sets it again); bit 55 of each
 *                  /proc/self/pagemap entry reads it (CRIU's iterative
 *                  pre-dump).  Reading and clearing are two steps over the
 *                  whole process: a write between them is lost, so a
 *                  harvester must stop the writers around the pair (CRIU
 *                  freezes the task).
 *   mprotect       PROT_READ and SIGSEGV: the real MMU's MMU_WP_MPROTECT
 *                  (a garbage collector's write barrier).
 *
 * Errors: 0 or -errno, one line in @err/@why; lib never prints.
 */
#ifndef DLBENCH_MMU_LINUX_DIRTY_H
#define DLBENCH_MMU_LINUX_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* clang-format off */
enum linux_dirty_mechanism {
	LINUX_DIRTY_UFFD_WP,
	LINUX_DIRTY_UFFD_WP_ASYNC,
	LINUX_DIRTY_SOFT_DIRTY,
	LINUX_DIRTY_MPROTECT,
};
/* clang-format on */

/* NULL-terminated, indexed by enum linux_dirty_mechanism: "uffd-wp",
 * "uffd-wp-async", "soft-dirty", "mprotect". */
extern const char *const linux_dirty_mechanism_names[];

/*
 * Whether this kernel offers @m to this process: 0, or -errno with one
 * line in @why beginning "not supported by this kernel: " (for meta.json,
 * and for `all` to skip the strategy with a notice).  Each probe tries
 * the mechanism for real on a page of its own where it can (a write, then
 * a look at what the kernel reports), not only the feature bits.
 */
int linux_dirty_probe(enum linux_dirty_mechanism m, char *why, size_t len);

/* Called with each run of written pages: @npages pages from page @first
 * (page numbers relative to the range's base). */
typedef void (*linux_dirty_run_fn)(void *arg, uint64_t first, uint64_t npages);

/* ---- uffd-wp async ---- */

struct uffd_async_options {
	/* UFFD_FEATURE_WP_UNPOPULATED: pages never touched are tracked by
	 * pte markers, and the range is not faulted in at create.  Without
	 * it the range is populated (MADV_POPULATE_WRITE) before it is
	 * protected, so that the first write to a page is a tracked one.
	 * (Linux 6.7 turns WP_UNPOPULATED on with WP_ASYNC in any case; the
	 * option decides whether create touches the memory.) */
	bool unpopulated;
	/* page_region entries per PAGEMAP_SCAN call; 0: 4096 */
	size_t max_regions;
};

struct uffd_async;

/* Registers [base, base + bytes) (page aligned, anonymous or shmem) for
 * async write-protect and protects all of it: every page starts clean.
 * NULL with one line in @err. */
struct uffd_async *uffd_async_create(void *base, uint64_t bytes, const struct uffd_async_options *o,
				     char *err, size_t errlen);
void uffd_async_destroy(struct uffd_async *ua);
uint64_t uffd_async_npages(const struct uffd_async *ua);

/* Write-protects [first, first + npages): those pages are clean again
 * (a clear-log style re-protection of a range). */
int uffd_async_protect(struct uffd_async *ua, uint64_t first, uint64_t npages);
/* Un-protects [first, first + npages): those pages read as written (and
 * writes to them are not tracked) until protected again. */
int uffd_async_unprotect(struct uffd_async *ua, uint64_t first, uint64_t npages);

/*
 * PAGEMAP_SCAN over [first, first + npages) with PM_SCAN_CHECK_WPASYNC and
 * the PAGE_IS_WRITTEN category: calls fn(arg, run_first, run_npages) for
 * each run of written pages, in address order; with @reprotect
 * (PM_SCAN_WP_MATCHING) the kernel write-protects exactly the pages it
 * reports in the same walk.  One ioctl per max_regions runs.  Returns the
 * number of written pages, or -errno.
 */
int64_t uffd_async_scan(struct uffd_async *ua, uint64_t first, uint64_t npages, bool reprotect,
			linux_dirty_run_fn fn, void *arg);
/* How many PAGEMAP_SCAN ioctls the scans so far have made. */
uint64_t uffd_async_ioctls(const struct uffd_async *ua);

/* Whether async uffd-wp (and, with @unpopulated, WP_UNPOPULATED) and
 * PAGEMAP_SCAN work here: 0 or -errno with "not supported by this
 * kernel: ...". */
int uffd_async_probe(bool unpopulated, char *why, size_t len);

/* ---- soft-dirty ---- */

struct soft_dirty;

/* Opens /proc/self/pagemap and clear_refs for [base, base + bytes); fails
 * with -EOPNOTSUPP and soft_dirty_probe's reason where the kernel has no
 * soft-dirty. */
struct soft_dirty *soft_dirty_create(void *base, uint64_t bytes, char *err, size_t errlen);
void soft_dirty_destroy(struct soft_dirty *sd);

/* echo 4 > /proc/self/clear_refs: every page of the PROCESS is clean. */
int soft_dirty_clear(struct soft_dirty *sd);

/* Reads pagemap bit 55 of [first, first + npages): fn for each run of
 * soft-dirty pages.  Number of soft-dirty pages, or -errno. */
int64_t soft_dirty_scan(struct soft_dirty *sd, uint64_t first, uint64_t npages,
			linux_dirty_run_fn fn, void *arg);

/*
 * Whether soft-dirty works here.  A new anonymous mapping is soft-dirty
 * where the kernel tracks it (VM_SOFTDIRTY), so the probe maps a page,
 * writes it and reads bit 55: never set means CONFIG_MEM_SOFT_DIRTY is
 * off (the kernel's config, where /boot/config-RELEASE is readable, is
 * quoted too).  It does not clear anything.
 */
int soft_dirty_probe(char *why, size_t len);

/* ---- fault floors of the kernel markers ---- */

/*
 * The fault floor of a mechanism whose marker is the kernel
 * (LINUX_DIRTY_UFFD_WP_ASYNC, LINUX_DIRTY_SOFT_DIRTY): a bare loop that
 * stores once to each of @npages write-protected pages of its own (the
 * kernel resolves each write fault and records the page; nothing runs in
 * userspace), re-protecting them between rounds (untimed: one
 * UFFDIO_WRITEPROTECT, or clear_refs), until @nfaults stores; the median
 * over the rounds of time / stores.  The counterpart of mmu_fault_floor
 * (lib/mmu/mmu_real.h) for uffd-wp and mprotect.  0, or -errno with one
 * line in @err (the mechanism is missing: its probe's line).
 */
int linux_dirty_fault_floor(enum linux_dirty_mechanism m, uint32_t npages, uint32_t nfaults,
			    double *ns_per_fault, char *err, size_t errlen);

#endif
