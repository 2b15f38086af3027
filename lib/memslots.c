/* Memslot tables: see memslots.h. */
#include "memslots.h"

#include <stdlib.h>
#include <string.h>

struct memslot_table *memslot_table_alloc(uint32_t nslots)
{
	struct memslot_table *t = calloc(1, sizeof(*t) + (size_t)nslots * sizeof(t->slots[0]));

	if (t) {
		t->nslots = nslots;
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
