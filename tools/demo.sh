#!/usr/bin/env bash
# The tendril demo (sudo make demo): a seed and a shoot in network
# namespaces on this machine, the same topology as the end-to-end tests
# (tests/e2e/lib.sh). vpn-server runs in the seed, vpn-shoot in the shoot;
# a client in the seed, standing in for kube-apiserver, reaches a
# kubelet-like server on a shoot node and a pod behind it, through the
# tunnel. Then everything is torn down.
#
#   sudo BIN=build/bin tools/demo.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/e2e/lib.sh disable=SC2015
. "$root/tests/e2e/lib.sh"
E2E_NAME=demo

bold='' dim='' off=''
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	dim=$(tput dim 2>/dev/null || true)
	off=$(tput sgr0 2>/dev/null || true)
fi

chapter() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
narrate() { printf '%s\n' "$*" | fold -s -w 78; }
# show NS-LABEL NS CMD...: prints the command as typed in that namespace,
# runs it, prints its output indented.
show() {
	local label=$1 ns=$2 out rc=0; shift 2
	printf '%s[%s]$ %s%s\n' "$dim" "$label" "$*" "$off"
	out=$(nsx "$ns" "$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	[ $rc -eq 0 ] || fail "the demo failed: '$*' exited $rc"
}
# cmdline CMD...: a daemon's command line, one flag per line, paths short.
cmdline() {
	local a line
	line="    ${1##*/}"
	shift
	for a in "$@"; do
		a=${a//$PKI\//}
		a=${a//$E2E_T\//}
		case $a in
		--*) printf '%s%s \\%s\n' "$dim" "$line" "$off"; line="        $a" ;;
		*) line="$line $a" ;;
		esac
	done
	printf '%s%s%s\n' "$dim" "$line" "$off"
}

e2e_init
[ -x "$BIN/vpn-server" ] && [ -x "$BIN/vpn-shoot" ] ||
	fail "no binaries in $BIN: run make first (or sudo make demo)"

chapter "1. A seed and a shoot, in four network namespaces"
sed -n '/^# The topology/,/^# The seed reaches/p' "$root/tests/e2e/lib.sh" |
	sed '1,2d;$d;s/^#//'
narrate "The seed namespace stands for the seed cluster: vpn-server, and a client acting as kube-apiserver. The agent namespace is the shoot's vpn-shoot pod; behind it a shoot node runs a kubelet-like HTTP server on 10.250.0.10:10250, and a pod 100.96.0.5 serves HTTP on :8080, also as the service 100.64.0.10:80."
topo_up
apps_up
narrate "The seed has no route to the shoot yet:"
show seed "$NS_SEED" ip route

chapter "2. vpn-server in the seed"
server_cmd
narrate "It listens on [::]:$VPN_PORT (TLS 1.3, mutual authentication, ALPN tendril/1), takes fd8f:6d53:b97a:1::1 on $TUN_SEED and routes the shoot's networks into it:"
cmdline "${SERVER_CMD[@]}"
start_server

chapter "3. vpn-shoot in the shoot"
shoot_cmd
narrate "It dials the server, receives its address on the transfer network, masquerades what it forwards into the shoot and routes the answers back into the tunnel by firewall mark:"
cmdline "${SHOOT_CMD[@]}"
start_shoot
wait_tunnel 10
narrate "The tunnel is up. The seed now routes the shoot networks into $TUN_SEED:"
show seed "$NS_SEED" ip route
show seed "$NS_SEED" ip -6 route show dev "$TUN_SEED"

chapter "4. The seed reaches the shoot, through the tunnel"
narrate "kube-apiserver asks the kubelet on the node IP (the servers answer with what they saw: the client address is the agent's node address, because vpn-shoot masquerades):"
show seed "$NS_SEED" curl -sS --max-time 5 "http://$NODE4:$KUBELET_PORT/healthz"
show seed "$NS_SEED" curl -sS --max-time 5 "http://$NODE4:$KUBELET_PORT/containerLogs/kube-system/demo"
show seed "$NS_SEED" curl -sS -g --max-time 5 "http://[$NODE6]:$KUBELET_PORT/metrics"
narrate "A pod, directly and through its service IP (DNAT on the node):"
show seed "$NS_SEED" curl -sS --max-time 5 "http://$POD4:$POD_PORT/"
show seed "$NS_SEED" curl -sS -g --max-time 5 "http://[$POD6]:$POD_PORT/"
show seed "$NS_SEED" curl -sS --max-time 5 "http://$SVC4/"
show seed "$NS_SEED" ping -n -c 2 -i 0.2 "$POD4"
narrate "The seed's address 192.0.2.1 lies on the agent's own uplink; answers still came back through the tunnel: the seed drops shoot sources arriving on up0, and has dropped $(guard_drops) packets."

chapter "5. What the daemons say (their stats sockets)"
for side in server shoot; do
	printf '%s[%s]$ show tunnels%s\n' "$dim" "vpn-$side" "$off"
	stats "$side" show tunnels | column -t -s "$(printf '\t')" | sed 's/^/    /'
done

chapter "6. Teardown"
stop shoot TERM 5
narrate "vpn-shoot stopped on SIGTERM (exit $E2E_STATUS), telling the server."
stop server TERM 5
narrate "vpn-server stopped on SIGTERM (exit $E2E_STATUS)."
narrate "They removed what they had added: the seed's routes into the tunnel, the agent's firewall-mark rule and its nftables table (only the demo's own e2e_guard table is left in the seed):"
show seed "$NS_SEED" ip route
show agent "$NS_AGENT" ip rule
show agent "$NS_AGENT" nft list tables
show seed "$NS_SEED" nft list tables
narrate "The namespaces go now."
