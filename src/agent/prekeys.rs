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
}

impl Agent {
    /// Our bundle to publish. With `with_one_time_prekey`, a one-time prekey is handed out (and
    /// that is saved before the bundle is returned).
    pub fn bundle(&mut self, with_one_time_prekey: bool) -> Result<Vec<u8>> {
        let mut id = self.identity.clone();
        let bundle = id.bundle(with_one_time_prekey)?.to_bytes();
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
}
