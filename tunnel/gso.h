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

enum { GSO_HDR_LEN = sizeof(struct virtio_net_hdr) };	/* 10 */

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

/* Calls emit once per plain packet that pkt[0..len) stands for, built in
 * scratch (cap bytes, at least the largest segment) or, for a packet that
 * only needs its checksum, completed in place. Returns 0, the first
 * non-zero value emit returned, -EINVAL for a header or packet that does
 * not add up, or -EOPNOTSUPP for a GSO type other than TCP and UDP. */
int gso_segment(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
		uint8_t *scratch, size_t cap,
		int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg);

#endif
