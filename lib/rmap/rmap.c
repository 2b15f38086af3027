/*
 * Reverse maps: the writers' side (add, remove, desc lifetime), readers'
 * registration and the walker registry.  See rmap.h for the layout.
 */
#include "lib/rmap/rmap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct rmap_walker_ops *const rmap_walkers[] = {
	&rmap_walker_locked,
	&rmap_walker_lockless,
	&rmap_walker_lockless_pos,
	NULL,
};

const char *const rmap_walker_names[] = { "locked", "lockless", "lockless-pos", NULL };

const struct rmap_walker_ops *rmap_walker_find(const char *name)
{
	for (int i = 0; rmap_walkers[i]; i++)
		if (!strcmp(rmap_walkers[i]->name, name))
			return rmap_walkers[i];
	return NULL;
}

int rmap_init(struct rmap *rm, const struct rmap_options *o)
{
	struct srcu_options so;

	memset(rm, 0, sizeof(*rm));
	if (o->ngfns == 0) {
		fprintf(stderr, "rmap: at least one gfn is needed\n");
		return -1;
	}
	rm->ngfns = o->ngfns;
	rm->cache_max = o->desc_cache;
	rm->heads = calloc(o->ngfns, sizeof(*rm->heads));
	if (!rm->heads) {
		fprintf(stderr, "rmap: out of memory for %u rmap heads\n", o->ngfns);
		return -1;
	}
	for (uint32_t g = 0; g < o->ngfns; g++)
		atomic_init(&rm->heads[g].val, rmap_nulls(&rm->heads[g]));
	srcu_options_default(&so);
	so.flavour = o->srcu_flavour;
	so.name = "rmap";
	if (srcu_init(&rm->srcu, &so, NULL, 0)) {
		free(rm->heads);
		return -1;
	}
	pthread_mutex_init(&rm->mmu_lock, NULL);
	return 0;
}

static void desc_free_now(struct rmap_desc *d)
{
	/* relaxed: no reader can reach @d any more (a grace period passed,
	 * or the rmap is being destroyed); one that did would see poison */
	atomic_store_explicit(&d->state, RMAP_DESC_POISON, memory_order_relaxed);
	free(d);
}

static void desc_free_cb(struct srcu_head *head)
{
	desc_free_now((struct rmap_desc *)((char *)head - offsetof(struct rmap_desc, rcu)));
}

int rmap_destroy(struct rmap *rm)
{
	int rc;

	srcu_barrier(&rm->srcu);
	rc = srcu_destroy(&rm->srcu, NULL, 0);
	for (uint32_t g = 0; g < rm->ngfns; g++) {
		uintptr_t v = atomic_load_explicit(&rm->heads[g].val, memory_order_relaxed);

		while (!rmap_is_nulls(v)) {
			struct rmap_desc *d = rmap_link_desc(v);

			v = atomic_load_explicit(&d->more, memory_order_relaxed);
			desc_free_now(d);
		}
	}
	while (rm->cache) {
		struct rmap_desc *d = rm->cache;

		rm->cache = d->cache_next;
		desc_free_now(d);
	}
	free(rm->heads);
	pthread_mutex_destroy(&rm->mmu_lock);
	return rc ? -1 : 0;
}

/*
 * A desc for a new list position: from the cache (type-stable reuse: a
 * lockless walker may still be reading it, so every store is atomic) or
 * from malloc.  The caller links it with a release store.
 */
static struct rmap_desc *desc_get(struct rmap *rm, spte_t *spte, uintptr_t more)
{
	struct rmap_desc *d = rm->cache;

	if (d) {
		rm->cache = d->cache_next;
		rm->ncached--;
		rm->stats.desc_reuses++;
	} else {
		d = malloc(sizeof(*d));
		if (!d)
			return NULL;
		atomic_init(&d->state, RMAP_DESC_LIVE);
		for (int i = 0; i < RMAP_DESC_SPTES; i++)
			atomic_init(&d->sptes[i], 0);
		atomic_init(&d->more, 0);
		rm->stats.desc_allocs++;
	}
	d->cache_next = NULL;
	/* relaxed: published by the caller's release store of the link */
	for (int i = 1; i < RMAP_DESC_SPTES; i++)
		atomic_store_explicit(&d->sptes[i], 0, memory_order_relaxed);
	atomic_store_explicit(&d->sptes[0], (uintptr_t)spte, memory_order_relaxed);
	/* release: a stale walker that follows this link sees the target's
	 * contents as published before it */
	atomic_store_explicit(&d->more, more, memory_order_release);
	return d;
}

/* An unlinked desc: reusable at once, or freed after a grace period. */
static void desc_put(struct rmap *rm, struct rmap_desc *d)
{
	if (rm->ncached < rm->cache_max) {
		d->cache_next = rm->cache;
		rm->cache = d;
		rm->ncached++;
		return;
	}
	rm->stats.desc_retired++;
	call_srcu(&rm->srcu, &d->rcu, desc_free_cb);
}

int rmap_add(struct rmap *rm, uint32_t gfn, spte_t *spte)
{
	struct rmap_head *h = &rm->heads[gfn];
	/* relaxed (all loads here): the writer holds mmu_lock */
	uintptr_t v = atomic_load_explicit(&h->val, memory_order_relaxed);
	struct rmap_desc *first, *d;
	uint32_t pos;
	int i;

	if (!rmap_is_nulls(v)) {
		first = rmap_link_desc(v);
		for (i = 0; i < RMAP_DESC_SPTES; i++)
			if (!atomic_load_explicit(&first->sptes[i], memory_order_relaxed))
				break;
		if (i < RMAP_DESC_SPTES) {
			/* release: pairs with the walkers' acquire slot loads */
			atomic_store_explicit(&first->sptes[i], (uintptr_t)spte,
					      memory_order_release);
			return 0;
		}
	}
	pos = rmap_is_nulls(v) ? 0 : rmap_link_pos(v);
	if (pos >= RMAP_POS_MAX) {
		fprintf(stderr, "rmap: gfn %u already has %u descs, the most a position can encode\n",
			gfn, pos);
		return -1;
	}
	d = desc_get(rm, spte, v);
	if (!d) {
		fprintf(stderr, "rmap: out of memory for a desc\n");
		return -1;
	}
	/* release: the desc's slots and link before the head; pairs with the
	 * walkers' acquire load of the head */
	atomic_store_explicit(&h->val, rmap_link(d, pos + 1), memory_order_release);
	return 0;
}

int rmap_remove(struct rmap *rm, uint32_t gfn, spte_t *spte)
{
	struct rmap_head *h = &rm->heads[gfn];
	uintptr_t v = atomic_load_explicit(&h->val, memory_order_relaxed);
	struct rmap_desc *first, *d = NULL;
	uintptr_t last, link;
	int i = -1, j;

	if (rmap_is_nulls(v))
		return -1;
	first = rmap_link_desc(v);
	for (link = v; !rmap_is_nulls(link) && i < 0;) {
		d = rmap_link_desc(link);
		for (int k = 0; k < RMAP_DESC_SPTES; k++)
			if (atomic_load_explicit(&d->sptes[k], memory_order_relaxed) ==
			    (uintptr_t)spte) {
				i = k;
				break;
			}
		link = atomic_load_explicit(&d->more, memory_order_relaxed);
	}
	if (i < 0)
		return -1;
	for (j = RMAP_DESC_SPTES - 1; j > 0; j--)
		if (atomic_load_explicit(&first->sptes[j], memory_order_relaxed))
			break;
	last = atomic_load_explicit(&first->sptes[j], memory_order_relaxed);
	/* release (both): a walker that sees the old slot cleared also sees
	 * the entry in the hole it was moved to; pairs with the acquire slot
	 * loads in rmap_desc_protect */
	if (d != first || i != j)
		atomic_store_explicit(&d->sptes[i], last, memory_order_release);
	atomic_store_explicit(&first->sptes[j], 0, memory_order_release);
	if (j == 0) {
		/* release: pairs with the walkers' acquire load of the head */
		atomic_store_explicit(&h->val,
				      atomic_load_explicit(&first->more, memory_order_relaxed),
				      memory_order_release);
		desc_put(rm, first);
	}
	return 0;
}

uint32_t rmap_count(struct rmap *rm, uint32_t gfn)
{
	uintptr_t v = atomic_load_explicit(&rm->heads[gfn].val, memory_order_relaxed);
	uint32_t n = 0;

	while (!rmap_is_nulls(v)) {
		struct rmap_desc *d = rmap_link_desc(v);

		for (int k = 0; k < RMAP_DESC_SPTES; k++)
			n += atomic_load_explicit(&d->sptes[k], memory_order_relaxed) != 0;
		v = atomic_load_explicit(&d->more, memory_order_relaxed);
	}
	return n;
}

int rmap_reader_register(struct rmap_reader *r, struct rmap *rm, const char *name)
{
	r->rm = rm;
	r->srcu = srcu_register_reader(&rm->srcu, name, NULL, 0);
	return r->srcu ? 0 : -1;
}

void rmap_reader_unregister(struct rmap_reader *r)
{
	if (r->srcu)
		srcu_unregister_reader(r->srcu, NULL, 0);
	r->srcu = NULL;
}
