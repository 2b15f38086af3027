/*
 * Sleepable RCU in userspace: the updater side.  See srcu.h for the model;
 * tests/model/srcu.pml model-checks the steps below (names in brackets
 * are its labels).
 *
 * Correctness argument (fences labelled as in srcu.h):
 *
 *  - Counters are monotonic and per reader.  A scan of index i sums
 *    unlock[i] over all readers with acquire loads, then sums lock[i]
 *    [scan].  A reader increments lock[i] before unlock[i], and its unlock
 *    is a release store (fence C), so a scan that reads a reader's unlock
 *    count u then reads a lock count >= u for it: per reader, locks >=
 *    unlocks over what was read.  Equal sums therefore mean equal counts
 *    for every reader, and a reader that was inside a section on i when
 *    the scan read its unlock count is not equal (its lock count was
 *    already higher, and only grows).  So no reader that was inside on i
 *    throughout the scan is missed.  Summing locks first would break
 *    this: a reader could lock after its slot was summed and unlock before
 *    its unlock was summed, adding an unlock with no lock and hiding
 *    another reader still inside (mutant srcu_sum_locks_first).
 *
 *  - Fence A: one full fence per grace period, after the grace period has
 *    begun (sequence odd) and before its first lock sum.  Pairs with fence
 *    B (store-buffering shape: updater "unpublish; A; read lock[]",
 *    reader "lock[] += 1; B; read pointer"): either a scan of this grace
 *    period sees the reader's increment, or the reader's section sees
 *    every store made before the grace period began, the caller's and
 *    those of callers sharing it (their fence before the snapshot).  One
 *    fence covers every scan of the grace period, since all come after
 *    it.  mb: a thread fence, B is the reader's; fast: membarrier(
 *    MEMBARRIER_CMD_PRIVATE_EXPEDITED), which executes a full fence on
 *    every running thread of the process and acts as one (a context
 *    switch) for the others, so B is a compiler barrier; classic: its
 *    first sync_func.
 *
 *  - Why two scans.  The flip sends new readers to the other index, so the
 *    old one can only drain: without it, a steady stream of readers keeps
 *    one index busy forever.  But a reader may read idx, be delayed, and
 *    increment lock[idx] much later, after a flip; such a straggler lands
 *    on the index that is now inactive and will be current after the next
 *    flip, where that grace period would not look.  So a grace period first
 *    waits for the inactive index to drain [straggler], then flips, then
 *    waits for the old index [old].  A straggler's increment missed by a
 *    scan came after fence A (or the scan would have seen it), so its
 *    section needs no waiting for this grace period; it delays at most the
 *    next one, since its next lock reads the new index.
 *
 *  - Earlier versions also had a fence before the flip (E) and after it
 *    (D), and a fence A inside every scan.  With fence A at the start they
 *    are redundant for safety: every scan already follows A, and the flip
 *    only decides where new readers go (a reader that misses the flip is a
 *    straggler, covered above).  On x86 the flip's store cannot pass the
 *    scan's loads anyway, and a late flip costs only waiting time.  They
 *    cost a membarrier each in the fast flavour, so they are gone; a
 *    mutant that removed them would survive, rightly.
 *
 *  - The idle fast path (the sequence-counter idea of the 2012 thread
 *    "srcu: Implement call_srcu()"; mb and fast only) is one scan of both
 *    indexes together, after fence A: if every reader's unlock count,
 *    summed over both indexes, equals its lock count read afterwards, no
 *    reader was inside any section at the time, and any section that
 *    began before the grace period and is still running would have been
 *    inside.  That is a complete grace period with no flip.  Earlier
 *    versions read the lock counts a first time before the unlocks, with
 *    a second fence (L1 == L2); the argument above never uses that first
 *    read, so it is dropped (tests/model/srcu.pml checks the idle path
 *    without it), saving a membarrier per idle grace period.
 *
 *  - Grace-period sharing: a caller snapshots the sequence after a fence
 *    that orders its updates before; the next grace period to begin after
 *    that read has its fence A after the caller's updates, so its end
 *    covers the caller.  If one is running (odd), the caller needs the one
 *    after it (mutant srcu_share_running_gp).
 */
#include "lib/srcu/srcu.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/srcu/stop_cpus.h"
#include "lib/util/mutant.h"
#include "lib/util/timing.h"

/* This thread's registered readers, one per domain it reads. */
static __thread struct srcu_reader *tls_readers;

const char *const srcu_flavour_names[SRCU_FLAVOUR_COUNT + 1] = {
#define SRCU_FLAVOUR_NAME(e, n) [SRCU_FLAVOUR_##e] = n,
	SRCU_FLAVOURS(SRCU_FLAVOUR_NAME)
#undef SRCU_FLAVOUR_NAME
		NULL,
};

int srcu_flavour_parse(const char *name)
{
	for (int f = 0; f < SRCU_FLAVOUR_COUNT; f++)
		if (name && !strcmp(name, srcu_flavour_names[f]))
			return f;
	return -1;
}

const char *srcu_flavour_name(enum srcu_flavour f)
{
	return (unsigned)f < SRCU_FLAVOUR_COUNT ? srcu_flavour_names[f] : "?";
}

const char *const srcu_expedited_names[SRCU_EXPEDITED_COUNT + 1] = {
#define SRCU_EXPEDITED_NAME(e, n) [SRCU_EXPEDITED_##e] = n,
	SRCU_EXPEDITED_MECHANISMS(SRCU_EXPEDITED_NAME)
#undef SRCU_EXPEDITED_NAME
		NULL,
};

int srcu_expedited_parse(const char *name)
{
	for (int m = 0; m < SRCU_EXPEDITED_COUNT; m++)
		if (name && !strcmp(name, srcu_expedited_names[m]))
			return m;
	return -1;
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
							  ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void srcu_options_default(struct srcu_options *o)
{
	memset(o, 0, sizeof(*o));
	o->flavour = SRCU_FLAVOUR_MB;
	o->idle_fast_path = true;
	o->stall_timeout_ns = 10ull * 1000000000ull;
	o->hz = 250;
	o->expedited = SRCU_EXPEDITED_STOP_CPUS;
	o->name = "srcu";
}

/* A line for the caller (stall reports, failures); counted regardless. */
static void srcu_report(struct srcu_struct *sp, const char *line)
{
	if (sp->report)
		sp->report(sp->report_arg, line);
}

static int srcu_membarrier(struct srcu_struct *sp, int cmd)
{
	if (sp->test && sp->test->membarrier)
		return sp->test->membarrier(sp->test->arg, cmd);
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

static void srcu_hook(struct srcu_struct *sp, enum srcu_hook_point where, int idx)
{
	if (sp->test && sp->test->at)
		sp->test->at(sp->test->arg, sp, where, idx);
}

/*
 * Can this domain rely on membarrier?  Registers the process for private
 * expedited membarrier and issues one, before any reader can register, so
 * that a kernel without it is found here and not in a grace period.
 * classic also needs MEMBARRIER_CMD_GLOBAL (not issued: it takes a whole
 * synchronize_rcu).  0, or -errno with the reason in @why.
 */
static int membarrier_ready(struct srcu_struct *sp, bool need_global, char *why, size_t len)
{
	int mask = srcu_membarrier(sp, MEMBARRIER_CMD_QUERY);

	if (mask < 0) {
		snprintf(why, len, "membarrier(QUERY): %s", strerror(errno));
		return -ENOSYS;
	}
	if (!(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
	    (need_global && !(mask & MEMBARRIER_CMD_GLOBAL))) {
		snprintf(why, len, "membarrier lacks %s",
			 need_global && !(mask & MEMBARRIER_CMD_GLOBAL)
				 ? "MEMBARRIER_CMD_GLOBAL"
				 : "MEMBARRIER_CMD_PRIVATE_EXPEDITED");
		return -ENOSYS;
	}
	/* registration is per process and idempotent */
	if (srcu_membarrier(sp, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) ||
	    srcu_membarrier(sp, MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		int e = errno ? errno : EIO;

		snprintf(why, len, "membarrier(PRIVATE_EXPEDITED): %s", strerror(e));
		return -e;
	}
	return 0;
}

/* The flavour checks of srcu_init: 0 (maybe with a notice), or -errno. */
static int srcu_init_flavour(struct srcu_struct *sp, char *err, size_t errlen)
{
	char why[160];
	int rc;

	if (sp->flavour == SRCU_FLAVOUR_FAST) {
		if (membarrier_ready(sp, false, why, sizeof(why))) {
			set_err(err, errlen, "srcu: domain %s: %s; it uses the mb flavour",
				sp->name, why);
			sp->flavour = SRCU_FLAVOUR_MB;
		}
	} else if (sp->flavour == SRCU_FLAVOUR_CLASSIC) {
		rc = membarrier_ready(sp, true, why, sizeof(why));
		if (rc) {
			set_err(err, errlen,
				"srcu: domain %s: the classic flavour needs membarrier: %s",
				sp->name, why);
			return rc;
		}
		/* last: nothing after this can fail, so no path stops them */
		if (sp->expedited == SRCU_EXPEDITED_STOP_CPUS &&
		    !(sp->stoppers = srcu_stop_cpus_create(sp->name, err, errlen)))
			return -EAGAIN;
	}
	return 0;
}

int srcu_init(struct srcu_struct *sp, const struct srcu_options *o, char *err, size_t errlen)
{
	struct srcu_options def;
	int rc;

	set_err(err, errlen, "%s", "");
	if (!o) {
		srcu_options_default(&def);
		o = &def;
	}
	if ((unsigned)o->flavour >= SRCU_FLAVOUR_COUNT) {
		set_err(err, errlen, "srcu: flavour %d unknown", (int)o->flavour);
		return -EINVAL;
	}
	if ((unsigned)o->expedited >= SRCU_EXPEDITED_COUNT) {
		set_err(err, errlen, "srcu: expedited mechanism %d unknown", (int)o->expedited);
		return -EINVAL;
	}
	memset(sp, 0, sizeof(*sp));
	sp->flavour = o->flavour;
	/* the 2012 SRCU had no idle fast path */
	sp->idle_fast_path = o->idle_fast_path && o->flavour != SRCU_FLAVOUR_CLASSIC;
	sp->stall_timeout_ns = o->stall_timeout_ns;
	sp->jiffy_ns = 1000000000ull / (o->hz ? o->hz : 250);
	sp->expedited = o->expedited;
	sp->report = o->report;
	sp->report_arg = o->report_arg;
	sp->test = o->test;
	snprintf(sp->name, sizeof(sp->name), "%s", o->name ? o->name : "srcu");
	rc = srcu_init_flavour(sp, err, errlen);
	if (rc)
		return rc;
	pthread_mutex_init(&sp->readers_lock, NULL);
	pthread_mutex_init(&sp->gp_mutex, NULL);
	pthread_mutex_init(&sp->cb_lock, NULL);
	pthread_cond_init(&sp->cb_cond, NULL);
	pthread_cond_init(&sp->cb_done_cond, NULL);
	sp->cb_tail = &sp->cb_head;
	atomic_init(&sp->idx, sp->flavour == SRCU_FLAVOUR_MB ? SRCU_IDX_FENCED : 0u);
	atomic_init(&sp->gp_seq, 0);
	atomic_init(&sp->failed, 0);
	return 0;
}

enum srcu_flavour srcu_flavour_of(const struct srcu_struct *sp)
{
	return sp->flavour;
}

const char *srcu_expedited_of(const struct srcu_struct *sp)
{
	return sp->flavour == SRCU_FLAVOUR_CLASSIC ? srcu_expedited_names[sp->expedited] : "none";
}

const char *srcu_stopper_priority(const struct srcu_struct *sp)
{
	if (!sp->stoppers)
		return "none";
	return srcu_stop_cpus_fifo(sp->stoppers) ? "fifo" : "normal";
}

int srcu_stopper_count(const struct srcu_struct *sp)
{
	return sp->stoppers ? srcu_stop_cpus_count(sp->stoppers) : 0;
}

int srcu_failed(struct srcu_struct *sp)
{
	/* relaxed: a flag that fails later calls; it publishes no data */
	return atomic_load_explicit(&sp->failed, memory_order_relaxed);
}

static unsigned long reader_locks(const struct srcu_reader *r, int i)
{
	/* relaxed: a scan reads it after sum_unlocks' acquire loads, which
	 * order it (see the top); srcu_reader_active reads its own counters */
	return atomic_load_explicit(&r->lock[i], memory_order_relaxed);
}

bool srcu_reader_active(const struct srcu_reader *r)
{
	return reader_locks(r, 0) + reader_locks(r, 1) !=
	       atomic_load_explicit(&r->unlock[0], memory_order_relaxed) +
		       atomic_load_explicit(&r->unlock[1], memory_order_relaxed);
}

static int readers_add(struct srcu_struct *sp, struct srcu_reader *r)
{
	pthread_mutex_lock(&sp->readers_lock);
	if (sp->nreaders == sp->readers_cap) {
		int cap = sp->readers_cap ? 2 * sp->readers_cap : 16;
		struct srcu_reader **n = realloc(sp->readers, (size_t)cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&sp->readers_lock);
			return -ENOMEM;
		}
		sp->readers = n;
		sp->readers_cap = cap;
	}
	sp->readers[sp->nreaders++] = r;
	pthread_mutex_unlock(&sp->readers_lock);
	return 0;
}

struct srcu_reader *srcu_register_reader(struct srcu_struct *sp, const char *name, char *err,
					 size_t errlen)
{
	struct srcu_reader *r;

	for (r = tls_readers; r; r = r->tls_next)
		if (r->sp == sp) {
			set_err(err, errlen, "srcu: thread %d registered twice with domain %s",
				(int)gettid(), sp->name);
			return NULL;
		}
	r = aligned_alloc(SRCU_CACHELINE, sizeof(*r));
	if (r) {
		memset(r, 0, sizeof(*r));
		r->sp = sp;
		r->idxp = &sp->idx;
		r->tid = gettid();
		snprintf(r->name, sizeof(r->name), "%s", name ? name : "reader");
	}
	/* a scan may read the counters as soon as the slot is added */
	if (!r || readers_add(sp, r)) {
		free(r);
		set_err(err, errlen, "srcu: out of memory registering a reader of %s", sp->name);
		return NULL;
	}
	r->tls_next = tls_readers;
	tls_readers = r;
	return r;
}

int srcu_unregister_reader(struct srcu_reader *r, char *err, size_t errlen)
{
	struct srcu_struct *sp = r->sp;
	struct srcu_reader **pp;

	if (r->tid != gettid()) {
		set_err(err, errlen,
			"srcu: reader %s of %s (thread %d) unregistered by thread %d; refused",
			r->name, sp->name, (int)r->tid, (int)gettid());
		return -EPERM;
	}
	if (srcu_reader_active(r)) {
		set_err(err, errlen,
			"srcu: reader %s of %s unregistered inside a read section; refused",
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

/* ---- fences ---- */

/* A membarrier after srcu_init failed: the domain fails for good. */
static int srcu_fail(struct srcu_struct *sp, const char *what)
{
	int e = errno ? errno : EIO, expected = 0;
	char line[256];

	/* relaxed: only the first failure is reported; nothing is published */
	if (atomic_compare_exchange_strong_explicit(&sp->failed, &expected, -e,
						    memory_order_relaxed, memory_order_relaxed)) {
		snprintf(line, sizeof(line),
			 "srcu: domain %s: membarrier(%s) failed: %s; its grace periods fail from "
			 "now on (fence-free readers would be unprotected)",
			 sp->name, what, strerror(e));
		srcu_report(sp, line);
	}
	return atomic_load_explicit(&sp->failed, memory_order_relaxed);
}

static int srcu_membarrier_or_fail(struct srcu_struct *sp, int cmd, const char *what)
{
	errno = 0;
	return srcu_membarrier(sp, cmd) ? srcu_fail(sp, what) : 0;
}

/*
 * classic's sync_func.  The 2012 kernel ran synchronize_sched() (normal)
 * or synchronize_sched_expedited() (expedited): every CPU passes through
 * a context switch or a stop-machine step, a full fence on each, and every
 * preempt-disabled srcu_read_lock has finished.  Userspace gets the fence
 * half: membarrier(MEMBARRIER_CMD_GLOBAL) waits for a synchronize_rcu in
 * the kernel (milliseconds, like synchronize_sched), PRIVATE_EXPEDITED
 * IPIs the CPUs running this process (microseconds).
 *
 * Expedited, synchronize_sched_expedited (Linux 3.0-3.3) was
 * try_stop_cpus on every online CPU: a stopper thread of the highest
 * priority preempted whatever ran on each CPU, and the caller waited for
 * the last.  The IPI alone (expedited=membarrier) has none of that cost:
 * no context switch, no preempted vCPU thread, no wait for the slowest
 * CPU.  expedited=stop-cpus (the default: the closer emulation) adds it:
 * after the membarrier, pinned SCHED_FIFO stopper threads, one per CPU,
 * each run and acknowledge (stop_cpus.c: what is emulated, how it differs
 * from try_stop_cpus).  The membarrier still carries the ordering (fence
 * A and the rest below): stop_cpus.c says why the stoppers alone are not
 * argued to.  The other half of synchronize_sched, waiting for a reader
 * between reading the index and incrementing, has no userspace
 * counterpart: see srcu_gp_classic.
 */
static int srcu_sync_func(struct srcu_struct *sp, bool expedited)
{
	int rc;

	if (!expedited)
		return srcu_membarrier_or_fail(sp, MEMBARRIER_CMD_GLOBAL, "GLOBAL");
	rc = srcu_membarrier_or_fail(sp, MEMBARRIER_CMD_PRIVATE_EXPEDITED, "PRIVATE_EXPEDITED");
	if (!rc && sp->stoppers)
		srcu_stop_cpus_run(sp->stoppers);
	return rc;
}

/* Fence A (see the top): 0, or the failed domain's -errno. */
static int srcu_fence_a(struct srcu_struct *sp, bool expedited)
{
	switch (sp->flavour) {
	case SRCU_FLAVOUR_FAST:
		return srcu_membarrier_or_fail(sp, MEMBARRIER_CMD_PRIVATE_EXPEDITED,
					       "PRIVATE_EXPEDITED");
	case SRCU_FLAVOUR_CLASSIC:
		return srcu_sync_func(sp, expedited);
	default:
		atomic_thread_fence(memory_order_seq_cst);
		return 0;
	}
}

/* ---- scans ---- */

/* acquire: pairs with the release in srcu_read_unlock (fence C) */
static unsigned long sum_unlocks(struct srcu_struct *sp, int i)
{
	unsigned long s = 0;

	for (int k = 0; k < sp->nreaders; k++)
		s += atomic_load_explicit(&sp->readers[k]->unlock[i], memory_order_acquire);
	return s;
}

static unsigned long sum_locks(struct srcu_struct *sp, int i)
{
	unsigned long s = 0;

	for (int k = 0; k < sp->nreaders; k++)
		s += reader_locks(sp->readers[k], i);
	return s;
}

/* Is index @i idle?  Sum of unlock[i], then of lock[i]: see the top. */
static bool srcu_index_idle(struct srcu_struct *sp, int i)
{
	unsigned long unlocks, locks;

	pthread_mutex_lock(&sp->readers_lock);
	if (MUTANT(srcu_sum_locks_first)) {
		locks = sum_locks(sp, i);
		srcu_hook(sp, SRCU_HOOK_SCAN_MID, i);
		unlocks = sum_unlocks(sp, i);
	} else {
		unlocks = sum_unlocks(sp, i);
		srcu_hook(sp, SRCU_HOOK_SCAN_MID, i);
		locks = sum_locks(sp, i);
	}
	pthread_mutex_unlock(&sp->readers_lock);
	return locks == unlocks;
}

/* The idle fast path: one scan of both indexes together (see the top). */
static bool srcu_readers_idle(struct srcu_struct *sp)
{
	/* relaxed: gp_mutex holders are the only writers of idx */
	int cur = (int)(atomic_load_explicit(&sp->idx, memory_order_relaxed) & 1u);
	unsigned long u, l;

	pthread_mutex_lock(&sp->readers_lock);
	if (MUTANT(srcu_idle_one_index)) {
		u = sum_unlocks(sp, cur);
		srcu_hook(sp, SRCU_HOOK_SCAN_MID, -1);
		l = sum_locks(sp, cur);
	} else if (MUTANT(srcu_idle_lock_first)) {
		l = sum_locks(sp, 0) + sum_locks(sp, 1);
		srcu_hook(sp, SRCU_HOOK_SCAN_MID, -1);
		u = sum_unlocks(sp, 0) + sum_unlocks(sp, 1);
	} else {
		u = sum_unlocks(sp, 0) + sum_unlocks(sp, 1);
		srcu_hook(sp, SRCU_HOOK_SCAN_MID, -1);
		l = sum_locks(sp, 0) + sum_locks(sp, 1);
	}
	pthread_mutex_unlock(&sp->readers_lock);
	return u == l;
}

/* ---- waiting ---- */

struct srcu_wait {
	bool expedited;
	uint64_t start; /* the first busy poll (0: none yet) */
	bool stall_reported;
};

static void srcu_report_stall(struct srcu_struct *sp, int i, uint64_t waited_ns)
{
	char line[1024];
	int used;

	used = snprintf(
		line, sizeof(line),
		"srcu: stall: grace period of %s waited %llu ms for index %d; readers inside:",
		sp->name, (unsigned long long)(waited_ns / 1000000), i);
	pthread_mutex_lock(&sp->readers_lock);
	for (int k = 0; k < sp->nreaders && used < (int)sizeof(line) - 48; k++) {
		struct srcu_reader *r = sp->readers[k];

		/* relaxed: a diagnostic; the scans decide, not this */
		if (reader_locks(r, i) != atomic_load_explicit(&r->unlock[i], memory_order_relaxed))
			used += snprintf(line + used, sizeof(line) - (size_t)used, " %s(tid %d)",
					 r->name, (int)r->tid);
	}
	pthread_mutex_unlock(&sp->readers_lock);
	atomic_fetch_add_explicit(&sp->stat_stalls, 1, memory_order_relaxed);
	srcu_report(sp, line);
}

static void srcu_check_stall(struct srcu_struct *sp, int i, struct srcu_wait *w)
{
	uint64_t waited;

	if (!sp->stall_timeout_ns || w->stall_reported)
		return;
	/* read the clock only once a scan found readers: an idle grace
	 * period costs no clock read */
	if (!w->start) {
		w->start = now_ns();
		return;
	}
	waited = now_ns() - w->start;
	if (waited > sp->stall_timeout_ns) {
		srcu_report_stall(sp, i, waited);
		w->stall_reported = true;
	}
}

/*
 * Wait for index @i to drain (mb, fast).  Readers may outnumber CPUs, so
 * the waiter must not hold a CPU that a reader needs to finish its
 * section: it polls a bounded number of times (yielding now and then),
 * then sleeps with an exponential back-off.  Expedited waits poll longer
 * and sleep shorter.
 */
static void srcu_wait_index(struct srcu_struct *sp, int i, struct srcu_wait *w)
{
	const unsigned polls = w->expedited ? 256 : 4;
	const uint64_t sleep_max = w->expedited ? 100000 : 2000000;
	uint64_t delay = w->expedited ? 1000 : 20000;

	for (unsigned n = 0; !srcu_index_idle(sp, i); n++) {
		srcu_check_stall(sp, i, w);
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

/*
 * classic's reader wait, as Linux 3.0-3.3 __synchronize_srcu: if the index
 * is busy, udelay(SYNCHRONIZE_SRCU_READER_DELAY) (10 us) once, then
 * schedule_timeout_interruptible(1) (one jiffy) until it drains.  (3.4's
 * rewrite retried the short delay up to 10 times when expedited.)
 */
#define SRCU_CLASSIC_SPIN_NS 10000
#define SRCU_CLASSIC_SPINS 1

static void srcu_wait_index_classic(struct srcu_struct *sp, int i, struct srcu_wait *w)
{
	for (unsigned n = 0; !srcu_index_idle(sp, i); n++) {
		srcu_check_stall(sp, i, w);
		if (n < SRCU_CLASSIC_SPINS)
			spin_for_ns(SRCU_CLASSIC_SPIN_NS);
		else
			sleep_ns(sp->jiffy_ns);
	}
}

/* ---- grace periods ---- */

/* A statistic only grace periods write, under gp_mutex: a load and a
 * store, no locked instruction (relaxed: readers of statistics need no
 * order). */
static void stat_inc_locked(atomic_ulong *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static int srcu_flip(struct srcu_struct *sp)
{
	/* relaxed load: gp_mutex holders are the only writers of idx */
	unsigned word = atomic_load_explicit(&sp->idx, memory_order_relaxed);

	/* relaxed: see the top on why no fence surrounds the flip */
	atomic_store_explicit(&sp->idx, word ^ 1u, memory_order_relaxed);
	srcu_hook(sp, SRCU_HOOK_FLIPPED, (int)(word & 1u));
	return (int)(word & 1u);
}

/* mb and fast: fence A, the idle check or both scans around the flip. */
static int srcu_gp_modern(struct srcu_struct *sp, struct srcu_wait *w)
{
	int rc = 0, cur;

	if (!MUTANT(srcu_skip_fence_a))
		rc = srcu_fence_a(sp, w->expedited);
	if (rc)
		return rc;
	if (sp->idle_fast_path && srcu_readers_idle(sp)) {
		stat_inc_locked(&sp->stat_gp_idle);
		return 0;
	}
	cur = (int)(atomic_load_explicit(&sp->idx, memory_order_relaxed) & 1u);
	if (!MUTANT(srcu_skip_straggler_wait))
		srcu_wait_index(sp, cur ^ 1, w); /* [straggler] */
	srcu_flip(sp);
	if (!MUTANT(srcu_skip_old_index_wait))
		srcu_wait_index(sp, cur, w); /* [old] */
	stat_inc_locked(&sp->stat_gp_full);
	return 0;
}

/*
 * classic: sync_func, flip, sync_func, wait for the old index, sync_func,
 * as the 2012 __synchronize_srcu, with one step added.  The kernel's
 * second sync_func also waited for every srcu_read_lock that had read the
 * old index to finish its increment (they ran with preemption disabled),
 * so no straggler could land on an index after its scan.  membarrier()
 * does not wait for a preempted thread between two user instructions, so
 * here, as in mb and fast, the inactive index is scanned for stragglers
 * before the flip (one sum while idle).  The first sync_func is fence A;
 * the second and third are kept for their cost: here the straggler scan
 * does the second's job and the unlock's release store the third's
 * (ordering the section before the unlock), so their mutants would
 * survive.
 */
static int srcu_gp_classic(struct srcu_struct *sp, struct srcu_wait *w)
{
	int rc = 0, cur;

	if (!MUTANT(srcu_classic_skip_sync1))
		rc = srcu_sync_func(sp, w->expedited);
	if (rc)
		return rc;
	cur = (int)(atomic_load_explicit(&sp->idx, memory_order_relaxed) & 1u);
	if (!MUTANT(srcu_skip_straggler_wait))
		srcu_wait_index_classic(sp, cur ^ 1, w);
	srcu_flip(sp);
	if ((rc = srcu_sync_func(sp, w->expedited)))
		return rc;
	if (!MUTANT(srcu_skip_old_index_wait))
		srcu_wait_index_classic(sp, cur, w);
	if ((rc = srcu_sync_func(sp, w->expedited)))
		return rc;
	stat_inc_locked(&sp->stat_gp_full);
	return 0;
}

static bool inside_own_read_section(struct srcu_struct *sp)
{
	for (struct srcu_reader *r = tls_readers; r; r = r->tls_next)
		if (r->sp == sp && srcu_reader_active(r))
			return true;
	return false;
}

/*
 * Has a grace period that covers a caller whose snapshot was @snap ended?
 * mb, fast: the next grace period to begin after the snapshot (if one was
 * running, the one after it).  classic, as 2012: two grace periods ended
 * while it waited for the mutex ("we need -two- advances of the counter").
 */
static bool srcu_covered(struct srcu_struct *sp, unsigned long snap)
{
	/* acquire: pairs with the release that ends a grace period */
	unsigned long now = atomic_load_explicit(&sp->gp_seq, memory_order_acquire);

	if (sp->flavour == SRCU_FLAVOUR_CLASSIC)
		return (now >> 1) - (snap >> 1) >= (MUTANT(srcu_classic_share_one) ? 1u : 2u);
	if (MUTANT(srcu_share_running_gp))
		return (long)(now - ((snap + 2) & ~1ul)) >= 0; /* the running one */
	return (long)(now - ((snap + 3) & ~1ul)) >= 0;
}

static int srcu_synchronize_common(struct srcu_struct *sp, bool expedited)
{
	struct srcu_wait w = { .expedited = expedited };
	unsigned long snap, seq;
	int rc;

	if (inside_own_read_section(sp))
		return -EDEADLK;
	if ((rc = srcu_failed(sp)))
		return rc;
	/* Order the caller's updates (the unpublish) before the snapshot:
	 * see grace-period sharing at the top. */
	atomic_thread_fence(memory_order_seq_cst);
	/* acquire: pairs with the release that ends a grace period, as in
	 * srcu_covered, which loads it again under gp_mutex (the fence above
	 * is the order that matters here) */
	snap = atomic_load_explicit(&sp->gp_seq, memory_order_acquire);
	srcu_hook(sp, SRCU_HOOK_SNAPSHOT, -1);

	pthread_mutex_lock(&sp->gp_mutex);
	if (srcu_covered(sp, snap)) {
		pthread_mutex_unlock(&sp->gp_mutex);
		atomic_fetch_add_explicit(&sp->stat_gp_shared, 1, memory_order_relaxed);
		return 0;
	}
	if ((rc = srcu_failed(sp))) {
		pthread_mutex_unlock(&sp->gp_mutex);
		return rc;
	}
	/* relaxed: only gp_mutex holders write it; fence A, after this store,
	 * pairs with the fence before a caller's snapshot (SB shape), so a
	 * snapshot that missed the odd value came before fence A */
	seq = atomic_load_explicit(&sp->gp_seq, memory_order_relaxed);
	atomic_store_explicit(&sp->gp_seq, seq + 1, memory_order_relaxed);
	srcu_hook(sp, SRCU_HOOK_GP_BEGIN, -1);
	rc = sp->flavour == SRCU_FLAVOUR_CLASSIC ? srcu_gp_classic(sp, &w) : srcu_gp_modern(sp, &w);
	/* A failed grace period leaves the sequence odd: it never ends. */
	if (!rc)
		/* release: whoever sees the new sequence (srcu_covered) also
		 * sees everything this grace period waited for. */
		atomic_store_explicit(&sp->gp_seq, seq + 2, memory_order_release);
	pthread_mutex_unlock(&sp->gp_mutex);
	return rc;
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

/* ---- callbacks ---- */

static void invoke_batch(struct srcu_head *batch, uint64_t *n)
{
	while (batch) {
		struct srcu_head *next = batch->next;

		batch->func(batch);
		batch = next;
		(*n)++;
	}
}

/*
 * The callback thread: takes every queued callback as one batch, waits one
 * grace period for the batch (callbacks queued meanwhile wait for the next
 * one), then invokes them in queue order.  On a failed domain it invokes
 * nothing more and wakes srcu_barrier's waiters.
 */
static void *srcu_callback_thread(void *arg)
{
	struct srcu_struct *sp = arg;

	pthread_mutex_lock(&sp->cb_lock);
	for (;;) {
		struct srcu_head *batch;
		uint64_t n = 0;
		int rc = 0;

		while (!sp->cb_head && !sp->cb_stop)
			pthread_cond_wait(&sp->cb_cond, &sp->cb_lock);
		if (!sp->cb_head && sp->cb_stop)
			break;
		batch = sp->cb_head;
		sp->cb_head = NULL;
		sp->cb_tail = &sp->cb_head;
		pthread_mutex_unlock(&sp->cb_lock);

		if (!MUTANT(srcu_callback_skip_gp))
			rc = synchronize_srcu(sp);
		if (!rc)
			invoke_batch(batch, &n);

		pthread_mutex_lock(&sp->cb_lock);
		sp->cb_invoked += n;
		pthread_cond_broadcast(&sp->cb_done_cond);
	}
	pthread_mutex_unlock(&sp->cb_lock);
	return NULL;
}

int call_srcu(struct srcu_struct *sp, struct srcu_head *head, void (*func)(struct srcu_head *head))
{
	int rc;

	if ((rc = srcu_failed(sp)))
		return rc;
	head->func = func;
	head->next = NULL;
	pthread_mutex_lock(&sp->cb_lock);
	if (!sp->cb_thread_started) {
		rc = pthread_create(&sp->cb_thread, NULL, srcu_callback_thread, sp);
		if (rc) {
			/* No thread: a synchronous grace period, then the callback. */
			pthread_mutex_unlock(&sp->cb_lock);
			if ((rc = synchronize_srcu(sp)))
				return rc;
			func(head);
			return 0;
		}
		sp->cb_thread_started = true;
	}
	*sp->cb_tail = head;
	sp->cb_tail = &head->next;
	sp->cb_queued++;
	pthread_cond_signal(&sp->cb_cond);
	pthread_mutex_unlock(&sp->cb_lock);
	return 0;
}

int srcu_barrier(struct srcu_struct *sp)
{
	uint64_t target;
	int rc;

	pthread_mutex_lock(&sp->cb_lock);
	target = sp->cb_queued;
	while (sp->cb_invoked < target && !srcu_failed(sp))
		pthread_cond_wait(&sp->cb_done_cond, &sp->cb_lock);
	rc = sp->cb_invoked < target ? srcu_failed(sp) : 0;
	pthread_mutex_unlock(&sp->cb_lock);
	return rc;
}

void srcu_get_stats(struct srcu_struct *sp, struct srcu_stats *st)
{
	st->gp_full = atomic_load_explicit(&sp->stat_gp_full, memory_order_relaxed);
	st->gp_idle = atomic_load_explicit(&sp->stat_gp_idle, memory_order_relaxed);
	st->gp_shared = atomic_load_explicit(&sp->stat_gp_shared, memory_order_relaxed);
	st->stalls = atomic_load_explicit(&sp->stat_stalls, memory_order_relaxed);
}

static void srcu_stop_callbacks(struct srcu_struct *sp)
{
	if (!sp->cb_thread_started)
		return;
	pthread_mutex_lock(&sp->cb_lock);
	sp->cb_stop = true;
	/* a failed domain drops what is queued: it will never be safe to run */
	sp->cb_head = NULL;
	sp->cb_tail = &sp->cb_head;
	pthread_cond_signal(&sp->cb_cond);
	pthread_mutex_unlock(&sp->cb_lock);
	pthread_join(sp->cb_thread, NULL);
}

int srcu_destroy(struct srcu_struct *sp, char *err, size_t errlen)
{
	int active = 0, registered, failed = srcu_failed(sp);
	uint64_t pending;

	set_err(err, errlen, "%s", "");
	pthread_mutex_lock(&sp->readers_lock);
	registered = sp->nreaders;
	for (int k = 0; k < sp->nreaders; k++)
		if (srcu_reader_active(sp->readers[k]))
			active++;
	pthread_mutex_unlock(&sp->readers_lock);
	pthread_mutex_lock(&sp->cb_lock);
	pending = sp->cb_queued - sp->cb_invoked;
	pthread_mutex_unlock(&sp->cb_lock);
	if (registered || (pending && !failed)) {
		set_err(err, errlen,
			"srcu: destroy of %s refused: %d reader(s) still registered (%d inside a "
			"read section), %llu callback(s) not yet invoked",
			sp->name, registered, active, (unsigned long long)pending);
		return -EBUSY;
	}
	if (pending)
		set_err(err, errlen, "srcu: %s failed (%s): %llu callback(s) never invoked",
			sp->name, strerror(-failed), (unsigned long long)pending);
	srcu_stop_callbacks(sp);
	srcu_stop_cpus_destroy(sp->stoppers);
	sp->stoppers = NULL;
	free(sp->readers);
	sp->readers = NULL;
	pthread_mutex_destroy(&sp->readers_lock);
	pthread_mutex_destroy(&sp->gp_mutex);
	pthread_mutex_destroy(&sp->cb_lock);
	pthread_cond_destroy(&sp->cb_cond);
	pthread_cond_destroy(&sp->cb_done_cond);
	return 0;
}
