#!/usr/bin/env bash
# tendril's benchmark: the direct veth path, tendril, and OpenVPN 2.6 over
# TCP (Gardener's settings with tun-mtu 1500, and with tun-mtu 48000), side
# by side in one run, each in its own pair of network namespaces.
#
# Usage (as root; `sudo make bench` builds first and sets BIN):
#
#   bench/run.sh
#
# Prints one table (and the ratios of tendril to OpenVPN and to the direct
# path) and writes it, with the machine it ran on, into docs/performance.md.
# About 4-5 minutes with the defaults. Every path is up for the whole run,
# and the throughput runs take turns across them, so that whatever else
# the shared machine does hits every path alike. Knobs (environment):
#
#   BIN=DIR            vpn-server, vpn-shoot, vpnctl (default build/bin)
#   BENCH_SECONDS=3    length of one iperf3 run
#   BENCH_RUNS=5       iperf3 runs per configuration (the median is shown)
#   BENCH_PINGS=200    pings per RTT measurement (one every 10 ms)
#   BENCH_RR_N=2000    1-byte request/response round trips per path
#   BENCH_RR_ROUNDS=4  ... in this many runs, taking turns across the paths
#   BENCH_STARTS=3     client start -> first ping trials (median)
#   BENCH_EXTRA_TUNNELS=4  agents beyond the first for the memory one more
#                      idle tunnel costs (measure_tunnel_cost)
#   BENCH_PATHS="direct tendril tendril_tls openvpn openvpn48k"
#                      which paths to measure (tendril_tls: --seal off)
#   BENCH_DOC=FILE     where to write the table (default docs/performance.md;
#                      "-" writes nothing)
#   BENCH_KEEP=1       keep the temporary directory (logs, iperf3 JSON)
#
# What is measured, and how, is explained at the top of docs/performance.md.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

bench_init
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
PKI=$B_T/pki
PATHS=${BENCH_PATHS:-direct tendril tendril_tls openvpn openvpn48k}

# ---------------------------------------------------------------- direct

path_direct() {
	say "direct: the bare veth path"
	bench_pair dir
	ip -n "$NS_S" route add "$SHOOT_NET" via "$SHOOT_UP" dev up0
	sinks_up
	path_keep direct
}

# ---------------------------------------------------------------- tendril

tdl_tunnels_up() {	# SOCK: prints tunnels_up of a daemon
	"$BIN/vpnctl" -s "$1" show info | sed -n 's/^tunnels_up:[[:space:]]*//p'
}

# tdl_drops LABEL SIDE: keeps `show stat` in the run's directory and names the
# non-zero drop counters (they explain odd numbers; a drop under load is
# not an error in itself).
tdl_drops() {	# LABEL SIDE
	local out=$B_T/$1-$2-stat.txt drops
	"$BIN/vpnctl" -s "$B_T/$1-$2.sock" show stat >"$out" 2>&1 || true
	drops=$(awk -F': *' 'tolower($1) ~ /drop|error|fail/ && $2 + 0 > 0 { printf "%s %s=%s", sep, $1, $2; sep = "," }' "$out")
	[ -z "$drops" ] || say "$1: vpn-$2 counters after the run:$drops"
}

tdl_down() { [ "$(tdl_tunnels_up "$B_T/$TDL-server.sock")" = 0 ]; }

# path_tendril LABEL [FLAG...]: both daemons with FLAGs (tendril: the
# defaults; tendril_tls: --seal off, TLS records instead of sealed ones).
path_tendril() {
	TDL=$1; shift
	local label=$TDL
	say "$label: vpn-server <-> vpn-shoot $*"
	bench_pair "$label"
	sinks_up
	spawn "$label-server" "$NS_S" "$BIN/vpn-server" \
		--cert "$PKI/server.crt" --key "$PKI/server.key" --ca "$PKI/ca.crt" \
		--dev tdl-s --listen "$SEED_UP:$VPN_PORT" --shoot-networks "$SHOOT_NET" \
		--stats-socket "$B_T/$label-server.sock" --metrics-listen 127.0.0.1:15000 "$@"
	poll 5 listening "$NS_S" "$VPN_PORT" || die "vpn-server did not start"
	local shoot=("$BIN/vpn-shoot"
		--cert "$PKI/shoot.crt" --key "$PKI/shoot.key" --ca "$PKI/ca.crt"
		--dev tdl-c --server "$SEED_UP:$VPN_PORT" --server-name vpn-server
		--stats-socket "$B_T/$label-shoot.sock" --metrics-listen 127.0.0.1:15001 "$@")
	local i starts=()
	for ((i = 1; i <= STARTS; i++)); do
		if [ "$i" -gt 1 ]; then
			stop "$label-shoot"
			poll 5 tdl_down || say "$label: vpn-server still reports a tunnel after vpn-shoot exited"
		fi
		first_ping_ms "$label-shoot" "$NS_C" "${shoot[@]}"
		say "$label: vpn-shoot start -> first ping: $FIRST_PING_MS ms"
		starts+=("$FIRST_PING_MS")
	done
	record "$label" start_ms "$(calc median "${starts[@]}")"
	sleep 1
	path_keep "$label" "${B_PID[$label-server]}" "${B_PID[$label-shoot]}"
	measure_rss "$label" "${B_PID[$label-server]}" "${B_PID[$label-shoot]}" idle
}

# measure_path LABEL: what is measured one path at a time, after the
# throughput and request/response runs: ping idle and under load, and for
# a tunnel its peak RSS, whether its endpoints survived, its drop counters.
measure_path() {
	local label=$1
	path_use "$label"
	measure_ping "$label"
	[ -n "$P_PIDS" ] || return 0
	# shellcheck disable=SC2086 # the server's and the client's PID
	measure_rss "$label" $P_PIDS peak
	# shellcheck disable=SC2086
	endpoints_alive "$label" $P_PIDS
	case $label in tendril*) tdl_drops "$label" server; tdl_drops "$label" shoot ;; esac
}

endpoints_alive() {	# LABEL PID PID
	local pid
	for pid in "$2" "$3"; do
		proc_alive "$pid" || { say "$1: tunnel process $pid died during the run"; record "$1" died "$pid"; }
	done
}

# ---------------------------------------------------------------- OpenVPN

# TLS mode with certificates (tests/pki.sh's CA, server and client), no
# tls-auth; otherwise Gardener's vpn2 server/client templates: tcp,
# topology subnet, AES-256-GCM, auth SHA256, dh none, tcp-nodelay,
# txqueuelen 1000, keepalive 10 30, iroute for the shoot network. An IPv4
# pool (198.51.100.0/24) gives the seed a tunnel source address, so the
# answers route back through the tunnel. Data channel offload is off, as
# in Gardener (TCP, and "dco_enabled,0" in vpn2's status fixtures).
ovpn_configs() {	# DIR MTU
	local d=$1 mtu=$2
	mkdir -p "$d/ccd"
	printf 'iroute %s 255.255.255.0\n' "${SHOOT_NET%/*}" >"$d/ccd/vpn-shoot"
	cat >"$d/server.conf" <<-EOF
	server $OVPN_NET 255.255.255.0
	topology subnet
	proto tcp-server
	local $SEED_UP
	port $VPN_PORT
	dev ovpn-s
	dev-type tun
	ca $PKI/ca.crt
	cert $PKI/server.crt
	key $PKI/server.key
	dh none
	disable-dco
	data-ciphers AES-256-GCM:AES-256-CBC
	auth SHA256
	keepalive 10 30
	tcp-nodelay
	txqueuelen 1000
	tun-mtu $mtu
	client-config-dir $d/ccd
	route ${SHOOT_NET%/*} 255.255.255.0
	verb 3
	EOF
	cat >"$d/client.conf" <<-EOF
	client
	proto tcp-client
	remote $SEED_UP $VPN_PORT
	nobind
	dev ovpn-c
	dev-type tun
	ca $PKI/ca.crt
	cert $PKI/shoot.crt
	key $PKI/shoot.key
	data-ciphers AES-256-GCM
	auth SHA256
	remote-cert-tls server
	connect-retry 1 5
	auth-nocache
	disable-dco
	tcp-nodelay
	txqueuelen 1000
	tun-mtu $mtu
	verb 3
	EOF
}

path_openvpn() {	# LABEL MTU
	local label=$1 mtu=$2
	say "$label: OpenVPN over TCP, tun-mtu $mtu"
	bench_pair "ov$mtu"
	sinks_up
	ovpn_configs "$B_T/$label" "$mtu"
	spawn "$label-server" "$NS_S" openvpn --config "$B_T/$label/server.conf"
	poll 10 listening "$NS_S" "$VPN_PORT" || die "openvpn server did not start"
	local i starts=()
	for ((i = 1; i <= STARTS; i++)); do
		if [ "$i" -gt 1 ]; then
			stop "$label-client"
			sleep 0.5	# the server sees the TCP close at once
		fi
		first_ping_ms "$label-client" "$NS_C" openvpn --config "$B_T/$label/client.conf"
		say "$label: openvpn client start -> first ping: $FIRST_PING_MS ms"
		starts+=("$FIRST_PING_MS")
	done
	record "$label" start_ms "$(calc median "${starts[@]}")"
	sleep 1
	path_keep "$label" "${B_PID[$label-server]}" "${B_PID[$label-client]}"
	measure_rss "$label" "${B_PID[$label-server]}" "${B_PID[$label-client]}" idle
}

# ---------------------------------------------------------------- per tunnel

EXTRA=$BENCH_EXTRA_TUNNELS	# checked in bench_init

kib_rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# mt_agent NAME NS CERT SERVER...: a vpn-shoot with a tunnel to each SERVER.
mt_agent() {
	local name=$1 ns=$2 cert=$3 s args=(); shift 3
	for s in "$@"; do args+=(--server "$s:$VPN_PORT"); done
	spawn "$name" "$ns" "$BIN/vpn-shoot" \
		--cert "$PKI/$cert.crt" --key "$PKI/$cert.key" --ca "$PKI/ca.crt" \
		--dev tdl-c "${args[@]}" --server-name vpn-server \
		--stats-socket "$B_T/$name.sock" --metrics-listen 127.0.0.1:15001
}

mt_up_is() { [ "$(tdl_tunnels_up "$1")" = "$2" ]; }	# SOCK N

# settled_rss SECS WHAT PID CMD...: waits for CMD (at most SECS, else dies
# with WHAT), gives the process 1 s to settle, prints its VmRSS in KiB.
settled_rss() {
	local secs=$1 what=$2 pid=$3; shift 3
	poll "$secs" "$@" || die "$what"
	sleep 1
	kib_rss "$pid"
}

# mt_link NS DEV NEW_NS BASE: NEW_NS (a fresh namespace) hangs off NS by a
# veth pair, DEV in NS with 203.0.113.(BASE+1)/30, up0 in NEW_NS with
# .(BASE+2).
mt_link() {
	local ns=$1 dev=$2 new=$3 base=$4
	ns_add "$new"
	ip -n "$ns" link add "$dev" type veth peer name up0 netns "$new"
	ip -n "$ns" addr add "203.0.113.$((base + 1))/30" dev "$dev"
	ip -n "$new" addr add "203.0.113.$((base + 2))/30" dev up0
	ip -n "$ns" link set "$dev" up
	ip -n "$new" link set up0 up
}

# measure_tunnel_cost: the resident memory one more idle tunnel costs each
# daemon, as the mean over EXTRA more. The server: its VmRSS with one
# agent, then with 1 + EXTRA agents, each in a namespace of its own on its
# own uplink (agent i: 203.0.113.(4i+2)/30, the server's end .(4i+1)).
# The agent (agent 0): its VmRSS with that one server, then, started
# again, with 1 + EXTRA servers (--server repeated, as in HA; server j
# has a namespace and an uplink of its own behind agent 0:
# 203.0.113.(128+4(j-1)+2), agent 0's end +1). A fresh process differs
# from the next by a few tens of KiB, hence the mean over several. Every
# reading is taken 1 s after the tunnels are up and before any traffic:
# what a tunnel that carried bulk traffic keeps in its buffers shows in
# the peak RSS rows.
measure_tunnel_cost() {
	local seed=$B_RUN-mt-s a0=$B_RUN-mt-a0 i j ns base r1 rn a1 an servers=()
	say "tendril: memory per extra idle tunnel (1 + $EXTRA agents; 1 + $EXTRA servers)"
	ns_add "$seed"
	for ((i = 0; i <= EXTRA; i++)); do
		mt_link "$seed" "ag$i" "$B_RUN-mt-a$i" $((4 * i))
	done
	for ((j = 1; j <= EXTRA; j++)); do
		base=$((128 + 4 * (j - 1)))
		mt_link "$a0" "upb$j" "$B_RUN-mt-b$j" "$base"
		servers+=("203.0.113.$((base + 2))")
	done
	for ((j = 0; j <= EXTRA; j++)); do
		ns=$B_RUN-mt-b$j
		[ "$j" = 0 ] && ns=$seed
		spawn "mt-server$j" "$ns" "$BIN/vpn-server" \
			--cert "$PKI/server.crt" --key "$PKI/server.key" --ca "$PKI/ca.crt" \
			--dev tdl-s --listen "0.0.0.0:$VPN_PORT" --shoot-networks "$SHOOT_NET" \
			--stats-socket "$B_T/mt-server$j.sock" --metrics-listen 127.0.0.1:15000
		poll 5 listening "$ns" "$VPN_PORT" || die "vpn-server $j did not start"
	done

	mt_agent mt-a0 "$a0" shoot 203.0.113.1
	poll 10 mt_up_is "$B_T/mt-server0.sock" 1 || die "the first agent's tunnel did not come up"
	r1=$(settled_rss 5 "agent 0 does not report its tunnel" "${B_PID[mt-server0]}" \
		mt_up_is "$B_T/mt-a0.sock" 1)
	a1=$(kib_rss "${B_PID[mt-a0]}")
	for ((i = 1; i <= EXTRA; i++)); do
		mt_agent "mt-a$i" "$B_RUN-mt-a$i" "shoot-$i" "203.0.113.$((4 * i + 1))"
	done
	rn=$(settled_rss 15 "not all $((1 + EXTRA)) agents' tunnels came up" \
		"${B_PID[mt-server0]}" mt_up_is "$B_T/mt-server0.sock" $((1 + EXTRA)))
	stop mt-a0
	mt_agent mt-a0-ha "$a0" shoot 203.0.113.1 "${servers[@]}"
	an=$(settled_rss 15 "agent 0 did not bring up tunnels to all $((1 + EXTRA)) servers" \
		"${B_PID[mt-a0-ha]}" mt_up_is "$B_T/mt-a0-ha.sock" $((1 + EXTRA)))
	say "tendril: server ${r1} KiB with 1 tunnel, ${rn} KiB with $((1 + EXTRA)); agent ${a1} KiB with 1, ${an} KiB with $((1 + EXTRA))"
	record tendril rss_tunnel_server "$(calc div $((rn - r1)) "$EXTRA")"
	record tendril rss_tunnel_shoot "$(calc div $((an - a1)) "$EXTRA")"
	stop mt-a0-ha
	for ((i = 1; i <= EXTRA; i++)); do stop "mt-a$i"; done
	for ((j = 0; j <= EXTRA; j++)); do stop "mt-server$j"; done
	case " $PATHS " in *" openvpn "*) ovpn_tunnel_cost ;; esac
}

ovpn_clients() { grep -c '^CLIENT_LIST' "$1" 2>/dev/null; }	# STATUS_FILE
ovpn_clients_are() { [ "$(ovpn_clients "$1")" = "$2" ]; }

# ovpn_tunnel_cost: the same for an OpenVPN server (Gardener's settings,
# tun-mtu 1500) on the namespaces of measure_tunnel_cost, its clients as
# agents 0..EXTRA; its status file (rewritten every second) counts them.
# An OpenVPN client has one server, so only the server's side compares.
ovpn_tunnel_cost() {
	local d=$B_T/mt-ovpn i cert r1 rn
	ovpn_configs "$d" 1500
	sed -i -e 's/^local .*/local 0.0.0.0/' -e "\$a status $d/status 1\nstatus-version 2" "$d/server.conf"
	spawn mt-ovpn-server "$B_RUN-mt-s" openvpn --config "$d/server.conf"
	poll 10 listening "$B_RUN-mt-s" "$VPN_PORT" || die "openvpn server (per tunnel) did not start"
	for ((i = 0; i <= EXTRA; i++)); do
		cert=shoot
		[ "$i" = 0 ] || cert=shoot-$i
		sed -e "s/^remote .*/remote 203.0.113.$((4 * i + 1)) $VPN_PORT/" \
			-e "s#$PKI/shoot\.#$PKI/$cert.#" "$d/client.conf" >"$d/client$i.conf"
	done
	spawn mt-ovpn-c0 "$B_RUN-mt-a0" openvpn --config "$d/client0.conf"
	r1=$(settled_rss 15 "the first OpenVPN client did not connect" \
		"${B_PID[mt-ovpn-server]}" ovpn_clients_are "$d/status" 1)
	for ((i = 1; i <= EXTRA; i++)); do
		spawn "mt-ovpn-c$i" "$B_RUN-mt-a$i" openvpn --config "$d/client$i.conf"
	done
	rn=$(settled_rss 20 "not all $((1 + EXTRA)) OpenVPN clients connected" \
		"${B_PID[mt-ovpn-server]}" ovpn_clients_are "$d/status" $((1 + EXTRA)))
	say "openvpn: server ${r1} KiB with 1 client, ${rn} KiB with $((1 + EXTRA))"
	record openvpn rss_tunnel_server "$(calc div $((rn - r1)) "$EXTRA")"
	for ((i = 0; i <= EXTRA; i++)); do stop "mt-ovpn-c$i"; done
	stop mt-ovpn-server
}

# ---------------------------------------------------------------- main

# Every path comes up first and stays up, so that the throughput runs can
# take turns across the paths (measure_throughput); the other
# measurements follow one path at a time.
for p in $PATHS; do
	case $p in
	direct) path_direct ;;
	tendril) path_tendril tendril ;;
	tendril_tls) path_tendril tendril_tls --seal off ;;
	openvpn) path_openvpn openvpn 1500 ;;
	openvpn48k) path_openvpn openvpn48k 48000 ;;
	*) die "unknown path in BENCH_PATHS: $p" ;;
	esac
done
# shellcheck disable=SC2086 # one label per path
measure_throughput $PATHS
# shellcheck disable=SC2086
measure_udp $PATHS
# shellcheck disable=SC2086
measure_rr $PATHS
for p in $PATHS; do
	measure_path "$p"
done
case " $PATHS " in *" tendril "*) measure_tunnel_cost ;; esac

elapsed=$(( ($(now_ms) - B_T0) / 1000 ))
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
"$PY" "$BENCH_DIR/report.py" --results "$B_T/results" \
	--doc "${BENCH_DOC:-$ROOT/docs/performance.md}" \
	--cpu "${cpu:-unknown}" --cores "$(nproc)" --kernel "$(uname -r)" \
	--date "$(date -u '+%Y-%m-%d %H:%M UTC')" --elapsed "$elapsed" \
	--openvpn "$(openvpn --version 2>/dev/null | head -n 1 | awk '{ print $2 }')" \
	--iperf3 "$(iperf3 --version 2>/dev/null | head -n 1 | awk '{ print $2 }')" \
	--tendril "$("$BIN/vpn-server" --version 2>/dev/null | head -n 1) ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))" \
	--load "$LOAD_START / $(cut -d' ' -f1-3 /proc/loadavg)" \
	--seconds "$SECS" --runs "$RUNS" --pings "$PINGS" --rr-n "$RR_N" --rr-rounds "$RR_ROUNDS" --starts "$STARTS"
