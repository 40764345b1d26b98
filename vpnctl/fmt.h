/* vpnctl's rendering: reads the daemons' text answers (a '#' header line
 * and tab-separated rows, or "name: value" lines) and prints them for
 * people. Everything here is a pure function of its arguments (no clock,
 * no terminal, no socket), so tests/unit/test_vpnctl.c compiles fmt.c on
 * its own and compares the output with golden files. */
#ifndef VPNCTL_FMT_H
#define VPNCTL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A parsed table answer. Columns are found by their header name, never by
 * position, so a daemon that adds a column does not break vpnctl. */
struct fmt_table {
	char *text;		/* owned copy of the answer; every string points into it */
	char **cols;		/* ncols header names */
	char **cells;		/* nrows * ncols cells, NULL where a row is short */
	size_t ncols, nrows;
};

/* Parses answer into t. Returns 0, -EINVAL if the answer has no '#'
 * header line (t is then empty), or -ENOMEM. fmt_table_free(t) in every
 * case. */
int fmt_table_parse(struct fmt_table *t, const char *answer);
void fmt_table_free(struct fmt_table *t);
/* The index of a column, or -1. */
int fmt_table_col(const struct fmt_table *t, const char *name);
/* A cell, or NULL if the column or cell is missing, empty or "-". */
const char *fmt_table_str(const struct fmt_table *t, size_t row, int col);
/* A cell as an unsigned decimal; false if missing or not a number. */
bool fmt_table_u64(const struct fmt_table *t, size_t row, int col, uint64_t *v);

/* The value of "key: value" in a `show info`-style answer, copied to out
 * (truncated to n); false if there is no such line. */
bool fmt_kv_get(const char *answer, const char *key, char *out, size_t n);

/* Human units; each writes to buf (n bytes) and returns buf. */
char *fmt_bytes(char *buf, size_t n, uint64_t bytes);		/* "1.21 MiB", "512 B" */
char *fmt_duration(char *buf, size_t n, uint64_t secs);		/* "3 minutes, 12 seconds" */
char *fmt_duration_short(char *buf, size_t n, uint64_t secs);	/* "2h 3m", "42s" */
char *fmt_rate(char *buf, size_t n, double bits_per_s);		/* "1.23 Mbit/s" */
char *fmt_rtt(char *buf, size_t n, uint64_t us);		/* "0.26 ms" */

/* `show tunnels` as one block per tunnel, in the manner of `wg show`.
 * color adds ANSI bold names, a green "up" and red other states. */
void fmt_show_tunnels(FILE *f, const struct fmt_table *t, bool color);

/* The byte counters of one `show tunnels` answer, taken at time at_s
 * (seconds on any monotonic clock), keyed by tunnel id: two samples give
 * each tunnel's throughput. */
struct fmt_sample {
	char *id;	/* owned */
	uint64_t rx_bytes, tx_bytes;
	bool have_rx, have_tx;
};

struct fmt_samples {
	struct fmt_sample *v;
	size_t n;
	double at_s;
};

/* Replaces s with the counters of t. Returns 0 or -ENOMEM (s empty). */
int fmt_samples_take(struct fmt_samples *s, const struct fmt_table *t, double at_s);
void fmt_samples_free(struct fmt_samples *s);
/* Bits per second of tunnel id between prev and cur; false (no rate) when
 * either sample lacks it, no time passed, or the counter went down
 * (counters cleared, tunnel replaced). */
bool fmt_samples_rate(const struct fmt_samples *prev, const struct fmt_samples *cur,
		      const char *id, bool tx, double *bits_per_s);

/* One refresh of `vpnctl watch`: a title line (the socket path, what
 * `show info` says about the daemon, and clock, a preformatted time of
 * day), then one aligned row per tunnel with its throughput. info and
 * prev may be NULL; error, if set, replaces the table (the socket could
 * not be reached, or the daemon answered an error). */
void fmt_watch(FILE *f, const char *path, const char *clock, const char *info,
	       const struct fmt_table *t, const struct fmt_samples *prev,
	       const struct fmt_samples *cur, const char *error, bool color);

#endif
