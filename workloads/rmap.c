/*
 * dlbench rmap: writer threads churn sptes in and out of per-gfn rmaps
 * under mmu_lock (the page-fault and zap paths) while walker threads
 * write-protect gfn after gfn (dirty logging's write protection) with one
 * of the walkers of lib/rmap.
 *
 * A cell is (walker, gfns, walker threads, writer threads); each
 * repetition is a fresh rmap and a fresh set of threads, one row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rmap/rmap.h"
#include "lib/util/compiler.h"
#include "lib/util/histogram.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"
#include "lib/util/topology.h"
#include "lib/util/workers.h"
#include "workloads/threads.h"
#include "workloads/workload.h"

struct rm_opts {
	const char *walker;
	uint64_t gfns, sptes, walkers, writers;
	double duration;
	uint64_t max_restarts, desc_cache, writer_delay_ns, desc_delay_ns;
	int srcu_flavour;
	uint64_t walk_batch, reps;
	int placement;
	const char *cpus;
};

/* One cell, resolved. */
struct rm_params {
	const struct rm_opts *o;
	struct rmap_walker wk;	  /* the walker with its options */
	struct rmap_options rmap; /* ngfns, desc_cache, srcu_flavour */
	uint32_t nsptes, walk_batch;
	int walkers, writers, nthreads;
	uint64_t duration_ns, writer_delay_ns;
	int *cpus; /* walkers, then writers */
	char cpus_text[256];
};

struct rm_result {
	struct histogram restarts;  /* per walk: restarts (a count, not ns) */
	struct histogram walk_ns;   /* ns per walk, batch means */
	struct histogram writer_ns; /* ns per writer operation, batch means */
	uint64_t walks, walk_ns_total, restarts_total, walks_restarted, fallbacks;
	uint64_t visited, protected, poisoned;
	uint64_t writer_ops;
	uint64_t wall_ns;
	struct rmap_stats desc;
};

struct rm_thread {
	_Alignas(CACHELINE) struct rm_run *run;
	/* walkers: restarts, walk_ns; writers: writer_ns in a */
	struct histogram a, b;
	uint64_t walks, walk_ns_total, restarts_total, walks_restarted, fallbacks;
	uint64_t visited, protected, poisoned, writer_ops;
	int error; /* writer: -errno of a failed change */
	int failed;
};

struct rm_run {
	const struct rm_params *p;
	struct rmap rm;
	spte_t *sptes;
	int32_t *spte_gfn; /* -1: unmapped; each writer owns a range */
	struct rm_thread *threads;
	_Alignas(CACHELINE) atomic_int stop;
};

/* ---- the threads ---- */

static void walker(struct rm_run *run, struct rm_thread *t, int index)
{
	const struct rm_params *p = run->p;
	struct rmap_reader r;
	uint32_t g = (uint32_t)((uint64_t)index * p->rmap.ngfns / (uint64_t)p->walkers);

	if (rmap_reader_register(&r, &run->rm, "walker")) {
		t->failed = 1;
		return;
	}
	/* relaxed: a stop flag; results are read after the join */
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t t0 = now_ns(), dt;

		for (uint32_t k = 0; k < p->walk_batch; k++) {
			struct rmap_walk w;

			rmap_write_protect(&p->wk, &r, g, &w);
			if (++g == p->rmap.ngfns)
				g = 0;
			histogram_record(&t->a, w.restarts);
			t->restarts_total += w.restarts;
			t->walks_restarted += w.restarts != 0;
			t->fallbacks += w.fallback;
			t->visited += w.visited;
			t->protected += w.protected;
			t->poisoned += w.poisoned;
		}
		dt = now_ns() - t0;
		t->walks += p->walk_batch;
		t->walk_ns_total += dt;
		histogram_record(&t->b, dt / p->walk_batch);
	}
	rmap_reader_unregister(&r);
}

/* Maps spte @i into a random gfn, or unmaps it; under mmu_lock. */
static int writer_op(struct rm_run *run, uint32_t i, uint64_t *rng)
{
	int32_t g = run->spte_gfn[i];
	int rc;

	rmap_lock(&run->rm);
	if (g >= 0) {
		rc = rmap_remove(&run->rm, (uint32_t)g, &run->sptes[i]);
		/* relaxed: walkers only clear its writable bit */
		atomic_store_explicit(&run->sptes[i], 0, memory_order_relaxed);
		run->spte_gfn[i] = -1;
	} else {
		g = (int32_t)rng_below(rng, run->p->rmap.ngfns);
		atomic_store_explicit(&run->sptes[i], SPTE_PRESENT | SPTE_WRITABLE,
				      memory_order_relaxed);
		rc = rmap_add(&run->rm, (uint32_t)g, &run->sptes[i]);
		run->spte_gfn[i] = g;
	}
	rmap_unlock(&run->rm);
	return rc;
}

static void writer(struct rm_run *run, struct rm_thread *t, int index)
{
	const struct rm_params *p = run->p;
	uint32_t per = p->nsptes / (uint32_t)p->writers, base = per * (uint32_t)index;
	uint64_t rng = rng_seed(1, (uint64_t)index);
	enum {
		BATCH = 64
	};

	/* relaxed: a stop flag; results are read after the join */
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t t0 = now_ns();

		for (int k = 0; k < BATCH; k++) {
			int rc = writer_op(run, base + (uint32_t)rng_below(&rng, per), &rng);

			if (rc) {
				t->error = rc;
				t->failed = 1;
				/* relaxed: the join orders the rest */
				atomic_store_explicit(&run->stop, 1, memory_order_relaxed);
				return;
			}
			if (p->writer_delay_ns)
				spin_for_ns(p->writer_delay_ns);
		}
		t->writer_ops += BATCH;
		histogram_record(&t->a, (now_ns() - t0) / BATCH);
	}
}

static void rm_thread_main(struct worker *w)
{
	struct rm_run *run = w->arg;
	struct rm_thread *t = &run->threads[w->index];

	if (w->index < run->p->walkers)
		walker(run, t, w->index);
	else
		writer(run, t, w->index - run->p->walkers);
}

/* ---- one repetition ---- */

static int rm_merge(struct rm_run *run, struct rm_result *res, char *err, size_t errlen)
{
	const struct rm_params *p = run->p;
	int rc = 0;

	for (int i = 0; i < p->nthreads; i++) {
		struct rm_thread *t = &run->threads[i];

		if (t->failed) {
			snprintf(err, errlen, "%s",
				 t->error ? "a writer's rmap change failed"
					  : "a walker could not register");
			rc = -1;
		}
		if (i < p->walkers) {
			histogram_merge(&res->restarts, &t->a);
			histogram_merge(&res->walk_ns, &t->b);
		} else {
			histogram_merge(&res->writer_ns, &t->a);
		}
		res->walks += t->walks;
		res->walk_ns_total += t->walk_ns_total;
		res->restarts_total += t->restarts_total;
		res->walks_restarted += t->walks_restarted;
		res->fallbacks += t->fallbacks;
		res->visited += t->visited;
		res->protected += t->protected;
		res->poisoned += t->poisoned;
		res->writer_ops += t->writer_ops;
	}
	return rc;
}

/* Half the sptes mapped, spread over the gfns. */
static int rm_populate(struct rm_run *run, char *err, size_t errlen)
{
	const struct rm_params *p = run->p;

	for (uint32_t i = 0; i < p->nsptes; i++) {
		run->spte_gfn[i] = -1;
		atomic_init(&run->sptes[i], 0);
		if (i % 2 == 0) {
			uint32_t gfn = (i / 2) % p->rmap.ngfns;
			int rc;

			atomic_init(&run->sptes[i], SPTE_PRESENT | SPTE_WRITABLE);
			rc = rmap_add(&run->rm, gfn, &run->sptes[i]);
			if (rc) {
				snprintf(err, errlen, "mapping spte %u into gfn %u: %s", i, gfn,
					 strerror(-rc));
				return -1;
			}
			run->spte_gfn[i] = (int32_t)gfn;
		}
	}
	return 0;
}

static int rm_threads(struct rm_run *run, struct rm_result *res, char *err, size_t errlen)
{
	const struct rm_params *p = run->p;

	if (workload_run_threads(p->nthreads, p->cpus, rm_thread_main, run, "rmap", NULL,
				 p->duration_ns, &run->stop, &res->wall_ns, err, errlen))
		return -1;
	res->desc = run->rm.stats;
	return rm_merge(run, res, err, errlen);
}

static int rm_measure(const struct rm_params *p, struct rm_result *res, char *err, size_t errlen)
{
	struct rm_run run = { .p = p };
	int rc = -1;

	memset(res, 0, sizeof(*res));
	histogram_init(&res->restarts);
	histogram_init(&res->walk_ns);
	histogram_init(&res->writer_ns);
	run.sptes = calloc(p->nsptes, sizeof(*run.sptes));
	run.spte_gfn = calloc(p->nsptes, sizeof(*run.spte_gfn));
	run.threads = aligned_alloc(CACHELINE, (size_t)p->nthreads * sizeof(*run.threads));
	if (!run.sptes || !run.spte_gfn || !run.threads) {
		snprintf(err, errlen, "out of memory for %u sptes", p->nsptes);
		goto out;
	}
	memset(run.threads, 0, (size_t)p->nthreads * sizeof(*run.threads));
	for (int i = 0; i < p->nthreads; i++) {
		run.threads[i].run = &run;
		histogram_init(&run.threads[i].a);
		histogram_init(&run.threads[i].b);
	}
	if (rmap_init(&run.rm, &p->rmap, err, errlen))
		goto out;
	if (!rm_populate(&run, err, errlen))
		rc = rm_threads(&run, res, err, errlen);
	if (rmap_destroy(&run.rm) && !rc) {
		snprintf(err, errlen, "the rmap could not be destroyed");
		rc = -1;
	}
out:
	free(run.threads);
	free(run.spte_gfn);
	free(run.sptes);
	return rc;
}

/* ---- the table ---- */

/* clang-format off */
enum {
	COL_WORKLOAD, COL_WALKER, COL_GFNS, COL_SPTES, COL_WALKERS, COL_WRITERS, COL_DURATION_S,
	COL_MAX_RESTARTS, COL_DESC_CACHE, COL_WRITER_DELAY_NS, COL_DESC_DELAY_NS,
	COL_SRCU_FLAVOUR, COL_WALK_BATCH, COL_REPETITIONS, COL_PLACEMENT, COL_CPUS,
	COL_REPETITION, COL_WALKS, COL_WALKS_PER_S, COL_WALK_NS_MEAN, COL_WALK_NS_P50,
	COL_WALK_NS_P99, COL_SPTES_PER_WALK, COL_RESTARTS_PER_WALK, COL_RESTARTS_MAX,
	COL_WALKS_RESTARTED, COL_FALLBACKS, COL_WRITER_OPS, COL_WRITER_OPS_PER_S,
	COL_WRITER_OP_NS_P50, COL_WRITER_OP_NS_P99, COL_DESC_ALLOCS, COL_DESC_REUSES,
	COL_DESC_RETIRED, COL_POISONED,
};
/* clang-format on */

/* clang-format off */
static const struct wl_column rm_columns[] = {
	[COL_WORKLOAD] = { "workload", WL_COL_TEXT, "" },
	[COL_WALKER] = { "walker", WL_COL_TEXT, "" },
	[COL_GFNS] = { "gfns", WL_COL_UINT, "" },
	[COL_SPTES] = { "sptes", WL_COL_UINT, "" },
	[COL_WALKERS] = { "walkers", WL_COL_UINT, "threads" },
	[COL_WRITERS] = { "writers", WL_COL_UINT, "threads" },
	[COL_DURATION_S] = { "duration_s", WL_COL_REAL, "s", 0, "%g" },
	[COL_MAX_RESTARTS] = { "max_restarts", WL_COL_UINT, "" },
	[COL_DESC_CACHE] = { "desc_cache", WL_COL_UINT, "descs" },
	[COL_WRITER_DELAY_NS] = { "writer_delay_ns", WL_COL_UINT, "ns" },
	[COL_DESC_DELAY_NS] = { "desc_delay_ns", WL_COL_UINT, "ns" },
	[COL_SRCU_FLAVOUR] = { "srcu_flavour", WL_COL_TEXT, "" },
	[COL_WALK_BATCH] = { "walk_batch", WL_COL_UINT, "" },
	[COL_REPETITIONS] = { "repetitions", WL_COL_UINT, "" },
	[COL_PLACEMENT] = { "placement", WL_COL_TEXT, "" },
	[COL_CPUS] = { "cpus", WL_COL_TEXT, "" },
	[COL_REPETITION] = { "repetition", WL_COL_UINT, "" },
	[COL_WALKS] = { "walks", WL_COL_UINT, "" },
	[COL_WALKS_PER_S] = { "walks_per_s", WL_COL_REAL, "1/s", 0, "%.0f" },
	[COL_WALK_NS_MEAN] = { "walk_ns_mean", WL_COL_REAL, "ns", 0, "%.1f" },
	[COL_WALK_NS_P50] = { "walk_ns_p50", WL_COL_UINT, "ns" },
	[COL_WALK_NS_P99] = { "walk_ns_p99", WL_COL_UINT, "ns" },
	[COL_SPTES_PER_WALK] = { "sptes_per_walk", WL_COL_REAL, "", 0, "%.2f" },
	[COL_RESTARTS_PER_WALK] = { "restarts_per_walk", WL_COL_REAL, "", 0, "%.6f" },
	[COL_RESTARTS_MAX] = { "restarts_max", WL_COL_UINT, "" },
	[COL_WALKS_RESTARTED] = { "walks_restarted", WL_COL_UINT, "" },
	[COL_FALLBACKS] = { "fallbacks", WL_COL_UINT, "" },
	[COL_WRITER_OPS] = { "writer_ops", WL_COL_UINT, "" },
	[COL_WRITER_OPS_PER_S] = { "writer_ops_per_s", WL_COL_REAL, "1/s", 0, "%.0f" },
	[COL_WRITER_OP_NS_P50] = { "writer_op_ns_p50", WL_COL_UINT, "ns" },
	[COL_WRITER_OP_NS_P99] = { "writer_op_ns_p99", WL_COL_UINT, "ns" },
	[COL_DESC_ALLOCS] = { "desc_allocs", WL_COL_UINT, "descs" },
	[COL_DESC_REUSES] = { "desc_reuses", WL_COL_UINT, "descs" },
	[COL_DESC_RETIRED] = { "desc_retired", WL_COL_UINT, "descs" },
	[COL_POISONED] = { "poisoned", WL_COL_UINT, "descs" },
	{ 0 },
};
/* clang-format on */

/* The cell's parameters; 0 or WL_BAD_INPUT with one line.  No CPUs yet. */
static int rm_params(const struct rm_opts *o, struct rm_params *p, char *err, size_t errlen)
{
	struct rmap_walk_opts defaults = { .max_restarts = (uint32_t)o->max_restarts,
					   .desc_delay_ns = o->desc_delay_ns };

	memset(p, 0, sizeof(*p));
	p->o = o;
	p->rmap.ngfns = (uint32_t)o->gfns;
	p->rmap.desc_cache = (uint32_t)o->desc_cache;
	p->rmap.srcu_flavour = (enum srcu_flavour)o->srcu_flavour;
	p->nsptes = (uint32_t)o->sptes;
	p->walkers = (int)o->walkers;
	p->writers = (int)o->writers;
	p->nthreads = p->walkers + p->writers;
	p->duration_ns = (uint64_t)(o->duration * 1e9);
	p->writer_delay_ns = o->writer_delay_ns;
	p->walk_batch = (uint32_t)o->walk_batch;
	if (rmap_walker_init(&p->wk, o->walker, &defaults, err, errlen))
		return WL_BAD_INPUT;
	if (p->writers && p->nsptes < (uint32_t)p->writers) {
		snprintf(err, errlen, "--sptes %u: fewer sptes than --writers %d", p->nsptes,
			 p->writers);
		return WL_BAD_INPUT;
	}
	/* the longest list a gfn can get must fit the position field */
	if ((uint64_t)p->nsptes / RMAP_DESC_SPTES + 1 > RMAP_POS_MAX) {
		snprintf(err, errlen,
			 "--sptes %u: one gfn could need more than %u descs, the most a position "
			 "encodes",
			 p->nsptes, RMAP_POS_MAX);
		return WL_BAD_INPUT;
	}
	return 0;
}

/* The threads' CPUs into p->cpus (allocated); *@over if overcommitted. */
static int rm_pick_cpus(struct rm_params *p, int *over, char *err, size_t errlen)
{
	int rc = workload_alloc_cpus(p->nthreads, (enum placement)p->o->placement, p->o->cpus,
				     "-c/--cpus", &p->cpus, over, err, errlen);

	if (rc)
		return rc;
	topology_cpus_text(p->cpus_text, sizeof(p->cpus_text), p->cpus, p->nthreads);
	return 0;
}

static int rm_check(const void *opts, char *err, size_t errlen)
{
	struct rm_params p;
	int over, rc = rm_params(opts, &p, err, errlen);

	if (!rc)
		rc = rm_pick_cpus(&p, &over, err, errlen);
	free(p.cpus);
	return rc;
}

/* The columns that describe the cell. */
static void rm_row_params(struct wl_ctx *ctx, const struct rm_params *p, uint64_t rep)
{
	const struct rm_opts *o = p->o;

	wl_put_text(ctx, COL_WORKLOAD, "rmap");
	wl_put_text(ctx, COL_WALKER, rmap_walker_name(&p->wk));
	wl_put_uint(ctx, COL_GFNS, p->rmap.ngfns);
	wl_put_uint(ctx, COL_SPTES, p->nsptes);
	wl_put_uint(ctx, COL_WALKERS, (uint64_t)p->walkers);
	wl_put_uint(ctx, COL_WRITERS, (uint64_t)p->writers);
	wl_put_real(ctx, COL_DURATION_S, o->duration);
	wl_put_uint(ctx, COL_MAX_RESTARTS, p->wk.o.max_restarts);
	wl_put_uint(ctx, COL_DESC_CACHE, p->rmap.desc_cache);
	wl_put_uint(ctx, COL_WRITER_DELAY_NS, p->writer_delay_ns);
	wl_put_uint(ctx, COL_DESC_DELAY_NS, p->wk.o.desc_delay_ns);
	wl_put_text(ctx, COL_SRCU_FLAVOUR, srcu_flavour_name(p->rmap.srcu_flavour));
	wl_put_uint(ctx, COL_WALK_BATCH, p->walk_batch);
	wl_put_uint(ctx, COL_REPETITIONS, o->reps);
	wl_put_text(ctx, COL_PLACEMENT, workload_placement_names[o->placement]);
	wl_put_text(ctx, COL_CPUS, o->cpus ? o->cpus : p->cpus_text);
	wl_put_uint(ctx, COL_REPETITION, rep);
}

static void rm_row(struct wl_ctx *ctx, const struct rm_params *p, uint64_t rep,
		   const struct rm_result *r)
{
	double secs = (double)r->wall_ns / 1e9;

	wl_row_begin(ctx);
	rm_row_params(ctx, p, rep);
	wl_put_uint(ctx, COL_WALKS, r->walks);
	wl_put_real(ctx, COL_WALKS_PER_S, (double)r->walks / secs);
	wl_put_real(ctx, COL_WALK_NS_MEAN,
		    r->walks ? (double)r->walk_ns_total / (double)r->walks : 0);
	wl_put_uint(ctx, COL_WALK_NS_P50, histogram_quantile(&r->walk_ns, 0.5));
	wl_put_uint(ctx, COL_WALK_NS_P99, histogram_quantile(&r->walk_ns, 0.99));
	wl_put_real(ctx, COL_SPTES_PER_WALK, r->walks ? (double)r->visited / (double)r->walks : 0);
	wl_put_real(ctx, COL_RESTARTS_PER_WALK,
		    r->walks ? (double)r->restarts_total / (double)r->walks : 0);
	wl_put_uint(ctx, COL_RESTARTS_MAX, histogram_quantile(&r->restarts, 1.0));
	wl_put_uint(ctx, COL_WALKS_RESTARTED, r->walks_restarted);
	wl_put_uint(ctx, COL_FALLBACKS, r->fallbacks);
	wl_put_uint(ctx, COL_WRITER_OPS, r->writer_ops);
	wl_put_real(ctx, COL_WRITER_OPS_PER_S, (double)r->writer_ops / secs);
	wl_put_uint(ctx, COL_WRITER_OP_NS_P50, histogram_quantile(&r->writer_ns, 0.5));
	wl_put_uint(ctx, COL_WRITER_OP_NS_P99, histogram_quantile(&r->writer_ns, 0.99));
	wl_put_uint(ctx, COL_DESC_ALLOCS, r->desc.desc_allocs);
	wl_put_uint(ctx, COL_DESC_REUSES, r->desc.desc_reuses);
	wl_put_uint(ctx, COL_DESC_RETIRED, r->desc.desc_retired);
	wl_put_uint(ctx, COL_POISONED, r->poisoned);
}

/* The stdout line of a repetition (and the header before the first). */
static void rm_print(struct wl_ctx *ctx, const struct rm_params *p, uint64_t rep,
		     const struct rm_result *r)
{
	double secs = (double)r->wall_ns / 1e9;

	if (wl_cell_index(ctx) == 0 && rep == 1)
		wl_printf(ctx, "%-12s %4s %12s %10s %10s %12s %10s %10s %14s\n", "walker", "rep",
			  "walks/s", "walk_ns", "walk_p99", "restarts/walk", "max", "fallbacks",
			  "writer_ops/s");
	wl_printf(ctx, "%-12s %4llu %12.0f %10.1f %10llu %12.6f %10llu %10llu %14.0f\n",
		  rmap_walker_name(&p->wk), (unsigned long long)rep, (double)r->walks / secs,
		  r->walks ? (double)r->walk_ns_total / (double)r->walks : 0,
		  (unsigned long long)histogram_quantile(&r->walk_ns, 0.99),
		  r->walks ? (double)r->restarts_total / (double)r->walks : 0,
		  (unsigned long long)histogram_quantile(&r->restarts, 1.0),
		  (unsigned long long)r->fallbacks, (double)r->writer_ops / secs);
}

/* hist/NAME-WALKER[-cCELL]-rREP.csv (the cell only when there are several) */
static int rm_save(struct wl_ctx *ctx, const struct rm_params *p, uint64_t rep,
		   const struct rm_result *r)
{
	static const char *const names[] = { "restarts", "walk_ns", "writer_op_ns" };
	const struct histogram *h[] = { &r->restarts, &r->walk_ns, &r->writer_ns };

	return workload_save_histograms(ctx, names, h, 3, rmap_walker_name(&p->wk), rep);
}

/* One repetition: measure, then its row, line and histograms. */
static int rm_rep(struct wl_ctx *ctx, const void *params, uint64_t rep, char *err, size_t errlen)
{
	const struct rm_params *p = params;
	struct rm_result *r = calloc(1, sizeof(*r));
	int rc = WL_ERROR;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return WL_ERROR;
	}
	if (rm_measure(p, r, err, errlen))
		goto out;
	rm_row(ctx, p, rep, r);
	if (wl_row_end(ctx))
		goto out;
	rm_print(ctx, p, rep, r);
	if (rm_save(ctx, p, rep, r))
		goto out;
	rc = 0;
	if (r->poisoned) {
		wl_notice(ctx, "walks saw %llu poisoned (freed) descs",
			  (unsigned long long)r->poisoned);
		rc = WL_FAILED;
	}
out:
	free(r);
	return rc;
}

static int rm_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	const struct rm_opts *o = opts;
	struct rm_params p;
	int over = 0, rc = rm_params(o, &p, err, errlen);

	if (rc || (rc = rm_pick_cpus(&p, &over, err, errlen)))
		return rc;
	if (over)
		workload_overcommit_notice(ctx, (unsigned long long)p.nthreads, "threads");
	wl_progress(ctx, "%s, %d walkers, %d writers", rmap_walker_name(&p.wk), p.walkers,
		    p.writers);
	rc = workload_repeat(ctx, o->reps, rm_rep, &p, err, errlen);
	wl_meta(ctx, "walker", "\"%s\"", rmap_walker_name(&p.wk));
	wl_meta(ctx, "walker_summary", "\"%s\"", p.wk.ops->summary);
	free(p.cpus);
	return rc;
}

/* `all`: every walker with its defaults. */
static int rm_expand(const char *value, const char **out, int max)
{
	const struct rmap_walker_ops *ops;
	int i, n = 0;

	if (strcmp(value, "all"))
		return 0;
	rmap_walker_foreach (ops, i)
		if (n < max)
			out[n++] = ops->name;
	return n;
}

static int rm_spec_check(const char *value, char *err, size_t errlen)
{
	struct rmap_walk_opts defaults = { 0 };
	struct rmap_walker wk;

	if (!strcmp(value, "all"))
		return 0;
	return rmap_walker_init(&wk, value, &defaults, err, errlen) ? -1 : 0;
}

static void rm_help(FILE *f)
{
	const struct rmap_walker_ops *ops;
	int i;

	fprintf(f, "walkers (-w NAME[:KEY=VALUE,...]; an option there overrides the --option):\n");
	rmap_walker_foreach (ops, i) {
		fprintf(f, "  %-13s %s\n", ops->name, ops->summary);
		if (ops->options_help)
			fprintf(f, "  %-13s   options: %s\n", "", ops->options_help);
	}
}

#define OPT(field) offsetof(struct rm_opts, field)

/* clang-format off */
static const struct wl_option rm_options[] = {
	{ .name = "walker", .short_name = 'w', .type = WL_TEXT, .flags = WL_REPEAT,
	  .def = "lockless", .metavar = "SPEC", .offset = OPT(walker),
	  .help = "NAME[:KEY=VALUE,...] (list below); `all`: every walker",
	  .check_value = rm_spec_check, .expand = rm_expand },
	{ .name = "gfns", .short_name = 'g', .type = WL_UINT, .flags = WL_LIST, .def = "256",
	  .min = 1, .max = 1 << 24, .offset = OPT(gfns), .help = "guest pages with an rmap" },
	{ .name = "sptes", .short_name = 'S', .type = WL_UINT, .def = "8192", .min = 1,
	  .max = 1 << 26, .offset = OPT(sptes),
	  .help = "sptes churned by the writers, half mapped at start" },
	{ .name = "walkers", .short_name = 'k', .type = WL_UINT, .flags = WL_LIST, .def = "1",
	  .min = 1, .max = 1024, .offset = OPT(walkers), .help = "walker threads" },
	{ .name = "writers", .short_name = 'W', .type = WL_UINT, .flags = WL_LIST, .def = "1",
	  .min = 0, .max = 1024, .offset = OPT(writers), .help = "writer threads" },
	{ .name = "duration", .short_name = 'd', .type = WL_REAL, .def = "0.5", .min = 0.001,
	  .max = 3600, .metavar = "SECONDS", .offset = OPT(duration), .help = "measured run" },
	{ .name = "max-restarts", .short_name = 'R', .type = WL_UINT, .def = "4", .min = 0,
	  .max = 1000000, .offset = OPT(max_restarts),
	  .help = "lockless restarts before the locked fallback" },
	{ .name = "desc-cache", .type = WL_UINT, .def = "64", .min = 0, .max = 1 << 24,
	  .offset = OPT(desc_cache),
	  .help = "unlinked descs reused at once (type-stable); the\n"
		  "rest are freed after a grace period" },
	{ .name = "writer-delay-ns", .type = WL_UINT, .def = "0", .min = 0, .max = 1e9,
	  .metavar = "NS", .offset = OPT(writer_delay_ns),
	  .help = "writer's pause between operations" },
	{ .name = "desc-delay-ns", .type = WL_UINT, .def = "0", .min = 0, .max = 1e9,
	  .metavar = "NS", .offset = OPT(desc_delay_ns),
	  .help = "walker's busy time per desc, all walkers" },
	{ .name = "srcu-flavour", .type = WL_CHOICE, .def = "mb",
	  .choices = workload_srcu_rw_flavour_names,
	  .metavar = "F", .offset = OPT(srcu_flavour),
	  .help = "read side of the lockless walkers" },
	{ .name = "walk-batch", .type = WL_UINT, .def = "64", .min = 1, .max = 1 << 20,
	  .offset = OPT(walk_batch), .help = "walks per timed batch" },
	WL_THREADS_OPTIONS(struct rm_opts, reps, placement, cpus,
			   "explicit OS CPUs for walkers, then writers"),
	{ 0 },
};
/* clang-format on */

const struct workload workload_rmap = {
	.name = "rmap",
	.summary = "rmap write-protect walks, locked vs lockless (nulls), under spte churn",
	.description = "Walkers write-protect gfn after gfn through per-gfn rmaps while writers\n"
		       "add and remove sptes under mmu_lock.  Writes summary.csv (a row per\n"
		       "repetition), hist/*.csv (restarts-*.csv counts restarts per walk in its\n"
		       "value_ns column), meta.json.",
	.options = rm_options,
	.columns = rm_columns,
	.opts_size = sizeof(struct rm_opts),
	.writes_results = true,
	.help_extra = rm_help,
	.check = rm_check,
	.run = rm_run,
};
