/* tunnel/proxy: the CONNECT request head and its target, table-driven,
 * and the listener's start and stop.
 *
 * The rules (tunnel/proxy.h): only "CONNECT host:port HTTP/1.x" where host
 * is an IPv4 literal or a bracketed IPv6 literal inside the shoot
 * networks is dialed (200); another method is 405; a hostname, an address
 * outside the networks, or an unspecified, loopback, multicast or
 * broadcast address is 403; a missing port, port 0 or above 65535, a bare
 * IPv6 address and anything malformed is 400; a head above
 * PROXY_HEAD_MAX is 414/431; HTTP/2 and later 505. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "tunnel/proxy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct cidr_list nets;

static int setup(void **state)
{
	/* The e2e topology's shoot networks. */
	memset(&nets, 0, sizeof(nets));
	return cidr_list_parse("10.250.0.0/24,100.96.0.0/24,100.64.0.0/24,"
			       "2001:db8:250::/64,2001:db8:96::/64", &nets, NULL);
}

/* ---- the target ---- */

struct target_case {
	const char *in;
	int status;
	const char *addr;	/* on 200: the address as inet_ntop prints it */
	unsigned port;
	const char *why;	/* a part of the explanation */
};

static const struct target_case target_cases[] = {
	/* dialed */
	{ "10.250.0.10:10250", 200, "10.250.0.10", 10250, "ok" },
	{ "100.96.0.5:8080", 200, "100.96.0.5", 8080, "ok" },
	{ "100.64.0.10:443", 200, "100.64.0.10", 443, "ok" },
	{ "10.250.0.10:1", 200, "10.250.0.10", 1, "ok" },
	{ "10.250.0.10:65535", 200, "10.250.0.10", 65535, "ok" },
	{ "10.250.0.10:00080", 200, "10.250.0.10", 80, "ok" },
	{ "[2001:db8:250::10]:10250", 200, "2001:db8:250::10", 10250, "ok" },
	{ "[2001:DB8:96::5]:8080", 200, "2001:db8:96::5", 8080, "ok" },
	{ "[2001:db8:96:0:0:0:0:5]:80", 200, "2001:db8:96::5", 80, "ok" },
	{ "[::ffff:10.250.0.10]:10250", 200, "10.250.0.10", 10250, "ok" },	/* mapped: IPv4 */
	/* no, or a bad, port */
	{ "10.250.0.10", 400, NULL, 0, "no port" },
	{ "10.250.0.10:", 400, NULL, 0, "port" },
	{ "10.250.0.10:0", 400, NULL, 0, "port" },
	{ "10.250.0.10:65536", 400, NULL, 0, "port" },
	{ "10.250.0.10:100000", 400, NULL, 0, "port" },
	{ "10.250.0.10:-1", 400, NULL, 0, "port" },
	{ "10.250.0.10:+80", 400, NULL, 0, "port" },
	{ "10.250.0.10:80a", 400, NULL, 0, "port" },
	{ "10.250.0.10:0x50", 400, NULL, 0, "port" },
	{ "[2001:db8:96::5]", 400, NULL, 0, "no port" },
	{ "[2001:db8:96::5]:", 400, NULL, 0, "port" },
	{ "[2001:db8:96::5]:0", 400, NULL, 0, "port" },
	{ "[2001:db8:96::5]80", 400, NULL, 0, "malformed" },
	/* malformed hosts */
	{ "2001:db8:96::5:80", 400, NULL, 0, "brackets" },
	{ "[2001:db8:96::5:80", 400, NULL, 0, "IPv6" },
	{ "[10.250.0.10]:80", 400, NULL, 0, "IPv6" },
	{ "[fe80::1%eth0]:80", 400, NULL, 0, "IPv6" },
	{ "[]:80", 400, NULL, 0, "host" },
	{ ":80", 400, NULL, 0, "host" },
	{ "10.250.0:80", 400, NULL, 0, "host" },
	{ "10.250.0.10.1:80", 400, NULL, 0, "host" },
	{ "010.250.0.10:80", 400, NULL, 0, "host" },
	{ "10.250.0.256:80", 400, NULL, 0, "host" },
	{ "10.250.0.10/24:80", 400, NULL, 0, "host" },
	{ "", 400, NULL, 0, "port" },
	/* hostnames: we do not resolve */
	{ "kubelet.example:10250", 403, NULL, 0, "hostname" },
	{ "localhost:10250", 403, NULL, 0, "hostname" },
	{ "kube-apiserver:443", 403, NULL, 0, "hostname" },
	{ "node-1.shoot--p--s.svc.cluster.local:10250", 403, NULL, 0, "hostname" },
	{ "hostname-without-port", 400, NULL, 0, "no port" },
	/* addresses outside the shoot networks */
	{ "192.0.2.1:9443", 403, NULL, 0, "not in the shoot networks" },
	{ "10.250.1.10:10250", 403, NULL, 0, "not in the shoot networks" },
	{ "100.96.1.5:8080", 403, NULL, 0, "not in the shoot networks" },
	{ "[2001:db8:1::1]:1194", 403, NULL, 0, "not in the shoot networks" },
	{ "[fd8f:6d53:b97a:1::2]:80", 403, NULL, 0, "not in the shoot networks" },
	{ "[::ffff:192.0.2.1]:9443", 403, NULL, 0, "not in the shoot networks" },
	/* never, whatever the networks */
	{ "127.0.0.1:15000", 403, NULL, 0, "unicast" },
	{ "0.0.0.0:15000", 403, NULL, 0, "unicast" },
	{ "255.255.255.255:80", 403, NULL, 0, "unicast" },
	{ "224.0.0.1:80", 403, NULL, 0, "unicast" },
	{ "[::1]:15000", 403, NULL, 0, "unicast" },
	{ "[::]:15000", 403, NULL, 0, "unicast" },
	{ "[ff02::1]:80", 403, NULL, 0, "unicast" },
	{ "[fe80::1]:80", 403, NULL, 0, "unicast" },
	{ "[::ffff:127.0.0.1]:80", 403, NULL, 0, "unicast" },
};

static void test_target_table(void **state)
{
	for (size_t i = 0; i < N(target_cases); i++) {
		const struct target_case *tc = &target_cases[i];
		struct proxy_target t = { 0 };
		const char *why = NULL;
		char a[INET6_ADDRSTRLEN] = "";
		int st = proxy_check_target(tc->in, strlen(tc->in), &nets, &t, &why);

		if (st != tc->status)
			fail_msg("`%s': status %d (%s), want %d", tc->in, st, why, tc->status);
		if (!why || !strstr(why, tc->why))
			fail_msg("`%s': why `%s', want it to mention `%s'", tc->in, why, tc->why);
		if (st != 200)
			continue;
		inet_ntop(t.family, t.addr, a, sizeof(a));
		if (strcmp(a, tc->addr) || t.port != tc->port)
			fail_msg("`%s': %s port %u, want %s port %u", tc->in, a, t.port, tc->addr, tc->port);
	}
}

/* Every shorter prefix of a good target is refused, none crashes. */
static void test_target_prefixes(void **state)
{
	static const char *const good[] = { "10.250.0.10:10250", "[2001:db8:250::10]:10250" };

	for (size_t i = 0; i < N(good); i++) {
		size_t len = strlen(good[i]);

		for (size_t n = 0; n < len; n++) {
			struct proxy_target t;
			int st = proxy_check_target(good[i], n, &nets, &t, NULL);

			/* "10.250.0.10:1025" is a fine target too. */
			if (st == 200 && memchr(good[i], ':', n) && good[i][n - 1] != ':')
				continue;
			if (st == 200)
				fail_msg("`%.*s' (a prefix of `%s') dialed", (int)n, good[i], good[i]);
		}
	}
}

/* ---- the request head ---- */

enum { DONE = PROXY_HEAD_DONE, INCOMPLETE = PROXY_HEAD_INCOMPLETE };

struct head_case {
	const char *name;
	const char *in;
	int rc;
	int status;		/* on DONE */
	const char *target;	/* on 200: inet_ntop of the address */
	size_t head_len;	/* on DONE; 0: the whole input */
};

static const struct head_case head_cases[] = {
	{ "kube-apiserver's request", "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
	  DONE, 200, "10.250.0.10", 0 },
	{ "curl's request",
	  "CONNECT 100.96.0.5:8080 HTTP/1.1\r\nHost: 100.96.0.5:8080\r\nUser-Agent: curl/7.88.1\r\n"
	  "Proxy-Connection: Keep-Alive\r\n\r\n", DONE, 200, "100.96.0.5", 0 },
	{ "IPv6", "CONNECT [2001:db8:96::5]:443 HTTP/1.1\r\nHost: [2001:db8:96::5]:443\r\n\r\n",
	  DONE, 200, "2001:db8:96::5", 0 },
	{ "no Host", "CONNECT 10.250.0.10:10250 HTTP/1.1\r\n\r\n", DONE, 200, "10.250.0.10", 0 },
	{ "HTTP/1.0", "CONNECT 10.250.0.10:10250 HTTP/1.0\r\n\r\n", DONE, 200, "10.250.0.10", 0 },
	{ "LF only", "CONNECT 10.250.0.10:10250 HTTP/1.1\nHost: x\n\n", DONE, 200, "10.250.0.10", 0 },
	{ "leading empty lines", "\r\n\r\nCONNECT 10.250.0.10:10250 HTTP/1.1\r\n\r\n", DONE, 200, "10.250.0.10", 0 },
	{ "TLS right behind the head",
	  "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\x02\x00\x01",
	  DONE, 200, "10.250.0.10", 47 },
	{ "a partial head", "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nHost: x\r\n", INCOMPLETE, 0, NULL, 0 },
	{ "a partial request line", "CONNECT 10.250.0.10:10", INCOMPLETE, 0, NULL, 0 },
	{ "a CR waiting for its LF", "CONNECT 10.250.0.10:10250 HTTP/1.1\r", INCOMPLETE, 0, NULL, 0 },
	{ "nothing", "", INCOMPLETE, 0, NULL, 0 },
	{ "GET", "GET http://10.250.0.10:10250/ HTTP/1.1\r\nHost: 10.250.0.10:10250\r\n\r\n", DONE, 405, NULL, 0 },
	{ "POST", "POST / HTTP/1.1\r\nHost: x\r\n\r\n", DONE, 405, NULL, 0 },
	{ "lower-case connect", "connect 10.250.0.10:10250 HTTP/1.1\r\n\r\n", DONE, 405, NULL, 0 },
	{ "a seed address", "CONNECT 192.0.2.1:15000 HTTP/1.1\r\n\r\n", DONE, 403, NULL, 0 },
	{ "a hostname", "CONNECT kubelet:10250 HTTP/1.1\r\n\r\n", DONE, 403, NULL, 0 },
	{ "no port", "CONNECT 10.250.0.10 HTTP/1.1\r\n\r\n", DONE, 400, NULL, 0 },
	{ "port 0", "CONNECT 10.250.0.10:0 HTTP/1.1\r\n\r\n", DONE, 400, NULL, 0 },
	{ "two Hosts", "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", DONE, 400, NULL, 0 },
	{ "HTTP/2", "CONNECT 10.250.0.10:10250 HTTP/2.0\r\n\r\n", DONE, 505, NULL, 0 },
	{ "no version", "CONNECT 10.250.0.10:10250\r\n\r\n", DONE, 400, NULL, 0 },
	{ "garbage", "\x01\x02\x03 garbage\r\n\r\n", DONE, 400, NULL, 0 },
	{ "a TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", DONE, 400, NULL, 0 },
	{ "a bare CR", "CONNECT 10.250.0.10:10250 HTTP/1.1\rHost: x\r\n\r\n", DONE, 400, NULL, 0 },
	{ "a NUL in a header", "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nX: a\0b\r\n\r\n", DONE, 400, NULL, 0 },
	{ "obs-fold", "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nX: a\r\n b\r\n\r\n", DONE, 400, NULL, 0 },
	{ "space before the colon", "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nHost : x\r\n\r\n", DONE, 400, NULL, 0 },
	{ "two spaces", "CONNECT  10.250.0.10:10250 HTTP/1.1\r\n\r\n", DONE, 400, NULL, 0 },
};

static size_t head_case_len(const struct head_case *hc)
{
	/* The NUL case carries its NUL inside. */
	if (strstr(hc->name, "NUL"))
		return strlen(hc->in) + 1 + strlen(hc->in + strlen(hc->in) + 1);
	return strlen(hc->in);
}

static void test_head_table(void **state)
{
	for (size_t i = 0; i < N(head_cases); i++) {
		const struct head_case *hc = &head_cases[i];
		size_t len = head_case_len(hc);
		struct proxy_request req;
		char a[INET6_ADDRSTRLEN] = "";
		int rc = proxy_parse_head(hc->in, len, &nets, &req);

		if (rc != hc->rc)
			fail_msg("%s: rc %d, want %d", hc->name, rc, hc->rc);
		if (rc != DONE)
			continue;
		if (req.status != hc->status)
			fail_msg("%s: status %d (%s), want %d", hc->name, req.status, req.why, hc->status);
		if (!req.why || !req.why[0])
			fail_msg("%s: no explanation", hc->name);
		if (req.status != 200)
			continue;
		if (req.head_len != (hc->head_len ? hc->head_len : len))
			fail_msg("%s: head_len %zu, want %zu", hc->name, req.head_len,
				 hc->head_len ? hc->head_len : len);
		inet_ntop(req.target.family, req.target.addr, a, sizeof(a));
		if (strcmp(a, hc->target))
			fail_msg("%s: target %s, want %s", hc->name, a, hc->target);
	}
}

/* A complete head is incomplete on every shorter prefix; an error stays
 * an error when more bytes come. */
static void test_head_prefixes(void **state)
{
	for (size_t i = 0; i < N(head_cases); i++) {
		const struct head_case *hc = &head_cases[i];
		size_t len = head_case_len(hc);
		struct proxy_request whole, part;

		if (proxy_parse_head(hc->in, len, &nets, &whole) != DONE)
			continue;
		for (size_t n = 0; n < len; n++) {
			int rc = proxy_parse_head(hc->in, n, &nets, &part);

			if (whole.status == 200 && n < whole.head_len && rc != INCOMPLETE)
				fail_msg("%s: a prefix of %zu bytes is decided (%d)", hc->name, n, part.status);
			if (rc == DONE && part.status != 200 && part.status != whole.status &&
			    n < whole.head_len)
				fail_msg("%s: a prefix of %zu bytes is %d, the whole %d", hc->name, n,
					 part.status, whole.status);
		}
	}
}

static void test_head_limits(void **state)
{
	char *buf = malloc(PROXY_HEAD_MAX + 64);
	struct proxy_request req;
	size_t n;

	assert_non_null(buf);
	/* A request line that never ends: 414 at the limit, not before. */
	memset(buf, 'a', PROXY_HEAD_MAX + 64);
	memcpy(buf, "CONNECT ", 8);
	assert_int_equal(proxy_parse_head(buf, PROXY_HEAD_MAX - 1, &nets, &req), INCOMPLETE);
	assert_int_equal(proxy_parse_head(buf, PROXY_HEAD_MAX, &nets, &req), DONE);
	assert_int_equal(req.status, 414);

	/* Headers that never end: 431. */
	n = (size_t)snprintf(buf, PROXY_HEAD_MAX, "CONNECT 10.250.0.10:10250 HTTP/1.1\r\n");
	while (n + 8 < PROXY_HEAD_MAX)
		n += (size_t)snprintf(buf + n, PROXY_HEAD_MAX + 64 - n, "X: y\r\n");
	assert_int_equal(proxy_parse_head(buf, n, &nets, &req), DONE);
	assert_int_equal(req.status, 431);	/* too many fields first */

	/* A head of exactly the limit is fine. */
	n = (size_t)snprintf(buf, PROXY_HEAD_MAX, "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nX: ");
	memset(buf + n, 'v', PROXY_HEAD_MAX - n - 4);
	memcpy(buf + PROXY_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(proxy_parse_head(buf, PROXY_HEAD_MAX, &nets, &req), DONE);
	assert_int_equal(req.status, 200);
	assert_int_equal(req.head_len, PROXY_HEAD_MAX);

	/* One byte more is not. */
	n = (size_t)snprintf(buf, PROXY_HEAD_MAX, "CONNECT 10.250.0.10:10250 HTTP/1.1\r\nX: ");
	memset(buf + n, 'v', PROXY_HEAD_MAX + 1 - n - 4);
	memcpy(buf + PROXY_HEAD_MAX + 1 - 4, "\r\n\r\n", 4);
	assert_int_equal(proxy_parse_head(buf, PROXY_HEAD_MAX + 1, &nets, &req), DONE);
	assert_int_equal(req.status, 431);

	/* The target as logged is cut, never overflows. */
	n = (size_t)snprintf(buf, PROXY_HEAD_MAX, "CONNECT %0200d:80 HTTP/1.1\r\n\r\n", 1);
	assert_int_equal(proxy_parse_head(buf, n, &nets, &req), DONE);
	assert_int_equal(req.status, 400);
	assert_int_equal(strlen(req.target_str), sizeof(req.target_str) - 1);
	free(buf);
}

/* ---- the listener ---- */

static void test_start_errors(void **state)
{
	uv_loop_t loop;
	/* Both stay in place until the loop has run: handles close
	 * asynchronously. */
	struct proxy px, first;
	SSL_CTX *ctx = NULL;
	struct proxy_params p = { .ctx = &ctx, .networks = &nets, .handshake_ms = 1000 };
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char err[256], addr[64];

	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&px, 0, sizeof(px));
	memset(&first, 0, sizeof(first));
	assert_int_equal(proxy_start(&px, &loop, "vpn-server:9443", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--proxy-listen"));
	assert_non_null(strstr(err, "vpn-server:9443"));
	assert_int_equal(proxy_start(&px, &loop, "127.0.0.1", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(proxy_start(&px, &loop, "127.0.0.1:99999", &p, err, sizeof(err)), -EINVAL);
	proxy_stop(&px);

	/* A port in use. */
	assert_int_equal(proxy_start(&first, &loop, "127.0.0.1:0", &p, err, sizeof(err)), 0);
	assert_int_equal(getsockname(first.listen_fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	assert_int_equal(proxy_start(&px, &loop, addr, &p, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "--proxy-listen"));
	assert_non_null(strstr(err, "in use") ? err : strstr(err, "another process"));
	proxy_stop(&first);
	proxy_stop(&first);	/* twice is fine */
	proxy_stop(&px);

	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(first.listen_fd, -1);
	assert_int_equal(uv_loop_close(&loop), 0);	/* every handle closed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_table),
		cmocka_unit_test(test_target_prefixes),
		cmocka_unit_test(test_head_table),
		cmocka_unit_test(test_head_prefixes),
		cmocka_unit_test(test_head_limits),
		cmocka_unit_test(test_start_errors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
