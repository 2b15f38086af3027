/*
 * rmap walks: list layout, deterministic restart and fallback cases, then
 * writers churning sptes under mmu_lock while walkers write-protect.
 * Failures counted (all must be zero):
 *   - an spte present in a gfn's list for the whole of a walk of that gfn
 *     still writable after the walk;
 *   - a walk that saw a poisoned (freed) desc (ASan sees the access itself);
 *   - a walk with more restarts than its bound, or one that restarted with
 *     no desc reuse possible (desc cache 0).
 * Fault injection proves the missed-spte check fires when a walker accepts
 * a foreign nulls marker as its end.
 *
 * Usage: test_rmap [WALKER]   (every walker without one)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "lib/rmap/rmap.h"

#ifdef DLBENCH_TSAN
#define RACE_WALKS 4000
#define RACE_WRITER_OPS 20000
#else
#define RACE_WALKS 30000
#define RACE_WRITER_OPS 200000
#endif


static int init_flavour(struct rmap *rm, uint32_t ngfns, uint32_t cache, enum srcu_flavour f)
{
	struct rmap_options o = { .ngfns = ngfns, .desc_cache = cache, .srcu_flavour = f };

	return rmap_init(rm, &o);
}

static int init(struct rmap *rm, uint32_t ngfns, uint32_t cache)
{
	struct rmap_options o = { .ngfns = ngfns, .desc_cache = cache,
				  .srcu_flavour = SRCU_FLAVOUR_MB };
	return rmap_init(rm, &o);
}

static void map(struct rmap *rm, uint32_t gfn, spte_t *s)
{
	atomic_store_explicit(s, SPTE_PRESENT | SPTE_WRITABLE, memory_order_relaxed);
	CHECKF(rmap_add(rm, gfn, s) == 0, "add to gfn %u failed", gfn);
}

static uint32_t writable(spte_t *s, uint32_t n)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < n; i++)
		c += (atomic_load(&s[i]) & SPTE_WRITABLE) != 0;
	return c;
}

/* Positions along the chain fall by one from the head's to 1. */
static void check_layout(struct rmap *rm, uint32_t gfn)
{
	uintptr_t v = atomic_load(&rm->heads[gfn].val);
	uint32_t expect = rmap_is_nulls(v) ? 0 : rmap_link_pos(v);
	int first = 1;

	while (!rmap_is_nulls(v)) {
		struct rmap_desc *d = rmap_link_desc(v);
		uint32_t used = 0;

		CHECKF(rmap_link_pos(v) == expect, "gfn %u: position %u, expected %u", gfn,
		       rmap_link_pos(v), expect);
		for (int i = 0; i < RMAP_DESC_SPTES; i++)
			used += atomic_load(&d->sptes[i]) != 0;
		CHECKF(first ? used >= 1 : used == RMAP_DESC_SPTES,
		       "gfn %u: desc at position %u holds %u sptes", gfn, expect, used);
		first = 0;
		expect--;
		v = atomic_load(&d->more);
	}
	CHECKF(v == rmap_nulls(&rm->heads[gfn]) && expect == 0,
	       "gfn %u: chain ends on a foreign marker or early", gfn);
}

static void test_layout(const struct rmap_walker_ops *ops)
{
	enum { N = 60 };
	struct rmap rm;
	struct rmap_reader r;
	struct rmap_walk_opts wo = { .max_restarts = 4 };
	struct rmap_walk w;
	spte_t sptes[N];
	int order[N];

	if (init(&rm, 2, 4) || rmap_reader_register(&r, &rm, "layout")) {
		CHECKF(0, "init failed");
		return;
	}
	for (int i = 0; i < N; i++) {
		map(&rm, 0, &sptes[i]);
		order[i] = i;
	}
	check_layout(&rm, 0);
	CHECKF(rmap_count(&rm, 0) == N, "count %u != %d", rmap_count(&rm, 0), N);
	ops->walk(&r, 0, &wo, &w);
	CHECKF(w.protected == N && w.visited == N && w.restarts == 0 && !w.fallback &&
	       writable(sptes, N) == 0, "%s: walk protected %u of %d", ops->name,
	       w.protected, N);
	CHECKF(rmap_remove(&rm, 1, &sptes[0]) == -1, "removed an spte from the wrong gfn");
	/* a fixed shuffle: removals from every position */
	for (int i = N - 1; i > 0; i--) {
		int k = (i * 7 + 3) % (i + 1), t = order[i];

		order[i] = order[k];
		order[k] = t;
	}
	for (int i = 0; i < N; i++) {
		CHECKF(rmap_remove(&rm, 0, &sptes[order[i]]) == 0, "remove %d failed", order[i]);
		check_layout(&rm, 0);
		CHECKF(rmap_count(&rm, 0) == (uint32_t)(N - 1 - i), "count after %d removals", i + 1);
		if (i % 9 == 0) {
			for (int k = i + 1; k < N; k++)
				atomic_fetch_or(&sptes[order[k]], SPTE_WRITABLE);
			ops->walk(&r, 0, &wo, &w);
			CHECKF(w.protected == (uint32_t)(N - 1 - i), "%s: walk after removals protected %u",
			       ops->name, w.protected);
		}
	}
	CHECKF(rmap_remove(&rm, 0, &sptes[0]) == -1, "removed from an empty list");
	rmap_reader_unregister(&r);
	CHECKF(rmap_destroy(&rm) == 0, "destroy failed");
}

/* ---- deterministic restarts: move the walker's desc to another list */

struct mover {
	struct rmap *rm;
	spte_t *sptes;           /* sptes[0..] of gfn 0, 7 per desc */
	uint32_t nsptes;
	uint32_t moves_left;
	uint32_t next_foreign;   /* gfns 1.. are the foreign lists */
	spte_t foreign[16];
};

/* Called after the walker visited a desc of gfn 0: empties gfn 0's first
 * desc (the walker's, on the first desc of a pass) and lets an empty
 * foreign list take it from the cache, so that it now ends on a foreign
 * marker. */
static void move_walker_desc(struct rmap_walk *w, void *arg)
{
	struct mover *m = arg;
	uintptr_t v;
	struct rmap_desc *d;
	uint32_t f;

	(void)w;
	if (!m->moves_left)
		return;
	m->moves_left--;
	rmap_lock(m->rm);
	v = atomic_load(&m->rm->heads[0].val);
	d = rmap_link_desc(v);
	for (int i = RMAP_DESC_SPTES - 1; i >= 0; i--) {
		spte_t *s = (spte_t *)atomic_load(&d->sptes[i]);

		if (s) {
			CHECKF(rmap_remove(m->rm, 0, s) == 0, "mover: remove failed");
			atomic_store(s, 0);
		}
	}
	f = m->next_foreign++;
	atomic_store(&m->foreign[f], SPTE_PRESENT);
	CHECKF(rmap_add(m->rm, 1 + f, &m->foreign[f]) == 0, "mover: foreign add failed");
	CHECKF(rmap_link_desc(atomic_load(&m->rm->heads[1 + f].val)) == d,
	       "mover: the foreign list did not reuse the walker's desc");
	rmap_unlock(m->rm);
}

static uint32_t run_moves(const struct rmap_walker_ops *ops, uint32_t moves,
			  uint32_t max_restarts, bool ignore_nulls, struct rmap_walk *w)
{
	enum { N = 42 };
	struct rmap rm;
	struct rmap_reader r;
	spte_t sptes[N];
	struct mover m = { .rm = &rm, .sptes = sptes, .nsptes = N, .moves_left = moves };
	struct rmap_walk_opts wo = { .max_restarts = max_restarts, .on_desc = move_walker_desc,
				     .arg = &m, .unsafe_ignore_nulls = ignore_nulls };
	uint32_t missed = 0;

	memset(w, 0, sizeof(*w));
	if (init(&rm, 1 + 16, 1) || rmap_reader_register(&r, &rm, "mover")) {
		CHECKF(0, "init failed");
		return 0;
	}
	for (int i = 0; i < N; i++)
		map(&rm, 0, &sptes[i]);
	ops->walk(&r, 0, &wo, w);
	/* every spte still in gfn 0 was there for the whole walk */
	for (int i = 0; i < N; i++)
		if (atomic_load(&sptes[i]) == (SPTE_PRESENT | SPTE_WRITABLE))
			missed++;
	CHECKF(w->poisoned == 0, "poisoned desc seen");
	rmap_reader_unregister(&r);
	rmap_destroy(&rm);
	return missed;
}

static void test_moves(const struct rmap_walker_ops *ops)
{
	struct rmap_walk w;
	uint32_t missed;

	if (!ops->lockless)
		return;
	/* one move: one restart, nothing missed */
	missed = run_moves(ops, 1, 4, false, &w);
	CHECKF(missed == 0 && w.restarts == 1 && !w.fallback,
	       "%s one move: missed %u, restarts %u, fallback %d", ops->name, missed,
	       w.restarts, w.fallback);
	/* a move on every pass: the bound holds and the locked walk finishes */
	missed = run_moves(ops, 5, 3, false, &w);
	CHECKF(missed == 0 && w.restarts == 3 && w.fallback,
	       "%s endless moves: missed %u, restarts %u, fallback %d", ops->name, missed,
	       w.restarts, w.fallback);
	missed = run_moves(ops, 5, 0, false, &w);
	CHECKF(missed == 0 && w.restarts == 0 && w.fallback,
	       "%s bound 0: missed %u, restarts %u, fallback %d", ops->name, missed,
	       w.restarts, w.fallback);
	/* fault injection: ending on the foreign marker misses the rest */
	missed = run_moves(ops, 1, 4, true, &w);
	CHECKF(missed == 35 && w.restarts == 0,
	       "%s ignoring nulls: missed %u (expected 35), restarts %u", ops->name, missed,
	       w.restarts);
}

/* ---- writers against walkers */

#define ST_BUSY 1ull
#define ST_MAPPED 2ull
#define ST_GFN(s) ((uint32_t)((s) >> 8) & 0xffffu)
#define ST_SEQ(s) ((s) >> 32)

struct race {
	const struct rmap_walker_ops *ops;
	struct rmap rm;
	uint32_t nsptes, ngfns, nwalkers, nwriters;
	spte_t *sptes;
	_Atomic uint64_t *state;     /* per spte: seq, gfn, mapped, busy */
	struct rmap_walk_opts wo;
	atomic_int walkers_done;
	atomic_ullong missed, poisoned, over_bound, restarts, fallbacks, walks, writer_ops;
	atomic_ullong writer_progress;   /* relaxed: only a loop bound */
};

struct race_thread {
	struct race *rc;
	int index;
};

static void *race_writer(void *p)
{
	struct race_thread *t = p;
	struct race *rc = t->rc;
	uint32_t per = rc->nsptes / rc->nwriters, base = per * (uint32_t)t->index;
	uint64_t x = 0x2545f4914f6cdd1dull * (uint64_t)(t->index + 1), ops = 0;

	/* acquire: pairs with the walkers' release increments */
	while (atomic_load_explicit(&rc->walkers_done, memory_order_acquire) < (int)rc->nwalkers) {
		uint32_t i;
		uint64_t st, seq;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = base + (uint32_t)(x % per);
		rmap_lock(&rc->rm);
		st = atomic_load_explicit(&rc->state[i], memory_order_relaxed);
		seq = ST_SEQ(st) + 1;
		/* relaxed: ordered before the list changes by their release
		 * stores, which is all a walker can observe */
		atomic_store_explicit(&rc->state[i], st | ST_BUSY, memory_order_relaxed);
		if (st & ST_MAPPED) {
			if (rmap_remove(&rc->rm, ST_GFN(st), &rc->sptes[i]))
				atomic_fetch_add(&rc->missed, 1000000);   /* layout broken */
			/* release: after the busy mark; pairs with the check */
			atomic_store_explicit(&rc->sptes[i], 0, memory_order_release);
			/* release: the finished change before the new state */
			atomic_store_explicit(&rc->state[i], seq << 32, memory_order_release);
		} else {
			uint32_t g = (uint32_t)((x >> 20) % rc->ngfns);

			/* release: after the busy mark; pairs with the check */
			atomic_store_explicit(&rc->sptes[i], SPTE_PRESENT | SPTE_WRITABLE,
					      memory_order_release);
			if (rmap_add(&rc->rm, g, &rc->sptes[i]))
				atomic_fetch_add(&rc->missed, 1000000);
			atomic_store_explicit(&rc->state[i], seq << 32 | (uint64_t)g << 8 | ST_MAPPED,
					      memory_order_release);
		}
		rmap_unlock(&rc->rm);
		ops++;
		if ((ops & 255) == 0) {
			atomic_fetch_add_explicit(&rc->writer_progress, 256, memory_order_relaxed);
			sched_yield();
		}
	}
	atomic_fetch_add(&rc->writer_ops, ops);
	return NULL;
}

static void *race_walker(void *p)
{
	struct race_thread *t = p;
	struct race *rc = t->rc;
	struct rmap_reader r;
	uint64_t *s1 = calloc(rc->nsptes, sizeof(*s1));
	uint64_t missed = 0, poisoned = 0, over = 0, restarts = 0, fallbacks = 0, walks = 0;

	if (!s1 || rmap_reader_register(&r, &rc->rm, "walker")) {
		atomic_fetch_add(&rc->missed, 1000000);
		free(s1);
		atomic_fetch_add_explicit(&rc->walkers_done, 1, memory_order_release);
		return NULL;
	}
	/* at least RACE_WALKS walks, and on until the writers did their share */
	for (uint32_t n = 0; n < RACE_WALKS ||
			     atomic_load_explicit(&rc->writer_progress, memory_order_relaxed) < RACE_WRITER_OPS;
	     n++) {
		uint32_t g = ((n * rc->nwalkers) + (uint32_t)t->index) % rc->ngfns;
		struct rmap_walk w;

		if (g % rc->nwalkers != (uint32_t)t->index)
			continue;     /* each gfn has one walker: its W bits are ours */
		/* Make this gfn's sptes writable and note who is where, under
		 * mmu_lock so that the states are settled and no other walker
		 * sets a bit on an spte that has moved to this gfn. */
		rmap_lock(&rc->rm);
		for (uint32_t i = 0; i < rc->nsptes; i++) {
			s1[i] = atomic_load_explicit(&rc->state[i], memory_order_relaxed);
			if ((s1[i] & ST_MAPPED) && ST_GFN(s1[i]) == g)
				atomic_fetch_or_explicit(&rc->sptes[i], SPTE_WRITABLE,
							 memory_order_relaxed);
		}
		rmap_unlock(&rc->rm);
		rc->ops->walk(&r, g, &rc->wo, &w);
		walks++;
		restarts += w.restarts;
		fallbacks += w.fallback;
		poisoned += w.poisoned;
		if (w.restarts > rc->wo.max_restarts || (rc->rm.cache_max == 0 && w.restarts))
			over++;
		for (uint32_t i = 0; i < rc->nsptes; i++) {
			/* acquire: a writer's later store of this spte was
			 * released after its busy mark, so the state load below
			 * then sees the mark or later */
			uint64_t v = atomic_load_explicit(&rc->sptes[i], memory_order_acquire);
			/* acquire: a list change the walk observed was released
			 * after its busy mark, so this load sees the mark or later */
			uint64_t s2 = atomic_load_explicit(&rc->state[i], memory_order_acquire);

			if (s2 == s1[i] && (s2 & ST_MAPPED) && ST_GFN(s2) == g &&
			    (v & SPTE_WRITABLE)) {
				if (missed < 5)
					fprintf(stderr, "%s: spte %u in gfn %u for the whole walk left writable (restarts %u, fallback %d)\n",
						rc->ops->name, i, g, w.restarts, w.fallback);
				missed++;
			}
		}
	}
	rmap_reader_unregister(&r);
	free(s1);
	atomic_fetch_add(&rc->missed, missed);
	atomic_fetch_add(&rc->poisoned, poisoned);
	atomic_fetch_add(&rc->over_bound, over);
	atomic_fetch_add(&rc->restarts, restarts);
	atomic_fetch_add(&rc->fallbacks, fallbacks);
	atomic_fetch_add(&rc->walks, walks);
	/* release: pairs with the writers' acquire loads */
	atomic_fetch_add_explicit(&rc->walkers_done, 1, memory_order_release);
	return NULL;
}

static void test_race(const struct rmap_walker_ops *ops, uint32_t cache, uint32_t max_restarts,
		      enum srcu_flavour flavour)
{
	struct race rc;
	struct race_thread wt[2], kt[2];
	pthread_t th[4];

	memset(&rc, 0, sizeof(rc));
	rc.ops = ops;
	rc.nsptes = 192;
	rc.ngfns = 6;
	rc.nwalkers = 2;
	rc.nwriters = 2;
	rc.wo.max_restarts = max_restarts;
	rc.sptes = calloc(rc.nsptes, sizeof(*rc.sptes));
	rc.state = calloc(rc.nsptes, sizeof(*rc.state));
	if (!rc.sptes || !rc.state || init_flavour(&rc.rm, rc.ngfns, cache, flavour)) {
		CHECKF(0, "race setup failed");
		free(rc.sptes);
		free((void *)rc.state);
		return;
	}
	for (uint32_t i = 0; i < rc.nsptes; i += 2) {
		uint32_t g = i % rc.ngfns;

		map(&rc.rm, g, &rc.sptes[i]);
		atomic_store(&rc.state[i], (uint64_t)g << 8 | ST_MAPPED);
	}
	for (int i = 0; i < 2; i++) {
		wt[i] = (struct race_thread){ &rc, i };
		kt[i] = (struct race_thread){ &rc, i };
		pthread_create(&th[i], NULL, race_writer, &wt[i]);
		pthread_create(&th[2 + i], NULL, race_walker, &kt[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "%s cache %u bound %u: %llu walks, %llu restarts, %llu fallbacks, %llu writer ops, %llu descs reused, %llu retired\n",
		ops->name, cache, max_restarts, (unsigned long long)rc.walks,
		(unsigned long long)rc.restarts, (unsigned long long)rc.fallbacks,
		(unsigned long long)rc.writer_ops, (unsigned long long)rc.rm.stats.desc_reuses,
		(unsigned long long)rc.rm.stats.desc_retired);
	CHECKF(rc.missed == 0 && rc.poisoned == 0 && rc.over_bound == 0,
	       "%s cache %u bound %u: %llu missed sptes, %llu poisoned descs, %llu walks over their bound",
	       ops->name, cache, max_restarts, (unsigned long long)rc.missed,
	       (unsigned long long)rc.poisoned, (unsigned long long)rc.over_bound);
	for (uint32_t g = 0; g < rc.ngfns; g++)
		check_layout(&rc.rm, g);
	CHECKF(rmap_destroy(&rc.rm) == 0, "destroy failed");
	free(rc.sptes);
	free((void *)rc.state);
}

int main(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && !rmap_walker_find(argv[1]))) {
		fprintf(stderr, "usage: test_rmap [locked|lockless|lockless-pos]\n");
		return 2;
	}
	for (int k = 0; rmap_walkers[k]; k++) {
		const struct rmap_walker_ops *ops = rmap_walkers[k];

		if (argc == 2 && strcmp(argv[1], ops->name))
			continue;
		test_layout(ops);
		test_moves(ops);
		test_race(ops, 2, 4, SRCU_FLAVOUR_MB);
		test_race(ops, 0, 4, SRCU_FLAVOUR_FAST);
		test_race(ops, 8, 0, SRCU_FLAVOUR_MB);
	}
	if (check_failures) {
		printf("test_rmap: %d failures\n", check_failures);
		return 1;
	}
	printf("test_rmap: all passed\n");
	return 0;
}
