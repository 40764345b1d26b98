#!/usr/bin/env bash
# The agent is killed (SIGKILL: no cleanup, its nftables table and rules
# stay behind) and started again: the server notices, the new agent takes
# the leftovers over and the tunnel carries traffic again. While no agent
# is up the server holds packets for the shoot networks up to a second: a
# ping sent before the new agent is up is answered once it is, one that
# waits longer is dropped and counted.
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
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_up
check_traffic
rules4=$(ip -n "$NS_AGENT" -4 rule show | grep -c fwmark || true)
rules6=$(ip -n "$NS_AGENT" -6 rule show | grep -c fwmark || true)

step "SIGKILL vpn-shoot"
stop shoot KILL
wait_for "$(( $(to_ms "$KEEPALIVE_TIMEOUT") / 1000 + 2 ))" \
	"vpn-server to notice the agent is gone (tunnels_up: 0)" tunnels_up_is server 0

step "no agent for longer than a second: a held ping is dropped, counted as no_tunnel"
drops0=$(stat_value server dropped_no_tunnel)
if nsx "$NS_SEED" ping -n -c 1 -W 2 "$NODE4" >/dev/null 2>&1; then
	fail "ping $NODE4 answered without an agent"
fi
stat_moved server dropped_no_tunnel "$drops0"

step "start vpn-shoot again; a ping sent just before is held and answered"
nsx "$NS_SEED" ping -n -c 1 -W 5 "$NODE4" >"$E2E_T/held-ping.txt" 2>&1 &
held_ping=$!
sleep 0.1
start_shoot
wait "$held_ping" || fail "the ping sent before the agent was up got no answer: $(cat "$E2E_T/held-ping.txt")"
wait_tunnel 10
check_traffic

step "one tunnel, one nftables table, no duplicate rules"
assert_eq "$(table_col server "show tunnels" id | wc -l)" 1 "rows of vpn-server's show tunnels"
assert_eq "$(nsx "$NS_AGENT" nft list tables | grep -c "$NFT_SHOOT_TABLE" || true)" 1 "nftables tables $NFT_SHOOT_TABLE"
assert_eq "$(ip -n "$NS_AGENT" -4 rule show | grep -c fwmark || true)" "$rules4" "IPv4 fwmark rules"
assert_eq "$(ip -n "$NS_AGENT" -6 rule show | grep -c fwmark || true)" "$rules6" "IPv6 fwmark rules"
pass
