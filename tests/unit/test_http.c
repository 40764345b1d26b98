/* tunnel/http: the request parser, table-driven, and the server end to
 * end on loopback.
 *
 * The parser's rules (tunnel/http.h): GET and HEAD are served, any other
 * method token parses and is answered 405; HTTP/1.0 and 1.x only; lines
 * end with CRLF or LF; control characters, bare CR, obs-fold and a
 * missing version are 400; the head is at most HTTP_HEAD_MAX bytes (414
 * while the request line is unfinished, 431 after); bytes after the head
 * are left alone.
 *
 * The end-to-end tests run the server's loop in a second thread and act
 * as clients with blocking sockets in the test's thread, so that cmocka's
 * assertions stay on the thread that runs the test. Each test stops the
 * server through a uv_async and checks that uv_loop_close() returns 0,
 * i.e. every handle was closed. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "tunnel/http.h"
#include "tunnel/metrics.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the parser ---- */

enum { COMPLETE = HTTP_PARSE_COMPLETE, INCOMPLETE = HTTP_PARSE_INCOMPLETE, ERROR = HTTP_PARSE_ERROR };
enum { GET = HTTP_METHOD_GET, HEAD = HTTP_METHOD_HEAD, OTHER = HTTP_METHOD_OTHER };

struct parse_case {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	int rc;
	int status;		/* on ERROR */
	int method;		/* on COMPLETE */
	const char *path;
	unsigned version;
	size_t head_len;	/* 0: the whole input */
};

static const struct parse_case parse_cases[] = {
	{ "GET", "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:15000\r\n\r\n", 0, COMPLETE, 0, GET, "/metrics", 11, 0 },
	{ "HEAD", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 0, COMPLETE, 0, HEAD, "/healthz", 11, 0 },
	{ "HTTP/1.0 needs no Host", "GET /readyz HTTP/1.0\r\n\r\n", 0, COMPLETE, 0, GET, "/readyz", 10, 0 },
	{ "Prometheus' request",
	  "GET /metrics HTTP/1.1\r\nHost: 10.0.0.1:15000\r\nUser-Agent: Prometheus/2.42.0\r\n"
	  "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
	  "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
	  0, COMPLETE, 0, GET, "/metrics", 11, 0 },
	{ "kubelet probe",
	  "GET /healthz HTTP/1.1\r\nHost: 10.0.0.1:15000\r\nUser-Agent: kube-probe/1.28\r\nAccept: */*\r\n"
	  "Connection: close\r\n\r\n", 0, COMPLETE, 0, GET, "/healthz", 11, 0 },
	{ "query is not part of the path", "GET /metrics?name[]=x HTTP/1.0\r\n\r\n", 0, COMPLETE, 0, GET, "/metrics", 10, 0 },
	{ "absolute form", "GET http://h:15000/metrics?a HTTP/1.1\r\nHost: h:15000\r\n\r\n", 0, COMPLETE, 0, GET, "/metrics", 11, 0 },
	{ "absolute form, no path", "GET HTTPS://h HTTP/1.0\r\n\r\n", 0, COMPLETE, 0, GET, "/", 10, 0 },
	{ "HTTP/1.2 is 1.1", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 0, COMPLETE, 0, GET, "/", 11, 0 },
	{ "other method parses", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 0, COMPLETE, 0, OTHER, "/metrics", 11, 0 },
	{ "methods are case-sensitive", "get / HTTP/1.0\r\n\r\n", 0, COMPLETE, 0, OTHER, "/", 10, 0 },
	{ "LF-only lines", "GET /metrics HTTP/1.1\nHost: x\n\n", 0, COMPLETE, 0, GET, "/metrics", 11, 0 },
	{ "mixed line ends", "GET / HTTP/1.1\r\nHost: x\n\r\n", 0, COMPLETE, 0, GET, "/", 11, 0 },
	{ "empty lines before the request", "\r\n\nGET / HTTP/1.0\r\n\r\n", 0, COMPLETE, 0, GET, "/", 10, 0 },
	{ "empty value, odd spacing, obs-text", "GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\nX-B: \t v \xff\t\r\n\r\n", 0, COMPLETE, 0, GET, "/", 11, 0 },
	{ "host is case-insensitive", "GET / HTTP/1.1\r\nhOsT: x\r\n\r\n", 0, COMPLETE, 0, GET, "/", 11, 0 },
	{ "pipelined garbage is not looked at", "GET /healthz HTTP/1.0\r\n\r\n\x01\x02\x00garbage\r\n\r\n", 39,
	  COMPLETE, 0, GET, "/healthz", 10, 25 },
	{ "a pipelined second request", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", 0,
	  COMPLETE, 0, GET, "/a", 11, 28 },

	{ "nothing yet", "", 0, INCOMPLETE, 0, 0, NULL, 0, 0 },
	{ "empty lines only", "\r\n\r\n", 0, INCOMPLETE, 0, 0, NULL, 0, 0 },
	{ "half a request line", "GET /met", 0, INCOMPLETE, 0, 0, NULL, 0, 0 },
	{ "CR without its LF yet", "GET / HTTP/1.1\r", 0, INCOMPLETE, 0, 0, NULL, 0, 0 },
	{ "no empty line yet", "GET / HTTP/1.1\r\nHost: x\r\n", 0, INCOMPLETE, 0, 0, NULL, 0, 0 },
	{ "half a header", "GET / HTTP/1.1\r\nHo", 0, INCOMPLETE, 0, 0, NULL, 0, 0 },

	{ "missing version", "GET /metrics\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "HTTP/0.9", "GET /\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "method only", "GET\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "bad method", "GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "empty method", " / HTTP/1.1\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "space after the version", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "tab as separator", "GET\t/ HTTP/1.1\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "lower-case protocol", "GET / http/1.1\r\nHost: x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "short version", "GET / HTTP/1\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "long version", "GET / HTTP/1.10\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 0, ERROR, 505, 0, NULL, 0, 0 },
	{ "HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, ERROR, 505, 0, NULL, 0, 0 },
	{ "asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "authority form", "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "relative target", "GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "absolute form without authority", "GET http:///x HTTP/1.0\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "control character in the target", "GET /a\x7f HTTP/1.0\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "header without colon", "GET / HTTP/1.0\r\nHost x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "space before the colon", "GET / HTTP/1.0\r\nHost : x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "empty field name", "GET / HTTP/1.0\r\n: x\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "NUL in the request line", "GET /\0x HTTP/1.0\r\n\r\n", 20, ERROR, 400, 0, NULL, 0, 0 },
	{ "NUL in a value", "GET / HTTP/1.0\r\nX-A: a\0b\r\n\r\n", 28, ERROR, 400, 0, NULL, 0, 0 },
	{ "NUL before the end of the line arrives", "GET / HTTP/1.0\r\nX-A: a\0", 23, ERROR, 400, 0, NULL, 0, 0 },
	{ "control character in a value", "GET / HTTP/1.0\r\nX-A: a\x1b[0m\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "bare CR", "GET / HTTP/1.0\rX-A: b\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "bare CR in a value", "GET / HTTP/1.0\r\nX-A: a\rb\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
	{ "a TLS ClientHello is refused at once", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, ERROR, 400, 0, NULL, 0, 0 },
	{ "binary garbage", "\xff\xfe\xfd\r\n\r\n", 0, ERROR, 400, 0, NULL, 0, 0 },
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < N(parse_cases); i++) {
		const struct parse_case *t = &parse_cases[i];
		size_t len = t->len ? t->len : strlen(t->in);
		struct http_request req;
		int rc;

		rc = http_parse_request(t->in, len, &req);
		if (rc != t->rc || (rc == ERROR && req.status != t->status))
			fail_msg("case `%s': rc %d status %d, want rc %d status %d", t->name, rc,
				 req.status, t->rc, t->status);
		if (rc != COMPLETE)
			continue;
		if ((int)req.method != t->method || req.version != t->version ||
		    req.path_len != strlen(t->path) || memcmp(req.path, t->path, req.path_len) ||
		    req.head_len != (t->head_len ? t->head_len : len))
			fail_msg("case `%s': method %d version %u path `%.*s' head_len %zu", t->name,
				 req.method, req.version, (int)req.path_len, req.path, req.head_len);
		/* Pointers stay inside the input, except the "/" of a bare
		 * absolute form. */
		assert_true(req.method_str == t->in + strspn(t->in, "\r\n"));
		assert_true(req.target > t->in && req.target + req.target_len <= t->in + len);
	}
}

/* Every prefix of a valid request is incomplete, and the whole is
 * complete: the parser never decides early. */
static void test_parse_prefixes(void **state)
{
	static const char *const reqs[] = {
		"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
		"HEAD /readyz HTTP/1.0\n\n",
	};

	for (size_t i = 0; i < N(reqs); i++) {
		size_t len = strlen(reqs[i]);
		struct http_request req;

		for (size_t n = 0; n < len; n++)
			assert_int_equal(http_parse_request(reqs[i], n, &req), INCOMPLETE);
		assert_int_equal(http_parse_request(reqs[i], len, &req), COMPLETE);
		assert_int_equal(req.head_len, len);
	}
}

/* Fills buf with a request line, then headers, up to exactly total bytes
 * with the final empty line. */
static size_t build_head(char *buf, size_t total)
{
	size_t len = (size_t)sprintf(buf, "GET / HTTP/1.0\r\nX-Pad: ");

	memset(buf + len, 'a', total - len - 4);
	memcpy(buf + total - 4, "\r\n\r\n", 4);
	return total;
}

static void test_parse_limits(void **state)
{
	static char buf[3 * HTTP_HEAD_MAX];
	struct http_request req;
	size_t len;

	/* A head of exactly HTTP_HEAD_MAX bytes is fine, one more is not. */
	len = build_head(buf, HTTP_HEAD_MAX);
	assert_int_equal(http_parse_request(buf, len, &req), COMPLETE);
	len = build_head(buf, HTTP_HEAD_MAX + 1);
	assert_int_equal(http_parse_request(buf, len, &req), ERROR);
	assert_int_equal(req.status, 431);

	/* A header that never ends: 431 once the buffer is full. */
	len = build_head(buf, 2 * HTTP_HEAD_MAX);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX - 1, &req), INCOMPLETE);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX, &req), ERROR);
	assert_int_equal(req.status, 431);

	/* A request line that never ends: 414. */
	len = (size_t)sprintf(buf, "GET /");
	memset(buf + len, 'a', sizeof(buf) - len);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX - 1, &req), INCOMPLETE);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX, &req), ERROR);
	assert_int_equal(req.status, 414);
	memcpy(buf + HTTP_HEAD_MAX + 10, " HTTP/1.0\r\n\r\n", 13);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX + 23, &req), ERROR);
	assert_int_equal(req.status, 414);

	/* Too many header lines: 431, even though the head is small. */
	len = (size_t)sprintf(buf, "GET / HTTP/1.0\r\n");
	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		len += (size_t)sprintf(buf + len, "X: %d\r\n", i);
	memcpy(buf + len, "\r\n", 2);
	assert_int_equal(http_parse_request(buf, len + 2, &req), COMPLETE);
	assert_int_equal(req.n_headers, HTTP_HEADERS_MAX);
	len += (size_t)sprintf(buf + len, "X: more\r\n\r\n");
	assert_int_equal(http_parse_request(buf, len, &req), ERROR);
	assert_int_equal(req.status, 431);
}

static void test_reason(void **state)
{
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(405), "Method Not Allowed");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(299), "Unknown");
}

static void test_buf(void **state)
{
	struct http_buf b = { 0 };
	char big[3000];

	http_buf_puts(&b, "a");
	http_buf_printf(&b, "%d-%s", 42, "x");
	assert_string_equal(b.data, "a42-x");
	/* Longer than any scratch space, and than the first allocation. */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	http_buf_printf(&b, "[%s]", big);
	assert_int_equal(b.len, 5 + 2 + sizeof(big) - 1);
	assert_int_equal(strlen(b.data), b.len);
	assert_int_equal(b.data[b.len - 1], ']');
	http_buf_append(&b, "", 0);
	assert_false(b.failed);
	http_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

/* ---- the server ---- */

enum { BIG_BODY = 24 << 20 };	/* more than loopback socket buffers hold */

static void h_metrics(const struct http_request *req, struct http_response *res, void *owner)
{
	res->content_type = METRICS_CONTENT_TYPE;
	http_buf_printf(&res->body, "# TYPE vpn_test gauge\nvpn_test %d\n", *(int *)owner);
}

static void h_readyz(const struct http_request *req, struct http_response *res, void *owner)
{
	metrics_answer_ready(res, NULL, 0, 0, 5000);
}

static void h_big(const struct http_request *req, struct http_response *res, void *owner)
{
	char *p = malloc(BIG_BODY);

	if (!p) {
		res->body.failed = true;
		return;
	}
	memset(p, 'b', BIG_BODY);
	http_buf_append(&res->body, p, BIG_BODY);
	free(p);
}

static void h_oom(const struct http_request *req, struct http_response *res, void *owner)
{
	http_buf_puts(&res->body, "partial");
	res->body.failed = true;
}

static void h_teapot(const struct http_request *req, struct http_response *res, void *owner)
{
	res->status = 404;
	http_buf_puts(&res->body, "no such tunnel\n");
}

static const struct http_route routes[] = {
	{ "/metrics", h_metrics },
	{ "/healthz", http_handle_ok },
	{ "/readyz", h_readyz },
	{ "/big", h_big },
	{ "/oom", h_oom },
	{ "/custom404", h_teapot },
};

struct fixture {
	uv_loop_t loop;
	uv_async_t stop;
	struct http_server srv;
	pthread_t thread;
	uint16_t port;
	int owner_value;
	unsigned clients_at_stop;
};

static void fx_stop_cb(uv_async_t *a)
{
	struct fixture *fx = a->data;

	fx->clients_at_stop = fx->srv.nclients;
	http_server_stop(&fx->srv);
	uv_close((uv_handle_t *)a, NULL);
}

static void *fx_thread(void *arg)
{
	struct fixture *fx = arg;

	uv_run(&fx->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void count_handle(uv_handle_t *h, void *arg)
{
	(*(int *)arg)++;
}

static struct fixture *fx_start(unsigned timeout_ms, unsigned max_clients)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[256] = "";

	assert_non_null(fx);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(uv_async_init(&fx->loop, &fx->stop, fx_stop_cb), 0);
	fx->stop.data = fx;
	fx->owner_value = 7;
	fx->srv.timeout_ms = timeout_ms;
	fx->srv.linger_ms = 200;
	fx->srv.max_clients = max_clients;
	if (http_server_start(&fx->srv, &fx->loop, "127.0.0.1:0", routes, N(routes),
			      &fx->owner_value, err, sizeof(err)))
		fail_msg("http_server_start: %s", err);
	fx->port = http_server_port(&fx->srv);
	assert_int_not_equal(fx->port, 0);
	assert_int_equal(pthread_create(&fx->thread, NULL, fx_thread, fx), 0);
	return fx;
}

/* Stops the server from its own thread and checks that every handle,
 * the clients' included, was closed. Returns the clients still open
 * when the stop arrived. */
static unsigned fx_finish(struct fixture *fx)
{
	unsigned left;
	int handles = 0;

	uv_async_send(&fx->stop);
	assert_int_equal(pthread_join(fx->thread, NULL), 0);
	uv_walk(&fx->loop, count_handle, &handles);
	assert_int_equal(handles, 0);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	left = fx->clients_at_stop;
	free(fx);
	return left;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int dial(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };	/* no test hangs on a bug */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

struct reply {
	char *raw;		/* everything read, NUL-terminated */
	size_t len;
	int end;		/* 0: EOF, else the errno that ended reading */
	int status;
	const char *body;
	size_t body_len;
};

/* Reads until EOF, an error or the receive timeout. */
static void read_reply(int fd, struct reply *r)
{
	size_t cap = 1 << 16;

	memset(r, 0, sizeof(*r));
	r->raw = malloc(cap + 1);
	assert_non_null(r->raw);
	for (;;) {
		ssize_t n;

		if (r->len == cap) {
			cap *= 2;
			r->raw = realloc(r->raw, cap + 1);
			assert_non_null(r->raw);
		}
		n = recv(fd, r->raw + r->len, cap - r->len, 0);
		if (n <= 0) {
			r->end = n == 0 ? 0 : errno;
			break;
		}
		r->len += (size_t)n;
	}
	r->raw[r->len] = '\0';
	if (sscanf(r->raw, "HTTP/1.1 %d ", &r->status) != 1)
		r->status = -1;
	r->body = strstr(r->raw, "\r\n\r\n");
	if (r->body) {
		r->body += 4;
		r->body_len = r->len - (size_t)(r->body - r->raw);
	}
}

/* The value of a header in the reply, or NULL. */
static const char *header(const struct reply *r, const char *name, char *val, size_t vlen)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(r->raw, "\r\n"); p && p + 2 < r->body; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':') {
			const char *v = p + 3 + nl + strspn(p + 3 + nl, " ");
			snprintf(val, vlen, "%.*s", (int)strcspn(v, "\r"), v);
			return val;
		}
	}
	return NULL;
}

static void exchange(uint16_t port, const char *req, size_t len, struct reply *r)
{
	int fd = dial(port);

	send_all(fd, req, len ? len : strlen(req));
	read_reply(fd, r);
	close(fd);
}

/* A well-formed answer: status line, Content-Type, a Content-Length that
 * matches what followed (for GET), Connection: close, a Date, and a clean
 * close (FIN, not RST). */
static void check_reply(const struct reply *r, int status, const char *ctype, bool head)
{
	char v[256];

	assert_int_equal(r->end, 0);
	assert_int_equal(r->status, status);
	assert_non_null(r->body);
	assert_non_null(header(r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, ctype);
	assert_non_null(header(r, "Connection", v, sizeof(v)));
	assert_string_equal(v, "close");
	assert_non_null(header(r, "Date", v, sizeof(v)));
	assert_true(strstr(v, " GMT") != NULL);
	assert_non_null(header(r, "Content-Length", v, sizeof(v)));
	if (head)
		assert_int_equal(r->body_len, 0);
	else
		assert_int_equal(strtoul(v, NULL, 10), r->body_len);
}

static void reply_free(struct reply *r)
{
	free(r->raw);
}

static void test_server_routes(void **state)
{
	struct fixture *fx = fx_start(2000, 0);
	struct reply r;
	char v[64];

	exchange(fx->port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, &r);
	check_reply(&r, 200, METRICS_CONTENT_TYPE, false);
	assert_string_equal(r.body, "# TYPE vpn_test gauge\nvpn_test 7\n");
	reply_free(&r);

	exchange(fx->port, "GET /healthz HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 200, "text/plain; charset=utf-8", false);
	assert_string_equal(r.body, "ok\n");
	reply_free(&r);

	/* HEAD: the length GET would have, no body. */
	exchange(fx->port, "HEAD /healthz HTTP/1.1\nHost: x\n\n", 0, &r);
	check_reply(&r, 200, "text/plain; charset=utf-8", true);
	assert_string_equal(header(&r, "Content-Length", v, sizeof(v)), "3");
	reply_free(&r);

	exchange(fx->port, "GET /readyz?verbose HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 503, "text/plain; charset=utf-8", false);
	assert_true(strstr(r.body, "no tunnel is up") != NULL);
	reply_free(&r);

	exchange(fx->port, "GET /nope HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 404, "text/plain; charset=utf-8", false);
	assert_string_equal(r.body, "404 Not Found\n");
	reply_free(&r);

	exchange(fx->port, "HEAD /nope HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 404, "text/plain; charset=utf-8", true);
	reply_free(&r);

	/* A handler's own error body is kept. */
	exchange(fx->port, "GET /custom404 HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 404, "text/plain; charset=utf-8", false);
	assert_string_equal(r.body, "no such tunnel\n");
	reply_free(&r);

	exchange(fx->port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 0, &r);
	check_reply(&r, 405, "text/plain; charset=utf-8", false);
	assert_string_equal(header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
	reply_free(&r);

	/* A handler that ran out of memory: 500, not half an answer. */
	exchange(fx->port, "GET /oom HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 500, "text/plain; charset=utf-8", false);
	assert_string_equal(r.body, "500 Internal Server Error\n");
	reply_free(&r);

	exchange(fx->port, "GET / HTTP/2.0\r\n\r\n", 0, &r);
	check_reply(&r, 505, "text/plain; charset=utf-8", false);
	reply_free(&r);

	assert_int_equal(fx_finish(fx), 0);
}

static void test_server_garbage(void **state)
{
	struct fixture *fx = fx_start(2000, 0);
	static char big[HTTP_HEAD_MAX + 100];
	struct reply r;
	size_t len;

	/* Refused as soon as the first line shows it, without waiting. */
	exchange(fx->port, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, &r);
	check_reply(&r, 400, "text/plain; charset=utf-8", false);
	reply_free(&r);

	exchange(fx->port, "GET /metrics\r\n\r\n", 0, &r);
	check_reply(&r, 400, "text/plain; charset=utf-8", false);
	reply_free(&r);

	/* HEAD gets no body, not even with an error. */
	exchange(fx->port, "HEAD /healthz HTTP/1.1\r\n\r\n", 0, &r);
	check_reply(&r, 400, "text/plain; charset=utf-8", true);
	reply_free(&r);

	exchange(fx->port, "GET / HTTP/1.0\r\nX: a\0b\r\n\r\n", 26, &r);
	check_reply(&r, 400, "text/plain; charset=utf-8", false);
	reply_free(&r);

	/* Too long a head: 431 once the buffer is full; the rest the client
	 * sent is drained, so the answer arrives rather than a reset. */
	len = (size_t)sprintf(big, "GET / HTTP/1.0\r\nX-Pad: ");
	memset(big + len, 'a', sizeof(big) - len);
	exchange(fx->port, big, sizeof(big), &r);
	check_reply(&r, 431, "text/plain; charset=utf-8", false);
	reply_free(&r);

	/* Pipelined requests: one answer, then a clean close. */
	exchange(fx->port, "GET /healthz HTTP/1.0\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n\x01garbage", 0, &r);
	check_reply(&r, 200, "text/plain; charset=utf-8", false);
	assert_string_equal(r.body, "ok\n");
	reply_free(&r);

	assert_int_equal(fx_finish(fx), 0);
}

/* A client that sends half a request and stalls is closed when its
 * deadline fires; meanwhile others are served. */
static void test_server_stalled_client(void **state)
{
	struct fixture *fx = fx_start(300, 0);
	uint64_t t0;
	struct reply r;
	int fd;

	fd = dial(fx->port);
	t0 = now_ms();
	send_all(fd, "GET /hea", 8);

	exchange(fx->port, "GET /healthz HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 200, "text/plain; charset=utf-8", false);
	reply_free(&r);

	read_reply(fd, &r);
	assert_int_equal(r.end, 0);	/* closed by the server, not our timeout */
	assert_int_equal(r.len, 0);	/* with no answer */
	assert_true(now_ms() - t0 >= 250);
	assert_true(now_ms() - t0 < 3000);
	reply_free(&r);
	close(fd);

	assert_int_equal(fx_finish(fx), 0);
}

/* A client that asks for a large answer and never reads cannot hold the
 * loop: others are answered at once, and it is cut off at its deadline. */
static void test_server_client_never_reads(void **state)
{
	struct fixture *fx = fx_start(1500, 0);
	struct reply r;
	uint64_t t0;
	int fd;

	fd = dial(fx->port);
	t0 = now_ms();
	send_all(fd, "GET /big HTTP/1.0\r\n\r\n", 21);
	usleep(100 * 1000);	/* let the server queue the answer */

	/* Answered well before the stuck client's deadline (generous for
	 * loaded sanitizer runs: building 24 MB takes a while). */
	exchange(fx->port, "GET /healthz HTTP/1.0\r\n\r\n", 0, &r);
	check_reply(&r, 200, "text/plain; charset=utf-8", false);
	assert_true(now_ms() - t0 < 1200);
	reply_free(&r);

	usleep((useconds_t)(1800 - (now_ms() - t0)) * 1000);	/* past the deadline */
	read_reply(fd, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.end == 0 || r.end == ECONNRESET);
	assert_true(r.body_len < BIG_BODY);	/* cut off */
	reply_free(&r);
	close(fd);

	assert_int_equal(fx_finish(fx), 0);
}

/* Beyond max_clients a connection gets 503 and is closed at once; once
 * the others are gone, new clients are served again. */
static void test_server_max_clients(void **state)
{
	struct fixture *fx = fx_start(3000, 2);
	struct reply r;
	int a, b, c;
	uint64_t t0;

	a = dial(fx->port);
	b = dial(fx->port);
	send_all(a, "GET", 3);
	send_all(b, "GET", 3);

	/* The third sends nothing: closing a socket with unread input
	 * would reset it and could destroy the 503 before we read it. */
	t0 = now_ms();
	c = dial(fx->port);
	read_reply(c, &r);
	close(c);
	assert_int_equal(r.end, 0);
	assert_int_equal(r.status, 503);
	assert_true(strstr(r.raw, "Content-Length: 24\r\n") != NULL);
	assert_int_equal(r.body_len, 24);
	assert_true(now_ms() - t0 < 1000);
	reply_free(&r);

	close(a);
	close(b);
	for (t0 = now_ms();; usleep(20 * 1000)) {
		exchange(fx->port, "GET /healthz HTTP/1.0\r\n\r\n", 0, &r);
		if (r.status == 200 || now_ms() - t0 > 2000)
			break;
		reply_free(&r);
	}
	check_reply(&r, 200, "text/plain; charset=utf-8", false);
	reply_free(&r);

	assert_int_equal(fx_finish(fx), 0);
}

/* Stopping the server with clients still connected closes them too. */
static void test_server_stop_with_clients(void **state)
{
	struct fixture *fx = fx_start(5000, 0);
	struct reply r;
	int a = dial(fx->port), b = dial(fx->port);

	send_all(a, "GET /healthz HTTP/1.1\r\n", 23);
	/* Make sure both are accepted before stopping. */
	exchange(fx->port, "GET /healthz HTTP/1.0\r\n\r\n", 0, &r);
	reply_free(&r);
	assert_int_equal(fx_finish(fx), 2);
	read_reply(a, &r);
	assert_int_equal(r.len, 0);
	reply_free(&r);
	close(a);
	close(b);
}

static void test_server_start_errors(void **state)
{
	static const struct { const char *listen; int rc; const char *msg; } cases[] = {
		{ "nope", -EINVAL, "--metrics-listen: `nope' is not ADDR:PORT" },
		{ "127.0.0.1", -EINVAL, "is not ADDR:PORT" },
		{ "::1:80", -EINVAL, "is not ADDR:PORT" },
		{ "127.0.0.1:70000", -EINVAL, "is not ADDR:PORT" },
		{ "no-such-host.invalid:1", -EINVAL, "--metrics-listen: cannot resolve `no-such-host.invalid'" },
		{ "192.0.2.1:0", -EADDRNOTAVAIL, "no interface has this address" },
	};
	struct http_server a = { 0 }, b = { 0 }, c = { 0 };
	char err[256], addr[64];
	uv_loop_t loop;

	assert_int_equal(uv_loop_init(&loop), 0);
	for (size_t i = 0; i < N(cases); i++) {
		struct http_server s = { 0 };
		int rc;

		err[0] = '\0';
		rc = http_server_start(&s, &loop, cases[i].listen, routes, N(routes), NULL, err, sizeof(err));
		if (rc != cases[i].rc || !strstr(err, cases[i].msg))
			fail_msg("`%s': rc %d (%s), want %d and `%s'", cases[i].listen, rc, err,
				 cases[i].rc, cases[i].msg);
		assert_int_equal(http_server_port(&s), 0);
		http_server_stop(&s);	/* harmless after a failure */
		uv_run(&loop, UV_RUN_DEFAULT);	/* s's handle closes before s goes */
	}

	/* The same port twice. */
	assert_int_equal(http_server_start(&a, &loop, "127.0.0.1:0", routes, N(routes), NULL, err, sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", http_server_port(&a));
	assert_int_equal(http_server_start(&b, &loop, addr, routes, N(routes), NULL, err, sizeof(err)), -EADDRINUSE);
	assert_true(strstr(err, "--metrics-listen 127.0.0.1:") == err);
	assert_true(strstr(err, "address already in use") != NULL);

	http_server_stop(&b);

	/* [::] listens everywhere (or on all of IPv4 without IPv6). */
	assert_int_equal(http_server_start(&c, &loop, "[::]:0", routes, N(routes), NULL, err, sizeof(err)), 0);
	assert_int_not_equal(http_server_port(&c), 0);

	http_server_stop(&a);
	http_server_stop(&a);
	http_server_stop(&c);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_server_routes),
		cmocka_unit_test(test_server_garbage),
		cmocka_unit_test(test_server_stalled_client),
		cmocka_unit_test(test_server_client_never_reads),
		cmocka_unit_test(test_server_max_clients),
		cmocka_unit_test(test_server_stop_with_clients),
		cmocka_unit_test(test_server_start_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
