/*
 * `mutex`: one mutex around every lookup.  Readers and the updater's
 * publish take the same lock, so a reader holds either the old table, with
 * the updater waiting for the lock, or the new one.
 *
 * Mutants: memslot_mutex_no_read_lock (readers look up without the lock),
 * memslot_mutex_no_update_lock (the updater publishes without it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/util/mutant.h"

struct mutex_state {
	pthread_mutex_t lock;
	struct memslot_table *table; /* under lock */
};

static int mutex_init(struct memslot_protect *p, struct memslot_table *initial, char *err,
		      size_t errlen)
{
	struct mutex_state *st = calloc(1, sizeof(*st));

	if (!st) {
		snprintf(err, errlen, "mutex: out of memory");
		free(initial);
		return -ENOMEM;
	}
	pthread_mutex_init(&st->lock, NULL);
	st->table = initial;
	p->priv = st;
	return 0;
}

static void mutex_destroy(struct memslot_protect *p)
{
	struct mutex_state *st = p->priv;

	memslot_table_retire(st->table);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static struct memslot_reader *mutex_reader_register(struct memslot_protect *p, const char *name)
{
	(void)p;
	(void)name;
	return memslot_reader_alloc(sizeof(struct memslot_reader));
}

static void mutex_reader_unregister(struct memslot_reader *r)
{
	free(r);
}

static const struct memslot_table *mutex_read_begin(struct memslot_reader *r)
{
	struct mutex_state *st = r->protect->priv;

	if (!MUTANT(memslot_mutex_no_read_lock))
		pthread_mutex_lock(&st->lock);
	return st->table;
}

static void mutex_read_end(struct memslot_reader *r)
{
	struct mutex_state *st = r->protect->priv;

	if (!MUTANT(memslot_mutex_no_read_lock))
		pthread_mutex_unlock(&st->lock);
}

static void mutex_quiescent(struct memslot_reader *r)
{
	(void)r;
}

static struct memslot_table *mutex_current(struct memslot_protect *p)
{
	struct mutex_state *st = p->priv;

	/* Only updaters write st->table, and they are serialized by
	 * p->update_lock, which the caller holds. */
	return st->table;
}

static int mutex_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct mutex_state *st = p->priv;

	memslot_protect_before_wait(p);
	if (MUTANT(memslot_mutex_no_update_lock)) {
		st->table = next;
		return 0;
	}
	pthread_mutex_lock(&st->lock);
	st->table = next;
	pthread_mutex_unlock(&st->lock);
	return 0;
}

const struct memslot_protect_ops memslot_protect_mutex_ops = {
	.name = "mutex",
	.summary = "one mutex around every lookup",
	.init = mutex_init,
	.destroy = mutex_destroy,
	.reader_register = mutex_reader_register,
	.reader_unregister = mutex_reader_unregister,
	.read_begin = mutex_read_begin,
	.read_end = mutex_read_end,
	.quiescent = mutex_quiescent,
	.current = mutex_current,
	.replace = mutex_replace,
};
