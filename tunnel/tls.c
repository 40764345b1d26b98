#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tunnel/proto.h"
#include "tunnel/tls.h"

/* AEAD only; AES-256-GCM first as in Gardener's OpenVPN settings. */
static const char tls__suites[] =
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

static int tls__alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x09" PROTO_ALPN;

	/* No common protocol ends the handshake with no_application_protocol:
	 * a peer of another version learns it in the handshake itself. */
	if (SSL_select_next_proto((unsigned char **)out, outlen, ours, sizeof(ours) - 1,
				  in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

static void tls__openssl_err(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", r ? r : "unknown error");
	ERR_clear_error();
}

static int tls__readable(const char *flagpfx, const char *flag, const char *path,
			 char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "--%s%s: %s: %s", flagpfx, flag, path, strerror(errno));
	return -ENOENT;
}

int tls_ctx_new(SSL_CTX **out, bool server, const char *flagpfx,
		const char *cert, const char *key, const char *ca,
		char *err, size_t errlen)
{
	return tls_ctx_new_flags(out, server, flagpfx, cert, key, ca, 0, err, errlen);
}

int tls_ctx_new_flags(SSL_CTX **out, bool server, const char *flagpfx,
		      const char *cert, const char *key, const char *ca,
		      unsigned flags, char *err, size_t errlen)
{
	char why[200];
	struct stat st;
	SSL_CTX *ctx;
	int ret = -EINVAL;

	if (tls__readable(flagpfx, "cert", cert, err, errlen) ||
	    tls__readable(flagpfx, "key", key, err, errlen) ||
	    tls__readable(flagpfx, "ca", ca, err, errlen))
		return -ENOENT;
	/* A private key anyone on the host can read is already lost;
	 * refusing it makes the deployment fix its file mode (Kubernetes:
	 * defaultMode 0400 on the secret volume). Group access is allowed
	 * for fsGroup set-ups. */
	if (!stat(key, &st) && (st.st_mode & S_IRWXO)) {
		snprintf(err, errlen, "--%skey: %s is accessible by others (mode %04o); make it 0600 or 0400",
			 flagpfx, key, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}

	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "TLS: cannot create a context");
		return -ENOMEM;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, tls__suites)) {
		snprintf(err, errlen, "TLS: this OpenSSL cannot do TLS 1.3");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls__openssl_err(why, sizeof(why));
		snprintf(err, errlen, "--%scert: %s: %s", flagpfx, cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls__openssl_err(why, sizeof(why));
		snprintf(err, errlen, "--%skey: %s: %s", flagpfx, key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "--%skey: %s does not match the certificate %s", flagpfx, key, cert);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls__openssl_err(why, sizeof(why));
		snprintf(err, errlen, "--%sca: %s: %s", flagpfx, ca, why);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_purpose(ctx, server ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	/* Read ahead: one read() takes in several records instead of one
	 * syscall per header and per body. conn.c stops reading only when
	 * SSL_has_pending() says that nothing, not even ciphertext, waits
	 * inside OpenSSL where poll cannot see it. A tunnel turns it on
	 * only once it is up, and only if it stays with TLS records
	 * (conn.c, sealed records). */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, 4 * SSL3_RT_MAX_PLAIN_LENGTH);
#ifdef SSL_OP_ENABLE_KTLS
	if (flags & TLS_KTLS)
		SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
#endif
	/* Partial writes let a big batch go out record by record; the
	 * moving buffer lets us compact the queue between retries (not while
	 * the kernel encrypts: conn.c, conn__may_move). Released buffers
	 * keep an idle tunnel small. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			      SSL_MODE_RELEASE_BUFFERS);
	if (flags & TLS_NO_ALPN) {
		/* Neither offered nor selected. */
	} else if (server) {
		SSL_CTX_set_alpn_select_cb(ctx, tls__alpn_select, NULL);
	} else if (SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x09" PROTO_ALPN,
					   sizeof(PROTO_ALPN))) {
		snprintf(err, errlen, "TLS: cannot set ALPN");
		goto fail;
	}
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return ret;
}

bool tls_name_allowed(const char *id, const char *allowed)
{
	size_t label = strcspn(allowed, ".");
	const char *p;

	if (!strcmp(id, allowed))
		return true;
	if (strncmp(id, allowed, label) || id[label] != '-')
		return false;
	p = id + label + 1;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return !strcmp(p, allowed + label);
}

static bool tls__any_allowed(const char *id, const char *const *allowed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tls_name_allowed(id, allowed[i]))
			return true;
	return false;
}

int tls_peer_check(SSL *ssl, const char *const *allowed, size_t n,
		   char *identity, size_t idlen)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	GENERAL_NAMES *sans;
	char cn[256] = "";
	int ret = -EACCES;

	snprintf(identity, idlen, "(no certificate)");
	if (!cert)
		return -EACCES;
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	snprintf(identity, idlen, "%s", cn[0] ? cn : "(no CN)");
	/* An identity with embedded NULs or that differs in length from its
	 * ASN.1 string is refused below by strcmp on the C string. */
	if (cn[0] && tls__any_allowed(cn, allowed, n))
		return 0;

	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const unsigned char *d;
		char dns[256];
		int len;

		if (g->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || (size_t)len >= sizeof(dns) || memchr(d, 0, (size_t)len))
			continue;
		memcpy(dns, d, (size_t)len);
		dns[len] = '\0';
		if (tls__any_allowed(dns, allowed, n)) {
			snprintf(identity, idlen, "%s", dns);
			ret = 0;
			break;
		}
	}
	GENERAL_NAMES_free(sans);
	return ret;
}

void tls_failure_reason(SSL *ssl, int ret, char *buf, size_t len)
{
	long v = SSL_get_verify_result(ssl);
	int e = SSL_get_error(ssl, ret);
	unsigned long oe = ERR_peek_error();

	if (v != X509_V_OK && SSL_get0_peer_certificate(ssl)) {
		snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(v));
	} else if (v != X509_V_OK && oe && ERR_GET_REASON(oe) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(v));
	} else if (oe) {
		const char *r = ERR_reason_error_string(oe);
		snprintf(buf, len, "%s", r ? r : "TLS error");
	} else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
		snprintf(buf, len, "connection closed by peer");
	} else {
		snprintf(buf, len, "TLS error %d", e);
	}
	ERR_clear_error();
}

bool tls_kernel_has_ktls(void)
{
	char buf[256] = "", *tok, *save = NULL;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re");
	bool yes = false;

	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
			yes |= !strcmp(tok, "tls");
	fclose(f);
	return yes;
}
