/* CIDR prefixes, lists of them, and the transfer-network address pool. */
#ifndef TUNNEL_CIDR_H
#define TUNNEL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

enum {
	/* Gardener passes at most a handful of pod/service/node networks per
	 * family; 64 leaves room and keeps the list a flat array. */
	CIDR_LIST_MAX = 64,
	CIDR_STRLEN = 64,	/* "ffff:...:ffff/128" plus NUL */
};

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; IPv4 uses the first 4 */
	uint8_t prefix;
};

struct cidr_list {
	size_t n;
	struct cidr v[CIDR_LIST_MAX];
};

/* Parses "10.0.0.0/8" or "2001:db8::/32" (a bare address is a host
 * prefix). Host bits must be zero: a typo such as 10.1.0.0/8 is refused
 * rather than silently widened. Returns 0 or -EINVAL. */
int cidr_parse(const char *s, struct cidr *out);
/* Parses "a/b, c/d" and appends to l; -EINVAL names nothing, the caller
 * quotes the input; -ENOSPC when the list is full. *bad (if non-NULL)
 * receives the offset of the offending element. */
int cidr_list_parse(const char *s, struct cidr_list *l, size_t *bad);
void cidr_format(const struct cidr *c, char *buf, size_t len);
/* True if the bits past the prefix are zero (what cidr_parse demands). */
bool cidr_normalized(const struct cidr *c);
bool cidr_contains(const struct cidr *c, int family, const void *addr);
/* The first entry of l that holds addr, or NULL. */
const struct cidr *cidr_list_match(const struct cidr_list *l, int family,
				   const void *addr);
bool cidr_overlap(const struct cidr *a, const struct cidr *b);

/* Host addresses handed out from the IPv6 transfer network: offset 1 is
 * the server, agents get 2, 3, ... The pool is a bitmap of POOL_SIZE
 * slots: a server never holds more tunnels than that. */
enum { POOL_SIZE = 4096 };

struct addr_pool {
	struct cidr net;
	uint32_t next;		/* where the next search starts: avoids handing
				 * a just-released address out again at once */
	uint64_t used[POOL_SIZE / 64];
};

/* net must be IPv6 with a prefix of at most 116 bits (room for the
 * pool). Returns 0 or -EINVAL. */
int pool_init(struct addr_pool *p, const struct cidr *net);
/* The address at offset off from the network address. */
void pool_addr(const struct addr_pool *p, uint32_t off, struct in6_addr *out);
/* Takes a free offset >= 2; -ENOSPC when none is left. */
int pool_take(struct addr_pool *p, uint32_t *off);
void pool_release(struct addr_pool *p, uint32_t off);

#endif
