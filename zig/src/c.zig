//! The C ABI of libdmp (include/dmp.h), declared by hand.
//!
//! Why by hand and not with `b.addTranslateC`: the declarations use Zig pointer types that say
//! what the header's doc comments say (`?[*]const u8` for an input that may be NULL when its
//! length is 0, `?*?*dmp_session_t` for a handle out-parameter, `[*:0]const u8` for the static
//! strings), a dependent project needs no C translation step, and the header's quirks cannot
//! break the build. The test `tests/header_test.zig` parses include/dmp.h and fails if any
//! function or constant here differs from it, or if the header has one this file lacks.
//!
//! Callers should use the idiomatic wrapper in dmp.zig; this file is its raw layer.

/// An identity (Ed25519 identity key, signed prekeys, one-time prekeys). Opaque.
pub const dmp_identity_t = opaque {};
/// A pairwise session. Opaque.
pub const dmp_session_t = opaque {};
/// A group as one member sees it. Opaque.
pub const dmp_group_t = opaque {};
/// An agent: an identity with its sessions and groups, persisted in a store. Opaque.
pub const dmp_agent_t = opaque {};
/// A received event (read with dmp_event_*, released with dmp_event_free). Opaque.
pub const dmp_event_t = opaque {};

// ---- constants (the header's #defines) ----
pub const DMP_AGENT_RETAIN_EVENTS = 1;
pub const DMP_AGENT_REFUSE_GROUP_INVITES = 2;
pub const DMP_AGENT_ALLOW_CLASSICAL = 4;
pub const DMP_EVENT_MESSAGE = 1;
pub const DMP_EVENT_GROUP_MESSAGE = 2;
pub const DMP_EVENT_DISTRIBUTION_CONSUMED = 3;
pub const DMP_EVENT_SESSION_ESTABLISHED = 4;
pub const DMP_SUITE_CLASSICAL = 1;
pub const DMP_SUITE_HYBRID = 2;
pub const DMP_SESSION_DORMANT = 0;
pub const DMP_SESSION_INITIATING = 1;
pub const DMP_SESSION_ACTIVE = 2;
pub const DMP_SESSION_CLOSED = 3;
pub const DMP_PADDING_NONE = 0;
pub const DMP_PADDING_BUCKETS = 1;
pub const DMP_PQ_REQUIRE_HYBRID = 0;
pub const DMP_PQ_ALLOW_CLASSICAL = 1;
pub const DMP_KEY_LEN = 32;
pub const DMP_PUBLIC_KEY_LEN = 32;
pub const DMP_SECRET_KEY_LEN = 32;
pub const DMP_SIGNATURE_LEN = 64;
pub const DMP_SHARED_SECRET_LEN = 32;
pub const DMP_NONCE_LEN = 24;
pub const DMP_TAG_LEN = 16;
pub const DMP_AEAD_OVERHEAD = 40;
pub const DMP_SESSION_ID_LEN = 8;
pub const DMP_FINGERPRINT_LEN = 39;
pub const DMP_MAX_PLAINTEXT_LEN = 1048576;
pub const DMP_MAX_ENVELOPE_LEN = 1179648;
pub const DMP_BUNDLE_LEN = 143;
pub const DMP_BUNDLE_MAX_LEN = 1368;
pub const DMP_MESSAGE_HEADER_LEN = 44;
pub const DMP_PREKEY_MESSAGE_HEADER_LEN = 117;
pub const DMP_HKDF_MAX_LEN = 8160;
pub const DMP_DEFAULT_MAX_FORWARD_JUMP = 1000;
pub const DMP_DEFAULT_MAX_SKIPPED_KEYS = 2000;
pub const DMP_MAX_FORWARD_JUMP_CEILING = 25000;
pub const DMP_MAX_SKIPPED_KEYS_CEILING = 50000;
pub const DMP_MAX_ONE_TIME_PREKEYS = 10000;
pub const DMP_GROUP_ID_LEN = 32;
pub const DMP_DISTRIBUTION_LEN = 138;
pub const DMP_GROUP_MESSAGE_HEADER_LEN = 74;
pub const DMP_MAX_GROUP_MEMBERS = 10000;
pub const DMP_GROUP_KEY_GRACE_MESSAGES = 100;
pub const DMP_HYBRID_BUNDLE_LEN = 1332;
pub const DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN = 1210;
pub const DMP_KEM_PUBLIC_KEY_LEN = 1184;
pub const DMP_KEM_CIPHERTEXT_LEN = 1088;
pub const DMP_OK = 0;
pub const DMP_ERR_INTERNAL = -1;
pub const DMP_ERR_INVALID_ARGUMENT = -2;
pub const DMP_ERR_NULL_POINTER = -3;
pub const DMP_ERR_BUFFER_TOO_SMALL = -4;
pub const DMP_ERR_BAD_ENVELOPE = -5;
pub const DMP_ERR_UNSUPPORTED_VERSION = -6;
pub const DMP_ERR_WRONG_MESSAGE_TYPE = -7;
pub const DMP_ERR_AUTH_FAILED = -8;
pub const DMP_ERR_DUPLICATE = -9;
pub const DMP_ERR_TOO_FAR_AHEAD = -10;
pub const DMP_ERR_WRONG_SESSION = -11;
pub const DMP_ERR_WRONG_STATE = -12;
pub const DMP_ERR_BAD_SIGNATURE = -13;
pub const DMP_ERR_WEAK_KEY = -14;
pub const DMP_ERR_UNKNOWN_PREKEY = -15;
pub const DMP_ERR_WRONG_STORAGE_KEY = -16;
pub const DMP_ERR_RANDOM_FAILURE = -17;
pub const DMP_ERR_TOO_LARGE = -18;
pub const DMP_ERR_BAD_STATE = -19;
pub const DMP_ERR_UNKNOWN_SENDER = -20;
pub const DMP_ERR_UNKNOWN_KEY_ID = -21;
pub const DMP_ERR_MEMBER_REMOVED = -22;
pub const DMP_ERR_SUPERSEDED_KEY = -23;
pub const DMP_ERR_DOWNGRADE = -24;
pub const DMP_ERR_PQ_REQUIRED = -25;
pub const DMP_ERR_NO_SESSION = -26;
pub const DMP_ERR_STORE_LOCKED = -27;
pub const DMP_ERR_STORE_FAILED = -28;
pub const DMP_ERR_EXPIRED_BUNDLE = -29;
pub const DMP_ABI_VERSION = 2;

// ---- status and version ----
pub extern "c" fn dmp_strerror(status: i32) [*:0]const u8;
pub extern "c" fn dmp_last_error_message() [*:0]const u8;
pub extern "c" fn dmp_version() [*:0]const u8;
pub extern "c" fn dmp_abi_version() u32;

// ---- raw primitives ----
pub extern "c" fn dmp_aead_seal(key32: ?[*]const u8, ad: ?[*]const u8, ad_len: usize, pt: ?[*]const u8, pt_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_aead_open(key32: ?[*]const u8, ad: ?[*]const u8, ad_len: usize, in_: ?[*]const u8, in_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_random_bytes(out: ?[*]u8, len: usize) i32;
pub extern "c" fn dmp_memzero(buf: ?[*]u8, len: usize) i32;
pub extern "c" fn dmp_x25519_keypair(secret32_out: ?[*]u8, public32_out: ?[*]u8) i32;
pub extern "c" fn dmp_x25519_public(secret32: ?[*]const u8, public32_out: ?[*]u8) i32;
pub extern "c" fn dmp_x25519(secret32: ?[*]const u8, public32: ?[*]const u8, shared32_out: ?[*]u8) i32;
pub extern "c" fn dmp_ed25519_keypair(seed32_out: ?[*]u8, public32_out: ?[*]u8) i32;
pub extern "c" fn dmp_ed25519_public(seed32: ?[*]const u8, public32_out: ?[*]u8) i32;
pub extern "c" fn dmp_ed25519_sign(seed32: ?[*]const u8, msg: ?[*]const u8, msg_len: usize, sig64_out: ?[*]u8) i32;
pub extern "c" fn dmp_ed25519_verify(public32: ?[*]const u8, msg: ?[*]const u8, msg_len: usize, sig64: ?[*]const u8) i32;
pub extern "c" fn dmp_hkdf_sha256(salt: ?[*]const u8, salt_len: usize, ikm: ?[*]const u8, ikm_len: usize, info: ?[*]const u8, info_len: usize, out: ?[*]u8, out_len: usize) i32;

// ---- identity ----
pub extern "c" fn dmp_identity_generate(out: ?*?*dmp_identity_t) i32;
pub extern "c" fn dmp_identity_from_seed(seed32: ?[*]const u8, out: ?*?*dmp_identity_t) i32;
pub extern "c" fn dmp_identity_generate_with(suite: i32, out: ?*?*dmp_identity_t) i32;
pub extern "c" fn dmp_identity_from_seed_with(seed32: ?[*]const u8, suite: i32, out: ?*?*dmp_identity_t) i32;
pub extern "c" fn dmp_identity_suite(identity: ?*const dmp_identity_t, suite_out: ?*i32) i32;
pub extern "c" fn dmp_identity_free(identity: ?*dmp_identity_t) void;
pub extern "c" fn dmp_identity_public_key(identity: ?*const dmp_identity_t, public32_out: ?[*]u8) i32;
pub extern "c" fn dmp_identity_fingerprint(identity: ?*const dmp_identity_t, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_fingerprint(agent_id32: ?[*]const u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_identity_sign(identity: ?*const dmp_identity_t, msg: ?[*]const u8, msg_len: usize, sig64_out: ?[*]u8) i32;
pub extern "c" fn dmp_identity_bundle(identity: ?*dmp_identity_t, with_one_time_prekey: i32, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_bundle_verify(bundle: ?[*]const u8, bundle_len: usize, agent_id32_out: ?[*]u8) i32;
pub extern "c" fn dmp_identity_rotate_signed_prekey(identity: ?*dmp_identity_t, new_id_out: ?*u32) i32;
pub extern "c" fn dmp_identity_signed_prekey_id(identity: ?*const dmp_identity_t, id_out: ?*u32) i32;
pub extern "c" fn dmp_identity_generate_one_time_prekeys(identity: ?*dmp_identity_t, count: u32) i32;
pub extern "c" fn dmp_identity_one_time_prekey_count(identity: ?*const dmp_identity_t, count_out: ?*u32) i32;
pub extern "c" fn dmp_identity_serialize(identity: ?*const dmp_identity_t, storage_key32: ?[*]const u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_identity_deserialize(record: ?[*]const u8, record_len: usize, storage_key32: ?[*]const u8, out: ?*?*dmp_identity_t) i32;

// ---- session ----
pub extern "c" fn dmp_session_initiate(identity: ?*const dmp_identity_t, bundle: ?[*]const u8, bundle_len: usize, out: ?*?*dmp_session_t) i32;
pub extern "c" fn dmp_session_initiate_with(identity: ?*const dmp_identity_t, bundle: ?[*]const u8, bundle_len: usize, pq_policy: i32, out: ?*?*dmp_session_t) i32;
pub extern "c" fn dmp_session_accept(identity: ?*dmp_identity_t, envelope: ?[*]const u8, envelope_len: usize, session_out: ?*?*dmp_session_t, pt_out: ?[*]u8, pt_cap: usize, pt_len: ?*usize) i32;
pub extern "c" fn dmp_session_accept_with(identity: ?*dmp_identity_t, envelope: ?[*]const u8, envelope_len: usize, pq_policy: i32, session_out: ?*?*dmp_session_t, pt_out: ?[*]u8, pt_cap: usize, pt_len: ?*usize) i32;
pub extern "c" fn dmp_session_encrypted_len(session: ?*const dmp_session_t, pt_len: usize, len_out: ?*usize) i32;
pub extern "c" fn dmp_session_encrypt(session: ?*dmp_session_t, pt: ?[*]const u8, pt_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_session_decrypt(session: ?*dmp_session_t, envelope: ?[*]const u8, envelope_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_session_state(session: ?*const dmp_session_t, state_out: ?*i32) i32;
pub extern "c" fn dmp_session_peer_id(session: ?*const dmp_session_t, peer32_out: ?[*]u8) i32;
pub extern "c" fn dmp_session_id(session: ?*const dmp_session_t, id8_out: ?[*]u8) i32;
pub extern "c" fn dmp_session_set_padding(session: ?*dmp_session_t, mode: i32) i32;
pub extern "c" fn dmp_session_set_limits(session: ?*dmp_session_t, max_forward_jump: u32, max_skipped_keys: u32) i32;
pub extern "c" fn dmp_session_close(session: ?*dmp_session_t) i32;
pub extern "c" fn dmp_session_serialize(session: ?*const dmp_session_t, storage_key32: ?[*]const u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_session_deserialize(record: ?[*]const u8, record_len: usize, storage_key32: ?[*]const u8, out: ?*?*dmp_session_t) i32;
pub extern "c" fn dmp_session_free(session: ?*dmp_session_t) void;

// ---- group ----
pub extern "c" fn dmp_group_new(identity: ?*const dmp_identity_t, group_id32: ?[*]const u8, out: ?*?*dmp_group_t) i32;
pub extern "c" fn dmp_group_free(group: ?*dmp_group_t) void;
pub extern "c" fn dmp_group_id(group: ?*const dmp_group_t, group_id32_out: ?[*]u8) i32;
pub extern "c" fn dmp_group_add_member(group: ?*dmp_group_t, member32: ?[*]const u8) i32;
pub extern "c" fn dmp_group_remove_member(group: ?*dmp_group_t, member32: ?[*]const u8) i32;
pub extern "c" fn dmp_group_member_count(group: ?*const dmp_group_t, count_out: ?*u32) i32;
pub extern "c" fn dmp_group_members(group: ?*const dmp_group_t, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_group_key_id(group: ?*const dmp_group_t, key_id_out: ?*u32) i32;
pub extern "c" fn dmp_group_rotate(group: ?*dmp_group_t) i32;
pub extern "c" fn dmp_group_distribution(group: ?*const dmp_group_t, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_group_process_distribution(group: ?*dmp_group_t, sender32: ?[*]const u8, distribution: ?[*]const u8, distribution_len: usize) i32;
pub extern "c" fn dmp_group_encrypted_len(group: ?*const dmp_group_t, pt_len: usize, len_out: ?*usize) i32;
pub extern "c" fn dmp_group_encrypt(group: ?*dmp_group_t, pt: ?[*]const u8, pt_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_group_decrypt(group: ?*dmp_group_t, in_: ?[*]const u8, in_len: usize, sender32_out: ?[*]u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_group_set_padding(group: ?*dmp_group_t, mode: i32) i32;
pub extern "c" fn dmp_group_set_limits(group: ?*dmp_group_t, max_forward_jump: u32, max_skipped_keys: u32) i32;
pub extern "c" fn dmp_group_serialize(group: ?*const dmp_group_t, storage_key32: ?[*]const u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_group_deserialize(record: ?[*]const u8, record_len: usize, storage_key32: ?[*]const u8, out: ?*?*dmp_group_t) i32;

// ---- agent ----
pub extern "c" fn dmp_agent_open(path: ?[*]const u8, path_len: usize, storage_key32: ?[*]const u8, flags: i32, out: ?*?*dmp_agent_t) i32;
pub extern "c" fn dmp_agent_open_with_seed(path: ?[*]const u8, path_len: usize, storage_key32: ?[*]const u8, seed32: ?[*]const u8, flags: i32, out: ?*?*dmp_agent_t) i32;
pub extern "c" fn dmp_agent_free(agent: ?*dmp_agent_t) void;
pub extern "c" fn dmp_agent_id(agent: ?*const dmp_agent_t, id32_out: ?[*]u8) i32;
pub extern "c" fn dmp_agent_fingerprint(agent: ?*const dmp_agent_t, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_agent_bundle(agent: ?*dmp_agent_t, with_one_time_prekey: i32, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_agent_add_bundle(agent: ?*dmp_agent_t, bundle: ?[*]const u8, bundle_len: usize, peer32_out: ?[*]u8) i32;
pub extern "c" fn dmp_agent_send(agent: ?*dmp_agent_t, peer32: ?[*]const u8, pt: ?[*]const u8, pt_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_agent_connect(agent: ?*dmp_agent_t, peer32: ?[*]const u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_agent_receive(agent: ?*dmp_agent_t, envelope: ?[*]const u8, envelope_len: usize, event_out: ?*?*dmp_event_t) i32;
pub extern "c" fn dmp_agent_pending_count(agent: ?*const dmp_agent_t, count_out: ?*usize) i32;
pub extern "c" fn dmp_agent_pending_event(agent: ?*const dmp_agent_t, index: usize, event_out: ?*?*dmp_event_t) i32;
pub extern "c" fn dmp_agent_ack(agent: ?*dmp_agent_t, seq: u64) i32;
pub extern "c" fn dmp_agent_peers(agent: ?*const dmp_agent_t, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_agent_session_state(agent: ?*const dmp_agent_t, peer32: ?[*]const u8, state_out: ?*i32) i32;
pub extern "c" fn dmp_agent_maintain(agent: ?*dmp_agent_t, now_unix: u64) i32;
pub extern "c" fn dmp_agent_group_create(agent: ?*dmp_agent_t, group_id32_out: ?[*]u8) i32;
pub extern "c" fn dmp_agent_group_add(agent: ?*dmp_agent_t, group_id32: ?[*]const u8, peer32: ?[*]const u8) i32;
pub extern "c" fn dmp_agent_group_remove(agent: ?*dmp_agent_t, group_id32: ?[*]const u8, peer32: ?[*]const u8) i32;
pub extern "c" fn dmp_agent_group_leave(agent: ?*dmp_agent_t, group_id32: ?[*]const u8) i32;
pub extern "c" fn dmp_agent_group_send(agent: ?*dmp_agent_t, group_id32: ?[*]const u8, pt: ?[*]const u8, pt_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_agent_group_members(agent: ?*const dmp_agent_t, group_id32: ?[*]const u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_agent_outbox_count(agent: ?*const dmp_agent_t, count_out: ?*usize) i32;
pub extern "c" fn dmp_agent_outbox_next(agent: ?*const dmp_agent_t, peer32_out: ?[*]u8, out: ?[*]u8, out_cap: usize, out_len: ?*usize, seq_out: ?*u64) i32;
pub extern "c" fn dmp_agent_outbox_done(agent: ?*dmp_agent_t, seq: u64) i32;
pub extern "c" fn dmp_agent_sign(agent: ?*const dmp_agent_t, msg: ?[*]const u8, msg_len: usize, sig64_out: ?[*]u8) i32;
pub extern "c" fn dmp_agent_accept_peer(agent: ?*dmp_agent_t, peer32: ?[*]const u8) i32;
pub extern "c" fn dmp_agent_is_accepted(agent: ?*const dmp_agent_t, peer32: ?[*]const u8, accepted_out: ?*i32) i32;
pub extern "c" fn dmp_agent_close_session(agent: ?*dmp_agent_t, peer32: ?[*]const u8) i32;
pub extern "c" fn dmp_agent_forget_peer(agent: ?*dmp_agent_t, peer32: ?[*]const u8) i32;
pub extern "c" fn dmp_agent_unanswered_peers(agent: ?*const dmp_agent_t, now_unix: u64, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;

// ---- event ----
pub extern "c" fn dmp_event_kind(event: ?*const dmp_event_t, kind_out: ?*i32) i32;
pub extern "c" fn dmp_event_peer(event: ?*const dmp_event_t, peer32_out: ?[*]u8) i32;
pub extern "c" fn dmp_event_group_id(event: ?*const dmp_event_t, group_id32_out: ?[*]u8) i32;
pub extern "c" fn dmp_event_plaintext(event: ?*const dmp_event_t, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
pub extern "c" fn dmp_event_seq(event: ?*const dmp_event_t, seq_out: ?*u64, new_session_out: ?*i32) i32;
pub extern "c" fn dmp_event_new_group(event: ?*const dmp_event_t, new_group_out: ?*i32) i32;
pub extern "c" fn dmp_event_free(event: ?*dmp_event_t) void;

// ---- sizes (the #defines as functions, for callers that cannot read macros) ----
pub extern "c" fn dmp_key_len() usize;
pub extern "c" fn dmp_public_key_len() usize;
pub extern "c" fn dmp_secret_key_len() usize;
pub extern "c" fn dmp_signature_len() usize;
pub extern "c" fn dmp_shared_secret_len() usize;
pub extern "c" fn dmp_nonce_len() usize;
pub extern "c" fn dmp_tag_len() usize;
pub extern "c" fn dmp_aead_overhead() usize;
pub extern "c" fn dmp_session_id_len() usize;
pub extern "c" fn dmp_fingerprint_len() usize;
pub extern "c" fn dmp_max_plaintext_len() usize;
pub extern "c" fn dmp_max_envelope_len() usize;
pub extern "c" fn dmp_bundle_len() usize;
pub extern "c" fn dmp_bundle_max_len() usize;
pub extern "c" fn dmp_message_header_len() usize;
pub extern "c" fn dmp_prekey_message_header_len() usize;
pub extern "c" fn dmp_hkdf_max_len() usize;
pub extern "c" fn dmp_default_max_forward_jump() u32;
pub extern "c" fn dmp_default_max_skipped_keys() u32;
pub extern "c" fn dmp_max_forward_jump_ceiling() u32;
pub extern "c" fn dmp_max_skipped_keys_ceiling() u32;
pub extern "c" fn dmp_max_one_time_prekeys() usize;
pub extern "c" fn dmp_group_id_len() usize;
pub extern "c" fn dmp_distribution_len() usize;
pub extern "c" fn dmp_group_message_header_len() usize;
pub extern "c" fn dmp_max_group_members() usize;
pub extern "c" fn dmp_group_key_grace_messages() u32;
pub extern "c" fn dmp_hybrid_bundle_len() usize;
pub extern "c" fn dmp_hybrid_prekey_message_header_len() usize;
pub extern "c" fn dmp_kem_public_key_len() usize;
pub extern "c" fn dmp_kem_ciphertext_len() usize;
