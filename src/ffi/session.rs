//! `dmp_session_t`: a pairwise session (initiate, accept, encrypt, decrypt, state, close,
//! serialize).

use std::sync::Mutex;

use super::identity::DmpIdentity;
use super::{
    FfiError, FfiResult, Handle, OutBuf, array_out, bytes, clear_handle_out, deserialize, disjoint, guard,
    guard_void, input, out_ref, scalar, sink_result, storage_key_in,
};
use crate::error::Error;
use crate::prekey::{PqPolicy, PrekeyBundle};
use crate::ratchet::Limits;
use crate::session::{Session, SessionConfig, SessionState};
use crate::wire::Padding;

/// Created from a bundle; nothing sent yet.
pub const DMP_SESSION_DORMANT: i32 = 0;
/// Sent at least one message; no reply decrypted yet.
pub const DMP_SESSION_INITIATING: i32 = 1;
/// A message from the peer has been decrypted.
pub const DMP_SESSION_ACTIVE: i32 = 2;
/// Keys erased; every call but the accessors (state, peer id, session id) and free is refused
/// with `DMP_ERR_WRONG_STATE`.
pub const DMP_SESSION_CLOSED: i32 = 3;

/// Outgoing plaintexts carry only a one-byte end marker.
pub const DMP_PADDING_NONE: i32 = 0;
/// Outgoing plaintexts are padded to size buckets (powers of two from 64 bytes).
pub const DMP_PADDING_BUCKETS: i32 = 1;

/// A pairwise session. Opaque.
pub struct DmpSession {
    inner: Mutex<Session>,
}

impl Handle for DmpSession {
    type Inner = Session;
    const NAME: &'static str = "dmp_session_t";
    fn wrap(inner: Session) -> Self {
        DmpSession { inner: Mutex::new(inner) }
    }
    fn mutex(&self) -> &Mutex<Session> {
        &self.inner
    }
}

fn padding_in(mode: i32) -> FfiResult<Padding> {
    u8::try_from(mode).ok().and_then(Padding::from_u8).ok_or_else(|| {
        FfiError::new(Error::InvalidArgument, format!("padding mode {mode} is not DMP_PADDING_*"))
    })
}

/// Require the post-quantum (ML-KEM) part: classical-only bundles and first messages are refused
/// with `DMP_ERR_PQ_REQUIRED`. The default.
pub const DMP_PQ_REQUIRE_HYBRID: i32 = 0;
/// Accept classical-only peers too (hybrid is still used whenever the peer offers it).
pub const DMP_PQ_ALLOW_CLASSICAL: i32 = 1;

fn config_for(pq_policy: i32) -> FfiResult<SessionConfig> {
    let pq_policy = match pq_policy {
        DMP_PQ_REQUIRE_HYBRID => PqPolicy::RequireHybrid,
        DMP_PQ_ALLOW_CLASSICAL => PqPolicy::AllowClassical,
        other => {
            return Err(FfiError::new(Error::InvalidArgument, format!("pq_policy {other} is not DMP_PQ_*")));
        }
    };
    Ok(SessionConfig { pq_policy, ..SessionConfig::default() })
}

/// Shared body of the two initiate functions.
///
/// # Safety
/// As `dmp_session_initiate_with`.
unsafe fn initiate(
    identity: *const DmpIdentity,
    bundle: *const u8,
    bundle_len: usize,
    pq_policy: i32,
    out: *mut *mut DmpSession,
) -> FfiResult {
    disjoint(&[bytes("bundle", bundle, bundle_len)], &[scalar("out", out)])?;
    // SAFETY: caller contract.
    unsafe { clear_handle_out(out) };
    let config = config_for(pq_policy)?;
    // SAFETY: caller contract.
    let (id, bytes) = unsafe { (DmpIdentity::lock(identity)?, input(bundle, bundle_len, "bundle")?) };
    if out.is_null() {
        return Err(FfiError::new(Error::NullPointer, "`out` is NULL"));
    }
    let bundle = PrekeyBundle::from_bytes(bytes)?;
    let session = Session::initiate(id.keys(), &bundle, config)?;
    // SAFETY: caller contract.
    unsafe { DmpSession::store(out, session) }
}

/// Starts a session (DORMANT) from a peer's prekey bundle, which is verified first; nothing is
/// sent until `dmp_session_encrypt`. Hybrid is required (`DMP_PQ_REQUIRE_HYBRID`); see
/// `dmp_session_initiate_with`. `*out` receives the handle (NULL on failure).
/// Errors: `DMP_ERR_NULL_POINTER`, bundle errors as `dmp_bundle_verify` (`DMP_ERR_BAD_SIGNATURE`
/// for a hybrid bundle stripped of its ML-KEM part), `DMP_ERR_PQ_REQUIRED` (a classical bundle),
/// `DMP_ERR_INVALID_ARGUMENT` (the bundle is the identity's own), `DMP_ERR_RANDOM_FAILURE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `identity` NULL or live; `bundle` NULL or valid for `bundle_len` reads; `out` pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_initiate(
    identity: *const DmpIdentity,
    bundle: *const u8,
    bundle_len: usize,
    out: *mut *mut DmpSession,
) -> i32 {
    // SAFETY: caller contract.
    guard("dmp_session_initiate", || unsafe {
        initiate(identity, bundle, bundle_len, DMP_PQ_REQUIRE_HYBRID, out)
    })
}

/// `dmp_session_initiate` with a post-quantum policy: `DMP_PQ_REQUIRE_HYBRID` or
/// `DMP_PQ_ALLOW_CLASSICAL` (accept a classical-only bundle). Any other value is
/// `DMP_ERR_INVALID_ARGUMENT`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// As `dmp_session_initiate`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_initiate_with(
    identity: *const DmpIdentity,
    bundle: *const u8,
    bundle_len: usize,
    pq_policy: i32,
    out: *mut *mut DmpSession,
) -> i32 {
    // SAFETY: caller contract.
    guard("dmp_session_initiate_with", || unsafe { initiate(identity, bundle, bundle_len, pq_policy, out) })
}

/// Shared body of the two accept functions.
///
/// # Safety
/// As `dmp_session_accept_with`.
#[allow(clippy::too_many_arguments)]
unsafe fn accept(
    identity: *mut DmpIdentity,
    envelope: *const u8,
    envelope_len: usize,
    pq_policy: i32,
    session_out: *mut *mut DmpSession,
    pt_out: *mut u8,
    pt_cap: usize,
    pt_len: *mut usize,
) -> FfiResult {
    disjoint(
        &[bytes("envelope", envelope, envelope_len)],
        &[scalar("session_out", session_out), bytes("pt_out", pt_out, pt_cap), scalar("pt_len", pt_len)],
    )?;
    // SAFETY: caller contract.
    unsafe { clear_handle_out(session_out) };
    let config = config_for(pq_policy)?;
    // SAFETY: caller contract.
    let (mut id, env, mut out) = unsafe {
        (
            DmpIdentity::lock(identity)?,
            input(envelope, envelope_len, "envelope")?,
            OutBuf::new(pt_out, pt_cap, pt_len)?,
        )
    };
    if session_out.is_null() {
        return Err(FfiError::new(Error::NullPointer, "`session_out` is NULL"));
    }
    let mut stash = None;
    let result = Session::accept_with(&mut id, env, config, out.sink(&mut stash));
    let session = sink_result(result, stash)?;
    // SAFETY: caller contract.
    unsafe { DmpSession::store(session_out, session) }
}

/// Creates the responder's session (ACTIVE) from a peer's first message and writes its
/// plaintext. The one-time prekeys it used are deleted from `identity`. If `pt_cap` is too
/// small, `DMP_ERR_BUFFER_TOO_SMALL` with `*pt_len` = size needed, and nothing is created or
/// consumed: call again with a larger buffer. `*session_out` is NULL on failure. Hybrid is
/// required (`DMP_PQ_REQUIRE_HYBRID`); see `dmp_session_accept_with`.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`, `DMP_ERR_UNSUPPORTED_VERSION`,
/// `DMP_ERR_WRONG_MESSAGE_TYPE` (not a first message), `DMP_ERR_UNKNOWN_PREKEY` (unknown signed
/// or ML-KEM prekey, or a one-time prekey already used), `DMP_ERR_DOWNGRADE` (a classical message
/// naming a hybrid signed prekey), `DMP_ERR_PQ_REQUIRED`, `DMP_ERR_WEAK_KEY`,
/// `DMP_ERR_AUTH_FAILED` (including a tampered ML-KEM ciphertext), `DMP_ERR_TOO_FAR_AHEAD`,
/// `DMP_ERR_INVALID_ARGUMENT` (from oneself).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `identity` NULL or live; `envelope` NULL or valid for `envelope_len` reads; `session_out` a
/// pointer write; `pt_out` NULL (if `pt_cap` is 0) or `pt_cap` writes; `pt_len` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_accept(
    identity: *mut DmpIdentity,
    envelope: *const u8,
    envelope_len: usize,
    session_out: *mut *mut DmpSession,
    pt_out: *mut u8,
    pt_cap: usize,
    pt_len: *mut usize,
) -> i32 {
    guard("dmp_session_accept", || {
        // SAFETY: caller contract.
        unsafe {
            accept(
                identity,
                envelope,
                envelope_len,
                DMP_PQ_REQUIRE_HYBRID,
                session_out,
                pt_out,
                pt_cap,
                pt_len,
            )
        }
    })
}

/// `dmp_session_accept` with a post-quantum policy: `DMP_PQ_REQUIRE_HYBRID` or
/// `DMP_PQ_ALLOW_CLASSICAL` (accept a classical first message to a classical signed prekey; a
/// hybrid signed prekey is never accepted without its ML-KEM part). Any other value is
/// `DMP_ERR_INVALID_ARGUMENT`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// As `dmp_session_accept`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_accept_with(
    identity: *mut DmpIdentity,
    envelope: *const u8,
    envelope_len: usize,
    pq_policy: i32,
    session_out: *mut *mut DmpSession,
    pt_out: *mut u8,
    pt_cap: usize,
    pt_len: *mut usize,
) -> i32 {
    guard("dmp_session_accept_with", || {
        // SAFETY: caller contract.
        unsafe { accept(identity, envelope, envelope_len, pq_policy, session_out, pt_out, pt_cap, pt_len) }
    })
}

/// Writes the exact envelope size `dmp_session_encrypt` produces for a `pt_len`-byte plaintext
/// in the session's current state. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE`
/// (CLOSED), `DMP_ERR_TOO_LARGE` (over `DMP_MAX_PLAINTEXT_LEN`).
///
/// # Safety
/// `session` NULL or live; `len_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_encrypted_len(
    session: *const DmpSession,
    pt_len: usize,
    len_out: *mut usize,
) -> i32 {
    guard("dmp_session_encrypted_len", || {
        // SAFETY: caller contract.
        let (s, out) = unsafe { (DmpSession::lock(session)?, out_ref(len_out, "len_out")?) };
        *out = s.encrypted_len(pt_len)?;
        Ok(())
    })
}

/// Encrypts `pt` into an envelope for the peer. DORMANT becomes INITIATING. If `out_cap` is too
/// small, `DMP_ERR_BUFFER_TOO_SMALL` with `*out_len` = size needed and the session unchanged.
/// Errors besides: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (CLOSED), `DMP_ERR_TOO_LARGE`,
/// `DMP_ERR_RANDOM_FAILURE` (session unchanged). Randomness is drawn only by the first encrypt
/// after a message under a new peer ratchet key, which makes a fresh ratchet key for the new
/// sending chain; otherwise the message key is the chain's next one.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `session` NULL or live; `pt` NULL (if `pt_len` is 0) or valid; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_encrypt(
    session: *mut DmpSession,
    pt: *const u8,
    pt_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_session_encrypt", || {
        disjoint(&[bytes("pt", pt, pt_len)], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (mut s, pt, mut out) = unsafe {
            (DmpSession::lock(session)?, input(pt, pt_len, "pt")?, OutBuf::new(out, out_cap, out_len)?)
        };
        let needed = s.encrypted_len(pt.len())?;
        s.encrypt_into(pt, out.reserve(needed)?)?;
        Ok(())
    })
}

/// Decrypts an envelope from the peer and writes the plaintext. INITIATING becomes ACTIVE. On
/// any error the session is unchanged; with `DMP_ERR_BUFFER_TOO_SMALL` `*out_len` holds the size
/// needed and the same envelope can be decrypted again. A plaintext is never larger than
/// `envelope_len - DMP_MESSAGE_HEADER_LEN - DMP_TAG_LEN - 1`; with one byte more than that,
/// `out_cap` always holds the framed plaintext, which is then decrypted straight into `out` (no
/// copy; the bytes after the plaintext are zeroed).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (DORMANT or CLOSED),
/// `DMP_ERR_BAD_ENVELOPE`, `DMP_ERR_UNSUPPORTED_VERSION`, `DMP_ERR_WRONG_MESSAGE_TYPE`,
/// `DMP_ERR_WRONG_SESSION`, `DMP_ERR_AUTH_FAILED`, `DMP_ERR_DUPLICATE`, `DMP_ERR_TOO_FAR_AHEAD`,
/// `DMP_ERR_WEAK_KEY`, `DMP_ERR_TOO_LARGE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `session` NULL or live; `envelope` NULL or valid for `envelope_len`; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_decrypt(
    session: *mut DmpSession,
    envelope: *const u8,
    envelope_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_session_decrypt", || {
        disjoint(
            &[bytes("envelope", envelope, envelope_len)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        // SAFETY: caller contract.
        let (mut s, env, mut out) = unsafe {
            (
                DmpSession::lock(session)?,
                input(envelope, envelope_len, "envelope")?,
                OutBuf::new(out, out_cap, out_len)?,
            )
        };
        // A buffer that holds the framed plaintext gets it decrypted straight in (no copy); a
        // smaller one goes the exact-size way, which reports the size needed.
        match s.decrypt_into(env, out.whole()) {
            Ok(len) => {
                out.set_len(len);
                return Ok(());
            }
            Err(Error::BufferTooSmall) => {}
            Err(e) => return Err(e.into()),
        }
        let mut stash = None;
        let result = s.decrypt_with(env, out.sink(&mut stash));
        sink_result(result, stash)
    })
}

/// Writes the lifecycle state as a `DMP_SESSION_*` value. Works in every state, CLOSED included.
/// Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `session` NULL or live; `state_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_state(session: *const DmpSession, state_out: *mut i32) -> i32 {
    guard("dmp_session_state", || {
        // SAFETY: caller contract.
        let (s, out) = unsafe { (DmpSession::lock(session)?, out_ref(state_out, "state_out")?) };
        *out = s.state() as i32;
        Ok(())
    })
}

/// Writes the peer's 32-byte agent id. Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `session` NULL or live; `peer32_out` NULL or valid for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_peer_id(session: *const DmpSession, peer32_out: *mut u8) -> i32 {
    guard("dmp_session_peer_id", || {
        // SAFETY: caller contract.
        let (s, out) = unsafe { (DmpSession::lock(session)?, array_out::<32>(peer32_out, "peer32_out")?) };
        *out = s.peer_id().to_bytes();
        Ok(())
    })
}

/// Writes the `DMP_SESSION_ID_LEN`-byte session id carried by every envelope of the session.
/// Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `session` NULL or live; `id8_out` NULL or valid for `DMP_SESSION_ID_LEN` (8) writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_id(session: *const DmpSession, id8_out: *mut u8) -> i32 {
    guard("dmp_session_id", || {
        // SAFETY: caller contract.
        let (s, out) = unsafe { (DmpSession::lock(session)?, array_out::<8>(id8_out, "id8_out")?) };
        *out = s.session_id();
        Ok(())
    })
}

/// Sets the padding of outgoing messages (`DMP_PADDING_NONE` or `DMP_PADDING_BUCKETS`).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_WRONG_STATE` (CLOSED).
///
/// # Safety
/// `session` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_set_padding(session: *mut DmpSession, mode: i32) -> i32 {
    guard("dmp_session_set_padding", || {
        let padding = padding_in(mode)?;
        let mut s = DmpSession::lock(session)?;
        s.set_padding(padding)?;
        Ok(())
    })
}

/// Sets the out-of-order limits: the largest forward jump in one chain (1 to
/// `DMP_MAX_FORWARD_JUMP_CEILING`) and the cap on stored skipped keys (1 to
/// `DMP_MAX_SKIPPED_KEYS_CEILING`); lowering the cap evicts the oldest stored keys now.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_WRONG_STATE` (CLOSED).
///
/// # Safety
/// `session` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_set_limits(
    session: *mut DmpSession,
    max_forward_jump: u32,
    max_skipped_keys: u32,
) -> i32 {
    guard("dmp_session_set_limits", || {
        let limits = Limits::new(max_forward_jump, max_skipped_keys).map_err(|e| {
            FfiError::new(e, format!("limits ({max_forward_jump}, {max_skipped_keys}) out of range"))
        })?;
        let mut s = DmpSession::lock(session)?;
        s.set_limits(limits)?;
        Ok(())
    })
}

/// Closes the session: every key is erased and every later call except `dmp_session_state`,
/// `dmp_session_peer_id`, `dmp_session_id` and `dmp_session_free` is refused with
/// `DMP_ERR_WRONG_STATE`. Closing a CLOSED session is `DMP_ERR_WRONG_STATE`.
/// Errors besides: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `session` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_close(session: *mut DmpSession) -> i32 {
    guard("dmp_session_close", || {
        let mut s = DmpSession::lock(session)?;
        s.close()?;
        Ok(())
    })
}

/// Serializes the session encrypted with the 32-byte storage key. Errors:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (CLOSED), `DMP_ERR_BUFFER_TOO_SMALL`
/// (`*out_len` = size needed).
///
/// A record is stale as soon as the session encrypts again: store the new one before sending
/// that envelope, and never go back to an older record of a session that has sent since. An
/// older copy would encrypt with message keys already used, and each message key always uses the
/// same nonce (docs/SECURITY.md section 4). `dmp_agent_*` does this for you.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `session` NULL or live; `storage_key32` NULL or 32 reads; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_serialize(
    session: *const DmpSession,
    storage_key32: *const u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_session_serialize", || {
        disjoint(
            &[bytes("storage_key32", storage_key32, 32)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        let key = storage_key_in(storage_key32)?;
        // SAFETY: caller contract.
        let (s, mut out) = unsafe { (DmpSession::lock(session)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(&s.to_sealed(&key)?)
    })
}

/// Restores a session from `dmp_session_serialize` output; `*out` receives the handle (NULL on
/// failure). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STORAGE_KEY`, `DMP_ERR_BAD_STATE`,
/// `DMP_ERR_UNSUPPORTED_VERSION`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `record` NULL or valid for `record_len` reads; `storage_key32` 32 reads; `out` pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_session_deserialize(
    record: *const u8,
    record_len: usize,
    storage_key32: *const u8,
    out: *mut *mut DmpSession,
) -> i32 {
    // SAFETY: caller contract.
    guard("dmp_session_deserialize", || unsafe {
        deserialize::<DmpSession>(record, record_len, storage_key32, out, Session::from_sealed)
    })
}

/// Releases a session; its keys are zeroized. NULL, a freed handle and any other pointer are ignored. A call on it that is in
/// progress on another thread completes first; later calls are refused with
/// `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_session_free(session: *mut DmpSession) {
    guard_void(|| DmpSession::free(session));
}

const _: () = {
    assert!(DMP_SESSION_DORMANT == SessionState::Dormant as i32);
    assert!(DMP_SESSION_INITIATING == SessionState::Initiating as i32);
    assert!(DMP_SESSION_ACTIVE == SessionState::Active as i32);
    assert!(DMP_SESSION_CLOSED == SessionState::Closed as i32);
};
