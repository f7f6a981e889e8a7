//! Status codes, messages, and version queries.

use std::ffi::{CStr, CString, c_char};
use std::sync::OnceLock;

use super::{guard_value, last_error_ptr};
use crate::error::Error;

/// Success.
pub const DMP_OK: i32 = 0;
/// A bug or a panic inside the library (never expected; please report it).
pub const DMP_ERR_INTERNAL: i32 = -1;
/// An argument is out of its documented range.
pub const DMP_ERR_INVALID_ARGUMENT: i32 = -2;
/// A required pointer was NULL.
pub const DMP_ERR_NULL_POINTER: i32 = -3;
/// The output buffer is too small; `*out_len` holds the size needed and nothing changed.
pub const DMP_ERR_BUFFER_TOO_SMALL: i32 = -4;
/// The input is not a well-formed DMP envelope, bundle or record.
pub const DMP_ERR_BAD_ENVELOPE: i32 = -5;
/// The input names a protocol or format version this build does not speak.
pub const DMP_ERR_UNSUPPORTED_VERSION: i32 = -6;
/// A well-formed envelope of a type this call does not take.
pub const DMP_ERR_WRONG_MESSAGE_TYPE: i32 = -7;
/// Authenticated decryption failed: tampered, or not for this key.
pub const DMP_ERR_AUTH_FAILED: i32 = -8;
/// The message was already decrypted (a replay), or its key was discarded.
pub const DMP_ERR_DUPLICATE: i32 = -9;
/// The message is beyond the session's forward-jump limit.
pub const DMP_ERR_TOO_FAR_AHEAD: i32 = -10;
/// The envelope belongs to another session.
pub const DMP_ERR_WRONG_SESSION: i32 = -11;
/// The operation is not allowed in the session's current state.
pub const DMP_ERR_WRONG_STATE: i32 = -12;
/// A signature did not verify.
pub const DMP_ERR_BAD_SIGNATURE: i32 = -13;
/// A public key of small order, or an all-zero Diffie-Hellman output.
pub const DMP_ERR_WEAK_KEY: i32 = -14;
/// Unknown prekey, or a one-time prekey already used.
pub const DMP_ERR_UNKNOWN_PREKEY: i32 = -15;
/// A stored record did not authenticate: wrong storage key, or corrupted.
pub const DMP_ERR_WRONG_STORAGE_KEY: i32 = -16;
/// The operating system's random number generator failed.
pub const DMP_ERR_RANDOM_FAILURE: i32 = -17;
/// An input exceeds a documented size limit.
pub const DMP_ERR_TOO_LARGE: i32 = -18;
/// A decrypted state record is malformed or of another kind.
pub const DMP_ERR_BAD_STATE: i32 = -19;

/// A group message or distribution from an agent that is not a member of the group.
pub const DMP_ERR_UNKNOWN_SENDER: i32 = -20;
/// A group message under a sender key id no distribution was received for.
pub const DMP_ERR_UNKNOWN_KEY_ID: i32 = -21;
/// A group message or distribution from a member that was removed.
pub const DMP_ERR_MEMBER_REMOVED: i32 = -22;
/// A group message under a replaced sender key whose grace window has passed.
pub const DMP_ERR_SUPERSEDED_KEY: i32 = -23;

/// The post-quantum part of a hybrid bundle or first message was removed.
pub const DMP_ERR_DOWNGRADE: i32 = -24;
/// A classical-only set-up was refused by the caller's policy.
pub const DMP_ERR_PQ_REQUIRED: i32 = -25;

/// No session with this peer, and no bundle of it to start one.
pub const DMP_ERR_NO_SESSION: i32 = -26;
/// The store is open in another process or handle.
pub const DMP_ERR_STORE_LOCKED: i32 = -27;
/// The store failed: an I/O error, a corrupted or foreign database file.
pub const DMP_ERR_STORE_FAILED: i32 = -28;

/// A prekey bundle whose signed expiry has passed (fetch a newer one from its owner).
pub const DMP_ERR_EXPIRED_BUNDLE: i32 = -29;

/// The ABI version: bumped on any incompatible change to this header (2: outbox entries by number,
/// bundles with a signed expiry, the agent's peer calls; issue 17).
pub const DMP_ABI_VERSION: u32 = 2;

fn messages() -> &'static [CString] {
    static MESSAGES: OnceLock<Vec<CString>> = OnceLock::new();
    MESSAGES
        .get_or_init(|| Error::ALL.iter().map(|e| CString::new(e.message()).unwrap_or_default()).collect())
}

/// A static, NUL-terminated description of any status code (including 0 and unknown codes).
/// Never NULL; the string must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_strerror(status: i32) -> *const c_char {
    guard_value(c"internal error".as_ptr(), || match Error::from_code(status) {
        Some(e) => messages()[Error::ALL.iter().position(|x| *x == e).unwrap_or(0)].as_ptr(),
        None if status == DMP_OK => c"success".as_ptr(),
        None => c"unknown DMP status code".as_ptr(),
    })
}

/// The detail of the last failure on the calling thread ("" if none yet), e.g.
/// "dmp_session_decrypt: output buffer too small (DMP_ERR_BUFFER_TOO_SMALL): need 12 bytes, out_cap is 4".
/// Never NULL. Valid until the next failing DMP call on this thread; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), last_error_ptr)
}

/// The library version as a static NUL-terminated string, e.g. "0.1.0". Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_version() -> *const c_char {
    const V: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    V.as_ptr()
}

/// The ABI version of the linked library; compare with `DMP_ABI_VERSION` from the header.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_abi_version() -> u32 {
    DMP_ABI_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_core_codes() {
        let constants = [
            DMP_ERR_INTERNAL,
            DMP_ERR_INVALID_ARGUMENT,
            DMP_ERR_NULL_POINTER,
            DMP_ERR_BUFFER_TOO_SMALL,
            DMP_ERR_BAD_ENVELOPE,
            DMP_ERR_UNSUPPORTED_VERSION,
            DMP_ERR_WRONG_MESSAGE_TYPE,
            DMP_ERR_AUTH_FAILED,
            DMP_ERR_DUPLICATE,
            DMP_ERR_TOO_FAR_AHEAD,
            DMP_ERR_WRONG_SESSION,
            DMP_ERR_WRONG_STATE,
            DMP_ERR_BAD_SIGNATURE,
            DMP_ERR_WEAK_KEY,
            DMP_ERR_UNKNOWN_PREKEY,
            DMP_ERR_WRONG_STORAGE_KEY,
            DMP_ERR_RANDOM_FAILURE,
            DMP_ERR_TOO_LARGE,
            DMP_ERR_BAD_STATE,
            DMP_ERR_UNKNOWN_SENDER,
            DMP_ERR_UNKNOWN_KEY_ID,
            DMP_ERR_MEMBER_REMOVED,
            DMP_ERR_SUPERSEDED_KEY,
            DMP_ERR_DOWNGRADE,
            DMP_ERR_PQ_REQUIRED,
            DMP_ERR_NO_SESSION,
            DMP_ERR_STORE_LOCKED,
            DMP_ERR_STORE_FAILED,
            DMP_ERR_EXPIRED_BUNDLE,
        ];
        assert_eq!(constants.len(), Error::ALL.len(), "a new Error variant needs its DMP_ERR_ constant");
        for (c, e) in constants.iter().zip(Error::ALL) {
            assert_eq!(*c, e.code(), "{}", e.name());
        }
    }

    #[test]
    fn strerror_covers_every_int() {
        for code in [-1000, -20, -1, 0, 1, i32::MIN, i32::MAX] {
            // SAFETY: dmp_strerror returns a static C string.
            let s = unsafe { CStr::from_ptr(dmp_strerror(code)) }.to_str().unwrap();
            assert!(!s.is_empty());
        }
        for e in Error::ALL {
            // SAFETY: as above.
            let s = unsafe { CStr::from_ptr(dmp_strerror(e.code())) }.to_str().unwrap();
            assert_eq!(s, e.message());
        }
    }

    #[test]
    fn version_matches_the_crate() {
        // SAFETY: static C string.
        let v = unsafe { CStr::from_ptr(dmp_version()) }.to_str().unwrap();
        assert_eq!(v, crate::VERSION);
        assert_eq!(dmp_abi_version(), DMP_ABI_VERSION);
    }
}
