/*
 * xchg: the srcu-less KVM_GET_DIRTY_LOG of 2012 (kvm_vm_ioctl_get_dirty_log
 * in Linux 3.3, the "srcu-less dirty logging" thread).  One bitmap per
 * slot; under mmu_lock the harvester takes each non-zero word with
 * xchg(word, 0) and write-protects the pages of the mask it took, walking
 * the mask with find-first-set (__builtin_ctzl) rather than bit by bit.
 * Marks are atomic set_bits and may run without mmu_lock (fast path).
 *
 * Take, then write-protect: a page whose mark the take returns was made
 * writable before its mark (both fault paths), so the write-protection
 * comes after that in the spte's modification order; a mark the take
 * misses stays in the word for the next harvest, its page writable.
 */
#include <stdio.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm.h"

/* Takes word @i of @bm (mmu_lock held) and write-protects its pages;
 * returns what it took. */
static unsigned long xchg_take_word(struct vm *vm, struct memslot *s, atomic_ulong *bm, size_t i,
				    unsigned long seen)
{
	uint64_t gfn0 = s->base_gfn + i * 64;
	unsigned long w;

	vm_test_delay(vm->delay.harvest_ns); /* marks may land after @seen */
	if (MUTANT(dirty_log_xchg_protect_before_take)) {
		/* write-protects what it saw, reports what it takes: a mark
		 * in between is reported with its page left writable */
		vm_write_protect_mask(vm, gfn0, seen);
		return atomic_exchange_explicit(&bm[i], 0, memory_order_acquire);
	}
	if (MUTANT(dirty_log_xchg_take_not_atomic)) {
		/* a load and a store: a mark in between is cleared unseen */
		atomic_store_explicit(&bm[i], 0, memory_order_relaxed);
		w = seen;
	} else {
		/* acquire: pairs with the release of bitmap_set_atomic */
		w = atomic_exchange_explicit(&bm[i], 0, memory_order_acquire);
	}
	vm_write_protect_mask(vm, gfn0, w);
	return w;
}

static int xchg_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
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
			/* relaxed: only decides whether to take the word */
			unsigned long w = atomic_load_explicit(&bm[i], memory_order_relaxed);

			if (w) {
				w = xchg_take_word(vm, s, bm, i, w);
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

const struct dirty_log_ops dirty_log_xchg_ops = {
	.name = "xchg",
	.summary = "one bitmap; under mmu_lock take each non-zero word with xchg, write-protect "
		   "its mask (ctz walk)",
	.init = dirty_log_alloc_slot_bitmaps,
	.destroy = dirty_log_free_slot_bitmaps,
	.mark_dirty = dirty_log_mark_slot_bitmap,
	.get_log = xchg_get_log,
};
