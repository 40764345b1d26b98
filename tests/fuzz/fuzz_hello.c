/* libFuzzer: one HELLO/WELCOME/CLOSE payload (no frame header). The
 * first byte picks the decoder, so one corpus covers all three; a decoded
 * message must survive encode + decode unchanged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/proto.h"
#include "fuzz.h"



static void same_hello(const struct hello *a, const struct hello *b)
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
}

static void one(const uint8_t *p, size_t len, bool welcome)
{
	struct hello h, again;
	uint8_t buf[512];
	int rc, n;

	rc = welcome ? welcome_decode(p, len, &h) : hello_decode(p, len, &h);
	CHECK(rc == 0 || rc == -EBADMSG);
	CHECK(rc || len >= (welcome ? 6u : 8u));
	if (rc)
		return;
	CHECK(strlen(h.name) <= HELLO_NAME_MAX);
	for (const char *c = h.name; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	CHECK(h.version_min <= h.version_max);
	n = welcome ? welcome_encode(&h, buf, sizeof(buf)) : hello_encode(&h, buf, sizeof(buf));
	CHECK(n > 0);
	/* Every shorter buffer is refused, not overrun. */
	CHECK((welcome ? welcome_encode(&h, buf, (size_t)n - 1)
		       : hello_encode(&h, buf, (size_t)n - 1)) == -ENOSPC);
	rc = welcome ? welcome_decode(buf, (size_t)n, &again) : hello_decode(buf, (size_t)n, &again);
	CHECK(rc == 0);
	same_hello(&h, &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[CLOSE_REASON_MAX + 1], small[4];
	uint16_t code;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		one(data + 1, size - 1, false);
		break;
	case 1:
		one(data + 1, size - 1, true);
		break;
	case 2:
		if (!close_decode(data + 1, size - 1, &code, reason, sizeof(reason))) {
			uint8_t buf[CLOSE_REASON_MAX + 2];
			int n = close_encode(code, reason, buf, sizeof(buf));

			CHECK(n >= 2);
			CHECK(!close_decode(buf, (size_t)n, &code, small, sizeof(small)));
			CHECK(strlen(small) < sizeof(small));
		}
		break;
	}
	return 0;
}
