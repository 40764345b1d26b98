/* libFuzzer: sealed records (tunnel/seal.h). The input is read twice:
 * as a record a peer sent, which must be refused cleanly (nothing
 * forged opens, no length is trusted beyond the header), and as
 * plaintext, which must seal, open to itself, and fail to open once any
 * one byte of the record is changed. */
#include <errno.h>
#include <string.h>
#include <openssl/objects.h>

#include "tunnel/seal.h"
#include "fuzz.h"

static int export_fixed(void *arg, uint64_t gen, uint8_t *out)
{
	(void)arg;
	for (size_t i = 0; i < SEAL_EXPORT_LEN; i++)
		out[i] = (uint8_t)(i * 7 + gen * 13 + 1);
	return 0;
}

static uint8_t rec[SEAL_MAX_RECORD], out[SEAL_MAX_PLAIN];

/* What a peer sent, as the first record of the stream: it cannot have
 * been sealed with our keys, so it must be refused, on the header alone
 * when its length is out of bounds, and never opened. */
static void as_a_stream(const uint8_t *data, size_t size)
{
	struct seal rx;
	size_t plain;
	int len = seal_record_len(data, size);
	int r;

	CHECK(seal_init(&rx, NID_aes_256_gcm, false, true, export_fixed, NULL) == 0);
	r = seal_open(&rx, data, size, out, &plain);
	CHECK(r == 0 || r == -EMSGSIZE || r == -EBADMSG);
	CHECK(r != 0 || len == 0 || (size_t)len > size);
	CHECK(r != -EMSGSIZE || len == -EMSGSIZE);
	CHECK(len <= 0 || len <= SEAL_MAX_RECORD);
	CHECK(rx.seq == (r == -EBADMSG ? 1u : 0u));
	seal_free(&rx);
}

static void as_plaintext(const uint8_t *data, size_t size)
{
	struct seal tx, rx;
	size_t n = size > SEAL_MAX_PLAIN ? SEAL_MAX_PLAIN : size, plain = 0;
	int len;

	if (!n)
		return;
	CHECK(seal_init(&tx, NID_aes_256_gcm, true, true, export_fixed, NULL) == 0);
	CHECK(seal_init(&rx, NID_aes_256_gcm, false, true, export_fixed, NULL) == 0);
	len = seal_put(&tx, data, n, rec);
	CHECK(len == (int)(n + SEAL_HDR_LEN + SEAL_TAG_LEN));
	CHECK(seal_open(&rx, rec, (size_t)len, out, &plain) == len);
	CHECK(plain == n && !memcmp(out, data, n));
	/* The same record again, one byte changed (where the input says),
	 * under the next nonce: refused whatever the change. */
	len = seal_put(&tx, data, n, rec);
	rec[data[0] * 257u % (unsigned)len] ^= (uint8_t)(data[n - 1] | 1);
	CHECK(seal_open(&rx, rec, (size_t)len, out, &plain) <= 0);
	seal_free(&tx);
	seal_free(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_a_stream(data, size);
	as_plaintext(data, size);
	return 0;
}
