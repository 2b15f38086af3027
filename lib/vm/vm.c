/* The emulated VM: see vm.h. */
#include "lib/vm/vm.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/timing.h"

const char *const fault_path_names[] = { "locked", "fast", NULL };

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
		__atomic_fetch_or(&vm->vcpus[i].requests, VCPU_REQ_MEMSLOT_QUIESCENT, __ATOMIC_SEQ_CST);
}

struct vm *vm_create(const struct vm_options *o, struct guest_memory *mem,
		     struct dirty_log *log, char *err, size_t errlen)
{
	const char *protect = o->memslot_protect ? o->memslot_protect : VM_MEMSLOT_PROTECT_DEFAULT;
	struct memslot_protect_options po;
	struct vm *vm;
	uint64_t npages = mem->bytes >> PAGE_SHIFT;
	uint64_t per_slot;

	if (memslot_protect_spec_check(protect, err, errlen))
		return NULL;
	if (o->nslots == 0 || o->nvcpus <= 0) {
		snprintf(err, errlen, "vm: need at least one memslot and one vCPU");
		return NULL;
	}
	per_slot = npages / o->nslots;
	if (per_slot * o->nslots != npages || per_slot == 0 || per_slot % 64) {
		snprintf(err, errlen,
			 "vm: %llu bytes do not split into %u memslots of a multiple of 64 pages (256 KiB) each",
			 (unsigned long long)mem->bytes, o->nslots);
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(err, errlen, "vm: out of memory");
		return NULL;
	}
	vm->mem = mem;
	vm->guest_base = mem->base;
	vm->npages = npages;
	vm->fault_path = o->fault_path;
	vm->nvcpus = o->nvcpus;
	spinlock_init(&vm->mmu_lock);
	vm->spte = calloc((size_t)npages, 1);
	vm->vcpus = aligned_alloc(64, sizeof(struct vcpu) * (size_t)o->nvcpus);
	vm->memslots = memslot_table_alloc(o->nslots);
	if (!vm->spte || !vm->vcpus || !vm->memslots) {
		snprintf(err, errlen, "vm: out of memory for %llu pages and %d vCPUs",
			 (unsigned long long)npages, o->nvcpus);
		goto fail;
	}
	for (uint32_t i = 0; i < o->nslots; i++) {
		struct memslot *s = &vm->memslots->slots[i];

		s->id = i;
		s->flags = MEMSLOT_LOG_DIRTY_PAGES;
		s->base_gfn = (uint64_t)i * per_slot;
		s->npages = per_slot;
		s->hva = mem->base + (s->base_gfn << PAGE_SHIFT);
	}
	memslot_table_sort(vm->memslots);
	memset(vm->vcpus, 0, sizeof(struct vcpu) * (size_t)o->nvcpus);
	for (int i = 0; i < o->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->index = i;
		v->spte = vm->spte;
		v->guest_base = vm->guest_base;
		v->mode = VCPU_OUTSIDE_GUEST;
	}
	memslot_protect_options_default(&po);
	po.expedited = o->memslot_expedited;
	/* owns the table from here on, also on failure */
	vm->memslots_protect = memslot_protect_create(protect, &po, vm->memslots, err, errlen);
	if (!vm->memslots_protect) {
		vm->memslots = NULL;
		goto fail;
	}
	memslot_protect_set_kick(vm->memslots_protect, vm_kick_memslot_readers, vm);
	if (!log) {
		/* no dirty logging: no spte is ever write-protected */
		memset(vm->spte, SPTE_WRITABLE, (size_t)npages);
		return vm;
	}
	vm->log = log;
	log->vm = vm;
	if (log->ops->init(log, err, errlen)) {
		log->vm = NULL;
		vm->log = NULL;
		goto fail;
	}
	return vm;
fail:
	if (vm->memslots_protect)
		memslot_protect_destroy(vm->memslots_protect);
	else
		free(vm->memslots);
	free(vm->spte);
	free(vm->vcpus);
	free(vm);
	return NULL;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->log) {
		vm->log->ops->destroy(vm->log);
		vm->log->vm = NULL;
	}
	/* frees the current table; -EBUSY (with a message) only if a vCPU
	 * thread did not call vcpu_thread_end, which leaks it */
	memslot_protect_destroy(vm->memslots_protect);
	free(vm->spte);
	free(vm->vcpus);
	free(vm);
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
	spinlock_lock(&vm->mmu_lock);
	/* Plain bytes: no vCPU is in guest mode (see vm.h). */
	if (vm->log->ops->enable)
		vm->log->ops->enable(vm->log);
	else
		memset(vm->spte, 0, (size_t)vm->npages);
	spinlock_unlock(&vm->mmu_lock);
	vm_flush_remote_tlbs(vm);
	return 0;
}

void vm_disable_dirty_logging(struct vm *vm)
{
	spinlock_lock(&vm->mmu_lock);
	/* Plain bytes, as above; making sptes writable needs no flush. */
	memset(vm->spte, SPTE_WRITABLE, (size_t)vm->npages);
	spinlock_unlock(&vm->mmu_lock);
}

/* Enter guest mode, then look at requests raised while we were outside. */
void vcpu_enter_guest(struct vcpu *v)
{
	/*
	 * seq_cst store then seq_cst load: pairs with the harvester's seq_cst
	 * fetch_or of requests then seq_cst load of mode in
	 * vm_flush_remote_tlbs.  Either the harvester sees us in guest mode
	 * and waits for our acknowledgement, or we see its request here (and
	 * through it, with acquire, its write-protections) before our next
	 * access.
	 */
	__atomic_store_n(&v->mode, VCPU_IN_GUEST, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->requests, __ATOMIC_SEQ_CST))
		vcpu_handle_requests(v);
}

void vcpu_exit_guest(struct vcpu *v)
{
	/* release: a harvester that reads OUTSIDE (acquire) and skips us sees
	 * every store we made before */
	__atomic_store_n(&v->mode, VCPU_OUTSIDE_GUEST, __ATOMIC_SEQ_CST);
	/* outside guest mode no exit point runs: keep nothing an updater
	 * would wait for (rwlock-cond's read side) */
	memslot_reader_offline(v->memslot_reader);
}

void vcpu_thread_begin(struct vcpu *v)
{
	char name[32];

	snprintf(name, sizeof(name), "vcpu%d", v->index);
	v->memslot_reader = memslot_reader_register(v->vm->memslots_protect, name);
	if (!v->memslot_reader) {
		fprintf(stderr, "dlbench: vCPU %d cannot register as a memslot reader\n", v->index);
		abort();
	}
	if (v->vm->log && v->vm->log->ops->vcpu_thread_begin)
		v->vm->log->ops->vcpu_thread_begin(v->vm->log, v);
	vcpu_enter_guest(v);
}

void vcpu_thread_end(struct vcpu *v)
{
	vcpu_exit_guest(v);
	if (v->vm->log && v->vm->log->ops->vcpu_thread_end)
		v->vm->log->ops->vcpu_thread_end(v->vm->log, v);
	memslot_reader_unregister(v->memslot_reader);
	v->memslot_reader = NULL;
}

/* The write fault once the slot is known: mark dirty, make writable. */
static void vcpu_fault_in_slot(struct vcpu *v, struct memslot *slot, uint64_t gfn)
{
	struct vm *vm = v->vm;
	struct dirty_log *log = vm->log;
	uint8_t *spte = &vm->spte[gfn];
	uint64_t rel = gfn - slot->base_gfn;

	if (!log) {
		/* no dirty log: nothing write-protects, nothing to mark */
		__atomic_store_n(spte, SPTE_WRITABLE, __ATOMIC_RELAXED);
		return;
	}
	if (vm->fault_path == FAULT_PATH_LOCKED) {
		spinlock_lock(&vm->mmu_lock);
		if (!(__atomic_load_n(spte, __ATOMIC_RELAXED) & SPTE_WRITABLE)) {
			/* mark before writable: the harvester, under the same
			 * lock, never sees a writable spte without its mark */
			dirty_log_mark(log, v, slot, rel);
			__atomic_store_n(spte, SPTE_WRITABLE, __ATOMIC_RELAXED);
		}
		spinlock_unlock(&vm->mmu_lock);
		return;
	}

	uint8_t expected = 0;

	/*
	 * KVM's fast page fault: only the vCPU whose compare-and-swap makes
	 * the spte writable marks the page, after the swap.  A harvester that
	 * takes the mark (acquire, pairing with the strategy's release mark)
	 * write-protects after this swap in the spte's modification order.
	 */
	if (__atomic_compare_exchange_n(spte, &expected, SPTE_WRITABLE, false,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		if (log->ops->marks_need_mmu_lock) {
			spinlock_lock(&vm->mmu_lock);
			dirty_log_mark(log, v, slot, rel);
			spinlock_unlock(&vm->mmu_lock);
		} else {
			dirty_log_mark(log, v, slot, rel);
		}
	}
}

/*
 * The memslot read side of the fault path, in one place: a read section of
 * the VM's memslot protection around the lookup and every use of the slot
 * (the protection orders the table's publication before our reads).
 */
static bool vcpu_fault_with_slot(struct vcpu *v, uint64_t gfn)
{
	const struct memslot_table *t = memslot_read_begin(v->memslot_reader);
	struct memslot *slot = memslot_lookup(t, gfn);

	if (slot)
		vcpu_fault_in_slot(v, slot, gfn);
	memslot_read_end(v->memslot_reader);
	return slot != NULL;
}

void vcpu_write_fault(struct vcpu *v, uint64_t gfn)
{
	uint64_t t0 = v->stall_hist ? now_ns() : 0;

	v->stats.faults++;
	if (!vcpu_fault_with_slot(v, gfn)) {
		fprintf(stderr, "dlbench: vCPU %d wrote gfn 0x%llx outside every memslot\n",
			v->index, (unsigned long long)gfn);
		abort();
	}
	if (v->stall_hist)
		histogram_record(v->stall_hist, now_ns() - t0);
}

static void vcpu_wait_ring_space(struct vcpu *v)
{
	struct dirty_log *log = v->vm->log;
	uint64_t t0 = v->stall_hist ? now_ns() : 0;

	if (!log || !log->ops->vcpu_blocked || !log->ops->vcpu_blocked(log, v))
		return;
	v->stats.ring_full_exits++;
	/* Outside guest mode the harvester's flushes do not wait for us. */
	vcpu_exit_guest(v);
	/* relaxed: a hint for vm_log_space_wanted, see there */
	__atomic_fetch_add(&v->vm->log_space_waiters, 1, __ATOMIC_RELAXED);
	for (unsigned n = 0; log->ops->vcpu_blocked(log, v) && !vm_stopping(v->vm); n++)
		vm_backoff(n);
	__atomic_fetch_sub(&v->vm->log_space_waiters, 1, __ATOMIC_RELAXED);
	vcpu_enter_guest(v);
	if (v->stall_hist)
		histogram_record(v->stall_hist, now_ns() - t0);
}

void vcpu_handle_requests(struct vcpu *v)
{
	/* acquire: pairs with the harvester's fetch_or (seq_cst) of the
	 * request, so its write-protections happen before our next access */
	unsigned long req = __atomic_exchange_n(&v->requests, 0, __ATOMIC_ACQUIRE);

	if (req & VCPU_REQ_TLB_FLUSH) {
		/* The harvester bumped flush_seq before raising the request we
		 * just consumed, so this reads at least its sequence. */
		uint64_t seq = __atomic_load_n(&v->vm->flush_seq, __ATOMIC_ACQUIRE);

		/* release: pairs with the acquire load in vm_flush_remote_tlbs;
		 * our stores before this exit point are visible to the harvester
		 * once it sees the acknowledgement */
		__atomic_store_n(&v->flush_ack, seq, __ATOMIC_RELEASE);
		v->stats.flush_acks++;
	}
	if (req & VCPU_REQ_MEMSLOT_QUIESCENT)
		memslot_quiescent(v->memslot_reader);
	if (req & VCPU_REQ_DIRTY_RING_FULL)
		vcpu_wait_ring_space(v);
}

void vm_flush_remote_tlbs(struct vm *vm)
{
	/* seq_cst: the new sequence is ordered before the requests below, so
	 * a vCPU that consumes a request reads at least this sequence (see
	 * vcpu_handle_requests) */
	uint64_t seq = __atomic_add_fetch(&vm->flush_seq, 1, __ATOMIC_SEQ_CST);

	vm->flushes++;
	/* seq_cst: pairs with vcpu_enter_guest (see there); the RMW also
	 * releases our write-protections to the vCPU that consumes it */
	for (int i = 0; i < vm->nvcpus; i++)
		__atomic_fetch_or(&vm->vcpus[i].requests, VCPU_REQ_TLB_FLUSH, __ATOMIC_SEQ_CST);
	for (int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		for (unsigned n = 0;; n++) {
			/* acquire: pairs with the vCPU's release of flush_ack */
			if (__atomic_load_n(&v->flush_ack, __ATOMIC_ACQUIRE) >= seq)
				break;
			/* seq_cst: pairs with the mode stores of enter/exit */
			if (__atomic_load_n(&v->mode, __ATOMIC_SEQ_CST) != VCPU_IN_GUEST)
				break;
			vm_backoff(n);
		}
	}
}

void vm_request_stop(struct vm *vm)
{
	/* release: pairs with the acquire in vm_stopping */
	__atomic_store_n(&vm->stop, 1, __ATOMIC_RELEASE);
}
