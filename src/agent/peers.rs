//! What the agent knows of each peer: its sessions (one of them primary) and its bundle.

use super::*;

/// What the agent knows of one peer.
#[derive(Clone, Debug, Default)]
pub(super) struct Peer {
    /// The session used for sending.
    pub(super) primary: Option<[u8; SESSION_ID_LEN]>,
    /// Every session kept, oldest first, with the time it was last used.
    pub(super) sessions: Vec<([u8; SESSION_ID_LEN], u64)>,
    /// Its verified bundle, to start a session when there is none.
    pub(super) bundle: Option<Vec<u8>>,
}

/// Marks `sid` used at `now` (adding it if new) and, if `primary`, makes it the primary session.
pub(super) fn touch(entry: &mut Peer, sid: [u8; SESSION_ID_LEN], now: u64, primary: bool) {
    match entry.sessions.iter_mut().find(|(id, _)| *id == sid) {
        Some(s) => s.1 = now,
        None => entry.sessions.push((sid, now)),
    }
    if primary || entry.primary.is_none() {
        entry.primary = Some(sid);
    }
}

pub(super) fn encode_peer(e: &Peer) -> Vec<u8> {
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

pub(super) fn decode_peer(plain: &[u8]) -> Result<Peer> {
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

impl Agent {
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

    /// Whether a session just accepted from `peer` becomes the primary one. A peer that starts a
    /// new session while ours is established wants a new one: it wins. If ours has had no reply
    /// yet, both sides started at once: the session started by the smaller agent id wins, on
    /// both sides alike.
    pub(super) fn new_session_wins(&self, entry: &Peer, peer: &AgentId) -> bool {
        let Some(current) = entry.primary.and_then(|sid| self.sessions.get(&sid)) else { return true };
        let ours_unanswered = current.role() == Role::Initiator && current.state() != SessionState::Active;
        !ours_unanswered || peer.to_bytes() < self.agent_id().to_bytes()
    }

    pub(super) fn put_session(&self, p: &mut Pending, sid: [u8; SESSION_ID_LEN], s: Session) -> Result<()> {
        let name = session_name(&sid);
        let value = s.to_sealed_named(&self.key, name.as_bytes())?;
        p.changes.push(Change::Put { name, kind: RecordKind::Session as u8, value });
        p.sessions.push((sid, s));
        Ok(())
    }

    pub(super) fn put_peer(&self, p: &mut Pending, pid: [u8; 32], mut entry: Peer) -> Result<()> {
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
}
