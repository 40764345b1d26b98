#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tunnel/conn.h"
#include "tunnel/daemon.h"
#include "tunnel/metrics.h"
#include "tunnel/stats.h"

/* The help strings of the X-macro tables, beside the names in stats.c. */
static const char *const metrics__global_help[STAT__MAX] = {
#define X(n, k, h) h,
	STATS_GLOBAL(X)
#undef X
};

/* Label values are UTF-8 with \\, \" and \n escaped (exposition format
 * 0.0.4). Identities come from certificates and may hold any byte: an
 * invalid UTF-8 sequence would make Prometheus reject the whole scrape,
 * so each bad byte becomes U+FFFD. */
static size_t metrics__utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, surrogates or code points above U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void metrics__label_value(struct http_buf *b, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;

	while (*s) {
		size_t n = metrics__utf8_len(s);

		if (*s == '\\')
			http_buf_append(b, "\\\\", 2);
		else if (*s == '"')
			http_buf_append(b, "\\\"", 2);
		else if (*s == '\n')
			http_buf_append(b, "\\n", 2);
		else if (n)
			http_buf_append(b, s, n);
		else
			http_buf_append(b, "\xef\xbf\xbd", 3);
		s += n ? n : 1;
	}
}

/* HELP text escapes only \\ and \n. */
static void metrics__family(struct http_buf *b, const char *name, const char *type,
			    const char *help)
{
	http_buf_printf(b, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			http_buf_append(b, "\\\\", 2);
		else if (*p == '\n')
			http_buf_append(b, "\\n", 2);
		else
			http_buf_append(b, p, 1);
	}
	http_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void metrics__u64(struct http_buf *b, uint64_t v)
{
	http_buf_printf(b, " %llu\n", (unsigned long long)v);
}

/* Fixed-point seconds, exact in decimal: 250 us is "0.000250". */
static void metrics__seconds(struct http_buf *b, uint64_t v, unsigned digits)
{
	uint64_t scale = digits == 6 ? 1000000 : 1000;

	http_buf_printf(b, " %llu.%0*llu\n", (unsigned long long)(v / scale), (int)digits,
			(unsigned long long)(v % scale));
}

static bool metrics__shown(const struct conn *c)
{
	return c->identity[0] && c->state != CONN_CLOSED;
}

static void metrics__tunnel_labels(struct http_buf *b, const char *name, const struct conn *c)
{
	http_buf_printf(b, "%s{tunnel=\"%u\",peer=\"", name, c->id);
	metrics__label_value(b, c->identity);
	http_buf_puts(b, "\"}");
}

/* Which per-tunnel value a family shows. */
enum metrics_tunnel_field {
	MT_UP, MT_UP_SINCE, MT_RX_BYTES, MT_TX_BYTES, MT_RX_PACKETS, MT_TX_PACKETS,
	MT_DROPS, MT_RTT, MT_QUEUE,
};

static const struct {
	enum metrics_tunnel_field field;
	const char *name, *type, *help;
} metrics__tunnel[] = {
	{ MT_UP, "vpn_tunnel_up", "gauge", "1 while the tunnel is up, 0 while it is being set up" },
	{ MT_UP_SINCE, "vpn_tunnel_up_since_seconds", "gauge",
	  "Unix time at which the tunnel came up (0 while it is not up)" },
	{ MT_RX_BYTES, "vpn_tunnel_rx_bytes_total", "counter", "packet bytes received through the tunnel" },
	{ MT_TX_BYTES, "vpn_tunnel_tx_bytes_total", "counter", "packet bytes sent through the tunnel" },
	{ MT_RX_PACKETS, "vpn_tunnel_rx_packets_total", "counter", "packets received through the tunnel" },
	{ MT_TX_PACKETS, "vpn_tunnel_tx_packets_total", "counter", "packets sent through the tunnel" },
	{ MT_DROPS, "vpn_tunnel_drops_total", "counter", "packets of this tunnel that were dropped" },
	{ MT_RTT, "vpn_tunnel_rtt_seconds", "gauge", "round trip time of the last keepalive" },
	{ MT_QUEUE, "vpn_tunnel_queue_bytes", "gauge", "bytes queued for the tunnel and not yet written to its socket" },
};

static void metrics__tunnel_value(struct http_buf *b, const struct metrics_info *mi,
				  enum metrics_tunnel_field f, const struct conn *c)
{
	bool up = c->state == CONN_UP;

	switch (f) {
	case MT_UP:
		metrics__u64(b, up);
		break;
	case MT_UP_SINCE: {
		/* up_since_ms is on the monotonic clock; shift it onto the
		 * wall clock as Prometheus timestamps are Unix times. */
		uint64_t ago = mi->now_ms > c->up_since_ms ? mi->now_ms - c->up_since_ms : 0;
		metrics__seconds(b, up && mi->unix_ms > ago ? mi->unix_ms - ago : 0, 3);
		break;
	}
	case MT_RX_BYTES:
		metrics__u64(b, c->ctr.rx_bytes);
		break;
	case MT_TX_BYTES:
		metrics__u64(b, c->ctr.tx_bytes);
		break;
	case MT_RX_PACKETS:
		metrics__u64(b, c->ctr.rx_packets);
		break;
	case MT_TX_PACKETS:
		metrics__u64(b, c->ctr.tx_packets);
		break;
	case MT_DROPS:
		metrics__u64(b, c->ctr.drops);
		break;
	case MT_RTT:
		metrics__seconds(b, c->rtt_us, 6);
		break;
	case MT_QUEUE:
		metrics__u64(b, conn_queued_bytes(c));
		break;
	}
}

void metrics_render(struct http_buf *b, const struct metrics_info *mi,
		    struct conn *const *conns, size_t n)
{
	char name[96];
	size_t up = 0;

	for (size_t i = 0; i < n; i++)
		up += conns[i]->state == CONN_UP;

	metrics__family(b, "vpn_build_info", "gauge", "version and role of this daemon (always 1)");
	http_buf_puts(b, "vpn_build_info{version=\"");
	metrics__label_value(b, mi->version);
	http_buf_puts(b, "\",role=\"");
	metrics__label_value(b, mi->role);
	http_buf_puts(b, "\"} 1\n");
	metrics__family(b, "vpn_uptime_seconds", "gauge", "seconds since the daemon started");
	http_buf_puts(b, "vpn_uptime_seconds");
	metrics__u64(b, mi->uptime_s);
	metrics__family(b, "vpn_tunnels_up", "gauge", "tunnels that are up");
	http_buf_puts(b, "vpn_tunnels_up");
	metrics__u64(b, up);

	for (int i = 0; i < STAT__MAX; i++) {
		bool counter = stats_global_kinds[i] == COUNTER;
		snprintf(name, sizeof(name), counter ? "vpn_%s_total" : "vpn_%s", stats_global_names[i]);
		metrics__family(b, name, counter ? "counter" : "gauge", metrics__global_help[i]);
		http_buf_puts(b, name);
		metrics__u64(b, stats.v[i]);
	}

	/* One family for every reason: the help strings of the reasons are
	 * in `vpnctl show stat` and docs, the HELP line takes one text. */
	metrics__family(b, "vpn_packets_dropped_total", "counter",
			"packets dropped and connections refused, by reason");
	for (int i = 0; i < DROP__MAX; i++) {
		http_buf_printf(b, "vpn_packets_dropped_total{reason=\"%s\"}", stats_reason_names[i]);
		metrics__u64(b, stats.drops[i]);
	}

	/* The format wants all samples of a family together: families
	 * outside, tunnels inside. */
	for (size_t f = 0; f < sizeof(metrics__tunnel) / sizeof(metrics__tunnel[0]); f++) {
		metrics__family(b, metrics__tunnel[f].name, metrics__tunnel[f].type,
				metrics__tunnel[f].help);
		for (size_t i = 0; i < n; i++) {
			if (!metrics__shown(conns[i]))
				continue;
			metrics__tunnel_labels(b, metrics__tunnel[f].name, conns[i]);
			metrics__tunnel_value(b, mi, metrics__tunnel[f].field, conns[i]);
		}
	}

	metrics__family(b, "vpn_tunnel_keepalive_rtt_seconds", "histogram",
			"round trip times of keepalive pings");
	for (size_t i = 0; i < n; i++) {
		const struct conn *c = conns[i];
		uint64_t cum = 0;

		if (!metrics__shown(c))
			continue;
		for (size_t k = 0; k <= CONN_RTT_BUCKETS; k++) {
			cum += c->ctr.rtt_hist[k];
			http_buf_printf(b, "vpn_tunnel_keepalive_rtt_seconds_bucket{tunnel=\"%u\",peer=\"", c->id);
			metrics__label_value(b, c->identity);
			if (k < CONN_RTT_BUCKETS)
				http_buf_printf(b, "\",le=\"%g\"}", conn_rtt_bounds_us[k] / 1e6);
			else
				http_buf_puts(b, "\",le=\"+Inf\"}");
			metrics__u64(b, cum);
		}
		metrics__tunnel_labels(b, "vpn_tunnel_keepalive_rtt_seconds_sum", c);
		metrics__seconds(b, c->ctr.rtt_sum_us, 6);
		metrics__tunnel_labels(b, "vpn_tunnel_keepalive_rtt_seconds_count", c);
		metrics__u64(b, c->ctr.rtt_count);
	}
}

void metrics_info_now(struct metrics_info *mi, const char *role, uint64_t started_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	mi->version = TENDRIL_VERSION;
	mi->role = role;
	mi->now_ms = conn_now_ms();
	mi->unix_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	mi->uptime_s = mi->now_ms > started_ms ? (mi->now_ms - started_ms) / 1000 : 0;
}

bool metrics_ready(struct conn *const *conns, size_t n, uint64_t now_ms,
		   unsigned timeout_ms, char *why, size_t whylen)
{
	const struct conn *stale = NULL;
	uint64_t stale_ms = 0;

	for (size_t i = 0; i < n; i++) {
		const struct conn *c = conns[i];
		uint64_t idle;

		if (c->state != CONN_UP)
			continue;
		idle = now_ms > c->last_rx_ms ? now_ms - c->last_rx_ms : 0;
		if (idle < timeout_ms)
			return true;
		if (!stale || idle < stale_ms)
			stale = c, stale_ms = idle;
	}
	if (!why || !whylen)
		return false;
	if (stale)
		snprintf(why, whylen, "not ready: tunnel %u (%s) received nothing for %llu ms (timeout %u ms)",
			 stale->id, stale->identity, (unsigned long long)stale_ms, timeout_ms);
	else
		snprintf(why, whylen, "not ready: no tunnel is up (%zu connecting or in handshake)", n);
	return false;
}

void metrics_answer(struct http_response *res, const struct metrics_info *mi,
		    struct conn *const *conns, size_t n)
{
	res->content_type = METRICS_CONTENT_TYPE;
	metrics_render(&res->body, mi, conns, n);
}

void metrics_answer_ready(struct http_response *res, struct conn *const *conns, size_t n,
			  uint64_t now_ms, unsigned timeout_ms)
{
	char why[512];

	if (metrics_ready(conns, n, now_ms, timeout_ms, why, sizeof(why))) {
		http_buf_puts(&res->body, "ready\n");
		return;
	}
	res->status = 503;
	http_buf_printf(&res->body, "%s\n", why);
}
