/*
 * vCPU array strategy `rcu` (the 2017 thread "[PATCH RFC 2/2] KVM: RCU
 * protected dynamic vcpus array"): the array holds exactly the capacity
 * needed so far, doubling on growth.  Growth copies the entries into a new
 * array, publishes it with a release store and retires the old one after an
 * SRCU grace period (a call_srcu callback, or synchronize_srcu inside add()
 * with retire=sync).  The count lives in the array itself, as in the RFC's
 * struct kvm_vcpus { u32 online; struct kvm_vcpu *array[]; }, so a reader
 * always pairs a count with the array it describes.
 *
 * Options: initial-capacity=N, retire=call|sync, srcu-flavour=mb|fast.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/mutant.h"
#include "lib/util/spec.h"
#include "lib/vcpu_array/vcpu_array.h"

/* (footprint_bytes counts these headers: test-only fields sit in what
 * would be padding or replace nothing the strategy needs) */
struct rcu_vcpus {
	atomic_uint poison; /* VCPU_ARRAY_LIVE until retired */
	atomic_uint online;
	uint32_t capacity;
	bool keep; /* keep_retired: poison, do not free */
	struct srcu_head rcu;
	struct rcu_vcpus *kept_next; /* keep_retired: freed by destroy */
	struct vcpu *slots[];
};

struct rcu_array {
	_Atomic(struct rcu_vcpus *) cur;
	uint32_t max;
	bool keep_retired;
	struct rcu_vcpus *kept; /* keep_retired: retired arrays (creator) */
};

static int rcu_set_option(struct vcpu_array_config *cfg, const char *key, const char *value,
			  char *err, size_t errlen)
{
	if (!strcmp(key, "initial-capacity"))
		return spec_option_u32(key, value, 1, 1u << 20, &cfg->initial_capacity, err,
				       errlen);
	for (int i = 0; !strcmp(key, "retire") && vcpu_retire_names[i]; i++)
		if (!strcmp(value, vcpu_retire_names[i])) {
			cfg->retire = (enum vcpu_retire)i;
			return 0;
		}
	for (int i = SRCU_FLAVOUR_MB; !strcmp(key, "srcu-flavour") && i <= SRCU_FLAVOUR_FAST; i++)
		if (!strcmp(value, srcu_flavour_name((enum srcu_flavour)i))) {
			cfg->srcu_flavour = (enum srcu_flavour)i;
			return 0;
		}
	snprintf(err, errlen,
		 "rcu: bad option %s=%s (initial-capacity=N, retire=call|sync, "
		 "srcu-flavour=mb|fast)",
		 key, value);
	return -EINVAL;
}

static size_t rcu_vcpus_bytes(uint32_t capacity)
{
	return sizeof(struct rcu_vcpus) + (size_t)capacity * sizeof(struct vcpu *);
}

/* Zeroed: a slot not yet filled reads NULL, never a stale pointer. */
static struct rcu_vcpus *rcu_vcpus_alloc(uint32_t capacity)
{
	struct rcu_vcpus *t = calloc(1, rcu_vcpus_bytes(capacity));

	if (!t)
		return NULL;
	atomic_init(&t->poison, VCPU_ARRAY_LIVE);
	atomic_init(&t->online, 0);
	t->capacity = capacity;
	return t;
}

static void rcu_vcpus_free(struct rcu_vcpus *t)
{
	/* relaxed: after a grace period no reader can look; a reader that
	 * does (a bug) sees the poison, or ASan sees the free */
	atomic_store_explicit(&t->poison, VCPU_ARRAY_POISON, memory_order_relaxed);
	if (!t->keep)
		free(t);
}

static void rcu_vcpus_free_cb(struct srcu_head *head)
{
	rcu_vcpus_free(container_of(head, struct rcu_vcpus, rcu));
}

static int rcu_init(struct vcpu_array *a, char *err, size_t errlen)
{
	struct rcu_array *r = calloc(1, sizeof(*r));
	uint32_t cap = a->cfg.initial_capacity;
	struct rcu_vcpus *t;

	if (cap == 0 || cap > a->cfg.max_vcpus)
		cap = cap == 0 ? 1 : a->cfg.max_vcpus;
	t = r ? rcu_vcpus_alloc(cap) : NULL;
	if (!t) {
		snprintf(err, errlen, "rcu: out of memory for the first array");
		free(r);
		return -ENOMEM;
	}
	r->max = a->cfg.max_vcpus;
	r->keep_retired = a->cfg.keep_retired;
	atomic_init(&r->cur, t);
	a->priv = r;
	return 0;
}

static void rcu_destroy(struct vcpu_array *a)
{
	struct rcu_array *r = a->priv;

	while (r->kept) {
		struct rcu_vcpus *next = r->kept->kept_next;

		free(r->kept);
		r->kept = next;
	}
	free(atomic_load_explicit(&r->cur, memory_order_relaxed));
	free(r);
}

/* The old array, unpublished: freed once no reader can hold it. */
static void rcu_retire(struct vcpu_array *a, struct rcu_vcpus *old)
{
	struct rcu_array *r = a->priv;

	if (r->keep_retired) {
		old->keep = true;
		old->kept_next = r->kept;
		r->kept = old;
	}
	/* The mutants free at once: without any grace period, or after one
	 * that ran before the array was unpublished (so readers that found
	 * it after that grace period began were not waited for). */
	if (a->cfg.unsafe_retire || MUTANT(vcpu_array_rcu_free_without_gp) ||
	    MUTANT(vcpu_array_rcu_gp_before_unpublish)) {
		rcu_vcpus_free(old);
	} else if (a->cfg.retire == VCPU_RETIRE_SYNC) {
		synchronize_srcu(&a->srcu);
		vcpu_array_step(a);
		rcu_vcpus_free(old);
	} else {
		call_srcu(&a->srcu, &old->rcu, rcu_vcpus_free_cb);
	}
}

/* Publishes @v in place: @t has room. */
static void rcu_append(struct vcpu_array *a, struct rcu_vcpus *t, uint32_t n, struct vcpu *v)
{
	if (MUTANT(vcpu_array_rcu_count_before_entry)) {
		/* mutant: the release below, made before the entry exists */
		atomic_store_explicit(&t->online, n + 1, memory_order_release);
		vcpu_array_step(a);
	}
	t->slots[n] = v;
	vcpu_array_step(a);
	/* release: the entry and the vCPU's initialisation before the count;
	 * pairs with the acquire loads of t->online */
	if (!MUTANT(vcpu_array_rcu_count_before_entry))
		atomic_store_explicit(&t->online, n + 1, memory_order_release);
}

/* Publishes a copy of @t with room to spare and @v in it, then retires @t. */
static int rcu_grow(struct vcpu_array *a, struct rcu_vcpus *t, uint32_t n, struct vcpu *v)
{
	struct rcu_array *r = a->priv;
	uint32_t cap = t->capacity * 2 < r->max ? t->capacity * 2 : r->max;
	struct rcu_vcpus *nt = rcu_vcpus_alloc(cap);

	if (!nt)
		return -ENOMEM;
	if (MUTANT(vcpu_array_rcu_publish_before_copy)) {
		/* mutant: the release below, made before the copy */
		atomic_store_explicit(&r->cur, nt, memory_order_release);
		vcpu_array_step(a);
	}
	for (uint32_t i = 0; i < n; i++)
		nt->slots[i] = t->slots[i];
	nt->slots[n] = v;
	/* relaxed: nt is not published yet; the store of cur below orders it */
	atomic_store_explicit(&nt->online, n + 1, memory_order_relaxed);
	if (MUTANT(vcpu_array_rcu_gp_before_unpublish))
		synchronize_srcu(&a->srcu);
	vcpu_array_step(a);
	/* release: the copied entries, count and vCPU before the pointer;
	 * pairs with the acquire loads of cur in the readers
	 * (rcu_assign_pointer in the RFC) */
	if (!MUTANT(vcpu_array_rcu_publish_before_copy))
		atomic_store_explicit(&r->cur, nt,
				      MUTANT(vcpu_array_rcu_relaxed_publish)
					      ? memory_order_relaxed
					      : memory_order_release);
	vcpu_array_step(a);
	rcu_retire(a, t);
	return 0;
}

static int rcu_add(struct vcpu_array *a, struct vcpu *v)
{
	struct rcu_array *r = a->priv;
	/* relaxed: only the creator writes cur and online */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_relaxed);
	uint32_t n = atomic_load_explicit(&t->online, memory_order_relaxed);

	if (n >= r->max)
		return -ENOSPC;
	if (n < t->capacity) {
		rcu_append(a, t, n, v);
		return 0;
	}
	return rcu_grow(a, t, n, v);
}

static uint32_t rcu_online(struct vcpu_array *a)
{
	struct rcu_array *r = a->priv;
	/* acquire: pairs with the release store of cur in rcu_grow */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_acquire);

	/* acquire: pairs with the release store of online in rcu_append */
	return atomic_load_explicit(&t->online, memory_order_acquire);
}

static struct vcpu *rcu_get(struct vcpu_array *a, uint32_t idx)
{
	struct rcu_array *r = a->priv;
	/* acquire: pairs with the release store of cur in rcu_grow */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_acquire);

	/* acquire: pairs with the release store of online in rcu_append */
	if (idx >= atomic_load_explicit(&t->online, memory_order_acquire))
		return NULL;
	return t->slots[idx];
}

static void rcu_for_each(struct vcpu_array *a, struct vcpu_visit *vis)
{
	struct rcu_array *r = a->priv;
	/* acquire: pairs with the release store of cur in rcu_grow */
	struct rcu_vcpus *t = atomic_load_explicit(&r->cur, memory_order_acquire);
	/* acquire: pairs with the release store of online in rcu_append */
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
	.summary = "array reallocated on growth, republished, old one freed after an SRCU grace "
		   "period",
	.options_help = "initial-capacity=N, retire=call|sync, srcu-flavour=mb|fast",
	.uses_srcu = true,
	.set_option = rcu_set_option,
	.init = rcu_init,
	.destroy = rcu_destroy,
	.add = rcu_add,
	.online = rcu_online,
	.get = rcu_get,
	.for_each = rcu_for_each,
	.footprint = rcu_footprint,
};
