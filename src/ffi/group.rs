//! `dmp_group_t`: a Sender Keys group (create, members, distributions, encrypt, decrypt,
//! rotate, serialize).

use std::sync::Mutex;

use super::identity::DmpIdentity;
use super::{
    FfiError, FfiResult, Handle, OutBuf, array_in, array_out, bytes, clear_handle_out, deserialize, disjoint,
    guard, guard_void, input, out_ref, scalar, sink_result, storage_key_in,
};
use crate::error::Error;
use crate::group::Group;
use crate::identity::AgentId;
use crate::ratchet::Limits;
use crate::wire::Padding;

/// A group as one member sees it. Opaque.
pub struct DmpGroup {
    inner: Mutex<Group>,
}

impl Handle for DmpGroup {
    type Inner = Group;
    const NAME: &'static str = "dmp_group_t";
    fn wrap(inner: Group) -> Self {
        DmpGroup { inner: Mutex::new(inner) }
    }
    fn mutex(&self) -> &Mutex<Group> {
        &self.inner
    }
}

fn agent_in(ptr: *const u8, what: &str) -> FfiResult<AgentId> {
    // SAFETY: exported functions require ptr to be NULL or point to 32 bytes.
    let bytes = unsafe { array_in::<32>(ptr, what) }?;
    AgentId::from_bytes(bytes).map_err(|e| FfiError::new(e, format!("`{what}` is not a valid agent id")))
}

/// Creates our view of a group with id `group_id32` (any 32 bytes the members agree on, e.g.
/// from `dmp_random_bytes`), no other member yet and a fresh sender key (key id 1). `*out`
/// receives the handle (NULL on failure). Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_RANDOM_FAILURE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `identity` NULL or live; `group_id32` NULL or 32 reads; `out` a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_new(
    identity: *const DmpIdentity,
    group_id32: *const u8,
    out: *mut *mut DmpGroup,
) -> i32 {
    guard("dmp_group_new", || {
        disjoint(&[bytes("group_id32", group_id32, 32)], &[scalar("out", out)])?;
        // SAFETY: caller contract.
        unsafe { clear_handle_out(out) };
        // SAFETY: caller contract.
        let (id, gid) = unsafe { (DmpIdentity::lock(identity)?, array_in::<32>(group_id32, "group_id32")?) };
        if out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`out` is NULL"));
        }
        let group = Group::new(id.agent_id(), *gid)?;
        // SAFETY: caller contract.
        unsafe { DmpGroup::store(out, group) }
    })
}

/// Releases a group; its keys are zeroized. NULL, a freed handle and any other pointer are ignored. A call on it that is in
/// progress on another thread completes first; later calls are refused with
/// `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_group_free(group: *mut DmpGroup) {
    guard_void(|| DmpGroup::free(group));
}

/// Writes the 32-byte group id. Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `group` NULL or live; `group_id32_out` NULL or 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_id(group: *const DmpGroup, group_id32_out: *mut u8) -> i32 {
    guard("dmp_group_id", || {
        // SAFETY: caller contract.
        let (g, out) =
            unsafe { (DmpGroup::lock(group)?, array_out::<32>(group_id32_out, "group_id32_out")?) };
        *out = g.group_id();
        Ok(())
    })
}

/// Adds a member (its 32-byte agent id). Then send it `dmp_group_distribution` over the
/// pairwise session: it reads our messages from now on, never earlier ones.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`/`DMP_ERR_WEAK_KEY` (not a valid agent
/// id), `DMP_ERR_INVALID_ARGUMENT` (ourselves, or already a member), `DMP_ERR_TOO_LARGE` (full).
///
/// # Safety
/// `group` NULL or live; `member32` NULL or 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_add_member(group: *mut DmpGroup, member32: *const u8) -> i32 {
    guard("dmp_group_add_member", || {
        let member = agent_in(member32, "member32")?;
        let mut g = DmpGroup::lock(group)?;
        g.add_member(&member)?;
        Ok(())
    })
}

/// Removes a member: its keys are erased, its messages refused with `DMP_ERR_MEMBER_REMOVED`,
/// and our sender key rotates; send the new `dmp_group_distribution` to every remaining member.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_UNKNOWN_SENDER` (not a member), agent id errors,
/// `DMP_ERR_RANDOM_FAILURE`, `DMP_ERR_TOO_LARGE` (key ids exhausted).
///
/// # Safety
/// `group` NULL or live; `member32` NULL or 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_remove_member(group: *mut DmpGroup, member32: *const u8) -> i32 {
    guard("dmp_group_remove_member", || {
        let member = agent_in(member32, "member32")?;
        let mut g = DmpGroup::lock(group)?;
        g.remove_member(&member)?;
        Ok(())
    })
}

/// Writes how many other members the group has. Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `group` NULL or live; `count_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_member_count(group: *const DmpGroup, count_out: *mut u32) -> i32 {
    guard("dmp_group_member_count", || {
        // SAFETY: caller contract.
        let (g, out) = unsafe { (DmpGroup::lock(group)?, out_ref(count_out, "count_out")?) };
        *out = g.members().len() as u32;
        Ok(())
    })
}

/// Writes the other members' agent ids, 32 bytes each, in id order (`32 * count` bytes).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `group` NULL or live; `out` NULL (if `out_cap` is 0) or `out_cap` writes; `out_len` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_members(
    group: *const DmpGroup,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_group_members", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (g, mut out) = unsafe { (DmpGroup::lock(group)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(&g.members().concat())
    })
}

/// Writes our current sender key id (1 at creation, +1 per rotation). Errors:
/// `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `group` NULL or live; `key_id_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_key_id(group: *const DmpGroup, key_id_out: *mut u32) -> i32 {
    guard("dmp_group_key_id", || {
        // SAFETY: caller contract.
        let (g, out) = unsafe { (DmpGroup::lock(group)?, out_ref(key_id_out, "key_id_out")?) };
        *out = g.key_id();
        Ok(())
    })
}

/// Replaces our sender key (new key id, chain and signing key); send the new
/// `dmp_group_distribution` to every member. Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_RANDOM_FAILURE`, `DMP_ERR_TOO_LARGE` (key ids exhausted).
///
/// # Safety
/// `group` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_rotate(group: *mut DmpGroup) -> i32 {
    guard("dmp_group_rotate", || {
        let mut g = DmpGroup::lock(group)?;
        g.rotate()?;
        Ok(())
    })
}

/// Writes our sender-key distribution at the current iteration (`DMP_DISTRIBUTION_LEN` bytes).
/// It is secret: send it to each member only inside their pairwise session.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `group` NULL or live; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_distribution(
    group: *const DmpGroup,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_group_distribution", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (g, mut out) = unsafe { (DmpGroup::lock(group)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(&g.distribution())
    })
}

/// Takes in a distribution that `sender32` sent us; `sender32` must be the peer of the
/// pairwise session that carried it (that session authenticated it).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BAD_ENVELOPE`, `DMP_ERR_WRONG_MESSAGE_TYPE`,
/// `DMP_ERR_WRONG_SESSION` (another group), `DMP_ERR_UNKNOWN_SENDER` (not a member, or not its own
/// key), `DMP_ERR_MEMBER_REMOVED`, `DMP_ERR_DUPLICATE` (key id already held),
/// `DMP_ERR_SUPERSEDED_KEY` (older key id), `DMP_ERR_WEAK_KEY`. Nothing changes on error.
///
/// # Safety
/// `group` NULL or live; `sender32` NULL or 32 reads; `distribution` NULL or valid for its length.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_process_distribution(
    group: *mut DmpGroup,
    sender32: *const u8,
    distribution: *const u8,
    distribution_len: usize,
) -> i32 {
    guard("dmp_group_process_distribution", || {
        let sender = agent_in(sender32, "sender32")?;
        // SAFETY: caller contract.
        let (mut g, d) =
            unsafe { (DmpGroup::lock(group)?, input(distribution, distribution_len, "distribution")?) };
        g.process_distribution(&sender, d)?;
        Ok(())
    })
}

/// Writes the exact size `dmp_group_encrypt` produces for a `pt_len`-byte plaintext (the same
/// for any group size). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_TOO_LARGE`.
///
/// # Safety
/// `group` NULL or live; `len_out` NULL or valid for a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_encrypted_len(
    group: *const DmpGroup,
    pt_len: usize,
    len_out: *mut usize,
) -> i32 {
    guard("dmp_group_encrypted_len", || {
        // SAFETY: caller contract.
        let (g, out) = unsafe { (DmpGroup::lock(group)?, out_ref(len_out, "len_out")?) };
        *out = g.encrypted_len(pt_len)?;
        Ok(())
    })
}

/// Encrypts `pt` once for the whole group and signs it. If `out_cap` is too small,
/// `DMP_ERR_BUFFER_TOO_SMALL` with `*out_len` = size needed, nothing changed.
/// Errors besides: `DMP_ERR_NULL_POINTER`, `DMP_ERR_TOO_LARGE`, `DMP_ERR_RANDOM_FAILURE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `group` NULL or live; `pt` NULL (if `pt_len` is 0) or valid; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_encrypt(
    group: *mut DmpGroup,
    pt: *const u8,
    pt_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_group_encrypt", || {
        disjoint(&[bytes("pt", pt, pt_len)], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (mut g, pt, mut out) = unsafe {
            (DmpGroup::lock(group)?, input(pt, pt_len, "pt")?, OutBuf::new(out, out_cap, out_len)?)
        };
        let needed = g.encrypted_len(pt.len())?;
        g.encrypt_into(pt, out.reserve(needed)?)?;
        Ok(())
    })
}

/// Decrypts a group message: writes the sender's agent id and the plaintext. Checks, in order:
/// format, group (`DMP_ERR_WRONG_SESSION`), sender (`DMP_ERR_MEMBER_REMOVED`,
/// `DMP_ERR_UNKNOWN_SENDER`), key id (`DMP_ERR_UNKNOWN_KEY_ID`, `DMP_ERR_SUPERSEDED_KEY`),
/// signature (`DMP_ERR_BAD_SIGNATURE`), chain (`DMP_ERR_DUPLICATE`, `DMP_ERR_TOO_FAR_AHEAD`),
/// AEAD (`DMP_ERR_AUTH_FAILED`). On any error, `DMP_ERR_BUFFER_TOO_SMALL` included (with
/// `*out_len` = size needed), nothing changes and nothing is written to `sender32_out`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `group` NULL or live; `in_` NULL or valid for `in_len`; `sender32_out` 32 writes; `out`,
/// `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_decrypt(
    group: *mut DmpGroup,
    in_: *const u8,
    in_len: usize,
    sender32_out: *mut u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_group_decrypt", || {
        disjoint(
            &[bytes("in", in_, in_len)],
            &[
                bytes("sender32_out", sender32_out, 32),
                bytes("out", out, out_cap),
                scalar("out_len", out_len),
            ],
        )?;
        // SAFETY: caller contract.
        let (mut g, msg, sender_out, mut out) = unsafe {
            (
                DmpGroup::lock(group)?,
                input(in_, in_len, "in")?,
                array_out::<32>(sender32_out, "sender32_out")?,
                OutBuf::new(out, out_cap, out_len)?,
            )
        };
        let mut stash = None;
        let result = g.decrypt_with(msg, out.sink(&mut stash));
        let sender = sink_result(result, stash)?;
        *sender_out = sender.to_bytes();
        Ok(())
    })
}

/// Sets the padding of our outgoing group messages (`DMP_PADDING_*`).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `group` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_set_padding(group: *mut DmpGroup, mode: i32) -> i32 {
    guard("dmp_group_set_padding", || {
        let padding = u8::try_from(mode).ok().and_then(Padding::from_u8).ok_or_else(|| {
            FfiError::new(Error::InvalidArgument, format!("padding mode {mode} is not DMP_PADDING_*"))
        })?;
        let mut g = DmpGroup::lock(group)?;
        g.set_padding(padding);
        Ok(())
    })
}

/// Sets the out-of-order limits applied to every sender (ranges as `dmp_session_set_limits`).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `group` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_set_limits(
    group: *mut DmpGroup,
    max_forward_jump: u32,
    max_skipped_keys: u32,
) -> i32 {
    guard("dmp_group_set_limits", || {
        let limits = Limits::new(max_forward_jump, max_skipped_keys)?;
        let mut g = DmpGroup::lock(group)?;
        g.set_limits(limits);
        Ok(())
    })
}

/// Serializes the group (members, every sender key) encrypted with the 32-byte storage key.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`, `DMP_ERR_RANDOM_FAILURE`.
///
/// A record is stale as soon as the group encrypts again: store the new one before sending that
/// envelope, and never go back to an older record of a group that has sent since. An older copy
/// would encrypt with message keys already used, and group message keys always use the same
/// nonce (docs/SECURITY.md section 4). `dmp_agent_*` does this for you.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `group` NULL or live; `storage_key32` 32 reads; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_serialize(
    group: *const DmpGroup,
    storage_key32: *const u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_group_serialize", || {
        disjoint(
            &[bytes("storage_key32", storage_key32, 32)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        let key = storage_key_in(storage_key32)?;
        // SAFETY: caller contract.
        let (g, mut out) = unsafe { (DmpGroup::lock(group)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(&g.to_sealed(&key)?)
    })
}

/// Restores a group from `dmp_group_serialize` output; `*out` receives the handle (NULL on
/// failure). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STORAGE_KEY`, `DMP_ERR_BAD_STATE`,
/// `DMP_ERR_UNSUPPORTED_VERSION`. Only the newest record of a group may be restored (see
/// `dmp_group_serialize`).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `record` NULL or valid for `record_len`; `storage_key32` 32 reads; `out` a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_group_deserialize(
    record: *const u8,
    record_len: usize,
    storage_key32: *const u8,
    out: *mut *mut DmpGroup,
) -> i32 {
    // SAFETY: caller contract.
    guard("dmp_group_deserialize", || unsafe {
        deserialize::<DmpGroup>(record, record_len, storage_key32, out, Group::from_sealed)
    })
}
