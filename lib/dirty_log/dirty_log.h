/*
 * Dirty-page logging strategies: each is one table of operations, chosen
 * by name at run time.  The marker side runs in a vCPU's write-fault path;
 * the harvester side is KVM_GET_DIRTY_LOG (get_log) and, where the
 * strategy separates it, KVM_CLEAR_DIRTY_LOG / KVM_RESET_DIRTY_RINGS
 * (clear_log).  A workload sees only the dirty_log_* functions below and
 * never knows which strategy runs; nothing outside lib/dirty_log/ reaches
 * into a log's ops table.
 *
 * Harvest contract: after dirty_log_get then dirty_log_clear return, every
 * page reported dirty has been write-protected and flushed, so a copy of
 * it taken now holds every store made before its write-protection, and a
 * later store faults and is reported by a later harvest.  A page dirtied
 * before the harvest is reported by it, or by one of the next
 * 1 + dirty_log_report_lag() harvests.
 *
 * A strategy is named with options: "NAME[:KEY=VALUE[,KEY=VALUE...]]"
 * (lib/util/spec.h).
 *
 * Adding a strategy: one file lib/dirty_log/<name>.c defining
 * `const struct dirty_log_ops dirty_log_<name>_ops`, one X(<name>) in
 * DIRTY_LOG_STRATEGIES below, its cc line and archive entry in
 * targets.ninja, and its verify line in tests/list.
 */
#ifndef DLBENCH_DIRTY_LOG_H
#define DLBENCH_DIRTY_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/vm/memslots.h"

/* The built-in strategies, in the order they are listed and run: KVM's,
 * then Linux's own dirty tracking (real MMU only, see enum dirty_log_mmu). */
#define DIRTY_LOG_STRATEGIES(X) \
	X(srcu_swap)            \
	X(xchg)                 \
	X(lock_copy_clear)      \
	X(atomic_and)           \
	X(clear_log)            \
	X(dirty_ring)           \
	X(uffd_wp)              \
	X(uffd_wp_async)        \
	X(soft_dirty)           \
	X(mprotect)

struct vm;
struct vcpu;
struct dirty_log;

/* dirty_log_get flags */
#define DIRTY_LOG_FINAL (1u << 0) /* no vCPU runs any more: report everything outstanding */

/*
 * What a strategy needs from the VM's MMU (dirty_log_ops.mmu):
 *   SPTE      KVM-style: sptes and the write-fault path (lib/vm/vm.h), on
 *             the soft MMU or the real one (--mmu);
 *   UFFD      Linux's own tracking with a fault handler, on the real MMU
 *             with userfaultfd write-protect: the handler (handle_fault)
 *             replaces the KVM write-fault path;
 *   MPROTECT  the same with mprotect and SIGSEGV;
 *   KERNEL    the kernel is the marker (async userfaultfd, soft-dirty): the
 *             VM write-protects nothing and no fault reaches userspace;
 *             the strategy drives the kernel mechanism itself.
 * Every kind but SPTE runs on the real MMU only.
 */
/* clang-format off */
enum dirty_log_mmu {
	DIRTY_LOG_MMU_SPTE,
	DIRTY_LOG_MMU_UFFD,
	DIRTY_LOG_MMU_MPROTECT,
	DIRTY_LOG_MMU_KERNEL,
};
/* clang-format on */

struct dirty_log_hints {
	/* Most pages one vCPU dirties between two harvests (dirty-ring sizes
	 * its rings to hold them); 0: the strategy's default. */
	uint64_t max_dirty_per_vcpu;
};

struct dirty_log_ops {
	const char *name;
	const char *summary;
	const char *options_help; /* "KEY=a|b ..." or NULL */
	/* The harvester relies on marks being made under mmu_lock. */
	bool marks_need_mmu_lock;
	enum dirty_log_mmu mmu; /* SPTE unless a Linux strategy */
	/* Optional: whether this kernel offers the strategy with @log's
	 * options: 0, or -errno with one line starting "not supported by
	 * this kernel: " in @why.  NULL: always. */
	int (*probe)(const struct dirty_log *log, char *why, size_t len);
	size_t priv_size; /* zeroed dirty_log.priv of this size */

	/* Parses one option into priv; -1 with a line in @err.  NULL: the
	 * strategy takes no options. */
	int (*set_option)(struct dirty_log *log, const char *key, const char *value, char *err,
			  size_t errlen);
	/* log->vm is set, slots and vCPUs exist: allocate per-slot and
	 * per-vCPU state.  0, or -errno with a line in @err.  The VM sets the
	 * initial spte state afterwards (see initially_dirty). */
	int (*init)(struct dirty_log *log, char *err, size_t errlen);
	void (*destroy)(struct dirty_log *log);
	/* Optional: logging is turned on again (vm_enable_dirty_logging,
	 * under mmu_lock, no vCPU in guest mode): reset the log's state as
	 * init left it.  NULL: the state stays as it is. */
	void (*enable)(struct dirty_log *log);
	/* Optional: logging starts with every page dirty and writable
	 * (KVM_DIRTY_LOG_INITIALLY_SET): the first harvest reports every page
	 * and no page faults before it.  NULL: every page starts clean and
	 * write-protected. */
	bool (*initially_dirty)(const struct dirty_log *log);
	/* Optional, on the vCPU's own thread; 0 or -errno with a line. */
	int (*vcpu_thread_begin)(struct dirty_log *log, struct vcpu *v, char *err, size_t errlen);
	void (*vcpu_thread_end)(struct dirty_log *log, struct vcpu *v);

	/* Marker: page @rel of @slot was dirtied by @v (write-fault path). */
	void (*mark_dirty)(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
			   uint64_t rel);
	/* Optional: true while @v must stay out of guest mode (ring full). */
	bool (*vcpu_blocked)(struct dirty_log *log, struct vcpu *v);
	/* UFFD and MPROTECT: the fault handler, for a store by @v to
	 * write-protected page @gfn; it must leave the page un-protected
	 * (vm_real_unprotect) and record it.  Runs in a signal handler on
	 * @v's thread or on the handler thread (see lib/mmu/mmu_real.h). */
	void (*handle_fault)(struct dirty_log *log, struct vcpu *v, uint64_t gfn);
	/* Optional: logging is turned off (vm_disable_dirty_logging; no vCPU
	 * in guest mode): a kernel marker stops tracking.  NULL: nothing. */
	void (*disable)(struct dirty_log *log);
	/* KERNEL: the harvest floor with the strategy's own mechanism (see
	 * vm_floor_reset / vm_floor_pass in lib/vm/vm.h). */
	void (*floor_reset)(struct dirty_log *log, const unsigned long *dirty);
	int (*floor_pass)(struct dirty_log *log, const unsigned long *dirty);
	/* KERNEL: the mechanism's name for the mmu_mechanism column
	 * ("uffd-wp-async"), and its fault floor (linux_dirty_fault_floor). */
	const char *(*mmu_name)(const struct dirty_log *log);
	int (*fault_floor)(const struct dirty_log *log, double *ns, char *err, size_t errlen);

	/* Harvester: overwrites @dirty (one bit per gfn of the VM) with the
	 * pages harvested.  0 or -errno. */
	int (*get_log)(struct dirty_log *log, unsigned long *dirty, unsigned flags);
	/* Optional: re-protects the pages of @dirty (from get_log).  0 or
	 * -errno. */
	int (*clear_log)(struct dirty_log *log, const unsigned long *dirty);
	/* Optional: extra harvests a page may wait before it is reported. */
	unsigned (*report_lag)(const struct dirty_log *log);
};

struct dirty_log {
	const struct dirty_log_ops *ops;
	struct vm *vm; /* set by dirty_log_attach */
	void *priv;
	struct dirty_log_hints hints;
	char spec[160]; /* as given, for output */
};

/* The built-in strategies' tables (one file each: lib/dirty_log/<name>.c). */
#define DIRTY_LOG_DECLARE(n) extern const struct dirty_log_ops dirty_log_##n##_ops;
DIRTY_LOG_STRATEGIES(DIRTY_LOG_DECLARE)
#undef DIRTY_LOG_DECLARE

/* ---- the registry ---- */

/* Adds a strategy after the built-ins (tests register deliberately broken
 * ones, before any thread runs); -EEXIST if the name is taken, -ENOSPC if
 * the table is full. */
int dirty_log_register(const struct dirty_log_ops *ops);
/* The strategy named @name (no options), or NULL. */
const struct dirty_log_ops *dirty_log_find(const char *name);
/* The i-th strategy (built-ins first, then registered ones), NULL past
 * the end. */
const struct dirty_log_ops *dirty_log_nth(int i);
/* for each strategy: dirty_log_foreach(ops, i) { ... ops->name ... } */
#define dirty_log_foreach(ops, i) for ((i) = 0; ((ops) = dirty_log_nth(i)) != NULL; (i)++)
/* Prints "  name  summary  [options]" lines. */
void dirty_log_list(FILE *f);

/* ---- one log ---- */

/* Parses @spec and its options; NULL with one line in @err on error. */
struct dirty_log *dirty_log_create(const char *spec, const struct dirty_log_hints *hints, char *err,
				   size_t errlen);
/* Frees a log that is not attached to a VM (vm_destroy detaches). */
void dirty_log_free(struct dirty_log *log);

/* The spec it was created from, and its strategy's name. */
const char *dirty_log_spec(const struct dirty_log *log);
const char *dirty_log_name(const struct dirty_log *log);

/* ---- the VM's side (lib/vm/vm.c calls these) ---- */

/* init with log->vm = @vm; 0 or -errno with a line in @err (detached). */
int dirty_log_attach(struct dirty_log *log, struct vm *vm, char *err, size_t errlen);
/* destroy; the log may be freed or attached again afterwards. */
void dirty_log_detach(struct dirty_log *log);
/* The enable op, if any (mmu_lock held, no vCPU in guest mode). */
void dirty_log_enable(struct dirty_log *log);
/* Whether logging starts with every page dirty and writable. */
bool dirty_log_initially_dirty(const struct dirty_log *log);
/* Whether marks must be made under mmu_lock (see vm.h's fast path). */
bool dirty_log_marks_need_mmu_lock(const struct dirty_log *log);
/* What the strategy needs of the MMU (see enum dirty_log_mmu). */
enum dirty_log_mmu dirty_log_mmu_kind(const struct dirty_log *log);
/* Whether the kernel offers it: 0, or -errno with a line in @why. */
int dirty_log_probe(const struct dirty_log *log, char *why, size_t len);
/* The Linux strategies' hooks (see dirty_log_ops). */
void dirty_log_handle_fault(struct dirty_log *log, struct vcpu *v, uint64_t gfn);
void dirty_log_disable(struct dirty_log *log);
void dirty_log_floor_reset(struct dirty_log *log, const unsigned long *dirty);
int dirty_log_floor_pass(struct dirty_log *log, const unsigned long *dirty);
const char *dirty_log_mmu_name(const struct dirty_log *log);
int dirty_log_fault_floor(const struct dirty_log *log, double *ns, char *err, size_t errlen);
int dirty_log_vcpu_thread_begin(struct dirty_log *log, struct vcpu *v, char *err, size_t errlen);
void dirty_log_vcpu_thread_end(struct dirty_log *log, struct vcpu *v);
/* Whether the strategy can make a vCPU wait for log space at all. */
bool dirty_log_can_block(const struct dirty_log *log);
/* Whether @v must stay out of guest mode now (its ring is full). */
bool dirty_log_vcpu_blocked(struct dirty_log *log, struct vcpu *v);

static inline void dirty_log_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
				  uint64_t rel)
{
	log->ops->mark_dirty(log, v, slot, rel);
}

/* ---- the harvester's side: see the contract at the top ---- */

/* 0 or -errno (the log is then in an unknown state); under the real MMU
 * also the first error of a protect call. */
int dirty_log_get(struct dirty_log *log, unsigned long *dirty, unsigned flags);
int dirty_log_clear(struct dirty_log *log, const unsigned long *dirty);
/* Whether the strategy has a clear step of its own (clear-log, dirty-ring). */
bool dirty_log_has_clear(const struct dirty_log *log);
unsigned dirty_log_report_lag(const struct dirty_log *log);

/* ---- bitmaps ---- */

/*
 * Two kinds: the shared bitmaps that markers set while a harvester takes
 * them (atomic_ulong words: the slots' dirty_bitmap, srcu-swap's pair),
 * and the harvest's result that one thread owns (plain unsigned long).
 */

/* A zeroed, cache-line aligned shared bitmap of @nbits bits, or NULL. */
atomic_ulong *bitmap_alloc(uint64_t nbits);
/* A zeroed plain bitmap of @nbits bits (calloc), or NULL. */
unsigned long *bitmap_alloc_plain(uint64_t nbits);

/* For bitmap strategies: a zeroed dirty_bitmap for every slot of log->vm
 * (-ENOMEM with a line in @err), and its release. */
int dirty_log_alloc_slot_bitmaps(struct dirty_log *log, char *err, size_t errlen);
void dirty_log_free_slot_bitmaps(struct dirty_log *log);
/* The mark of the one-bitmap strategies: bitmap_set_atomic on the slot's
 * dirty_bitmap (usable as an ops table's mark_dirty as it is). */
void dirty_log_mark_slot_bitmap(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
				uint64_t rel);

/* Sets bit @i atomically (set_bit).  release: pairs with the harvester's
 * acquire take of the word, so whatever the marker did before (the spte
 * compare-and-swap of the fast path) happens before the write-protection
 * that follows the take. */
static inline void bitmap_set_atomic(atomic_ulong *b, uint64_t i)
{
	atomic_fetch_or_explicit(&b[i / 64], 1ul << (i % 64), memory_order_release);
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
