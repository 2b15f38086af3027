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
 *           dirty through the dirty-log strategy and make the spte writable;
 *   fast    compare-and-swap the spte from read-only to writable without
 *           mmu_lock, and mark the page dirty if this vCPU won (KVM's fast
 *           page fault).  A strategy whose harvester cannot tolerate
 *           lockless marks (dirty_log_ops.marks_need_mmu_lock) gets its
 *           mark under mmu_lock after the compare-and-swap.
 *
 * Memslot reads: the VM owns a memslot read protection chosen by name
 * (lib/memslot_protect.h; default srcu-mb).  Each vCPU registers as its
 * reader from its own thread (vcpu_thread_begin), and the write-fault path
 * looks the gfn up between memslot_read_begin and memslot_read_end.  The
 * guest-access loop itself never touches the protection: a protection
 * that needs its readers to pass a quiescent point (rwlock-cond) kicks the
 * vCPUs with VCPU_REQ_MEMSLOT_QUIESCENT, which vcpu_exit_point already
 * looks for, and a vCPU leaving guest mode lets go of what it keeps.
 * Updater-side code (harvesters, strategies, the verifier) reads
 * vm->memslots, the protection's current table; the VM's table changes
 * only through vm_update_memslots.
 *
 * Dirty logging is on from vm_create (the strategy's init sets the initial
 * spte state) until vm_disable_dirty_logging makes every spte writable;
 * vm_enable_dirty_logging restores the initial state.  A VM created
 * without a dirty log runs with every spte writable.
 *
 * vm_flush_remote_tlbs: the harvester, after write-protecting pages,
 * raises a request on every vCPU and waits until each vCPU that is in
 * guest mode has passed its next exit point.  A vCPU that saw "writable"
 * before the write-protection finishes its store before that exit point,
 * so after the flush every such store is visible to the harvester and
 * every later store faults.
 */
#ifndef DLBENCH_VM_H
#define DLBENCH_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/vm/guest_memory.h"
#include "lib/util/histogram.h"
#include "lib/memslot_protect/memslot_protect.h"
#include "lib/vm/memslots.h"
#include "lib/util/spinlock.h"
#include "lib/srcu/srcu.h"

#define SPTE_WRITABLE 1u

enum fault_path {
	FAULT_PATH_LOCKED,
	FAULT_PATH_FAST,
};

/* NULL-terminated, indexed by enum fault_path (for cli_choice). */
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
	_Alignas(64) unsigned long requests;
	int mode;                   /* enum vcpu_mode */
	uint64_t flush_ack;         /* last flush sequence acknowledged */

	/* Owned by the vCPU thread. */
	_Alignas(64) struct vm *vm;
	uint8_t *spte;              /* vm->spte */
	uint8_t *guest_base;        /* vm->guest_base */
	struct memslot_reader *memslot_reader;
	void *log_vcpu;             /* the dirty-log strategy's per-vCPU state */
	/* When set, the time of each write fault and of each wait for
	 * dirty-ring space is recorded (the vCPU's stalls). */
	struct histogram *stall_hist;
	struct vcpu_stats stats;
	int index;
};

struct vm_options {
	uint32_t nslots;            /* equal slots, each a multiple of 64 pages */
	int nvcpus;
	enum fault_path fault_path;
	/* lib/memslot_protect.h name; NULL: VM_MEMSLOT_PROTECT_DEFAULT */
	const char *memslot_protect;
	/* srcu-mb, srcu-fast: expedited grace periods for memslot updates */
	bool memslot_expedited;
};

struct vm {
	struct guest_memory *mem;
	uint8_t *guest_base;
	uint64_t npages;            /* gfns 0..npages-1, all in memslots */
	uint8_t *spte;              /* one per gfn: SPTE_WRITABLE or 0 */
	enum fault_path fault_path;
	struct dirty_log *log;           /* NULL: no dirty logging at all */
	int nvcpus;
	struct vcpu *vcpus;

	/* vCPUs read the memslots through memslots_protect (see the top);
	 * memslots is its current table, for the updater side (harvesters,
	 * strategies, the verifier), refreshed by vm_update_memslots. */
	struct memslot_protect *memslots_protect;
	struct memslot_table *memslots;

	_Alignas(64) struct spinlock mmu_lock;
	_Alignas(64) uint64_t flush_seq;   /* flushes requested so far */
	uint64_t flushes;                  /* harvester-side count */
	_Alignas(64) int stop;             /* vm_request_stop */
	/* vCPUs waiting outside guest mode for dirty-log space (a full dirty
	 * ring): written only on that slow path, read by the harvester. */
	_Alignas(64) int log_space_waiters;
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
 * its last: registers it as a reader of the memslot protection, enters and
 * leaves guest mode. */
void vcpu_thread_begin(struct vcpu *v);
void vcpu_thread_end(struct vcpu *v);

/* Leave and re-enter guest mode around host-side work on the vCPU's thread
 * (an exit to userspace): flushes do not wait for a vCPU outside guest
 * mode, and entering handles the requests raised meanwhile. */
void vcpu_exit_guest(struct vcpu *v);
void vcpu_enter_guest(struct vcpu *v);

/* The slow paths, out of line. */
void vcpu_write_fault(struct vcpu *v, uint64_t gfn);
void vcpu_handle_requests(struct vcpu *v);

/* Host address of @gfn, with its spte writable at the time of the check. */
static inline uint8_t *vcpu_translate_write(struct vcpu *v, uint64_t gfn)
{
	v->stats.accesses++;
	/* relaxed: a stale "writable" is covered by the flush protocol (the
	 * store lands before this vCPU's next exit point, which the harvester
	 * waits for); a stale "read-only" only costs a fault that finds the
	 * spte writable and returns. */
	if (__builtin_expect(!(__atomic_load_n(&v->spte[gfn], __ATOMIC_RELAXED) & SPTE_WRITABLE), 0))
		vcpu_write_fault(v, gfn);
	return v->guest_base + (gfn << PAGE_SHIFT);
}

/* A VM-exit point: handles pending requests.  Call after every access. */
static inline void vcpu_exit_point(struct vcpu *v)
{
	if (__builtin_expect(__atomic_load_n(&v->requests, __ATOMIC_RELAXED) != 0, 0))
		vcpu_handle_requests(v);
}

/* Stores @value in the first word of page @gfn, as a guest write. */
static inline void vcpu_write_page(struct vcpu *v, uint64_t gfn, uint64_t value)
{
	uint64_t *p = (uint64_t *)vcpu_translate_write(v, gfn);

	/* release: a harvester that reads this value with acquire also sees
	 * the dirty mark this vCPU made before it (the verifier relies on it) */
	__atomic_store_n(p, value, __ATOMIC_RELEASE);
	vcpu_exit_point(v);
}

/* Raises @req on @v from the vCPU itself (e.g. its ring became soft-full). */
static inline void vcpu_make_request_self(struct vcpu *v, unsigned long req)
{
	__atomic_fetch_or(&v->requests, req, __ATOMIC_RELAXED);
}

/*
 * kvm_flush_remote_tlbs: raise VCPU_REQ_TLB_FLUSH on every vCPU and wait
 * until each vCPU in guest mode has acknowledged it at an exit point.
 * Must not be called with mmu_lock held (a vCPU in guest mode may be
 * spinning on it).  Waits yield and sleep, so vCPUs may outnumber CPUs.
 */
void vm_flush_remote_tlbs(struct vm *vm);

/* Write-protects the pages of @mask, bit i being gfn @gfn0 + i (an
 * __builtin_ctzl walk).  Caller holds mmu_lock and flushes afterwards. */
static inline void vm_write_protect_mask(struct vm *vm, uint64_t gfn0, unsigned long mask)
{
	/* a local base: the stores could alias vm->spte itself otherwise */
	uint8_t *spte = vm->spte + gfn0;

	while (mask) {
		__atomic_store_n(&spte[__builtin_ctzl(mask)], 0, __ATOMIC_RELAXED);
		mask &= mask - 1;
	}
}

static inline void vm_write_protect_page(struct vm *vm, uint64_t gfn)
{
	__atomic_store_n(&vm->spte[gfn], 0, __ATOMIC_RELAXED);
}

/* Tells vCPUs waiting outside guest mode (ring full) to give up waiting;
 * the workload's vCPU loops check vm_stopping. */
void vm_request_stop(struct vm *vm);
static inline bool vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE);
}

/* True while a vCPU waits outside guest mode for dirty-log space, until a
 * harvest frees it (as KVM_EXIT_DIRTY_RING_FULL tells userspace). */
static inline bool vm_log_space_wanted(struct vm *vm)
{
	/* relaxed: a hint to harvest; the harvest itself is ordered by the
	 * strategy's acquire/release on its entries */
	return __atomic_load_n(&vm->log_space_waiters, __ATOMIC_RELAXED) != 0;
}

/* Waiting helper for spin-then-sleep loops: call with n = 0, 1, 2, ... */
void vm_backoff(unsigned n);

#endif
