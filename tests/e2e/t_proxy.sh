#!/usr/bin/env bash
# The HTTP CONNECT proxy (--proxy-listen) as kube-apiserver's egress
# selector uses it: curl in the seed, with kube-apiserver's client
# certificate, reaches the HTTPS kubelet on the node, the pod and the
# service through the proxy and the tunnel, over IPv4 and IPv6; a
# half-closed connection still gets its answer. CONNECT to the seed, to
# an address outside the shoot networks or to a hostname, another
# method, garbage, a client without or with a wrong certificate, a
# refused or silent target, and no tunnel are all refused with the right
# status and counted; each connection leaves an access-log line.
#
#    seed ns                     agent ns                    node ns                      pod ns
#  +----------------------+    +----------------------+    +-----------------------+    +--------------------+
#  | vpn-server           |    | vpn-shoot            |    | kubelet.py :10250     |    | kubelet.py :8080   |
#  |  proxy 192.0.2.1:9443|    |  masquerade, fwmark  |    |  (HTTPS)              |    | socat `wc -c` :7008|
#  |                      |    |                      |    |                       |    | 2 MB of zeros :7009|
#  | curl --proxy https://|    |  answers -> tunnel   |    | nft DNAT              |    |                    |
#  |  (kube-apiserver)    |    |                      |    |  100.64.0.10:80       |    |                    |
#  |                      |    |                      |    |   -> 100.96.0.5:8080  |    |                    |
#  |       tun-e2e-s ::1  |<==>| tun-e2e-a ::2        |    | nft: drop :10999      |    |                    |
#  |   up0 192.0.2.1/24   |<-->| up0 192.0.2.2/24     |    |  (a silent target)    |    |                    |
#  |    2001:db8:1::1/64  |    |   2001:db8:1::2/64   |    |                       |    |                    |
#  |                      |    |    node0 10.250.0.2  |<-->| eth0 10.250.0.10/24   |    |                    |
#  | ip rule fwmark 0x7465|    |    2001:db8:250::2   |    |  2001:db8:250::10/64  |    |                    |
#  |  lookup 0x7465:      |    | default via node     |    |    pod0 100.96.0.1/24 |<-->| eth0 100.96.0.5/24 |
#  |  shoot nets dev tun  |    |                      |    |    2001:db8:96::1/64  |    |  2001:db8:96::5/64 |
#  +----------------------+    +----------------------+    +-----------------------+    +--------------------+
#    tun-e2e-s <==> tun-e2e-a: the TLS 1.3 tunnel over up0 (fd8f:6d53:b97a:1::/96)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
KUBELET_TLS=1
proxy_flags
SERVER_EXTRA=("${PROXY_FLAGS[@]}")
e2e_up
check_traffic
WC_PORT=7008 BIG_PORT=7009
spawn podwc "$NS_POD" socat -t 30 "TCP-LISTEN:$WC_PORT,reuseaddr,fork" "SYSTEM:wc -c"
spawn podbig "$NS_POD" socat -t 30 "TCP-LISTEN:$BIG_PORT,reuseaddr,fork" "SYSTEM:head -c 2097152 /dev/zero"
nsx "$NS_NODE" nft add table inet e2e_silent
nsx "$NS_NODE" nft add chain inet e2e_silent input '{ type filter hook input priority 0; }'
nsx "$NS_NODE" nft add rule inet e2e_silent input tcp dport 10999 drop
wait_for 5 "the proxy to listen" listening "$NS_SEED" "$PROXY_PORT"

step "configuration errors: exit 2, naming the flag"
# bad_server EXPECT FLAG...: a second vpn-server with other ports exits 2
# before it touches anything, with one line naming the proxy flag.
bad_server() {
	local want=$1 rc=0 out; shift
	out=$(timeout 5 ip netns exec "$NS_SEED" "$BIN/vpn-server" --cert "$PKI/server.crt" \
		--key "$PKI/server.key" --ca "$PKI/ca.crt" --dev tun-e2e-x --listen "[::]:1195" \
		--shoot-networks "$SHOOT_NETWORKS" --stats-socket "$E2E_T/x.sock" \
		--metrics-listen 127.0.0.1:15009 "$@" 2>&1) || rc=$?
	assert_eq "$rc" 2 "exit status with $*"
	assert_contains "$out" "$want" "error with $*"
}
bad_server "--proxy-listen" --proxy-listen "vpn-server:9443"
bad_server "in use" --proxy-listen "$SEED_UP4:$PROXY_PORT"
bad_server "--proxy-cert: /nonexistent/tls.crt" --proxy-cert /nonexistent/tls.crt
bad_server "--proxy-ca" --proxy-ca "$PKI/server.key"
ip -n "$NS_SEED" link show tun-e2e-x >/dev/null 2>&1 && fail "a refused vpn-server left its TUN device"

step "policy routing: fwmark 0x7465 looks up a table with every shoot network"
assert_contains "$(ip -n "$NS_SEED" -4 rule show)" "fwmark 0x7465 lookup 29797" "IPv4 rule"
assert_contains "$(ip -n "$NS_SEED" -6 rule show)" "fwmark 0x7465 lookup 29797" "IPv6 rule"
assert_contains "$(ip -n "$NS_SEED" -4 route show table 29797)" "100.96.0.0/24 dev $TUN_SEED" "proxy table (IPv4)"
assert_contains "$(ip -n "$NS_SEED" -6 route show table 29797)" "2001:db8:96::/64 dev $TUN_SEED" "proxy table (IPv6)"

ok0=$(stat_value server proxy_ok)

step "kubelet over HTTPS through the proxy: $NODE4:$KUBELET_PORT and [$NODE6]"
assert_eq "$(proxy_curl "https://$NODE4:$KUBELET_PORT/healthz")" "ok" "kubelet /healthz"
body=$(proxy_curl "https://$NODE4:$KUBELET_PORT/logs/") || fail "HTTPS to the kubelet through the proxy"
assert_eq "$body" "node: /logs/ from $AGENT_NODE4 at $NODE4" "kubelet over IPv4"
body=$(proxy_curl "https://[$NODE6]:$KUBELET_PORT/logs/") || fail "HTTPS to the kubelet over IPv6"
assert_eq "$body" "node: /logs/ from $AGENT_NODE6 at $NODE6" "kubelet over IPv6"

step "pod $POD4 and [$POD6], service $SVC4 (HTTP inside CONNECT)"
body=$(proxy_curl -p "http://$POD4:$POD_PORT/p") || fail "pod over IPv4 through the proxy"
assert_eq "$body" "pod: /p from $AGENT_NODE4 at $POD4" "pod over IPv4"
body=$(proxy_curl -p "http://[$POD6]:$POD_PORT/p") || fail "pod over IPv6 through the proxy"
assert_eq "$body" "pod: /p from $AGENT_NODE6 at $POD6" "pod over IPv6"
body=$(proxy_curl -p "http://$SVC4/svc") || fail "service through the proxy"
assert_eq "$body" "pod: /svc from $AGENT_NODE4 at $POD4" "service"

step "bulk: 1 MB up (counted by wc -c after the client's EOF), 2 MB down"
out=$({ printf 'CONNECT %s:%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$POD4" "$WC_PORT"; head -c 1048576 /dev/urandom; } |
	proxy_raw) || fail "1 MB upload through the proxy"
assert_eq "$(printf '%s\n' "$out" | tail -n 1 | tr -d ' \r')" 1048576 "bytes uploaded through the proxy"
got=$(printf 'CONNECT %s:%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$POD4" "$BIG_PORT" | proxy_raw | wc -c) ||
	fail "2 MB download through the proxy"
assert_eq "$got" $((2097152 + 39)) "bytes downloaded through the proxy (with the 39-byte 200 line)"

step "half-close the other way: the target ends first, the client later"
got=$({ printf 'CONNECT %s:%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$POD4" "$BIG_PORT"; sleep 1; } | proxy_raw | wc -c) ||
	fail "download with the client's side open"
assert_eq "$got" $((2097152 + 39)) "bytes downloaded while the client's side stays open"
log_wait server 5 "target=$POD4:$BIG_PORT status=200 to_target=0 to_client=2097152 .*end=\"target closed first\"" >/dev/null

step "half-close: the client ends its side, the answer still comes back"
out=$(printf 'CONNECT %s:%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nhello, half-closed world' "$POD4" "$WC_PORT" | proxy_raw) ||
	fail "half-closed CONNECT"
assert_contains "$out" "HTTP/1.1 200 Connection established" "answer to the CONNECT"
assert_eq "$(printf '%s\n' "$out" | tail -n 1 | tr -d ' \r')" 24 "wc -c's count, after the client's EOF"

stat_moved server proxy_ok "$ok0" 8
log_wait server 5 "peer=kube-apiserver-http-proxy-client" "proxy: conn=[0-9]+ target=$NODE4:$KUBELET_PORT status=200 " \
	"to_target=[1-9][0-9]* to_client=[1-9][0-9]* duration=[0-9.]+s end=\"(client|target) closed first\"" >/dev/null
log_wait server 5 "target=$POD4:$WC_PORT status=200 to_target=24 to_client=3 .*end=\"client closed first\"" >/dev/null

step "show proxy lists an open connection"
(printf 'CONNECT %s:%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$POD4" "$WC_PORT"; sleep 3) | proxy_raw >/dev/null &
open_pid=$!
wait_for 3 "show proxy to list the connection" eval \
	'table_col server "show proxy" target | grep -qx "$POD4:$WC_PORT"'
row=$(stats server show proxy | grep -F "$POD4:$WC_PORT")
assert_contains "$row" "kube-apiserver-http-proxy-client" "identity in show proxy"
assert_contains "$row" "relaying" "state in show proxy"
assert_contains "$(stats server show proxy)" "to_target_bytes" "show proxy header"
assert_contains "$(stats server show proxy json)" "\"target\":" "show proxy json"
assert_ge "$(info server proxy_connections)" 1 "show info proxy_connections"
wait "$open_pid" || true

# status URL [CURL_ARG...]: the status of the proxy's answer to CONNECT.
connect_status() {
	local url=$1; shift
	proxy_curl -p -o /dev/null -w '%{http_connect}' "$@" "$url" 2>/dev/null || true
}

step "CONNECT to the seed itself and outside the shoot networks: 403"
f0=$(stat_value server dropped_proxy_forbidden)
assert_eq "$(connect_status "http://$SEED_UP4:15000/metrics")" 403 "CONNECT to the seed's uplink"
assert_eq "$(connect_status "http://127.0.0.1:15000/metrics")" 403 "CONNECT to loopback"
assert_eq "$(connect_status "http://[$SEED_UP6]:$VPN_PORT/")" 403 "CONNECT to the seed's IPv6 uplink"
assert_eq "$(connect_status "http://198.51.100.7:80/")" 403 "CONNECT outside the shoot networks"
assert_eq "$(connect_status "http://[fd8f:6d53:b97a:1::2]:80/")" 403 "CONNECT to the agent's transfer address"
assert_eq "$(connect_status "http://kubelet.example:$KUBELET_PORT/")" 403 "CONNECT to a hostname"
stat_moved server dropped_proxy_forbidden "$f0" 6
log_wait server 5 "target=198.51.100.7:80 status=403 .*not in the shoot networks" >/dev/null

step "GET instead of CONNECT: 405; garbage and a missing port: 400"
m0=$(stat_value server dropped_proxy_method)
b0=$(stat_value server dropped_proxy_bad_request)
code=$(proxy_curl -o /dev/null -w '%{http_code}' "http://$NODE4:$KUBELET_PORT/" 2>/dev/null || true)
assert_eq "$code" 405 "GET through the proxy"
stat_moved server dropped_proxy_method "$m0"
out=$(printf 'CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n' "$NODE4" | proxy_raw || true)
assert_contains "$out" "HTTP/1.1 400 Bad Request" "CONNECT without a port"
assert_contains "$out" "no port" "why, in the body"
out=$(printf '\x01\x02 garbage\r\n\r\n' | proxy_raw || true)
assert_contains "$out" "HTTP/1.1 400 Bad Request" "garbage"
stat_moved server dropped_proxy_bad_request "$b0" 2

step "a refused target: 502; a silent one: 504"
d0=$(stat_value server dropped_proxy_dial_failed)
assert_eq "$(connect_status "http://$NODE4:1/")" 502 "CONNECT to a closed port"
stat_moved server dropped_proxy_dial_failed "$d0"
t0=$(stat_value server dropped_proxy_dial_timeout)
assert_eq "$(PROXY_CURL_TIMEOUT=15 connect_status "http://$NODE4:10999/")" 504 "CONNECT to a silent port"
stat_moved server dropped_proxy_dial_timeout "$t0"

step "clients without a certificate, with another CA's, with another identity: refused"
tls0=$(stat_value server dropped_proxy_tls)
id0=$(stat_value server dropped_proxy_identity)
PROXY_CLIENT=none proxy_curl "https://$NODE4:$KUBELET_PORT/healthz" >/dev/null 2>&1 &&
	fail "a client without a certificate got through"
PROXY_CLIENT=apiserver-other proxy_curl "https://$NODE4:$KUBELET_PORT/healthz" >/dev/null 2>&1 &&
	fail "a client with another CA's certificate got through"
code=$(PROXY_CLIENT=shoot connect_status "https://$NODE4:$KUBELET_PORT/healthz")
assert_eq "$code" 403 "vpn-shoot's certificate (signed by the same CA) on the proxy"
stat_moved server dropped_proxy_tls "$tls0" 2
stat_moved server dropped_proxy_identity "$id0"
log_wait server 5 "proxy: conn=.*status=- .*TLS handshake failed" >/dev/null
assert_contains "$(stats server show errors)" "proxy" "show errors"

step "the tunnel still works, the proxy still serves"
check_traffic
assert_eq "$(proxy_curl "https://$NODE4:$KUBELET_PORT/healthz")" "ok" "kubelet /healthz after the refusals"
assert_contains "$(nsx "$NS_SEED" curl -s --max-time 2 http://127.0.0.1:15000/metrics)" \
	'vpn_packets_dropped_total{reason="proxy_forbidden"}' "/metrics"

step "no tunnel: 503 at once"
stop shoot TERM 5
wait_for 5 "vpn-server to see the tunnel go" tunnels_up_is server 0
n0=$(stat_value server dropped_proxy_no_tunnel)
assert_eq "$(connect_status "https://$NODE4:$KUBELET_PORT/healthz")" 503 "CONNECT without a tunnel"
stat_moved server dropped_proxy_no_tunnel "$n0"
proxy_idle() { [ "$(stat_value server proxy_open)" = 0 ]; }
wait_for 3 "no proxy connection left open" proxy_idle
pass
