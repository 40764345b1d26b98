/* The local backend: a shoot's whole provisioning flow on this machine,
 * each step real. Network namespaces stand for the seed's network, its
 * control-plane pods, the shoot's cloud network, its machines and their
 * pods; veth pairs and bridges for the networks between them; nftables for
 * the seed's load balancer and the shoot's kube-proxy. vpn-server and
 * vpn-shoot run with the generated certificates, and the last task does
 * what kube-apiserver does: through the CONNECT proxy it reaches every
 * kubelet, pod and the service.
 *
 *   seed                                  shoot
 *   <ns>-seed (router, 192.0.2.1)  <--->  <ns>-cloud (NAT gateway, nodes' bridge)
 *     bridge cp 198.51.100.1/24             |                    |
 *       <ns>-vpn-seed-server[-i] .10+i      <ns>-node-0 ...      <ns>-node-N
 *       <ns>-kube-apiserver      .20          kubelet :10250       cbr0 pods/24
 *     DNAT 192.0.2.1:1194+i -> server i       <ns>-node-0-web :8080
 *     forward: only DNATed or answers         <ns>-vpn-shoot[-k]
 *
 * The shoot's nodes are behind NAT (masqueraded by <ns>-cloud): the seed
 * has no route into the shoot but the tunnel, and the seed router drops
 * anything from outside that is neither an answer nor for the tunnel port.
 * <ns> is the seed namespace of the shoot (shoot--<project>--<name>).
 * The state (pid files, logs, sockets, PKI) lives under one directory. */
#ifndef CONTROLLER_LOCAL_H
#define CONTROLLER_LOCAL_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "controller/engine.h"
#include "controller/spec.h"

enum { LOCAL_NODES_MAX = 4 };

struct local {
	const struct shoot_spec *spec;
	char dir[1024];			/* state directory */
	char pki[1040], kubelet_pki[1040];
	char bin[1024];			/* where vpn-server, vpn-shoot, shootctl are */
	char ns[160];			/* shoot--<project>--<name> */
	int nodes, replicas;
	/* first IPv4 network of each spec list, host byte order */
	uint32_t node_net, pod_net, svc_net;
	int node_prefix;
};

/* Derives the topology from the spec; bin_dir holds the binaries. Returns
 * 0 or -EINVAL with err naming the field (no IPv4 network, too small for
 * the nodes, overlapping the seed's documentation ranges). */
int local_init(struct local *l, const struct shoot_spec *s, const char *dir, const char *bin_dir,
	       char *err, size_t errlen);

/* The flow, its graph in one table (local.c). */
extern const struct engine_task local_flow[];
extern const size_t local_nflow;

/* The processes and the tunnels' health, read from the stats sockets. */
void local_status(const struct local *l, FILE *out);

/* Rotates the shoot's VPN CA with every daemon reloading after each step
 * (pki.h); the tunnels stay up, which it checks. Returns 0 or -errno. */
int local_rotate_ca(struct local *l, FILE *out, char *err, size_t errlen);

#endif
