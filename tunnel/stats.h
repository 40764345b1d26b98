/* Counters, each defined once here and rendered everywhere (the stats
 * socket's text and JSON answers; Prometheus later) from these tables.
 *
 * Global counters are process-wide; tunnel counters live in each struct
 * conn and are also summed into the global table when a tunnel closes so
 * that totals survive reconnects. */
#ifndef TUNNEL_STATS_H
#define TUNNEL_STATS_H

#include <stdint.h>

/* X(name, kind, help): kind is COUNTER (only grows; Prometheus
 * vpn_<name>_total) or GAUGE (a current value; vpn_<name>). */
#define STATS_GLOBAL(X) \
	X(tun_rx_packets, COUNTER, "packets read from the TUN device") \
	X(tun_rx_bytes, COUNTER, "bytes read from the TUN device") \
	X(tun_tx_packets, COUNTER, "packets written to the TUN device") \
	X(tun_tx_bytes, COUNTER, "bytes written to the TUN device") \
	X(handshakes_ok, COUNTER, "tunnels that completed TLS and hello") \
	X(handshakes_failed, COUNTER, "tunnel handshakes that failed (any reason)") \
	X(ktls_tunnels, COUNTER, "tunnels whose records the kernel encrypts (--ktls on, where offered)") \
	X(sealed_tunnels, COUNTER, "tunnels whose frames travel in sealed records (both sides with --seal on)") \
	X(gso_sent_whole, COUNTER, "super-packets (TCP segments of up to 64 KB, UDP with USO) sent across a tunnel whole") \
	X(gso_segmented_tx, COUNTER, "super-packets cut into packets here for a peer without that offload") \
	X(gso_segmented_rx, COUNTER, "super-packets from a peer cut into packets here for a TUN device without that offload") \
	X(tcp_mss_clamped, COUNTER, "SYNs whose MSS was lowered so that the answering segments fit one sealed record") \
	X(buffer_trims, COUNTER, "times a tunnel idle after traffic gave its buffers' memory back to the kernel") \
	X(reconnects, COUNTER, "tunnels re-established after a loss (agent)") \
	X(tunnels_closed, COUNTER, "tunnels that went down") \
	X(flows_tracked, GAUGE, "flows the server tracks now (a gauge)") \
	X(flows_created, COUNTER, "flows the seed side opened") \
	X(flows_evicted, COUNTER, "flows dropped from a full table, least recently used first") \
	X(flows_expired, COUNTER, "flows removed after their idle timeout") \
	X(proxy_accepted, COUNTER, "connections accepted by the HTTP CONNECT proxy") \
	X(proxy_ok, COUNTER, "proxy CONNECTs answered 200 and relayed") \
	X(proxy_open, GAUGE, "proxy connections open now (a gauge)") \
	X(proxy_to_target_bytes, COUNTER, "bytes the proxy relayed from its clients to targets in the shoot") \
	X(proxy_to_client_bytes, COUNTER, "bytes the proxy relayed from targets in the shoot to its clients")

/* Why a connection or a packet was refused or dropped. X(name, help) */
#define STATS_REASONS(X) \
	X(tls_error, "TLS handshake failed (bad certificate, garbage, wrong CA)") \
	X(seal_auth, "sealed record that failed authentication (tampering or a broken peer)") \
	X(handshake_timeout, "TLS and hello not done within --handshake-timeout") \
	X(handshake_limit, "too many connections or handshakes in flight") \
	X(handshake_rate, "too many new connections from one source per second") \
	X(identity_not_allowed, "peer certificate identity not in --allowed-client") \
	X(bad_version, "no common protocol version") \
	X(bad_frame, "malformed, unknown or unexpected frame") \
	X(frame_too_large, "frame length above the protocol maximum") \
	X(keepalive_timeout, "no frame within --keepalive-timeout") \
	X(no_tunnel, "packet for which no tunnel is up") \
	X(no_route, "packet to an address outside the shoot networks") \
	X(link_scoped, "multicast or link-local packet, never forwarded") \
	X(spoofed_source, "packet from a tunnel with a source it may not use") \
	X(no_flow, "from the shoot side, answering nothing the seed side opened") \
	X(wrong_tunnel, "answers a flow that went into another tunnel") \
	X(bad_state, "TCP segment its flow's state does not allow") \
	X(untracked, "protocol or ICMP type that answers nothing tracked") \
	X(fragment, "IP fragment after the first from the shoot side") \
	X(queue_full, "tunnel send queue full") \
	X(bad_packet, "not a valid IPv4/IPv6 packet") \
	X(tun_write_error, "the TUN device refused a packet") \
	X(no_address, "transfer network exhausted") \
	X(proxy_tls, "proxy: TLS handshake failed (no or untrusted client certificate, garbage)") \
	X(proxy_identity, "proxy: client certificate identity not allowed") \
	X(proxy_bad_request, "proxy: malformed or oversized request head (400, 414, 431, 505)") \
	X(proxy_method, "proxy: method other than CONNECT (405)") \
	X(proxy_forbidden, "proxy: CONNECT target not an address in the shoot networks (403)") \
	X(proxy_no_tunnel, "proxy: no tunnel to the shoot is up (503)") \
	X(proxy_dial_timeout, "proxy: target did not answer within the dial timeout (504)") \
	X(proxy_dial_failed, "proxy: target refused or unreachable (502)") \
	X(proxy_timeout, "proxy: no TLS handshake or request head within the handshake timeout") \
	X(proxy_limit, "proxy: too many connections or handshakes in flight")

enum stats_kind { COUNTER, GAUGE };

enum stats_global_id {
#define X(n, k, h) STAT_##n,
	STATS_GLOBAL(X)
#undef X
	STAT__MAX
};

enum stats_reason {
#define X(n, h) DROP_##n,
	STATS_REASONS(X)
#undef X
	DROP__MAX
};

/* The last rejected or failed handshakes, for `show errors`: what an
 * on-call engineer asks first when an agent cannot connect. */
enum { STATS_ERRORS = 32 };

struct stats_error {
	uint64_t at_ms;		/* conn_now_ms() clock */
	char remote[64];
	char peer[128];
	char reason[200];
};

struct stats {
	uint64_t v[STAT__MAX];
	uint64_t drops[DROP__MAX];
	struct stats_error errors[STATS_ERRORS];	/* a ring */
	size_t nerrors;		/* total recorded; errors[nerrors % N] is next */
};

extern struct stats stats;
extern const char *const stats_global_names[STAT__MAX];
extern const enum stats_kind stats_global_kinds[STAT__MAX];
extern const char *const stats_reason_names[DROP__MAX];

static inline void stats_inc(enum stats_global_id id, uint64_t n) { stats.v[id] += n; }
static inline void stats_drop(enum stats_reason r) { stats.drops[r]++; }
void stats_error(uint64_t now_ms, const char *remote, const char *peer, const char *reason);

#endif
