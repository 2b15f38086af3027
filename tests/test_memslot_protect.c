/*
 * Correctness of the memslot read protections (lib/memslot_protect*.c).
 *
 *   test_memslot_protect [PROTECTION...]     (default: every registered one)
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
 *     generous bound (LIVENESS_BOUND_NS, 10 s): `rwlock-cond` must not
 *     starve the updater.  This is a check that the update finishes at
 *     all, not a timing goal.  (The torture's updates get a hang detector
 *     of HANG_BOUND_NS.)
 *
 * A self-check first feeds the reader's checks bad inputs (a poisoned
 * table, a table outside the window, a slot the history does not hold) and
 * requires each to be caught.  `test_memslot_protect --broken` runs the
 * torture on a protection that frees tables without waiting and passes
 * only if the torture catches it: the torture cannot pass by checking
 * nothing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/memslot_protect/memslot_protect.h"
#include "lib/vm/memslots.h"
#include "lib/util/timing.h"

#define NIDS 6                     /* slot ids 1..NIDS */
#define NPOS 12                    /* positions a slot can sit at */
#define SLOT_PAGES 16
#define GFN_SPAN ((uint64_t)NPOS * SLOT_PAGES)
/* Liveness phase: each update must finish within this (a liveness check
 * with a wide margin, not a timing goal).  Torture phase: only a hang
 * detector, wider still, because its readers linger inside their sections
 * and the test machines are shared and overcommitted. */
#ifndef LIVENESS_BOUND_NS
#define LIVENESS_BOUND_NS (10ull * 1000000000ull)
#endif
#define HANG_BOUND_NS (60ull * 1000000000ull)

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

static uint8_t *backing;           /* host memory of slot id i at (i-1)*SLOT_PAGES pages */
static struct snapshot *history;   /* by table generation */
static uint64_t history_len;
static atomic_ulong started_seq;   /* last update begun (before publishing) */
static atomic_ulong completed_seq; /* last update returned (after publishing) */
static atomic_int stop;
static atomic_int readers_running; /* readers past their first lookup */

static struct memslot_protect *prot;
static bool quiet_checks;          /* the self-check's expected failures */

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

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
static atomic_int reported;

static unsigned fail(const char *who, const char *why)
{
	if (!quiet_checks && atomic_fetch_add_explicit(&reported, 1, memory_order_relaxed) < 5)
		fprintf(stderr, "FAIL %s: %s\n", who, why);
	return 1;
}

static unsigned check_lookup(uint32_t poison, uint64_t gen, uint64_t gfn,
			     const struct memslot *seen, uint64_t lo, uint64_t hi,
			     const char *who)
{
	const char *why = NULL;
	char buf[160];

	if (poison != MEMSLOT_TABLE_LIVE) {
		why = "table is poisoned (used after retire)";
	} else if (gen < lo || gen > hi || gen >= history_len) {
		snprintf(buf, sizeof(buf), "table generation %llu outside the section's window [%llu, %llu]",
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

struct reader_arg {
	int index;
	int liveness;       /* spin only, no checks */
	uint64_t lookups;
	unsigned failures;
	int register_failed;
};

static void *reader_main(void *p)
{
	struct reader_arg *a = p;
	char name[32];
	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(a->index + 1);
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
		/* acquire: pairs with the updater's release store after an
		 * update returned; that table (or a later one) is current. */
		uint64_t lo = atomic_load_explicit(&completed_seq, memory_order_acquire);
		const struct memslot_table *t = memslot_read_begin(r);
		uint64_t gfn = xorshift(&rng) % GFN_SPAN, hi, gen = t->generation;
		uint32_t poison = t->poison;
		const struct memslot *s;
		struct memslot seen = { 0 };
		int found;

		if (a->liveness) {
			spin_for_ns(100);
			memslot_read_end(r);
			memslot_quiescent(r);
			if (a->lookups++ == 0)
				atomic_fetch_add_explicit(&readers_running, 1, memory_order_relaxed);
			continue;
		}
		s = memslot_lookup(t, gfn);
		found = s != NULL;
		if (found) {
			uintptr_t hva, lo_hva = (uintptr_t)backing;

			seen = *s;
			hva = (uintptr_t)seen.hva + ((gfn - seen.base_gfn) << PAGE_SHIFT);
			/* Touch the page, as a vCPU would (check_lookup reports
			 * an address outside guest memory). */
			if (seen.hva && hva >= lo_hva &&
			    hva < lo_hva + (size_t)NIDS * SLOT_PAGES * PAGE_SIZE)
				(void)*(volatile uint8_t *)hva;
		}
		if ((xorshift(&rng) & 7) == 0) {
			/* Linger in the section, then look again: a table
			 * retired meanwhile shows here. */
			spin_for_ns(xorshift(&rng) % 2000);
			if (t->poison != MEMSLOT_TABLE_LIVE || t->generation != gen ||
			    (found && !slot_equal(s, &seen))) {
				a->failures += fail(name, "table or slot changed or poisoned inside the read section");
			}
		}
		memslot_read_end(r);
		/* acquire: pairs with the updater's release store before it
		 * published; every table this section could see is <= hi. */
		hi = atomic_load_explicit(&started_seq, memory_order_acquire);
		memslot_quiescent(r);
		a->failures += check_lookup(poison, gen, gfn, found ? &seen : NULL, lo, hi, name);
		if (a->lookups++ == 0)
			atomic_fetch_add_explicit(&readers_running, 1, memory_order_relaxed);
	}
	memslot_reader_unregister(r);
	return NULL;
}

/* ---- the updater's changes */

struct change {
	uint64_t seq;       /* generation the new table gets */
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
		uint32_t pos = (uint32_t)(xorshift(rng) % NPOS);

		if (pos_free(t, pos))
			return pos;
	}
}

/* A random create, delete, move or flag toggle; always one that is valid,
 * so any error is a defect of lib/memslots.c. */
static int random_change(struct memslot_table *t, void *p)
{
	struct change *c = p;
	uint64_t op = xorshift(c->rng) % 4;
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
		uint32_t id = t->slots[xorshift(c->rng) % t->nslots].id;

		if (op == 1)
			rc = memslot_table_delete_slot(t, id);
		else if (op == 2)
			rc = memslot_table_move_slot(t, id, (uint64_t)pick_free_pos(t, c->rng) * SLOT_PAGES);
		else
			rc = memslot_table_set_flags(t, id, memslot_table_find_id(t, id)->flags ^
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
	return 2 * (int)n + 1;      /* more readers than CPUs */
}

struct update_thread {
	int nupdates;
	atomic_int done;            /* updates completed */
	atomic_int error;
	uint64_t rng;
};

static void *updater_main(void *p)
{
	struct update_thread *u = p;

	for (int i = 0; i < u->nupdates; i++) {
		uint64_t seq = atomic_load_explicit(&started_seq, memory_order_relaxed) + 1;
		struct change c = { .seq = seq, .rng = &u->rng };
		int rc;

		/* release: a reader that loads this after its section knows
		 * no table newer than seq existed during the section. */
		atomic_store_explicit(&started_seq, seq, memory_order_release);
		rc = memslot_protect_update(prot, random_change, &c);
		if (rc) {
			fprintf(stderr, "FAIL update %llu: %s\n", (unsigned long long)seq, strerror(-rc));
			atomic_store(&u->error, 1);
			break;
		}
		/* release: pairs with the readers' acquire before read_begin. */
		atomic_store_explicit(&completed_seq, seq, memory_order_release);
		/* release: pairs with the main thread's acquire polling. */
		atomic_store_explicit(&u->done, i + 1, memory_order_release);
		/* A pause of 0-20 us: the updates spread over time, so readers
		 * meet tables of every age. */
		spin_for_ns(xorshift(&u->rng) % 20000);
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

static int no_wait_init(struct memslot_protect *p, struct memslot_table *initial)
{
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

	memslot_table_retire(atomic_load(&st->table));
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

	return atomic_load_explicit(&st->table, memory_order_acquire);
}

static void no_wait_nop(struct memslot_reader *r)
{
	(void)r;
}

static struct memslot_table *no_wait_current(struct memslot_protect *p)
{
	struct no_wait_state *st = p->priv;

	return atomic_load_explicit(&st->table, memory_order_relaxed);
}

static int no_wait_replace(struct memslot_protect *p, struct memslot_table *next)
{
	struct no_wait_state *st = p->priv;

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
	.name = "no-wait (broken on purpose)",
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

/* Runs readers and one updater; returns the failures. */
static unsigned run_one(const struct memslot_protect_ops *ops, bool expedited, int liveness)
{
	const char *name = ops->name;
	struct memslot_protect_options o;
	int nreaders = reader_count();
	pthread_t *th = calloc((size_t)nreaders, sizeof(*th));
	struct reader_arg *ra = calloc((size_t)nreaders, sizeof(*ra));
	struct update_thread ut = { .nupdates = liveness ? LIVENESS_UPDATES : TORTURE_UPDATES,
				    .rng = 0x2545f4914f6cdd1dull };
	pthread_t uth;
	unsigned failures = 0;
	uint64_t lookups = 0, worst_wait = 0;
	struct memslot_table *t;

	history_len = (uint64_t)ut.nupdates + 2;
	history = calloc(history_len, sizeof(*history));
	if (!th || !ra || !history) {
		fprintf(stderr, "FAIL out of memory\n");
		exit(1);
	}
	atomic_store(&started_seq, 1);
	atomic_store(&completed_seq, 1);
	atomic_store(&stop, 0);
	atomic_store(&readers_running, 0);
	t = initial_table();
	memslot_protect_options_default(&o);
	o.expedited = expedited;
	prot = t ? memslot_protect_create_ops(ops, &o, t) : NULL;
	if (!prot) {
		fprintf(stderr, "FAIL %s: cannot create the protection\n", name);
		exit(1);
	}
	for (int i = 0; i < nreaders; i++) {
		ra[i].index = i;
		ra[i].liveness = liveness;
		if (pthread_create(&th[i], NULL, reader_main, &ra[i])) {
			fprintf(stderr, "FAIL cannot create reader %d\n", i);
			exit(1);
		}
	}
	/* Let every reader get going (and rwlock-cond readers take the read
	 * side) before the first update. */
	while (atomic_load_explicit(&readers_running, memory_order_relaxed) < nreaders)
		sleep_ns(1000 * 1000);
	if (pthread_create(&uth, NULL, updater_main, &ut)) {
		fprintf(stderr, "FAIL cannot create the updater\n");
		exit(1);
	}
	/* Bound each update's wait: the liveness check. */
	const uint64_t bound = liveness ? LIVENESS_BOUND_NS : HANG_BOUND_NS;

	for (int seen = 0; seen < ut.nupdates;) {
		uint64_t since = now_ns();
		int d;

		while ((d = atomic_load_explicit(&ut.done, memory_order_acquire)) == seen) {
			if (atomic_load(&ut.error))
				break;
			if (now_ns() - since > bound) {
				fprintf(stderr, "FAIL %s: %s: update %d did not complete within %llu s with %d readers\n",
					name, liveness ? "liveness" : "torture", seen + 1,
					(unsigned long long)(bound / 1000000000ull), nreaders);
				fflush(stderr);
				_exit(1);
			}
			sleep_ns(100 * 1000);
		}
		if (now_ns() - since > worst_wait)
			worst_wait = now_ns() - since;
		if (d == seen)
			break;        /* the updater failed */
		seen = d;
	}
	pthread_join(uth, NULL);
	failures += (unsigned)atomic_load(&ut.error);
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (int i = 0; i < nreaders; i++) {
		pthread_join(th[i], NULL);
		failures += ra[i].failures;
		lookups += ra[i].lookups;
		if (ra[i].register_failed) {
			fprintf(stderr, "FAIL %s: reader %d could not register\n", name, i);
			failures++;
		}
	}
	if (memslot_protect_destroy(prot)) {
		fprintf(stderr, "FAIL %s: destroy refused\n", name);
		failures++;
	}
	if (lookups == 0) {
		fprintf(stderr, "FAIL %s: the readers made no lookup\n", name);
		failures++;
	}
	printf("%-12s %-10s %-9s readers=%d updates=%d lookups=%llu longest-update-wait=%.1f ms failures=%u\n",
	       name, liveness ? "liveness" : "torture", expedited ? "expedited" : "normal",
	       nreaders, ut.nupdates, (unsigned long long)lookups, worst_wait / 1e6, failures);
	fflush(stdout);
	free(history);
	history = NULL;
	free(th);
	free(ra);
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
#define EXPECT(cond) do { if (!(cond)) { fprintf(stderr, "FAIL self-check: %s (line %d)\n", #cond, __LINE__); bad++; } } while (0)
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
	/* Every listed name is registered under that name. */
	for (int i = 0; memslot_protect_names[i]; i++)
		EXPECT(memslot_protect_find(memslot_protect_names[i]) &&
		       !strcmp(memslot_protect_find(memslot_protect_names[i])->name,
			       memslot_protect_names[i]));
#undef EXPECT
	free(t);
	free(history);
	history = NULL;
	return bad;
}

int main(int argc, char **argv)
{
	unsigned failures;
	size_t mem = (size_t)NIDS * SLOT_PAGES * PAGE_SIZE;
	bool broken = argc == 2 && !strcmp(argv[1], "--broken");
	const char *const *names;
	int nnames = 0;

	backing = aligned_alloc(PAGE_SIZE, mem);
	if (!backing) {
		fprintf(stderr, "FAIL out of memory\n");
		return 1;
	}
	memset(backing, 0x5a, mem);
	failures = self_check();
	printf("self-check failures=%u\n", failures);
	if (broken) {
		/* The torture must see the no-wait protection fail; a few
		 * rounds make a miss by bad luck vanishingly unlikely. */
		unsigned seen = 0;

		for (int round = 0; round < 5 && !seen; round++)
			seen = run_one(&no_wait_ops, false, 0);
		free(backing);
		printf("%s: the no-wait protection was %s (%u failures)\n",
		       seen && !failures ? "PASS" : "FAIL", seen ? "caught" : "NOT caught", seen);
		return seen && !failures ? 0 : 1;
	}
	names = argc > 1 ? (const char *const *)argv + 1 : memslot_protect_names;
	while (argc > 1 ? nnames < argc - 1 : names[nnames] != NULL)
		nnames++;
	for (int i = 0; i < nnames; i++) {
		const struct memslot_protect_ops *ops = memslot_protect_find(names[i]);

		if (!ops) {
			fprintf(stderr, "test_memslot_protect: unknown protection '%s'\n", names[i]);
			return 2;
		}
		failures += run_one(ops, false, 0);
		failures += run_one(ops, true, 0);
		failures += run_one(ops, false, 1);
	}
	free(backing);
	printf("%s: failures=%u\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
