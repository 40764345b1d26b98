/* The flow table (flow.h).
 *
 * Layout: one array of entries allocated up front. An entry in use is in
 * its hash bucket's chain (doubly linked through hnext/hpprev, so that it
 * unlinks in O(1)) and in the LRU list (newest .. oldest); an unused one
 * is on the free list. A new flow takes a free entry, or evicts the
 * oldest in the LRU list. Buckets are a power of two at least as many as
 * the entries, so chains average at most one entry. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "tunnel/flow.h"
#include "tunnel/pkt.h"

enum {
	FLOW__TCP_FIN = 0x01,
	FLOW__TCP_SYN = 0x02,
	FLOW__TCP_RST = 0x04,
	FLOW__TCP_ACK = 0x10,

	FLOW__ICMP_ECHOREPLY = 0,
	FLOW__ICMP_UNREACH = 3,		/* includes fragmentation needed (code 4) */
	FLOW__ICMP_ECHO = 8,
	FLOW__ICMP_TIMXCEED = 11,
	FLOW__ICMP_PARAMPROB = 12,
	FLOW__ICMP6_UNREACH = 1,
	FLOW__ICMP6_TOOBIG = 2,
	FLOW__ICMP6_TIMXCEED = 3,
	FLOW__ICMP6_PARAMPROB = 4,
	FLOW__ICMP6_ECHO = 128,
	FLOW__ICMP6_ECHOREPLY = 129,

	/* Bytes of an ICMP error's quote that are looked at: the quoted IP
	 * header with any IPv6 extension headers, then 8 transport bytes.
	 * A quote whose headers need more is refused as bad_packet. */
	FLOW__QUOTE_MAX = 512,

	/* e->fins: which sides have sent FIN */
	FLOW__FIN_OUT = 1,
	FLOW__FIN_IN = 2,
};

struct flow__key {
	uint8_t seed[16], shoot[16];	/* IPv4 in the first 4 bytes, zeros after */
	uint16_t seed_port, shoot_port;	/* echo: identifier, 0 */
	uint8_t family, proto;
	uint8_t pad[2];			/* zero: keys are hashed and compared as bytes */
};

_Static_assert(sizeof(struct flow__key) == 40, "flow__key is hashed as five 64-bit words");

struct flow__ent {
	struct flow__key key;
	struct flow__ent *hnext, **hpprev;	/* hpprev is NULL while the entry is free */
	struct flow__ent *newer, *older;	/* LRU list; the free list uses hnext */
	uint64_t created_ms, last_ms, expires_ms;
	uint64_t out_packets, out_bytes, in_packets, in_bytes;
	unsigned tunnel;
	uint8_t state;		/* enum flow_state */
	uint8_t fins;		/* FLOW__FIN_OUT | FLOW__FIN_IN */
};

struct flow_table {
	struct flow__ent *ents;
	size_t max;
	struct flow__ent **buckets;
	size_t mask;		/* buckets - 1 */
	struct flow__ent *free;
	/* Entries never used yet are ents[fresh..max): taken in order and
	 * only then touched, so an idle server does not pay the whole table
	 * in resident memory (calloc'd pages stay unmapped until written). */
	size_t fresh;
	struct flow__ent *newest, *oldest;
	size_t sweep;		/* where flow_expire() goes on */
	uint64_t key[2];	/* SipHash key */
	struct flow_counters ctr;
};

static const char *const flow__state_names[FLOW_STATE__MAX] = {
	[FLOW_TCP_SYN_SENT] = "syn_sent",
	[FLOW_TCP_ESTABLISHED] = "established",
	[FLOW_TCP_FIN_WAIT] = "fin_wait",
	[FLOW_TCP_CLOSING] = "closing",
	[FLOW_TCP_CLOSED] = "closed",
	[FLOW_UDP_UNREPLIED] = "unreplied",
	[FLOW_UDP_REPLIED] = "replied",
	[FLOW_ICMP_ECHO] = "echo",
};

static const uint16_t flow__timeouts[FLOW_STATE__MAX] = {
	[FLOW_TCP_SYN_SENT] = FLOW_TIMEOUT_TCP_SYN_SENT,
	[FLOW_TCP_ESTABLISHED] = FLOW_TIMEOUT_TCP_ESTABLISHED,
	[FLOW_TCP_FIN_WAIT] = FLOW_TIMEOUT_TCP_FIN_WAIT,
	[FLOW_TCP_CLOSING] = FLOW_TIMEOUT_TCP_CLOSING,
	[FLOW_TCP_CLOSED] = FLOW_TIMEOUT_TCP_CLOSED,
	[FLOW_UDP_UNREPLIED] = FLOW_TIMEOUT_UDP_UNREPLIED,
	[FLOW_UDP_REPLIED] = FLOW_TIMEOUT_UDP_REPLIED,
	[FLOW_ICMP_ECHO] = FLOW_TIMEOUT_ICMP,
};

const char *flow_state_name(enum flow_state s)
{
	return (unsigned)s < FLOW_STATE__MAX ? flow__state_names[s] : "?";
}

const char *flow_verdict_name(enum flow_verdict v)
{
	static const char *const names[FLOW_VERDICT__MAX] = {
		"pass",
#define X(n, h) #n,
		FLOW_DROPS(X)
#undef X
	};

	return (unsigned)v < FLOW_VERDICT__MAX ? names[v] : "?";
}

const struct flow_counters *flow_counters(const struct flow_table *t)
{
	return &t->ctr;
}

/* ---- hashing: SipHash-2-4 of the 40-byte key ---- */

#define FLOW__ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define FLOW__SIPROUND                                                         \
	do {                                                                   \
		v0 += v1; v1 = FLOW__ROTL(v1, 13); v1 ^= v0; v0 = FLOW__ROTL(v0, 32); \
		v2 += v3; v3 = FLOW__ROTL(v3, 16); v3 ^= v2;                   \
		v0 += v3; v3 = FLOW__ROTL(v3, 21); v3 ^= v0;                   \
		v2 += v1; v1 = FLOW__ROTL(v1, 17); v1 ^= v2; v2 = FLOW__ROTL(v2, 32); \
	} while (0)

static uint64_t flow__hash(const struct flow_table *t, const struct flow__key *k)
{
	uint64_t v0 = t->key[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = t->key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = t->key[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = t->key[1] ^ 0x7465646279746573ULL;
	const uint8_t *p = (const uint8_t *)k;
	uint64_t m;

	for (size_t i = 0; i < sizeof(*k); i += 8) {
		memcpy(&m, p + i, 8);
		v3 ^= m;
		FLOW__SIPROUND;
		FLOW__SIPROUND;
		v0 ^= m;
	}
	m = (uint64_t)sizeof(*k) << 56;
	v3 ^= m;
	FLOW__SIPROUND;
	FLOW__SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	FLOW__SIPROUND;
	FLOW__SIPROUND;
	FLOW__SIPROUND;
	FLOW__SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static size_t flow__bucket(const struct flow_table *t, const struct flow__key *k)
{
	return (size_t)(flow__hash(t, k) & t->mask);
}

/* ---- entries ---- */

static void flow__lru_unlink(struct flow_table *t, struct flow__ent *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void flow__lru_push(struct flow_table *t, struct flow__ent *e)
{
	e->newer = NULL;
	e->older = t->newest;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
}

/* Unlinks e from its bucket and the LRU list and frees it. */
static void flow__remove(struct flow_table *t, struct flow__ent *e)
{
	*e->hpprev = e->hnext;
	if (e->hnext)
		e->hnext->hpprev = e->hpprev;
	e->hpprev = NULL;
	flow__lru_unlink(t, e);
	e->hnext = t->free;
	t->free = e;
	t->ctr.tracked--;
}

static bool flow__expired(const struct flow__ent *e, uint64_t now_ms)
{
	return now_ms >= e->expires_ms;
}

/* The live entry for k, or NULL; an expired one met on the way is
 * removed. */
static struct flow__ent *flow__find(struct flow_table *t, const struct flow__key *k,
				    uint64_t now_ms)
{
	struct flow__ent *e;

	for (e = t->buckets[flow__bucket(t, k)]; e; e = e->hnext) {
		if (memcmp(&e->key, k, sizeof(*k)))
			continue;
		if (flow__expired(e, now_ms)) {
			flow__remove(t, e);
			t->ctr.expired++;
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A new entry for k, the newest in the LRU list; the oldest entry makes
 * room if the table is full. */
static struct flow__ent *flow__add(struct flow_table *t, const struct flow__key *k,
				   uint64_t now_ms)
{
	struct flow__ent *e, **b;

	if (!t->free && t->fresh < t->max) {
		e = &t->ents[t->fresh++];
	} else {
		if (!t->free) {
			flow__remove(t, t->oldest);
			t->ctr.evicted++;
		}
		e = t->free;
		t->free = e->hnext;
	}
	memset(e, 0, sizeof(*e));
	e->key = *k;
	b = &t->buckets[flow__bucket(t, k)];
	e->hnext = *b;
	if (*b)
		(*b)->hpprev = &e->hnext;
	*b = e;
	e->hpprev = b;
	flow__lru_push(t, e);
	e->created_ms = now_ms;
	t->ctr.tracked++;
	t->ctr.created++;
	return e;
}

/* Sets the state and restarts the idle timeout: e was just used. */
static void flow__refresh(struct flow_table *t, struct flow__ent *e, enum flow_state s,
			  uint64_t now_ms)
{
	e->state = (uint8_t)s;
	e->last_ms = now_ms;
	e->expires_ms = now_ms + (uint64_t)flow__timeouts[s] * 1000;
	flow__lru_unlink(t, e);
	flow__lru_push(t, e);
}

/* ---- packets ---- */

/* What the table needs of a packet beyond struct pkt_info. */
struct flow__pkt {
	struct pkt_info pi;
	const uint8_t *l4;	/* the transport header; NULL for a fragment after the first */
	size_t l4len;		/* bytes from l4 to the end of the IP packet */
};

/* pkt_parse(), and where the transport header starts (pkt_info's l4_off;
 * none for a fragment after the first). Returns 0 or -EINVAL. */
static int flow__parse(const uint8_t *p, size_t len, struct flow__pkt *fp)
{
	struct pkt_info *pi = &fp->pi;

	fp->l4 = NULL;
	fp->l4len = 0;
	if (pkt_parse(p, len, pi))
		return -EINVAL;
	if (pi->l4_off) {
		fp->l4 = p + pi->l4_off;
		fp->l4len = (size_t)pi->len - pi->l4_off;
	}
	return 0;
}

static bool flow__is_icmp(const struct pkt_info *pi)
{
	return pi->proto == (pi->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

static size_t flow__alen(const struct pkt_info *pi)
{
	return pi->family == AF_INET ? 4 : 16;
}

/* The key of a packet going from seed to shoot (outbound = true) or
 * coming back (outbound = false: addresses and ports swapped). */
static void flow__key_of(const struct flow__pkt *fp, bool outbound, struct flow__key *k)
{
	const struct pkt_info *pi = &fp->pi;

	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)pi->family;
	k->proto = pi->proto;
	memcpy(k->seed, outbound ? pi->src : pi->dst, flow__alen(pi));
	memcpy(k->shoot, outbound ? pi->dst : pi->src, flow__alen(pi));
	if (flow__is_icmp(pi)) {
		k->seed_port = pi->sport;	/* echo identifier */
	} else {
		k->seed_port = outbound ? pi->sport : pi->dport;
		k->shoot_port = outbound ? pi->dport : pi->sport;
	}
}

/* Minimal transport header lengths: a TCP header (20; flags are in
 * byte 13), a UDP header (8), an ICMP header with the echo identifier
 * (8). 0 for protocols the table does not track. */
static size_t flow__l4min(const struct pkt_info *pi)
{
	if (pi->proto == IPPROTO_TCP)
		return 20;
	if (pi->proto == IPPROTO_UDP || flow__is_icmp(pi))
		return 8;
	return 0;
}

/* ---- seed -> shoot ---- */

/* A TCP segment from the seed side moves its flow. */
static enum flow_state flow__tcp_out(struct flow__ent *e, uint8_t flags)
{
	enum flow_state s = e->state;

	if (flags & FLOW__TCP_RST)
		return FLOW_TCP_CLOSED;
	if ((flags & (FLOW__TCP_SYN | FLOW__TCP_ACK)) == FLOW__TCP_SYN) {
		/* a retransmission, or a new connection reusing the tuple */
		e->fins = 0;
		return FLOW_TCP_SYN_SENT;
	}
	if ((flags & (FLOW__TCP_SYN | FLOW__TCP_ACK)) == FLOW__TCP_ACK &&
	    (s == FLOW_TCP_SYN_SENT || s == FLOW_TCP_CLOSED)) {
		/* The seed side is using the connection: it got a SYN-ACK we
		 * did not see, or ignored an RST (stale or spoofed). */
		e->fins = 0;
		s = FLOW_TCP_ESTABLISHED;
	}
	if ((flags & FLOW__TCP_FIN) && s != FLOW_TCP_SYN_SENT && s != FLOW_TCP_CLOSED)
		e->fins |= FLOW__FIN_OUT;
	if (s == FLOW_TCP_ESTABLISHED || s == FLOW_TCP_FIN_WAIT)
		s = e->fins == (FLOW__FIN_OUT | FLOW__FIN_IN) ? FLOW_TCP_CLOSING
		  : e->fins ? FLOW_TCP_FIN_WAIT : s;
	return s;
}

int flow_pick(struct flow_table *t, const uint8_t *pkt, size_t len, uint64_t now_ms,
	      unsigned *tunnel_id, uint64_t *hash)
{
	struct flow__pkt fp;
	struct flow__key k;
	struct flow__ent *e;

	*hash = 0;
	if (flow__parse(pkt, len, &fp) || !fp.l4)
		return -EINVAL;
	flow__key_of(&fp, true, &k);
	*hash = flow__hash(t, &k);
	if (!(e = flow__find(t, &k, now_ms)))
		return -ENOENT;
	*tunnel_id = e->tunnel;
	return 0;
}

int flow_outbound(struct flow_table *t, const uint8_t *pkt, size_t len, uint64_t now_ms,
		  unsigned tunnel_id)
{
	struct flow__pkt fp;
	struct flow__key k;
	struct flow__ent *e;
	enum flow_state s;
	uint8_t flags = 0;

	if (flow__parse(pkt, len, &fp))
		return -EINVAL;
	if (!flow__l4min(&fp.pi))
		return -EPROTONOSUPPORT;
	if (!fp.l4)
		return -ENOENT;
	if (fp.l4len < flow__l4min(&fp.pi))
		return -EINVAL;
	if (fp.pi.proto == IPPROTO_TCP)
		flags = fp.l4[13];
	else if (flow__is_icmp(&fp.pi) &&
		 fp.l4[0] != (fp.pi.family == AF_INET ? FLOW__ICMP_ECHO : FLOW__ICMP6_ECHO))
		return -ENOENT;

	flow__key_of(&fp, true, &k);
	e = flow__find(t, &k, now_ms);
	if (!e) {
		if (fp.pi.proto == IPPROTO_TCP) {
			/* Only what the seed side starts or is using: a SYN,
			 * or a segment with ACK (picked up in mid-stream). */
			switch (flags & (FLOW__TCP_SYN | FLOW__TCP_ACK | FLOW__TCP_RST)) {
			case FLOW__TCP_SYN:
				s = FLOW_TCP_SYN_SENT;
				break;
			case FLOW__TCP_ACK:
				s = FLOW_TCP_ESTABLISHED;
				break;
			default:
				return -ENOENT;
			}
		} else {
			s = fp.pi.proto == IPPROTO_UDP ? FLOW_UDP_UNREPLIED : FLOW_ICMP_ECHO;
		}
		e = flow__add(t, &k, now_ms);
		e->state = (uint8_t)s;
	}
	s = fp.pi.proto == IPPROTO_TCP ? flow__tcp_out(e, flags) : (enum flow_state)e->state;
	e->tunnel = tunnel_id;
	e->out_packets++;
	e->out_bytes += fp.pi.len;
	flow__refresh(t, e, s, now_ms);
	return 0;
}

/* ---- shoot -> seed ---- */

/* A TCP segment from the shoot side on flow e: the verdict, and the new
 * state in *s. */
static enum flow_verdict flow__tcp_in(struct flow__ent *e, uint8_t flags, enum flow_state *s)
{
	*s = e->state;
	if (flags & FLOW__TCP_RST) {
		*s = FLOW_TCP_CLOSED;
		return FLOW_PASS;
	}
	if (flags & FLOW__TCP_SYN) {
		/* Always with ACK here: flow_inbound() dropped bare SYNs. A
		 * SYN-ACK answers our SYN; in ESTABLISHED it is a
		 * retransmission because the seed's ACK got lost, and only
		 * letting it through gets the seed to send that ACK again. */
		if (*s == FLOW_TCP_SYN_SENT)
			*s = FLOW_TCP_ESTABLISHED;
		else if (*s != FLOW_TCP_ESTABLISHED)
			return FLOW_DROP_bad_state;
		return FLOW_PASS;
	}
	if (*s == FLOW_TCP_SYN_SENT)
		return FLOW_DROP_bad_state;	/* anything but SYN-ACK or RST */
	if (*s == FLOW_TCP_CLOSED)
		return FLOW_PASS;		/* the seed's TCP decides; see flow__tcp_out() */
	if (flags & FLOW__TCP_FIN)
		e->fins |= FLOW__FIN_IN;
	if (e->fins)
		*s = e->fins == (FLOW__FIN_OUT | FLOW__FIN_IN) ? FLOW_TCP_CLOSING : FLOW_TCP_FIN_WAIT;
	return FLOW_PASS;
}

/* An ICMP error from the shoot side: passes if it goes to the seed-side
 * end of a tracked flow and quotes one of that flow's outbound packets.
 * *ep is the flow if one was found. */
static enum flow_verdict flow__icmp_error(struct flow_table *t, const struct flow__pkt *fp,
					  uint64_t now_ms, struct flow__ent **ep)
{
	uint8_t q[FLOW__QUOTE_MAX];
	size_t qlen = fp->l4len - 8;
	struct flow__pkt qp;
	struct flow__key k;

	/* The quote is cut short, so its length field claims more than is
	 * there: pkt_parse runs on a copy whose length field says how much
	 * was quoted. */
	if (qlen > sizeof(q))
		qlen = sizeof(q);
	/* ICMP quotes IPv4, ICMPv6 quotes IPv6. */
	if (fp->pi.family == AF_INET) {
		if (qlen < 20 || fp->l4[8] >> 4 != 4)
			return FLOW_DROP_bad_packet;
		memcpy(q, fp->l4 + 8, qlen);
		if ((size_t)(q[2] << 8 | q[3]) > qlen) {
			q[2] = (uint8_t)(qlen >> 8);
			q[3] = (uint8_t)qlen;
		}
	} else {
		if (qlen < 40 || fp->l4[8] >> 4 != 6)
			return FLOW_DROP_bad_packet;
		memcpy(q, fp->l4 + 8, qlen);
		if (40 + (size_t)(q[4] << 8 | q[5]) > qlen) {
			q[4] = (uint8_t)((qlen - 40) >> 8);
			q[5] = (uint8_t)(qlen - 40);
		}
	}
	if (flow__parse(q, qlen, &qp))
		return FLOW_DROP_bad_packet;
	if (!flow__l4min(&qp.pi))
		return FLOW_DROP_untracked;
	if (!qp.l4)
		return FLOW_DROP_fragment;
	/* RFC 792 and 4443 quote at least 8 transport bytes: the ports, or
	 * an ICMP header with the echo identifier. */
	if (qp.l4len < 8)
		return FLOW_DROP_bad_packet;
	/* An error about anything but an echo request (say, about another
	 * error) relates to nothing we track. */
	if (flow__is_icmp(&qp.pi) &&
	    qp.l4[0] != (qp.pi.family == AF_INET ? FLOW__ICMP_ECHO : FLOW__ICMP6_ECHO))
		return FLOW_DROP_no_flow;
	/* The error must go to whoever sent the quoted packet. */
	if (memcmp(qp.pi.src, fp->pi.dst, flow__alen(&fp->pi)))
		return FLOW_DROP_no_flow;
	flow__key_of(&qp, true, &k);
	*ep = flow__find(t, &k, now_ms);
	return *ep ? FLOW_PASS : FLOW_DROP_no_flow;
}

/* The verdict on an inbound ICMP message; *ep is its flow if one was
 * found, *refresh whether it counts as an answer that keeps the flow. */
static enum flow_verdict flow__icmp_in(struct flow_table *t, const struct flow__pkt *fp,
				       uint64_t now_ms, struct flow__ent **ep, bool *refresh)
{
	struct flow__key k;
	uint8_t type = fp->l4[0];

	*refresh = false;
	if (fp->pi.family == AF_INET) {
		switch (type) {
		case FLOW__ICMP_ECHOREPLY:
			break;
		case FLOW__ICMP_ECHO:
			return FLOW_DROP_no_flow;
		case FLOW__ICMP_UNREACH:
		case FLOW__ICMP_TIMXCEED:
		case FLOW__ICMP_PARAMPROB:
			return flow__icmp_error(t, fp, now_ms, ep);
		default:
			return FLOW_DROP_untracked;
		}
	} else {
		switch (type) {
		case FLOW__ICMP6_ECHOREPLY:
			break;
		case FLOW__ICMP6_ECHO:
			return FLOW_DROP_no_flow;
		case FLOW__ICMP6_UNREACH:
		case FLOW__ICMP6_TOOBIG:
		case FLOW__ICMP6_TIMXCEED:
		case FLOW__ICMP6_PARAMPROB:
			return flow__icmp_error(t, fp, now_ms, ep);
		default:
			return FLOW_DROP_untracked;
		}
	}
	flow__key_of(fp, false, &k);
	*ep = flow__find(t, &k, now_ms);
	*refresh = true;
	return *ep ? FLOW_PASS : FLOW_DROP_no_flow;
}

static enum flow_verdict flow__inbound(struct flow_table *t, const uint8_t *pkt, size_t len,
				       uint64_t now_ms, unsigned tunnel_id, unsigned *flow_tunnel)
{
	struct flow__pkt fp;
	struct flow__key k;
	struct flow__ent *e = NULL;
	enum flow_verdict v;
	enum flow_state s;
	bool refresh = true;
	uint8_t flags = 0;

	if (flow__parse(pkt, len, &fp))
		return FLOW_DROP_bad_packet;
	if (!flow__l4min(&fp.pi))
		return FLOW_DROP_untracked;
	if (!fp.l4)
		return FLOW_DROP_fragment;
	if (fp.l4len < flow__l4min(&fp.pi))
		return FLOW_DROP_bad_packet;

	if (flow__is_icmp(&fp.pi)) {
		v = flow__icmp_in(t, &fp, now_ms, &e, &refresh);
	} else {
		if (fp.pi.proto == IPPROTO_TCP) {
			flags = fp.l4[13];
			/* A SYN without ACK starts a connection: never an answer. */
			if ((flags & (FLOW__TCP_SYN | FLOW__TCP_ACK)) == FLOW__TCP_SYN)
				return FLOW_DROP_no_flow;
		}
		flow__key_of(&fp, false, &k);
		e = flow__find(t, &k, now_ms);
		v = e ? FLOW_PASS : FLOW_DROP_no_flow;
	}
	if (!e)
		return v;
	if (flow_tunnel)
		*flow_tunnel = e->tunnel;
	if (v != FLOW_PASS)
		return v;
	if (e->tunnel != tunnel_id)
		return FLOW_DROP_wrong_tunnel;

	s = e->state;
	if (fp.pi.proto == IPPROTO_TCP)
		v = flow__tcp_in(e, flags, &s);
	else if (fp.pi.proto == IPPROTO_UDP)
		s = FLOW_UDP_REPLIED;
	if (v != FLOW_PASS)
		return v;
	e->in_packets++;
	e->in_bytes += fp.pi.len;
	if (refresh)
		flow__refresh(t, e, s, now_ms);
	return FLOW_PASS;
}

enum flow_verdict flow_inbound(struct flow_table *t, const uint8_t *pkt, size_t len,
			       uint64_t now_ms, unsigned tunnel_id, unsigned *flow_tunnel)
{
	enum flow_verdict v = flow__inbound(t, pkt, len, now_ms, tunnel_id, flow_tunnel);

	t->ctr.inbound[v]++;
	return v;
}

/* ---- the table ---- */

size_t flow_expire(struct flow_table *t, uint64_t now_ms, size_t budget)
{
	size_t removed = 0;

	/* Only entries ever used can be in use. */
	if (budget > t->fresh)
		budget = t->fresh;
	while (budget--) {
		struct flow__ent *e;

		if (t->sweep >= t->fresh)
			t->sweep = 0;
		e = &t->ents[t->sweep++];
		if (e->hpprev && flow__expired(e, now_ms)) {
			flow__remove(t, e);
			t->ctr.expired++;
			removed++;
		}
	}
	return removed;
}

void flow_foreach(const struct flow_table *t, uint64_t now_ms,
		  void (*fn)(const struct flow_entry *e, void *arg), void *arg)
{
	for (const struct flow__ent *e = t->newest; e; e = e->older) {
		struct flow_entry v;

		if (flow__expired(e, now_ms))
			continue;
		memset(&v, 0, sizeof(v));
		v.family = e->key.family;
		v.proto = e->key.proto;
		v.state = e->state;
		memcpy(v.src, e->key.seed, sizeof(v.src));
		memcpy(v.dst, e->key.shoot, sizeof(v.dst));
		v.sport = e->key.seed_port;
		v.dport = e->key.shoot_port;
		v.tunnel = e->tunnel;
		/* A clock that went back reads as no time at all. */
		v.age_ms = now_ms > e->created_ms ? now_ms - e->created_ms : 0;
		v.idle_ms = now_ms > e->last_ms ? now_ms - e->last_ms : 0;
		v.expires_ms = e->expires_ms - now_ms;
		v.out_packets = e->out_packets;
		v.out_bytes = e->out_bytes;
		v.in_packets = e->in_packets;
		v.in_bytes = e->in_bytes;
		fn(&v, arg);
	}
}

int flow_table_new(size_t max_entries, struct flow_table **out)
{
	struct flow_table *t;
	size_t nb = 1;
	ssize_t n;
	int ret;

	*out = NULL;
	if (max_entries < 1 || max_entries > FLOW_MAX_ENTRIES)
		return -EINVAL;
	while (nb < max_entries)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->max = max_entries;
	t->mask = nb - 1;
	t->ents = calloc(max_entries, sizeof(*t->ents));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->ents || !t->buckets) {
		ret = -ENOMEM;
		goto err;
	}
	do
		n = getrandom(t->key, sizeof(t->key), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(t->key)) {
		ret = n < 0 ? -errno : -EIO;
		goto err;
	}
	*out = t;
	return 0;

err:
	flow_table_free(t);
	return ret;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->ents);
	free(t->buckets);
	free(t);
}
