/*
 * vCPU array strategies: single-threaded semantics, a creator racing with
 * iterators and lookups, and a reader that looks at the array at every
 * step of every add.  Failures counted (all must be zero):
 *   - an iterator or lookup sees a vCPU whose magic, generation or id is not
 *     the one written before publication (a half-initialised vCPU);
 *   - a pass finds its array poisoned (a freed array; ASan catches the
 *     free itself in that variant);
 *   - a pass or lookup misses a vCPU whose creation completed before the
 *     pass or lookup started.
 * The step test runs a reader thread at each point between two stores of
 * an add (the arrays' step hook): the count must cover exactly the entries
 * that are there and initialised, and the reader then holds the array it
 * found while the add finishes, so that an array retired before its
 * readers are done is caught.  A fault-injection case proves the
 * freed-array check fires when the rcu strategy retires an array without
 * waiting for a grace period, and a zeroed vCPU proves the initialisation
 * check fires.
 *
 * Usage: test_vcpu_array [--only steps|race|checks] [--rounds N]
 *                        [--publish-delay-us US] [STRATEGY]
 *   --publish-delay-us  the race's creator pauses that long after each add
 *                       before it tells the readers, so that they walk the
 *                       newest entries with only the array's own ordering
 *                       (what a missing release leaves unordered, TSan sees)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"
#include "lib/vcpu_array/vcpu_array.h"

#define NITERATORS 2

/* Relaxed atomics in this file without a comment: failure and pass counters
 * that the threads add to and main reads after pthread_join (the join
 * orders them), and set-up and checks done by one thread alone. */

static int rounds = 20;		  /* creator races per configuration */
static uint64_t publish_delay_ns; /* --publish-delay-us */
static char err[256];

/* ---- the per-vCPU check used by every pass */

struct pass_check {
	uint64_t generation;
	uint32_t next_idx; /* passes visit indexes 0, 1, 2... in order */
	uint64_t bad;	   /* vCPUs that failed a check */
};

static void check_vcpu(const struct vcpu *v, uint32_t idx, void *arg)
{
	struct pass_check *pc = arg;

	if (!v || v->magic != VCPU_MAGIC_LIVE || v->generation != pc->generation || v->id != idx ||
	    idx != pc->next_idx)
		pc->bad++;
	pc->next_idx = idx + 1;
}

/* ---- single-threaded semantics */

static void test_sequential(const struct vcpu_array_ops *ops, const struct vcpu_array_config *cfg)
{
	struct vcpu_array a;
	struct vcpu_array_reader r;
	struct vcpu *vcpus = calloc(cfg->max_vcpus, sizeof(*vcpus));
	struct pass_check pc = { .generation = 7 };
	struct vcpu_visit vis = { .check = check_vcpu, .arg = &pc };

	if (vcpu_array_init(&a, ops, cfg, err, sizeof(err)) ||
	    vcpu_array_reader_register(&r, &a, "seq")) {
		CHECKF(0, "%s: init failed: %s", ops->name, err);
		free(vcpus);
		return;
	}
	vcpu_array_read_lock(&r);
	CHECKF(vcpu_array_online(&a) == 0, "%s: new array not empty", ops->name);
	CHECKF(vcpu_array_get(&a, 0) == NULL, "%s: get(0) of an empty array", ops->name);
	vcpu_array_for_each(&a, &vis);
	CHECKF(vis.visited == 0, "%s: empty pass visited %llu", ops->name,
	       (unsigned long long)vis.visited);
	vcpu_array_read_unlock(&r);
	for (uint32_t i = 0; i < cfg->max_vcpus; i++) {
		if (vcpu_array_add(&a, &vcpus[i], 7)) {
			CHECKF(0, "%s: add %u failed", ops->name, i);
			break;
		}
	}
	vcpu_array_read_lock(&r);
	CHECKF(vcpu_array_online(&a) == cfg->max_vcpus, "%s: online %u != %u", ops->name,
	       vcpu_array_online(&a), cfg->max_vcpus);
	for (uint32_t i = 0; i < cfg->max_vcpus; i++)
		CHECKF(vcpu_array_get(&a, i) == &vcpus[i] && vcpus[i].id == i &&
			       vcpus[i].magic == VCPU_MAGIC_LIVE,
		       "%s: get(%u) wrong", ops->name, i);
	CHECKF(vcpu_array_get(&a, cfg->max_vcpus) == NULL, "%s: get past the end", ops->name);
	vcpu_array_for_each(&a, &vis);
	vcpu_array_read_unlock(&r);
	CHECKF(vis.visited == cfg->max_vcpus && pc.bad == 0 && vis.bad_array == 0,
	       "%s: full pass visited %llu, %llu bad", ops->name, (unsigned long long)vis.visited,
	       (unsigned long long)pc.bad);
	CHECKF(vcpu_array_footprint(&a) >= cfg->max_vcpus * sizeof(struct vcpu *),
	       "%s: footprint %zu below the pointers it holds", ops->name,
	       vcpu_array_footprint(&a));
	{
		/* a full array refuses one more */
		struct vcpu extra;

		CHECKF(vcpu_array_add(&a, &extra, 7) == -ENOSPC, "%s: add beyond max accepted",
		       ops->name);
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
	atomic_uint created; /* vCPUs whose add() has returned */
	atomic_int done;     /* creator finished */
	/* relaxed counts below: read after pthread_join, which orders them */
	atomic_ullong bad;   /* failures, summed once per thread at the end */
	atomic_ullong passes;
	atomic_ullong passes_racing; /* passes that began before the last vCPU */
};

static void *iterator_main(void *p)
{
	struct race *rc = p;
	struct vcpu_array_reader r;
	uint64_t bad = 0, passes = 0, racing = 0;
	int last = 0;

	if (vcpu_array_reader_register(&r, &rc->a, "iterator")) {
		atomic_fetch_add_explicit(&rc->bad, 1, memory_order_relaxed);
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
		vcpu_array_for_each(&rc->a, &vis);
		vcpu_array_read_unlock(&r);
		if (pc.bad || vis.bad_array || vis.visited < before) {
			if (bad < 5)
				fprintf(stderr,
					"iterator: %llu bad vCPUs, %llu poisoned arrays, visited "
					"%llu of %u created before the pass\n",
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
	atomic_fetch_add_explicit(&rc->bad, bad, memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->passes, passes, memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->passes_racing, racing, memory_order_relaxed);
	return NULL;
}

static void *lookup_main(void *p)
{
	struct race *rc = p;
	struct vcpu_array_reader r;
	uint64_t bad = 0, rng = rng_seed(1, 0);
	int last = 0;

	if (vcpu_array_reader_register(&r, &rc->a, "lookup")) {
		atomic_fetch_add_explicit(&rc->bad, 1, memory_order_relaxed);
		return NULL;
	}
	while (!last) {
		/* acquire: pairs with the creator's release store of created */
		uint32_t before = atomic_load_explicit(&rc->created, memory_order_acquire);

		last = atomic_load_explicit(&rc->done, memory_order_acquire);
		for (int k = 0; k < 64 && before; k++) {
			uint32_t i;
			struct vcpu *v;

			i = (uint32_t)rng_below(&rng, before);
			vcpu_array_read_lock(&r);
			v = vcpu_array_get(&rc->a, i);
			if (!v || v->magic != VCPU_MAGIC_LIVE || v->id != i ||
			    v->generation != rc->generation)
				bad++;
			vcpu_array_read_unlock(&r);
		}
		sched_yield();
	}
	vcpu_array_reader_unregister(&r);
	atomic_fetch_add_explicit(&rc->bad, bad, memory_order_relaxed);
	return NULL;
}

static uint64_t total_passes, total_racing;

static void test_race(const struct vcpu_array_ops *ops, const struct vcpu_array_config *cfg,
		      int round)
{
	struct race rc;
	pthread_t it[NITERATORS], lk;

	memset(&rc, 0, sizeof(rc));
	rc.n = cfg->max_vcpus;
	rc.generation = (uint64_t)round + 1000;
	rc.vcpus = calloc(rc.n, sizeof(*rc.vcpus));
	if (!rc.vcpus || vcpu_array_init(&rc.a, ops, cfg, err, sizeof(err))) {
		CHECKF(0, "%s: race setup failed: %s", ops->name, err);
		free(rc.vcpus);
		return;
	}
	for (int i = 0; i < NITERATORS; i++)
		pthread_create(&it[i], NULL, iterator_main, &rc);
	pthread_create(&lk, NULL, lookup_main, &rc);
	for (uint32_t i = 0; i < rc.n; i++) {
		if (vcpu_array_add(&rc.a, &rc.vcpus[i], rc.generation)) {
			CHECKF(0, "%s: add %u failed", ops->name, i);
			break;
		}
		/* the readers find the new vCPU through the array alone */
		if (publish_delay_ns)
			spin_for_ns(publish_delay_ns);
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
	CHECKF(atomic_load_explicit(&rc.bad, memory_order_relaxed) == 0,
	       "%s round %d: %llu failures", ops->name, round,
	       (unsigned long long)atomic_load_explicit(&rc.bad, memory_order_relaxed));
	CHECKF(vcpu_array_destroy(&rc.a) == 0, "%s: destroy failed", ops->name);
	free(rc.vcpus);
	total_passes += atomic_load_explicit(&rc.passes, memory_order_relaxed);
	total_racing += atomic_load_explicit(&rc.passes_racing, memory_order_relaxed);
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
		vcpu_array_add(g->a, &g->extra[i], 1);
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
	cfg.keep_retired = true; /* a late reader reads poison, not freed memory */
	if (vcpu_array_init(&a, &vcpu_array_rcu_ops, &cfg, err, sizeof(err)) ||
	    vcpu_array_reader_register(&r, &a, "grow")) {
		CHECKF(0, "rcu: init failed: %s", err);
		return 0;
	}
	for (uint32_t i = 0; i < 4; i++)
		vcpu_array_add(&a, &first[i], 1);
	memset(&g, 0, sizeof(g));
	g.a = &a;
	g.extra = extra;
	g.nextra = 8;
	g.pc.generation = 1;
	vcpu_array_read_lock(&r);
	vcpu_array_for_each(&a, &vis);
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

/* ---- a reader at every step of every add */

/*
 * Two reader threads serve the arrays' step hook, which runs on the
 * creator between every two stores of an add.  The looker checks the
 * array at every step while the creator waits: the count covers exactly
 * the entries that are there and initialised, and no more than the add in
 * progress.  The holder takes the first step of each add: it finds the
 * array and holds it (inside its read section) while the add finishes,
 * then walks the rest of it: an array retired before its readers are done
 * shows its poison (keep_retired), and a synchronize_srcu that waits for
 * the holder lets it go after 20 ms.
 */
enum step_state {
	ST_IDLE,
	ST_POSTED,
	ST_HOLDING,
	ST_STOP
};

struct step_role {
	bool hold;
	enum step_state state; /* under the stepper's lock */
	uint32_t job_min;      /* adds that had returned when posted */
	uint64_t jobs, bad;
};

struct stepper {
	struct vcpu_array a;
	struct vcpu *vcpus;
	uint32_t n;
	uint64_t generation;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t adds_returned; /* under lock */
	struct step_role looker, holder;
};

struct step_thread {
	struct stepper *s;
	struct step_role *role;
};

/* Is @v vCPU @i of this run, initialised?  (compared before it is read) */
static bool step_vcpu_ok(struct stepper *s, const struct vcpu *v, uint32_t i)
{
	return v == &s->vcpus[i] && v->magic == VCPU_MAGIC_LIVE && v->id == i &&
	       v->generation == s->generation;
}

struct step_hold {
	struct stepper *s;
	struct step_role *role;
	uint32_t min;
	bool held;
	struct pass_check pc;
};

static void step_set(struct stepper *s, struct step_role *role, enum step_state st)
{
	pthread_mutex_lock(&s->lock);
	role->state = st;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The holder's pass, at its first vCPU: tell the creator the array is
 * found, then let the add run on (and retire what it retires). */
static void step_hold(const struct vcpu *v, uint32_t idx, void *arg)
{
	struct step_hold *h = arg;
	struct stepper *s = h->s;
	struct timespec until;

	check_vcpu(v, idx, &h->pc);
	if (idx != 0 || !h->role->hold)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 20 * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	h->role->state = ST_HOLDING;
	h->held = true;
	pthread_cond_broadcast(&s->cond);
	while (s->adds_returned <= h->min &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
		;
	pthread_mutex_unlock(&s->lock);
}

/* One look at the array, inside a read section. */
static uint64_t step_job(struct stepper *s, struct step_role *role, uint32_t min)
{
	struct step_hold h = { .s = s, .role = role, .min = min };
	struct vcpu_visit vis = { .check = step_hold, .arg = &h };
	uint32_t n = vcpu_array_online(&s->a);
	uint64_t bad = 0;

	if (n < min || n > min + 1) {
		fprintf(stderr, "step: count %u with %u adds returned\n", n, min);
		bad++;
	}
	for (uint32_t i = 0; i < n && i < s->n && !bad; i++)
		if (!step_vcpu_ok(s, vcpu_array_get(&s->a, i), i)) {
			fprintf(stderr, "step: count %u, get(%u) is not the initialised vCPU %u\n",
				n, i, i);
			bad++;
		}
	if (!bad) {
		h.pc.generation = s->generation;
		vcpu_array_for_each(&s->a, &vis);
		if (vis.visited != n || h.pc.bad || vis.bad_array) {
			fprintf(stderr, "step: a pass visited %llu of %u, %llu bad, array %s\n",
				(unsigned long long)vis.visited, n, (unsigned long long)h.pc.bad,
				vis.bad_array ? "retired under it" : "live");
			bad++;
		}
	}
	if (role->hold && !h.held)
		step_set(s, role, ST_HOLDING);
	return bad;
}

static void *step_reader(void *arg)
{
	struct step_thread *t = arg;
	struct stepper *s = t->s;
	struct step_role *role = t->role;
	struct vcpu_array_reader r;
	bool registered = !vcpu_array_reader_register(&r, &s->a, role->hold ? "holder" : "looker");

	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint32_t min;
		uint64_t bad = !registered;

		while (role->state != ST_POSTED && role->state != ST_STOP)
			pthread_cond_wait(&s->cond, &s->lock);
		if (role->state == ST_STOP)
			break;
		min = role->job_min;
		pthread_mutex_unlock(&s->lock);
		if (registered) {
			vcpu_array_read_lock(&r);
			bad += step_job(s, role, min);
			vcpu_array_read_unlock(&r);
		}
		pthread_mutex_lock(&s->lock);
		role->jobs++;
		role->bad += bad;
		role->state = ST_IDLE;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	if (registered)
		vcpu_array_reader_unregister(&r);
	return NULL;
}

/* Under the lock: gives @role a job and waits until it has found the
 * array (the holder) or is done (the looker). */
static void step_post(struct stepper *s, struct step_role *role)
{
	role->state = ST_POSTED;
	role->job_min = s->adds_returned;
	pthread_cond_broadcast(&s->cond);
	while (role->state == ST_POSTED)
		pthread_cond_wait(&s->cond, &s->lock);
}

/* The arrays' step hook, on the creator. */
static void step_hook(void *arg)
{
	struct stepper *s = arg;

	pthread_mutex_lock(&s->lock);
	step_post(s, &s->looker);
	while (s->looker.state != ST_IDLE)
		pthread_cond_wait(&s->cond, &s->lock);
	if (s->holder.state == ST_IDLE)
		step_post(s, &s->holder);
	pthread_mutex_unlock(&s->lock);
}

/* Under the lock: waits until @role is idle, then stops it. */
static void step_stop(struct stepper *s, struct step_role *role)
{
	while (role->state != ST_IDLE)
		pthread_cond_wait(&s->cond, &s->lock);
	role->state = ST_STOP;
	pthread_cond_broadcast(&s->cond);
}

static void step_adds(struct stepper *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		CHECKF(vcpu_array_add(&s->a, &s->vcpus[i], s->generation) == 0, "%s: add %u failed",
		       s->a.ops->name, i);
		pthread_mutex_lock(&s->lock);
		s->adds_returned++;
		pthread_cond_broadcast(&s->cond);
		/* the holder is free for the next add's first step */
		while (s->holder.state != ST_IDLE)
			pthread_cond_wait(&s->cond, &s->lock);
		pthread_mutex_unlock(&s->lock);
	}
}

static void test_steps(const struct vcpu_array_ops *ops, struct vcpu_array_config *cfg)
{
	struct stepper s = { .n = cfg->max_vcpus, .generation = 77, .holder.hold = true };
	struct step_thread lt = { &s, &s.looker }, ht = { &s, &s.holder };
	pthread_t th[2];

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	cfg->step_hook = step_hook;
	cfg->step_arg = &s;
	cfg->keep_retired = true;
	s.vcpus = calloc(s.n, sizeof(*s.vcpus));
	if (!s.vcpus || vcpu_array_init(&s.a, ops, cfg, err, sizeof(err))) {
		CHECKF(0, "%s: step setup failed: %s", ops->name, err);
		free(s.vcpus);
		return;
	}
	pthread_create(&th[0], NULL, step_reader, &lt);
	pthread_create(&th[1], NULL, step_reader, &ht);
	step_adds(&s);
	pthread_mutex_lock(&s.lock);
	step_stop(&s, &s.looker);
	step_stop(&s, &s.holder);
	pthread_mutex_unlock(&s.lock);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	CHECKF(s.looker.bad == 0 && s.holder.bad == 0 && s.looker.jobs >= s.n &&
		       s.holder.jobs >= s.n,
	       "%s (retire %s): %llu bad looks in %llu, %llu bad holds in %llu", ops->name,
	       vcpu_retire_names[cfg->retire], (unsigned long long)s.looker.bad,
	       (unsigned long long)s.looker.jobs, (unsigned long long)s.holder.bad,
	       (unsigned long long)s.holder.jobs);
	CHECKF(vcpu_array_destroy(&s.a) == 0, "%s: destroy failed", ops->name);
	free(s.vcpus);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
}

/* ---- main */

static void run_strategy(const struct vcpu_array_ops *ops, const char *only)
{
	static const uint32_t chunk_sizes[] = { 32, 128, 256 };
	struct vcpu_array_config cfg;
	uint64_t t0 = now_ns();

	for (int c = 0; c < 3; c++) {
		vcpu_array_config_default(&cfg);
		cfg.max_vcpus = 1000; /* not a multiple of any chunk */
		cfg.chunk_size = chunk_sizes[c];
		cfg.radix_bits = 5 + (uint32_t)c;
		cfg.initial_capacity = 1u << c;
		cfg.retire = c == 1 ? VCPU_RETIRE_SYNC : VCPU_RETIRE_CALL;
		cfg.srcu_flavour = c == 2 ? SRCU_FLAVOUR_FAST : SRCU_FLAVOUR_MB;
		if (!only)
			test_sequential(ops, &cfg);
		if (!only || !strcmp(only, "race"))
			for (int round = 0; round < rounds; round++)
				test_race(ops, &cfg, round);
		if (!only || !strcmp(only, "steps")) {
			/* small: many chunk, leaf and growth boundaries */
			cfg.max_vcpus = 100;
			cfg.chunk_size = 8 << c;
			cfg.radix_bits = 4;
			test_steps(ops, &cfg);
		}
	}
	fprintf(stderr,
		"%s: done in %.1f s, %llu passes of which %llu raced the creator, %d failures so "
		"far\n",
		ops->name, (double)(now_ns() - t0) / 1e9, (unsigned long long)total_passes,
		(unsigned long long)total_racing, check_failures);
	total_passes = total_racing = 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: test_vcpu_array [--only steps|race|checks] [--rounds N] "
			"[--publish-delay-us US] [fixed|rcu|chunked|radix]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct vcpu_array_ops *ops;
	const char *only = NULL, *name = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--publish-delay-us") && i + 1 < argc)
			publish_delay_ns = strtoull(argv[++i], NULL, 10) * 1000;
		else if (!name && vcpu_array_find(argv[i]))
			name = argv[i];
		else
			return usage();
	}
	if (only && strcmp(only, "steps") && strcmp(only, "race") && strcmp(only, "checks"))
		return usage();
	if ((!only || !strcmp(only, "checks")) && (!name || !strcmp(name, "rcu")))
		test_checks_can_fail();
	vcpu_array_foreach (ops, i)
		if ((!name || !strcmp(name, ops->name)) && (!only || strcmp(only, "checks")))
			run_strategy(ops, only);
	if (check_failures) {
		printf("test_vcpu_array: %d failures\n", check_failures);
		return 1;
	}
	printf("test_vcpu_array: all passed\n");
	return 0;
}
