#!/usr/bin/env bash
# The agent dials through an HTTP CONNECT proxy, as Gardener's agents reach
# the seed through its Istio ingress: tinyproxy (from Debian) listens on the
# seed's uplink at :8443 and stands in for the ingress. vpn-shoot runs with
# --http-proxy and --proxy-header (the X-Gardener-Destination header the
# ingress routes on); the proxy logs the CONNECT, the tunnel comes up and
# carries traffic. A proxy that refuses the CONNECT is reported with its
# answer and retried with backoff, and the agent gets through once the
# proxy lets it.
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
command -v tinyproxy >/dev/null || fail "tinyproxy is missing (tools/install-deps.sh installs it)"
need_bins
topo_up
apps_up

# proxy_conf PORT: tinyproxy allowing CONNECT to PORT only.
proxy_conf() {
	cat >"$E2E_T/tinyproxy.conf" <<EOT
Port 8443
Listen $SEED_UP4
Timeout 60
MaxClients 16
LogLevel Connect
LogFile "$E2E_T/tinyproxy.out"
Allow $AGENT_UP4
ConnectPort $1
EOT
}

step "an ingress that refuses CONNECT to the VPN port"
proxy_conf 9999
spawn proxy "$NS_SEED" tinyproxy -d -c "$E2E_T/tinyproxy.conf"
wait_for 5 "tinyproxy on $SEED_UP4:8443" listening "$NS_SEED" 8443
start_server
HDR='X-Gardener-Destination: outbound|1194||vpn-seed-server.shoot--e2e.svc.cluster.local'
start_shoot --http-proxy "$SEED_UP4:8443" --proxy-header "$HDR"
line=$(log_wait shoot 5 "HTTP proxy .* refused CONNECT")
step "shoot: $line"
assert_contains "$line" "403" "the proxy's status in the agent's log"
tunnels_up_is shoot 0 || fail "a tunnel came up through a refusing proxy"

step "the ingress lets it through: the agent's next attempt gets in"
stop proxy TERM 5
proxy_conf "$VPN_PORT"
spawn proxy2 "$NS_SEED" tinyproxy -d -c "$E2E_T/tinyproxy.conf"
wait_tunnel 15
check_traffic
grep -q "CONNECT $SEED_UP4:$VPN_PORT" "$E2E_T/tinyproxy.out" ||
	fail "tinyproxy logged no CONNECT to $SEED_UP4:$VPN_PORT: $(tail -n 5 "$E2E_T/tinyproxy.out")"
remote=$(table_col server "show tunnels" remote | sed -n 1p)
step "vpn-server sees the tunnel coming from the proxy: $remote"
pass
