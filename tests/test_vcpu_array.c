/*
 * vCPU array strategies: single-threaded semantics, then a creator racing
 * with iterators and lookups.  Failures counted (all must be zero):
 *   - an iterator or lookup sees a vCPU whose magic, generation or id is not
 *     the one written before publication (a half-initialised vCPU);
 *   - a pass finds its array poisoned (a freed array; ASan catches the
 *     free itself in that variant);
 *   - a pass or lookup misses a vCPU whose creation completed before the
 *     pass or lookup started.
 * A fault-injection case proves the freed-array check fires when the rcu
 * strategy retires an array without waiting for a grace period, and a
 * zeroed vCPU proves the initialisation check fires.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "lib/util/timing.h"
#include "lib/vcpu_array/vcpu_array.h"

#define ROUNDS 20          /* creator races per configuration */
#define NITERATORS 2


/* ---- the per-vCPU check used by every pass */

struct pass_check {
	uint64_t generation;
	uint32_t next_idx;       /* passes visit indexes 0, 1, 2... in order */
	uint64_t bad;            /* vCPUs that failed a check */
};

static void check_vcpu(const struct vcpu *v, uint32_t idx, void *arg)
{
	struct pass_check *pc = arg;

	if (!v || v->magic != VCPU_MAGIC_LIVE || v->generation != pc->generation ||
	    v->id != idx || idx != pc->next_idx)
		pc->bad++;
	pc->next_idx = idx + 1;
}

/* ---- single-threaded semantics */

static void test_sequential(const struct vcpu_array_ops *ops,
			    const struct vcpu_array_config *cfg)
{
	struct vcpu_array a;
	struct vcpu_array_reader r;
	struct vcpu *vcpus = calloc(cfg->max_vcpus, sizeof(*vcpus));
	struct pass_check pc = { .generation = 7 };
	struct vcpu_visit vis = { .check = check_vcpu, .arg = &pc };

	if (vcpu_array_init(&a, ops, cfg) || vcpu_array_reader_register(&r, &a, "seq")) {
		CHECKF(0, "%s: init failed", ops->name);
		free(vcpus);
		return;
	}
	vcpu_array_read_lock(&r);
	CHECKF(ops->online(&a) == 0, "%s: new array not empty", ops->name);
	CHECKF(ops->get(&a, 0) == NULL, "%s: get(0) of an empty array", ops->name);
	ops->for_each(&a, &vis);
	CHECKF(vis.visited == 0, "%s: empty pass visited %llu", ops->name,
	       (unsigned long long)vis.visited);
	vcpu_array_read_unlock(&r);
	for (uint32_t i = 0; i < cfg->max_vcpus; i++) {
		vcpu_init(&vcpus[i], i, 7);
		if (ops->add(&a, &vcpus[i])) {
			CHECKF(0, "%s: add %u failed", ops->name, i);
			break;
		}
	}
	vcpu_array_read_lock(&r);
	CHECKF(ops->online(&a) == cfg->max_vcpus, "%s: online %u != %u", ops->name,
	       ops->online(&a), cfg->max_vcpus);
	for (uint32_t i = 0; i < cfg->max_vcpus; i++)
		CHECKF(ops->get(&a, i) == &vcpus[i], "%s: get(%u) wrong", ops->name, i);
	CHECKF(ops->get(&a, cfg->max_vcpus) == NULL, "%s: get past the end", ops->name);
	ops->for_each(&a, &vis);
	vcpu_array_read_unlock(&r);
	CHECKF(vis.visited == cfg->max_vcpus && pc.bad == 0 && vis.bad_array == 0,
	       "%s: full pass visited %llu, %llu bad", ops->name,
	       (unsigned long long)vis.visited, (unsigned long long)pc.bad);
	CHECKF(ops->footprint(&a) >= cfg->max_vcpus * sizeof(struct vcpu *),
	       "%s: footprint %zu below the pointers it holds", ops->name,
	       ops->footprint(&a));
	{
		/* a full array refuses one more (its one-line message is expected) */
		struct vcpu extra;

		vcpu_init(&extra, cfg->max_vcpus, 7);
		fprintf(stderr, "(expected:) ");
		CHECKF(ops->add(&a, &extra) != 0, "%s: add beyond max accepted", ops->name);
	}
	vcpu_array_reader_unregister(&r);
	CHECKF(vcpu_array_destroy(&a) == 0, "%s: destroy failed", ops->name);
	free(vcpus);
}

/* ---- creator against iterators and lookups */

struct race {
	struct vcpu_array a;
	struct vcpu *vcpus;
	uint32_t n;
	uint64_t generation;
	atomic_uint created;     /* vCPUs whose add() has returned */
	atomic_int done;         /* creator finished */
	atomic_ullong bad;       /* failures, summed once per thread at the end */
	atomic_ullong passes;
	atomic_ullong passes_racing;   /* passes that began before the last vCPU */
};

static void *iterator_main(void *p)
{
	struct race *rc = p;
	struct vcpu_array_reader r;
	uint64_t bad = 0, passes = 0, racing = 0;
	int last = 0;

	if (vcpu_array_reader_register(&r, &rc->a, "iterator")) {
		atomic_fetch_add(&rc->bad, 1);
		return NULL;
	}
	while (!last) {
		/* acquire: pairs with the creator's release stores; every vCPU
		 * counted here finished add() before this pass starts */
		uint32_t before = atomic_load_explicit(&rc->created, memory_order_acquire);
		struct pass_check pc = { .generation = rc->generation };
		struct vcpu_visit vis = { .check = check_vcpu, .arg = &pc };

		last = atomic_load_explicit(&rc->done, memory_order_acquire);
		racing += before < rc->n;
		vcpu_array_read_lock(&r);
		rc->a.ops->for_each(&rc->a, &vis);
		vcpu_array_read_unlock(&r);
		if (pc.bad || vis.bad_array || vis.visited < before) {
			if (bad < 5)
				fprintf(stderr, "iterator: %llu bad vCPUs, %llu poisoned arrays, visited %llu of %u created before the pass\n",
					(unsigned long long)pc.bad,
					(unsigned long long)vis.bad_array,
					(unsigned long long)vis.visited, before);
			bad++;
		}
		/* leave the creator CPU time on a loaded machine */
		if (++passes % 4 == 0)
			sched_yield();
	}
	vcpu_array_reader_unregister(&r);
	atomic_fetch_add(&rc->bad, bad);
	atomic_fetch_add(&rc->passes, passes);
	atomic_fetch_add(&rc->passes_racing, racing);
	return NULL;
}

static void *lookup_main(void *p)
{
	struct race *rc = p;
	struct vcpu_array_reader r;
	uint64_t bad = 0, x = 0x9e3779b97f4a7c15ull;
	int last = 0;

	if (vcpu_array_reader_register(&r, &rc->a, "lookup")) {
		atomic_fetch_add(&rc->bad, 1);
		return NULL;
	}
	while (!last) {
		/* acquire: pairs with the creator's release store of created */
		uint32_t before = atomic_load_explicit(&rc->created, memory_order_acquire);

		last = atomic_load_explicit(&rc->done, memory_order_acquire);
		for (int k = 0; k < 64 && before; k++) {
			uint32_t i;
			struct vcpu *v;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (uint32_t)(x % before);
			vcpu_array_read_lock(&r);
			v = rc->a.ops->get(&rc->a, i);
			if (!v || v->magic != VCPU_MAGIC_LIVE || v->id != i ||
			    v->generation != rc->generation)
				bad++;
			vcpu_array_read_unlock(&r);
		}
		sched_yield();
	}
	vcpu_array_reader_unregister(&r);
	atomic_fetch_add(&rc->bad, bad);
	return NULL;
}

static uint64_t total_passes, total_racing;

static void test_race(const struct vcpu_array_ops *ops,
		      const struct vcpu_array_config *cfg, int round)
{
	struct race rc;
	pthread_t it[NITERATORS], lk;

	memset(&rc, 0, sizeof(rc));
	rc.n = cfg->max_vcpus;
	rc.generation = (uint64_t)round + 1000;
	rc.vcpus = calloc(rc.n, sizeof(*rc.vcpus));
	if (!rc.vcpus || vcpu_array_init(&rc.a, ops, cfg)) {
		CHECKF(0, "%s: race setup failed", ops->name);
		free(rc.vcpus);
		return;
	}
	for (int i = 0; i < NITERATORS; i++)
		pthread_create(&it[i], NULL, iterator_main, &rc);
	pthread_create(&lk, NULL, lookup_main, &rc);
	for (uint32_t i = 0; i < rc.n; i++) {
		vcpu_init(&rc.vcpus[i], i, rc.generation);
		if (ops->add(&rc.a, &rc.vcpus[i])) {
			CHECKF(0, "%s: add %u failed", ops->name, i);
			break;
		}
		/* release: the completed add() before the count the checkers read */
		atomic_store_explicit(&rc.created, i + 1, memory_order_release);
		if ((i & 31) == (uint32_t)round % 32)
			sched_yield();
	}
	/* release: pairs with the readers' acquire load of done */
	atomic_store_explicit(&rc.done, 1, memory_order_release);
	for (int i = 0; i < NITERATORS; i++)
		pthread_join(it[i], NULL);
	pthread_join(lk, NULL);
	CHECKF(atomic_load(&rc.bad) == 0, "%s round %d: %llu failures", ops->name, round,
	       (unsigned long long)atomic_load(&rc.bad));
	CHECKF(vcpu_array_destroy(&rc.a) == 0, "%s: destroy failed", ops->name);
	free(rc.vcpus);
	total_passes += atomic_load(&rc.passes);
	total_racing += atomic_load(&rc.passes_racing);
}

/* ---- the checks can fail */

struct grow_inside {
	struct vcpu_array *a;
	struct vcpu *extra;
	uint32_t nextra;
	struct pass_check pc;
};

/* Check callback that, on the first vCPU, adds vCPUs until the rcu array
 * is replaced, while the pass still walks the old one. */
static void grow_during_pass(const struct vcpu *v, uint32_t idx, void *arg)
{
	struct grow_inside *g = arg;

	check_vcpu(v, idx, &g->pc);
	if (idx != 0)
		return;
	for (uint32_t i = 0; i < g->nextra; i++)
		g->a->ops->add(g->a, &g->extra[i]);
}

static uint64_t poisoned_passes(bool unsafe)
{
	struct vcpu_array_config cfg;
	struct vcpu_array a;
	struct vcpu_array_reader r;
	struct vcpu first[4], extra[8];
	struct grow_inside g;
	struct vcpu_visit vis = { .check = grow_during_pass, .arg = &g };

	vcpu_array_config_default(&cfg);
	cfg.max_vcpus = 16;
	cfg.initial_capacity = 4;
	cfg.unsafe_retire = unsafe;
	if (vcpu_array_init(&a, &vcpu_array_rcu_ops, &cfg) ||
	    vcpu_array_reader_register(&r, &a, "grow")) {
		CHECKF(0, "rcu: init failed");
		return 0;
	}
	for (uint32_t i = 0; i < 4; i++) {
		vcpu_init(&first[i], i, 1);
		a.ops->add(&a, &first[i]);
	}
	for (uint32_t i = 0; i < 8; i++)
		vcpu_init(&extra[i], 4 + i, 1);
	memset(&g, 0, sizeof(g));
	g.a = &a;
	g.extra = extra;
	g.nextra = 8;
	g.pc.generation = 1;
	vcpu_array_read_lock(&r);
	a.ops->for_each(&a, &vis);
	vcpu_array_read_unlock(&r);
	CHECKF(g.pc.bad == 0 && vis.visited == 4, "rcu grow: pass visited %llu, %llu bad",
	       (unsigned long long)vis.visited, (unsigned long long)g.pc.bad);
	vcpu_array_reader_unregister(&r);
	vcpu_array_destroy(&a);
	return vis.bad_array;
}

static void test_checks_can_fail(void)
{
	struct vcpu zeroed;
	struct pass_check pc = { .generation = 0 };

	memset(&zeroed, 0, sizeof(zeroed));
	check_vcpu(&zeroed, 0, &pc);
	CHECKF(pc.bad == 1, "a zeroed vCPU passed the initialisation check");
	CHECKF(poisoned_passes(true) == 1,
	       "retiring without a grace period went unnoticed by the pass");
	CHECKF(poisoned_passes(false) == 0,
	       "a grace-period retire poisoned an array a pass still used");
}

/* Usage: test_vcpu_array [STRATEGY]   (all strategies without one) */
int main(int argc, char **argv)
{
	static const uint32_t chunk_sizes[] = { 32, 128, 256 };
	struct vcpu_array_config cfg;

	if (argc > 2 || (argc == 2 && !vcpu_array_find(argv[1]))) {
		fprintf(stderr, "usage: test_vcpu_array [fixed|rcu|chunked|radix]\n");
		return 2;
	}
	if (argc == 1 || !strcmp(argv[1], "rcu"))
		test_checks_can_fail();
	for (int s = 0; vcpu_array_strategies[s]; s++) {
		const struct vcpu_array_ops *ops = vcpu_array_strategies[s];

		if (argc == 2 && strcmp(argv[1], ops->name))
			continue;

		uint64_t t0 = now_ns();

		for (int c = 0; c < 3; c++) {
			vcpu_array_config_default(&cfg);
			cfg.max_vcpus = 1000;      /* not a multiple of any chunk */
			cfg.chunk_size = chunk_sizes[c];
			cfg.radix_bits = 5 + (uint32_t)c;
			cfg.initial_capacity = 1u << c;
			cfg.retire = c == 1 ? VCPU_RETIRE_SYNC : VCPU_RETIRE_CALL;
			cfg.srcu_flavour = c == 2 ? SRCU_FLAVOUR_FAST : SRCU_FLAVOUR_MB;
			test_sequential(ops, &cfg);
			for (int round = 0; round < ROUNDS; round++)
				test_race(ops, &cfg, round);
		}
		fprintf(stderr, "%s: done in %.1f s, %llu passes of which %llu raced the creator, %d failures so far\n",
			ops->name, (double)(now_ns() - t0) / 1e9, (unsigned long long)total_passes,
			(unsigned long long)total_racing, check_failures);
		total_passes = total_racing = 0;
	}
	if (check_failures) {
		printf("test_vcpu_array: %d failures\n", check_failures);
		return 1;
	}
	printf("test_vcpu_array: all passed\n");
	return 0;
}
