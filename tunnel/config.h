/* Command-line flags and environment variables of vpn-server and
 * vpn-shoot (../shared/CONTRACT.md), declared once in a table in
 * config.c from which parsing, validation and --help are derived.
 * Precedence: default < environment < flag. */
#ifndef TUNNEL_CONFIG_H
#define TUNNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tunnel/cidr.h"

enum cfg_role { CFG_SERVER = 1, CFG_SHOOT = 2 };
enum cfg_action { CFG_RUN, CFG_HELP, CFG_VERSION };
enum { CFG_LIST_MAX = 16, CFG_ERR_MAX = 256, CFG_STORE = 8192 };

struct cfg {
	enum cfg_role role;
	enum cfg_action action;

	/* both */
	const char *cert, *key, *ca, *dev;
	unsigned mtu;
	struct cidr vpn_network;
	const char *stats_socket, *stats_socket_ro, *metrics_listen;
	unsigned keepalive_ms, keepalive_timeout_ms;
	const char *log_format, *log_level;
	const char *user;	/* NULL: stay root (with only CAP_NET_ADMIN) */
	bool offload;		/* TUN offloads (virtio-net headers, 64 KB TCP segments) */
	bool seal;		/* sealed records after the handshake (seal.h, CAP_SEAL) */
	bool ktls;		/* ask OpenSSL for kernel TLS (tls.h, TLS_KTLS) */

	/* vpn-server */
	const char *listen;
	struct cidr_list shoot_networks;
	const char *allowed[CFG_LIST_MAX];
	size_t n_allowed;
	const char *proxy_listen, *proxy_cert, *proxy_key, *proxy_ca;
	unsigned handshake_timeout_ms;

	/* vpn-shoot */
	const char *servers[CFG_LIST_MAX];
	size_t n_servers;
	const char *server_name, *http_proxy, *proxy_header, *egress_dev;
	unsigned reconnect_max_ms;

	/* Backing store for strings built from lists ("a,b" split, ENDPOINT
	 * joined with VPN_PORT): cfg never allocates. */
	char store[CFG_STORE];
	size_t store_used;
};

/* Parses argv and envp (NULL-terminated "K=V" strings) for role. On error
 * returns -EINVAL and writes one line to err naming the flag (and its
 * variable) and quoting the bad value. */
int cfg_parse(struct cfg *c, enum cfg_role role, int argc, char **argv,
	      char **envp, char *err, size_t errlen);
void cfg_usage(enum cfg_role role, FILE *out);

/* Splits "host:port" or "[v6]:port" (port 0..65535). host receives the
 * address without brackets. Returns 0 or -EINVAL. */
int cfg_split_hostport(const char *s, char *host, size_t hostlen,
		       uint16_t *port);

struct sockaddr_storage;
/* "ADDR:PORT" or "[v6]:PORT" with a numeric address (no name lookup) as a
 * socket address; *len receives its length. Returns 0 or -EINVAL. */
int cfg_sockaddr(const char *s, struct sockaddr_storage *ss, unsigned *len);

#endif
