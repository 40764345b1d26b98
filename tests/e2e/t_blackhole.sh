#!/usr/bin/env bash
# The transport silently stops (nftables drops TCP port 1194 in the agent's
# namespace both ways: no FIN, no RST). Keepalive notices on both sides
# within --keepalive-timeout; when the drop is lifted the agent reconnects.
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

both_down() { tunnels_up_is server 0 && tunnels_up_is shoot 0; }

step "blackhole TCP port $VPN_PORT in the agent's namespace"
log_mark server
log_mark shoot
t0=$(now_ms)
nsx "$NS_AGENT" nft -f - <<EOT
table inet e2e_blackhole {
	chain input { type filter hook input priority filter - 10; tcp sport $VPN_PORT drop; }
	chain output { type filter hook output priority filter - 10; tcp dport $VPN_PORT drop; }
}
EOT
limit_ms=$(( $(to_ms "$KEEPALIVE_TIMEOUT") + 1500 ))
poll "$(( limit_ms / 1000 )).$(( limit_ms % 1000 ))" both_down ||
	fail "tunnels still up $limit_ms ms after the blackhole (keepalive timeout $KEEPALIVE_TIMEOUT s): server $(info server tunnels_up), shoot $(info shoot tunnels_up)"
ms=$(( $(now_ms) - t0 ))
step "both sides saw the tunnel dead after $ms ms"
[ "$ms" -ge 900 ] || fail "tunnel declared dead after only $ms ms: not by keepalive"
line=$(log_wait server 1 "keepalive timeout")
step "server: $line"
line=$(log_wait shoot 1 "keepalive timeout")
step "shoot: $line"

step "lift the blackhole"
nsx "$NS_AGENT" nft delete table inet e2e_blackhole
wait_tunnel 15
check_traffic
assert_eq "$(table_col server "show tunnels" id | wc -l)" 1 "rows of vpn-server's show tunnels"
pass
