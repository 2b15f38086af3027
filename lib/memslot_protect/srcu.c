/*
 * `srcu-mb`, `srcu-fast` (one protection per line of
 * MEMSLOT_PROTECT_SRCU_FLAVOURS in memslot_protect.h): memslot reads under
 * SRCU (lib/srcu/srcu.h), as KVM has done since 2009 (the thread "[RFC]
 * KVM: x86: conditionally acquire/release slots_lock on entry/exit" ended
 * with "do an RCU update, send some request to all vcpus,
 * synchronize_srcu(), done").  A reader's section is srcu_read_lock ...
 * unlock around the table load; the updater publishes the new table with a
 * release store, waits a grace period (synchronize_srcu, or the expedited
 * one with gp=expedited) and frees the old one.  The protections differ
 * only in the SRCU flavour of their domain (ops->variant).
 *
 * Shared domain (memslot_protect_options.srcu_domain): in the emulated VM
 * the memslots are read under the VM's one domain, kvm->srcu, whose read
 * section each vCPU holds across its whole exit (lib/vm/vm.h).  The
 * protection then has no domain and no SRCU readers of its own: a read
 * section is the acquire load of the table inside the caller's section,
 * and an update waits a grace period of the caller's domain, as
 * __kvm_set_memory_region's synchronize_srcu_expedited(&kvm->srcu).
 *
 * Mutants: memslot_srcu_no_grace_period (frees without waiting),
 * memslot_srcu_relaxed_publish (the publish is a relaxed store: nothing
 * orders the table's contents before the pointer; on x86 only
 * ThreadSanitizer sees it, so its test runs a TSan build).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/srcu/srcu.h"
#include "lib/util/mutant.h"

struct srcu_state {
	struct srcu_struct srcu; /* cache-line aligned; own domain */
	struct srcu_struct *sp;	 /* &srcu, or the shared domain */
	_Atomic(struct memslot_table *) table;
	/* Tables published over that synchronize_srcu refused to wait for
	 * (only an updater inside a read section of the domain): readers may
	 * still hold them, so they are freed at destroy.  update_lock. */
	struct memslot_table **orphans;
	size_t norphans, orphans_cap;
};

struct srcu_protect_reader {
	struct memslot_reader base;
	struct srcu_reader *sr;
	int idx; /* of the open section */
};

static int srcu_protect_set_option(struct memslot_protect_options *o, const char *key,
				   const char *value, char *err, size_t errlen)
{
	if (!strcmp(key, "gp") && (!strcmp(value, "normal") || !strcmp(value, "expedited"))) {
		o->expedited = value[0] == 'e';
		return 0;
	}
	if (!strcmp(key, "idle") && (!strcmp(value, "on") || !strcmp(value, "off"))) {
		o->srcu_idle_fast_path = value[1] == 'n';
		return 0;
	}
	if (!strcmp(key, "expedited") && srcu_expedited_parse(value) >= 0) {
		o->srcu_expedited = srcu_expedited_parse(value);
		return 0;
	}
	if (!strcmp(key, "gp") || !strcmp(key, "idle") || !strcmp(key, "expedited"))
		snprintf(err, errlen, "%s=%s: not %s", key, value,
			 key[0] == 'g'	 ? "normal or expedited"
			 : key[0] == 'i' ? "on or off"
					 : "stop-cpus or membarrier");
	else
		snprintf(err, errlen,
			 "unknown option '%s' (gp=normal|expedited, idle=on|off, "
			 "expedited=stop-cpus|membarrier)",
			 key);
	return -EINVAL;
}

static int srcu_protect_init(struct memslot_protect *p, struct memslot_table *initial, char *err,
			     size_t errlen)
{
	struct srcu_state *st = aligned_alloc(SRCU_CACHELINE, sizeof(*st));
	struct srcu_options o;
	int rc;

	if (!st) {
		snprintf(err, errlen, "%s: out of memory", p->ops->name);
		free(initial);
		return -ENOMEM;
	}
	memset(st, 0, sizeof(*st));
	if (p->opt.srcu_domain) {
		/* the caller's domain: nothing to set up */
		st->sp = p->opt.srcu_domain;
		atomic_init(&st->table, initial);
		p->priv = st;
		return 0;
	}
	st->sp = &st->srcu;
	srcu_options_default(&o);
	o.flavour = (enum srcu_flavour)p->ops->variant;
	o.idle_fast_path = p->opt.srcu_idle_fast_path;
	if (p->opt.srcu_expedited >= 0)
		o.expedited = (enum srcu_expedited)p->opt.srcu_expedited;
	o.name = p->ops->name;
	rc = srcu_init(&st->srcu, &o, NULL, 0);
	if (rc) {
		snprintf(err, errlen, "%s: cannot set up the SRCU domain: %s", p->ops->name,
			 strerror(-rc));
		free(st);
		free(initial);
		return rc;
	}
	atomic_init(&st->table, initial);
	p->priv = st;
	return 0;
}

static void srcu_protect_destroy(struct memslot_protect *p)
{
	struct srcu_state *st = p->priv;

	memslot_table_retire(atomic_load_explicit(&st->table, memory_order_relaxed));
	for (size_t i = 0; i < st->norphans; i++)
		memslot_table_retire(st->orphans[i]);
	free(st->orphans);
	if (st->sp == &st->srcu)
		srcu_destroy(&st->srcu, NULL, 0);
	free(st);
}

static struct memslot_reader *srcu_protect_reader_register(struct memslot_protect *p,
							   const char *name)
{
	struct srcu_state *st = p->priv;
	struct srcu_protect_reader *r = memslot_reader_alloc(sizeof(*r));

	if (!r)
		return NULL;
	if (st->sp != &st->srcu)
		return &r->base; /* the caller's section: no reader here */
	r->sr = srcu_register_reader(&st->srcu, name, NULL, 0);
	if (!r->sr) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	return &r->base;
}

static void srcu_protect_reader_unregister(struct memslot_reader *base)
{
	struct srcu_protect_reader *r = (struct srcu_protect_reader *)base;

	if (r->sr)
		srcu_unregister_reader(r->sr, NULL, 0);
	free(r);
}

static const struct memslot_table *srcu_protect_read_begin(struct memslot_reader *base)
{
	struct srcu_protect_reader *r = (struct srcu_protect_reader *)base;
	struct srcu_state *st = base->protect->priv;

	/* a shared domain: the caller's read section covers ours */
	if (r->sr)
		r->idx = srcu_read_lock(r->sr);
	/* acquire: pairs with the release store in srcu_protect_replace, so
	 * the table's contents written before publication are visible. */
	return atomic_load_explicit(&st->table, memory_order_acquire);
}

static void srcu_protect_read_end(struct memslot_reader *base)
{
	struct srcu_protect_reader *r = (struct srcu_protect_reader *)base;

	if (r->sr)
		srcu_read_unlock(r->sr, r->idx);
}

static void srcu_protect_quiescent(struct memslot_reader *base)
{
	(void)base;
}

static struct memslot_table *srcu_protect_current(struct memslot_protect *p)
{
	struct srcu_state *st = p->priv;

	/* Only updaters store it, serialized by p->update_lock (held). */
	return atomic_load_explicit(&st->table, memory_order_relaxed);
}

static int srcu_protect_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct srcu_state *st = p->priv;
	struct memslot_table *old = atomic_load_explicit(&st->table, memory_order_relaxed);
	int rc;

	if (st->norphans == st->orphans_cap) {
		/* Room first: once published, this must not fail. */
		size_t cap = st->orphans_cap ? 2 * st->orphans_cap : 4;
		struct memslot_table **o = realloc(st->orphans, cap * sizeof(*o));

		if (!o)
			return -ENOMEM; /* nothing published */
		st->orphans = o;
		st->orphans_cap = cap;
	}
	/* release: pairs with the acquire load in srcu_protect_read_begin. */
	atomic_store_explicit(&st->table, next,
			      MUTANT(memslot_srcu_relaxed_publish) ? memory_order_relaxed
								   : memory_order_release);
	memslot_protect_before_wait(p);
	if (MUTANT(memslot_srcu_no_grace_period))
		return 0;
	rc = p->opt.expedited ? synchronize_srcu_expedited(st->sp) : synchronize_srcu(st->sp);
	if (rc)
		/* -EDEADLK: an update from inside a read section of the
		 * domain.  @next is published; the old table may still be
		 * read, so it waits for destroy (see memslot_protect_ops). */
		st->orphans[st->norphans++] = old;
	return rc;
}

#define SRCU_PROTECT_OPS(ident, str, flavour, sum)                                                \
	const struct memslot_protect_ops memslot_protect_##ident##_ops = {                        \
		.name = str,                                                                      \
		.summary = sum,                                                                   \
		.options_help = "gp=normal|expedited idle=on|off expedited=stop-cpus|membarrier " \
				"(classic's sync_func)",                                          \
		.variant = flavour,                                                               \
		.set_option = srcu_protect_set_option,                                            \
		.init = srcu_protect_init,                                                        \
		.destroy = srcu_protect_destroy,                                                  \
		.reader_register = srcu_protect_reader_register,                                  \
		.reader_unregister = srcu_protect_reader_unregister,                              \
		.read_begin = srcu_protect_read_begin,                                            \
		.read_end = srcu_protect_read_end,                                                \
		.quiescent = srcu_protect_quiescent,                                              \
		.current = srcu_protect_current,                                                  \
		.replace = srcu_protect_replace,                                                  \
	};

MEMSLOT_PROTECT_SRCU_FLAVOURS(SRCU_PROTECT_OPS)
