/* The HTTP CONNECT proxy of vpn-server (--proxy-listen): the way
 * kube-apiserver's egress selector (egress "cluster", proxyProtocol
 * HTTPConnect, TLS transport with a client certificate) reaches kubelets,
 * webhooks, pods and services in the shoot. It stands in for Gardener's
 * Envoy sidecar on port 9443.
 *
 * Life of a connection:
 *   accept -> TLS 1.3 handshake, a client certificate signed by
 *   --proxy-ca required -> identity check (PROXY_ALLOWED_CLIENTS)
 *   -> request head (at most PROXY_HEAD_MAX bytes)
 *     -> "CONNECT <IP>:<port>" inside the shoot networks: dial the
 *        target, answer 200, relay both ways until both sides have ended
 *     -> anything else: one answer (400, 403, 405, 414, 431, 502, 503,
 *        504, 505) with a short body and Connection: close, then close.
 * A bad certificate, a malformed request or a failing target closes that
 * one connection and nothing else.
 *
 * Timers (one uv_timer per connection):
 *   - handshake and request head: handshake_ms after accept (the
 *     server's --handshake-timeout);
 *   - dial: PROXY_DIAL_TIMEOUT_MS, then 504 Gateway Timeout;
 *   - relay: PROXY_IDLE_TIMEOUT_MS without a byte in either direction
 *     closes both sides;
 *   - an error answer: written, and what the client still sends drained,
 *     within PROXY_LINGER_MS (so that the close does not turn into a RST
 *     that destroys the answer before the client has read it).
 *
 * Relay: one buffer of PROXY_BUF bytes per direction, allocated once
 * when the target answers (nothing is allocated per chunk). A side is read
 * only while the buffer towards the other side has room, so a slow reader
 * slows the writer down through TCP's flow control. An EOF from one side
 * is passed on (shutdown(SHUT_WR) towards the target; close_notify and a
 * FIN towards the client) and the other direction goes on until it ends
 * too: half-closed connections work.
 *
 * Routing: dialing sockets carry SO_MARK = PROXY_MARK; vpn-server routes
 * that mark by policy (rule "fwmark PROXY_MARK lookup PROXY_TABLE", a table
 * holding every shoot network via the TUN device), so the proxy reaches
 * the shoot even where a shoot network overlaps the seed's own networks.
 * A target the kernel would deliver locally (an address of the seed's own
 * namespace, a broadcast address) is refused with 403 whatever the
 * networks say: the proxy must never become a way into the seed. */
#ifndef TUNNEL_PROXY_H
#define TUNNEL_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <openssl/ssl.h>

#include "tunnel/cidr.h"
#include "tunnel/ctl.h"

enum {
	/* The request line and headers together; kube-apiserver sends about
	 * 60 bytes, curl about 150. 8 KB is what most proxies allow. */
	PROXY_HEAD_MAX = 8192,
	PROXY_HEADERS_MAX = 64,
	/* Per direction. Enough to keep a LAN-to-tunnel path busy while the
	 * other side catches up; 2 x 64 KB per relayed connection. */
	PROXY_BUF = 64 * 1024,
	/* Envoy's (Gardener's) connect_timeout is 20 s; kube-apiserver gives
	 * up on a dial after 30 s. 10 s answers 504 well before either, and
	 * is far above any RTT through a working tunnel. */
	PROXY_DIAL_TIMEOUT_MS = 10 * 1000,
	/* Envoy's default idle timeout for TCP proxying. `kubectl logs -f`
	 * and `kubectl exec` sessions may be quiet for a long time, so this
	 * is not minutes. */
	PROXY_IDLE_TIMEOUT_MS = 60 * 60 * 1000,
	/* Writing an error answer and draining the client afterwards. */
	PROXY_LINGER_MS = 2000,
	/* Envoy's circuit breaker in Gardener allows 8192; each relayed
	 * connection costs about 2 x PROXY_BUF plus OpenSSL's buffers, so
	 * 1024 bounds that to about 150 MB. */
	PROXY_MAX_CONNS = 1024,
	/* Handshakes in flight (a private-key operation each). */
	PROXY_MAX_HANDSHAKES = 64,
	/* The dialing sockets' mark, the routing table of the shoot networks
	 * and the rule's priority ("te" + 1; vpn-shoot uses 0x7464). The
	 * priority puts the rule before the main table (32766). */
	PROXY_MARK = 0x7465,
	PROXY_TABLE = 0x7465,
	PROXY_RULE_PRIO = 0x7465,
};

/* The client identities admitted (certificate CN or DNS SAN, by
 * tls_name_allowed's rule: the name, or the name followed by "-N"):
 * the CN of the certificate Gardener gives kube-apiserver for its egress
 * selector (secret kube-apiserver-http-proxy-client). A fixed list on
 * purpose: the CA of --proxy-ca may sign other clients (in Gardener's
 * ca-vpn, vpn-shoot's own certificate), and those must not reach the
 * shoot through the proxy. */
extern const char *const proxy_allowed_clients[];
extern const size_t proxy_n_allowed_clients;

/* ---- the request head (pure, fuzzed) ---- */

enum proxy_head_result {
	PROXY_HEAD_INCOMPLETE = 0,	/* read more */
	PROXY_HEAD_DONE = 1,		/* req->status says what to do */
};

struct proxy_target {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; IPv4 uses the first 4 */
	uint16_t port;
};

struct proxy_request {
	/* 200: dial target. Otherwise the status to answer: 400 (malformed,
	 * no or a bad port), 403 (a hostname, or an address outside the
	 * shoot networks or never allowed), 405 (not CONNECT), 414 and 431
	 * (too long), 505 (not HTTP/1.x). */
	int status;
	const char *why;	/* for the answer's body and the log; static */
	struct proxy_target target;
	char target_str[64];	/* the request-target as sent (truncated), for logs */
	size_t head_len;	/* bytes up to and with the empty line */
};

/* Parses an HTTP/1.x request head at the start of buf and decides it.
 * The syntax is http_parse_request's (tunnel/http.h) except that the
 * request-target must be in authority-form (RFC 9110 9.3.6): lines end
 * with CRLF or LF, control characters, bare CR and obs-fold are 400, a
 * second Host field is 400 (none is accepted: kube-apiserver sends
 * "Host: 127.0.0.1", other clients the target). Syntax errors are
 * reported as soon as the bad line is complete; the method and the target
 * are judged once the head is complete. Returns PROXY_HEAD_INCOMPLETE
 * (only while len < PROXY_HEAD_MAX) or PROXY_HEAD_DONE with req filled;
 * bytes after head_len are not looked at (a client may send its TLS
 * ClientHello right behind the CONNECT). */
int proxy_parse_head(const char *buf, size_t len, const struct cidr_list *nets,
		     struct proxy_request *req);

/* Judges one CONNECT request-target: "a.b.c.d:port" or "[v6]:port"
 * (port 1..65535, decimal). An IPv4-mapped IPv6 address is taken as the
 * IPv4 address. Returns 200 (and fills *t) if the address lies in nets and
 * is a unicast address; 403 for a hostname (the proxy does not resolve
 * names: kube-apiserver dials IPs), an address outside nets, or an
 * unspecified, loopback, multicast or broadcast address; 400 for anything
 * malformed. *why (if non-NULL) receives a short static explanation. */
int proxy_check_target(const char *s, size_t len, const struct cidr_list *nets,
		       struct proxy_target *t, const char **why);

/* ---- the proxy ---- */

struct proxy_params {
	/* The current context (tls_ctx_new_flags with TLS_NO_ALPN, server
	 * side, --proxy-* files); a reload replaces it, each new connection
	 * takes the one current at its accept. */
	SSL_CTX *const *ctx;
	const struct cidr_list *networks;	/* may be dialed */
	unsigned handshake_ms;			/* TLS and request head */
	/* Optional: false while no tunnel to the shoot is up; CONNECTs are
	 * then answered 503 at once instead of running into the dial
	 * timeout. */
	bool (*tunnel_up)(void *owner);
	void *owner;
	/* 0 means the PROXY_* default (tests shorten them). */
	unsigned dial_timeout_ms, idle_timeout_ms;
};

struct proxy_conn;

/* Zero it, then proxy_start(). */
struct proxy {
	uv_loop_t *loop;
	struct proxy_params p;
	int listen_fd;
	uv_poll_t listen_poll;
	bool open;
	struct proxy_conn *conns;	/* doubly linked, newest first */
	size_t nconns, handshaking;
	unsigned next_id;
};

/* Listens on listen ("ADDR:PORT" or "[v6]:PORT"; "[::]" also serves IPv4
 * and falls back to 0.0.0.0 on a host without IPv6). Returns 0, or
 * -errno with one line in err naming --proxy-listen: -EINVAL for an
 * address that is not numeric, the bind error otherwise. p is copied; what
 * it points to must outlive the proxy. */
int proxy_start(struct proxy *px, uv_loop_t *loop, const char *listen,
		const struct proxy_params *p, char *err, size_t errlen);
/* Stops listening and closes every connection (each gets its access-log
 * line). Handles close asynchronously: run the loop afterwards. Safe to
 * call more than once and after a failed start. */
void proxy_stop(struct proxy *px);
/* Copies the gauge of open connections into the global stats table
 * (after `clear counters` it would otherwise read 0). */
void proxy_stats(const struct proxy *px);
/* `show proxy`: one row per open connection. */
void proxy_show(struct ctl_out *o, const struct proxy *px);

#endif
