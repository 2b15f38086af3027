/*
 * Memslots: the guest-physical to host-virtual map.  A table is an array
 * of slots sorted by base_gfn; readers look a gfn up with a binary search.
 * Tables are immutable once published: an updater copies the table,
 * changes the copy, publishes it and retires the old one under the read
 * protection being measured (lib/memslot_protect*.c).
 */
#ifndef DLBENCH_MEMSLOTS_H
#define DLBENCH_MEMSLOTS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)

#define MEMSLOT_LOG_DIRTY_PAGES (1u << 0) /* KVM_MEM_LOG_DIRTY_PAGES */

struct memslot {
	uint32_t id;
	uint32_t flags;
	uint64_t base_gfn;
	uint64_t npages;
	uint8_t *hva;		    /* host address of base_gfn */
	atomic_ulong *dirty_bitmap; /* owned by the dirty-log strategy */
	void *log_private;	    /* the strategy's per-slot state */
};

struct memslot_table {
	uint64_t generation;
	uint32_t nslots;
	uint32_t poison;	/* MEMSLOT_TABLE_LIVE until retired */
	uint32_t capacity;	/* room in slots[], >= nslots */
	struct memslot slots[]; /* sorted by base_gfn, non-overlapping */
};

#define MEMSLOT_TABLE_LIVE 0x51075u
#define MEMSLOT_TABLE_POISON 0xdeadbeefu

struct memslot_table *memslot_table_alloc(uint32_t nslots);
/* A copy with room for @extra more slots (nslots unchanged). */
struct memslot_table *memslot_table_copy(const struct memslot_table *t, uint32_t extra);
/* Poisons the table (readers that still use it will notice) and frees it. */
void memslot_table_retire(struct memslot_table *t);
/* Re-sorts after a change to base_gfn or insertion; bumps generation. */
void memslot_table_sort(struct memslot_table *t);

/*
 * Changes made on a private copy before it is published (the updater side
 * of lib/memslot_protect.h).  Each keeps the slots sorted by base_gfn and
 * returns 0, or a negative errno and leaves the table unchanged:
 *   -ENOSPC  no room left (memslot_table_copy's @extra),
 *   -EEXIST  the id is taken or the range overlaps another slot,
 *   -ENOENT  no slot has that id,
 *   -EINVAL  an empty or wrapping range.
 */
int memslot_table_create_slot(struct memslot_table *t, const struct memslot *s);
int memslot_table_delete_slot(struct memslot_table *t, uint32_t id);
/* Moves slot @id to @new_base_gfn; its host address stays. */
int memslot_table_move_slot(struct memslot_table *t, uint32_t id, uint64_t new_base_gfn);
int memslot_table_set_flags(struct memslot_table *t, uint32_t id, uint32_t flags);
/* The slot with id @id, or NULL (linear search: updater side only). */
struct memslot *memslot_table_find_id(struct memslot_table *t, uint32_t id);

/* The slot holding @gfn, or NULL.  Binary search over the sorted slots.
 * Takes a const table (what a read protection hands out) and returns a
 * mutable slot, like strchr: the slot's dirty bitmap and log state belong
 * to the dirty-log strategy, not to the table. */
static inline struct memslot *memslot_lookup(const struct memslot_table *t, uint64_t gfn)
{
	uint32_t lo = 0, hi = t->nslots;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct memslot *s = (struct memslot *)&t->slots[mid];

		if (gfn < s->base_gfn)
			hi = mid;
		else if (gfn >= s->base_gfn + s->npages)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

/* Host address of @gfn within @s. */
static inline uint8_t *memslot_gfn_to_hva(const struct memslot *s, uint64_t gfn)
{
	return s->hva + ((gfn - s->base_gfn) << PAGE_SHIFT);
}

#endif
