/* A small HTTP/1.1 server for --metrics-listen (../shared/CONTRACT.md):
 * /metrics, /healthz and /readyz for Prometheus and the kubelet.
 *
 * One request per connection. The server reads one request head (at most
 * HTTP_HEAD_MAX bytes), answers it with Content-Type, Content-Length and
 * `Connection: close`, then closes. Only GET and HEAD are served; paths
 * are looked up in a table of routes given at start.
 *
 * Nothing a client does can block the loop or hold memory for long:
 *   - at most max_clients connections at a time, more are answered 503
 *     (best effort, never blocking) and closed at once;
 *   - one deadline per client, timeout_ms after accept, covers reading the
 *     request and writing the answer: a slow sender or a client that never
 *     reads is closed when it fires;
 *   - writes are queued with uv_write, never waited for;
 *   - after the answer the server sends FIN and discards what the client
 *     still sends for at most linger_ms, so that unread input (a pipelined
 *     second request) does not turn the close into a RST that could destroy
 *     the answer before the client has read it.
 *
 * Handlers run on the loop and must not block; they write the body into a
 * growable buffer and set the status. */
#ifndef TUNNEL_HTTP_H
#define TUNNEL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum {
	/* Request line and headers together. Prometheus and the kubelet send
	 * a few hundred bytes; 8 KB is what most servers allow. */
	HTTP_HEAD_MAX = 8192,
	/* More header lines than any real client sends; beyond: 431. */
	HTTP_HEADERS_MAX = 64,
	/* Scrapers and probes: a handful at a time. Each client costs about
	 * HTTP_HEAD_MAX bytes, so the cap bounds memory to ~600 KB. */
	HTTP_MAX_CLIENTS = 64,
	/* Read the request and write the answer within this: Prometheus's
	 * default scrape timeout is 10 s, the kubelet's probe timeout 1 s. */
	HTTP_TIMEOUT_MS = 5000,
	/* After the answer: how long unread client input is drained. */
	HTTP_LINGER_MS = 1000,
};

/* ---- a growable output buffer ---- */

/* Appends never fail: on out-of-memory the buffer stops growing and
 * sets failed; whoever sends it checks that (the server answers 500). */
struct http_buf {
	char *data;	/* NUL-terminated when non-NULL */
	size_t len, cap;
	bool failed;
};

void http_buf_append(struct http_buf *b, const void *p, size_t n);
void http_buf_puts(struct http_buf *b, const char *s);
void http_buf_printf(struct http_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void http_buf_free(struct http_buf *b);

/* ---- the request parser (pure, fuzzed) ---- */

enum http_method { HTTP_METHOD_OTHER, HTTP_METHOD_GET, HTTP_METHOD_HEAD };

enum http_parse_result {
	HTTP_PARSE_ERROR = -1,		/* answer req->status, then close */
	HTTP_PARSE_INCOMPLETE = 0,	/* read more */
	HTTP_PARSE_COMPLETE = 1,	/* req describes the head */
};

/* Pointers point into the parsed buffer and live as long as it does. */
struct http_request {
	enum http_method method;
	const char *method_str;		/* as sent, e.g. "POST" */
	size_t method_len;
	const char *target;		/* request-target as sent */
	size_t target_len;
	const char *path;		/* its path, without query: "/metrics" */
	size_t path_len;
	unsigned version;		/* 10 for HTTP/1.0, 11 for HTTP/1.1 */
	unsigned n_headers;
	size_t head_len;		/* bytes up to and with the empty line */
	int status;			/* on error: 400, 414, 431 or 505 */
};

/* Parses an HTTP/1.x request head at the start of buf (RFC 9112).
 * Lines end with CRLF or a bare LF (RFC 9112 section 2.2 allows servers
 * to accept the latter; printf | nc users send it); a bare CR, NUL or
 * other control characters, obs-folded lines, a missing or malformed
 * version, a request-target that is neither origin-form nor
 * absolute-form, or an HTTP/1.1 request without exactly one Host field
 * are errors. Complete lines are checked as soon as they arrive, so
 * garbage is refused without waiting for the rest. Bytes after the head
 * (a body, pipelined requests) are not looked at. Any method token
 * parses; the caller answers 405 to those other than GET and HEAD. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* "Not Found" for 404; "Unknown" for codes the server never sends. */
const char *http_reason(int status);

/* ---- the server ---- */

struct http_response {
	int status;			/* 200 unless the handler sets it */
	const char *content_type;	/* default "text/plain; charset=utf-8" */
	struct http_buf body;		/* sent only for GET, counted for HEAD */
};

struct http_route {
	const char *path;		/* exact match on the path, query ignored */
	void (*fn)(const struct http_request *req, struct http_response *res, void *owner);
};

struct http_client;

/* Zero it, optionally set the settings, then http_server_start(). */
struct http_server {
	/* Settings; 0 means the HTTP_* default above (tests shorten them). */
	unsigned timeout_ms, linger_ms, max_clients;

	/* Private. */
	uv_loop_t *loop;
	uv_tcp_t tcp;
	const struct http_route *routes;
	size_t nroutes;
	void *owner;
	struct http_client *clients;	/* doubly linked, for stop */
	unsigned nclients;
	uint16_t port;			/* bound port, see http_server_port() */
	uv_tcp_t spare;			/* to refuse a client when malloc fails */
	bool spare_busy;
	bool open;			/* tcp was initialised and not closed */
};

/* Listens on listen ("ADDR:PORT", "[v6]:PORT", port 0 = any free port)
 * and serves routes (the table must outlive the server) with owner
 * passed to each handler. Returns 0, or -errno with one line in err
 * naming --metrics-listen, the address and what to do.
 * "[::]" also accepts IPv4 (dual stack); on a host without IPv6 it falls
 * back to 0.0.0.0. After a failure, as after http_server_stop(), s must
 * stay in place until the loop has run once (libuv closes handles
 * asynchronously). */
int http_server_start(struct http_server *s, uv_loop_t *loop, const char *listen,
		      const struct http_route *routes, size_t n, void *owner,
		      char *err, size_t errlen);
/* The port bound (useful with port 0), or 0 if not listening. */
uint16_t http_server_port(const struct http_server *s);
/* Stops listening and closes every client. Safe to call more than once
 * and after a failed start. */
void http_server_stop(struct http_server *s);

/* A handler answering 200 "ok": /healthz is served while the loop runs. */
void http_handle_ok(const struct http_request *req, struct http_response *res, void *owner);

#endif
