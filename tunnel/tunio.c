#include <errno.h>
#include <unistd.h>

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

int tunio_start(struct tunio *t, uv_loop_t *loop, int fd, tunio_route_fn route,
		void *owner)
{
	int err;

	t->fd = fd;
	t->route = route;
	t->owner = owner;
	t->held_for = NULL;
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

static void tunio__readable(uv_poll_t *h, int status, int events)
{
	struct tunio *t = h->data;
	struct conn *last = NULL;

	for (int i = 0; i < TUNIO_BATCH; i++) {
		ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
		struct conn *c;

		if (n <= 0)
			break;
		stats_inc(STAT_tun_rx_packets, 1);
		stats_inc(STAT_tun_rx_bytes, (uint64_t)n);
		c = t->route(t, t->buf, (size_t)n);
		if (!c)
			continue;
		if (c != last && last)
			conn_flush(last);
		last = c;
		if (conn_send_data(c, t->buf, (size_t)n)) {
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
	if (conn_send_data(c, t->buf, t->held_len))
		return;
	t->held_for = NULL;
	conn_flush(c);
	tunio__set_reading(t, true);
}

void tunio_forget(struct tunio *t, struct conn *c)
{
	if (t->held_for != c)
		return;
	t->held_for = NULL;
	stats_drop(DROP_no_tunnel);
	tunio__set_reading(t, true);
}

int tunio_write(struct tunio *t, const uint8_t *pkt, size_t len)
{
	ssize_t n = write(t->fd, pkt, len);

	if (n < 0) {
		stats_drop(DROP_tun_write_error);
		return -errno;
	}
	stats_inc(STAT_tun_tx_packets, 1);
	stats_inc(STAT_tun_tx_bytes, (uint64_t)len);
	return 0;
}
