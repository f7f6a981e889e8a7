//! The Double Ratchet (Signal specification, revision 4), with XChaCha20-Poly1305 as the AEAD.
//!
//! A DH ratchet step happens whenever the direction changes (a message arrives under a ratchet key
//! not seen before); a symmetric chain step happens for every message. Decryption is
//! transactional: all changes are computed on a copy and committed only after the AEAD accepted
//! the message, so a refused message leaves the ratchet exactly as it was.

pub mod keys;
pub mod skipped;

use std::collections::VecDeque;

use zeroize::Zeroizing;

use crate::crypto::{PreparedPeer, X25519PublicKey, X25519SecretKey};
use crate::error::{Error, Result};
use crate::limits::{
    DEFAULT_MAX_FORWARD_JUMP, DEFAULT_MAX_SKIPPED_KEYS, MAX_FORWARD_JUMP_CEILING, MAX_SKIPPED_KEYS_CEILING,
};
use crate::wire::RatchetHeader;
use crate::wire::reader::{Reader, Writer};
use keys::{ChainKey, MessageKey, RootKey};
use skipped::{SkippedKey, SkippedKeys};

/// How many of the peer's past ratchet keys are remembered, so that a replayed message from a
/// finished chain is reported as `Duplicate`. Older replays are taken for a new chain and still
/// fail (`AuthFailed`, or `TooFarAhead` when their counters exceed the jump limit), changing
/// nothing either way.
pub const MAX_OLD_RATCHET_KEYS: usize = 128;
/// Bytes of each past ratchet key remembered: a prefix, since a match only chooses which error
/// to report (a chance collision with a genuine new key has probability 2^-64 per entry).
pub const OLD_RATCHET_KEY_PREFIX_LEN: usize = 8;

type KeyPrefix = [u8; OLD_RATCHET_KEY_PREFIX_LEN];

fn prefix(key: &X25519PublicKey) -> KeyPrefix {
    let mut p = [0u8; OLD_RATCHET_KEY_PREFIX_LEN];
    p.copy_from_slice(&key.as_bytes()[..OLD_RATCHET_KEY_PREFIX_LEN]);
    p
}

/// The out-of-order limits of one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest number of messages one chain may skip ahead in one step.
    pub max_forward_jump: u32,
    /// The most skipped message keys stored at once (oldest evicted first).
    pub max_skipped_keys: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_forward_jump: DEFAULT_MAX_FORWARD_JUMP, max_skipped_keys: DEFAULT_MAX_SKIPPED_KEYS }
    }
}

impl Limits {
    /// Validated limits: each at least 1 and at most its ceiling, else `InvalidArgument`.
    pub fn new(max_forward_jump: u32, max_skipped_keys: u32) -> Result<Self> {
        if !(1..=MAX_FORWARD_JUMP_CEILING).contains(&max_forward_jump)
            || !(1..=MAX_SKIPPED_KEYS_CEILING).contains(&max_skipped_keys)
        {
            return Err(Error::InvalidArgument);
        }
        Ok(Limits { max_forward_jump, max_skipped_keys })
    }
}

/// The small part of the ratchet state, copied for every decryption attempt.
#[derive(Clone)]
struct Chains {
    /// RK
    root_key: RootKey,
    /// DHs: our current ratchet key pair; none between a new remote key and our next send
    /// (a sending chain is made when it is first needed, section 6 of PROTOCOL.md).
    self_ratchet: Option<X25519SecretKey>,
    /// DHr: the peer's current ratchet public key.
    remote_ratchet: Option<X25519PublicKey>,
    /// DHr converted for Diffie-Hellman, kept from the receiving step for the sending step
    /// (not serialized: recomputed after a restore).
    remote_prepared: Option<PreparedPeer>,
    /// CKs and Ns
    sending: Option<ChainKey>,
    send_n: u32,
    /// CKr and Nr
    receiving: Option<ChainKey>,
    recv_n: u32,
    /// PN: length of our previous sending chain.
    previous_send_n: u32,
}

impl Chains {
    /// The receiving half of a DH ratchet step, on a new peer key: `CKr` from our current key
    /// and theirs. Our key and sending chain are done with: the next send makes new ones
    /// ([`send_step`](Self::send_step)). Without a key of ours (we have not sent since the
    /// peer's last new key, so no genuine message can name another) it is `AuthFailed`.
    fn receive_step(&mut self, remote: X25519PublicKey) -> Result<()> {
        let own = self.self_ratchet.as_ref().ok_or(Error::AuthFailed)?;
        let peer = remote.prepare();
        let (rk, receiving) = self.root_key.ratchet(&own.diffie_hellman_prepared(&peer)?);
        self.recv_n = 0;
        self.remote_ratchet = Some(remote);
        self.remote_prepared = Some(peer);
        self.root_key = rk;
        self.receiving = Some(receiving);
        self.self_ratchet = None;
        self.sending = None;
        Ok(())
    }

    /// The sending half: a fresh key of ours and the next sending chain with the peer's key.
    /// Computed on a copy by the caller, so that a failure (no RNG) changes nothing.
    fn send_step(&mut self) -> Result<()> {
        let remote = self.remote_ratchet.ok_or(Error::WrongState)?;
        let peer = match self.remote_prepared.take() {
            Some(p) => p,
            None => remote.prepare(),
        };
        let own = X25519SecretKey::generate()?;
        let (rk, sending) = self.root_key.ratchet(&own.diffie_hellman_prepared(&peer)?);
        self.remote_prepared = Some(peer);
        self.previous_send_n = self.send_n;
        self.send_n = 0;
        self.root_key = rk;
        self.self_ratchet = Some(own);
        self.sending = Some(sending);
        Ok(())
    }
}

/// A Double Ratchet.
#[derive(Clone)]
pub struct DoubleRatchet {
    chains: Chains,
    skipped: SkippedKeys,
    old_remote: VecDeque<KeyPrefix>,
    limits: Limits,
}

impl core::fmt::Debug for DoubleRatchet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DoubleRatchet")
            .field("send_n", &self.chains.send_n)
            .field("recv_n", &self.chains.recv_n)
            .field("skipped_keys", &self.skipped.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl DoubleRatchet {
    /// The initiator: its first sending chain comes from the handshake secret SK (KDF_FIRST),
    /// under a fresh ratchet key of its own. It can send at once.
    pub fn new_initiator(shared: RootKey, limits: Limits) -> Result<Self> {
        let (root_key, sending) = shared.first_chain();
        Ok(Self::with_chains(
            Chains {
                root_key,
                self_ratchet: Some(X25519SecretKey::generate()?),
                remote_ratchet: None,
                remote_prepared: None,
                sending: Some(sending),
                send_n: 0,
                receiving: None,
                recv_n: 0,
                previous_send_n: 0,
            },
            limits,
        ))
    }

    /// The responder, from SK and the ratchet key of the initiator's first message: that
    /// message's chain is the initiator's first (KDF_FIRST). The responder's own ratchet key and
    /// sending chain are made at its first send. A small-order `remote` is `WeakKey` (no DH
    /// with it could ever succeed).
    pub fn new_responder(shared: RootKey, remote: X25519PublicKey, limits: Limits) -> Result<Self> {
        if remote.is_small_order() {
            return Err(Error::WeakKey);
        }
        let (root_key, receiving) = shared.first_chain();
        Ok(Self::with_chains(
            Chains {
                root_key,
                self_ratchet: None,
                remote_ratchet: Some(remote),
                remote_prepared: None,
                sending: None,
                send_n: 0,
                receiving: Some(receiving),
                recv_n: 0,
                previous_send_n: 0,
            },
            limits,
        ))
    }

    fn with_chains(chains: Chains, limits: Limits) -> Self {
        DoubleRatchet { chains, skipped: SkippedKeys::default(), old_remote: VecDeque::new(), limits }
    }

    /// The session's limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Replaces the limits; stored skipped keys beyond the new cap are evicted, oldest first.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.skipped.extend(Vec::new(), limits.max_skipped_keys as usize);
    }

    /// How many skipped message keys are stored.
    pub fn skipped_key_count(&self) -> usize {
        self.skipped.len()
    }

    /// Whether this side can send: it has a sending chain, or the peer's key to make one with.
    pub fn can_send(&self) -> bool {
        self.chains.sending.is_some() || self.chains.remote_ratchet.is_some()
    }

    /// The header [`next_sending`](Self::next_sending) will produce, for its length (which
    /// decides the envelope's), without changing anything. When the next message starts a new
    /// sending chain, its ratchet key does not exist yet: the header then has an all-zero key
    /// (same length) and the numbers the new chain will have.
    pub fn peek_sending(&self) -> Result<RatchetHeader> {
        let c = &self.chains;
        match (&c.sending, &c.self_ratchet) {
            (Some(_), Some(own)) => Ok(RatchetHeader {
                ratchet_key: own.public_key(),
                previous_chain_len: c.previous_send_n,
                message_number: c.send_n,
            }),
            _ if c.remote_ratchet.is_some() => Ok(RatchetHeader {
                ratchet_key: X25519PublicKey([0; 32]),
                previous_chain_len: c.send_n,
                message_number: 0,
            }),
            _ => Err(Error::WrongState),
        }
    }

    /// RatchetEncrypt's key schedule: the header and key of the next outgoing message, after
    /// the sending half of a DH ratchet step if the peer has a new key since our last send.
    /// On error nothing changes.
    pub fn next_sending(&mut self) -> Result<(RatchetHeader, MessageKey)> {
        if self.chains.sending.is_none() {
            let mut next = self.chains.clone();
            next.send_step()?;
            self.chains = next;
        }
        let c = &mut self.chains;
        let (Some(chain), Some(own)) = (c.sending.as_mut(), c.self_ratchet.as_ref()) else {
            return Err(Error::Internal);
        };
        let next_n = c.send_n.checked_add(1).ok_or(Error::TooLarge)?;
        let header = RatchetHeader {
            ratchet_key: own.public_key(),
            previous_chain_len: c.previous_send_n,
            message_number: c.send_n,
        };
        let key = chain.step();
        c.send_n = next_n;
        Ok((header, key))
    }

    /// RatchetDecrypt: finds or derives the message key for `header`, calls `open` with it, and
    /// commits the new state only if `open` succeeds. Errors: `Duplicate`, `TooFarAhead`,
    /// `WeakKey`, or whatever `open` returns; on any error nothing changes.
    pub fn decrypt<T>(
        &mut self,
        header: &RatchetHeader,
        open: impl FnOnce(&MessageKey) -> Result<T>,
    ) -> Result<T> {
        if let Some(i) = self.skipped.find(&header.ratchet_key, header.message_number) {
            let out = open(self.skipped.get(i).ok_or(Error::Internal)?)?;
            self.skipped.remove(i);
            return Ok(out);
        }
        // The usual case, the next message of the current receiving chain: only that chain key
        // moves, so nothing else is copied (the general path below works on a copy of all).
        if self.chains.remote_ratchet == Some(header.ratchet_key)
            && header.message_number == self.chains.recv_n
        {
            let mut chain = self.chains.receiving.clone().ok_or(Error::AuthFailed)?;
            let key = chain.step();
            let recv_n = header.message_number.checked_add(1).ok_or(Error::TooLarge)?;
            let out = open(&key)?;
            self.chains.receiving = Some(chain);
            self.chains.recv_n = recv_n;
            return Ok(out);
        }
        let jump = self.limits.max_forward_jump;
        let mut next = self.chains.clone();
        let mut fresh = Vec::new();
        let new_chain = next.remote_ratchet != Some(header.ratchet_key);
        if new_chain {
            if self.old_remote.contains(&prefix(&header.ratchet_key)) {
                return Err(Error::Duplicate);
            }
            if let (Some(remote), Some(chain)) = (next.remote_ratchet, next.receiving.as_mut()) {
                skip_until(chain, &mut next.recv_n, header.previous_chain_len, remote, jump, &mut fresh)?;
            }
            next.receive_step(header.ratchet_key)?;
        } else if header.message_number < next.recv_n {
            return Err(Error::Duplicate);
        }
        // Every remote key has its receiving chain (set together); kept as a check.
        let chain = next.receiving.as_mut().ok_or(Error::AuthFailed)?;
        skip_until(chain, &mut next.recv_n, header.message_number, header.ratchet_key, jump, &mut fresh)?;
        let key = chain.step();
        next.recv_n = header.message_number.checked_add(1).ok_or(Error::TooLarge)?;
        let out = open(&key)?;

        if new_chain && let Some(old) = self.chains.remote_ratchet {
            self.old_remote.push_back(prefix(&old));
            if self.old_remote.len() > MAX_OLD_RATCHET_KEYS {
                self.old_remote.pop_front();
            }
        }
        self.chains = next;
        self.skipped.extend(fresh, self.limits.max_skipped_keys as usize);
        Ok(out)
    }

    /// Appends the ratchet's state (plaintext; the caller encrypts it). Layout in PROTOCOL.md.
    pub fn encode(&self, w: &mut Writer) {
        let c = &self.chains;
        w.bytes(c.root_key.as_bytes());
        write_opt(w, c.self_ratchet.as_ref().map(|k| Zeroizing::new(k.to_bytes())).as_deref());
        write_opt(w, c.remote_ratchet.as_ref().map(|k| k.as_bytes()));
        write_opt(w, c.sending.as_ref().map(|k| k.as_bytes()));
        w.u32(c.send_n);
        write_opt(w, c.receiving.as_ref().map(|k| k.as_bytes()));
        w.u32(c.recv_n).u32(c.previous_send_n);
        w.u32(self.limits.max_forward_jump).u32(self.limits.max_skipped_keys);
        w.u8(self.old_remote.len() as u8);
        for k in &self.old_remote {
            w.bytes(k);
        }
        w.u32(self.skipped.len() as u32);
        for k in self.skipped.iter() {
            w.bytes(k.ratchet_key.as_bytes()).u32(k.message_number).bytes(k.key.as_bytes());
        }
    }

    /// Reads what [`encode`](Self::encode) wrote; any inconsistency is `BadState`.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let root_key = RootKey::from_bytes(r.array()?);
        let self_ratchet = read_opt(r)?.map(|b| X25519SecretKey::from_bytes(*Zeroizing::new(b)));
        let remote_ratchet = read_opt(r)?.map(X25519PublicKey);
        let sending = read_opt(r)?.map(ChainKey::from_bytes);
        let send_n = r.u32()?;
        let receiving = read_opt(r)?.map(ChainKey::from_bytes);
        let recv_n = r.u32()?;
        let previous_send_n = r.u32()?;
        // What the transitions keep true: our key and our sending chain come and go together; a
        // side without them has the peer's key (to make them with); a peer key comes with its
        // receiving chain.
        let consistent = sending.is_some() == self_ratchet.is_some()
            && (self_ratchet.is_some() || remote_ratchet.is_some())
            && remote_ratchet.is_some() == receiving.is_some();
        if !consistent {
            return Err(Error::BadState);
        }
        let limits = Limits::new(r.u32()?, r.u32()?).map_err(|_| Error::BadState)?;
        let old_count = r.u8()? as usize;
        if old_count > MAX_OLD_RATCHET_KEYS {
            return Err(Error::BadState);
        }
        let mut old_remote = VecDeque::with_capacity(old_count);
        for _ in 0..old_count {
            old_remote.push_back(r.array()?);
        }
        let skipped_count = r.u32()?;
        if skipped_count > limits.max_skipped_keys {
            return Err(Error::BadState);
        }
        let mut fresh = Vec::with_capacity(skipped_count as usize);
        for _ in 0..skipped_count {
            fresh.push(SkippedKey {
                ratchet_key: X25519PublicKey(r.array()?),
                message_number: r.u32()?,
                key: MessageKey::from_bytes(r.array()?),
            });
        }
        let mut skipped = SkippedKeys::default();
        skipped.extend(fresh, limits.max_skipped_keys as usize);
        Ok(DoubleRatchet {
            chains: Chains {
                root_key,
                self_ratchet,
                remote_ratchet,
                remote_prepared: None,
                sending,
                send_n,
                receiving,
                recv_n,
                previous_send_n,
            },
            skipped,
            old_remote,
            limits,
        })
    }
}

/// Steps `chain` from `*n` up to `until`, storing each skipped message key in `fresh`.
/// Refuses a jump larger than `max_jump` with `TooFarAhead`.
fn skip_until(
    chain: &mut ChainKey,
    n: &mut u32,
    until: u32,
    ratchet_key: X25519PublicKey,
    max_jump: u32,
    fresh: &mut Vec<SkippedKey>,
) -> Result<()> {
    if until <= *n {
        return Ok(());
    }
    if until - *n > max_jump {
        return Err(Error::TooFarAhead);
    }
    while *n < until {
        fresh.push(SkippedKey { ratchet_key, message_number: *n, key: chain.step() });
        *n += 1;
    }
    Ok(())
}

fn write_opt(w: &mut Writer, v: Option<&[u8; 32]>) {
    match v {
        Some(b) => w.u8(1).bytes(b),
        None => w.u8(0),
    };
}

fn read_opt(r: &mut Reader<'_>) -> Result<Option<[u8; 32]>> {
    Ok(if r.bool()? { Some(r.array()?) } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::aead;

    /// A pair of ratchets as the handshake would leave them (the responder learns the
    /// initiator's ratchet key from its first message).
    fn pair(limits: Limits) -> (DoubleRatchet, DoubleRatchet) {
        let alice = DoubleRatchet::new_initiator(RootKey::from_bytes([7; 32]), limits).unwrap();
        let first_key = alice.peek_sending().unwrap().ratchet_key;
        let bob = DoubleRatchet::new_responder(RootKey::from_bytes([7; 32]), first_key, limits).unwrap();
        (alice, bob)
    }

    fn send(r: &mut DoubleRatchet, pt: &[u8]) -> (RatchetHeader, Vec<u8>) {
        let (h, mk) = r.next_sending().unwrap();
        (h, aead::seal(&mk.aead_key(), b"", pt).unwrap())
    }

    fn recv(r: &mut DoubleRatchet, m: &(RatchetHeader, Vec<u8>)) -> Result<Vec<u8>> {
        r.decrypt(&m.0, |mk| aead::open(&mk.aead_key(), b"", &m.1))
    }

    fn snapshot(r: &DoubleRatchet) -> Vec<u8> {
        let mut w = Writer::default();
        r.encode(&mut w);
        w.buf
    }

    #[test]
    fn the_first_chain_needs_no_diffie_hellman_and_both_sides_derive_it() {
        let (mut a, mut b) = pair(Limits::default());
        let (rk, ck) = RootKey::from_bytes([7; 32]).first_chain();
        assert_eq!(a.chains.root_key, rk);
        assert_eq!(b.chains.root_key, rk);
        assert_eq!(a.chains.sending.as_ref(), Some(&ck));
        assert_eq!(b.chains.receiving.as_ref(), Some(&ck));
        for i in 0..3u8 {
            assert_eq!(recv(&mut b, &send(&mut a, &[i])).unwrap(), [i]);
        }
    }

    #[test]
    fn the_responder_makes_its_ratchet_key_at_its_first_send() {
        let (mut a, mut b) = pair(Limits::default());
        let first = send(&mut a, b"hi");
        recv(&mut b, &first).unwrap();
        assert!(b.can_send());
        assert!(b.chains.self_ratchet.is_none() && b.chains.sending.is_none());
        let peeked = b.peek_sending().unwrap();
        let reply = send(&mut b, b"reply");
        assert_eq!((peeked.previous_chain_len, peeked.message_number), (0, 0));
        assert_eq!(peeked.ratchet_key, X25519PublicKey([0; 32]), "not made until the send");
        assert_ne!(reply.0.ratchet_key, first.0.ratchet_key);
        assert_eq!(b.chains.self_ratchet.as_ref().map(|k| k.public_key()), Some(reply.0.ratchet_key));
        assert_eq!(recv(&mut a, &reply).unwrap(), b"reply");
        // The receiving step leaves the initiator without a key until it sends again.
        assert!(a.chains.self_ratchet.is_none() && a.chains.sending.is_none());
        let again = send(&mut a, b"again");
        assert_eq!(again.0.previous_chain_len, 1);
        assert_eq!(recv(&mut b, &again).unwrap(), b"again");
    }

    #[test]
    fn an_initiator_key_of_small_order_is_refused_at_once() {
        for key in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            let r = DoubleRatchet::new_responder(
                RootKey::from_bytes([7; 32]),
                X25519PublicKey(key),
                Limits::default(),
            );
            assert_eq!(r.unwrap_err(), Error::WeakKey);
        }
    }

    #[test]
    fn a_new_peer_key_before_our_first_send_is_refused_and_changes_nothing() {
        let (mut a, mut b) = pair(Limits::default());
        recv(&mut b, &send(&mut a, b"hi")).unwrap();
        // A second initiator key, as a forger would send: the responder has no key of its own
        // to answer it with, and no genuine peer changes key before hearing from us.
        let (mut other, _) = pair(Limits::default());
        let forged = send(&mut other, b"forged");
        let before = snapshot(&b);
        assert_eq!(recv(&mut b, &forged).unwrap_err(), Error::AuthFailed);
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn inconsistent_records_are_bad_state() {
        let (a, b) = pair(Limits::default());
        let spoil: [fn(&mut Chains); 6] = [
            |c| c.self_ratchet = None,                             // initiator: no key at all
            |c| c.receiving = Some(ChainKey::from_bytes([1; 32])), // a chain without its key
            |c| c.remote_ratchet = None,                           // responder: nothing to send with
            |c| {
                // responder: no keys and no chains at all (every pairing check alone passes)
                c.remote_ratchet = None;
                c.receiving = None;
            },
            |c| c.sending = Some(ChainKey::from_bytes([1; 32])), // responder: chain, no key
            |c| c.self_ratchet = Some(X25519SecretKey::from_bytes([1; 32])), // responder: key, no chain
        ];
        for (i, f) in spoil.iter().enumerate() {
            let mut r = if i < 2 { a.clone() } else { b.clone() };
            f(&mut r.chains);
            let bytes = snapshot(&r);
            assert_eq!(
                DoubleRatchet::decode(&mut Reader::for_state(&bytes)).unwrap_err(),
                Error::BadState,
                "{i}"
            );
        }
        for r in [a, b] {
            let bytes = snapshot(&r);
            assert!(DoubleRatchet::decode(&mut Reader::for_state(&bytes)).is_ok());
        }
    }

    #[test]
    fn ping_pong_ratchets_each_direction_change() {
        let (mut a, mut b) = pair(Limits::default());
        let mut last_key = None;
        for i in 0..20u32 {
            let (s, r) = if i % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
            let m = send(s, &i.to_be_bytes());
            assert_ne!(Some(m.0.ratchet_key), last_key);
            last_key = Some(m.0.ratchet_key);
            assert_eq!(recv(r, &m).unwrap(), i.to_be_bytes());
        }
    }

    #[test]
    fn out_of_order_within_and_across_ratchet_steps() {
        let (mut a, mut b) = pair(Limits::default());
        let a1: Vec<_> = (0..5).map(|i| send(&mut a, &[i])).collect();
        assert_eq!(recv(&mut b, &a1[4]).unwrap(), [4]);
        assert_eq!(b.skipped_key_count(), 4);
        let b1 = send(&mut b, b"reply");
        assert_eq!(recv(&mut a, &b1).unwrap(), b"reply");
        let a2 = send(&mut a, b"new chain");
        assert_eq!(recv(&mut b, &a2).unwrap(), b"new chain");
        for i in [2usize, 0, 3, 1] {
            assert_eq!(recv(&mut b, &a1[i]).unwrap(), [i as u8]);
        }
        assert_eq!(b.skipped_key_count(), 0);
    }

    #[test]
    fn previous_chain_tail_is_skipped_using_pn() {
        let (mut a, mut b) = pair(Limits::default());
        recv(&mut b, &send(&mut a, b"0")).unwrap();
        recv(&mut a, &send(&mut b, b"r")).unwrap();
        let got = send(&mut a, b"got"); // a's second chain, n = 0
        let lost = send(&mut a, b"lost"); // n = 1, delayed
        recv(&mut b, &got).unwrap();
        recv(&mut a, &send(&mut b, b"r2")).unwrap();
        let third = send(&mut a, b"chain3");
        assert_eq!(third.0.previous_chain_len, 2);
        assert_eq!(recv(&mut b, &third).unwrap(), b"chain3");
        assert_eq!(b.skipped_key_count(), 1, "the tail of chain 2 was stored using PN");
        assert_eq!(recv(&mut b, &lost).unwrap(), b"lost");
    }

    #[test]
    fn replay_is_duplicate_and_state_unchanged() {
        let (mut a, mut b) = pair(Limits::default());
        let m = send(&mut a, b"once");
        recv(&mut b, &m).unwrap();
        let before = snapshot(&b);
        assert_eq!(recv(&mut b, &m).unwrap_err(), Error::Duplicate);
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn replay_from_a_finished_chain_is_duplicate() {
        let (mut a, mut b) = pair(Limits::default());
        let m = send(&mut a, b"old");
        recv(&mut b, &m).unwrap();
        recv(&mut a, &send(&mut b, b"r")).unwrap();
        recv(&mut b, &send(&mut a, b"new")).unwrap();
        let before = snapshot(&b);
        assert_eq!(recv(&mut b, &m).unwrap_err(), Error::Duplicate);
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn jump_beyond_limit_is_refused_and_state_unchanged() {
        let limits = Limits::new(10, 20).unwrap();
        let (mut a, mut b) = pair(limits);
        let msgs: Vec<_> = (0..12).map(|i| send(&mut a, &[i])).collect();
        let before = snapshot(&b);
        assert_eq!(recv(&mut b, &msgs[11]).unwrap_err(), Error::TooFarAhead);
        assert_eq!(snapshot(&b), before);
        assert_eq!(recv(&mut b, &msgs[10]).unwrap(), [10]);
        assert_eq!(b.skipped_key_count(), 10);
        assert_eq!(recv(&mut b, &msgs[11]).unwrap(), [11]);
    }

    #[test]
    fn skipped_cap_evicts_oldest_and_late_message_is_duplicate() {
        let limits = Limits::new(10, 5).unwrap();
        let (mut a, mut b) = pair(limits);
        let msgs: Vec<_> = (0..9).map(|i| send(&mut a, &[i])).collect();
        recv(&mut b, &msgs[8]).unwrap();
        assert_eq!(b.skipped_key_count(), 5);
        assert_eq!(recv(&mut b, &msgs[0]).unwrap_err(), Error::Duplicate);
        assert_eq!(recv(&mut b, &msgs[3]).unwrap(), [3]);
    }

    #[test]
    fn tampered_ciphertext_is_refused_and_state_unchanged() {
        let (mut a, mut b) = pair(Limits::default());
        let mut m = send(&mut a, b"hello");
        let last = m.1.len() - 1;
        m.1[last] ^= 1;
        let before = snapshot(&b);
        assert_eq!(recv(&mut b, &m).unwrap_err(), Error::AuthFailed);
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn forged_header_number_cannot_advance_state() {
        let (mut a, mut b) = pair(Limits::default());
        let mut m = send(&mut a, b"x");
        m.0.message_number = 5;
        let before = snapshot(&b);
        assert_eq!(recv(&mut b, &m).unwrap_err(), Error::AuthFailed);
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn small_order_ratchet_key_is_weak() {
        let (mut a, mut b) = pair(Limits::default());
        recv(&mut b, &send(&mut a, b"x")).unwrap();
        recv(&mut a, &send(&mut b, b"y")).unwrap();
        // b has a key of its own now, so a new peer key is taken through a DH.
        let mut m = send(&mut a, b"z");
        m.0.ratchet_key = X25519PublicKey([0; 32]);
        let before = snapshot(&b);
        assert_eq!(recv(&mut b, &m).unwrap_err(), Error::WeakKey);
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn a_new_small_order_key_without_an_own_key_is_auth_failed_not_weak_key() {
        // Section 6, step 3c: without DHs the step is refused before any DH, so the key's order
        // is never looked at. With DHs, the DH's all-zero output makes it WeakKey (the test above).
        let (mut a, mut b) = pair(Limits::default());
        recv(&mut b, &send(&mut a, b"x")).unwrap();
        for small in [[0u8; 32], hex_one()] {
            let mut m = send(&mut a, b"z");
            m.0.ratchet_key = X25519PublicKey(small);
            let before = snapshot(&b);
            assert_eq!(recv(&mut b, &m).unwrap_err(), Error::AuthFailed);
            assert_eq!(snapshot(&b), before);
        }
    }

    fn hex_one() -> [u8; 32] {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    }

    #[test]
    fn keys_skipped_in_two_chains_join_the_store_old_chain_first() {
        // One message skips the tail of the old chain (up to PN) and the head of the new one (up
        // to N): the old chain's keys join the store first, each chain in ascending N, so the
        // cap evicts the old chain's lowest numbers first.
        let (mut a, mut b) = pair(Limits::new(10, 3).unwrap());
        recv(&mut b, &send(&mut a, b"0.0")).unwrap();
        let old: Vec<_> = (1..3).map(|i| send(&mut a, &[0, i])).collect(); // chain 0, N = 1, 2
        recv(&mut a, &send(&mut b, b"r")).unwrap();
        let new: Vec<_> = (0..3).map(|i| send(&mut a, &[1, i])).collect(); // chain 1, N = 0, 1, 2
        assert_eq!(new[2].0.previous_chain_len, 3);
        recv(&mut b, &new[2]).unwrap();
        // Stored in order (0, 1), (0, 2), (1, 0), (1, 1); the cap of 3 evicted (0, 1).
        let stored: Vec<_> = b.skipped.iter().map(|k| (k.ratchet_key, k.message_number)).collect();
        assert_eq!(
            stored,
            vec![(old[1].0.ratchet_key, 2), (new[0].0.ratchet_key, 0), (new[0].0.ratchet_key, 1)]
        );
        assert_eq!(recv(&mut b, &old[0]).unwrap_err(), Error::Duplicate);
        assert_eq!(recv(&mut b, &old[1]).unwrap(), [0, 2]);
        assert_eq!(recv(&mut b, &new[0]).unwrap(), [1, 0]);
        assert_eq!(recv(&mut b, &new[1]).unwrap(), [1, 1]);
    }

    #[test]
    fn skipping_leaves_the_receive_counter_at_until() {
        // After skipping to N the counter is N, and the message itself makes it N + 1: the next
        // message takes the direct path, a lower one its stored key.
        let (mut a, mut b) = pair(Limits::default());
        let msgs: Vec<_> = (0..6).map(|i| send(&mut a, &[i])).collect();
        recv(&mut b, &msgs[4]).unwrap();
        assert_eq!(b.chains.recv_n, 5);
        assert_eq!(b.skipped_key_count(), 4);
        recv(&mut b, &msgs[5]).unwrap();
        assert_eq!((b.chains.recv_n, b.skipped_key_count()), (6, 4));
    }

    #[test]
    fn pn_is_read_only_when_the_ratchet_key_is_new() {
        // A message of the current receiving chain, the responder's first included (its key is
        // DHr from the start), is decrypted whatever its PN: nothing is skipped for it.
        for pn in [1, 5, u32::MAX] {
            let (mut a, mut b) = pair(Limits::default());
            let mut first = send(&mut a, b"first");
            first.0.previous_chain_len = pn;
            assert_eq!(recv(&mut b, &first).unwrap(), b"first");
            let mut next = send(&mut a, b"next");
            next.0.previous_chain_len = pn;
            let mut later = send(&mut a, b"later");
            later.0.previous_chain_len = pn;
            assert_eq!(recv(&mut b, &later).unwrap(), b"later");
            assert_eq!(recv(&mut b, &next).unwrap(), b"next");
            assert_eq!(b.skipped_key_count(), 0, "PN {pn}");
        }
    }

    #[test]
    fn limits_are_validated() {
        assert_eq!(Limits::new(0, 1), Err(Error::InvalidArgument));
        assert_eq!(Limits::new(1, 0), Err(Error::InvalidArgument));
        assert_eq!(Limits::new(MAX_FORWARD_JUMP_CEILING + 1, 1), Err(Error::InvalidArgument));
        assert_eq!(Limits::new(1, MAX_SKIPPED_KEYS_CEILING + 1), Err(Error::InvalidArgument));
        assert!(Limits::new(MAX_FORWARD_JUMP_CEILING, MAX_SKIPPED_KEYS_CEILING).is_ok());
    }

    #[test]
    fn encode_decode_round_trip_continues_conversation() {
        let (mut a, mut b) = pair(Limits::default());
        let early = send(&mut a, b"early");
        recv(&mut b, &send(&mut a, b"second")).unwrap();
        let snap = snapshot(&b);
        let mut b2 = DoubleRatchet::decode(&mut Reader::for_state(&snap)).unwrap();
        assert_eq!(snapshot(&b2), snap);
        assert_eq!(recv(&mut b2, &early).unwrap(), b"early");
        recv(&mut a, &send(&mut b2, b"back")).unwrap();
    }
}
