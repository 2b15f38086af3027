/*
 * Dirty-page logging strategies: each is one table of operations, chosen
 * by name at run time.  The marker side runs in a vCPU's write-fault path;
 * the harvester side is KVM_GET_DIRTY_LOG (get_log) and, where the
 * strategy separates it, KVM_CLEAR_DIRTY_LOG / KVM_RESET_DIRTY_RINGS
 * (clear_log).  A workload sees only dirty_log_get / dirty_log_clear and
 * never knows which strategy runs.
 *
 * Harvest contract: after dirty_log_get then dirty_log_clear return, every
 * page reported dirty has been write-protected and flushed, so a copy of
 * it taken now holds every store made before its write-protection, and a
 * later store faults and is reported by a later harvest.  A page dirtied
 * before the harvest is reported by it, or by one of the next
 * 1 + dirty_log_report_lag() harvests.
 *
 * A strategy is named with options: "NAME[:KEY=VALUE[,KEY=VALUE...]]".
 */
#ifndef DLBENCH_DIRTY_LOG_H
#define DLBENCH_DIRTY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/vm/memslots.h"

struct vm;
struct vcpu;
struct dirty_log;

/* dirty_log_get flags */
#define DIRTY_LOG_FINAL (1u << 0)   /* no vCPU runs any more: report everything outstanding */

struct dirty_log_hints {
	/* Most pages one vCPU dirties between two harvests (dirty-ring sizes
	 * its rings to hold them); 0: the strategy's default. */
	uint64_t max_dirty_per_vcpu;
};

struct dirty_log_ops {
	const char *name;
	const char *summary;
	const char *options_help;        /* "KEY=a|b ..." or NULL */
	/* The harvester relies on marks being made under mmu_lock. */
	bool marks_need_mmu_lock;
	size_t priv_size;                /* zeroed dirty_log.priv of this size */

	/* Parses one option into priv; returns -1 with a line in @err. */
	int (*set_option)(struct dirty_log *log, const char *key, const char *value,
			  char *err, size_t errlen);
	/* log->vm is set, slots and vCPUs exist: allocate per-slot and
	 * per-vCPU state, set the initial spte state (all read-only unless
	 * the strategy starts with every page dirty). */
	int (*init)(struct dirty_log *log, char *err, size_t errlen);
	void (*destroy)(struct dirty_log *log);
	/* Optional: logging is turned on again (vm_enable_dirty_logging,
	 * under mmu_lock, no vCPU in guest mode): reset the log's state and
	 * set the initial spte state, as init left them.  NULL: every spte
	 * read-only, the log's state as it is. */
	void (*enable)(struct dirty_log *log);
	/* Optional, on the vCPU's own thread. */
	void (*vcpu_thread_begin)(struct dirty_log *log, struct vcpu *v);
	void (*vcpu_thread_end)(struct dirty_log *log, struct vcpu *v);

	/* Marker: page @rel of @slot was dirtied by @v (write-fault path). */
	void (*mark_dirty)(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
			   uint64_t rel);
	/* Optional: true while @v must stay out of guest mode (ring full). */
	bool (*vcpu_blocked)(struct dirty_log *log, struct vcpu *v);

	/* Harvester: overwrites @dirty (one bit per gfn of the VM) with the
	 * pages harvested. */
	void (*get_log)(struct dirty_log *log, unsigned long *dirty, unsigned flags);
	/* Optional: re-protects the pages of @dirty (from get_log). */
	void (*clear_log)(struct dirty_log *log, const unsigned long *dirty);
	/* Optional: extra harvests a page may wait before it is reported. */
	unsigned (*report_lag)(const struct dirty_log *log);
};

struct dirty_log {
	const struct dirty_log_ops *ops;
	struct vm *vm;                   /* set by vm_create */
	void *priv;
	struct dirty_log_hints hints;
	char spec[160];                  /* as given, for output */
};

/* The built-in strategies (one file each: dirty_log_<name>.c). */
extern const struct dirty_log_ops dirty_log_srcu_swap_ops;
extern const struct dirty_log_ops dirty_log_xchg_ops;
extern const struct dirty_log_ops dirty_log_lock_copy_clear_ops;
extern const struct dirty_log_ops dirty_log_atomic_and_ops;
extern const struct dirty_log_ops dirty_log_clear_log_ops;
extern const struct dirty_log_ops dirty_log_dirty_ring_ops;

/* Adds a strategy (tests register deliberately broken ones); -1 if the
 * name is taken or the table is full. */
int dirty_log_register(const struct dirty_log_ops *ops);
const struct dirty_log_ops *dirty_log_find(const char *name);
/* The i-th registered strategy, NULL past the end. */
const struct dirty_log_ops *dirty_log_nth(int i);
/* Prints "  name  summary  [options]" lines. */
void dirty_log_list(FILE *f);

/* Parses @spec and its options; NULL with one line in @err on error. */
struct dirty_log *dirty_log_create(const char *spec, const struct dirty_log_hints *hints,
				   char *err, size_t errlen);
/* Frees a log that is not attached to a VM (vm_destroy detaches). */
void dirty_log_free(struct dirty_log *log);

static inline void dirty_log_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
				  uint64_t rel)
{
	log->ops->mark_dirty(log, v, slot, rel);
}

/* Harvest: see the contract at the top. */
void dirty_log_get(struct dirty_log *log, unsigned long *dirty, unsigned flags);
void dirty_log_clear(struct dirty_log *log, const unsigned long *dirty);
unsigned dirty_log_report_lag(const struct dirty_log *log);

/* For bitmap strategies: a zeroed dirty_bitmap for every slot of log->vm
 * (-1 with a line in @err), and its release. */
int dirty_log_alloc_slot_bitmaps(struct dirty_log *log, char *err, size_t errlen);
void dirty_log_free_slot_bitmaps(struct dirty_log *log);
/* The mark of the one-bitmap strategies: bitmap_set_atomic on the slot's
 * dirty_bitmap (usable as an ops table's mark_dirty as it is). */
void dirty_log_mark_slot_bitmap(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
				uint64_t rel);
/* A zeroed, cache-line aligned bitmap of @nbits bits, or NULL. */
unsigned long *bitmap_alloc(uint64_t nbits);

/* Sets bit @i atomically (set_bit).  release: pairs with the harvester's
 * acquire take of the word, so whatever the marker did before (the spte
 * compare-and-swap of the fast path) happens before the write-protection
 * that follows the take. */
static inline void bitmap_set_atomic(unsigned long *b, uint64_t i)
{
	__atomic_fetch_or(&b[i / 64], 1ul << (i % 64), __ATOMIC_RELEASE);
}

/* Words of a bitmap of @nbits bits. */
static inline size_t bitmap_words(uint64_t nbits)
{
	return (size_t)((nbits + 63) / 64);
}

static inline bool bitmap_test(const unsigned long *b, uint64_t i)
{
	return (b[i / 64] >> (i % 64)) & 1ul;
}

/* Number of bits set in the first @nbits of @b. */
uint64_t bitmap_weight(const unsigned long *b, uint64_t nbits);

#endif
