/*
 * Reverse maps (rmap) and write-protect walks, after the 2013 thread
 * "[PATCH v3 07/15] KVM: MMU: introduce nulls desc" (lockless rmap walks
 * for dirty logging's write protection, rculist_nulls style).
 *
 * For each guest page (gfn) an rmap lists the sptes that map it, so that
 * dirty logging can write-protect every mapping of a page.  A list is a
 * chain of descriptors of RMAP_DESC_SPTES spte pointers each.  Writers (the
 * page-fault and zap paths) add and remove sptes under mmu_lock; a walker
 * write-protects every spte of one gfn.
 *
 * Layout, kept by the writers under mmu_lock:
 *   - the head and each desc->more hold a link: a desc pointer with the
 *     position of that desc in bits RMAP_POS_SHIFT.., or the list's "nulls"
 *     marker (the head's own address | 1) at the end of the chain;
 *   - positions count from the tail: the last desc is 1, the head's desc is
 *     the number of descs, so along a chain they fall by exactly one;
 *   - new sptes fill the first desc, whose entries are contiguous from
 *     slot 0; a full first desc gets a new desc pushed in front of it; every
 *     other desc is full;
 *   - a removed spte's slot is refilled with the last entry of the first
 *     desc (stored into the hole before the old slot is cleared), and an
 *     emptied first desc is unlinked.
 *
 * Unlinked descs are type-stable, as with SLAB_TYPESAFE_BY_RCU: up to
 * desc_cache of them wait in a cache and are reused at once, possibly by
 * another gfn's list while a lockless walker still stands on them; the
 * rest are poisoned and freed only after an SRCU grace period, so that a
 * lockless walker (inside a read section) never touches freed memory.  A
 * walker that followed a reused desc into another list ends on that list's
 * nulls marker, sees it is not its own, and restarts.
 *
 * Walkers, one table of operations each (struct rmap_walker_ops), named
 * NAME[:max-restarts=N] (lib/util/spec.h):
 *   locked        the whole walk under mmu_lock
 *   lockless      no lock; restart on a foreign nulls marker; after
 *                 max_restarts restarts fall back to the locked walk
 *   lockless-pos  as lockless, and follow a link only if the position it
 *                 carries is below the current desc's (the position-encoded
 *                 descs Xiao Guangrong proposed in that thread): each pass
 *                 ends within as many steps as the head's position
 * Lockless walkers visit each desc's slots from last to first: an entry
 * moved by a removal goes from the first desc's last slot into a hole the
 * walker has not passed yet, or one it passed while the entry was still
 * in a slot it had not visited.
 */
#ifndef DLBENCH_RMAP_H
#define DLBENCH_RMAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/srcu/srcu.h"

/* The built-in walkers, one line each: the ops table of walker N is
 * rmap_walker_N_ops, in lib/rmap/N.c (its name has '-' for '_'). */
#define RMAP_WALKERS(X) X(locked) X(lockless) X(lockless_pos)

#define RMAP_DESC_SPTES 7    /* PTE_LIST_EXT */
#define RMAP_POS_SHIFT 48    /* user addresses fit in 47 bits */
#define RMAP_POS_MAX 0x7fffu /* bits 48..62 */
#define RMAP_NULLS_BIT 1u

#define SPTE_PRESENT (1ull << 0)
#define SPTE_WRITABLE (1ull << 1)

#define RMAP_DESC_LIVE 0x44455343u /* "DESC" */
#define RMAP_DESC_POISON 0xdeadbeefu

typedef _Atomic uint64_t spte_t;

struct rmap_desc {
	_Atomic(uintptr_t) sptes[RMAP_DESC_SPTES]; /* spte_t *, 0 = empty */
	_Atomic(uintptr_t) more;		   /* link, see above */
	atomic_uint state;			   /* RMAP_DESC_LIVE or POISON */
	bool keep;				   /* keep_freed: poison only */
	struct rmap_desc *cache_next;		   /* cache or kept list, under mmu_lock */
	struct srcu_head rcu;
};

struct rmap_head {
	_Atomic(uintptr_t) val;
};

struct rmap_options {
	uint32_t ngfns;
	uint32_t desc_cache; /* unlinked descs kept for reuse */
	enum srcu_flavour srcu_flavour;

	/* ---- for the tests only (zero in the benchmark) ---- */
	/* Called by the writers, under mmu_lock, between every two of their
	 * stores that a lockless walker can observe, so that a test can walk
	 * the list at each point: the window of every store-order bug opened
	 * every time. */
	void (*step_hook)(void *arg);
	void *step_arg;
	/* A desc freed after a grace period is poisoned but kept until
	 * destroy: a walker that still stands on it (a bug) reads the
	 * poison, well-defined, instead of freed memory. */
	bool keep_freed;
};

struct rmap_stats {
	uint64_t desc_allocs;  /* descs taken from malloc */
	uint64_t desc_reuses;  /* descs taken from the cache */
	uint64_t desc_retired; /* descs handed to call_srcu */
};

struct rmap {
	uint32_t ngfns;
	struct rmap_head *heads;
	pthread_mutex_t mmu_lock;
	struct srcu_struct srcu;
	void (*step_hook)(void *arg);
	void *step_arg;
	bool keep_freed;
	/* Under mmu_lock. */
	struct rmap_desc *cache;
	uint32_t ncached, cache_max;
	struct rmap_desc *kept; /* keep_freed: retired descs */
	struct rmap_stats stats;
};

/* 0, or -errno with one line in @err. */
int rmap_init(struct rmap *rm, const struct rmap_options *o, char *err, size_t errlen);
/* Frees every desc; no walker or writer may run.  -EBUSY if a reader is
 * still registered. */
int rmap_destroy(struct rmap *rm);

/* Writer side: the caller holds rm->mmu_lock.  rmap_add returns -ENOMEM,
 * or -ERANGE if the list would exceed RMAP_POS_MAX descs; rmap_remove
 * returns -ENOENT if @spte is not in @gfn's list. */
int rmap_add(struct rmap *rm, uint32_t gfn, spte_t *spte);
int rmap_remove(struct rmap *rm, uint32_t gfn, spte_t *spte);
/* Sptes in @gfn's list, counted under mmu_lock by the caller. */
uint32_t rmap_count(struct rmap *rm, uint32_t gfn);

static inline void rmap_lock(struct rmap *rm)
{
	pthread_mutex_lock(&rm->mmu_lock);
}

static inline void rmap_unlock(struct rmap *rm)
{
	pthread_mutex_unlock(&rm->mmu_lock);
}

/* A walker thread's handle (its SRCU reader for the lockless walkers). */
struct rmap_reader {
	struct rmap *rm;
	struct srcu_reader *srcu;
};

/* 0, or -ENOMEM. */
int rmap_reader_register(struct rmap_reader *r, struct rmap *rm, const char *name);
void rmap_reader_unregister(struct rmap_reader *r);

/* One walk's outcome. */
struct rmap_walk {
	uint32_t restarts;     /* lockless passes that ended on a foreign marker */
	bool fallback;	       /* finished by the locked walk */
	uint32_t protected;    /* sptes whose writable bit this walk cleared */
	uint32_t visited;      /* spte entries read, over all passes */
	uint32_t poisoned;     /* descs found poisoned: must stay 0 */
	uint32_t longest_pass; /* descs visited by the longest pass */
};

struct rmap_walk_opts {
	uint32_t max_restarts; /* restarts before the locked fallback */
	/* Busy time after each desc, in every walker (locked ones hold the
	 * lock through it): the work a real write-protect does per spte
	 * (TLB-flush bookkeeping, dirty-bit checks) that widens the window in
	 * which a writer can move the walker's desc. */
	uint64_t desc_delay_ns;
	/* Tests only: called in lockless passes (never under mmu_lock) after
	 * each desc's slots were visited, before its link is read. */
	void (*on_desc)(struct rmap_walk *w, void *arg);
	void *arg;
	/* Fault injection for the tests only: accept any nulls marker as the
	 * end of the walk.  Proves the tests notice a missed spte. */
	bool unsafe_ignore_nulls;
};

struct rmap_walker_ops {
	const char *name;
	const char *summary;
	const char *options_help; /* "KEY=VALUE,..." it takes; NULL: none */
	bool lockless;
	/* Optional: applies one KEY=VALUE of the spec to @o; 0, or -EINVAL
	 * with one line in @err. */
	int (*set_option)(struct rmap_walk_opts *o, const char *key, const char *value, char *err,
			  size_t errlen);
	/* Write-protects every spte of @gfn; fills @w. */
	void (*walk)(struct rmap_reader *r, uint32_t gfn, const struct rmap_walk_opts *o,
		     struct rmap_walk *w);
};

/* A walker as named by a spec: its table and its options. */
struct rmap_walker {
	const struct rmap_walker_ops *ops;
	struct rmap_walk_opts o;
};

/* ---- registry ---- */

#define RMAP_WALKER_DECLARE_OPS(n) extern const struct rmap_walker_ops rmap_walker_##n##_ops;
RMAP_WALKERS(RMAP_WALKER_DECLARE_OPS)
#undef RMAP_WALKER_DECLARE_OPS

/* The i-th walker (built-ins, then registered ones); NULL past the end. */
const struct rmap_walker_ops *rmap_walker_nth(int i);
const struct rmap_walker_ops *rmap_walker_find(const char *name);
/* Adds a walker (tests); -EEXIST if the name is taken, -ENOSPC if full.
 * Before any thread uses the registry. */
int rmap_walker_register(const struct rmap_walker_ops *ops);
#define rmap_walker_foreach(ops, i) for ((i) = 0; ((ops) = rmap_walker_nth(i)); (i)++)

/*
 * Resolves @spec (NAME[:KEY=VALUE,...]) into @wk: the walker's table and
 * @defaults with the spec's options applied.  0, or -EINVAL with one line
 * in @err.
 */
int rmap_walker_init(struct rmap_walker *wk, const char *spec,
		     const struct rmap_walk_opts *defaults, char *err, size_t errlen);

static inline const char *rmap_walker_name(const struct rmap_walker *wk)
{
	return wk->ops->name;
}

/* Write-protects every spte of @gfn with @wk (rmap_write_protect in KVM's
 * MMU); fills @w. */
static inline void rmap_write_protect(const struct rmap_walker *wk, struct rmap_reader *r,
				      uint32_t gfn, struct rmap_walk *w)
{
	wk->ops->walk(r, gfn, &wk->o, w);
}

/* ---- link encoding ---- */

static inline uintptr_t rmap_nulls(const struct rmap_head *h)
{
	return (uintptr_t)h | RMAP_NULLS_BIT;
}

static inline bool rmap_is_nulls(uintptr_t link)
{
	return link & RMAP_NULLS_BIT;
}

static inline struct rmap_desc *rmap_link_desc(uintptr_t link)
{
	return (struct rmap_desc *)(link & (((uintptr_t)1 << RMAP_POS_SHIFT) - 1));
}

static inline uint32_t rmap_link_pos(uintptr_t link)
{
	return (uint32_t)(link >> RMAP_POS_SHIFT) & RMAP_POS_MAX;
}

static inline uintptr_t rmap_link(struct rmap_desc *d, uint32_t pos)
{
	return (uintptr_t)d | ((uintptr_t)pos << RMAP_POS_SHIFT);
}

/* Clears the writable bit of one spte; true if it was set. */
static inline bool spte_write_protect(spte_t *s)
{
	/* relaxed: the walk's ordering comes from the list loads; the TLB
	 * flush that would follow in KVM is not emulated */
	uint64_t v = atomic_load_explicit(s, memory_order_relaxed);

	if (!(v & SPTE_WRITABLE))
		return false;
	v = atomic_fetch_and_explicit(s, ~SPTE_WRITABLE, memory_order_relaxed);
	return v & SPTE_WRITABLE;
}

#endif
