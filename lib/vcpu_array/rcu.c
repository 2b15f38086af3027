/*
 * vCPU array strategy `rcu` (the 2017 RFC "RCU protected dynamic vcpus
 * array"): the array holds exactly the capacity needed so far, doubling on
 * growth.  Growth copies the entries into a new array, publishes it with a
 * release store and retires the old one after an SRCU grace period (a
 * call_srcu callback, or synchronize_srcu inside add() with
 * retire = VCPU_RETIRE_SYNC).  The count lives in the array itself, as in
 * the RFC's struct kvm_vcpus { u32 online; struct kvm_vcpu *array[]; }, so a
 * reader always pairs a count with the array it describes.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/vcpu_array/vcpu_array.h"

struct rcu_vcpus {
	atomic_uint poison;            /* VCPU_ARRAY_LIVE until retired */
	atomic_uint online;
	uint32_t capacity;
	struct srcu_head rcu;
	struct rcu_vcpus *unsafe_next; /* unsafe_retire: kept until destroy */
	struct vcpu *slots[];
};

struct rcu_array {
	_Atomic(struct rcu_vcpus *) cur;
	uint32_t max;
	struct rcu_vcpus *unsafe_retired;
};

static size_t rcu_vcpus_bytes(uint32_t capacity)
{
	return sizeof(struct rcu_vcpus) + (size_t)capacity * sizeof(struct vcpu *);
}

static struct rcu_vcpus *rcu_vcpus_alloc(uint32_t capacity)
{
	struct rcu_vcpus *t = malloc(rcu_vcpus_bytes(capacity));

	if (!t)
		return NULL;
	atomic_init(&t->poison, VCPU_ARRAY_LIVE);
	atomic_init(&t->online, 0);
	t->capacity = capacity;
	t->unsafe_next = NULL;
	return t;
}

static void rcu_vcpus_free(struct rcu_vcpus *t)
{
	/* relaxed: after a grace period no reader can look; a reader that
	 * does (a bug) sees the poison, or ASan sees the free */
	atomic_store_explicit(&t->poison, VCPU_ARRAY_POISON, memory_order_relaxed);
	free(t);
}

static void rcu_vcpus_free_cb(struct srcu_head *head)
{
	rcu_vcpus_free((struct rcu_vcpus *)((char *)head - offsetof(struct rcu_vcpus, rcu)));
}

static int rcu_init(struct vcpu_array *a)
{
	struct rcu_array *r = calloc(1, sizeof(*r));
	uint32_t cap = a->cfg.initial_capacity;
	struct rcu_vcpus *t;

	if (cap == 0 || cap > a->cfg.max_vcpus)
		cap = cap == 0 ? 1 : a->cfg.max_vcpus;
	t = r ? rcu_vcpus_alloc(cap) : NULL;
	if (!t) {
		fprintf(stderr, "vcpu-array rcu: out of memory for the first array\n");
		free(r);
		return -1;
	}
	r->max = a->cfg.max_vcpus;
	atomic_init(&r->cur, t);
	a->priv = r;
	return 0;
}

static void rcu_destroy(struct vcpu_array *a)
{
	struct rcu_array *r = a->priv;

	while (r->unsafe_retired) {
		struct rcu_vcpus *next = r->unsafe_retired->unsafe_next;

		free(r->unsafe_retired);
		r->unsafe_retired = next;
	}
	free(atomic_load_explicit(&r->cur, memory_order_relaxed));
	free(r);
}

static void rcu_retire(struct vcpu_array *a, struct rcu_vcpus *old)
{
	struct rcu_array *r = a->priv;

	if (a->cfg.unsafe_retire) {
		/* fault injection: poison without waiting for readers */
		atomic_store_explicit(&old->poison, VCPU_ARRAY_POISON, memory_order_relaxed);
		old->unsafe_next = r->unsafe_retired;
		r->unsafe_retired = old;
	} else if (a->cfg.retire == VCPU_RETIRE_SYNC) {
		synchronize_srcu(&a->srcu);
		rcu_vcpus_free(old);
	} else {
		call_srcu(&a->srcu, &old->rcu, rcu_vcpus_free_cb);
	}
}

static int rcu_add(struct vcpu_array *a, struct vcpu *v)
{
	struct rcu_array *r = a->priv;
	/* relaxed: only the creator writes cur and online */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_relaxed);
	uint32_t n = atomic_load_explicit(&t->online, memory_order_relaxed);
	struct rcu_vcpus *nt;
	uint32_t cap;

	if (n >= r->max) {
		fprintf(stderr, "vcpu-array rcu: full at %u vCPUs\n", r->max);
		return -1;
	}
	if (n < t->capacity) {
		t->slots[n] = v;
		/* release: the entry and the vCPU's initialisation before the
		 * count; pairs with the acquire loads of t->online */
		atomic_store_explicit(&t->online, n + 1, memory_order_release);
		return 0;
	}
	cap = t->capacity * 2 < r->max ? t->capacity * 2 : r->max;
	nt = rcu_vcpus_alloc(cap);
	if (!nt) {
		fprintf(stderr, "vcpu-array rcu: out of memory growing to %u vCPUs\n", cap);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		nt->slots[i] = t->slots[i];
	nt->slots[n] = v;
	atomic_init(&nt->online, n + 1);
	/* release: the copied entries, count and vCPU before the pointer;
	 * pairs with the acquire loads of cur in the readers */
	atomic_store_explicit(&r->cur, nt, memory_order_release);
	rcu_retire(a, t);
	return 0;
}

static uint32_t rcu_online(struct vcpu_array *a)
{
	struct rcu_array *r = a->priv;
	/* acquire: pairs with the release store of cur in rcu_add */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_acquire);

	/* acquire: pairs with the release store of online in rcu_add */
	return atomic_load_explicit(&t->online, memory_order_acquire);
}

static struct vcpu *rcu_get(struct vcpu_array *a, uint32_t idx)
{
	struct rcu_array *r = a->priv;
	/* acquire: pairs with the release store of cur in rcu_add */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_acquire);

	/* acquire: pairs with the release store of online in rcu_add */
	if (idx >= atomic_load_explicit(&t->online, memory_order_acquire))
		return NULL;
	return t->slots[idx];
}

static void rcu_for_each(struct vcpu_array *a, struct vcpu_visit *vis)
{
	struct rcu_array *r = a->priv;
	/* acquire: pairs with the release store of cur in rcu_add */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_acquire);
	/* acquire: pairs with the release store of online in rcu_add */
	uint32_t n = atomic_load_explicit(&t->online, memory_order_acquire);

	for (uint32_t i = 0; i < n; i++)
		vcpu_visit_one(vis, t->slots[i], i);
	/* relaxed: a retired array is poisoned only after every read section
	 * that could hold it has ended; seeing the poison here is a bug */
	if (atomic_load_explicit(&t->poison, memory_order_relaxed) != VCPU_ARRAY_LIVE)
		vis->bad_array++;
}

static size_t rcu_footprint(struct vcpu_array *a)
{
	struct rcu_array *r = a->priv;
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_relaxed);

	return sizeof(*r) + rcu_vcpus_bytes(t->capacity);
}

const struct vcpu_array_ops vcpu_array_rcu_ops = {
	.name = "rcu",
	.summary = "array reallocated on growth, republished, old one freed after an SRCU grace period",
	.uses_srcu = true,
	.init = rcu_init,
	.destroy = rcu_destroy,
	.add = rcu_add,
	.online = rcu_online,
	.get = rcu_get,
	.for_each = rcu_for_each,
	.footprint = rcu_footprint,
};
