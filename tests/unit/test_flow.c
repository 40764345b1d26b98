/* tunnel/flow: the stateful filter of vpn-server, on hand-built packets.
 *
 * Outbound packets go from the seed side (10.1.0.5 or fd00:5eed::5, port
 * 40000) to the shoot side (100.64.0.10 or fd00:5400::a, port 443 for
 * TCP, 53 for UDP; echo identifier 0x4242); inbound packets come back.
 * Most scenarios are scripts of steps, each run once per address family.
 * Time is passed in, so expiry is tested without sleeping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "tunnel/flow.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

enum kind { TCP, UDP, PING, PONG, GRE };

enum { GONE = -1 };	/* "state" of a flow that has no entry */

enum { SEED_PORT = 40000, TCP_PORT = 443, UDP_PORT = 53, ECHO_ID = 0x4242 };

struct family {
	int af;
	const char *name, *seed, *shoot, *router, *other_seed;
};

static const struct family fams[] = {
	{ AF_INET, "IPv4", "10.1.0.5", "100.64.0.10", "100.64.0.1", "10.1.0.99" },
	{ AF_INET6, "IPv6", "fd00:5eed::5", "fd00:5400::a", "fd00:5400::1", "fd00:5eed::99" },
};

struct pk {
	uint8_t b[640];
	size_t len;
};

/* ---- packet builders ---- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IP header from src to dst with protocol (or first next header)
 * proto, followed by l4len bytes of l4. */
static struct pk ip(int af, const char *src, const char *dst, uint8_t proto,
		    const uint8_t *l4, size_t l4len)
{
	struct pk k;
	size_t hl = af == AF_INET ? 20 : 40;

	memset(&k, 0, sizeof(k));
	assert_true(hl + l4len <= sizeof(k.b));
	if (af == AF_INET) {
		k.b[0] = 0x45;
		put16(k.b + 2, (unsigned)(hl + l4len));
		k.b[8] = 64;
		k.b[9] = proto;
		assert_int_equal(inet_pton(AF_INET, src, k.b + 12), 1);
		assert_int_equal(inet_pton(AF_INET, dst, k.b + 16), 1);
	} else {
		k.b[0] = 0x60;
		put16(k.b + 4, (unsigned)l4len);
		k.b[6] = proto;
		k.b[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, src, k.b + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, k.b + 24), 1);
	}
	memcpy(k.b + hl, l4, l4len);
	k.len = hl + l4len;
	return k;
}

static size_t tcp(uint8_t *l4, unsigned sport, unsigned dport, uint8_t flags)
{
	memset(l4, 0, 20);
	put16(l4, sport);
	put16(l4 + 2, dport);
	l4[12] = 0x50;
	l4[13] = flags;
	return 20;
}

static size_t udp(uint8_t *l4, unsigned sport, unsigned dport)
{
	memset(l4, 0, 12);
	put16(l4, sport);
	put16(l4 + 2, dport);
	put16(l4 + 4, 12);
	memcpy(l4 + 8, "ping", 4);
	return 12;
}

static size_t icmp(uint8_t *l4, uint8_t type, uint8_t code, unsigned id)
{
	memset(l4, 0, 8);
	l4[0] = type;
	l4[1] = code;
	put16(l4 + 4, id);
	put16(l4 + 6, 1);	/* sequence */
	return 8;
}

static uint8_t icmp_proto(int af)
{
	return af == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

/* A packet of the default flow with the given ports, outbound ('o':
 * seed -> shoot) or inbound ('i': shoot -> seed). For TCP, arg is the
 * flags. */
static struct pk flowpkt_ports(const struct family *f, char dir, enum kind kind, uint8_t arg,
			       unsigned seed_port, unsigned shoot_port)
{
	bool out = dir == 'o';
	const char *src = out ? f->seed : f->shoot, *dst = out ? f->shoot : f->seed;
	unsigned sp = out ? seed_port : shoot_port, dp = out ? shoot_port : seed_port;
	uint8_t l4[20];

	switch (kind) {
	case TCP:
		return ip(f->af, src, dst, IPPROTO_TCP, l4, tcp(l4, sp, dp, arg));
	case UDP:
		return ip(f->af, src, dst, IPPROTO_UDP, l4, udp(l4, sp, dp));
	case PING:
		return ip(f->af, src, dst, icmp_proto(f->af), l4,
			  icmp(l4, f->af == AF_INET ? 8 : 128, 0, seed_port));
	case PONG:
		return ip(f->af, src, dst, icmp_proto(f->af), l4,
			  icmp(l4, f->af == AF_INET ? 0 : 129, 0, seed_port));
	case GRE:
	default:
		memset(l4, 0, 4);
		return ip(f->af, src, dst, 47, l4, 4);
	}
}

static struct pk flowpkt(const struct family *f, char dir, enum kind kind, uint8_t arg)
{
	if (kind == PING || kind == PONG)
		return flowpkt_ports(f, dir, kind, arg, ECHO_ID, 0);
	return flowpkt_ports(f, dir, kind, arg, SEED_PORT, kind == TCP ? TCP_PORT : UDP_PORT);
}

/* An ICMP error from a shoot-side router to dst, quoting the first
 * qlen bytes of q (all of it if qlen is 0). */
static struct pk icmp_error(const struct family *f, const char *dst, uint8_t type,
			    uint8_t code, const struct pk *q, size_t qlen)
{
	uint8_t l4[600];

	if (!qlen || qlen > q->len)
		qlen = q->len;
	icmp(l4, type, code, 0);
	put16(l4 + 6, 1280);	/* next-hop MTU / unused */
	memcpy(l4 + 8, q->b, qlen);
	return ip(f->af, f->router, dst, icmp_proto(f->af), l4, 8 + qlen);
}

/* ---- looking at the table ---- */

struct seen {
	size_t n;
	struct flow_entry e[8];
};

static void collect(const struct flow_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < N(s->e))
		s->e[s->n] = *e;
	s->n++;
}

static struct seen listing(struct flow_table *t, uint64_t now_ms)
{
	struct seen s = { 0 };

	flow_foreach(t, now_ms, collect, &s);
	return s;
}

/* The state of the only flow in t, or GONE. */
static int only_state(struct flow_table *t, uint64_t now_ms)
{
	struct seen s = listing(t, now_ms);

	if (s.n > 1)
		fail_msg("%zu flows, want at most one", s.n);
	return s.n ? (int)s.e[0].state : GONE;
}

static const char *state_str(int s)
{
	return s == GONE ? "(none)" : flow_state_name((enum flow_state)s);
}

static struct flow_table *table(size_t max)
{
	struct flow_table *t;

	assert_int_equal(flow_table_new(max, &t), 0);
	assert_non_null(t);
	return t;
}

static int out(struct flow_table *t, const struct pk *p, uint64_t now_ms, unsigned tunnel)
{
	return flow_outbound(t, p->b, p->len, now_ms, tunnel);
}

static enum flow_verdict in(struct flow_table *t, const struct pk *p, uint64_t now_ms,
			    unsigned tunnel)
{
	return flow_inbound(t, p->b, p->len, now_ms, tunnel, NULL);
}

/* ---- scripts ---- */

struct step {
	const char *what;
	char dir;		/* 'o' seed -> shoot, 'i' shoot -> seed */
	enum kind kind;
	uint8_t flags;		/* TCP flags */
	int want;		/* flow_outbound()'s result or flow_inbound()'s verdict */
	int state;		/* the flow's state afterwards, or GONE */
};

/* Runs one step on t at now_ms through tunnel 1; "where" names it in
 * failures. */
static void step(struct flow_table *t, const struct family *f, const struct step *s,
		 uint64_t now_ms, const char *where)
{
	struct pk p = flowpkt(f, s->dir, s->kind, s->flags);
	int got, st;

	if (s->dir == 'o') {
		got = out(t, &p, now_ms, 1);
		if (got != s->want)
			fail_msg("%s %s: %s: flow_outbound %d, want %d", where, f->name, s->what,
				 got, s->want);
	} else {
		got = in(t, &p, now_ms, 1);
		if (got != s->want)
			fail_msg("%s %s: %s: %s, want %s", where, f->name, s->what,
				 flow_verdict_name((enum flow_verdict)got),
				 flow_verdict_name((enum flow_verdict)s->want));
	}
	st = only_state(t, now_ms);
	if (st != s->state)
		fail_msg("%s %s: %s: state %s, want %s", where, f->name, s->what, state_str(st),
			 state_str(s->state));
}

/* Runs the steps one second apart on a new table, once per family. */
static void run(const char *name, const struct step *steps, size_t n)
{
	for (size_t fi = 0; fi < N(fams); fi++) {
		struct flow_table *t = table(16);

		for (size_t i = 0; i < n; i++)
			step(t, &fams[fi], &steps[i], 1000 * (i + 1), name);
		flow_table_free(t);
	}
}

#define RUN(steps) run(__func__, steps, N(steps))

/* ---- TCP ---- */

static void a_seed_tcp_connection_is_answered_until_it_closes(void **state)
{
	static const struct step steps[] = {
		{ "seed sends SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		{ "shoot answers SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		{ "seed completes the handshake", 'o', TCP, ACK, 0, FLOW_TCP_ESTABLISHED },
		{ "seed sends a request", 'o', TCP, PSH | ACK, 0, FLOW_TCP_ESTABLISHED },
		{ "shoot answers", 'i', TCP, PSH | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		{ "shoot closes", 'i', TCP, FIN | ACK, FLOW_PASS, FLOW_TCP_FIN_WAIT },
		{ "seed acknowledges", 'o', TCP, ACK, 0, FLOW_TCP_FIN_WAIT },
		{ "seed closes too", 'o', TCP, FIN | ACK, 0, FLOW_TCP_CLOSING },
		{ "shoot acknowledges the last FIN", 'i', TCP, ACK, FLOW_PASS, FLOW_TCP_CLOSING },
	};

	RUN(steps);
}

static void a_half_closed_connection_still_carries_the_answer(void **state)
{
	static const struct step steps[] = {
		{ "seed sends SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		{ "shoot answers SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		{ "seed sends its request and FIN", 'o', TCP, PSH | FIN | ACK, 0, FLOW_TCP_FIN_WAIT },
		{ "shoot sends the answer", 'i', TCP, PSH | ACK, FLOW_PASS, FLOW_TCP_FIN_WAIT },
		{ "shoot closes", 'i', TCP, FIN | ACK, FLOW_PASS, FLOW_TCP_CLOSING },
		{ "seed's last ACK", 'o', TCP, ACK, 0, FLOW_TCP_CLOSING },
	};

	RUN(steps);
}

static void the_shoot_side_cannot_open_tcp_connections(void **state)
{
	static const struct step steps[] = {
		{ "a SYN from the shoot side", 'i', TCP, SYN, FLOW_DROP_no_flow, GONE },
		{ "a SYN-ACK for no SYN", 'i', TCP, SYN | ACK, FLOW_DROP_no_flow, GONE },
		{ "an ACK for nothing", 'i', TCP, ACK, FLOW_DROP_no_flow, GONE },
		{ "an RST for nothing", 'i', TCP, RST, FLOW_DROP_no_flow, GONE },
		{ "the seed side's SYN-ACK opens nothing", 'o', TCP, SYN | ACK, -ENOENT, GONE },
		{ "nor does its RST", 'o', TCP, RST | ACK, -ENOENT, GONE },
		{ "nor a segment without ACK", 'o', TCP, FIN, -ENOENT, GONE },
		{ "seed sends SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		{ "a SYN back on the same ports", 'i', TCP, SYN, FLOW_DROP_no_flow, FLOW_TCP_SYN_SENT },
		{ "shoot answers SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		{ "a SYN on the established connection", 'i', TCP, SYN, FLOW_DROP_no_flow,
		  FLOW_TCP_ESTABLISHED },
	};

	RUN(steps);
}

static void tcp_segments_must_fit_the_state_of_their_flow(void **state)
{
	static const struct step steps[] = {
		{ "seed sends SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		{ "data before the SYN-ACK", 'i', TCP, PSH | ACK, FLOW_DROP_bad_state, FLOW_TCP_SYN_SENT },
		{ "FIN before the SYN-ACK", 'i', TCP, FIN | ACK, FLOW_DROP_bad_state, FLOW_TCP_SYN_SENT },
		{ "RST refuses the connection", 'i', TCP, RST | ACK, FLOW_PASS, FLOW_TCP_CLOSED },
		{ "a segment still in flight", 'i', TCP, ACK, FLOW_PASS, FLOW_TCP_CLOSED },
		{ "a SYN-ACK after the RST", 'i', TCP, SYN | ACK, FLOW_DROP_bad_state, FLOW_TCP_CLOSED },
		{ "seed tries again", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		{ "shoot answers SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		{ "seed's ACK got lost: SYN-ACK again", 'i', TCP, SYN | ACK, FLOW_PASS,
		  FLOW_TCP_ESTABLISHED },
		{ "seed closes", 'o', TCP, FIN | ACK, 0, FLOW_TCP_FIN_WAIT },
		{ "a SYN-ACK after a FIN", 'i', TCP, SYN | ACK, FLOW_DROP_bad_state, FLOW_TCP_FIN_WAIT },
		{ "seed resets", 'o', TCP, RST, 0, FLOW_TCP_CLOSED },
	};

	RUN(steps);
}

static void the_seed_side_picks_up_connections_the_table_lost(void **state)
{
	/* After an expiry or a restart of vpn-server, the seed side's next
	 * segment brings its connection back; an RST the seed side ignores
	 * (spoofed or stale) does not end it either. */
	static const struct step steps[] = {
		{ "seed sends on a connection the table does not know", 'o', TCP, PSH | ACK, 0,
		  FLOW_TCP_ESTABLISHED },
		{ "the answer", 'i', TCP, ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		{ "an RST from the shoot side", 'i', TCP, RST, FLOW_PASS, FLOW_TCP_CLOSED },
		{ "the seed side goes on", 'o', TCP, PSH | ACK, 0, FLOW_TCP_ESTABLISHED },
		{ "answers pass", 'i', TCP, ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		{ "a SYN from the shoot side is still none", 'i', TCP, SYN, FLOW_DROP_no_flow,
		  FLOW_TCP_ESTABLISHED },
	};

	RUN(steps);
}

/* ---- UDP and ICMP echo ---- */

static void udp_passes_only_answers(void **state)
{
	static const struct step steps[] = {
		{ "unsolicited UDP from the shoot side", 'i', UDP, 0, FLOW_DROP_no_flow, GONE },
		{ "seed sends a query", 'o', UDP, 0, 0, FLOW_UDP_UNREPLIED },
		{ "the answer", 'i', UDP, 0, FLOW_PASS, FLOW_UDP_REPLIED },
		{ "a second answer", 'i', UDP, 0, FLOW_PASS, FLOW_UDP_REPLIED },
		{ "seed sends again", 'o', UDP, 0, 0, FLOW_UDP_REPLIED },
	};

	RUN(steps);
}

static void udp_answers_must_come_from_the_address_and_port_asked(void **state)
{
	for (size_t fi = 0; fi < N(fams); fi++) {
		const struct family *f = &fams[fi];
		struct flow_table *t = table(16);
		struct pk q = flowpkt(f, 'o', UDP, 0);
		struct pk p;
		uint8_t l4[20];

		assert_int_equal(out(t, &q, 1000, 1), 0);
		p = flowpkt_ports(f, 'i', UDP, 0, SEED_PORT, UDP_PORT + 1);
		assert_int_equal(in(t, &p, 1000, 1), FLOW_DROP_no_flow);
		p = flowpkt_ports(f, 'i', UDP, 0, SEED_PORT + 1, UDP_PORT);
		assert_int_equal(in(t, &p, 1000, 1), FLOW_DROP_no_flow);
		p = ip(f->af, f->router, f->seed, IPPROTO_UDP, l4, udp(l4, UDP_PORT, SEED_PORT));
		assert_int_equal(in(t, &p, 1000, 1), FLOW_DROP_no_flow);
		p = ip(f->af, f->shoot, f->other_seed, IPPROTO_UDP, l4, udp(l4, UDP_PORT, SEED_PORT));
		assert_int_equal(in(t, &p, 1000, 1), FLOW_DROP_no_flow);
		p = flowpkt(f, 'i', UDP, 0);
		assert_int_equal(in(t, &p, 1000, 1), FLOW_PASS);
		assert_int_equal(flow_counters(t)->inbound[FLOW_DROP_no_flow], 4);
		assert_int_equal(flow_counters(t)->inbound[FLOW_PASS], 1);
		flow_table_free(t);
	}
}

static void echo_replies_pass_for_a_tracked_identifier_only(void **state)
{
	static const struct step steps[] = {
		{ "an echo request from the shoot side", 'i', PING, 0, FLOW_DROP_no_flow, GONE },
		{ "an echo reply nobody asked for", 'i', PONG, 0, FLOW_DROP_no_flow, GONE },
		{ "seed pings", 'o', PING, 0, 0, FLOW_ICMP_ECHO },
		{ "the reply", 'i', PONG, 0, FLOW_PASS, FLOW_ICMP_ECHO },
		{ "a duplicate reply", 'i', PONG, 0, FLOW_PASS, FLOW_ICMP_ECHO },
		{ "an echo request back", 'i', PING, 0, FLOW_DROP_no_flow, FLOW_ICMP_ECHO },
		{ "the seed side's echo reply opens nothing", 'o', PONG, 0, -ENOENT, FLOW_ICMP_ECHO },
	};

	RUN(steps);
	for (size_t fi = 0; fi < N(fams); fi++) {
		const struct family *f = &fams[fi];
		struct flow_table *t = table(16);
		struct pk p = flowpkt_ports(f, 'o', PING, 0, ECHO_ID, 0);

		assert_int_equal(out(t, &p, 1000, 1), 0);
		p = flowpkt_ports(f, 'i', PONG, 0, ECHO_ID + 1, 0);
		assert_int_equal(in(t, &p, 1000, 1), FLOW_DROP_no_flow);
		p = flowpkt_ports(f, 'i', PONG, 0, ECHO_ID, 0);
		assert_int_equal(in(t, &p, 1000, 1), FLOW_PASS);
		flow_table_free(t);
	}
}

/* ---- ICMP errors ---- */

static void icmp_errors_pass_only_for_tracked_flows(void **state)
{
	/* Each row: optionally track a flow by sending packet q, then an
	 * error quoting q (qlen bytes; 0: all) arrives. */
	enum { WHOLE = 0, HDR8 = 1000, HDR4, HDR_CUT };
	static const struct {
		const char *what;
		int af;
		uint8_t type, code;
		enum kind kind;
		uint8_t flags;
		bool tracked;
		int qlen;
		bool to_other;		/* the error goes to another seed address */
		enum flow_verdict want;
	} rows[] = {
		{ "port unreachable, tracked UDP", AF_INET, 3, 3, UDP, 0, true, HDR8, false, FLOW_PASS },
		{ "port unreachable, untracked UDP", AF_INET, 3, 3, UDP, 0, false, HDR8, false, FLOW_DROP_no_flow },
		{ "fragmentation needed, tracked TCP", AF_INET, 3, 4, TCP, ACK, true, HDR8, false, FLOW_PASS },
		{ "fragmentation needed, untracked TCP", AF_INET, 3, 4, TCP, ACK, false, HDR8, false, FLOW_DROP_no_flow },
		{ "host unreachable for a SYN", AF_INET, 3, 1, TCP, SYN, true, HDR8, false, FLOW_PASS },
		{ "quoting the whole packet", AF_INET, 3, 3, UDP, 0, true, WHOLE, false, FLOW_PASS },
		{ "time exceeded, tracked ping", AF_INET, 11, 0, PING, 0, true, HDR8, false, FLOW_PASS },
		{ "time exceeded, untracked ping", AF_INET, 11, 0, PING, 0, false, HDR8, false, FLOW_DROP_no_flow },
		{ "parameter problem, tracked TCP", AF_INET, 12, 0, TCP, ACK, true, HDR8, false, FLOW_PASS },
		{ "to another seed address", AF_INET, 3, 3, UDP, 0, true, HDR8, true, FLOW_DROP_no_flow },
		{ "about an echo reply", AF_INET, 3, 1, PONG, 0, false, HDR8, false, FLOW_DROP_no_flow },
		{ "redirect", AF_INET, 5, 1, TCP, ACK, true, HDR8, false, FLOW_DROP_untracked },
		{ "quote with 4 transport bytes", AF_INET, 3, 3, UDP, 0, true, HDR4, false, FLOW_DROP_bad_packet },
		{ "quote cut in its IP header", AF_INET, 3, 3, UDP, 0, true, HDR_CUT, false, FLOW_DROP_bad_packet },
		{ "packet too big, tracked TCP", AF_INET6, 2, 0, TCP, ACK, true, HDR8, false, FLOW_PASS },
		{ "packet too big, untracked TCP", AF_INET6, 2, 0, TCP, ACK, false, HDR8, false, FLOW_DROP_no_flow },
		{ "port unreachable, tracked UDP", AF_INET6, 1, 4, UDP, 0, true, HDR8, false, FLOW_PASS },
		{ "port unreachable, untracked UDP", AF_INET6, 1, 4, UDP, 0, false, HDR8, false, FLOW_DROP_no_flow },
		{ "time exceeded, tracked ping", AF_INET6, 3, 0, PING, 0, true, WHOLE, false, FLOW_PASS },
		{ "parameter problem, tracked UDP", AF_INET6, 4, 0, UDP, 0, true, HDR8, false, FLOW_PASS },
		{ "to another seed address", AF_INET6, 2, 0, TCP, ACK, true, HDR8, true, FLOW_DROP_no_flow },
		{ "redirect", AF_INET6, 137, 0, TCP, ACK, true, HDR8, false, FLOW_DROP_untracked },
		{ "neighbour solicitation", AF_INET6, 135, 0, TCP, ACK, true, HDR8, false, FLOW_DROP_untracked },
		{ "quote cut in its IP header", AF_INET6, 1, 4, UDP, 0, true, HDR_CUT, false, FLOW_DROP_bad_packet },
	};

	for (size_t i = 0; i < N(rows); i++) {
		const struct family *f = &fams[rows[i].af == AF_INET ? 0 : 1];
		struct flow_table *t = table(16);
		struct pk q = flowpkt(f, 'o', rows[i].kind, rows[i].flags), e;
		size_t hl = f->af == AF_INET ? 20 : 40, qlen = 0;
		enum flow_verdict v;

		if (rows[i].tracked)
			assert_int_equal(out(t, &q, 1000, 1), 0);
		switch (rows[i].qlen) {
		case HDR8: qlen = hl + 8; break;
		case HDR4: qlen = hl + 4; break;
		case HDR_CUT: qlen = hl - 4; break;
		default: break;
		}
		e = icmp_error(f, rows[i].to_other ? f->other_seed : f->seed, rows[i].type,
			       rows[i].code, &q, qlen);
		v = in(t, &e, 2000, 1);
		if (v != rows[i].want)
			fail_msg("%s %s: %s, want %s", f->name, rows[i].what, flow_verdict_name(v),
				 flow_verdict_name(rows[i].want));
		flow_table_free(t);
	}
}

static void icmp_errors_quoting_the_other_family_are_refused(void **state)
{
	struct flow_table *t = table(16);
	struct pk q4 = flowpkt(&fams[0], 'o', UDP, 0), q6 = flowpkt(&fams[1], 'o', UDP, 0);
	struct pk e;

	assert_int_equal(out(t, &q4, 1000, 1), 0);
	assert_int_equal(out(t, &q6, 1000, 1), 0);
	e = icmp_error(&fams[1], fams[1].seed, 1, 4, &q4, 0);
	assert_int_equal(in(t, &e, 1000, 1), FLOW_DROP_bad_packet);
	e = icmp_error(&fams[0], fams[0].seed, 3, 3, &q6, 0);
	assert_int_equal(in(t, &e, 1000, 1), FLOW_DROP_bad_packet);
	flow_table_free(t);
}

static void icmp_errors_do_not_keep_a_flow_alive(void **state)
{
	for (size_t fi = 0; fi < N(fams); fi++) {
		const struct family *f = &fams[fi];
		struct flow_table *t = table(16);
		struct pk q = flowpkt(f, 'o', UDP, 0);
		struct pk e = icmp_error(f, f->seed, f->af == AF_INET ? 3 : 1, f->af == AF_INET ? 3 : 4, &q, 0);
		struct pk a = flowpkt(f, 'i', UDP, 0);
		uint64_t end = FLOW_TIMEOUT_UDP_UNREPLIED * 1000;

		assert_int_equal(out(t, &q, 0, 1), 0);
		for (uint64_t now = 1000; now < end; now += 1000)
			assert_int_equal(in(t, &e, now, 1), FLOW_PASS);
		assert_int_equal(only_state(t, end - 1), FLOW_UDP_UNREPLIED);
		assert_int_equal(in(t, &a, end, 1), FLOW_DROP_no_flow);
		flow_table_free(t);
	}
}

/* ---- timeouts ---- */

static void flows_expire_after_the_timeout_of_their_protocol_and_state(void **state)
{
	static const struct {
		const char *what;
		struct step setup[4];
		size_t n;
		unsigned timeout_s;
		struct step probe;	/* an answer that passes while the flow lives */
	} rows[] = {
		{ "tcp syn_sent", { { "SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT } }, 1,
		  FLOW_TIMEOUT_TCP_SYN_SENT, { "SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, 0 } },
		{ "tcp established",
		  { { "SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		    { "SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED } }, 2,
		  FLOW_TIMEOUT_TCP_ESTABLISHED, { "data", 'i', TCP, ACK, FLOW_PASS, 0 } },
		{ "tcp fin_wait",
		  { { "SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		    { "SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		    { "FIN", 'o', TCP, FIN | ACK, 0, FLOW_TCP_FIN_WAIT } }, 3,
		  FLOW_TIMEOUT_TCP_FIN_WAIT, { "data", 'i', TCP, ACK, FLOW_PASS, 0 } },
		{ "tcp closing",
		  { { "SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		    { "SYN-ACK", 'i', TCP, SYN | ACK, FLOW_PASS, FLOW_TCP_ESTABLISHED },
		    { "FIN", 'o', TCP, FIN | ACK, 0, FLOW_TCP_FIN_WAIT },
		    { "FIN back", 'i', TCP, FIN | ACK, FLOW_PASS, FLOW_TCP_CLOSING } }, 4,
		  FLOW_TIMEOUT_TCP_CLOSING, { "last ACK", 'i', TCP, ACK, FLOW_PASS, 0 } },
		{ "tcp closed",
		  { { "SYN", 'o', TCP, SYN, 0, FLOW_TCP_SYN_SENT },
		    { "RST", 'i', TCP, RST | ACK, FLOW_PASS, FLOW_TCP_CLOSED } }, 2,
		  FLOW_TIMEOUT_TCP_CLOSED, { "stray ACK", 'i', TCP, ACK, FLOW_PASS, 0 } },
		{ "udp unreplied", { { "query", 'o', UDP, 0, 0, FLOW_UDP_UNREPLIED } }, 1,
		  FLOW_TIMEOUT_UDP_UNREPLIED, { "answer", 'i', UDP, 0, FLOW_PASS, 0 } },
		{ "udp replied",
		  { { "query", 'o', UDP, 0, 0, FLOW_UDP_UNREPLIED },
		    { "answer", 'i', UDP, 0, FLOW_PASS, FLOW_UDP_REPLIED } }, 2,
		  FLOW_TIMEOUT_UDP_REPLIED, { "answer", 'i', UDP, 0, FLOW_PASS, 0 } },
		{ "icmp echo", { { "ping", 'o', PING, 0, 0, FLOW_ICMP_ECHO } }, 1,
		  FLOW_TIMEOUT_ICMP, { "reply", 'i', PONG, 0, FLOW_PASS, 0 } },
	};
	const uint64_t t0 = 5000;

	for (size_t i = 0; i < N(rows); i++) {
		for (size_t fi = 0; fi < N(fams); fi++) {
			const struct family *f = &fams[fi];
			uint64_t deadline = t0 + rows[i].timeout_s * 1000ULL;

			/* A moment before the deadline the answer passes; at it,
			 * the flow is gone. Each on a table of its own, since a
			 * passing answer refreshes. */
			for (int late = 0; late < 2; late++) {
				struct flow_table *t = table(16);
				struct pk p = flowpkt(f, rows[i].probe.dir, rows[i].probe.kind,
						      rows[i].probe.flags);
				enum flow_verdict v, want = late ? FLOW_DROP_no_flow : FLOW_PASS;

				for (size_t k = 0; k < rows[i].n; k++)
					step(t, f, &rows[i].setup[k], t0, rows[i].what);
				v = in(t, &p, deadline - (late ? 0 : 1), 1);
				if (v != want)
					fail_msg("%s %s: %s %s the deadline: %s, want %s", f->name,
						 rows[i].what, rows[i].probe.what,
						 late ? "at" : "just before", flow_verdict_name(v),
						 flow_verdict_name(want));
				assert_int_equal(flow_counters(t)->expired, late ? 1 : 0);
				assert_int_equal(flow_counters(t)->tracked, late ? 0 : 1);
				flow_table_free(t);
			}
		}
	}
}

static void an_answer_or_a_new_packet_restarts_the_timeout(void **state)
{
	const struct family *f = &fams[0];
	struct flow_table *t = table(16);
	struct pk q = flowpkt(f, 'o', UDP, 0), a = flowpkt(f, 'i', UDP, 0);
	const uint64_t step_ms = FLOW_TIMEOUT_UDP_REPLIED * 1000 - 1;
	uint64_t now = 0;

	assert_int_equal(out(t, &q, now, 1), 0);
	assert_int_equal(in(t, &a, now, 1), FLOW_PASS);
	/* Ten timeouts long, alternately refreshed by either side. */
	for (int i = 0; i < 10; i++) {
		now += step_ms;
		if (i % 2)
			assert_int_equal(out(t, &q, now, 1), 0);
		else
			assert_int_equal(in(t, &a, now, 1), FLOW_PASS);
	}
	assert_int_equal(flow_counters(t)->created, 1);
	assert_int_equal(flow_counters(t)->expired, 0);
	flow_table_free(t);
}

static void flow_expire_sweeps_the_table_within_its_budget(void **state)
{
	struct flow_table *t = table(64);
	const struct family *f = &fams[0];
	const uint64_t later = FLOW_TIMEOUT_UDP_UNREPLIED * 1000;
	size_t removed = 0, r;

	/* 10 unanswered UDP flows and 10 established TCP connections. */
	for (unsigned i = 0; i < 10; i++) {
		struct pk u = flowpkt_ports(f, 'o', UDP, 0, 1000 + i, UDP_PORT);
		struct pk s = flowpkt_ports(f, 'o', TCP, ACK, 2000 + i, TCP_PORT);

		assert_int_equal(out(t, &u, 0, 1), 0);
		assert_int_equal(out(t, &s, 0, 1), 0);
	}
	assert_int_equal(flow_counters(t)->tracked, 20);
	/* Expired entries are no longer listed, before any sweep. */
	assert_int_equal(listing(t, later).n, 10);
	assert_int_equal(flow_counters(t)->tracked, 20);
	assert_int_equal(flow_expire(t, later - 1, 64), 0);
	for (int calls = 0; calls < 13; calls++) {	/* 13 x 5 >= 64 */
		r = flow_expire(t, later, 5);
		assert_true(r <= 5);
		removed += r;
	}
	assert_int_equal(removed, 10);
	assert_int_equal(flow_counters(t)->tracked, 10);
	assert_int_equal(flow_counters(t)->expired, 10);
	/* A budget beyond the table looks at each entry once. */
	assert_int_equal(flow_expire(t, FLOW_TIMEOUT_TCP_ESTABLISHED * 1000ULL, 1000), 10);
	assert_int_equal(flow_counters(t)->tracked, 0);
	assert_int_equal(listing(t, 0).n, 0);
	flow_table_free(t);
}

/* ---- bounds ---- */

static void a_full_table_evicts_the_least_recently_used_flow(void **state)
{
	const struct family *f = &fams[1];
	struct flow_table *t = table(4);
	struct pk q[7], a[7];
	struct seen s;

	for (unsigned i = 1; i <= 6; i++) {
		q[i] = flowpkt_ports(f, 'o', UDP, 0, 1000 + i, UDP_PORT);
		a[i] = flowpkt_ports(f, 'i', UDP, 0, 1000 + i, UDP_PORT);
	}
	for (unsigned i = 1; i <= 4; i++)
		assert_int_equal(out(t, &q[i], i, 1), 0);
	assert_int_equal(in(t, &a[1], 5, 1), FLOW_PASS);	/* an answer uses flow 1 */
	assert_int_equal(out(t, &q[2], 6, 1), 0);		/* the seed side uses flow 2 */
	assert_int_equal(out(t, &q[5], 7, 1), 0);		/* flow 3 goes */
	assert_int_equal(flow_counters(t)->evicted, 1);
	assert_int_equal(flow_counters(t)->tracked, 4);
	assert_int_equal(in(t, &a[3], 8, 1), FLOW_DROP_no_flow);
	assert_int_equal(out(t, &q[6], 9, 1), 0);		/* flow 4 goes */
	assert_int_equal(flow_counters(t)->evicted, 2);
	assert_int_equal(in(t, &a[4], 10, 1), FLOW_DROP_no_flow);

	/* Most recently used first: 6, 5, 2, 1. */
	s = listing(t, 11);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.e[0].sport, 1006);
	assert_int_equal(s.e[1].sport, 1005);
	assert_int_equal(s.e[2].sport, 1002);
	assert_int_equal(s.e[3].sport, 1001);
	for (unsigned i = 1; i <= 6; i++)
		if (i != 3 && i != 4)
			assert_int_equal(in(t, &a[i], 12, 1), FLOW_PASS);
	assert_int_equal(flow_counters(t)->created, 6);
	flow_table_free(t);
}

static void thousands_of_flows_are_all_found_and_evicted_in_order(void **state)
{
	enum { MAX = 4096 };
	struct flow_table *t = table(MAX);
	uint64_t now = 1;

	/* Two rounds of MAX flows over both families: the second evicts
	 * all of the first. */
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < MAX; i++) {
			unsigned id = round * MAX + i;
			struct pk q = flowpkt_ports(&fams[id % 2], 'o', UDP, 0, 1024 + id, UDP_PORT);

			assert_int_equal(out(t, &q, now++, 1), 0);
		}
		assert_int_equal(flow_counters(t)->tracked, MAX);
		for (unsigned i = 0; i < 2 * MAX; i++) {
			struct pk a = flowpkt_ports(&fams[i % 2], 'i', UDP, 0, 1024 + i, UDP_PORT);
			enum flow_verdict want = i / MAX == round ? FLOW_PASS : FLOW_DROP_no_flow;

			if (in(t, &a, now, 1) != want)
				fail_msg("round %u, flow %u: want %s", round, i, flow_verdict_name(want));
		}
	}
	assert_int_equal(flow_counters(t)->created, 2 * MAX);
	assert_int_equal(flow_counters(t)->evicted, MAX);
	flow_table_free(t);
}

static void table_sizes_are_checked(void **state)
{
	struct flow_table *t = (struct flow_table *)1;
	struct pk a = flowpkt(&fams[0], 'o', UDP, 0), b = flowpkt(&fams[1], 'o', UDP, 0);

	assert_int_equal(flow_table_new(0, &t), -EINVAL);
	assert_null(t);
	assert_int_equal(flow_table_new((size_t)FLOW_MAX_ENTRIES + 1, &t), -EINVAL);
	assert_null(t);
	flow_table_free(NULL);

	/* One entry: each new flow evicts the last. */
	t = table(1);
	assert_int_equal(out(t, &a, 1, 1), 0);
	assert_int_equal(out(t, &b, 2, 1), 0);
	assert_int_equal(out(t, &a, 3, 1), 0);
	assert_int_equal(flow_counters(t)->evicted, 2);
	assert_int_equal(flow_counters(t)->tracked, 1);
	flow_table_free(t);
}

/* ---- tunnels ---- */

static void answers_must_come_from_the_tunnel_the_flow_went_into(void **state)
{
	for (size_t fi = 0; fi < N(fams); fi++) {
		const struct family *f = &fams[fi];
		struct flow_table *t = table(16);
		struct pk syn = flowpkt(f, 'o', TCP, SYN), synack = flowpkt(f, 'i', TCP, SYN | ACK);
		struct pk ack = flowpkt(f, 'o', TCP, ACK), data = flowpkt(f, 'i', TCP, ACK);
		struct pk err = icmp_error(f, f->seed, f->af == AF_INET ? 3 : 2, 4, &ack, 0);
		unsigned ft = 0;

		assert_int_equal(out(t, &syn, 1, 1), 0);
		assert_int_equal(flow_inbound(t, synack.b, synack.len, 2, 2, &ft), FLOW_DROP_wrong_tunnel);
		assert_int_equal(ft, 1);
		assert_int_equal(only_state(t, 2), FLOW_TCP_SYN_SENT);	/* not advanced */
		assert_int_equal(flow_inbound(t, synack.b, synack.len, 3, 1, &ft), FLOW_PASS);

		/* The seed side moves the flow to tunnel 2 (say, a newer
		 * agent's): answers follow. */
		assert_int_equal(out(t, &ack, 4, 2), 0);
		ft = 0;
		assert_int_equal(flow_inbound(t, data.b, data.len, 5, 1, &ft), FLOW_DROP_wrong_tunnel);
		assert_int_equal(ft, 2);
		assert_int_equal(flow_inbound(t, err.b, err.len, 5, 1, &ft), FLOW_DROP_wrong_tunnel);
		assert_int_equal(flow_inbound(t, err.b, err.len, 5, 2, &ft), FLOW_PASS);
		assert_int_equal(flow_inbound(t, data.b, data.len, 6, 2, &ft), FLOW_PASS);
		assert_int_equal(ft, 2);
		assert_int_equal(flow_counters(t)->inbound[FLOW_DROP_wrong_tunnel], 3);
		flow_table_free(t);
	}
}

/* ---- IPv6 extension headers, fragments, other protocols ---- */

/* An 8-byte IPv6 extension header (hop-by-hop, routing, destination
 * options) followed by next header nh. */
static size_t ext6(uint8_t *p, uint8_t nh)
{
	memset(p, 0, 8);
	p[0] = nh;
	return 8;
}

static size_t frag6(uint8_t *p, uint8_t nh, unsigned offset8, bool more)
{
	memset(p, 0, 8);
	p[0] = nh;
	put16(p + 2, offset8 << 3 | (more ? 1 : 0));
	p[7] = 7;	/* identification */
	return 8;
}

static void ipv6_extension_headers_are_skipped_to_the_ports(void **state)
{
	const struct family *f = &fams[1];
	struct flow_table *t = table(16);
	uint8_t pl[64];
	size_t n;
	struct pk q, p, e;

	/* hop-by-hop, destination options, then UDP */
	n = ext6(pl, IPPROTO_DSTOPTS);
	n += ext6(pl + n, IPPROTO_UDP);
	n += udp(pl + n, SEED_PORT, UDP_PORT);
	q = ip(AF_INET6, f->seed, f->shoot, IPPROTO_HOPOPTS, pl, n);
	assert_int_equal(out(t, &q, 1, 1), 0);
	assert_int_equal(listing(t, 1).e[0].dport, UDP_PORT);

	/* the answer behind a routing header */
	n = ext6(pl, IPPROTO_UDP);
	n += udp(pl + n, UDP_PORT, SEED_PORT);
	p = ip(AF_INET6, f->shoot, f->seed, IPPROTO_ROUTING, pl, n);
	assert_int_equal(in(t, &p, 2, 1), FLOW_PASS);

	/* ... in an atomic fragment (offset 0, no more fragments) */
	n = frag6(pl, IPPROTO_UDP, 0, false);
	n += udp(pl + n, UDP_PORT, SEED_PORT);
	p = ip(AF_INET6, f->shoot, f->seed, IPPROTO_FRAGMENT, pl, n);
	assert_int_equal(in(t, &p, 3, 1), FLOW_PASS);

	/* packet too big, quoting the packet with its extension headers */
	e = icmp_error(f, f->seed, 2, 0, &q, 0);
	assert_int_equal(in(t, &e, 4, 1), FLOW_PASS);
	flow_table_free(t);
}

static void fragments_after_the_first_have_no_ports_and_are_dropped(void **state)
{
	struct flow_table *t = table(16);
	uint8_t pl[64];
	size_t n;
	struct pk q4 = flowpkt(&fams[0], 'o', UDP, 0), q6 = flowpkt(&fams[1], 'o', UDP, 0), p, e;

	assert_int_equal(out(t, &q4, 1, 1), 0);
	assert_int_equal(out(t, &q6, 1, 1), 0);

	/* IPv4: the first fragment of an answer has its ports, the others not */
	p = flowpkt(&fams[0], 'i', UDP, 0);
	put16(p.b + 6, 0x2000);	/* more fragments, offset 0 */
	assert_int_equal(in(t, &p, 2, 1), FLOW_PASS);
	put16(p.b + 6, 185);	/* offset 1480 */
	assert_int_equal(in(t, &p, 2, 1), FLOW_DROP_fragment);
	/* and the seed side's later fragments create nothing */
	p = flowpkt_ports(&fams[0], 'o', UDP, 0, SEED_PORT + 1, UDP_PORT);
	put16(p.b + 6, 185);
	assert_int_equal(out(t, &p, 2, 1), -ENOENT);

	/* IPv6 */
	n = frag6(pl, IPPROTO_UDP, 0, true);
	n += udp(pl + n, UDP_PORT, SEED_PORT);
	p = ip(AF_INET6, fams[1].shoot, fams[1].seed, IPPROTO_FRAGMENT, pl, n);
	assert_int_equal(in(t, &p, 3, 1), FLOW_PASS);
	frag6(pl, IPPROTO_UDP, 185, false);
	p = ip(AF_INET6, fams[1].shoot, fams[1].seed, IPPROTO_FRAGMENT, pl, n);
	assert_int_equal(in(t, &p, 3, 1), FLOW_DROP_fragment);
	/* an error quoting one of the seed side's later fragments cannot
	 * be matched */
	n = frag6(pl, IPPROTO_UDP, 185, false);
	n += udp(pl + n, SEED_PORT, UDP_PORT);
	p = ip(AF_INET6, fams[1].seed, fams[1].shoot, IPPROTO_FRAGMENT, pl, n);
	e = icmp_error(&fams[1], fams[1].seed, 2, 0, &p, 0);
	assert_int_equal(in(t, &e, 4, 1), FLOW_DROP_fragment);
	flow_table_free(t);
}

static void other_protocols_are_not_tracked(void **state)
{
	for (size_t fi = 0; fi < N(fams); fi++) {
		const struct family *f = &fams[fi];
		struct flow_table *t = table(16);
		struct pk g = flowpkt(f, 'o', GRE, 0), p;
		uint8_t l4[8];

		assert_int_equal(out(t, &g, 1, 1), -EPROTONOSUPPORT);
		g = flowpkt(f, 'i', GRE, 0);
		assert_int_equal(in(t, &g, 1, 1), FLOW_DROP_untracked);
		/* ICMP of the other family's number */
		p = ip(f->af, f->seed, f->shoot, f->af == AF_INET ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4,
		       icmp(l4, 8, 0, ECHO_ID));
		assert_int_equal(out(t, &p, 1, 1), -EPROTONOSUPPORT);
		/* ICMP errors and other messages from the seed side open nothing */
		p = ip(f->af, f->seed, f->shoot, icmp_proto(f->af), l4,
		       icmp(l4, f->af == AF_INET ? 3 : 1, 3, 0));
		assert_int_equal(out(t, &p, 1, 1), -ENOENT);
		assert_int_equal(flow_counters(t)->tracked, 0);
		flow_table_free(t);
	}
}

/* ---- malformed input ---- */

static void malformed_packets_are_refused(void **state)
{
	/* Each row cuts a packet of the default flow to len bytes of
	 * transport header. */
	static const struct { const char *what; enum kind kind; uint8_t flags; size_t l4len; } rows[] = {
		{ "TCP header of 19 bytes", TCP, ACK, 19 },
		{ "TCP header of 4 bytes", TCP, ACK, 4 },
		{ "UDP header of 7 bytes", UDP, 0, 7 },
		{ "ICMP header of 7 bytes", PONG, 0, 7 },
		{ "no transport header", UDP, 0, 0 },
	};

	for (size_t fi = 0; fi < N(fams); fi++) {
		const struct family *f = &fams[fi];
		struct flow_table *t = table(16);
		static const uint8_t junk[] = { 0x45, 0, 0, 99, 1, 2, 3 };
		size_t hl = f->af == AF_INET ? 20 : 40;

		assert_int_equal(flow_outbound(t, junk, sizeof(junk), 1, 1), -EINVAL);
		assert_int_equal(flow_inbound(t, junk, sizeof(junk), 1, 1, NULL), FLOW_DROP_bad_packet);
		assert_int_equal(flow_inbound(t, junk, 0, 1, 1, NULL), FLOW_DROP_bad_packet);
		for (size_t i = 0; i < N(rows); i++) {
			struct pk o = flowpkt(f, 'o', rows[i].kind == PONG ? PING : rows[i].kind, rows[i].flags);
			struct pk p = flowpkt(f, 'i', rows[i].kind, rows[i].flags);
			int rc;
			enum flow_verdict v;

			assert_int_equal(out(t, &o, 1, 1), 0);
			o.len = p.len = hl + rows[i].l4len;
			put16(o.b + (f->af == AF_INET ? 2 : 4), (unsigned)(f->af == AF_INET ? o.len : rows[i].l4len));
			put16(p.b + (f->af == AF_INET ? 2 : 4), (unsigned)(f->af == AF_INET ? p.len : rows[i].l4len));
			rc = out(t, &o, 1, 1);
			v = in(t, &p, 1, 1);
			if (rc != -EINVAL || v != FLOW_DROP_bad_packet)
				fail_msg("%s %s: flow_outbound %d, flow_inbound %s", f->name, rows[i].what,
					 rc, flow_verdict_name(v));
		}
		flow_table_free(t);
	}
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void garbage_never_crashes_and_counters_add_up(void **state)
{
	struct flow_table *t = table(8);
	const struct flow_counters *c = flow_counters(t);
	uint32_t seed = 0x2545f491;
	uint64_t inbound = 0, sum = 0;

	for (unsigned i = 0; i < 50000; i++) {
		const struct family *f = &fams[(i >> 1) % 2];
		static const enum kind kinds[] = { TCP, UDP, PING, PONG, GRE };
		bool outbound = i & 1;
		struct pk p = flowpkt(f, outbound ? 'o' : 'i', kinds[xorshift(&seed) % N(kinds)],
				      (uint8_t)xorshift(&seed));
		unsigned flips = xorshift(&seed) % 4;
		enum flow_verdict v;

		if (i % 5 == 0) {	/* an ICMP error around a real packet */
			struct pk q = p;
			p = icmp_error(f, f->seed, (uint8_t)(xorshift(&seed) % 5), 0, &q, xorshift(&seed) % (q.len + 1));
		}
		if (i % 7 == 0) {	/* pure noise, first nibble mostly 4 or 6 */
			p.len = xorshift(&seed) % 120;
			for (size_t k = 0; k < p.len; k++)
				p.b[k] = (uint8_t)xorshift(&seed);
			if (p.len)
				p.b[0] = (uint8_t)((xorshift(&seed) % 2 ? 0x40 : 0x60) | (p.b[0] & 0x0f));
		}
		for (unsigned k = 0; k < flips && p.len; k++)
			p.b[xorshift(&seed) % p.len] ^= (uint8_t)(1u << (xorshift(&seed) % 8));
		if (xorshift(&seed) % 4 == 0 && p.len)
			p.len = xorshift(&seed) % p.len;	/* cut short */

		if (outbound) {
			int rc = out(t, &p, i * 100ULL, 1 + xorshift(&seed) % 2);

			assert_true(rc == 0 || rc == -EINVAL || rc == -EPROTONOSUPPORT || rc == -ENOENT);
		} else {
			v = flow_inbound(t, p.b, p.len, i * 100ULL, 1 + xorshift(&seed) % 2, NULL);
			assert_true((unsigned)v < FLOW_VERDICT__MAX);
			inbound++;
		}
		if (i % 1000 == 0)
			flow_expire(t, i * 100ULL, 3);
		assert_true(c->tracked <= 8);
		assert_int_equal(c->tracked, c->created - c->evicted - c->expired);
	}
	for (size_t v = 0; v < FLOW_VERDICT__MAX; v++)
		sum += c->inbound[v];
	assert_int_equal(sum, inbound);
	assert_true(c->inbound[FLOW_PASS] > 0);
	assert_true(c->evicted > 0);
	flow_table_free(t);
}

/* ---- show flows ---- */

static void each_entry_is_shown_with_its_tuple_state_and_counters(void **state)
{
	struct flow_table *t = table(16);
	struct pk syn = flowpkt(&fams[0], 'o', TCP, SYN), synack = flowpkt(&fams[0], 'i', TCP, SYN | ACK);
	struct pk ack = flowpkt(&fams[0], 'o', TCP, ACK), ping = flowpkt(&fams[1], 'o', PING, 0);
	uint8_t a4[16] = { 0 }, b4[16] = { 0 }, a6[16], b6[16];
	struct seen s;

	assert_int_equal(out(t, &syn, 1000, 7), 0);
	assert_int_equal(in(t, &synack, 1500, 7), FLOW_PASS);
	assert_int_equal(out(t, &ack, 2000, 7), 0);
	assert_int_equal(out(t, &ping, 2200, 3), 0);

	s = listing(t, 2500);
	assert_int_equal(s.n, 2);
	/* the ping is the most recently used */
	inet_pton(AF_INET6, fams[1].seed, a6);
	inet_pton(AF_INET6, fams[1].shoot, b6);
	assert_int_equal(s.e[0].family, AF_INET6);
	assert_int_equal(s.e[0].proto, IPPROTO_ICMPV6);
	assert_string_equal(flow_state_name(s.e[0].state), "echo");
	assert_memory_equal(s.e[0].src, a6, 16);
	assert_memory_equal(s.e[0].dst, b6, 16);
	assert_int_equal(s.e[0].sport, ECHO_ID);
	assert_int_equal(s.e[0].dport, 0);
	assert_int_equal(s.e[0].tunnel, 3);
	assert_int_equal(s.e[0].out_packets, 1);
	assert_int_equal(s.e[0].out_bytes, 48);
	assert_int_equal(s.e[0].expires_ms, FLOW_TIMEOUT_ICMP * 1000 - 300);

	inet_pton(AF_INET, fams[0].seed, a4);
	inet_pton(AF_INET, fams[0].shoot, b4);
	assert_int_equal(s.e[1].family, AF_INET);
	assert_int_equal(s.e[1].proto, IPPROTO_TCP);
	assert_string_equal(flow_state_name(s.e[1].state), "established");
	assert_memory_equal(s.e[1].src, a4, 16);	/* zeros after the IPv4 address */
	assert_memory_equal(s.e[1].dst, b4, 16);
	assert_int_equal(s.e[1].sport, SEED_PORT);
	assert_int_equal(s.e[1].dport, TCP_PORT);
	assert_int_equal(s.e[1].tunnel, 7);
	assert_int_equal(s.e[1].age_ms, 1500);
	assert_int_equal(s.e[1].idle_ms, 500);
	assert_int_equal(s.e[1].expires_ms, FLOW_TIMEOUT_TCP_ESTABLISHED * 1000 - 500);
	assert_int_equal(s.e[1].out_packets, 2);
	assert_int_equal(s.e[1].out_bytes, 80);
	assert_int_equal(s.e[1].in_packets, 1);
	assert_int_equal(s.e[1].in_bytes, 40);
	flow_table_free(t);
}

static void states_and_verdicts_have_names(void **state)
{
	static const char *const states[] = { "syn_sent", "established", "fin_wait", "closing",
					      "closed", "unreplied", "replied", "echo" };
	static const char *const verdicts[] = { "pass", "no_flow", "wrong_tunnel", "bad_state",
						"untracked", "fragment", "bad_packet" };

	assert_int_equal(N(states), FLOW_STATE__MAX);
	assert_int_equal(N(verdicts), FLOW_VERDICT__MAX);
	for (size_t i = 0; i < N(states); i++)
		assert_string_equal(flow_state_name((enum flow_state)i), states[i]);
	for (size_t i = 0; i < N(verdicts); i++)
		assert_string_equal(flow_verdict_name((enum flow_verdict)i), verdicts[i]);
	assert_string_equal(flow_state_name(FLOW_STATE__MAX), "?");
	assert_string_equal(flow_verdict_name(FLOW_VERDICT__MAX), "?");
}

/* flow_pick tells the server which tunnel a packet's flow took, and gives
 * every packet of a flow the same hash to place a new flow by. */
static void a_flow_keeps_its_tunnel_and_its_hash(void **state)
{
	for (size_t i = 0; i < N(fams); i++) {
		const struct family *f = &fams[i];
		struct flow_table *t = table(16);
		struct pk syn = flowpkt(f, 'o', TCP, SYN), ack = flowpkt(f, 'o', TCP, ACK);
		struct pk other = flowpkt_ports(f, 'o', TCP, SYN, SEED_PORT + 1, TCP_PORT);
		unsigned tunnel = 0;
		uint64_t h1, h2, h3;

		assert_int_equal(flow_pick(t, syn.b, syn.len, 1000, &tunnel, &h1), -ENOENT);
		assert_int_not_equal(h1, 0);
		assert_int_equal(out(t, &syn, 1000, 3), 0);
		assert_int_equal(flow_pick(t, ack.b, ack.len, 1001, &tunnel, &h2), 0);
		assert_int_equal(tunnel, 3);
		assert_int_equal(h1, h2);
		/* Another connection: its own hash (equal only by a 2^-64 chance). */
		assert_int_equal(flow_pick(t, other.b, other.len, 1001, &tunnel, &h3), -ENOENT);
		assert_int_not_equal(h3, h1);
		/* Moved by an outbound packet through another tunnel. */
		assert_int_equal(out(t, &ack, 1002, 5), 0);
		assert_int_equal(flow_pick(t, ack.b, ack.len, 1003, &tunnel, &h2), 0);
		assert_int_equal(tunnel, 5);
		flow_table_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_flow_keeps_its_tunnel_and_its_hash),
		cmocka_unit_test(a_seed_tcp_connection_is_answered_until_it_closes),
		cmocka_unit_test(a_half_closed_connection_still_carries_the_answer),
		cmocka_unit_test(the_shoot_side_cannot_open_tcp_connections),
		cmocka_unit_test(tcp_segments_must_fit_the_state_of_their_flow),
		cmocka_unit_test(the_seed_side_picks_up_connections_the_table_lost),
		cmocka_unit_test(udp_passes_only_answers),
		cmocka_unit_test(udp_answers_must_come_from_the_address_and_port_asked),
		cmocka_unit_test(echo_replies_pass_for_a_tracked_identifier_only),
		cmocka_unit_test(icmp_errors_pass_only_for_tracked_flows),
		cmocka_unit_test(icmp_errors_quoting_the_other_family_are_refused),
		cmocka_unit_test(icmp_errors_do_not_keep_a_flow_alive),
		cmocka_unit_test(flows_expire_after_the_timeout_of_their_protocol_and_state),
		cmocka_unit_test(an_answer_or_a_new_packet_restarts_the_timeout),
		cmocka_unit_test(flow_expire_sweeps_the_table_within_its_budget),
		cmocka_unit_test(a_full_table_evicts_the_least_recently_used_flow),
		cmocka_unit_test(thousands_of_flows_are_all_found_and_evicted_in_order),
		cmocka_unit_test(table_sizes_are_checked),
		cmocka_unit_test(answers_must_come_from_the_tunnel_the_flow_went_into),
		cmocka_unit_test(ipv6_extension_headers_are_skipped_to_the_ports),
		cmocka_unit_test(fragments_after_the_first_have_no_ports_and_are_dropped),
		cmocka_unit_test(other_protocols_are_not_tracked),
		cmocka_unit_test(malformed_packets_are_refused),
		cmocka_unit_test(garbage_never_crashes_and_counters_add_up),
		cmocka_unit_test(each_entry_is_shown_with_its_tuple_state_and_counters),
		cmocka_unit_test(states_and_verdicts_have_names),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
