/* The option table and its parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tunnel/config.h"
#include "tunnel/log.h"

enum cfg_kind {
	K_STR,		/* any non-empty string */
	K_MTU,		/* 1280..65535: the transfer network is IPv6 */
	K_SECONDS,	/* decimal seconds, stored in ms, > 0 */
	K_CIDR6,	/* the IPv6 transfer network */
	K_CIDRS,	/* comma list of CIDRs, appended */
	K_LIST,		/* comma list / repeatable flag of strings */
	K_HOSTPORT,	/* ADDR:PORT */
	K_LOGFMT,
	K_LOGLVL,
	K_DEVNAME,
	K_ONOFF,	/* on/off, true/false, 1/0 */
};

#define ROLE_BOTH (CFG_SERVER | CFG_SHOOT)
#define OFF(f) offsetof(struct cfg, f)

struct cfg_opt {
	const char *flag;	/* without the leading "--" */
	const char *env;	/* NULL: no variable (or handled specially) */
	unsigned roles;
	enum cfg_kind kind;
	size_t off;		/* field in struct cfg */
	size_t count_off;	/* K_LIST: the count field */
	const char *arg, *help;
};

static const struct cfg_opt cfg_opts[] = {
	{ "cert", "TLS_CERT", ROLE_BOTH, K_STR, OFF(cert), 0, "FILE", "own certificate (PEM, may hold a chain)" },
	{ "key", "TLS_KEY", ROLE_BOTH, K_STR, OFF(key), 0, "FILE", "own private key (PEM)" },
	{ "ca", "TLS_CA", ROLE_BOTH, K_STR, OFF(ca), 0, "FILE", "CA bundle that must have signed the peer" },
	{ "dev", "VPN_DEV", ROLE_BOTH, K_DEVNAME, OFF(dev), 0, "NAME", "TUN device name" },
	{ "mtu", "VPN_MTU", ROLE_BOTH, K_MTU, OFF(mtu), 0, "N", "TUN MTU" },
	{ "vpn-network", "VPN_NETWORK", ROLE_BOTH, K_CIDR6, OFF(vpn_network), 0, "CIDR", "IPv6 transfer network" },
	{ "stats-socket", "STATS_SOCKET", ROLE_BOTH, K_STR, OFF(stats_socket), 0, "PATH", "operator socket (mode 0600)" },
	{ "stats-socket-ro", "STATS_SOCKET_RO", ROLE_BOTH, K_STR, OFF(stats_socket_ro), 0, "PATH", "read-only operator socket (mode 0660; refuses reload and other changes)" },
	{ "metrics-listen", "METRICS_LISTEN", ROLE_BOTH, K_HOSTPORT, OFF(metrics_listen), 0, "ADDR:PORT", "HTTP /metrics, /healthz, /readyz" },
	{ "keepalive", "KEEPALIVE", ROLE_BOTH, K_SECONDS, OFF(keepalive_ms), 0, "SECONDS", "ping interval on an idle tunnel" },
	{ "keepalive-timeout", "KEEPALIVE_TIMEOUT", ROLE_BOTH, K_SECONDS, OFF(keepalive_timeout_ms), 0, "SECONDS", "no frame for this long: the tunnel is dead" },
	{ "log-format", "LOG_FORMAT", ROLE_BOTH, K_LOGFMT, OFF(log_format), 0, "text|json", "log line format" },
	{ "log-level", "LOG_LEVEL", ROLE_BOTH, K_LOGLVL, OFF(log_level), 0, "LEVEL", "debug, info, warn or error" },
	{ "offload", "VPN_OFFLOAD", ROLE_BOTH, K_ONOFF, OFF(offload), 0, "on|off", "TUN offloads: 64 KB TCP segments cross the tunnel whole" },
	{ "seal", "VPN_SEAL", ROLE_BOTH, K_ONOFF, OFF(seal), 0, "on|off", "after the TLS handshake, carry the frames in 64 KB sealed records keyed from TLS (default on; needs the peer's too)" },
	{ "ktls", "VPN_KTLS", ROLE_BOTH, K_ONOFF, OFF(ktls), 0, "on|off", "kernel TLS for the tunnels where the kernel and OpenSSL offer it (default off)" },
	{ "user", "VPN_USER", ROLE_BOTH, K_STR, OFF(user), 0, "NAME", "run as this user after set-up, keeping only CAP_NET_ADMIN" },

	{ "listen", "VPN_LISTEN", CFG_SERVER, K_HOSTPORT, OFF(listen), 0, "ADDR:PORT", "where shoot agents connect" },
	{ "shoot-networks", NULL, CFG_SERVER, K_CIDRS, OFF(shoot_networks), 0, "CIDR,...", "networks routed into the tunnel (env SHOOT_POD_NETWORKS, SHOOT_SERVICE_NETWORKS, SHOOT_NODE_NETWORKS)" },
	{ "allowed-client", "ALLOWED_CLIENTS", CFG_SERVER, K_LIST, OFF(allowed), OFF(n_allowed), "NAME", "accepted peer identity (repeatable; NAME-N also matches)" },
	{ "proxy-listen", "PROXY_LISTEN", CFG_SERVER, K_HOSTPORT, OFF(proxy_listen), 0, "ADDR:PORT", "HTTP CONNECT proxy for kube-apiserver" },
	{ "proxy-cert", "PROXY_TLS_CERT", CFG_SERVER, K_STR, OFF(proxy_cert), 0, "FILE", "the proxy's certificate (default: --cert)" },
	{ "proxy-key", "PROXY_TLS_KEY", CFG_SERVER, K_STR, OFF(proxy_key), 0, "FILE", "the proxy's key (default: --key)" },
	{ "proxy-ca", "PROXY_TLS_CA", CFG_SERVER, K_STR, OFF(proxy_ca), 0, "FILE", "CA of the proxy's clients (default: --ca)" },
	{ "handshake-timeout", "HANDSHAKE_TIMEOUT", CFG_SERVER, K_SECONDS, OFF(handshake_timeout_ms), 0, "SECONDS", "TLS and hello must complete within this" },

	{ "server", NULL, CFG_SHOOT, K_LIST, OFF(servers), OFF(n_servers), "HOST:PORT", "vpn-server to dial (repeatable; env ENDPOINT with VPN_PORT)" },
	{ "server-name", "SERVER_NAME", CFG_SHOOT, K_STR, OFF(server_name), 0, "NAME", "SNI and identity the server must carry" },
	{ "http-proxy", "HTTP_PROXY_ENDPOINT", CFG_SHOOT, K_HOSTPORT, OFF(http_proxy), 0, "HOST:PORT", "dial through an HTTP CONNECT proxy" },
	{ "proxy-header", NULL, CFG_SHOOT, K_STR, OFF(proxy_header), 0, "\"KEY: VALUE\"", "extra header on that CONNECT (env REVERSED_VPN_HEADER_KEY, REVERSED_VPN_HEADER)" },
	{ "egress-dev", "EGRESS_DEV", CFG_SHOOT, K_DEVNAME, OFF(egress_dev), 0, "NAME", "where tunnel traffic leaves, masqueraded" },
	{ "reconnect-max", "RECONNECT_MAX", CFG_SHOOT, K_SECONDS, OFF(reconnect_max_ms), 0, "SECONDS", "cap of the reconnect backoff" },
};
#define N_OPTS (sizeof(cfg_opts) / sizeof(cfg_opts[0]))

static void cfg__defaults(struct cfg *c, enum cfg_role role)
{
	memset(c, 0, sizeof(*c));
	c->role = role;
	c->cert = "/srv/secrets/vpn/tls.crt";
	c->key = "/srv/secrets/vpn/tls.key";
	c->ca = "/srv/secrets/vpn/ca.crt";
	c->dev = "tun0";
	c->mtu = 1500;
	cidr_parse("fd8f:6d53:b97a:1::/96", &c->vpn_network);
	c->keepalive_ms = 1000;
	c->keepalive_timeout_ms = 5000;
	c->log_format = "text";
	c->log_level = "info";
	c->offload = true;
	c->seal = true;
	if (role == CFG_SERVER) {
		c->stats_socket = "/run/vpn-server/stats.sock";
		c->metrics_listen = "[::]:15000";
		c->listen = "[::]:1194";
		c->proxy_listen = "[::]:9443";
		c->handshake_timeout_ms = 10000;
	} else {
		c->stats_socket = "/run/vpn-shoot/stats.sock";
		c->metrics_listen = "[::]:15001";
		c->server_name = "vpn-server";
		c->reconnect_max_ms = 10000;
	}
}

static char *cfg__save(struct cfg *c, const char *s, size_t n)
{
	char *p;

	if (c->store_used + n + 1 > sizeof(c->store))
		return NULL;
	p = c->store + c->store_used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->store_used += n + 1;
	return p;
}

int cfg_sockaddr(const char *s, struct sockaddr_storage *ss, unsigned *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (cfg_split_hostport(s, host, sizeof(host), &port))
		return -EINVAL;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

int cfg_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long p;

	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;	/* bare IPv6 needs brackets */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || p < 0 || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* Parses decimal seconds ("1", "0.25") into milliseconds. */
static int cfg__seconds(const char *s, unsigned *ms)
{
	char *end;
	double v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.001 && v <= 86400))
		return -EINVAL;
	*ms = (unsigned)(v * 1000 + 0.5);
	return 0;
}

/* Applies one value; from_env tells a K_LIST whether to append (env lists
 * merge) or to start over on the first flag (flags win over env). */
static int cfg__apply(struct cfg *c, const struct cfg_opt *o, const char *v,
		      bool *list_reset, char *why, size_t whylen)
{
	void *field = (char *)c + o->off;
	struct cidr cidr;
	char host[256];
	uint16_t port;

	switch (o->kind) {
	case K_STR:
		if (!*v)
			return snprintf(why, whylen, "must not be empty"), -EINVAL;
		*(const char **)field = v;
		return 0;
	case K_DEVNAME:
		if (!*v || strlen(v) >= 16 || strchr(v, '/') || strchr(v, ' '))
			return snprintf(why, whylen, "`%s' is not a device name (1-15 characters, no '/' or blank)", v), -EINVAL;
		*(const char **)field = v;
		return 0;
	case K_MTU: {
		char *end;
		long n;
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || !*v || *end || n < 1280 || n > 65535)
			return snprintf(why, whylen, "`%s' is not a number in 1280..65535", v), -EINVAL;
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	case K_SECONDS:
		if (cfg__seconds(v, (unsigned *)field))
			return snprintf(why, whylen, "`%s' is not a number of seconds (0.001..86400)", v), -EINVAL;
		return 0;
	case K_CIDR6:
		if (cidr_parse(v, &cidr) || cidr.family != AF_INET6 || cidr.prefix > 116)
			return snprintf(why, whylen, "`%s' is not an IPv6 network of prefix length /116 or shorter", v), -EINVAL;
		*(struct cidr *)field = cidr;
		return 0;
	case K_CIDRS: {
		struct cidr_list *l = field;
		size_t bad = 0;
		int err;
		if (*list_reset) {
			l->n = 0;
			*list_reset = false;
		}
		err = cidr_list_parse(v, l, &bad);
		if (err == -ENOSPC)
			return snprintf(why, whylen, "more than %d networks", CIDR_LIST_MAX), -EINVAL;
		if (err)
			return snprintf(why, whylen, "`%.*s' is not a CIDR (address/prefix, host bits zero)",
					(int)strcspn(v + bad, ","), v + bad), -EINVAL;
		return 0;
	}
	case K_LIST: {
		const char **arr = field;
		size_t *n = (size_t *)((char *)c + o->count_off);
		const char *p = v;
		if (*list_reset) {
			*n = 0;
			*list_reset = false;
		}
		for (;;) {
			size_t len = strcspn(p, ",");
			while (len && *p == ' ')
				p++, len--;
			while (len && p[len - 1] == ' ')
				len--;
			if (len) {
				if (*n == CFG_LIST_MAX)
					return snprintf(why, whylen, "more than %d values", CFG_LIST_MAX), -EINVAL;
				if (!(arr[*n] = cfg__save(c, p, len)))
					return snprintf(why, whylen, "values too long"), -EINVAL;
				(*n)++;
			}
			p += strcspn(p, ",");
			if (!*p)
				break;
			p++;
		}
		if (*n == 0)
			return snprintf(why, whylen, "must not be empty"), -EINVAL;
		return 0;
	}
	case K_HOSTPORT:
		if (cfg_split_hostport(v, host, sizeof(host), &port))
			return snprintf(why, whylen, "`%s' is not ADDR:PORT (IPv6 in brackets: [::]:1194)", v), -EINVAL;
		*(const char **)field = v;
		return 0;
	case K_ONOFF:
		if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
			*(bool *)field = true;
		else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
			*(bool *)field = false;
		else
			return snprintf(why, whylen, "`%s' is neither on nor off", v), -EINVAL;
		return 0;
	case K_LOGFMT:
		if (strcmp(v, "text") && strcmp(v, "json"))
			return snprintf(why, whylen, "`%s' is neither text nor json", v), -EINVAL;
		*(const char **)field = v;
		return 0;
	case K_LOGLVL: {
		enum log_level lvl;
		if (log_level_parse(v, &lvl))
			return snprintf(why, whylen, "`%s' is not one of debug, info, warn, error", v), -EINVAL;
		*(const char **)field = v;
		return 0;
	}
	}
	return -EINVAL;
}

static const char *cfg__getenv(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static const struct cfg_opt *cfg__find(const char *flag)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (!strcmp(cfg_opts[i].flag, flag))
			return &cfg_opts[i];
	return NULL;
}

/* Variables that do not map one-to-one onto a flag. */
static int cfg__special_env(struct cfg *c, char **envp, char *err, size_t errlen)
{
	static const char *const nets[] = {
		"SHOOT_POD_NETWORKS", "SHOOT_SERVICE_NETWORKS", "SHOOT_NODE_NETWORKS",
	};
	char why[CFG_ERR_MAX];
	bool reset = false;
	const char *v;

	if (c->role == CFG_SERVER) {
		for (size_t i = 0; i < 3; i++) {
			if (!(v = cfg__getenv(envp, nets[i])) || !*v)
				continue;
			if (cfg__apply(c, cfg__find("shoot-networks"), v, &reset, why, sizeof(why)))
				return snprintf(err, errlen, "--shoot-networks (from %s): %s", nets[i], why), -EINVAL;
		}
		return 0;
	}

	if ((v = cfg__getenv(envp, "ENDPOINT")) && *v) {
		const char *port = cfg__getenv(envp, "VPN_PORT");
		char buf[300];
		char *end;
		long p;
		int n;

		if (!port || !*port)
			port = "1194";
		errno = 0;
		p = strtol(port, &end, 10);
		if (errno || *end || p < 1 || p > 65535)
			return snprintf(err, errlen, "--server (from VPN_PORT): `%s' is not a port", port), -EINVAL;
		n = snprintf(buf, sizeof(buf), strchr(v, ':') && *v != '[' ? "[%s]:%ld" : "%s:%ld", v, p);
		if (n < 0 || (size_t)n >= sizeof(buf) || !(c->servers[0] = cfg__save(c, buf, (size_t)n)))
			return snprintf(err, errlen, "--server (from ENDPOINT): `%s' is too long", v), -EINVAL;
		c->n_servers = 1;
	}
	if ((v = cfg__getenv(envp, "REVERSED_VPN_HEADER")) && *v) {
		const char *key = cfg__getenv(envp, "REVERSED_VPN_HEADER_KEY");
		char buf[512];
		int n = snprintf(buf, sizeof(buf), "%s: %s", key && *key ? key : "Reversed-VPN", v);
		if (n < 0 || (size_t)n >= sizeof(buf) || !(c->proxy_header = cfg__save(c, buf, (size_t)n)))
			return snprintf(err, errlen, "--proxy-header (from REVERSED_VPN_HEADER): too long"), -EINVAL;
	}
	return 0;
}

static int cfg__validate(struct cfg *c, char *err, size_t errlen)
{
	if (c->keepalive_timeout_ms <= c->keepalive_ms)
		return snprintf(err, errlen, "--keepalive-timeout: must be longer than --keepalive (%u ms <= %u ms)",
				c->keepalive_timeout_ms, c->keepalive_ms), -EINVAL;
	if (c->role == CFG_SERVER) {
		if (c->n_allowed == 0) {
			c->allowed[0] = "vpn-shoot";
			c->n_allowed = 1;
		}
		for (size_t i = 0; i < c->shoot_networks.n; i++) {
			if (cidr_overlap(&c->shoot_networks.v[i], &c->vpn_network)) {
				char a[CIDR_STRLEN];
				cidr_format(&c->shoot_networks.v[i], a, sizeof(a));
				return snprintf(err, errlen, "--shoot-networks: `%s' overlaps --vpn-network", a), -EINVAL;
			}
		}
		if (!c->proxy_cert)
			c->proxy_cert = c->cert;
		if (!c->proxy_key)
			c->proxy_key = c->key;
		if (!c->proxy_ca)
			c->proxy_ca = c->ca;
	} else {
		char host[256];
		uint16_t port;
		if (c->n_servers == 0)
			return snprintf(err, errlen, "--server: required (or ENDPOINT)"), -EINVAL;
		for (size_t i = 0; i < c->n_servers; i++)
			if (cfg_split_hostport(c->servers[i], host, sizeof(host), &port) || port == 0)
				return snprintf(err, errlen, "--server: `%s' is not HOST:PORT", c->servers[i]), -EINVAL;
		if (c->proxy_header && !strchr(c->proxy_header, ':'))
			return snprintf(err, errlen, "--proxy-header: `%s' is not \"KEY: VALUE\"", c->proxy_header), -EINVAL;
	}
	return 0;
}

static int cfg__parse(struct cfg *c, enum cfg_role role, int argc, char **argv,
		      char **envp, char *err, size_t errlen)
{
	struct option lopts[N_OPTS + 3];
	bool reset[N_OPTS];
	char why[CFG_ERR_MAX];
	size_t n = 0;
	int ch, idx;

	cfg__defaults(c, role);
	err[0] = '\0';
	/* --help and --version work whatever the environment holds. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			c->action = CFG_HELP;
			return 0;
		}
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			c->action = CFG_VERSION;
			return 0;
		}
	}

	/* Environment first, so flags override it. */
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct cfg_opt *o = &cfg_opts[i];
		const char *v;
		bool r = true;

		if (!(o->roles & role) || !o->env || !(v = cfg__getenv(envp, o->env)) || !*v)
			continue;
		if (cfg__apply(c, o, v, &r, why, sizeof(why)))
			return snprintf(err, errlen, "--%s (from %s): %s", o->flag, o->env, why), -EINVAL;
	}
	if (cfg__special_env(c, envp, err, errlen))
		return -EINVAL;

	for (size_t i = 0; i < N_OPTS; i++) {
		reset[i] = true;	/* the first flag of a list replaces env */
		if (!(cfg_opts[i].roles & role))
			continue;
		lopts[n++] = (struct option){ cfg_opts[i].flag, required_argument, NULL, (int)(1000 + i) };
	}
	lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	lopts[n] = (struct option){ 0 };

	optind = 0;	/* glibc: full re-initialisation, tests call us twice */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+hV", lopts, &idx)) != -1) {
		const struct cfg_opt *o;

		if (ch == 'h') {
			c->action = CFG_HELP;
			return 0;
		}
		if (ch == 'V') {
			c->action = CFG_VERSION;
			return 0;
		}
		if (ch == '?' || ch == ':') {
			const char *bad = argv[optind - 1];
			if (optopt >= 1000)
				return snprintf(err, errlen, "--%s: needs a value", cfg_opts[optopt - 1000].flag), -EINVAL;
			return snprintf(err, errlen, "%s: unknown option (see --help)", bad ? bad : "?"), -EINVAL;
		}
		o = &cfg_opts[ch - 1000];
		if (cfg__apply(c, o, optarg, &reset[ch - 1000], why, sizeof(why)))
			return snprintf(err, errlen, "--%s: %s", o->flag, why), -EINVAL;
	}
	if (optind < argc)
		return snprintf(err, errlen, "%s: unexpected argument (options start with --)", argv[optind]), -EINVAL;
	return cfg__validate(c, err, errlen);
}

int cfg_parse(struct cfg *c, enum cfg_role role, int argc, char **argv,
	      char **envp, char *err, size_t errlen)
{
	int ret = cfg__parse(c, role, argc, argv, envp, err, errlen);

	/* The message quotes what the operator gave us, which may hold a
	 * newline (a ConfigMap value): keep it one line. */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return ret;
}

void cfg_usage(enum cfg_role role, FILE *out)
{
	fprintf(out, "usage: %s [OPTION]...\n\n", role == CFG_SERVER ? "vpn-server" : "vpn-shoot");
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct cfg_opt *o = &cfg_opts[i];
		char lhs[64];

		if (!(o->roles & role))
			continue;
		snprintf(lhs, sizeof(lhs), "--%s %s", o->flag, o->arg);
		fprintf(out, "  %-32s %s%s%s%s\n", lhs, o->help, o->env ? " [" : "",
			o->env ? o->env : "", o->env ? "]" : "");
	}
	fprintf(out, "  %-32s %s\n  %-32s %s\n", "--help", "print this and exit", "--version", "print the version and exit");
}
