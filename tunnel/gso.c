#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tunnel/gso.h"

bool gso_plain(const struct virtio_net_hdr *vh)
{
	return vh->gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	       !(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

bool gso_udp(const struct virtio_net_hdr *vh)
{
	return (vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_UDP_L4;
}

int gso_check(const struct virtio_net_hdr *vh, const struct pkt_info *pi)
{
	uint8_t type = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (gso_plain(vh))
		return 0;
	/* The kernel asks for the checksum of every super-packet; one
	 * without is nothing it made. */
	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !pi->l4_off ||
	    vh->csum_start != pi->l4_off)
		return -EINVAL;
	/* The segment size is bounded here, not only in gso_segment():
	 * a device with TSO takes a TCP size of 1 and makes 65k segments. */
	switch (pi->proto) {
	case 6:
		if (vh->csum_offset != 16)
			return -EINVAL;
		if (type == VIRTIO_NET_HDR_GSO_NONE)
			return 0;
		return type == (pi->family == AF_INET6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) &&
		       vh->gso_size >= GSO_TCP_MIN_MSS ? 0 : -EINVAL;
	case 17:
		if (vh->csum_offset != 6)
			return -EINVAL;
		if (type == VIRTIO_NET_HDR_GSO_NONE)
			return 0;
		return type == VIRTIO_NET_HDR_GSO_UDP_L4 && vh->gso_size && pi->len >= pi->l4_off + 8u &&
		       pi->len - pi->l4_off - 8 <= (uint32_t)vh->gso_size * GSO_UDP_MAX_SEGS ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* Ones' complement sum of p[0..n), added to sum (not folded). */
static uint32_t gso__sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static uint16_t gso__fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void gso__put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The partial checksum convention: the field holds the pseudo-header sum,
 * the device sums from csum_start to the end and stores the complement. */
static int gso__complete_csum(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len)
{
	size_t start = vh->csum_start, field = start + vh->csum_offset;
	uint16_t csum;

	if (start >= len || field + 2 > len)
		return -EINVAL;
	/* A sum of 0 is sent as its other form, 0xffff, as Linux does:
	 * for UDP 0 means "no checksum" (and IPv6 receivers drop it). */
	csum = gso__fold(gso__sum(pkt + start, len - start, 0));
	gso__put16(pkt + field, csum ? csum : 0xffff);
	return 0;
}

/* TCP or UDP checksum of the segment in seg (IP header at 0, transport
 * header at l4, its checksum field at l4 + field). */
static void gso__l4_csum(uint8_t *seg, size_t l4, size_t len, bool v6, uint8_t proto,
			 size_t field)
{
	uint32_t sum = 0;
	size_t l4len = len - l4;
	uint16_t csum;

	seg[l4 + field] = seg[l4 + field + 1] = 0;
	if (v6) {
		sum = gso__sum(seg + 8, 32, sum);	/* source and destination */
	} else {
		sum = gso__sum(seg + 12, 8, sum);
	}
	sum += proto + (uint32_t)l4len;	/* protocol and transport length */
	sum = gso__sum(seg + l4, l4len, sum);
	csum = gso__fold(sum);
	/* In UDP 0 means "no checksum"; a computed 0 is sent as its other
	 * ones' complement form (RFC 768). */
	if (proto == 17 && csum == 0)
		csum = 0xffff;
	gso__put16(seg + l4 + field, csum);
}

/* Does the header at l4 follow the IP header, and is it the proto the
 * IP header names? For IPv6 only checked when nothing comes between (the
 * kernel's extension headers are taken as they are). Segmenting a packet
 * as what it is not would rewrite bytes its real headers have elsewhere. */
static bool gso__l4_ok(const uint8_t *pkt, size_t l4, bool v6, uint8_t proto)
{
	if (v6)
		return l4 != 40 || pkt[6] == proto;
	return pkt[9] == proto && l4 == (size_t)(pkt[0] & 15) * 4;
}

/* The first segment's IP ID, which the next segments count up from
 * (IPv4; IPv6 has none). */
static uint16_t gso__ip_id(const uint8_t *pkt, bool v6)
{
	return v6 ? 0 : (uint16_t)(pkt[4] << 8 | pkt[5]);
}

/* Copies the headers of pkt (hdrlen bytes) and n payload bytes from
 * pkt + off into g, and sets the IP length (and for IPv4 the ID, the
 * i-th after id, and the header checksum) for that segment. */
static void gso__seg_ip(uint8_t *g, const uint8_t *pkt, size_t hdrlen, size_t off,
			size_t n, bool v6, uint16_t id, size_t i, size_t l4)
{
	size_t seglen = hdrlen + n;

	memcpy(g, pkt, hdrlen);
	memcpy(g + hdrlen, pkt + off, n);
	if (v6) {
		gso__put16(g + 4, (uint16_t)(seglen - 40));
	} else {
		gso__put16(g + 2, (uint16_t)seglen);
		gso__put16(g + 4, (uint16_t)(id + i));
		g[10] = g[11] = 0;
		gso__put16(g + 10, gso__fold(gso__sum(g, l4, 0)));
	}
}

/* A UDP super-packet (USO): datagrams of gso_size payload bytes each,
 * the last one shorter or equal, each with its own UDP length and
 * checksum, as the kernel's UDP segmentation makes them. */
static int gso__udp(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len,
		    uint8_t *scratch, size_t cap,
		    int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg)
{
	size_t l4 = vh->csum_start, hdrlen = l4 + 8, mss = vh->gso_size, off, i = 0;
	bool v6;
	uint16_t id;
	int err;

	if (len < 28 || (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6))
		return -EINVAL;
	v6 = pkt[0] >> 4 == 6;
	if (l4 < (v6 ? 40u : 20u) || hdrlen > len || !gso__l4_ok(pkt, l4, v6, 17) ||
	    mss == 0 || hdrlen + mss > cap || len - hdrlen > mss * GSO_UDP_MAX_SEGS)
		return -EINVAL;
	id = gso__ip_id(pkt, v6);
	for (off = hdrlen; off < len || off == hdrlen; off += mss, i++) {
		size_t n = len - off < mss ? len - off : mss;

		gso__seg_ip(scratch, pkt, hdrlen, off, n, v6, id, i, l4);
		gso__put16(scratch + l4 + 4, (uint16_t)(8 + n));
		gso__l4_csum(scratch, l4, hdrlen + n, v6, 17, 6);
		if ((err = emit(arg, scratch, hdrlen + n)))
			return err;
		if (n == 0)
			break;
	}
	return 0;
}

int gso_segment(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
		uint8_t *scratch, size_t cap,
		int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg)
{
	uint8_t type = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	size_t l4, thl, hdrlen, mss, off, i = 0;
	bool v6;
	uint32_t seq;
	uint16_t id;
	int err;

	if (type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (err = gso__complete_csum(vh, pkt, len)))
			return err;
		return emit(arg, pkt, len);
	}
	if (type == VIRTIO_NET_HDR_GSO_UDP_L4)
		return gso__udp(vh, pkt, len, scratch, cap, emit, arg);
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EOPNOTSUPP;
	v6 = type == VIRTIO_NET_HDR_GSO_TCPV6;
	/* For TCP the kernel always sets csum_start to the TCP header. */
	l4 = vh->csum_start;
	if (len < 40 || l4 < (v6 ? 40u : 20u) || l4 + 20 > len || (pkt[0] >> 4) != (v6 ? 6 : 4) ||
	    !gso__l4_ok(pkt, l4, v6, 6))
		return -EINVAL;
	thl = (size_t)(pkt[l4 + 12] >> 4) * 4;
	hdrlen = l4 + thl;
	mss = vh->gso_size;
	if (thl < 20 || hdrlen > len || mss < GSO_TCP_MIN_MSS || hdrlen + mss > cap)
		return -EINVAL;
	seq = (uint32_t)pkt[l4 + 4] << 24 | (uint32_t)pkt[l4 + 5] << 16 |
	      (uint32_t)pkt[l4 + 6] << 8 | pkt[l4 + 7];
	id = gso__ip_id(pkt, v6);

	for (off = hdrlen; off < len || off == hdrlen; off += mss, i++) {
		size_t n = len - off < mss ? len - off : mss, seglen = hdrlen + n;
		bool first = off == hdrlen, last = off + n >= len;
		uint32_t s = seq + (uint32_t)(off - hdrlen);
		uint8_t *g = scratch;

		gso__seg_ip(g, pkt, hdrlen, off, n, v6, id, i, l4);
		g[l4 + 4] = (uint8_t)(s >> 24);
		g[l4 + 5] = (uint8_t)(s >> 16);
		g[l4 + 6] = (uint8_t)(s >> 8);
		g[l4 + 7] = (uint8_t)s;
		if (!last)
			g[l4 + 13] &= (uint8_t)~0x09;	/* FIN and PSH only on the last */
		if (!first)
			g[l4 + 13] &= (uint8_t)~0x80;	/* CWR only on the first */
		gso__l4_csum(g, l4, seglen, v6, 6, 16);
		if ((err = emit(arg, g, seglen)))
			return err;
		if (n == 0)
			break;
	}
	return 0;
}
