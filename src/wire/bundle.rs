//! The prekey bundle (type 3), the bytes an agent publishes so that others can reach it.
//!
//! ```text
//!   0  version                 1
//!   1  type = 3                1
//!   2  identity key (agent id) 32   Ed25519
//!  34  signed prekey id         4   u32 BE
//!  38  signed prekey           32   X25519
//!  70  signed prekey signature 64   Ed25519 over "DMP1 signed prekey" || id (4) || key (32)
//! 134  flags                    1   bit 0: a one-time prekey follows
//! 135  one-time prekey id       4   (only when flag set)
//! 139  one-time prekey         32   (only when flag set)
//! ```
//! Total: 135 bytes, or 171 with a one-time prekey.

use super::reader::{Reader, Writer};
use super::{MessageType, PROTOCOL_VERSION, peek_type};
use crate::crypto::{Signature, X25519PublicKey};
use crate::error::{Error, Result};
use crate::limits::{PUBLIC_KEY_LEN, SIGNATURE_LEN};

/// Encoded length of a bundle without a one-time prekey.
pub const BUNDLE_LEN: usize = 135;
/// Encoded length of a bundle with a one-time prekey.
pub const BUNDLE_WITH_ONE_TIME_PREKEY_LEN: usize = 171;

const FLAG_ONE_TIME_PREKEY: u8 = 0x01;

/// The fields of a bundle, as they are on the wire (not yet verified).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleFields {
    /// IK: the publisher's agent id (Ed25519 public key).
    pub identity_key: [u8; PUBLIC_KEY_LEN],
    /// The signed prekey's id.
    pub signed_prekey_id: u32,
    /// SPK: the signed prekey.
    pub signed_prekey: X25519PublicKey,
    /// Sig(IK, "DMP1 signed prekey" || id || SPK).
    pub signed_prekey_signature: Signature,
    /// OPK: an optional one-time prekey with its id.
    pub one_time_prekey: Option<(u32, X25519PublicKey)>,
}

impl BundleFields {
    /// Encodes the bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(BUNDLE_WITH_ONE_TIME_PREKEY_LEN);
        w.u8(PROTOCOL_VERSION)
            .u8(MessageType::PrekeyBundle as u8)
            .bytes(&self.identity_key)
            .u32(self.signed_prekey_id)
            .bytes(self.signed_prekey.as_bytes())
            .bytes(&self.signed_prekey_signature.0);
        match &self.one_time_prekey {
            Some((id, key)) => w.u8(FLAG_ONE_TIME_PREKEY).u32(*id).bytes(key.as_bytes()),
            None => w.u8(0),
        };
        w.buf
    }

    /// Parses a bundle; trailing bytes, unknown flags and other types are refused.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        match peek_type(bytes)? {
            MessageType::PrekeyBundle => {}
            _ => return Err(Error::WrongMessageType),
        }
        let mut r = Reader::new(bytes);
        r.take(2)?;
        let identity_key = r.array()?;
        let signed_prekey_id = r.u32()?;
        let signed_prekey = X25519PublicKey(r.array()?);
        let signed_prekey_signature = Signature(r.array::<SIGNATURE_LEN>()?);
        let one_time_prekey = match r.u8()? {
            0 => None,
            FLAG_ONE_TIME_PREKEY => Some((r.u32()?, X25519PublicKey(r.array()?))),
            _ => return Err(Error::BadEnvelope),
        };
        r.finish()?;
        Ok(BundleFields {
            identity_key,
            signed_prekey_id,
            signed_prekey,
            signed_prekey_signature,
            one_time_prekey,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(otk: bool) -> BundleFields {
        BundleFields {
            identity_key: [1; 32],
            signed_prekey_id: 42,
            signed_prekey: X25519PublicKey([2; 32]),
            signed_prekey_signature: Signature([3; 64]),
            one_time_prekey: otk.then_some((7, X25519PublicKey([4; 32]))),
        }
    }

    #[test]
    fn round_trips_with_documented_lengths() {
        for (otk, len) in [(false, BUNDLE_LEN), (true, BUNDLE_WITH_ONE_TIME_PREKEY_LEN)] {
            let b = fields(otk).to_bytes();
            assert_eq!(b.len(), len);
            assert_eq!(BundleFields::parse(&b).unwrap(), fields(otk));
        }
    }

    #[test]
    fn truncation_extension_and_bad_flags_are_refused() {
        let b = fields(true).to_bytes();
        for n in 0..b.len() {
            assert!(BundleFields::parse(&b[..n]).is_err(), "len {n}");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert_eq!(BundleFields::parse(&longer), Err(Error::BadEnvelope));
        let mut flags = fields(false).to_bytes();
        flags[134] = 3;
        assert_eq!(BundleFields::parse(&flags), Err(Error::BadEnvelope));
    }

    #[test]
    fn other_types_are_wrong_type() {
        let mut b = fields(false).to_bytes();
        b[1] = MessageType::Message as u8;
        assert_eq!(BundleFields::parse(&b), Err(Error::WrongMessageType));
    }
}
