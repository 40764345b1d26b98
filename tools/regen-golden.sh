#!/usr/bin/env bash
# Regenerates the golden files of the unit tests (tests/unit/golden/) from
# the current renderers, then shows what changed for review.
#
#   tools/regen-golden.sh            every test binary that has golden files (metrics, vpnctl, ctl, controller_render)
#   tools/regen-golden.sh metrics    only build/tests/test_metrics
#
# Each test binary writes its goldens instead of comparing them when run
# with GOLDEN_UPDATE=1 (and GOLDEN_DIR, set here, saying where). A golden
# file is the specification of an output: commit a change to one only
# after reading its diff.
set -eu

cd "$(dirname "$0")/.."

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(metrics vpnctl ctl controller_render)

bins=()
for n in "${names[@]}"; do
	bins+=("build/tests/test_$n")
done
make -s "${bins[@]}"

mkdir -p tests/unit/golden
for bin in "${bins[@]}"; do
	echo "== $bin"
	GOLDEN_UPDATE=1 GOLDEN_DIR=tests/unit/golden CMOCKA_MESSAGE_OUTPUT=stdout "$bin"
done

if git rev-parse --git-dir >/dev/null 2>&1; then
	git status --short -- tests/unit/golden
	git --no-pager diff --stat -- tests/unit/golden
fi
