#!/usr/bin/env bash
# Creates the test PKI in DIR with the openssl CLI: EC P-256 keys (fast),
# keys mode 0600.
#
#   ca.crt ca.key                 the shoot's own CA (signs both sides)
#   server.crt server.key         CN vpn-server, SAN DNS:vpn-server, serverAuth
#   shoot.crt shoot.key           CN vpn-shoot, clientAuth
#   shoot-1.crt shoot-1.key       CN vpn-shoot-1 (an HA replica), clientAuth;
#                                 PKI_REPLICAS=N (default 1) makes shoot-1
#                                 to shoot-N (bench/run.sh's extra agents)
#   intruder.crt intruder.key     CN intruder, signed by ca: identity not allowed
#   expired.crt expired.key       CN vpn-shoot, signed by ca, expired in 2020
#   other-ca.crt other-ca.key     an unrelated CA
#   other.crt other.key           CN vpn-shoot, signed by other-ca
#   proxy.crt proxy.key           the HTTP CONNECT proxy: CN vpn-server, SAN
#                                 DNS:vpn-server, IP:192.0.2.1 (the seed's
#                                 uplink in tests/e2e), serverAuth
#   apiserver.crt apiserver.key   CN kube-apiserver-http-proxy-client (as
#                                 Gardener names kube-apiserver's egress
#                                 client), clientAuth
#   apiserver-other.crt .key      the same CN, signed by other-ca
#   kubelet.crt kubelet.key       the e2e HTTPS servers behind the agent: SAN
#                                 IP:10.250.0.10, IP:2001:db8:250::10,
#                                 IP:100.96.0.5, IP:2001:db8:96::5,
#                                 IP:100.64.0.10, serverAuth
#
# Usage: tests/pki.sh DIR
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

openssl_q() {
	local out
	if ! out=$(openssl "$@" 2>&1); then
		echo "pki.sh: openssl $1 failed:" >&2
		echo "$out" >&2
		exit 1
	fi
}

genkey() {
	(umask 077 && openssl_q genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$1.key")
	chmod 0600 "$1.key"
}

# ca NAME CN
mkca() {
	genkey "$1"
	openssl_q req -x509 -new -key "$1.key" -out "$1.crt" -days 3650 \
		-subj "/O=tendril e2e/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash"
}

# leaf NAME CN CA EKU [SAN]  (SAN defaults to DNS:CN)
mkleaf() {
	local name=$1 cn=$2 ca=$3 eku=$4 san=${5:-DNS:$2}
	genkey "$name"
	openssl_q req -new -key "$name.key" -out "$name.csr" -subj "/CN=$cn"
	cat >"$name.ext" <<-EOF
	basicConstraints=critical,CA:FALSE
	keyUsage=critical,digitalSignature
	extendedKeyUsage=$eku
	subjectAltName=$san
	subjectKeyIdentifier=hash
	authorityKeyIdentifier=keyid
	EOF
	openssl_q x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" \
		-CAcreateserial -days 825 -sha256 -extfile "$name.ext" \
		-out "$name.crt"
	rm -f "$name.csr" "$name.ext"
}

mkca ca "tendril e2e shoot CA"
mkleaf server vpn-server ca serverAuth
mkleaf shoot vpn-shoot ca clientAuth
for ((r = 1; r <= ${PKI_REPLICAS:-1}; r++)); do
	mkleaf "shoot-$r" "vpn-shoot-$r" ca clientAuth
done
mkleaf intruder intruder ca clientAuth

mkleaf proxy vpn-server ca serverAuth "DNS:vpn-server,IP:192.0.2.1"
mkleaf apiserver kube-apiserver-http-proxy-client ca clientAuth
mkleaf kubelet kubelet ca serverAuth \
	"DNS:kubelet,IP:10.250.0.10,IP:2001:db8:250::10,IP:100.96.0.5,IP:2001:db8:96::5,IP:100.64.0.10"

mkca other-ca "an unrelated CA"
mkleaf other vpn-shoot other-ca clientAuth
mkleaf apiserver-other kube-apiserver-http-proxy-client other-ca clientAuth

# An expired certificate: `openssl x509` cannot backdate, `openssl ca` can.
work=$(mktemp -d "$dir/.ca.XXXXXX")
: >"$work/index.txt"
echo 1000 >"$work/serial"
cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = e2e
[e2e]
dir = $work
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
x509_extensions = client
[anything]
commonName = supplied
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:vpn-shoot
EOF
genkey expired
openssl_q req -new -key expired.key -out "$work/expired.csr" -subj "/CN=vpn-shoot"
openssl_q ca -batch -notext -config "$work/ca.cnf" -in "$work/expired.csr" \
	-startdate 20200101000000Z -enddate 20200201000000Z -out expired.crt
rm -rf "$work" ca.srl other-ca.srl
chmod 0644 ./*.crt
