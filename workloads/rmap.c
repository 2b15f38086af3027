/* Workload `rmap`: see rmap_workload.h. */
#include "workloads/rmap_workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/timing.h"
#include "lib/util/workers.h"

struct rm_run;

struct rm_thread {
	_Alignas(64) struct rm_run *run;
	struct histogram *a, *b;      /* walkers: restarts, walk_ns; writers: writer_ns */
	uint64_t walks, walk_ns_total, restarts_total, walks_restarted, fallbacks;
	uint64_t visited, protected, poisoned, writer_ops;
	int failed;
};

struct rm_run {
	const struct rmap_params *p;
	struct rmap rm;
	spte_t *sptes;
	int32_t *spte_gfn;            /* -1: unmapped; each writer owns a range */
	struct rm_thread *threads;
	_Alignas(64) atomic_int stop;
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void walker(struct rm_run *run, struct rm_thread *t, int index)
{
	const struct rmap_params *p = run->p;
	struct rmap_walk_opts wo = { .max_restarts = p->max_restarts,
				     .desc_delay_ns = p->desc_delay_ns };
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

			p->walker->walk(&r, g, &wo, &w);
			if (++g == p->rmap.ngfns)
				g = 0;
			histogram_record(t->a, w.restarts);
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
		histogram_record(t->b, dt / p->walk_batch);
	}
	rmap_reader_unregister(&r);
}

static void writer(struct rm_run *run, struct rm_thread *t, int index)
{
	const struct rmap_params *p = run->p;
	uint32_t per = p->nsptes / (uint32_t)p->writers, base = per * (uint32_t)index;
	uint64_t x = 0x2545f4914f6cdd1dull * (uint64_t)(index + 1);
	enum { BATCH = 64 };

	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t t0 = now_ns();

		for (int k = 0; k < BATCH; k++) {
			uint32_t i = base + (uint32_t)(xorshift(&x) % per);
			int32_t g = run->spte_gfn[i];
			int rc;

			rmap_lock(&run->rm);
			if (g >= 0) {
				rc = rmap_remove(&run->rm, (uint32_t)g, &run->sptes[i]);
				atomic_store_explicit(&run->sptes[i], 0, memory_order_relaxed);
				run->spte_gfn[i] = -1;
			} else {
				g = (int32_t)((xorshift(&x) >> 16) % p->rmap.ngfns);
				atomic_store_explicit(&run->sptes[i], SPTE_PRESENT | SPTE_WRITABLE,
						      memory_order_relaxed);
				rc = rmap_add(&run->rm, (uint32_t)g, &run->sptes[i]);
				run->spte_gfn[i] = g;
			}
			rmap_unlock(&run->rm);
			if (rc) {
				fprintf(stderr, "rmap: writer %d: spte %u %s gfn %d failed\n", index, i,
					run->spte_gfn[i] < 0 ? "removal from" : "insertion into", g);
				t->failed = 1;
				atomic_store_explicit(&run->stop, 1, memory_order_relaxed);
				return;
			}
			if (p->writer_delay_ns)
				spin_for_ns(p->writer_delay_ns);
		}
		t->writer_ops += BATCH;
		histogram_record(t->a, (now_ns() - t0) / BATCH);
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

void rmap_result_free(struct rmap_result *res)
{
	free(res->restarts);
	free(res->walk_ns);
	free(res->writer_ns);
	res->restarts = res->walk_ns = res->writer_ns = NULL;
}

int rmap_run(const struct rmap_params *p, struct rmap_result *res)
{
	int nthreads = p->walkers + p->writers;
	struct rm_run run;
	struct workers g;
	uint64_t t0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.p = p;
	if (p->writers && p->nsptes < (uint32_t)p->writers) {
		fprintf(stderr, "rmap: %u sptes cannot be shared by %d writers\n", p->nsptes,
			p->writers);
		return -1;
	}
	res->restarts = histogram_new();
	res->walk_ns = histogram_new();
	res->writer_ns = histogram_new();
	run.sptes = calloc(p->nsptes, sizeof(*run.sptes));
	run.spte_gfn = calloc(p->nsptes, sizeof(*run.spte_gfn));
	run.threads = aligned_alloc(64, (size_t)nthreads * sizeof(*run.threads));
	if (!res->restarts || !res->walk_ns || !res->writer_ns || !run.sptes || !run.spte_gfn ||
	    !run.threads) {
		fprintf(stderr, "rmap: out of memory for %u sptes\n", p->nsptes);
		goto out_free;
	}
	memset(run.threads, 0, (size_t)nthreads * sizeof(*run.threads));
	for (int i = 0; i < nthreads; i++) {
		run.threads[i].run = &run;
		run.threads[i].a = histogram_new();
		run.threads[i].b = histogram_new();
		if (!run.threads[i].a || !run.threads[i].b) {
			fprintf(stderr, "rmap: out of memory for histograms\n");
			goto out_hist;
		}
	}
	if (rmap_init(&run.rm, &p->rmap))
		goto out_hist;
	/* half the sptes mapped, spread over the gfns */
	for (uint32_t i = 0; i < p->nsptes; i++) {
		run.spte_gfn[i] = -1;
		atomic_init(&run.sptes[i], 0);
		if (i % 2 == 0) {
			uint32_t gfn = (i / 2) % p->rmap.ngfns;

			atomic_store_explicit(&run.sptes[i], SPTE_PRESENT | SPTE_WRITABLE,
					      memory_order_relaxed);
			if (rmap_add(&run.rm, gfn, &run.sptes[i]))
				goto out_rmap;
			run.spte_gfn[i] = (int32_t)gfn;
		}
	}
	atomic_init(&run.stop, 0);
	if (workers_start(&g, nthreads, p->cpus, rm_thread_main, &run, "rmap"))
		goto out_rmap;
	workers_go(&g);
	t0 = now_ns();
	sleep_ns(p->duration_ns);
	/* relaxed: a stop request; the join orders everything after it */
	atomic_store_explicit(&run.stop, 1, memory_order_relaxed);
	workers_join(&g);
	res->wall_ns = now_ns() - t0;
	res->desc = run.rm.stats;
	rc = 0;
	for (int i = 0; i < nthreads; i++) {
		struct rm_thread *t = &run.threads[i];

		if (t->failed)
			rc = -1;
		if (i < p->walkers) {
			histogram_merge(res->restarts, t->a);
			histogram_merge(res->walk_ns, t->b);
		} else {
			histogram_merge(res->writer_ns, t->a);
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
out_rmap:
	if (rmap_destroy(&run.rm))
		rc = -1;
out_hist:
	for (int i = 0; i < nthreads; i++) {
		free(run.threads[i].a);
		free(run.threads[i].b);
	}
out_free:
	free(run.threads);
	free(run.spte_gfn);
	free(run.sptes);
	if (rc)
		rmap_result_free(res);
	return rc;
}
