//! The agent: one identity, its prekeys, sessions with many peers and groups, persisted.
//!
//! One call sends to a peer (setting up the session from its bundle when needed), one receives
//! any envelope and returns an [`Event`]. Sender-key distributions travel inside pairwise
//! sessions and are handled here; they reach the caller only as envelopes in the outbox.
//!
//! Every call computes its new state on copies, writes every changed record in **one** store
//! transaction, and only then replaces the in-memory state and returns its output: a crash never
//! loses or reuses a key, and a plaintext is never returned whose state was not saved. (A crash
//! after the commit and before the caller gets the output loses that output: delivery is at most
//! once. Outbox envelopes stay until the caller marks them sent: at least once.)
//!
//! Several sessions per peer are kept (at most [`MAX_SESSIONS_PER_PEER`]); one is *primary* and
//! used for sending. When both agents start a session with each other at the same time, the one
//! started by the agent with the smaller id wins on both sides. Older sessions stay readable until
//! evicted by count or unused for `old_session_ttl_secs` (see [`Agent::maintain`]).

#[cfg(test)]
mod commit_failure_tests;
pub mod event;
pub mod payload;

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::group::{Group, MemberUpdate, OwnKeyUpdate};
use crate::identity::{AgentId, Identity};
use crate::limits::{GROUP_ID_LEN, MAX_AGENT_GROUPS, SESSION_ID_LEN};
use crate::prekey::{PrekeyBundle, Suite};
use crate::session::{Role, Session, SessionConfig, SessionState};
use crate::state::{RecordKind, StorageKey, open_record_named, seal_record_named};
use crate::store::{Change, Store};
use crate::wire::group::Distribution;
use crate::wire::reader::{Reader, Writer};
use crate::wire::{BundleFields, MessageEnvelope, MessageType, peek_type};
pub use event::{Event, EventKind};

/// Most sessions kept per peer (the primary and older ones still readable).
pub const MAX_SESSIONS_PER_PEER: usize = 4;
/// Ids of dropped sessions remembered (oldest forgotten first), so that a replayed first message
/// of a dropped session is refused (`Duplicate`) instead of creating the session again.
pub const MAX_DROPPED_SESSION_IDS: usize = 4096;
/// Fresh handshakes tried for a session id no other session has (one nearly always suffices).
const MAX_SESSION_ID_TRIES: usize = 4;
const DROPPED: &str = "dropped";

/// How an agent looks after its keys and sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentConfig {
    /// Options of every session.
    pub session: SessionConfig,
    /// Rotate the signed prekey when it is this old (seconds; checked by `maintain`).
    pub signed_prekey_rotation_secs: u64,
    /// One-time prekeys to hold after replenishing.
    pub one_time_prekey_target: usize,
    /// Replenish when fewer unpublished one-time prekeys than this are left.
    pub one_time_prekey_low_water: usize,
    /// Drop a non-primary session unused for this long (seconds; checked by `maintain`).
    pub old_session_ttl_secs: u64,
    /// Accept a sender-key distribution from a peer for a group we do not hold (an invitation):
    /// we join with the peer as a member and send it ours. In a group we hold, a distribution
    /// from a non-member is always refused (`UnknownSender`, or `MemberRemoved`).
    pub accept_group_invites: bool,
    /// Keep every received event, saved in the same transaction as the state it changed, until
    /// [`Agent::ack`] (at-least-once delivery: after a crash, [`Agent::pending_events`] gives the
    /// events the application may not have handled). Without it delivery is at most once: an
    /// event lost in a crash between the commit and the return is gone.
    pub retain_events: bool,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            session: SessionConfig::default(),
            signed_prekey_rotation_secs: 7 * 24 * 3600,
            one_time_prekey_target: 100,
            one_time_prekey_low_water: 20,
            old_session_ttl_secs: 7 * 24 * 3600,
            accept_group_invites: true,
            retain_events: false,
        }
    }
}

/// What the agent knows of one peer.
#[derive(Clone, Debug, Default)]
struct Peer {
    /// The session used for sending.
    primary: Option<[u8; SESSION_ID_LEN]>,
    /// Every session kept, oldest first, with the time it was last used.
    sessions: Vec<([u8; SESSION_ID_LEN], u64)>,
    /// Its verified bundle, to start a session when there is none.
    bundle: Option<Vec<u8>>,
}

/// The agent's own bookkeeping.
#[derive(Clone, Copy, Debug, Default)]
struct Meta {
    signed_prekey_rotated_at: u64,
    next_outbox_seq: u64,
    now: u64,
    next_event_seq: u64,
}

/// An envelope waiting to be sent.
#[derive(Clone)]
struct Outgoing {
    seq: u64,
    peer: [u8; 32],
    envelope: Vec<u8>,
}

/// An agent.
pub struct Agent {
    store: Store,
    key: StorageKey,
    config: AgentConfig,
    identity: Identity,
    meta: Meta,
    sessions: HashMap<[u8; SESSION_ID_LEN], Session>,
    peers: HashMap<[u8; 32], Peer>,
    groups: HashMap<[u8; GROUP_ID_LEN], Group>,
    outbox: VecDeque<Outgoing>,
    /// Retained events, oldest first.
    inbox: VecDeque<Event>,
    /// Ids of dropped sessions, oldest first (bounded).
    dropped: VecDeque<[u8; SESSION_ID_LEN]>,
}

impl core::fmt::Debug for Agent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.identity.agent_id())
            .field("store", &self.store)
            .field("sessions", &self.sessions.len())
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

/// Which records of a group a change rewrites.
struct GroupParts {
    head: bool,
    members: Members,
    deleted: Option<[u8; 32]>,
}

enum Members {
    None,
    One([u8; 32]),
    All,
}

impl GroupParts {
    /// Everything: a group new to the store.
    const ALL: GroupParts = GroupParts { head: true, members: Members::All, deleted: None };

    /// One member's keys changed.
    fn member(id: [u8; 32]) -> GroupParts {
        GroupParts { head: false, members: Members::One(id), deleted: None }
    }
}

/// The changes of one call, applied together or not at all.
#[derive(Default)]
struct Pending {
    changes: Vec<Change>,
    identity: Option<Identity>,
    meta: Option<Meta>,
    sessions: Vec<([u8; SESSION_ID_LEN], Session)>,
    dropped_sessions: Vec<[u8; SESSION_ID_LEN]>,
    peers: Vec<([u8; 32], Peer)>,
    groups: Vec<([u8; GROUP_ID_LEN], Group)>,
    left_groups: Vec<[u8; GROUP_ID_LEN]>,
    group_members: Vec<([u8; GROUP_ID_LEN], MemberUpdate)>,
    group_own_keys: Vec<([u8; GROUP_ID_LEN], OwnKeyUpdate)>,
    outbox: Vec<Outgoing>,
    outbox_done: bool,
    inbox: Vec<Event>,
    acked: Option<u64>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn session_name(id: &[u8]) -> String {
    format!("session/{}", hex(id))
}
fn peer_name(id: &[u8]) -> String {
    format!("peer/{}", hex(id))
}
fn group_name(id: &[u8]) -> String {
    format!("group/{}", hex(id))
}

fn member_name(group_id: &[u8], member: &[u8]) -> String {
    format!("member/{}/{}", hex(group_id), hex(member))
}
fn outbox_name(seq: u64) -> String {
    format!("outbox/{seq:016x}")
}
fn inbox_name(seq: u64) -> String {
    format!("inbox/{seq:016x}")
}
const IDENTITY: &str = "identity";
const META: &str = "meta";

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Agent {
    /// Opens the agent persisted at `path` (creating it, with a fresh hybrid identity, if the
    /// store is new), or an in-memory agent when `path` is `None`. Errors: `WrongStorageKey`,
    /// `StoreLocked`, `StoreFailed`, `BadState`, `UnsupportedVersion`.
    pub fn open(path: Option<&Path>, key: StorageKey, config: AgentConfig) -> Result<Agent> {
        Self::open_inner(path, key, config, None)
    }

    /// As [`open`](Self::open), with the identity of `seed` for a new store. An existing store
    /// must hold that identity (`InvalidArgument` otherwise).
    pub fn open_with_seed(
        path: Option<&Path>,
        key: StorageKey,
        config: AgentConfig,
        seed: &[u8; 32],
    ) -> Result<Agent> {
        Self::open_inner(path, key, config, Some(seed))
    }

    fn open_inner(
        path: Option<&Path>,
        key: StorageKey,
        config: AgentConfig,
        seed: Option<&[u8; 32]>,
    ) -> Result<Agent> {
        let store = match path {
            Some(p) => Store::open(p)?,
            None => Store::memory(),
        };
        let records = store.load_all()?;
        let identity_record = records.iter().find(|(n, _, _)| n == IDENTITY);
        // The identity and the meta record are written together when a store is created: a store
        // with one and not the other, or with records but no identity, was damaged.
        let has_meta = records.iter().any(|(n, _, _)| n == META);
        if identity_record.is_some() != has_meta || (identity_record.is_none() && !records.is_empty()) {
            return Err(Error::BadState);
        }
        let mut agent = match identity_record {
            Some((_, _, value)) => {
                let identity = Identity::from_sealed_named(value, &key, IDENTITY.as_bytes())?;
                if let Some(seed) = seed
                    && Identity::from_seed(seed)?.agent_id() != identity.agent_id()
                {
                    return Err(Error::InvalidArgument);
                }
                Agent::empty(store, key, config, identity)
            }
            None => {
                let identity = match seed {
                    Some(s) => Identity::from_seed_with(s, Suite::Hybrid)?,
                    None => Identity::generate()?,
                };
                let mut agent = Agent::empty(store, key, config, identity);
                agent.meta.signed_prekey_rotated_at = agent.meta.now;
                let mut p = Pending::default();
                let mut id = agent.identity.clone();
                id.generate_one_time_prekeys(config.one_time_prekey_target)?;
                agent.put_identity(&mut p, id)?;
                agent.put_meta(&mut p, agent.meta)?;
                agent.apply(p)?;
                return Ok(agent);
            }
        };
        agent.load(&records)?;
        Ok(agent)
    }

    fn empty(store: Store, key: StorageKey, config: AgentConfig, identity: Identity) -> Agent {
        Agent {
            store,
            key,
            config,
            identity,
            meta: Meta { now: now_unix(), ..Meta::default() },
            sessions: HashMap::new(),
            peers: HashMap::new(),
            groups: HashMap::new(),
            outbox: VecDeque::new(),
            inbox: VecDeque::new(),
            dropped: VecDeque::new(),
        }
    }

    fn load(&mut self, records: &[(String, u8, Vec<u8>)]) -> Result<()> {
        let key = &self.key;
        let mut members = Vec::new();
        for (name, _, value) in records {
            let n = name.as_bytes();
            if name == META {
                let plain = open_record_named(RecordKind::AgentMeta, key, n, value)?;
                let mut r = Reader::for_state(&plain);
                let meta = Meta {
                    signed_prekey_rotated_at: r.u64()?,
                    next_outbox_seq: r.u64()?,
                    now: r.u64()?,
                    next_event_seq: r.u64()?,
                };
                r.finish()?;
                self.meta = Meta { now: meta.now.max(now_unix()), ..meta };
            } else if let Some(rest) = name.strip_prefix("session/") {
                let id = parse_hex::<SESSION_ID_LEN>(rest)?;
                let s = Session::from_sealed_named(value, key, n)?;
                if s.session_id() != id {
                    return Err(Error::BadState);
                }
                self.sessions.insert(id, s);
            } else if let Some(rest) = name.strip_prefix("peer/") {
                let id = parse_hex::<32>(rest)?;
                let plain = open_record_named(RecordKind::Peer, key, n, value)?;
                self.peers.insert(id, decode_peer(&plain)?);
            } else if let Some(rest) = name.strip_prefix("group/") {
                let id = parse_hex::<GROUP_ID_LEN>(rest)?;
                let plain = open_record_named(RecordKind::GroupHead, key, n, value)?;
                let mut r = Reader::for_state(&plain);
                let g = Group::decode_head(&mut r)?;
                r.finish()?;
                if g.group_id() != id || g.own_id() != self.identity.agent_id() {
                    return Err(Error::BadState);
                }
                self.groups.insert(id, g);
            } else if let Some(rest) = name.strip_prefix("member/") {
                let (gid, member) = rest.split_once('/').ok_or(Error::BadState)?;
                let (gid, member) = (parse_hex::<GROUP_ID_LEN>(gid)?, parse_hex::<32>(member)?);
                let plain = open_record_named(RecordKind::GroupMember, key, n, value)?;
                members.push((gid, member, plain));
            } else if let Some(rest) = name.strip_prefix("outbox/") {
                let seq = u64::from_str_radix(rest, 16).map_err(|_| Error::BadState)?;
                let plain = open_record_named(RecordKind::Outgoing, key, n, value)?;
                let mut r = Reader::for_state(&plain);
                let peer = r.array()?;
                let envelope = r.rest().to_vec();
                self.outbox.push_back(Outgoing { seq, peer, envelope });
            } else if let Some(rest) = name.strip_prefix("inbox/") {
                let seq = u64::from_str_radix(rest, 16).map_err(|_| Error::BadState)?;
                let plain = open_record_named(RecordKind::Event, key, n, value)?;
                let ev = Event::decode(&plain)?;
                if ev.seq != seq {
                    return Err(Error::BadState);
                }
                self.inbox.push_back(ev);
            } else if name == DROPPED {
                let plain = open_record_named(RecordKind::DroppedSessions, key, n, value)?;
                if plain.len() % SESSION_ID_LEN != 0 || plain.len() / SESSION_ID_LEN > MAX_DROPPED_SESSION_IDS
                {
                    return Err(Error::BadState);
                }
                for id in plain.chunks(SESSION_ID_LEN) {
                    let mut sid = [0u8; SESSION_ID_LEN];
                    sid.copy_from_slice(id);
                    self.dropped.push_back(sid);
                }
            } else if name != IDENTITY {
                return Err(Error::BadState);
            }
        }
        // Every member record belongs to a group held, under the id its name gives.
        for (gid, id, plain) in members {
            let g = self.groups.get_mut(&gid).ok_or(Error::BadState)?;
            let mut r = Reader::for_state(&plain);
            if g.decode_member(&mut r)? != id {
                return Err(Error::BadState);
            }
            r.finish()?;
        }
        self.outbox.make_contiguous().sort_by_key(|o| o.seq);
        self.inbox.make_contiguous().sort_by_key(|e| e.seq);
        // Every session a peer names must exist, and every session must belong to its peer.
        for (pid, peer) in &self.peers {
            for (sid, _) in &peer.sessions {
                if self.sessions.get(sid).is_none_or(|s| s.peer_id().to_bytes() != *pid) {
                    return Err(Error::BadState);
                }
            }
        }
        Ok(())
    }

    // ---- accessors ----

    /// The agent id.
    pub fn agent_id(&self) -> AgentId {
        self.identity.agent_id()
    }

    /// The fingerprint of the agent id.
    pub fn fingerprint(&self) -> String {
        self.agent_id().fingerprint()
    }

    /// Whether the agent is persisted.
    pub fn is_persistent(&self) -> bool {
        self.store.is_persistent()
    }

    /// The peers we have a session with, in id order.
    pub fn peers(&self) -> Vec<AgentId> {
        let mut ids: Vec<[u8; 32]> =
            self.peers.iter().filter(|(_, p)| p.primary.is_some()).map(|(id, _)| *id).collect();
        ids.sort();
        ids.iter().filter_map(|id| AgentId::from_stored_bytes(id).ok()).collect()
    }

    /// How many sessions the agent holds (all peers).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The state of the primary session with `peer` (`NoSession` if none).
    pub fn session_state(&self, peer: &AgentId) -> Result<SessionState> {
        let sid = self.peers.get(&peer.to_bytes()).and_then(|p| p.primary).ok_or(Error::NoSession)?;
        Ok(self.sessions.get(&sid).ok_or(Error::Internal)?.state())
    }

    /// The id of the primary session with `peer` (the one used for sending).
    pub fn primary_session_id(&self, peer: &AgentId) -> Option<[u8; SESSION_ID_LEN]> {
        self.peers.get(&peer.to_bytes())?.primary
    }

    /// The other members of a group (`WrongSession` if we have no such group).
    pub fn group_members(&self, group_id: &[u8; GROUP_ID_LEN]) -> Result<Vec<AgentId>> {
        let g = self.groups.get(group_id).ok_or(Error::WrongSession)?;
        Ok(g.members().iter().filter_map(|id| AgentId::from_stored_bytes(id).ok()).collect())
    }

    /// The groups we are in.
    pub fn groups(&self) -> Vec<[u8; GROUP_ID_LEN]> {
        let mut ids: Vec<_> = self.groups.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Envelopes waiting to be sent.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// The oldest envelope waiting to be sent, with its recipient. Send it, then call
    /// [`outbox_done`](Self::outbox_done).
    pub fn outbox_next(&self) -> Option<(AgentId, &[u8])> {
        let o = self.outbox.front()?;
        Some((AgentId::from_bytes(&o.peer).ok()?, &o.envelope))
    }

    /// Forgets the oldest outbox envelope (it was sent). `WrongState` if the outbox is empty.
    pub fn outbox_done(&mut self) -> Result<()> {
        let o = self.outbox.front().ok_or(Error::WrongState)?;
        let p = Pending {
            changes: vec![Change::Delete { name: outbox_name(o.seq) }],
            outbox_done: true,
            ..Pending::default()
        };
        self.apply(p)
    }

    /// Events retained (with [`AgentConfig::retain_events`]) and not yet acknowledged, oldest
    /// first: after a restart, those the application may not have handled.
    pub fn pending_events(&self) -> Vec<Event> {
        self.inbox.iter().cloned().collect()
    }

    /// Acknowledges a retained event: it is forgotten. `InvalidArgument` if no retained event
    /// has that number.
    pub fn ack(&mut self, seq: u64) -> Result<()> {
        if !self.inbox.iter().any(|e| e.seq == seq) {
            return Err(Error::InvalidArgument);
        }
        let p = Pending {
            changes: vec![Change::Delete { name: inbox_name(seq) }],
            acked: Some(seq),
            ..Pending::default()
        };
        self.apply(p)
    }

    // ---- prekeys and maintenance ----

    /// Our bundle to publish, valid for two signed-prekey rotation periods from the system clock's
    /// now (by then its signed prekey is erased). With `with_one_time_prekey`, a one-time prekey
    /// is handed out (and that is saved before the bundle is returned).
    pub fn bundle(&mut self, with_one_time_prekey: bool) -> Result<Vec<u8>> {
        let mut id = self.identity.clone();
        let lifetime = self.config.signed_prekey_rotation_secs.saturating_mul(2).max(1);
        let bundle = id.bundle_at(with_one_time_prekey, now_unix(), lifetime)?.to_bytes();
        let mut p = Pending::default();
        self.put_identity(&mut p, id)?;
        self.apply(p)?;
        Ok(bundle)
    }

    /// The size of [`bundle`](Self::bundle)'s output.
    pub fn bundle_len(&self, with_one_time_prekey: bool) -> usize {
        self.identity.bundle_len(with_one_time_prekey)
    }

    /// Periodic upkeep at time `now` (Unix seconds): rotates the signed prekey when due,
    /// replenishes one-time prekeys, and drops old non-primary sessions. Returns what it did.
    pub fn maintain(&mut self, now: u64) -> Result<Maintenance> {
        let mut done = Maintenance::default();
        let mut p = Pending::default();
        let mut id = self.identity.clone();
        let mut meta = Meta { now, ..self.meta };
        if now.saturating_sub(meta.signed_prekey_rotated_at) >= self.config.signed_prekey_rotation_secs {
            id.rotate_signed_prekey()?;
            meta.signed_prekey_rotated_at = now;
            done.rotated_signed_prekey = true;
        }
        let unpublished = id.unpublished_one_time_prekey_count();
        if unpublished < self.config.one_time_prekey_low_water {
            let want = self.config.one_time_prekey_target.saturating_sub(unpublished);
            let room = crate::limits::MAX_ONE_TIME_PREKEYS - id.one_time_prekey_count();
            if room < want {
                // Keys handed out long ago and never used make room for fresh ones.
                id.forget_oldest_published_one_time_prekeys(want - room);
            }
            let n = want.min(crate::limits::MAX_ONE_TIME_PREKEYS - id.one_time_prekey_count());
            id.generate_one_time_prekeys(n)?;
            done.one_time_prekeys_generated = n;
        }
        for (pid, peer) in &self.peers {
            let mut kept = peer.clone();
            kept.sessions.retain(|(sid, used)| {
                let keep = Some(*sid) == peer.primary
                    || now.saturating_sub(*used) < self.config.old_session_ttl_secs;
                if !keep {
                    p.dropped_sessions.push(*sid);
                    p.changes.push(Change::Delete { name: session_name(sid) });
                    done.sessions_dropped += 1;
                }
                keep
            });
            if kept.sessions.len() != peer.sessions.len() {
                self.put_peer(&mut p, *pid, kept)?;
            }
        }
        if done.rotated_signed_prekey || done.one_time_prekeys_generated > 0 {
            self.put_identity(&mut p, id)?;
        }
        self.put_meta(&mut p, meta)?;
        self.apply(p)?;
        Ok(done)
    }

    /// Remembers a peer's bundle (verified first) so that [`send`](Self::send) can start a
    /// session with it. Returns the peer's id.
    pub fn add_bundle(&mut self, bundle: &[u8]) -> Result<AgentId> {
        let verified = PrekeyBundle::from_bytes(bundle)?;
        let peer = verified.agent_id();
        if peer == self.agent_id() {
            return Err(Error::InvalidArgument);
        }
        let mut entry = self.peers.get(&peer.to_bytes()).cloned().unwrap_or_default();
        entry.bundle = Some(bundle.to_vec());
        let mut p = Pending::default();
        self.put_peer(&mut p, peer.to_bytes(), entry)?;
        self.apply(p)?;
        Ok(peer)
    }

    // ---- sending ----

    /// Encrypts `plaintext` for `peer` over its primary session, starting one from its bundle if
    /// there is none (`NoSession` if there is no bundle either). The state is saved before the
    /// envelope is returned. At most `MAX_PLAINTEXT_LEN - 1` bytes (`TooLarge` beyond): the agent
    /// prefixes every pairwise payload with a one-byte kind.
    pub fn send(&mut self, peer: &AgentId, plaintext: &[u8]) -> Result<Vec<u8>> {
        if plaintext.len() > crate::limits::MAX_PLAINTEXT_LEN - 1 {
            return Err(Error::TooLarge);
        }
        let mut p = Pending::default();
        let env = self.encrypt_to(&mut p, peer, &payload::frame(payload::APP, plaintext))?;
        self.apply(p)?;
        Ok(env)
    }

    /// The exact length of the envelope [`send`](Self::send) would return for a `len`-byte
    /// plaintext now (`NoSession` when there is neither session nor bundle).
    pub fn send_len(&self, peer: &AgentId, len: usize) -> Result<usize> {
        let framed = len.checked_add(1).ok_or(Error::TooLarge)?;
        let entry = self.peers.get(&peer.to_bytes()).ok_or(Error::NoSession)?;
        if let Some(sid) = entry.primary {
            return self.sessions.get(&sid).ok_or(Error::Internal)?.encrypted_len(framed);
        }
        // Only the bundle's shape decides the length: it is parsed, not verified (its signatures
        // are checked once, by `send`, which refuses a bad bundle whatever this said).
        let fields = BundleFields::parse(entry.bundle.as_ref().ok_or(Error::NoSession)?)?;
        if framed > crate::limits::MAX_PLAINTEXT_LEN {
            return Err(Error::TooLarge);
        }
        // A new session's first message has both counters at 0: the shortest header.
        let header = match fields.kem {
            Some(_) => crate::wire::envelope::HYBRID_PREKEY_MESSAGE_HEADER_LEN,
            None => crate::wire::envelope::PREKEY_MESSAGE_HEADER_LEN,
        };
        let padded = crate::wire::padding::framed_len(framed, self.config.session.padding);
        Ok(header + crate::crypto::aead::single_use_sealed_len(padded))
    }

    /// The exact length of [`group_send`](Self::group_send)'s envelope for a `len`-byte plaintext.
    pub fn group_send_len(&self, group_id: &[u8; GROUP_ID_LEN], len: usize) -> Result<usize> {
        self.groups.get(group_id).ok_or(Error::WrongSession)?.encrypted_len(len)
    }

    /// Sets up a session with `peer` without a message: the peer's `receive` reports
    /// `SessionEstablished`.
    pub fn connect(&mut self, peer: &AgentId) -> Result<Vec<u8>> {
        let mut p = Pending::default();
        let env = self.encrypt_to(&mut p, peer, &payload::frame(payload::HELLO, &[]))?;
        self.apply(p)?;
        Ok(env)
    }

    /// Encrypts a framed payload to `peer`, recording the changes in `p` (which may already hold
    /// changes to that peer's session: they are used).
    fn encrypt_to(&self, p: &mut Pending, peer: &AgentId, framed: &[u8]) -> Result<Vec<u8>> {
        let pid = peer.to_bytes();
        let mut entry = self.pending_peer(p, &pid).unwrap_or_default();
        let (sid, mut session) = match entry.primary {
            Some(sid) => (sid, self.pending_session(p, &sid).ok_or(Error::Internal)?),
            None => {
                let bytes = entry.bundle.as_ref().ok_or(Error::NoSession)?;
                let bundle = PrekeyBundle::from_bytes(bytes)?;
                self.initiate_fresh(p, &bundle)?
            }
        };
        let env = session.encrypt(framed)?;
        touch(&mut entry, sid, self.meta.now, true);
        self.put_session(p, sid, session)?;
        self.put_peer(p, pid, entry)?;
        Ok(env)
    }

    /// A new session from `bundle` whose id names no session we hold, will hold or dropped.
    /// Ids are 8 bytes of handshake output, so a clash has a chance of about n/2^64; if one
    /// happens, another ephemeral key gives another id instead of overwriting a session.
    fn initiate_fresh(&self, p: &Pending, bundle: &PrekeyBundle) -> Result<([u8; SESSION_ID_LEN], Session)> {
        for _ in 0..MAX_SESSION_ID_TRIES {
            let s = Session::initiate(self.identity.keys(), bundle, self.config.session)?;
            let sid = s.session_id();
            let taken = self.sessions.contains_key(&sid)
                || self.dropped.contains(&sid)
                || self.pending_session(p, &sid).is_some();
            if !taken {
                return Ok((sid, s));
            }
        }
        Err(Error::Internal)
    }

    // ---- receiving ----

    /// Decrypts any envelope addressed to us and returns what it was. On any error nothing
    /// changes. Errors: those of `Session::decrypt`/`accept` and `Group::decrypt`, `WrongSession`
    /// (no session or group with that id), `WrongMessageType` (a bundle or a bare distribution).
    pub fn receive(&mut self, envelope: &[u8]) -> Result<Event> {
        let mut p = Pending::default();
        let mut event = match peek_type(envelope)? {
            MessageType::PrekeyMessage | MessageType::Message => self.receive_pairwise(&mut p, envelope)?,
            MessageType::GroupMessage => {
                let gid = group_id_of(envelope)?;
                // Computed on a copy of the sender's entry alone, which is all that is stored
                // again: the cost of a message does not grow with the group.
                let g = self.groups.get(&gid).ok_or(Error::WrongSession)?;
                let (peer, plaintext, update) = g.decrypt_detached(envelope)?;
                self.put_group_member(&mut p, gid, update)?;
                Event {
                    kind: EventKind::GroupMessage,
                    peer,
                    group_id: Some(gid),
                    plaintext: Zeroizing::new(plaintext),
                    new_session: false,
                    new_group: false,
                    seq: 0,
                }
            }
            MessageType::PrekeyBundle | MessageType::SenderKeyDistribution => {
                return Err(Error::WrongMessageType);
            }
        };
        let mut meta = p.meta.unwrap_or(self.meta);
        event.seq = meta.next_event_seq;
        meta.next_event_seq = event.seq.checked_add(1).ok_or(Error::TooLarge)?;
        self.put_meta(&mut p, meta)?;
        if self.config.retain_events {
            let name = inbox_name(event.seq);
            let value = seal_record_named(RecordKind::Event, &self.key, name.as_bytes(), &event.encode())?;
            p.changes.push(Change::Put { name, kind: RecordKind::Event as u8, value });
            p.inbox.push(event.clone());
        }
        self.apply(p)?;
        Ok(event)
    }

    fn receive_pairwise(&self, p: &mut Pending, envelope: &[u8]) -> Result<Event> {
        let env = MessageEnvelope::parse(envelope)?;
        let sid = env.session_id;
        let (session, plaintext, new_session) = match self.sessions.get(&sid) {
            Some(existing) => {
                let mut s = existing.clone();
                let pt = Zeroizing::new(s.decrypt(envelope)?);
                (s, pt, false)
            }
            None if env.prekey.is_some() && self.dropped.contains(&sid) => return Err(Error::Duplicate),
            None if env.prekey.is_some() => {
                let mut id = self.identity.clone();
                let (s, pt) = Session::accept(&mut id, envelope, self.config.session)?;
                self.put_identity(p, id)?;
                (s, Zeroizing::new(pt), true)
            }
            None => return Err(Error::WrongSession),
        };
        let peer = session.peer_id();
        let pid = peer.to_bytes();
        let mut entry = self.peers.get(&pid).cloned().unwrap_or_default();
        let make_primary = new_session && self.new_session_wins(&entry, &peer);
        touch(&mut entry, sid, self.meta.now, make_primary);
        self.put_session(p, sid, session)?;
        self.put_peer(p, pid, entry)?;

        let (kind, body) = payload::split(&plaintext)?;
        let event = |kind, group_id, plaintext: &[u8], new_group| Event {
            kind,
            peer,
            group_id,
            plaintext: Zeroizing::new(plaintext.to_vec()),
            new_session,
            new_group,
            seq: 0,
        };
        match kind {
            payload::APP => Ok(event(EventKind::Message, None, body, false)),
            payload::HELLO => Ok(event(EventKind::SessionEstablished, None, &[], false)),
            _ => {
                let (gid, invited) = self.take_distribution(p, &peer, body)?;
                Ok(event(EventKind::DistributionConsumed, Some(gid), &[], invited))
            }
        }
    }

    /// Whether a session just accepted from `peer` becomes the primary one. A peer that starts a
    /// new session while ours is established wants a new one: it wins. If ours has had no reply
    /// yet, both sides started at once: the session started by the smaller agent id wins, on
    /// both sides alike.
    fn new_session_wins(&self, entry: &Peer, peer: &AgentId) -> bool {
        let Some(current) = entry.primary.and_then(|sid| self.sessions.get(&sid)) else { return true };
        let ours_unanswered = current.role() == Role::Initiator && current.state() != SessionState::Active;
        !ours_unanswered || peer.to_bytes() < self.agent_id().to_bytes()
    }

    /// Takes in a distribution `from` sent us over our session; reciprocates when it was an
    /// invitation. Returns the group id and whether it was an invitation.
    fn take_distribution(
        &self,
        p: &mut Pending,
        from: &AgentId,
        body: &[u8],
    ) -> Result<([u8; GROUP_ID_LEN], bool)> {
        let d = Distribution::parse(body)?;
        let gid = d.group_id;
        // Only a group we do not hold can be joined by invitation. In a group we hold, membership
        // is ours to decide: a non-member's key is refused (the caller adds the peer, then the same
        // envelope can be delivered again), so knowing a group id never earns our sender key, and
        // a removed member cannot re-add itself.
        let (mut g, invited) = match self.groups.get(&gid) {
            Some(g) if g.is_member(from) => (g.clone(), false),
            Some(g) if g.is_removed(from) => return Err(Error::MemberRemoved),
            Some(_) => return Err(Error::UnknownSender),
            None if self.config.accept_group_invites => {
                if self.groups.len() >= MAX_AGENT_GROUPS {
                    return Err(Error::TooLarge);
                }
                (Group::new(self.agent_id(), gid)?, true)
            }
            None => return Err(Error::UnknownSender),
        };
        if invited {
            g.add_member(from)?;
        }
        g.process_distribution(from, body)?;
        if invited {
            let ours = g.distribution();
            let env = self.encrypt_to(p, from, &payload::frame(payload::DISTRIBUTION, &ours))?;
            self.queue(p, from, env)?;
        }
        let parts = if invited { GroupParts::ALL } else { GroupParts::member(from.to_bytes()) };
        self.put_group(p, g, parts)?;
        Ok((gid, invited))
    }

    // ---- groups ----

    /// Creates a group with a fresh random id and no other member; returns the id. `TooLarge`
    /// when the agent already holds [`MAX_AGENT_GROUPS`] groups.
    pub fn group_create(&mut self) -> Result<[u8; GROUP_ID_LEN]> {
        if self.groups.len() >= MAX_AGENT_GROUPS {
            return Err(Error::TooLarge);
        }
        let gid: [u8; GROUP_ID_LEN] = crate::crypto::random::array()?;
        let g = Group::new(self.agent_id(), gid)?;
        let mut p = Pending::default();
        self.put_group(&mut p, g, GroupParts::ALL)?;
        self.apply(p)?;
        Ok(gid)
    }

    /// Adds `peer` to a group and queues our sender key for it in the outbox (over our session
    /// with it, started from its bundle if needed). Errors: `WrongSession` (no such group),
    /// `NoSession`, `InvalidArgument` (already a member, or ourselves).
    pub fn group_add(&mut self, group_id: &[u8; GROUP_ID_LEN], peer: &AgentId) -> Result<()> {
        let mut g = self.groups.get(group_id).ok_or(Error::WrongSession)?.clone();
        g.add_member(peer)?;
        let mut p = Pending::default();
        let env = self.encrypt_to(&mut p, peer, &payload::frame(payload::DISTRIBUTION, &g.distribution()))?;
        self.queue(&mut p, peer, env)?;
        // A re-added member leaves the removed list: the head changes too.
        let parts = GroupParts { head: true, members: Members::One(peer.to_bytes()), deleted: None };
        self.put_group(&mut p, g, parts)?;
        self.apply(p)
    }

    /// Removes `peer` from a group: our sender key rotates and the new one is queued for every
    /// remaining member. Errors: `WrongSession` (no such group), `UnknownSender` (not a member),
    /// `NoSession` (a remaining member we cannot reach).
    pub fn group_remove(&mut self, group_id: &[u8; GROUP_ID_LEN], peer: &AgentId) -> Result<()> {
        let mut g = self.groups.get(group_id).ok_or(Error::WrongSession)?.clone();
        g.remove_member(peer)?;
        let mut p = Pending::default();
        let dist = g.distribution();
        for member in g.members() {
            let member = AgentId::from_bytes(&member)?;
            let env = self.encrypt_to(&mut p, &member, &payload::frame(payload::DISTRIBUTION, &dist))?;
            self.queue(&mut p, &member, env)?;
        }
        let parts = GroupParts { head: true, members: Members::None, deleted: Some(peer.to_bytes()) };
        self.put_group(&mut p, g, parts)?;
        self.apply(p)
    }

    /// Forgets a group: its record and every key in it, ours included, are deleted. Nothing is
    /// sent; the other members keep our last sender key until they remove us. A distribution for
    /// the group that arrives later is an invitation again (unless invitations are refused).
    /// This is the answer to an unwanted invitation (an event with `new_group`).
    /// Errors: `WrongSession` (no such group).
    pub fn group_leave(&mut self, group_id: &[u8; GROUP_ID_LEN]) -> Result<()> {
        let g = self.groups.get(group_id).ok_or(Error::WrongSession)?;
        let mut p = Pending::default();
        p.changes.push(Change::Delete { name: group_name(group_id) });
        for id in g.member_ids() {
            p.changes.push(Change::Delete { name: member_name(group_id, id) });
        }
        p.left_groups.push(*group_id);
        self.apply(p)
    }

    /// Encrypts `plaintext` once for the whole group; send the envelope to every member
    /// ([`group_members`](Self::group_members)).
    pub fn group_send(&mut self, group_id: &[u8; GROUP_ID_LEN], plaintext: &[u8]) -> Result<Vec<u8>> {
        // Our own key stepped on a copy of it alone; only the head (which holds it) is stored.
        let g = self.groups.get(group_id).ok_or(Error::WrongSession)?;
        let (env, update) = g.encrypt_detached(plaintext)?;
        let mut p = Pending::default();
        self.put_sealed(&mut p, group_name(group_id), RecordKind::GroupHead, |w| {
            g.encode_head_updated(&update, w);
            Ok(())
        })?;
        p.group_own_keys.push((*group_id, update));
        self.apply(p)?;
        Ok(env)
    }

    // ---- pending changes ----

    fn pending_session(&self, p: &Pending, sid: &[u8; SESSION_ID_LEN]) -> Option<Session> {
        p.sessions
            .iter()
            .rev()
            .find(|(id, _)| id == sid)
            .map(|(_, s)| s.clone())
            .or_else(|| self.sessions.get(sid).cloned())
    }

    fn pending_peer(&self, p: &Pending, pid: &[u8; 32]) -> Option<Peer> {
        p.peers
            .iter()
            .rev()
            .find(|(id, _)| id == pid)
            .map(|(_, e)| e.clone())
            .or_else(|| self.peers.get(pid).cloned())
    }

    fn put_identity(&self, p: &mut Pending, id: Identity) -> Result<()> {
        let value = id.to_sealed_named(&self.key, IDENTITY.as_bytes())?;
        p.changes.push(Change::Put { name: IDENTITY.into(), kind: RecordKind::Identity as u8, value });
        p.identity = Some(id);
        Ok(())
    }

    fn put_meta(&self, p: &mut Pending, meta: Meta) -> Result<()> {
        let mut w = Writer::default();
        w.u64(meta.signed_prekey_rotated_at).u64(meta.next_outbox_seq).u64(meta.now).u64(meta.next_event_seq);
        let value = seal_record_named(RecordKind::AgentMeta, &self.key, META.as_bytes(), &w.buf)?;
        p.changes.push(Change::Put { name: META.into(), kind: RecordKind::AgentMeta as u8, value });
        p.meta = Some(meta);
        Ok(())
    }

    fn put_session(&self, p: &mut Pending, sid: [u8; SESSION_ID_LEN], s: Session) -> Result<()> {
        let name = session_name(&sid);
        let value = s.to_sealed_named(&self.key, name.as_bytes())?;
        p.changes.push(Change::Put { name, kind: RecordKind::Session as u8, value });
        p.sessions.push((sid, s));
        Ok(())
    }

    fn put_peer(&self, p: &mut Pending, pid: [u8; 32], mut entry: Peer) -> Result<()> {
        // Keep at most MAX_SESSIONS_PER_PEER: evict the oldest non-primary ones.
        while entry.sessions.len() > MAX_SESSIONS_PER_PEER {
            let Some(i) = entry.sessions.iter().position(|(sid, _)| Some(*sid) != entry.primary) else {
                break;
            };
            let (sid, _) = entry.sessions.remove(i);
            p.dropped_sessions.push(sid);
            p.changes.push(Change::Delete { name: session_name(&sid) });
        }
        let name = peer_name(&pid);
        let value = seal_record_named(RecordKind::Peer, &self.key, name.as_bytes(), &encode_peer(&entry))?;
        p.changes.push(Change::Put { name, kind: RecordKind::Peer as u8, value });
        p.peers.push((pid, entry));
        Ok(())
    }

    /// Seals the plaintext `encode` writes as record `name` of `kind` and adds it to `p`.
    fn put_sealed(
        &self,
        p: &mut Pending,
        name: String,
        kind: RecordKind,
        encode: impl FnOnce(&mut Writer) -> Result<()>,
    ) -> Result<()> {
        let mut w = Writer::default();
        encode(&mut w)?;
        let plain = Zeroizing::new(w.buf);
        let value = seal_record_named(kind, &self.key, name.as_bytes(), &plain)?;
        p.changes.push(Change::Put { name, kind: kind as u8, value });
        Ok(())
    }

    /// Stores one member's new entry, and takes it for the in-memory group.
    fn put_group_member(&self, p: &mut Pending, gid: [u8; GROUP_ID_LEN], update: MemberUpdate) -> Result<()> {
        self.put_sealed(p, member_name(&gid, &update.id()), RecordKind::GroupMember, |w| {
            update.encode(w);
            Ok(())
        })?;
        p.group_members.push((gid, update));
        Ok(())
    }

    /// Stores what `parts` says changed of group `g` (a group is stored as its head and one
    /// record per member, so that a message rewrites one member, not the whole group), and
    /// takes `g` as the new in-memory group.
    fn put_group(&self, p: &mut Pending, g: Group, parts: GroupParts) -> Result<()> {
        let gid = g.group_id();
        if parts.head {
            self.put_sealed(p, group_name(&gid), RecordKind::GroupHead, |w| {
                g.encode_head(w);
                Ok(())
            })?;
        }
        let members: Vec<[u8; 32]> = match parts.members {
            Members::None => Vec::new(),
            Members::One(id) => vec![id],
            Members::All => g.member_ids().copied().collect(),
        };
        for id in &members {
            self.put_sealed(p, member_name(&gid, id), RecordKind::GroupMember, |w| g.encode_member(id, w))?;
        }
        if let Some(id) = parts.deleted {
            p.changes.push(Change::Delete { name: member_name(&gid, &id) });
        }
        p.groups.push((gid, g));
        Ok(())
    }

    fn queue(&self, p: &mut Pending, peer: &AgentId, envelope: Vec<u8>) -> Result<()> {
        let mut meta = p.meta.unwrap_or(self.meta);
        let seq = meta.next_outbox_seq;
        meta.next_outbox_seq = seq.checked_add(1).ok_or(Error::TooLarge)?;
        let name = outbox_name(seq);
        let mut w = Writer::with_capacity(32 + envelope.len());
        w.bytes(&peer.to_bytes()).bytes(&envelope);
        let value = seal_record_named(RecordKind::Outgoing, &self.key, name.as_bytes(), &w.buf)?;
        p.changes.push(Change::Put { name, kind: RecordKind::Outgoing as u8, value });
        p.outbox.push(Outgoing { seq, peer: peer.to_bytes(), envelope });
        self.put_meta(p, meta)
    }

    /// Commits `p` to the store, then (only then) replaces the in-memory state.
    fn apply(&mut self, mut p: Pending) -> Result<()> {
        let mut dropped = self.dropped.clone();
        if !p.dropped_sessions.is_empty() {
            dropped.extend(p.dropped_sessions.iter().copied());
            while dropped.len() > MAX_DROPPED_SESSION_IDS {
                dropped.pop_front();
            }
            let plain: Vec<u8> = dropped.iter().flatten().copied().collect();
            let value =
                seal_record_named(RecordKind::DroppedSessions, &self.key, DROPPED.as_bytes(), &plain)?;
            p.changes.push(Change::Put {
                name: DROPPED.into(),
                kind: RecordKind::DroppedSessions as u8,
                value,
            });
        }
        self.store.commit(&p.changes)?;
        self.dropped = dropped;
        if let Some(id) = p.identity {
            self.identity = id;
        }
        if let Some(m) = p.meta {
            self.meta = m;
        }
        for (sid, s) in p.sessions {
            self.sessions.insert(sid, s);
        }
        for (pid, e) in p.peers {
            self.peers.insert(pid, e);
        }
        for sid in p.dropped_sessions {
            self.sessions.remove(&sid);
        }
        for (gid, g) in p.groups {
            self.groups.insert(gid, g);
        }
        for (gid, update) in p.group_members {
            if let Some(g) = self.groups.get_mut(&gid) {
                g.apply_member(update);
            }
        }
        for (gid, update) in p.group_own_keys {
            if let Some(g) = self.groups.get_mut(&gid) {
                g.apply_own_key(update);
            }
        }
        for gid in p.left_groups {
            self.groups.remove(&gid);
        }
        self.outbox.extend(p.outbox);
        if p.outbox_done {
            self.outbox.pop_front();
        }
        self.inbox.extend(p.inbox);
        if let Some(seq) = p.acked {
            self.inbox.retain(|e| e.seq != seq);
        }
        Ok(())
    }
}

/// What [`Agent::maintain`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Maintenance {
    /// The signed prekey was rotated.
    pub rotated_signed_prekey: bool,
    /// One-time prekeys generated.
    pub one_time_prekeys_generated: usize,
    /// Old sessions dropped.
    pub sessions_dropped: usize,
}

/// Marks `sid` used at `now` (adding it if new) and, if `primary`, makes it the primary session.
fn touch(entry: &mut Peer, sid: [u8; SESSION_ID_LEN], now: u64, primary: bool) {
    match entry.sessions.iter_mut().find(|(id, _)| *id == sid) {
        Some(s) => s.1 = now,
        None => entry.sessions.push((sid, now)),
    }
    if primary || entry.primary.is_none() {
        entry.primary = Some(sid);
    }
}

fn group_id_of(envelope: &[u8]) -> Result<[u8; GROUP_ID_LEN]> {
    let env = crate::wire::group::GroupEnvelope::parse(envelope)?;
    Ok(env.header.group_id)
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N]> {
    if s.len() != 2 * N {
        return Err(Error::BadState);
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or(Error::BadState)?, 16)
            .map_err(|_| Error::BadState)?;
    }
    Ok(out)
}

fn encode_peer(e: &Peer) -> Vec<u8> {
    let mut w = Writer::default();
    w.bool(e.primary.is_some()).bytes(&e.primary.unwrap_or([0; SESSION_ID_LEN]));
    w.u32(e.sessions.len() as u32);
    for (sid, used) in &e.sessions {
        w.bytes(sid).u64(*used);
    }
    w.bool(e.bundle.is_some());
    if let Some(b) = &e.bundle {
        w.bytes_u32(b);
    }
    w.buf
}

fn decode_peer(plain: &[u8]) -> Result<Peer> {
    let mut r = Reader::for_state(plain);
    let has_primary = r.bool()?;
    let primary_id: [u8; SESSION_ID_LEN] = r.array()?;
    let count = r.u32()? as usize;
    if count > MAX_SESSIONS_PER_PEER {
        return Err(Error::BadState);
    }
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        sessions.push((r.array()?, r.u64()?));
    }
    let bundle =
        if r.bool()? { Some(r.bytes_u32(crate::wire::bundle::BUNDLE_MAX_LEN)?.to_vec()) } else { None };
    r.finish()?;
    let primary = has_primary.then_some(primary_id);
    if primary.is_some_and(|p| !sessions.iter().any(|(s, _)| *s == p)) {
        return Err(Error::BadState);
    }
    Ok(Peer { primary, sessions, bundle })
}
