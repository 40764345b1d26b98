# shellcheck shell=bash disable=SC2015,SC2034
# Helpers for the end-to-end tests in network namespaces, sourced by every
# tests/e2e/t_*.sh and by tools/demo.sh.
#
# The topology (topo_up):
#
#    seed ns                     agent ns                    node ns                      pod ns
#  +----------------------+    +----------------------+    +-----------------------+    +--------------------+
#  | vpn-server           |    | vpn-shoot            |    | kubelet.py :10250     |    | kubelet.py :8080   |
#  | curl, ping, socat    |    |  masquerade, fwmark  |    | nft DNAT              |    | socat UDP echo     |
#  |  (kube-apiserver)    |    |  answers -> tunnel   |    |  100.64.0.10:80       |    |   :7007            |
#  |                      |    |                      |    |   -> 100.96.0.5:8080  |    |                    |
#  |       tun-e2e-s ::1  |<==>| tun-e2e-a ::2        |    |                       |    |                    |
#  |   up0 192.0.2.1/24   |<-->| up0 192.0.2.2/24     |    |                       |    |                    |
#  |    2001:db8:1::1/64  |    |   2001:db8:1::2/64   |    |                       |    |                    |
#  |                      |    |                      |    |                       |    |                    |
#  | nft: drop shoot-     |    |    node0 10.250.0.2  |<-->| eth0 10.250.0.10/24   |    |                    |
#  |  network sources     |    |    2001:db8:250::2   |    |  2001:db8:250::10/64  |    |                    |
#  |  arriving on up0     |    | default via node     |    |    pod0 100.96.0.1/24 |<-->| eth0 100.96.0.5/24 |
#  |                      |    |                      |    |    2001:db8:96::1/64  |    |  2001:db8:96::5/64 |
#  +----------------------+    +----------------------+    +-----------------------+    +--------------------+
#    tun-e2e-s <==> tun-e2e-a: the TLS 1.3 tunnel over up0 (fd8f:6d53:b97a:1::/96)
#
# The seed reaches 10.250.0.0/24, 100.96.0.0/24, 100.64.0.0/24,
# 2001:db8:250::/64 and 2001:db8:96::/64 only through the tunnel. Its IPv4
# source is 192.0.2.1, which lies on the agent's own uplink network: the
# drop rule in the seed proves that answers come back through the tunnel
# rather than straight over up0.
#
# Every name this run creates carries a per-run id, so parallel runs do not
# collide; cleanup (an EXIT trap) kills only the processes it started, by
# PID, and deletes only the namespaces it created.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
BIN=${BIN:-$E2E_ROOT/build/bin}
if [ -z "${PY:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fi

# Addresses (documentation and shoot ranges; never routed off this host).
SEED_UP4=192.0.2.1      SEED_UP6=2001:db8:1::1
AGENT_UP4=192.0.2.2     AGENT_UP6=2001:db8:1::2
AGENT_NODE4=10.250.0.2  AGENT_NODE6=2001:db8:250::2
NODE4=10.250.0.10       NODE6=2001:db8:250::10
NODE_POD4=100.96.0.1    NODE_POD6=2001:db8:96::1
POD4=100.96.0.5         POD6=2001:db8:96::5
SVC4=100.64.0.10
SHOOT_NETWORKS=10.250.0.0/24,100.96.0.0/24,100.64.0.0/24,2001:db8:250::/64,2001:db8:96::/64
VPN_PORT=1194
PROXY_PORT=9443
KUBELET_PORT=10250
POD_PORT=8080
UDP_PORT=7007
TUN_SEED=tun-e2e-s
TUN_SHOOT=tun-e2e-a
NFT_SHOOT_TABLE=tendril_$TUN_SHOOT
KEEPALIVE=${E2E_KEEPALIVE:-0.5}
KEEPALIVE_TIMEOUT=${E2E_KEEPALIVE_TIMEOUT:-2}
HANDSHAKE_TIMEOUT=${E2E_HANDSHAKE_TIMEOUT:-2}
LOG_LEVEL=${E2E_LOG_LEVEL:-info}

declare -a E2E_PIDS=()		# every process we started
declare -A E2E_PID=()		# name -> pid of the latest instance
declare -A E2E_LOGMARK=()	# name -> log size at log_mark
declare -a E2E_NS=()		# namespaces we created
declare -A E2E_STOPPED=()	# pid -> 1 once stop() signalled it
E2E_T=
E2E_NAME=$(basename "$0" .sh)
E2E_QUIET=${E2E_QUIET:-0}

# ---------------------------------------------------------------- output

say() { [ "$E2E_QUIET" = 1 ] || printf '%s\n' "$*"; }
step() { say "  * $*"; }

fail() {
	printf 'FAIL: %s: %s\n' "$E2E_NAME" "$*" >&2
	local name pid
	for name in server shoot; do
		pid=${E2E_PID[$name]:-}
		[ -n "$pid" ] && [ -z "${E2E_STOPPED[$pid]:-}" ] || continue
		proc_alive "$pid" || printf '  note: vpn-%s (pid %s) is not running: it died on its own (see its log below)\n' "$name" "$pid" >&2
	done
	exit 1
}

skip() {
	printf 'SKIP: %s: %s\n' "$E2E_NAME" "$*" >&2
	exit 77
}

assert_eq() {	# GOT WANT WHAT
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

assert_contains() {	# TEXT NEEDLE WHAT
	case $1 in
	*"$2"*) ;;
	*) fail "$3: '$2' not found in: $(printf '%s' "$1" | head -c 600)" ;;
	esac
}

assert_not_contains() {	# TEXT NEEDLE WHAT
	case $1 in
	*"$2"*) fail "$3: '$2' unexpectedly found in: $(printf '%s' "$1" | head -c 600)" ;;
	esac
}

assert_ge() {	# A B WHAT
	[[ $1 =~ ^[0-9]+$ ]] || fail "$3: '$1' is not a number"
	[ "$1" -ge "$2" ] || fail "$3: $1 < $2"
}

# ---------------------------------------------------------------- time

# EPOCHREALTIME uses the locale's decimal separator.
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((10#$t / 1000)); }

# Seconds ("2", "0.5", "1.25") to milliseconds.
to_ms() {
	local s=$1 i f
	i=${s%%.*}; [ -n "$i" ] || i=0
	if [[ $s == *.* ]]; then f=${s#*.}000; f=${f:0:3}; else f=000; fi
	echo $((10#$i * 1000 + 10#$f))
}

# wait_for SECONDS WHAT CMD...: runs CMD every 0.1 s until it succeeds, at
# most SECONDS (and at most SECONDS*10+1 tries); fails the test otherwise.
# CMD must itself be bounded in time.
wait_for() {
	local secs=$1 what=$2; shift 2
	if ! poll "$secs" "$@"; then
		fail "timed out after ${secs}s waiting for $what"
	fi
}

# poll SECONDS CMD...: like wait_for but returns 1 instead of failing.
poll() {
	local secs=$1; shift
	local end tries max
	end=$(( $(now_ms) + $(to_ms "$secs") ))
	max=$(( $(to_ms "$secs") / 100 + 1 ))
	for ((tries = 0; tries < max; tries++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$(now_ms)" -lt "$end" ] || break
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# ---------------------------------------------------------------- setup

e2e_init() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
	local tool
	for tool in ip nft socat curl ping openssl timeout; do
		command -v "$tool" >/dev/null || fail "missing tool: $tool (run tools/install-deps.sh)"
	done
	E2E_RUN=${E2E_NS_PREFIX:-tdl}$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	E2E_T=$(mktemp -d "${TMPDIR:-/tmp}/tendril-e2e.$E2E_NAME.XXXXXX")
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	NS_SEED=$E2E_RUN-seed
	NS_AGENT=$E2E_RUN-agent
	NS_NODE=$E2E_RUN-node
	NS_POD=$E2E_RUN-pod
	if [ -n "${E2E_PKI:-}" ] && [ -f "$E2E_PKI/ca.crt" ]; then
		PKI=$E2E_PKI
	else
		PKI=$E2E_T/pki
		"$E2E_ROOT/tests/pki.sh" "$PKI"
	fi
}

need_bins() {
	local b
	for b in vpn-server vpn-shoot; do
		[ -x "$BIN/$b" ] || fail "$BIN/$b not built (run make, or set BIN)"
	done
}

proc_alive() {	# PID: running and not a zombie
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $st != Z* && -n $st ]]
}

proc_gone() { ! proc_alive "$1"; }

e2e_cleanup() {
	local rc=$? pid i ns f n
	trap - EXIT INT TERM
	set +e
	for pid in "${E2E_PIDS[@]}"; do
		proc_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 30; i++)); do
		local alive=0
		for pid in "${E2E_PIDS[@]}"; do proc_alive "$pid" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${E2E_PIDS[@]}"; do
		proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	# Children that our processes forked (socat's) live in our namespaces.
	for ns in "${E2E_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	wait 2>/dev/null
	for ((i = ${#E2E_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${E2E_NS[i]}" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$E2E_T" ]; then
		for f in "$E2E_T"/*.log; do
			[ -s "$f" ] || continue
			# The daemons' logs matter most; the helpers' are mostly
			# request lines.
			case $(basename "$f") in
			server.log | shoot.log) n=80 ;;
			*) n=15 ;;
			esac
			printf -- '---- %s (last %d lines)\n' "$(basename "$f")" "$n" >&2
			tail -n "$n" "$f" >&2
		done
	fi
	if [ -n "$E2E_T" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			echo "kept $E2E_T" >&2
		else
			rm -rf "$E2E_T"
		fi
	fi
	exit "$rc"
}

ns_add() {	# NAME
	ip netns add "$1"
	E2E_NS+=("$1")
	ip -n "$1" link set lo up
	# Strict reverse-path filtering, as many distributions set it: the
	# daemons must cope with it, not rely on a lenient namespace.
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
}

# nsx NS CMD...: run CMD in a namespace.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

topo_up() {
	ns_add "$NS_SEED"
	ns_add "$NS_AGENT"
	ns_add "$NS_NODE"
	ns_add "$NS_POD"

	ip -n "$NS_SEED" link add up0 type veth peer name up0 netns "$NS_AGENT"
	ip -n "$NS_AGENT" link add node0 type veth peer name eth0 netns "$NS_NODE"
	ip -n "$NS_NODE" link add pod0 type veth peer name eth0 netns "$NS_POD"

	ip -n "$NS_SEED" addr add "$SEED_UP4/24" dev up0
	ip -n "$NS_SEED" addr add "$SEED_UP6/64" dev up0 nodad
	ip -n "$NS_SEED" link set up0 up

	ip -n "$NS_AGENT" addr add "$AGENT_UP4/24" dev up0
	ip -n "$NS_AGENT" addr add "$AGENT_UP6/64" dev up0 nodad
	ip -n "$NS_AGENT" addr add "$AGENT_NODE4/24" dev node0
	ip -n "$NS_AGENT" addr add "$AGENT_NODE6/64" dev node0 nodad
	ip -n "$NS_AGENT" link set up0 up
	ip -n "$NS_AGENT" link set node0 up
	# Like a pod on a shoot node: the node is the default gateway.
	ip -n "$NS_AGENT" route add default via "$NODE4" dev node0
	ip -n "$NS_AGENT" -6 route add default via "$NODE6" dev node0
	ip -n "$NS_AGENT" route add 100.96.0.0/24 via "$NODE4" dev node0
	ip -n "$NS_AGENT" route add 100.64.0.0/24 via "$NODE4" dev node0
	ip -n "$NS_AGENT" -6 route add 2001:db8:96::/64 via "$NODE6" dev node0

	ip -n "$NS_NODE" addr add "$NODE4/24" dev eth0
	ip -n "$NS_NODE" addr add "$NODE6/64" dev eth0 nodad
	ip -n "$NS_NODE" addr add "$NODE_POD4/24" dev pod0
	ip -n "$NS_NODE" addr add "$NODE_POD6/64" dev pod0 nodad
	ip -n "$NS_NODE" link set eth0 up
	ip -n "$NS_NODE" link set pod0 up
	nsx "$NS_NODE" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

	ip -n "$NS_POD" addr add "$POD4/24" dev eth0
	ip -n "$NS_POD" addr add "$POD6/64" dev eth0 nodad
	ip -n "$NS_POD" link set eth0 up
	ip -n "$NS_POD" route add default via "$NODE_POD4"
	ip -n "$NS_POD" -6 route add default via "$NODE_POD6"

	# The service: kube-proxy-like DNAT on the node.
	nsx "$NS_NODE" nft -f - <<-EOF
	table ip e2e_svc {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			ip daddr $SVC4 tcp dport 80 dnat to $POD4:$POD_PORT
		}
	}
	EOF
	# Answers must come back through the tunnel, never straight over up0.
	nsx "$NS_SEED" nft -f - <<-EOF
	table inet e2e_guard {
		chain prerouting {
			type filter hook prerouting priority raw;
			iifname "up0" ip saddr { 10.250.0.0/24, 100.96.0.0/24, 100.64.0.0/24 } counter drop
			iifname "up0" ip6 saddr { 2001:db8:250::/64, 2001:db8:96::/64 } counter drop
		}
	}
	EOF
}

# Packets the seed's guard dropped (shoot sources arriving on up0).
guard_drops() {
	nsx "$NS_SEED" nft list table inet e2e_guard |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# The servers behind the agent: kubelet on the node, an HTTP server and a
# UDP echo in the pod. With KUBELET_TLS=1 the kubelet serves HTTPS (with
# $PKI/kubelet.crt), as a real one does.
KUBELET_TLS=${KUBELET_TLS:-0}
apps_up() {
	local tls=() scheme=http
	if [ "$KUBELET_TLS" = 1 ]; then
		tls=(--tls "$PKI/kubelet.crt" "$PKI/kubelet.key")
		scheme=https
	fi
	spawn kubelet "$NS_NODE" "$PY" "$E2E_DIR/kubelet.py" --name node \
		--bind "$NODE4" --bind "$NODE6" --port "$KUBELET_PORT" "${tls[@]}"
	spawn podhttp "$NS_POD" "$PY" "$E2E_DIR/kubelet.py" --name pod \
		--bind "$POD4" --bind "$POD6" --port "$POD_PORT"
	spawn udpecho4 "$NS_POD" socat -T 5 "UDP4-RECVFROM:$UDP_PORT,bind=$POD4,fork" PIPE
	spawn udpecho6 "$NS_POD" socat -T 5 "UDP6-RECVFROM:$UDP_PORT,bind=[$POD6],fork" PIPE
	wait_for 5 "kubelet on the node" nsx "$NS_NODE" curl -sf --max-time 1 \
		--cacert "$PKI/ca.crt" "$scheme://$NODE4:$KUBELET_PORT/healthz"
	wait_for 5 "kubelet on the node (IPv6)" nsx "$NS_NODE" curl -sfg --max-time 1 \
		--cacert "$PKI/ca.crt" "$scheme://[$NODE6]:$KUBELET_PORT/healthz"
	wait_for 5 "HTTP server in the pod" nsx "$NS_POD" curl -sf --max-time 1 \
		"http://$POD4:$POD_PORT/healthz"
	wait_for 5 "HTTP server in the pod (IPv6)" nsx "$NS_POD" curl -sfg --max-time 1 \
		"http://[$POD6]:$POD_PORT/healthz"
}

# ---------------------------------------------------------------- processes

# spawn NAME NS CMD...: starts CMD in NS in the background, output
# appended to $E2E_T/NAME.log; E2E_PID[NAME] is its PID.
spawn() {
	local name=$1 ns=$2; shift 2
	printf '=== %s: %s\n' "$(date +%T.%N | cut -c1-12)" "$*" >>"$E2E_T/$name.log"
	ip netns exec "$ns" "$@" >>"$E2E_T/$name.log" 2>&1 &
	E2E_PID[$name]=$!
	E2E_PIDS+=($!)
}

pid_of() { echo "${E2E_PID[$1]}"; }

# stop NAME [SIGNAL [SECONDS]]: signals the process and waits for it to
# exit; E2E_STATUS is its exit status. Fails if it is still alive after
# SECONDS (default 5).
stop() {
	local name=$1 sig=${2:-TERM} secs=${3:-5} pid
	pid=${E2E_PID[$name]}
	proc_alive "$pid" || fail "$name (pid $pid) had already exited before SIG$sig"
	E2E_STOPPED[$pid]=1
	# bash reports a job killed by a signal ("Killed") on its stderr when
	# it reaps it; that is expected here, so it goes nowhere.
	local gone=0 saved
	exec {saved}>&2 2>/dev/null
	kill "-$sig" "$pid" || true
	poll "$secs" proc_gone "$pid" && gone=1
	E2E_STATUS=0
	if [ $gone = 1 ]; then wait "$pid" || E2E_STATUS=$?; fi
	exec 2>&$saved {saved}>&-
	[ $gone = 1 ] || fail "$name (pid $pid) still running ${secs}s after SIG$sig"
}

log_of() { echo "$E2E_T/$1.log"; }

# log_mark NAME: later log_since/log_wait only look at what came after.
log_mark() { E2E_LOGMARK[$1]=$(stat -c %s "$E2E_T/$1.log" 2>/dev/null || echo 0); }

log_since() { tail -c +$(( ${E2E_LOGMARK[$1]:-0} + 1 )) "$E2E_T/$1.log" 2>/dev/null; }

# log_wait NAME SECONDS ERE...: waits for a line (after the mark) that
# matches every ERE; prints it.
log_wait() {
	local name=$1 secs=$2; shift 2
	if ! poll "$secs" log_grep "$name" "$@"; then
		fail "$name log: no line matching /$(IFS=/; echo "$*")/ within ${secs}s"
	fi
	log_grep "$name" "$@" | sed -n 1p
}

log_grep() {
	local name=$1 out; shift
	out=$(log_since "$name")
	local re
	for re in "$@"; do
		out=$(printf '%s\n' "$out" | grep -E -- "$re") || return 1
	done
	printf '%s\n' "$out"
}

# ---------------------------------------------------------------- daemons

server_cmd() {
	SERVER_CMD=("$BIN/vpn-server"
		--cert "$PKI/server.crt" --key "$PKI/server.key" --ca "$PKI/ca.crt"
		--dev "$TUN_SEED"
		--listen "[::]:$VPN_PORT"
		--shoot-networks "$SHOOT_NETWORKS"
		--keepalive "$KEEPALIVE" --keepalive-timeout "$KEEPALIVE_TIMEOUT"
		--handshake-timeout "$HANDSHAKE_TIMEOUT"
		--stats-socket "$E2E_T/server.sock"
		--metrics-listen "127.0.0.1:15000"
		--log-level "$LOG_LEVEL")
}

shoot_cmd() {
	SHOOT_CMD=("$BIN/vpn-shoot"
		--cert "$PKI/shoot.crt" --key "$PKI/shoot.key" --ca "$PKI/ca.crt"
		--dev "$TUN_SHOOT"
		--server "$SEED_UP4:$VPN_PORT" --server-name vpn-server
		--reconnect-max 1
		--keepalive "$KEEPALIVE" --keepalive-timeout "$KEEPALIVE_TIMEOUT"
		--stats-socket "$E2E_T/shoot.sock"
		--metrics-listen "127.0.0.1:15001"
		--log-level "$LOG_LEVEL")
}

# start_server [FLAG...]: extra flags go last (and win).
start_server() {
	server_cmd
	spawn server "$NS_SEED" "${SERVER_CMD[@]}" "$@"
	wait_for 5 "vpn-server's stats socket" stats server show info
}

start_shoot() {
	shoot_cmd
	spawn shoot "$NS_AGENT" "${SHOOT_CMD[@]}" "$@"
	wait_for 5 "vpn-shoot's stats socket" stats shoot show info
}

# stats SIDE COMMAND...: the answer of the daemon's stats socket.
stats() {
	local side=$1; shift
	"$PY" "$E2E_DIR/statsq.py" "$E2E_T/$side.sock" "$@"
}

# info SIDE KEY: one "Key: value" of `show info`.
info() {
	local out
	out=$(stats "$1" show info) || return 1
	printf '%s\n' "$out" | sed -n "s/^$2:[[:space:]]*//p" | sed -n 1p
}

tunnels_up_is() {	# SIDE N
	[ "$(info "$1" tunnels_up)" = "$2" ]
}

# wait_tunnel [SECONDS]: both sides report one tunnel up.
wait_tunnel() {
	local secs=${1:-10}
	wait_for "$secs" "vpn-server to report tunnels_up: 1" tunnels_up_is server 1
	wait_for "$secs" "vpn-shoot to report tunnels_up: 1" tunnels_up_is shoot 1
}

# table_col SIDE COMMAND COLUMN: the values of COLUMN in a tab-separated table
# answer, one per row. Fails (listing the header) if there is no such
# column.
table_col() {
	local side=$1 cmd=$2 col=$3 out
	# shellcheck disable=SC2086 # the command's words are separate arguments
	out=$(stats "$side" $cmd) || fail "$side: '$cmd' failed"
	printf '%s\n' "$out" | awk -F'\t' -v col="$col" '
		/^#/ { h = $0; sub(/^#[ \t]*/, "", h); n = split(h, H, "\t")
		       for (i = 1; i <= n; i++) if (tolower(H[i]) == tolower(col)) idx = i
		       next }
		idx && NF { print $idx }
		END { if (!idx) { print "no column \"" col "\" in: " h > "/dev/stderr"; exit 1 } }'
}

# stat_value SIDE NAME: a global counter of `show stat` ("Name: value"
# lines, or "name<TAB>value" rows under a "#" header).
stat_value() {
	local side=$1 name=$2 out v
	out=$(stats "$side" show stat) || fail "$side: 'show stat' failed"
	v=$(printf '%s\n' "$out" | awk -F'\t' -v name="$name" '
		/^#/ { next }
		index($0, name ": ") == 1 { print substr($0, length(name) + 3); exit }
		$1 == name { print $2; exit }')
	[ -n "$v" ] || fail "$side: no counter '$name' in show stat: $(printf '%s' "$out" | cut -d: -f1 | tr '\n' ' ')"
	printf '%s\n' "$v"
}

# stat_moved SIDE NAME BEFORE [MIN]: the counter grew by at least MIN (1).
stat_moved() {
	local now
	now=$(stat_value "$1" "$2")
	assert_ge $((now - $3)) "${4:-1}" "$1: show stat $2 - $3"
}

# sum of a column over all rows
table_sum() {
	table_col "$@" | awk '{ s += $1 } END { print s + 0 }'
}

# ---------------------------------------------------------------- the proxy

# vpn-server flags for the HTTP CONNECT proxy on the seed's uplink, with
# the proxy's own certificate (SAN IP:192.0.2.1) and the shoot CA for its
# clients: SERVER_EXTRA=("${PROXY_FLAGS[@]}").
PROXY_FLAGS=()
proxy_flags() {
	PROXY_FLAGS=(--proxy-listen "$SEED_UP4:$PROXY_PORT"
		--proxy-cert "$PKI/proxy.crt" --proxy-key "$PKI/proxy.key"
		--proxy-ca "$PKI/ca.crt")
}

# proxy_curl [CURL_ARG...] URL: curl in the seed as kube-apiserver's egress
# selector would connect: through the proxy over TLS with the client
# certificate $PKI/$PROXY_CLIENT.crt (default apiserver; PROXY_CLIENT=none
# sends none). Prints the body; for the CONNECT answer's status use
# -w '%{http_connect}'.
proxy_curl() {
	local client=${PROXY_CLIENT:-apiserver} cert=()
	[ "$client" = none ] || cert=(--proxy-cert "$PKI/$client.crt" --proxy-key "$PKI/$client.key")
	nsx "$NS_SEED" curl -sS -g --max-time "${PROXY_CURL_TIMEOUT:-5}" \
		--proxy "https://$SEED_UP4:$PROXY_PORT" --proxy-cacert "$PKI/ca.crt" "${cert[@]}" \
		--cacert "$PKI/ca.crt" "$@"
}

# proxy_raw: sends stdin to the proxy over TLS (with the apiserver
# certificate) and prints what comes back until the proxy closes; the
# write side is closed (close_notify) at the end of stdin.
proxy_raw() {
	timeout 10 ip netns exec "$NS_SEED" socat -t 5 - \
		"OPENSSL:$SEED_UP4:$PROXY_PORT,cert=$PKI/apiserver.crt,key=$PKI/apiserver.key,cafile=$PKI/ca.crt,verify=1,commonname=vpn-server"
}

# ---------------------------------------------------------------- traffic

seed_ping() {	# ADDR [COUNT]
	nsx "$NS_SEED" ping -q -n -c "${2:-3}" -i 0.2 -W 2 -w 5 "$1" >/dev/null 2>&1
}

# send_to_pod FILE PORT [6]: FILE from the seed to a TCP sink in the pod
# (IPv4, or IPv6 with 6); fails unless the pod received it whole (SHA-256).
send_to_pod() {
	local file=$1 port=$2 fam=${3:-4} want sum listen connect
	want=$(sha256sum <"$file" | cut -d' ' -f1)
	sum=$E2E_T/sink-$port.sum
	if [ "$fam" = 6 ]; then
		listen="TCP6-LISTEN:$port,bind=[$POD6]" connect="TCP6:[$POD6]:$port"
	else
		listen="TCP4-LISTEN:$port,bind=$POD4" connect="TCP4:$POD4:$port"
	fi
	rm -f "$sum"
	spawn "sink-$port" "$NS_POD" sh -c "socat -u $listen,reuseaddr STDOUT | sha256sum >'$sum'"
	wait_for 5 "the pod's TCP sink on port $port" listening "$NS_POD" "$port"
	timeout 60 ip netns exec "$NS_SEED" socat -u "FILE:$file" "$connect,connect-timeout=5" ||
		fail "sending $(basename "$file") to the pod over IPv$fam"
	wait_for 30 "the pod's checksum" test -s "$sum"
	assert_eq "$(cut -d' ' -f1 <"$sum")" "$want" "SHA-256 of $(basename "$file") received by the pod (IPv$fam)"
}

seed_curl() {	# URL: prints the body
	nsx "$NS_SEED" curl -sS -g --fail --max-time 5 "$1"
}

# check_traffic: the tunnel carries IPv4 and IPv6, ICMP and TCP.
check_traffic() {
	seed_ping "$NODE4" 2 || fail "ping $NODE4 through the tunnel"
	seed_ping "$POD6" 2 || fail "ping $POD6 through the tunnel"
	local body
	body=$(seed_curl "http://$POD4:$POD_PORT/traffic-check") ||
		fail "HTTP to the pod through the tunnel"
	assert_contains "$body" "pod:" "answer of the pod"
}

# e2e_up: topology, servers behind the agent, both daemons, tunnel up.
e2e_up() {
	need_bins
	topo_up
	apps_up
	start_server "${SERVER_EXTRA[@]}"
	start_shoot "${SHOOT_EXTRA[@]}"
	wait_tunnel 10
}
declare -a SERVER_EXTRA=() SHOOT_EXTRA=()

# listening NS PORT: a TCP socket listens on PORT in NS.
listening() {
	[ -n "$(nsx "$1" ss -Hltn "sport = :$2")" ]
}

# badpeer MODE [ARG...]: tests/e2e/badpeer.py from the agent namespace
# against vpn-server; prints its output (the last line is "result: ...").
badpeer() {
	local mode=$1; shift
	timeout 30 ip netns exec "$NS_AGENT" "$PY" "$E2E_DIR/badpeer.py" "$mode" \
		--connect "$SEED_UP4:$VPN_PORT" --ca "$PKI/ca.crt" \
		--server-name vpn-server "$@" 2>&1
}

# After bad input: the server is still running and the good tunnel still
# carries traffic, on the same connection.
check_survived() {
	proc_alive "$(pid_of server)" || fail "vpn-server died"
	proc_alive "$(pid_of shoot)" || fail "vpn-shoot died"
	wait_for 5 "vpn-server back to one tunnel" tunnels_up_is server 1
	tunnels_up_is shoot 1 || fail "vpn-shoot lost its tunnel"
	check_traffic
}

# A namespace's network configuration, for before/after comparisons:
# links, addresses, routes, policy rules and nftables tables. IPv6
# link-local addresses are left out: the kernel adds them in its own time
# (and a device that goes takes its own along).
snapshot() {
	local ns=$1
	echo "## links"
	ip -n "$ns" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
	echo "## addresses"
	ip -n "$ns" -o addr show | awk '{ print $2, $3, $4 }' | grep -v ' fe80::' | sort
	echo "## IPv4 routes"
	ip -n "$ns" -4 route show table all | sort
	echo "## IPv6 routes"
	ip -n "$ns" -6 route show table all | sed 's/ expires [0-9]*sec//' |
		grep -v '^local fe80::' | sort
	echo "## IPv4 rules"
	ip -n "$ns" -4 rule show
	echo "## IPv6 rules"
	ip -n "$ns" -6 rule show
	echo "## nftables"
	nsx "$ns" nft list tables | sort
}

# A passing test ends by stopping the daemons it still runs with SIGTERM:
# each must exit 0 (a sanitizer build exits non-zero on a leak), and no
# sanitizer report may appear in their logs.
pass() {
	local name pid f
	for name in shoot server; do
		pid=${E2E_PID[$name]:-}
		[ -n "$pid" ] && [ -z "${E2E_STOPPED[$pid]:-}" ] || continue
		proc_alive "$pid" || fail "vpn-$name (pid $pid) died during the test"
		stop "$name" TERM 5
		[ "$E2E_STATUS" -eq 0 ] || fail "vpn-$name exited with status $E2E_STATUS after SIGTERM"
	done
	for f in "$E2E_T/server.log" "$E2E_T/shoot.log"; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$f"; then
			fail "sanitizer report in $(basename "$f")"
		fi
	done
	say "ok: $E2E_NAME"
	exit 0
}

# ---------------------------------------------------------------- HA

# ha_up: two server replicas (server-a in $SA, server-b in $SB) and two
# agents (shoot-0 in $A0, shoot-1 in $A1) on one LAN, each agent with a
# tunnel to each server, both agents on the node network of $NODE with a
# kubelet-like server on 10.250.0.10:10250. Used by t_ha.sh and
# bench/failover.sh; the diagram is in t_ha.sh.
ha_up() {
	LAN=$E2E_RUN-lan SA=$E2E_RUN-sa SB=$E2E_RUN-sb A0=$E2E_RUN-a0 A1=$E2E_RUN-a1 NODE=$E2E_RUN-n
	for ns in "$LAN" "$SA" "$SB" "$A0" "$A1" "$NODE"; do ns_add "$ns"; done
	ip -n "$LAN" link add br0 type bridge && ip -n "$LAN" link set br0 up
	ip -n "$NODE" link add brn type bridge && ip -n "$NODE" link set brn up
	ip -n "$NODE" addr add 10.250.0.10/24 dev brn
	# attach NS DEV ADDR BRIDGE_NS BRIDGE
	attach() {
		ip -n "$4" link add "$2-p" type veth peer name "$2" netns "$1"
		ip -n "$4" link set "$2-p" master "$5" up
		ip -n "$1" addr add "$3" dev "$2"
		ip -n "$1" link set "$2" up
	}
	attach "$SA" up0 192.0.2.1/24 "$LAN" br0
	attach "$SB" up1 192.0.2.2/24 "$LAN" br0
	attach "$A0" up2 192.0.2.10/24 "$LAN" br0
	attach "$A1" up3 192.0.2.11/24 "$LAN" br0
	attach "$A0" nd0 10.250.0.2/24 "$NODE" brn
	attach "$A1" nd1 10.250.0.3/24 "$NODE" brn
	spawn kubelet "$NODE" "$PY" "$E2E_DIR/kubelet.py" --name node --bind 10.250.0.10 --port 10250
	wait_for 5 "kubelet on the node" nsx "$NODE" curl -sf --max-time 1 http://10.250.0.10:10250/healthz

	srv() {	# NAME NS ADDR [FLAG...]
		spawn "$1" "$2" "$BIN/vpn-server" --cert "$PKI/server.crt" --key "$PKI/server.key" --ca "$PKI/ca.crt" \
			--dev tun-ha --listen "$3:$VPN_PORT" --shoot-networks 10.250.0.0/24 \
			--keepalive 0.5 --keepalive-timeout 2 --stats-socket "$E2E_T/$1.sock" \
			--metrics-listen 127.0.0.1:15000 --proxy-listen 127.0.0.1:9443 "${@:4}"
	}
	agent() {	# NAME NS CERT
		spawn "$1" "$2" "$BIN/vpn-shoot" --cert "$PKI/$3.crt" --key "$PKI/$3.key" --ca "$PKI/ca.crt" \
			--dev tun-ha --server 192.0.2.1:$VPN_PORT --server 192.0.2.2:$VPN_PORT --server-name vpn-server \
			--reconnect-max 1 --keepalive 0.5 --keepalive-timeout 2 --stats-socket "$E2E_T/$1.sock" \
			--metrics-listen 127.0.0.1:15001
	}
	up_is() { [ "$(info "$1" tunnels_up)" = "$2" ]; }
	srv server-a "$SA" 192.0.2.1
	srv server-b "$SB" 192.0.2.2
	wait_for 5 "both servers" sh -c "[ -S '$E2E_T/server-a.sock' ] && [ -S '$E2E_T/server-b.sock' ]"
	agent shoot-0 "$A0" shoot
	agent shoot-1 "$A1" shoot-1
}
