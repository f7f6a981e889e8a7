//! `dmp_identity_t`: an agent's identity with its prekeys, and prekey bundles.

use std::sync::Mutex;

use zeroize::Zeroizing;

use super::{
    FfiError, FfiResult, Handle, OutBuf, array_in, array_out, bytes, clear_handle_out, deserialize, disjoint,
    fill_reserved, guard, guard_void, input, out_ref, scalar, storage_key_in,
};
use crate::error::Error;
use crate::identity::{AgentId, Identity};
use crate::prekey::PrekeyBundle;
use crate::prekey::Suite;

/// An identity (Ed25519 identity key, signed prekeys, one-time prekeys). Opaque.
pub struct DmpIdentity {
    inner: Mutex<Identity>,
}

impl Handle for DmpIdentity {
    type Inner = Identity;
    const NAME: &'static str = "dmp_identity_t";
    fn wrap(inner: Identity) -> Self {
        DmpIdentity { inner: Mutex::new(inner) }
    }
    fn mutex(&self) -> &Mutex<Identity> {
        &self.inner
    }
}

pub(crate) fn bool_in(v: i32, what: &str) -> FfiResult<bool> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(FfiError::new(Error::InvalidArgument, format!("`{what}` must be 0 or 1, got {v}"))),
    }
}

/// Creates a fresh random hybrid (X25519 + ML-KEM-768) identity with a first signed prekey;
/// `*out` receives the handle
/// (NULL on failure). Free it with `dmp_identity_free`.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
///
/// # Safety
/// `out` must be NULL or valid for a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_generate(out: *mut *mut DmpIdentity) -> i32 {
    // SAFETY: caller contract.
    unsafe { clear_handle_out(out) };
    guard("dmp_identity_generate", || {
        let id = Identity::generate()?;
        // SAFETY: caller contract.
        unsafe { DmpIdentity::store(out, id) }
    })
}

/// Creates the hybrid identity of a 32-byte seed: the same seed always gives the same agent id
/// (and identity key); every prekey, and every prekey id, is fresh randomness, so two identities
/// from one seed share nothing else. `*out` receives the handle (NULL on failure).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `seed32` must be NULL or valid for 32 reads; `out` NULL or valid for a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_from_seed(seed32: *const u8, out: *mut *mut DmpIdentity) -> i32 {
    guard("dmp_identity_from_seed", || {
        disjoint(&[bytes("seed32", seed32, 32)], &[scalar("out", out)])?;
        // SAFETY: caller contract.
        unsafe { clear_handle_out(out) };
        // SAFETY: caller contract.
        let seed = Zeroizing::new(*unsafe { array_in::<32>(seed32, "seed32") }?);
        if out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`out` is NULL"));
        }
        let id = Identity::from_seed(&seed)?;
        // SAFETY: caller contract.
        unsafe { DmpIdentity::store(out, id) }
    })
}

/// X25519 only (X3DH): for peers that cannot do ML-KEM.
pub const DMP_SUITE_CLASSICAL: i32 = 1;
/// X25519 and ML-KEM-768 (PQXDH-style): the default.
pub const DMP_SUITE_HYBRID: i32 = 2;

fn suite_in(suite: i32) -> FfiResult<Suite> {
    u8::try_from(suite)
        .ok()
        .and_then(Suite::from_u8)
        .ok_or_else(|| FfiError::new(Error::InvalidArgument, format!("suite {suite} is not DMP_SUITE_*")))
}

/// Creates a fresh random identity of `suite` (`DMP_SUITE_HYBRID`, as `dmp_identity_generate`
/// does, or `DMP_SUITE_CLASSICAL`). `*out` receives the handle (NULL on failure).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_RANDOM_FAILURE`.
///
/// # Safety
/// `out` must be NULL or valid for a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_generate_with(suite: i32, out: *mut *mut DmpIdentity) -> i32 {
    // SAFETY: caller contract.
    unsafe { clear_handle_out(out) };
    guard("dmp_identity_generate_with", || {
        let suite = suite_in(suite)?;
        if out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`out` is NULL"));
        }
        let id = Identity::generate_with(suite)?;
        // SAFETY: caller contract.
        unsafe { DmpIdentity::store(out, id) }
    })
}

/// Creates the identity of `suite` for a 32-byte seed (as `dmp_identity_from_seed`, which is
/// hybrid). Only the agent id (the identity key) comes from the seed; the prekeys are fresh.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`, `DMP_ERR_RANDOM_FAILURE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `seed32` must be NULL or valid for 32 reads; `out` NULL or valid for a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_from_seed_with(
    seed32: *const u8,
    suite: i32,
    out: *mut *mut DmpIdentity,
) -> i32 {
    guard("dmp_identity_from_seed_with", || {
        disjoint(&[bytes("seed32", seed32, 32)], &[scalar("out", out)])?;
        // SAFETY: caller contract.
        unsafe { clear_handle_out(out) };
        let suite = suite_in(suite)?;
        // SAFETY: caller contract.
        let seed = Zeroizing::new(*unsafe { array_in::<32>(seed32, "seed32") }?);
        if out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`out` is NULL"));
        }
        let id = Identity::from_seed_with(&seed, suite)?;
        // SAFETY: caller contract.
        unsafe { DmpIdentity::store(out, id) }
    })
}

/// Writes the identity's suite (`DMP_SUITE_CLASSICAL` or `DMP_SUITE_HYBRID`).
/// Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `identity` NULL or live; `suite_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_suite(identity: *const DmpIdentity, suite_out: *mut i32) -> i32 {
    guard("dmp_identity_suite", || {
        // SAFETY: caller contract.
        let (id, out) = unsafe { (DmpIdentity::lock(identity)?, out_ref(suite_out, "suite_out")?) };
        *out = id.suite() as i32;
        Ok(())
    })
}

/// Releases an identity; its secrets are zeroized. NULL, a freed handle and any other pointer are ignored. A call on it that is in
/// progress on another thread completes first; later calls are refused with
/// `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_identity_free(identity: *mut DmpIdentity) {
    guard_void(|| DmpIdentity::free(identity));
}

/// Writes the agent id (the 32-byte Ed25519 public key).
/// Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `identity` NULL or live; `public32_out` NULL or valid for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_public_key(identity: *const DmpIdentity, public32_out: *mut u8) -> i32 {
    guard("dmp_identity_public_key", || {
        // SAFETY: caller contract.
        let (id, out) =
            unsafe { (DmpIdentity::lock(identity)?, array_out::<32>(public32_out, "public32_out")?) };
        *out = id.agent_id().to_bytes();
        Ok(())
    })
}

/// Writes the identity's fingerprint: `DMP_FINGERPRINT_LEN` ASCII bytes, not NUL-terminated,
/// e.g. "1a2b 3c4d 5e6f 7a8b 9c0d 1e2f 3a4b 5c6d", for people to compare out of band.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `identity` NULL or live; `out` NULL or valid for `out_cap` writes; `out_len` NULL or valid.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_fingerprint(
    identity: *const DmpIdentity,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_identity_fingerprint", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (id, mut out) = unsafe { (DmpIdentity::lock(identity)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(id.agent_id().fingerprint().as_bytes())
    })
}

/// Writes the fingerprint of any agent id (32 bytes), as `dmp_identity_fingerprint` does.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE` (not a curve point), `DMP_ERR_WEAK_KEY`,
/// `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent_id32` NULL or valid for 32 reads; `out`/`out_len` as for `dmp_identity_fingerprint`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_fingerprint(
    agent_id32: *const u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_fingerprint", || {
        disjoint(
            &[bytes("agent_id32", agent_id32, 32)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        // SAFETY: caller contract.
        let (id, mut out) =
            unsafe { (array_in::<32>(agent_id32, "agent_id32")?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(AgentId::from_bytes(id)?.fingerprint().as_bytes())
    })
}

/// Signs an application message `msg` with the identity key; writes a 64-byte Ed25519 signature
/// (plain RFC 8032, over `msg` as given) that verifies under the agent id with
/// `dmp_ed25519_verify` or any Ed25519 library. Messages that begin with the three bytes "DMP"
/// are reserved for the protocol's own signatures (a prekey bundle's signature covers
/// "DMP1 prekey bundle" || ...) and are refused, so no application signature can pass for a
/// bundle. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (a reserved message;
/// nothing written).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `identity` NULL or live; `msg` NULL (if `msg_len` is 0) or valid; `sig64_out` 64 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_sign(
    identity: *const DmpIdentity,
    msg: *const u8,
    msg_len: usize,
    sig64_out: *mut u8,
) -> i32 {
    guard("dmp_identity_sign", || {
        disjoint(&[bytes("msg", msg, msg_len)], &[bytes("sig64_out", sig64_out, 64)])?;
        // SAFETY: caller contract.
        let (id, msg, out) = unsafe {
            (
                DmpIdentity::lock(identity)?,
                input(msg, msg_len, "msg")?,
                array_out::<64>(sig64_out, "sig64_out")?,
            )
        };
        *out = id.keys().sign(super::application_message(msg)?)?.0;
        Ok(())
    })
}

/// Writes a prekey bundle for others to start sessions with: for a hybrid identity
/// `DMP_HYBRID_BUNDLE_LEN` bytes, or `DMP_BUNDLE_MAX_LEN` with `with_one_time_prekey` = 1; for a
/// classical one `DMP_BUNDLE_LEN`, or `DMP_BUNDLE_LEN + 36`. The bundle is valid for 14 days
/// from the system clock's now (its signed expiry). With the flag, the oldest one-time
/// prekey not yet handed out is included (one is generated if none is left) and marked handed
/// out. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (flag not 0/1),
/// `DMP_ERR_BUFFER_TOO_SMALL` (checked first: no prekey is marked), `DMP_ERR_TOO_LARGE`
/// (one-time prekey pool full).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `identity` NULL or live; `out` NULL (if `out_cap` is 0) or valid; `out_len` NULL or valid.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_bundle(
    identity: *mut DmpIdentity,
    with_one_time_prekey: i32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_identity_bundle", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        let with = bool_in(with_one_time_prekey, "with_one_time_prekey")?;
        // SAFETY: caller contract.
        let (mut id, mut out) =
            unsafe { (DmpIdentity::lock(identity)?, OutBuf::new(out, out_cap, out_len)?) };
        let buf = out.reserve(id.bundle_len(with))?;
        let bundle = id.bundle(with)?.to_bytes();
        fill_reserved(buf, &bundle, "bundle_len")
    })
}

/// Verifies a prekey bundle (format, identity key, the strict signature over the whole bundle, a
/// valid ML-KEM key paired with its prekey) and writes its agent id. An X25519 prekey of small
/// order is not refused here but where it is used: `dmp_session_initiate` returns
/// `DMP_ERR_WEAK_KEY`. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`,
/// `DMP_ERR_UNSUPPORTED_VERSION`, `DMP_ERR_WRONG_MESSAGE_TYPE`, `DMP_ERR_BAD_SIGNATURE` (any byte
/// changed, and any block removed: a hybrid bundle stripped of its ML-KEM part included),
/// `DMP_ERR_EXPIRED_BUNDLE` (its signed expiry is not after the system clock's now),
/// `DMP_ERR_WEAK_KEY` (an identity key outside the prime-order subgroup).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `bundle` NULL or valid for `bundle_len` reads; `agent_id32_out` NULL or valid for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_bundle_verify(
    bundle: *const u8,
    bundle_len: usize,
    agent_id32_out: *mut u8,
) -> i32 {
    guard("dmp_bundle_verify", || {
        disjoint(&[bytes("bundle", bundle, bundle_len)], &[bytes("agent_id32_out", agent_id32_out, 32)])?;
        // SAFETY: caller contract.
        let (bytes, out) = unsafe {
            (input(bundle, bundle_len, "bundle")?, array_out::<32>(agent_id32_out, "agent_id32_out")?)
        };
        *out = PrekeyBundle::from_bytes(bytes)?.agent_id().to_bytes();
        Ok(())
    })
}

/// Replaces the signed prekey with a fresh one and writes its id. The replaced one still
/// accepts first messages until the next rotation. Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_RANDOM_FAILURE`, `DMP_ERR_TOO_LARGE` (ids exhausted).
///
/// # Safety
/// `identity` NULL or live; `new_id_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_rotate_signed_prekey(
    identity: *mut DmpIdentity,
    new_id_out: *mut u32,
) -> i32 {
    guard("dmp_identity_rotate_signed_prekey", || {
        // SAFETY: caller contract.
        let (mut id, out) = unsafe { (DmpIdentity::lock(identity)?, out_ref(new_id_out, "new_id_out")?) };
        *out = id.rotate_signed_prekey()?;
        Ok(())
    })
}

/// Writes the current signed prekey's id. Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `identity` NULL or live; `id_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_signed_prekey_id(
    identity: *const DmpIdentity,
    id_out: *mut u32,
) -> i32 {
    guard("dmp_identity_signed_prekey_id", || {
        // SAFETY: caller contract.
        let (id, out) = unsafe { (DmpIdentity::lock(identity)?, out_ref(id_out, "id_out")?) };
        *out = id.signed_prekey_id();
        Ok(())
    })
}

/// Generates `count` one-time prekeys. Refused with `DMP_ERR_TOO_LARGE` (nothing generated) if
/// the identity would hold more than `DMP_MAX_ONE_TIME_PREKEYS`. Errors besides:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
///
/// # Safety
/// `identity` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_generate_one_time_prekeys(
    identity: *mut DmpIdentity,
    count: u32,
) -> i32 {
    guard("dmp_identity_generate_one_time_prekeys", || {
        let mut id = DmpIdentity::lock(identity)?;
        id.generate_one_time_prekeys(count as usize)?;
        Ok(())
    })
}

/// Writes how many one-time prekeys the identity holds (handed out or not; used ones are
/// deleted). Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `identity` NULL or live; `count_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_one_time_prekey_count(
    identity: *const DmpIdentity,
    count_out: *mut u32,
) -> i32 {
    guard("dmp_identity_one_time_prekey_count", || {
        // SAFETY: caller contract.
        let (id, out) = unsafe { (DmpIdentity::lock(identity)?, out_ref(count_out, "count_out")?) };
        *out = id.one_time_prekey_count() as u32;
        Ok(())
    })
}

/// Serializes the identity (with every prekey secret) encrypted with the 32-byte storage key.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL` (`*out_len` = size needed).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `identity` NULL or live; `storage_key32` NULL or 32 reads; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_serialize(
    identity: *const DmpIdentity,
    storage_key32: *const u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_identity_serialize", || {
        disjoint(
            &[bytes("storage_key32", storage_key32, 32)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        let key = storage_key_in(storage_key32)?;
        // SAFETY: caller contract.
        let (id, mut out) = unsafe { (DmpIdentity::lock(identity)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(&id.to_sealed(&key)?)
    })
}

/// Restores an identity from `dmp_identity_serialize` output; `*out` receives the handle (NULL
/// on failure). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STORAGE_KEY`, `DMP_ERR_BAD_STATE`,
/// `DMP_ERR_UNSUPPORTED_VERSION`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `record` NULL or valid for `record_len` reads; `storage_key32` 32 reads; `out` pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_identity_deserialize(
    record: *const u8,
    record_len: usize,
    storage_key32: *const u8,
    out: *mut *mut DmpIdentity,
) -> i32 {
    // SAFETY: caller contract.
    guard("dmp_identity_deserialize", || unsafe {
        deserialize::<DmpIdentity>(record, record_len, storage_key32, out, Identity::from_sealed)
    })
}
