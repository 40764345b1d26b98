#!/usr/bin/env bash
# HA servers share the transfer network (fd8f:6d53:b97a:1::/96 by
# default), so two of them may give one agent the same transfer address,
# one per tunnel, both on the agent's one device. When one server then
# gives another address (here: restarted with another --vpn-network), the
# agent removes its old address from the device only if no other tunnel
# holds it: the other server still reaches the agent there.
# Topology: tests/e2e/lib.sh (ha_up), drawn in t_ha.sh.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
need_bins

ha_up
wait_for 10 "agent 0: 2 tunnels" up_is shoot-0 2
wait_for 10 "agent 1: 2 tunnels" up_is shoot-1 2

step "agent 1 stops; both servers restart: each gives agent 0 its first address"
stop shoot-1
stop server-a
stop server-b
srv server-a "$SA" 192.0.2.1
srv server-b "$SB" 192.0.2.2
wait_for 10 "agent 0: tunnels to both restarted servers" up_is shoot-0 2
addr_a=$(table_col server-a "show tunnels" tunnel_addr)
addr_b=$(table_col server-b "show tunnels" tunnel_addr)
assert_eq "$addr_a" "$addr_b" "agent 0's address from server a and from server b"
step "agent 0 holds $addr_b from both servers"

step "server a restarts with another transfer network"
stop server-a
srv server-a "$SA" 192.0.2.1 --vpn-network fd8f:6d53:b97a:2::/96
wait_for 10 "agent 0: tunnels to both servers again" up_is shoot-0 2
addr_a=$(table_col server-a "show tunnels" tunnel_addr)
case $addr_a in fd8f:6d53:b97a:2::*) ;; *) fail "server a gave $addr_a, not an address of its new network" ;; esac
devaddrs=$(ip -n "$A0" -6 -o addr show dev tun-ha | awk '{ print $4 }' | tr '\n' ' ')
step "agent 0's device: $devaddrs"
assert_contains "$devaddrs" "$addr_a/" "agent 0's new address from server a"
assert_contains "$devaddrs" "$addr_b/" "agent 0's address from server b, still on the device"
nsx "$SB" ping -6 -n -c 2 -i 0.2 -W 2 "$addr_b" >/dev/null ||
	fail "server b's side cannot reach agent 0 at $addr_b"
nsx "$SA" ping -6 -n -c 2 -i 0.2 -W 2 "$addr_a" >/dev/null ||
	fail "server a's side cannot reach agent 0 at $addr_a"
pass
