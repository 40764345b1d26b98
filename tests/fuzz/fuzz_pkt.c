/* libFuzzer: pkt_parse on arbitrary bytes. What it accepts must point
 * inside the buffer and claim no more than it holds. Where it finds a
 * SYN's MSS, setting it changes that option and the checksum only, and
 * leaves the segment's one's-complement sum (what a receiver checks)
 * as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tunnel/pkt.h"
#include "fuzz.h"

/* The segment's one's-complement sum, checksum field included; 0 and
 * 0xffff are the same number. */
static uint16_t segment_sum(const uint8_t *p, size_t from, size_t to)
{
	uint32_t sum = 0;

	for (size_t i = from; i < to; i += 2)
		sum += (uint32_t)(p[i] << 8 | (i + 1 < to ? p[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0 ? 0xffff : (uint16_t)sum;
}

static void check_mss(const uint8_t *p, size_t size, const struct pkt_info *pi)
{
	uint16_t mss = pkt_syn_mss(p, pi, NULL), to;
	uint8_t *q;

	if (!mss)
		return;
	CHECK(pi->proto == IPPROTO_TCP && pi->l4_off && pi->l4_off + 24u <= pi->len);
	q = malloc(size);
	if (!q)
		return;
	memcpy(q, p, size);
	to = (uint16_t)(mss * 7 + 3);
	pkt_set_mss(q, pi, false, to);
	CHECK(pkt_syn_mss(q, pi, NULL) == to);
	for (size_t i = 0; i < size; i++)
		if (p[i] != q[i])
			CHECK(i >= pi->l4_off && i < pi->l4_off + 60u);
	CHECK(segment_sum(p, pi->l4_off, pi->len) == segment_sum(q, pi->l4_off, pi->len));
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	size_t alen;
	int rc;

	/* A private copy: ASan then catches a read one past the end. */
	uint8_t *p = malloc(size ? size : 1);

	if (!p)
		return 0;
	memcpy(p, data, size);
	rc = pkt_parse(p, size, &pi);
	CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		CHECK(pi.family == AF_INET || pi.family == AF_INET6);
		CHECK(pi.family == AF_INET ? p[0] >> 4 == 4 : p[0] >> 4 == 6);
		alen = pi.family == AF_INET ? 4 : 16;
		CHECK(pi.src >= p && pi.src + alen <= p + size);
		CHECK(pi.dst >= p && pi.dst + alen <= p + size);
		CHECK(pi.len <= size);
		CHECK(pi.len >= (pi.family == AF_INET ? 20 : 40));
		if (pi.proto != IPPROTO_TCP && pi.proto != IPPROTO_UDP &&
		    pi.proto != IPPROTO_ICMP && pi.proto != IPPROTO_ICMPV6)
			CHECK(pi.sport == 0 && pi.dport == 0);
		(void)pkt_link_scoped(&pi);
		check_mss(p, size, &pi);
	}
	free(p);
	return 0;
}
