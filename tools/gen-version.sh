#!/bin/sh
# Writes the suite's version (git describe) into the header named by $1,
# touching it only when the text changes.
set -eu
out=$1
v=$(git -C "$(dirname "$0")/.." describe --always --dirty 2>/dev/null || echo unknown)
new="#define DLBENCH_VERSION \"$v\""
mkdir -p "$(dirname "$out")"
if [ ! -f "$out" ] || [ "$(cat "$out")" != "$new" ]; then
    printf '%s\n' "$new" > "$out.tmp.$$" && mv "$out.tmp.$$" "$out"
fi
