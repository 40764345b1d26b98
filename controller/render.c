/* The manifests; faithful to what Gardener deploys (see
 * docs of the reference, §6) and stricter where we can be: only NET_ADMIN,
 * seccomp RuntimeDefault, keys in 0400 secret volumes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "controller/render.h"

#define IMAGE_SERVER "tendril/vpn-server:latest"
#define IMAGE_SHOOT "tendril/vpn-shoot:latest"

void render_seed_namespace(const struct shoot_spec *s, char *buf, size_t len)
{
	snprintf(buf, len, "shoot--%s--%s", s->project, s->name);
}

/* The base64 of a file, or of "PLACEHOLDER" without a directory. */
static int b64_file(const char *dir, const char *file, char **out, char *err, size_t errlen)
{
	char path[4200], *raw = NULL;
	FILE *f = NULL;
	long n;
	int r = 0;

	if (!dir) {
		*out = strdup("PLACEHOLDER");
		return *out ? 0 : -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!(f = fopen(path, "rbe")) || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!(raw = malloc((size_t)n + 1)) || !(*out = malloc(((size_t)n + 2) / 3 * 4 + 1))) {
		r = -ENOMEM;
		goto out;
	}
	if (fread(raw, 1, (size_t)n, f) != (size_t)n) {
		r = -EIO;
		free(*out);
		snprintf(err, errlen, "%s: short read", path);
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)*out, (unsigned char *)raw, (int)n);
out:
	free(raw);
	if (f)
		fclose(f);
	return r;
}

static bool access_bundle(const char *dir)
{
	char path[4200];

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/ca-bundle.crt", dir);
	return access(path, R_OK) == 0;
}

/* A TLS secret from pki/<stem>.crt, .key and ca-bundle.crt. */
static int secret(FILE *o, const char *name, const char *ns, const char *dir, const char *stem,
		  bool with_key, char *err, size_t errlen)
{
	char file[128], *crt = NULL, *key = NULL, *ca = NULL;
	int r;

	snprintf(file, sizeof(file), "%s.crt", stem);
	if ((r = b64_file(dir, file, &crt, err, errlen)) ||
	    /* the bundle the daemons trust; a PKI made before bundles has
	     * only its CA */
	    (r = b64_file(dir, access_bundle(dir) ? "ca-bundle.crt" : "ca.crt", &ca, err, errlen)))
		goto out;
	snprintf(file, sizeof(file), "%s.key", stem);
	if (with_key && (r = b64_file(dir, file, &key, err, errlen)))
		goto out;
	fprintf(o, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n"
		"  labels:\n    app.kubernetes.io/managed-by: shootctl\ntype: Opaque\ndata:\n"
		"  ca.crt: %s\n  tls.crt: %s\n", name, ns, ca, crt);
	if (with_key)
		fprintf(o, "  tls.key: %s\n", key);
out:
	free(crt);
	free(key);
	free(ca);
	return r;
}

static void security(FILE *o, const char *ind)
{
	fprintf(o, "%ssecurityContext:\n%s  privileged: false\n%s  allowPrivilegeEscalation: false\n"
		"%s  readOnlyRootFilesystem: true\n%s  capabilities:\n%s    drop: [ALL]\n"
		"%s    add: [NET_ADMIN]\n", ind, ind, ind, ind, ind, ind, ind);
}

/* The metrics port (closing the container's ports list, which the caller
 * opened) and the probes on it. */
static void probes(FILE *o, int port, const char *ready_path)
{
	fprintf(o, "          - name: metrics\n            containerPort: %d\n"
		"          livenessProbe:\n            httpGet: {path: /healthz, port: %d}\n"
		"            periodSeconds: 10\n            failureThreshold: 3\n"
		"          readinessProbe:\n            httpGet: {path: %s, port: %d}\n"
		"            periodSeconds: 5\n", port, port, ready_path, port);
}

static void tun_volume(FILE *o)
{
	fprintf(o, "        - name: dev-net-tun\n          hostPath:\n            path: /dev/net/tun\n"
		"            type: CharDevice\n");
}

static void workload_head(FILE *o, bool ha, const char *name, const char *ns, int replicas,
			  const char *service)
{
	fprintf(o, "---\napiVersion: apps/v1\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n"
		"  labels:\n    app: %s\nspec:\n  replicas: %d\n  revisionHistoryLimit: 2\n",
		ha ? "StatefulSet" : "Deployment", name, ns, name, replicas);
	if (ha)
		fprintf(o, "  serviceName: %s\n  podManagementPolicy: Parallel\n", service);
	else
		fprintf(o, "  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n"
			"      maxSurge: 100%%\n      maxUnavailable: 0\n");
	fprintf(o, "  selector:\n    matchLabels:\n      app: %s\n", name);
}

static void pdb(FILE *o, const char *name, const char *ns)
{
	fprintf(o, "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: %s\n"
		"  namespace: %s\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n"
		"      app: %s\n", name, ns, name);
}

static int seed(FILE *o, const struct shoot_spec *s, const char *ns, const char *dir, char *err,
		size_t errlen)
{
	int r, i, n = spec_replicas(s);

	fprintf(o, "# Seed: the shoot's control-plane namespace. Rendered by shootctl.\n"
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n"
		"    gardener.cloud/role: shoot\n    project.gardener.cloud/name: %s\n"
		"    shoot.gardener.cloud/name: %s\n", ns, s->project, s->name);
	if ((r = secret(o, "vpn-seed-server", ns, dir, "vpn-server", true, err, errlen)) ||
	    (r = secret(o, "vpn-seed-server-http-proxy", ns, dir, "http-proxy", true, err, errlen)) ||
	    (r = secret(o, "kube-apiserver-http-proxy-client", ns, dir,
			"kube-apiserver-http-proxy-client", true, err, errlen)))
		return r;

	workload_head(o, s->ha, "vpn-seed-server", ns, n, "vpn-seed-server");
	fprintf(o, "  template:\n    metadata:\n      labels:\n        app: vpn-seed-server\n"
		"        networking.gardener.cloud/to-dns: allowed\n"
		"      annotations:\n        prometheus.io/scrape: \"true\"\n"
		"        prometheus.io/port: \"15000\"\n        prometheus.io/path: /metrics\n"
		"    spec:\n      automountServiceAccountToken: false\n"
		"      priorityClassName: gardener-system-300\n      dnsPolicy: Default\n"
		"      terminationGracePeriodSeconds: 30\n"
		"      securityContext:\n        seccompProfile:\n          type: RuntimeDefault\n"
		"      containers:\n        - name: vpn-seed-server\n          image: " IMAGE_SERVER "\n"
		"          env:\n"
		"            - {name: SHOOT_POD_NETWORKS, value: \"%s\"}\n"
		"            - {name: SHOOT_SERVICE_NETWORKS, value: \"%s\"}\n"
		"            - {name: SHOOT_NODE_NETWORKS, value: \"%s\"}\n"
		"            - {name: ALLOWED_CLIENTS, value: vpn-shoot}\n"
		"            - {name: VPN_LISTEN, value: \"[::]:1194\"}\n"
		"            - {name: PROXY_LISTEN, value: \"[::]:9443\"}\n"
		"            - {name: METRICS_LISTEN, value: \"[::]:15000\"}\n"
		"            - {name: TLS_CERT, value: /srv/secrets/vpn/tls.crt}\n"
		"            - {name: TLS_KEY, value: /srv/secrets/vpn/tls.key}\n"
		"            - {name: TLS_CA, value: /srv/secrets/vpn/ca.crt}\n"
		"            - {name: PROXY_TLS_CERT, value: /srv/secrets/proxy/tls.crt}\n"
		"            - {name: PROXY_TLS_KEY, value: /srv/secrets/proxy/tls.key}\n"
		"            - {name: PROXY_TLS_CA, value: /srv/secrets/proxy/ca.crt}\n"
		"            - {name: LOG_FORMAT, value: json}\n"
		"          ports:\n          - {name: vpn, containerPort: 1194}\n"
		"          - {name: http-proxy, containerPort: 9443}\n",
		s->pods_str, s->services_str, s->nodes_str);
	/* Ready on /healthz: an unready server would leave the Service the
	 * agents need to reach it in the first place. */
	probes(o, 15000, "/healthz");
	security(o, "          ");
	fprintf(o, "          resources:\n            requests: {cpu: 10m, memory: 16Mi}\n"
		"          volumeMounts:\n            - {name: vpn, mountPath: /srv/secrets/vpn, readOnly: true}\n"
		"            - {name: proxy, mountPath: /srv/secrets/proxy, readOnly: true}\n"
		"            - {name: dev-net-tun, mountPath: /dev/net/tun}\n"
		"            - {name: run, mountPath: /run/vpn-server}\n"
		"      volumes:\n"
		"        - name: vpn\n          secret: {secretName: vpn-seed-server, defaultMode: 0400}\n"
		"        - name: proxy\n          secret: {secretName: vpn-seed-server-http-proxy, defaultMode: 0400}\n"
		"        - name: run\n          emptyDir: {}\n");
	tun_volume(o);
	if (s->ha)
		pdb(o, "vpn-seed-server", ns);

	/* The Service the agents and kube-apiserver use; in HA one per server
	 * replica as well, so that each agent keeps a tunnel to each. */
	for (i = -1; i < (s->ha ? n : 0); i++) {
		char name[64];

		if (i < 0)
			snprintf(name, sizeof(name), "vpn-seed-server");
		else
			snprintf(name, sizeof(name), "vpn-seed-server-%d", i);
		fprintf(o, "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\n"
			"spec:\n  type: ClusterIP\n  publishNotReadyAddresses: true\n  selector:\n"
			"    app: vpn-seed-server\n", name, ns);
		if (i >= 0)
			fprintf(o, "    statefulset.kubernetes.io/pod-name: vpn-seed-server-%d\n", i);
		fprintf(o, "  ports:\n    - {name: vpn-seed-server, port: 1194, targetPort: 1194, protocol: TCP}\n"
			"    - {name: http-proxy, port: 9443, targetPort: 9443, protocol: TCP}\n"
			"    - {name: metrics, port: 15000, targetPort: 15000, protocol: TCP}\n");
	}
	fprintf(o, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
		"  name: allow-to-vpn-seed-server\n  namespace: %s\nspec:\n  podSelector:\n"
		"    matchLabels:\n      app: vpn-seed-server\n  policyTypes: [Ingress]\n  ingress:\n"
		"    - ports: [{port: 1194, protocol: TCP}]\n"
		"    - from:\n        - podSelector:\n            matchLabels:\n"
		"              app: kubernetes\n              role: apiserver\n"
		"      ports: [{port: 9443, protocol: TCP}]\n"
		"    - from:\n        - namespaceSelector:\n            matchLabels:\n"
		"              kubernetes.io/metadata.name: garden\n"
		"      ports: [{port: 15000, protocol: TCP}]\n", ns);
	fprintf(o, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
		"  name: kube-apiserver-egress-selector-configuration\n  namespace: %s\ndata:\n"
		"  egress-selector-configuration.yaml: |\n"
		"    apiVersion: apiserver.k8s.io/v1beta1\n    kind: EgressSelectorConfiguration\n"
		"    egressSelections:\n    - name: cluster\n      connection:\n"
		"        proxyProtocol: HTTPConnect\n        transport:\n          tcp:\n"
		"            url: https://vpn-seed-server:9443\n            tlsConfig:\n"
		"              caBundle: /srv/kubernetes/http-proxy/ca.crt\n"
		"              clientCert: /srv/kubernetes/http-proxy/tls.crt\n"
		"              clientKey: /srv/kubernetes/http-proxy/tls.key\n"
		"    - name: controlplane\n      connection:\n        proxyProtocol: Direct\n"
		"    - name: etcd\n      connection:\n        proxyProtocol: Direct\n", ns);
	return 0;
}

static int shoot(FILE *o, const struct shoot_spec *s, const char *ns, const char *dir, char *err,
		 size_t errlen)
{
	const char *kns = "kube-system";
	int r, i, n = spec_replicas(s);
	char stem[32], name[48];

	fprintf(o, "# Shoot: vpn-shoot in kube-system. Rendered by shootctl.\n"
		"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vpn-shoot\n  namespace: %s\n"
		"automountServiceAccountToken: false\n", kns);
	for (i = 0; i < n; i++) {
		snprintf(stem, sizeof(stem), s->ha ? "vpn-shoot-%d" : "vpn-shoot", i);
		snprintf(name, sizeof(name), s->ha ? "vpn-shoot-client-%d" : "vpn-shoot-client", i);
		if ((r = secret(o, name, kns, dir, stem, true, err, errlen)))
			return r;
	}
	fprintf(o, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
		"  name: gardener.cloud--allow-vpn\n  namespace: %s\nspec:\n  podSelector:\n"
		"    matchLabels:\n      app: vpn-shoot\n  policyTypes: [Egress, Ingress]\n"
		"  egress:\n    - {}\n  ingress:\n    - ports: [{port: 15001, protocol: TCP}]\n", kns);
	/* In HA one Deployment per agent, each with its own client
	 * certificate (vpn-shoot-<i>), so no replica needs to pick its
	 * identity at start-up; the PodDisruptionBudget spans them. */
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), s->ha ? "vpn-shoot-%d" : "vpn-shoot", i);
		fprintf(o, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n"
			"  namespace: %s\n  labels:\n    app: vpn-shoot\nspec:\n  replicas: 1\n"
			"  revisionHistoryLimit: 2\n  strategy:\n    type: RollingUpdate\n"
			"    rollingUpdate:\n      maxSurge: 100%%\n      maxUnavailable: 0\n"
			"  selector:\n    matchLabels:\n      app: vpn-shoot\n      instance: %s\n",
			name, kns, name);
		fprintf(o, "  template:\n    metadata:\n      labels:\n        app: vpn-shoot\n"
			"        instance: %s\n"
			"        type: tunnel\n        gardener.cloud/role: system-component\n"
			"      annotations:\n        prometheus.io/scrape: \"true\"\n"
			"        prometheus.io/port: \"15001\"\n        prometheus.io/path: /metrics\n"
			"    spec:\n      serviceAccountName: vpn-shoot\n"
			"      automountServiceAccountToken: false\n"
			"      priorityClassName: system-cluster-critical\n      dnsPolicy: Default\n"
			"      securityContext:\n        seccompProfile:\n          type: RuntimeDefault\n"
			"      containers:\n        - name: vpn-shoot\n          image: " IMAGE_SHOOT "\n",
			name);
		/* one tunnel to each server replica: vpn-shoot dials every --server */
		fprintf(o, "          args:\n");
		if (s->ha)
			for (int j = 0; j < n; j++)
				fprintf(o, "            - --server=vpn-seed-server-%d.%s.svc.cluster.local:1194\n",
					j, ns);
		else
			fprintf(o, "            - --server=vpn-seed-server.%s.svc.cluster.local:1194\n", ns);
		fprintf(o, "          env:\n"
			"            - {name: SERVER_NAME, value: vpn-server}\n"
			"            - {name: METRICS_LISTEN, value: \"[::]:15001\"}\n"
			"            - {name: TLS_CERT, value: /srv/secrets/vpn/tls.crt}\n"
			"            - {name: TLS_KEY, value: /srv/secrets/vpn/tls.key}\n"
			"            - {name: TLS_CA, value: /srv/secrets/vpn/ca.crt}\n"
			"            - {name: LOG_FORMAT, value: json}\n"
			"          ports:\n");
		probes(o, 15001, "/readyz");
		security(o, "          ");
		fprintf(o, "          resources:\n            requests: {cpu: 100m, memory: 100Mi}\n"
			"          volumeMounts:\n            - {name: vpn, mountPath: /srv/secrets/vpn, readOnly: true}\n"
			"            - {name: dev-net-tun, mountPath: /dev/net/tun}\n"
			"            - {name: run, mountPath: /run/vpn-shoot}\n      volumes:\n"
			"        - name: vpn\n          secret: {secretName: %s, defaultMode: 0400}\n"
			"        - name: run\n          emptyDir: {}\n",
			s->ha ? (i ? "vpn-shoot-client-1" : "vpn-shoot-client-0") : "vpn-shoot-client");
		tun_volume(o);
	}
	if (s->ha)
		pdb(o, "vpn-shoot", kns);
	return 0;
}

static int text(int (*fn)(FILE *, const struct shoot_spec *, const char *, const char *, char *,
			  size_t), const struct shoot_spec *s, const char *ns, const char *dir,
		char **out, char *err, size_t errlen)
{
	size_t len;
	FILE *o = open_memstream(out, &len);
	int r;

	if (!o)
		return -ENOMEM;
	r = fn(o, s, ns, dir, err, errlen);
	if (fclose(o) && !r)
		r = -ENOMEM;
	if (r) {
		free(*out);
		*out = NULL;
	}
	return r;
}

int render_manifests(const struct shoot_spec *s, const char *pki_dir, char **seed_out,
		     char **shoot_out, char *err, size_t errlen)
{
	char ns[160];
	int r;

	render_seed_namespace(s, ns, sizeof(ns));
	*seed_out = *shoot_out = NULL;
	if ((r = text(seed, s, ns, pki_dir, seed_out, err, errlen)))
		return r;
	if ((r = text(shoot, s, ns, pki_dir, shoot_out, err, errlen))) {
		free(*seed_out);
		*seed_out = NULL;
	}
	return r;
}
