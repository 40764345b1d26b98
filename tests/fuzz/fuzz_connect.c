/* libFuzzer: the HTTP CONNECT proxy's request head and target
 * (proxy_parse_head, proxy_check_target) on any bytes, with the e2e
 * topology's shoot networks. Beyond not crashing or reading out of
 * bounds, checks their contract (tunnel/proxy.h):
 *   - a decided head has a status the proxy answers with (200, 400, 403,
 *     405, 414, 431, 505) and an explanation; an undecided one is shorter
 *     than PROXY_HEAD_MAX;
 *   - 200 only for a complete head within the input and the limit, whose
 *     target is a unicast address inside the networks with a port, and
 *     parsing exactly the head gives the same decision;
 *   - a head dialed is undecided on every shorter prefix;
 *   - the same bytes as a bare target: 200, 400 or 403 only; a target
 *     dialed, printed back in authority-form, is dialed again, to the
 *     same address and port. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/proxy.h"
#include "fuzz.h"



static struct cidr_list nets;

static void check_dialable(const struct proxy_target *t)
{
	CHECK(t->family == AF_INET || t->family == AF_INET6);
	CHECK(t->port >= 1);
	CHECK(cidr_list_match(&nets, t->family, t->addr));
}

static void check_target(const char *s, size_t len)
{
	struct proxy_target t, again;
	const char *why = NULL;
	char a[INET6_ADDRSTRLEN], back[INET6_ADDRSTRLEN + 16];
	int st = proxy_check_target(s, len, &nets, &t, &why);

	CHECK(st == 200 || st == 400 || st == 403);
	CHECK(why && why[0]);
	if (st != 200)
		return;
	check_dialable(&t);
	inet_ntop(t.family, t.addr, a, sizeof(a));
	snprintf(back, sizeof(back), t.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, t.port);
	CHECK(proxy_check_target(back, strlen(back), &nets, &again, NULL) == 200);
	CHECK(again.family == t.family && again.port == t.port && !memcmp(again.addr, t.addr, 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct proxy_request req, again;
	size_t half = size / 2;
	int rc;

	if (!nets.n && cidr_list_parse("10.250.0.0/24,100.96.0.0/24,100.64.0.0/24,"
				       "2001:db8:250::/64,2001:db8:96::/64,::ffff:0:0/96", &nets, NULL))
		abort();

	rc = proxy_parse_head(buf, size, &nets, &req);
	CHECK(req.target_str[sizeof(req.target_str) - 1] == '\0');
	if (rc == PROXY_HEAD_INCOMPLETE) {
		CHECK(size < PROXY_HEAD_MAX);
	} else {
		CHECK(rc == PROXY_HEAD_DONE);
		CHECK(req.status == 200 || req.status == 400 || req.status == 403 || req.status == 405 ||
		      req.status == 414 || req.status == 431 || req.status == 505);
		CHECK(req.why && req.why[0]);
	}
	if (rc == PROXY_HEAD_DONE && req.status == 200) {
		CHECK(req.head_len >= 4 && req.head_len <= size && req.head_len <= PROXY_HEAD_MAX);
		CHECK(buf[req.head_len - 1] == '\n');
		check_dialable(&req.target);
		CHECK(proxy_parse_head(buf, req.head_len, &nets, &again) == PROXY_HEAD_DONE);
		CHECK(again.status == 200 && again.head_len == req.head_len &&
		      again.target.family == req.target.family && again.target.port == req.target.port &&
		      !memcmp(again.target.addr, req.target.addr, 16));
		if (half < req.head_len)
			CHECK(proxy_parse_head(buf, half, &nets, &again) == PROXY_HEAD_INCOMPLETE);
	}
	check_target(buf, size);
	return 0;
}
