/*
 * Internal to the rmap walkers: the per-desc step every walker shares, the
 * locked walk the lockless ones fall back to, and the lockless walk itself
 * (inline, so that lockless.c and lockless_pos.c each compile their own
 * copy with the position check folded in or out).
 */
#ifndef DLBENCH_RMAP_WALK_H
#define DLBENCH_RMAP_WALK_H

#include <string.h>

#include "lib/rmap/rmap.h"
#include "lib/util/mutant.h"
#include "lib/util/timing.h"

/* Write-protects the slots of @d, last to first. */
static inline void rmap_desc_protect(struct rmap_desc *d, struct rmap_walk *w)
{
	for (int i = RMAP_DESC_SPTES - 1; i >= 0; i--) {
		/* acquire: pairs with the writers' release stores of slots, so
		 * that seeing a slot cleared by a move implies seeing the moved
		 * entry in its new slot */
		uintptr_t s = atomic_load_explicit(&d->sptes[i], memory_order_acquire);

		if (s) {
			w->visited++;
			w->protected += spte_write_protect((spte_t *)s);
		}
	}
	/* relaxed: a poisoned desc has been freed after a grace period; a
	 * walker inside its read section must never see one */
	if (atomic_load_explicit(&d->state, memory_order_relaxed) != RMAP_DESC_LIVE)
		w->poisoned++;
}

/* Takes mmu_lock and write-protects @gfn's list, adding to @w. */
void rmap_walk_under_lock(struct rmap *rm, uint32_t gfn, const struct rmap_walk_opts *o,
			  struct rmap_walk *w);

/* Parses max-restarts=N, the lockless walkers' option. */
int rmap_lockless_set_option(struct rmap_walk_opts *o, const char *key, const char *value,
			     char *err, size_t errlen);

/*
 * A lockless write-protect walk inside an SRCU read section that keeps
 * every desc the walk can reach allocated.
 *
 * A pass follows the chain from the head to a nulls marker.  A marker
 * other than the list's own means a desc on the way was unlinked and
 * reused by another list: the pass may have missed part of this list, so
 * the walk restarts (the rculist_nulls check of the 2013 thread).  After
 * max_restarts restarts it falls back to the locked walk, so that a writer
 * racing with it cannot keep it going forever (the termination concern
 * Marcelo Tosatti raised there).
 *
 * A pass itself must also end: with @use_pos a pass follows a link only if
 * the position it carries is below the current desc's, so a pass takes at
 * most as many steps as the head's position; a link that breaks the order
 * means the desc was reused, and the walk restarts at once instead of
 * wandering.  Without it a pass is bounded by the longest possible list
 * (RMAP_POS_MAX steps) and restarts beyond it.
 */
static inline void rmap_lockless_walk(struct rmap_reader *r, uint32_t gfn,
				      const struct rmap_walk_opts *o, struct rmap_walk *w,
				      const bool use_pos)
{
	struct rmap *rm = r->rm;
	struct rmap_head *h = &rm->heads[gfn];
	const uintptr_t own = rmap_nulls(h);
	int idx = 0;

	memset(w, 0, sizeof(*w));
	if (!MUTANT(rmap_lockless_no_read_section))
		idx = srcu_read_lock(r->srcu);
	for (;;) {
		/* acquire: pairs with the writers' release stores of the head */
		uintptr_t v = atomic_load_explicit(&h->val, memory_order_acquire);
		uint32_t steps = 0;
		bool astray = false;

		while (!rmap_is_nulls(v)) {
			struct rmap_desc *d = rmap_link_desc(v);
			uint32_t pos = rmap_link_pos(v);

			rmap_desc_protect(d, w);
			steps++;
			if (o->desc_delay_ns)
				spin_for_ns(o->desc_delay_ns);
			if (o->on_desc)
				o->on_desc(w, o->arg);
			/* acquire: pairs with the release stores of links */
			v = atomic_load_explicit(&d->more, memory_order_acquire);
			if (use_pos ? (!MUTANT(rmap_lockless_pos_no_order_check) &&
				       !rmap_is_nulls(v) && rmap_link_pos(v) >= pos)
				    : steps > RMAP_POS_MAX) {
				astray = true;
				break;
			}
		}
		if (steps > w->longest_pass)
			w->longest_pass = steps;
		if (!astray && (v == own || o->unsafe_ignore_nulls ||
				MUTANT(rmap_lockless_accept_foreign_nulls)))
			break;
		if (w->restarts >= o->max_restarts && !MUTANT(rmap_lockless_no_fallback)) {
			if (!MUTANT(rmap_lockless_no_read_section))
				srcu_read_unlock(r->srcu, idx);
			w->fallback = true;
			rmap_walk_under_lock(rm, gfn, o, w);
			return;
		}
		w->restarts++;
	}
	if (!MUTANT(rmap_lockless_no_read_section))
		srcu_read_unlock(r->srcu, idx);
}

#endif
