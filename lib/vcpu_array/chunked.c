/*
 * vCPU array strategy `chunked` (David Hildenbrand's suggestion in the 2017
 * thread "[PATCH RFC 2/2] KVM: RCU protected dynamic vcpus array"): a top
 * array of chunk pointers sized for max_vcpus, and chunks of chunk_size
 * vCPU pointers allocated when the first vCPU of the chunk is created.  A
 * chunk is published with a release store of its pointer and readers test
 * its availability with an acquire load (the thread's WRITE_ONCE and
 * READ_ONCE); chunks never move and are freed only with the VM, so no grace
 * period is needed and a reader may sleep in the loop.
 *
 * Readers load the count (acquire) before any chunk pointer, and the count
 * is released after the chunk pointer, so the count's pairing alone orders
 * the chunk for them; the chunk's own release/acquire pair is the thread's
 * WRITE_ONCE/READ_ONCE, kept so that a chunk is safe to follow on its own.
 *
 * Option: chunk-size=N (a power of two).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/mutant.h"
#include "lib/util/spec.h"
#include "lib/vcpu_array/vcpu_array.h"

struct chunked_array {
	atomic_uint online;
	uint32_t max;
	uint32_t shift, mask; /* chunk_size == 1 << shift */
	uint32_t nchunks;     /* top-array length */
	uint32_t allocated;   /* chunks allocated (creator only) */
	_Atomic(struct vcpu **) *chunks;
};

static int chunked_set_option(struct vcpu_array_config *cfg, const char *key, const char *value,
			      char *err, size_t errlen)
{
	if (!strcmp(key, "chunk-size"))
		return spec_option_u32(key, value, 1, 1u << 16, &cfg->chunk_size, err, errlen);
	snprintf(err, errlen, "chunked: bad option '%s' (chunk-size=N)", key);
	return -EINVAL;
}

static int chunked_check(const struct vcpu_array_config *cfg, char *err, size_t errlen)
{
	uint32_t cs = cfg->chunk_size;

	if (cs == 0 || (cs & (cs - 1))) {
		snprintf(err, errlen, "chunked: chunk size %u is not a power of two", cs);
		return -EINVAL;
	}
	return 0;
}

static int chunked_init(struct vcpu_array *a, char *err, size_t errlen)
{
	uint32_t cs = a->cfg.chunk_size;
	struct chunked_array *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		goto oom;
	c->max = a->cfg.max_vcpus;
	c->shift = (uint32_t)__builtin_ctz(cs);
	c->mask = cs - 1;
	c->nchunks = (c->max + cs - 1) / cs;
	c->chunks = calloc(c->nchunks, sizeof(*c->chunks));
	if (!c->chunks)
		goto oom;
	for (uint32_t i = 0; i < c->nchunks; i++)
		atomic_init(&c->chunks[i], NULL);
	atomic_init(&c->online, 0);
	a->priv = c;
	return 0;
oom:
	snprintf(err, errlen, "chunked: out of memory for the chunk table");
	free(c);
	return -ENOMEM;
}

static void chunked_destroy(struct vcpu_array *a)
{
	struct chunked_array *c = a->priv;

	for (uint32_t i = 0; i < c->nchunks; i++)
		free(atomic_load_explicit(&c->chunks[i], memory_order_relaxed));
	free(c->chunks);
	free(c);
}

static int chunked_add(struct vcpu_array *a, struct vcpu *v)
{
	struct chunked_array *c = a->priv;
	/* relaxed: only the creator writes online and the chunk pointers */
	uint32_t n = atomic_load_explicit(&c->online, memory_order_relaxed);
	uint32_t ci = n >> c->shift;
	struct vcpu **chunk;

	if (n >= c->max)
		return -ENOSPC;
	if (MUTANT(vcpu_array_chunked_count_before_entry)) {
		/* mutant: the release below, made before the entry exists */
		atomic_store_explicit(&c->online, n + 1, memory_order_release);
		vcpu_array_step(a);
	}
	chunk = atomic_load_explicit(&c->chunks[ci], memory_order_relaxed);
	if (!chunk) {
		chunk = calloc((size_t)c->mask + 1, sizeof(*chunk));
		if (!chunk)
			return -ENOMEM;
		c->allocated++;
		/* release: the zeroed chunk before its pointer; pairs with the
		 * acquire loads of chunks[] in chunked_get/for_each */
		atomic_store_explicit(&c->chunks[ci], chunk, memory_order_release);
		vcpu_array_step(a);
	}
	chunk[n & c->mask] = v;
	vcpu_array_step(a);
	/* release: the entry and the vCPU's initialisation before the count;
	 * pairs with the acquire loads of online */
	if (!MUTANT(vcpu_array_chunked_count_before_entry))
		atomic_store_explicit(&c->online, n + 1,
				      MUTANT(vcpu_array_chunked_relaxed_publish)
					      ? memory_order_relaxed
					      : memory_order_release);
	return 0;
}

static uint32_t chunked_online(struct vcpu_array *a)
{
	struct chunked_array *c = a->priv;

	/* acquire: pairs with the release store in chunked_add */
	return atomic_load_explicit(&c->online, memory_order_acquire);
}

static struct vcpu *chunked_get(struct vcpu_array *a, uint32_t idx)
{
	struct chunked_array *c = a->priv;
	struct vcpu **chunk;

	/* acquire: pairs with the release store of online in chunked_add */
	if (idx >= atomic_load_explicit(&c->online, memory_order_acquire))
		return NULL;
	/* acquire: pairs with the chunk's release publication */
	chunk = atomic_load_explicit(&c->chunks[idx >> c->shift], memory_order_acquire);
	return chunk ? chunk[idx & c->mask] : NULL;
}

static void chunked_for_each(struct vcpu_array *a, struct vcpu_visit *vis)
{
	struct chunked_array *c = a->priv;
	/* acquire: pairs with the release store of online in chunked_add */
	uint32_t n = atomic_load_explicit(&c->online, memory_order_acquire);
	uint32_t cs = c->mask + 1;

	for (uint32_t base = 0, ci = 0; base < n; base += cs, ci++) {
		/* acquire: pairs with the chunk's release publication */
		struct vcpu **chunk = atomic_load_explicit(&c->chunks[ci], memory_order_acquire);
		uint32_t end = n - base < cs ? n - base : cs;

		if (!chunk)
			break;
		for (uint32_t j = 0; j < end; j++)
			vcpu_visit_one(vis, chunk[j], base + j);
	}
}

static size_t chunked_footprint(struct vcpu_array *a)
{
	struct chunked_array *c = a->priv;

	return sizeof(*c) + (size_t)c->nchunks * sizeof(*c->chunks) +
	       (size_t)c->allocated * ((size_t)c->mask + 1) * sizeof(struct vcpu *);
}

const struct vcpu_array_ops vcpu_array_chunked_ops = {
	.name = "chunked",
	.summary =
		"chunks allocated when needed and published with release stores; no grace period",
	.options_help = "chunk-size=N (a power of two)",
	.uses_srcu = false,
	.set_option = chunked_set_option,
	.check = chunked_check,
	.init = chunked_init,
	.destroy = chunked_destroy,
	.add = chunked_add,
	.online = chunked_online,
	.get = chunked_get,
	.for_each = chunked_for_each,
	.footprint = chunked_footprint,
};
