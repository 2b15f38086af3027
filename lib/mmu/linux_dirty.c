/*
 * Linux's own dirty tracking (see linux_dirty.h): async userfaultfd
 * write-protect with PAGEMAP_SCAN, soft-dirty, and the probes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lib/mmu/linux_dirty.h"
#include "lib/mmu/mmu_internal.h"
#include "lib/mmu/uffd.h"
#include "lib/util/mutant.h"
#include "lib/util/stats.h"

#define NOT_SUPPORTED "not supported by this kernel: "

/* /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_SOFT_DIRTY_BIT 55

const char *const linux_dirty_mechanism_names[] = { "uffd-wp", "uffd-wp-async", "soft-dirty",
						    "mprotect", NULL };

static unsigned page_shift_of(size_t ps)
{
	return (unsigned)__builtin_ctzl((unsigned long)ps);
}

/* ---- uffd-wp async ---- */

struct uffd_async {
	uint8_t *base;
	uint64_t bytes, npages;
	unsigned page_shift;
	int uffd;
	int pagemap_fd;
	struct page_region *vec;
	size_t vec_len;
	uint64_t ioctls;
};

static int uffd_async_setup(struct uffd_async *ua, const struct uffd_async_options *o, char *err,
			    size_t errlen)
{
	uint64_t have, want = UFFD_FEATURE_WP_ASYNC;
	int ret = uffd_features(&have, err, errlen);

	if (ret)
		return ret;
	if (o->unpopulated)
		want |= UFFD_FEATURE_WP_UNPOPULATED;
	if ((have & want) != want) {
		uint64_t missing = want & ~have;

		snprintf(err, errlen, NOT_SUPPORTED "userfaultfd without %s (%s)",
			 missing & UFFD_FEATURE_WP_ASYNC ? "UFFD_FEATURE_WP_ASYNC"
							 : "UFFD_FEATURE_WP_UNPOPULATED",
			 uffd_feature_since(missing & UFFD_FEATURE_WP_ASYNC
						    ? UFFD_FEATURE_WP_ASYNC
						    : UFFD_FEATURE_WP_UNPOPULATED));
		return -EOPNOTSUPP;
	}
	want |= have & (UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	ua->uffd = uffd_open(want, err, errlen);
	if (ua->uffd < 0)
		return ua->uffd;
	ret = uffd_register_wp(ua->uffd, ua->base, ua->bytes, err, errlen);
	if (ret)
		return ret;
	if (!o->unpopulated && madvise(ua->base, ua->bytes, MADV_POPULATE_WRITE)) {
		ret = -errno;
		snprintf(err, errlen, "uffd-wp-async: MADV_POPULATE_WRITE: %s", strerror(errno));
		return ret;
	}
	ua->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (ua->pagemap_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "uffd-wp-async: /proc/self/pagemap: %s", strerror(errno));
		return ret;
	}
	ret = uffd_async_protect(ua, 0, ua->npages);
	if (ret)
		snprintf(err, errlen, "uffd-wp-async: UFFDIO_WRITEPROTECT: %s", strerror(-ret));
	return ret;
}

struct uffd_async *uffd_async_create(void *base, uint64_t bytes, const struct uffd_async_options *o,
				     char *err, size_t errlen)
{
	size_t ps = mmu_page_size();
	struct uffd_async *ua;

	if (mmu_check_range("uffd-wp-async", base, bytes, ps, err, errlen))
		return NULL;
	ua = calloc(1, sizeof(*ua));
	if (!ua) {
		snprintf(err, errlen, "uffd-wp-async: out of memory");
		return NULL;
	}
	ua->base = base;
	ua->bytes = bytes;
	ua->page_shift = page_shift_of(ps);
	ua->npages = bytes >> ua->page_shift;
	ua->uffd = -1;
	ua->pagemap_fd = -1;
	ua->vec_len = o->max_regions ? o->max_regions : 4096;
	ua->vec = calloc(ua->vec_len, sizeof(*ua->vec));
	if (!ua->vec) {
		snprintf(err, errlen, "uffd-wp-async: out of memory");
		uffd_async_destroy(ua);
		return NULL;
	}
	if (uffd_async_setup(ua, o, err, errlen)) {
		uffd_async_destroy(ua);
		return NULL;
	}
	return ua;
}

void uffd_async_destroy(struct uffd_async *ua)
{
	if (!ua)
		return;
	if (ua->uffd >= 0) {
		/* writable again, then no longer tracked */
		uffd_writeprotect(ua->uffd, (uint64_t)(uintptr_t)ua->base, ua->bytes, 0, 0);
		uffd_unregister(ua->uffd, ua->base, ua->bytes);
		close(ua->uffd);
	}
	if (ua->pagemap_fd >= 0)
		close(ua->pagemap_fd);
	free(ua->vec);
	free(ua);
}

uint64_t uffd_async_npages(const struct uffd_async *ua)
{
	return ua->npages;
}

uint64_t uffd_async_ioctls(const struct uffd_async *ua)
{
	return ua->ioctls;
}

/* UFFDIO_WRITEPROTECT of pages [first, first + npages): @wp 1 protects,
 * 0 un-protects with DONTWAKE (no thread waits on a fault in async mode). */
static int uffd_async_wp(struct uffd_async *ua, uint64_t first, uint64_t npages, int wp)
{
	if (first > ua->npages || npages > ua->npages - first)
		return -EINVAL;
	if (!npages)
		return 0;
	return uffd_writeprotect(ua->uffd,
				 (uint64_t)(uintptr_t)ua->base + (first << ua->page_shift),
				 npages << ua->page_shift, wp, !wp);
}

int uffd_async_protect(struct uffd_async *ua, uint64_t first, uint64_t npages)
{
	return uffd_async_wp(ua, first, npages, 1);
}

int uffd_async_unprotect(struct uffd_async *ua, uint64_t first, uint64_t npages)
{
	return uffd_async_wp(ua, first, npages, 0);
}

int64_t uffd_async_scan(struct uffd_async *ua, uint64_t first, uint64_t npages, bool reprotect,
			linux_dirty_run_fn fn, void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)ua->base;
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = PM_SCAN_CHECK_WPASYNC | (reprotect ? PM_SCAN_WP_MATCHING : 0),
		.start = base + (first << ua->page_shift),
		.end = base + ((first + npages) << ua->page_shift),
		.vec = (uint64_t)(uintptr_t)ua->vec,
		.vec_len = ua->vec_len,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	int64_t written = 0;

	if (first > ua->npages || npages > ua->npages - first)
		return -EINVAL;
	/* Mutants: without the re-protection; or with it as a separate step
	 * after the report (get, then clear: a write in between is lost) */
	if (MUTANT(mmu_async_skip_wp_matching) || MUTANT(mmu_async_split_scan_protect))
		a.flags &= ~(uint64_t)PM_SCAN_WP_MATCHING;
	while (a.start < a.end) {
		int n = ioctl(ua->pagemap_fd, PAGEMAP_SCAN, &a);

		ua->ioctls++;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			uint64_t rf = (ua->vec[i].start - base) >> ua->page_shift;
			uint64_t rn = (ua->vec[i].end - ua->vec[i].start) >> ua->page_shift;

			written += (int64_t)rn;
			if (fn)
				fn(arg, rf, rn);
			if (MUTANT(mmu_async_split_scan_protect) && reprotect)
				uffd_async_protect(ua, rf, rn);
		}
		/* The walk stops early only when our vector is full; then
		 * walk_end is where to go on.  A vector with room left means
		 * the walk reached the end, whatever walk_end says: the
		 * kernel (do_pagemap_scan, Linux 6.7 to at least 6.18) sets
		 * walk_end where its internal buffer of 512 regions last
		 * filled and goes on walking, without moving it again. */
		if ((size_t)n < ua->vec_len)
			break;
		if (a.walk_end <= a.start)
			return -EIO;
		a.start = a.walk_end;
	}
	return written;
}

/* One page, one write, one scan: does the kernel report it? */
static int uffd_async_try(bool unpopulated, char *why, size_t len)
{
	struct uffd_async_options o = { .unpopulated = unpopulated, .max_regions = 4 };
	size_t ps = mmu_page_size();
	struct uffd_async *ua;
	char err[256] = "";
	int64_t n = -1;
	uint8_t *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		snprintf(why, len, "uffd-wp-async probe: mmap: %s", strerror(errno));
		return -ENOMEM;
	}
	ua = uffd_async_create(p, 2 * ps, &o, err, sizeof(err));
	if (ua) {
		atomic_store_explicit((_Atomic uint8_t *)(void *)(p + ps), 1, memory_order_relaxed);
		n = uffd_async_scan(ua, 0, 2, true, NULL, NULL);
		uffd_async_destroy(ua);
	}
	munmap(p, 2 * ps);
	if (!ua) {
		snprintf(why, len, "%s%s",
			 strncmp(err, NOT_SUPPORTED, strlen(NOT_SUPPORTED)) ? NOT_SUPPORTED : "",
			 err);
		return -EOPNOTSUPP;
	}
	if (n == -ENOTTY || n == -EINVAL) {
		snprintf(why, len,
			 NOT_SUPPORTED "no PAGEMAP_SCAN ioctl on /proc/self/pagemap (Linux 6.7)");
		return -EOPNOTSUPP;
	}
	if (n != 1) {
		snprintf(why, len,
			 NOT_SUPPORTED "PAGEMAP_SCAN reported %lld written pages after one"
				       " write to a page (%s)",
			 (long long)n, n < 0 ? strerror((int)-n) : "expected 1");
		return -EOPNOTSUPP;
	}
	return 0;
}

int uffd_async_probe(bool unpopulated, char *why, size_t len)
{
	/* the test hook of mmu_wp_probe (lib/mmu/mmu_real.h) */
	int ret = mmu_uffd_turned_off(NOT_SUPPORTED, why, len);

	return ret ? ret : uffd_async_try(unpopulated, why, len);
}

/* ---- soft-dirty ---- */

struct soft_dirty {
	uint8_t *base;
	uint64_t npages;
	unsigned page_shift;
	int pagemap_fd;
	int clear_refs_fd;
	uint64_t buf[8192]; /* pagemap entries per pread */
};

/* "CONFIG_MEM_SOFT_DIRTY is not set" from /boot/config-RELEASE, if readable. */
static const char *soft_dirty_config(void)
{
	static const char off[] = "# CONFIG_MEM_SOFT_DIRTY is not set";
	struct utsname u;
	char path[128 + sizeof(u.release)], buf[4096 + 64];
	const char *verdict = NULL;
	size_t keep = 0;
	ssize_t n;
	int fd;

	if (uname(&u))
		return NULL;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	/* a line may straddle two reads: keep the tail of the last one */
	while (!verdict && (n = read(fd, buf + keep, sizeof(buf) - 1 - keep)) > 0) {
		size_t have = keep + (size_t)n;

		buf[have] = 0;
		if (strstr(buf, off))
			verdict = "CONFIG_MEM_SOFT_DIRTY is not set in the kernel's config";
		else if (strstr(buf, "CONFIG_MEM_SOFT_DIRTY=y"))
			verdict = "";
		keep = have < 63 ? have : 63;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	return verdict && verdict[0] ? verdict : NULL;
}

/* Bit 55 of the pagemap entry of @addr: 0/1, or -errno. */
static int soft_dirty_bit(int fd, const void *addr, size_t ps)
{
	uint64_t e;
	off_t off = (off_t)((uintptr_t)addr / ps * sizeof(e));

	if (pread(fd, &e, sizeof(e), off) != (ssize_t)sizeof(e))
		return -EIO;
	return (int)((e >> PM_SOFT_DIRTY_BIT) & 1);
}

int soft_dirty_probe(char *why, size_t len)
{
	size_t ps = mmu_page_size();
	const char *config = soft_dirty_config();
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), bit = -EIO, cfd;
	uint8_t *p;

	if (fd < 0) {
		snprintf(why, len, NOT_SUPPORTED "/proc/self/pagemap: %s", strerror(errno));
		return -EOPNOTSUPP;
	}
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		atomic_store_explicit((_Atomic uint8_t *)(void *)p, 1, memory_order_relaxed);
		bit = soft_dirty_bit(fd, p, ps);
		munmap(p, ps);
	}
	close(fd);
	if (bit != 1) {
		snprintf(why, len,
			 NOT_SUPPORTED "pagemap bit 55 (soft-dirty) %s after a write to a new"
				       " page%s%s",
			 bit < 0 ? "unreadable" : "stays clear",
			 config ? "; " : " (CONFIG_MEM_SOFT_DIRTY is off)", config ? config : "");
		return -EOPNOTSUPP;
	}
	cfd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (cfd < 0) {
		snprintf(why, len, NOT_SUPPORTED "/proc/self/clear_refs: %s", strerror(errno));
		return -EOPNOTSUPP;
	}
	close(cfd);
	return 0;
}

struct soft_dirty *soft_dirty_create(void *base, uint64_t bytes, char *err, size_t errlen)
{
	size_t ps = mmu_page_size();
	struct soft_dirty *sd;

	if (mmu_check_range("soft-dirty", base, bytes, ps, err, errlen))
		return NULL;
	if (soft_dirty_probe(err, errlen))
		return NULL;
	sd = calloc(1, sizeof(*sd));
	if (!sd) {
		snprintf(err, errlen, "soft-dirty: out of memory");
		return NULL;
	}
	sd->base = base;
	sd->page_shift = page_shift_of(ps);
	sd->npages = bytes >> sd->page_shift;
	sd->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	sd->clear_refs_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (sd->pagemap_fd < 0 || sd->clear_refs_fd < 0) {
		snprintf(err, errlen, "soft-dirty: %s: %s",
			 sd->pagemap_fd < 0 ? "/proc/self/pagemap" : "/proc/self/clear_refs",
			 strerror(errno));
		soft_dirty_destroy(sd);
		return NULL;
	}
	return sd;
}

void soft_dirty_destroy(struct soft_dirty *sd)
{
	if (!sd)
		return;
	if (sd->pagemap_fd >= 0)
		close(sd->pagemap_fd);
	if (sd->clear_refs_fd >= 0)
		close(sd->clear_refs_fd);
	free(sd);
}

int soft_dirty_clear(struct soft_dirty *sd)
{
	/* CLEAR_REFS_SOFT_DIRTY, fs/proc/task_mmu.c clear_refs_write */
	if (pwrite(sd->clear_refs_fd, "4", 1, 0) != 1)
		return -errno;
	return 0;
}

int64_t soft_dirty_scan(struct soft_dirty *sd, uint64_t first, uint64_t npages,
			linux_dirty_run_fn fn, void *arg)
{
	uint64_t vpn0 = (uint64_t)(uintptr_t)sd->base >> sd->page_shift;
	uint64_t run_first = 0, run_n = 0;
	int64_t dirty = 0;

	if (first > sd->npages || npages > sd->npages - first)
		return -EINVAL;
	for (uint64_t done = 0; done < npages;) {
		uint64_t n = npages - done < 8192 ? npages - done : 8192;
		off_t off = (off_t)((vpn0 + first + done) * sizeof(uint64_t));

		if (pread(sd->pagemap_fd, sd->buf, n * sizeof(uint64_t), off) !=
		    (ssize_t)(n * sizeof(uint64_t)))
			return -EIO;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t page = first + done + i;

			if (!((sd->buf[i] >> PM_SOFT_DIRTY_BIT) & 1))
				continue;
			dirty++;
			if (run_n && run_first + run_n == page) {
				run_n++;
				continue;
			}
			if (run_n && fn)
				fn(arg, run_first, run_n);
			run_first = page;
			run_n = 1;
		}
		done += n;
	}
	if (run_n && fn)
		fn(arg, run_first, run_n);
	return dirty;
}

/* ---- probes ---- */

int linux_dirty_probe(enum linux_dirty_mechanism m, char *why, size_t len)
{
	char err[256] = "";
	int ret;

	switch (m) {
	case LINUX_DIRTY_UFFD_WP:
	case LINUX_DIRTY_MPROTECT:
		ret = mmu_wp_probe(m == LINUX_DIRTY_UFFD_WP ? MMU_WP_UFFD : MMU_WP_MPROTECT,
				   MMU_WP_SIGNAL, err, sizeof(err));
		if (ret)
			snprintf(why, len, NOT_SUPPORTED "%s", err);
		return ret;
	case LINUX_DIRTY_UFFD_WP_ASYNC:
		return uffd_async_probe(false, why, len);
	case LINUX_DIRTY_SOFT_DIRTY:
		return soft_dirty_probe(why, len);
	}
	snprintf(why, len, "unknown mechanism");
	return -EINVAL;
}

/* ---- fault floors of the kernel markers ---- */

struct kernel_floor {
	enum linux_dirty_mechanism m;
	struct uffd_async *ua;
	struct soft_dirty *sd;
};

/* Write-protects every page again (untimed between rounds). */
static int kernel_floor_reset(struct kernel_floor *k, uint32_t npages)
{
	if (k->m == LINUX_DIRTY_UFFD_WP_ASYNC)
		return uffd_async_protect(k->ua, 0, npages);
	return soft_dirty_clear(k->sd);
}

static int kernel_floor_setup(struct kernel_floor *k, uint8_t *mem, size_t bytes, char *err,
			      size_t errlen)
{
	struct uffd_async_options ao = { .unpopulated = false, .max_regions = 0 };

	if (k->m == LINUX_DIRTY_UFFD_WP_ASYNC)
		k->ua = uffd_async_create(mem, bytes, &ao, err, errlen);
	else if (k->m == LINUX_DIRTY_SOFT_DIRTY)
		k->sd = soft_dirty_create(mem, bytes, err, errlen);
	else
		snprintf(err, errlen, "fault floor: %s has a signal handler: use mmu_fault_floor",
			 linux_dirty_mechanism_names[k->m]);
	return k->ua || k->sd ? 0 : -EOPNOTSUPP;
}

int linux_dirty_fault_floor(enum linux_dirty_mechanism m, uint32_t npages, uint32_t nfaults,
			    double *ns_per_fault, char *err, size_t errlen)
{
	struct kernel_floor k = { .m = m };
	uint32_t rounds = npages ? (nfaults + npages - 1) / npages : 0;
	size_t ps = mmu_page_size(), bytes = (size_t)npages * ps;
	double *per = rounds ? calloc(rounds, sizeof(*per)) : NULL;
	uint8_t *mem = MAP_FAILED;
	int ret = -ENOMEM;

	if (!per) {
		snprintf(err, errlen, "fault floor: needs at least one page and one fault");
		return -EINVAL;
	}
	mem = mmu_floor_map(bytes);
	if (mem == MAP_FAILED) {
		snprintf(err, errlen, "fault floor: out of memory");
		goto out;
	}
	if ((ret = kernel_floor_setup(&k, mem, bytes, err, errlen)))
		goto out;
	for (uint32_t r = 0; r < rounds; r++) {
		if ((ret = kernel_floor_reset(&k, npages))) {
			snprintf(err, errlen, "fault floor: re-protecting: %s", strerror(-ret));
			goto out;
		}
		per[r] = mmu_floor_stores(mem, npages, ps);
	}
	*ns_per_fault = stats_median(per, rounds);
out:
	uffd_async_destroy(k.ua);
	soft_dirty_destroy(k.sd);
	if (mem != MAP_FAILED)
		munmap(mem, bytes);
	free(per);
	return ret;
}
