#!/bin/sh
# One command from a fresh Debian 12 machine to results:
#   ./setup.sh main   install what is missing, build, run the main job
#                     (the quick benchmark matrix with its plots)
#   ./setup.sh test   install what is missing, build, run every test
#                     (normal, ThreadSanitizer and ASan+UBSan builds)
#   ./setup.sh deps   only check and install the Debian packages
# Packages are installed with apt-get when run as root; otherwise the exact
# apt-get command is printed and the script stops.
set -eu
cd "$(dirname "$0")"

PACKAGES="build-essential ninja-build pkg-config git libnuma-dev libhwloc-dev liburcu-dev libinih-dev gnuplot-nox fonts-liberation spin"

deps() {
	missing=""
	for p in $PACKAGES; do
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
	deps
	;;
main)
	deps
	build build/all
	exec build/dlbench run configs/quick.ini
	;;
test)
	deps
	build build/all build/tsan/all build/asan/all
	exec ninja test
	;;
*)
	echo "usage: ./setup.sh [main|test|deps]" >&2
	exit 2
	;;
esac
