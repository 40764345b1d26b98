#!/usr/bin/env bash
# Overlapping networks: the seed's pod network is the shoot's pod network.
# The seed namespace has 100.96.0.200/24 on ovl0, and behind it a seed pod
# has the very address of the shoot's pod, 100.96.0.5. vpn-server notices
# at start, puts no main-table route for 100.96.0.0/24 into the tunnel
# (that would take the seed's own traffic to its pod network), and logs
# it. The seed itself still reaches its own pod 100.96.0.5; the proxy
# reaches the shoot's pod 100.96.0.5 through its fwmark table. The seed's
# own address 100.96.0.200 cannot be reached through the proxy. SIGTERM
# removes the rules and leaves the seed's route.
#
#    seed ns                     agent ns                    node ns                      pod ns
#  +----------------------+    +----------------------+    +-----------------------+    +--------------------+
#  | vpn-server           |    | vpn-shoot            |    | kubelet.py :10250     |    | kubelet.py :8080   |
#  |  proxy 192.0.2.1:9443|    |  masquerade, fwmark  |    |  (HTTPS)              |    |                    |
#  | curl --proxy https://|    |  answers -> tunnel   |    |                       |    |                    |
#  | ovl0 100.96.0.200/24 |    |                      |    |                       |    |                    |
#  |   |                  |    |                      |    |                       |    |                    |
#  |  seedpod ns: eth0    |    |                      |    |                       |    |                    |
#  |   100.96.0.5/24      |    |                      |    |                       |    |                    |
#  |   kubelet.py :8080   |    |                      |    |                       |    |                    |
#  |       tun-e2e-s ::1  |<==>| tun-e2e-a ::2        |    |                       |    |                    |
#  |   up0 192.0.2.1/24   |<-->| up0 192.0.2.2/24     |    |                       |    |                    |
#  |                      |    |    node0 10.250.0.2  |<-->| eth0 10.250.0.10/24   |    |                    |
#  | main: 100.96.0.0/24  |    | default via node     |    |    pod0 100.96.0.1/24 |<-->| eth0 100.96.0.5/24 |
#  |  dev ovl0 (kept)     |    |                      |    |                       |    |                    |
#  | table 0x7465:        |    |                      |    |                       |    |                    |
#  |  100.96.0.0/24 tun   |    |                      |    |                       |    |                    |
#  +----------------------+    +----------------------+    +-----------------------+    +--------------------+
#    tun-e2e-s <==> tun-e2e-a: the TLS 1.3 tunnel over up0 (fd8f:6d53:b97a:1::/96)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
need_bins
KUBELET_TLS=1
topo_up
apps_up
SEED_OVL4=100.96.0.200
NS_SEEDPOD=$E2E_RUN-seedpod
ns_add "$NS_SEEDPOD"
ip -n "$NS_SEED" link add ovl0 type veth peer name eth0 netns "$NS_SEEDPOD"
ip -n "$NS_SEED" addr add "$SEED_OVL4/24" dev ovl0
ip -n "$NS_SEED" link set ovl0 up
ip -n "$NS_SEEDPOD" addr add "$POD4/24" dev eth0
ip -n "$NS_SEEDPOD" link set eth0 up
spawn seedpod "$NS_SEEDPOD" "$PY" "$E2E_DIR/kubelet.py" --name seedpod --bind "$POD4" --port "$POD_PORT"
wait_for 5 "the seed's own pod" nsx "$NS_SEED" curl -sf --max-time 1 "http://$POD4:$POD_PORT/healthz"
snapshot "$NS_SEED" >"$E2E_T/seed.before"

proxy_flags
start_server "${PROXY_FLAGS[@]}"
start_shoot
wait_tunnel 10
wait_for 5 "the proxy to listen" listening "$NS_SEED" "$PROXY_PORT"

step "the overlap is noticed: no main-table route for 100.96.0.0/24 into the tunnel"
log_wait server 1 "shoot network 100.96.0.0/24 overlaps $SEED_OVL4/24 on ovl0" "no main-table route" >/dev/null
routes=$(ip -n "$NS_SEED" -4 route show 100.96.0.0/24)
assert_contains "$routes" "dev ovl0" "the seed's own route"
assert_not_contains "$routes" "$TUN_SEED" "main table"
assert_contains "$(ip -n "$NS_SEED" -4 route show 10.250.0.0/24)" "dev $TUN_SEED" "main-table route of a network without overlap"
assert_contains "$(ip -n "$NS_SEED" -4 route show table 29797)" "100.96.0.0/24 dev $TUN_SEED" "the proxy's table"
assert_contains "$(ip -n "$NS_SEED" -4 rule show)" "fwmark 0x7465 lookup 29797" "the proxy's rule"

step "the seed's own traffic to its pod $POD4 stays in the seed"
body=$(nsx "$NS_SEED" curl -sS --max-time 5 "http://$POD4:$POD_PORT/own") || fail "seed to its own pod"
assert_eq "$body" "seedpod: /own from $SEED_OVL4 at $POD4" "the seed's own pod"

step "the proxy reaches the shoot's pod $POD4 (the same address) and the kubelet"
body=$(proxy_curl -p "http://$POD4:$POD_PORT/p") || fail "shoot pod through the proxy"
assert_eq "$body" "pod: /p from $AGENT_NODE4 at $POD4" "shoot pod through the proxy"
body=$(proxy_curl -p "http://[$POD6]:$POD_PORT/p") || fail "shoot pod over IPv6 through the proxy"
assert_eq "$body" "pod: /p from $AGENT_NODE6 at $POD6" "shoot pod over IPv6"
assert_eq "$(proxy_curl "https://$NODE4:$KUBELET_PORT/healthz")" "ok" "kubelet through the proxy"
for i in 1 2 3 4 5; do
	body=$(proxy_curl -p "http://$POD4:$POD_PORT/r$i") || fail "request $i"
	assert_contains "$body" "pod: /r$i from $AGENT_NODE4" "request $i"
done

step "the seed's own address in that range is not reachable through the proxy: 403"
f0=$(stat_value server dropped_proxy_forbidden)
code=$(proxy_curl -p -o /dev/null -w '%{http_connect}' "http://$SEED_OVL4:$POD_PORT/" 2>/dev/null || true)
assert_eq "$code" 403 "CONNECT to the seed's own $SEED_OVL4"
code=$(proxy_curl -p -o /dev/null -w '%{http_connect}' "http://100.96.0.255:$POD_PORT/" 2>/dev/null || true)
assert_eq "$code" 403 "CONNECT to the broadcast address of the seed's range"
stat_moved server dropped_proxy_forbidden "$f0" 2
log_wait server 5 "target=$SEED_OVL4:$POD_PORT status=403 .*the seed itself answers" >/dev/null
assert_not_contains "$(cat "$(log_of seedpod)")" "/p HTTP" "the seed's pod saw a request meant for the shoot"

step "SIGTERM: rules and routes removed, the seed's route kept"
stop shoot TERM 5
stop server TERM 5
assert_eq "$E2E_STATUS" 0 "vpn-server's exit status"
snapshot "$NS_SEED" >"$E2E_T/seed.after"
if ! d=$(diff -u "$E2E_T/seed.before" "$E2E_T/seed.after"); then
	fail "the seed namespace differs from before vpn-server started:
$d"
fi
pass
