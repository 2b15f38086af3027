/*
 * The parts of the userfaultfd and pagemap ABI that the build machine's
 * kernel headers may predate (Debian 12 ships Linux 6.1 headers).  Each
 * constant and structure is defined here only when <linux/userfaultfd.h>
 * or <linux/fs.h> lacks it, so a newer system header always wins; the
 * values are the kernel's ABI and never change.  Whether the running
 * kernel offers a feature is a run-time question (the UFFDIO_API
 * handshake, an ENOTTY from PAGEMAP_SCAN), answered by the probes in
 * lib/mmu/mmu_real.h and lib/mmu/linux_dirty.h.
 */
#ifndef DLBENCH_MMU_UFFD_ABI_H
#define DLBENCH_MMU_UFFD_ABI_H

#include <linux/fs.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

/* userfaultfd(2) flag: handle user-mode faults only; allowed to processes
 * without CAP_SYS_PTRACE even with vm.unprivileged_userfaultfd=0
 * (Linux 5.11). */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* Write-protect of shmem and hugetlbfs ranges (Linux 5.19). */
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif

/* UFFDIO_WRITEPROTECT also marks page-table entries that are not
 * populated yet (pte markers), so that the first write to a never-touched
 * anonymous page is a write-protect fault (Linux 6.4). */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif

/* The kernel resolves write-protect faults itself, leaving the page
 * "written" for PAGEMAP_SCAN to report (Linux 6.7).  The kernel turns
 * UFFD_FEATURE_WP_UNPOPULATED on with it. */
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

/*
 * PAGEMAP_SCAN, an ioctl on /proc/PID/pagemap (Linux 6.7): walks a range
 * of the address space and returns runs of pages by category, optionally
 * write-protecting the matching pages (uffd-wp async) in the same walk.
 */
#ifndef PAGEMAP_SCAN

/* page categories (pm_scan_arg masks, page_region.categories) */
#define PAGE_IS_WPALLOWED (1 << 0) /* registered for async uffd-wp */
#define PAGE_IS_WRITTEN (1 << 1)   /* written since write-protected */
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)

/* pm_scan_arg.flags */
#define PM_SCAN_WP_MATCHING (1 << 0)   /* write-protect the pages reported */
#define PM_SCAN_CHECK_WPASYNC (1 << 1) /* fail on pages without async uffd-wp */

/* One run of pages [start, end) with the same categories. */
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;  /* sizeof(struct pm_scan_arg) */
	__u64 flags; /* PM_SCAN_* */
	__u64 start; /* range to walk */
	__u64 end;
	__u64 walk_end; /* out: where to go on when vec filled up */
	__u64 vec;	/* struct page_region[vec_len] */
	__u64 vec_len;
	__u64 max_pages; /* 0: no limit */
	__u64 category_inverted;
	__u64 category_mask;	   /* all of these (after inversion) */
	__u64 category_anyof_mask; /* at least one of these */
	__u64 return_mask;	   /* categories to report (and merge runs by) */
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#endif /* PAGEMAP_SCAN */

#endif
