#!/usr/bin/env bash
# shootctl --backend local, the whole flow on this machine:
#  - a create killed (SIGKILL) in the middle resumes where it stopped and
#    ends with kube-apiserver's path checked (every kubelet, pod, service);
#  - that path works for curl too, as kube-apiserver's egress would use it;
#  - the shoot cannot reach into the seed: the seed's filter drops it;
#  - rotate-ca keeps the tunnel up; afterwards a new agent with the new
#    certificates connects and one with the old ones is refused;
#  - delete leaves no namespace, process or file;
#  - an HA shoot has two servers and two agents, each agent a tunnel to each.
set -euo pipefail
BIN=${BIN:-build/bin}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d)
name=l$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ns=shoot--e2e--$name
dir=$t/state
ctl=("$BIN/shootctl")
extra=

cleanup() {
	local n pid
	[ -z "$extra" ] || kill -KILL "$extra" 2>/dev/null || true
	for spec in "$t/single.yaml" "$t/ha.yaml"; do
		[ -f "$spec" ] && "${ctl[@]}" delete "$spec" --out "$dir" >/dev/null 2>&1 || true
	done
	for n in $(ip netns list | awk '{ print $1 }' | grep "^$ns-" || true); do
		for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		ip netns del "$n" 2>/dev/null || true
	done
	rm -rf "$t"
}
trap cleanup EXIT
fail() { echo "t_shootctl_local: $*" >&2; exit 1; }
nsx() { local n=$1; shift; ip netns exec "$ns-$n" "$@"; }
our_ns() { ip netns list | awk '{ print $1 }' | grep -c "^$ns-" || true; }

sed -e "s/^  name: demo/  name: $name/" -e 's/garden-dev/garden-e2e/' \
	"$root/examples/shoot.yaml" >"$t/ha.yaml"
sed '/controlPlane:/,$d' "$t/ha.yaml" >"$t/single.yaml"

# ---- a create killed in the middle, then resumed ----
killed=0
for attempt in 1 2 3; do
	"${ctl[@]}" create "$t/single.yaml" --out "$dir" >"$t/create1.log" 2>&1 &
	pid=$!
	# the moment vpn-seed-server is up, vpn-shoot and the check are still ahead
	for _ in $(seq 1 2000); do
		grep -q '^\[ok\] vpn-seed-server' "$t/create1.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.002
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if ! grep -q '^done check-apiserver-path' "$dir/.shootctl-state" 2>/dev/null; then
		killed=1
		break
	fi
	"${ctl[@]}" delete "$t/single.yaml" --out "$dir" >/dev/null	# too late: again
done
[ $killed = 1 ] || fail "create finished each time before it could be killed"
"${ctl[@]}" status "$t/single.yaml" --out "$dir" >"$t/status1"
grep -q 'generate-pki *done' "$t/status1" || fail "status after the kill: $(cat "$t/status1")"
grep -q 'check-apiserver-path *pending' "$t/status1" || fail "status after the kill: $(cat "$t/status1")"

"${ctl[@]}" create "$t/single.yaml" --out "$dir" >"$t/create2.log" 2>&1 ||
	fail "resumed create failed: $(cat "$t/create2.log")"
grep -q '^\[skip\] generate-pki (done in an earlier run)' "$t/create2.log" ||
	fail "the resume redid generate-pki: $(cat "$t/create2.log")"
grep -q '^create: done' "$t/create2.log" || fail "$(cat "$t/create2.log")"
for what in 'kubelet node-0 .*: 200 ok' 'kubelet node-1 .*: 200 ok' 'pod web-1 .*: 200 web-1' \
	    'service web .*: 200 web-'; do
	grep -q "kube-apiserver -> $what" "$t/create2.log" || fail "no '$what' in: $(cat "$t/create2.log")"
done
"${ctl[@]}" status "$t/single.yaml" --out "$dir" >"$t/status2"
grep -q 'vpn-seed-server .*running  tunnels up 1' "$t/status2" || fail "$(cat "$t/status2")"
grep -q 'vpn-shoot .*running  tunnels up 1' "$t/status2" || fail "$(cat "$t/status2")"

# ---- kube-apiserver's path, with curl ----
curl_api() {
	# the proxy's certificate names its Service, as kube-apiserver dials it
	nsx kube-apiserver curl -sS --max-time 5 --proxytunnel --proxy https://vpn-seed-server:9443 \
		--resolve vpn-seed-server:9443:198.51.100.10 \
		--proxy-cacert "$dir/pki/ca-bundle.crt" \
		--proxy-cert "$dir/pki/kube-apiserver-http-proxy-client.crt" \
		--proxy-key "$dir/pki/kube-apiserver-http-proxy-client.key" "$@"
}
out=$(curl_api --cacert "$dir/kubelet-pki/ca.crt" https://10.250.0.11:10250/pods)
case $out in "node-1: /pods from 100.96.0.2 at 10.250.0.11"*) ;; *) fail "kubelet via curl: $out" ;; esac
out=$(curl_api http://100.96.0.10:8080/x)
case $out in "web-0: /x from 100.96.0.2"*) ;; *) fail "pod via curl: $out" ;; esac

# ---- the shoot does not reach into the seed ----
drops() { nsx seed nft list chain ip shootctl forward | sed -n 's/.*counter packets \([0-9]*\).*drop/\1/p'; }
before=$(drops)
if nsx node-0 curl -s --max-time 1 -o /dev/null http://198.51.100.10:15000/metrics; then
	fail "a shoot node reached the seed's vpn-server pod"
fi
if nsx vpn-shoot curl -s --max-time 1 -o /dev/null http://198.51.100.20/; then
	fail "the agent's pod reached the seed's kube-apiserver pod"
fi
[ "$(drops)" -gt "$before" ] || fail "the seed's filter counted no drop ($before -> $(drops))"
# while the tunnel port is open to it
nsx node-0 bash -c 'exec 3<>/dev/tcp/192.0.2.1/1194' || fail "the tunnel port is closed to the shoot"

# ---- CA rotation, tunnel up throughout ----
mkdir "$t/old"
cp "$dir/pki/vpn-shoot.crt" "$dir/pki/vpn-shoot.key" "$dir/pki/ca-bundle.crt" "$t/old/"
"${ctl[@]}" rotate-ca "$t/single.yaml" --out "$dir" >"$t/rotate.log" 2>&1 ||
	fail "rotate-ca: $(cat "$t/rotate.log")"
grep -q 'tunnels stayed up' "$t/rotate.log" || fail "$(cat "$t/rotate.log")"
grep -q 'kube-apiserver -> kubelet node-0 .*200 ok' "$t/rotate.log" || fail "$(cat "$t/rotate.log")"
[ "$(grep -c 'BEGIN CERTIFICATE' "$dir/pki/ca-bundle.crt")" = 1 ] || fail "the old CA is still trusted"
if openssl verify -CAfile "$dir/pki/ca-bundle.crt" "$t/old/vpn-shoot.crt" >/dev/null 2>&1; then
	fail "the old agent certificate still verifies"
fi
# an agent that dials now: new certificates in, old ones out. The shoot's
# own agent steps aside first (same identity: each would replace the
# other's tunnel); delete comes next anyway.
own=$(awk '{ print $1 }' "$dir/vpn-shoot.pid")
kill "$own"
# its cleanup removes a rule and a table the next agent would share
for _ in $(seq 1 100); do [ -d "/proc/$own" ] || break; sleep 0.05; done
agent() {	# CERT_DIR CA: an agent in the agent's pod
	ip netns exec "$ns-vpn-shoot" "$BIN/vpn-shoot" --cert "$1/vpn-shoot.crt" \
		--key "$1/vpn-shoot.key" --ca "$2" --dev tun1 --server 192.0.2.1:1194 \
		--stats-socket "$t/extra.sock" --metrics-listen 127.0.0.1:15011 \
		--reconnect-max 1 >>"$t/extra.log" 2>&1 &
	extra=$!
}
up_of() { "$BIN/vpnctl" -s "$t/extra.sock" show info 2>/dev/null | sed -n 's/^tunnels_up: //p'; }
agent "$dir/pki" "$dir/pki/ca-bundle.crt"
for _ in $(seq 1 100); do [ "$(up_of)" = 1 ] && break; sleep 0.05; done
[ "$(up_of)" = 1 ] || fail "an agent with the new certificates did not connect: $(tail -3 "$t/extra.log")"
kill "$extra"; wait "$extra" || true
: >"$t/extra.log"
agent "$t/old" "$t/old/ca-bundle.crt"
# refused: its handshake fails on the certificate (it retries, and fails again)
for _ in $(seq 1 200); do grep -q 'certificate' "$t/extra.log" && break; sleep 0.05; done
grep -q 'certificate' "$t/extra.log" || fail "no certificate error logged: $(cat "$t/extra.log")"
[ "$(up_of)" = 0 ] || fail "an agent with the old certificates connected: $(cat "$t/extra.log")"
kill "$extra"; wait "$extra" || true
extra=

# ---- somebody's directory is not a state directory ----
mkdir "$t/mine"; echo keep >"$t/mine/file"
if "${ctl[@]}" create "$t/single.yaml" --out "$t/mine" 2>"$t/err"; then fail "create took a foreign directory"; fi
grep -q 'not a shootctl state directory' "$t/err" || fail "$(cat "$t/err")"
[ "$(cat "$t/mine/file")" = keep ] || fail "the foreign directory was touched"

# ---- delete leaves nothing ----
pids=$(cat "$dir"/*.pid | awk '{ print $1 }')
"${ctl[@]}" delete "$t/single.yaml" --out "$dir" >"$t/delete.log" 2>&1 || fail "$(cat "$t/delete.log")"
[ "$(our_ns)" = 0 ] || fail "namespaces left: $(ip netns list | grep "^$ns-")"
for p in $pids; do
	if [ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status"; then fail "process $p left"; fi
done
[ ! -e "$dir" ] || fail "$dir left: $(ls -A "$dir")"

# ---- HA: two servers, two agents, a tunnel from each agent to each server ----
"${ctl[@]}" create "$t/ha.yaml" --out "$dir" >"$t/ha.log" 2>&1 || fail "HA create: $(cat "$t/ha.log")"
[ "$(grep -c 'kube-apiserver -> .*: 200 ' "$t/ha.log")" = 10 ] || fail "$(cat "$t/ha.log")"
"${ctl[@]}" status "$t/ha.yaml" --out "$dir" >"$t/status3"
[ "$(grep -c 'running  tunnels up 2' "$t/status3")" = 4 ] || fail "$(cat "$t/status3")"
"${ctl[@]}" delete "$t/ha.yaml" --out "$dir" >/dev/null
[ "$(our_ns)" = 0 ] || fail "HA namespaces left"
[ ! -e "$dir" ] || fail "$dir left after the HA delete"
echo "t_shootctl_local: ok"
