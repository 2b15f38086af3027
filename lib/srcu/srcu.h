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
 * argument is in srcu.c, at the fences.
 *
 * Two read-side flavours, chosen per domain:
 *   SRCU_FLAVOUR_MB    a full fence in lock and in unlock, as the kernel's
 *                      srcu_read_lock/srcu_read_unlock;
 *   SRCU_FLAVOUR_FAST  compiler barriers only; the updater forces the
 *                      readers' ordering with
 *                      membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) at each
 *                      point where the mb flavour relies on the readers'
 *                      fences.  Falls back to MB, with a one-line notice, on
 *                      a kernel without it.
 */
#ifndef DLBENCH_SRCU_H
#define DLBENCH_SRCU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SRCU_CACHELINE 64

enum srcu_flavour {
	SRCU_FLAVOUR_MB,
	SRCU_FLAVOUR_FAST,
};

struct srcu_struct;

struct srcu_reader {
	/* Hot: written only by the owning thread, read by grace periods. */
	_Alignas(SRCU_CACHELINE) atomic_ulong lock[2];
	atomic_ulong unlock[2];
	const atomic_uint *idxp;       /* &sp->idx, saves a dependent load */
	bool fast;                     /* flavour of the domain, copied */

	/* Cold. */
	_Alignas(SRCU_CACHELINE) struct srcu_struct *sp;
	struct srcu_reader *tls_next;  /* this thread's readers, all domains */
	pid_t tid;
	char name[32];
};

struct srcu_head {
	struct srcu_head *next;
	void (*func)(struct srcu_head *head);
};

struct srcu_options {
	enum srcu_flavour flavour;
	/* Seed 000: let a grace period return at once, without flipping, when
	 * no reader holds either index and none started while it checked. */
	bool idle_fast_path;
	/* A grace period waiting longer than this prints once which readers
	 * still hold the old index; 0: never. */
	uint64_t stall_timeout_ns;
	const char *name;
};

struct srcu_stats {
	uint64_t gp_full;      /* grace periods that flipped and waited */
	uint64_t gp_idle;      /* grace periods ended by the idle fast path */
	uint64_t gp_shared;    /* synchronize calls covered by another caller's */
	uint64_t stalls;       /* stall reports printed */
};

struct srcu_struct {
	/* Read by every reader on every lock: a line of its own. */
	_Alignas(SRCU_CACHELINE) atomic_uint idx;

	_Alignas(SRCU_CACHELINE) enum srcu_flavour flavour;
	bool idle_fast_path;
	uint64_t stall_timeout_ns;
	char name[32];

	pthread_mutex_t readers_lock;  /* registration vs. scans */
	struct srcu_reader **readers;
	int nreaders, readers_cap;

	pthread_mutex_t gp_mutex;      /* one grace period at a time */
	/* Grace-period sequence: even = idle, odd = a grace period running;
	 * each grace period adds 2. */
	atomic_ulong gp_seq;

	/* call_srcu: a FIFO of callbacks and the thread that runs them. */
	pthread_mutex_t cb_lock;
	pthread_cond_t cb_cond;        /* work queued, or stop */
	pthread_cond_t cb_done_cond;   /* a batch was invoked */
	struct srcu_head *cb_head, **cb_tail;
	uint64_t cb_queued, cb_invoked;
	bool cb_thread_started, cb_stop;
	pthread_t cb_thread;

	atomic_ulong stat_gp_full, stat_gp_idle, stat_gp_shared, stat_stalls;
};

/* Default options: mb flavour, idle fast path on, stall report after 10 s. */
void srcu_options_default(struct srcu_options *o);
/* Returns 0, or -errno with a message on stderr. */
int srcu_init(struct srcu_struct *sp, const struct srcu_options *o);
/* Returns 0; -EBUSY with a one-line report if readers are still registered
 * (naming those inside a read section) or callbacks are queued, in which
 * case nothing is freed. */
int srcu_destroy(struct srcu_struct *sp);

/* Registers the calling thread as a reader of @sp; @name (may be NULL)
 * appears in stall reports.  Returns NULL with a message on error. */
struct srcu_reader *srcu_register_reader(struct srcu_struct *sp, const char *name);
/* Must be called by the owning thread outside any read section; returns
 * -EBUSY with a message otherwise. */
int srcu_unregister_reader(struct srcu_reader *r);

/*
 * The torture test defines this before including srcu.h to delay readers
 * between reading the index and incrementing its counter (the straggler
 * window the two-scan grace period exists for).  Empty otherwise.
 */
#ifndef SRCU_TORTURE_DELAY_AFTER_INDEX
#define SRCU_TORTURE_DELAY_AFTER_INDEX() do { } while (0)
#endif

/*
 * Enter a read section; returns the index to pass to srcu_read_unlock.
 *
 * Only the owning thread writes r->lock[], so the increment is a load and a
 * store, not an atomic read-modify-write; grace periods read it with an
 * atomic load.
 */
static inline int srcu_read_lock(struct srcu_reader *r)
{
	unsigned idx = atomic_load_explicit(r->idxp, memory_order_relaxed) & 1u;
	unsigned long c;

	SRCU_TORTURE_DELAY_AFTER_INDEX();
	c = atomic_load_explicit(&r->lock[idx], memory_order_relaxed);
	atomic_store_explicit(&r->lock[idx], c + 1, memory_order_relaxed);
	/*
	 * Fence B: orders the lock[idx] increment before every access of the
	 * read section.  Pairs with fence A in a grace period's scan (sum
	 * unlocks, A, sum locks) and with the fences around the index flip:
	 * either the scan sees this increment, or this section sees every
	 * store the updater made before the grace period.  The fast flavour
	 * emits only a compiler barrier; the updater's membarrier() promotes
	 * it to a full fence on every running thread.
	 */
	if (r->fast)
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	return (int)idx;
}

/* Leave the read section entered with index @idx. */
static inline void srcu_read_unlock(struct srcu_reader *r, int idx)
{
	unsigned long c = atomic_load_explicit(&r->unlock[idx], memory_order_relaxed);

	/*
	 * Fence C: every access of the read section happens before the
	 * unlock[idx] increment becomes visible.  Pairs with the scan's
	 * acquire loads of unlock[] followed by fence A: a scan that counts
	 * this unlock also counts the matching lock, and the updater's frees
	 * come after the section's last access.  The release store alone
	 * gives this on every architecture (and is what ThreadSanitizer
	 * follows); the mb flavour adds the kernel's full fence.
	 */
	if (!r->fast)
		atomic_thread_fence(memory_order_seq_cst);
	atomic_store_explicit(&r->unlock[idx], c + 1, memory_order_release);
}

/* True if the calling thread is inside a read section of @r's domain. */
bool srcu_reader_active(const struct srcu_reader *r);

/*
 * Wait until every read section that began before the call has ended.
 * Callers that arrive while a grace period runs share the next one.
 * Returns 0, or -EDEADLK (with a message) when called from inside a read
 * section of the same domain.
 */
int synchronize_srcu(struct srcu_struct *sp);
/* The same, polling without sleeping for longer before it backs off. */
int synchronize_srcu_expedited(struct srcu_struct *sp);

/* Run @func(@head) on the domain's callback thread after a grace period.
 * Callbacks run in the order they were queued. */
void call_srcu(struct srcu_struct *sp, struct srcu_head *head,
	       void (*func)(struct srcu_head *head));
/* Wait until every callback queued before the call has been invoked. */
void srcu_barrier(struct srcu_struct *sp);

void srcu_get_stats(struct srcu_struct *sp, struct srcu_stats *st);
/* Number of completed grace periods (full or idle) so far. */
unsigned long srcu_completed(struct srcu_struct *sp);

/* "mb" / "fast" */
const char *srcu_flavour_name(enum srcu_flavour f);

#endif
