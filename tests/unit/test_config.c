/* tunnel/config: flags and environment of vpn-server and vpn-shoot
 * (../shared/CONTRACT.md). Precedence is default < environment < flag;
 * a bad value fails with one line that starts with the flag (and the
 * variable it came from) and quotes the value. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tunnel/config.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define BOTH (CFG_SERVER | CFG_SHOOT)

enum { MAXARGS = 40 };

static const char *role_name(enum cfg_role role)
{
	return role == CFG_SERVER ? "vpn-server" : "vpn-shoot";
}

/* Runs cfg_parse on NULL-terminated lists of arguments (without argv[0])
 * and "K=V" strings. cfg keeps pointers into them: they are literals. */
static int parse(struct cfg *c, enum cfg_role role, const char *const *args,
		 const char *const *env, char *err, size_t errlen)
{
	char *argv[MAXARGS + 2], *envp[MAXARGS + 1];
	int argc = 0, n = 0;

	argv[argc++] = (char *)role_name(role);
	for (; args && *args; args++) {
		assert_true(argc < MAXARGS);
		argv[argc++] = (char *)*args;
	}
	argv[argc] = NULL;
	for (; env && *env; env++) {
		assert_true(n < MAXARGS);
		envp[n++] = (char *)*env;
	}
	envp[n] = NULL;
	return cfg_parse(c, role, argc, argv, envp, err, errlen);
}

/* Parses and fails the test, with cfg's message, if that fails. */
static struct cfg *parse_ok(enum cfg_role role, const char *const *args,
			    const char *const *env)
{
	static struct cfg c;
	char err[CFG_ERR_MAX];

	if (parse(&c, role, args, env, err, sizeof(err)))
		fail_msg("%s: unexpected error: %s", role_name(role), err);
	assert_int_equal(c.role, role);
	return &c;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

static void assert_cidr(const struct cidr *c, const char *want)
{
	char buf[CIDR_STRLEN];

	cidr_format(c, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* ---- defaults ---- */

static void server_defaults_follow_the_contract(void **state)
{
	struct cfg *c = parse_ok(CFG_SERVER, NONE, NONE);

	assert_int_equal(c->action, CFG_RUN);
	assert_string_equal(c->cert, "/srv/secrets/vpn/tls.crt");
	assert_string_equal(c->key, "/srv/secrets/vpn/tls.key");
	assert_string_equal(c->ca, "/srv/secrets/vpn/ca.crt");
	assert_string_equal(c->dev, "tun0");
	assert_int_equal(c->mtu, 1500);
	assert_cidr(&c->vpn_network, "fd8f:6d53:b97a:1::/96");
	assert_string_equal(c->stats_socket, "/run/vpn-server/stats.sock");
	assert_string_equal(c->metrics_listen, "[::]:15000");
	assert_int_equal(c->keepalive_ms, 1000);
	assert_int_equal(c->keepalive_timeout_ms, 5000);
	assert_string_equal(c->log_format, "text");
	assert_string_equal(c->log_level, "info");
	assert_string_equal(c->listen, "[::]:1194");
	assert_int_equal(c->shoot_networks.n, 0);
	assert_int_equal(c->n_allowed, 1);
	assert_string_equal(c->allowed[0], "vpn-shoot");
	assert_string_equal(c->proxy_listen, "[::]:9443");
	/* The proxy's TLS files default to the tunnel's. */
	assert_string_equal(c->proxy_cert, c->cert);
	assert_string_equal(c->proxy_key, c->key);
	assert_string_equal(c->proxy_ca, c->ca);
}

static void shoot_defaults_follow_the_contract(void **state)
{
	struct cfg *c = parse_ok(CFG_SHOOT, ARGS("--server", "vpn.example:1194"), NONE);

	assert_int_equal(c->action, CFG_RUN);
	assert_string_equal(c->cert, "/srv/secrets/vpn/tls.crt");
	assert_string_equal(c->dev, "tun0");
	assert_int_equal(c->mtu, 1500);
	assert_cidr(&c->vpn_network, "fd8f:6d53:b97a:1::/96");
	assert_string_equal(c->stats_socket, "/run/vpn-shoot/stats.sock");
	assert_string_equal(c->metrics_listen, "[::]:15001");
	assert_int_equal(c->keepalive_ms, 1000);
	assert_int_equal(c->keepalive_timeout_ms, 5000);
	assert_string_equal(c->server_name, "vpn-server");
	assert_int_equal(c->reconnect_max_ms, 10000);
	assert_null(c->http_proxy);
	assert_null(c->proxy_header);
	assert_null(c->egress_dev);
	assert_int_equal(c->n_servers, 1);
	assert_string_equal(c->servers[0], "vpn.example:1194");
}

/* ---- one value per option: env alone, flag alone, flag over env ---- */

enum { STR, MS_OR_N };

static const struct opt_case {
	unsigned roles;
	const char *flag, *env;
	const char *value, *other;	/* other: the losing env value */
	size_t off;
	int type;
	unsigned want;			/* MS_OR_N: the stored number */
} opt_cases[] = {
	{ BOTH, "--cert", "TLS_CERT", "/a/tls.crt", "/b/tls.crt", offsetof(struct cfg, cert), STR, 0 },
	{ BOTH, "--key", "TLS_KEY", "/a/tls.key", "/b/tls.key", offsetof(struct cfg, key), STR, 0 },
	{ BOTH, "--ca", "TLS_CA", "/a/ca.crt", "/b/ca.crt", offsetof(struct cfg, ca), STR, 0 },
	{ BOTH, "--dev", "VPN_DEV", "tun7", "tun9", offsetof(struct cfg, dev), STR, 0 },
	{ BOTH, "--mtu", "VPN_MTU", "1400", "9000", offsetof(struct cfg, mtu), MS_OR_N, 1400 },
	{ BOTH, "--stats-socket", "STATS_SOCKET", "/tmp/s.sock", "/tmp/t.sock", offsetof(struct cfg, stats_socket), STR, 0 },
	{ BOTH, "--metrics-listen", "METRICS_LISTEN", "127.0.0.1:9100", "[::1]:9101", offsetof(struct cfg, metrics_listen), STR, 0 },
	{ BOTH, "--keepalive", "KEEPALIVE", "2", "3", offsetof(struct cfg, keepalive_ms), MS_OR_N, 2000 },
	{ BOTH, "--keepalive", "KEEPALIVE", "0.25", "3", offsetof(struct cfg, keepalive_ms), MS_OR_N, 250 },
	{ BOTH, "--keepalive-timeout", "KEEPALIVE_TIMEOUT", "30", "20", offsetof(struct cfg, keepalive_timeout_ms), MS_OR_N, 30000 },
	{ BOTH, "--log-format", "LOG_FORMAT", "json", "text", offsetof(struct cfg, log_format), STR, 0 },
	{ BOTH, "--log-level", "LOG_LEVEL", "debug", "warn", offsetof(struct cfg, log_level), STR, 0 },
	{ CFG_SERVER, "--listen", "VPN_LISTEN", "0.0.0.0:443", "[::]:1", offsetof(struct cfg, listen), STR, 0 },
	{ CFG_SERVER, "--proxy-listen", "PROXY_LISTEN", "[::1]:8443", "[::]:1", offsetof(struct cfg, proxy_listen), STR, 0 },
	{ CFG_SERVER, "--proxy-cert", "PROXY_TLS_CERT", "/p/tls.crt", "/q/tls.crt", offsetof(struct cfg, proxy_cert), STR, 0 },
	{ CFG_SERVER, "--proxy-key", "PROXY_TLS_KEY", "/p/tls.key", "/q/tls.key", offsetof(struct cfg, proxy_key), STR, 0 },
	{ CFG_SERVER, "--proxy-ca", "PROXY_TLS_CA", "/p/ca.crt", "/q/ca.crt", offsetof(struct cfg, proxy_ca), STR, 0 },
	{ CFG_SERVER, "--handshake-timeout", "HANDSHAKE_TIMEOUT", "2.5", "1", offsetof(struct cfg, handshake_timeout_ms), MS_OR_N, 2500 },
	{ CFG_SHOOT, "--server-name", "SERVER_NAME", "vpn-seed-server", "other", offsetof(struct cfg, server_name), STR, 0 },
	{ CFG_SHOOT, "--http-proxy", "HTTP_PROXY_ENDPOINT", "proxy.example:8132", "other:1", offsetof(struct cfg, http_proxy), STR, 0 },
	{ CFG_SHOOT, "--egress-dev", "EGRESS_DEV", "eth1", "eth2", offsetof(struct cfg, egress_dev), STR, 0 },
	{ CFG_SHOOT, "--reconnect-max", "RECONNECT_MAX", "30", "60", offsetof(struct cfg, reconnect_max_ms), MS_OR_N, 30000 },
};

static void check_opt(const struct cfg *c, const struct opt_case *o, const char *how)
{
	const char *field = (const char *)c + o->off;

	if (o->type == STR) {
		const char *got = *(const char *const *)field;
		if (!got || strcmp(got, o->value))
			fail_msg("%s %s (%s): got `%s', want `%s'", role_name(c->role),
				 o->flag, how, got ? got : "(null)", o->value);
	} else if (*(const unsigned *)field != o->want) {
		fail_msg("%s %s (%s): got %u, want %u", role_name(c->role), o->flag,
			 how, *(const unsigned *)field, o->want);
	}
}

static void every_option_is_read_from_its_environment_variable(void **state)
{
	for (size_t i = 0; i < N(opt_cases); i++) {
		const struct opt_case *o = &opt_cases[i];
		char env[128];

		snprintf(env, sizeof(env), "%s=%s", o->env, o->value);
		for (int role = CFG_SERVER; role <= CFG_SHOOT; role++) {
			if (!(o->roles & (unsigned)role))
				continue;
			check_opt(parse_ok((enum cfg_role)role,
					   role == CFG_SHOOT ? ARGS("--server", "h:1") : NONE,
					   ARGS(env)), o, "env");
		}
	}
}

static void every_option_is_read_from_its_flag(void **state)
{
	for (size_t i = 0; i < N(opt_cases); i++) {
		const struct opt_case *o = &opt_cases[i];

		for (int role = CFG_SERVER; role <= CFG_SHOOT; role++) {
			if (!(o->roles & (unsigned)role))
				continue;
			if (role == CFG_SHOOT)
				check_opt(parse_ok(CFG_SHOOT, ARGS(o->flag, o->value, "--server", "h:1"),
						   NONE), o, "flag");
			else
				check_opt(parse_ok(CFG_SERVER, ARGS(o->flag, o->value), NONE), o, "flag");
		}
	}
}

static void a_flag_beats_its_environment_variable(void **state)
{
	for (size_t i = 0; i < N(opt_cases); i++) {
		const struct opt_case *o = &opt_cases[i];
		char env[128];

		snprintf(env, sizeof(env), "%s=%s", o->env, o->other);
		for (int role = CFG_SERVER; role <= CFG_SHOOT; role++) {
			if (!(o->roles & (unsigned)role))
				continue;
			if (role == CFG_SHOOT)
				check_opt(parse_ok(CFG_SHOOT, ARGS(o->flag, o->value, "--server", "h:1"),
						   ARGS(env)), o, "flag over env");
			else
				check_opt(parse_ok(CFG_SERVER, ARGS(o->flag, o->value), ARGS(env)),
					  o, "flag over env");
		}
	}
}

static void an_empty_variable_counts_as_unset(void **state)
{
	struct cfg *c = parse_ok(CFG_SERVER, NONE,
				 ARGS("TLS_CERT=", "VPN_MTU=", "ALLOWED_CLIENTS=",
				      "SHOOT_POD_NETWORKS="));

	assert_string_equal(c->cert, "/srv/secrets/vpn/tls.crt");
	assert_int_equal(c->mtu, 1500);
	assert_int_equal(c->n_allowed, 1);
	assert_string_equal(c->allowed[0], "vpn-shoot");
	assert_int_equal(c->shoot_networks.n, 0);
}

static void a_variable_is_matched_by_its_whole_name(void **state)
{
	struct cfg *c = parse_ok(CFG_SERVER, NONE,
				 ARGS("VPN_MTUX=1400", "XVPN_MTU=1400", "VPN_MT=1400"));

	assert_int_equal(c->mtu, 1500);
}

static void vpn_network_is_read_from_flag_or_env(void **state)
{
	struct cfg *c;

	c = parse_ok(CFG_SERVER, NONE, ARGS("VPN_NETWORK=fd00:1::/64"));
	assert_cidr(&c->vpn_network, "fd00:1::/64");
	c = parse_ok(CFG_SERVER, ARGS("--vpn-network", "fd00:2::/116"),
		     ARGS("VPN_NETWORK=fd00:1::/64"));
	assert_cidr(&c->vpn_network, "fd00:2::/116");
	c = parse_ok(CFG_SHOOT, ARGS("--vpn-network", "fd00:3::/96", "--server", "h:1"), NONE);
	assert_cidr(&c->vpn_network, "fd00:3::/96");
}

/* ---- lists ---- */

static void assert_list(const char *const *got, size_t n, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		if (i >= n)
			fail_msg("list has %zu values, want more (next `%s')", n, want[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_int_equal(n, i);
}

static void allowed_clients_come_from_repeated_flags_or_a_comma_list(void **state)
{
	static const struct {
		const char *args[6], *env[2], *want[5];
	} rows[] = {
		{ { NULL }, { NULL }, { "vpn-shoot" } },
		{ { "--allowed-client", "a", "--allowed-client", "b" }, { NULL }, { "a", "b" } },
		{ { "--allowed-client", "a,b" }, { NULL }, { "a", "b" } },
		{ { NULL }, { "ALLOWED_CLIENTS=a, b ,c" }, { "a", "b", "c" } },
		{ { NULL }, { "ALLOWED_CLIENTS=x" }, { "x" } },
		/* flags replace the variable's list, they do not add to it */
		{ { "--allowed-client", "z" }, { "ALLOWED_CLIENTS=x,y" }, { "z" } },
		{ { "--allowed-client", "z", "--allowed-client", "w" }, { "ALLOWED_CLIENTS=x,y" },
		  { "z", "w" } },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct cfg *c = parse_ok(CFG_SERVER, rows[i].args, rows[i].env);

		assert_list(c->allowed, c->n_allowed, rows[i].want);
	}
}

static void servers_come_from_repeated_flags(void **state)
{
	struct cfg *c = parse_ok(CFG_SHOOT, ARGS("--server", "a.example:1194",
						 "--server", "[2001:db8::1]:443"), NONE);

	assert_list(c->servers, c->n_servers, ARGS("a.example:1194", "[2001:db8::1]:443"));
}

static void shoot_networks_from_all_three_variables_are_merged(void **state)
{
	struct cfg *c = parse_ok(CFG_SERVER, NONE,
				 ARGS("SHOOT_POD_NETWORKS=100.64.0.0/12",
				      "SHOOT_SERVICE_NETWORKS=100.104.0.0/13",
				      "SHOOT_NODE_NETWORKS=10.250.0.0/16, 2001:db8::/64"));

	assert_int_equal(c->shoot_networks.n, 4);
	assert_cidr(&c->shoot_networks.v[0], "100.64.0.0/12");
	assert_cidr(&c->shoot_networks.v[1], "100.104.0.0/13");
	assert_cidr(&c->shoot_networks.v[2], "10.250.0.0/16");
	assert_cidr(&c->shoot_networks.v[3], "2001:db8::/64");
}

static void shoot_networks_flags_add_up_and_replace_the_variables(void **state)
{
	struct cfg *c = parse_ok(CFG_SERVER,
				 ARGS("--shoot-networks", "192.168.0.0/16",
				      "--shoot-networks", "10.0.0.0/8, 172.16.0.0/12"),
				 ARGS("SHOOT_POD_NETWORKS=100.64.0.0/12",
				      "SHOOT_NODE_NETWORKS=10.250.0.0/16"));

	assert_int_equal(c->shoot_networks.n, 3);
	assert_cidr(&c->shoot_networks.v[0], "192.168.0.0/16");
	assert_cidr(&c->shoot_networks.v[1], "10.0.0.0/8");
	assert_cidr(&c->shoot_networks.v[2], "172.16.0.0/12");
}

/* ---- vpn-shoot variables that map onto flags ---- */

static void endpoint_and_vpn_port_make_the_server(void **state)
{
	static const struct { const char *env[3], *want; } rows[] = {
		{ { "ENDPOINT=vpn.example.com", "VPN_PORT=443" }, "vpn.example.com:443" },
		{ { "ENDPOINT=vpn.example.com" }, "vpn.example.com:1194" },
		{ { "ENDPOINT=vpn.example.com", "VPN_PORT=" }, "vpn.example.com:1194" },
		{ { "ENDPOINT=203.0.113.7", "VPN_PORT=8132" }, "203.0.113.7:8132" },
		{ { "ENDPOINT=2001:db8::1" }, "[2001:db8::1]:1194" },	/* IPv6: bracketed */
		{ { "ENDPOINT=2001:db8::1", "VPN_PORT=443" }, "[2001:db8::1]:443" },
		{ { "ENDPOINT=[2001:db8::1]", "VPN_PORT=443" }, "[2001:db8::1]:443" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct cfg *c = parse_ok(CFG_SHOOT, NONE, rows[i].env);

		assert_int_equal(c->n_servers, 1);
		assert_string_equal(c->servers[0], rows[i].want);
	}
}

static void server_flags_replace_endpoint(void **state)
{
	struct cfg *c = parse_ok(CFG_SHOOT, ARGS("--server", "a:1", "--server", "b:2"),
				 ARGS("ENDPOINT=vpn.example.com", "VPN_PORT=443"));

	assert_list(c->servers, c->n_servers, ARGS("a:1", "b:2"));
}

static void reversed_vpn_header_variables_make_the_proxy_header(void **state)
{
	static const struct { const char *args[3], *env[3], *want; } rows[] = {
		{ { NULL }, { "REVERSED_VPN_HEADER_KEY=X-Gardener-Destination",
			      "REVERSED_VPN_HEADER=outbound|1194||vpn-seed-server.shoot--p--s.svc" },
		  "X-Gardener-Destination: outbound|1194||vpn-seed-server.shoot--p--s.svc" },
		{ { NULL }, { "REVERSED_VPN_HEADER=shoot--p--s" }, "Reversed-VPN: shoot--p--s" },
		{ { NULL }, { "REVERSED_VPN_HEADER_KEY=X-Only-Key" }, NULL },
		{ { "--proxy-header", "Flag: wins" },
		  { "REVERSED_VPN_HEADER_KEY=K", "REVERSED_VPN_HEADER=v" }, "Flag: wins" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		const char *args[6] = { "--server", "h:1" };
		struct cfg *c;

		for (size_t j = 0; rows[i].args[j]; j++)
			args[2 + j] = rows[i].args[j];
		c = parse_ok(CFG_SHOOT, args, rows[i].env);
		if (!rows[i].want)
			assert_null(c->proxy_header);
		else
			assert_string_equal(c->proxy_header, rows[i].want);
	}
}

/* ---- errors ---- */

static const struct bad_case {
	enum cfg_role role;
	const char *args[8], *env[4];
	const char *prefix;	/* the message starts with this */
	const char *quote;	/* ... and contains this, if not NULL */
} bad_cases[] = {
	{ CFG_SERVER, { "--mtu", "abc" }, { NULL }, "--mtu: ", "`abc'" },
	{ CFG_SERVER, { "--mtu", "1279" }, { NULL }, "--mtu: ", "`1279'" },
	{ CFG_SERVER, { "--mtu", "65536" }, { NULL }, "--mtu: ", "`65536'" },
	{ CFG_SERVER, { "--mtu", "1500 " }, { NULL }, "--mtu: ", "`1500 '" },
	{ CFG_SERVER, { "--mtu", "" }, { NULL }, "--mtu: ", "`'" },
	{ CFG_SHOOT, { "--server", "h:1" }, { "VPN_MTU=1500x" }, "--mtu (from VPN_MTU): ", "`1500x'" },
	{ CFG_SERVER, { "--shoot-networks", "10.0.0.1/8" }, { NULL }, "--shoot-networks: ", "`10.0.0.1/8'" },
	{ CFG_SERVER, { "--shoot-networks", "10.0.0.0/8,bogus" }, { NULL }, "--shoot-networks: ", "`bogus'" },
	{ CFG_SERVER, { NULL }, { "SHOOT_POD_NETWORKS=bogus" },
	  "--shoot-networks (from SHOOT_POD_NETWORKS): ", "`bogus'" },
	{ CFG_SERVER, { NULL }, { "SHOOT_SERVICE_NETWORKS=10.96.0.0/12,10.97.0.0/12" },
	  "--shoot-networks (from SHOOT_SERVICE_NETWORKS): ", "`10.97.0.0/12'" },
	{ CFG_SERVER, { NULL }, { "SHOOT_NODE_NETWORKS=10.250.0.0/33" },
	  "--shoot-networks (from SHOOT_NODE_NETWORKS): ", "`10.250.0.0/33'" },
	{ CFG_SERVER, { "--shoot-networks", "fd8f:6d53:b97a::/48" }, { NULL },
	  "--shoot-networks: ", "`fd8f:6d53:b97a::/48' overlaps --vpn-network" },
	{ CFG_SERVER, { "--vpn-network", "10.0.0.0/8" }, { NULL }, "--vpn-network: ", "`10.0.0.0/8'" },
	{ CFG_SERVER, { "--vpn-network", "fd00::/120" }, { NULL }, "--vpn-network: ", "`fd00::/120'" },
	{ CFG_SHOOT, { "--server", "h:1" }, { "VPN_NETWORK=nonsense" },
	  "--vpn-network (from VPN_NETWORK): ", "`nonsense'" },
	{ CFG_SERVER, { "--keepalive", "0" }, { NULL }, "--keepalive: ", "`0'" },
	{ CFG_SERVER, { "--keepalive", "-1" }, { NULL }, "--keepalive: ", "`-1'" },
	{ CFG_SERVER, { "--keepalive", "1s" }, { NULL }, "--keepalive: ", "`1s'" },
	{ CFG_SERVER, { "--keepalive", "86401" }, { NULL }, "--keepalive: ", "`86401'" },
	{ CFG_SERVER, { "--keepalive", "nan" }, { NULL }, "--keepalive: ", "`nan'" },
	{ CFG_SERVER, { NULL }, { "KEEPALIVE_TIMEOUT=soon" }, "--keepalive-timeout (from KEEPALIVE_TIMEOUT): ", "`soon'" },
	{ CFG_SERVER, { "--log-format", "xml" }, { NULL }, "--log-format: ", "`xml'" },
	{ CFG_SERVER, { "--log-level", "loud" }, { NULL }, "--log-level: ", "`loud'" },
	{ CFG_SERVER, { NULL }, { "LOG_LEVEL=trace" }, "--log-level (from LOG_LEVEL): ", "`trace'" },
	{ CFG_SERVER, { "--dev", "a/b" }, { NULL }, "--dev: ", "`a/b'" },
	{ CFG_SERVER, { "--dev", "0123456789abcdef" }, { NULL }, "--dev: ", "`0123456789abcdef'" },
	{ CFG_SHOOT, { "--server", "h:1", "--egress-dev", "eth 0" }, { NULL }, "--egress-dev: ", "`eth 0'" },
	{ CFG_SERVER, { "--listen", "1194" }, { NULL }, "--listen: ", "`1194'" },
	{ CFG_SERVER, { "--listen", "::1:1194" }, { NULL }, "--listen: ", "`::1:1194'" },
	{ CFG_SERVER, { "--listen", "[::1]:65536" }, { NULL }, "--listen: ", "`[::1]:65536'" },
	{ CFG_SERVER, { NULL }, { "METRICS_LISTEN=nope" }, "--metrics-listen (from METRICS_LISTEN): ", "`nope'" },
	{ CFG_SERVER, { "--cert", "" }, { NULL }, "--cert: ", NULL },
	{ CFG_SERVER, { "--allowed-client", "" }, { NULL }, "--allowed-client: ", NULL },
	{ CFG_SERVER, { "--allowed-client", " , " }, { NULL }, "--allowed-client: ", NULL },
	{ CFG_SERVER, { "--allowed-client", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" }, { NULL },
	  "--allowed-client: ", NULL },
	{ CFG_SERVER, { "--handshake-timeout", "x" }, { NULL }, "--handshake-timeout: ", "`x'" },
	{ CFG_SHOOT, { NULL }, { "ENDPOINT=vpn.example", "VPN_PORT=http" }, "--server (from VPN_PORT): ", "`http'" },
	{ CFG_SHOOT, { NULL }, { "ENDPOINT=vpn.example", "VPN_PORT=0" }, "--server (from VPN_PORT): ", "`0'" },
	{ CFG_SHOOT, { NULL }, { "ENDPOINT=vpn.example", "VPN_PORT=65536" }, "--server (from VPN_PORT): ", "`65536'" },
	{ CFG_SHOOT, { "--server", "vpn.example" }, { NULL }, "--server: ", "`vpn.example'" },
	{ CFG_SHOOT, { "--server", "vpn.example:0" }, { NULL }, "--server: ", "`vpn.example:0'" },
	{ CFG_SHOOT, { "--server", "2001:db8::1:443" }, { NULL }, "--server: ", "`2001:db8::1:443'" },
	{ CFG_SHOOT, { "--server", "h:1", "--proxy-header", "no-colon" }, { NULL }, "--proxy-header: ", "`no-colon'" },
	{ CFG_SHOOT, { "--server", "h:1", "--http-proxy", "proxy" }, { NULL }, "--http-proxy: ", "`proxy'" },
	{ CFG_SHOOT, { "--server", "h:1", "--reconnect-max", "0" }, { NULL }, "--reconnect-max: ", "`0'" },
	/* cross-checks */
	{ CFG_SHOOT, { NULL }, { NULL }, "--server: required", NULL },
	{ CFG_SHOOT, { NULL }, { "VPN_PORT=443" }, "--server: required", NULL },
	{ CFG_SERVER, { "--keepalive", "5" }, { NULL }, "--keepalive-timeout: ", NULL },
	{ CFG_SERVER, { "--keepalive", "2", "--keepalive-timeout", "2" }, { NULL }, "--keepalive-timeout: ", NULL },
	{ CFG_SHOOT, { "--server", "h:1" }, { "KEEPALIVE_TIMEOUT=0.5" }, "--keepalive-timeout: ", NULL },
	/* the command line itself */
	{ CFG_SERVER, { "--bogus" }, { NULL }, "--bogus: unknown option", NULL },
	{ CFG_SERVER, { "--bogus=1" }, { NULL }, "--bogus=1: unknown option", NULL },
	{ CFG_SERVER, { "-x" }, { NULL }, "-x: unknown option", NULL },
	{ CFG_SERVER, { "--server", "h:1" }, { NULL }, "--server: unknown option", NULL },
	{ CFG_SHOOT, { "--server", "h:1", "--listen", "[::]:1" }, { NULL }, "--listen: unknown option", NULL },
	{ CFG_SHOOT, { "--server", "h:1", "--allowed-client", "x" }, { NULL }, "--allowed-client: unknown option", NULL },
	{ CFG_SERVER, { "--mtu" }, { NULL }, "--mtu: needs a value", NULL },
	{ CFG_SERVER, { "extra" }, { NULL }, "extra: unexpected argument", NULL },
	{ CFG_SERVER, { "--mtu", "1400", "extra" }, { NULL }, "extra: unexpected argument", NULL },
};

static void bad_values_fail_naming_the_flag_and_quoting_the_value(void **state)
{
	for (size_t i = 0; i < N(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];
		char err[CFG_ERR_MAX];
		struct cfg c;
		int rc;

		memset(err, 'x', sizeof(err));
		err[sizeof(err) - 1] = '\0';
		rc = parse(&c, b->role, b->args, b->env, err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("case %zu (%s %s): returned %d, want -EINVAL", i,
				 role_name(b->role), b->prefix, rc);
		if (strncmp(err, b->prefix, strlen(b->prefix)))
			fail_msg("case %zu: `%s' does not start with `%s'", i, err, b->prefix);
		if (b->quote && !strstr(err, b->quote))
			fail_msg("case %zu: `%s' does not quote %s", i, err, b->quote);
		if (strchr(err, '\n'))
			fail_msg("case %zu: `%s' is more than one line", i, err);
	}
}

static void more_than_cidr_list_max_shoot_networks_is_an_error(void **state)
{
	char list[CIDR_LIST_MAX * 16 + 16] = "", err[CFG_ERR_MAX];
	struct cfg c;

	for (int i = 0; i <= CIDR_LIST_MAX; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.%d.0.0/16",
			 i ? "," : "", i);
	assert_int_equal(parse(&c, CFG_SERVER, ARGS("--shoot-networks", list), NONE,
			       err, sizeof(err)), -EINVAL);
	assert_true(!strncmp(err, "--shoot-networks: ", 18));
}

static void help_and_version_are_actions_not_errors(void **state)
{
	static const struct { const char *flag; enum cfg_action action; } rows[] = {
		{ "--help", CFG_HELP }, { "-h", CFG_HELP },
		{ "--version", CFG_VERSION }, { "-V", CFG_VERSION },
	};

	for (size_t i = 0; i < N(rows); i++) {
		/* vpn-shoot without --server: asking for help is not an error. */
		assert_int_equal(parse_ok(CFG_SHOOT, ARGS(rows[i].flag), NONE)->action,
				 rows[i].action);
		assert_int_equal(parse_ok(CFG_SERVER, ARGS("--mtu", "1400", rows[i].flag),
					  NONE)->action, rows[i].action);
	}
}

static void parsing_twice_gives_the_same_answer(void **state)
{
	/* getopt state is global; cfg_parse must reset it. */
	for (int i = 0; i < 3; i++) {
		struct cfg *c = parse_ok(CFG_SERVER, ARGS("--mtu", "1400", "--allowed-client", "a"), NONE);

		assert_int_equal(c->mtu, 1400);
		assert_int_equal(c->n_allowed, 1);
	}
}

/* ---- helpers exported by config.h ---- */

static void split_hostport_takes_host_or_bracketed_v6_and_a_port(void **state)
{
	static const struct { const char *in; int rc; const char *host; uint16_t port; } rows[] = {
		{ "1.2.3.4:80", 0, "1.2.3.4", 80 },
		{ "vpn.example.com:1194", 0, "vpn.example.com", 1194 },
		{ "[::]:1194", 0, "::", 1194 },
		{ "[2001:db8::1]:443", 0, "2001:db8::1", 443 },
		{ "h:0", 0, "h", 0 },
		{ "h:65535", 0, "h", 65535 },
		{ "h:65536", -EINVAL, NULL, 0 },
		{ "h:-1", -EINVAL, NULL, 0 },
		{ "h:+1", -EINVAL, NULL, 0 },
		{ "h:80x", -EINVAL, NULL, 0 },
		{ "h:", -EINVAL, NULL, 0 },
		{ "h", -EINVAL, NULL, 0 },
		{ ":80", -EINVAL, NULL, 0 },
		{ "[]:80", -EINVAL, NULL, 0 },
		{ "[::1]", -EINVAL, NULL, 0 },
		{ "[::1]80", -EINVAL, NULL, 0 },
		{ "[::1:80", -EINVAL, NULL, 0 },
		{ "::1:80", -EINVAL, NULL, 0 },
		{ "", -EINVAL, NULL, 0 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		char host[64] = "";
		uint16_t port = 7;
		int rc = cfg_split_hostport(rows[i].in, host, sizeof(host), &port);

		if (rc != rows[i].rc)
			fail_msg("`%s': returned %d, want %d", rows[i].in, rc, rows[i].rc);
		if (rc == 0) {
			assert_string_equal(host, rows[i].host);
			assert_int_equal(port, rows[i].port);
		}
	}
	/* A host that does not fit the caller's buffer is refused. */
	{
		char small[4];
		uint16_t port;

		assert_int_equal(cfg_split_hostport("abcd:1", small, sizeof(small), &port), -EINVAL);
		assert_int_equal(cfg_split_hostport("abc:1", small, sizeof(small), &port), 0);
	}
}

/* A numeric socket address, of either family; names are not looked up. */
static void sockaddr_takes_numeric_addresses_only(void **state)
{
	static const struct {
		const char *in;
		int rc, family;
		unsigned len;
		uint16_t port;
	} rows[] = {
		{ "192.0.2.1:1194", 0, AF_INET, sizeof(struct sockaddr_in), 1194 },
		{ "0.0.0.0:0", 0, AF_INET, sizeof(struct sockaddr_in), 0 },
		{ "[2001:db8::1]:9443", 0, AF_INET6, sizeof(struct sockaddr_in6), 9443 },
		{ "[::]:15000", 0, AF_INET6, sizeof(struct sockaddr_in6), 15000 },
		{ "localhost:80", -EINVAL, 0, 0, 0 },
		{ "192.0.2.256:80", -EINVAL, 0, 0, 0 },
		{ "[192.0.2.1]:80", 0, AF_INET, sizeof(struct sockaddr_in), 80 },
		{ "2001:db8::1:80", -EINVAL, 0, 0, 0 },
		{ "192.0.2.1", -EINVAL, 0, 0, 0 },
		{ "", -EINVAL, 0, 0, 0 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct sockaddr_storage ss;
		unsigned len = 0;
		int rc = cfg_sockaddr(rows[i].in, &ss, &len);

		if (rc != rows[i].rc)
			fail_msg("`%s': returned %d, want %d", rows[i].in, rc, rows[i].rc);
		if (rc)
			continue;
		assert_int_equal(ss.ss_family, rows[i].family);
		assert_int_equal(len, rows[i].len);
		assert_int_equal(ntohs(rows[i].family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							    : ((struct sockaddr_in6 *)&ss)->sin6_port),
				 rows[i].port);
	}
}

static char *usage_of(enum cfg_role role)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	cfg_usage(role, f);
	fclose(f);
	return out;
}

static void usage_lists_each_flag_of_the_role_with_its_variable(void **state)
{
	static const struct { enum cfg_role role; const char *text; bool present; } rows[] = {
		{ CFG_SERVER, "usage: vpn-server", true },
		{ CFG_SERVER, "--mtu N", true },
		{ CFG_SERVER, "[VPN_MTU]", true },
		{ CFG_SERVER, "--allowed-client NAME", true },
		{ CFG_SERVER, "[ALLOWED_CLIENTS]", true },
		{ CFG_SERVER, "SHOOT_POD_NETWORKS", true },
		{ CFG_SERVER, "--help", true },
		{ CFG_SERVER, "--version", true },
		{ CFG_SERVER, "--server HOST:PORT", false },
		{ CFG_SHOOT, "usage: vpn-shoot", true },
		{ CFG_SHOOT, "--server HOST:PORT", true },
		{ CFG_SHOOT, "ENDPOINT", true },
		{ CFG_SHOOT, "[SERVER_NAME]", true },
		{ CFG_SHOOT, "--allowed-client", false },
		{ CFG_SHOOT, "--listen ", false },
	};

	for (size_t i = 0; i < N(rows); i++) {
		char *u = usage_of(rows[i].role);

		if (!!strstr(u, rows[i].text) != rows[i].present)
			fail_msg("%s usage %s `%s'", role_name(rows[i].role),
				 rows[i].present ? "lacks" : "has", rows[i].text);
		free(u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_defaults_follow_the_contract),
		cmocka_unit_test(shoot_defaults_follow_the_contract),
		cmocka_unit_test(every_option_is_read_from_its_environment_variable),
		cmocka_unit_test(every_option_is_read_from_its_flag),
		cmocka_unit_test(a_flag_beats_its_environment_variable),
		cmocka_unit_test(an_empty_variable_counts_as_unset),
		cmocka_unit_test(a_variable_is_matched_by_its_whole_name),
		cmocka_unit_test(vpn_network_is_read_from_flag_or_env),
		cmocka_unit_test(allowed_clients_come_from_repeated_flags_or_a_comma_list),
		cmocka_unit_test(servers_come_from_repeated_flags),
		cmocka_unit_test(shoot_networks_from_all_three_variables_are_merged),
		cmocka_unit_test(shoot_networks_flags_add_up_and_replace_the_variables),
		cmocka_unit_test(endpoint_and_vpn_port_make_the_server),
		cmocka_unit_test(server_flags_replace_endpoint),
		cmocka_unit_test(reversed_vpn_header_variables_make_the_proxy_header),
		cmocka_unit_test(bad_values_fail_naming_the_flag_and_quoting_the_value),
		cmocka_unit_test(more_than_cidr_list_max_shoot_networks_is_an_error),
		cmocka_unit_test(help_and_version_are_actions_not_errors),
		cmocka_unit_test(parsing_twice_gives_the_same_answer),
		cmocka_unit_test(split_hostport_takes_host_or_bracketed_v6_and_a_port),
		cmocka_unit_test(sockaddr_takes_numeric_addresses_only),
		cmocka_unit_test(usage_lists_each_flag_of_the_role_with_its_variable),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
