#!/usr/bin/env bash
# The operator's HTTP endpoints and sockets: /metrics is valid Prometheus
# text (promtool) whose counters move with real traffic and drops; /healthz
# answers while the loop runs; /readyz turns 503 when the transport is
# blackholed and 200 again when it returns; the read-only stats socket
# refuses reload; a stats client that never reads stalls nothing.
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
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
command -v promtool >/dev/null || fail "promtool is missing (tools/install-deps.sh installs prometheus)"
SERVER_EXTRA=(--stats-socket-ro "$E2E_T/server-ro.sock")
e2e_up

M=http://127.0.0.1:15000
scrape() { nsx "$NS_SEED" curl -sS --max-time 2 "$M/metrics"; }
# metric NAME{LABELS}: its value in a fresh scrape (0 if absent)
metric() {
	scrape | awk -v k="$1" 'index($0, k " ") == 1 { v = $2 } END { print v + 0 }'
}
code() {	# NS URL: the HTTP status
	nsx "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$2" || true
}

step "/healthz and /readyz answer 200 on both daemons"
assert_eq "$(code "$NS_SEED" "$M/healthz")" 200 "server /healthz"
assert_eq "$(code "$NS_SEED" "$M/readyz")" 200 "server /readyz"
assert_eq "$(code "$NS_AGENT" http://127.0.0.1:15001/readyz)" 200 "shoot /readyz"

step "promtool accepts /metrics of both daemons"
scrape >"$E2E_T/server.prom"
promtool check metrics <"$E2E_T/server.prom" || fail "promtool rejects vpn-server's /metrics"
nsx "$NS_AGENT" curl -sS --max-time 2 http://127.0.0.1:15001/metrics >"$E2E_T/shoot.prom"
promtool check metrics <"$E2E_T/shoot.prom" || fail "promtool rejects vpn-shoot's /metrics"

id=$(table_col server "show tunnels" id | sed -n 1p)
peer=$(table_col server "show tunnels" peer | sed -n 1p)
key="vpn_tunnel_tx_packets_total{tunnel=\"$id\",peer=\"$peer\"}"
step "20 pings move $key by at least 20"
before=$(metric "$key")
nsx "$NS_SEED" ping -q -n -c 20 -i 0.05 -W 2 "$NODE4" >/dev/null || fail "ping $NODE4"
after=$(metric "$key")
assert_ge $((after - before)) 20 "$key delta"

step "packets routed into the tunnel outside the shoot networks count as no_route"
ip -n "$NS_SEED" route add 198.51.100.0/24 dev "$TUN_SEED"
drop='vpn_packets_dropped_total{reason="no_route"}'
before=$(metric "$drop")
nsx "$NS_SEED" ping -q -n -c 5 -i 0.05 -W 1 198.51.100.1 >/dev/null 2>&1 || true
assert_ge $(( $(metric "$drop") - before )) 5 "$drop delta"

step "the read-only socket answers show commands and refuses reload"
ro() { "$PY" "$E2E_DIR/statsq.py" "$E2E_T/server-ro.sock" "$@"; }
assert_contains "$(ro show info)" "tunnels_up: 1" "show info on the read-only socket"
assert_contains "$(ro reload || true)" "error: \`reload' is not allowed on the read-only socket" "reload on the read-only socket"
assert_contains "$(ro clear counters || true)" "error:" "clear counters on the read-only socket"
assert_eq "$(stat -c %a "$E2E_T/server-ro.sock")" 660 "mode of the read-only socket"
assert_eq "$(stat -c %a "$E2E_T/server.sock")" 600 "mode of the operator socket"

step "a stats client that sends commands and never reads stalls nothing"
"$PY" - "$E2E_T/server.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
deadline = time.time() + 3
while time.time() < deadline:       # bounded in time
    try:
        s.send(b"show stat; show tunnels; help\n" * 64)
    except BlockingIOError:
        time.sleep(0.01)
    except OSError:
        break                        # the daemon gave up on us: fine
time.sleep(1)
PY
hog=$!
sleep 0.5
assert_contains "$(stats server show info)" "tunnels_up: 1" "show info while a client hogs the socket"
check_traffic
wait "$hog" || true

step "/readyz turns 503 when the transport is blackholed, 200 when it returns"
nsx "$NS_AGENT" nft -f - <<EOT
table inet e2e_blackhole {
	chain input { type filter hook input priority filter - 10; tcp sport $VPN_PORT drop; }
	chain output { type filter hook output priority filter - 10; tcp dport $VPN_PORT drop; }
}
EOT
not_ready() { [ "$(code "$NS_SEED" "$M/readyz")" = 503 ] && [ "$(code "$NS_AGENT" http://127.0.0.1:15001/readyz)" = 503 ]; }
wait_for "$(( $(to_ms "$KEEPALIVE_TIMEOUT") / 1000 + 2 ))" "/readyz to answer 503 on both sides" not_ready
assert_eq "$(code "$NS_SEED" "$M/healthz")" 200 "server /healthz while not ready"
nsx "$NS_AGENT" nft delete table inet e2e_blackhole
ready() { [ "$(code "$NS_SEED" "$M/readyz")" = 200 ] && [ "$(code "$NS_AGENT" http://127.0.0.1:15001/readyz)" = 200 ]; }
wait_for 15 "/readyz to answer 200 again" ready
check_traffic
pass
