#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tunnel/conn.h"
#include "tunnel/ctl.h"
#include "tunnel/log.h"
#include "tunnel/stats.h"

enum {
	CTL_LINE_MAX = 4096,	/* a longer line is refused, not buffered */
	/* A client that does not read its answers is dropped once this
	 * much is queued for it: it cannot make the daemon hoard memory. */
	CTL_WQUEUE_MAX = 4 << 20,
};

struct ctl_client {
	uv_pipe_t pipe;
	struct ctl *ctl;
	size_t len;
	char line[CTL_LINE_MAX];
};

static void ctl__append(struct ctl_out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;
		char *b;
		while (cap < o->len + n + 1)
			cap *= 2;
		if (!(b = realloc(o->buf, cap)))
			return;	/* answer truncated rather than crash */
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void ctl__printf(struct ctl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl__printf(struct ctl_out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ctl__append(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Text cells and values may not break the line format; JSON strings are
 * escaped. */
static void ctl__str(struct ctl_out *o, const char *s)
{
	if (!o->json) {
		for (; *s; s++)
			ctl__append(o, (*s == '\t' || *s == '\n' || *s == '\r') ? " " : s, 1);
		return;
	}
	ctl__append(o, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			ctl__append(o, "\\", 1);
			ctl__append(o, s, 1);
		} else if (ch < 0x20) {
			ctl__printf(o, "\\u%04x", ch);
		} else {
			ctl__append(o, s, 1);
		}
	}
	ctl__append(o, "\"", 1);
}

void ctl_error(struct ctl_out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	o->failed = true;
	/* Errors are one text line whatever the format, so a client can
	 * test the first word. */
	ctl__printf(o, "error: %s\n", tmp);
}

void ctl_kv_begin(struct ctl_out *o)
{
	o->fields = 0;
	if (o->json)
		ctl__append(o, "{", 1);
}

static void ctl__key(struct ctl_out *o, const char *k)
{
	if (o->json) {
		if (o->fields++)
			ctl__append(o, ",", 1);
		ctl__str(o, k);
		ctl__append(o, ":", 1);
	} else {
		ctl__printf(o, "%s: ", k);
	}
}

void ctl_kv_str(struct ctl_out *o, const char *k, const char *v)
{
	ctl__key(o, k);
	ctl__str(o, v);
	if (!o->json)
		ctl__append(o, "\n", 1);
}

void ctl_kv_u64(struct ctl_out *o, const char *k, uint64_t v)
{
	ctl__key(o, k);
	ctl__printf(o, o->json ? "%llu" : "%llu\n", (unsigned long long)v);
}

void ctl_kv_end(struct ctl_out *o)
{
	if (o->json)
		ctl__append(o, "}\n", 2);
}

void ctl_table_begin(struct ctl_out *o, const char *name, const char *const *cols, size_t ncols)
{
	o->rows = 0;
	if (o->json) {
		ctl__append(o, "{", 1);
		ctl__str(o, name);
		ctl__append(o, ":[", 2);
		return;
	}
	ctl__append(o, "# ", 2);
	for (size_t i = 0; i < ncols; i++)
		ctl__printf(o, "%s%s", i ? "\t" : "", cols[i]);
	ctl__append(o, "\n", 1);
}

void ctl_row_begin(struct ctl_out *o)
{
	o->fields = 0;
	if (o->json)
		ctl__append(o, o->rows ? ",{" : "{", o->rows ? 2 : 1);
	o->rows++;
}

static void ctl__cell_sep(struct ctl_out *o, const char *col)
{
	if (o->json) {
		if (o->fields)
			ctl__append(o, ",", 1);
		ctl__str(o, col);
		ctl__append(o, ":", 1);
	} else if (o->fields) {
		ctl__append(o, "\t", 1);
	}
	o->fields++;
}

void ctl_cell_str(struct ctl_out *o, const char *col, const char *v)
{
	ctl__cell_sep(o, col);
	ctl__str(o, *v || o->json ? v : "-");
}

void ctl_cell_u64(struct ctl_out *o, const char *col, uint64_t v)
{
	ctl__cell_sep(o, col);
	ctl__printf(o, "%llu", (unsigned long long)v);
}

void ctl_row_end(struct ctl_out *o)
{
	ctl__append(o, o->json ? "}" : "\n", 1);
}

void ctl_table_end(struct ctl_out *o)
{
	if (o->json)
		ctl__append(o, "]}\n", 3);
}

void ctl_out_free(struct ctl_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

void ctl_show_stat(struct ctl_out *o, void *owner)
{
	char name[80];

	ctl_kv_begin(o);
	for (int i = 0; i < STAT__MAX; i++)
		ctl_kv_u64(o, stats_global_names[i], stats.v[i]);
	for (int i = 0; i < DROP__MAX; i++) {
		snprintf(name, sizeof(name), "dropped_%s", stats_reason_names[i]);
		ctl_kv_u64(o, name, stats.drops[i]);
	}
	ctl_kv_end(o);
}

void ctl_clear_stat(void)
{
	memset(&stats.v, 0, sizeof(stats.v));
	memset(&stats.drops, 0, sizeof(stats.drops));
}

void ctl_show_errors(struct ctl_out *o, void *owner)
{
	static const char *const cols[] = { "age_s", "remote", "peer", "reason" };
	uint64_t now = conn_now_ms();

	ctl_table_begin(o, "errors", cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < STATS_ERRORS; i++) {
		/* Newest first. */
		const struct stats_error *e =
			&stats.errors[(stats.nerrors + STATS_ERRORS - 1 - i) % STATS_ERRORS];
		if (i >= stats.nerrors)
			break;
		ctl_row_begin(o);
		ctl_cell_u64(o, cols[0], (now - e->at_ms) / 1000);
		ctl_cell_str(o, cols[1], e->remote);
		ctl_cell_str(o, cols[2], e->peer);
		ctl_cell_str(o, cols[3], e->reason);
		ctl_row_end(o);
	}
	ctl_table_end(o);
}

static const char *const ctl__tunnel_cols[] = {
	"id", "peer", "remote", "tunnel_addr", "state", "up_since_s", "rx_bytes",
	"tx_bytes", "rx_packets", "tx_packets", "drops", "rtt_us", "reconnects", "queue_bytes",
	"channel", "offload",
};

void ctl_tunnels_begin(struct ctl_out *o)
{
	ctl_table_begin(o, "tunnels", ctl__tunnel_cols,
			sizeof(ctl__tunnel_cols) / sizeof(ctl__tunnel_cols[0]));
}

void ctl_tunnel_row(struct ctl_out *o, const struct conn *c, const char *tunnel_addr,
		    uint64_t reconnects)
{
	const char *const *col = ctl__tunnel_cols;
	uint64_t up = c->state == CONN_UP ? (conn_now_ms() - c->up_since_ms) / 1000 : 0;

	ctl_row_begin(o);
	ctl_cell_u64(o, *col++, c->id);
	ctl_cell_str(o, *col++, c->identity);
	ctl_cell_str(o, *col++, c->remote);
	ctl_cell_str(o, *col++, tunnel_addr);
	ctl_cell_str(o, *col++, conn_state_name(c->state));
	ctl_cell_u64(o, *col++, up);
	ctl_cell_u64(o, *col++, c->ctr.rx_bytes);
	ctl_cell_u64(o, *col++, c->ctr.tx_bytes);
	ctl_cell_u64(o, *col++, c->ctr.rx_packets);
	ctl_cell_u64(o, *col++, c->ctr.tx_packets);
	ctl_cell_u64(o, *col++, c->ctr.drops);
	ctl_cell_u64(o, *col++, c->rtt_us);
	ctl_cell_u64(o, *col++, reconnects);
	ctl_cell_u64(o, *col++, conn_queued_bytes(c));
	ctl_cell_str(o, *col++, conn_channel(c));
	ctl_cell_str(o, *col++, conn_offload(c));
	ctl_row_end(o);
}

static void ctl__help(struct ctl_out *o, const struct ctl_cmd *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctl__printf(o, "%-28s %s\n", cmds[i].keyword, cmds[i].usage);
	ctl__printf(o, "%-28s %s\n", "help", "this list");
}

static void ctl__one(const struct ctl_cmd *cmds, size_t ncmds, void *owner,
		     char *cmd, struct ctl_out *o)
{
	char *words[8], *save = NULL, *w, norm[256] = "";
	size_t nw = 0;
	size_t start = o->len;

	for (w = strtok_r(cmd, " \t\r", &save); w && nw < 8; w = strtok_r(NULL, " \t\r", &save))
		words[nw++] = w;
	if (nw == 0)
		return;
	o->json = nw > 1 && !strcmp(words[nw - 1], "json");
	if (o->json)
		nw--;
	for (size_t i = 0; i < nw; i++) {
		if (strlen(norm) + strlen(words[i]) + 2 > sizeof(norm)) {
			/* Too long to be a keyword: keep it from matching one. */
			snprintf(norm + strlen(norm), sizeof(norm) - strlen(norm), " ...");
			break;
		}
		if (i)
			strcat(norm, " ");
		strcat(norm, words[i]);
	}
	if (!strcmp(norm, "help")) {
		ctl__help(o, cmds, ncmds);
	} else {
		size_t i;
		for (i = 0; i < ncmds; i++)
			if (!strcmp(norm, cmds[i].keyword))
				break;
		if (i == ncmds)
			ctl_error(o, "unknown command `%s' (try help)", norm);
		else if (cmds[i].changes && o->read_only)
			ctl_error(o, "`%s' is not allowed on the read-only socket", norm);
		else
			cmds[i].fn(o, owner);
	}
	/* The empty line ends the answer; an answer never has one inside. */
	if (o->len > start && o->buf[o->len - 1] != '\n')
		ctl__append(o, "\n", 1);
	ctl__append(o, "\n", 1);
}

void ctl_execute(const struct ctl_cmd *cmds, size_t ncmds, void *owner,
		 const char *line, struct ctl_out *o)
{
	char buf[CTL_LINE_MAX + 1], *save = NULL, *cmd;

	snprintf(buf, sizeof(buf), "%s", line);
	for (cmd = strtok_r(buf, ";", &save); cmd; cmd = strtok_r(NULL, ";", &save))
		ctl__one(cmds, ncmds, owner, cmd, o);
}

static void ctl__client_closed(uv_handle_t *h)
{
	free(h->data);
}

static void ctl__write_done(uv_write_t *req, int status)
{
	free(req->data);
	free(req);
}

static void ctl__answer(struct ctl_client *cl, const char *line)
{
	struct ctl_out o = { .read_only = cl->ctl->read_only };
	uv_write_t *req;
	uv_buf_t b;

	ctl_execute(cl->ctl->cmds, cl->ctl->ncmds, cl->ctl->owner, line, &o);
	if (!o.len)
		return;
	if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) > CTL_WQUEUE_MAX ||
	    !(req = malloc(sizeof(*req)))) {
		ctl_out_free(&o);
		if (!uv_is_closing((uv_handle_t *)&cl->pipe))
			uv_close((uv_handle_t *)&cl->pipe, ctl__client_closed);
		return;
	}
	req->data = o.buf;
	b = uv_buf_init(o.buf, (unsigned)o.len);
	if (uv_write(req, (uv_stream_t *)&cl->pipe, &b, 1, ctl__write_done)) {
		free(o.buf);
		free(req);
	}
}

static void ctl__alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ctl_client *cl = h->data;

	buf->base = cl->line + cl->len;
	buf->len = sizeof(cl->line) - cl->len;
}

static void ctl__read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct ctl_client *cl = s->data;
	char *nl;

	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, ctl__client_closed);
		return;
	}
	cl->len += (size_t)n;
	while ((nl = memchr(cl->line, '\n', cl->len))) {
		size_t used = (size_t)(nl - cl->line) + 1;
		*nl = '\0';
		ctl__answer(cl, cl->line);
		if (uv_is_closing((uv_handle_t *)s))
			return;
		memmove(cl->line, cl->line + used, cl->len - used);
		cl->len -= used;
	}
	/* A line that does not fit is not a command: drop the client. */
	if (cl->len == sizeof(cl->line))
		uv_close((uv_handle_t *)s, ctl__client_closed);
}

static void ctl__connection(uv_stream_t *server, int status)
{
	struct ctl *c = server->data;
	struct ctl_client *cl;

	if (status < 0 || !(cl = calloc(1, sizeof(*cl))))
		return;
	cl->ctl = c;
	uv_pipe_init(server->loop, &cl->pipe, 0);
	cl->pipe.data = cl;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe)) {
		uv_close((uv_handle_t *)&cl->pipe, ctl__client_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&cl->pipe, ctl__alloc, ctl__read);
}

int ctl_start(struct ctl *c, uv_loop_t *loop, const char *path,
	      const struct ctl_cmd *cmds, size_t ncmds, void *owner, bool read_only)
{
	mode_t mode = read_only ? 0660 : 0600;
	mode_t old;
	int err;

	if (strlen(path) >= sizeof(c->path))
		return -ENAMETOOLONG;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->cmds = cmds;
	c->ncmds = ncmds;
	c->owner = owner;
	uv_pipe_init(loop, &c->server, 0);
	c->server.data = c;
	c->open = true;
	/* The default lives in /run/vpn-server or /run/vpn-shoot, which a fresh container lacks:
	 * create the last directory level (0700), nothing further up. */
	{
		char dir[sizeof(c->path)], *slash;
		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			if (!mkdir(dir, 0700))
				snprintf(c->dir, sizeof(c->dir), "%s", dir);
			else if (errno != EEXIST)
				return -errno;
		}
	}
	/* A socket file left by a crash would make bind fail. */
	unlink(path);
	/* umask then chmod: the socket is never reachable by others, not even
	 * between bind and chmod. */
	c->read_only = read_only;
	old = umask(0177);
	err = uv_pipe_bind(&c->server, path);
	umask(old);
	if (!err)
		err = chmod(path, mode) ? -errno : 0;
	if (!err)
		err = uv_listen((uv_stream_t *)&c->server, 16, ctl__connection);
	if (err)
		ctl_stop(c);
	return err;
}

void ctl_stop(struct ctl *c)
{
	if (!c->open)
		return;
	c->open = false;
	uv_close((uv_handle_t *)&c->server, NULL);
	unlink(c->path);
	if (c->dir[0])
		rmdir(c->dir);
}
