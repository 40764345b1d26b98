/* Sealed records; see seal.h for the format and why. */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "tunnel/seal.h"

/* Takes the keys of generation s->gen: the direction's key into the
 * context, its IV into s->iv; the sequence starts again at 0. */
static int seal__rekey(struct seal *s)
{
	uint8_t km[SEAL_EXPORT_LEN];
	const uint8_t *half;
	int err = s->export(s->arg, s->gen, km);

	if (err)
		goto out;
	half = km + (s->client_to_server ? 0 : SEAL_KEY_MAX + SEAL_IV_LEN);
	if (EVP_CipherInit_ex(s->ctx, NULL, NULL, half, NULL, s->encrypt) != 1) {
		err = -EIO;
		goto out;
	}
	memcpy(s->iv, half + SEAL_KEY_MAX, SEAL_IV_LEN);
	s->seq = 0;
out:
	OPENSSL_cleanse(km, sizeof(km));
	return err;
}

int seal_init(struct seal *s, int cipher_nid, bool encrypt, bool client_to_server,
	      seal_export_fn export, void *arg)
{
	int err = -EOPNOTSUPP;

	memset(s, 0, sizeof(*s));
	s->encrypt = encrypt;
	s->client_to_server = client_to_server;
	s->export = export;
	s->arg = arg;
	if (cipher_nid != NID_aes_256_gcm && cipher_nid != NID_aes_128_gcm &&
	    cipher_nid != NID_chacha20_poly1305)
		goto fail;
	err = -ENOMEM;
	/* Fetched once: an implicit fetch per record is what makes
	 * OpenSSL 3 slow on small operations. */
	s->cipher = EVP_CIPHER_fetch(NULL, OBJ_nid2sn(cipher_nid), NULL);
	s->ctx = EVP_CIPHER_CTX_new();
	if (!s->cipher) {
		err = -EOPNOTSUPP;	/* e.g. a provider set-up without it */
		goto fail;
	}
	if (!s->ctx || EVP_CIPHER_get_key_length(s->cipher) > SEAL_KEY_MAX ||
	    EVP_CipherInit_ex(s->ctx, s->cipher, NULL, NULL, NULL, encrypt) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_IVLEN, SEAL_IV_LEN, NULL) != 1)
		goto fail;
	err = seal__rekey(s);
	if (err)
		goto fail;
	return 0;
fail:
	seal_free(s);
	return err;
}

void seal_free(struct seal *s)
{
	EVP_CIPHER_CTX_free(s->ctx);
	EVP_CIPHER_free(s->cipher);
	s->ctx = NULL;
	s->cipher = NULL;
	OPENSSL_cleanse(s->iv, sizeof(s->iv));
}

/* The nonce of the next record, taking the next generation's keys first
 * when this one has sealed its share. */
static int seal__nonce(struct seal *s, uint8_t nonce[SEAL_IV_LEN])
{
	if (s->seq == SEAL_REKEY_RECORDS) {
		int err;
		s->gen++;
		if ((err = seal__rekey(s)))
			return err;
	}
	memcpy(nonce, s->iv, SEAL_IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[SEAL_IV_LEN - 1 - i] ^= (uint8_t)(s->seq >> (8 * i));
	s->seq++;
	return 0;
}

int seal_put(struct seal *s, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t nonce[SEAL_IV_LEN];
	int len, fin, err;

	if (!s->ctx || n == 0 || n > SEAL_MAX_PLAIN)
		return -EINVAL;
	if ((err = seal__nonce(s, nonce)))
		return err;
	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	if (EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, nonce, 1) != 1 ||
	    EVP_CipherUpdate(s->ctx, NULL, &len, out, SEAL_HDR_LEN) != 1 ||
	    EVP_CipherUpdate(s->ctx, out + SEAL_HDR_LEN, &len, in, (int)n) != 1 ||
	    EVP_CipherFinal_ex(s->ctx, out + SEAL_HDR_LEN + len, &fin) != 1 ||
	    (size_t)(len + fin) != n ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, SEAL_TAG_LEN,
				out + SEAL_HDR_LEN + n) != 1)
		return -EIO;
	return (int)(SEAL_HDR_LEN + n + SEAL_TAG_LEN);
}

int seal_record_len(const uint8_t *buf, size_t avail)
{
	uint32_t n;

	if (avail < SEAL_HDR_LEN)
		return 0;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (n == 0 || n > SEAL_MAX_PLAIN)
		return -EMSGSIZE;
	return (int)(SEAL_HDR_LEN + n + SEAL_TAG_LEN);
}

int seal_open(struct seal *s, const uint8_t *buf, size_t avail, uint8_t *out, size_t *plain)
{
	uint8_t nonce[SEAL_IV_LEN], tag[SEAL_TAG_LEN];
	int rec = seal_record_len(buf, avail), len, fin;
	size_t n;

	if (rec <= 0 || (size_t)rec > avail)
		return rec < 0 ? rec : 0;
	if (!s->ctx)
		return -EBADMSG;
	if (seal__nonce(s, nonce))
		return -EIO;
	n = (size_t)rec - SEAL_HDR_LEN - SEAL_TAG_LEN;
	/* The tag is copied out first: out may be the ciphertext itself. */
	memcpy(tag, buf + SEAL_HDR_LEN + n, SEAL_TAG_LEN);
	if (EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, nonce, 0) != 1 ||
	    EVP_CipherUpdate(s->ctx, NULL, &len, buf, SEAL_HDR_LEN) != 1 ||
	    EVP_CipherUpdate(s->ctx, out, &len, buf + SEAL_HDR_LEN, (int)n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_TAG, SEAL_TAG_LEN, tag) != 1 ||
	    EVP_CipherFinal_ex(s->ctx, out + len, &fin) != 1 ||
	    (size_t)(len + fin) != n) {
		/* Nothing of a forged record may be used. */
		OPENSSL_cleanse(out, n);
		return -EBADMSG;
	}
	*plain = n;
	return rec;
}
