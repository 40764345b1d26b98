#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/fuzz_<name>.c -> build/fuzz/fuzz_<name>)
# over their seed corpora (tests/fuzz/corpus/<name>/).
#
#   tools/fuzz.sh smoke [NAME...]   each target: its corpus, then new inputs
#                                   for FUZZ_SMOKE_SECONDS (5) or
#                                   FUZZ_SMOKE_RUNS (100000), whichever ends first
#   tools/fuzz.sh run [NAME...]     each target for FUZZ_SECONDS (60); new
#                                   inputs are kept in a temporary directory
#                                   and reported, for merging by hand
#
# The repository's corpus is only read: libFuzzer writes new inputs into
# the first corpus directory it is given, which is always a temporary one.
# Crash inputs go to FUZZ_OUT (default: a new directory under /tmp).
# One PASS/FAIL line per target, then "N passed, N failed"; the exit status
# is 1 if any target failed or the fuzzers cannot be built: a missing
# clang or libFuzzer is a broken setup, not a reason to skip.
set -u

cd "$(dirname "$0")/.." || exit 1

mode=${1:-}
case $mode in
smoke|run) shift ;;
*) echo "usage: $0 smoke|run [NAME...]" >&2; exit 2 ;;
esac

fuzz_cc=${FUZZ_CC:-clang}
corpus_root=tests/fuzz/corpus

# ---- the toolchain ----

if ! command -v "$fuzz_cc" >/dev/null 2>&1; then
	echo "fuzz: $fuzz_cc not found; install clang (tools/install-deps.sh) to build the fuzz targets" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
probe=$(mktemp -d)/probe || exit 1
trap 'rm -rf "${probe%/probe}"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' >"$probe.c"
if ! "$fuzz_cc" -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" >"$probe.log" 2>&1; then
	echo "fuzz: $fuzz_cc cannot link -fsanitize=fuzzer (libFuzzer missing?):" >&2
	sed 's/^/  /' "$probe.log" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

out=${FUZZ_OUT:-$(mktemp -d /tmp/tendril-fuzz.XXXXXX)}
mkdir -p "$out" || exit 1

# ---- the targets ----

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		[ -e "$src" ] || continue
		n=${src#tests/fuzz/fuzz_}
		names+=("${n%.c}")
	done
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "fuzz: no targets in tests/fuzz/" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

bins=()
for n in "${names[@]}"; do
	bins+=("build/fuzz/fuzz_$n")
done
# make knows whether they are up to date.
if ! make -s "${bins[@]}"; then
	echo "fuzz: building the targets failed" >&2
	echo "0 passed, ${#names[@]} failed"
	exit 1
fi

if [ "$mode" = smoke ]; then
	limits=(-max_total_time="${FUZZ_SMOKE_SECONDS:-5}" -runs="${FUZZ_SMOKE_RUNS:-100000}")
else
	limits=(-max_total_time="${FUZZ_SECONDS:-60}")
fi

passed=0 failed=0
for n in "${names[@]}"; do
	bin=build/fuzz/fuzz_$n
	seeds=$corpus_root/$n
	new=$out/$n.new
	log=$out/$n.log
	mkdir -p "$new" "$out/$n.crashes"

	dirs=("$new")
	if [ -d "$seeds" ]; then
		dirs+=("$seeds")
		nseeds=$(find "$seeds" -type f | wc -l)
	else
		echo "fuzz: warning: no seed corpus $seeds" >&2
		nseeds=0
	fi

	"$bin" "${limits[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/$n.crashes/" "${dirs[@]}" >"$log" 2>&1
	rc=$?

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	nnew=$(find "$new" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS fuzz_%s: %s runs, %s seeds, %s new inputs\n' "$n" "${execs:-?}" "$nseeds" "$nnew"
	else
		failed=$((failed + 1))
		artifact=$(find "$out/$n.crashes" -type f | head -n 1)
		printf 'FAIL fuzz_%s: exit %d%s (log %s)\n' "$n" "$rc" \
			"${artifact:+, input $artifact}" "$log"
		grep -E 'ERROR|check failed|runtime error|SUMMARY|Test unit written' "$log" | head -n 12 | sed 's/^/    /'
	fi
	if [ "$mode" = run ] && [ "$nnew" -gt 0 ]; then
		echo "    new inputs in $new; to keep them: $bin -merge=1 $seeds $new"
	fi
	[ "$mode" = smoke ] && [ $rc -eq 0 ] && rm -rf "$new" "$out/$n.crashes" "$log"
done

[ "$mode" = smoke ] && [ $failed -eq 0 ] && [ -z "${FUZZ_OUT:-}" ] && rm -rf "$out"
[ $failed -gt 0 ] || [ "$mode" = run ] && echo "output: $out"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
