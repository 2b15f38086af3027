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
#       memslot protection given with --memslot-protect (default srcu-mb,
#       or srcu-FLAVOUR with --vm-srcu FLAVOUR)
#       and the MMU given with --mmu (default soft; under real, with a
#       fault floor).
#   check_dirty_log.sh DLBENCH run STRATEGY [OPTIONS...]
#       The same run and files, without the page counts (for random order,
#       overlap or partial writes, where a page may fault several times).
#   check_dirty_log.sh DLBENCH bad-input
#       Bad options and machine checks of dirty-log, verify and harvest
#       exit with status 2 and one line on stderr naming the option, before
#       anything is printed or any results directory is created (dirty-log
#       -m with no such NUMA node; verify -b beyond MemAvailable once its
#       destination image is counted; -v out of range).
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
	# bad CMD "OPTIONS|text the error line must contain": exit status 2,
	# one line on stderr naming the option, nothing on stdout (every check
	# runs before anything is printed or created), no results directory.
	bad() {
		cmd=$1
		opts=${2%%|*}
		want=${2#*|}
		out=
		[ "$cmd" = verify ] || out="--out $tmp/out"
		rc=0
		# shellcheck disable=SC2086 # word splitting of $opts is intended
		(cd "$tmp/cwd" && "$bin" $cmd $opts $out) > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
		[ "$rc" -eq 2 ] || fail "$cmd $opts: exit status $rc, expected 2"
		[ "$(wc -l < "$tmp/stderr")" -eq 1 ] || fail "$cmd $opts: stderr is not one line: $(cat "$tmp/stderr")"
		grep -qF -- "$want" "$tmp/stderr" || fail "$cmd $opts: '$(cat "$tmp/stderr")' does not name $want"
		[ ! -s "$tmp/stdout" ] || fail "$cmd $opts: printed before failing: $(head -n 3 "$tmp/stdout")"
		[ ! -e "$tmp/out" ] || fail "$cmd $opts: created its results directory"
		[ -z "$(ls -A "$tmp/cwd")" ] || fail "$cmd $opts: created $(ls -A "$tmp/cwd")"
		echo "ok: $cmd $opts -> $(cat "$tmp/stderr")"
	}
	mkdir "$tmp/cwd"
	# bin is used from another directory
	case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
	for case in \
		"-v 1 -b 1M -x 3|--slots" \
		"-v 1 -b 1M -x 8|--slots" \
		"-i 1|--iterations" \
		"-b 10Q|--bytes-per-vcpu" \
		"-b 5000|--bytes-per-vcpu" \
		"-w 101|--write-percent" \
		"--strategy no-such-strategy|--strategy" \
		"--strategy xchg:bogus=1|--strategy" \
		"--fault-path sideways|--fault-path" \
		"--memslot-protect no-such-protection|--memslot-protect" \
		"-s floppy|--backing" \
		"-m nowhere|--numa" \
		"-m 4095|--numa" \
		"--mode sometimes|--mode" \
		"--harvest-interval 500 --duration 0.1|--harvest-interval" \
		"-c 99999|--cpus" \
		"--harvester-cpu 99999|--harvester-cpu" \
		"-v 99999999999999999999|out of range" \
		"--no-such-option|is unknown" \
		"--mmu sideways|--mmu" \
		"--mmu real -s anonymous_hugetlb|hugetlb" \
		"--mmu real --mmu-wp mprotect -b 512M|vm.max_map_count" \
		"--mmu real --mmu-wp mprotect --fault-delivery thread|--fault-delivery" \
		"--mmu soft,real --fault-delivery carrier-pigeon|--fault-delivery" \
		"--strategy uffd-wp|real MMU only" \
		"--mmu real --strategy mprotect -b 512M|vm.max_map_count" \
		"--mmu real --strategy uffd-wp-async:unpopulated=2|--strategy"
	do
		bad dirty-log "$case"
	done
	avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	# the guest alone fits in MemAvailable, with its destination image it
	# does not (a multiple of 256K)
	size=$((avail_kb * 3 / 4 / 256 * 256))K
	for case in \
		"--bogus|is unknown" \
		"-s xchg --bogus|is unknown" \
		"-s xchg -v 99999999999999999999|out of range" \
		"-s xchg -v 0|out of range" \
		"-s xchg -r 0|--rounds" \
		"-v 1|--strategy" \
		"-s none|--strategy" \
		"-s no-such-strategy|--strategy" \
		"-s xchg -p sideways|--fault-path" \
		"-s xchg -b 1M -n 3|--slots" \
		"-s xchg -c 99999|--cpus" \
		"-s xchg --memslot-protect nope|--memslot-protect" \
		"-s xchg --vm-srcu fast --memslot-protect srcu-classic|--vm-srcu fast contradicts" \
		"-s xchg -m floppy|--backing" \
		"-s xchg --out x|is unknown" \
		"-s xchg --mmu real -m anonymous_hugetlb|hugetlb" \
		"-s xchg --mmu real --mmu-wp mprotect -b 512M|vm.max_map_count" \
		"-s xchg --mmu real --mmu-wp mprotect --fault-delivery thread|--fault-delivery" \
		"-s uffd-wp,mprotect|real MMU only" \
		"-s mprotect --mmu real --fault-delivery thread|--fault-delivery"
	do
		bad verify "$case"
	done
	# A verifier that started anyway would grow until killed: bound it
	# with ulimit -v, where the binary can run under it (a sanitizer build
	# reserves more address space than that: skip the case there).
	limit=$((avail_kb * 7 / 8))
	if sh -c 'ulimit -v "$1" && "$2" --version' sh "$limit" "$bin" > /dev/null 2>&1; then
		(ulimit -v "$limit" && bad verify "-s xchg -b $size|MemAvailable")
	else
		echo "skipped: verify -b $size (this binary does not run under ulimit -v)"
	fi
	for case in \
		"--bogus|is unknown" \
		"-d 101|--dirty" \
		"-b 100K|--bytes" \
		"-s xchg:bogus=1|--strategy" \
		"--mmu real -m anonymous_hugetlb|hugetlb" \
		"-s xchg --mmu real --mmu-wp mprotect -b 512M|vm.max_map_count" \
		"-s all --mmu real --mmu-wp mprotect -b 512M -s mprotect|vm.max_map_count"
	do
		bad harvest "$case"
	done
	exit 0
fi

strategy=$1
shift
protect=srcu
vmsrcu=auto
mmu=soft
delivery=signal
wp=auto
prev=
for a in "$@"; do
	[ "$prev" = --memslot-protect ] && protect=$a
	[ "$prev" = --vm-srcu ] && vmsrcu=$a
	[ "$prev" = --mmu ] && mmu=$a
	[ "$prev" = --fault-delivery ] && delivery=$a
	[ "$prev" = --mmu-wp ] && wp=$a
	prev=$a
done
# `srcu` (the default) is the SRCU protection of the VM's flavour
flavour=$vmsrcu
[ "$flavour" = auto ] && flavour=mb
[ "$protect" = srcu ] && protect=srcu-$flavour
out=$tmp/r
"$bin" dirty-log -v 2 -b 1M -i 3 --strategy "$strategy" --mode both --duration 0.2 \
	--harvest-interval 10 --out "$out" "$@" || fail "dirty-log exited with status $?"
[ -s "$out/summary.csv" ] || fail "no summary.csv"
[ -s "$out/meta.json" ] || fail "no meta.json"
cell=$(printf '%s' "$strategy" | tr -c 'A-Za-z0-9.-' '_')
# the real MMU's histograms are named apart from the soft ones
if [ "$mmu" = real ]; then
	cell=$cell-real
	[ "$delivery" = thread ] && cell=$cell-thread
	[ "$wp" = auto ] || cell=$cell-$wp
fi
# and an explicit --vm-srcu flavour's apart from the default's
[ "$vmsrcu" = auto ] || cell=$cell-srcu-$vmsrcu
hists="stall"
[ "$strategy" = none ] || hists="stall harvest get-log clear-log"
for mode in iteration continuous; do
	for h in $hists; do
		f="$out/hist/$cell-$mode-$h.csv"
		[ -s "$f" ] || fail "no $f"
		[ "$(head -n 1 "$f")" = "value_ns,count" ] || fail "$f: bad header"
	done
done

awk -F, -v what="$what" -v strategy="$strategy" -v protect="$protect" -v mmu="$mmu" '
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
	if (v("mmu") != mmu) {
		print "row " NR ": mmu " v("mmu") ", expected " mmu; bad = 1
	}
	if (mmu == "real" && strategy != "none" && v("fault_floor_ns") <= 0) {
		print "row " NR ": no fault floor under the real MMU"; bad = 1
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
