/* tunnel/metrics: the Prometheus exposition from fixed counters and
 * hand-made conns, compared with tests/unit/golden/metrics.prom, checked
 * by a small format checker (and by `promtool check metrics` when it is
 * installed), and the /readyz rule.
 *
 * After an intended change of the output, regenerate the golden file
 * (tools/regen-golden.sh, or GOLDEN_UPDATE=1 with this binary) and review
 * the diff. GOLDEN_DIR overrides where the golden files are. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tunnel/conn.h"
#include "tunnel/metrics.h"
#include "tunnel/stats.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---- */

enum { NOW_MS = 1000000000, UNIX_MS = 1700000000123ULL };

static const struct metrics_info info = {
	.version = "1.2.3",
	.role = "server",
	.uptime_s = 7200,
	.now_ms = NOW_MS,
	.unix_ms = UNIX_MS,
};

static struct conn *mkconn(unsigned id, enum conn_state st, const char *identity)
{
	struct conn *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->id = id;
	c->state = st;
	snprintf(c->identity, sizeof(c->identity), "%s", identity);
	return c;
}

/* Two tunnels that get series (one up, one dialing with an identity that
 * needs every escape), one stranger in its handshake and one closed
 * conn, which get none. */
static void make_conns(struct conn **v)
{
	v[0] = mkconn(7, CONN_UP, "vpn-shoot-0");
	v[0]->up_since_ms = NOW_MS - 3600500;
	v[0]->last_rx_ms = NOW_MS - 200;
	v[0]->rtt_us = 1234;
	v[0]->ctr = (struct conn_counters){ .rx_bytes = 123456789012ULL, .rx_packets = 98765,
					    .tx_bytes = 42, .tx_packets = 1, .drops = 3 };
	v[1] = mkconn(12, CONN_HELLO, "we\"ird\\peer\nname \xc3\xa9 \xff\xc3(");
	v[1]->rtt_us = 2000001;
	v[2] = mkconn(13, CONN_TLS, "");
	v[3] = mkconn(5, CONN_CLOSED, "vpn-shoot-1");
	v[3]->ctr.rx_bytes = 5;
}

static void free_conns(struct conn **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

static void set_stats(void)
{
	memset(&stats, 0, sizeof(stats));
	for (int i = 0; i < STAT__MAX; i++)
		stats.v[i] = 1000 * (uint64_t)(i + 1) + (uint64_t)i;
	for (int i = 0; i < DROP__MAX; i++)
		stats.drops[i] = (uint64_t)i * 3;
	stats.v[0] = UINT64_MAX;	/* wraps nothing: printed exactly */
}

static char *render(void)
{
	struct http_buf b = { 0 };
	struct conn *v[4];

	set_stats();
	make_conns(v);
	metrics_render(&b, &info, v, N(v));
	free_conns(v, N(v));
	assert_false(b.failed);
	assert_non_null(b.data);
	assert_int_equal(strlen(b.data), b.len);
	return b.data;
}

/* ---- a small checker for text format 0.0.4 ---- */

static bool is_name(const char *s, size_t n, bool colon)
{
	if (!n || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || (colon && s[i] == ':')))
			return false;
	return true;
}

struct family {
	char name[128], type[16];
	bool help, samples_done;
	int samples;
};

/* Checks one sample line; returns the metric name's length. */
static size_t check_sample(const char *l, char *series, size_t slen)
{
	const char *p = l, *end;
	size_t nlen;
	double v;

	while (*p && *p != '{' && *p != ' ')
		p++;
	nlen = (size_t)(p - l);
	if (!is_name(l, nlen, true))
		fail_msg("bad metric name in `%s'", l);
	if (*p == '{') {
		p++;
		while (*p != '}') {
			const char *ln = p;

			while (*p && *p != '=')
				p++;
			if (!is_name(ln, (size_t)(p - ln), false) || !strncmp(ln, "__", 2))
				fail_msg("bad label name in `%s'", l);
			if (*++p != '"')
				fail_msg("unquoted label value in `%s'", l);
			for (p++; *p != '"'; p++) {
				if (!*p)
					fail_msg("unterminated label value in `%s'", l);
				if (*p == '\\' && !strchr("\\\"n", *++p))
					fail_msg("bad escape in `%s'", l);
			}
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				fail_msg("bad label list in `%s'", l);
		}
		p++;
	}
	snprintf(series, slen, "%.*s", (int)(p - l), l);
	if (*p++ != ' ')
		fail_msg("no value in `%s'", l);
	errno = 0;
	v = strtod(p, (char **)&end);
	if (end == p || *end || errno)
		fail_msg("bad value in `%s'", l);
	assert_true(v >= 0);
	return nlen;
}

/* Checks an exposition: UTF-8, lines ending in \n, every family with
 * one HELP and one TYPE before its samples, samples of a family together,
 * no series twice, our naming rules (vpn_ prefix, counters and only
 * counters end in _total). Returns the number of samples. */
static int check_exposition(const char *text)
{
	struct family fams[64];
	size_t nfam = 0, nseries = 0;
	static char series[1024][256];
	struct family *cur = NULL;
	char *copy = strdup(text), *save = NULL, *l;
	int samples = 0;

	assert_non_null(copy);
	assert_true(text[0] && text[strlen(text) - 1] == '\n');
	for (const unsigned char *u = (const unsigned char *)text; *u; u++) {
		/* Structural UTF-8 check: continuation bytes follow a lead. */
		int more = *u < 0x80 ? 0 : *u >= 0xf0 ? 3 : *u >= 0xe0 ? 2 : *u >= 0xc2 ? 1 : -1;
		assert_true(more >= 0);
		for (; more > 0; more--)
			assert_true((*++u & 0xc0) == 0x80);
	}
	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128], kind[8], rest[512];
		struct family *f = NULL;

		if (l[0] == '#') {
			if (sscanf(l, "# %7s %127s %511[^\n]", kind, name, rest) < 3)
				fail_msg("bad comment line `%s'", l);
			for (size_t i = 0; i < nfam; i++)
				if (!strcmp(fams[i].name, name))
					f = &fams[i];
			if (!f) {
				assert_true(nfam < N(fams));
				f = &fams[nfam++];
				memset(f, 0, sizeof(*f));
				snprintf(f->name, sizeof(f->name), "%s", name);
			}
			if (f->samples)
				fail_msg("%s: %s after samples", name, kind);
			if (!strcmp(kind, "HELP")) {
				assert_false(f->help);
				f->help = true;
			} else if (!strcmp(kind, "TYPE")) {
				assert_false(f->type[0]);
				assert_true(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
					    !strcmp(rest, "histogram") || !strcmp(rest, "summary") ||
					    !strcmp(rest, "untyped"));
				snprintf(f->type, sizeof(f->type), "%.15s", rest);
			} else {
				fail_msg("unknown comment `%s'", l);
			}
			continue;
		}
		assert_true(nseries < N(series));
		{
			size_t nlen = check_sample(l, series[nseries], sizeof(series[0]));

			for (size_t i = 0; i < nseries; i++)
				if (!strcmp(series[i], series[nseries]))
					fail_msg("series twice: %s", series[i]);
			nseries++;
			for (size_t i = 0; i < nfam; i++)
				if (strlen(fams[i].name) == nlen && !strncmp(fams[i].name, l, nlen))
					f = &fams[i];
			/* A histogram's samples carry a suffix on the family name. */
			for (size_t i = 0; !f && i < nfam; i++) {
				size_t fl = strlen(fams[i].name);
				static const char *const sfx[] = { "_bucket", "_sum", "_count" };
				if (strcmp(fams[i].type, "histogram") || fl >= nlen ||
				    strncmp(fams[i].name, l, fl))
					continue;
				for (size_t k = 0; k < 3; k++)
					if (nlen - fl == strlen(sfx[k]) && !strncmp(l + fl, sfx[k], nlen - fl))
						f = &fams[i];
			}
		}
		if (!f || !f->type[0] || !f->help)
			fail_msg("sample without HELP and TYPE: `%s'", l);
		if (f->samples_done)
			fail_msg("samples of %s are not together", f->name);
		if (cur && cur != f)
			cur->samples_done = true;
		cur = f;
		f->samples++;
		samples++;
	}
	for (size_t i = 0; i < nfam; i++) {
		size_t n = strlen(fams[i].name);
		bool total = n > 6 && !strcmp(fams[i].name + n - 6, "_total");

		if (strncmp(fams[i].name, "vpn_", 4))
			fail_msg("%s: not prefixed vpn_", fams[i].name);
		if (total != !strcmp(fams[i].type, "counter"))
			fail_msg("%s: %s", fams[i].name, total ? "_total on a non-counter" : "counter without _total");
		assert_true(fams[i].help && fams[i].type[0]);
	}
	free(copy);
	return samples;
}

#include "golden.h"

static void test_golden(void **state)
{
	char *got = render();

	golden_compare("metrics.prom", got);
	free(got);
}

static void test_format(void **state)
{
	char *got = render();
	/* Globals and drops: one each; per tunnel: 9 families x 2 shown,
	 * and the RTT histogram's buckets, +Inf, _sum and _count. */
	int want = 3 + STAT__MAX + DROP__MAX + 9 * 2 + (CONN_RTT_BUCKETS + 3) * 2;

	assert_int_equal(check_exposition(got), want);
	free(got);
}

/* promtool is the reference; it is optional here (Debian: prometheus),
 * the checker above is not. */
static void test_promtool(void **state)
{
	char *got, tmp[] = "/tmp/tendril-metrics-XXXXXX", cmd[256];
	int fd, rc;

	if (system("command -v promtool >/dev/null 2>&1")) {
		printf("promtool not installed: skipped (apt-get install prometheus)\n");
		skip();
	}
	got = render();
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, got, strlen(got)), (ssize_t)strlen(got));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", tmp);
	rc = system(cmd);
	unlink(tmp);
	free(got);
	assert_int_equal(rc, 0);
}

/* Escaping of label values: \\, \" and \n, and invalid UTF-8 replaced,
 * valid UTF-8 kept. */
static void test_label_escape(void **state)
{
	char *got = render();

	assert_non_null(strstr(got,
		"vpn_tunnel_up{tunnel=\"12\",peer=\"we\\\"ird\\\\peer\\nname \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd(\"} 0\n"));
	assert_non_null(strstr(got, "vpn_tunnel_rx_bytes_total{tunnel=\"7\",peer=\"vpn-shoot-0\"} 123456789012\n"));
	assert_non_null(strstr(got, "vpn_tunnel_rtt_seconds{tunnel=\"7\",peer=\"vpn-shoot-0\"} 0.001234\n"));
	assert_non_null(strstr(got, "vpn_tunnel_rtt_seconds{tunnel=\"12\","));
	assert_non_null(strstr(got, "} 2.000001\n"));
	/* Up for 3600.5 s at Unix time 1700000000.123. */
	assert_non_null(strstr(got, "vpn_tunnel_up_since_seconds{tunnel=\"7\",peer=\"vpn-shoot-0\"} 1699996399.623\n"));
	assert_null(strstr(got, "tunnel=\"13\""));	/* no identity yet */
	assert_null(strstr(got, "tunnel=\"5\""));	/* closed */
	assert_non_null(strstr(got, "vpn_tunnels_up 1\n"));
	free(got);
}

/* Every counter of the tables is there, with its help text. */
static void test_tables_complete(void **state)
{
	char *got = render(), want[256];

	for (int i = 0; i < STAT__MAX; i++) {
		if (stats_global_kinds[i] == COUNTER)
			snprintf(want, sizeof(want), "\n# TYPE vpn_%s_total counter\nvpn_%s_total ",
				 stats_global_names[i], stats_global_names[i]);
		else
			snprintf(want, sizeof(want), "\n# TYPE vpn_%s gauge\nvpn_%s ",
				 stats_global_names[i], stats_global_names[i]);
		assert_non_null(strstr(got, want));
	}
	for (int i = 0; i < DROP__MAX; i++) {
		snprintf(want, sizeof(want), "vpn_packets_dropped_total{reason=\"%s\"} %d\n",
			 stats_reason_names[i], i * 3);
		assert_non_null(strstr(got, want));
	}
	assert_non_null(strstr(got, "# HELP vpn_tun_rx_packets_total packets read from the TUN device\n"));
	assert_non_null(strstr(got, "vpn_tun_rx_packets_total 18446744073709551615\n"));
	free(got);
}

static void test_no_conns(void **state)
{
	struct http_buf b = { 0 };

	set_stats();
	metrics_render(&b, &info, NULL, 0);
	assert_int_equal(check_exposition(b.data), 3 + STAT__MAX + DROP__MAX);
	assert_non_null(strstr(b.data, "vpn_tunnels_up 0\n"));
	assert_non_null(strstr(b.data, "vpn_build_info{version=\"1.2.3\",role=\"server\"} 1\n"));
	assert_non_null(strstr(b.data, "vpn_uptime_seconds 7200\n"));
	http_buf_free(&b);
}

static void test_info_now(void **state)
{
	struct metrics_info mi;
	uint64_t t = conn_now_ms();

	metrics_info_now(&mi, "shoot", t > 5000 ? t - 5000 : 0);
	assert_string_equal(mi.role, "shoot");
	assert_non_null(mi.version);
	assert_true(mi.now_ms >= t);
	assert_true(mi.uptime_s >= (t > 5000 ? 5 : 0) && mi.uptime_s < 60);
	assert_true(mi.unix_ms > 1600000000000ULL);
	metrics_info_now(&mi, "shoot", mi.now_ms + 100000);	/* clock oddity */
	assert_int_equal(mi.uptime_s, 0);
}

/* ---- /readyz ---- */

struct ready_case {
	const char *name;
	struct { enum conn_state st; uint64_t idle_ms; } c[3];
	size_t n;
	bool ready;
	const char *why;
};

static const struct ready_case ready_cases[] = {
	{ "no tunnel", { { 0 } }, 0, false, "not ready: no tunnel is up (0 connecting" },
	{ "one fresh", { { CONN_UP, 0 } }, 1, true, NULL },
	{ "one just within", { { CONN_UP, 4999 } }, 1, true, NULL },
	{ "one at the timeout", { { CONN_UP, 5000 } }, 1, false,
	  "not ready: tunnel 1 (peer-1) received nothing for 5000 ms (timeout 5000 ms)" },
	{ "stale and fresh", { { CONN_UP, 9000 }, { CONN_UP, 10 } }, 2, true, NULL },
	{ "two stale: the freshest is named", { { CONN_UP, 9000 }, { CONN_UP, 6000 } }, 2, false,
	  "not ready: tunnel 2 (peer-2) received nothing for 6000 ms" },
	{ "handshaking only", { { CONN_TLS, 0 }, { CONN_HELLO, 0 }, { CONN_CONNECTING, 0 } }, 3, false,
	  "not ready: no tunnel is up (3 connecting" },
	{ "closed does not count", { { CONN_CLOSED, 0 } }, 1, false, "no tunnel is up" },
	{ "rx in the future counts as fresh", { { CONN_UP, (uint64_t)-50 } }, 1, true, NULL },
};

static void test_ready(void **state)
{
	for (size_t i = 0; i < N(ready_cases); i++) {
		const struct ready_case *t = &ready_cases[i];
		struct conn *v[3];
		char why[256] = "";
		bool ready;

		for (size_t j = 0; j < t->n; j++) {
			char id[32];

			snprintf(id, sizeof(id), "peer-%zu", j + 1);
			v[j] = mkconn((unsigned)j + 1, t->c[j].st, id);
			v[j]->last_rx_ms = NOW_MS - t->c[j].idle_ms;
		}
		ready = metrics_ready(v, t->n, NOW_MS, 5000, why, sizeof(why));
		if (ready != t->ready || (t->why && !strstr(why, t->why)))
			fail_msg("case `%s': ready %d `%s'", t->name, ready, why);
		/* why is optional */
		assert_int_equal(metrics_ready(v, t->n, NOW_MS, 5000, NULL, 0), t->ready);
		free_conns(v, t->n);
	}
}

static void test_answers(void **state)
{
	struct http_response res = { .status = 200 };
	struct conn *c = mkconn(1, CONN_UP, "p");

	c->last_rx_ms = NOW_MS;
	metrics_answer_ready(&res, &c, 1, NOW_MS, 5000);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.data, "ready\n");
	http_buf_free(&res.body);

	metrics_answer_ready(&res, &c, 1, NOW_MS + 5000, 5000);
	assert_int_equal(res.status, 503);
	assert_non_null(strstr(res.body.data, "received nothing for 5000 ms"));
	http_buf_free(&res.body);

	res.status = 200;
	metrics_answer(&res, &info, &c, 1);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, METRICS_CONTENT_TYPE);
	assert_non_null(strstr(res.body.data, "vpn_tunnels_up 1\n"));
	http_buf_free(&res.body);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_tables_complete),
		cmocka_unit_test(test_no_conns),
		cmocka_unit_test(test_info_now),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
