/* What kube-apiserver does to reach a shoot through the VPN, done by the
 * local backend as its final check: a TLS connection to vpn-server's HTTP
 * CONNECT proxy with kube-apiserver's client certificate (its egress
 * selector), CONNECT to a shoot address, then HTTP, or HTTPS inside the
 * tunnel for a kubelet, and the answer read back. */
#ifndef CONTROLLER_CHECK_H
#define CONTROLLER_CHECK_H

#include <stdbool.h>
#include <stddef.h>

enum { CHECK_TIMEOUT_S = 5, CHECK_HEAD_MAX = 8192 };

struct check_tls {
	const char *ca;		/* CA bundle of the proxy's certificate */
	const char *cert, *key;	/* kube-apiserver's client identity */
	const char *proxy_name;	/* the name the proxy's certificate must carry */
	const char *target_ca;	/* the kubelets' CA, for HTTPS targets */
};

struct check_result {
	int status;		/* HTTP status of the target's answer */
	char body[512];		/* its body (truncated, NUL-terminated) */
	long ms;		/* from connect to the last byte */
};

/* GET path from target ("ADDR:PORT", IPv4 or [IPv6]) through the proxy
 * ("ADDR:PORT"), over TLS to the target when https. Returns 0 when an
 * answer arrived (whatever its status), or -errno with err saying which
 * step failed: "proxy 198.51.100.10:9443: CONNECT answered 403". */
int check_get(const struct check_tls *t, const char *proxy, const char *target, bool https,
	      const char *path, struct check_result *res, char *err, size_t errlen);

/* Parses an HTTP/1.x response head at the start of buf: status line and
 * header fields up to the empty line (CRLF or bare LF). Returns 1 with
 * *status, *head_len and *content_length (-1 when absent) set, 0 when
 * more bytes are needed, -1 when it is not an HTTP response (bad status
 * line, control characters, a header without a colon, a bad or repeated
 * Content-Length, or no end within CHECK_HEAD_MAX bytes). */
int check_parse_response(const char *buf, size_t len, int *status, size_t *head_len,
			 long *content_length);

#endif
