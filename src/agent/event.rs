//! What `Agent::receive` returns.

use zeroize::Zeroizing;

use crate::identity::AgentId;
use crate::limits::GROUP_ID_LEN;

/// The kind of an event. The numeric values are the C ABI's `DMP_EVENT_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum EventKind {
    /// A pairwise message from `peer`.
    Message = 1,
    /// A group message from `peer` in `group_id`.
    GroupMessage = 2,
    /// `peer`'s sender key for `group_id` was taken in (handled inside; nothing to do).
    DistributionConsumed = 3,
    /// `peer` set up a session with us and sent no message yet.
    SessionEstablished = 4,
}

/// One received envelope, decoded.
#[derive(Clone)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Who sent it (authenticated).
    pub peer: AgentId,
    /// The group, for group events.
    pub group_id: Option<[u8; GROUP_ID_LEN]>,
    /// The plaintext (empty unless a message). Zeroized on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// Whether this envelope created a new session.
    pub new_session: bool,
    /// Whether this envelope created a new group: a distribution for a group the agent did not
    /// hold, taken as an invitation (`DistributionConsumed`, with `peer` the group's only other
    /// member, and our own sender key queued for it). Anyone who knows a group id can invite us
    /// into it first: check that `peer` is expected to invite us, else
    /// [`Agent::group_leave`](crate::Agent::group_leave).
    pub new_group: bool,
    /// The event's number, counting up per agent (used to acknowledge a retained event).
    pub seq: u64,
}

impl EventKind {
    /// The kind for its number.
    pub fn from_i32(v: i32) -> Option<Self> {
        match v {
            1 => Some(EventKind::Message),
            2 => Some(EventKind::GroupMessage),
            3 => Some(EventKind::DistributionConsumed),
            4 => Some(EventKind::SessionEstablished),
            _ => None,
        }
    }
}

impl Event {
    /// The event record's plaintext.
    pub(crate) fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut w = crate::wire::reader::Writer::with_capacity(80 + self.plaintext.len());
        w.u8(self.kind as i32 as u8)
            .bytes(&self.peer.to_bytes())
            .bool(self.group_id.is_some())
            .bytes(&self.group_id.unwrap_or([0; GROUP_ID_LEN]))
            .bool(self.new_session)
            .bool(self.new_group)
            .u64(self.seq)
            .bytes(&self.plaintext);
        Zeroizing::new(w.buf)
    }

    /// Reads what [`encode`](Self::encode) wrote.
    pub(crate) fn decode(plain: &[u8]) -> crate::error::Result<Self> {
        use crate::error::Error;
        let mut r = crate::wire::reader::Reader::for_state(plain);
        let kind = EventKind::from_i32(r.u8()? as i32).ok_or(Error::BadState)?;
        let peer = AgentId::from_bytes(&r.array()?).map_err(|_| Error::BadState)?;
        let has_group = r.bool()?;
        let gid = r.array()?;
        let new_session = r.bool()?;
        let new_group = r.bool()?;
        let seq = r.u64()?;
        let plaintext = Zeroizing::new(r.rest().to_vec());
        Ok(Event { kind, peer, group_id: has_group.then_some(gid), plaintext, new_session, new_group, seq })
    }
}

impl core::fmt::Debug for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind)
            .field("peer", &self.peer)
            .field("plaintext_len", &self.plaintext.len())
            .field("new_session", &self.new_session)
            .field("new_group", &self.new_group)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}
