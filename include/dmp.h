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
 * `dmp_agent_open` flag: keep every received event until `dmp_agent_ack` (at-least-once
 * delivery across crashes; see `dmp_agent_pending_count`).
 */
#define DMP_AGENT_RETAIN_EVENTS 1

/**
 * `dmp_agent_open` flag: refuse sender keys for groups we were not added to by our own call.
 */
#define DMP_AGENT_REFUSE_GROUP_INVITES 2

/**
 * `dmp_agent_open` flag: accept classical-only (no ML-KEM) peers.
 */
#define DMP_AGENT_ALLOW_CLASSICAL 4

/**
 * A pairwise message from the peer.
 */
#define DMP_EVENT_MESSAGE 1

/**
 * A group message from the peer (a member) in the event's group.
 */
#define DMP_EVENT_GROUP_MESSAGE 2

/**
 * The peer's sender key for the event's group was taken in (nothing to do).
 */
#define DMP_EVENT_DISTRIBUTION_CONSUMED 3

/**
 * The peer set up a session with us and sent no message yet.
 */
#define DMP_EVENT_SESSION_ESTABLISHED 4

/**
 * X25519 only (X3DH): for peers that cannot do ML-KEM.
 */
#define DMP_SUITE_CLASSICAL 1

/**
 * X25519 and ML-KEM-768 (PQXDH-style): the default.
 */
#define DMP_SUITE_HYBRID 2

/**
 * Created from a bundle; nothing sent yet.
 */
#define DMP_SESSION_DORMANT 0

/**
 * Sent at least one message; no reply decrypted yet.
 */
#define DMP_SESSION_INITIATING 1

/**
 * A message from the peer has been decrypted.
 */
#define DMP_SESSION_ACTIVE 2

/**
 * Keys erased; every call but the accessors (state, peer id, session id) and free is refused
 * with `DMP_ERR_WRONG_STATE`.
 */
#define DMP_SESSION_CLOSED 3

/**
 * Outgoing plaintexts carry only a one-byte end marker.
 */
#define DMP_PADDING_NONE 0

/**
 * Outgoing plaintexts are padded to size buckets (powers of two from 64 bytes).
 */
#define DMP_PADDING_BUCKETS 1

/**
 * Require the post-quantum (ML-KEM) part: classical-only bundles and first messages are refused
 * with `DMP_ERR_PQ_REQUIRED`. The default.
 */
#define DMP_PQ_REQUIRE_HYBRID 0

/**
 * Accept classical-only peers too (hybrid is still used whenever the peer offers it).
 */
#define DMP_PQ_ALLOW_CLASSICAL 1

/**
 * Bytes of a symmetric key (storage key, AEAD key).
 */
#define DMP_KEY_LEN 32

/**
 * Bytes of an X25519 or Ed25519 public key, and of an agent id.
 */
#define DMP_PUBLIC_KEY_LEN 32

/**
 * Bytes of an X25519 secret key or an Ed25519 seed.
 */
#define DMP_SECRET_KEY_LEN 32

/**
 * Bytes of an Ed25519 signature.
 */
#define DMP_SIGNATURE_LEN 64

/**
 * Bytes of an X25519 shared secret.
 */
#define DMP_SHARED_SECRET_LEN 32

/**
 * Bytes of the XChaCha20-Poly1305 nonce at the front of a raw seal (`dmp_aead_seal`), a group
 * message's sealed part and a state record. Session messages send none.
 */
#define DMP_NONCE_LEN 24

/**
 * Bytes of the Poly1305 tag at the end of a sealed message.
 */
#define DMP_TAG_LEN 16

/**
 * Bytes `dmp_aead_seal` adds to a plaintext (nonce + tag).
 */
#define DMP_AEAD_OVERHEAD 40

/**
 * Bytes of a session id.
 */
#define DMP_SESSION_ID_LEN 8

/**
 * Bytes of a fingerprint text (ASCII, not NUL-terminated), e.g. "1a2b 3c4d ... 7e8f".
 */
#define DMP_FINGERPRINT_LEN 39

/**
 * Largest plaintext a session message may carry (1 MiB).
 */
#define DMP_MAX_PLAINTEXT_LEN 1048576

/**
 * Largest envelope a session accepts.
 */
#define DMP_MAX_ENVELOPE_LEN 1179648

/**
 * Bytes of a classical prekey bundle without a one-time prekey (the smallest bundle).
 */
#define DMP_BUNDLE_LEN 143

/**
 * Bytes of a hybrid prekey bundle with a one-time prekey (the largest bundle).
 */
#define DMP_BUNDLE_MAX_LEN 1368

/**
 * Header bytes of a session message before its sealed part, when both of its counters are below
 * 128 (the shortest header; larger counters add up to 8 bytes). A session message adds
 * `DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 1` = 61 bytes to its plaintext in that case: its nonce
 * is not sent (each message key seals one message, under the all-zero nonce).
 */
#define DMP_MESSAGE_HEADER_LEN 44

/**
 * Header bytes of a classical first (prekey) message before its sealed part (counters below 128).
 */
#define DMP_PREKEY_MESSAGE_HEADER_LEN 117

/**
 * Largest HKDF-SHA256 output (255 * 32).
 */
#define DMP_HKDF_MAX_LEN 8160

/**
 * Default forward-jump limit of a session.
 */
#define DMP_DEFAULT_MAX_FORWARD_JUMP 1000

/**
 * Default cap on stored skipped message keys.
 */
#define DMP_DEFAULT_MAX_SKIPPED_KEYS 2000

/**
 * Largest forward-jump limit `dmp_session_set_limits` accepts.
 */
#define DMP_MAX_FORWARD_JUMP_CEILING 25000

/**
 * Largest skipped-key cap `dmp_session_set_limits` accepts.
 */
#define DMP_MAX_SKIPPED_KEYS_CEILING 50000

/**
 * Most one-time prekeys an identity holds.
 */
#define DMP_MAX_ONE_TIME_PREKEYS 10000

/**
 * Bytes of a group id.
 */
#define DMP_GROUP_ID_LEN 32

/**
 * Bytes of a sender-key distribution.
 */
#define DMP_DISTRIBUTION_LEN 138

/**
 * Header bytes of a group message before its sealed part (a 64-byte signature follows it).
 */
#define DMP_GROUP_MESSAGE_HEADER_LEN 74

/**
 * Most members a group holds besides oneself.
 */
#define DMP_MAX_GROUP_MEMBERS 10000

/**
 * Messages under a sender's newer key after which its replaced key is refused.
 */
#define DMP_GROUP_KEY_GRACE_MESSAGES 100

/**
 * Bytes of a hybrid prekey bundle without a one-time prekey.
 */
#define DMP_HYBRID_BUNDLE_LEN 1332

/**
 * Header bytes of a hybrid first (prekey) message before its sealed part.
 */
#define DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN 1210

/**
 * Bytes of an ML-KEM-768 encapsulation key.
 */
#define DMP_KEM_PUBLIC_KEY_LEN 1184

/**
 * Bytes of an ML-KEM-768 ciphertext.
 */
#define DMP_KEM_CIPHERTEXT_LEN 1088

/**
 * Success.
 */
#define DMP_OK 0

/**
 * A bug or a panic inside the library (never expected; please report it).
 */
#define DMP_ERR_INTERNAL -1

/**
 * An argument is out of its documented range.
 */
#define DMP_ERR_INVALID_ARGUMENT -2

/**
 * A required pointer was NULL.
 */
#define DMP_ERR_NULL_POINTER -3

/**
 * The output buffer is too small; `*out_len` holds the size needed and nothing changed.
 */
#define DMP_ERR_BUFFER_TOO_SMALL -4

/**
 * The input is not a well-formed DMP envelope, bundle or record.
 */
#define DMP_ERR_BAD_ENVELOPE -5

/**
 * The input names a protocol or format version this build does not speak.
 */
#define DMP_ERR_UNSUPPORTED_VERSION -6

/**
 * A well-formed envelope of a type this call does not take.
 */
#define DMP_ERR_WRONG_MESSAGE_TYPE -7

/**
 * Authenticated decryption failed: tampered, or not for this key.
 */
#define DMP_ERR_AUTH_FAILED -8

/**
 * The message was already decrypted (a replay), or its key was discarded.
 */
#define DMP_ERR_DUPLICATE -9

/**
 * The message is beyond the session's forward-jump limit.
 */
#define DMP_ERR_TOO_FAR_AHEAD -10

/**
 * The envelope belongs to another session.
 */
#define DMP_ERR_WRONG_SESSION -11

/**
 * The operation is not allowed in the session's current state.
 */
#define DMP_ERR_WRONG_STATE -12

/**
 * A signature did not verify.
 */
#define DMP_ERR_BAD_SIGNATURE -13

/**
 * A public key of small order, or an all-zero Diffie-Hellman output.
 */
#define DMP_ERR_WEAK_KEY -14

/**
 * Unknown prekey, or a one-time prekey already used.
 */
#define DMP_ERR_UNKNOWN_PREKEY -15

/**
 * A stored record did not authenticate: wrong storage key, or corrupted.
 */
#define DMP_ERR_WRONG_STORAGE_KEY -16

/**
 * The operating system's random number generator failed.
 */
#define DMP_ERR_RANDOM_FAILURE -17

/**
 * An input exceeds a documented size limit.
 */
#define DMP_ERR_TOO_LARGE -18

/**
 * A decrypted state record is malformed or of another kind.
 */
#define DMP_ERR_BAD_STATE -19

/**
 * A group message or distribution from an agent that is not a member of the group.
 */
#define DMP_ERR_UNKNOWN_SENDER -20

/**
 * A group message under a sender key id no distribution was received for.
 */
#define DMP_ERR_UNKNOWN_KEY_ID -21

/**
 * A group message or distribution from a member that was removed.
 */
#define DMP_ERR_MEMBER_REMOVED -22

/**
 * A group message under a replaced sender key whose grace window has passed.
 */
#define DMP_ERR_SUPERSEDED_KEY -23

/**
 * The post-quantum part of a hybrid bundle or first message was removed.
 */
#define DMP_ERR_DOWNGRADE -24

/**
 * A classical-only set-up was refused by the caller's policy.
 */
#define DMP_ERR_PQ_REQUIRED -25

/**
 * No session with this peer, and no bundle of it to start one.
 */
#define DMP_ERR_NO_SESSION -26

/**
 * The store is open in another process or handle.
 */
#define DMP_ERR_STORE_LOCKED -27

/**
 * The store failed: an I/O error, a corrupted or foreign database file.
 */
#define DMP_ERR_STORE_FAILED -28

/**
 * A prekey bundle whose signed expiry has passed (fetch a newer one from its owner).
 */
#define DMP_ERR_EXPIRED_BUNDLE -29

/**
 * The ABI version: bumped on any incompatible change to this header (2: outbox entries by number,
 * bundles with a signed expiry, the agent's peer calls; issue 17).
 */
#define DMP_ABI_VERSION 2

/**
 * An agent. Opaque.
 */
typedef struct dmp_agent_t dmp_agent_t;

/**
 * A received event. Opaque; read it with the `dmp_event_*` functions, release it with
 * `dmp_event_free`.
 */
typedef struct dmp_event_t dmp_event_t;

/**
 * A group as one member sees it. Opaque.
 */
typedef struct dmp_group_t dmp_group_t;

/**
 * An identity (Ed25519 identity key, signed prekeys, one-time prekeys). Opaque.
 */
typedef struct dmp_identity_t dmp_identity_t;

/**
 * A pairwise session. Opaque.
 */
typedef struct dmp_session_t dmp_session_t;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Opens the agent stored at `path` (`path_len` bytes, not NUL-terminated; created with a fresh
 * hybrid identity if new), or an in-memory agent when `path_len` is 0. `flags` combines
 * `DMP_AGENT_*` (0 for the defaults). `*out` receives the handle (NULL on failure); the store
 * stays locked until `dmp_agent_free`. Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_INVALID_ARGUMENT` (unknown flag), `DMP_ERR_WRONG_STORAGE_KEY`,
 * `DMP_ERR_STORE_LOCKED` (open elsewhere), `DMP_ERR_STORE_FAILED` (I/O error, not a DMP store),
 * `DMP_ERR_BAD_STATE`, `DMP_ERR_UNSUPPORTED_VERSION`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `path` NULL or valid for `path_len` reads; `storage_key32` 32 reads; `out` a pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_open(const uint8_t *path,
                       size_t path_len,
                       const uint8_t *storage_key32,
                       int32_t flags,
                       dmp_agent_t **out);

/**
 * As `dmp_agent_open`, with the identity of a 32-byte seed for a new store; an existing store
 * must hold that identity (`DMP_ERR_INVALID_ARGUMENT` otherwise).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * As `dmp_agent_open`; `seed32` 32 reads.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_open_with_seed(const uint8_t *path,
                                 size_t path_len,
                                 const uint8_t *storage_key32,
                                 const uint8_t *seed32,
                                 int32_t flags,
                                 dmp_agent_t **out);

/**
 * Closes the agent (releasing its store's lock) and zeroizes its secrets. NULL, a freed handle and any other pointer are ignored. A call on it that is in
 * progress on another thread completes first; later calls are refused with
 * `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
 */
void dmp_agent_free(dmp_agent_t *agent);

/**
 * Writes the agent id (32 bytes). Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `agent` NULL or live; `id32_out` NULL or 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_id(const dmp_agent_t *agent, uint8_t *id32_out);

/**
 * Writes the agent's fingerprint (`DMP_FINGERPRINT_LEN` ASCII bytes, not NUL-terminated).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_fingerprint(const dmp_agent_t *agent,
                              uint8_t *out,
                              size_t out_cap,
                              size_t *out_len);

/**
 * Writes the agent's prekey bundle to publish; with `with_one_time_prekey` = 1 a one-time
 * prekey is handed out (and saved as such before the call returns). A too-small buffer hands
 * out nothing. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (flag not 0/1),
 * `DMP_ERR_BUFFER_TOO_SMALL`, store errors.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_bundle(dmp_agent_t *agent,
                         int32_t with_one_time_prekey,
                         uint8_t *out,
                         size_t out_cap,
                         size_t *out_len);

/**
 * Verifies and remembers a peer's bundle so that `dmp_agent_send` can start a session with it;
 * writes the peer's id. Errors: `DMP_ERR_NULL_POINTER`, bundle errors as `dmp_bundle_verify`,
 * `DMP_ERR_INVALID_ARGUMENT` (our own bundle), store errors.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `bundle` NULL or valid for `bundle_len`; `peer32_out` 32 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_add_bundle(dmp_agent_t *agent,
                             const uint8_t *bundle,
                             size_t bundle_len,
                             uint8_t *peer32_out);

/**
 * Encrypts `pt` for the peer over its primary session, starting one from its bundle if there
 * is none. The largest `pt_len` is `DMP_MAX_PLAINTEXT_LEN - 1` (the agent adds a one-byte kind
 * to every pairwise payload). The new state is saved before the envelope is written. If `out_cap`
 * is too small:
 * `DMP_ERR_BUFFER_TOO_SMALL`, `*out_len` = size needed, nothing changed. Errors besides:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION` (no session and no bundle), `DMP_ERR_TOO_LARGE`,
 * bundle and store errors.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `peer32` 32 reads; `pt` NULL (if `pt_len` is 0) or valid; `out`,
 * `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_send(dmp_agent_t *agent,
                       const uint8_t *peer32,
                       const uint8_t *pt,
                       size_t pt_len,
                       uint8_t *out,
                       size_t out_cap,
                       size_t *out_len);

/**
 * Sets up a session with the peer without a message (its `dmp_agent_receive` reports
 * `DMP_EVENT_SESSION_ESTABLISHED`); writes the envelope. Errors as `dmp_agent_send`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * As `dmp_agent_send`.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_connect(dmp_agent_t *agent,
                          const uint8_t *peer32,
                          uint8_t *out,
                          size_t out_cap,
                          size_t *out_len);

/**
 * Decrypts any envelope addressed to the agent (pairwise, first message, or group) and creates
 * an event (`*event_out`, NULL on failure; free it with `dmp_event_free`). The new state is
 * saved before the event is returned. On any error nothing changes. Errors: those of
 * `dmp_session_accept`, `dmp_session_decrypt` and `dmp_group_decrypt`, `DMP_ERR_WRONG_SESSION`
 * (no such session or group), `DMP_ERR_WRONG_MESSAGE_TYPE` (a bundle or a bare distribution),
 * store errors.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `envelope` NULL or valid for `envelope_len`; `event_out` a pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_receive(dmp_agent_t *agent,
                          const uint8_t *envelope,
                          size_t envelope_len,
                          dmp_event_t **event_out);

/**
 * Writes the number of retained, unacknowledged events (always 0 without
 * `DMP_AGENT_RETAIN_EVENTS`). Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `agent` NULL or live; `count_out` a write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_pending_count(const dmp_agent_t *agent, size_t *count_out);

/**
 * Creates an event for the `index`-th retained event (0 = oldest). Errors:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (index out of range).
 *
 * # Safety
 * `agent` NULL or live; `event_out` a pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_pending_event(const dmp_agent_t *agent,
                                size_t index,
                                dmp_event_t **event_out);

/**
 * Acknowledges a retained event by its sequence number (`dmp_event_seq`): it is forgotten.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (no such retained event), store
 * errors.
 *
 * # Safety
 * `agent` NULL or live.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_ack(dmp_agent_t *agent, uint64_t seq);

/**
 * Writes the ids (32 bytes each) of the peers the agent has a session with, in id order.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_peers(const dmp_agent_t *agent,
                        uint8_t *out,
                        size_t out_cap,
                        size_t *out_len);

/**
 * Writes the state (`DMP_SESSION_*`) of the primary session with the peer.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION`, agent id errors.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `peer32` 32 reads; `state_out` a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_session_state(const dmp_agent_t *agent,
                                const uint8_t *peer32,
                                int32_t *state_out);

/**
 * Periodic upkeep at `now_unix` (seconds since 1970): rotates the signed prekey when due,
 * replenishes one-time prekeys, drops old non-primary sessions. Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_RANDOM_FAILURE`, store errors.
 *
 * # Safety
 * `agent` NULL or live.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_maintain(dmp_agent_t *agent, uint64_t now_unix);

/**
 * Creates a group with a fresh random id (written to `group_id32_out`) and no other member.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_TOO_LARGE` (the agent holds 10,000 groups),
 * `DMP_ERR_RANDOM_FAILURE`, store errors.
 *
 * # Safety
 * `agent` NULL or live; `group_id32_out` 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_group_create(dmp_agent_t *agent, uint8_t *group_id32_out);

/**
 * Adds the peer to the group and queues our sender key for it in the outbox. Errors:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION` (no such group), `DMP_ERR_NO_SESSION`,
 * `DMP_ERR_INVALID_ARGUMENT` (already a member, or ourselves), store errors.
 *
 * # Safety
 * `agent` NULL or live; `group_id32`, `peer32` 32 reads.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_group_add(dmp_agent_t *agent,
                            const uint8_t *group_id32,
                            const uint8_t *peer32);

/**
 * Removes the peer from the group: our sender key rotates and the new one is queued in the
 * outbox for every remaining member. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`,
 * `DMP_ERR_UNKNOWN_SENDER` (not a member), `DMP_ERR_NO_SESSION` (nothing changes, our key
 * included), `DMP_ERR_TOO_LARGE` (key id overflow), `DMP_ERR_RANDOM_FAILURE`, the errors of
 * starting a session, store errors.
 *
 * # Safety
 * `agent` NULL or live; `group_id32`, `peer32` 32 reads.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_group_remove(dmp_agent_t *agent,
                               const uint8_t *group_id32,
                               const uint8_t *peer32);

/**
 * Forgets the group: its record and every key in it, ours included, are deleted; nothing is
 * sent (the other members keep our last key until they remove us). A distribution for the group
 * that arrives later is an invitation again. The answer to an unwanted invitation (an event
 * whose `dmp_event_new_group` is 1). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`
 * (no such group), store errors.
 *
 * # Safety
 * `agent` NULL or live; `group_id32` 32 reads.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_group_leave(dmp_agent_t *agent, const uint8_t *group_id32);

/**
 * Encrypts `pt` once for the whole group; send the envelope to every member
 * (`dmp_agent_group_members`). A too-small buffer: `DMP_ERR_BUFFER_TOO_SMALL`, size needed,
 * nothing changed. Errors besides: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`,
 * `DMP_ERR_TOO_LARGE`, store errors.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `group_id32` 32 reads; `pt` valid; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_group_send(dmp_agent_t *agent,
                             const uint8_t *group_id32,
                             const uint8_t *pt,
                             size_t pt_len,
                             uint8_t *out,
                             size_t out_cap,
                             size_t *out_len);

/**
 * Writes the other members of the group (32 bytes each, in id order). Errors:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`, `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `group_id32` 32 reads; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_group_members(const dmp_agent_t *agent,
                                const uint8_t *group_id32,
                                uint8_t *out,
                                size_t out_cap,
                                size_t *out_len);

/**
 * Writes how many envelopes wait in the outbox (sender keys queued by group operations).
 * Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `agent` NULL or live; `count_out` a write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_outbox_count(const dmp_agent_t *agent, size_t *count_out);

/**
 * Writes the oldest outbox envelope, its recipient and its number, without removing it: send
 * it, then call `dmp_agent_outbox_done` with that number (only that entry is removed, so two
 * threads draining one outbox never remove an envelope that was not sent). Errors:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (outbox empty), `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `peer32_out` 32 writes; `out`, `out_len` as usual; `seq_out` a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_outbox_next(const dmp_agent_t *agent,
                              uint8_t *peer32_out,
                              uint8_t *out,
                              size_t out_cap,
                              size_t *out_len,
                              uint64_t *seq_out);

/**
 * Removes outbox entry `seq` (it was sent). An entry already removed is not an error (another
 * thread sent it too; the receiver refuses the second copy as `DMP_ERR_DUPLICATE`). Errors:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (a number the outbox never gave), store
 * errors.
 *
 * # Safety
 * `agent` NULL or live.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_outbox_done(dmp_agent_t *agent, uint64_t seq);

/**
 * Signs an application message `msg` as this agent; writes a 64-byte Ed25519 signature (plain
 * RFC 8032) that verifies under the agent id with `dmp_ed25519_verify` or any Ed25519 library.
 * Messages that begin with the three bytes "DMP" are reserved for the protocol's own
 * signatures and are refused. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (a
 * reserved message; nothing written).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `msg` NULL (if `msg_len` is 0) or valid; `sig64_out` 64 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_sign(const dmp_agent_t *agent,
                       const uint8_t *msg,
                       size_t msg_len,
                       uint8_t *sig64_out);

/**
 * Accepts a peer that started a session with us (a stranger): it is no longer one of the at
 * most 1,000 strangers (PROTOCOL 11.4), dropped when idle or to make room. Sending to a peer,
 * adding its bundle or adding it to a group accepts it too. Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_NO_SESSION` (the agent knows nothing of the peer), agent id errors, store errors.
 *
 * # Safety
 * `agent` NULL or live; `peer32` 32 reads.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_accept_peer(dmp_agent_t *agent, const uint8_t *peer32);

/**
 * Writes 1 if the peer is accepted, 0 if it is a stranger. Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_NO_SESSION` (the agent knows nothing of the peer), agent id errors.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `peer32` 32 reads; `accepted_out` a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_is_accepted(const dmp_agent_t *agent,
                              const uint8_t *peer32,
                              int32_t *accepted_out);

/**
 * Closes every session with the peer (keys erased); the peer stays known, so the next send
 * starts a new session from its bundle (`DMP_ERR_NO_SESSION` if it was spent: add a fresh one).
 * The peer answers on the closed session until our second message on the new one: send twice. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION`
 * (no session with the peer), agent id errors, store errors.
 *
 * # Safety
 * `agent` NULL or live; `peer32` 32 reads.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_close_session(dmp_agent_t *agent,
                                const uint8_t *peer32);

/**
 * Forgets the peer: every session with it (keys erased), its bundle and its acceptance. Group
 * memberships and outbox envelopes stay. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION`
 * (the agent knows nothing of the peer), agent id errors, store errors.
 *
 * # Safety
 * `agent` NULL or live; `peer32` 32 reads.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_agent_forget_peer(dmp_agent_t *agent, const uint8_t *peer32);

/**
 * Writes the ids (32 bytes each, in id order) of the peers whose session we started has had no
 * reply for `unanswered_session_secs` (14 days by default) at `now_unix`: fetch their current
 * bundle, `dmp_agent_add_bundle` it and `dmp_agent_close_session`. Errors:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent` NULL or live; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_agent_unanswered_peers(const dmp_agent_t *agent,
                                   uint64_t now_unix,
                                   uint8_t *out,
                                   size_t out_cap,
                                   size_t *out_len);

/**
 * Writes the event's kind (`DMP_EVENT_*`). Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `event` NULL or live; `kind_out` a write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_event_kind(const dmp_event_t *event, int32_t *kind_out);

/**
 * Writes the id of the agent the event came from (authenticated). Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `event` NULL or live; `peer32_out` 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_event_peer(const dmp_event_t *event, uint8_t *peer32_out);

/**
 * Writes the group id of a group event. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE`
 * (not a group event).
 *
 * # Safety
 * `event` NULL or live; `group_id32_out` 32 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_event_group_id(const dmp_event_t *event,
                           uint8_t *group_id32_out);

/**
 * Writes the event's plaintext (empty unless a message). Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `event` NULL or live; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_event_plaintext(const dmp_event_t *event,
                            uint8_t *out,
                            size_t out_cap,
                            size_t *out_len);

/**
 * Writes the event's sequence number (for `dmp_agent_ack`) and whether it created a new
 * session (0 or 1). Errors: `DMP_ERR_NULL_POINTER`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `event` NULL or live; `seq_out`, `new_session_out` writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_event_seq(const dmp_event_t *event,
                      uint64_t *seq_out,
                      int32_t *new_session_out);

/**
 * Writes whether the event created a new group (0 or 1): a `DMP_EVENT_DISTRIBUTION_CONSUMED`
 * for a group the agent did not hold, taken as an invitation, with the event's peer as the
 * group's only other member and our own sender key queued for it. Anyone who knows a group id
 * (it is in the clear in every group message) can invite us into it first: check that the peer
 * is expected to invite us, else `dmp_agent_group_leave`. Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `event` NULL or live; `new_group_out` a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_event_new_group(const dmp_event_t *event,
                            int32_t *new_group_out);

/**
 * Releases an event (its plaintext is zeroized). NULL, a freed handle and any other pointer are ignored. A call on it that is in
 * progress on another thread completes first; later calls are refused with
 * `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
 */
void dmp_event_free(dmp_event_t *event);

/**
 * Creates our view of a group with id `group_id32` (any 32 bytes the members agree on, e.g.
 * from `dmp_random_bytes`), no other member yet and a fresh sender key (key id 1). `*out`
 * receives the handle (NULL on failure). Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_RANDOM_FAILURE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `identity` NULL or live; `group_id32` NULL or 32 reads; `out` a pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_new(const dmp_identity_t *identity,
                      const uint8_t *group_id32,
                      dmp_group_t **out);

/**
 * Releases a group; its keys are zeroized. NULL, a freed handle and any other pointer are ignored. A call on it that is in
 * progress on another thread completes first; later calls are refused with
 * `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
 */
void dmp_group_free(dmp_group_t *group);

/**
 * Writes the 32-byte group id. Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `group` NULL or live; `group_id32_out` NULL or 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_group_id(const dmp_group_t *group, uint8_t *group_id32_out);

/**
 * Adds a member (its 32-byte agent id). Then send it `dmp_group_distribution` over the
 * pairwise session: it reads our messages from now on, never earlier ones.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`/`DMP_ERR_WEAK_KEY` (not a valid agent
 * id), `DMP_ERR_INVALID_ARGUMENT` (ourselves, or already a member), `DMP_ERR_TOO_LARGE` (full).
 *
 * # Safety
 * `group` NULL or live; `member32` NULL or 32 reads.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_group_add_member(dmp_group_t *group, const uint8_t *member32);

/**
 * Removes a member: its keys are erased, its messages refused with `DMP_ERR_MEMBER_REMOVED`,
 * and our sender key rotates; send the new `dmp_group_distribution` to every remaining member.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_UNKNOWN_SENDER` (not a member), agent id errors,
 * `DMP_ERR_RANDOM_FAILURE`, `DMP_ERR_TOO_LARGE` (key ids exhausted).
 *
 * # Safety
 * `group` NULL or live; `member32` NULL or 32 reads.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_group_remove_member(dmp_group_t *group, const uint8_t *member32);

/**
 * Writes how many other members the group has. Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `group` NULL or live; `count_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_member_count(const dmp_group_t *group,
                               uint32_t *count_out);

/**
 * Writes the other members' agent ids, 32 bytes each, in id order (`32 * count` bytes).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `group` NULL or live; `out` NULL (if `out_cap` is 0) or `out_cap` writes; `out_len` a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_members(const dmp_group_t *group,
                          uint8_t *out,
                          size_t out_cap,
                          size_t *out_len);

/**
 * Writes our current sender key id (1 at creation, +1 per rotation). Errors:
 * `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `group` NULL or live; `key_id_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_group_key_id(const dmp_group_t *group, uint32_t *key_id_out);

/**
 * Replaces our sender key (new key id, chain and signing key); send the new
 * `dmp_group_distribution` to every member. Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_RANDOM_FAILURE`, `DMP_ERR_TOO_LARGE` (key ids exhausted).
 *
 * # Safety
 * `group` NULL or live.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_group_rotate(dmp_group_t *group);

/**
 * Writes our sender-key distribution at the current iteration (`DMP_DISTRIBUTION_LEN` bytes).
 * It is secret: send it to each member only inside their pairwise session.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `group` NULL or live; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_distribution(const dmp_group_t *group,
                               uint8_t *out,
                               size_t out_cap,
                               size_t *out_len);

/**
 * Takes in a distribution that `sender32` sent us; `sender32` must be the peer of the
 * pairwise session that carried it (that session authenticated it).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`, `DMP_ERR_WRONG_MESSAGE_TYPE`,
 * `DMP_ERR_WRONG_SESSION` (another group), `DMP_ERR_UNKNOWN_SENDER` (not a member, or not its own
 * key), `DMP_ERR_MEMBER_REMOVED`, `DMP_ERR_DUPLICATE` (key id already held),
 * `DMP_ERR_SUPERSEDED_KEY` (older key id), `DMP_ERR_WEAK_KEY`. Nothing changes on error.
 *
 * # Safety
 * `group` NULL or live; `sender32` NULL or 32 reads; `distribution` NULL or valid for its length.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_process_distribution(dmp_group_t *group,
                                       const uint8_t *sender32,
                                       const uint8_t *distribution,
                                       size_t distribution_len);

/**
 * Writes the exact size `dmp_group_encrypt` produces for a `pt_len`-byte plaintext (the same
 * for any group size). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_TOO_LARGE`.
 *
 * # Safety
 * `group` NULL or live; `len_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_encrypted_len(const dmp_group_t *group,
                                size_t pt_len,
                                size_t *len_out);

/**
 * Encrypts `pt` once for the whole group and signs it. If `out_cap` is too small,
 * `DMP_ERR_BUFFER_TOO_SMALL` with `*out_len` = size needed, nothing changed.
 * Errors besides: `DMP_ERR_NULL_POINTER`, `DMP_ERR_TOO_LARGE`, `DMP_ERR_RANDOM_FAILURE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `group` NULL or live; `pt` NULL (if `pt_len` is 0) or valid; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_encrypt(dmp_group_t *group,
                          const uint8_t *pt,
                          size_t pt_len,
                          uint8_t *out,
                          size_t out_cap,
                          size_t *out_len);

/**
 * Decrypts a group message: writes the sender's agent id and the plaintext. Checks, in order:
 * format, group (`DMP_ERR_WRONG_SESSION`), sender (`DMP_ERR_MEMBER_REMOVED`,
 * `DMP_ERR_UNKNOWN_SENDER`), key id (`DMP_ERR_UNKNOWN_KEY_ID`, `DMP_ERR_SUPERSEDED_KEY`),
 * signature (`DMP_ERR_BAD_SIGNATURE`), chain (`DMP_ERR_DUPLICATE`, `DMP_ERR_TOO_FAR_AHEAD`),
 * AEAD (`DMP_ERR_AUTH_FAILED`). On any error, `DMP_ERR_BUFFER_TOO_SMALL` included (with
 * `*out_len` = size needed), nothing changes and nothing is written to `sender32_out`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `group` NULL or live; `in_` NULL or valid for `in_len`; `sender32_out` 32 writes; `out`,
 * `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_decrypt(dmp_group_t *group,
                          const uint8_t *in_,
                          size_t in_len,
                          uint8_t *sender32_out,
                          uint8_t *out,
                          size_t out_cap,
                          size_t *out_len);

/**
 * Sets the padding of our outgoing group messages (`DMP_PADDING_*`).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `group` NULL or live.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_group_set_padding(dmp_group_t *group, int32_t mode);

/**
 * Sets the out-of-order limits applied to every sender (ranges as `dmp_session_set_limits`).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `group` NULL or live.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_set_limits(dmp_group_t *group,
                             uint32_t max_forward_jump,
                             uint32_t max_skipped_keys);

/**
 * Serializes the group (members, every sender key) encrypted with the 32-byte storage key.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`, `DMP_ERR_RANDOM_FAILURE`.
 *
 * A record is stale as soon as the group encrypts again: store the new one before sending that
 * envelope, and never go back to an older record of a group that has sent since. An older copy
 * would encrypt with message keys already used, and group message keys always use the same
 * nonce (docs/SECURITY.md section 4). `dmp_agent_*` does this for you.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `group` NULL or live; `storage_key32` 32 reads; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_serialize(const dmp_group_t *group,
                            const uint8_t *storage_key32,
                            uint8_t *out,
                            size_t out_cap,
                            size_t *out_len);

/**
 * Restores a group from `dmp_group_serialize` output; `*out` receives the handle (NULL on
 * failure). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STORAGE_KEY`, `DMP_ERR_BAD_STATE`,
 * `DMP_ERR_UNSUPPORTED_VERSION`. Only the newest record of a group may be restored (see
 * `dmp_group_serialize`).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `record` NULL or valid for `record_len`; `storage_key32` 32 reads; `out` a pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_group_deserialize(const uint8_t *record,
                              size_t record_len,
                              const uint8_t *storage_key32,
                              dmp_group_t **out);

/**
 * Creates a fresh random hybrid (X25519 + ML-KEM-768) identity with a first signed prekey;
 * `*out` receives the handle
 * (NULL on failure). Free it with `dmp_identity_free`.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
 *
 * # Safety
 * `out` must be NULL or valid for a pointer write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_identity_generate(dmp_identity_t **out);

/**
 * Creates the hybrid identity of a 32-byte seed: the same seed always gives the same agent id
 * (and identity key); every prekey, and every prekey id, is fresh randomness, so two identities
 * from one seed share nothing else. `*out` receives the handle (NULL on failure).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `seed32` must be NULL or valid for 32 reads; `out` NULL or valid for a pointer write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_identity_from_seed(const uint8_t *seed32, dmp_identity_t **out);

/**
 * Creates a fresh random identity of `suite` (`DMP_SUITE_HYBRID`, as `dmp_identity_generate`
 * does, or `DMP_SUITE_CLASSICAL`). `*out` receives the handle (NULL on failure).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_RANDOM_FAILURE`.
 *
 * # Safety
 * `out` must be NULL or valid for a pointer write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_identity_generate_with(int32_t suite, dmp_identity_t **out);

/**
 * Creates the identity of `suite` for a 32-byte seed (as `dmp_identity_from_seed`, which is
 * hybrid). Only the agent id (the identity key) comes from the seed; the prekeys are fresh.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_RANDOM_FAILURE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `seed32` must be NULL or valid for 32 reads; `out` NULL or valid for a pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_from_seed_with(const uint8_t *seed32,
                                    int32_t suite,
                                    dmp_identity_t **out);

/**
 * Writes the identity's suite (`DMP_SUITE_CLASSICAL` or `DMP_SUITE_HYBRID`).
 * Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `identity` NULL or live; `suite_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_suite(const dmp_identity_t *identity,
                           int32_t *suite_out);

/**
 * Releases an identity; its secrets are zeroized. NULL, a freed handle and any other pointer are ignored. A call on it that is in
 * progress on another thread completes first; later calls are refused with
 * `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
 */
void dmp_identity_free(dmp_identity_t *identity);

/**
 * Writes the agent id (the 32-byte Ed25519 public key).
 * Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `identity` NULL or live; `public32_out` NULL or valid for 32 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_public_key(const dmp_identity_t *identity,
                                uint8_t *public32_out);

/**
 * Writes the identity's fingerprint: `DMP_FINGERPRINT_LEN` ASCII bytes, not NUL-terminated,
 * e.g. "1a2b 3c4d 5e6f 7a8b 9c0d 1e2f 3a4b 5c6d", for people to compare out of band.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `identity` NULL or live; `out` NULL or valid for `out_cap` writes; `out_len` NULL or valid.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_fingerprint(const dmp_identity_t *identity,
                                 uint8_t *out,
                                 size_t out_cap,
                                 size_t *out_len);

/**
 * Writes the fingerprint of any agent id (32 bytes), as `dmp_identity_fingerprint` does.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE` (not a curve point), `DMP_ERR_WEAK_KEY`,
 * `DMP_ERR_BUFFER_TOO_SMALL`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `agent_id32` NULL or valid for 32 reads; `out`/`out_len` as for `dmp_identity_fingerprint`.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_fingerprint(const uint8_t *agent_id32,
                        uint8_t *out,
                        size_t out_cap,
                        size_t *out_len);

/**
 * Signs an application message `msg` with the identity key; writes a 64-byte Ed25519 signature
 * (plain RFC 8032, over `msg` as given) that verifies under the agent id with
 * `dmp_ed25519_verify` or any Ed25519 library. Messages that begin with the three bytes "DMP"
 * are reserved for the protocol's own signatures (a prekey bundle's signature covers
 * "DMP1 prekey bundle" || ...) and are refused, so no application signature can pass for a
 * bundle. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (a reserved message;
 * nothing written).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `identity` NULL or live; `msg` NULL (if `msg_len` is 0) or valid; `sig64_out` 64 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_sign(const dmp_identity_t *identity,
                          const uint8_t *msg,
                          size_t msg_len,
                          uint8_t *sig64_out);

/**
 * Writes a prekey bundle for others to start sessions with: for a hybrid identity
 * `DMP_HYBRID_BUNDLE_LEN` bytes, or `DMP_BUNDLE_MAX_LEN` with `with_one_time_prekey` = 1; for a
 * classical one `DMP_BUNDLE_LEN`, or `DMP_BUNDLE_LEN + 36`. The bundle is valid for 14 days
 * from the system clock's now (its signed expiry). With the flag, the oldest one-time
 * prekey not yet handed out is included (one is generated if none is left) and marked handed
 * out. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (flag not 0/1),
 * `DMP_ERR_BUFFER_TOO_SMALL` (checked first: no prekey is marked), `DMP_ERR_TOO_LARGE`
 * (one-time prekey pool full).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `identity` NULL or live; `out` NULL (if `out_cap` is 0) or valid; `out_len` NULL or valid.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_bundle(dmp_identity_t *identity,
                            int32_t with_one_time_prekey,
                            uint8_t *out,
                            size_t out_cap,
                            size_t *out_len);

/**
 * Verifies a prekey bundle (format, identity key, the strict signature over the whole bundle, a
 * valid ML-KEM key paired with its prekey) and writes its agent id. An X25519 prekey of small
 * order is not refused here but where it is used: `dmp_session_initiate` returns
 * `DMP_ERR_WEAK_KEY`. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`,
 * `DMP_ERR_UNSUPPORTED_VERSION`, `DMP_ERR_WRONG_MESSAGE_TYPE`, `DMP_ERR_BAD_SIGNATURE` (any byte
 * changed, and any block removed: a hybrid bundle stripped of its ML-KEM part included),
 * `DMP_ERR_EXPIRED_BUNDLE` (its signed expiry is not after the system clock's now),
 * `DMP_ERR_WEAK_KEY` (an identity key outside the prime-order subgroup).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `bundle` NULL or valid for `bundle_len` reads; `agent_id32_out` NULL or valid for 32 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_bundle_verify(const uint8_t *bundle,
                          size_t bundle_len,
                          uint8_t *agent_id32_out);

/**
 * Replaces the signed prekey with a fresh one and writes its id. The replaced one still
 * accepts first messages until the next rotation. Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_RANDOM_FAILURE`, `DMP_ERR_TOO_LARGE` (ids exhausted).
 *
 * # Safety
 * `identity` NULL or live; `new_id_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_rotate_signed_prekey(dmp_identity_t *identity,
                                          uint32_t *new_id_out);

/**
 * Writes the current signed prekey's id. Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `identity` NULL or live; `id_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_signed_prekey_id(const dmp_identity_t *identity,
                                      uint32_t *id_out);

/**
 * Generates `count` one-time prekeys. Refused with `DMP_ERR_TOO_LARGE` (nothing generated) if
 * the identity would hold more than `DMP_MAX_ONE_TIME_PREKEYS`. Errors besides:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
 *
 * # Safety
 * `identity` NULL or live.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_generate_one_time_prekeys(dmp_identity_t *identity,
                                               uint32_t count);

/**
 * Writes how many one-time prekeys the identity holds (handed out or not; used ones are
 * deleted). Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `identity` NULL or live; `count_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_one_time_prekey_count(const dmp_identity_t *identity,
                                           uint32_t *count_out);

/**
 * Serializes the identity (with every prekey secret) encrypted with the 32-byte storage key.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL` (`*out_len` = size needed).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `identity` NULL or live; `storage_key32` NULL or 32 reads; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_serialize(const dmp_identity_t *identity,
                               const uint8_t *storage_key32,
                               uint8_t *out,
                               size_t out_cap,
                               size_t *out_len);

/**
 * Restores an identity from `dmp_identity_serialize` output; `*out` receives the handle (NULL
 * on failure). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STORAGE_KEY`, `DMP_ERR_BAD_STATE`,
 * `DMP_ERR_UNSUPPORTED_VERSION`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `record` NULL or valid for `record_len` reads; `storage_key32` 32 reads; `out` pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_identity_deserialize(const uint8_t *record,
                                 size_t record_len,
                                 const uint8_t *storage_key32,
                                 dmp_identity_t **out);

/**
 * XChaCha20-Poly1305 encryption with a fresh random nonce.
 *
 * Writes `nonce (24) || ciphertext || tag (16)` to `out`: exactly `pt_len + DMP_AEAD_OVERHEAD`
 * bytes, openable by libsodium's `crypto_aead_xchacha20poly1305_ietf_decrypt` (nonce first).
 * `ad` and `pt` may be NULL when their length is 0.
 *
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL` (`*out_len` = size needed),
 * `DMP_ERR_TOO_LARGE`, `DMP_ERR_RANDOM_FAILURE`. Thread-safe (no shared state).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * Pointers must be NULL or valid for the lengths given; `key32` for 32 bytes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_aead_seal(const uint8_t *key32,
                      const uint8_t *ad,
                      size_t ad_len,
                      const uint8_t *pt,
                      size_t pt_len,
                      uint8_t *out,
                      size_t out_cap,
                      size_t *out_len);

/**
 * XChaCha20-Poly1305 decryption of `nonce || ciphertext || tag`.
 *
 * Writes `in_len - DMP_AEAD_OVERHEAD` bytes of plaintext. On any failure nothing is left in
 * `out` (it is zeroed). Errors: `DMP_ERR_AUTH_FAILED` (tampered, truncated below
 * `DMP_AEAD_OVERHEAD`, wrong key or wrong `ad`), `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_BUFFER_TOO_SMALL` (`*out_len` = size needed). Thread-safe.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * Pointers must be NULL or valid for the lengths given; `key32` for 32 bytes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_aead_open(const uint8_t *key32,
                      const uint8_t *ad,
                      size_t ad_len,
                      const uint8_t *in_,
                      size_t in_len,
                      uint8_t *out,
                      size_t out_cap,
                      size_t *out_len);

/**
 * Fills `out` with `len` bytes from the operating system's CSPRNG. `out` may be NULL if `len`
 * is 0. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`. Thread-safe.
 *
 * # Safety
 * `out` must be NULL or valid for `len` writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_random_bytes(uint8_t *out, size_t len);

/**
 * Zeroes `len` bytes at `buf` in a way the compiler cannot optimise away. `buf` may be NULL if
 * `len` is 0. Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `buf` must be NULL or valid for `len` writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_memzero(uint8_t *buf, size_t len);

/**
 * A fresh X25519 key pair: 32 secret bytes and the matching public key.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * Each pointer must be NULL or valid for 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_x25519_keypair(uint8_t *secret32_out, uint8_t *public32_out);

/**
 * The X25519 public key of a secret key. Errors: `DMP_ERR_NULL_POINTER`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `secret32` must be NULL or valid for 32 reads; `public32_out` for 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_x25519_public(const uint8_t *secret32, uint8_t *public32_out);

/**
 * X25519(secret, public) into `shared32_out`. An all-zero result (a small-order public key) is
 * refused with `DMP_ERR_WEAK_KEY` and nothing is written. Errors: `DMP_ERR_NULL_POINTER`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `secret32`, `public32` must be NULL or valid for 32 reads; `shared32_out` for 32 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_x25519(const uint8_t *secret32,
                   const uint8_t *public32,
                   uint8_t *shared32_out);

/**
 * A fresh Ed25519 key pair: its 32-byte seed (the secret) and public key.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * Each pointer must be NULL or valid for 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_ed25519_keypair(uint8_t *seed32_out, uint8_t *public32_out);

/**
 * The Ed25519 public key of a seed. Errors: `DMP_ERR_NULL_POINTER`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `seed32` must be NULL or valid for 32 reads; `public32_out` for 32 writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_ed25519_public(const uint8_t *seed32, uint8_t *public32_out);

/**
 * Signs `msg` (RFC 8032 Ed25519) with the key of `seed32`; writes 64 bytes.
 * `msg` may be NULL when `msg_len` is 0. Messages that begin with the three bytes "DMP" are
 * reserved for the protocol's own signatures (a prekey bundle's signature covers
 * "DMP1 prekey bundle" || ...) and are refused, as by `dmp_identity_sign`, so that no signature
 * made here with an identity's seed can pass for a bundle. Errors: `DMP_ERR_NULL_POINTER`,
 * `DMP_ERR_INVALID_ARGUMENT` (a reserved message; nothing written).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * Pointers must be NULL or valid: `seed32` 32 reads, `msg` `msg_len` reads, `sig64_out` 64 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_ed25519_sign(const uint8_t *seed32,
                         const uint8_t *msg,
                         size_t msg_len,
                         uint8_t *sig64_out);

/**
 * Strict Ed25519 verification: `DMP_OK` or `DMP_ERR_BAD_SIGNATURE` (also for a public key that
 * is not a valid point or is of small order, and for non-canonical signatures).
 * Errors besides: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * Pointers must be NULL or valid: `public32` 32 reads, `msg` `msg_len` reads, `sig64` 64 reads.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_ed25519_verify(const uint8_t *public32,
                           const uint8_t *msg,
                           size_t msg_len,
                           const uint8_t *sig64);

/**
 * HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and `info`, writing exactly `out_len` bytes.
 * An empty salt means a zero-filled salt. `out_len` above `DMP_HKDF_MAX_LEN` is
 * `DMP_ERR_TOO_LARGE`. Any input may be NULL when its length is 0; `out` when `out_len` is 0.
 * Errors besides: `DMP_ERR_NULL_POINTER`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * Pointers must be NULL or valid for the lengths given.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_hkdf_sha256(const uint8_t *salt,
                        size_t salt_len,
                        const uint8_t *ikm,
                        size_t ikm_len,
                        const uint8_t *info,
                        size_t info_len,
                        uint8_t *out,
                        size_t out_len);

/**
 * Starts a session (DORMANT) from a peer's prekey bundle, which is verified first; nothing is
 * sent until `dmp_session_encrypt`. Hybrid is required (`DMP_PQ_REQUIRE_HYBRID`); see
 * `dmp_session_initiate_with`. `*out` receives the handle (NULL on failure).
 * Errors: `DMP_ERR_NULL_POINTER`, bundle errors as `dmp_bundle_verify` (`DMP_ERR_BAD_SIGNATURE`
 * for a hybrid bundle stripped of its ML-KEM part), `DMP_ERR_PQ_REQUIRED` (a classical bundle),
 * `DMP_ERR_INVALID_ARGUMENT` (the bundle is the identity's own), `DMP_ERR_RANDOM_FAILURE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `identity` NULL or live; `bundle` NULL or valid for `bundle_len` reads; `out` pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_initiate(const dmp_identity_t *identity,
                             const uint8_t *bundle,
                             size_t bundle_len,
                             dmp_session_t **out);

/**
 * `dmp_session_initiate` with a post-quantum policy: `DMP_PQ_REQUIRE_HYBRID` or
 * `DMP_PQ_ALLOW_CLASSICAL` (accept a classical-only bundle). Any other value is
 * `DMP_ERR_INVALID_ARGUMENT`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * As `dmp_session_initiate`.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_initiate_with(const dmp_identity_t *identity,
                                  const uint8_t *bundle,
                                  size_t bundle_len,
                                  int32_t pq_policy,
                                  dmp_session_t **out);

/**
 * Creates the responder's session (ACTIVE) from a peer's first message and writes its
 * plaintext. The one-time prekeys it used are deleted from `identity`. If `pt_cap` is too
 * small, `DMP_ERR_BUFFER_TOO_SMALL` with `*pt_len` = size needed, and nothing is created or
 * consumed: call again with a larger buffer. `*session_out` is NULL on failure. Hybrid is
 * required (`DMP_PQ_REQUIRE_HYBRID`); see `dmp_session_accept_with`.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`, `DMP_ERR_UNSUPPORTED_VERSION`,
 * `DMP_ERR_WRONG_MESSAGE_TYPE` (not a first message), `DMP_ERR_UNKNOWN_PREKEY` (unknown signed
 * or ML-KEM prekey, or a one-time prekey already used), `DMP_ERR_DOWNGRADE` (a classical message
 * naming a hybrid signed prekey), `DMP_ERR_PQ_REQUIRED`, `DMP_ERR_WEAK_KEY`,
 * `DMP_ERR_AUTH_FAILED` (including a tampered ML-KEM ciphertext), `DMP_ERR_TOO_FAR_AHEAD`,
 * `DMP_ERR_INVALID_ARGUMENT` (from oneself).
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `identity` NULL or live; `envelope` NULL or valid for `envelope_len` reads; `session_out` a
 * pointer write; `pt_out` NULL (if `pt_cap` is 0) or `pt_cap` writes; `pt_len` a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_accept(dmp_identity_t *identity,
                           const uint8_t *envelope,
                           size_t envelope_len,
                           dmp_session_t **session_out,
                           uint8_t *pt_out,
                           size_t pt_cap,
                           size_t *pt_len);

/**
 * `dmp_session_accept` with a post-quantum policy: `DMP_PQ_REQUIRE_HYBRID` or
 * `DMP_PQ_ALLOW_CLASSICAL` (accept a classical first message to a classical signed prekey; a
 * hybrid signed prekey is never accepted without its ML-KEM part). Any other value is
 * `DMP_ERR_INVALID_ARGUMENT`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * As `dmp_session_accept`.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_accept_with(dmp_identity_t *identity,
                                const uint8_t *envelope,
                                size_t envelope_len,
                                int32_t pq_policy,
                                dmp_session_t **session_out,
                                uint8_t *pt_out,
                                size_t pt_cap,
                                size_t *pt_len);

/**
 * Writes the exact envelope size `dmp_session_encrypt` produces for a `pt_len`-byte plaintext
 * in the session's current state. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE`
 * (CLOSED), `DMP_ERR_TOO_LARGE` (over `DMP_MAX_PLAINTEXT_LEN`).
 *
 * # Safety
 * `session` NULL or live; `len_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_encrypted_len(const dmp_session_t *session,
                                  size_t pt_len,
                                  size_t *len_out);

/**
 * Encrypts `pt` into an envelope for the peer. DORMANT becomes INITIATING. If `out_cap` is too
 * small, `DMP_ERR_BUFFER_TOO_SMALL` with `*out_len` = size needed and the session unchanged.
 * Errors besides: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (CLOSED), `DMP_ERR_TOO_LARGE`,
 * `DMP_ERR_RANDOM_FAILURE` (session unchanged). Randomness is drawn only by the first encrypt
 * after a message under a new peer ratchet key, which makes a fresh ratchet key for the new
 * sending chain; otherwise the message key is the chain's next one.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `session` NULL or live; `pt` NULL (if `pt_len` is 0) or valid; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_encrypt(dmp_session_t *session,
                            const uint8_t *pt,
                            size_t pt_len,
                            uint8_t *out,
                            size_t out_cap,
                            size_t *out_len);

/**
 * Decrypts an envelope from the peer and writes the plaintext. INITIATING becomes ACTIVE. On
 * any error the session is unchanged; with `DMP_ERR_BUFFER_TOO_SMALL` `*out_len` holds the size
 * needed and the same envelope can be decrypted again. A plaintext is never larger than
 * `envelope_len - DMP_MESSAGE_HEADER_LEN - DMP_TAG_LEN - 1`; with one byte more than that,
 * `out_cap` always holds the framed plaintext, which is then decrypted straight into `out` (no
 * copy; the bytes after the plaintext are zeroed).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (DORMANT or CLOSED),
 * `DMP_ERR_BAD_ENVELOPE`, `DMP_ERR_UNSUPPORTED_VERSION`, `DMP_ERR_WRONG_MESSAGE_TYPE`,
 * `DMP_ERR_WRONG_SESSION`, `DMP_ERR_AUTH_FAILED`, `DMP_ERR_DUPLICATE`, `DMP_ERR_TOO_FAR_AHEAD`,
 * `DMP_ERR_WEAK_KEY`, `DMP_ERR_TOO_LARGE`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `session` NULL or live; `envelope` NULL or valid for `envelope_len`; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_decrypt(dmp_session_t *session,
                            const uint8_t *envelope,
                            size_t envelope_len,
                            uint8_t *out,
                            size_t out_cap,
                            size_t *out_len);

/**
 * Writes the lifecycle state as a `DMP_SESSION_*` value. Works in every state, CLOSED included.
 * Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `session` NULL or live; `state_out` NULL or valid for a write.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_session_state(const dmp_session_t *session, int32_t *state_out);

/**
 * Writes the peer's 32-byte agent id. Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `session` NULL or live; `peer32_out` NULL or valid for 32 writes.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_peer_id(const dmp_session_t *session,
                            uint8_t *peer32_out);

/**
 * Writes the `DMP_SESSION_ID_LEN`-byte session id carried by every envelope of the session.
 * Errors: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `session` NULL or live; `id8_out` NULL or valid for `DMP_SESSION_ID_LEN` (8) writes.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_session_id(const dmp_session_t *session, uint8_t *id8_out);

/**
 * Sets the padding of outgoing messages (`DMP_PADDING_NONE` or `DMP_PADDING_BUCKETS`).
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_WRONG_STATE` (CLOSED).
 *
 * # Safety
 * `session` NULL or live.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_session_set_padding(dmp_session_t *session, int32_t mode);

/**
 * Sets the out-of-order limits: the largest forward jump in one chain (1 to
 * `DMP_MAX_FORWARD_JUMP_CEILING`) and the cap on stored skipped keys (1 to
 * `DMP_MAX_SKIPPED_KEYS_CEILING`); lowering the cap evicts the oldest stored keys now.
 * Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_WRONG_STATE` (CLOSED).
 *
 * # Safety
 * `session` NULL or live.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_set_limits(dmp_session_t *session,
                               uint32_t max_forward_jump,
                               uint32_t max_skipped_keys);

/**
 * Closes the session: every key is erased and every later call except `dmp_session_state`,
 * `dmp_session_peer_id`, `dmp_session_id` and `dmp_session_free` is refused with
 * `DMP_ERR_WRONG_STATE`. Closing a CLOSED session is `DMP_ERR_WRONG_STATE`.
 * Errors besides: `DMP_ERR_NULL_POINTER`.
 *
 * # Safety
 * `session` NULL or live.
 */
DMP_WARN_UNUSED_RESULT int32_t dmp_session_close(dmp_session_t *session);

/**
 * Serializes the session encrypted with the 32-byte storage key. Errors:
 * `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (CLOSED), `DMP_ERR_BUFFER_TOO_SMALL`
 * (`*out_len` = size needed).
 *
 * A record is stale as soon as the session encrypts again: store the new one before sending
 * that envelope, and never go back to an older record of a session that has sent since. An
 * older copy would encrypt with message keys already used, and each message key always uses the
 * same nonce (docs/SECURITY.md section 4). `dmp_agent_*` does this for you.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `session` NULL or live; `storage_key32` NULL or 32 reads; `out`, `out_len` as usual.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_serialize(const dmp_session_t *session,
                              const uint8_t *storage_key32,
                              uint8_t *out,
                              size_t out_cap,
                              size_t *out_len);

/**
 * Restores a session from `dmp_session_serialize` output; `*out` receives the handle (NULL on
 * failure). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STORAGE_KEY`, `DMP_ERR_BAD_STATE`,
 * `DMP_ERR_UNSUPPORTED_VERSION`.
 * No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
 * before anything else, nothing written.
 *
 * # Safety
 * `record` NULL or valid for `record_len` reads; `storage_key32` 32 reads; `out` pointer write.
 */
DMP_WARN_UNUSED_RESULT
int32_t dmp_session_deserialize(const uint8_t *record,
                                size_t record_len,
                                const uint8_t *storage_key32,
                                dmp_session_t **out);

/**
 * Releases a session; its keys are zeroized. NULL, a freed handle and any other pointer are ignored. A call on it that is in
 * progress on another thread completes first; later calls are refused with
 * `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
 */
void dmp_session_free(dmp_session_t *session);

/**
 * The value of `DMP_KEY_LEN`: bytes of a symmetric key (storage key, AEAD key).
 */
size_t dmp_key_len(void);

/**
 * The value of `DMP_PUBLIC_KEY_LEN`: bytes of an X25519 or Ed25519 public key, and of an agent id.
 */
size_t dmp_public_key_len(void);

/**
 * The value of `DMP_SECRET_KEY_LEN`: bytes of an X25519 secret key or an Ed25519 seed.
 */
size_t dmp_secret_key_len(void);

/**
 * The value of `DMP_SIGNATURE_LEN`: bytes of an Ed25519 signature.
 */
size_t dmp_signature_len(void);

/**
 * The value of `DMP_SHARED_SECRET_LEN`: bytes of an X25519 shared secret.
 */
size_t dmp_shared_secret_len(void);

/**
 * The value of `DMP_NONCE_LEN`: bytes of the XChaCha20-Poly1305 nonce at the front of a sealed message.
 */
size_t dmp_nonce_len(void);

/**
 * The value of `DMP_TAG_LEN`: bytes of the Poly1305 tag at the end of a sealed message.
 */
size_t dmp_tag_len(void);

/**
 * The value of `DMP_AEAD_OVERHEAD`: bytes `dmp_aead_seal` adds to a plaintext (nonce + tag).
 */
size_t dmp_aead_overhead(void);

/**
 * The value of `DMP_SESSION_ID_LEN`: bytes of a session id.
 */
size_t dmp_session_id_len(void);

/**
 * The value of `DMP_FINGERPRINT_LEN`: bytes of a fingerprint text (ASCII, not NUL-terminated), e.g. "1a2b 3c4d ... 7e8f".
 */
size_t dmp_fingerprint_len(void);

/**
 * The value of `DMP_MAX_PLAINTEXT_LEN`: largest plaintext a session message may carry (1 MiB).
 */
size_t dmp_max_plaintext_len(void);

/**
 * The value of `DMP_MAX_ENVELOPE_LEN`: largest envelope a session accepts.
 */
size_t dmp_max_envelope_len(void);

/**
 * The value of `DMP_BUNDLE_LEN`: bytes of a classical prekey bundle without a one-time prekey (the smallest bundle).
 */
size_t dmp_bundle_len(void);

/**
 * The value of `DMP_BUNDLE_MAX_LEN`: bytes of a hybrid prekey bundle with a one-time prekey (the largest bundle).
 */
size_t dmp_bundle_max_len(void);

/**
 * The value of `DMP_MESSAGE_HEADER_LEN`: header bytes of a session message before its sealed part (shortest form).
 */
size_t dmp_message_header_len(void);

/**
 * The value of `DMP_PREKEY_MESSAGE_HEADER_LEN`: header bytes of a classical first (prekey) message before its sealed part.
 */
size_t dmp_prekey_message_header_len(void);

/**
 * The value of `DMP_HKDF_MAX_LEN`: largest HKDF-SHA256 output (255 * 32).
 */
size_t dmp_hkdf_max_len(void);

/**
 * The value of `DMP_DEFAULT_MAX_FORWARD_JUMP`: default forward-jump limit of a session.
 */
uint32_t dmp_default_max_forward_jump(void);

/**
 * The value of `DMP_DEFAULT_MAX_SKIPPED_KEYS`: default cap on stored skipped message keys.
 */
uint32_t dmp_default_max_skipped_keys(void);

/**
 * The value of `DMP_MAX_FORWARD_JUMP_CEILING`: largest forward-jump limit `dmp_session_set_limits` accepts.
 */
uint32_t dmp_max_forward_jump_ceiling(void);

/**
 * The value of `DMP_MAX_SKIPPED_KEYS_CEILING`: largest skipped-key cap `dmp_session_set_limits` accepts.
 */
uint32_t dmp_max_skipped_keys_ceiling(void);

/**
 * The value of `DMP_MAX_ONE_TIME_PREKEYS`: most one-time prekeys an identity holds.
 */
size_t dmp_max_one_time_prekeys(void);

/**
 * The value of `DMP_GROUP_ID_LEN`: bytes of a group id.
 */
size_t dmp_group_id_len(void);

/**
 * The value of `DMP_DISTRIBUTION_LEN`: bytes of a sender-key distribution.
 */
size_t dmp_distribution_len(void);

/**
 * The value of `DMP_GROUP_MESSAGE_HEADER_LEN`: header bytes of a group message before its sealed part (a 64-byte signature follows it).
 */
size_t dmp_group_message_header_len(void);

/**
 * The value of `DMP_MAX_GROUP_MEMBERS`: most members a group holds besides oneself.
 */
size_t dmp_max_group_members(void);

/**
 * The value of `DMP_GROUP_KEY_GRACE_MESSAGES`: messages under a sender's newer key after which its replaced key is refused.
 */
uint32_t dmp_group_key_grace_messages(void);

/**
 * The value of `DMP_HYBRID_BUNDLE_LEN`: bytes of a hybrid prekey bundle without a one-time prekey.
 */
size_t dmp_hybrid_bundle_len(void);

/**
 * The value of `DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN`: header bytes of a hybrid first (prekey) message before its sealed part.
 */
size_t dmp_hybrid_prekey_message_header_len(void);

/**
 * The value of `DMP_KEM_PUBLIC_KEY_LEN`: bytes of an ML-KEM-768 encapsulation key.
 */
size_t dmp_kem_public_key_len(void);

/**
 * The value of `DMP_KEM_CIPHERTEXT_LEN`: bytes of an ML-KEM-768 ciphertext.
 */
size_t dmp_kem_ciphertext_len(void);

/**
 * A static, NUL-terminated description of any status code (including 0 and unknown codes).
 * Never NULL; the string must not be freed.
 */
const char *dmp_strerror(int32_t status);

/**
 * The detail of the last failure on the calling thread ("" if none yet), e.g.
 * "dmp_session_decrypt: output buffer too small (DMP_ERR_BUFFER_TOO_SMALL): need 12 bytes, out_cap is 4".
 * Never NULL. Valid until the next failing DMP call on this thread; do not free it.
 */
const char *dmp_last_error_message(void);

/**
 * The library version as a static NUL-terminated string, e.g. "0.1.0". Never NULL.
 */
const char *dmp_version(void);

/**
 * The ABI version of the linked library; compare with `DMP_ABI_VERSION` from the header.
 */
uint32_t dmp_abi_version(void);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* DMP_H */
