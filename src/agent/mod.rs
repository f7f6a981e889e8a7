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
mod groups;
mod outbox;
pub mod payload;
mod peers;
mod prekeys;
mod records;
mod routing;
mod secrets;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::group::{Group, MemberUpdate, OwnKeyUpdate};
use crate::identity::{AgentId, Identity};
use crate::limits::{
    GROUP_ID_LEN, MAX_AGENT_GROUPS, MAX_FIRST_MESSAGES_PER_PREKEY, MAX_STRANGERS, SESSION_ID_LEN,
    STRANGER_MAX_FORWARD_JUMP, STRANGER_MAX_SKIPPED_KEYS,
};
use crate::prekey::{PrekeyBundle, Suite};
use crate::ratchet::Limits;
use crate::session::{Role, Session, SessionConfig, SessionState};
use crate::state::{RecordKind, StorageKey, open_record_named, seal_record_named};
use crate::store::{Change, Store};
use crate::wire::group::Distribution;
use crate::wire::reader::{Reader, Writer};
use crate::wire::{BundleFields, MessageEnvelope, MessageType, peek_type};
pub use event::{Event, EventKind};
pub use outbox::OutboxEntry;
use outbox::Outgoing;
use peers::{NewSession, Peer, decode_peer, touch};
pub use prekeys::Maintenance;
use records::*;
use secrets::Secrets;

/// Most sessions kept per peer (the primary and older ones still readable).
pub const MAX_SESSIONS_PER_PEER: usize = 4;
/// The out-of-order limits of a session a stranger started, until the peer is accepted (then the
/// configured ones). Keeps what 1,000 strangers can make the agent store to about 13 MB.
pub const STRANGER_LIMITS: Limits =
    Limits { max_forward_jump: STRANGER_MAX_FORWARD_JUMP, max_skipped_keys: STRANGER_MAX_SKIPPED_KEYS };
/// Fresh handshakes tried for a session id no other session has (one nearly always suffices).
const MAX_SESSION_ID_TRIES: usize = 4;

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
    /// Drop a stranger (a peer the application never accepted: see [`Agent::accept_peer`])
    /// whose sessions were unused for this long (seconds; checked by `maintain`).
    pub stranger_ttl_secs: u64,
    /// Report a session we started that has had no reply for this long (seconds; see
    /// [`Agent::unanswered_peers`]). The default is two prekey rotation periods: by then the
    /// bundle it was started from has expired.
    pub unanswered_session_secs: u64,
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
            stranger_ttl_secs: 7 * 24 * 3600,
            unanswered_session_secs: 14 * 24 * 3600,
            accept_group_invites: true,
            retain_events: false,
        }
    }
}

/// The agent's own bookkeeping.
#[derive(Clone, Copy, Debug, Default)]
struct Meta {
    signed_prekey_rotated_at: u64,
    next_outbox_seq: u64,
    now: u64,
    next_event_seq: u64,
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
    /// Per signed prekey held, the session ids of the first messages accepted under it.
    first_messages: HashMap<u32, HashSet<[u8; SESSION_ID_LEN]>>,
    /// Application secrets by label (section 11.9): never printed.
    secrets: Secrets,
}

impl core::fmt::Debug for Agent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.identity.agent_id())
            .field("store", &self.store)
            .field("sessions", &self.sessions.len())
            .field("groups", &self.groups.len())
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// The changes of one call, applied together or not at all.
#[derive(Default)]
struct Pending {
    changes: Vec<Change>,
    identity: Option<Identity>,
    meta: Option<Meta>,
    sessions: Vec<([u8; SESSION_ID_LEN], Session)>,
    closed_sessions: Vec<[u8; SESSION_ID_LEN]>,
    peers: Vec<([u8; 32], Peer)>,
    forgotten_peers: Vec<[u8; 32]>,
    first_messages: Vec<(u32, [u8; SESSION_ID_LEN])>,
    erased_first_message_sets: Vec<u32>,
    groups: Vec<([u8; GROUP_ID_LEN], Group)>,
    left_groups: Vec<[u8; GROUP_ID_LEN]>,
    group_members: Vec<([u8; GROUP_ID_LEN], MemberUpdate)>,
    group_own_keys: Vec<([u8; GROUP_ID_LEN], OwnKeyUpdate)>,
    outbox: Vec<Outgoing>,
    outbox_done: Option<u64>,
    inbox: Vec<Event>,
    acked: Option<u64>,
    /// Secrets set (`Some`) or removed (`None`), in order.
    secrets: Vec<(String, Option<secrets::SecretValue>)>,
}

const IDENTITY: &str = "identity";
const META: &str = "meta";

fn now_unix() -> u64 {
    crate::prekey::unix_now()
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
            Some(p) => Store::open(p, &key)?,
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
                    && crate::identity::IdentityKeyPair::from_seed(seed).agent_id() != identity.agent_id()
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
                agent.put_identity_changes(&mut p, None, &id)?;
                p.identity = Some(id);
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
            first_messages: HashMap::new(),
            secrets: Secrets::new(),
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
            } else if let Some(rest) = name.strip_prefix("first/") {
                let (spk, sid) = rest.split_once('/').ok_or(Error::BadState)?;
                let (spk, sid) =
                    (u32::from_be_bytes(parse_hex::<4>(spk)?), parse_hex::<SESSION_ID_LEN>(sid)?);
                let plain = open_record_named(RecordKind::FirstMessage, key, n, value)?;
                let mut r = Reader::for_state(&plain);
                if r.u32()? != spk || r.array::<SESSION_ID_LEN>()? != sid {
                    return Err(Error::BadState);
                }
                r.finish()?;
                self.first_messages.entry(spk).or_default().insert(sid);
            } else if let Some(rest) = name.strip_prefix("otk/") {
                let id = u32::from_be_bytes(parse_hex::<4>(rest)?);
                let plain = open_record_named(RecordKind::OneTimePrekey, key, n, value)?;
                let mut r = Reader::for_state(&plain);
                if self.identity.insert_one_time_prekey(&mut r)? != id {
                    return Err(Error::BadState);
                }
                r.finish()?;
            } else if let Some(label) = name.strip_prefix("secret/") {
                secrets::check_loaded_label(label)?;
                let plain = open_record_named(RecordKind::Secret, key, n, value)?;
                self.secrets.insert(label.to_owned(), secrets::check_loaded_value(plain)?);
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
        // First messages are remembered only under prekeys held, each set within its bound.
        let held = |spk: &u32| {
            *spk == self.identity.signed_prekey_id()
                || Some(*spk) == self.identity.previous_signed_prekey_id()
        };
        if self
            .first_messages
            .iter()
            .any(|(spk, set)| !held(spk) || set.len() > MAX_FIRST_MESSAGES_PER_PREKEY)
        {
            return Err(Error::BadState);
        }
        secrets::check_loaded_count(&self.secrets)?;
        self.outbox.make_contiguous().sort_by_key(|o| o.seq);
        self.inbox.make_contiguous().sort_by_key(|e| e.seq);
        // Every session a peer names must exist, and every session must belong to its peer.
        for (pid, peer) in &self.peers {
            for s in &peer.sessions {
                if self.sessions.get(&s.id).is_none_or(|s| s.peer_id().to_bytes() != *pid) {
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

    /// Signs an application message as this agent: a plain Ed25519 signature that verifies under
    /// the agent id (for a directory, a relay, a capability...). `InvalidArgument` for a message
    /// that begins with "DMP": that prefix is reserved for the protocol's own signatures
    /// (bundles), so no application can be made to sign one.
    pub fn sign(&self, message: &[u8]) -> Result<crate::crypto::sign::Signature> {
        self.identity.keys().sign(message)
    }

    /// Signs an agent record (`body`: every byte of the record before its signature) as this
    /// agent: an Ed25519 signature over [`AGENT_RECORD_LABEL`](crate::identity::AGENT_RECORD_LABEL)
    /// `|| body`, which verifies under the agent id. The label is the protocol's own (`sign`
    /// refuses it), so an agent record signature is never a bundle or application signature.
    pub fn sign_agent_record(&self, body: &[u8]) -> crate::crypto::sign::Signature {
        let mut m = Zeroizing::new(crate::identity::AGENT_RECORD_LABEL.to_vec());
        m.extend_from_slice(body);
        self.identity.keys().sign_protocol(&m)
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

    // ---- pending changes (each concept's own puts are in its file) ----

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
            .or_else(|| if p.forgotten_peers.contains(pid) { None } else { self.peers.get(pid).cloned() })
    }

    fn put_meta(&self, p: &mut Pending, meta: Meta) -> Result<()> {
        let mut w = Writer::default();
        w.u64(meta.signed_prekey_rotated_at).u64(meta.next_outbox_seq).u64(meta.now).u64(meta.next_event_seq);
        let value = seal_record_named(RecordKind::AgentMeta, &self.key, META.as_bytes(), &w.buf)?;
        p.changes.push(Change::Put { name: META.into(), kind: RecordKind::AgentMeta as u8, value });
        p.meta = Some(meta);
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

    /// Commits `p` to the store, then (only then) replaces the in-memory state.
    fn apply(&mut self, p: Pending) -> Result<()> {
        self.store.commit(&p.changes)?;
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
        for sid in p.closed_sessions {
            self.sessions.remove(&sid);
        }
        for pid in p.forgotten_peers {
            self.peers.remove(&pid);
        }
        for (spk, sid) in p.first_messages {
            self.first_messages.entry(spk).or_default().insert(sid);
        }
        for spk in p.erased_first_message_sets {
            self.first_messages.remove(&spk);
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
        if let Some(seq) = p.outbox_done {
            self.outbox.retain(|o| o.seq != seq);
        }
        self.inbox.extend(p.inbox);
        if let Some(seq) = p.acked {
            self.inbox.retain(|e| e.seq != seq);
        }
        for (label, value) in p.secrets {
            match value {
                Some(v) => self.secrets.insert(label, v),
                None => self.secrets.remove(&label),
            };
        }
        Ok(())
    }
}
