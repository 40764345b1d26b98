/* shootctl: the controller's command line (CONTRACT.md, "shootctl").
 *
 *   shootctl render|create|status|delete SPEC --backend kubernetes --out DIR
 *
 * create runs the flow below (resumable, state in DIR/.shootctl-state);
 * render writes the same files without the flow; delete undoes the flow;
 * status shows each task's state. Only the kubernetes backend without
 * --kubeconfig exists so far: the manifests are written under --out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "controller/engine.h"
#include "controller/pki.h"
#include "controller/render.h"
#include "controller/spec.h"

struct job {
	struct shoot_spec spec;
	const char *out;
	bool placeholders;	/* --golden: no PKI, fixed secret data */
	char pki[4096], state[4096];
};

static void join(char *buf, size_t n, const char *dir, const char *file)
{
	snprintf(buf, n, "%s/%s", dir, file);
}

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4400];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* the manifests hold the secrets' keys: 0600 */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || !(f = fdopen(fd, "w")) || fputs(text, f) < 0 || fclose(f) || rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int t_pki(void *ctx, char *err, size_t errlen)
{
	struct job *j = ctx;
	char ns[160];

	if (j->placeholders)
		return 0;
	render_seed_namespace(&j->spec, ns, sizeof(ns));
	return pki_ensure(j->pki, ns, j->spec.ha, NULL, NULL, err, errlen);
}

static int render_one(struct job *j, bool seed, char *err, size_t errlen)
{
	char *s = NULL, *sh = NULL, path[4200];
	int r;

	if ((r = render_manifests(&j->spec, j->placeholders ? NULL : j->pki, &s, &sh, err, errlen)))
		return r;
	join(path, sizeof(path), j->out, seed ? "seed.yaml" : "shoot.yaml");
	r = write_file(path, seed ? s : sh, err, errlen);
	free(s);
	free(sh);
	return r;
}

static int t_seed(void *ctx, char *err, size_t n) { return render_one(ctx, true, err, n); }
static int t_shoot(void *ctx, char *err, size_t n) { return render_one(ctx, false, err, n); }

static int rm(struct job *j, const char *dir, const char *file, char *err, size_t errlen)
{
	char path[4200];

	join(path, sizeof(path), dir, file);
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int u_seed(void *ctx, char *err, size_t n) { struct job *j = ctx; return rm(j, j->out, "seed.yaml", err, n); }
static int u_shoot(void *ctx, char *err, size_t n) { struct job *j = ctx; return rm(j, j->out, "shoot.yaml", err, n); }

static int u_pki(void *ctx, char *err, size_t n)
{
	static const char *const stems[] = { "ca", "vpn-server", "vpn-shoot", "vpn-shoot-0",
		"vpn-shoot-1", "http-proxy", "kube-apiserver-http-proxy-client" };
	struct job *j = ctx;
	char file[64];
	size_t i;
	int r;

	for (i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
		snprintf(file, sizeof(file), "%s.crt", stems[i]);
		if ((r = rm(j, j->pki, file, err, n)))
			return r;
		snprintf(file, sizeof(file), "%s.key", stems[i]);
		if ((r = rm(j, j->pki, file, err, n)))
			return r;
	}
	if (rmdir(j->pki) && errno != ENOENT) {
		snprintf(err, n, "%s: %s", j->pki, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The flow of the kubernetes backend, in one place. */
static const struct engine_task flow[] = {
	{ "generate-pki", { NULL }, t_pki, u_pki },
	{ "render-seed", { "generate-pki" }, t_seed, u_seed },
	{ "render-shoot", { "generate-pki" }, t_shoot, u_shoot },
};
#define NFLOW (sizeof(flow) / sizeof(flow[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: shootctl render|create|status|delete SPEC --backend kubernetes --out DIR\n"
		"\n  --backend kubernetes   render the seed's and the shoot's manifests\n"
		"  --out DIR              where the manifests, the PKI (DIR/pki) and the flow state go\n"
		"  --kubeconfig FILE      apply with kubectl (not implemented yet)\n"
		"  --golden               secrets' data replaced by PLACEHOLDER, no PKI (for golden files)\n"
		"  --help                 print this and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "golden", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *backend = "local", *kubeconfig = NULL, *cmd, *spec_path;
	struct job *j = calloc(1, sizeof(*j));
	struct engine_opts eo = { .out = stdout };
	char err[SPEC_ERR_MAX + 64];
	bool done[NFLOW];
	int c, r = 2;
	size_t i;

	if (!j)
		return 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 'o': j->out = optarg; break;
		case 'k': kubeconfig = optarg; break;
		case 'g': j->placeholders = true; break;
		case 'h': usage(stdout); r = 0; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		goto out;
	}
	cmd = argv[optind];
	spec_path = argv[optind + 1];
	if (strcmp(cmd, "render") && strcmp(cmd, "create") && strcmp(cmd, "status") &&
	    strcmp(cmd, "delete")) {
		fprintf(stderr, "shootctl: unknown command `%s' (render, create, status, delete)\n", cmd);
		goto out;
	}
	if (!strcmp(backend, "local")) {
		fprintf(stderr, "shootctl: --backend local is not implemented yet; use --backend kubernetes --out DIR\n");
		goto out;
	}
	if (strcmp(backend, "kubernetes")) {
		fprintf(stderr, "shootctl: --backend: `%s' is neither local nor kubernetes\n", backend);
		goto out;
	}
	if (kubeconfig) {
		fprintf(stderr, "shootctl: --kubeconfig: applying with kubectl is not implemented yet; "
			"render with --out DIR, then: kubectl apply --server-side -f DIR/seed.yaml\n");
		goto out;
	}
	if (!j->out) {
		fprintf(stderr, "shootctl: --out DIR is required with --backend kubernetes\n");
		goto out;
	}
	if (spec_load(spec_path, &j->spec, err, sizeof(err))) {
		fprintf(stderr, "shootctl: %s\n", err);
		goto out;
	}
	join(j->pki, sizeof(j->pki), j->out, "pki");
	join(j->state, sizeof(j->state), j->out, ".shootctl-state");
	if (strcmp(cmd, "delete") && mkdir(j->out, 0755) && errno != EEXIST) {
		fprintf(stderr, "shootctl: --out: %s: %s\n", j->out, strerror(errno));
		goto out;
	}
	eo.verb = cmd;
	r = 1;
	if (!strcmp(cmd, "render")) {
		for (i = 0; i < NFLOW; i++)
			if (flow[i].run(j, err, sizeof(err))) {
				fprintf(stderr, "shootctl: %s: %s\n", flow[i].name, err);
				goto out;
			}
		r = 0;
	} else if (!strcmp(cmd, "create")) {
		eo.state_path = j->state;
		r = engine_run(flow, NFLOW, j, &eo) ? 1 : 0;
	} else if (!strcmp(cmd, "delete")) {
		eo.state_path = j->state;
		r = engine_reverse(flow, NFLOW, j, &eo) ? 1 : 0;
		if (!r)
			rmdir(j->out);	/* only if nothing else is in it */
	} else {
		if (engine_load_state(j->state, flow, NFLOW, done)) {
			fprintf(stderr, "shootctl: %s: %s\n", j->state, strerror(errno));
			goto out;
		}
		printf("shoot %s/%s (seed namespace shoot--%s--%s, %s VPN)\n", j->spec.namespace,
		       j->spec.name, j->spec.project, j->spec.name, j->spec.ha ? "HA" : "single");
		for (i = 0; i < NFLOW; i++)
			printf("  %-14s %s\n", flow[i].name, done[i] ? "done" : "pending");
		r = 0;
	}
out:
	free(j);
	return r;
}
