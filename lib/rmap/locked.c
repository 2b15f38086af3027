/* rmap walker `locked`: the whole write-protect walk under mmu_lock. */
#include "lib/rmap/rmap.h"
#include "lib/rmap/rmap_walk.h"
#include "lib/util/timing.h"

void rmap_walk_under_lock(struct rmap *rm, uint32_t gfn, const struct rmap_walk_opts *o,
			  struct rmap_walk *w)
{
	/* relaxed (the list loads): the lock orders everything against the
	 * writers; the shared per-desc step keeps its acquire loads */
	uintptr_t v;
	uint32_t steps = 0;

	rmap_lock(rm);
	v = atomic_load_explicit(&rm->heads[gfn].val, memory_order_relaxed);
	while (!rmap_is_nulls(v)) {
		struct rmap_desc *d = rmap_link_desc(v);

		rmap_desc_protect(d, w);
		steps++;
		if (o->desc_delay_ns)
			spin_for_ns(o->desc_delay_ns);
		v = atomic_load_explicit(&d->more, memory_order_relaxed);
	}
	rmap_unlock(rm);
	if (steps > w->longest_pass)
		w->longest_pass = steps;
}

static void locked_walk(struct rmap_reader *r, uint32_t gfn, const struct rmap_walk_opts *o,
			struct rmap_walk *w)
{
	memset(w, 0, sizeof(*w));
	rmap_walk_under_lock(r->rm, gfn, o, w);
}

const struct rmap_walker_ops rmap_walker_locked_ops = {
	.name = "locked",
	.summary = "the whole walk under mmu_lock",
	.lockless = false,
	.walk = locked_walk,
};
