/*
 * The real MMU (see mmu_real.h): write protection with userfaultfd or
 * mprotect, and the handler thread of the thread delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/mmu/mmu_internal.h"
#include "lib/mmu/uffd.h"
#include "lib/util/mutant.h"

const char *const mmu_wp_mechanism_names[] = { "auto", "uffd", "mprotect", NULL };
const char *const mmu_wp_delivery_names[] = { "signal", "thread", NULL };

int mmu_wp_fault_signal(const struct mmu_wp *wp)
{
	return wp->mechanism == MMU_WP_UFFD ? SIGBUS : SIGSEGV;
}

/* ---- probes ---- */

/* The features uffd write-protect needs with delivery @d. */
static uint64_t mmu_uffd_needed(enum mmu_wp_delivery d)
{
	return UFFD_FEATURE_PAGEFAULT_FLAG_WP |
	       (d == MMU_WP_SIGNAL ? UFFD_FEATURE_SIGBUS : UFFD_FEATURE_THREAD_ID);
}

/* 0 if @have has every feature of @need, else -EOPNOTSUPP naming the first
 * one missing and the kernel that brought it. */
static int mmu_uffd_check(uint64_t have, uint64_t need, char *why, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ UFFD_FEATURE_PAGEFAULT_FLAG_WP,
		  "write-protect faults (UFFD_FEATURE_PAGEFAULT_FLAG_WP)" },
		{ UFFD_FEATURE_SIGBUS, "SIGBUS delivery (UFFD_FEATURE_SIGBUS)" },
		{ UFFD_FEATURE_THREAD_ID, "faulting thread ids (UFFD_FEATURE_THREAD_ID)" },
		{ UFFD_FEATURE_WP_ASYNC, "asynchronous write-protect (UFFD_FEATURE_WP_ASYNC)" },
		{ UFFD_FEATURE_WP_UNPOPULATED,
		  "write-protect of unpopulated memory (UFFD_FEATURE_WP_UNPOPULATED)" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((need & names[i].bit) && !(have & names[i].bit)) {
			snprintf(why, len, "userfaultfd without %s: needs %s", names[i].name,
				 uffd_feature_since(names[i].bit));
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int mmu_uffd_turned_off(const char *prefix, char *why, size_t len)
{
	if (!getenv("DLBENCH_MMU_NO_UFFD"))
		return 0;
	snprintf(why, len,
		 "%suserfaultfd write-protect turned off by DLBENCH_MMU_NO_UFFD (a test hook)",
		 prefix);
	return -EOPNOTSUPP;
}

int mmu_wp_probe(enum mmu_wp_mechanism m, enum mmu_wp_delivery d, char *why, size_t len)
{
	uint64_t have;
	int ret;

	if (m != MMU_WP_MPROTECT && (ret = mmu_uffd_turned_off("", why, len)))
		return m == MMU_WP_AUTO && d == MMU_WP_SIGNAL ? 0 : ret;
	if (m == MMU_WP_MPROTECT) {
		if (d != MMU_WP_SIGNAL) {
			snprintf(why, len,
				 "mprotect faults arrive as signals only (no handler thread)");
			return -EINVAL;
		}
		return 0;
	}
	ret = uffd_features(&have, why, len);
	if (!ret)
		ret = mmu_uffd_check(have, mmu_uffd_needed(d), why, len);
	if (ret && m == MMU_WP_AUTO && d == MMU_WP_SIGNAL)
		return 0; /* mprotect then */
	return ret;
}

/* ---- mprotect's mapping count ---- */

/* The first number in @path, or 0. */
static uint64_t mmu_read_u64(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtoull(buf, NULL, 10) : 0;
}

size_t mmu_page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

int mmu_check_range(const char *who, const void *base, uint64_t bytes, size_t ps, char *err,
		    size_t errlen)
{
	if (!bytes || bytes % ps || (uintptr_t)base % ps) {
		snprintf(err, errlen, "%s: the range must be whole pages, page aligned", who);
		return -EINVAL;
	}
	return 0;
}

/* Mappings of this process now: lines of /proc/self/maps; -errno. */
static int64_t mmu_maps_in_use(void)
{
	char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	int64_t lines = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	close(fd);
	return lines;
}

/* Refuses a range whose worst case (every other page un-protected: one
 * mapping per page) would pass vm.max_map_count (mmu_wp_plan and
 * mmu_wp_create; the mutant skips the check in both). */
static int mmu_mprotect_check(uint64_t npages, uint64_t limit, char *err, size_t errlen)
{
	int64_t in_use;
	const char *src = "";

	if (MUTANT(mmu_mprotect_skip_map_count_check))
		return 0;
	in_use = mmu_maps_in_use();
	if (!limit) {
		limit = mmu_read_u64("/proc/sys/vm/max_map_count");
		src = "vm.max_map_count ";
	}
	if (in_use < 0 || !limit) {
		snprintf(err, errlen, "mprotect: cannot count this process's mappings (%s)",
			 in_use < 0 ? "/proc/self/maps" : "/proc/sys/vm/max_map_count");
		return -EIO;
	}
	if ((uint64_t)in_use + npages + MMU_WP_MAP_HEADROOM > limit) {
		snprintf(err, errlen,
			 "mprotect: %llu pages can split into %llu mappings; with %lld in use and"
			 " %d kept free that passes the %slimit of %llu (raise vm.max_map_count to"
			 " at least %llu, or use uffd)",
			 (unsigned long long)npages, (unsigned long long)npages, (long long)in_use,
			 MMU_WP_MAP_HEADROOM, src, (unsigned long long)limit,
			 (unsigned long long)(in_use + npages + MMU_WP_MAP_HEADROOM));
		return -ENOMEM;
	}
	return 0;
}

/* ---- the plan: what create would do ---- */

/* The mechanism MMU_WP_AUTO takes for @d: uffd where it works, else
 * mprotect (signals only), with the reason in @why. */
static enum mmu_wp_mechanism mmu_wp_resolve(enum mmu_wp_mechanism m, enum mmu_wp_delivery d,
					    char *why, size_t len)
{
	if (m != MMU_WP_AUTO)
		return m;
	if (d == MMU_WP_SIGNAL && mmu_wp_probe(MMU_WP_UFFD, MMU_WP_SIGNAL, why, len))
		return MMU_WP_MPROTECT;
	return MMU_WP_UFFD;
}

static void mmu_wp_name_of(enum mmu_wp_mechanism m, enum mmu_wp_delivery d, char *name, size_t len)
{
	snprintf(name, len, "%s:%s", m == MMU_WP_UFFD ? "uffd-wp" : "mprotect",
		 mmu_wp_delivery_names[d]);
}

int mmu_wp_plan(const struct mmu_wp_options *o, uint64_t npages, struct mmu_wp_plan *plan,
		char *err, size_t errlen)
{
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->delivery = o->delivery;
	plan->mechanism =
		mmu_wp_resolve(o->mechanism, o->delivery, plan->fallback, sizeof(plan->fallback));
	mmu_wp_name_of(plan->mechanism, plan->delivery, plan->name, sizeof(plan->name));
	ret = mmu_wp_probe(plan->mechanism, plan->delivery, err, errlen);
	if (!ret && plan->mechanism == MMU_WP_MPROTECT)
		ret = mmu_mprotect_check(npages, o->max_map_count, err, errlen);
	return ret;
}

/* ---- the handler thread (thread delivery) ---- */

static void mmu_wp_handle_msg(struct mmu_wp *wp, const struct uffd_msg *m)
{
	uint64_t page;
	mmu_wp_fault_fn fn;
	void *arg;

	if (m->event != UFFD_EVENT_PAGEFAULT || !(m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP))
		return;
	page = (m->arg.pagefault.address - (uint64_t)(uintptr_t)wp->base) >> wp->page_shift;
	if (!mmu_wp_reg_find(wp, (pid_t)m->arg.pagefault.feat.ptid, &fn, &arg)) {
		fn(arg, page);
		return;
	}
	/* a thread that did not register: resolve it (else it sleeps for
	 * ever) and count it (relaxed: a statistic, it publishes nothing) */
	atomic_fetch_add_explicit(&wp->unregistered, 1, memory_order_relaxed);
	if (!MUTANT(mmu_handler_ignore_unregistered))
		mmu_wp_unprotect(wp, page);
}

static void *mmu_wp_handler_main(void *p)
{
	struct mmu_wp *wp = p;
	struct uffd_msg msgs[16];
	struct pollfd pfd[2] = {
		{ .fd = wp->uffd, .events = POLLIN },
		{ .fd = wp->stop_fd, .events = POLLIN },
	};

	if (wp->handler_init)
		wp->handler_init(wp->handler_arg);
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		n = read(wp->uffd, msgs, sizeof(msgs));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(msgs[0]); i++)
			mmu_wp_handle_msg(wp, &msgs[i]);
	}
	if (wp->handler_fini)
		wp->handler_fini(wp->handler_arg);
	return NULL;
}

static int mmu_wp_start_handler(struct mmu_wp *wp, char *err, size_t errlen)
{
	sigset_t all, old;
	int ret;

	wp->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (wp->stop_fd < 0) {
		snprintf(err, errlen, "mmu: eventfd: %s", strerror(errno));
		return -errno;
	}
	/* the handler thread takes no signals meant for the process */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&wp->handler, NULL, mmu_wp_handler_main, wp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "mmu: cannot start the fault handler thread: %s",
			 strerror(ret));
		return -ret;
	}
	wp->handler_started = 1;
	return 0;
}

/* ---- create / destroy ---- */

static int mmu_wp_setup_uffd(struct mmu_wp *wp, const struct mmu_wp_options *o, char *err,
			     size_t errlen)
{
	uint64_t have, want = mmu_uffd_needed(wp->delivery);
	int ret = uffd_features(&have, err, errlen);

	if (ret || (ret = mmu_uffd_check(have, want, err, errlen)))
		return ret;
	want |= have & (UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	wp->uffd = uffd_open(want, err, errlen);
	if (wp->uffd < 0)
		return wp->uffd;
	ret = uffd_register_wp(wp->uffd, wp->base, wp->bytes, err, errlen);
	if (ret)
		return ret;
	if ((o->populate || !(want & UFFD_FEATURE_WP_UNPOPULATED)) &&
	    madvise(wp->base, wp->bytes, MADV_POPULATE_WRITE)) {
		ret = -errno;
		snprintf(err, errlen,
			 "mmu: populating the range (MADV_POPULATE_WRITE, Linux 5.14): %s",
			 strerror(errno));
		return ret;
	}
	mmu_wp_name_of(MMU_WP_UFFD, wp->delivery, wp->name, sizeof(wp->name));
	return 0;
}

static int mmu_wp_setup_mprotect(struct mmu_wp *wp, const struct mmu_wp_options *o, char *err,
				 size_t errlen)
{
	int ret;

	if (wp->delivery != MMU_WP_SIGNAL) {
		snprintf(err, errlen,
			 "mmu: mprotect faults arrive as signals only (no handler thread)");
		return -EINVAL;
	}
	ret = mmu_mprotect_check(wp->npages, o->max_map_count, err, errlen);
	if (ret)
		return ret;
	if (o->populate && madvise(wp->base, wp->bytes, MADV_POPULATE_WRITE)) {
		ret = -errno;
		snprintf(err, errlen,
			 "mmu: populating the range (MADV_POPULATE_WRITE, Linux 5.14): %s",
			 strerror(errno));
		return ret;
	}
	mmu_wp_name_of(MMU_WP_MPROTECT, MMU_WP_SIGNAL, wp->name, sizeof(wp->name));
	return 0;
}

struct mmu_wp *mmu_wp_create(void *base, uint64_t bytes, const struct mmu_wp_options *o, char *err,
			     size_t errlen)
{
	size_t ps = mmu_page_size();
	struct mmu_wp *wp;
	int ret;

	if (mmu_check_range("mmu", base, bytes, ps, err, errlen))
		return NULL;
	wp = calloc(1, sizeof(*wp));
	if (!wp) {
		snprintf(err, errlen, "mmu: out of memory");
		return NULL;
	}
	wp->base = base;
	wp->bytes = bytes;
	wp->page_size = ps;
	wp->page_shift = (unsigned)__builtin_ctzl((unsigned long)ps);
	wp->npages = bytes >> wp->page_shift;
	wp->delivery = o->delivery;
	wp->uffd = -1;
	wp->stop_fd = -1;
	pthread_mutex_init(&wp->regs_lock, NULL);
	atomic_init(&wp->unregistered, 0);
	atomic_init(&wp->protect_calls, 0);
	wp->handler_init = o->handler_init;
	wp->handler_fini = o->handler_fini;
	wp->handler_arg = o->handler_arg;
	/* auto: uffd where it works; mprotect only takes signals */
	wp->mechanism =
		mmu_wp_resolve(o->mechanism, o->delivery, wp->fallback, sizeof(wp->fallback));
	ret = wp->mechanism == MMU_WP_UFFD ? mmu_wp_setup_uffd(wp, o, err, errlen)
					   : mmu_wp_setup_mprotect(wp, o, err, errlen);
	if (!ret && wp->delivery == MMU_WP_SIGNAL)
		ret = mmu_fault_handler_install(mmu_wp_fault_signal(wp), err, errlen);
	if (!ret && wp->delivery == MMU_WP_THREAD)
		ret = mmu_wp_start_handler(wp, err, errlen);
	if (ret) {
		mmu_wp_destroy(wp);
		return NULL;
	}
	return wp;
}

void mmu_wp_destroy(struct mmu_wp *wp)
{
	if (!wp)
		return;
	/* writable again first: wakes anyone still waiting on a page */
	if (wp->mechanism == MMU_WP_MPROTECT || wp->uffd >= 0)
		mmu_wp_unprotect_range(wp, 0, wp->npages);
	if (wp->handler_started) {
		uint64_t one = 1;

		if (write(wp->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(wp->handler, NULL);
	}
	if (wp->stop_fd >= 0)
		close(wp->stop_fd);
	if (wp->uffd >= 0) {
		uffd_unregister(wp->uffd, wp->base, wp->bytes);
		close(wp->uffd);
	}
	pthread_mutex_destroy(&wp->regs_lock);
	free(wp->regs);
	free(wp);
}

/* ---- protect / unprotect ---- */

const char *mmu_wp_name(const struct mmu_wp *wp)
{
	return wp->name;
}

const char *mmu_wp_fallback(const struct mmu_wp *wp)
{
	return wp->fallback;
}

enum mmu_wp_mechanism mmu_wp_mechanism(const struct mmu_wp *wp)
{
	return wp->mechanism;
}

uint64_t mmu_wp_npages(const struct mmu_wp *wp)
{
	return wp->npages;
}

size_t mmu_wp_page_size(const struct mmu_wp *wp)
{
	return wp->page_size;
}

uint64_t mmu_wp_unregistered_faults(const struct mmu_wp *wp)
{
	return atomic_load_explicit(&wp->unregistered, memory_order_relaxed);
}

/* Protection of [first, first + npages) on (@wp true) or off. */
static int mmu_wp_set(struct mmu_wp *wp, uint64_t first, uint64_t npages, int protect)
{
	uint64_t addr = (uint64_t)(uintptr_t)wp->base + (first << wp->page_shift);
	uint64_t len = npages << wp->page_shift;

	if (first > wp->npages || npages > wp->npages - first)
		return -EINVAL;
	if (!npages)
		return 0;
	if (wp->mechanism == MMU_WP_UFFD)
		/* un-protect: wake a sleeper only where one can sleep */
		return uffd_writeprotect(wp->uffd, addr, len, protect,
					 wp->delivery == MMU_WP_SIGNAL ||
						 MUTANT(mmu_unprotect_never_wakes));
	if (mprotect((void *)(uintptr_t)addr, len, protect ? PROT_READ : PROT_READ | PROT_WRITE))
		return -errno;
	return 0;
}

int mmu_wp_protect(struct mmu_wp *wp, uint64_t first, uint64_t npages)
{
	/* relaxed: a statistic */
	atomic_fetch_add_explicit(&wp->protect_calls, 1, memory_order_relaxed);
	return mmu_wp_set(wp, first, npages, 1);
}

uint64_t mmu_wp_protect_calls(const struct mmu_wp *wp)
{
	return atomic_load_explicit(&wp->protect_calls, memory_order_relaxed);
}

int mmu_wp_protect_runs(struct mmu_wp *wp, const struct mmu_wp_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = mmu_wp_protect(wp, runs[i].first, runs[i].npages);

		if (ret)
			return ret;
	}
	return 0;
}

int mmu_wp_unprotect(struct mmu_wp *wp, uint64_t page)
{
	return mmu_wp_set(wp, page, 1, 0);
}

int mmu_wp_unprotect_nowake(struct mmu_wp *wp, uint64_t page)
{
	uint64_t addr = (uint64_t)(uintptr_t)wp->base + (page << wp->page_shift);

	if (wp->mechanism != MMU_WP_UFFD)
		return mmu_wp_set(wp, page, 1, 0);
	if (page >= wp->npages)
		return -EINVAL;
	return uffd_writeprotect(wp->uffd, addr, wp->page_size, 0, 1);
}

int mmu_wp_wake(struct mmu_wp *wp, uint64_t page)
{
	if (wp->mechanism != MMU_WP_UFFD || wp->delivery != MMU_WP_THREAD)
		return 0;
	if (page >= wp->npages)
		return -EINVAL;
	return uffd_wake(wp->uffd, (uint64_t)(uintptr_t)wp->base + (page << wp->page_shift),
			 wp->page_size);
}

int mmu_wp_unprotect_range(struct mmu_wp *wp, uint64_t first, uint64_t npages)
{
	return mmu_wp_set(wp, first, npages, 0);
}

/* ---- batches of runs ---- */

void mmu_wp_batch_init(struct mmu_wp_batch *b, struct mmu_wp *wp)
{
	b->wp = wp;
	b->first = 0;
	b->npages = 0;
	b->err = 0;
}

int mmu_wp_batch_flush(struct mmu_wp_batch *b)
{
	if (b->npages) {
		int ret = mmu_wp_protect(b->wp, b->first, b->npages);

		if (ret && !b->err)
			b->err = ret;
		b->npages = 0;
	}
	return b->err;
}

void mmu_wp_batch_add(struct mmu_wp_batch *b, uint64_t first, uint64_t npages)
{
	if (!npages)
		return;
	if (b->npages && first == b->first + b->npages) {
		b->npages += npages;
		return;
	}
	mmu_wp_batch_flush(b);
	b->first = first;
	b->npages = npages;
}

void mmu_wp_batch_add_mask(struct mmu_wp_batch *b, uint64_t page0, uint64_t mask)
{
	while (mask) {
		unsigned lo = (unsigned)__builtin_ctzll(mask);
		/* the run of set bits from lo: the ones of mask >> lo, counted
		 * up to the first zero */
		uint64_t m = mask >> lo;
		unsigned len = ~m ? (unsigned)__builtin_ctzll(~m) : 64 - lo;

		mmu_wp_batch_add(b, page0 + lo, len);
		mask = len + lo >= 64 ? 0 : mask & ~(((1ull << len) - 1) << lo);
	}
}
