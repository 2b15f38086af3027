/* The emulated VM: see vm.h. */
#include "lib/vm/vm.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm_internal.h"

const char *const fault_path_names[] = { "locked", "fast", NULL };
const char *const vm_srcu_choices[] = { "auto", "mb", "fast", "classic", NULL };
_Static_assert(SRCU_FLAVOUR_COUNT == 3, "vm_srcu_choices lists every flavour after auto");

void vm_backoff(unsigned n)
{
	uint64_t ns;

	if (n < 32) {
		for (int k = 0; k < 16; k++)
			cpu_relax();
		return;
	}
	/*
	 * The thread we wait for may need this CPU (overcommit): sleep rather
	 * than sched_yield, which under CFS can hand a whole time slice to an
	 * unrelated busy thread; a sleeper is woken with priority.
	 */
	ns = 1000ull << (n - 32 < 6 ? n - 32 : 6);
	sleep_ns(ns);
}

/* memslot_protect_set_kick: an updater wants every vCPU to pass
 * memslot_quiescent.  Each vCPU gets the request at its next exit point
 * (vcpu_handle_requests), or when it next enters guest mode. */
static void vm_kick_memslot_readers(void *arg)
{
	struct vm *vm = arg;

	/* seq_cst RMW: releases the protection's request stores made before
	 * the kick to the vCPU's acquire exchange of its requests */
	for (int i = 0; i < vm->nvcpus; i++)
		atomic_fetch_or_explicit(&vm->vcpus[i].requests, VCPU_REQ_MEMSLOT_QUIESCENT,
					 memory_order_seq_cst);
}

/* ---- sptes ---- */

/*
 * Every spte at once, while no vCPU is in guest mode (the callers'
 * precondition: no access can race with it, and the handshake that starts
 * the vCPUs again orders it before their accesses).  So this is a bulk
 * atomic_init of the array, done with memset as the plain-byte array was
 * before: an element-wise loop of atomic stores is about ten times slower
 * (not vectorised) and would change what enable_log_ns measures.
 */
_Static_assert(sizeof(_Atomic uint8_t) == 1, "an spte is one byte");

static void vm_set_all_sptes(struct vm *vm, uint8_t value)
{
	memset((void *)vm->spte, value, (size_t)vm->npages);
}

void vm_write_protect_all(struct vm *vm)
{
	vm_set_all_sptes(vm, 0);
	vm_real_protect_range(vm, 0, vm->npages);
}

void vm_make_all_writable(struct vm *vm)
{
	vm_set_all_sptes(vm, SPTE_WRITABLE);
	vm_real_unprotect_all(vm);
}

/* The spte state logging starts in (the strategy says which). */
static void vm_logging_initial_state(struct vm *vm)
{
	if (dirty_log_initially_dirty(vm->log))
		vm_make_all_writable(vm);
	else
		vm_write_protect_all(vm);
}

/* ---- creation ---- */

static int vm_check_layout(const struct vm_options *o, const struct guest_memory *mem,
			   const char *protect, char *err, size_t errlen)
{
	uint64_t npages = mem->bytes >> PAGE_SHIFT, per_slot;

	if (memslot_protect_spec_check(protect, err, errlen)) {
		return -EINVAL;
	}
	if (o->nslots == 0 || o->nvcpus <= 0) {
		snprintf(err, errlen, "vm: need at least one memslot and one vCPU");
		return -EINVAL;
	}
	per_slot = npages / o->nslots;
	if (per_slot * o->nslots != npages || per_slot == 0 || per_slot % 64) {
		snprintf(err, errlen,
			 "vm: %llu bytes do not split into %u memslots of a multiple of 64 pages "
			 "(256 KiB) each",
			 (unsigned long long)mem->bytes, o->nslots);
		return -EINVAL;
	}
	return 0;
}

/* Equal slots over the whole guest memory. */
static void vm_init_slots(struct vm *vm, uint32_t nslots)
{
	uint64_t per_slot = vm->npages / nslots;

	for (uint32_t i = 0; i < nslots; i++) {
		struct memslot *s = &vm->memslots->slots[i];

		s->id = i;
		s->flags = MEMSLOT_LOG_DIRTY_PAGES;
		s->base_gfn = (uint64_t)i * per_slot;
		s->npages = per_slot;
		s->hva = vm->guest_base + (s->base_gfn << PAGE_SHIFT);
	}
	memslot_table_sort(vm->memslots);
}

static void vm_init_vcpus(struct vm *vm)
{
	memset(vm->vcpus, 0, sizeof(struct vcpu) * (size_t)vm->nvcpus);
	for (int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		atomic_init(&v->requests, 0);
		atomic_init(&v->mode, VCPU_OUTSIDE_GUEST);
		atomic_init(&v->flush_ack, 0);
		v->vm = vm;
		v->index = i;
		v->spte = vm->spte;
		v->soft_mmu = vm->mmu == VM_MMU_SOFT;
		v->guest_base = vm->guest_base;
		atomic_init(&v->handler_faults, 0);
		atomic_init(&v->fault_t0, 0);
	}
}

const char *vm_memslot_protect_default(int choice)
{
#define VM_SRCU_PROTECT_NAME(ident, str, flavour, sum) [flavour] = str,
	static const char *const names[SRCU_FLAVOUR_COUNT] = { MEMSLOT_PROTECT_SRCU_FLAVOURS(
		VM_SRCU_PROTECT_NAME) };
#undef VM_SRCU_PROTECT_NAME

	if (choice <= VM_SRCU_AUTO || choice > SRCU_FLAVOUR_COUNT)
		return names[SRCU_FLAVOUR_MB];
	return names[choice - 1];
}

static const char *vm_protect_spec(const struct vm_options *o)
{
	return o->memslot_protect ? o->memslot_protect : vm_memslot_protect_default(o->srcu);
}

int vm_srcu_plan(const struct vm_options *o, struct memslot_protect_options *po, bool *shared,
		 char *err, size_t errlen)
{
	const char *protect = vm_protect_spec(o);
	struct memslot_protect_options tmp;
	int pf;

	if (!po)
		po = &tmp;
	memslot_protect_options_default(po);
	po->expedited = o->memslot_expedited;
	pf = memslot_protect_spec_srcu(protect, po, err, errlen);
	if (pf == -2)
		return -EINVAL;
	if (shared)
		*shared = pf >= 0;
	if (o->srcu < 0 || o->srcu > SRCU_FLAVOUR_COUNT) {
		snprintf(err, errlen, "--vm-srcu: no flavour number %d", o->srcu);
		return -EINVAL;
	}
	if (o->srcu == VM_SRCU_AUTO)
		return pf >= 0 ? pf : SRCU_FLAVOUR_MB;
	if (pf >= 0 && pf != o->srcu - 1) {
		snprintf(err, errlen,
			 "--vm-srcu %s contradicts --memslot-protect %s: an SRCU memslot protection"
			 " reads under the VM's domain (kvm->srcu), so their flavours must agree",
			 vm_srcu_choices[o->srcu], protect);
		return -EINVAL;
	}
	return o->srcu - 1;
}

/* kvm->srcu: the VM's one domain, of flavour @f; the idle fast path as the
 * SRCU memslot protection's option says (on otherwise; classic has none). */
static int vm_srcu_create(struct vm *vm, int f, const struct vm_options *o,
			  const struct memslot_protect_options *po, char *err, size_t errlen)
{
	struct srcu_options so;
	int rc;

	vm->srcu = aligned_alloc(SRCU_CACHELINE, sizeof(*vm->srcu));
	if (!vm->srcu) {
		snprintf(err, errlen, "vm: out of memory for its SRCU domain");
		return -ENOMEM;
	}
	srcu_options_default(&so);
	so.flavour = (enum srcu_flavour)f;
	so.idle_fast_path = po->srcu_idle_fast_path;
	so.expedited = (enum srcu_expedited)(po->srcu_expedited >= 0 ? po->srcu_expedited
								     : o->srcu_expedited);
	so.name = "kvm->srcu";
	/* a fast domain without membarrier becomes mb (vm_srcu_name says it):
	 * the notice srcu_init leaves in @err is not an error */
	rc = srcu_init(vm->srcu, &so, err, errlen);
	if (rc) {
		free(vm->srcu);
		vm->srcu = NULL;
		return rc;
	}
	if (err && errlen)
		err[0] = 0;
	return 0;
}

/* Frees what vm_create allocated, on its error paths and in vm_destroy. */
static void vm_free(struct vm *vm)
{
	vm_real_destroy(vm);
	if (vm->memslots_protect)
		memslot_protect_destroy(vm->memslots_protect);
	else
		free(vm->memslots);
	/* after the protection and the log (srcu-swap's call_srcu callbacks
	 * are barriered at its detach): nothing uses the domain any more */
	if (vm->srcu) {
		srcu_destroy(vm->srcu, NULL, 0);
		free(vm->srcu);
	}
	free(vm->spte);
	free(vm->vcpus);
	free(vm);
}

struct vm *vm_create(const struct vm_options *o, struct guest_memory *mem, struct dirty_log *log,
		     char *err, size_t errlen)
{
	const char *protect = vm_protect_spec(o);
	struct memslot_protect_options po;
	struct vm *vm;
	bool shared;
	int flavour;

	if (vm_check_layout(o, mem, protect, err, errlen))
		return NULL;
	flavour = vm_srcu_plan(o, &po, &shared, err, errlen);
	if (flavour < 0)
		return NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(err, errlen, "vm: out of memory");
		return NULL;
	}
	vm->mem = mem;
	vm->guest_base = mem->base;
	vm->npages = mem->bytes >> PAGE_SHIFT;
	vm->fault_path = o->fault_path;
	vm->mmu = o->mmu;
	vm->nvcpus = o->nvcpus;
	vm->delay = o->delays;
	spinlock_init(&vm->mmu_lock);
	atomic_init(&vm->flush_seq, 0);
	atomic_init(&vm->stop, 0);
	atomic_init(&vm->paused, 0);
	atomic_init(&vm->mmu_error, 0);
	atomic_init(&vm->log_space_waiters, 0);
	vm->spte = calloc((size_t)vm->npages, sizeof(*vm->spte));
	vm->vcpus = aligned_alloc(CACHELINE, sizeof(struct vcpu) * (size_t)o->nvcpus);
	vm->memslots = memslot_table_alloc(o->nslots);
	if (!vm->spte || !vm->vcpus || !vm->memslots) {
		snprintf(err, errlen, "vm: out of memory for %llu pages and %d vCPUs",
			 (unsigned long long)vm->npages, o->nvcpus);
		vm_free(vm);
		return NULL;
	}
	vm_init_slots(vm, o->nslots);
	vm_init_vcpus(vm);
	if (vm_srcu_create(vm, flavour, o, &po, err, errlen)) {
		vm_free(vm);
		return NULL;
	}
	/* an SRCU protection reads under kvm->srcu (memslot_protect.h:
	 * srcu_domain); its own options were parsed by vm_srcu_plan and are
	 * parsed again from the spec below */
	memslot_protect_options_default(&po);
	po.expedited = o->memslot_expedited;
	po.srcu_domain = shared ? vm->srcu : NULL;
	/* owns the table from here on, also on failure */
	vm->memslots_protect = memslot_protect_create(protect, &po, vm->memslots, err, errlen);
	if (!vm->memslots_protect) {
		vm->memslots = NULL;
		vm_free(vm);
		return NULL;
	}
	memslot_protect_set_kick(vm->memslots_protect, vm_kick_memslot_readers, vm);
	if (vm_real_create(vm, o, log, err, errlen)) {
		vm_free(vm);
		return NULL;
	}
	if (!log) {
		/* no dirty logging: no spte is ever write-protected */
		vm_make_all_writable(vm);
		return vm;
	}
	if (dirty_log_attach(log, vm, err, errlen)) {
		vm_free(vm);
		return NULL;
	}
	vm->log = log;
	vm_logging_initial_state(vm);
	return vm;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->log)
		dirty_log_detach(vm->log);
	/* frees the current table; -EBUSY (with a message) only if a vCPU
	 * thread did not call vcpu_thread_end, which leaks it */
	vm_free(vm);
}

const char *vm_srcu_name(const struct vm *vm)
{
	return vm->srcu ? srcu_flavour_name(srcu_flavour_of(vm->srcu)) : "none";
}

struct memslot *vm_slot_by_id(struct vm *vm, uint32_t id)
{
	struct memslot_table *t = vm->memslots;

	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->slots[i].id == id)
			return &t->slots[i];
	return NULL;
}

int vm_update_memslots(struct vm *vm, memslot_change_fn change, void *arg)
{
	int rc = memslot_protect_update(vm->memslots_protect, change, arg);

	/* updaters are serialized by the caller: no update_lock needed to
	 * read the protection's current table */
	vm->memslots = memslot_protect_current(vm->memslots_protect);
	return rc;
}

int vm_enable_dirty_logging(struct vm *vm)
{
	if (!vm->log)
		return -EINVAL;
	vm_mmu_lock(vm);
	dirty_log_enable(vm->log);
	vm_logging_initial_state(vm);
	vm_mmu_unlock(vm);
	vm_flush_remote_tlbs(vm);
	return 0;
}

void vm_disable_dirty_logging(struct vm *vm)
{
	vm_mmu_lock(vm);
	if (vm->log)
		dirty_log_disable(vm->log);
	/* making sptes writable needs no flush */
	vm_make_all_writable(vm);
	vm_mmu_unlock(vm);
}

/* ---- guest mode ---- */

/* Enter guest mode, then look at requests raised while we were outside. */
void vcpu_enter_guest(struct vcpu *v)
{
	/*
	 * seq_cst store then seq_cst load: pairs with the harvester's seq_cst
	 * fetch_or of requests then seq_cst load of mode in
	 * vm_flush_remote_tlbs (kvm_vcpu_kick against vcpu_enter_guest's
	 * smp_store_mb of vcpu->mode).  Either the harvester sees us in guest
	 * mode and waits for our acknowledgement, or we see its request here
	 * (and through it, with acquire, its write-protections) before our
	 * next access.  In this emulation a vCPU holds no translation across
	 * an exit (every access walks the sptes again), so a vCPU that missed
	 * the request here would still see the write-protections; the order
	 * is kept as KVM has it, for a vCPU that caches translations.
	 */
	atomic_store_explicit(&v->mode, VCPU_IN_GUEST, memory_order_seq_cst);
	if (atomic_load_explicit(&v->requests, memory_order_seq_cst))
		vcpu_handle_requests(v);
}

void vcpu_exit_guest(struct vcpu *v)
{
	/* seq_cst (a release is what matters): a harvester that reads
	 * OUTSIDE and skips us sees every store we made before */
	atomic_store_explicit(&v->mode, VCPU_OUTSIDE_GUEST, memory_order_seq_cst);
	/* outside guest mode no exit point runs: keep nothing an updater
	 * would wait for (rwlock-cond's read side) */
	memslot_reader_offline(v->memslot_reader);
}

int vcpu_thread_begin(struct vcpu *v, char *err, size_t errlen)
{
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "vcpu%d", v->index);
	v->srcu_reader = srcu_register_reader(v->vm->srcu, name, NULL, 0);
	if (!v->srcu_reader) {
		snprintf(err, errlen, "vCPU %d cannot register as a reader of kvm->srcu", v->index);
		return -ENOMEM;
	}
	v->memslot_reader = memslot_reader_register(v->vm->memslots_protect, name);
	if (!v->memslot_reader) {
		snprintf(err, errlen, "vCPU %d cannot register as a memslot reader", v->index);
		rc = -ENOMEM;
		goto out_srcu;
	}
	if (v->vm->log && (rc = dirty_log_vcpu_thread_begin(v->vm->log, v, err, errlen)))
		goto out_memslot;
	if ((rc = vm_real_thread_begin(v, err, errlen))) {
		if (v->vm->log)
			dirty_log_vcpu_thread_end(v->vm->log, v);
		goto out_memslot;
	}
	vcpu_enter_guest(v);
	return 0;
out_memslot:
	memslot_reader_unregister(v->memslot_reader);
	v->memslot_reader = NULL;
out_srcu:
	srcu_unregister_reader(v->srcu_reader, NULL, 0);
	v->srcu_reader = NULL;
	return rc;
}

void vcpu_thread_end(struct vcpu *v)
{
	vcpu_exit_guest(v);
	vm_real_thread_end(v);
	if (v->vm->log)
		dirty_log_vcpu_thread_end(v->vm->log, v);
	memslot_reader_unregister(v->memslot_reader);
	v->memslot_reader = NULL;
	srcu_unregister_reader(v->srcu_reader, NULL, 0);
	v->srcu_reader = NULL;
}

/* ---- the write fault ---- */

/*
 * The exit a fault makes (see "kvm->srcu" in vm.h): the thread handling it
 * (the vCPU's own, or the real MMU's handler thread) with its memslot
 * reader and its reader of the VM's domain, and the index of the read
 * section it holds for the whole fault.
 */
struct vcpu_exit {
	struct memslot_reader *memslot_reader;
	struct srcu_reader *srcu_reader;
	int srcu_idx;
};

/* The strategy's mark, inside the exit's read section of kvm->srcu:
 * srcu-swap's marker reads the slot's bitmap pointer under it and takes no
 * read lock of its own. */
static void vcpu_mark(struct vcpu *v, struct vcpu_exit *x, struct memslot *slot, uint64_t gfn)
{
	struct vm *vm = v->vm;

	/* a vCPU that leaves the section before its mark (as if kvm->srcu
	 * were dropped before mark_page_dirty): srcu-swap's grace period no
	 * longer waits for the marker, which may set its bit in a bitmap the
	 * harvester already reported and zeroed */
	if (MUTANT(vm_srcu_unlock_before_mark))
		srcu_read_unlock(x->srcu_reader, x->srcu_idx);
	dirty_log_mark(vm->log, v, slot, gfn - slot->base_gfn);
	if (MUTANT(vm_srcu_unlock_before_mark))
		x->srcu_idx = srcu_read_lock(x->srcu_reader);
}

/* The locked path: check, mark, make writable, all under mmu_lock. */
static void vcpu_fault_locked(struct vcpu *v, struct vcpu_exit *x, struct memslot *slot,
			      uint64_t gfn)
{
	struct vm *vm = v->vm;

	/* mmu_lock makes the three steps one against every harvester, which
	 * takes marks and write-protects under the same lock: without it, a
	 * harvest between our mark and our make-writable takes the mark and
	 * write-protects, then we make the page writable with no mark */
	if (!MUTANT(vm_fault_locked_no_mmu_lock))
		vm_mmu_lock(vm);
	if (!vm_spte_writable(vm, gfn)) {
		/* mark before writable, as set_spte: under the lock the order
		 * is invisible to a harvester (it takes the mark and
		 * write-protects under the same lock) */
		vcpu_mark(v, x, slot, gfn);
		vm_test_delay(vm->delay.fault_ns);
		if (vm->wp && MUTANT(vm_real_unprotect_outside_mmu_lock)) {
			/* the page tables changed after the lock: a harvest in
			 * between takes the mark and write-protects, then this
			 * un-protect leaves the page writable, its spte not */
			atomic_store_explicit(&vm->spte[gfn], SPTE_WRITABLE, memory_order_relaxed);
			vm_mmu_unlock(vm);
			vm_test_delay(vm->delay.fault_ns);
			vm_real_unprotect(vm, gfn);
			return;
		}
		/* real MMU: un-protects the page too, inside the lock */
		vm_make_writable(vm, gfn);
	}
	/* a writable spte: another vCPU's fault made it writable (and its
	 * page, in the same critical section) while this one waited */
	if (!MUTANT(vm_fault_locked_no_mmu_lock))
		vm_mmu_unlock(vm);
}

static void vcpu_fault_mark(struct vcpu *v, struct vcpu_exit *x, struct memslot *slot, uint64_t gfn)
{
	struct vm *vm = v->vm;

	if (dirty_log_marks_need_mmu_lock(vm->log)) {
		vm_mmu_lock(vm);
		vcpu_mark(v, x, slot, gfn);
		vm_mmu_unlock(vm);
	} else {
		vcpu_mark(v, x, slot, gfn);
	}
}

/*
 * The fast path under the real MMU, after the compare-and-swap (and the
 * winner's mark): un-protect the page, then load the spte again and, if a
 * harvest write-protected it meanwhile, protect the page again.  The
 * harvest stores the spte read-only, then protects the page (under
 * mmu_lock, in vm_mmu_unlock).  Either its protect comes after our
 * un-protect in the page table's order, and the page ends protected, or
 * it came before, and then its spte store did too, so the load below
 * (after our un-protect: a system call, a full barrier, and a seq_cst
 * fence for the compiler) sees read-only and we protect again.  Either
 * way the page is protected whenever its spte is read-only, so no store
 * goes untracked.  The loser of the compare-and-swap does the same: it
 * must not wait for the winner's un-protect (the winner may have found a
 * read-only spte and re-protected after another fault's un-protect, and
 * then the page would stay protected with a writable spte, every store
 * faulting again for ever); un-protecting a page with a writable spte is
 * what the winner does anyway, and the re-check keeps the rule.
 */
static void vcpu_fast_unprotect(struct vm *vm, uint64_t gfn)
{
	/* the window a harvest may fall into: the mark made, the page still
	 * protected */
	vm_test_delay(vm->delay.fault_ns);
	vm_real_unprotect(vm, gfn);
	if (MUTANT(vm_real_fast_no_recheck))
		return;
	/* seq_cst fence and load: pairs with the spte store that
	 * vm_write_protect_mask makes before its protect (see above) */
	atomic_thread_fence(memory_order_seq_cst);
	if (!(atomic_load_explicit(&vm->spte[gfn], memory_order_seq_cst) & SPTE_WRITABLE))
		vm_real_reprotect(vm, gfn);
}

/*
 * The fast path: only the vCPU whose compare-and-swap makes the spte
 * writable marks the page, after the swap.  A harvest that runs between
 * the swap and the mark finds no mark and leaves the page writable; the
 * mark then reports it at the next harvest.  Marking first would let a
 * harvest between the mark and the swap take the mark and write-protect,
 * and the swap would then make the page writable with no mark.
 */
static void vcpu_fault_fast(struct vcpu *v, struct vcpu_exit *x, struct memslot *slot, uint64_t gfn)
{
	struct vm *vm = v->vm;

	if (MUTANT(vm_fault_fast_mark_before_swap)) {
		if (!vm_spte_writable(vm, gfn)) {
			vcpu_fault_mark(v, x, slot, gfn);
			vm_test_delay(vm->delay.fault_ns);
			(void)vm_try_make_writable(vm, gfn);
		}
	} else if (vm_try_make_writable(vm, gfn)) {
		vm_test_delay(vm->delay.fault_ns);
		vcpu_fault_mark(v, x, slot, gfn);
	}
	if (vm->wp)
		vcpu_fast_unprotect(vm, gfn);
}

/*
 * The memslot read side of the fault path, in one place: a read section of
 * the VM's memslot protection around the lookup and every use of the slot
 * (the protection orders the table's publication before our reads).  An
 * SRCU protection reads under kvm->srcu, whose section the caller holds:
 * its read_begin is then only the table's load.
 */
static bool vcpu_fault_with_slot(struct vcpu *v, uint64_t gfn, struct vcpu_exit *x)
{
	struct memslot_reader *r = x->memslot_reader;
	const struct memslot_table *t = memslot_read_begin(r);
	struct memslot *slot = memslot_lookup(t, gfn);

	if (slot && !v->vm->log)
		vm_make_writable(v->vm, gfn); /* nothing write-protects, nothing to mark */
	else if (slot && v->vm->fault_path == FAULT_PATH_LOCKED)
		vcpu_fault_locked(v, x, slot, gfn);
	else if (slot)
		vcpu_fault_fast(v, x, slot, gfn);
	memslot_read_end(r);
	return slot != NULL;
}

/*
 * kvm->srcu across the exit: the thread that handles the fault enters the
 * VM's read side as the vCPU leaves guest mode for it, and leaves it when
 * the vCPU would re-enter (vcpu_run and kvm_arch_vcpu_ioctl_run, Linux
 * 3.3, hold kvm->srcu from the exit to the next guest entry).  So the
 * section covers the memslot lookup, any spin on mmu_lock, the mark and
 * the make-writable: a grace period of the VM's domain (srcu-swap's
 * get_log, a memslot update under an SRCU protection) waits for every
 * fault that began before it, whole.
 */
void vcpu_fault_body(struct vcpu *v, uint64_t gfn, struct memslot_reader *r, struct srcu_reader *sr)
{
	struct vcpu_exit x = { .memslot_reader = r, .srcu_reader = sr };
	bool ok;

	x.srcu_idx = srcu_read_lock(sr);
	ok = vcpu_fault_with_slot(v, gfn, &x);
	srcu_read_unlock(sr, x.srcu_idx);
	if (!ok) {
		/* a programming error, not input: see vm.h */
		fprintf(stderr, "dlbench: BUG: vCPU %d wrote gfn 0x%llx outside every memslot\n",
			v->index, (unsigned long long)gfn);
		abort();
	}
	/* the fault is over; the translation it made is not used yet */
	vm_test_delay(v->vm->delay.fault_ns);
}

void vcpu_write_fault(struct vcpu *v, uint64_t gfn)
{
	uint64_t t0 = v->stall_hist ? now_ns() : 0;

	v->stats.faults++;
	/* The vCPU stays in guest mode (see vm.h): a mutant that leaves it
	 * for the fault, as a real exit would, lets a flush skip the vCPU
	 * while it still holds the translation the fault hands back. */
	if (MUTANT(vm_fault_outside_guest_mode))
		/* seq_cst: as vcpu_exit_guest (mutant only) */
		atomic_store_explicit(&v->mode, VCPU_OUTSIDE_GUEST, memory_order_seq_cst);
	vcpu_fault_body(v, gfn, v->memslot_reader, v->srcu_reader);
	if (MUTANT(vm_fault_outside_guest_mode))
		vcpu_enter_guest(v);
	if (v->stall_hist)
		histogram_record(v->stall_hist, now_ns() - t0);
}

/* ---- requests ---- */

/* VCPU_REQ_PAUSE: out of guest mode (if in it) until vm_resume_vcpus. */
static void vcpu_pause_wait(struct vcpu *v)
{
	/* the pause is a stall the guest feels (a frozen task, for CRIU) */
	uint64_t t0 = v->stall_hist ? now_ns() : 0;
	/* seq_cst: pairs with vcpu_enter_guest's mode store (ours) */
	bool in_guest = atomic_load_explicit(&v->mode, memory_order_seq_cst) == VCPU_IN_GUEST;

	if (in_guest)
		vcpu_exit_guest(v);
	/* acquire: pairs with the release in vm_resume_vcpus */
	for (unsigned n = 0; atomic_load_explicit(&v->vm->paused, memory_order_acquire); n++)
		vm_backoff(n);
	if (in_guest)
		vcpu_enter_guest(v);
	if (v->stall_hist)
		histogram_record(v->stall_hist, now_ns() - t0);
}

void vm_pause_vcpus(struct vm *vm)
{
	/* seq_cst: a vCPU that sees the request (below) sees paused */
	atomic_store_explicit(&vm->paused, 1, memory_order_seq_cst);
	/* seq_cst: as vm_flush_remote_tlbs against vcpu_enter_guest: either
	 * we see the vCPU in guest mode below and wait until it leaves, or it
	 * sees the request when it enters and leaves again */
	for (int i = 0; i < vm->nvcpus; i++)
		atomic_fetch_or_explicit(&vm->vcpus[i].requests, VCPU_REQ_PAUSE,
					 memory_order_seq_cst);
	for (int i = 0; i < vm->nvcpus; i++)
		for (unsigned n = 0; atomic_load_explicit(&vm->vcpus[i].mode,
							  memory_order_seq_cst) == VCPU_IN_GUEST;
		     n++)
			vm_backoff(n);
}

void vm_resume_vcpus(struct vm *vm)
{
	/* release: the harvest made while they were out happens before
	 * their next access */
	atomic_store_explicit(&vm->paused, 0, memory_order_release);
}

static void vcpu_wait_ring_space(struct vcpu *v)
{
	struct dirty_log *log = v->vm->log;
	uint64_t t0 = v->stall_hist ? now_ns() : 0;

	if (!log || !dirty_log_vcpu_blocked(log, v))
		return;
	v->stats.ring_full_exits++;
	/* Outside guest mode the harvester's flushes do not wait for us. */
	vcpu_exit_guest(v);
	/* relaxed: a hint for vm_log_space_wanted, see there */
	atomic_fetch_add_explicit(&v->vm->log_space_waiters, 1, memory_order_relaxed);
	for (unsigned n = 0; dirty_log_vcpu_blocked(log, v) && !vm_stopping(v->vm); n++)
		vm_backoff(n);
	atomic_fetch_sub_explicit(&v->vm->log_space_waiters, 1, memory_order_relaxed);
	vcpu_enter_guest(v);
	if (v->stall_hist)
		histogram_record(v->stall_hist, now_ns() - t0);
}

void vcpu_handle_requests(struct vcpu *v)
{
	/* acquire: pairs with the harvester's fetch_or (seq_cst) of the
	 * request, so its write-protections happen before our next access */
	unsigned long req = atomic_exchange_explicit(&v->requests, 0, memory_order_acquire);
	/* an exit for requests: kvm->srcu held while they are handled, as
	 * vcpu_enter_guest (Linux 3.3) handles them before it drops the
	 * section for guest entry; not across the waits below, which are
	 * exits to userspace (KVM_RUN returns, and drops it) */
	int idx = srcu_read_lock(v->srcu_reader);

	if ((req & VCPU_REQ_FAULT_DONE) && v->stall_hist)
		/* relaxed: the exchange above acquired the handler thread's
		 * release of the request, after its store of fault_t0 */
		histogram_record(v->stall_hist,
				 now_ns() -
					 atomic_load_explicit(&v->fault_t0, memory_order_relaxed));
	if (req & VCPU_REQ_TLB_FLUSH) {
		/* The harvester bumped flush_seq before raising the request we
		 * just consumed, so this reads at least its sequence. */
		/* acquire: more than needed (the exchange above acquired the
		 * request, after the bump); kept, as the flush_ack release */
		uint64_t seq = atomic_load_explicit(&v->vm->flush_seq, memory_order_acquire);

		/* release: pairs with the acquire load in vm_flush_remote_tlbs;
		 * our stores before this exit point are visible to the harvester
		 * once it sees the acknowledgement */
		atomic_store_explicit(&v->flush_ack, seq, memory_order_release);
		v->stats.flush_acks++;
	}
	if (req & VCPU_REQ_MEMSLOT_QUIESCENT)
		memslot_quiescent(v->memslot_reader);
	srcu_read_unlock(v->srcu_reader, idx);
	if (req & VCPU_REQ_PAUSE)
		vcpu_pause_wait(v);
	if (req & VCPU_REQ_DIRTY_RING_FULL)
		vcpu_wait_ring_space(v);
}

/* Waits until @v has acknowledged flush @seq or is outside guest mode. */
static void vm_flush_wait_vcpu(struct vcpu *v, uint64_t seq)
{
	for (unsigned n = 0;; n++) {
		/* acquire: pairs with the vCPU's release of flush_ack */
		if (atomic_load_explicit(&v->flush_ack, memory_order_acquire) >= seq)
			return;
		/* seq_cst: pairs with the mode stores of enter/exit */
		if (atomic_load_explicit(&v->mode, memory_order_seq_cst) != VCPU_IN_GUEST)
			return;
		vm_backoff(n);
	}
}

void vm_flush_remote_tlbs(struct vm *vm)
{
	/* seq_cst: the new sequence is ordered before the requests below, so
	 * a vCPU that consumes a request reads at least this sequence (see
	 * vcpu_handle_requests) */
	uint64_t seq;

	/* the real MMU: the kernel flushed in each protect call */
	if (vm->mmu == VM_MMU_REAL)
		return;
	seq = atomic_fetch_add_explicit(&vm->flush_seq, 1, memory_order_seq_cst) + 1;
	/* seq_cst: pairs with vcpu_enter_guest (see there); the RMW also
	 * releases our write-protections to the vCPU that consumes it */
	for (int i = 0; i < vm->nvcpus; i++)
		atomic_fetch_or_explicit(&vm->vcpus[i].requests, VCPU_REQ_TLB_FLUSH,
					 memory_order_seq_cst);
	/* the wait is the flush: a vCPU in guest mode may hold a translation
	 * taken before the write-protections, and stores through it until
	 * its next exit point */
	if (MUTANT(vm_flush_no_wait))
		return;
	for (int i = 0; i < vm->nvcpus; i++)
		vm_flush_wait_vcpu(&vm->vcpus[i], seq);
}

void vm_request_stop(struct vm *vm)
{
	/* release: pairs with the acquire in vm_stopping */
	atomic_store_explicit(&vm->stop, 1, memory_order_release);
}
