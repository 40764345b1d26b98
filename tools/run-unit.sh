#!/usr/bin/env bash
# Runs cmocka unit test binaries and sums up their results.
#
#   tools/run-unit.sh build/tests/test_proto build/tests/test_cidr ...
#
# Each binary's output is printed as it runs. The counts come from
# cmocka's summary lines ("[  PASSED  ] N test(s).", "[  FAILED  ] N
# test(s), listed below:", "[  SKIPPED ] ..."). A binary that crashes,
# times out, leaks (LeakSanitizer exits non-zero after the tests passed)
# or prints no summary counts as one failed test, so that nothing goes
# unnoticed. The last line is "N passed, N failed"; the exit status is 1
# if anything failed.
#
# UNIT_TIMEOUT: seconds per binary (default 300).
set -u

timeout_s=${UNIT_TIMEOUT:-300}
passed=0 failed=0 skipped=0
broken=()

if [ $# -eq 0 ]; then
	echo "usage: $0 TEST_BINARY..." >&2
	exit 2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

runner=()
if command -v timeout >/dev/null 2>&1; then
	runner=(timeout --kill-after=10 "$timeout_s")
fi

for bin in "$@"; do
	name=$(basename "$bin")
	if [ ! -x "$bin" ]; then
		echo "$name: not built or not executable: $bin" >&2
		failed=$((failed + 1))
		broken+=("$name (missing)")
		continue
	fi
	# cmocka can be told to write TAP or XML instead; we parse its text.
	CMOCKA_MESSAGE_OUTPUT=stdout "${runner[@]}" "$bin" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	p=$(sed -n 's/^\[  PASSED  \] \([0-9]\+\) test(s)\.$/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]\+\) test(s), listed below:$/\1/p' "$log" | tail -n 1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]\+\) test(s), listed below:$/\1/p' "$log" | tail -n 1)
	if [ -z "$p$f$s" ]; then
		# No summary (a crash or a timeout): count what did finish.
		p=$(grep -c '^\[       OK \] ' "$log")
		f=$(grep '^\[  FAILED  \] ' "$log" | grep -vc 'test(s)')
		s=$(grep '^\[  SKIPPED \] ' "$log" | grep -vc 'test(s)')
	fi
	p=${p:-0} f=${f:-0} s=${s:-0}
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))

	if [ "$rc" -ne 0 ] && { [ "$f" -eq 0 ] || ! grep -q '^\[==========\] [0-9]\+ test(s) run\.$' "$log"; }; then
		case $rc in
		124|137) why="timed out after ${timeout_s}s" ;;
		*) if grep -q '^\[==========\] [0-9]\+ test(s) run\.$' "$log"; then
			   why="exited with status $rc after its tests (sanitizer report?)"
		   else
			   why="exited with status $rc before its summary (crash?)"
		   fi ;;
		esac
		echo "$name: $why" >&2
		failed=$((failed + 1))
		broken+=("$name ($why)")
	elif [ "$rc" -eq 0 ] && [ "$((p + f + s))" -eq 0 ]; then
		echo "$name: printed no cmocka summary" >&2
		failed=$((failed + 1))
		broken+=("$name (no summary)")
	fi
	echo
done

for b in ${broken[@]+"${broken[@]}"}; do
	echo "broken: $b"
done
[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
