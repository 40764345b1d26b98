/* tunnel/pkt: IPv4/IPv6 header parsing on hand-built packets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "tunnel/pkt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes an IPv4 header of ihl 32-bit words (options zero) followed by
 * l4len bytes of l4, and returns the total length. frag is the 16-bit
 * flags + fragment offset field. */
static size_t ip4(uint8_t *p, uint8_t proto, unsigned ihl, unsigned frag,
		  const void *l4, size_t l4len)
{
	size_t hl = ihl * 4;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | ihl);
	put16(p + 2, (unsigned)(hl + l4len));
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, "10.0.0.1", p + 12);
	inet_pton(AF_INET, "10.0.0.2", p + 16);
	memcpy(p + hl, l4, l4len);
	return hl + l4len;
}

/* Writes an IPv6 header with next header nh and the payload (extension
 * headers and transport) and returns the total length. */
static size_t ip6(uint8_t *p, uint8_t nh, const void *payload, size_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (unsigned)plen);
	p[6] = nh;
	p[7] = 64;
	inet_pton(AF_INET6, "fd00::1", p + 8);
	inet_pton(AF_INET6, "fd00::2", p + 24);
	memcpy(p + 40, payload, plen);
	return 40 + plen;
}

/* An extension header of 8 * (1 + units) bytes at p. */
static size_t ext(uint8_t *p, uint8_t nh, uint8_t units)
{
	memset(p, 0, 8 + (size_t)units * 8);
	p[0] = nh;
	p[1] = units;
	return 8 + (size_t)units * 8;
}

static size_t frag6(uint8_t *p, uint8_t nh, unsigned offset8, bool more)
{
	memset(p, 0, 8);
	p[0] = nh;
	put16(p + 2, offset8 << 3 | (more ? 1 : 0));
	p[7] = 42;	/* identification */
	return 8;
}

/* Transport headers: ports 1234 -> 80; ICMP echo with id 0xbeef. */
static const uint8_t tcp[20] = { 0x04, 0xd2, 0x00, 0x50, [12] = 0x50 };
static const uint8_t udp[8] = { 0x04, 0xd2, 0x00, 0x35, 0, 8 };
static const uint8_t icmp_echo[8] = { 8, 0, 0, 0, 0xbe, 0xef, 0, 1 };
static const uint8_t icmp6_echo[8] = { 128, 0, 0, 0, 0xbe, 0xef, 0, 1 };

/* ---- IPv4 ---- */

static void ipv4_gives_addresses_protocol_ports_and_length(void **state)
{
	static const struct {
		const char *what;
		uint8_t proto;
		const uint8_t *l4;
		size_t l4len;
		uint16_t sport, dport;
	} rows[] = {
		{ "tcp", IPPROTO_TCP, tcp, sizeof(tcp), 1234, 80 },
		{ "udp", IPPROTO_UDP, udp, sizeof(udp), 1234, 53 },
		{ "icmp echo", IPPROTO_ICMP, icmp_echo, sizeof(icmp_echo), 0xbeef, 0 },
		{ "gre: no ports", 47, tcp, sizeof(tcp), 0, 0 },
		{ "udp cut to 4 bytes", IPPROTO_UDP, udp, 4, 1234, 53 },
		{ "udp cut to 3 bytes: no ports", IPPROTO_UDP, udp, 3, 0, 0 },
		{ "icmp cut to 5 bytes: no id", IPPROTO_ICMP, icmp_echo, 5, 0, 0 },
		{ "no transport bytes", IPPROTO_TCP, tcp, 0, 0, 0 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t p[128];
		struct pkt_info pi;
		size_t len = ip4(p, rows[i].proto, 5, 0, rows[i].l4, rows[i].l4len);

		if (pkt_parse(p, len, &pi))
			fail_msg("%s: refused", rows[i].what);
		assert_int_equal(pi.family, AF_INET);
		assert_ptr_equal(pi.src, p + 12);
		assert_ptr_equal(pi.dst, p + 16);
		assert_int_equal(pi.proto, rows[i].proto);
		assert_int_equal(pi.len, len);
		if (pi.sport != rows[i].sport || pi.dport != rows[i].dport)
			fail_msg("%s: ports %u -> %u, want %u -> %u", rows[i].what, pi.sport,
				 pi.dport, rows[i].sport, rows[i].dport);
	}
}

static void ipv4_ports_are_read_after_the_options(void **state)
{
	uint8_t p[128];
	struct pkt_info pi;
	size_t len = ip4(p, IPPROTO_TCP, 7, 0, tcp, sizeof(tcp));

	p[20] = 0x01;	/* NOP options that would read as ports */
	p[21] = 0x01;
	assert_int_equal(pkt_parse(p, len, &pi), 0);
	assert_int_equal(pi.sport, 1234);
	assert_int_equal(pi.dport, 80);
}

static void ipv4_length_is_the_header_total_not_the_buffer(void **state)
{
	uint8_t p[128] = { 0 };
	struct pkt_info pi;
	size_t len = ip4(p, IPPROTO_UDP, 5, 0, udp, sizeof(udp));

	/* Trailing bytes (padding) beyond the total length are allowed. */
	assert_int_equal(pkt_parse(p, len + 30, &pi), 0);
	assert_int_equal(pi.len, len);
}

static void ipv4_only_the_first_fragment_has_ports(void **state)
{
	static const struct { const char *what; unsigned frag; bool ports; } rows[] = {
		{ "not fragmented", 0x0000, true },
		{ "don't fragment", 0x4000, true },
		{ "first fragment (MF, offset 0)", 0x2000, true },
		{ "middle fragment", 0x2000 | 185, false },
		{ "last fragment", 185, false },
		{ "largest offset", 0x1fff, false },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t p[128];
		struct pkt_info pi;
		size_t len = ip4(p, IPPROTO_UDP, 5, rows[i].frag, udp, sizeof(udp));

		assert_int_equal(pkt_parse(p, len, &pi), 0);
		assert_int_equal(pi.proto, IPPROTO_UDP);
		if ((pi.sport == 1234 && pi.dport == 53) != rows[i].ports)
			fail_msg("%s: ports %u -> %u", rows[i].what, pi.sport, pi.dport);
		if (!rows[i].ports)
			assert_true(pi.sport == 0 && pi.dport == 0);
	}
}

static void ipv4_malformed_headers_are_refused(void **state)
{
	/* Each row patches one byte of a good UDP packet (28 bytes) and
	 * may hand over fewer bytes than it holds. */
	static const struct { const char *what; size_t at; uint8_t val; size_t len; } rows[] = {
		{ "ihl 4 (16 bytes)", 0, 0x44, 28 },
		{ "ihl 0", 0, 0x40, 28 },
		{ "ihl beyond the total length", 0, 0x4f, 28 },
		{ "total length beyond the buffer", 3, 200, 28 },
		{ "total length below 20", 3, 19, 28 },
		{ "buffer shorter than 20", 0, 0x45, 19 },
		{ "buffer shorter than the total length", 0, 0x45, 27 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t p[128];
		struct pkt_info pi;

		assert_int_equal(ip4(p, IPPROTO_UDP, 5, 0, udp, sizeof(udp)), 28);
		p[rows[i].at] = rows[i].val;
		if (pkt_parse(p, rows[i].len, &pi) != -EINVAL)
			fail_msg("%s: accepted", rows[i].what);
	}
}

static void unknown_versions_and_empty_buffers_are_refused(void **state)
{
	static const uint8_t first[] = { 0x00, 0x15, 0x55, 0x75, 0xf5 };
	uint8_t p[64] = { 0 };
	struct pkt_info pi;

	assert_int_equal(pkt_parse(p, 0, &pi), -EINVAL);
	for (size_t i = 0; i < N(first); i++) {
		p[0] = first[i];
		if (pkt_parse(p, sizeof(p), &pi) != -EINVAL)
			fail_msg("version %u accepted", first[i] >> 4);
	}
}

/* ---- IPv6 ---- */

static void ipv6_gives_addresses_protocol_ports_and_length(void **state)
{
	static const struct {
		const char *what;
		uint8_t nh;
		const uint8_t *l4;
		size_t l4len;
		uint16_t sport, dport;
	} rows[] = {
		{ "tcp", IPPROTO_TCP, tcp, sizeof(tcp), 1234, 80 },
		{ "udp", IPPROTO_UDP, udp, sizeof(udp), 1234, 53 },
		{ "icmpv6 echo", IPPROTO_ICMPV6, icmp6_echo, sizeof(icmp6_echo), 0xbeef, 0 },
		{ "sctp: no ports", IPPROTO_SCTP, tcp, sizeof(tcp), 0, 0 },
		{ "udp cut to 3 bytes", IPPROTO_UDP, udp, 3, 0, 0 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t p[128];
		struct pkt_info pi;
		size_t len = ip6(p, rows[i].nh, rows[i].l4, rows[i].l4len);

		if (pkt_parse(p, len, &pi))
			fail_msg("%s: refused", rows[i].what);
		assert_int_equal(pi.family, AF_INET6);
		assert_ptr_equal(pi.src, p + 8);
		assert_ptr_equal(pi.dst, p + 24);
		assert_int_equal(pi.proto, rows[i].nh);
		assert_int_equal(pi.len, len);
		if (pi.sport != rows[i].sport || pi.dport != rows[i].dport)
			fail_msg("%s: ports %u -> %u, want %u -> %u", rows[i].what, pi.sport,
				 pi.dport, rows[i].sport, rows[i].dport);
	}
}

static void ipv6_payload_length_0_means_the_whole_buffer(void **state)
{
	/* A jumbogram or a GSO super-packet. */
	uint8_t p[128];
	struct pkt_info pi;
	size_t len = ip6(p, IPPROTO_UDP, udp, sizeof(udp));

	put16(p + 4, 0);
	assert_int_equal(pkt_parse(p, len, &pi), 0);
	assert_int_equal(pi.len, len);
	assert_int_equal(pi.sport, 1234);
	/* Just the header: no transport, still well-formed. */
	assert_int_equal(pkt_parse(p, 40, &pi), 0);
	assert_int_equal(pi.len, 40);
	assert_int_equal(pi.sport, 0);
}

/* The largest payload length, 65535, makes a packet of 65575 bytes: its
 * length is counted whole (flow byte counters, the MSS clamp's bounds),
 * not cut at 16 bits. One byte more than the header claims is padding. */
static void ipv6_lengths_above_64k_are_counted_whole(void **state)
{
	static uint8_t p[40 + 65535 + 1];
	struct pkt_info pi;

	(void)state;
	ip6(p, IPPROTO_UDP, udp, sizeof(udp));
	put16(p + 4, 65535);
	assert_int_equal(pkt_parse(p, 40 + 65535, &pi), 0);
	assert_int_equal(pi.len, 40 + 65535);
	assert_int_equal(pkt_parse(p, sizeof(p), &pi), 0);
	assert_int_equal(pi.len, 40 + 65535);
	assert_int_equal(pkt_parse(p, 40 + 65534, &pi), -EINVAL);
	put16(p + 4, 65536 - 40);	/* exactly 64 KiB in all */
	assert_int_equal(pkt_parse(p, 65536, &pi), 0);
	assert_int_equal(pi.len, 65536);
}

static void ipv6_extension_headers_are_walked_to_the_transport(void **state)
{
	/* IPPROTO_HOPOPTS is 0, so each chain has its length. */
	static const struct { const char *what; size_t n; uint8_t chain[4], units[4]; } rows[] = {
		{ "hop-by-hop", 1, { IPPROTO_HOPOPTS }, { 0 } },
		{ "destination options of 16 bytes", 1, { IPPROTO_DSTOPTS }, { 1 } },
		{ "routing", 1, { IPPROTO_ROUTING }, { 2 } },
		{ "hop-by-hop, routing, destination options", 3,
		  { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS }, { 0, 1, 0 } },
		{ "hop-by-hop, then a first fragment", 2,
		  { IPPROTO_HOPOPTS, IPPROTO_FRAGMENT }, { 0, 0 } },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t pl[256], p[300];
		size_t n = 0, k;
		struct pkt_info pi;

		for (k = 0; k < rows[i].n; k++) {
			uint8_t next = k + 1 < rows[i].n ? rows[i].chain[k + 1] : IPPROTO_UDP;

			if (rows[i].chain[k] == IPPROTO_FRAGMENT)
				n += frag6(pl + n, next, 0, true);
			else
				n += ext(pl + n, next, rows[i].units[k]);
		}
		memcpy(pl + n, udp, sizeof(udp));
		n += sizeof(udp);
		n = ip6(p, rows[i].chain[0], pl, n);
		if (pkt_parse(p, n, &pi))
			fail_msg("%s: refused", rows[i].what);
		if (pi.proto != IPPROTO_UDP || pi.sport != 1234 || pi.dport != 53)
			fail_msg("%s: proto %u ports %u -> %u", rows[i].what, pi.proto,
				 pi.sport, pi.dport);
	}
}

static void ipv6_only_the_first_fragment_has_ports(void **state)
{
	static const struct { const char *what; unsigned off8; bool more, ports; } rows[] = {
		{ "first fragment", 0, true, true },
		{ "atomic fragment", 0, false, true },
		{ "middle fragment", 10, true, false },
		{ "last fragment", 10, false, false },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t pl[64], p[128];
		struct pkt_info pi;
		size_t n = frag6(pl, IPPROTO_UDP, rows[i].off8, rows[i].more);

		memcpy(pl + n, udp, sizeof(udp));
		n = ip6(p, IPPROTO_FRAGMENT, pl, n + sizeof(udp));
		if (pkt_parse(p, n, &pi))
			fail_msg("%s: refused", rows[i].what);
		/* The transport protocol is known from every fragment. */
		assert_int_equal(pi.proto, IPPROTO_UDP);
		if (rows[i].ports != (pi.sport == 1234 && pi.dport == 53))
			fail_msg("%s: ports %u -> %u", rows[i].what, pi.sport, pi.dport);
		if (!rows[i].ports)
			assert_true(pi.sport == 0 && pi.dport == 0);
	}
}

static void ipv6_malformed_headers_are_refused(void **state)
{
	uint8_t pl[64] = { 0 }, p[128];
	struct pkt_info pi;
	size_t n;

	/* shorter than the fixed header */
	n = ip6(p, IPPROTO_UDP, udp, sizeof(udp));
	assert_int_equal(pkt_parse(p, 39, &pi), -EINVAL);
	/* payload length beyond the buffer */
	assert_int_equal(pkt_parse(p, n - 1, &pi), -EINVAL);
	/* an extension header cut short */
	n = ip6(p, IPPROTO_HOPOPTS, pl, 4);
	assert_int_equal(pkt_parse(p, n, &pi), -EINVAL);
	/* an extension header whose length runs past the packet */
	ext(pl, IPPROTO_UDP, 4);
	n = ip6(p, IPPROTO_DSTOPTS, pl, 16);
	assert_int_equal(pkt_parse(p, n, &pi), -EINVAL);
	/* a fragment header cut short */
	frag6(pl, IPPROTO_UDP, 0, true);
	n = ip6(p, IPPROTO_FRAGMENT, pl, 6);
	assert_int_equal(pkt_parse(p, n, &pi), -EINVAL);
}

static void ipv6_extension_header_chain_is_bounded(void **state)
{
	/* Twenty hop-by-hop headers in a row: the walk stops rather than
	 * reading on, and reports no ports. */
	uint8_t pl[200], p[300];
	struct pkt_info pi;
	size_t n = 0;

	for (int i = 0; i < 20; i++)
		n += ext(pl + n, IPPROTO_HOPOPTS, 0);
	n = ip6(p, IPPROTO_HOPOPTS, pl, n);
	assert_int_equal(pkt_parse(p, n, &pi), 0);
	assert_int_equal(pi.sport, 0);
	assert_int_equal(pi.dport, 0);
}

/* ---- link scope ---- */

static void link_scoped_destinations_are_multicast_broadcast_and_link_local(void **state)
{
	static const struct { const char *dst; bool scoped; } rows[] = {
		{ "224.0.0.1", true }, { "239.255.255.250", true },
		{ "255.255.255.255", true }, { "223.255.255.255", false },
		{ "240.0.0.1", false }, { "10.0.0.255", false }, { "192.168.1.1", false },
		{ "ff02::1", true }, { "ff02::1:ff00:2", true }, { "ff05::2", true },
		{ "fe80::1", true }, { "febf:ffff::1", true }, { "fec0::1", false },
		{ "fd8f:6d53:b97a:1::2", false }, { "2001:db8::1", false }, { "::1", false },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t p[128];
		struct pkt_info pi;
		bool v6 = strchr(rows[i].dst, ':') != NULL;
		size_t n = v6 ? ip6(p, IPPROTO_UDP, udp, sizeof(udp))
			      : ip4(p, IPPROTO_UDP, 5, 0, udp, sizeof(udp));

		inet_pton(v6 ? AF_INET6 : AF_INET, rows[i].dst, p + (v6 ? 24 : 16));
		assert_int_equal(pkt_parse(p, n, &pi), 0);
		if (pkt_link_scoped(&pi) != rows[i].scoped)
			fail_msg("%s: want link-scoped=%d", rows[i].dst, rows[i].scoped);
	}
}


/* ---- the MSS of SYNs ---- */

/* A TCP header of 20 bytes plus opts (padded with EOL to a multiple of
 * 4), ports 1234 -> 80, the given flags; returns its length. */
static size_t tcp_syn(uint8_t *p, uint8_t flags, const uint8_t *opts, size_t olen)
{
	size_t hl = 20 + (olen + 3) / 4 * 4;

	memset(p, 0, hl);
	memcpy(p, tcp, 4);
	p[12] = (uint8_t)(hl / 4 << 4);
	p[13] = flags;
	memcpy(p + 20, opts, olen);
	return hl;
}

/* The TCP checksum over the pseudo-header and the segment, as a sender
 * computes it (with the checksum field taken as 0). */
static uint16_t tcp_csum(const uint8_t *p, const struct pkt_info *pi)
{
	size_t alen = pi->family == AF_INET ? 4 : 16, tl = pi->len - pi->l4_off;
	const uint8_t *th = p + pi->l4_off;
	uint32_t sum = IPPROTO_TCP + (uint32_t)tl;

	for (size_t i = 0; i < alen; i += 2)
		sum += (uint32_t)(pi->src[i] << 8 | pi->src[i + 1]) +
		       (uint32_t)(pi->dst[i] << 8 | pi->dst[i + 1]);
	for (size_t i = 0; i < tl; i += 2) {
		if (i == 16)
			continue;
		sum += (uint32_t)(th[i] << 8 | (i + 1 < tl ? th[i + 1] : 0));
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#define SYN 0x02
#define ACK 0x10
#define RST 0x04
#define MSS1460 2, 4, 0x05, 0xb4

static void the_mss_of_a_syn_is_found_among_its_options(void **state)
{
	static const struct {
		const char *what;
		uint8_t flags;
		uint8_t opts[40];
		size_t olen;
		uint16_t want;
		bool ts;
	} rows[] = {
		{ "SYN, MSS first", SYN, { MSS1460 }, 4, 1460, false },
		{ "SYN-ACK", SYN | ACK, { MSS1460 }, 4, 1460, false },
		{ "after NOPs, at an odd offset", SYN, { 1, MSS1460 }, 5, 1460, false },
		{ "after SACK-permitted and timestamps", SYN,
		  { 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, MSS1460 }, 16, 1460, true },
		{ "before timestamps", SYN,
		  { MSS1460, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8 }, 16, 1460, true },
		{ "two MSS options: the last counts, as for Linux", SYN,
		  { 2, 4, 0x23, 0x28, MSS1460 }, 8, 1460, false },
		{ "an MSS option of the wrong length is skipped", SYN,
		  { 2, 3, 9, MSS1460 }, 7, 1460, false },
		{ "no MSS option", SYN, { 1, 1, 4, 2 }, 4, 0, false },
		{ "no options", SYN, { 0 }, 0, 0, false },
		{ "after the end of the option list", SYN, { 0, MSS1460 }, 5, 0, false },
		{ "an option of length 0 ends the walk", SYN, { 8, 0, MSS1460 }, 6, 0, false },
		{ "an option running past the header", SYN, { MSS1460, 1, 8, 10 }, 7, 0, false },
		{ "not a SYN", ACK, { MSS1460 }, 4, 0, false },
		{ "a SYN with RST", SYN | RST, { MSS1460 }, 4, 0, false },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t th[64], p[128];
		struct pkt_info pi;
		size_t len = ip4(p, IPPROTO_TCP, 5, 0, th, tcp_syn(th, rows[i].flags, rows[i].opts, rows[i].olen));

		bool ts = !rows[i].ts;
		uint16_t got;

		assert_int_equal(pkt_parse(p, len, &pi), 0);
		got = pkt_syn_mss(p, &pi, &ts);
		if (got != rows[i].want)
			fail_msg("%s: %u, want %u", rows[i].what, got, rows[i].want);
		if (got && ts != rows[i].ts)
			fail_msg("%s: timestamps %d, want %d", rows[i].what, ts, rows[i].ts);
	}
}

static void only_whole_tcp_headers_of_first_fragments_have_an_mss(void **state)
{
	uint8_t th[64], p[128];
	struct pkt_info pi;
	size_t hl = tcp_syn(th, SYN, (const uint8_t[]){ MSS1460 }, 4), len;

	len = ip4(p, IPPROTO_UDP, 5, 0, th, hl);
	assert_int_equal(pkt_parse(p, len, &pi), 0);
	assert_int_equal(pkt_syn_mss(p, &pi, NULL), 0);

	len = ip4(p, IPPROTO_TCP, 5, 0x0010, th, hl);	/* offset 128 bytes */
	assert_int_equal(pkt_parse(p, len, &pi), 0);
	assert_int_equal(pkt_syn_mss(p, &pi, NULL), 0);

	len = ip4(p, IPPROTO_TCP, 5, 0, th, hl - 2);	/* cut in the option */
	assert_int_equal(pkt_parse(p, len, &pi), 0);
	assert_int_equal(pkt_syn_mss(p, &pi, NULL), 0);

	len = ip4(p, IPPROTO_TCP, 5, 0, th, 19);	/* not even a header */
	assert_int_equal(pkt_parse(p, len, &pi), 0);
	assert_int_equal(pkt_syn_mss(p, &pi, NULL), 0);
}

static void setting_the_mss_keeps_the_checksum_valid(void **state)
{
	static const struct {
		const char *what;
		bool v6;
		uint8_t opts[8];
		size_t olen;
	} rows[] = {
		{ "IPv4, even offset", false, { MSS1460 }, 4 },
		{ "IPv4, odd offset: the value spans two checksum words", false, { 1, MSS1460 }, 5 },
		{ "IPv6 behind an extension header", true, { 1, 1, 1, MSS1460 }, 7 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t th[64], pl[128], p[192];
		struct pkt_info pi;
		size_t hl = tcp_syn(th, SYN, rows[i].opts, rows[i].olen), len;
		uint16_t want;

		memcpy(th + hl, "payload", 7);	/* an odd length too */
		if (rows[i].v6) {
			size_t e = ext(pl, IPPROTO_TCP, 0);

			memcpy(pl + e, th, hl + 7);
			len = ip6(p, IPPROTO_DSTOPTS, pl, e + hl + 7);
		} else {
			len = ip4(p, IPPROTO_TCP, 5, 0, th, hl + 7);
		}
		assert_int_equal(pkt_parse(p, len, &pi), 0);
		want = tcp_csum(p, &pi);
		put16(p + pi.l4_off + 16, want);

		pkt_set_mss(p, &pi, false, 1357);
		assert_int_equal(pkt_syn_mss(p, &pi, NULL), 1357);
		if ((uint16_t)(p[pi.l4_off + 16] << 8 | p[pi.l4_off + 17]) != tcp_csum(p, &pi))
			fail_msg("%s: checksum %04x, want %04x", rows[i].what,
				 (uint16_t)(p[pi.l4_off + 16] << 8 | p[pi.l4_off + 17]), tcp_csum(p, &pi));

		/* A partial checksum covers the pseudo-header only: unchanged. */
		want = (uint16_t)(p[pi.l4_off + 16] << 8 | p[pi.l4_off + 17]);
		pkt_set_mss(p, &pi, true, 1200);
		assert_int_equal(pkt_syn_mss(p, &pi, NULL), 1200);
		assert_int_equal((uint16_t)(p[pi.l4_off + 16] << 8 | p[pi.l4_off + 17]), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_gives_addresses_protocol_ports_and_length),
		cmocka_unit_test(ipv4_ports_are_read_after_the_options),
		cmocka_unit_test(ipv4_length_is_the_header_total_not_the_buffer),
		cmocka_unit_test(ipv4_only_the_first_fragment_has_ports),
		cmocka_unit_test(ipv4_malformed_headers_are_refused),
		cmocka_unit_test(unknown_versions_and_empty_buffers_are_refused),
		cmocka_unit_test(ipv6_gives_addresses_protocol_ports_and_length),
		cmocka_unit_test(ipv6_payload_length_0_means_the_whole_buffer),
		cmocka_unit_test(ipv6_lengths_above_64k_are_counted_whole),
		cmocka_unit_test(ipv6_extension_headers_are_walked_to_the_transport),
		cmocka_unit_test(ipv6_only_the_first_fragment_has_ports),
		cmocka_unit_test(ipv6_malformed_headers_are_refused),
		cmocka_unit_test(ipv6_extension_header_chain_is_bounded),
		cmocka_unit_test(link_scoped_destinations_are_multicast_broadcast_and_link_local),
		cmocka_unit_test(the_mss_of_a_syn_is_found_among_its_options),
		cmocka_unit_test(only_whole_tcp_headers_of_first_fragments_have_an_mss),
		cmocka_unit_test(setting_the_mss_keeps_the_checksum_valid),
	};

	return cmocka_run_group_tests_name("pkt", tests, NULL, NULL);
}
