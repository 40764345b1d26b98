/* vpnctl's rendering (see fmt.h). Cells of the daemons' tables are found by
 * column name; a missing column or a "-" cell leaves its line or cell
 * out rather than printing a made-up value. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

#define FMT__SGR_BOLD	"\033[1m"
#define FMT__SGR_GREEN	"\033[32m"
#define FMT__SGR_RED	"\033[31m"
#define FMT__SGR_RESET	"\033[0m"

enum {
	FMT__CELL_MAX = 256,	/* a watch cell: a DNS name fits */
	FMT__COL_GAP = 2,	/* spaces between watch columns */
};

/* ---------------------------------------------------------------- tables */

void fmt_table_free(struct fmt_table *t)
{
	free(t->text);
	free(t->cols);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Splits s in place at tabs into at most max fields; returns how many. */
static size_t fmt__split(char *s, char **out, size_t max)
{
	size_t n = 0;

	for (;;) {
		char *tab = strchr(s, '\t');
		if (n < max)
			out[n] = s;
		n++;
		if (!tab)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	return n < max ? n : max;
}

int fmt_table_parse(struct fmt_table *t, const char *answer)
{
	char *line, *next, *header = NULL;
	size_t nlines = 0, cap_rows;
	int err = -ENOMEM;

	memset(t, 0, sizeof(*t));
	if (!(t->text = strdup(answer)))
		goto fail;
	for (const char *p = answer; *p; p++)
		nlines += *p == '\n';
	cap_rows = nlines + 1;

	/* The header: the first line starting with '#'. */
	for (line = t->text; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (*line == '#') {
			header = line + 1;
			break;
		}
	}
	if (!header) {
		err = -EINVAL;
		goto fail;
	}
	header += strspn(header, " ");
	t->ncols = 1;
	for (const char *p = header; *p; p++)
		t->ncols += *p == '\t';
	if (!(t->cols = calloc(t->ncols, sizeof(*t->cols))) ||
	    !(t->cells = calloc(cap_rows * t->ncols, sizeof(*t->cells))))
		goto fail;
	fmt__split(header, t->cols, t->ncols);

	for (line = next; line && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		fmt__split(line, t->cells + t->nrows * t->ncols, t->ncols);
		t->nrows++;
	}
	return 0;
fail:
	fmt_table_free(t);
	return err;
}

int fmt_table_col(const struct fmt_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i], name))
			return (int)i;
	return -1;
}

const char *fmt_table_str(const struct fmt_table *t, size_t row, int col)
{
	const char *s;

	if (col < 0 || (size_t)col >= t->ncols || row >= t->nrows)
		return NULL;
	s = t->cells[row * t->ncols + (size_t)col];
	return s && *s && strcmp(s, "-") ? s : NULL;
}

bool fmt_table_u64(const struct fmt_table *t, size_t row, int col, uint64_t *v)
{
	const char *s = fmt_table_str(t, row, col);
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

bool fmt_kv_get(const char *answer, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);

	for (const char *l = answer; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, key, klen) && l[klen] == ':') {
			const char *v = l + klen + 1;
			v += strspn(v, " ");
			snprintf(out, n, "%.*s", (int)strcspn(v, "\n"), v);
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------- units */

char *fmt_bytes(char *buf, size_t n, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)b;
	size_t u = 0;

	if (b < 1024) {
		snprintf(buf, n, "%llu B", (unsigned long long)b);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, "%.2f %s", v, units[u]);
	return buf;
}

char *fmt_duration(char *buf, size_t n, uint64_t s)
{
	const struct { uint64_t secs; const char *name; } parts[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t v = s / parts[i].secs;
		s %= parts[i].secs;
		if (!v)
			continue;
		len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%llu %s%s",
					len ? ", " : "", (unsigned long long)v, parts[i].name,
					v == 1 ? "" : "s");
		if (len >= n)
			return buf;
	}
	if (!len)
		snprintf(buf, n, "0 seconds");
	return buf;
}

char *fmt_duration_short(char *buf, size_t n, uint64_t s)
{
	const struct { uint64_t secs; char unit; } parts[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};

	/* The two largest units: precise enough for a glance, and narrow. */
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t v = s / parts[i].secs;
		if (!v && parts[i].secs > 1)
			continue;
		if (i + 1 < sizeof(parts) / sizeof(parts[0]) && s % parts[i].secs >= parts[i + 1].secs)
			snprintf(buf, n, "%llu%c %llu%c", (unsigned long long)v, parts[i].unit,
				 (unsigned long long)(s % parts[i].secs / parts[i + 1].secs),
				 parts[i + 1].unit);
		else
			snprintf(buf, n, "%llu%c", (unsigned long long)v, parts[i].unit);
		break;
	}
	return buf;
}

char *fmt_rate(char *buf, size_t n, double bps)
{
	static const char *const units[] = { "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
	size_t u = 0;

	if (bps < 999.5) {
		snprintf(buf, n, "%.0f bit/s", bps < 0 ? 0 : bps);
		return buf;
	}
	bps /= 1000;
	while (bps >= 999.995 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bps /= 1000;
		u++;
	}
	snprintf(buf, n, "%.2f %s", bps, units[u]);
	return buf;
}

char *fmt_rtt(char *buf, size_t n, uint64_t us)
{
	snprintf(buf, n, "%.2f ms", (double)us / 1000.0);
	return buf;
}

/* ---------------------------------------------------------------- show tunnels */

/* The columns this file knows how to present; any other is printed as
 * "name: value" so that what a newer daemon adds still shows. */
static const char *const fmt__known[] = {
	"id", "peer", "remote", "tunnel_addr", "state", "up_since_s", "rx_bytes",
	"tx_bytes", "rx_packets", "tx_packets", "drops", "rtt_us", "reconnects",
};

static bool fmt__is_known(const char *col)
{
	for (size_t i = 0; i < sizeof(fmt__known) / sizeof(fmt__known[0]); i++)
		if (!strcmp(col, fmt__known[i]))
			return true;
	return false;
}

static void fmt__sgr(FILE *f, bool color, const char *sgr, const char *s)
{
	if (color)
		fprintf(f, "%s%s%s", sgr, s, FMT__SGR_RESET);
	else
		fputs(s, f);
}

static void fmt__label(FILE *f, bool color, const char *label)
{
	fputs("  ", f);
	fmt__sgr(f, color, FMT__SGR_BOLD, label);
	fputs(": ", f);
}

static const char *fmt__state_sgr(const char *state)
{
	return !strcmp(state, "up") ? FMT__SGR_GREEN : FMT__SGR_RED;
}

/* "a received, b sent[, c dropped]" from whichever of the cells exist. */
static void fmt__pair(FILE *f, const char *a, const char *b, const char *c)
{
	const char *part[] = { a, b, c }, *word[] = { "received", "sent", "dropped" };
	bool first = true;

	for (int i = 0; i < 3; i++) {
		if (!part[i])
			continue;
		fprintf(f, "%s%s %s", first ? "" : ", ", part[i], word[i]);
		first = false;
	}
	fputc('\n', f);
}

void fmt_show_tunnels(FILE *f, const struct fmt_table *t, bool color)
{
	const int c_id = fmt_table_col(t, "id"), c_peer = fmt_table_col(t, "peer"),
		  c_remote = fmt_table_col(t, "remote"), c_addr = fmt_table_col(t, "tunnel_addr"),
		  c_state = fmt_table_col(t, "state"), c_up = fmt_table_col(t, "up_since_s"),
		  c_rxb = fmt_table_col(t, "rx_bytes"), c_txb = fmt_table_col(t, "tx_bytes"),
		  c_rxp = fmt_table_col(t, "rx_packets"), c_txp = fmt_table_col(t, "tx_packets"),
		  c_drops = fmt_table_col(t, "drops"), c_rtt = fmt_table_col(t, "rtt_us"),
		  c_reconn = fmt_table_col(t, "reconnects");

	if (!t->nrows) {
		fputs("no tunnels\n", f);
		return;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		const char *s, *state = fmt_table_str(t, r, c_state);
		char a[64], b[64];
		uint64_t v, w;

		if (r)
			fputc('\n', f);
		fmt__sgr(f, color, FMT__SGR_BOLD, "tunnel");
		fprintf(f, ": %s\n", (s = fmt_table_str(t, r, c_id)) ? s : "?");
		if ((s = fmt_table_str(t, r, c_peer))) {
			fmt__label(f, color, "peer");
			fmt__sgr(f, color, FMT__SGR_BOLD, s);
			fputc('\n', f);
		}
		if ((s = fmt_table_str(t, r, c_remote))) {
			fmt__label(f, color, "remote");
			fprintf(f, "%s\n", s);
		}
		if ((s = fmt_table_str(t, r, c_addr))) {
			fmt__label(f, color, "address");
			fprintf(f, "%s\n", s);
		}
		if (state) {
			fmt__label(f, color, "state");
			fmt__sgr(f, color, fmt__state_sgr(state), state);
			if (!strcmp(state, "up") && fmt_table_u64(t, r, c_up, &v))
				fprintf(f, " %s", fmt_duration(a, sizeof(a), v));
			fputc('\n', f);
		}
		{
			bool hv = fmt_table_u64(t, r, c_rxb, &v), hw = fmt_table_u64(t, r, c_txb, &w);
			if (hv || hw) {
				fmt__label(f, color, "transfer");
				fmt__pair(f, hv ? fmt_bytes(a, sizeof(a), v) : NULL,
					  hw ? fmt_bytes(b, sizeof(b), w) : NULL, NULL);
			}
		}
		{
			const char *rx = fmt_table_str(t, r, c_rxp), *tx = fmt_table_str(t, r, c_txp),
				   *dr = fmt_table_str(t, r, c_drops);
			if (rx || tx || dr) {
				fmt__label(f, color, "packets");
				fmt__pair(f, rx, tx, dr);
			}
		}
		/* 0 means no keepalive has been answered yet. */
		if (fmt_table_u64(t, r, c_rtt, &v) && v) {
			fmt__label(f, color, "latest rtt");
			fprintf(f, "%s\n", fmt_rtt(a, sizeof(a), v));
		}
		if ((s = fmt_table_str(t, r, c_reconn))) {
			fmt__label(f, color, "reconnects");
			fprintf(f, "%s\n", s);
		}
		for (size_t c = 0; c < t->ncols; c++) {
			char label[64];
			if (fmt__is_known(t->cols[c]) || !(s = fmt_table_str(t, r, (int)c)))
				continue;
			snprintf(label, sizeof(label), "%s", t->cols[c]);
			for (char *p = label; *p; p++)
				if (*p == '_')
					*p = ' ';
			fmt__label(f, color, label);
			fprintf(f, "%s\n", s);
		}
	}
}

/* ---------------------------------------------------------------- samples */

/* What identifies a row from one sample to the next: its tunnel id, or,
 * from a daemon without ids, its position. */
static const char *fmt__row_key(const struct fmt_table *t, size_t r, int c_id, char *buf, size_t n)
{
	const char *id = fmt_table_str(t, r, c_id);

	if (id)
		snprintf(buf, n, "%s", id);
	else
		snprintf(buf, n, "#%zu", r);
	return buf;
}

void fmt_samples_free(struct fmt_samples *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].id);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int fmt_samples_take(struct fmt_samples *s, const struct fmt_table *t, double at_s)
{
	const int c_id = fmt_table_col(t, "id"), c_rx = fmt_table_col(t, "rx_bytes"),
		  c_tx = fmt_table_col(t, "tx_bytes");

	fmt_samples_free(s);
	s->at_s = at_s;
	if (!t->nrows)
		return 0;
	if (!(s->v = calloc(t->nrows, sizeof(*s->v))))
		return -ENOMEM;
	for (size_t r = 0; r < t->nrows; r++) {
		struct fmt_sample *x = &s->v[s->n];
		char key[FMT__CELL_MAX];

		if (!(x->id = strdup(fmt__row_key(t, r, c_id, key, sizeof(key))))) {
			fmt_samples_free(s);
			return -ENOMEM;
		}
		x->have_rx = fmt_table_u64(t, r, c_rx, &x->rx_bytes);
		x->have_tx = fmt_table_u64(t, r, c_tx, &x->tx_bytes);
		s->n++;
	}
	return 0;
}

static const struct fmt_sample *fmt__sample(const struct fmt_samples *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].id, id))
			return &s->v[i];
	return NULL;
}

bool fmt_samples_rate(const struct fmt_samples *prev, const struct fmt_samples *cur,
		      const char *id, bool tx, double *bps)
{
	const struct fmt_sample *a, *b;
	uint64_t va, vb;
	double dt;

	if (!prev || !cur || !(a = fmt__sample(prev, id)) || !(b = fmt__sample(cur, id)))
		return false;
	if (tx ? !a->have_tx || !b->have_tx : !a->have_rx || !b->have_rx)
		return false;
	va = tx ? a->tx_bytes : a->rx_bytes;
	vb = tx ? b->tx_bytes : b->rx_bytes;
	dt = cur->at_s - prev->at_s;
	if (dt <= 0 || vb < va)
		return false;
	*bps = (double)(vb - va) * 8.0 / dt;
	return true;
}

/* ---------------------------------------------------------------- watch */

enum fmt__wcol {
	W_ID, W_PEER, W_REMOTE, W_STATE, W_UPTIME, W_RXRATE, W_TXRATE, W_RX, W_TX,
	W_RTT, W_DROPS, W_RECONN, W__MAX
};

/* Columns whose values change every second have a minimum width, so that
 * the live view does not shift sideways as numbers grow and shrink. */
static const struct {
	const char *title;
	bool right;	/* numbers are right-aligned */
	size_t min;	/* minimum width */
} fmt__wcols[W__MAX] = {
	[W_ID] = { "ID", true, 0 },		[W_PEER] = { "PEER", false, 0 },
	[W_REMOTE] = { "REMOTE", false, 0 },	[W_STATE] = { "STATE", false, 0 },
	[W_UPTIME] = { "UPTIME", true, 7 },	/* "23h 59m" */
	[W_RXRATE] = { "RX RATE", true, 13 },	/* "999.99 Mbit/s" */
	[W_TXRATE] = { "TX RATE", true, 13 },
	[W_RX] = { "RX", true, 11 },		/* "1023.99 KiB" */
	[W_TX] = { "TX", true, 11 },
	[W_RTT] = { "RTT", true, 9 },		/* "999.99 ms" */
	[W_DROPS] = { "DROPS", true, 0 },	[W_RECONN] = { "RECONNECTS", true, 0 },
};

struct fmt__cell {
	char s[FMT__CELL_MAX];
	const char *sgr;	/* colour of the cell, or NULL */
};

/* Terminal columns of a UTF-8 string, counting each code point as one. */
static size_t fmt__width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void fmt__pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static void fmt__grid_print(FILE *f, struct fmt__cell *cells, size_t nrows, bool color)
{
	size_t width[W__MAX];

	for (int c = 0; c < W__MAX; c++) {
		width[c] = fmt__width(fmt__wcols[c].title);
		if (width[c] < fmt__wcols[c].min)
			width[c] = fmt__wcols[c].min;
		for (size_t r = 0; r < nrows; r++) {
			size_t w = fmt__width(cells[r * W__MAX + (size_t)c].s);
			if (w > width[c])
				width[c] = w;
		}
	}
	/* Row "-1" is the header line. */
	for (size_t r = 0; r <= nrows; r++) {
		for (int c = 0; c < W__MAX; c++) {
			const struct fmt__cell *cell = r ? &cells[(r - 1) * W__MAX + (size_t)c] : NULL;
			const char *s = cell ? cell->s : fmt__wcols[c].title;
			const char *sgr = cell ? cell->sgr : FMT__SGR_BOLD;
			size_t pad = width[c] - fmt__width(s);

			if (c)
				fmt__pad(f, FMT__COL_GAP);
			if (fmt__wcols[c].right)
				fmt__pad(f, pad);
			if (sgr)
				fmt__sgr(f, color, sgr, s);
			else
				fputs(s, f);
			if (!fmt__wcols[c].right && c + 1 < W__MAX)
				fmt__pad(f, pad);
		}
		fputc('\n', f);
	}
}

static void fmt__watch_title(FILE *f, const char *path, const char *clock, const char *info,
			     bool color)
{
	char role[64], version[64], up[64], tunnels[32];
	uint64_t secs;

	fprintf(f, "%s  ", clock);
	fmt__sgr(f, color, FMT__SGR_BOLD, path);
	if (info && fmt_kv_get(info, "role", role, sizeof(role))) {
		fprintf(f, "  %s", role);
		if (fmt_kv_get(info, "version", version, sizeof(version)))
			fprintf(f, " %s", version);
		if (fmt_kv_get(info, "uptime_s", up, sizeof(up)) && *up >= '0' && *up <= '9') {
			secs = strtoull(up, NULL, 10);
			fprintf(f, ", up %s", fmt_duration_short(up, sizeof(up), secs));
		}
		if (fmt_kv_get(info, "tunnels_up", tunnels, sizeof(tunnels)))
			fprintf(f, ", %s %s up", tunnels, strcmp(tunnels, "1") ? "tunnels" : "tunnel");
	}
	fputc('\n', f);
}

void fmt_watch(FILE *f, const char *path, const char *clock, const char *info,
	       const struct fmt_table *t, const struct fmt_samples *prev,
	       const struct fmt_samples *cur, const char *error, bool color)
{
	struct fmt__cell *cells;
	int c_id, c_peer, c_remote, c_state, c_up, c_rxb, c_txb, c_rtt, c_drops, c_reconn;

	fmt__watch_title(f, path, clock, info, color);
	fputc('\n', f);
	if (error) {
		fmt__sgr(f, color, FMT__SGR_RED, error);
		fputc('\n', f);
		return;
	}
	if (!t || !t->nrows) {
		fputs("no tunnels\n", f);
		return;
	}
	if (!(cells = calloc(t->nrows * W__MAX, sizeof(*cells)))) {
		fputs("out of memory\n", f);
		return;
	}
	c_id = fmt_table_col(t, "id");
	c_peer = fmt_table_col(t, "peer");
	c_remote = fmt_table_col(t, "remote");
	c_state = fmt_table_col(t, "state");
	c_up = fmt_table_col(t, "up_since_s");
	c_rxb = fmt_table_col(t, "rx_bytes");
	c_txb = fmt_table_col(t, "tx_bytes");
	c_rtt = fmt_table_col(t, "rtt_us");
	c_drops = fmt_table_col(t, "drops");
	c_reconn = fmt_table_col(t, "reconnects");

	for (size_t r = 0; r < t->nrows; r++) {
		struct fmt__cell *row = &cells[r * W__MAX];
		const char *s, *state = fmt_table_str(t, r, c_state);
		char key[FMT__CELL_MAX];
		uint64_t v;
		double bps;

		for (int c = 0; c < W__MAX; c++)
			snprintf(row[c].s, sizeof(row[c].s), "-");
		if ((s = fmt_table_str(t, r, c_id)))
			snprintf(row[W_ID].s, sizeof(row[W_ID].s), "%s", s);
		fmt__row_key(t, r, c_id, key, sizeof(key));
		if ((s = fmt_table_str(t, r, c_peer))) {
			snprintf(row[W_PEER].s, sizeof(row[W_PEER].s), "%s", s);
			row[W_PEER].sgr = FMT__SGR_BOLD;
		}
		if ((s = fmt_table_str(t, r, c_remote)))
			snprintf(row[W_REMOTE].s, sizeof(row[W_REMOTE].s), "%s", s);
		if (state) {
			snprintf(row[W_STATE].s, sizeof(row[W_STATE].s), "%s", state);
			row[W_STATE].sgr = fmt__state_sgr(state);
			if (!strcmp(state, "up") && fmt_table_u64(t, r, c_up, &v))
				fmt_duration_short(row[W_UPTIME].s, sizeof(row[W_UPTIME].s), v);
		}
		if (fmt_samples_rate(prev, cur, key, false, &bps))
			fmt_rate(row[W_RXRATE].s, sizeof(row[W_RXRATE].s), bps);
		if (fmt_samples_rate(prev, cur, key, true, &bps))
			fmt_rate(row[W_TXRATE].s, sizeof(row[W_TXRATE].s), bps);
		if (fmt_table_u64(t, r, c_rxb, &v))
			fmt_bytes(row[W_RX].s, sizeof(row[W_RX].s), v);
		if (fmt_table_u64(t, r, c_txb, &v))
			fmt_bytes(row[W_TX].s, sizeof(row[W_TX].s), v);
		if (fmt_table_u64(t, r, c_rtt, &v) && v)
			fmt_rtt(row[W_RTT].s, sizeof(row[W_RTT].s), v);
		if ((s = fmt_table_str(t, r, c_drops)))
			snprintf(row[W_DROPS].s, sizeof(row[W_DROPS].s), "%s", s);
		if ((s = fmt_table_str(t, r, c_reconn)))
			snprintf(row[W_RECONN].s, sizeof(row[W_RECONN].s), "%s", s);
	}
	fmt__grid_print(f, cells, t->nrows, color);
	free(cells);
}
