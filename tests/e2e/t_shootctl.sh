#!/usr/bin/env bash
# shootctl --backend kubernetes: create writes the manifests and the PKI
# (keys 0600, the chain verifies with the openssl CLI), create again skips
# what is done, a bad spec names the field and line, delete leaves nothing.
# No namespaces needed.
set -euo pipefail
BIN=${BIN:-build/bin}
root=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
ctl=("$BIN/shootctl")
spec=$root/examples/shoot.yaml

"${ctl[@]}" create "$spec" --backend kubernetes --out "$t/o" | tee "$t/log"
grep -q '^create: done: 3 ok' "$t/log"
[ "$(stat -c %a "$t/o/pki/vpn-server.key")" = 600 ]
[ "$(stat -c %a "$t/o/seed.yaml")" = 600 ]
openssl verify -CAfile "$t/o/pki/ca.crt" -purpose sslserver "$t/o/pki/vpn-server.crt" >/dev/null
openssl verify -CAfile "$t/o/pki/ca.crt" -purpose sslclient "$t/o/pki/vpn-shoot-1.crt" >/dev/null
grep -q 'kind: StatefulSet' "$t/o/seed.yaml"
"${ctl[@]}" create "$spec" --backend kubernetes --out "$t/o" | grep -q '^\[skip\] generate-pki'
"${ctl[@]}" status "$spec" --backend kubernetes --out "$t/o" | grep -q 'render-shoot *done'

# rotate-ca on kubernetes: one phase at a time, the manifests rewritten
# after each (the Secrets carry the bundle the daemons trust)
certs_in() { grep -c 'BEGIN CERTIFICATE' "$1"; }
secret_ca_certs() {	# the vpn-seed-server Secret's ca.crt, decoded
	awk '/^  name: vpn-seed-server$/ { f = 1 } f && /^  ca.crt:/ { print $2; exit }' "$t/o/seed.yaml" |
		base64 -d | grep -c 'BEGIN CERTIFICATE'
}
if "${ctl[@]}" rotate-ca "$spec" --backend kubernetes --out "$t/o" 2>"$t/err"; then exit 1; fi
grep -q -- '--phase prepare' "$t/err"
"${ctl[@]}" rotate-ca "$spec" --backend kubernetes --out "$t/o" --phase prepare >/dev/null
[ "$(certs_in "$t/o/pki/ca-bundle.crt")" = 2 ] && [ "$(secret_ca_certs)" = 2 ]
openssl verify -CAfile "$t/o/pki/ca-old.crt" "$t/o/pki/vpn-server.crt" >/dev/null	# leaves untouched
"${ctl[@]}" rotate-ca "$spec" --backend kubernetes --out "$t/o" --phase reissue >/dev/null
openssl verify -CAfile "$t/o/pki/ca.crt" "$t/o/pki/vpn-server.crt" >/dev/null	# now the new CA's
[ "$(secret_ca_certs)" = 2 ]
"${ctl[@]}" rotate-ca "$spec" --backend kubernetes --out "$t/o" --phase complete >/dev/null
[ "$(certs_in "$t/o/pki/ca-bundle.crt")" = 1 ] && [ "$(secret_ca_certs)" = 1 ] && [ ! -e "$t/o/pki/ca-old.crt" ]

sed 's#pods: 100.96.0.0/11#pods: 100.96.0.0/33#' "$spec" >"$t/bad.yaml"
if "${ctl[@]}" render "$t/bad.yaml" --backend kubernetes --out "$t/x" 2>"$t/err"; then exit 1; fi
grep -q "spec.networking.pods: line 13: \`100.96.0.0/33' is not a CIDR" "$t/err"

# --kubeconfig: applied with kubectl; a seed that cannot be reached fails
# the apply (retried, then reported), and the state shows where it stopped
cat >"$t/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters: [{name: seed, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: admin, user: {token: none}}]
contexts: [{name: seed, context: {cluster: seed, user: admin}}]
current-context: seed
EOF
if "${ctl[@]}" create "$spec" --backend kubernetes --out "$t/k" --kubeconfig "$t/kubeconfig" >"$t/klog" 2>&1; then
	echo "create against an unreachable seed succeeded"; exit 1
fi
grep -q '^\[fail\] apply-seed .*kubectl .*127.0.0.1:9' "$t/klog" || { cat "$t/klog"; exit 1; }
"${ctl[@]}" status "$spec" --backend kubernetes --out "$t/k" --kubeconfig "$t/kubeconfig" >"$t/kstatus"
grep -q 'render-seed *done' "$t/kstatus" && grep -q 'apply-seed *pending' "$t/kstatus" || { cat "$t/kstatus"; exit 1; }
if "${ctl[@]}" create "$spec" --backend local --kubeconfig "$t/kubeconfig" 2>"$t/err"; then exit 1; fi
grep -q -- '--kubeconfig goes with --backend kubernetes' "$t/err"

"${ctl[@]}" delete "$spec" --backend kubernetes --out "$t/o" | grep -q '^delete: done'
[ ! -e "$t/o" ]
echo "t_shootctl: ok"
