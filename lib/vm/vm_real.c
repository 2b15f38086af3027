/*
 * The emulated VM's real MMU (see "MMU modes" in vm.h): the page-table
 * side of write-protections (lib/mmu/mmu_real.h), the dispatch of a real
 * fault to the write-fault path or to a Linux strategy's handler, the
 * harvest floor and the fault floor.
 *
 * Orders (the page tables against the sptes; both the harvester's protect
 * and a fault's un-protect are system calls on the same page table,
 * serialised by the kernel's page-table lock, and full barriers):
 *   - the locked fault path un-protects inside mmu_lock, and every
 *     write-protection made under mmu_lock reaches the page tables before
 *     the lock is released (vm_mmu_unlock): the lock orders the two;
 *   - the fast path un-protects after its compare-and-swap and its mark,
 *     then loads the spte again and protects the page again if it is
 *     read-only (vm.c, vcpu_fast_unprotect): the page ends protected
 *     whenever the spte ends read-only;
 *   - a Linux strategy's lockless handler un-protects before it marks
 *     (lib/dirty_log/linux_wp.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/mmu/linux_dirty.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm_internal.h"

const char *const vm_mmu_names[] = { "soft", "real", NULL };

/* ---- the page tables ---- */

static void vm_real_error(struct vm *vm, int rc);

void vm_mmu_error(struct vm *vm, int rc)
{
	vm_real_error(vm, rc);
}

/* Keeps the first error of a protect call (harvester side). */
static void vm_real_error(struct vm *vm, int rc)
{
	int none = 0;

	/* relaxed: a sticky error code, read by the same harvester thread */
	if (rc)
		atomic_compare_exchange_strong_explicit(&vm->mmu_error, &none, rc,
							memory_order_relaxed, memory_order_relaxed);
}

int vm_real_commit(struct vm *vm)
{
	if (vm->wp) {
		vm_real_error(vm, mmu_wp_batch_flush(&vm->wp_batch));
		vm->wp_batch.err = 0;
	}
	/* relaxed: see vm_real_error */
	return atomic_load_explicit(&vm->mmu_error, memory_order_relaxed);
}

void vm_real_protect_range(struct vm *vm, uint64_t gfn, uint64_t npages)
{
	if (!vm->wp)
		return;
	vm_real_commit(vm);
	vm_real_error(vm, mmu_wp_protect(vm->wp, gfn, npages));
}

void vm_real_unprotect_all(struct vm *vm)
{
	if (vm->wp)
		vm_real_error(vm, mmu_wp_unprotect_range(vm->wp, 0, vm->npages));
}

/* A fault handler cannot report an error: the store would fault again for
 * ever (un-protect), or be lost (re-protect).  No input causes it. */
static void vm_real_bug(const char *what, uint64_t gfn, int rc)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "dlbench: BUG: %s of gfn 0x%llx failed: %s\n", what,
			 (unsigned long long)gfn, strerror(-rc));

	/* write(2): async-signal-safe, unlike stdio */
	if (n > 0 && write(2, line, (size_t)n) < 0)
		abort();
	abort();
}

void vm_real_unprotect(struct vm *vm, uint64_t gfn)
{
	/* thread delivery: the vCPU is woken once the whole handler ran
	 * (vcpu_real_fault) */
	int rc = vm->fault_delivery == MMU_WP_THREAD ? mmu_wp_unprotect_nowake(vm->wp, gfn)
						     : mmu_wp_unprotect(vm->wp, gfn);

	if (rc)
		vm_real_bug("un-protect", gfn, rc);
}

void vm_real_reprotect(struct vm *vm, uint64_t gfn)
{
	int rc = mmu_wp_protect(vm->wp, gfn, 1);

	if (rc)
		vm_real_bug("re-protect", gfn, rc);
}

void vm_write_protect_slot(struct vm *vm, const struct memslot *s)
{
	_Atomic uint8_t *spte = vm->spte + s->base_gfn;

	/* relaxed: as vm_write_protect_mask (mmu_lock held, a flush after) */
	for (uint64_t i = 0; i < s->npages; i++)
		atomic_store_explicit(&spte[i], 0, memory_order_relaxed);
	vm_real_protect_range(vm, s->base_gfn, s->npages);
}

/* ---- the fault ---- */

/* Thread delivery: the handler thread's accounting for @v, then the
 * wake-up of its store (vm_real_unprotect did not wake it). */
static void vcpu_real_fault_done(struct vcpu *v, uint64_t page, uint64_t t0)
{
	struct vm *vm = v->vm;
	/* relaxed: only this thread writes it (a load and a store) */
	uint64_t n = atomic_load_explicit(&v->handler_faults, memory_order_relaxed);

	atomic_store_explicit(&v->handler_faults, n + 1, memory_order_relaxed);
	/* relaxed: published by the release below */
	atomic_store_explicit(&v->fault_t0, t0, memory_order_relaxed);
	/* release: pairs with the vCPU's acquire exchange at its exit point,
	 * which then reads fault_t0 (and whatever the fault path wrote for
	 * it, a dirty ring's index); raised before the wake-up, so the vCPU's
	 * next exit point sees it */
	atomic_fetch_or_explicit(&v->requests, VCPU_REQ_FAULT_DONE, memory_order_release);
	if (mmu_wp_wake(vm->wp, page))
		vm_real_bug("wake-up after the fault", page, -EIO);
}

/* A Linux strategy's handler on the vCPU's own thread, timed as a
 * write fault is. */
static void vcpu_linux_fault(struct vcpu *v, uint64_t page)
{
	uint64_t t0 = v->stall_hist ? now_ns() : 0;

	v->stats.faults++;
	dirty_log_handle_fault(v->vm->log, v, page);
	if (v->stall_hist)
		histogram_record(v->stall_hist, now_ns() - t0);
}

/* Whether the VM's faults go to its Linux strategy's handler (uffd-wp,
 * mprotect) rather than to the write-fault path. */
static bool vm_log_handles_faults(const struct vm *vm)
{
	return vm->log && dirty_log_mmu_kind(vm->log) != DIRTY_LOG_MMU_SPTE;
}

/* mmu_wp's callback: a store of @arg (the vCPU) to write-protected page
 * @page (= gfn: guest memory is one range from gfn 0). */
static void vcpu_real_fault(void *arg, uint64_t page)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	const bool linux_handler = vm_log_handles_faults(vm);
	uint64_t t0;

	if (vm->fault_delivery == MMU_WP_SIGNAL) {
		/* in a signal handler on the vCPU's own thread: see the
		 * async-signal safety notes of lib/mmu/mmu_real.h */
		if (linux_handler)
			vcpu_linux_fault(v, page);
		else
			vcpu_write_fault(v, page);
		return;
	}
	t0 = now_ns();
	if (linux_handler) {
		dirty_log_handle_fault(vm->log, v, page);
	} else {
		if (!vm->handler_memslot_reader || !vm->handler_srcu_reader)
			vm_real_bug("memslot reader of the fault handler thread for a fault", page,
				    -ENOMEM);
		/* the handler thread is the reader of kvm->srcu for the
		 * vCPU's exit: its section spans the whole fault, and the
		 * vCPU is woken after it (vcpu_real_fault_done) */
		vcpu_fault_body(v, page, vm->handler_memslot_reader, vm->handler_srcu_reader);
		/* the handler thread is no vCPU: it keeps nothing an updater
		 * would wait for (rwlock-cond's read side) between faults */
		memslot_reader_offline(vm->handler_memslot_reader);
	}
	vcpu_real_fault_done(v, page, t0);
}

/* Thread delivery: the handler thread reads memslots with a reader of its
 * own (mmu_wp_options.handler_init / handler_fini, on that thread). */
static void vm_handler_init(void *arg)
{
	struct vm *vm = arg;

	vm->handler_srcu_reader = srcu_register_reader(vm->srcu, "fault-handler", NULL, 0);
	vm->handler_memslot_reader = memslot_reader_register(vm->memslots_protect, "fault-handler");
}

static void vm_handler_fini(void *arg)
{
	struct vm *vm = arg;

	if (vm->handler_memslot_reader)
		memslot_reader_unregister(vm->handler_memslot_reader);
	vm->handler_memslot_reader = NULL;
	if (vm->handler_srcu_reader)
		srcu_unregister_reader(vm->handler_srcu_reader, NULL, 0);
	vm->handler_srcu_reader = NULL;
}

int vm_real_thread_begin(struct vcpu *v, char *err, size_t errlen)
{
	return v->vm->wp ? mmu_wp_thread_register(v->vm->wp, vcpu_real_fault, v, err, errlen) : 0;
}

void vm_real_thread_end(struct vcpu *v)
{
	if (v->vm->wp)
		mmu_wp_thread_unregister(v->vm->wp);
}

/* ---- setting up ---- */

static enum dirty_log_mmu vm_log_kind(const struct dirty_log *log)
{
	return log ? dirty_log_mmu_kind(log) : DIRTY_LOG_MMU_SPTE;
}

/* The write protection the MMU of @o needs for @log: MMU_WP_* in @wo;
 * false if none (soft, no log, a kernel marker). */
static bool vm_wp_options(const struct vm_options *o, const struct dirty_log *log,
			  struct mmu_wp_options *wo)
{
	enum dirty_log_mmu kind = vm_log_kind(log);

	memset(wo, 0, sizeof(*wo));
	wo->mechanism = kind == DIRTY_LOG_MMU_UFFD	 ? MMU_WP_UFFD
			: kind == DIRTY_LOG_MMU_MPROTECT ? MMU_WP_MPROTECT
							 : o->mmu_wp;
	wo->delivery = o->fault_delivery;
	/* the vCPUs populate guest memory themselves (as the kernel's test
	 * does); mmu_wp populates anyway where the kernel lacks
	 * UFFD_FEATURE_WP_UNPOPULATED */
	wo->populate = false;
	return o->mmu == VM_MMU_REAL && log && kind != DIRTY_LOG_MMU_KERNEL;
}

int vm_mmu_plan(const struct vm_options *o, enum guest_backing backing, uint64_t npages,
		const struct dirty_log *log, char *name, size_t namelen, char *fallback,
		size_t fallbacklen, char *err, size_t errlen)
{
	struct mmu_wp_options wo;
	struct mmu_wp_plan plan = { .name = "real" };
	int rc;

	/* the VM's SRCU domain against its memslot protection */
	if ((rc = vm_srcu_plan(o, NULL, NULL, err, errlen)) < 0)
		return rc;
	if (o->mmu == VM_MMU_SOFT && vm_log_kind(log) != DIRTY_LOG_MMU_SPTE) {
		snprintf(err, errlen,
			 "Linux's own dirty tracking runs on the real MMU only (--mmu real)");
		return -EINVAL;
	}
	if (o->mmu == VM_MMU_REAL && backing == GUEST_BACKING_ANONYMOUS_HUGETLB) {
		snprintf(err, errlen,
			 "--mmu real: hugetlb memory can only be write-protected a huge page at a"
			 " time, not 4 KiB (use anonymous, anonymous_thp or shmem)");
		return -EINVAL;
	}
	if (log && (rc = dirty_log_probe(log, err, errlen)))
		return rc;
	if (o->mmu == VM_MMU_SOFT)
		snprintf(plan.name, sizeof(plan.name), "soft");
	else if (vm_log_kind(log) == DIRTY_LOG_MMU_KERNEL)
		snprintf(plan.name, sizeof(plan.name), "%s", dirty_log_mmu_name(log));
	else if (vm_wp_options(o, log, &wo) && (rc = mmu_wp_plan(&wo, npages, &plan, err, errlen)))
		return rc;
	if (name)
		snprintf(name, namelen, "%s", plan.name);
	if (fallback)
		snprintf(fallback, fallbacklen, "%s", plan.fallback);
	return 0;
}

int vm_real_create(struct vm *vm, const struct vm_options *o, const struct dirty_log *log,
		   char *err, size_t errlen)
{
	struct mmu_wp_options wo;
	int rc;

	vm->mmu = o->mmu;
	vm->fault_delivery = o->fault_delivery;
	atomic_init(&vm->mmu_error, 0);
	/* no mapping count: mmu_wp_create checks it with what is mapped then */
	rc = vm_mmu_plan(o, vm->mem->backing, 0, log, vm->mmu_name, sizeof(vm->mmu_name), NULL, 0,
			 err, errlen);
	if (rc || !vm_wp_options(o, log, &wo))
		return rc;
	wo.handler_init = vm_handler_init;
	wo.handler_fini = vm_handler_fini;
	wo.handler_arg = vm;
	vm->wp = mmu_wp_create(vm->mem->base, vm->mem->bytes, &wo, err, errlen);
	if (!vm->wp)
		return -EOPNOTSUPP;
	snprintf(vm->mmu_name, sizeof(vm->mmu_name), "%s", mmu_wp_name(vm->wp));
	snprintf(vm->mmu_fallback, sizeof(vm->mmu_fallback), "%s", mmu_wp_fallback(vm->wp));
	mmu_wp_batch_init(&vm->wp_batch, vm->wp);
	return 0;
}

void vm_real_destroy(struct vm *vm)
{
	/* writable again, handler thread joined (its reader unregistered) */
	mmu_wp_destroy(vm->wp);
	vm->wp = NULL;
}

const char *vm_mmu_name(const struct vm *vm)
{
	return vm->mmu_name;
}

const char *vm_mmu_fallback(const struct vm *vm)
{
	return vm->mmu_fallback;
}

/* ---- floors ---- */

void vm_floor_reset(struct vm *vm, const unsigned long *dirty)
{
	size_t words = bitmap_words(vm->npages);

	if (vm->log && dirty_log_mmu_kind(vm->log) == DIRTY_LOG_MMU_KERNEL) {
		dirty_log_floor_reset(vm->log, dirty);
		return;
	}
	for (size_t i = 0; i < words; i++)
		for (unsigned long w = dirty[i]; w; w &= w - 1)
			vm_make_writable(vm, i * 64 + (unsigned)__builtin_ctzl(w));
}

int vm_floor_pass(struct vm *vm, const unsigned long *dirty)
{
	size_t words = bitmap_words(vm->npages);

	if (vm->log && dirty_log_mmu_kind(vm->log) == DIRTY_LOG_MMU_KERNEL)
		return dirty_log_floor_pass(vm->log, dirty);
	for (size_t i = 0; i < words; i++)
		vm_write_protect_mask(vm, i * 64, dirty[i]);
	return vm->wp ? vm_real_commit(vm) : 0;
}

int vm_mmu_fault_floor(const struct vm_options *o, const struct dirty_log *log, double *ns,
		       char *err, size_t errlen)
{
	struct mmu_wp_options wo;

	if (o->mmu == VM_MMU_SOFT || !log) {
		snprintf(err, errlen, "no real fault to take");
		return -ENOENT;
	}
	if (dirty_log_mmu_kind(log) == DIRTY_LOG_MMU_KERNEL)
		return dirty_log_fault_floor(log, ns, err, errlen);
	vm_wp_options(o, log, &wo);
	return mmu_fault_floor(&wo, MMU_FAULT_FLOOR_PAGES, MMU_FAULT_FLOOR_FAULTS, ns, err, errlen);
}
