#!/bin/sh
# report.html in a real browser: a small real matrix (harvest, srcu and
# dirty-log cells, and one cell that runs past its time limit) runs in a few
# seconds; `dlbench run` writes report.html; headless Chromium loads it
# (tests/browser_check.py, the DevTools protocol on a pipe) and the test
# fails on a console message, an error or warning logged for the page, any
# request beyond the page itself, a script, a broken image, or a plot whose
# inline SVG did not render.  A screenshot of the whole page goes to
# build/test-logs/report-browser.png.  The check itself must fail on a page
# with a console error and a broken image (its negative control).
# Usage: tests/test_report_browser.sh BUILD_DIR
set -u
B=${1:-build}
DL="$B/dlbench"
T=$(mktemp -d /tmp/test_report_browser.XXXXXX)
SHOT=build/test-logs/report-browser.png
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

command -v chromium > /dev/null || { echo "FAIL: no chromium (Debian: apt-get install chromium; ./setup.sh deps)"; exit 1; }
[ -x /usr/bin/python3 ] || { echo "FAIL: no /usr/bin/python3 (Debian: apt-get install python3)"; exit 1; }

cat > "$T/small.ini" <<'EOF'
; report-browser: a matrix that runs in seconds
[global]
repetitions = 2
timeout = 60

[harvest]
workload = harvest
strategy = srcu-swap,xchg,clear-log
bytes = 1M,4M
dirty = "0,10,100"
reps = 2

[srcu]
workload = srcu
repetitions = 1
primitives = "srcu-mb,srcu-fast"
readers = "1,2"
duration = 0.05
gp-samples = 20

[dirty-log]
workload = dirty-log
strategy = xchg,dirty-ring
fault-path = locked,fast
vcpus = 1:*2:max
bytes-per-vcpu = 1M
iterations = 3

; runs for 20 s under a 1 s limit: the report lists it with its log
[too-slow]
workload = dirty-log
repetitions = 1
timeout = 1
strategy = xchg
mode = continuous
vcpus = 1
bytes-per-vcpu = 1M
duration = 20
EOF
"$DL" run --out "$T/r" "$T/small.ini" > "$T/run.out" 2> "$T/run.err"
rc=$?
[ $rc -eq 1 ] || fail "the small matrix: exit $rc, want 1 (one timed-out cell): $(cat "$T/run.err")"
[ -s "$T/r/report.html" ] || fail "dlbench run wrote no report.html: $(cat "$T/run.out")"
nplots=$(ls "$T/r/plots"/*.svg 2> /dev/null | wc -l)
[ "$nplots" -ge 6 ] || fail "only $nplots plots rendered"
grep -q 'too-slow' "$T/r/report.html" && grep -q '<td>timeout</td>' "$T/r/report.html" ||
	fail "report.html does not list the timed-out cell"

mkdir -p build/test-logs
/usr/bin/python3 tests/browser_check.py "$T/r/report.html" "$SHOT" "$nplots" || fail "the report does not render cleanly in Chromium"
[ -s "$SHOT" ] && echo "screenshot: $SHOT" || fail "no screenshot"

# the negative control: a console error, a broken image, a request
cat > "$T/bad.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset=utf-8><title>bad</title></head><body>
<figure class=plot data-plot=broken><img src="missing.png" alt=""></figure>
<script>console.error("deliberate");</script>
</body></html>
EOF
/usr/bin/python3 tests/browser_check.py "$T/bad.html" "$T/bad.png" 1 > "$T/bad.out" 2>&1 &&
	fail "browser_check passed a broken page"
for what in "console error: deliberate" "broken image" "no svg" "scripts"; do
	grep -q "$what" "$T/bad.out" || fail "browser_check missed: $what ($(cat "$T/bad.out"))"
done

if [ $failures -eq 0 ]; then
	rm -rf "$T"
	echo "test_report_browser: 0 failures"
	exit 0
fi
echo "test_report_browser: $failures failures (files kept in $T)"
exit 1
