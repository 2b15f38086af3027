/*
 * vCPU array strategy `radix`: the chunked idea extended by one level, as
 * the 2017 thread "[PATCH RFC 2/2] KVM: RCU protected dynamic vcpus array"
 * suggests and as KVM's later xarray does ("KVM: Convert the kvm->vcpus
 * array to a xarray", Linux 5.16).  A root node of
 * 2^radix_bits pointers, allocated with the first vCPU, points to leaves of
 * 2^radix_bits vCPU pointers, each allocated with its first vCPU.  Every
 * node is published with a release store and found with an acquire load;
 * nodes never move and are freed with the VM, so no grace period is needed.
 * Unlike `chunked`, no table is sized for max_vcpus up front.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/mutant.h"
#include "lib/util/spec.h"
#include "lib/vcpu_array/vcpu_array.h"

struct radix_array {
	atomic_uint online;
	uint32_t max;
	uint32_t bits, mask; /* fanout == 1 << bits */
	uint32_t leaves;     /* leaves allocated (creator only) */
	_Atomic(_Atomic(struct vcpu **) *) root;
};

static int radix_set_option(struct vcpu_array_config *cfg, const char *key, const char *value,
			    char *err, size_t errlen)
{
	if (!strcmp(key, "radix-bits"))
		return spec_option_u32(key, value, 1, 15, &cfg->radix_bits, err, errlen);
	snprintf(err, errlen, "radix: bad option '%s' (radix-bits=N)", key);
	return -EINVAL;
}

static int radix_check(const struct vcpu_array_config *cfg, char *err, size_t errlen)
{
	uint32_t bits = cfg->radix_bits;

	if (bits < 1 || bits > 15) {
		snprintf(err, errlen, "radix: %u bits per level is outside 1..15", bits);
		return -EINVAL;
	}
	if (((uint64_t)1 << (2 * bits)) < cfg->max_vcpus) {
		snprintf(err, errlen,
			 "radix: %u bits per level hold %llu vCPUs in two levels, fewer than "
			 "max_vcpus %u",
			 bits, 1ull << (2 * bits), cfg->max_vcpus);
		return -EINVAL;
	}
	return 0;
}

static int radix_init(struct vcpu_array *a, char *err, size_t errlen)
{
	uint32_t bits = a->cfg.radix_bits;
	struct radix_array *x;

	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "radix: out of memory");
		return -ENOMEM;
	}
	x->max = a->cfg.max_vcpus;
	x->bits = bits;
	x->mask = (1u << bits) - 1;
	atomic_init(&x->online, 0);
	atomic_init(&x->root, NULL);
	a->priv = x;
	return 0;
}

static void radix_destroy(struct vcpu_array *a)
{
	struct radix_array *x = a->priv;
	_Atomic(struct vcpu **) *root = atomic_load_explicit(&x->root, memory_order_relaxed);

	if (root) {
		for (uint32_t i = 0; i <= x->mask; i++)
			free(atomic_load_explicit(&root[i], memory_order_relaxed));
		free(root);
	}
	free(x);
}

static int radix_add(struct vcpu_array *a, struct vcpu *v)
{
	struct radix_array *x = a->priv;
	/* relaxed: only the creator writes online, root and the leaf pointers */
	uint32_t n = atomic_load_explicit(&x->online, memory_order_relaxed);
	_Atomic(struct vcpu **) *root = atomic_load_explicit(&x->root, memory_order_relaxed);
	struct vcpu **leaf;

	if (n >= x->max)
		return -ENOSPC;
	if (MUTANT(vcpu_array_radix_count_before_entry)) {
		/* mutant: the release below, made before the entry exists */
		atomic_store_explicit(&x->online, n + 1, memory_order_release);
		vcpu_array_step(a);
	}
	if (!root) {
		root = calloc((size_t)x->mask + 1, sizeof(*root));
		if (!root)
			goto oom;
		for (uint32_t i = 0; i <= x->mask; i++)
			atomic_init(&root[i], NULL);
		/* release: the initialised root before its pointer; pairs with
		 * the acquire loads of x->root */
		atomic_store_explicit(&x->root, root, memory_order_release);
		vcpu_array_step(a);
	}
	leaf = atomic_load_explicit(&root[n >> x->bits], memory_order_relaxed);
	if (!leaf) {
		leaf = calloc((size_t)x->mask + 1, sizeof(*leaf));
		if (!leaf)
			goto oom;
		x->leaves++;
		/* release: the zeroed leaf before its pointer; pairs with the
		 * acquire loads of root[] */
		atomic_store_explicit(&root[n >> x->bits], leaf, memory_order_release);
		vcpu_array_step(a);
	}
	leaf[n & x->mask] = v;
	vcpu_array_step(a);
	/* release: the entry and the vCPU's initialisation before the count;
	 * pairs with the acquire loads of online */
	if (!MUTANT(vcpu_array_radix_count_before_entry))
		atomic_store_explicit(&x->online, n + 1,
				      MUTANT(vcpu_array_radix_relaxed_publish)
					      ? memory_order_relaxed
					      : memory_order_release);
	return 0;
oom:
	return -ENOMEM;
}

static uint32_t radix_online(struct vcpu_array *a)
{
	struct radix_array *x = a->priv;

	/* acquire: pairs with the release store of online in radix_add */
	return atomic_load_explicit(&x->online, memory_order_acquire);
}

static struct vcpu *radix_get(struct vcpu_array *a, uint32_t idx)
{
	struct radix_array *x = a->priv;
	_Atomic(struct vcpu **) *root;
	struct vcpu **leaf;

	/* acquire: pairs with the release store of online in radix_add */
	if (idx >= atomic_load_explicit(&x->online, memory_order_acquire))
		return NULL;
	/* acquire (both): pair with the nodes' release publication */
	root = atomic_load_explicit(&x->root, memory_order_acquire);
	if (!root)
		return NULL;
	leaf = atomic_load_explicit(&root[idx >> x->bits], memory_order_acquire);
	return leaf ? leaf[idx & x->mask] : NULL;
}

static void radix_for_each(struct vcpu_array *a, struct vcpu_visit *vis)
{
	struct radix_array *x = a->priv;
	/* acquire: pairs with the release store of online in radix_add */
	uint32_t n = atomic_load_explicit(&x->online, memory_order_acquire);
	uint32_t fan = x->mask + 1;
	_Atomic(struct vcpu **) *root;

	if (!n)
		return;
	/* acquire: pairs with the root's release publication */
	root = atomic_load_explicit(&x->root, memory_order_acquire);
	if (!root)
		return;
	for (uint32_t base = 0, li = 0; base < n; base += fan, li++) {
		/* acquire: pairs with the leaf's release publication */
		struct vcpu **leaf = atomic_load_explicit(&root[li], memory_order_acquire);
		uint32_t end = n - base < fan ? n - base : fan;

		if (!leaf)
			break;
		for (uint32_t j = 0; j < end; j++)
			vcpu_visit_one(vis, leaf[j], base + j);
	}
}

static size_t radix_footprint(struct vcpu_array *a)
{
	struct radix_array *x = a->priv;
	size_t node = ((size_t)x->mask + 1) * sizeof(void *);

	return sizeof(*x) + (atomic_load_explicit(&x->root, memory_order_relaxed) ? node : 0) +
	       (size_t)x->leaves * node;
}

const struct vcpu_array_ops vcpu_array_radix_ops = {
	.name = "radix",
	.summary = "two-level table (root and leaves allocated when needed), the chunked idea with "
		   "more levels",
	.options_help = "radix-bits=N (1..15)",
	.uses_srcu = false,
	.set_option = radix_set_option,
	.check = radix_check,
	.init = radix_init,
	.destroy = radix_destroy,
	.add = radix_add,
	.online = radix_online,
	.get = radix_get,
	.for_each = radix_for_each,
	.footprint = radix_footprint,
};
