#!/usr/bin/env bash
# Runs the end-to-end tests: every tests/e2e/t_*.sh (or those named on the
# command line), each under `timeout`, one after the other. Prints PASS,
# FAIL or SKIP per test (a failing test's output follows it) and ends with
# "N passed, N failed". Exit status 1 if any test failed.
#
#   sudo tests/e2e/run.sh [t_ping ...]
#
# Environment: BIN (directory of the binaries, default build/bin),
# E2E_TIMEOUT (seconds per test, default 90), E2E_VERBOSE=1 (print every
# test's output), E2E_KEEP=1 (keep each test's temp dir).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export BIN=${BIN:-$root/build/bin}
case $BIN in /*) ;; *) BIN=$root/$BIN ;; esac
limit=${E2E_TIMEOUT:-90}

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e: needs root (network namespaces); run: sudo $0" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		t=${t%.sh}; t=${t##*/}
		[ -f "$here/$t.sh" ] || { echo "e2e: no such test: $t" >&2; exit 2; }
		tests+=("$here/$t.sh")
	done
else
	for t in "$here"/t_*.sh; do tests+=("$t"); done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tendril-e2e-run.XXXXXX")
# Every namespace of this run starts with this prefix, so that whatever a
# killed test left behind can be found and removed below, and nothing else.
E2E_NS_PREFIX="tdl$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
export E2E_NS_PREFIX
finish() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		case $ns in "$E2E_NS_PREFIX"*)
			echo "e2e: removing leftover namespace $ns" >&2
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null
		esac
	done
	rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM

# One PKI for the whole run (each test makes its own when run alone).
export E2E_PKI=$work/pki
"$root/tests/pki.sh" "$E2E_PKI" || { echo "e2e: tests/pki.sh failed"; echo "0 passed, 1 failed"; exit 1; }

echo "e2e: BIN=$BIN"
pass=0 fail=0 skip=0
start=$SECONDS
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	out=$work/$name.out
	t0=$(date +%s%N)
	timeout -k 10 "$limit" bash "$t" >"$out" 2>&1
	rc=$?
	secs=$(( ($(date +%s%N) - t0) / 100000000 ))
	secs="$((secs / 10)).$((secs % 10))s"
	case $rc in
	0)
		pass=$((pass + 1))
		printf 'PASS %-22s %6s\n' "$name" "$secs"
		[ "${E2E_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$out"
		;;
	77)
		skip=$((skip + 1))
		printf 'SKIP %-22s %6s  %s\n' "$name" "$secs" "$(tail -n 1 "$out")"
		;;
	*)
		fail=$((fail + 1))
		[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "    (timed out after ${limit}s)" >>"$out"
		printf 'FAIL %-22s %6s\n' "$name" "$secs"
		sed 's/^/    /' "$out"
		;;
	esac
done
echo "e2e: $((SECONDS - start))s"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
