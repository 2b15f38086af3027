#!/bin/sh
# One command from a fresh Debian 12 machine to results:
#   ./setup.sh main     install what is missing, build, run the main job
#                       (the quick benchmark matrix, its plots and report)
#   ./setup.sh test     install what is missing, build, run every test
#                       (normal, ThreadSanitizer and ASan+UBSan builds,
#                       the SRCU model check, the report in Chromium)
#   ./setup.sh mutants  the same setup, then `ninja mutants` (every
#                       synchronization step removed in turn; ~10-20 min)
#   ./setup.sh slurm    the same setup plus Slurm and munge, then the
#                       --emit slurm test on a single-node Slurm it starts
#   ./setup.sh deps     only check and install the Debian packages
# Packages are installed with apt-get when run as root; otherwise the exact
# apt-get command is printed and the script stops.
set -eu
cd "$(dirname "$0")"

# build and run: compiler, ninja, the libraries (hwloc, numa, liburcu, inih)
# and gnuplot with a font; the tests also need GNU parallel (sharded runs),
# spin (the SRCU model check), Chromium and python3 (the report in a real
# browser)
PACKAGES="build-essential ninja-build pkg-config git libnuma-dev libhwloc-dev liburcu-dev libinih-dev gnuplot-nox fonts-liberation"
TEST_PACKAGES="parallel spin chromium python3"
SLURM_PACKAGES="slurm-wlm munge"

deps() {
	missing=""
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
			missing="$missing $p"
		fi
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -eq 0 ]; then
		echo "setup: installing:$missing" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >&2
	else
		echo "setup: missing Debian packages; run this, then ./setup.sh again:" >&2
		echo "  sudo apt-get install -y$missing" >&2
		exit 1
	fi
}

build() {
	./configure >&2
	ninja "$@" >&2
}

what=${1:-main}
case "$what" in
deps)
	# shellcheck disable=SC2086
	deps $PACKAGES $TEST_PACKAGES
	;;
main)
	# shellcheck disable=SC2086
	deps $PACKAGES
	build build/all
	exec build/dlbench run configs/quick.ini
	;;
test)
	# shellcheck disable=SC2086
	deps $PACKAGES $TEST_PACKAGES
	build build/all sanitizers
	exec ninja test
	;;
mutants)
	# shellcheck disable=SC2086
	deps $PACKAGES
	build build/all
	exec ninja mutants
	;;
slurm)
	# shellcheck disable=SC2086
	deps $PACKAGES $SLURM_PACKAGES
	build build/all
	exec sh tests/test_slurm.sh build
	;;
*)
	echo "usage: ./setup.sh [main|test|mutants|slurm|deps]" >&2
	exit 2
	;;
esac
