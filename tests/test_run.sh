#!/bin/sh
# Tests of `dlbench run`, `dlbench compare` and `dlbench plot` on a stand-in
# workload table (`fake`, tests/fake_workload.c) that runs in milliseconds,
# through build/tests/dlbench_fake (dlbench's main plus the stand-in
# tables), the runner and every cell's program: config errors against the
# tables before any cell runs, failing, crashing and timed-out cells
# recorded while the matrix goes on, the gathered summary, --resume after
# SIGKILL and after SIGINT, the results directory's lock, the limit on
# runs, compare's ratios and marks, and the plots of a hand-made srcu result.
# Usage: tests/test_run.sh BUILD_DIR   (e.g. build, build/asan)
set -u
B=${1:-build}
DL="$B/tests/dlbench_fake"
T=$(mktemp -d /tmp/test_run.XXXXXX)
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# expect_error CONFIG_TEXT LINE NEEDLE: `run -n` must exit 2 with one line
# "FILE:LINE: ..." that contains NEEDLE, and create nothing.
expect_error() {
	printf '%s\n' "$1" > "$T/bad.ini"
	"$DL" run --out "$T/never" "$T/bad.ini" > "$T/err.out" 2> "$T/err.txt"
	rc=$?
	[ $rc -eq 2 ] || fail "config error '$3': exit $rc, want 2"
	[ "$(wc -l < "$T/err.txt")" -eq 1 ] || fail "config error '$3': not one line: $(cat "$T/err.txt")"
	grep -q "^$T/bad.ini:$2: .*$3" "$T/err.txt" || fail "config error: got '$(cat "$T/err.txt")', want $T/bad.ini:$2: ...$3"
	[ ! -e "$T/never" ] || fail "config error '$3': created the results directory"
}

# ---- config errors
expect_error "[a]
workload = nosuch" 2 "unknown workload 'nosuch'"
expect_error "[a]
workload = fake
size = 1
colour = red" 4 "unknown key 'colour' for workload 'fake'"
expect_error "[a]
workload = fake
mode = ok,explode" 3 "mode = explode: dlbench fake: --mode: unknown mode 'explode'"
expect_error "[a]
workload = fake
flag = maybe" 3 "flag = maybe: dlbench fake: --flag: a flag takes yes or no"
# a list inside one value goes to one process: each item checked
expect_error "[a]
workload = fake
size = \"1,0\"" 3 "size = 1,0: dlbench fake: --size: 0 is out of range"
expect_error "[a]
workload = fake
size = 1:*1:8" 3 "size: bad range '1:\*1:8'"
expect_error "[a]
workload = fake
size = 1,x" 3 "size = x: dlbench fake: --size: 'x' is not"
expect_error "[a]
workload = run" 2 "'run' is not a workload"
expect_error "[a]
workload = noout" 2 "workload 'noout' writes no results"
# a duplicate section is an error naming both lines, not a silent merge
expect_error "[a]
workload = fake
[a]
size = 2" 3 "section \[a\] appears twice (lines 1 and 3)"
# a claim names a scenario of the config
expect_error "[claim.faster]
text = \"it is faster\"
scenario = nosuch
[a]
workload = fake" 3 "\[claim.faster\]: scenario 'nosuch' is not a scenario of this config"
# each cell against the machine (the table's own check), before anything
# exists: a cell that needs more CPUs than this process may use...
expect_error "[a]
workload = fake
need-cpus = 1,100000" 1 "\[a\] cell 1 (need-cpus=100000): dlbench fake: --need-cpus: needs 100000 CPUs"
# ...and a real table's memory check
expect_error "[h]
workload = harvest
bytes = 1M,16T" 1 "\[h\] cell 1 (bytes=16T): dlbench harvest: "
# too many runs: counted before the product is expanded, refused without
# --max-runs (101000 runs; then 5 scenarios of 1.7e9 runs, refused at once)
expect_error "[a]
workload = fake
size = 1:+1:101
knob = 1:+1:1000" 1 "the config asks for 101000 runs (\[a\] 101000), more than 100000; --max-runs N allows more"
big="workload = fake
size = 1:+1:4096
knob = 1:+1:4096
need-cpus = 1:+1:100"
expect_error "[a]
$big
[b]
$big
[c]
$big
[d]
$big
[e]
$big" 1 "the config asks for 8388608000 runs (\[a\] 1677721600), more than 100000"
# a NUL byte would end the line silently for inih
printf '[a]\nworkload = fake\nsize = 1\000,2\n' > "$T/nul.ini"
"$DL" run -n "$T/nul.ini" > /dev/null 2> "$T/err.txt" && fail "a NUL byte was accepted"
grep -q "nul.ini:3: a NUL byte" "$T/err.txt" || fail "NUL byte: $(cat "$T/err.txt")"
# a config that is not a regular file (it would hang: /dev/zero has no end)
timeout 20 "$DL" run -n /dev/zero > /dev/null 2> "$T/err.txt"
rc=$?
[ $rc -eq 2 ] && grep -q "^/dev/zero:0: not a regular file" "$T/err.txt" ||
	fail "run /dev/zero: exit $rc: $(cat "$T/err.txt")"
# -n checks every cell against the machine and says the count first
printf '[a]\nworkload = fake\nneed-cpus = 1,100000\n' > "$T/cpus.ini"
"$DL" run -n "$T/cpus.ini" > "$T/dry.txt" 2> "$T/err.txt" && fail "run -n passed a cell its check refuses"
[ "$(head -1 "$T/dry.txt")" = "2 runs in 1 scenarios" ] || fail "run -n: first line $(head -1 "$T/dry.txt")"
grep -q "cell 1 (need-cpus=100000)" "$T/err.txt" || fail "run -n: $(cat "$T/err.txt")"
printf '[a]\nworkload = fake\nsize = 1:+1:101\nknob = 1:+1:1000\n' > "$T/big.ini"
[ "$("$DL" run -n --max-runs 101000 "$T/big.ini" | head -1)" = "101000 runs in 1 scenarios" ] ||
	fail "run -n --max-runs: the count is not the first line"

# ---- a matrix with failing, crashing and hanging cells
cat > "$T/m.ini" <<'EOF'
[global]
repetitions = 3
warmup = 1
timeout = 60

[good]
workload = fake
size = 1:*2:4
flag = no,yes

; the hang must time out; the good cells must not (a loaded machine and
; a sanitizer build can take a second to start and write meta.json)
[bad]
workload = fake
repetitions = 1
warmup = 0
timeout = 1
mode = fail,crash,hang
EOF
"$DL" run -n "$T/m.ini" > "$T/dry.txt" || fail "dry run failed"
[ "$(head -1 "$T/dry.txt")" = "27 runs in 2 scenarios" ] || fail "dry run: $(head -1 "$T/dry.txt")"
grep -q "^good-0001-r2: dlbench fake --size 1 --flag --seed 4$" "$T/dry.txt" ||
	fail "dry run lacks the flag cell's command"
"$DL" run --out "$T/m" "$T/m.ini" > "$T/m.out" 2> "$T/m.err"
rc=$?
[ $rc -eq 1 ] || fail "matrix with failing cells: exit $rc, want 1"
j="$T/m/cells.csv"
[ "$(grep -c ',ok,' "$j")" -eq 24 ] || fail "ok runs: $(grep -c ',ok,' "$j"), want 24"
[ "$(grep -c ',failed,3,' "$j")" -eq 1 ] || fail "failed runs: $(grep -c ',failed,3,' "$j"), want 1"
[ "$(grep -c ',crashed,139,' "$j")" -eq 1 ] || fail "crashed runs: $(grep -c ',crashed,139,' "$j"), want 1"
[ "$(grep -c ',timeout,' "$j")" -eq 1 ] || fail "timed-out runs: $(grep -c ',timeout,' "$j"), want 1"
[ "$(tail -n +2 "$j" | wc -l)" -eq 27 ] || fail "journal rows: $(tail -n +2 "$j" | wc -l), want 27"
head -1 "$j" | grep -q '^scenario,workload,cell,kind,repetition,size,flag,mode,status,exit_code,duration_s,dir,host$' ||
	fail "cells.csv header: $(head -1 "$j")"
s="$T/m/fake/summary.csv"
head -1 "$s" | grep -q '^scenario,cell,repetition,mode,size,flag,seed,iteration,value_ns,ops_per_s,host$' ||
	fail "summary header: $(head -1 "$s")"
# 6 good cells x 3 repetitions x 2 rows; no warm-up (seed 1) rows
[ "$(tail -n +2 "$s" | wc -l)" -eq 36 ] || fail "summary rows: $(tail -n +2 "$s" | wc -l), want 36"
grep -q '^good,5,2,ok,4,1,4,2,' "$s" || fail "summary lacks cell 5 repetition 2"
host=$(hostname)
[ "$(cut -d, -f11 "$s" | sort -u)" = "$(printf 'host\n%s' "$host")" ] || fail "summary host column: $(cut -d, -f11 "$s" | sort -u)"
[ "$(tail -n +2 "$j" | cut -d, -f13 | sort -u)" = "$host" ] || fail "cells.csv host column"
! grep -q ',ok,[0-9]*,[01],1,' "$s" || fail "summary holds warm-up rows"
[ -f "$T/m/fake/hist/good-0005-r2-lat.csv" ] || fail "histogram not gathered"
[ -f "$T/m/meta.json" ] && [ -f "$T/m/config.ini" ] && [ -f "$T/m/run.log" ] || fail "meta.json, config.ini or run.log missing"
[ ! -s "$T/m.err" ] || grep -q 'failed\|crashed\|timeout' "$T/m.err" || fail "unexpected stderr: $(cat "$T/m.err")"
grep -q '\[K' "$T/m.err" && fail "progress written to a non-terminal"
ls "$T/m" | grep -q '\.tmp$' && fail "temporary files left"
"$DL" run --out "$T/m" "$T/m.ini" 2> /dev/null && fail "run reused an existing --out"

# ---- --resume after SIGKILL: no run twice, every run once
cat > "$T/slow.ini" <<'EOF'
[global]
repetitions = 2
[s]
workload = fake
mode = slow
size = 1:+1:4
EOF
"$DL" run -P --out "$T/k" "$T/slow.ini" > /dev/null 2>&1 &
pid=$!
n=0
while [ ! -e "$T/k/cells/s-0001-r0.log" ] && [ $n -lt 300 ]; do
	sleep 0.05
	n=$((n + 1))
done
# while it runs, the directory is locked: a --resume now is refused with
# one line naming the runner's PID, and changes nothing
"$DL" run -P --resume "$T/k" > "$T/lock.out" 2> "$T/lock.err"
rc=$?
[ $rc -eq 2 ] || fail "--resume of a running directory: exit $rc, want 2"
[ "$(wc -l < "$T/lock.err")" -eq 1 ] && grep -q "in use by another dlbench (pid $pid)" "$T/lock.err" ||
	fail "--resume of a running directory: $(cat "$T/lock.err")"
kill -KILL $pid
wait $pid 2> /dev/null
done_before=$(($(wc -l < "$T/k/cells.csv") - 1))
[ "$done_before" -lt 8 ] || fail "SIGKILL came too late to test --resume ($done_before runs done)"
# the runs that had started but were not journalled: their logs exist
started=""
for f in "$T"/k/cells/*.log; do
	r=$(basename "$f" .log)
	grep -q ",cells/$r," "$T/k/cells.csv" || started="$started $r"
done
[ -n "$started" ] || fail "SIGKILL landed between runs: no interrupted run to resume"
"$DL" run -P --resume "$T/k" > "$T/k.out" 2>&1 || fail "resume after SIGKILL: $(cat "$T/k.out")"
# a resumed run's log keeps its first attempt, then a separator line
for r in $started; do
	grep -q "^==== .*: $r again (the attempt above was interrupted) ====$" "$T/k/cells/$r.log" ||
		fail "resumed $r: no separator in its log: $(cat "$T/k/cells/$r.log")"
done
[ "$(cat "$T"/k/cells/*.log | grep -c '^==== ')" -eq "$(echo $started | wc -w)" ] ||
	fail "separator lines in logs of runs that ran once"
[ "$(tail -n +2 "$T/k/cells.csv" | wc -l)" -eq 8 ] || fail "after resume: $(tail -n +2 "$T/k/cells.csv" | wc -l) journal rows, want 8"
[ "$(tail -n +2 "$T/k/cells.csv" | cut -d, -f1-5 | sort -u | wc -l)" -eq 8 ] || fail "a run was journalled twice"
[ "$(tail -n +2 "$T/k/fake/summary.csv" | wc -l)" -eq 16 ] || fail "after resume: summary rows $(tail -n +2 "$T/k/fake/summary.csv" | wc -l), want 16"
grep -q "^resume " "$T/k/run.log" 2> /dev/null || grep -q " resume " "$T/k/run.log" || fail "run.log does not record the resume"

# ---- SIGINT: finish the current run, stop, resume later
"$DL" run -P --out "$T/i" "$T/slow.ini" > /dev/null 2> "$T/i.err" &
pid=$!
n=0
while [ "$(cat "$T/i/cells.csv" 2> /dev/null | wc -l)" -lt 2 ] && [ $n -lt 300 ]; do
	sleep 0.05
	n=$((n + 1))
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "SIGINT: exit $rc, want 130"
grep -q "resume $T/i" "$T/i.err" || fail "SIGINT: no resume hint: $(cat "$T/i.err")"
[ ! -e "$T/i/fake/summary.csv" ] || fail "SIGINT: summary written for an unfinished matrix"
rows=$(tail -n +2 "$T/i/cells.csv" | wc -l)
[ "$rows" -ge 1 ] && [ "$rows" -lt 8 ] || fail "SIGINT: $rows runs journalled"
# two --resume at once: exactly one runs, the other is refused (exit 2)
"$DL" run -P --resume "$T/i" > /dev/null 2> "$T/i1.err" &
p1=$!
"$DL" run -P --resume "$T/i" > /dev/null 2> "$T/i2.err" &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
[ $((r1 == 0 && r2 == 2 || r1 == 2 && r2 == 0)) -eq 1 ] ||
	fail "two --resume at once: exits $r1 and $r2, want 0 and 2: $(cat "$T/i1.err" "$T/i2.err")"
[ "$(tail -n +2 "$T/i/cells.csv" | wc -l)" -eq 8 ] || fail "after SIGINT and resume: journal rows $(tail -n +2 "$T/i/cells.csv" | wc -l), want 8"

# ---- compare: a run against itself, and against one twice as slow
"$DL" compare --out "$T/c1" "$T/m" "$T/m" > "$T/c1.out" || fail "compare A A failed"
grep -q 'value_ns' "$T/c1.out" || fail "compare A A: no value_ns row"
awk '/value_ns|ops_per_s/ && $0 !~ /1\.000 .*~$/ { bad = 1 } END { exit bad }' "$T/c1.out" ||
	fail "compare A A: a ratio other than 1 or a significant mark: $(grep value_ns "$T/c1.out" | head -3)"
[ -f "$T/c1/compare.csv" ] && [ -f "$T/c1/meta.json" ] || fail "compare wrote no compare.csv/meta.json"
FAKE_SCALE=2 "$DL" run -P --out "$T/m2" "$T/m.ini" > /dev/null 2>&1
"$DL" compare --out "$T/c2" "$T/m" "$T/m2" > "$T/c2.out" || fail "compare A B failed"
# value_ns doubles exactly (medians 2x), ops_per_s halves; 3 repetitions
# with different seeds spread the samples, and the interval excludes 1
# the table: a line naming the cell, then one line per figure
row=$(grep -A2 '^size=4 flag=1 iteration=2$' "$T/c2.out" | grep '^  value_ns ')
echo "$row" | grep -q ' 2\.000  \[' || fail "compare A B: value_ns ratio: $row"
echo "$row" | grep -q '~$' && fail "compare A B: a doubling marked not significant"
row=$(grep -A2 '^size=1 flag=0 iteration=1$' "$T/c2.out" | grep '^  ops_per_s ')
echo "$row" | grep -q ' 0\.500 ' || fail "compare A B: ops_per_s ratio: $row"
[ "$(tail -n +2 "$T/c2/compare.csv" | wc -l)" -eq 24 ] || fail "compare.csv rows: $(tail -n +2 "$T/c2/compare.csv" | wc -l), want 24 (12 cells x 2 figures)"
grep -q '^fake,size=4 flag=1 iteration=2,value_ns,3,3,.*,yes$' "$T/c2/compare.csv" || fail "compare.csv lacks the significant row"
"$DL" compare "$T/nonexistent" "$T/m" > /dev/null 2> "$T/cerr.txt" && fail "compare of a missing directory succeeded"
[ "$(wc -l < "$T/cerr.txt")" -eq 1 ] || fail "compare error is not one line"

# ---- plot: a hand-made srcu result renders its plots, absent kinds skipped
if command -v gnuplot > /dev/null; then
	mkdir -p "$T/srcu/hist"
	echo '{ "workload": "srcu", "host": "testhost", "cpu_model": "Test CPU", "date": "2026-01-02T03:04:05Z" }' > "$T/srcu/meta.json"
	{
		echo "primitive,readers,critical_section_ns,repetition,read_pair_ns,gp_kind,readers_state,idle_fast_path,gp_p50_ns,gp_p99_ns,gp_max_ns"
		for p in srcu-mb srcu-fast urcu-memb; do
			for r in 1 2 4; do
				for k in 0 1; do
					echo "$p,$r,0,$k,$((r * 10 + k)),none,,,,,"
				done
			done
			echo "$p,1,0,0,,expedited,idle,1,1000,3000,9000"
		done
	} > "$T/srcu/summary.csv"
	printf 'value_ns,count\n1000,5\n2000,3\n9000,1\n' > "$T/srcu/hist/gp-srcu-mb-expedited-idle.csv"
	printf 'value_ns,count\n5000,5\n8000,1\n' > "$T/srcu/hist/gp-urcu-memb-sync-idle.csv"
	"$DL" plot "$T/srcu" > "$T/plot.out" 2>&1 || fail "plot failed: $(cat "$T/plot.out")"
	for f in srcu-read-pair srcu-gp-percentiles srcu-gp-cdf-idle; do
		[ -s "$T/srcu/plots/$f.png" ] && [ -s "$T/srcu/plots/$f.svg" ] || fail "plot $f.png/.svg missing"
	done
	grep -q 'Test CPU' "$T/srcu/plots/srcu-read-pair.svg" || fail "plot title does not name the machine"
	[ ! -e "$T/srcu/plots/getlog-vs-size.png" ] || fail "a plot without data was rendered"
	grep -q 'skipped getlog-vs-size: no dirty-log results' "$T/srcu/run.log" || fail "no note for a skipped plot"
	# the median over repetitions: srcu-fast at 4 readers has 40 and 41
	# (x, median, the 95% bootstrap interval of the median, samples)
	grep -q '^4 40.5 40 41 2$' "$T/srcu/plots/srcu-read-pair.dat" || fail "plot data: $(cat "$T/srcu/plots/srcu-read-pair.dat")"
	# the CDF of merged histograms: 5 of 9 samples at or below 1000 ns
	grep -q '^1000 0.555555556$' "$T/srcu/plots/srcu-gp-cdf-idle.dat" || fail "CDF data: $(cat "$T/srcu/plots/srcu-gp-cdf-idle.dat")"
	[ ! -e "$T/srcu/plots/srcu-gp-cdf-busy.png" ] || fail "a CDF without histograms was rendered"
	"$DL" plot "$T/srcu" > /dev/null 2>&1 && [ -d "$T/srcu/plots-2" ] || fail "a second plot did not go to plots-2/"
fi

if [ $failures -eq 0 ]; then
	rm -rf "$T"
	echo "test_run: 0 failures"
	exit 0
fi
echo "test_run: $failures failures (files kept in $T)"
exit 1
