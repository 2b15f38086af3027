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
 * kvm->srcu: the VM owns one SRCU domain (vm->srcu, vm_options.srcu:
 * mb, fast or classic, the 2012 SRCU), as struct kvm owns its srcu.  A
 * vCPU holds a read section of it across each exit, as vcpu_run and
 * kvm_arch_vcpu_ioctl_run (Linux 3.3) hold kvm->srcu from the exit to the
 * next guest entry: vcpu_fault_body enters it when the vCPU leaves guest
 * mode for a write fault (vcpu_write_fault, and the real MMU's handlers:
 * the signal handler on the vCPU's thread, or the handler thread, which
 * registers as a reader of its own and whose section spans the whole fault
 * before the vCPU is woken) and leaves it on re-entry, so the section
 * covers the memslot lookup, any spin on mmu_lock, the mark and the
 * make-writable; vcpu_handle_requests holds it while it handles requests,
 * but not across the waits that are exits to userspace (a pause, a full
 * dirty ring: KVM_RUN returns and drops it).  Readers under it: the
 * memslots when the protection is an SRCU one, and srcu-swap's bitmaps
 * (its mark takes no read lock of its own).  Its grace periods (srcu-swap's
 * get_log, a memslot update) so wait for whole faults.
 *
 * Memslot reads: the VM owns a memslot read protection chosen by name
 * (lib/memslot_protect/memslot_protect.h; default: the SRCU one of the
 * VM's flavour, srcu-mb by default).  An SRCU protection (srcu-mb,
 * srcu-fast, srcu-classic) reads under kvm->srcu (its flavour must agree
 * with vm_options.srcu: vm_srcu_plan), its read section then only the
 * table's load inside the fault's section; the others (floor, mutex,
 * rwlock, rwlock-cond, urcu) keep their own lock around the lookup,
 * inside the fault's section of kvm->srcu.  Each vCPU
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
 * MMU modes (vm_options.mmu):
 *   soft  the spte array is the whole MMU: vcpu_translate_write checks the
 *         writable byte and calls the write-fault path itself; a
 *         write-protection is a byte store, the flush is the request/ack
 *         handshake above.
 *   real  the pages are also write-protected in the process's page tables
 *         (lib/mmu/mmu_real.h: userfaultfd write-protect, or mprotect where
 *         userfaultfd is missing), so vcpu_translate_write checks nothing:
 *         a store to a protected page takes a real hardware fault, which
 *         arrives as SIGBUS (SIGSEGV under mprotect) in the vCPU's own
 *         thread, as a VM exit arrives in the vCPU thread, or on a handler
 *         thread reading the userfaultfd (vm_options.fault_delivery).  The
 *         handler runs the same write-fault path, whose make-writable step
 *         also un-protects the page; when it returns the store retries.
 *         The sptes stay: they are KVM's view (the fault path's check and
 *         compare-and-swap); the page tables follow them (see
 *         vm_mmu_unlock and the fast path in vm.c for the orders).  A
 *         write-protection also changes the page tables, in batches of
 *         runs of contiguous pages (one UFFDIO_WRITEPROTECT per run) made
 *         before mmu_lock is released (vm_mmu_unlock), and the kernel
 *         flushes the TLB of every CPU running a thread of the process in
 *         each call: that is the real kvm_flush_remote_tlbs, so
 *         vm_flush_remote_tlbs only counts under real.  A whole-slot pass
 *         (vm_write_protect_slot) is one call over the slot.
 *         Linux's own dirty tracking (uffd-wp, mprotect, uffd-wp-async,
 *         soft-dirty: dirty_log_mmu in lib/dirty_log/dirty_log.h) runs only
 *         here; its fault handlers replace the KVM write-fault path, and
 *         the kernel markers (async uffd, soft-dirty) need no handler.
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
#include "lib/mmu/mmu_real.h"
#include "lib/srcu/srcu.h"
#include "lib/util/compiler.h"
#include "lib/util/histogram.h"
#include "lib/util/mutant.h"
#include "lib/util/spinlock.h"
#include "lib/util/timing.h"
#include "lib/vm/guest_memory.h"
#include "lib/vm/memslots.h"

#define SPTE_WRITABLE 1u

/* clang-format off */
enum fault_path {
	FAULT_PATH_LOCKED,
	FAULT_PATH_FAST,
};
/* clang-format on */

/* NULL-terminated, indexed by enum fault_path (an option's choices). */
extern const char *const fault_path_names[];

/* clang-format off */
enum vm_mmu {
	VM_MMU_SOFT,
	VM_MMU_REAL,
};
/* clang-format on */

/* NULL-terminated, indexed by enum vm_mmu: "soft", "real". */
extern const char *const vm_mmu_names[];

/* clang-format off */
enum vcpu_mode {
	VCPU_OUTSIDE_GUEST = 0,
	VCPU_IN_GUEST = 1,
};
/* clang-format on */

/* vcpu.requests bits */
#define VCPU_REQ_TLB_FLUSH (1ul << 0)	      /* kvm_flush_remote_tlbs */
#define VCPU_REQ_DIRTY_RING_FULL (1ul << 1)   /* the vCPU's own ring is soft-full */
#define VCPU_REQ_MEMSLOT_QUIESCENT (1ul << 2) /* pass memslot_quiescent */
/* Real MMU, thread delivery: the handler thread resolved a fault of this
 * vCPU (count it, record the stall from vcpu.fault_t0) */
#define VCPU_REQ_FAULT_DONE (1ul << 3)
/* Leave guest mode until vm_resume_vcpus (vm_pause_vcpus) */
#define VCPU_REQ_PAUSE (1ul << 4)

/* vm_options.srcu: "auto" (the memslot protection's flavour if it is an
 * SRCU one, else mb), then the lib/srcu flavours; NULL-terminated. */
extern const char *const vm_srcu_choices[];
#define VM_SRCU_AUTO 0 /* else 1 + enum srcu_flavour */

/* The memslot read protection of vm_options.memslot_protect == NULL is
 * the SRCU one of the VM's flavour (srcu-mb unless vm_options.srcu says
 * otherwise): vm_memslot_protect_default. */
#define VM_MEMSLOT_PROTECT_DEFAULT "srcu-mb"
/* "srcu-mb", "srcu-fast", "srcu-classic" for vm_options.srcu @choice
 * (VM_SRCU_AUTO: srcu-mb). */
const char *vm_memslot_protect_default(int choice);

struct vm;
struct dirty_log;

struct vcpu_stats {
	uint64_t accesses;	  /* vcpu_translate_write calls */
	uint64_t faults;	  /* write faults taken on this thread
				     * (vcpu_faults adds the handler
				     * thread's: read that) */
	uint64_t flush_acks;	  /* flush requests acknowledged */
	uint64_t ring_full_exits; /* exits to wait for dirty-ring space */
};

struct vcpu {
	/* Written by harvesters (requests) and, rarely, by the vCPU; read by
	 * the vCPU at every exit point. */
	_Alignas(CACHELINE) atomic_ulong requests;
	atomic_int mode;	    /* enum vcpu_mode */
	_Atomic uint64_t flush_ack; /* last flush sequence acknowledged */
	/* Real MMU, thread delivery: written by the handler thread only. */
	_Atomic uint64_t handler_faults; /* faults it resolved for this vCPU */
	_Atomic uint64_t fault_t0;	 /* when it read the last one */

	/* Owned by the vCPU thread. */
	_Alignas(CACHELINE) struct vm *vm;
	_Atomic uint8_t *spte; /* vm->spte */
	bool soft_mmu;	       /* vm->mmu == VM_MMU_SOFT: check sptes */
	uint8_t *guest_base;   /* vm->guest_base */
	struct memslot_reader *memslot_reader;
	struct srcu_reader *srcu_reader; /* of vm->srcu (kvm->srcu) */
	void *log_vcpu;			 /* the dirty-log strategy's per-vCPU state */
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
	uint32_t nslots; /* equal slots, each a multiple of 64 pages */
	int nvcpus;
	enum fault_path fault_path;
	/* lib/memslot_protect name; NULL: vm_memslot_protect_default(srcu) */
	const char *memslot_protect;
	/* srcu-mb, srcu-fast: expedited grace periods for memslot updates */
	bool memslot_expedited;
	/* The flavour of the VM's SRCU domain (kvm->srcu): VM_SRCU_AUTO, or
	 * 1 + enum srcu_flavour (an index of vm_srcu_choices).  An SRCU
	 * memslot protection reads under this domain: its flavour must agree
	 * (vm_srcu_plan). */
	int srcu;
	/* classic kvm->srcu: its expedited sync_func (enum srcu_expedited,
	 * default 0: stop-cpus); an SRCU memslot spec's expedited= option,
	 * when given, wins (it reads under this domain) */
	int srcu_expedited;
	struct vm_delays delays;
	/* The MMU (see the top); real: the write-protect mechanism of the
	 * KVM-style strategies (MMU_WP_AUTO: userfaultfd, else mprotect; the
	 * Linux strategies name their own) and where faults are handled. */
	enum vm_mmu mmu;
	enum mmu_wp_mechanism mmu_wp;
	enum mmu_wp_delivery fault_delivery;
};

struct vm {
	struct guest_memory *mem;
	uint8_t *guest_base;
	uint64_t npages;       /* gfns 0..npages-1, all in memslots */
	_Atomic uint8_t *spte; /* one per gfn: SPTE_WRITABLE or 0 */
	enum fault_path fault_path;
	struct dirty_log *log; /* NULL: no dirty logging at all */
	int nvcpus;
	struct vcpu *vcpus;
	struct vm_delays delay;

	/* vCPUs read the memslots through memslots_protect (see the top);
	 * memslots is its current table, for the updater side (harvesters,
	 * strategies, the verifier), refreshed by vm_update_memslots. */
	struct memslot_protect *memslots_protect;
	struct memslot_table *memslots;

	/* kvm->srcu: the VM's one SRCU domain (see the top).  Its readers
	 * are the vCPU threads and the real MMU's handler thread. */
	struct srcu_struct *srcu;

	/* The real MMU (NULL wp: nothing is write-protected in the page
	 * tables, under soft, without a log, or with a kernel marker).
	 * wp_batch collects the page-table side of write-protections made
	 * under mmu_lock (vm_mmu_unlock applies it); mmu_error keeps the
	 * first error of a protect call (dirty_log_get and _clear return
	 * it). */
	enum vm_mmu mmu;
	struct mmu_wp *wp;
	enum mmu_wp_delivery fault_delivery;
	struct mmu_wp_batch wp_batch;
	atomic_int mmu_error;
	char mmu_name[32];	/* "soft", "uffd-wp:signal", "uffd-wp-async", ... */
	char mmu_fallback[256]; /* why the mechanism fell back to mprotect, or "" */
	/* thread delivery: the handler thread's own memslot reader, and its
	 * reader of vm->srcu */
	struct memslot_reader *handler_memslot_reader;
	struct srcu_reader *handler_srcu_reader;

	_Alignas(CACHELINE) struct spinlock mmu_lock;
	_Alignas(CACHELINE) _Atomic uint64_t flush_seq; /* flushes requested so far */
	_Alignas(CACHELINE) atomic_int stop;		/* vm_request_stop */
	atomic_int paused;				/* vm_pause_vcpus */
	/* vCPUs waiting outside guest mode for dirty-log space (a full dirty
	 * ring): written only on that slow path, read by the harvester. */
	_Alignas(CACHELINE) atomic_int log_space_waiters;
};

/* Builds the VM over @mem (whose size must be nslots * a multiple of 64
 * pages) with its memslot protection, and attaches @log (dirty_log_create),
 * whose init runs here and turns logging on; @log may be NULL (logging
 * never on).  On error writes one line to @err and returns NULL. */
struct vm *vm_create(const struct vm_options *o, struct guest_memory *mem, struct dirty_log *log,
		     char *err, size_t errlen);
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
	if (v->soft_mmu &&
	    unlikely(!(atomic_load_explicit(&v->spte[gfn], memory_order_relaxed) & SPTE_WRITABLE)))
		vcpu_write_fault(v, gfn);
	/* real MMU: the store itself faults if the page is protected */
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

/* Raises @req on @v from its fault path (e.g. its ring became soft-full):
 * the vCPU's own thread, or the real MMU's handler thread. */
static inline void vcpu_make_request_self(struct vcpu *v, unsigned long req)
{
	/* release: pairs with the vCPU's acquire exchange of its requests;
	 * under the thread delivery the fault path ran on the handler
	 * thread, and what it wrote for the vCPU (its ring's index) is
	 * handed over with the request (on the vCPU's own thread the order
	 * costs nothing: a locked RMW either way) */
	atomic_fetch_or_explicit(&v->requests, req, memory_order_release);
}

/* Write faults this vCPU took, on its own thread and on the real MMU's
 * handler thread. */
static inline uint64_t vcpu_faults(const struct vcpu *v)
{
	/* relaxed: a count, read while the vCPU is idle (its phase handshake
	 * orders the vCPU's own count) */
	return v->stats.faults + atomic_load_explicit(&v->handler_faults, memory_order_relaxed);
}

/*
 * kvm_flush_remote_tlbs: raise VCPU_REQ_TLB_FLUSH on every vCPU and wait
 * until each vCPU in guest mode has acknowledged it at an exit point.
 * Must not be called with mmu_lock held (a vCPU in guest mode may be
 * spinning on it).  Waits yield and sleep, so vCPUs may outnumber CPUs.
 * Under the real MMU it only counts: the kernel flushed every CPU's TLB
 * inside each protect call, and no vCPU holds a translation of its own
 * (every store goes through the hardware page tables).
 */
void vm_flush_remote_tlbs(struct vm *vm);

/*
 * Stops every vCPU outside guest mode until vm_resume_vcpus: raises
 * VCPU_REQ_PAUSE on each and waits until each is outside guest mode; a
 * vCPU that enters guest mode meanwhile sees the request there and leaves
 * again.  For a harvester whose read and re-protection are two steps that
 * a write in between would defeat (soft-dirty: pagemap, then clear_refs;
 * CRIU freezes the task).  Not under mmu_lock; harvester side.
 */
void vm_pause_vcpus(struct vm *vm);
void vm_resume_vcpus(struct vm *vm);

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

/* ---- the real MMU's page-table side (see the top; nothing under soft) ---- */

/*
 * The page-table side of write-protections, collected in runs of
 * contiguous pages (mmu_wp_batch) and applied by vm_mmu_unlock, or by
 * vm_real_commit for a harvester that protects without mmu_lock (the
 * Linux strategies' lockless mode, whose fault handlers never protect).
 * Whoever holds mmu_lock owns the batch.
 */
static inline void vm_real_protect_mask(struct vm *vm, uint64_t gfn0, unsigned long mask)
{
	if (vm->wp)
		mmu_wp_batch_add_mask(&vm->wp_batch, gfn0, mask);
}

/* Applies the pending run of the batch now; 0 or the VM's first protect
 * error (kept in vm->mmu_error). */
int vm_real_commit(struct vm *vm);

/* Keeps @rc (a negative errno; 0 does nothing) as the VM's first protect
 * error, for a strategy that drives a kernel mechanism itself. */
void vm_mmu_error(struct vm *vm, int rc);

/* Write-protects [gfn, gfn + npages) in the page tables with one call
 * (after applying the batch, which keeps the calls in order): a
 * whole-slot pass, or a garbage collector's PROT_READ of its heap. */
void vm_real_protect_range(struct vm *vm, uint64_t gfn, uint64_t npages);

/* From a fault handler: makes @gfn writable in the page tables.  Under
 * the thread delivery the faulting vCPU is not woken here: the VM wakes it
 * when the whole handler has run (so its store comes after every step of
 * the handler, as under the signal delivery).  A failure is fatal (the
 * store would fault for ever): a BUG line, then abort. */
void vm_real_unprotect(struct vm *vm, uint64_t gfn);
/* ... and write-protects it again (the fast path's re-protection). */
void vm_real_reprotect(struct vm *vm, uint64_t gfn);

/* mmu_lock, and its release that first applies the batch of
 * write-protections made under it: the page tables change inside the
 * lock, as KVM's sptes do, so the locked fault path (check, mark,
 * make-writable and un-protect, all under the lock) never sees an spte
 * write-protected by a harvest whose page-table side is still to come. */
static inline void vm_mmu_lock(struct vm *vm)
{
	spinlock_lock(&vm->mmu_lock);
}

static inline void vm_mmu_unlock(struct vm *vm)
{
	if (vm->wp)
		(void)vm_real_commit(vm);
	spinlock_unlock(&vm->mmu_lock);
}

/* Write-protects the pages of @mask, bit i being gfn @gfn0 + i (an
 * __builtin_ctzl walk), and under the real MMU adds them to the batch.
 * Caller holds mmu_lock and flushes afterwards.  The sptes first: the
 * batch may protect a run of this mask at once (when the next run starts),
 * and the fast path's rule (see vm.c) needs every page's spte read-only
 * before its page-table protection. */
static inline void vm_write_protect_mask(struct vm *vm, uint64_t gfn0, unsigned long mask)
{
	/* a local base: the stores could alias vm->spte itself otherwise */
	_Atomic uint8_t *spte = vm->spte + gfn0;

	if (MUTANT(vm_real_protect_before_spte))
		vm_real_protect_mask(vm, gfn0, mask);
	/* relaxed: mmu_lock orders them against the locked fault path, the
	 * flush that follows against vCPUs (vm_flush_remote_tlbs), and the
	 * page-table protect (a system call) against the fast path */
	for (unsigned long m = mask; m; m &= m - 1)
		atomic_store_explicit(&spte[__builtin_ctzl(m)], 0, memory_order_relaxed);
	if (!MUTANT(vm_real_protect_before_spte))
		vm_real_protect_mask(vm, gfn0, mask);
}

/* Write-protects one page; the same rules. */
static inline void vm_write_protect_page(struct vm *vm, uint64_t gfn)
{
	/* relaxed: as vm_write_protect_mask */
	atomic_store_explicit(&vm->spte[gfn], 0, memory_order_relaxed);
	if (vm->wp)
		mmu_wp_batch_add(&vm->wp_batch, gfn, 1);
}

/* Write-protects every page of @s, dirty or not, in one linear pass:
 * kvm_mmu_slot_remove_write_access (the other branch of Linux 3.3's
 * write_protect_slot); under the real MMU one call over the slot.  Caller
 * holds mmu_lock and flushes afterwards. */
void vm_write_protect_slot(struct vm *vm, const struct memslot *s);

/* The locked fault path: makes @gfn writable (mmu_lock held), and under
 * the real MMU un-protects it, inside the lock. */
static inline void vm_make_writable(struct vm *vm, uint64_t gfn)
{
	/* relaxed: mmu_lock orders it against a harvest; a vCPU that reads it
	 * stale faults again (vcpu_translate_write) */
	atomic_store_explicit(&vm->spte[gfn], SPTE_WRITABLE, memory_order_relaxed);
	if (vm->wp)
		vm_real_unprotect(vm, gfn);
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
						       memory_order_acq_rel, memory_order_relaxed);
}

/* Every page write-protected, or every page writable (logging on and off,
 * KVM_DIRTY_LOG_INITIALLY_SET, a VM without a log); no vCPU in guest mode
 * (no access may race with these), mmu_lock held where vCPUs exist.
 * Under the real MMU one call over the whole range each. */
void vm_write_protect_all(struct vm *vm);
void vm_make_all_writable(struct vm *vm);

/* ---- the harvest floor (dlbench harvest) ---- */

/*
 * The bare write-protection of the pages of @dirty (one bit per gfn):
 * under soft, clear each page's writable byte; under the real MMU, one
 * protect call per run of dirty pages with the VM's mechanism (the
 * strategy's, for a kernel marker: dirty_log_floor_pass).  No atomics, no
 * lock, no flush beyond the kernel's own.  vm_floor_reset makes the same
 * pages writable again first (untimed).  The vCPU must be idle.
 */
void vm_floor_reset(struct vm *vm, const unsigned long *dirty);
int vm_floor_pass(struct vm *vm, const unsigned long *dirty);

/* ---- the MMU in words ---- */

/* "soft", or the real mechanism: "uffd-wp:signal", "uffd-wp:thread",
 * "mprotect:signal", "uffd-wp-async", "soft-dirty", "real" (nothing
 * protected: no log). */
const char *vm_mmu_name(const struct vm *vm);
/* Why the real MMU fell back to mprotect, or "". */
const char *vm_mmu_fallback(const struct vm *vm);
/* The flavour of the VM's SRCU domain (kvm->srcu): "mb", "fast",
 * "classic" (after a fast domain's fallback: "mb"). */
const char *vm_srcu_name(const struct vm *vm);

/* The VM's SRCU domain (kvm->srcu), for its users (srcu-swap). */
static inline struct srcu_struct *vm_srcu(struct vm *vm)
{
	return vm->srcu;
}

/*
 * The flavour of the VM's domain that vm_create would make of @o: the
 * --vm-srcu choice, or by default the memslot protection's flavour when it
 * is an SRCU one (srcu-mb, srcu-fast, srcu-classic: it reads under the
 * VM's domain), else mb.  An SRCU protection whose flavour contradicts an
 * explicit choice is refused.  Returns the enum srcu_flavour, with the
 * protection's options in @po (may be NULL) and whether it is an SRCU one
 * in *@shared (may be NULL); or -EINVAL with one line in @err.
 */
int vm_srcu_plan(const struct vm_options *o, struct memslot_protect_options *po, bool *shared,
		 char *err, size_t errlen);

/*
 * What vm_create would make of @o with the strategy @log (NULL: none) for
 * @npages pages, creating nothing: the MMU's name into @name, the
 * fallback's reason into @fallback (both may be NULL), and whether it can
 * run here: the real MMU refused for hugetlb backing, a mechanism missing
 * from this kernel, a strategy that needs the real MMU under soft, mprotect
 * past vm.max_map_count.  0, or -errno with one line in @err.
 */
int vm_mmu_plan(const struct vm_options *o, enum guest_backing backing, uint64_t npages,
		const struct dirty_log *log, char *name, size_t namelen, char *fallback,
		size_t fallbacklen, char *err, size_t errlen);

/*
 * The fault floor of the MMU vm_create would make of @o with @log: a bare
 * loop taking the same fault with an empty handler (mmu_fault_floor, or
 * linux_dirty_fault_floor for a kernel marker), MMU_FAULT_FLOOR_PAGES
 * pages, MMU_FAULT_FLOOR_FAULTS faults.  -ENOENT under soft (no real
 * fault to take) or without a log; 0 or -errno with a line in @err.
 */
int vm_mmu_fault_floor(const struct vm_options *o, const struct dirty_log *log, double *ns,
		       char *err, size_t errlen);

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
