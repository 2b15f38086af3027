/*
 * Sleepable RCU in userspace: the updater side.  See srcu.h for the model.
 *
 * Correctness argument, in short (the fences are labelled as in srcu.h):
 *
 *  - Counters are monotonic and per reader.  A scan of index i first sums
 *    unlock[i] over all readers, executes fence A, then sums lock[i].  A
 *    reader increments lock[i] before unlock[i], and fence C (or the
 *    release store) orders its section before the unlock increment, so an
 *    unlock that the first sum counts has its lock counted by the second.
 *    Hence locks >= unlocks over the counted set, and equality means every
 *    counted lock has its unlock counted: no counted reader is inside.
 *    Summing locks first would break this: a reader could lock after its
 *    slot was summed and unlock before its unlock was summed, adding an
 *    unlock with no lock and hiding another reader still inside.
 *
 *  - A reader whose lock increment the scan missed executed it after the
 *    scan read its slot, hence after fence A; its fence B then orders its
 *    section after A, so it sees every store the updater made before the
 *    grace period (the new pointer, not the old object).
 *
 *  - Why two scans.  The flip sends new readers to the other index, so the
 *    old one can only drain: without it, a steady stream of readers keeps
 *    one index busy forever.  But a reader may read idx, be delayed, and
 *    increment lock[idx] much later, after a flip; such stragglers land on
 *    the index that is now inactive.  So a grace period first waits for the
 *    inactive index to drain (stragglers of the previous flip), then flips
 *    (fences E and D around the index store), then waits for the old index.
 *    Each straggler can delay at most one grace period, since after it
 *    reads the new index the next lock goes to the current one.
 *
 *  - The fast flavour has no fences on the read side.  At each of A, D and
 *    E the updater calls membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
 *    which executes a full fence on every thread of the process that is
 *    running, and acts as one (a context switch) for those that are not.
 *
 *  - The idle fast path (seed 000) sums locks (L1), fence, unlocks (U),
 *    fence, locks again (L2) over both indexes.  Lock counters are the
 *    per-reader sequence counters of the seed: L1 == L2 means no reader
 *    started a section while we looked, and U == L2 means none was inside.
 *    That is a complete grace period by the argument above, with no flip.
 */
#include "lib/srcu/srcu.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util/timing.h"

/* This thread's registered readers, one per domain it reads. */
static __thread struct srcu_reader *tls_readers;

const char *srcu_flavour_name(enum srcu_flavour f)
{
	return f == SRCU_FLAVOUR_FAST ? "fast" : "mb";
}

void srcu_options_default(struct srcu_options *o)
{
	o->flavour = SRCU_FLAVOUR_MB;
	o->idle_fast_path = true;
	o->stall_timeout_ns = 10ull * 1000000000ull;
	o->name = "srcu";
}

static int membarrier_cmd(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

/* Registers the process for private expedited membarrier; -1 if the
 * kernel lacks it. */
static int membarrier_setup(void)
{
	int mask = membarrier_cmd(MEMBARRIER_CMD_QUERY);

	if (mask < 0 || !(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return -1;
	/* Registration is per process and idempotent. */
	return membarrier_cmd(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) ? -1 : 0;
}

int srcu_init(struct srcu_struct *sp, const struct srcu_options *o)
{
	struct srcu_options def;

	if (!o) {
		srcu_options_default(&def);
		o = &def;
	}
	memset(sp, 0, sizeof(*sp));
	sp->flavour = o->flavour;
	sp->idle_fast_path = o->idle_fast_path;
	sp->stall_timeout_ns = o->stall_timeout_ns;
	snprintf(sp->name, sizeof(sp->name), "%s", o->name ? o->name : "srcu");
	if (sp->flavour == SRCU_FLAVOUR_FAST && membarrier_setup() != 0) {
		fprintf(stderr, "srcu: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) unavailable (%s); domain %s uses the mb flavour\n",
			strerror(errno), sp->name);
		sp->flavour = SRCU_FLAVOUR_MB;
	}
	pthread_mutex_init(&sp->readers_lock, NULL);
	pthread_mutex_init(&sp->gp_mutex, NULL);
	pthread_mutex_init(&sp->cb_lock, NULL);
	pthread_cond_init(&sp->cb_cond, NULL);
	pthread_cond_init(&sp->cb_done_cond, NULL);
	sp->cb_tail = &sp->cb_head;
	atomic_init(&sp->idx, 0);
	atomic_init(&sp->gp_seq, 0);
	return 0;
}

static unsigned long reader_locks(const struct srcu_reader *r, int i)
{
	return atomic_load_explicit(&r->lock[i], memory_order_relaxed);
}

bool srcu_reader_active(const struct srcu_reader *r)
{
	return reader_locks(r, 0) + reader_locks(r, 1) !=
	       atomic_load_explicit(&r->unlock[0], memory_order_relaxed) +
	       atomic_load_explicit(&r->unlock[1], memory_order_relaxed);
}

struct srcu_reader *srcu_register_reader(struct srcu_struct *sp, const char *name)
{
	struct srcu_reader *r;

	for (r = tls_readers; r; r = r->tls_next)
		if (r->sp == sp) {
			fprintf(stderr, "srcu: thread %d registered twice with domain %s\n",
				(int)gettid(), sp->name);
			return NULL;
		}
	r = aligned_alloc(SRCU_CACHELINE, sizeof(*r));
	if (!r) {
		fprintf(stderr, "srcu: out of memory registering a reader of %s\n", sp->name);
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->sp = sp;
	r->idxp = &sp->idx;
	r->fast = sp->flavour == SRCU_FLAVOUR_FAST;
	r->tid = gettid();
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "reader");

	pthread_mutex_lock(&sp->readers_lock);
	if (sp->nreaders == sp->readers_cap) {
		int cap = sp->readers_cap ? 2 * sp->readers_cap : 16;
		struct srcu_reader **n = realloc(sp->readers, (size_t)cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&sp->readers_lock);
			free(r);
			fprintf(stderr, "srcu: out of memory registering a reader of %s\n",
				sp->name);
			return NULL;
		}
		sp->readers = n;
		sp->readers_cap = cap;
	}
	sp->readers[sp->nreaders++] = r;
	pthread_mutex_unlock(&sp->readers_lock);

	r->tls_next = tls_readers;
	tls_readers = r;
	return r;
}

int srcu_unregister_reader(struct srcu_reader *r)
{
	struct srcu_struct *sp = r->sp;
	struct srcu_reader **pp;

	if (srcu_reader_active(r)) {
		fprintf(stderr, "srcu: reader %s of %s unregistered inside a read section; refused\n",
			r->name, sp->name);
		return -EBUSY;
	}
	for (pp = &tls_readers; *pp; pp = &(*pp)->tls_next)
		if (*pp == r) {
			*pp = r->tls_next;
			break;
		}
	/* Under readers_lock a scan never sees a slot half removed.  The slot
	 * is quiescent (lock[i] == unlock[i] for both i), so dropping it
	 * changes both sums of a later scan by the same amount. */
	pthread_mutex_lock(&sp->readers_lock);
	for (int i = 0; i < sp->nreaders; i++)
		if (sp->readers[i] == r) {
			sp->readers[i] = sp->readers[--sp->nreaders];
			break;
		}
	pthread_mutex_unlock(&sp->readers_lock);
	free(r);
	return 0;
}

/*
 * A full fence on the updater side that also orders the readers: a plain
 * fence for the mb flavour, membarrier for the fast one (which orders
 * every running thread, this one included).
 */
static void srcu_updater_fence(struct srcu_struct *sp)
{
	if (sp->flavour == SRCU_FLAVOUR_FAST &&
	    membarrier_cmd(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
		return;
	atomic_thread_fence(memory_order_seq_cst);
}

/* Sum of unlock[i], then fence A, then sum of lock[i]: see the top. */
static bool srcu_index_idle(struct srcu_struct *sp, int i)
{
	unsigned long unlocks = 0, locks = 0;

	pthread_mutex_lock(&sp->readers_lock);
	for (int k = 0; k < sp->nreaders; k++)
		/* acquire: pairs with the release in srcu_read_unlock, so the
		 * section's accesses happen before whatever follows the grace
		 * period (the memory model ThreadSanitizer checks) */
		unlocks += atomic_load_explicit(&sp->readers[k]->unlock[i], memory_order_acquire);
	srcu_updater_fence(sp);                       /* A: pairs with B and C */
	for (int k = 0; k < sp->nreaders; k++)
		locks += reader_locks(sp->readers[k], i);
	pthread_mutex_unlock(&sp->readers_lock);
	return locks == unlocks;
}

/* The idle fast path: see the top. */
static bool srcu_readers_idle(struct srcu_struct *sp)
{
	unsigned long l1 = 0, u = 0, l2 = 0;

	pthread_mutex_lock(&sp->readers_lock);
	for (int k = 0; k < sp->nreaders; k++)
		l1 += reader_locks(sp->readers[k], 0) + reader_locks(sp->readers[k], 1);
	srcu_updater_fence(sp);
	for (int k = 0; k < sp->nreaders; k++)
		/* acquire: as in srcu_index_idle, pairs with the unlock's release */
		u += atomic_load_explicit(&sp->readers[k]->unlock[0], memory_order_acquire) +
		     atomic_load_explicit(&sp->readers[k]->unlock[1], memory_order_acquire);
	srcu_updater_fence(sp);                       /* A */
	for (int k = 0; k < sp->nreaders; k++)
		l2 += reader_locks(sp->readers[k], 0) + reader_locks(sp->readers[k], 1);
	pthread_mutex_unlock(&sp->readers_lock);
	return l1 == l2 && u == l2;
}

static void srcu_report_stall(struct srcu_struct *sp, int i, uint64_t waited_ns)
{
	char line[1024];
	int used;

	used = snprintf(line, sizeof(line),
			"srcu: stall: grace period of %s waited %llu ms for index %d; readers inside:",
			sp->name, (unsigned long long)(waited_ns / 1000000), i);
	pthread_mutex_lock(&sp->readers_lock);
	for (int k = 0; k < sp->nreaders && used < (int)sizeof(line) - 48; k++) {
		struct srcu_reader *r = sp->readers[k];

		if (reader_locks(r, i) != atomic_load_explicit(&r->unlock[i], memory_order_relaxed))
			used += snprintf(line + used, sizeof(line) - (size_t)used, " %s(tid %d)",
					 r->name, (int)r->tid);
	}
	pthread_mutex_unlock(&sp->readers_lock);
	fprintf(stderr, "%s\n", line);
	atomic_fetch_add_explicit(&sp->stat_stalls, 1, memory_order_relaxed);
}

/*
 * Wait for index @i to drain.  Readers may outnumber CPUs, so the waiter
 * must not hold a CPU that a reader needs to finish its section: it polls a
 * bounded number of times (yielding now and then), then sleeps with an
 * exponential back-off.  Expedited waits poll longer and sleep shorter.
 */
static void srcu_wait_index(struct srcu_struct *sp, int i, bool expedited,
			    uint64_t start, bool *stall_reported)
{
	const unsigned polls = expedited ? 256 : 4;
	const uint64_t sleep_max = expedited ? 100000 : 2000000;
	uint64_t delay = expedited ? 1000 : 20000;

	for (unsigned n = 0; !srcu_index_idle(sp, i); n++) {
		if (sp->stall_timeout_ns && !*stall_reported) {
			uint64_t waited = now_ns() - start;

			if (waited > sp->stall_timeout_ns) {
				srcu_report_stall(sp, i, waited);
				*stall_reported = true;
			}
		}
		if (n < polls) {
			for (int k = 0; k < 32; k++)
				cpu_relax();
			if ((n & 15) == 15)
				sched_yield();
			continue;
		}
		sleep_ns(delay);
		delay = delay * 2 > sleep_max ? sleep_max : delay * 2;
	}
}

static bool inside_own_read_section(struct srcu_struct *sp)
{
	for (struct srcu_reader *r = tls_readers; r; r = r->tls_next)
		if (r->sp == sp && srcu_reader_active(r))
			return true;
	return false;
}

static int srcu_synchronize_common(struct srcu_struct *sp, bool expedited)
{
	unsigned long snap, seq;
	uint64_t start;
	bool stall_reported = false;

	if (inside_own_read_section(sp)) {
		fprintf(stderr, "srcu: synchronize_srcu on %s from inside one of its read sections (thread %d) would never return; refused\n",
			sp->name, (int)gettid());
		return -EDEADLK;
	}
	/*
	 * Order the caller's updates (the unpublish) before the snapshot, so
	 * that the grace period we wait for starts after them.  The snapshot
	 * is the end of the next grace period to start: if one is running
	 * (odd), it may have scanned before our updates, so we need the one
	 * after it.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	seq = atomic_load_explicit(&sp->gp_seq, memory_order_acquire);
	snap = (seq + 3) & ~1ul;

	pthread_mutex_lock(&sp->gp_mutex);
	if ((long)(atomic_load_explicit(&sp->gp_seq, memory_order_acquire) - snap) >= 0) {
		/* Another caller's grace period covered ours. */
		pthread_mutex_unlock(&sp->gp_mutex);
		atomic_fetch_add_explicit(&sp->stat_gp_shared, 1, memory_order_relaxed);
		return 0;
	}
	seq = atomic_load_explicit(&sp->gp_seq, memory_order_relaxed);
	atomic_store_explicit(&sp->gp_seq, seq + 1, memory_order_relaxed);
	start = now_ns();

	if (sp->idle_fast_path && srcu_readers_idle(sp)) {
		atomic_fetch_add_explicit(&sp->stat_gp_idle, 1, memory_order_relaxed);
	} else {
		int cur = (int)(atomic_load_explicit(&sp->idx, memory_order_relaxed) & 1u);

		/* Stragglers of the previous flip still on the inactive index. */
		srcu_wait_index(sp, cur ^ 1, expedited, start, &stall_reported);
		/* E: the scans above happen before new readers see the flip, and
		 * the caller's updates are visible to any reader that does. */
		srcu_updater_fence(sp);
		atomic_store_explicit(&sp->idx, (unsigned)(cur ^ 1), memory_order_relaxed);
		/* D: the flip is visible before we start counting the old index,
		 * so readers that miss it are the bounded stragglers only. */
		srcu_updater_fence(sp);
		srcu_wait_index(sp, cur, expedited, start, &stall_reported);
		atomic_fetch_add_explicit(&sp->stat_gp_full, 1, memory_order_relaxed);
	}
	/* release: whoever sees the new sequence (the shared-callers check
	 * above) also sees everything this grace period waited for. */
	atomic_store_explicit(&sp->gp_seq, seq + 2, memory_order_release);
	pthread_mutex_unlock(&sp->gp_mutex);
	return 0;
}

int synchronize_srcu(struct srcu_struct *sp)
{
	return srcu_synchronize_common(sp, false);
}

int synchronize_srcu_expedited(struct srcu_struct *sp)
{
	return srcu_synchronize_common(sp, true);
}

unsigned long srcu_completed(struct srcu_struct *sp)
{
	/* acquire: pairs with the release that ends a grace period */
	return atomic_load_explicit(&sp->gp_seq, memory_order_acquire) / 2;
}

/*
 * The callback thread: takes every queued callback as one batch, waits one
 * grace period for the batch (callbacks queued meanwhile wait for the next
 * one), then invokes them in queue order.
 */
static void *srcu_callback_thread(void *arg)
{
	struct srcu_struct *sp = arg;

	pthread_mutex_lock(&sp->cb_lock);
	for (;;) {
		struct srcu_head *batch;
		uint64_t n = 0;

		while (!sp->cb_head && !sp->cb_stop)
			pthread_cond_wait(&sp->cb_cond, &sp->cb_lock);
		if (!sp->cb_head && sp->cb_stop)
			break;
		batch = sp->cb_head;
		sp->cb_head = NULL;
		sp->cb_tail = &sp->cb_head;
		pthread_mutex_unlock(&sp->cb_lock);

		synchronize_srcu(sp);
		while (batch) {
			struct srcu_head *next = batch->next;

			batch->func(batch);
			batch = next;
			n++;
		}

		pthread_mutex_lock(&sp->cb_lock);
		sp->cb_invoked += n;
		pthread_cond_broadcast(&sp->cb_done_cond);
	}
	pthread_mutex_unlock(&sp->cb_lock);
	return NULL;
}

void call_srcu(struct srcu_struct *sp, struct srcu_head *head,
	       void (*func)(struct srcu_head *head))
{
	head->func = func;
	head->next = NULL;
	pthread_mutex_lock(&sp->cb_lock);
	if (!sp->cb_thread_started) {
		int rc = pthread_create(&sp->cb_thread, NULL, srcu_callback_thread, sp);

		if (rc) {
			/* No thread: fall back to a synchronous grace period. */
			pthread_mutex_unlock(&sp->cb_lock);
			fprintf(stderr, "srcu: cannot start the callback thread of %s: %s; running the callback synchronously\n",
				sp->name, strerror(rc));
			synchronize_srcu(sp);
			func(head);
			return;
		}
		sp->cb_thread_started = true;
	}
	*sp->cb_tail = head;
	sp->cb_tail = &head->next;
	sp->cb_queued++;
	pthread_cond_signal(&sp->cb_cond);
	pthread_mutex_unlock(&sp->cb_lock);
}

void srcu_barrier(struct srcu_struct *sp)
{
	uint64_t target;

	pthread_mutex_lock(&sp->cb_lock);
	target = sp->cb_queued;
	while (sp->cb_invoked < target)
		pthread_cond_wait(&sp->cb_done_cond, &sp->cb_lock);
	pthread_mutex_unlock(&sp->cb_lock);
}

void srcu_get_stats(struct srcu_struct *sp, struct srcu_stats *st)
{
	st->gp_full = atomic_load_explicit(&sp->stat_gp_full, memory_order_relaxed);
	st->gp_idle = atomic_load_explicit(&sp->stat_gp_idle, memory_order_relaxed);
	st->gp_shared = atomic_load_explicit(&sp->stat_gp_shared, memory_order_relaxed);
	st->stalls = atomic_load_explicit(&sp->stat_stalls, memory_order_relaxed);
}

int srcu_destroy(struct srcu_struct *sp)
{
	int active = 0, registered;
	uint64_t pending;

	pthread_mutex_lock(&sp->readers_lock);
	registered = sp->nreaders;
	for (int k = 0; k < sp->nreaders; k++)
		if (srcu_reader_active(sp->readers[k]))
			active++;
	pthread_mutex_unlock(&sp->readers_lock);
	pthread_mutex_lock(&sp->cb_lock);
	pending = sp->cb_queued - sp->cb_invoked;
	pthread_mutex_unlock(&sp->cb_lock);
	if (registered || pending) {
		fprintf(stderr, "srcu: destroy of %s refused: %d reader(s) still registered (%d inside a read section), %llu callback(s) not yet invoked\n",
			sp->name, registered, active, (unsigned long long)pending);
		return -EBUSY;
	}
	if (sp->cb_thread_started) {
		pthread_mutex_lock(&sp->cb_lock);
		sp->cb_stop = true;
		pthread_cond_signal(&sp->cb_cond);
		pthread_mutex_unlock(&sp->cb_lock);
		pthread_join(sp->cb_thread, NULL);
	}
	free(sp->readers);
	sp->readers = NULL;
	pthread_mutex_destroy(&sp->readers_lock);
	pthread_mutex_destroy(&sp->gp_mutex);
	pthread_mutex_destroy(&sp->cb_lock);
	pthread_cond_destroy(&sp->cb_cond);
	pthread_cond_destroy(&sp->cb_done_cond);
	return 0;
}
