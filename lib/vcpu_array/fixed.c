/*
 * vCPU array strategy `fixed`: KVM's original `vcpus[KVM_MAX_VCPUS]`, one
 * pointer per possible vCPU allocated when the VM is created.  Nothing is
 * ever reallocated, so readers need no protection beyond the acquire load
 * of the count (kvm_get_vcpu's smp_rmb after reading online_vcpus).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/util/mutant.h"
#include "lib/vcpu_array/vcpu_array.h"

struct fixed_array {
	atomic_uint online; /* kvm->online_vcpus */
	uint32_t max;
	struct vcpu **slots; /* max entries */
};

static int fixed_init(struct vcpu_array *a, char *err, size_t errlen)
{
	struct fixed_array *f = calloc(1, sizeof(*f));

	if (f)
		f->slots = calloc(a->cfg.max_vcpus, sizeof(*f->slots));
	if (!f || !f->slots) {
		snprintf(err, errlen, "fixed: out of memory for %u vCPU slots", a->cfg.max_vcpus);
		free(f);
		return -ENOMEM;
	}
	f->max = a->cfg.max_vcpus;
	atomic_init(&f->online, 0);
	a->priv = f;
	return 0;
}

static void fixed_destroy(struct vcpu_array *a)
{
	struct fixed_array *f = a->priv;

	free(f->slots);
	free(f);
}

static int fixed_add(struct vcpu_array *a, struct vcpu *v)
{
	struct fixed_array *f = a->priv;
	/* relaxed: only the (single) creator writes online */
	uint32_t n = atomic_load_explicit(&f->online, memory_order_relaxed);

	if (n >= f->max)
		return -ENOSPC;
	if (MUTANT(vcpu_array_fixed_count_before_entry)) {
		/* mutant: the release below, made before the entry exists */
		atomic_store_explicit(&f->online, n + 1, memory_order_release);
		vcpu_array_step(a);
	}
	f->slots[n] = v;
	vcpu_array_step(a);
	/* release: the slot and the vCPU's initialisation before the count
	 * (kvm_vm_ioctl_create_vcpu's smp_wmb before atomic_inc of
	 * online_vcpus); pairs with the acquire loads of online in
	 * fixed_online/get/for_each */
	if (!MUTANT(vcpu_array_fixed_count_before_entry))
		atomic_store_explicit(&f->online, n + 1,
				      MUTANT(vcpu_array_fixed_relaxed_publish)
					      ? memory_order_relaxed
					      : memory_order_release);
	return 0;
}

static uint32_t fixed_online(struct vcpu_array *a)
{
	struct fixed_array *f = a->priv;

	/* acquire: pairs with the release store in fixed_add */
	return atomic_load_explicit(&f->online, memory_order_acquire);
}

static struct vcpu *fixed_get(struct vcpu_array *a, uint32_t idx)
{
	struct fixed_array *f = a->priv;

	/* acquire: pairs with the release store in fixed_add */
	if (idx >= atomic_load_explicit(&f->online, memory_order_acquire))
		return NULL;
	return f->slots[idx];
}

static void fixed_for_each(struct vcpu_array *a, struct vcpu_visit *vis)
{
	struct fixed_array *f = a->priv;
	/* acquire: pairs with the release store in fixed_add */
	uint32_t n = atomic_load_explicit(&f->online, memory_order_acquire);
	struct vcpu **slots = f->slots;

	for (uint32_t i = 0; i < n; i++)
		vcpu_visit_one(vis, slots[i], i);
}

static size_t fixed_footprint(struct vcpu_array *a)
{
	struct fixed_array *f = a->priv;

	return sizeof(*f) + (size_t)f->max * sizeof(*f->slots);
}

const struct vcpu_array_ops vcpu_array_fixed_ops = {
	.name = "fixed",
	.summary = "one pointer array sized for max_vcpus, allocated up front",
	.uses_srcu = false,
	.init = fixed_init,
	.destroy = fixed_destroy,
	.add = fixed_add,
	.online = fixed_online,
	.get = fixed_get,
	.for_each = fixed_for_each,
	.footprint = fixed_footprint,
};
