/*
 * atomic-and: the 2012 proposal beside xchg (the "srcu-less dirty logging"
 * thread, where "atomic_and was really slow"): read each word, then
 * atomic_and(word, ~seen), under mmu_lock, and write-protect the pages
 * seen.  A bit set between the read and the and survives to the next
 * harvest.  Marks are atomic set_bits and may run without mmu_lock.
 */
#include <stdio.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm.h"

static int atomic_and_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct vm *vm = log->vm;
	struct memslot_table *t = vm->memslots;
	bool any = false;

	(void)flags;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		atomic_ulong *bm = s->dirty_bitmap;
		unsigned long *out = dirty + s->base_gfn / 64;
		size_t n = bitmap_words(s->npages);

		vm_mmu_lock(vm);
		for (size_t i = 0; i < n; i++) {
			/* acquire: pairs with the release of bitmap_set_atomic */
			unsigned long w = atomic_load_explicit(&bm[i], memory_order_acquire);

			if (w) {
				vm_test_delay(vm->delay.harvest_ns); /* marks may land */
				/* clears only what was seen: a later mark stays */
				if (MUTANT(dirty_log_atomic_and_plain_clear))
					atomic_store_explicit(&bm[i], 0, memory_order_relaxed);
				else
					/* relaxed: the acquire load above took the
					 * marks it clears; a later one stays set */
					atomic_fetch_and_explicit(&bm[i], ~w, memory_order_relaxed);
				vm_write_protect_mask(vm, s->base_gfn + i * 64, w);
				any = true;
			}
			out[i] = w;
		}
		vm_mmu_unlock(vm);
	}
	if (any)
		vm_flush_remote_tlbs(vm);
	return 0;
}

const struct dirty_log_ops dirty_log_atomic_and_ops = {
	.name = "atomic-and",
	.summary = "one bitmap; under mmu_lock read each word, atomic_and(word, ~seen), "
		   "write-protect the seen pages",
	.init = dirty_log_alloc_slot_bitmaps,
	.destroy = dirty_log_free_slot_bitmaps,
	.mark_dirty = dirty_log_mark_slot_bitmap,
	.get_log = atomic_and_get_log,
};
