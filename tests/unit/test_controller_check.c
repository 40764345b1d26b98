/* controller/check: the HTTP response-head parser the local backend's
 * kube-apiserver check reads answers with, and the topology the local
 * backend derives from a spec. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "controller/check.h"
#include "controller/local.h"
#include "controller/spec.h"

static const struct {
	const char *in;
	int want;		/* 1 complete, 0 incomplete, -1 error */
	int status;
	long content_length;
	size_t head_len;	/* 0: strlen(in) */
} cases[] = {
	{ "HTTP/1.1 200 Connection established\r\n\r\n", 1, 200, -1, 0 },
	{ "HTTP/1.0 403 Forbidden\r\nContent-Length: 10\r\n\r\n", 1, 403, 10, 0 },
	{ "HTTP/1.1 200 OK\nContent-Length:  3 \n\nok\n", 1, 200, 3, 37 },
	{ "HTTP/1.1 204\r\n\r\n", 1, 204, -1, 0 },
	{ "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nX: y\r\n\r\nrest", 1, 200, 0, 44 },
	/* more needed */
	{ "", 0, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\n", 0, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", 0, 0, -1, 0 },
	/* not a response */
	{ "GET / HTTP/1.1\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/2 200\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 20\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 099 Low\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 2000\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", -1, 0, -1, 0 },
	{ "HTTP/1.1 200 O\001K\r\n\r\n", -1, 0, -1, 0 },
};

static void response_heads(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = 0, r;
		size_t head = 0;
		long cl = -2;

		r = check_parse_response(cases[i].in, strlen(cases[i].in), &status, &head, &cl);
		if (r != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].in, r, cases[i].want);
		if (r != 1)
			continue;
		assert_int_equal(status, cases[i].status);
		assert_int_equal(cl, cases[i].content_length);
		assert_int_equal(head, cases[i].head_len ? cases[i].head_len : strlen(cases[i].in));
	}
}

/* A head that never ends is refused once it is too long to be one. */
static void endless_head(void **state)
{
	static char buf[CHECK_HEAD_MAX + 64];
	int status;
	size_t head, n = (size_t)snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n");
	long cl;

	while (n + 8 < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "A: b\r\n");
	assert_int_equal(check_parse_response(buf, n, &status, &head, &cl), -1);
}

static int load(const char *yaml, struct shoot_spec *s, char *err, size_t n)
{
	return spec_parse(yaml, strlen(yaml), "t.yaml", s, err, n);
}

#define SPEC(pods, svcs, nodes, workers)                                            \
	"apiVersion: core.gardener.cloud/v1beta1\nkind: Shoot\nmetadata:\n  name: t\n" \
	"  namespace: garden-p\nspec:\n  networking:\n    pods: " pods "\n"            \
	"    services: " svcs "\n    nodes: " nodes "\n  provider:\n    workers:\n"    \
	"      - name: w\n        minimum: " workers "\n"

static void topology_from_spec(void **state)
{
	static struct shoot_spec s;
	static struct local l;
	char err[256] = "";

	assert_int_equal(load(SPEC("100.96.0.0/11", "100.64.0.0/13", "10.250.0.0/16", "3"), &s,
			      err, sizeof(err)), 0);
	assert_int_equal(local_init(&l, &s, "/run/x", "/bin", err, sizeof(err)), 0);
	assert_string_equal(l.ns, "shoot--p--t");
	assert_int_equal(l.nodes, 3);
	assert_int_equal(l.replicas, 1);
	assert_int_equal(l.node_net, 0x0afa0000);
	assert_int_equal(l.pod_net, 0x64600000);
	assert_int_equal(l.node_prefix, 16);

	/* more machines than the local backend runs: capped */
	assert_int_equal(load(SPEC("100.96.0.0/11", "100.64.0.0/13", "10.250.0.0/16", "40"), &s,
			      err, sizeof(err)), 0);
	assert_int_equal(local_init(&l, &s, "/run/x", "/bin", err, sizeof(err)), 0);
	assert_int_equal(l.nodes, LOCAL_NODES_MAX);

	/* dual stack: the IPv4 network is used */
	assert_int_equal(load(SPEC("\"2001:db8:96::/48,100.96.0.0/11\"", "100.64.0.0/13",
				   "10.250.0.0/16", "1"), &s, err, sizeof(err)), 0);
	assert_int_equal(local_init(&l, &s, "/run/x", "/bin", err, sizeof(err)), 0);
	assert_int_equal(l.pod_net, 0x64600000);
}

static void topology_refused(void **state)
{
	static const struct {
		const char *yaml, *field;
	} bad[] = {
		{ SPEC("2001:db8:96::/48", "100.64.0.0/13", "10.250.0.0/16", "1"), "spec.networking.pods" },
		{ SPEC("100.96.0.0/11", "100.64.0.0/13", "192.0.2.0/25", "1"), "spec.networking.nodes" },
		{ SPEC("100.96.0.0/11", "198.51.100.0/24", "10.250.0.0/16", "1"), "spec.networking.services" },
		{ SPEC("100.96.0.0/24", "100.64.0.0/13", "10.250.0.0/16", "2"), "spec.networking" },
		{ SPEC("100.96.0.0/11", "100.64.0.0/13", "10.250.0.0/30", "1"), "spec.networking" },
	};
	static struct shoot_spec s;
	static struct local l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";

		if (load(bad[i].yaml, &s, err, sizeof(err)))
			fail_msg("case %zu does not parse: %s", i, err);
		assert_int_equal(local_init(&l, &s, "/run/x", "/bin", err, sizeof(err)), -EINVAL);
		if (strncmp(err, bad[i].field, strlen(bad[i].field)))
			fail_msg("case %zu: `%s' does not start with %s", i, err, bad[i].field);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(response_heads),
		cmocka_unit_test(endless_head),
		cmocka_unit_test(topology_from_spec),
		cmocka_unit_test(topology_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
