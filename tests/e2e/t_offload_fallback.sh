#!/usr/bin/env bash
# Offloads negotiated per tunnel: vpn-server keeps its TUN offloads, the
# agent runs with --offload off (an old peer, or a kernel without them).
# The server's kernel still hands it 64 KB TCP segments (and, with USO,
# UDP super-packets); the server must cut and checksum them in user space
# for this peer, and the agent's plain packets must get through too:
# transfers in both directions, over IPv4 and IPv6, arrive intact, and so
# does every datagram a seed application writes at once with UDP_SEGMENT.
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
assert_eq "$(table_col server "show tunnels" offload)" none "the tunnel's offload"
stat_moved server gso_segmented_tx 0

step "UDP: 40 datagrams of 1000 bytes at once, 5 times, seed -> pod and back"
spawn gsoecho "$NS_POD" "$PY" "$E2E_DIR/udpgso.py" echo "$POD4" 7008
cut=$(stat_value server gso_segmented_tx)
out=$(timeout 30 ip netns exec "$NS_SEED" "$PY" "$E2E_DIR/udpgso.py" send "$POD4" 7008 \
	--size 1000 --count 40 --rounds 5) || fail "UDP super-packets: $out"
assert_eq "$out" "echoed 200/200" "UDP super-packets"
if [ "$(info server offload)" = "tso+uso" ]; then
	# The seed's kernel handed them over whole: cut for this peer.
	stat_moved server gso_segmented_tx "$cut" 5
fi
assert_eq "$(stat_value server gso_sent_whole)" 0 "vpn-server: super-packets sent whole to a peer without offloads"
pass
