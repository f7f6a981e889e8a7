//! Sender Keys groups (Signal's Sender Keys, with XChaCha20-Poly1305 and Ed25519 signatures).
//!
//! Each member has, per group, its own sender key ([`sender_key::OwnSenderKey`]) and sends its
//! distribution to every other member over their pairwise sessions. A group message is encrypted
//! once, whatever the group's size, and signed; receivers verify the signature before anything
//! else. Removing a member rotates our sender key, so the removed member cannot read what we send
//! after; every remaining member does the same on its side.
//!
//! A replaced sender key of a peer stays readable for [`GROUP_KEY_GRACE_MESSAGES`] messages under
//! its newer key (messages still in flight when it rotated), then `SupersededKey`.

pub mod sender_key;

use std::collections::{BTreeMap, VecDeque};

use zeroize::Zeroizing;

use crate::crypto::aead;
use crate::error::{Error, Result};
use crate::identity::AgentId;
use crate::limits::{
    GROUP_ID_LEN, GROUP_KEY_GRACE_MESSAGES, MAX_GROUP_MEMBERS, MAX_PLAINTEXT_LEN, SIGNATURE_LEN, TAG_LEN,
};
use crate::ratchet::Limits;
use crate::state::{RecordKind, StorageKey, open_record_named, seal_record_named};
use crate::wire::Padding;
use crate::wire::group::{Distribution, GROUP_MESSAGE_HEADER_LEN, GroupEnvelope, GroupHeader, signed_digest};
use crate::wire::padding::{frame_into, framed_len};
use crate::wire::reader::{Reader, Writer};
use sender_key::{OwnSenderKey, SenderKeyState};

/// What we hold of one other member.
#[derive(Clone)]
struct Member {
    /// The member's agent id (validated once, when it was added).
    id: AgentId,
    /// Distributions must name a key id at least this (after a re-add: above the key id the
    /// member held when it was removed, so that its keys from before the removal stay dead).
    min_key_id: u32,
    /// Its newest sender key, once a distribution arrived.
    current: Option<SenderKeyState>,
    /// The key it replaced, readable for a grace window of messages under the newer one.
    previous: Option<(SenderKeyState, u32)>,
}

/// Seals and signs one group message under our next message key, into `out` (of exactly
/// [`Group::encrypted_len`]). The key steps before the seal.
fn seal_message(
    own_key: &mut OwnSenderKey,
    group_id: &[u8; GROUP_ID_LEN],
    own: &AgentId,
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let (iteration, key) = own_key.next_message_key()?;
    let header =
        GroupHeader { group_id: *group_id, sender: own.to_bytes(), key_id: own_key.key_id, iteration };
    let mut w = Writer::with_capacity(GROUP_MESSAGE_HEADER_LEN);
    header.encode(&mut w);
    let signed_len = out.len() - SIGNATURE_LEN;
    let (head, rest) = out.split_at_mut(GROUP_MESSAGE_HEADER_LEN);
    head.copy_from_slice(&w.buf);
    // Framed where the envelope carries it, then sealed in place: the message key seals this
    // message only (the chain has stepped), so the nonce is all zeros.
    let sealed = &mut rest[..signed_len - GROUP_MESSAGE_HEADER_LEN];
    let body_len = sealed.len() - TAG_LEN;
    frame_into(plaintext, &mut sealed[..body_len]);
    aead::seal_single_use_in_place(&key.aead_key(), &w.buf, sealed)?;
    let signature = own_key.sign(&signed_digest(&out[..signed_len]));
    out[signed_len..].copy_from_slice(&signature.0);
    Ok(())
}

/// Our own sender key after a message, to put into its group (see [`Group::encrypt_detached`]).
pub(crate) struct OwnKeyUpdate(OwnSenderKey);

/// A member's entry after a decryption, to put into its group (see
/// [`Group::decrypt_detached`]).
pub(crate) struct MemberUpdate(Member);

impl MemberUpdate {
    /// The member's id.
    pub(crate) fn id(&self) -> [u8; 32] {
        self.0.id.to_bytes()
    }

    /// The entry, as in the record (section 12.3).
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
    }
}

impl Member {
    /// Decrypts a message under one of this member's keys: the current one (counting down
    /// the grace window of the previous one) or, within it, the previous one. Nothing changes
    /// on any error.
    fn decrypt(
        &mut self,
        env: &GroupEnvelope<'_>,
        limits: Limits,
        sink: impl FnOnce(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let key_id = env.header.key_id;
        let current = self.current.as_mut().ok_or(Error::UnknownKeyId)?;
        if key_id == current.key_id {
            current.decrypt(env, limits, sink)?;
            if let Some((_, grace)) = self.previous.as_mut() {
                *grace -= 1;
                if *grace == 0 {
                    self.previous = None;
                }
            }
            return Ok(());
        }
        if key_id > current.key_id {
            return Err(Error::UnknownKeyId);
        }
        match self.previous.as_mut() {
            Some((prev, _)) if prev.key_id == key_id => prev.decrypt(env, limits, sink),
            _ => Err(Error::SupersededKey),
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.id.to_bytes()).u32(self.min_key_id);
        w.bool(self.current.is_some());
        if let Some(s) = &self.current {
            s.encode(w);
        }
        w.bool(self.previous.is_some());
        if let Some((s, grace)) = &self.previous {
            s.encode(w);
            w.u32(*grace);
        }
    }

    fn decode(r: &mut Reader<'_>, own: &AgentId, limits: Limits) -> Result<Self> {
        let id: [u8; 32] = r.array()?;
        let agent = valid_peer(&id, own)?;
        let min_key_id = r.u32()?;
        let current = if r.bool()? { Some(SenderKeyState::decode(r, limits)?) } else { None };
        let previous = if r.bool()? {
            let s = SenderKeyState::decode(r, limits)?;
            let grace = r.u32()?;
            if grace == 0 || grace > GROUP_KEY_GRACE_MESSAGES {
                return Err(Error::BadState);
            }
            Some((s, grace))
        } else {
            None
        };
        let consistent = match (&current, &previous) {
            (None, Some(_)) => false,
            (Some(c), Some((p, _))) => p.key_id < c.key_id,
            _ => true,
        } && current.as_ref().is_none_or(|c| c.key_id >= min_key_id);
        if !consistent {
            return Err(Error::BadState);
        }
        Ok(Member { id: agent, min_key_id, current, previous })
    }
}

/// One agent's view of a group.
#[derive(Clone)]
pub struct Group {
    group_id: [u8; GROUP_ID_LEN],
    own: AgentId,
    own_key: OwnSenderKey,
    members: BTreeMap<[u8; 32], Member>,
    /// Removed members with the next key id they may use if re-added, oldest first (bounded),
    /// so that their messages are named `MemberRemoved`.
    removed: VecDeque<([u8; 32], u32)>,
    limits: Limits,
    padding: Padding,
}

impl core::fmt::Debug for Group {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Group")
            .field("own", &self.own)
            .field("key_id", &self.own_key.key_id)
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

impl Group {
    /// A group with no other member yet, and a fresh sender key (key id 1).
    pub fn new(own: AgentId, group_id: [u8; GROUP_ID_LEN]) -> Result<Self> {
        Ok(Group {
            group_id,
            own,
            own_key: OwnSenderKey::generate(1)?,
            members: BTreeMap::new(),
            removed: VecDeque::new(),
            limits: Limits::default(),
            padding: Padding::None,
        })
    }

    /// The group id.
    pub fn group_id(&self) -> [u8; GROUP_ID_LEN] {
        self.group_id
    }

    /// Our own agent id.
    pub fn own_id(&self) -> AgentId {
        self.own
    }

    /// Our current sender key id.
    pub fn key_id(&self) -> u32 {
        self.own_key.key_id
    }

    /// The other members, in id order.
    pub fn members(&self) -> Vec<[u8; 32]> {
        self.members.keys().copied().collect()
    }

    /// Whether `id` is a member.
    pub fn is_member(&self, id: &AgentId) -> bool {
        self.members.contains_key(&id.to_bytes())
    }

    /// Sets the out-of-order limits for every sender; lowering the cap evicts now.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        for m in self.members.values_mut() {
            for s in m.current.iter_mut().chain(m.previous.iter_mut().map(|(s, _)| s)) {
                s.trim(limits.max_skipped_keys as usize);
            }
        }
    }

    /// Sets the padding of our outgoing messages.
    pub fn set_padding(&mut self, padding: Padding) {
        self.padding = padding;
    }

    /// Adds a member. Send it our [`distribution`](Self::distribution) over the pairwise session:
    /// it reads our messages from the current iteration on, never earlier ones.
    /// Errors: `InvalidArgument` (ourselves, or already a member), `TooLarge` (group full).
    pub fn add_member(&mut self, id: &AgentId) -> Result<()> {
        let key = id.to_bytes();
        if *id == self.own || self.members.contains_key(&key) {
            return Err(Error::InvalidArgument);
        }
        if self.members.len() >= MAX_GROUP_MEMBERS {
            return Err(Error::TooLarge);
        }
        let min_key_id = match self.removed.iter().position(|(r, _)| *r == key) {
            Some(i) => self.removed.remove(i).map_or(0, |(_, next)| next),
            None => 0,
        };
        self.members.insert(key, Member { id: *id, min_key_id, current: None, previous: None });
        Ok(())
    }

    /// Removes a member: its keys are erased, its later messages refused (`MemberRemoved`), and
    /// our sender key rotates. Send the new [`distribution`](Self::distribution) to every
    /// remaining member. Errors: `UnknownSender` (not a member), `RandomFailure`.
    pub fn remove_member(&mut self, id: &AgentId) -> Result<()> {
        let key = id.to_bytes();
        if !self.members.contains_key(&key) {
            return Err(Error::UnknownSender);
        }
        let fresh = OwnSenderKey::generate(self.next_key_id()?)?;
        let gone = self.members.remove(&key).ok_or(Error::UnknownSender)?;
        let next_allowed = gone
            .current
            .as_ref()
            .map_or(gone.min_key_id, |s| s.key_id.saturating_add(1))
            .max(gone.min_key_id);
        self.removed.push_back((key, next_allowed));
        if self.removed.len() > MAX_GROUP_MEMBERS {
            self.removed.pop_front();
        }
        self.own_key = fresh;
        Ok(())
    }

    /// Replaces our sender key (new key id, chain and signing key). Send the new distribution
    /// to every member.
    pub fn rotate(&mut self) -> Result<()> {
        self.own_key = OwnSenderKey::generate(self.next_key_id()?)?;
        Ok(())
    }

    /// Whether `id` was removed from the group (and not added back).
    pub fn is_removed(&self, id: &AgentId) -> bool {
        self.is_removed_bytes(&id.to_bytes())
    }

    fn is_removed_bytes(&self, id: &[u8; 32]) -> bool {
        self.removed.iter().any(|(r, _)| r == id)
    }

    fn next_key_id(&self) -> Result<u32> {
        self.own_key.key_id.checked_add(1).ok_or(Error::TooLarge)
    }

    /// Our sender-key distribution at the current iteration (secret: send it only inside a
    /// pairwise session).
    pub fn distribution(&self) -> Zeroizing<Vec<u8>> {
        self.own_key.distribution(self.group_id, self.own.to_bytes()).to_bytes()
    }

    /// Takes in a distribution that `from` (the authenticated peer of the pairwise session that
    /// carried it) sent. Errors: `WrongMessageType`, `BadEnvelope`, `WrongSession` (another
    /// group), `UnknownSender` (not a member, or a distribution of someone else's key),
    /// `MemberRemoved`, `Duplicate` (that key id is already held), `SupersededKey` (older than the
    /// held key), `WeakKey`. Nothing changes on error.
    pub fn process_distribution(&mut self, from: &AgentId, bytes: &[u8]) -> Result<()> {
        let d = Distribution::parse(bytes)?;
        if d.group_id != self.group_id {
            return Err(Error::WrongSession);
        }
        let sender = from.to_bytes();
        if d.sender != sender || *from == self.own {
            return Err(Error::UnknownSender);
        }
        if self.is_removed_bytes(&sender) {
            return Err(Error::MemberRemoved);
        }
        let member = self.members.get_mut(&sender).ok_or(Error::UnknownSender)?;
        if d.key_id < member.min_key_id {
            return Err(Error::SupersededKey);
        }
        let state = SenderKeyState::from_distribution(&d)?;
        match member.current.take() {
            None => member.current = Some(state),
            Some(cur) if d.key_id == cur.key_id => {
                member.current = Some(cur);
                return Err(Error::Duplicate);
            }
            Some(cur) if d.key_id < cur.key_id => {
                member.current = Some(cur);
                return Err(Error::SupersededKey);
            }
            Some(cur) => {
                member.previous = Some((cur, GROUP_KEY_GRACE_MESSAGES));
                member.current = Some(state);
            }
        }
        Ok(())
    }

    /// The exact length of the group message for a `len`-byte plaintext.
    pub fn encrypted_len(&self, len: usize) -> Result<usize> {
        if len > MAX_PLAINTEXT_LEN {
            return Err(Error::TooLarge);
        }
        Ok(GROUP_MESSAGE_HEADER_LEN
            + aead::single_use_sealed_len(framed_len(len, self.padding))
            + SIGNATURE_LEN)
    }

    /// Encrypts `plaintext` once for the whole group and signs it.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.encrypted_len(plaintext.len())?];
        self.encrypt_into(plaintext, &mut out)?;
        Ok(out)
    }

    /// [`encrypt`](Self::encrypt) into `out` of exactly [`encrypted_len`](Self::encrypted_len)
    /// bytes (else `BufferTooSmall`, nothing changed).
    pub fn encrypt_into(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        if out.len() != self.encrypted_len(plaintext.len())? {
            return Err(Error::BufferTooSmall);
        }
        seal_message(&mut self.own_key, &self.group_id, &self.own, plaintext, out)
    }

    /// [`encrypt`](Self::encrypt) with a copy of our own sender key: the group is not changed,
    /// and the stepped key is returned for [`apply_own_key`](Self::apply_own_key). What the
    /// agent uses, so that sending costs the same whatever the group's size.
    pub(crate) fn encrypt_detached(&self, plaintext: &[u8]) -> Result<(Vec<u8>, OwnKeyUpdate)> {
        let mut out = vec![0u8; self.encrypted_len(plaintext.len())?];
        let mut own_key = self.own_key.clone();
        seal_message(&mut own_key, &self.group_id, &self.own, plaintext, &mut out)?;
        Ok((out, OwnKeyUpdate(own_key)))
    }

    /// Puts in our own key from [`encrypt_detached`](Self::encrypt_detached) (of this group,
    /// with no change in between).
    pub(crate) fn apply_own_key(&mut self, update: OwnKeyUpdate) {
        self.own_key = update.0;
    }

    /// Decrypts a group message; returns the sender and the plaintext.
    pub fn decrypt(&mut self, bytes: &[u8]) -> Result<(AgentId, Vec<u8>)> {
        let mut plaintext = Vec::new();
        let sender = self.decrypt_with(bytes, |pt| {
            plaintext = pt.to_vec();
            Ok(())
        })?;
        Ok((sender, plaintext))
    }

    /// Decrypts a group message, handing the plaintext to `sink` before anything is committed;
    /// returns the sender. Checks, in order: format, group (`WrongSession`), sender
    /// (`MemberRemoved`, `UnknownSender`, including our own messages), key id (`UnknownKeyId`,
    /// `SupersededKey`), signature (`BadSignature`), chain (`Duplicate`, `TooFarAhead`), AEAD
    /// (`AuthFailed`). Nothing changes on any error, `sink`'s included.
    pub fn decrypt_with(&mut self, bytes: &[u8], sink: impl FnOnce(&[u8]) -> Result<()>) -> Result<AgentId> {
        let env = GroupEnvelope::parse(bytes)?;
        let sender = self.sender_of(&env)?;
        let limits = self.limits;
        let member = self.members.get_mut(&sender).ok_or(Error::UnknownSender)?;
        member.decrypt(&env, limits, sink)?;
        Ok(member.id)
    }

    /// [`decrypt`](Self::decrypt) computed on a copy of the sender's entry alone: the group is
    /// not changed, and the sender's new entry is returned for
    /// [`apply_member`](Self::apply_member). What the agent uses, so that a message costs the
    /// same in a group of two and of ten thousand.
    pub(crate) fn decrypt_detached(&self, bytes: &[u8]) -> Result<(AgentId, Vec<u8>, MemberUpdate)> {
        let env = GroupEnvelope::parse(bytes)?;
        let sender = self.sender_of(&env)?;
        let mut member = self.members.get(&sender).ok_or(Error::UnknownSender)?.clone();
        let mut plaintext = Vec::new();
        member.decrypt(&env, self.limits, |pt| {
            plaintext = pt.to_vec();
            Ok(())
        })?;
        Ok((member.id, plaintext, MemberUpdate(member)))
    }

    /// Puts in a member's entry from [`decrypt_detached`](Self::decrypt_detached) (of this
    /// group, with no change in between).
    pub(crate) fn apply_member(&mut self, update: MemberUpdate) {
        self.members.insert(update.0.id.to_bytes(), update.0);
    }

    /// The checks before any key is looked at: group (`WrongSession`), sender
    /// (`MemberRemoved`, `UnknownSender`).
    fn sender_of(&self, env: &GroupEnvelope<'_>) -> Result<[u8; 32]> {
        if env.header.group_id != self.group_id {
            return Err(Error::WrongSession);
        }
        let sender = env.header.sender;
        if self.is_removed_bytes(&sender) {
            return Err(Error::MemberRemoved);
        }
        if !self.members.contains_key(&sender) {
            return Err(Error::UnknownSender);
        }
        Ok(sender)
    }

    /// Serializes the group and encrypts it with `key` (record kind 3).
    pub fn to_sealed(&self, key: &StorageKey) -> Result<Vec<u8>> {
        self.to_sealed_named(key, b"")
    }

    /// [`to_sealed`](Self::to_sealed), bound to a record name (see [`crate::state`]).
    pub fn to_sealed_named(&self, key: &StorageKey, name: &[u8]) -> Result<Vec<u8>> {
        let mut w = Writer::with_capacity(256 + self.members.len() * 128);
        self.encode_head(&mut w);
        w.u32(self.members.len() as u32);
        for m in self.members.values() {
            m.encode(&mut w);
        }
        let plain = Zeroizing::new(w.buf);
        seal_record_named(RecordKind::Group, key, name, &plain)
    }

    /// Restores a group from [`to_sealed`](Self::to_sealed) output.
    /// Errors: `WrongStorageKey`, `BadState`, `UnsupportedVersion`.
    pub fn from_sealed(record: &[u8], key: &StorageKey) -> Result<Self> {
        Self::from_sealed_named(record, key, b"")
    }

    /// [`from_sealed`](Self::from_sealed) for a record bound to `name`.
    pub fn from_sealed_named(record: &[u8], key: &StorageKey, name: &[u8]) -> Result<Self> {
        let plain = open_record_named(RecordKind::Group, key, name, record)?;
        let mut r = Reader::for_state(&plain);
        let mut g = Self::decode_head(&mut r)?;
        let member_count = r.u32()? as usize;
        if member_count > MAX_GROUP_MEMBERS {
            return Err(Error::BadState);
        }
        for _ in 0..member_count {
            g.decode_member(&mut r)?;
        }
        r.finish()?;
        Ok(g)
    }

    /// The record's head: everything but the members (section 12.3). The agent stores it as a
    /// record of its own, and each member as another, so that a message rewrites one member.
    pub(crate) fn encode_head(&self, w: &mut Writer) {
        self.encode_head_with(&self.own_key, w);
    }

    /// [`encode_head`](Self::encode_head) with `update`'s own key in place of ours.
    pub(crate) fn encode_head_updated(&self, update: &OwnKeyUpdate, w: &mut Writer) {
        self.encode_head_with(&update.0, w);
    }

    fn encode_head_with(&self, own_key: &OwnSenderKey, w: &mut Writer) {
        w.bytes(&self.group_id)
            .bytes(&self.own.to_bytes())
            .u8(self.padding.to_u8())
            .u32(self.limits.max_forward_jump)
            .u32(self.limits.max_skipped_keys);
        own_key.encode(w);
        w.u32(self.removed.len() as u32);
        for (r, next) in &self.removed {
            w.bytes(r).u32(*next);
        }
    }

    /// One member's entry, as in the record (`Internal` if `id` is not a member).
    pub(crate) fn encode_member(&self, id: &[u8; 32], w: &mut Writer) -> Result<()> {
        self.members.get(id).ok_or(Error::Internal)?.encode(w);
        Ok(())
    }

    /// The member ids, in order.
    pub(crate) fn member_ids(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.members.keys()
    }

    /// Reads a head ([`encode_head`](Self::encode_head)): a group without members.
    pub(crate) fn decode_head(r: &mut Reader<'_>) -> Result<Self> {
        let group_id = r.array()?;
        let own = AgentId::from_stored_bytes(&r.array()?).map_err(|_| Error::BadState)?;
        let padding = Padding::from_u8(r.u8()?).ok_or(Error::BadState)?;
        let limits = Limits::new(r.u32()?, r.u32()?).map_err(|_| Error::BadState)?;
        let own_key = OwnSenderKey::decode(r)?;
        if own_key.key_id == 0 {
            return Err(Error::BadState);
        }
        let removed_count = r.u32()? as usize;
        if removed_count > MAX_GROUP_MEMBERS {
            return Err(Error::BadState);
        }
        let mut removed = VecDeque::with_capacity(removed_count);
        for _ in 0..removed_count {
            let id: [u8; 32] = r.array()?;
            valid_peer(&id, &own)?;
            if removed.iter().any(|(x, _)| *x == id) {
                return Err(Error::BadState);
            }
            removed.push_back((id, r.u32()?));
        }
        Ok(Group { group_id, own, own_key, members: BTreeMap::new(), removed, limits, padding })
    }

    /// Reads one member's entry ([`encode_member`](Self::encode_member)) into the group and
    /// returns its id. `BadState` if it is inconsistent, removed, already a member, or one too many.
    pub(crate) fn decode_member(&mut self, r: &mut Reader<'_>) -> Result<[u8; 32]> {
        let m = Member::decode(r, &self.own, self.limits)?;
        let id = m.id.to_bytes();
        if self.members.len() >= MAX_GROUP_MEMBERS
            || self.removed.iter().any(|(x, _)| *x == id)
            || self.members.insert(id, m).is_some()
        {
            return Err(Error::BadState);
        }
        Ok(id)
    }

    /// Stored skipped keys of a member's current sender key (for tests and diagnostics).
    pub fn skipped_key_count(&self, member: &AgentId) -> Option<usize> {
        self.members.get(&member.to_bytes())?.current.as_ref().map(|s| s.skipped_len())
    }
}

/// A member id in a record must be a valid agent id other than our own.
fn valid_peer(id: &[u8; 32], own: &AgentId) -> Result<AgentId> {
    let agent = AgentId::from_stored_bytes(id).map_err(|_| Error::BadState)?;
    if *id == own.to_bytes() {
        return Err(Error::BadState);
    }
    Ok(agent)
}
