#!/usr/bin/env bash
# ping over IPv4 and IPv6 from the seed, through the tunnel, to the node,
# the pod and the agent's own node address; both daemons count it; no
# answer comes back around the tunnel over up0.
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

srv_rx0=$(table_sum server "show tunnels" rx_packets)
srv_tx0=$(table_sum server "show tunnels" tx_packets)
sht_rx0=$(table_sum shoot "show tunnels" rx_packets)
sht_tx0=$(table_sum shoot "show tunnels" tx_packets)

n=0
for a in "$NODE4" "$POD4" "$AGENT_NODE4" "$NODE6" "$POD6" "$AGENT_NODE6"; do
	step "ping $a"
	seed_ping "$a" 3 || fail "ping $a from the seed through the tunnel"
	n=$((n + 3))
done

step "counters: each side sent and received at least $n packets"
assert_ge $(( $(table_sum server "show tunnels" tx_packets) - srv_tx0 )) "$n" "vpn-server tunnel tx_packets delta"
assert_ge $(( $(table_sum server "show tunnels" rx_packets) - srv_rx0 )) "$n" "vpn-server tunnel rx_packets delta"
assert_ge $(( $(table_sum shoot "show tunnels" tx_packets) - sht_tx0 )) "$n" "vpn-shoot tunnel tx_packets delta"
assert_ge $(( $(table_sum shoot "show tunnels" rx_packets) - sht_rx0 )) "$n" "vpn-shoot tunnel rx_packets delta"

step "no answer arrived on up0 instead of the tunnel"
assert_eq "$(guard_drops)" 0 "packets from shoot networks dropped on the seed's up0"
pass
