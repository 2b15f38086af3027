/*
 * Unit tests of the SRCU core (lib/srcu), each for every flavour where it
 * applies: a grace period waits for a reader that started before it;
 * nesting; sleeping readers; concurrent synchronize callers share grace
 * periods; call_srcu order and srcu_barrier; registration during a grace
 * period; independent domains; the idle fast path; misuse reported as
 * errors; stall reports; the flavour names; membarrier missing at init
 * (fast becomes mb) and failing later (grace periods fail).
 *
 * Then one test per synchronization step, each opening its race window
 * every time with hooks (lib/srcu/srcu.h: the reader's index hook, the
 * updater's hook points, an emulated store buffer), so that the mutant
 * removing the step (tests/mutants.list) fails it deterministically:
 *   straggler   a reader delayed between reading the index and incrementing
 *               across a whole grace period, then inside on the inactive
 *               index (srcu_skip_straggler_wait, srcu_idle_one_index)
 *   scan-order  a straggler that locks and unlocks between the two sums of
 *               the old-index scan (srcu_sum_locks_first)
 *   idle-order  a reader that locks and unlocks between the two sums of the
 *               idle check (srcu_idle_lock_first)
 *   fence-a     the straggler's lock increment held in an emulated store
 *               buffer, which only a membarrier drains (srcu_skip_fence_a,
 *               srcu_classic_skip_sync1)
 *   share       a caller that arrives while a grace period that cannot
 *               cover it is running (srcu_share_running_gp,
 *               srcu_classic_share_one)
 *   reader      a reader inside during a grace period
 *               (srcu_skip_old_index_wait); call: callbacks wait for a
 *               reader (srcu_callback_skip_gp)
 *
 * usage: test_srcu [FLAVOUR|all [TEST]]   (TEST: a name above, or a unit
 * test's name without test_)
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- read-side hooks (before srcu.h) ---- */

/* A one-shot gate in srcu_read_lock between reading the index and
 * incrementing: the reader announces it is there and waits to be let go. */
struct gate {
	/* each a release store paired with the other thread's acquire load
	 * (test_index_hook, gated_reader_start, gate_open) */
	atomic_int at;
	atomic_int open;
};

static __thread struct gate *tl_gate;
/* This thread's lock increments go to the emulated store buffer. */
static __thread bool tl_defer;

static void test_index_hook(void);
static void test_lock_store(atomic_ulong *p, unsigned long v);
static void test_before_unlock(void);

#define SRCU_TORTURE_DELAY_AFTER_INDEX() test_index_hook()
#define SRCU_TEST_LOCK_STORE(p, v) test_lock_store((p), (v))
#define SRCU_TEST_BEFORE_UNLOCK(r) test_before_unlock()

#include "lib/srcu/srcu.h"
#include "lib/util/timing.h"
#include "tests/check.h"

static void test_index_hook(void)
{
	struct gate *g = tl_gate;

	if (!g)
		return;
	tl_gate = NULL;
	/* release/acquire: the test sees us at the gate after our index read
	 * (wait_flag); seq_cst is more than that needs, as the hooks' flags */
	atomic_store_explicit(&g->at, 1, memory_order_seq_cst);
	while (!atomic_load_explicit(&g->open, memory_order_acquire))
		sched_yield();
}

/*
 * The emulated store buffer.  x86 (TSO) lets a store wait in the store
 * buffer while later loads of the same thread go ahead: a fence-free
 * reader's lock increment may be invisible to the updater while its
 * section already reads the protected pointer.  Hardware drains it within
 * nanoseconds; the memory model lets it wait, until a fence in that thread,
 * the thread's next store (TSO keeps stores in order), or a membarrier.
 * Here a deferring thread's increment waits in this buffer until its own
 * unlock or until the test's membarrier hook drains every entry.
 */
#define SB_MAX 8
static pthread_mutex_t sb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	atomic_ulong *p;
	unsigned long v;
	pthread_t owner;
} sb[SB_MAX];
static int sb_n;

/* relaxed stores: what srcu_read_lock's own increment is (srcu.h) */
static void test_lock_store(atomic_ulong *p, unsigned long v)
{
	if (!tl_defer) {
		atomic_store_explicit(p, v, memory_order_relaxed);
		return;
	}
	pthread_mutex_lock(&sb_lock);
	if (sb_n < SB_MAX) {
		sb[sb_n].p = p;
		sb[sb_n].v = v;
		sb[sb_n].owner = pthread_self();
		sb_n++;
	} else {
		atomic_store_explicit(p, v, memory_order_relaxed);
	}
	pthread_mutex_unlock(&sb_lock);
}

static void sb_drain(bool all)
{
	pthread_mutex_lock(&sb_lock);
	for (int i = 0; i < sb_n;) {
		if (all || pthread_equal(sb[i].owner, pthread_self())) {
			atomic_store_explicit(sb[i].p, sb[i].v, memory_order_relaxed);
			sb[i] = sb[--sb_n];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&sb_lock);
}

static void test_before_unlock(void)
{
	if (tl_defer)
		sb_drain(false);
}

/* ---- the updater-side hooks ---- */

enum mb_mode {
	MB_REAL,
	MB_FAIL_INIT,
	MB_NO_GLOBAL,
	MB_FAIL_LATER
};

/* The test's own flags below are seq_cst: they sequence the test's threads,
 * and none of them is the ordering under test. */
struct hooks {
	struct srcu_test_hooks h;
	enum mb_mode mode;
	atomic_int armed; /* MB_FAIL_LATER: fail from now on */
	/* SRCU_HOOK_SCAN_MID at this index (-1: the idle check): run @pulse
	 * once, then go on */
	int scan_idx;
	void (*pulse)(void *arg);
	void *pulse_arg;
	atomic_int scan_fired;
	atomic_int snapshots; /* SRCU_HOOK_SNAPSHOT calls */
};

static int hook_membarrier(void *arg, int cmd)
{
	struct hooks *k = arg;

	switch (cmd) {
	case MEMBARRIER_CMD_QUERY: {
		int mask = (int)syscall(SYS_membarrier, cmd, 0, 0);

		return k->mode == MB_NO_GLOBAL && mask > 0 ? mask & ~MEMBARRIER_CMD_GLOBAL : mask;
	}
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
		if (k->mode == MB_FAIL_INIT) {
			errno = EPERM;
			return -1;
		}
		return (int)syscall(SYS_membarrier, cmd, 0, 0);
	default:
		if (k->mode == MB_FAIL_LATER &&
		    atomic_load_explicit(&k->armed, memory_order_seq_cst)) {
			errno = EPERM;
			return -1;
		}
		/* a membarrier orders every thread: the store buffer drains */
		sb_drain(true);
		/* GLOBAL's cost (a synchronize_rcu) is not what these tests
		 * are about: the expedited command orders the same threads */
		return (int)syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	}
}

static void hook_at(void *arg, struct srcu_struct *sp, enum srcu_hook_point where, int idx)
{
	struct hooks *k = arg;

	(void)sp;
	if (where == SRCU_HOOK_SNAPSHOT)
		atomic_fetch_add_explicit(&k->snapshots, 1, memory_order_seq_cst);
	if (where == SRCU_HOOK_SCAN_MID && k->pulse && idx == k->scan_idx &&
	    !atomic_exchange_explicit(&k->scan_fired, 1, memory_order_seq_cst))
		k->pulse(k->pulse_arg);
}

static void hooks_init(struct hooks *k, enum mb_mode mode)
{
	memset(k, 0, sizeof(*k));
	k->h.at = hook_at;
	k->h.membarrier = hook_membarrier;
	k->h.arg = k;
	k->mode = mode;
	k->scan_idx = -2;
}

/* ---- domains ---- */

struct reports {
	pthread_mutex_t lock;
	int n;
	char last[1024];
};

static void collect_report(void *arg, const char *line)
{
	struct reports *r = arg;

	pthread_mutex_lock(&r->lock);
	r->n++;
	snprintf(r->last, sizeof(r->last), "%s", line);
	pthread_mutex_unlock(&r->lock);
}

static void domain_options(struct srcu_options *o, enum srcu_flavour f, bool idle_path)
{
	srcu_options_default(o);
	o->flavour = f;
	o->idle_fast_path = idle_path;
	o->hz = 1000;
	o->name = "test";
}

static void init_domain(struct srcu_struct *sp, enum srcu_flavour f, bool idle_path)
{
	struct srcu_options o;
	char err[256];

	domain_options(&o, f, idle_path);
	CHECK(srcu_init(sp, &o, err, sizeof(err)) == 0);
	CHECK(err[0] == 0);
	CHECK(srcu_flavour_of(sp) == f);
}

static void init_hooked(struct srcu_struct *sp, enum srcu_flavour f, bool idle_path,
			struct hooks *k)
{
	struct srcu_options o;

	domain_options(&o, f, idle_path);
	o.test = &k->h;
	CHECK(srcu_init(sp, &o, NULL, 0) == 0);
}

static void destroy_domain(struct srcu_struct *sp)
{
	char err[256];

	CHECK(srcu_barrier(sp) == 0);
	CHECK(srcu_destroy(sp, err, sizeof(err)) == 0);
}

static int current_index(struct srcu_struct *sp)
{
	/* seq_cst: as the hooks' flags (the test's sequencing, not the order
	 * under test; srcu_flip's store is relaxed) */
	return (int)(atomic_load_explicit(&sp->idx, memory_order_seq_cst) & 1u);
}

static void wait_flipped(struct srcu_struct *sp, int from)
{
	while (current_index(sp) == from)
		sched_yield();
}

/* ---- reader threads ---- */

/* A reader thread whose read section the test opens and closes. */
struct held_reader {
	struct srcu_struct *sp;
	int nest;	   /* read sections to nest */
	bool sleep_inside; /* sleep (not spin) while held */
	bool defer;	   /* lock increments to the store buffer */
	bool pulse;	   /* lock and unlock at once, no hold */
	struct gate gate;  /* armed: wait at the index hook */
	bool gated;
	/* Handshake flags: release stores, paired with the other side's
	 * acquire loads (wait_flag, held_reader_main, sync_call_main). */
	atomic_int entered;  /* set once inside */
	atomic_int release;  /* the test sets it to leave */
	atomic_int left;     /* set just before the last unlock */
	atomic_int unlocked; /* set just after it */
	pthread_t th;
};

static void *held_reader_main(void *p)
{
	struct held_reader *h = p;
	struct srcu_reader *r = srcu_register_reader(h->sp, "held", NULL, 0);
	int idx[8];

	CHECK(r != NULL);
	tl_gate = h->gated ? &h->gate : NULL;
	tl_defer = h->defer;
	for (int i = 0; i < h->nest; i++)
		idx[i] = srcu_read_lock(r);
	atomic_store_explicit(&h->entered, 1, memory_order_release);
	while (!h->pulse && !atomic_load_explicit(&h->release, memory_order_acquire)) {
		if (h->sleep_inside)
			sleep_ns(1000000);
		else
			sched_yield();
	}
	for (int i = h->nest - 1; i > 0; i--)
		srcu_read_unlock(r, idx[i]);
	/* Still inside the outermost section: a grace period that returns
	 * before the next line has not waited for us. */
	atomic_store_explicit(&h->left, 1, memory_order_release);
	srcu_read_unlock(r, idx[0]);
	atomic_store_explicit(&h->unlocked, 1, memory_order_release);
	CHECK(srcu_unregister_reader(r, NULL, 0) == 0);
	return NULL;
}

static void held_reader_spawn(struct held_reader *h, struct srcu_struct *sp, int nest,
			      bool sleep_inside)
{
	memset(h, 0, sizeof(*h));
	h->sp = sp;
	h->nest = nest;
	h->sleep_inside = sleep_inside;
}

static void held_reader_go(struct held_reader *h)
{
	pthread_create(&h->th, NULL, held_reader_main, h);
}

static void wait_flag(atomic_int *f)
{
	while (!atomic_load_explicit(f, memory_order_acquire))
		sched_yield();
}

static void held_reader_start(struct held_reader *h, struct srcu_struct *sp, int nest,
			      bool sleep_inside)
{
	held_reader_spawn(h, sp, nest, sleep_inside);
	held_reader_go(h);
	wait_flag(&h->entered);
}

/* A reader stopped at the gate, having read the index. */
static void gated_reader_start(struct held_reader *h, struct srcu_struct *sp, bool defer,
			       bool pulse)
{
	held_reader_spawn(h, sp, 1, false);
	h->gated = true;
	h->defer = defer;
	h->pulse = pulse;
	held_reader_go(h);
	wait_flag(&h->gate.at);
}

static void gate_open(struct held_reader *h)
{
	atomic_store_explicit(&h->gate.open, 1, memory_order_release);
}

static void held_reader_finish(struct held_reader *h)
{
	atomic_store_explicit(&h->release, 1, memory_order_release);
	pthread_join(h->th, NULL);
}

struct sync_call {
	struct srcu_struct *sp;
	bool expedited;
	struct held_reader *watch; /* must have left when we return */
	atomic_int done; /* release in sync_call_main, acquire by the test */
	int rc;
	int reader_had_left;
	pthread_t th;
};

static void *sync_call_main(void *p)
{
	struct sync_call *c = p;

	c->rc = c->expedited ? synchronize_srcu_expedited(c->sp) : synchronize_srcu(c->sp);
	/* acquire: pairs with the reader's release of left, made before its
	 * last unlock, whose release the grace period's scan acquired */
	c->reader_had_left =
		c->watch ? atomic_load_explicit(&c->watch->left, memory_order_acquire) : 1;
	atomic_store_explicit(&c->done, 1, memory_order_release);
	return NULL;
}

static void sync_call_start(struct sync_call *c, struct srcu_struct *sp, bool expedited,
			    struct held_reader *watch)
{
	c->sp = sp;
	c->expedited = expedited;
	c->watch = watch;
	atomic_init(&c->done, 0);
	pthread_create(&c->th, NULL, sync_call_main, c);
}

/* @c must still wait for its watched reader; then let the reader go and
 * check that @c returned after it left. */
static void expect_waits(struct sync_call *c, struct held_reader *h)
{
	sleep_ns(50 * 1000000ull);
	CHECKF(!atomic_load_explicit(&c->done, memory_order_acquire),
	       "the grace period returned while a reader that began before it was inside");
	held_reader_finish(h);
	pthread_join(c->th, NULL);
	CHECK(c->rc == 0);
	CHECK(c->reader_had_left == 1);
}

/* ---- unit tests ---- */

/* The grace period must not return while a reader that began before it is
 * inside, whether that reader spins or sleeps, at any nesting depth. */
static void test_gp_waits_for_reader(enum srcu_flavour f, bool expedited, bool idle_path, int nest,
				     bool sleep_inside)
{
	struct srcu_struct sp;
	struct held_reader h;
	struct sync_call c;

	init_domain(&sp, f, idle_path);
	held_reader_start(&h, &sp, nest, sleep_inside);
	sync_call_start(&c, &sp, expedited, &h);
	expect_waits(&c, &h);
	destroy_domain(&sp);
}

static void test_reader(enum srcu_flavour f)
{
	for (int exp = 0; exp < 2; exp++)
		for (int idle = 0; idle < 2; idle++) {
			RUN(test_gp_waits_for_reader, f, exp, idle, 1, false);
			RUN(test_gp_waits_for_reader, f, exp, idle, 3, false);
			RUN(test_gp_waits_for_reader, f, exp, idle, 1, true);
		}
}

static void test_nesting_state(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_reader *r;
	int a, b;

	init_domain(&sp, f, true);
	r = srcu_register_reader(&sp, "nest", NULL, 0);
	CHECK(r != NULL);
	CHECK(!srcu_reader_active(r));
	a = srcu_read_lock(r);
	b = srcu_read_lock(r);
	CHECK(srcu_reader_active(r));
	srcu_read_unlock(r, b);
	CHECK(srcu_reader_active(r));
	srcu_read_unlock(r, a);
	CHECK(!srcu_reader_active(r));
	CHECK(synchronize_srcu(&sp) == 0);
	CHECK(srcu_unregister_reader(r, NULL, 0) == 0);
	destroy_domain(&sp);
}

/* N callers that arrive while one grace period is held open by a reader
 * share the next grace period instead of running N of them. */
static void test_concurrent_callers_share(enum srcu_flavour f)
{
	enum {
		CALLERS = 4
	};
	struct srcu_struct sp;
	struct held_reader h;
	struct sync_call first, c[CALLERS];
	struct srcu_stats st;

	init_domain(&sp, f, false);
	held_reader_start(&h, &sp, 1, false);
	sync_call_start(&first, &sp, false, &h);
	/* wait until the first grace period is running (odd sequence);
	 * acquire as srcu_covered, though the odd store it waits for is
	 * relaxed: only the value matters here */
	while (!(atomic_load_explicit(&sp.gp_seq, memory_order_acquire) & 1))
		sched_yield();
	for (int i = 0; i < CALLERS; i++)
		sync_call_start(&c[i], &sp, i & 1, &h);
	/* they snapshot the sequence, then queue on the grace-period mutex */
	sleep_ns(200 * 1000000ull);
	held_reader_finish(&h);
	pthread_join(first.th, NULL);
	for (int i = 0; i < CALLERS; i++) {
		pthread_join(c[i].th, NULL);
		CHECK(c[i].rc == 0);
		CHECK(c[i].reader_had_left == 1);
	}
	srcu_get_stats(&sp, &st);
	/* the first grace period, then one for all callers that came later */
	CHECK(st.gp_full + st.gp_idle == 2);
	CHECK(st.gp_shared == CALLERS - 1);
	destroy_domain(&sp);
}

/* Many threads calling synchronize at once while readers churn: everyone
 * returns, and fewer grace periods run than were asked for. */
struct churn {
	struct srcu_struct *sp;
	int calls;
	atomic_int stop; /* release by the test, acquire by the threads */
};

static void *churn_reader(void *p)
{
	struct churn *ch = p;
	struct srcu_reader *r = srcu_register_reader(ch->sp, "churn", NULL, 0);

	while (!atomic_load_explicit(&ch->stop, memory_order_acquire)) {
		int idx = srcu_read_lock(r);
		for (int i = 0; i < 100; i++)
			cpu_relax();
		srcu_read_unlock(r, idx);
	}
	srcu_unregister_reader(r, NULL, 0);
	return NULL;
}

static void *churn_syncer(void *p)
{
	struct churn *ch = p;

	for (int i = 0; i < ch->calls; i++)
		CHECK((i & 1 ? synchronize_srcu_expedited(ch->sp) : synchronize_srcu(ch->sp)) == 0);
	return NULL;
}

static void test_many_callers(enum srcu_flavour f)
{
	struct srcu_struct sp;
	/* classic's normal grace period is three membarrier(GLOBAL) calls */
	struct churn ch = { .sp = &sp, .calls = f == SRCU_FLAVOUR_CLASSIC ? 4 : 30 };
	pthread_t rd[3], sy[6];
	struct srcu_stats st;

	init_domain(&sp, f, true);
	atomic_init(&ch.stop, 0);
	for (int i = 0; i < 3; i++)
		pthread_create(&rd[i], NULL, churn_reader, &ch);
	for (int i = 0; i < 6; i++)
		pthread_create(&sy[i], NULL, churn_syncer, &ch);
	for (int i = 0; i < 6; i++)
		pthread_join(sy[i], NULL);
	atomic_store_explicit(&ch.stop, 1, memory_order_release);
	for (int i = 0; i < 3; i++)
		pthread_join(rd[i], NULL);
	srcu_get_stats(&sp, &st);
	CHECK(st.gp_full + st.gp_idle + st.gp_shared == 6 * (uint64_t)ch.calls);
	CHECK(st.gp_full + st.gp_idle <= 6 * (uint64_t)ch.calls);
	destroy_domain(&sp);
}

/* call_srcu: callbacks run after a grace period, in queue order, and
 * srcu_barrier waits for all of them. */
struct order_cb {
	struct srcu_head head;
	int id;
};
static int order_seen[2000];
static atomic_int order_n; /* relaxed: callbacks run on one thread */

static void order_cb_fn(struct srcu_head *h)
{
	struct order_cb *c = (struct order_cb *)h;
	int n = atomic_fetch_add_explicit(&order_n, 1, memory_order_relaxed);

	order_seen[n] = c->id;
}

static void test_call_srcu_order_barrier(enum srcu_flavour f)
{
	enum {
		N = 2000
	};
	struct srcu_struct sp;
	struct held_reader h;
	struct order_cb *cbs = calloc(N, sizeof(*cbs));

	CHECK(cbs != NULL);
	init_domain(&sp, f, true);
	atomic_init(&order_n, 0);
	held_reader_start(&h, &sp, 1, false);
	for (int i = 0; i < N; i++) {
		cbs[i].id = i;
		CHECK(call_srcu(&sp, &cbs[i].head, order_cb_fn) == 0);
		if (i == N / 2)
			sched_yield();
	}
	sleep_ns(30 * 1000000ull);
	/* the reader began before every call_srcu: nothing may have run */
	CHECK(atomic_load_explicit(&order_n, memory_order_relaxed) == 0);
	held_reader_finish(&h);
	CHECK(srcu_barrier(&sp) == 0);
	CHECK(atomic_load_explicit(&order_n, memory_order_relaxed) == N);
	for (int i = 0; i < N; i++)
		CHECK(order_seen[i] == i);
	destroy_domain(&sp);
	free(cbs);
}

/* Readers register, read and unregister while a grace period waits for
 * another reader: nothing deadlocks, the grace period still waits. */
static void *register_churn(void *p)
{
	struct churn *ch = p;

	while (!atomic_load_explicit(&ch->stop, memory_order_acquire)) {
		struct srcu_reader *r = srcu_register_reader(ch->sp, "regchurn", NULL, 0);
		int idx = srcu_read_lock(r);

		srcu_read_unlock(r, idx);
		CHECK(srcu_unregister_reader(r, NULL, 0) == 0);
	}
	return NULL;
}

static void test_register_during_gp(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct churn ch = { .sp = &sp };
	struct held_reader h;
	struct sync_call c;
	pthread_t t[2];

	init_domain(&sp, f, true);
	atomic_init(&ch.stop, 0);
	held_reader_start(&h, &sp, 1, false);
	sync_call_start(&c, &sp, true, &h);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, register_churn, &ch);
	expect_waits(&c, &h);
	atomic_store_explicit(&ch.stop, 1, memory_order_release);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	destroy_domain(&sp);
}

/* Two domains are independent: a reader of one does not hold up the
 * other's grace periods. */
static void test_two_domains(enum srcu_flavour f)
{
	struct srcu_struct a, b;
	struct held_reader h;
	struct sync_call ca;

	init_domain(&a, f, false);
	init_domain(&b, f, false);
	held_reader_start(&h, &a, 1, false);
	CHECK(synchronize_srcu(&b) == 0);
	CHECK(synchronize_srcu_expedited(&b) == 0);
	sync_call_start(&ca, &a, false, &h);
	expect_waits(&ca, &h);
	destroy_domain(&a);
	destroy_domain(&b);
}

/* With the idle fast path, a grace period with no reader inside returns
 * without flipping; without it, it flips.  classic has none. */
static void test_idle_fast_path(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_reader *r;
	struct srcu_stats st;
	unsigned idx0;

	init_domain(&sp, f, true);
	r = srcu_register_reader(&sp, "idle", NULL, 0);
	/* seq_cst (idx loads here): as current_index; no grace period runs */
	idx0 = atomic_load_explicit(&sp.idx, memory_order_seq_cst);
	CHECK(synchronize_srcu(&sp) == 0);
	srcu_get_stats(&sp, &st);
	if (f == SRCU_FLAVOUR_CLASSIC) {
		CHECK(st.gp_idle == 0 && st.gp_full == 1);
		CHECK(atomic_load_explicit(&sp.idx, memory_order_seq_cst) != idx0);
	} else {
		CHECK(st.gp_idle == 1 && st.gp_full == 0);
		CHECK(atomic_load_explicit(&sp.idx, memory_order_seq_cst) == idx0);
	}
	srcu_unregister_reader(r, NULL, 0);
	destroy_domain(&sp);

	init_domain(&sp, f, false);
	r = srcu_register_reader(&sp, "idle", NULL, 0);
	CHECK(synchronize_srcu_expedited(&sp) == 0);
	srcu_get_stats(&sp, &st);
	CHECK(st.gp_idle == 0 && st.gp_full == 1);
	CHECK(atomic_load_explicit(&sp.idx, memory_order_seq_cst) != idx0);
	CHECK(srcu_completed(&sp) == 1);
	srcu_unregister_reader(r, NULL, 0);
	destroy_domain(&sp);
}

struct other_thread_unregister {
	struct srcu_reader *r;
	int rc;
	char err[256];
};

static void *unregister_from_elsewhere(void *p)
{
	struct other_thread_unregister *u = p;

	u->rc = srcu_unregister_reader(u->r, u->err, sizeof(u->err));
	return NULL;
}

/* Misuse is reported, not undefined: synchronize inside a read section of
 * the same domain, register twice, unregister inside a section or from
 * another thread, destroy with readers. */
static void test_misuse(enum srcu_flavour f)
{
	struct srcu_struct sp, other;
	struct srcu_reader *r;
	struct other_thread_unregister u;
	pthread_t t;
	char err[256];
	int idx;

	init_domain(&sp, f, true);
	init_domain(&other, f, true);
	r = srcu_register_reader(&sp, "misuse", NULL, 0);
	CHECK(srcu_register_reader(&sp, "twice", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "registered twice") != NULL);
	idx = srcu_read_lock(r);
	CHECK(synchronize_srcu(&sp) == -EDEADLK);
	CHECK(synchronize_srcu_expedited(&sp) == -EDEADLK);
	/* another domain's grace period is fine from inside this one's */
	CHECK(synchronize_srcu(&other) == 0);
	CHECK(srcu_unregister_reader(r, err, sizeof(err)) == -EBUSY);
	CHECK(strstr(err, "inside a read section") != NULL);
	CHECK(srcu_destroy(&sp, err, sizeof(err)) == -EBUSY);
	CHECK(strstr(err, "1 inside a read section") != NULL);
	srcu_read_unlock(r, idx);
	CHECK(srcu_destroy(&sp, err, sizeof(err)) == -EBUSY); /* still registered */
	CHECK(strstr(err, "1 reader(s) still registered") != NULL);
	u.r = r;
	pthread_create(&t, NULL, unregister_from_elsewhere, &u);
	pthread_join(t, NULL);
	CHECK(u.rc == -EPERM && strstr(u.err, "unregistered by thread") != NULL);
	CHECK(srcu_unregister_reader(r, NULL, 0) == 0);
	destroy_domain(&sp);
	destroy_domain(&other);
}

/* A stall report names the reader still inside, once, to the callback. */
static void test_stall_report(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_options o;
	struct held_reader h;
	struct sync_call c;
	struct srcu_stats st;
	struct reports rep = { .lock = PTHREAD_MUTEX_INITIALIZER };

	domain_options(&o, f, true);
	o.stall_timeout_ns = 20 * 1000000ull;
	o.name = "stalltest";
	o.report = collect_report;
	o.report_arg = &rep;
	CHECK(srcu_init(&sp, &o, NULL, 0) == 0);
	held_reader_start(&h, &sp, 1, true);
	sync_call_start(&c, &sp, false, &h);
	sleep_ns(150 * 1000000ull);
	held_reader_finish(&h);
	pthread_join(c.th, NULL);
	srcu_get_stats(&sp, &st);
	CHECK(st.stalls == 1);
	CHECK(rep.n == 1);
	CHECK(strstr(rep.last, "stall") && strstr(rep.last, "stalltest") &&
	      strstr(rep.last, "held(tid"));
	destroy_domain(&sp);
}

static void test_flavour_names(enum srcu_flavour f)
{
	CHECK(srcu_flavour_parse(srcu_flavour_name(f)) == (int)f);
	CHECK(srcu_flavour_names[f] == srcu_flavour_name(f));
	CHECK(srcu_flavour_parse("classic") == SRCU_FLAVOUR_CLASSIC);
	CHECK(srcu_flavour_parse("mb") == SRCU_FLAVOUR_MB);
	CHECK(srcu_flavour_parse("fast") == SRCU_FLAVOUR_FAST);
	CHECK(srcu_flavour_parse("nope") == -1 && srcu_flavour_parse(NULL) == -1);
	CHECK(srcu_flavour_names[SRCU_FLAVOUR_COUNT] == NULL);
}

/* classic's expedited sync_func: the names, the default (stop-cpus, one
 * stopper per CPU this process may use, joined at destroy), the
 * membarrier alone (no stoppers), and none for mb and fast; an expedited
 * grace period runs either way. */
static void test_expedited_mechanisms(enum srcu_flavour f)
{
	struct srcu_options o;
	struct srcu_struct sp;
	char err[256];

	CHECK(srcu_expedited_parse("stop-cpus") == SRCU_EXPEDITED_STOP_CPUS);
	CHECK(srcu_expedited_parse("membarrier") == SRCU_EXPEDITED_MEMBARRIER);
	CHECK(srcu_expedited_parse("nope") == -1 && srcu_expedited_parse(NULL) == -1);
	CHECK(srcu_expedited_names[SRCU_EXPEDITED_COUNT] == NULL);
	for (int m = 0; m < SRCU_EXPEDITED_COUNT; m++) {
		bool stop = f == SRCU_FLAVOUR_CLASSIC && m == SRCU_EXPEDITED_STOP_CPUS;

		domain_options(&o, f, true);
		CHECK(o.expedited == SRCU_EXPEDITED_STOP_CPUS);
		o.expedited = (enum srcu_expedited)m;
		CHECK(srcu_init(&sp, &o, err, sizeof(err)) == 0);
		CHECK(!strcmp(srcu_expedited_of(&sp),
			      f == SRCU_FLAVOUR_CLASSIC ? srcu_expedited_names[m] : "none"));
		CHECK(stop ? srcu_stopper_count(&sp) >= 1 : srcu_stopper_count(&sp) == 0);
		CHECK(stop ? strcmp(srcu_stopper_priority(&sp), "none") != 0
			   : !strcmp(srcu_stopper_priority(&sp), "none"));
		CHECK(synchronize_srcu_expedited(&sp) == 0);
		CHECK(synchronize_srcu_expedited(&sp) == 0);
		destroy_domain(&sp);
	}
}

/* membarrier missing at srcu_init: fast becomes mb (and says so), classic
 * refuses; both decided before any reader exists. */
static void test_membarrier_at_init(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_options o;
	struct hooks k;
	char err[256];
	int rc;

	hooks_init(&k, f == SRCU_FLAVOUR_CLASSIC ? MB_NO_GLOBAL : MB_FAIL_INIT);
	domain_options(&o, f, true);
	o.test = &k.h;
	rc = srcu_init(&sp, &o, err, sizeof(err));
	if (f == SRCU_FLAVOUR_CLASSIC) {
		CHECK(rc == -ENOSYS && strstr(err, "MEMBARRIER_CMD_GLOBAL"));
		return;
	}
	CHECK(rc == 0);
	if (f == SRCU_FLAVOUR_FAST) {
		CHECK(srcu_flavour_of(&sp) == SRCU_FLAVOUR_MB);
		CHECK(strstr(err, "uses the mb flavour") != NULL);
		/* seq_cst: as current_index */
		CHECK(atomic_load_explicit(&sp.idx, memory_order_seq_cst) & SRCU_IDX_FENCED);
	} else {
		CHECK(err[0] == 0);
	}
	CHECK(synchronize_srcu(&sp) == 0);
	destroy_domain(&sp);
}

/* seq_cst, as the hooks' flags; srcu_barrier and srcu_destroy order it */
static atomic_int late_cb_ran;

static void late_cb(struct srcu_head *h)
{
	(void)h;
	atomic_store_explicit(&late_cb_ran, 1, memory_order_seq_cst);
}

/* membarrier failing after srcu_init: no unsound grace period, ever. */
static void test_membarrier_later(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_options o;
	struct srcu_head head;
	struct hooks k;
	struct reports rep = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char err[256];

	hooks_init(&k, MB_FAIL_LATER);
	domain_options(&o, f, true);
	o.test = &k.h;
	o.report = collect_report;
	o.report_arg = &rep;
	CHECK(srcu_init(&sp, &o, NULL, 0) == 0);
	CHECK(synchronize_srcu(&sp) == 0);
	atomic_store_explicit(&k.armed, 1, memory_order_seq_cst);
	atomic_init(&late_cb_ran, 0);
	/* queued, then its grace period fails: never invoked */
	CHECK(call_srcu(&sp, &head, late_cb) == 0);
	CHECK(srcu_barrier(&sp) == -EPERM);
	CHECK(!atomic_load_explicit(&late_cb_ran, memory_order_seq_cst));
	CHECK(synchronize_srcu(&sp) == -EPERM);
	CHECK(synchronize_srcu_expedited(&sp) == -EPERM);
	CHECK(call_srcu(&sp, &head, late_cb) == -EPERM);
	CHECK(srcu_failed(&sp) == -EPERM);
	CHECK(rep.n == 1 && strstr(rep.last, "membarrier") != NULL);
	CHECK(srcu_destroy(&sp, err, sizeof(err)) == 0);
	CHECK(strstr(err, "never invoked") != NULL);
	CHECK(!atomic_load_explicit(&late_cb_ran, memory_order_seq_cst));
}

/* The mb flavour has no membarrier to fail. */
static void test_membarrier(enum srcu_flavour f)
{
	RUN(test_membarrier_at_init, f);
	if (f != SRCU_FLAVOUR_MB)
		RUN(test_membarrier_later, f);
}

/* ---- one test per step ---- */

/*
 * Z holds index 0 through a first grace period, which flips to 1 and waits
 * for it; X read index 0 before that flip and increments only after it (a
 * straggler on the inactive index).  A second grace period must wait for X.
 */
static void straggler_setup(struct srcu_struct *sp, struct held_reader *x, bool defer)
{
	struct held_reader z;
	struct sync_call gp1;

	held_reader_start(&z, sp, 1, false);
	gated_reader_start(x, sp, defer, false);
	sync_call_start(&gp1, sp, false, NULL);
	wait_flipped(sp, 0);
	held_reader_finish(&z);
	pthread_join(gp1.th, NULL);
	CHECK(gp1.rc == 0);
	gate_open(x);
	wait_flag(&x->entered);
}

static void test_straggler_one(enum srcu_flavour f, bool idle_path, bool expedited)
{
	struct srcu_struct sp;
	struct held_reader x;
	struct sync_call gp2;

	init_domain(&sp, f, idle_path);
	straggler_setup(&sp, &x, false);
	sync_call_start(&gp2, &sp, expedited, &x);
	expect_waits(&gp2, &x);
	destroy_domain(&sp);
}

static void test_straggler(enum srcu_flavour f)
{
	for (int idle = 0; idle < 2; idle++)
		for (int exp = 0; exp < 2; exp++)
			RUN(test_straggler_one, f, idle, exp);
}

static void pulse_reader(void *arg)
{
	struct held_reader *y = arg;

	gate_open(y);
	wait_flag(&y->unlocked);
}

/*
 * X is inside index 0; Y read index 0 before the flip and, between the two
 * sums of the old-index scan, locks and unlocks it.  Summing locks first
 * would count Y's unlock and miss X's.
 */
static void test_scan_order(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct held_reader x, y;
	struct sync_call gp;
	struct hooks k;

	hooks_init(&k, MB_REAL);
	init_hooked(&sp, f, false, &k);
	held_reader_start(&x, &sp, 1, false);
	gated_reader_start(&y, &sp, false, true);
	k.scan_idx = 0;
	k.pulse = pulse_reader;
	k.pulse_arg = &y;
	sync_call_start(&gp, &sp, true, &x);
	expect_waits(&gp, &x);
	CHECK(atomic_load_explicit(&k.scan_fired, memory_order_seq_cst));
	pthread_join(y.th, NULL);
	destroy_domain(&sp);
}

/* The idle check: X is inside; Y locks and unlocks between its sums. */
static void test_idle_order(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct held_reader x, y;
	struct sync_call gp;
	struct hooks k;

	hooks_init(&k, MB_REAL);
	init_hooked(&sp, f, true, &k);
	held_reader_start(&x, &sp, 1, false);
	gated_reader_start(&y, &sp, false, true);
	k.scan_idx = -1;
	k.pulse = pulse_reader;
	k.pulse_arg = &y;
	sync_call_start(&gp, &sp, true, &x);
	expect_waits(&gp, &x);
	CHECK(atomic_load_explicit(&k.scan_fired, memory_order_seq_cst));
	pthread_join(y.th, NULL);
	destroy_domain(&sp);
}

/*
 * Fence A: the reader's lock increment waits in the (emulated) store
 * buffer, which only a membarrier drains, while its section runs.  Without
 * a fence before the grace period's first lock sum, the scans miss it.
 * The straggler case needs the fence before the straggler scan; the plain
 * case (fast) any fence before a scan.
 */
static void test_fence_a_one(enum srcu_flavour f, bool straggler, bool idle_path)
{
	struct srcu_struct sp;
	struct held_reader x;
	struct sync_call gp;
	struct hooks k;

	hooks_init(&k, MB_REAL);
	init_hooked(&sp, f, idle_path, &k);
	if (straggler) {
		straggler_setup(&sp, &x, true);
	} else {
		held_reader_spawn(&x, &sp, 1, false);
		x.defer = true;
		held_reader_go(&x);
		wait_flag(&x.entered);
	}
	sync_call_start(&gp, &sp, false, &x);
	expect_waits(&gp, &x);
	destroy_domain(&sp);
}

static void test_fence_a(enum srcu_flavour f)
{
	if (f == SRCU_FLAVOUR_MB)
		return; /* its readers fence themselves: no store waits */
	for (int idle = 0; idle < 2; idle++) {
		RUN(test_fence_a_one, f, true, idle);
		if (f == SRCU_FLAVOUR_FAST)
			RUN(test_fence_a_one, f, false, idle);
	}
}

/*
 * Z holds index 0 through a grace period that has flipped; X enters the
 * new index; a caller arrives then.  The running grace period does not
 * wait for X, so the caller must not take its end for its own.
 */
static void test_share(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct held_reader z, x;
	struct sync_call gp1, c2;
	struct hooks k;

	hooks_init(&k, MB_REAL);
	init_hooked(&sp, f, true, &k);
	held_reader_start(&z, &sp, 1, false);
	sync_call_start(&gp1, &sp, false, NULL);
	wait_flipped(&sp, 0);
	held_reader_start(&x, &sp, 1, false);
	sync_call_start(&c2, &sp, false, &x);
	while (atomic_load_explicit(&k.snapshots, memory_order_seq_cst) < 2)
		sched_yield();
	held_reader_finish(&z);
	pthread_join(gp1.th, NULL);
	expect_waits(&c2, &x);
	destroy_domain(&sp);
}

/* ---- main ---- */

struct test {
	const char *name;
	void (*fn)(enum srcu_flavour f);
	bool group; /* runs its parts with RUN itself */
};

static void run_one(const struct test *t, enum srcu_flavour f)
{
	if (t->group) {
		t->fn(f);
		return;
	}
	check_test_failures = 0;
	t->fn(f);
	printf("%s %s (%s)\n", check_test_failures ? "FAIL" : "ok", t->name, srcu_flavour_name(f));
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		{ "flavour_names", test_flavour_names, false },
		{ "expedited_mechanisms", test_expedited_mechanisms, false },
		{ "nesting_state", test_nesting_state, false },
		{ "reader", test_reader, true },
		{ "concurrent_callers_share", test_concurrent_callers_share, false },
		{ "many_callers", test_many_callers, false },
		{ "call", test_call_srcu_order_barrier, false },
		{ "register_during_gp", test_register_during_gp, false },
		{ "two_domains", test_two_domains, false },
		{ "idle_fast_path", test_idle_fast_path, false },
		{ "misuse", test_misuse, false },
		{ "stall_report", test_stall_report, false },
		{ "membarrier", test_membarrier, true },
		{ "straggler", test_straggler, true },
		{ "scan-order", test_scan_order, false },
		{ "idle-order", test_idle_order, false },
		{ "fence-a", test_fence_a, true },
		{ "share", test_share, false },
	};
	const char *only_f = argc > 1 && strcmp(argv[1], "all") ? argv[1] : NULL;
	const char *only_t = argc > 2 ? argv[2] : NULL;
	int matched = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (only_f && srcu_flavour_parse(only_f) < 0) {
		fprintf(stderr, "test_srcu: unknown flavour '%s'\n", only_f);
		return 2;
	}
	for (int f = 0; f < SRCU_FLAVOUR_COUNT; f++) {
		if (only_f && srcu_flavour_parse(only_f) != f)
			continue;
		printf("# flavour %s\n", srcu_flavour_name((enum srcu_flavour)f));
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
			if (only_t && strcmp(only_t, tests[i].name))
				continue;
			/* idle-order: only flavours with an idle fast path */
			if (!strcmp(tests[i].name, "idle-order") && f == SRCU_FLAVOUR_CLASSIC)
				continue;
			matched++;
			run_one(&tests[i], (enum srcu_flavour)f);
		}
	}
	if (!matched) {
		fprintf(stderr, "test_srcu: no test '%s'\n", only_t ? only_t : "");
		return 2;
	}
	return check_exit();
}
