/* libFuzzer: a TLS stream as frame_decode sees it, frame after frame, and
 * each HELLO, WELCOME and CLOSE payload through its decoder. A decoded
 * HELLO/WELCOME must survive encode + decode unchanged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/proto.h"
#include "fuzz.h"
#include "hello_check.h"

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
			check_hello(f.payload, f.len, false);
			break;
		case FRAME_WELCOME:
			check_hello(f.payload, f.len, true);
			break;
		case FRAME_CLOSE:
			close_payload(f.payload, f.len);
			break;
		}
		off += (size_t)n;
	}
	return 0;
}
