/* The local backend; see local.h. Every task is idempotent: one that
 * creates a namespace deletes a leftover of the same name first, one that
 * starts a process stops the one its pid file names first. Interfaces,
 * addresses and nftables rules are set with ip(8) and nft(8) inside the
 * namespaces; the tasks run in the engine's threads, and a thread that
 * needs to be inside a namespace (sysctls, the check) enters it with
 * setns() and leaves it before it returns. */
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <spawn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "controller/check.h"
#include "controller/local.h"
#include "controller/pki.h"
#include "controller/render.h"
#include "controller/run.h"

extern char **environ;


/* The seed side uses documentation ranges (RFC 5737). */
#define SEED_PUBLIC	"192.0.2.1"	/* the seed's load balancer */
#define CLOUD_PUBLIC	"192.0.2.254"	/* the shoot's NAT gateway */
#define CP_NET		"198.51.100."	/* control-plane pods: .1 router */
#define VPN_PORT	1194
#define PROXY_PORT	9443
#define KUBELET_PORT	10250
#define WEB_PORT	8080
#define SVC_PORT	80

enum { WAIT_DAEMON_MS = 10000, WAIT_TUNNEL_MS = 20000 };

/* ---- small helpers ---- */

static void ip4(uint32_t a, char *buf, size_t n)
{
	struct in_addr in = { htonl(a) };

	inet_ntop(AF_INET, &in, buf, (socklen_t)n);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void nsname(const struct local *l, char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void nsname(const struct local *l, char *buf, size_t n, const char *fmt, ...)
{
	char suffix[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(suffix, sizeof(suffix), fmt, ap);
	va_end(ap);
	snprintf(buf, n, "%s-%s", l->ns, suffix);
}

static void path_in(const struct local *l, char *buf, size_t n, const char *file)
{
	snprintf(buf, n, "%s/%s", l->dir, file);
}

static bool ns_exists(const char *ns)
{
	char p[300];

	snprintf(p, sizeof(p), "/run/netns/%s", ns);
	return access(p, F_OK) == 0;
}

static unsigned long long starttime(pid_t pid);
static int proc_pidfd(pid_t pid, unsigned long long t);
static void pidfd_stop(int fd, pid_t pid, int ms);

/* Every process in ns is stopped (SIGTERM, SIGKILL 2 s later): a process
 * a killed shootctl started but did not record is found this way too. */
static void ns_kill_all(const char *ns)
{
	char p[300];
	struct stat want, st;
	struct dirent *d;
	DIR *proc;

	snprintf(p, sizeof(p), "/run/netns/%s", ns);
	if (stat(p, &want) || !(proc = opendir("/proc")))
		return;
	while ((d = readdir(proc))) {
		pid_t pid = (pid_t)atoi(d->d_name);
		int fd;

		if (pid <= 0 || pid == getpid() || (fd = proc_pidfd(pid, starttime(pid))) < 0)
			continue;
		/* checked after the pidfd is open: the pid is still this process */
		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
		if (!stat(p, &st) && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
			pidfd_stop(fd, pid, 2000);
		close(fd);
	}
	closedir(proc);
}

static int ns_del(const char *ns, char *err, size_t errlen)
{
	if (!ns_exists(ns))
		return 0;
	ns_kill_all(ns);
	return run(err, errlen, "ip", "netns", "del", ns, NULL);
}

/* A fresh namespace (a leftover of the name is deleted) with lo up. */
static int ns_new(const char *ns, char *err, size_t errlen)
{
	int r;

	if ((r = ns_del(ns, err, errlen)) ||
	    (r = run(err, errlen, "ip", "netns", "add", ns, NULL)) ||
	    (r = run(err, errlen, "ip", "-n", ns, "link", "set", "lo", "up", NULL)))
		return r;
	return 0;
}

/* Enters ns in this thread; *back receives the way home (ns_leave). */
static int ns_enter(const char *ns, int *back, char *err, size_t errlen)
{
	char p[300];
	int fd;

	snprintf(p, sizeof(p), "/run/netns/%s", ns);
	if ((*back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
	    (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		if (*back >= 0)
			close(*back);
		return -errno;
	}
	if (setns(fd, CLONE_NEWNET)) {
		snprintf(err, errlen, "setns %s: %s", ns, strerror(errno));
		close(fd);
		close(*back);
		return -errno;
	}
	close(fd);
	return 0;
}

static void ns_leave(int back)
{
	if (setns(back, CLONE_NEWNET))
		abort();	/* the thread would work in the wrong namespace */
	close(back);
}

/* /proc/sys/net belongs to the namespace of the thread that opens it. */
static int ns_sysctl(const char *ns, const char *path, const char *val, char *err, size_t errlen)
{
	int back, fd, r = 0;

	if ((r = ns_enter(ns, &back, err, errlen)))
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
		r = -errno;
		snprintf(err, errlen, "%s in %s: %s", path, ns, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	ns_leave(back);
	return r;
}

static int forwarding(const char *ns, char *err, size_t errlen)
{
	return ns_sysctl(ns, "/proc/sys/net/ipv4/ip_forward", "1", err, errlen);
}

/* Loads an nftables ruleset into ns (through a file under the state
 * directory, which stays as a record of what was loaded). */
static int nft_load(const struct local *l, const char *ns, const char *name, const char *rules,
		    char *err, size_t errlen)
{
	char path[PATH_MAX];
	FILE *f;

	path_in(l, path, sizeof(path), name);
	if (!(f = fopen(path, "we")) || fputs(rules, f) < 0 || fclose(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return run(err, errlen, "ip", "netns", "exec", ns, "nft", "-f", path, NULL);
}

/* A veth pair from a bridge in bns to eth0 in ns, with addr and a
 * default route via gw (NULL: none). */
static int attach(const char *bns, const char *bridge, const char *port, const char *ns,
		  const char *addr, const char *gw, char *err, size_t errlen)
{
	int r;

	run(err, errlen, "ip", "-n", bns, "link", "del", port, NULL);	/* a leftover */
	if ((r = run(err, errlen, "ip", "-n", bns, "link", "add", port, "type", "veth", "peer",
		     "name", "eth0", "netns", ns, NULL)) ||
	    (r = run(err, errlen, "ip", "-n", bns, "link", "set", port, "master", bridge, "up", NULL)) ||
	    (r = run(err, errlen, "ip", "-n", ns, "addr", "add", addr, "dev", "eth0", NULL)) ||
	    (r = run(err, errlen, "ip", "-n", ns, "link", "set", "eth0", "up", NULL)))
		return r;
	if (gw && (r = run(err, errlen, "ip", "-n", ns, "route", "add", "default", "via", gw, NULL)))
		return r;
	return 0;
}

static int bridge(const char *ns, const char *name, const char *addr, char *err, size_t errlen)
{
	int r;

	if ((r = run(err, errlen, "ip", "-n", ns, "link", "add", name, "type", "bridge", NULL)) ||
	    (r = run(err, errlen, "ip", "-n", ns, "addr", "add", addr, "dev", name, NULL)) ||
	    (r = run(err, errlen, "ip", "-n", ns, "link", "set", name, "up", NULL)))
		return r;
	return 0;
}

/* ---- processes: pid files hold "PID STARTTIME", so a recycled pid is
 * never signalled ---- */

static unsigned long long starttime(pid_t pid)
{
	char p[64], buf[1024], *s;
	unsigned long long t = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(p, "re")))
		return 0;
	if (fgets(buf, sizeof(buf), f) && (s = strrchr(buf, ')')) &&
	    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu", &t) != 1)
		t = 0;
	fclose(f);
	return t;
}

/* The pid the pid file names if that process still runs, else 0. */
static pid_t proc_of(const struct local *l, const char *name)
{
	char path[PATH_MAX], file[96];
	unsigned long long t;
	FILE *f;
	int pid = 0;

	snprintf(file, sizeof(file), "%s.pid", name);
	path_in(l, path, sizeof(path), file);
	if (!(f = fopen(path, "re")))
		return 0;
	if (fscanf(f, "%d %llu", &pid, &t) != 2 || pid <= 0 || starttime(pid) != t)
		pid = 0;
	fclose(f);
	return pid;
}

static bool alive(pid_t pid)
{
	char p[64], buf[512], *s;
	bool up = false;
	FILE *f;

	waitpid(pid, NULL, WNOHANG);	/* reaps it if it is our child */
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(p, "re")))
		return false;
	if (fgets(buf, sizeof(buf), f) && (s = strrchr(buf, ')')))
		up = s[2] != 'Z' && s[2] != 'X';
	fclose(f);
	return up;
}

/* A pidfd for pid if it is still the process started at start time t
 * (-1 otherwise). Signals go through the pidfd: once it is open the pid
 * cannot be recycled under us, and the start time read after opening it
 * proves the process is the one the caller means. */
static int proc_pidfd(pid_t pid, unsigned long long t)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0 && starttime(pid) != t) {
		close(fd);
		return -1;
	}
	return fd;
}

/* SIGTERM, SIGKILL after ms; waits (at most as long again) for the end. */
static void pidfd_stop(int fd, pid_t pid, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
	if (poll(&p, 1, ms) != 1) {
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		poll(&p, 1, ms);
	}
	waitpid(pid, NULL, WNOHANG);	/* reaps it if it is our child */
}

/* Stops the process the pid file names (SIGTERM, SIGKILL after 5 s) and
 * removes the pid file. */
static int proc_stop(const struct local *l, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX], file[96];
	unsigned long long t;
	int pid, fd;
	FILE *f;

	snprintf(file, sizeof(file), "%s.pid", name);
	path_in(l, path, sizeof(path), file);
	if ((f = fopen(path, "re"))) {
		if (fscanf(f, "%d %llu", &pid, &t) == 2 && pid > 0 &&
		    (fd = proc_pidfd(pid, t)) >= 0) {
			pidfd_stop(fd, pid, 5000);
			close(fd);
		}
		fclose(f);
	}
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Starts argv in ns as a daemon of its own session, stdout and stderr to
 * <dir>/<name>.log, and writes <dir>/<name>.pid (whole or not at all).
 * Each daemon has its namespace to itself (a pod, or a node whose only
 * process is its kubelet), so whatever still runs there is a leftover of
 * an earlier, interrupted run (one killed before it wrote the pid file)
 * and goes first. */
static int proc_start(const struct local *l, const char *name, const char *ns,
		      char *const argv[], char *err, size_t errlen)
{
	char log[PATH_MAX], pidf[PATH_MAX], tmp[PATH_MAX + 8], file[96];
	char *full[48] = { "ip", "netns", "exec", (char *)ns };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t dfl;
	size_t n = 4;
	FILE *f;
	pid_t pid;
	int r;

	if ((r = proc_stop(l, name, err, errlen)))
		return r;
	ns_kill_all(ns);
	while (*argv && n < sizeof(full) / sizeof(full[0]) - 1)
		full[n++] = *argv++;
	full[n] = NULL;
	snprintf(file, sizeof(file), "%s.log", name);
	path_in(l, log, sizeof(log), file);
	snprintf(file, sizeof(file), "%s.pid", name);
	path_in(l, pidf, sizeof(pidf), file);
	/* posix_spawn, not fork: the engine runs tasks in threads */
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&pid, full[0], &fa, &at, full, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (r) {
		snprintf(err, errlen, "starting %s: %s", name, strerror(r));
		return -r;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", pidf);
	if (!(f = fopen(tmp, "we")) || fprintf(f, "%d %llu\n", (int)pid, starttime(pid)) < 0 ||
	    fclose(f) || rename(tmp, pidf)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", pidf, strerror(errno));
		kill(pid, SIGKILL);	/* our child, not yet reaped: its pid is ours */
		waitpid(pid, NULL, 0);
		return r;
	}
	return 0;
}

/* ---- the stats sockets ---- */

/* Sends one command, reads the answer up to its empty line. */
static int stats_ask(const char *sock, const char *cmd, char *out, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	char line[256];
	size_t len = 0;
	ssize_t got;
	int fd, r = -EIO;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		r = -errno;
		goto out;
	}
	while (len < n - 1 && (got = read(fd, out + len, n - 1 - len)) > 0) {
		len += (size_t)got;
		out[len] = 0;
		if (len >= 2 && !strcmp(out + len - 2, "\n\n")) {
			out[len - 1] = 0;
			r = 0;
			break;
		}
	}
out:
	close(fd);
	return r;
}

/* The value of "key: value" in a `show info' answer, or -1. */
static long info_value(const char *sock, const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (stats_ask(sock, "show info", buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

static void sock_of(const struct local *l, const char *name, char *buf, size_t n)
{
	char file[96];

	snprintf(file, sizeof(file), "%s.sock", name);
	path_in(l, buf, n, file);
}

/* Waits until the daemon answers on its stats socket with want tunnels up
 * (want < 0: just answers). A daemon that exits ends the wait with its
 * log's last line in err. */
static int wait_daemon(const struct local *l, const char *name, long want, long ms,
		       char *err, size_t errlen)
{
	char sock[PATH_MAX], log[PATH_MAX], file[96], line[256] = "", last[256] = "";
	long until = now_ms() + ms, up = -1;
	pid_t pid = proc_of(l, name);
	FILE *f;

	sock_of(l, name, sock, sizeof(sock));
	while (now_ms() < until) {
		if (pid <= 0 || !alive(pid))
			break;
		up = info_value(sock, "tunnels_up");
		if (up >= 0 && up >= want)
			return 0;
		sleep_ms(20);
	}
	snprintf(file, sizeof(file), "%s.log", name);
	path_in(l, log, sizeof(log), file);
	if ((f = fopen(log, "re"))) {
		while (fgets(line, sizeof(line), f))
			snprintf(last, sizeof(last), "%s", line);
		fclose(f);
		last[strcspn(last, "\n")] = 0;
	}
	if (pid <= 0 || !alive(pid))
		snprintf(err, errlen, "%s exited: %s", name, *last ? last : "(no log)");
	else if (up < 0)
		snprintf(err, errlen, "%s does not answer on %s (last log: %s)", name, sock, last);
	else
		snprintf(err, errlen, "%s has %ld of %ld tunnels up after %ld ms (last log: %s)",
			 name, up, want, ms, last);
	return -ETIMEDOUT;
}

/* Waits until something listens on a TCP port (seen from inside ns). */
static int wait_listen(const char *ns, const char *addr, int port, long ms, char *err,
		       size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	long until = now_ms() + ms;
	int back, r;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if ((r = ns_enter(ns, &back, err, errlen)))
		return r;
	r = -ETIMEDOUT;
	while (now_ms() < until) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));

		if (fd >= 0)
			close(fd);
		if (ok) {
			r = 0;
			break;
		}
		sleep_ms(20);
	}
	ns_leave(back);
	if (r)
		snprintf(err, errlen, "nothing listens on %s:%d in %s after %ld ms", addr, port, ns, ms);
	return r;
}

/* ---- the topology ---- */

int local_init(struct local *l, const struct shoot_spec *s, const char *dir, const char *bin_dir,
	       char *err, size_t errlen)
{
	static const struct { const char *field; size_t off; } nets[] = {
		{ "spec.networking.nodes", offsetof(struct shoot_spec, nodes) },
		{ "spec.networking.pods", offsetof(struct shoot_spec, pods) },
		{ "spec.networking.services", offsetof(struct shoot_spec, services) },
	};
	struct cidr seed_nets[2];
	uint32_t v4[3];
	int prefix[3];
	size_t i, k;

	memset(l, 0, sizeof(*l));
	/* the longest stats socket path must fit a sockaddr_un */
	if (strlen(dir) + sizeof("/vpn-seed-server-1.sock") > sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(bin_dir) + sizeof("/vpn-server") > sizeof(l->bin)) {
		snprintf(err, errlen, "%s: path too long for the stats sockets (%zu bytes at most)",
			 strlen(dir) > 64 ? dir : bin_dir,
			 sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof("/vpn-seed-server-1.sock"));
		return -ENAMETOOLONG;
	}
	l->spec = s;
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	snprintf(l->pki, sizeof(l->pki), "%s/pki", dir);
	snprintf(l->kubelet_pki, sizeof(l->kubelet_pki), "%s/kubelet-pki", dir);
	snprintf(l->bin, sizeof(l->bin), "%s", bin_dir);
	render_seed_namespace(s, l->ns, sizeof(l->ns));
	l->replicas = spec_replicas(s);
	for (i = 0; i < s->nworkers; i++)
		l->nodes += (int)(s->workers[i].minimum > 0 ? s->workers[i].minimum : 0);
	l->nodes = l->nodes < 1 ? 1 : l->nodes > LOCAL_NODES_MAX ? LOCAL_NODES_MAX : l->nodes;
	cidr_parse("192.0.2.0/24", &seed_nets[0]);
	cidr_parse("198.51.100.0/24", &seed_nets[1]);
	for (i = 0; i < 3; i++) {
		const struct cidr_list *cl = (const void *)((const char *)s + nets[i].off);
		const struct cidr *c = NULL;

		for (k = 0; k < cl->n && !c; k++)
			if (cl->v[k].family == AF_INET)
				c = &cl->v[k];
		if (!c) {
			snprintf(err, errlen, "%s: the local backend needs an IPv4 network", nets[i].field);
			return -EINVAL;
		}
		for (k = 0; k < 2; k++)
			if (cidr_overlap(c, &seed_nets[k])) {
				snprintf(err, errlen, "%s: overlaps the local seed's network %s",
					 nets[i].field, k ? "198.51.100.0/24" : "192.0.2.0/24");
				return -EINVAL;
			}
		memcpy(&v4[i], c->addr, 4);
		v4[i] = ntohl(v4[i]);
		prefix[i] = c->prefix;
	}
	l->node_net = v4[0];
	l->pod_net = v4[1];
	l->svc_net = v4[2];
	l->node_prefix = prefix[0];
	/* nodes at .10 upwards; each node's pods in their own /24 */
	if (prefix[0] > 27 || prefix[2] > 28 ||
	    prefix[1] > 24 - (l->nodes > 2 ? 2 : l->nodes > 1 ? 1 : 0)) {
		snprintf(err, errlen, "spec.networking: too small for %d nodes on the local backend "
			 "(nodes /27, pods /%d and services /28 at most)", l->nodes,
			 24 - (l->nodes > 2 ? 2 : l->nodes > 1 ? 1 : 0));
		return -EINVAL;
	}
	return 0;
}

static void node_ip(const struct local *l, int i, char *buf, size_t n)
{
	ip4(l->node_net + 10 + (uint32_t)i, buf, n);
}

/* pod_ip(l, node, host): host in the node's /24 */
static void pod_ip(const struct local *l, int node, int host, char *buf, size_t n)
{
	ip4(l->pod_net + (uint32_t)node * 256 + (uint32_t)host, buf, n);
}

static void svc_ip(const struct local *l, char *buf, size_t n)
{
	ip4(l->svc_net + 10, buf, n);
}

/* Replica names as Gardener's: vpn-seed-server and vpn-shoot, with -i in HA. */
static void replica(const struct local *l, const char *base, int i, char *buf, size_t n)
{
	if (l->replicas > 1)
		snprintf(buf, n, "%s-%d", base, i);
	else
		snprintf(buf, n, "%s", base);
}

/* ---- the tasks ---- */

static int t_pki(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	struct pki_leaf kl[LOCAL_NODES_MAX];
	char org[256], ip[32];
	int r, i;

	if ((r = pki_ensure(l->pki, l->ns, l->replicas > 1, NULL, NULL, err, errlen)))
		return r;
	/* the kubelets' serving certificates, under a CA of their own as in
	 * a shoot (kube-apiserver's --kubelet-certificate-authority) */
	memset(kl, 0, sizeof(kl));
	for (i = 0; i < l->nodes; i++) {
		node_ip(l, i, ip, sizeof(ip));
		snprintf(kl[i].stem, sizeof(kl[i].stem), "kubelet-node-%d", i);
		snprintf(kl[i].cn, sizeof(kl[i].cn), "system:node:node-%d", i);
		snprintf(kl[i].san, sizeof(kl[i].san), "IP:%s,DNS:node-%d", ip, i);
		kl[i].server = true;
	}
	snprintf(org, sizeof(org), "tendril kubelets %s", l->ns);
	return pki_ensure_set(l->kubelet_pki, org, kl, (size_t)l->nodes, NULL, NULL, err, errlen);
}

static int rm_tree(const char *dir, char *err, size_t errlen)
{
	return run(err, errlen, "rm", "-rf", "--one-file-system", dir, NULL);
}

static int u_pki(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	int r;

	if ((r = rm_tree(l->pki, err, errlen)) || (r = rm_tree(l->kubelet_pki, err, errlen)))
		return r;
	return 0;
}

/* The seed's network: a router with the control plane's pod bridge and a
 * load balancer for the tunnel port; what comes from outside is dropped
 * unless it is for the tunnel or an answer (a shoot never reaches into
 * the seed). */
static int t_seed(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	char seed[256], rules[2048];
	size_t o;
	int r, i;

	nsname(l, seed, sizeof(seed), "seed");
	if ((r = ns_new(seed, err, errlen)) ||
	    (r = bridge(seed, "cp", CP_NET "1/24", err, errlen)) ||
	    (r = forwarding(seed, err, errlen)))
		return r;
	o = (size_t)snprintf(rules, sizeof(rules),
		"table ip shootctl {\n"
		"  chain lb {\n    type nat hook prerouting priority dstnat; policy accept;\n");
	for (i = 0; i < l->replicas; i++)
		o += (size_t)snprintf(rules + o, sizeof(rules) - o,
			"    ip daddr " SEED_PUBLIC " tcp dport %d dnat to " CP_NET "%d:%d\n",
			VPN_PORT + i, 10 + i, VPN_PORT);
	snprintf(rules + o, sizeof(rules) - o,
		"  }\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n"
		"    iifname \"inet\" ct state established,related accept\n"
		"    iifname \"inet\" ct status dnat accept\n"
		"    iifname \"inet\" counter drop\n  }\n}\n");
	return nft_load(l, seed, "seed.nft", rules, err, errlen);
}

static int u_ns(const struct local *l, const char *suffix, char *err, size_t errlen)
{
	char ns[256];

	nsname(l, ns, sizeof(ns), "%s", suffix);
	return ns_del(ns, err, errlen);
}

/* A namespace and the record of the ruleset nft_load() put into it. */
static int u_ns_nft(const struct local *l, const char *suffix, char *err, size_t errlen)
{
	char p[PATH_MAX], file[64];

	snprintf(file, sizeof(file), "%s.nft", suffix);
	path_in(l, p, sizeof(p), file);
	unlink(p);
	return u_ns(l, suffix, err, errlen);
}

static int u_seed(void *ctx, char *err, size_t errlen)
{
	return u_ns_nft(ctx, "seed", err, errlen);
}

/* The shoot's cloud: the nodes' network behind a NAT gateway with a
 * public address next to the seed's, and routes to each node's pods. */
static int t_infra(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	char cloud[256], seed[256], gw[64], net[32], pods[40], node[32];
	int r, i;

	nsname(l, cloud, sizeof(cloud), "cloud");
	nsname(l, seed, sizeof(seed), "seed");
	ip4(l->node_net + 1, net, sizeof(net));
	snprintf(gw, sizeof(gw), "%s/%d", net, l->node_prefix);
	if ((r = ns_new(cloud, err, errlen)) ||
	    (r = bridge(cloud, "vpc", gw, err, errlen)) ||
	    (r = forwarding(cloud, err, errlen)))
		return r;
	run(err, errlen, "ip", "-n", seed, "link", "del", "inet", NULL);
	if ((r = run(err, errlen, "ip", "-n", cloud, "link", "add", "seed", "type", "veth", "peer",
		     "name", "inet", "netns", seed, NULL)) ||
	    (r = run(err, errlen, "ip", "-n", cloud, "addr", "add", CLOUD_PUBLIC "/24", "dev", "seed", NULL)) ||
	    (r = run(err, errlen, "ip", "-n", cloud, "link", "set", "seed", "up", NULL)) ||
	    (r = run(err, errlen, "ip", "-n", seed, "addr", "add", SEED_PUBLIC "/24", "dev", "inet", NULL)) ||
	    (r = run(err, errlen, "ip", "-n", seed, "link", "set", "inet", "up", NULL)) ||
	    /* the rest of the world, the seed included, is out there: what
	     * keeps a shoot out of the seed is the seed's filter */
	    (r = run(err, errlen, "ip", "-n", cloud, "route", "add", "default", "via", SEED_PUBLIC, NULL)))
		return r;
	for (i = 0; i < l->nodes; i++) {
		pod_ip(l, i, 0, pods, sizeof(pods));
		strcat(pods, "/24");
		node_ip(l, i, node, sizeof(node));
		if ((r = run(err, errlen, "ip", "-n", cloud, "route", "add", pods, "via", node, NULL)))
			return r;
	}
	return nft_load(l, cloud, "cloud.nft",
			"table ip shootctl {\n  chain nat {\n"
			"    type nat hook postrouting priority srcnat; policy accept;\n"
			"    oifname \"seed\" masquerade\n  }\n}\n", err, errlen);
}

static int u_infra(void *ctx, char *err, size_t errlen)
{
	return u_ns_nft(ctx, "cloud", err, errlen);
}

/* The machines: each a namespace on the nodes' network with a bridge for
 * its pods and kube-proxy's rule for the service (spread over every
 * node's web pod, as kube-proxy's random endpoint choice). */
static int t_machines(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	char cloud[256], ns[256], addr[48], gw[32], br[48], port[16], svc[32], web[32];
	char rules[2048], file[32];
	size_t o;
	int r, i, k;

	nsname(l, cloud, sizeof(cloud), "cloud");
	ip4(l->node_net + 1, gw, sizeof(gw));
	svc_ip(l, svc, sizeof(svc));
	for (i = 0; i < l->nodes; i++) {
		nsname(l, ns, sizeof(ns), "node-%d", i);
		node_ip(l, i, addr, sizeof(addr));
		snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), "/%d", l->node_prefix);
		pod_ip(l, i, 1, br, sizeof(br));
		strcat(br, "/24");
		snprintf(port, sizeof(port), "node-%d", i);
		if ((r = ns_new(ns, err, errlen)) ||
		    (r = attach(cloud, "vpc", port, ns, addr, gw, err, errlen)) ||
		    (r = bridge(ns, "cbr0", br, err, errlen)) ||
		    (r = forwarding(ns, err, errlen)))
			return r;
		o = (size_t)snprintf(rules, sizeof(rules),
			"table ip kube-proxy {\n"
			"  chain services {\n    type nat hook prerouting priority dstnat; policy accept;\n"
			"    ip daddr %s tcp dport %d dnat to numgen random mod %d map { ",
			svc, SVC_PORT, l->nodes);
		for (k = 0; k < l->nodes; k++) {
			pod_ip(l, k, 10, web, sizeof(web));
			o += (size_t)snprintf(rules + o, sizeof(rules) - o, "%s%d : %s", k ? ", " : "", k, web);
		}
		snprintf(rules + o, sizeof(rules) - o, " } : %d\n  }\n}\n", WEB_PORT);
		snprintf(file, sizeof(file), "node-%d.nft", i);
		if ((r = nft_load(l, ns, file, rules, err, errlen)))
			return r;
	}
	return 0;
}

static int u_machines(void *ctx, char *err, size_t errlen)
{
	char suffix[32];
	int r, i;

	for (i = 0; i < LOCAL_NODES_MAX; i++) {
		snprintf(suffix, sizeof(suffix), "node-%d", i);
		if ((r = u_ns_nft(ctx, suffix, err, errlen)))
			return r;
	}
	return 0;
}

static void bin_of(const struct local *l, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", l->bin, name);
}

static int serve_per_node(struct local *l, bool kubelet, char *err, size_t errlen);

static int t_kubelets(void *ctx, char *err, size_t errlen)
{
	return serve_per_node(ctx, true, err, errlen);
}

static int u_kubelets(void *ctx, char *err, size_t errlen)
{
	char name[32];
	int r, i;

	for (i = 0; i < LOCAL_NODES_MAX; i++) {
		snprintf(name, sizeof(name), "kubelet-node-%d", i);
		if ((r = proc_stop(ctx, name, err, errlen)))
			return r;
	}
	return 0;
}

/* A pod: a namespace on its node's bridge. */
static int pod_new(const struct local *l, int node, int host, const char *suffix,
		   const char *port, char *err, size_t errlen)
{
	char ns[256], nodens[256], addr[40], gw[32];
	int r;

	nsname(l, ns, sizeof(ns), "%s", suffix);
	nsname(l, nodens, sizeof(nodens), "node-%d", node);
	pod_ip(l, node, host, addr, sizeof(addr));
	strcat(addr, "/24");
	pod_ip(l, node, 1, gw, sizeof(gw));
	if ((r = ns_new(ns, err, errlen)))
		return r;
	return attach(nodens, "cbr0", port, ns, addr, gw, err, errlen);
}

/* The `shootctl serve' of one kind on every node: its kubelet (HTTPS on
 * the node's address, the certificate from the kubelets' CA) or its web
 * pod (HTTP on the pod's address, in a pod of its own). All start, then
 * each is waited for. */
static int serve_per_node(struct local *l, bool kubelet, char *err, size_t errlen)
{
	char ns[256], suffix[32], name[32], listen[48], ip[32], crt[PATH_MAX], key[PATH_MAX];
	char self[PATH_MAX];
	int port = kubelet ? KUBELET_PORT : WEB_PORT, r, i, pass;

	bin_of(l, "shootctl", self, sizeof(self));
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < l->nodes; i++) {
			snprintf(suffix, sizeof(suffix), kubelet ? "node-%d" : "node-%d-web", i);
			snprintf(name, sizeof(name), kubelet ? "kubelet-node-%d" : "web-%d", i);
			nsname(l, ns, sizeof(ns), "%s", suffix);
			if (kubelet)
				node_ip(l, i, ip, sizeof(ip));
			else
				pod_ip(l, i, 10, ip, sizeof(ip));
			if (pass) {
				if ((r = wait_listen(ns, ip, port, WAIT_DAEMON_MS, err, errlen)))
					return r;
				continue;
			}
			snprintf(listen, sizeof(listen), "%s:%d", ip, port);
			snprintf(crt, sizeof(crt), "%s/%s.crt", l->kubelet_pki, name);
			snprintf(key, sizeof(key), "%s/%s.key", l->kubelet_pki, name);
			/* the kubelet serves as "node-<i>" */
			char *argv[] = { self, "serve", "--listen", listen, "--name",
					 kubelet ? name + 8 : name, kubelet ? "--cert" : NULL, crt,
					 "--key", key, NULL };
			if ((!kubelet && (r = pod_new(l, i, 10, suffix, "web", err, errlen))) ||
			    (r = proc_start(l, name, ns, argv, err, errlen)))
				return r;
		}
	return 0;
}

static int t_workloads(void *ctx, char *err, size_t errlen)
{
	return serve_per_node(ctx, false, err, errlen);
}

static int u_workloads(void *ctx, char *err, size_t errlen)
{
	char name[32];
	int r, i;

	for (i = 0; i < LOCAL_NODES_MAX; i++) {
		snprintf(name, sizeof(name), "web-%d", i);
		if ((r = proc_stop(ctx, name, err, errlen)))
			return r;
		snprintf(name, sizeof(name), "node-%d-web", i);
		if ((r = u_ns(ctx, name, err, errlen)))
			return r;
	}
	return 0;
}

/* A control-plane pod on the seed's bridge. */
static int cp_pod(const struct local *l, const char *suffix, int host, char *err, size_t errlen)
{
	char ns[256], seed[256], addr[32], port[16];
	int r;

	nsname(l, ns, sizeof(ns), "%s", suffix);
	nsname(l, seed, sizeof(seed), "seed");
	snprintf(addr, sizeof(addr), CP_NET "%d/24", host);
	snprintf(port, sizeof(port), "pod-%d", host);	/* IFNAMSIZ */
	if ((r = ns_new(ns, err, errlen)))
		return r;
	return attach(seed, "cp", port, ns, addr, CP_NET "1", err, errlen);
}

static void pki_file(const struct local *l, const char *stem, const char *ext, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s.%s", l->pki, stem, ext);
}

static int t_server(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	char name[32], ns[256], crt[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], pcrt[PATH_MAX];
	char pkey[PATH_MAX], sock[PATH_MAX], nets[800], plisten[48], bin[PATH_MAX];
	int r, i;

	bin_of(l, "vpn-server", bin, sizeof(bin));
	pki_file(l, "vpn-server", "crt", crt, sizeof(crt));
	pki_file(l, "vpn-server", "key", key, sizeof(key));
	pki_file(l, "ca-bundle", "crt", ca, sizeof(ca));
	pki_file(l, "http-proxy", "crt", pcrt, sizeof(pcrt));
	pki_file(l, "http-proxy", "key", pkey, sizeof(pkey));
	snprintf(nets, sizeof(nets), "%s,%s,%s", l->spec->nodes_str, l->spec->pods_str,
		 l->spec->services_str);
	for (i = 0; i < l->replicas; i++) {
		replica(l, "vpn-seed-server", i, name, sizeof(name));
		nsname(l, ns, sizeof(ns), "%s", name);
		sock_of(l, name, sock, sizeof(sock));
		snprintf(plisten, sizeof(plisten), CP_NET "%d:%d", 10 + i, PROXY_PORT);
		char *argv[] = { bin, "--cert", crt, "--key", key, "--ca", ca, "--dev", "tun0",
				 "--listen", "0.0.0.0:1194", "--shoot-networks", nets,
				 "--proxy-listen", plisten, "--proxy-cert", pcrt, "--proxy-key", pkey,
				 "--proxy-ca", ca, "--stats-socket", sock, NULL };
		if ((r = cp_pod(l, name, 10 + i, err, errlen)) ||
		    (r = proc_start(l, name, ns, argv, err, errlen)))
			return r;
	}
	for (i = 0; i < l->replicas; i++) {
		replica(l, "vpn-seed-server", i, name, sizeof(name));
		if ((r = wait_daemon(l, name, -1, WAIT_DAEMON_MS, err, errlen)))
			return r;
	}
	return 0;
}

static int u_server(void *ctx, char *err, size_t errlen)
{
	static const char *const names[] = { "vpn-seed-server", "vpn-seed-server-0",
		"vpn-seed-server-1" };
	size_t i;
	int r;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((r = proc_stop(ctx, names[i], err, errlen)) || (r = u_ns(ctx, names[i], err, errlen)))
			return r;
	return 0;
}

static int t_apiserver(void *ctx, char *err, size_t errlen)
{
	return cp_pod(ctx, "kube-apiserver", 20, err, errlen);
}

static int u_apiserver(void *ctx, char *err, size_t errlen)
{
	return u_ns(ctx, "kube-apiserver", err, errlen);
}

static int t_shoot(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	char name[32], ns[256], crt[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], sock[PATH_MAX];
	char servers[2][32], bin[PATH_MAX];
	int r, i;

	bin_of(l, "vpn-shoot", bin, sizeof(bin));
	pki_file(l, "ca-bundle", "crt", ca, sizeof(ca));
	for (i = 0; i < 2; i++)
		snprintf(servers[i], sizeof(servers[i]), SEED_PUBLIC ":%d", VPN_PORT + i);
	for (i = 0; i < l->replicas; i++) {
		replica(l, "vpn-shoot", i, name, sizeof(name));
		nsname(l, ns, sizeof(ns), "%s", name);
		pki_file(l, name, "crt", crt, sizeof(crt));
		pki_file(l, name, "key", key, sizeof(key));
		sock_of(l, name, sock, sizeof(sock));
		/* in HA each agent has a tunnel to each server */
		char *argv[] = { bin, "--cert", crt, "--key", key, "--ca", ca, "--dev", "tun0",
				 "--reconnect-max", "2", "--stats-socket", sock,
				 "--server", servers[0], l->replicas > 1 ? "--server" : NULL,
				 servers[1], NULL };
		if ((r = pod_new(l, i % l->nodes, 2 + i, name, name, err, errlen)) ||
		    (r = proc_start(l, name, ns, argv, err, errlen)))
			return r;
	}
	for (i = 0; i < l->replicas; i++) {
		replica(l, "vpn-shoot", i, name, sizeof(name));
		if ((r = wait_daemon(l, name, l->replicas, WAIT_TUNNEL_MS, err, errlen)))
			return r;
	}
	return 0;
}

static int u_shoot(void *ctx, char *err, size_t errlen)
{
	static const char *const names[] = { "vpn-shoot", "vpn-shoot-0", "vpn-shoot-1" };
	size_t i;
	int r;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((r = proc_stop(ctx, names[i], err, errlen)) || (r = u_ns(ctx, names[i], err, errlen)))
			return r;
	return 0;
}

/* What kube-apiserver does: through each server's proxy, with its client
 * certificate, every kubelet (HTTPS, verified against the kubelets' CA),
 * every web pod and the service. */
static int t_check(void *ctx, char *err, size_t errlen)
{
	struct local *l = ctx;
	char ns[256], ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX], kca[PATH_MAX];
	char proxy[48], target[48], ip[32], what[64];
	struct check_tls t = { ca, crt, key, "vpn-seed-server", kca };
	struct check_result res;
	int back, r, i, k, n;

	pki_file(l, "ca-bundle", "crt", ca, sizeof(ca));
	pki_file(l, "kube-apiserver-http-proxy-client", "crt", crt, sizeof(crt));
	pki_file(l, "kube-apiserver-http-proxy-client", "key", key, sizeof(key));
	snprintf(kca, sizeof(kca), "%s/ca.crt", l->kubelet_pki);
	nsname(l, ns, sizeof(ns), "kube-apiserver");
	if ((r = ns_enter(ns, &back, err, errlen)))
		return r;
	for (i = 0; i < l->replicas; i++) {
		snprintf(proxy, sizeof(proxy), CP_NET "%d:%d", 10 + i, PROXY_PORT);
		for (k = 0, n = 2 * l->nodes + 1; k < n; k++) {
			bool https = k < l->nodes;
			const char *path = https ? "/healthz" : "/";

			if (https) {
				node_ip(l, k, ip, sizeof(ip));
				snprintf(target, sizeof(target), "%s:%d", ip, KUBELET_PORT);
				snprintf(what, sizeof(what), "kubelet node-%d", k);
			} else if (k < n - 1) {
				pod_ip(l, k - l->nodes, 10, ip, sizeof(ip));
				snprintf(target, sizeof(target), "%s:%d", ip, WEB_PORT);
				snprintf(what, sizeof(what), "pod web-%d", k - l->nodes);
			} else {
				svc_ip(l, ip, sizeof(ip));
				snprintf(target, sizeof(target), "%s:%d", ip, SVC_PORT);
				snprintf(what, sizeof(what), "service web");
			}
			if ((r = check_get(&t, proxy, target, https, path, &res, err, errlen)))
				goto out;
			res.body[strcspn(res.body, "\n")] = 0;
			flockfile(stdout);
			printf("  kube-apiserver -> %-16s %-20s via %s: %d %s (%ld ms)\n", what, target,
			       proxy, res.status, res.body, res.ms);
			funlockfile(stdout);
			if (res.status != 200) {
				snprintf(err, errlen, "%s %s%s through %s answered %d", what, target, path,
					 proxy, res.status);
				r = -EPROTO;
				goto out;
			}
		}
	}
out:
	ns_leave(back);
	return r;
}

/* The flow of the local backend, in one place. Gardener's order: the
 * seed namespace and secrets, infrastructure, control plane, machines,
 * the shoot's system components, then the API server's path checked. */
const struct engine_task local_flow[] = {
	{ "generate-pki", { NULL }, t_pki, u_pki },
	{ "seed-network", { NULL }, t_seed, u_seed },
	{ "infrastructure", { "seed-network" }, t_infra, u_infra },
	{ "kube-apiserver", { "seed-network" }, t_apiserver, u_apiserver },
	{ "vpn-seed-server", { "seed-network", "generate-pki" }, t_server, u_server },
	{ "machines", { "infrastructure" }, t_machines, u_machines },
	{ "kubelets", { "machines", "generate-pki" }, t_kubelets, u_kubelets },
	{ "workloads", { "machines" }, t_workloads, u_workloads },
	{ "vpn-shoot", { "machines", "vpn-seed-server" }, t_shoot, u_shoot },
	{ "check-apiserver-path", { "kube-apiserver", "vpn-shoot", "kubelets", "workloads" },
	  t_check, NULL },
};
const size_t local_nflow = sizeof(local_flow) / sizeof(local_flow[0]);

/* ---- status and CA rotation ---- */

static void status_one(const struct local *l, const char *name, FILE *out)
{
	char sock[PATH_MAX], buf[8192], *line, *save = NULL;
	pid_t pid = proc_of(l, name);
	long up;

	if (pid <= 0) {
		fprintf(out, "  %-20s not running\n", name);
		return;
	}
	fprintf(out, "  %-20s pid %-8d running", name, (int)pid);
	if (strncmp(name, "vpn-", 4)) {
		fputc('\n', out);
		return;
	}
	sock_of(l, name, sock, sizeof(sock));
	up = info_value(sock, "tunnels_up");
	if (up < 0) {
		fprintf(out, "  stats socket %s does not answer\n", sock);
		return;
	}
	fprintf(out, "  tunnels up %ld\n", up);
	if (stats_ask(sock, "show tunnels", buf, sizeof(buf)))
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(out, "      %s\n", line);
}

void local_status(const struct local *l, FILE *out)
{
	char name[32];
	int i;

	fprintf(out, "processes (logs and sockets in %s):\n", l->dir);
	for (i = 0; i < l->replicas; i++) {
		replica(l, "vpn-seed-server", i, name, sizeof(name));
		status_one(l, name, out);
	}
	for (i = 0; i < l->replicas; i++) {
		replica(l, "vpn-shoot", i, name, sizeof(name));
		status_one(l, name, out);
	}
	for (i = 0; i < l->nodes; i++) {
		snprintf(name, sizeof(name), "kubelet-node-%d", i);
		status_one(l, name, out);
		snprintf(name, sizeof(name), "web-%d", i);
		status_one(l, name, out);
	}
}

/* Every daemon reloads; a failed reload is an error. */
static int reload_all(const struct local *l, const char *why, FILE *out, char *err, size_t errlen)
{
	const char *bases[] = { "vpn-seed-server", "vpn-shoot" };
	char name[32], sock[PATH_MAX], buf[1024] = "";
	int i, b;

	for (b = 0; b < 2; b++)
		for (i = 0; i < l->replicas; i++) {
			replica(l, bases[b], i, name, sizeof(name));
			sock_of(l, name, sock, sizeof(sock));
			if (stats_ask(sock, "reload", buf, sizeof(buf)) || strncmp(buf, "reload: ok", 10)) {
				snprintf(err, errlen, "%s: reload after %s failed: %s", name, why,
					 strncmp(buf, "error", 5) ? "no answer" : buf);
				return -EIO;
			}
		}
	fprintf(out, "  %-34s every daemon reloaded\n", why);
	return 0;
}

/* The tunnels' ids and reconnect counts, to show none went down. */
static int tunnels_fingerprint(const struct local *l, char *buf, size_t n)
{
	char name[32], sock[PATH_MAX], ans[8192];
	size_t o = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < l->replicas; i++) {
		replica(l, "vpn-shoot", i, name, sizeof(name));
		sock_of(l, name, sock, sizeof(sock));
		if (stats_ask(sock, "show tunnels json", ans, sizeof(ans)))
			return -EIO;
		/* a tunnel that went down comes back with a new id or one
		 * more reconnect */
		for (char *p = ans; (p = strstr(p, "\"id\"")); p++) {
			char *rc = strstr(p, "\"reconnects\"");
			size_t len = strcspn(p, ",}");

			if (!rc)
				return -EPROTO;
			o += (size_t)snprintf(buf + o, n - o, "%s%s %.*s %.*s", o ? ", " : "", name,
					      (int)len, p, (int)strcspn(rc, ",}"), rc);
			if (o >= n)
				return -ENOSPC;
		}
	}
	return 0;
}

int local_rotate_ca(struct local *l, FILE *out, char *err, size_t errlen)
{
	char before[2048], after[2048];
	int r;

	if ((r = tunnels_fingerprint(l, before, sizeof(before))) || !*before) {
		snprintf(err, errlen, "no tunnel is up: create the shoot first");
		return -ENOTCONN;
	}
	if ((r = pki_rotate(l->pki, l->ns, PKI_ROTATE_PREPARE, err, errlen)) ||
	    (r = reload_all(l, "1. new CA, bundle of both", out, err, errlen)) ||
	    (r = t_pki(l, err, errlen)) ||
	    (r = reload_all(l, "2. leaves issued by the new CA", out, err, errlen)) ||
	    (r = pki_rotate(l->pki, l->ns, PKI_ROTATE_COMPLETE, err, errlen)) ||
	    (r = reload_all(l, "3. old CA dropped", out, err, errlen)))
		return r;
	if ((r = tunnels_fingerprint(l, after, sizeof(after))) || strcmp(before, after)) {
		snprintf(err, errlen, "a tunnel went down during the rotation (%s -> %s)", before, after);
		return -EIO;
	}
	fprintf(out, "  tunnels stayed up: %s\n", after);
	/* and a new connection with the new certificates works */
	return t_check(l, err, errlen);
}
