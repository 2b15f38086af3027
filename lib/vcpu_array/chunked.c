/*
 * vCPU array strategy `chunked` (seed 004): a top array of chunk pointers
 * sized for max_vcpus, and chunks of chunk_size vCPU pointers allocated
 * when the first vCPU of the chunk is created.  A chunk is published with a
 * release store of its pointer and readers test its availability with an
 * acquire load (the seed's WRITE_ONCE/READ_ONCE); chunks never move and are
 * freed only with the VM, so no grace period is needed and a reader may
 * sleep in the loop.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/vcpu_array/vcpu_array.h"

struct chunked_array {
	atomic_uint online;
	uint32_t max;
	uint32_t shift, mask;          /* chunk_size == 1 << shift */
	uint32_t nchunks;              /* top-array length */
	uint32_t allocated;            /* chunks allocated (creator only) */
	_Atomic(struct vcpu **) *chunks;
};

static int chunked_init(struct vcpu_array *a)
{
	uint32_t cs = a->cfg.chunk_size;
	struct chunked_array *c;

	if (cs == 0 || (cs & (cs - 1))) {
		fprintf(stderr, "vcpu-array chunked: chunk size %u is not a power of two\n", cs);
		return -1;
	}
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
	fprintf(stderr, "vcpu-array chunked: out of memory for the chunk table\n");
	free(c);
	return -1;
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

	if (n >= c->max) {
		fprintf(stderr, "vcpu-array chunked: full at %u vCPUs\n", c->max);
		return -1;
	}
	chunk = atomic_load_explicit(&c->chunks[ci], memory_order_relaxed);
	if (!chunk) {
		chunk = calloc((size_t)c->mask + 1, sizeof(*chunk));
		if (!chunk) {
			fprintf(stderr, "vcpu-array chunked: out of memory for a chunk\n");
			return -1;
		}
		c->allocated++;
		/* release: the zeroed chunk before its pointer; pairs with the
		 * acquire loads of chunks[] in chunked_get/for_each */
		atomic_store_explicit(&c->chunks[ci], chunk, memory_order_release);
	}
	chunk[n & c->mask] = v;
	/* release: the entry and the vCPU's initialisation before the count;
	 * pairs with the acquire loads of online */
	atomic_store_explicit(&c->online, n + 1, memory_order_release);
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
	.summary = "chunks allocated when needed and published with release stores; no grace period",
	.uses_srcu = false,
	.init = chunked_init,
	.destroy = chunked_destroy,
	.add = chunked_add,
	.online = chunked_online,
	.get = chunked_get,
	.for_each = chunked_for_each,
	.footprint = chunked_footprint,
};
