/*
 * Workload `rmap`: writer threads churn sptes in and out of per-gfn rmaps
 * under mmu_lock (the page-fault and zap paths) while walker threads
 * write-protect gfn after gfn (dirty logging's write protection) with one
 * of the walkers of lib/rmap.h.
 */
#ifndef DLBENCH_RMAP_WORKLOAD_H
#define DLBENCH_RMAP_WORKLOAD_H

#include <stdint.h>

#include "lib/util/histogram.h"
#include "lib/rmap/rmap.h"

struct rmap_params {
	const struct rmap_walker_ops *walker;
	struct rmap_options rmap;     /* ngfns, desc_cache, srcu_flavour */
	uint32_t nsptes;
	int walkers;
	int writers;
	uint64_t duration_ns;
	uint32_t max_restarts;
	uint64_t writer_delay_ns;     /* writer's pause between operations */
	uint64_t desc_delay_ns;       /* walker's busy time per desc */
	uint32_t walk_batch;          /* walks per timed batch */
	const int *cpus;              /* walkers, then writers */
};

struct rmap_result {
	struct histogram *restarts;   /* per walk: restarts (a count, not ns) */
	struct histogram *walk_ns;    /* ns per walk, batch means */
	struct histogram *writer_ns;  /* ns per writer operation, batch means */
	uint64_t walks, walk_ns_total, restarts_total, walks_restarted, fallbacks;
	uint64_t visited, protected, poisoned;
	uint64_t writer_ops;
	uint64_t wall_ns;
	struct rmap_stats desc;
};

/* Runs one cell; returns 0, or -1 with a one-line message on stderr. */
int rmap_run(const struct rmap_params *p, struct rmap_result *res);
void rmap_result_free(struct rmap_result *res);

#endif
