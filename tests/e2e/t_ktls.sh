#!/usr/bin/env bash
# --ktls on asks OpenSSL for kernel TLS; where the kernel (the "tls" TCP
# ULP) or OpenSSL cannot give it, the tunnel runs exactly as without it.
# Both daemons ask here: the tunnel comes up, traffic flows, `show info`
# says what this machine offers, and ktls_tunnels counts a tunnel the
# kernel encrypts for only when the kernel has the ULP at all.
# Topology: tests/e2e/lib.sh (topo_up), drawn in t_ping.sh.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
SERVER_EXTRA=(--ktls on)
SHOOT_EXTRA=(--ktls on)
e2e_up
check_traffic

for side in server shoot; do
	line=$(stats "$side" show info | sed -n 's/^ktls: //p')
	if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp; then
		assert_contains "$line" "the kernel offers it" "vpn-$side's ktls line"
	else
		assert_contains "$line" "the tls ULP is not loaded (modprobe tls), OpenSSL encrypts" "vpn-$side's ktls line"
		assert_eq "$(stat_value "$side" ktls_tunnels)" 0 "vpn-$side's ktls_tunnels without the ULP"
	fi
done
step "a 5 MB transfer through the tunnel"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$E2E_T/data.bin"
send_to_pod "$E2E_T/data.bin" 5001
pass
