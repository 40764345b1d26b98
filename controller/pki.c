/* The shoot's VPN PKI; see pki.h for the files and the renewal rule. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "controller/pki.h"

#define leaf pki_leaf

const char *pki_action_name(enum pki_action a)
{
	switch (a) {
	case PKI_KEPT:
		return "kept";
	case PKI_ISSUED:
		return "issued";
	case PKI_RENEWED:
		return "renewed";
	}
	return "?";
}

static void note(struct pki_result *res, const char *stem, enum pki_action a)
{
	if (!res || res->n >= PKI_ITEMS_MAX)
		return;
	snprintf(res->item[res->n].name, sizeof(res->item[0].name), "%s", stem);
	res->item[res->n++].action = a;
}

static void path_of(char *p, size_t n, const char *dir, const char *stem, const char *ext)
{
	snprintf(p, n, "%s/%s.%s", dir, stem, ext);
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

/* Writes through a temporary file and rename(), so a reader (or a daemon
 * reloading on SIGHUP) never sees half a file. */
static int write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *k,
		     char *err, size_t errlen)
{
	char tmp[4200];
	FILE *f = NULL;
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) || !(f = fdopen(fd, "w"))) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	if ((x && !PEM_write_X509(f, x)) ||
	    (k && !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL))) {
		fclose(f);
		r = -EIO;
		snprintf(err, errlen, "%s: cannot write PEM", tmp);
		goto fail;
	}
	if (fclose(f) || rename(tmp, path)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return r;
}

/* Reads a whole (small) file; -errno. */
static int slurp(const char *path, char **out, size_t *n)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	FILE *m;
	char chunk[4096];
	size_t got;
	int r = 0;

	if (!f)
		return -errno;
	if (!(m = open_memstream(&buf, &cap))) {
		fclose(f);
		return -ENOMEM;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, got, m);
	if (ferror(f))
		r = -EIO;
	fclose(f);
	if (fclose(m))
		r = -ENOMEM;
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	*n = cap;
	return 0;
}

/* As write_pem, for text already rendered. */
static int write_text(const char *path, mode_t mode, const char *text, size_t n,
		      char *err, size_t errlen)
{
	char tmp[4300];
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) || write(fd, text, n) != (ssize_t)n) {
		r = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-r));
		goto fail;
	}
	if (close(fd) || rename(tmp, path)) {
		fd = -1;
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (!e)
		return -EINVAL;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -ENOMEM;
}

/* A certificate for key, signed by issuer (NULL: self-signed CA). */
static X509 *mkcert(EVP_PKEY *key, const char *org, const struct leaf *l, int days,
		    X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	BIGNUM *bn = BN_new();
	char eku[32];

	if (!x || !bn || !X509_set_version(x, 2) || !BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    /* a few minutes back: clocks of seed and shoot nodes differ */
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ||
	    !X509_set_pubkey(x, key))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)l->cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
		goto fail;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (!issuer) {
		if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
		    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
		    add_ext(x, &ctx, NID_subject_key_identifier, "hash"))
			goto fail;
	} else {
		snprintf(eku, sizeof(eku), "%s", l->server ? "serverAuth" : "clientAuth");
		if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
		    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
		    add_ext(x, &ctx, NID_ext_key_usage, eku) ||
		    add_ext(x, &ctx, NID_subject_alt_name, l->san) ||
		    add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
		    add_ext(x, &ctx, NID_authority_key_identifier, "keyid"))
			goto fail;
	}
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

static bool has_cn(X509 *x, const char *cn)
{
	char buf[128];

	return X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
					 sizeof(buf)) > 0 && !strcmp(buf, cn);
}

/* Valid: the key matches, not expiring before `until', the right CN and
 * every DNS name and IP address of the SAN, and (for a leaf) signed by ca. */
static bool still_good(X509 *x, EVP_PKEY *k, const struct leaf *l, X509 *ca, time_t until)
{
	char san[sizeof(l->san)], *tok, *save = NULL;

	if (!x || !k || X509_check_private_key(x, k) != 1 || !has_cn(x, l->cn))
		return false;
	if (X509_cmp_time(X509_get0_notAfter(x), &until) <= 0)
		return false;
	if (!ca)
		return X509_check_ca(x) == 1;
	if (X509_verify(x, X509_get0_pubkey(ca)) != 1)
		return false;
	snprintf(san, sizeof(san), "%s", l->san);
	for (tok = strtok_r(san, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if ((!strncmp(tok, "DNS:", 4) && X509_check_host(x, tok + 4, 0, 0, NULL) != 1) ||
		    (!strncmp(tok, "IP:", 3) && X509_check_ip_asc(x, tok + 3, 0) != 1))
			return false;
	return true;
}

/* Makes sure stem.crt/stem.key are valid; issues them (self-signed when
 * ca is NULL) if not; out_x and out_k (if non-NULL) receive the result. */
static int ensure_one(const char *dir, const struct leaf *l, const char *org, int days,
		      time_t until, X509 *ca, EVP_PKEY *ca_key, X509 **out_x,
		      EVP_PKEY **out_k, struct pki_result *res, char *err, size_t errlen)
{
	char crt[4096], key[4096];
	X509 *x;
	EVP_PKEY *k;
	bool existed;
	int r;

	path_of(crt, sizeof(crt), dir, l->stem, "crt");
	path_of(key, sizeof(key), dir, l->stem, "key");
	x = load_cert(crt);
	k = load_key(key);
	existed = x || k;
	if (still_good(x, k, l, ca, until)) {
		note(res, l->stem, PKI_KEPT);
		goto done;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	x = NULL;
	if (!(k = EVP_EC_gen("P-256")) || !(x = mkcert(k, org, l, days, ca, ca_key))) {
		snprintf(err, errlen, "%s: cannot issue the certificate (OpenSSL error %lu)",
			 crt, ERR_get_error());
		r = -EIO;
		goto fail;
	}
	/* the key first: a new certificate beside an old key would not load */
	if ((r = write_pem(key, 0600, NULL, k, err, errlen)) ||
	    (r = write_pem(crt, 0644, x, NULL, err, errlen)))
		goto fail;
	note(res, l->stem, existed ? PKI_RENEWED : PKI_ISSUED);
done:
	if (out_x)
		*out_x = x;
	else
		X509_free(x);
	if (out_k)
		*out_k = k;
	else
		EVP_PKEY_free(k);
	return 0;
fail:
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

static void server_san(char *san, size_t n, const char *ns)
{
	snprintf(san, n, "DNS:vpn-server,DNS:vpn-seed-server,DNS:vpn-seed-server.%s,"
		 "DNS:vpn-seed-server.%s.svc,DNS:vpn-seed-server.%s.svc.cluster.local",
		 ns, ns, ns);
}

static void set_leaf(struct leaf *l, const char *stem, const char *cn, bool server,
		     const char *san)
{
	snprintf(l->stem, sizeof(l->stem), "%s", stem);
	snprintf(l->cn, sizeof(l->cn), "%s", cn);
	snprintf(l->san, sizeof(l->san), "%s", san);
	l->server = server;
}

/* ca-bundle.crt, what the daemons trust: the CA, and during a rotation
 * (ca-old.crt present) the previous one after it. Rewritten only when its
 * content changes, because the daemons reload on every change. */
static int write_bundle(const char *dir, char *err, size_t errlen)
{
	char path[4200], *want = NULL, *have = NULL;
	size_t wn = 0, hn = 0;
	const char *parts[] = { "ca", "ca-old" };
	FILE *w = NULL;
	size_t i;
	int r = 0;

	if (!(w = open_memstream(&want, &wn)))
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		X509 *x;

		path_of(path, sizeof(path), dir, parts[i], "crt");
		if (!(x = load_cert(path)))
			continue;
		PEM_write_X509(w, x);
		X509_free(x);
	}
	if (fclose(w)) {
		r = -ENOMEM;
		goto out;
	}
	path_of(path, sizeof(path), dir, "ca-bundle", "crt");
	if (slurp(path, &have, &hn) == 0 && hn == wn && !memcmp(have, want, wn))
		goto out;
	r = write_text(path, 0644, want, wn, err, errlen);
out:
	free(want);
	free(have);
	return r;
}

int pki_ensure_set(const char *dir, const char *org, const struct pki_leaf *leaves, size_t nl,
		   const struct pki_opts *o, struct pki_result *res, char *err, size_t errlen)
{
	struct pki_opts d = { PKI_CA_DAYS, PKI_LEAF_DAYS, PKI_RENEW_DAYS };
	struct leaf ca_l = { .stem = "ca", .cn = "ca-vpn" };
	X509 *ca = NULL;
	EVP_PKEY *ca_key = NULL;
	time_t until;
	size_t i;
	int r;

	if (o) {
		d.ca_days = o->ca_days ? o->ca_days : d.ca_days;
		d.leaf_days = o->leaf_days ? o->leaf_days : d.leaf_days;
		d.renew_days = o->renew_days ? o->renew_days : d.renew_days;
	}
	if (res)
		res->n = 0;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return r;
	}
	until = time(NULL) + (time_t)d.renew_days * 86400;
	if ((r = ensure_one(dir, &ca_l, org, d.ca_days, until, NULL, NULL, &ca, &ca_key, res,
			    err, errlen)) ||
	    (r = write_bundle(dir, err, errlen)))
		goto out;
	for (i = 0; i < nl; i++)
		if ((r = ensure_one(dir, &leaves[i], org, d.leaf_days, until, ca, ca_key, NULL,
				    NULL, res, err, errlen)))
			goto out;
out:
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return r;
}

int pki_ensure(const char *dir, const char *ns, bool ha, const struct pki_opts *o,
	       struct pki_result *res, char *err, size_t errlen)
{
	struct leaf leaves[PKI_ITEMS_MAX];
	char org[128], stem[48], san[512];
	size_t nl = 0, i;

	snprintf(org, sizeof(org), "tendril %s", ns);
	memset(leaves, 0, sizeof(leaves));
	server_san(san, sizeof(san), ns);
	set_leaf(&leaves[nl++], "vpn-server", "vpn-server", true, san);
	for (i = 0; i < (ha ? 2u : 1u); i++) {
		if (ha)
			snprintf(stem, sizeof(stem), "vpn-shoot-%zu", i);
		else
			snprintf(stem, sizeof(stem), "vpn-shoot");
		snprintf(san, sizeof(san), "DNS:%s", stem);
		set_leaf(&leaves[nl++], stem, stem, false, san);
	}
	server_san(san, sizeof(san), ns);
	set_leaf(&leaves[nl++], "http-proxy", "vpn-seed-server", true, san);
	set_leaf(&leaves[nl++], "kube-apiserver-http-proxy-client", "kube-apiserver-http-proxy-client",
		 false, "DNS:kube-apiserver-http-proxy-client");
	return pki_ensure_set(dir, org, leaves, nl, o, res, err, errlen);
}

int pki_rotate(const char *dir, const char *ns, enum pki_rotation phase, char *err, size_t errlen)
{
	struct leaf ca_l = { .stem = "ca", .cn = "ca-vpn" };
	char ca[4200], old[4200], key[4200], org[128];
	X509 *x;
	int r;

	path_of(ca, sizeof(ca), dir, "ca", "crt");
	path_of(old, sizeof(old), dir, "ca-old", "crt");
	path_of(key, sizeof(key), dir, "ca", "key");
	if (phase == PKI_ROTATE_COMPLETE) {
		if (unlink(old) && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", old, strerror(errno));
			return -errno;
		}
		return write_bundle(dir, err, errlen);
	}
	/* prepare: a second run of it must not rotate again, but must finish
	 * what a killed one began (the new CA may not have been written) */
	snprintf(org, sizeof(org), "tendril %s", ns);
	if ((x = load_cert(old))) {
		X509_free(x);
		if ((r = ensure_one(dir, &ca_l, org, PKI_CA_DAYS, time(NULL), NULL, NULL, NULL, NULL,
				    NULL, err, errlen)))
			return r;
		return write_bundle(dir, err, errlen);
	}
	if (!(x = load_cert(ca))) {
		snprintf(err, errlen, "%s: no CA to rotate", ca);
		return -ENOENT;
	}
	X509_free(x);
	if (rename(ca, old) || (unlink(key) && errno != ENOENT)) {
		snprintf(err, errlen, "%s: %s", ca, strerror(errno));
		return -errno;
	}
	/* The leaves stay as they are (signed by the old CA, which the
	 * bundle still holds): only once every daemon trusts the new CA
	 * may pki_ensure() reissue them. */
	if ((r = ensure_one(dir, &ca_l, org, PKI_CA_DAYS, time(NULL), NULL, NULL, NULL, NULL, NULL,
			    err, errlen)))
		return r;
	return write_bundle(dir, err, errlen);
}
