/* libFuzzer: http_parse_request on any bytes. Beyond not crashing or
 * reading out of bounds, checks the parser's contract (tunnel/http.h):
 *   - the result is complete, incomplete or an error with a status the
 *     server can send (400, 414, 431, 505);
 *   - incomplete only while the head still fits in HTTP_HEAD_MAX;
 *   - a complete head lies within the input and the limit, its pointers
 *     point into it, and parsing exactly the head gives the same result;
 *   - decisions are final: an error on a prefix is an error on the whole,
 *     and a complete head is incomplete on every shorter prefix. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/http.h"
#include "fuzz.h"



static bool within(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_request req, again;
	size_t half = size / 2;
	int rc, rc_half;

	rc = http_parse_request(buf, size, &req);
	switch (rc) {
	case HTTP_PARSE_ERROR:
		CHECK(req.status == 400 || req.status == 414 || req.status == 431 ||
		      req.status == 505);
		break;
	case HTTP_PARSE_INCOMPLETE:
		CHECK(size < HTTP_HEAD_MAX);
		break;
	case HTTP_PARSE_COMPLETE:
		CHECK(req.head_len >= 4 && req.head_len <= size && req.head_len <= HTTP_HEAD_MAX);
		CHECK(buf[req.head_len - 1] == '\n');
		CHECK(within(req.method_str, req.method_len, buf, req.head_len));
		CHECK(within(req.target, req.target_len, buf, req.head_len));
		CHECK(req.path_len >= 1);
		CHECK(within(req.path, req.path_len, buf, req.head_len) ||
		      (req.path_len == 1 && req.path[0] == '/'));
		CHECK(req.path[0] == '/' && !memchr(req.path, '?', req.path_len));
		CHECK(req.version == 10 || req.version == 11);
		CHECK(req.n_headers <= HTTP_HEADERS_MAX);
		CHECK((req.method == HTTP_METHOD_GET) == (req.method_len == 3 && !memcmp(req.method_str, "GET", 3)));
		CHECK(http_parse_request(buf, req.head_len, &again) == HTTP_PARSE_COMPLETE);
		CHECK(again.head_len == req.head_len && again.method == req.method &&
		      again.path_len == req.path_len);
		break;
	default:
		CHECK(!"unknown result");
	}

	rc_half = http_parse_request(buf, half, &again);
	if (rc_half == HTTP_PARSE_ERROR)
		CHECK(rc == HTTP_PARSE_ERROR);
	if (rc == HTTP_PARSE_COMPLETE && half < req.head_len)
		CHECK(rc_half == HTTP_PARSE_INCOMPLETE);
	return 0;
}
