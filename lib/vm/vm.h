/*
 * The emulated VM: guest memory cut into memslots, one spte per guest page
 * holding a writable bit, mmu_lock, vCPUs and the requests that kick them.
 *
 * A vCPU's guest access is vcpu_translate_write (the hardware walk: a
 * writable spte is a load; a write-protected one takes the write-fault
 * path), the store itself, then vcpu_exit_point (where a vCPU notices
 * requests, as at a VM exit).  vcpu_write_page does all three.
 *
 * Write-fault path (vcpu_write_fault, chosen per VM):
 *   locked  under mmu_lock: if the spte is still read-only, mark the page
 *           dirty through the dirty-log strategy and make the spte writable
 *           (mmu_set_spte's set_spte, which calls mark_page_dirty before it
 *           installs the writable spte);
 *   fast    compare-and-swap the spte from read-only to writable without
 *           mmu_lock, and mark the page dirty if this vCPU won (KVM's
 *           fast_page_fault, Linux 3.10).  A strategy whose harvester
 *           cannot tolerate lockless marks (dirty_log_marks_need_mmu_lock)
 *           gets its mark under mmu_lock after the compare-and-swap.
 * A vCPU stays in guest mode through its fault: the fault hands back a
 * translation that the vCPU uses for its store without walking again, so
 * a flush must wait for that store as it waits for any in-flight access
 * (a real vCPU would leave guest mode, and re-enter with its TLB flushed
 * and walk again; both make the store visible before the flush returns).
 *
 * The sptes are written only by the vm_* functions under "sptes" below
 * (write-protect a page, a mask of pages, every page; make a page or every
 * page writable), so that an MMU mode using real page tables (userfaultfd
 * write-protect) can replace them in one place.
 *
 * Memslot reads: the VM owns a memslot read protection chosen by name
 * (lib/memslot_protect/memslot_protect.h; default srcu-mb).  Each vCPU
 * registers as its reader from its own thread (vcpu_thread_begin), and the
 * write-fault path looks the gfn up between memslot_read_begin and
 * memslot_read_end.  The guest-access loop itself never touches the
 * protection: a protection that needs its readers to pass a quiescent
 * point (rwlock-cond) kicks the vCPUs with VCPU_REQ_MEMSLOT_QUIESCENT,
 * which vcpu_exit_point already looks for, and a vCPU leaving guest mode
 * lets go of what it keeps.  Updater-side code (harvesters, strategies,
 * the verifier) reads vm->memslots, the protection's current table; the
 * VM's table changes only through vm_update_memslots.
 *
 * Dirty logging is on from vm_create (the strategy's initial spte state)
 * until vm_disable_dirty_logging makes every spte writable;
 * vm_enable_dirty_logging restores the initial state.  A VM created
 * without a dirty log runs with every spte writable.
 *
 * vm_flush_remote_tlbs (kvm_flush_remote_tlbs): the harvester, after
 * write-protecting pages, raises a request on every vCPU and waits until
 * each vCPU that is in guest mode has passed its next exit point.  A vCPU
 * that saw "writable" before the write-protection finishes its store
 * before that exit point, so after the flush every such store is visible
 * to the harvester and every later store faults.
 *
 * Errors: functions that can fail on input or resources return 0 or
 * -errno with one line in a caller's buffer.  Two conditions no input can
 * cause stay fatal (a message on stderr, then abort), as a kernel BUG_ON:
 * a vCPU writing a gfn outside every memslot (every workload writes gfns
 * below vm->npages and every memslot table covers them all), and a
 * dirty-ring push into a full ring (the soft limit keeps a reserve for the
 * one access a vCPU makes before its exit point).
 */
#ifndef DLBENCH_VM_H
#define DLBENCH_VM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/srcu/srcu.h"
#include "lib/util/compiler.h"
#include "lib/util/histogram.h"
#include "lib/util/spinlock.h"
#include "lib/util/timing.h"
#include "lib/vm/guest_memory.h"
#include "lib/vm/memslots.h"

#define SPTE_WRITABLE 1u

enum fault_path {
	FAULT_PATH_LOCKED,
	FAULT_PATH_FAST,
};

/* NULL-terminated, indexed by enum fault_path (an option's choices). */
extern const char *const fault_path_names[];

enum vcpu_mode {
	VCPU_OUTSIDE_GUEST = 0,
	VCPU_IN_GUEST = 1,
};

/* vcpu.requests bits */
#define VCPU_REQ_TLB_FLUSH        (1ul << 0)   /* kvm_flush_remote_tlbs */
#define VCPU_REQ_DIRTY_RING_FULL  (1ul << 1)   /* the vCPU's own ring is soft-full */
#define VCPU_REQ_MEMSLOT_QUIESCENT (1ul << 2)  /* pass memslot_quiescent */

/* The memslot read protection of vm_options.memslot_protect == NULL. */
#define VM_MEMSLOT_PROTECT_DEFAULT "srcu-mb"

struct vm;
struct dirty_log;

struct vcpu_stats {
	uint64_t accesses;          /* vcpu_translate_write calls */
	uint64_t faults;            /* write faults taken */
	uint64_t flush_acks;        /* flush requests acknowledged */
	uint64_t ring_full_exits;   /* exits to wait for dirty-ring space */
};

struct vcpu {
	/* Written by harvesters (requests) and, rarely, by the vCPU; read by
	 * the vCPU at every exit point. */
	_Alignas(CACHELINE) atomic_ulong requests;
	atomic_int mode;                    /* enum vcpu_mode */
	_Atomic uint64_t flush_ack;         /* last flush sequence acknowledged */

	/* Owned by the vCPU thread. */
	_Alignas(CACHELINE) struct vm *vm;
	_Atomic uint8_t *spte;      /* vm->spte */
	uint8_t *guest_base;        /* vm->guest_base */
	struct memslot_reader *memslot_reader;
	void *log_vcpu;             /* the dirty-log strategy's per-vCPU state */
	/* When set, the time of each write fault and of each wait for
	 * dirty-ring space is recorded (the vCPU's stalls). */
	struct histogram *stall_hist;
	struct vcpu_stats stats;
	int index;
};

/*
 * Test delay hooks: busy waits that hold a thread inside a race window so
 * that a test sees the window every time (the verifier's --fault-delay,
 * --mark-delay, --harvest-delay).  All zero in measurements.
 *   fault_ns    in the write-fault path, between its two steps (after the
 *               mark and before the spte is made writable (locked), after
 *               the compare-and-swap and before the mark (fast)), and
 *               again at its end, before the vCPU stores through the
 *               translation the fault made;
 *   mark_ns     inside a strategy's mark, between its steps (srcu-swap:
 *               after loading the bitmap pointer, in the read section;
 *               dirty-ring: between filling an entry and publishing it);
 *   harvest_ns  inside a strategy's harvest, between its steps (xchg and
 *               atomic-and: between reading a word and taking it;
 *               lock-copy-clear: between the copy and the clear;
 *               clear-log: between reading a word and clearing it;
 *               srcu-swap: between the publish and the grace period;
 *               dirty-ring: between an entry's flag and its contents, and
 *               between re-protecting entries and freeing them).
 */
struct vm_delays {
	uint64_t fault_ns;
	uint64_t mark_ns;
	uint64_t harvest_ns;
};

struct vm_options {
	uint32_t nslots;            /* equal slots, each a multiple of 64 pages */
	int nvcpus;
	enum fault_path fault_path;
	/* lib/memslot_protect name; NULL: VM_MEMSLOT_PROTECT_DEFAULT */
	const char *memslot_protect;
	/* srcu-mb, srcu-fast: expedited grace periods for memslot updates */
	bool memslot_expedited;
	struct vm_delays delays;
};

struct vm {
	struct guest_memory *mem;
	uint8_t *guest_base;
	uint64_t npages;            /* gfns 0..npages-1, all in memslots */
	_Atomic uint8_t *spte;      /* one per gfn: SPTE_WRITABLE or 0 */
	enum fault_path fault_path;
	struct dirty_log *log;      /* NULL: no dirty logging at all */
	int nvcpus;
	struct vcpu *vcpus;
	struct vm_delays delay;

	/* vCPUs read the memslots through memslots_protect (see the top);
	 * memslots is its current table, for the updater side (harvesters,
	 * strategies, the verifier), refreshed by vm_update_memslots. */
	struct memslot_protect *memslots_protect;
	struct memslot_table *memslots;

	_Alignas(CACHELINE) struct spinlock mmu_lock;
	_Alignas(CACHELINE) _Atomic uint64_t flush_seq;   /* flushes requested so far */
	uint64_t flushes;                  /* harvester-side count */
	_Alignas(CACHELINE) atomic_int stop;              /* vm_request_stop */
	/* vCPUs waiting outside guest mode for dirty-log space (a full dirty
	 * ring): written only on that slow path, read by the harvester. */
	_Alignas(CACHELINE) atomic_int log_space_waiters;
};

/* Builds the VM over @mem (whose size must be nslots * a multiple of 64
 * pages) with its memslot protection, and attaches @log (dirty_log_create),
 * whose init runs here and turns logging on; @log may be NULL (logging
 * never on).  On error writes one line to @err and returns NULL. */
struct vm *vm_create(const struct vm_options *o, struct guest_memory *mem,
		     struct dirty_log *log, char *err, size_t errlen);
/* Detaches the dirty log (its destroy runs) and frees the VM.  Every vCPU
 * thread must have called vcpu_thread_end. */
void vm_destroy(struct vm *vm);

/* The slot with id @id, or NULL (harvester side: the table is stable). */
struct memslot *vm_slot_by_id(struct vm *vm, uint32_t id);

/* Changes the memslot table through the VM's protection
 * (memslot_protect_update) and refreshes vm->memslots.  Updater side: not
 * concurrently with a harvest or another update.  Returns 0 or a negative
 * errno. */
int vm_update_memslots(struct vm *vm, memslot_change_fn change, void *arg);

/* Dirty logging on (the strategy's initial spte state, then a flush) and
 * off (every spte writable).  Harvester side, while no vCPU is in guest
 * mode (the handshake that starts the vCPUs again orders the spte stores
 * before their accesses).  Enable returns -EINVAL on a VM without a log. */
int vm_enable_dirty_logging(struct vm *vm);
void vm_disable_dirty_logging(struct vm *vm);

/* Called on the thread that will run @v, before its first access and after
 * its last: registers it as a reader of the memslot protection (and of the
 * strategy, if it keeps per-vCPU state), and enters guest mode.  0, or
 * -errno with one line in @err (nothing registered). */
int vcpu_thread_begin(struct vcpu *v, char *err, size_t errlen);
void vcpu_thread_end(struct vcpu *v);

/* Leave and re-enter guest mode around host-side work on the vCPU's thread
 * (an exit to userspace): flushes do not wait for a vCPU outside guest
 * mode, and entering handles the requests raised meanwhile. */
void vcpu_exit_guest(struct vcpu *v);
void vcpu_enter_guest(struct vcpu *v);

/* The slow paths, out of line. */
void vcpu_write_fault(struct vcpu *v, uint64_t gfn);
void vcpu_handle_requests(struct vcpu *v);

/* A test delay hook (struct vm_delays): nothing unless @ns is set. */
static inline void vm_test_delay(uint64_t ns)
{
	if (unlikely(ns))
		spin_for_ns(ns);
}

/* ---- guest memory words ---- */

/*
 * Guest memory is raw bytes (memcmp, memcpy once no vCPU runs), but while
 * vCPUs run, their stores and the harvester's copies race on the same
 * words, as a guest's stores race with a migration copy.  Both sides then
 * access it as 64-bit atomic words through this cast, the one place that
 * views plain guest memory as _Atomic (same size and representation).
 */
static inline _Atomic uint64_t *guest_word(void *p)
{
	return (_Atomic uint64_t *)p;
}

/* ---- the guest access ---- */

/* Host address of @gfn, with its spte writable at the time of the check. */
static inline uint8_t *vcpu_translate_write(struct vcpu *v, uint64_t gfn)
{
	v->stats.accesses++;
	/* relaxed: a stale "writable" is covered by the flush protocol (the
	 * store lands before this vCPU's next exit point, which the harvester
	 * waits for); a stale "read-only" only costs a fault that finds the
	 * spte writable and returns. */
	if (unlikely(!(atomic_load_explicit(&v->spte[gfn], memory_order_relaxed) & SPTE_WRITABLE)))
		vcpu_write_fault(v, gfn);
	return v->guest_base + (gfn << PAGE_SHIFT);
}

/* A VM-exit point: handles pending requests.  Call after every access. */
static inline void vcpu_exit_point(struct vcpu *v)
{
	/* relaxed: a hint; vcpu_handle_requests takes the requests with an
	 * acquire exchange */
	if (unlikely(atomic_load_explicit(&v->requests, memory_order_relaxed) != 0))
		vcpu_handle_requests(v);
}

/* Stores @value in the first word of page @gfn, as a guest write. */
static inline void vcpu_write_page(struct vcpu *v, uint64_t gfn, uint64_t value)
{
	uint8_t *p = vcpu_translate_write(v, gfn);

	/* release: a harvester that reads this value with acquire also sees
	 * the dirty mark this vCPU made before it (the verifier relies on it) */
	atomic_store_explicit(guest_word(p), value, memory_order_release);
	vcpu_exit_point(v);
}

/* Raises @req on @v from the vCPU itself (e.g. its ring became soft-full). */
static inline void vcpu_make_request_self(struct vcpu *v, unsigned long req)
{
	/* relaxed: only this thread acts on it, at its next exit point */
	atomic_fetch_or_explicit(&v->requests, req, memory_order_relaxed);
}

/*
 * kvm_flush_remote_tlbs: raise VCPU_REQ_TLB_FLUSH on every vCPU and wait
 * until each vCPU in guest mode has acknowledged it at an exit point.
 * Must not be called with mmu_lock held (a vCPU in guest mode may be
 * spinning on it).  Waits yield and sleep, so vCPUs may outnumber CPUs.
 */
void vm_flush_remote_tlbs(struct vm *vm);

/* ---- sptes: every write-protect and make-writable of the VM ---- */

/*
 * Stores are relaxed: a write-protection is ordered before the vCPUs'
 * later translations by the flush that follows it (the request's seq_cst
 * fetch_or, which the vCPU takes with an acquire exchange), and against
 * the locked fault path by mmu_lock; a make-writable happens in the
 * faulting vCPU itself, or before the vCPUs start (the handshake that
 * starts them orders it).
 */

/* Whether @gfn's spte is writable now (tests, the harvest floor). */
static inline bool vm_spte_writable(const struct vm *vm, uint64_t gfn)
{
	return atomic_load_explicit(&vm->spte[gfn], memory_order_relaxed) & SPTE_WRITABLE;
}

/* Write-protects the pages of @mask, bit i being gfn @gfn0 + i (an
 * __builtin_ctzl walk).  Caller holds mmu_lock and flushes afterwards. */
static inline void vm_write_protect_mask(struct vm *vm, uint64_t gfn0, unsigned long mask)
{
	/* a local base: the stores could alias vm->spte itself otherwise */
	_Atomic uint8_t *spte = vm->spte + gfn0;

	while (mask) {
		atomic_store_explicit(&spte[__builtin_ctzl(mask)], 0, memory_order_relaxed);
		mask &= mask - 1;
	}
}

/* Write-protects one page; the same rules. */
static inline void vm_write_protect_page(struct vm *vm, uint64_t gfn)
{
	atomic_store_explicit(&vm->spte[gfn], 0, memory_order_relaxed);
}

/* The locked fault path: makes @gfn writable (mmu_lock held). */
static inline void vm_make_writable(struct vm *vm, uint64_t gfn)
{
	atomic_store_explicit(&vm->spte[gfn], SPTE_WRITABLE, memory_order_relaxed);
}

/* The fast fault path: makes @gfn writable if it is read-only, without
 * mmu_lock; true if this call did (only the winner marks the page). */
static inline bool vm_try_make_writable(struct vm *vm, uint64_t gfn)
{
	uint8_t expected = 0;

	/* acq_rel on success: the swap is ordered before the mark that
	 * follows it, which a harvester takes with acquire before it
	 * write-protects, so its write-protection comes after this swap in
	 * the spte's modification order; relaxed on failure: another vCPU
	 * (or logging off) made it writable and marks it */
	return atomic_compare_exchange_strong_explicit(&vm->spte[gfn], &expected, SPTE_WRITABLE,
						       memory_order_acq_rel,
						       memory_order_relaxed);
}

/* Every page write-protected, or every page writable (logging on and off,
 * KVM_DIRTY_LOG_INITIALLY_SET, a VM without a log); no vCPU in guest mode
 * (no access may race with these), mmu_lock held where vCPUs exist. */
void vm_write_protect_all(struct vm *vm);
void vm_make_all_writable(struct vm *vm);

/* ---- stop and log space ---- */

/* Tells vCPUs waiting outside guest mode (ring full) to give up waiting;
 * the workload's vCPU loops check vm_stopping. */
void vm_request_stop(struct vm *vm);
static inline bool vm_stopping(struct vm *vm)
{
	/* acquire: pairs with the release in vm_request_stop */
	return atomic_load_explicit(&vm->stop, memory_order_acquire);
}

/* True while a vCPU waits outside guest mode for dirty-log space, until a
 * harvest frees it (as KVM_EXIT_DIRTY_RING_FULL tells userspace). */
static inline bool vm_log_space_wanted(struct vm *vm)
{
	/* relaxed: a hint to harvest; the harvest itself is ordered by the
	 * strategy's acquire/release on its entries */
	return atomic_load_explicit(&vm->log_space_waiters, memory_order_relaxed) != 0;
}

/* Waiting helper for spin-then-sleep loops: call with n = 0, 1, 2, ... */
void vm_backoff(unsigned n);

#endif
