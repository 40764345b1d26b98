/* shootctl: the controller's command line (CONTRACT.md, "shootctl").
 *
 *   shootctl create|status|delete|rotate-ca SPEC [--backend local]
 *   shootctl render|create|status|delete|rotate-ca SPEC --backend kubernetes --out DIR
 *
 * create runs the backend's flow (resumable, state in DIR/.shootctl-state);
 * delete undoes it; status shows each task's state. The local backend's
 * flow is in local.c; the kubernetes backend's below, which writes the
 * manifests under --out (render: the same files without the flow). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "controller/engine.h"
#include "controller/local.h"
#include "controller/pki.h"
#include "controller/render.h"
#include "controller/run.h"
#include "controller/serve.h"
#include "controller/spec.h"

struct job {
	struct shoot_spec spec;
	const char *out;
	const char *kubeconfig, *shoot_kubeconfig;	/* apply with kubectl */
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
	static const char *const stems[] = { "ca", "ca-bundle", "ca-old", "vpn-server", "vpn-shoot", "vpn-shoot-0",
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

/* ---- applying with kubectl (--kubeconfig) ---- */

/* Server-side apply, as Gardener's components do: shootctl owns the
 * fields it sets and takes them back from whoever changed them by hand. */
static int apply(struct job *j, bool seed, char *err, size_t n)
{
	char path[4200];

	join(path, sizeof(path), j->out, seed ? "seed.yaml" : "shoot.yaml");
	return run(err, n, "kubectl", "--kubeconfig", seed ? j->kubeconfig : j->shoot_kubeconfig,
		   "--request-timeout=30s", "apply", "--server-side", "--field-manager=shootctl",
		   "--force-conflicts", "-f", path, NULL);
}

static int t_apply_seed(void *ctx, char *err, size_t n) { return apply(ctx, true, err, n); }
static int t_apply_shoot(void *ctx, char *err, size_t n) { return apply(ctx, false, err, n); }

/* Ready: the rollout finished (the servers answer /healthz, the agents
 * /readyz, which needs a tunnel up). */
static int t_wait_seed(void *ctx, char *err, size_t n)
{
	struct job *j = ctx;
	char ns[160], what[64];

	render_seed_namespace(&j->spec, ns, sizeof(ns));
	snprintf(what, sizeof(what), "%s/vpn-seed-server", j->spec.ha ? "statefulset" : "deployment");
	return run(err, n, "kubectl", "--kubeconfig", j->kubeconfig, "-n", ns, "rollout", "status",
		   what, "--timeout=300s", NULL);
}

static int t_wait_shoot(void *ctx, char *err, size_t n)
{
	struct job *j = ctx;

	return run(err, n, "kubectl", "--kubeconfig", j->shoot_kubeconfig, "-n", "kube-system",
		   "wait", "--for=condition=Available", "deployment", "-l", "app=vpn-shoot",
		   "--timeout=300s", NULL);
}

static int unapply(struct job *j, bool seed, char *err, size_t n)
{
	char path[4200];

	join(path, sizeof(path), j->out, seed ? "seed.yaml" : "shoot.yaml");
	if (access(path, F_OK))
		return 0;	/* never rendered, so never applied */
	return run(err, n, "kubectl", "--kubeconfig", seed ? j->kubeconfig : j->shoot_kubeconfig,
		   "--request-timeout=30s", "delete", "--ignore-not-found", "--wait=true", "-f", path,
		   NULL);
}

static int u_apply_seed(void *ctx, char *err, size_t n) { return unapply(ctx, true, err, n); }
static int u_apply_shoot(void *ctx, char *err, size_t n) { return unapply(ctx, false, err, n); }

/* The flow of the kubernetes backend, in one place. */
static const struct engine_task flow[] = {
	{ "generate-pki", { NULL }, t_pki, u_pki },
	{ "render-seed", { "generate-pki" }, t_seed, u_seed },
	{ "render-shoot", { "generate-pki" }, t_shoot, u_shoot },
};
#define NFLOW (sizeof(flow) / sizeof(flow[0]))

/* With --kubeconfig: rendered, applied, rolled out; the shoot's agents
 * wait for the seed's servers, as they would dial nothing otherwise. */
static const struct engine_task flow_apply[] = {
	{ "generate-pki", { NULL }, t_pki, u_pki },
	{ "render-seed", { "generate-pki" }, t_seed, u_seed },
	{ "render-shoot", { "generate-pki" }, t_shoot, u_shoot },
	{ "apply-seed", { "render-seed" }, t_apply_seed, u_apply_seed },
	{ "wait-seed", { "apply-seed" }, t_wait_seed, NULL },
	{ "apply-shoot", { "render-shoot", "wait-seed" }, t_apply_shoot, u_apply_shoot },
	{ "wait-shoot", { "apply-shoot" }, t_wait_shoot, NULL },
};
#define NFLOW_APPLY (sizeof(flow_apply) / sizeof(flow_apply[0]))

static bool applied(const bool *done)
{
	for (size_t i = 0; i < NFLOW_APPLY; i++)
		if (done[i] && (flow_apply[i].run == t_apply_seed || flow_apply[i].run == t_apply_shoot))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shootctl create|status|delete|render|rotate-ca SPEC [--backend local|kubernetes] [--out DIR]\n"
		"       shootctl serve --listen ADDR:PORT --name NAME [--cert FILE --key FILE]\n"
		"\n"
		"  create      run the flow (resumes where an interrupted create stopped)\n"
		"  status      each task's state; on the local backend also the processes and tunnels\n"
		"  delete      undo the flow; the local backend leaves no namespace, process or file\n"
		"  render      write the manifests without the flow (kubernetes backend)\n"
		"  rotate-ca   rotate the shoot's VPN CA without a tunnel going down (local: all steps\n"
		"              with the daemons reloaded between them; kubernetes: --phase, see below)\n"
		"  serve       the kubelet-like HTTP(S) server the local backend runs on nodes and pods\n"
		"\n"
		"  --backend local        the whole flow on this machine in network namespaces (default)\n"
		"  --backend kubernetes   render the seed's and the shoot's manifests under --out\n"
		"  --out DIR              the state: manifests, PKI (DIR/pki), flow state, logs;\n"
		"                         local default /run/shootctl/shoot--<project>--<name>\n"
		"  --phase P              rotate-ca on kubernetes: prepare (new CA, bundle of both),\n"
		"                         reissue (leaves by the new CA), complete (old CA dropped);\n"
		"                         apply and wait for the rollout after each\n"
		"  --kubeconfig FILE      kubernetes: apply the seed's manifests with kubectl (server-side\n"
		"                         apply) and wait for the rollout; delete removes them again\n"
		"  --shoot-kubeconfig FILE  the same for the shoot's manifests (default: --kubeconfig)\n"
		"  --golden               secrets' data replaced by PLACEHOLDER, no PKI (for golden files)\n"
		"  --help                 print this and exit\n");
}

static int serve_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ 0 }
	};
	struct serve_opts o = { .name = "server" };
	char err[512];
	int c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'n': o.name = optarg; break;
		case 'c': o.cert = optarg; break;
		case 'k': o.key = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (!o.listen || optind != argc) {
		fprintf(stderr, "shootctl serve: --listen ADDR:PORT is required\n");
		return 2;
	}
	if (serve_run(&o, err, sizeof(err))) {
		fprintf(stderr, "shootctl serve: %s\n", err);
		return 2;
	}
	return 1;
}

/* The directory this binary is in: vpn-server and vpn-shoot sit beside it. */
static int bin_dir(char *buf, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", buf, n - 1);
	char *slash;

	if (len <= 0)
		return -errno;
	buf[len] = 0;
	if ((slash = strrchr(buf, '/')))
		*slash = 0;
	return 0;
}

static void print_tasks(const struct engine_task *t, size_t n, const bool *done)
{
	printf("tasks:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-22s %s\n", t[i].name, done[i] ? "done" : "pending");
}

/* A state directory of the local backend carries this file, so delete
 * removes only a directory shootctl made. */
#define LOCAL_MARK ".shootctl-local"

/* Makes the state directory (under /run/shootctl unless --out) and marks
 * it, or accepts one that is marked already (a resume) or empty. Anything
 * else is somebody's directory: -EEXIST, said on stderr. */
static int state_dir(const char *dir, const char *mark, bool under_run)
{
	DIR *d;
	struct dirent *e;
	int fd, n = 0;

	if (under_run && mkdir("/run/shootctl", 0700) && errno != EEXIST)
		goto fail;
	if (mkdir(dir, 0700)) {
		if (errno != EEXIST || !(d = opendir(dir)))
			goto fail;
		while ((e = readdir(d)))
			n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
		closedir(d);
		if (n && access(mark, F_OK)) {
			fprintf(stderr, "shootctl: %s exists and is not a shootctl state directory; "
				"choose another --out\n", dir);
			return -EEXIST;
		}
	}
	if ((fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	fprintf(stderr, "shootctl: %s: %s\n", dir, strerror(errno));
	return -errno;
}

static const char *rm_keep;	/* nftw has no context pointer */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (!strcmp(path, rm_keep) || ftw->level == 0)
		return 0;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes the state directory with the mark last, so a delete that is
 * interrupted leaves a directory the next delete still recognizes. */
static int remove_state_dir(const char *dir, const char *mark)
{
	rm_keep = mark;
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) ||
	    unlink(mark) || rmdir(dir))
		return -errno;
	return 0;
}

static int local_main(struct job *j, const char *cmd)
{
	struct engine_opts eo = { .out = stdout, .verb = cmd };
	struct local *l = calloc(1, sizeof(*l));
	char dir[PATH_MAX / 2], bin[PATH_MAX / 2], err[1024], mark[PATH_MAX];
	bool done[ENGINE_TASKS_MAX];
	int r = 2;

	if (!l)
		return 1;
	if (j->out)
		snprintf(dir, sizeof(dir), "%s", j->out);
	else {
		char ns[160];

		render_seed_namespace(&j->spec, ns, sizeof(ns));
		snprintf(dir, sizeof(dir), "/run/shootctl/%s", ns);
	}
	if (bin_dir(bin, sizeof(bin))) {
		fprintf(stderr, "shootctl: /proc/self/exe: %s\n", strerror(errno));
		goto out;
	}
	if (local_init(l, &j->spec, dir, bin, err, sizeof(err))) {
		fprintf(stderr, "shootctl: %s\n", err);
		goto out;
	}
	snprintf(j->state, sizeof(j->state), "%s/.shootctl-state", dir);
	snprintf(mark, sizeof(mark), "%s/" LOCAL_MARK, dir);
	eo.state_path = j->state;
	if (!strcmp(cmd, "render")) {
		fprintf(stderr, "shootctl: render: the local backend renders nothing; "
			"use --backend kubernetes --out DIR\n");
		goto out;
	}
	if (!strcmp(cmd, "status")) {
		if (engine_load_state(j->state, local_flow, local_nflow, done)) {
			fprintf(stderr, "shootctl: %s: %s\n", j->state, strerror(errno));
			r = 1;
			goto out;
		}
		printf("shoot %s/%s: local backend, seed namespace %s, %s VPN, %d node%s\n",
		       j->spec.namespace, j->spec.name, l->ns, l->replicas > 1 ? "HA" : "single",
		       l->nodes, l->nodes > 1 ? "s" : "");
		print_tasks(local_flow, local_nflow, done);
		local_status(l, stdout);
		r = 0;
		goto out;
	}
	if (geteuid()) {
		fprintf(stderr, "shootctl: the local backend creates network namespaces: run it as root\n");
		goto out;
	}
	r = 1;
	if (!strcmp(cmd, "create")) {
		if ((r = state_dir(dir, mark, !j->out))) {
			r = r == -EEXIST ? 2 : 1;
			goto out;
		}
		r = 1;
		printf("shoot %s/%s: creating on this machine (seed namespace %s, %d node%s, %s VPN), state in %s\n",
		       j->spec.namespace, j->spec.name, l->ns, l->nodes, l->nodes > 1 ? "s" : "",
		       l->replicas > 1 ? "HA" : "single", dir);
		fflush(stdout);
		r = engine_run(local_flow, local_nflow, l, &eo) ? 1 : 0;
	} else if (!strcmp(cmd, "delete")) {
		r = engine_reverse(local_flow, local_nflow, l, &eo) ? 1 : 0;
		/* what is left are logs and records of this shoot */
		if (!r && !access(mark, F_OK)) {
			if (remove_state_dir(dir, mark)) {
				fprintf(stderr, "shootctl: cannot remove %s: %s\n", dir, strerror(errno));
				r = 1;
			} else if (!j->out) {
				rmdir("/run/shootctl");	/* if no other shoot is there */
			}
		}
	} else {	/* rotate-ca */
		if (engine_load_state(j->state, local_flow, local_nflow, done) || !done[local_nflow - 1]) {
			fprintf(stderr, "shootctl: rotate-ca: the shoot is not created (run create first)\n");
			goto out;
		}
		printf("rotating the VPN CA of %s:\n", l->ns);
		if (local_rotate_ca(l, stdout, err, sizeof(err))) {
			fprintf(stderr, "shootctl: rotate-ca: %s\n", err);
			goto out;
		}
		printf("rotate-ca: done, the daemons trust only the new CA\n");
		r = 0;
	}
out:
	free(l);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "shoot-kubeconfig", required_argument, NULL, 's' },
		{ "golden", no_argument, NULL, 'g' },
		{ "phase", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *backend = "local", *kubeconfig = NULL, *cmd, *spec_path, *phase = NULL;
	struct job *j;
	struct engine_opts eo = { .out = stdout };
	char err[SPEC_ERR_MAX + 64];
	bool done[ENGINE_TASKS_MAX];
	const struct engine_task *f;
	size_t i, nf;
	int c, r = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a daemon that went away mid-answer is an error to report, not a
	 * reason to die */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "serve"))
		return serve_main(argc, argv);
	if (!(j = calloc(1, sizeof(*j))))
		return 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 'o': j->out = optarg; break;
		case 'k': kubeconfig = optarg; break;
		case 's': j->shoot_kubeconfig = optarg; break;
		case 'g': j->placeholders = true; break;
		case 'p': phase = optarg; break;
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
	    strcmp(cmd, "delete") && strcmp(cmd, "rotate-ca")) {
		fprintf(stderr, "shootctl: unknown command `%s' (create, status, delete, render, rotate-ca, serve)\n", cmd);
		goto out;
	}
	if (strcmp(backend, "local") && strcmp(backend, "kubernetes")) {
		fprintf(stderr, "shootctl: --backend: `%s' is neither local nor kubernetes\n", backend);
		goto out;
	}
	if (kubeconfig || j->shoot_kubeconfig) {
		const char *bad = NULL;

		j->kubeconfig = kubeconfig;
		if (!j->shoot_kubeconfig)
			j->shoot_kubeconfig = kubeconfig;
		if (!kubeconfig)
			bad = "--shoot-kubeconfig needs --kubeconfig (the seed's)";
		else if (strcmp(backend, "kubernetes"))
			bad = "--kubeconfig goes with --backend kubernetes";
		else if (access(kubeconfig, R_OK) || access(j->shoot_kubeconfig, R_OK))
			bad = "cannot read the kubeconfig file";
		if (bad) {
			fprintf(stderr, "shootctl: %s\n", bad);
			goto out;
		}
	}
	if (spec_load(spec_path, &j->spec, err, sizeof(err))) {
		fprintf(stderr, "shootctl: %s\n", err);
		goto out;
	}
	if (!strcmp(backend, "local")) {
		r = local_main(j, cmd);
		goto out;
	}
	if (!j->out) {
		fprintf(stderr, "shootctl: --out DIR is required with --backend kubernetes\n");
		goto out;
	}
	join(j->pki, sizeof(j->pki), j->out, "pki");
	join(j->state, sizeof(j->state), j->out, ".shootctl-state");
	if (strcmp(cmd, "delete") && mkdir(j->out, 0755) && errno != EEXIST) {
		fprintf(stderr, "shootctl: --out: %s: %s\n", j->out, strerror(errno));
		goto out;
	}
	eo.verb = cmd;
	f = j->kubeconfig ? flow_apply : flow;
	nf = j->kubeconfig ? NFLOW_APPLY : NFLOW;
	/* objects applied to a cluster are removed only with its kubeconfig */
	if (!j->kubeconfig && !strcmp(cmd, "delete") &&
	    !engine_load_state(j->state, flow_apply, NFLOW_APPLY, done) && applied(done)) {
		fprintf(stderr, "shootctl: delete: the manifests were applied to a cluster; "
			"give --kubeconfig (and --shoot-kubeconfig) to remove them\n");
		r = 2;
		goto out;
	}
	r = 1;
	if (!strcmp(cmd, "render")) {
		for (i = 0; i < NFLOW; i++)
			if (flow[i].run(j, err, sizeof(err))) {
				fprintf(stderr, "shootctl: %s: %s\n", flow[i].name, err);
				goto out;
			}
		r = 0;
	} else if (!strcmp(cmd, "rotate-ca")) {
		char ns[160];
		int rr = 0;

		render_seed_namespace(&j->spec, ns, sizeof(ns));
		if (!phase || (strcmp(phase, "prepare") && strcmp(phase, "reissue") &&
			       strcmp(phase, "complete"))) {
			fprintf(stderr, "shootctl: rotate-ca --backend kubernetes needs --phase prepare, "
				"reissue or complete (apply and wait for the rollout after each)\n");
			r = 2;
			goto out;
		}
		if (!strcmp(phase, "prepare"))
			rr = pki_rotate(j->pki, ns, PKI_ROTATE_PREPARE, err, sizeof(err));
		else if (!strcmp(phase, "complete"))
			rr = pki_rotate(j->pki, ns, PKI_ROTATE_COMPLETE, err, sizeof(err));
		/* reissue: t_pki's pki_ensure() moves the leaves to the new CA;
		 * prepare must not (no daemon trusts the new CA yet) */
		for (i = strcmp(phase, "reissue") ? 1 : 0; !rr && i < NFLOW; i++)
			if ((rr = flow[i].run(j, err, sizeof(err))))
				fprintf(stderr, "shootctl: %s: ", flow[i].name);
		if (rr) {
			fprintf(stderr, "shootctl: rotate-ca: %s\n", err);
			goto out;
		}
		printf("rotate-ca %s: manifests rewritten under %s; apply them and wait for the rollout\n",
		       phase, j->out);
		r = 0;
	} else if (!strcmp(cmd, "create")) {
		eo.state_path = j->state;
		r = engine_run(f, nf, j, &eo) ? 1 : 0;
	} else if (!strcmp(cmd, "delete")) {
		eo.state_path = j->state;
		r = engine_reverse(f, nf, j, &eo) ? 1 : 0;
		if (!r)
			rmdir(j->out);	/* only if nothing else is in it */
	} else {
		if (engine_load_state(j->state, f, nf, done)) {
			fprintf(stderr, "shootctl: %s: %s\n", j->state, strerror(errno));
			goto out;
		}
		printf("shoot %s/%s (seed namespace shoot--%s--%s, %s VPN)\n", j->spec.namespace,
		       j->spec.name, j->spec.project, j->spec.name, j->spec.ha ? "HA" : "single");
		print_tasks(f, nf, done);
		r = 0;
	}
out:
	free(j);
	return r;
}
