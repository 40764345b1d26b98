#!/usr/bin/env bash
# Offloads negotiated per tunnel: vpn-server keeps its TUN offloads, the
# agent runs with --offload off (an old peer, or a kernel without them).
# The server's kernel still hands it 64 KB TCP segments; the server must
# cut and checksum them in user space for this peer, and the agent's plain
# packets must get through too: transfers in both directions, over IPv4 and
# IPv6, arrive intact.
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
SHOOT_EXTRA=(--offload off)
e2e_up
check_traffic

size=$((30 * 1024 * 1024))
head -c "$size" /dev/urandom >"$E2E_T/data.bin"
want=$(sha256sum <"$E2E_T/data.bin" | cut -d' ' -f1)

step "30 MB seed -> pod $POD4 (IPv4): segmented by vpn-server"
send_to_pod "$E2E_T/data.bin" 5001

step "30 MB seed -> pod [$POD6] (IPv6)"
send_to_pod "$E2E_T/data.bin" 5003 6

step "30 MB pod -> seed (IPv4)"
spawn source "$NS_POD" socat -u "FILE:$E2E_T/data.bin" "TCP4-LISTEN:5002,bind=$POD4,reuseaddr"
wait_for 5 "the pod's TCP source" listening "$NS_POD" 5002
got=$(timeout 60 ip netns exec "$NS_SEED" socat -u "TCP4:$POD4:5002,connect-timeout=5" STDOUT | sha256sum | cut -d' ' -f1)
assert_eq "$got" "$want" "SHA-256 of the 30 MB received by the seed"
pass
