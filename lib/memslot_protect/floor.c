/*
 * `floor`: not a protection but the yardstick.  The reader loop is the
 * same, with one increment of a per-thread counter in place of the read
 * protection, so the lookups per second it reaches are the most any
 * protection can reach in the same run.  The updater publishes new tables
 * with a release store, but since nothing tells it when readers are done
 * with the old ones it frees none while the protection lives: it keeps them
 * up to opt.floor_retain_bytes (option retain=BYTES, K/M/G suffixes), then
 * refuses further updates (-ENOSPC).
 *
 * Mutants: none.  The floor has no synchronization step to remove: its
 * readers take nothing, and its updater never frees a table readers may
 * hold.  (Its release publish orders the table's contents for readers, as
 * every protection's does; the torture's table checks rely on it, but the
 * floor is the yardstick, not a protection under test.)
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memslot_protect/memslot_protect.h"

struct floor_reader {
	struct memslot_reader base;
	uint64_t sections; /* owner only: the bare counter */
};

struct floor_state {
	_Atomic(struct memslot_table *) table;
	struct memslot_table **kept; /* replaced tables; update_lock */
	size_t nkept, kept_cap;
	uint64_t kept_bytes;
};

static uint64_t table_bytes(const struct memslot_table *t)
{
	return sizeof(*t) + (uint64_t)t->capacity * sizeof(t->slots[0]);
}

static int floor_set_option(struct memslot_protect_options *o, const char *key, const char *value,
			    char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	if (strcmp(key, "retain")) {
		snprintf(err, errlen, "floor: unknown option '%s' (retain=BYTES)", key);
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (end != value && *end && !end[1] && strchr("KMG", *end)) {
		unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : 30;

		v = v > UINT64_MAX >> shift ? UINT64_MAX : v << shift;
		end++;
	}
	if (end == value || *end || errno || *value == '-' || v == UINT64_MAX) {
		snprintf(err, errlen, "floor: retain=%s is not a size in bytes (K/M/G suffixes)",
			 value);
		return -EINVAL;
	}
	o->floor_retain_bytes = v;
	return 0;
}

static int floor_init(struct memslot_protect *p, struct memslot_table *initial, char *err,
		      size_t errlen)
{
	struct floor_state *st = calloc(1, sizeof(*st));

	if (!st) {
		snprintf(err, errlen, "floor: out of memory");
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
	struct floor_reader *r = memslot_reader_alloc(sizeof(*r));

	(void)p;
	(void)name;
	return r ? &r->base : NULL;
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

	/* Only updaters store it, serialized by p->update_lock (held). */
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
	.summary =
		"no protection, a per-thread counter increment (the yardstick; keeps old tables)",
	.options_help = "retain=BYTES (replaced tables kept, default 256M)",
	.set_option = floor_set_option,
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
