/* vpn-shoot: the shoot side. Dials every --server, owns a TUN device,
 * forwards what arrives into the shoot's networks (masqueraded), and
 * returns each answer through the tunnel its request came from.
 *
 * How answers find their way back without a list of the seed's networks:
 * nftables marks every connection that enters through the TUN device
 * (ct mark), copies that mark onto each packet of the connection (meta
 * mark), and a policy rule sends marked packets to a routing table whose
 * only route is "default dev <tun>". So an answer goes into the tunnel
 * even when its destination also lies on our own uplink network. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "netlink/nl.h"
#include "tunnel/cidr.h"
#include "tunnel/config.h"
#include "tunnel/conn.h"
#include "tunnel/ctl.h"
#include "tunnel/daemon.h"
#include "tunnel/http.h"
#include "tunnel/log.h"
#include "tunnel/metrics.h"
#include "tunnel/pkt.h"
#include "tunnel/stats.h"
#include "tunnel/tls.h"
#include "tunnel/tunio.h"

enum {
	/* fwmark, routing table and rule priority of the return path; 0x7464
	 * is "td". The rule must sort before the main table's (32766). */
	SHOOT_MARK = 0x7464,
	SHOOT_TABLE = 0x7464,
	SHOOT_RULE_PRIO = 0x7464,
	BACKOFF_MIN_MS = 200,
	/* Replies of a flow go back through the tunnel its request came in
	 * by; a direct-mapped table of recent flows tells which when several
	 * tunnels are up (a collision only costs the choice of tunnel). */
	REPLY_SLOTS = 4096,
};

struct shoot;

struct link {
	struct shoot *s;
	const char *target;	/* --server HOST:PORT */
	char host[256];
	uint16_t port;
	/* Where the TCP connection goes: the server, or with --http-proxy
	 * the proxy, which is asked to CONNECT to target. */
	char connect_host[256];
	uint16_t connect_port;
	uv_timer_t retry;
	uv_getaddrinfo_t gai;
	struct conn *conn;
	unsigned backoff_ms;
	uint64_t reconnects;
	bool ever_up;
	struct cidr addr;	/* transfer address we hold for this server */
};

struct reply_slot {
	uint64_t key;
	unsigned conn_id;
};


struct shoot {
	struct cfg cfg;
	uv_loop_t *loop;
	struct daemon_signals sig;
	struct daemon_tls tls;
	struct nl *nl;
	int tun_fd, tun_ifindex;
	unsigned tun_flags;	/* TUN_OFFLOAD, TUN_USO: what the device has */
	struct tunio tun;
	struct ctl ctl, ctl_ro;
	struct http_server http;
	struct conn_params params;
	struct link links[CFG_LIST_MAX];
	size_t nlinks;
	unsigned next_id;
	uint64_t started_ms;
	bool stopping, rules_added, nft_added;
	char nft_table[32];
	char egress[IF_NAMESIZE];
	struct daemon_sysctls sysctls;
	struct reply_slot replies[REPLY_SLOTS];
};

static void link__start(struct link *l);

/* A flow key that is the same for a packet and for its answer. */
static uint64_t shoot__flow_key(const struct pkt_info *pi, bool reverse)
{
	size_t alen = pi->family == AF_INET ? 4 : 16;
	const uint8_t *a = reverse ? pi->dst : pi->src, *b = reverse ? pi->src : pi->dst;
	uint16_t pa = reverse ? pi->dport : pi->sport, pb = reverse ? pi->sport : pi->dport;
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	if (pi->proto == IPPROTO_ICMP || pi->proto == IPPROTO_ICMPV6)
		pa = pb = pi->sport;	/* the echo id, same both ways */
	for (size_t i = 0; i < alen; i++)
		h = (h ^ a[i]) * 1099511628211ULL;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	h = (h ^ pi->proto) * 1099511628211ULL;
	h = (h ^ pa) * 1099511628211ULL;
	return (h ^ pb) * 1099511628211ULL;
}

static struct conn *shoot__conn_by_id(struct shoot *s, unsigned id)
{
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].conn && s->links[i].conn->id == id && s->links[i].conn->state == CONN_UP)
			return s->links[i].conn;
	return NULL;
}

/* Packets leaving the shoot side: answers (and ICMP errors) towards the
 * seed. With one tunnel up it takes them all; with several, the one the
 * flow came in by. */
static struct conn *shoot__route(struct tunio *t, const uint8_t *pkt, size_t len)
{
	struct shoot *s = t->owner;
	struct conn *first = NULL, *c;
	struct pkt_info pi;
	unsigned up = 0;
	uint64_t key;

	if (pkt_parse(pkt, len, &pi)) {
		stats_drop(DROP_bad_packet);
		return NULL;
	}
	if (pkt_link_scoped(&pi)) {
		stats_drop(DROP_link_scoped);
		return NULL;
	}

	for (size_t i = 0; i < s->nlinks; i++) {
		if (s->links[i].conn && s->links[i].conn->state == CONN_UP) {
			up++;
			if (!first)
				first = s->links[i].conn;
		}
	}
	if (!up) {
		stats_drop(DROP_no_tunnel);
		return NULL;
	}
	if (up == 1)
		return first;
	key = shoot__flow_key(&pi, true);
	struct reply_slot *r = &s->replies[key % REPLY_SLOTS];
	c = r->key == key ? shoot__conn_by_id(s, r->conn_id) : NULL;
	return c ? c : first;
}

static void shoot__data(struct conn *c, const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len)
{
	struct link *l = c->owner;
	struct shoot *s = l->s;
	struct pkt_info pi;

	if (pkt_parse(pkt, len, &pi)) {
		c->ctr.drops++;
		stats_drop(DROP_bad_packet);
		return;
	}
	/* Only into the shoot networks the server routes to us (or to our
	 * own transfer address), and never "from" them: the seed side has no
	 * business sending with a shoot source address. */
	if (cidr_list_match(&c->welcome.routes, pi.family, pi.src)) {
		c->ctr.drops++;
		stats_drop(DROP_spoofed_source);
		return;
	}
	if (!cidr_list_match(&c->welcome.routes, pi.family, pi.dst) &&
	    !(pi.family == AF_INET6 && !memcmp(pi.dst, c->welcome.addr.s6_addr, 16))) {
		c->ctr.drops++;
		stats_drop(DROP_no_route);
		return;
	}
	if (s->nlinks > 1) {
		uint64_t key = shoot__flow_key(&pi, false);
		s->replies[key % REPLY_SLOTS] = (struct reply_slot){ key, c->id };
	}
	if (tunio_write(&s->tun, c, vh, pkt, &pi))
		c->ctr.drops++;
}

/* Whether a link other than l has l's transfer address (whatever the
 * prefix length: the device holds the address once). */
static bool shoot__addr_shared(const struct shoot *s, const struct link *l)
{
	for (size_t i = 0; i < s->nlinks; i++) {
		const struct cidr *a = &s->links[i].addr;

		if (&s->links[i] != l && a->family == l->addr.family &&
		    !memcmp(a->addr, l->addr.addr, sizeof(a->addr)))
			return true;
	}
	return false;
}

static int shoot__up(struct conn *c, const struct hello *w)
{
	struct link *l = c->owner;
	struct shoot *s = l->s;
	char a[INET6_ADDRSTRLEN] = "-";
	struct cidr addr = { .family = AF_INET6, .prefix = w->prefix };

	if (!w->has_addr) {
		log_error(&c->log, "the server assigned no transfer address");
		return -EPROTO;
	}
	memcpy(addr.addr, w->addr.s6_addr, 16);
	inet_ntop(AF_INET6, &w->addr, a, sizeof(a));
	/* A server that restarted may assign another address: the old one
	 * would otherwise linger on the device and might be given to
	 * another agent. Unless another link holds it too: HA servers share
	 * the transfer network, so two of them may give us one address. */
	if (l->addr.family && memcmp(&l->addr, &addr, sizeof(addr)) && !shoot__addr_shared(s, l))
		nl_addr_del(s->nl, s->tun_ifindex, &l->addr);
	l->addr = addr;
	if (nl_addr_add(s->nl, s->tun_ifindex, &addr)) {
		log_error(&c->log, "cannot add %s/%u to %s: %s", a, w->prefix, s->cfg.dev, nl_strerror());
		return -EIO;
	}
	if (l->ever_up) {
		l->reconnects++;
		stats_inc(STAT_reconnects, 1);
	}
	l->ever_up = true;
	l->backoff_ms = BACKOFF_MIN_MS;
	log_info(&c->log, "tunnel up: address %s/%u, server mtu %u", a, w->prefix, w->mtu);
	return 0;
}

static void shoot__writable(struct conn *c)
{
	struct link *l = c->owner;

	tunio_resume(&l->s->tun, c);
}

static void link__retry(uv_timer_t *t)
{
	link__start(t->data);
}

/* Exponential backoff with jitter: the next attempt in [b/2, b], then b
 * doubles up to --reconnect-max, so that a seed's worth of agents do not
 * reconnect in lock-step after a server restart. */
static void link__schedule(struct link *l)
{
	unsigned b = l->backoff_ms, wait;
	uint32_t r = 0;

	RAND_bytes((unsigned char *)&r, sizeof(r));
	wait = b / 2 + (b / 2 ? r % (b / 2 + 1) : 0);
	l->backoff_ms = b * 2 > l->s->cfg.reconnect_max_ms ? l->s->cfg.reconnect_max_ms : b * 2;
	log_debug(NULL, "server %s: next attempt in %u ms", l->target, wait);
	uv_timer_start(&l->retry, link__retry, wait, 0);
}

static void shoot__closed(struct conn *c, const char *reason)
{
	struct link *l = c->owner;
	struct shoot *s = l->s;

	l->conn = NULL;
	tunio_forget(&s->tun, c);
	if (!s->stopping) {
		link__schedule(l);
		return;
	}
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].conn)
			return;
	uv_stop(s->loop);
}

static const struct conn_ops shoot_ops = {
	.up = shoot__up,
	.data = shoot__data,
	.writable = shoot__writable,
	.closed = shoot__closed,
};

static void link__dial(struct link *l, struct sockaddr *sa, socklen_t salen)
{
	struct shoot *s = l->s;
	struct conn_params p = s->params;
	int err;

	/* sin_port and sin6_port sit at the same offset. */
	((struct sockaddr_in *)sa)->sin_port = htons(l->connect_port);
	p.owner = l;
	if (s->cfg.http_proxy) {
		p.proxy_target = l->target;
		p.proxy_header = s->cfg.proxy_header;
	}
	err = conn_connect(s->loop, sa, salen, &p, ++s->next_id, &l->conn);
	if (err) {
		log_warn(NULL, "server %s: cannot connect: %s", l->target, strerror(-err));
		link__schedule(l);
	}
}

static void link__resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct link *l = req->data;

	if (l->s->stopping) {
		uv_freeaddrinfo(ai);
		return;
	}
	if (status < 0 || !ai) {
		log_warn(NULL, "server %s: cannot resolve %s: %s", l->target, l->host, uv_strerror(status));
		link__schedule(l);
		return;
	}
	link__dial(l, ai->ai_addr, ai->ai_addrlen);
	uv_freeaddrinfo(ai);
}

static void link__start(struct link *l)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a = { 0 };

	/* An address needs no resolver: dialing at once saves the round
	 * trip through libuv's thread pool (and starting its threads),
	 * half a millisecond of the first connection. */
	if (inet_pton(AF_INET, l->connect_host, &a.in.sin_addr) == 1) {
		a.in.sin_family = AF_INET;
		link__dial(l, &a.sa, sizeof(a.in));
		return;
	}
	if (inet_pton(AF_INET6, l->connect_host, &a.in6.sin6_addr) == 1) {
		a.in6.sin6_family = AF_INET6;
		link__dial(l, &a.sa, sizeof(a.in6));
		return;
	}
	l->gai.data = l;
	if (uv_getaddrinfo(l->s->loop, &l->gai, link__resolved, l->connect_host, NULL, &hints))
		link__schedule(l);
}

/* Device, forwarding, masquerade and the return path. */
static int shoot__netdev(struct shoot *s)
{
	struct cidr any4 = { .family = AF_INET }, any6 = { .family = AF_INET6 };
	struct nft_shoot nft = { .table = s->nft_table, .tun = s->cfg.dev, .mark = SHOOT_MARK };
	int err;

	if ((err = nl_open(&s->nl)) ||
	    (err = tun_open(s->nl, s->cfg.dev, &s->tun_flags, &s->tun_fd, &s->tun_ifindex)) ||
	    (err = nl_link_up(s->nl, s->tun_ifindex, s->cfg.mtu)))
		goto fail;
	if (s->cfg.egress_dev)
		snprintf(s->egress, sizeof(s->egress), "%s", s->cfg.egress_dev);
	else if (nl_default_dev(s->nl, s->egress))
		s->egress[0] = '\0';	/* no default route: masquerade on any device */
	nft.egress = s->egress[0] ? s->egress : NULL;
	if ((err = daemon_sysctl(&s->sysctls, "net/ipv4/ip_forward", "1")) ||
	    (err = daemon_sysctl(&s->sysctls, "net/ipv6/conf/all/forwarding", "1")) ||
	    (err = daemon_rp_filter_off(&s->sysctls, s->cfg.dev)))
		goto fail;
	if ((err = nft_shoot_setup(s->nl, &nft)))
		goto fail;
	s->nft_added = true;
	if ((err = nl_rule_add(s->nl, AF_INET, SHOOT_MARK, SHOOT_TABLE, SHOOT_RULE_PRIO)) ||
	    (err = nl_rule_add(s->nl, AF_INET6, SHOOT_MARK, SHOOT_TABLE, SHOOT_RULE_PRIO)))
		goto fail;
	s->rules_added = true;
	if ((err = nl_route_replace(s->nl, s->tun_ifindex, &any4, SHOOT_TABLE)) ||
	    (err = nl_route_replace(s->nl, s->tun_ifindex, &any6, SHOOT_TABLE)))
		goto fail;
	return 0;
fail:
	log_error(NULL, "%s: %s", s->cfg.dev, nl_strerror());
	return err;
}

static void shoot__netdev_cleanup(struct shoot *s)
{
	if (s->rules_added) {
		nl_rule_del(s->nl, AF_INET, SHOOT_MARK, SHOOT_TABLE, SHOOT_RULE_PRIO);
		nl_rule_del(s->nl, AF_INET6, SHOOT_MARK, SHOOT_TABLE, SHOOT_RULE_PRIO);
	}
	if (s->nft_added)
		nft_table_del(s->nl, s->nft_table);
	daemon_sysctls_restore(&s->sysctls);
}

/* The conns of every link, for the metrics renderer. */
static size_t shoot__conns(struct shoot *s, struct conn **v)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].conn)
			v[n++] = s->links[i].conn;
	return n;
}

static unsigned shoot__tunnels_up(const struct shoot *s)
{
	unsigned up = 0;

	for (size_t i = 0; i < s->nlinks; i++)
		up += s->links[i].conn && s->links[i].conn->state == CONN_UP;
	return up;
}

static void shoot__info(struct ctl_out *o, void *owner)
{
	struct shoot *s = owner;

	daemon_info_begin(o, "shoot", s->started_ms);
	daemon_info_ktls(o, &s->tls);
	ctl_kv_u64(o, "tunnels_up", shoot__tunnels_up(s));
	ctl_kv_u64(o, "servers", s->nlinks);
	ctl_kv_str(o, "dev", s->cfg.dev);
	ctl_kv_str(o, "offload", tunio_offload(&s->tun));
	ctl_kv_str(o, "egress_dev", s->egress[0] ? s->egress : "any");
	ctl_kv_end(o);
}

static void shoot__tunnels(struct ctl_out *o, void *owner)
{
	struct shoot *s = owner;
	char a[INET6_ADDRSTRLEN];

	ctl_tunnels_begin(o);
	for (size_t i = 0; i < s->nlinks; i++) {
		struct conn *c = s->links[i].conn;
		if (!c)
			continue;
		a[0] = '\0';
		if (c->state == CONN_UP)
			inet_ntop(AF_INET6, &c->welcome.addr, a, sizeof(a));
		ctl_tunnel_row(o, c, a, s->links[i].reconnects);
	}
	ctl_table_end(o);
}

static void shoot__clear_cmd(struct ctl_out *o, void *owner)
{
	struct shoot *s = owner;

	ctl_clear_stat();
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].conn)
			memset(&s->links[i].conn->ctr, 0, sizeof(s->links[i].conn->ctr));
	ctl_kv_begin(o);
	ctl_kv_str(o, "cleared", "global and per-tunnel counters");
	ctl_kv_end(o);
}

static void shoot__reload_cmd(struct ctl_out *o, void *owner)
{
	struct shoot *s = owner;

	daemon_tls_reload_cmd(o, &s->tls);
}

/* HTTP on --metrics-listen: /metrics from the same counters as the stats
 * socket, /healthz while the loop runs, /readyz while a tunnel is up and
 * heard from within the keepalive timeout. */
static void shoot__metrics(const struct http_request *q, struct http_response *r, void *owner)
{
	struct shoot *s = owner;
	struct metrics_info mi;
	struct conn *v[CFG_LIST_MAX];
	size_t n = shoot__conns(s, v);
	metrics_info_now(&mi, "shoot", s->started_ms);
	metrics_answer(r, &mi, v, n);
}

static void shoot__readyz(const struct http_request *q, struct http_response *r, void *owner)
{
	struct shoot *s = owner;
	struct conn *v[CFG_LIST_MAX];
	size_t n = shoot__conns(s, v);
	metrics_answer_ready(r, v, n, conn_now_ms(), s->cfg.keepalive_timeout_ms);
}

static const struct http_route shoot_routes[] = {
	{ "/metrics", shoot__metrics },
	{ "/healthz", http_handle_ok },
	{ "/readyz", shoot__readyz },
};

static const struct ctl_cmd shoot_cmds[] = {
	{ "show info", "version, role, uptime, tunnels up", shoot__info, false },
	{ "show tunnels", "one row per tunnel", shoot__tunnels, false },
	{ "show stat", "global counters and drops by reason", ctl_show_stat, false },
	{ "show errors", "the last refused or failed handshakes, newest first", ctl_show_errors, false },
	{ "clear counters", "zero the global and per-tunnel counters", shoot__clear_cmd, true },
	{ "reload", "reload certificate, key and CA as SIGHUP does", shoot__reload_cmd, true },
};

static void shoot__reload(void *owner)
{
	struct shoot *s = owner;

	daemon_tls_reload(&s->tls);
}

static void shoot__stop(void *owner)
{
	struct shoot *s = owner;
	bool any = false;

	if (s->stopping)
		return;
	s->stopping = true;
	log_info(NULL, "shutting down");
	for (size_t i = 0; i < s->nlinks; i++) {
		uv_timer_stop(&s->links[i].retry);
		if (s->links[i].conn) {
			any = true;
			conn_close(s->links[i].conn, CLOSE_SHUTDOWN, "agent shutting down");
		}
	}
	if (!any)
		uv_stop(s->loop);
}

int main(int argc, char **argv)
{
	static struct shoot sh;
	struct shoot *s = &sh;
	char err[512], hostname[HELLO_NAME_MAX + 1] = "";
	int ret = EXIT_RUNTIME;

	daemon_config(&s->cfg, CFG_SHOOT, argc, argv);
	s->loop = uv_default_loop();
	s->started_ms = conn_now_ms();
	s->tun_fd = -1;
	snprintf(s->nft_table, sizeof(s->nft_table), "tendril_%s", s->cfg.dev);

	if (daemon_tls_load(&s->tls, false, &s->cfg, err, sizeof(err))) {
		fprintf(stderr, "vpn-shoot: %s\n", err);
		return EXIT_USAGE;
	}
	gethostname(hostname, sizeof(hostname) - 1);
	s->params = (struct conn_params){
		.ctx = &s->tls.ctx, .ops = &shoot_ops,
		.keepalive_ms = s->cfg.keepalive_ms,
		.keepalive_timeout_ms = s->cfg.keepalive_timeout_ms,
		/* TLS and hello get as long as a silent tunnel: the same
		 * notion of "the server does not answer". */
		.handshake_ms = s->cfg.keepalive_timeout_ms,
		.server_name = s->cfg.server_name,
		.hello = { .version_min = PROTO_VERSION, .version_max = PROTO_VERSION,
			   .caps = CAP_IPV4 | CAP_IPV6 | (s->cfg.offload ? CAP_GSO : 0) |
			   (s->cfg.seal ? CAP_SEAL : 0),
			   .mtu = (uint16_t)s->cfg.mtu },
	};
	snprintf(s->params.hello.name, sizeof(s->params.hello.name), "%s", hostname);
	for (size_t i = 0; i < s->cfg.n_servers; i++) {
		struct link *l = &s->links[s->nlinks++];
		l->s = s;
		l->target = s->cfg.servers[i];
		l->backoff_ms = BACKOFF_MIN_MS;
		cfg_split_hostport(l->target, l->host, sizeof(l->host), &l->port);
		if (s->cfg.http_proxy)
			cfg_split_hostport(s->cfg.http_proxy, l->connect_host, sizeof(l->connect_host),
					   &l->connect_port);
		else
			cfg_split_hostport(l->target, l->connect_host, sizeof(l->connect_host),
					   &l->connect_port);
		uv_timer_init(s->loop, &l->retry);
		l->retry.data = l;
	}
	if (daemon_ctl_start(&s->ctl, &s->ctl_ro, s->loop, &s->cfg, shoot_cmds,
			     sizeof(shoot_cmds) / sizeof(shoot_cmds[0]), s, err, sizeof(err))) {
		fprintf(stderr, "vpn-shoot: %s\n", err);
		ret = EXIT_USAGE;
		goto out;
	}
	{
		int e = http_server_start(&s->http, s->loop, s->cfg.metrics_listen, shoot_routes,
					  sizeof(shoot_routes) / sizeof(shoot_routes[0]), s, err, sizeof(err));
		if (e) {
			fprintf(stderr, "vpn-shoot: %s\n", err);
			ret = e == -EINVAL || e == -EADDRINUSE ? EXIT_USAGE : EXIT_RUNTIME;
			goto out;
		}
	}
	s->tun_flags = s->cfg.offload ? TUN_OFFLOAD | TUN_USO : 0;
	if (shoot__netdev(s))
		goto out;
	if (s->tun_flags & TUN_USO)
		s->params.hello.caps |= CAP_USO;
	tunio_start(&s->tun, s->loop, s->tun_fd, s->cfg.offload, s->tun_flags & TUN_USO,
		    shoot__route, s);
	daemon_signals_start(&s->sig, s->loop, shoot__stop, shoot__reload, s);
	daemon_tls_watch(&s->tls, s->loop, shoot__reload, s);
	{
		const char *mine[] = { s->ctl.path, s->ctl.dir[0] ? s->ctl.dir : NULL, NULL };
		int e = daemon_drop_privileges(s->cfg.user, mine, err, sizeof(err));
		if (e) {
			ret = e == -ENOENT ? EXIT_USAGE : EXIT_RUNTIME;
			fprintf(stderr, "vpn-shoot: %s\n", err);
			goto out;
		}
	}
	log_info(NULL, "vpn-shoot %s on %s, %zu servers%s%s, egress %s", TENDRIL_VERSION, s->cfg.dev,
		 s->nlinks, s->cfg.http_proxy ? " through HTTP proxy " : "",
		 s->cfg.http_proxy ? s->cfg.http_proxy : "", s->egress[0] ? s->egress : "any device");
	for (size_t i = 0; i < s->nlinks; i++)
		link__start(&s->links[i]);

	uv_run(s->loop, UV_RUN_DEFAULT);
	ret = 0;
	log_info(NULL, "stopped");
out:
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].conn)
			conn_close(s->links[i].conn, CLOSE_SHUTDOWN, "agent shutting down");
	ctl_stop(&s->ctl);
	ctl_stop(&s->ctl_ro);
	http_server_stop(&s->http);
	tunio_stop(&s->tun);
	s->stopping = true;
	daemon_loop_drain(s->loop);
	uv_loop_close(s->loop);
	if (s->nl)
		shoot__netdev_cleanup(s);
	if (s->tun_fd >= 0)
		close(s->tun_fd);
	if (s->nl)
		nl_close(s->nl);
	daemon_tls_free(&s->tls);
	return ret;
}
