//! One error type for the whole library.
//!
//! Every variant has a stable negative code: the C ABI returns it as `int32_t`, bindings map it to
//! exception classes, and docs/PROTOCOL.md lists it. Codes are appended, never renumbered or reused.

use core::fmt;

/// Everything that can go wrong in DMP. Each variant is a distinct, actionable condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// A bug or a panic inside the library (never expected; report it).
    Internal,
    /// An argument is out of its documented range (a bad enum value, a zero where one is not allowed).
    InvalidArgument,
    /// A required pointer was NULL (C ABI only).
    NullPointer,
    /// The caller's output buffer is too small; the required size is reported and nothing changed.
    BufferTooSmall,
    /// The input is not a well-formed DMP envelope, bundle or record (truncated, bad length, bad field).
    BadEnvelope,
    /// The input names a protocol or format version this build does not speak.
    UnsupportedVersion,
    /// A well-formed envelope of a type this call does not take (a bundle given to decrypt, ...).
    WrongMessageType,
    /// Authenticated decryption failed: the message was tampered with or is not for this key.
    AuthFailed,
    /// The message was already decrypted (a replay), or its key was discarded.
    Duplicate,
    /// The message is further ahead in its chain than the session's forward-jump limit allows.
    TooFarAhead,
    /// The envelope belongs to another session.
    WrongSession,
    /// The operation is not allowed in the session's current lifecycle state.
    WrongState,
    /// A signature did not verify (strict Ed25519 verification).
    BadSignature,
    /// A public key is of small order or a Diffie-Hellman output was all zero.
    WeakKey,
    /// The prekey named by a first message is unknown, or a one-time prekey was already used.
    UnknownPrekey,
    /// A stored record did not authenticate: wrong storage key, or the record was corrupted.
    WrongStorageKey,
    /// The operating system's random number generator failed.
    RandomFailure,
    /// An input exceeds a documented size limit.
    TooLarge,
    /// A decrypted state record is malformed or of an unknown kind.
    BadState,
    /// A group message or sender-key distribution from an agent that is not a member of the group.
    UnknownSender,
    /// A group message under a sender key id this member never received a distribution for.
    UnknownKeyId,
    /// A group message or distribution from a member that was removed from the group.
    MemberRemoved,
    /// A group message under a sender key that was replaced and whose grace window has passed.
    SupersededKey,
    /// The post-quantum part of a hybrid bundle or first message was removed.
    Downgrade,
    /// A classical-only (no ML-KEM) set-up was refused by the caller's policy.
    PqRequired,
    /// No session with this peer, and no bundle of it to start one.
    NoSession,
    /// The store is open in another process or handle.
    StoreLocked,
    /// The store failed: an I/O error, a corrupted or foreign database file.
    StoreFailed,
    /// A prekey bundle whose signed expiry has passed: fetch a newer one from its owner.
    ExpiredBundle,
}

impl Error {
    /// Every variant, in code order (used by tests and by `dmp_strerror`).
    pub const ALL: [Error; 29] = [
        Error::Internal,
        Error::InvalidArgument,
        Error::NullPointer,
        Error::BufferTooSmall,
        Error::BadEnvelope,
        Error::UnsupportedVersion,
        Error::WrongMessageType,
        Error::AuthFailed,
        Error::Duplicate,
        Error::TooFarAhead,
        Error::WrongSession,
        Error::WrongState,
        Error::BadSignature,
        Error::WeakKey,
        Error::UnknownPrekey,
        Error::WrongStorageKey,
        Error::RandomFailure,
        Error::TooLarge,
        Error::BadState,
        Error::UnknownSender,
        Error::UnknownKeyId,
        Error::MemberRemoved,
        Error::SupersededKey,
        Error::Downgrade,
        Error::PqRequired,
        Error::NoSession,
        Error::StoreLocked,
        Error::StoreFailed,
        Error::ExpiredBundle,
    ];

    /// The stable status code (negative; `0` is success and is not an error).
    pub const fn code(self) -> i32 {
        match self {
            Error::Internal => -1,
            Error::InvalidArgument => -2,
            Error::NullPointer => -3,
            Error::BufferTooSmall => -4,
            Error::BadEnvelope => -5,
            Error::UnsupportedVersion => -6,
            Error::WrongMessageType => -7,
            Error::AuthFailed => -8,
            Error::Duplicate => -9,
            Error::TooFarAhead => -10,
            Error::WrongSession => -11,
            Error::WrongState => -12,
            Error::BadSignature => -13,
            Error::WeakKey => -14,
            Error::UnknownPrekey => -15,
            Error::WrongStorageKey => -16,
            Error::RandomFailure => -17,
            Error::TooLarge => -18,
            Error::BadState => -19,
            Error::UnknownSender => -20,
            Error::UnknownKeyId => -21,
            Error::MemberRemoved => -22,
            Error::SupersededKey => -23,
            Error::Downgrade => -24,
            Error::PqRequired => -25,
            Error::NoSession => -26,
            Error::StoreLocked => -27,
            Error::StoreFailed => -28,
            Error::ExpiredBundle => -29,
        }
    }

    /// The error for a status code, if the code names one.
    pub fn from_code(code: i32) -> Option<Error> {
        Error::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// The stable symbolic name, as in the C header (`DMP_ERR_...`).
    pub const fn name(self) -> &'static str {
        match self {
            Error::Internal => "DMP_ERR_INTERNAL",
            Error::InvalidArgument => "DMP_ERR_INVALID_ARGUMENT",
            Error::NullPointer => "DMP_ERR_NULL_POINTER",
            Error::BufferTooSmall => "DMP_ERR_BUFFER_TOO_SMALL",
            Error::BadEnvelope => "DMP_ERR_BAD_ENVELOPE",
            Error::UnsupportedVersion => "DMP_ERR_UNSUPPORTED_VERSION",
            Error::WrongMessageType => "DMP_ERR_WRONG_MESSAGE_TYPE",
            Error::AuthFailed => "DMP_ERR_AUTH_FAILED",
            Error::Duplicate => "DMP_ERR_DUPLICATE",
            Error::TooFarAhead => "DMP_ERR_TOO_FAR_AHEAD",
            Error::WrongSession => "DMP_ERR_WRONG_SESSION",
            Error::WrongState => "DMP_ERR_WRONG_STATE",
            Error::BadSignature => "DMP_ERR_BAD_SIGNATURE",
            Error::WeakKey => "DMP_ERR_WEAK_KEY",
            Error::UnknownPrekey => "DMP_ERR_UNKNOWN_PREKEY",
            Error::WrongStorageKey => "DMP_ERR_WRONG_STORAGE_KEY",
            Error::RandomFailure => "DMP_ERR_RANDOM_FAILURE",
            Error::TooLarge => "DMP_ERR_TOO_LARGE",
            Error::BadState => "DMP_ERR_BAD_STATE",
            Error::UnknownSender => "DMP_ERR_UNKNOWN_SENDER",
            Error::UnknownKeyId => "DMP_ERR_UNKNOWN_KEY_ID",
            Error::MemberRemoved => "DMP_ERR_MEMBER_REMOVED",
            Error::SupersededKey => "DMP_ERR_SUPERSEDED_KEY",
            Error::Downgrade => "DMP_ERR_DOWNGRADE",
            Error::PqRequired => "DMP_ERR_PQ_REQUIRED",
            Error::NoSession => "DMP_ERR_NO_SESSION",
            Error::StoreLocked => "DMP_ERR_STORE_LOCKED",
            Error::StoreFailed => "DMP_ERR_STORE_FAILED",
            Error::ExpiredBundle => "DMP_ERR_EXPIRED_BUNDLE",
        }
    }

    /// A short, static, human-readable description.
    pub const fn message(self) -> &'static str {
        match self {
            Error::Internal => "internal error (a bug in DMP)",
            Error::InvalidArgument => "invalid argument",
            Error::NullPointer => "a required pointer was NULL",
            Error::BufferTooSmall => "output buffer too small",
            Error::BadEnvelope => "malformed envelope",
            Error::UnsupportedVersion => "unsupported protocol or format version",
            Error::WrongMessageType => "wrong message type for this operation",
            Error::AuthFailed => "authentication failed (tampered or wrong key)",
            Error::Duplicate => "message already decrypted (replay) or its key was discarded",
            Error::TooFarAhead => "message too far ahead of the chain (forward-jump limit)",
            Error::WrongSession => "envelope belongs to another session",
            Error::WrongState => "operation not allowed in the session's state",
            Error::BadSignature => "bad signature",
            Error::WeakKey => "weak or small-order public key",
            Error::UnknownPrekey => "unknown prekey, or one-time prekey already used",
            Error::WrongStorageKey => "stored record did not authenticate (wrong storage key or corrupted)",
            Error::RandomFailure => "operating system random number generator failed",
            Error::TooLarge => "input exceeds a size limit",
            Error::BadState => "malformed or unknown state record",
            Error::UnknownSender => "sender is not a member of the group",
            Error::UnknownKeyId => "unknown sender key id (no distribution received for it)",
            Error::MemberRemoved => "sender was removed from the group",
            Error::SupersededKey => "sender key was replaced and its grace window has passed",
            Error::Downgrade => "post-quantum part of a hybrid set-up was removed (downgrade)",
            Error::PqRequired => "classical-only set-up refused by policy (hybrid required)",
            Error::NoSession => "no session with this peer and no bundle to start one",
            Error::StoreLocked => "store is open in another process or handle",
            Error::StoreFailed => "store failed (I/O error, or a corrupted or foreign database)",
            Error::ExpiredBundle => "prekey bundle has expired (fetch a newer one)",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// The library's result type.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_negative_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for e in Error::ALL {
            assert!(e.code() < 0, "{e:?}");
            assert!(seen.insert(e.code()), "duplicate code {}", e.code());
            assert_eq!(Error::from_code(e.code()), Some(e));
            assert!(e.name().starts_with("DMP_ERR_"));
            assert!(!e.message().is_empty());
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(Error::from_code(-1000), None);
    }

    #[test]
    fn codes_are_dense_from_minus_one() {
        // Appending keeps this true; renumbering or a gap breaks it.
        for (i, e) in Error::ALL.iter().enumerate() {
            assert_eq!(e.code(), -(i as i32) - 1);
        }
    }
}
