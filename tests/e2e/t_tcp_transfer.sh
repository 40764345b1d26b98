#!/usr/bin/env bash
# Bulk TCP through the tunnel: 100 MB from the seed to the pod over IPv4,
# 20 MB from the pod to the seed over IPv6; the SHA-256 matches at both
# ends and the tunnel's byte counters account for it. Then the tunnel
# idles: both daemons give the buffers the transfer touched back to the
# kernel (buffer_trims counts it, and their resident memory falls).
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

# rss_kib SIDE: the daemon's VmRSS
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$(pid_of "$1")/status"; }
# trims_above SIDE N: its buffer_trims counter is above N
trims_above() { [ "$(stat_value "$1" buffer_trims)" -gt "$2" ]; }

up=$((100 * 1024 * 1024))
down=$((20 * 1024 * 1024))
head -c "$up" /dev/urandom >"$E2E_T/up.bin"
head -c "$down" /dev/urandom >"$E2E_T/down.bin"
want_down=$(sha256sum <"$E2E_T/down.bin" | cut -d' ' -f1)
tx0=$(table_sum server "show tunnels" tx_bytes)

step "100 MB seed -> pod $POD4 (IPv4)"
t0=$(now_ms)
send_to_pod "$E2E_T/up.bin" 5001
ms=$(( $(now_ms) - t0 ))
step "100 MB in ${ms} ms ($(( up / 1024 / (ms > 0 ? ms : 1) )) MB/s)"

step "the tunnel counted the bytes"
assert_ge $(( $(table_sum server "show tunnels" tx_bytes) - tx0 )) "$up" "vpn-server tunnel tx_bytes delta"

step "20 MB pod [$POD6] -> seed (IPv6)"
spawn source "$NS_POD" socat -u "FILE:$E2E_T/down.bin" "TCP6-LISTEN:5002,bind=[$POD6],reuseaddr"
wait_for 5 "the pod's TCP source" listening "$NS_POD" 5002
got=$(timeout 60 ip netns exec "$NS_SEED" socat -u "TCP6:[$POD6]:5002,connect-timeout=5" STDOUT | sha256sum | cut -d' ' -f1)
# Where the idle tunnel starts from (read at once: the trim comes 5 s
# after the last packet).
declare -A rss0 trims0
for side in server shoot; do
	rss0[$side]=$(rss_kib "$side")
	trims0[$side]=$(stat_value "$side" buffer_trims)
done
assert_eq "$got" "$want_down" "SHA-256 of the 20 MB received by the seed"

assert_eq "$(guard_drops)" 0 "packets from shoot networks dropped on the seed's up0"

step "idle for 5 s after the transfer, both sides give their buffers back"
for side in server shoot; do
	wait_for 15 "vpn-$side to trim its idle tunnel's buffers" trims_above "$side" "${trims0[$side]}"
	# Each side's record buffer alone (64 KiB) was full during the
	# transfer; the send queue and the receive buffers held more.
	assert_ge $(( ${rss0[$side]} - $(rss_kib "$side") )) 128 \
		"vpn-$side: KiB of resident memory given back (of ${rss0[$side]} after the transfer)"
done
for side in server shoot; do
	# 64 KB segments both ways, and every header passed gso_check.
	assert_eq "$(stat_value "$side" dropped_bad_packet)" 0 "$side: packets refused as malformed"
done
pass
