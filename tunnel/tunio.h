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
 * virtio-net header, and a TCP segment may be up to 64 KB; with USO too
 * (TUN_USO) a UDP super-packet as well. Either crosses the tunnel whole
 * (FRAME_DATA_GSO) to a peer that takes it (CAP_GSO, and CAP_USO for
 * UDP); for one that does not, it is segmented and checksummed here
 * (tunnel/gso.h), as is one that comes whole from a peer for a device
 * that lacks that offload.
 *
 * Holding: a route hook may answer TUNIO_HOLD for a packet no tunnel can
 * take yet but one soon may (the server while no agent is up: one may be
 * starting or reconnecting). Such packets are copied aside, at most
 * TUNIO_HOLD_PACKETS / TUNIO_HOLD_BYTES of them, and routed again by
 * tunio_release() when a tunnel comes up; those older than TUNIO_HOLD_MS
 * are dropped (DROP_no_tunnel). So the first packets of a connection made
 * while the agent is on its way arrive when it is up, instead of being
 * lost and sent again after TCP's one-second SYN timeout.
 *
 * Writing: tunio_write() writes one packet (with its header on a vnet
 * device); the TUN device does not block, a refused packet is counted and
 * dropped. The MSS of SYNs written is fitted to the tunnel's records. */
#ifndef TUNNEL_TUNIO_H
#define TUNNEL_TUNIO_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tunnel/conn.h"
#include "tunnel/gso.h"
#include "tunnel/pkt.h"
#include "tunnel/proto.h"

enum {
	TUNIO_BATCH = 64,
	/* Held packets are worth sending only while their sender still
	 * waits: TCP sends a lost SYN again after one second. */
	TUNIO_HOLD_MS = 1000,
	/* Enough for the first packets of many connections, small enough
	 * to cost nothing when there is no tunnel for a long time. */
	TUNIO_HOLD_PACKETS = 64,
	TUNIO_HOLD_BYTES = 128 * 1024,
};

/* What a route hook returns for a packet to hold (a marker, never a
 * tunnel). */
extern struct conn tunio_hold_marker;
#define TUNIO_HOLD (&tunio_hold_marker)

struct tunio;
struct tunio_waiting;
/* Picks the tunnel for pkt (the packet after any virtio-net header):
 * a conn, NULL (dropped, counted by the hook) or TUNIO_HOLD. */
typedef struct conn *(*tunio_route_fn)(struct tunio *t, const uint8_t *pkt, size_t len);

struct tunio {
	uv_poll_t poll;
	int fd;
	bool vnet;		/* the device has offloads: headers on every packet */
	bool uso;		/* ... and takes UDP super-packets (TUN_USO) */
	bool reading;
	bool started;
	tunio_route_fn route;
	void *owner;
	struct conn *held_for;	/* paused: the packet in buf waits for it */
	struct conn *guess;	/* the tunnel of the previous packet: the next
				 * is read straight into its send queue */
	size_t held_len;
	/* Packets waiting for a tunnel (TUNIO_HOLD), oldest first. */
	struct tunio_waiting *wait, **wait_tail;
	size_t wait_n, wait_bytes;
	uv_timer_t wait_timer;
	/* Aligned for the virtio-net and IP headers read into it. */
	_Alignas(8) uint8_t buf[GSO_HDR_LEN + FRAME_MAX_PAYLOAD];
	uint8_t seg[FRAME_MAX_PAYLOAD];	/* one segment cut in user space */
};

int tunio_start(struct tunio *t, uv_loop_t *loop, int fd, bool vnet, bool uso,
		tunio_route_fn route, void *owner);
/* What the TUN device takes and gives whole, for `show info`: "tso+uso",
 * "tso" (a kernel before 6.2: UDP comes MTU-sized) or "off". */
const char *tunio_offload(const struct tunio *t);
/* Closes the handles and drops held packets (the fd stays with its
 * owner); nothing if tunio_start() did not succeed. */
void tunio_stop(struct tunio *t);
/* A tunnel came up: routes the held packets again. The tunnels they are
 * queued on are not flushed here: the caller's tunnel (coming up) flushes
 * itself, any other at its next write. */
void tunio_release(struct tunio *t);
/* c drained: if a packet waits for it, queue it and read again. */
void tunio_resume(struct tunio *t, struct conn *c);
/* c is going away: drop a packet held for it and read again; forget it
 * as the guess for the next packet. */
void tunio_forget(struct tunio *t, struct conn *c);
/* Writes one packet that came through c, parsed into pi; vh is its
 * virtio-net header or NULL for a plain one. Returns 0 or -errno
 * (counted).
 *
 * A SYN's MSS is lowered first to what makes each 64 KB segment the local
 * side answers with no longer than one of c's sealed records
 * (conn_mss_max(), tcp_mss_clamped): those segments come back through c,
 * cut into records as they are queued, and n segments a few dozen bytes
 * too long each would take n records and n short ones (n more write()s
 * and transport packets) instead of about n. */
int tunio_write(struct tunio *t, struct conn *c, const struct virtio_net_hdr *vh,
		uint8_t *pkt, const struct pkt_info *pi);

#endif
