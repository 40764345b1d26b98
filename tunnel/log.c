#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tunnel/log.h"

static enum log_level log__min = LOG_LVL_INFO;
static int log__json;

static const char *const log__names[] = { "debug", "info", "warn", "error" };

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(log__names) / sizeof(log__names[0]); i++) {
		if (!strcmp(s, log__names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int log_setup(const char *format, const char *level)
{
	if (format) {
		if (!strcmp(format, "json"))
			log__json = 1;
		else if (!strcmp(format, "text"))
			log__json = 0;
		else
			return -EINVAL;
	}
	if (level && log_level_parse(level, &log__min))
		return -EINVAL;
	return 0;
}

int log_enabled(enum log_level lvl)
{
	return lvl >= log__min;
}

/* Appends s as a JSON string body (without quotes). */
static size_t log__json_escape(char *dst, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			dst[n++] = '\\';
			dst[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", c);
		} else {
			dst[n++] = (char)c;
		}
	}
	dst[n] = '\0';
	return n;
}

/* Repeats are rate-limited per call site (its format string): a flood of
 * bad handshakes must not turn the log into the flood. Each site may log
 * LOG_BURST lines per second; what it suppresses is counted and said once
 * the next second it logs again. */
enum { LOG_SITES = 64, LOG_BURST = 10 };

static struct log__site {
	const char *fmt;
	time_t second;
	unsigned lines;
	unsigned long suppressed;
} log__sites[LOG_SITES];

static void log__emit(enum log_level lvl, const struct log_ctx *ctx, const char *msg);

/* Returns false if this line is to be suppressed. */
static bool log__admit(enum log_level lvl, const char *fmt)
{
	struct log__site *site = &log__sites[((uintptr_t)fmt >> 3) % LOG_SITES];
	time_t now = time(NULL);

	if (site->fmt != fmt) {
		*site = (struct log__site){ .fmt = fmt, .second = now };
	} else if (site->second != now) {
		if (site->suppressed) {
			char note[160];
			snprintf(note, sizeof(note), "(%lu similar lines suppressed in the last %lld s)",
				 site->suppressed, (long long)(now - site->second));
			log__emit(lvl, NULL, note);
		}
		site->second = now;
		site->lines = 0;
		site->suppressed = 0;
	}
	if (++site->lines > LOG_BURST) {
		site->suppressed++;
		return false;
	}
	return true;
}

static void log__vmsg(enum log_level lvl, bool limited, const struct log_ctx *ctx,
		      const char *fmt, va_list ap)
{
	char msg[1024];

	if (!log_enabled(lvl) || (limited && !log__admit(lvl, fmt)))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log__emit(lvl, ctx, msg);
}

void log_msg(enum log_level lvl, const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log__vmsg(lvl, true, ctx, fmt, ap);
	va_end(ap);
}

void log_access(const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log__vmsg(LOG_LVL_INFO, false, ctx, fmt, ap);
	va_end(ap);
}

static void log__emit(enum log_level lvl, const struct log_ctx *ctx, const char *msg)
{
	char line[2560], ts[40];
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);

	if (log__json) {
		char esc[2200];
		n = (size_t)snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\"",
				     ts, log__names[lvl]);
		if (ctx && ctx->tunnel)
			n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"tunnel\":%u", ctx->tunnel);
		if (ctx && ctx->peer) {
			log__json_escape(esc, sizeof(esc), ctx->peer);
			n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"peer\":\"%s\"", esc);
		}
		if (ctx && ctx->remote) {
			log__json_escape(esc, sizeof(esc), ctx->remote);
			n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"remote\":\"%s\"", esc);
		}
		log__json_escape(esc, sizeof(esc), msg);
		snprintf(line + n, sizeof(line) - n, ",\"msg\":\"%s\"}", esc);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "%s %-5s", ts, log__names[lvl]);
		if (ctx && ctx->tunnel)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " tunnel=%u", ctx->tunnel);
		if (ctx && ctx->peer)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " peer=%s", ctx->peer);
		if (ctx && ctx->remote)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " remote=%s", ctx->remote);
		snprintf(line + n, sizeof(line) - n, " %s", msg);
	}
	/* One write per line so lines from concurrent processes sharing a
	 * pipe do not interleave. */
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
