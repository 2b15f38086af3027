#!/bin/sh
# `ninja modelcheck`: model-checks the SRCU grace period of lib/srcu/srcu.c
# (tests/model/srcu.pml) with spin, exhaustively.  The model must verify,
# with and without the idle check's first lock read (IDLE_L1: it is
# redundant), and each mutated model must yield a counterexample.  Work
# files and pan's logs go to build/model/<name>/; a counterexample's trail
# replays with `cd build/model/<name> && spin -t -p ../../../tests/model/srcu.pml`
# (with the same -D flag).
set -u
cd "$(dirname "$0")/../.."
if ! command -v spin > /dev/null; then
	echo "modelcheck: spin is not installed (Debian: apt-get install spin)"
	exit 1
fi
out=build/model
model=$(pwd)/tests/model/srcu.pml
fail=0

# check NAME verify|counterexample [spin -D flags]
check() {
	name=$1
	want=$2
	shift 2
	d=$out/$name
	rm -rf "$d"
	mkdir -p "$d"
	if ! (cd "$d" && spin "$@" -a "$model" > spin.log 2>&1 &&
	      ${CC:-cc} -O1 -w -DSAFETY -o pan pan.c > cc.log 2>&1); then
		echo "FAIL            $name: spin or the compiler failed (logs in $d)"
		fail=1
		return
	fi
	(cd "$d" && ./pan -m1000000 > pan.log 2>&1)
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$d/pan.log")
	states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$d/pan.log")
	if grep -q "max search depth too small" "$d/pan.log"; then
		echo "FAIL            $name: the search was truncated ($d/pan.log)"
		fail=1
	elif [ "$want" = verify ] && [ "$errors" = 0 ]; then
		echo "verified        $name ($states states, exhaustive)"
	elif [ "$want" = counterexample ] && [ "${errors:-0}" != 0 ] &&
	     grep -q "assertion violated" "$d/pan.log"; then
		echo "counterexample  $name (as it must)"
	else
		echo "FAIL            $name: wanted $want, got ${errors:-?} error(s) ($d/pan.log)"
		fail=1
	fi
}

check srcu verify
check srcu-idle-l1 verify -DIDLE_L1
check mutant-locks-first counterexample -DLOCKS_FIRST
check mutant-one-scan counterexample -DONE_SCAN
check mutant-idle-locks-first counterexample -DIDLE_LOCKS_FIRST
check mutant-idle-one-index counterexample -DIDLE_ONE_INDEX
if [ "$fail" = 0 ]; then
	echo "modelcheck: passed"
else
	echo "modelcheck: FAILED"
fi
exit "$fail"
