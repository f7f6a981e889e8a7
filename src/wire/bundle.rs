//! The prekey bundle (type 3), the bytes an agent publishes so that others can reach it.
//!
//! ```text
//!   0  version                 1
//!   1  type = 3                1
//!   2  identity key (agent id) 32   Ed25519
//!  34  signed prekey id         4   u32 BE
//!  38  signed prekey           32   X25519
//!  70  expires at               8   u64 BE, Unix seconds: refused from then on
//!  78  bundle signature         64   Ed25519 by the identity key over
//!                                   "DMP1 prekey bundle" || every other byte of the bundle
//! 142  flags                    1   bit 0: one-time prekey block; bit 1: ML-KEM prekey block
//!      one-time prekey block   36   id (4) || X25519 key (32)
//!      ML-KEM prekey block   1189   kind (1) || id (4) || encapsulation key (1184)
//! ```
//! Classical: 143 bytes, or 179 with a one-time prekey. Hybrid: 1,332, or 1,368.
//!
//! One signature covers the whole bundle, made when the bundle is: the verifier checks one
//! signature whatever the suite (PQXDH signs the curve and the KEM prekeys separately, two
//! verifications for a hybrid bundle), and the one-time prekey and the expiry are covered too.

use super::reader::{Reader, Writer};
use super::{MessageType, PROTOCOL_VERSION, expect_type};
use crate::crypto::kem::KEM_PUBLIC_KEY_LEN;
use crate::crypto::{Signature, X25519PublicKey};
use crate::error::{Error, Result};
use crate::limits::{PUBLIC_KEY_LEN, SIGNATURE_LEN};

/// Encoded length of a classical bundle without a one-time prekey.
pub const BUNDLE_LEN: usize = 143;
/// Bytes the one-time prekey block adds.
pub const BUNDLE_ONE_TIME_PREKEY_BLOCK_LEN: usize = 36;
/// Bytes the ML-KEM prekey block adds.
pub const BUNDLE_KEM_BLOCK_LEN: usize = 1 + 4 + KEM_PUBLIC_KEY_LEN;
/// Where the bundle signature sits.
const SIGNATURE_OFFSET: usize = 78;
/// Where the flags byte sits.
pub const BUNDLE_FLAGS_OFFSET: usize = SIGNATURE_OFFSET + SIGNATURE_LEN;
/// What the bundle signature signs, before the bundle's bytes.
pub const BUNDLE_SIGNATURE_LABEL: &[u8] = b"DMP1 prekey bundle";
/// Encoded length of a classical bundle with a one-time prekey.
pub const BUNDLE_WITH_ONE_TIME_PREKEY_LEN: usize = BUNDLE_LEN + BUNDLE_ONE_TIME_PREKEY_BLOCK_LEN;
/// Encoded length of a hybrid bundle without a one-time prekey.
pub const HYBRID_BUNDLE_LEN: usize = BUNDLE_LEN + BUNDLE_KEM_BLOCK_LEN;
/// Encoded length of the largest bundle (hybrid, with a one-time prekey).
pub const BUNDLE_MAX_LEN: usize = HYBRID_BUNDLE_LEN + BUNDLE_ONE_TIME_PREKEY_BLOCK_LEN;

const FLAG_ONE_TIME_PREKEY: u8 = 0x01;
const FLAG_KEM_PREKEY: u8 = 0x02;

/// Which kind of ML-KEM prekey a bundle carries or a first message used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum KemPrekeyKind {
    /// Paired with a signed prekey (same id), reused until rotated.
    LastResort = 1,
    /// Paired with a one-time prekey (same id), used once.
    OneTime = 2,
}

impl KemPrekeyKind {
    /// The kind for a wire byte.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(KemPrekeyKind::LastResort),
            2 => Some(KemPrekeyKind::OneTime),
            _ => None,
        }
    }
}

/// A bundle's ML-KEM prekey block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleKem {
    /// Last-resort or one-time.
    pub kind: KemPrekeyKind,
    /// The id of the prekey it is paired with.
    pub id: u32,
    /// The encapsulation key (not yet validated).
    pub public_key: Box<[u8; KEM_PUBLIC_KEY_LEN]>,
}

/// The fields of a bundle, as they are on the wire (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleFields {
    /// IK: the publisher's agent id (Ed25519 public key).
    pub identity_key: [u8; PUBLIC_KEY_LEN],
    /// The signed prekey's id.
    pub signed_prekey_id: u32,
    /// SPK: the signed prekey.
    pub signed_prekey: X25519PublicKey,
    /// When the bundle stops being valid (Unix seconds): it is refused from then on.
    pub expires_at: u64,
    /// Sig(IK, [`signed_message`](Self::signed_message)): over the whole bundle.
    pub signature: Signature,
    /// OPK: an optional one-time prekey with its id.
    pub one_time_prekey: Option<(u32, X25519PublicKey)>,
    /// The ML-KEM prekey of a hybrid bundle.
    pub kem: Option<BundleKem>,
}

impl BundleFields {
    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        BUNDLE_LEN
            + if self.one_time_prekey.is_some() { BUNDLE_ONE_TIME_PREKEY_BLOCK_LEN } else { 0 }
            + if self.kem.is_some() { BUNDLE_KEM_BLOCK_LEN } else { 0 }
    }

    /// Encodes the bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(self.encoded_len());
        let flags = if self.one_time_prekey.is_some() { FLAG_ONE_TIME_PREKEY } else { 0 }
            | if self.kem.is_some() { FLAG_KEM_PREKEY } else { 0 };
        w.u8(PROTOCOL_VERSION)
            .u8(MessageType::PrekeyBundle as u8)
            .bytes(&self.identity_key)
            .u32(self.signed_prekey_id)
            .bytes(self.signed_prekey.as_bytes())
            .u64(self.expires_at)
            .bytes(&self.signature.0)
            .u8(flags);
        if let Some((id, key)) = &self.one_time_prekey {
            w.u32(*id).bytes(key.as_bytes());
        }
        if let Some(k) = &self.kem {
            w.u8(k.kind as u8).u32(k.id).bytes(&k.public_key[..]);
        }
        w.buf
    }

    /// What the bundle signature signs: the label, then every byte of the encoded bundle but
    /// the signature's own 64.
    pub fn signed_message(&self) -> Vec<u8> {
        let bytes = self.to_bytes();
        let mut m = Vec::with_capacity(BUNDLE_SIGNATURE_LABEL.len() + bytes.len() - SIGNATURE_LEN);
        m.extend_from_slice(BUNDLE_SIGNATURE_LABEL);
        m.extend_from_slice(&bytes[..SIGNATURE_OFFSET]);
        m.extend_from_slice(&bytes[SIGNATURE_OFFSET + SIGNATURE_LEN..]);
        m
    }

    /// Parses a bundle; trailing bytes, unknown flags or kinds, and other types are refused.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        expect_type(bytes, &[MessageType::PrekeyBundle])?;
        // The size rule of a bundle (section 4.2): no bundle is longer, so a longer input is
        // malformed (`BadEnvelope`, not `TooLarge`), before any field is read.
        if bytes.len() > BUNDLE_MAX_LEN {
            return Err(Error::BadEnvelope);
        }
        let mut r = Reader::new(bytes);
        r.take(2)?;
        let identity_key = r.array()?;
        let signed_prekey_id = r.u32()?;
        let signed_prekey = X25519PublicKey(r.array()?);
        let expires_at = r.u64()?;
        let signature = Signature(r.array::<SIGNATURE_LEN>()?);
        let flags = r.u8()?;
        if flags & !(FLAG_ONE_TIME_PREKEY | FLAG_KEM_PREKEY) != 0 {
            return Err(Error::BadEnvelope);
        }
        let one_time_prekey = if flags & FLAG_ONE_TIME_PREKEY != 0 {
            Some((r.u32()?, X25519PublicKey(r.array()?)))
        } else {
            None
        };
        let kem = if flags & FLAG_KEM_PREKEY != 0 {
            let kind = KemPrekeyKind::from_u8(r.u8()?).ok_or(Error::BadEnvelope)?;
            let id = r.u32()?;
            let mut public_key = Box::new([0u8; KEM_PUBLIC_KEY_LEN]);
            public_key.copy_from_slice(r.take(KEM_PUBLIC_KEY_LEN)?);
            Some(BundleKem { kind, id, public_key })
        } else {
            None
        };
        r.finish()?;
        Ok(BundleFields {
            identity_key,
            signed_prekey_id,
            signed_prekey,
            expires_at,
            signature,
            one_time_prekey,
            kem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(otk: bool, kem: bool) -> BundleFields {
        BundleFields {
            identity_key: [1; 32],
            signed_prekey_id: 42,
            signed_prekey: X25519PublicKey([2; 32]),
            expires_at: 0x0102_0304_0506_0708,
            signature: Signature([3; 64]),
            one_time_prekey: otk.then_some((7, X25519PublicKey([4; 32]))),
            kem: kem.then(|| BundleKem {
                kind: KemPrekeyKind::OneTime,
                id: 7,
                public_key: Box::new([5; KEM_PUBLIC_KEY_LEN]),
            }),
        }
    }

    #[test]
    fn round_trips_with_documented_lengths() {
        for (otk, kem, len) in [
            (false, false, BUNDLE_LEN),
            (true, false, BUNDLE_WITH_ONE_TIME_PREKEY_LEN),
            (false, true, HYBRID_BUNDLE_LEN),
            (true, true, BUNDLE_MAX_LEN),
        ] {
            let b = fields(otk, kem).to_bytes();
            assert_eq!(b.len(), len);
            assert_eq!(fields(otk, kem).encoded_len(), len);
            assert_eq!(BundleFields::parse(&b).unwrap(), fields(otk, kem));
        }
        assert_eq!((BUNDLE_LEN, BUNDLE_WITH_ONE_TIME_PREKEY_LEN), (143, 179));
        assert_eq!((HYBRID_BUNDLE_LEN, BUNDLE_MAX_LEN), (1332, 1368));
        // The expiry is big-endian at offset 70, right before the signature.
        assert_eq!(&fields(false, false).to_bytes()[70..78], &[1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn the_signed_message_is_every_byte_but_the_signature() {
        for (otk, kem) in [(false, false), (true, true)] {
            let f = fields(otk, kem);
            let bytes = f.to_bytes();
            let m = f.signed_message();
            assert_eq!(&m[..BUNDLE_SIGNATURE_LABEL.len()], BUNDLE_SIGNATURE_LABEL);
            let rest = &m[BUNDLE_SIGNATURE_LABEL.len()..];
            assert_eq!(rest.len(), bytes.len() - 64);
            assert_eq!(&rest[..78], &bytes[..78]);
            assert_eq!(&rest[78..], &bytes[142..]);
            let mut resigned = f.clone();
            resigned.signature = Signature([9; 64]);
            assert_eq!(resigned.signed_message(), m, "the signature is not part of it");
        }
    }

    #[test]
    fn truncation_extension_and_bad_flags_are_refused() {
        let b = fields(true, true).to_bytes();
        for n in 0..b.len() {
            assert!(BundleFields::parse(&b[..n]).is_err(), "len {n}");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert_eq!(BundleFields::parse(&longer), Err(Error::BadEnvelope));
        let mut flags = fields(false, false).to_bytes();
        flags[BUNDLE_FLAGS_OFFSET] = 4;
        assert_eq!(BundleFields::parse(&flags), Err(Error::BadEnvelope));
        let mut kind = fields(false, true).to_bytes();
        kind[BUNDLE_LEN] = 3;
        assert_eq!(BundleFields::parse(&kind), Err(Error::BadEnvelope));
    }

    #[test]
    fn an_oversized_bundle_is_malformed_whatever_its_fields() {
        // Longer than BUNDLE_MAX_LEN: BadEnvelope even when the bytes before are a valid bundle
        // and even when the length would pass an envelope's limit; never TooLarge.
        for len in [BUNDLE_MAX_LEN + 1, crate::limits::MAX_ENVELOPE_LEN + 1] {
            let mut b = fields(true, true).to_bytes();
            b.resize(len, 0);
            assert_eq!(BundleFields::parse(&b), Err(Error::BadEnvelope), "len {len}");
        }
        // The type is checked first: a long input of another type is the wrong type.
        let mut other = vec![0u8; BUNDLE_MAX_LEN + 1];
        other[..2].copy_from_slice(&[1, MessageType::Message as u8]);
        assert_eq!(BundleFields::parse(&other), Err(Error::WrongMessageType));
    }

    #[test]
    fn other_types_are_wrong_type() {
        let mut b = fields(false, false).to_bytes();
        b[1] = MessageType::Message as u8;
        assert_eq!(BundleFields::parse(&b), Err(Error::WrongMessageType));
    }
}
