/*
 * clear-log: manual dirty-log protect (KVM_CLEAR_DIRTY_LOG, 2019).
 * get_log only copies the bitmap: nothing is cleared or write-protected.
 * clear_log then re-protects, range by range: for each 64-page word of the
 * range, under mmu_lock, clear the bits the caller saw with fetch-and-not
 * and write-protect the pages whose bit was still set; one flush per
 * range.  Ranges start on a multiple of 64 pages and span a multiple of 64
 * pages (or end at the end of the slot), as the kernel demands.
 *
 * Options:
 *   initially-set=0|1  logging starts with every bit set and every page
 *                      writable (KVM_DIRTY_LOG_INITIALLY_SET): the first
 *                      harvest reports every page, no fault before it
 *   chunk=PAGES        pages per clear range (a multiple of 64); 0, the
 *                      default: one range per slot
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm.h"

struct clear_log {
	bool initially_set;
	uint64_t chunk;
};

static int clear_log_set_option(struct dirty_log *log, const char *key, const char *value,
				char *err, size_t errlen)
{
	struct clear_log *c = log->priv;
	char *end;
	unsigned long long v;

	v = strtoull(value, &end, 10);
	if (!*value || *end) {
		snprintf(err, errlen, "clear-log: %s=%s is not a number", key, value);
		return -1;
	}
	if (!strcmp(key, "initially-set") && v <= 1) {
		c->initially_set = v;
		return 0;
	}
	if (!strcmp(key, "chunk")) {
		if (v % 64) {
			snprintf(err, errlen, "clear-log: chunk=%llu is not a multiple of 64 pages",
				 v);
			return -1;
		}
		c->chunk = v;
		return 0;
	}
	snprintf(err, errlen, "clear-log: bad option %s=%s (%s)", key, value,
		 log->ops->options_help);
	return -1;
}

/* The state logging starts in: every bit clear, or (initially-set) every
 * bit set; the VM sets the sptes to match (initially_dirty).  No vCPU runs. */
static void clear_log_enable(struct dirty_log *log)
{
	struct clear_log *c = log->priv;
	struct memslot_table *t = log->vm->memslots;

	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];

		for (size_t i = 0; i < bitmap_words(s->npages); i++)
			/* relaxed: the start of the vCPUs orders it */
			atomic_store_explicit(&s->dirty_bitmap[i], c->initially_set ? ~0ul : 0,
					      memory_order_relaxed);
	}
}

static bool clear_log_initially_dirty(const struct dirty_log *log)
{
	const struct clear_log *c = log->priv;

	return c->initially_set;
}

static int clear_log_init(struct dirty_log *log, char *err, size_t errlen)
{
	int rc = dirty_log_alloc_slot_bitmaps(log, err, errlen);

	if (!rc)
		clear_log_enable(log);
	return rc;
}

static void clear_log_destroy(struct dirty_log *log)
{
	dirty_log_free_slot_bitmaps(log);
}

static int clear_log_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct memslot_table *t = log->vm->memslots;

	(void)flags;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		unsigned long *out = dirty + s->base_gfn / 64;
		size_t n = bitmap_words(s->npages);

		for (size_t i = 0; i < n; i++)
			/* acquire: pairs with the release of bitmap_set_atomic */
			out[i] = atomic_load_explicit(&s->dirty_bitmap[i], memory_order_acquire);
	}
	return 0;
}

/* Clears the bits of @mask in @word; returns those that were still set. */
static unsigned long clear_word(struct vm *vm, atomic_ulong *word, unsigned long mask)
{
	unsigned long old;

	if (MUTANT(dirty_log_clear_log_plain_clear)) {
		/* a load and a store: a mark in between is cleared unseen */
		old = atomic_load_explicit(word, memory_order_acquire);
		vm_test_delay(vm->delay.harvest_ns);
		atomic_store_explicit(word, old & ~mask, memory_order_relaxed);
		return mask & old;
	}
	vm_test_delay(vm->delay.harvest_ns); /* marks may land in the word */
	/* acquire: pairs with the release of bitmap_set_atomic */
	old = atomic_fetch_and_explicit(word, ~mask, memory_order_acquire);
	return mask & old;
}

/*
 * KVM_CLEAR_DIRTY_LOG of pages [first, first + npages) of @s, @bits being
 * the caller's bitmap of the slot (bit 0 = page 0): clears the bits the
 * caller saw and write-protects their pages, then flushes.  -EINVAL for a
 * misaligned range (kvm_clear_dirty_log_protect's check), else 0.
 */
static int clear_log_range(struct vm *vm, struct memslot *s, uint64_t first, uint64_t npages,
			   const unsigned long *bits)
{
	bool any = false;

	if (first % 64 || first + npages > s->npages ||
	    (npages % 64 && first + npages != s->npages))
		return -EINVAL;
	vm_mmu_lock(vm);
	for (uint64_t i = first / 64; i < (first + npages + 63) / 64; i++) {
		unsigned long mask = bits[i];

		if (!mask)
			continue;
		mask = clear_word(vm, &s->dirty_bitmap[i], mask);
		if (mask && !MUTANT(dirty_log_clear_log_no_write_protect)) {
			vm_write_protect_mask(vm, s->base_gfn + i * 64, mask);
			any = true;
		}
	}
	vm_mmu_unlock(vm);
	if (any)
		vm_flush_remote_tlbs(vm);
	return 0;
}

static int clear_log_clear_log(struct dirty_log *log, const unsigned long *dirty)
{
	struct clear_log *c = log->priv;
	struct memslot_table *t = log->vm->memslots;

	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		uint64_t chunk = c->chunk ? c->chunk : s->npages;

		for (uint64_t first = 0; first < s->npages; first += chunk) {
			uint64_t n = s->npages - first < chunk ? s->npages - first : chunk;
			int rc = clear_log_range(log->vm, s, first, n, dirty + s->base_gfn / 64);

			if (rc)
				return rc;
		}
	}
	return 0;
}

const struct dirty_log_ops dirty_log_clear_log_ops = {
	.name = "clear-log",
	.summary = "manual protect: get copies the bitmap; clear re-protects 64-page aligned "
		   "ranges with fetch-and-not",
	.options_help = "initially-set=0|1 chunk=PAGES (multiple of 64; 0 = whole slot)",
	.priv_size = sizeof(struct clear_log),
	.set_option = clear_log_set_option,
	.init = clear_log_init,
	.enable = clear_log_enable,
	.initially_dirty = clear_log_initially_dirty,
	.destroy = clear_log_destroy,
	.mark_dirty = dirty_log_mark_slot_bitmap,
	.get_log = clear_log_get_log,
	.clear_log = clear_log_clear_log,
};
