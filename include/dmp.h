/*
 * dmp.h: the C ABI of DMP, the Direct Messaging Protocol (suite DMP1).
 * Generated from src/ffi by cbindgen (build.rs). Do not edit.
 *
 * Conventions (see docs/PROTOCOL.md and README.md):
 *  - Every fallible function returns int32_t: DMP_OK (0) or a negative DMP_ERR_* code.
 *    dmp_strerror(code) gives a static message; dmp_last_error_message() the detail of the
 *    last failure on the calling thread.
 *  - Inputs are (const uint8_t *ptr, size_t len); ptr may be NULL only when len is 0.
 *  - Outputs go to (uint8_t *out, size_t cap, size_t *out_len). *out_len receives the size
 *    written, or the size needed with DMP_ERR_BUFFER_TOO_SMALL, in which case no state changed.
 *    out may be NULL when cap is 0 (to ask for the size).
 *  - Handles are opaque, created through an out-parameter, released by dmp_*_free (NULL is fine).
 *    A handle may be used from any thread; concurrent calls on one handle are serialized.
 *  - No panic crosses this boundary: an internal failure returns DMP_ERR_INTERNAL.
 */

#ifndef DMP_H
#define DMP_H

#include <stddef.h>
#include <stdint.h>
#if defined(__GNUC__) || defined(__clang__)
#define DMP_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#else
#define DMP_WARN_UNUSED_RESULT
#endif

/**
 * HKDF-SHA256 output longer than this is refused (RFC 5869: 255 * HashLen).
 */
#define HKDF_MAX_OUTPUT (255 * 32)

/**
 * Length of a symmetric key (storage key, AEAD key, chain key, root key).
 */
#define KEY_LEN 32

/**
 * Length of an X25519 or Ed25519 public key, and of an agent id.
 */
#define PUBLIC_KEY_LEN 32

/**
 * Length of an Ed25519 seed / X25519 secret.
 */
#define SECRET_KEY_LEN 32

/**
 * Length of an Ed25519 signature.
 */
#define SIGNATURE_LEN 64

/**
 * Length of the XChaCha20-Poly1305 nonce, chosen at random for every encryption.
 */
#define NONCE_LEN 24

/**
 * Length of the Poly1305 authentication tag.
 */
#define TAG_LEN 16

/**
 * Bytes an AEAD seal adds to its plaintext: nonce then tag.
 */
#define AEAD_OVERHEAD (NONCE_LEN + TAG_LEN)

/**
 * Length of a session id (derived from the handshake's shared secret).
 */
#define SESSION_ID_LEN 16

/**
 * Length of an agent's human-comparable fingerprint text, e.g. `"1a2b 3c4d ... 7e8f"`:
 * 16 bytes of hash as 8 groups of 4 hex digits separated by spaces.
 */
#define FINGERPRINT_LEN 39

/**
 * Largest plaintext a pairwise message may carry (1 MiB). Bounds every allocation a peer can cause.
 */
#define MAX_PLAINTEXT_LEN (1 << 20)

/**
 * Largest envelope `parse` accepts: the largest padded plaintext plus headers, with room to spare.
 */
#define MAX_ENVELOPE_LEN (MAX_PLAINTEXT_LEN + (64 * 1024))

/**
 * Default for the largest forward jump within one receiving chain.
 *
 * A peer (or an attacker forging a header) can make the receiver derive this many message keys
 * before the AEAD check fails; 1,000 HMACs is well under a millisecond. Agents exchange messages
 * over connections that rarely drop more than a handful, so 1,000 missing messages in one chain
 * means something is wrong. vodozemac allows 2,000, libsignal 25,000; callers with lossy transports
 * can raise it per session up to [`MAX_FORWARD_JUMP_CEILING`].
 */
#define DEFAULT_MAX_FORWARD_JUMP 1000

/**
 * Default cap on stored skipped message keys, over all chains (as libsignal's `MAX_MESSAGE_KEYS`).
 *
 * Twice the forward jump, so that one full jump never evicts keys from the jump before it.
 * At about 70 bytes a key this bounds a session's skipped-key memory to ~140 KB.
 */
#define DEFAULT_MAX_SKIPPED_KEYS 2000

/**
 * Hard ceiling for a configured forward jump (libsignal's value).
 */
#define MAX_FORWARD_JUMP_CEILING 25000

/**
 * Hard ceiling for a configured skipped-key cap.
 */
#define MAX_SKIPPED_KEYS_CEILING 50000

/**
 * One-time prekeys an identity holds at most; generating more is refused.
 */
#define MAX_ONE_TIME_PREKEYS 10000

/**
 * Smallest padding bucket: padded plaintexts are at least this long.
 */
#define PADDING_MIN_BUCKET 64

/**
 * Above this size, padding rounds up to a multiple of it instead of to a power of two.
 */
#define PADDING_MAX_BUCKET (64 * 1024)

/**
 * How many of the peer's past ratchet keys are remembered, so that a replayed message from a
 * finished chain is reported as `Duplicate` rather than `AuthFailed`. Older replays still fail
 * (as `AuthFailed`), and change nothing either way.
 */
#define MAX_OLD_RATCHET_KEYS 128

/**
 * Bytes of each past ratchet key remembered: a prefix, since a match only chooses which error
 * to report (a chance collision with a genuine new key has probability 2^-64 per entry).
 */
#define OLD_RATCHET_KEY_PREFIX_LEN 8

/**
 * Version of the state record format.
 */
#define STATE_FORMAT_VERSION 1

/**
 * The protocol version this build speaks (suite DMP1).
 */
#define PROTOCOL_VERSION 1

/**
 * Encoded length of a bundle without a one-time prekey.
 */
#define BUNDLE_LEN 135

/**
 * Encoded length of a bundle with a one-time prekey.
 */
#define BUNDLE_WITH_ONE_TIME_PREKEY_LEN 171

/**
 * Header length of a `MESSAGE`.
 */
#define MESSAGE_HEADER_LEN 58

/**
 * Header length of a `PREKEY_MESSAGE`.
 */
#define PREKEY_MESSAGE_HEADER_LEN 131

/**
 * Smallest sealed part: one framing byte, nonce and tag.
 */
#define MIN_SEALED_LEN (1 + AEAD_OVERHEAD)

/**
 * Everything that can go wrong in DMP. Each variant is a distinct, actionable condition.
 */
typedef struct Error Error;



#endif  /* DMP_H */
