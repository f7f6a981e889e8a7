//! Prekeys and prekey bundles.
//!
//! A signed prekey (SPK) is an X25519 key published in bundles signed by the identity key; it
//! rotates, and the previous one stays usable until the next rotation so that first messages
//! already in flight can still be read. One-time prekeys (OPK) are used by at most one session
//! and deleted when used.
//!
//! A hybrid identity (the default) pairs each prekey with an ML-KEM-768 prekey of the same id:
//! the signed prekey with a *last-resort* KEM prekey (reused until rotation), each one-time
//! prekey with a *one-time* KEM prekey.
//!
//! A bundle is signed as a whole when it is made (wire::bundle): one verification covers the
//! signed prekey, the one-time prekey and the ML-KEM prekey with their ids and kinds, and the
//! bundle's expiry, so nothing can be swapped, relabelled, stripped or extended (a hybrid bundle
//! stripped of its ML-KEM block no longer verifies: `BadSignature`). A bundle past its expiry is
//! refused (`ExpiredBundle`): its signed prekey has most likely been erased by then, and a
//! session started from it would never be answered.

use crate::crypto::X25519SecretKey;
use crate::crypto::kem::{KemPublicKey, KemSecretKey};
use crate::error::{Error, Result};
use crate::identity::{AgentId, IdentityKeyPair};
use crate::wire::BundleFields;
use crate::wire::bundle::{BundleKem, KemPrekeyKind};

/// Which key agreement an identity's prekeys offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Suite {
    /// X25519 only (X3DH).
    Classical = 1,
    /// X25519 and ML-KEM-768 (PQXDH-style). The default.
    Hybrid = 2,
}

impl Suite {
    /// The suite for its byte.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Suite::Classical),
            2 => Some(Suite::Hybrid),
            _ => None,
        }
    }
}

/// Whether a session may be set up without the post-quantum part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PqPolicy {
    /// Refuse classical-only bundles and first messages (`PqRequired`). The default.
    #[default]
    RequireHybrid,
    /// Accept classical-only peers (hybrid is still used whenever the peer offers it).
    AllowClassical,
}

fn kem_block(kind: KemPrekeyKind, id: u32, secret: &KemSecretKey) -> BundleKem {
    BundleKem { kind, id, public_key: Box::new(*secret.public_key().as_bytes()) }
}

/// A signed prekey with its secret (and, for a hybrid identity, its last-resort KEM prekey).
#[derive(Clone, Debug)]
pub struct SignedPrekey {
    /// Its id, named by bundles and first messages.
    pub id: u32,
    /// The secret half.
    pub secret: X25519SecretKey,
    /// The last-resort ML-KEM prekey with the same id (hybrid identities only).
    pub kem: Option<KemSecretKey>,
}

impl SignedPrekey {
    /// A signed prekey from given secrets. `kem` decides the suite.
    pub fn from_secrets(id: u32, secret: X25519SecretKey, kem: Option<KemSecretKey>) -> Self {
        SignedPrekey { id, secret, kem }
    }

    /// A fresh signed prekey of `suite`.
    pub fn generate(id: u32, suite: Suite) -> Result<Self> {
        let kem = match suite {
            Suite::Classical => None,
            Suite::Hybrid => Some(KemSecretKey::generate()?),
        };
        Ok(Self::from_secrets(id, X25519SecretKey::generate()?, kem))
    }

    /// The suite this prekey was published under.
    pub fn suite(&self) -> Suite {
        if self.kem.is_some() { Suite::Hybrid } else { Suite::Classical }
    }
}

/// A one-time prekey with its secret (and, for a hybrid identity, its one-time KEM prekey).
#[derive(Clone, Debug)]
pub struct OneTimePrekey {
    /// Its id.
    pub id: u32,
    /// The secret half.
    pub secret: X25519SecretKey,
    /// Whether it was already handed out in a bundle (it is then not handed out again).
    pub published: bool,
    /// The one-time ML-KEM prekey with the same id (hybrid identities only).
    pub kem: Option<KemSecretKey>,
}

impl OneTimePrekey {
    /// A fresh one-time prekey of `suite`.
    pub fn generate(id: u32, suite: Suite) -> Result<Self> {
        let kem = match suite {
            Suite::Classical => None,
            Suite::Hybrid => Some(KemSecretKey::generate()?),
        };
        Ok(OneTimePrekey { id, secret: X25519SecretKey::generate()?, published: false, kem })
    }
}

/// How long a bundle stays valid by default: two signed-prekey rotation periods of the agent's
/// default (7 days). A bundle's SPK stays current for one period and previous for one more; after
/// that it is erased and a session started from the bundle would never be answered.
pub const DEFAULT_BUNDLE_LIFETIME_SECS: u64 = 2 * 7 * 24 * 3600;

/// The system clock in Unix seconds (0 if it reads before 1970).
pub(crate) fn unix_now() -> u64 {
    // Test vectors only (feature `test-vectors`, never in a shipped build: src/vectors_support.rs).
    #[cfg(feature = "test-vectors")]
    if let Some(now) = crate::vectors_support::now() {
        return now;
    }
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The bundle for a signed prekey and an optional one-time prekey, valid until `expires_at`
/// (Unix seconds), signed by `identity`.
pub fn bundle_fields(
    identity: &IdentityKeyPair,
    spk: &SignedPrekey,
    otk: Option<&OneTimePrekey>,
    expires_at: u64,
) -> BundleFields {
    // The KEM prekey is the one-time one when a one-time prekey is included and has one, else
    // the last-resort one (PQXDH: exactly one KEM prekey per bundle).
    let kem = match otk.and_then(|o| o.kem.as_ref().map(|k| (o.id, k))) {
        Some((id, k)) => Some(kem_block(KemPrekeyKind::OneTime, id, k)),
        None => spk.kem.as_ref().map(|k| kem_block(KemPrekeyKind::LastResort, spk.id, k)),
    };
    let mut fields = BundleFields {
        identity_key: identity.agent_id().to_bytes(),
        signed_prekey_id: spk.id,
        signed_prekey: spk.secret.public_key(),
        expires_at,
        signature: crate::crypto::Signature([0; 64]),
        one_time_prekey: otk.map(|o| (o.id, o.secret.public_key())),
        kem,
    };
    fields.signature = identity.sign_protocol(&fields.signed_message());
    fields
}

/// A prekey bundle whose signatures verified: safe to start a session from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrekeyBundle {
    fields: BundleFields,
    identity: AgentId,
    kem_key: Option<KemPublicKey>,
}

impl PrekeyBundle {
    /// Parses and verifies a bundle at the system clock's time: well-formed, identity key valid,
    /// its signature (strict) over the whole bundle valid under it, not expired, ML-KEM key
    /// valid and paired. (An X25519 prekey of small order is refused where it is used: every DH
    /// refuses an all-zero output.) Errors: `BadEnvelope`, `UnsupportedVersion`,
    /// `WrongMessageType`, `WeakKey` (identity key), `BadSignature` (anything changed, added or
    /// removed, including a stripped ML-KEM block), `ExpiredBundle`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_at(bytes, unix_now())
    }

    /// [`from_bytes`](Self::from_bytes) at time `now` (Unix seconds).
    pub fn from_bytes_at(bytes: &[u8], now: u64) -> Result<Self> {
        Self::verify_at(BundleFields::parse(bytes)?, now)
    }

    /// Verifies parsed fields at the system clock's time.
    pub fn verify(fields: BundleFields) -> Result<Self> {
        Self::verify_at(fields, unix_now())
    }

    /// Verifies parsed fields at time `now` (Unix seconds): `ExpiredBundle` if `now` is at or
    /// past the bundle's expiry. The expiry is checked after the signature, so that only its
    /// publisher's word decides it.
    pub fn verify_at(fields: BundleFields, now: u64) -> Result<Self> {
        let identity = AgentId::from_bytes(&fields.identity_key)?;
        identity.verifying_key().verify(&fields.signed_message(), &fields.signature)?;
        if now >= fields.expires_at {
            return Err(Error::ExpiredBundle);
        }
        let kem_key = match &fields.kem {
            None => None,
            Some(k) => {
                // Signed, so only a faulty publisher gets here with a bad pairing or key.
                let paired = match k.kind {
                    KemPrekeyKind::LastResort => Some(fields.signed_prekey_id),
                    KemPrekeyKind::OneTime => fields.one_time_prekey.map(|(id, _)| id),
                };
                if paired != Some(k.id) {
                    return Err(Error::BadEnvelope);
                }
                Some(KemPublicKey::from_bytes(&k.public_key)?)
            }
        };
        Ok(PrekeyBundle { fields, identity, kem_key })
    }

    /// The encoded bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.fields.to_bytes()
    }

    /// The publisher's agent id.
    pub fn agent_id(&self) -> AgentId {
        self.identity
    }

    /// When the bundle stops being valid (Unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.fields.expires_at
    }

    /// The verified fields.
    pub fn fields(&self) -> &BundleFields {
        &self.fields
    }

    /// The bundle's suite.
    pub fn suite(&self) -> Suite {
        if self.kem_key.is_some() { Suite::Hybrid } else { Suite::Classical }
    }

    /// The verified ML-KEM prekey of a hybrid bundle, with its kind and id.
    pub fn kem_prekey(&self) -> Option<(KemPrekeyKind, u32, &KemPublicKey)> {
        let k = self.fields.kem.as_ref()?;
        Some((k.kind, k.id, self.kem_key.as_ref()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::X25519PublicKey;
    use crate::wire::bundle::{BUNDLE_FLAGS_OFFSET, BUNDLE_LEN, BUNDLE_WITH_ONE_TIME_PREKEY_LEN};

    /// An expiry an hour from now.
    fn soon() -> u64 {
        unix_now() + 3600
    }

    fn bundle_bytes(otk: bool, suite: Suite) -> (IdentityKeyPair, Vec<u8>) {
        let id = IdentityKeyPair::generate().unwrap();
        let spk = SignedPrekey::generate(3, suite).unwrap();
        let one = OneTimePrekey::generate(9, suite).unwrap();
        let fields = bundle_fields(&id, &spk, otk.then_some(&one), soon());
        (id, fields.to_bytes())
    }

    /// Fields of a fresh bundle, changed by `edit` and signed again: what a publisher could put
    /// its valid signature on.
    fn resigned(suite: Suite, otk: bool, edit: impl FnOnce(&mut BundleFields)) -> BundleFields {
        let id = IdentityKeyPair::generate().unwrap();
        let spk = SignedPrekey::generate(3, suite).unwrap();
        let one = OneTimePrekey::generate(9, suite).unwrap();
        let mut fields = bundle_fields(&id, &spk, otk.then_some(&one), soon());
        edit(&mut fields);
        fields.signature = id.sign_protocol(&fields.signed_message());
        fields
    }

    #[test]
    fn valid_bundles_verify_in_both_suites() {
        for suite in [Suite::Classical, Suite::Hybrid] {
            for otk in [false, true] {
                let (id, bytes) = bundle_bytes(otk, suite);
                let b = PrekeyBundle::from_bytes(&bytes).unwrap();
                assert_eq!(b.agent_id(), id.agent_id());
                assert_eq!(b.suite(), suite);
                assert_eq!(b.to_bytes(), bytes);
                if suite == Suite::Hybrid {
                    let (kind, kid, _) = b.kem_prekey().unwrap();
                    let want = if otk { (KemPrekeyKind::OneTime, 9) } else { (KemPrekeyKind::LastResort, 3) };
                    assert_eq!((kind, kid), want);
                }
            }
        }
    }

    #[test]
    fn every_bit_flip_is_refused_including_the_one_time_prekey() {
        // Classical with a one-time prekey: every bit of the 179 bytes.
        let (_, bytes) = bundle_bytes(true, Suite::Classical);
        for i in 0..bytes.len() * 8 {
            let mut t = bytes.clone();
            t[i / 8] ^= 1 << (i % 8);
            assert!(PrekeyBundle::from_bytes(&t).is_err(), "bit {i}");
        }
    }

    #[test]
    fn every_byte_of_the_kem_block_is_covered() {
        let (_, bytes) = bundle_bytes(true, Suite::Hybrid);
        for i in BUNDLE_WITH_ONE_TIME_PREKEY_LEN..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x10;
            assert!(PrekeyBundle::from_bytes(&t).is_err(), "byte {i}");
        }
    }

    #[test]
    fn stripping_a_block_breaks_the_signature() {
        // A hybrid bundle without its ML-KEM block (an attempted downgrade), and a bundle
        // without its one-time prekey (to make sessions share the signed prekey only).
        let (_, bytes) = bundle_bytes(false, Suite::Hybrid);
        let mut no_kem = bytes[..BUNDLE_LEN].to_vec();
        no_kem[BUNDLE_FLAGS_OFFSET] = 0;
        assert_eq!(PrekeyBundle::from_bytes(&no_kem).unwrap_err(), Error::BadSignature);
        let (_, bytes) = bundle_bytes(true, Suite::Classical);
        let mut no_otk = bytes[..BUNDLE_LEN].to_vec();
        no_otk[BUNDLE_FLAGS_OFFSET] = 0;
        assert_eq!(PrekeyBundle::from_bytes(&no_otk).unwrap_err(), Error::BadSignature);
    }

    #[test]
    fn a_kem_key_swapped_between_kinds_is_refused() {
        let (_, bytes) = bundle_bytes(true, Suite::Hybrid);
        let mut t = bytes.clone();
        t[BUNDLE_WITH_ONE_TIME_PREKEY_LEN] = KemPrekeyKind::LastResort as u8; // one-time key relabelled last-resort
        assert_eq!(PrekeyBundle::from_bytes(&t).unwrap_err(), Error::BadSignature);
    }

    #[test]
    fn a_signed_bundle_with_a_bad_pairing_or_kem_key_is_still_refused() {
        // The publisher's own mistakes, signed: the checks after the signature still run.
        let unpaired = resigned(Suite::Hybrid, false, |f| f.kem.as_mut().unwrap().id = 4);
        assert_eq!(PrekeyBundle::verify(unpaired).unwrap_err(), Error::BadEnvelope);
        let one_time_without_otk = resigned(Suite::Hybrid, false, |f| {
            f.kem.as_mut().unwrap().kind = KemPrekeyKind::OneTime;
        });
        assert_eq!(PrekeyBundle::verify(one_time_without_otk).unwrap_err(), Error::BadEnvelope);
        let bad_key = resigned(Suite::Hybrid, true, |f| f.kem.as_mut().unwrap().public_key[0..2].fill(0xFF));
        assert_eq!(PrekeyBundle::verify(bad_key).unwrap_err(), Error::BadEnvelope);
        let fine = resigned(Suite::Hybrid, true, |_| {});
        assert!(PrekeyBundle::verify(fine).is_ok());
    }

    #[test]
    fn a_bundle_is_refused_from_its_expiry_on() {
        let at = 1_700_000_000;
        let fields = resigned(Suite::Hybrid, true, |f| f.expires_at = at);
        let bytes = fields.to_bytes();
        assert_eq!(PrekeyBundle::from_bytes_at(&bytes, at - 1).unwrap().expires_at(), at);
        assert_eq!(PrekeyBundle::from_bytes_at(&bytes, at).unwrap_err(), Error::ExpiredBundle);
        assert_eq!(PrekeyBundle::from_bytes_at(&bytes, u64::MAX).unwrap_err(), Error::ExpiredBundle);
        // The system clock is past 2023-11-14, so the plain call refuses it too.
        assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::ExpiredBundle);
        assert_eq!(PrekeyBundle::verify(fields).unwrap_err(), Error::ExpiredBundle);
    }

    #[test]
    fn an_extended_expiry_breaks_the_signature() {
        // Whoever serves an old bundle cannot make it look fresh: the expiry is signed.
        let (_, bytes) = bundle_bytes(true, Suite::Hybrid);
        let mut fields = BundleFields::parse(&bytes).unwrap();
        fields.expires_at = u64::MAX;
        assert_eq!(PrekeyBundle::from_bytes(&fields.to_bytes()).unwrap_err(), Error::BadSignature);
        // An expired bundle with a bad signature is a bad signature, not an expired bundle.
        let old = resigned(Suite::Classical, false, |f| f.expires_at = 10);
        let mut forged = old.to_bytes();
        forged[100] ^= 1;
        assert_eq!(PrekeyBundle::from_bytes(&forged).unwrap_err(), Error::BadSignature);
    }

    #[test]
    fn substituted_signed_prekey_is_bad_signature() {
        let (_, mut bytes) = bundle_bytes(false, Suite::Classical);
        let other = X25519SecretKey::generate().unwrap().public_key();
        bytes[38..70].copy_from_slice(other.as_bytes());
        assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::BadSignature);
    }

    #[test]
    fn small_order_prekeys_are_refused_when_used() {
        // Not checked at verification (it would cost scalar multiplications per bundle): the
        // contributory-behaviour check of every X25519 refuses them at initiation.
        for small_spk in [false, true] {
            let fields = resigned(Suite::Classical, true, |f| {
                if small_spk {
                    f.signed_prekey = X25519PublicKey([0; 32]);
                } else {
                    f.one_time_prekey = Some((9, X25519PublicKey([0; 32])));
                }
            });
            let bundle = PrekeyBundle::verify(fields).unwrap();
            let alice = IdentityKeyPair::generate().unwrap();
            let err = crate::handshake::initiate(&alice, &bundle, PqPolicy::AllowClassical).err().unwrap();
            assert_eq!(err, Error::WeakKey, "small SPK: {small_spk}");
        }
    }

    #[test]
    fn small_order_identity_is_weak() {
        let (_, mut bytes) = bundle_bytes(false, Suite::Classical);
        let mut ident = [0u8; 32];
        ident[0] = 1;
        bytes[2..34].copy_from_slice(&ident);
        assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::WeakKey);
    }
}
