# shellcheck shell=bash disable=SC2034
# Helpers for bench/run.sh: namespaces, processes, and one function per
# measurement. Every name this run creates carries a per-run id; cleanup
# (an EXIT trap) kills only the processes it started, by PID, plus whatever
# is left inside its own namespaces, and deletes only those namespaces.
#
# The topology of one "path" (bench_pair NAME):
#
#     seed ns ($NS_S)                          shoot ns ($NS_C)
#   +---------------------------+            +-----------------------------+
#   | iperf3 -c, ping, rr client|            | iperf3 -s, rr server        |
#   | vpn-server / openvpn srv  |            | vpn-shoot / openvpn client  |
#   |   up0 192.0.2.1/24        |<--veth---->|   up0 192.0.2.2/24          |
#   |                           |            |   lo  10.250.0.1/32         |
#   +---------------------------+            |   ("shoot network")         |
#                                            +-----------------------------+
# The seed reaches 10.250.0.1 through the tunnel under test (or, for the
# direct path, through a plain route via 192.0.2.2).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
if [ -z "${PY:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fi

SEED_UP=192.0.2.1
SHOOT_UP=192.0.2.2
SHOOT_NET=10.250.0.0/24
TARGET=10.250.0.1	# the iperf3 / rr server, on the shoot side
OVPN_NET=198.51.100.0	# OpenVPN's transfer network (/24)
VPN_PORT=1194
IPERF_PORT=5201
RR_PORT=5300
UDP_PORT=5400
UDP_SIZE=1400	# bytes per datagram ...
UDP_COUNT=40	# ... and datagrams per write (UDP_SEGMENT)

SECS=${BENCH_SECONDS:-3}	# length of one iperf3 run
RUNS=${BENCH_RUNS:-5}		# iperf3 runs per configuration (median)
PINGS=${BENCH_PINGS:-200}	# pings per RTT measurement (-i 0.01)
RR_N=${BENCH_RR_N:-2000}	# request/response round trips per path
RR_ROUNDS=${BENCH_RR_ROUNDS:-4}	# ... in this many runs, taking turns
STARTS=${BENCH_STARTS:-3}	# client start -> first ping trials (median)

declare -a B_PIDS=()	# every process we started
declare -A B_PID=()	# name -> pid of its latest instance
declare -a B_NS=()	# namespaces we created
B_T=
B_T0=

# ---------------------------------------------------------------- output

now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((10#$t / 1000)); }

say() { printf '[%4ds] %s\n' $(( ($(now_ms) - B_T0) / 1000 )) "$*" >&2; }

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

# record PATH METRIC VALUE: one result line for bench/report.py.
record() { printf '%s %s %s\n' "$1" "$2" "$3" >>"$B_T/results"; }

calc() { "$PY" "$BENCH_DIR/calc.py" "$@"; }

# poll SECONDS CMD...: runs CMD every 0.05 s until it succeeds or SECONDS
# pass; CMD must itself be bounded in time.
poll() {
	local secs=$1; shift
	local end=$(( $(now_ms) + secs * 1000 )) i
	for ((i = 0; i < secs * 20 + 1; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -lt "$end" ] || break
		sleep 0.05
	done
	"$@" >/dev/null 2>&1
}

# ---------------------------------------------------------------- setup

bench_init() {
	B_T0=$(now_ms)
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces): sudo make bench"
	local tool
	for tool in ip ping iperf3 openvpn openssl timeout cc ss; do
		command -v "$tool" >/dev/null ||
			die "missing tool: $tool (run tools/install-deps.sh as root)"
	done
	for tool in vpn-server vpn-shoot vpnctl; do
		[ -x "$BIN/$tool" ] || die "$BIN/$tool not built (run make, or set BIN)"
	done
	BENCH_EXTRA_TUNNELS=${BENCH_EXTRA_TUNNELS:-4}	# run.sh's measure_tunnel_cost
	if ! [[ $BENCH_EXTRA_TUNNELS =~ ^[1-9][0-9]?$ ]] || ((BENCH_EXTRA_TUNNELS > 30)); then
		die "BENCH_EXTRA_TUNNELS must be 1..30"
	fi
	if ! [[ $RR_N =~ ^[1-9][0-9]*$ && $RR_ROUNDS =~ ^[1-9][0-9]?$ ]] || ((RR_N % RR_ROUNDS)); then
		die "BENCH_RR_N must be a multiple of BENCH_RR_ROUNDS (1..99)"
	fi
	B_RUN=bn$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	B_T=$(mktemp -d "${TMPDIR:-/tmp}/tendril-bench.XXXXXX")
	chmod 0700 "$B_T"
	: >"$B_T/results"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cc -O2 -Wall -o "$B_T/rr" "$BENCH_DIR/rr.c" || die "cannot build bench/rr.c"
	cc -O2 -Wall -o "$B_T/udpgso" "$BENCH_DIR/udpgso.c" || die "cannot build bench/udpgso.c"
	PKI_REPLICAS=$BENCH_EXTRA_TUNNELS "$ROOT/tests/pki.sh" "$B_T/pki" ||
		die "tests/pki.sh failed"
}

proc_alive() {	# PID: running and not a zombie
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $st != Z* && -n $st ]]
}

# kill_wait PID...: SIGTERM, up to 3 s, then SIGKILL.
kill_wait() {
	local pid i alive
	for pid in "$@"; do proc_alive "$pid" && kill -TERM "$pid" 2>/dev/null; done
	for ((i = 0; i < 30; i++)); do
		alive=0
		for pid in "$@"; do proc_alive "$pid" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "$@"; do proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
	for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

ns_kill_all() {	# NS: whatever still runs in it
	local pid
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

bench_cleanup() {
	local rc=$? i f
	trap - EXIT INT TERM
	set +e
	kill_wait "${B_PIDS[@]}" 2>/dev/null
	for ((i = ${#B_NS[@]} - 1; i >= 0; i--)); do
		ns_kill_all "${B_NS[i]}"
		ip netns del "${B_NS[i]}" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ -n "$B_T" ]; then
		for f in "$B_T"/*.log; do
			[ -s "$f" ] || continue
			printf -- '---- %s (last 20 lines)\n' "$(basename "$f")" >&2
			tail -n 20 "$f" >&2
		done
	fi
	if [ -n "$B_T" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $B_T" >&2; else rm -rf "$B_T"; fi
	fi
	exit "$rc"
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

ns_add() {
	ip netns add "$1"
	B_NS+=("$1")
	ip -n "$1" link set lo up
}

# bench_pair NAME: a fresh seed/shoot namespace pair (NS_S, NS_C).
bench_pair() {
	PAIR=$1
	NS_S=$B_RUN-$1-s
	NS_C=$B_RUN-$1-c
	ns_add "$NS_S"
	ns_add "$NS_C"
	ip -n "$NS_S" link add up0 type veth peer name up0 netns "$NS_C"
	ip -n "$NS_S" addr add "$SEED_UP/24" dev up0
	ip -n "$NS_C" addr add "$SHOOT_UP/24" dev up0
	ip -n "$NS_S" link set up0 up
	ip -n "$NS_C" link set up0 up
	ip -n "$NS_C" addr add "$TARGET/32" dev lo
}

# spawn NAME NS CMD...: CMD in the background in NS, output to $B_T/NAME.log.
spawn() {
	local name=$1 ns=$2; shift 2
	printf '=== %s\n' "$*" >>"$B_T/$name.log"
	ip netns exec "$ns" "$@" >>"$B_T/$name.log" 2>&1 &
	B_PID[$name]=$!
	B_PIDS+=($!)
}

stop() {	# NAME
	kill_wait "${B_PID[$1]}"
}

listening() {	# NS PORT
	[ -n "$(nsx "$1" ss -Hltn "sport = :$2")" ]
}

# ---------------------------------------------------------------- /proc

clk_tck() { getconf CLK_TCK; }

# cpu_ticks PID...: utime + stime of the processes (all threads), summed.
cpu_ticks() {
	local pid sum=0 f
	for pid in "$@"; do
		# a process that died counts nothing (endpoints_alive reports it)
		[ -r "/proc/$pid/stat" ] || continue
		# shellcheck disable=SC2207 # fields after "pid (comm) "
		f=($(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null)) || continue
		sum=$(( sum + f[11] + f[12] ))
	done
	echo "$sum"
}

# mem_mib PID FIELD: VmRSS or VmHWM in MiB.
mem_mib() {
	awk -v f="$2:" '$1 == f { printf "%.2f\n", $2 / 1024 }' "/proc/$1/status"
}

# ---------------------------------------------------------------- servers

# sinks_up: iperf3 and rr servers on the shoot side's target address.
sinks_up() {
	spawn "$PAIR-iperf3-s" "$NS_C" iperf3 -s -B "$TARGET" -p "$IPERF_PORT"
	spawn "$PAIR-rr-s" "$NS_C" "$B_T/rr" server "$TARGET" "$RR_PORT"
	poll 5 listening "$NS_C" "$IPERF_PORT" || die "iperf3 server did not start"
	poll 5 listening "$NS_C" "$RR_PORT" || die "rr server did not start"
}

# ---------------------------------------------------------------- measurements

# iperf_once STREAMS REV OUT: one bounded iperf3 run from the seed; prints
# "GBIT BYTES" ("nan 0" if it failed).
iperf_once() {
	local p=$1 rev=$2 out=$3 args=()
	[ "$rev" = 1 ] && args+=(-R)
	if timeout $((SECS + 15)) ip netns exec "$NS_S" iperf3 -c "$TARGET" -p "$IPERF_PORT" \
		-t "$SECS" -P "$p" "${args[@]}" -J --connect-timeout 3000 >"$out" 2>&1; then
		calc iperf "$out"
	else
		echo "nan 0"
	fi
}

# udp_once OUT: one bounded run of bench/udpgso from the seed, UDP_COUNT
# datagrams of UDP_SIZE bytes per write for SECS seconds; prints the
# Gbit/s the shoot side received ("nan" if the run failed).
udp_once() {
	local out=$1 rpid res
	timeout $((SECS + 10)) ip netns exec "$NS_C" "$B_T/udpgso" recv "$TARGET" "$UDP_PORT" "$SECS" \
		>"$out" 2>&1 &
	rpid=$!
	if ! poll 5 grep -q ready "$out" ||
		! timeout $((SECS + 5)) ip netns exec "$NS_S" "$B_T/udpgso" send "$TARGET" "$UDP_PORT" \
			"$SECS" "$UDP_SIZE" "$UDP_COUNT" >>"$out" 2>&1; then
		kill "$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
		echo nan
		return
	fi
	wait "$rpid" 2>/dev/null
	res=$(awk 'NF == 2 { print $1 }' "$out")
	echo "${res:-nan}"
}

# measure_udp LABEL...: udp_once RUNS times on every path, taking turns
# as measure_throughput does; records the median.
measure_udp() {
	local -A runs=()
	local r i label gbit n=$# labels=("$@") v
	for ((r = 1; r <= RUNS; r++)); do
		for ((i = 0; i < n; i++)); do
			label=${labels[(i + r - 1) % n]}
			path_use "$label"
			gbit=$(udp_once "$B_T/udp-$label-$r.txt")
			runs[$label]="${runs[$label]:-} $gbit"
			say "$label: UDP, $UDP_COUNT x $UDP_SIZE B per write, run $r: $gbit Gbit/s"
		done
	done
	for label in "${labels[@]}"; do
		v=${runs[$label]# }
		# shellcheck disable=SC2086 # one argument per run
		record "$label" udp_gso "$(calc median $v)"
		record "$label" udp_gso_runs "${v// /,}"
	done
}

# path_keep LABEL [SERVER_PID CLIENT_PID]: the pair just made (NS_S,
# NS_C) stays up as path LABEL, with its tunnel endpoints if any;
# path_use LABEL makes it the current pair again (NS_S, NS_C, PAIR,
# P_PIDS).
declare -A P_S=() P_C=() P_PAIR=() P_PROCS=()
path_keep() {
	local label=$1; shift
	P_S[$label]=$NS_S P_C[$label]=$NS_C P_PAIR[$label]=$PAIR P_PROCS[$label]="$*"
}

path_use() {
	NS_S=${P_S[$1]} NS_C=${P_C[$1]} PAIR=${P_PAIR[$1]} P_PIDS=${P_PROCS[$1]}
}

# measure_throughput LABEL...: iperf3, 1 and 4 streams, both directions,
# RUNS times each, on every path; the paths take turns run by run (each
# round starting one path further), so that the machine's drift over the
# minutes hits them alike. Records the medians, and for a tunnel its two
# endpoints' CPU seconds per GB over its 1-stream runs.
measure_throughput() {
	local -A runs=() ticks=() gbytes=()
	local r p rev key res gbit bytes t0 t1 label i n=$#
	local labels=("$@")
	for ((r = 1; r <= RUNS; r++)); do
		for p in 1 4; do
			for rev in 0 1; do
				key=tput_${p}_$([ "$rev" = 1 ] && echo rev || echo fwd)
				for ((i = 0; i < n; i++)); do
					label=${labels[(i + r - 1) % n]}
					path_use "$label"
					# shellcheck disable=SC2086 # no PIDs: the direct path
					if [ "$p" = 1 ] && [ -n "$P_PIDS" ]; then t0=$(cpu_ticks $P_PIDS); fi
					res=$(iperf_once "$p" "$rev" "$B_T/iperf-$label-$key-$r.json")
					read -r gbit bytes <<<"$res"
					if [ "$p" = 1 ] && [ -n "$P_PIDS" ]; then
						# shellcheck disable=SC2086
						t1=$(cpu_ticks $P_PIDS)
						ticks[$label]=$(( ${ticks[$label]:-0} + t1 - t0 ))
						gbytes[$label]=$(( ${gbytes[$label]:-0} + bytes ))
					fi
					runs[$label.$key]="${runs[$label.$key]:-} $gbit"
					say "$label: $p stream(s) $([ "$rev" = 1 ] && echo 'shoot->seed' || echo 'seed->shoot') run $r: $gbit Gbit/s"
				done
			done
		done
	done
	local v
	for key in "${!runs[@]}"; do
		v=${runs[$key]# }
		# shellcheck disable=SC2086 # one argument per run
		record "${key%%.*}" "${key#*.}" "$(calc median $v)"
		record "${key%%.*}" "${key#*.}_runs" "${v// /,}"
	done
	for label in "${!ticks[@]}"; do
		record "$label" cpu_s_per_gb "$(calc div "$(calc div "${ticks[$label]}" "$(clk_tck)")" "$(calc div "${gbytes[$label]}" 1000000000)")"
	done
}

# ping_run COUNT OUT: pings the target every 10 ms.
ping_run() {
	nsx "$NS_S" ping -n -i 0.01 -c "$1" -W 1 -w $(($1 / 50 + 10)) "$TARGET" >"$2" 2>&1 || true
}

measure_ping() {	# LABEL
	local label=$1 p50 p99 loss bg
	ping_run "$PINGS" "$B_T/ping-$label-idle.txt"
	read -r p50 p99 loss <<<"$(calc ping "$B_T/ping-$label-idle.txt" "$PINGS")"
	record "$label" ping_idle_p50 "$p50"
	record "$label" ping_idle_p99 "$p99"
	say "$label: idle ping p50 $p50 ms, p99 $p99 ms"

	# The same pings while one iperf3 stream saturates seed -> shoot.
	local t=$(( PINGS / 100 + 2 ))
	timeout $((t + 15)) ip netns exec "$NS_S" iperf3 -c "$TARGET" -p "$IPERF_PORT" \
		-t "$t" -J --connect-timeout 3000 >"$B_T/iperf-$label-load.json" 2>&1 &
	bg=$!
	sleep 0.7
	ping_run "$PINGS" "$B_T/ping-$label-load.txt"
	wait "$bg" || true
	read -r p50 p99 loss <<<"$(calc ping "$B_T/ping-$label-load.txt" "$PINGS")"
	record "$label" ping_load_p50 "$p50"
	record "$label" ping_load_p99 "$p99"
	record "$label" ping_load_loss "$loss"
	record "$label" load_gbit "$(calc iperf "$B_T/iperf-$label-load.json" | cut -d' ' -f1)"
	say "$label: ping under load p50 $p50 ms, p99 $p99 ms, lost $loss %"
}

# measure_rr LABEL...: 1-byte request/response, RR_N round trips per path
# in RR_ROUNDS runs that take turns across the paths (each round starts
# one path further along), as the throughput runs do: a round trip through
# any tunnel here is a handful of wake-ups on a shared 2-vCPU machine, and
# one path measured a minute after another met another machine. The
# round trips of a path's runs are pooled for the mean and percentiles.
measure_rr() {
	local labels=("$@") r k label per out mean p50 p99 max
	local n=${#labels[@]}
	per=$((RR_N / RR_ROUNDS))
	for label in "${labels[@]}"; do : >"$B_T/rr-$label.us"; done
	for ((r = 0; r < RR_ROUNDS; r++)); do
		for ((k = 0; k < n; k++)); do
			label=${labels[(r + k) % n]}
			path_use "$label"
			timeout 40 ip netns exec "$NS_S" "$B_T/rr" client "$TARGET" "$RR_PORT" \
				"$per" "$B_T/rr-$label.us" >/dev/null 2>>"$B_T/rr-c.log" ||
				say "$label: request/response run $((r + 1)) failed"
		done
	done
	for label in "${labels[@]}"; do
		out=$(calc rr "$B_T/rr-$label.us") || out="nan nan nan nan"
		read -r mean p50 p99 max <<<"$out"
		record "$label" rr_mean "$mean"
		record "$label" rr_p50 "$p50"
		record "$label" rr_p99 "$p99"
		say "$label: 1-byte request/response mean $mean us, p50 $p50 us, p99 $p99 us (max $max)"
	done
}

# first_ping_ms NAME NS CMD...: starts the client CMD as process NAME and
# sets FIRST_PING_MS to the ms from its start to the first echo reply from
# the target (pings every 1 ms, at most 10 s). Not in a subshell: the
# client must stay our child.
first_ping_ms() {
	local name=$1 ns=$2; shift 2
	local out=$B_T/firstping-$name.txt t0 ping_pid
	: >"$out"
	# ip netns exec execs ping, so $! is ping itself (nsx, a function,
	# would be a subshell).
	ip netns exec "$NS_S" ping -n -D -i 0.001 -W 1 -w 10 "$TARGET" >"$out" 2>&1 &
	ping_pid=$!
	sleep 0.05
	t0=${EPOCHREALTIME/,/.}
	spawn "$name" "$ns" "$@"
	poll 10 grep -q 'bytes from' "$out" || true
	kill_wait "$ping_pid"
	FIRST_PING_MS=$(calc firstping "$out" "$(calc div "$t0" 0.001)")
}

# measure_rss LABEL SERVER_PID SHOOT_PID WHICH: WHICH is idle (VmRSS, and
# its anonymous part RssAnon) or peak (VmHWM).
measure_rss() {
	local field=VmRSS
	[ "$4" = peak ] && field=VmHWM
	record "$1" "rss_${4}_server" "$(mem_mib "$2" $field)"
	record "$1" "rss_${4}_shoot" "$(mem_mib "$3" $field)"
	[ "$4" = idle ] || return 0
	record "$1" rss_anon_server "$(mem_mib "$2" RssAnon)"
	record "$1" rss_anon_shoot "$(mem_mib "$3" RssAnon)"
}
