/* Frame and handshake-message codecs. Pure functions over byte buffers:
 * no I/O, no allocation, so they are unit-tested and fuzzed directly. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tunnel/proto.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

int frame_decode(const uint8_t *buf, size_t len, struct frame *f)
{
	uint32_t plen;

	if (len < FRAME_HDR_LEN)
		return 0;
	plen = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	/* Check the type and length before waiting for the payload: a
	 * bogus header must fail at once, not after 16 MB have arrived. */
	if (buf[0] < FRAME_HELLO || buf[0] > FRAME__LAST)
		return -EPROTO;
	if (plen > FRAME_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (len - FRAME_HDR_LEN < plen)
		return 0;
	f->type = buf[0];
	f->len = plen;
	f->payload = buf + FRAME_HDR_LEN;
	return (int)(FRAME_HDR_LEN + plen);
}

void frame_put_hdr(uint8_t *dst, uint8_t type, uint32_t len)
{
	dst[0] = type;
	dst[1] = (uint8_t)(len >> 16);
	dst[2] = (uint8_t)(len >> 8);
	dst[3] = (uint8_t)len;
}

/* TLV writer: appends one TLV; returns the new offset or -ENOSPC. */
static int tlv_put(uint8_t *buf, size_t cap, int off, uint16_t type,
		   const void *val, uint16_t len)
{
	if (off < 0 || (size_t)off + 4 + len > cap)
		return -ENOSPC;
	put16(buf + off, type);
	put16(buf + off + 2, len);
	memcpy(buf + off + 4, val, len);
	return off + 4 + len;
}

static int tlvs_encode(const struct hello *h, uint8_t *buf, size_t cap, int off)
{
	uint8_t v[17];

	if (h->mtu) {
		put16(v, h->mtu);
		off = tlv_put(buf, cap, off, TLV_MTU, v, 2);
	}
	if (h->name[0])
		off = tlv_put(buf, cap, off, TLV_NAME, h->name,
			      (uint16_t)strnlen(h->name, HELLO_NAME_MAX));
	if (h->has_addr) {
		memcpy(v, h->addr.s6_addr, 16);
		v[16] = h->prefix;
		off = tlv_put(buf, cap, off, TLV_ADDR6, v, 17);
	}
	if (h->keepalive_ms) {
		put32(v, h->keepalive_ms);
		off = tlv_put(buf, cap, off, TLV_KEEPALIVE, v, 4);
	}
	for (size_t i = 0; i < h->routes.n; i++) {
		const struct cidr *r = &h->routes.v[i];
		uint16_t alen = r->family == AF_INET ? 4 : 16;
		v[0] = r->prefix;
		memcpy(v + 1, r->addr, alen);
		off = tlv_put(buf, cap, off, TLV_ROUTE, v, (uint16_t)(1 + alen));
	}
	return off;
}

static int tlvs_decode(const uint8_t *p, size_t len, struct hello *h)
{
	while (len) {
		uint16_t type, l;

		if (len < 4)
			return -EBADMSG;
		type = get16(p);
		l = get16(p + 2);
		p += 4;
		len -= 4;
		if (l > len)
			return -EBADMSG;
		switch (type) {
		case TLV_MTU:
			if (l != 2)
				return -EBADMSG;
			h->mtu = get16(p);
			break;
		case TLV_NAME:
			if (l > HELLO_NAME_MAX)
				return -EBADMSG;
			memcpy(h->name, p, l);
			h->name[l] = '\0';
			/* The name ends up in logs: no control bytes. */
			for (uint16_t i = 0; i < l; i++)
				if ((unsigned char)h->name[i] < 0x20 || h->name[i] == 0x7f)
					h->name[i] = '?';
			break;
		case TLV_ADDR6:
			if (l != 17 || p[16] > 128)
				return -EBADMSG;
			memcpy(h->addr.s6_addr, p, 16);
			h->prefix = p[16];
			h->has_addr = true;
			break;
		case TLV_KEEPALIVE:
			if (l != 4)
				return -EBADMSG;
			h->keepalive_ms = get32(p);
			break;
		case TLV_ROUTE: {
			struct cidr *r;
			if ((l != 5 && l != 17) || p[0] > (l - 1) * 8)
				return -EBADMSG;
			if (h->routes.n == HELLO_ROUTES_MAX)
				return -EBADMSG;
			r = &h->routes.v[h->routes.n];
			memset(r, 0, sizeof(*r));
			r->family = l == 5 ? AF_INET : AF_INET6;
			r->prefix = p[0];
			memcpy(r->addr, p + 1, l - 1u);
			/* Host bits set would make matching ambiguous. */
			if (!cidr_normalized(r))
				return -EBADMSG;
			h->routes.n++;
			break;
		}
		default:
			break;	/* unknown: skipped, see proto.h */
		}
		p += l;
		len -= l;
	}
	return 0;
}

int hello_encode(const struct hello *h, uint8_t *buf, size_t cap)
{
	if (cap < 8)
		return -ENOSPC;
	put16(buf, h->version_min);
	put16(buf + 2, h->version_max);
	put32(buf + 4, h->caps);
	return tlvs_encode(h, buf, cap, 8);
}

int welcome_encode(const struct hello *h, uint8_t *buf, size_t cap)
{
	if (cap < 6)
		return -ENOSPC;
	put16(buf, h->version_min);
	put32(buf + 2, h->caps);
	return tlvs_encode(h, buf, cap, 6);
}

int hello_decode(const uint8_t *p, size_t len, struct hello *h)
{
	memset(h, 0, sizeof(*h));
	if (len < 8)
		return -EBADMSG;
	h->version_min = get16(p);
	h->version_max = get16(p + 2);
	h->caps = get32(p + 4);
	if (h->version_min > h->version_max)
		return -EBADMSG;
	return tlvs_decode(p + 8, len - 8, h);
}

int welcome_decode(const uint8_t *p, size_t len, struct hello *h)
{
	memset(h, 0, sizeof(*h));
	if (len < 6)
		return -EBADMSG;
	h->version_min = h->version_max = get16(p);
	h->caps = get32(p + 2);
	return tlvs_decode(p + 6, len - 6, h);
}

int proto_pick_version(uint16_t min, uint16_t max)
{
	return min <= PROTO_VERSION && PROTO_VERSION <= max ? PROTO_VERSION : -1;
}

int close_encode(uint16_t code, const char *reason, uint8_t *buf, size_t cap)
{
	size_t n = strnlen(reason, CLOSE_REASON_MAX);

	if (cap < 2 + n)
		return -ENOSPC;
	put16(buf, code);
	memcpy(buf + 2, reason, n);
	return (int)(2 + n);
}

int close_decode(const uint8_t *p, size_t len, uint16_t *code,
		 char *reason, size_t reasonlen)
{
	size_t n;

	if (len < 2 || reasonlen == 0)
		return -EBADMSG;
	*code = get16(p);
	n = len - 2;
	if (n >= reasonlen)
		n = reasonlen - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[2 + i];
		reason[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	reason[n] = '\0';
	return 0;
}

const char *frame_type_name(uint8_t type)
{
	static const char *const names[] = {
		[FRAME_HELLO] = "hello", [FRAME_WELCOME] = "welcome",
		[FRAME_DATA] = "data", [FRAME_PING] = "ping",
		[FRAME_PONG] = "pong", [FRAME_CLOSE] = "close",
		[FRAME_DATA_GSO] = "data-gso",
	};
	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

const char *close_code_name(uint16_t code)
{
	static const char *const names[] = {
		[CLOSE_SHUTDOWN] = "shutdown", [CLOSE_PROTOCOL] = "protocol error",
		[CLOSE_VERSION] = "unsupported protocol version",
		[CLOSE_TIMEOUT] = "keepalive timeout",
		[CLOSE_NO_ADDRESS] = "no free address",
		[CLOSE_REPLACED] = "replaced by a newer connection",
	};
	return code < sizeof(names) / sizeof(names[0]) && names[code] ? names[code] : "unknown";
}
