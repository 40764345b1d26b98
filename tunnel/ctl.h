/* The stats socket (../shared/CONTRACT.md): a Unix stream socket where an
 * operator writes command lines ("show tunnels; show stat json") and each
 * answer ends with an empty line. Commands are declared in a table
 * (keyword, usage, handler) from which `help` is generated.
 *
 * Output goes through struct ctl_out, which renders the same fields as
 * text ("Name: value" lines, or tab-separated rows under a '#' header) or
 * as one JSON document, so each answer is written once. */
#ifndef TUNNEL_CTL_H
#define TUNNEL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct conn;

struct ctl_out {
	char *buf;
	size_t len, cap;
	bool json;
	bool failed;	/* the answer is an error line */
	bool read_only;	/* set by the caller: refuse commands that change */
	int rows;	/* rows emitted in the current table */
	int fields;	/* fields emitted in the current row/object */
};

struct ctl_cmd {
	const char *keyword;	/* "show tunnels" */
	const char *usage;	/* one line for help */
	void (*fn)(struct ctl_out *o, void *owner);
	bool changes;		/* changes state: refused on the read-only socket */
};

struct ctl {
	uv_pipe_t server;
	char path[108];
	const struct ctl_cmd *cmds;
	size_t ncmds;
	void *owner;
	bool open;
	bool read_only;
	char dir[108];		/* the directory, if ctl_start created it */
};

/* Binds path (replacing a stale socket). The operator socket is mode
 * 0600; a read_only one is 0660 (for a monitoring group) and refuses every
 * command marked `changes`. Returns 0 or -errno. */
int ctl_start(struct ctl *c, uv_loop_t *loop, const char *path,
	      const struct ctl_cmd *cmds, size_t ncmds, void *owner, bool read_only);
/* Stops listening and removes the socket file. */
void ctl_stop(struct ctl *c);

/* Runs one command line (may hold several commands separated by ';')
 * and appends the answers to o. Exposed for the unit tests. */
void ctl_execute(const struct ctl_cmd *cmds, size_t ncmds, void *owner,
		 const char *line, struct ctl_out *o);

/* Rendering, text or JSON from the same calls. */
void ctl_error(struct ctl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_kv_begin(struct ctl_out *o);		/* "Name: value" lines / { ... } */
void ctl_kv_str(struct ctl_out *o, const char *k, const char *v);
void ctl_kv_u64(struct ctl_out *o, const char *k, uint64_t v);
void ctl_kv_end(struct ctl_out *o);
void ctl_table_begin(struct ctl_out *o, const char *name, const char *const *cols, size_t ncols);
void ctl_row_begin(struct ctl_out *o);
void ctl_cell_str(struct ctl_out *o, const char *col, const char *v);
void ctl_cell_u64(struct ctl_out *o, const char *col, uint64_t v);
void ctl_row_end(struct ctl_out *o);
void ctl_table_end(struct ctl_out *o);
void ctl_out_free(struct ctl_out *o);

/* Shared answers of both daemons. */
void ctl_show_stat(struct ctl_out *o, void *owner);
void ctl_show_errors(struct ctl_out *o, void *owner);
/* Zeroes the global counters; the daemon zeroes its tunnels'. */
void ctl_clear_stat(void);
/* The columns of `show tunnels`, and one row per conn. */
void ctl_tunnels_begin(struct ctl_out *o);
void ctl_tunnel_row(struct ctl_out *o, const struct conn *c, const char *tunnel_addr,
		    uint64_t reconnects);

#endif
