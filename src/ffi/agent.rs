//! `dmp_agent_t` and `dmp_event_t`: an agent (one identity, many sessions and groups, persisted)
//! and what it receives.

use std::sync::Mutex;

use super::{
    FfiError, FfiResult, Handle, OutBuf, array_in, array_out, bytes, clear_handle_out, disjoint,
    fill_reserved, guard, guard_void, input, out_ref, scalar, storage_key_in,
};
use crate::agent::{Agent, AgentConfig, Event};
use crate::error::Error;
use crate::identity::AgentId;
use crate::prekey::PqPolicy;

/// `dmp_agent_open` flag: keep every received event until `dmp_agent_ack` (at-least-once
/// delivery across crashes; see `dmp_agent_pending_count`).
pub const DMP_AGENT_RETAIN_EVENTS: i32 = 1;
/// `dmp_agent_open` flag: refuse sender keys for groups we were not added to by our own call.
pub const DMP_AGENT_REFUSE_GROUP_INVITES: i32 = 2;
/// `dmp_agent_open` flag: accept classical-only (no ML-KEM) peers.
pub const DMP_AGENT_ALLOW_CLASSICAL: i32 = 4;

/// A pairwise message from the peer.
pub const DMP_EVENT_MESSAGE: i32 = 1;
/// A group message from the peer (a member) in the event's group.
pub const DMP_EVENT_GROUP_MESSAGE: i32 = 2;
/// The peer's sender key for the event's group was taken in (nothing to do).
pub const DMP_EVENT_DISTRIBUTION_CONSUMED: i32 = 3;
/// The peer set up a session with us and sent no message yet.
pub const DMP_EVENT_SESSION_ESTABLISHED: i32 = 4;

/// An agent. Opaque.
pub struct DmpAgent {
    inner: Mutex<Agent>,
}

/// A received event. Opaque; read it with the `dmp_event_*` functions, release it with
/// `dmp_event_free`.
pub struct DmpEvent {
    inner: Mutex<Event>,
}

impl Handle for DmpAgent {
    type Inner = Agent;
    const NAME: &'static str = "dmp_agent_t";
    fn wrap(inner: Agent) -> Self {
        DmpAgent { inner: Mutex::new(inner) }
    }
    fn mutex(&self) -> &Mutex<Agent> {
        &self.inner
    }
}

impl Handle for DmpEvent {
    type Inner = Event;
    const NAME: &'static str = "dmp_event_t";
    fn wrap(inner: Event) -> Self {
        DmpEvent { inner: Mutex::new(inner) }
    }
    fn mutex(&self) -> &Mutex<Event> {
        &self.inner
    }
}

fn config_for(flags: i32) -> FfiResult<AgentConfig> {
    let known = DMP_AGENT_RETAIN_EVENTS | DMP_AGENT_REFUSE_GROUP_INVITES | DMP_AGENT_ALLOW_CLASSICAL;
    if flags & !known != 0 {
        return Err(FfiError::new(Error::InvalidArgument, format!("unknown agent flags {flags:#x}")));
    }
    let mut c = AgentConfig {
        retain_events: flags & DMP_AGENT_RETAIN_EVENTS != 0,
        accept_group_invites: flags & DMP_AGENT_REFUSE_GROUP_INVITES == 0,
        ..AgentConfig::default()
    };
    if flags & DMP_AGENT_ALLOW_CLASSICAL != 0 {
        c.session.pq_policy = PqPolicy::AllowClassical;
    }
    Ok(c)
}

fn agent_in(ptr: *const u8, what: &str) -> FfiResult<AgentId> {
    // SAFETY: exported functions require ptr to be NULL or point to 32 bytes.
    let bytes = unsafe { array_in::<32>(ptr, what) }?;
    AgentId::from_bytes(bytes).map_err(|e| FfiError::new(e, format!("`{what}` is not a valid agent id")))
}

/// The store path, or `None` for an in-memory agent (`path_len` 0).
///
/// # Safety
/// `path` NULL or valid for `path_len` reads.
unsafe fn path_in(path: *const u8, path_len: usize) -> FfiResult<Option<std::path::PathBuf>> {
    // SAFETY: forwarded caller promise.
    let bytes = unsafe { input(path, path_len, "path") }?;
    if bytes.is_empty() {
        return Ok(None);
    }
    use std::os::unix::ffi::OsStrExt;
    Ok(Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(bytes))))
}

/// Opens the agent stored at `path` (`path_len` bytes, not NUL-terminated; created with a fresh
/// hybrid identity if new), or an in-memory agent when `path_len` is 0. `flags` combines
/// `DMP_AGENT_*` (0 for the defaults). `*out` receives the handle (NULL on failure); the store
/// stays locked until `dmp_agent_free`. Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_INVALID_ARGUMENT` (unknown flag), `DMP_ERR_WRONG_STORAGE_KEY`,
/// `DMP_ERR_STORE_LOCKED` (open elsewhere), `DMP_ERR_STORE_FAILED` (I/O error, not a DMP store),
/// `DMP_ERR_BAD_STATE`, `DMP_ERR_UNSUPPORTED_VERSION`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `path` NULL or valid for `path_len` reads; `storage_key32` 32 reads; `out` a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_open(
    path: *const u8,
    path_len: usize,
    storage_key32: *const u8,
    flags: i32,
    out: *mut *mut DmpAgent,
) -> i32 {
    guard("dmp_agent_open", || {
        disjoint(
            &[bytes("path", path, path_len), bytes("storage_key32", storage_key32, 32)],
            &[scalar("out", out)],
        )?;
        // SAFETY: caller contract.
        unsafe { clear_handle_out(out) };
        let config = config_for(flags)?;
        let key = storage_key_in(storage_key32)?;
        // SAFETY: caller contract.
        let path = unsafe { path_in(path, path_len) }?;
        if out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`out` is NULL"));
        }
        let agent = Agent::open(path.as_deref(), key, config)?;
        // SAFETY: caller contract.
        unsafe { DmpAgent::store(out, agent) }
    })
}

/// As `dmp_agent_open`, with the identity of a 32-byte seed for a new store; an existing store
/// must hold that identity (`DMP_ERR_INVALID_ARGUMENT` otherwise).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// As `dmp_agent_open`; `seed32` 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_open_with_seed(
    path: *const u8,
    path_len: usize,
    storage_key32: *const u8,
    seed32: *const u8,
    flags: i32,
    out: *mut *mut DmpAgent,
) -> i32 {
    guard("dmp_agent_open_with_seed", || {
        disjoint(
            &[
                bytes("path", path, path_len),
                bytes("storage_key32", storage_key32, 32),
                bytes("seed32", seed32, 32),
            ],
            &[scalar("out", out)],
        )?;
        // SAFETY: caller contract.
        unsafe { clear_handle_out(out) };
        let config = config_for(flags)?;
        let key = storage_key_in(storage_key32)?;
        // SAFETY: caller contract.
        let (path, seed) = unsafe {
            (path_in(path, path_len)?, zeroize::Zeroizing::new(*array_in::<32>(seed32, "seed32")?))
        };
        if out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`out` is NULL"));
        }
        let agent = Agent::open_with_seed(path.as_deref(), key, config, &seed)?;
        // SAFETY: caller contract.
        unsafe { DmpAgent::store(out, agent) }
    })
}

/// Closes the agent (releasing its store's lock) and zeroizes its secrets. NULL, a freed handle and any other pointer are ignored. A call on it that is in
/// progress on another thread completes first; later calls are refused with
/// `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_agent_free(agent: *mut DmpAgent) {
    guard_void(|| DmpAgent::free(agent));
}

/// Writes the agent id (32 bytes). Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `agent` NULL or live; `id32_out` NULL or 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_id(agent: *const DmpAgent, id32_out: *mut u8) -> i32 {
    guard("dmp_agent_id", || {
        // SAFETY: caller contract.
        let (a, out) = unsafe { (DmpAgent::lock(agent)?, array_out::<32>(id32_out, "id32_out")?) };
        *out = a.agent_id().to_bytes();
        Ok(())
    })
}

/// Writes the agent's fingerprint (`DMP_FINGERPRINT_LEN` ASCII bytes, not NUL-terminated).
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_fingerprint(
    agent: *const DmpAgent,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_fingerprint", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (a, mut out) = unsafe { (DmpAgent::lock(agent)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(a.fingerprint().as_bytes())
    })
}

/// Writes the agent's prekey bundle to publish; with `with_one_time_prekey` = 1 a one-time
/// prekey is handed out (and saved as such before the call returns). A too-small buffer hands
/// out nothing. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (flag not 0/1),
/// `DMP_ERR_BUFFER_TOO_SMALL`, store errors.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_bundle(
    agent: *mut DmpAgent,
    with_one_time_prekey: i32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_bundle", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        let with = super::identity::bool_in(with_one_time_prekey, "with_one_time_prekey")?;
        // SAFETY: caller contract.
        let (mut a, mut out) = unsafe { (DmpAgent::lock(agent)?, OutBuf::new(out, out_cap, out_len)?) };
        let buf = out.reserve(a.bundle_len(with))?;
        let bundle = a.bundle(with)?;
        fill_reserved(buf, &bundle, "bundle_len")
    })
}

/// Verifies and remembers a peer's bundle so that `dmp_agent_send` can start a session with it;
/// writes the peer's id. Errors: `DMP_ERR_NULL_POINTER`, bundle errors as `dmp_bundle_verify`,
/// `DMP_ERR_INVALID_ARGUMENT` (our own bundle), store errors.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `bundle` NULL or valid for `bundle_len`; `peer32_out` 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_add_bundle(
    agent: *mut DmpAgent,
    bundle: *const u8,
    bundle_len: usize,
    peer32_out: *mut u8,
) -> i32 {
    guard("dmp_agent_add_bundle", || {
        disjoint(&[bytes("bundle", bundle, bundle_len)], &[bytes("peer32_out", peer32_out, 32)])?;
        // SAFETY: caller contract.
        let (mut a, b, out) = unsafe {
            (
                DmpAgent::lock(agent)?,
                input(bundle, bundle_len, "bundle")?,
                array_out::<32>(peer32_out, "peer32_out")?,
            )
        };
        *out = a.add_bundle(b)?.to_bytes();
        Ok(())
    })
}

/// Encrypts `pt` for the peer over its primary session, starting one from its bundle if there
/// is none. The largest `pt_len` is `DMP_MAX_PLAINTEXT_LEN - 1` (the agent adds a one-byte kind
/// to every pairwise payload). The new state is saved before the envelope is written. If `out_cap`
/// is too small:
/// `DMP_ERR_BUFFER_TOO_SMALL`, `*out_len` = size needed, nothing changed. Errors besides:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION` (no session and no bundle), `DMP_ERR_TOO_LARGE`,
/// bundle and store errors.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `peer32` 32 reads; `pt` NULL (if `pt_len` is 0) or valid; `out`,
/// `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_send(
    agent: *mut DmpAgent,
    peer32: *const u8,
    pt: *const u8,
    pt_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_send", || {
        disjoint(
            &[bytes("peer32", peer32, 32), bytes("pt", pt, pt_len)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        let peer = agent_in(peer32, "peer32")?;
        // SAFETY: caller contract.
        let (mut a, pt, mut out) = unsafe {
            (DmpAgent::lock(agent)?, input(pt, pt_len, "pt")?, OutBuf::new(out, out_cap, out_len)?)
        };
        let buf = out.reserve(a.send_len(&peer, pt.len())?)?;
        let env = a.send(&peer, pt)?;
        fill_reserved(buf, &env, "send_len")
    })
}

/// Sets up a session with the peer without a message (its `dmp_agent_receive` reports
/// `DMP_EVENT_SESSION_ESTABLISHED`); writes the envelope. Errors as `dmp_agent_send`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// As `dmp_agent_send`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_connect(
    agent: *mut DmpAgent,
    peer32: *const u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_connect", || {
        disjoint(&[bytes("peer32", peer32, 32)], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        let peer = agent_in(peer32, "peer32")?;
        // SAFETY: caller contract.
        let (mut a, mut out) = unsafe { (DmpAgent::lock(agent)?, OutBuf::new(out, out_cap, out_len)?) };
        let buf = out.reserve(a.send_len(&peer, 0)?)?;
        let env = a.connect(&peer)?;
        fill_reserved(buf, &env, "send_len")
    })
}

/// Decrypts any envelope addressed to the agent (pairwise, first message, or group) and creates
/// an event (`*event_out`, NULL on failure; free it with `dmp_event_free`). The new state is
/// saved before the event is returned. On any error nothing changes. Errors: those of
/// `dmp_session_accept`, `dmp_session_decrypt` and `dmp_group_decrypt`, `DMP_ERR_WRONG_SESSION`
/// (no such session or group), `DMP_ERR_WRONG_MESSAGE_TYPE` (a bundle or a bare distribution),
/// store errors.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `envelope` NULL or valid for `envelope_len`; `event_out` a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_receive(
    agent: *mut DmpAgent,
    envelope: *const u8,
    envelope_len: usize,
    event_out: *mut *mut DmpEvent,
) -> i32 {
    guard("dmp_agent_receive", || {
        disjoint(&[bytes("envelope", envelope, envelope_len)], &[scalar("event_out", event_out)])?;
        // SAFETY: caller contract.
        unsafe { clear_handle_out(event_out) };
        // SAFETY: caller contract.
        let (mut a, env) = unsafe { (DmpAgent::lock(agent)?, input(envelope, envelope_len, "envelope")?) };
        if event_out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`event_out` is NULL"));
        }
        let ev = a.receive(env)?;
        // SAFETY: caller contract.
        unsafe { DmpEvent::store(event_out, ev) }
    })
}

/// Writes the number of retained, unacknowledged events (always 0 without
/// `DMP_AGENT_RETAIN_EVENTS`). Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `agent` NULL or live; `count_out` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_pending_count(agent: *const DmpAgent, count_out: *mut usize) -> i32 {
    guard("dmp_agent_pending_count", || {
        // SAFETY: caller contract.
        let (a, out) = unsafe { (DmpAgent::lock(agent)?, out_ref(count_out, "count_out")?) };
        *out = a.pending_events().len();
        Ok(())
    })
}

/// Creates an event for the `index`-th retained event (0 = oldest). Errors:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (index out of range).
///
/// # Safety
/// `agent` NULL or live; `event_out` a pointer write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_pending_event(
    agent: *const DmpAgent,
    index: usize,
    event_out: *mut *mut DmpEvent,
) -> i32 {
    // SAFETY: caller contract.
    unsafe { clear_handle_out(event_out) };
    guard("dmp_agent_pending_event", || {
        let a = DmpAgent::lock(agent)?;
        if event_out.is_null() {
            return Err(FfiError::new(Error::NullPointer, "`event_out` is NULL"));
        }
        let ev = a.pending_events().into_iter().nth(index).ok_or_else(|| {
            FfiError::new(Error::InvalidArgument, format!("no retained event at index {index}"))
        })?;
        // SAFETY: caller contract.
        unsafe { DmpEvent::store(event_out, ev) }
    })
}

/// Acknowledges a retained event by its sequence number (`dmp_event_seq`): it is forgotten.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (no such retained event), store
/// errors.
///
/// # Safety
/// `agent` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_ack(agent: *mut DmpAgent, seq: u64) -> i32 {
    guard("dmp_agent_ack", || {
        let mut a = DmpAgent::lock(agent)?;
        a.ack(seq)?;
        Ok(())
    })
}

/// Writes the ids (32 bytes each) of the peers the agent has a session with, in id order.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_peers(
    agent: *const DmpAgent,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_peers", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (a, mut out) = unsafe { (DmpAgent::lock(agent)?, OutBuf::new(out, out_cap, out_len)?) };
        let ids: Vec<u8> = a.peers().iter().flat_map(|p| p.to_bytes()).collect();
        out.write(&ids)
    })
}

/// Writes the state (`DMP_SESSION_*`) of the primary session with the peer.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION`, agent id errors.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `peer32` 32 reads; `state_out` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_session_state(
    agent: *const DmpAgent,
    peer32: *const u8,
    state_out: *mut i32,
) -> i32 {
    guard("dmp_agent_session_state", || {
        disjoint(&[bytes("peer32", peer32, 32)], &[scalar("state_out", state_out)])?;
        let peer = agent_in(peer32, "peer32")?;
        // SAFETY: caller contract.
        let (a, out) = unsafe { (DmpAgent::lock(agent)?, out_ref(state_out, "state_out")?) };
        *out = a.session_state(&peer)? as i32;
        Ok(())
    })
}

/// Periodic upkeep at `now_unix` (seconds since 1970): rotates the signed prekey when due,
/// replenishes one-time prekeys, drops old non-primary sessions. Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_RANDOM_FAILURE`, store errors.
///
/// # Safety
/// `agent` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_maintain(agent: *mut DmpAgent, now_unix: u64) -> i32 {
    guard("dmp_agent_maintain", || {
        let mut a = DmpAgent::lock(agent)?;
        a.maintain(now_unix)?;
        Ok(())
    })
}

/// Creates a group with a fresh random id (written to `group_id32_out`) and no other member.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_TOO_LARGE` (the agent holds 10,000 groups),
/// `DMP_ERR_RANDOM_FAILURE`, store errors.
///
/// # Safety
/// `agent` NULL or live; `group_id32_out` 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_group_create(agent: *mut DmpAgent, group_id32_out: *mut u8) -> i32 {
    guard("dmp_agent_group_create", || {
        // SAFETY: caller contract.
        let (mut a, out) =
            unsafe { (DmpAgent::lock(agent)?, array_out::<32>(group_id32_out, "group_id32_out")?) };
        *out = a.group_create()?;
        Ok(())
    })
}

/// Adds the peer to the group and queues our sender key for it in the outbox. Errors:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION` (no such group), `DMP_ERR_NO_SESSION`,
/// `DMP_ERR_INVALID_ARGUMENT` (already a member, or ourselves), store errors.
///
/// # Safety
/// `agent` NULL or live; `group_id32`, `peer32` 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_group_add(
    agent: *mut DmpAgent,
    group_id32: *const u8,
    peer32: *const u8,
) -> i32 {
    guard("dmp_agent_group_add", || {
        let peer = agent_in(peer32, "peer32")?;
        // SAFETY: caller contract.
        let (mut a, gid) = unsafe { (DmpAgent::lock(agent)?, array_in::<32>(group_id32, "group_id32")?) };
        a.group_add(gid, &peer)?;
        Ok(())
    })
}

/// Removes the peer from the group: our sender key rotates and the new one is queued in the
/// outbox for every remaining member. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`,
/// `DMP_ERR_UNKNOWN_SENDER` (not a member), `DMP_ERR_NO_SESSION` (nothing changes, our key
/// included), `DMP_ERR_TOO_LARGE` (key id overflow), `DMP_ERR_RANDOM_FAILURE`, the errors of
/// starting a session, store errors.
///
/// # Safety
/// `agent` NULL or live; `group_id32`, `peer32` 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_group_remove(
    agent: *mut DmpAgent,
    group_id32: *const u8,
    peer32: *const u8,
) -> i32 {
    guard("dmp_agent_group_remove", || {
        let peer = agent_in(peer32, "peer32")?;
        // SAFETY: caller contract.
        let (mut a, gid) = unsafe { (DmpAgent::lock(agent)?, array_in::<32>(group_id32, "group_id32")?) };
        a.group_remove(gid, &peer)?;
        Ok(())
    })
}

/// Forgets the group: its record and every key in it, ours included, are deleted; nothing is
/// sent (the other members keep our last key until they remove us). A distribution for the group
/// that arrives later is an invitation again. The answer to an unwanted invitation (an event
/// whose `dmp_event_new_group` is 1). Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`
/// (no such group), store errors.
///
/// # Safety
/// `agent` NULL or live; `group_id32` 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_group_leave(agent: *mut DmpAgent, group_id32: *const u8) -> i32 {
    guard("dmp_agent_group_leave", || {
        // SAFETY: caller contract.
        let (mut a, gid) = unsafe { (DmpAgent::lock(agent)?, array_in::<32>(group_id32, "group_id32")?) };
        a.group_leave(gid)?;
        Ok(())
    })
}

/// Encrypts `pt` once for the whole group; send the envelope to every member
/// (`dmp_agent_group_members`). A too-small buffer: `DMP_ERR_BUFFER_TOO_SMALL`, size needed,
/// nothing changed. Errors besides: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`,
/// `DMP_ERR_TOO_LARGE`, store errors.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `group_id32` 32 reads; `pt` valid; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_group_send(
    agent: *mut DmpAgent,
    group_id32: *const u8,
    pt: *const u8,
    pt_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_group_send", || {
        disjoint(
            &[bytes("group_id32", group_id32, 32), bytes("pt", pt, pt_len)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        // SAFETY: caller contract.
        let (mut a, gid, pt, mut out) = unsafe {
            (
                DmpAgent::lock(agent)?,
                array_in::<32>(group_id32, "group_id32")?,
                input(pt, pt_len, "pt")?,
                OutBuf::new(out, out_cap, out_len)?,
            )
        };
        let buf = out.reserve(a.group_send_len(gid, pt.len())?)?;
        let env = a.group_send(gid, pt)?;
        fill_reserved(buf, &env, "group_send_len")
    })
}

/// Writes the other members of the group (32 bytes each, in id order). Errors:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_SESSION`, `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `group_id32` 32 reads; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_group_members(
    agent: *const DmpAgent,
    group_id32: *const u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_group_members", || {
        disjoint(
            &[bytes("group_id32", group_id32, 32)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        // SAFETY: caller contract.
        let (a, gid, mut out) = unsafe {
            (
                DmpAgent::lock(agent)?,
                array_in::<32>(group_id32, "group_id32")?,
                OutBuf::new(out, out_cap, out_len)?,
            )
        };
        let ids: Vec<u8> = a.group_members(gid)?.iter().flat_map(|p| p.to_bytes()).collect();
        out.write(&ids)
    })
}

/// Writes how many envelopes wait in the outbox (sender keys queued by group operations).
/// Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `agent` NULL or live; `count_out` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_outbox_count(agent: *const DmpAgent, count_out: *mut usize) -> i32 {
    guard("dmp_agent_outbox_count", || {
        // SAFETY: caller contract.
        let (a, out) = unsafe { (DmpAgent::lock(agent)?, out_ref(count_out, "count_out")?) };
        *out = a.outbox_len();
        Ok(())
    })
}

/// Writes the oldest outbox envelope, its recipient and its number, without removing it: send
/// it, then call `dmp_agent_outbox_done` with that number (only that entry is removed, so two
/// threads draining one outbox never remove an envelope that was not sent). Errors:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE` (outbox empty), `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `peer32_out` 32 writes; `out`, `out_len` as usual; `seq_out` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_outbox_next(
    agent: *const DmpAgent,
    peer32_out: *mut u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    seq_out: *mut u64,
) -> i32 {
    guard("dmp_agent_outbox_next", || {
        disjoint(
            &[],
            &[
                bytes("peer32_out", peer32_out, 32),
                bytes("out", out, out_cap),
                scalar("out_len", out_len),
                scalar("seq_out", seq_out),
            ],
        )?;
        // SAFETY: caller contract.
        let (a, peer_out, mut out, seq_out) = unsafe {
            (
                DmpAgent::lock(agent)?,
                array_out::<32>(peer32_out, "peer32_out")?,
                OutBuf::new(out, out_cap, out_len)?,
                out_ref(seq_out, "seq_out")?,
            )
        };
        let entry = a.outbox_next().ok_or_else(|| FfiError::new(Error::WrongState, "the outbox is empty"))?;
        out.write(entry.envelope)?;
        *peer_out = entry.peer.to_bytes();
        *seq_out = entry.seq;
        Ok(())
    })
}

/// Removes outbox entry `seq` (it was sent). An entry already removed is not an error (another
/// thread sent it too; the receiver refuses the second copy as `DMP_ERR_DUPLICATE`). Errors:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (a number the outbox never gave), store
/// errors.
///
/// # Safety
/// `agent` NULL or live.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_outbox_done(agent: *mut DmpAgent, seq: u64) -> i32 {
    guard("dmp_agent_outbox_done", || {
        let mut a = DmpAgent::lock(agent)?;
        a.outbox_done(seq)?;
        Ok(())
    })
}

/// Signs an application message `msg` as this agent; writes a 64-byte Ed25519 signature (plain
/// RFC 8032) that verifies under the agent id with `dmp_ed25519_verify` or any Ed25519 library.
/// Messages that begin with the three bytes "DMP" are reserved for the protocol's own
/// signatures and are refused. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_INVALID_ARGUMENT` (a
/// reserved message; nothing written).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `msg` NULL (if `msg_len` is 0) or valid; `sig64_out` 64 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_sign(
    agent: *const DmpAgent,
    msg: *const u8,
    msg_len: usize,
    sig64_out: *mut u8,
) -> i32 {
    guard("dmp_agent_sign", || {
        disjoint(&[bytes("msg", msg, msg_len)], &[bytes("sig64_out", sig64_out, 64)])?;
        // SAFETY: caller contract.
        let (msg, out) = unsafe { (input(msg, msg_len, "msg")?, array_out::<64>(sig64_out, "sig64_out")?) };
        let a = DmpAgent::lock(agent)?;
        *out = a.sign(super::application_message(msg)?)?.0;
        Ok(())
    })
}

/// Accepts a peer that started a session with us (a stranger): it is no longer one of the at
/// most 1,000 strangers (PROTOCOL 11.4), dropped when idle or to make room. Sending to a peer,
/// adding its bundle or adding it to a group accepts it too. Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_NO_SESSION` (the agent knows nothing of the peer), agent id errors, store errors.
///
/// # Safety
/// `agent` NULL or live; `peer32` 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_accept_peer(agent: *mut DmpAgent, peer32: *const u8) -> i32 {
    guard("dmp_agent_accept_peer", || {
        let peer = agent_in(peer32, "peer32")?;
        let mut a = DmpAgent::lock(agent)?;
        a.accept_peer(&peer)?;
        Ok(())
    })
}

/// Writes 1 if the peer is accepted, 0 if it is a stranger. Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_NO_SESSION` (the agent knows nothing of the peer), agent id errors.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `peer32` 32 reads; `accepted_out` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_is_accepted(
    agent: *const DmpAgent,
    peer32: *const u8,
    accepted_out: *mut i32,
) -> i32 {
    guard("dmp_agent_is_accepted", || {
        disjoint(&[bytes("peer32", peer32, 32)], &[scalar("accepted_out", accepted_out)])?;
        let peer = agent_in(peer32, "peer32")?;
        // SAFETY: caller contract.
        let (a, out) = (DmpAgent::lock(agent)?, unsafe { out_ref(accepted_out, "accepted_out")? });
        *out = i32::from(a.is_accepted(&peer)?);
        Ok(())
    })
}

/// Closes every session with the peer (keys erased); the peer stays known, so the next send
/// starts a new session from its bundle (`DMP_ERR_NO_SESSION` if it was spent: add a fresh one).
/// The peer answers on the closed session until our second message on the new one: send twice. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION`
/// (no session with the peer), agent id errors, store errors.
///
/// # Safety
/// `agent` NULL or live; `peer32` 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_close_session(agent: *mut DmpAgent, peer32: *const u8) -> i32 {
    guard("dmp_agent_close_session", || {
        let peer = agent_in(peer32, "peer32")?;
        let mut a = DmpAgent::lock(agent)?;
        a.close_session(&peer)?;
        Ok(())
    })
}

/// Forgets the peer: every session with it (keys erased), its bundle and its acceptance. Group
/// memberships and outbox envelopes stay. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_NO_SESSION`
/// (the agent knows nothing of the peer), agent id errors, store errors.
///
/// # Safety
/// `agent` NULL or live; `peer32` 32 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_forget_peer(agent: *mut DmpAgent, peer32: *const u8) -> i32 {
    guard("dmp_agent_forget_peer", || {
        let peer = agent_in(peer32, "peer32")?;
        let mut a = DmpAgent::lock(agent)?;
        a.forget_peer(&peer)?;
        Ok(())
    })
}

/// Writes the ids (32 bytes each, in id order) of the peers whose session we started has had no
/// reply for `unanswered_session_secs` (14 days by default) at `now_unix`: fetch their current
/// bundle, `dmp_agent_add_bundle` it and `dmp_agent_close_session`. Errors:
/// `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `agent` NULL or live; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_agent_unanswered_peers(
    agent: *const DmpAgent,
    now_unix: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_agent_unanswered_peers", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (a, mut out) = (DmpAgent::lock(agent)?, unsafe { OutBuf::new(out, out_cap, out_len)? });
        let ids: Vec<u8> = a.unanswered_peers(now_unix).iter().flat_map(|p| p.to_bytes()).collect();
        out.write(&ids)
    })
}

/// Writes the event's kind (`DMP_EVENT_*`). Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `event` NULL or live; `kind_out` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_event_kind(event: *const DmpEvent, kind_out: *mut i32) -> i32 {
    guard("dmp_event_kind", || {
        // SAFETY: caller contract.
        let (e, out) = unsafe { (DmpEvent::lock(event)?, out_ref(kind_out, "kind_out")?) };
        *out = e.kind as i32;
        Ok(())
    })
}

/// Writes the id of the agent the event came from (authenticated). Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `event` NULL or live; `peer32_out` 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_event_peer(event: *const DmpEvent, peer32_out: *mut u8) -> i32 {
    guard("dmp_event_peer", || {
        // SAFETY: caller contract.
        let (e, out) = unsafe { (DmpEvent::lock(event)?, array_out::<32>(peer32_out, "peer32_out")?) };
        *out = e.peer.to_bytes();
        Ok(())
    })
}

/// Writes the group id of a group event. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_WRONG_STATE`
/// (not a group event).
///
/// # Safety
/// `event` NULL or live; `group_id32_out` 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_event_group_id(event: *const DmpEvent, group_id32_out: *mut u8) -> i32 {
    guard("dmp_event_group_id", || {
        // SAFETY: caller contract.
        let (e, out) =
            unsafe { (DmpEvent::lock(event)?, array_out::<32>(group_id32_out, "group_id32_out")?) };
        *out = e.group_id.ok_or_else(|| FfiError::new(Error::WrongState, "not a group event"))?;
        Ok(())
    })
}

/// Writes the event's plaintext (empty unless a message). Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_BUFFER_TOO_SMALL`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `event` NULL or live; `out`, `out_len` as usual.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_event_plaintext(
    event: *const DmpEvent,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_event_plaintext", || {
        disjoint(&[], &[bytes("out", out, out_cap), scalar("out_len", out_len)])?;
        // SAFETY: caller contract.
        let (e, mut out) = unsafe { (DmpEvent::lock(event)?, OutBuf::new(out, out_cap, out_len)?) };
        out.write(&e.plaintext)
    })
}

/// Writes the event's sequence number (for `dmp_agent_ack`) and whether it created a new
/// session (0 or 1). Errors: `DMP_ERR_NULL_POINTER`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `event` NULL or live; `seq_out`, `new_session_out` writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_event_seq(
    event: *const DmpEvent,
    seq_out: *mut u64,
    new_session_out: *mut i32,
) -> i32 {
    guard("dmp_event_seq", || {
        disjoint(&[], &[scalar("seq_out", seq_out), scalar("new_session_out", new_session_out)])?;
        // SAFETY: caller contract.
        let (e, seq, new) = unsafe {
            (
                DmpEvent::lock(event)?,
                out_ref(seq_out, "seq_out")?,
                out_ref(new_session_out, "new_session_out")?,
            )
        };
        *seq = e.seq;
        *new = e.new_session as i32;
        Ok(())
    })
}

/// Writes whether the event created a new group (0 or 1): a `DMP_EVENT_DISTRIBUTION_CONSUMED`
/// for a group the agent did not hold, taken as an invitation, with the event's peer as the
/// group's only other member and our own sender key queued for it. Anyone who knows a group id
/// (it is in the clear in every group message) can invite us into it first: check that the peer
/// is expected to invite us, else `dmp_agent_group_leave`. Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `event` NULL or live; `new_group_out` a write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_event_new_group(event: *const DmpEvent, new_group_out: *mut i32) -> i32 {
    guard("dmp_event_new_group", || {
        // SAFETY: caller contract.
        let (e, out) = unsafe { (DmpEvent::lock(event)?, out_ref(new_group_out, "new_group_out")?) };
        *out = e.new_group as i32;
        Ok(())
    })
}

/// Releases an event (its plaintext is zeroized). NULL, a freed handle and any other pointer are ignored. A call on it that is in
/// progress on another thread completes first; later calls are refused with
/// `DMP_ERR_INVALID_ARGUMENT` until a new handle reuses the address, so do not use it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn dmp_event_free(event: *mut DmpEvent) {
    guard_void(|| DmpEvent::free(event));
}

const _: () = {
    assert!(DMP_EVENT_MESSAGE == crate::agent::EventKind::Message as i32);
    assert!(DMP_EVENT_GROUP_MESSAGE == crate::agent::EventKind::GroupMessage as i32);
    assert!(DMP_EVENT_DISTRIBUTION_CONSUMED == crate::agent::EventKind::DistributionConsumed as i32);
    assert!(DMP_EVENT_SESSION_ESTABLISHED == crate::agent::EventKind::SessionEstablished as i32);
};
