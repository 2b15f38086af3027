/*
 * The VM's array of vCPUs (seed 004): how "for each vCPU" and "vCPU number
 * i" find the vCPUs while another thread creates more of them.
 *
 * KVM kept `struct kvm_vcpu *vcpus[KVM_MAX_VCPUS]` in struct kvm, which
 * costs memory for every VM once KVM_MAX_VCPUS is large.  The 2017
 * discussion compared an array reallocated on growth and republished under
 * (S)RCU with chunks published by WRITE_ONCE that never move; KVM later
 * moved to an xarray, a radix tree.  Each strategy here is one table of
 * operations (struct vcpu_array_ops), chosen by name:
 *
 *   fixed    one pointer array sized for max_vcpus, allocated up front
 *   rcu      an array of exactly the needed capacity (doubling); growth
 *            copies it, publishes the copy, and frees the old one after an
 *            SRCU grace period
 *   chunked  a top array of chunk pointers sized for max_vcpus; chunks of
 *            chunk_size entries allocated when first needed and published
 *            with a release store; nothing ever moves or is freed early
 *   radix    the chunked idea with one more level: a root of 2^radix_bits
 *            node pointers, itself allocated when needed, each node holding
 *            2^radix_bits vCPU pointers
 *
 * Publication protocol (all strategies): the creator fully initialises a
 * struct vcpu (magic, id, generation) before add(); add() stores the vCPU
 * pointer, then publishes the new count with a release store.  Readers load
 * the count with acquire and only then read entries below it, so a reader
 * never sees a half-initialised vCPU.
 *
 * Concurrency contract: add() is called by one thread at a time (KVM holds
 * kvm->lock); online(), get() and for_each() may run concurrently with it
 * from any number of threads, each inside vcpu_array_read_lock/unlock.
 */
#ifndef DLBENCH_VCPU_ARRAY_H
#define DLBENCH_VCPU_ARRAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/srcu/srcu.h"

#define VCPU_MAGIC_LIVE 0x76637075u     /* "vcpu": set before publication */
#define VCPU_ARRAY_LIVE 0x41525259u     /* a published array or node */
#define VCPU_ARRAY_POISON 0xdeadbeefu   /* written into retired arrays */

enum vcpu_mode {
	VCPU_OUTSIDE_GUEST,
	VCPU_IN_GUEST,
};

struct vcpu {
	_Alignas(64) uint32_t magic;     /* VCPU_MAGIC_LIVE once initialised */
	uint32_t id;                     /* its index in the array */
	uint64_t generation;             /* which VM instance created it */
	atomic_int mode;                 /* enum vcpu_mode, read by kicks */
};

/* How the rcu strategy waits before freeing a replaced array. */
enum vcpu_retire {
	VCPU_RETIRE_CALL,   /* call_srcu: the creator does not wait */
	VCPU_RETIRE_SYNC,   /* synchronize_srcu inside add() */
};

struct vcpu_array_config {
	uint32_t max_vcpus;          /* KVM_MAX_VCPUS */
	uint32_t chunk_size;         /* chunked: entries per chunk, power of two */
	uint32_t radix_bits;         /* radix: log2 of each level's fanout */
	uint32_t initial_capacity;   /* rcu: capacity of the first array */
	enum vcpu_retire retire;     /* rcu */
	enum srcu_flavour srcu_flavour;   /* rcu: read side of the domain */
	/* Fault injection for the tests only: the rcu strategy poisons a
	 * replaced array at once instead of after a grace period (the memory
	 * itself stays allocated until destroy, so the readers that still use
	 * it see the poison instead of crashing).  Proves that the tests'
	 * freed-array check can fail. */
	bool unsafe_retire;
};

/* Filled by for_each(); checked by the tests, summed by the workload. */
struct vcpu_visit {
	uint64_t visited;      /* vCPUs visited */
	uint64_t in_guest;     /* of which in guest mode: those a kick would IPI */
	uint64_t bad_array;    /* passes that found their array poisoned */
	/* Called on each visited vCPU with its index when non-NULL (tests);
	 * the benchmark leaves it NULL. */
	void (*check)(const struct vcpu *v, uint32_t idx, void *arg);
	void *arg;
};

struct vcpu_array;

struct vcpu_array_ops {
	const char *name;
	const char *summary;
	bool uses_srcu;      /* readers need an SRCU read section */
	/* Allocates the strategy's state into a->priv; returns -1 with a
	 * one-line message on stderr on error (bad config, no memory). */
	int (*init)(struct vcpu_array *a);
	/* Frees everything; no reader may run.  Does not free the vCPUs. */
	void (*destroy)(struct vcpu_array *a);
	/* Appends @v, whose id must equal online(); returns -1 with a message
	 * when the array is full or memory runs out. */
	int (*add)(struct vcpu_array *a, struct vcpu *v);
	/* Reader side, inside a read section. */
	uint32_t (*online)(struct vcpu_array *a);
	struct vcpu *(*get)(struct vcpu_array *a, uint32_t idx);   /* NULL if idx >= online */
	void (*for_each)(struct vcpu_array *a, struct vcpu_visit *vis);
	/* Bytes the array structure occupies now (not the vCPUs); creator
	 * side, not concurrently with add(). */
	size_t (*footprint)(struct vcpu_array *a);
};

struct vcpu_array {
	const struct vcpu_array_ops *ops;
	struct vcpu_array_config cfg;
	struct srcu_struct srcu;     /* initialised when ops->uses_srcu */
	void *priv;
};

/* A reader thread's handle: registered with the array's SRCU domain when
 * the strategy uses one. */
struct vcpu_array_reader {
	struct vcpu_array *a;
	struct srcu_reader *srcu;    /* NULL for strategies without SRCU */
	int srcu_idx;
};

/* The registered strategies, NULL-terminated, and their names (for
 * cli_choice). */
extern const struct vcpu_array_ops *const vcpu_array_strategies[];
extern const char *const vcpu_array_strategy_names[];
const struct vcpu_array_ops *vcpu_array_find(const char *name);

void vcpu_array_config_default(struct vcpu_array_config *cfg);
/* Returns 0, or -1 with a one-line message on stderr. */
int vcpu_array_init(struct vcpu_array *a, const struct vcpu_array_ops *ops,
		    const struct vcpu_array_config *cfg);
/* Waits for pending grace-period frees, then frees the strategy state.
 * Every reader must have been unregistered. */
int vcpu_array_destroy(struct vcpu_array *a);

int vcpu_array_reader_register(struct vcpu_array_reader *r, struct vcpu_array *a,
			       const char *name);
void vcpu_array_reader_unregister(struct vcpu_array_reader *r);

static inline void vcpu_array_read_lock(struct vcpu_array_reader *r)
{
	if (r->srcu)
		r->srcu_idx = srcu_read_lock(r->srcu);
}

static inline void vcpu_array_read_unlock(struct vcpu_array_reader *r)
{
	if (r->srcu)
		srcu_read_unlock(r->srcu, r->srcu_idx);
}

/* Initialises @v as vCPU @id of VM instance @generation, ready to add. */
void vcpu_init(struct vcpu *v, uint32_t id, uint64_t generation);

/*
 * The per-vCPU step of "kick all vCPUs": a kick sends an IPI only to vCPUs
 * in guest mode, so it reads the mode; the emulation stops there (no write)
 * so that iterator threads measure the array walk, not cache-line
 * ping-pong on the vCPUs.  Inline so that each strategy's loop is compiled
 * with it.
 */
static inline void vcpu_visit_one(struct vcpu_visit *vis, const struct vcpu *v,
				  uint32_t idx)
{
	vis->visited++;
	/* relaxed: the mode is a hint, as in kvm_vcpu_kick */
	if (atomic_load_explicit(&v->mode, memory_order_relaxed) == VCPU_IN_GUEST)
		vis->in_guest++;
	if (vis->check)
		vis->check(v, idx, vis->arg);
}

/* Strategy tables, one per lib/vcpu_array_<name>.c. */
extern const struct vcpu_array_ops vcpu_array_fixed_ops;
extern const struct vcpu_array_ops vcpu_array_rcu_ops;
extern const struct vcpu_array_ops vcpu_array_chunked_ops;
extern const struct vcpu_array_ops vcpu_array_radix_ops;

#endif
