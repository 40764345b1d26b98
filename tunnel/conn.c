/* The tunnel connection state machine; see conn.h for its life cycle. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <openssl/err.h>

#include "tunnel/conn.h"
#include "tunnel/gso.h"
#include "tunnel/stats.h"
#include "tunnel/tls.h"

static void conn__poll_cb(uv_poll_t *h, int status, int events);
static void conn__timer_cb(uv_timer_t *t);
static void conn__flush(struct conn *c);
static void conn__seal_drop(struct conn *c);

const uint32_t conn_rtt_bounds_us[CONN_RTT_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

static void conn__rtt_sample(struct conn *c, uint64_t us)
{
	size_t b = 0;

	while (b < CONN_RTT_BUCKETS && us > conn_rtt_bounds_us[b])
		b++;
	c->ctr.rtt_hist[b]++;
	c->ctr.rtt_sum_us += us;
	c->ctr.rtt_count++;
	c->rtt_us = us;
}

uint64_t conn_now_ms(void)
{
	return uv_hrtime() / 1000000;
}

const char *conn_state_name(enum conn_state s)
{
	static const char *const names[] = {
		[CONN_CONNECTING] = "connecting", [CONN_PROXY] = "proxy", [CONN_TLS] = "tls",
		[CONN_HELLO] = "hello", [CONN_UP] = "up", [CONN_CLOSED] = "closed",
	};
	return names[s];
}

static void conn__set_poll(struct conn *c, int events)
{
	if (c->state == CONN_CLOSED || events == c->poll_events)
		return;
	c->poll_events = events;
	uv_poll_start(&c->poll, events, conn__poll_cb);
}

static void conn__format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

/* Socket options for a tunnel transport. TCP_NODELAY: frames are batched
 * by us, Nagle would only add latency. TCP_USER_TIMEOUT: unacknowledged
 * data for a little longer than the keepalive timeout makes the kernel
 * give up too, so a silently dead path cannot hold buffers for minutes;
 * a little longer so that our own timer normally decides first. */
static void conn__sockopts(int fd, unsigned timeout_ms)
{
	int one = 1, lowat = CONN_NOTSENT_LOWAT;
	unsigned to = timeout_ms + 1000;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &to, sizeof(to));
	/* The socket reports writable only while little is unsent, so the
	 * backlog stays in our queue, bounded, rather than in an
	 * auto-tuned send buffer of megabytes that a ping would wait
	 * behind. */
	setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
}

/* OpenSSL writes each record (16 KB at most) with its own write(): a
 * 64 KB segment took four syscalls, four pushes through the TCP stack and
 * four wake-ups of the peer. A buffer BIO under SSL gathers the records of
 * one flush into one write() (conn__flush_bio() ends every flush, so
 * nothing waits in it for more). Not with kernel TLS, which needs SSL
 * writing to the socket BIO itself. */
static int conn__set_bios(SSL *ssl, int fd)
{
	BIO *rd, *wr, *buf;

#ifdef SSL_OP_ENABLE_KTLS
	if (SSL_get_options(ssl) & SSL_OP_ENABLE_KTLS)
		return SSL_set_fd(ssl, fd) ? 0 : -ENOMEM;
#endif
	rd = BIO_new_socket(fd, BIO_NOCLOSE);
	wr = BIO_new_socket(fd, BIO_NOCLOSE);
	buf = BIO_new(BIO_f_buffer());
	if (!rd || !wr || !buf || BIO_set_write_buffer_size(buf, CONN_WBIO_BUF) <= 0) {
		BIO_free(rd);
		BIO_free(wr);
		BIO_free(buf);
		return -ENOMEM;
	}
	SSL_set_bio(ssl, rd, BIO_push(buf, wr));
	return 0;
}

static bool conn__has_buffer_bio(SSL *ssl)
{
	return BIO_method_type(SSL_get_wbio(ssl)) == BIO_TYPE_BUFFER;
}

/* --ktls on that the kernel (or OpenSSL) did not grant: SSL writes to the
 * socket BIO; the buffer goes in under it now, between two flushes. */
static int conn__add_buffer_bio(SSL *ssl)
{
	BIO *w = SSL_get_wbio(ssl), *buf = BIO_new(BIO_f_buffer());

	if (!buf || BIO_set_write_buffer_size(buf, CONN_WBIO_BUF) <= 0 || !BIO_up_ref(w)) {
		BIO_free(buf);
		return -ENOMEM;
	}
	SSL_set0_wbio(ssl, BIO_push(buf, w));	/* drops SSL's own reference to w */
	return 0;
}

/* Writes out what the buffer BIO holds: 0, -EAGAIN (poll for writable and
 * call again), or -EIO. */
static int conn__flush_bio(struct conn *c)
{
	BIO *w = SSL_get_wbio(c->ssl);

	if (BIO_wpending(w) <= 0 || BIO_flush(w) > 0)
		return 0;
	return BIO_should_retry(w) ? -EAGAIN : -EIO;
}

static int conn__new(uv_loop_t *loop, int fd, const struct conn_params *p,
		     unsigned id, bool server, struct conn **out)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->tx = malloc(CONN_TX_CAP);
	c->rx = malloc(CONN_RX_CAP);
	c->ssl = SSL_new(*p->ctx);
	if (!c->tx || !c->rx || !c->ssl || conn__set_bios(c->ssl, fd)) {
		SSL_free(c->ssl);
		free(c->rx);
		free(c->tx);
		free(c);
		ERR_clear_error();
		return -ENOMEM;
	}
	/* Off until the tunnel is up (conn__go_up()): a switch to sealed
	 * records must find no byte of the peer's read ahead into OpenSSL. */
	SSL_set_read_ahead(c->ssl, 0);
	c->loop = loop;
	c->fd = fd;
	c->p = *p;
	c->owner = p->owner;
	c->server = server;
	c->id = id;
	c->log.tunnel = id;
	c->log.remote = c->remote;
	c->created_ms = conn_now_ms();
	uv_poll_init_socket(loop, &c->poll, fd);
	uv_timer_init(loop, &c->timer);
	c->poll.data = c->timer.data = c;
	c->open_handles = 2;
	conn__sockopts(fd, p->keepalive_timeout_ms);
	/* Until the tunnel is up the timer is the handshake deadline. */
	uv_timer_start(&c->timer, conn__timer_cb, p->handshake_ms, 0);
	*out = c;
	return 0;
}

static void conn__handshake(struct conn *c);

int conn_accept(uv_loop_t *loop, int fd, const struct sockaddr *sa,
		const struct conn_params *p, unsigned id, struct conn **out)
{
	struct conn *c;
	int err = conn__new(loop, fd, p, id, true, &c);

	if (err)
		return err;
	conn__format_addr(sa, c->remote, sizeof(c->remote));
	SSL_set_accept_state(c->ssl);
	c->state = CONN_TLS;
	/* The handshake starts from the loop, not from here: done here it
	 * could complete (and run the owner's hooks) before the owner has
	 * even recorded the conn. */
	conn__set_poll(c, UV_READABLE);
	*out = c;
	return 0;
}

int conn_connect(uv_loop_t *loop, const struct sockaddr *sa, socklen_t salen,
		 const struct conn_params *p, unsigned id, struct conn **out)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct conn *c;
	int err;

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, salen) && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	err = conn__new(loop, fd, p, id, false, &c);
	if (err) {
		close(fd);
		return err;
	}
	conn__format_addr(sa, c->remote, sizeof(c->remote));
	SSL_set_connect_state(c->ssl);
	SSL_set_tlsext_host_name(c->ssl, p->server_name);
	/* Checks the server certificate's DNS SANs (or CN) during the
	 * handshake: a certificate for another name fails verification. */
	SSL_set1_host(c->ssl, p->server_name);
	snprintf(c->identity, sizeof(c->identity), "%s", p->server_name);
	c->state = CONN_CONNECTING;
	conn__set_poll(c, UV_WRITABLE);
	*out = c;
	return 0;
}

static void conn__handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->open_handles)
		return;
	if (c->p.ops->closed)
		c->p.ops->closed(c, c->close_reason);
	conn__seal_drop(c);
	SSL_free(c->ssl);
	close(c->fd);
	free(c->rx);
	free(c->tx);
	free(c);
}

/* May the queue's unsent bytes move to its front? SSL_MODE_ACCEPT_MOVING_
 * WRITE_BUFFER says yes, but OpenSSL's kernel TLS path ignores it and
 * retries an unfinished write from the old address. */
static bool conn__may_move(const struct conn *c)
{
	return !(c->ktls_tx && c->tx_retry);
}

/* Queues a control frame; it may use the reserved tail of the queue. */
static int conn__send_ctrl(struct conn *c, uint8_t type, const void *payload, size_t len)
{
	size_t need = FRAME_HDR_LEN + len;

	if (c->tx_len + need > CONN_TX_CAP && c->tx_off && conn__may_move(c)) {
		memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
		c->tx_len -= c->tx_off;
		c->tx_off = 0;
	}
	if (c->tx_len + need > CONN_TX_CAP)
		return -ENOBUFS;
	frame_put_hdr(c->tx + c->tx_len, type, (uint32_t)len);
	memcpy(c->tx + c->tx_len + FRAME_HDR_LEN, payload, len);
	c->tx_len += need;
	return 0;
}

void conn_close(struct conn *c, uint16_t code, const char *fmt, ...)
{
	enum conn_state was = c->state;
	va_list ap;

	if (was == CONN_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(c->close_reason, sizeof(c->close_reason), fmt, ap);
	va_end(ap);

	/* Closed from here on: a send error below must not close us again. */
	c->state = CONN_CLOSED;
	if (was == CONN_HELLO || was == CONN_UP) {
		uint8_t buf[2 + CLOSE_REASON_MAX];
		int n = close_encode(code, c->close_reason, buf, sizeof(buf));
		/* Best effort: one non-blocking attempt to tell the peer. */
		if (n > 0 && !conn__send_ctrl(c, FRAME_CLOSE, buf, (size_t)n))
			conn__flush(c);
		/* A close_notify only while our side still speaks TLS. */
		if (!c->seal_tx) {
			SSL_shutdown(c->ssl);
			conn__flush_bio(c);
		}
	}
	if (was == CONN_UP) {
		stats_inc(STAT_tunnels_closed, 1);
		log_info(&c->log, "tunnel down: %s (up %.1f s)", c->close_reason,
			 (double)(conn_now_ms() - c->up_since_ms) / 1000);
	} else {
		stats_inc(STAT_handshakes_failed, 1);
		stats_error(conn_now_ms(), c->remote, c->log.peer, c->close_reason);
		log_warn(&c->log, "%s", c->close_reason);
	}
	ERR_clear_error();
	uv_poll_stop(&c->poll);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->poll, conn__handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn__handle_closed);
}

static void conn__fail(struct conn *c, enum stats_reason r, uint16_t code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void conn__fail(struct conn *c, enum stats_reason r, uint16_t code,
		       const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	stats_drop(r);
	conn_close(c, code, "%s", buf);
}

const char *conn_channel(const struct conn *c)
{
	return c->seal_tx ? "sealed" : c->ktls ? "ktls" : "tls";
}

const char *conn_offload(const struct conn *c)
{
	uint32_t caps = conn_caps(c);

	if (!(caps & CAP_GSO))
		return "none";
	return caps & CAP_USO ? "tso+uso" : "tso";
}

size_t conn_tx_queued(const struct conn *c)
{
	return c->tx_len - c->tx_off;
}

size_t conn_queued_bytes(const struct conn *c)
{
	return conn_tx_queued(c) + (c->sbuf_len - c->sbuf_off);
}

uint8_t *conn_tx_reserve(struct conn *c, size_t max)
{
	size_t need = FRAME_HDR_LEN + max, limit = CONN_TX_CAP - CONN_TX_CTRL_RESERVE;

	if (c->state != CONN_UP)
		return NULL;
	if (c->tx_len + need > limit && c->tx_off && conn__may_move(c)) {
		/* Compacting moves unsent bytes OpenSSL may be retrying;
		 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows that. */
		memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
		c->tx_len -= c->tx_off;
		c->tx_off = 0;
	}
	if (c->tx_len + need > limit) {
		c->tx_blocked = true;
		return NULL;
	}
	return c->tx + c->tx_len + FRAME_HDR_LEN;
}

void conn_tx_commit(struct conn *c, uint8_t type, size_t len)
{
	frame_put_hdr(c->tx + c->tx_len, type, (uint32_t)len);
	c->tx_len += FRAME_HDR_LEN + len;
	if (type == FRAME_DATA || type == FRAME_DATA_GSO) {
		/* Packet bytes, as the receiver counts them: without the
		 * virtio-net header of a DATA_GSO frame. */
		c->ctr.tx_packets++;
		c->ctr.tx_bytes += type == FRAME_DATA_GSO ? len - GSO_HDR_LEN : len;
		c->last_data_ms = uv_now(c->loop);
	}
}

int conn_send_frame(struct conn *c, uint8_t type, const uint8_t *payload, size_t len)
{
	uint8_t *dst = conn_tx_reserve(c, len);

	if (!dst)
		return -ENOBUFS;
	memcpy(dst, payload, len);
	conn_tx_commit(c, type, len);
	return 0;
}

int conn_send_data(struct conn *c, const uint8_t *pkt, size_t len)
{
	return conn_send_frame(c, FRAME_DATA, pkt, len);
}

bool conn_tx_fits(struct conn *c, size_t need)
{
	size_t used = c->tx_len - c->tx_off, limit = CONN_TX_CAP - CONN_TX_CTRL_RESERVE;

	if (c->state == CONN_UP && used + need <= limit)
		return true;
	c->tx_blocked = true;
	return false;
}

/* Wakes a producer that found the queue full, once it has room again. */
static void conn__wake_producer(struct conn *c)
{
	if (c->tx_blocked && c->state == CONN_UP && conn_tx_queued(c) < CONN_TX_CAP / 2) {
		c->tx_blocked = false;
		if (c->p.ops->writable)
			c->p.ops->writable(c);
	}
}

/* What SSL_write put in the buffer BIO goes out, and the poll watches
 * for writable exactly while something waits (in the queue or the BIO). */
static void conn__flush_end(struct conn *c, bool queue_waits)
{
	switch (conn__flush_bio(c)) {
	case 0:
		conn__set_poll(c, queue_waits ? UV_READABLE | UV_WRITABLE : UV_READABLE);
		break;
	case -EAGAIN:
		conn__set_poll(c, UV_READABLE | UV_WRITABLE);
		break;
	default:
		if (c->state != CONN_CLOSED)
			conn_close(c, CLOSE_PROTOCOL, "send failed: %s", strerror(errno ? errno : EIO));
		return;
	}
	conn__wake_producer(c);
}

/* The sealed send path: the queue is cut into records of one TSO segment
 * each (conn__seal_plain()), each encrypted into sbuf (the one copy) and
 * written with one write(). TLS bytes still in the buffer BIO from
 * before the switch go first. */
static void conn__flush_sealed(struct conn *c)
{
	int err = conn__flush_bio(c);

	while (!err) {
		ssize_t w;

		if (c->sbuf_off == c->sbuf_len) {
			size_t n = conn_tx_queued(c);
			int len;

			if (!n)
				break;
			if (n > c->seal_plain)
				n = c->seal_plain;
			len = seal_put(&c->stx, c->tx + c->tx_off, n, c->sbuf);
			if (len < 0) {
				if (c->state != CONN_CLOSED)
					conn_close(c, CLOSE_PROTOCOL, "cannot seal a record: %s", strerror(-len));
				return;
			}
			c->tx_off += n;
			c->sbuf_off = 0;
			c->sbuf_len = (size_t)len;
		}
		w = write(c->fd, c->sbuf + c->sbuf_off, c->sbuf_len - c->sbuf_off);
		if (w >= 0)
			c->sbuf_off += (size_t)w;
		else if (errno != EINTR)
			err = errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	if (c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	if (err && err != -EAGAIN) {
		if (c->state != CONN_CLOSED)
			conn_close(c, CLOSE_PROTOCOL, "send failed: %s", strerror(-err));
		return;
	}
	conn__set_poll(c, err ? UV_READABLE | UV_WRITABLE : UV_READABLE);
	conn__wake_producer(c);
}

static void conn__flush(struct conn *c)
{
	if (c->seal_tx) {
		conn__flush_sealed(c);
		return;
	}
	while (c->tx_off < c->tx_len) {
		size_t n = c->tx_len - c->tx_off;
		int r = SSL_write(c->ssl, c->tx + c->tx_off, n > INT_MAX ? INT_MAX : (int)n);

		if (r > 0) {
			c->tx_off += (size_t)r;
			c->tx_retry = false;
			continue;
		}
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			/* OpenSSL retries these very bytes; with kernel TLS from
			 * their old address (OpenSSL issue 21202): the queue must
			 * not move until it has */
			c->tx_retry = true;
			conn__flush_end(c, true);
			return;
		case SSL_ERROR_WANT_READ:
			conn__flush_end(c, false);	/* reading is always on */
			return;
		default:
			if (c->state != CONN_CLOSED) {
				char why[200];
				tls_failure_reason(c->ssl, r, why, sizeof(why));
				conn_close(c, CLOSE_PROTOCOL, "send failed: %s", why);
			}
			return;
		}
	}
	c->tx_off = c->tx_len = 0;
	conn__flush_end(c, false);
}

void conn_flush(struct conn *c)
{
	if (c->state == CONN_HELLO || c->state == CONN_UP)
		conn__flush(c);
}

/* The key material of a generation of sealed records: the TLS session's
 * exporter, with the generation as its context (seal.h). */
static int conn__export(void *arg, uint64_t gen, uint8_t *out)
{
	struct conn *c = arg;
	uint8_t context[8];

	for (int i = 0; i < 8; i++)
		context[i] = (uint8_t)(gen >> (56 - 8 * i));
	if (SSL_export_keying_material(c->ssl, out, SEAL_EXPORT_LEN, SEAL_EXPORTER_LABEL,
				       sizeof(SEAL_EXPORTER_LABEL) - 1, context,
				       sizeof(context), 1) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

/* Does the kernel do this tunnel's TLS (--ktls on, granted)? Then the
 * records stay TLS: sealing would bypass it. */
static bool conn__ktls(const struct conn *c)
{
	return BIO_get_ktls_send(SSL_get_wbio(c->ssl)) || BIO_get_ktls_recv(SSL_get_rbio(c->ssl));
}

/* The plaintext of one sealed record: as much as makes the record one
 * full TSO segment of the transport, a multiple of its MSS below what
 * the kernel puts in one segment (64 KB less its header room; tcp.c,
 * tcp_xmit_size_goal). A record a few hundred bytes longer spills into a
 * second, tiny segment: one more packet and one more wake-up of the peer
 * per record, which measured 10-20% of the throughput on a veth path. */
static size_t conn__seal_plain(int fd)
{
	int mss = 0;
	socklen_t len = sizeof(mss);
	size_t seg;

	/* (an MSS above the TSO goal, as on loopback: one segment each) */
	if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) || mss < 536 || mss > CONN_TSO_GOAL)
		return SEAL_MAX_PLAIN;
	seg = CONN_TSO_GOAL / (size_t)mss * (size_t)mss;
	return seg - SEAL_HDR_LEN - SEAL_TAG_LEN;
}

/* Whether a sender's TSO segments of m bytes each, framed, fit plain
 * bytes. */
static bool conn__fits(size_t plain, unsigned m)
{
	enum { HDR_MAX = 40 + 60 };	/* IPv6 + TCP with every option */

	return CONN_TSO_GOAL / m * m + HDR_MAX + FRAME_HDR_LEN + GSO_HDR_LEN <= plain;
}

uint16_t conn_fit_mss(size_t plain, uint16_t mss, unsigned opts)
{
	for (unsigned m = mss; m >= 536 + opts && m >= mss - mss / 32u; m--)
		if (conn__fits(plain, m - opts))
			return (uint16_t)m;
	return mss;
}

uint16_t conn_mss_max(const struct conn *c, uint16_t mss, unsigned opts)
{
	return c->seal_tx ? conn_fit_mss(c->seal_plain, mss, opts) : 0;
}

static void conn__seal_drop(struct conn *c)
{
	seal_free(&c->stx);
	seal_free(&c->srx);
	free(c->sbuf);
	free(c->cbuf);
	c->sbuf = c->cbuf = NULL;
}

/* Both directions' keys and buffers, made before CAP_SEAL is announced
 * (agent: HELLO; server: WELCOME), so that whatever fails here (memory,
 * a libgcrypt that will not seal with the cipher, as in FIPS mode)
 * leaves the tunnel on TLS records
 * instead of closing it after the switch was promised. Our writes are
 * agent-to-server when we are the agent. */
static int conn__seal_prepare(struct conn *c)
{
	int nid = SSL_CIPHER_get_cipher_nid(SSL_get_current_cipher(c->ssl)), err;

	c->seal_plain = conn__seal_plain(c->fd);
	c->sbuf = malloc(SEAL_MAX_RECORD);
	c->cbuf = malloc(CONN_CBUF_CAP);
	err = !c->sbuf || !c->cbuf ? -ENOMEM :
	      seal_init(&c->stx, nid, true, !c->server, conn__export, c);
	if (!err)
		err = seal_init(&c->srx, nid, false, c->server, conn__export, c);
	if (err) {
		conn__seal_drop(c);
		log_warn(&c->log, "sealed records unavailable for %s (%s%s): staying with TLS records",
			 SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)), strerror(-err),
			 err == -EOPNOTSUPP ? ": libgcrypt will not seal with it here, as in FIPS mode" : "");
	}
	return err;
}

/* Our writes become sealed, after what is queued has gone out in TLS: a
 * few hundred bytes of hello on a fresh socket, which the buffer BIO
 * always takes whole. */
static int conn__seal_tx_start(struct conn *c)
{
	conn__flush(c);
	if (c->state == CONN_CLOSED)
		return -EPIPE;
	if (conn_tx_queued(c))
		return -EAGAIN;
	c->seal_tx = true;
	return 0;
}

/* The peer's writes are sealed from here on: nothing of its TLS stream
 * may be left, neither in rx nor inside OpenSSL (read-ahead is off until
 * the switch, so OpenSSL has read no byte past the record). */
static int conn__seal_rx_start(struct conn *c, size_t left)
{
	if (left || SSL_has_pending(c->ssl))
		return -EPROTO;
	c->seal_rx = true;
	return 0;
}

static void conn__send_ping(struct conn *c)
{
	uint64_t now = uv_hrtime();
	uint8_t ts[8];

	for (int i = 0; i < 8; i++)
		ts[i] = (uint8_t)(now >> (56 - 8 * i));
	conn__send_ctrl(c, FRAME_PING, ts, sizeof(ts));
	conn__flush(c);
}

/* Returns the pages strictly inside buf[0..len) to the kernel
 * (MADV_DONTNEED: they read as zeros when touched again, and malloc's
 * bookkeeping around the block is outside them). False if it could not. */
static bool conn__drop_pages(void *buf, size_t len)
{
	static uintptr_t pg;
	uintptr_t a, e;

	if (!pg)
		pg = (uintptr_t)getpagesize();
	a = ((uintptr_t)buf + pg - 1) & ~(pg - 1);
	e = ((uintptr_t)buf + len) & ~(pg - 1);
	return !buf || e <= a || !madvise((void *)a, e - a, MADV_DONTNEED);
}

/* A tunnel that carried bulk traffic has touched up to about 1 MB of
 * buffers (the send queue, the receive buffer, the sealed records' two)
 * and would keep it resident for good. Once no packet has moved for
 * CONN_TRIM_IDLE_MS (seen on a keepalive tick), they go back to the
 * kernel, so that an idle tunnel costs what a fresh one does, whatever
 * it carried before; traffic that resumes pays a few page faults. Only
 * when all are empty (their bytes mean nothing then): otherwise the next
 * tick tries again. last_data_ms is 0 when nothing moved since the last
 * trim, so a tunnel that never carried a packet is not counted. */
static void conn__trim(struct conn *c)
{
	uint64_t now = uv_now(c->loop), idle = now - c->last_data_ms;

	if (!c->last_data_ms || idle < CONN_TRIM_IDLE_MS)
		return;
	if (c->tx_len || c->tx_retry || c->rx_len || c->sbuf_off != c->sbuf_len || c->cbuf_len)
		return;
	if (!conn__drop_pages(c->tx, CONN_TX_CAP) || !conn__drop_pages(c->rx, CONN_RX_CAP) ||
	    !conn__drop_pages(c->sbuf, SEAL_MAX_RECORD) || !conn__drop_pages(c->cbuf, CONN_CBUF_CAP)) {
		log_debug(&c->log, "cannot return idle buffers to the kernel: %s", strerror(errno));
		return;
	}
	c->last_data_ms = 0;
	stats_inc(STAT_buffer_trims, 1);
	log_debug(&c->log, "idle for %llu ms: buffers returned to the kernel",
		  (unsigned long long)idle);
}

static void conn__timer_cb(uv_timer_t *t)
{
	struct conn *c = t->data;
	uint64_t idle;

	if (c->state != CONN_UP) {
		conn__fail(c, DROP_handshake_timeout, CLOSE_TIMEOUT,
			   "handshake timeout after %u ms in state %s",
			   c->p.handshake_ms, conn_state_name(c->state));
		return;
	}
	idle = conn_now_ms() - c->last_rx_ms;
	if (idle >= c->p.keepalive_timeout_ms) {
		conn__fail(c, DROP_keepalive_timeout, CLOSE_TIMEOUT,
			   "keepalive timeout: nothing received for %llu ms",
			   (unsigned long long)idle);
		return;
	}
	conn__send_ping(c);
	if (c->state == CONN_UP)
		conn__trim(c);
}

static void conn__go_up(struct conn *c)
{
	unsigned ka = c->p.keepalive_ms;

	/* The client pings at least as often as the server asks for, so the
	 * server's timeout holds whatever the client was configured with. */
	if (!c->server && c->welcome.keepalive_ms && c->welcome.keepalive_ms < ka)
		ka = c->welcome.keepalive_ms;
	c->state = CONN_UP;
	c->up_since_ms = c->last_rx_ms = conn_now_ms();
	stats_inc(STAT_handshakes_ok, 1);
	if (c->seal_tx)
		stats_inc(STAT_sealed_tunnels, 1);
	else	/* off until now so that a switch finds no byte read ahead */
		SSL_set_read_ahead(c->ssl, 1);
	/* set by OpenSSL at the handshake's end when --ktls on could be met */
	c->ktls = conn__ktls(c);
	if ((c->ktls_tx = BIO_get_ktls_send(SSL_get_wbio(c->ssl)))) {
		stats_inc(STAT_ktls_tunnels, 1);
		log_info(&c->log, "kernel TLS: the kernel encrypts this tunnel's records%s",
			 BIO_get_ktls_recv(SSL_get_rbio(c->ssl)) ? " and decrypts them" : "");
	} else if (!conn__has_buffer_bio(c->ssl) && conn__add_buffer_bio(c->ssl)) {
		log_warn(&c->log, "no memory for the write buffer: one write() per TLS record");
	}
	uv_timer_stop(&c->timer);
	uv_timer_start(&c->timer, conn__timer_cb, ka, ka);
	if (c->p.ops->up && c->p.ops->up(c, c->server ? &c->peer_hello : &c->welcome)) {
		if (c->state != CONN_CLOSED)
			conn_close(c, CLOSE_SHUTDOWN, "tunnel set-up failed");
		return;
	}
	conn__send_ping(c);	/* a first RTT sample at once */
}

static void conn__on_hello(struct conn *c, const struct frame *f)
{
	struct hello h;
	int v, code;
	uint8_t buf[2048];	/* fixed part + every TLV, HELLO_ROUTES_MAX routes */

	if (hello_decode(f->payload, f->len, &h)) {
		conn__fail(c, DROP_bad_frame, CLOSE_PROTOCOL, "malformed hello (%u bytes)", f->len);
		return;
	}
	c->peer_hello = h;
	v = proto_pick_version(h.version_min, h.version_max);
	if (v < 0) {
		conn__fail(c, DROP_bad_version, CLOSE_VERSION,
			   "unsupported protocol version %u..%u (this server speaks %u)",
			   h.version_min, h.version_max, PROTO_VERSION);
		return;
	}
	memset(&c->welcome, 0, sizeof(c->welcome));
	c->welcome.version_min = c->welcome.version_max = (uint16_t)v;
	c->welcome.caps = h.caps & c->p.caps;
	if ((c->welcome.caps & CAP_SEAL) && (conn__ktls(c) || conn__seal_prepare(c)))
		c->welcome.caps &= ~(uint32_t)CAP_SEAL;
	c->welcome.keepalive_ms = c->p.keepalive_ms;
	code = c->p.ops->hello ? c->p.ops->hello(c, &h, &c->welcome) : 0;
	if (code) {
		conn__fail(c, code == CLOSE_NO_ADDRESS ? DROP_no_address : DROP_bad_frame,
			   (uint16_t)code, "refused: %s", close_code_name((uint16_t)code));
		return;
	}
	v = welcome_encode(&c->welcome, buf, sizeof(buf));
	if (v < 0 || conn__send_ctrl(c, FRAME_WELCOME, buf, (size_t)v)) {
		conn_close(c, CLOSE_PROTOCOL, "cannot encode welcome");
		return;
	}
	if (c->welcome.caps & CAP_SEAL) {
		/* WELCOME is our last TLS frame, HELLO the agent's. */
		c->seal_rx_next = true;
		if ((v = conn__seal_tx_start(c))) {
			if (c->state != CONN_CLOSED)
				conn_close(c, CLOSE_PROTOCOL, "cannot start sealed records: %s", strerror(-v));
			return;
		}
	}
	conn__go_up(c);
	conn__flush(c);
}

static void conn__on_welcome(struct conn *c, const struct frame *f)
{
	if (welcome_decode(f->payload, f->len, &c->welcome) ||
	    c->welcome.version_min != PROTO_VERSION) {
		conn__fail(c, DROP_bad_frame, CLOSE_PROTOCOL, "malformed welcome (%u bytes)", f->len);
		return;
	}
	/* The session has what both announced, whatever the server says. */
	c->welcome.caps &= c->offered_caps;
	if (!(c->welcome.caps & CAP_SEAL))
		conn__seal_drop(c);	/* the server keeps TLS records */
	else {
		int err;
		/* WELCOME is the server's last TLS frame, HELLO was ours. */
		c->seal_rx_next = true;
		if ((err = conn__seal_tx_start(c))) {
			if (c->state != CONN_CLOSED)
				conn_close(c, CLOSE_PROTOCOL, "cannot start sealed records: %s", strerror(-err));
			return;
		}
	}
	conn__go_up(c);
}

static void conn__on_frame(struct conn *c, const struct frame *f)
{
	char reason[CLOSE_REASON_MAX + 1];
	uint16_t code;

	if (f->type == FRAME_CLOSE) {
		if (close_decode(f->payload, f->len, &code, reason, sizeof(reason)))
			snprintf(reason, sizeof(reason), "(no reason)");
		conn_close(c, CLOSE_SHUTDOWN, "closed by peer: %s (%s)", reason, close_code_name(code));
		return;
	}
	if (c->state == CONN_HELLO) {
		if (c->server && f->type == FRAME_HELLO)
			conn__on_hello(c, f);
		else if (!c->server && f->type == FRAME_WELCOME)
			conn__on_welcome(c, f);
		else
			conn__fail(c, DROP_bad_frame, CLOSE_PROTOCOL, "unexpected %s frame before hello",
				   frame_type_name(f->type));
		return;
	}
	switch (f->type) {
	case FRAME_DATA:
		if (f->len < FRAME_MIN_DATA) {
			c->ctr.drops++;
			stats_drop(DROP_bad_packet);
			return;
		}
		c->ctr.rx_packets++;
		c->ctr.rx_bytes += f->len;
		c->last_data_ms = uv_now(c->loop);
		c->p.ops->data(c, NULL, (uint8_t *)f->payload, f->len);
		return;
	case FRAME_DATA_GSO: {
		struct virtio_net_hdr vh;
		if (f->len < GSO_HDR_LEN + FRAME_MIN_DATA) {
			c->ctr.drops++;
			stats_drop(DROP_bad_packet);
			return;
		}
		/* Copied out: the payload has no alignment guarantee. */
		memcpy(&vh, f->payload, sizeof(vh));
		c->ctr.rx_packets++;
		c->ctr.rx_bytes += f->len - GSO_HDR_LEN;
		c->last_data_ms = uv_now(c->loop);
		c->p.ops->data(c, &vh, (uint8_t *)f->payload + GSO_HDR_LEN, f->len - GSO_HDR_LEN);
		return;
	}
	case FRAME_PING:
		conn__send_ctrl(c, FRAME_PONG, f->payload, f->len > 8 ? 8 : f->len);
		return;
	case FRAME_PONG:
		if (f->len == 8) {
			uint64_t ts = 0;
			for (int i = 0; i < 8; i++)
				ts = ts << 8 | f->payload[i];
			if (ts <= uv_hrtime())
				conn__rtt_sample(c, (uv_hrtime() - ts) / 1000);
		}
		return;
	default:
		conn__fail(c, DROP_bad_frame, CLOSE_PROTOCOL, "unexpected %s frame", frame_type_name(f->type));
	}
}

/* Decodes and dispatches every whole frame in rx, keeps the rest where
 * it is: the partial frame moves to the front only when less than
 * CONN_RX_ROOM is left behind it. A sealed record is a little shorter
 * than a 64 KB frame, so moving after every record copied almost every
 * byte once more. */
static void conn__parse(struct conn *c)
{
	size_t off = c->rx_off;
	struct frame f;
	int r;

	while ((r = frame_decode(c->rx + off, c->rx_len - off, &f)) > 0) {
		conn__on_frame(c, &f);
		if (c->state == CONN_CLOSED)
			return;
		off += (size_t)r;
		if (c->seal_rx_next) {
			int err = conn__seal_rx_start(c, c->rx_len - off);

			c->seal_rx_next = false;
			if (err) {
				conn__fail(c, DROP_bad_frame, CLOSE_PROTOCOL,
					   "TLS data after the peer's last TLS frame");
				return;
			}
			c->rx_off = c->rx_len = 0;
			return;
		}
	}
	if (r == -EMSGSIZE) {
		const uint8_t *h = c->rx + off;
		conn__fail(c, DROP_frame_too_large, CLOSE_PROTOCOL,
			   "frame too large: %u bytes (maximum %u)",
			   (unsigned)(h[1] << 16 | h[2] << 8 | h[3]), FRAME_MAX_PAYLOAD);
		return;
	}
	if (r < 0) {
		conn__fail(c, DROP_bad_frame, CLOSE_PROTOCOL, "unknown frame type %u", c->rx[off]);
		return;
	}
	if (off == c->rx_len) {
		c->rx_off = c->rx_len = 0;
	} else if (CONN_RX_CAP - c->rx_len < CONN_RX_ROOM) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
		c->rx_off = 0;
	} else {
		c->rx_off = off;
	}
}

/* Opens every whole record in cbuf into rx and hands its frames on.
 * Returns 0, or -1 when the tunnel was closed. */
static int conn__open(struct conn *c)
{
	size_t off = 0, plain;
	int r;

	while ((r = seal_open(&c->srx, c->cbuf + off, c->cbuf_len - off,
			      c->rx + c->rx_len, &plain)) > 0) {
		off += (size_t)r;
		c->rx_len += plain;
		conn__parse(c);
		if (c->state == CONN_CLOSED)
			return -1;
	}
	if (r == -EMSGSIZE && c->srx.seq == 0 && c->srx.gen == 0 && c->cbuf_len - off >= 3 &&
	    !memcmp(c->cbuf + off, "\x17\x03\x03", 3)) {
		/* A TLS record where the first sealed one was due: the agent
		 * closed (CLOSE and close_notify) before it read WELCOME. */
		conn_close(c, CLOSE_SHUTDOWN, "TLS where sealed records were due "
			   "(the peer stopped before it read WELCOME?)");
		return -1;
	}
	if (r == -EMSGSIZE) {
		conn__fail(c, DROP_frame_too_large, CLOSE_PROTOCOL,
			   "sealed record too large (maximum %u bytes)", SEAL_MAX_PLAIN);
		return -1;
	}
	if (r == -EBADMSG) {
		conn__fail(c, DROP_seal_auth, CLOSE_PROTOCOL,
			   "sealed record %llu (key generation %llu) failed authentication",
			   (unsigned long long)c->srx.seq - 1, (unsigned long long)c->srx.gen);
		return -1;
	}
	if (r < 0) {
		conn_close(c, CLOSE_PROTOCOL, "cannot take the next generation of keys: %s",
			   strerror(-r));
		return -1;
	}
	if (off) {
		memmove(c->cbuf, c->cbuf + off, c->cbuf_len - off);
		c->cbuf_len -= off;
	}
	return 0;
}

/* The sealed receive path: large reads, each record decrypted straight
 * into rx (the one copy). Bounded in bytes, as the TLS path is (64 reads
 * of one 16 KB record at most), so that one bulk tunnel cannot hold the
 * loop from the others; poll is level-triggered and calls again. */
static void conn__read_sealed(struct conn *c)
{
	size_t budget = CONN_READ_BUDGET;

	while (budget && (c->state == CONN_HELLO || c->state == CONN_UP)) {
		size_t room = CONN_CBUF_CAP - c->cbuf_len;
		ssize_t n = read(c->fd, c->cbuf + c->cbuf_len, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (n == 0)
				conn_close(c, CLOSE_SHUTDOWN, "connection closed by peer");
			else
				conn_close(c, CLOSE_PROTOCOL, "receive failed: %s", strerror(errno));
			return;
		}
		c->cbuf_len += (size_t)n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
		c->last_rx_ms = conn_now_ms();
		if (conn__open(c))
			return;
		if ((size_t)n < room)	/* the socket is drained: no EAGAIN round */
			break;
	}
	if (c->state == CONN_HELLO || c->state == CONN_UP)
		conn__flush(c);
}

static void conn__read(struct conn *c)
{
	if (c->seal_rx) {
		conn__read_sealed(c);
		return;
	}
	/* Bounded so one busy tunnel cannot starve the others; we stop only
	 * when OpenSSL holds nothing (SSL_has_pending(): neither decrypted
	 * bytes nor read-ahead ciphertext), which poll could not see. */
	for (int i = 0; c->state == CONN_HELLO || c->state == CONN_UP; i++) {
		int r, e;

		if (i >= 64 && !SSL_has_pending(c->ssl))
			break;
		r = SSL_read(c->ssl, c->rx + c->rx_len, (int)(CONN_RX_CAP - c->rx_len));
		if (r > 0) {
			c->rx_len += (size_t)r;
			c->last_rx_ms = conn_now_ms();
			conn__parse(c);
			if (c->seal_rx) {	/* the peer switched after that frame */
				conn__read_sealed(c);
				return;
			}
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_WANT_WRITE) {
			conn__set_poll(c, UV_READABLE | UV_WRITABLE);
			break;
		}
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !ERR_peek_error())) {
			conn_close(c, CLOSE_SHUTDOWN, "connection closed by peer");
		} else {
			char why[200];
			tls_failure_reason(c->ssl, r, why, sizeof(why));
			conn__fail(c, DROP_bad_frame, CLOSE_PROTOCOL, "receive failed: %s", why);
		}
		return;
	}
	/* PONGs and the like queued while parsing go out in one batch. */
	if (c->state == CONN_HELLO || c->state == CONN_UP)
		conn__flush(c);
}

static void conn__handshake(struct conn *c)
{
	const unsigned char *alpn;
	unsigned alpnlen;
	int r = SSL_do_handshake(c->ssl);

	if (r != 1) {
		int e = SSL_get_error(c->ssl, r);
		char why[200];

		if (e == SSL_ERROR_WANT_READ) {
			conn__set_poll(c, UV_READABLE);
			return;
		}
		if (e == SSL_ERROR_WANT_WRITE) {
			conn__set_poll(c, UV_READABLE | UV_WRITABLE);
			return;
		}
		tls_failure_reason(c->ssl, r, why, sizeof(why));
		conn__fail(c, DROP_tls_error, CLOSE_PROTOCOL, "handshake failed: %s", why);
		return;
	}
	SSL_get0_alpn_selected(c->ssl, &alpn, &alpnlen);
	if (alpnlen != sizeof(PROTO_ALPN) - 1 || memcmp(alpn, PROTO_ALPN, alpnlen)) {
		conn__fail(c, DROP_bad_version, CLOSE_VERSION,
			   "handshake failed: peer does not speak %s", PROTO_ALPN);
		return;
	}
	if (c->server) {
		if (tls_peer_check(c->ssl, c->p.allowed, c->p.n_allowed, c->identity,
				   sizeof(c->identity))) {
			c->log.peer = c->identity;
			conn__fail(c, DROP_identity_not_allowed, CLOSE_PROTOCOL,
				   "identity not allowed: %s", c->identity);
			return;
		}
	} else {
		uint8_t buf[256];
		int n;

		c->offered_caps = c->p.hello.caps;
		if ((c->offered_caps & CAP_SEAL) && (conn__ktls(c) || conn__seal_prepare(c)))
			c->offered_caps &= ~(uint32_t)CAP_SEAL;
		c->p.hello.caps = c->offered_caps;
		n = hello_encode(&c->p.hello, buf, sizeof(buf));
		if (n < 0 || conn__send_ctrl(c, FRAME_HELLO, buf, (size_t)n)) {
			conn_close(c, CLOSE_PROTOCOL, "cannot encode hello");
			return;
		}
	}
	c->log.peer = c->identity;
	c->state = CONN_HELLO;
	log_debug(&c->log, "TLS established (%s)", SSL_get_cipher_name(c->ssl));
	conn__set_poll(c, UV_READABLE);
	conn__flush(c);
	conn__read(c);	/* the peer's first frame may have come with the handshake */
}

/* Through an HTTP proxy: the CONNECT request, written at once (a few
 * hundred bytes on a fresh socket always fit its buffer). */
static void conn__proxy_request(struct conn *c)
{
	char req[1024];
	int n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s"
			 "User-Agent: vpn-shoot\r\n\r\n", c->p.proxy_target, c->p.proxy_target,
			 c->p.proxy_header ? c->p.proxy_header : "", c->p.proxy_header ? "\r\n" : "");

	if (n < 0 || (size_t)n >= sizeof(req) || write(c->fd, req, (size_t)n) != n) {
		conn_close(c, 0, "HTTP proxy %s: cannot send CONNECT: %s", c->remote,
			   n > 0 && (size_t)n < sizeof(req) ? strerror(errno) : "request too long");
		return;
	}
	c->state = CONN_PROXY;
	conn__set_poll(c, UV_READABLE);
}

/* The proxy's answer: "HTTP/1.x 200 ..." and the end of its head, nothing
 * after it (the TLS server speaks only after our ClientHello). Any other
 * status is reported as the proxy gave it. */
static void conn__proxy_answer(struct conn *c)
{
	ssize_t n = read(c->fd, c->rx + c->rx_len, 4096 - c->rx_len);
	char *end, *line;
	int status = 0;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(c, 0, "HTTP proxy %s closed the connection before answering CONNECT", c->remote);
		return;
	}
	c->rx_len += (size_t)n;
	c->rx[c->rx_len] = '\0';
	if (!(end = strstr((char *)c->rx, "\r\n\r\n"))) {
		if (c->rx_len >= 4095)
			conn_close(c, 0, "HTTP proxy %s: answer head longer than 4 KB", c->remote);
		return;
	}
	line = (char *)c->rx;
	line[strcspn(line, "\r\n")] = '\0';
	if (sscanf(line, "HTTP/1.%*1[01] %d", &status) != 1 || status != 200) {
		conn_close(c, 0, "HTTP proxy %s refused CONNECT %s: %.100s", c->remote,
			   c->p.proxy_target, line);
		return;
	}
	if (end + 4 != (char *)c->rx + c->rx_len) {
		conn_close(c, 0, "HTTP proxy %s sent data after its answer", c->remote);
		return;
	}
	c->rx_len = 0;
	c->state = CONN_TLS;
	conn__handshake(c);
}

static void conn__connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		conn_close(c, 0, "connect to %s%s failed: %s", c->p.proxy_target ? "HTTP proxy " : "",
			   c->remote, strerror(err));
		return;
	}
	if (c->p.proxy_target) {
		conn__proxy_request(c);
		return;
	}
	c->state = CONN_TLS;
	conn__handshake(c);
}

static void conn__poll_cb(uv_poll_t *h, int status, int events)
{
	struct conn *c = h->data;

	if (c->state == CONN_CLOSED)
		return;
	if (status < 0 && c->state != CONN_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		/* libuv reports a failed socket without the reason: ask it. */
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err == ETIMEDOUT)
			conn__fail(c, DROP_keepalive_timeout, CLOSE_TIMEOUT,
				   "keepalive timeout: sent data unacknowledged for %u ms",
				   c->p.keepalive_timeout_ms + 1000);
		else
			conn_close(c, CLOSE_PROTOCOL, "socket error: %s",
				   err ? strerror(err) : uv_strerror(status));
		return;
	}
	switch (c->state) {
	case CONN_CONNECTING:
		conn__connected(c);
		return;
	case CONN_PROXY:
		conn__proxy_answer(c);
		return;
	case CONN_TLS:
		conn__handshake(c);
		return;
	default:
		if (events & UV_WRITABLE)
			conn__flush(c);
		if (c->state != CONN_CLOSED && (events & UV_READABLE))
			conn__read(c);
	}
}
