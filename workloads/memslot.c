/* Workload `memslot`: see memslot_workload.h. */
#include "workloads/memslot_workload.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/vm/memslots.h"
#include "lib/util/timing.h"
#include "lib/util/workers.h"

const char *const memslot_mode_names[] = {
	"map", "unmap", "unmap-chunked", "move-active", "move-inactive", "rw", NULL,
};

#define TEST_AREA_ID 1000u         /* unmap: the whole test area as one slot */
#define TEST_CHUNK_ID0 1001u       /* test-area chunk j has id 1001 + j */

/* Where things sit in guest physical memory, in gfns (see the header). */
struct layout {
	uint64_t slot_pages;
	uint32_t slots, test_slots;
	uint64_t test_base;            /* first gfn of the test area */
	uint64_t away_base;            /* where moved slots go */
	/* Readers draw gfn = uniform [0, draw_range), then add draw_shift to
	 * those >= draw_split (move-active: the away range after the base). */
	uint64_t draw_range, draw_split, draw_shift;
	uint8_t *mem;                  /* host memory behind every slot */
};

struct reader_state {
	_Alignas(64) uint64_t lookups;
	uint64_t hits;
	uint64_t failures;
	uint64_t start_ns, end_ns;
	uint64_t sink;                 /* keeps the page reads alive */
	struct histogram *stall_ns;
	int register_failed;
};

struct run {
	const struct memslot_bench_params *p;
	struct layout lay;
	struct memslot_protect *prot;
	struct reader_state *rs;
	_Alignas(64) atomic_int registered;   /* readers past registration */
	atomic_int go;
	atomic_int stop;
	uint32_t rw_next;              /* rw: next base slot to toggle (updater) */
};

uint64_t memslot_bench_memory_bytes(const struct memslot_bench_params *p)
{
	return ((uint64_t)p->slots + p->test_slots) * p->slot_pages * PAGE_SIZE;
}

static struct memslot base_slot(const struct layout *l, uint32_t i)   /* i: 0-based */
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

static void layout_init(struct layout *l, const struct memslot_bench_params *p, uint8_t *mem)
{
	uint64_t sp = p->slot_pages;

	memset(l, 0, sizeof(*l));
	l->slot_pages = sp;
	l->slots = p->slots;
	l->test_slots = p->test_slots;
	l->mem = mem;
	l->test_base = ((uint64_t)p->slots + 1) * sp;
	l->away_base = l->test_base + ((uint64_t)p->test_slots + 1) * sp;
	l->draw_split = UINT64_MAX;
	switch (p->mode) {
	case MEMSLOT_MODE_MAP:
	case MEMSLOT_MODE_UNMAP:
	case MEMSLOT_MODE_UNMAP_CHUNKED:
		l->draw_range = l->test_base + (uint64_t)p->test_slots * sp;
		break;
	case MEMSLOT_MODE_MOVE_ACTIVE:
		l->draw_range = ((uint64_t)p->slots + 1) * sp;
		l->draw_split = (uint64_t)p->slots * sp;
		l->draw_shift = l->away_base - l->draw_split;
		break;
	case MEMSLOT_MODE_MOVE_INACTIVE:
	case MEMSLOT_MODE_RW:
		l->draw_range = (uint64_t)p->slots * sp;
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

static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static inline uint64_t draw_gfn(const struct layout *l, uint64_t *rng)
{
	/* Multiply-shift: uniform in [0, draw_range) without a division. */
	uint64_t g = (uint64_t)(((unsigned __int128)xorshift64(rng) * l->draw_range) >> 64);

	return g >= l->draw_split ? g + l->draw_shift : g;
}

static void reader_main(struct worker *w)
{
	struct run *run = w->arg;
	const struct memslot_bench_params *p = run->p;
	const struct layout *l = &run->lay;
	struct reader_state *rs = &run->rs[w->index];
	const bool rw = p->mode == MEMSLOT_MODE_RW;
	const uint64_t critical_ns = p->critical_ns;
	const uint32_t batch = p->stall_batch;
	uint64_t rng = p->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(w->index + 1));
	uint64_t lookups = 0, hits = 0, failures = 0, sink = 0, tb;
	struct memslot_reader *r;
	char name[32];

	if (!rng)
		rng = 1;
	snprintf(name, sizeof(name), "vcpu%d", w->index);
	r = memslot_reader_register(run->prot, name);
	if (!r)
		rs->register_failed = 1;
	/* release: publishes register_failed to the updater's acquire. */
	atomic_fetch_add_explicit(&run->registered, 1, memory_order_release);
	if (!r)
		return;
	/* acquire: pairs with the release store of go. */
	while (!atomic_load_explicit(&run->go, memory_order_acquire) &&
	       !atomic_load_explicit(&run->stop, memory_order_relaxed))
		sched_yield();
	if (!atomic_load_explicit(&run->go, memory_order_acquire)) {
		/* Stopped before the start: another reader failed. */
		memslot_reader_unregister(r);
		return;
	}

	rs->start_ns = tb = now_ns();
	for (;;) {
		for (uint32_t i = 0; i < batch; i++) {
			uint64_t gfn = draw_gfn(l, &rng);
			const struct memslot_table *t = memslot_read_begin(r);
			const struct memslot *s = memslot_lookup(t, gfn);

			if (s) {
				uint64_t *page = (uint64_t *)memslot_gfn_to_hva(s, gfn);

				/* Relaxed atomics: several vCPUs touch one page. */
				if (rw)
					__atomic_store_n(page, lookups, __ATOMIC_RELAXED);
				sink += __atomic_load_n(page, __ATOMIC_RELAXED);
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
	memslot_reader_unregister(r);
}

/* ---- one cell */

void memslot_bench_result_free(struct memslot_bench_result *res)
{
	free(res->update_ns);
	free(res->stall_ns);
	res->update_ns = res->stall_ns = NULL;
}

static void updater_loop(struct run *run, struct memslot_bench_result *res, uint64_t t0)
{
	const struct memslot_bench_params *p = run->p;
	memslot_change_fn change = mode_change[p->mode];
	uint64_t interval = p->update_rate > 0 ? (uint64_t)(1e9 / p->update_rate) : 0;
	uint64_t end = t0 + p->duration_ns, next = t0;
	uint32_t extra = p->test_slots + 1;
	int refused = 0;

	for (;;) {
		uint64_t now = now_ns(), a, b;
		int rc;

		if (now >= end)
			break;
		if (refused || (interval && now < next)) {
			uint64_t until = refused || next > end ? end : next;

			sleep_ns(until - now);
			continue;
		}
		if (interval) {
			/* Late by more than one interval: do not burst. */
			next += interval;
			if (next < now)
				next = now;
		}
		a = now_ns();
		rc = memslot_protect_update_grow(run->prot, extra, change, run);
		b = now_ns();
		if (rc) {
			res->update_errors++;
			fprintf(stderr, "dlbench memslot: %s: update %llu refused (%s); no more updates this cell\n",
				p->protection, (unsigned long long)res->updates + 1, strerror(-rc));
			refused = 1;
			continue;
		}
		if (p->mode == MEMSLOT_MODE_RW)
			run->rw_next++;
		histogram_record(res->update_ns, b - a);
		res->updates++;
	}
}

int memslot_bench_run(const struct memslot_bench_params *p, struct memslot_bench_result *res)
{
	struct memslot_protect_options o;
	struct run run;
	struct workers g;
	uint64_t bytes = memslot_bench_memory_bytes(p), t0, t1;
	struct memslot_table *t;
	uint8_t *mem;
	double sum = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.p = p;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "dlbench memslot: cannot map %llu bytes of guest memory: %s\n",
			(unsigned long long)bytes, strerror(errno));
		return -1;
	}
	layout_init(&run.lay, p, mem);
	res->update_ns = histogram_new();
	res->stall_ns = histogram_new();
	run.rs = calloc((size_t)p->readers, sizeof(*run.rs));
	t = initial_table(&run.lay, p->mode);
	if (!res->update_ns || !res->stall_ns || !run.rs || !t) {
		fprintf(stderr, "dlbench memslot: out of memory for %d readers\n", p->readers);
		free(t);
		goto out;
	}
	for (int i = 0; i < p->readers; i++) {
		run.rs[i].stall_ns = histogram_new();
		if (!run.rs[i].stall_ns) {
			fprintf(stderr, "dlbench memslot: out of memory for %d readers\n", p->readers);
			free(t);
			goto out;
		}
	}
	memslot_protect_options_default(&o);
	o.expedited = p->expedited;
	run.prot = memslot_protect_create(p->protection, &o, t);
	if (!run.prot)
		goto out;
	if (workers_start(&g, p->readers, p->cpus, reader_main, &run, "memslot reader"))
		goto out;
	workers_go(&g);
	/* acquire: pairs with the readers' release increments. */
	while (atomic_load_explicit(&run.registered, memory_order_acquire) < p->readers)
		sleep_ns(50 * 1000);
	for (int i = 0; i < p->readers; i++)
		if (run.rs[i].register_failed) {
			fprintf(stderr, "dlbench memslot: reader %d could not register with %s\n", i,
				p->protection);
			atomic_store_explicit(&run.stop, 1, memory_order_relaxed);
			workers_join(&g);
			goto out;
		}
	t0 = now_ns();
	/* release: the readers start their clocks after this. */
	atomic_store_explicit(&run.go, 1, memory_order_release);
	updater_loop(&run, res, t0);
	t1 = now_ns();
	atomic_store_explicit(&run.stop, 1, memory_order_relaxed);
	workers_join(&g);

	res->elapsed_ns = t1 - t0;
	res->updates_per_s = res->updates / ((double)res->elapsed_ns / 1e9);
	res->lookups_per_s_min = -1;
	for (int i = 0; i < p->readers; i++) {
		struct reader_state *rs = &run.rs[i];
		double el = (double)(rs->end_ns - rs->start_ns) / 1e9;
		double lps = el > 0 ? (double)rs->lookups / el : 0;

		res->lookups += rs->lookups;
		res->hits += rs->hits;
		res->read_failures += rs->failures;
		histogram_merge(res->stall_ns, rs->stall_ns);
		sum += lps;
		if (res->lookups_per_s_min < 0 || lps < res->lookups_per_s_min)
			res->lookups_per_s_min = lps;
		if (lps > res->lookups_per_s_max)
			res->lookups_per_s_max = lps;
	}
	res->lookups_per_s = sum / p->readers;
	rc = 0;
out:
	if (run.prot && memslot_protect_destroy(run.prot))
		rc = -1;
	if (run.rs)
		for (int i = 0; i < p->readers; i++)
			free(run.rs[i].stall_ns);
	free(run.rs);
	munmap(mem, bytes);
	if (rc)
		memslot_bench_result_free(res);
	return rc;
}
