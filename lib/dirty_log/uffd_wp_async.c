/*
 * uffd-wp-async: asynchronous userfaultfd write-protect
 * (UFFD_FEATURE_WP_ASYNC, Linux 6.7, built for Wine's GetWriteWatch).  The
 * kernel is the marker: a write to a protected page is resolved in the
 * kernel, with no message and no signal, and leaves the page "written".
 * get_log is one PAGEMAP_SCAN ioctl on /proc/self/pagemap (more for more
 * than 4096 runs) with PM_SCAN_CHECK_WPASYNC, the PAGE_IS_WRITTEN category
 * and PM_SCAN_WP_MATCHING: it returns the written runs and write-protects
 * exactly those pages in the same page-table walk, so a write after the
 * report makes the page written again and no write is lost between the
 * report and the re-protection (lib/mmu/linux_dirty.h).
 *
 * No handler runs, so --fault-path and --fault-delivery do not apply.
 * Option unpopulated=1: UFFD_FEATURE_WP_UNPOPULATED, the guest memory is
 * not faulted in at creation (pte markers track the untouched pages).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/dirty_log/linux_wp.h"
#include "lib/mmu/linux_dirty.h"
#include "lib/vm/vm.h"

struct async_log {
	bool unpopulated;
	struct uffd_async *ua;
};

static int async_set_option(struct dirty_log *log, const char *key, const char *value, char *err,
			    size_t errlen)
{
	struct async_log *a = log->priv;

	if (!strcmp(key, "unpopulated") && (!strcmp(value, "0") || !strcmp(value, "1"))) {
		a->unpopulated = value[0] == '1';
		return 0;
	}
	snprintf(err, errlen, "uffd-wp-async: bad option %s=%s (%s)", key, value,
		 log->ops->options_help);
	return -1;
}

static int async_probe(const struct dirty_log *log, char *why, size_t len)
{
	const struct async_log *a = log->priv;

	return uffd_async_probe(a->unpopulated, why, len);
}

static int async_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct async_log *a = log->priv;
	struct uffd_async_options o = { .unpopulated = a->unpopulated, .max_regions = 0 };
	struct vm *vm = log->vm;

	/* registers the guest memory and protects all of it: every page clean */
	a->ua = uffd_async_create(vm->guest_base, vm->npages << PAGE_SHIFT, &o, err, errlen);
	return a->ua ? 0 : -EOPNOTSUPP;
}

static void async_destroy(struct dirty_log *log)
{
	struct async_log *a = log->priv;

	uffd_async_destroy(a->ua);
	a->ua = NULL;
}

static void async_enable(struct dirty_log *log)
{
	struct async_log *a = log->priv;

	/* no vCPU runs: every page clean again */
	vm_mmu_error(log->vm, uffd_async_protect(a->ua, 0, log->vm->npages));
}

static void async_disable(struct dirty_log *log)
{
	struct async_log *a = log->priv;

	vm_mmu_error(log->vm, uffd_async_unprotect(a->ua, 0, log->vm->npages));
}

static int async_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct async_log *a = log->priv;
	int64_t n;

	(void)flags;
	memset(dirty, 0, bitmap_words(log->vm->npages) * sizeof(*dirty));
	n = uffd_async_scan(a->ua, 0, log->vm->npages, true, linux_wp_set_run, dirty);
	return n < 0 ? (int)n : 0;
}

/* The harvest floor: the bare re-protection of the same runs. */
static void floor_runs(struct dirty_log *log, const unsigned long *dirty, bool protect, int *rc)
{
	struct async_log *a = log->priv;
	uint64_t n = log->vm->npages, run = 0;

	for (uint64_t p = 0; p <= n; p++) {
		if (p < n && bitmap_test(dirty, p)) {
			run++;
			continue;
		}
		if (run && !*rc)
			*rc = protect ? uffd_async_protect(a->ua, p - run, run)
				      : uffd_async_unprotect(a->ua, p - run, run);
		run = 0;
	}
}

static void async_floor_reset(struct dirty_log *log, const unsigned long *dirty)
{
	int rc = 0;

	floor_runs(log, dirty, false, &rc);
}

static int async_floor_pass(struct dirty_log *log, const unsigned long *dirty)
{
	int rc = 0;

	floor_runs(log, dirty, true, &rc);
	return rc;
}

static const char *async_mmu_name(const struct dirty_log *log)
{
	const struct async_log *a = log->priv;

	return a->unpopulated ? "uffd-wp-async:unpopulated" : "uffd-wp-async";
}

static int async_fault_floor(const struct dirty_log *log, double *ns, char *err, size_t errlen)
{
	(void)log;
	return linux_dirty_fault_floor(LINUX_DIRTY_UFFD_WP_ASYNC, MMU_FAULT_FLOOR_PAGES,
				       MMU_FAULT_FLOOR_FAULTS, ns, err, errlen);
}

const struct dirty_log_ops dirty_log_uffd_wp_async_ops = {
	.name = "uffd-wp-async",
	.summary = "Linux 6.7: async userfaultfd write-protect, the kernel marks; get_log is one "
		   "PAGEMAP_SCAN that reports and re-protects (real MMU only; no handler: "
		   "--fault-path does not apply)",
	.options_help = "unpopulated=0|1 (UFFD_FEATURE_WP_UNPOPULATED: memory not faulted in)",
	.mmu = DIRTY_LOG_MMU_KERNEL,
	.priv_size = sizeof(struct async_log),
	.set_option = async_set_option,
	.probe = async_probe,
	.init = async_init,
	.destroy = async_destroy,
	.enable = async_enable,
	.disable = async_disable,
	.mark_dirty = linux_wp_no_mark,
	.get_log = async_get_log,
	.floor_reset = async_floor_reset,
	.floor_pass = async_floor_pass,
	.mmu_name = async_mmu_name,
	.fault_floor = async_fault_floor,
};
