/*
 * The scaffolding of a workload whose cell runs pinned threads for a while
 * and repeats: picking the threads' CPUs, the overcommit warning, running
 * the threads until a stop flag, the repetition loop, and the per-
 * repetition histogram files.
 */
#ifndef DLBENCH_WORKLOADS_THREADS_H
#define DLBENCH_WORKLOADS_THREADS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util/histogram.h"
#include "lib/util/topology.h"
#include "lib/util/workers.h"

struct wl_ctx;

/* The choices of a --placement option, indexed by enum placement. */
extern const char *const workload_placement_names[];
/* The choices of an --srcu-flavour option that takes the two SRCU read
 * sides (mb, fast), indexed by enum srcu_flavour. */
extern const char *const workload_srcu_rw_flavour_names[];

/*
 * The last three rows of the option table of a workload whose cell is a
 * set of threads repeated: -r/--repetitions (uint64_t @reps_field, rows to
 * measure), -p/--placement (int @placement_field, enum placement) and
 * -c/--cpus (const char * @cpus_field) with the help text @cpus_help.
 */
#define WL_THREADS_OPTIONS(opts_type, reps_field, placement_field, cpus_field, cpus_help) \
	{ .name = "repetitions",                                                          \
	  .short_name = 'r',                                                              \
	  .type = WL_UINT,                                                                \
	  .def = "1",                                                                     \
	  .min = 1,                                                                       \
	  .max = 1000,                                                                    \
	  .offset = offsetof(opts_type, reps_field),                                      \
	  .help = "rows to measure" },                                                    \
		{ .name = "placement",                                                    \
		  .short_name = 'p',                                                      \
		  .type = WL_CHOICE,                                                      \
		  .def = "compact",                                                       \
		  .choices = workload_placement_names,                                    \
		  .metavar = "P",                                                         \
		  .offset = offsetof(opts_type, placement_field),                         \
		  .help = "where the threads go" },                                       \
	{                                                                                 \
		.name = "cpus", .short_name = 'c', .type = WL_TEXT, .metavar = "LIST",    \
		.offset = offsetof(opts_type, cpus_field), .help = cpus_help              \
	}

/*
 * Allocates *@cpus and picks @n CPUs for threads into it
 * (workload_pick_cpus: @list, else @placement); *@over is set when threads
 * would share CPUs.  0; WL_ERROR with "out of memory"; or WL_BAD_INPUT with
 * "@opt: WHY" in @err (and *@cpus NULL).
 */
int workload_alloc_cpus(int n, enum placement placement, const char *list, const char *opt,
			int **cpus, int *over, char *err, size_t errlen);

/* The notice "warning: @n @what on fewer CPUs (overcommitted); figures
 * include preemption". */
void workload_overcommit_notice(struct wl_ctx *ctx, unsigned long long n, const char *what);

/*
 * Starts @n workers named @name on @cpus running @fn(@arg), lets them go,
 * calls @wait(@arg) if not NULL, sleeps @ns, sets *@stop (relaxed) and
 * joins them; *@wall_ns (may be NULL) is the time from the go to the
 * join's end.  0, or -1 with "cannot start the threads" in @err.
 */
int workload_run_threads(int n, const int *cpus, void (*fn)(struct worker *w), void *arg,
			 const char *name, void (*wait)(void *arg), uint64_t ns, atomic_int *stop,
			 uint64_t *wall_ns, char *err, size_t errlen);

/*
 * Runs @rep(@ctx, @p, REP, ...) for REP 1..@reps: a negative status stops
 * at once and is returned; otherwise the worst status (0 or WL_FAILED),
 * and no repetition after a failed one.
 */
int workload_repeat(struct wl_ctx *ctx, uint64_t reps,
		    int (*rep)(struct wl_ctx *ctx, const void *p, uint64_t rep, char *err,
			       size_t errlen),
		    const void *p, char *err, size_t errlen);

/* Saves @n histograms @h as hist/NAMES[i]-LABEL[-cCELL]-rREP.csv (the cell
 * only when there are several); 0 or -1. */
int workload_save_histograms(struct wl_ctx *ctx, const char *const *names,
			     const struct histogram *const *h, int n, const char *label,
			     uint64_t rep);

#endif
