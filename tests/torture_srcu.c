/*
 * SRCU torture, after the kernel's rcutorture.
 *
 * Updaters each own a shared pointer to an element.  An updater replaces its
 * element with a fresh one, marks the old one removed (pipeline age 1),
 * waits a grace period (synchronize, expedited, or call_srcu), then ages it
 * to 2, poisons it and puts it back in the free pool for reuse.  Readers
 * follow a random pointer inside a read section, optionally delaying (spin,
 * yield or sleep; and between reading the index and incrementing its
 * counter), and check the element: a poisoned element, or one whose age
 * reached 2 while the reader held it (a grace period completed under the
 * reader), is a failure.  Legal ages are 0 (live) and 1 (removed, grace
 * period pending).
 *
 * --broken skips the grace period: the test must then report failures, and
 * with --expect-failures it passes only if it does (proof that it can fail).
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/rng.h"
#include "lib/util/timing.h"

static __thread uint64_t torture_rng;
static __thread bool torture_straggled; /* the last lock slept after the index */
static int torture_index_delay;		/* 1 in N lock calls delays after the index */

static inline uint64_t torture_random(void)
{
	return rng_next(&torture_rng);
}

/*
 * Between reading the index and incrementing: usually a yield, one time in
 * eight a sleep of up to a millisecond, long enough for several grace
 * periods to flip past the reader (a straggler on the inactive index); the
 * section that follows then sleeps too (reader_main), so that the next grace
 * periods have to wait for the straggler.
 */
static void torture_index_delay_hook(void)
{
	uint64_t r;

	if (!torture_index_delay || rng_below(&torture_rng, (uint64_t)torture_index_delay))
		return;
	r = torture_random();
	if (r % 8) {
		sched_yield();
	} else {
		sleep_ns(50000 + (r >> 8) % 950000);
		torture_straggled = true;
	}
}
#define SRCU_TORTURE_DELAY_AFTER_INDEX() torture_index_delay_hook()

#include "lib/srcu/srcu.h"

#define POOL_PER_UPDATER 8
#define ELEMENT_LIVE 0x1173
#define ELEMENT_POISON 0xdead

struct element {
	struct srcu_head head;
	atomic_int poison;    /* ELEMENT_LIVE or ELEMENT_POISON */
	atomic_int age;	      /* 0 live, 1 removed, 2 grace period done */
	atomic_ulong payload; /* id * 3 + 1 while live */
	unsigned long id;
	struct updater *owner;
	struct element *next_free;
};

struct updater {
	struct element *_Atomic current;
	pthread_mutex_t pool_lock; /* call_srcu callbacks return elements */
	struct element *free;
	struct element pool[POOL_PER_UPDATER];
	unsigned long replacements;
	pthread_t th;
};

enum retire_mode {
	RETIRE_SYNC,
	RETIRE_EXPEDITED,
	RETIRE_CALL
};

static struct srcu_struct domain;
static struct updater *updaters;
static int nupdaters = 2, nreaders = 8;
static enum retire_mode retire = RETIRE_SYNC;
static bool broken, delays = true;
/* relaxed, both: a stop flag and a count, read after pthread_join */
static atomic_int stop;
static atomic_ulong gp_errors; /* grace periods that returned an error */

struct reader_stats {
	unsigned long reads;
	unsigned long poisoned;
	unsigned long ages[4]; /* 0, 1, 2, >= 3 */
	pthread_t th;
	int index;
};

static void element_free(struct updater *u, struct element *e)
{
	pthread_mutex_lock(&u->pool_lock);
	e->next_free = u->free;
	u->free = e;
	pthread_mutex_unlock(&u->pool_lock);
}

static struct element *element_alloc(struct updater *u)
{
	struct element *e;

	for (;;) {
		pthread_mutex_lock(&u->pool_lock);
		e = u->free;
		if (e)
			u->free = e->next_free;
		pthread_mutex_unlock(&u->pool_lock);
		if (e)
			return e;
		/* every element is waiting for a callback */
		if (retire == RETIRE_CALL)
			srcu_barrier(&domain);
		else
			sched_yield();
	}
}

/* After the grace period: age the element, poison it, recycle it. */
static void element_retire(struct element *e)
{
	/* relaxed: the grace period orders these after every section that
	 * could see @e (broken mode has none: the readers must catch it) */
	atomic_store_explicit(&e->age, 2, memory_order_relaxed);
	atomic_store_explicit(&e->payload, 0, memory_order_relaxed);
	atomic_store_explicit(&e->poison, ELEMENT_POISON, memory_order_relaxed);
	element_free(e->owner, e);
}

static void element_retire_cb(struct srcu_head *h)
{
	element_retire((struct element *)h);
}

static void *updater_main(void *p)
{
	struct updater *u = p;
	static atomic_ulong ids;

	torture_rng = rng_seed((uintptr_t)u, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct element *n = element_alloc(u), *old;

		/* relaxed: published by the release exchange below */
		n->id = atomic_fetch_add_explicit(&ids, 1, memory_order_relaxed);
		atomic_store_explicit(&n->age, 0, memory_order_relaxed);
		atomic_store_explicit(&n->payload, n->id * 3 + 1, memory_order_relaxed);
		atomic_store_explicit(&n->poison, ELEMENT_LIVE, memory_order_relaxed);
		/* release: readers that load the new pointer (acquire) see it
		 * initialised; acquire: we own the old element's contents */
		old = atomic_exchange_explicit(&u->current, n, memory_order_acq_rel);
		atomic_store_explicit(&old->age, 1, memory_order_relaxed);
		u->replacements++;
		if (broken) {
			element_retire(old);
		} else if (retire == RETIRE_CALL) {
			if (call_srcu(&domain, &old->head, element_retire_cb))
				atomic_fetch_add_explicit(&gp_errors, 1, memory_order_relaxed);
		} else {
			int rc = retire == RETIRE_EXPEDITED ? synchronize_srcu_expedited(&domain)
							    : synchronize_srcu(&domain);

			/* a failed grace period leaves the element live, unretired */
			if (rc)
				atomic_fetch_add_explicit(&gp_errors, 1, memory_order_relaxed);
			else
				element_retire(old);
		}
		if (delays && torture_random() % 4 == 0)
			sleep_ns(torture_random() % 50000);
	}
	return NULL;
}

static void reader_delay(void)
{
	uint64_t r = torture_random() % 1000;

	if (r < 700)
		return;
	if (r < 950)
		spin_for_ns(torture_random() % 5000);
	else if (r < 995)
		sched_yield();
	else
		sleep_ns(torture_random() % 200000); /* a sleeping reader */
}

static void *reader_main(void *p)
{
	struct reader_stats *st = p;
	char name[32];
	struct srcu_reader *r;

	snprintf(name, sizeof(name), "torture-reader-%d", st->index);
	r = srcu_register_reader(&domain, name, NULL, 0);
	if (!r) {
		st->poisoned++; /* counted as a failure: the reader never ran */
		return NULL;
	}
	torture_rng = rng_seed((uint64_t)st->index, 2);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct updater *u = &updaters[torture_random() % (uint64_t)nupdaters];
		int idx = srcu_read_lock(r);
		/* acquire: pairs with the updater's publishing exchange */
		struct element *e = atomic_load_explicit(&u->current, memory_order_acquire);
		/* relaxed (e's fields): after the acquire above; a retire's
		 * stores are what the check wants to catch */
		int poison = atomic_load_explicit(&e->poison, memory_order_relaxed);
		unsigned long payload = atomic_load_explicit(&e->payload, memory_order_relaxed);
		int age;

		if (delays && torture_straggled)
			sleep_ns(100000 + torture_random() % 400000);
		else if (delays)
			reader_delay();
		torture_straggled = false;
		/* re-check after the delay: the element must still be intact */
		if (poison != ELEMENT_LIVE || payload != e->id * 3 + 1 ||
		    atomic_load_explicit(&e->poison, memory_order_relaxed) != ELEMENT_LIVE)
			st->poisoned++;
		age = atomic_load_explicit(&e->age, memory_order_relaxed);
		srcu_read_unlock(r, idx);
		st->ages[age > 3 ? 3 : age]++;
		st->reads++;
	}
	if (srcu_unregister_reader(r, NULL, 0))
		st->poisoned++;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: torture_srcu [-f mb|fast|classic] [-m sync|expedited|call] [-r READERS] "
		   "[-u UPDATERS]\n"
		   "                    [-d SECONDS] [-n] [-i N] [-x stop-cpus|membarrier]\n"
		   "                    [--broken --expect-failures]\n"
		   "  -f, --flavour       read-side flavour (default mb)\n"
		   "  -m, --retire        how updaters wait before poisoning (default sync)\n"
		   "  -r, --readers       reader threads (default 8, more than CPUs on purpose)\n"
		   "  -u, --updaters      updater threads (default 2)\n"
		   "  -d, --duration      seconds (default 3)\n"
		   "  -n, --no-delays     no delays injected\n"
		   "  -i, --index-delay N delay 1 of N read locks between index and increment "
		   "(default 64;\n"
		   "                      a yield, or one time in 8 a sleep of up to 1 ms)\n"
		   "  -x, --expedited     classic: the expedited sync_func (default stop-cpus)\n"
		   "      --broken        skip the grace period (the test must then fail)\n"
		   "      --expect-failures  exit 0 only if failures were seen\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "flavour", required_argument, NULL, 'f' },
					      { "retire", required_argument, NULL, 'm' },
					      { "readers", required_argument, NULL, 'r' },
					      { "updaters", required_argument, NULL, 'u' },
					      { "duration", required_argument, NULL, 'd' },
					      { "no-delays", no_argument, NULL, 'n' },
					      { "index-delay", required_argument, NULL, 'i' },
					      { "expedited", required_argument, NULL, 'x' },
					      { "broken", no_argument, NULL, 'B' },
					      { "expect-failures", no_argument, NULL, 'E' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct srcu_options o;
	struct reader_stats *rs;
	unsigned long reads = 0, poisoned = 0, ages[4] = { 0 }, repl = 0, failures, gp_failed;
	double seconds = 3;
	char err[256];
	bool expect_failures = false;
	int c;

	srcu_options_default(&o);
	o.name = "torture";
	torture_index_delay = 64;
	while ((c = getopt_long(argc, argv, "f:m:r:u:d:ni:x:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (srcu_flavour_parse(optarg) < 0) {
				fprintf(stderr, "torture_srcu: unknown flavour '%s'\n", optarg);
				return 2;
			}
			o.flavour = (enum srcu_flavour)srcu_flavour_parse(optarg);
			break;
		case 'm':
			retire = !strcmp(optarg, "call")	? RETIRE_CALL
				 : !strcmp(optarg, "expedited") ? RETIRE_EXPEDITED
								: RETIRE_SYNC;
			break;
		case 'r':
			nreaders = atoi(optarg);
			break;
		case 'u':
			nupdaters = atoi(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'n':
			delays = false;
			torture_index_delay = 0;
			break;
		case 'i':
			torture_index_delay = atoi(optarg);
			break;
		case 'x':
			if (srcu_expedited_parse(optarg) < 0) {
				fprintf(stderr, "torture_srcu: unknown expedited mechanism '%s'\n",
					optarg);
				return 2;
			}
			o.expedited = (enum srcu_expedited)srcu_expedited_parse(optarg);
			break;
		case 'B':
			broken = true;
			break;
		case 'E':
			expect_failures = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (nreaders < 1 || nupdaters < 1 || seconds <= 0) {
		fprintf(stderr, "torture_srcu: readers and updaters must be >= 1, duration > 0\n");
		return 2;
	}
	o.hz = 1000;
	if (srcu_init(&domain, &o, err, sizeof(err))) {
		fprintf(stderr, "torture_srcu: %s\n", err);
		return 1;
	}
	if (err[0])
		fprintf(stderr, "torture_srcu: %s\n", err);
	updaters = calloc((size_t)nupdaters, sizeof(*updaters));
	rs = calloc((size_t)nreaders, sizeof(*rs));
	for (int i = 0; i < nupdaters; i++) {
		struct updater *u = &updaters[i];

		pthread_mutex_init(&u->pool_lock, NULL);
		for (int k = 0; k < POOL_PER_UPDATER; k++) {
			u->pool[k].owner = u;
			atomic_init(&u->pool[k].poison, ELEMENT_POISON);
			if (k == 0)
				continue;
			u->pool[k].next_free = u->free;
			u->free = &u->pool[k];
		}
		u->pool[0].id = (unsigned long)-1 / 3 - (unsigned long)i;
		atomic_init(&u->pool[0].payload, u->pool[0].id * 3 + 1);
		atomic_init(&u->pool[0].poison, ELEMENT_LIVE);
		atomic_init(&u->current, &u->pool[0]);
	}
	for (int i = 0; i < nreaders; i++) {
		rs[i].index = i;
		pthread_create(&rs[i].th, NULL, reader_main, &rs[i]);
	}
	for (int i = 0; i < nupdaters; i++)
		pthread_create(&updaters[i].th, NULL, updater_main, &updaters[i]);
	sleep_ns((uint64_t)(seconds * 1e9));
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (int i = 0; i < nupdaters; i++)
		pthread_join(updaters[i].th, NULL);
	for (int i = 0; i < nreaders; i++) {
		pthread_join(rs[i].th, NULL);
		reads += rs[i].reads;
		poisoned += rs[i].poisoned;
		for (int a = 0; a < 4; a++)
			ages[a] += rs[i].ages[a];
	}
	if (srcu_barrier(&domain))
		poisoned++;
	for (int i = 0; i < nupdaters; i++)
		repl += updaters[i].replacements;

	/* seq_cst: read after the threads were joined; any order would do */
	gp_failed = atomic_load_explicit(&gp_errors, memory_order_seq_cst);
	failures = poisoned + ages[2] + ages[3] + gp_failed;
	printf("torture: flavour=%s retire=%s readers=%d updaters=%d delays=%s%s\n",
	       srcu_flavour_name(srcu_flavour_of(&domain)),
	       retire == RETIRE_CALL	    ? "call"
	       : retire == RETIRE_EXPEDITED ? "expedited"
					    : "sync",
	       nreaders, nupdaters, delays ? "on" : "off", broken ? " BROKEN" : "");
	if (srcu_flavour_of(&domain) == SRCU_FLAVOUR_CLASSIC)
		printf("torture: expedited=%s stoppers=%d priority=%s\n",
		       srcu_expedited_of(&domain), srcu_stopper_count(&domain),
		       srcu_stopper_priority(&domain));
	printf("torture: reads %lu, replacements %lu, grace periods %lu\n", reads, repl,
	       srcu_completed(&domain));
	printf("torture: ages 0:%lu 1:%lu 2:%lu >=3:%lu, poisoned reads %lu, failed grace periods "
	       "%lu\n",
	       ages[0], ages[1], ages[2], ages[3], poisoned, gp_failed);
	printf("torture: failures %lu\n", failures);
	if (srcu_destroy(&domain, err, sizeof(err)) != 0) {
		fprintf(stderr, "torture_srcu: %s\n", err);
		return 1;
	}
	for (int i = 0; i < nupdaters; i++)
		pthread_mutex_destroy(&updaters[i].pool_lock);
	free(updaters);
	free(rs);
	/* A run that read nothing or replaced nothing proves nothing. */
	if (reads == 0 || repl == 0) {
		printf("torture: FAIL: no reads or no replacements\n");
		return 1;
	}
	if (expect_failures) {
		printf("torture: %s (failures were expected)\n", failures ? "PASS" : "FAIL");
		return failures ? 0 : 1;
	}
	printf("torture: %s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
