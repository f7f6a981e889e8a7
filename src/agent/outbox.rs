//! The outbox (envelopes the agent made itself, sent at least once) and retained events.

use super::*;

/// An envelope waiting to be sent.
#[derive(Clone)]
pub(super) struct Outgoing {
    pub(super) seq: u64,
    pub(super) peer: [u8; 32],
    pub(super) envelope: Vec<u8>,
}

/// An envelope in the outbox, as [`Agent::outbox_next`] gives it.
#[derive(Clone, Copy, Debug)]
pub struct OutboxEntry<'a> {
    /// Its number, for [`Agent::outbox_done`].
    pub seq: u64,
    /// Whom to send it to.
    pub peer: AgentId,
    /// The envelope.
    pub envelope: &'a [u8],
}

impl Agent {
    /// Envelopes waiting to be sent.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// The oldest envelope waiting to be sent. Send it to `entry.peer`, then call
    /// [`outbox_done`](Self::outbox_done) with `entry.seq`: only that entry is forgotten, so two
    /// threads draining the outbox, or a caller that marks an entry done after delivering a
    /// newer one, never lose an envelope that was not sent.
    pub fn outbox_next(&self) -> Option<OutboxEntry<'_>> {
        let o = self.outbox.front()?;
        Some(OutboxEntry { seq: o.seq, peer: AgentId::from_bytes(&o.peer).ok()?, envelope: &o.envelope })
    }

    /// Forgets outbox entry `seq` (it was sent). An entry already forgotten is fine (two
    /// threads may both have sent it; the receiver refuses the second copy as `Duplicate`);
    /// `InvalidArgument` for a number the outbox never gave.
    pub fn outbox_done(&mut self, seq: u64) -> Result<()> {
        if seq >= self.meta.next_outbox_seq {
            return Err(Error::InvalidArgument);
        }
        if !self.outbox.iter().any(|o| o.seq == seq) {
            return Ok(());
        }
        let p = Pending {
            changes: vec![Change::Delete { name: outbox_name(seq) }],
            outbox_done: Some(seq),
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

    pub(super) fn queue(&self, p: &mut Pending, peer: &AgentId, envelope: Vec<u8>) -> Result<()> {
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
}
