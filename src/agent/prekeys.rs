//! Our prekeys: the bundle we publish, and periodic upkeep (rotation, replenishing, pruning).

use super::*;

/// What [`Agent::maintain`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Maintenance {
    /// The signed prekey was rotated.
    pub rotated_signed_prekey: bool,
    /// One-time prekeys generated.
    pub one_time_prekeys_generated: usize,
    /// Old sessions dropped.
    pub sessions_dropped: usize,
    /// Strangers (peers the application never accepted) dropped for being idle.
    pub strangers_dropped: usize,
    /// Peers whose session we started is still unanswered after `unanswered_session_secs`
    /// (listed by [`Agent::unanswered_peers`]).
    pub unanswered_sessions: usize,
}

impl Agent {
    /// Our bundle to publish. It expires when its signed prekey may be erased at the earliest:
    /// the later of one rotation period from now and two from the prekey's own rotation (the
    /// prekey is rotated out at least one period after it became current, and erased at least one
    /// period after that), so a bundle never names an erased prekey while it is valid. With
    /// `with_one_time_prekey`, a one-time prekey is handed out (and that is saved before the
    /// bundle is returned).
    pub fn bundle(&mut self, with_one_time_prekey: bool) -> Result<Vec<u8>> {
        let mut id = self.identity.clone();
        let now = now_unix();
        let period = self.config.signed_prekey_rotation_secs.max(1);
        let expires = now
            .saturating_add(period)
            .max(self.meta.signed_prekey_rotated_at.saturating_add(period.saturating_mul(2)));
        let bundle = id.bundle_at(with_one_time_prekey, now, expires - now)?.to_bytes();
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
    /// replenishes one-time prekeys, drops old non-primary sessions and idle strangers, and counts
    /// the sessions still unanswered after `unanswered_session_secs`. Returns what it did.
    pub fn maintain(&mut self, now: u64) -> Result<Maintenance> {
        let mut done = Maintenance::default();
        let mut p = Pending::default();
        let mut id = self.identity.clone();
        p.meta = Some(Meta { now, ..self.meta });
        if now.saturating_sub(self.meta.signed_prekey_rotated_at) >= self.config.signed_prekey_rotation_secs {
            self.rotate_signed_prekey(&mut p, &mut id)?;
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
            if !peer.accepted && now.saturating_sub(peer.last_used()) >= self.config.stranger_ttl_secs {
                self.drop_peer(&mut p, *pid);
                done.strangers_dropped += 1;
                continue;
            }
            let mut kept = peer.clone();
            kept.sessions.retain(|s| {
                let keep = Some(s.id) == peer.primary
                    || now.saturating_sub(s.used) < self.config.old_session_ttl_secs;
                if !keep {
                    p.closed_sessions.push(s.id);
                    p.changes.push(Change::Delete { name: session_name(&s.id) });
                    done.sessions_dropped += 1;
                }
                keep
            });
            if kept.candidate.is_some_and(|c| !kept.sessions.iter().any(|s| s.id == c)) {
                kept.candidate = None;
            }
            if kept.sessions.len() != peer.sessions.len() {
                self.put_peer(&mut p, *pid, kept)?;
            }
        }
        done.unanswered_sessions = self.unanswered_peers(now).len();
        self.put_identity(&mut p, id)?;
        let meta = p.meta.unwrap_or(self.meta);
        self.put_meta(&mut p, meta)?;
        self.apply(p)?;
        Ok(done)
    }

    /// The peers whose primary session we started and which has had no reply for
    /// `unanswered_session_secs` at `now`: the peer is gone, or the bundle it was started from
    /// was stale (its prekey erased, so the peer refuses our first messages). Fetch the peer's
    /// current bundle ([`add_bundle`](Self::add_bundle)) and [`close_session`](Self::close_session):
    /// the next send starts afresh.
    pub fn unanswered_peers(&self, now: u64) -> Vec<AgentId> {
        let mut ids: Vec<[u8; 32]> = self
            .peers
            .iter()
            .filter(|(_, peer)| {
                let Some(primary) = peer.primary else { return false };
                let Some(s) = self.sessions.get(&primary) else { return false };
                let created = peer.sessions.iter().find(|r| r.id == primary).map_or(now, |r| r.created);
                s.role() == Role::Initiator
                    && s.state() != SessionState::Active
                    && now.saturating_sub(created) >= self.config.unanswered_session_secs
            })
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids.iter().filter_map(|id| AgentId::from_bytes(id).ok()).collect()
    }

    // ---- replay protection of first messages ----

    /// Remembers that the first message of session `sid` was accepted under signed prekey `spk`
    /// (a record of its own, deleted with the prekey's set). When the current prekey's set is
    /// full, the prekey is rotated at once: its set stays until it is erased in turn.
    pub(super) fn remember_first_message(
        &self,
        p: &mut Pending,
        id: &mut Identity,
        spk: u32,
        sid: [u8; SESSION_ID_LEN],
    ) -> Result<()> {
        self.put_sealed(p, first_message_name(spk, &sid), RecordKind::FirstMessage, |w| {
            w.u32(spk).bytes(&sid);
            Ok(())
        })?;
        p.first_messages.push((spk, sid));
        let count = self.first_messages.get(&spk).map_or(0, |set| set.len()) + 1;
        if count >= MAX_FIRST_MESSAGES_PER_PREKEY && spk == id.signed_prekey_id() {
            self.rotate_signed_prekey(p, id)?;
        }
        Ok(())
    }

    /// Rotates the signed prekey of `id` (the pending identity of `p`): the previous one is
    /// erased, and with it the set of first messages accepted under it (its first messages are
    /// refused as `UnknownPrekey` from now on, so the set is no longer needed).
    pub(super) fn rotate_signed_prekey(&self, p: &mut Pending, id: &mut Identity) -> Result<()> {
        if let Some(old) = id.previous_signed_prekey_id() {
            for sid in self.first_messages.get(&old).into_iter().flatten() {
                p.changes.push(Change::Delete { name: first_message_name(old, sid) });
            }
            p.erased_first_message_sets.push(old);
        }
        id.rotate_signed_prekey()?;
        let mut meta = p.meta.unwrap_or(self.meta);
        meta.signed_prekey_rotated_at = meta.now;
        p.meta = Some(meta);
        Ok(())
    }

    // ---- the identity's records ----

    /// Stores what changed from the current (or pending) identity to `id`, and takes `id` as the
    /// pending identity: the identity record (without one-time prekeys) only if it changed, and
    /// one record per one-time prekey added, handed out or removed. A first message that uses a
    /// one-time prekey deletes one small record instead of rewriting the identity.
    pub(super) fn put_identity(&self, p: &mut Pending, id: Identity) -> Result<()> {
        let pending = p.identity.take();
        self.put_identity_changes(p, Some(pending.as_ref().unwrap_or(&self.identity)), &id)?;
        p.identity = Some(id);
        Ok(())
    }

    /// Every record of `id` when `old` is `None` (a new store), else those that differ from `old`.
    pub(super) fn put_identity_changes(
        &self,
        p: &mut Pending,
        old: Option<&Identity>,
        id: &Identity,
    ) -> Result<()> {
        if old.is_none_or(|o| o.core_plaintext() != id.core_plaintext()) {
            let value = id.to_sealed_core_named(&self.key, IDENTITY.as_bytes())?;
            p.changes.push(Change::Put { name: IDENTITY.into(), kind: RecordKind::Identity as u8, value });
        }
        // Both lists are in id order: one merge walk.
        let mut before = old.into_iter().flat_map(|o| o.one_time_prekey_marks()).peekable();
        let mut after = id.one_time_prekey_marks().peekable();
        loop {
            match (before.peek().copied(), after.peek().copied()) {
                (None, None) => break,
                (Some((gone, _)), next) if next.is_none_or(|(a, _)| gone < a) => {
                    p.changes.push(Change::Delete { name: one_time_prekey_name(gone) });
                    before.next();
                }
                (was, Some((a, published))) => {
                    let unchanged = was == Some((a, published));
                    if was.is_some_and(|(b, _)| b == a) {
                        before.next();
                    }
                    if !unchanged {
                        self.put_sealed(p, one_time_prekey_name(a), RecordKind::OneTimePrekey, |w| {
                            id.encode_one_time_prekey(a, w)
                        })?;
                    }
                    after.next();
                }
                // A remaining old key with no new one is the first arm's case.
                (Some(_), None) => break,
            }
        }
        Ok(())
    }
}
