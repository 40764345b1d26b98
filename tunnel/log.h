/* One line per event on stderr, as text or JSON (--log-format).
 *
 * Tunnel-related lines carry the tunnel id and the peer identity as
 * fields, so that `grep tunnel=7` follows one tunnel through a log. */
#ifndef TUNNEL_LOG_H
#define TUNNEL_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* Returns 0, or -EINVAL for an unknown format or level. */
int log_setup(const char *format, const char *level);
int log_level_parse(const char *s, enum log_level *out);
int log_enabled(enum log_level lvl);

/* Who a line is about; any field may be NULL/0. */
struct log_ctx {
	unsigned tunnel;	/* 0: not about a tunnel */
	const char *peer;	/* peer identity */
	const char *remote;	/* peer's transport address */
};

void log_msg(enum log_level lvl, const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An access-log line (INFO): one per relayed connection of an
 * authenticated client, never rate-limited, since a line missing from an
 * access log is a connection nobody can account for. Floods come from
 * clients that fail to authenticate; their lines go through log_msg(). */
void log_access(const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(ctx, ...) do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, ctx, __VA_ARGS__); } while (0)
#define log_info(ctx, ...)  log_msg(LOG_LVL_INFO, ctx, __VA_ARGS__)
#define log_warn(ctx, ...)  log_msg(LOG_LVL_WARN, ctx, __VA_ARGS__)
#define log_error(ctx, ...) log_msg(LOG_LVL_ERROR, ctx, __VA_ARGS__)

#endif
