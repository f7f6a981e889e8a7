//! The world of one scenario: the actors' identities, sessions, groups and agents (owned C ABI
//! handles, all released when the scenario ends), and the envelopes in transit between them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::abi::*;

/// An envelope in transit, named in the feature by its plaintext.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: String,
    pub bytes: Vec<u8>,
    /// The plaintext it carries.
    pub text: Vec<u8>,
}

/// A directory of agent stores, removed when the scenario ends.
#[derive(Debug)]
pub struct StoreDir(pub PathBuf);

impl StoreDir {
    fn new() -> StoreDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("dmp-bdd-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a store directory");
        StoreDir(dir)
    }
}

impl Drop for StoreDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One scenario's state. Every handle in it is released when the scenario ends (see `Drop`).
#[derive(Debug, Default, cucumber::World)]
pub struct DmpWorld {
    /// Identities by actor.
    pub ids: BTreeMap<String, Identity>,
    /// Identity records of actors who went offline.
    pub offline: BTreeMap<String, Vec<u8>>,
    /// Pairwise sessions by (owner, peer).
    pub sessions: BTreeMap<(String, String), Session>,
    /// The last bundle each actor published.
    pub bundles: BTreeMap<String, Vec<u8>>,
    /// Several bundles published in a row.
    pub published: Vec<Vec<u8>>,
    /// A bundle an attacker altered.
    pub stripped: Option<Vec<u8>>,
    /// Envelopes in transit, by their plaintext.
    pub mail: BTreeMap<String, Mail>,
    /// The status of the last call a step tried (and did not assert).
    pub last: Option<i32>,
    /// The sender id buffer of the last tried group decryption.
    pub last_sender: Option<[u8; 32]>,
    /// The size a refused call said it needed.
    pub last_needed: Option<usize>,
    /// Observations taken before a tried call, by what was observed.
    pub session_before: BTreeMap<(String, String), SessionView>,
    pub identity_before: BTreeMap<String, Vec<u8>>,
    pub group_before: BTreeMap<String, Vec<u8>>,
    /// Records saved by a step, by (actor, what), with the plaintext they held.
    pub saved: BTreeMap<(String, String), (Vec<u8>, Vec<u8>)>,
    /// Each actor's view of the scenario's group.
    pub groups: BTreeMap<String, Group>,
    pub group_id: [u8; 32],
    /// Agents by actor, and a second handle on a store, if one was opened.
    pub agents: BTreeMap<String, Agent>,
    pub second_agents: BTreeMap<String, Agent>,
    /// Agent ids by actor (kept when an agent is closed).
    pub agent_ids: BTreeMap<String, [u8; 32]>,
    /// When the scenario's agents were created (seconds since 1970).
    pub agents_created_at: u64,
    /// The group an agent created.
    pub agent_group: Option<[u8; 32]>,
    /// Invitations taken, as (invited actor, inviter's agent id, group id).
    pub invitations: Vec<(String, [u8; 32], [u8; 32])>,
    /// Agent stores.
    pub store: Option<StoreDir>,
}

/// "Alice, Bob and Carol" -> ["Alice", "Bob", "Carol"].
pub fn names(list: &str) -> Vec<String> {
    list.split(", ")
        .flat_map(|part| part.split(" and "))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl DmpWorld {
    /// The actor's identity.
    pub fn id(&self, who: &str) -> &Identity {
        self.ids.get(who).unwrap_or_else(|| panic!("{who} has no identity in this scenario"))
    }

    /// Gives the actor a fresh identity of `suite` unless it has one.
    pub fn ensure_identity(&mut self, who: &str, suite: i32) {
        if !self.ids.contains_key(who) {
            self.ids.insert(who.to_string(), Identity::generate(suite));
        }
    }

    /// The session `owner` holds with `peer`.
    pub fn session(&self, owner: &str, peer: &str) -> &Session {
        self.sessions
            .get(&(owner.to_string(), peer.to_string()))
            .unwrap_or_else(|| panic!("{owner} has no session with {peer}"))
    }

    /// The published bundle of an actor.
    pub fn bundle(&self, who: &str) -> Vec<u8> {
        self.bundles.get(who).cloned().unwrap_or_else(|| panic!("{who} has published no bundle"))
    }

    /// Publishes a bundle of the actor.
    pub fn publish(&mut self, who: &str, with_one_time_prekey: bool) -> Vec<u8> {
        let b = self.id(who).bundle(with_one_time_prekey);
        self.bundles.insert(who.to_string(), b.clone());
        b
    }

    /// Starts `owner`'s session from `bundle` (whose owner is `peer`) under `policy`.
    pub fn try_initiate(&mut self, owner: &str, peer: &str, bundle: &[u8], policy: i32) -> i32 {
        let mut out = ptr::null_mut();
        // SAFETY: live identity; bundle valid for its length; pointer write.
        let rc = unsafe {
            dmp_session_initiate_with(self.id(owner).0, bundle.as_ptr(), bundle.len(), policy, &mut out)
        };
        if rc == DMP_OK {
            assert!(!out.is_null(), "dmp_session_initiate_with succeeded with a NULL handle");
            self.sessions.insert((owner.to_string(), peer.to_string()), Session(out));
        } else {
            assert!(out.is_null(), "dmp_session_initiate_with failed but left a handle behind");
        }
        rc
    }

    /// Starts `owner`'s session from `peer`'s published bundle with the default call, which
    /// requires hybrid.
    pub fn initiate(&mut self, owner: &str, peer: &str) {
        let bundle = self.bundle(peer);
        let mut out = ptr::null_mut();
        // SAFETY: live identity; bundle valid for its length; pointer write.
        let rc = unsafe { dmp_session_initiate(self.id(owner).0, bundle.as_ptr(), bundle.len(), &mut out) };
        ok(rc, "dmp_session_initiate");
        self.sessions.insert((owner.to_string(), peer.to_string()), Session(out));
    }

    /// Encrypts `text` from `from` to `to` and puts the envelope in transit under its text.
    pub fn send(&mut self, from: &str, to: &str, text: &str) -> Vec<u8> {
        self.send_bytes(from, to, text, text.as_bytes())
    }

    /// Encrypts `pt` from `from` to `to` and puts the envelope in transit under `label`.
    pub fn send_bytes(&mut self, from: &str, to: &str, label: &str, pt: &[u8]) -> Vec<u8> {
        let env = self
            .session(from, to)
            .encrypt(pt)
            .unwrap_or_else(|rc| panic!("{from} could not encrypt {label:?}: {}", describe(rc)));
        self.post(from, to, label, env.clone(), pt.to_vec());
        env
    }

    /// Puts an envelope carrying `text` in transit under `label`.
    pub fn post(&mut self, from: &str, to: &str, label: &str, bytes: Vec<u8>, text: Vec<u8>) {
        let mail = Mail { from: from.to_string(), to: to.to_string(), bytes, text };
        let previous = self.mail.insert(label.to_string(), mail);
        assert!(previous.is_none(), "two messages in this scenario are named {label:?}");
    }

    /// The envelope in transit named `label`.
    pub fn letter(&self, label: &str) -> Mail {
        self.mail.get(label).cloned().unwrap_or_else(|| panic!("no message {label:?} was sent"))
    }

    /// Accepts a first message as a new session of `who` under `policy`; stores the session.
    pub fn try_accept(
        &mut self,
        who: &str,
        from: &str,
        envelope: &[u8],
        policy: i32,
    ) -> Result<Vec<u8>, i32> {
        let identity = self.id(who).0;
        let mut session = ptr::null_mut();
        let pt = read_into(envelope.len(), |out, cap, len| {
            // SAFETY: live identity; envelope valid; pointer write; buffer and length valid.
            unsafe {
                dmp_session_accept_with(
                    identity,
                    envelope.as_ptr(),
                    envelope.len(),
                    policy,
                    &mut session,
                    out,
                    cap,
                    len,
                )
            }
        });
        match pt {
            Ok(pt) => {
                assert!(!session.is_null(), "dmp_session_accept_with succeeded with a NULL session");
                self.sessions.insert((who.to_string(), from.to_string()), Session(session));
                Ok(pt)
            }
            Err(rc) => {
                assert!(session.is_null(), "dmp_session_accept_with failed but left a session behind");
                Err(rc)
            }
        }
    }

    /// Delivers an envelope to `who` as a receiver routes it: to its session with the sender if
    /// it has one, otherwise to `dmp_session_accept` (default policy) as a new session.
    pub fn deliver(&mut self, who: &str, from: &str, envelope: &[u8]) -> Result<Vec<u8>, i32> {
        let key = (who.to_string(), from.to_string());
        if let Some(s) = self.sessions.get(&key) {
            return s.decrypt(envelope);
        }
        let identity = self.id(who).0;
        let mut session = ptr::null_mut();
        let pt = read_into(envelope.len(), |out, cap, len| {
            // SAFETY: live identity; envelope valid; pointer write; buffer and length valid.
            unsafe {
                dmp_session_accept(identity, envelope.as_ptr(), envelope.len(), &mut session, out, cap, len)
            }
        })?;
        self.sessions.insert(key, Session(session));
        Ok(pt)
    }

    /// Records what a tried call on `owner`'s session with `peer` may not change.
    pub fn observe_session(&mut self, owner: &str, peer: &str) {
        let view = self.session(owner, peer).view();
        self.session_before.insert((owner.to_string(), peer.to_string()), view);
    }

    /// Records what a tried call may not change of the actor's identity.
    pub fn observe_identity(&mut self, who: &str) {
        let snap = self.id(who).snapshot();
        self.identity_before.insert(who.to_string(), snap);
    }

    /// Records the status of a tried call.
    pub fn tried(&mut self, status: i32) {
        self.last = Some(status);
    }

    /// Carries a secret (a group distribution) from `from` to `to` inside their pairwise
    /// session, setting one up from `to`'s bundle if they have none, and returns the plaintext
    /// `to` decrypted with the authenticated peer id of the session that carried it.
    pub fn carry(&mut self, from: &str, to: &str, secret: &[u8]) -> ([u8; 32], Vec<u8>) {
        let there = (from.to_string(), to.to_string());
        let back = (to.to_string(), from.to_string());
        if !self.sessions.contains_key(&there) && !self.sessions.contains_key(&back) {
            let bundle = self.id(to).bundle(true);
            let rc = self.try_initiate(from, to, &bundle, DMP_PQ_REQUIRE_HYBRID);
            ok(rc, "dmp_session_initiate_with");
        }
        if !self.sessions.contains_key(&there) {
            panic!("{to} has a session with {from} but {from} has none with {to}");
        }
        let env =
            self.session(from, to).encrypt(secret).unwrap_or_else(|rc| panic!("encrypt: {}", describe(rc)));
        let pt = self
            .deliver(to, from, &env)
            .unwrap_or_else(|rc| panic!("{to} cannot read {from}: {}", describe(rc)));
        let mut peer = [0u8; 32];
        // SAFETY: live session; 32 writable bytes.
        ok(
            unsafe { dmp_session_peer_id(self.session(to, from).0, peer.as_mut_ptr()) },
            "dmp_session_peer_id",
        );
        (peer, pt)
    }

    /// The actor's view of the group.
    pub fn group(&self, who: &str) -> &Group {
        self.groups.get(who).unwrap_or_else(|| panic!("{who} has no view of the group"))
    }

    /// Sends `from`'s current distribution to `to` over their session; `to` takes it in.
    pub fn distribute(&mut self, from: &str, to: &str) {
        let dist = self.group(from).distribution();
        let (sender, pt) = self.carry(from, to, &dist);
        let g = self.group(to).0;
        // SAFETY: live group; 32-byte sender; distribution valid for its length.
        let rc = unsafe { dmp_group_process_distribution(g, sender.as_ptr(), pt.as_ptr(), pt.len()) };
        ok(rc, &format!("{to} taking in {from}'s sender key"));
    }

    /// A new directory for agent stores, kept for the scenario.
    pub fn store_path(&mut self, who: &str) -> String {
        let dir = self.store.get_or_insert_with(StoreDir::new);
        dir.0.join(format!("{who}.dmp")).to_str().expect("a UTF-8 temp path").to_string()
    }

    /// The actor's agent.
    pub fn agent(&self, who: &str) -> &Agent {
        self.agents.get(who).unwrap_or_else(|| panic!("{who} has no open agent"))
    }

    /// The agent id of an actor.
    pub fn agent_id(&self, who: &str) -> [u8; 32] {
        *self.agent_ids.get(who).unwrap_or_else(|| panic!("{who} has no agent"))
    }

    /// The actor whose agent has this id.
    pub fn agent_named(&self, id: &[u8; 32]) -> String {
        self.agent_ids
            .iter()
            .find(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("no agent has the id {id:02x?}"))
    }
}

impl Drop for DmpWorld {
    fn drop(&mut self) {
        // Handles first (an agent holds its store open), then the store directory.
        self.agents.clear();
        self.second_agents.clear();
        self.sessions.clear();
        self.groups.clear();
        self.ids.clear();
        self.store = None;
    }
}
