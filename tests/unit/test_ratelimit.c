/* The per-source handshake rate limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tunnel/ratelimit.h"

static struct rl r;
static const uint8_t a[4] = { 192, 0, 2, 1 }, b[4] = { 192, 0, 2, 99 };

static void a_new_source_gets_its_whole_burst_then_is_refused(void **state)
{
	rl_init(&r, 10, 5);
	for (int i = 0; i < 5; i++)
		assert_true(rl_admit(&r, a, 4, 1000));
	assert_false(rl_admit(&r, a, 4, 1000));
}

static void tokens_come_back_at_the_configured_rate(void **state)
{
	rl_init(&r, 10, 5);
	for (int i = 0; i < 5; i++)
		rl_admit(&r, a, 4, 1000);
	assert_false(rl_admit(&r, a, 4, 1050));	/* half a token */
	assert_true(rl_admit(&r, a, 4, 1100));	/* one token after 100 ms */
	assert_false(rl_admit(&r, a, 4, 1100));
	/* A long pause refills to the burst, not beyond. */
	for (int i = 0; i < 5; i++)
		assert_true(rl_admit(&r, a, 4, 60000));
	assert_false(rl_admit(&r, a, 4, 60000));
}

static void a_flooding_source_does_not_use_up_another_ones_budget(void **state)
{
	rl_init(&r, 10, 5);
	for (int i = 0; i < 100; i++)
		rl_admit(&r, a, 4, 1000);
	/* b may share a slot with a by chance of 1/RL_SLOTS; the key is
	 * random, so retry with a fresh table if it does. */
	for (int tries = 0; tries < 5 && !rl_admit(&r, b, 4, 1000); tries++) {
		rl_init(&r, 10, 5);
		for (int i = 0; i < 100; i++)
			rl_admit(&r, a, 4, 1000);
	}
	assert_true(rl_admit(&r, b, 4, 1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_source_gets_its_whole_burst_then_is_refused),
		cmocka_unit_test(tokens_come_back_at_the_configured_rate),
		cmocka_unit_test(a_flooding_source_does_not_use_up_another_ones_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
