/* The HELLO/WELCOME property both fuzz_frame and fuzz_hello check: what
 * decodes is sane, re-encodes, and decodes again to the same message.
 * Include after fuzz.h. */
#ifndef TESTS_FUZZ_HELLO_CHECK_H
#define TESTS_FUZZ_HELLO_CHECK_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tunnel/proto.h"

static inline void same_hello(const struct hello *a, const struct hello *b)
{
	CHECK(a->version_min == b->version_min);
	CHECK(a->version_max == b->version_max);
	CHECK(a->caps == b->caps);
	CHECK(a->mtu == b->mtu);
	CHECK(!strcmp(a->name, b->name));
	CHECK(a->has_addr == b->has_addr);
	CHECK(!a->has_addr || (!memcmp(&a->addr, &b->addr, sizeof(a->addr)) &&
			       a->prefix == b->prefix));
	CHECK(a->keepalive_ms == b->keepalive_ms);
	CHECK(a->routes.n == b->routes.n);
	CHECK(!memcmp(a->routes.v, b->routes.v, a->routes.n * sizeof(a->routes.v[0])));
}

/* Decodes p as a HELLO (or WELCOME); if it is valid, checks it and its
 * round trip, including that every buffer shorter than its encoding is
 * refused, not overrun. */
static inline void check_hello(const uint8_t *p, size_t len, bool welcome)
{
	/* Room for the fixed part and every TLV, HELLO_ROUTES_MAX routes. */
	uint8_t buf[2048];
	struct hello h, again;
	int rc, n;

	rc = welcome ? welcome_decode(p, len, &h) : hello_decode(p, len, &h);
	CHECK(rc == 0 || rc == -EBADMSG);
	CHECK(rc || len >= (welcome ? 6u : 8u));
	if (rc)
		return;
	CHECK(strlen(h.name) <= HELLO_NAME_MAX);
	for (const char *c = h.name; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	CHECK(!h.has_addr || h.prefix <= 128);
	CHECK(h.version_min <= h.version_max);
	(void)proto_pick_version(h.version_min, h.version_max);
	n = welcome ? welcome_encode(&h, buf, sizeof(buf)) : hello_encode(&h, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n <= sizeof(buf));
	CHECK((welcome ? welcome_encode(&h, buf, (size_t)n - 1)
		       : hello_encode(&h, buf, (size_t)n - 1)) == -ENOSPC);
	rc = welcome ? welcome_decode(buf, (size_t)n, &again) : hello_decode(buf, (size_t)n, &again);
	CHECK(rc == 0);
	same_hello(&h, &again);
}

#endif
