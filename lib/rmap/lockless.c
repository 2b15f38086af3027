/*
 * rmap walker `lockless`: write-protect without mmu_lock, ending each pass
 * on a nulls marker and restarting when it is not the list's own; a pass is
 * bounded only by the longest list (RMAP_POS_MAX descs).  The walk is
 * rmap_lockless_walk in rmap_walk.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rmap/rmap.h"
#include "lib/rmap/rmap_walk.h"
#include "lib/util/spec.h"

int rmap_lockless_set_option(struct rmap_walk_opts *o, const char *key, const char *value,
			     char *err, size_t errlen)
{
	if (strcmp(key, "max-restarts")) {
		snprintf(err, errlen, "bad walker option '%s' (max-restarts=N)", key);
		return -EINVAL;
	}
	return spec_option_u32(key, value, 0, 1000000, &o->max_restarts, err, errlen);
}

static void nulls_walk(struct rmap_reader *r, uint32_t gfn, const struct rmap_walk_opts *o,
		       struct rmap_walk *w)
{
	rmap_lockless_walk(r, gfn, o, w, false);
}

const struct rmap_walker_ops rmap_walker_lockless_ops = {
	.name = "lockless",
	.summary = "no lock; nulls-ended lists, restart on a foreign marker, locked fallback after "
		   "max_restarts",
	.options_help = "max-restarts=N",
	.lockless = true,
	.set_option = rmap_lockless_set_option,
	.walk = nulls_walk,
};
