/* tunnel/proto: the frame header, the HELLO/WELCOME messages and CLOSE.
 *
 * Each test is one rule of proto.h, checked over a table of inputs; a
 * failing row names itself in the message. */
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

#include "tunnel/proto.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Builds a HELLO fixed part (or WELCOME with welcome = true) into buf and
 * returns its length; TLVs are appended with put_tlv. */
static size_t put_fixed(uint8_t *buf, bool welcome, uint16_t vmin, uint16_t vmax,
			uint32_t caps)
{
	size_t n = 0;

	buf[n++] = (uint8_t)(vmin >> 8);
	buf[n++] = (uint8_t)vmin;
	if (!welcome) {
		buf[n++] = (uint8_t)(vmax >> 8);
		buf[n++] = (uint8_t)vmax;
	}
	buf[n++] = (uint8_t)(caps >> 24);
	buf[n++] = (uint8_t)(caps >> 16);
	buf[n++] = (uint8_t)(caps >> 8);
	buf[n++] = (uint8_t)caps;
	return n;
}

static size_t put_tlv(uint8_t *buf, size_t off, uint16_t type, uint16_t len,
		      const void *val)
{
	buf[off] = (uint8_t)(type >> 8);
	buf[off + 1] = (uint8_t)type;
	buf[off + 2] = (uint8_t)(len >> 8);
	buf[off + 3] = (uint8_t)len;
	if (len)
		memcpy(buf + off + 4, val, len);
	return off + 4 + len;
}

/* ---- frames ---- */

static void frame_round_trips_for_every_type_and_size(void **state)
{
	static const uint32_t sizes[] = { 0, 1, FRAME_MIN_DATA, 1500, 65535,
					  FRAME_MAX_PAYLOAD };
	uint8_t *buf = malloc(FRAME_HDR_LEN + FRAME_MAX_PAYLOAD);

	assert_non_null(buf);
	for (uint8_t t = FRAME_HELLO; t <= FRAME__LAST; t++) {
		for (size_t i = 0; i < N(sizes); i++) {
			struct frame f = { 0 };
			int n;

			frame_put_hdr(buf, t, sizes[i]);
			memset(buf + FRAME_HDR_LEN, 0xa5, sizes[i]);
			n = frame_decode(buf, FRAME_HDR_LEN + sizes[i], &f);
			if (n != (int)(FRAME_HDR_LEN + sizes[i]) || f.type != t ||
			    f.len != sizes[i] || f.payload != buf + FRAME_HDR_LEN)
				fail_msg("type %u len %u: decode returned %d, type %u, len %u",
					 t, sizes[i], n, f.type, f.len);
		}
	}
	free(buf);
}

static void frame_header_is_type_then_24_bit_big_endian_length(void **state)
{
	uint8_t h[FRAME_HDR_LEN];

	frame_put_hdr(h, FRAME_DATA, 0x012345);
	assert_int_equal(h[0], FRAME_DATA);
	assert_int_equal(h[1], 0x01);
	assert_int_equal(h[2], 0x23);
	assert_int_equal(h[3], 0x45);
}

static void frame_with_partial_header_needs_more_bytes(void **state)
{
	/* Even a header that will be refused is not judged before all four
	 * bytes are there. */
	static const uint8_t hdrs[][4] = {
		{ FRAME_DATA, 0, 0, 20 }, { 0, 0xff, 0xff, 0xff }, { 0xff, 0, 0, 0 },
	};
	struct frame f;

	for (size_t i = 0; i < N(hdrs); i++)
		for (size_t len = 0; len < FRAME_HDR_LEN; len++)
			if (frame_decode(hdrs[i], len, &f) != 0)
				fail_msg("header %zu, %zu bytes: not 0", i, len);
}

static void frame_with_partial_payload_needs_more_bytes(void **state)
{
	uint8_t buf[FRAME_HDR_LEN + 100];
	struct frame f;

	frame_put_hdr(buf, FRAME_DATA, 100);
	memset(buf + FRAME_HDR_LEN, 0, 100);
	for (size_t len = FRAME_HDR_LEN; len < sizeof(buf); len++)
		if (frame_decode(buf, len, &f) != 0)
			fail_msg("%zu of %zu bytes: not 0", len, sizeof(buf));
	assert_int_equal(frame_decode(buf, sizeof(buf), &f), sizeof(buf));
}

static void frame_longer_than_max_payload_is_refused_from_its_header(void **state)
{
	static const uint32_t lens[] = { FRAME_MAX_PAYLOAD + 1, 0x100000, 0xffffff };
	uint8_t h[FRAME_HDR_LEN];
	struct frame f;

	for (size_t i = 0; i < N(lens); i++) {
		frame_put_hdr(h, FRAME_DATA, lens[i]);
		if (frame_decode(h, sizeof(h), &f) != -EMSGSIZE)
			fail_msg("length %u: not -EMSGSIZE", lens[i]);
	}
}

static void frame_of_unknown_type_is_a_protocol_error(void **state)
{
	static const uint8_t types[] = { 0, FRAME__LAST + 1, 0x80, 0xff };
	uint8_t buf[FRAME_HDR_LEN + 8] = { 0 };
	struct frame f;

	for (size_t i = 0; i < N(types); i++) {
		frame_put_hdr(buf, types[i], 8);
		if (frame_decode(buf, sizeof(buf), &f) != -EPROTO)
			fail_msg("type %u with payload: not -EPROTO", types[i]);
		/* Refused before the payload arrives, too. */
		if (frame_decode(buf, FRAME_HDR_LEN, &f) != -EPROTO)
			fail_msg("type %u, header only: not -EPROTO", types[i]);
	}
}

static void frame_decode_takes_one_frame_at_a_time_from_a_stream(void **state)
{
	static const struct { uint8_t type; uint32_t len; } want[] = {
		{ FRAME_HELLO, 8 }, { FRAME_DATA, 20 }, { FRAME_PING, 8 },
		{ FRAME_PONG, 0 }, { FRAME_CLOSE, 2 },
	};
	uint8_t stream[256];
	size_t len = 0, off = 0;

	for (size_t i = 0; i < N(want); i++) {
		frame_put_hdr(stream + len, want[i].type, want[i].len);
		memset(stream + len + FRAME_HDR_LEN, (int)i, want[i].len);
		len += FRAME_HDR_LEN + want[i].len;
	}
	for (size_t i = 0; i < N(want); i++) {
		struct frame f;
		int n = frame_decode(stream + off, len - off, &f);

		assert_int_equal(n, FRAME_HDR_LEN + want[i].len);
		assert_int_equal(f.type, want[i].type);
		assert_int_equal(f.len, want[i].len);
		assert_ptr_equal(f.payload, stream + off + FRAME_HDR_LEN);
		off += (size_t)n;
	}
	assert_int_equal(off, len);
}

static void frame_and_close_code_names_are_words_or_unknown(void **state)
{
	static const struct { uint8_t type; const char *name; } types[] = {
		{ FRAME_HELLO, "hello" }, { FRAME_WELCOME, "welcome" },
		{ FRAME_DATA, "data" }, { FRAME_PING, "ping" }, { FRAME_PONG, "pong" },
		{ FRAME_CLOSE, "close" }, { FRAME_DATA_GSO, "data-gso" }, { 0, "unknown" }, { 8, "unknown" },
		{ 255, "unknown" },
	};
	static const struct { uint16_t code; const char *name; } codes[] = {
		{ CLOSE_SHUTDOWN, "shutdown" }, { CLOSE_PROTOCOL, "protocol error" },
		{ CLOSE_VERSION, "unsupported protocol version" },
		{ CLOSE_TIMEOUT, "keepalive timeout" },
		{ CLOSE_NO_ADDRESS, "no free address" },
		{ CLOSE_REPLACED, "replaced by a newer connection" },
		{ 0, "unknown" }, { 7, "unknown" }, { 0xffff, "unknown" },
	};

	for (size_t i = 0; i < N(types); i++)
		assert_string_equal(frame_type_name(types[i].type), types[i].name);
	for (size_t i = 0; i < N(codes); i++)
		assert_string_equal(close_code_name(codes[i].code), codes[i].name);
}

/* ---- HELLO / WELCOME ---- */

static struct hello full_hello(void)
{
	struct hello h = {
		.version_min = 1, .version_max = 3, .caps = CAP_ALL,
		.mtu = 1400, .name = "vpn-shoot-0", .has_addr = true,
		.prefix = 96, .keepalive_ms = 2500,
	};

	assert_int_equal(inet_pton(AF_INET6, "fd8f:6d53:b97a:1::2", &h.addr), 1);
	return h;
}

static void assert_hello_equal(const struct hello *a, const struct hello *b)
{
	assert_int_equal(a->version_min, b->version_min);
	assert_int_equal(a->version_max, b->version_max);
	assert_int_equal(a->caps, b->caps);
	assert_int_equal(a->mtu, b->mtu);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->has_addr, b->has_addr);
	if (a->has_addr) {
		assert_memory_equal(&a->addr, &b->addr, sizeof(a->addr));
		assert_int_equal(a->prefix, b->prefix);
	}
	assert_int_equal(a->keepalive_ms, b->keepalive_ms);
}

static void hello_round_trips_with_and_without_tlvs(void **state)
{
	struct hello in[3], out;
	uint8_t buf[256];

	in[0] = full_hello();
	in[1] = (struct hello){ .version_min = 1, .version_max = 1, .caps = CAP_IPV6 };
	in[2] = full_hello();
	memset(in[2].name, 'n', HELLO_NAME_MAX);	/* longest name */
	in[2].name[HELLO_NAME_MAX] = '\0';
	for (size_t i = 0; i < N(in); i++) {
		int n = hello_encode(&in[i], buf, sizeof(buf));

		assert_true(n >= 8);
		assert_int_equal(hello_decode(buf, (size_t)n, &out), 0);
		assert_hello_equal(&in[i], &out);
	}
	/* No TLVs: just the fixed part. */
	assert_int_equal(hello_encode(&in[1], buf, sizeof(buf)), 8);
}

static void welcome_round_trips_and_carries_one_version(void **state)
{
	struct hello in = full_hello(), out;
	uint8_t buf[256];
	int n;

	in.version_min = in.version_max = 1;
	n = welcome_encode(&in, buf, sizeof(buf));
	assert_true(n >= 6);
	assert_int_equal(welcome_decode(buf, (size_t)n, &out), 0);
	assert_hello_equal(&in, &out);

	in = (struct hello){ .version_min = 7, .version_max = 7 };
	assert_int_equal(welcome_encode(&in, buf, sizeof(buf)), 6);
	assert_int_equal(welcome_decode(buf, 6, &out), 0);
	assert_int_equal(out.version_min, 7);
	assert_int_equal(out.version_max, 7);
}

static void hello_and_welcome_encode_refuse_a_short_buffer(void **state)
{
	struct hello h = full_hello();
	uint8_t buf[256];
	int need = hello_encode(&h, buf, sizeof(buf));
	int wneed = welcome_encode(&h, buf, sizeof(buf));

	for (int cap = 0; cap < need; cap++)
		if (hello_encode(&h, buf, (size_t)cap) != -ENOSPC)
			fail_msg("hello into %d of %d bytes: not -ENOSPC", cap, need);
	for (int cap = 0; cap < wneed; cap++)
		if (welcome_encode(&h, buf, (size_t)cap) != -ENOSPC)
			fail_msg("welcome into %d of %d bytes: not -ENOSPC", cap, wneed);
	assert_int_equal(hello_encode(&h, buf, (size_t)need), need);
	assert_int_equal(welcome_encode(&h, buf, (size_t)wneed), wneed);
}

static void hello_decode_skips_unknown_tlvs(void **state)
{
	static const uint8_t mtu[2] = { 0x05, 0x78 }, junk[3] = { 1, 2, 3 };
	uint8_t buf[64];
	struct hello h;
	size_t n = put_fixed(buf, false, 1, 1, CAP_IPV4);

	n = put_tlv(buf, n, 0x7fff, sizeof(junk), junk);
	n = put_tlv(buf, n, TLV_MTU, sizeof(mtu), mtu);
	n = put_tlv(buf, n, 0xffff, 0, NULL);
	assert_int_equal(hello_decode(buf, n, &h), 0);
	assert_int_equal(h.mtu, 1400);
	assert_int_equal(h.caps, CAP_IPV4);
	assert_false(h.has_addr);
	assert_int_equal(h.keepalive_ms, 0);
	assert_string_equal(h.name, "");
}

static void hello_decode_refuses_a_truncated_fixed_part(void **state)
{
	uint8_t buf[8];
	struct hello h;

	put_fixed(buf, false, 1, 1, 0);
	for (size_t len = 0; len < 8; len++)
		if (hello_decode(buf, len, &h) != -EBADMSG)
			fail_msg("hello of %zu bytes: not -EBADMSG", len);
	for (size_t len = 0; len < 6; len++)
		if (welcome_decode(buf, len, &h) != -EBADMSG)
			fail_msg("welcome of %zu bytes: not -EBADMSG", len);
}

static void hello_decode_refuses_a_truncated_tlv(void **state)
{
	static const uint8_t mtu[2] = { 0x05, 0x78 }, junk[5] = { 0 };
	static const struct { uint16_t type, len; const uint8_t *val; } tlvs[] = {
		{ TLV_MTU, 2, mtu }, { 0x7777, 5, junk }, { TLV_NAME, 5, junk },
	};

	for (size_t i = 0; i < N(tlvs); i++) {
		uint8_t buf[64];
		size_t fixed = put_fixed(buf, false, 1, 1, 0);
		size_t full = put_tlv(buf, fixed, tlvs[i].type, tlvs[i].len, tlvs[i].val);
		struct hello h;

		/* Cut anywhere inside the TLV header or its value. */
		for (size_t len = fixed + 1; len < full; len++)
			if (hello_decode(buf, len, &h) != -EBADMSG)
				fail_msg("TLV %u cut at %zu of %zu: not -EBADMSG",
					 tlvs[i].type, len, full);
		assert_int_equal(hello_decode(buf, full, &h), 0);
	}
}

static void hello_decode_refuses_a_tlv_of_the_wrong_size(void **state)
{
	static const uint8_t zeros[HELLO_NAME_MAX + 1] = { 0 };
	static const struct { const char *what; uint16_t type, len; } bad[] = {
		{ "mtu of 1 byte", TLV_MTU, 1 },
		{ "mtu of 3 bytes", TLV_MTU, 3 },
		{ "keepalive of 3 bytes", TLV_KEEPALIVE, 3 },
		{ "keepalive of 8 bytes", TLV_KEEPALIVE, 8 },
		{ "addr6 of 16 bytes", TLV_ADDR6, 16 },
		{ "addr6 of 18 bytes", TLV_ADDR6, 18 },
		{ "name longer than HELLO_NAME_MAX", TLV_NAME, HELLO_NAME_MAX + 1 },
	};

	for (size_t i = 0; i < N(bad); i++) {
		uint8_t buf[128];
		size_t n = put_tlv(buf, put_fixed(buf, false, 1, 1, 0),
				   bad[i].type, bad[i].len, zeros);
		struct hello h;

		if (hello_decode(buf, n, &h) != -EBADMSG)
			fail_msg("hello with %s: not -EBADMSG", bad[i].what);
		n = put_tlv(buf, put_fixed(buf, true, 1, 1, 0),
			    bad[i].type, bad[i].len, zeros);
		if (welcome_decode(buf, n, &h) != -EBADMSG)
			fail_msg("welcome with %s: not -EBADMSG", bad[i].what);
	}
}

static void welcome_decode_refuses_an_address_prefix_above_128(void **state)
{
	uint8_t v[17] = { 0xfd }, buf[64];
	struct hello h;
	size_t n;

	v[16] = 128;
	n = put_tlv(buf, put_fixed(buf, true, 1, 1, 0), TLV_ADDR6, 17, v);
	assert_int_equal(welcome_decode(buf, n, &h), 0);
	assert_true(h.has_addr);
	assert_int_equal(h.prefix, 128);
	v[16] = 129;
	n = put_tlv(buf, put_fixed(buf, true, 1, 1, 0), TLV_ADDR6, 17, v);
	assert_int_equal(welcome_decode(buf, n, &h), -EBADMSG);
}

static void hello_name_control_bytes_are_replaced_by_question_marks(void **state)
{
	static const struct { const char *wire; size_t len; const char *want; } names[] = {
		{ "vpn-shoot-0", 11, "vpn-shoot-0" },
		{ "a\nb", 3, "a?b" },
		{ "\x1b[31mred", 8, "?[31mred" },
		{ "tab\there\r", 9, "tab?here?" },
		{ "del\x7f", 4, "del?" },
		{ "nul\0after", 9, "nul?after" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },	/* UTF-8 is kept */
		{ "", 0, "" },
	};

	for (size_t i = 0; i < N(names); i++) {
		uint8_t buf[128];
		size_t n = put_tlv(buf, put_fixed(buf, false, 1, 1, 0), TLV_NAME,
				   (uint16_t)names[i].len, names[i].wire);
		struct hello h;

		assert_int_equal(hello_decode(buf, n, &h), 0);
		if (strcmp(h.name, names[i].want))
			fail_msg("name %zu: got `%s', want `%s'", i, h.name, names[i].want);
	}
}

static void hello_decode_refuses_version_min_above_max(void **state)
{
	uint8_t buf[8];
	struct hello h;

	put_fixed(buf, false, 2, 1, 0);
	assert_int_equal(hello_decode(buf, sizeof(buf), &h), -EBADMSG);
	put_fixed(buf, false, 1, 1, 0);
	assert_int_equal(hello_decode(buf, sizeof(buf), &h), 0);
}

static void version_pick_is_ours_when_inside_the_peers_range(void **state)
{
	static const struct { uint16_t min, max; int want; } rows[] = {
		{ PROTO_VERSION, PROTO_VERSION, PROTO_VERSION },
		{ 0, PROTO_VERSION, PROTO_VERSION },
		{ PROTO_VERSION, PROTO_VERSION + 5, PROTO_VERSION },
		{ 0, 0xffff, PROTO_VERSION },
		{ PROTO_VERSION + 1, PROTO_VERSION + 5, -1 },	/* peer too new */
		{ 0, PROTO_VERSION - 1, -1 },			/* peer too old */
		{ PROTO_VERSION + 1, PROTO_VERSION, -1 },	/* min > max */
		{ 0xffff, 0, -1 },
	};

	for (size_t i = 0; i < N(rows); i++)
		if (proto_pick_version(rows[i].min, rows[i].max) != rows[i].want)
			fail_msg("[%u, %u]: got %d, want %d", rows[i].min, rows[i].max,
				 proto_pick_version(rows[i].min, rows[i].max), rows[i].want);
}

/* ---- CLOSE ---- */

static void close_round_trips_code_and_reason(void **state)
{
	static const struct { uint16_t code; const char *reason; } rows[] = {
		{ CLOSE_SHUTDOWN, "" }, { CLOSE_PROTOCOL, "bad frame type 9" },
		{ CLOSE_REPLACED, "caf\xc3\xa9" }, { 0xffff, "x" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t buf[CLOSE_REASON_MAX + 2];
		char reason[CLOSE_REASON_MAX + 1];
		uint16_t code = 0;
		int n = close_encode(rows[i].code, rows[i].reason, buf, sizeof(buf));

		assert_int_equal(n, 2 + strlen(rows[i].reason));
		assert_int_equal(buf[0], rows[i].code >> 8);
		assert_int_equal(buf[1], rows[i].code & 0xff);
		assert_int_equal(close_decode(buf, (size_t)n, &code, reason, sizeof(reason)), 0);
		assert_int_equal(code, rows[i].code);
		assert_string_equal(reason, rows[i].reason);
	}
}

static void close_encode_cuts_the_reason_at_close_reason_max(void **state)
{
	char longer[CLOSE_REASON_MAX + 50];
	uint8_t buf[sizeof(longer) + 2];

	memset(longer, 'r', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(close_encode(CLOSE_SHUTDOWN, longer, buf, sizeof(buf)),
			 2 + CLOSE_REASON_MAX);
}

static void close_encode_refuses_a_short_buffer(void **state)
{
	uint8_t buf[16];

	for (size_t cap = 0; cap < 2 + 5; cap++)
		if (close_encode(CLOSE_TIMEOUT, "timed", buf, cap) != -ENOSPC)
			fail_msg("into %zu bytes: not -ENOSPC", cap);
	assert_int_equal(close_encode(CLOSE_TIMEOUT, "timed", buf, 7), 7);
}

static void close_decode_sanitizes_and_bounds_the_reason(void **state)
{
	static const uint8_t wire[] = { 0, CLOSE_PROTOCOL, 'a', '\n', 'b', 0, 0x7f, 'c' };
	char reason[16], small[3];
	uint16_t code;

	assert_int_equal(close_decode(wire, sizeof(wire), &code, reason, sizeof(reason)), 0);
	assert_int_equal(code, CLOSE_PROTOCOL);
	assert_string_equal(reason, "a?b??c");
	/* A reason longer than the caller's buffer is cut, NUL-terminated. */
	assert_int_equal(close_decode(wire, sizeof(wire), &code, small, sizeof(small)), 0);
	assert_string_equal(small, "a?");
}

static void close_decode_refuses_less_than_a_code(void **state)
{
	static const uint8_t wire[2] = { 0, 1 };
	char reason[8];
	uint16_t code;

	assert_int_equal(close_decode(wire, 0, &code, reason, sizeof(reason)), -EBADMSG);
	assert_int_equal(close_decode(wire, 1, &code, reason, sizeof(reason)), -EBADMSG);
	assert_int_equal(close_decode(wire, 2, &code, reason, 0), -EBADMSG);
	assert_int_equal(close_decode(wire, 2, &code, reason, sizeof(reason)), 0);
	assert_int_equal(code, 1);
	assert_string_equal(reason, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_round_trips_for_every_type_and_size),
		cmocka_unit_test(frame_header_is_type_then_24_bit_big_endian_length),
		cmocka_unit_test(frame_with_partial_header_needs_more_bytes),
		cmocka_unit_test(frame_with_partial_payload_needs_more_bytes),
		cmocka_unit_test(frame_longer_than_max_payload_is_refused_from_its_header),
		cmocka_unit_test(frame_of_unknown_type_is_a_protocol_error),
		cmocka_unit_test(frame_decode_takes_one_frame_at_a_time_from_a_stream),
		cmocka_unit_test(frame_and_close_code_names_are_words_or_unknown),
		cmocka_unit_test(hello_round_trips_with_and_without_tlvs),
		cmocka_unit_test(welcome_round_trips_and_carries_one_version),
		cmocka_unit_test(hello_and_welcome_encode_refuse_a_short_buffer),
		cmocka_unit_test(hello_decode_skips_unknown_tlvs),
		cmocka_unit_test(hello_decode_refuses_a_truncated_fixed_part),
		cmocka_unit_test(hello_decode_refuses_a_truncated_tlv),
		cmocka_unit_test(hello_decode_refuses_a_tlv_of_the_wrong_size),
		cmocka_unit_test(welcome_decode_refuses_an_address_prefix_above_128),
		cmocka_unit_test(hello_name_control_bytes_are_replaced_by_question_marks),
		cmocka_unit_test(hello_decode_refuses_version_min_above_max),
		cmocka_unit_test(version_pick_is_ours_when_inside_the_peers_range),
		cmocka_unit_test(close_round_trips_code_and_reason),
		cmocka_unit_test(close_encode_cuts_the_reason_at_close_reason_max),
		cmocka_unit_test(close_encode_refuses_a_short_buffer),
		cmocka_unit_test(close_decode_sanitizes_and_bounds_the_reason),
		cmocka_unit_test(close_decode_refuses_less_than_a_code),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
