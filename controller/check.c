/* kube-apiserver's path through the CONNECT proxy; see check.h. Blocking
 * sockets with timeouts: a check runs once, not in a loop. The kubelet's
 * TLS runs inside the proxy's TLS through a BIO_f_ssl filter, exactly as
 * kube-apiserver nests them. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "controller/check.h"
#include "tunnel/config.h"

int check_parse_response(const char *buf, size_t len, int *status, size_t *head_len,
			 long *content_length)
{
	const char *p = buf, *end = buf + len, *eol;
	bool first = true;

	*content_length = -1;
	for (;;) {
		size_t n;

		if (p - buf >= CHECK_HEAD_MAX)
			return -1;
		if (!(eol = memchr(p, '\n', (size_t)(end - p))))
			return end - buf >= CHECK_HEAD_MAX ? -1 : 0;
		n = (size_t)(eol - p);
		if (n && p[n - 1] == '\r')
			n--;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
				return -1;
		if (first) {
			/* "HTTP/1.x SSS" then a space and a reason, or nothing */
			if (n < 12 || memcmp(p, "HTTP/1.", 7) || !isdigit((unsigned char)p[7]) ||
			    p[8] != ' ' || !isdigit((unsigned char)p[9]) ||
			    !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11]) ||
			    (n > 12 && p[12] != ' ') || p[9] == '0')
				return -1;
			*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
			first = false;
		} else if (!n) {
			*head_len = (size_t)(eol + 1 - buf);
			return 1;
		} else {
			const char *colon = memchr(p, ':', n);

			if (!colon || colon == p || p[0] == ' ' || p[0] == '\t')
				return -1;
			if ((size_t)(colon - p) == 14 && !strncasecmp(p, "Content-Length", 14)) {
				const char *v = colon + 1, *ve = p + n;
				long cl = 0;

				if (*content_length >= 0)
					return -1;
				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				if (v == ve)
					return -1;
				for (; v < ve; v++) {
					if (!isdigit((unsigned char)*v) || cl > 100000000L)
						return -1;
					cl = cl * 10 + (*v - '0');
				}
				*content_length = cl;
			}
		}
		p = eol + 1;
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(const char *hostport, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct timeval tv = { .tv_sec = CHECK_TIMEOUT_S };
	unsigned sl;
	int fd = -1, one = 1;

	if (cfg_sockaddr(hostport, &ss, &sl)) {
		snprintf(err, errlen, "%s: not IP:PORT", hostport);
		return -EINVAL;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	/* a blocking connect honours SO_SNDTIMEO; small writes each wait
	 * for an answer, so no Nagle delay */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&ss, sl))
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "proxy %s: %s", hostport,
		 errno == EINPROGRESS ? "connect timed out" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return -EHOSTUNREACH;
}

static SSL_CTX *client_ctx(const char *ca, const char *cert, const char *key)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c || !SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) ||
	    SSL_CTX_load_verify_locations(c, ca, NULL) != 1 ||
	    (cert && SSL_CTX_use_certificate_chain_file(c, cert) != 1) ||
	    (key && SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1)) {
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	return c;
}

static const char *tls_why(SSL *s)
{
	long v = s ? SSL_get_verify_result(s) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();

	if (v != X509_V_OK)
		return X509_verify_cert_error_string(v);
	return e ? ERR_reason_error_string(e) : "connection closed";
}

/* Reads a response head (and what came with it) into buf. */
static int read_head(SSL *s, char *buf, size_t cap, size_t *len, int *status, size_t *head,
		     long *cl)
{
	int r = 0, n;

	*len = 0;
	while (!r) {
		if (*len == cap || (n = SSL_read(s, buf + *len, (int)(cap - *len))) <= 0)
			return -1;
		*len += (size_t)n;
		r = check_parse_response(buf, *len, status, head, cl);
	}
	return r < 0 ? -1 : 0;
}

int check_get(const struct check_tls *t, const char *proxy, const char *target, bool https,
	      const char *path, struct check_result *res, char *err, size_t errlen)
{
	SSL_CTX *pctx = NULL, *tctx = NULL;
	SSL *outer = NULL, *inner = NULL, *s;
	BIO *filter = NULL;
	char buf[CHECK_HEAD_MAX + sizeof(res->body)], host[INET6_ADDRSTRLEN + 2];
	size_t len, head;
	long cl, t0 = now_ms();
	uint16_t port;
	int fd = -1, r = -EPROTO, st, n;

	memset(res, 0, sizeof(*res));
	if (cfg_split_hostport(target, host, sizeof(host), &port)) {
		snprintf(err, errlen, "%s: not ADDR:PORT", target);
		return -EINVAL;
	}
	if (!(pctx = client_ctx(t->ca, t->cert, t->key)) ||
	    (https && !(tctx = client_ctx(t->target_ca, NULL, NULL)))) {
		snprintf(err, errlen, "cannot load %s, %s, %s or %s: %s", t->ca, t->cert, t->key,
			 t->target_ca ? t->target_ca : "-", tls_why(NULL));
		r = -EINVAL;
		goto out;
	}
	if ((fd = dial(proxy, err, errlen)) < 0) {
		r = fd;
		goto out;
	}
	if (!(outer = SSL_new(pctx)) || !SSL_set_fd(outer, fd) ||
	    !SSL_set_tlsext_host_name(outer, t->proxy_name) || !SSL_set1_host(outer, t->proxy_name) ||
	    SSL_connect(outer) != 1) {
		snprintf(err, errlen, "proxy %s: TLS: %s", proxy, tls_why(outer));
		goto out;
	}
	n = snprintf(buf, sizeof(buf), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
	if (SSL_write(outer, buf, n) != n ||
	    read_head(outer, buf, sizeof(buf), &len, &st, &head, &cl)) {
		snprintf(err, errlen, "proxy %s: no answer to CONNECT %s", proxy, target);
		goto out;
	}
	if (st != 200 || len != head) {
		snprintf(err, errlen, "proxy %s: CONNECT %s answered %d", proxy, target, st);
		goto out;
	}
	s = outer;
	if (https) {
		if (!(filter = BIO_new(BIO_f_ssl())) || !(inner = SSL_new(tctx))) {
			r = -ENOMEM;
			goto out;
		}
		BIO_set_ssl(filter, outer, BIO_NOCLOSE);
		SSL_set_bio(inner, filter, filter);
		filter = NULL;	/* inner owns it */
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(inner), host) ||
		    SSL_connect(inner) != 1) {
			snprintf(err, errlen, "%s through %s: TLS: %s", target, proxy, tls_why(inner));
			goto out;
		}
		s = inner;
	}
	n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: shootctl-check\r\n"
		     "Connection: close\r\n\r\n", path, target);
	if (SSL_write(s, buf, n) != n || read_head(s, buf, sizeof(buf), &len, &st, &head, &cl)) {
		snprintf(err, errlen, "%s through %s: no HTTP answer", target, proxy);
		goto out;
	}
	/* the body: Content-Length of it, as much as fits */
	while (cl >= 0 && len - head < (size_t)cl && len < sizeof(buf)) {
		if ((n = SSL_read(s, buf + len, (int)(sizeof(buf) - len))) <= 0)
			break;
		len += (size_t)n;
	}
	res->status = st;
	snprintf(res->body, sizeof(res->body), "%.*s", (int)(len - head), buf + head);
	res->ms = now_ms() - t0;
	r = 0;
out:
	SSL_free(inner);
	BIO_free(filter);
	SSL_free(outer);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(pctx);
	SSL_CTX_free(tctx);
	ERR_clear_error();
	return r;
}
