/*
 * `rwlock`: slots_lock as it was before 2009, the read side of a
 * reader-writer lock around every lookup; the updater publishes under the
 * write side.  The lock prefers writers (glibc's
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP: a waiting writer blocks new
 * readers), as the kernel's rw-semaphore does, so a steady stream of
 * readers cannot starve the updater.
 *
 * Mutants: memslot_rwlock_no_read_lock (readers look up without the read
 * side), memslot_rwlock_no_write_lock (the updater publishes without the
 * write side).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/util/mutant.h"

struct rwlock_state {
	pthread_rwlock_t lock;
	struct memslot_table *table; /* written under the write side */
};

static int rwlock_init(struct memslot_protect *p, struct memslot_table *initial, char *err,
		       size_t errlen)
{
	struct rwlock_state *st = calloc(1, sizeof(*st));
	int rc = st ? memslot_rwlock_init(&st->lock) : -ENOMEM;

	if (rc) {
		snprintf(err, errlen, "rwlock: %s", strerror(-rc));
		free(st);
		free(initial);
		return rc;
	}
	st->table = initial;
	p->priv = st;
	return 0;
}

static void rwlock_destroy(struct memslot_protect *p)
{
	struct rwlock_state *st = p->priv;

	memslot_table_retire(st->table);
	pthread_rwlock_destroy(&st->lock);
	free(st);
}

static struct memslot_reader *rwlock_reader_register(struct memslot_protect *p, const char *name)
{
	(void)p;
	(void)name;
	return memslot_reader_alloc(sizeof(struct memslot_reader));
}

static void rwlock_reader_unregister(struct memslot_reader *r)
{
	free(r);
}

static const struct memslot_table *rwlock_read_begin(struct memslot_reader *r)
{
	struct rwlock_state *st = r->protect->priv;

	if (!MUTANT(memslot_rwlock_no_read_lock))
		pthread_rwlock_rdlock(&st->lock);
	return st->table;
}

static void rwlock_read_end(struct memslot_reader *r)
{
	struct rwlock_state *st = r->protect->priv;

	if (!MUTANT(memslot_rwlock_no_read_lock))
		pthread_rwlock_unlock(&st->lock);
}

static void rwlock_quiescent(struct memslot_reader *r)
{
	(void)r;
}

static struct memslot_table *rwlock_current(struct memslot_protect *p)
{
	struct rwlock_state *st = p->priv;

	/* Written only by updaters, serialized by p->update_lock (held). */
	return st->table;
}

static int rwlock_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct rwlock_state *st = p->priv;

	memslot_protect_before_wait(p);
	if (MUTANT(memslot_rwlock_no_write_lock)) {
		st->table = next;
		return 0;
	}
	pthread_rwlock_wrlock(&st->lock);
	st->table = next;
	pthread_rwlock_unlock(&st->lock);
	return 0;
}

const struct memslot_protect_ops memslot_protect_rwlock_ops = {
	.name = "rwlock",
	.summary = "read side of a writer-preferring rwlock around every lookup",
	.init = rwlock_init,
	.destroy = rwlock_destroy,
	.reader_register = rwlock_reader_register,
	.reader_unregister = rwlock_reader_unregister,
	.read_begin = rwlock_read_begin,
	.read_end = rwlock_read_end,
	.quiescent = rwlock_quiescent,
	.current = rwlock_current,
	.replace = rwlock_replace,
};
