#!/bin/sh
# Tests of `dlbench run --shard I/N`, `dlbench merge` and `run --emit` on the
# stand-in workload (build/tests/dlbench_fake): shards split the cells
# (index I mod N) and merged give the unsharded run's cells.csv rows and
# summary.csv byte for byte (host column included); GNU parallel runs the
# emitted script (2 shards on this machine) to the same result; merge
# reports missing and duplicated runs, refuses another config and a shard
# still running; a resumed shard keeps its share.  The Slurm script is
# checked here for its shape only: tests/test_slurm.sh runs it on a real
# single-node Slurm.
# Usage: tests/test_shard.sh BUILD_DIR   (e.g. build, build/asan)
set -u
B=${1:-build}
DL="$PWD/$B/tests/dlbench_fake"
T=$(mktemp -d /tmp/test_shard.XXXXXX)
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# cells.csv without the columns that differ between runs (duration_s)
rows() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "duration_s") d = i }
		 { for (i = 1; i <= NF; i++) if (i != d) printf "%s%s", $i, (i < NF ? "," : "\n") }' "$1" |
		sort
}

{ cat tests/fake_matrix.ini; cat <<'EOF'; } > "$T/c.ini"

[claim.a-scales]
text = "value_ns grows with size"
scenario = a
figure = value_ns
a = size=1
b = size=8
expect = b/a >= 4
EOF
host=$(hostname)

# ---- the unsharded run, the reference (b's failing cells: exit 1)
"$DL" run -P --out "$T/full" "$T/c.ini" > "$T/full.out" 2>&1
[ $? -eq 1 ] || fail "unsharded run: $(cat "$T/full.out")"
[ "$(tail -n +2 "$T/full/cells.csv" | wc -l)" -eq 42 ] || fail "unsharded: $(tail -n +2 "$T/full/cells.csv" | wc -l) runs, want 42"

# ---- shards by hand
"$DL" run -n --shard 2/2 "$T/c.ini" > /dev/null 2> "$T/err.txt" && fail "--shard 2/2 accepted"
grep -q "shard '2/2' is not I/N" "$T/err.txt" || fail "--shard 2/2: $(cat "$T/err.txt")"
"$DL" run -n --shard 1/2 "$T/c.ini" > "$T/dry1.txt" || fail "run -n --shard 1/2"
[ "$(head -1 "$T/dry1.txt")" = "21 runs in 2 scenarios (shard 1/2)" ] || fail "shard dry run: $(head -1 "$T/dry1.txt")"
# cells 1, 3, 5, 7 of a (indexes 0-7), then b's cells 1, 3, 5 (indexes 8-13)
[ "$(tail -n +2 "$T/dry1.txt" | cut -d- -f1-2 | sort -u | tr '\n' ' ')" = "a-0001 a-0003 a-0005 a-0007 b-0001 b-0003 b-0005 " ] ||
	fail "shard 1/2 cells: $(tail -n +2 "$T/dry1.txt" | cut -d- -f1-2 | sort -u | tr '\n' ' ')"
for i in 0 1; do
	"$DL" run -P --shard $i/2 --out "$T/s$i" "$T/c.ini" > "$T/s$i.out" 2>&1
	[ $? -le 1 ] || fail "shard $i/2: $(cat "$T/s$i.out")"
	grep -q "\"shard\": \"$i/2\"" "$T/s$i/meta.json" || fail "shard $i: meta.json lacks the shard"
	grep -q "\"host\": \"$host\"" "$T/s$i/meta.json" || fail "shard $i: meta.json lacks the host"
done
[ "$(tail -n +2 "$T/s0/cells.csv" | wc -l)" -eq 21 ] && [ "$(tail -n +2 "$T/s1/cells.csv" | wc -l)" -eq 21 ] ||
	fail "shards: $(tail -n +2 "$T/s0/cells.csv" | wc -l) + $(tail -n +2 "$T/s1/cells.csv" | wc -l) runs, want 21 + 21"
"$DL" merge -P "$T/m" "$T/s0" "$T/s1" > "$T/m.out" 2> "$T/m.err"
[ $? -eq 1 ] || fail "merge of shards with failed runs: exit $?, want 1: $(cat "$T/m.err")"
grep -q "missing\|more than once" "$T/m.err" && fail "merge of complete shards: $(cat "$T/m.err")"
[ "$(rows "$T/m/cells.csv")" = "$(rows "$T/full/cells.csv")" ] || fail "merged cells.csv differs from the unsharded run's"
cmp -s "$T/m/fake/summary.csv" "$T/full/fake/summary.csv" || fail "merged summary.csv differs from the unsharded run's"
head -1 "$T/m/fake/summary.csv" | grep -q ',host$' || fail "merged summary: no host column"
[ "$(ls "$T/m/fake/hist" | wc -l)" -eq "$(ls "$T/full/fake/hist" | wc -l)" ] || fail "merged histograms"
[ -f "$T/m/cells/a-0003-r1/summary.csv" ] && [ -f "$T/m/cells/a-0003-r1.log" ] || fail "merged cells/ lacks a run"
grep -q '"merged_from": \[".*/s0", ".*/s1"\], "hosts": \["'"$host"'"\]' "$T/m/meta.json" || fail "merged meta.json: $(grep merged "$T/m/meta.json")"
cmp -s "$T/m/config.ini" "$T/c.ini" || fail "merged config.ini"

# ---- merge says what is missing or duplicated, refuses another config
"$DL" merge -P "$T/m0" "$T/s0" > /dev/null 2> "$T/err.txt"
[ $? -eq 1 ] && grep -q "21 runs missing (no directory ran them): a-0001-w0, a-0001-r0, " "$T/err.txt" ||
	fail "merge of one shard: $(cat "$T/err.txt")"
"$DL" merge -P "$T/md" "$T/full" "$T/s1" > /dev/null 2> "$T/err.txt"
grep -q "21 runs ran more than once (all kept, each with its host): a-0001-w0" "$T/err.txt" ||
	fail "merge with a shard twice: $(cat "$T/err.txt")"
[ "$(tail -n +2 "$T/md/cells.csv" | wc -l)" -eq 63 ] || fail "duplicated runs not all kept"
[ -f "$T/md/cells/a-0001-r0-$host-2/summary.csv" ] || fail "the second copy of a run is not named <run>-<host>-2"
sed 's/size = 1:\*2:8/size = 1:*2:16/' "$T/c.ini" > "$T/other.ini"
"$DL" run -P -n "$T/other.ini" > /dev/null || fail "other config"
"$DL" run -P --shard 0/2 --out "$T/o0" "$T/other.ini" > /dev/null 2>&1
"$DL" merge -P "$T/mo" "$T/s1" "$T/o0" > /dev/null 2> "$T/err.txt"
[ $? -eq 2 ] && grep -q "o0 ran another config than .*s1" "$T/err.txt" || fail "merge of two configs: $(cat "$T/err.txt")"
[ ! -e "$T/mo" ] || fail "a refused merge created its directory"
"$DL" merge -P "$T/m" "$T/s0" > /dev/null 2>&1 && fail "merge into an existing directory"

# ---- a shard still running is locked; a resumed shard keeps its share
printf '[s]\nworkload = fake\nmode = slow\nsize = 1:+1:6\n' > "$T/slow.ini"
"$DL" run -P --shard 1/2 --out "$T/k" "$T/slow.ini" > /dev/null 2>&1 &
pid=$!
n=0
while [ "$(cat "$T/k/cells.csv" 2> /dev/null | wc -l)" -lt 2 ] && [ $n -lt 300 ]; do
	sleep 0.05
	n=$((n + 1))
done
"$DL" merge -P "$T/mk" "$T/k" > /dev/null 2> "$T/err.txt"
[ $? -eq 2 ] && grep -q "in use by another dlbench (pid $pid)" "$T/err.txt" || fail "merge of a running shard: $(cat "$T/err.txt")"
kill -KILL $pid
wait $pid 2> /dev/null
"$DL" run -P --resume "$T/k" > /dev/null 2>&1 || fail "resume of a shard"
[ "$(tail -n +2 "$T/k/cells.csv" | cut -d, -f3 | sort | tr '\n' ' ')" = "1 3 5 " ] ||
	fail "resumed shard 1/2 ran cells $(tail -n +2 "$T/k/cells.csv" | cut -d, -f3 | sort | tr '\n' ' ')"

# ---- GNU parallel: the emitted script runs 2 shards here, then merges
"$DL" run "$T/c.ini" --emit parallel --shards 2 > /dev/null 2> "$T/err.txt" || fail "--emit parallel: $(cat "$T/err.txt")"
"$DL" run "$T/c.ini" --emit make --shards 2 > /dev/null 2>&1 && fail "--emit make accepted"
"$DL" run "$T/c.ini" --emit slurm > /dev/null 2>&1 && fail "--emit slurm without --shards accepted"
"$DL" run "$T/c.ini" --shards 2 > /dev/null 2>&1 && fail "--shards without --emit accepted"
if command -v parallel > /dev/null; then
	(cd "$T" && "$DL" run c.ini --emit parallel --hosts 2/: --out par > par.sh) || fail "--emit parallel"
	# 2/: is 2 slots here: 2 shards by default
	grep -q -- "--sshlogin 2/: --transferfile c.ini --return par/shard-{} --cleanup" "$T/par.sh" &&
		grep -q -- "--shard {}/2 " "$T/par.sh" || fail "parallel script: $(grep -A1 sshlogin "$T/par.sh")"
	sh "$T/par.sh" > "$T/par.out" 2>&1
	[ $? -eq 1 ] || fail "parallel script: exit $?, want 1 (failed cells): $(tail -5 "$T/par.out")"
	[ "$(rows "$T/par/merged/cells.csv")" = "$(rows "$T/full/cells.csv")" ] ||
		fail "parallel + merge: cells.csv differs from the unsharded run's: $(tail -5 "$T/par.out")"
	cmp -s "$T/par/merged/fake/summary.csv" "$T/full/fake/summary.csv" ||
		fail "parallel + merge: summary.csv differs from the unsharded run's"
	[ "$(tail -n +2 "$T/par/shard-0/cells.csv" | wc -l)" -eq 21 ] &&
		[ "$(tail -n +2 "$T/par/shard-1/cells.csv" | wc -l)" -eq 21 ] || fail "parallel: not 2 shards of 21 runs"
else
	fail "GNU parallel is not installed (Debian package parallel)"
fi

# ---- the Slurm script's shape (tests/test_slurm.sh runs it)
"$DL" run "$T/c.ini" --emit slurm --shards 3 --out "$T/sl" > "$T/sl.sh" || fail "--emit slurm"
sh -n "$T/sl.sh" || fail "the Slurm script is not sh"
grep -q '^#SBATCH --array=0-2$' "$T/sl.sh" && grep -q -- '--dependency=afterok:\$shards' "$T/sl.sh" &&
	grep -q -- "run --no-plot --shard \"\$SLURM_ARRAY_TASK_ID/3\" --out \"$T/sl/shard-\$SLURM_ARRAY_TASK_ID\" $T/c.ini" "$T/sl.sh" ||
	fail "Slurm script: $(cat "$T/sl.sh")"

if [ $failures -eq 0 ]; then
	rm -rf "$T"
	echo "test_shard: 0 failures"
	exit 0
fi
echo "test_shard: $failures failures (files kept in $T)"
exit 1
