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

sed 's#pods: 100.96.0.0/11#pods: 100.96.0.0/33#' "$spec" >"$t/bad.yaml"
if "${ctl[@]}" render "$t/bad.yaml" --backend kubernetes --out "$t/x" 2>"$t/err"; then exit 1; fi
grep -q "spec.networking.pods: line 13: \`100.96.0.0/33' is not a CIDR" "$t/err"
if "${ctl[@]}" create "$spec" --backend kubernetes --out "$t/o" --kubeconfig /dev/null 2>"$t/err"; then exit 1; fi
grep -q 'not implemented' "$t/err"

"${ctl[@]}" delete "$spec" --backend kubernetes --out "$t/o" | grep -q '^delete: done'
[ ! -e "$t/o" ]
echo "t_shootctl: ok"
