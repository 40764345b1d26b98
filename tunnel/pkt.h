/* Just enough IPv4/IPv6 header parsing to route and filter a packet. */
#ifndef TUNNEL_PKT_H
#define TUNNEL_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt_info {
	int family;		/* AF_INET or AF_INET6 */
	const uint8_t *src, *dst;	/* into the packet */
	uint8_t proto;		/* transport protocol (after IPv6 extension headers) */
	uint16_t sport, dport;	/* TCP/UDP ports (host order), ICMP echo id in sport */
	uint16_t len;		/* total length the header claims */
};

/* Returns 0, or -EINVAL if p[0..len) is not a well-formed IPv4 or IPv6
 * header (wrong version, short header, length field beyond len). Ports
 * are 0 for fragments after the first and for other protocols. */
int pkt_parse(const uint8_t *p, size_t len, struct pkt_info *pi);

/* True for a destination that only means something on this link
 * (multicast, IPv6 link-local, IPv4 limited broadcast): the kernel sends
 * such packets (router solicitations, MLD) on any device, but they never
 * cross the tunnel. */
bool pkt_link_scoped(const struct pkt_info *pi);

#endif
