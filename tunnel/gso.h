/* Offloaded packets (virtio-net header + packet) made plain in user space.
 *
 * With offloads on, the TUN device hands us TCP segments of up to 64 KB
 * and packets whose checksum is left to "the hardware". A peer that takes
 * those (CAP_GSO) gets them whole; for one that does not, or a TUN device
 * without offloads, this module does what the NIC would: completes the
 * checksum, and cuts a TCP super-segment into MSS-sized segments with their
 * own IP lengths, IDs, sequence numbers, flags and checksums, or a UDP
 * super-packet (USO) into its datagrams, with their own IP and UDP lengths,
 * IDs and checksums. */
#ifndef TUNNEL_GSO_H
#define TUNNEL_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "tunnel/pkt.h"

enum {
	GSO_HDR_LEN = sizeof(struct virtio_net_hdr),	/* 10 */
	/* The most a super-packet stands for: Linux's own limits (TCP's
	 * smallest MSS, tcp_min_snd_mss; UDP_MAX_SEGMENTS), so that one
	 * frame cannot make tens of thousands of writes. */
	GSO_TCP_MIN_MSS = 48,
	GSO_UDP_MAX_SEGS = 128,
};

/* Linux 6.2's UDP segmentation type; the build's headers may be older
 * than the kernel. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* True if the header asks for nothing: the packet is plain already. */
bool gso_plain(const struct virtio_net_hdr *vh);

/* True if the header describes a UDP super-packet, which only a peer
 * with CAP_USO takes whole. */
bool gso_udp(const struct virtio_net_hdr *vh);

/* Does a header that came from a peer describe the packet pi was parsed
 * from: the checksum (and, for a super-packet, the segmentation) starts
 * at the transport header pkt_parse() found, its field is TCP's or UDP's,
 * the GSO type is that protocol's (and IP version's) and the segments are
 * as Linux makes them (TCP's at least GSO_TCP_MIN_MSS bytes, at most
 * GSO_UDP_MAX_SEGS UDP datagrams)? 0 or -EINVAL.
 * The daemons check a packet once, before segmentation, so a header that
 * pointed the kernel or gso_segment() elsewhere (inside an IPv6 extension
 * header, say) could make the packets that come out differ from the one
 * that was checked. A plain header is always fine. */
int gso_check(const struct virtio_net_hdr *vh, const struct pkt_info *pi);

/* Calls emit once per plain packet that pkt[0..len) stands for, built in
 * scratch (cap bytes, at least the largest segment) or, for a packet that
 * only needs its checksum, completed in place. Returns 0, the first
 * non-zero value emit returned, -EINVAL for a header or packet that does
 * not add up (among them a TCP segment size below the 48 bytes Linux sends
 * at the least, or a UDP super-packet of more than GSO_UDP_MAX_SEGS
 * datagrams), or -EOPNOTSUPP for a GSO type other than TCP and UDP. */
int gso_segment(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
		uint8_t *scratch, size_t cap,
		int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg);

#endif
