#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tunnel/config.h"
#include "tunnel/http.h"

/* ---- the output buffer ---- */

/* Room for n more bytes and a NUL; false (and failed set) if not. */
static bool http__buf_reserve(struct http_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *d;

	if (b->failed)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (!(d = realloc(b->data, cap))) {
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void http_buf_append(struct http_buf *b, const void *p, size_t n)
{
	if (!http__buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void http_buf_puts(struct http_buf *b, const char *s)
{
	http_buf_append(b, s, strlen(s));
}

void http_buf_printf(struct http_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!http__buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void http_buf_free(struct http_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- the request parser ---- */

/* tchar of RFC 9110 section 5.6.2: what method and field names are made of. */
static bool http__tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Field values: visible characters, obs-text, space and tab. */
static bool http__vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int http__fail(struct http_request *req, int status)
{
	req->status = status;
	return HTTP_PARSE_ERROR;
}

/* "http://host:port/path?q" -> "/path?q" (RFC 9112 section 3.2.2: a
 * server must accept the absolute form). Returns the offset of the path
 * in the target, len if it has none, or -1 if it is not absolute. */
static long http__absolute_path(const char *t, size_t len)
{
	size_t i;

	if (len > 7 && !strncasecmp(t, "http://", 7))
		i = 7;
	else if (len > 8 && !strncasecmp(t, "https://", 8))
		i = 8;
	else
		return -1;
	if (t[i] == '/' || t[i] == '?')
		return -1;	/* no authority */
	while (i < len && t[i] != '/' && t[i] != '?')
		i++;
	return (long)i;
}

static int http__request_line(const char *l, size_t len, struct http_request *req)
{
	const char *sp1, *sp2, *v;
	long off;

	for (sp1 = l; sp1 < l + len && http__tchar((unsigned char)*sp1); sp1++)
		;
	if (sp1 == l || sp1 == l + len || *sp1 != ' ')
		return http__fail(req, 400);
	req->method_str = l;
	req->method_len = (size_t)(sp1 - l);
	if (req->method_len == 3 && !memcmp(l, "GET", 3))
		req->method = HTTP_METHOD_GET;
	else if (req->method_len == 4 && !memcmp(l, "HEAD", 4))
		req->method = HTTP_METHOD_HEAD;
	else
		req->method = HTTP_METHOD_OTHER;

	/* The target: visible ASCII only, no spaces. */
	req->target = sp1 + 1;
	for (sp2 = req->target; sp2 < l + len && *sp2 > 0x20 && *sp2 < 0x7f; sp2++)
		;
	req->target_len = (size_t)(sp2 - req->target);
	if (!req->target_len || sp2 == l + len || *sp2 != ' ')
		return http__fail(req, 400);	/* also HTTP/0.9 "GET /" */

	/* "HTTP/" DIGIT "." DIGIT, and nothing after it. */
	v = sp2 + 1;
	if ((size_t)(l + len - v) != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return http__fail(req, 400);
	if (v[5] != '1')
		return http__fail(req, 505);
	/* Later 1.x minor versions are compatible with 1.1 (RFC 9110 2.5). */
	req->version = v[7] == '0' ? 10 : 11;

	if (req->target[0] == '/') {
		req->path = req->target;
	} else if ((off = http__absolute_path(req->target, req->target_len)) >= 0) {
		req->path = req->target + off;
	} else {
		return http__fail(req, 400);	/* "*", authority-form, junk */
	}
	req->path_len = (size_t)(req->target + req->target_len - req->path);
	for (size_t i = 0; i < req->path_len; i++)
		if (req->path[i] == '?')
			req->path_len = i;
	if (!req->path_len)
		req->path = "/", req->path_len = 1;	/* "http://host" or "http://host?q" */
	return 0;
}

/* Returns 0, or -1 if the line is no valid field line; *is_host says
 * whether it was a Host field. */
static int http__header_line(const char *l, size_t len, bool *is_host)
{
	size_t i;

	/* A leading space or tab is obs-fold (or junk): RFC 9112 lets a
	 * server reject it, and we do, as we do space before the colon. */
	for (i = 0; i < len && http__tchar((unsigned char)l[i]); i++)
		;
	if (i == 0 || i == len || l[i] != ':')
		return -1;
	*is_host = i == 4 && !strncasecmp(l, "host", 4);
	for (i++; i < len; i++)
		if (!http__vchar((unsigned char)l[i]))
			return -1;
	return 0;
}

/* Bytes of a line whose end has not arrived yet: nothing that a complete
 * line could never hold (a CR may still be followed by its LF). */
static bool http__partial_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r' && i == n - 1)
			break;
		if (!http__vchar(c))
			return false;
	}
	return true;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	unsigned hosts = 0;
	bool have_line = false;
	size_t pos = 0;

	memset(req, 0, sizeof(*req));
	while (pos < len) {
		const char *lf = memchr(buf + pos, '\n', len - pos);
		size_t end, l;

		if (!lf) {
			if (!http__partial_ok(buf + pos, len - pos))
				return http__fail(req, 400);
			break;
		}
		end = (size_t)(lf - buf);
		if (end + 1 > HTTP_HEAD_MAX)
			return http__fail(req, have_line ? 431 : 414);
		l = end - pos;
		if (l && buf[end - 1] == '\r')
			l--;
		if (memchr(buf + pos, '\r', l) || memchr(buf + pos, '\0', l))
			return http__fail(req, 400);	/* bare CR, NUL */

		if (!have_line) {
			/* RFC 9112 section 2.2: ignore empty lines before the
			 * request line (left over from a previous body). */
			if (l) {
				if (http__request_line(buf + pos, l, req))
					return HTTP_PARSE_ERROR;
				have_line = true;
			}
		} else if (l == 0) {
			/* RFC 9112 section 3.2: an HTTP/1.1 request needs
			 * exactly one Host. */
			if (req->version >= 11 && hosts != 1)
				return http__fail(req, 400);
			req->head_len = end + 1;
			return HTTP_PARSE_COMPLETE;
		} else {
			bool is_host = false;

			if (http__header_line(buf + pos, l, &is_host))
				return http__fail(req, 400);
			if (++req->n_headers > HTTP_HEADERS_MAX)
				return http__fail(req, 431);
			hosts += is_host;
		}
		pos = end + 1;
	}
	if (len >= HTTP_HEAD_MAX)
		return http__fail(req, have_line ? 431 : 414);
	return HTTP_PARSE_INCOMPLETE;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* ---- the server ---- */

enum http_client_state {
	HTTP_READING,	/* the request head */
	HTTP_WRITING,	/* the answer is queued; not reading */
	HTTP_LINGER,	/* FIN sent; discarding input until EOF */
};

struct http_client {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	uv_shutdown_t sreq;
	struct http_server *srv;
	struct http_client *prev, *next;
	enum http_client_state state;
	bool closing;
	int open_handles;
	struct http_buf out;	/* the answer, alive until the client is freed */
	size_t len;
	char buf[HTTP_HEAD_MAX];
};

static void http__client_free(uv_handle_t *h)
{
	struct http_client *cl = h->data;

	if (--cl->open_handles)
		return;
	http_buf_free(&cl->out);
	free(cl);
}

/* Pending write and shutdown requests are cancelled by uv_close (their
 * callbacks see UV_ECANCELED and closing set), and the memory they use
 * lives until both handles are closed. */
static void http__client_close(struct http_client *cl)
{
	struct http_server *s = cl->srv;

	if (cl->closing)
		return;
	cl->closing = true;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		s->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	s->nclients--;
	uv_close((uv_handle_t *)&cl->timer, http__client_free);
	uv_close((uv_handle_t *)&cl->tcp, http__client_free);
}

static void http__timeout(uv_timer_t *t)
{
	http__client_close(t->data);
}

static void http__alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct http_client *cl = h->data;

	/* While lingering the whole buffer takes input to be thrown away.
	 * While reading there is always room: the parser refuses a full
	 * buffer. */
	if (cl->state == HTTP_LINGER)
		*b = uv_buf_init(cl->buf, sizeof(cl->buf));
	else
		*b = uv_buf_init(cl->buf + cl->len, (unsigned)(sizeof(cl->buf) - cl->len));
}

static void http__shutdown_done(uv_shutdown_t *req, int status)
{
	struct http_client *cl = req->data;

	if (status < 0)
		http__client_close(cl);
}

static void http__read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void http__write_done(uv_write_t *req, int status)
{
	struct http_client *cl = req->data;
	struct http_server *s = cl->srv;

	if (cl->closing)
		return;
	if (status < 0 || uv_shutdown(&cl->sreq, (uv_stream_t *)&cl->tcp, http__shutdown_done) ||
	    uv_read_start((uv_stream_t *)&cl->tcp, http__alloc, http__read)) {
		http__client_close(cl);
		return;
	}
	cl->state = HTTP_LINGER;
	/* The linger time never extends the deadline by more than itself. */
	uv_timer_start(&cl->timer, http__timeout, s->linger_ms, 0);
}

static void http__date(char *d, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(d, n, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		snprintf(d, n, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void http__answer(struct http_client *cl, int rc, const struct http_request *req)
{
	struct http_server *s = cl->srv;
	struct http_response res = { .status = 200 };
	/* No body to HEAD, even with an error: the parser sets the method
	 * as soon as the request line is read. */
	bool body = req->method != HTTP_METHOD_HEAD;
	char date[64];
	uv_buf_t b;

	if (rc == HTTP_PARSE_ERROR) {
		res.status = req->status;
	} else if (req->method == HTTP_METHOD_OTHER) {
		res.status = 405;
	} else {
		size_t i;

		for (i = 0; i < s->nroutes; i++)
			if (strlen(s->routes[i].path) == req->path_len &&
			    !memcmp(s->routes[i].path, req->path, req->path_len))
				break;
		if (i < s->nroutes)
			s->routes[i].fn(req, &res, s->owner);
		else
			res.status = 404;
	}
	if (res.body.failed)
		res.status = 500;
	/* Errors carry their own short text body, whatever a handler wrote. */
	if (res.status >= 400 && (res.body.failed || !res.body.len)) {
		http_buf_free(&res.body);
		res.content_type = NULL;
		http_buf_printf(&res.body, "%d %s\n", res.status, http_reason(res.status));
	}

	http__date(date, sizeof(date));
	http_buf_printf(&cl->out,
			"HTTP/1.1 %d %s\r\n"
			"Content-Type: %s\r\n"
			"Content-Length: %zu\r\n"
			"Date: %s\r\n"
			"Cache-Control: no-store\r\n"
			"%s"
			"Connection: close\r\n"
			"\r\n",
			res.status, http_reason(res.status),
			res.content_type ? res.content_type : "text/plain; charset=utf-8",
			res.body.len, date, res.status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (body && res.body.len)
		http_buf_append(&cl->out, res.body.data, res.body.len);
	http_buf_free(&res.body);
	if (cl->out.failed) {
		http__client_close(cl);
		return;
	}

	/* Stop reading while the answer goes out: nothing read now would be
	 * used, and the deadline still covers a client that does not read. */
	uv_read_stop((uv_stream_t *)&cl->tcp);
	cl->state = HTTP_WRITING;
	cl->wreq.data = cl;
	cl->sreq.data = cl;
	b = uv_buf_init(cl->out.data, (unsigned)cl->out.len);
	if (uv_write(&cl->wreq, (uv_stream_t *)&cl->tcp, &b, 1, http__write_done))
		http__client_close(cl);
}

static void http__read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct http_client *cl = st->data;
	struct http_request req;
	int rc;

	if (n < 0) {
		/* EOF or error: while reading, a half-sent request is not
		 * worth an answer; while lingering, it is what we wait for. */
		http__client_close(cl);
		return;
	}
	if (n == 0 || cl->state != HTTP_READING)
		return;
	cl->len += (size_t)n;
	rc = http_parse_request(cl->buf, cl->len, &req);
	if (rc != HTTP_PARSE_INCOMPLETE)
		http__answer(cl, rc, &req);
}

static void http__reject_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	if (h == (uv_handle_t *)&s->spare)
		s->spare_busy = false;
	else
		free(h);
}

/* Over the limit: a fixed 503, written only if the socket takes it at
 * once, then the connection is closed. The connection must be taken
 * whatever happens: libuv stops watching the listener until it is, so
 * when malloc fails the server's spare handle is used. */
static void http__reject(struct http_server *s)
{
	static const char busy[] =
		"HTTP/1.1 503 Service Unavailable\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 24\r\n"
		"Connection: close\r\n"
		"\r\n"
		"503 too many connections";
	uv_tcp_t *t = malloc(sizeof(*t));
	uv_buf_t b = uv_buf_init((char *)busy, sizeof(busy) - 1);

	if (!t) {
		if (s->spare_busy)
			return;
		t = &s->spare;
		s->spare_busy = true;
	}
	uv_tcp_init(s->loop, t);
	t->data = s;
	if (!uv_accept((uv_stream_t *)&s->tcp, (uv_stream_t *)t))
		uv_try_write((uv_stream_t *)t, &b, 1);
	uv_close((uv_handle_t *)t, http__reject_closed);
}

static void http__connection(uv_stream_t *server, int status)
{
	struct http_server *s = server->data;
	struct http_client *cl;

	if (status < 0)
		return;
	if (s->nclients >= s->max_clients || !(cl = calloc(1, sizeof(*cl)))) {
		http__reject(s);
		return;
	}
	cl->srv = s;
	cl->tcp.data = cl;
	cl->timer.data = cl;
	cl->open_handles = 2;
	uv_tcp_init(s->loop, &cl->tcp);
	uv_timer_init(s->loop, &cl->timer);
	if ((cl->next = s->clients))
		cl->next->prev = cl;
	s->clients = cl;
	s->nclients++;
	if (uv_accept(server, (uv_stream_t *)&cl->tcp) ||
	    uv_read_start((uv_stream_t *)&cl->tcp, http__alloc, http__read)) {
		http__client_close(cl);
		return;
	}
	uv_timer_start(&cl->timer, http__timeout, s->timeout_ms, 0);
}

static const char *http__hint(int err)
{
	switch (err) {
	case UV_EADDRINUSE:
		return " (another process, or another vpn-server or vpn-shoot, uses this port; choose another)";
	case UV_EACCES:
		return " (ports below 1024 need CAP_NET_BIND_SERVICE; choose a higher one)";
	case UV_EADDRNOTAVAIL:
		return " (no interface has this address; use [::] or 0.0.0.0 for all)";
	default:
		return "";
	}
}

static int http__bind_listen(struct http_server *s, const struct sockaddr *sa)
{
	int err;

	if ((err = uv_tcp_bind(&s->tcp, sa, 0)))
		return err;
	/* libuv reports EADDRINUSE from listen, not from bind. */
	return uv_listen((uv_stream_t *)&s->tcp, 64, http__connection);
}

int http_server_start(struct http_server *s, uv_loop_t *loop, const char *listen,
		      const struct http_route *routes, size_t n, void *owner,
		      char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	char host[256], port[8];
	uint16_t portnum;
	int rc, namelen;

	s->loop = loop;
	s->routes = routes;
	s->nroutes = n;
	s->owner = owner;
	s->clients = NULL;
	s->nclients = 0;
	s->port = 0;
	s->open = false;
	if (!s->timeout_ms)
		s->timeout_ms = HTTP_TIMEOUT_MS;
	if (!s->linger_ms)
		s->linger_ms = HTTP_LINGER_MS;
	if (!s->max_clients)
		s->max_clients = HTTP_MAX_CLIENTS;

	if (cfg_split_hostport(listen, host, sizeof(host), &portnum)) {
		snprintf(err, errlen, "--metrics-listen: `%s' is not ADDR:PORT (e.g. [::]:15000 or 127.0.0.1:15000)",
			 listen);
		rc = -EINVAL;
		goto out;
	}
	snprintf(port, sizeof(port), "%u", portnum);
	if ((rc = getaddrinfo(host, port, &hints, &ai))) {
		snprintf(err, errlen, "--metrics-listen: cannot resolve `%s': %s", host, gai_strerror(rc));
		rc = -EINVAL;
		goto out;
	}

	if ((rc = uv_tcp_init(loop, &s->tcp))) {
		snprintf(err, errlen, "--metrics-listen %s: %s", listen, uv_strerror(rc));
		goto out;
	}
	s->tcp.data = s;
	s->open = true;
	rc = http__bind_listen(s, ai->ai_addr);
	if (rc == UV_EAFNOSUPPORT && ai->ai_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr)) {
		/* "[::]" on a host with IPv6 turned off: all of IPv4. */
		struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(portnum) };
		rc = http__bind_listen(s, (const struct sockaddr *)&any);
	}
	if (rc) {
		snprintf(err, errlen, "--metrics-listen %s: cannot listen: %s%s", listen,
			 uv_strerror(rc), http__hint(rc));
		goto out;
	}
	namelen = sizeof(ss);
	if (!uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&ss, &namelen))
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
out:
	if (ai)
		freeaddrinfo(ai);
	if (rc)
		http_server_stop(s);
	return rc;
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->open ? s->port : 0;
}

void http_server_stop(struct http_server *s)
{
	if (!s->open)
		return;
	s->open = false;
	uv_close((uv_handle_t *)&s->tcp, NULL);
	while (s->clients)
		http__client_close(s->clients);
}

void http_handle_ok(const struct http_request *req, struct http_response *res, void *owner)
{
	http_buf_puts(&res->body, "ok\n");
}
