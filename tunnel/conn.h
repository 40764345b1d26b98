/* One tunnel: a TLS 1.3 connection carrying frames (tunnel/proto.h),
 * driven by the libuv loop.
 *
 * Life of a conn:
 *   client: TCP connect -> TLS handshake -> send HELLO -> WELCOME -> UP
 *   server: accept -> TLS handshake -> identity check -> HELLO
 *           -> send WELCOME -> UP
 *   any state -> conn_close() -> the closed hook, then the conn is freed.
 *
 * Timers (one uv_timer per conn):
 *   - until UP, a deadline: handshake_ms after the conn was created;
 *   - when UP, a tick every keepalive_ms: the tunnel is declared dead if
 *     nothing arrived for keepalive_timeout_ms, otherwise a PING is sent.
 *
 * Send path: frames are appended to one bounded byte queue (tx) and handed
 * on in large batches, so that many packets share a record: sealed
 * records (seal.h) once both sides have CAP_SEAL, SSL_write otherwise.
 * conn_tx_reserve/conn_tx_commit let a caller read a packet from the TUN
 * device straight into the queue. Receive path: records are opened (or
 * SSL_read) into one buffer; DATA payloads are handed to the owner in
 * place, never copied. */
#ifndef TUNNEL_CONN_H
#define TUNNEL_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>
#include <openssl/ssl.h>
#include <linux/virtio_net.h>

#include "tunnel/log.h"
#include "tunnel/proto.h"
#include "tunnel/seal.h"

enum {
	/* The send queue: room for several 64 KB segments, small enough
	 * that a bulk transfer does not bury a ping behind seconds of data. */
	CONN_TX_CAP = 512 * 1024,
	/* Control frames may use this last part of the queue, data not, so
	 * a full queue never blocks a PONG or a CLOSE. */
	CONN_TX_CTRL_RESERVE = 1024,
	/* The receive buffer: room for four whole frames, so that the
	 * partial frame after the last whole one moves to the front about
	 * every third record (conn.c, conn__parse). */
	CONN_RX_CAP = 4 * (FRAME_HDR_LEN + FRAME_MAX_PAYLOAD),
	/* What a read (SSL_read, or a record opening) finds free behind the
	 * data in rx: a whole sealed record. */
	CONN_RX_ROOM = SEAL_MAX_PLAIN,
	/* TCP_NOTSENT_LOWAT of the transport: unsent bytes the kernel may
	 * hold; enough for a few 64 KB segments in flight. */
	CONN_NOTSENT_LOWAT = 128 * 1024,
	/* The buffer BIO that gathers a flush's TLS records into one write()
	 * (conn.c, conn__set_bios): three full records. Measured against
	 * one write per record: 16% less CPU per GB, 10% more throughput,
	 * ping under load unchanged; 128 KB saved as much CPU but added a
	 * millisecond to the ping under load. */
	CONN_WBIO_BUF = 48 * 1024,
	/* Sealed bytes read and not yet opened: a whole record and room
	 * for one read() as large as the next. */
	CONN_CBUF_CAP = 2 * SEAL_MAX_RECORD,
	/* Bytes one readiness callback takes from a sealed tunnel: about
	 * what the TLS path's 64 SSL_read()s of one record each take. */
	CONN_READ_BUDGET = 1024 * 1024,
	/* The payload Linux puts in one TSO segment at most: 64 KB less the
	 * room it keeps for headers (tcp.c, tcp_xmit_size_goal; MAX_TCP_HEADER
	 * is 320 on x86-64), rounded down to whole MSS by the sender. */
	CONN_TSO_GOAL = 65536 - 1 - 320,
	/* No packet either way for this long (seen on a keepalive tick):
	 * the buffers' pages go back to the kernel (conn.c, conn__trim).
	 * Long enough that a transfer's pauses do not fault them in again
	 * and again. */
	CONN_TRIM_IDLE_MS = 5000,
};

/* conn__parse() leaves less than one frame in rx, at its front when less
 * than CONN_RX_ROOM would be left behind it. */
_Static_assert(CONN_RX_CAP - (FRAME_HDR_LEN + FRAME_MAX_PAYLOAD - 1) >= CONN_RX_ROOM,
	       "a sealed record fits behind a partial frame");

enum conn_state {
	CONN_CONNECTING,	/* client: TCP connect in progress */
	CONN_PROXY,		/* client: CONNECT sent to the HTTP proxy, awaiting 200 */
	CONN_TLS,		/* TLS handshake */
	CONN_HELLO,		/* waiting for HELLO (server) or WELCOME (client) */
	CONN_UP,
	CONN_CLOSED,
};

struct conn;

struct conn_ops {
	/* Server: a valid HELLO arrived; fill *welcome (address, etc.).
	 * Return 0 to accept, or a close code (enum close_code). */
	int (*hello)(struct conn *c, const struct hello *hello, struct hello *welcome);
	/* The tunnel is up (client: with the server's WELCOME). Return 0,
	 * or a negative errno to close it. */
	int (*up)(struct conn *c, const struct hello *peer);
	/* A DATA or DATA_GSO frame; pkt points into the receive buffer,
	 * valid until return. vh is the virtio-net header of a DATA_GSO
	 * frame, NULL for a plain packet. */
	void (*data)(struct conn *c, const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len);
	/* A reserve failed earlier and the send queue has drained below
	 * half since: a paused producer may resume. */
	void (*writable)(struct conn *c);
	/* The conn is closed and will be freed on return. reason says why. */
	void (*closed)(struct conn *c, const char *reason);
};

struct conn_params {
	/* The daemon's current context: a reload replaces it, and each new
	 * conn takes the one current at its start. */
	SSL_CTX *const *ctx;
	const struct conn_ops *ops;
	void *owner;
	unsigned keepalive_ms, keepalive_timeout_ms, handshake_ms;
	/* server: accepted identities; client: the server's name */
	const char *const *allowed;
	size_t n_allowed;
	const char *server_name;
	/* client through an HTTP CONNECT proxy (the ingress): the sockaddr
	 * given to conn_connect is the proxy's, and this "HOST:PORT" the
	 * target of the CONNECT, with one extra header line ("Key: value",
	 * may be NULL) that the ingress routes on. */
	const char *proxy_target, *proxy_header;
	struct hello hello;	/* client: what to send in HELLO */
	uint32_t caps;		/* server: what it offers (ANDed with HELLO's) */
};

/* Keepalive round trips, as a histogram: upper bounds in µs from a LAN
 * hop to a transcontinental or overloaded path. */
enum { CONN_RTT_BUCKETS = 12 };
extern const uint32_t conn_rtt_bounds_us[CONN_RTT_BUCKETS];

struct conn_counters {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets, drops;
	uint64_t rtt_hist[CONN_RTT_BUCKETS + 1];	/* last: above every bound */
	uint64_t rtt_sum_us, rtt_count;
};

struct conn {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t timer;
	int fd;
	SSL *ssl;
	enum conn_state state;
	bool server;
	unsigned id;
	int poll_events;
	int open_handles;	/* uv handles still to be closed */
	struct conn_params p;

	char identity[256];	/* verified peer identity */
	char remote[64];	/* peer's transport address */
	struct log_ctx log;
	char close_reason[256];

	uint64_t created_ms, up_since_ms, last_rx_ms;
	uint64_t rtt_us;	/* last PING round trip */
	uint64_t last_data_ms;	/* loop time of the last packet either way;
				 * 0 after a trim (conn.c, conn__trim) */
	struct conn_counters ctr;
	struct hello peer_hello;	/* what the peer sent */
	struct hello welcome;		/* the WELCOME (sent or received) */

	uint8_t *tx;
	size_t tx_off, tx_len;	/* unsent bytes are tx[tx_off, tx_len) */
	bool tx_blocked;	/* a reserve failed: call writable once it drains */
	bool tx_retry;		/* SSL_write wants to be called again with the same bytes */
	bool ktls_tx;		/* the kernel encrypts (--ktls on, granted) */
	bool ktls;		/* the kernel encrypts or decrypts */
	uint8_t *rx;
	size_t rx_off, rx_len;	/* unparsed bytes are rx[rx_off, rx_len) */

	/* Sealed records (seal.h), when the session has CAP_SEAL: each
	 * direction switches at a frame boundary, ours after our last TLS
	 * frame (WELCOME; an agent's HELLO), the peer's after its. */
	bool seal_tx, seal_rx;
	bool seal_rx_next;	/* the frame being handled is the peer's last in TLS */
	struct seal stx, srx;
	size_t seal_plain;	/* plaintext per record: one TSO segment (conn.c) */
	uint8_t *sbuf;		/* one sealed record on its way to the socket */
	size_t sbuf_off, sbuf_len;
	uint8_t *cbuf;		/* sealed bytes read, not yet opened */
	size_t cbuf_len;
	uint32_t offered_caps;	/* agent: the caps its HELLO announced */

	void *owner;		/* = p.owner, for the hooks */
	uint32_t pool_off;	/* server: transfer address offset (0 = none) */
};

/* Server side: takes ownership of an accepted, connected socket. */
int conn_accept(uv_loop_t *loop, int fd, const struct sockaddr *sa,
		const struct conn_params *p, unsigned id, struct conn **out);
/* Client side: starts a non-blocking connect to sa. */
int conn_connect(uv_loop_t *loop, const struct sockaddr *sa, socklen_t salen,
		 const struct conn_params *p, unsigned id, struct conn **out);

/* Starts closing: sends CLOSE (code) if the tunnel got that far, shuts
 * the connection down, and frees it once libuv has let go (the closed hook
 * runs then). Safe to call from any hook and more than once. */
void conn_close(struct conn *c, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Space for a frame payload of up to max bytes in the send queue, or NULL
 * if the queue is too full (the caller drops or pauses). */
uint8_t *conn_tx_reserve(struct conn *c, size_t max);
/* Appends the reserved frame with its len bytes of payload. */
void conn_tx_commit(struct conn *c, uint8_t type, size_t len);
/* Queues a DATA (or another data-carrying) frame by copy; returns 0 or
 * -ENOBUFS. */
int conn_send_data(struct conn *c, const uint8_t *pkt, size_t len);
int conn_send_frame(struct conn *c, uint8_t type, const uint8_t *payload, size_t len);
/* Whether the send queue can take need more bytes of data frames (headers
 * included) now; if not, the writable hook runs once it has drained, as
 * after a failed reserve. */
bool conn_tx_fits(struct conn *c, size_t need);
/* The capabilities both sides have (valid once the tunnel is up). */
static inline uint32_t conn_caps(const struct conn *c) { return c->welcome.caps; }

/* What carries the frames: "sealed" (sealed records, seal.h), "ktls" (TLS
 * records the kernel encrypts) or "tls" (OpenSSL's TLS records; also
 * every tunnel before it is up). */
const char *conn_channel(const struct conn *c);
/* What crosses the tunnel whole, as both sides' TUN devices offer it:
 * "tso+uso" (TCP segments and UDP super-packets), "tso" (TCP segments;
 * UDP ones are cut by the sender) or "none" (every packet MTU-sized;
 * also every tunnel before it is up). */
const char *conn_offload(const struct conn *c);
/* Hands queued bytes to TLS; call after a batch of commits. */
void conn_flush(struct conn *c);
/* Bytes queued and not yet handed to TLS. */
size_t conn_tx_queued(const struct conn *c);
/* What waits to be sent, for the operator: the queue and the sealed
 * record on its way to the socket. */
size_t conn_queued_bytes(const struct conn *c);

/* The largest MSS at most mss that a SYN may advertise so that a Linux
 * sender's TSO segments (CONN_TSO_GOAL rounded down to whole segments of
 * the MSS less opts, the bytes of TCP options in every segment: 12 with
 * timestamps), with any IPv6 or IPv4 + TCP header and the DATA_GSO
 * framing, fit one sealed record of plain bytes; mss itself if it fits
 * already, or if that takes a cut of more than 1/32: a smaller MSS then
 * costs more than the short record that follows each segment. Not
 * monotonic: rounding down to whole segments makes some smaller MSS give
 * larger segments, which is why this searches. */
uint16_t conn_fit_mss(size_t plain, uint16_t mss, unsigned opts);
/* What a SYN that came through c may advertise (pkt_set_mss()):
 * conn_fit_mss() for c's sealed records, or 0 (leave it) on TLS records,
 * which are 16 KB whatever the segment. */
uint16_t conn_mss_max(const struct conn *c, uint16_t mss, unsigned opts);

const char *conn_state_name(enum conn_state s);
uint64_t conn_now_ms(void);

#endif
