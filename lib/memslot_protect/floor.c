/*
 * `floor`: not a protection but the yardstick.  The reader loop is the
 * same, with one increment of a per-thread counter in place of the read
 * protection, so the lookups per second it reaches are the most any
 * protection can reach in the same run.  The updater publishes new tables
 * with a release store, but since nothing tells it when readers are done
 * with the old ones it frees none while the protection lives: it keeps them
 * up to opt.floor_retain_bytes, then refuses further updates (-ENOSPC).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memslot_protect/memslot_protect.h"

struct floor_reader {
	struct memslot_reader base;
	_Alignas(64) uint64_t sections;   /* owner only: the bare counter */
};

struct floor_state {
	_Atomic(struct memslot_table *) table;
	struct memslot_table **kept;      /* replaced tables; update_lock */
	size_t nkept, kept_cap;
	uint64_t kept_bytes;
};

static uint64_t table_bytes(const struct memslot_table *t)
{
	return sizeof(*t) + (uint64_t)t->capacity * sizeof(t->slots[0]);
}

static int floor_init(struct memslot_protect *p, struct memslot_table *initial)
{
	struct floor_state *st = calloc(1, sizeof(*st));

	if (!st) {
		fprintf(stderr, "memslot: floor: out of memory\n");
		free(initial);
		return -ENOMEM;
	}
	atomic_init(&st->table, initial);
	p->priv = st;
	return 0;
}

static void floor_destroy(struct memslot_protect *p)
{
	struct floor_state *st = p->priv;

	for (size_t i = 0; i < st->nkept; i++)
		memslot_table_retire(st->kept[i]);
	free(st->kept);
	memslot_table_retire(atomic_load_explicit(&st->table, memory_order_relaxed));
	free(st);
}

static struct memslot_reader *floor_reader_register(struct memslot_protect *p, const char *name)
{
	struct floor_reader *r = aligned_alloc(64, sizeof(*r));

	(void)name;
	if (!r) {
		fprintf(stderr, "memslot: %s: out of memory for a reader\n", p->ops->name);
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	return &r->base;
}

static void floor_reader_unregister(struct memslot_reader *r)
{
	free(r);
}

static const struct memslot_table *floor_read_begin(struct memslot_reader *base)
{
	struct floor_reader *r = (struct floor_reader *)base;
	struct floor_state *st = base->protect->priv;

	r->sections++;
	/* acquire: pairs with the release store in floor_replace. */
	return atomic_load_explicit(&st->table, memory_order_acquire);
}

static void floor_read_end(struct memslot_reader *r)
{
	(void)r;
}

static void floor_quiescent(struct memslot_reader *r)
{
	(void)r;
}

static struct memslot_table *floor_current(struct memslot_protect *p)
{
	struct floor_state *st = p->priv;

	return atomic_load_explicit(&st->table, memory_order_relaxed);
}

static int floor_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct floor_state *st = p->priv;
	struct memslot_table *old = atomic_load_explicit(&st->table, memory_order_relaxed);

	if (st->kept_bytes + table_bytes(old) > p->opt.floor_retain_bytes)
		return -ENOSPC;
	if (st->nkept == st->kept_cap) {
		size_t cap = st->kept_cap ? 2 * st->kept_cap : 1024;
		struct memslot_table **k = realloc(st->kept, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		st->kept = k;
		st->kept_cap = cap;
	}
	/* release: pairs with the acquire load in floor_read_begin. */
	atomic_store_explicit(&st->table, next, memory_order_release);
	return 0;
}

static int floor_retire(struct memslot_protect *p, struct memslot_table *old)
{
	struct floor_state *st = p->priv;

	/* Room was made by floor_replace. */
	st->kept[st->nkept++] = old;
	st->kept_bytes += table_bytes(old);
	return 0;
}

const struct memslot_protect_ops memslot_protect_floor_ops = {
	.name = "floor",
	.summary = "no protection, a per-thread counter increment (the yardstick; keeps old tables)",
	.init = floor_init,
	.destroy = floor_destroy,
	.reader_register = floor_reader_register,
	.reader_unregister = floor_reader_unregister,
	.read_begin = floor_read_begin,
	.read_end = floor_read_end,
	.quiescent = floor_quiescent,
	.current = floor_current,
	.replace = floor_replace,
	.retire = floor_retire,
};
