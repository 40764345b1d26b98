#!/usr/bin/env bash
# The test topology on its own, without the daemons: the agent reaches the
# node, the pod and the service; the seed has no route into the shoot
# networks; the seed's guard drops shoot sources arriving on up0.
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
topo_up
apps_up

step "agent reaches node and pod (IPv4, IPv6)"
for a in "$NODE4" "$NODE6" "$POD4" "$POD6"; do
	nsx "$NS_AGENT" ping -q -n -c 1 -W 2 "$a" >/dev/null || fail "agent: ping $a"
done

step "agent reaches kubelet, pod and service over HTTP"
body=$(nsx "$NS_AGENT" curl -sS --fail --max-time 5 "http://$NODE4:$KUBELET_PORT/healthz")
assert_eq "$body" "ok" "kubelet /healthz"
body=$(nsx "$NS_AGENT" curl -sS -g --fail --max-time 5 "http://[$NODE6]:$KUBELET_PORT/x")
assert_contains "$body" "node: /x from $AGENT_NODE6" "kubelet over IPv6"
body=$(nsx "$NS_AGENT" curl -sS --fail --max-time 5 "http://$SVC4/svc")
assert_contains "$body" "pod: /svc from $AGENT_NODE4" "service through DNAT"

step "UDP echo in the pod"
out=$(nsx "$NS_AGENT" "$PY" "$E2E_DIR/udpcheck.py" "$POD4" "$UDP_PORT" --count 5) ||
	fail "UDP echo over IPv4: $out"
out=$(nsx "$NS_AGENT" "$PY" "$E2E_DIR/udpcheck.py" "$POD6" "$UDP_PORT" --count 5) ||
	fail "UDP echo over IPv6: $out"

step "seed: uplink works, shoot networks unreachable without the tunnel"
nsx "$NS_SEED" ping -q -n -c 1 -W 2 "$AGENT_UP4" >/dev/null || fail "seed: ping $AGENT_UP4"
nsx "$NS_SEED" ping -q -n -c 1 -W 2 "$AGENT_UP6" >/dev/null || fail "seed: ping $AGENT_UP6"
if nsx "$NS_SEED" ping -q -n -c 1 -W 1 "$NODE4" >/dev/null 2>&1; then
	fail "seed reaches $NODE4 without a tunnel"
fi

step "seed's guard drops shoot sources arriving on up0"
assert_eq "$(guard_drops)" 0 "guard drops before"
if nsx "$NS_AGENT" ping -q -n -c 1 -W 1 -I "$AGENT_NODE4" "$SEED_UP4" >/dev/null 2>&1; then
	fail "a packet from $AGENT_NODE4 passed the guard"
fi
assert_ge "$(guard_drops)" 1 "guard drops after a spoofed ping"
pass
