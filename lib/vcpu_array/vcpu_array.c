/* The vCPU array strategies' registry and the common layer: see vcpu_array.h. */
#include "lib/vcpu_array/vcpu_array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/mutant.h"
#include "lib/util/registry.h"
#include "lib/util/spec.h"

#define VCPU_ARRAY_MAX_REGISTERED 16

#define VCPU_ARRAY_BUILTIN(n) &vcpu_array_##n##_ops,
static const void *const builtin[] = { VCPU_ARRAY_STRATEGIES(VCPU_ARRAY_BUILTIN) };
#undef VCPU_ARRAY_BUILTIN

/* Registered by tests before any thread runs. */
static const void *registered[VCPU_ARRAY_MAX_REGISTERED];
static struct registry registry = REGISTRY_INIT(builtin, registered);

const char *const vcpu_retire_names[] = { "call", "sync", NULL };

const struct vcpu_array_ops *vcpu_array_nth(int i)
{
	return registry_nth(&registry, i);
}

const struct vcpu_array_ops *vcpu_array_find(const char *name)
{
	return registry_find(&registry, name);
}

int vcpu_array_register(const struct vcpu_array_ops *ops)
{
	return registry_add(&registry, ops);
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

struct spec_ctx {
	const struct vcpu_array_ops *ops;
	struct vcpu_array_config *cfg;
};

static int spec_option(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct spec_ctx *c = arg;

	if (!c->ops->set_option) {
		snprintf(err, errlen, "%s: bad option '%s' (it takes no options)", c->ops->name,
			 key);
		return -EINVAL;
	}
	return c->ops->set_option(c->cfg, key, value, err, errlen);
}

static void unknown_strategy(const char *name, char *err, size_t errlen)
{
	size_t used =
		(size_t)snprintf(err, errlen, "unknown vCPU array strategy '%s' (one of", name);

	registry_append_names(&registry, err, errlen, used);
}

int vcpu_array_parse(const char *spec, struct vcpu_array_config *cfg,
		     const struct vcpu_array_ops **ops, char *err, size_t errlen)
{
	char name[SPEC_MAX];
	struct spec_ctx c = { .cfg = cfg };
	int rc;

	/* the name first, so that an unknown one is named as such */
	if (spec_name(spec, name, sizeof(name)) <= 0) {
		snprintf(err, errlen, "'%.40s' does not start with a strategy name", spec);
		return -EINVAL;
	}
	c.ops = vcpu_array_find(name);
	if (!c.ops) {
		unknown_strategy(name, err, errlen);
		return -EINVAL;
	}
	rc = spec_parse(spec, name, sizeof(name), spec_option, &c, err, errlen);
	if (rc)
		return rc;
	*ops = c.ops;
	return 0;
}

int vcpu_array_check(const struct vcpu_array_ops *ops, const struct vcpu_array_config *cfg,
		     char *err, size_t errlen)
{
	if (cfg->max_vcpus == 0) {
		snprintf(err, errlen, "max_vcpus must be at least 1");
		return -EINVAL;
	}
	if (ops->check && ops->check(cfg, err, errlen))
		return -EINVAL;
	return 0;
}

int vcpu_array_init(struct vcpu_array *a, const struct vcpu_array_ops *ops,
		    const struct vcpu_array_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->ops = ops;
	a->cfg = *cfg;
	rc = vcpu_array_check(ops, cfg, err, errlen);
	if (rc)
		return rc;
	if (ops->uses_srcu) {
		struct srcu_options o;

		srcu_options_default(&o);
		o.name = "vcpu-array";
		o.flavour = cfg->srcu_flavour;
		rc = srcu_init(&a->srcu, &o, err, errlen);
		if (rc) {
			snprintf(err, errlen, "%s: cannot set up the SRCU domain: %s", ops->name,
				 strerror(-rc));
			return rc;
		}
	}
	rc = ops->init(a, err, errlen);
	if (rc && ops->uses_srcu)
		srcu_destroy(&a->srcu, NULL, 0);
	return rc;
}

int vcpu_array_destroy(struct vcpu_array *a)
{
	if (a->ops->uses_srcu) {
		/* the rcu strategy's queued frees touch its state: drain first */
		srcu_barrier(&a->srcu);
		if (srcu_destroy(&a->srcu, NULL, 0))
			return -EBUSY;
	}
	a->ops->destroy(a);
	a->priv = NULL;
	return 0;
}

int vcpu_array_reader_register(struct vcpu_array_reader *r, struct vcpu_array *a, const char *name)
{
	r->a = a;
	r->srcu = NULL;
	r->srcu_idx = 0;
	if (a->ops->uses_srcu) {
		r->srcu = srcu_register_reader(&a->srcu, name, NULL, 0);
		if (!r->srcu)
			return -ENOMEM;
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

int vcpu_array_add(struct vcpu_array *a, struct vcpu *v, uint64_t generation)
{
	/* only the creator adds, so the count cannot move under it */
	uint32_t id = vcpu_array_online(a);
	int rc;

	/* kvm_vm_ioctl_create_vcpu: the vCPU is complete before
	 * kvm->vcpus[i] is set; the strategy's release publication carries
	 * these plain stores to every reader */
	if (!MUTANT(vcpu_array_publish_before_init))
		vcpu_init(v, id, generation);
	rc = a->ops->add(a, v);
	if (MUTANT(vcpu_array_publish_before_init)) {
		vcpu_array_step(a);
		vcpu_init(v, id, generation);
	}
	return rc;
}
