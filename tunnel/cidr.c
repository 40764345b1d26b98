/* CIDR parsing and matching, and the transfer-network address pool. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/cidr.h"

static size_t cidr__alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* True if the bits of addr past prefix are all zero. */
static bool cidr__host_bits_zero(const uint8_t *addr, size_t alen,
				 unsigned prefix)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 :
				prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = keep ? (uint8_t)(0xff << (8 - keep)) : 0;
		if (addr[i] & (uint8_t)~mask)
			return false;
	}
	return true;
}

int cidr_parse(const char *s, struct cidr *out)
{
	char buf[CIDR_STRLEN];
	const char *slash;
	size_t alen;
	char *end;
	long prefix;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	/* Trailing blanks come from "a, b" lists. */
	for (size_t n = strlen(buf); n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'); n--)
		buf[n - 1] = '\0';

	memset(out, 0, sizeof(*out));
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	alen = cidr__alen(out->family);

	if (!slash) {
		out->prefix = (uint8_t)(alen * 8);
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (errno || *end || prefix < 0 || prefix > (long)alen * 8)
		return -EINVAL;
	out->prefix = (uint8_t)prefix;
	if (!cidr__host_bits_zero(out->addr, alen, out->prefix))
		return -EINVAL;
	return 0;
}

int cidr_list_parse(const char *s, struct cidr_list *l, size_t *bad)
{
	const char *p = s;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[CIDR_STRLEN];
		int err;

		if (bad)
			*bad = (size_t)(p - s);
		if (n >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, n);
		item[n] = '\0';
		if (l->n == CIDR_LIST_MAX)
			return -ENOSPC;
		err = cidr_parse(item, &l->v[l->n]);
		if (err)
			return err;
		l->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

bool cidr_normalized(const struct cidr *c)
{
	size_t alen = cidr__alen(c->family);

	return c->prefix <= alen * 8 && cidr__host_bits_zero(c->addr, alen, c->prefix);
}

void cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
}

bool cidr_contains(const struct cidr *c, int family, const void *addr)
{
	const uint8_t *a = addr;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (c->family != family)
		return false;
	if (memcmp(c->addr, a, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((c->addr[full] & mask) != (a[full] & mask))
			return false;
	}
	return true;
}

const struct cidr *cidr_list_match(const struct cidr_list *l, int family,
				   const void *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (cidr_contains(&l->v[i], family, addr))
			return &l->v[i];
	return NULL;
}

bool cidr_overlap(const struct cidr *a, const struct cidr *b)
{
	/* Two prefixes overlap iff the shorter one contains the other's
	 * network address. */
	if (a->family != b->family)
		return false;
	return a->prefix <= b->prefix ? cidr_contains(a, b->family, b->addr)
				      : cidr_contains(b, a->family, a->addr);
}

int pool_init(struct addr_pool *p, const struct cidr *net)
{
	if (net->family != AF_INET6 || net->prefix > 116)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->net = *net;
	p->next = 2;
	/* Offsets 0 (the network itself) and 1 (the server) are never
	 * handed out. */
	p->used[0] = 0x3;
	return 0;
}

void pool_addr(const struct addr_pool *p, uint32_t off, struct in6_addr *out)
{
	uint32_t low;

	memcpy(out->s6_addr, p->net.addr, 16);
	/* The pool is at most 4096 slots and the prefix at most /116, so the
	 * offset only touches the last 32 bits. */
	memcpy(&low, out->s6_addr + 12, 4);
	low = htonl(ntohl(low) + off);
	memcpy(out->s6_addr + 12, &low, 4);
}

int pool_take(struct addr_pool *p, uint32_t *off)
{
	/* pool_init allows at most /116, so all POOL_SIZE offsets exist. */
	for (uint32_t i = 0; i < POOL_SIZE; i++) {
		uint32_t o = (p->next + i) % POOL_SIZE;
		if (!(p->used[o / 64] & (1ULL << (o % 64)))) {
			p->used[o / 64] |= 1ULL << (o % 64);
			p->next = o + 1;
			*off = o;
			return 0;
		}
	}
	return -ENOSPC;
}

void pool_release(struct addr_pool *p, uint32_t off)
{
	if (off >= 2 && off < POOL_SIZE)
		p->used[off / 64] &= ~(1ULL << (off % 64));
}
