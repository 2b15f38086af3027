/*
 * lock-copy-clear: the 2012 proposal (seed 000): take mmu_lock, copy the
 * bitmap, clear it, write-protect the dirty pages from the copy.  The copy
 * and the clear are plain memory operations, so every mark must be made
 * under mmu_lock too (marks_need_mmu_lock): with the fast fault path the
 * spte compare-and-swap stays lockless and only the mark takes the lock.
 */
#include <stdio.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/vm/vm.h"

/* Called with mmu_lock held: a plain read-modify-write. */
static void lcc_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot, uint64_t rel)
{
	(void)log;
	(void)v;
	slot->dirty_bitmap[rel / 64] |= 1ul << (rel % 64);
}

static void lcc_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct vm *vm = log->vm;
	struct memslot_table *t = vm->memslots;
	bool any = false;

	(void)flags;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		unsigned long *out = dirty + s->base_gfn / 64;
		size_t n = bitmap_words(s->npages);

		spinlock_lock(&vm->mmu_lock);
		memcpy(out, s->dirty_bitmap, n * sizeof(*out));
		memset(s->dirty_bitmap, 0, n * sizeof(*out));
		for (size_t i = 0; i < n; i++)
			if (out[i]) {
				vm_write_protect_mask(vm, s->base_gfn + i * 64, out[i]);
				any = true;
			}
		spinlock_unlock(&vm->mmu_lock);
	}
	if (any)
		vm_flush_remote_tlbs(vm);
}

const struct dirty_log_ops dirty_log_lock_copy_clear_ops = {
	.name = "lock-copy-clear",
	.summary = "one bitmap; under mmu_lock copy it, clear it, write-protect from the copy (marks under mmu_lock)",
	.marks_need_mmu_lock = true,
	.init = dirty_log_alloc_slot_bitmaps,
	.destroy = dirty_log_free_slot_bitmaps,
	.mark_dirty = lcc_mark,
	.get_log = lcc_get_log,
};
