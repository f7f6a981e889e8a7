//! Every size as a macro (`DMP_*`) and as a function (`dmp_*()`, for ctypes and Janus, which
//! cannot read macros). The values are literals so that cbindgen can write them into the header;
//! a test here checks them against the core's constants, and tests/c checks macro == function.

/// Bytes of a symmetric key (storage key, AEAD key).
pub const DMP_KEY_LEN: usize = 32;

/// Bytes of an X25519 or Ed25519 public key, and of an agent id.
pub const DMP_PUBLIC_KEY_LEN: usize = 32;

/// Bytes of an X25519 secret key or an Ed25519 seed.
pub const DMP_SECRET_KEY_LEN: usize = 32;

/// Bytes of an Ed25519 signature.
pub const DMP_SIGNATURE_LEN: usize = 64;

/// Bytes of an X25519 shared secret.
pub const DMP_SHARED_SECRET_LEN: usize = 32;

/// Bytes of the XChaCha20-Poly1305 nonce at the front of a raw seal (`dmp_aead_seal`), a group
/// message's sealed part and a state record. Session messages send none.
pub const DMP_NONCE_LEN: usize = 24;

/// Bytes of the Poly1305 tag at the end of a sealed message.
pub const DMP_TAG_LEN: usize = 16;

/// Bytes `dmp_aead_seal` adds to a plaintext (nonce + tag).
pub const DMP_AEAD_OVERHEAD: usize = 40;

/// Bytes of a session id.
pub const DMP_SESSION_ID_LEN: usize = 8;

/// Bytes of a fingerprint text (ASCII, not NUL-terminated), e.g. "1a2b 3c4d ... 7e8f".
pub const DMP_FINGERPRINT_LEN: usize = 39;

/// Largest plaintext a session message may carry (1 MiB).
pub const DMP_MAX_PLAINTEXT_LEN: usize = 1048576;

/// Largest envelope a session accepts.
pub const DMP_MAX_ENVELOPE_LEN: usize = 1179648;

/// Bytes of a classical prekey bundle without a one-time prekey (the smallest bundle).
pub const DMP_BUNDLE_LEN: usize = 143;

/// Bytes of a hybrid prekey bundle with a one-time prekey (the largest bundle).
pub const DMP_BUNDLE_MAX_LEN: usize = 1368;

/// Header bytes of a session message before its sealed part, when both of its counters are below
/// 128 (the shortest header; larger counters add up to 8 bytes). A session message adds
/// `DMP_MESSAGE_HEADER_LEN + DMP_TAG_LEN + 1` = 61 bytes to its plaintext in that case: its nonce
/// is not sent (each message key seals one message, under the all-zero nonce).
pub const DMP_MESSAGE_HEADER_LEN: usize = 44;

/// Header bytes of a classical first (prekey) message before its sealed part (counters below 128).
pub const DMP_PREKEY_MESSAGE_HEADER_LEN: usize = 117;

/// Largest HKDF-SHA256 output (255 * 32).
pub const DMP_HKDF_MAX_LEN: usize = 8160;

/// Default forward-jump limit of a session.
pub const DMP_DEFAULT_MAX_FORWARD_JUMP: u32 = 1000;

/// Default cap on stored skipped message keys.
pub const DMP_DEFAULT_MAX_SKIPPED_KEYS: u32 = 2000;

/// Largest forward-jump limit `dmp_session_set_limits` accepts.
pub const DMP_MAX_FORWARD_JUMP_CEILING: u32 = 25000;

/// Largest skipped-key cap `dmp_session_set_limits` accepts.
pub const DMP_MAX_SKIPPED_KEYS_CEILING: u32 = 50000;

/// Most one-time prekeys an identity holds.
pub const DMP_MAX_ONE_TIME_PREKEYS: usize = 10000;

/// Bytes of a group id.
pub const DMP_GROUP_ID_LEN: usize = 32;

/// Bytes of a sender-key distribution.
pub const DMP_DISTRIBUTION_LEN: usize = 138;

/// Header bytes of a group message before its sealed part (a 64-byte signature follows it).
pub const DMP_GROUP_MESSAGE_HEADER_LEN: usize = 74;

/// Most members a group holds besides oneself.
pub const DMP_MAX_GROUP_MEMBERS: usize = 10000;

/// Messages under a sender's newer key after which its replaced key is refused.
pub const DMP_GROUP_KEY_GRACE_MESSAGES: u32 = 100;

/// Bytes of a hybrid prekey bundle without a one-time prekey.
pub const DMP_HYBRID_BUNDLE_LEN: usize = 1332;

/// Header bytes of a hybrid first (prekey) message before its sealed part.
pub const DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN: usize = 1210;

/// Bytes of an ML-KEM-768 encapsulation key.
pub const DMP_KEM_PUBLIC_KEY_LEN: usize = 1184;

/// Bytes of an ML-KEM-768 ciphertext.
pub const DMP_KEM_CIPHERTEXT_LEN: usize = 1088;

/// The value of `DMP_KEY_LEN`: bytes of a symmetric key (storage key, AEAD key).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_key_len() -> usize {
    DMP_KEY_LEN
}

/// The value of `DMP_PUBLIC_KEY_LEN`: bytes of an X25519 or Ed25519 public key, and of an agent id.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_public_key_len() -> usize {
    DMP_PUBLIC_KEY_LEN
}

/// The value of `DMP_SECRET_KEY_LEN`: bytes of an X25519 secret key or an Ed25519 seed.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_secret_key_len() -> usize {
    DMP_SECRET_KEY_LEN
}

/// The value of `DMP_SIGNATURE_LEN`: bytes of an Ed25519 signature.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_signature_len() -> usize {
    DMP_SIGNATURE_LEN
}

/// The value of `DMP_SHARED_SECRET_LEN`: bytes of an X25519 shared secret.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_shared_secret_len() -> usize {
    DMP_SHARED_SECRET_LEN
}

/// The value of `DMP_NONCE_LEN`: bytes of the XChaCha20-Poly1305 nonce at the front of a sealed message.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_nonce_len() -> usize {
    DMP_NONCE_LEN
}

/// The value of `DMP_TAG_LEN`: bytes of the Poly1305 tag at the end of a sealed message.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_tag_len() -> usize {
    DMP_TAG_LEN
}

/// The value of `DMP_AEAD_OVERHEAD`: bytes `dmp_aead_seal` adds to a plaintext (nonce + tag).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_aead_overhead() -> usize {
    DMP_AEAD_OVERHEAD
}

/// The value of `DMP_SESSION_ID_LEN`: bytes of a session id.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_session_id_len() -> usize {
    DMP_SESSION_ID_LEN
}

/// The value of `DMP_FINGERPRINT_LEN`: bytes of a fingerprint text (ASCII, not NUL-terminated), e.g. "1a2b 3c4d ... 7e8f".
#[unsafe(no_mangle)]
pub extern "C" fn dmp_fingerprint_len() -> usize {
    DMP_FINGERPRINT_LEN
}

/// The value of `DMP_MAX_PLAINTEXT_LEN`: largest plaintext a session message may carry (1 MiB).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_max_plaintext_len() -> usize {
    DMP_MAX_PLAINTEXT_LEN
}

/// The value of `DMP_MAX_ENVELOPE_LEN`: largest envelope a session accepts.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_max_envelope_len() -> usize {
    DMP_MAX_ENVELOPE_LEN
}

/// The value of `DMP_BUNDLE_LEN`: bytes of a classical prekey bundle without a one-time prekey (the smallest bundle).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_bundle_len() -> usize {
    DMP_BUNDLE_LEN
}

/// The value of `DMP_BUNDLE_MAX_LEN`: bytes of a hybrid prekey bundle with a one-time prekey (the largest bundle).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_bundle_max_len() -> usize {
    DMP_BUNDLE_MAX_LEN
}

/// The value of `DMP_MESSAGE_HEADER_LEN`: header bytes of a session message before its sealed part (shortest form).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_message_header_len() -> usize {
    DMP_MESSAGE_HEADER_LEN
}

/// The value of `DMP_PREKEY_MESSAGE_HEADER_LEN`: header bytes of a classical first (prekey) message before its sealed part.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_prekey_message_header_len() -> usize {
    DMP_PREKEY_MESSAGE_HEADER_LEN
}

/// The value of `DMP_HKDF_MAX_LEN`: largest HKDF-SHA256 output (255 * 32).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_hkdf_max_len() -> usize {
    DMP_HKDF_MAX_LEN
}

/// The value of `DMP_DEFAULT_MAX_FORWARD_JUMP`: default forward-jump limit of a session.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_default_max_forward_jump() -> u32 {
    DMP_DEFAULT_MAX_FORWARD_JUMP
}

/// The value of `DMP_DEFAULT_MAX_SKIPPED_KEYS`: default cap on stored skipped message keys.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_default_max_skipped_keys() -> u32 {
    DMP_DEFAULT_MAX_SKIPPED_KEYS
}

/// The value of `DMP_MAX_FORWARD_JUMP_CEILING`: largest forward-jump limit `dmp_session_set_limits` accepts.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_max_forward_jump_ceiling() -> u32 {
    DMP_MAX_FORWARD_JUMP_CEILING
}

/// The value of `DMP_MAX_SKIPPED_KEYS_CEILING`: largest skipped-key cap `dmp_session_set_limits` accepts.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_max_skipped_keys_ceiling() -> u32 {
    DMP_MAX_SKIPPED_KEYS_CEILING
}

/// The value of `DMP_MAX_ONE_TIME_PREKEYS`: most one-time prekeys an identity holds.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_max_one_time_prekeys() -> usize {
    DMP_MAX_ONE_TIME_PREKEYS
}

/// The value of `DMP_GROUP_ID_LEN`: bytes of a group id.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_group_id_len() -> usize {
    DMP_GROUP_ID_LEN
}

/// The value of `DMP_DISTRIBUTION_LEN`: bytes of a sender-key distribution.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_distribution_len() -> usize {
    DMP_DISTRIBUTION_LEN
}

/// The value of `DMP_GROUP_MESSAGE_HEADER_LEN`: header bytes of a group message before its sealed part (a 64-byte signature follows it).
#[unsafe(no_mangle)]
pub extern "C" fn dmp_group_message_header_len() -> usize {
    DMP_GROUP_MESSAGE_HEADER_LEN
}

/// The value of `DMP_MAX_GROUP_MEMBERS`: most members a group holds besides oneself.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_max_group_members() -> usize {
    DMP_MAX_GROUP_MEMBERS
}

/// The value of `DMP_GROUP_KEY_GRACE_MESSAGES`: messages under a sender's newer key after which its replaced key is refused.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_group_key_grace_messages() -> u32 {
    DMP_GROUP_KEY_GRACE_MESSAGES
}

/// The value of `DMP_HYBRID_BUNDLE_LEN`: bytes of a hybrid prekey bundle without a one-time prekey.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_hybrid_bundle_len() -> usize {
    DMP_HYBRID_BUNDLE_LEN
}

/// The value of `DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN`: header bytes of a hybrid first (prekey) message before its sealed part.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_hybrid_prekey_message_header_len() -> usize {
    DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN
}

/// The value of `DMP_KEM_PUBLIC_KEY_LEN`: bytes of an ML-KEM-768 encapsulation key.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_kem_public_key_len() -> usize {
    DMP_KEM_PUBLIC_KEY_LEN
}

/// The value of `DMP_KEM_CIPHERTEXT_LEN`: bytes of an ML-KEM-768 ciphertext.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_kem_ciphertext_len() -> usize {
    DMP_KEM_CIPHERTEXT_LEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits;

    #[test]
    fn literals_match_the_core_constants() {
        assert_eq!(DMP_HYBRID_BUNDLE_LEN, crate::wire::bundle::HYBRID_BUNDLE_LEN);
        assert_eq!(dmp_hybrid_bundle_len(), DMP_HYBRID_BUNDLE_LEN);
        assert_eq!(
            DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN,
            crate::wire::envelope::HYBRID_PREKEY_MESSAGE_HEADER_LEN
        );
        assert_eq!(dmp_hybrid_prekey_message_header_len(), DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN);
        assert_eq!(DMP_KEM_PUBLIC_KEY_LEN, crate::crypto::kem::KEM_PUBLIC_KEY_LEN);
        assert_eq!(dmp_kem_public_key_len(), DMP_KEM_PUBLIC_KEY_LEN);
        assert_eq!(DMP_KEM_CIPHERTEXT_LEN, crate::crypto::kem::KEM_CIPHERTEXT_LEN);
        assert_eq!(dmp_kem_ciphertext_len(), DMP_KEM_CIPHERTEXT_LEN);
        assert_eq!(DMP_GROUP_ID_LEN, limits::GROUP_ID_LEN);
        assert_eq!(dmp_group_id_len(), DMP_GROUP_ID_LEN);
        assert_eq!(DMP_DISTRIBUTION_LEN, crate::wire::group::DISTRIBUTION_LEN);
        assert_eq!(dmp_distribution_len(), DMP_DISTRIBUTION_LEN);
        assert_eq!(DMP_GROUP_MESSAGE_HEADER_LEN, crate::wire::group::GROUP_MESSAGE_HEADER_LEN);
        assert_eq!(dmp_group_message_header_len(), DMP_GROUP_MESSAGE_HEADER_LEN);
        assert_eq!(DMP_MAX_GROUP_MEMBERS, limits::MAX_GROUP_MEMBERS);
        assert_eq!(dmp_max_group_members(), DMP_MAX_GROUP_MEMBERS);
        assert_eq!(DMP_GROUP_KEY_GRACE_MESSAGES, limits::GROUP_KEY_GRACE_MESSAGES);
        assert_eq!(dmp_group_key_grace_messages(), DMP_GROUP_KEY_GRACE_MESSAGES);
        assert_eq!(DMP_KEY_LEN, limits::KEY_LEN);
        assert_eq!(dmp_key_len(), DMP_KEY_LEN);

        assert_eq!(DMP_PUBLIC_KEY_LEN, limits::PUBLIC_KEY_LEN);
        assert_eq!(dmp_public_key_len(), DMP_PUBLIC_KEY_LEN);

        assert_eq!(DMP_SECRET_KEY_LEN, limits::SECRET_KEY_LEN);
        assert_eq!(dmp_secret_key_len(), DMP_SECRET_KEY_LEN);

        assert_eq!(DMP_SIGNATURE_LEN, limits::SIGNATURE_LEN);
        assert_eq!(dmp_signature_len(), DMP_SIGNATURE_LEN);

        assert_eq!(DMP_SHARED_SECRET_LEN, 32);
        assert_eq!(dmp_shared_secret_len(), DMP_SHARED_SECRET_LEN);

        assert_eq!(DMP_NONCE_LEN, limits::NONCE_LEN);
        assert_eq!(dmp_nonce_len(), DMP_NONCE_LEN);

        assert_eq!(DMP_TAG_LEN, limits::TAG_LEN);
        assert_eq!(dmp_tag_len(), DMP_TAG_LEN);

        assert_eq!(DMP_AEAD_OVERHEAD, limits::AEAD_OVERHEAD);
        assert_eq!(dmp_aead_overhead(), DMP_AEAD_OVERHEAD);

        assert_eq!(DMP_SESSION_ID_LEN, limits::SESSION_ID_LEN);
        assert_eq!(dmp_session_id_len(), DMP_SESSION_ID_LEN);

        assert_eq!(DMP_FINGERPRINT_LEN, limits::FINGERPRINT_LEN);
        assert_eq!(dmp_fingerprint_len(), DMP_FINGERPRINT_LEN);

        assert_eq!(DMP_MAX_PLAINTEXT_LEN, limits::MAX_PLAINTEXT_LEN);
        assert_eq!(dmp_max_plaintext_len(), DMP_MAX_PLAINTEXT_LEN);

        assert_eq!(DMP_MAX_ENVELOPE_LEN, limits::MAX_ENVELOPE_LEN);
        assert_eq!(dmp_max_envelope_len(), DMP_MAX_ENVELOPE_LEN);

        assert_eq!(DMP_BUNDLE_LEN, crate::wire::bundle::BUNDLE_LEN);
        assert_eq!(dmp_bundle_len(), DMP_BUNDLE_LEN);

        assert_eq!(DMP_BUNDLE_MAX_LEN, crate::wire::bundle::BUNDLE_MAX_LEN);
        assert_eq!(dmp_bundle_max_len(), DMP_BUNDLE_MAX_LEN);

        assert_eq!(DMP_MESSAGE_HEADER_LEN, crate::wire::envelope::MESSAGE_HEADER_LEN);
        assert_eq!(dmp_message_header_len(), DMP_MESSAGE_HEADER_LEN);

        assert_eq!(DMP_PREKEY_MESSAGE_HEADER_LEN, crate::wire::envelope::PREKEY_MESSAGE_HEADER_LEN);
        assert_eq!(dmp_prekey_message_header_len(), DMP_PREKEY_MESSAGE_HEADER_LEN);

        assert_eq!(DMP_HKDF_MAX_LEN, crate::crypto::kdf::HKDF_MAX_OUTPUT);
        assert_eq!(dmp_hkdf_max_len(), DMP_HKDF_MAX_LEN);

        assert_eq!(DMP_DEFAULT_MAX_FORWARD_JUMP, limits::DEFAULT_MAX_FORWARD_JUMP);
        assert_eq!(dmp_default_max_forward_jump(), DMP_DEFAULT_MAX_FORWARD_JUMP);

        assert_eq!(DMP_DEFAULT_MAX_SKIPPED_KEYS, limits::DEFAULT_MAX_SKIPPED_KEYS);
        assert_eq!(dmp_default_max_skipped_keys(), DMP_DEFAULT_MAX_SKIPPED_KEYS);

        assert_eq!(DMP_MAX_FORWARD_JUMP_CEILING, limits::MAX_FORWARD_JUMP_CEILING);
        assert_eq!(dmp_max_forward_jump_ceiling(), DMP_MAX_FORWARD_JUMP_CEILING);

        assert_eq!(DMP_MAX_SKIPPED_KEYS_CEILING, limits::MAX_SKIPPED_KEYS_CEILING);
        assert_eq!(dmp_max_skipped_keys_ceiling(), DMP_MAX_SKIPPED_KEYS_CEILING);

        assert_eq!(DMP_MAX_ONE_TIME_PREKEYS, limits::MAX_ONE_TIME_PREKEYS);
        assert_eq!(dmp_max_one_time_prekeys(), DMP_MAX_ONE_TIME_PREKEYS);
    }
}
