/* Log lines: one per event, text or JSON, and rate-limited per call site. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tunnel/log.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote. */
static char *capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	static char buf[65536];
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

static void flood_one_site(void)
{
	for (int i = 0; i < 50; i++)
		log_warn(NULL, "handshake failed: attempt %d", i);
}

static void a_flood_from_one_call_site_is_cut_to_a_burst(void **state)
{
	char *out;

	log_setup("text", "info");
	out = capture(flood_one_site);
	/* 10 per second per site; the run may straddle a second boundary,
	 * which allows one more burst (and a note about the suppressed). */
	assert_true(count(out, "handshake failed") >= 10);
	assert_true(count(out, "handshake failed") <= 21);
}

static void two_sites(void)
{
	for (int i = 0; i < 30; i++)
		log_info(NULL, "site one %d", i);
	log_info(NULL, "site two");
}

static void other_call_sites_are_not_silenced_by_a_flood(void **state)
{
	log_setup("text", "info");
	assert_non_null(strstr(capture(two_sites), "site two"));
}

static void access_flood(void)
{
	for (int i = 0; i < 50; i++)
		log_access(NULL, "proxy: conn=%d status=200", i);
}

static void access_lines_are_never_suppressed(void **state)
{
	char *out;

	log_setup("text", "info");
	out = capture(access_flood);
	assert_int_equal(count(out, "status=200"), 50);
	assert_null(strstr(out, "suppressed"));
	/* but they are INFO lines: --log-level warn drops them */
	log_setup("text", "warn");
	assert_int_equal(count(capture(access_flood), "status=200"), 0);
}

static void json_lines(void)
{
	struct log_ctx ctx = { .tunnel = 7, .peer = "vpn-shoot", .remote = "192.0.2.2:1234" };

	log_info(&ctx, "tunnel up: \"quoted\"\tand tab");
}

static void json_lines_carry_the_tunnel_fields_and_escape_the_message(void **state)
{
	char *out;

	log_setup("json", "info");
	out = capture(json_lines);
	assert_non_null(strstr(out, "\"level\":\"info\",\"tunnel\":7,\"peer\":\"vpn-shoot\",\"remote\":\"192.0.2.2:1234\""));
	assert_non_null(strstr(out, "\"msg\":\"tunnel up: \\\"quoted\\\"\\u0009and tab\"}"));
	assert_int_equal(count(out, "\n"), 1);
	log_setup("text", "info");
}

static void debug_lines(void)
{
	log_debug(NULL, "not shown");
	log_info(NULL, "shown");
}

static void lines_below_the_level_are_not_written(void **state)
{
	char *out;

	log_setup("text", "info");
	out = capture(debug_lines);
	assert_null(strstr(out, "not shown"));
	assert_non_null(strstr(out, "info  shown"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_flood_from_one_call_site_is_cut_to_a_burst),
		cmocka_unit_test(other_call_sites_are_not_silenced_by_a_flood),
		cmocka_unit_test(access_lines_are_never_suppressed),
		cmocka_unit_test(json_lines_carry_the_tunnel_fields_and_escape_the_message),
		cmocka_unit_test(lines_below_the_level_are_not_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
