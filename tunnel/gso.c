#include <errno.h>
#include <string.h>

#include "tunnel/gso.h"

bool gso_plain(const struct virtio_net_hdr *vh)
{
	return vh->gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	       !(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
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

	if (start >= len || field + 2 > len)
		return -EINVAL;
	gso__put16(pkt + field, gso__fold(gso__sum(pkt + start, len - start, 0)));
	return 0;
}

/* TCP checksum of the segment in seg (IP header at 0, TCP at l4). */
static void gso__tcp_csum(uint8_t *seg, size_t l4, size_t len, bool v6)
{
	uint32_t sum = 0;
	size_t tcplen = len - l4;

	seg[l4 + 16] = seg[l4 + 17] = 0;
	if (v6) {
		sum = gso__sum(seg + 8, 32, sum);	/* source and destination */
	} else {
		sum = gso__sum(seg + 12, 8, sum);
	}
	sum += 6 + (uint32_t)tcplen;	/* protocol and TCP length */
	sum = gso__sum(seg + l4, tcplen, sum);
	gso__put16(seg + l4 + 16, gso__fold(sum));
}

int gso_segment(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
		uint8_t *scratch, size_t cap,
		int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg)
{
	uint8_t type = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	size_t l4, thl, hdrlen, mss, off;
	bool v6;
	uint32_t seq;
	uint16_t id = 0;
	int err;

	if (type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (err = gso__complete_csum(vh, pkt, len)))
			return err;
		return emit(arg, pkt, len);
	}
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EOPNOTSUPP;
	v6 = type == VIRTIO_NET_HDR_GSO_TCPV6;
	/* For TCP the kernel always sets csum_start to the TCP header. */
	l4 = vh->csum_start;
	if (len < 40 || l4 < (v6 ? 40u : 20u) || l4 + 20 > len || (pkt[0] >> 4) != (v6 ? 6 : 4))
		return -EINVAL;
	thl = (size_t)(pkt[l4 + 12] >> 4) * 4;
	hdrlen = l4 + thl;
	mss = vh->gso_size;
	if (thl < 20 || hdrlen > len || mss == 0 || hdrlen + mss > cap)
		return -EINVAL;
	seq = (uint32_t)pkt[l4 + 4] << 24 | (uint32_t)pkt[l4 + 5] << 16 |
	      (uint32_t)pkt[l4 + 6] << 8 | pkt[l4 + 7];
	if (!v6)
		id = (uint16_t)(pkt[4] << 8 | pkt[5]);

	for (off = hdrlen; off < len || off == hdrlen; off += mss) {
		size_t n = len - off < mss ? len - off : mss, seglen = hdrlen + n;
		bool first = off == hdrlen, last = off + n >= len;
		uint32_t s = seq + (uint32_t)(off - hdrlen);
		uint8_t *g = scratch;

		memcpy(g, pkt, hdrlen);
		memcpy(g + hdrlen, pkt + off, n);
		if (v6) {
			gso__put16(g + 4, (uint16_t)(seglen - 40));
		} else {
			gso__put16(g + 2, (uint16_t)seglen);
			gso__put16(g + 4, (uint16_t)(id + (off - hdrlen) / mss));
			g[10] = g[11] = 0;
			gso__put16(g + 10, gso__fold(gso__sum(g, l4, 0)));
		}
		g[l4 + 4] = (uint8_t)(s >> 24);
		g[l4 + 5] = (uint8_t)(s >> 16);
		g[l4 + 6] = (uint8_t)(s >> 8);
		g[l4 + 7] = (uint8_t)s;
		if (!last)
			g[l4 + 13] &= (uint8_t)~0x09;	/* FIN and PSH only on the last */
		if (!first)
			g[l4 + 13] &= (uint8_t)~0x80;	/* CWR only on the first */
		gso__tcp_csum(g, l4, seglen, v6);
		if ((err = emit(arg, g, seglen)))
			return err;
		if (n == 0)
			break;
	}
	return 0;
}
