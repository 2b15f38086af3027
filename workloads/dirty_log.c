/*
 * The dirty-log workload's driver: see dirty_log_workload.h for the phases.
 *
 * Threads.  One pinned thread per vCPU (lib/workers.h) runs the vCPU loop;
 * the calling thread is the harvester and sequences the phases.  The
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
 * Only the write-fault path is timed (lib/vm.c times it when
 * vcpu.stall_hist is set): two clock reads and one histogram_record into
 * the vCPU's own histogram.  The harvester merges a vCPU's histogram only
 * while that vCPU is idle between phases (ordered by the done_gen/gen
 * handshake above), and resets it there.
 *
 * Logging on and off.  vm_create turns logging on; the driver turns it off
 * (vm_disable_dirty_logging: every spte writable, so no write faults and
 * no marks) for the populate and floor passes, on again
 * (vm_enable_dirty_logging: the strategy's initial spte state) for the
 * mode, and off at the end.  Strategy "none" creates the VM without a log.
 */
#include "workloads/dirty_log_workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/timing.h"
#include "lib/util/workers.h"

const char *const dlw_mode_names[] = { "iteration", "continuous", NULL };

/* Pages a continuous-mode vCPU touches between two looks at the stop flag. */
#define DLW_CHUNK_PAGES 256u

/* The value every guest write stores (the kernel test's pattern). */
#define DLW_WRITE_PATTERN 0x0123456789abcdefull

enum dlw_phase {
	DLW_PHASE_PASS,        /* one pass of the vCPU loop over the region */
	DLW_PHASE_RAW,         /* one pass of plain stores, no emulated MMU */
	DLW_PHASE_CONTINUOUS,  /* vCPU-loop passes until run->stop */
	DLW_PHASE_EXIT,
};

enum dlw_writes { DLW_WRITES_NONE, DLW_WRITES_ALL, DLW_WRITES_MIXED };

struct dlw_run;

struct dlw_vcpu {
	/* Owned by the vCPU thread while a phase runs; read and reset by the
	 * harvester only between phases. */
	_Alignas(64) struct dlw_run *run;
	struct vcpu *v;
	uint64_t first_gfn;
	uint64_t npages;              /* of its region: one pass */
	uint64_t rng;                 /* xorshift64* state, never 0 */
	struct histogram *stall;
	uint64_t pass_start_ns, pass_end_ns;
	uint64_t pass_ns_sum, passes; /* complete passes (continuous) */
	uint64_t sink;                /* keeps guest reads alive */

	/* The vCPU's "phase done" flag: release store by the vCPU, acquire
	 * loads by the harvester. */
	_Alignas(64) unsigned done_gen;
};

struct dlw_run {
	const struct dlw_config *cfg;
	struct dlw_cell *cell;
	struct vm *vm;
	struct dlw_vcpu *vc;
	int n;
	unsigned long *dirty;         /* the harvest's bitmap, one bit per gfn */
	/* the harvests made on demand while the vCPUs run a phase */
	uint64_t demand_harvests, demand_pages;

	/* Phase parameters: written by the harvester before the release
	 * store of gen, read by the vCPUs after their acquire load of it. */
	enum dlw_phase phase;
	enum dlw_writes writes;
	unsigned write_percent;
	bool random;
	bool timed;                   /* record stalls in this phase */

	_Alignas(64) unsigned gen;
	/* Continuous mode's stop: relaxed, a flag with no data behind it
	 * (the results are handed over by done_gen). */
	_Alignas(64) int stop;
};

/* ---- random numbers (xorshift64*, seeded through splitmix64) ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t xorshift64s(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* A value in [0, n) from 32 random bits (n < 2^32), without a division. */
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
static inline __attribute__((always_inline)) void
dlw_touch(struct dlw_vcpu *c, uint64_t *pos, uint64_t count, bool random,
	  enum dlw_writes writes, unsigned write_percent, bool raw)
{
	struct vcpu *v = c->v;
	uint8_t *base = v->guest_base;
	const uint64_t first = c->first_gfn, n = c->npages;
	uint64_t p = *pos, rng = c->rng, sink = 0;

	for (uint64_t k = 0; k < count; k++) {
		uint64_t r = 0, gfn;
		bool write;

		if (random || writes == DLW_WRITES_MIXED)
			r = xorshift64s(&rng);
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
			uint64_t *word = (uint64_t *)(base + (gfn << PAGE_SHIFT));

			/* relaxed: a plain store or load; atomic only so that
			 * overlapping vCPUs do not race in the C sense */
			if (write)
				__atomic_store_n(word, DLW_WRITE_PATTERN, __ATOMIC_RELAXED);
			else
				sink += __atomic_load_n(word, __ATOMIC_RELAXED);
		} else if (write) {
			vcpu_write_page(v, gfn, DLW_WRITE_PATTERN);
		} else {
			/* a guest read needs no writable spte */
			sink += __atomic_load_n((uint64_t *)(base + (gfn << PAGE_SHIFT)),
						__ATOMIC_RELAXED);
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
		random ? DLW_TOUCH(true, DLW_WRITES_ALL, false) : DLW_TOUCH(false, DLW_WRITES_ALL, false);
		break;
	case DLW_WRITES_NONE:
		random ? DLW_TOUCH(true, DLW_WRITES_NONE, false) : DLW_TOUCH(false, DLW_WRITES_NONE, false);
		break;
	default:
		random ? DLW_TOUCH(true, DLW_WRITES_MIXED, false) : DLW_TOUCH(false, DLW_WRITES_MIXED, false);
		break;
	}
#undef DLW_TOUCH
}

static void dlw_continuous(struct dlw_vcpu *c, enum dlw_writes writes, unsigned wp, bool random)
{
	struct dlw_run *run = c->run;

	while (!__atomic_load_n(&run->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = now_ns(), done = 0, pos = 0;

		while (done < c->npages && !__atomic_load_n(&run->stop, __ATOMIC_RELAXED)) {
			uint64_t k = c->npages - done < DLW_CHUNK_PAGES ? c->npages - done : DLW_CHUNK_PAGES;

			dlw_touch_pages(c, &pos, k, random, writes, wp, false);
			done += k;
		}
		if (done == c->npages) {
			c->pass_ns_sum += now_ns() - t0;
			c->passes++;
		}
	}
}

static void dlw_vcpu_thread(struct worker *w)
{
	struct dlw_run *run = w->arg;
	struct dlw_vcpu *c = &run->vc[w->index];
	struct vcpu *v = c->v;
	unsigned seen = 0;

	vcpu_thread_begin(v);
	/* idle outside guest mode until the first phase */
	vcpu_exit_guest(v);
	for (;;) {
		unsigned gen;
		enum dlw_phase phase;

		/* acquire: pairs with the harvester's release of gen, so the
		 * phase parameters (and the spte state) it wrote are visible */
		for (unsigned n = 0; (gen = __atomic_load_n(&run->gen, __ATOMIC_ACQUIRE)) == seen; n++)
			vm_backoff(n);
		seen = gen;
		phase = run->phase;
		if (phase == DLW_PHASE_EXIT)
			break;
		if (phase != DLW_PHASE_RAW) {
			v->stall_hist = run->timed ? c->stall : NULL;
			vcpu_enter_guest(v);
		}
		c->pass_start_ns = now_ns();
		if (phase == DLW_PHASE_CONTINUOUS) {
			dlw_continuous(c, run->writes, run->write_percent, run->random);
		} else {
			uint64_t pos = 0;

			dlw_touch_pages(c, &pos, c->npages, run->random, run->writes,
					run->write_percent, phase == DLW_PHASE_RAW);
		}
		c->pass_end_ns = now_ns();
		if (phase != DLW_PHASE_RAW) {
			vcpu_exit_guest(v);
			v->stall_hist = NULL;
		}
		/* release: pairs with the harvester's acquire in dlw_wait_done;
		 * our counters, histogram and timestamps are handed over */
		__atomic_store_n(&c->done_gen, gen, __ATOMIC_RELEASE);
	}
	vcpu_thread_end(v);
}

/* ---- the harvester side ---- */

static unsigned dlw_publish(struct dlw_run *run, enum dlw_phase phase)
{
	unsigned gen = run->gen + 1;   /* only the harvester writes gen */

	run->phase = phase;
	/* release: pairs with the vCPUs' acquire loads of gen */
	__atomic_store_n(&run->gen, gen, __ATOMIC_RELEASE);
	return gen;
}

struct dlw_harvest {
	uint64_t get_ns, clear_ns, pages;
};

/* One harvest: get then clear, timed.  Timed harvests go into the cell's
 * histograms; the final one (DIRTY_LOG_FINAL) does not. */
static void dlw_harvest(struct dlw_run *run, unsigned flags, struct dlw_harvest *h)
{
	struct dlw_cell *cell = run->cell;
	uint64_t t0 = now_ns(), t1, t2;

	dirty_log_get(run->vm->log, run->dirty, flags);
	t1 = now_ns();
	dirty_log_clear(run->vm->log, run->dirty);
	t2 = now_ns();
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

/* How often a harvester that waits looks for vCPUs waiting for log space. */
#define DLW_DEMAND_POLL_NS 100000ull

/* Waits until every vCPU has finished phase @gen.  With @serve, a vCPU
 * that waits for log space meanwhile gets a harvest at once. */
static void dlw_wait_done(struct dlw_run *run, unsigned gen, bool serve)
{
	uint64_t next_poll = serve ? now_ns() + DLW_DEMAND_POLL_NS : 0;

	for (int i = 0; i < run->n; i++)
		/* acquire: pairs with the vCPU's release of done_gen */
		for (unsigned k = 0; __atomic_load_n(&run->vc[i].done_gen, __ATOMIC_ACQUIRE) != gen; k++) {
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

static enum dlw_writes dlw_writes_of(unsigned wp)
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
		sum->faults += s->faults;
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

static void dlw_print_seconds(const struct dlw_config *cfg, const char *what, uint64_t ns)
{
	if (!cfg->quiet)
		printf("%s: %llu.%09llus\n", what, (unsigned long long)(ns / 1000000000ull),
		       (unsigned long long)(ns % 1000000000ull));
}

/* ---- one cell ---- */

int dlw_config_check(const struct dlw_config *cfg, char *err, size_t errlen)
{
	uint64_t bytes = dlw_guest_bytes(cfg), pages;

	if (cfg->vcpus <= 0 || cfg->bytes_per_vcpu == 0) {
		snprintf(err, errlen, "-v/--vcpus and -b/--bytes-per-vcpu must be positive");
		return -1;
	}
	if (cfg->bytes_per_vcpu % PAGE_SIZE) {
		snprintf(err, errlen, "-b/--bytes-per-vcpu: %llu is not a multiple of the %lu-byte page",
			 (unsigned long long)cfg->bytes_per_vcpu, PAGE_SIZE);
		return -1;
	}
	if (bytes / (uint64_t)cfg->vcpus != cfg->bytes_per_vcpu) {
		snprintf(err, errlen, "-v x -b: guest memory size overflows");
		return -1;
	}
	pages = bytes >> PAGE_SHIFT;
	if (cfg->slots == 0 || pages % cfg->slots) {
		snprintf(err, errlen, "-x/--slots: %u memslots do not divide the %llu guest pages (-v %d x -b %llu)",
			 cfg->slots, (unsigned long long)pages, cfg->vcpus,
			 (unsigned long long)cfg->bytes_per_vcpu);
		return -1;
	}
	if ((pages / cfg->slots) % 64) {
		snprintf(err, errlen, "-x/--slots: each of %u memslots would hold %llu pages, not a multiple of 64",
			 cfg->slots, (unsigned long long)(pages / cfg->slots));
		return -1;
	}
	if (cfg->iterations < 2) {
		snprintf(err, errlen, "-i/--iterations: at least 2 (iteration 1 is reported apart)");
		return -1;
	}
	return 0;
}

static struct dirty_log *dlw_log_create(struct dlw_cell *cell, uint64_t pages_per_pass,
					char *err, size_t errlen)
{
	/* Iteration mode harvests only between passes: a strategy that keeps
	 * per-vCPU space (dirty-ring) is told to hold a whole pass.  Continuous
	 * mode leaves the strategy its default, so a full ring is a real case
	 * (the vCPU waits, the harvester reaps on demand). */
	struct dirty_log_hints hints = {
		.max_dirty_per_vcpu = cell->mode == DLW_MODE_ITERATION ? pages_per_pass : 0,
	};

	return dirty_log_create(cell->strategy, &hints, err, errlen);
}


static void dlw_row_from(struct dlw_row *row, const struct vcpu_stats *before,
			 const struct vcpu_stats *after)
{
	row->accesses = after->accesses - before->accesses;
	row->faults = after->faults - before->faults;
	row->flush_acks = after->flush_acks - before->flush_acks;
	row->ring_full_exits = after->ring_full_exits - before->ring_full_exits;
}

static void dlw_print_total(const char *what, unsigned n, uint64_t total)
{
	printf("%s over %u iterations took %llu.%09llus. (Avg %llu.%09llus/iteration)\n", what, n,
	       (unsigned long long)(total / 1000000000ull), (unsigned long long)(total % 1000000000ull),
	       (unsigned long long)(total / n / 1000000000ull),
	       (unsigned long long)(total / n % 1000000000ull));
}

static int dlw_iterations(struct dlw_run *run)
{
	const struct dlw_config *cfg = run->cfg;
	struct dlw_cell *cell = run->cell;
	enum dlw_writes writes = dlw_writes_of(cfg->write_percent);
	uint64_t get_total = 0, clear_total = 0, pass_rest = 0, get_rest = 0, clear_rest = 0;
	char what[96];

	cell->rows = calloc(cfg->iterations, sizeof(*cell->rows));
	if (!cell->rows)
		return -1;
	for (unsigned it = 1; it <= cfg->iterations; it++) {
		struct dlw_row *row = &cell->rows[cell->nrows];
		struct vcpu_stats before, after;
		struct dlw_harvest h = { 0, 0, 0 };

		row->stall = histogram_new();
		if (!row->stall)
			return -1;
		cell->nrows++;
		row->iteration = it;
		run->demand_harvests = run->demand_pages = 0;
		dlw_stats_sum(run, &before);
		row->dirty_pass_ns = dlw_run_phase(run, DLW_PHASE_PASS, writes, cfg->random_access,
						   cell->logging);
		dlw_stats_sum(run, &after);
		dlw_row_from(row, &before, &after);
		dlw_collect_stalls(run, row->stall, cell->stall);
		snprintf(what, sizeof(what), "Iteration %u dirty memory time", it);
		dlw_print_seconds(cfg, what, row->dirty_pass_ns);
		if (cell->logging) {
			dlw_harvest(run, 0, &h);
			row->get_log_ns = h.get_ns;
			row->clear_log_ns = h.clear_ns;
			row->pages_harvested = h.pages + run->demand_pages;
			row->demand_harvests = run->demand_harvests;
			snprintf(what, sizeof(what), "Iteration %u get dirty log time", it);
			dlw_print_seconds(cfg, what, h.get_ns);
			if (cell->separate_clear) {
				snprintf(what, sizeof(what), "Iteration %u clear dirty log time", it);
				dlw_print_seconds(cfg, what, h.clear_ns);
			}
		}
		get_total += h.get_ns;
		clear_total += h.clear_ns;
		if (it > 1) {
			pass_rest += row->dirty_pass_ns;
			get_rest += h.get_ns;
			clear_rest += h.clear_ns;
		}
	}
	if (!cfg->quiet) {
		unsigned rest = cfg->iterations - 1;

		printf("\n");
		dlw_print_seconds(cfg, "Iteration 1 dirty memory time", cell->rows[0].dirty_pass_ns);
		snprintf(what, sizeof(what), "Iterations 2-%u average dirty memory time", cfg->iterations);
		dlw_print_seconds(cfg, what, pass_rest / rest);
		if (cell->logging) {
			dlw_print_seconds(cfg, "Iteration 1 get dirty log time", cell->rows[0].get_log_ns);
			snprintf(what, sizeof(what), "Iterations 2-%u average get dirty log time", cfg->iterations);
			dlw_print_seconds(cfg, what, get_rest / rest);
			if (cell->separate_clear) {
				dlw_print_seconds(cfg, "Iteration 1 clear dirty log time",
						  cell->rows[0].clear_log_ns);
				snprintf(what, sizeof(what), "Iterations 2-%u average clear dirty log time",
					 cfg->iterations);
				dlw_print_seconds(cfg, what, clear_rest / rest);
			}
			dlw_print_total("Get dirty log", cfg->iterations, get_total);
			if (cell->separate_clear)
				dlw_print_total("Clear dirty log", cfg->iterations, clear_total);
		}
	}
	return 0;
}

/* Sleeps until @until, or less when @poll is shorter. */
static void dlw_sleep_until(uint64_t until, uint64_t poll)
{
	uint64_t now = now_ns();

	if (now < until)
		sleep_ns(until - now < poll ? until - now : poll);
}

static int dlw_continuous_run(struct dlw_run *run)
{
	const struct dlw_config *cfg = run->cfg;
	struct dlw_cell *cell = run->cell;
	/* only a strategy that can make a vCPU wait for log space needs the
	 * harvester to look for waiting vCPUs between its ticks */
	const bool can_block = cell->logging && run->vm->log->ops->vcpu_blocked;
	struct dlw_row *row;
	struct vcpu_stats before, after;
	struct dlw_harvest h;
	uint64_t start, end, next, next_demand, get_sum = 0, clear_sum = 0, harvested = 0,
		 pass_sum = 0, passes = 0, ticks = 0;
	unsigned gen;

	cell->rows = calloc(1, sizeof(*cell->rows));
	if (!cell->rows || !(cell->rows[0].stall = histogram_new()))
		return -1;
	cell->nrows = 1;
	row = &cell->rows[0];
	for (int i = 0; i < run->n; i++)
		run->vc[i].pass_ns_sum = run->vc[i].passes = 0;
	run->demand_harvests = run->demand_pages = 0;
	dlw_stats_sum(run, &before);
	run->writes = dlw_writes_of(cfg->write_percent);
	run->random = cfg->random_access;
	run->timed = cell->logging;
	__atomic_store_n(&run->stop, 0, __ATOMIC_RELAXED);
	start = now_ns();
	gen = dlw_publish(run, DLW_PHASE_CONTINUOUS);
	end = start + cfg->duration_ns;
	next = start + cfg->harvest_interval_ns;
	next_demand = start + DLW_DEMAND_POLL_NS;
	for (;;) {
		uint64_t now = now_ns();

		if (now >= end)
			break;
		if (now >= next) {
			if (cell->logging) {
				dlw_harvest(run, 0, &h);
				get_sum += h.get_ns;
				clear_sum += h.clear_ns;
				harvested += h.pages;
				ticks++;
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
		dlw_sleep_until(next < end ? next : end, can_block ? next_demand - now : UINT64_MAX);
	}
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
	dlw_wait_done(run, gen, cell->logging);
	cell->run_ns = now_ns() - start;
	dlw_stats_sum(run, &after);
	dlw_row_from(row, &before, &after);
	dlw_collect_stalls(run, row->stall, cell->stall);
	if (cell->logging) {
		/* no vCPU runs: everything still outstanding is reported */
		dlw_harvest(run, DIRTY_LOG_FINAL, &h);
		cell->final_harvested = h.pages;
	}
	for (int i = 0; i < run->n; i++) {
		pass_sum += run->vc[i].pass_ns_sum;
		passes += run->vc[i].passes;
	}
	row->iteration = 0;
	row->passes = passes;
	row->dirty_pass_ns = passes ? pass_sum / passes : 0;
	row->get_log_ns = ticks ? get_sum / ticks : 0;
	row->clear_log_ns = ticks ? clear_sum / ticks : 0;
	row->pages_harvested = harvested + run->demand_pages;
	row->demand_harvests = run->demand_harvests;
	if (!cfg->quiet) {
		double s = (double)cell->run_ns / 1e9;

		printf("Continuous dirtying for %.3fs, harvest every %.3f ms: %llu harvests (%llu on demand)\n",
		       s, (double)cfg->harvest_interval_ns / 1e6, (unsigned long long)cell->harvests,
		       (unsigned long long)run->demand_harvests);
		printf("Pages dirtied: %llu (%.0f/s), harvested: %llu (%.0f/s), final harvest: %llu\n",
		       (unsigned long long)row->faults, (double)row->faults / s,
		       (unsigned long long)row->pages_harvested, (double)row->pages_harvested / s,
		       (unsigned long long)cell->final_harvested);
		printf("vCPU stall p50 %llu ns, p99 %llu ns, p99.9 %llu ns, max %llu ns (%llu samples)\n",
		       (unsigned long long)histogram_quantile(row->stall, 0.50),
		       (unsigned long long)histogram_quantile(row->stall, 0.99),
		       (unsigned long long)histogram_quantile(row->stall, 0.999),
		       (unsigned long long)row->stall->max, (unsigned long long)row->stall->count);
		if (cell->harvests)
			printf("Harvest latency p50 %llu ns, p99 %llu ns, max %llu ns\n",
			       (unsigned long long)histogram_quantile(cell->harvest, 0.50),
			       (unsigned long long)histogram_quantile(cell->harvest, 0.99),
			       (unsigned long long)cell->harvest->max);
	}
	return 0;
}

void dlw_cell_free(struct dlw_cell *cell)
{
	for (unsigned i = 0; i < cell->nrows; i++)
		free(cell->rows[i].stall);
	free(cell->rows);
	free(cell->stall);
	free(cell->harvest);
	free(cell->get_log);
	free(cell->clear_log);
	cell->rows = NULL;
	cell->nrows = 0;
	cell->stall = cell->harvest = cell->get_log = cell->clear_log = NULL;
}

int dlw_run_cell(const struct dlw_config *cfg, struct dlw_cell *cell, char *err, size_t errlen)
{
	struct guest_memory_options mo;
	struct guest_memory mem;
	struct vm_options vo;
	struct dirty_log *log = NULL;
	struct vm *vm = NULL;
	struct dlw_run run;
	struct workers g;
	unsigned long *dirty = NULL;
	uint64_t pages, per_pass, seed_state = cfg->seed;
	enum dlw_writes writes = dlw_writes_of(cfg->write_percent);
	bool started = false;
	int rc = -1;

	err[0] = 0;
	memset(&run, 0, sizeof(run));
	cell->logging = strcmp(cell->strategy, DLW_STRATEGY_NONE) != 0;
	cell->separate_clear = false;
	cell->nrows = 0;
	cell->rows = NULL;
	cell->harvests = cell->final_harvested = cell->run_ns = 0;
	cell->populate_ns = cell->raw_pass_ns = cell->floor_pass_ns = 0;
	cell->enable_ns = cell->disable_ns = 0;
	cell->stall = histogram_new();
	cell->harvest = histogram_new();
	cell->get_log = histogram_new();
	cell->clear_log = histogram_new();
	if (!cell->stall || !cell->harvest || !cell->get_log || !cell->clear_log) {
		snprintf(err, errlen, "out of memory for histograms");
		return -1;
	}
	if (dlw_config_check(cfg, err, errlen))
		return -2;
	pages = dlw_guest_bytes(cfg) >> PAGE_SHIFT;
	per_pass = cfg->overlap ? pages : pages / (uint64_t)cfg->vcpus;
	cell->pages_per_pass = per_pass;

	memset(&mo, 0, sizeof(mo));
	mo.bytes = dlw_guest_bytes(cfg);
	mo.backing = cfg->backing;
	mo.numa = cfg->numa;
	mo.numa_node = cfg->numa_node;
	mo.prefault = false;       /* the vCPUs populate, as in the kernel test */
	if (guest_memory_create(&mem, &mo, err, errlen))
		return -2;
	/* strategy "none": a VM without a dirty log */
	if (cell->logging) {
		log = dlw_log_create(cell, per_pass, err, errlen);
		if (!log) {
			rc = -2;
			goto out_mem;
		}
		cell->separate_clear = log->ops->clear_log != NULL;
	}
	memset(&vo, 0, sizeof(vo));
	vo.nslots = cfg->slots;
	vo.nvcpus = cfg->vcpus;
	vo.fault_path = cfg->fault_path;
	vo.memslot_protect = cfg->memslot_protect;
	vm = vm_create(&vo, &mem, log, err, errlen);
	if (!vm) {
		dirty_log_free(log);
		rc = -2;
		goto out_mem;
	}
	dirty = calloc(bitmap_words(pages), sizeof(unsigned long));
	run.vc = aligned_alloc(64, sizeof(*run.vc) * (size_t)cfg->vcpus);
	if (run.vc)
		memset(run.vc, 0, sizeof(*run.vc) * (size_t)cfg->vcpus);
	if (!dirty || !run.vc) {
		snprintf(err, errlen, "out of memory for %llu pages and %d vCPUs",
			 (unsigned long long)pages, cfg->vcpus);
		goto out;
	}
	/* logging off for the populate and floor passes */
	vm_disable_dirty_logging(vm);

	run.cfg = cfg;
	run.cell = cell;
	run.dirty = dirty;
	run.vm = vm;
	run.n = cfg->vcpus;
	run.write_percent = cfg->write_percent;
	for (int i = 0; i < cfg->vcpus; i++) {
		struct dlw_vcpu *c = &run.vc[i];

		c->run = &run;
		c->v = &vm->vcpus[i];
		c->first_gfn = cfg->overlap ? 0 : (uint64_t)i * per_pass;
		c->npages = per_pass;
		do
			c->rng = splitmix64(&seed_state);
		while (!c->rng);
		c->stall = histogram_new();
		if (!c->stall) {
			snprintf(err, errlen, "out of memory for histograms");
			goto out;
		}
	}
	if (workers_start(&g, cfg->vcpus, cfg->cpus, dlw_vcpu_thread, &run, "vCPU"))
		goto out;   /* workers_start printed which thread and CPU, and why */
	started = true;
	workers_go(&g);

	/* populate: 100% writes, sequential, logging off */
	cell->populate_ns = dlw_run_phase(&run, DLW_PHASE_PASS, DLW_WRITES_ALL, false, false);
	dlw_print_seconds(cfg, "Populate memory time", cell->populate_ns);
	for (unsigned k = 0; k < cfg->floor_passes; k++) {
		uint64_t raw = dlw_run_phase(&run, DLW_PHASE_RAW, writes, cfg->random_access, false);
		uint64_t loop = dlw_run_phase(&run, DLW_PHASE_PASS, writes, cfg->random_access, false);

		if (!k || raw < cell->raw_pass_ns)
			cell->raw_pass_ns = raw;
		if (!k || loop < cell->floor_pass_ns)
			cell->floor_pass_ns = loop;
	}
	if (!cfg->quiet) {
		printf("Floor, raw page touch (plain stores): %.2f ns/page\n",
		       (double)cell->raw_pass_ns / (double)per_pass);
		printf("Floor, vCPU loop with logging off: %.2f ns/page (pass %.6fs)\n",
		       (double)cell->floor_pass_ns / (double)per_pass, (double)cell->floor_pass_ns / 1e9);
	}
	/* the floor passes ran untimed; their (absent) stalls are not kept */
	for (int i = 0; i < cfg->vcpus; i++)
		histogram_init(run.vc[i].stall);

	if (cell->logging) {
		uint64_t t0 = now_ns();

		vm_enable_dirty_logging(vm);
		cell->enable_ns = now_ns() - t0;
		dlw_print_seconds(cfg, "Enabling dirty logging time", cell->enable_ns);
		if (!cfg->quiet)
			printf("\n");
	}
	if (cell->mode == DLW_MODE_ITERATION)
		rc = dlw_iterations(&run);
	else
		rc = dlw_continuous_run(&run);
	if (rc) {
		snprintf(err, errlen, "out of memory for results");
		goto out;
	}
	if (cell->logging) {
		uint64_t t0 = now_ns();

		vm_disable_dirty_logging(vm);
		cell->disable_ns = now_ns() - t0;
		dlw_print_seconds(cfg, "Disabling dirty logging time", cell->disable_ns);
	}
	rc = 0;
out:
	if (started) {
		/* every vCPU is idle here: each phase was waited for */
		dlw_publish(&run, DLW_PHASE_EXIT);
		workers_join(&g);
	}
	if (run.vc)
		for (int i = 0; i < cfg->vcpus; i++)
			free(run.vc[i].stall);
	free(run.vc);
	free(dirty);
	vm_destroy(vm);
	dirty_log_free(log);
out_mem:
	guest_memory_destroy(&mem);
	return rc;
}

/* ---- costs of the measurement ---- */

#define DLW_CALIBRATION_SAMPLES (1u << 20)

double dlw_histogram_sample_ns(void)
{
	enum { NVALUES = 4096, ROUNDS = DLW_CALIBRATION_SAMPLES / NVALUES };
	struct histogram *h = histogram_new();
	uint64_t *values = malloc(NVALUES * sizeof(*values));
	uint64_t s = 0x9e3779b97f4a7c15ull, t0, t1;
	double ns = 0;

	if (h && values) {
		/* values spread over 0..1 ms, as fault-path stalls are; drawn
		 * beforehand so that only histogram_record is timed */
		for (unsigned i = 0; i < NVALUES; i++)
			values[i] = xorshift64s(&s) & 0xfffff;
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

double dlw_clock_read_ns(void)
{
	const unsigned n = DLW_CALIBRATION_SAMPLES / 16;
	uint64_t t0 = now_ns(), last = t0;

	for (unsigned i = 0; i < n; i++)
		last = now_ns();   /* a vDSO call: not removed by the compiler */
	return (double)(last - t0) / (double)n;
}
