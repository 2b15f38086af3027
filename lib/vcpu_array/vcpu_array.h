/*
 * The VM's array of vCPUs: how "for each vCPU" and "vCPU number i" find the
 * vCPUs while another thread creates more of them.
 *
 * KVM kept `struct kvm_vcpu *vcpus[KVM_MAX_VCPUS]` in struct kvm, which
 * costs memory for every VM once KVM_MAX_VCPUS is large.  The 2017 thread
 * "[PATCH RFC 2/2] KVM: RCU protected dynamic vcpus array" compared an
 * array reallocated on growth and republished under (S)RCU with chunks
 * published by WRITE_ONCE that never move; KVM later moved to an xarray
 * (Linux 5.16, "KVM: Convert the kvm->vcpus array to a xarray"), a radix
 * tree.  Each
 * strategy here is one table of operations (struct vcpu_array_ops), chosen
 * by name:
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
 * Strategies are named NAME[:KEY=VALUE,...] (lib/util/spec.h); the options
 * a strategy takes set fields of struct vcpu_array_config (chunked:
 * chunk-size; radix: radix-bits; rcu: initial-capacity, retire,
 * srcu-flavour).
 *
 * Publication protocol (all strategies, kvm_vm_ioctl_create_vcpu's order):
 * vcpu_array_add fully initialises the struct vcpu (magic, id, generation)
 * before the strategy stores its pointer, and the strategy stores the
 * pointer before it publishes the new count with a release store.  Readers
 * load the count with acquire and only then read entries below it, so a
 * reader never sees a half-initialised vCPU nor an entry that is not there
 * yet.
 *
 * Concurrency contract: vcpu_array_add is called by one thread at a time
 * (KVM holds kvm->lock); online, get and for_each may run concurrently
 * with it from any number of threads, each inside
 * vcpu_array_read_lock/unlock.
 */
#ifndef DLBENCH_VCPU_ARRAY_H
#define DLBENCH_VCPU_ARRAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/srcu/srcu.h"
#include "lib/util/compiler.h"

/* The built-in strategies, one line each: the ops table of strategy N is
 * vcpu_array_N_ops, in lib/vcpu_array/N.c. */
#define VCPU_ARRAY_STRATEGIES(X) X(fixed) X(rcu) X(chunked) X(radix)

#define VCPU_MAGIC_LIVE 0x76637075u   /* "vcpu": set before publication */
#define VCPU_ARRAY_LIVE 0x41525259u   /* a published array or node */
#define VCPU_ARRAY_POISON 0xdeadbeefu /* written into retired arrays */

/* clang-format off */
enum vcpu_mode {
	VCPU_OUTSIDE_GUEST,
	VCPU_IN_GUEST,
};
/* clang-format on */

struct vcpu {
	_Alignas(CACHELINE) uint32_t magic; /* VCPU_MAGIC_LIVE once initialised */
	uint32_t id;			    /* its index in the array */
	uint64_t generation;		    /* which VM instance created it */
	atomic_int mode;		    /* enum vcpu_mode, read by kicks */
};

/* How the rcu strategy waits before freeing a replaced array. */
/* clang-format off */
enum vcpu_retire {
	VCPU_RETIRE_CALL,   /* call_srcu: the creator does not wait */
	VCPU_RETIRE_SYNC,   /* synchronize_srcu inside add() */
};
/* clang-format on */

/* "call", "sync": the values of the rcu strategy's retire option. */
extern const char *const vcpu_retire_names[];

struct vcpu_array_config {
	uint32_t max_vcpus;		/* KVM_MAX_VCPUS */
	uint32_t chunk_size;		/* chunked: entries per chunk, power of two */
	uint32_t radix_bits;		/* radix: log2 of each level's fanout */
	uint32_t initial_capacity;	/* rcu: capacity of the first array */
	enum vcpu_retire retire;	/* rcu */
	enum srcu_flavour srcu_flavour; /* rcu: read side of the domain */

	/* ---- for the tests only (zero in the benchmark) ---- */
	/* Called by vcpu_array_add between every two of its steps that a
	 * reader can observe (and around the rcu strategy's grace period), so
	 * that a test can look at the array as a reader would at each point:
	 * the window of every publication-order bug opened every time. */
	void (*step_hook)(void *arg);
	void *step_arg;
	/* A retired rcu array is poisoned when it would be freed, but its
	 * memory is kept until destroy: a reader that still holds it (a bug)
	 * reads the poison, well-defined, instead of freed memory. */
	bool keep_retired;
	/* Fault injection: the rcu strategy retires a replaced array at once,
	 * without a grace period.  Proves the tests' freed-array check can
	 * fail (with keep_retired, so that the proof stays well-defined). */
	bool unsafe_retire;
};

/* Filled by for_each; checked by the tests, summed by the workload. */
struct vcpu_visit {
	uint64_t visited;   /* vCPUs visited */
	uint64_t in_guest;  /* of which in guest mode: those a kick would IPI */
	uint64_t bad_array; /* passes that found their array poisoned */
	/* Called on each visited vCPU with its index when non-NULL (tests);
	 * the benchmark leaves it NULL. */
	void (*check)(const struct vcpu *v, uint32_t idx, void *arg);
	void *arg;
};

struct vcpu_array;

struct vcpu_array_ops {
	const char *name;
	const char *summary;
	const char *options_help; /* "KEY=VALUE,..." it takes; NULL: none */
	bool uses_srcu;		  /* readers need an SRCU read section */
	/* Optional: applies one KEY=VALUE of the spec to @cfg; 0, or -EINVAL
	 * with one line in @err. */
	int (*set_option)(struct vcpu_array_config *cfg, const char *key, const char *value,
			  char *err, size_t errlen);
	/* Optional: checks @cfg (creates nothing); 0 or -EINVAL with a line. */
	int (*check)(const struct vcpu_array_config *cfg, char *err, size_t errlen);
	/* Allocates the strategy's state into a->priv (a->cfg passed check);
	 * 0, or -ENOMEM with a line in @err. */
	int (*init)(struct vcpu_array *a, char *err, size_t errlen);
	/* Frees everything; no reader may run.  Does not free the vCPUs. */
	void (*destroy)(struct vcpu_array *a);
	/* Publishes @v (initialised, v->id == the count); 0, -ENOSPC when the
	 * array is full, -ENOMEM. */
	int (*add)(struct vcpu_array *a, struct vcpu *v);
	/* Reader side, inside a read section. */
	uint32_t (*online)(struct vcpu_array *a);
	struct vcpu *(*get)(struct vcpu_array *a, uint32_t idx); /* NULL if idx >= online */
	void (*for_each)(struct vcpu_array *a, struct vcpu_visit *vis);
	/* Bytes the array structure occupies now (not the vCPUs); creator
	 * side, not concurrently with add. */
	size_t (*footprint)(struct vcpu_array *a);
};

struct vcpu_array {
	const struct vcpu_array_ops *ops;
	struct vcpu_array_config cfg;
	struct srcu_struct srcu; /* initialised when ops->uses_srcu */
	void *priv;
};

/* A reader thread's handle: registered with the array's SRCU domain when
 * the strategy uses one. */
struct vcpu_array_reader {
	struct vcpu_array *a;
	struct srcu_reader *srcu; /* NULL for strategies without SRCU */
	int srcu_idx;
};

/* ---- registry ---- */

#define VCPU_ARRAY_DECLARE_OPS(n) extern const struct vcpu_array_ops vcpu_array_##n##_ops;
VCPU_ARRAY_STRATEGIES(VCPU_ARRAY_DECLARE_OPS)
#undef VCPU_ARRAY_DECLARE_OPS

/* The i-th strategy (built-ins, then registered ones); NULL past the end. */
const struct vcpu_array_ops *vcpu_array_nth(int i);
const struct vcpu_array_ops *vcpu_array_find(const char *name);
/* Adds a strategy (tests); -EEXIST if the name is taken, -ENOSPC if full.
 * Before any thread uses the registry. */
int vcpu_array_register(const struct vcpu_array_ops *ops);
#define vcpu_array_foreach(ops, i) for ((i) = 0; ((ops) = vcpu_array_nth(i)); (i)++)

/* ---- set-up ---- */

void vcpu_array_config_default(struct vcpu_array_config *cfg);
/*
 * Resolves @spec (NAME[:KEY=VALUE,...]): the strategy into *@ops, its
 * options applied over @cfg.  0, or -EINVAL with one line in @err.
 */
int vcpu_array_parse(const char *spec, struct vcpu_array_config *cfg,
		     const struct vcpu_array_ops **ops, char *err, size_t errlen);
/* Whether @ops can run with @cfg (creates nothing); 0, or -EINVAL with one
 * line in @err.  vcpu_array_init checks the same. */
int vcpu_array_check(const struct vcpu_array_ops *ops, const struct vcpu_array_config *cfg,
		     char *err, size_t errlen);
/* 0, or -errno with one line in @err. */
int vcpu_array_init(struct vcpu_array *a, const struct vcpu_array_ops *ops,
		    const struct vcpu_array_config *cfg, char *err, size_t errlen);
/* Waits for pending grace-period frees, then frees the strategy state.
 * Every reader must have been unregistered; -EBUSY otherwise. */
int vcpu_array_destroy(struct vcpu_array *a);

int vcpu_array_reader_register(struct vcpu_array_reader *r, struct vcpu_array *a, const char *name);
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

/* ---- the operations ---- */

/*
 * Creator side: initialises @v as the next vCPU (its id is the current
 * count) of VM instance @generation, outside guest mode, and publishes it.
 * 0, -ENOSPC when max_vcpus exist, -ENOMEM.
 */
int vcpu_array_add(struct vcpu_array *a, struct vcpu *v, uint64_t generation);

static inline const char *vcpu_array_name(const struct vcpu_array *a)
{
	return a->ops->name;
}

/* Reader side, inside a read section. */
static inline uint32_t vcpu_array_online(struct vcpu_array *a)
{
	return a->ops->online(a);
}

static inline struct vcpu *vcpu_array_get(struct vcpu_array *a, uint32_t idx)
{
	return a->ops->get(a, idx);
}

static inline void vcpu_array_for_each(struct vcpu_array *a, struct vcpu_visit *vis)
{
	a->ops->for_each(a, vis);
}

/* Creator side, not concurrently with add. */
static inline size_t vcpu_array_footprint(struct vcpu_array *a)
{
	return a->ops->footprint(a);
}

/* ---- for the strategies ---- */

/* Initialises @v as vCPU @id of VM instance @generation. */
void vcpu_init(struct vcpu *v, uint32_t id, uint64_t generation);

/* A point between two steps of add: the tests' hook, if any. */
static inline void vcpu_array_step(struct vcpu_array *a)
{
	if (unlikely(a->cfg.step_hook != NULL))
		a->cfg.step_hook(a->cfg.step_arg);
}

/*
 * The per-vCPU step of "kick all vCPUs": a kick sends an IPI only to vCPUs
 * in guest mode, so it reads the mode; the emulation stops there (no write)
 * so that iterator threads measure the array walk, not cache-line
 * ping-pong on the vCPUs.  Inline so that each strategy's loop is compiled
 * with it.
 */
static inline void vcpu_visit_one(struct vcpu_visit *vis, const struct vcpu *v, uint32_t idx)
{
	vis->visited++;
	/* relaxed: the mode is a hint, as in kvm_vcpu_kick */
	if (atomic_load_explicit(&v->mode, memory_order_relaxed) == VCPU_IN_GUEST)
		vis->in_guest++;
	if (vis->check)
		vis->check(v, idx, vis->arg);
}

#endif
