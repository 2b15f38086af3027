/*
 * rmap walkers `lockless` and `lockless-pos` (seed 002): write-protect
 * without mmu_lock, inside an SRCU read section that keeps every desc the
 * walk can reach allocated.
 *
 * A pass follows the chain from the head to a nulls marker.  A marker
 * other than the list's own means a desc on the way was unlinked and
 * reused by another list: the pass may have missed part of this list, so
 * the walk restarts.  After max_restarts restarts it falls back to the
 * locked walk, so that a writer racing with it cannot keep it going
 * forever (the termination concern of the seed's thread).
 *
 * A pass itself must also end: `lockless-pos` follows a link only if the
 * position it carries is below the current desc's, so a pass takes at most
 * as many steps as the head's position (the seed's position-encoded
 * descs); a link that breaks the order means the desc was reused, and the
 * walk restarts at once instead of wandering.  Plain `lockless` has no
 * such order to check and bounds a pass by the longest possible list
 * (RMAP_POS_MAX steps), restarting beyond it.
 */
#include <string.h>

#include "lib/rmap/rmap.h"
#include "lib/rmap/rmap_walk.h"
#include "lib/util/timing.h"

static inline void lockless_walk(struct rmap_reader *r, uint32_t gfn,
				 const struct rmap_walk_opts *o, struct rmap_walk *w,
				 const bool use_pos)
{
	struct rmap *rm = r->rm;
	struct rmap_head *h = &rm->heads[gfn];
	const uintptr_t own = rmap_nulls(h);
	int idx;

	memset(w, 0, sizeof(*w));
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
			if (o->desc_delay_ns)
				spin_for_ns(o->desc_delay_ns);
			if (o->on_desc)
				o->on_desc(w, o->arg);
			/* acquire: pairs with the release stores of links */
			v = atomic_load_explicit(&d->more, memory_order_acquire);
			if (use_pos ? (!rmap_is_nulls(v) && rmap_link_pos(v) >= pos)
				    : ++steps > RMAP_POS_MAX) {
				astray = true;
				break;
			}
		}
		if (!astray && (v == own || o->unsafe_ignore_nulls))
			break;
		if (w->restarts >= o->max_restarts) {
			srcu_read_unlock(r->srcu, idx);
			w->fallback = true;
			rmap_walk_under_lock(rm, gfn, o, w);
			return;
		}
		w->restarts++;
	}
	srcu_read_unlock(r->srcu, idx);
}

static void nulls_walk(struct rmap_reader *r, uint32_t gfn, const struct rmap_walk_opts *o,
		       struct rmap_walk *w)
{
	lockless_walk(r, gfn, o, w, false);
}

static void pos_walk(struct rmap_reader *r, uint32_t gfn, const struct rmap_walk_opts *o,
		     struct rmap_walk *w)
{
	lockless_walk(r, gfn, o, w, true);
}

const struct rmap_walker_ops rmap_walker_lockless = {
	.name = "lockless",
	.summary = "no lock; nulls-ended lists, restart on a foreign marker, locked fallback after max_restarts",
	.lockless = true,
	.walk = nulls_walk,
};

const struct rmap_walker_ops rmap_walker_lockless_pos = {
	.name = "lockless-pos",
	.summary = "lockless with position-encoded links: each pass bounded by the head's position",
	.lockless = true,
	.walk = pos_walk,
};
