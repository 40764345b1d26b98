/* vpn-server: the seed side. Accepts agents' TLS connections, owns the
 * TUN device into which the shoot networks are routed, and moves packets
 * between the two. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/ssl.h>

#include "netlink/nl.h"
#include "tunnel/cidr.h"
#include "tunnel/config.h"
#include "tunnel/conn.h"
#include "tunnel/ctl.h"
#include "tunnel/daemon.h"
#include "tunnel/flow.h"
#include "tunnel/http.h"
#include "tunnel/log.h"
#include "tunnel/metrics.h"
#include "tunnel/pkt.h"
#include "tunnel/proxy.h"
#include "tunnel/ratelimit.h"
#include "tunnel/stats.h"
#include "tunnel/tls.h"
#include "tunnel/tunio.h"

enum {
	SERVER_MAX_CONNS = 1024,
	/* Handshakes cost the server a private-key operation each: a bound on
	 * those in flight, and on new ones per source and second, keeps a
	 * flood from one address from starving the agents (whose reconnects
	 * after a server restart come in bursts, hence the burst size). */
	SERVER_MAX_HANDSHAKES = 64,
	SERVER_HANDSHAKES_PER_SEC = 20,
	SERVER_HANDSHAKE_BURST = 40,
};

struct server {
	struct cfg cfg;
	uv_loop_t *loop;
	struct daemon_signals sig;
	uv_poll_t listen_poll;
	int listen_fd;
	struct daemon_tls tls;
	struct nl *nl;
	int tun_fd, tun_ifindex;
	unsigned tun_flags;	/* TUN_OFFLOAD, TUN_USO: what the device has */
	struct tunio tun;
	struct ctl ctl, ctl_ro;
	struct http_server http;
	struct addr_pool pool;
	struct flow_table *flows;
	struct daemon_sysctls sysctls;
	uv_timer_t flow_timer;
	struct conn_params params;
	struct conn *conns[SERVER_MAX_CONNS];	/* every conn, any state */
	size_t nconns;
	struct conn *by_off[POOL_SIZE];		/* up tunnels by transfer address */
	/* The tunnels that are up, in the order they came up: the shoot
	 * networks' flows are spread over them (server__pick). */
	struct conn *up[SERVER_MAX_CONNS];
	size_t nup;
	unsigned next_id;
	struct rl rate;
	uint64_t started_ms;
	bool stopping;
	/* The HTTP CONNECT proxy, its TLS context (reloaded with the
	 * tunnel's), and which families' fwmark rules we added. */
	struct proxy proxy;
	SSL_CTX *proxy_ctx;
	bool proxy_rule[2];	/* [0] IPv4, [1] IPv6 */
};

static void server__list_up(struct server *s)
{
	s->nup = 0;
	for (size_t i = 0; i < s->nconns; i++)
		if (s->conns[i]->state == CONN_UP)
			s->up[s->nup++] = s->conns[i];
}

/* The flow table's verdicts, as drop reasons. */
static const enum stats_reason server__flow_drop[FLOW_VERDICT__MAX] = {
	[FLOW_DROP_no_flow] = DROP_no_flow,
	[FLOW_DROP_wrong_tunnel] = DROP_wrong_tunnel,
	[FLOW_DROP_bad_state] = DROP_bad_state,
	[FLOW_DROP_untracked] = DROP_untracked,
	[FLOW_DROP_fragment] = DROP_fragment,
	[FLOW_DROP_bad_packet] = DROP_bad_packet,
};

/* The flow table's own counters, copied into the global table that the
 * stats socket and /metrics render. */
static void server__flow_stats(struct server *s)
{
	const struct flow_counters *fc = flow_counters(s->flows);

	stats.v[STAT_flows_tracked] = fc->tracked;
	stats.v[STAT_flows_created] = fc->created;
	stats.v[STAT_flows_evicted] = fc->evicted;
	stats.v[STAT_flows_expired] = fc->expired;
}

/* Every packet the seed side sends into tunnel c opens or refreshes its
 * flow; only answers to such flows come back (server__data). */
static void server__track(struct server *s, const uint8_t *pkt, size_t len, struct conn *c)
{
	flow_outbound(s->flows, pkt, len, uv_now(s->loop), c->id);
}

static void server__flow_tick(uv_timer_t *t)
{
	struct server *s = t->data;

	/* A sixtieth of the table a second: one sweep a minute. */
	flow_expire(s->flows, uv_now(s->loop), FLOW_DEFAULT_ENTRIES / 60);
	server__flow_stats(s);
}

/* The tunnel for a packet into the shoot networks. With several agents
 * (HA: every shoot replica holds a tunnel to every server) a flow stays on
 * the tunnel it took while that tunnel is up; a new flow, or one whose
 * tunnel went down, goes to the tunnel its keyed hash picks among those
 * up. So flows spread, flows on healthy agents are never moved, and the
 * moment an agent's tunnel is declared dead its flows and new ones go to
 * the others. */
static struct conn *server__pick(struct server *s, const uint8_t *pkt, size_t len)
{
	unsigned id;
	uint64_t hash;

	if (s->nup <= 1)
		return s->nup ? s->up[0] : NULL;
	if (!flow_pick(s->flows, pkt, len, uv_now(s->loop), &id, &hash))
		for (size_t i = 0; i < s->nup; i++)
			if (s->up[i]->id == id)
				return s->up[i];
	return s->up[hash % s->nup];
}

/* Packets from the seed side: to an agent's transfer address, or into
 * the shoot networks through the newest tunnel. */
static struct conn *server__route(struct tunio *t, const uint8_t *pkt, size_t len)
{
	struct server *s = t->owner;
	struct pkt_info pi;
	struct conn *c;

	if (pkt_parse(pkt, len, &pi)) {
		stats_drop(DROP_bad_packet);
		return NULL;
	}
	if (pkt_link_scoped(&pi)) {
		stats_drop(DROP_link_scoped);
		return NULL;
	}
	if (cidr_contains(&s->cfg.vpn_network, pi.family, pi.dst)) {
		uint32_t off = (uint32_t)(pi.dst[12] << 24 | pi.dst[13] << 16 | pi.dst[14] << 8 | pi.dst[15]) -
			       (uint32_t)(s->pool.net.addr[12] << 24 | s->pool.net.addr[13] << 16 |
					  s->pool.net.addr[14] << 8 | s->pool.net.addr[15]);
		c = off < POOL_SIZE ? s->by_off[off] : NULL;
		if (!c)
			stats_drop(DROP_no_tunnel);
		else
			server__track(s, pkt, len, c);
		return c;
	}
	if (!cidr_list_match(&s->cfg.shoot_networks, pi.family, pi.dst)) {
		stats_drop(DROP_no_route);
		return NULL;
	}
	/* No agent is up: one may be starting or reconnecting, so the
	 * packet waits for it a little (tunio.h, "Holding"). */
	if (!(c = server__pick(s, pkt, len)))
		return TUNIO_HOLD;
	server__track(s, pkt, len, c);
	return c;
}

/* Packets from an agent: only from the shoot networks or the agent's own
 * transfer address, and never to another agent's transfer address (the
 * kernel would route that straight back into a tunnel); anything else is
 * a spoofing attempt or a bug. */
static void server__data(struct conn *c, const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len)
{
	struct server *s = c->owner;
	struct pkt_info pi;
	struct in6_addr own;
	enum flow_verdict v;
	unsigned flow_tunnel;

	if (pkt_parse(pkt, len, &pi)) {
		c->ctr.drops++;
		stats_drop(DROP_bad_packet);
		return;
	}
	pool_addr(&s->pool, c->pool_off, &own);
	if (!cidr_list_match(&s->cfg.shoot_networks, pi.family, pi.src) &&
	    !(pi.family == AF_INET6 && !memcmp(pi.src, own.s6_addr, 16))) {
		c->ctr.drops++;
		stats_drop(DROP_spoofed_source);
		return;
	}
	if (cidr_contains(&s->cfg.vpn_network, pi.family, pi.dst) &&
	    (memcmp(pi.dst, s->cfg.vpn_network.addr, 15) || pi.dst[15] != (s->cfg.vpn_network.addr[15] | 1))) {
		c->ctr.drops++;
		stats_drop(DROP_no_route);
		return;
	}
	v = flow_inbound(s->flows, pkt, pi.len, uv_now(s->loop), c->id, &flow_tunnel);
	if (v != FLOW_PASS) {
		c->ctr.drops++;
		stats_drop(server__flow_drop[v]);
		log_debug(&c->log, "dropped from the tunnel: %s", flow_verdict_name(v));
		return;
	}
	if (tunio_write(&s->tun, c, vh, pkt, &pi))
		c->ctr.drops++;
}

static int server__hello(struct conn *c, const struct hello *h, struct hello *w)
{
	struct server *s = c->owner;
	uint32_t off;

	/* A restarted agent comes back with the same identity before its
	 * old tunnel timed out: the new one replaces it at once. */
	for (size_t i = 0; i < s->nconns; i++) {
		struct conn *o = s->conns[i];
		if (o != c && o->state == CONN_UP && !strcmp(o->identity, c->identity))
			conn_close(o, CLOSE_REPLACED, "replaced by tunnel %u from %s", c->id, c->remote);
	}
	if (pool_take(&s->pool, &off))
		return CLOSE_NO_ADDRESS;
	c->pool_off = off;
	pool_addr(&s->pool, off, &w->addr);
	w->has_addr = true;
	w->prefix = s->pool.net.prefix;
	w->mtu = (uint16_t)s->cfg.mtu;
	w->routes = s->cfg.shoot_networks;
	return 0;
}

static int server__up(struct conn *c, const struct hello *h)
{
	struct server *s = c->owner;
	char a[INET6_ADDRSTRLEN];

	s->by_off[c->pool_off] = c;
	server__list_up(s);
	tunio_release(&s->tun);
	inet_ntop(AF_INET6, &c->welcome.addr, a, sizeof(a));
	log_info(&c->log, "tunnel up: address %s, agent %s, mtu %u", a,
		 h->name[0] ? h->name : "-", h->mtu);
	return 0;
}

static void server__writable(struct conn *c)
{
	struct server *s = c->owner;

	tunio_resume(&s->tun, c);
}

static void server__closed(struct conn *c, const char *reason)
{
	struct server *s = c->owner;

	if (c->pool_off) {
		if (s->by_off[c->pool_off] == c)
			s->by_off[c->pool_off] = NULL;
		pool_release(&s->pool, c->pool_off);
	}
	for (size_t i = 0; i < s->nconns; i++) {
		if (s->conns[i] == c) {
			s->conns[i] = s->conns[--s->nconns];
			break;
		}
	}
	tunio_forget(&s->tun, c);
	server__list_up(s);
	if (s->stopping && s->nconns == 0)
		uv_stop(s->loop);
}

static const struct conn_ops server_ops = {
	.hello = server__hello,
	.up = server__up,
	.data = server__data,
	.writable = server__writable,
	.closed = server__closed,
};

/* Whether to start a handshake with a new connection from ss. */
static bool server__admit(struct server *s, const struct sockaddr_storage *ss)
{
	const void *addr = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	size_t handshaking = 0;
	char remote[INET6_ADDRSTRLEN] = "?";
	struct log_ctx lc = { .remote = remote };

	for (size_t i = 0; i < s->nconns; i++)
		handshaking += s->conns[i]->state < CONN_UP;
	inet_ntop(ss->ss_family, addr, remote, sizeof(remote));
	if (s->nconns == SERVER_MAX_CONNS || handshaking >= SERVER_MAX_HANDSHAKES) {
		stats_drop(DROP_handshake_limit);
		log_warn(&lc, "connection refused: %zu connections, %zu handshaking (limits %d, %d)",
			 s->nconns, handshaking, SERVER_MAX_CONNS, SERVER_MAX_HANDSHAKES);
		return false;
	}
	if (!rl_admit(&s->rate, addr, ss->ss_family == AF_INET6 ? 16 : 4, conn_now_ms())) {
		stats_drop(DROP_handshake_rate);
		log_debug(&lc, "connection refused: more than %d new connections per second from this source",
			  SERVER_HANDSHAKES_PER_SEC);
		return false;
	}
	return true;
}

static void server__accept(uv_poll_t *h, int status, int events)
{
	struct server *s = h->data;

	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		if (!server__admit(s, &ss)) {
			close(fd);
			continue;
		}
		if (conn_accept(s->loop, fd, (struct sockaddr *)&ss, &s->params, ++s->next_id, &c)) {
			close(fd);
			continue;
		}
		s->conns[s->nconns++] = c;
	}
}

static int server__listen(struct server *s, char *err, size_t errlen)
{
	char host[256];
	uint16_t port;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *ai;
	int one = 1, zero = 0, fd;

	cfg_split_hostport(s->cfg.listen, host, sizeof(host), &port);
	if (getaddrinfo(host, NULL, &hints, &ai)) {
		snprintf(err, errlen, "--listen: `%s' is not a numeric address", s->cfg.listen);
		return -EINVAL;
	}
	((struct sockaddr_in *)ai->ai_addr)->sin_port = htons(port);	/* same offset in sockaddr_in6 */
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)	/* [::] serves IPv4 agents too */
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		snprintf(err, errlen, "--listen: %s: %s", s->cfg.listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -errno;
	}
	freeaddrinfo(ai);
	s->listen_fd = fd;
	uv_poll_init_socket(s->loop, &s->listen_poll, fd);
	s->listen_poll.data = s;
	uv_poll_start(&s->listen_poll, UV_READABLE, server__accept);
	return 0;
}

/* Whether net overlaps an address (with its prefix) on a device of this
 * namespace other than ours. A main-table route for net would then take
 * the seed's own traffic to that network into the tunnel (the pod network
 * of a seed whose shoot uses the same range). what receives "ADDR/LEN on
 * DEV" for the log. Addresses are listed once, at start. */
static bool server__overlaps_local(const struct server *s, const struct cidr *net,
				   char *what, size_t len)
{
	struct ifaddrs *all, *i;
	bool hit = false;

	if (getifaddrs(&all)) {
		log_warn(NULL, "cannot list this namespace's addresses (%s): overlaps with shoot networks go unnoticed",
			 strerror(errno));
		return false;
	}
	for (i = all; i && !hit; i = i->ifa_next) {
		struct cidr local = { 0 };
		const uint8_t *a, *m;
		size_t alen;
		char cs[CIDR_STRLEN];

		if (!i->ifa_addr || !i->ifa_netmask || !strcmp(i->ifa_name, s->cfg.dev))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a = (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			m = (const uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
			alen = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr.s6_addr;
			m = ((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr.s6_addr;
			alen = 16;
		} else {
			continue;
		}
		local.family = i->ifa_addr->sa_family;
		memcpy(local.addr, a, alen);
		for (size_t b = 0; b < alen; b++)
			local.prefix = (uint8_t)(local.prefix + __builtin_popcount(m[b]));
		if (!cidr_overlap(net, &local))
			continue;
		cidr_format(&local, cs, sizeof(cs));
		snprintf(what, len, "%s on %s", cs, i->ifa_name);
		hit = true;
	}
	freeifaddrs(all);
	return hit;
}

/* The TUN device, its transfer address and the shoot routes: in the main
 * table (unless the network overlaps the seed's own, see
 * server__overlaps_local) and in the proxy's PROXY_TABLE, looked up by a
 * fwmark rule per family. The routes and address vanish with the device
 * when we exit; the rules are removed by server__rules_del. */
static int server__netdev(struct server *s)
{
	struct cidr own = s->cfg.vpn_network;
	int err;

	own.addr[15] |= 1;
	if ((err = nl_open(&s->nl)) ||
	    (err = tun_open(s->nl, s->cfg.dev, &s->tun_flags, &s->tun_fd, &s->tun_ifindex)) ||
	    (err = nl_link_up(s->nl, s->tun_ifindex, s->cfg.mtu)) ||
	    (err = nl_addr_add(s->nl, s->tun_ifindex, &own)) ||
	    (err = daemon_rp_filter_off(&s->sysctls, s->cfg.dev)))
		goto fail;
	own.prefix = s->cfg.vpn_network.prefix;	/* the on-link route is implied */
	for (size_t i = 0; i < s->cfg.shoot_networks.n; i++) {
		const struct cidr *net = &s->cfg.shoot_networks.v[i];
		char what[IF_NAMESIZE + CIDR_STRLEN + 8], cs[CIDR_STRLEN];

		/* The proxy's table: every shoot network, always. */
		if ((err = nl_route_replace(s->nl, s->tun_ifindex, net, PROXY_TABLE)))
			goto fail;
		if (server__overlaps_local(s, net, what, sizeof(what))) {
			cidr_format(net, cs, sizeof(cs));
			log_warn(NULL, "shoot network %s overlaps %s in this namespace: no main-table route for it "
				 "(it would take the seed's own traffic); the proxy reaches it through table %u",
				 cs, what, PROXY_TABLE);
			continue;
		}
		if ((err = nl_route_replace(s->nl, s->tun_ifindex, net, 0)))
			goto fail;
	}
	/* The proxy's dialing sockets carry PROXY_MARK: they look up the
	 * shoot networks in PROXY_TABLE, whatever the main table says. */
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		bool used = false;

		for (size_t i = 0; i < s->cfg.shoot_networks.n; i++)
			used |= s->cfg.shoot_networks.v[i].family == family;
		if (!used)
			continue;
		if ((err = nl_rule_add(s->nl, family, PROXY_MARK, PROXY_TABLE, PROXY_RULE_PRIO)))
			goto fail;
		s->proxy_rule[f] = true;
	}
	return 0;
fail:
	log_error(NULL, "%s: %s", s->cfg.dev, nl_strerror());
	return err;
}

static void server__rules_del(struct server *s)
{
	for (int f = 0; f < 2; f++) {
		if (s->proxy_rule[f] &&
		    nl_rule_del(s->nl, f ? AF_INET6 : AF_INET, PROXY_MARK, PROXY_TABLE, PROXY_RULE_PRIO))
			log_warn(NULL, "%s", nl_strerror());
		s->proxy_rule[f] = false;
	}
}

static void server__info(struct ctl_out *o, void *owner)
{
	struct server *s = owner;
	char nets[CIDR_LIST_MAX * CIDR_STRLEN] = "", one[CIDR_STRLEN];
	uint64_t up = 0;

	for (size_t i = 0; i < s->nconns; i++)
		up += s->conns[i]->state == CONN_UP;
	for (size_t i = 0; i < s->cfg.shoot_networks.n; i++) {
		cidr_format(&s->cfg.shoot_networks.v[i], one, sizeof(one));
		if (i)
			strcat(nets, ",");
		strcat(nets, one);
	}
	daemon_info_begin(o, "server", s->started_ms);
	daemon_info_ktls(o, &s->tls);
	ctl_kv_u64(o, "tunnels_up", up);
	ctl_kv_u64(o, "connections", s->nconns);
	ctl_kv_str(o, "listen", s->cfg.listen);
	ctl_kv_str(o, "dev", s->cfg.dev);
	ctl_kv_str(o, "offload", tunio_offload(&s->tun));
	ctl_kv_str(o, "shoot_networks", nets);
	ctl_kv_str(o, "proxy_listen", s->cfg.proxy_listen);
	ctl_kv_u64(o, "proxy_connections", s->proxy.nconns);
	ctl_kv_end(o);
}

static void server__tunnels(struct ctl_out *o, void *owner)
{
	struct server *s = owner;
	char a[INET6_ADDRSTRLEN];

	ctl_tunnels_begin(o);
	for (size_t i = 0; i < s->nconns; i++) {
		struct conn *c = s->conns[i];
		a[0] = '\0';
		if (c->pool_off && c->state == CONN_UP)
			inet_ntop(AF_INET6, &c->welcome.addr, a, sizeof(a));
		ctl_tunnel_row(o, c, a, 0);
	}
	ctl_table_end(o);
}

static void server__clear_cmd(struct ctl_out *o, void *owner)
{
	struct server *s = owner;

	ctl_clear_stat();
	for (size_t i = 0; i < s->nconns; i++)
		memset(&s->conns[i]->ctr, 0, sizeof(s->conns[i]->ctr));
	ctl_kv_begin(o);
	ctl_kv_str(o, "cleared", "global and per-tunnel counters");
	ctl_kv_end(o);
}

static const char *const server__flow_cols[] = {
	"proto", "src", "sport", "dst", "dport", "state", "tunnel", "age_s",
	"idle_s", "expires_s", "out_packets", "in_packets",
};

static void server__flow_row(const struct flow_entry *e, void *arg)
{
	const char *const *col = server__flow_cols;
	struct ctl_out *o = arg;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *proto = e->proto == IPPROTO_TCP ? "tcp" : e->proto == IPPROTO_UDP ? "udp" :
			    e->proto == IPPROTO_ICMP ? "icmp" : "icmpv6";

	inet_ntop(e->family, e->src, a, sizeof(a));
	inet_ntop(e->family, e->dst, b, sizeof(b));
	ctl_row_begin(o);
	ctl_cell_str(o, *col++, proto);
	ctl_cell_str(o, *col++, a);
	ctl_cell_u64(o, *col++, e->sport);
	ctl_cell_str(o, *col++, b);
	ctl_cell_u64(o, *col++, e->dport);
	ctl_cell_str(o, *col++, flow_state_name(e->state));
	ctl_cell_u64(o, *col++, e->tunnel);
	ctl_cell_u64(o, *col++, e->age_ms / 1000);
	ctl_cell_u64(o, *col++, e->idle_ms / 1000);
	ctl_cell_u64(o, *col++, e->expires_ms / 1000);
	ctl_cell_u64(o, *col++, e->out_packets);
	ctl_cell_u64(o, *col++, e->in_packets);
	ctl_row_end(o);
}

static void server__flows(struct ctl_out *o, void *owner)
{
	struct server *s = owner;

	ctl_table_begin(o, "flows", server__flow_cols,
			sizeof(server__flow_cols) / sizeof(server__flow_cols[0]));
	flow_foreach(s->flows, uv_now(s->loop), server__flow_row, o);
	ctl_table_end(o);
}

static void server__stat(struct ctl_out *o, void *owner)
{
	struct server *s = owner;

	server__flow_stats(s);
	proxy_stats(&s->proxy);
	ctl_show_stat(o, owner);
}

static void server__proxy_cmd(struct ctl_out *o, void *owner)
{
	struct server *s = owner;

	proxy_show(o, &s->proxy);
}

/* The proxy's context: server side, mutual TLS against --proxy-ca, no
 * ALPN (its clients speak HTTP/1.1). On success it replaces the current
 * one; connections keep the context they started with. */
static int server__proxy_tls(struct server *s, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int ret = tls_ctx_new_flags(&ctx, true, "proxy-", s->cfg.proxy_cert, s->cfg.proxy_key,
				    s->cfg.proxy_ca, TLS_NO_ALPN, err, errlen);

	if (ret)
		return ret;
	SSL_CTX_free(s->proxy_ctx);
	s->proxy_ctx = ctx;
	return 0;
}

static int server__proxy_reload(struct server *s)
{
	char err[512];
	int ret = server__proxy_tls(s, err, sizeof(err));

	if (ret)
		log_error(NULL, "proxy: reload failed, keeping the old certificates: %s", err);
	else
		log_info(NULL, "proxy: reloaded certificate %s, key %s, CA %s", s->cfg.proxy_cert,
			 s->cfg.proxy_key, s->cfg.proxy_ca);
	return ret;
}

static bool server__tunnel_up(void *owner)
{
	struct server *s = owner;

	return s->nup > 0;
}

static void server__reload_cmd(struct ctl_out *o, void *owner)
{
	struct server *s = owner;

	int terr = daemon_tls_reload(&s->tls), perr = server__proxy_reload(s);

	/* daemon_tls_reload_cmd's answers, for both contexts. */
	if (terr || perr) {
		ctl_error(o, "reload failed%s, the old certificates stay in use (see the log)",
			  terr ? "" : " for the proxy's certificates");
		return;
	}
	ctl_kv_begin(o);
	ctl_kv_str(o, "reload", "ok");
	ctl_kv_end(o);
}

/* HTTP on --metrics-listen: /metrics from the same counters as the stats
 * socket, /healthz while the loop runs, /readyz while a tunnel is up and
 * heard from within the keepalive timeout. */
static void server__metrics(const struct http_request *q, struct http_response *r, void *owner)
{
	struct server *s = owner;
	struct metrics_info mi;
	struct conn *const *v = s->conns;
	size_t n = s->nconns;
	server__flow_stats(s);
	proxy_stats(&s->proxy);
	metrics_info_now(&mi, "server", s->started_ms);
	metrics_answer(r, &mi, v, n);
}

static void server__readyz(const struct http_request *q, struct http_response *r, void *owner)
{
	struct server *s = owner;
	struct conn *const *v = s->conns;
	size_t n = s->nconns;
	metrics_answer_ready(r, v, n, conn_now_ms(), s->cfg.keepalive_timeout_ms);
}

static const struct http_route server_routes[] = {
	{ "/metrics", server__metrics },
	{ "/healthz", http_handle_ok },
	{ "/readyz", server__readyz },
};

static const struct ctl_cmd server_cmds[] = {
	{ "show info", "version, role, uptime, tunnels up", server__info, false },
	{ "show tunnels", "one row per tunnel", server__tunnels, false },
	{ "show stat", "global counters and drops by reason", server__stat, false },
	{ "show flows", "the tracked connections that may answer through the tunnel", server__flows, false },
	{ "show proxy", "open HTTP CONNECT proxy connections: identity, client, target, bytes, age", server__proxy_cmd, false },
	{ "show errors", "the last refused or failed handshakes, newest first", ctl_show_errors, false },
	{ "clear counters", "zero the global and per-tunnel counters", server__clear_cmd, true },
	{ "reload", "reload certificate, key and CA as SIGHUP does", server__reload_cmd, true },
};

/* New handshakes use the new material; tunnels that are up keep theirs
 * (each SSL holds a reference on the context it was made from). */
static void server__reload(void *owner)
{
	struct server *s = owner;

	daemon_tls_reload(&s->tls);
	server__proxy_reload(s);
}

static void server__stop(void *owner)
{
	struct server *s = owner;

	if (s->stopping)
		return;
	s->stopping = true;
	log_info(NULL, "shutting down: closing %zu connections", s->nconns);
	uv_poll_stop(&s->listen_poll);
	proxy_stop(&s->proxy);
	/* Copy: conn_close may not remove entries now, but be safe. */
	for (size_t i = s->nconns; i-- > 0;)
		conn_close(s->conns[i], CLOSE_SHUTDOWN, "server shutting down");
	if (s->nconns == 0)
		uv_stop(s->loop);
}

int main(int argc, char **argv)
{
	static struct server srv;
	struct server *s = &srv;
	char err[512];
	int ret = EXIT_RUNTIME;

	daemon_config(&s->cfg, CFG_SERVER, argc, argv);
	s->loop = uv_default_loop();
	s->started_ms = conn_now_ms();
	s->tun_fd = s->listen_fd = -1;

	if (daemon_tls_load(&s->tls, true, &s->cfg, err, sizeof(err))) {
		fprintf(stderr, "vpn-server: %s\n", err);
		return EXIT_USAGE;
	}
	if (server__proxy_tls(s, err, sizeof(err))) {
		fprintf(stderr, "vpn-server: %s\n", err);
		daemon_tls_free(&s->tls);
		return EXIT_USAGE;
	}
	pool_init(&s->pool, &s->cfg.vpn_network);
	if (flow_table_new(FLOW_DEFAULT_ENTRIES, &s->flows)) {
		fprintf(stderr, "vpn-server: cannot allocate the flow table\n");
		goto out;
	}
	uv_timer_init(s->loop, &s->flow_timer);
	s->flow_timer.data = s;
	uv_timer_start(&s->flow_timer, server__flow_tick, 1000, 1000);
	rl_init(&s->rate, SERVER_HANDSHAKES_PER_SEC, SERVER_HANDSHAKE_BURST);
	s->params = (struct conn_params){
		.ctx = &s->tls.ctx, .ops = &server_ops, .owner = s,
		.keepalive_ms = s->cfg.keepalive_ms,
		.keepalive_timeout_ms = s->cfg.keepalive_timeout_ms,
		.handshake_ms = s->cfg.handshake_timeout_ms,
		.allowed = s->cfg.allowed, .n_allowed = s->cfg.n_allowed,
		.caps = CAP_IPV4 | CAP_IPV6 | (s->cfg.offload ? CAP_GSO : 0) |
			(s->cfg.seal ? CAP_SEAL : 0),
	};
	if (server__listen(s, err, sizeof(err))) {
		fprintf(stderr, "vpn-server: %s\n", err);
		ret = EXIT_USAGE;
		goto out;
	}
	{
		int e = http_server_start(&s->http, s->loop, s->cfg.metrics_listen, server_routes,
					  sizeof(server_routes) / sizeof(server_routes[0]), s, err, sizeof(err));
		if (e) {
			fprintf(stderr, "vpn-server: %s\n", err);
			ret = e == -EINVAL || e == -EADDRINUSE ? EXIT_USAGE : EXIT_RUNTIME;
			goto out;
		}
	}
	{
		const struct proxy_params pp = {
			.ctx = &s->proxy_ctx, .networks = &s->cfg.shoot_networks,
			.handshake_ms = s->cfg.handshake_timeout_ms,
			.tunnel_up = server__tunnel_up, .owner = s,
		};
		int e = proxy_start(&s->proxy, s->loop, s->cfg.proxy_listen, &pp, err, sizeof(err));
		if (e) {
			fprintf(stderr, "vpn-server: %s\n", err);
			ret = e == -EINVAL || e == -EADDRINUSE || e == -EADDRNOTAVAIL ? EXIT_USAGE : EXIT_RUNTIME;
			goto out;
		}
	}
	if (daemon_ctl_start(&s->ctl, &s->ctl_ro, s->loop, &s->cfg, server_cmds,
			     sizeof(server_cmds) / sizeof(server_cmds[0]), s, err, sizeof(err))) {
		fprintf(stderr, "vpn-server: %s\n", err);
		ret = EXIT_USAGE;
		goto out;
	}
	s->tun_flags = s->cfg.offload ? TUN_OFFLOAD | TUN_USO : 0;
	if (server__netdev(s))
		goto out;
	if (s->tun_flags & TUN_USO)
		s->params.caps |= CAP_USO;
	tunio_start(&s->tun, s->loop, s->tun_fd, s->cfg.offload, s->tun_flags & TUN_USO,
		    server__route, s);
	daemon_signals_start(&s->sig, s->loop, server__stop, server__reload, s);
	daemon_tls_watch(&s->tls, s->loop, server__reload, s);
	{
		const char *mine[] = { s->ctl.path, s->ctl.dir[0] ? s->ctl.dir : NULL, NULL };
		int e = daemon_drop_privileges(s->cfg.user, mine, err, sizeof(err));
		if (e) {
			ret = e == -ENOENT ? EXIT_USAGE : EXIT_RUNTIME;
			fprintf(stderr, "vpn-server: %s\n", err);
			goto out;
		}
	}
	log_info(NULL, "vpn-server %s listening on %s, proxy on %s, device %s, %zu shoot networks",
		 TENDRIL_VERSION, s->cfg.listen, s->cfg.proxy_listen, s->cfg.dev, s->cfg.shoot_networks.n);

	uv_run(s->loop, UV_RUN_DEFAULT);
	ret = 0;
	log_info(NULL, "stopped");
out:
	for (size_t i = s->nconns; i-- > 0;)
		conn_close(s->conns[i], CLOSE_SHUTDOWN, "server shutting down");
	proxy_stop(&s->proxy);
	ctl_stop(&s->ctl);
	ctl_stop(&s->ctl_ro);
	http_server_stop(&s->http);
	tunio_stop(&s->tun);
	daemon_loop_drain(s->loop);
	uv_loop_close(s->loop);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->nl)
		server__rules_del(s);
	daemon_sysctls_restore(&s->sysctls);
	if (s->tun_fd >= 0)
		close(s->tun_fd);	/* the device, its address and routes go with it */
	if (s->nl)
		nl_close(s->nl);
	daemon_tls_free(&s->tls);
	SSL_CTX_free(s->proxy_ctx);
	flow_table_free(s->flows);
	return ret;
}
