#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <openssl/evp.h>

#include "tunnel/conn.h"
#include "tunnel/daemon.h"
#include "tunnel/log.h"
#include "tunnel/tls.h"
#include "netlink/nl.h"

extern char **environ;

void daemon_config(struct cfg *c, enum cfg_role role, int argc, char **argv)
{
	char err[CFG_ERR_MAX];

	if (cfg_parse(c, role, argc, argv, environ, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", role == CFG_SERVER ? "vpn-server" : "vpn-shoot", err);
		exit(EXIT_USAGE);
	}
	if (c->action == CFG_HELP) {
		cfg_usage(role, stdout);
		exit(0);
	}
	if (c->action == CFG_VERSION) {
		printf("%s %s\n", role == CFG_SERVER ? "vpn-server" : "vpn-shoot", TENDRIL_VERSION);
		exit(0);
	}
	log_setup(c->log_format, c->log_level);
}

struct daemon__sig {
	void (*fn)(void *);
	void *owner;
};

static void daemon__signal(uv_signal_t *h, int signum)
{
	struct daemon__sig *s = h->data;

	s->fn(s->owner);
}

void daemon_signals_start(struct daemon_signals *s, uv_loop_t *loop,
			  void (*on_stop)(void *), void (*on_reload)(void *), void *owner)
{
	static struct daemon__sig stop, reload;

	stop = (struct daemon__sig){ on_stop, owner };
	reload = (struct daemon__sig){ on_reload, owner };
	uv_signal_init(loop, &s->term);
	uv_signal_init(loop, &s->intr);
	uv_signal_init(loop, &s->hup);
	s->term.data = s->intr.data = &stop;
	s->hup.data = &reload;
	uv_signal_start(&s->term, daemon__signal, SIGTERM);
	uv_signal_start(&s->intr, daemon__signal, SIGINT);
	uv_signal_start(&s->hup, daemon__signal, SIGHUP);
	/* A peer vanishing mid-write must be an error return, not a kill. */
	signal(SIGPIPE, SIG_IGN);
}

void daemon_signals_stop(struct daemon_signals *s)
{
	uv_close((uv_handle_t *)&s->term, NULL);
	uv_close((uv_handle_t *)&s->intr, NULL);
	uv_close((uv_handle_t *)&s->hup, NULL);
}

void daemon_info_begin(struct ctl_out *o, const char *role, uint64_t started_ms)
{
	ctl_kv_begin(o);
	ctl_kv_str(o, "name", "tendril");
	ctl_kv_str(o, "version", TENDRIL_VERSION);
	ctl_kv_str(o, "role", role);
	ctl_kv_u64(o, "pid", (uint64_t)getpid());
	ctl_kv_u64(o, "uptime_s", (conn_now_ms() - started_ms) / 1000);
}

void daemon_info_ktls(struct ctl_out *o, const struct daemon_tls *t)
{
	if (!t->ktls)
		ctl_kv_str(o, "ktls", "off");
	else if (tls_kernel_has_ktls())
		ctl_kv_str(o, "ktls", "requested; the kernel offers it (ktls_tunnels counts the tunnels that got it)");
	else
		ctl_kv_str(o, "ktls", "requested; the tls ULP is not loaded (modprobe tls), OpenSSL encrypts");
}

static void daemon__close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void daemon_loop_drain(uv_loop_t *loop)
{
	uv_walk(loop, daemon__close_walk, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
}

/* SHA-256 over the three files, to tell a real change from a touch. */
static void daemon__tls_digest(const struct daemon_tls *t, unsigned char out[32])
{
	const char *files[] = { t->cert, t->key, t->ca };
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned len = 32;

	memset(out, 0, 32);
	if (!md)
		return;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < 3; i++) {
		char buf[4096];
		size_t n;
		FILE *f = fopen(files[i], "rb");
		if (!f)
			continue;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			EVP_DigestUpdate(md, buf, n);
		fclose(f);
		EVP_DigestUpdate(md, "\0", 1);
	}
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
}

int daemon_tls_load(struct daemon_tls *t, bool server, const struct cfg *c,
		    char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->server = server;
	t->cert = c->cert;
	t->key = c->key;
	t->ca = c->ca;
	t->ktls = c->ktls;
	daemon__tls_digest(t, t->digest);
	return tls_ctx_new_flags(&t->ctx, server, "", t->cert, t->key, t->ca,
				 t->ktls ? TLS_KTLS : 0, err, errlen);
}

int daemon_tls_reload(struct daemon_tls *t)
{
	char err[512];
	SSL_CTX *ctx;
	int ret;

	daemon__tls_digest(t, t->digest);
	ret = tls_ctx_new_flags(&ctx, t->server, "", t->cert, t->key, t->ca,
				t->ktls ? TLS_KTLS : 0, err, sizeof(err));
	if (ret) {
		log_error(NULL, "reload failed, keeping the old certificates: %s", err);
		return ret;
	}
	SSL_CTX_free(t->ctx);
	t->ctx = ctx;
	log_info(NULL, "reloaded certificate %s, key %s, CA %s", t->cert, t->key, t->ca);
	return 0;
}

void daemon_tls_reload_cmd(struct ctl_out *o, struct daemon_tls *t)
{
	if (daemon_tls_reload(t)) {
		ctl_error(o, "reload failed, the old certificates stay in use (see the log)");
		return;
	}
	ctl_kv_begin(o);
	ctl_kv_str(o, "reload", "ok");
	ctl_kv_end(o);
}

static void daemon__tls_settled(uv_timer_t *h)
{
	struct daemon_tls *t = h->data;
	unsigned char d[32];

	daemon__tls_digest(t, d);
	if (!memcmp(d, t->digest, sizeof(d)))
		return;
	log_info(NULL, "certificate files changed on disk");
	t->changed(t->owner);
}

static void daemon__tls_changed(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct daemon_tls *t = h->data;

	/* Writers replace files in several steps: act once they settle. */
	uv_timer_start(&t->debounce, daemon__tls_settled, 300, 0);
}

int daemon_tls_watch(struct daemon_tls *t, uv_loop_t *loop, void (*changed)(void *), void *owner)
{
	const char *files[] = { t->cert, t->key, t->ca };
	char dirs[3][4096];

	t->changed = changed;
	t->owner = owner;
	uv_timer_init(loop, &t->debounce);
	t->debounce.data = t;
	t->watching = true;
	for (size_t i = 0; i < 3; i++) {
		char *slash;
		bool dup = false;
		int err;

		snprintf(dirs[t->nwatch], sizeof(dirs[0]), "%s", files[i]);
		slash = strrchr(dirs[t->nwatch], '/');
		if (slash == dirs[t->nwatch])
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			strcpy(dirs[t->nwatch], ".");
		for (size_t j = 0; j < t->nwatch; j++)
			dup |= !strcmp(dirs[j], dirs[t->nwatch]);
		if (dup)
			continue;
		uv_fs_event_init(loop, &t->watch[t->nwatch]);
		t->watch[t->nwatch].data = t;
		err = uv_fs_event_start(&t->watch[t->nwatch], daemon__tls_changed, dirs[t->nwatch], 0);
		if (err) {
			log_warn(NULL, "cannot watch %s for certificate changes: %s (SIGHUP still reloads)",
				 dirs[t->nwatch], uv_strerror(err));
			uv_close((uv_handle_t *)&t->watch[t->nwatch], NULL);
			continue;
		}
		t->nwatch++;
	}
	return 0;
}

void daemon_tls_free(struct daemon_tls *t)
{
	SSL_CTX_free(t->ctx);
	t->ctx = NULL;
}

int daemon_drop_privileges(const char *user, const char *const *chown_paths,
			   char *err, size_t errlen)
{
	static const cap_value_t keep[] = { CAP_NET_ADMIN };
	struct passwd *pw = NULL;
	cap_t caps = NULL;
	int ret = -EPERM;

	if (user && !(pw = getpwnam(user))) {
		snprintf(err, errlen, "--user: `%s' is not a user on this system", user);
		return -ENOENT;
	}
	for (size_t i = 0; pw && chown_paths && chown_paths[i]; i++) {
		if (lchown(chown_paths[i], pw->pw_uid, pw->pw_gid) && errno != ENOENT) {
			snprintf(err, errlen, "--user: cannot hand %s to %s: %s",
				 chown_paths[i], user, strerror(errno));
			return -errno;
		}
	}
	/* The bounding set first, while CAP_SETPCAP is still effective: not
	 * even an exec'd program could regain what is dropped here. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (c != CAP_NET_ADMIN)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	/* Keep the permitted set across setuid; it is trimmed below. */
	if (pw && (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
		   setgid(pw->pw_gid) || setuid(pw->pw_uid))) {
		snprintf(err, errlen, "--user: cannot switch to %s: %s", user, strerror(errno));
		return -errno;
	}
	caps = cap_init();	/* all clear */
	if (!caps ||
	    cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) ||
	    cap_set_proc(caps)) {
		snprintf(err, errlen, "cannot reduce capabilities to CAP_NET_ADMIN: %s", strerror(errno));
		goto out;
	}
	cap_reset_ambient();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (caps)
		cap_free(caps);
	return ret;
}

int daemon_ctl_start(struct ctl *rw, struct ctl *ro, uv_loop_t *loop, const struct cfg *c,
		     const struct ctl_cmd *cmds, size_t ncmds, void *owner,
		     char *err, size_t errlen)
{
	int e = ctl_start(rw, loop, c->stats_socket, cmds, ncmds, owner, false);

	if (e) {
		snprintf(err, errlen, "--stats-socket: %s: %s", c->stats_socket, uv_strerror(e));
		return e;
	}
	if (c->stats_socket_ro && (e = ctl_start(ro, loop, c->stats_socket_ro, cmds, ncmds, owner, true))) {
		snprintf(err, errlen, "--stats-socket-ro: %s: %s", c->stats_socket_ro, uv_strerror(e));
		return e;
	}
	return 0;
}

int daemon_sysctl(struct daemon_sysctls *s, const char *path, const char *value)
{
	char old[32];
	int err;

	if (s->n == DAEMON_SYSCTLS)
		return -ENOSPC;
	err = sysctl_set(path, value, old, sizeof(old));
	if (err)
		return err;
	if (strcmp(old, value)) {
		s->v[s->n].path = path;
		snprintf(s->v[s->n].old, sizeof(s->v[s->n].old), "%s", old);
		s->n++;
	}
	return 0;
}

void daemon_sysctls_restore(struct daemon_sysctls *s)
{
	while (s->n--)
		sysctl_set(s->v[s->n].path, s->v[s->n].old, NULL, 0);
	s->n = 0;
}

int daemon_rp_filter_off(struct daemon_sysctls *s, const char *dev)
{
	char path[128];
	int err;

	/* The device's own setting goes with the device: nothing to undo. */
	snprintf(path, sizeof(path), "net/ipv4/conf/%s/rp_filter", dev);
	if ((err = sysctl_set(path, "0", NULL, 0)))
		return err;
	return daemon_sysctl(s, "net/ipv4/conf/all/rp_filter", "0");
}
