/*
 * Reverse maps: the writers' side (add, remove, desc lifetime), readers'
 * registration and the walker registry.  See rmap.h for the layout.
 */
#include "lib/rmap/rmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/compiler.h"
#include "lib/util/mutant.h"
#include "lib/util/registry.h"
#include "lib/util/spec.h"

#define RMAP_MAX_REGISTERED 16

#define RMAP_WALKER_BUILTIN(n) &rmap_walker_##n##_ops,
static const void *const builtin[] = { RMAP_WALKERS(RMAP_WALKER_BUILTIN) };
#undef RMAP_WALKER_BUILTIN

/* Registered by tests before any thread runs. */
static const void *registered[RMAP_MAX_REGISTERED];
static struct registry registry = REGISTRY_INIT(builtin, registered);

const struct rmap_walker_ops *rmap_walker_nth(int i)
{
	return registry_nth(&registry, i);
}

const struct rmap_walker_ops *rmap_walker_find(const char *name)
{
	return registry_find(&registry, name);
}

int rmap_walker_register(const struct rmap_walker_ops *ops)
{
	return registry_add(&registry, ops);
}

static int walker_option(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct rmap_walker *wk = arg;

	if (!wk->ops->set_option) {
		snprintf(err, errlen, "%s: bad option '%s' (it takes no options)", wk->ops->name,
			 key);
		return -EINVAL;
	}
	return wk->ops->set_option(&wk->o, key, value, err, errlen);
}

int rmap_walker_init(struct rmap_walker *wk, const char *spec,
		     const struct rmap_walk_opts *defaults, char *err, size_t errlen)
{
	char name[SPEC_MAX];

	if (spec_name(spec, name, sizeof(name)) <= 0) {
		snprintf(err, errlen, "'%.40s' does not start with a walker name", spec);
		return -EINVAL;
	}
	wk->ops = rmap_walker_find(name);
	if (!wk->ops) {
		size_t used =
			(size_t)snprintf(err, errlen, "unknown rmap walker '%s' (one of", name);

		registry_append_names(&registry, err, errlen, used);
		return -EINVAL;
	}
	wk->o = *defaults;
	return spec_parse(spec, name, sizeof(name), walker_option, wk, err, errlen);
}

int rmap_init(struct rmap *rm, const struct rmap_options *o, char *err, size_t errlen)
{
	struct srcu_options so;
	int rc;

	memset(rm, 0, sizeof(*rm));
	if (o->ngfns == 0) {
		snprintf(err, errlen, "rmap: at least one gfn is needed");
		return -EINVAL;
	}
	rm->ngfns = o->ngfns;
	rm->cache_max = o->desc_cache;
	rm->step_hook = o->step_hook;
	rm->step_arg = o->step_arg;
	rm->keep_freed = o->keep_freed;
	rm->heads = calloc(o->ngfns, sizeof(*rm->heads));
	if (!rm->heads) {
		snprintf(err, errlen, "rmap: out of memory for %u rmap heads", o->ngfns);
		return -ENOMEM;
	}
	for (uint32_t g = 0; g < o->ngfns; g++)
		atomic_init(&rm->heads[g].val, rmap_nulls(&rm->heads[g]));
	srcu_options_default(&so);
	so.flavour = o->srcu_flavour;
	so.name = "rmap";
	rc = srcu_init(&rm->srcu, &so, err, errlen);
	if (rc) {
		snprintf(err, errlen, "rmap: cannot set up the SRCU domain: %s", strerror(-rc));
		free(rm->heads);
		return rc;
	}
	pthread_mutex_init(&rm->mmu_lock, NULL);
	return 0;
}

/* A point between two writer stores a lockless walker can observe. */
static inline void rmap_step(struct rmap *rm)
{
	if (unlikely(rm->step_hook != NULL))
		rm->step_hook(rm->step_arg);
}

static void desc_free_now(struct rmap_desc *d)
{
	/* relaxed: no reader can reach @d any more (a grace period passed,
	 * or the rmap is being destroyed); one that did would see poison */
	atomic_store_explicit(&d->state, RMAP_DESC_POISON, memory_order_relaxed);
	if (!d->keep)
		free(d);
}

static void desc_free_cb(struct srcu_head *head)
{
	desc_free_now(container_of(head, struct rmap_desc, rcu));
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
	while (rm->kept) {
		struct rmap_desc *d = rm->kept;

		rm->kept = d->cache_next;
		free(d);
	}
	free(rm->heads);
	pthread_mutex_destroy(&rm->mmu_lock);
	return rc ? -EBUSY : 0;
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
		d->keep = false;
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
	if (rm->keep_freed) {
		d->keep = true;
		d->cache_next = rm->kept;
		rm->kept = d;
	}
	/* a lockless walker may stand on @d until its read section ends */
	if (MUTANT(rmap_desc_free_without_gp))
		desc_free_now(d);
	else
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
	if (pos >= RMAP_POS_MAX)
		return -ERANGE;
	d = desc_get(rm, spte, v);
	if (!d)
		return -ENOMEM;
	rmap_step(rm);
	/* release: the desc's slots and link before the head; pairs with the
	 * walkers' acquire load of the head.  The position one above the
	 * old head's is what lockless-pos checks. */
	atomic_store_explicit(&h->val, rmap_link(d, MUTANT(rmap_add_no_position) ? pos : pos + 1),
			      memory_order_release);
	return 0;
}

/* Where @spte is in the list that starts at @v: its desc and slot
 * (relaxed loads: its callers are writers, under mmu_lock). */
static int find_spte(uintptr_t v, spte_t *spte, struct rmap_desc **dp)
{
	for (uintptr_t link = v; !rmap_is_nulls(link);) {
		struct rmap_desc *d = rmap_link_desc(link);

		for (int k = 0; k < RMAP_DESC_SPTES; k++)
			if (atomic_load_explicit(&d->sptes[k], memory_order_relaxed) ==
			    (uintptr_t)spte) {
				*dp = d;
				return k;
			}
		link = atomic_load_explicit(&d->more, memory_order_relaxed);
	}
	return -1;
}

int rmap_remove(struct rmap *rm, uint32_t gfn, spte_t *spte)
{
	struct rmap_head *h = &rm->heads[gfn];
	/* relaxed (all loads here): the writer holds mmu_lock */
	uintptr_t v = atomic_load_explicit(&h->val, memory_order_relaxed);
	struct rmap_desc *first, *d = NULL;
	uintptr_t last;
	int i, j;

	if (rmap_is_nulls(v) || (i = find_spte(v, spte, &d)) < 0)
		return -ENOENT;
	first = rmap_link_desc(v);
	for (j = RMAP_DESC_SPTES - 1; j > 0; j--)
		if (atomic_load_explicit(&first->sptes[j], memory_order_relaxed))
			break;
	last = atomic_load_explicit(&first->sptes[j], memory_order_relaxed);
	/* release (both): a walker that sees the old slot cleared also sees
	 * the entry in the hole it was moved to; pairs with the acquire slot
	 * loads in rmap_desc_protect.  The move comes first, so that the
	 * entry is always in at least one of the two slots. */
	if (MUTANT(rmap_remove_clear_before_move)) {
		atomic_store_explicit(&first->sptes[j], 0, memory_order_release);
		rmap_step(rm);
	}
	if (d != first || i != j) {
		atomic_store_explicit(&d->sptes[i], last, memory_order_release);
		rmap_step(rm);
	}
	if (!MUTANT(rmap_remove_clear_before_move))
		atomic_store_explicit(&first->sptes[j], 0, memory_order_release);
	if (j == 0) {
		rmap_step(rm);
		/* release: pairs with the walkers' acquire load of the head */
		atomic_store_explicit(&h->val,
				      atomic_load_explicit(&first->more, memory_order_relaxed),
				      memory_order_release);
		rmap_step(rm);
		desc_put(rm, first);
	}
	return 0;
}

uint32_t rmap_count(struct rmap *rm, uint32_t gfn)
{
	/* relaxed (all loads here): the caller holds mmu_lock, as writers */
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
	return r->srcu ? 0 : -ENOMEM;
}

void rmap_reader_unregister(struct rmap_reader *r)
{
	if (r->srcu)
		srcu_unregister_reader(r->srcu, NULL, 0);
	r->srcu = NULL;
}
