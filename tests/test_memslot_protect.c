/*
 * Correctness of the memslot read protections (lib/memslot_protect/).
 *
 *   test_memslot_protect [--phase torture|liveness|kicked|all] [--bound-s N]
 *                        [PROTECTION...]     (default: every registered one)
 *   test_memslot_protect --broken
 *
 * For each protection, with more reader threads than CPUs:
 *
 *  1. Torture.  One updater replaces the table as fast as it can (create,
 *     delete, move a slot, toggle its dirty-logging flag), with normal and
 *     with expedited grace periods.  Each table carries a sequence number
 *     (its generation) and the updater records every table's contents in a
 *     history before publishing it.  Readers look random gfns up and check
 *     that the table is not poisoned (memslot_table_retire poisons before
 *     freeing; ASan and TSan catch the use after free as well), that the
 *     table was current at some moment of the read section (its sequence
 *     lies between the last update completed before the section and the
 *     last update started after it), that the slot found is the one the
 *     history says that table holds for the gfn, and that nothing changed
 *     under them while they lingered in the section.  Failures must be 0.
 *
 *  2. Liveness.  Readers spin through read sections and quiescent points
 *     without pause; each of a series of updates must complete within a
 *     generous bound (--bound-s, default 10 s): `rwlock-cond` must not
 *     starve the updater.  This is a check that the update finishes at
 *     all, not a timing goal.  (The torture's updates get a hang detector
 *     of HANG_BOUND_NS.)
 *
 *  3. Kicked.  Readers behave as the VM's vCPUs do (lib/vm/vm.c): they
 *     call memslot_quiescent only when kicked (memslot_protect_set_kick),
 *     and in between either fault now and then (a read section) or sit in
 *     "guest mode" without faulting.  The update's before_wait hook holds
 *     the updater, after its kick and before it waits for readers, until
 *     every faulting reader has taken the kick and completed a fault after
 *     it: the window of the 2009 rwlock-cond hang (a vCPU that drops the
 *     read side at its quiescent point, faults and takes it again before
 *     the updater's wrlock, and keeps it).  Each update must complete
 *     within the bound, and the faults' lookups pass the torture's checks.
 *
 * A self-check first feeds the reader's checks bad inputs (a poisoned
 * table, a table outside the window, a slot the history does not hold) and
 * requires each to be caught, and checks the registry and spec parsing.
 * `test_memslot_protect --broken` runs the torture on a protection that
 * frees tables without waiting and passes only if the torture catches it:
 * the torture cannot pass by checking nothing.  tests/mutants.list runs the
 * phases against each protection's mutants.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"
#include "lib/vm/memslots.h"

#define NIDS 6	/* slot ids 1..NIDS */
#define NPOS 12 /* positions a slot can sit at */
#define SLOT_PAGES 16
#define GFN_SPAN ((uint64_t)NPOS * SLOT_PAGES)
/* Liveness and kicked phases: each update must finish within this (a
 * liveness check with a wide margin, not a timing goal; --bound-s).
 * Torture phase: only a hang detector, wider still, because its readers
 * linger inside their sections and the test machines are shared and
 * overcommitted. */
static uint64_t liveness_bound_ns = 10ull * 1000000000ull;
#define HANG_BOUND_NS (60ull * 1000000000ull)
/* Kicked phase: updates, readers that fault, readers that sit in guest
 * mode, and how long the hook waits for the faulting readers. */
#define KICKED_UPDATES 20
#define KICKED_FAULTERS 2
#define KICKED_IDLERS 1
#define KICKED_HOOK_BOUND_NS (1000ull * 1000000ull)

#if defined(DLBENCH_TSAN) || defined(__SANITIZE_ADDRESS__)
#define TORTURE_UPDATES 150
#define LIVENESS_UPDATES 10
#else
#define TORTURE_UPDATES 300
#define LIVENESS_UPDATES 20
#endif

struct snapshot {
	uint32_t nslots;
	struct memslot slots[NIDS];
};

static uint8_t *backing;	 /* host memory of slot id i at (i-1)*SLOT_PAGES pages */
static struct snapshot *history; /* by table generation */
static uint64_t history_len;
static atomic_ulong started_seq;   /* last update begun (before publishing) */
static atomic_ulong completed_seq; /* last update returned (after publishing) */
/* relaxed, both: a stop flag and a progress count; nothing is read through
 * them (pthread_join orders what the readers wrote) */
static atomic_int stop;
static atomic_int readers_running; /* readers past their first lookup */

static struct memslot_protect *prot;
static bool quiet_checks; /* the self-check's expected failures */

static struct memslot slot_for(uint32_t id, uint32_t pos)
{
	struct memslot s = {
		.id = id,
		.base_gfn = (uint64_t)pos * SLOT_PAGES,
		.npages = SLOT_PAGES,
		.hva = backing + (size_t)(id - 1) * SLOT_PAGES * PAGE_SIZE,
	};
	return s;
}

static void snapshot_take(struct snapshot *snap, const struct memslot_table *t)
{
	snap->nslots = t->nslots;
	memcpy(snap->slots, t->slots, t->nslots * sizeof(t->slots[0]));
}

static const struct memslot *snapshot_find(const struct snapshot *snap, uint64_t gfn)
{
	for (uint32_t i = 0; i < snap->nslots; i++) {
		const struct memslot *s = &snap->slots[i];

		if (gfn >= s->base_gfn && gfn < s->base_gfn + s->npages)
			return s;
	}
	return NULL;
}

static int slot_equal(const struct memslot *a, const struct memslot *b)
{
	if (!a || !b)
		return a == b;
	return a->id == b->id && a->flags == b->flags && a->base_gfn == b->base_gfn &&
	       a->npages == b->npages && a->hva == b->hva;
}

/*
 * The reader's checks on one lookup: @t returned by read_begin (still in
 * the section), @seen a copy of the slot memslot_lookup returned for @gfn
 * (NULL if none), [lo, hi] the window of tables current during the
 * section.  Returns the number of failures, with a line for the first few.
 */
static atomic_int reported; /* relaxed: a count of reports */

static unsigned fail(const char *who, const char *why)
{
	if (!quiet_checks && atomic_fetch_add_explicit(&reported, 1, memory_order_relaxed) < 5)
		fprintf(stderr, "FAIL %s: %s\n", who, why);
	return 1;
}

static unsigned check_lookup(uint32_t poison, uint64_t gen, uint64_t gfn,
			     const struct memslot *seen, uint64_t lo, uint64_t hi, const char *who)
{
	const char *why = NULL;
	char buf[160];

	if (poison != MEMSLOT_TABLE_LIVE) {
		why = "table is poisoned (used after retire)";
	} else if (gen < lo || gen > hi || gen >= history_len) {
		snprintf(buf, sizeof(buf),
			 "table generation %llu outside the section's window [%llu, %llu]",
			 (unsigned long long)gen, (unsigned long long)lo, (unsigned long long)hi);
		why = buf;
	} else if (!slot_equal(seen, snapshot_find(&history[gen], gfn))) {
		snprintf(buf, sizeof(buf), "gfn %llu: slot %d differs from table %llu's",
			 (unsigned long long)gfn, seen ? (int)seen->id : -1,
			 (unsigned long long)gen);
		why = buf;
	} else if (seen && ((uintptr_t)seen->hva < (uintptr_t)backing ||
			    (uintptr_t)seen->hva + seen->npages * PAGE_SIZE >
				    (uintptr_t)backing + (size_t)NIDS * SLOT_PAGES * PAGE_SIZE)) {
		why = "slot's host address outside guest memory";
	}
	return why ? fail(who, why) : 0;
}

/*
 * One read section with every check: look a random gfn up, touch the
 * page, sometimes linger and look again, then check the lookup against the
 * history.  Returns the failures.
 */
static unsigned checked_lookup(struct memslot_reader *r, uint64_t *rng, const char *name)
{
	/* acquire: pairs with the updater's release store after an update
	 * returned; that table (or a later one) is current. */
	uint64_t lo = atomic_load_explicit(&completed_seq, memory_order_acquire);
	const struct memslot_table *t = memslot_read_begin(r);
	uint64_t gfn = rng_next(rng) % GFN_SPAN, hi, gen = t->generation;
	uint32_t poison = t->poison;
	const struct memslot *s = memslot_lookup(t, gfn);
	struct memslot seen = { 0 };
	unsigned failures = 0;

	if (s) {
		uintptr_t hva, lo_hva = (uintptr_t)backing;

		seen = *s;
		hva = (uintptr_t)seen.hva + ((gfn - seen.base_gfn) << PAGE_SHIFT);
		/* Touch the page, as a vCPU would (check_lookup reports an
		 * address outside guest memory). */
		if (seen.hva && hva >= lo_hva &&
		    hva < lo_hva + (size_t)NIDS * SLOT_PAGES * PAGE_SIZE)
			/* relaxed: a touch; the backing is never written */
			(void)atomic_load_explicit((_Atomic uint8_t *)hva, memory_order_relaxed);
	}
	if ((rng_next(rng) & 7) == 0) {
		/* Linger in the section, then look again: a table retired
		 * meanwhile shows here. */
		spin_for_ns(rng_next(rng) % 2000);
		if (t->poison != MEMSLOT_TABLE_LIVE || t->generation != gen ||
		    (s && !slot_equal(s, &seen)))
			failures += fail(
				name, "table or slot changed or poisoned inside the read section");
	}
	memslot_read_end(r);
	/* acquire: pairs with the updater's release store before it
	 * published; every table this section could see is <= hi. */
	hi = atomic_load_explicit(&started_seq, memory_order_acquire);
	return failures + check_lookup(poison, gen, gfn, s ? &seen : NULL, lo, hi, name);
}

struct reader_arg {
	int index;
	int liveness; /* spin only, no checks */
	uint64_t lookups;
	unsigned failures;
	int register_failed;
};

static void *reader_main(void *p)
{
	struct reader_arg *a = p;
	char name[32];
	uint64_t rng = rng_seed(1, (uint64_t)a->index);
	struct memslot_reader *r;

	snprintf(name, sizeof(name), "reader%d", a->index);
	r = memslot_reader_register(prot, name);
	if (!r) {
		a->register_failed = 1;
		atomic_fetch_add_explicit(&readers_running, 1, memory_order_relaxed);
		return NULL;
	}
	/* relaxed: a stop flag, nothing is published through it */
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (a->liveness) {
			(void)memslot_read_begin(r);
			spin_for_ns(100);
			memslot_read_end(r);
		} else {
			a->failures += checked_lookup(r, &rng, name);
		}
		memslot_quiescent(r);
		if (a->lookups++ == 0)
			atomic_fetch_add_explicit(&readers_running, 1, memory_order_relaxed);
	}
	memslot_reader_unregister(r);
	return NULL;
}

/* ---- kicked readers (phase 3): vCPUs as lib/vm/vm.c runs them */

struct kicked_reader {
	_Alignas(64) atomic_uint kick; /* raised by kicked_kick */
	atomic_ulong faulted_gen;      /* kick generation of its last fault */
	int index;
	bool faults; /* false: sits in guest mode */
	uint64_t lookups;
	unsigned failures;
	int register_failed;
};

static struct kicked_reader kicked[KICKED_FAULTERS + KICKED_IDLERS];
static atomic_ulong kick_gen; /* kicks so far */

/* memslot_protect_set_kick: as vm_kick_memslot_readers, a request per
 * reader, taken at its next exit point. */
static void kicked_kick(void *arg)
{
	(void)arg;
	/* relaxed: published to the readers by the release stores below */
	atomic_fetch_add_explicit(&kick_gen, 1, memory_order_relaxed);
	for (size_t i = 0; i < sizeof(kicked) / sizeof(kicked[0]); i++)
		/* release: the protection's requests (stored before the kick)
		 * and the generation happen before the reader's acquire
		 * exchange that takes the kick */
		atomic_store_explicit(&kicked[i].kick, 1, memory_order_release);
}

/* before_wait: hold the updater until every faulting reader has taken the
 * kick and completed a fault after it (bounded: a reader that never takes
 * the kick is the protection's problem, shown by the update's bound). */
static void kicked_hold(void *arg)
{
	/* relaxed: the updater's own kick (kicked_kick) wrote it */
	uint64_t gen = atomic_load_explicit(&kick_gen, memory_order_relaxed), t0 = now_ns();

	(void)arg;
	if (!gen)
		return; /* the protection kicks nobody */
	for (size_t i = 0; i < sizeof(kicked) / sizeof(kicked[0]); i++)
		/* relaxed: a progress flag, nothing is read through it */
		while (kicked[i].faults &&
		       atomic_load_explicit(&kicked[i].faulted_gen, memory_order_relaxed) != gen &&
		       now_ns() - t0 < KICKED_HOOK_BOUND_NS)
			sleep_ns(20 * 1000);
}

static void *kicked_main(void *p)
{
	struct kicked_reader *k = p;
	uint64_t rng = rng_seed(2, (uint64_t)k->index), taken = 0;
	struct memslot_reader *r;
	char name[32];

	snprintf(name, sizeof(name), "vcpu%d", k->index);
	r = memslot_reader_register(prot, name);
	if (!r) {
		k->register_failed = 1;
		atomic_fetch_add_explicit(&readers_running, 1, memory_order_relaxed);
		return NULL;
	}
	/* One fault first: rwlock-cond readers hold the read side from here. */
	k->failures += checked_lookup(r, &rng, name);
	atomic_fetch_add_explicit(&readers_running, 1, memory_order_relaxed);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* acquire: pairs with kicked_kick's release store */
		if (atomic_exchange_explicit(&k->kick, 0, memory_order_acquire)) {
			taken = atomic_load_explicit(&kick_gen, memory_order_relaxed);
			memslot_quiescent(r);
		}
		spin_for_ns(200); /* guest work */
		if (k->faults && (rng_next(&rng) & 3) == 0) {
			k->failures += checked_lookup(r, &rng, name);
			k->lookups++;
			atomic_store_explicit(&k->faulted_gen, taken, memory_order_relaxed);
		}
	}
	/* Leaving guest mode (vcpu_exit_guest), then the thread ends. */
	memslot_reader_offline(r);
	memslot_reader_unregister(r);
	return NULL;
}

/* ---- the updater's changes */

struct change {
	uint64_t seq; /* generation the new table gets */
	uint64_t *rng;
};

static int pos_free(const struct memslot_table *t, uint32_t pos)
{
	uint64_t b = (uint64_t)pos * SLOT_PAGES;

	for (uint32_t i = 0; i < t->nslots; i++)
		if (b < t->slots[i].base_gfn + t->slots[i].npages &&
		    t->slots[i].base_gfn < b + SLOT_PAGES)
			return 0;
	return 1;
}

static uint32_t pick_free_pos(const struct memslot_table *t, uint64_t *rng)
{
	for (;;) {
		uint32_t pos = (uint32_t)(rng_next(rng) % NPOS);

		if (pos_free(t, pos))
			return pos;
	}
}

/* A random create, delete, move or flag toggle; always one that is valid,
 * so any error is a defect of lib/memslots.c. */
static int random_change(struct memslot_table *t, void *p)
{
	struct change *c = p;
	uint64_t op = rng_next(c->rng) % 4;
	int rc;

	if (t->nslots == 0)
		op = 0;
	else if (t->nslots == NIDS && op == 0)
		op = 2;
	if (op == 0) {
		uint32_t id = 1;

		while (memslot_table_find_id(t, id))
			id++;
		struct memslot s = slot_for(id, pick_free_pos(t, c->rng));
		rc = memslot_table_create_slot(t, &s);
	} else {
		uint32_t id = t->slots[rng_next(c->rng) % t->nslots].id;

		if (op == 1)
			rc = memslot_table_delete_slot(t, id);
		else if (op == 2)
			rc = memslot_table_move_slot(
				t, id, (uint64_t)pick_free_pos(t, c->rng) * SLOT_PAGES);
		else
			rc = memslot_table_set_flags(t, id,
						     memslot_table_find_id(t, id)->flags ^
							     MEMSLOT_LOG_DIRTY_PAGES);
	}
	if (rc)
		return rc;
	/* The generation is the test's sequence number, and the history
	 * entry is written before the table is published, which orders it
	 * for readers that find the table. */
	t->generation = c->seq;
	snapshot_take(&history[c->seq], t);
	return 0;
}

static struct memslot_table *initial_table(void)
{
	struct memslot_table *t = memslot_table_alloc(0);
	struct memslot_table *n;

	if (!t)
		return NULL;
	n = memslot_table_copy(t, NIDS);
	free(t);
	if (!n)
		return NULL;
	for (uint32_t id = 1; id <= 3; id++) {
		struct memslot s = slot_for(id, id * 3);

		if (memslot_table_create_slot(n, &s)) {
			free(n);
			return NULL;
		}
	}
	n->generation = 1;
	snapshot_take(&history[1], n);
	return n;
}

static int reader_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > 8)
		n = 8;
	return 2 * (int)n + 1; /* more readers than CPUs */
}

struct update_thread {
	int nupdates;
	atomic_int done; /* updates completed */
	atomic_int error;
	uint64_t rng;
};

static void *updater_main(void *p)
{
	struct update_thread *u = p;

	for (int i = 0; i < u->nupdates; i++) {
		/* relaxed: only this thread writes it */
		uint64_t seq = atomic_load_explicit(&started_seq, memory_order_relaxed) + 1;
		struct change c = { .seq = seq, .rng = &u->rng };
		int rc;

		/* release: a reader that loads this after its section knows
		 * no table newer than seq existed during the section. */
		atomic_store_explicit(&started_seq, seq, memory_order_release);
		rc = memslot_protect_update(prot, random_change, &c);
		if (rc) {
			fprintf(stderr, "FAIL update %llu: %s\n", (unsigned long long)seq,
				strerror(-rc));
			/* release: the main thread's acquire sees the message's cause */
			atomic_store_explicit(&u->error, 1, memory_order_release);
			break;
		}
		/* release: pairs with the readers' acquire before read_begin. */
		atomic_store_explicit(&completed_seq, seq, memory_order_release);
		/* release: pairs with the main thread's acquire polling. */
		atomic_store_explicit(&u->done, i + 1, memory_order_release);
		/* A pause of 0-20 us: the updates spread over time, so readers
		 * meet tables of every age. */
		spin_for_ns(rng_next(&u->rng) % 20000);
	}
	return NULL;
}

/* ---- the negative control: a "protection" that waits for nothing, so the
 * updater retires tables that readers may still use.  The torture must
 * catch it.  It poisons a replaced table as memslot_table_retire does but
 * frees it only at the end, so that readers see the poison rather than
 * crash on recycled memory (normal build only: the sanitizers report the
 * races and would stop the run). */

struct no_wait_state {
	_Atomic(struct memslot_table *) table;
	struct memslot_table *retired[TORTURE_UPDATES + 1];
	int nretired;
};

static int no_wait_init(struct memslot_protect *p, struct memslot_table *initial, char *err,
			size_t errlen)
{
	(void)err;
	(void)errlen;
	struct no_wait_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	atomic_init(&st->table, initial);
	p->priv = st;
	return 0;
}

static void no_wait_destroy(struct memslot_protect *p)
{
	struct no_wait_state *st = p->priv;

	/* relaxed: destroy runs with no reader or updater left */
	memslot_table_retire(atomic_load_explicit(&st->table, memory_order_relaxed));
	for (int i = 0; i < st->nretired; i++)
		free(st->retired[i]);
	free(st);
}

static struct memslot_reader *no_wait_reader_register(struct memslot_protect *p, const char *name)
{
	(void)p;
	(void)name;
	return calloc(1, sizeof(struct memslot_reader));
}

static void no_wait_reader_unregister(struct memslot_reader *r)
{
	free(r);
}

static const struct memslot_table *no_wait_read_begin(struct memslot_reader *r)
{
	struct no_wait_state *st = r->protect->priv;

	/* acquire: pairs with the release in no_wait_replace */
	return atomic_load_explicit(&st->table, memory_order_acquire);
}

static void no_wait_nop(struct memslot_reader *r)
{
	(void)r;
}

static struct memslot_table *no_wait_current(struct memslot_protect *p)
{
	struct no_wait_state *st = p->priv;

	/* relaxed: only updaters store it, under p->update_lock */
	return atomic_load_explicit(&st->table, memory_order_relaxed);
}

static int no_wait_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct no_wait_state *st = p->priv;

	/* release: the new table's contents before its pointer; pairs with
	 * no_wait_read_begin (no grace period: the broken protection) */
	atomic_store_explicit(&st->table, next, memory_order_release);
	return 0;
}

static int no_wait_retire(struct memslot_protect *p, struct memslot_table *old)
{
	struct no_wait_state *st = p->priv;

	old->poison = MEMSLOT_TABLE_POISON;
	for (uint32_t i = 0; i < old->nslots; i++) {
		old->slots[i].base_gfn = UINT64_MAX / 2;
		old->slots[i].npages = 0;
		old->slots[i].hva = NULL;
	}
	st->retired[st->nretired++] = old;
	return 0;
}

static const struct memslot_protect_ops no_wait_ops = {
	.name = "no-wait",
	.summary = "broken on purpose: frees without waiting",
	.init = no_wait_init,
	.destroy = no_wait_destroy,
	.reader_register = no_wait_reader_register,
	.reader_unregister = no_wait_reader_unregister,
	.read_begin = no_wait_read_begin,
	.read_end = no_wait_nop,
	.quiescent = no_wait_nop,
	.current = no_wait_current,
	.replace = no_wait_replace,
	.retire = no_wait_retire,
};

enum phase {
	PHASE_TORTURE,
	PHASE_LIVENESS,
	PHASE_KICKED,
	NPHASES
};

static const char *const phase_names[] = { "torture", "liveness", "kicked" };

struct readers {
	int n;
	pthread_t *th;
	struct reader_arg *ra; /* torture, liveness */
};

static void start_readers(struct readers *rd, enum phase ph)
{
	rd->n = ph == PHASE_KICKED ? KICKED_FAULTERS + KICKED_IDLERS : reader_count();
	rd->th = calloc((size_t)rd->n, sizeof(*rd->th));
	rd->ra = calloc((size_t)rd->n, sizeof(*rd->ra));
	if (!rd->th || !rd->ra) {
		fprintf(stderr, "FAIL out of memory\n");
		exit(1);
	}
	for (int i = 0; i < rd->n; i++) {
		void *(*fn)(void *) = ph == PHASE_KICKED ? kicked_main : reader_main;
		void *arg = &rd->ra[i];

		rd->ra[i].index = i;
		rd->ra[i].liveness = ph == PHASE_LIVENESS;
		if (ph == PHASE_KICKED) {
			memset(&kicked[i], 0, sizeof(kicked[i]));
			kicked[i].index = i;
			kicked[i].faults = i < KICKED_FAULTERS;
			arg = &kicked[i];
		}
		if (pthread_create(&rd->th[i], NULL, fn, arg)) {
			fprintf(stderr, "FAIL cannot create reader %d\n", i);
			exit(1);
		}
	}
	/* Let every reader get going (and rwlock-cond readers take the read
	 * side) before the first update. */
	while (atomic_load_explicit(&readers_running, memory_order_relaxed) < rd->n)
		sleep_ns(1000 * 1000);
}

/* Joins the readers; adds their failures and lookups. */
static unsigned join_readers(struct readers *rd, enum phase ph, const char *name, uint64_t *lookups)
{
	unsigned failures = 0;

	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (int i = 0; i < rd->n; i++) {
		bool kk = ph == PHASE_KICKED;

		pthread_join(rd->th[i], NULL);
		failures += kk ? kicked[i].failures : rd->ra[i].failures;
		*lookups += kk ? kicked[i].lookups : rd->ra[i].lookups;
		if (kk ? kicked[i].register_failed : rd->ra[i].register_failed) {
			fprintf(stderr, "FAIL %s: reader %d could not register\n", name, i);
			failures++;
		}
	}
	free(rd->th);
	free(rd->ra);
	return failures;
}

/* Waits for each update in turn, each within @bound; exits on a hang.
 * Returns the longest wait. */
static uint64_t watch_updates(struct update_thread *ut, uint64_t bound, const char *name,
			      enum phase ph, int nreaders)
{
	uint64_t worst = 0;

	for (int seen = 0; seen < ut->nupdates;) {
		uint64_t since = now_ns();
		int d;

		/* acquire: pairs with the updater thread's release of done */
		while ((d = atomic_load_explicit(&ut->done, memory_order_acquire)) == seen) {
			/* acquire: pairs with the updater's release */
			if (atomic_load_explicit(&ut->error, memory_order_acquire))
				break;
			if (now_ns() - since > bound) {
				fprintf(stderr,
					"FAIL %s: %s: update %d did not complete within %llu s "
					"with %d readers\n",
					name, phase_names[ph], seen + 1,
					(unsigned long long)(bound / 1000000000ull), nreaders);
				fflush(stderr);
				_exit(1);
			}
			sleep_ns(100 * 1000);
		}
		if (now_ns() - since > worst)
			worst = now_ns() - since;
		if (d == seen)
			break; /* the updater failed */
		seen = d;
	}
	return worst;
}

static struct memslot_protect *create(const char *name, bool expedited, enum phase ph)
{
	struct memslot_protect_options o;
	struct memslot_table *t = initial_table();
	char err[256] = "";

	memslot_protect_options_default(&o);
	o.expedited = expedited;
	if (ph == PHASE_KICKED)
		o.before_wait = kicked_hold;
	prot = t ? memslot_protect_create(name, &o, t, err, sizeof(err)) : NULL;
	if (!prot) {
		fprintf(stderr, "FAIL %s: cannot create the protection: %s\n", name, err);
		exit(1);
	}
	if (ph == PHASE_KICKED)
		memslot_protect_set_kick(prot, kicked_kick, NULL);
	return prot;
}

/* Runs readers and one updater; returns the failures. */
static unsigned run_one(const struct memslot_protect_ops *ops, bool expedited, enum phase ph)
{
	const char *name = ops->name;
	const int nupdates[] = { TORTURE_UPDATES, LIVENESS_UPDATES, KICKED_UPDATES };
	struct update_thread ut = { .nupdates = nupdates[ph], .rng = 0x2545f4914f6cdd1dull };
	struct readers rd;
	pthread_t uth;
	unsigned failures = 0;
	uint64_t lookups = 0, worst_wait;

	history_len = (uint64_t)ut.nupdates + 2;
	history = calloc(history_len, sizeof(*history));
	if (!history) {
		fprintf(stderr, "FAIL out of memory\n");
		exit(1);
	}
	/* relaxed: no thread of this run exists yet (pthread_create orders) */
	atomic_store_explicit(&started_seq, 1, memory_order_relaxed);
	atomic_store_explicit(&completed_seq, 1, memory_order_relaxed);
	atomic_store_explicit(&stop, 0, memory_order_relaxed);
	atomic_store_explicit(&readers_running, 0, memory_order_relaxed);
	atomic_store_explicit(&kick_gen, 0, memory_order_relaxed);
	create(name, expedited, ph);
	start_readers(&rd, ph);
	if (pthread_create(&uth, NULL, updater_main, &ut)) {
		fprintf(stderr, "FAIL cannot create the updater\n");
		exit(1);
	}
	worst_wait = watch_updates(&ut, ph == PHASE_TORTURE ? HANG_BOUND_NS : liveness_bound_ns,
				   name, ph, rd.n);
	pthread_join(uth, NULL);
	/* relaxed: after the join */
	failures += (unsigned)atomic_load_explicit(&ut.error, memory_order_relaxed);
	failures += join_readers(&rd, ph, name, &lookups);
	if (memslot_protect_destroy(prot)) {
		fprintf(stderr, "FAIL %s: destroy refused\n", name);
		failures++;
	}
	if (lookups == 0) {
		fprintf(stderr, "FAIL %s: the readers made no lookup\n", name);
		failures++;
	}
	printf("%-12s %-10s %-9s readers=%d updates=%d lookups=%llu longest-update-wait=%.1f ms "
	       "failures=%u\n",
	       name, phase_names[ph], expedited ? "expedited" : "normal", rd.n, ut.nupdates,
	       (unsigned long long)lookups, worst_wait / 1e6, failures);
	fflush(stdout);
	free(history);
	history = NULL;
	return failures;
}

/* ---- self-checks: the table helpers and the reader's checks */

static unsigned self_check(void)
{
	unsigned bad = 0;
	struct memslot_table *t, *base = memslot_table_alloc(0);
	struct memslot s1, s2;
	const struct memslot *got;

	history_len = 4;
	history = calloc(history_len, sizeof(*history));
	t = base ? memslot_table_copy(base, 2) : NULL;
	free(base);
	if (!t || !history) {
		fprintf(stderr, "FAIL self-check: out of memory\n");
		return 1;
	}
	s1 = slot_for(1, 0);
	s2 = slot_for(2, 1);
#define EXPECT(cond)                                                                         \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "FAIL self-check: %s (line %d)\n", #cond, __LINE__); \
			bad++;                                                               \
		}                                                                            \
	} while (0)
	EXPECT(memslot_table_create_slot(t, &s2) == 0);
	EXPECT(memslot_table_create_slot(t, &s1) == 0);
	EXPECT(t->slots[0].id == 1 && t->slots[1].id == 2);
	EXPECT(memslot_table_create_slot(t, &s1) == -ENOSPC);
	EXPECT(memslot_table_delete_slot(t, 7) == -ENOENT);
	EXPECT(memslot_table_move_slot(t, 1, SLOT_PAGES / 2) == -EEXIST);
	EXPECT(memslot_table_move_slot(t, 1, 5 * SLOT_PAGES) == 0);
	EXPECT(t->slots[0].id == 2 && t->slots[1].id == 1);
	EXPECT(memslot_lookup(t, 5 * SLOT_PAGES + 3) == &t->slots[1]);
	EXPECT(memslot_lookup(t, 0) == NULL);
	EXPECT(memslot_table_set_flags(t, 2, MEMSLOT_LOG_DIRTY_PAGES) == 0);
	EXPECT(memslot_table_delete_slot(t, 2) == 0 && t->nslots == 1 && t->slots[0].id == 1);
	t->generation = 2;
	snapshot_take(&history[2], t);
	got = memslot_lookup(t, 5 * SLOT_PAGES);
	EXPECT(got && check_lookup(t->poison, 2, 5 * SLOT_PAGES, got, 1, 3, "self-check") == 0);
	/* Each must be caught. */
	quiet_checks = true;
	EXPECT(check_lookup(MEMSLOT_TABLE_POISON, 2, 5 * SLOT_PAGES, got, 1, 3, "self-check") == 1);
	EXPECT(check_lookup(t->poison, 2, 5 * SLOT_PAGES, got, 3, 3, "self-check") == 1);
	EXPECT(check_lookup(t->poison, 2, 0, got, 1, 3, "self-check") == 1);
	EXPECT(check_lookup(t->poison, 2, 5 * SLOT_PAGES, NULL, 1, 3, "self-check") == 1);
	quiet_checks = false;
	/* The registry: every built-in by name and by index, names from the
	 * ops tables, specs checked. */
	{
		const struct memslot_protect_ops *ops;
		const char *out[16];
		char err[256];
		int i, n;

		memslot_protect_foreach (ops, i)
			EXPECT(memslot_protect_find(ops->name) == ops);
		EXPECT(i >= 7 && memslot_protect_nth(i) == NULL && memslot_protect_nth(-1) == NULL);
		for (n = 0; memslot_protect_names[n]; n++)
			EXPECT(memslot_protect_nth(n) &&
			       !strcmp(memslot_protect_nth(n)->name, memslot_protect_names[n]));
		EXPECT(n >= 7 && !strcmp(memslot_protect_names[3], "rwlock-cond"));
		EXPECT(memslot_protect_register(&memslot_protect_mutex_ops) == -EEXIST);
		EXPECT(memslot_protect_spec_check("srcu-mb", err, sizeof(err)) == 0);
		EXPECT(memslot_protect_spec_check("srcu-fast:gp=expedited", err, sizeof(err)) == 0);
		EXPECT(memslot_protect_spec_check("floor:retain=1M", err, sizeof(err)) == 0);
		EXPECT(memslot_protect_spec_check("srcu-mb:gp=expedited,idle=off", err,
						  sizeof(err)) == 0);
		EXPECT(memslot_protect_spec_check("srcu-mb:idle=maybe", err, sizeof(err)) ==
		       -EINVAL);
		EXPECT(memslot_protect_spec_check("nope", err, sizeof(err)) == -EINVAL &&
		       strstr(err, "nope"));
		EXPECT(memslot_protect_spec_check("mutex:gp=normal", err, sizeof(err)) == -EINVAL);
		EXPECT(memslot_protect_spec_check("srcu-mb:gp=slow", err, sizeof(err)) == -EINVAL);
		EXPECT(memslot_protect_spec_check("floor:retain=lots", err, sizeof(err)) ==
		       -EINVAL);
		EXPECT(memslot_protect_spec_expand("all", out, 16) == n &&
		       !strcmp(out[n - 1], "urcu"));
		EXPECT(memslot_protect_spec_expand("rwlock", out, 16) == 0);
		EXPECT(memslot_protect_spec_expand("floor:retain=1M,srcu-mb:gp=expedited,mutex",
						   out, 16) == 3 &&
		       !strcmp(out[0], "floor:retain=1M") &&
		       !strcmp(out[1], "srcu-mb:gp=expedited") && !strcmp(out[2], "mutex"));
		EXPECT(memslot_protect_spec_expand("srcu-fast:gp=expedited,idle=off,floor", out,
						   16) == 2 &&
		       !strcmp(out[0], "srcu-fast:gp=expedited,idle=off") &&
		       !strcmp(out[1], "floor"));
		EXPECT(memslot_protect_spec_expand("all", out, 2) == -1);
	}
#undef EXPECT
	free(t);
	free(history);
	history = NULL;
	return bad;
}

static void usage(void)
{
	fprintf(stderr, "usage: test_memslot_protect [--phase torture|liveness|kicked|all] "
			"[--bound-s N] [PROTECTION...]\n"
			"       test_memslot_protect --broken\n");
	exit(2);
}

/* Runs @phases of every protection in @names; returns the failures. */
static unsigned run_all(const char *const *names, int nnames, unsigned phases)
{
	unsigned failures = 0;

	for (int i = 0; i < nnames; i++) {
		const struct memslot_protect_ops *ops = memslot_protect_find(names[i]);

		if (!ops) {
			fprintf(stderr, "test_memslot_protect: unknown protection '%s'\n",
				names[i]);
			exit(2);
		}
		if (phases & (1u << PHASE_TORTURE)) {
			failures += run_one(ops, false, PHASE_TORTURE);
			failures += run_one(ops, true, PHASE_TORTURE);
		}
		if (phases & (1u << PHASE_LIVENESS))
			failures += run_one(ops, false, PHASE_LIVENESS);
		if (phases & (1u << PHASE_KICKED))
			failures += run_one(ops, false, PHASE_KICKED);
	}
	return failures;
}

/* The negative control: the torture must see the no-wait protection fail;
 * a few rounds make a miss by bad luck vanishingly unlikely. */
static int run_broken(unsigned self_failures)
{
	unsigned seen = 0;

	if (memslot_protect_register(&no_wait_ops)) {
		fprintf(stderr, "FAIL cannot register the no-wait protection\n");
		return 1;
	}
	for (int round = 0; round < 5 && !seen; round++)
		seen = run_one(&no_wait_ops, false, PHASE_TORTURE);
	printf("%s: the no-wait protection was %s (%u failures)\n",
	       seen && !self_failures ? "PASS" : "FAIL", seen ? "caught" : "NOT caught", seen);
	return seen && !self_failures ? 0 : 1;
}

int main(int argc, char **argv)
{
	size_t mem = (size_t)NIDS * SLOT_PAGES * PAGE_SIZE;
	unsigned failures, phases = (1u << NPHASES) - 1;
	bool broken = false;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--broken")) {
			broken = true;
		} else if (!strcmp(argv[i], "--phase") && i + 1 < argc) {
			const char *ph = argv[++i];

			phases = 0;
			for (int k = 0; k < NPHASES; k++)
				if (!strcmp(ph, phase_names[k]) || !strcmp(ph, "all"))
					phases |= 1u << k;
			if (!phases)
				usage();
		} else if (!strcmp(argv[i], "--bound-s") && i + 1 < argc) {
			liveness_bound_ns = strtoull(argv[++i], NULL, 10) * 1000000000ull;
			if (!liveness_bound_ns)
				usage();
		} else {
			usage();
		}
	}
	backing = aligned_alloc(PAGE_SIZE, mem);
	if (!backing) {
		fprintf(stderr, "FAIL out of memory\n");
		return 1;
	}
	memset(backing, 0x5a, mem);
	failures = self_check();
	printf("self-check failures=%u\n", failures);
	if (broken) {
		rc = run_broken(failures);
		free(backing);
		return rc;
	}
	if (i < argc)
		failures += run_all((const char *const *)argv + i, argc - i, phases);
	else
		for (int n = 0; memslot_protect_names[n]; n++)
			failures +=
				run_all((const char *const *)&memslot_protect_names[n], 1, phases);
	free(backing);
	printf("%s: failures=%u\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
