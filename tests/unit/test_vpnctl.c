/* vpnctl/fmt.c: reading the daemons' tables by column name, human units,
 * throughput from two samples, and the rendered `show tunnels` and `watch`
 * views (golden files, plain and coloured).
 *
 * After an intended change of the output, regenerate the golden files
 * (tools/regen-golden.sh vpnctl, or GOLDEN_UPDATE=1 with this binary) and
 * review the diff. GOLDEN_DIR overrides where the golden files are. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../vpnctl/fmt.c"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures: answers as tunnel/ctl.c writes them ---- */

static const char tunnels_answer[] =
	"# id\tpeer\tremote\ttunnel_addr\tstate\tup_since_s\trx_bytes\ttx_bytes\t"
	"rx_packets\ttx_packets\tdrops\trtt_us\treconnects\n"
	"3\tvpn-shoot\t[::ffff:192.0.2.2]:47872\tfd8f:6d53:b97a:1::2\tup\t192\t1270000\t"
	"37600\t1207\t703\t2\t260\t0\n"
	"7\t-\t192.0.2.9:1194\t-\tconnecting\t0\t0\t0\t0\t0\t0\t0\t4\n";

/* The same tunnels from a newer daemon: columns reordered, one added. */
static const char tunnels_reordered[] =
	"# state\tqueue_depth\tid\trx_bytes\tpeer\ttx_bytes\tup_since_s\n"
	"up\t5\t3\t1270000\tvpn-shoot\t37600\t7384\n";

static const char info_answer[] =
	"name: tendril\nversion: 0.1.0\nrole: server\npid: 42\nuptime_s: 7384\n"
	"tunnels_up: 1\nconnections: 2\n";

static char *render_tunnels(const char *answer, bool color)
{
	struct fmt_table t;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(fmt_table_parse(&t, answer), 0);
	fmt_show_tunnels(f, &t, color);
	fmt_table_free(&t);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* Two refreshes one second apart; returns the second. */
static char *render_watch(bool color)
{
	static const char later[] =
		"# id\tpeer\tremote\ttunnel_addr\tstate\tup_since_s\trx_bytes\ttx_bytes\t"
		"rx_packets\ttx_packets\tdrops\trtt_us\treconnects\n"
		"3\tvpn-shoot\t[::ffff:192.0.2.2]:47872\tfd8f:6d53:b97a:1::2\tup\t193\t2520000\t"
		"50100\t2207\t803\t2\t310\t0\n"
		"7\t-\t192.0.2.9:1194\t-\tconnecting\t0\t0\t0\t0\t0\t0\t0\t4\n";
	struct fmt_samples a = { 0 }, b = { 0 };
	struct fmt_table t0, t1;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(fmt_table_parse(&t0, tunnels_answer), 0);
	assert_int_equal(fmt_table_parse(&t1, later), 0);
	assert_int_equal(fmt_samples_take(&a, &t0, 100.0), 0);
	assert_int_equal(fmt_samples_take(&b, &t1, 101.0), 0);
	fmt_watch(f, "/run/vpn-server/stats.sock", "12:03:04", info_answer, &t1, &a, &b, NULL, color);
	assert_int_equal(fclose(f), 0);
	fmt_table_free(&t0);
	fmt_table_free(&t1);
	fmt_samples_free(&a);
	fmt_samples_free(&b);
	return out;
}

#include "golden.h"

static void test_golden_show_tunnels(void **state)
{
	char *got = render_tunnels(tunnels_answer, false);

	golden_compare("vpnctl_show_tunnels.txt", got);
	free(got);
	got = render_tunnels(tunnels_answer, true);
	golden_compare("vpnctl_show_tunnels_color.txt", got);
	free(got);
}

static void test_golden_watch(void **state)
{
	char *got = render_watch(false);

	golden_compare("vpnctl_watch.txt", got);
	free(got);
	got = render_watch(true);
	golden_compare("vpnctl_watch_color.txt", got);
	free(got);
}

/* ---- tables ---- */

static void test_table_by_name(void **state)
{
	struct fmt_table t;
	uint64_t v;

	assert_int_equal(fmt_table_parse(&t, tunnels_reordered), 0);
	assert_int_equal(t.ncols, 7);
	assert_int_equal(t.nrows, 1);
	assert_int_equal(fmt_table_col(&t, "id"), 2);
	assert_int_equal(fmt_table_col(&t, "remote"), -1);
	assert_string_equal(fmt_table_str(&t, 0, fmt_table_col(&t, "peer")), "vpn-shoot");
	assert_true(fmt_table_u64(&t, 0, fmt_table_col(&t, "rx_bytes"), &v));
	assert_int_equal(v, 1270000);
	assert_null(fmt_table_str(&t, 0, fmt_table_col(&t, "remote")));
	assert_null(fmt_table_str(&t, 1, 0));
	fmt_table_free(&t);
}

static void test_table_edges(void **state)
{
	struct fmt_table t;
	uint64_t v;

	/* No header: not a table. */
	assert_int_equal(fmt_table_parse(&t, "name: value\n"), -EINVAL);
	assert_int_equal(fmt_table_parse(&t, ""), -EINVAL);
	/* Header only: a table without rows. */
	assert_int_equal(fmt_table_parse(&t, "# id\tpeer\n"), 0);
	assert_int_equal(t.nrows, 0);
	fmt_table_free(&t);
	/* Short and long rows, "-" and empty cells, no final newline, and a
	 * header without the space after '#'. */
	assert_int_equal(fmt_table_parse(&t, "#id\tpeer\trx_bytes\n1\n2\t-\t\t9\n3\tp\tx12"), 0);
	assert_int_equal(t.nrows, 3);
	assert_int_equal(fmt_table_col(&t, "id"), 0);
	assert_string_equal(fmt_table_str(&t, 0, 0), "1");
	assert_null(fmt_table_str(&t, 0, 1));
	assert_null(fmt_table_str(&t, 1, 1));
	assert_false(fmt_table_u64(&t, 1, 2, &v));
	assert_false(fmt_table_u64(&t, 2, 2, &v));
	assert_string_equal(fmt_table_str(&t, 2, 1), "p");
	fmt_table_free(&t);
}

static void test_kv(void **state)
{
	char v[32];

	assert_true(fmt_kv_get(info_answer, "role", v, sizeof(v)));
	assert_string_equal(v, "server");
	assert_true(fmt_kv_get(info_answer, "tunnels_up", v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_false(fmt_kv_get(info_answer, "tunnels", v, sizeof(v)));
	assert_false(fmt_kv_get(info_answer, "up", v, sizeof(v)));
	assert_true(fmt_kv_get(info_answer, "name", v, 4));
	assert_string_equal(v, "ten");
}

/* ---- units ---- */

static void test_bytes(void **state)
{
	static const struct { uint64_t in; const char *want; } cases[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.00 KiB" }, { 1536, "1.50 KiB" },
		{ 1270000, "1.21 MiB" }, { 3ULL << 30, "3.00 GiB" }, { 5ULL << 40, "5.00 TiB" },
		{ UINT64_MAX, "16.00 EiB" },
	};
	char buf[32];

	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(fmt_bytes(buf, sizeof(buf), cases[i].in), cases[i].want);
}

static void test_durations(void **state)
{
	static const struct { uint64_t in; const char *lng, *shrt; } cases[] = {
		{ 0, "0 seconds", "0s" },
		{ 1, "1 second", "1s" },
		{ 59, "59 seconds", "59s" },
		{ 60, "1 minute", "1m" },
		{ 192, "3 minutes, 12 seconds", "3m 12s" },
		{ 3600, "1 hour", "1h" },
		{ 7384, "2 hours, 3 minutes, 4 seconds", "2h 3m" },
		{ 7204, "2 hours, 4 seconds", "2h" },
		{ 90061, "1 day, 1 hour, 1 minute, 1 second", "1d 1h" },
		{ 86400 * 400, "400 days", "400d" },
	};
	char buf[64];

	for (size_t i = 0; i < N(cases); i++) {
		assert_string_equal(fmt_duration(buf, sizeof(buf), cases[i].in), cases[i].lng);
		assert_string_equal(fmt_duration_short(buf, sizeof(buf), cases[i].in), cases[i].shrt);
	}
	/* Truncated, never overrun. */
	assert_string_equal(fmt_duration(buf, 8, 90061), "1 day, ");
}

static void test_rates(void **state)
{
	static const struct { double in; const char *want; } cases[] = {
		{ 0, "0 bit/s" }, { 999, "999 bit/s" }, { 1000, "1.00 kbit/s" },
		{ 999994, "999.99 kbit/s" }, { 999996, "1.00 Mbit/s" }, { 8e6, "8.00 Mbit/s" },
		{ 2.5e9, "2.50 Gbit/s" }, { 4e15, "4000.00 Tbit/s" }, { -5, "0 bit/s" },
	};
	char buf[32];

	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(fmt_rate(buf, sizeof(buf), cases[i].in), cases[i].want);
	assert_string_equal(fmt_rtt(buf, sizeof(buf), 260), "0.26 ms");
	assert_string_equal(fmt_rtt(buf, sizeof(buf), 12345), "12.35 ms");
}

/* ---- throughput ---- */

static void test_samples(void **state)
{
	struct fmt_samples a = { 0 }, b = { 0 };
	struct fmt_table t0, t1;
	double bps;

	/* Tunnel 2 went away, 5 is new, 1's counters were cleared. */
	assert_int_equal(fmt_table_parse(&t0, "# id\trx_bytes\ttx_bytes\n1\t1000\t500\n2\t10\t10\n3\t0\t0\n"), 0);
	assert_int_equal(fmt_table_parse(&t1, "# tx_bytes\tid\trx_bytes\n0\t1\t0\n10\t5\t10\n250\t3\t1000\n"), 0);
	assert_int_equal(fmt_samples_take(&a, &t0, 10.0), 0);
	assert_int_equal(fmt_samples_take(&b, &t1, 12.0), 0);
	assert_true(fmt_samples_rate(&a, &b, "3", false, &bps));
	assert_true(bps == 4000.0);	/* 1000 bytes in 2 s */
	assert_true(fmt_samples_rate(&a, &b, "3", true, &bps));
	assert_true(bps == 1000.0);
	assert_false(fmt_samples_rate(&a, &b, "1", false, &bps));
	assert_false(fmt_samples_rate(&a, &b, "2", false, &bps));
	assert_false(fmt_samples_rate(&a, &b, "5", false, &bps));
	assert_false(fmt_samples_rate(NULL, &b, "3", false, &bps));
	/* No time passed: no rate. */
	assert_false(fmt_samples_rate(&b, &b, "3", false, &bps));
	/* Taking again replaces the sample without leaking. */
	assert_int_equal(fmt_samples_take(&a, &t1, 14.0), 0);
	assert_int_equal(a.n, 3);
	fmt_samples_free(&a);
	fmt_samples_free(&b);
	fmt_table_free(&t0);
	fmt_table_free(&t1);
}

/* ---- rendering rules ---- */

static void test_show_reordered(void **state)
{
	char *got = render_tunnels(tunnels_reordered, false);

	/* Found by name wherever the column is; the unknown column shows too;
	 * absent columns leave their lines out. */
	assert_string_equal(got,
			    "tunnel: 3\n"
			    "  peer: vpn-shoot\n"
			    "  state: up 2 hours, 3 minutes, 4 seconds\n"
			    "  transfer: 1.21 MiB received, 36.72 KiB sent\n"
			    "  queue depth: 5\n");
	free(got);
}

static void test_show_empty(void **state)
{
	char *got = render_tunnels("# id\tpeer\n", true);

	assert_string_equal(got, "no tunnels\n");
	free(got);
}

static void test_no_color_without_asking(void **state)
{
	char *got = render_tunnels(tunnels_answer, false);

	assert_null(strchr(got, '\033'));
	free(got);
	got = render_watch(false);
	assert_null(strchr(got, '\033'));
	free(got);
	got = render_tunnels(tunnels_answer, true);
	assert_non_null(strstr(got, "\033[32mup\033[0m"));
	assert_non_null(strstr(got, "\033[31mconnecting\033[0m"));
	assert_non_null(strstr(got, "\033[1mvpn-shoot\033[0m"));
	free(got);
}

static void test_watch_error(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	fmt_watch(f, "/x.sock", "00:00:00", NULL, NULL, NULL, NULL,
		  "cannot reach /x.sock: No such file or directory", false);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(out, "00:00:00  /x.sock\n\ncannot reach /x.sock: No such file or directory\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_show_tunnels),
		cmocka_unit_test(test_golden_watch),
		cmocka_unit_test(test_table_by_name),
		cmocka_unit_test(test_table_edges),
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_show_reordered),
		cmocka_unit_test(test_show_empty),
		cmocka_unit_test(test_no_color_without_asking),
		cmocka_unit_test(test_watch_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
