#!/usr/bin/env bash
# The whole test suite, as `make test` runs it (and CI through .ci/run):
#   1. normal build: unit tests, fuzz smoke, the rendered manifests against
#      the Kubernetes schemas, end-to-end tests;
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build: unit tests and
#      end-to-end tests again (leaks and any sanitizer report fail the run).
# Ends with one "N passed, N failed" line over all stages.
set -u
cd "$(dirname "$0")/.."

passed=0 failed=0
failures=()
stage() {
	local name=$1; shift
	printf '\n=== %s ===\n' "$name"
	if "$@"; then
		passed=$((passed + 1))
		printf '=== %s: PASS ===\n' "$name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf '=== %s: FAIL ===\n' "$name"
	fi
}

jobs=$(nproc 2>/dev/null || echo 2)
san=address,undefined
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

stage "build" make -j"$jobs" all
stage "unit tests" make -j"$jobs" unit
stage "fuzz smoke" make -j"$jobs" fuzz-smoke
stage "manifest schemas" tests/schema/run.sh
stage "end-to-end" make e2e
stage "build (sanitizers)" make -j"$jobs" SAN=$san all
stage "unit tests (sanitizers)" make -j"$jobs" SAN=$san unit
stage "end-to-end (sanitizers)" make SAN=$san e2e

printf '\n'
for f in "${failures[@]+"${failures[@]}"}"; do
	printf 'failed: %s\n' "$f"
done
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
