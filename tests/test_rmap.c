/*
 * rmap walks: list layout, deterministic restart and fallback cases, a
 * walk at every step of the writers, the lifetime of a desc a walker
 * stands on, then writers churning sptes under mmu_lock while walkers
 * write-protect.  Failures counted (all must be zero):
 *   - an spte present in a gfn's list for the whole of a walk of that gfn
 *     still writable after the walk;
 *   - a walk that saw a poisoned (freed) desc (ASan sees the access itself);
 *   - a walk with more restarts than its bound, or one that restarted with
 *     no desc reuse possible (desc cache 0);
 *   - a lockless-pos pass longer than the head's position it started from.
 * Fault injection proves the missed-spte check fires when a walker accepts
 * a foreign nulls marker as its end.
 *
 * Usage: test_rmap [--only layout|moves|steps|gp|race] [WALKER]
 * (every part and every walker without them)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "lib/rmap/rmap.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"

#ifdef DLBENCH_TSAN
#define RACE_WALKS 4000
#define RACE_WRITER_OPS 20000
#else
#define RACE_WALKS 30000
#define RACE_WRITER_OPS 200000
#endif

/* Relaxed atomics in this file without a comment: counters that the
 * threads add to and main reads after pthread_join (the join orders them),
 * and set-up, checks and hooks run by one thread alone or under mmu_lock. */

static char err[256];

static int init_flavour(struct rmap *rm, uint32_t ngfns, uint32_t cache, enum srcu_flavour f)
{
	struct rmap_options o = { .ngfns = ngfns, .desc_cache = cache, .srcu_flavour = f };

	return rmap_init(rm, &o, err, sizeof(err));
}

static int init(struct rmap *rm, uint32_t ngfns, uint32_t cache)
{
	return init_flavour(rm, ngfns, cache, SRCU_FLAVOUR_MB);
}

/* @ops with @o, as a walker. */
static void walk(const struct rmap_walker_ops *ops, const struct rmap_walk_opts *o,
		 struct rmap_reader *r, uint32_t gfn, struct rmap_walk *w)
{
	struct rmap_walker wk = { .ops = ops, .o = *o };

	rmap_write_protect(&wk, r, gfn, w);
}

static void map(struct rmap *rm, uint32_t gfn, spte_t *s)
{
	/* relaxed: rmap_add's release store of the head publishes it */
	atomic_store_explicit(s, SPTE_PRESENT | SPTE_WRITABLE, memory_order_relaxed);
	CHECKF(rmap_add(rm, gfn, s) == 0, "add to gfn %u failed", gfn);
}

static uint32_t writable(spte_t *s, uint32_t n)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < n; i++)
		c += (atomic_load_explicit(&s[i], memory_order_relaxed) & SPTE_WRITABLE) != 0;
	return c;
}

/* Positions along the chain fall by one from the head's to 1. */
static void check_layout(struct rmap *rm, uint32_t gfn)
{
	/* relaxed (all loads here): no writer runs */
	uintptr_t v = atomic_load_explicit(&rm->heads[gfn].val, memory_order_relaxed);
	uint32_t expect = rmap_is_nulls(v) ? 0 : rmap_link_pos(v);
	int first = 1;

	while (!rmap_is_nulls(v)) {
		struct rmap_desc *d = rmap_link_desc(v);
		uint32_t used = 0;

		CHECKF(rmap_link_pos(v) == expect, "gfn %u: position %u, expected %u", gfn,
		       rmap_link_pos(v), expect);
		for (int i = 0; i < RMAP_DESC_SPTES; i++)
			used += atomic_load_explicit(&d->sptes[i], memory_order_relaxed) != 0;
		CHECKF(first ? used >= 1 : used == RMAP_DESC_SPTES,
		       "gfn %u: desc at position %u holds %u sptes", gfn, expect, used);
		first = 0;
		expect--;
		v = atomic_load_explicit(&d->more, memory_order_relaxed);
	}
	CHECKF(v == rmap_nulls(&rm->heads[gfn]) && expect == 0,
	       "gfn %u: chain ends on a foreign marker or early", gfn);
}

static void test_layout(const struct rmap_walker_ops *ops)
{
	enum {
		N = 60
	};
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
	walk(ops, &wo, &r, 0, &w);
	CHECKF(w.protected == N && w.visited == N && w.restarts == 0 && !w.fallback &&
		       writable(sptes, N) == 0,
	       "%s: walk protected %u of %d", ops->name, w.protected, N);
	CHECKF(rmap_remove(&rm, 1, &sptes[0]) == -ENOENT, "removed an spte from the wrong gfn");
	/* a fixed shuffle: removals from every position */
	for (int i = N - 1; i > 0; i--) {
		int k = (i * 7 + 3) % (i + 1), t = order[i];

		order[i] = order[k];
		order[k] = t;
	}
	for (int i = 0; i < N; i++) {
		CHECKF(rmap_remove(&rm, 0, &sptes[order[i]]) == 0, "remove %d failed", order[i]);
		check_layout(&rm, 0);
		CHECKF(rmap_count(&rm, 0) == (uint32_t)(N - 1 - i), "count after %d removals",
		       i + 1);
		if (i % 9 == 0) {
			for (int k = i + 1; k < N; k++)
				atomic_fetch_or_explicit(&sptes[order[k]], SPTE_WRITABLE,
							 memory_order_relaxed);
			walk(ops, &wo, &r, 0, &w);
			CHECKF(w.protected == (uint32_t)(N - 1 - i),
			       "%s: walk after removals protected %u", ops->name, w.protected);
		}
	}
	CHECKF(rmap_remove(&rm, 0, &sptes[0]) == -ENOENT, "removed from an empty list");
	rmap_reader_unregister(&r);
	CHECKF(rmap_destroy(&rm) == 0, "destroy failed");
}

/* ---- deterministic restarts: move the walker's desc to another list */

struct mover {
	struct rmap *rm;
	spte_t *sptes; /* sptes[0..] of gfn 0, 7 per desc */
	uint32_t nsptes;
	uint32_t moves_left;
	uint32_t next_foreign; /* gfns 1.. are the foreign lists */
	spte_t foreign[16];
	spte_t fill[70]; /* gfn 1's sptes when it starts 10 descs long */
};

/* Called after the walker visited a desc of gfn 0: empties gfn 0's first
 * desc (the walker's, on the first desc of a pass) and lets a foreign list
 * take it from the cache, so that it now leads into that list (to its
 * marker at once if the list was empty, through its descs if not). */
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
	/* relaxed (here): under mmu_lock, as a writer */
	v = atomic_load_explicit(&m->rm->heads[0].val, memory_order_relaxed);
	d = rmap_link_desc(v);
	for (int i = RMAP_DESC_SPTES - 1; i >= 0; i--) {
		spte_t *s = (spte_t *)atomic_load_explicit(&d->sptes[i], memory_order_relaxed);

		if (s) {
			CHECKF(rmap_remove(m->rm, 0, s) == 0, "mover: remove failed");
			atomic_store_explicit(s, 0, memory_order_relaxed);
		}
	}
	f = m->next_foreign++;
	atomic_store_explicit(&m->foreign[f], SPTE_PRESENT, memory_order_relaxed);
	CHECKF(rmap_add(m->rm, 1 + f, &m->foreign[f]) == 0, "mover: foreign add failed");
	CHECKF(rmap_link_desc(
		       atomic_load_explicit(&m->rm->heads[1 + f].val, memory_order_relaxed)) == d,
	       "mover: the foreign list did not reuse the walker's desc");
	rmap_unlock(m->rm);
}

static uint32_t run_moves(const struct rmap_walker_ops *ops, uint32_t moves, uint32_t max_restarts,
			  bool ignore_nulls, uint32_t fill, struct rmap_walk *w)
{
	enum {
		N = 42
	};
	struct rmap rm;
	struct rmap_reader r;
	spte_t sptes[N];
	struct mover m = { .rm = &rm, .sptes = sptes, .nsptes = N, .moves_left = moves };
	struct rmap_walk_opts wo = { .max_restarts = max_restarts,
				     .on_desc = move_walker_desc,
				     .arg = &m,
				     .unsafe_ignore_nulls = ignore_nulls };
	uint32_t missed = 0;

	memset(w, 0, sizeof(*w));
	if (init(&rm, 1 + 16, 1) || rmap_reader_register(&r, &rm, "mover")) {
		CHECKF(0, "init failed");
		return 0;
	}
	for (int i = 0; i < N; i++)
		map(&rm, 0, &sptes[i]);
	for (uint32_t i = 0; i < fill; i++)
		map(&rm, 1, &m.fill[i]);
	walk(ops, &wo, &r, 0, w);
	/* every spte still in gfn 0 was there for the whole walk */
	for (int i = 0; i < N; i++)
		if (atomic_load_explicit(&sptes[i], memory_order_relaxed) ==
		    (SPTE_PRESENT | SPTE_WRITABLE))
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
	missed = run_moves(ops, 1, 4, false, 0, &w);
	CHECKF(missed == 0 && w.restarts == 1 && !w.fallback,
	       "%s one move: missed %u, restarts %u, fallback %d", ops->name, missed, w.restarts,
	       w.fallback);
	/* a move into a list 10 descs long: one restart; a position-checked
	 * pass leaves at the first link out of order, so no pass is longer
	 * than the 6 descs gfn 0 starts with */
	missed = run_moves(ops, 1, 4, false, 70, &w);
	CHECKF(missed == 0 && w.restarts == 1 && !w.fallback,
	       "%s move into a longer list: missed %u, restarts %u, fallback %d", ops->name, missed,
	       w.restarts, w.fallback);
	CHECKF(strcmp(ops->name, "lockless-pos") || w.longest_pass <= 6,
	       "%s: a pass of %u descs from a head at position 6", ops->name, w.longest_pass);
	/* a move on every pass: the bound holds and the locked walk finishes */
	missed = run_moves(ops, 5, 3, false, 0, &w);
	CHECKF(missed == 0 && w.restarts == 3 && w.fallback,
	       "%s endless moves: missed %u, restarts %u, fallback %d", ops->name, missed,
	       w.restarts, w.fallback);
	missed = run_moves(ops, 5, 0, false, 0, &w);
	CHECKF(missed == 0 && w.restarts == 0 && w.fallback,
	       "%s bound 0: missed %u, restarts %u, fallback %d", ops->name, missed, w.restarts,
	       w.fallback);
	/* fault injection: ending on the foreign marker misses the rest */
	missed = run_moves(ops, 1, 4, true, 0, &w);
	CHECKF(missed == 35 && w.restarts == 0,
	       "%s ignoring nulls: missed %u (expected 35), restarts %u", ops->name, missed,
	       w.restarts);
}

/* ---- a walk at every step of the writers */

struct stepper {
	const struct rmap_walker_ops *ops;
	struct rmap rm;
	struct rmap_reader r;
	spte_t sptes[30];
	bool present[30];
	int changing; /* the spte being added or removed, or -1 */
	uint32_t looks, bad;
};

/* The rmap's step hook, under mmu_lock: every spte in the list before and
 * after the change must be write-protected by a walk now.  (A lockless
 * walk of a list that does not change never restarts, so it never falls
 * back to the lock this thread holds.) */
static void step_walk(void *arg)
{
	struct stepper *s = arg;
	struct rmap_walk_opts wo = { .max_restarts = 4 };
	struct rmap_walk w;

	/* relaxed (sptes here): the walk runs on this thread */
	for (int k = 0; k < 30; k++)
		if (s->present[k] && k != s->changing)
			atomic_fetch_or_explicit(&s->sptes[k], SPTE_WRITABLE, memory_order_relaxed);
	walk(s->ops, &wo, &s->r, 0, &w);
	s->looks++;
	for (int k = 0; k < 30; k++)
		if (s->present[k] && k != s->changing &&
		    (atomic_load_explicit(&s->sptes[k], memory_order_relaxed) & SPTE_WRITABLE)) {
			if (s->bad++ < 3)
				fprintf(stderr,
					"%s: spte %d missed by a walk while spte %d changed\n",
					s->ops->name, k, s->changing);
		}
}

static void step_change(struct stepper *s, int k, bool add)
{
	s->changing = k;
	rmap_lock(&s->rm);
	if (add) {
		atomic_store_explicit(&s->sptes[k], SPTE_PRESENT, memory_order_relaxed);
		CHECKF(rmap_add(&s->rm, 0, &s->sptes[k]) == 0, "steps: add failed");
	} else {
		CHECKF(rmap_remove(&s->rm, 0, &s->sptes[k]) == 0, "steps: remove failed");
	}
	rmap_unlock(&s->rm);
	s->present[k] = add;
	s->changing = -1;
}

static void test_steps(const struct rmap_walker_ops *ops)
{
	static struct stepper s;
	struct rmap_options o = {
		.ngfns = 1, .desc_cache = 1, .step_hook = step_walk, .step_arg = &s
	};

	if (!ops->lockless)
		return; /* a locked walk cannot see a writer's steps */
	memset(&s, 0, sizeof(s));
	s.ops = ops;
	s.changing = -1;
	if (rmap_init(&s.rm, &o, err, sizeof(err)) || rmap_reader_register(&s.r, &s.rm, "step")) {
		CHECKF(0, "steps: init failed: %s", err);
		return;
	}
	/* fill, empty in a shuffled order (holes everywhere, first descs
	 * unlinked), refill half and empty again */
	for (int k = 0; k < 30; k++)
		step_change(&s, k, true);
	for (int i = 0; i < 30; i++)
		step_change(&s, (i * 7 + 3) % 30, false);
	for (int k = 0; k < 30; k += 2)
		step_change(&s, k, true);
	for (int i = 0; i < 30; i++)
		if (s.present[(i * 11 + 5) % 30])
			step_change(&s, (i * 11 + 5) % 30, false);
	CHECKF(s.bad == 0 && s.looks >= 30, "%s steps: %u of %u walks missed sptes", ops->name,
	       s.bad, s.looks);
	rmap_reader_unregister(&s.r);
	CHECKF(rmap_destroy(&s.rm) == 0, "steps: destroy failed");
}

/* ---- a desc a walker stands on outlives the walk */

struct stand {
	struct rmap *rm;
	struct rmap_desc *d; /* the walker's desc, unlinked under it */
	bool freed_under_walker;
};

/* At the walker's first desc: unlink it (no cache: it is retired), then
 * give its grace period time to end, as it would if nobody waited. */
static void unlink_walker_desc(struct rmap_walk *w, void *arg)
{
	struct stand *st = arg;

	(void)w;
	if (st->d)
		return;
	rmap_lock(st->rm);
	/* relaxed (here): under mmu_lock, as a writer */
	st->d = rmap_link_desc(atomic_load_explicit(&st->rm->heads[0].val, memory_order_relaxed));
	for (int i = RMAP_DESC_SPTES - 1; i >= 0; i--) {
		spte_t *s = (spte_t *)atomic_load_explicit(&st->d->sptes[i], memory_order_relaxed);

		if (s)
			CHECKF(rmap_remove(st->rm, 0, s) == 0, "gp: remove failed");
	}
	rmap_unlock(st->rm);
	/* bounded: the normal build never frees it while we stand on it */
	for (int t = 0; t < 200 && !st->freed_under_walker; t++) {
		sleep_ns(1000000);
		/* relaxed: only the value of desc_free_now's poison matters */
		st->freed_under_walker =
			atomic_load_explicit(&st->d->state, memory_order_relaxed) != RMAP_DESC_LIVE;
	}
}

static void test_grace_period(const struct rmap_walker_ops *ops)
{
	struct rmap rm;
	struct rmap_reader r;
	struct rmap_options o = { .ngfns = 1, .desc_cache = 0, .keep_freed = true };
	struct stand st = { .rm = &rm };
	struct rmap_walk_opts wo = { .max_restarts = 4, .on_desc = unlink_walker_desc, .arg = &st };
	struct rmap_walk w;
	spte_t sptes[14];

	if (!ops->lockless)
		return;
	if (rmap_init(&rm, &o, err, sizeof(err)) || rmap_reader_register(&r, &rm, "gp")) {
		CHECKF(0, "gp: init failed: %s", err);
		return;
	}
	for (int i = 0; i < 14; i++)
		map(&rm, 0, &sptes[i]);
	walk(ops, &wo, &r, 0, &w);
	CHECKF(!st.freed_under_walker && w.poisoned == 0,
	       "%s: the desc a walker stood on was freed under it", ops->name);
	rmap_reader_unregister(&r);
	CHECKF(rmap_destroy(&rm) == 0, "gp: destroy failed");
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
	_Atomic uint64_t *state; /* per spte: seq, gfn, mapped, busy */
	struct rmap_walk_opts wo;
	atomic_int walkers_done;
	/* relaxed counts: summed once per thread, read after pthread_join */
	atomic_ullong missed, poisoned, over_bound, restarts, fallbacks, walks, writer_ops;
	atomic_ullong writer_progress; /* relaxed: only a loop bound */
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
	uint64_t x = rng_seed(1, (uint64_t)t->index), ops = 0;

	/* acquire: pairs with the walkers' release increments */
	while (atomic_load_explicit(&rc->walkers_done, memory_order_acquire) < (int)rc->nwalkers) {
		uint32_t i;
		uint64_t st, seq;

		i = base + (uint32_t)rng_below(&x, per);
		rmap_lock(&rc->rm);
		st = atomic_load_explicit(&rc->state[i], memory_order_relaxed);
		seq = ST_SEQ(st) + 1;
		/* relaxed: ordered before the list changes by their release
		 * stores, which is all a walker can observe */
		atomic_store_explicit(&rc->state[i], st | ST_BUSY, memory_order_relaxed);
		if (st & ST_MAPPED) {
			if (rmap_remove(&rc->rm, ST_GFN(st), &rc->sptes[i]))
				atomic_fetch_add_explicit(&rc->missed, 1000000,
							  memory_order_relaxed); /* layout broken */
			/* release: after the busy mark; pairs with the check */
			atomic_store_explicit(&rc->sptes[i], 0, memory_order_release);
			/* release: the finished change before the new state */
			atomic_store_explicit(&rc->state[i], seq << 32, memory_order_release);
		} else {
			uint32_t g = (uint32_t)rng_below(&x, rc->ngfns);

			/* release: after the busy mark; pairs with the check */
			atomic_store_explicit(&rc->sptes[i], SPTE_PRESENT | SPTE_WRITABLE,
					      memory_order_release);
			if (rmap_add(&rc->rm, g, &rc->sptes[i]))
				atomic_fetch_add_explicit(&rc->missed, 1000000,
							  memory_order_relaxed);
			/* release: the finished change before the new state */
			atomic_store_explicit(&rc->state[i],
					      seq << 32 | (uint64_t)g << 8 | ST_MAPPED,
					      memory_order_release);
		}
		rmap_unlock(&rc->rm);
		ops++;
		if ((ops & 255) == 0) {
			atomic_fetch_add_explicit(&rc->writer_progress, 256, memory_order_relaxed);
			sched_yield();
		}
	}
	atomic_fetch_add_explicit(&rc->writer_ops, ops, memory_order_relaxed);
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
		atomic_fetch_add_explicit(&rc->missed, 1000000, memory_order_relaxed);
		free(s1);
		/* release: pairs with the writers' acquire wait on walkers_done */
		atomic_fetch_add_explicit(&rc->walkers_done, 1, memory_order_release);
		return NULL;
	}
	/* at least RACE_WALKS walks, and on until the writers did their share */
	for (uint32_t n = 0;
	     n < RACE_WALKS ||
	     atomic_load_explicit(&rc->writer_progress, memory_order_relaxed) < RACE_WRITER_OPS;
	     n++) {
		uint32_t g = ((n * rc->nwalkers) + (uint32_t)t->index) % rc->ngfns;
		struct rmap_walk w;

		if (g % rc->nwalkers != (uint32_t)t->index)
			continue; /* each gfn has one walker: its W bits are ours */
		/* Make this gfn's sptes writable and note who is where, under
		 * mmu_lock so that the states are settled and no other walker
		 * sets a bit on an spte that has moved to this gfn (relaxed:
		 * the lock orders them). */
		rmap_lock(&rc->rm);
		for (uint32_t i = 0; i < rc->nsptes; i++) {
			s1[i] = atomic_load_explicit(&rc->state[i], memory_order_relaxed);
			if ((s1[i] & ST_MAPPED) && ST_GFN(s1[i]) == g)
				atomic_fetch_or_explicit(&rc->sptes[i], SPTE_WRITABLE,
							 memory_order_relaxed);
		}
		rmap_unlock(&rc->rm);
		walk(rc->ops, &rc->wo, &r, g, &w);
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
					fprintf(stderr,
						"%s: spte %u in gfn %u for the whole walk left "
						"writable (restarts %u, fallback %d)\n",
						rc->ops->name, i, g, w.restarts, w.fallback);
				missed++;
			}
		}
	}
	rmap_reader_unregister(&r);
	free(s1);
	atomic_fetch_add_explicit(&rc->missed, missed, memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->poisoned, poisoned, memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->over_bound, over, memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->restarts, restarts, memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->fallbacks, fallbacks, memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->walks, walks, memory_order_relaxed);
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
		atomic_store_explicit(&rc.state[i], (uint64_t)g << 8 | ST_MAPPED,
				      memory_order_relaxed);
	}
	for (int i = 0; i < 2; i++) {
		wt[i] = (struct race_thread){ &rc, i };
		kt[i] = (struct race_thread){ &rc, i };
		pthread_create(&th[i], NULL, race_writer, &wt[i]);
		pthread_create(&th[2 + i], NULL, race_walker, &kt[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr,
		"%s cache %u bound %u: %llu walks, %llu restarts, %llu fallbacks, %llu writer ops, "
		"%llu descs reused, %llu retired\n",
		ops->name, cache, max_restarts, (unsigned long long)rc.walks,
		(unsigned long long)rc.restarts, (unsigned long long)rc.fallbacks,
		(unsigned long long)rc.writer_ops, (unsigned long long)rc.rm.stats.desc_reuses,
		(unsigned long long)rc.rm.stats.desc_retired);
	CHECKF(rc.missed == 0 && rc.poisoned == 0 && rc.over_bound == 0,
	       "%s cache %u bound %u: %llu missed sptes, %llu poisoned descs, %llu walks over "
	       "their bound",
	       ops->name, cache, max_restarts, (unsigned long long)rc.missed,
	       (unsigned long long)rc.poisoned, (unsigned long long)rc.over_bound);
	for (uint32_t g = 0; g < rc.ngfns; g++)
		check_layout(&rc.rm, g);
	CHECKF(rmap_destroy(&rc.rm) == 0, "destroy failed");
	free(rc.sptes);
	free((void *)rc.state);
}

static int usage(void)
{
	fprintf(stderr, "usage: test_rmap [--only layout|moves|steps|gp|race] "
			"[locked|lockless|lockless-pos]\n");
	return 2;
}

static bool part(const char *only, const char *name)
{
	return !only || !strcmp(only, name);
}

int main(int argc, char **argv)
{
	static const char *const parts[] = { "layout", "moves", "steps", "gp", "race", NULL };
	const struct rmap_walker_ops *ops;
	const char *only = NULL, *name = NULL;
	int i, known = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!name && rmap_walker_find(argv[i]))
			name = argv[i];
		else
			return usage();
	}
	for (i = 0; only && parts[i]; i++)
		known |= !strcmp(only, parts[i]);
	if (only && !known)
		return usage();
	rmap_walker_foreach (ops, i) {
		if (name && strcmp(name, ops->name))
			continue;
		if (part(only, "layout"))
			test_layout(ops);
		if (part(only, "moves"))
			test_moves(ops);
		if (part(only, "steps"))
			test_steps(ops);
		if (part(only, "gp"))
			test_grace_period(ops);
		if (part(only, "race")) {
			test_race(ops, 2, 4, SRCU_FLAVOUR_MB);
			test_race(ops, 0, 4, SRCU_FLAVOUR_FAST);
			test_race(ops, 8, 0, SRCU_FLAVOUR_MB);
		}
	}
	if (check_failures) {
		printf("test_rmap: %d failures\n", check_failures);
		return 1;
	}
	printf("test_rmap: all passed\n");
	return 0;
}
