//! Identity keys, agent ids and fingerprints.
//!
//! An agent's identity is an Ed25519 key pair; its 32-byte public key is the agent id. The X25519
//! identity key used in the handshake is the *same* key in Montgomery form (the birational map
//! of RFC 7748 section 4.1; libsodium's `crypto_sign_ed25519_pk_to_curve25519`), so an agent id
//! alone determines the DH identity key and no second key needs to be signed or carried. The
//! joint security of Ed25519 and X25519 on one key is analysed in ePrint 2021/509
//! (Thormarker); docs/PROTOCOL.md records this choice.

use std::collections::BTreeMap;

use zeroize::{Zeroize, Zeroizing};

use crate::crypto::kdf::sha256;
use crate::crypto::kem::{KemPublicKey, KemSecretKey};
use crate::crypto::sign::hex;
use crate::crypto::{PreparedPeer, Signature, SigningKey, VerifyingKey, X25519PublicKey, X25519SecretKey};
use crate::error::{Error, Result};
use crate::limits::{FINGERPRINT_LEN, MAX_ONE_TIME_PREKEYS, PUBLIC_KEY_LEN, SECRET_KEY_LEN};
use crate::prekey::{
    DEFAULT_BUNDLE_LIFETIME_SECS, OneTimePrekey, PrekeyBundle, SignedPrekey, Suite, bundle_fields, unix_now,
};
use crate::state::{RecordKind, StorageKey, open_record_named, seal_record_named};
use crate::wire::bundle::KemPrekeyKind;
use crate::wire::reader::{Reader, Writer};

const FINGERPRINT_LABEL: &[u8] = b"DMP1 fingerprint";

/// The first bytes of every message DMP itself signs with an identity key (the bundle's
/// `"DMP1 prekey bundle"`, and any later version's labels). [`IdentityKeyPair::sign`] refuses
/// application messages that begin with them, so that no application signature can ever be
/// taken for a protocol one (a signed "bundle" of someone else's prekeys would let them stand in
/// the middle of every new session).
pub const RESERVED_SIGNING_PREFIX: &[u8] = b"DMP";

/// The label of an agent record's signature (the network node's signed binding of an agent id to
/// its libp2p peer id, addresses and bundle: PROTOCOL section 17): the identity signs
/// `AGENT_RECORD_LABEL || record`. Distinct from the bundle's label, so neither can pass for the
/// other.
pub const AGENT_RECORD_LABEL: &[u8] = b"DMP1 agent record";

/// An agent id: the agent's Ed25519 public key, validated (decodes canonically, in the
/// prime-order subgroup).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AgentId(VerifyingKey);

impl core::fmt::Debug for AgentId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AgentId({})", hex(&self.to_bytes()))
    }
}

impl AgentId {
    /// Validates 32 bytes as an agent id: `BadEnvelope` if they do not decode to a curve point
    /// (or not canonically), `WeakKey` if the point is not in the prime-order subgroup: of small
    /// order, or `A + T` with a small-order `T` (libsodium's `crypto_sign_ed25519_pk_to_curve25519`
    /// refuses the same points). X25519 clamps its scalars to multiples of the cofactor, so
    /// `A + T` has the same X25519 identity key as `A`: without this check eight ids would share
    /// one DH identity. (`-A` shares it too, and cannot be refused: see docs/PROTOCOL.md section 2.)
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<Self> {
        let key = VerifyingKey::from_bytes(bytes)?;
        if !key.to_edwards().is_torsion_free() {
            return Err(Error::WeakKey);
        }
        Ok(AgentId(key))
    }

    /// An id read back from our own state (a sealed record, or a map an id validated by
    /// [`from_bytes`](Self::from_bytes) was filed under): decoding and the small-order check
    /// only. The subgroup check (a scalar multiplication, some 20 us) was made when the id came
    /// in from a peer or a caller, and a record is authenticated under the storage key: a group
    /// of 10,000 members is not checked again at each load or listing.
    pub(crate) fn from_stored_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<Self> {
        Ok(AgentId(VerifyingKey::from_bytes(bytes)?))
    }

    /// The 32-byte id.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0.to_bytes()
    }

    /// The Ed25519 key, for verifying this agent's signatures.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    /// IK in X25519 form, for the handshake.
    pub fn dh_public_key(&self) -> X25519PublicKey {
        X25519PublicKey(self.0.to_x25519_public_bytes())
    }

    /// [`dh_public_key`](Self::dh_public_key) ready for Diffie-Hellman, straight from the
    /// Edwards point (no conversion to Montgomery form and back).
    pub fn dh_peer(&self) -> PreparedPeer {
        PreparedPeer::from_edwards(self.0.to_edwards())
    }

    /// A short text for people to compare out of band: the first 16 bytes of
    /// SHA-256("DMP1 fingerprint" || id) as 8 groups of 4 hex digits, e.g. `"1a2b 3c4d ... 7e8f"`.
    pub fn fingerprint(&self) -> String {
        let digest = sha256(&[FINGERPRINT_LABEL, &self.to_bytes()]);
        let text = digest[..16].chunks(2).map(hex).collect::<Vec<_>>().join(" ");
        debug_assert_eq!(text.len(), FINGERPRINT_LEN);
        text
    }
}

/// An identity key pair: the Ed25519 signing key and its X25519 form.
#[derive(Clone)]
pub struct IdentityKeyPair {
    signing: SigningKey,
    dh: X25519SecretKey,
}

impl core::fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "IdentityKeyPair({:?})", self.agent_id())
    }
}

impl IdentityKeyPair {
    /// A fresh identity from the OS random number generator.
    pub fn generate() -> Result<Self> {
        Ok(Self::from_signing_key(SigningKey::generate()?))
    }

    /// The identity for a 32-byte seed: the same seed always gives the same identity.
    pub fn from_seed(seed: &[u8; SECRET_KEY_LEN]) -> Self {
        Self::from_signing_key(SigningKey::from_seed(seed))
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        let mut scalar = signing.to_x25519_secret_bytes();
        let dh = X25519SecretKey::from_bytes(scalar);
        scalar.zeroize();
        IdentityKeyPair { signing, dh }
    }

    /// The 32-byte seed this identity derives from (secret: store it encrypted).
    pub fn seed(&self) -> [u8; SECRET_KEY_LEN] {
        self.signing.to_seed()
    }

    /// The agent id. Always valid: a seed never yields a small-order key.
    pub fn agent_id(&self) -> AgentId {
        AgentId(self.signing.verifying_key())
    }

    /// Signs an application message with the identity key: a plain Ed25519 signature that
    /// verifies under the agent id. `InvalidArgument` for a message that begins with
    /// [`RESERVED_SIGNING_PREFIX`]: those are the protocol's own.
    pub fn sign(&self, msg: &[u8]) -> Result<Signature> {
        if msg.starts_with(RESERVED_SIGNING_PREFIX) {
            return Err(Error::InvalidArgument);
        }
        Ok(self.signing.sign(msg))
    }

    /// Signs a message of the protocol's own (its label begins with [`RESERVED_SIGNING_PREFIX`]).
    pub(crate) fn sign_protocol(&self, msg: &[u8]) -> Signature {
        debug_assert!(msg.starts_with(RESERVED_SIGNING_PREFIX));
        self.signing.sign(msg)
    }

    /// The X25519 form of the identity secret, for the handshake.
    pub(crate) fn dh_secret(&self) -> &X25519SecretKey {
        &self.dh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_deterministic_and_distinct() {
        let a = IdentityKeyPair::from_seed(&[1; 32]);
        let b = IdentityKeyPair::from_seed(&[1; 32]);
        let c = IdentityKeyPair::from_seed(&[2; 32]);
        assert_eq!(a.agent_id(), b.agent_id());
        assert_ne!(a.agent_id(), c.agent_id());
        assert_eq!(a.seed(), [1; 32]);
    }

    #[test]
    fn random_identities_differ() {
        let a = IdentityKeyPair::generate().unwrap();
        let b = IdentityKeyPair::generate().unwrap();
        assert_ne!(a.agent_id(), b.agent_id());
    }

    #[test]
    fn fingerprint_has_fixed_shape_and_depends_on_id() {
        let a = IdentityKeyPair::from_seed(&[1; 32]).agent_id().fingerprint();
        let b = IdentityKeyPair::from_seed(&[2; 32]).agent_id().fingerprint();
        assert_eq!(a.len(), FINGERPRINT_LEN);
        assert_eq!(a.split(' ').count(), 8);
        assert!(a.split(' ').all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_hexdigit())));
        assert_ne!(a, b);
        assert_eq!(a, IdentityKeyPair::from_seed(&[1; 32]).agent_id().fingerprint());
    }

    #[test]
    fn dh_forms_agree() {
        let id = IdentityKeyPair::generate().unwrap();
        // The prepared form gives the same shared secret as the X25519 public key.
        let other = crate::crypto::X25519SecretKey::generate().unwrap();
        assert_eq!(
            other.diffie_hellman_prepared(&id.agent_id().dh_peer()).unwrap().as_bytes(),
            other.diffie_hellman(&id.agent_id().dh_public_key()).unwrap().as_bytes()
        );
        assert_eq!(id.dh_secret().public_key(), id.agent_id().dh_public_key());
    }

    #[test]
    fn signatures_verify_under_agent_id() {
        let id = IdentityKeyPair::generate().unwrap();
        let sig = id.sign(b"hello").unwrap();
        id.agent_id().verifying_key().verify(b"hello", &sig).unwrap();
    }

    #[test]
    fn application_signatures_cannot_be_protocol_signatures() {
        let id = IdentityKeyPair::generate().unwrap();
        // What a bundle's signature covers begins with its label; an application cannot get it
        // signed, nor anything else in the reserved space.
        let mut bundle_message = crate::wire::bundle::BUNDLE_SIGNATURE_LABEL.to_vec();
        bundle_message.extend_from_slice(&[0x01; 70]);
        assert!(bundle_message.starts_with(RESERVED_SIGNING_PREFIX));
        for msg in [&bundle_message[..], b"DMP", b"DMP2 anything"] {
            assert_eq!(id.sign(msg).unwrap_err(), Error::InvalidArgument);
        }
        // Messages that only come close are signed.
        for msg in [&b"DM"[..], b"dmp1 prekey bundle", b" DMP1", b""] {
            id.agent_id().verifying_key().verify(msg, &id.sign(msg).unwrap()).unwrap();
        }
    }

    #[test]
    fn ids_outside_the_prime_order_subgroup_are_weak() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let a = IdentityKeyPair::generate().unwrap().agent_id();
        let point = a.verifying_key().to_edwards();
        // A + T for each small-order T but the identity: the same X25519 key as A once clamped
        // (X25519 multiplies by a multiple of 8), so each would be a second id for one DH key.
        for t in &EIGHT_TORSION[1..] {
            let mixed = (point + t).compress().to_bytes();
            assert_eq!(AgentId::from_bytes(&mixed).unwrap_err(), Error::WeakKey);
        }
        // T alone (small order) stays weak; A itself is fine.
        for t in &EIGHT_TORSION {
            assert_eq!(AgentId::from_bytes(&t.compress().to_bytes()).unwrap_err(), Error::WeakKey);
        }
        assert_eq!(AgentId::from_bytes(&a.to_bytes()).unwrap(), a);
        // -A is in the prime-order subgroup and is accepted: its X25519 key is A's (Montgomery u
        // ignores the sign), which the AD binding of the Ed25519 ids makes harmless (PROTOCOL 2).
        let neg = AgentId::from_bytes(&(-point).compress().to_bytes()).unwrap();
        assert_ne!(neg, a);
        assert_eq!(neg.dh_public_key(), a.dh_public_key());
    }

    #[test]
    fn debug_prints_only_public_id() {
        let id = IdentityKeyPair::from_seed(&[0x42; 32]);
        let s = format!("{id:?}");
        assert!(s.contains(&hex(&id.agent_id().to_bytes())));
        assert!(!s.contains(&hex(&[0x42; 32])));
    }
}

/// An agent's own identity with its prekeys: what a responder needs to accept sessions.
///
/// Every prekey is fresh randomness, also in an identity made from a seed: the seed gives the
/// identity key only. Signed prekey ids and one-time prekey ids each count up from a random
/// start (see [`PREKEY_ID_START_MAX`]) and are never reused. A hybrid identity (the default)
/// pairs every prekey with an ML-KEM-768 prekey of the same id.
#[derive(Clone)]
pub struct Identity {
    keys: IdentityKeyPair,
    suite: Suite,
    signed_prekey: SignedPrekey,
    previous_signed_prekey: Option<SignedPrekey>,
    one_time_prekeys: BTreeMap<u32, OneTimePrekey>,
    next_signed_prekey_id: u32,
    next_one_time_prekey_id: u32,
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("agent_id", &self.keys.agent_id())
            .field("suite", &self.suite)
            .field("signed_prekey_id", &self.signed_prekey.id)
            .field("one_time_prekeys", &self.one_time_prekeys.len())
            .finish()
    }
}

/// A new identity's first signed prekey id, and its first one-time prekey id, are each drawn
/// uniformly from `1..=PREKEY_ID_START_MAX`. An identity made again from its seed in a new store
/// (its old store lost) thus names its prekeys with ids its earlier self almost surely never
/// used (an overlap with `n` earlier ids has a chance of about `n / 2^31`), so a first message
/// made from an earlier bundle, or replayed, fails with `UnknownPrekey`. (Were an id to
/// coincide, the prekey behind it is still fresh randomness: the message fails `AuthFailed`.)
/// Counting up from at most 2^31 leaves at least 2^31 - 1 ids: weekly rotations never run out,
/// and 100,000 one-time prekeys a day last 58 years.
pub const PREKEY_ID_START_MAX: u32 = 1 << 31;

fn random_prekey_id_start() -> Result<u32> {
    let r = u32::from_be_bytes(crate::crypto::random::array()?);
    Ok(1 + r % PREKEY_ID_START_MAX)
}

impl Identity {
    /// A fresh random hybrid identity with a first signed prekey and no one-time prekeys.
    pub fn generate() -> Result<Self> {
        Self::generate_with(Suite::Hybrid)
    }

    /// A fresh random identity of `suite`.
    pub fn generate_with(suite: Suite) -> Result<Self> {
        Self::with_fresh_prekeys(IdentityKeyPair::generate()?, suite)
    }

    /// The hybrid identity for a 32-byte seed.
    pub fn from_seed(seed: &[u8; SECRET_KEY_LEN]) -> Result<Self> {
        Self::from_seed_with(seed, Suite::Hybrid)
    }

    /// The identity of `suite` for a 32-byte seed. Only the identity key (so the agent id and
    /// the ability to sign) comes from the seed; the prekeys and their ids are fresh randomness,
    /// as in [`generate_with`](Self::generate_with). Two identities made from one seed share the
    /// agent id and nothing else: neither can read first messages made from the other's bundles
    /// (`UnknownPrekey`), so erasing a rotated prekey erases it for good, whoever later learns
    /// the seed.
    pub fn from_seed_with(seed: &[u8; SECRET_KEY_LEN], suite: Suite) -> Result<Self> {
        Self::with_fresh_prekeys(IdentityKeyPair::from_seed(seed), suite)
    }

    fn with_fresh_prekeys(keys: IdentityKeyPair, suite: Suite) -> Result<Self> {
        let spk_id = random_prekey_id_start()?;
        let signed_prekey = SignedPrekey::generate(spk_id, suite)?;
        Ok(Identity {
            keys,
            suite,
            signed_prekey,
            previous_signed_prekey: None,
            one_time_prekeys: BTreeMap::new(),
            next_signed_prekey_id: spk_id + 1,
            next_one_time_prekey_id: random_prekey_id_start()?,
        })
    }

    /// The id of the previous signed prekey, still held for first messages in flight.
    pub fn previous_signed_prekey_id(&self) -> Option<u32> {
        self.previous_signed_prekey.as_ref().map(|k| k.id)
    }

    /// The identity key pair.
    pub fn keys(&self) -> &IdentityKeyPair {
        &self.keys
    }

    /// The agent id.
    pub fn agent_id(&self) -> AgentId {
        self.keys.agent_id()
    }

    /// Classical or hybrid.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The id of the current signed prekey.
    pub fn signed_prekey_id(&self) -> u32 {
        self.signed_prekey.id
    }

    /// The public ML-KEM prekey paired with the current signed prekey (hybrid identities).
    pub fn last_resort_kem_public_key(&self) -> Option<KemPublicKey> {
        self.signed_prekey.kem.as_ref().map(|k| k.public_key())
    }

    /// Replaces the signed prekey (and its last-resort KEM prekey) with fresh ones and returns
    /// the new id. The replaced one stays usable for sessions until the next rotation; the one
    /// before it is erased.
    pub fn rotate_signed_prekey(&mut self) -> Result<u32> {
        let id = self.next_signed_prekey_id;
        let next = id.checked_add(1).ok_or(Error::TooLarge)?;
        let fresh = SignedPrekey::generate(id, self.suite)?;
        self.previous_signed_prekey = Some(std::mem::replace(&mut self.signed_prekey, fresh));
        self.next_signed_prekey_id = next;
        Ok(id)
    }

    /// Generates `count` one-time prekeys. Refused with `TooLarge` (and nothing generated) if
    /// that would hold more than [`MAX_ONE_TIME_PREKEYS`].
    pub fn generate_one_time_prekeys(&mut self, count: usize) -> Result<()> {
        if count > MAX_ONE_TIME_PREKEYS - self.one_time_prekeys.len() {
            return Err(Error::TooLarge);
        }
        let mut fresh = Vec::with_capacity(count);
        let mut next = self.next_one_time_prekey_id;
        for _ in 0..count {
            fresh.push(OneTimePrekey::generate(next, self.suite)?);
            next = next.checked_add(1).ok_or(Error::TooLarge)?;
        }
        self.one_time_prekeys.extend(fresh.into_iter().map(|k| (k.id, k)));
        self.next_one_time_prekey_id = next;
        Ok(())
    }

    /// How many one-time prekeys are held (published or not).
    pub fn one_time_prekey_count(&self) -> usize {
        self.one_time_prekeys.len()
    }

    /// Deletes up to `count` one-time prekeys that were handed out but never used, oldest first,
    /// and returns how many went. For a full pool: a session started from a bundle that old
    /// then fails with `UnknownPrekey`.
    pub fn forget_oldest_published_one_time_prekeys(&mut self, count: usize) -> usize {
        let old: Vec<u32> =
            self.one_time_prekeys.values().filter(|k| k.published).map(|k| k.id).take(count).collect();
        for id in &old {
            self.one_time_prekeys.remove(id);
        }
        old.len()
    }

    /// How many one-time prekeys have not yet been handed out in a bundle.
    pub fn unpublished_one_time_prekey_count(&self) -> usize {
        self.one_time_prekeys.values().filter(|k| !k.published).count()
    }

    /// The length of the bundle [`bundle`](Self::bundle) returns.
    pub fn bundle_len(&self, with_one_time_prekey: bool) -> usize {
        crate::wire::bundle::BUNDLE_LEN
            + if with_one_time_prekey { crate::wire::bundle::BUNDLE_ONE_TIME_PREKEY_BLOCK_LEN } else { 0 }
            + if self.suite == Suite::Hybrid { crate::wire::bundle::BUNDLE_KEM_BLOCK_LEN } else { 0 }
    }

    /// A bundle for others to start sessions with, valid from the system clock's now for
    /// [`DEFAULT_BUNDLE_LIFETIME_SECS`] (two default signed-prekey rotation periods). With
    /// `with_one_time_prekey`, it carries the oldest one-time prekey not yet handed out
    /// (generating one if none is left) and marks it handed out, so that two bundles never carry
    /// the same one.
    pub fn bundle(&mut self, with_one_time_prekey: bool) -> Result<PrekeyBundle> {
        self.bundle_at(with_one_time_prekey, unix_now(), DEFAULT_BUNDLE_LIFETIME_SECS)
    }

    /// [`bundle`](Self::bundle) made at time `now` (Unix seconds) and valid for `lifetime_secs`:
    /// its signed expiry is `now + lifetime_secs` (saturating). A lifetime of 0 is
    /// `InvalidArgument`. Choose it no longer than the time the current signed prekey will
    /// still be held (the rest of its current period plus one more rotation period).
    pub fn bundle_at(
        &mut self,
        with_one_time_prekey: bool,
        now: u64,
        lifetime_secs: u64,
    ) -> Result<PrekeyBundle> {
        if lifetime_secs == 0 {
            return Err(Error::InvalidArgument);
        }
        let expires_at = now.saturating_add(lifetime_secs);
        if !with_one_time_prekey {
            return PrekeyBundle::verify_at(
                bundle_fields(&self.keys, &self.signed_prekey, None, expires_at),
                now,
            );
        }
        let fresh = if self.unpublished_one_time_prekey_count() == 0 {
            Some(OneTimePrekey::generate(self.next_one_time_prekey_id, self.suite)?)
        } else {
            None
        };
        let candidate = fresh
            .as_ref()
            .or_else(|| self.one_time_prekeys.values().find(|k| !k.published))
            .ok_or(Error::Internal)?;
        let id = candidate.id;
        // Verified before anything is marked or added: a failure changes nothing.
        let bundle = PrekeyBundle::verify_at(
            bundle_fields(&self.keys, &self.signed_prekey, Some(candidate), expires_at),
            now,
        )?;
        if let Some(k) = fresh {
            if self.one_time_prekeys.len() >= MAX_ONE_TIME_PREKEYS {
                return Err(Error::TooLarge);
            }
            self.next_one_time_prekey_id = id.checked_add(1).ok_or(Error::TooLarge)?;
            self.one_time_prekeys.insert(id, k);
        }
        if let Some(k) = self.one_time_prekeys.get_mut(&id) {
            k.published = true;
        }
        Ok(bundle)
    }

    /// The signed prekey `id` (current or previous), or `UnknownPrekey`.
    pub(crate) fn signed_prekey(&self, id: u32) -> Result<&SignedPrekey> {
        std::iter::once(&self.signed_prekey)
            .chain(self.previous_signed_prekey.as_ref())
            .find(|k| k.id == id)
            .ok_or(Error::UnknownPrekey)
    }

    /// The secret of the signed prekey `id` (current or previous), or `UnknownPrekey`.
    #[cfg(test)]
    pub(crate) fn signed_prekey_secret(&self, id: u32) -> Result<&X25519SecretKey> {
        Ok(&self.signed_prekey(id)?.secret)
    }

    /// The secret of one-time prekey `id`, or `UnknownPrekey` (never existed, or already used).
    pub(crate) fn one_time_prekey_secret(&self, id: u32) -> Result<&X25519SecretKey> {
        self.one_time_prekeys.get(&id).map(|k| &k.secret).ok_or(Error::UnknownPrekey)
    }

    /// The ML-KEM secret of `kind` and `id`, or `UnknownPrekey`.
    pub(crate) fn kem_prekey_secret(&self, kind: KemPrekeyKind, id: u32) -> Result<&KemSecretKey> {
        let kem = match kind {
            KemPrekeyKind::LastResort => self.signed_prekey(id)?.kem.as_ref(),
            KemPrekeyKind::OneTime => self.one_time_prekeys.get(&id).and_then(|k| k.kem.as_ref()),
        };
        kem.ok_or(Error::UnknownPrekey)
    }

    /// Deletes a used one-time prekey (X25519 and ML-KEM halves; zeroized on drop).
    pub(crate) fn consume_one_time_prekey(&mut self, id: u32) {
        self.one_time_prekeys.remove(&id);
    }

    /// Serializes and encrypts the identity with `key` (record kind 2).
    pub fn to_sealed(&self, key: &StorageKey) -> Result<Vec<u8>> {
        self.to_sealed_named(key, b"")
    }

    /// [`to_sealed`](Self::to_sealed), bound to a record name (see [`crate::state`]).
    pub fn to_sealed_named(&self, key: &StorageKey, name: &[u8]) -> Result<Vec<u8>> {
        let plain = self.encode(true);
        seal_record_named(RecordKind::Identity, key, name, &plain)
    }

    /// The identity record without its one-time prekeys (count 0). The agent stores each
    /// one-time prekey as a record of its own, so that a first message deletes one small record
    /// instead of rewriting this one. [`from_sealed_named`](Self::from_sealed_named) reads it.
    pub fn to_sealed_core_named(&self, key: &StorageKey, name: &[u8]) -> Result<Vec<u8>> {
        let plain = self.encode(false);
        seal_record_named(RecordKind::Identity, key, name, &plain)
    }

    /// The plaintext of the identity record without its one-time prekeys: equal for two
    /// identities exactly when such a record of them would be.
    pub(crate) fn core_plaintext(&self) -> Zeroizing<Vec<u8>> {
        self.encode(false)
    }

    fn encode(&self, with_one_time_prekeys: bool) -> Zeroizing<Vec<u8>> {
        let otks = if with_one_time_prekeys { self.one_time_prekeys.len() } else { 0 };
        let mut w = Writer::with_capacity(512 + otks * 170);
        let mut seed = Zeroizing::new(self.keys.seed());
        w.bytes(&seed[..]);
        seed.zeroize();
        w.u8(self.suite as u8);
        write_signed_prekey(&mut w, &self.signed_prekey);
        w.bool(self.previous_signed_prekey.is_some());
        if let Some(p) = &self.previous_signed_prekey {
            write_signed_prekey(&mut w, p);
        }
        w.u32(self.next_signed_prekey_id).u32(self.next_one_time_prekey_id);
        w.u32(otks as u32);
        if with_one_time_prekeys {
            for k in self.one_time_prekeys.values() {
                write_one_time_prekey(&mut w, k);
            }
        }
        Zeroizing::new(w.buf)
    }

    /// The one-time prekeys held, in id order, with whether each was handed out in a bundle.
    pub(crate) fn one_time_prekey_marks(&self) -> impl Iterator<Item = (u32, bool)> + '_ {
        self.one_time_prekeys.values().map(|k| (k.id, k.published))
    }

    /// Writes one-time prekey `id` as one entry of the identity record's list (the plaintext of
    /// the agent's one-time prekey record). `Internal` if it is not held.
    pub(crate) fn encode_one_time_prekey(&self, id: u32, w: &mut Writer) -> Result<()> {
        write_one_time_prekey(w, self.one_time_prekeys.get(&id).ok_or(Error::Internal)?);
        Ok(())
    }

    /// Reads one entry of the list (as [`encode_one_time_prekey`](Self::encode_one_time_prekey)
    /// wrote it) and holds it; returns its id. `BadState` if it is malformed, of the other
    /// suite, not below the next id to hand out, already held, or the pool is full.
    pub(crate) fn insert_one_time_prekey(&mut self, r: &mut Reader<'_>) -> Result<u32> {
        let k = read_one_time_prekey(r, self.suite)?;
        let id = k.id;
        if id >= self.next_one_time_prekey_id
            || self.one_time_prekeys.len() >= MAX_ONE_TIME_PREKEYS
            || self.one_time_prekeys.contains_key(&id)
        {
            return Err(Error::BadState);
        }
        self.one_time_prekeys.insert(id, k);
        Ok(id)
    }

    /// Decrypts and parses an identity record. Errors: `WrongStorageKey`, `BadState`,
    /// `UnsupportedVersion`.
    pub fn from_sealed(record: &[u8], key: &StorageKey) -> Result<Self> {
        Self::from_sealed_named(record, key, b"")
    }

    /// [`from_sealed`](Self::from_sealed) for a record bound to `name`.
    pub fn from_sealed_named(record: &[u8], key: &StorageKey, name: &[u8]) -> Result<Self> {
        let plain = open_record_named(RecordKind::Identity, key, name, record)?;
        let mut r = Reader::for_state(&plain);
        let seed = Zeroizing::new(r.array::<SECRET_KEY_LEN>()?);
        let keys = IdentityKeyPair::from_seed(&seed);
        let suite = Suite::from_u8(r.u8()?).ok_or(Error::BadState)?;
        let signed_prekey = read_signed_prekey(&mut r, suite)?;
        let previous_signed_prekey = if r.bool()? { Some(read_signed_prekey(&mut r, suite)?) } else { None };
        let next_signed_prekey_id = r.u32()?;
        let next_one_time_prekey_id = r.u32()?;
        let count = r.u32()? as usize;
        if count > MAX_ONE_TIME_PREKEYS {
            return Err(Error::BadState);
        }
        let mut one_time_prekeys = BTreeMap::new();
        for _ in 0..count {
            let k = read_one_time_prekey(&mut r, suite)?;
            let id = k.id;
            if id >= next_one_time_prekey_id || one_time_prekeys.insert(id, k).is_some() {
                return Err(Error::BadState);
            }
        }
        r.finish()?;
        if signed_prekey.id >= next_signed_prekey_id
            || previous_signed_prekey.as_ref().is_some_and(|p| p.id >= signed_prekey.id)
        {
            return Err(Error::BadState);
        }
        Ok(Identity {
            keys,
            suite,
            signed_prekey,
            previous_signed_prekey,
            one_time_prekeys,
            next_signed_prekey_id,
            next_one_time_prekey_id,
        })
    }
}

fn write_kem(w: &mut Writer, kem: Option<&KemSecretKey>) {
    w.bool(kem.is_some());
    if let Some(k) = kem {
        w.bytes(&k.seed()[..]);
    }
}

fn read_kem(r: &mut Reader<'_>) -> Result<Option<KemSecretKey>> {
    if !r.bool()? {
        return Ok(None);
    }
    Ok(Some(KemSecretKey::from_seed(*Zeroizing::new(r.array()?))))
}

fn write_one_time_prekey(w: &mut Writer, k: &OneTimePrekey) {
    w.u32(k.id).bytes(&Zeroizing::new(k.secret.to_bytes())[..]).bool(k.published);
    write_kem(w, k.kem.as_ref());
}

fn read_one_time_prekey(r: &mut Reader<'_>, suite: Suite) -> Result<OneTimePrekey> {
    let id = r.u32()?;
    let secret = X25519SecretKey::from_bytes(*Zeroizing::new(r.array()?));
    let published = r.bool()?;
    let kem = read_kem(r)?;
    if kem.is_some() != (suite == Suite::Hybrid) {
        return Err(Error::BadState);
    }
    Ok(OneTimePrekey { id, secret, published, kem })
}

fn write_signed_prekey(w: &mut Writer, k: &SignedPrekey) {
    w.u32(k.id).bytes(&Zeroizing::new(k.secret.to_bytes())[..]);
    write_kem(w, k.kem.as_ref());
}

fn read_signed_prekey(r: &mut Reader<'_>, suite: Suite) -> Result<SignedPrekey> {
    let id = r.u32()?;
    let secret = X25519SecretKey::from_bytes(*Zeroizing::new(r.array()?));
    let kem = read_kem(r)?;
    if kem.is_some() != (suite == Suite::Hybrid) {
        return Err(Error::BadState);
    }
    Ok(SignedPrekey { id, secret, kem })
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn rotation_keeps_exactly_one_previous_signed_prekey() {
        let mut id = Identity::generate().unwrap();
        let first = id.signed_prekey_id();
        assert!((1..=PREKEY_ID_START_MAX).contains(&first));
        assert_eq!(id.rotate_signed_prekey().unwrap(), first + 1);
        assert!(id.signed_prekey_secret(first).is_ok());
        assert!(id.signed_prekey_secret(first + 1).is_ok());
        assert_eq!(id.rotate_signed_prekey().unwrap(), first + 2);
        assert_eq!(id.signed_prekey_secret(first).unwrap_err(), Error::UnknownPrekey);
        assert!(id.signed_prekey_secret(first + 1).is_ok());
        assert_eq!(id.bundle(false).unwrap().fields().signed_prekey_id, first + 2);
    }

    #[test]
    fn bundles_never_share_a_one_time_prekey() {
        let mut id = Identity::generate().unwrap();
        id.generate_one_time_prekeys(2).unwrap();
        let a = id.bundle(true).unwrap().fields().one_time_prekey.unwrap().0;
        let b = id.bundle(true).unwrap().fields().one_time_prekey.unwrap().0;
        let c = id.bundle(true).unwrap().fields().one_time_prekey.unwrap().0; // generated on demand
        assert!((1..=PREKEY_ID_START_MAX).contains(&a));
        assert_eq!((b, c), (a + 1, a + 2));
        assert_eq!(id.unpublished_one_time_prekey_count(), 0);
        assert_eq!(id.bundle(false).unwrap().fields().one_time_prekey, None);
    }

    #[test]
    fn one_time_prekey_pool_is_bounded() {
        let mut id = Identity::generate().unwrap();
        assert_eq!(id.generate_one_time_prekeys(MAX_ONE_TIME_PREKEYS + 1), Err(Error::TooLarge));
        assert_eq!(id.one_time_prekey_count(), 0);
        id.generate_one_time_prekeys(3).unwrap();
        assert_eq!(id.generate_one_time_prekeys(MAX_ONE_TIME_PREKEYS - 2), Err(Error::TooLarge));
        assert_eq!(id.one_time_prekey_count(), 3);
    }

    #[test]
    fn two_identities_from_one_seed_share_the_agent_id_and_nothing_else() {
        for suite in [Suite::Classical, Suite::Hybrid] {
            let mut a = Identity::from_seed_with(&[9; 32], suite).unwrap();
            let mut b = Identity::from_seed_with(&[9; 32], suite).unwrap();
            assert_eq!(a.agent_id(), b.agent_id());
            assert_eq!(a.keys().seed(), [9; 32]);
            a.generate_one_time_prekeys(3).unwrap();
            b.generate_one_time_prekeys(3).unwrap();
            let (fa, fb) =
                (a.bundle(true).unwrap().fields().clone(), b.bundle(true).unwrap().fields().clone());
            assert_ne!(fa.signed_prekey, fb.signed_prekey);
            assert_ne!(fa.signed_prekey_id, fb.signed_prekey_id);
            let (oa, ob) = (fa.one_time_prekey.unwrap(), fb.one_time_prekey.unwrap());
            assert_ne!(oa.1, ob.1);
            assert_ne!(oa.0, ob.0);
            if suite == Suite::Hybrid {
                assert_ne!(a.last_resort_kem_public_key(), b.last_resort_kem_public_key());
                assert_ne!(fa.kem.unwrap().public_key, fb.kem.unwrap().public_key);
            }
            // Neither holds a prekey id of the other.
            assert_eq!(b.signed_prekey(fa.signed_prekey_id).unwrap_err(), Error::UnknownPrekey);
            assert_eq!(b.one_time_prekey_secret(oa.0).unwrap_err(), Error::UnknownPrekey);
        }
    }

    #[test]
    fn bundle_len_matches_every_kind() {
        for suite in [Suite::Classical, Suite::Hybrid] {
            let mut id = Identity::generate_with(suite).unwrap();
            for otk in [false, true] {
                assert_eq!(id.bundle(otk).unwrap().to_bytes().len(), id.bundle_len(otk));
            }
        }
    }

    #[test]
    fn consumed_one_time_prekey_is_unknown() {
        let mut id = Identity::generate().unwrap();
        id.generate_one_time_prekeys(1).unwrap();
        let otk = id.bundle(true).unwrap().fields().one_time_prekey.unwrap().0;
        assert!(id.one_time_prekey_secret(otk).is_ok());
        id.consume_one_time_prekey(otk);
        assert_eq!(id.one_time_prekey_secret(otk).unwrap_err(), Error::UnknownPrekey);
    }

    #[test]
    fn bundle_expiry_is_made_from_now_and_the_lifetime() {
        let mut id = Identity::generate_with(Suite::Classical).unwrap();
        let b = id.bundle_at(false, 1_000, 500).unwrap();
        assert_eq!(b.expires_at(), 1_500);
        assert_eq!(PrekeyBundle::from_bytes_at(&b.to_bytes(), 1_499).unwrap(), b);
        assert_eq!(PrekeyBundle::from_bytes_at(&b.to_bytes(), 1_500).unwrap_err(), Error::ExpiredBundle);
        assert_eq!(id.bundle_at(true, u64::MAX - 1, 10).unwrap().expires_at(), u64::MAX);
        let before = id.unpublished_one_time_prekey_count();
        assert_eq!(id.bundle_at(true, 1_000, 0).unwrap_err(), Error::InvalidArgument);
        assert_eq!(id.unpublished_one_time_prekey_count(), before, "nothing handed out");
        // The default: two default rotation periods from the system clock.
        let now = unix_now();
        let exp = id.bundle(false).unwrap().expires_at();
        assert!(
            (now + DEFAULT_BUNDLE_LIFETIME_SECS..=unix_now() + DEFAULT_BUNDLE_LIFETIME_SECS).contains(&exp)
        );
    }

    #[test]
    fn sealed_identity_round_trips_and_refuses_wrong_key() {
        let mut id = Identity::from_seed(&[5; 32]).unwrap();
        id.generate_one_time_prekeys(4).unwrap();
        let first_otk = id.bundle(true).unwrap().fields().one_time_prekey.unwrap().0;
        assert!(id.kem_prekey_secret(KemPrekeyKind::OneTime, first_otk + 1).is_ok());
        let first_spk = id.signed_prekey_id();
        id.rotate_signed_prekey().unwrap();
        let key = StorageKey::from_bytes([9; 32]);
        let rec = id.to_sealed(&key).unwrap();
        let back = Identity::from_sealed(&rec, &key).unwrap();
        assert_eq!(back.agent_id(), id.agent_id());
        assert_eq!(back.one_time_prekey_count(), 4);
        assert_eq!(back.unpublished_one_time_prekey_count(), 3);
        assert_eq!(back.signed_prekey_id(), first_spk + 1);
        assert!(back.signed_prekey_secret(first_spk).is_ok());
        assert_eq!(back.suite(), Suite::Hybrid);
        assert!(back.kem_prekey_secret(KemPrekeyKind::LastResort, first_spk).is_ok());
        assert!(back.kem_prekey_secret(KemPrekeyKind::OneTime, first_otk + 1).is_ok());
        assert_eq!(back.to_sealed(&key).unwrap().len(), rec.len());
        assert_eq!(
            Identity::from_sealed(&rec, &StorageKey::from_bytes([8; 32])).unwrap_err(),
            Error::WrongStorageKey
        );
    }
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    #[test]
    fn forgetting_published_one_time_prekeys_takes_the_oldest_handed_out_only() {
        let mut id = Identity::generate_with(Suite::Classical).unwrap();
        id.generate_one_time_prekeys(5).unwrap();
        let first = id.bundle(true).unwrap().fields().one_time_prekey.unwrap().0;
        id.bundle(true).unwrap();
        assert_eq!(id.forget_oldest_published_one_time_prekeys(10), 2);
        assert_eq!(id.one_time_prekey_count(), 3);
        assert_eq!(id.unpublished_one_time_prekey_count(), 3);
        assert_eq!(id.one_time_prekey_secret(first).unwrap_err(), Error::UnknownPrekey);
        assert!(id.one_time_prekey_secret(first + 2).is_ok());
    }
}
