#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tunnel/pkt.h"

static void pkt__ports(const uint8_t *p, size_t off, size_t left, struct pkt_info *pi)
{
	const uint8_t *l4 = p + off;

	pi->l4_off = (uint16_t)off;
	switch (pi->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (left >= 4) {
			pi->sport = (uint16_t)(l4[0] << 8 | l4[1]);
			pi->dport = (uint16_t)(l4[2] << 8 | l4[3]);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (left >= 6)	/* echo identifier */
			pi->sport = (uint16_t)(l4[4] << 8 | l4[5]);
		break;
	}
}

int pkt_parse(const uint8_t *p, size_t len, struct pkt_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	if (len < 1)
		return -EINVAL;
	if (p[0] >> 4 == 4) {
		size_t ihl, tot;
		uint16_t frag;

		if (len < 20)
			return -EINVAL;
		ihl = (size_t)(p[0] & 0x0f) * 4;
		tot = (size_t)(p[2] << 8 | p[3]);
		if (ihl < 20 || tot < ihl || tot > len)
			return -EINVAL;
		pi->family = AF_INET;
		pi->src = p + 12;
		pi->dst = p + 16;
		pi->proto = p[9];
		pi->len = (uint32_t)tot;
		frag = (uint16_t)((p[6] & 0x1f) << 8 | p[7]);
		if (frag == 0)
			pkt__ports(p, ihl, tot - ihl, pi);
		return 0;
	}
	if (p[0] >> 4 == 6) {
		size_t tot, off = 40;
		uint8_t nh;

		if (len < 40)
			return -EINVAL;
		tot = 40 + (size_t)(p[4] << 8 | p[5]);
		/* Payload length 0 means a jumbogram or a GSO super-packet;
		 * both are as long as what we were given. */
		if (tot == 40)
			tot = len;
		if (tot > len || tot > 0xffff + 40)
			return -EINVAL;
		pi->family = AF_INET6;
		pi->src = p + 8;
		pi->dst = p + 24;
		pi->len = (uint32_t)tot;
		nh = p[6];
		/* Walk a bounded number of extension headers. */
		for (int i = 0; i < 8; i++) {
			if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS) {
				if (off + 8 > tot)
					return -EINVAL;
				nh = p[off];
				off += 8 + (size_t)p[off + 1] * 8;
			} else if (nh == IPPROTO_FRAGMENT) {
				uint16_t fo;
				if (off + 8 > tot)
					return -EINVAL;
				fo = (uint16_t)((p[off + 2] << 8 | p[off + 3]) & 0xfff8);
				nh = p[off];
				off += 8;
				if (fo) {
					pi->proto = nh;
					return 0;
				}
			} else {
				break;
			}
		}
		if (off > tot)
			return -EINVAL;
		pi->proto = nh;
		pkt__ports(p, off, tot - off, pi);
		return 0;
	}
	return -EINVAL;
}

bool pkt_link_scoped(const struct pkt_info *pi)
{
	const uint8_t *d = pi->dst;

	if (pi->family == AF_INET)
		return (d[0] & 0xf0) == 0xe0 || (d[0] == 255 && d[1] == 255 && d[2] == 255 && d[3] == 255);
	return d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80);
}

/* One's-complement checksum after the 16-bit word at an even offset of
 * the summed range changed from old to new (RFC 1624, eqn. 3). */
static uint16_t pkt__csum_update(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t s = (uint32_t)(uint16_t)~check + (uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t pkt__get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the MSS option's value is in the TCP header of a SYN (the last
 * one, which is what Linux takes); 0 if there is none. *ts tells whether
 * the SYN carries a timestamp option. */
static size_t pkt__mss_at(const uint8_t *p, const struct pkt_info *pi, bool *ts)
{
	const uint8_t *th = p + pi->l4_off;
	size_t hl, i, at = 0;

	*ts = false;
	if (pi->proto != IPPROTO_TCP || !pi->l4_off || (size_t)pi->l4_off + 20 > pi->len)
		return 0;
	hl = (size_t)(th[12] >> 4) * 4;
	/* SYN without RST: the only segments whose MSS option counts. */
	if ((th[13] & 0x06) != 0x02 || hl < 20 || pi->l4_off + hl > pi->len)
		return 0;
	for (i = 20; i < hl;) {
		uint8_t kind = th[i], len;

		if (kind == 0)		/* end of the option list */
			break;
		if (kind == 1) {	/* no-operation: one byte */
			i++;
			continue;
		}
		if (i + 2 > hl)
			return 0;
		len = th[i + 1];
		if (len < 2 || i + len > hl)
			return 0;	/* malformed: leave the SYN alone */
		if (kind == 2 && len == 4)
			at = i + 2;
		if (kind == 8 && len == 10)
			*ts = true;
		i += len;
	}
	return at;
}

uint16_t pkt_syn_mss(const uint8_t *p, const struct pkt_info *pi, bool *timestamps)
{
	bool ts;
	size_t o = pkt__mss_at(p, pi, &ts);

	if (timestamps)
		*timestamps = ts;
	return o ? pkt__get16(p + pi->l4_off + o) : 0;
}

void pkt_set_mss(uint8_t *p, const struct pkt_info *pi, bool csum_partial, uint16_t mss)
{
	uint8_t *th = p + pi->l4_off;
	bool ts;
	size_t o = pkt__mss_at(p, pi, &ts), w0, w1;
	uint16_t old[2], check;

	if (!o)
		return;
	/* The value's two bytes span one 16-bit word of the checksum if
	 * their offset is even, two if odd (the second then ends inside
	 * the header: its length is a multiple of 4). */
	w0 = o & ~(size_t)1;
	w1 = w0 + 2;
	old[0] = pkt__get16(th + w0);
	old[1] = o & 1 ? pkt__get16(th + w1) : 0;
	th[o] = (uint8_t)(mss >> 8);
	th[o + 1] = (uint8_t)mss;
	if (csum_partial)
		return;
	check = pkt__csum_update(pkt__get16(th + 16), old[0], pkt__get16(th + w0));
	if (o & 1)
		check = pkt__csum_update(check, old[1], pkt__get16(th + w1));
	th[16] = (uint8_t)(check >> 8);
	th[17] = (uint8_t)check;
}
