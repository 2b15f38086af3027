/*
 * rmap walker `lockless-pos`: `lockless` with position-encoded links (Xiao
 * Guangrong's proposal in the 2013 thread "[PATCH v3 07/15] KVM: MMU:
 * introduce nulls desc"): a pass follows a link only if its position is
 * below the current desc's, so it ends within as many steps as the head's
 * position, and a reused desc is noticed at the first link out of order.
 * The walk is rmap_lockless_walk in rmap_walk.h.
 */
#include "lib/rmap/rmap.h"
#include "lib/rmap/rmap_walk.h"

static void pos_walk(struct rmap_reader *r, uint32_t gfn, const struct rmap_walk_opts *o,
		     struct rmap_walk *w)
{
	rmap_lockless_walk(r, gfn, o, w, true);
}

const struct rmap_walker_ops rmap_walker_lockless_pos_ops = {
	.name = "lockless-pos",
	.summary = "lockless with position-encoded links: each pass bounded by the head's position",
	.options_help = "max-restarts=N",
	.lockless = true,
	.set_option = rmap_lockless_set_option,
	.walk = pos_walk,
};
