/* controller/pki: the chain verifies, names and key usages are right,
 * keys are 0600, and re-running keeps valid material and renews what
 * expires soon. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "controller/pki.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_pki.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static X509 *load(const char *stem)
{
	char p[256];
	FILE *f;
	X509 *x;

	snprintf(p, sizeof(p), "%s/%s.crt", dir, stem);
	if (!(f = fopen(p, "r")))
		fail_msg("%s: %s", p, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

/* Verifies stem against ca.crt for the given purpose. */
static void verify(const char *stem, int purpose)
{
	X509 *ca = load("ca"), *x = load(stem);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	assert_int_equal(X509_STORE_add_cert(st, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, x, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("%s: %s", stem, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(ca);
	X509_free(x);
}

static enum pki_action action(const struct pki_result *r, const char *stem)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->item[i].name, stem))
			return r->item[i].action;
	fail_msg("%s not in the result", stem);
	return PKI_KEPT;
}

static void key_mode(const char *stem, mode_t want)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s.key", dir, stem);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, want);
}

static void chain_names_usage(void **state)
{
	struct pki_result res;
	char err[256] = "";
	X509 *x;

	if (pki_ensure(dir, "shoot--dev--demo", false, NULL, &res, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(res.n, 5);
	assert_int_equal(action(&res, "ca"), PKI_ISSUED);
	verify("vpn-server", X509_PURPOSE_SSL_SERVER);
	verify("http-proxy", X509_PURPOSE_SSL_SERVER);
	verify("vpn-shoot", X509_PURPOSE_SSL_CLIENT);
	verify("kube-apiserver-http-proxy-client", X509_PURPOSE_SSL_CLIENT);

	x = load("vpn-server");
	assert_int_equal(X509_check_host(x, "vpn-server", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "vpn-seed-server", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "vpn-seed-server.shoot--dev--demo.svc", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "vpn-seed-server.shoot--dev--demo.svc.cluster.local",
					 0, 0, NULL), 1);
	assert_int_not_equal(X509_check_host(x, "evil", 0, 0, NULL), 1);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_check_ca(x), 0);
	X509_free(x);
	x = load("vpn-shoot");
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	X509_free(x);
	x = load("ca");
	assert_int_equal(X509_check_ca(x), 1);
	X509_free(x);
	key_mode("ca", 0600);
	key_mode("vpn-server", 0600);
	key_mode("kube-apiserver-http-proxy-client", 0600);
}

static void ha_clients(void **state)
{
	struct pki_result res;
	char err[256] = "";

	if (pki_ensure(dir, "ns", true, NULL, &res, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(res.n, 6);
	verify("vpn-shoot-0", X509_PURPOSE_SSL_CLIENT);
	verify("vpn-shoot-1", X509_PURPOSE_SSL_CLIENT);
}

static void keep_and_renew(void **state)
{
	struct pki_opts shortlived = { .leaf_days = 10 };
	struct pki_result res;
	char err[256] = "";
	X509 *before, *after;

	assert_int_equal(pki_ensure(dir, "ns", false, &shortlived, &res, err, sizeof(err)), 0);
	before = load("vpn-server");
	/* expiring within 30 days: renewed; the CA is kept */
	assert_int_equal(pki_ensure(dir, "ns", false, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(action(&res, "ca"), PKI_KEPT);
	assert_int_equal(action(&res, "vpn-server"), PKI_RENEWED);
	assert_int_equal(action(&res, "vpn-shoot"), PKI_RENEWED);
	after = load("vpn-server");
	assert_int_not_equal(X509_cmp(before, after), 0);
	X509_free(before);
	verify("vpn-server", X509_PURPOSE_SSL_SERVER);
	/* now valid: everything kept, nothing rewritten */
	assert_int_equal(pki_ensure(dir, "ns", false, NULL, &res, err, sizeof(err)), 0);
	for (size_t i = 0; i < res.n; i++)
		assert_int_equal(res.item[i].action, PKI_KEPT);
	before = load("vpn-server");
	assert_int_equal(X509_cmp(before, after), 0);
	X509_free(before);
	X509_free(after);
	/* another namespace: the server's names changed, it is reissued */
	assert_int_equal(pki_ensure(dir, "other", false, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(action(&res, "vpn-server"), PKI_RENEWED);
	assert_int_equal(action(&res, "vpn-shoot"), PKI_KEPT);
}

static void new_ca_reissues_all(void **state)
{
	struct pki_result res;
	char err[256] = "", p[256];

	assert_int_equal(pki_ensure(dir, "ns", false, NULL, &res, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/ca.key", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(pki_ensure(dir, "ns", false, NULL, &res, err, sizeof(err)), 0);
	for (size_t i = 0; i < res.n; i++)
		assert_int_equal(res.item[i].action, PKI_RENEWED);
	verify("vpn-shoot", X509_PURPOSE_SSL_CLIENT);
}

/* How many certificates stem.crt holds. */
static int count_certs(const char *stem)
{
	char p[256];
	FILE *f;
	X509 *x;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s.crt", dir, stem);
	if (!(f = fopen(p, "r")))
		fail_msg("%s: %s", p, strerror(errno));
	while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	fclose(f);
	return n;
}

/* Signed by the key of the certificate in stem_ca.crt? */
static bool signed_by(const char *stem, const char *stem_ca)
{
	X509 *x = load(stem), *ca = load(stem_ca);
	bool ok = X509_verify(x, X509_get0_pubkey(ca)) == 1;

	X509_free(x);
	X509_free(ca);
	return ok;
}

/* The three steps of a rotation: no daemon is ever shown a certificate
 * from a CA that is not in the bundle it was given before. */
static void ca_rotation(void **state)
{
	struct pki_result res;
	char err[256] = "";
	X509 *leaf_before, *leaf;

	assert_int_equal(pki_ensure(dir, "ns", false, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(count_certs("ca-bundle"), 1);
	leaf_before = load("vpn-server");

	/* 1: both CAs trusted, leaves untouched (still the old CA's) */
	assert_int_equal(pki_rotate(dir, "ns", PKI_ROTATE_PREPARE, err, sizeof(err)), 0);
	assert_int_equal(count_certs("ca-bundle"), 2);
	assert_true(signed_by("vpn-server", "ca-old"));
	assert_false(signed_by("vpn-server", "ca"));
	leaf = load("vpn-server");
	assert_int_equal(X509_cmp(leaf, leaf_before), 0);
	X509_free(leaf);
	/* a second prepare does not rotate again */
	leaf = load("ca");
	assert_int_equal(pki_rotate(dir, "ns", PKI_ROTATE_PREPARE, err, sizeof(err)), 0);
	leaf_before = (X509_free(leaf_before), load("ca"));
	assert_int_equal(X509_cmp(leaf, leaf_before), 0);
	X509_free(leaf);
	X509_free(leaf_before);

	/* 2: the leaves move to the new CA; the bundle still has both */
	assert_int_equal(pki_ensure(dir, "ns", false, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(action(&res, "ca"), PKI_KEPT);
	assert_int_equal(action(&res, "vpn-server"), PKI_RENEWED);
	assert_true(signed_by("vpn-server", "ca"));
	assert_true(signed_by("vpn-shoot", "ca"));
	assert_int_equal(count_certs("ca-bundle"), 2);

	/* 3: the old CA leaves the bundle */
	assert_int_equal(pki_rotate(dir, "ns", PKI_ROTATE_COMPLETE, err, sizeof(err)), 0);
	assert_int_equal(count_certs("ca-bundle"), 1);
	verify("vpn-server", X509_PURPOSE_SSL_SERVER);
	assert_int_equal(pki_rotate(dir, "ns", PKI_ROTATE_COMPLETE, err, sizeof(err)), 0);
}

/* Extra leaves under their own CA, with IP addresses checked. */
static void own_set_ip_names(void **state)
{
	struct pki_leaf l = { .stem = "kubelet-0", .cn = "kubelet", .server = true,
			      .san = "IP:10.250.0.10,DNS:node-0" };
	struct pki_result res;
	char err[256] = "";
	X509 *x;

	assert_int_equal(pki_ensure_set(dir, "kubelets", &l, 1, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(action(&res, "kubelet-0"), PKI_ISSUED);
	verify("kubelet-0", X509_PURPOSE_SSL_SERVER);
	x = load("kubelet-0");
	assert_int_equal(X509_check_ip_asc(x, "10.250.0.10", 0), 1);
	X509_free(x);
	assert_int_equal(pki_ensure_set(dir, "kubelets", &l, 1, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(action(&res, "kubelet-0"), PKI_KEPT);
	/* a new address: reissued */
	snprintf(l.san, sizeof(l.san), "IP:10.250.0.11");
	assert_int_equal(pki_ensure_set(dir, "kubelets", &l, 1, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(action(&res, "kubelet-0"), PKI_RENEWED);
}

static void unwritable_dir(void **state)
{
	char err[256] = "";

	assert_true(pki_ensure("/proc/no/such/dir", "ns", false, NULL, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/proc/no/such/dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(chain_names_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(ha_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(ca_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(own_set_ip_names, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_and_renew, setup, teardown),
		cmocka_unit_test_setup_teardown(new_ca_reissues_all, setup, teardown),
		cmocka_unit_test(unwritable_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
