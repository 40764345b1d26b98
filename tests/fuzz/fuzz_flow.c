/* libFuzzer: a flow table driven by a sequence of outbound and inbound
 * packets. Whatever arrives, nothing reads outside a packet, the counters
 * add up, the table stays within its size, and no TCP SYN or echo request
 * from the shoot side ever passes.
 *
 * Input: one byte for the table size (1 + b % 16, so that eviction is
 * common), then records of
 *
 *	op	bits 0-2: what, bits 3-4: tunnel (0..3)
 *	dt	time step: dt < 200 ? 10 ms * dt : 1 min * (dt - 200), which
 *		reaches every timeout within a few records
 *	...	per op:
 *	0, 6, 7	outbound packet: 2-byte length (& 0x7ff), then the bytes
 *	1	inbound packet: the same
 *	2	inbound answer to the last outbound packet: its addresses and
 *		ports swapped, then 1 byte for the TCP flags or ICMP type
 *	3	inbound ICMP error quoting the last outbound packet: type,
 *		code, bytes quoted
 *	4	flow_expire(): 1 byte budget
 *	5	flow_foreach(), checking each entry
 *
 * Ops 2 and 3 let the fuzzer reach answers without having to learn to
 * mirror a tuple. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tunnel/flow.h"
#include "fuzz.h"



struct fuzz {
	struct flow_table *t;
	size_t max;
	uint64_t now;
	uint64_t inbound;	/* flow_inbound() calls */
	uint8_t last[2048];	/* the last outbound packet */
	size_t last_len;
};

/* Where the transport header of a simple packet starts (IPv4, or IPv6
 * without extension headers), or 0. */
static size_t fuzz_l4(const uint8_t *p, size_t len, uint8_t *proto)
{
	if (len >= 20 && p[0] >> 4 == 4 && !((p[6] & 0x1f) << 8 | p[7])) {
		*proto = p[9];
		return (size_t)(p[0] & 0x0f) * 4;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		*proto = p[6];
		return 40;
	}
	return 0;
}

static void fuzz_check_counters(const struct fuzz *z)
{
	const struct flow_counters *c = flow_counters(z->t);
	uint64_t sum = 0;

	CHECK(c->tracked <= z->max);
	CHECK(c->tracked == c->created - c->evicted - c->expired);
	for (size_t v = 0; v < FLOW_VERDICT__MAX; v++)
		sum += c->inbound[v];
	CHECK(sum == z->inbound);
}

static void fuzz_out(struct fuzz *z, const uint8_t *p, size_t len, unsigned tunnel)
{
	/* A private copy of the exact size: ASan then catches a read one
	 * past the end. */
	uint8_t *b = malloc(len ? len : 1);
	int rc;

	if (!b)
		return;
	memcpy(b, p, len);
	rc = flow_outbound(z->t, b, len, z->now, tunnel);
	CHECK(rc == 0 || rc == -EINVAL || rc == -EPROTONOSUPPORT || rc == -ENOENT);
	if (len <= sizeof(z->last)) {
		memcpy(z->last, b, len);
		z->last_len = len;
	}
	free(b);
}

static void fuzz_in(struct fuzz *z, const uint8_t *p, size_t len, unsigned tunnel)
{
	uint8_t *b = malloc(len ? len : 1), proto = 0;
	unsigned ft = ~0u;
	enum flow_verdict v;
	size_t off;

	if (!b)
		return;
	memcpy(b, p, len);
	v = flow_inbound(z->t, b, len, z->now, tunnel, &ft);
	z->inbound++;
	CHECK((unsigned)v < FLOW_VERDICT__MAX);
	if (v == FLOW_PASS) {
		CHECK(ft == tunnel);
		off = fuzz_l4(b, len, &proto);
		if (off && proto == IPPROTO_TCP && off + 14 <= len)
			CHECK((b[off + 13] & 0x12) != 0x02);	/* never SYN without ACK */
		if (off && off < len && ((proto == IPPROTO_ICMP && b[0] >> 4 == 4) ||
					 (proto == IPPROTO_ICMPV6 && b[0] >> 4 == 6)))
			CHECK(b[off] != (b[0] >> 4 == 4 ? 8 : 128));	/* nor an echo request */
	} else if (v == FLOW_DROP_wrong_tunnel) {
		CHECK(ft != tunnel && ft != ~0u);
	}
	free(b);
}

/* The last outbound packet, coming back: addresses and ports swapped. */
static void fuzz_answer(struct fuzz *z, uint8_t arg, unsigned tunnel)
{
	uint8_t p[sizeof(z->last)], t[16], proto = 0;
	size_t len = z->last_len, off, alen, a;

	memcpy(p, z->last, len);
	off = fuzz_l4(p, len, &proto);
	if (!off)
		return;
	alen = p[0] >> 4 == 4 ? 4 : 16;
	a = alen == 4 ? 12 : 8;
	memcpy(t, p + a, alen);
	memcpy(p + a, p + a + alen, alen);
	memcpy(p + a + alen, t, alen);
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && off + 4 <= len) {
		memcpy(t, p + off, 2);
		memcpy(p + off, p + off + 2, 2);
		memcpy(p + off + 2, t, 2);
	}
	if (proto == IPPROTO_TCP && off + 14 <= len)
		p[off + 13] = arg;
	else if ((proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) && off < len)
		p[off] = arg;
	fuzz_in(z, p, len, tunnel);
}

/* An ICMP error from the last outbound packet's destination to its
 * source, quoting qlen bytes of it. */
static void fuzz_error(struct fuzz *z, uint8_t type, uint8_t code, uint8_t qlen, unsigned tunnel)
{
	uint8_t p[48 + sizeof(z->last)];
	size_t hl, n;
	bool v4;

	if (z->last_len < 20 || (z->last[0] >> 4 != 4 && z->last[0] >> 4 != 6))
		return;
	v4 = z->last[0] >> 4 == 4;
	if (!v4 && z->last_len < 40)
		return;
	hl = v4 ? 20 : 40;
	n = qlen < z->last_len ? qlen : z->last_len;
	memset(p, 0, hl + 8);
	if (v4) {
		p[0] = 0x45;
		p[2] = (uint8_t)((hl + 8 + n) >> 8);
		p[3] = (uint8_t)(hl + 8 + n);
		p[9] = IPPROTO_ICMP;
		memcpy(p + 12, z->last + 16, 4);
		memcpy(p + 16, z->last + 12, 4);
	} else {
		p[0] = 0x60;
		p[4] = (uint8_t)((8 + n) >> 8);
		p[5] = (uint8_t)(8 + n);
		p[6] = IPPROTO_ICMPV6;
		memcpy(p + 8, z->last + 24, 16);
		memcpy(p + 24, z->last + 8, 16);
	}
	p[hl] = type;
	p[hl + 1] = code;
	memcpy(p + hl + 8, z->last, n);
	fuzz_in(z, p, hl + 8 + n, tunnel);
}

static void fuzz_entry(const struct flow_entry *e, void *arg)
{
	size_t *n = arg;

	CHECK(e->family == AF_INET || e->family == AF_INET6);
	CHECK((unsigned)e->state < FLOW_STATE__MAX);
	CHECK(strcmp(flow_state_name(e->state), "?"));
	CHECK(e->expires_ms > 0);
	CHECK(e->out_packets > 0);
	if (e->family == AF_INET)
		for (size_t i = 4; i < 16; i++)
			CHECK(e->src[i] == 0 && e->dst[i] == 0);
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz z;
	size_t i = 1;

	if (size < 1)
		return 0;
	memset(&z, 0, sizeof(z));
	z.max = 1 + data[0] % 16;
	z.now = 1;
	if (flow_table_new(z.max, &z.t))
		return 0;
	while (i + 2 <= size) {
		uint8_t op = data[i], dt = data[i + 1];
		unsigned tunnel = (op >> 3) & 3;
		size_t len, n = 0;

		i += 2;
		z.now += dt < 200 ? 10ULL * dt : 60000ULL * (dt - 200);
		switch (op & 7) {
		case 0:
		case 1:
		case 6:
		case 7:
			if (i + 2 > size)
				goto done;
			len = (size_t)((data[i] << 8 | data[i + 1]) & 0x7ff);
			i += 2;
			if (len > size - i)
				len = size - i;
			if ((op & 7) == 1)
				fuzz_in(&z, data + i, len, tunnel);
			else
				fuzz_out(&z, data + i, len, tunnel);
			i += len;
			break;
		case 2:
			if (i + 1 > size)
				goto done;
			fuzz_answer(&z, data[i], tunnel);
			i += 1;
			break;
		case 3:
			if (i + 3 > size)
				goto done;
			fuzz_error(&z, data[i], data[i + 1], data[i + 2], tunnel);
			i += 3;
			break;
		case 4:
			if (i + 1 > size)
				goto done;
			CHECK(flow_expire(z.t, z.now, data[i]) <= data[i]);
			i += 1;
			break;
		case 5:
			flow_foreach(z.t, z.now, fuzz_entry, &n);
			CHECK(n <= flow_counters(z.t)->tracked);
			break;
		}
		fuzz_check_counters(&z);
	}
done:
	fuzz_check_counters(&z);
	flow_table_free(z.t);
	return 0;
}
