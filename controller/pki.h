/* The shoot's VPN PKI, generated with OpenSSL (EC P-256): a per-shoot CA
 * and the certificates the daemons and kube-apiserver need, as PEM files
 * under one directory (keys 0600, certificates 0644):
 *
 *   ca.crt ca.key                          the shoot's VPN CA
 *   vpn-server.crt .key                    CN vpn-server, DNS vpn-server,
 *                                          vpn-seed-server[.<ns>.svc[.cluster.local]],
 *                                          serverAuth
 *   vpn-shoot.crt .key (HA: vpn-shoot-0, vpn-shoot-1)   clientAuth
 *   http-proxy.crt .key                    the HTTP CONNECT proxy (port 9443),
 *                                          CN vpn-seed-server, same DNS names, serverAuth
 *   kube-apiserver-http-proxy-client.crt .key   kube-apiserver's egress client, clientAuth
 *
 * and ca-bundle.crt, the CAs the daemons trust (--ca): ca.crt, and during a
 * rotation the previous CA (ca-old.crt) too.
 *
 * pki_ensure() is idempotent: it keeps what is valid and reissues what is
 * missing, unreadable, not signed by the CA, missing a name, or expiring
 * within renew_days. A new CA reissues every leaf.
 *
 * A CA rotation keeps every tunnel up, because no daemon is ever shown a
 * certificate it does not trust:
 *   1. pki_rotate(PREPARE): the CA becomes ca-old.crt, a new CA is issued,
 *      the bundle holds both; the leaves are untouched. Reload every daemon.
 *   2. pki_ensure(): the leaves are reissued by the new CA. Reload again.
 *   3. pki_rotate(COMPLETE): ca-old.crt goes, the bundle holds the new CA
 *      alone. Reload again. */
#ifndef CONTROLLER_PKI_H
#define CONTROLLER_PKI_H

#include <stdbool.h>
#include <stddef.h>

enum {
	PKI_CA_DAYS = 3650,
	PKI_LEAF_DAYS = 365,
	PKI_RENEW_DAYS = 30,	/* renew what expires within this */
	PKI_ITEMS_MAX = 8,
};

struct pki_leaf {
	char stem[48];		/* file stem */
	char cn[64];
	bool server;		/* serverAuth, else clientAuth */
	char san[512];		/* "DNS:a,DNS:b,IP:192.0.2.1" */
};

enum pki_rotation { PKI_ROTATE_PREPARE, PKI_ROTATE_COMPLETE };

struct pki_opts {
	int ca_days, leaf_days, renew_days;	/* 0: the defaults above */
};

enum pki_action { PKI_KEPT, PKI_ISSUED, PKI_RENEWED };

struct pki_result {
	size_t n;
	struct {
		char name[48];		/* file stem: "vpn-server" */
		enum pki_action action;
	} item[PKI_ITEMS_MAX];
};

/* ns is the seed namespace of the shoot's control plane (for the
 * Service names); ha issues one client certificate per agent replica.
 * res and o may be NULL. Returns 0 or -errno, err naming the file. */
int pki_ensure(const char *dir, const char *ns, bool ha, const struct pki_opts *o,
	       struct pki_result *res, char *err, size_t errlen);
/* The same for any set of leaves under their own CA (org names it), e.g.
 * the kubelets' serving certificates of the local backend. */
int pki_ensure_set(const char *dir, const char *org, const struct pki_leaf *leaves, size_t n,
		   const struct pki_opts *o, struct pki_result *res, char *err, size_t errlen);
/* One step of a CA rotation (see above); each is idempotent. */
int pki_rotate(const char *dir, const char *ns, enum pki_rotation phase, char *err, size_t errlen);
const char *pki_action_name(enum pki_action a);

#endif
