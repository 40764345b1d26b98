/* libFuzzer: ctl_execute with a small command table, on any one line (the
 * socket splits at '\n', so the line holds none). Each non-blank command
 * gets exactly one answer ended by an empty line; an answer that starts
 * with '{' is one JSON document. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/ctl.h"
#include "fuzz.h"
#include "tests/json_check.h"



static void cmd_info(struct ctl_out *o, void *owner)
{
	ctl_kv_begin(o);
	ctl_kv_str(o, "version", "1.2.3");
	ctl_kv_str(o, "odd", "tab\tnl\n\"q\" \\ \x01");
	ctl_kv_u64(o, "big", UINT64_MAX);
	ctl_kv_end(o);
}

static const char *const cols[] = { "id", "peer" };

static void cmd_table(struct ctl_out *o, void *owner)
{
	ctl_table_begin(o, "rows", cols, 2);
	for (int i = 0; i < 3; i++) {
		ctl_row_begin(o);
		ctl_cell_u64(o, "id", (uint64_t)i);
		ctl_cell_str(o, "peer", i == 1 ? "" : "p\te\"er");
		ctl_row_end(o);
	}
	ctl_table_end(o);
}

static void cmd_silent(struct ctl_out *o, void *owner)
{
}

static void cmd_fail(struct ctl_out *o, void *owner)
{
	ctl_error(o, "failed on purpose");
}

static const struct ctl_cmd cmds[] = {
	{ "show info", "kv", cmd_info, false },
	{ "show rows", "table", cmd_table, false },
	{ "show stat", "counters", ctl_show_stat, false },
	{ "show silent", "nothing", cmd_silent, false },
	{ "fail", "error", cmd_fail, false },
};

static size_t count_commands(const char *line)
{
	size_t n = 0;
	bool word = false;

	for (const char *p = line;; p++) {
		if (*p == ';' || !*p) {
			n += word;
			word = false;
			if (!*p)
				return n;
		} else if (*p != ' ' && *p != '\t' && *p != '\r') {
			word = true;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_out o = { 0 };
	size_t answers = 0;
	char line[4097], *p, *start;

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	line[strcspn(line, "\n")] = '\0';

	ctl_execute(cmds, sizeof(cmds) / sizeof(cmds[0]), NULL, line, &o);
	CHECK(o.len == 0 || (o.buf && strlen(o.buf) == o.len));
	CHECK(o.len == 0 || o.buf[o.len - 1] == '\n');

	/* Each empty line ends one answer. */
	for (p = start = o.buf; p && *p; p++) {
		if (*p != '\n')
			continue;
		if (p == start || p[-1] == '\n') {
			if (*start == '{') {
				char save = *p;
				const char *end;

				*p = '\0';
				end = json_value(start, 0);
				CHECK(end && !*json_ws(end));	/* json_valid(), on a part */
				*p = save;
			}
			answers++;
			start = p + 1;
		}
	}
	CHECK(!o.buf || start == o.buf + o.len);
	CHECK(answers == count_commands(line));
	ctl_out_free(&o);
	return 0;
}
