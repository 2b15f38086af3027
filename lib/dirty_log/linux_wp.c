/* The fault handler and harvest of uffd-wp and mprotect: see linux_wp.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/linux_wp.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm.h"

int linux_wp_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct linux_wp *w = log->priv;

	w->bitmap = bitmap_alloc(log->vm->npages);
	if (!w->bitmap) {
		snprintf(err, errlen, "%s: out of memory for the dirty bitmap", log->ops->name);
		return -ENOMEM;
	}
	return 0;
}

void linux_wp_destroy(struct dirty_log *log)
{
	struct linux_wp *w = log->priv;

	free(w->bitmap);
	w->bitmap = NULL;
}

void linux_wp_enable(struct dirty_log *log)
{
	struct linux_wp *w = log->priv;

	/* relaxed: no vCPU runs; starting them orders it */
	for (size_t i = 0; i < bitmap_words(log->vm->npages); i++)
		atomic_store_explicit(&w->bitmap[i], 0, memory_order_relaxed);
}

void linux_wp_no_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot, uint64_t rel)
{
	(void)log;
	(void)v;
	(void)slot;
	(void)rel;
}

void linux_wp_set_run(void *arg, uint64_t first, uint64_t npages)
{
	unsigned long *dirty = arg;

	for (uint64_t p = first; p < first + npages; p++)
		dirty[p / 64] |= 1ul << (p % 64);
}

/* See linux_wp.h: un-protect, then mark (the mutant marks first). */
void linux_wp_fault(struct dirty_log *log, struct vcpu *v, uint64_t gfn)
{
	struct linux_wp *w = log->priv;
	struct vm *vm = log->vm;
	const bool locked = vm->fault_path == FAULT_PATH_LOCKED;

	(void)v;
	if (locked)
		vm_mmu_lock(vm);
	if (MUTANT(dirty_log_linux_wp_mark_before_unprotect)) {
		bitmap_set_atomic(w->bitmap, gfn);
		vm_test_delay(vm->delay.mark_ns);
		vm_real_unprotect(vm, gfn);
	} else {
		vm_real_unprotect(vm, gfn);
		/* the window a harvest may fall into: the page writable, its
		 * bit not yet set (harmless: the bit lands after the take) */
		vm_test_delay(vm->delay.mark_ns);
		/* release (bitmap_set_atomic): pairs with the harvester's
		 * acquire xchg; the un-protect (a system call) is before it */
		bitmap_set_atomic(w->bitmap, gfn);
	}
	if (locked)
		vm_mmu_unlock(vm);
}

/* Takes the words of pages [first, first + npages) (a slot: 64-page
 * aligned) into @out and adds the taken runs to the VM's batch, unless the
 * whole slot is protected afterwards. */
static void linux_wp_take(struct dirty_log *log, uint64_t first, uint64_t npages,
			  unsigned long *out)
{
	struct linux_wp *w = log->priv;
	struct vm *vm = log->vm;

	for (size_t i = first / 64; i < (first + npages + 63) / 64; i++) {
		/* relaxed: only decides whether to take the word */
		unsigned long m = atomic_load_explicit(&w->bitmap[i], memory_order_relaxed);

		if (m) {
			vm_test_delay(vm->delay.harvest_ns);
			/* acquire: pairs with the handler's release */
			m = atomic_exchange_explicit(&w->bitmap[i], 0, memory_order_acquire);
			if (!w->protect_slots)
				vm_real_protect_mask(vm, i * 64, m);
		}
		out[i] = m;
	}
}

int linux_wp_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct linux_wp *w = log->priv;
	struct vm *vm = log->vm;
	struct memslot_table *t = vm->memslots;
	const bool locked = vm->fault_path == FAULT_PATH_LOCKED;

	(void)flags;
	for (uint32_t k = 0; k < t->nslots; k++) {
		const struct memslot *s = &t->slots[k];

		if (locked)
			vm_mmu_lock(vm);
		linux_wp_take(log, s->base_gfn, s->npages, dirty);
		/* a garbage collector's PROT_READ of its heap: every page of
		 * the slot, taken or not, in one call */
		if (w->protect_slots)
			vm_real_protect_range(vm, s->base_gfn, s->npages);
		if (locked)
			vm_mmu_unlock(vm);
	}
	/* lockless: the batch is this harvester's, apply it; locked: each
	 * vm_mmu_unlock did (the batch belongs to the lock's holder, a
	 * handler's among them), and dirty_log_get returns its error */
	return locked ? 0 : vm_real_commit(vm);
}
