/* tunnel/conn: how a sealed tunnel sizes what a SYN may advertise, so
 * that a sender's 64 KB TCP segments each fit one sealed record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "tunnel/conn.h"
#include "tunnel/gso.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A sealed record's plaintext on a transport of MSS m (conn.c,
 * conn__seal_plain): one TSO segment of it less the seal's overhead. */
static size_t record_plain(unsigned m)
{
	return CONN_TSO_GOAL / m * m - SEAL_HDR_LEN - SEAL_TAG_LEN;
}

/* What a Linux sender puts in one frame when the SYN said mss and every
 * segment carries opts bytes of options (12: timestamps): whole segments
 * of mss - opts up to the TSO goal, an IPv6 + TCP header with every
 * option, the virtio-net header, the frame header. */
static size_t frame_of(unsigned mss, unsigned opts)
{
	return CONN_TSO_GOAL / (mss - opts) * (mss - opts) + 100 + GSO_HDR_LEN + FRAME_HDR_LEN;
}

static void the_advertised_mss_shrinks_until_a_segment_fits_a_record(void **state)
{
	static const struct {
		const char *what;
		unsigned transport_mss;	/* sets the record size */
		uint16_t syn_mss;
		unsigned opts;
		uint16_t want;
	} rows[] = {
		{ "IPv4 SYN over an IPv4 transport: 45 segments of 1448 are 20 bytes too many",
		  1448, 1460, 12, 1457 },
		{ "the same MSS as the transport, after timestamps", 1448, 1448, 12, 1448 },
		{ "IPv6 SYN: 45 segments of 1428 fit already", 1448, 1440, 12, 1440 },
		{ "IPv6 transport: a smaller record", 1428, 1460, 12, 1437 },
		{ "no timestamps: 44 segments of 1460 fit as they are", 1448, 1460, 0, 1460 },
		{ "no timestamps, IPv6 transport: 44 of 1460 are 114 bytes too many", 1428, 1460, 0, 1457 },
		{ "no timestamps: 1460 fits where a smaller 1440 would not (45 of it)", 1400, 1460, 0, 1460 },
		{ "jumbo SYN: 7 segments of 8948 fit", 1448, 8960, 12, 8960 },
		{ "a small MSS fits", 1448, 600, 12, 600 },
		{ "jumbo transport (7 x 8949): no MSS within 1/32 fits, left alone", 8949, 1460, 12, 1460 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		size_t plain = record_plain(rows[i].transport_mss);
		unsigned opts = rows[i].opts;
		uint16_t got = conn_fit_mss(plain, rows[i].syn_mss, opts);

		if (got != rows[i].want)
			fail_msg("%s: %u, want %u", rows[i].what, got, rows[i].want);
		if (got < rows[i].syn_mss) {
			/* fits, and is the largest that does */
			assert_true(frame_of(got, opts) <= plain);
			assert_true(frame_of(got + 1u, opts) > plain);
		}
	}
}

static void every_lowered_mss_fits_and_none_within_reach_is_missed(void **state)
{
	for (unsigned opts = 0; opts <= 12; opts += 12)
		for (unsigned t = 1200; t <= 1500; t += 4) {
			size_t plain = record_plain(t);

			for (unsigned mss = 1200; mss <= 1500; mss++) {
				uint16_t got = conn_fit_mss(plain, (uint16_t)mss, opts);

				assert_true(got <= mss);
				if (got < mss) {
					assert_true(frame_of(got, opts) <= plain);
					for (unsigned m = got + 1u; m <= mss; m++)
						assert_true(frame_of(m, opts) > plain);
				} else if (frame_of(mss, opts) > plain) {
					/* left alone: nothing within 1/32 below fits */
					for (unsigned m = mss - mss / 32; m <= mss; m++)
						assert_true(frame_of(m, opts) > plain);
				}
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_advertised_mss_shrinks_until_a_segment_fits_a_record),
		cmocka_unit_test(every_lowered_mss_fits_and_none_within_reach_is_missed),
	};

	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
