#!/bin/sh
# A stand-in for `build/dlbench NAME` used by tests/test_run.sh through
# DLBENCH_RUN_EXE: it follows the workload contract of lib/matrix.h (its
# --help lists its options, bad values exit 2 with one line, --out DIR
# gets summary.csv, hist/lat.csv and meta.json) and can fail, crash, hang
# or be slow on demand (--mode).  FAKE_SCALE multiplies its figures.
prog="dlbench $1"
case "$1" in
fake) shift ;;
noout) echo "usage: $prog [--size N]  (a command that writes no result directory)"; exit 0 ;;
*) echo "dlbench: unknown command '$1'" >&2; exit 2 ;;
esac
size=1 mode=ok flag=0 seed=1 out= help=0
while [ $# -gt 0 ]; do
	case "$1" in
	--size) [ $# -ge 2 ] || { echo "$prog: --size needs a value" >&2; exit 2; }
		case "$2" in ''|*[!0-9]*) echo "$prog: --size: '$2' is not a non-negative integer" >&2; exit 2 ;; esac
		size=$2; shift ;;
	--mode) case "$2" in ok|fail|crash|hang|slow) mode=$2 ;;
		*) echo "$prog: --mode: unknown mode '$2' (ok, fail, crash, hang, slow)" >&2; exit 2 ;; esac
		shift ;;
	--flag) flag=1 ;;
	--seed) seed=$2; shift ;;
	--out) out=$2; shift ;;
	--help) help=1 ;;
	*) echo "$prog: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
if [ $help = 1 ]; then
	echo "usage: $prog [--size N] [--mode ok|fail|crash|hang|slow] [--flag] [--seed N] --out DIR"
	exit 0
fi
[ -n "$out" ] || { echo "$prog: --out is required" >&2; exit 2; }
case $mode in
fail) echo "$prog: failing on request" >&2; exit 3 ;;
crash) kill -SEGV $$ ;;
hang) exec sleep 600 ;;
slow) sleep 0.4 ;;
esac
mkdir "$out" || exit 1
mkdir "$out/hist"
scale=${FAKE_SCALE:-1}
# figures: exact functions of size, seed and scale, so tests can predict them
value=$(( size * scale * (100 + seed % 3) ))
{
	echo "mode,size,flag,seed,iteration,value_ns,ops_per_s"
	echo "$mode,$size,$flag,$seed,1,$value,$(( 1000000 / (size * scale) ))"
	echo "$mode,$size,$flag,$seed,2,$(( value * 2 )),$(( 500000 / (size * scale) ))"
} > "$out/summary.csv.tmp" && mv "$out/summary.csv.tmp" "$out/summary.csv"
printf 'value_ns,count\n%d,3\n%d,1\n' "$value" "$(( value * 4 ))" > "$out/hist/lat.csv"
echo '{ "workload": "fake" }' > "$out/meta.json"
echo "fake: size $size value $value"
