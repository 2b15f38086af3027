/*
 * dlbench vcpu-array: one creator thread adds vCPUs up to N while iterator
 * threads run "kick every vCPU" passes and lookup threads fetch vCPUs by
 * index, all through one vCPU array strategy (lib/vcpu_array).  Once all N
 * exist the iterators and lookups run on for the steady phase, whose passes
 * and lookups are the measured ones.
 *
 * A cell is (strategy, vCPUs, iterators, lookups); each repetition of a
 * cell is a fresh array and a fresh set of threads, one row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/histogram.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"
#include "lib/util/topology.h"
#include "lib/util/workers.h"
#include "lib/vcpu_array/vcpu_array.h"
#include "workloads/threads.h"
#include "workloads/workload.h"

struct va_opts {
	const char *strategy;
	uint64_t vcpus, max_vcpus, chunk_size, radix_bits, initial_capacity;
	int retire, srcu_flavour;
	uint64_t iterators, lookupers;
	double duration;
	uint64_t create_interval_ns, lookup_batch, reps;
	int placement;
	const char *cpus;
};

/* One cell, resolved: the strategy, its configuration and the CPUs. */
struct va_params {
	const struct va_opts *o;
	const struct vcpu_array_ops *ops;
	const char *spec;
	struct vcpu_array_config cfg;
	uint32_t nvcpus, lookup_batch;
	int iterators, lookupers, nthreads;
	uint64_t steady_ns, create_interval_ns;
	int *cpus; /* creator, iterators, lookups */
	char cpus_text[256];
};

struct va_result {
	struct histogram pass_ns;   /* steady passes: ns per whole pass */
	struct histogram lookup_ns; /* steady: ns per lookup, batch means */
	struct histogram create_ns; /* ns per add */
	uint64_t passes, pass_ns_total, visited, passes_during_creation;
	uint64_t lookups, lookup_ns_total;
	uint64_t bad_passes;	  /* steady passes that did not see N */
	uint64_t bad_lookups;	  /* lookups that returned a wrong vCPU */
	uint64_t creation_ns;	  /* wall time to create all N */
	uint64_t footprint_bytes; /* array structure at N */
};

/* One thread's private state and figures; merged after the threads stop. */
struct va_thread {
	_Alignas(CACHELINE) struct va_run *run;
	struct histogram hist; /* pass_ns, lookup_ns or create_ns */
	uint64_t passes, pass_ns_total, visited, passes_during_creation;
	uint64_t lookups, lookup_ns_total;
	uint64_t bad_passes, bad_lookups;
	int add_error; /* creator: -errno of a failed add */
	int failed;
};

struct va_run {
	const struct va_params *p;
	struct vcpu_array a;
	struct vcpu *vcpus;
	struct va_thread *threads;
	/* set by the creator once all N are added; read by the others to tell
	 * the steady phase from creation */
	_Alignas(CACHELINE) atomic_int created_all;
	atomic_int stop; /* set by the main thread */
	uint64_t creation_ns;
};

/* ---- the threads ---- */

static void creator(struct va_run *run, struct va_thread *t)
{
	const struct va_params *p = run->p;
	uint64_t start = now_ns();

	for (uint32_t i = 0; i < p->nvcpus; i++) {
		struct vcpu *v = &run->vcpus[i];
		uint64_t t0 = now_ns();
		int rc = vcpu_array_add(&run->a, v, 1);

		if (rc) {
			t->add_error = rc;
			t->failed = 1;
			break;
		}
		histogram_record(&t->hist, now_ns() - t0);
		/* relaxed: a hint for kicks; the steady phase reads it after
		 * the release store of created_all below */
		atomic_store_explicit(&v->mode, VCPU_IN_GUEST, memory_order_relaxed);
		if (p->create_interval_ns)
			spin_for_ns(p->create_interval_ns);
	}
	run->creation_ns = now_ns() - start;
	/* release: creation_ns, the modes and the failure flag before the
	 * flag; pairs with the acquire loads in the readers and main thread */
	atomic_store_explicit(&run->created_all, 1, memory_order_release);
}

static void iterator(struct va_run *run, struct va_thread *t, struct vcpu_array_reader *r)
{
	uint32_t n = run->p->nvcpus;

	/* relaxed: a stop flag; the results are read after the join */
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		/* acquire: pairs with the creator's release store */
		int steady = atomic_load_explicit(&run->created_all, memory_order_acquire);
		struct vcpu_visit vis = { 0 };
		uint64_t t0 = now_ns(), dt;

		vcpu_array_read_lock(r);
		vcpu_array_for_each(&run->a, &vis);
		vcpu_array_read_unlock(r);
		dt = now_ns() - t0;
		if (!steady) {
			t->passes_during_creation++;
			continue;
		}
		t->passes++;
		t->pass_ns_total += dt;
		t->visited += vis.visited;
		histogram_record(&t->hist, dt);
		if (vis.visited != n || vis.in_guest != n || vis.bad_array)
			t->bad_passes++;
	}
}

static void lookuper(struct va_run *run, struct va_thread *t, struct vcpu_array_reader *r,
		     uint64_t stream)
{
	uint32_t n = run->p->nvcpus, batch = run->p->lookup_batch;
	uint64_t rng = rng_seed(1, stream);

	/* relaxed: a stop flag; the results are read after the join */
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint32_t bad = 0;
		uint64_t t0, dt;

		/* acquire: pairs with the creator's release store */
		if (!atomic_load_explicit(&run->created_all, memory_order_acquire)) {
			cpu_relax();
			continue;
		}
		t0 = now_ns();
		for (uint32_t k = 0; k < batch; k++) {
			uint32_t i = (uint32_t)rng_below(&rng, n);
			struct vcpu *v;

			vcpu_array_read_lock(r);
			v = vcpu_array_get(&run->a, i);
			bad += !v || v->id != i;
			vcpu_array_read_unlock(r);
		}
		dt = now_ns() - t0;
		t->lookups += batch;
		t->lookup_ns_total += dt;
		t->bad_lookups += bad;
		histogram_record(&t->hist, dt / batch);
	}
}

static void va_thread_main(struct worker *w)
{
	struct va_run *run = w->arg;
	struct va_thread *t = &run->threads[w->index];
	bool is_iterator = w->index <= run->p->iterators;
	struct vcpu_array_reader r;
	char name[32];

	if (w->index == 0) {
		creator(run, t);
		return;
	}
	snprintf(name, sizeof(name), "%s%d", is_iterator ? "iterator" : "lookup", w->index);
	if (vcpu_array_reader_register(&r, &run->a, name)) {
		t->failed = 1;
		return;
	}
	if (is_iterator)
		iterator(run, t, &r);
	else
		lookuper(run, t, &r, (uint64_t)w->index);
	vcpu_array_reader_unregister(&r);
}

/* ---- one repetition ---- */

/* Sums the threads' figures into @res; -1 if a thread failed. */
static int va_merge(struct va_run *run, struct va_result *res, char *err, size_t errlen)
{
	const struct va_params *p = run->p;
	int rc = 0;

	for (int i = 0; i < p->nthreads; i++) {
		struct va_thread *t = &run->threads[i];

		if (t->failed) {
			if (t->add_error)
				snprintf(err, errlen, "%s: adding a vCPU failed: %s", p->ops->name,
					 strerror(-t->add_error));
			else if (!err[0])
				snprintf(err, errlen, "a reader could not register");
			rc = -1;
		}
		histogram_merge(i == 0		    ? &res->create_ns
				: i <= p->iterators ? &res->pass_ns
						    : &res->lookup_ns,
				&t->hist);
		res->passes += t->passes;
		res->pass_ns_total += t->pass_ns_total;
		res->visited += t->visited;
		res->passes_during_creation += t->passes_during_creation;
		res->lookups += t->lookups;
		res->lookup_ns_total += t->lookup_ns_total;
		res->bad_passes += t->bad_passes;
		res->bad_lookups += t->bad_lookups;
	}
	return rc;
}

/* Until the creator has added all N. */
static void va_wait_created(void *arg)
{
	struct va_run *run = arg;

	/* acquire: pairs with the creator's release store */
	while (!atomic_load_explicit(&run->created_all, memory_order_acquire))
		sleep_ns(200000);
}

/* Starts the threads, waits for creation and the steady phase, stops. */
static int va_threads(struct va_run *run, char *err, size_t errlen)
{
	const struct va_params *p = run->p;

	atomic_init(&run->created_all, 0);
	return workload_run_threads(p->nthreads, p->cpus, va_thread_main, run, "vcpu-array",
				    va_wait_created, p->steady_ns, &run->stop, NULL, err, errlen);
}

static int va_measure(const struct va_params *p, struct va_result *res, char *err, size_t errlen)
{
	struct va_run run = { .p = p };
	int rc = -1;

	memset(res, 0, sizeof(*res));
	histogram_init(&res->pass_ns);
	histogram_init(&res->lookup_ns);
	histogram_init(&res->create_ns);
	run.vcpus = aligned_alloc(CACHELINE, (size_t)p->nvcpus * sizeof(struct vcpu));
	run.threads = aligned_alloc(CACHELINE, (size_t)p->nthreads * sizeof(struct va_thread));
	if (!run.vcpus || !run.threads) {
		snprintf(err, errlen, "out of memory for %u vCPUs", p->nvcpus);
		goto out;
	}
	memset(run.threads, 0, (size_t)p->nthreads * sizeof(struct va_thread));
	for (int i = 0; i < p->nthreads; i++) {
		run.threads[i].run = &run;
		histogram_init(&run.threads[i].hist);
	}
	if (vcpu_array_init(&run.a, p->ops, &p->cfg, err, errlen))
		goto out;
	if (!va_threads(&run, err, errlen)) {
		res->creation_ns = run.creation_ns;
		res->footprint_bytes = vcpu_array_footprint(&run.a);
		rc = va_merge(&run, res, err, errlen);
	}
	if (vcpu_array_destroy(&run.a) && !rc) {
		snprintf(err, errlen, "%s: the array could not be destroyed", p->ops->name);
		rc = -1;
	}
out:
	free(run.threads);
	free(run.vcpus);
	return rc;
}

/* ---- the table ---- */

/* clang-format off */
enum {
	COL_WORKLOAD, COL_STRATEGY, COL_VCPUS, COL_MAX_VCPUS, COL_CHUNK_SIZE, COL_RADIX_BITS,
	COL_INITIAL_CAPACITY, COL_RETIRE, COL_SRCU_FLAVOUR, COL_ITERATORS, COL_LOOKUPERS,
	COL_DURATION_S, COL_CREATE_INTERVAL_NS, COL_LOOKUP_BATCH, COL_REPETITIONS, COL_PLACEMENT,
	COL_CPUS, COL_REPETITION, COL_VISIT_NS_PER_VCPU, COL_VISIT_NS_PER_VCPU_P50, COL_PASSES,
	COL_PASS_NS_P50, COL_PASS_NS_P99, COL_PASS_NS_MAX, COL_PASSES_DURING_CREATION,
	COL_LOOKUP_NS, COL_LOOKUPS, COL_LOOKUP_NS_P50, COL_LOOKUP_NS_P99, COL_CREATE_NS_MEAN,
	COL_CREATE_NS_P50, COL_CREATE_NS_P99, COL_CREATE_NS_MAX, COL_CREATION_MS,
	COL_FOOTPRINT_BYTES, COL_BAD_PASSES, COL_BAD_LOOKUPS,
};
/* clang-format on */

/* clang-format off */
static const struct wl_column va_columns[] = {
	[COL_WORKLOAD] = { "workload", WL_COL_TEXT, "" },
	[COL_STRATEGY] = { "strategy", WL_COL_TEXT, "" },
	[COL_VCPUS] = { "vcpus", WL_COL_UINT, "" },
	[COL_MAX_VCPUS] = { "max_vcpus", WL_COL_UINT, "" },
	[COL_CHUNK_SIZE] = { "chunk_size", WL_COL_UINT, "" },
	[COL_RADIX_BITS] = { "radix_bits", WL_COL_UINT, "" },
	[COL_INITIAL_CAPACITY] = { "initial_capacity", WL_COL_UINT, "" },
	[COL_RETIRE] = { "retire", WL_COL_TEXT, "" },
	[COL_SRCU_FLAVOUR] = { "srcu_flavour", WL_COL_TEXT, "" },
	[COL_ITERATORS] = { "iterators", WL_COL_UINT, "threads" },
	[COL_LOOKUPERS] = { "lookupers", WL_COL_UINT, "threads" },
	[COL_DURATION_S] = { "duration_s", WL_COL_REAL, "s", 0, "%g" },
	[COL_CREATE_INTERVAL_NS] = { "create_interval_ns", WL_COL_UINT, "ns" },
	[COL_LOOKUP_BATCH] = { "lookup_batch", WL_COL_UINT, "" },
	[COL_REPETITIONS] = { "repetitions", WL_COL_UINT, "" },
	[COL_PLACEMENT] = { "placement", WL_COL_TEXT, "" },
	[COL_CPUS] = { "cpus", WL_COL_TEXT, "" },
	[COL_REPETITION] = { "repetition", WL_COL_UINT, "" },
	[COL_VISIT_NS_PER_VCPU] = { "visit_ns_per_vcpu", WL_COL_REAL, "ns", 0, "%.3f" },
	[COL_VISIT_NS_PER_VCPU_P50] = { "visit_ns_per_vcpu_p50", WL_COL_REAL, "ns", 0, "%.3f" },
	[COL_PASSES] = { "passes", WL_COL_UINT, "" },
	[COL_PASS_NS_P50] = { "pass_ns_p50", WL_COL_UINT, "ns" },
	[COL_PASS_NS_P99] = { "pass_ns_p99", WL_COL_UINT, "ns" },
	[COL_PASS_NS_MAX] = { "pass_ns_max", WL_COL_UINT, "ns" },
	[COL_PASSES_DURING_CREATION] = { "passes_during_creation", WL_COL_UINT, "" },
	[COL_LOOKUP_NS] = { "lookup_ns", WL_COL_REAL, "ns", 0, "%.3f" },
	[COL_LOOKUPS] = { "lookups", WL_COL_UINT, "" },
	[COL_LOOKUP_NS_P50] = { "lookup_ns_p50", WL_COL_UINT, "ns" },
	[COL_LOOKUP_NS_P99] = { "lookup_ns_p99", WL_COL_UINT, "ns" },
	[COL_CREATE_NS_MEAN] = { "create_ns_mean", WL_COL_REAL, "ns", 0, "%.1f" },
	[COL_CREATE_NS_P50] = { "create_ns_p50", WL_COL_UINT, "ns" },
	[COL_CREATE_NS_P99] = { "create_ns_p99", WL_COL_UINT, "ns" },
	[COL_CREATE_NS_MAX] = { "create_ns_max", WL_COL_UINT, "ns" },
	[COL_CREATION_MS] = { "creation_ms", WL_COL_REAL, "ms", 0, "%.3f" },
	[COL_FOOTPRINT_BYTES] = { "footprint_bytes", WL_COL_UINT, "bytes" },
	[COL_BAD_PASSES] = { "bad_passes", WL_COL_UINT, "" },
	[COL_BAD_LOOKUPS] = { "bad_lookups", WL_COL_UINT, "" },
	{ 0 },
};
/* clang-format on */

/* The cell's parameters, from the options and the strategy's spec; 0 or
 * WL_BAD_INPUT with one line in @err.  Picks no CPUs. */
static int va_params(const struct va_opts *o, struct va_params *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->o = o;
	p->spec = o->strategy;
	vcpu_array_config_default(&p->cfg);
	p->cfg.max_vcpus = (uint32_t)o->max_vcpus;
	p->cfg.chunk_size = (uint32_t)o->chunk_size;
	p->cfg.radix_bits = (uint32_t)o->radix_bits;
	p->cfg.initial_capacity = (uint32_t)o->initial_capacity;
	p->cfg.retire = (enum vcpu_retire)o->retire;
	p->cfg.srcu_flavour = (enum srcu_flavour)o->srcu_flavour;
	p->nvcpus = (uint32_t)o->vcpus;
	p->iterators = (int)o->iterators;
	p->lookupers = (int)o->lookupers;
	p->nthreads = 1 + p->iterators + p->lookupers;
	p->steady_ns = (uint64_t)(o->duration * 1e9);
	p->create_interval_ns = o->create_interval_ns;
	p->lookup_batch = (uint32_t)o->lookup_batch;
	if (o->chunk_size & (o->chunk_size - 1)) {
		snprintf(err, errlen, "--chunk-size: %llu is not a power of two",
			 (unsigned long long)o->chunk_size);
		return WL_BAD_INPUT;
	}
	if (vcpu_array_parse(o->strategy, &p->cfg, &p->ops, err, errlen) ||
	    vcpu_array_check(p->ops, &p->cfg, err, errlen))
		return WL_BAD_INPUT;
	if (p->nvcpus > p->cfg.max_vcpus) {
		snprintf(err, errlen, "--vcpus %u exceeds --max-vcpus %u", p->nvcpus,
			 p->cfg.max_vcpus);
		return WL_BAD_INPUT;
	}
	if (p->iterators + p->lookupers == 0) {
		snprintf(err, errlen, "--iterators and --lookupers are both 0: nothing to measure");
		return WL_BAD_INPUT;
	}
	return 0;
}

/* The threads' CPUs into p->cpus (allocated); *@over if overcommitted. */
static int va_pick_cpus(struct va_params *p, int *over, char *err, size_t errlen)
{
	int rc = workload_alloc_cpus(p->nthreads, (enum placement)p->o->placement, p->o->cpus,
				     "-c/--cpus", &p->cpus, over, err, errlen);

	if (rc)
		return rc;
	topology_cpus_text(p->cpus_text, sizeof(p->cpus_text), p->cpus, p->nthreads);
	return 0;
}

static int va_check(const void *opts, char *err, size_t errlen)
{
	struct va_params p;
	int over, rc = va_params(opts, &p, err, errlen);

	if (!rc)
		rc = va_pick_cpus(&p, &over, err, errlen);
	free(p.cpus);
	return rc;
}

/* The columns that describe the cell. */
static void va_row_params(struct wl_ctx *ctx, const struct va_params *p, uint64_t rep)
{
	const struct va_opts *o = p->o;

	wl_put_text(ctx, COL_WORKLOAD, "vcpu-array");
	wl_put_text(ctx, COL_STRATEGY, p->ops->name);
	wl_put_uint(ctx, COL_VCPUS, p->nvcpus);
	wl_put_uint(ctx, COL_MAX_VCPUS, p->cfg.max_vcpus);
	wl_put_uint(ctx, COL_CHUNK_SIZE, p->cfg.chunk_size);
	wl_put_uint(ctx, COL_RADIX_BITS, p->cfg.radix_bits);
	wl_put_uint(ctx, COL_INITIAL_CAPACITY, p->cfg.initial_capacity);
	wl_put_text(ctx, COL_RETIRE, vcpu_retire_names[p->cfg.retire]);
	wl_put_text(ctx, COL_SRCU_FLAVOUR, srcu_flavour_name(p->cfg.srcu_flavour));
	wl_put_uint(ctx, COL_ITERATORS, (uint64_t)p->iterators);
	wl_put_uint(ctx, COL_LOOKUPERS, (uint64_t)p->lookupers);
	wl_put_real(ctx, COL_DURATION_S, o->duration);
	wl_put_uint(ctx, COL_CREATE_INTERVAL_NS, p->create_interval_ns);
	wl_put_uint(ctx, COL_LOOKUP_BATCH, p->lookup_batch);
	wl_put_uint(ctx, COL_REPETITIONS, o->reps);
	wl_put_text(ctx, COL_PLACEMENT, workload_placement_names[o->placement]);
	wl_put_text(ctx, COL_CPUS, o->cpus ? o->cpus : p->cpus_text);
	wl_put_uint(ctx, COL_REPETITION, rep);
}

static void va_row(struct wl_ctx *ctx, const struct va_params *p, uint64_t rep,
		   const struct va_result *r)
{
	wl_row_begin(ctx);
	va_row_params(ctx, p, rep);
	wl_put_real(ctx, COL_VISIT_NS_PER_VCPU,
		    r->visited ? (double)r->pass_ns_total / (double)r->visited : 0);
	wl_put_real(ctx, COL_VISIT_NS_PER_VCPU_P50,
		    (double)histogram_quantile(&r->pass_ns, 0.5) / (double)p->nvcpus);
	wl_put_uint(ctx, COL_PASSES, r->passes);
	wl_put_uint(ctx, COL_PASS_NS_P50, histogram_quantile(&r->pass_ns, 0.5));
	wl_put_uint(ctx, COL_PASS_NS_P99, histogram_quantile(&r->pass_ns, 0.99));
	wl_put_uint(ctx, COL_PASS_NS_MAX, histogram_quantile(&r->pass_ns, 1.0));
	wl_put_uint(ctx, COL_PASSES_DURING_CREATION, r->passes_during_creation);
	wl_put_real(ctx, COL_LOOKUP_NS,
		    r->lookups ? (double)r->lookup_ns_total / (double)r->lookups : 0);
	wl_put_uint(ctx, COL_LOOKUPS, r->lookups);
	wl_put_uint(ctx, COL_LOOKUP_NS_P50, histogram_quantile(&r->lookup_ns, 0.5));
	wl_put_uint(ctx, COL_LOOKUP_NS_P99, histogram_quantile(&r->lookup_ns, 0.99));
	wl_put_real(ctx, COL_CREATE_NS_MEAN, histogram_mean(&r->create_ns));
	wl_put_uint(ctx, COL_CREATE_NS_P50, histogram_quantile(&r->create_ns, 0.5));
	wl_put_uint(ctx, COL_CREATE_NS_P99, histogram_quantile(&r->create_ns, 0.99));
	wl_put_uint(ctx, COL_CREATE_NS_MAX, histogram_quantile(&r->create_ns, 1.0));
	wl_put_real(ctx, COL_CREATION_MS, (double)r->creation_ns / 1e6);
	wl_put_uint(ctx, COL_FOOTPRINT_BYTES, r->footprint_bytes);
	wl_put_uint(ctx, COL_BAD_PASSES, r->bad_passes);
	wl_put_uint(ctx, COL_BAD_LOOKUPS, r->bad_lookups);
}

/* The stdout line of a repetition (and the header before the first). */
static void va_print(struct wl_ctx *ctx, const struct va_params *p, uint64_t rep,
		     const struct va_result *r)
{
	if (wl_cell_index(ctx) == 0 && rep == 1)
		wl_printf(ctx, "%-8s %4s %6s %10s %10s %10s %10s %10s %10s %10s %10s\n", "strategy",
			  "rep", "vcpus", "visit_ns", "visit_p50", "lookup_ns", "lookup_p50",
			  "create_p50", "create_p99", "create_max", "footprint");
	wl_printf(ctx, "%-8s %4llu %6u %10.2f %10.2f %10.2f %10llu %10llu %10llu %10llu %10llu\n",
		  p->ops->name, (unsigned long long)rep, p->nvcpus,
		  r->visited ? (double)r->pass_ns_total / (double)r->visited : 0,
		  (double)histogram_quantile(&r->pass_ns, 0.5) / (double)p->nvcpus,
		  r->lookups ? (double)r->lookup_ns_total / (double)r->lookups : 0,
		  (unsigned long long)histogram_quantile(&r->lookup_ns, 0.5),
		  (unsigned long long)histogram_quantile(&r->create_ns, 0.5),
		  (unsigned long long)histogram_quantile(&r->create_ns, 0.99),
		  (unsigned long long)histogram_quantile(&r->create_ns, 1.0),
		  (unsigned long long)r->footprint_bytes);
}

/* hist/NAME-STRATEGY[-cCELL]-rREP.csv (the cell only when there are several) */
static int va_save(struct wl_ctx *ctx, const struct va_params *p, uint64_t rep,
		   const struct va_result *r)
{
	static const char *const names[] = { "pass_ns", "lookup_ns", "create_ns" };
	const struct histogram *h[] = { &r->pass_ns, &r->lookup_ns, &r->create_ns };

	return workload_save_histograms(ctx, names, h, 3, p->ops->name, rep);
}

/* One repetition: measure, then its row, line and histograms. */
static int va_rep(struct wl_ctx *ctx, const void *params, uint64_t rep, char *err, size_t errlen)
{
	const struct va_params *p = params;
	struct va_result *r = calloc(1, sizeof(*r));
	int rc = WL_ERROR;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return WL_ERROR;
	}
	if (va_measure(p, r, err, errlen))
		goto out;
	va_row(ctx, p, rep, r);
	if (wl_row_end(ctx))
		goto out;
	va_print(ctx, p, rep, r);
	if (va_save(ctx, p, rep, r))
		goto out;
	rc = 0;
	if (r->bad_passes || r->bad_lookups) {
		wl_notice(ctx,
			  "%llu passes missed or misread vCPUs, %llu lookups returned a wrong vCPU",
			  (unsigned long long)r->bad_passes, (unsigned long long)r->bad_lookups);
		rc = WL_FAILED;
	}
out:
	free(r);
	return rc;
}

static int va_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	const struct va_opts *o = opts;
	struct va_params p;
	int over = 0, rc = va_params(o, &p, err, errlen);

	if (rc || (rc = va_pick_cpus(&p, &over, err, errlen)))
		return rc;
	if (over)
		workload_overcommit_notice(ctx, (unsigned long long)p.nthreads, "threads");
	wl_progress(ctx, "%s, %u vCPUs", p.ops->name, p.nvcpus);
	rc = workload_repeat(ctx, o->reps, va_rep, &p, err, errlen);
	wl_meta(ctx, "strategy", "\"%s\"", p.ops->name);
	wl_meta(ctx, "strategy_summary", "\"%s\"", p.ops->summary);
	free(p.cpus);
	return rc;
}

/* `all`: every strategy with its defaults. */
static int va_expand(const char *value, const char **out, int max)
{
	const struct vcpu_array_ops *ops;
	int i, n = 0;

	if (strcmp(value, "all"))
		return 0;
	vcpu_array_foreach (ops, i)
		if (n < max)
			out[n++] = ops->name;
	return n;
}

/* The name and its options; the configuration is checked per cell. */
static int va_spec_check(const char *value, char *err, size_t errlen)
{
	const struct vcpu_array_ops *ops;
	struct vcpu_array_config cfg;

	if (!strcmp(value, "all"))
		return 0;
	vcpu_array_config_default(&cfg);
	return vcpu_array_parse(value, &cfg, &ops, err, errlen) ? -1 : 0;
}

static void va_help(FILE *f)
{
	const struct vcpu_array_ops *ops;
	int i;

	fprintf(f,
		"strategies (-s NAME[:KEY=VALUE,...]; an option there overrides the --option):\n");
	vcpu_array_foreach (ops, i) {
		fprintf(f, "  %-10s %s\n", ops->name, ops->summary);
		if (ops->options_help)
			fprintf(f, "  %-10s   options: %s\n", "", ops->options_help);
	}
}

#define OPT(field) offsetof(struct va_opts, field)

/* clang-format off */
static const struct wl_option va_options[] = {
	{ .name = "strategy", .short_name = 's', .type = WL_TEXT, .flags = WL_REPEAT,
	  .def = "chunked", .metavar = "SPEC", .offset = OPT(strategy),
	  .help = "NAME[:KEY=VALUE,...] (list below); `all`: every strategy",
	  .check_value = va_spec_check, .expand = va_expand },
	{ .name = "vcpus", .short_name = 'n', .type = WL_UINT, .flags = WL_LIST, .def = "1024",
	  .min = 1, .max = 1 << 20, .offset = OPT(vcpus), .help = "vCPUs to create" },
	{ .name = "max-vcpus", .short_name = 'm', .type = WL_UINT, .def = "4096", .min = 1,
	  .max = 1 << 20, .metavar = "N", .offset = OPT(max_vcpus),
	  .help = "KVM_MAX_VCPUS: size of `fixed`, bound of all" },
	{ .name = "chunk-size", .type = WL_UINT, .def = "128", .min = 1, .max = 1 << 16,
	  .offset = OPT(chunk_size), .help = "chunked: entries per chunk, power of two" },
	{ .name = "radix-bits", .type = WL_UINT, .def = "6", .min = 1, .max = 15,
	  .offset = OPT(radix_bits), .help = "radix: log2 fanout per level, 2 levels" },
	{ .name = "initial-capacity", .type = WL_UINT, .def = "16", .min = 1, .max = 1 << 20,
	  .offset = OPT(initial_capacity), .help = "rcu: capacity of the first array, doubling" },
	{ .name = "retire", .type = WL_CHOICE, .def = "call", .choices = vcpu_retire_names,
	  .offset = OPT(retire), .help = "rcu: free old arrays via call_srcu or synchronize_srcu" },
	{ .name = "srcu-flavour", .type = WL_CHOICE, .def = "mb",
	  .choices = workload_srcu_rw_flavour_names,
	  .metavar = "F", .offset = OPT(srcu_flavour), .help = "rcu: read side of the domain" },
	{ .name = "iterators", .short_name = 'i', .type = WL_UINT, .flags = WL_LIST, .def = "1",
	  .min = 0, .max = 1024, .offset = OPT(iterators), .help = "\"kick all\" iterator threads" },
	{ .name = "lookupers", .short_name = 'l', .type = WL_UINT, .flags = WL_LIST, .def = "1",
	  .min = 0, .max = 1024, .offset = OPT(lookupers), .help = "lookup-by-index threads" },
	{ .name = "duration", .short_name = 'd', .type = WL_REAL, .def = "0.5", .min = 0.001,
	  .max = 3600, .metavar = "SECONDS", .offset = OPT(duration),
	  .help = "steady phase after all N exist" },
	{ .name = "create-interval-ns", .type = WL_UINT, .def = "0", .min = 0, .max = 1e9,
	  .metavar = "NS", .offset = OPT(create_interval_ns),
	  .help = "creator's pause between vCPUs" },
	{ .name = "lookup-batch", .type = WL_UINT, .def = "256", .min = 1, .max = 1 << 20,
	  .offset = OPT(lookup_batch), .help = "lookups per timed batch" },
	WL_THREADS_OPTIONS(struct va_opts, reps, placement, cpus,
			   "explicit OS CPUs for creator, iterators, lookups"),
	{ 0 },
};
/* clang-format on */

const struct workload workload_vcpu_array = {
	.name = "vcpu-array",
	.summary = "dynamic vCPU array strategies: kick-all passes, lookups, creation",
	.description = "A creator adds vCPUs up to N while iterators run \"kick every vCPU\"\n"
		       "passes and lookup threads fetch vCPUs by index; after creation the\n"
		       "steady phase is measured.  Writes summary.csv (a row per repetition),\n"
		       "hist/*.csv, meta.json.",
	.options = va_options,
	.columns = va_columns,
	.opts_size = sizeof(struct va_opts),
	.writes_results = true,
	.help_extra = va_help,
	.check = va_check,
	.run = va_run,
};
