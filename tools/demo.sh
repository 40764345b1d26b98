#!/usr/bin/env bash
# The tendril demo (sudo make demo): shootctl's local backend creates the
# example shoot on this machine (examples/shoot.yaml: an HA VPN, two
# machines), each step real: network namespaces for the seed, its
# control-plane pods, the shoot's cloud network, machines and pods;
# vpn-server and vpn-shoot with a freshly made PKI; and kube-apiserver's
# path through the HTTP CONNECT proxy checked. Then the demo looks around
# as an operator would, rotates the CA with the tunnels up, and deletes the
# shoot, which leaves nothing behind.
#
#   sudo BIN=build/bin tools/demo.sh [SPEC]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$root/build/bin}
spec=${1:-$root/examples/shoot.yaml}
ctl=("$BIN/shootctl")

bold='' dim='' off=''
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	dim=$(tput dim 2>/dev/null || true)
	off=$(tput sgr0 2>/dev/null || true)
fi
chapter() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
narrate() { printf '%s\n' "$*" | fold -s -w 78; }
fail() { echo "demo: $*" >&2; exit 1; }
# show WHERE CMD...: the command as typed (in a namespace unless WHERE is
# "host"), then its output indented; a failing command ends the demo.
show() {
	local where=$1 out rc=0; shift
	printf '%s[%s]$ %s%s\n' "$dim" "$where" "$*" "$off"
	if [ "$where" = host ]; then
		out=$("$@" 2>&1) || rc=$?
	else
		out=$(ip netns exec "$ns-$where" "$@" 2>&1) || rc=$?
	fi
	printf '%s\n' "$out" | sed 's/^/    /'
	[ $rc -eq 0 ] || fail "'$*' exited $rc"
}

[ "$(id -u)" = 0 ] || fail "needs root (network namespaces): sudo make demo"
[ -x "${ctl[0]}" ] || fail "no binaries in $BIN: run make first (or sudo make demo)"
name=$(sed -n 's/^  name: *//p' "$spec" | head -1)
project=$(sed -n 's/^  namespace: *garden-\([a-z0-9-]*\).*/\1/p' "$spec" | head -1)
ns=shoot--$project--$name
state=/run/shootctl/$ns
# whatever happens, the shoot goes at the end
trap '"${ctl[@]}" delete "$spec" >/dev/null 2>&1 || true' EXIT
"${ctl[@]}" delete "$spec" >/dev/null 2>&1 || true	# a leftover of an interrupted demo

chapter "1. The shoot"
narrate "A Shoot in Gardener's shape, reduced to what the VPN needs:"
grep -v '^#' "$spec" | sed 's/^/    /'

chapter "2. shootctl create: the provisioning flow"
narrate "Tasks run as a graph, independent ones in parallel, each retried with backoff; the state is saved after each, so an interrupted create resumes. The last task does what kube-apiserver does: through the CONNECT proxy of each vpn-server, with its client certificate, it reaches every kubelet (HTTPS), every pod and the service."
show host "${ctl[@]}" create "$spec"

chapter "3. shootctl status: tasks, processes, tunnels"
narrate "The tunnels' health comes from the daemons' stats sockets. In HA every agent has a tunnel to every server:"
show host "${ctl[@]}" status "$spec"
narrate "The network namespaces it made:"
show host sh -c "ip netns list | grep '^$ns-' | sort"

chapter "4. kube-apiserver's path, by hand"
narrate "curl in the kube-apiserver pod, as its egress selector connects: TLS to the proxy with the client certificate, CONNECT, then the kubelet's own TLS inside. The answers name the address they saw the request come from: the agent's pod address (vpn-shoot masquerades), and the two agents share the work:"
proxy=(curl -sS --max-time 5 --proxytunnel --proxy https://vpn-seed-server:9443
	--resolve vpn-seed-server:9443:198.51.100.10
	--proxy-cacert "$state/pki/ca-bundle.crt"
	--proxy-cert "$state/pki/kube-apiserver-http-proxy-client.crt"
	--proxy-key "$state/pki/kube-apiserver-http-proxy-client.key")
show kube-apiserver "${proxy[@]}" --cacert "$state/kubelet-pki/ca.crt" https://10.250.0.10:10250/containerLogs/kube-system/demo
show kube-apiserver "${proxy[@]}" http://100.96.1.10:8080/
show kube-apiserver "${proxy[@]}" http://100.64.0.10/
narrate "Without the client certificate the proxy refuses the connection:"
printf '%s[kube-apiserver]$ curl … (no --proxy-cert) http://100.96.1.10:8080/%s\n' "$dim" "$off"
if ip netns exec "$ns-kube-apiserver" curl -sS --max-time 5 --proxytunnel \
	--proxy https://vpn-seed-server:9443 --resolve vpn-seed-server:9443:198.51.100.10 \
	--proxy-cacert "$state/pki/ca-bundle.crt" http://100.96.1.10:8080/ 2>&1 | sed 's/^/    /'; then
	:
fi
narrate "The vpn-server pod routes the shoot's networks into its TUN device:"
show vpn-seed-server-0 ip route
show vpn-seed-server-0 ping -n -c 2 -i 0.2 100.96.0.10

chapter "5. The shoot cannot reach into the seed"
narrate "The shoot's nodes reach the seed's public address, but the seed's router forwards from outside only what goes to the tunnel port or answers a connection from inside:"
printf '%s[node-0]$ curl --max-time 1 http://198.51.100.20/%s\n' "$dim" "$off"
if ip netns exec "$ns-node-0" curl -sS --max-time 1 http://198.51.100.20/ 2>&1 | sed 's/^/    /'; then
	fail "a shoot node reached the seed's kube-apiserver pod"
fi
show seed nft list chain ip shootctl forward

chapter "6. What the daemons say"
show host "$BIN/vpnctl" -s "$state/vpn-seed-server-0.sock" show info
show host "$BIN/vpnctl" -s "$state/vpn-shoot-0.sock" show stat

chapter "7. A CA rotation, tunnels up throughout"
narrate "A new CA joins the bundle, the leaves move to it, the old CA goes; every daemon reloads after each step, and no tunnel goes down:"
show host "${ctl[@]}" rotate-ca "$spec"

chapter "8. shootctl delete"
show host "${ctl[@]}" delete "$spec"
left=$(ip netns list | grep -c "^$ns-" || true)
narrate "Namespaces of the shoot left: $left; state directory: $([ -e "$state" ] && echo "still there" || echo gone)."
[ "$left" = 0 ] && [ ! -e "$state" ] || fail "delete left something behind"
trap - EXIT
printf '\n%sdemo: ok%s\n' "$bold" "$off"
