//! Sending to a peer, and receiving any envelope: the pairwise path, and the dispatch of group messages.

use super::*;

pub(super) fn group_id_of(envelope: &[u8]) -> Result<[u8; GROUP_ID_LEN]> {
    let env = crate::wire::group::GroupEnvelope::parse(envelope)?;
    Ok(env.header.group_id)
}

impl Agent {
    /// Encrypts `plaintext` for `peer` over its primary session, starting one from its bundle if
    /// there is none (`NoSession` if there is no bundle either). The state is saved before the
    /// envelope is returned. At most `MAX_PLAINTEXT_LEN - 1` bytes (`TooLarge` beyond): the agent
    /// prefixes every pairwise payload with a one-byte kind.
    pub fn send(&mut self, peer: &AgentId, plaintext: &[u8]) -> Result<Vec<u8>> {
        if plaintext.len() > crate::limits::MAX_PLAINTEXT_LEN - 1 {
            return Err(Error::TooLarge);
        }
        let mut p = Pending::default();
        let env = self.encrypt_to(&mut p, peer, &payload::frame(payload::APP, plaintext), true)?;
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

    /// Sets up a session with `peer` without a message: the peer's `receive` reports
    /// `SessionEstablished`.
    pub fn connect(&mut self, peer: &AgentId) -> Result<Vec<u8>> {
        let mut p = Pending::default();
        let env = self.encrypt_to(&mut p, peer, &payload::frame(payload::HELLO, &[]), true)?;
        self.apply(p)?;
        Ok(env)
    }

    /// Encrypts a framed payload to `peer`, recording the changes in `p` (which may already hold
    /// changes to that peer's session: they are used). With `accept` (the application chose to
    /// send to the peer), the peer is accepted; the agent's own answer to an invitation does not
    /// accept the inviter.
    pub(super) fn encrypt_to(
        &self,
        p: &mut Pending,
        peer: &AgentId,
        framed: &[u8],
        accept: bool,
    ) -> Result<Vec<u8>> {
        let pid = peer.to_bytes();
        let mut entry = self.pending_peer(p, &pid).unwrap_or_default();
        if accept {
            self.accept_entry(p, &mut entry)?;
        }
        let (sid, mut session) = match entry.primary {
            Some(sid) => (sid, self.pending_session(p, &sid).ok_or(Error::Internal)?),
            None => {
                let bytes = entry.bundle.as_ref().ok_or(Error::NoSession)?;
                let bundle = PrekeyBundle::from_bytes(bytes)?;
                // A one-time prekey is used once: a second session from this bundle would be
                // refused by the peer (UnknownPrekey), so the bundle is spent.
                if bundle.fields().one_time_prekey.is_some() {
                    entry.bundle = None;
                }
                self.initiate_fresh(p, &bundle)?
            }
        };
        let env = session.encrypt(framed)?;
        touch(&mut entry, sid, self.meta.now, true);
        self.put_session(p, sid, session)?;
        self.put_peer(p, pid, entry)?;
        Ok(env)
    }

    /// A new session from `bundle` whose id names no session we hold or will hold.
    /// Ids are 8 bytes of handshake output, so a clash has a chance of about n/2^64; if one
    /// happens, another ephemeral key gives another id instead of overwriting a session.
    pub(super) fn initiate_fresh(
        &self,
        p: &Pending,
        bundle: &PrekeyBundle,
    ) -> Result<([u8; SESSION_ID_LEN], Session)> {
        for _ in 0..MAX_SESSION_ID_TRIES {
            let s = Session::initiate(self.identity.keys(), bundle, self.config.session)?;
            let sid = s.session_id();
            let taken = self.sessions.contains_key(&sid) || self.pending_session(p, &sid).is_some();
            if !taken {
                return Ok((sid, s));
            }
        }
        Err(Error::Internal)
    }

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

    pub(super) fn receive_pairwise(&self, p: &mut Pending, envelope: &[u8]) -> Result<Event> {
        let env = MessageEnvelope::parse(envelope)?;
        let sid = env.session_id;
        let (session, plaintext, new_session) = match (self.sessions.get(&sid), &env.prekey) {
            (Some(existing), _) => {
                let mut s = existing.clone();
                let pt = Zeroizing::new(s.decrypt(envelope)?);
                (s, pt, false)
            }
            (None, Some(prekey)) => {
                // Refused before any computation: a first message already accepted under this
                // signed prekey (a replay, even of a session since closed or dropped), or one
                // more than the prekey's bounded set can remember.
                let spk = prekey.signed_prekey_id;
                let seen = self.first_messages.get(&spk);
                if seen.is_some_and(|set| set.contains(&sid)) {
                    return Err(Error::Duplicate);
                }
                if seen.map_or(0, |set| set.len()) >= MAX_FIRST_MESSAGES_PER_PREKEY {
                    return Err(Error::UnknownPrekey);
                }
                // A stranger's session holds few skipped keys until the peer is accepted: what a
                // flood of strangers can make the agent keep stays small (STRANGER_LIMITS).
                let stranger = !self.peers.get(&prekey.initiator).is_some_and(|e| e.accepted);
                let config = if stranger {
                    SessionConfig { limits: STRANGER_LIMITS, ..self.config.session }
                } else {
                    self.config.session
                };
                let mut id = self.identity.clone();
                let (s, pt) = Session::accept(&mut id, envelope, config)?;
                self.remember_first_message(p, &mut id, spk, sid)?;
                self.put_identity(p, id)?;
                (s, Zeroizing::new(pt), true)
            }
            (None, None) => return Err(Error::WrongSession),
        };
        let peer = session.peer_id();
        let pid = peer.to_bytes();
        let known = self.peers.get(&pid).cloned();
        if known.is_none() {
            self.admit_stranger(p);
        }
        let mut entry = known.unwrap_or_default();
        if new_session {
            match self.new_session_place(&entry, &peer) {
                NewSession::Primary => touch(&mut entry, sid, self.meta.now, true),
                NewSession::Secondary => touch(&mut entry, sid, self.meta.now, false),
                NewSession::Candidate => {
                    touch(&mut entry, sid, self.meta.now, false);
                    entry.candidate = Some(sid);
                }
            }
        } else {
            // The peer's second message on a candidate session: it holds that session.
            let promote = entry.candidate == Some(sid);
            touch(&mut entry, sid, self.meta.now, promote);
        }
        entry.heard = p.meta.unwrap_or(self.meta).next_event_seq;
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
}
