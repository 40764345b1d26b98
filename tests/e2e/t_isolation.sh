#!/usr/bin/env bash
# The shoot can never reach into the seed. The shoot owner controls the
# node, the pod and the agent's namespace, and routes into the tunnel
# whatever it likes: the server's tunnel address, a seed pod address
# (203.0.113.10, on the seed's lo), an arbitrary address. TCP, UDP and ping
# from the node and from the pod all fail, vpn-server counts them as
# no_flow, nothing reaches the seed's listeners, and seed -> shoot keeps
# working. A packet from the agent side with a source outside the shoot
# networks is dropped as spoofed_source. A bounded UDP flood changes none of
# that.
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
e2e_up

SEEDPOD=203.0.113.10 ARBITRARY=198.51.100.7 SERVER6=fd8f:6d53:b97a:1::1
step "the seed side listens on a seed pod address and on its tunnel address"
ip -n "$NS_SEED" addr add "$SEEDPOD/32" dev lo
spawn seedtcp "$NS_SEED" socat -u TCP-LISTEN:8080,bind=$SEEDPOD,fork,reuseaddr OPEN:"$E2E_T/seedtcp.got",creat,append
spawn seedtcp6 "$NS_SEED" socat -u TCP6-LISTEN:8080,bind=[$SERVER6],fork,reuseaddr OPEN:"$E2E_T/seedtcp6.got",creat,append
spawn seedudp "$NS_SEED" socat -u UDP-RECVFROM:9999,bind=$SEEDPOD,fork OPEN:"$E2E_T/seedudp.got",creat,append
wait_for 3 "the seed's listeners" nsx "$NS_SEED" sh -c "ss -ltn | grep -q ':8080'"

step "the shoot owner routes seed and arbitrary addresses into the tunnel"
ip -n "$NS_AGENT" route add 203.0.113.0/24 dev "$TUN_SHOOT"
ip -n "$NS_AGENT" route add 198.51.100.0/24 dev "$TUN_SHOOT"
ip -n "$NS_NODE" route add 203.0.113.0/24 via "$AGENT_NODE4"
ip -n "$NS_NODE" route add 198.51.100.0/24 via "$AGENT_NODE4"
ip -n "$NS_NODE" -6 route add fd8f:6d53:b97a:1::/96 via "$AGENT_NODE6"

n0=$(stat_value server dropped_no_flow)
for ns in "$NS_NODE" "$NS_POD"; do
	who=node; [ "$ns" = "$NS_POD" ] && who=pod
	for dst in "$SEEDPOD" "$ARBITRARY" "$SERVER6"; do
		step "from the $who: ping, TCP and UDP to $dst fail"
		if nsx "$ns" ping -q -n -c 2 -i 0.2 -W 1 "$dst" >/dev/null 2>&1; then
			fail "ping $dst from the $who got an answer"
		fi
		url="http://$dst:8080/"
		case $dst in *:*) url="http://[$dst]:8080/" ;; esac
		if nsx "$ns" curl -sg --max-time 1 "$url" -o /dev/null; then
			fail "TCP to $dst:8080 from the $who connected"
		fi
		fam=UDP4; case $dst in *:*) fam=UDP6; dst="[$dst]" ;; esac
		echo "from the $who" | nsx "$ns" socat -u - "$fam-SENDTO:$dst:9999" || true
	done
done
sleep 0.5
n1=$(stat_value server dropped_no_flow)
step "vpn-server dropped $((n1 - n0)) packets as no_flow"
# 2 pings + at least 1 SYN + 1 datagram, per source and destination.
assert_ge $((n1 - n0)) $((2 * 3 * 4)) "dropped_no_flow delta"
for f in seedtcp seedtcp6 seedudp; do
	[ ! -s "$E2E_T/$f.got" ] || fail "the seed's $f listener received: $(cat "$E2E_T/$f.got")"
done

step "a spoofed source from the agent side is dropped"
ip -n "$NS_AGENT" addr add 198.18.0.1/32 dev lo
s0=$(stat_value server dropped_spoofed_source)
nsx "$NS_AGENT" ping -q -n -c 3 -i 0.2 -W 1 -I 198.18.0.1 "$SEEDPOD" >/dev/null 2>&1 || true
assert_ge $(( $(stat_value server dropped_spoofed_source) - s0 )) 3 "dropped_spoofed_source delta"

step "a bounded UDP flood from the pod (5000 datagrams, at most 10 s)"
f0=$(stat_value server dropped_no_flow)
timeout 10 ip netns exec "$NS_POD" "$PY" - "$SEEDPOD" <<'PY' || true
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5000):
    try:
        s.sendto(b"x" * 200, (sys.argv[1], 9999 + i % 50))
    except OSError:
        pass
PY
sleep 0.5
assert_ge $(( $(stat_value server dropped_no_flow) - f0 )) 1000 "dropped_no_flow delta after the flood"
[ ! -s "$E2E_T/seedudp.got" ] || fail "the seed's UDP listener received: $(cat "$E2E_T/seedudp.got")"

step "seed -> shoot still works, the tunnel never dropped"
check_survived
assert_eq "$(table_col shoot "show tunnels" reconnects)" 0 "agent reconnects"
out=$(stats server show flows)
assert_contains "$out" "# proto" "show flows header"
assert_contains "$out" "$POD4" "show flows lists the seed's flows to the pod"
pass
