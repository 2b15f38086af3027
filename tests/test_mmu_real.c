/*
 * The real MMU (lib/mmu/mmu_real.h) and Linux's own dirty tracking
 * (lib/mmu/linux_dirty.h), on this kernel, with exact counts:
 *   sync      for uffd + signal, uffd + handler thread and mprotect +
 *             signal, with 1, 2 and 4 writer threads (4 is more than this
 *             machine's CPUs): a protected range, written by the threads,
 *             faults exactly once per written page and the callback (on
 *             the writer's own thread under signal delivery, on the
 *             handler thread otherwise) records each; a second write and
 *             pages never protected do not fault; re-protection by runs,
 *             then of a sub-range, faults again exactly there; what was
 *             stored is what is read back;
 *   refusal   mprotect refuses a range whose worst-case split passes
 *             max_map_count (an option, and the real vm.max_map_count for
 *             256 MiB), and the worst case is real (alternating pages
 *             split a range into one mapping per page);
 *   stray     a fault that is not a write by a registered thread to its
 *             range is not swallowed: the process dies (raised SIGBUS, a
 *             write by an unregistered thread, a NULL store with the
 *             mprotect handler installed), in a child;
 *   async     uffd-wp async + PAGEMAP_SCAN reports exactly the written
 *             pages and re-protects them (written again: reported again;
 *             not written: not reported), in one ioctl or, with a small
 *             region vector, in several; without re-protection the same
 *             pages are reported twice; with and without
 *             WP_UNPOPULATED;
 *   async-race  2 writers store sequence numbers while a harvester scans
 *             and copies what is reported; after the writers stop and one
 *             last scan, the copy equals the memory (no lost write);
 *   soft-dirty  exact harvest where the kernel has it; here it prints
 *             "SKIP: ..." with the probe's reason and passes;
 *   floor     the fault floor runs for each mechanism (no timing checked).
 *
 * Usage: test_mmu_real [TEST...]     (all without one)
 *        test_mmu_real --probe [MiB]  measures (fault floors, protect,
 *                                     PAGEMAP_SCAN) and prints a table
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/check.h"
#include "lib/mmu/linux_dirty.h"
#include "lib/mmu/mmu_real.h"
#include "lib/util/rng.h"
#include "lib/util/stats.h"
#include "lib/util/timing.h"

#define NPAGES 512u
#define PS 4096u

static uint8_t *map_pages(size_t npages)
{
	uint8_t *p = mmap(NULL, npages * PS, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, npages * PS, MADV_NOHUGEPAGE);
	return p;
}

static void store(uint8_t *mem, uint64_t page, uint64_t v)
{
	/* relaxed: nothing is published through these stores (a release
	 * store that faults works as well, under TSan too) */
	atomic_store_explicit((_Atomic uint64_t *)(void *)(mem + page * PS), v,
			      memory_order_relaxed);
}

static uint64_t load(const uint8_t *mem, uint64_t page)
{
	return atomic_load_explicit((_Atomic const uint64_t *)(const void *)(mem + page * PS),
				    memory_order_relaxed);
}

/* ---- sync: uffd signal/thread, mprotect ---- */

struct sync_ctx {
	struct mmu_wp *wp;
	uint8_t *mem;
	enum mmu_wp_delivery delivery;
	int nthreads;
	pthread_barrier_t start, done, next;
	/* relaxed counts: read after the done barrier or pthread_join */
	atomic_uint faults[NPAGES];
	atomic_uint wrong_thread; /* callback not where the delivery says */
	atomic_int handler_tid;	  /* thread delivery: from handler_init */
	atomic_int handler_done;  /* handler_fini ran */
	atomic_uint unprotect_errors;
	int round;
	/* which pages round r writes */
	int (*writes)(int round, uint32_t page);
};

struct writer {
	struct sync_ctx *c;
	int index;
	pid_t tid;
	atomic_uint faults;
	char err[256];
	int reg;
};

static void sync_fault(void *arg, uint64_t page)
{
	struct writer *w = arg;
	struct sync_ctx *c = w->c;
	int mine = gettid() == w->tid;

	/* relaxed: under the thread delivery this runs on the handler thread,
	 * which stored handler_tid itself (handler_init) */
	if (page >= NPAGES || mine != (c->delivery == MMU_WP_SIGNAL) ||
	    (c->delivery == MMU_WP_THREAD &&
	     gettid() != atomic_load_explicit(&c->handler_tid, memory_order_relaxed)))
		atomic_fetch_add_explicit(&c->wrong_thread, 1, memory_order_relaxed);
	if (page < NPAGES)
		atomic_fetch_add_explicit(&c->faults[page], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->faults, 1, memory_order_relaxed);
	if (mmu_wp_unprotect(c->wp, page))
		atomic_fetch_add_explicit(&c->unprotect_errors, 1, memory_order_relaxed);
}

static int writes_odd_thirds(int round, uint32_t p)
{
	(void)round;
	return p % 3 != 0;
}

static int writes_all(int round, uint32_t p)
{
	(void)round;
	(void)p;
	return 1;
}

/* Each writer stores to its share (page % nthreads) of the round's pages,
 * twice; the rounds are driven by the main thread through the barriers. */
static void *sync_writer(void *arg)
{
	struct writer *w = arg;
	struct sync_ctx *c = w->c;

	w->tid = gettid();
	w->reg = mmu_wp_thread_register(c->wp, sync_fault, w, w->err, sizeof(w->err));
	for (;;) {
		pthread_barrier_wait(&c->start);
		if (c->round < 0)
			break;
		for (int pass = 0; pass < 2; pass++) {
			for (uint32_t p = (uint32_t)w->index; p < NPAGES;
			     p += (uint32_t)c->nthreads) {
				if (c->writes(c->round, p))
					store(c->mem, p, ((uint64_t)c->round << 32) | p);
			}
		}
		pthread_barrier_wait(&c->done);
	}
	mmu_wp_thread_unregister(c->wp);
	return NULL;
}

static void sync_reset(struct sync_ctx *c)
{
	for (uint32_t p = 0; p < NPAGES; p++)
		atomic_store_explicit(&c->faults[p], 0, memory_order_relaxed);
}

/* Runs round @round and checks every page faulted @expect(p) times. */
static void sync_round(struct sync_ctx *c, int round, int (*writes)(int, uint32_t),
		       int (*expect)(uint32_t), const char *what)
{
	uint32_t bad = 0, first_bad = 0;

	sync_reset(c);
	c->round = round;
	c->writes = writes;
	pthread_barrier_wait(&c->start);
	pthread_barrier_wait(&c->done);
	for (uint32_t p = 0; p < NPAGES; p++) {
		unsigned f = atomic_load_explicit(&c->faults[p], memory_order_relaxed);

		if ((int)f != expect(p) && !bad++)
			first_bad = p;
		if (writes(round, p) && load(c->mem, p) != (((uint64_t)round << 32) | p))
			bad++;
	}
	/* relaxed: a count for the message, read after the round's barrier */
	CHECKF(bad == 0, "%s: %u pages wrong (first: page %u faulted %u times, expected %d)", what,
	       bad, first_bad, atomic_load_explicit(&c->faults[first_bad], memory_order_relaxed),
	       expect(first_bad));
}

static int expect_odd_thirds(uint32_t p)
{
	return p % 3 != 0;
}

static int expect_all(uint32_t p)
{
	(void)p;
	return 1;
}

static int expect_sub(uint32_t p)
{
	return p >= 64 && p < 128;
}

static int expect_none(uint32_t p)
{
	(void)p;
	return 0;
}

static int expect_sub_upper(uint32_t p)
{
	return p >= NPAGES / 2;
}

/* Protects the written pages of round 1 again, by runs. */
static int protect_written_runs(struct sync_ctx *c)
{
	struct mmu_wp_run runs[NPAGES];
	size_t n = 0;

	for (uint32_t p = 0; p < NPAGES; p++) {
		if (!expect_odd_thirds(p))
			continue;
		if (n && runs[n - 1].first + runs[n - 1].npages == p)
			runs[n - 1].npages++;
		else
			runs[n++] = (struct mmu_wp_run){ .first = p, .npages = 1 };
	}
	return mmu_wp_protect_runs(c->wp, runs, n);
}

static void sync_rounds(struct sync_ctx *c)
{
	/* 1: all protected, two thirds written */
	CHECK(mmu_wp_protect(c->wp, 0, NPAGES) == 0);
	sync_round(c, 1, writes_odd_thirds, expect_odd_thirds, "protected, 2/3 written");
	/* 2: nothing protected any more where written: no fault */
	sync_round(c, 2, writes_odd_thirds, expect_none, "written again, unprotected");
	/* 3: the written pages re-protected by runs; the third never written
	 * is still protected from round 1: every page faults once */
	CHECK(protect_written_runs(c) == 0);
	sync_round(c, 3, writes_all, expect_all, "re-protected by runs, all written");
	/* 4: only [64, 128) protected */
	CHECK(mmu_wp_protect(c->wp, 64, 64) == 0);
	sync_round(c, 4, writes_all, expect_sub, "sub-range protected");
}

static void handler_init(void *arg)
{
	struct sync_ctx *c = arg;

	/* relaxed: read only by this thread's own callbacks (sync_fault) */
	atomic_store_explicit(&c->handler_tid, gettid(), memory_order_relaxed);
}

static void handler_fini(void *arg)
{
	struct sync_ctx *c = arg;

	/* relaxed: read after mmu_wp_destroy has joined this thread */
	atomic_store_explicit(&c->handler_done, 1, memory_order_relaxed);
}

static void test_sync(enum mmu_wp_mechanism m, enum mmu_wp_delivery d, int nthreads)
{
	struct sync_ctx *c = calloc(1, sizeof(*c));
	struct mmu_wp_options o = { .mechanism = m,
				    .delivery = d,
				    .handler_init = handler_init,
				    .handler_fini = handler_fini,
				    .handler_arg = c };
	struct writer w[4];
	pthread_t t[4];
	char err[256] = "";

	c->mem = map_pages(NPAGES);
	CHECK(c->mem != NULL);
	c->wp = mmu_wp_create(c->mem, (uint64_t)NPAGES * PS, &o, err, sizeof(err));
	CHECKF(c->wp != NULL, "create: %s", err);
	if (!c->wp)
		goto out;
	c->delivery = d;
	c->nthreads = nthreads;
	pthread_barrier_init(&c->start, NULL, (unsigned)nthreads + 1);
	pthread_barrier_init(&c->done, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct writer){ .c = c, .index = i };
		pthread_create(&t[i], NULL, sync_writer, &w[i]);
	}
	sync_rounds(c);
	c->round = -1;
	pthread_barrier_wait(&c->start);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		CHECKF(w[i].reg == 0, "register: %s", w[i].err);
	}
	/* rounds 1, 3 and 4: 2/3 + all + 64 pages, each counted by the
	 * writer that registered it (whoever ran the callback) */
	/* relaxed, here and below: counts read after every writer was joined
	 * and the handler thread stopped (the joins order them) */
	unsigned total = 0;
	for (int i = 0; i < nthreads; i++)
		total += atomic_load_explicit(&w[i].faults, memory_order_relaxed);
	CHECKF(total == NPAGES - (NPAGES + 2) / 3 + NPAGES + 64, "callbacks: %u", total);
	CHECKF(atomic_load_explicit(&c->wrong_thread, memory_order_relaxed) == 0,
	       "%u callbacks on the wrong thread",
	       atomic_load_explicit(&c->wrong_thread, memory_order_relaxed));
	CHECK(atomic_load_explicit(&c->unprotect_errors, memory_order_relaxed) == 0);
	CHECK(mmu_wp_unregistered_faults(c->wp) == 0);
	CHECK(strcmp(mmu_wp_name(c->wp),
		     m == MMU_WP_UFFD ? (d == MMU_WP_SIGNAL ? "uffd-wp:signal" : "uffd-wp:thread")
				      : "mprotect:signal") == 0);
	pthread_barrier_destroy(&c->start);
	pthread_barrier_destroy(&c->done);
	mmu_wp_destroy(c->wp);
	CHECK(atomic_load_explicit(&c->handler_done, memory_order_relaxed) == (d == MMU_WP_THREAD));
out:
	if (c->mem)
		munmap(c->mem, (size_t)NPAGES * PS);
	free(c);
}

static void test_sync_all(enum mmu_wp_mechanism m, enum mmu_wp_delivery d)
{
	char why[256] = "";

	if (mmu_wp_probe(m, d, why, sizeof(why))) {
		printf("SKIP: %s:%s: %s\n", mmu_wp_mechanism_names[m], mmu_wp_delivery_names[d],
		       why);
		return;
	}
	printf("-- %s:%s, 1, 2 and 4 writers\n", mmu_wp_mechanism_names[m],
	       mmu_wp_delivery_names[d]);
	RUN(test_sync, m, d, 1);
	RUN(test_sync, m, d, 2);
	RUN(test_sync, m, d, 4);
}

/* ---- API errors and auto ---- */

static void stray_noop(void *arg, uint64_t page)
{
	(void)arg;
	(void)page;
}

static void test_api(void)
{
	struct mmu_wp_options o = { .mechanism = MMU_WP_AUTO };
	uint8_t *mem = map_pages(16);
	struct mmu_wp *wp;
	char err[256] = "";
	char why[256] = "";

	CHECK(mmu_wp_create(mem + 1, 4 * PS, &o, err, sizeof(err)) == NULL && err[0]);
	o.mechanism = MMU_WP_MPROTECT;
	o.delivery = MMU_WP_THREAD;
	err[0] = 0;
	CHECK(mmu_wp_create(mem, 4 * PS, &o, err, sizeof(err)) == NULL && strstr(err, "signal"));
	o.mechanism = MMU_WP_AUTO;
	o.delivery = MMU_WP_SIGNAL;
	wp = mmu_wp_create(mem, 16 * PS, &o, err, sizeof(err));
	CHECKF(wp != NULL, "auto: %s", err);
	if (wp) {
		/* auto is uffd where the kernel has it */
		CHECK(mmu_wp_mechanism(wp) ==
		      (mmu_wp_probe(MMU_WP_UFFD, MMU_WP_SIGNAL, why, sizeof(why)) ? MMU_WP_MPROTECT
										  : MMU_WP_UFFD));
		printf("auto: %s\n", mmu_wp_name(wp));
		CHECK(mmu_wp_npages(wp) == 16);
		CHECK(mmu_wp_protect(wp, 10, 7) == -EINVAL);
		CHECK(mmu_wp_unprotect(wp, 16) == -EINVAL);
		CHECK(mmu_wp_protect(wp, 16, 0) == 0);
		CHECK(mmu_wp_thread_register(wp, NULL, NULL, err, sizeof(err)) == -EINVAL);
		CHECK(mmu_wp_thread_register(wp, stray_noop, NULL, err, sizeof(err)) == 0);
		CHECK(mmu_wp_thread_register(wp, stray_noop, NULL, err, sizeof(err)) == -EEXIST);
		mmu_wp_thread_unregister(wp);
		mmu_wp_destroy(wp);
	}
	/* thread delivery: a write by a thread that did not register is
	 * resolved by the handler thread, and counted */
	o.mechanism = MMU_WP_UFFD;
	o.delivery = MMU_WP_THREAD;
	if (!mmu_wp_probe(o.mechanism, o.delivery, why, sizeof(why))) {
		wp = mmu_wp_create(mem, 16 * PS, &o, err, sizeof(err));
		CHECKF(wp != NULL, "thread: %s", err);
		if (wp) {
			CHECK(mmu_wp_protect(wp, 0, 16) == 0);
			store(mem, 5, 55);
			CHECK(load(mem, 5) == 55);
			CHECK(mmu_wp_unregistered_faults(wp) == 1);
			mmu_wp_destroy(wp);
		}
	}
	munmap(mem, 16 * PS);
}

/* Batches: masks over three words merge into runs across word borders,
 * one protect call per run, and exactly those pages fault. */
struct batch_ctx {
	struct mmu_wp *wp;
	unsigned faults[256];
};

static void batch_fault(void *arg, uint64_t page)
{
	struct batch_ctx *c = arg;

	if (page < 256)
		c->faults[page]++;
	mmu_wp_unprotect(c->wp, page);
}

static void test_batch(enum mmu_wp_mechanism m)
{
	struct mmu_wp_options o = { .mechanism = m };
	struct batch_ctx c;
	struct mmu_wp_batch b;
	uint8_t *mem = map_pages(256);
	uint64_t calls, masks[3] = { 0xc00000000000000full, 0x403ull, 0x1ull };
	char err[256] = "";
	uint32_t bad = 0;

	memset(&c, 0, sizeof(c));
	c.wp = mmu_wp_create(mem, 256 * PS, &o, err, sizeof(err));
	CHECKF(c.wp != NULL, "create: %s", err);
	if (!c.wp)
		goto out;
	CHECK(mmu_wp_thread_register(c.wp, batch_fault, &c, err, sizeof(err)) == 0);
	calls = mmu_wp_protect_calls(c.wp);
	mmu_wp_batch_init(&b, c.wp);
	for (int i = 0; i < 3; i++)
		mmu_wp_batch_add_mask(&b, 64 * (uint64_t)i, masks[i]);
	mmu_wp_batch_add_mask(&b, 192, ~0ull); /* a whole word */
	CHECK(mmu_wp_batch_flush(&b) == 0);
	/* runs: [0,4) [62,66) [74,75) [128,129) [192,256) */
	CHECKF(mmu_wp_protect_calls(c.wp) - calls == 5, "%llu protect calls for 5 runs",
	       (unsigned long long)(mmu_wp_protect_calls(c.wp) - calls));
	for (uint32_t p = 0; p < 256; p++)
		store(mem, p, p);
	for (uint32_t p = 0; p < 256; p++) {
		int want = p < 4 || (p >= 62 && p < 66) || p == 74 || p == 128 || p >= 192;

		bad += c.faults[p] != (unsigned)want;
	}
	CHECKF(bad == 0, "%u pages faulted wrongly", bad);
	mmu_wp_thread_unregister(c.wp);
	mmu_wp_destroy(c.wp);
out:
	munmap(mem, 256 * PS);
}

/* ---- mprotect's max_map_count refusal ---- */

static uint64_t maps_in_use(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uint64_t n = 0;
	int ch;

	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static void test_refusal(void)
{
	struct mmu_wp_options o = { .mechanism = MMU_WP_MPROTECT };
	uint8_t *mem = map_pages(NPAGES);
	struct mmu_wp *wp;
	char err[512] = "";
	uint64_t in_use = maps_in_use(), before, after;

	/* one short of the worst case: refused, with a message */
	o.max_map_count = in_use + MMU_WP_MAP_HEADROOM + NPAGES - 8;
	wp = mmu_wp_create(mem, (uint64_t)NPAGES * PS, &o, err, sizeof(err));
	CHECKF(wp == NULL && strstr(err, "mappings") && strstr(err, "limit"), "refusal: %s", err);
	printf("refused: %s\n", err);
	mmu_wp_destroy(wp);
	/* with room: accepted, and the worst case is real: alternating pages
	 * give one mapping per page */
	o.max_map_count = in_use + MMU_WP_MAP_HEADROOM + NPAGES + 64;
	wp = mmu_wp_create(mem, (uint64_t)NPAGES * PS, &o, err, sizeof(err));
	CHECKF(wp != NULL, "with room: %s", err);
	if (wp) {
		CHECK(mmu_wp_protect(wp, 0, NPAGES) == 0);
		before = maps_in_use();
		for (uint32_t p = 1; p < NPAGES; p += 2)
			CHECK(mmu_wp_unprotect(wp, p) == 0);
		after = maps_in_use();
		CHECKF(after - before + 2 >= NPAGES && after - before <= NPAGES,
		       "alternating pages: %llu more mappings, expected about %u",
		       (unsigned long long)(after - before), NPAGES - 1);
		mmu_wp_destroy(wp);
		CHECK(maps_in_use() <= before + 1); /* merged back */
	}
	munmap(mem, (size_t)NPAGES * PS);

	/* 256 MiB against the real vm.max_map_count (65530 by default) */
	size_t big = 65536;
	uint8_t *bmem = map_pages(big);
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	unsigned long long limit = 0;

	if (f && fscanf(f, "%llu", &limit) != 1)
		limit = 0;
	if (f)
		fclose(f);
	o.max_map_count = 0;
	err[0] = 0;
	wp = mmu_wp_create(bmem, big * PS, &o, err, sizeof(err));
	if (limit && limit < big + maps_in_use() + MMU_WP_MAP_HEADROOM) {
		CHECKF(wp == NULL && strstr(err, "vm.max_map_count"), "256 MiB: %s", err);
		printf("refused: %s\n", err);
	} else {
		printf("note: vm.max_map_count is %llu: 256 MiB fits, not refused\n", limit);
	}
	mmu_wp_destroy(wp);
	munmap(bmem, big * PS);
}

/* ---- stray faults are not swallowed ---- */

/* In a child: sets up @m, then does @what; returns how the child ended. */
static int stray_child(enum mmu_wp_mechanism m, int what)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct mmu_wp_options o = { .mechanism = m };
		int devnull = open("/dev/null", O_WRONLY);
		uint8_t *mem = map_pages(8);
		char err[256];
		struct mmu_wp *wp = mmu_wp_create(mem, 8 * PS, &o, err, sizeof(err));

		if (!wp || mmu_wp_protect(wp, 0, 8))
			_exit(3);
		/* a swallowed fault would re-fault for ever: SIGALRM ends it */
		alarm(2);
		/* the sanitizers' reports of the expected death: not in the log */
		if (devnull >= 0)
			dup2(devnull, 2);
		if (what == 0) {
			raise(m == MMU_WP_UFFD ? SIGBUS : SIGSEGV); /* sent, not a fault */
		} else if (what == 1) {
			store(mem, 2, 1); /* this thread never registered */
		} else {
			/* registered, but the write fault is elsewhere: a
			 * read-only page outside the range */
			uint8_t *ro = mmap(NULL, PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			mmu_wp_thread_register(wp, stray_noop, NULL, err, sizeof(err));
			if (ro != MAP_FAILED)
				store(ro, 0, 1);
		}
		_exit(0); /* swallowed */
	}
	waitpid(pid, &status, 0);
	return status;
}

static void test_stray(void)
{
	static const char *what[] = { "raised", "unregistered write", "write elsewhere" };
	enum mmu_wp_mechanism mechs[] = { MMU_WP_UFFD, MMU_WP_MPROTECT };
	char why[256];

	for (int i = 0; i < 2; i++) {
		if (mmu_wp_probe(mechs[i], MMU_WP_SIGNAL, why, sizeof(why)))
			continue;
		for (int k = 0; k < 3; k++) {
			int st = stray_child(mechs[i], k);
			int sig = mechs[i] == MMU_WP_UFFD && k < 2 ? SIGBUS : SIGSEGV;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
			/* the sanitizer's own handler (ours chains to it)
			 * reports the signal and exits non-zero instead */
			(void)sig;
			CHECKF(!(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3)),
			       "%s: %s: swallowed (status 0x%x)", mmu_wp_mechanism_names[mechs[i]],
			       what[k], st);
#else
			CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == sig,
			       "%s: %s: status 0x%x, expected death by signal %d",
			       mmu_wp_mechanism_names[mechs[i]], what[k], st, sig);
#endif
		}
	}
}

/* ---- uffd-wp async + PAGEMAP_SCAN ---- */

struct harvest {
	uint8_t seen[NPAGES];
	uint32_t runs;
	uint32_t out_of_range;
};

static void harvest_run(void *arg, uint64_t first, uint64_t npages)
{
	struct harvest *h = arg;

	h->runs++;
	for (uint64_t p = first; p < first + npages; p++) {
		if (p < NPAGES)
			h->seen[p]++;
		else
			h->out_of_range++;
	}
}

/* Scans and checks that exactly the pages with want(p) were reported once. */
static void scan_expect(struct uffd_async *ua, bool reprotect, int (*want)(uint32_t),
			const char *what)
{
	struct harvest h;
	uint32_t bad = 0, expected = 0;
	int64_t n;

	memset(&h, 0, sizeof(h));
	n = uffd_async_scan(ua, 0, NPAGES, reprotect, harvest_run, &h);
	for (uint32_t p = 0; p < NPAGES; p++) {
		expected += want(p) != 0;
		bad += h.seen[p] != (want(p) != 0);
	}
	CHECKF(n == expected && bad == 0 && h.out_of_range == 0,
	       "%s: scan returned %lld, %u pages wrong, expected %u", what, (long long)n, bad,
	       expected);
}

static int pattern_a(uint32_t p)
{
	/* scattered pages, short runs and one long run */
	return p % 7 == 3 || (p >= 100 && p < 103) || (p >= 300 && p < 420);
}

static int pattern_b(uint32_t p)
{
	return p % 5 == 0;
}

static int pattern_a_and_b(uint32_t p)
{
	return pattern_a(p) || pattern_b(p);
}

static void write_pattern(uint8_t *mem, int (*want)(uint32_t), uint64_t v)
{
	for (uint32_t p = 0; p < NPAGES; p++) {
		if (want(p))
			store(mem, p, v + p);
	}
}

/* The report callback writes each page it is told about. */
static void rewrite_run(void *arg, uint64_t first, uint64_t npages)
{
	for (uint64_t p = first; p < first + npages; p++)
		store(arg, p, 6000 + p);
}

static int64_t count_of(int (*want)(uint32_t))
{
	int64_t n = 0;

	for (uint32_t p = 0; p < NPAGES; p++)
		n += want(p) != 0;
	return n;
}

static void test_async(bool unpopulated, size_t max_regions)
{
	struct uffd_async_options o = { .unpopulated = unpopulated, .max_regions = max_regions };
	uint8_t *mem = map_pages(NPAGES);
	struct uffd_async *ua;
	char err[256] = "";

	ua = uffd_async_create(mem, (uint64_t)NPAGES * PS, &o, err, sizeof(err));
	CHECKF(ua != NULL, "create: %s", err);
	if (!ua)
		goto out;
	scan_expect(ua, true, expect_none, "clean at start");
	write_pattern(mem, pattern_a, 1000);
	scan_expect(ua, true, pattern_a, "pattern a");
	scan_expect(ua, true, expect_none, "re-protected");
	write_pattern(mem, pattern_a, 2000); /* written again: reported again */
	write_pattern(mem, pattern_b, 3000);
	scan_expect(ua, false, pattern_a_and_b, "a and b, no re-protect");
	scan_expect(ua, true, pattern_a_and_b, "a and b again, re-protect");
	scan_expect(ua, true, expect_none, "clean");
	/* clear-log style: written, then a range re-protected without a scan */
	write_pattern(mem, expect_all, 4000);
	CHECK(uffd_async_protect(ua, 0, NPAGES / 2) == 0);
	scan_expect(ua, true, expect_sub_upper, "upper half");
	for (uint32_t p = 0; p < NPAGES; p++) {
		uint64_t v = load(mem, p);

		if (v != 4000 + p) {
			CHECKF(0, "page %u holds %llu", p, (unsigned long long)v);
			break;
		}
	}
	/* a write while its page is being reported (between the report and
	 * the scan's return): the page was re-protected in the walk, before
	 * the report, so the write makes it written again */
	write_pattern(mem, pattern_b, 5000);
	CHECK(uffd_async_scan(ua, 0, NPAGES, true, rewrite_run, mem) == count_of(pattern_b));
	scan_expect(ua, true, pattern_b, "written while being reported");
	if (max_regions && max_regions < 8)
		CHECKF(uffd_async_ioctls(ua) > 8, "small vector: %llu ioctls",
		       (unsigned long long)uffd_async_ioctls(ua));
	uffd_async_destroy(ua);
out:
	munmap(mem, (size_t)NPAGES * PS);
}

/* More runs than the kernel's internal buffer of 512 regions, in one
 * ioctl and in several: exact counts (walk_end is stale, see
 * uffd_async_scan). */
static void count_run(void *arg, uint64_t first, uint64_t npages)
{
	uint64_t *c = arg;

	(void)first;
	c[0]++;
	c[1] += npages;
}

static void test_async_many(size_t max_regions)
{
	const uint64_t n = 8192;
	struct uffd_async_options o = { .max_regions = max_regions };
	uint8_t *mem = map_pages(n);
	struct uffd_async *ua;
	char err[256] = "";
	uint64_t c[2] = { 0, 0 };

	ua = uffd_async_create(mem, n * PS, &o, err, sizeof(err));
	CHECKF(ua != NULL, "create: %s", err);
	if (!ua)
		goto out;
	for (uint64_t p = 0; p < n; p += 3)
		store(mem, p, p);
	CHECK(uffd_async_scan(ua, 0, n, true, count_run, c) == (int64_t)(n + 2) / 3);
	CHECKF(c[0] == (n + 2) / 3 && c[1] == (n + 2) / 3, "%llu runs, %llu pages",
	       (unsigned long long)c[0], (unsigned long long)c[1]);
	CHECK(uffd_async_scan(ua, 0, n, true, NULL, NULL) == 0);
	for (uint64_t p = 1; p < n; p += 3)
		store(mem, p, p);
	CHECK(uffd_async_scan(ua, 0, n, true, NULL, NULL) == (int64_t)(n + 1) / 3);
	uffd_async_destroy(ua);
out:
	munmap(mem, n * PS);
}

static void test_async_all(void)
{
	char why[256] = "";

	if (uffd_async_probe(false, why, sizeof(why))) {
		printf("SKIP: uffd-wp-async: %s\n", why);
		return;
	}
	RUN(test_async, false, 0);
	RUN(test_async, false, 3);
	RUN(test_async_many, 0);
	RUN(test_async_many, 1000);
	if (uffd_async_probe(true, why, sizeof(why))) {
		printf("SKIP: uffd-wp-async:unpopulated=1: %s\n", why);
		return;
	}
	RUN(test_async, true, 0);
	RUN(test_async, true, 3);
}

/*
 * No lost write: writers store increasing values while the harvester
 * scans with re-protection and copies each reported page.  A write after
 * a page's last report makes it written again, so the last scan after
 * the writers stop brings the copy up to date.
 */
#define RACE_SCANS 300

struct race {
	struct uffd_async *ua;
	uint8_t *mem;
	uint64_t copy[NPAGES];
	atomic_int stop;	     /* relaxed: a stop flag; pthread_join orders the rest */
	atomic_uint_fast64_t stores; /* relaxed: a count */
};

static void race_copy(void *arg, uint64_t first, uint64_t npages)
{
	struct race *r = arg;

	for (uint64_t p = first; p < first + npages; p++)
		r->copy[p] = load(r->mem, p);
}

struct race_writer {
	struct race *r;
	uint64_t seed;
};

static void *race_write(void *arg)
{
	struct race_writer *w = arg;
	uint64_t rng, v = 1;

	rng = rng_seed(w->seed, 0);
	while (!atomic_load_explicit(&w->r->stop, memory_order_relaxed)) {
		/* pages of this writer only (parity), so values only grow */
		uint32_t p = (uint32_t)(rng_below(&rng, NPAGES / 2) * 2 + (w->seed & 1));

		store(w->r->mem, p, v++);
		atomic_fetch_add_explicit(&w->r->stores, 1, memory_order_relaxed);
		if (!(v & 63))
			sched_yield(); /* let the harvester in: 3 threads, 2 CPUs */
	}
	return NULL;
}

static void test_async_race(void)
{
	struct uffd_async_options o = { .max_regions = 16 };
	struct race *r = calloc(1, sizeof(*r));
	struct race_writer w[2];
	pthread_t t[2];
	char err[256] = "";
	uint32_t lost = 0;
	int64_t harvested = 0, scans = 0;

	r->mem = map_pages(NPAGES);
	r->ua = uffd_async_create(r->mem, (uint64_t)NPAGES * PS, &o, err, sizeof(err));
	CHECKF(r->ua != NULL, "create: %s", err);
	if (!r->ua)
		goto out;
	for (int i = 0; i < 2; i++) {
		w[i] = (struct race_writer){ .r = r, .seed = 7 + (uint64_t)i };
		pthread_create(&t[i], NULL, race_write, &w[i]);
	}
	/* until RACE_SCANS scans found written pages (progress, not time: on
	 * 2 CPUs the writers may start late or run in bursts) */
	for (int found = 0; found < RACE_SCANS && scans < 10000 * RACE_SCANS;) {
		int64_t n = uffd_async_scan(r->ua, 0, NPAGES, true, race_copy, r);

		CHECK(n >= 0);
		if (n < 0)
			break;
		found += n > 0;
		harvested += n;
		scans++;
	}
	CHECKF(scans < 10000 * RACE_SCANS, "the writers did not run during the scans");
	atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(uffd_async_scan(r->ua, 0, NPAGES, true, race_copy, r) >= 0);
	for (uint32_t p = 0; p < NPAGES; p++)
		lost += r->copy[p] != load(r->mem, p);
	CHECKF(lost == 0, "%u pages differ from the copy (lost writes)", lost);
	printf("async race: %llu stores, %lld pages harvested in %lld scans, %u lost\n",
	       (unsigned long long)atomic_load_explicit(&r->stores, memory_order_relaxed),
	       (long long)harvested, (long long)scans, lost);
	uffd_async_destroy(r->ua);
out:
	munmap(r->mem, (size_t)NPAGES * PS);
	free(r);
}

/* ---- soft-dirty ---- */

static void test_soft_dirty(void)
{
	uint8_t *mem = map_pages(NPAGES);
	struct soft_dirty *sd;
	struct harvest h;
	char err[256] = "";
	uint32_t bad = 0;

	sd = soft_dirty_create(mem, (uint64_t)NPAGES * PS, err, sizeof(err));
	if (!sd) {
		CHECKF(strncmp(err, "not supported by this kernel: ", 30) == 0, "unexpected: %s",
		       err);
		printf("SKIP: soft-dirty: %s\n", err);
		munmap(mem, (size_t)NPAGES * PS);
		return;
	}
	write_pattern(mem, expect_all, 1);
	CHECK(soft_dirty_clear(sd) == 0);
	memset(&h, 0, sizeof(h));
	CHECK(soft_dirty_scan(sd, 0, NPAGES, harvest_run, &h) == 0);
	write_pattern(mem, pattern_a, 2);
	memset(&h, 0, sizeof(h));
	soft_dirty_scan(sd, 0, NPAGES, harvest_run, &h);
	for (uint32_t p = 0; p < NPAGES; p++)
		bad += h.seen[p] != (pattern_a(p) != 0);
	CHECKF(bad == 0, "soft-dirty: %u pages wrong", bad);
	soft_dirty_destroy(sd);
	munmap(mem, (size_t)NPAGES * PS);
}

/* ---- probes and the fault floor ---- */

static void test_probes(void)
{
	char why[256];

	for (int m = 0; linux_dirty_mechanism_names[m]; m++) {
		why[0] = 0;
		int ret = linux_dirty_probe((enum linux_dirty_mechanism)m, why, sizeof(why));

		CHECK(ret == 0 || strncmp(why, "not supported by this kernel: ", 30) == 0);
		printf("probe %-14s %s\n", linux_dirty_mechanism_names[m], ret ? why : "available");
	}
	why[0] = 0;
	int ret = mmu_wp_probe(MMU_WP_UFFD, MMU_WP_THREAD, why, sizeof(why));
	printf("probe %-14s %s\n", "uffd-wp:thread", ret ? why : "available");
}

static void test_floor(enum mmu_wp_mechanism m, enum mmu_wp_delivery d)
{
	struct mmu_wp_options o = { .mechanism = m, .delivery = d };
	char err[256] = "", why[256];
	double ns = 0;

	if (mmu_wp_probe(m, d, why, sizeof(why))) {
		printf("SKIP: floor %s:%s: %s\n", mmu_wp_mechanism_names[m],
		       mmu_wp_delivery_names[d], why);
		return;
	}
	CHECKF(mmu_fault_floor(&o, 64, 128, &ns, err, sizeof(err)) == 0 && ns > 0, "floor: %s",
	       err);
	printf("fault floor %s:%s %.0f ns (not a measurement: see --probe)\n",
	       mmu_wp_mechanism_names[m], mmu_wp_delivery_names[d], ns);
}

/* ---- --probe: measurements for docs/notes/mmu.md ---- */

static double median_of(double *v, int n)
{
	return stats_median(v, (size_t)n);
}

static void probe_floors(void)
{
	static const struct {
		enum mmu_wp_mechanism m;
		enum mmu_wp_delivery d;
	} k[] = { { MMU_WP_UFFD, MMU_WP_SIGNAL },
		  { MMU_WP_UFFD, MMU_WP_THREAD },
		  { MMU_WP_MPROTECT, MMU_WP_SIGNAL } };

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct mmu_wp_options o = { .mechanism = k[i].m, .delivery = k[i].d };
		char err[256] = "";
		double ns = 0;

		if (mmu_fault_floor(&o, 1024, 16384, &ns, err, sizeof(err)))
			printf("fault floor %-16s %s\n", "", err);
		else
			printf("fault floor %s:%-8s %8.0f ns/fault (median of 16 rounds of 1024)\n",
			       mmu_wp_mechanism_names[k[i].m], mmu_wp_delivery_names[k[i].d], ns);
	}
}

/* UFFDIO_WRITEPROTECT (and mprotect) of @mib MiB, populated. */
static void probe_protect(uint64_t mib)
{
	uint64_t npages = mib << 8;
	uint8_t *mem = map_pages(npages);
	struct mmu_wp_options o = { .mechanism = MMU_WP_UFFD, .populate = true };
	char err[256] = "";
	double wp[7], un[7];
	struct mmu_wp *w = mem ? mmu_wp_create(mem, npages * PS, &o, err, sizeof(err)) : NULL;

	if (!w) {
		printf("protect %llu MiB: %s\n", (unsigned long long)mib, err);
		goto out;
	}
	for (int r = 0; r < 7; r++) {
		uint64_t t0 = now_ns();

		mmu_wp_protect(w, 0, npages);
		uint64_t t1 = now_ns();
		mmu_wp_unprotect_range(w, 0, npages);
		un[r] = (double)(now_ns() - t1) / 1e3;
		wp[r] = (double)(t1 - t0) / 1e3;
	}
	printf("UFFDIO_WRITEPROTECT %4llu MiB: protect %8.0f us, unprotect %8.0f us (median of "
	       "7)\n",
	       (unsigned long long)mib, median_of(wp, 7), median_of(un, 7));
	mmu_wp_destroy(w);
	for (int r = 0; r < 7; r++) {
		uint64_t t0 = now_ns();

		mprotect(mem, npages * PS, PROT_READ);
		uint64_t t1 = now_ns();
		mprotect(mem, npages * PS, PROT_READ | PROT_WRITE);
		un[r] = (double)(now_ns() - t1) / 1e3;
		wp[r] = (double)(t1 - t0) / 1e3;
	}
	printf("mprotect            %4llu MiB: protect %8.0f us, unprotect %8.0f us (median of "
	       "7)\n",
	       (unsigned long long)mib, median_of(wp, 7), median_of(un, 7));
out:
	if (mem)
		munmap(mem, npages * PS);
}

/* PAGEMAP_SCAN with re-protection of @mib MiB at @pct % written. */
static void probe_scan(uint64_t mib, const unsigned *pcts, int npct)
{
	uint64_t npages = mib << 8, rng;
	uint8_t *mem = map_pages(npages);
	struct uffd_async_options o = { 0 };
	char err[256] = "";
	struct uffd_async *ua =
		mem ? uffd_async_create(mem, npages * PS, &o, err, sizeof(err)) : NULL;
	uint64_t *pages = calloc(npages, sizeof(*pages));

	if (!ua || !pages) {
		printf("PAGEMAP_SCAN: %s\n", err);
		goto out;
	}
	rng = rng_seed(1, 0);
	for (int k = 0; k < npct; k++) {
		double t[7];
		int64_t got = 0;
		uint64_t ioctls0 = uffd_async_ioctls(ua);

		double wr[7];

		for (int r = 0; r < 7; r++) {
			uint64_t nw = 0, w0;

			for (uint64_t p = 0; p < npages; p++) {
				if (pcts[k] == 100 || rng_below(&rng, 100) < pcts[k])
					pages[nw++] = p;
			}
			w0 = now_ns();
			for (uint64_t i = 0; i < nw; i++)
				store(mem, pages[i], i + 1);
			/* each store hit a protected page: one async fault */
			wr[r] = nw ? (double)(now_ns() - w0) / (double)nw : 0;
			uint64_t t0 = now_ns();
			got = uffd_async_scan(ua, 0, npages, true, NULL, NULL);
			t[r] = (double)(now_ns() - t0) / 1e3;
		}
		printf("PAGEMAP_SCAN %llu MiB, %3u%% written: %8.0f us (median of 7; %lld pages,"
		       " %.1f ioctls per scan); writer %.0f ns per async fault\n",
		       (unsigned long long)mib, pcts[k], median_of(t, 7), (long long)got,
		       (double)(uffd_async_ioctls(ua) - ioctls0) / 7, median_of(wr, 7));
	}
out:
	uffd_async_destroy(ua);
	free(pages);
	if (mem)
		munmap(mem, npages * PS);
}

static void probe_sig(int sig)
{
	(void)sig;
}

/* Context: a system call, a first-touch page fault (no uffd), a signal
 * delivered to an empty handler, one un-protect ioctl. */
static void probe_baseline(void)
{
	uint8_t *mem = map_pages(1024);
	double sc[7], pf[7];

	for (int r = 0; r < 7 && mem; r++) {
		uint64_t t0 = now_ns();

		for (int i = 0; i < 10000; i++)
			getppid();
		sc[r] = (double)(now_ns() - t0) / 10000;
		madvise(mem, 1024 * PS, MADV_DONTNEED);
		t0 = now_ns();
		for (uint32_t p = 0; p < 1024; p++)
			store(mem, p, p);
		pf[r] = (double)(now_ns() - t0) / 1024;
	}
	if (mem) {
		struct mmu_wp_options o = { .mechanism = MMU_WP_UFFD, .populate = true };
		char err[256];
		struct mmu_wp *wp = mmu_wp_create(mem, 1024 * PS, &o, err, sizeof(err));
		struct sigaction sa = { .sa_handler = probe_sig };
		double sg[7], wp1[7];

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		for (int r = 0; r < 7; r++) {
			uint64_t t0 = now_ns();

			for (int i = 0; i < 10000; i++)
				raise(SIGUSR1);
			sg[r] = (double)(now_ns() - t0) / 10000;
			t0 = now_ns();
			for (uint32_t p = 0; wp && p < 1024; p++)
				mmu_wp_unprotect(wp, p);
			wp1[r] = (double)(now_ns() - t0) / 1024;
		}
		mmu_wp_destroy(wp);
		printf("signal to self + handler     %8.0f ns (median of 7 x 10000)\n",
		       median_of(sg, 7));
		printf("UFFDIO_WRITEPROTECT 1 page   %8.0f ns (un-protect, median of 7 x 1024)\n",
		       median_of(wp1, 7));
		printf("system call (getppid)        %8.0f ns (median of 7 x 10000)\n",
		       median_of(sc, 7));
		printf("first-touch page fault       %8.0f ns (median of 7 x 1024)\n",
		       median_of(pf, 7));
		munmap(mem, 1024 * PS);
	}
}

static int probe(uint64_t mib)
{
	probe_baseline();
	static const unsigned pcts[] = { 0, 1, 10, 100 };

	test_probes();
	probe_floors();
	probe_protect(64);
	probe_protect(mib);
	probe_scan(mib, pcts, 4);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const tests[] = { "api",	 "uffd-signal", "uffd-thread",
					     "mprotect", "refusal",	"stray",
					     "async",	 "async-race",	"soft-dirty",
					     "floor",	 "probes",	NULL };
	int want[16] = { 0 }, any = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "--probe"))
		return probe(argc > 2 ? strtoull(argv[2], NULL, 10) : 256);
	for (int i = 1; i < argc; i++) {
		int k = 0;

		while (tests[k] && strcmp(tests[k], argv[i]))
			k++;
		if (!tests[k]) {
			fprintf(stderr, "test_mmu_real: unknown test '%s'\n", argv[i]);
			return 2;
		}
		want[k] = any = 1;
	}
	for (int k = 0; tests[k]; k++)
		want[k] |= !any;
	if (want[0]) {
		RUN(test_api);
		RUN(test_batch, MMU_WP_UFFD);
		RUN(test_batch, MMU_WP_MPROTECT);
	}
	if (want[1])
		test_sync_all(MMU_WP_UFFD, MMU_WP_SIGNAL);
	if (want[2])
		test_sync_all(MMU_WP_UFFD, MMU_WP_THREAD);
	if (want[3])
		test_sync_all(MMU_WP_MPROTECT, MMU_WP_SIGNAL);
	if (want[4])
		RUN(test_refusal);
	if (want[5])
		RUN(test_stray);
	if (want[6])
		test_async_all();
	if (want[7])
		RUN(test_async_race);
	if (want[8])
		RUN(test_soft_dirty);
	if (want[9]) {
		RUN(test_floor, MMU_WP_UFFD, MMU_WP_SIGNAL);
		RUN(test_floor, MMU_WP_UFFD, MMU_WP_THREAD);
		RUN(test_floor, MMU_WP_MPROTECT, MMU_WP_SIGNAL);
	}
	if (want[10])
		RUN(test_probes);
	return check_exit();
}
