/*
 * `srcu-mb` and `srcu-fast`: memslot reads under SRCU (lib/srcu.h), as KVM
 * has done since 2009.  A reader's section is srcu_read_lock ... unlock
 * around the table load; the updater publishes the new table with a
 * release store, waits a grace period (synchronize_srcu, or the expedited
 * one with --expedited) and frees the old one.  The two names are the SRCU
 * core's two read-side flavours.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/srcu/srcu.h"

struct srcu_state {
	struct srcu_struct srcu;               /* cache-line aligned */
	_Atomic(struct memslot_table *) table;
};

struct srcu_protect_reader {
	struct memslot_reader base;
	struct srcu_reader *sr;
	int idx;                               /* of the open section */
};

static int srcu_protect_init(struct memslot_protect *p, struct memslot_table *initial,
			     enum srcu_flavour flavour)
{
	struct srcu_state *st = aligned_alloc(SRCU_CACHELINE, sizeof(*st));
	struct srcu_options o;
	int rc;

	if (!st) {
		fprintf(stderr, "memslot: %s: out of memory\n", p->ops->name);
		free(initial);
		return -ENOMEM;
	}
	memset(st, 0, sizeof(*st));
	srcu_options_default(&o);
	o.flavour = flavour;
	o.name = p->ops->name;
	rc = srcu_init(&st->srcu, &o, NULL, 0);
	if (rc) {
		free(st);
		free(initial);
		return rc;
	}
	atomic_init(&st->table, initial);
	p->priv = st;
	return 0;
}

static int srcu_mb_init(struct memslot_protect *p, struct memslot_table *initial)
{
	return srcu_protect_init(p, initial, SRCU_FLAVOUR_MB);
}

static int srcu_fast_init(struct memslot_protect *p, struct memslot_table *initial)
{
	return srcu_protect_init(p, initial, SRCU_FLAVOUR_FAST);
}

static void srcu_protect_destroy(struct memslot_protect *p)
{
	struct srcu_state *st = p->priv;

	memslot_table_retire(atomic_load_explicit(&st->table, memory_order_relaxed));
	srcu_destroy(&st->srcu, NULL, 0);
	free(st);
}

static struct memslot_reader *srcu_protect_reader_register(struct memslot_protect *p,
							   const char *name)
{
	struct srcu_state *st = p->priv;
	struct srcu_protect_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		fprintf(stderr, "memslot: %s: out of memory for a reader\n", p->ops->name);
		return NULL;
	}
	r->sr = srcu_register_reader(&st->srcu, name, NULL, 0);
	if (!r->sr) {
		free(r);
		return NULL;
	}
	return &r->base;
}

static void srcu_protect_reader_unregister(struct memslot_reader *base)
{
	struct srcu_protect_reader *r = (struct srcu_protect_reader *)base;

	srcu_unregister_reader(r->sr, NULL, 0);
	free(r);
}

static const struct memslot_table *srcu_protect_read_begin(struct memslot_reader *base)
{
	struct srcu_protect_reader *r = (struct srcu_protect_reader *)base;
	struct srcu_state *st = base->protect->priv;

	r->idx = srcu_read_lock(r->sr);
	/* acquire: pairs with the release store in srcu_protect_replace, so
	 * the table's contents written before publication are visible. */
	return atomic_load_explicit(&st->table, memory_order_acquire);
}

static void srcu_protect_read_end(struct memslot_reader *base)
{
	struct srcu_protect_reader *r = (struct srcu_protect_reader *)base;

	srcu_read_unlock(r->sr, r->idx);
}

static void srcu_protect_quiescent(struct memslot_reader *base)
{
	(void)base;
}

static struct memslot_table *srcu_protect_current(struct memslot_protect *p)
{
	struct srcu_state *st = p->priv;

	/* Only updaters store it, serialized by p->update_lock (held). */
	return atomic_load_explicit(&st->table, memory_order_relaxed);
}

static int srcu_protect_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct srcu_state *st = p->priv;
	int rc;

	/* release: pairs with the acquire load in srcu_protect_read_begin. */
	atomic_store_explicit(&st->table, next, memory_order_release);
	rc = p->opt.expedited ? synchronize_srcu_expedited(&st->srcu)
			      : synchronize_srcu(&st->srcu);
	if (rc) {
		/* Only an update from inside a read section gets here: the new
		 * table is published and the old one may still be read. */
		fprintf(stderr, "memslot: %s: update from inside a read section\n", p->ops->name);
		abort();
	}
	return 0;
}

const struct memslot_protect_ops memslot_protect_srcu_mb_ops = {
	.name = "srcu-mb",
	.summary = "SRCU, full fences in read lock/unlock (the kernel's srcu_read_lock)",
	.init = srcu_mb_init,
	.destroy = srcu_protect_destroy,
	.reader_register = srcu_protect_reader_register,
	.reader_unregister = srcu_protect_reader_unregister,
	.read_begin = srcu_protect_read_begin,
	.read_end = srcu_protect_read_end,
	.quiescent = srcu_protect_quiescent,
	.current = srcu_protect_current,
	.replace = srcu_protect_replace,
};

const struct memslot_protect_ops memslot_protect_srcu_fast_ops = {
	.name = "srcu-fast",
	.summary = "SRCU, fence-free readers, updater forces ordering with membarrier()",
	.init = srcu_fast_init,
	.destroy = srcu_protect_destroy,
	.reader_register = srcu_protect_reader_register,
	.reader_unregister = srcu_protect_reader_unregister,
	.read_begin = srcu_protect_read_begin,
	.read_end = srcu_protect_read_end,
	.quiescent = srcu_protect_quiescent,
	.current = srcu_protect_current,
	.replace = srcu_protect_replace,
};
