/* Memslot tables: see memslots.h. */
#include "lib/vm/memslots.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct memslot_table *memslot_table_alloc(uint32_t nslots)
{
	struct memslot_table *t = calloc(1, sizeof(*t) + (size_t)nslots * sizeof(t->slots[0]));

	if (t) {
		t->nslots = nslots;
		t->capacity = nslots;
		t->poison = MEMSLOT_TABLE_LIVE;
	}
	return t;
}

struct memslot_table *memslot_table_copy(const struct memslot_table *t, uint32_t extra)
{
	size_t sz = sizeof(*t) + (size_t)t->nslots * sizeof(t->slots[0]);
	struct memslot_table *n = malloc(sz + (size_t)extra * sizeof(t->slots[0]));

	if (n) {
		memcpy(n, t, sz);
		n->generation = t->generation + 1;
		n->poison = MEMSLOT_TABLE_LIVE;
		n->capacity = t->nslots + extra;
	}
	return n;
}

void memslot_table_retire(struct memslot_table *t)
{
	if (!t)
		return;
	/* Scribble over the table so that a reader that outlived the grace
	 * period sees garbage and the correctness tests catch it (and ASan
	 * catches the use after free). */
	t->poison = MEMSLOT_TABLE_POISON;
	for (uint32_t i = 0; i < t->nslots; i++) {
		t->slots[i].base_gfn = UINT64_MAX / 2;
		t->slots[i].npages = 0;
		t->slots[i].hva = NULL;
	}
	free(t);
}

static int memslot_cmp(const void *a, const void *b)
{
	const struct memslot *x = a, *y = b;

	return x->base_gfn < y->base_gfn ? -1 : x->base_gfn > y->base_gfn;
}

void memslot_table_sort(struct memslot_table *t)
{
	qsort(t->slots, t->nslots, sizeof(t->slots[0]), memslot_cmp);
	t->generation++;
}

struct memslot *memslot_table_find_id(struct memslot_table *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->slots[i].id == id)
			return &t->slots[i];
	return NULL;
}

/* True if [base, base + npages) overlaps a slot other than @skip. */
static int memslot_range_taken(const struct memslot_table *t, uint64_t base, uint64_t npages,
			       const struct memslot *skip)
{
	for (uint32_t i = 0; i < t->nslots; i++) {
		const struct memslot *s = &t->slots[i];

		if (s != skip && base < s->base_gfn + s->npages && s->base_gfn < base + npages)
			return 1;
	}
	return 0;
}

static int memslot_range_valid(uint64_t base, uint64_t npages)
{
	return npages != 0 && base + npages > base;
}

int memslot_table_create_slot(struct memslot_table *t, const struct memslot *s)
{
	if (!memslot_range_valid(s->base_gfn, s->npages))
		return -EINVAL;
	if (t->nslots >= t->capacity)
		return -ENOSPC;
	if (memslot_table_find_id(t, s->id) || memslot_range_taken(t, s->base_gfn, s->npages, NULL))
		return -EEXIST;
	t->slots[t->nslots++] = *s;
	memslot_table_sort(t);
	return 0;
}

int memslot_table_delete_slot(struct memslot_table *t, uint32_t id)
{
	struct memslot *s = memslot_table_find_id(t, id);
	uint32_t i;

	if (!s)
		return -ENOENT;
	/* Shift the tail down: the order stays sorted. */
	i = (uint32_t)(s - t->slots);
	memmove(&t->slots[i], &t->slots[i + 1], (t->nslots - i - 1) * sizeof(t->slots[0]));
	t->nslots--;
	t->generation++;
	return 0;
}

int memslot_table_move_slot(struct memslot_table *t, uint32_t id, uint64_t new_base_gfn)
{
	struct memslot *s = memslot_table_find_id(t, id);

	if (!s)
		return -ENOENT;
	if (!memslot_range_valid(new_base_gfn, s->npages))
		return -EINVAL;
	if (memslot_range_taken(t, new_base_gfn, s->npages, s))
		return -EEXIST;
	s->base_gfn = new_base_gfn;
	memslot_table_sort(t);
	return 0;
}

int memslot_table_set_flags(struct memslot_table *t, uint32_t id, uint32_t flags)
{
	struct memslot *s = memslot_table_find_id(t, id);

	if (!s)
		return -ENOENT;
	s->flags = flags;
	t->generation++;
	return 0;
}
