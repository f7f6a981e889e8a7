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

use crate::crypto::{X25519PublicKey, X25519SecretKey};
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
    /// DHs: our current ratchet key pair.
    self_ratchet: X25519SecretKey,
    /// DHr: the peer's current ratchet public key.
    remote_ratchet: Option<X25519PublicKey>,
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
    /// DHRatchet(header): receive chain from the peer's new key, then a fresh key of ours and
    /// the next sending chain.
    fn dh_step(&mut self, remote: X25519PublicKey) -> Result<()> {
        // Both Diffie-Hellmans are with the same new remote key: convert it once.
        let peer = remote.prepare();
        let (rk, receiving) = self.root_key.ratchet(&self.self_ratchet.diffie_hellman_prepared(&peer)?);
        let self_ratchet = X25519SecretKey::generate()?;
        let (rk, sending) = rk.ratchet(&self_ratchet.diffie_hellman_prepared(&peer)?);
        self.previous_send_n = self.send_n;
        self.send_n = 0;
        self.recv_n = 0;
        self.remote_ratchet = Some(remote);
        self.root_key = rk;
        self.self_ratchet = self_ratchet;
        self.receiving = Some(receiving);
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
    /// RatchetInitAlice: the initiator, with the handshake secret SK and the responder's signed
    /// prekey as the first remote ratchet key. It can send at once.
    pub fn new_initiator(shared: RootKey, remote: X25519PublicKey, limits: Limits) -> Result<Self> {
        let self_ratchet = X25519SecretKey::generate()?;
        let (root_key, sending) = shared.ratchet(&self_ratchet.diffie_hellman(&remote)?);
        Ok(DoubleRatchet {
            chains: Chains {
                root_key,
                self_ratchet,
                remote_ratchet: Some(remote),
                sending: Some(sending),
                send_n: 0,
                receiving: None,
                recv_n: 0,
                previous_send_n: 0,
            },
            skipped: SkippedKeys::default(),
            old_remote: VecDeque::new(),
            limits,
        })
    }

    /// RatchetInitBob: the responder, with SK and its signed prekey as its first ratchet key.
    /// It can send only after its first decryption.
    pub fn new_responder(shared: RootKey, own: X25519SecretKey, limits: Limits) -> Self {
        DoubleRatchet {
            chains: Chains {
                root_key: shared,
                self_ratchet: own,
                remote_ratchet: None,
                sending: None,
                send_n: 0,
                receiving: None,
                recv_n: 0,
                previous_send_n: 0,
            },
            skipped: SkippedKeys::default(),
            old_remote: VecDeque::new(),
            limits,
        }
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

    /// Whether a sending chain exists.
    pub fn can_send(&self) -> bool {
        self.chains.sending.is_some()
    }

    /// The header [`next_sending`](Self::next_sending) will produce, without stepping anything
    /// (its length decides the envelope's).
    pub fn peek_sending(&self) -> Result<RatchetHeader> {
        let c = &self.chains;
        c.sending.as_ref().ok_or(Error::WrongState)?;
        Ok(RatchetHeader {
            ratchet_key: c.self_ratchet.public_key(),
            previous_chain_len: c.previous_send_n,
            message_number: c.send_n,
        })
    }

    /// RatchetEncrypt's key schedule: the header and key of the next outgoing message.
    pub fn next_sending(&mut self) -> Result<(RatchetHeader, MessageKey)> {
        let c = &mut self.chains;
        let chain = c.sending.as_mut().ok_or(Error::WrongState)?;
        let next_n = c.send_n.checked_add(1).ok_or(Error::TooLarge)?;
        let header = RatchetHeader {
            ratchet_key: c.self_ratchet.public_key(),
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
            next.dh_step(header.ratchet_key)?;
        } else if header.message_number < next.recv_n {
            return Err(Error::Duplicate);
        }
        // No receiving chain under the current remote key: only the initiator's initial remote key
        // (the responder's signed prekey) has none, and no genuine message uses it.
        let chain = next.receiving.as_mut().ok_or(Error::AuthFailed)?;
        skip_until(chain, &mut next.recv_n, header.message_number, header.ratchet_key, jump, &mut fresh)?;
        let key = chain.step();
        next.recv_n = header.message_number.checked_add(1).ok_or(Error::TooLarge)?;
        let out = open(&key)?;

        if new_chain {
            if let Some(old) = self.chains.remote_ratchet {
                self.old_remote.push_back(prefix(&old));
                if self.old_remote.len() > MAX_OLD_RATCHET_KEYS {
                    self.old_remote.pop_front();
                }
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
        w.bytes(&Zeroizing::new(c.self_ratchet.to_bytes())[..]);
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
        let self_ratchet = X25519SecretKey::from_bytes(*Zeroizing::new(r.array()?));
        let remote_ratchet = read_opt(r)?.map(X25519PublicKey);
        let sending = read_opt(r)?.map(ChainKey::from_bytes);
        let send_n = r.u32()?;
        let receiving = read_opt(r)?.map(ChainKey::from_bytes);
        let recv_n = r.u32()?;
        let previous_send_n = r.u32()?;
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

    /// A pair of ratchets as the handshake would leave them.
    fn pair(limits: Limits) -> (DoubleRatchet, DoubleRatchet) {
        let spk = X25519SecretKey::generate().unwrap();
        let alice =
            DoubleRatchet::new_initiator(RootKey::from_bytes([7; 32]), spk.public_key(), limits).unwrap();
        let bob = DoubleRatchet::new_responder(RootKey::from_bytes([7; 32]), spk, limits);
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
    fn responder_cannot_send_before_receiving() {
        let (_, mut bob) = pair(Limits::default());
        assert!(!bob.can_send());
        assert_eq!(bob.next_sending().unwrap_err(), Error::WrongState);
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
        let mut m = send(&mut a, b"x");
        m.0.ratchet_key = X25519PublicKey([0; 32]);
        assert_eq!(recv(&mut b, &m).unwrap_err(), Error::WeakKey);
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
