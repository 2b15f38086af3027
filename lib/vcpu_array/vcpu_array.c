/* The vCPU array strategies' registry and the common layer: see vcpu_array.h. */
#include "lib/vcpu_array/vcpu_array.h"

#include <stdio.h>
#include <string.h>

const struct vcpu_array_ops *const vcpu_array_strategies[] = {
	&vcpu_array_fixed_ops,
	&vcpu_array_rcu_ops,
	&vcpu_array_chunked_ops,
	&vcpu_array_radix_ops,
	NULL,
};

const char *const vcpu_array_strategy_names[] = {
	"fixed", "rcu", "chunked", "radix", NULL,
};

const struct vcpu_array_ops *vcpu_array_find(const char *name)
{
	for (int i = 0; vcpu_array_strategies[i]; i++)
		if (!strcmp(vcpu_array_strategies[i]->name, name))
			return vcpu_array_strategies[i];
	return NULL;
}

void vcpu_array_config_default(struct vcpu_array_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_vcpus = 4096;
	cfg->chunk_size = 128;
	cfg->radix_bits = 6;
	cfg->initial_capacity = 16;
	cfg->retire = VCPU_RETIRE_CALL;
	cfg->srcu_flavour = SRCU_FLAVOUR_MB;
}

int vcpu_array_init(struct vcpu_array *a, const struct vcpu_array_ops *ops,
		    const struct vcpu_array_config *cfg)
{
	memset(a, 0, sizeof(*a));
	a->ops = ops;
	a->cfg = *cfg;
	if (cfg->max_vcpus == 0) {
		fprintf(stderr, "vcpu-array: max_vcpus must be at least 1\n");
		return -1;
	}
	if (ops->uses_srcu) {
		struct srcu_options o;

		srcu_options_default(&o);
		o.name = "vcpu-array";
		o.flavour = cfg->srcu_flavour;
		if (srcu_init(&a->srcu, &o, NULL, 0))
			return -1;
	}
	if (ops->init(a)) {
		if (ops->uses_srcu)
			srcu_destroy(&a->srcu, NULL, 0);
		return -1;
	}
	return 0;
}

int vcpu_array_destroy(struct vcpu_array *a)
{
	if (a->ops->uses_srcu) {
		/* the rcu strategy's queued frees touch its state: drain first */
		srcu_barrier(&a->srcu);
		if (srcu_destroy(&a->srcu, NULL, 0))
			return -1;
	}
	a->ops->destroy(a);
	a->priv = NULL;
	return 0;
}

int vcpu_array_reader_register(struct vcpu_array_reader *r, struct vcpu_array *a,
			       const char *name)
{
	r->a = a;
	r->srcu = NULL;
	r->srcu_idx = 0;
	if (a->ops->uses_srcu) {
		r->srcu = srcu_register_reader(&a->srcu, name, NULL, 0);
		if (!r->srcu)
			return -1;
	}
	return 0;
}

void vcpu_array_reader_unregister(struct vcpu_array_reader *r)
{
	if (r->srcu)
		srcu_unregister_reader(r->srcu, NULL, 0);
	r->srcu = NULL;
}

void vcpu_init(struct vcpu *v, uint32_t id, uint64_t generation)
{
	v->magic = VCPU_MAGIC_LIVE;
	v->id = id;
	v->generation = generation;
	atomic_init(&v->mode, VCPU_OUTSIDE_GUEST);
}
