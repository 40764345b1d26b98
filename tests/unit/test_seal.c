/* tunnel/seal: sealed records, the data channel after the TLS handshake.
 *
 * Each test is one rule of seal.h. The key material comes from a fixed
 * function of the generation instead of a TLS exporter, so that both ends
 * of a test derive the same keys and a rekey is visible. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <gcrypt.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "tunnel/seal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct exporter {
	uint64_t last_gen;
	unsigned calls;
	uint8_t salt;		/* another TLS session: other keys */
};

static int export_fixed(void *arg, uint64_t gen, uint8_t *out)
{
	struct exporter *e = arg;

	e->last_gen = gen;
	e->calls++;
	for (size_t i = 0; i < SEAL_EXPORT_LEN; i++)
		out[i] = (uint8_t)(i * 7 + gen * 13 + e->salt + 1);
	return 0;
}

static int export_fails(void *arg, uint64_t gen, uint8_t *out)
{
	(void)arg, (void)gen, (void)out;
	return -EIO;
}

static uint8_t plain[SEAL_MAX_PLAIN], rec[SEAL_MAX_RECORD], out[SEAL_MAX_PLAIN];

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

/* A sealing and an opening end of one direction (agent to server). */
static void pair(struct seal *tx, struct seal *rx, int nid, struct exporter *etx,
		 struct exporter *erx)
{
	assert_int_equal(seal_init(tx, nid, true, true, export_fixed, etx), 0);
	assert_int_equal(seal_init(rx, nid, false, true, export_fixed, erx), 0);
}

static void a_record_opens_to_what_was_sealed(void **state)
{
	static const struct { int nid; size_t len; } rows[] = {
		{ NID_aes_256_gcm, 1 }, { NID_aes_256_gcm, 20 }, { NID_aes_256_gcm, 1500 },
		{ NID_aes_256_gcm, 16384 }, { NID_aes_256_gcm, SEAL_MAX_PLAIN },
		{ NID_aes_128_gcm, 65000 }, { NID_chacha20_poly1305, 65000 },
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct exporter e1 = { 0 }, e2 = { 0 };
		struct seal tx, rx;
		size_t got = 0;
		int n;

		pair(&tx, &rx, rows[i].nid, &e1, &e2);
		fill(plain, rows[i].len, (unsigned)i);
		n = seal_put(&tx, plain, rows[i].len, rec);
		assert_int_equal(n, (int)(rows[i].len + SEAL_HDR_LEN + SEAL_TAG_LEN));
		assert_int_equal(seal_record_len(rec, (size_t)n), n);
		assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), n);
		assert_int_equal(got, rows[i].len);
		assert_memory_equal(out, plain, rows[i].len);
		seal_free(&tx);
		seal_free(&rx);
	}
}

static void a_record_opens_in_place(void **state)
{
	struct exporter e1 = { 0 }, e2 = { 0 };
	struct seal tx, rx;
	size_t got = 0;
	int n;

	(void)state;
	pair(&tx, &rx, NID_aes_256_gcm, &e1, &e2);
	fill(plain, 4000, 3);
	n = seal_put(&tx, plain, 4000, rec);
	assert_int_equal(seal_open(&rx, rec, (size_t)n, rec + SEAL_HDR_LEN, &got), n);
	assert_memory_equal(rec + SEAL_HDR_LEN, plain, 4000);
	seal_free(&tx);
	seal_free(&rx);
}

/* The reference AEAD: OpenSSL's EVP, with generation gen's key and IV of
 * the agent-to-server direction, taken from the exported material as
 * seal.h lays it out. Seals (enc) or opens in[0..n) with the record's
 * nonce for sequence number seq; returns false when opening fails. */
static bool evp_record(int nid, bool enc, uint64_t gen, uint64_t seq,
		       const uint8_t hdr[SEAL_HDR_LEN], const uint8_t *in, size_t n,
		       uint8_t *o, uint8_t tag[SEAL_TAG_LEN])
{
	struct exporter e = { 0 };
	uint8_t km[SEAL_EXPORT_LEN], nonce[SEAL_IV_LEN];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	bool ok;

	export_fixed(&e, gen, km);
	memcpy(nonce, km + SEAL_KEY_MAX, SEAL_IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[SEAL_IV_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
	ok = ctx && EVP_CipherInit_ex(ctx, EVP_get_cipherbynid(nid), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, SEAL_IV_LEN, NULL) == 1 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, km, nonce, enc) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &len, hdr, SEAL_HDR_LEN) == 1 &&
	     EVP_CipherUpdate(ctx, o, &len, in, (int)n) == 1 &&
	     (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SEAL_TAG_LEN, tag) == 1) &&
	     EVP_CipherFinal_ex(ctx, o + len, &fin) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SEAL_TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok && (size_t)(len + fin) == n;
}

/* The records are the plain AEAD of RFC 5116 / 8439 over the length and
 * the payload: what we seal, OpenSSL opens, and what OpenSSL seals, we
 * open (the sealed records of earlier builds came from OpenSSL, so both
 * ends of a tunnel need not run one build). Checked at the first and
 * second record and at the first under the next generation's keys, so
 * that the nonce's sequence number and the rekey are in the check. */
static void records_are_the_standard_aead_that_openssl_also_opens(void **state)
{
	static const int nids[] = { NID_aes_256_gcm, NID_aes_128_gcm, NID_chacha20_poly1305 };
	static const size_t lens[] = { 1, 17, 1500, SEAL_MAX_PLAIN };
	static const struct { uint64_t gen, seq; } at[] = { { 0, 0 }, { 0, 1 }, { 1, 0 } };
	static uint8_t ref[SEAL_MAX_RECORD];
	(void)state;

	for (size_t i = 0; i < N(nids); i++) {
		for (size_t j = 0; j < N(lens); j++) {
			struct exporter e1 = { 0 }, e2 = { 0 };
			struct seal tx, rx;
			size_t n = lens[j], got = 0;
			uint8_t tag[SEAL_TAG_LEN];
			int r;

			pair(&tx, &rx, nids[i], &e1, &e2);
			fill(plain, n, (unsigned)(i * 10 + j));
			for (size_t k = 0; k < N(at); k++) {
				if (at[k].gen > tx.gen)	/* skip to the rekey */
					tx.seq = rx.seq = SEAL_REKEY_RECORDS;
				/* ours -> OpenSSL */
				r = seal_put(&tx, plain, n, rec);
				assert_int_equal(r, (int)(n + SEAL_HDR_LEN + SEAL_TAG_LEN));
				assert_int_equal(tx.gen, at[k].gen);
				memcpy(tag, rec + SEAL_HDR_LEN + n, SEAL_TAG_LEN);
				if (!evp_record(nids[i], false, at[k].gen, at[k].seq, rec,
						rec + SEAL_HDR_LEN, n, out, tag))
					fail_msg("%s, %zu bytes, generation %llu record %llu: "
						 "OpenSSL cannot open it", OBJ_nid2sn(nids[i]), n,
						 (unsigned long long)at[k].gen,
						 (unsigned long long)at[k].seq);
				assert_memory_equal(out, plain, n);
				/* OpenSSL -> ours */
				memcpy(ref, rec, SEAL_HDR_LEN);
				assert_true(evp_record(nids[i], true, at[k].gen, at[k].seq, ref, plain,
						       n, ref + SEAL_HDR_LEN, ref + SEAL_HDR_LEN + n));
				assert_memory_equal(ref, rec, (size_t)r);
				assert_int_equal(seal_open(&rx, ref, (size_t)r, out, &got), r);
				assert_int_equal(got, n);
				assert_memory_equal(out, plain, n);
			}
			seal_free(&tx);
			seal_free(&rx);
		}
	}
}

/* Run as a child (--fips-child) with LIBGCRYPT_FORCE_FIPS_MODE set: in
 * FIPS mode libgcrypt refuses some AEADs, or some uses of them. Whatever
 * it refuses, seal_init must refuse too (the tunnel then keeps TLS
 * records): an AEAD it accepts must seal and open. Exit status 0, 1 when
 * that is broken, 77 when libgcrypt would not enter FIPS mode. */
static int fips_child(void)
{
	static const int nids[] = { NID_aes_256_gcm, NID_aes_128_gcm, NID_chacha20_poly1305 };

	for (size_t i = 0; i < N(nids); i++) {
		struct exporter e1 = { 0 }, e2 = { 0 };
		struct seal tx, rx;
		size_t got = 0;
		int a = seal_init(&tx, nids[i], true, true, export_fixed, &e1);
		int b = seal_init(&rx, nids[i], false, true, export_fixed, &e2), n;

		if (!gcry_fips_mode_active())
			return 77;
		printf("FIPS mode, %s: sealing %s, opening %s\n", OBJ_nid2sn(nids[i]),
		       a ? "refused" : "taken", b ? "refused" : "taken");
		if ((a && a != -EOPNOTSUPP) || (b && b != -EOPNOTSUPP))
			return 1;
		if (!a && (n = seal_put(&tx, plain, 100, rec)) < 0)
			return 1;
		if (!a && !b && seal_open(&rx, rec, (size_t)n, out, &got) != n)
			return 1;
		seal_free(&tx);
		seal_free(&rx);
	}
	return 0;
}

static const char *self;	/* argv[0]: this test, to run again as the child */

static void an_aead_libgcrypt_refuses_in_fips_mode_is_refused_at_init(void **state)
{
	pid_t pid;
	int st = 0;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("LIBGCRYPT_FORCE_FIPS_MODE", "1", 1);
		execlp(self, self, "--fips-child", (char *)NULL);
		fprintf(stderr, "test_seal: cannot run %s again: %s\n", self, strerror(errno));
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("libgcrypt would not enter FIPS mode here\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* The header alone decides: nothing of a bad record is buffered. */
static void lengths_outside_1_to_64k_are_refused_on_the_header(void **state)
{
	static const struct { uint8_t hdr[4]; size_t avail; int want; } rows[] = {
		{ { 0, 0, 0, 0 }, 4, -EMSGSIZE },
		{ { 0, 1, 0, 1 }, 4, -EMSGSIZE },		/* 65537 */
		{ { 0xff, 0xff, 0xff, 0xff }, 4, -EMSGSIZE },
		{ { 0x80, 0, 0, 1 }, 4, -EMSGSIZE },
		{ { 0, 1, 0, 0 }, 4, SEAL_MAX_RECORD },
		{ { 0, 0, 0, 1 }, 4, SEAL_HDR_LEN + 1 + SEAL_TAG_LEN },
		{ { 0, 0, 0, 1 }, 3, 0 },			/* header not all in */
		{ { 0, 0, 0, 0 }, 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct exporter e = { 0 };
		struct seal rx;
		size_t got = 0;

		assert_int_equal(seal_record_len(rows[i].hdr, rows[i].avail), rows[i].want);
		assert_int_equal(seal_init(&rx, NID_aes_256_gcm, false, true, export_fixed, &e), 0);
		assert_int_equal(seal_open(&rx, rows[i].hdr, rows[i].avail, out, &got),
				 rows[i].want > 0 ? 0 : rows[i].want);
		assert_int_equal(rx.seq, 0);
		seal_free(&rx);
	}
}

/* A partial record is left for later without using up a nonce. */
static void a_partial_record_waits_for_the_rest(void **state)
{
	struct exporter e1 = { 0 }, e2 = { 0 };
	struct seal tx, rx;
	size_t got = 0;
	int n;

	(void)state;
	pair(&tx, &rx, NID_aes_256_gcm, &e1, &e2);
	fill(plain, 3000, 5);
	n = seal_put(&tx, plain, 3000, rec);
	for (size_t avail = 0; avail < (size_t)n; avail += 97)
		assert_int_equal(seal_open(&rx, rec, avail, out, &got), 0);
	assert_int_equal(seal_open(&rx, rec, (size_t)n - 1, out, &got), 0);
	assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), n);
	assert_memory_equal(out, plain, 3000);
	seal_free(&tx);
	seal_free(&rx);
}

/* Tampering anywhere, in the length (the AAD), the ciphertext or the tag,
 * is caught; so is a record replayed, dropped or swapped, because the
 * nonce is the record's position in the stream. */
static void any_change_to_the_stream_fails_authentication(void **state)
{
	enum { LEN = 1000, REC = LEN + SEAL_HDR_LEN + SEAL_TAG_LEN };
	static const struct { const char *what; size_t at; uint8_t mask; } flips[] = {
		{ "length 1000 -> 992 (a shorter record)", 3, 0x08 },
		{ "first ciphertext byte", SEAL_HDR_LEN, 0x01 },
		{ "last ciphertext byte", SEAL_HDR_LEN + LEN - 1, 0x80 },
		{ "first tag byte", SEAL_HDR_LEN + LEN, 0x01 },
		{ "last tag byte", REC - 1, 0x40 },
	};
	uint8_t two[2 * REC];
	(void)state;

	for (size_t i = 0; i < N(flips); i++) {
		struct exporter e1 = { 0 }, e2 = { 0 };
		struct seal tx, rx;
		size_t got = 0;

		pair(&tx, &rx, NID_aes_256_gcm, &e1, &e2);
		fill(plain, LEN, 9);
		assert_int_equal(seal_put(&tx, plain, LEN, rec), REC);
		rec[flips[i].at] ^= flips[i].mask;
		if (seal_open(&rx, rec, REC, out, &got) != -EBADMSG)
			fail_msg("flipped %s: not refused", flips[i].what);
		seal_free(&tx);
		seal_free(&rx);
	}

	/* Order: the second record where the first is due. */
	struct exporter e1 = { 0 }, e2 = { 0 };
	struct seal tx, rx;
	size_t got = 0;

	pair(&tx, &rx, NID_aes_256_gcm, &e1, &e2);
	assert_int_equal(seal_put(&tx, plain, LEN, two), REC);
	assert_int_equal(seal_put(&tx, plain, LEN, two + REC), REC);
	assert_int_equal(seal_open(&rx, two + REC, REC, out, &got), -EBADMSG);
	seal_free(&rx);
	/* Replay: the first record twice. */
	assert_int_equal(seal_init(&rx, NID_aes_256_gcm, false, true, export_fixed, &e2), 0);
	assert_int_equal(seal_open(&rx, two, REC, out, &got), REC);
	assert_int_equal(seal_open(&rx, two, REC, out, &got), -EBADMSG);
	seal_free(&tx);
	seal_free(&rx);
}

/* A record the server sealed does not open as the agent's (a reflected
 * record), nor one from another TLS session (other exported keys). */
static void keys_belong_to_one_direction_of_one_session(void **state)
{
	struct exporter e1 = { 0 }, e2 = { 0 }, other = { .salt = 1 };
	struct seal tx, rx;
	size_t got = 0;
	int n;

	(void)state;
	assert_int_equal(seal_init(&tx, NID_aes_256_gcm, true, false, export_fixed, &e1), 0);
	assert_int_equal(seal_init(&rx, NID_aes_256_gcm, false, true, export_fixed, &e2), 0);
	n = seal_put(&tx, plain, 100, rec);
	assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), -EBADMSG);
	seal_free(&rx);
	assert_int_equal(seal_init(&rx, NID_aes_256_gcm, false, false, export_fixed, &other), 0);
	assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), -EBADMSG);
	seal_free(&rx);
	assert_int_equal(seal_init(&rx, NID_aes_256_gcm, false, false, export_fixed, &e2), 0);
	assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), n);
	seal_free(&tx);
	seal_free(&rx);
}

/* After SEAL_REKEY_RECORDS records both ends take generation 1's keys on
 * their own, with no message between them; an end that cannot get them
 * refuses the record rather than reuse generation 0's. */
static void both_ends_take_new_keys_after_rekey_records(void **state)
{
	struct exporter e1 = { 0 }, e2 = { 0 };
	struct seal tx, rx;
	uint8_t iv0[SEAL_IV_LEN];
	size_t got = 0;
	int n;

	(void)state;
	pair(&tx, &rx, NID_aes_256_gcm, &e1, &e2);
	memcpy(iv0, tx.iv, sizeof(iv0));
	/* Skip to the last record of generation 0 on both ends. */
	tx.seq = rx.seq = SEAL_REKEY_RECORDS - 1;
	n = seal_put(&tx, plain, 500, rec);
	assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), n);
	assert_int_equal(e1.calls, 1);
	assert_int_equal(e2.calls, 1);
	n = seal_put(&tx, plain, 500, rec);
	assert_int_equal(e1.calls, 2);
	assert_int_equal(e1.last_gen, 1);
	assert_int_equal(tx.gen, 1);
	assert_int_equal(tx.seq, 1);
	assert_memory_not_equal(tx.iv, iv0, sizeof(iv0));
	assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), n);
	assert_int_equal(e2.last_gen, 1);
	assert_int_equal(rx.gen, 1);
	assert_memory_equal(out, plain, 500);
	/* The next rekey's export fails: the sealing end stops. */
	tx.seq = SEAL_REKEY_RECORDS;
	tx.export = export_fails;
	assert_int_equal(seal_put(&tx, plain, 500, rec), -EIO);
	seal_free(&tx);
	seal_free(&rx);
}

static void only_the_aeads_of_tls13_are_taken(void **state)
{
	static const struct { int nid; int want; } rows[] = {
		{ NID_aes_256_gcm, 0 }, { NID_aes_128_gcm, 0 }, { NID_chacha20_poly1305, 0 },
		{ NID_aes_256_cbc, -EOPNOTSUPP }, { NID_aes_128_ccm, -EOPNOTSUPP }, { NID_undef, -EOPNOTSUPP },
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct exporter e = { 0 };
		struct seal s;

		assert_int_equal(seal_init(&s, rows[i].nid, true, true, export_fixed, &e), rows[i].want);
		seal_free(&s);
	}
	struct seal s;
	assert_int_equal(seal_init(&s, NID_aes_256_gcm, true, true, export_fails, NULL), -EIO);
	seal_free(&s);
}

/* A direction is made for one way: used the other way too, two records
 * would share a nonce. */
static void a_direction_seals_or_opens_never_both(void **state)
{
	struct exporter e1 = { 0 }, e2 = { 0 };
	struct seal tx, rx;
	size_t got = 0;
	int n;

	(void)state;
	pair(&tx, &rx, NID_aes_256_gcm, &e1, &e2);
	n = seal_put(&tx, plain, 100, rec);
	assert_int_equal(seal_open(&tx, rec, (size_t)n, out, &got), -EINVAL);
	assert_int_equal(seal_put(&rx, plain, 100, rec + n), -EINVAL);
	assert_int_equal(tx.seq, 1);
	assert_int_equal(rx.seq, 0);
	assert_int_equal(seal_open(&rx, rec, (size_t)n, out, &got), n);
	seal_free(&tx);
	seal_free(&rx);
}

static void sealing_takes_1_to_64k_bytes(void **state)
{
	struct exporter e = { 0 };
	struct seal tx;

	(void)state;
	assert_int_equal(seal_init(&tx, NID_aes_256_gcm, true, true, export_fixed, &e), 0);
	assert_int_equal(seal_put(&tx, plain, 0, rec), -EINVAL);
	assert_int_equal(seal_put(&tx, plain, SEAL_MAX_PLAIN + 1, rec), -EINVAL);
	assert_int_equal(tx.seq, 0);
	seal_free(&tx);
}

int main(int argc, char **argv)
{
	struct exporter e = { 0 };
	struct seal probe;

	self = argv[0];
	if (argc > 1 && !strcmp(argv[1], "--fips-child"))
		return fips_child();
	/* On a host in FIPS mode libgcrypt refuses the AEADs the other tests
	 * take for granted: what holds there is the child's contract. */
	seal_init(&probe, NID_aes_256_gcm, true, true, export_fixed, &e);
	seal_free(&probe);
	if (gcry_fips_mode_active()) {
		printf("test_seal: libgcrypt is in FIPS mode here: only its contract is checked\n");
		return fips_child() ? 1 : 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_record_opens_to_what_was_sealed),
		cmocka_unit_test(a_record_opens_in_place),
		cmocka_unit_test(records_are_the_standard_aead_that_openssl_also_opens),
		cmocka_unit_test(lengths_outside_1_to_64k_are_refused_on_the_header),
		cmocka_unit_test(a_partial_record_waits_for_the_rest),
		cmocka_unit_test(any_change_to_the_stream_fails_authentication),
		cmocka_unit_test(keys_belong_to_one_direction_of_one_session),
		cmocka_unit_test(both_ends_take_new_keys_after_rekey_records),
		cmocka_unit_test(only_the_aeads_of_tls13_are_taken),
		cmocka_unit_test(an_aead_libgcrypt_refuses_in_fips_mode_is_refused_at_init),
		cmocka_unit_test(a_direction_seals_or_opens_never_both),
		cmocka_unit_test(sealing_takes_1_to_64k_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
