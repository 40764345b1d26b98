/* tunnel/ctl: the stats socket's command line, through ctl_execute with a
 * small command table. The rules (../shared/CONTRACT.md): commands are
 * separated by ';'; a trailing "json" selects JSON; every answer ends
 * with one empty line and holds none inside; an unknown command answers
 * one line starting "error: " that names it; text tables have a header
 * starting "# " and tab-separated rows; a JSON answer is one document. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "golden.h"
#include "tests/json_check.h"

#include "tunnel/conn.h"
#include "tunnel/ctl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the command table under test ---- */

static void *seen_owner;

static void cmd_info(struct ctl_out *o, void *owner)
{
	seen_owner = owner;
	ctl_kv_begin(o);
	ctl_kv_str(o, "version", "1.2.3");
	ctl_kv_str(o, "role", "test");
	ctl_kv_str(o, "awkward", "tab\there, newline\nthere, \"quoted\" back\\slash \x01");
	ctl_kv_str(o, "empty", "");
	ctl_kv_u64(o, "big", UINT64_MAX);
	ctl_kv_u64(o, "zero", 0);
	ctl_kv_end(o);
}

static const char *const peer_cols[] = { "id", "peer", "addr" };

static void cmd_peers(struct ctl_out *o, void *owner)
{
	ctl_table_begin(o, "peers", peer_cols, N(peer_cols));
	ctl_row_begin(o);
	ctl_cell_u64(o, "id", 1);
	ctl_cell_str(o, "peer", "vpn-shoot-0");
	ctl_cell_str(o, "addr", "fd8f:6d53:b97a:1::2");
	ctl_row_end(o);
	ctl_row_begin(o);
	ctl_cell_u64(o, "id", 2);
	ctl_cell_str(o, "peer", "we\tird\n\"name\"");
	ctl_cell_str(o, "addr", "");
	ctl_row_end(o);
	ctl_table_end(o);
}

static void cmd_no_rows(struct ctl_out *o, void *owner)
{
	ctl_table_begin(o, "none", peer_cols, N(peer_cols));
	ctl_table_end(o);
}

static void cmd_silent(struct ctl_out *o, void *owner)
{
}

static void cmd_fail(struct ctl_out *o, void *owner)
{
	ctl_error(o, "it broke: %s", "disk on fire");
}

static void cmd_tunnels(struct ctl_out *o, void *owner)
{
	struct conn *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	ctl_tunnels_begin(o);
	c->id = 7;
	c->state = CONN_UP;
	c->up_since_ms = conn_now_ms();
	snprintf(c->identity, sizeof(c->identity), "vpn-shoot-0");
	snprintf(c->remote, sizeof(c->remote), "[2001:db8::9]:40000");
	c->ctr.rx_bytes = 1000;
	c->rtt_us = 250;
	ctl_tunnel_row(o, c, "fd8f:6d53:b97a:1::2", 3);
	c->id = 8;
	c->state = CONN_HELLO;
	c->identity[0] = '\0';
	ctl_tunnel_row(o, c, "", 0);
	ctl_table_end(o);
	free(c);
}

static const struct ctl_cmd cmds[] = {
	{ "show info", "name: value lines", cmd_info, false },
	{ "show peers", "a table with two rows", cmd_peers, false },
	{ "show none", "a table without rows", cmd_no_rows, false },
	{ "show silent", "answers nothing", cmd_silent, false },
	{ "show stat", "global counters", ctl_show_stat, false },
	{ "show tunnels", "the shared tunnel table", cmd_tunnels, false },
	{ "fail", "always an error", cmd_fail, false },
	{ "reload", "changes state", cmd_info, true },
};

/* Runs line and returns the output (caller frees); *failed receives
 * ctl_out.failed if non-NULL. */
static char *run(const char *line, bool *failed)
{
	struct ctl_out o = { 0 };
	char *s;

	ctl_execute(cmds, N(cmds), (void *)cmds, line, &o);
	s = strdup(o.buf ? o.buf : "");
	assert_non_null(s);
	assert_int_equal(strlen(s), o.len);
	if (failed)
		*failed = o.failed;
	ctl_out_free(&o);
	return s;
}

/* Splits output into answers: runs of lines, each run ended by an empty
 * line. Fails if the output does not end with that empty line. Returns
 * the number of answers; ans[i] holds the i-th answer's lines (freed by
 * free_answers). */
enum { MAX_ANSWERS = 16 };

static size_t split_answers(const char *out, char **ans)
{
	const char *p = out, *start = out;
	size_t n = 0;

	while (*p) {
		const char *e = strchr(p, '\n');

		if (!e)
			fail_msg("output does not end with a newline: `%s'", out);
		if (e == p) {
			assert_true(n < MAX_ANSWERS);
			ans[n] = strndup(start, (size_t)(p - start));
			assert_non_null(ans[n]);
			n++;
			start = e + 1;
		}
		p = e + 1;
	}
	if (start != p)
		fail_msg("last answer is not ended by an empty line: `%s'", out);
	return n;
}

static void free_answers(char **ans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ans[i]);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void the_json_validator_itself_tells_good_from_bad(void **state)
{
	static const struct { const char *doc; bool ok; } rows[] = {
		{ "{}", true }, { "[]", true }, { "{\"a\":[1,-2.5e3,\"x\\n\\u00e9\",true,null]}\n", true },
		{ "", false }, { "{", false }, { "{\"a\":1,}", false }, { "[1,]", false },
		{ "{\"a\":1}{}", false }, { "{\"a\":01}", false }, { "\"a\tb\"", false },
		{ "\"\\x\"", false }, { "{a:1}", false }, { "[1 2]", false },
	};

	for (size_t i = 0; i < N(rows); i++)
		if (json_valid(rows[i].doc) != rows[i].ok)
			fail_msg("`%s': want valid=%d", rows[i].doc, rows[i].ok);
}

/* ---- the rules ---- */

static void help_lists_every_command_with_its_usage_and_itself(void **state)
{
	char *out = run("help", NULL), *ans[MAX_ANSWERS];
	size_t n = split_answers(out, ans);

	assert_int_equal(n, 1);
	assert_int_equal(count_lines(ans[0]), N(cmds) + 1);
	for (size_t i = 0; i < N(cmds); i++) {
		char *line = strstr(ans[0], cmds[i].keyword);

		if (!line || (line != ans[0] && line[-1] != '\n'))
			fail_msg("help does not start a line with `%s'", cmds[i].keyword);
		if (!strstr(line, cmds[i].usage) || strstr(line, cmds[i].usage) > strchr(line, '\n'))
			fail_msg("help line of `%s' lacks its usage", cmds[i].keyword);
	}
	assert_non_null(strstr(ans[0], "\nhelp "));
	free_answers(ans, n);
	free(out);
}

static void every_answer_ends_with_one_empty_line_and_holds_none(void **state)
{
	static const struct { const char *line; size_t answers; } rows[] = {
		{ "help", 1 }, { "show info", 1 }, { "show info json", 1 },
		{ "show peers", 1 }, { "show peers json", 1 }, { "show none", 1 },
		{ "show none json", 1 }, { "show silent", 1 }, { "show silent json", 1 },
		{ "show stat", 1 }, { "show stat json", 1 }, { "show tunnels", 1 },
		{ "show tunnels json", 1 }, { "fail", 1 }, { "fail json", 1 },
		{ "bogus", 1 }, { "json", 1 },
		{ "show info; show peers json; bogus; help; show silent", 5 },
		{ "show silent;show silent;show silent", 3 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		char *out = run(rows[i].line, NULL), *ans[MAX_ANSWERS];
		size_t n = split_answers(out, ans);

		if (n != rows[i].answers)
			fail_msg("`%s': %zu answers (empty-line separated), want %zu; output `%s'",
				 rows[i].line, n, rows[i].answers, out);
		free_answers(ans, n);
		free(out);
	}
}

static void several_commands_on_one_line_answer_in_order(void **state)
{
	char *out = run("show info; fail ;show none json;help", NULL), *ans[MAX_ANSWERS];
	size_t n = split_answers(out, ans);

	assert_int_equal(n, 4);
	assert_true(!strncmp(ans[0], "version: 1.2.3\n", 15));
	assert_true(!strncmp(ans[1], "error: it broke", 15));
	assert_string_equal(ans[2], "{\"none\":[]}\n");
	assert_true(!strncmp(ans[3], "show info", 9));
	free_answers(ans, n);
	free(out);
}

static void blank_commands_get_no_answer(void **state)
{
	static const struct { const char *line; size_t answers; } rows[] = {
		{ "", 0 }, { "   ", 0 }, { ";", 0 }, { " ; \t; ", 0 },
		{ ";; show info ;", 1 }, { "show info;;show info", 2 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		char *out = run(rows[i].line, NULL), *ans[MAX_ANSWERS];
		size_t n = split_answers(out, ans);

		if (n != rows[i].answers)
			fail_msg("`%s': %zu answers, want %zu", rows[i].line, n, rows[i].answers);
		free_answers(ans, n);
		free(out);
	}
}

static void words_may_be_separated_by_any_blanks(void **state)
{
	static const char *const lines[] = {
		"show info", "  show info", "show   info  ", "\tshow\tinfo\r", "show info\r",
	};
	char *want = run("show info", NULL);

	for (size_t i = 0; i < N(lines); i++) {
		char *got = run(lines[i], NULL);

		if (strcmp(got, want))
			fail_msg("`%s' answers differently from `show info'", lines[i]);
		free(got);
	}
	free(want);
}

static void text_values_are_name_colon_value_lines(void **state)
{
	char *out = run("show info", NULL), *ans[MAX_ANSWERS];
	size_t n = split_answers(out, ans);
	char *line, *save = NULL;

	assert_int_equal(n, 1);
	assert_int_equal(count_lines(ans[0]), 6);
	for (line = strtok_r(ans[0], "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strstr(line, ": ");

		if (!colon || colon == line || strcspn(line, " \t") < (size_t)(colon - line))
			fail_msg("`%s' is not `name: value'", line);
		if (strchr(line, '\t'))
			fail_msg("`%s' holds a tab", line);
	}
	assert_non_null(strstr(out, "big: 18446744073709551615\n"));
	assert_non_null(strstr(out, "zero: 0\n"));
	free_answers(ans, n);
	free(out);
}

static void text_tables_have_a_hash_header_and_tab_separated_rows(void **state)
{
	char *out = run("show peers", NULL), *ans[MAX_ANSWERS];
	size_t n = split_answers(out, ans);
	char *line, *save = NULL;
	int row = 0;

	assert_int_equal(n, 1);
	for (line = strtok_r(ans[0], "\n", &save); line; line = strtok_r(NULL, "\n", &save), row++) {
		size_t tabs = 0;

		for (char *c = line; *c; c++)
			tabs += *c == '\t';
		if (row == 0)
			assert_string_equal(line, "# id\tpeer\taddr");
		else if (tabs != N(peer_cols) - 1 || line[0] == '#')
			fail_msg("row `%s': %zu tabs, want %zu", line, tabs, N(peer_cols) - 1);
	}
	assert_int_equal(row, 3);
	/* values cannot break the format; an empty cell is "-" */
	assert_non_null(strstr(out, "\n1\tvpn-shoot-0\tfd8f:6d53:b97a:1::2\n"));
	assert_non_null(strstr(out, "\n2\twe ird \"name\"\t-\n"));
	free_answers(ans, n);

	/* No rows: the header alone. */
	free(out);
	out = run("show none", NULL);
	assert_string_equal(out, "# id\tpeer\taddr\n\n");
	free(out);
}

/* The tunnel table both daemons render: its text and JSON forms are
 * specified by golden files (tools/regen-golden.sh ctl). */
static void the_shared_tunnel_table_matches_its_golden_files(void **state)
{
	char *out = run("show tunnels", NULL), *line, *save = NULL, *copy;
	int row = 0;

	golden_compare("ctl_show_tunnels.txt", out);
	/* Every row has as many cells as the header. */
	copy = strdup(out);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save), row++) {
		size_t tabs = 0;

		for (char *c = line; *c; c++)
			tabs += *c == '\t';
		assert_int_equal(tabs, 15);
	}
	assert_int_equal(row, 3);
	free(copy);
	free(out);

	out = run("show tunnels json", NULL);
	golden_compare("ctl_show_tunnels.json", out);
	free(out);
}

static void json_flag_gives_one_valid_document(void **state)
{
	static const struct { const char *line, *has; } rows[] = {
		{ "show info json", "\"version\":\"1.2.3\"" },
		{ "show info json", "\"awkward\":\"tab\\u0009here, newline\\u000athere, \\\"quoted\\\" back\\\\slash \\u0001\"" },
		{ "show info json", "\"empty\":\"\"" },
		{ "show info json", "\"big\":18446744073709551615" },
		{ "show peers json", "{\"peers\":[{\"id\":1,\"peer\":\"vpn-shoot-0\",\"addr\":\"fd8f:6d53:b97a:1::2\"},{\"id\":2," },
		{ "show peers json", "\"addr\":\"\"}]}" },
		{ "show none json", "{\"none\":[]}" },
		{ "show stat json", "\"handshakes_ok\":" },
		{ "show stat json", "\"dropped_no_route\":" },
		{ "show tunnels json", "{\"tunnels\":[{\"id\":7,\"peer\":\"vpn-shoot-0\"" },
		{ "show tunnels json", "\"reconnects\":3,\"queue_bytes\":0,\"channel\":\"tls\",\"offload\":\"none\"}" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		char *out = run(rows[i].line, NULL), *ans[MAX_ANSWERS];
		size_t n = split_answers(out, ans);

		assert_int_equal(n, 1);
		if (!json_valid(ans[0]))
			fail_msg("`%s' is not one JSON document: `%s'", rows[i].line, ans[0]);
		if (!strstr(ans[0], rows[i].has))
			fail_msg("`%s' lacks `%s': `%s'", rows[i].line, rows[i].has, ans[0]);
		free_answers(ans, n);
		free(out);
	}
}

static void json_applies_to_its_own_command_only(void **state)
{
	char *out = run("show info json; show info", NULL), *ans[MAX_ANSWERS];
	size_t n = split_answers(out, ans);

	assert_int_equal(n, 2);
	assert_true(json_valid(ans[0]));
	assert_true(!strncmp(ans[1], "version: ", 9));
	free_answers(ans, n);
	free(out);
}

static void unknown_commands_answer_one_error_line_naming_them(void **state)
{
	static const struct { const char *line, *want; } rows[] = {
		{ "bogus", "error: unknown command `bogus'" },
		{ "show", "error: unknown command `show'" },
		{ "show  bogus", "error: unknown command `show bogus'" },
		{ "show info extra", "error: unknown command `show info extra'" },
		{ "show bogus json", "error: unknown command `show bogus'" },
		{ "json", "error: unknown command `json'" },
		{ "SHOW INFO", "error: unknown command `SHOW INFO'" },
		{ "help me", "error: unknown command `help me'" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		bool failed = false;
		char *out = run(rows[i].line, &failed), *ans[MAX_ANSWERS];
		size_t n = split_answers(out, ans);

		assert_int_equal(n, 1);
		if (strncmp(ans[0], rows[i].want, strlen(rows[i].want)))
			fail_msg("`%s' answered `%s', want `%s...'", rows[i].line, ans[0], rows[i].want);
		assert_int_equal(count_lines(ans[0]), 1);
		assert_true(failed);
		free_answers(ans, n);
		free(out);
	}
}

static void a_handler_error_is_one_error_line_in_any_format(void **state)
{
	static const char *const lines[] = { "fail", "fail json" };

	for (size_t i = 0; i < N(lines); i++) {
		bool failed = false;
		char *out = run(lines[i], &failed);

		assert_string_equal(out, "error: it broke: disk on fire\n\n");
		assert_true(failed);
		free(out);
	}
}

static void a_successful_answer_is_not_failed(void **state)
{
	bool failed = true;
	char *out = run("show info; show peers json; help", &failed);

	assert_false(failed);
	free(out);
}

static void handlers_receive_the_owner(void **state)
{
	char *out;

	seen_owner = NULL;
	out = run("show info", NULL);
	assert_ptr_equal(seen_owner, cmds);
	free(out);
}

static void an_overlong_command_is_unknown_not_cut_to_a_known_one(void **state)
{
	/* Words beyond what the parser keeps must not be dropped so that
	 * "show info <junk>" runs "show info". */
	char line[600];
	bool failed = false;
	char *out;

	snprintf(line, sizeof(line), "show info %0400d", 0);
	out = run(line, &failed);
	if (strncmp(out, "error: unknown command", 22))
		fail_msg("`show info <400 digits>' answered `%.40s...'", out);
	assert_true(failed);
	free(out);
}

static void answers_append_to_the_output_and_free_resets_it(void **state)
{
	struct ctl_out o = { 0 };
	size_t first;

	ctl_execute(cmds, N(cmds), NULL, "show none", &o);
	first = o.len;
	ctl_execute(cmds, N(cmds), NULL, "show none", &o);
	assert_int_equal(o.len, 2 * first);
	assert_int_equal(strlen(o.buf), o.len);
	ctl_out_free(&o);
	assert_null(o.buf);
	assert_int_equal(o.len, 0);
	assert_int_equal(o.cap, 0);
}

static void the_read_only_socket_refuses_commands_that_change_state(void **state)
{
	struct ctl_out o = { .read_only = true };

	ctl_execute(cmds, N(cmds), (void *)cmds, "reload; show info", &o);
	assert_non_null(o.buf);
	assert_true(o.failed);
	assert_non_null(strstr(o.buf, "error: `reload' is not allowed on the read-only socket\n\n"));
	/* Reading commands still answer. */
	assert_non_null(strstr(o.buf, "\n\nversion: 1.2.3\n"));
	ctl_out_free(&o);

	o = (struct ctl_out){ .read_only = false };
	ctl_execute(cmds, N(cmds), (void *)cmds, "reload", &o);
	assert_false(o.failed);
	ctl_out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_json_validator_itself_tells_good_from_bad),
		cmocka_unit_test(help_lists_every_command_with_its_usage_and_itself),
		cmocka_unit_test(every_answer_ends_with_one_empty_line_and_holds_none),
		cmocka_unit_test(several_commands_on_one_line_answer_in_order),
		cmocka_unit_test(blank_commands_get_no_answer),
		cmocka_unit_test(words_may_be_separated_by_any_blanks),
		cmocka_unit_test(text_values_are_name_colon_value_lines),
		cmocka_unit_test(text_tables_have_a_hash_header_and_tab_separated_rows),
		cmocka_unit_test(the_shared_tunnel_table_matches_its_golden_files),
		cmocka_unit_test(json_flag_gives_one_valid_document),
		cmocka_unit_test(json_applies_to_its_own_command_only),
		cmocka_unit_test(unknown_commands_answer_one_error_line_naming_them),
		cmocka_unit_test(a_handler_error_is_one_error_line_in_any_format),
		cmocka_unit_test(a_successful_answer_is_not_failed),
		cmocka_unit_test(handlers_receive_the_owner),
		cmocka_unit_test(an_overlong_command_is_unknown_not_cut_to_a_known_one),
		cmocka_unit_test(answers_append_to_the_output_and_free_resets_it),
		cmocka_unit_test(the_read_only_socket_refuses_commands_that_change_state),
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
