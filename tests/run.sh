#!/bin/sh
# Runs every test listed in tests/list in every variant it names, and ends
# with the line "N passed, N failed".  `ninja test` builds, then runs this.
#
# tests/list: one test a line, "VARIANTS NAME COMMAND...", where VARIANTS is
# a comma-separated subset of normal,tsan,asan and COMMAND runs from the
# repository root with $B set to the variant's build directory.  A test
# passes when COMMAND exits 0.  Output of failing tests is shown; output of
# passing ones is kept in build/test-logs/, except its "SKIP: reason" lines,
# which are shown under its PASS line.
#
# TESTS_FILTER=regex runs only the tests whose name matches;
# TESTS_VARIANTS=normal (or a comma-separated list) only those variants.
set -u
cd "$(dirname "$0")/.."
logs=build/test-logs
mkdir -p "$logs"
passed=0
failed=0
failures=""
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1 abort_on_error=0 ${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"

while read -r variants name cmd; do
	case "$variants" in ''|'#'*) continue ;; esac
	if [ -n "${TESTS_FILTER:-}" ] && ! printf '%s\n' "$name" | grep -Eq "$TESTS_FILTER"; then
		continue
	fi
	for v in $(printf '%s' "$variants" | tr ',' ' '); do
		case ",${TESTS_VARIANTS:-$v}," in *",$v,"*) ;; *) continue ;; esac
		case "$v" in
		normal) B=build ;;
		tsan) B=build/tsan ;;
		asan) B=build/asan ;;
		*) echo "tests/list: unknown variant '$v' for test $name" >&2; failed=$((failed + 1)); continue ;;
		esac
		log="$logs/$name.$v.log"
		start=$(date +%s)
		if B=$B sh -c "$cmd" > "$log" 2>&1; then
			passed=$((passed + 1))
			echo "PASS $name [$v] ($(( $(date +%s) - start ))s)"
			# a test that skipped part of itself says why
			grep '^SKIP: ' "$log" | sed 's/^/    /'
		else
			rc=$?
			failed=$((failed + 1))
			failures="$failures $name[$v]"
			echo "FAIL $name [$v] (exit $rc, $(( $(date +%s) - start ))s): last lines of $log:"
			tail -n 30 "$log" | sed 's/^/    /'
		fi
	done
done < tests/list

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
