/* The TUN side of the packet path, shared by both daemons.
 *
 * Reading: when the TUN fd is readable, up to TUNIO_BATCH packets are
 * read, each handed to the owner's route hook, which names the tunnel
 * (or drops the packet, counting why). Packets are queued on their
 * tunnel and each tunnel is flushed once per batch, so a burst shares TLS
 * records. If a tunnel's queue is full, the packet is held and reading
 * pauses until that tunnel drains (tunio_resume): back-pressure reaches
 * the kernel's TUN queue instead of dropping in user space.
 *
 * Offloads: with a vnet device (TUN_OFFLOAD) every read starts with a
 * virtio-net header, and a TCP segment may be up to 64 KB. It crosses the
 * tunnel whole (FRAME_DATA_GSO) to a peer that has CAP_GSO; for one that
 * has not, it is segmented and checksummed here (tunnel/gso.h).
 *
 * Writing: tunio_write() writes one packet (with its header on a vnet
 * device); the TUN device does not block, a refused packet is counted and
 * dropped. */
#ifndef TUNNEL_TUNIO_H
#define TUNNEL_TUNIO_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tunnel/conn.h"
#include "tunnel/gso.h"
#include "tunnel/proto.h"

enum { TUNIO_BATCH = 64 };

struct tunio;
/* Picks the tunnel for pkt (the packet after any virtio-net header). */
typedef struct conn *(*tunio_route_fn)(struct tunio *t, const uint8_t *pkt, size_t len);

struct tunio {
	uv_poll_t poll;
	int fd;
	bool vnet;		/* the device has offloads: headers on every packet */
	bool reading;
	tunio_route_fn route;
	void *owner;
	struct conn *held_for;	/* paused: the packet in buf waits for it */
	struct conn *guess;	/* the tunnel of the previous packet: the next
				 * is read straight into its send queue */
	size_t held_len;
	uint8_t buf[GSO_HDR_LEN + FRAME_MAX_PAYLOAD];
	uint8_t seg[FRAME_MAX_PAYLOAD];	/* one segment cut in user space */
};

int tunio_start(struct tunio *t, uv_loop_t *loop, int fd, bool vnet,
		tunio_route_fn route, void *owner);
/* Close the poll handle (the fd stays with its owner). */
void tunio_stop(struct tunio *t);
/* c drained: if a packet waits for it, queue it and read again. */
void tunio_resume(struct tunio *t, struct conn *c);
/* c is going away: drop a packet held for it and read again; forget it
 * as the guess for the next packet. */
void tunio_forget(struct tunio *t, struct conn *c);
/* Writes one packet; vh is its virtio-net header or NULL for a plain one.
 * Returns 0 or -errno (counted). */
int tunio_write(struct tunio *t, const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len);

#endif
