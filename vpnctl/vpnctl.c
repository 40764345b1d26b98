/* vpnctl: the operator's client of a daemon's stats socket
 * (../shared/CONTRACT.md).
 *
 *   vpnctl [-s PATH] show tunnels     one block per tunnel, in human units
 *   vpnctl [-s PATH] -j show tunnels  the daemon's JSON answer, unchanged
 *   vpnctl [-s PATH] -r show tunnels  the daemon's text table, unchanged
 *   vpnctl [-s PATH] watch [-n N]     a live view with per-tunnel throughput
 *   vpnctl [-s PATH] COMMAND...       any other command; the answer as it came
 *
 * Exit status: 0 on an answer; 1 if the daemon answered "error: ..."; 2 if
 * the socket cannot be reached (the message names the path and why) or on
 * a usage error. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The Makefile links vpnctl.o alone; the renderers live in fmt.c so that
 * tests/unit/test_vpnctl.c can compile them without main(), and are
 * compiled into this unit. */
#include "vpnctl/fmt.h"

enum {
	EXIT_ANSWER_ERROR = 1,	/* the daemon answered "error: ..." */
	EXIT_UNREACHABLE = 2,	/* no answer from the socket, or a usage error */
	EXIT_USAGE = 2,
	/* A daemon answers from its event loop at once; this long without an
	 * answer means it is stuck, and vpnctl says so rather than hang. */
	ANSWER_TIMEOUT_MS = 5000,
	/* The daemon refuses longer lines (tunnel/ctl.c, CTL_LINE_MAX). */
	CMD_MAX = 4000,
	/* An answer that grows past this is not one of ours. */
	ANSWER_MAX = 64 << 20,
};

static const char *const default_paths[] = {
	"/run/vpn-server/stats.sock", "/run/vpn-shoot/stats.sock",
};

/* Set by SIGINT/SIGTERM during watch: finish the refresh and stop. */
static volatile sig_atomic_t stopping;

/* ---------------------------------------------------------------- the socket */

/* One connection to a stats socket, and what was read past the last answer. */
struct sock {
	int fd;
	const char *path;
	char *buf;
	size_t len, cap;
};

static void sock_close(struct sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
}

static void sock_free(struct sock *s)
{
	sock_close(s);
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

/* Returns 0 or -errno. */
static int sock_dial(struct sock *s, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	sock_close(s);
	s->path = path;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	s->fd = fd;
	return 0;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where the first answer in buf ends: an answer ends with an empty line,
 * and an empty answer is that empty line alone. *len is the answer's
 * length (its last '\n' included), *used what it takes up in buf. */
static bool answer_end(const char *buf, size_t n, size_t *len, size_t *used)
{
	const char *p;

	if (n && buf[0] == '\n') {
		*len = 0;
		*used = 1;
		return true;
	}
	if (n < 2 || !(p = memmem(buf, n, "\n\n", 2)))
		return false;
	*len = (size_t)(p - buf) + 1;
	*used = *len + 1;
	return true;
}

/* Sends cmd and reads its answer into *answer (malloc'd, without the
 * terminating empty line). Returns 0 or -errno: -ETIMEDOUT if no answer
 * came in time, -ECONNRESET if the daemon closed the connection first,
 * -EINTR if interrupted while stopping. */
static int sock_query(struct sock *s, const char *cmd, char **answer)
{
	char line[CMD_MAX + 2];
	size_t n, off = 0, alen, used;
	long long deadline = mono_ms() + ANSWER_TIMEOUT_MS;

	*answer = NULL;
	n = (size_t)snprintf(line, sizeof(line), "%s\n", cmd);
	while (off < n) {
		ssize_t w = send(s->fd, line + off, n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR && !stopping)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	while (!answer_end(s->buf, s->len, &alen, &used)) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		long long left = deadline - mono_ms();
		ssize_t r;
		int rc;

		if (s->len == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16384;
			char *b;
			if (cap > ANSWER_MAX)
				return -EMSGSIZE;
			if (!(b = realloc(s->buf, cap)))
				return -ENOMEM;
			s->buf = b;
			s->cap = cap;
		}
		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0) {
			if (errno == EINTR && !stopping)
				continue;
			return -errno;
		}
		if (rc == 0)
			return -ETIMEDOUT;
		r = read(s->fd, s->buf + s->len, s->cap - s->len);
		if (r < 0) {
			if (errno == EINTR && !stopping)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		s->len += (size_t)r;
	}
	if (!(*answer = strndup(s->buf, alen)))
		return -ENOMEM;
	memmove(s->buf, s->buf + used, s->len - used);
	s->len -= used;
	return 0;
}

/* What went wrong with the socket, for the operator. */
static void describe(char *out, size_t n, const char *path, int err, bool dialing)
{
	const char *hint = "";

	if (!dialing) {
		if (err == -ETIMEDOUT)
			snprintf(out, n, "%s: no answer within %d s", path, ANSWER_TIMEOUT_MS / 1000);
		else if (err == -ECONNRESET || err == -EPIPE)
			snprintf(out, n, "%s: the daemon closed the connection before answering", path);
		else
			snprintf(out, n, "%s: %s", path, strerror(-err));
		return;
	}
	if (err == -ENOENT)
		hint = " (is the daemon running? -s names its --stats-socket)";
	else if (err == -EACCES)
		hint = " (the socket is mode 0600: run as the daemon's user, e.g. with sudo)";
	else if (err == -ECONNREFUSED)
		hint = " (nothing listens there: the daemon is gone and left its socket file)";
	snprintf(out, n, "cannot reach %s: %s%s", path, strerror(-err), hint);
}

/* Connects to path, or without one to the server's default socket and then
 * the agent's. On failure prints why and returns -errno. */
static int connect_or_say(struct sock *s, const char *path)
{
	char msg[512];
	int err;

	if (path) {
		err = sock_dial(s, path);
	} else if ((err = sock_dial(s, default_paths[0])) == -ENOENT &&
		   (err = sock_dial(s, default_paths[1])) == -ENOENT) {
		fprintf(stderr, "vpnctl: cannot reach %s or %s: %s "
			"(is a daemon running? -s names another socket)\n",
			default_paths[0], default_paths[1], strerror(-err));
		return err;
	}
	if (err) {
		describe(msg, sizeof(msg), s->path, err, true);
		fprintf(stderr, "vpnctl: %s\n", msg);
	}
	return err;
}

static bool is_error_answer(const char *answer)
{
	return !strncmp(answer, "error: ", 7) || !strcmp(answer, "error:\n");
}

/* ---------------------------------------------------------------- commands */

/* Any command: the answer as the daemon wrote it. */
static int cmd_pass(struct sock *s, const char *cmd, bool human_tunnels, bool color)
{
	struct fmt_table t;
	char *answer, msg[512];
	int err;

	if ((err = sock_query(s, cmd, &answer))) {
		describe(msg, sizeof(msg), s->path, err, false);
		fprintf(stderr, "vpnctl: %s\n", msg);
		return EXIT_UNREACHABLE;
	}
	if (is_error_answer(answer)) {
		fputs(answer, stderr);
		free(answer);
		return EXIT_ANSWER_ERROR;
	}
	/* A table vpnctl cannot read is still worth printing as it came. */
	if (human_tunnels && !fmt_table_parse(&t, answer)) {
		fmt_show_tunnels(stdout, &t, color);
		fmt_table_free(&t);
	} else {
		fputs(answer, stdout);
	}
	free(answer);
	return 0;
}

static void on_signal(int sig)
{
	stopping = 1;
}

/* Writes one rendered refresh. On a terminal the view is redrawn in place
 * (home, each line then clear-to-end-of-line, clear below) so that it does
 * not flicker; elsewhere each refresh is a block after an empty line. */
static void watch_output(const char *view, size_t n, bool tty, bool first)
{
	if (!tty) {
		if (!first)
			fputc('\n', stdout);
		fwrite(view, 1, n, stdout);
	} else {
		fputs(first ? "\033[H\033[2J" : "\033[H", stdout);
		for (size_t i = 0; i < n; i++) {
			if (view[i] == '\n')
				fputs("\033[K", stdout);
			fputc(view[i], stdout);
		}
		fputs("\033[J", stdout);
	}
	fflush(stdout);
}

static void timespec_add_ms(struct timespec *ts, long long ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Refreshes every interval_ms until interrupted or, with count, count
 * times. The exit status is that of the last refresh. A daemon that goes
 * away is shown as such and dialled again on the next refresh. */
static int cmd_watch(struct sock *s, long count, long long interval_ms, bool color, bool tty)
{
	struct fmt_samples prev = { 0 }, cur = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct timespec next;
	bool have_prev = false;
	int status = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; !stopping && (!count || i < count); i++) {
		struct fmt_table t = { 0 };
		char *info = NULL, *tunnels = NULL, *view = NULL, err[512] = "", clock[16];
		size_t view_len = 0;
		bool parsed = false;
		time_t wall;
		FILE *f;
		int e;

		if (i) {
			struct timespec now;
			timespec_add_ms(&next, interval_ms);
			clock_gettime(CLOCK_MONOTONIC, &now);
			/* Late (a slow answer): go on from now instead of catching up. */
			if (now.tv_sec > next.tv_sec ||
			    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
				next = now;
			while (!stopping &&
			       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
				;
			if (stopping)
				break;
		}
		if (s->fd < 0 && (e = sock_dial(s, s->path))) {
			describe(err, sizeof(err), s->path, e, true);
			status = EXIT_UNREACHABLE;
		} else if ((e = sock_query(s, "show info", &info)) ||
			   (e = sock_query(s, "show tunnels", &tunnels))) {
			if (e == -EINTR && stopping) {
				free(info);
				break;
			}
			describe(err, sizeof(err), s->path, e, false);
			sock_close(s);
			status = EXIT_UNREACHABLE;
		} else if (is_error_answer(tunnels)) {
			snprintf(err, sizeof(err), "%.*s", (int)strcspn(tunnels, "\n"), tunnels);
			status = EXIT_ANSWER_ERROR;
		} else if (fmt_table_parse(&t, tunnels)) {
			snprintf(err, sizeof(err), "show tunnels: not a table: %.*s",
				 (int)strcspn(tunnels, "\n"), tunnels);
			status = EXIT_ANSWER_ERROR;
		} else {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			parsed = true;
			status = 0;
			if (fmt_samples_take(&cur, &t, (double)now.tv_sec + now.tv_nsec / 1e9))
				fmt_samples_free(&cur);
		}

		wall = time(NULL);
		strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&wall));
		if ((f = open_memstream(&view, &view_len))) {
			fmt_watch(f, s->path, clock, info, parsed ? &t : NULL,
				  parsed && have_prev ? &prev : NULL, parsed ? &cur : NULL,
				  err[0] ? err : NULL, color);
			if (!fclose(f))
				watch_output(view, view_len, tty, i == 0);
		}
		if (parsed) {
			struct fmt_samples tmp = prev;
			prev = cur;
			cur = tmp;
			have_prev = true;
		}
		free(view);
		free(info);
		free(tunnels);
		fmt_table_free(&t);
	}
	fmt_samples_free(&prev);
	fmt_samples_free(&cur);
	return status;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vpnctl [-s PATH] [-j | -r] COMMAND...\n"
		"       vpnctl [-s PATH] watch [-n COUNT] [-i SECONDS]\n"
		"\n"
		"  -s, --socket PATH     the daemon's stats socket (default %s,\n"
		"                        else %s)\n"
		"  -j, --json            ask for the JSON answer and print it unchanged\n"
		"  -r, --raw             print the daemon's text answer unchanged (for scripts)\n"
		"  -n, --count COUNT     watch: stop after COUNT refreshes\n"
		"  -i, --interval SECS   watch: seconds between refreshes (default 1)\n"
		"      --color WHEN      auto (default: on a terminal, unless NO_COLOR is set),\n"
		"                        always or never\n"
		"  -h, --help            this text\n"
		"\n"
		"commands: show tunnels, show info, show stat, show errors, show flows,\n"
		"          clear counters, reload, help (the daemon's list), watch\n"
		"\n"
		"exit status: 0 ok, 1 the daemon answered an error, 2 the socket cannot be\n"
		"reached or usage error\n",
		default_paths[0], default_paths[1]);
}

static bool use_color(const char *when)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (!strcmp(when, "always"))
		return true;
	if (!strcmp(when, "never"))
		return false;
	/* https://no-color.org: set and not empty. */
	return isatty(STDOUT_FILENO) && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sock s = { .fd = -1 };
	const char *path = NULL, *color_when = "auto";
	char cmd[CMD_MAX + 8] = "", *end;
	bool json = false, raw = false, watch, tunnels, watch_opts = false;
	long count = 0;
	long long interval_ms = 1000;
	double secs;
	size_t len = 0;
	int ch, status;

	/* Options may follow the command ("vpnctl watch -n 2"): no command
	 * word starts with '-'. */
	while ((ch = getopt_long(argc, argv, "s:jrn:i:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			raw = true;
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || count < 1) {
				fprintf(stderr, "vpnctl: -n: `%s' is not a positive count\n", optarg);
				return EXIT_USAGE;
			}
			watch_opts = true;
			break;
		case 'i':
			secs = strtod(optarg, &end);
			if (*end || end == optarg || !(secs >= 0.1 && secs <= 86400)) {
				fprintf(stderr, "vpnctl: -i: `%s' is not a number of seconds "
					"from 0.1 to 86400\n", optarg);
				return EXIT_USAGE;
			}
			interval_ms = (long long)(secs * 1000 + 0.5);
			watch_opts = true;
			break;
		case 'C':
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never")) {
				fprintf(stderr, "vpnctl: --color: `%s' is not auto, always or never\n", optarg);
				return EXIT_USAGE;
			}
			color_when = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (strpbrk(argv[i], ";\n\r")) {
			fprintf(stderr, "vpnctl: `%s': one command per call, without ';' or newlines\n",
				argv[i]);
			return EXIT_USAGE;
		}
		if (len + n + 1 > CMD_MAX) {
			fprintf(stderr, "vpnctl: the command is longer than %d bytes\n", CMD_MAX);
			return EXIT_USAGE;
		}
		len += (size_t)sprintf(cmd + len, "%s%s", i > optind ? " " : "", argv[i]);
	}
	watch = argc - optind == 1 && !strcmp(argv[optind], "watch");
	tunnels = argc - optind == 2 && !strcmp(argv[optind], "show") &&
		  !strcmp(argv[optind + 1], "tunnels");
	if (watch && (json || raw)) {
		fprintf(stderr, "vpnctl: watch has no -j or -r form (use -j show tunnels)\n");
		return EXIT_USAGE;
	}
	if (watch_opts && !watch) {
		fprintf(stderr, "vpnctl: -n and -i apply to watch only\n");
		return EXIT_USAGE;
	}
	/* The daemon takes "json" as the last word. */
	if (json && strcmp(argv[argc - 1], "json"))
		strcat(cmd, " json");

	if (connect_or_say(&s, path))
		return EXIT_UNREACHABLE;
	if (watch)
		status = cmd_watch(&s, count, interval_ms, use_color(color_when),
				   isatty(STDOUT_FILENO));
	else
		status = cmd_pass(&s, cmd, tunnels && !json && !raw, use_color(color_when));
	sock_free(&s);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "vpnctl: writing the answer: %s\n", strerror(errno));
		return status ? status : EXIT_USAGE;
	}
	return status;
}
