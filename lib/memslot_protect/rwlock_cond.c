/*
 * `rwlock-cond`: the conditional acquire/release of slots_lock proposed in
 * 2009 (the thread "[RFC] KVM: x86: conditionally acquire/release
 * slots_lock on entry/exit", Marcelo Tosatti).  A vCPU takes the read side
 * once and keeps it across its loop iterations ("guest entries"); it lets
 * go only when an updater has raised a request on it, at the first of:
 *
 *   - a quiescent point (memslot_quiescent: the VM calls it when kicked);
 *   - the end of a read section (memslot_read_end: the guest entry that
 *     follows the VM exit whose fault took the read side; the RFC checks
 *     the request bit at every guest entry).
 *
 * The updater raises the request on every reader, kicks (if the user set a
 * kick), takes the write side, publishes, lets go, and clears the requests.
 *
 * Why the updater cannot wait forever.  Say the requests are raised at T.
 *  1. A reader that holds the read side at T keeps it until a quiescent
 *     point or a section end that sees the request.  It reaches one: a
 *     kicked reader calls memslot_quiescent after it took the kick, and the
 *     kick is ordered after the request's store (vm.c's seq_cst fetch_or
 *     of the vCPU's requests, read by the vCPU's acquire exchange), so it
 *     sees the request; a reader that is not kicked calls memslot_quiescent
 *     regularly by contract.  A reader outside guest mode went offline.
 *  2. Once a reader has seen the request, every later load of it by that
 *     reader sees it too until the update clears it (read-read coherence),
 *     so each section it opens afterwards ends with the read side dropped:
 *     it holds the read side only inside sections, which are finite.
 *  3. The lock prefers writers (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP):
 *     once the updater waits in wrlock, no reader takes the read side
 *     again, so the updater gets it when the current holders leave, which
 *     by 1 and 2 they do.
 * Without the section-end check, step 2 fails: a kicked reader drops the
 * read side at its quiescent point, faults and takes it again before the
 * updater reaches wrlock, and then keeps it, since it is kicked only once
 * per update: wrlock waits forever.  tests/test_memslot_protect's kicked
 * phase opens that window on every update (memslot_protect_options'
 * before_wait hook).
 *
 * A reader that registers while an update is under way starts with its
 * request raised (both happen under list_lock).
 *
 * The request flag carries no data: the rwlock orders every table access,
 * so the flag's loads and stores are relaxed.
 *
 * Mutants: memslot_rwlock_cond_no_request (requests never raised),
 * memslot_rwlock_cond_no_kick, memslot_rwlock_cond_no_quiescent_drop,
 * memslot_rwlock_cond_no_entry_drop (the section-end check: the 2009 hang),
 * memslot_rwlock_cond_no_write_lock (publish without the write side).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/util/mutant.h"

struct rwlock_cond_reader {
	struct memslot_reader base;
	/* Its own cache line: read on every iteration by the owner, written
	 * by the updater only when it raises or clears a request. */
	_Alignas(64) atomic_uint request;
	bool held;			 /* owner only: holds the read side */
	struct rwlock_cond_reader *next; /* st->readers, under list_lock */
};

struct rwlock_cond_state {
	pthread_rwlock_t lock;
	struct memslot_table *table; /* written under the write side */
	pthread_mutex_t list_lock;
	struct rwlock_cond_reader *readers;
	unsigned pending; /* an update is under way; list_lock */
};

static int rwlock_cond_init(struct memslot_protect *p, struct memslot_table *initial, char *err,
			    size_t errlen)
{
	struct rwlock_cond_state *st = calloc(1, sizeof(*st));
	int rc = st ? memslot_rwlock_init(&st->lock) : -ENOMEM;

	if (rc) {
		snprintf(err, errlen, "rwlock-cond: %s", strerror(-rc));
		free(st);
		free(initial);
		return rc;
	}
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
	struct rwlock_cond_reader *r = memslot_reader_alloc(sizeof(*r));

	(void)name;
	if (!r)
		return NULL;
	pthread_mutex_lock(&st->list_lock);
	/* relaxed: the request only says "let go"; the rwlock orders the
	 * table (see the top, step 2) */
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

/* Lets go of the read side if a request is raised (see the top). */
static void rwlock_cond_drop_if_requested(struct rwlock_cond_reader *r)
{
	struct rwlock_cond_state *st = r->base.protect->priv;

	/* relaxed: a hint to unlock; the rwlock carries the order, and
	 * coherence keeps a seen request seen (step 2 at the top) */
	if (r->held && atomic_load_explicit(&r->request, memory_order_relaxed)) {
		pthread_rwlock_unlock(&st->lock);
		r->held = false;
	}
}

static void rwlock_cond_read_end(struct memslot_reader *base)
{
	/* The guest entry after the exit: step 2 at the top. */
	if (!MUTANT(memslot_rwlock_cond_no_entry_drop))
		rwlock_cond_drop_if_requested((struct rwlock_cond_reader *)base);
}

static void rwlock_cond_quiescent(struct memslot_reader *base)
{
	/* Step 1 at the top. */
	if (!MUTANT(memslot_rwlock_cond_no_quiescent_drop))
		rwlock_cond_drop_if_requested((struct rwlock_cond_reader *)base);
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
	/* relaxed: a kick orders it for a kicked reader (vm.c's seq_cst
	 * fetch_or of requests); others see it in time (step 1 at the top) */
	for (struct rwlock_cond_reader *r = st->readers; r; r = r->next)
		atomic_store_explicit(&r->request, v, memory_order_relaxed);
	pthread_mutex_unlock(&st->list_lock);
}

static int rwlock_cond_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct rwlock_cond_state *st = p->priv;

	if (!MUTANT(memslot_rwlock_cond_no_request))
		rwlock_cond_set_requests(st, 1);
	/* After the requests: a kicked reader that looks at its request (the
	 * kick orders the store before it) sees it raised, or already
	 * cleared by a finished update. */
	if (p->kick && !MUTANT(memslot_rwlock_cond_no_kick))
		p->kick(p->kick_arg);
	memslot_protect_before_wait(p);
	if (MUTANT(memslot_rwlock_cond_no_write_lock)) {
		st->table = next;
	} else {
		pthread_rwlock_wrlock(&st->lock);
		st->table = next;
		pthread_rwlock_unlock(&st->lock);
	}
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
