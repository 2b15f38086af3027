/*
 * Workload `memslot`: pinned vCPU threads translate random gfns to host
 * addresses through a memslot read protection (lib/memslot_protect/) and
 * touch the page, while one updater changes the memslot table at a set
 * rate or as fast as it can (the 2009 thread "[RFC] KVM: x86: conditionally
 * acquire/release slots_lock on entry/exit" and the move of memslots to
 * SRCU that followed it).
 *
 * Guest physical layout (gfns, every slot @slot_pages pages):
 *
 *   [ base slots 1..slots ][ gap ][ test area: test_slots chunks ][ gap ][ away ]
 *
 * Modes, after the kernel's memslot_perf_test; each says what one update
 * does and which gfns the readers draw from:
 *   map            one update maps one more test-area chunk (creates its
 *                  slot); once all are mapped, one update unmaps them all.
 *                  Readers: base slots and test area.
 *   unmap          the test area is one slot; each update deletes it or
 *                  creates it again, in turn.  Readers: base and test area.
 *   unmap-chunked  one update unmaps one test-area chunk; once none is
 *                  left, one update maps them all again.  Readers: base and
 *                  test area.
 *   move-active    base slot 1 moves between its home and the away range;
 *                  readers draw from the base slots and the away range, so
 *                  they use the moving slot.
 *   move-inactive  a test-area slot moves between the test area and the
 *                  away range; readers draw from the base slots only.
 *   rw             no layout change: each update toggles the dirty-logging
 *                  flag of one base slot (in turn); readers write the page
 *                  and read it back.  Readers: base slots.
 *
 * Figures.  Lookups per second per reader on the wall clock (the default
 * figure, lookups_per_s, and the stdout table's lookups/s/rdr) and on the
 * reader's own CPU time (lookups_per_s_cpu): the wall-clock figure counts
 * the time a reader lost to the updater and to other threads sharing its
 * CPU, the CPU-time one does not.  reader_cpu_share and updater_cpu_share
 * say where the difference went.  Reader stall: each reader times every
 * batch of @stall_batch iterations (lookup, page touch, read section,
 * quiescent point); a reader held up by an update or by the protection
 * shows as a long batch.  The clock is read once per batch, never per
 * lookup.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/util/histogram.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"
#include "lib/util/topology.h"
#include "lib/util/workers.h"
#include "lib/vm/memslots.h"
#include "workloads/threads.h"
#include "workloads/workload.h"

#define MEMSLOT_MAX_READERS 4096

/* clang-format off */
enum memslot_mode {
	MEMSLOT_MODE_MAP,
	MEMSLOT_MODE_UNMAP,
	MEMSLOT_MODE_UNMAP_CHUNKED,
	MEMSLOT_MODE_MOVE_ACTIVE,
	MEMSLOT_MODE_MOVE_INACTIVE,
	MEMSLOT_MODE_RW,
};
/* clang-format on */

static const char *const mode_names[] = {
	"map", "unmap", "unmap-chunked", "move-active", "move-inactive", "rw", NULL,
};
static const char *const gp_names[] = { "normal", "expedited", NULL };

struct memslot_opts {
	const char *protection; /* a spec, lib/memslot_protect */
	uint64_t readers;
	uint64_t update_rate; /* updates per second; 0: back to back */
	int mode;	      /* enum memslot_mode */
	double duration_s;
	int gp;		      /* index in gp_names */
	bool expedited;	      /* -e: the same as --gp expedited */
	uint64_t critical_ns; /* extra busy time inside each read section */
	uint64_t slots;	      /* base slots */
	uint64_t slot_pages;
	uint64_t test_slots;  /* chunks of the test area */
	uint64_t stall_batch; /* reader iterations per timed batch */
	uint64_t seed;
	uint64_t repetitions;
	const char *cpus; /* OS CPU list, or NULL: placement */
	int placement;	  /* enum placement */
};

#define TEST_AREA_ID 1000u   /* unmap: the whole test area as one slot */
#define TEST_CHUNK_ID0 1001u /* test-area chunk j has id 1001 + j */

/* Where things sit in guest physical memory, in gfns (see the top). */
struct layout {
	uint64_t slot_pages;
	uint32_t slots, test_slots;
	uint64_t test_base; /* first gfn of the test area */
	uint64_t away_base; /* where moved slots go */
	/* Readers draw gfn = uniform [0, draw_range), then add draw_shift to
	 * those >= draw_split (move-active: the away range after the base). */
	uint64_t draw_range, draw_split, draw_shift;
	uint8_t *mem; /* host memory behind every slot */
};

/* One reader's figures, on a cache line of its own. */
struct reader_state {
	_Alignas(64) uint64_t lookups;
	uint64_t hits;
	uint64_t failures;
	uint64_t start_ns, end_ns; /* wall clock */
	uint64_t cpu_ns;	   /* its thread's CPU time over the same */
	uint64_t sink;		   /* keeps the page reads alive */
	struct histogram *stall_ns;
	int register_failed;
};

/* One cell's run. */
struct run {
	const struct memslot_opts *o;
	struct layout lay;
	struct memslot_protect *prot;
	struct reader_state *rs;
	_Alignas(64) atomic_int registered; /* readers past registration */
	atomic_int go;
	atomic_int stop;
	uint32_t rw_next; /* rw: next base slot to toggle (updater) */
};

/* A cell's results. */
struct cell_result {
	uint64_t elapsed_ns; /* updater's measured interval */
	uint64_t lookups, hits, read_failures;
	double lookups_per_s, lookups_per_s_min, lookups_per_s_max; /* per reader, wall */
	double lookups_per_s_cpu;				    /* per reader, own CPU time */
	double reader_cpu_share;  /* reader CPU time / wall time, mean */
	double updater_cpu_share; /* updater CPU time / elapsed */
	uint64_t updates, update_errors;
	double updates_per_s;
	struct histogram *update_ns; /* one value per update */
	struct histogram *stall_ns;  /* one value per reader batch */
};

static uint64_t memory_bytes(const struct memslot_opts *o)
{
	return (o->slots + o->test_slots) * o->slot_pages * PAGE_SIZE;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the layout */

static struct memslot base_slot(const struct layout *l, uint32_t i) /* i: 0-based */
{
	struct memslot s = {
		.id = i + 1,
		.base_gfn = (uint64_t)i * l->slot_pages,
		.npages = l->slot_pages,
		.hva = l->mem + (uint64_t)i * l->slot_pages * PAGE_SIZE,
	};
	return s;
}

static struct memslot test_chunk(const struct layout *l, uint32_t j)
{
	struct memslot s = {
		.id = TEST_CHUNK_ID0 + j,
		.base_gfn = l->test_base + (uint64_t)j * l->slot_pages,
		.npages = l->slot_pages,
		.hva = l->mem + ((uint64_t)l->slots + j) * l->slot_pages * PAGE_SIZE,
	};
	return s;
}

static struct memslot test_area(const struct layout *l)
{
	struct memslot s = {
		.id = TEST_AREA_ID,
		.base_gfn = l->test_base,
		.npages = (uint64_t)l->test_slots * l->slot_pages,
		.hva = l->mem + (uint64_t)l->slots * l->slot_pages * PAGE_SIZE,
	};
	return s;
}

static void layout_init(struct layout *l, const struct memslot_opts *o, uint8_t *mem)
{
	uint64_t sp = o->slot_pages;

	memset(l, 0, sizeof(*l));
	l->slot_pages = sp;
	l->slots = (uint32_t)o->slots;
	l->test_slots = (uint32_t)o->test_slots;
	l->mem = mem;
	l->test_base = (o->slots + 1) * sp;
	l->away_base = l->test_base + (o->test_slots + 1) * sp;
	l->draw_split = UINT64_MAX;
	switch ((enum memslot_mode)o->mode) {
	case MEMSLOT_MODE_MAP:
	case MEMSLOT_MODE_UNMAP:
	case MEMSLOT_MODE_UNMAP_CHUNKED:
		l->draw_range = l->test_base + o->test_slots * sp;
		break;
	case MEMSLOT_MODE_MOVE_ACTIVE:
		l->draw_range = (o->slots + 1) * sp;
		l->draw_split = o->slots * sp;
		l->draw_shift = l->away_base - l->draw_split;
		break;
	case MEMSLOT_MODE_MOVE_INACTIVE:
	case MEMSLOT_MODE_RW:
		l->draw_range = o->slots * sp;
		break;
	}
}

static struct memslot_table *initial_table(const struct layout *l, enum memslot_mode mode)
{
	uint32_t n = l->slots + l->test_slots + 1, k = 0;
	struct memslot_table *t = memslot_table_alloc(n);

	if (!t)
		return NULL;
	for (uint32_t i = 0; i < l->slots; i++)
		t->slots[k++] = base_slot(l, i);
	if (mode == MEMSLOT_MODE_UNMAP)
		t->slots[k++] = test_area(l);
	else if (mode == MEMSLOT_MODE_UNMAP_CHUNKED)
		for (uint32_t j = 0; j < l->test_slots; j++)
			t->slots[k++] = test_chunk(l, j);
	else if (mode == MEMSLOT_MODE_MOVE_INACTIVE)
		t->slots[k++] = test_chunk(l, 0);
	t->nslots = k;
	memslot_table_sort(t);
	return t;
}

/* ---- the updater's changes, one per mode; each reads the current layout
 * from the table it edits, so a refused update leaves nothing behind. */

static int change_map(struct memslot_table *t, void *arg)
{
	const struct run *run = arg;

	for (uint32_t j = 0; j < run->lay.test_slots; j++)
		if (!memslot_table_find_id(t, TEST_CHUNK_ID0 + j)) {
			struct memslot s = test_chunk(&run->lay, j);

			return memslot_table_create_slot(t, &s);
		}
	/* All mapped: unmap the whole area in one update. */
	for (uint32_t j = 0; j < run->lay.test_slots; j++) {
		int rc = memslot_table_delete_slot(t, TEST_CHUNK_ID0 + j);

		if (rc)
			return rc;
	}
	return 0;
}

static int change_unmap(struct memslot_table *t, void *arg)
{
	const struct run *run = arg;
	struct memslot s;

	if (memslot_table_find_id(t, TEST_AREA_ID))
		return memslot_table_delete_slot(t, TEST_AREA_ID);
	s = test_area(&run->lay);
	return memslot_table_create_slot(t, &s);
}

static int change_unmap_chunked(struct memslot_table *t, void *arg)
{
	const struct run *run = arg;

	for (uint32_t j = run->lay.test_slots; j-- > 0;)
		if (memslot_table_find_id(t, TEST_CHUNK_ID0 + j))
			return memslot_table_delete_slot(t, TEST_CHUNK_ID0 + j);
	/* None left: map the whole area again in one update. */
	for (uint32_t j = 0; j < run->lay.test_slots; j++) {
		struct memslot s = test_chunk(&run->lay, j);
		int rc = memslot_table_create_slot(t, &s);

		if (rc)
			return rc;
	}
	return 0;
}

static int move_between(struct memslot_table *t, uint32_t id, uint64_t home, uint64_t away)
{
	struct memslot *s = memslot_table_find_id(t, id);

	if (!s)
		return -ENOENT;
	return memslot_table_move_slot(t, id, s->base_gfn == home ? away : home);
}

static int change_move_active(struct memslot_table *t, void *arg)
{
	const struct run *run = arg;

	return move_between(t, 1, 0, run->lay.away_base);
}

static int change_move_inactive(struct memslot_table *t, void *arg)
{
	const struct run *run = arg;

	return move_between(t, TEST_CHUNK_ID0, run->lay.test_base, run->lay.away_base);
}

static int change_rw(struct memslot_table *t, void *arg)
{
	const struct run *run = arg;
	uint32_t id = run->rw_next % run->lay.slots + 1;
	struct memslot *s = memslot_table_find_id(t, id);

	if (!s)
		return -ENOENT;
	return memslot_table_set_flags(t, id, s->flags ^ MEMSLOT_LOG_DIRTY_PAGES);
}

static const memslot_change_fn mode_change[] = {
	[MEMSLOT_MODE_MAP] = change_map,
	[MEMSLOT_MODE_UNMAP] = change_unmap,
	[MEMSLOT_MODE_UNMAP_CHUNKED] = change_unmap_chunked,
	[MEMSLOT_MODE_MOVE_ACTIVE] = change_move_active,
	[MEMSLOT_MODE_MOVE_INACTIVE] = change_move_inactive,
	[MEMSLOT_MODE_RW] = change_rw,
};

/* ---- readers */

static inline uint64_t draw_gfn(const struct layout *l, uint64_t *rng)
{
	uint64_t g = rng_below(rng, l->draw_range);

	return g >= l->draw_split ? g + l->draw_shift : g;
}

/* Registers, then waits for go; NULL if it failed or the run stopped. */
static struct memslot_reader *reader_start(struct run *run, int index)
{
	struct reader_state *rs = &run->rs[index];
	struct memslot_reader *r;
	char name[32];

	snprintf(name, sizeof(name), "vcpu%d", index);
	r = memslot_reader_register(run->prot, name);
	if (!r)
		rs->register_failed = 1;
	/* release: publishes register_failed to the updater's acquire. */
	atomic_fetch_add_explicit(&run->registered, 1, memory_order_release);
	if (!r)
		return NULL;
	/* acquire: pairs with the release store of go. */
	/* stop relaxed: a flag; workers_join orders what readers wrote */
	while (!atomic_load_explicit(&run->go, memory_order_acquire) &&
	       !atomic_load_explicit(&run->stop, memory_order_relaxed))
		sched_yield();
	if (!atomic_load_explicit(&run->go, memory_order_acquire)) {
		/* Stopped before the start: another reader failed. */
		memslot_reader_unregister(r);
		return NULL;
	}
	return r;
}

/* The measured loop: batches of lookups until the run stops. */
static void reader_loop(struct run *run, struct memslot_reader *r, struct reader_state *rs,
			uint64_t rng)
{
	const struct layout *l = &run->lay;
	const bool rw = run->o->mode == MEMSLOT_MODE_RW;
	const uint64_t critical_ns = run->o->critical_ns;
	const uint32_t batch = (uint32_t)run->o->stall_batch;
	uint64_t lookups = 0, hits = 0, failures = 0, sink = 0, tb = now_ns();

	rs->start_ns = tb;
	for (;;) {
		for (uint32_t i = 0; i < batch; i++) {
			uint64_t gfn = draw_gfn(l, &rng);
			const struct memslot_table *t = memslot_read_begin(r);
			const struct memslot *s = memslot_lookup(t, gfn);

			if (s) {
				_Atomic uint64_t *page =
					(_Atomic uint64_t *)memslot_gfn_to_hva(s, gfn);

				/* relaxed: several vCPUs touch one page, no order */
				if (rw)
					atomic_store_explicit(page, lookups, memory_order_relaxed);
				sink += atomic_load_explicit(page, memory_order_relaxed);
				failures += s->npages == 0;
				hits++;
			}
			if (critical_ns)
				spin_for_ns(critical_ns);
			failures += t->poison != MEMSLOT_TABLE_LIVE;
			memslot_read_end(r);
			memslot_quiescent(r);
			lookups++;
		}
		uint64_t tn = now_ns();

		histogram_record(rs->stall_ns, tn - tb);
		tb = tn;
		/* relaxed: a stop flag; the results are read after join. */
		if (atomic_load_explicit(&run->stop, memory_order_relaxed))
			break;
	}
	rs->end_ns = tb;
	rs->lookups = lookups;
	rs->hits = hits;
	rs->failures = failures;
	rs->sink = sink;
}

static void reader_main(struct worker *w)
{
	struct run *run = w->arg;
	struct reader_state *rs = &run->rs[w->index];
	struct memslot_reader *r = reader_start(run, w->index);
	uint64_t c0;

	if (!r)
		return;
	c0 = thread_cpu_ns();
	reader_loop(run, r, rs, rng_seed(run->o->seed, (uint64_t)w->index));
	rs->cpu_ns = thread_cpu_ns() - c0;
	memslot_reader_unregister(r);
}

/* ---- the updater: the calling thread, unpinned */

static void updater_loop(struct run *run, struct cell_result *res, uint64_t t0, struct wl_ctx *ctx)
{
	const struct memslot_opts *o = run->o;
	memslot_change_fn change = mode_change[o->mode];
	uint64_t interval = o->update_rate ? 1000000000ull / o->update_rate : 0;
	uint64_t end = t0 + (uint64_t)(o->duration_s * 1e9), next = t0;
	uint32_t extra = (uint32_t)o->test_slots + 1;
	bool refused = false;

	for (;;) {
		uint64_t now = now_ns(), a, b;
		int rc;

		if (now >= end)
			break;
		if (refused || (interval && now < next)) {
			sleep_ns((refused || next > end ? end : next) - now);
			continue;
		}
		if (interval) /* late by more than one interval: do not burst */
			next = next + interval < now ? now : next + interval;
		a = now_ns();
		rc = memslot_protect_update_grow(run->prot, extra, change, run);
		b = now_ns();
		if (rc) {
			res->update_errors++;
			wl_notice(ctx, "%s: update %llu refused (%s); no more updates this cell",
				  o->protection, (unsigned long long)res->updates + 1,
				  strerror(-rc));
			refused = true;
			continue;
		}
		if (o->mode == MEMSLOT_MODE_RW)
			run->rw_next++;
		histogram_record(res->update_ns, b - a);
		res->updates++;
	}
}

/* ---- one cell */

/* Per-reader figures into @res once the readers have stopped. */
static void gather(const struct run *run, int n, struct cell_result *res)
{
	double sum = 0, sum_cpu = 0, share = 0;

	res->lookups_per_s_min = -1;
	for (int i = 0; i < n; i++) {
		const struct reader_state *rs = &run->rs[i];
		double el = (double)(rs->end_ns - rs->start_ns) / 1e9;
		double lps = el > 0 ? (double)rs->lookups / el : 0;

		res->lookups += rs->lookups;
		res->hits += rs->hits;
		res->read_failures += rs->failures;
		histogram_merge(res->stall_ns, rs->stall_ns);
		sum += lps;
		sum_cpu += rs->cpu_ns ? (double)rs->lookups / ((double)rs->cpu_ns / 1e9) : 0;
		share += el > 0 ? (double)rs->cpu_ns / 1e9 / el : 0;
		if (res->lookups_per_s_min < 0 || lps < res->lookups_per_s_min)
			res->lookups_per_s_min = lps;
		if (lps > res->lookups_per_s_max)
			res->lookups_per_s_max = lps;
	}
	res->lookups_per_s = sum / n;
	res->lookups_per_s_cpu = sum_cpu / n;
	res->reader_cpu_share = share / n;
	res->updates_per_s = (double)res->updates / ((double)res->elapsed_ns / 1e9);
}

/* Starts the readers, runs the updater for the cell's duration, stops
 * them.  WL_ERROR with @err if a reader cannot start. */
static int run_threads(struct run *run, const int *cpus, struct cell_result *res,
		       struct wl_ctx *ctx, char *err, size_t errlen)
{
	const int n = (int)run->o->readers;
	struct workers g;
	uint64_t t0, c0;

	if (workers_start(&g, n, cpus, reader_main, run, "memslot reader")) {
		snprintf(err, errlen, "cannot start %d pinned reader threads", n);
		return WL_ERROR;
	}
	workers_go(&g);
	/* acquire: pairs with the readers' release increments. */
	while (atomic_load_explicit(&run->registered, memory_order_acquire) < n)
		sleep_ns(50 * 1000);
	for (int i = 0; i < n; i++)
		if (run->rs[i].register_failed) {
			snprintf(err, errlen, "reader %d could not register with %s: %s", i,
				 run->o->protection, strerror(ENOMEM));
			atomic_store_explicit(&run->stop, 1, memory_order_relaxed);
			workers_join(&g);
			return WL_ERROR;
		}
	t0 = now_ns();
	c0 = thread_cpu_ns();
	/* release: the readers start their clocks after this. */
	atomic_store_explicit(&run->go, 1, memory_order_release);
	updater_loop(run, res, t0, ctx);
	res->elapsed_ns = now_ns() - t0;
	res->updater_cpu_share = (double)(thread_cpu_ns() - c0) / (double)res->elapsed_ns;
	atomic_store_explicit(&run->stop, 1, memory_order_relaxed);
	workers_join(&g);
	gather(run, n, res);
	return 0;
}

/* The per-reader state and the protection over the cell's first table. */
static int run_setup(struct run *run, struct cell_result *res, char *err, size_t errlen)
{
	const struct memslot_opts *o = run->o;
	struct memslot_protect_options po;
	struct memslot_table *t = initial_table(&run->lay, (enum memslot_mode)o->mode);

	res->update_ns = histogram_new();
	res->stall_ns = histogram_new();
	run->rs = calloc(o->readers, sizeof(*run->rs));
	if (!res->update_ns || !res->stall_ns || !run->rs || !t)
		goto oom;
	for (uint64_t i = 0; i < o->readers; i++)
		if (!(run->rs[i].stall_ns = histogram_new()))
			goto oom;
	memslot_protect_options_default(&po);
	po.expedited = o->gp == 1 || o->expedited;
	/* owns the table from here on, also on failure */
	run->prot = memslot_protect_create(o->protection, &po, t, err, errlen);
	return run->prot ? 0 : WL_BAD_INPUT;
oom:
	free(t);
	snprintf(err, errlen, "out of memory for %llu readers", (unsigned long long)o->readers);
	return WL_ERROR;
}

static void run_teardown(struct run *run)
{
	/* -EBUSY only if a reader did not unregister: never after the join */
	if (run->prot)
		(void)memslot_protect_destroy(run->prot);
	if (run->rs)
		for (uint64_t i = 0; i < run->o->readers; i++)
			free(run->rs[i].stall_ns);
	free(run->rs);
}

static void cell_result_free(struct cell_result *res)
{
	free(res->update_ns);
	free(res->stall_ns);
	res->update_ns = res->stall_ns = NULL;
}

/* One repetition of a cell into @res (free it with cell_result_free). */
static int measure(const struct memslot_opts *o, const int *cpus, uint8_t *mem,
		   struct cell_result *res, struct wl_ctx *ctx, char *err, size_t errlen)
{
	struct run run = { .o = o };
	int rc;

	memset(res, 0, sizeof(*res));
	layout_init(&run.lay, o, mem);
	rc = run_setup(&run, res, err, errlen);
	if (!rc)
		rc = run_threads(&run, cpus, res, ctx, err, errlen);
	run_teardown(&run);
	return rc;
}

/* ---- rows, the stdout table, the checks, the tables */

/* clang-format off */
enum {
	COL_PROTECTION, COL_READERS, COL_UPDATE_RATE, COL_MODE, COL_GP, COL_REPETITION,
	COL_DURATION_S, COL_CRITICAL_NS, COL_SLOTS, COL_SLOT_PAGES, COL_TEST_SLOTS,
	COL_STALL_BATCH, COL_SEED, COL_PLACEMENT, COL_CPUS, COL_OVERCOMMIT, COL_ELAPSED_S,
	COL_LOOKUPS_PER_S, COL_LOOKUPS_PER_S_MIN, COL_LOOKUPS_PER_S_MAX, COL_LOOKUPS_TOTAL,
	COL_HIT_RATIO, COL_UPDATES, COL_UPDATES_PER_S, COL_UPDATE_ERRORS, COL_UPDATE_P50_NS,
	COL_UPDATE_P99_NS, COL_UPDATE_MAX_NS, COL_STALL_P50_NS, COL_STALL_P99_NS,
	COL_STALL_MAX_NS, COL_READ_FAILURES, COL_LOOKUPS_PER_S_CPU, COL_READER_CPU_SHARE,
	COL_UPDATER_CPU_SHARE,
};
/* clang-format on */

/* clang-format off */
static const struct wl_column memslot_columns[] = {
	[COL_PROTECTION] = { "protection", WL_COL_TEXT, "" },
	[COL_READERS] = { "readers", WL_COL_UINT, "" },
	[COL_UPDATE_RATE] = { "update_rate", WL_COL_UINT, "1/s" },
	[COL_MODE] = { "mode", WL_COL_TEXT, "" },
	[COL_GP] = { "gp", WL_COL_TEXT, "" },
	[COL_REPETITION] = { "repetition", WL_COL_UINT, "" },
	[COL_DURATION_S] = { "duration_s", WL_COL_REAL, "s", 0, "%.6g" },
	[COL_CRITICAL_NS] = { "critical_ns", WL_COL_UINT, "ns" },
	[COL_SLOTS] = { "slots", WL_COL_UINT, "" },
	[COL_SLOT_PAGES] = { "slot_pages", WL_COL_UINT, "pages" },
	[COL_TEST_SLOTS] = { "test_slots", WL_COL_UINT, "" },
	[COL_STALL_BATCH] = { "stall_batch", WL_COL_UINT, "" },
	[COL_SEED] = { "seed", WL_COL_UINT, "" },
	[COL_PLACEMENT] = { "placement", WL_COL_TEXT, "" },
	[COL_CPUS] = { "cpus", WL_COL_TEXT, "" },
	[COL_OVERCOMMIT] = { "overcommit", WL_COL_UINT, "" },
	[COL_ELAPSED_S] = { "elapsed_s", WL_COL_REAL, "s", 0, "%.6f" },
	[COL_LOOKUPS_PER_S] = { "lookups_per_s", WL_COL_REAL, "1/s", 0, "%.1f" },
	[COL_LOOKUPS_PER_S_MIN] = { "lookups_per_s_min", WL_COL_REAL, "1/s", 0, "%.1f" },
	[COL_LOOKUPS_PER_S_MAX] = { "lookups_per_s_max", WL_COL_REAL, "1/s", 0, "%.1f" },
	[COL_LOOKUPS_TOTAL] = { "lookups_total", WL_COL_UINT, "" },
	[COL_HIT_RATIO] = { "hit_ratio", WL_COL_REAL, "", 0, "%.6f" },
	[COL_UPDATES] = { "updates", WL_COL_UINT, "" },
	[COL_UPDATES_PER_S] = { "updates_per_s", WL_COL_REAL, "1/s", 0, "%.1f" },
	[COL_UPDATE_ERRORS] = { "update_errors", WL_COL_UINT, "" },
	[COL_UPDATE_P50_NS] = { "update_p50_ns", WL_COL_UINT, "ns" },
	[COL_UPDATE_P99_NS] = { "update_p99_ns", WL_COL_UINT, "ns" },
	[COL_UPDATE_MAX_NS] = { "update_max_ns", WL_COL_UINT, "ns" },
	[COL_STALL_P50_NS] = { "stall_p50_ns", WL_COL_UINT, "ns" },
	[COL_STALL_P99_NS] = { "stall_p99_ns", WL_COL_UINT, "ns" },
	[COL_STALL_MAX_NS] = { "stall_max_ns", WL_COL_UINT, "ns" },
	[COL_READ_FAILURES] = { "read_failures", WL_COL_UINT, "" },
	[COL_LOOKUPS_PER_S_CPU] = { "lookups_per_s_cpu", WL_COL_REAL, "1/s", 0, "%.1f" },
	[COL_READER_CPU_SHARE] = { "reader_cpu_share", WL_COL_REAL, "", 0, "%.4f" },
	[COL_UPDATER_CPU_SHARE] = { "updater_cpu_share", WL_COL_REAL, "", 0, "%.4f" },
	{ 0 },
};
/* clang-format on */

/* The cell's parameters: the first columns of its row. */
static void put_params(struct wl_ctx *ctx, const struct memslot_opts *o, uint64_t rep,
		       const char *cpustr, int over)
{
	wl_put_text(ctx, COL_PROTECTION, o->protection);
	wl_put_uint(ctx, COL_READERS, o->readers);
	wl_put_uint(ctx, COL_UPDATE_RATE, o->update_rate);
	wl_put_text(ctx, COL_MODE, mode_names[o->mode]);
	wl_put_text(ctx, COL_GP, gp_names[o->gp == 1 || o->expedited]);
	wl_put_uint(ctx, COL_REPETITION, rep);
	wl_put_real(ctx, COL_DURATION_S, o->duration_s);
	wl_put_uint(ctx, COL_CRITICAL_NS, o->critical_ns);
	wl_put_uint(ctx, COL_SLOTS, o->slots);
	wl_put_uint(ctx, COL_SLOT_PAGES, o->slot_pages);
	wl_put_uint(ctx, COL_TEST_SLOTS, o->test_slots);
	wl_put_uint(ctx, COL_STALL_BATCH, o->stall_batch);
	wl_put_uint(ctx, COL_SEED, o->seed);
	wl_put_text(ctx, COL_PLACEMENT, o->cpus ? "list" : workload_placement_names[o->placement]);
	wl_put_text(ctx, COL_CPUS, cpustr);
	wl_put_uint(ctx, COL_OVERCOMMIT, (uint64_t)over);
}

static int emit_row(struct wl_ctx *ctx, const struct memslot_opts *o, uint64_t rep,
		    const char *cpustr, int over, const struct cell_result *r)
{
	wl_row_begin(ctx);
	put_params(ctx, o, rep, cpustr, over);
	wl_put_real(ctx, COL_ELAPSED_S, (double)r->elapsed_ns / 1e9);
	wl_put_real(ctx, COL_LOOKUPS_PER_S, r->lookups_per_s);
	wl_put_real(ctx, COL_LOOKUPS_PER_S_MIN, r->lookups_per_s_min);
	wl_put_real(ctx, COL_LOOKUPS_PER_S_MAX, r->lookups_per_s_max);
	wl_put_uint(ctx, COL_LOOKUPS_TOTAL, r->lookups);
	wl_put_real(ctx, COL_HIT_RATIO, r->lookups ? (double)r->hits / (double)r->lookups : 0.0);
	wl_put_uint(ctx, COL_UPDATES, r->updates);
	wl_put_real(ctx, COL_UPDATES_PER_S, r->updates_per_s);
	wl_put_uint(ctx, COL_UPDATE_ERRORS, r->update_errors);
	wl_put_uint(ctx, COL_UPDATE_P50_NS, histogram_quantile(r->update_ns, 0.5));
	wl_put_uint(ctx, COL_UPDATE_P99_NS, histogram_quantile(r->update_ns, 0.99));
	wl_put_uint(ctx, COL_UPDATE_MAX_NS, histogram_quantile(r->update_ns, 1.0));
	wl_put_uint(ctx, COL_STALL_P50_NS, histogram_quantile(r->stall_ns, 0.5));
	wl_put_uint(ctx, COL_STALL_P99_NS, histogram_quantile(r->stall_ns, 0.99));
	wl_put_uint(ctx, COL_STALL_MAX_NS, histogram_quantile(r->stall_ns, 1.0));
	wl_put_uint(ctx, COL_READ_FAILURES, r->read_failures);
	wl_put_real(ctx, COL_LOOKUPS_PER_S_CPU, r->lookups_per_s_cpu);
	wl_put_real(ctx, COL_READER_CPU_SHARE, r->reader_cpu_share);
	wl_put_real(ctx, COL_UPDATER_CPU_SHARE, r->updater_cpu_share);
	return wl_row_end(ctx);
}

/* The stdout line of a repetition (the table of the old `dlbench memslot`,
 * with the CPU-time figure beside the wall-clock one). */
static void print_line(struct wl_ctx *ctx, const struct memslot_opts *o, uint64_t rep,
		       const struct cell_result *r)
{
	if (wl_cell_index(ctx) == 0 && rep == 0)
		wl_printf(ctx,
			  "lookups/s/rdr: per reader, wall clock (summary.csv lookups_per_s); "
			  "cpu_lkp/s/rdr: per reader CPU time (lookups_per_s_cpu)\n"
			  "%-11s %7s %8s %-13s %14s %14s %10s %10s %10s %12s %11s %8s\n",
			  "protection", "readers", "upd/s", "mode", "lookups/s/rdr",
			  "cpu_lkp/s/rdr", "updates/s", "upd_p50", "upd_p99", "upd_max",
			  "stall_p99", "failures");
	wl_printf(
		ctx,
		"%-11s %7llu %8llu %-13s %14.0f %14.0f %10.1f %10llu %10llu %12llu %11llu %8llu\n",
		o->protection, (unsigned long long)o->readers, (unsigned long long)o->update_rate,
		mode_names[o->mode], r->lookups_per_s, r->lookups_per_s_cpu, r->updates_per_s,
		(unsigned long long)histogram_quantile(r->update_ns, 0.5),
		(unsigned long long)histogram_quantile(r->update_ns, 0.99),
		(unsigned long long)histogram_quantile(r->update_ns, 1.0),
		(unsigned long long)histogram_quantile(r->stall_ns, 0.99),
		(unsigned long long)r->read_failures);
}

/* The readers' CPUs, allocated; WL_BAD_INPUT with @err if the list or
 * placement cannot give them. */
static int pick_cpus(const struct memslot_opts *o, int **cpus, int *over, char *err, size_t errlen)
{
	return workload_alloc_cpus((int)o->readers, (enum placement)o->placement, o->cpus, "--cpus",
				   cpus, over, err, errlen);
}

static int memslot_check(const void *opts, char *err, size_t errlen)
{
	const struct memslot_opts *o = opts;
	long phys_pages = sysconf(_SC_PHYS_PAGES);
	int *cpus, over, rc;

	if (phys_pages > 0 && memory_bytes(o) > (uint64_t)phys_pages * PAGE_SIZE / 2) {
		snprintf(err, errlen,
			 "--slots/--test-slots/--slot-pages: %llu bytes of guest memory is more "
			 "than half of the %llu bytes of RAM",
			 (unsigned long long)memory_bytes(o),
			 (unsigned long long)phys_pages * PAGE_SIZE);
		return WL_BAD_INPUT;
	}
	if (topology_init()) {
		snprintf(err, errlen, "hwloc cannot load the machine topology");
		return WL_BAD_INPUT;
	}
	rc = pick_cpus(o, &cpus, &over, err, errlen);
	free(cpus);
	/* a check says 0 or WL_BAD_INPUT, out of memory included */
	return rc ? WL_BAD_INPUT : 0;
}

/* One repetition: measure, then the row, the stdout line, the histograms. */
static int run_rep(const struct memslot_opts *o, uint64_t rep, const int *cpus, int over,
		   uint8_t *mem, struct wl_ctx *ctx, char *err, size_t errlen)
{
	struct cell_result res;
	char cpustr[1024], cell[256];
	int rc = measure(o, cpus, mem, &res, ctx, err, errlen);

	if (!rc) {
		topology_cpus_text(cpustr, sizeof(cpustr), cpus, (int)o->readers);
		snprintf(cell, sizeof(cell), "%s-v%llu-u%llu-%s-%s-r%llu", o->protection,
			 (unsigned long long)o->readers, (unsigned long long)o->update_rate,
			 mode_names[o->mode], gp_names[o->gp == 1 || o->expedited],
			 (unsigned long long)rep);
		if (emit_row(ctx, o, rep, cpustr, over, &res) ||
		    wl_save_histogram(ctx, res.update_ns, "%s-update", cell) ||
		    wl_save_histogram(ctx, res.stall_ns, "%s-stall", cell))
			rc = WL_ERROR;
		print_line(ctx, o, rep, &res);
	}
	if (!rc && res.read_failures) {
		wl_notice(ctx, "%s: %llu lookups saw a retired table or slot", o->protection,
			  (unsigned long long)res.read_failures);
		rc = WL_FAILED;
	}
	cell_result_free(&res);
	return rc;
}

static void memslot_meta(struct wl_ctx *ctx)
{
	wl_meta(ctx, "stall_ns", "\"%s\"",
		"wall time of one batch of stall_batch reader iterations");
	wl_meta(ctx, "update_ns", "\"%s\"",
		"one memslot_protect_update call: copy, change, publish, wait, retire");
	wl_meta(ctx, "lookups_per_s", "\"%s\"", "per reader, mean over readers, wall clock");
	wl_meta(ctx, "lookups_per_s_cpu", "\"%s\"",
		"per reader, mean over readers, over the reader thread's CPU time");
	wl_meta(ctx, "updater", "\"%s\"", "the calling thread, unpinned");
	wl_meta(ctx, "stdout_lookups", "\"%s\"", "lookups/s/rdr is wall clock (lookups_per_s)");
}

static int memslot_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	const struct memslot_opts *o = opts;
	uint64_t bytes = memory_bytes(o);
	int *cpus, over = 0, rc;
	uint8_t *mem;

	if ((rc = pick_cpus(o, &cpus, &over, err, errlen)))
		return rc;
	if (over)
		workload_overcommit_notice(ctx, (unsigned long long)o->readers, "readers");
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %llu bytes of guest memory: %s",
			 (unsigned long long)bytes, strerror(errno));
		free(cpus);
		return WL_ERROR;
	}
	wl_progress(ctx, "%s, %llu readers, %llu updates/s, %s", o->protection,
		    (unsigned long long)o->readers, (unsigned long long)o->update_rate,
		    mode_names[o->mode]);
	rc = 0;
	for (uint64_t rep = 0; rep < o->repetitions && rc >= 0 && rc != WL_FAILED; rep++)
		rc = run_rep(o, rep, cpus, over, mem, ctx, err, errlen);
	munmap(mem, bytes);
	free(cpus);
	memslot_meta(ctx);
	return rc;
}

/* --mode `all`: every mode, by name. */
static int mode_expand(const char *value, const char **out, int max)
{
	int n = 0;

	if (strcmp(value, "all"))
		return 0;
	for (; mode_names[n]; n++) {
		if (n == max)
			return -1;
		out[n] = mode_names[n];
	}
	return n;
}

#define OPT(field) offsetof(struct memslot_opts, field)

/* clang-format off */
static const struct wl_option memslot_options[] = {
	{ .name = "protection", .short_name = 'p', .type = WL_TEXT, .flags = WL_REPEAT,
	  .def = "srcu-fast", .metavar = "SPEC", .offset = OPT(protection),
	  .help = "NAME[:KEY=VALUE,...], a comma list of them, or `all`\n"
		  "(floor: the same loop, a bare per-thread counter increment\n"
		  "in place of the protection)",
	  .check_value = memslot_protect_spec_check, .expand = memslot_protect_spec_expand },
	{ .name = "readers", .short_name = 'v', .type = WL_UINT, .flags = WL_LIST, .def = "max",
	  .min = 1, .max = MEMSLOT_MAX_READERS, .offset = OPT(readers),
	  .help = "vCPU reader threads (max: every CPU)" },
	{ .name = "update-rate", .short_name = 'u', .type = WL_UINT, .flags = WL_LIST,
	  .def = "1000", .min = 0, .max = 10000000, .offset = OPT(update_rate),
	  .help = "updates per second, 0 = back to back" },
	{ .name = "mode", .short_name = 'm', .type = WL_CHOICE, .flags = WL_LIST,
	  .def = "move-active", .choices = mode_names, .offset = OPT(mode),
	  .help = "what an update does (see below), or `all`", .expand = mode_expand },
	{ .name = "duration", .short_name = 'd', .type = WL_REAL, .def = "0.5", .min = 0.001,
	  .max = 86400, .metavar = "SECONDS", .offset = OPT(duration_s),
	  .help = "per cell, fractions allowed" },
	{ .name = "gp", .short_name = 'g', .type = WL_CHOICE, .def = "normal",
	  .choices = gp_names, .offset = OPT(gp),
	  .help = "grace periods of srcu-* (a spec's gp= overrides it)" },
	{ .name = "expedited", .short_name = 'e', .type = WL_FLAG, .offset = OPT(expedited),
	  .help = "the same as --gp expedited" },
	{ .name = "critical-ns", .short_name = 'C', .type = WL_UINT, .def = "0", .min = 0,
	  .max = 1000000000, .metavar = "NS", .offset = OPT(critical_ns),
	  .help = "extra busy time inside each read section" },
	{ .name = "slots", .short_name = 's', .type = WL_UINT, .def = "32", .min = 1,
	  .max = 65536, .offset = OPT(slots), .help = "base slots the readers use" },
	{ .name = "slot-pages", .short_name = 'P', .type = WL_UINT, .def = "256", .min = 1,
	  .max = 1 << 20, .offset = OPT(slot_pages), .help = "pages per slot" },
	{ .name = "test-slots", .short_name = 't', .type = WL_UINT, .def = "8", .min = 1,
	  .max = 4096, .offset = OPT(test_slots), .help = "chunks of the test area" },
	{ .name = "stall-batch", .short_name = 'b', .type = WL_UINT, .def = "64", .min = 1,
	  .max = 1 << 20, .offset = OPT(stall_batch),
	  .help = "reader iterations per timed batch" },
	{ .name = "seed", .short_name = 'S', .type = WL_UINT, .def = "1", .offset = OPT(seed),
	  .help = "readers' random gfns" },
	{ .name = "repetitions", .short_name = 'r', .type = WL_UINT, .def = "1", .min = 1,
	  .max = 1000, .offset = OPT(repetitions), .help = "rows per cell" },
	{ .name = "cpus", .short_name = 'c', .type = WL_TEXT, .metavar = "LIST",
	  .offset = OPT(cpus), .help = "OS CPUs for the readers, e.g. 0,2,4-7" },
	{ .name = "placement", .short_name = 'l', .type = WL_CHOICE, .def = "compact",
	  .choices = workload_placement_names, .metavar = "P", .offset = OPT(placement),
	  .help = "readers' CPUs when --cpus is not given" },
	{ 0 },
};
/* clang-format on */

static void memslot_help(FILE *f)
{
	memslot_protect_list(f);
	fprintf(f, "\nModes (after the kernel's memslot_perf_test; what one update does):\n"
		   "  map            map one more test-area chunk; all mapped: unmap them all\n"
		   "  unmap          delete or re-create the test area as one slot, in turn\n"
		   "  unmap-chunked  unmap one chunk; none left: map them all again\n"
		   "  move-active    move a slot the readers use between two places\n"
		   "  move-inactive  move a slot no reader uses\n"
		   "  rw             toggle a slot's dirty-logging flag; readers write and read\n"
		   "\n"
		   "Readers are pinned (--cpus / --placement); the updater is the calling\n"
		   "thread, unpinned.  floor keeps every replaced table (it cannot know when\n"
		   "readers are done), up to 256 MiB (floor:retain=BYTES); beyond that its\n"
		   "updater stops.\n"
		   "\n"
		   "Figures: lookups per second per reader on the wall clock (mean, min,\n"
		   "max; the table's lookups/s/rdr) and on the readers' CPU time\n"
		   "(lookups_per_s_cpu), the share of the wall time the readers and the\n"
		   "updater ran, updates per second, update latency (p50, p99, max), reader\n"
		   "stall = ns per batch of --stall-batch iterations (p50, p99, max).\n");
}

const struct workload workload_memslot = {
	.name = "memslot",
	.summary = "memslot read protections (locks, SRCU, liburcu) under lookups and updates",
	.description = "vCPU threads look random gfns up in the memslot table through a read\n"
		       "protection and touch the page; one updater changes the table.  Every\n"
		       "combination of the list options is one cell (one summary row per\n"
		       "repetition).  Writes summary.csv, hist/*.csv, meta.json.",
	.options = memslot_options,
	.columns = memslot_columns,
	.opts_size = sizeof(struct memslot_opts),
	.writes_results = true,
	.help_extra = memslot_help,
	.check = memslot_check,
	.run = memslot_run,
};
