#!/usr/bin/env bash
# vpnctl against the real daemons' stats sockets: the human `show tunnels`
# view names the peer and says "up"; -j prints the JSON answer, whose byte
# counters grow with ping traffic; -r prints the text table unchanged; an
# error answer exits 1, an unreachable socket exits 2 naming the path;
# `watch -n 2` prints two refreshes, the second with a throughput, and
# exits 0. Output that is not a terminal carries no colour codes.
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
#  vpnctl runs in the root namespace: the stats sockets are files in $E2E_T.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
[ -x "$BIN/vpnctl" ] || fail "$BIN/vpnctl not built (run make, or set BIN)"
e2e_up

SRV=$E2E_T/server.sock
SHT=$E2E_T/shoot.sock

# vc ARG...: runs vpnctl (bounded in time); OUT is its stdout and stderr,
# RC its exit status.
vc() {
	RC=0
	OUT=$(timeout 15 "$BIN/vpnctl" "$@" 2>&1) || RC=$?
}

json_rx_bytes() {	# SOCK: the sum of rx_bytes over the tunnels of -j show tunnels
	vc -s "$1" -j show tunnels
	assert_eq "$RC" 0 "vpnctl -j show tunnels exit status"
	printf '%s' "$OUT" | "$PY" -c 'import json, sys
print(sum(t["rx_bytes"] for t in json.load(sys.stdin)["tunnels"]))'
}

step "show tunnels: the peer, up, human units"
seed_ping "$NODE4" 3 || fail "ping $NODE4 through the tunnel"
vc -s "$SRV" show tunnels
assert_eq "$RC" 0 "vpnctl show tunnels (server) exit status"
assert_contains "$OUT" "peer: vpn-shoot" "server's show tunnels"
assert_contains "$OUT" "state: up" "server's show tunnels"
assert_contains "$OUT" " received, " "server's show tunnels transfer line"
assert_not_contains "$OUT" "rx_bytes" "human view (no raw column names)"
assert_not_contains "$OUT" $'\033' "output to a pipe (no colour codes)"
say "$(printf '%s\n' "$OUT" | sed 's/^/      /')"
vc -s "$SHT" show tunnels
assert_eq "$RC" 0 "vpnctl show tunnels (shoot) exit status"
assert_contains "$OUT" "peer: vpn-server" "shoot's show tunnels"
assert_contains "$OUT" "state: up" "shoot's show tunnels"
assert_contains "$OUT" "reconnects: " "shoot's show tunnels"

step "-r: the daemon's table, unchanged"
vc -s "$SRV" -r show tunnels
assert_eq "$RC" 0 "vpnctl -r show tunnels exit status"
assert_eq "$(printf '%s\n' "$OUT" | sed -n 1p | cut -c1-4)" "# id" "header of the raw table"
assert_contains "$OUT" $'\tvpn-shoot\t' "raw row"
vc -s "$SRV" show info
assert_eq "$RC" 0 "vpnctl show info exit status"
assert_contains "$OUT" "role: server" "show info, as the daemon answered"

step "-j: JSON, and rx_bytes grows with traffic"
rx0=$(json_rx_bytes "$SRV")
vc -s "$SRV" -j show tunnels
printf '%s' "$OUT" | "$PY" -c 'import json, sys; json.load(sys.stdin)' ||
	fail "vpnctl -j show tunnels is not JSON: $OUT"
seed_ping "$POD4" 5 || fail "ping $POD4 through the tunnel"
rx1=$(json_rx_bytes "$SRV")
# Five echo replies of 84 bytes at least, each in a frame.
assert_ge $((rx1 - rx0)) 420 "server rx_bytes growth after 5 pings ($rx0 -> $rx1)"
vc -s "$SHT" -j show info
assert_eq "$RC" 0 "vpnctl -j show info exit status"
printf '%s' "$OUT" | "$PY" -c 'import json, sys; assert json.load(sys.stdin)["role"]' ||
	fail "vpnctl -j show info: $OUT"

step "an error answer exits 1"
vc -s "$SRV" bogus
assert_eq "$RC" 1 "vpnctl bogus exit status"
assert_contains "$OUT" "error:" "vpnctl bogus"
assert_contains "$OUT" "bogus" "vpnctl bogus names the command"

step "an unreachable socket exits 2 and names the path"
vc -s /nonexistent show info
assert_eq "$RC" 2 "vpnctl -s /nonexistent exit status"
assert_contains "$OUT" "/nonexistent" "vpnctl -s /nonexistent"
assert_contains "$OUT" "No such file" "vpnctl -s /nonexistent says why"
vc -s /nonexistent watch -n 1
assert_eq "$RC" 2 "vpnctl -s /nonexistent watch exit status"
vc -s "$SRV" -j watch
assert_eq "$RC" 2 "vpnctl -j watch (usage error) exit status"

step "watch -n 2: two refreshes, the second with throughput"
nsx "$NS_SEED" ping -q -n -c 15 -i 0.1 "$NODE4" >/dev/null 2>&1 &
pinger=$!
vc -s "$SRV" watch -n 2
wait "$pinger" || true
assert_eq "$RC" 0 "vpnctl watch -n 2 exit status"
say "$(printf '%s\n' "$OUT" | sed 's/^/      /')"
assert_eq "$(printf '%s\n' "$OUT" | grep -c '^ID ')" 2 "refreshes printed by watch -n 2"
assert_eq "$(printf '%s\n' "$OUT" | grep -c "  $SRV  server ")" 2 "title lines naming the socket and role"
assert_not_contains "$OUT" $'\033' "watch to a pipe (no screen control)"
second=$(printf '%s\n' "$OUT" | awk '/^ID / { n++ } n == 2')
row=$(printf '%s\n' "$second" | grep ' vpn-shoot ') || fail "no vpn-shoot row in the second refresh: $second"
assert_contains "$row" " up " "state in watch"
printf '%s\n' "$row" | grep -Eq '(^|[^0-9.])[1-9][0-9]*(\.[0-9]+)? [kMGT]?bit/s' ||
	fail "no non-zero throughput in the second refresh: $row"
pass
