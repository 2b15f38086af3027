#!/bin/sh
# Tests of `dlbench plot`, `dlbench report` and `dlbench compare` on
# hand-made results directories (fixed CSVs, so every figure is known):
#   - a directory that is not a results directory is refused with exit 2
#     and one line, before anything is written into it;
#   - plot and report hold the directory's lock: a second holder gets exit 2;
#   - a SIGKILL while gnuplot writes leaves no partial plot under a final name;
#   - facets (one panel per slot size), one style per strategy from
#     plots/strategies.txt in every plot, error bars from the repetitions;
#   - report.html: metadata, verdicts, ranked tables, every plot inlined with
#     its paragraph, failed cells with their log tails, no script, no network;
#     a second report goes beside the first;
#   - compare across hosts of a merged result (DIR@HOST), host matched or pooled.
# Usage: tests/test_report.sh BUILD_DIR   (e.g. build, build/asan)
set -u
B=${1:-build}
DL="$B/dlbench"
T=$(mktemp -d /tmp/test_report.XXXXXX)
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# make_run DIR [HOSTS]: a `dlbench run` directory of a harvest scenario: two
# strategies, slots of 16M and 64M, 0/10/100% dirty, 3 repetitions with
# known values; a failed and a timed-out run with their logs; a claim.
# With HOSTS (e.g. "node1 node2"), a merged result: a host column, each
# host's figures scaled by its position (node2 twice node1).
make_run() {
	d=$1
	hosts=${2:-}
	mkdir -p "$d/harvest/hist" "$d/cells"
	echo '{ "suite": "dlbench", "workload": "run", "host": "testhost", "cpu_model": "Test CPU", "date": "2026-01-02T03:04:05Z", "config": "handmade" }' > "$d/meta.json"
	cat > "$d/config.ini" <<'EOF'
[global]
repetitions = 3

[h]
workload = harvest
strategy = srcu-swap,xchg
bytes = 16M,64M
dirty = "0,10,100"

[claim.xchg-faster]
text = "xchg faster unless we have too many dirty pages"
scenario = h
figure = get_log_ns
a = strategy=srcu-swap;slot_bytes=16M;dirty_percent=10
b = strategy=xchg;slot_bytes=16M;dirty_percent=10
expect = b/a < 0.5
plot = harvest-getlog-vs-dirty
explain = the emulated grace period is cheap
EOF
	{
		echo "scenario,workload,cell,kind,repetition,strategy,bytes,dirty,status,exit_code,duration_s,dir"
		echo "h,harvest,0,measure,0,srcu-swap,16M,\"0,10,100\",ok,0,0.1,cells/h-0000-r0"
		echo "h,harvest,1,measure,1,xchg,64M,\"0,10,100\",failed,3,0.1,cells/h-0001-r1"
		echo "h,harvest,2,measure,2,xchg,16M,\"0,10,100\",timeout,143,1.0,cells/h-0002-r2"
	} > "$d/cells.csv"
	i=1
	while [ $i -le 20 ]; do echo "log line $i"; i=$((i + 1)); done > "$d/cells/h-0001-r1.log"
	echo "killed after 1 s" > "$d/cells/h-0002-r2.log"
	{
		printf 'scenario,cell,repetition,strategy,slot_bytes,dirty_percent,rep,get_log_ns,floor_ns%s\n' "${hosts:+,host}"
		k=1
		for h in ${hosts:-none}; do
			for s in srcu-swap xchg; do
				for b in 16777216 67108864; do
					for p in 0 10 100; do
						for r in 0 1 2; do
							m=$((b / 16777216))
							if [ $s = srcu-swap ]; then v=$(( (1000 + 10 * r + 5 * p) * m * k )); else v=$(( (100 + 20 * p + 3 * r) * m * k )); fi
							printf 'h,0,%d,%s,%d,%d,0,%d,%d%s\n' $r $s $b $p $v $(( (50 + 10 * p) * m )) "${hosts:+,$h}"
						done
					done
				done
			done
			k=$((k + 1))
		done
	} > "$d/harvest/summary.csv"
}

# ---- not a results directory: exit 2, one line, nothing written
mkdir -p "$T/plain/sub"
echo hello > "$T/plain/file"
before=$(ls -A "$T/plain")
for cmd in plot report; do
	"$DL" $cmd "$T/plain" > "$T/out" 2> "$T/err"
	rc=$?
	[ $rc -eq 2 ] || fail "$cmd on a plain directory: exit $rc, want 2"
	[ "$(wc -l < "$T/err")" -eq 1 ] && grep -q "not a results directory" "$T/err" ||
		fail "$cmd on a plain directory: $(cat "$T/err")"
	[ "$(ls -A "$T/plain")" = "$before" ] || fail "$cmd wrote into a plain directory: $(ls -A "$T/plain")"
	"$DL" $cmd "$T/nonexistent" > /dev/null 2>&1
	[ $? -eq 2 ] || fail "$cmd on a missing directory: not exit 2"
done

# ---- the lock: a results directory held by another process is refused
make_run "$T/r"
( flock -n 9 && touch "$T/held" && exec sleep 30 ) 9> "$T/r/.lock" &
holder=$!
n=0
while [ ! -e "$T/held" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
for cmd in plot report; do
	"$DL" $cmd "$T/r" > /dev/null 2> "$T/err"
	rc=$?
	[ $rc -eq 2 ] || fail "$cmd of a locked directory: exit $rc, want 2"
	grep -q "in use by another dlbench" "$T/err" || fail "$cmd of a locked directory: $(cat "$T/err")"
done
[ ! -e "$T/r/plots" ] && [ ! -e "$T/r/report.html" ] || fail "plot wrote into a locked directory"
kill $holder
wait $holder 2> /dev/null

# ---- plot: facets, styles, error bars, the report
"$DL" plot "$T/r" > "$T/plot.out" 2> "$T/plot.err" || fail "plot failed: $(cat "$T/plot.err")"
grep -q "^2 plots in $T/r/plots$" "$T/plot.out" || fail "plot said: $(cat "$T/plot.out")"
grep -q "^report: $T/r/report.html$" "$T/plot.out" || fail "plot did not name the report: $(cat "$T/plot.out")"
P="$T/r/plots"
for f in harvest-getlog-vs-dirty harvest-getlog-vs-size; do
	[ -s "$P/$f.png" ] && [ -s "$P/$f.svg" ] || fail "$f.png/.svg missing"
	head -c 4 "$P/$f.png" | grep -q PNG || fail "$f.png is no PNG"
done
# one panel per slot size, sharing the y axis
grep -q '^nfacets = 2$' "$P/harvest-getlog-vs-dirty.gp" || fail "harvest-getlog-vs-dirty: not 2 panels"
grep -q "^facet_title_1 = 'slot_bytes=16M'$" "$P/harvest-getlog-vs-dirty.gp" &&
	grep -q "^facet_title_2 = 'slot_bytes=64M'$" "$P/harvest-getlog-vs-dirty.gp" || fail "facet titles"
# the same colour and point for a strategy in every plot, from plots/strategies.txt
for s in xchg srcu-swap; do
	style=$(awk -v s=$s '$1 == s { print $2, $3 }' plots/strategies.txt)
	colour=${style% *}
	pt=${style#* }
	for f in harvest-getlog-vs-dirty harvest-getlog-vs-size; do
		grep -q "^key_title_[0-9]* = '$s'; key_lc_[0-9]* = '$colour'; key_pt_[0-9]* = $pt;" "$P/$f.gp" ||
			fail "$f: $s is not $colour point $pt: $(grep "'$s'" "$P/$f.gp")"
	done
done
# error bars: srcu-swap at 0% of 16M has 1000, 1010, 1020: median 1010,
# bootstrap interval [1000, 1020], 3 samples
awk '/^"srcu-swap"/ { b = 1; next } b && /^$/ { exit } b' "$P/harvest-getlog-vs-dirty.dat" | grep -q '^0 1010 1000 1020 3$' ||
	fail "error bars: $(head -5 "$P/harvest-getlog-vs-dirty.dat")"
# the floor stays, once per panel
[ "$(grep -c '^"floor (tracking off)"' "$P/harvest-getlog-vs-dirty.dat")" -eq 2 ] || fail "floor lines"

R="$T/r/report.html"
[ -s "$R" ] || fail "no report.html"
[ "$(grep -c '<figure class=plot' "$R")" -eq 2 ] || fail "report: $(grep -c '<figure class=plot' "$R") plots, want 2"
[ "$(grep -c '<svg' "$R")" -eq 2 ] || fail "report: the plots are not inlined as SVG"
grep -q 'How to read it.</b> One panel per slot size' "$R" || fail "report: no how-to-read paragraph"
grep -q '<td>testhost</td>' "$R" && grep -q '<td>Test CPU</td>' "$R" || fail "report: no machine metadata"
grep -q '<tr class="v-reproduced"><td><b>reproduced</b></td><td><code>xchg-faster</code>' "$R" || fail "report: no verdict"
grep -q 'slot_bytes=64M, dirty_percent=100</caption>' "$R" || fail "report: no ranked table per condition"
grep -q 'xchg</td><td class=num>3</td><td class=num>2.1 us</td>' "$R" || fail "report: xchg at 16M, 100%: $(grep -o 'xchg</td><td class=num>3</td><td class=num>[^<]*' "$R" | head -3)"
grep -q '<td>failed</td><td>3</td>' "$R" && grep -q '<td>timeout</td><td>143</td>' "$R" || fail "report: failed cells missing"
grep -q 'log line 20' "$R" && grep -q 'log line 6$' "$R" && ! grep -q 'log line 5$' "$R" || fail "report: not the last 15 log lines"
grep -q 'killed after 1 s' "$R" || fail "report: no log of the timed-out run"
grep -qi '<script' "$R" && fail "report holds a script"
grep -Eq '(src|href)="(https?|ftp):' "$R" && fail "report loads something from the network"
find "$T/r" -name '*.tmp' | grep -q . && fail "temporary files left: $(find "$T/r" -name '*.tmp')"

# a second plot and report go beside the first
sum=$(cksum < "$R")
"$DL" report "$T/r" > "$T/report.out" 2>&1 || fail "report failed: $(cat "$T/report.out")"
[ -d "$T/r/plots-2" ] && [ -s "$T/r/report-2.html" ] || fail "a second report did not go to plots-2/ and report-2.html"
[ "$(cksum < "$R")" = "$sum" ] || fail "report.html was rewritten"
grep -q '^  reproduced: xchg-faster: "xchg faster unless we have too many dirty pages" -- measured b/a = ' "$T/report.out" ||
	fail "report did not print the verdict: $(cat "$T/report.out")"

# --no-plots: a report without rendering (for `run --no-plot`)
"$DL" report --no-plots "$T/r" > "$T/report3.out" 2>&1 || fail "report --no-plots failed: $(cat "$T/report3.out")"
[ -s "$T/r/report-3.html" ] && [ ! -e "$T/r/plots-3" ] || fail "report --no-plots: $(ls "$T/r")"
grep -q '<figure' "$T/r/report-3.html" && fail "report --no-plots holds plots"
grep -q 'No plot in this report' "$T/r/report-3.html" || fail "report --no-plots does not say it has no plots"

# ---- SIGKILL while gnuplot writes: no partial plot under a final name
make_run "$T/k"
cp -r plots "$T/slow"
sed -i '/set output/a system "sleep 30"' "$T/slow/render.gp"
setsid "$DL" plot --scripts "$T/slow" "$T/k" > /dev/null 2>&1 &
pid=$!
n=0
while ! ls "$T/k"/plots/*.png* > /dev/null 2>&1 && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
ls "$T/k"/plots/*.png* > /dev/null 2>&1 || fail "SIGKILL test: gnuplot never started writing"
kill -KILL -$pid
wait $pid 2> /dev/null
ls "$T/k/plots" | grep -Eq '\.(png|svg)$' && fail "SIGKILL during plotting left a plot under its final name: $(ls -l "$T/k/plots")"

# ---- compare across hosts
make_run "$T/m" "node1 node2"
"$DL" compare --out "$T/c1" "$T/m@node1" "$T/m@node2" > "$T/c1.out" 2>&1 || fail "compare M@node1 M@node2: $(cat "$T/c1.out")"
grep -q '(host pooled' "$T/c1.out" || fail "compare of two hosts: host not pooled: $(head -5 "$T/c1.out")"
row=$(grep -A2 '^strategy=xchg slot_bytes=16777216 dirty_percent=100$' "$T/c1.out" | grep '^  get_log_ns ')
echo "$row" | grep -Eq ' 3 +3 .* 2\.000  \[1\.99[0-9], 2\.0[01][0-9]\] *$' || fail "node2 is twice node1: $row"
"$DL" compare --out "$T/c2" "$T/m" "$T/m" > "$T/c2.out" 2>&1 || fail "compare M M failed"
grep -q '(host matched like a parameter' "$T/c2.out" || fail "compare M M: host not matched"
grep -q '^strategy=xchg slot_bytes=16777216 dirty_percent=100 host=node2$' "$T/c2.out" || fail "compare M M: no cell per host: $(sed -n 1,12p "$T/c2.out")"
"$DL" compare --out "$T/c3" "$T/m@node3" "$T/m" > "$T/c3.out" 2>&1
[ $? -ne 0 ] || fail "compare of an absent host succeeded"
make_run "$T/plainrun"
"$DL" compare --out "$T/c4" "$T/plainrun@node1" "$T/m" > "$T/c4.out" 2>&1
[ $? -eq 2 ] && grep -q 'has no host column' "$T/c4.out" || fail "DIR@HOST of an unmerged result: $(cat "$T/c4.out")"

# a merged result's plots: the hosts as series, one colour per strategy,
# one dash per host
"$DL" plot "$T/m" > /dev/null 2>&1 || fail "plot of a merged result failed"
colour=$(awk '$1 == "xchg" { print $2 }' plots/strategies.txt)
for h in 1 2; do
	grep -q "^key_title_[0-9]* = 'xchg host=node$h'; key_lc_[0-9]* = '$colour'; .* key_dt_[0-9]* = $h$" "$T/m/plots/harvest-getlog-vs-dirty.gp" ||
		fail "merged plot: xchg on node$h: $(grep "'xchg" "$T/m/plots/harvest-getlog-vs-dirty.gp")"
done

if [ $failures -eq 0 ]; then
	rm -rf "$T"
	echo "test_report: 0 failures"
	exit 0
fi
echo "test_report: $failures failures (files kept in $T)"
exit 1
