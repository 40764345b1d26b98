/* Prometheus metrics (text exposition format 0.0.4) and the readiness
 * rule of /readyz, rendered from the same tables as the stats socket:
 * STATS_GLOBAL and STATS_REASONS (tunnel/stats.h) for process-wide
 * counters, struct conn for each tunnel. Names follow ../shared/CONTRACT.md:
 * prefix vpn_, base units (seconds, bytes), counters end in _total.
 *
 *   vpn_build_info{version,role}            gauge, always 1
 *   vpn_uptime_seconds                      gauge
 *   vpn_tunnels_up                          gauge
 *   vpn_<name>_total                        counter, one per STATS_GLOBAL entry
 *   vpn_packets_dropped_total{reason}       counter, one per STATS_REASONS entry
 *   vpn_tunnel_up{tunnel,peer}              gauge, 1 up / 0 being set up
 *   vpn_tunnel_up_since_seconds{...}        gauge, Unix time it came up (0: down)
 *   vpn_tunnel_{rx,tx}_{bytes,packets}_total{...}, vpn_tunnel_drops_total{...}
 *   vpn_tunnel_rtt_seconds{...}             gauge, last keepalive round trip
 *
 * A tunnel gets series once its peer has an identity (the agent: the
 * server name it dials; the server: the verified certificate identity)
 * and until it is closed, so strangers that never finish a handshake
 * cannot make label sets churn. */
#ifndef TUNNEL_METRICS_H
#define TUNNEL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/http.h"

struct conn;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What the renderer cannot read from the tables. The clocks are passed in,
 * not read, so that the output is reproducible (golden tests). */
struct metrics_info {
	const char *version;	/* TENDRIL_VERSION */
	const char *role;	/* "server" or "shoot" */
	uint64_t uptime_s;
	uint64_t now_ms;	/* conn_now_ms(): the clock of conn timestamps */
	uint64_t unix_ms;	/* the wall clock at the same moment */
};

/* Fills mi from the clocks: role, and started_ms on the conn_now_ms()
 * clock. version is TENDRIL_VERSION. */
void metrics_info_now(struct metrics_info *mi, const char *role, uint64_t started_ms);

/* Appends the whole exposition for the global counters and conns[0..n)
 * (any state; see above for which get series). */
void metrics_render(struct http_buf *b, const struct metrics_info *mi,
		    struct conn *const *conns, size_t n);

/* The /readyz rule of the contract: at least one tunnel is up and has
 * received a frame (data or a keepalive answer) less than timeout_ms ago.
 * If not, why (may be NULL) receives one line for the operator. */
bool metrics_ready(struct conn *const *conns, size_t n, uint64_t now_ms,
		   unsigned timeout_ms, char *why, size_t whylen);

/* Whole answers for the daemons' route handlers. */
void metrics_answer(struct http_response *res, const struct metrics_info *mi,
		    struct conn *const *conns, size_t n);
/* 200 "ready", or 503 with metrics_ready()'s reason. */
void metrics_answer_ready(struct http_response *res, struct conn *const *conns, size_t n,
			  uint64_t now_ms, unsigned timeout_ms);

#endif
