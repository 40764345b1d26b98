/* Sealed records: the tunnel's data channel after the TLS 1.3 handshake,
 * when both peers announce CAP_SEAL (docs/protocol.md, "Sealed records").
 *
 * TLS 1.3 stays what authenticates the peers and agrees on the keys; the
 * keys of this channel come from its exporter (RFC 8446, 7.5), the AEAD
 * is the one the handshake chose, and libgcrypt does the crypto: its
 * AES-GCM uses VAES and VPCLMULQDQ on AVX2 machines, which OpenSSL 3.0's
 * does not, and is a third faster per byte there (docs/performance.md).
 * The records are plain AES-GCM or ChaCha20-Poly1305 (RFC 5116, 8439),
 * so either end may use any implementation. What
 * changes is the record: up to 64 KB of plaintext instead of 16 KB, read
 * with one large read() and decrypted straight into the frame buffer, and
 * encrypted straight into the buffer the socket write takes. That drops
 * three copies and three quarters of the per-record work that OpenSSL's
 * record layer spends on a 64 KB segment (docs/performance.md).
 *
 *	+--------+--------+--------+--------+-------------------+---------+
 *	|  plaintext length (u32, big end.) | ciphertext        | tag (16) |
 *	+--------+--------+--------+--------+-------------------+---------+
 *
 * The length is the additional authenticated data. The nonce is the
 * direction's 12-byte IV with the record's sequence number (u64, big
 * endian, from 0) XORed into its last 8 bytes, as TLS 1.3 does. Each
 * direction has its own key and IV; after SEAL_REKEY_RECORDS records a
 * direction takes the keys of the next generation (the exporter's context
 * is the generation number), so no key protects more than 64 GiB, well
 * inside AES-GCM's limits (the rekey is for those limits, not for forward
 * secrecy: every generation comes from the session's one exporter
 * secret, as TLS without KeyUpdate). Both sides count records, so a
 * rekey needs no message. A record that fails authentication, or claims a length
 * outside 1..SEAL_MAX_PLAIN, ends the tunnel: over a TCP stream that is
 * tampering or a broken peer, never loss. */
#ifndef TUNNEL_SEAL_H
#define TUNNEL_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SEAL_HDR_LEN = 4,
	SEAL_TAG_LEN = 16,
	SEAL_IV_LEN = 12,
	SEAL_KEY_MAX = 32,
	SEAL_MAX_PLAIN = 65536,
	SEAL_MAX_RECORD = SEAL_HDR_LEN + SEAL_MAX_PLAIN + SEAL_TAG_LEN,
	SEAL_REKEY_RECORDS = 1 << 20,
};

/* The exporter label (RFC 5705 leaves labels that begin with
 * EXPERIMENTAL to private use); the context is the generation (u64, big
 * endian).
 * The output is the client-to-server key and IV, then the server-to-
 * client ones, each key SEAL_KEY_MAX bytes (a shorter key takes the
 * first bytes). */
#define SEAL_EXPORTER_LABEL "EXPERIMENTAL-tendril-seal"
enum { SEAL_EXPORT_LEN = 2 * (SEAL_KEY_MAX + SEAL_IV_LEN) };

/* Fills out[SEAL_EXPORT_LEN] with the key material of generation gen.
 * Returns 0 or a negative errno. */
typedef int (*seal_export_fn)(void *arg, uint64_t gen, uint8_t *out);

struct gcry_cipher_handle;	/* <gcrypt.h> stays out of the callers */

struct seal {
	struct gcry_cipher_handle *hd;	/* NULL: unusable (freed, or never made) */
	size_t key_len;
	seal_export_fn export;
	void *arg;
	bool encrypt;
	bool client_to_server;	/* which half of the exported material */
	uint8_t iv[SEAL_IV_LEN];
	uint64_t seq;		/* records under the current key */
	uint64_t gen;		/* key generation */
};

/* One direction: encrypt (ours) or decrypt (the peer's), with the AEAD
 * named by its NID (SSL_CIPHER_get_cipher_nid of the session: AES-256-GCM,
 * AES-128-GCM or ChaCha20-Poly1305). Returns 0, -EOPNOTSUPP for another
 * cipher or one this libgcrypt will not seal with (too old; in FIPS mode
 * ChaCha20, and before 1.11 AES-GCM under our nonces), -ENOMEM, or the
 * export's error. An AEAD that is taken seals and opens. */
int seal_init(struct seal *s, int cipher_nid, bool encrypt, bool client_to_server,
	      seal_export_fn export, void *arg);
void seal_free(struct seal *s);

/* Seals in[0..n) (1 <= n <= SEAL_MAX_PLAIN) into out, which must hold
 * n + SEAL_HDR_LEN + SEAL_TAG_LEN bytes. Returns the record's length, or
 * a negative errno (then the direction is unusable: close the tunnel);
 * -EINVAL on a direction made for opening: one direction used both ways
 * would put two records under one nonce. */
int seal_put(struct seal *s, const uint8_t *in, size_t n, uint8_t *out);

/* The length a record at buf[0..avail) takes on the wire: > 0 once its
 * header is in, 0 before that, -EMSGSIZE for a length outside
 * 1..SEAL_MAX_PLAIN (decided on the header alone, before any of the body
 * is buffered). */
int seal_record_len(const uint8_t *buf, size_t avail);

/* Opens the record at buf[0..avail) into out (room for SEAL_MAX_PLAIN
 * bytes; it may be buf + SEAL_HDR_LEN, in place, but no other part of
 * buf). Returns the bytes the record took (> 0) with *plain set, 0 if it
 * is not all in yet, -EMSGSIZE (see seal_record_len), -EBADMSG when it
 * fails authentication, -EIO when the next generation's keys cannot be
 * had, or -EINVAL on a direction made for sealing. */
int seal_open(struct seal *s, const uint8_t *buf, size_t avail, uint8_t *out, size_t *plain);

#endif
