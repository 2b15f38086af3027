/*
 * Sleepable RCU in userspace.
 *
 * A domain (struct srcu_struct) protects objects that readers reach inside
 * read sections; an updater that unpublishes an object waits a grace period
 * (synchronize_srcu) or queues a callback (call_srcu) before it frees it.
 * Read sections may nest and may sleep.  Several domains are independent.
 *
 * Each reader thread registers once per domain and gets a struct srcu_reader
 * of its own: two monotonic counters per index, lock[2] and unlock[2], on a
 * cache line no other thread writes.  A read section increments lock[idx] on
 * entry and unlock[idx] on exit, with idx the domain's current index read at
 * entry.  A grace period flips the current index and waits until the sum of
 * unlock[old] over all readers equals the sum of lock[old].  The updater-side
 * argument is in srcu.c, at the top.
 *
 * Three flavours, chosen per domain by name (srcu_flavour_parse):
 *   mb       a full fence in lock and in unlock, as the kernel's
 *            srcu_read_lock/srcu_read_unlock;
 *   fast     compiler barriers only; each grace period forces the readers'
 *            ordering once with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED).
 *            srcu_init decides, before any reader can register, whether the
 *            kernel has it; if not, the domain is mb and the caller is told;
 *   classic  the 2012 kernel's SRCU (Linux 3.0-3.3 kernel/srcu.c): the same
 *            fence-free read side; a grace period runs sync_func, flips,
 *            sync_func, waits for the old index with a few 10 us spins and
 *            then one-jiffy sleeps, sync_func; grace periods serialized on a
 *            mutex; no idle fast path.  sync_func is membarrier(GLOBAL)
 *            (the kernel runs synchronize_rcu) or, expedited, as
 *            srcu_options.expedited says: stop-cpus (the default:
 *            membarrier(PRIVATE_EXPEDITED) and a stop of every CPU by
 *            pinned stopper threads, as synchronize_sched_expedited's
 *            try_stop_cpus) or membarrier (the IPI alone).  srcu.c and
 *            stop_cpus.c say what differs.
 *
 * lib/srcu never prints: errors are -errno or NULL with one line in the
 * caller's err buffer (err may be NULL), stall reports and failures go to
 * the report callback of srcu_options.
 */
#ifndef DLBENCH_SRCU_H
#define DLBENCH_SRCU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/util/compiler.h"

#define SRCU_CACHELINE 64

/* The flavours, one line each: X(ENUM_SUFFIX, "name"). */
#define SRCU_FLAVOURS(X) \
	X(MB, "mb")      \
	X(FAST, "fast")  \
	X(CLASSIC, "classic")

/* clang-format off */
enum srcu_flavour {
#define SRCU_FLAVOUR_ENUM(e, n) SRCU_FLAVOUR_##e,
	SRCU_FLAVOURS(SRCU_FLAVOUR_ENUM)
#undef SRCU_FLAVOUR_ENUM
	SRCU_FLAVOUR_COUNT
};
/* clang-format on */

/* "mb", "fast", "classic", NULL: indexed by flavour, usable as the choices
 * of a WL_CHOICE option. */
extern const char *const srcu_flavour_names[SRCU_FLAVOUR_COUNT + 1];
/* The flavour named @name, or -1. */
int srcu_flavour_parse(const char *name);
/* Its name ("?" for a value out of range). */
const char *srcu_flavour_name(enum srcu_flavour f);

/* classic's expedited sync_func, one line each: X(ENUM_SUFFIX, "name").
 * The first is the default (srcu_options_default). */
#define SRCU_EXPEDITED_MECHANISMS(X) \
	X(STOP_CPUS, "stop-cpus")    \
	X(MEMBARRIER, "membarrier")

/* clang-format off */
enum srcu_expedited {
#define SRCU_EXPEDITED_ENUM(e, n) SRCU_EXPEDITED_##e,
	SRCU_EXPEDITED_MECHANISMS(SRCU_EXPEDITED_ENUM)
#undef SRCU_EXPEDITED_ENUM
	SRCU_EXPEDITED_COUNT
};
/* clang-format on */

/* "stop-cpus", "membarrier", NULL: indexed by enum srcu_expedited, usable
 * as the choices of a WL_CHOICE option. */
extern const char *const srcu_expedited_names[SRCU_EXPEDITED_COUNT + 1];
/* The mechanism named @name, or -1. */
int srcu_expedited_parse(const char *name);

/*
 * The domain's index word: bit 0 is the current index; SRCU_IDX_FENCED is
 * set for the whole life of an mb domain.  A reader loads the word anyway,
 * so the flavour costs it no load of its own (issue: a flavour branch on a
 * field of the reader cost a quarter of a nanosecond per pair).  The int
 * srcu_read_lock returns is the word as it read it: opaque to the caller.
 */
#define SRCU_IDX_FENCED 2u

struct srcu_struct;

struct srcu_reader {
	/* Hot: written only by the owning thread, read by grace periods. */
	_Alignas(SRCU_CACHELINE) atomic_ulong lock[2];
	atomic_ulong unlock[2];
	const atomic_uint *idxp; /* &sp->idx, saves a dependent load */

	/* Cold. */
	_Alignas(SRCU_CACHELINE) struct srcu_struct *sp;
	struct srcu_reader *tls_next; /* this thread's readers, all domains */
	pid_t tid;
	char name[32];
};

struct srcu_head {
	struct srcu_head *next;
	void (*func)(struct srcu_head *head);
};

/* Where a test hook is called from (srcu_test_hooks.at). */
/* clang-format off */
enum srcu_hook_point {
	SRCU_HOOK_SNAPSHOT,   /* a synchronize caller took its snapshot; idx -1 */
	SRCU_HOOK_GP_BEGIN,   /* a grace period holds the mutex, sequence odd */
	SRCU_HOOK_SCAN_MID,   /* between the two sums of a scan; idx, or -1 for
				 the idle check of both indexes */
	SRCU_HOOK_FLIPPED,    /* the new index is stored; idx = the old one */
};
/* clang-format on */

/*
 * Tests only: hooks that open race windows every time, and a replacement
 * for membarrier(2) (fault injection, and the emulated store buffer of
 * tests/test_srcu.c).  NULL members are skipped.
 */
struct srcu_test_hooks {
	void (*at)(void *arg, struct srcu_struct *sp, enum srcu_hook_point where, int idx);
	/* returns what membarrier(2) would: 0 or a mask, -1 with errno set */
	int (*membarrier)(void *arg, int cmd);
	void *arg;
};

struct srcu_options {
	enum srcu_flavour flavour;
	/* mb, fast (the fast path of the 2012 call_srcu thread): let a
	 * grace period return at once, without flipping, when no reader
	 * holds either index.  Classic has none. */
	bool idle_fast_path;
	/* A grace period that has waited for readers longer than this (from
	 * its first busy scan) reports once which readers still hold the
	 * index; 0: never. */
	uint64_t stall_timeout_ns;
	/* classic: the jiffy its reader wait sleeps is 1/hz s (default 250) */
	unsigned hz;
	/* classic: the expedited sync_func (default stop-cpus); ignored by
	 * mb and fast */
	enum srcu_expedited expedited;
	const char *name;
	/* One line at a time: stall reports, a membarrier that failed after
	 * srcu_init.  NULL: they are only counted (srcu_get_stats). */
	void (*report)(void *arg, const char *line);
	void *report_arg;
	const struct srcu_test_hooks *test;
};

struct srcu_stats {
	uint64_t gp_full;   /* grace periods that flipped and waited */
	uint64_t gp_idle;   /* grace periods ended by the idle fast path */
	uint64_t gp_shared; /* synchronize calls covered by another caller's */
	uint64_t stalls;    /* stall reports */
};

struct srcu_struct {
	/* Read by every reader on every lock: a line of its own. */
	_Alignas(SRCU_CACHELINE) atomic_uint idx;

	_Alignas(SRCU_CACHELINE) enum srcu_flavour flavour;
	bool idle_fast_path;
	uint64_t stall_timeout_ns;
	uint64_t jiffy_ns;
	char name[32];
	void (*report)(void *arg, const char *line);
	void *report_arg;
	const struct srcu_test_hooks *test;
	/* -errno of a membarrier that failed after srcu_init: every grace
	 * period fails from then on (a fence-free reader is unprotected). */
	atomic_int failed;
	/* classic: the expedited sync_func; its stoppers (stop-cpus), started
	 * by srcu_init, joined by srcu_destroy */
	enum srcu_expedited expedited;
	struct srcu_stop_cpus *stoppers;

	pthread_mutex_t readers_lock; /* registration vs. scans */
	struct srcu_reader **readers;
	int nreaders, readers_cap;

	pthread_mutex_t gp_mutex; /* one grace period at a time */
	/* Grace-period sequence: even = idle, odd = a grace period running;
	 * each grace period adds 2. */
	atomic_ulong gp_seq;

	/* call_srcu: a FIFO of callbacks and the thread that runs them. */
	pthread_mutex_t cb_lock;
	pthread_cond_t cb_cond;	     /* work queued, or stop */
	pthread_cond_t cb_done_cond; /* a batch was invoked, or failed */
	struct srcu_head *cb_head, **cb_tail;
	uint64_t cb_queued, cb_invoked;
	bool cb_thread_started, cb_stop;
	pthread_t cb_thread;

	atomic_ulong stat_gp_full, stat_gp_idle, stat_gp_shared, stat_stalls;
};

/* Default options: mb flavour, idle fast path on, stall report after 10 s,
 * hz 250, classic's expedited sync_func stop-cpus. */
void srcu_options_default(struct srcu_options *o);
/*
 * Returns 0, or -errno with one line in @err (classic without the
 * membarrier commands it needs: -ENOSYS).  A fast domain whose membarrier
 * registration or first call fails becomes mb before any reader exists:
 * srcu_init then returns 0 with a notice in @err (err[0] is 0 otherwise)
 * and srcu_flavour_of says mb.
 */
int srcu_init(struct srcu_struct *sp, const struct srcu_options *o, char *err, size_t errlen);
/* The flavour the domain runs (after a fallback, mb). */
enum srcu_flavour srcu_flavour_of(const struct srcu_struct *sp);
/* What an expedited grace period's sync_func runs: classic "stop-cpus" or
 * "membarrier"; mb and fast "none" (their expedited grace period only
 * polls longer: it has no sync_func). */
const char *srcu_expedited_of(const struct srcu_struct *sp);
/* classic stop-cpus: "fifo" (every stopper is SCHED_FIFO) or "normal"
 * (sched_setscheduler was refused: normal priority); otherwise "none". */
const char *srcu_stopper_priority(const struct srcu_struct *sp);
/* classic stop-cpus: how many stoppers (CPUs) each stop reaches; else 0. */
int srcu_stopper_count(const struct srcu_struct *sp);
/* Returns 0; -EBUSY with one line in @err if readers are still registered
 * (naming those inside a read section) or callbacks are queued, in which
 * case nothing is freed.  A failed domain (see srcu_failed) is freed with
 * its callbacks never invoked, and a notice in @err. */
int srcu_destroy(struct srcu_struct *sp, char *err, size_t errlen);

/* Registers the calling thread as a reader of @sp; @name (may be NULL)
 * appears in stall reports.  NULL with one line in @err on error (already
 * registered, out of memory). */
struct srcu_reader *srcu_register_reader(struct srcu_struct *sp, const char *name, char *err,
					 size_t errlen);
/* Must be called by the owning thread outside any read section; -EBUSY
 * (inside a section) or -EPERM (another thread) with one line in @err. */
int srcu_unregister_reader(struct srcu_reader *r, char *err, size_t errlen);

/*
 * Test hooks on the read side: a test defines them before including
 * srcu.h.  SRCU_TORTURE_DELAY_AFTER_INDEX runs between reading the index
 * and incrementing its counter (the straggler window the two-scan grace
 * period exists for); SRCU_TEST_LOCK_STORE(p, v) stores the incremented
 * lock count and SRCU_TEST_BEFORE_UNLOCK(r) runs before the unlock count's
 * store (an emulated store buffer holds the first until the second, or
 * until a membarrier).  Plain code otherwise.
 */
#ifndef SRCU_TORTURE_DELAY_AFTER_INDEX
#define SRCU_TORTURE_DELAY_AFTER_INDEX() \
	do {                             \
	} while (0)
#endif
#ifndef SRCU_TEST_LOCK_STORE
#define SRCU_TEST_LOCK_STORE(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#endif
#ifndef SRCU_TEST_BEFORE_UNLOCK
#define SRCU_TEST_BEFORE_UNLOCK(r) \
	do {                       \
	} while (0)
#endif

/*
 * Enter a read section; returns what to pass to srcu_read_unlock.
 *
 * Only the owning thread writes r->lock[], so the increment is a load and a
 * store, not an atomic read-modify-write; grace periods read it with an
 * atomic load.
 */
static inline int srcu_read_lock(struct srcu_reader *r)
{
	/* relaxed: a stale index makes a straggler, which the grace period's
	 * two scans cover (srcu.c, "why two scans"); fence B orders the rest */
	unsigned word = atomic_load_explicit(r->idxp, memory_order_relaxed);
	atomic_ulong *c = &r->lock[word & 1u];

	SRCU_TORTURE_DELAY_AFTER_INDEX();
	SRCU_TEST_LOCK_STORE(c, atomic_load_explicit(c, memory_order_relaxed) + 1);
	/*
	 * Fence B: orders the lock increment before every access of the read
	 * section.  Pairs with fence A of a grace period (srcu.c): either the
	 * grace period's scans see this increment, or this section sees every
	 * store the updater made before the grace period.  fast and classic
	 * emit a compiler barrier only; the grace period's membarrier()
	 * promotes it to a full fence on every running thread.
	 */
	if (unlikely(word & SRCU_IDX_FENCED)) /* mb: the cost is the fence's */
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
	return (int)word;
}

/* Leave the read section entered with @idx (srcu_read_lock's value). */
static inline void srcu_read_unlock(struct srcu_reader *r, int idx)
{
	atomic_ulong *c = &r->unlock[idx & 1];
	/* relaxed: only this thread writes its counters */
	unsigned long n = atomic_load_explicit(c, memory_order_relaxed) + 1;

	/*
	 * Fence C: every access of the read section happens before the unlock
	 * increment becomes visible.  Pairs with the scans' acquire loads of
	 * unlock[]: a scan that counts this unlock also counts the matching
	 * lock, and the updater's frees come after the section's last access.
	 * The release store alone gives this on every architecture (and is
	 * what ThreadSanitizer follows); mb adds the kernel's full fence, as
	 * the reference cost of a fenced read side.
	 */
	SRCU_TEST_BEFORE_UNLOCK(r);
	if (unlikely((unsigned)idx & SRCU_IDX_FENCED))
		atomic_thread_fence(memory_order_seq_cst);
	atomic_store_explicit(c, n, memory_order_release);
}

/* True if the calling thread is inside a read section of @r's domain. */
bool srcu_reader_active(const struct srcu_reader *r);

/*
 * Wait until every read section that began before the call has ended.
 * Callers that arrive while a grace period runs share the next one.
 * Returns 0; -EDEADLK when called from inside a read section of the same
 * domain; or, once a membarrier has failed after srcu_init, that failure's
 * -errno (with a line to the report callback the first time): the grace
 * period did not happen, and never will on this domain.
 */
int synchronize_srcu(struct srcu_struct *sp);
/* The same, polling without sleeping for longer before it backs off
 * (classic: its sync_func is srcu_options.expedited's). */
int synchronize_srcu_expedited(struct srcu_struct *sp);

/* Run @func(@head) on the domain's callback thread after a grace period.
 * Callbacks run in the order they were queued.  Returns 0, or the failed
 * domain's -errno (the callback will never run). */
int call_srcu(struct srcu_struct *sp, struct srcu_head *head, void (*func)(struct srcu_head *head));
/* Wait until every callback queued before the call has been invoked;
 * 0, or the failed domain's -errno. */
int srcu_barrier(struct srcu_struct *sp);

void srcu_get_stats(struct srcu_struct *sp, struct srcu_stats *st);
/* Number of completed grace periods (full or idle) so far. */
unsigned long srcu_completed(struct srcu_struct *sp);
/* The failure's -errno after a membarrier failed, else 0. */
int srcu_failed(struct srcu_struct *sp);

#endif
