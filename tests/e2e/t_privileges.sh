#!/usr/bin/env bash
# Least privilege: both daemons run as --user nobody and keep only
# CAP_NET_ADMIN (effective, permitted and bounding sets), with
# no_new_privs; the tunnel still carries traffic, and SIGTERM still
# removes everything they added.
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
snapshot "$NS_AGENT" >"$E2E_T/agent.before"
start_server --user nobody
start_shoot --user nobody
wait_tunnel 10
check_traffic

# CAP_NET_ADMIN is capability 12: only bit 0x1000 may be set.
for side in server shoot; do
	pid=$(pid_of $side)
	st=/proc/$pid/status
	step "$side (pid $pid) runs as nobody with only CAP_NET_ADMIN"
	assert_eq "$(awk '/^Uid:/ { print $2 }' "$st")" "$(id -u nobody)" "$side's uid"
	for set in CapEff CapPrm CapBnd; do
		assert_eq "$(awk -v k="$set:" '$1 == k { print $2 }' "$st")" 0000000000001000 "$side's $set"
	done
	assert_eq "$(awk '/^NoNewPrivs:/ { print $2 }' "$st")" 1 "$side's NoNewPrivs"
done

step "SIGTERM both: exit 0 and the agent's namespace is as before"
stop shoot TERM 5
assert_eq "$E2E_STATUS" 0 "vpn-shoot's exit status after SIGTERM"
stop server TERM 5
assert_eq "$E2E_STATUS" 0 "vpn-server's exit status after SIGTERM"
snapshot "$NS_AGENT" >"$E2E_T/agent.after"
if ! d=$(diff -u "$E2E_T/agent.before" "$E2E_T/agent.after"); then
	fail "the agent namespace differs from before the daemons started:
$d"
fi
pass
