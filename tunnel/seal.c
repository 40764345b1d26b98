/* Sealed records; see seal.h for the format and why. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <gcrypt.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "tunnel/seal.h"

/* 1.9.0: the oldest libgcrypt this was tried with (Debian 12 has 1.10,
 * which brought the VAES code); the API used is older. */
#define SEAL_GCRYPT_MIN "1.9.0"

/* The AEADs of TLS 1.3 by their OpenSSL NID, as libgcrypt names them. */
static const struct seal__aead {
	int nid, algo, mode;
	size_t key_len;
} seal__aeads[] = {
	{ NID_aes_256_gcm, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 32 },
	{ NID_aes_128_gcm, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_GCM, 16 },
	{ NID_chacha20_poly1305, GCRY_CIPHER_CHACHA20, GCRY_CIPHER_MODE_POLY1305, 32 },
};
enum { SEAL_AEADS = sizeof(seal__aeads) / sizeof(seal__aeads[0]) };

static pthread_once_t seal__once = PTHREAD_ONCE_INIT;
static bool seal__works[SEAL_AEADS];

/* Whether the AEAD seals and opens a record here, tried on a throwaway
 * handle with a zero key: libgcrypt may open a cipher it then refuses to
 * encrypt with. In FIPS mode (it enters that by itself when the kernel's
 * crypto/fips_enabled is set) 1.9 and 1.10 do that to AES-GCM under a
 * caller's IV, and ChaCha20 does not open at all. Found out here, the
 * tunnel keeps TLS records; found out at the first record, it would close
 * after it announced sealed ones, and so at every reconnect. */
static bool seal__try(const struct seal__aead *a)
{
	static const uint8_t zero[SEAL_KEY_MAX], nonce[SEAL_IV_LEN];
	uint8_t buf[1] = { 0 }, tag[SEAL_TAG_LEN];
	gcry_cipher_hd_t hd;
	bool ok;

	if (gcry_cipher_open(&hd, a->algo, a->mode, 0))
		return false;
	ok = !gcry_cipher_setkey(hd, zero, a->key_len) &&
	     !gcry_cipher_setiv(hd, nonce, SEAL_IV_LEN) &&
	     !gcry_cipher_authenticate(hd, zero, 4) &&
	     !gcry_cipher_final(hd) &&
	     !gcry_cipher_encrypt(hd, buf, sizeof(buf), NULL, 0) &&
	     !gcry_cipher_gettag(hd, tag, sizeof(tag)) &&
	     !gcry_cipher_setiv(hd, nonce, SEAL_IV_LEN) &&
	     !gcry_cipher_authenticate(hd, zero, 4) &&
	     !gcry_cipher_final(hd) &&
	     !gcry_cipher_decrypt(hd, buf, sizeof(buf), NULL, 0) &&
	     !gcry_cipher_checktag(hd, tag, sizeof(tag)) && buf[0] == 0;
	gcry_cipher_close(hd);
	return ok;
}

/* libgcrypt wants its version checked, and told that set-up is over,
 * before the first use (unless another part of the process did that).
 * No secure memory: the keys live as long as the tunnel in the process's
 * ordinary memory, as OpenSSL's own do, and libgcrypt's secure-memory
 * pool would want mlock. */
static void seal__gcrypt_init(void)
{
	if (!gcry_check_version(SEAL_GCRYPT_MIN))
		return;
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
	for (size_t i = 0; i < SEAL_AEADS; i++)
		seal__works[i] = seal__try(&seal__aeads[i]);
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
	const struct seal__aead *a = NULL;
	int err = -EOPNOTSUPP;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->encrypt = encrypt;
	s->client_to_server = client_to_server;
	s->export = export;
	s->arg = arg;
	if (pthread_once(&seal__once, seal__gcrypt_init))
		goto fail;
	for (i = 0; i < SEAL_AEADS && !a; i++)
		if (seal__aeads[i].nid == cipher_nid)
			a = &seal__aeads[i];
	if (!a || !seal__works[a - seal__aeads])
		goto fail;
	s->key_len = a->key_len;
	switch (gcry_err_code(gcry_cipher_open(&s->hd, a->algo, a->mode, 0))) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_ENOMEM:
		err = -ENOMEM;
		/* fall through */
	default:
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

	if (!s->hd || !s->encrypt || n == 0 || n > SEAL_MAX_PLAIN)
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
	if (s->encrypt)
		return -EINVAL;
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
