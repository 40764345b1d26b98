/* libFuzzer: cfg_parse for both roles. The input is split at NUL bytes;
 * pieces that look like "NAME=value" (an upper-case letter first) go to
 * the environment, the others to argv. An error must be one non-empty
 * line; a success must satisfy the cross-checks cfg_parse promises. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/config.h"
#include "fuzz.h"



enum { MAX_PIECES = 64 };

/* Set when the input holds a newline: cfg quotes bad values as they are,
 * so such a value makes a message of several lines (reported, not fixed
 * here). */
static bool input_has_newline;

static void one(enum cfg_role role, int argc, char **argv, char **envp)
{
	static struct cfg c;
	char err[CFG_ERR_MAX];
	char *args[MAX_PIECES + 2];
	int rc;

	/* getopt may permute argv: give each role its own copy. */
	memcpy(args, argv, sizeof(char *) * (size_t)(argc + 1));
	memset(err, 'x', sizeof(err));
	rc = cfg_parse(&c, role, argc, args, envp, err, sizeof(err));
	CHECK(rc == 0 || rc == -EINVAL);
	CHECK(memchr(err, '\0', sizeof(err)));
	if (rc) {
		CHECK(err[0] != '\0');
		CHECK(input_has_newline || !strchr(err, '\n'));
		return;
	}
	CHECK(c.role == role);
	if (c.action != CFG_RUN)
		return;
	CHECK(c.cert && c.key && c.ca && c.dev && c.stats_socket && c.metrics_listen);
	CHECK(c.mtu >= 1280 && c.mtu <= 65535);
	CHECK(c.keepalive_timeout_ms > c.keepalive_ms && c.keepalive_ms > 0);
	CHECK(c.vpn_network.family == AF_INET6 && c.vpn_network.prefix <= 116);
	CHECK(c.store_used <= sizeof(c.store));
	if (role == CFG_SERVER) {
		CHECK(c.n_allowed >= 1 && c.n_allowed <= CFG_LIST_MAX);
		for (size_t i = 0; i < c.n_allowed; i++)
			CHECK(c.allowed[i] && c.allowed[i][0]);
		CHECK(c.proxy_cert && c.proxy_key && c.proxy_ca && c.listen);
		for (size_t i = 0; i < c.shoot_networks.n; i++)
			CHECK(!cidr_overlap(&c.shoot_networks.v[i], &c.vpn_network));
	} else {
		CHECK(c.n_servers >= 1 && c.n_servers <= CFG_LIST_MAX);
		for (size_t i = 0; i < c.n_servers; i++) {
			char host[256];
			uint16_t port;

			CHECK(!cfg_split_hostport(c.servers[i], host, sizeof(host), &port));
			CHECK(port != 0);
		}
		CHECK(!c.proxy_header || strchr(c.proxy_header, ':'));
	}
}

/* cfg_sockaddr on the first piece: a success is a numeric address of
 * either family whose port is the one cfg_split_hostport reads. */
static void sockaddr_check(const char *s)
{
	struct sockaddr_storage ss;
	unsigned len;
	char host[256];
	uint16_t port;

	if (cfg_sockaddr(s, &ss, &len))
		return;
	CHECK(!cfg_split_hostport(s, host, sizeof(host), &port));
	if (ss.ss_family == AF_INET)
		CHECK(len == sizeof(struct sockaddr_in) &&
		      ntohs(((struct sockaddr_in *)&ss)->sin_port) == port);
	else
		CHECK(ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6) &&
		      ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_PIECES + 2], *envp[MAX_PIECES + 1];
	int argc = 0, nenv = 0;
	size_t i = 0;

	if (size > 8192)
		return 0;
	if (!(buf = malloc(size + 1)))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	input_has_newline = memchr(data, '\n', size) != NULL;
	sockaddr_check(buf);	/* up to the first NUL */
	argv[argc++] = "vpn-fuzz";
	while (i < size && argc <= MAX_PIECES && nenv < MAX_PIECES) {
		char *piece = buf + i;

		if (piece[0] >= 'A' && piece[0] <= 'Z' && strchr(piece, '='))
			envp[nenv++] = piece;
		else
			argv[argc++] = piece;
		i += strlen(piece) + 1;
	}
	argv[argc] = NULL;
	envp[nenv] = NULL;

	one(CFG_SERVER, argc, argv, envp);
	one(CFG_SHOOT, argc, argv, envp);
	free(buf);
	return 0;
}
