/* The kubelet-like server; see serve.h. Blocking sockets, a thread per
 * connection: it serves a handful of checks, not traffic. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "controller/serve.h"
#include "tunnel/config.h"
#include "tunnel/http.h"

struct serve {
	const struct serve_opts *o;
	SSL_CTX *tls;
	atomic_int clients;
};

struct client {
	struct serve *s;
	int fd;
};

static int addr_of(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	const void *a = ss->ss_family == AF_INET6
		? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
		: (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	return inet_ntop(ss->ss_family, a, buf, (socklen_t)n) ? 0 : -errno;
}

static int io(SSL *ssl, int fd, void *buf, size_t n, bool wr)
{
	if (ssl)
		return wr ? SSL_write(ssl, buf, (int)n) : SSL_read(ssl, buf, (int)n);
	return (int)(wr ? send(fd, buf, n, MSG_NOSIGNAL) : recv(fd, buf, n, 0));
}

/* One request, one answer, then close: enough for a check. */
static void serve_one(struct serve *s, int fd)
{
	struct sockaddr_storage peer, local;
	socklen_t pl = sizeof(peer), ll = sizeof(local);
	char head[8192], from[INET6_ADDRSTRLEN] = "?", at[INET6_ADDRSTRLEN] = "?";
	char body[1024], out[1536];
	struct http_request req;
	SSL *ssl = NULL;
	size_t len = 0;
	int r = HTTP_PARSE_INCOMPLETE, status, n;

	if (!getpeername(fd, (struct sockaddr *)&peer, &pl))
		addr_of(&peer, from, sizeof(from));
	if (!getsockname(fd, (struct sockaddr *)&local, &ll))
		addr_of(&local, at, sizeof(at));
	if (s->tls) {
		if (!(ssl = SSL_new(s->tls)) || !SSL_set_fd(ssl, fd) || SSL_accept(ssl) != 1) {
			fprintf(stderr, "serve: %s: TLS handshake failed\n", from);
			goto out;
		}
	}
	while (r == HTTP_PARSE_INCOMPLETE && len < sizeof(head)) {
		if ((n = io(ssl, fd, head + len, sizeof(head) - len, false)) <= 0)
			goto out;
		len += (size_t)n;
		r = http_parse_request(head, len, &req);
	}
	if (r == HTTP_PARSE_INCOMPLETE) {
		r = HTTP_PARSE_ERROR;
		req.status = 431;
	}
	if (r == HTTP_PARSE_ERROR) {
		status = req.status;
		snprintf(body, sizeof(body), "%s\n", http_reason(status));
	} else if (req.method == HTTP_METHOD_OTHER) {
		status = 405;
		snprintf(body, sizeof(body), "%s\n", http_reason(status));
	} else if (req.path_len == 8 && !memcmp(req.path, "/healthz", 8)) {
		status = 200;
		snprintf(body, sizeof(body), "ok\n");
	} else {
		status = 200;
		snprintf(body, sizeof(body), "%s: %.*s from %s at %s\n", s->o->name,
			 (int)(req.path_len < 256 ? req.path_len : 256), req.path, from, at);
	}
	n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
		     http_reason(status), strlen(body),
		     r == HTTP_PARSE_COMPLETE && req.method == HTTP_METHOD_HEAD ? "" : body);
	io(ssl, fd, out, (size_t)n, true);
	fprintf(stderr, "serve: %s %d %.*s\n", from, status,
		r == HTTP_PARSE_COMPLETE ? (int)(req.path_len < 256 ? req.path_len : 256) : 1,
		r == HTTP_PARSE_COMPLETE ? req.path : "-");
	if (ssl)
		SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	ERR_clear_error();
}

static void *client_main(void *arg)
{
	struct client *c = arg;

	serve_one(c->s, c->fd);
	close(c->fd);
	atomic_fetch_sub(&c->s->clients, 1);
	free(c);
	return NULL;
}

static SSL_CTX *tls_server(const struct serve_opts *o, char *err, size_t errlen)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());

	if (!c || !SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(c, o->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(c, o->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c) != 1) {
		snprintf(err, errlen, "--cert %s / --key %s: cannot load (%s)", o->cert, o->key,
			 ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

int serve_run(const struct serve_opts *o, char *err, size_t errlen)
{
	struct serve s = { .o = o };
	struct sockaddr_storage ss;
	struct timeval tv = { .tv_sec = SERVE_TIMEOUT_S };
	unsigned sl;
	int fd = -1, one = 1, r;

	if (cfg_sockaddr(o->listen, &ss, &sl)) {
		snprintf(err, errlen, "--listen: `%s' is not IP:PORT", o->listen);
		return -EINVAL;
	}
	if ((o->cert != NULL) != (o->key != NULL)) {
		snprintf(err, errlen, "--cert and --key go together");
		return -EINVAL;
	}
	if (o->cert && !(s.tls = tls_server(o, err, errlen)))
		return -EINVAL;
	signal(SIGPIPE, SIG_IGN);
	/* the node's address may still be tentative right after it was added */
	for (int tries = 0; tries < 50; tries++) {
		if (fd >= 0)
			close(fd);
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, (struct sockaddr *)&ss, sl) && !listen(fd, 64))
			goto serving;
		if (errno != EADDRNOTAVAIL)
			break;
		usleep(100 * 1000);
	}
	r = -errno;
	snprintf(err, errlen, "--listen %s: %s", o->listen, strerror(errno));
	goto out;
serving:
	fprintf(stderr, "serve: %s on %s (%s)\n", o->name, o->listen, s.tls ? "https" : "http");
	for (;;) {
		struct client *c;
		pthread_t t;
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				usleep(100 * 1000);	/* clients hold every fd: let some end */
				continue;
			}
			r = -errno;
			snprintf(err, errlen, "accept: %s", strerror(errno));
			goto out;
		}
		if (atomic_load(&s.clients) >= SERVE_CLIENTS || !(c = malloc(sizeof(*c)))) {
			close(cfd);
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c->s = &s;
		c->fd = cfd;
		atomic_fetch_add(&s.clients, 1);
		if (pthread_create(&t, NULL, client_main, c)) {
			atomic_fetch_sub(&s.clients, 1);
			close(cfd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
out:
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(s.tls);
	return r;
}
