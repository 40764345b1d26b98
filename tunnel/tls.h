/* TLS 1.3 contexts and peer identity rules (OpenSSL). */
#ifndef TUNNEL_TLS_H
#define TUNNEL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

/* Builds a context for one side: TLS 1.3 only, AEAD suites only, peer
 * certificate required and verified against ca (with the purpose of the
 * other side: a server checks for clientAuth, a client for serverAuth),
 * ALPN PROTO_ALPN required (see TLS_NO_ALPN below), no session tickets (each connection proves
 * its certificate anew). flagpfx ("" or "proxy-") names the flags in
 * errors: "--cert: /x/tls.crt: No such file or directory". */
int tls_ctx_new(SSL_CTX **out, bool server, const char *flagpfx,
		const char *cert, const char *key, const char *ca,
		char *err, size_t errlen);

enum tls_flags {
	/* No ALPN at all: for a server that speaks plain HTTP/1.1 inside TLS
	 * (the HTTP CONNECT proxy), whose clients (curl, kube-apiserver)
	 * offer "http/1.1" or nothing, never PROTO_ALPN. */
	TLS_NO_ALPN = 1U << 0,
	/* Kernel TLS (--ktls on): OpenSSL hands the records' encryption to
	 * the kernel where both it (built with kTLS) and the kernel (the
	 * "tls" TCP ULP) can; otherwise nothing changes. */
	TLS_KTLS = 1U << 1,
};

/* Whether this kernel offers the "tls" TCP upper-layer protocol (the
 * module may also load on first use, so "no" is a hint, not a verdict). */
bool tls_kernel_has_ktls(void);

/* tls_ctx_new with flags (enum tls_flags); tls_ctx_new is flags = 0. */
int tls_ctx_new_flags(SSL_CTX **out, bool server, const char *flagpfx,
		      const char *cert, const char *key, const char *ca,
		      unsigned flags, char *err, size_t errlen);

/* The identity rule of --allowed-client: the name itself, or its first
 * label followed by "-N" (HA replicas): "vpn-shoot" admits "vpn-shoot" and
 * "vpn-shoot-1"; "vpn-shoot.ns" admits "vpn-shoot-0.ns". */
bool tls_name_allowed(const char *identity, const char *allowed);

/* Checks the verified peer certificate's CN and DNS SANs against allowed.
 * Returns 0 and the matching identity, or -EACCES and the CN (for the
 * log line). */
int tls_peer_check(SSL *ssl, const char *const *allowed, size_t n,
		   char *identity, size_t idlen);

/* Why the last handshake on ssl failed, for an operator: the certificate
 * verification error if there was one, else OpenSSL's reason. Drains the
 * error queue. */
void tls_failure_reason(SSL *ssl, int ret, char *buf, size_t len);

#endif
