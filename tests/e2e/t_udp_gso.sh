#!/usr/bin/env bash
# UDP super-packets (USO): a seed application writes 40 datagrams at once
# with UDP_SEGMENT, an echo server in the pod answers the same way. Where
# the kernel has USO (Linux 6.2), both TUN devices take such packets, both
# sides announce CAP_USO, `show tunnels` says "tso+uso", and each crosses
# the tunnel whole: gso_sent_whole moves on both sides, nothing is cut in
# user space. Every datagram comes back unchanged, over IPv4 and IPv6.
# (t_offload_fallback.sh has the peer without offloads, which gets them
# cut by the sender.)
#
#    seed ns                     agent ns                    node ns                      pod ns
#  +----------------------+    +----------------------+    +-----------------------+    +--------------------+
#  | vpn-server           |    | vpn-shoot            |    | kubelet.py :10250     |    | udpgso.py echo     |
#  | udpgso.py send       |    |  masquerade, fwmark  |    | nft DNAT              |    |   :7008 (v4, v6)   |
#  |  (kube-apiserver)    |    |  answers -> tunnel   |    |  100.64.0.10:80       |    |                    |
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

GSO_PORT=7008
spawn gsoecho4 "$NS_POD" "$PY" "$E2E_DIR/udpgso.py" echo "$POD4" "$GSO_PORT"
spawn gsoecho6 "$NS_POD" "$PY" "$E2E_DIR/udpgso.py" echo "$POD6" "$GSO_PORT"

offload=$(table_col server "show tunnels" offload)
if [ "$offload" != "tso+uso" ]; then
	# The kernel refused TUN_F_USO4/6 (before Linux 6.2): the
	# capability is not announced and UDP is cut by the sender.
	assert_eq "$offload" tso "vpn-server's tunnel offload without USO"
	skip "this kernel has no UDP segmentation offload for TUN devices"
fi
assert_eq "$(table_col shoot "show tunnels" offload)" "tso+uso" "vpn-shoot's tunnel offload"

for a in "$POD4" "$POD6"; do
	step "40 datagrams of 1000 bytes at once, 5 times, via $a"
	s_whole=$(stat_value server gso_sent_whole)
	a_whole=$(stat_value shoot gso_sent_whole)
	out=$(timeout 30 ip netns exec "$NS_SEED" "$PY" "$E2E_DIR/udpgso.py" send "$a" "$GSO_PORT" \
		--size 1000 --count 40 --rounds 5) || fail "UDP super-packets via $a: $out"
	assert_eq "$out" "echoed 200/200" "UDP super-packets via $a"
	# Each round left the seed as one super-packet and came back as at
	# least one (the echo may take in a round in two reads).
	stat_moved server gso_sent_whole "$s_whole" 5
	stat_moved shoot gso_sent_whole "$a_whole" 5
done
for side in server shoot; do
	assert_eq "$(stat_value "$side" gso_segmented_tx)" 0 "$side: super-packets cut for the peer"
	assert_eq "$(stat_value "$side" gso_segmented_rx)" 0 "$side: super-packets cut for the device"
	# Every header the peer's kernel wrote passes gso_check.
	assert_eq "$(stat_value "$side" dropped_bad_packet)" 0 "$side: packets refused as malformed"
done
assert_eq "$(guard_drops)" 0 "packets from shoot networks dropped on the seed's up0"
pass
