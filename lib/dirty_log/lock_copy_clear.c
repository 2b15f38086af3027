/*
 * lock-copy-clear: the 2012 proposal beside xchg (the "srcu-less dirty
 * logging" thread): take mmu_lock, copy the bitmap, clear it, write-protect
 * the dirty pages from the copy.  Every access to the bitmap is under
 * mmu_lock, so the bitmap is plain memory (memcpy, memset, a plain |= in
 * the mark) and every mark is made under mmu_lock too
 * (marks_need_mmu_lock): with the fast fault path the spte
 * compare-and-swap stays lockless and only the mark takes the lock.
 * Each slot's bitmap hangs off its log_private.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm.h"

static void lcc_destroy(struct dirty_log *log)
{
	struct memslot_table *t = log->vm->memslots;

	for (uint32_t k = 0; k < t->nslots; k++) {
		free(t->slots[k].log_private);
		t->slots[k].log_private = NULL;
	}
}

static int lcc_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct memslot_table *t = log->vm->memslots;

	for (uint32_t k = 0; k < t->nslots; k++) {
		t->slots[k].log_private = bitmap_alloc_plain(t->slots[k].npages);
		if (!t->slots[k].log_private) {
			snprintf(err, errlen,
				 "lock-copy-clear: out of memory for the dirty bitmaps");
			lcc_destroy(log);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Called with mmu_lock held: a plain read-modify-write. */
static void lcc_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot, uint64_t rel)
{
	unsigned long *bm = slot->log_private;

	(void)log;
	(void)v;
	bm[rel / 64] |= 1ul << (rel % 64);
}

/* Copies the slot's bitmap into @out and clears it; mmu_lock held (the
 * marks are made under it: a mark between the copy and the clear would
 * be cleared unseen). */
static void lcc_copy_clear(struct vm *vm, struct memslot *s, unsigned long *out, size_t n)
{
	unsigned long *bm = s->log_private;

	memcpy(out, bm, n * sizeof(*out));
	vm_test_delay(vm->delay.harvest_ns);
	memset(bm, 0, n * sizeof(*out));
}

static int lcc_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct vm *vm = log->vm;
	struct memslot_table *t = vm->memslots;
	bool any = false;

	(void)flags;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		unsigned long *out = dirty + s->base_gfn / 64;
		size_t n = bitmap_words(s->npages);

		if (MUTANT(dirty_log_lock_copy_clear_unlocked))
			lcc_copy_clear(vm, s, out, n);
		vm_mmu_lock(vm);
		if (!MUTANT(dirty_log_lock_copy_clear_unlocked))
			lcc_copy_clear(vm, s, out, n);
		for (size_t i = 0; i < n; i++)
			if (out[i]) {
				vm_write_protect_mask(vm, s->base_gfn + i * 64, out[i]);
				any = true;
			}
		vm_mmu_unlock(vm);
	}
	if (any)
		vm_flush_remote_tlbs(vm);
	return 0;
}

const struct dirty_log_ops dirty_log_lock_copy_clear_ops = {
	.name = "lock-copy-clear",
	.summary = "one bitmap; under mmu_lock copy it, clear it, write-protect from the copy "
		   "(marks under mmu_lock)",
	.marks_need_mmu_lock = true,
	.init = lcc_init,
	.destroy = lcc_destroy,
	.mark_dirty = lcc_mark,
	.get_log = lcc_get_log,
};
