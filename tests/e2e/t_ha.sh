#!/usr/bin/env bash
# High availability: two server replicas, two shoot agents, every agent
# holding a tunnel to every server (--server twice). New flows spread over
# the agents; killing one agent moves new connections to the other at once;
# killing one server replica leaves the other serving.
#
#    seed-a ns              seed-b ns             lan ns (br0)
#  +------------------+   +------------------+   +---------------------+
#  | vpn-server a     |   | vpn-server b     |   |  bridge 192.0.2.0/24|
#  | client (curl)    |   | client (curl)    |   +---------------------+
#  | 192.0.2.1        |   | 192.0.2.2        |      |            |
#  +------------------+   +------------------+      |            |
#        |____________________|_____________________|            |
#                                                   |            |
#          agent0 ns (vpn-shoot-0, 192.0.2.10)   agent1 ns (vpn-shoot-1, 192.0.2.11)
#          tunnels to a and b                     tunnels to a and b
#                 | 10.250.0.2                          | 10.250.0.3
#                 +-------------- node ns (bridge) ----+
#                                 kubelet.py on 10.250.0.10:10250
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
need_bins

ha_up

step "every agent holds a tunnel to every server"
wait_for 10 "server a: 2 tunnels" up_is server-a 2
wait_for 10 "server b: 2 tunnels" up_is server-b 2
wait_for 5 "agent 0: 2 tunnels" up_is shoot-0 2
wait_for 5 "agent 1: 2 tunnels" up_is shoot-1 2

# get NS: one new connection to the kubelet; prints its answer
get() { nsx "$1" curl -sf --max-time 1 http://10.250.0.10:10250/healthz; }

step "40 new connections from seed a spread over both agents"
for i in $(seq 40); do get "$SA" >/dev/null || fail "request $i through server a"; done
rows=$(table_col server-a "show tunnels" rx_packets)
for n in $rows; do
	[ "$n" -gt 10 ] || fail "an agent carried (almost) none of 40 connections: rx_packets per tunnel $(echo $rows)"
done
step "rx_packets per tunnel on server a: $(echo $rows)"

step "kill agent 0: new connections succeed through agent 1"
kill -KILL "$(pid_of shoot-0)"
t0=$(now_ms)
wait_for 5 "a new connection after agent 0 died" get "$SA"
step "first success $(( $(now_ms) - t0 )) ms after the kill"
for i in $(seq 20); do get "$SA" >/dev/null || fail "request $i after agent 0 died"; done
wait_for 5 "server a: 1 tunnel" up_is server-a 1

step "kill server b: server a keeps serving, agent 1 keeps its tunnel to a"
kill -KILL "$(pid_of server-b)"
wait_for 5 "agent 1 to notice (1 tunnel)" up_is shoot-1 1
for i in $(seq 20); do get "$SA" >/dev/null || fail "request $i through server a after server b died"; done
proc_alive "$(pid_of server-a)" || fail "server a died"
proc_alive "$(pid_of shoot-1)" || fail "agent 1 died"
pass
