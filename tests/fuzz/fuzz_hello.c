/* libFuzzer: one HELLO/WELCOME/CLOSE payload (no frame header). The
 * first byte picks the decoder, so one corpus covers all three; a decoded
 * message must survive encode + decode unchanged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/proto.h"
#include "fuzz.h"
#include "hello_check.h"




int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[CLOSE_REASON_MAX + 1], small[4];
	uint16_t code;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_hello(data + 1, size - 1, false);
		break;
	case 1:
		check_hello(data + 1, size - 1, true);
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
