/*
 * Unit tests of the SRCU core (lib/srcu.c), each for both flavours:
 * a grace period waits for a reader that started before it; nesting;
 * sleeping readers; concurrent synchronize callers share grace periods;
 * call_srcu order and srcu_barrier; registration during a grace period;
 * independent domains; the idle fast path; misuse reported as errors.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/check.h"
#include "lib/srcu/srcu.h"
#include "lib/util/timing.h"

static void init_domain(struct srcu_struct *sp, enum srcu_flavour f, bool idle_path)
{
	struct srcu_options o;

	srcu_options_default(&o);
	o.flavour = f;
	o.idle_fast_path = idle_path;
	o.name = "test";
	CHECK(srcu_init(sp, &o) == 0);
}

/* A reader thread whose read section the test opens and closes. */
struct held_reader {
	struct srcu_struct *sp;
	int nest;                   /* read sections to nest */
	bool sleep_inside;          /* sleep (not spin) while held */
	atomic_int entered;         /* set once inside */
	atomic_int release;         /* the test sets it to leave */
	atomic_int left;            /* set just before the last unlock */
	pthread_t th;
};

static void *held_reader_main(void *p)
{
	struct held_reader *h = p;
	struct srcu_reader *r = srcu_register_reader(h->sp, "held");
	int idx[8];

	for (int i = 0; i < h->nest; i++)
		idx[i] = srcu_read_lock(r);
	atomic_store_explicit(&h->entered, 1, memory_order_release);
	while (!atomic_load_explicit(&h->release, memory_order_acquire)) {
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
	srcu_unregister_reader(r);
	return NULL;
}

static void held_reader_start(struct held_reader *h, struct srcu_struct *sp, int nest,
			      bool sleep_inside)
{
	h->sp = sp;
	h->nest = nest;
	h->sleep_inside = sleep_inside;
	atomic_init(&h->entered, 0);
	atomic_init(&h->release, 0);
	atomic_init(&h->left, 0);
	pthread_create(&h->th, NULL, held_reader_main, h);
	while (!atomic_load_explicit(&h->entered, memory_order_acquire))
		sched_yield();
}

static void held_reader_finish(struct held_reader *h)
{
	atomic_store_explicit(&h->release, 1, memory_order_release);
	pthread_join(h->th, NULL);
}

struct sync_call {
	struct srcu_struct *sp;
	bool expedited;
	struct held_reader *watch;  /* must have left when we return */
	atomic_int done;
	int rc;
	int reader_had_left;
	pthread_t th;
};

static void *sync_call_main(void *p)
{
	struct sync_call *c = p;

	c->rc = c->expedited ? synchronize_srcu_expedited(c->sp) : synchronize_srcu(c->sp);
	c->reader_had_left = c->watch ?
		atomic_load_explicit(&c->watch->left, memory_order_acquire) : 1;
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

/* The grace period must not return while a reader that began before it is
 * inside, whether that reader spins or sleeps, at any nesting depth. */
static void test_gp_waits_for_reader(enum srcu_flavour f, bool expedited, bool idle_path,
				     int nest, bool sleep_inside)
{
	struct srcu_struct sp;
	struct held_reader h;
	struct sync_call c;

	init_domain(&sp, f, idle_path);
	held_reader_start(&h, &sp, nest, sleep_inside);
	sync_call_start(&c, &sp, expedited, &h);
	sleep_ns(50 * 1000000ull);
	CHECK(!atomic_load_explicit(&c.done, memory_order_acquire));
	held_reader_finish(&h);
	pthread_join(c.th, NULL);
	CHECK(c.rc == 0);
	CHECK(c.reader_had_left == 1);
	CHECK(srcu_destroy(&sp) == 0);
}

static void test_nesting_state(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_reader *r;
	int a, b;

	init_domain(&sp, f, true);
	r = srcu_register_reader(&sp, "nest");
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
	CHECK(srcu_unregister_reader(r) == 0);
	CHECK(srcu_destroy(&sp) == 0);
}

/* N callers that arrive while one grace period is held open by a reader
 * share the next grace period instead of running N of them. */
static void test_concurrent_callers_share(enum srcu_flavour f)
{
	enum { CALLERS = 4 };
	struct srcu_struct sp;
	struct held_reader h;
	struct sync_call first, c[CALLERS];
	struct srcu_stats st;

	init_domain(&sp, f, false);
	held_reader_start(&h, &sp, 1, false);
	sync_call_start(&first, &sp, false, &h);
	/* wait until the first grace period is running (odd sequence) */
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
	CHECK(srcu_destroy(&sp) == 0);
}

/* Many threads calling synchronize at once while readers churn: everyone
 * returns, and fewer grace periods run than were asked for. */
struct churn {
	struct srcu_struct *sp;
	atomic_int stop;
};

static void *churn_reader(void *p)
{
	struct churn *ch = p;
	struct srcu_reader *r = srcu_register_reader(ch->sp, "churn");

	while (!atomic_load_explicit(&ch->stop, memory_order_acquire)) {
		int idx = srcu_read_lock(r);
		for (int i = 0; i < 100; i++)
			cpu_relax();
		srcu_read_unlock(r, idx);
	}
	srcu_unregister_reader(r);
	return NULL;
}

static void *churn_syncer(void *p)
{
	struct churn *ch = p;

	for (int i = 0; i < 30; i++)
		CHECK((i & 1 ? synchronize_srcu_expedited(ch->sp) : synchronize_srcu(ch->sp)) == 0);
	return NULL;
}

static void test_many_callers(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct churn ch = { .sp = &sp };
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
	CHECK(st.gp_full + st.gp_idle + st.gp_shared == 180);
	CHECK(st.gp_full + st.gp_idle <= 180);
	CHECK(srcu_destroy(&sp) == 0);
}

/* call_srcu: callbacks run after a grace period, in queue order, and
 * srcu_barrier waits for all of them. */
struct order_cb {
	struct srcu_head head;
	int id;
};
static int order_seen[2000];
static atomic_int order_n;

static void order_cb_fn(struct srcu_head *h)
{
	struct order_cb *c = (struct order_cb *)h;
	int n = atomic_fetch_add_explicit(&order_n, 1, memory_order_relaxed);

	order_seen[n] = c->id;
}

static void test_call_srcu_order_barrier(enum srcu_flavour f)
{
	enum { N = 2000 };
	struct srcu_struct sp;
	struct held_reader h;
	struct order_cb *cbs = calloc(N, sizeof(*cbs));

	init_domain(&sp, f, true);
	atomic_init(&order_n, 0);
	held_reader_start(&h, &sp, 1, false);
	for (int i = 0; i < N; i++) {
		cbs[i].id = i;
		call_srcu(&sp, &cbs[i].head, order_cb_fn);
		if (i == N / 2)
			sched_yield();
	}
	sleep_ns(30 * 1000000ull);
	/* the reader began before every call_srcu: nothing may have run */
	CHECK(atomic_load_explicit(&order_n, memory_order_relaxed) == 0);
	held_reader_finish(&h);
	srcu_barrier(&sp);
	CHECK(atomic_load_explicit(&order_n, memory_order_relaxed) == N);
	for (int i = 0; i < N; i++)
		CHECK(order_seen[i] == i);
	CHECK(srcu_destroy(&sp) == 0);
	free(cbs);
}

/* Readers register, read and unregister while a grace period waits for
 * another reader: nothing deadlocks, the grace period still waits. */
static void *register_churn(void *p)
{
	struct churn *ch = p;

	while (!atomic_load_explicit(&ch->stop, memory_order_acquire)) {
		struct srcu_reader *r = srcu_register_reader(ch->sp, "regchurn");
		int idx = srcu_read_lock(r);

		srcu_read_unlock(r, idx);
		CHECK(srcu_unregister_reader(r) == 0);
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
	sleep_ns(50 * 1000000ull);
	CHECK(!atomic_load_explicit(&c.done, memory_order_acquire));
	held_reader_finish(&h);
	pthread_join(c.th, NULL);
	CHECK(c.reader_had_left == 1);
	atomic_store_explicit(&ch.stop, 1, memory_order_release);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(srcu_destroy(&sp) == 0);
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
	sleep_ns(30 * 1000000ull);
	CHECK(!atomic_load_explicit(&ca.done, memory_order_acquire));
	held_reader_finish(&h);
	pthread_join(ca.th, NULL);
	CHECK(ca.reader_had_left == 1);
	CHECK(srcu_destroy(&a) == 0);
	CHECK(srcu_destroy(&b) == 0);
}

/* With the idle fast path, a grace period with no reader inside returns
 * without flipping; without it, it flips. */
static void test_idle_fast_path(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_reader *r;
	struct srcu_stats st;
	unsigned idx0;

	init_domain(&sp, f, true);
	r = srcu_register_reader(&sp, "idle");
	idx0 = atomic_load(&sp.idx);
	CHECK(synchronize_srcu(&sp) == 0);
	srcu_get_stats(&sp, &st);
	CHECK(st.gp_idle == 1 && st.gp_full == 0);
	CHECK(atomic_load(&sp.idx) == idx0);
	srcu_unregister_reader(r);
	CHECK(srcu_destroy(&sp) == 0);

	init_domain(&sp, f, false);
	r = srcu_register_reader(&sp, "idle");
	CHECK(synchronize_srcu_expedited(&sp) == 0);
	srcu_get_stats(&sp, &st);
	CHECK(st.gp_idle == 0 && st.gp_full == 1);
	CHECK(atomic_load(&sp.idx) != idx0);
	CHECK(srcu_completed(&sp) == 1);
	srcu_unregister_reader(r);
	CHECK(srcu_destroy(&sp) == 0);
}

/* Misuse is reported, not undefined: synchronize inside a read section of
 * the same domain, unregister inside a section, destroy with readers. */
static void test_misuse(enum srcu_flavour f)
{
	struct srcu_struct sp, other;
	struct srcu_reader *r;
	int idx;

	init_domain(&sp, f, true);
	init_domain(&other, f, true);
	r = srcu_register_reader(&sp, "misuse");
	CHECK(srcu_register_reader(&sp, "twice") == NULL);
	idx = srcu_read_lock(r);
	CHECK(synchronize_srcu(&sp) == -EDEADLK);
	CHECK(synchronize_srcu_expedited(&sp) == -EDEADLK);
	/* another domain's grace period is fine from inside this one's */
	CHECK(synchronize_srcu(&other) == 0);
	CHECK(srcu_unregister_reader(r) == -EBUSY);
	CHECK(srcu_destroy(&sp) == -EBUSY);
	srcu_read_unlock(r, idx);
	CHECK(srcu_destroy(&sp) == -EBUSY);       /* still registered */
	CHECK(srcu_unregister_reader(r) == 0);
	CHECK(srcu_destroy(&sp) == 0);
	CHECK(srcu_destroy(&other) == 0);
}

/* A stall report names the reader still inside. */
static void test_stall_report(enum srcu_flavour f)
{
	struct srcu_struct sp;
	struct srcu_options o;
	struct held_reader h;
	struct sync_call c;
	struct srcu_stats st;

	srcu_options_default(&o);
	o.flavour = f;
	o.stall_timeout_ns = 20 * 1000000ull;
	o.name = "stalltest";
	CHECK(srcu_init(&sp, &o) == 0);
	held_reader_start(&h, &sp, 1, true);
	sync_call_start(&c, &sp, false, &h);
	sleep_ns(150 * 1000000ull);
	held_reader_finish(&h);
	pthread_join(c.th, NULL);
	srcu_get_stats(&sp, &st);
	CHECK(st.stalls == 1);
	CHECK(srcu_destroy(&sp) == 0);
}

int main(void)
{
	const enum srcu_flavour flavours[] = { SRCU_FLAVOUR_MB, SRCU_FLAVOUR_FAST };

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < 2; i++) {
		enum srcu_flavour f = flavours[i];

		printf("# flavour %s\n", srcu_flavour_name(f));
		RUN(test_nesting_state, f);
		for (int exp = 0; exp < 2; exp++)
			for (int idle = 0; idle < 2; idle++) {
				RUN(test_gp_waits_for_reader, f, exp, idle, 1, false);
				RUN(test_gp_waits_for_reader, f, exp, idle, 3, false);
				RUN(test_gp_waits_for_reader, f, exp, idle, 1, true);
			}
		RUN(test_concurrent_callers_share, f);
		RUN(test_many_callers, f);
		RUN(test_call_srcu_order_barrier, f);
		RUN(test_register_during_gp, f);
		RUN(test_two_domains, f);
		RUN(test_idle_fast_path, f);
		RUN(test_misuse, f);
		RUN(test_stall_report, f);
	}
	return check_exit();
}
