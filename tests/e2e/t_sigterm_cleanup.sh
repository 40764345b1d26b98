#!/usr/bin/env bash
# SIGTERM stops both daemons cleanly (exit 0), and leaves the namespaces as
# they were before: no TUN device, address, route, policy rule or nftables
# table of theirs remains.
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
need_bins
topo_up
apps_up
snapshot "$NS_SEED" >"$E2E_T/seed.before"
snapshot "$NS_AGENT" >"$E2E_T/agent.before"
start_server
start_shoot
wait_tunnel 10
check_traffic

step "while up: devices, routes, rules and the nftables table are there"
ip -n "$NS_SEED" link show "$TUN_SEED" >/dev/null || fail "no $TUN_SEED in the seed"
ip -n "$NS_AGENT" link show "$TUN_SHOOT" >/dev/null || fail "no $TUN_SHOOT in the agent"
assert_contains "$(ip -n "$NS_SEED" -4 route show 10.250.0.0/24)" "dev $TUN_SEED" "seed's route to 10.250.0.0/24"
assert_contains "$(ip -n "$NS_SEED" -6 route show 2001:db8:96::/64)" "dev $TUN_SEED" "seed's route to 2001:db8:96::/64"
assert_contains "$(ip -n "$NS_AGENT" -4 rule show)" "fwmark" "agent's IPv4 fwmark rule"
assert_contains "$(ip -n "$NS_AGENT" -6 rule show)" "fwmark" "agent's IPv6 fwmark rule"
nsx "$NS_AGENT" nft list table inet "$NFT_SHOOT_TABLE" >/dev/null ||
	fail "no nftables table inet $NFT_SHOOT_TABLE in the agent"

step "SIGTERM vpn-shoot: exit 0, the server is told"
stop shoot TERM 5
assert_eq "$E2E_STATUS" 0 "vpn-shoot's exit status after SIGTERM"
wait_for 1 "vpn-server to drop the tunnel the agent closed" tunnels_up_is server 0

step "SIGTERM vpn-server: exit 0"
stop server TERM 5
assert_eq "$E2E_STATUS" 0 "vpn-server's exit status after SIGTERM"

step "nothing left behind"
for side in seed agent; do
	ns=$NS_SEED; [ $side = agent ] && ns=$NS_AGENT
	snapshot "$ns" >"$E2E_T/$side.after"
	if ! d=$(diff -u "$E2E_T/$side.before" "$E2E_T/$side.after"); then
		fail "the $side namespace differs from before the daemons started:
$d"
	fi
done
pass
