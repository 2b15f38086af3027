/* The threads of a workload's cell: see threads.h. */
#include "workloads/threads.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/util/timing.h"
#include "workloads/common_options.h"
#include "workloads/workload.h"

const char *const workload_placement_names[] = { "compact", "spread", NULL };
const char *const workload_srcu_rw_flavour_names[] = { "mb", "fast", NULL };

int workload_alloc_cpus(int n, enum placement placement, const char *list, const char *opt,
			int **cpus, int *over, char *err, size_t errlen)
{
	char why[256];

	*cpus = calloc((size_t)n, sizeof(**cpus));
	if (!*cpus) {
		snprintf(err, errlen, "out of memory");
		return WL_ERROR;
	}
	if (workload_pick_cpus(n, placement, list, *cpus, over, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", opt, why);
		free(*cpus);
		*cpus = NULL;
		return WL_BAD_INPUT;
	}
	return 0;
}

void workload_overcommit_notice(struct wl_ctx *ctx, unsigned long long n, const char *what)
{
	wl_notice(ctx, "warning: %llu %s on fewer CPUs (overcommitted); figures include preemption",
		  n, what);
}

int workload_run_threads(int n, const int *cpus, void (*fn)(struct worker *w), void *arg,
			 const char *name, void (*wait)(void *arg), uint64_t ns, atomic_int *stop,
			 uint64_t *wall_ns, char *err, size_t errlen)
{
	struct workers g;
	uint64_t t0;

	atomic_init(stop, 0);
	if (workers_start(&g, n, cpus, fn, arg, name)) {
		snprintf(err, errlen, "cannot start the threads");
		return -1;
	}
	workers_go(&g);
	t0 = now_ns();
	if (wait)
		wait(arg);
	sleep_ns(ns);
	/* relaxed: a stop request; the join orders everything after it */
	atomic_store_explicit(stop, 1, memory_order_relaxed);
	workers_join(&g);
	if (wall_ns)
		*wall_ns = now_ns() - t0;
	return 0;
}

int workload_repeat(struct wl_ctx *ctx, uint64_t reps,
		    int (*rep)(struct wl_ctx *ctx, const void *p, uint64_t rep, char *err,
			       size_t errlen),
		    const void *p, char *err, size_t errlen)
{
	int rc = 0;

	for (uint64_t i = 1; i <= reps && rc <= 0; i++) {
		int r = rep(ctx, p, i, err, errlen);

		if (r < 0)
			return r;
		if (r > rc)
			rc = r;
	}
	return rc;
}

int workload_save_histograms(struct wl_ctx *ctx, const char *const *names,
			     const struct histogram *const *h, int n, const char *label,
			     uint64_t rep)
{
	char cell[32] = "";

	if (wl_cell_count(ctx) > 1)
		snprintf(cell, sizeof(cell), "-c%zu", wl_cell_index(ctx) + 1);
	for (int i = 0; i < n; i++)
		if (wl_save_histogram(ctx, h[i], "%s-%s%s-r%llu", names[i], label, cell,
				      (unsigned long long)rep))
			return -1;
	return 0;
}
