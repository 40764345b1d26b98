#!/usr/bin/env bash
# A peer's virtio-net header that lies about where the transport header is.
# After a valid handshake (as the HA replica "vpn-shoot-1"), the bad peer
# answers a UDP datagram from the seed with a DATA_GSO frame: the answer
# itself passes the server's flow table, but its header starts the UDP
# segmentation inside the packet's IPv6 hop-by-hop header, so that, cut
# where the header says, the second datagram would be one the peer wrote,
# to a seed port nothing there asked for (tests/e2e/badpeer.py, gsohide).
# The server cuts in user space here (--offload off, as would a server
# whose kernel has no USO): it must drop the frame's packet
# (dropped_bad_packet), nothing may reach the seed's port 5353, and the
# good tunnel carries on.
#
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
SERVER_EXTRA=(--offload off)
e2e_up
check_traffic

got=$E2E_T/hidden.bin
: >"$got"
spawn hidden "$NS_SEED" socat -u UDP6-RECV:5353 "OPEN:$got,append"
bad0=$(stat_value server dropped_bad_packet)

step "valid HELLO as vpn-shoot-1, then wait for a datagram from the seed"
out=$E2E_T/badpeer.out
badpeer gsohide --cert "$PKI/shoot-1.crt" --key "$PKI/shoot-1.key" --wait 20 >"$out" &
bp=$!
wait_for 10 "the bad peer's WELCOME" grep -q '^welcome .*addr=' "$out"
addr=$(sed -n 's/^welcome .*addr=\([^/ ]*\)\/.*/\1/p' "$out")
step "the seed sends a datagram to the bad peer's transfer address $addr"
echo hello | nsx "$NS_SEED" socat -u - "UDP6-SENDTO:[$addr]:7000,sourceport=6000"
wait "$bp" || fail "badpeer: $(cat "$out")"
assert_contains "$(cat "$out")" "sent: an answer to port 6000 hiding a datagram to port 5353" \
	"the bad peer answered"
step "$(grep '^sent:' "$out")"

stat_moved server dropped_bad_packet "$bad0"
sleep 0.5
assert_eq "$(stat -c %s "$got")" 0 "bytes that reached the seed's port 5353"
check_survived
pass
