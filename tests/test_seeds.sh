#!/bin/sh
# The seed reproduction configs (configs/seeds/*.ini) stay runnable: for each,
# `dlbench run -n` (the dry check: every cell's options against its
# workload, every claim's keys and expect) must pass, the config must hold a
# claim, and every column a claim names (figure, and the columns of its a, b
# and where filters) must be a column of some workload's table, so that a
# renamed option or column breaks the tests, not a user's reproduction.
# Usage: sh tests/test_seeds.sh BUILD_DIR
set -u
B=${1:?usage: test_seeds.sh BUILD_DIR}
DL="$B/dlbench"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

n=0
for f in configs/seeds/seed-*.ini; do
	[ -e "$f" ] || fail "no configs/seeds/seed-*.ini"
	n=$((n + 1))
	"$DL" run -n "$f" > "$T/dry.txt" 2> "$T/err.txt" || fail "$f: run -n: $(cat "$T/err.txt")"
	grep -Eq '^[1-9][0-9]* runs in [1-9][0-9]* scenarios$' "$T/dry.txt" ||
		fail "$f: run -n: first line $(head -1 "$T/dry.txt")"
	grep -q '^\[claim\.' "$f" || fail "$f: no [claim.NAME] section"
	# figure = COLUMN; a/b/where = col=value;col!=value ...
	sed -n 's/^figure *= *//p' "$f" > "$T/cols"
	sed -n 's/^\(a\|b\|where\) *= *//p' "$f" | tr '; ' '\n\n' |
		sed -n 's/^\([a-z0-9_-]*\)!\{0,1\}=.*/\1/p' | tr '-' '_' >> "$T/cols"
	for c in $(sort -u "$T/cols"); do
		grep -q "\"$c\"" workloads/*.c || fail "$f: no workload has a column '$c'"
	done
	echo "$f: $(head -1 "$T/dry.txt"), $(grep -c '^\[claim\.' "$f") claims"
done
[ "$n" -gt 0 ] || fail "no seed config"
exit 0
