#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "tunnel/stats.h"
#include "tunnel/tunio.h"

static void tunio__readable(uv_poll_t *h, int status, int events);

static void tunio__set_reading(struct tunio *t, bool on)
{
	if (t->reading == on)
		return;
	t->reading = on;
	if (on)
		uv_poll_start(&t->poll, UV_READABLE, tunio__readable);
	else
		uv_poll_stop(&t->poll);
}

int tunio_start(struct tunio *t, uv_loop_t *loop, int fd, bool vnet,
		tunio_route_fn route, void *owner)
{
	int err;

	t->fd = fd;
	t->vnet = vnet;
	t->route = route;
	t->owner = owner;
	t->held_for = NULL;
	t->guess = NULL;
	t->reading = false;
	err = uv_poll_init(loop, &t->poll, fd);
	if (err)
		return err;
	t->poll.data = t;
	tunio__set_reading(t, true);
	return 0;
}

void tunio_stop(struct tunio *t)
{
	uv_poll_stop(&t->poll);
	uv_close((uv_handle_t *)&t->poll, NULL);
}

static int tunio__emit_data(void *arg, const uint8_t *p, size_t n)
{
	return conn_send_data(arg, p, n);
}

/* Queues what t->buf[0..n) holds on c. Returns 0, or -ENOBUFS if c cannot
 * take all of it now (nothing is queued then). */
static int tunio__queue(struct tunio *t, struct conn *c, size_t n)
{
	const struct virtio_net_hdr *vh = (const void *)t->buf;
	uint8_t *pkt = t->buf + GSO_HDR_LEN;
	size_t len = n - GSO_HDR_LEN, segs;

	if (!t->vnet)
		return conn_send_data(c, t->buf, n);
	if (gso_plain(vh))
		return conn_send_data(c, pkt, len);
	if (conn_caps(c) & CAP_GSO)
		return conn_send_frame(c, FRAME_DATA_GSO, t->buf, n);
	/* The peer takes plain packets only: cut here, if the whole of it
	 * fits (each segment repeats the headers, at most 120 bytes). */
	segs = vh->gso_size ? len / vh->gso_size + 1 : 1;
	if (!conn_tx_fits(c, len + segs * (120 + FRAME_HDR_LEN)))
		return -ENOBUFS;
	if (gso_segment(vh, pkt, len, t->seg, sizeof(t->seg), tunio__emit_data, c)) {
		stats_drop(DROP_bad_packet);
		return 0;
	}
	return 0;
}

/* Where the next packet is read to: straight into the send queue of the
 * tunnel the previous packet took, as the payload of a DATA_GSO frame (the
 * virtio-net header the TUN device puts first is that frame's header), so a
 * 64 KB segment is not copied before TLS encrypts it. NULL: read into
 * t->buf (no offloads, a peer without CAP_GSO, no room, no guess). */
static uint8_t *tunio__direct(struct tunio *t)
{
	struct conn *g = t->guess;

	if (!t->vnet || !g || g->state != CONN_UP || !(conn_caps(g) & CAP_GSO))
		return NULL;
	return conn_tx_reserve(g, FRAME_MAX_PAYLOAD);
}

static void tunio__readable(uv_poll_t *h, int status, int events)
{
	struct tunio *t = h->data;
	struct conn *last = NULL;
	size_t off = t->vnet ? GSO_HDR_LEN : 0;

	for (int i = 0; i < TUNIO_BATCH; i++) {
		struct conn *g = t->guess;
		uint8_t *direct = tunio__direct(t), *p = direct ? direct : t->buf;
		ssize_t n = read(t->fd, p, direct ? FRAME_MAX_PAYLOAD :
					   t->vnet ? sizeof(t->buf) : FRAME_MAX_PAYLOAD);
		struct conn *c;

		if (n <= (ssize_t)off)
			break;
		stats_inc(STAT_tun_rx_packets, 1);
		stats_inc(STAT_tun_rx_bytes, (uint64_t)n - off);
		c = t->route(t, p + off, (size_t)n - off);
		if (!c)
			continue;
		if (c != last && last)
			conn_flush(last);
		last = c;
		t->guess = c;
		if (direct && c == g) {
			conn_tx_commit(c, FRAME_DATA_GSO, (size_t)n);
			continue;
		}
		if (direct)	/* guessed wrong: the reservation is dropped */
			memcpy(t->buf, direct, (size_t)n);
		if (tunio__queue(t, c, (size_t)n)) {
			t->held_for = c;
			t->held_len = (size_t)n;
			tunio__set_reading(t, false);
			break;
		}
	}
	if (last)
		conn_flush(last);
}

void tunio_resume(struct tunio *t, struct conn *c)
{
	if (t->held_for != c)
		return;
	if (tunio__queue(t, c, t->held_len))
		return;
	t->held_for = NULL;
	conn_flush(c);
	tunio__set_reading(t, true);
}

void tunio_forget(struct tunio *t, struct conn *c)
{
	if (t->guess == c)
		t->guess = NULL;
	if (t->held_for != c)
		return;
	t->held_for = NULL;
	stats_drop(DROP_no_tunnel);
	tunio__set_reading(t, true);
}

static int tunio__write_plain(void *arg, const uint8_t *pkt, size_t len)
{
	struct tunio *t = arg;
	static const struct virtio_net_hdr none;
	struct iovec iov[2] = {
		{ .iov_base = (void *)&none, .iov_len = GSO_HDR_LEN },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};
	ssize_t n = t->vnet ? writev(t->fd, iov, 2) : write(t->fd, pkt, len);

	if (n < 0) {
		stats_drop(DROP_tun_write_error);
		return -errno;
	}
	stats_inc(STAT_tun_tx_packets, 1);
	stats_inc(STAT_tun_tx_bytes, (uint64_t)len);
	return 0;
}

int tunio_write(struct tunio *t, const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)vh, .iov_len = GSO_HDR_LEN },
		{ .iov_base = pkt, .iov_len = len },
	};

	if (!vh || gso_plain(vh))
		return tunio__write_plain(t, pkt, len);
	if (!t->vnet) {
		/* A device without offloads: do the NIC's work here. */
		int err = gso_segment(vh, pkt, len, t->seg, sizeof(t->seg), tunio__write_plain, t);
		if (err == -EINVAL || err == -EOPNOTSUPP)
			stats_drop(DROP_bad_packet);
		return err;
	}
	/* The kernel checks the header and segments or checksums as the
	 * packet's route requires. */
	if (writev(t->fd, iov, 2) < 0) {
		stats_drop(DROP_tun_write_error);
		return -errno;
	}
	stats_inc(STAT_tun_tx_packets, 1);
	stats_inc(STAT_tun_tx_bytes, (uint64_t)len);
	return 0;
}
