#!/usr/bin/env bash
# Configuration errors exit 2 with exactly one line on stderr naming the
# flag: a missing certificate or key file, an unparsable CIDR, a port in
# use.
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
need_bins
topo_up

# expect_config_error WHAT FLAG NEEDLE CMD...: exit 2, one stderr line that
# names FLAG and contains NEEDLE.
expect_config_error() {
	local what=$1 flag=$2 needle=$3 rc=0 err lines; shift 3
	step "$what"
	timeout 10 ip netns exec "$NS_SEED" "$@" >"$E2E_T/cfg.out" 2>"$E2E_T/cfg.err" || rc=$?
	err=$(cat "$E2E_T/cfg.err")
	[ "$rc" -ne 124 ] || fail "$what: still running after 10 s (no error detected)"
	assert_eq "$rc" 2 "$what: exit status (stderr: $err)"
	lines=$(wc -l <"$E2E_T/cfg.err")
	assert_eq "$lines" 1 "$what: lines on stderr ($err)"
	assert_contains "$err" "$flag" "$what: stderr names the flag"
	assert_contains "$err" "$needle" "$what: stderr says what is wrong"
	step "  -> $err"
}

server_cmd
shoot_cmd
expect_config_error "vpn-server: missing --cert file" --cert /nonexistent \
	"${SERVER_CMD[@]}" --cert /nonexistent/tls.crt
expect_config_error "vpn-server: missing --key file" --key /nonexistent \
	"${SERVER_CMD[@]}" --key /nonexistent/tls.key
expect_config_error "vpn-server: missing --ca file" --ca /nonexistent \
	"${SERVER_CMD[@]}" --ca /nonexistent/ca.crt
expect_config_error "vpn-shoot: missing --cert file" --cert /nonexistent \
	"${SHOOT_CMD[@]}" --cert /nonexistent/tls.crt
expect_config_error "vpn-server: prefix length 33" --shoot-networks 10.250.0.0/33 \
	"${SERVER_CMD[@]}" --shoot-networks 10.250.0.0/33
expect_config_error "vpn-server: not a CIDR" --shoot-networks not-a-cidr \
	"${SERVER_CMD[@]}" --shoot-networks 10.250.0.0/24,not-a-cidr
expect_config_error "vpn-server: bad --vpn-network" --vpn-network fd8f::zz \
	"${SERVER_CMD[@]}" --vpn-network fd8f::zz/96

cp "$PKI/server.key" "$E2E_T/open.key"
chmod 0644 "$E2E_T/open.key"
expect_config_error "vpn-server: a private key others can read" --key "accessible by others" \
	"${SERVER_CMD[@]}" --key "$E2E_T/open.key"
expect_config_error "vpn-server: --user that does not exist" --user "not a user" \
	"${SERVER_CMD[@]}" --user no-such-user-here
expect_config_error "vpn-server: --metrics-listen not ADDR:PORT" --metrics-listen "not ADDR:PORT" \
	"${SERVER_CMD[@]}" --metrics-listen localhost

spawn squatter "$NS_SEED" socat "TCP4-LISTEN:$VPN_PORT,bind=$SEED_UP4,reuseaddr,fork" /dev/null
wait_for 5 "a listener on $SEED_UP4:$VPN_PORT" listening "$NS_SEED" "$VPN_PORT"
expect_config_error "vpn-server: --listen port in use" --listen "Address already in use" \
	"${SERVER_CMD[@]}" --listen "$SEED_UP4:$VPN_PORT"

step "nothing left behind by the failed starts"
if ip -n "$NS_SEED" link show "$TUN_SEED" >/dev/null 2>&1; then
	fail "$TUN_SEED left in the seed namespace"
fi
pass
