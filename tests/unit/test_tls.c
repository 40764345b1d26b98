/* tunnel/tls: the --allowed-client identity rule. An entry admits the
 * name itself, or the name with "-N" (a decimal replica number) after its
 * first label: "vpn-shoot" admits "vpn-shoot-1", "vpn-shoot.ns" admits
 * "vpn-shoot-0.ns". Nothing else: no other suffix, no prefix match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tunnel/tls.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct name_case {
	const char *identity, *allowed;
	bool ok;
};

static void check(const struct name_case *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tls_name_allowed(rows[i].identity, rows[i].allowed) != rows[i].ok)
			fail_msg("identity `%s' with --allowed-client `%s': want %s",
				 rows[i].identity, rows[i].allowed,
				 rows[i].ok ? "admitted" : "refused");
}

static void a_name_admits_itself(void **state)
{
	static const struct name_case rows[] = {
		{ "vpn-shoot", "vpn-shoot", true },
		{ "vpn-shoot.ns", "vpn-shoot.ns", true },
		{ "vpn-shoot.shoot--p--s.svc.cluster.local",
		  "vpn-shoot.shoot--p--s.svc.cluster.local", true },
		{ "a", "a", true },
	};

	check(rows, N(rows));
}

static void a_name_admits_its_replicas(void **state)
{
	static const struct name_case rows[] = {
		{ "vpn-shoot-0", "vpn-shoot", true },
		{ "vpn-shoot-1", "vpn-shoot", true },
		{ "vpn-shoot-12", "vpn-shoot", true },
		{ "vpn-shoot-007", "vpn-shoot", true },
		{ "vpn-shoot-0.ns", "vpn-shoot.ns", true },
		{ "vpn-shoot-3.shoot--p--s.svc", "vpn-shoot.shoot--p--s.svc", true },
	};

	check(rows, N(rows));
}

static void the_replica_suffix_is_a_dash_and_digits_only(void **state)
{
	static const struct name_case rows[] = {
		{ "vpn-shoot-", "vpn-shoot", false },		/* no number */
		{ "vpn-shoot-1a", "vpn-shoot", false },		/* not all digits */
		{ "vpn-shoot-a1", "vpn-shoot", false },
		{ "vpn-shoot--1", "vpn-shoot", false },
		{ "vpn-shoot-+1", "vpn-shoot", false },
		{ "vpn-shoot-1-2", "vpn-shoot", false },
		{ "vpn-shoot-1 ", "vpn-shoot", false },
		{ "vpn-shoot_1", "vpn-shoot", false },
		{ "vpn-shoot1", "vpn-shoot", false },
		{ "vpn-shoot-0.", "vpn-shoot", false },
	};

	check(rows, N(rows));
}

static void a_name_is_not_a_prefix(void **state)
{
	static const struct name_case rows[] = {
		{ "vpn-shooter", "vpn-shoot", false },
		{ "vpn-shoot2", "vpn-shoot", false },
		{ "vpn-sho", "vpn-shoot", false },
		{ "vpn", "vpn-shoot", false },
		{ "", "vpn-shoot", false },
		{ "xvpn-shoot", "vpn-shoot", false },
		{ "vpn-shoot-1", "vpn-shoot-", false },
	};

	check(rows, N(rows));
}

static void the_domain_after_the_first_label_must_match_exactly(void **state)
{
	static const struct name_case rows[] = {
		{ "vpn-shoot.ns", "vpn-shoot", false },
		{ "vpn-shoot-0.ns", "vpn-shoot", false },
		{ "vpn-shoot", "vpn-shoot.ns", false },
		{ "vpn-shoot-0", "vpn-shoot.ns", false },
		{ "vpn-shoot-0.other", "vpn-shoot.ns", false },
		{ "vpn-shoot-0.ns.evil", "vpn-shoot.ns", false },
		{ "vpn-shoot-0.nsx", "vpn-shoot.ns", false },
		{ "vpn-shoot.ns-1", "vpn-shoot.ns", false },	/* the number goes after the first label */
		{ "vpn-shoot.ns.evil", "vpn-shoot.ns", false },
		{ "evil.vpn-shoot.ns", "vpn-shoot.ns", false },
	};

	check(rows, N(rows));
}

static void a_replica_entry_admits_only_that_replica_and_its_own_replicas(void **state)
{
	static const struct name_case rows[] = {
		{ "vpn-shoot-0", "vpn-shoot-0", true },
		{ "vpn-shoot-1", "vpn-shoot-0", false },
		{ "vpn-shoot", "vpn-shoot-0", false },
	};

	check(rows, N(rows));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_name_admits_itself),
		cmocka_unit_test(a_name_admits_its_replicas),
		cmocka_unit_test(the_replica_suffix_is_a_dash_and_digits_only),
		cmocka_unit_test(a_name_is_not_a_prefix),
		cmocka_unit_test(the_domain_after_the_first_label_must_match_exactly),
		cmocka_unit_test(a_replica_entry_admits_only_that_replica_and_its_own_replicas),
	};

	return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
