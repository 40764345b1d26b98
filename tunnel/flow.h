/* Stateful flow table for vpn-server: packets from a tunnel reach the
 * seed side only if they answer something the seed side opened.
 *
 * Every packet read from the TUN device (seed -> shoot) goes through
 * flow_outbound(), which creates or refreshes the entry of its flow.
 * Every packet from a tunnel goes through flow_inbound() before it is
 * written to the TUN device; that lets through answers (the reverse of a
 * tracked TCP or UDP flow, an echo reply to a tracked echo request, an
 * ICMP error quoting a packet of a tracked flow) and says why it drops
 * anything else.
 *
 * A flow is keyed by its outbound direction: family, protocol, seed-side
 * address and port, shoot-side address and port. ICMP and ICMPv6 echo
 * flows use the echo identifier as the seed port and 0 as the shoot port.
 *
 * The table is bounded and never allocates after flow_table_new(): when
 * all entries are in use, the least recently used one is evicted. Buckets
 * are chosen by SipHash with a per-table random key, so that a flood of
 * chosen addresses and ports cannot pile up in one bucket. Expired entries
 * are removed when a lookup meets them and by flow_expire() from a timer.
 *
 * Time is the caller's: every call takes now_ms from one monotonic clock
 * (uv_now()), which also keeps the table testable without sleeping.
 * Not thread-safe: one table belongs to one event loop. */
#ifndef TUNNEL_FLOW_H
#define TUNNEL_FLOW_H

#include <stddef.h>
#include <stdint.h>

/* Idle timeouts in seconds: an entry expires this long after the last
 * packet that refreshed it. Shorter than Linux conntrack's where waiting
 * longer buys nothing: the table is bounded, so a dead entry occupies a
 * slot that a live flow may need. */
enum {
	/* The answer to a SYN comes within a round trip, and each
	 * retransmitted SYN refreshes the entry (conntrack: 120 s). */
	FLOW_TIMEOUT_TCP_SYN_SENT = 30,
	/* An hour (conntrack: 5 days). The seed's API servers are Go
	 * programs, which send TCP keepalives every 15 s; a connection
	 * idle for longer is picked up again by its next seed-side
	 * segment (see flow_outbound()). */
	FLOW_TIMEOUT_TCP_ESTABLISHED = 3600,
	/* One side sent FIN: the other may still send its answer
	 * (half-close), and each segment refreshes (conntrack: 120 s). */
	FLOW_TIMEOUT_TCP_FIN_WAIT = 120,
	/* Both sides sent FIN: only the last ACKs and retransmitted FINs
	 * remain, within TIME_WAIT (60 s on Linux). */
	FLOW_TIMEOUT_TCP_CLOSING = 60,
	/* RST seen: segments still in flight (conntrack: 10 s). */
	FLOW_TIMEOUT_TCP_CLOSED = 10,
	/* A query without an answer yet; every DNS query is a flow of
	 * its own, so unanswered ones must not linger (conntrack: 30 s). */
	FLOW_TIMEOUT_UDP_UNREPLIED = 30,
	/* Answered at least once: a UDP exchange in progress (conntrack:
	 * 120 s once it looks like a stream). */
	FLOW_TIMEOUT_UDP_REPLIED = 60,
	/* Echo replies come within seconds; ping sends one a second
	 * (conntrack: 30 s). */
	FLOW_TIMEOUT_ICMP = 30,
};

enum {
	/* About 150 bytes an entry with its bucket: 65536 entries take
	 * 9 MiB, and hold more connections than the API servers of one
	 * shoot open. */
	FLOW_DEFAULT_ENTRIES = 65536,
	/* flow_table_new() refuses more, far beyond any sane size; it
	 * keeps the bucket arithmetic in range. */
	FLOW_MAX_ENTRIES = 1 << 24,
};

enum flow_state {
	FLOW_TCP_SYN_SENT,	/* the seed side sent SYN */
	FLOW_TCP_ESTABLISHED,	/* the shoot side answered SYN-ACK */
	FLOW_TCP_FIN_WAIT,	/* one side sent FIN */
	FLOW_TCP_CLOSING,	/* both sides sent FIN */
	FLOW_TCP_CLOSED,	/* either side sent RST */
	FLOW_UDP_UNREPLIED,
	FLOW_UDP_REPLIED,
	FLOW_ICMP_ECHO,		/* echo request sent */
	FLOW_STATE__MAX
};

/* Why flow_inbound() drops a packet, X(name, help): the names are those
 * of the drop counters, the help texts what they count. */
#define FLOW_DROPS(X) \
	X(no_flow, "answers no flow the seed side opened: the shoot side tried to start something (TCP SYN, UDP, echo request), or the flow expired") \
	X(wrong_tunnel, "answers a flow that went into a different tunnel") \
	X(bad_state, "a TCP segment its flow's state does not allow (data before SYN-ACK, SYN-ACK after FIN)") \
	X(untracked, "a protocol or ICMP type that answers nothing the table tracks (GRE, SCTP, ICMP redirect, neighbour discovery)") \
	X(fragment, "an IP fragment after the first, or an ICMP error quoting one: no ports to match") \
	X(bad_packet, "not a valid IPv4/IPv6 packet, a transport header cut short, or an ICMP error quoting garbage")

enum flow_verdict {
	FLOW_PASS,		/* answers a tracked flow: write it to the TUN device */
#define X(n, h) FLOW_DROP_##n,
	FLOW_DROPS(X)
#undef X
	FLOW_VERDICT__MAX
};

struct flow_table;

/* A read-only view of one entry, for `show flows`. */
struct flow_entry {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t proto;			/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	enum flow_state state;
	uint8_t src[16], dst[16];	/* seed side (opened it), shoot side; IPv4 in the first 4 bytes */
	uint16_t sport, dport;		/* host order; echo: identifier in sport, dport 0 */
	unsigned tunnel;		/* answers must come from this tunnel */
	uint64_t age_ms;		/* since the entry was created */
	uint64_t idle_ms;		/* since the last packet that refreshed it */
	uint64_t expires_ms;		/* until it expires unless refreshed */
	uint64_t out_packets, out_bytes;	/* seed -> shoot */
	uint64_t in_packets, in_bytes;		/* shoot -> seed, those let through */
};

struct flow_counters {
	uint64_t tracked;	/* entries in the table now (a gauge) */
	uint64_t created;	/* entries created */
	uint64_t evicted;	/* entries dropped because the table was full */
	uint64_t expired;	/* entries removed after their idle timeout */
	uint64_t inbound[FLOW_VERDICT__MAX];	/* packets per verdict; [FLOW_PASS] let through */
};

/* Allocates a table of max_entries entries (1 .. FLOW_MAX_ENTRIES) and
 * its random hash key. Returns 0, -EINVAL for a size out of range,
 * -ENOMEM, or getrandom()'s error: a guessable key would defeat the
 * point of keying. Free it with flow_table_free(). */
int flow_table_new(size_t max_entries, struct flow_table **out);
void flow_table_free(struct flow_table *t);

/* Call for every packet read from the TUN device that is sent into tunnel
 * tunnel_id. Creates or refreshes its flow's entry and moves the flow to
 * that tunnel: answers must come from the tunnel its latest outbound
 * packet took. The caller forwards the packet whatever this returns:
 * the seed side may send anything; the result is for counting.
 *
 * Creates entries for a TCP SYN, for a TCP segment with ACK (a connection
 * picked up in mid-stream, after an expiry or a restart: the seed side is
 * using it, so answers are welcome), for UDP, and for ICMP/ICMPv6 echo
 * requests. Never for a SYN-ACK, which would accept a connection the
 * shoot side started. When the table is full, evicts the least recently
 * used entry.
 *
 * Returns 0 (created or refreshed); -EINVAL if pkt_parse() refuses the
 * packet or its transport header is cut short; -EPROTONOSUPPORT for a
 * protocol the table does not track (answers to it will be dropped);
 * -ENOENT for a packet that opens nothing and has no entry: a TCP RST,
 * SYN-ACK or segment without ACK, an ICMP message other than an echo
 * request, a fragment after the first. */
int flow_outbound(struct flow_table *t, const uint8_t *pkt, size_t len, uint64_t now_ms,
		  unsigned tunnel_id);

/* For a packet the seed side is about to send: the tunnel its flow took
 * (0, *tunnel_id set) or -ENOENT for a flow not tracked (-EINVAL for a
 * packet without ports or an echo id to key it). *hash is the flow's keyed
 * hash either way (0 for -EINVAL), the same for every packet of the flow:
 * a new flow placed by it over the tunnels that are up stays on its
 * tunnel, and flows spread evenly. */
int flow_pick(struct flow_table *t, const uint8_t *pkt, size_t len, uint64_t now_ms,
	      unsigned *tunnel_id, uint64_t *hash);

/* Call for every packet from tunnel tunnel_id before it is written to the
 * TUN device; write it only on FLOW_PASS. An answer refreshes its entry
 * and advances the TCP state; a TCP SYN without ACK from the shoot side
 * is never an answer; a SYN-ACK answers a flow in SYN_SENT (and, as a
 * retransmission after the seed's ACK got lost, in ESTABLISHED); an RST
 * moves the flow to CLOSED for FLOW_TIMEOUT_TCP_CLOSED, where segments
 * still in flight pass (the seed's TCP judges the RST: if it ignores it,
 * as stale or spoofed, its next segment reopens the flow). An ICMP error (destination unreachable, packet too big, time
 * exceeded, parameter problem) passes if it is addressed to the seed-side
 * end of a tracked flow and quotes one of its outbound packets; it
 * neither refreshes nor changes the flow, so that errors cannot keep a
 * dead flow alive.
 *
 * If flow_tunnel is not NULL and a flow was found (FLOW_PASS and
 * FLOW_DROP_wrong_tunnel), *flow_tunnel is its tunnel. Every call is
 * counted in flow_counters()->inbound[verdict]. */
enum flow_verdict flow_inbound(struct flow_table *t, const uint8_t *pkt, size_t len,
			       uint64_t now_ms, unsigned tunnel_id, unsigned *flow_tunnel);

/* Looks at up to budget entries, continuing where the last call stopped,
 * and removes those expired at now_ms. Returns how many it removed.
 * Called every second with a budget of a sixtieth of the table, it
 * sweeps the table once a minute. */
size_t flow_expire(struct flow_table *t, uint64_t now_ms, size_t budget);

/* Calls fn for each entry not expired at now_ms, most recently used
 * first. fn must not change the table. */
void flow_foreach(const struct flow_table *t, uint64_t now_ms,
		  void (*fn)(const struct flow_entry *e, void *arg), void *arg);

/* The table's counters, live. */
const struct flow_counters *flow_counters(const struct flow_table *t);

/* "syn_sent", "established", ..., "unreplied", "replied", "echo";
 * "?" for a value out of range. */
const char *flow_state_name(enum flow_state s);
/* "pass", or the drop's name from FLOW_DROPS ("no_flow", ...); "?" for
 * a value out of range. */
const char *flow_verdict_name(enum flow_verdict v);

#endif
