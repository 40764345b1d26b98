/* controller/spec: the shoot spec parser, table-driven over good and bad
 * inline YAML; every error must name the field and the line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "controller/spec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define HEAD "apiVersion: core.gardener.cloud/v1beta1\nkind: Shoot\n"
#define META "metadata:\n  name: s1\n  namespace: garden-p1\n"
#define NET(p, s, n) "spec:\n  networking:\n    pods: " p "\n    services: " s "\n    nodes: " n "\n"
#define WORKERS "  provider:\n    workers:\n      - name: w1\n        minimum: 1\n"
#define GOOD HEAD META NET("100.96.0.0/11", "100.64.0.0/13", "10.250.0.0/16") WORKERS

static void good_minimal(void **state)
{
	struct shoot_spec s;
	char err[SPEC_ERR_MAX] = "";

	assert_int_equal(spec_parse(GOOD, strlen(GOOD), "t.yaml", &s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "s1");
	assert_string_equal(s.namespace, "garden-p1");
	assert_string_equal(s.project, "p1");
	assert_int_equal(s.pods.n, 1);
	assert_int_equal(s.pods.v[0].prefix, 11);
	assert_int_equal(s.services.v[0].prefix, 13);
	assert_int_equal(s.nodes.v[0].prefix, 16);
	assert_int_equal(s.nworkers, 1);
	assert_string_equal(s.workers[0].name, "w1");
	assert_int_equal(s.workers[0].minimum, 1);
	assert_false(s.ha);
	assert_int_equal(spec_replicas(&s), 1);
}

static void good_ha_dualstack(void **state)
{
	static const char y[] = HEAD META
		NET("\"100.96.0.0/11, 2001:db8:96::/48\"", "100.64.0.0/13", "10.250.0.0/16")
		WORKERS "      - name: w2\n        minimum: 0\n"
		"  controlPlane:\n    highAvailability:\n      failureTolerance:\n        type: node\n"
		"  unknownField: {a: 1}\n";
	struct shoot_spec s;
	char err[SPEC_ERR_MAX] = "";

	assert_int_equal(spec_parse(y, strlen(y), "t.yaml", &s, err, sizeof(err)), 0);
	assert_int_equal(s.pods.n, 2);
	assert_int_equal(s.nworkers, 2);
	assert_true(s.ha);
	assert_string_equal(s.failure_tolerance, "node");
	assert_int_equal(spec_replicas(&s), 2);
}

static void example_file(void **state)
{
	struct shoot_spec s;
	char err[SPEC_ERR_MAX] = "";

	assert_int_equal(spec_load("examples/shoot.yaml", &s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "demo");
	assert_true(s.ha);
	assert_int_equal(spec_load("no/such/file.yaml", &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no/such/file.yaml"));
}

static const struct {
	const char *yaml;
	const char *want;	/* a substring of the message */
} bad[] = {
	{ HEAD META NET("10.1.0.0/33", "100.64.0.0/13", "10.250.0.0/16") WORKERS,
	  "t.yaml: spec.networking.pods: line 8: `10.1.0.0/33' is not a CIDR" },
	{ HEAD META NET("\"10.1.0.0/16,10.2.0.1/16\"", "100.64.0.0/13", "10.250.0.0/16") WORKERS,
	  "spec.networking.pods: line 8: `10.2.0.1/16' is not a CIDR" },
	{ HEAD META NET("100.96.0.0/11", "banana", "10.250.0.0/16") WORKERS,
	  "spec.networking.services: line 9: `banana' is not a CIDR" },
	{ HEAD META "spec:\n  networking:\n    pods: 100.96.0.0/11\n    services: 100.64.0.0/13\n" WORKERS,
	  "spec.networking.nodes: line 8: missing (required)" },
	{ HEAD META NET("[a, b]", "100.64.0.0/13", "10.250.0.0/16") WORKERS,
	  "spec.networking.pods: line 8: expected a string" },
	{ "apiVersion: v1\nkind: Shoot\n" META, "apiVersion: line 1: `v1' is not core.gardener.cloud/v1beta1" },
	{ HEAD "metadata:\n  name: Bad_Name\n  namespace: garden-p1\n", "metadata.name: line 4: `Bad_Name' is not a DNS label" },
	{ HEAD "metadata:\n  name: s1\n  namespace: p1\n", "metadata.namespace: line 5: `p1' is not a project namespace" },
	{ HEAD "metadata: 3\n", "metadata.name: line 3: expected a mapping" },
	{ HEAD META NET("100.96.0.0/11", "100.64.0.0/13", "10.250.0.0/16")
	  "  provider:\n    workers:\n      - name: w1\n        minimum: -1\n",
	  "spec.provider.workers[0].minimum: line 14: `-1' is not a number" },
	{ HEAD META NET("100.96.0.0/11", "100.64.0.0/13", "10.250.0.0/16")
	  "  provider:\n    workers:\n      - minimum: 1\n",
	  "spec.provider.workers[0].name: line 13: missing" },
	{ HEAD META NET("100.96.0.0/11", "100.64.0.0/13", "10.250.0.0/16")
	  "  provider:\n    workers: []\n", "spec.provider.workers: line 12: needs at least one" },
	{ GOOD "  controlPlane:\n    highAvailability:\n      failureTolerance:\n        type: region\n",
	  "failureTolerance.type: line 18: `region' is neither node nor zone" },
	{ "a: [1, 2\n", "t.yaml: line 2:" },
	{ "", "t.yaml: empty document" },
};

static void bad_table(void **state)
{
	size_t i;

	for (i = 0; i < N(bad); i++) {
		struct shoot_spec s;
		char err[SPEC_ERR_MAX] = "";
		int r = spec_parse(bad[i].yaml, strlen(bad[i].yaml), "t.yaml", &s, err, sizeof(err));

		if (r != -EINVAL || !strstr(err, bad[i].want))
			fail_msg("case %zu: r=%d err=\"%s\", want \"%s\"", i, r, err, bad[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_minimal),
		cmocka_unit_test(good_ha_dualstack),
		cmocka_unit_test(example_file),
		cmocka_unit_test(bad_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
