/*
 * The grace period of lib/srcu/srcu.c, model-checked with spin.
 *
 *   spin -a tests/model/srcu.pml && gcc -DSAFETY -o pan pan.c && ./pan
 *   (tests/model/check.sh, `ninja modelcheck`, runs it and its mutants)
 *
 * What is modelled: two indexes; per-reader monotonic lock and unlock
 * counters per index; NR readers, each running NS read sections, that may
 * be delayed for any number of updater steps between reading the index and
 * incrementing its lock counter (the straggler window); one updater running
 * NGP grace periods, each either the idle check (srcu_readers_idle) or the
 * full one: wait for the inactive index [straggler], flip, wait for the old
 * index [old].  Every load of a counter is its own step, so readers move
 * between any two loads of a scan.  Whether the updater tries the idle check
 * is chosen anew at each grace period: the model covers domains with the
 * idle fast path on and off.
 *
 * What is not: memory order.  Steps are sequentially consistent; fence A
 * (srcu.c, at the top) is what makes the C code behave so for the steps
 * modelled here, and tests/test_srcu.c's fence-a test checks that step.
 * Grace-period sharing (one updater here) and classic's sync_func calls
 * are not modelled either; classic runs the same scans and flip.
 *
 * The property: a reader whose section began (its lock increment) before a
 * grace period began has ended before that grace period returns.  Ghost
 * variables: inside[r], the section count secno[r], and their snapshot at
 * the start of each grace period.
 *
 * Variants (spin -D...): IDLE_L1 reads the lock counts a first time before
 * the unlock counts in the idle check and requires both lock reads equal,
 * as earlier versions did; it verifies too, and the default (no first read)
 * verifies without it: the first read is redundant.  Mutants, each of which
 * must produce a counterexample: LOCKS_FIRST (the index scan sums locks
 * before unlocks), ONE_SCAN (no wait for the inactive index before the
 * flip), IDLE_LOCKS_FIRST, IDLE_ONE_INDEX (the idle check reads the current
 * index only).
 */

#ifndef NR
#define NR 2          /* readers */
#endif
#ifndef NS
#define NS 2          /* read sections per reader */
#endif
#ifndef NGP
#define NGP 3         /* grace periods */
#endif

byte idx;                     /* srcu.c: sp->idx, bit 0 */
byte lock[2 * NR];            /* srcu.h: r->lock[i] is lock[2 * r + i] */
byte unlock[2 * NR];          /* srcu.h: r->unlock[i] */

/* ghosts */
bool inside[NR];
byte secno[NR];

/*
 * srcu.h srcu_read_lock / srcu_read_unlock.
 */
proctype reader(byte r)
{
	byte i;
	byte k = 0;

	do
	:: k < NS ->
		/* srcu_read_lock: word = atomic_load(r->idxp) */
		i = idx;
		/* the straggler window: SRCU_TORTURE_DELAY_AFTER_INDEX; any
		 * number of updater steps may run here */
		/* the increment of r->lock[word & 1]: the section begins */
		atomic { lock[2 * r + i]++; inside[r] = true; secno[r]++ };
		/* srcu_read_unlock: the release store of r->unlock[idx & 1] */
		atomic { unlock[2 * r + i]++; inside[r] = false };
		k++
	:: else -> break
	od
}

/* srcu.c sum_unlocks(sp, i): one acquire load per reader */
inline sum_unlocks(i, s)
{
	k = 0;
	do
	:: k < NR -> atomic { s = s + unlock[2 * k + i]; k++ }
	:: else -> break
	od
}

/* srcu.c sum_locks(sp, i): one relaxed load per reader */
inline sum_locks(i, s)
{
	k = 0;
	do
	:: k < NR -> atomic { s = s + lock[2 * k + i]; k++ }
	:: else -> break
	od
}

/* srcu.c srcu_index_idle(sp, i): unlocks, then locks ([scan]) */
inline index_idle(i, ok)
{
	u = 0;
	l = 0;
#ifdef LOCKS_FIRST
	sum_locks(i, l);
	sum_unlocks(i, u);
#else
	sum_unlocks(i, u);
	sum_locks(i, l);
#endif
	ok = (u == l)
}

/* srcu.c srcu_wait_index / srcu_wait_index_classic: poll until idle */
inline wait_index(i)
{
	do
	:: index_idle(i, ok); if :: ok -> break :: else -> skip fi
	od
}

/* srcu.c srcu_readers_idle: both indexes, unlocks then locks */
inline readers_idle(ok)
{
	u = 0;
	l = 0;
#ifdef IDLE_L1
	l1 = 0;
	sum_locks(0, l1);
	sum_locks(1, l1);
#endif
#if defined(IDLE_ONE_INDEX)
	sum_unlocks(idx, u);
	sum_locks(idx, l);
#elif defined(IDLE_LOCKS_FIRST)
	sum_locks(0, l);
	sum_locks(1, l);
	sum_unlocks(0, u);
	sum_unlocks(1, u);
#else
	sum_unlocks(0, u);
	sum_unlocks(1, u);
	sum_locks(0, l);
	sum_locks(1, l);
#endif
#ifdef IDLE_L1
	ok = (u == l && l1 == l)
#else
	ok = (u == l)
#endif
}

#define BEGAN_BEFORE(r) (snap_in[r] && inside[r] && secno[r] == snap_sec[r])

proctype updater()
{
	byte g = 0, k, cur, u, l, l1, r;
	bool ok;
	bool snap_in[NR];
	byte snap_sec[NR];

	do
	:: g < NGP ->
		/* srcu_synchronize_common: the grace period begins (sequence
		 * odd); record who is inside now */
		atomic {
			r = 0;
			do
			:: r < NR -> snap_in[r] = inside[r]; snap_sec[r] = secno[r]; r++
			:: else -> break
			od
		};
		/* srcu_gp_modern: sp->idle_fast_path && srcu_readers_idle(sp) */
		if
		:: readers_idle(ok)
		:: ok = false
		fi;
		if
		:: ok -> skip
		:: else ->
			cur = idx;
			/* [straggler]: srcu_wait_index(sp, cur ^ 1, w) */
#ifndef ONE_SCAN
			wait_index(1 - cur);
#endif
			/* srcu_flip(sp) */
			idx = 1 - cur;
			/* [old]: srcu_wait_index(sp, cur, w) */
			wait_index(cur)
		fi;
		/* the grace period returns: every reader inside since before
		 * it began has left */
		atomic {
			r = 0;
			do
			:: r < NR -> assert(!BEGAN_BEFORE(r)); r++
			:: else -> break
			od
		};
		g++
	:: else -> break
	od
}

init
{
	atomic {
		byte r = 0;
		do
		:: r < NR -> run reader(r); r++
		:: else -> break
		od;
		run updater()
	}
}
