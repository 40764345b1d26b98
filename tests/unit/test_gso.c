/* User-space segmentation: what a NIC does with a TSO super-segment, for a
 * peer or a TUN device without offloads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tunnel/gso.h"
#include "tunnel/pkt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { PAYLOAD_MAX = 60000 };

static uint8_t pkt[PAYLOAD_MAX + 120], scratch[65600];
static uint8_t segs[64][1600];
static size_t seglen[64], nsegs;

static int collect(void *arg, const uint8_t *p, size_t n)
{
	assert_true(nsegs < N(segs) && n <= sizeof(segs[0]));
	memcpy(segs[nsegs], p, n);
	seglen[nsegs++] = n;
	return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)(p[0] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* A valid TCP checksum sums, with the pseudo header, to 0xffff. */
static void assert_tcp_csum_ok(const uint8_t *p, size_t len, bool v6)
{
	size_t l4 = v6 ? 40 : (size_t)(p[0] & 15) * 4;
	uint32_t s = v6 ? sum16(p + 8, 32, 0) : sum16(p + 12, 8, 0);

	s += 6 + (uint32_t)(len - l4);
	assert_int_equal(sum16(p + l4, len - l4, s), 0xffff);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A TCP super-segment as the kernel hands it over: headers, payload
 * bytes 0, 1, 2, ..., the checksum field seeded with the pseudo header. */
static size_t build(bool v6, size_t payload, uint8_t flags, struct virtio_net_hdr *vh)
{
	size_t l4 = v6 ? 40 : 20, len = l4 + 20 + payload;

	memset(pkt, 0, l4 + 20);
	if (v6) {
		pkt[0] = 0x60;
		pkt[4] = (uint8_t)((len - 40) >> 8);
		pkt[5] = (uint8_t)(len - 40);
		pkt[6] = 6;
		pkt[7] = 64;
		pkt[8] = 0x20, pkt[9] = 0x01, pkt[23] = 1;	/* 2001::1 */
		pkt[24] = 0x20, pkt[25] = 0x01, pkt[39] = 2;	/* 2001::2 */
	} else {
		pkt[0] = 0x45;
		pkt[2] = (uint8_t)(len >> 8);
		pkt[3] = (uint8_t)len;
		pkt[4] = 0x12, pkt[5] = 0x34;
		pkt[8] = 64;
		pkt[9] = 6;
		pkt[12] = 192, pkt[13] = 0, pkt[14] = 2, pkt[15] = 1;
		pkt[16] = 10, pkt[17] = 250, pkt[18] = 0, pkt[19] = 10;
	}
	pkt[l4 + 0] = 0x9c, pkt[l4 + 1] = 0x40;	/* ports 40000 -> 10250 */
	pkt[l4 + 2] = 0x28, pkt[l4 + 3] = 0x0a;
	pkt[l4 + 4] = 0xff, pkt[l4 + 5] = 0xff, pkt[l4 + 6] = 0xf0, pkt[l4 + 7] = 0x00;	/* seq wraps */
	pkt[l4 + 12] = 5 << 4;
	pkt[l4 + 13] = flags;
	pkt[l4 + 14] = 0xff;
	for (size_t i = 0; i < payload; i++)
		pkt[l4 + 20 + i] = (uint8_t)i;
	{
		/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header
		 * sum, not inverted. */
		uint32_t ps = v6 ? sum16(pkt + 8, 32, 0) : sum16(pkt + 12, 8, 0);
		ps = sum16((const uint8_t[]){ 0, 6, (uint8_t)((len - l4) >> 8), (uint8_t)(len - l4) }, 4, ps);
		pkt[l4 + 16] = (uint8_t)(ps >> 8);
		pkt[l4 + 17] = (uint8_t)ps;
	}
	memset(vh, 0, sizeof(*vh));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	vh->hdr_len = (uint16_t)(l4 + 20);
	vh->gso_size = 1000;
	vh->csum_start = (uint16_t)l4;
	vh->csum_offset = 16;
	return len;
}

/* What every packet k cut from a super-packet has: after its hdrlen
 * bytes of headers the payload bytes got, got + 1, ..., and for IPv4 a
 * valid header checksum and the k-th ID after the first. Returns its
 * payload length. */
static size_t assert_cut(size_t k, size_t hdrlen, size_t got, bool v6)
{
	size_t n = seglen[k] - hdrlen;

	for (size_t b = 0; b < n; b++)
		assert_int_equal(segs[k][hdrlen + b], (uint8_t)(got + b));
	if (!v6) {
		assert_int_equal(sum16(segs[k], 20, 0), 0xffff);
		assert_int_equal(segs[k][4] << 8 | segs[k][5], 0x1234 + k);
	}
	return n;
}

/* A UDP super-packet as the kernel hands over what a sender wrote at once
 * with UDP_SEGMENT: one IP and UDP header, payload bytes 0, 1, 2, ...,
 * datagrams of mss bytes. */
static size_t build_udp(bool v6, size_t payload, uint16_t mss, struct virtio_net_hdr *vh)
{
	size_t l4 = v6 ? 40 : 20, len = build(v6, 0, 0, vh) - 20 + 8 + payload;

	if (v6) {
		pkt[4] = (uint8_t)((len - 40) >> 8), pkt[5] = (uint8_t)(len - 40);
		pkt[6] = 17;
	} else {
		pkt[2] = (uint8_t)(len >> 8), pkt[3] = (uint8_t)len;
		pkt[9] = 17;
	}
	pkt[l4 + 4] = (uint8_t)((len - l4) >> 8), pkt[l4 + 5] = (uint8_t)(len - l4);
	pkt[l4 + 6] = 0x12, pkt[l4 + 7] = 0x34;	/* a partial sum: rewritten */
	for (size_t i = 0; i < payload; i++)
		pkt[l4 + 8 + i] = (uint8_t)i;
	vh->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	vh->hdr_len = (uint16_t)(l4 + 8);
	vh->gso_size = mss;
	vh->csum_offset = 6;
	return len;
}

/* A valid UDP checksum, too, sums with the pseudo header to 0xffff. */
static void assert_udp_csum_ok(const uint8_t *p, size_t len, bool v6)
{
	size_t l4 = v6 ? 40 : 20;
	uint32_t s = v6 ? sum16(p + 8, 32, 0) : sum16(p + 12, 8, 0);

	assert_int_not_equal(p[l4 + 6] << 8 | p[l4 + 7], 0);	/* 0 is "none" */
	s += 17 + (uint32_t)(len - l4);
	assert_int_equal(sum16(p + l4, len - l4, s), 0xffff);
}

static void a_udp_super_packet_becomes_its_datagrams(void **state)
{
	static const struct { bool v6; size_t payload; uint16_t mss; size_t want; } cases[] = {
		{ false, 5000, 1000, 5 }, { false, 5001, 1000, 6 }, { false, 999, 1000, 1 },
		{ false, 0, 1000, 1 }, { false, 60000, 1472, 41 },
		{ true, 5000, 1000, 5 }, { true, 2500, 1200, 3 }, { true, 1, 1000, 1 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct virtio_net_hdr vh;
		size_t len = build_udp(cases[i].v6, cases[i].payload, cases[i].mss, &vh);
		size_t l4 = cases[i].v6 ? 40 : 20, got = 0;

		nsegs = 0;
		assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), collect, NULL), 0);
		assert_int_equal(nsegs, cases[i].want);
		for (size_t k = 0; k < nsegs; k++) {
			struct pkt_info pi;
			size_t n = seglen[k] - l4 - 8;

			/* Each datagram parses with its own IP and UDP length... */
			assert_int_equal(pkt_parse(segs[k], seglen[k], &pi), 0);
			assert_int_equal(pi.len, seglen[k]);
			assert_int_equal(pi.proto, 17);
			assert_int_equal(segs[k][l4 + 4] << 8 | segs[k][l4 + 5], 8 + n);
			/* ...is mss long but for the last, carries the next bytes,
			 * and has valid checksums and an ID of its own. */
			assert_true(k + 1 == nsegs ? n <= cases[i].mss : n == cases[i].mss);
			got += assert_cut(k, l4 + 8, got, cases[i].v6);
			assert_udp_csum_ok(segs[k], seglen[k], cases[i].v6);
		}
		assert_int_equal(got, cases[i].payload);
	}
}

static void a_udp_checksum_of_zero_is_sent_as_ffff(void **state)
{
	struct virtio_net_hdr vh;
	size_t len = build_udp(false, 100, 1000, &vh), l4 = 20;
	uint32_t s;

	/* Two payload bytes chosen so that the sum is 0xffff: its
	 * complement, the checksum, would be 0, which UDP reads as none. */
	pkt[len - 2] = pkt[len - 1] = 0;
	s = sum16(pkt + 12, 8, 17 + (uint32_t)(len - l4));
	s = sum16(pkt + l4, 6, s);	/* the header without its checksum */
	s = sum16(pkt + l4 + 8, len - l4 - 8, s);
	pkt[len - 2] = (uint8_t)((0xffff - s) >> 8);
	pkt[len - 1] = (uint8_t)(0xffff - s);
	nsegs = 0;
	assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), collect, NULL), 0);
	assert_int_equal(nsegs, 1);
	assert_int_equal(segs[0][l4 + 6] << 8 | segs[0][l4 + 7], 0xffff);
	assert_udp_csum_ok(segs[0], seglen[0], false);
}

static void a_super_segment_becomes_mss_sized_valid_segments(void **state)
{
	static const struct { bool v6; size_t payload; size_t want; } cases[] = {
		{ false, 5000, 5 }, { false, 5001, 6 }, { false, 999, 1 },
		{ true, 5000, 5 }, { true, 2500, 3 }, { true, 1000, 1 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct virtio_net_hdr vh;
		size_t len = build(cases[i].v6, cases[i].payload, 0x18 /* PSH|ACK */ | 0x01 /* FIN */, &vh);
		size_t l4 = cases[i].v6 ? 40 : 20, got = 0;

		nsegs = 0;
		assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), collect, NULL), 0);
		assert_int_equal(nsegs, cases[i].want);
		for (size_t k = 0; k < nsegs; k++) {
			struct pkt_info pi;
			size_t n = seglen[k] - l4 - 20;
			bool last = k + 1 == nsegs;

			/* Each segment parses with its own length... */
			assert_int_equal(pkt_parse(segs[k], seglen[k], &pi), 0);
			assert_int_equal(pi.len, seglen[k]);
			assert_true(n <= 1000 && (last || n == 1000));
			/* ...carries the right bytes at the right sequence number... */
			assert_int_equal(get32(segs[k] + l4 + 4), (uint32_t)(0xfffff000u + got));
			got += assert_cut(k, l4 + 20, got, cases[i].v6);
			/* ...FIN and PSH on the last only, checksums valid. */
			assert_int_equal(segs[k][l4 + 13] & 0x09, last ? 0x09 : 0);
			assert_tcp_csum_ok(segs[k], seglen[k], cases[i].v6);
		}
		assert_int_equal(got, cases[i].payload);
	}
}

/* A segment of an ECN connection that reduced its window: CWR belongs
 * on the first packet only, and the header's ECN bit is no other type. */
static void cwr_stays_on_the_first_segment_only(void **state)
{
	struct virtio_net_hdr vh;
	size_t len = build(false, 3000, 0x80 /* CWR */ | 0x10 /* ACK */, &vh);

	vh.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	nsegs = 0;
	assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), collect, NULL), 0);
	assert_int_equal(nsegs, 3);
	for (size_t k = 0; k < nsegs; k++) {
		assert_int_equal(segs[k][20 + 13], k == 0 ? 0x90 : 0x10);
		assert_tcp_csum_ok(segs[k], seglen[k], false);
	}
}

static void a_packet_needing_only_its_checksum_gets_it_in_place(void **state)
{
	struct virtio_net_hdr vh;
	size_t len = build(false, 300, 0x18, &vh);

	vh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	nsegs = 0;
	assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), collect, NULL), 0);
	assert_int_equal(nsegs, 1);
	assert_int_equal(seglen[0], len);
	assert_tcp_csum_ok(segs[0], len, false);
}

static void plain_headers_are_recognised(void **state)
{
	struct virtio_net_hdr vh = { 0 };

	assert_true(gso_plain(&vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	assert_false(gso_plain(&vh));
	vh.flags = 0;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_false(gso_plain(&vh));
	assert_false(gso_udp(&vh));
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	assert_false(gso_plain(&vh));
	assert_true(gso_udp(&vh));
}

static void headers_that_do_not_add_up_are_refused(void **state)
{
	struct virtio_net_hdr vh;
	size_t len = build(false, 3000, 0x10, &vh);
	struct virtio_net_hdr bad;

	bad = vh, bad.gso_size = 0;
	assert_int_equal(gso_segment(&bad, pkt, len, scratch, sizeof(scratch), collect, NULL), -EINVAL);
	bad = vh, bad.gso_size = GSO_TCP_MIN_MSS - 1;	/* thousands of segments */
	assert_int_equal(gso_segment(&bad, pkt, len, scratch, sizeof(scratch), collect, NULL), -EINVAL);
	bad = vh, bad.csum_start = 10;
	assert_int_equal(gso_segment(&bad, pkt, len, scratch, sizeof(scratch), collect, NULL), -EINVAL);
	bad = vh, bad.csum_start = (uint16_t)(len - 5);
	assert_int_equal(gso_segment(&bad, pkt, len, scratch, sizeof(scratch), collect, NULL), -EINVAL);
	bad = vh, bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;	/* an IPv4 packet */
	assert_int_equal(gso_segment(&bad, pkt, len, scratch, sizeof(scratch), collect, NULL), -EINVAL);
	bad = vh, bad.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(gso_segment(&bad, pkt, len, scratch, sizeof(scratch), collect, NULL), -EOPNOTSUPP);
	bad = vh, bad.gso_type = VIRTIO_NET_HDR_GSO_NONE, bad.csum_offset = 60000;
	assert_int_equal(gso_segment(&bad, pkt, len, scratch, sizeof(scratch), collect, NULL), -EINVAL);
	/* A scratch buffer too small for one segment. */
	assert_int_equal(gso_segment(&vh, pkt, len, scratch, 500, collect, NULL), -EINVAL);
	/* A TCP type on what the IP header says is UDP. */
	pkt[9] = 17;
	assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), collect, NULL), -EINVAL);
}

/* What the daemons check before they write a packet from a peer: the
 * header must point at the transport header pkt_parse() found. */
static void a_peer_header_must_describe_the_packet(void **state)
{
	static const struct {
		const char *what; bool v6, udp, hbh; int field; int value; int want;
	} cases[] = {
		{ "TCPv4 as the kernel makes it", false, false, false, 0, 0, 0 },
		{ "TCPv6", true, false, false, 0, 0, 0 },
		{ "UDPv4", false, true, false, 0, 0, 0 },
		{ "UDPv6", true, true, false, 0, 0, 0 },
		{ "TCPv6 behind a hop-by-hop header", true, false, true, 0, 0, 0 },
		{ "UDPv6 behind a hop-by-hop header", true, true, true, 0, 0, 0 },
		{ "checksum only (GSO_NONE)", false, false, false, 't', VIRTIO_NET_HDR_GSO_NONE, 0 },
		{ "TCPv4 with ECN", false, false, false, 't', VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 0 },
		{ "start inside the hop-by-hop header", true, false, true, 's', 41, -EINVAL },
		{ "start before the UDP header", true, true, true, 's', 40, -EINVAL },
		{ "start beyond the TCP header", false, false, false, 's', 24, -EINVAL },
		{ "TCP checksum field elsewhere", false, false, false, 'o', 2, -EINVAL },
		{ "UDP checksum field elsewhere", false, true, false, 'o', 16, -EINVAL },
		{ "TCPv6 type on IPv4", false, false, false, 't', VIRTIO_NET_HDR_GSO_TCPV6, -EINVAL },
		{ "UDP type on TCP", false, false, false, 't', VIRTIO_NET_HDR_GSO_UDP_L4, -EINVAL },
		{ "TCP type on UDP", false, true, false, 't', VIRTIO_NET_HDR_GSO_TCPV4, -EINVAL },
		{ "a super-packet without NEEDS_CSUM", false, false, false, 'f', 0, -EINVAL },
		{ "TCP segments of 48 bytes, Linux's least", false, false, false, 'm', GSO_TCP_MIN_MSS, 0 },
		{ "TCP segments of 47 bytes", false, false, false, 'm', GSO_TCP_MIN_MSS - 1, -EINVAL },
		{ "TCP segment size 0", true, false, false, 'm', 0, -EINVAL },
		{ "125 UDP datagrams", false, true, false, 'm', 24, 0 },
		{ "131 UDP datagrams", false, true, false, 'm', 23, -EINVAL },
		{ "UDP datagram size 0", true, true, false, 'm', 0, -EINVAL },
		{ "ICMP", false, false, false, 'p', 1, -EINVAL },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct virtio_net_hdr vh;
		struct pkt_info pi;
		size_t len = cases[i].udp ? build_udp(cases[i].v6, 3000, 1000, &vh)
					  : build(cases[i].v6, 3000, 0x10, &vh);

		if (cases[i].hbh) {	/* 8 bytes of hop-by-hop options (PadN) */
			memmove(pkt + 48, pkt + 40, len - 40);
			pkt[48 - 8] = pkt[6], pkt[41] = 0, pkt[42] = 1, pkt[43] = 4;
			memset(pkt + 44, 0, 4);
			pkt[6] = 0;
			len += 8;
			pkt[4] = (uint8_t)((len - 40) >> 8), pkt[5] = (uint8_t)(len - 40);
			vh.csum_start = 48;
		}
		switch (cases[i].field) {
		case 's': vh.csum_start = (uint16_t)cases[i].value; break;
		case 'o': vh.csum_offset = (uint16_t)cases[i].value; break;
		case 't': vh.gso_type = (uint8_t)cases[i].value; break;
		case 'f': vh.flags = 0; break;
		case 'm': vh.gso_size = (uint16_t)cases[i].value; break;
		case 'p': pkt[9] = (uint8_t)cases[i].value; break;
		}
		assert_int_equal(pkt_parse(pkt, len, &pi), 0);
		if (gso_check(&vh, &pi) != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].what, gso_check(&vh, &pi), cases[i].want);
	}
}

static void a_completed_checksum_of_zero_is_written_as_ffff(void **state)
{
	struct virtio_net_hdr vh;
	size_t len = build_udp(false, 100, 1000, &vh), l4 = 20;
	uint32_t s;

	/* As above, payload that makes the complement 0; only the checksum
	 * is left to do (no segmentation), in place. */
	vh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	pkt[len - 2] = pkt[len - 1] = 0;
	s = sum16(pkt + 12, 8, 17 + (uint32_t)(len - l4));	/* the pseudo header */
	pkt[l4 + 6] = (uint8_t)(s >> 8), pkt[l4 + 7] = (uint8_t)s;	/* CHECKSUM_PARTIAL */
	s = sum16(pkt + l4, len - l4, 0);
	pkt[len - 2] = (uint8_t)((0xffff - s) >> 8);
	pkt[len - 1] = (uint8_t)(0xffff - s);
	nsegs = 0;
	assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), collect, NULL), 0);
	assert_int_equal(nsegs, 1);
	assert_int_equal(segs[0][l4 + 6] << 8 | segs[0][l4 + 7], 0xffff);
	assert_udp_csum_ok(segs[0], seglen[0], false);
}

static void udp_headers_that_do_not_add_up_are_refused(void **state)
{
	static const struct { const char *what; size_t len_less; int field; int value; } cases[] = {
		{ "no datagram size", 0, 'm', 0 },
		{ "the UDP header not behind the IP header", 0, 's', 24 },
		{ "the UDP header beyond the end", 0, 's', 60000 },
		{ "an IPv4 packet that is TCP", 0, 'p', 6 },
		{ "an IP version that is neither", 0, 'v', 0x55 },
		{ "shorter than its headers", 5010, 0, 0 },
		{ "more datagrams than Linux sends at once", 0, 'm', 5000 / 129 },
	};
	nsegs = 0;
	for (size_t i = 0; i < N(cases); i++) {
		struct virtio_net_hdr vh;
		size_t len = build_udp(false, 5000, 1000, &vh);

		switch (cases[i].field) {
		case 'm': vh.gso_size = (uint16_t)cases[i].value; break;
		case 's': vh.csum_start = (uint16_t)cases[i].value; break;
		case 'p': pkt[9] = (uint8_t)cases[i].value; break;
		case 'v': pkt[0] = (uint8_t)cases[i].value; break;
		}
		assert_int_equal(gso_segment(&vh, pkt, len - cases[i].len_less, scratch,
					     sizeof(scratch), collect, NULL), -EINVAL);
	}
	assert_int_equal(nsegs, 0);
}

static int stop_after_two(void *arg, const uint8_t *p, size_t n)
{
	return ++*(int *)arg == 2 ? -ENOBUFS : 0;
}

static void an_error_from_emit_stops_the_segmentation(void **state)
{
	struct virtio_net_hdr vh;
	size_t len = build(true, 5000, 0x10, &vh);
	int calls = 0;

	assert_int_equal(gso_segment(&vh, pkt, len, scratch, sizeof(scratch), stop_after_two, &calls), -ENOBUFS);
	assert_int_equal(calls, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_super_segment_becomes_mss_sized_valid_segments),
		cmocka_unit_test(cwr_stays_on_the_first_segment_only),
		cmocka_unit_test(a_udp_super_packet_becomes_its_datagrams),
		cmocka_unit_test(a_udp_checksum_of_zero_is_sent_as_ffff),
		cmocka_unit_test(a_packet_needing_only_its_checksum_gets_it_in_place),
		cmocka_unit_test(plain_headers_are_recognised),
		cmocka_unit_test(headers_that_do_not_add_up_are_refused),
		cmocka_unit_test(udp_headers_that_do_not_add_up_are_refused),
		cmocka_unit_test(a_peer_header_must_describe_the_packet),
		cmocka_unit_test(a_completed_checksum_of_zero_is_written_as_ffff),
		cmocka_unit_test(an_error_from_emit_stops_the_segmentation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
