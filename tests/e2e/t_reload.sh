#!/usr/bin/env bash
# Certificate rotation without dropping tunnels. The server's certificate,
# key and CA live in a directory laid out like a Kubernetes secret volume
# (files are symlinks through "..data", which an update swaps atomically).
# Gardener's CA rotation is played through: a bundle of the old and the new
# CA (peers of both are admitted), then a server certificate from the new
# CA, then a broken PEM (refused, the old material stays). The agent's
# tunnel stays up, with the same id, through all of it.
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
need_bins
topo_up
apps_up

SEC=$E2E_T/secret
gen=0
# publish CERT KEY CA...: a new version of the volume, swapped in as
# kubelet does (write a new directory, rename a new ..data link over it).
publish() {
	local crt=$1 key=$2; shift 2
	gen=$((gen + 1))
	mkdir -p "$SEC/..v$gen"
	cp "$crt" "$SEC/..v$gen/tls.crt"
	cp "$key" "$SEC/..v$gen/tls.key"
	chmod 0600 "$SEC/..v$gen/tls.key"
	cat "$@" >"$SEC/..v$gen/ca.crt"
	ln -sfn "..v$gen" "$SEC/..data_tmp"
	mv -T "$SEC/..data_tmp" "$SEC/..data"
}
mkdir -p "$SEC"
publish "$PKI/server.crt" "$PKI/server.key" "$PKI/ca.crt"
for f in tls.crt tls.key ca.crt; do ln -s "..data/$f" "$SEC/$f"; done

start_server --cert "$SEC/tls.crt" --key "$SEC/tls.key" --ca "$SEC/ca.crt"
start_shoot
wait_tunnel 10
check_traffic
id0=$(table_col server "show tunnels" id)

step "a new CA"
bash "$E2E_DIR/../pki.sh" "$E2E_T/pki2" >/dev/null 2>&1 || fail "tests/pki.sh for the new CA"
P2=$E2E_T/pki2

# hello_as CERT KEY TRUST: a fresh handshake with that client certificate,
# trusting TRUST for the server; prints badpeer's result line.
hello_as() {
	badpeer hello --vmin 1 --vmax 1 --cert "$1" --key "$2" --ca "$3" | grep '^result:'
}

step "before: a client certificate of the new CA is refused"
assert_contains "$(hello_as "$P2/shoot-1.crt" "$P2/shoot-1.key" "$PKI/ca.crt")" "result: tls-error" \
	"handshake with a new-CA client certificate before the rotation"

step "phase 1: the volume gets the bundle old+new CA, noticed on disk"
log_mark server
publish "$PKI/server.crt" "$PKI/server.key" "$PKI/ca.crt" "$P2/ca.crt"
log_wait server 5 "certificate files changed on disk" >/dev/null
log_wait server 2 "reloaded certificate" >/dev/null
assert_contains "$(hello_as "$P2/shoot-1.crt" "$P2/shoot-1.key" "$PKI/ca.crt")" "result: welcome" \
	"new-CA client certificate with the bundle"
assert_contains "$(hello_as "$PKI/shoot-1.crt" "$PKI/shoot-1.key" "$PKI/ca.crt")" "result: welcome" \
	"old-CA client certificate with the bundle"

step "phase 2: the server's certificate comes from the new CA"
log_mark server
publish "$P2/server.crt" "$P2/server.key" "$PKI/ca.crt" "$P2/ca.crt"
log_wait server 5 "reloaded certificate" >/dev/null
assert_contains "$(hello_as "$PKI/shoot-1.crt" "$PKI/shoot-1.key" "$P2/ca.crt")" "result: welcome" \
	"a client that trusts only the new CA"

step "a broken PEM is refused by SIGHUP and by reload; the old material stays"
log_mark server
gen=$((gen + 1))
mkdir -p "$SEC/..v$gen"
echo "-----BEGIN CERTIFICATE----- garbage" >"$SEC/..v$gen/tls.crt"
cp "$P2/server.key" "$SEC/..v$gen/tls.key"
cat "$PKI/ca.crt" "$P2/ca.crt" >"$SEC/..v$gen/ca.crt"
ln -sfn "..v$gen" "$SEC/..data_tmp"
mv -T "$SEC/..data_tmp" "$SEC/..data"
log_wait server 5 "reload failed, keeping the old certificates" >/dev/null
kill -HUP "$(pid_of server)"
out=$(stats server reload) || true
assert_contains "$out" "error: reload failed" "answer to reload with a broken certificate"
assert_contains "$(hello_as "$PKI/shoot-1.crt" "$PKI/shoot-1.key" "$P2/ca.crt")" "result: welcome" \
	"a new handshake after the failed reload (new-CA server certificate kept)"

step "the agent's tunnel never went down"
assert_eq "$(table_col server "show tunnels" id | sed -n 1p)" "$id0" "tunnel id on the server"
assert_eq "$(table_col shoot "show tunnels" reconnects)" 0 "agent reconnects"
check_traffic
pass
