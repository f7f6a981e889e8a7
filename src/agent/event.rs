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
}

impl core::fmt::Debug for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind)
            .field("peer", &self.peer)
            .field("plaintext_len", &self.plaintext.len())
            .field("new_session", &self.new_session)
            .finish_non_exhaustive()
    }
}
