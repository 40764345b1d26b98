#!/usr/bin/env bash
# HTTP from the seed (as kube-apiserver would) to the kubelet on the node
# IP, to the pod and to the service IP, over IPv4 and IPv6. The agent
# masquerades: the servers see its node address as the client.
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

step "kubelet /healthz on $NODE4:$KUBELET_PORT"
assert_eq "$(seed_curl "http://$NODE4:$KUBELET_PORT/healthz")" "ok" "kubelet /healthz"

step "kubelet on $NODE4 and [$NODE6]"
body=$(seed_curl "http://$NODE4:$KUBELET_PORT/logs/") || fail "HTTP to the kubelet over IPv4"
assert_eq "$body" "node: /logs/ from $AGENT_NODE4 at $NODE4" "kubelet over IPv4"
body=$(seed_curl "http://[$NODE6]:$KUBELET_PORT/logs/") || fail "HTTP to the kubelet over IPv6"
assert_eq "$body" "node: /logs/ from $AGENT_NODE6 at $NODE6" "kubelet over IPv6"

step "pod on $POD4 and [$POD6]"
body=$(seed_curl "http://$POD4:$POD_PORT/p") || fail "HTTP to the pod over IPv4"
assert_eq "$body" "pod: /p from $AGENT_NODE4 at $POD4" "pod over IPv4"
body=$(seed_curl "http://[$POD6]:$POD_PORT/p") || fail "HTTP to the pod over IPv6"
assert_eq "$body" "pod: /p from $AGENT_NODE6 at $POD6" "pod over IPv6"

step "service $SVC4:80 (DNAT on the node to the pod)"
body=$(seed_curl "http://$SVC4/svc") || fail "HTTP to the service"
assert_eq "$body" "pod: /svc from $AGENT_NODE4 at $POD4" "service"

step "30 requests in a row"
for i in $(seq 1 30); do
	body=$(seed_curl "http://$NODE4:$KUBELET_PORT/r$i") || fail "request $i"
	assert_contains "$body" "node: /r$i" "request $i"
done
assert_eq "$(guard_drops)" 0 "packets from shoot networks dropped on the seed's up0"
pass
