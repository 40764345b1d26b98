/* The tendril wire protocol: what travels inside the TLS 1.3 stream.
 * docs/protocol.md is the prose version of this header; keep them equal.
 *
 * The stream is a sequence of frames:
 *
 *	+--------+--------+--------+--------+----------------------+
 *	|  type  |     length (24 bits, big endian)   | payload ...  |
 *	+--------+--------+--------+--------+----------------------+
 *
 * A 4-byte header keeps an IPv4/IPv6 header 4-byte aligned in a buffer
 * that is, and 24 bits of length carry a whole offloaded 64 KB segment
 * plus its virtio header, which 16 bits could not.
 */
#ifndef TUNNEL_PROTO_H
#define TUNNEL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "tunnel/cidr.h"

#define PROTO_ALPN "tendril/1"	/* ALPN protocol id: name and version */

enum {
	PROTO_VERSION = 1,
	FRAME_HDR_LEN = 4,
	/* Largest payload a peer may send: a 64 KB GSO segment and a
	 * 12-byte virtio-net header, rounded up. Anything longer is a
	 * protocol error that closes the tunnel. */
	FRAME_MAX_PAYLOAD = 65536 + 64,
	/* Smallest IP packet we forward (an IPv4 header). */
	FRAME_MIN_DATA = 20,
	HELLO_NAME_MAX = 64,
	HELLO_ROUTES_MAX = 64,	/* = CIDR_LIST_MAX: all of --shoot-networks */
	CLOSE_REASON_MAX = 200,
};

enum frame_type {
	FRAME_HELLO = 1,	/* agent -> server, first frame */
	FRAME_WELCOME = 2,	/* server -> agent, answer to HELLO */
	FRAME_DATA = 3,		/* one IPv4 or IPv6 packet */
	FRAME_PING = 4,		/* 8-byte opaque timestamp */
	FRAME_PONG = 5,		/* the PING payload echoed */
	FRAME_CLOSE = 6,	/* u16 code, then a UTF-8 reason */
	/* A virtio-net header (GSO_HDR_LEN bytes) and the packet it describes:
	 * a TCP segment of up to 64 KB, a UDP super-packet (CAP_USO) or a
	 * packet with its checksum left to do. Sent only to a peer that
	 * announced CAP_GSO. */
	FRAME_DATA_GSO = 7,
	FRAME__LAST = FRAME_DATA_GSO,
};

/* Capability bits in HELLO and WELCOME; the session uses the AND. */
enum proto_caps {
	CAP_IPV4 = 1U << 0,
	CAP_IPV6 = 1U << 1,
	/* Takes FRAME_DATA_GSO: its TUN device has offloads on, so the
	 * kernel segments and checksums what the peer sends whole. */
	CAP_GSO = 1U << 2,
	/* After HELLO and WELCOME, the frames travel in sealed records
	 * (tunnel/seal.h) keyed from the TLS exporter, not in TLS records.
	 * Not offered by a side whose kernel does the TLS (--ktls on). */
	CAP_SEAL = 1U << 3,
	/* With CAP_GSO: its TUN device takes UDP super-packets too (USO,
	 * Linux 6.2), so DATA_GSO may carry one (VIRTIO_NET_HDR_GSO_UDP_L4):
	 * up to 64 KB of datagrams of one size that a sender wrote at once
	 * with UDP_SEGMENT. */
	CAP_USO = 1U << 4,
	CAP_ALL = CAP_IPV4 | CAP_IPV6 | CAP_GSO | CAP_SEAL | CAP_USO,
};

enum close_code {
	CLOSE_SHUTDOWN = 1,	/* the peer is stopping */
	CLOSE_PROTOCOL = 2,	/* malformed or unexpected frame */
	CLOSE_VERSION = 3,	/* no common protocol version */
	CLOSE_TIMEOUT = 4,	/* keepalive timeout */
	CLOSE_NO_ADDRESS = 5,	/* the transfer network is exhausted */
	CLOSE_REPLACED = 6,	/* the same identity connected again */
};

struct frame {
	uint8_t type;
	uint32_t len;
	const uint8_t *payload;
};

/* Decodes one frame at the start of buf. Returns the bytes it takes (> 0),
 * 0 if buf holds only part of it, -EMSGSIZE if the length exceeds
 * FRAME_MAX_PAYLOAD, -EPROTO for an unknown type. The payload points
 * into buf. */
int frame_decode(const uint8_t *buf, size_t len, struct frame *f);
/* Writes a frame header; dst must hold FRAME_HDR_LEN bytes. */
void frame_put_hdr(uint8_t *dst, uint8_t type, uint32_t len);

/* HELLO and WELCOME payloads: a fixed part, then TLVs (u16 type, u16
 * length, value; unknown types are skipped so that later versions can
 * add fields).
 *
 *	HELLO:   u16 version_min, u16 version_max, u32 caps, TLVs
 *	WELCOME: u16 version, u32 caps, TLVs
 */
enum hello_tlv {
	TLV_MTU = 1,		/* u16: the sender's TUN MTU */
	TLV_NAME = 2,		/* the sender's host/pod name, informational */
	TLV_ADDR6 = 3,		/* 16-byte address + u8 prefix (WELCOME) */
	TLV_KEEPALIVE = 4,	/* u32 ms: the server's keepalive interval */
	/* u8 prefix length, then 4 (IPv4) or 16 (IPv6) address bytes: one
	 * of the shoot networks the server routes into the tunnel (WELCOME,
	 * repeated). The agent forwards only into these and refuses packets
	 * that claim to come from them. */
	TLV_ROUTE = 5,
};

struct hello {
	uint16_t version_min, version_max;	/* WELCOME: both = chosen */
	uint32_t caps;
	uint16_t mtu;				/* 0 = not sent */
	char name[HELLO_NAME_MAX + 1];
	bool has_addr;
	struct in6_addr addr;
	uint8_t prefix;
	uint32_t keepalive_ms;			/* 0 = not sent */
	struct cidr_list routes;		/* TLV_ROUTE entries */
};

/* Encode into buf (cap bytes); return the payload length or -ENOSPC. */
int hello_encode(const struct hello *h, uint8_t *buf, size_t cap);
int welcome_encode(const struct hello *h, uint8_t *buf, size_t cap);
/* Decode; -EBADMSG for a truncated fixed part or TLV, or a TLV of the
 * wrong size. */
int hello_decode(const uint8_t *p, size_t len, struct hello *h);
int welcome_decode(const uint8_t *p, size_t len, struct hello *h);

/* The version both speak, or -1: the highest of ours within [min, max]. */
int proto_pick_version(uint16_t min, uint16_t max);

/* CLOSE: u16 code, reason bytes (not NUL-terminated on the wire). */
int close_encode(uint16_t code, const char *reason, uint8_t *buf, size_t cap);
int close_decode(const uint8_t *p, size_t len, uint16_t *code,
		 char *reason, size_t reasonlen);

const char *frame_type_name(uint8_t type);
const char *close_code_name(uint16_t code);

#endif
