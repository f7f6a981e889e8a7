//! Prekeys and prekey bundles.
//!
//! A signed prekey (SPK) is an X25519 key signed by the identity key; it rotates, and the
//! previous one stays usable until the next rotation so that first messages already in flight can
//! still be read. One-time prekeys (OPK) are used by at most one session and deleted when used.

use crate::crypto::{Signature, X25519PublicKey, X25519SecretKey};
use crate::error::Result;
use crate::identity::{AgentId, IdentityKeyPair};
use crate::wire::BundleFields;

const SIGNED_PREKEY_LABEL: &[u8] = b"DMP1 signed prekey";

/// The bytes an identity key signs for a signed prekey: label || id (u32 BE) || key.
pub fn signed_prekey_message(id: u32, key: &X25519PublicKey) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNED_PREKEY_LABEL.len() + 36);
    m.extend_from_slice(SIGNED_PREKEY_LABEL);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(key.as_bytes());
    m
}

/// A signed prekey with its secret.
#[derive(Clone, Debug)]
pub struct SignedPrekey {
    /// Its id, named by bundles and first messages.
    pub id: u32,
    /// The secret half.
    pub secret: X25519SecretKey,
    /// The identity's signature over [`signed_prekey_message`].
    pub signature: Signature,
}

impl SignedPrekey {
    /// A fresh signed prekey, signed by `identity`.
    pub fn generate(identity: &IdentityKeyPair, id: u32) -> Result<Self> {
        let secret = X25519SecretKey::generate()?;
        let signature = identity.sign(&signed_prekey_message(id, &secret.public_key()));
        Ok(SignedPrekey { id, secret, signature })
    }
}

/// A one-time prekey with its secret.
#[derive(Clone, Debug)]
pub struct OneTimePrekey {
    /// Its id.
    pub id: u32,
    /// The secret half.
    pub secret: X25519SecretKey,
    /// Whether it was already handed out in a bundle (it is then not handed out again).
    pub published: bool,
}

/// A prekey bundle whose signature verified: safe to start a session from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrekeyBundle {
    fields: BundleFields,
    identity: AgentId,
}

impl PrekeyBundle {
    /// Parses and verifies a bundle: well-formed, identity key valid, signed prekey signature
    /// valid under it (strict), and no prekey of small order. Errors: `BadEnvelope`,
    /// `UnsupportedVersion`, `WrongMessageType`, `WeakKey`, `BadSignature`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::verify(BundleFields::parse(bytes)?)
    }

    /// Verifies parsed fields.
    pub fn verify(fields: BundleFields) -> Result<Self> {
        let identity = AgentId::from_bytes(&fields.identity_key)?;
        identity.verifying_key().verify(
            &signed_prekey_message(fields.signed_prekey_id, &fields.signed_prekey),
            &fields.signed_prekey_signature,
        )?;
        reject_low_order(&fields.signed_prekey)?;
        if let Some((_, otk)) = &fields.one_time_prekey {
            reject_low_order(otk)?;
        }
        Ok(PrekeyBundle { fields, identity })
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
}

/// Refuses the X25519 public keys that give an all-zero DH output with every secret.
fn reject_low_order(key: &X25519PublicKey) -> Result<()> {
    // A throwaway secret: X25519 with a small-order point is zero whatever the scalar, because
    // the scalar is a multiple of the cofactor. Contributory DH is checked again at use.
    let probe = X25519SecretKey::from_bytes([0x55; 32]);
    probe.diffie_hellman(key).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn bundle_bytes(otk: bool) -> (IdentityKeyPair, Vec<u8>) {
        let id = IdentityKeyPair::generate().unwrap();
        let spk = SignedPrekey::generate(&id, 3).unwrap();
        let fields = BundleFields {
            identity_key: id.agent_id().to_bytes(),
            signed_prekey_id: spk.id,
            signed_prekey: spk.secret.public_key(),
            signed_prekey_signature: spk.signature,
            one_time_prekey: otk.then(|| (9, X25519SecretKey::generate().unwrap().public_key())),
        };
        (id, fields.to_bytes())
    }

    #[test]
    fn valid_bundle_verifies() {
        for otk in [false, true] {
            let (id, bytes) = bundle_bytes(otk);
            let b = PrekeyBundle::from_bytes(&bytes).unwrap();
            assert_eq!(b.agent_id(), id.agent_id());
            assert_eq!(b.to_bytes(), bytes);
        }
    }

    #[test]
    fn every_bit_flip_in_the_signed_part_is_refused() {
        let (_, bytes) = bundle_bytes(false);
        // identity key, SPK id, SPK, signature: bytes 2..134
        for i in 16..134 * 8 {
            let mut t = bytes.clone();
            t[i / 8] ^= 1 << (i % 8);
            assert!(PrekeyBundle::from_bytes(&t).is_err(), "bit {i}");
        }
    }

    #[test]
    fn substituted_signed_prekey_is_bad_signature() {
        let (_, mut bytes) = bundle_bytes(false);
        let other = X25519SecretKey::generate().unwrap().public_key();
        bytes[38..70].copy_from_slice(other.as_bytes());
        assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::BadSignature);
    }

    #[test]
    fn small_order_one_time_prekey_is_weak() {
        let (_, mut bytes) = bundle_bytes(true);
        bytes[139..171].copy_from_slice(&[0; 32]);
        assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::WeakKey);
    }

    #[test]
    fn small_order_identity_is_weak() {
        let (_, mut bytes) = bundle_bytes(false);
        let mut ident = [0u8; 32];
        ident[0] = 1;
        bytes[2..34].copy_from_slice(&ident);
        assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::WeakKey);
    }
}
