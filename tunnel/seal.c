/* Sealed records; see seal.h for the format and why. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <gcrypt.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "tunnel/seal.h"

/* 1.9 is the first with ChaCha20-Poly1305 and AES-GCM in one API that
 * takes 12-byte nonces for both; 1.10 brought the VAES code. */
#define SEAL_GCRYPT_MIN "1.9.0"

static pthread_once_t seal__once = PTHREAD_ONCE_INIT;
static bool seal__gcrypt_ok;

/* libgcrypt wants its version checked, and told that set-up is over,
 * before the first use. No secure memory: the keys live as long as the
 * tunnel in the process's ordinary memory, as OpenSSL's own do, and
 * libgcrypt's secure-memory pool would want mlock. */
static void seal__gcrypt_init(void)
{
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		if (!gcry_check_version(SEAL_GCRYPT_MIN))
			return;
		gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	} else if (!gcry_check_version(SEAL_GCRYPT_MIN)) {
		return;
	}
	seal__gcrypt_ok = true;
}

/* Takes the keys of generation s->gen: the direction's key into the
 * cipher, its IV into s->iv; the sequence starts again at 0. */
static int seal__rekey(struct seal *s)
{
	uint8_t km[SEAL_EXPORT_LEN];
	const uint8_t *half;
	int err = s->export(s->arg, s->gen, km);

	if (err)
		goto out;
	half = km + (s->client_to_server ? 0 : SEAL_KEY_MAX + SEAL_IV_LEN);
	if (gcry_cipher_setkey(s->hd, half, s->key_len)) {
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
	int algo, mode, err = -EOPNOTSUPP;

	memset(s, 0, sizeof(*s));
	s->encrypt = encrypt;
	s->client_to_server = client_to_server;
	s->export = export;
	s->arg = arg;
	switch (cipher_nid) {
	case NID_aes_256_gcm:
		algo = GCRY_CIPHER_AES256, mode = GCRY_CIPHER_MODE_GCM, s->key_len = 32;
		break;
	case NID_aes_128_gcm:
		algo = GCRY_CIPHER_AES128, mode = GCRY_CIPHER_MODE_GCM, s->key_len = 16;
		break;
	case NID_chacha20_poly1305:
		algo = GCRY_CIPHER_CHACHA20, mode = GCRY_CIPHER_MODE_POLY1305, s->key_len = 32;
		break;
	default:
		goto fail;
	}
	if (pthread_once(&seal__once, seal__gcrypt_init) || !seal__gcrypt_ok)
		goto fail;
	switch (gcry_err_code(gcry_cipher_open(&s->hd, algo, mode, 0))) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_ENOMEM:
		err = -ENOMEM;
		/* fall through */
	default:		/* e.g. ChaCha20 in FIPS mode */
		s->hd = NULL;
		goto fail;
	}
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
	if (s->hd)
		gcry_cipher_close(s->hd);
	s->hd = NULL;
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
	int err;

	if (!s->hd || n == 0 || n > SEAL_MAX_PLAIN)
		return -EINVAL;
	if ((err = seal__nonce(s, nonce)))
		return err;
	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	if (gcry_cipher_setiv(s->hd, nonce, SEAL_IV_LEN) ||
	    gcry_cipher_authenticate(s->hd, out, SEAL_HDR_LEN) ||
	    gcry_cipher_final(s->hd) ||
	    gcry_cipher_encrypt(s->hd, out + SEAL_HDR_LEN, n, in, n) ||
	    gcry_cipher_gettag(s->hd, out + SEAL_HDR_LEN + n, SEAL_TAG_LEN))
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
	int rec = seal_record_len(buf, avail);
	size_t n;

	if (rec <= 0 || (size_t)rec > avail)
		return rec < 0 ? rec : 0;
	if (!s->hd)
		return -EBADMSG;
	if (seal__nonce(s, nonce))
		return -EIO;
	n = (size_t)rec - SEAL_HDR_LEN - SEAL_TAG_LEN;
	/* The tag is copied out first: out may be the ciphertext itself.
	 * In place means out == buf + SEAL_HDR_LEN exactly, which libgcrypt
	 * takes (inbuf NULL); any other overlap it does not. */
	memcpy(tag, buf + SEAL_HDR_LEN + n, SEAL_TAG_LEN);
	if (gcry_cipher_setiv(s->hd, nonce, SEAL_IV_LEN) ||
	    gcry_cipher_authenticate(s->hd, buf, SEAL_HDR_LEN) ||
	    gcry_cipher_final(s->hd) ||
	    (out == buf + SEAL_HDR_LEN ? gcry_cipher_decrypt(s->hd, out, n, NULL, 0) :
	     gcry_cipher_decrypt(s->hd, out, n, buf + SEAL_HDR_LEN, n)) ||
	    gcry_cipher_checktag(s->hd, tag, SEAL_TAG_LEN)) {
		/* Nothing of a forged record may be used. */
		OPENSSL_cleanse(out, n);
		return -EBADMSG;
	}
	*plain = n;
	return rec;
}
