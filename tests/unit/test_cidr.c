/* tunnel/cidr: CIDR parsing and formatting, containment and overlap,
 * lists, and the transfer-network address pool. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "tunnel/cidr.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct cidr must_parse(const char *s)
{
	struct cidr c;

	if (cidr_parse(s, &c))
		fail_msg("cidr_parse(\"%s\") failed", s);
	return c;
}

/* An address of either family from its text form. */
struct addr {
	int family;
	uint8_t a[16];
};

static struct addr mkaddr(const char *s)
{
	struct addr a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

	if (inet_pton(a.family, s, a.a) != 1)
		fail_msg("bad test address `%s'", s);
	return a;
}

/* ---- parsing and formatting ---- */

static void parse_accepts_networks_and_formats_them_canonically(void **state)
{
	static const struct { const char *in, *out; int family; } rows[] = {
		{ "10.0.0.0/8", "10.0.0.0/8", AF_INET },
		{ "0.0.0.0/0", "0.0.0.0/0", AF_INET },
		{ "192.168.1.0/24", "192.168.1.0/24", AF_INET },
		{ "172.16.0.0/12", "172.16.0.0/12", AF_INET },
		{ "10.0.0.128/25", "10.0.0.128/25", AF_INET },
		{ "100.64.0.0/10", "100.64.0.0/10", AF_INET },
		{ "10.1.2.3/32", "10.1.2.3/32", AF_INET },
		{ "10.1.2.3", "10.1.2.3/32", AF_INET },	/* bare: a host */
		{ " 10.0.0.0/8", "10.0.0.0/8", AF_INET },	/* blanks from "a, b" */
		{ "10.0.0.0/8 \t", "10.0.0.0/8", AF_INET },
		{ "::/0", "::/0", AF_INET6 },
		{ "2001:db8::/32", "2001:db8::/32", AF_INET6 },
		{ "2001:0db8:0000::/48", "2001:db8::/48", AF_INET6 },
		{ "fd8f:6d53:b97a:1::/96", "fd8f:6d53:b97a:1::/96", AF_INET6 },
		{ "fe80::/10", "fe80::/10", AF_INET6 },
		{ "fec0::/10", "fec0::/10", AF_INET6 },
		{ "2001:db8::1", "2001:db8::1/128", AF_INET6 },
		{ "2001:db8::8000:0/97", "2001:db8::8000:0/97", AF_INET6 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct cidr c, again;
		char buf[CIDR_STRLEN];

		if (cidr_parse(rows[i].in, &c))
			fail_msg("`%s' refused", rows[i].in);
		assert_int_equal(c.family, rows[i].family);
		cidr_format(&c, buf, sizeof(buf));
		if (strcmp(buf, rows[i].out))
			fail_msg("`%s' formats as `%s', want `%s'", rows[i].in, buf, rows[i].out);
		/* Printing then re-parsing gives the same value. */
		assert_int_equal(cidr_parse(buf, &again), 0);
		assert_memory_equal(&c, &again, sizeof(c));
	}
}

static void parse_refuses_host_bits_bad_prefixes_and_junk(void **state)
{
	static const char *const bad[] = {
		"10.0.0.1/8",		/* host bits set */
		"10.1.0.0/8",
		"10.0.0.64/25",		/* odd prefix, bit 25 set */
		"fe80::/8",
		"2001:db8::1/64",
		"10.0.0.0/33",		/* prefix too long */
		"2001:db8::/129",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/8x",
		"10.0.0.0/",
		"10.0.0.0/ 8",
		"10.0.0.0 /8",
		"10.0.0.0/8/8",
		"10.0.0.0/99999999999999999999",
		"/8",
		"abc",
		"abc/8",
		"",
		" ",
		"10.0.0/8",
		"10.0.0.256",
		"10.0.0.0/8,11.0.0.0/8",
		"2001:db8:::/48",
		"[2001:db8::]/32",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999/128",	/* too long */
	};

	for (size_t i = 0; i < N(bad); i++) {
		struct cidr c;

		if (cidr_parse(bad[i], &c) != -EINVAL)
			fail_msg("`%s' accepted", bad[i]);
	}
}

static void list_parse_splits_on_commas_and_blanks(void **state)
{
	static const struct { const char *in; size_t n; const char *v[3]; } rows[] = {
		{ "10.0.0.0/8", 1, { "10.0.0.0/8" } },
		{ "10.0.0.0/8,192.168.0.0/16", 2, { "10.0.0.0/8", "192.168.0.0/16" } },
		{ "10.0.0.0/8, 192.168.0.0/16", 2, { "10.0.0.0/8", "192.168.0.0/16" } },
		{ "10.0.0.0/8 , 2001:db8::/32, 100.64.0.0/10", 3,
		  { "10.0.0.0/8", "2001:db8::/32", "100.64.0.0/10" } },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct cidr_list l = { 0 };

		if (cidr_list_parse(rows[i].in, &l, NULL))
			fail_msg("`%s' refused", rows[i].in);
		assert_int_equal(l.n, rows[i].n);
		for (size_t j = 0; j < l.n; j++) {
			char buf[CIDR_STRLEN];

			cidr_format(&l.v[j], buf, sizeof(buf));
			assert_string_equal(buf, rows[i].v[j]);
		}
	}
}

static void list_parse_appends_to_what_the_list_holds(void **state)
{
	struct cidr_list l = { 0 };

	assert_int_equal(cidr_list_parse("10.0.0.0/8", &l, NULL), 0);
	assert_int_equal(cidr_list_parse("10.96.0.0/12, 10.250.0.0/16", &l, NULL), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[2].prefix, 16);
}

static void list_parse_reports_the_offset_of_the_bad_element(void **state)
{
	static const struct { const char *in; size_t bad; } rows[] = {
		{ "bogus", 0 },
		{ "10.0.0.0/8,bogus", 11 },
		{ "10.0.0.0/8, 10.1.0.0/8", 11 },	/* host bits in the second */
		{ "10.0.0.0/8,,11.0.0.0/8", 11 },	/* empty element */
		{ "10.0.0.0/8,192.168.0.0/16,300.0.0.0/8", 26 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct cidr_list l = { 0 };
		size_t bad = 9999;

		if (cidr_list_parse(rows[i].in, &l, &bad) != -EINVAL)
			fail_msg("`%s' accepted", rows[i].in);
		if (bad != rows[i].bad)
			fail_msg("`%s': bad element at %zu, want %zu", rows[i].in, bad, rows[i].bad);
	}
}

static void list_parse_refuses_more_than_cidr_list_max(void **state)
{
	struct cidr_list l = { 0 };
	char one[CIDR_STRLEN];

	for (int i = 0; i < CIDR_LIST_MAX; i++) {
		snprintf(one, sizeof(one), "10.%d.0.0/16", i);
		assert_int_equal(cidr_list_parse(one, &l, NULL), 0);
	}
	assert_int_equal(l.n, CIDR_LIST_MAX);
	assert_int_equal(cidr_list_parse("11.0.0.0/8", &l, NULL), -ENOSPC);
	assert_int_equal(l.n, CIDR_LIST_MAX);
}

/* ---- containment and overlap ---- */

static void contains_holds_exactly_the_addresses_under_the_prefix(void **state)
{
	static const struct { const char *net, *addr; bool in; } rows[] = {
		/* /0 holds every address of its family, none of the other */
		{ "0.0.0.0/0", "0.0.0.0", true },
		{ "0.0.0.0/0", "255.255.255.255", true },
		{ "0.0.0.0/0", "::", false },
		{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
		{ "::/0", "10.0.0.1", false },
		/* /32 and /128: only the host itself */
		{ "10.1.2.3/32", "10.1.2.3", true },
		{ "10.1.2.3/32", "10.1.2.2", false },
		{ "10.1.2.3/32", "10.1.2.4", false },
		{ "2001:db8::1/128", "2001:db8::1", true },
		{ "2001:db8::1/128", "2001:db8::", false },
		{ "2001:db8::1/128", "2001:db8::3", false },
		{ "2001:db8::/127", "2001:db8::1", true },
		{ "2001:db8::/127", "2001:db8::2", false },
		/* byte-aligned */
		{ "10.0.0.0/8", "10.255.255.255", true },
		{ "10.0.0.0/8", "11.0.0.0", false },
		{ "10.0.0.0/8", "9.255.255.255", false },
		/* odd prefixes: the boundary on each side */
		{ "172.16.0.0/12", "172.16.0.0", true },
		{ "172.16.0.0/12", "172.31.255.255", true },
		{ "172.16.0.0/12", "172.32.0.0", false },
		{ "172.16.0.0/12", "172.15.255.255", false },
		{ "10.0.0.128/25", "10.0.0.128", true },
		{ "10.0.0.128/25", "10.0.0.255", true },
		{ "10.0.0.128/25", "10.0.0.127", false },
		{ "100.64.0.0/10", "100.127.255.255", true },
		{ "100.64.0.0/10", "100.128.0.0", false },
		{ "10.0.0.0/31", "10.0.0.1", true },
		{ "10.0.0.0/31", "10.0.0.2", false },
		{ "0.0.0.0/1", "127.255.255.255", true },
		{ "0.0.0.0/1", "128.0.0.0", false },
		{ "fe80::/10", "febf:ffff::1", true },
		{ "fe80::/10", "fec0::", false },
		{ "2001:db8::8000:0/97", "2001:db8::ffff:ffff", true },
		{ "2001:db8::8000:0/97", "2001:db8::7fff:ffff", false },
		{ "fd8f:6d53:b97a:1::/96", "fd8f:6d53:b97a:1::ffff:ffff", true },
		{ "fd8f:6d53:b97a:1::/96", "fd8f:6d53:b97a:1:0:1::", false },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct cidr c = must_parse(rows[i].net);
		struct addr a = mkaddr(rows[i].addr);

		if (cidr_contains(&c, a.family, a.a) != rows[i].in)
			fail_msg("%s %s %s", rows[i].net,
				 rows[i].in ? "does not hold" : "holds", rows[i].addr);
	}
}

static void list_match_returns_the_first_network_holding_the_address(void **state)
{
	struct cidr_list l = { 0 };
	struct addr a;

	assert_int_equal(cidr_list_parse("10.0.0.0/16, 10.0.0.0/8, 2001:db8::/32", &l, NULL), 0);
	a = mkaddr("10.0.1.1");
	assert_ptr_equal(cidr_list_match(&l, a.family, a.a), &l.v[0]);
	a = mkaddr("10.1.0.1");
	assert_ptr_equal(cidr_list_match(&l, a.family, a.a), &l.v[1]);
	a = mkaddr("2001:db8::1");
	assert_ptr_equal(cidr_list_match(&l, a.family, a.a), &l.v[2]);
	a = mkaddr("192.168.0.1");
	assert_null(cidr_list_match(&l, a.family, a.a));
	l.n = 0;
	assert_null(cidr_list_match(&l, a.family, a.a));
}

static void overlap_is_symmetric_and_means_one_holds_the_other(void **state)
{
	static const struct { const char *a, *b; bool overlap; } rows[] = {
		{ "10.0.0.0/8", "10.0.0.0/8", true },
		{ "10.0.0.0/8", "10.1.0.0/16", true },
		{ "10.0.0.0/8", "10.255.255.255/32", true },
		{ "0.0.0.0/0", "192.168.0.0/16", true },
		{ "10.0.0.0/9", "10.128.0.0/9", false },	/* adjacent halves */
		{ "10.0.0.0/8", "11.0.0.0/8", false },
		{ "172.16.0.0/12", "172.32.0.0/12", false },
		{ "172.16.0.0/12", "172.31.0.0/16", true },
		{ "::/0", "fd8f:6d53:b97a:1::/96", true },
		{ "fd8f:6d53:b97a::/48", "fd8f:6d53:b97a:1::/96", true },
		{ "fd8f:6d53:b97a:1::/96", "fd8f:6d53:b97a:2::/96", false },
		{ "2001:db8::/127", "2001:db8::1/128", true },
		{ "2001:db8::/128", "2001:db8::1/128", false },
		{ "0.0.0.0/0", "::/0", false },			/* families differ */
		{ "10.0.0.0/8", "a00::/8", false },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct cidr a = must_parse(rows[i].a), b = must_parse(rows[i].b);

		if (cidr_overlap(&a, &b) != rows[i].overlap ||
		    cidr_overlap(&b, &a) != rows[i].overlap)
			fail_msg("%s and %s: want overlap=%d", rows[i].a, rows[i].b,
				 rows[i].overlap);
	}
}

/* ---- the address pool ---- */

static void pool_init_wants_ipv6_with_room_for_pool_size(void **state)
{
	static const struct { const char *net; int rc; } rows[] = {
		{ "fd8f:6d53:b97a:1::/96", 0 },
		{ "fd00::/64", 0 },
		{ "fd00::/116", 0 },
		{ "::/0", 0 },
		{ "fd00::/117", -EINVAL },
		{ "fd00::1/128", -EINVAL },
		{ "10.0.0.0/8", -EINVAL },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct addr_pool p;
		struct cidr c = must_parse(rows[i].net);

		if (pool_init(&p, &c) != rows[i].rc)
			fail_msg("pool_init(%s): want %d", rows[i].net, rows[i].rc);
	}
}

static struct addr_pool *new_pool(const char *net)
{
	struct addr_pool *p = malloc(sizeof(*p));
	struct cidr c = must_parse(net);

	assert_non_null(p);
	assert_int_equal(pool_init(p, &c), 0);
	return p;
}

static void pool_hands_out_offsets_from_2_in_order(void **state)
{
	struct addr_pool *p = new_pool("fd8f:6d53:b97a:1::/96");
	uint32_t off;

	for (uint32_t want = 2; want < 10; want++) {
		assert_int_equal(pool_take(p, &off), 0);
		assert_int_equal(off, want);
	}
	free(p);
}

static void pool_is_exhausted_after_pool_size_minus_2(void **state)
{
	struct addr_pool *p = new_pool("fd00::/116");
	uint32_t off, seen = 0;

	for (uint32_t i = 0; i < POOL_SIZE - 2; i++) {
		assert_int_equal(pool_take(p, &off), 0);
		assert_in_range(off, 2, POOL_SIZE - 1);
		seen++;
	}
	assert_int_equal(seen, POOL_SIZE - 2);
	assert_int_equal(pool_take(p, &off), -ENOSPC);
	assert_int_equal(pool_take(p, &off), -ENOSPC);
	free(p);
}

static void pool_reuses_a_released_offset(void **state)
{
	struct addr_pool *p = new_pool("fd00::/96");
	uint32_t off;

	for (uint32_t i = 0; i < POOL_SIZE - 2; i++)
		assert_int_equal(pool_take(p, &off), 0);
	pool_release(p, 100);
	assert_int_equal(pool_take(p, &off), 0);
	assert_int_equal(off, 100);
	assert_int_equal(pool_take(p, &off), -ENOSPC);

	/* The network and the server's address are never freed into use,
	 * and out-of-range offsets are ignored. */
	pool_release(p, 0);
	pool_release(p, 1);
	pool_release(p, POOL_SIZE);
	pool_release(p, UINT32_MAX);
	assert_int_equal(pool_take(p, &off), -ENOSPC);
	free(p);
}

static void pool_does_not_hand_out_a_just_released_offset_at_once(void **state)
{
	struct addr_pool *p = new_pool("fd00::/96");
	uint32_t a, b, c, d;

	assert_int_equal(pool_take(p, &a), 0);
	assert_int_equal(pool_take(p, &b), 0);
	assert_int_equal(pool_take(p, &c), 0);
	pool_release(p, b);
	assert_int_equal(pool_take(p, &d), 0);
	assert_int_not_equal(d, b);
	assert_int_equal(d, c + 1);
	free(p);
}

static void pool_addr_adds_the_offset_to_the_network_address(void **state)
{
	static const struct { const char *net; uint32_t off; const char *want; } rows[] = {
		{ "fd8f:6d53:b97a:1::/96", 0, "fd8f:6d53:b97a:1::" },
		{ "fd8f:6d53:b97a:1::/96", 1, "fd8f:6d53:b97a:1::1" },
		{ "fd8f:6d53:b97a:1::/96", 2, "fd8f:6d53:b97a:1::2" },
		{ "fd8f:6d53:b97a:1::/96", 0xff, "fd8f:6d53:b97a:1::ff" },
		{ "fd8f:6d53:b97a:1::/96", 0x100, "fd8f:6d53:b97a:1::100" },	/* carry */
		{ "fd8f:6d53:b97a:1::/96", 0x1ff, "fd8f:6d53:b97a:1::1ff" },
		{ "fd8f:6d53:b97a:1::/96", POOL_SIZE - 1, "fd8f:6d53:b97a:1::fff" },
		{ "fd00::ffff:f000/116", 0xfff, "fd00::ffff:ffff" },
		{ "fd00:0:0:1::abcd:e000/116", 0x123, "fd00::1:0:0:abcd:e123" },
		{ "fd00::/64", 7, "fd00::7" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct addr_pool *p = new_pool(rows[i].net);
		struct in6_addr got;
		char buf[INET6_ADDRSTRLEN];

		pool_addr(p, rows[i].off, &got);
		inet_ntop(AF_INET6, &got, buf, sizeof(buf));
		if (strcmp(buf, rows[i].want))
			fail_msg("%s + %u = %s, want %s", rows[i].net, rows[i].off, buf,
				 rows[i].want);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_accepts_networks_and_formats_them_canonically),
		cmocka_unit_test(parse_refuses_host_bits_bad_prefixes_and_junk),
		cmocka_unit_test(list_parse_splits_on_commas_and_blanks),
		cmocka_unit_test(list_parse_appends_to_what_the_list_holds),
		cmocka_unit_test(list_parse_reports_the_offset_of_the_bad_element),
		cmocka_unit_test(list_parse_refuses_more_than_cidr_list_max),
		cmocka_unit_test(contains_holds_exactly_the_addresses_under_the_prefix),
		cmocka_unit_test(list_match_returns_the_first_network_holding_the_address),
		cmocka_unit_test(overlap_is_symmetric_and_means_one_holds_the_other),
		cmocka_unit_test(pool_init_wants_ipv6_with_room_for_pool_size),
		cmocka_unit_test(pool_hands_out_offsets_from_2_in_order),
		cmocka_unit_test(pool_is_exhausted_after_pool_size_minus_2),
		cmocka_unit_test(pool_reuses_a_released_offset),
		cmocka_unit_test(pool_does_not_hand_out_a_just_released_offset_at_once),
		cmocka_unit_test(pool_addr_adds_the_offset_to_the_network_address),
	};

	return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}
