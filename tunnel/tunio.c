#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "tunnel/stats.h"
#include "tunnel/tunio.h"

static void tunio__readable(uv_poll_t *h, int status, int events);

struct conn tunio_hold_marker;

/* tunio_release() queues what waits on a tunnel that just came up, with
 * an empty queue: all of it must fit. */
_Static_assert(2 * TUNIO_HOLD_BYTES <= CONN_TX_CAP - CONN_TX_CTRL_RESERVE,
	       "held packets fit a fresh tunnel's queue");

/* A held packet as read (with its virtio-net header on a vnet device). */
struct tunio_waiting {
	struct tunio_waiting *next;
	uint64_t at_ms;
	size_t len;
	uint8_t data[];
};

static void tunio__set_reading(struct tunio *t, bool on)
{
	if (t->reading == on || !t->started)
		return;
	t->reading = on;
	if (on)
		uv_poll_start(&t->poll, UV_READABLE, tunio__readable);
	else
		uv_poll_stop(&t->poll);
}

int tunio_start(struct tunio *t, uv_loop_t *loop, int fd, bool vnet, bool uso,
		tunio_route_fn route, void *owner)
{
	int err;

	t->fd = fd;
	t->vnet = vnet;
	t->uso = vnet && uso;
	t->route = route;
	t->owner = owner;
	t->held_for = NULL;
	t->guess = NULL;
	t->reading = false;
	t->wait = NULL;
	t->wait_tail = &t->wait;
	t->wait_n = t->wait_bytes = 0;
	err = uv_poll_init(loop, &t->poll, fd);
	if (err)
		return err;
	uv_timer_init(loop, &t->wait_timer);
	t->poll.data = t->wait_timer.data = t;
	t->started = true;
	tunio__set_reading(t, true);
	return 0;
}

/* Unlinks and returns the oldest held packet. */
static struct tunio_waiting *tunio__wait_pop(struct tunio *t)
{
	struct tunio_waiting *h = t->wait;

	t->wait = h->next;
	if (!t->wait)
		t->wait_tail = &t->wait;
	t->wait_n--;
	t->wait_bytes -= h->len;
	return h;
}

static void tunio__wait_push(struct tunio *t, struct tunio_waiting *h)
{
	h->next = NULL;
	*t->wait_tail = h;
	t->wait_tail = &h->next;
	t->wait_n++;
	t->wait_bytes += h->len;
}

/* Drops what has waited too long; the timer runs while anything waits,
 * due when the oldest packet expires. */
static void tunio__wait_expire(uv_timer_t *timer)
{
	struct tunio *t = timer->data;
	uint64_t now = uv_now(timer->loop);

	while (t->wait && now - t->wait->at_ms >= TUNIO_HOLD_MS) {
		free(tunio__wait_pop(t));
		stats_drop(DROP_no_tunnel);
	}
	if (t->wait)
		uv_timer_start(&t->wait_timer, tunio__wait_expire,
			       t->wait->at_ms + TUNIO_HOLD_MS - now, 0);
}

static void tunio__hold(struct tunio *t, const uint8_t *p, size_t n)
{
	struct tunio_waiting *h = NULL;

	if (t->wait_n < TUNIO_HOLD_PACKETS && t->wait_bytes + n <= TUNIO_HOLD_BYTES)
		h = malloc(sizeof(*h) + n);
	if (!h) {
		stats_drop(DROP_no_tunnel);
		return;
	}
	h->at_ms = uv_now(t->poll.loop);
	h->len = n;
	memcpy(h->data, p, n);
	tunio__wait_push(t, h);
	if (!uv_is_active((uv_handle_t *)&t->wait_timer))
		uv_timer_start(&t->wait_timer, tunio__wait_expire, TUNIO_HOLD_MS, 0);
}

const char *tunio_offload(const struct tunio *t)
{
	return !t->vnet ? "off" : t->uso ? "tso+uso" : "tso";
}

void tunio_stop(struct tunio *t)
{
	if (!t->started)
		return;
	t->started = false;
	while (t->wait) {
		free(tunio__wait_pop(t));
		stats_drop(DROP_no_tunnel);
	}
	uv_poll_stop(&t->poll);
	uv_close((uv_handle_t *)&t->poll, NULL);
	uv_close((uv_handle_t *)&t->wait_timer, NULL);
}

static int tunio__emit_data(void *arg, const uint8_t *p, size_t n)
{
	return conn_send_data(arg, p, n);
}

/* Does c's peer take the super-packet vh describes whole? */
static bool tunio__whole(const struct conn *c, const struct virtio_net_hdr *vh)
{
	uint32_t caps = conn_caps(c);

	return (caps & CAP_GSO) && (!gso_udp(vh) || (caps & CAP_USO));
}

/* Counts a packet that went whole: a super-packet, not one that only
 * left its checksum to do. */
static void tunio__count_whole(const struct virtio_net_hdr *vh)
{
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		stats_inc(STAT_gso_sent_whole, 1);
}

/* Queues the packet buf[0..n) (as read: t->buf or a held one) on c.
 * Returns 0, or -ENOBUFS if c cannot take all of it now (nothing is
 * queued then). */
static int tunio__queue(struct tunio *t, struct conn *c, uint8_t *buf, size_t n)
{
	const struct virtio_net_hdr *vh = (const void *)buf;
	uint8_t *pkt = buf + GSO_HDR_LEN;
	size_t len = n - GSO_HDR_LEN, segs;
	int err;

	if (!t->vnet)
		return conn_send_data(c, buf, n);
	if (gso_plain(vh))
		return conn_send_data(c, pkt, len);
	if (tunio__whole(c, vh)) {
		if (!(err = conn_send_frame(c, FRAME_DATA_GSO, buf, n)))
			tunio__count_whole(vh);
		return err;
	}
	/* The peer takes plain packets only: cut here, if the whole of it
	 * fits (each segment repeats the headers: the kernel's IP and
	 * extension headers up to csum_start, then at most a TCP header). */
	segs = vh->gso_size ? len / vh->gso_size + 1 : 1;
	if (!conn_tx_fits(c, len + segs * ((size_t)vh->csum_start + 60 + FRAME_HDR_LEN)))
		return -ENOBUFS;
	if (gso_segment(vh, pkt, len, t->seg, sizeof(t->seg), tunio__emit_data, c)) {
		stats_drop(DROP_bad_packet);
		return 0;
	}
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		stats_inc(STAT_gso_segmented_tx, 1);
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
		if (c == TUNIO_HOLD)
			tunio__hold(t, p, (size_t)n);
		if (!c || c == TUNIO_HOLD)
			continue;
		if (c != last && last)
			conn_flush(last);
		last = c;
		t->guess = c;
		if (direct && c == g) {
			struct virtio_net_hdr vh;	/* the queue has no alignment */

			memcpy(&vh, p, sizeof(vh));
			if (tunio__whole(c, &vh)) {
				conn_tx_commit(c, FRAME_DATA_GSO, (size_t)n);
				tunio__count_whole(&vh);
				continue;
			}
		}
		/* Guessed wrong, or a UDP super-packet for a peer without
		 * CAP_USO: the reservation is dropped. */
		if (direct)
			memcpy(t->buf, direct, (size_t)n);
		if (tunio__queue(t, c, t->buf, (size_t)n)) {
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
	if (tunio__queue(t, c, t->buf, t->held_len))
		return;
	t->held_for = NULL;
	conn_flush(c);
	tunio__set_reading(t, true);
}

void tunio_release(struct tunio *t)
{
	size_t off = t->vnet ? GSO_HDR_LEN : 0, n = t->wait_n;
	uint64_t now;

	if (!t->started || !n)
		return;
	now = uv_now(t->poll.loop);
	/* Each packet once, in order; one the hook holds again goes to the
	 * back, still with the time it was read. */
	while (n--) {
		struct tunio_waiting *h = tunio__wait_pop(t);
		struct conn *c = NULL;

		if (now - h->at_ms < TUNIO_HOLD_MS)
			c = t->route(t, h->data + off, h->len - off);
		else
			stats_drop(DROP_no_tunnel);
		if (c == TUNIO_HOLD) {
			tunio__wait_push(t, h);
			continue;
		}
		/* Room for all of it (see the assertion above), even cut
		 * into segments for a peer without CAP_GSO. */
		if (c && tunio__queue(t, c, h->data, h->len))
			stats_drop(DROP_no_tunnel);
		free(h);
	}
	if (!t->wait)
		uv_timer_stop(&t->wait_timer);
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

/* Lowers the MSS of a SYN that came through c (tunio.h, tunio_write). */
static void tunio__fit_mss(const struct conn *c, const struct virtio_net_hdr *vh,
			   uint8_t *pkt, const struct pkt_info *pi)
{
	bool ts;
	uint16_t mss = pkt_syn_mss(pkt, pi, &ts), max;

	/* With timestamps offered, a Linux peer uses them (and the sender
	 * its MSS less 12); without, the segments are the whole MSS. */
	if (mss && (max = conn_mss_max(c, mss, ts ? 12 : 0)) && max < mss) {
		pkt_set_mss(pkt, pi, vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM), max);
		stats_inc(STAT_tcp_mss_clamped, 1);
	}
}

int tunio_write(struct tunio *t, struct conn *c, const struct virtio_net_hdr *vh,
		uint8_t *pkt, const struct pkt_info *pi)
{
	size_t len = pi->len;
	struct iovec iov[2] = {
		{ .iov_base = (void *)vh, .iov_len = GSO_HDR_LEN },
		{ .iov_base = pkt, .iov_len = len },
	};

	if (vh && gso_check(vh, pi)) {
		stats_drop(DROP_bad_packet);
		return -EINVAL;
	}
	tunio__fit_mss(c, vh, pkt, pi);
	if (!vh || gso_plain(vh))
		return tunio__write_plain(t, pkt, len);
	if (!t->vnet || (gso_udp(vh) && !t->uso)) {
		/* A device without that offload: do the NIC's work here. */
		int err = gso_segment(vh, pkt, len, t->seg, sizeof(t->seg), tunio__write_plain, t);
		if (err == -EINVAL || err == -EOPNOTSUPP)
			stats_drop(DROP_bad_packet);
		else if (!err && vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			stats_inc(STAT_gso_segmented_rx, 1);
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
