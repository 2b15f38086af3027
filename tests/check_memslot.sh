#!/bin/sh
# dlbench memslot smoke run: every protection for a moment, the results
# layout (the columns of the old `dlbench memslot` first, then the
# CPU-time ones), one row per protection and repetition, zero read
# failures; specs with options and comma lists; bad input ends with one
# line, exit 2 and no results directory.
#   sh tests/check_memslot.sh path/to/dlbench
set -u
exe=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$exe" memslot -p all -v 2 -u 1000 -d 0.05 -o "$d/a" > "$d/a.out" 2> "$d/a.err"
rc=$?
[ "$rc" -eq 0 ] || { cat "$d/a.err"; fail "memslot -p all exited $rc"; }
head -1 "$d/a/summary.csv" | grep -q '^protection,readers,update_rate,mode,gp,repetition,duration_s,critical_ns,slots,slot_pages,test_slots,stall_batch,seed,placement,cpus,overcommit,elapsed_s,lookups_per_s,lookups_per_s_min,lookups_per_s_max,lookups_total,hit_ratio,updates,updates_per_s,update_errors,update_p50_ns,update_p99_ns,update_max_ns,stall_p50_ns,stall_p99_ns,stall_max_ns,read_failures,lookups_per_s_cpu,reader_cpu_share,updater_cpu_share$' ||
	fail "summary.csv header: $(head -1 "$d/a/summary.csv")"
# one row per protection the binary registers (`--help` lists them)
nprot=$("$exe" memslot --help | sed -n '/^memslot protections/,/^$/p' | grep -c '^  [a-z]')
[ "$(tail -n +2 "$d/a/summary.csv" | wc -l)" -eq "$nprot" ] || fail "expected $nprot rows"
for p in floor mutex rwlock rwlock-cond srcu-mb srcu-fast urcu; do
	grep -q "^$p,2,1000,move-active,normal,0," "$d/a/summary.csv" || fail "no row for $p"
	test -s "$d/a/hist/$p-v2-u1000-move-active-normal-r0-update.csv" || fail "no update histogram for $p"
done
# read_failures (column 32) is 0 on every row
awk -F, 'NR > 1 && $32 != 0 { exit 1 }' "$d/a/summary.csv" || fail "read failures"
grep -q 'lookups/s/rdr' "$d/a.out" || fail "stdout table"
test -s "$d/a/meta.json" || fail "meta.json"

# a comma list of specs with options, repetitions, every mode
"$exe" memslot -p floor:retain=64M,srcu-mb:gp=expedited -m all -v 1 -u 0 -d 0.02 -r 2 \
	-o "$d/b" > /dev/null 2> "$d/b.err"
rc=$?
[ "$rc" -eq 0 ] || { cat "$d/b.err"; fail "spec list exited $rc"; }
[ "$(tail -n +2 "$d/b/summary.csv" | wc -l)" -eq 24 ] || fail "expected 2 x 6 x 2 rows"
grep -q '^srcu-mb:gp=expedited,1,0,rw,normal,1,' "$d/b/summary.csv" || fail "spec row"

# bad input: one line, exit 2, nothing created
for args in "-p nope" "-p srcu-mb:gp=slow" "-p mutex:gp=normal" "-m sideways" "-v 0" \
	"-u -1" "-c 99999" "-s 0"; do
	# shellcheck disable=SC2086
	"$exe" memslot $args -d 0.01 -o "$d/bad" > /dev/null 2> "$d/bad.err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "'$args' exited $rc, not 2"
	[ "$(wc -l < "$d/bad.err")" -eq 1 ] || fail "'$args' printed $(cat "$d/bad.err")"
	[ ! -e "$d/bad" ] || fail "'$args' created its results directory"
done
echo "PASS"
