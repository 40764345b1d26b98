/* libFuzzer: a TLS stream as frame_decode sees it, frame after frame, and
 * each HELLO, WELCOME and CLOSE payload through its decoder. A decoded
 * HELLO/WELCOME must survive encode + decode unchanged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/proto.h"
#include "fuzz.h"



static void check_name(const char *name)
{
	for (const char *p = name; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	CHECK(strlen(name) <= HELLO_NAME_MAX);
}

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

static void hello_payload(const uint8_t *p, size_t len, bool welcome)
{
	struct hello h, again;
	uint8_t buf[512];
	int rc, n;

	rc = welcome ? welcome_decode(p, len, &h) : hello_decode(p, len, &h);
	CHECK(rc == 0 || rc == -EBADMSG);
	if (rc)
		return;
	check_name(h.name);
	CHECK(!h.has_addr || h.prefix <= 128);
	CHECK(h.version_min <= h.version_max);
	(void)proto_pick_version(h.version_min, h.version_max);
	n = welcome ? welcome_encode(&h, buf, sizeof(buf)) : hello_encode(&h, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n <= sizeof(buf));
	rc = welcome ? welcome_decode(buf, (size_t)n, &again) : hello_decode(buf, (size_t)n, &again);
	CHECK(rc == 0);
	same_hello(&h, &again);
}

static void close_payload(const uint8_t *p, size_t len)
{
	char reason[CLOSE_REASON_MAX + 1];
	uint16_t code;
	int rc = close_decode(p, len, &code, reason, sizeof(reason));

	CHECK(rc == 0 || rc == -EBADMSG);
	CHECK(rc || len >= 2);
	if (rc)
		return;
	CHECK(strlen(reason) < sizeof(reason));
	for (const char *c = reason; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	CHECK(close_code_name(code) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct frame f;
		int n = frame_decode(data + off, size - off, &f);

		if (n <= 0) {
			CHECK(n == 0 || n == -EMSGSIZE || n == -EPROTO);
			CHECK(n != 0 || size - off < FRAME_HDR_LEN ||
			      size - off < FRAME_HDR_LEN + (size_t)(data[off + 1] << 16 |
								   data[off + 2] << 8 | data[off + 3]));
			break;
		}
		CHECK(n >= FRAME_HDR_LEN && (size_t)n <= size - off);
		CHECK(f.len == (uint32_t)n - FRAME_HDR_LEN && f.len <= FRAME_MAX_PAYLOAD);
		CHECK(f.payload == data + off + FRAME_HDR_LEN);
		CHECK(f.type >= FRAME_HELLO && f.type <= FRAME__LAST);
		CHECK(strcmp(frame_type_name(f.type), "unknown"));
		switch (f.type) {
		case FRAME_HELLO:
			hello_payload(f.payload, f.len, false);
			break;
		case FRAME_WELCOME:
			hello_payload(f.payload, f.len, true);
			break;
		case FRAME_CLOSE:
			close_payload(f.payload, f.len);
			break;
		}
		off += (size_t)n;
	}
	return 0;
}
