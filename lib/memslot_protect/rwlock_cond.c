/*
 * `rwlock-cond`: the conditional acquire/release of slots_lock proposed in
 * 2009 (seed 001).  A vCPU takes the read side once and keeps it across its
 * loop iterations ("guest entries"); it lets go only at a quiescent point
 * (memslot_quiescent, the guest entry/exit) and only when an updater has
 * raised a request on it.  The updater raises the request on every vCPU,
 * then takes the write side, publishes, lets go, and clears the requests.
 *
 * Why this cannot starve the updater: from the moment a reader's request is
 * raised, that reader holds the read side for at most one iteration at a
 * time (read_begin takes it again, the next quiescent point sees the
 * request still raised and drops it).  The lock prefers writers (glibc's
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): once the updater waits
 * for the write side, a reader's next rdlock blocks, so every reader drops
 * out at its next quiescent point and none can come back in before the
 * update.  A reader that registers while an update is under way starts
 * with its request raised (both happen under list_lock).
 *
 * A user whose readers reach memslot_quiescent only when told to
 * (memslot_protect_set_kick) is kicked once the requests are raised; a
 * reader that stops calling memslot_quiescent goes offline first
 * (memslot_reader_offline lets go of the read side unconditionally).
 *
 * The request flag carries no data: the rwlock orders every table access,
 * so the flag's loads and stores are relaxed.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memslot_protect/memslot_protect.h"

struct rwlock_cond_reader {
	struct memslot_reader base;
	/* Its own cache line: read on every iteration by the owner, written
	 * by the updater only when it raises or clears a request. */
	_Alignas(64) atomic_uint request;
	bool held;                       /* owner only: holds the read side */
	struct rwlock_cond_reader *next; /* st->readers, under list_lock */
};

struct rwlock_cond_state {
	pthread_rwlock_t lock;
	struct memslot_table *table;     /* written under the write side */
	pthread_mutex_t list_lock;
	struct rwlock_cond_reader *readers;
	unsigned pending;                /* an update is under way; list_lock */
};

static int rwlock_cond_init(struct memslot_protect *p, struct memslot_table *initial)
{
	struct rwlock_cond_state *st = calloc(1, sizeof(*st));

	if (!st) {
		fprintf(stderr, "memslot: rwlock-cond: out of memory\n");
		free(initial);
		return -ENOMEM;
	}
	memslot_rwlock_init(&st->lock);
	pthread_mutex_init(&st->list_lock, NULL);
	st->table = initial;
	p->priv = st;
	return 0;
}

static void rwlock_cond_destroy(struct memslot_protect *p)
{
	struct rwlock_cond_state *st = p->priv;

	memslot_table_retire(st->table);
	pthread_rwlock_destroy(&st->lock);
	pthread_mutex_destroy(&st->list_lock);
	free(st);
}

static struct memslot_reader *rwlock_cond_reader_register(struct memslot_protect *p,
							  const char *name)
{
	struct rwlock_cond_state *st = p->priv;
	struct rwlock_cond_reader *r = aligned_alloc(64, sizeof(*r));

	(void)name;
	if (!r) {
		fprintf(stderr, "memslot: rwlock-cond: out of memory for a reader\n");
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&st->list_lock);
	atomic_store_explicit(&r->request, st->pending, memory_order_relaxed);
	r->next = st->readers;
	st->readers = r;
	pthread_mutex_unlock(&st->list_lock);
	return &r->base;
}

static void rwlock_cond_reader_unregister(struct memslot_reader *base)
{
	struct rwlock_cond_reader *r = (struct rwlock_cond_reader *)base;
	struct rwlock_cond_state *st = base->protect->priv;

	pthread_mutex_lock(&st->list_lock);
	for (struct rwlock_cond_reader **pp = &st->readers; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	pthread_mutex_unlock(&st->list_lock);
	if (r->held)
		pthread_rwlock_unlock(&st->lock);
	free(r);
}

static const struct memslot_table *rwlock_cond_read_begin(struct memslot_reader *base)
{
	struct rwlock_cond_reader *r = (struct rwlock_cond_reader *)base;
	struct rwlock_cond_state *st = base->protect->priv;

	if (!r->held) {
		pthread_rwlock_rdlock(&st->lock);
		r->held = true;
	}
	return st->table;
}

static void rwlock_cond_read_end(struct memslot_reader *base)
{
	/* The read side stays held until a quiescent point sees a request. */
	(void)base;
}

static void rwlock_cond_quiescent(struct memslot_reader *base)
{
	struct rwlock_cond_reader *r = (struct rwlock_cond_reader *)base;
	struct rwlock_cond_state *st = base->protect->priv;

	if (r->held && atomic_load_explicit(&r->request, memory_order_relaxed)) {
		pthread_rwlock_unlock(&st->lock);
		r->held = false;
	}
}

static void rwlock_cond_offline(struct memslot_reader *base)
{
	struct rwlock_cond_reader *r = (struct rwlock_cond_reader *)base;
	struct rwlock_cond_state *st = base->protect->priv;

	if (r->held) {
		pthread_rwlock_unlock(&st->lock);
		r->held = false;
	}
}

static struct memslot_table *rwlock_cond_current(struct memslot_protect *p)
{
	struct rwlock_cond_state *st = p->priv;

	/* Written only by updaters, serialized by p->update_lock (held). */
	return st->table;
}

static void rwlock_cond_set_requests(struct rwlock_cond_state *st, unsigned v)
{
	pthread_mutex_lock(&st->list_lock);
	st->pending = v;
	for (struct rwlock_cond_reader *r = st->readers; r; r = r->next)
		atomic_store_explicit(&r->request, v, memory_order_relaxed);
	pthread_mutex_unlock(&st->list_lock);
}

static int rwlock_cond_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct rwlock_cond_state *st = p->priv;

	rwlock_cond_set_requests(st, 1);
	/* After the requests: a kicked reader that looks at its request (the
	 * kick orders the store before it) sees it raised or already
	 * cleared by a finished update. */
	if (p->kick)
		p->kick(p->kick_arg);
	pthread_rwlock_wrlock(&st->lock);
	st->table = next;
	pthread_rwlock_unlock(&st->lock);
	rwlock_cond_set_requests(st, 0);
	return 0;
}

const struct memslot_protect_ops memslot_protect_rwlock_cond_ops = {
	.name = "rwlock-cond",
	.summary = "read side kept across guest entries, dropped on an updater's request",
	.init = rwlock_cond_init,
	.destroy = rwlock_cond_destroy,
	.reader_register = rwlock_cond_reader_register,
	.reader_unregister = rwlock_cond_reader_unregister,
	.read_begin = rwlock_cond_read_begin,
	.read_end = rwlock_cond_read_end,
	.quiescent = rwlock_cond_quiescent,
	.current = rwlock_cond_current,
	.replace = rwlock_cond_replace,
	.offline = rwlock_cond_offline,
};
