#!/usr/bin/env bash
# The server is killed (SIGKILL) and started again: the same vpn-shoot
# process notices, reconnects on its own and the tunnel carries traffic.
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
shoot_pid=$(pid_of shoot)

step "SIGKILL vpn-server"
stop server KILL
wait_for "$(( $(to_ms "$KEEPALIVE_TIMEOUT") / 1000 + 2 ))" \
	"vpn-shoot to notice the server is gone (tunnels_up: 0)" tunnels_up_is shoot 0

step "start vpn-server again"
start_server
wait_tunnel 10
proc_alive "$shoot_pid" || fail "vpn-shoot (pid $shoot_pid) is gone"
assert_eq "$(pid_of shoot)" "$shoot_pid" "vpn-shoot's pid"
check_traffic
assert_ge "$(table_col shoot "show tunnels" reconnects | sed -n 1p)" 1 "vpn-shoot's reconnects"
pass
