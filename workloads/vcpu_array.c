/* Workload `vcpu-array`: see vcpu_array_workload.h. */
#include "workloads/vcpu_array_workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/timing.h"
#include "lib/util/workers.h"

struct va_run;

/* One thread's private state and figures; merged after the threads stop. */
struct va_thread {
	_Alignas(64) struct va_run *run;
	struct histogram *hist;          /* pass_ns, lookup_ns or create_ns */
	uint64_t passes, pass_ns_total, visited, passes_during_creation;
	uint64_t lookups, lookup_ns_total;
	uint64_t bad_passes, bad_lookups;
	int failed;
};

struct va_run {
	const struct vcpu_array_params *p;
	struct vcpu_array a;
	struct vcpu *vcpus;
	struct va_thread *threads;
	/* set by the creator once all N are added; read by the others to tell
	 * the steady phase from creation */
	_Alignas(64) atomic_int created_all;
	atomic_int stop;                 /* set by the main thread */
	uint64_t creation_ns;
};

static void creator(struct va_run *run, struct va_thread *t)
{
	const struct vcpu_array_params *p = run->p;
	uint64_t start = now_ns();

	for (uint32_t i = 0; i < p->nvcpus; i++) {
		struct vcpu *v = &run->vcpus[i];
		uint64_t t0;

		vcpu_init(v, i, 1);
		atomic_store_explicit(&v->mode, VCPU_IN_GUEST, memory_order_relaxed);
		t0 = now_ns();
		if (run->a.ops->add(&run->a, v)) {
			t->failed = 1;
			break;
		}
		histogram_record(t->hist, now_ns() - t0);
		if (p->create_interval_ns)
			spin_for_ns(p->create_interval_ns);
	}
	run->creation_ns = now_ns() - start;
	/* release: creation_ns and the failure flag before the flag; pairs
	 * with the acquire loads in the readers and the main thread */
	atomic_store_explicit(&run->created_all, 1, memory_order_release);
}

static void iterator(struct va_run *run, struct va_thread *t, struct vcpu_array_reader *r)
{
	const struct vcpu_array_ops *ops = run->a.ops;
	uint32_t n = run->p->nvcpus;

	/* relaxed: a stop flag; the results are read after the join */
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		/* acquire: pairs with the creator's release store */
		int steady = atomic_load_explicit(&run->created_all, memory_order_acquire);
		struct vcpu_visit vis = { 0 };
		uint64_t t0 = now_ns(), dt;

		vcpu_array_read_lock(r);
		ops->for_each(&run->a, &vis);
		vcpu_array_read_unlock(r);
		dt = now_ns() - t0;
		if (!steady) {
			t->passes_during_creation++;
			continue;
		}
		t->passes++;
		t->pass_ns_total += dt;
		t->visited += vis.visited;
		histogram_record(t->hist, dt);
		if (vis.visited != n || vis.in_guest != n || vis.bad_array)
			t->bad_passes++;
	}
}

static void lookuper(struct va_run *run, struct va_thread *t, struct vcpu_array_reader *r)
{
	const struct vcpu_array_ops *ops = run->a.ops;
	uint32_t n = run->p->nvcpus, batch = run->p->lookup_batch;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ ((uint64_t)(uintptr_t)t << 7);

	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		/* acquire: pairs with the creator's release store */
		int steady = atomic_load_explicit(&run->created_all, memory_order_acquire);
		uint32_t online, bad = 0;
		uint64_t t0, dt;

		if (!steady) {
			cpu_relax();
			continue;
		}
		online = n;
		t0 = now_ns();
		for (uint32_t k = 0; k < batch; k++) {
			struct vcpu *v;
			uint32_t i;

			/* xorshift64: a fresh index each time, no shared state */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (uint32_t)(x % online);
			vcpu_array_read_lock(r);
			v = ops->get(&run->a, i);
			bad += !v || v->id != i;
			vcpu_array_read_unlock(r);
		}
		dt = now_ns() - t0;
		t->lookups += batch;
		t->lookup_ns_total += dt;
		t->bad_lookups += bad;
		histogram_record(t->hist, dt / batch);
	}
}

static void va_thread_main(struct worker *w)
{
	struct va_run *run = w->arg;
	struct va_thread *t = &run->threads[w->index];
	struct vcpu_array_reader r;
	char name[32];

	if (w->index == 0) {
		creator(run, t);
		return;
	}
	snprintf(name, sizeof(name), "%s%d", w->index <= run->p->iterators ? "iterator" : "lookup",
		 w->index);
	if (vcpu_array_reader_register(&r, &run->a, name)) {
		t->failed = 1;
		return;
	}
	if (w->index <= run->p->iterators)
		iterator(run, t, &r);
	else
		lookuper(run, t, &r);
	vcpu_array_reader_unregister(&r);
}

void vcpu_array_result_free(struct vcpu_array_result *res)
{
	free(res->pass_ns);
	free(res->lookup_ns);
	free(res->create_ns);
	res->pass_ns = res->lookup_ns = res->create_ns = NULL;
}

int vcpu_array_run(const struct vcpu_array_params *p, struct vcpu_array_result *res)
{
	int nthreads = 1 + p->iterators + p->lookupers;
	struct va_run run;
	struct workers g;
	uint64_t t0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.p = p;
	if (p->nvcpus > p->cfg.max_vcpus) {
		fprintf(stderr, "vcpu-array: %u vCPUs exceed max_vcpus %u\n", p->nvcpus,
			p->cfg.max_vcpus);
		return -1;
	}
	res->pass_ns = histogram_new();
	res->lookup_ns = histogram_new();
	res->create_ns = histogram_new();
	run.vcpus = aligned_alloc(64, (size_t)p->nvcpus * sizeof(struct vcpu));
	run.threads = aligned_alloc(64, (size_t)nthreads * sizeof(struct va_thread));
	if (!res->pass_ns || !res->lookup_ns || !res->create_ns || !run.vcpus || !run.threads) {
		fprintf(stderr, "vcpu-array: out of memory for %u vCPUs\n", p->nvcpus);
		goto out_free;
	}
	memset(run.threads, 0, (size_t)nthreads * sizeof(struct va_thread));
	for (int i = 0; i < nthreads; i++) {
		run.threads[i].run = &run;
		run.threads[i].hist = histogram_new();
		if (!run.threads[i].hist) {
			fprintf(stderr, "vcpu-array: out of memory for histograms\n");
			goto out_hist;
		}
	}
	if (vcpu_array_init(&run.a, p->ops, &p->cfg))
		goto out_hist;
	atomic_init(&run.created_all, 0);
	atomic_init(&run.stop, 0);
	if (workers_start(&g, nthreads, p->cpus, va_thread_main, &run, "vcpu-array"))
		goto out_array;
	workers_go(&g);
	/* acquire: pairs with the creator's release store */
	while (!atomic_load_explicit(&run.created_all, memory_order_acquire))
		sleep_ns(200000);
	t0 = now_ns();
	sleep_ns(p->steady_ns);
	/* relaxed: a stop request; the join orders everything after it */
	atomic_store_explicit(&run.stop, 1, memory_order_relaxed);
	workers_join(&g);
	res->steady_wall_ns = now_ns() - t0;
	res->creation_ns = run.creation_ns;
	res->footprint_bytes = run.a.ops->footprint(&run.a);
	rc = 0;
	for (int i = 0; i < nthreads; i++) {
		struct va_thread *t = &run.threads[i];

		if (t->failed)
			rc = -1;
		histogram_merge(i == 0 ? res->create_ns :
				i <= p->iterators ? res->pass_ns : res->lookup_ns, t->hist);
		res->passes += t->passes;
		res->pass_ns_total += t->pass_ns_total;
		res->visited += t->visited;
		res->passes_during_creation += t->passes_during_creation;
		res->lookups += t->lookups;
		res->lookup_ns_total += t->lookup_ns_total;
		res->bad_passes += t->bad_passes;
		res->bad_lookups += t->bad_lookups;
	}
	if (rc)
		fprintf(stderr, "vcpu-array: a thread failed (see above)\n");
out_array:
	if (vcpu_array_destroy(&run.a))
		rc = -1;
out_hist:
	for (int i = 0; i < nthreads; i++)
		free(run.threads[i].hist);
out_free:
	free(run.threads);
	free(run.vcpus);
	if (rc)
		vcpu_array_result_free(res);
	return rc;
}
