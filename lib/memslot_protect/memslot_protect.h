/*
 * Memslot read protection: how vCPU threads read the memslot table while an
 * updater replaces it.  Each protection is a table of operations, one file
 * each (lib/memslot_protect/<name>.c), listed once in
 * MEMSLOT_PROTECT_STRATEGIES below and chosen at run time by a spec
 * "NAME[:KEY=VALUE,...]" (lib/util/spec.h).  The `dlbench memslot`
 * workload and the VM's write-fault path (lib/vm/vm.c) use them through
 * the functions below and never know which one runs.
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
 * memslot_reader_offline) soon.  Such a reader must still end each read
 * section with memslot_read_end: `rwlock-cond` lets go there too while a
 * request is raised (the guest entry that follows a VM exit).
 *
 * Updater side: memslot_protect_update(p, change, arg) copies the current
 * table (with room for MEMSLOT_UPDATE_EXTRA_SLOTS more slots), lets
 * @change edit the copy, publishes the copy, waits until no reader can still
 * hold the old table (a grace period or the write side of a lock) and
 * retires the old table (memslot_table_retire poisons it, then frees it).
 * Updates are serialized.
 *
 * Errors: functions return 0 or a negative errno (or NULL), and write one
 * line into the caller's @err buffer where a message helps; nothing here
 * prints or exits.
 */
#ifndef DLBENCH_MEMSLOT_PROTECT_H
#define DLBENCH_MEMSLOT_PROTECT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/vm/memslots.h"

/*
 * The SRCU protections, one line per flavour of lib/srcu (enum
 * srcu_flavour): X(ident, "name", flavour, "summary").  All share one
 * implementation (lib/memslot_protect/srcu.c), which defines
 * memslot_protect_<ident>_ops for each line.
 */
#define MEMSLOT_PROTECT_SRCU_FLAVOURS(X)                                         \
	X(srcu_mb, "srcu-mb", SRCU_FLAVOUR_MB,                                   \
	  "SRCU, full fences in read lock/unlock (the kernel's srcu_read_lock)") \
	X(srcu_fast, "srcu-fast", SRCU_FLAVOUR_FAST,                             \
	  "SRCU, fence-free readers, updater forces ordering with membarrier()") \
	X(srcu_classic, "srcu-classic", SRCU_FLAVOUR_CLASSIC,                    \
	  "SRCU as in 2012: fence-free readers, sync_func x3 per grace period, jiffy sleeps")

/*
 * The built-in protections, in the order `all` lists them: X(ident) with
 * the ops table memslot_protect_<ident>_ops in lib/memslot_protect/<ident>.c
 * (the SRCU lines carry more arguments, see above: X takes `...`).
 */
#define MEMSLOT_PROTECT_STRATEGIES(X)    \
	X(floor)                         \
	X(mutex)                         \
	X(rwlock)                        \
	X(rwlock_cond)                   \
	MEMSLOT_PROTECT_SRCU_FLAVOURS(X) \
	X(urcu)

#define MEMSLOT_UPDATE_EXTRA_SLOTS 1
/* Protections tests may add with memslot_protect_register. */
#define MEMSLOT_PROTECT_MAX_REGISTERED 8

struct memslot_protect;
struct memslot_reader;
struct srcu_struct;

struct memslot_protect_options {
	/* srcu-*: synchronize_srcu_expedited instead of synchronize_srcu
	 * (spec option gp=normal|expedited).  liburcu's memb flavour has one
	 * grace-period primitive; the locks have none: they ignore it. */
	bool expedited;
	/* srcu-*: the SRCU domain's idle fast path (srcu_options.idle_fast_path:
	 * a grace period with no reader inside returns without flipping;
	 * spec option idle=on|off, default on).  With readers always busy
	 * it never succeeds and costs two updater fences (membarriers in the
	 * fast flavour) per grace period. */
	bool srcu_idle_fast_path;
	/* srcu-classic: its domain's expedited sync_func (enum
	 * srcu_expedited; spec option expedited=stop-cpus|membarrier); -1,
	 * the default: the domain's default (stop-cpus), or for the VM's
	 * domain, vm_options.srcu_expedited.  mb and fast ignore it. */
	int srcu_expedited;
	/* srcu-*: read under this domain instead of one of its own (the
	 * emulated VM's kvm->srcu, lib/vm/vm.h).  It stays the caller's, and
	 * its flavour should be the protection's.  Every reader thread must
	 * then hold a read section of it around each memslot read section:
	 * read_begin and read_end only load the table (no lock of their own,
	 * no nesting), and an update waits a grace period of this domain.
	 * NULL: a domain of the protection's own. */
	struct srcu_struct *srcu_domain;
	/* floor only: the most bytes of replaced tables it keeps (it never
	 * frees a table while readers run); an update beyond it fails with
	 * -ENOSPC (spec option retain=BYTES). */
	uint64_t floor_retain_bytes;
	/* Tests only (NULL otherwise): called by an update once it has
	 * published the new table, or raised its requests and kicked
	 * (rwlock-cond), and before it waits for readers (the write side, a
	 * grace period); a test holds it to open a race window. */
	void (*before_wait)(void *arg);
	void *before_wait_arg;
};

/* Edits @copy (the current table's copy, with room for
 * MEMSLOT_UPDATE_EXTRA_SLOTS more slots, or the extra_slots of
 * memslot_protect_update_grow); 0 publishes it, a negative errno discards
 * it. */
typedef int (*memslot_change_fn)(struct memslot_table *copy, void *arg);

struct memslot_protect_ops {
	const char *name;
	const char *summary;
	const char *options_help; /* "KEY=a|b ..."; NULL: takes none */
	int variant;		  /* the file's own (srcu: the flavour) */
	/* Optional: one KEY=VALUE of the spec into @o; -EINVAL with a line
	 * in @err.  NULL: the protection takes no options. */
	int (*set_option)(struct memslot_protect_options *o, const char *key, const char *value,
			  char *err, size_t errlen);
	/* Sets p->priv; @initial is owned by the protection from then on
	 * (freed on failure).  0 or -errno with a line in @err. */
	int (*init)(struct memslot_protect *p, struct memslot_table *initial, char *err,
		    size_t errlen);
	/* Frees the private state and the current table (no readers left). */
	void (*destroy)(struct memslot_protect *p);
	/* Called by the reader thread; returns a zeroed reader whose first
	 * member is struct memslot_reader (the caller fills and lists it), or
	 * NULL with errno set. */
	struct memslot_reader *(*reader_register)(struct memslot_protect *p, const char *name);
	void (*reader_unregister)(struct memslot_reader *r);
	const struct memslot_table *(*read_begin)(struct memslot_reader *r);
	void (*read_end)(struct memslot_reader *r);
	void (*quiescent)(struct memslot_reader *r);
	/* The table readers see now (updater side, under the update lock). */
	struct memslot_table *(*current)(struct memslot_protect *p);
	/* Publishes @next and returns once no reader can still hold the table
	 * it replaced: 0.  A negative errno: the update failed; @next was
	 * published only if current() returns it (then it stays, and the
	 * protection keeps the old table until destroy). */
	int (*replace)(struct memslot_protect *p, struct memslot_table *next);
	/* Disposes of a replaced table; NULL: memslot_table_retire. */
	int (*retire)(struct memslot_protect *p, struct memslot_table *old);
	/* Optional, outside a read section: let go of whatever the reader
	 * keeps between sections (memslot_reader_offline). */
	void (*offline)(struct memslot_reader *r);
};

struct memslot_reader {
	const struct memslot_protect_ops *ops; /* copied: one load less */
	struct memslot_protect *protect;
	struct memslot_reader *next; /* protect->readers */
	char name[32];
};

struct memslot_protect {
	const struct memslot_protect_ops *ops;
	struct memslot_protect_options opt;
	void *priv;
	char spec[160]; /* as given (SPEC_MAX) */

	pthread_mutex_t update_lock; /* one update at a time */
	uint64_t updates;	     /* published; under update_lock */

	/* memslot_protect_set_kick; set before any reader registers. */
	void (*kick)(void *arg);
	void *kick_arg;

	/* The registered readers. */
	pthread_mutex_t readers_lock;
	struct memslot_reader *readers;
	int nreaders;
};

/* The built-in ops tables (one file each, see MEMSLOT_PROTECT_STRATEGIES). */
#define MEMSLOT_PROTECT_DECLARE_OPS(ident, ...) \
	extern const struct memslot_protect_ops memslot_protect_##ident##_ops;
MEMSLOT_PROTECT_STRATEGIES(MEMSLOT_PROTECT_DECLARE_OPS)

/* ---- the registry */

/* Adds a protection after the built-ins (tests register deliberately
 * broken ones); before any other thread uses the registry.  0, -EEXIST if
 * the name is taken, -ENOSPC past MEMSLOT_PROTECT_MAX_REGISTERED. */
int memslot_protect_register(const struct memslot_protect_ops *ops);
/* By exact name (no options); NULL when none has it. */
const struct memslot_protect_ops *memslot_protect_find(const char *name);
/* The i-th protection (built-ins first), NULL past the end. */
const struct memslot_protect_ops *memslot_protect_nth(int i);
/* for (i = 0; (ops = memslot_protect_nth(i)); i++) */
#define memslot_protect_foreach(ops, i) for ((i) = 0; ((ops) = memslot_protect_nth(i)); (i)++)

/* The built-ins' names, NULL-terminated, taken from their ops tables at
 * start-up: a choice list (wl_option.choices). */
extern const char *memslot_protect_names[];

/* Checks a spec "NAME[:KEY=VALUE,...]": a protection with that name, and
 * options it accepts.  0 or -EINVAL with one line in @err.  Usable as a
 * wl_option.check_value. */
int memslot_protect_spec_check(const char *spec, char *err, size_t errlen);
/* wl_option.expand of a repeatable spec option: `all` becomes every
 * protection by name; a comma list of specs ("floor,srcu-mb:gp=expedited")
 * becomes its specs (a comma starts a new spec unless what follows is a
 * KEY=VALUE).  Returns the number written to @out (at most @max), 0 for a
 * single spec (keep it), -1 when there are more than @max.  The strings
 * are allocated once and live as long as the process. */
int memslot_protect_spec_expand(const char *value, const char **out, int max);
/* The SRCU flavour (enum srcu_flavour) of the SRCU protection @spec names,
 * with its options parsed into @o (which holds the defaults); -1 when
 * @spec is a valid spec of a protection that is not SRCU; -EINVAL-style
 * -2 with one line in @err when @spec is not valid. */
int memslot_protect_spec_srcu(const char *spec, struct memslot_protect_options *o, char *err,
			      size_t errlen);
/* "  name  summary  [options]" lines, for --help. */
void memslot_protect_list(FILE *f);

/* ---- one protection */

void memslot_protect_options_default(struct memslot_protect_options *o);
/* Creates protection @spec (NAME[:KEY=VALUE,...]; the options override
 * @o's, NULL: defaults) over @initial, which it owns from then on, also on
 * failure.  NULL with one line in @err on error. */
struct memslot_protect *memslot_protect_create(const char *spec,
					       const struct memslot_protect_options *o,
					       struct memslot_table *initial, char *err,
					       size_t errlen);
/* -EBUSY while readers are registered (nothing freed); otherwise frees
 * everything, the current table included. */
int memslot_protect_destroy(struct memslot_protect *p);

/* The protection's name, and the spec it was created with. */
const char *memslot_protect_name(const struct memslot_protect *p);
const char *memslot_protect_spec(const struct memslot_protect *p);

/* Before any reader registers: @kick(@arg) is called by an updater that
 * waits for every reader to pass memslot_quiescent (see the top). */
void memslot_protect_set_kick(struct memslot_protect *p, void (*kick)(void *arg), void *arg);

/* From the reader thread itself.  @name (may be NULL) is for reports.
 * NULL with errno set (ENOMEM) on failure. */
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

/* The table readers see now.  Updater side: call it from the thread that
 * updates (or with updates excluded otherwise). */
struct memslot_table *memslot_protect_current(struct memslot_protect *p);

/* See the top of this file.  Returns 0, @change's error, -ENOMEM, or the
 * protection's error (floor: -ENOSPC). */
int memslot_protect_update(struct memslot_protect *p, memslot_change_fn change, void *arg);
/* The same with room for @extra_slots more slots in the copy (a change
 * that maps several slots at once). */
int memslot_protect_update_grow(struct memslot_protect *p, uint32_t extra_slots,
				memslot_change_fn change, void *arg);

/* ---- for the protections' own files */

/* Calls the options' before_wait hook, if any (see there). */
static inline void memslot_protect_before_wait(struct memslot_protect *p)
{
	if (p->opt.before_wait)
		p->opt.before_wait(p->opt.before_wait_arg);
}

/* Initialises @lock as a writer-preferring rwlock (glibc's
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): once an updater waits,
 * new readers queue behind it, so a stream of readers cannot starve it.
 * Used by the rwlock and rwlock-cond protections.  0 or -errno. */
int memslot_rwlock_init(pthread_rwlock_t *lock);

/* A zeroed reader of @size bytes (>= sizeof(struct memslot_reader)),
 * aligned to a cache line so that no two readers share one; NULL with
 * errno set. */
void *memslot_reader_alloc(size_t size);

#endif
