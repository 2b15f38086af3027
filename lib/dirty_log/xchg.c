/*
 * xchg: the srcu-less KVM_GET_DIRTY_LOG of 2012 (seed 003).  One bitmap per
 * slot; under mmu_lock the harvester takes each non-zero word with
 * xchg(word, 0) and write-protects the pages of the mask it took, walking
 * the mask with find-first-set (__builtin_ctzl) rather than bit by bit.
 * Marks are atomic set_bits and may run without mmu_lock (fast path).
 */
#include <stdio.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/vm/vm.h"

static void xchg_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct vm *vm = log->vm;
	struct memslot_table *t = vm->memslots;
	bool any = false;

	(void)flags;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		unsigned long *bm = s->dirty_bitmap;
		unsigned long *out = dirty + s->base_gfn / 64;
		size_t n = bitmap_words(s->npages);

		spinlock_lock(&vm->mmu_lock);
		for (size_t i = 0; i < n; i++) {
			unsigned long w = __atomic_load_n(&bm[i], __ATOMIC_RELAXED);

			if (w) {
				/* acquire: pairs with the release of bitmap_set_atomic */
				w = __atomic_exchange_n(&bm[i], 0, __ATOMIC_ACQUIRE);
				vm_write_protect_mask(vm, s->base_gfn + i * 64, w);
				any = true;
			}
			out[i] = w;
		}
		spinlock_unlock(&vm->mmu_lock);
	}
	if (any)
		vm_flush_remote_tlbs(vm);
}

const struct dirty_log_ops dirty_log_xchg_ops = {
	.name = "xchg",
	.summary = "one bitmap; under mmu_lock take each non-zero word with xchg, write-protect its mask (ctz walk)",
	.init = dirty_log_alloc_slot_bitmaps,
	.destroy = dirty_log_free_slot_bitmaps,
	.mark_dirty = dirty_log_mark_slot_bitmap,
	.get_log = xchg_get_log,
};
