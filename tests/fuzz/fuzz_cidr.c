/* libFuzzer: cidr_parse and cidr_list_parse on arbitrary text. Whatever
 * parses must format and re-parse to the same value, hold its own network
 * address, and (IPv6, /116 or shorter) make a pool whose addresses it
 * holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/cidr.h"
#include "fuzz.h"



static struct addr_pool pool;

static void check_one(const struct cidr *c)
{
	char buf[CIDR_STRLEN];
	struct cidr again;

	CHECK(c->family == AF_INET || c->family == AF_INET6);
	CHECK(c->prefix <= (c->family == AF_INET ? 32 : 128));
	cidr_format(c, buf, sizeof(buf));
	CHECK(strlen(buf) < sizeof(buf) - 1);
	if (cidr_parse(buf, &again)) {
		fprintf(stderr, "formatted `%s' does not parse\n", buf);
		abort();
	}
	CHECK(!memcmp(c, &again, sizeof(*c)));
	CHECK(cidr_contains(c, c->family, c->addr));
	CHECK(cidr_overlap(c, c));
	CHECK(!cidr_contains(c, c->family == AF_INET ? AF_INET6 : AF_INET, c->addr));

	if (c->family == AF_INET6 && c->prefix <= 116) {
		struct in6_addr a;
		uint32_t off;

		CHECK(pool_init(&pool, c) == 0);
		CHECK(pool_take(&pool, &off) == 0 && off == 2);
		pool_addr(&pool, off, &a);
		CHECK(cidr_contains(c, AF_INET6, &a));
		pool_addr(&pool, POOL_SIZE - 1, &a);
		CHECK(cidr_contains(c, AF_INET6, &a));
	} else {
		CHECK(pool_init(&pool, c) == -EINVAL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cidr_list l;
	char s[1024];
	struct cidr c;
	size_t bad = (size_t)-1;
	int rc;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	rc = cidr_parse(s, &c);
	CHECK(rc == 0 || rc == -EINVAL);
	if (!rc)
		check_one(&c);

	memset(&l, 0, sizeof(l));
	rc = cidr_list_parse(s, &l, &bad);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
	CHECK(l.n <= CIDR_LIST_MAX);
	CHECK(rc == 0 || bad <= strlen(s));
	for (size_t i = 0; i < l.n; i++)
		check_one(&l.v[i]);
	if (l.n) {
		const struct cidr *m = cidr_list_match(&l, l.v[0].family, l.v[0].addr);
		CHECK(m && cidr_contains(m, l.v[0].family, l.v[0].addr));
	}
	return 0;
}
