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
	uint32_t len;		/* total length the header claims: an IPv6
				 * packet's is up to 65535 + 40 */
	uint16_t l4_off;	/* where the transport header starts; 0 for a
				 * fragment after the first */
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

/* The MSS option of a TCP SYN (or SYN-ACK) p, parsed into pi (the last
 * one, as Linux reads it); 0 for anything else (not TCP, not a SYN, a
 * RST, no MSS option or a malformed option list). *timestamps (if not
 * NULL) tells whether the SYN offers TCP timestamps, which take 12 bytes
 * of every segment of the connection when both ends use them.
 *
 * Why: the MSS a host advertises is the largest segment its peer builds;
 * a tunnel that carries a peer's 64 KB TCP segments whole can thereby
 * make each of them fit one of its records (conn_fit_mss()). */
uint16_t pkt_syn_mss(const uint8_t *p, const struct pkt_info *pi, bool *timestamps);
/* Sets that MSS option (pkt_syn_mss() must have found it) to mss. The TCP
 * checksum is updated in place (RFC 1624) unless csum_partial: then the
 * packet carries a partial checksum (virtio-net NEEDS_CSUM) that the
 * kernel completes over the header as it finds it. */
void pkt_set_mss(uint8_t *p, const struct pkt_info *pi, bool csum_partial, uint16_t mss);

#endif
