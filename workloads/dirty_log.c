/*
 * dlbench dirty-log: the kernel's dirty_log_perf_test on the emulated VM
 * (lib/vm/vm.h).  Pinned vCPU threads dirty guest memory while the
 * harvester collects the dirty log with the strategy under test, in the
 * kernel test's iteration mode or continuously (a display refreshing a
 * framebuffer, live migration).
 *
 * A cell is one (strategy, mode) pair, run on a fresh VM:
 *
 *   populate     every vCPU writes its region once, sequentially, logging off
 *   floors       raw: plain stores over the same memory in the same order,
 *                no emulated MMU; vcpu: the vCPU loop itself with logging off
 *                (every spte writable) -- the page-touch floor
 *   enable       dirty logging on (the strategy's initial spte state)
 *   iteration    per iteration: dirty pass (every vCPU once over its region),
 *                get log, clear log (where the strategy separates them)
 *   continuous   the vCPUs dirty without pause; the harvester gets and
 *                clears every harvest interval for the duration
 *   disable      dirty logging off (every spte writable again)
 *
 * Strategy "none" runs the same cell with logging never enabled.
 *
 * Threads.  One pinned thread per vCPU (lib/util/workers.h) runs the vCPU
 * loop; the calling thread is the harvester and sequences the phases.  The
 * harvester publishes a phase by writing its parameters and then bumping
 * run->gen with a release store; a vCPU waits for the bump with acquire
 * loads, runs the phase and reports it done with a release store of the
 * same generation to its own done_gen, which the harvester reads with
 * acquire.  Between phases the vCPUs are outside guest mode, as the kernel
 * test's vCPU threads are in userspace between passes, so a harvest in
 * iteration mode never waits for them.
 *
 * Waiting for log space.  A strategy may make a vCPU leave guest mode and
 * wait until the harvester frees space (a full dirty ring).  Whenever the
 * harvester waits for the vCPUs, or sleeps between continuous-mode ticks,
 * it looks every DLW_DEMAND_POLL_NS whether the VM says a vCPU waits
 * (vm_log_space_wanted) and harvests at once (as QEMU reaps the rings on
 * KVM_EXIT_DIRTY_RING_FULL), so a pass never deadlocks on a ring smaller
 * than the pass.
 *
 * Hot path.  A guest write is vcpu_write_page: a load of the spte, the
 * store, a load of the vCPU's requests, and a per-vCPU access counter.
 * Only the write-fault path is timed (lib/vm/vm.c times it when
 * vcpu.stall_hist is set): two clock reads and one histogram_record into
 * the vCPU's own histogram.  The harvester merges a vCPU's histogram only
 * while that vCPU is idle between phases (ordered by the done_gen/gen
 * handshake above), and resets it there.
 *
 * Logging on and off.  vm_create turns logging on; the workload turns it
 * off (vm_disable_dirty_logging: every spte writable, so no write faults
 * and no marks) for the populate and floor passes, on again
 * (vm_enable_dirty_logging: the strategy's initial spte state) for the
 * mode, and off at the end.  Strategy "none" creates the VM without a log.
 *
 * Outputs: kernel-style lines per phase (unless --quiet), closing tables
 * on stdout; summary.csv (one row per iteration, one per continuous run;
 * every parameter in its own column), hist/<strategy>-<mode>-<name>.csv
 * (stall = time in the write-fault path plus waits in a pause or for
 * dirty-ring space; harvest = get + clear; get-log; clear-log), meta.json.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/compiler.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"
#include "lib/util/topology.h"
#include "lib/util/workers.h"
#include "lib/vm/vm.h"
#include "workloads/common_options.h"
#include "workloads/threads.h"
#include "workloads/workload.h"

#define DLW_DEFAULT_INTERVAL_MS 30.0
#define DLW_DEFAULT_DURATION_S 1.0
/* Pages a continuous-mode vCPU touches between two looks at the stop flag. */
#define DLW_CHUNK_PAGES 256u
/* The value every guest write stores (the kernel test's pattern). */
#define DLW_WRITE_PATTERN 0x0123456789abcdefull
/* How often a harvester that waits looks for vCPUs waiting for log space. */
#define DLW_DEMAND_POLL_NS 100000ull

/* ---- options ---- */

/* clang-format off */
enum dlw_mode {
	DLW_MODE_ITERATION,
	DLW_MODE_CONTINUOUS,
};
/* clang-format on */

static const char *const dlw_mode_names[] = { "iteration", "continuous", NULL };

struct dlw_opts {
	const char *strategy; /* spec, or DIRTY_LOG_NONE */
	const char *mode;     /* iteration|continuous; NULL: from the options */
	uint64_t vcpus;
	uint64_t bytes_per_vcpu;
	uint64_t iterations;	/* iteration mode, >= 2 */
	uint64_t write_percent; /* 0..100 */
	bool random;		/* random page order (with replacement) */
	bool overlap;		/* every vCPU accesses all of guest memory */
	const char *cpus;	/* CPU list; NULL: placement */
	int placement;
	int64_t harvester_cpu; /* -1: the harvester is not pinned */
	int backing;
	uint64_t slots;
	uint64_t seed;
	const char *numa;
	int fault_path;
	const char *memslot_protect;
	double harvest_interval_ms; /* 0: not given */
	double duration_s;	    /* 0: not given */
	uint64_t floor_passes;	    /* passes per floor; the fastest one counts */
	bool list_strategies;
	bool quiet; /* no kernel-style progress lines */
	int mmu, mmu_wp, fault_delivery;
	int vm_srcu;	    /* vm_options.srcu */
	int srcu_expedited; /* vm_options.srcu_expedited */
};

/* The values a cell runs with, resolved from its options. */
struct dlw_config {
	const struct dlw_opts *o;
	enum dlw_mode mode;
	bool logging; /* false for "none" */
	int vcpus;
	uint64_t guest_bytes;
	uint64_t harvest_interval_ns; /* continuous mode */
	uint64_t duration_ns;	      /* continuous mode */
	enum guest_numa_policy numa;
	int numa_node;
	const int *cpus; /* vcpus entries */
};

/* ---- results of a cell ---- */

/* One harvest row: an iteration, or the whole of a continuous run. */
struct dlw_row {
	unsigned iteration;	/* 1.. (iteration mode); 0 (continuous) */
	uint64_t dirty_pass_ns; /* iteration: the longest vCPU's pass, each
				       * timed from its own start; continuous:
				       * mean per-vCPU pass */
	uint64_t get_log_ns;	/* iteration: this harvest; continuous: mean */
	uint64_t clear_log_ns;
	uint64_t accesses;	  /* page touches by all vCPUs */
	uint64_t faults;	  /* write faults taken: pages dirtied */
	uint64_t pages_harvested; /* reported by get_log */
	uint64_t passes;	  /* complete vCPU passes (continuous) */
	uint64_t demand_harvests; /* harvests for a vCPU that waited for log
				       * space (a full dirty ring), as QEMU reaps
				       * on KVM_EXIT_DIRTY_RING_FULL */
	uint64_t flush_acks;
	uint64_t ring_full_exits;
	struct histogram *stall; /* merged over vCPUs */
};

struct dlw_cell {
	bool separate_clear; /* the strategy has a clear step of its own */
	/* the kernel marks (uffd-wp-async, soft-dirty): no fault reaches
	 * userspace, the pages dirtied are the pages the harvests reported */
	bool kernel_marker;
	uint64_t pages_per_pass; /* per vCPU */
	uint64_t populate_ns;
	uint64_t raw_pass_ns;	/* fastest raw floor pass */
	uint64_t floor_pass_ns; /* fastest vCPU-loop pass, logging off */
	uint64_t enable_ns, disable_ns;
	unsigned nrows;
	struct dlw_row *rows;
	/* continuous mode */
	uint64_t run_ns;	  /* measured duration */
	uint64_t harvests;	  /* timed harvests (the final one excluded),
				       * demand harvests included */
	uint64_t final_harvested; /* pages of the final harvest */
	/* merged over the whole cell */
	struct histogram *stall;   /* vCPU stalls: fault path + kick waits */
	struct histogram *harvest; /* get + clear, per harvest */
	struct histogram *get_log;
	struct histogram *clear_log;
	/* what the cell ran on */
	char mmu[32]; /* vm_mmu_name */
	char vm_srcu[16];
	double fault_floor_ns; /* < 0: none (soft) */
};

/* ---- threads ---- */

/* clang-format off */
enum dlw_phase {
	DLW_PHASE_PASS,        /* one pass of the vCPU loop over the region */
	DLW_PHASE_RAW,         /* one pass of plain stores, no emulated MMU */
	DLW_PHASE_CONTINUOUS,  /* vCPU-loop passes until run->stop */
	DLW_PHASE_EXIT,
};
/* clang-format on */

enum dlw_writes {
	DLW_WRITES_NONE,
	DLW_WRITES_ALL,
	DLW_WRITES_MIXED
};

struct dlw_run;

struct dlw_vcpu {
	/* Owned by the vCPU thread while a phase runs; read and reset by the
	 * harvester only between phases. */
	_Alignas(CACHELINE) struct dlw_run *run;
	struct vcpu *v;
	uint64_t first_gfn;
	uint64_t npages; /* of its region: one pass */
	uint64_t rng;	 /* lib/util/rng.h state */
	struct histogram *stall;
	uint64_t pass_start_ns, pass_end_ns;
	uint64_t pass_ns_sum, passes; /* complete passes (continuous) */
	uint64_t sink;		      /* keeps guest reads alive */
	char err[160];		      /* why vcpu_thread_begin failed */

	/* The vCPU's "phase done" flag: release store by the vCPU, acquire
	 * loads by the harvester; and whether it could begin (1) or not (-1),
	 * the same way. */
	_Alignas(CACHELINE) atomic_uint done_gen;
	atomic_int begun;
};

struct dlw_run {
	const struct dlw_config *cfg;
	struct dlw_cell *cell;
	struct vm *vm;
	struct dlw_vcpu *vc;
	int n;
	unsigned long *dirty; /* the harvest's bitmap, one bit per gfn */
	int harvest_error;    /* the first -errno of a harvest */
	/* the harvests made on demand while the vCPUs run a phase */
	uint64_t demand_harvests, demand_pages;

	/* Phase parameters: written by the harvester before the release
	 * store of gen, read by the vCPUs after their acquire load of it. */
	enum dlw_phase phase;
	enum dlw_writes writes;
	unsigned write_percent;
	bool random;
	bool timed; /* record stalls in this phase */

	_Alignas(CACHELINE) atomic_uint gen;
	/* Continuous mode's stop: relaxed, a flag with no data behind it
	 * (the results are handed over by done_gen). */
	_Alignas(CACHELINE) atomic_int stop;
};

/* A value in [0, n) from 32 random bits (n < 2^32), without a division:
 * one rng_next gives both the page and the write decision. */
static inline uint64_t scale32(uint32_t r, uint64_t n)
{
	return ((uint64_t)r * n) >> 32;
}

/* ---- the vCPU loop ---- */

/*
 * @count accesses of the vCPU, continuing its position @*pos in the region
 * (sequential order) or drawing pages at random.  Specialized by the
 * compiler for each constant combination of @random, @writes and @raw.
 */
static inline __attribute__((always_inline)) void dlw_touch(struct dlw_vcpu *c, uint64_t *pos,
							    uint64_t count, bool random,
							    enum dlw_writes writes,
							    unsigned write_percent, bool raw)
{
	struct vcpu *v = c->v;
	uint8_t *base = v->guest_base;
	const uint64_t first = c->first_gfn, n = c->npages;
	uint64_t p = *pos, rng = c->rng, sink = 0;

	for (uint64_t k = 0; k < count; k++) {
		uint64_t r = 0, gfn;
		bool write;

		if (random || writes == DLW_WRITES_MIXED)
			r = rng_next(&rng);
		if (random) {
			gfn = first + scale32((uint32_t)r, n);
		} else {
			gfn = first + p;
			if (++p == n)
				p = 0;
		}
		if (writes == DLW_WRITES_ALL)
			write = true;
		else if (writes == DLW_WRITES_NONE)
			write = false;
		else
			write = scale32((uint32_t)(r >> 32), 100) < write_percent;

		if (raw) {
			_Atomic uint64_t *word = guest_word(base + (gfn << PAGE_SHIFT));

			/* relaxed: a plain store or load; atomic only so that
			 * overlapping vCPUs do not race in the C sense */
			if (write)
				atomic_store_explicit(word, DLW_WRITE_PATTERN,
						      memory_order_relaxed);
			else
				sink += atomic_load_explicit(word, memory_order_relaxed);
		} else if (write) {
			vcpu_write_page(v, gfn, DLW_WRITE_PATTERN);
		} else {
			/* a guest read needs no writable spte */
			sink += atomic_load_explicit(guest_word(base + (gfn << PAGE_SHIFT)),
						     memory_order_relaxed);
			v->stats.accesses++;
			vcpu_exit_point(v);
		}
	}
	*pos = p;
	c->rng = rng;
	c->sink += sink;
}

/* Dispatches to a specialized copy of dlw_touch. */
static void dlw_touch_pages(struct dlw_vcpu *c, uint64_t *pos, uint64_t count, bool random,
			    enum dlw_writes writes, unsigned wp, bool raw)
{
#define DLW_TOUCH(rnd, wr, rw) dlw_touch(c, pos, count, rnd, wr, wp, rw)
	if (raw) {
		if (random)
			writes == DLW_WRITES_ALL ? DLW_TOUCH(true, DLW_WRITES_ALL, true)
						 : DLW_TOUCH(true, DLW_WRITES_MIXED, true);
		else
			writes == DLW_WRITES_ALL ? DLW_TOUCH(false, DLW_WRITES_ALL, true)
						 : DLW_TOUCH(false, DLW_WRITES_MIXED, true);
		return;
	}
	switch (writes) {
	case DLW_WRITES_ALL:
		random ? DLW_TOUCH(true, DLW_WRITES_ALL, false)
		       : DLW_TOUCH(false, DLW_WRITES_ALL, false);
		break;
	case DLW_WRITES_NONE:
		random ? DLW_TOUCH(true, DLW_WRITES_NONE, false)
		       : DLW_TOUCH(false, DLW_WRITES_NONE, false);
		break;
	default:
		random ? DLW_TOUCH(true, DLW_WRITES_MIXED, false)
		       : DLW_TOUCH(false, DLW_WRITES_MIXED, false);
		break;
	}
#undef DLW_TOUCH
}

static void dlw_continuous(struct dlw_vcpu *c, enum dlw_writes writes, unsigned wp, bool random)
{
	struct dlw_run *run = c->run;

	/* relaxed: a stop flag; dlw_wait_done's handshake orders the rest */
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t t0 = now_ns(), done = 0, pos = 0;

		while (done < c->npages &&
		       !atomic_load_explicit(&run->stop, memory_order_relaxed)) {
			uint64_t k = c->npages - done < DLW_CHUNK_PAGES ? c->npages - done
									: DLW_CHUNK_PAGES;

			dlw_touch_pages(c, &pos, k, random, writes, wp, false);
			done += k;
		}
		if (done == c->npages) {
			c->pass_ns_sum += now_ns() - t0;
			c->passes++;
		}
	}
}

/* One phase on the vCPU's thread. */
static void dlw_vcpu_phase(struct dlw_vcpu *c, enum dlw_phase phase)
{
	struct dlw_run *run = c->run;
	struct vcpu *v = c->v;

	if (phase != DLW_PHASE_RAW) {
		v->stall_hist = run->timed ? c->stall : NULL;
		vcpu_enter_guest(v);
	}
	c->pass_start_ns = now_ns();
	if (phase == DLW_PHASE_CONTINUOUS) {
		dlw_continuous(c, run->writes, run->write_percent, run->random);
	} else {
		uint64_t pos = 0;

		dlw_touch_pages(c, &pos, c->npages, run->random, run->writes, run->write_percent,
				phase == DLW_PHASE_RAW);
	}
	c->pass_end_ns = now_ns();
	if (phase != DLW_PHASE_RAW) {
		vcpu_exit_guest(v);
		v->stall_hist = NULL;
	}
}

static void dlw_vcpu_thread(struct worker *w)
{
	struct dlw_run *run = w->arg;
	struct dlw_vcpu *c = &run->vc[w->index];
	unsigned seen = 0;

	if (vcpu_thread_begin(c->v, c->err, sizeof(c->err))) {
		/* release: pairs with the harvester's acquire in dlw_wait_begun */
		atomic_store_explicit(&c->begun, -1, memory_order_release);
		return;
	}
	/* idle outside guest mode until the first phase */
	vcpu_exit_guest(c->v);
	atomic_store_explicit(&c->begun, 1, memory_order_release);
	for (;;) {
		unsigned gen;
		enum dlw_phase phase;

		/* acquire: pairs with the harvester's release of gen, so the
		 * phase parameters (and the spte state) it wrote are visible */
		for (unsigned n = 0;
		     (gen = atomic_load_explicit(&run->gen, memory_order_acquire)) == seen; n++)
			vm_backoff(n);
		seen = gen;
		phase = run->phase;
		if (phase == DLW_PHASE_EXIT)
			break;
		dlw_vcpu_phase(c, phase);
		/* release: pairs with the harvester's acquire in dlw_wait_done;
		 * our counters, histogram and timestamps are handed over */
		atomic_store_explicit(&c->done_gen, gen, memory_order_release);
	}
	vcpu_thread_end(c->v);
}

/* ---- the harvester side ---- */

static unsigned dlw_publish(struct dlw_run *run, enum dlw_phase phase)
{
	/* relaxed: only the harvester writes gen */
	unsigned gen = atomic_load_explicit(&run->gen, memory_order_relaxed) + 1;

	run->phase = phase;
	/* release: pairs with the vCPUs' acquire loads of gen */
	atomic_store_explicit(&run->gen, gen, memory_order_release);
	return gen;
}

/* Waits until every vCPU has begun or failed to; 0, or -1 with the first
 * failure's line in @err. */
static int dlw_wait_begun(struct dlw_run *run, char *err, size_t errlen)
{
	for (int i = 0; i < run->n; i++) {
		int b;

		/* acquire: pairs with the vCPU's release of begun (its err
		 * line is written before a -1) */
		for (unsigned k = 0;
		     !(b = atomic_load_explicit(&run->vc[i].begun, memory_order_acquire)); k++)
			vm_backoff(k);
		if (b < 0) {
			snprintf(err, errlen, "%s", run->vc[i].err);
			return -1;
		}
	}
	return 0;
}

struct dlw_harvest {
	uint64_t get_ns, clear_ns, pages;
};

/* One harvest: get then clear, timed.  Timed harvests go into the cell's
 * histograms; the final one (DIRTY_LOG_FINAL) does not.  A failure is kept
 * in run->harvest_error and ends the cell. */
static void dlw_harvest(struct dlw_run *run, unsigned flags, struct dlw_harvest *h)
{
	struct dlw_cell *cell = run->cell;
	uint64_t t0 = now_ns(), t1, t2;
	int rc = dirty_log_get(run->vm->log, run->dirty, flags);

	t1 = now_ns();
	if (!rc)
		rc = dirty_log_clear(run->vm->log, run->dirty);
	t2 = now_ns();
	if (rc && !run->harvest_error)
		run->harvest_error = rc;
	h->get_ns = t1 - t0;
	h->clear_ns = t2 - t1;
	h->pages = bitmap_weight(run->dirty, run->vm->npages);
	if (!(flags & DIRTY_LOG_FINAL)) {
		histogram_record(cell->get_log, h->get_ns);
		histogram_record(cell->clear_log, h->clear_ns);
		histogram_record(cell->harvest, h->get_ns + h->clear_ns);
		cell->harvests++;
	}
}

/* A harvest for a vCPU that waits for log space. */
static void dlw_demand_harvest(struct dlw_run *run)
{
	struct dlw_harvest h;

	dlw_harvest(run, 0, &h);
	run->demand_harvests++;
	run->demand_pages += h.pages;
}

/* Waits until every vCPU has finished phase @gen.  With @serve, a vCPU
 * that waits for log space meanwhile gets a harvest at once. */
static void dlw_wait_done(struct dlw_run *run, unsigned gen, bool serve)
{
	uint64_t next_poll = serve ? now_ns() + DLW_DEMAND_POLL_NS : 0;

	for (int i = 0; i < run->n; i++)
		/* acquire: pairs with the vCPU's release of done_gen */
		for (unsigned k = 0;
		     atomic_load_explicit(&run->vc[i].done_gen, memory_order_acquire) != gen; k++) {
			vm_backoff(k);
			if (serve && now_ns() >= next_poll) {
				if (vm_log_space_wanted(run->vm))
					dlw_demand_harvest(run);
				next_poll = now_ns() + DLW_DEMAND_POLL_NS;
			}
		}
}

/* Runs one phase on every vCPU; returns the longest vCPU's pass: the time
 * for every vCPU to write its region once, each timed from its own start
 * (so that a vCPU woken late does not count its wake-up). */
static uint64_t dlw_run_phase(struct dlw_run *run, enum dlw_phase phase, enum dlw_writes writes,
			      bool random, bool logging)
{
	uint64_t longest = 0;
	unsigned gen;

	run->writes = writes;
	run->random = random;
	run->timed = logging;
	gen = dlw_publish(run, phase);
	dlw_wait_done(run, gen, logging);
	for (int i = 0; i < run->n; i++) {
		uint64_t t = run->vc[i].pass_end_ns - run->vc[i].pass_start_ns;

		if (t > longest)
			longest = t;
	}
	return longest;
}

static enum dlw_writes dlw_writes_of(uint64_t wp)
{
	return wp >= 100 ? DLW_WRITES_ALL : wp == 0 ? DLW_WRITES_NONE : DLW_WRITES_MIXED;
}

/* Sums the vCPUs' counters (vCPUs idle). */
static void dlw_stats_sum(const struct dlw_run *run, struct vcpu_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < run->n; i++) {
		const struct vcpu_stats *s = &run->vc[i].v->stats;

		sum->accesses += s->accesses;
		sum->faults += vcpu_faults(run->vc[i].v);
		sum->flush_acks += s->flush_acks;
		sum->ring_full_exits += s->ring_full_exits;
	}
}

/* Moves the vCPUs' stall samples into @into and @cell_total (vCPUs idle). */
static void dlw_collect_stalls(struct dlw_run *run, struct histogram *into,
			       struct histogram *cell_total)
{
	for (int i = 0; i < run->n; i++) {
		histogram_merge(into, run->vc[i].stall);
		histogram_merge(cell_total, run->vc[i].stall);
		histogram_init(run->vc[i].stall);
	}
}

static void dlw_row_from(struct dlw_row *row, const struct vcpu_stats *before,
			 const struct vcpu_stats *after)
{
	row->accesses = after->accesses - before->accesses;
	row->faults = after->faults - before->faults;
	row->flush_acks = after->flush_acks - before->flush_acks;
	row->ring_full_exits = after->ring_full_exits - before->ring_full_exits;
}

/* ---- kernel-style lines ---- */

static void dlw_print_seconds(struct wl_ctx *ctx, const struct dlw_config *cfg, const char *what,
			      uint64_t ns)
{
	if (!cfg->o->quiet)
		wl_printf(ctx, "%s: %llu.%09llus\n", what, (unsigned long long)(ns / 1000000000ull),
			  (unsigned long long)(ns % 1000000000ull));
}

static void dlw_print_total(struct wl_ctx *ctx, const char *what, unsigned n, uint64_t total)
{
	wl_printf(ctx, "%s over %u iterations took %llu.%09llus. (Avg %llu.%09llus/iteration)\n",
		  what, n, (unsigned long long)(total / 1000000000ull),
		  (unsigned long long)(total % 1000000000ull),
		  (unsigned long long)(total / n / 1000000000ull),
		  (unsigned long long)(total / n % 1000000000ull));
}

/* The closing lines of iteration mode: iteration 1 apart from the rest. */
static void dlw_print_iterations(struct wl_ctx *ctx, const struct dlw_config *cfg,
				 const struct dlw_cell *cell)
{
	unsigned n = (unsigned)cfg->o->iterations, rest = n - 1;
	uint64_t pass = 0, get = 0, clear = 0;
	char what[96];

	if (cfg->o->quiet)
		return;
	for (unsigned i = 1; i < cell->nrows; i++) {
		pass += cell->rows[i].dirty_pass_ns;
		get += cell->rows[i].get_log_ns;
		clear += cell->rows[i].clear_log_ns;
	}
	wl_printf(ctx, "\n");
	dlw_print_seconds(ctx, cfg, "Iteration 1 dirty memory time", cell->rows[0].dirty_pass_ns);
	snprintf(what, sizeof(what), "Iterations 2-%u average dirty memory time", n);
	dlw_print_seconds(ctx, cfg, what, pass / rest);
	if (!cfg->logging)
		return;
	dlw_print_seconds(ctx, cfg, "Iteration 1 get dirty log time", cell->rows[0].get_log_ns);
	snprintf(what, sizeof(what), "Iterations 2-%u average get dirty log time", n);
	dlw_print_seconds(ctx, cfg, what, get / rest);
	if (cell->separate_clear) {
		dlw_print_seconds(ctx, cfg, "Iteration 1 clear dirty log time",
				  cell->rows[0].clear_log_ns);
		snprintf(what, sizeof(what), "Iterations 2-%u average clear dirty log time", n);
		dlw_print_seconds(ctx, cfg, what, clear / rest);
	}
	dlw_print_total(ctx, "Get dirty log", n, get + cell->rows[0].get_log_ns);
	if (cell->separate_clear)
		dlw_print_total(ctx, "Clear dirty log", n, clear + cell->rows[0].clear_log_ns);
}

/* ---- the modes ---- */

/* Iteration @it: a dirty pass, then a harvest. */
static void dlw_iteration(struct wl_ctx *ctx, struct dlw_run *run, struct dlw_row *row, unsigned it)
{
	const struct dlw_config *cfg = run->cfg;
	struct dlw_cell *cell = run->cell;
	struct vcpu_stats before, after;
	struct dlw_harvest h = { 0, 0, 0 };
	char what[96];

	row->iteration = it;
	run->demand_harvests = run->demand_pages = 0;
	dlw_stats_sum(run, &before);
	row->dirty_pass_ns =
		dlw_run_phase(run, DLW_PHASE_PASS, dlw_writes_of(cfg->o->write_percent),
			      cfg->o->random, cfg->logging);
	dlw_stats_sum(run, &after);
	dlw_row_from(row, &before, &after);
	dlw_collect_stalls(run, row->stall, cell->stall);
	snprintf(what, sizeof(what), "Iteration %u dirty memory time", it);
	dlw_print_seconds(ctx, cfg, what, row->dirty_pass_ns);
	if (!cfg->logging)
		return;
	dlw_harvest(run, 0, &h);
	row->get_log_ns = h.get_ns;
	row->clear_log_ns = h.clear_ns;
	row->pages_harvested = h.pages + run->demand_pages;
	row->demand_harvests = run->demand_harvests;
	if (cell->kernel_marker)
		row->faults = row->pages_harvested;
	snprintf(what, sizeof(what), "Iteration %u get dirty log time", it);
	dlw_print_seconds(ctx, cfg, what, h.get_ns);
	if (cell->separate_clear) {
		snprintf(what, sizeof(what), "Iteration %u clear dirty log time", it);
		dlw_print_seconds(ctx, cfg, what, h.clear_ns);
	}
}

static int dlw_iterations(struct wl_ctx *ctx, struct dlw_run *run)
{
	const struct dlw_config *cfg = run->cfg;
	struct dlw_cell *cell = run->cell;

	cell->rows = calloc(cfg->o->iterations, sizeof(*cell->rows));
	if (!cell->rows)
		return -1;
	for (unsigned it = 1; it <= cfg->o->iterations; it++) {
		struct dlw_row *row = &cell->rows[cell->nrows];

		row->stall = histogram_new();
		if (!row->stall)
			return -1;
		cell->nrows++;
		dlw_iteration(ctx, run, row, it);
	}
	dlw_print_iterations(ctx, cfg, cell);
	return 0;
}

/* Sleeps until @until, or less when @poll is shorter. */
static void dlw_sleep_until(uint64_t until, uint64_t poll)
{
	uint64_t now = now_ns();

	if (now < until)
		sleep_ns(until - now < poll ? until - now : poll);
}

/* Sums of the timed harvests of a continuous run. */
struct dlw_ticks {
	uint64_t get_sum, clear_sum, harvested, ticks;
};

/* The harvester's loop of a continuous run, until the duration is over:
 * a harvest every interval, and one on demand for a vCPU waiting for log
 * space. */
static void dlw_continuous_loop(struct dlw_run *run, uint64_t start, struct dlw_ticks *t)
{
	const struct dlw_config *cfg = run->cfg;
	/* only a strategy that can make a vCPU wait for log space needs the
	 * harvester to look for waiting vCPUs between its ticks */
	const bool can_block = cfg->logging && dirty_log_can_block(run->vm->log);
	uint64_t end = start + cfg->duration_ns, next = start + cfg->harvest_interval_ns;
	uint64_t next_demand = start + DLW_DEMAND_POLL_NS;
	struct dlw_harvest h;

	for (;;) {
		uint64_t now = now_ns();

		if (now >= end)
			break;
		if (now >= next) {
			if (cfg->logging) {
				dlw_harvest(run, 0, &h);
				t->get_sum += h.get_ns;
				t->clear_sum += h.clear_ns;
				t->harvested += h.pages;
				t->ticks++;
			}
			/* the next tick, skipping ticks a slow harvest missed */
			now = now_ns();
			while (next <= now)
				next += cfg->harvest_interval_ns;
			continue;
		}
		/* one look per poll interval: a vCPU that was just given space
		 * takes a moment to notice it and re-enter guest mode */
		if (can_block && now >= next_demand) {
			if (vm_log_space_wanted(run->vm))
				dlw_demand_harvest(run);
			next_demand = now_ns() + DLW_DEMAND_POLL_NS;
			continue;
		}
		dlw_sleep_until(next < end ? next : end,
				can_block ? next_demand - now : UINT64_MAX);
	}
}

static void dlw_print_continuous(struct wl_ctx *ctx, const struct dlw_run *run)
{
	const struct dlw_config *cfg = run->cfg;
	const struct dlw_cell *cell = run->cell;
	const struct dlw_row *row = &cell->rows[0];
	double s = (double)cell->run_ns / 1e9;

	if (cfg->o->quiet)
		return;
	wl_printf(ctx,
		  "Continuous dirtying for %.3fs, harvest every %.3f ms: %llu harvests (%llu on "
		  "demand)\n",
		  s, (double)cfg->harvest_interval_ns / 1e6, (unsigned long long)cell->harvests,
		  (unsigned long long)run->demand_harvests);
	wl_printf(ctx,
		  "Pages dirtied: %llu (%.0f/s), harvested: %llu (%.0f/s), final harvest: %llu\n",
		  (unsigned long long)row->faults, (double)row->faults / s,
		  (unsigned long long)row->pages_harvested, (double)row->pages_harvested / s,
		  (unsigned long long)cell->final_harvested);
	wl_printf(
		ctx,
		"vCPU stall p50 %llu ns, p99 %llu ns, p99.9 %llu ns, max %llu ns (%llu samples)\n",
		(unsigned long long)histogram_quantile(row->stall, 0.50),
		(unsigned long long)histogram_quantile(row->stall, 0.99),
		(unsigned long long)histogram_quantile(row->stall, 0.999),
		(unsigned long long)row->stall->max, (unsigned long long)row->stall->count);
	if (cell->harvests)
		wl_printf(ctx, "Harvest latency p50 %llu ns, p99 %llu ns, max %llu ns\n",
			  (unsigned long long)histogram_quantile(cell->harvest, 0.50),
			  (unsigned long long)histogram_quantile(cell->harvest, 0.99),
			  (unsigned long long)cell->harvest->max);
}

static int dlw_continuous_run(struct wl_ctx *ctx, struct dlw_run *run)
{
	const struct dlw_config *cfg = run->cfg;
	struct dlw_cell *cell = run->cell;
	struct dlw_ticks t = { 0, 0, 0, 0 };
	struct vcpu_stats before, after;
	struct dlw_harvest h;
	struct dlw_row *row;
	uint64_t start, pass_sum = 0, passes = 0;
	unsigned gen;

	cell->rows = calloc(1, sizeof(*cell->rows));
	if (!cell->rows || !(cell->rows[0].stall = histogram_new()))
		return -1;
	cell->nrows = 1;
	row = &cell->rows[0];
	run->demand_harvests = run->demand_pages = 0;
	dlw_stats_sum(run, &before);
	run->writes = dlw_writes_of(cfg->o->write_percent);
	run->random = cfg->o->random;
	run->timed = cfg->logging;
	atomic_store_explicit(&run->stop, 0, memory_order_relaxed);
	start = now_ns();
	gen = dlw_publish(run, DLW_PHASE_CONTINUOUS);
	dlw_continuous_loop(run, start, &t);
	atomic_store_explicit(&run->stop, 1, memory_order_relaxed);
	dlw_wait_done(run, gen, cfg->logging);
	cell->run_ns = now_ns() - start;
	dlw_stats_sum(run, &after);
	dlw_row_from(row, &before, &after);
	dlw_collect_stalls(run, row->stall, cell->stall);
	if (cfg->logging) {
		/* no vCPU runs: everything still outstanding is reported */
		dlw_harvest(run, DIRTY_LOG_FINAL, &h);
		cell->final_harvested = h.pages;
	}
	for (int i = 0; i < run->n; i++) {
		pass_sum += run->vc[i].pass_ns_sum;
		passes += run->vc[i].passes;
	}
	row->passes = passes;
	row->dirty_pass_ns = passes ? pass_sum / passes : 0;
	row->get_log_ns = t.ticks ? t.get_sum / t.ticks : 0;
	row->clear_log_ns = t.ticks ? t.clear_sum / t.ticks : 0;
	row->pages_harvested = t.harvested + run->demand_pages;
	row->demand_harvests = run->demand_harvests;
	if (cell->kernel_marker)
		row->faults = row->pages_harvested + cell->final_harvested;
	dlw_print_continuous(ctx, run);
	return 0;
}

/* ---- one cell ---- */

static void dlw_cell_free(struct dlw_cell *cell)
{
	for (unsigned i = 0; i < cell->nrows; i++)
		free(cell->rows[i].stall);
	free(cell->rows);
	free(cell->stall);
	free(cell->harvest);
	free(cell->get_log);
	free(cell->clear_log);
	memset(cell, 0, sizeof(*cell));
}

static struct dirty_log *dlw_log_create(const struct dlw_config *cfg, uint64_t pages_per_pass,
					char *err, size_t errlen)
{
	/* Iteration mode harvests only between passes: a strategy that keeps
	 * per-vCPU space (dirty-ring) is told to hold a whole pass.  Continuous
	 * mode leaves the strategy its default, so a full ring is a real case
	 * (the vCPU waits, the harvester reaps on demand). */
	struct dirty_log_hints hints = {
		.max_dirty_per_vcpu = cfg->mode == DLW_MODE_ITERATION ? pages_per_pass : 0,
	};

	return dirty_log_create(cfg->o->strategy, &hints, err, errlen);
}

/* The vCPUs' regions, random streams and histograms. */
static int dlw_vcpus_init(struct dlw_run *run, uint64_t per_pass, char *err, size_t errlen)
{
	const struct dlw_config *cfg = run->cfg;

	run->vc = aligned_alloc(CACHELINE, sizeof(*run->vc) * (size_t)cfg->vcpus);
	if (!run->vc) {
		snprintf(err, errlen, "out of memory for %d vCPUs", cfg->vcpus);
		return -1;
	}
	memset(run->vc, 0, sizeof(*run->vc) * (size_t)cfg->vcpus);
	for (int i = 0; i < cfg->vcpus; i++) {
		struct dlw_vcpu *c = &run->vc[i];

		atomic_init(&c->done_gen, 0);
		atomic_init(&c->begun, 0);
		c->run = run;
		c->v = &run->vm->vcpus[i];
		c->first_gfn = cfg->o->overlap ? 0 : (uint64_t)i * per_pass;
		c->npages = per_pass;
		c->rng = rng_seed(cfg->o->seed, (uint64_t)i);
		c->stall = histogram_new();
		if (!c->stall) {
			snprintf(err, errlen, "out of memory for histograms");
			return -1;
		}
	}
	return 0;
}

/* Populate, then the floors (logging off, untimed stalls). */
static void dlw_floors(struct wl_ctx *ctx, struct dlw_run *run)
{
	const struct dlw_config *cfg = run->cfg;
	struct dlw_cell *cell = run->cell;
	enum dlw_writes writes = dlw_writes_of(cfg->o->write_percent);
	double per_pass = (double)cell->pages_per_pass;

	/* populate: 100% writes, sequential, logging off */
	cell->populate_ns = dlw_run_phase(run, DLW_PHASE_PASS, DLW_WRITES_ALL, false, false);
	dlw_print_seconds(ctx, cfg, "Populate memory time", cell->populate_ns);
	for (unsigned k = 0; k < cfg->o->floor_passes; k++) {
		uint64_t raw = dlw_run_phase(run, DLW_PHASE_RAW, writes, cfg->o->random, false);
		uint64_t loop = dlw_run_phase(run, DLW_PHASE_PASS, writes, cfg->o->random, false);

		if (!k || raw < cell->raw_pass_ns)
			cell->raw_pass_ns = raw;
		if (!k || loop < cell->floor_pass_ns)
			cell->floor_pass_ns = loop;
	}
	if (!cfg->o->quiet) {
		wl_printf(ctx, "Floor, raw page touch (plain stores): %.2f ns/page\n",
			  (double)cell->raw_pass_ns / per_pass);
		wl_printf(ctx, "Floor, vCPU loop with logging off: %.2f ns/page (pass %.6fs)\n",
			  (double)cell->floor_pass_ns / per_pass,
			  (double)cell->floor_pass_ns / 1e9);
	}
	/* the floor passes ran untimed; their (absent) stalls are not kept */
	for (int i = 0; i < run->n; i++)
		histogram_init(run->vc[i].stall);
}

/* The phases, with the vCPU threads running: floors, logging on, the
 * mode, logging off.  0, or -1 (out of memory for results). */
static int dlw_phases(struct wl_ctx *ctx, struct dlw_run *run)
{
	const struct dlw_config *cfg = run->cfg;
	struct dlw_cell *cell = run->cell;
	uint64_t t0;
	int rc;

	/* logging off for the populate and floor passes */
	vm_disable_dirty_logging(run->vm);
	dlw_floors(ctx, run);
	if (cfg->logging) {
		t0 = now_ns();
		vm_enable_dirty_logging(run->vm);
		cell->enable_ns = now_ns() - t0;
		dlw_print_seconds(ctx, cfg, "Enabling dirty logging time", cell->enable_ns);
		if (!cfg->o->quiet)
			wl_printf(ctx, "\n");
	}
	if (cfg->mode == DLW_MODE_ITERATION)
		rc = dlw_iterations(ctx, run);
	else
		rc = dlw_continuous_run(ctx, run);
	if (rc)
		return rc;
	if (cfg->logging) {
		t0 = now_ns();
		vm_disable_dirty_logging(run->vm);
		cell->disable_ns = now_ns() - t0;
		dlw_print_seconds(ctx, cfg, "Disabling dirty logging time", cell->disable_ns);
	}
	return 0;
}

/* Starts the vCPU threads, runs the phases, stops the threads. */
static int dlw_threads(struct wl_ctx *ctx, struct dlw_run *run, char *err, size_t errlen)
{
	struct workers g;
	int rc;

	if (workers_start(&g, run->n, run->cfg->cpus, dlw_vcpu_thread, run, "vCPU")) {
		/* workers_start printed which thread and CPU, and why */
		snprintf(err, errlen, "cannot start the vCPU threads");
		return WL_ERROR;
	}
	workers_go(&g);
	rc = dlw_wait_begun(run, err, errlen) ? WL_ERROR : 0;
	if (!rc && dlw_phases(ctx, run)) {
		snprintf(err, errlen, "out of memory for results");
		rc = WL_ERROR;
	}
	if (!rc && run->harvest_error) {
		snprintf(err, errlen, "%s: a harvest failed: %s", run->cfg->o->strategy,
			 strerror(-run->harvest_error));
		rc = WL_ERROR;
	}
	/* every vCPU is idle here: each phase was waited for */
	dlw_publish(run, DLW_PHASE_EXIT);
	workers_join(&g);
	return rc;
}

static void dlw_vm_options(const struct dlw_config *cfg, struct vm_options *vo)
{
	const struct dlw_opts *o = cfg->o;

	memset(vo, 0, sizeof(*vo));
	vo->nslots = (uint32_t)o->slots;
	vo->nvcpus = cfg->vcpus;
	vo->fault_path = (enum fault_path)o->fault_path;
	vo->memslot_protect = workload_memslot_protect(o->memslot_protect, o->vm_srcu);
	workload_mmu_options(vo, o->mmu, o->mmu_wp, o->fault_delivery);
	vo->srcu = o->vm_srcu;
	vo->srcu_expedited = o->srcu_expedited;
}

/* Runs one cell on @mem: 0, or WL_ERROR / WL_BAD_INPUT with a line. */
static int dlw_run_vm(struct wl_ctx *ctx, const struct dlw_config *cfg, struct dlw_cell *cell,
		      struct guest_memory *mem, char *err, size_t errlen)
{
	uint64_t pages = cfg->guest_bytes >> PAGE_SHIFT;
	struct vm_options vo;
	struct dlw_run run = { .cfg = cfg,
			       .cell = cell,
			       .n = cfg->vcpus,
			       .write_percent = (unsigned)cfg->o->write_percent };
	struct dirty_log *log = NULL;
	int rc = WL_BAD_INPUT;

	dlw_vm_options(cfg, &vo);
	atomic_init(&run.gen, 0);
	atomic_init(&run.stop, 0);
	cell->pages_per_pass = cfg->o->overlap ? pages : pages / (uint64_t)cfg->vcpus;
	/* strategy "none": a VM without a dirty log */
	if (cfg->logging && !(log = dlw_log_create(cfg, cell->pages_per_pass, err, errlen)))
		return WL_BAD_INPUT;
	cell->separate_clear = log && dirty_log_has_clear(log);
	cell->kernel_marker = log && dirty_log_mmu_kind(log) == DIRTY_LOG_MMU_KERNEL;
	cell->fault_floor_ns = workload_fault_floor(ctx, &vo, log);
	run.vm = vm_create(&vo, mem, log, err, errlen);
	if (!run.vm)
		goto out;
	snprintf(cell->mmu, sizeof(cell->mmu), "%s", vm_mmu_name(run.vm));
	snprintf(cell->vm_srcu, sizeof(cell->vm_srcu), "%s", vm_srcu_name(run.vm));
	workload_mmu_meta(ctx, run.vm);
	workload_vm_srcu_meta(ctx, run.vm);
	rc = WL_ERROR;
	run.dirty = bitmap_alloc_plain(pages);
	if (!run.dirty)
		snprintf(err, errlen, "out of memory for a %llu-page bitmap",
			 (unsigned long long)pages);
	else if (!dlw_vcpus_init(&run, cell->pages_per_pass, err, errlen))
		rc = dlw_threads(ctx, &run, err, errlen);
	if (run.vc)
		for (int i = 0; i < cfg->vcpus; i++)
			free(run.vc[i].stall);
	free(run.vc);
	free(run.dirty);
	vm_destroy(run.vm);
out:
	dirty_log_free(log);
	return rc;
}

static int dlw_run_cell(struct wl_ctx *ctx, const struct dlw_config *cfg, struct dlw_cell *cell,
			char *err, size_t errlen)
{
	struct guest_memory_options mo = {
		.bytes = cfg->guest_bytes,
		.backing = (enum guest_backing)cfg->o->backing,
		.numa = cfg->numa,
		.numa_node = cfg->numa_node,
		.prefault = false, /* the vCPUs populate, as in the kernel test */
	};
	struct guest_memory mem;
	int rc;

	memset(cell, 0, sizeof(*cell));
	cell->stall = histogram_new();
	cell->harvest = histogram_new();
	cell->get_log = histogram_new();
	cell->clear_log = histogram_new();
	if (!cell->stall || !cell->harvest || !cell->get_log || !cell->clear_log) {
		snprintf(err, errlen, "out of memory for histograms");
		return WL_ERROR;
	}
	if (guest_memory_create(&mem, &mo, err, errlen))
		return WL_BAD_INPUT;
	rc = dlw_run_vm(ctx, cfg, cell, &mem, err, errlen);
	guest_memory_destroy(&mem);
	return rc;
}

/* ---- costs of the measurement ---- */

#define DLW_CALIBRATION_SAMPLES (1u << 20)

/* One histogram_record, in ns. */
static double dlw_histogram_sample_ns(void)
{
	enum {
		NVALUES = 4096,
		ROUNDS = DLW_CALIBRATION_SAMPLES / NVALUES
	};
	struct histogram *h = histogram_new();
	uint64_t *values = malloc(NVALUES * sizeof(*values));
	uint64_t s = rng_seed(0, 0), t0, t1;
	double ns = 0;

	if (h && values) {
		/* values spread over 0..1 ms, as fault-path stalls are; drawn
		 * beforehand so that only histogram_record is timed */
		for (unsigned i = 0; i < NVALUES; i++)
			values[i] = rng_next(&s) & 0xfffff;
		t0 = now_ns();
		for (unsigned r = 0; r < ROUNDS; r++)
			for (unsigned i = 0; i < NVALUES; i++)
				histogram_record(h, values[i]);
		t1 = now_ns();
		ns = (double)(t1 - t0) / (double)h->count;
	}
	free(values);
	free(h);
	return ns;
}

/* One now_ns(), in ns (a timed fault takes two). */
static double dlw_clock_read_ns(void)
{
	const unsigned n = DLW_CALIBRATION_SAMPLES / 16;
	uint64_t t0 = now_ns(), last = t0;

	for (unsigned i = 0; i < n; i++)
		last = now_ns(); /* a vDSO call: not removed by the compiler */
	return (double)(last - t0) / (double)n;
}

/* ---- the table: columns ---- */

/* clang-format off */
enum {
	COL_STRATEGY, COL_FAULT_PATH, COL_MEMSLOT_PROTECT, COL_VCPUS, COL_BYTES_PER_VCPU,
	COL_BACKING, COL_SLOTS, COL_WRITE_PERCENT, COL_RANDOM, COL_OVERLAP, COL_NUMA,
	COL_PLACEMENT, COL_CPUS, COL_HARVESTER_CPU, COL_SEED, COL_MODE, COL_ITERATION,
	COL_HARVEST_INTERVAL_NS, COL_DURATION_NS, COL_DIRTY_PASS_NS, COL_GET_LOG_NS,
	COL_CLEAR_LOG_NS, COL_PAGES_DIRTIED, COL_PAGES_HARVESTED, COL_ACCESSES,
	COL_STALL_SAMPLES, COL_STALL_P50_NS, COL_STALL_P99_NS, COL_STALL_P999_NS,
	COL_STALL_MAX_NS, COL_FLOOR_PAGE_TOUCH_NS, COL_FLOOR_PASS_NS, COL_RAW_PAGE_TOUCH_NS,
	COL_DIRTY_PAGE_TOUCH_NS, COL_PAGES_PER_PASS, COL_POPULATE_NS, COL_ENABLE_LOG_NS,
	COL_DISABLE_LOG_NS, COL_HARVESTS, COL_HARVEST_P50_NS, COL_HARVEST_P99_NS,
	COL_HARVEST_MAX_NS, COL_RUN_NS, COL_PAGES_DIRTIED_PER_S, COL_PAGES_HARVESTED_PER_S,
	COL_PAGE_TOUCHES_PER_S, COL_FINAL_HARVESTED, COL_FLUSH_ACKS, COL_RING_FULL_EXITS,
	COL_HIST_SAMPLE_NS, COL_CLOCK_READ_NS, COL_MMU, COL_MMU_MECHANISM, COL_VM_SRCU,
	COL_FAULT_FLOOR_NS,
};
/* clang-format on */

#define TEXT(n)                    \
	{                          \
		n, WL_COL_TEXT, "" \
	}
#define UINT(n, unit)                \
	{                            \
		n, WL_COL_UINT, unit \
	}
#define REAL(n, unit, fmt)                   \
	{                                    \
		n, WL_COL_REAL, unit, 0, fmt \
	}

/* 55 columns, in the order of summary.csv (stdout has its own tables). */
/* clang-format off */
static const struct wl_column dlw_columns[] = {
	[COL_STRATEGY] = TEXT("strategy"),
	[COL_FAULT_PATH] = TEXT("fault_path"),
	[COL_MEMSLOT_PROTECT] = TEXT("memslot_protect"),
	[COL_VCPUS] = UINT("vcpus", ""),
	[COL_BYTES_PER_VCPU] = UINT("bytes_per_vcpu", "bytes"),
	[COL_BACKING] = TEXT("backing"),
	[COL_SLOTS] = UINT("slots", ""),
	[COL_WRITE_PERCENT] = UINT("write_percent", "%"),
	[COL_RANDOM] = UINT("random", "0/1"),
	[COL_OVERLAP] = UINT("overlap", "0/1"),
	[COL_NUMA] = TEXT("numa"),
	[COL_PLACEMENT] = TEXT("placement"),
	[COL_CPUS] = TEXT("cpus"),
	[COL_HARVESTER_CPU] = { "harvester_cpu", WL_COL_INT, "" },
	[COL_SEED] = UINT("seed", ""),
	[COL_MODE] = TEXT("mode"),
	[COL_ITERATION] = UINT("iteration", ""),
	[COL_HARVEST_INTERVAL_NS] = UINT("harvest_interval_ns", "ns"),
	[COL_DURATION_NS] = UINT("duration_ns", "ns"),
	[COL_DIRTY_PASS_NS] = UINT("dirty_pass_ns", "ns"),
	[COL_GET_LOG_NS] = UINT("get_log_ns", "ns"),
	[COL_CLEAR_LOG_NS] = UINT("clear_log_ns", "ns"),
	[COL_PAGES_DIRTIED] = UINT("pages_dirtied", "pages"),
	[COL_PAGES_HARVESTED] = UINT("pages_harvested", "pages"),
	[COL_ACCESSES] = UINT("accesses", ""),
	[COL_STALL_SAMPLES] = UINT("stall_samples", ""),
	[COL_STALL_P50_NS] = UINT("stall_p50_ns", "ns"),
	[COL_STALL_P99_NS] = UINT("stall_p99_ns", "ns"),
	[COL_STALL_P999_NS] = UINT("stall_p999_ns", "ns"),
	[COL_STALL_MAX_NS] = UINT("stall_max_ns", "ns"),
	[COL_FLOOR_PAGE_TOUCH_NS] = REAL("floor_page_touch_ns", "ns", "%.3f"),
	[COL_FLOOR_PASS_NS] = UINT("floor_pass_ns", "ns"),
	[COL_RAW_PAGE_TOUCH_NS] = REAL("raw_page_touch_ns", "ns", "%.3f"),
	[COL_DIRTY_PAGE_TOUCH_NS] = REAL("dirty_page_touch_ns", "ns", "%.3f"),
	[COL_PAGES_PER_PASS] = UINT("pages_per_pass", "pages"),
	[COL_POPULATE_NS] = UINT("populate_ns", "ns"),
	[COL_ENABLE_LOG_NS] = UINT("enable_log_ns", "ns"),
	[COL_DISABLE_LOG_NS] = UINT("disable_log_ns", "ns"),
	[COL_HARVESTS] = UINT("harvests", ""),
	[COL_HARVEST_P50_NS] = UINT("harvest_p50_ns", "ns"),
	[COL_HARVEST_P99_NS] = UINT("harvest_p99_ns", "ns"),
	[COL_HARVEST_MAX_NS] = UINT("harvest_max_ns", "ns"),
	[COL_RUN_NS] = UINT("run_ns", "ns"),
	[COL_PAGES_DIRTIED_PER_S] = REAL("pages_dirtied_per_s", "1/s", "%.0f"),
	[COL_PAGES_HARVESTED_PER_S] = REAL("pages_harvested_per_s", "1/s", "%.0f"),
	[COL_PAGE_TOUCHES_PER_S] = REAL("page_touches_per_s", "1/s", "%.0f"),
	[COL_FINAL_HARVESTED] = UINT("final_harvested", "pages"),
	[COL_FLUSH_ACKS] = UINT("flush_acks", ""),
	[COL_RING_FULL_EXITS] = UINT("ring_full_exits", ""),
	[COL_HIST_SAMPLE_NS] = REAL("hist_sample_ns", "ns", "%.2f"),
	[COL_CLOCK_READ_NS] = REAL("clock_read_ns", "ns", "%.2f"),
	[COL_MMU] = TEXT("mmu"),
	[COL_MMU_MECHANISM] = TEXT("mmu_mechanism"),
	[COL_VM_SRCU] = TEXT("vm_srcu"),
	[COL_FAULT_FLOOR_NS] = REAL("fault_floor_ns", "ns", "%.0f"),
	{ 0 },
};
/* clang-format on */

#undef TEXT
#undef UINT
#undef REAL

/* ---- per invocation ---- */

/* One line of the closing tables. */
struct table_line {
	char strategy[64];
	enum dlw_mode mode;
	bool logging;
	double pass1_ms, pass_rest_ms, floor_ms;
	double get_ms, clear_ms;
	double stall_p50_us, stall_p99_us, stall_p999_us, stall_max_us;
	double harvest_p50_us, harvest_p99_us, harvest_max_us;
	double dirtied_per_s, harvested_per_s, touches_per_s;
	uint64_t harvests;
	char mmu[32];
	double fault_floor_us; /* < 0: none */
};

/* What every cell of one invocation shares (set at cell 0; the options
 * that decide it are the same in every cell). */
static struct {
	int cpus[4096];
	char cpus_text[512];
	char numa[32];
	double hist_sample_ns, clock_read_ns;
	struct table_line *table;
	size_t ntable;
	const struct dlw_opts *o; /* the last cell's, for the table headers */
} inv;

/* ---- rows ---- */

static void emit_params(struct wl_ctx *ctx, const struct dlw_config *cfg, const struct dlw_row *row)
{
	const struct dlw_opts *o = cfg->o;
	const bool cont = cfg->mode == DLW_MODE_CONTINUOUS;

	wl_put_text(ctx, COL_STRATEGY, o->strategy);
	wl_put_text(ctx, COL_FAULT_PATH, fault_path_names[o->fault_path]);
	wl_put_text(ctx, COL_MEMSLOT_PROTECT,
		    workload_memslot_protect(o->memslot_protect, o->vm_srcu));
	wl_put_uint(ctx, COL_VCPUS, o->vcpus);
	wl_put_uint(ctx, COL_BYTES_PER_VCPU, o->bytes_per_vcpu);
	wl_put_text(ctx, COL_BACKING, guest_backing_names[o->backing]);
	wl_put_uint(ctx, COL_SLOTS, o->slots);
	wl_put_uint(ctx, COL_WRITE_PERCENT, o->write_percent);
	wl_put_uint(ctx, COL_RANDOM, o->random);
	wl_put_uint(ctx, COL_OVERLAP, o->overlap);
	wl_put_text(ctx, COL_NUMA, inv.numa);
	wl_put_text(ctx, COL_PLACEMENT, o->cpus ? "list" : workload_placement_names[o->placement]);
	wl_put_text(ctx, COL_CPUS, inv.cpus_text);
	wl_put_int(ctx, COL_HARVESTER_CPU, o->harvester_cpu);
	wl_put_uint(ctx, COL_SEED, o->seed);
	wl_put_text(ctx, COL_MODE, dlw_mode_names[cfg->mode]);
	wl_put_uint(ctx, COL_ITERATION, row->iteration);
	if (cont) {
		wl_put_uint(ctx, COL_HARVEST_INTERVAL_NS, cfg->harvest_interval_ns);
		wl_put_uint(ctx, COL_DURATION_NS, cfg->duration_ns);
	}
	wl_put_real(ctx, COL_HIST_SAMPLE_NS, inv.hist_sample_ns);
	wl_put_real(ctx, COL_CLOCK_READ_NS, inv.clock_read_ns);
}

static void emit_mmu(struct wl_ctx *ctx, const struct dlw_config *cfg, const struct dlw_cell *cell)
{
	wl_put_text(ctx, COL_MMU, vm_mmu_names[cfg->o->mmu]);
	wl_put_text(ctx, COL_MMU_MECHANISM, cell->mmu);
	wl_put_text(ctx, COL_VM_SRCU, cell->vm_srcu);
	workload_put_fault_floor(ctx, COL_FAULT_FLOOR_NS, cell->fault_floor_ns);
}

static void emit_stalls(struct wl_ctx *ctx, const struct dlw_row *row)
{
	wl_put_uint(ctx, COL_STALL_SAMPLES, row->stall->count);
	wl_put_uint(ctx, COL_STALL_P50_NS, histogram_quantile(row->stall, 0.50));
	wl_put_uint(ctx, COL_STALL_P99_NS, histogram_quantile(row->stall, 0.99));
	wl_put_uint(ctx, COL_STALL_P999_NS, histogram_quantile(row->stall, 0.999));
	wl_put_uint(ctx, COL_STALL_MAX_NS, row->stall->max);
}

/* The harvest columns: per iteration its one harvest; continuous the
 * cell's histogram; strategy none: none. */
static void emit_harvests(struct wl_ctx *ctx, const struct dlw_config *cfg,
			  const struct dlw_cell *cell, const struct dlw_row *row)
{
	uint64_t one = row->get_log_ns + row->clear_log_ns;

	if (!cfg->logging) {
		wl_put_uint(ctx, COL_HARVESTS, 0);
		return;
	}
	wl_put_uint(ctx, COL_GET_LOG_NS, row->get_log_ns);
	wl_put_uint(ctx, COL_CLEAR_LOG_NS, row->clear_log_ns);
	wl_put_uint(ctx, COL_ENABLE_LOG_NS, cell->enable_ns);
	wl_put_uint(ctx, COL_DISABLE_LOG_NS, cell->disable_ns);
	if (cfg->mode == DLW_MODE_CONTINUOUS) {
		wl_put_uint(ctx, COL_HARVESTS, cell->harvests);
		wl_put_uint(ctx, COL_HARVEST_P50_NS, histogram_quantile(cell->harvest, 0.50));
		wl_put_uint(ctx, COL_HARVEST_P99_NS, histogram_quantile(cell->harvest, 0.99));
		wl_put_uint(ctx, COL_HARVEST_MAX_NS, cell->harvest->max);
		wl_put_uint(ctx, COL_FINAL_HARVESTED, cell->final_harvested);
	} else {
		wl_put_uint(ctx, COL_HARVESTS, 1);
		wl_put_uint(ctx, COL_HARVEST_P50_NS, one);
		wl_put_uint(ctx, COL_HARVEST_P99_NS, one);
		wl_put_uint(ctx, COL_HARVEST_MAX_NS, one);
	}
}

static int emit_row(struct wl_ctx *ctx, const struct dlw_config *cfg, const struct dlw_cell *cell,
		    const struct dlw_row *row)
{
	const double per_pass = (double)cell->pages_per_pass;
	/* the time the row's figures were gathered over */
	const uint64_t span = cfg->mode == DLW_MODE_CONTINUOUS ? cell->run_ns : row->dirty_pass_ns;
	const double secs = span ? (double)span / 1e9 : 0;

	wl_row_begin(ctx);
	emit_params(ctx, cfg, row);
	emit_mmu(ctx, cfg, cell);
	wl_put_uint(ctx, COL_DIRTY_PASS_NS, row->dirty_pass_ns);
	wl_put_uint(ctx, COL_PAGES_DIRTIED, row->faults);
	wl_put_uint(ctx, COL_PAGES_HARVESTED, row->pages_harvested);
	wl_put_uint(ctx, COL_ACCESSES, row->accesses);
	emit_stalls(ctx, row);
	wl_put_real(ctx, COL_FLOOR_PAGE_TOUCH_NS, (double)cell->floor_pass_ns / per_pass);
	wl_put_uint(ctx, COL_FLOOR_PASS_NS, cell->floor_pass_ns);
	wl_put_real(ctx, COL_RAW_PAGE_TOUCH_NS, (double)cell->raw_pass_ns / per_pass);
	wl_put_real(ctx, COL_DIRTY_PAGE_TOUCH_NS, (double)row->dirty_pass_ns / per_pass);
	wl_put_uint(ctx, COL_PAGES_PER_PASS, cell->pages_per_pass);
	wl_put_uint(ctx, COL_POPULATE_NS, cell->populate_ns);
	emit_harvests(ctx, cfg, cell, row);
	wl_put_uint(ctx, COL_RUN_NS, span);
	wl_put_real(ctx, COL_PAGES_DIRTIED_PER_S, secs ? (double)row->faults / secs : 0);
	wl_put_real(ctx, COL_PAGES_HARVESTED_PER_S, secs ? (double)row->pages_harvested / secs : 0);
	wl_put_real(ctx, COL_PAGE_TOUCHES_PER_S, secs ? (double)row->accesses / secs : 0);
	wl_put_uint(ctx, COL_FLUSH_ACKS, row->flush_acks);
	wl_put_uint(ctx, COL_RING_FULL_EXITS, row->ring_full_exits);
	return wl_row_end(ctx);
}

/* "xchg:mode=x" -> "xchg_mode_x": a file-name-safe cell name. */
static void cell_name(char *buf, size_t len, const char *strategy)
{
	size_t i = 0;

	for (const char *p = strategy; *p && i + 1 < len; p++) {
		char ch = *p;

		buf[i++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
					   (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'
				   ? ch
				   : '_';
	}
	buf[i] = 0;
}

static int save_histograms(struct wl_ctx *ctx, const struct dlw_config *cfg,
			   const struct dlw_cell *cell)
{
	const char *mode = dlw_mode_names[cfg->mode];
	const struct dlw_opts *o = cfg->o;
	char name[160];
	size_t n;

	cell_name(name, sizeof(name), o->strategy);
	/* the real MMU's cells apart from the soft ones (whose names stay) */
	n = strlen(name);
	if (o->mmu == VM_MMU_REAL)
		snprintf(name + n, sizeof(name) - n, "-real%s%s%s",
			 o->fault_delivery == MMU_WP_THREAD ? "-thread" : "",
			 o->mmu_wp != MMU_WP_AUTO ? "-" : "",
			 o->mmu_wp != MMU_WP_AUTO ? mmu_wp_mechanism_names[o->mmu_wp] : "");
	/* and a --vm-srcu flavour's apart from the default's */
	n = strlen(name);
	if (o->vm_srcu != VM_SRCU_AUTO)
		snprintf(name + n, sizeof(name) - n, "-srcu-%s", vm_srcu_choices[o->vm_srcu]);
	if (wl_save_histogram(ctx, cell->stall, "%s-%s-stall", name, mode))
		return -1;
	if (!cfg->logging)
		return 0;
	if (wl_save_histogram(ctx, cell->harvest, "%s-%s-harvest", name, mode) ||
	    wl_save_histogram(ctx, cell->get_log, "%s-%s-get-log", name, mode) ||
	    wl_save_histogram(ctx, cell->clear_log, "%s-%s-clear-log", name, mode))
		return -1;
	return 0;
}

/* ---- the closing tables ---- */

static void table_add(const struct dlw_config *cfg, const struct dlw_cell *cell)
{
	struct table_line *t = realloc(inv.table, (inv.ntable + 1) * sizeof(*t));
	const struct histogram *st = cell->stall, *hv = cell->harvest;
	const struct dlw_row *r = &cell->rows[0];
	double rest_pass = 0, rest_get = 0, rest_clear = 0, s = (double)cell->run_ns / 1e9;
	unsigned nrest = cell->nrows - 1;

	if (!t)
		return; /* the table is a summary of summary.csv: a line less */
	inv.table = t;
	t = &inv.table[inv.ntable++];
	memset(t, 0, sizeof(*t));
	snprintf(t->strategy, sizeof(t->strategy), "%s", cfg->o->strategy);
	t->mode = cfg->mode;
	t->logging = cfg->logging;
	t->floor_ms = (double)cell->floor_pass_ns / 1e6;
	t->stall_p50_us = (double)histogram_quantile(st, 0.50) / 1e3;
	t->stall_p99_us = (double)histogram_quantile(st, 0.99) / 1e3;
	t->stall_p999_us = (double)histogram_quantile(st, 0.999) / 1e3;
	t->stall_max_us = (double)st->max / 1e3;
	t->harvest_p50_us = (double)histogram_quantile(hv, 0.50) / 1e3;
	t->harvest_p99_us = (double)histogram_quantile(hv, 0.99) / 1e3;
	t->harvest_max_us = (double)hv->max / 1e3;
	t->harvests = cell->harvests;
	snprintf(t->mmu, sizeof(t->mmu), "%s", cell->mmu);
	t->fault_floor_us = cell->fault_floor_ns < 0 ? -1 : cell->fault_floor_ns / 1e3;
	if (cfg->mode == DLW_MODE_CONTINUOUS) {
		t->pass_rest_ms = (double)r->dirty_pass_ns / 1e6;
		t->get_ms = (double)r->get_log_ns / 1e6;
		t->clear_ms = (double)r->clear_log_ns / 1e6;
		t->dirtied_per_s = s ? (double)r->faults / s : 0;
		t->harvested_per_s = s ? (double)r->pages_harvested / s : 0;
		t->touches_per_s = s ? (double)r->accesses / s : 0;
		return;
	}
	t->pass1_ms = (double)r->dirty_pass_ns / 1e6;
	for (unsigned i = 1; i < cell->nrows; i++) {
		rest_pass += (double)cell->rows[i].dirty_pass_ns;
		rest_get += (double)cell->rows[i].get_log_ns;
		rest_clear += (double)cell->rows[i].clear_log_ns;
	}
	t->pass_rest_ms = nrest ? rest_pass / nrest / 1e6 : 0;
	t->get_ms = nrest ? rest_get / nrest / 1e6 : 0;
	t->clear_ms = nrest ? rest_clear / nrest / 1e6 : 0;
}

/* The closing tables' last two fields: the bare fault (us) and the MMU. */
static void print_mmu_tail(struct wl_ctx *ctx, const struct table_line *t)
{
	if (t->fault_floor_us >= 0)
		wl_printf(ctx, " %8.2f %s\n", t->fault_floor_us, t->mmu);
	else
		wl_printf(ctx, " %8s %s\n", "-", t->mmu);
}

static void print_iteration_table(struct wl_ctx *ctx, const struct dlw_opts *o)
{
	wl_printf(
		ctx,
		"\nIteration mode: %d vCPU(s) x %llu MiB, %u iterations, times in ms (2+: mean of "
		"iterations 2..%u), stalls in us\n",
		(int)o->vcpus, (unsigned long long)(o->bytes_per_vcpu >> 20),
		(unsigned)o->iterations, (unsigned)o->iterations);
	wl_printf(ctx, "%-18s %9s %9s %9s %7s %9s %9s %8s %8s %8s %9s %8s %s\n", "strategy",
		  "pass 1", "pass 2+", "floor", "x floor", "get 2+", "clear 2+", "stl p50",
		  "stl p99", "stl p999", "stall max", "fault", "mmu");
	for (size_t i = 0; i < inv.ntable; i++) {
		const struct table_line *t = &inv.table[i];

		if (t->mode != DLW_MODE_ITERATION)
			continue;
		wl_printf(ctx, "%-18.18s %9.3f %9.3f %9.3f %7.2f ", t->strategy, t->pass1_ms,
			  t->pass_rest_ms, t->floor_ms,
			  t->floor_ms > 0 ? t->pass_rest_ms / t->floor_ms : 0);
		if (t->logging)
			wl_printf(ctx, "%9.3f %9.3f ", t->get_ms, t->clear_ms);
		else
			wl_printf(ctx, "%9s %9s ", "-", "-");
		wl_printf(ctx, "%8.2f %8.2f %8.2f %9.1f", t->stall_p50_us, t->stall_p99_us,
			  t->stall_p999_us, t->stall_max_us);
		print_mmu_tail(ctx, t);
	}
}

static void print_continuous_table(struct wl_ctx *ctx, const struct dlw_opts *o)
{
	double interval = o->harvest_interval_ms ? o->harvest_interval_ms : DLW_DEFAULT_INTERVAL_MS;
	double duration = o->duration_s ? o->duration_s : DLW_DEFAULT_DURATION_S;

	wl_printf(ctx,
		  "\nContinuous mode: %d vCPU(s) x %llu MiB, harvest every %.3f ms for %.3f s; "
		  "rates in M pages/s, latencies in us\n",
		  (int)o->vcpus, (unsigned long long)(o->bytes_per_vcpu >> 20),
		  (double)(uint64_t)(interval * 1e6) / 1e6,
		  (double)(uint64_t)(duration * 1e9) / 1e9);
	wl_printf(ctx, "%-18s %8s %8s %8s %8s %9s %9s %9s %8s %8s %8s %9s %8s %s\n", "strategy",
		  "touched", "dirtied", "harvestd", "harvests", "hrv p50", "hrv p99", "hrv max",
		  "stl p50", "stl p99", "stl p999", "stall max", "fault", "mmu");
	for (size_t i = 0; i < inv.ntable; i++) {
		const struct table_line *t = &inv.table[i];

		if (t->mode != DLW_MODE_CONTINUOUS)
			continue;
		wl_printf(ctx, "%-18.18s %8.3f %8.3f %8.3f %8llu ", t->strategy,
			  t->touches_per_s / 1e6, t->dirtied_per_s / 1e6, t->harvested_per_s / 1e6,
			  (unsigned long long)t->harvests);
		if (t->logging)
			wl_printf(ctx, "%9.1f %9.1f %9.1f ", t->harvest_p50_us, t->harvest_p99_us,
				  t->harvest_max_us);
		else
			wl_printf(ctx, "%9s %9s %9s ", "-", "-", "-");
		wl_printf(ctx, "%8.2f %8.2f %8.2f %9.1f", t->stall_p50_us, t->stall_p99_us,
			  t->stall_p999_us, t->stall_max_us);
		print_mmu_tail(ctx, t);
	}
}

static void dlw_finish(struct wl_ctx *ctx, int status)
{
	bool any[2] = { false, false };

	(void)status;
	for (size_t i = 0; i < inv.ntable; i++)
		any[inv.table[i].mode] = true;
	if (any[DLW_MODE_ITERATION])
		print_iteration_table(ctx, inv.o);
	if (any[DLW_MODE_CONTINUOUS])
		print_continuous_table(ctx, inv.o);
	free(inv.table);
	inv.table = NULL;
	inv.ntable = 0;
}

/* ---- the table: check and run ---- */

static enum dlw_mode dlw_mode_of(const struct dlw_opts *o)
{
	if (o->mode)
		return strcmp(o->mode, "continuous") ? DLW_MODE_ITERATION : DLW_MODE_CONTINUOUS;
	/* not given: continuous when a continuous-mode option is */
	return o->harvest_interval_ms || o->duration_s ? DLW_MODE_CONTINUOUS : DLW_MODE_ITERATION;
}

static void dlw_config_of(const struct dlw_opts *o, struct dlw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->o = o;
	cfg->mode = dlw_mode_of(o);
	cfg->logging = strcmp(o->strategy, DIRTY_LOG_NONE) != 0;
	cfg->vcpus = (int)o->vcpus;
	cfg->guest_bytes = o->bytes_per_vcpu * o->vcpus;
	cfg->harvest_interval_ns = (uint64_t)((o->harvest_interval_ms ? o->harvest_interval_ms
								      : DLW_DEFAULT_INTERVAL_MS) *
					      1e6);
	cfg->duration_ns =
		(uint64_t)((o->duration_s ? o->duration_s : DLW_DEFAULT_DURATION_S) * 1e9);
	(void)workload_numa_parse(o->numa, &cfg->numa, &cfg->numa_node); /* checked */
	cfg->cpus = inv.cpus;
}

/* The options against each other: sizes, slots, the continuous mode. */
static int dlw_check_options(const struct dlw_config *cfg, char *err, size_t errlen)
{
	const struct dlw_opts *o = cfg->o;
	uint64_t pages = cfg->guest_bytes >> PAGE_SHIFT;

	if (o->bytes_per_vcpu % PAGE_SIZE) {
		snprintf(err, errlen,
			 "--bytes-per-vcpu: %llu is not a multiple of the %lu-byte page",
			 (unsigned long long)o->bytes_per_vcpu, PAGE_SIZE);
		return WL_BAD_INPUT;
	}
	if (cfg->guest_bytes / o->vcpus != o->bytes_per_vcpu) {
		snprintf(err, errlen, "--vcpus x --bytes-per-vcpu: guest memory size overflows");
		return WL_BAD_INPUT;
	}
	if (pages % o->slots) {
		snprintf(err, errlen,
			 "--slots: %llu memslots do not divide the %llu guest pages (-v %d x -b "
			 "%llu)",
			 (unsigned long long)o->slots, (unsigned long long)pages, cfg->vcpus,
			 (unsigned long long)o->bytes_per_vcpu);
		return WL_BAD_INPUT;
	}
	if ((pages / o->slots) % 64) {
		snprintf(err, errlen,
			 "--slots: each of %llu memslots would hold %llu pages, not a multiple of "
			 "64",
			 (unsigned long long)o->slots, (unsigned long long)(pages / o->slots));
		return WL_BAD_INPUT;
	}
	if (cfg->mode == DLW_MODE_CONTINUOUS && cfg->harvest_interval_ns >= cfg->duration_ns) {
		snprintf(err, errlen,
			 "--harvest-interval %.3f ms is not shorter than --duration %.3f s: no "
			 "harvest would run",
			 (double)cfg->harvest_interval_ns / 1e6, (double)cfg->duration_ns / 1e9);
		return WL_BAD_INPUT;
	}
	return 0;
}

/* The machine: memory, huge pages, NUMA node, CPUs. */
static int dlw_check_machine(const struct dlw_config *cfg, int *cpus, int *over, char *err,
			     size_t errlen)
{
	const struct dlw_opts *o = cfg->o;
	struct guest_memory_options mo = {
		.bytes = cfg->guest_bytes,
		.backing = (enum guest_backing)o->backing,
		.numa = cfg->numa,
		.numa_node = cfg->numa_node,
	};
	char why[256], list[32];
	int one;

	if (workload_memory_check(&mo, err, errlen))
		return WL_BAD_INPUT;
	if (cfg->vcpus > (int)ARRAY_SIZE(inv.cpus)) {
		snprintf(err, errlen, "--vcpus: at most %zu", ARRAY_SIZE(inv.cpus));
		return WL_BAD_INPUT;
	}
	if (workload_pick_cpus(cfg->vcpus, (enum placement)o->placement, o->cpus, cpus, over, why,
			       sizeof(why))) {
		snprintf(err, errlen, "--cpus: %s", why);
		return WL_BAD_INPUT;
	}
	if (o->harvester_cpu < 0)
		return 0;
	snprintf(list, sizeof(list), "%lld", (long long)o->harvester_cpu);
	if (workload_pick_cpus(1, PLACEMENT_COMPACT, list, &one, over, why, sizeof(why))) {
		snprintf(err, errlen, "--harvester-cpu: %s", why);
		return WL_BAD_INPUT;
	}
	return 0;
}

static int dlw_check(const void *opts, char *err, size_t errlen)
{
	struct dlw_config cfg;
	struct vm_options vo;
	int cpus[ARRAY_SIZE(inv.cpus)], over = 0;

	dlw_config_of(opts, &cfg);
	if (dlw_check_options(&cfg, err, errlen))
		return WL_BAD_INPUT;
	dlw_vm_options(&cfg, &vo);
	if (workload_mmu_check(&vo, cfg.logging ? cfg.o->strategy : NULL,
			       (enum guest_backing)cfg.o->backing, cfg.guest_bytes, NULL, 0, err,
			       errlen))
		return WL_BAD_INPUT;
	return dlw_check_machine(&cfg, cpus, &over, err, errlen);
}

/* Cell 0: the CPUs, the harvester's pin, the calibration, the preamble. */
static int dlw_first_cell(struct wl_ctx *ctx, const struct dlw_config *cfg, char *err,
			  size_t errlen)
{
	const struct dlw_opts *o = cfg->o;
	int over = 0, ncpu, rc;

	if ((rc = dlw_check_machine(cfg, inv.cpus, &over, err, errlen)))
		return rc;
	ncpu = topology_cpu_count();
	if (over)
		wl_notice(ctx, "warning: %d vCPUs on %d CPUs%s: overcommitted, vCPUs share CPUs",
			  cfg->vcpus, o->cpus ? 0 : ncpu, o->cpus ? " of -c" : "");
	else if (cfg->vcpus >= ncpu && o->harvester_cpu < 0)
		wl_notice(ctx,
			  "warning: %d vCPUs on %d CPUs leave no CPU to the harvester: "
			  "harvest latencies include waiting for the scheduler",
			  cfg->vcpus, ncpu);
	if (o->harvester_cpu >= 0 && (rc = topology_pin_self((int)o->harvester_cpu))) {
		snprintf(err, errlen, "cannot pin the harvester to CPU %lld: %s",
			 (long long)o->harvester_cpu, strerror(-rc));
		return WL_ERROR;
	}
	topology_cpus_text(inv.cpus_text, sizeof(inv.cpus_text), inv.cpus, cfg->vcpus);
	guest_numa_name(cfg->numa, cfg->numa_node, inv.numa, sizeof(inv.numa));
	inv.hist_sample_ns = dlw_histogram_sample_ns();
	inv.clock_read_ns = dlw_clock_read_ns();
	wl_printf(
		ctx,
		"dirty-log: %d vCPU(s) on CPUs %s, %llu bytes each%s, %llu memslot(s), %s backing, "
		"%llu%% writes, %s order, fault path %s, memslots under %s\n",
		cfg->vcpus, inv.cpus_text, (unsigned long long)o->bytes_per_vcpu,
		o->overlap ? " (overlapping)" : "", (unsigned long long)o->slots,
		guest_backing_names[o->backing], (unsigned long long)o->write_percent,
		o->random ? "random" : "sequential", fault_path_names[o->fault_path],
		workload_memslot_protect(o->memslot_protect, o->vm_srcu));
	wl_printf(ctx,
		  "Measurement cost: one histogram sample %.2f ns, one clock read %.2f ns "
		  "(a timed fault adds 2 clock reads and 1 sample)\n",
		  inv.hist_sample_ns, inv.clock_read_ns);
	return 0;
}

static void dlw_meta(struct wl_ctx *ctx, const struct dlw_config *cfg)
{
	const struct dlw_opts *o = cfg->o;

	wl_meta(ctx, "vcpus", "%d", cfg->vcpus);
	wl_meta(ctx, "bytes_per_vcpu", "%llu", (unsigned long long)o->bytes_per_vcpu);
	wl_meta(ctx, "guest_bytes", "%llu", (unsigned long long)cfg->guest_bytes);
	wl_meta(ctx, "cpus", "\"%s\"", inv.cpus_text);
	wl_meta(ctx, "harvester_cpu", "%lld", (long long)o->harvester_cpu);
	wl_meta(ctx, "iterations", "%llu", (unsigned long long)o->iterations);
	wl_meta(ctx, "harvest_interval_ns", "%llu", (unsigned long long)cfg->harvest_interval_ns);
	wl_meta(ctx, "duration_ns", "%llu", (unsigned long long)cfg->duration_ns);
	wl_meta(ctx, "floor_passes", "%llu", (unsigned long long)o->floor_passes);
	wl_meta(ctx, "memslot_protect", "\"%s\"",
		workload_memslot_protect(o->memslot_protect, o->vm_srcu));
	wl_meta(ctx, "hist_sample_ns", "%.2f", inv.hist_sample_ns);
	wl_meta(ctx, "clock_read_ns", "%.2f", inv.clock_read_ns);
}

static int dlw_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	struct dlw_config cfg;
	struct dlw_cell cell;
	int rc;

	dlw_config_of(opts, &cfg);
	if (wl_cell_index(ctx) == 0 && (rc = dlw_first_cell(ctx, &cfg, err, errlen)))
		return rc;
	inv.o = opts;
	wl_progress(ctx, "%s, %s mode", cfg.o->strategy, dlw_mode_names[cfg.mode]);
	if (!cfg.o->quiet)
		wl_printf(ctx, "\n== %s, %s mode\n", cfg.o->strategy, dlw_mode_names[cfg.mode]);
	rc = dlw_run_cell(ctx, &cfg, &cell, err, errlen);
	for (unsigned i = 0; !rc && i < cell.nrows; i++)
		if (emit_row(ctx, &cfg, &cell, &cell.rows[i])) {
			snprintf(err, errlen, "cannot write summary.csv");
			rc = WL_ERROR;
		}
	if (!rc && save_histograms(ctx, &cfg, &cell)) {
		snprintf(err, errlen, "cannot write the histograms");
		rc = WL_ERROR;
	}
	if (!rc) {
		table_add(&cfg, &cell);
		dlw_meta(ctx, &cfg);
	}
	dlw_cell_free(&cell);
	return rc;
}

/* ---- the table: options ---- */

static int dlw_mode_check(const char *value, char *err, size_t errlen)
{
	if (!strcmp(value, "iteration") || !strcmp(value, "continuous") || !strcmp(value, "both"))
		return 0;
	snprintf(err, errlen, "unknown value '%s' (one of: iteration, continuous, both)", value);
	return -1;
}

/* `both`: a cell per mode. */
static int dlw_mode_expand(const char *value, const char **out, int max)
{
	if (strcmp(value, "both"))
		return 0;
	if (max < 2)
		return -1;
	out[0] = "iteration";
	out[1] = "continuous";
	return 2;
}

/* `all`: none, then every strategy with its defaults; a list: each. */
static int dlw_strategy_expand(const char *value, const char **out, int max)
{
	int n;

	if (strcmp(value, "all"))
		return dirty_log_spec_expand(value, out, max);
	if (max < 1)
		return -1;
	out[0] = DIRTY_LOG_NONE;
	n = dirty_log_spec_expand(value, out + 1, max - 1);
	return n < 0 ? n : n + 1;
}

static void dlw_list_strategies(FILE *f)
{
	dirty_log_list(f);
	fprintf(f, "  %-16s %s\n", DIRTY_LOG_NONE, "the same workload with dirty logging off");
}

static void dlw_help_extra(FILE *f)
{
	dirty_log_help(f);
	fprintf(f, "  %-16s %s\n", DIRTY_LOG_NONE, "the same workload with dirty logging off");
	fprintf(f,
		"\nOutput: kernel-style lines per cell and a table on stdout; in the results\n"
		"directory summary.csv (one row per iteration, one per continuous run; every\n"
		"parameter in its own column), hist/<strategy>-<mode>-<histogram>.csv\n"
		"(value_ns,count; stall = time in the write-fault path plus waits in a pause or\n"
		"for dirty-ring space; harvest = get + clear; get-log; clear-log) and "
		"meta.json.\n");
}

#define OPT(field) offsetof(struct dlw_opts, field)

/* clang-format off */
static const struct wl_option dlw_options[] = {
	{ .name = "strategy", .type = WL_TEXT, .flags = WL_REPEAT | WL_EXPAND_OPTIONAL, .def = "xchg", .metavar = "SPEC",
	  .offset = OPT(strategy), .check_value = dirty_log_spec_check, .expand = dlw_strategy_expand,
	  .help = "dirty-log strategy NAME[:KEY=VALUE,...]; `none` runs the\n"
		  "same workload with logging off; `all` is none and every strategy" },
	{ .name = "mode", .type = WL_TEXT, .flags = WL_LIST, .metavar = "M", .offset = OPT(mode),
	  .check_value = dlw_mode_check, .expand = dlw_mode_expand,
	  .help = "iteration|continuous|both (default iteration; continuous\n"
		  "when --harvest-interval or --duration is given)" },
	{ .name = "vcpus", .short_name = 'v', .type = WL_UINT, .def = "1", .min = 1, .max = 4096,
	  .offset = OPT(vcpus), .help = "vCPU threads" },
	{ .name = "bytes-per-vcpu", .short_name = 'b', .type = WL_SIZE, .def = "64M",
	  .min = PAGE_SIZE, .max = 1ull << 46, .offset = OPT(bytes_per_vcpu),
	  .help = "guest memory per vCPU, e.g. 10M, 3G (the kernel test's\n"
		  "is 1G: give -b 1G to match it)" },
	{ .name = "iterations", .short_name = 'i', .type = WL_UINT, .def = "3", .min = 2,
	  .max = 1000000, .offset = OPT(iterations),
	  .help = "dirty passes in iteration mode; iteration 1 is reported\n"
		  "apart from the rest's average" },
	{ .name = "write-percent", .short_name = 'w', .type = WL_UINT, .def = "100", .min = 0,
	  .max = 100, .metavar = "P", .offset = OPT(write_percent),
	  .help = "percent of accesses that are writes" },
	{ .name = "random", .short_name = 'a', .type = WL_FLAG, .offset = OPT(random),
	  .help = "random page order (pages drawn with replacement)" },
	{ .name = "overlap", .short_name = 'o', .type = WL_FLAG, .offset = OPT(overlap),
	  .help = "every vCPU accesses all of guest memory (-v x -b bytes;\n"
		  "default: each vCPU its own -b bytes of it)" },
	{ .name = "cpus", .short_name = 'c', .type = WL_TEXT, .metavar = "LIST", .offset = OPT(cpus),
	  .help = "CPUs for the vCPUs, e.g. 0,2,4-7: vCPU i runs on the\n"
		  "i-th CPU of the set, wrapping around (default: --placement)" },
	{ .name = "placement", .type = WL_CHOICE, .def = "compact",
	  .choices = workload_placement_names,
	  .metavar = "P", .offset = OPT(placement), .help = "from the hwloc topology" },
	{ .name = "harvester-cpu", .type = WL_INT, .def = "-1", .min = -1, .max = 1 << 20,
	  .metavar = "CPU", .offset = OPT(harvester_cpu),
	  .help = "pin the harvester (this process's main thread); -1: not pinned" },
	{ .name = "backing", .short_name = 's', .type = WL_CHOICE, .def = "anonymous",
	  .choices = guest_backing_names, .metavar = "B", .offset = OPT(backing),
	  .help = "guest memory" },
	{ .name = "slots", .short_name = 'x', .type = WL_UINT, .def = "1", .min = 1, .max = 1 << 20,
	  .offset = OPT(slots),
	  .help = "memslots; must divide the guest pages, each a multiple\n"
		  "of 64 pages" },
	{ .name = "seed", .short_name = 'r', .type = WL_UINT, .def = "1", .offset = OPT(seed),
	  .help = "random seed (runs repeat)" },
	{ .name = "numa", .short_name = 'm', .type = WL_TEXT, .def = "local", .metavar = "WHERE",
	  .offset = OPT(numa), .check_value = guest_numa_check,
	  .help = "NODE (bind to it), bind:NODE, interleave, or local" },
	{ .name = "fault-path", .type = WL_CHOICE, .def = "locked", .choices = fault_path_names,
	  .metavar = "P", .offset = OPT(fault_path),
	  .help = "write-fault path (uffd-wp, mprotect: the handler under\n"
		  "mmu_lock, or lockless; uffd-wp-async, soft-dirty: the kernel\n"
		  "is the marker, it does not apply)" },
	{ .name = "memslot-protect", .type = WL_TEXT, .def = "srcu",
	  .metavar = "P", .offset = OPT(memslot_protect), .check_value = memslot_protect_check,
	  .help = "memslot read protection of the fault path: floor,\n"
		  "mutex, rwlock, rwlock-cond, srcu-mb, srcu-fast, srcu-classic,\n"
		  "urcu (`srcu`, the default: the SRCU one of --vm-srcu's flavour)" },
	{ .name = "harvest-interval", .type = WL_REAL, .min = 0.001, .max = 3600e3, .metavar = "MS",
	  .offset = OPT(harvest_interval_ms),
	  .help = "continuous mode: harvest every MS ms (default 30)" },
	{ .name = "duration", .type = WL_REAL, .min = 0.001, .max = 86400, .metavar = "S",
	  .offset = OPT(duration_s), .help = "continuous mode: seconds of dirtying (default 1)" },
	{ .name = "floor-passes", .type = WL_UINT, .def = "3", .min = 1, .max = 1000,
	  .offset = OPT(floor_passes), .help = "passes per floor, the fastest counts" },
	{ .name = "list-strategies", .type = WL_FLAG, .offset = OPT(list_strategies),
	  .action = dlw_list_strategies, .help = "list the strategies and their options" },
	{ .name = "quiet", .type = WL_FLAG, .offset = OPT(quiet),
	  .help = "no kernel-style lines per phase, only the tables" },
	WL_MMU_OPTIONS(struct dlw_opts, mmu, mmu_wp, fault_delivery),
	WL_VM_SRCU_OPTION(struct dlw_opts, vm_srcu),
	WL_SRCU_EXPEDITED_OPTION(struct dlw_opts, srcu_expedited),
	{ 0 },
};
/* clang-format on */

const struct workload workload_dirty_log = {
	.name = "dirty-log",
	.summary = "dirty_log_perf_test: pinned vCPUs dirty memory, strategies harvest; stalls, "
		   "floors",
	.description =
		"The kernel's dirty_log_perf_test on the emulated VM: pinned vCPU threads dirty\n"
		"guest memory while the harvester collects the dirty log with the strategy\n"
		"under test.  Each (strategy, mode) is a cell with a fresh VM: populate (100%\n"
		"writes, sequential, logging off), floors (plain stores; the vCPU loop with\n"
		"logging off), enable logging, the mode, disable logging.",
	.options = dlw_options,
	.columns = dlw_columns,
	.opts_size = sizeof(struct dlw_opts),
	.writes_results = true,
	.help_extra = dlw_help_extra,
	.check = dlw_check,
	.run = dlw_run,
	.finish = dlw_finish,
};
