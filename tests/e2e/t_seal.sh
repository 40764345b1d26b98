#!/usr/bin/env bash
# Sealed records (tunnel/seal.h): after the TLS handshake and HELLO/WELCOME
# the frames travel in 64 KB records keyed from the TLS exporter, when both
# sides announce CAP_SEAL (--seal on, the default). A side with --seal off
# gets TLS records, whatever the other side wants: a mixed pair negotiates
# down and still carries traffic. Both ways, a 5 MB transfer arrives
# whole, and `show tunnels` and the sealed_tunnels counter say which
# channel each tunnel uses. A peer that sends a forged sealed record, or
# TLS where sealed records are due, loses its session only. An agent whose
# libgcrypt is in FIPS mode (as on a host with crypto.fips_enabled) cannot
# seal: it says so and keeps TLS records, and the tunnel works.
# Sealed tunnels lower the MSS of the SYNs they write into their TUN
# device so that the answering 64 KB segments fit one record each
# (tunio_write): a TCP connection through a sealed tunnel sends with a
# smaller MSS than one through TLS records, and tcp_mss_clamped counts.
# Topology: tests/e2e/lib.sh (topo_up), drawn in t_agent_restart.sh.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init

# mss_seen PORT: "SEED POD", the MSS each end of a new seed -> pod TCP
# connection sends with (TCP_MAXSEG of its socket).
mss_seen() {
	local port=$1 out=$E2E_T/mss-$1 seed
	rm -f "$out"
	spawn "mss-$port" "$NS_POD" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(10)
c, _ = s.accept()
open(sys.argv[3], "w").write("%d\n" % c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
' "$POD4" "$port" "$out"
	wait_for 5 "the pod's listener on port $port" listening "$NS_POD" "$port"
	seed=$(nsx "$NS_SEED" timeout 10 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)
print(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
' "$POD4" "$port") || fail "connecting to the pod on port $port"
	wait_for 5 "the pod's MSS" test -s "$out"
	echo "$seed $(cat "$out")"
}

step "both sides with the default (--seal on): sealed records"
e2e_up
check_traffic
for side in server shoot; do
	assert_eq "$(table_col "$side" "show tunnels" channel)" sealed "vpn-$side's tunnel channel"
	assert_eq "$(stat_value "$side" sealed_tunnels)" 1 "vpn-$side's sealed_tunnels"
done
head -c $((5 * 1024 * 1024)) /dev/urandom >"$E2E_T/data.bin"
send_to_pod "$E2E_T/data.bin" 5001
read -r mss_seed mss_pod <<<"$(mss_seen 5011)"
step "MSS through sealed records: seed $mss_seed, pod $mss_pod"
stat_moved shoot tcp_mss_clamped 0
for side in server shoot; do
	assert_eq "$(stat_value "$side" dropped_tls_error)" 0 "vpn-$side's dropped_tls_error"
	assert_eq "$(stat_value "$side" dropped_bad_frame)" 0 "vpn-$side's dropped_bad_frame"
done

step "a sealed record that cannot authenticate (as vpn-shoot-1): that session closes, counted"
n0=$(stat_value server dropped_seal_auth)
log_mark server
out=$(badpeer sealforged --cert "$PKI/shoot-1.crt" --key "$PKI/shoot-1.key") || fail "badpeer: $out"
assert_contains "$out" "welcome version=1" "the server welcomes vpn-shoot-1 first"
assert_contains "$out" "result: eof" "the server closes the forged session"
step "server: $(log_wait server 3 "failed authentication")"
stat_moved server dropped_seal_auth "$n0"
check_survived

step "TLS where sealed records are due (an agent that stopped before WELCOME): closed, not counted as a drop"
n0=$(stat_value server dropped_frame_too_large)
log_mark server
out=$(badpeer sealtls --cert "$PKI/shoot-1.crt" --key "$PKI/shoot-1.key") || fail "badpeer: $out"
assert_contains "$out" "result: eof" "the server closes that session"
step "server: $(log_wait server 3 "TLS where sealed records were due")"
assert_eq "$(stat_value server dropped_frame_too_large)" "$n0" "dropped_frame_too_large"
check_survived

step "the agent restarted with libgcrypt in FIPS mode: it keeps TLS records, traffic flows"
stop shoot
wait_for 5 "vpn-server to notice the agent is gone" tunnels_up_is server 0
shoot_cmd
log_mark shoot
spawn shoot "$NS_AGENT" env LIBGCRYPT_FORCE_FIPS_MODE=1 "${SHOOT_CMD[@]}"
wait_for 5 "vpn-shoot's stats socket" stats shoot show info
wait_tunnel 10
check_traffic
for side in server shoot; do
	assert_eq "$(table_col "$side" "show tunnels" channel)" tls "vpn-$side's tunnel channel"
done
step "shoot: $(log_wait shoot 3 "sealed records unavailable")"
send_to_pod "$E2E_T/data.bin" 5003

step "the agent restarted with --seal off: TLS records on both sides"
sealed0=$(stat_value server sealed_tunnels)
stop shoot
wait_for 5 "vpn-server to notice the agent is gone" tunnels_up_is server 0
start_shoot "${SHOOT_EXTRA[@]}" --seal off
wait_tunnel 10
check_traffic
for side in server shoot; do
	assert_eq "$(table_col "$side" "show tunnels" channel)" tls "vpn-$side's tunnel channel"
done
assert_eq "$(stat_value server sealed_tunnels)" "$sealed0" "vpn-server's sealed_tunnels after a tunnel with TLS records"
assert_eq "$(stat_value shoot sealed_tunnels)" 0 "vpn-shoot's sealed_tunnels with --seal off"
send_to_pod "$E2E_T/data.bin" 5002
read -r tls_seed tls_pod <<<"$(mss_seen 5012)"
step "MSS through TLS records: seed $tls_seed, pod $tls_pod"
assert_eq "$(stat_value shoot tcp_mss_clamped)" 0 "vpn-shoot's tcp_mss_clamped with TLS records"
assert_ge "$tls_seed" $((mss_seed + 1)) "the seed's MSS through TLS records, above the sealed one"
assert_ge "$tls_pod" $((mss_pod + 1)) "the pod's MSS through TLS records, above the sealed one"
pass
