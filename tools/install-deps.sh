#!/usr/bin/env bash
# Installs the Debian packages tendril needs to build, test and demo, if any
# is missing. Quiet when nothing is missing. As root it installs them with
# apt-get; otherwise it names them and exits 1.
set -euo pipefail

need=(gcc make pkg-config libssl-dev libgcrypt20-dev libuv1-dev libmnl-dev libnftnl-dev
      libcmocka-dev libcap-dev libyaml-dev nftables prometheus iproute2 socat curl python3 iputils-ping clang openvpn iperf3 tinyproxy
      python3-yaml python3-jsonschema python3-kubernetes)
# shootctl --kubeconfig drives kubectl; Debian's is kubernetes-client (any
# kubectl already on PATH does as well).
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
# The fuzz targets want clang's runtime (libFuzzer, sanitizers); that
# package is named after clang's major version and is not everywhere.
optional=(libclang-rt-14-dev)

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: not a Debian-like system; install by hand: ${need[*]}" >&2
	exit 1
fi

missing=()
for p in "${need[@]}"; do
	installed "$p" || missing+=("$p")
done
missing_opt=()
for p in "${optional[@]}"; do
	installed "$p" || missing_opt+=("$p")
done

[ ${#missing[@]} -eq 0 ] && [ ${#missing_opt[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if [ ${#missing[@]} -eq 0 ]; then
		# Only optional packages are missing: not worth failing for.
		exit 0
	fi
	echo "install-deps: missing Debian packages: ${missing[*]}" >&2
	echo "install-deps: run as root (sudo make deps) or: apt-get install ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing: ${missing[*]} ${missing_opt[*]}" >&2
apt-get update -qq
# Optional packages are installed only where the archive has them.
for p in "${missing_opt[@]}"; do
	if apt-cache show "$p" >/dev/null 2>&1; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
