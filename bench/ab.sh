#!/usr/bin/env bash
# bench/ab.sh: two tendril configurations, A and B, side by side. Both
# tunnels are up at once, each in its own pair of network namespaces (the
# topology of bench/lib.sh), and the one-stream iperf3 runs alternate
# A, B, A, B, ... so that whatever else the shared machine does in the
# meantime hits both alike, and runs as many pairs as asked (run.sh takes
# five runs per path; one run differs from the next by 10-20% here).
#
# Usage (as root, after make):
#
#   bench/ab.sh
#
# Knobs (environment):
#
#   AB_A=""              flags of both daemons in A (default: the defaults)
#   AB_B="--seal off"    flags of both daemons in B
#   AB_RUNS=8            pairs of runs
#   AB_REV=0             1: shoot->seed (iperf3 -R)
#   AB_STREAMS=1         parallel iperf3 streams (-P)
#   BENCH_SECONDS=4      length of one run
#   BIN=DIR              vpn-server, vpn-shoot, vpnctl (default build/bin)
#   AB_BIN_A=DIR         the binaries of A (default BIN): with AB_BIN_B,
#   AB_BIN_B=DIR         two builds, e.g. before and after a change
#
# Prints every run (Gbit/s as iperf3's receiver counted it, and the CPU
# seconds per GB of both daemons over that run), then the medians and in
# how many pairs B was faster, and used less CPU per GB, than A. Nothing
# is written to the docs.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SECS=${BENCH_SECONDS:-4}
AB_RUNS=${AB_RUNS:-8}
AB_REV=${AB_REV:-0}
AB_STREAMS=${AB_STREAMS:-1}
read -r -a FLAGS_A <<<"${AB_A:-}"
read -r -a FLAGS_B <<<"${AB_B---seal off}"

bench_init
PKI=$B_T/pki
declare -A AB_S AB_SRV AB_CLI
declare -A AB_BIN=([a]=${AB_BIN_A:-$BIN} [b]=${AB_BIN_B:-$BIN})

# ab_up X FLAG...: the pair and tunnel of configuration X (a or b).
ab_up() {
	local x=$1 bin; shift
	bin=${AB_BIN[$x]}
	bench_pair "ab$x"
	AB_S[$x]=$NS_S
	sinks_up
	spawn "ab$x-server" "$NS_S" "$bin/vpn-server" \
		--cert "$PKI/server.crt" --key "$PKI/server.key" --ca "$PKI/ca.crt" \
		--dev tdl-s --listen "$SEED_UP:$VPN_PORT" --shoot-networks "$SHOOT_NET" \
		--stats-socket "$B_T/ab$x-server.sock" "$@"
	poll 5 listening "$NS_S" "$VPN_PORT" || die "vpn-server ($x) did not start"
	spawn "ab$x-shoot" "$NS_C" "$bin/vpn-shoot" \
		--cert "$PKI/shoot.crt" --key "$PKI/shoot.key" --ca "$PKI/ca.crt" \
		--dev tdl-c --server "$SEED_UP:$VPN_PORT" --server-name vpn-server \
		--stats-socket "$B_T/ab$x-shoot.sock" "$@"
	poll 10 tunnel_answers || die "tunnel $x did not come up"
	AB_SRV[$x]=${B_PID[ab$x-server]}
	AB_CLI[$x]=${B_PID[ab$x-shoot]}
	say "$x: up ($bin: $*)"
}

tunnel_answers() { nsx "$NS_S" ping -c 1 -W 1 "$TARGET" >/dev/null 2>&1; }

# ab_run X N: one run of X; prints "GBIT S_PER_GB".
ab_run() {
	local x=$1 n=$2 t0 t1 gbit bytes
	NS_S=${AB_S[$x]}
	t0=$(cpu_ticks "${AB_SRV[$x]}" "${AB_CLI[$x]}")
	read -r gbit bytes <<<"$(iperf_once "$AB_STREAMS" "$AB_REV" "$B_T/iperf-$x-$n.json")"
	t1=$(cpu_ticks "${AB_SRV[$x]}" "${AB_CLI[$x]}")
	echo "$gbit $(calc div "$(calc div $((t1 - t0)) "$(clk_tck)")" "$(calc div "$bytes" 1000000000)")"
}

ab_up a "${FLAGS_A[@]}"
ab_up b "${FLAGS_B[@]}"
ga=() gb=() ca=() cb=() wins=0 leaner=0
for ((i = 1; i <= AB_RUNS; i++)); do
	read -r g1 c1 <<<"$(ab_run a "$i")"
	read -r g2 c2 <<<"$(ab_run b "$i")"
	say "pair $i: A $g1 Gbit/s $c1 s/GB, B $g2 Gbit/s $c2 s/GB"
	ga+=("$g1") gb+=("$g2") ca+=("$c1") cb+=("$c2")
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[2]) > float(sys.argv[1]) else 1)' "$g1" "$g2" &&
		wins=$((wins + 1))
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[2]) < float(sys.argv[1]) else 1)' "$c1" "$c2" &&
		leaner=$((leaner + 1))
done
printf 'A (%s%s): median %s Gbit/s, %s s/GB\n' "${AB_BIN_A:+$AB_BIN_A: }" "${AB_A:-defaults}" "$(calc median "${ga[@]}")" "$(calc median "${ca[@]}")"
label_b=${AB_B---seal off}
printf 'B (%s%s): median %s Gbit/s, %s s/GB\n' "${AB_BIN_B:+$AB_BIN_B: }" "${label_b:-defaults}" "$(calc median "${gb[@]}")" "$(calc median "${cb[@]}")"
printf 'B faster than A in %d of %d pairs, leaner (s/GB) in %d (%s, %s stream(s), %s s each)\n' \
	"$wins" "$AB_RUNS" "$leaner" "$([ "$AB_REV" = 1 ] && echo 'shoot->seed' || echo 'seed->shoot')" \
	"$AB_STREAMS" "$SECS"
