//! Prekeys and prekey bundles.
//!
//! A signed prekey (SPK) is an X25519 key signed by the identity key; it rotates, and the
//! previous one stays usable until the next rotation so that first messages already in flight can
//! still be read. One-time prekeys (OPK) are used by at most one session and deleted when used.
//!
//! A hybrid identity (the default) pairs each prekey with an ML-KEM-768 prekey of the same id:
//! the signed prekey with a *last-resort* KEM prekey (reused until rotation), each one-time
//! prekey with a *one-time* KEM prekey. Every KEM prekey is signed. The SPK signature covers the
//! suite, so stripping the KEM part from a hybrid bundle is detected (`Downgrade`).

use crate::crypto::kem::{KemPublicKey, KemSecretKey};
use crate::crypto::{Signature, X25519PublicKey, X25519SecretKey};
use crate::error::{Error, Result};
use crate::identity::{AgentId, IdentityKeyPair};
use crate::wire::BundleFields;
use crate::wire::bundle::{BundleKem, KemPrekeyKind};

const SIGNED_PREKEY_LABEL: &[u8] = b"DMP1 signed prekey";
const KEM_PREKEY_LABEL: &[u8] = b"DMP1 kem prekey";

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

/// The bytes an identity key signs for a signed prekey:
/// `"DMP1 signed prekey" || id (u32 BE) || key (32) || suite (1)`.
pub fn signed_prekey_message(id: u32, key: &X25519PublicKey, suite: Suite) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNED_PREKEY_LABEL.len() + 37);
    m.extend_from_slice(SIGNED_PREKEY_LABEL);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(key.as_bytes());
    m.push(suite as u8);
    m
}

/// The bytes an identity key signs for an ML-KEM prekey:
/// `"DMP1 kem prekey" || kind (1) || id (u32 BE) || encapsulation key (1184)`.
pub fn kem_prekey_message(kind: KemPrekeyKind, id: u32, key: &KemPublicKey) -> Vec<u8> {
    let mut m = Vec::with_capacity(KEM_PREKEY_LABEL.len() + 5 + key.as_bytes().len());
    m.extend_from_slice(KEM_PREKEY_LABEL);
    m.push(kind as u8);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(key.as_bytes());
    m
}

/// An ML-KEM prekey with its secret and the identity's signature over its public key.
#[derive(Clone, Debug)]
pub struct KemPrekey {
    /// The decapsulation key.
    pub secret: KemSecretKey,
    /// Sig(IK, [`kem_prekey_message`]).
    pub signature: Signature,
}

impl KemPrekey {
    /// Signs `secret`'s public key as a `kind` prekey with id `id`.
    pub fn sign(identity: &IdentityKeyPair, kind: KemPrekeyKind, id: u32, secret: KemSecretKey) -> Self {
        let signature = identity.sign(&kem_prekey_message(kind, id, &secret.public_key()));
        KemPrekey { secret, signature }
    }

    fn bundle_block(&self, kind: KemPrekeyKind, id: u32) -> BundleKem {
        BundleKem {
            kind,
            id,
            public_key: Box::new(*self.secret.public_key().as_bytes()),
            signature: self.signature,
        }
    }
}

/// A signed prekey with its secret (and, for a hybrid identity, its last-resort KEM prekey).
#[derive(Clone, Debug)]
pub struct SignedPrekey {
    /// Its id, named by bundles and first messages.
    pub id: u32,
    /// The secret half.
    pub secret: X25519SecretKey,
    /// The identity's signature over [`signed_prekey_message`].
    pub signature: Signature,
    /// The last-resort ML-KEM prekey with the same id (hybrid identities only).
    pub kem: Option<KemPrekey>,
}

impl SignedPrekey {
    /// A signed prekey from given secrets. `kem` decides the suite.
    pub fn from_secrets(
        identity: &IdentityKeyPair,
        id: u32,
        secret: X25519SecretKey,
        kem: Option<KemSecretKey>,
    ) -> Self {
        let suite = if kem.is_some() { Suite::Hybrid } else { Suite::Classical };
        let signature = identity.sign(&signed_prekey_message(id, &secret.public_key(), suite));
        let kem = kem.map(|k| KemPrekey::sign(identity, KemPrekeyKind::LastResort, id, k));
        SignedPrekey { id, secret, signature, kem }
    }

    /// A fresh signed prekey of `suite`, signed by `identity`.
    pub fn generate(identity: &IdentityKeyPair, id: u32, suite: Suite) -> Result<Self> {
        let kem = match suite {
            Suite::Classical => None,
            Suite::Hybrid => Some(KemSecretKey::generate()?),
        };
        Ok(Self::from_secrets(identity, id, X25519SecretKey::generate()?, kem))
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
    pub kem: Option<KemPrekey>,
}

impl OneTimePrekey {
    /// A fresh one-time prekey of `suite`.
    pub fn generate(identity: &IdentityKeyPair, id: u32, suite: Suite) -> Result<Self> {
        let kem = match suite {
            Suite::Classical => None,
            Suite::Hybrid => {
                Some(KemPrekey::sign(identity, KemPrekeyKind::OneTime, id, KemSecretKey::generate()?))
            }
        };
        Ok(OneTimePrekey { id, secret: X25519SecretKey::generate()?, published: false, kem })
    }
}

/// The bundle fields for a signed prekey and an optional one-time prekey.
pub fn bundle_fields(
    identity: &IdentityKeyPair,
    spk: &SignedPrekey,
    otk: Option<&OneTimePrekey>,
) -> BundleFields {
    // The KEM prekey is the one-time one when a one-time prekey is included and has one, else
    // the last-resort one (PQXDH: exactly one KEM prekey per bundle).
    let kem = match otk.and_then(|o| o.kem.as_ref().map(|k| (o.id, k))) {
        Some((id, k)) => Some(k.bundle_block(KemPrekeyKind::OneTime, id)),
        None => spk.kem.as_ref().map(|k| k.bundle_block(KemPrekeyKind::LastResort, spk.id)),
    };
    BundleFields {
        identity_key: identity.agent_id().to_bytes(),
        signed_prekey_id: spk.id,
        signed_prekey: spk.secret.public_key(),
        signed_prekey_signature: spk.signature,
        one_time_prekey: otk.map(|o| (o.id, o.secret.public_key())),
        kem,
    }
}

/// A prekey bundle whose signatures verified: safe to start a session from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrekeyBundle {
    fields: BundleFields,
    identity: AgentId,
    kem_key: Option<KemPublicKey>,
}

impl PrekeyBundle {
    /// Parses and verifies a bundle: well-formed, identity key valid, signed prekey signature
    /// valid (strict) under it for the bundle's suite, KEM prekey signed, valid and paired. (An
    /// X25519 prekey of small order is refused where it is used: every DH refuses an all-zero
    /// output.) A hybrid bundle whose KEM part was removed is `Downgrade`. Errors besides:
    /// `BadEnvelope`, `UnsupportedVersion`, `WrongMessageType`, `WeakKey` (identity key),
    /// `BadSignature`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::verify(BundleFields::parse(bytes)?)
    }

    /// Verifies parsed fields.
    pub fn verify(fields: BundleFields) -> Result<Self> {
        let identity = AgentId::from_bytes(&fields.identity_key)?;
        let vk = identity.verifying_key();
        let suite = if fields.kem.is_some() { Suite::Hybrid } else { Suite::Classical };
        let spk_message = signed_prekey_message(fields.signed_prekey_id, &fields.signed_prekey, suite);
        if let Err(e) = vk.verify(&spk_message, &fields.signed_prekey_signature) {
            let hybrid = signed_prekey_message(fields.signed_prekey_id, &fields.signed_prekey, Suite::Hybrid);
            if suite == Suite::Classical && vk.verify(&hybrid, &fields.signed_prekey_signature).is_ok() {
                return Err(Error::Downgrade);
            }
            return Err(e);
        }
        let kem_key = match &fields.kem {
            None => None,
            Some(k) => {
                let key = KemPublicKey::from_bytes(&k.public_key)?;
                vk.verify(&kem_prekey_message(k.kind, k.id, &key), &k.signature)?;
                let paired = match k.kind {
                    KemPrekeyKind::LastResort => Some(fields.signed_prekey_id),
                    KemPrekeyKind::OneTime => fields.one_time_prekey.map(|(id, _)| id),
                };
                if paired != Some(k.id) {
                    return Err(Error::BadEnvelope);
                }
                Some(key)
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

    fn bundle_bytes(otk: bool, suite: Suite) -> (IdentityKeyPair, Vec<u8>) {
        let id = IdentityKeyPair::generate().unwrap();
        let spk = SignedPrekey::generate(&id, 3, suite).unwrap();
        let one = OneTimePrekey::generate(&id, 9, suite).unwrap();
        let fields = bundle_fields(&id, &spk, otk.then_some(&one));
        (id, fields.to_bytes())
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
    fn every_bit_flip_in_the_signed_part_is_refused() {
        let (_, bytes) = bundle_bytes(false, Suite::Classical);
        for i in 16..134 * 8 {
            let mut t = bytes.clone();
            t[i / 8] ^= 1 << (i % 8);
            assert!(PrekeyBundle::from_bytes(&t).is_err(), "bit {i}");
        }
    }

    #[test]
    fn every_byte_of_the_kem_block_is_covered() {
        let (_, bytes) = bundle_bytes(true, Suite::Hybrid);
        for i in 135 + 36..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x10;
            assert!(PrekeyBundle::from_bytes(&t).is_err(), "byte {i}");
        }
    }

    #[test]
    fn stripping_the_kem_part_is_a_downgrade() {
        let (_, bytes) = bundle_bytes(false, Suite::Hybrid);
        let mut stripped = bytes[..135].to_vec();
        stripped[134] = 0;
        assert_eq!(PrekeyBundle::from_bytes(&stripped).unwrap_err(), Error::Downgrade);
    }

    #[test]
    fn a_kem_key_swapped_between_kinds_is_refused() {
        let (_, bytes) = bundle_bytes(true, Suite::Hybrid);
        let mut t = bytes.clone();
        t[171] = KemPrekeyKind::LastResort as u8; // one-time key relabelled last-resort
        assert_eq!(PrekeyBundle::from_bytes(&t).unwrap_err(), Error::BadSignature);
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
        // Not checked at verification (it would cost two scalar multiplications per bundle): the
        // contributory-behaviour check of every X25519 refuses them at initiation.
        let (_, mut bytes) = bundle_bytes(true, Suite::Classical);
        bytes[139..171].copy_from_slice(&[0; 32]);
        let bundle = PrekeyBundle::from_bytes(&bytes).unwrap();
        let alice = IdentityKeyPair::generate().unwrap();
        let err = crate::handshake::initiate(&alice, &bundle, PqPolicy::AllowClassical).err().unwrap();
        assert_eq!(err, Error::WeakKey);
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
