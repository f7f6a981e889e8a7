//! The agent's groups: invitations, membership, group sends, and how a group is stored.

use super::*;

/// Which records of a group a change rewrites.
pub(super) struct GroupParts {
    pub(super) head: bool,
    pub(super) members: Members,
    pub(super) deleted: Option<[u8; 32]>,
}

pub(super) enum Members {
    None,
    One([u8; 32]),
    All,
}

impl GroupParts {
    /// Everything: a group new to the store.
    const ALL: GroupParts = GroupParts { head: true, members: Members::All, deleted: None };

    /// One member's keys changed.
    pub(super) fn member(id: [u8; 32]) -> GroupParts {
        GroupParts { head: false, members: Members::One(id), deleted: None }
    }
}

impl Agent {
    /// Takes in a distribution `from` sent us over our session; reciprocates when it was an
    /// invitation. Returns the group id and whether it was an invitation.
    pub(super) fn take_distribution(
        &self,
        p: &mut Pending,
        from: &AgentId,
        body: &[u8],
    ) -> Result<([u8; GROUP_ID_LEN], bool)> {
        let d = Distribution::parse(body)?;
        let gid = d.group_id;
        // Only a group we do not hold can be joined by invitation. In a group we hold, membership
        // is ours to decide: a non-member's key is refused (the caller adds the peer, then the same
        // envelope can be delivered again), so knowing a group id never earns our sender key, and
        // a removed member cannot re-add itself.
        let (mut g, invited) = match self.groups.get(&gid) {
            Some(g) if g.is_member(from) => (g.clone(), false),
            Some(g) if g.is_removed(from) => return Err(Error::MemberRemoved),
            Some(_) => return Err(Error::UnknownSender),
            None if self.config.accept_group_invites => {
                if self.groups.len() >= MAX_AGENT_GROUPS {
                    return Err(Error::TooLarge);
                }
                (Group::new(self.agent_id(), gid)?, true)
            }
            None => return Err(Error::UnknownSender),
        };
        if invited {
            g.add_member(from)?;
        }
        g.process_distribution(from, body)?;
        if invited {
            // The agent's own answer does not accept the inviter: it stays a stranger (bounded,
            // pruned when idle) until the application, told by the event's `new_group`,
            // accepts it or leaves the group.
            let ours = g.distribution();
            let env = self.encrypt_to(p, from, &payload::frame(payload::DISTRIBUTION, &ours), false)?;
            self.queue(p, from, env)?;
        }
        let parts = if invited { GroupParts::ALL } else { GroupParts::member(from.to_bytes()) };
        self.put_group(p, g, parts)?;
        Ok((gid, invited))
    }

    /// Creates a group with a fresh random id and no other member; returns the id. `TooLarge`
    /// when the agent already holds [`MAX_AGENT_GROUPS`] groups.
    pub fn group_create(&mut self) -> Result<[u8; GROUP_ID_LEN]> {
        if self.groups.len() >= MAX_AGENT_GROUPS {
            return Err(Error::TooLarge);
        }
        let gid: [u8; GROUP_ID_LEN] = crate::crypto::random::array()?;
        let g = Group::new(self.agent_id(), gid)?;
        let mut p = Pending::default();
        self.put_group(&mut p, g, GroupParts::ALL)?;
        self.apply(p)?;
        Ok(gid)
    }

    /// Adds `peer` to a group and queues our sender key for it in the outbox (over our session
    /// with it, started from its bundle if needed). Errors: `WrongSession` (no such group),
    /// `NoSession`, `InvalidArgument` (already a member, or ourselves).
    pub fn group_add(&mut self, group_id: &[u8; GROUP_ID_LEN], peer: &AgentId) -> Result<()> {
        let mut g = self.groups.get(group_id).ok_or(Error::WrongSession)?.clone();
        g.add_member(peer)?;
        let mut p = Pending::default();
        let env =
            self.encrypt_to(&mut p, peer, &payload::frame(payload::DISTRIBUTION, &g.distribution()), true)?;
        self.queue(&mut p, peer, env)?;
        // A re-added member leaves the removed list: the head changes too.
        let parts = GroupParts { head: true, members: Members::One(peer.to_bytes()), deleted: None };
        self.put_group(&mut p, g, parts)?;
        self.apply(p)
    }

    /// Removes `peer` from a group: our sender key rotates and the new one is queued for every
    /// remaining member. Errors: `WrongSession` (no such group), `UnknownSender` (not a member),
    /// `NoSession` (a remaining member we cannot reach).
    pub fn group_remove(&mut self, group_id: &[u8; GROUP_ID_LEN], peer: &AgentId) -> Result<()> {
        let mut g = self.groups.get(group_id).ok_or(Error::WrongSession)?.clone();
        g.remove_member(peer)?;
        let mut p = Pending::default();
        let dist = g.distribution();
        for member in g.members() {
            let member = AgentId::from_bytes(&member)?;
            let env =
                self.encrypt_to(&mut p, &member, &payload::frame(payload::DISTRIBUTION, &dist), true)?;
            self.queue(&mut p, &member, env)?;
        }
        let parts = GroupParts { head: true, members: Members::None, deleted: Some(peer.to_bytes()) };
        self.put_group(&mut p, g, parts)?;
        self.apply(p)
    }

    /// Forgets a group: its record and every key in it, ours included, are deleted. Nothing is
    /// sent; the other members keep our last sender key until they remove us. A distribution for
    /// the group that arrives later is an invitation again (unless invitations are refused).
    /// This is the answer to an unwanted invitation (an event with `new_group`).
    /// Errors: `WrongSession` (no such group).
    pub fn group_leave(&mut self, group_id: &[u8; GROUP_ID_LEN]) -> Result<()> {
        let g = self.groups.get(group_id).ok_or(Error::WrongSession)?;
        let mut p = Pending::default();
        p.changes.push(Change::Delete { name: group_name(group_id) });
        for id in g.member_ids() {
            p.changes.push(Change::Delete { name: member_name(group_id, id) });
        }
        p.left_groups.push(*group_id);
        self.apply(p)
    }

    /// Encrypts `plaintext` once for the whole group; send the envelope to every member
    /// ([`group_members`](Self::group_members)).
    pub fn group_send(&mut self, group_id: &[u8; GROUP_ID_LEN], plaintext: &[u8]) -> Result<Vec<u8>> {
        // Our own key stepped on a copy of it alone; only the head (which holds it) is stored.
        let g = self.groups.get(group_id).ok_or(Error::WrongSession)?;
        let (env, update) = g.encrypt_detached(plaintext)?;
        let mut p = Pending::default();
        self.put_sealed(&mut p, group_name(group_id), RecordKind::GroupHead, |w| {
            g.encode_head_updated(&update, w);
            Ok(())
        })?;
        p.group_own_keys.push((*group_id, update));
        self.apply(p)?;
        Ok(env)
    }

    /// The exact length of [`group_send`](Self::group_send)'s envelope for a `len`-byte plaintext.
    pub fn group_send_len(&self, group_id: &[u8; GROUP_ID_LEN], len: usize) -> Result<usize> {
        self.groups.get(group_id).ok_or(Error::WrongSession)?.encrypted_len(len)
    }

    /// Stores one member's new entry, and takes it for the in-memory group.
    pub(super) fn put_group_member(
        &self,
        p: &mut Pending,
        gid: [u8; GROUP_ID_LEN],
        update: MemberUpdate,
    ) -> Result<()> {
        self.put_sealed(p, member_name(&gid, &update.id()), RecordKind::GroupMember, |w| {
            update.encode(w);
            Ok(())
        })?;
        p.group_members.push((gid, update));
        Ok(())
    }

    /// Stores what `parts` says changed of group `g` (a group is stored as its head and one
    /// record per member, so that a message rewrites one member, not the whole group), and
    /// takes `g` as the new in-memory group.
    pub(super) fn put_group(&self, p: &mut Pending, g: Group, parts: GroupParts) -> Result<()> {
        let gid = g.group_id();
        if parts.head {
            self.put_sealed(p, group_name(&gid), RecordKind::GroupHead, |w| {
                g.encode_head(w);
                Ok(())
            })?;
        }
        let members: Vec<[u8; 32]> = match parts.members {
            Members::None => Vec::new(),
            Members::One(id) => vec![id],
            Members::All => g.member_ids().copied().collect(),
        };
        for id in &members {
            self.put_sealed(p, member_name(&gid, id), RecordKind::GroupMember, |w| g.encode_member(id, w))?;
        }
        if let Some(id) = parts.deleted {
            p.changes.push(Change::Delete { name: member_name(&gid, &id) });
        }
        p.groups.push((gid, g));
        Ok(())
    }
}
