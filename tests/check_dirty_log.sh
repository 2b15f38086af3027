#!/bin/sh
# Tests of `dlbench dirty-log` (tests/list runs them).
#
#   check_dirty_log.sh DLBENCH exact STRATEGY [OPTIONS...]
#       Runs 2 vCPUs x 1 MiB, 3 iterations and a 0.2 s continuous run, then
#       checks the results directory: exit status 0; summary.csv with one row
#       per iteration and one for the continuous run; meta.json; the stall
#       histogram of both cells (and the harvest ones when logging).  And no
#       dirty page lost or invented: with 100% sequential writes on disjoint
#       regions every page faults exactly once per pass, so each iteration
#       dirties and harvests exactly vcpus x pages_per_pass pages (none of
#       either with strategy none); in continuous mode the harvests plus the
#       final one report exactly the pages dirtied.  Every row names the
#       memslot protection given with --memslot-protect (default srcu-mb).
#   check_dirty_log.sh DLBENCH run STRATEGY [OPTIONS...]
#       The same run and files, without the page counts (for random order,
#       overlap or partial writes, where a page may fault several times).
#   check_dirty_log.sh DLBENCH bad-input
#       Bad options exit with status 2 and one line on stderr naming the
#       option, before any results directory is created.
set -eu
bin=$1
what=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [ "$what" = bad-input ]; then
	# "OPTIONS|text the error line must contain"
	for case in \
		"-v 1 -b 1M -x 3|-x/--slots" \
		"-v 1 -b 1M -x 8|-x/--slots" \
		"-i 1|-i/--iterations" \
		"-b 10Q|-b/--bytes-per-vcpu" \
		"-b 5000|-b/--bytes-per-vcpu" \
		"-w 101|-w/--write-percent" \
		"--strategy no-such-strategy|--strategy" \
		"--strategy xchg:bogus=1|--strategy" \
		"--fault-path sideways|--fault-path" \
		"--memslot-protect no-such-protection|--memslot-protect" \
		"-s floppy|-s/--backing" \
		"-m nowhere|-m/--numa" \
		"--mode sometimes|--mode" \
		"--harvest-interval 500 --duration 0.1|--harvest-interval" \
		"-c 99999|-c/--cpus" \
		"--no-such-option|unknown option"
	do
		opts=${case%%|*}
		want=${case#*|}
		rc=0
		# shellcheck disable=SC2086 # word splitting of $opts is intended
		"$bin" dirty-log $opts --out "$tmp/out" > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
		[ "$rc" -eq 2 ] || fail "dirty-log $opts: exit status $rc, expected 2"
		[ "$(wc -l < "$tmp/stderr")" -eq 1 ] || fail "dirty-log $opts: stderr is not one line: $(cat "$tmp/stderr")"
		grep -qF -- "$want" "$tmp/stderr" || fail "dirty-log $opts: '$(cat "$tmp/stderr")' does not name $want"
		[ ! -e "$tmp/out" ] || fail "dirty-log $opts: created its results directory"
		echo "ok: dirty-log $opts -> $(cat "$tmp/stderr")"
	done
	exit 0
fi

strategy=$1
shift
protect=srcu-mb
prev=
for a in "$@"; do
	[ "$prev" = --memslot-protect ] && protect=$a
	prev=$a
done
[ "$protect" = srcu ] && protect=srcu-mb
out=$tmp/r
"$bin" dirty-log -v 2 -b 1M -i 3 --strategy "$strategy" --mode both --duration 0.2 \
	--harvest-interval 10 --out "$out" "$@" || fail "dirty-log exited with status $?"
[ -s "$out/summary.csv" ] || fail "no summary.csv"
[ -s "$out/meta.json" ] || fail "no meta.json"
cell=$(printf '%s' "$strategy" | tr -c 'A-Za-z0-9.-' '_')
hists="stall"
[ "$strategy" = none ] || hists="stall harvest get-log clear-log"
for mode in iteration continuous; do
	for h in $hists; do
		f="$out/hist/$cell-$mode-$h.csv"
		[ -s "$f" ] || fail "no $f"
		[ "$(head -n 1 "$f")" = "value_ns,count" ] || fail "$f: bad header"
	done
done

awk -F, -v what="$what" -v strategy="$strategy" -v protect="$protect" '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
function v(name) {
	if (!(name in col)) { print "no column " name; bad = 1; return 0 }
	return $col[name]
}
{
	mode = v("mode")
	rows[mode]++
	if (v("memslot_protect") != protect) {
		print "row " NR ": memslot_protect " v("memslot_protect") ", expected " protect; bad = 1
	}
	if (v("dirty_pass_ns") <= 0 || v("floor_page_touch_ns") <= 0) {
		print "row " NR ": no dirty pass or floor time"; bad = 1
	}
	if (what != "exact")
		next
	dirtied = v("pages_dirtied"); harvested = v("pages_harvested")
	if (mode == "iteration") {
		want = strategy == "none" ? 0 : v("vcpus") * v("pages_per_pass")
		if (dirtied != want || harvested != want) {
			print "iteration " v("iteration") ": dirtied " dirtied ", harvested " harvested ", expected " want
			bad = 1
		}
	} else if (harvested + v("final_harvested") != dirtied) {
		print "continuous: dirtied " dirtied ", harvested " harvested " + final " v("final_harvested")
		bad = 1
	}
}
END {
	if (rows["iteration"] != 3 || rows["continuous"] != 1) {
		print "rows: " rows["iteration"] " iteration, " rows["continuous"] " continuous; expected 3 and 1"
		bad = 1
	}
	exit bad
}' "$out/summary.csv" || fail "summary.csv check failed"
echo "ok: dirty-log $strategy $*"
