/* The no-lost-dirty-page verifier: see verify.h. */
#include "workloads/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/timing.h"
#include "lib/util/workers.h"

#define VERIFY_REPORT_MAX 5    /* lost pages described on stderr per run */
#define VERIFY_ROUND_WAIT_NS 2000000ull   /* most a round waits for vCPU progress */

/* A vCPU's write count, on a line of its own, read by the harvester to
 * pace its rounds. */
struct verify_progress {
	_Alignas(64) uint64_t writes;
};

struct verify_state {
	const struct verify_config *c;
	struct vm *vm;
	uint8_t *dest;             /* the destination image */
	uint64_t *deadline;        /* per page: round by which it must be reported, 0: none */
	unsigned long *dirty;      /* the harvest */
	uint64_t *writes;          /* per vCPU, filled when it stops */
	struct verify_progress *progress;
	unsigned lag;
	unsigned reported_lost;
};

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void verify_vcpu(struct worker *w)
{
	struct verify_state *st = w->arg;
	struct vm *vm = st->vm;
	struct vcpu *v = &vm->vcpus[w->index];
	uint64_t n = (uint64_t)vm->nvcpus;
	uint64_t own = (vm->npages - (uint64_t)w->index + n - 1) / n;
	uint64_t rng = (st->c->seed + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)w->index + 1);
	uint64_t tag = ((uint64_t)w->index + 1) << 48, seq = 0;
	uint64_t delay = st->c->store_delay_ns;

	vcpu_thread_begin(v);
	while (!vm_stopping(vm)) {
		uint64_t gfn = (uint64_t)w->index + (xorshift64(&rng) % own) * n;
		uint64_t *p = (uint64_t *)vcpu_translate_write(v, gfn);

		if (delay)
			spin_for_ns(delay);
		/* release: a harvester reading this value (acquire) also sees
		 * the dirty mark made before it, in the fault that preceded */
		__atomic_store_n(p, tag | (++seq & ((1ull << 48) - 1)), __ATOMIC_RELEASE);
		__atomic_store_n(&st->progress[w->index].writes, seq, __ATOMIC_RELAXED);
		vcpu_exit_point(v);
	}
	vcpu_thread_end(v);
	st->writes[w->index] = seq;
}

/* Copies a page the vCPUs may be writing, word by word. */
static void copy_page(uint8_t *dst, const uint8_t *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;

	/* acquire on the word the vCPUs write: pairs with their release */
	d[0] = __atomic_load_n(&s[0], __ATOMIC_ACQUIRE);
	for (size_t i = 1; i < PAGE_SIZE / sizeof(uint64_t); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

static uint64_t total_progress(struct verify_state *st, bool *all_started)
{
	uint64_t sum = 0;

	*all_started = true;
	for (int i = 0; i < st->vm->nvcpus; i++) {
		uint64_t w = __atomic_load_n(&st->progress[i].writes, __ATOMIC_RELAXED);

		sum += w;
		if (!w)
			*all_started = false;
	}
	return sum;
}

/*
 * Paces the rounds so that each one has something to verify: the first
 * waits until every vCPU has written, later ones until the vCPUs made
 * @min_writes writes since @last or a short time passed (a vCPU may be
 * waiting for ring space that only the next round frees).
 */
static uint64_t wait_for_writes(struct verify_state *st, uint64_t last, uint64_t min_writes,
				bool first)
{
	uint64_t t0 = now_ns(), sum;
	bool started;

	for (unsigned n = 0;; n++) {
		sum = total_progress(st, &started);
		if (first ? started : (sum - last >= min_writes || now_ns() - t0 > VERIFY_ROUND_WAIT_NS))
			return sum;
		vm_backoff(n);
	}
}

static void report_lost(struct verify_state *st, const char *why, uint64_t gfn, uint64_t src,
			uint64_t dst, uint64_t round)
{
	if (st->reported_lost++ < VERIFY_REPORT_MAX)
		fprintf(stderr, "verify: %s: lost page gfn %llu (%s): source 0x%llx, destination 0x%llx, round %llu\n",
			st->vm->log->spec, (unsigned long long)gfn, why, (unsigned long long)src,
			(unsigned long long)dst, (unsigned long long)round);
}

/* Copies the harvested pages; checks the clean ones (not after the final). */
static void verify_round(struct verify_state *st, uint64_t round, bool final,
			 struct verify_result *res)
{
	struct vm *vm = st->vm;
	uint8_t *src = vm->guest_base;

	for (uint64_t gfn = 0; gfn < vm->npages; gfn++) {
		uint8_t *s = src + (gfn << PAGE_SHIFT);
		uint64_t *d = (uint64_t *)(st->dest + (gfn << PAGE_SHIFT));
		uint64_t v;

		if (!final)
			res->pages_verified++;
		if (bitmap_test(st->dirty, gfn)) {
			copy_page((uint8_t *)d, s);
			st->deadline[gfn] = 0;
			res->pages_reported++;
			continue;
		}
		if (final)
			continue;
		/* acquire: pairs with the vCPU's release store of the sequence */
		v = __atomic_load_n((const uint64_t *)s, __ATOMIC_ACQUIRE);
		if (v == d[0]) {
			st->deadline[gfn] = 0;
		} else if (!st->deadline[gfn]) {
			st->deadline[gfn] = round + 1 + st->lag;
		} else if (round >= st->deadline[gfn]) {
			report_lost(st, "written but not reported in time", gfn, v, d[0], round);
			res->late_pages++;
			d[0] = v;              /* counted once */
			st->deadline[gfn] = 0;
		}
	}
}

/* A change that keeps every slot as it is: the update still copies,
 * publishes and retires a table, and waits for the readers. */
static int verify_same_slots(struct memslot_table *copy, void *arg)
{
	(void)arg;
	return memslot_table_set_flags(copy, copy->slots[0].id, copy->slots[0].flags);
}

int verify_run(const struct verify_config *c, struct verify_result *res, char *err,
	       size_t errlen)
{
	struct verify_state st = { .c = c };
	struct guest_memory mem;
	struct dirty_log *log;
	struct vm_options vo = { .nslots = c->nslots, .nvcpus = c->nvcpus, .fault_path = c->fault_path,
				 .memslot_protect = c->memslot_protect };
	struct workers g;
	int *cpus = NULL, overcommit = 0, rc = -1, update_rc = 0;
	uint64_t npages = c->mem.bytes >> PAGE_SHIFT, t0;

	memset(res, 0, sizeof(*res));
	log = dirty_log_create(c->strategy, NULL, err, errlen);
	if (!log)
		return -1;
	if (guest_memory_create(&mem, &c->mem, err, errlen)) {
		dirty_log_free(log);
		return -1;
	}
	st.vm = vm_create(&vo, &mem, log, err, errlen);
	if (!st.vm) {
		guest_memory_destroy(&mem);
		dirty_log_free(log);
		return -1;
	}
	st.lag = dirty_log_report_lag(log);
	st.dest = calloc(npages, PAGE_SIZE);
	st.deadline = calloc(npages, sizeof(*st.deadline));
	st.dirty = calloc(bitmap_words(npages), sizeof(unsigned long));
	st.writes = calloc((size_t)c->nvcpus, sizeof(*st.writes));
	st.progress = aligned_alloc(64, sizeof(*st.progress) * (size_t)c->nvcpus);
	cpus = calloc((size_t)c->nvcpus, sizeof(*cpus));
	if (!st.dest || !st.deadline || !st.dirty || !st.writes || !st.progress || !cpus) {
		snprintf(err, errlen, "verify: out of memory for a %llu-page destination image",
			 (unsigned long long)npages);
		goto out;
	}
	memset(st.progress, 0, sizeof(*st.progress) * (size_t)c->nvcpus);
	if (topology_pick_cpus(c->nvcpus, c->placement, c->cpu_list, cpus, &overcommit, err, errlen))
		goto out;
	if (overcommit)
		fprintf(stderr, "verify: warning: %d vCPUs on %d CPUs (overcommitted)\n", c->nvcpus,
			topology_cpu_count());
	if (workers_start(&g, c->nvcpus, cpus, verify_vcpu, &st, "vCPU")) {
		snprintf(err, errlen, "verify: cannot start the vCPU threads");
		goto out;
	}
	t0 = now_ns();
	workers_go(&g);
	for (uint64_t r = 1, seen = 0; r <= c->rounds; r++) {
		seen = wait_for_writes(&st, seen, c->min_writes_per_round, r == 1);
		dirty_log_get(log, st.dirty, 0);
		dirty_log_clear(log, st.dirty);
		verify_round(&st, r, false, res);
		res->rounds++;
		if (c->memslot_updates) {
			update_rc = vm_update_memslots(st.vm, verify_same_slots, NULL);
			if (update_rc)
				break;
			res->memslot_updates++;
		}
		if (c->round_interval_ns)
			sleep_ns(c->round_interval_ns);
	}
	vm_request_stop(st.vm);
	workers_join(&g);
	if (update_rc) {
		snprintf(err, errlen, "verify: memslot update under %s failed: %s",
			 st.vm->memslots_protect->ops->name, strerror(-update_rc));
		goto out;
	}

	/* Final harvest: no vCPU runs, everything outstanding is reported. */
	dirty_log_get(log, st.dirty, DIRTY_LOG_FINAL);
	dirty_log_clear(log, st.dirty);
	verify_round(&st, c->rounds + 1, true, res);
	for (uint64_t gfn = 0; gfn < npages; gfn++) {
		const uint8_t *s = mem.base + (gfn << PAGE_SHIFT);
		const uint8_t *d = st.dest + (gfn << PAGE_SHIFT);

		res->pages_verified++;
		if (memcmp(s, d, PAGE_SIZE)) {
			report_lost(&st, "destination differs after the final harvest", gfn,
				    *(const uint64_t *)s, *(const uint64_t *)d, c->rounds + 1);
			res->final_mismatches++;
		}
	}
	res->seconds = (double)(now_ns() - t0) / 1e9;
	res->pages_lost = res->late_pages + res->final_mismatches;
	res->flushes = st.vm->flushes;
	for (int i = 0; i < c->nvcpus; i++) {
		res->writes += st.writes[i];
		res->faults += st.vm->vcpus[i].stats.faults;
		res->ring_full_exits += st.vm->vcpus[i].stats.ring_full_exits;
	}
	rc = 0;
out:
	free(cpus);
	free(st.progress);
	free(st.writes);
	free(st.dirty);
	free(st.deadline);
	free(st.dest);
	vm_destroy(st.vm);
	guest_memory_destroy(&mem);
	dirty_log_free(log);
	return rc;
}
