/* controller/render: the manifests rendered for examples/shoot.yaml (HA)
 * and its single-replica variant, against golden files; secrets' data are
 * the fixed placeholder. With real PKI files the data are their base64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/golden.h"
#include "controller/pki.h"
#include "controller/render.h"
#include "controller/spec.h"

static void load(struct shoot_spec *s, bool ha)
{
	char err[SPEC_ERR_MAX] = "";

	if (spec_load("examples/shoot.yaml", s, err, sizeof(err)))
		fail_msg("%s", err);
	s->ha = ha;
}

static void golden(bool ha)
{
	struct shoot_spec s;
	char *seed, *shoot, err[256] = "", name[64];

	load(&s, ha);
	assert_int_equal(render_manifests(&s, NULL, &seed, &shoot, err, sizeof(err)), 0);
	snprintf(name, sizeof(name), "manifests/seed%s.yaml", ha ? "-ha" : "");
	golden_compare(name, seed);
	snprintf(name, sizeof(name), "manifests/shoot%s.yaml", ha ? "-ha" : "");
	golden_compare(name, shoot);
	/* what the daemons and the checklist of issue 7 need */
	assert_non_null(strstr(seed, "publishNotReadyAddresses: true"));
	assert_non_null(strstr(seed, "defaultMode: 0400"));
	assert_non_null(strstr(seed, "type: RuntimeDefault"));
	assert_non_null(strstr(seed, "proxyProtocol: HTTPConnect"));
	assert_null(strstr(seed, "SYS_ADMIN"));
	assert_true((strstr(seed, "kind: StatefulSet") != NULL) == ha);
	assert_true((strstr(seed, "kind: PodDisruptionBudget") != NULL) == ha);
	assert_true((strstr(shoot, "vpn-shoot-client-1") != NULL) == ha);
	free(seed);
	free(shoot);
}

static void golden_single(void **state) { golden(false); }
static void golden_ha(void **state) { golden(true); }

static void real_pki(void **state)
{
	struct shoot_spec s;
	char dir[64] = "/tmp/test_render.XXXXXX", err[256] = "", cmd[128], *seed, *shoot;

	load(&s, false);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pki_ensure(dir, "shoot--dev--demo", false, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(render_manifests(&s, dir, &seed, &shoot, err, sizeof(err)), 0);
	assert_null(strstr(seed, "PLACEHOLDER"));
	assert_non_null(strstr(seed, "tls.key: LS0tLS1CRUdJTi")); /* "-----BEGIN" */
	free(seed);
	free(shoot);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	/* a missing file is named */
	assert_int_equal(render_manifests(&s, dir, &seed, &shoot, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "vpn-server.crt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_single),
		cmocka_unit_test(golden_ha),
		cmocka_unit_test(real_pki),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
