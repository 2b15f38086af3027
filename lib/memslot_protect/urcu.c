/*
 * `urcu`: the reference, liburcu's memb flavour (readers' ordering forced
 * by membarrier() on the update side, like srcu-fast).  Built with
 * _LGPL_SOURCE so that urcu_memb_read_lock/unlock and rcu_dereference are
 * inlined: the peer is measured at its best.  liburcu has one reader
 * registration per thread and no expedited grace period, so --expedited
 * changes nothing here.
 *
 * Mutant: memslot_urcu_no_synchronize (frees without synchronize_rcu).
 */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/util/mutant.h"

struct urcu_protect_state {
	struct memslot_table *table; /* rcu_assign_pointer/rcu_dereference */
};

static int urcu_init(struct memslot_protect *p, struct memslot_table *initial, char *err,
		     size_t errlen)
{
	struct urcu_protect_state *st = calloc(1, sizeof(*st));

	if (!st) {
		snprintf(err, errlen, "urcu: out of memory");
		free(initial);
		return -ENOMEM;
	}
	st->table = initial;
	p->priv = st;
	return 0;
}

static void urcu_destroy(struct memslot_protect *p)
{
	struct urcu_protect_state *st = p->priv;

	memslot_table_retire(st->table);
	free(st);
}

static struct memslot_reader *urcu_reader_register(struct memslot_protect *p, const char *name)
{
	struct memslot_reader *r = memslot_reader_alloc(sizeof(*r));

	(void)p;
	(void)name;
	if (!r)
		return NULL;
	urcu_memb_register_thread();
	return r;
}

static void urcu_reader_unregister(struct memslot_reader *r)
{
	urcu_memb_unregister_thread();
	free(r);
}

static const struct memslot_table *urcu_read_begin(struct memslot_reader *r)
{
	struct urcu_protect_state *st = r->protect->priv;

	urcu_memb_read_lock();
	/* Pairs with rcu_assign_pointer in urcu_replace. */
	return rcu_dereference(st->table);
}

static void urcu_read_end(struct memslot_reader *r)
{
	(void)r;
	urcu_memb_read_unlock();
}

static void urcu_quiescent(struct memslot_reader *r)
{
	(void)r;
}

static struct memslot_table *urcu_current(struct memslot_protect *p)
{
	struct urcu_protect_state *st = p->priv;

	/* Only updaters store it, serialized by p->update_lock (held). */
	return st->table;
}

static int urcu_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct urcu_protect_state *st = p->priv;

	/* Pairs with rcu_dereference in urcu_read_begin. */
	rcu_assign_pointer(st->table, next);
	memslot_protect_before_wait(p);
	if (!MUTANT(memslot_urcu_no_synchronize))
		urcu_memb_synchronize_rcu();
	return 0;
}

const struct memslot_protect_ops memslot_protect_urcu_ops = {
	.name = "urcu",
	.summary = "liburcu memb flavour (the reference userspace RCU)",
	.init = urcu_init,
	.destroy = urcu_destroy,
	.reader_register = urcu_reader_register,
	.reader_unregister = urcu_reader_unregister,
	.read_begin = urcu_read_begin,
	.read_end = urcu_read_end,
	.quiescent = urcu_quiescent,
	.current = urcu_current,
	.replace = urcu_replace,
};
