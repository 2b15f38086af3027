/*
 * Memslot read protection: how vCPU threads read the memslot table while an
 * updater replaces it.  Each protection is a table of operations registered
 * by name (lib/memslot_protect_<name>.c); the `dlbench memslot` workload and
 * the dirty-log fault path use them through the functions below and never
 * know which one runs.
 *
 * Reader side (a vCPU thread):
 *
 *	r = memslot_reader_register(p, "vcpu3");       once, from the thread
 *	for (;;) {
 *		t = memslot_read_begin(r);
 *		s = memslot_lookup(t, gfn); ... use s ...
 *		memslot_read_end(r);
 *		memslot_quiescent(r);                  at each guest entry/exit
 *	}
 *	memslot_reader_unregister(r);                  from the same thread
 *
 * The table returned by memslot_read_begin and every slot in it stay valid
 * until the matching memslot_read_end.  Read sections do not nest.
 * memslot_quiescent is where `rwlock-cond` lets go of the read side it keeps
 * across iterations when an updater asked for it; the others do nothing
 * there.  A thread must call it regularly (and outside a read section), or
 * an `rwlock-cond` update waits for it.  memslot_reader_offline (outside a
 * read section) lets go of anything kept, for a reader about to stop
 * calling memslot_quiescent for a while (a vCPU leaving guest mode).
 *
 * A user whose readers call memslot_quiescent only when told to (the VM
 * calls it on a vCPU request, so that its guest-access loop stays free of
 * it) sets a kick with memslot_protect_set_kick: a protection that needs
 * readers to pass a quiescent point calls it after it has raised its
 * requests, and every reader must then reach memslot_quiescent (or
 * memslot_reader_offline) soon.
 *
 * Updater side: memslot_protect_update(p, change, arg) copies the current
 * table (with room for MEMSLOT_UPDATE_EXTRA_SLOTS more slots), lets
 * @change edit the copy, publishes the copy, waits until no reader can still
 * hold the old table (a grace period or the write side of a lock) and
 * retires the old table (memslot_table_retire poisons it, then frees it).
 * Updates are serialized.
 */
#ifndef DLBENCH_MEMSLOT_PROTECT_H
#define DLBENCH_MEMSLOT_PROTECT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/vm/memslots.h"

#define MEMSLOT_UPDATE_EXTRA_SLOTS 1

struct memslot_protect;
struct memslot_reader;

struct memslot_protect_options {
	/* srcu-mb, srcu-fast: synchronize_srcu_expedited instead of
	 * synchronize_srcu.  liburcu's memb flavour has one grace-period
	 * primitive; the locks have none: they ignore it. */
	bool expedited;
	/* floor only: the most bytes of replaced tables it keeps (it never
	 * frees a table while readers run); an update beyond it fails with
	 * -ENOSPC. */
	uint64_t floor_retain_bytes;
};

/* Edits @copy (the current table's copy, with room for
 * MEMSLOT_UPDATE_EXTRA_SLOTS more slots, or the extra_slots of
 * memslot_protect_update_grow); 0 publishes it, a negative errno discards
 * it. */
typedef int (*memslot_change_fn)(struct memslot_table *copy, void *arg);

struct memslot_protect_ops {
	const char *name;
	const char *summary;
	/* Sets p->priv; @initial is owned by the protection from then on. */
	int (*init)(struct memslot_protect *p, struct memslot_table *initial);
	/* Frees the private state and the current table (no readers left). */
	void (*destroy)(struct memslot_protect *p);
	/* Called by the reader thread; returns a zeroed reader whose first
	 * member is struct memslot_reader (the caller fills and lists it), or
	 * NULL with a message. */
	struct memslot_reader *(*reader_register)(struct memslot_protect *p, const char *name);
	void (*reader_unregister)(struct memslot_reader *r);
	const struct memslot_table *(*read_begin)(struct memslot_reader *r);
	void (*read_end)(struct memslot_reader *r);
	void (*quiescent)(struct memslot_reader *r);
	/* The table readers see now (updater side, under the update lock). */
	struct memslot_table *(*current)(struct memslot_protect *p);
	/* Publishes @next and returns once no reader can still hold the table
	 * it replaced; 0 or a negative errno (nothing published). */
	int (*replace)(struct memslot_protect *p, struct memslot_table *next);
	/* Disposes of a replaced table; NULL: memslot_table_retire. */
	int (*retire)(struct memslot_protect *p, struct memslot_table *old);
	/* Optional, outside a read section: let go of whatever the reader
	 * keeps between sections (memslot_reader_offline). */
	void (*offline)(struct memslot_reader *r);
};

struct memslot_reader {
	const struct memslot_protect_ops *ops;   /* copied: one load less */
	struct memslot_protect *protect;
	struct memslot_reader *next;             /* protect->readers */
	char name[32];
};

struct memslot_protect {
	const struct memslot_protect_ops *ops;
	struct memslot_protect_options opt;
	void *priv;

	pthread_mutex_t update_lock;       /* one update at a time */
	uint64_t updates;                  /* published; under update_lock */

	/* memslot_protect_set_kick; set before any reader registers. */
	void (*kick)(void *arg);
	void *kick_arg;

	/* The registered readers: rwlock-cond raises its requests on them. */
	pthread_mutex_t readers_lock;
	struct memslot_reader *readers;
	int nreaders;
};

/* The registered protections, NULL-terminated (for cli_choice). */
extern const char *const memslot_protect_names[];
/* NULL when @name is not registered. */
const struct memslot_protect_ops *memslot_protect_find(const char *name);

void memslot_protect_options_default(struct memslot_protect_options *o);
/* Creates protection @name over @initial (owned from then on, also on
 * failure).  NULL with a one-line message on error. */
struct memslot_protect *memslot_protect_create(const char *name,
					       const struct memslot_protect_options *o,
					       struct memslot_table *initial);
/* The same with a table of operations that need not be registered (the
 * tests' deliberately broken protection). */
struct memslot_protect *memslot_protect_create_ops(const struct memslot_protect_ops *ops,
						   const struct memslot_protect_options *o,
						   struct memslot_table *initial);
/* -EBUSY with a message while readers are registered; otherwise frees
 * everything, the current table included. */
int memslot_protect_destroy(struct memslot_protect *p);

/* Before any reader registers: @kick(@arg) is called by an updater that
 * waits for every reader to pass memslot_quiescent (see the top). */
void memslot_protect_set_kick(struct memslot_protect *p, void (*kick)(void *arg), void *arg);

/* From the reader thread itself.  @name (may be NULL) is for reports. */
struct memslot_reader *memslot_reader_register(struct memslot_protect *p, const char *name);
void memslot_reader_unregister(struct memslot_reader *r);

static inline const struct memslot_table *memslot_read_begin(struct memslot_reader *r)
{
	return r->ops->read_begin(r);
}

static inline void memslot_read_end(struct memslot_reader *r)
{
	r->ops->read_end(r);
}

static inline void memslot_quiescent(struct memslot_reader *r)
{
	r->ops->quiescent(r);
}

static inline void memslot_reader_offline(struct memslot_reader *r)
{
	if (r->ops->offline)
		r->ops->offline(r);
}

/* See the top of this file.  Returns 0, @change's error, -ENOMEM, or the
 * protection's error (floor: -ENOSPC). */
int memslot_protect_update(struct memslot_protect *p, memslot_change_fn change, void *arg);
/* The same with room for @extra_slots more slots in the copy (a change
 * that maps several slots at once). */
int memslot_protect_update_grow(struct memslot_protect *p, uint32_t extra_slots,
				memslot_change_fn change, void *arg);

/* Initialises @lock as a writer-preferring rwlock (glibc's
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): once an updater waits,
 * new readers queue behind it, so a stream of readers cannot starve it.
 * Used by the rwlock and rwlock-cond protections. */
void memslot_rwlock_init(pthread_rwlock_t *lock);

#endif
