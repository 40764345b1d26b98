/* The HTTP CONNECT proxy; see proxy.h for its life cycle, timers and
 * limits. The first half is the request head's parser (pure, fuzzed by
 * tests/fuzz/fuzz_connect.c), the second the connections on the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>

#include "tunnel/config.h"
#include "tunnel/conn.h"
#include "tunnel/log.h"
#include "tunnel/proxy.h"
#include "tunnel/stats.h"
#include "tunnel/tls.h"

const char *const proxy_allowed_clients[] = {
	"kube-apiserver-http-proxy-client",
};
const size_t proxy_n_allowed_clients =
	sizeof(proxy_allowed_clients) / sizeof(proxy_allowed_clients[0]);

/* ---- the request head ---- */

/* tchar of RFC 9110 section 5.6.2: what method and field names are made of. */
static bool px__tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Field values: visible characters, obs-text, space and tab. */
static bool px__vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int px__done(struct proxy_request *req, int status, const char *why)
{
	req->status = status;
	req->why = why;
	return PROXY_HEAD_DONE;
}

/* A DNS name as far as we care: letters, digits, '-', '_' and '.', with at
 * least one letter (an all-numeric string is a malformed address). */
static bool px__hostname(const char *h, size_t len)
{
	bool alpha = false;

	if (len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			alpha = true;
		else if (!(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.')
			return false;
	}
	return alpha;
}

/* Addresses no CONNECT may reach whatever --shoot-networks says: they
 * would be delivered locally, or are not a single host. */
static bool px__never(const struct proxy_target *t)
{
	const uint8_t *a = t->addr;
	static const uint8_t zero[16];

	if (t->family == AF_INET)
		return a[0] == 0 || a[0] == 127 || a[0] >= 224;	/* this net, loopback, multicast, class E, broadcast */
	if (!memcmp(a, zero, 16))
		return true;					/* :: */
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return true;					/* ::1 */
	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);	/* multicast, link-local */
}

int proxy_check_target(const char *s, size_t len, const struct cidr_list *nets,
		       struct proxy_target *t, const char **why)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *h, *p, *dummy;
	size_t hlen, plen;
	unsigned long port = 0;
	struct proxy_target out = { 0 };

	if (!why)
		why = &dummy;
	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (!rb) {
			*why = "malformed IPv6 literal (no `]')";
			return 400;
		}
		h = s + 1;
		hlen = (size_t)(rb - h);
		if (rb + 1 == s + len || rb[1] != ':') {
			*why = rb + 1 == s + len ? "no port (CONNECT needs host:port)" : "malformed target";
			return 400;
		}
		p = rb + 2;
	} else {
		const char *colon = len ? memrchr(s, ':', len) : NULL;

		if (!colon) {
			*why = "no port (CONNECT needs host:port)";
			return 400;
		}
		h = s;
		hlen = (size_t)(colon - s);
		p = colon + 1;
		if (memchr(h, ':', hlen)) {
			*why = "an IPv6 address must be in brackets: [addr]:port";
			return 400;
		}
	}
	plen = (size_t)(s + len - p);
	if (!hlen) {
		*why = "no host";
		return 400;
	}
	if (plen < 1 || plen > 5) {
		*why = "port must be 1 to 65535";
		return 400;
	}
	for (size_t i = 0; i < plen; i++) {
		if (p[i] < '0' || p[i] > '9') {
			*why = "port must be 1 to 65535";
			return 400;
		}
		port = port * 10 + (unsigned long)(p[i] - '0');
	}
	if (port < 1 || port > 65535) {
		*why = "port must be 1 to 65535";
		return 400;
	}
	out.port = (uint16_t)port;

	if (hlen < sizeof(host)) {
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	} else {
		host[0] = '\0';
	}
	if (s[0] == '[') {
		/* A zone ("%eth0") names a seed-side device: never. */
		if (!host[0] || strchr(host, '%') || inet_pton(AF_INET6, host, out.addr) != 1) {
			*why = "malformed IPv6 literal";
			return 400;
		}
		out.family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)out.addr)) {
			memmove(out.addr, out.addr + 12, 4);
			memset(out.addr + 4, 0, 12);
			out.family = AF_INET;
		}
	} else if (host[0] && inet_pton(AF_INET, host, out.addr) == 1) {
		out.family = AF_INET;
	} else if (px__hostname(h, hlen)) {
		*why = "a hostname: the proxy does not resolve names, CONNECT to an IP address";
		return 403;
	} else {
		*why = "malformed host";
		return 400;
	}
	if (px__never(&out)) {
		*why = "not a unicast address the proxy may dial";
		return 403;
	}
	if (!cidr_list_match(nets, out.family, out.addr)) {
		*why = "not in the shoot networks";
		return 403;
	}
	*t = out;
	*why = "ok";
	return 200;
}

/* The request line: method SP request-target SP HTTP-version. Fills the
 * method and the target; returns 0, or an error status. */
static int px__request_line(const char *l, size_t len, const char **method, size_t *mlen,
			    const char **target, size_t *tlen, const char **why)
{
	const char *sp1, *sp2, *v;

	for (sp1 = l; sp1 < l + len && px__tchar((unsigned char)*sp1); sp1++)
		;
	if (sp1 == l || sp1 == l + len || *sp1 != ' ') {
		*why = "malformed request line";
		return 400;
	}
	*method = l;
	*mlen = (size_t)(sp1 - l);
	*target = sp1 + 1;
	for (sp2 = *target; sp2 < l + len && *sp2 > 0x20 && *sp2 < 0x7f; sp2++)
		;
	*tlen = (size_t)(sp2 - *target);
	if (!*tlen || sp2 == l + len || *sp2 != ' ') {
		*why = "malformed request line";
		return 400;
	}
	v = sp2 + 1;
	if ((size_t)(l + len - v) != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9') {
		*why = "malformed HTTP version";
		return 400;
	}
	if (v[5] != '1') {
		*why = "only HTTP/1.x";
		return 505;
	}
	return 0;
}

/* A field line; returns 0 or -1. *is_host says whether it is Host. */
static int px__header_line(const char *l, size_t len, bool *is_host)
{
	size_t i;

	for (i = 0; i < len && px__tchar((unsigned char)l[i]); i++)
		;
	if (i == 0 || i == len || l[i] != ':')
		return -1;
	*is_host = i == 4 && !strncasecmp(l, "host", 4);
	for (i++; i < len; i++)
		if (!px__vchar((unsigned char)l[i]))
			return -1;
	return 0;
}

/* Bytes of a line whose end has not arrived yet: nothing that a complete
 * line could never hold (a CR may still be followed by its LF). */
static bool px__partial_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r' && i == n - 1)
			break;
		if (!px__vchar(c))
			return false;
	}
	return true;
}

int proxy_parse_head(const char *buf, size_t len, const struct cidr_list *nets,
		     struct proxy_request *req)
{
	const char *method = NULL, *target = NULL;
	size_t mlen = 0, tlen = 0, pos = 0;
	unsigned hosts = 0, headers = 0;
	bool have_line = false;

	memset(req, 0, sizeof(*req));
	req->why = "";
	while (pos < len) {
		const char *lf = memchr(buf + pos, '\n', len - pos);
		size_t end, l;
		int st;

		if (!lf) {
			if (!px__partial_ok(buf + pos, len - pos))
				return px__done(req, 400, "control character in the request head");
			break;
		}
		end = (size_t)(lf - buf);
		if (end + 1 > PROXY_HEAD_MAX)
			return px__done(req, have_line ? 431 : 414, "request head too long");
		l = end - pos;
		if (l && buf[end - 1] == '\r')
			l--;
		if (memchr(buf + pos, '\r', l) || memchr(buf + pos, '\0', l))
			return px__done(req, 400, "control character in the request head");

		if (!have_line) {
			/* RFC 9112 section 2.2: empty lines before the request
			 * line are ignored. */
			if (l) {
				if ((st = px__request_line(buf + pos, l, &method, &mlen, &target, &tlen,
							   &req->why)))
					return px__done(req, st, req->why);
				snprintf(req->target_str, sizeof(req->target_str), "%.*s",
					 (int)(tlen < sizeof(req->target_str) ? tlen : sizeof(req->target_str) - 1),
					 target);
				have_line = true;
			}
		} else if (l == 0) {
			req->head_len = end + 1;
			if (hosts > 1)
				return px__done(req, 400, "more than one Host field");
			if (mlen != 7 || memcmp(method, "CONNECT", 7))
				return px__done(req, 405, "only CONNECT is served");
			st = proxy_check_target(target, tlen, nets, &req->target, &req->why);
			return px__done(req, st, req->why);
		} else {
			bool is_host = false;

			if (px__header_line(buf + pos, l, &is_host))
				return px__done(req, 400, "malformed header field");
			if (++headers > PROXY_HEADERS_MAX)
				return px__done(req, 431, "too many header fields");
			hosts += is_host;
		}
		pos = end + 1;
	}
	if (len >= PROXY_HEAD_MAX)
		return px__done(req, have_line ? 431 : 414, "request head too long");
	return PROXY_HEAD_INCOMPLETE;
}

/* ---- connections ---- */

enum px_state {
	PX_TLS,		/* TLS handshake */
	PX_HEAD,	/* reading the request head */
	PX_DIAL,	/* connecting to the target */
	PX_RELAY,	/* 200 sent (or queued): bytes go both ways */
	PX_ANSWER,	/* writing an error answer */
	PX_LINGER,	/* answer sent: draining the client until EOF */
	PX_CLOSED,
};

static const char *const px__state_names[] = {
	[PX_TLS] = "tls", [PX_HEAD] = "request", [PX_DIAL] = "dialing", [PX_RELAY] = "relaying",
	[PX_ANSWER] = "answering", [PX_LINGER] = "closing", [PX_CLOSED] = "closed",
};

/* TCP keepalive on both sockets: a peer that vanished without a FIN or
 * RST (a crashed kube-apiserver node, a dead tunnel) frees its
 * connection after about KEEPIDLE + KEEPCNT * KEEPINTVL seconds instead
 * of the idle timeout. */
enum { PX_KEEPIDLE_S = 60, PX_KEEPINTVL_S = 10, PX_KEEPCNT = 6 };

/* Bytes [off, len) of d wait to be written. */
struct px_buf {
	uint8_t *d;
	size_t off, len;
};

struct proxy_conn {
	struct proxy *px;
	struct proxy_conn *prev, *next;
	unsigned id;
	enum px_state state;
	int cfd, tfd;		/* client (TLS), target (plain TCP) */
	SSL *ssl;
	uv_poll_t cpoll, tpoll;
	uv_timer_t timer;
	int open_handles;	/* closed when it reaches 0 after px__close */
	int cev, tev;		/* poll events requested now */
	bool tpoll_open, handshaking;
	/* What the last TLS call on the client asked for. */
	bool cr_wants_w, cw_wants_r, cw_blocked;
	/* Half-close: EOF read from the client / target; EOF passed on to
	 * the target (SHUT_WR) / the client (close_notify and FIN). */
	bool c_eof, t_eof, t_shut, c_shut;
	const char *first_eof;	/* "client" or "target" */
	int status;		/* the answer sent, 0 before one */
	char why[256];		/* the error answer's reason, for the log */
	bool warn;		/* the access-log line is a warning */
	char identity[128];
	char client[64];
	char target[64];
	uint64_t start_ms, last_ms;
	uint64_t to_target, to_client;
	size_t hdr_left;	/* bytes of our 200 line still in t2c */
	struct px_buf c2t, t2c;
	uint8_t *relay;		/* storage of c2t and t2c, 2 * PROXY_BUF */
	size_t head_len;	/* bytes in head */
	size_t ans_off, ans_len;	/* the error answer, in head */
	char head[PROXY_HEAD_MAX];
};

static void px__pump(struct proxy_conn *c);
static void px__timer_cb(uv_timer_t *t);
static void px__client_cb(uv_poll_t *h, int status, int events);
static void px__target_cb(uv_poll_t *h, int status, int events);

static const char *px__reason(int status)
{
	switch (status) {
	case 200: return "Connection established";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static uint64_t px__now(const struct proxy_conn *c)
{
	return uv_now(c->px->loop);
}

static void px__handle_closed(uv_handle_t *h)
{
	struct proxy_conn *c = h->data;

	if (h == (uv_handle_t *)&c->tpoll) {
		close(c->tfd);
		c->tfd = -1;
	}
	if (--c->open_handles)
		return;
	SSL_free(c->ssl);
	close(c->cfd);
	free(c->relay);
	free(c);
}

/* Stops watching the target and closes its socket (once libuv lets go). */
static void px__drop_target(struct proxy_conn *c)
{
	if (!c->tpoll_open || uv_is_closing((uv_handle_t *)&c->tpoll))
		return;
	uv_poll_stop(&c->tpoll);
	c->tev = 0;
	uv_close((uv_handle_t *)&c->tpoll, px__handle_closed);
}

/* Ends the connection: the access-log line, then both sockets close and
 * the memory goes once libuv has let go. Safe to call more than once. */
static void px__close(struct proxy_conn *c, bool warn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void px__close(struct proxy_conn *c, bool warn, const char *fmt, ...)
{
	struct proxy *px = c->px;
	struct log_ctx lc = { .peer = c->identity[0] ? c->identity : NULL, .remote = c->client };
	unsigned long long to_t = c->to_target, to_c = c->to_client;
	char end[256];
	double dur;
	va_list ap;

	if (c->state == PX_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(end, sizeof(end), fmt, ap);
	va_end(ap);
	/* The access log: one line per connection, when it ends. Relayed
	 * connections (an authenticated client, a 200) are all logged
	 * (log_access); refusals and failed handshakes, which a flood of bad
	 * clients can produce, are limited per call site to LOG_BURST lines
	 * a second, with a count of what was suppressed. */
	dur = (double)(px__now(c) - c->start_ms) / 1000;
	if (c->status == 200)
		log_access(&lc,
			"proxy: conn=%u target=%s status=200 to_target=%llu to_client=%llu duration=%.3fs end=\"%s\"",
			c->id, c->target, to_t, to_c, dur, end);
	else if (c->status)
		log_msg(warn ? LOG_LVL_WARN : LOG_LVL_INFO, &lc,
			"proxy: conn=%u target=%s status=%d to_target=%llu to_client=%llu duration=%.3fs end=\"%s\"",
			c->id, c->target[0] ? c->target : "-", c->status, to_t, to_c, dur, end);
	else
		log_msg(warn ? LOG_LVL_WARN : LOG_LVL_INFO, &lc,
			"proxy: conn=%u target=%s status=- to_target=%llu to_client=%llu duration=%.3fs end=\"%s\"",
			c->id, c->target[0] ? c->target : "-", to_t, to_c, dur, end);

	if (c->handshaking)
		px->handshaking--;
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	px->nconns--;
	stats.v[STAT_proxy_open] = px->nconns;

	c->state = PX_CLOSED;
	ERR_clear_error();
	px__drop_target(c);
	uv_timer_stop(&c->timer);
	uv_poll_stop(&c->cpoll);
	uv_close((uv_handle_t *)&c->timer, px__handle_closed);
	uv_close((uv_handle_t *)&c->cpoll, px__handle_closed);
}

static void px__set_poll(struct proxy_conn *c, int cev, int tev)
{
	if (cev != c->cev) {
		c->cev = cev;
		if (cev)
			uv_poll_start(&c->cpoll, cev, px__client_cb);
		else
			uv_poll_stop(&c->cpoll);
	}
	if (c->tpoll_open && tev != c->tev) {
		c->tev = tev;
		if (tev)
			uv_poll_start(&c->tpoll, tev, px__target_cb);
		else
			uv_poll_stop(&c->tpoll);
	}
}

enum px_io { PX_IO_WANT_READ, PX_IO_WANT_WRITE, PX_IO_EOF, PX_IO_ERROR };

/* Before each TLS call: SSL_get_error() reads the thread's error queue
 * and errno, so both must not hold what an earlier call left there. */
static void px__io_begin(void)
{
	ERR_clear_error();
	errno = 0;
}

/* Classifies a failed SSL_read/SSL_write/SSL_shutdown (errno was zeroed
 * before the call). After PX_IO_ERROR no other TLS call may be made. */
static enum px_io px__ssl_io(struct proxy_conn *c, int r, char *why, size_t len)
{
	int e = SSL_get_error(c->ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return PX_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return PX_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return PX_IO_EOF;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error()) {
			if (!errno)
				return PX_IO_EOF;	/* a FIN without close_notify */
			snprintf(why, len, "%s", strerror(errno));
			return PX_IO_ERROR;
		}
		/* fall through */
	default:
		tls_failure_reason(c->ssl, r, why, len);
		return PX_IO_ERROR;
	}
}

static void px__arm(struct proxy_conn *c, uint64_t ms)
{
	uv_timer_start(&c->timer, px__timer_cb, ms, 0);
}

/* ---- error answers ---- */

static void px__linger(struct proxy_conn *c)
{
	char why[200];

	for (;;) {
		int r;

		px__io_begin();
		r = SSL_read(c->ssl, c->head, sizeof(c->head));
		if (r > 0)
			continue;	/* discarded */
		switch (px__ssl_io(c, r, why, sizeof(why))) {
		case PX_IO_WANT_READ:
			px__set_poll(c, UV_READABLE, 0);
			return;
		case PX_IO_WANT_WRITE:
			px__set_poll(c, UV_READABLE | UV_WRITABLE, 0);
			return;
		default:
			px__close(c, c->warn, "answered %d: %s", c->status, c->why);
			return;
		}
	}
}

static void px__answer_pump(struct proxy_conn *c)
{
	char why[200];
	int r;

	while (c->ans_off < c->ans_len) {
		px__io_begin();
		r = SSL_write(c->ssl, c->head + c->ans_off, (int)(c->ans_len - c->ans_off));
		if (r > 0) {
			c->ans_off += (size_t)r;
			continue;
		}
		switch (px__ssl_io(c, r, why, sizeof(why))) {
		case PX_IO_WANT_WRITE:
			px__set_poll(c, UV_WRITABLE, 0);
			return;
		case PX_IO_WANT_READ:
			px__set_poll(c, UV_READABLE, 0);
			return;
		default:
			px__close(c, false, "answer %d (%s) not delivered: %s", c->status, c->why,
				  why[0] ? why : "client closed");
			return;
		}
	}
	px__io_begin();
	r = SSL_shutdown(c->ssl);
	if (r < 0) {
		switch (px__ssl_io(c, r, why, sizeof(why))) {
		case PX_IO_WANT_WRITE:
			px__set_poll(c, UV_WRITABLE, 0);
			return;
		case PX_IO_WANT_READ:
			break;
		default:
			px__close(c, c->warn, "answered %d: %s", c->status, c->why);
			return;
		}
	}
	/* A FIN after close_notify; then whatever the client still sends
	 * is read and dropped until its EOF, so that our close does not
	 * reset the connection under the answer. */
	shutdown(c->cfd, SHUT_WR);
	c->state = PX_LINGER;
	px__linger(c);
}

/* Answers status with a one-line body (status, reason, why) and closes.
 * The head buffer is reused for the answer. */
static void px__answer(struct proxy_conn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void px__answer(struct proxy_conn *c, int status, const char *fmt, ...)
{
	char why[256], body[400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->status = status;
	snprintf(c->why, sizeof(c->why), "%s", why);
	px__drop_target(c);
	snprintf(body, sizeof(body), "%d %s: %s\n", status, px__reason(status), why);
	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Connection: close\r\n"
		     "\r\n"
		     "%s",
		     status, px__reason(status), strlen(body),
		     status == 405 ? "Allow: CONNECT\r\n" : "", body);
	c->ans_off = 0;
	c->ans_len = (size_t)n;
	c->state = PX_ANSWER;
	px__arm(c, PROXY_LINGER_MS);
	px__answer_pump(c);
}

/* ---- dialing ---- */

static socklen_t px__sockaddr(const struct proxy_target *t, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (t->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		memcpy(&s4->sin_addr, t->addr, 4);
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		memcpy(&s6->sin6_addr, t->addr, 16);
		return sizeof(*s6);
	}
}

/* Asks the kernel where a marked connection to sa would go, without
 * sending anything (a UDP connect). Returns -EPERM if it would be
 * delivered locally (the kernel then picks the destination itself as the
 * source), -errno if it cannot be routed, or 0. */
static int px__route_check(const struct sockaddr *sa, socklen_t sl)
{
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), mark = PROXY_MARK, ret = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    connect(fd, sa, sl) || getsockname(fd, (struct sockaddr *)&me, &ml)) {
		ret = -errno;
		goto out;
	}
	if (sa->sa_family == AF_INET &&
	    ((struct sockaddr_in *)&me)->sin_addr.s_addr == ((const struct sockaddr_in *)sa)->sin_addr.s_addr)
		ret = -EPERM;
	if (sa->sa_family == AF_INET6 &&
	    !memcmp(&((struct sockaddr_in6 *)&me)->sin6_addr,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16))
		ret = -EPERM;
out:
	close(fd);
	return ret;
}

static void px__sockopts(int fd)
{
	int one = 1, idle = PX_KEEPIDLE_S, intvl = PX_KEEPINTVL_S, cnt = PX_KEEPCNT;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Answers a failed dial: 504 for a timeout, 502 otherwise. */
static void px__dial_failed(struct proxy_conn *c, int err)
{
	if (err == ETIMEDOUT) {
		stats_drop(DROP_proxy_dial_timeout);
		px__answer(c, 504, "%s: %s", c->target, strerror(err));
	} else {
		stats_drop(DROP_proxy_dial_failed);
		px__answer(c, 502, "%s: %s", c->target, strerror(err));
	}
}

/* Starts a non-blocking, marked connect to t. Bytes the client sent
 * behind its request head (from head_len on) go to the target first. */
static void px__dial(struct proxy_conn *c, const struct proxy_target *t, size_t head_len)
{
	struct proxy *px = c->px;
	struct sockaddr_storage ss;
	socklen_t sl = px__sockaddr(t, &ss);
	int mark = PROXY_MARK, fd, err;

	err = px__route_check((struct sockaddr *)&ss, sl);
	if (err == -EPERM || err == -EACCES) {
		stats_drop(DROP_proxy_forbidden);
		px__answer(c, 403, "the seed itself answers for %s: refused", c->target);
		return;
	}
	if (err) {
		px__dial_failed(c, -err);
		return;
	}
	if (!c->relay && !(c->relay = malloc(2 * (size_t)PROXY_BUF))) {
		px__answer(c, 500, "out of memory");
		return;
	}
	c->c2t = (struct px_buf){ .d = c->relay };
	c->t2c = (struct px_buf){ .d = c->relay + PROXY_BUF };
	memcpy(c->c2t.d, c->head + head_len, c->head_len - head_len);
	c->c2t.len = c->head_len - head_len;

	fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		px__dial_failed(c, errno);
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		err = errno;
		close(fd);
		stats_drop(DROP_proxy_dial_failed);
		px__answer(c, 502, "cannot mark the connection (SO_MARK needs CAP_NET_ADMIN): %s",
			   strerror(err));
		return;
	}
	px__sockopts(fd);
	if (connect(fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		px__dial_failed(c, err);
		return;
	}
	c->tfd = fd;
	if (uv_poll_init_socket(px->loop, &c->tpoll, fd)) {
		close(fd);
		c->tfd = -1;
		px__answer(c, 500, "cannot watch the target's socket");
		return;
	}
	c->tpoll.data = c;
	c->tpoll_open = true;
	c->open_handles++;
	c->state = PX_DIAL;
	c->tev = UV_WRITABLE;
	uv_poll_start(&c->tpoll, UV_WRITABLE, px__target_cb);
	/* The client is not read while dialing: what it sends waits. */
	px__set_poll(c, 0, UV_WRITABLE);
	px__arm(c, px->p.dial_timeout_ms);
}

static void px__connected(struct proxy_conn *c)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->tfd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		px__dial_failed(c, err);
		return;
	}
	stats_inc(STAT_proxy_ok, 1);
	c->status = 200;
	memcpy(c->t2c.d, ok, sizeof(ok) - 1);
	c->t2c.len = c->hdr_left = sizeof(ok) - 1;
	c->state = PX_RELAY;
	c->last_ms = px__now(c);
	px__arm(c, c->px->p.idle_timeout_ms);
	px__pump(c);
}

/* ---- relaying ---- */

static size_t px__used(const struct px_buf *b)
{
	return b->len - b->off;
}

static void px__consumed(struct px_buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

/* Room at the end, moving the waiting bytes to the front when the end is
 * reached (OpenSSL may be retrying a write from t2c: the context allows
 * a moving write buffer, and the bytes stay the same). */
static size_t px__room(struct px_buf *b)
{
	if (b->len == PROXY_BUF && b->off) {
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	return PROXY_BUF - b->len;
}

/* Moves whatever can move without blocking, in both directions, then
 * watches exactly what the next step waits for. */
/* After an SSL_write or SSL_shutdown toward the client that did not
 * complete: note what it waits for. On a real error the connection is
 * closed and false returned. */
static bool px__client_write_wait(struct proxy_conn *c, int r)
{
	char why[200] = "";

	switch (px__ssl_io(c, r, why, sizeof(why))) {
	case PX_IO_WANT_WRITE:
		c->cw_blocked = true;
		return true;
	case PX_IO_WANT_READ:
		c->cw_wants_r = true;
		return true;
	default:
		px__close(c, false, "client: %s", why[0] ? why : "connection closed");
		return false;
	}
}

static void px__pump(struct proxy_conn *c)
{
	bool moved, any = false;
	char why[200] = "";
	int r, cev, tev;
	ssize_t n;

	do {
		moved = false;
		/* client -> c2t */
		if (!c->c_eof && px__room(&c->c2t)) {
			px__io_begin();
			r = SSL_read(c->ssl, c->c2t.d + c->c2t.len, (int)px__room(&c->c2t));
			c->cr_wants_w = false;
			if (r > 0) {
				c->c2t.len += (size_t)r;
				moved = true;
			} else {
				switch (px__ssl_io(c, r, why, sizeof(why))) {
				case PX_IO_WANT_READ:
					break;
				case PX_IO_WANT_WRITE:
					c->cr_wants_w = true;
					break;
				case PX_IO_EOF:
					c->c_eof = moved = true;
					if (!c->first_eof)
						c->first_eof = "client";
					break;
				case PX_IO_ERROR:
					px__close(c, false, "client: %s", why);
					return;
				}
			}
		}
		/* c2t -> target */
		if (px__used(&c->c2t)) {
			n = send(c->tfd, c->c2t.d + c->c2t.off, px__used(&c->c2t), MSG_NOSIGNAL);
			if (n > 0) {
				px__consumed(&c->c2t, (size_t)n);
				c->to_target += (uint64_t)n;
				stats_inc(STAT_proxy_to_target_bytes, (uint64_t)n);
				moved = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				px__close(c, false, "target: %s", strerror(errno));
				return;
			}
		}
		if (c->c_eof && !px__used(&c->c2t) && !c->t_shut) {
			shutdown(c->tfd, SHUT_WR);
			c->t_shut = true;
		}
		/* target -> t2c */
		if (!c->t_eof && px__room(&c->t2c)) {
			n = recv(c->tfd, c->t2c.d + c->t2c.len, px__room(&c->t2c), 0);
			if (n > 0) {
				c->t2c.len += (size_t)n;
				moved = true;
			} else if (n == 0) {
				c->t_eof = moved = true;
				if (!c->first_eof)
					c->first_eof = "target";
			} else if (errno != EAGAIN && errno != EINTR) {
				px__close(c, false, "target: %s", strerror(errno));
				return;
			}
		}
		/* t2c -> client. Our 200 goes in a TLS record of its own: a
		 * client that reads the answer with a buffered reader (Go's
		 * egress dialer checks that nothing follows it) must not get
		 * a banner of a server-speaks-first target with it. */
		if (px__used(&c->t2c)) {
			size_t len = c->hdr_left ? c->hdr_left : px__used(&c->t2c);

			px__io_begin();
			r = SSL_write(c->ssl, c->t2c.d + c->t2c.off, (int)len);
			c->cw_blocked = c->cw_wants_r = false;
			if (r > 0) {
				size_t hdr = (size_t)r < c->hdr_left ? (size_t)r : c->hdr_left;

				c->hdr_left -= hdr;
				c->to_client += (uint64_t)r - hdr;
				stats_inc(STAT_proxy_to_client_bytes, (uint64_t)r - hdr);
				px__consumed(&c->t2c, (size_t)r);
				moved = true;
			} else {
				if (!px__client_write_wait(c, r))
					return;
			}
		}
		if (c->t_eof && !px__used(&c->t2c) && !c->c_shut) {
			px__io_begin();
			r = SSL_shutdown(c->ssl);
			if (r >= 0) {
				shutdown(c->cfd, SHUT_WR);
				c->c_shut = true;
			} else {
				if (!px__client_write_wait(c, r))
					return;
			}
		}
		any |= moved;
	} while (moved);

	if (any)
		c->last_ms = px__now(c);
	if (c->c_eof && c->t_eof && c->t_shut && c->c_shut) {
		px__close(c, false, "%s closed first", c->first_eof);
		return;
	}
	cev = ((!c->c_eof && px__room(&c->c2t)) || c->cw_wants_r ? UV_READABLE : 0) |
	      (c->cw_blocked || c->cr_wants_w ? UV_WRITABLE : 0);
	tev = (!c->t_eof && px__room(&c->t2c) ? UV_READABLE : 0) |
	      (px__used(&c->c2t) ? UV_WRITABLE : 0);
	px__set_poll(c, cev, tev);
}

/* ---- the client's side before the relay ---- */

static void px__decide(struct proxy_conn *c, const struct proxy_request *req)
{
	struct proxy *px = c->px;

	snprintf(c->target, sizeof(c->target), "%s", req->target_str);
	switch (req->status) {
	case 200:
		break;
	case 403:
		stats_drop(DROP_proxy_forbidden);
		px__answer(c, 403, "%s: %s", c->target, req->why);
		return;
	case 405:
		stats_drop(DROP_proxy_method);
		px__answer(c, 405, "%s", req->why);
		return;
	default:
		stats_drop(DROP_proxy_bad_request);
		px__answer(c, req->status, "%s", req->why);
		return;
	}
	if (px->p.tunnel_up && !px->p.tunnel_up(px->p.owner)) {
		stats_drop(DROP_proxy_no_tunnel);
		px__answer(c, 503, "no tunnel to the shoot is up");
		return;
	}
	px__dial(c, &req->target, req->head_len);
}

static void px__read_head(struct proxy_conn *c)
{
	struct proxy_request req;
	char why[200] = "";

	for (;;) {
		int r;

		px__io_begin();
		r = SSL_read(c->ssl, c->head + c->head_len, (int)(sizeof(c->head) - c->head_len));
		if (r <= 0) {
			switch (px__ssl_io(c, r, why, sizeof(why))) {
			case PX_IO_WANT_READ:
				px__set_poll(c, UV_READABLE, 0);
				return;
			case PX_IO_WANT_WRITE:
				px__set_poll(c, UV_READABLE | UV_WRITABLE, 0);
				return;
			case PX_IO_EOF:
				px__close(c, false, "client closed before a complete request");
				return;
			case PX_IO_ERROR:
				px__close(c, false, "client: %s", why);
				return;
			}
		}
		c->head_len += (size_t)r;
		/* Complete or refused at PROXY_HEAD_MAX = sizeof(head) at the
		 * latest, so the buffer never fills without a decision. */
		if (proxy_parse_head(c->head, c->head_len, c->px->p.networks, &req) == PROXY_HEAD_DONE) {
			px__decide(c, &req);
			return;
		}
	}
}

static void px__handshake(struct proxy_conn *c)
{
	struct proxy *px = c->px;
	char why[200];
	int r;

	px__io_begin();
	r = SSL_do_handshake(c->ssl);
	if (r != 1) {
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			px__set_poll(c, UV_READABLE, 0);
			return;
		case SSL_ERROR_WANT_WRITE:
			px__set_poll(c, UV_READABLE | UV_WRITABLE, 0);
			return;
		}
		tls_failure_reason(c->ssl, r, why, sizeof(why));
		stats_drop(DROP_proxy_tls);
		stats_error(conn_now_ms(), c->client, "(proxy client)", why);
		px__close(c, true, "TLS handshake failed: %s", why);
		return;
	}
	c->handshaking = false;
	px->handshaking--;
	if (tls_peer_check(c->ssl, proxy_allowed_clients, proxy_n_allowed_clients,
			   c->identity, sizeof(c->identity))) {
		stats_drop(DROP_proxy_identity);
		snprintf(why, sizeof(why), "proxy: client identity not allowed: %s", c->identity);
		stats_error(conn_now_ms(), c->client, c->identity, why);
		c->warn = true;
		px__answer(c, 403, "client certificate identity `%s' is not allowed (allowed: %s)",
			   c->identity, proxy_allowed_clients[0]);
		return;
	}
	c->state = PX_HEAD;
	px__read_head(c);
}

static void px__client_cb(uv_poll_t *h, int status, int events)
{
	struct proxy_conn *c = h->data;

	if (status < 0) {
		int err = 0;
		socklen_t len = sizeof(err);

		/* libuv stops the handle and hides the reason: ask the socket. */
		c->cev = 0;
		getsockopt(c->cfd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (c->state == PX_ANSWER || c->state == PX_LINGER)
			px__close(c, c->warn, "answered %d: %s (then the client reset)", c->status, c->why);
		else
			px__close(c, false, "client: %s", err ? strerror(err) : uv_strerror(status));
		return;
	}
	switch (c->state) {
	case PX_TLS:
		px__handshake(c);
		return;
	case PX_HEAD:
		px__read_head(c);
		return;
	case PX_RELAY:
		px__pump(c);
		return;
	case PX_ANSWER:
		px__answer_pump(c);
		return;
	case PX_LINGER:
		px__linger(c);
		return;
	default:
		return;
	}
}

static void px__target_cb(uv_poll_t *h, int status, int events)
{
	struct proxy_conn *c = h->data;
	int err = 0;
	socklen_t len = sizeof(err);

	if (status < 0) {
		c->tev = 0;
		getsockopt(c->tfd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (c->state == PX_DIAL)
			px__dial_failed(c, err ? err : ECONNREFUSED);
		else
			px__close(c, false, "target: %s", err ? strerror(err) : uv_strerror(status));
		return;
	}
	if (c->state == PX_DIAL)
		px__connected(c);
	else if (c->state == PX_RELAY)
		px__pump(c);
}

static void px__timer_cb(uv_timer_t *t)
{
	struct proxy_conn *c = t->data;
	struct proxy *px = c->px;
	uint64_t idle;

	switch (c->state) {
	case PX_TLS:
	case PX_HEAD:
		stats_drop(DROP_proxy_timeout);
		px__close(c, false, "no %s within %u ms", c->state == PX_TLS ? "TLS handshake" : "complete request",
			  px->p.handshake_ms);
		return;
	case PX_DIAL:
		stats_drop(DROP_proxy_dial_timeout);
		px__answer(c, 504, "%s did not answer within %u s", c->target, px->p.dial_timeout_ms / 1000);
		return;
	case PX_RELAY:
		idle = px__now(c) - c->last_ms;
		if (idle < px->p.idle_timeout_ms) {
			px__arm(c, px->p.idle_timeout_ms - idle);
			return;
		}
		px__close(c, false, "idle for %llu s", (unsigned long long)(idle / 1000));
		return;
	default:
		px__close(c, c->warn, "answered %d: %s", c->status, c->why);
		return;
	}
}

/* ---- accepting ---- */

static void px__format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, a, sizeof(a));
			snprintf(buf, len, "%s:%u", a, ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
		}
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

static int px__conn_new(struct proxy *px, int fd, const struct sockaddr_storage *ss)
{
	struct proxy_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (!(c->ssl = SSL_new(*px->p.ctx)) || !SSL_set_fd(c->ssl, fd)) {
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_accept_state(c->ssl);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A client that closes without close_notify ends its direction
	 * like one that sends it; kube-apiserver's Go client sends it. */
	SSL_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	px__sockopts(fd);
	c->px = px;
	c->cfd = fd;
	c->tfd = -1;
	c->id = ++px->next_id;
	c->start_ms = c->last_ms = uv_now(px->loop);
	px__format_addr(ss, c->client, sizeof(c->client));
	uv_poll_init_socket(px->loop, &c->cpoll, fd);
	uv_timer_init(px->loop, &c->timer);
	c->cpoll.data = c->timer.data = c;
	c->open_handles = 2;
	c->state = PX_TLS;
	c->handshaking = true;
	px->handshaking++;
	if ((c->next = px->conns))
		c->next->prev = c;
	px->conns = c;
	px->nconns++;
	stats_inc(STAT_proxy_accepted, 1);
	stats.v[STAT_proxy_open] = px->nconns;
	/* The handshake starts when the ClientHello arrives. */
	c->cev = UV_READABLE;
	uv_poll_start(&c->cpoll, UV_READABLE, px__client_cb);
	px__arm(c, px->p.handshake_ms);
	return 0;
}

static void px__accept(uv_poll_t *h, int status, int events)
{
	struct proxy *px = h->data;

	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(px->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (px->nconns >= PROXY_MAX_CONNS || px->handshaking >= PROXY_MAX_HANDSHAKES) {
			char a[64];

			px__format_addr(&ss, a, sizeof(a));
			stats_drop(DROP_proxy_limit);
			log_warn(&(struct log_ctx){ .remote = a },
				 "proxy: connection refused: %zu open, %zu handshaking (limits %d, %d)",
				 px->nconns, px->handshaking, PROXY_MAX_CONNS, PROXY_MAX_HANDSHAKES);
			close(fd);
			continue;
		}
		if (px__conn_new(px, fd, &ss))
			close(fd);
	}
}

static void px__listen_closed(uv_handle_t *h)
{
	struct proxy *px = h->data;

	close(px->listen_fd);
	px->listen_fd = -1;
}

static int px__bind(const struct sockaddr *sa, socklen_t sl, int *out)
{
	int one = 1, zero = 0, fd, err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)	/* [::] serves IPv4 clients too */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, sl) || listen(fd, 128)) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

int proxy_start(struct proxy *px, uv_loop_t *loop, const char *listen,
		const struct proxy_params *p, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char host[256];
	uint16_t port;
	int ret, fd = -1;

	px->loop = loop;
	px->p = *p;
	if (!px->p.dial_timeout_ms)
		px->p.dial_timeout_ms = PROXY_DIAL_TIMEOUT_MS;
	if (!px->p.idle_timeout_ms)
		px->p.idle_timeout_ms = PROXY_IDLE_TIMEOUT_MS;
	px->listen_fd = -1;
	px->open = false;
	if (cfg_split_hostport(listen, host, sizeof(host), &port) ||
	    getaddrinfo(host, NULL, &hints, &ai)) {
		snprintf(err, errlen, "--proxy-listen: `%s' is not a numeric ADDR:PORT (e.g. [::]:9443)", listen);
		return -EINVAL;
	}
	((struct sockaddr_in *)ai->ai_addr)->sin_port = htons(port);	/* same offset in sockaddr_in6 */
	ret = px__bind(ai->ai_addr, ai->ai_addrlen, &fd);
	if (ret == -EAFNOSUPPORT && ai->ai_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr)) {
		/* "[::]" on a host with IPv6 turned off: all of IPv4. */
		struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(port) };
		ret = px__bind((struct sockaddr *)&any, sizeof(any), &fd);
	}
	freeaddrinfo(ai);
	if (ret) {
		snprintf(err, errlen, "--proxy-listen %s: cannot listen: %s%s", listen, strerror(-ret),
			 ret == -EADDRINUSE ? " (another process uses this port; choose another)" :
			 ret == -EADDRNOTAVAIL ? " (no interface has this address; use [::] for all)" : "");
		return ret;
	}
	px->listen_fd = fd;
	uv_poll_init_socket(loop, &px->listen_poll, fd);
	px->listen_poll.data = px;
	uv_poll_start(&px->listen_poll, UV_READABLE, px__accept);
	px->open = true;
	return 0;
}

void proxy_stop(struct proxy *px)
{
	if (px->open) {
		px->open = false;
		uv_poll_stop(&px->listen_poll);
		uv_close((uv_handle_t *)&px->listen_poll, px__listen_closed);
	}
	while (px->conns)
		px__close(px->conns, false, "vpn-server shutting down");
}

void proxy_stats(const struct proxy *px)
{
	stats.v[STAT_proxy_open] = px->nconns;
}

static const char *const px__cols[] = {
	"id", "identity", "client", "target", "state", "to_target_bytes", "to_client_bytes",
	"age_s", "idle_s",
};

void proxy_show(struct ctl_out *o, const struct proxy *px)
{
	const struct proxy_conn *c = px->conns;
	uint64_t now = uv_now(px->loop);

	ctl_table_begin(o, "proxy", px__cols, sizeof(px__cols) / sizeof(px__cols[0]));
	/* Oldest first: the list is newest first, so from its tail. */
	while (c && c->next)
		c = c->next;
	for (; c; c = c->prev) {
		const char *const *col = px__cols;
		const char *state = px__state_names[c->state];

		if (c->state == PX_RELAY && (c->c_eof || c->t_eof))
			state = c->c_eof ? "half-closed (client)" : "half-closed (target)";
		ctl_row_begin(o);
		ctl_cell_u64(o, *col++, c->id);
		ctl_cell_str(o, *col++, c->identity[0] ? c->identity : "-");
		ctl_cell_str(o, *col++, c->client);
		ctl_cell_str(o, *col++, c->target[0] ? c->target : "-");
		ctl_cell_str(o, *col++, state);
		ctl_cell_u64(o, *col++, c->to_target);
		ctl_cell_u64(o, *col++, c->to_client);
		ctl_cell_u64(o, *col++, (now - c->start_ms) / 1000);
		ctl_cell_u64(o, *col++, (now - c->last_ms) / 1000);
		ctl_row_end(o);
	}
	ctl_table_end(o);
}
