//! What the agent knows of each peer: its sessions (one of them primary), its bundle, and whether
//! the application accepted it.
//!
//! A peer the application has dealt with (it added the peer's bundle, sent to it, put it in a
//! group, or called [`Agent::accept_peer`]) is *accepted* and stays until the application forgets
//! it. Anyone holding our bundle can start a session with us, so a peer known only from the first
//! messages it sent is a *stranger*: at most [`MAX_STRANGERS`] are held (the least recently used
//! is dropped to make room), and [`Agent::maintain`] drops those idle for `stranger_ttl_secs`.
//! Strangers can therefore never push out a peer the application cares about.

use super::*;

/// One session kept for a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SessionRef {
    pub(super) id: [u8; SESSION_ID_LEN],
    /// When it was created (Unix seconds, the agent's clock).
    pub(super) created: u64,
    /// When it last sent or received.
    pub(super) used: u64,
}

/// What the agent knows of one peer.
#[derive(Clone, Debug, Default)]
pub(super) struct Peer {
    /// The session used for sending.
    pub(super) primary: Option<[u8; SESSION_ID_LEN]>,
    /// A session the peer started while the primary one was answered: it becomes primary when a
    /// second message arrives on it. A first message alone (which anyone who recorded it can
    /// replay) never moves our sends away from an answered session.
    pub(super) candidate: Option<[u8; SESSION_ID_LEN]>,
    /// Every session kept, oldest first.
    pub(super) sessions: Vec<SessionRef>,
    /// Its verified bundle, to start a session when there is none.
    pub(super) bundle: Option<Vec<u8>>,
    /// The application dealt with this peer: it is not a stranger.
    pub(super) accepted: bool,
    /// The number of the last event received from it: strangers are evicted least recently
    /// heard from first (times are too coarse to order a burst).
    pub(super) heard: u64,
}

impl Peer {
    /// The last time any of its sessions was used (0 if it has none).
    pub(super) fn last_used(&self) -> u64 {
        self.sessions.iter().map(|s| s.used).max().unwrap_or(0)
    }
}

/// Where a session a peer started goes among that peer's sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NewSession {
    /// Used for sending from now on.
    Primary,
    /// Becomes primary at the peer's next message on it.
    Candidate,
    /// Kept for reading only (it lost a simultaneous start).
    Secondary,
}

/// Marks `sid` used at `now` (adding it if new) and, if `primary`, makes it the primary session.
pub(super) fn touch(entry: &mut Peer, sid: [u8; SESSION_ID_LEN], now: u64, primary: bool) {
    match entry.sessions.iter_mut().find(|s| s.id == sid) {
        Some(s) => s.used = now,
        None => entry.sessions.push(SessionRef { id: sid, created: now, used: now }),
    }
    if primary || entry.primary.is_none() {
        entry.primary = Some(sid);
        if entry.candidate == Some(sid) {
            entry.candidate = None;
        }
    }
}

pub(super) fn encode_peer(e: &Peer) -> Vec<u8> {
    let mut w = Writer::default();
    w.bool(e.primary.is_some()).bytes(&e.primary.unwrap_or([0; SESSION_ID_LEN]));
    w.bool(e.candidate.is_some()).bytes(&e.candidate.unwrap_or([0; SESSION_ID_LEN]));
    w.u32(e.sessions.len() as u32);
    for s in &e.sessions {
        w.bytes(&s.id).u64(s.created).u64(s.used);
    }
    w.bool(e.bundle.is_some());
    if let Some(b) = &e.bundle {
        w.bytes_u32(b);
    }
    w.bool(e.accepted).u64(e.heard);
    w.buf
}

pub(super) fn decode_peer(plain: &[u8]) -> Result<Peer> {
    let mut r = Reader::for_state(plain);
    let has_primary = r.bool()?;
    let primary_id: [u8; SESSION_ID_LEN] = r.array()?;
    let has_candidate = r.bool()?;
    let candidate_id: [u8; SESSION_ID_LEN] = r.array()?;
    let count = r.u32()? as usize;
    if count > MAX_SESSIONS_PER_PEER {
        return Err(Error::BadState);
    }
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        sessions.push(SessionRef { id: r.array()?, created: r.u64()?, used: r.u64()? });
    }
    let bundle =
        if r.bool()? { Some(r.bytes_u32(crate::wire::bundle::BUNDLE_MAX_LEN)?.to_vec()) } else { None };
    let accepted = r.bool()?;
    let heard = r.u64()?;
    r.finish()?;
    let primary = has_primary.then_some(primary_id);
    let candidate = has_candidate.then_some(candidate_id);
    let held = |id: [u8; SESSION_ID_LEN]| sessions.iter().any(|s| s.id == id);
    if primary.is_some_and(|p| !held(p))
        || candidate.is_some_and(|c| !held(c) || Some(c) == primary)
        || (candidate.is_some() && primary.is_none())
    {
        return Err(Error::BadState);
    }
    Ok(Peer { primary, candidate, sessions, bundle, accepted, heard })
}

impl Agent {
    /// Remembers a peer's bundle (verified first) so that [`send`](Self::send) can start a
    /// session with it, and accepts the peer. Returns the peer's id.
    pub fn add_bundle(&mut self, bundle: &[u8]) -> Result<AgentId> {
        let verified = PrekeyBundle::from_bytes(bundle)?;
        let peer = verified.agent_id();
        if peer == self.agent_id() {
            return Err(Error::InvalidArgument);
        }
        let mut entry = self.peers.get(&peer.to_bytes()).cloned().unwrap_or_default();
        entry.bundle = Some(bundle.to_vec());
        let mut p = Pending::default();
        self.accept_entry(&mut p, &mut entry)?;
        self.put_peer(&mut p, peer.to_bytes(), entry)?;
        self.apply(p)?;
        Ok(peer)
    }

    /// Accepts a peer that started a session with us (a stranger): it is no longer subject to
    /// [`MAX_STRANGERS`] or `stranger_ttl_secs`. Sending to a peer accepts it too. `NoSession` if
    /// the agent knows nothing of `peer`.
    pub fn accept_peer(&mut self, peer: &AgentId) -> Result<()> {
        let mut entry = self.peers.get(&peer.to_bytes()).cloned().ok_or(Error::NoSession)?;
        if entry.accepted {
            return Ok(());
        }
        let mut p = Pending::default();
        self.accept_entry(&mut p, &mut entry)?;
        self.put_peer(&mut p, peer.to_bytes(), entry)?;
        self.apply(p)
    }

    /// Marks `entry` accepted (the caller stores it), and gives every session with the peer the
    /// configured limits instead of [`STRANGER_LIMITS`].
    pub(super) fn accept_entry(&self, p: &mut Pending, entry: &mut Peer) -> Result<()> {
        if entry.accepted {
            return Ok(());
        }
        for s in &entry.sessions {
            let mut session = self.pending_session(p, &s.id).ok_or(Error::Internal)?;
            if session.limits()? != self.config.session.limits {
                session.set_limits(self.config.session.limits)?;
                self.put_session(p, s.id, session)?;
            }
        }
        entry.accepted = true;
        Ok(())
    }

    /// Whether `peer` is accepted (`NoSession` if the agent knows nothing of it).
    pub fn is_accepted(&self, peer: &AgentId) -> Result<bool> {
        Ok(self.peers.get(&peer.to_bytes()).ok_or(Error::NoSession)?.accepted)
    }

    /// Closes every session with `peer`: their keys are erased from memory and store. The peer
    /// stays known (its bundle, whether it is accepted), so the next [`send`](Self::send) starts
    /// a new session from its bundle (`NoSession` if it was spent: add a fresh one). Messages the
    /// peer sends on a closed session are refused (`WrongSession`; its first messages
    /// `Duplicate`), and the peer keeps sending on it until our second message on the new
    /// session makes that one its primary (PROTOCOL 11.4): send twice (e.g. `connect`, then the
    /// message). `NoSession` if there is no session with `peer`.
    pub fn close_session(&mut self, peer: &AgentId) -> Result<()> {
        let pid = peer.to_bytes();
        let mut entry = self.peers.get(&pid).cloned().ok_or(Error::NoSession)?;
        if entry.sessions.is_empty() {
            return Err(Error::NoSession);
        }
        let mut p = Pending::default();
        for s in entry.sessions.drain(..) {
            p.closed_sessions.push(s.id);
            p.changes.push(Change::Delete { name: session_name(&s.id) });
        }
        entry.primary = None;
        entry.candidate = None;
        self.put_peer(&mut p, pid, entry)?;
        self.apply(p)
    }

    /// Forgets `peer`: every session with it (keys erased), its bundle, and its acceptance.
    /// Group memberships and outbox envelopes are left alone (remove the peer from groups with
    /// [`group_remove`](Self::group_remove)). A later first message from the peer makes it a
    /// stranger again. `NoSession` if the agent knows nothing of `peer`.
    pub fn forget_peer(&mut self, peer: &AgentId) -> Result<()> {
        let pid = peer.to_bytes();
        if !self.peers.contains_key(&pid) {
            return Err(Error::NoSession);
        }
        let mut p = Pending::default();
        self.drop_peer(&mut p, pid);
        self.apply(p)
    }

    /// Records the deletion of peer `pid` and its sessions in `p`.
    pub(super) fn drop_peer(&self, p: &mut Pending, pid: [u8; 32]) {
        if let Some(entry) = self.pending_peer(p, &pid) {
            for s in &entry.sessions {
                p.closed_sessions.push(s.id);
                p.changes.push(Change::Delete { name: session_name(&s.id) });
            }
        }
        p.changes.push(Change::Delete { name: peer_name(&pid) });
        p.forgotten_peers.push(pid);
    }

    /// Makes room for one more stranger: when [`MAX_STRANGERS`] are held, the one least recently
    /// heard from is dropped (recorded in `p`).
    pub(super) fn admit_stranger(&self, p: &mut Pending) {
        let mut count = 0;
        let mut oldest: Option<([u8; 32], u64)> = None;
        for (pid, peer) in self.peers.iter().filter(|(_, e)| !e.accepted) {
            count += 1;
            if oldest.is_none_or(|(_, heard)| peer.heard < heard) {
                oldest = Some((*pid, peer.heard));
            }
        }
        if count >= MAX_STRANGERS
            && let Some((pid, _)) = oldest
        {
            self.drop_peer(p, pid);
        }
    }

    /// What a session just accepted from `peer` becomes. If ours has had no reply yet, both
    /// sides started at once: the session started by the smaller agent id wins, on both sides
    /// alike. If ours is answered, the new one waits as the candidate until the peer's next
    /// message on it ([`Peer::candidate`]): a replayed first message cannot move our sends into a
    /// session the peer no longer has.
    pub(super) fn new_session_place(&self, entry: &Peer, peer: &AgentId) -> NewSession {
        let Some(current) = entry.primary.and_then(|sid| self.sessions.get(&sid)) else {
            return NewSession::Primary;
        };
        let ours_unanswered = current.role() == Role::Initiator && current.state() != SessionState::Active;
        match (ours_unanswered, peer.to_bytes() < self.agent_id().to_bytes()) {
            (true, true) => NewSession::Primary,
            (true, false) => NewSession::Secondary,
            (false, _) => NewSession::Candidate,
        }
    }

    pub(super) fn put_session(&self, p: &mut Pending, sid: [u8; SESSION_ID_LEN], s: Session) -> Result<()> {
        let name = session_name(&sid);
        let value = s.to_sealed_named(&self.key, name.as_bytes())?;
        p.changes.push(Change::Put { name, kind: RecordKind::Session as u8, value });
        p.sessions.push((sid, s));
        Ok(())
    }

    pub(super) fn put_peer(&self, p: &mut Pending, pid: [u8; 32], mut entry: Peer) -> Result<()> {
        // Keep at most MAX_SESSIONS_PER_PEER: evict the oldest that is neither primary nor the
        // candidate (then the candidate itself, if it must).
        while entry.sessions.len() > MAX_SESSIONS_PER_PEER {
            let removable = |s: &SessionRef| Some(s.id) != entry.primary;
            let i = entry
                .sessions
                .iter()
                .position(|s| removable(s) && Some(s.id) != entry.candidate)
                .or_else(|| entry.sessions.iter().position(removable));
            let Some(i) = i else { break };
            let s = entry.sessions.remove(i);
            if entry.candidate == Some(s.id) {
                entry.candidate = None;
            }
            p.closed_sessions.push(s.id);
            p.changes.push(Change::Delete { name: session_name(&s.id) });
        }
        let name = peer_name(&pid);
        let value = seal_record_named(RecordKind::Peer, &self.key, name.as_bytes(), &encode_peer(&entry))?;
        p.changes.push(Change::Put { name, kind: RecordKind::Peer as u8, value });
        p.peers.push((pid, entry));
        Ok(())
    }
}
