/* libFuzzer target: the HTTP response-head parser of the local backend's
 * kube-apiserver check (controller/check.c). Whatever the bytes, it must
 * not read past them, a complete head must lie within them, and feeding
 * the same bytes one more byte at a time must give the same answer (a
 * parser that depends on how reads are split would flake). */
#include <string.h>

#include "controller/check.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	int status = 0, r, r2 = 0, status2 = 0;
	size_t head = 0, head2 = 0, n;
	long cl, cl2;

	r = check_parse_response(buf, size, &status, &head, &cl);
	CHECK(r >= -1 && r <= 1);
	if (r == 1) {
		CHECK(head > 0 && head <= size);
		CHECK(status >= 100 && status <= 999);
		CHECK(cl >= -1);
	}
	/* the first prefix that is not "incomplete" decides */
	for (n = 0; n <= size; n++) {
		r2 = check_parse_response(buf, n, &status2, &head2, &cl2);
		if (r2)
			break;
	}
	if (r == 0)
		CHECK(r2 == 0);
	else {
		CHECK(r2 == r);
		if (r == 1)
			CHECK(head2 == head && status2 == status && cl2 == cl);
	}
	return 0;
}
