/* Internal to the rmap walkers: the locked walk the lockless ones fall
 * back to. */
#ifndef DLBENCH_RMAP_WALK_H
#define DLBENCH_RMAP_WALK_H

#include "lib/rmap/rmap.h"

/* Takes mmu_lock and write-protects @gfn's list, adding to @w. */
void rmap_walk_under_lock(struct rmap *rm, uint32_t gfn, const struct rmap_walk_opts *o,
			  struct rmap_walk *w);

#endif
