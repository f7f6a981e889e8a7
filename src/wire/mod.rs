//! Every byte format DMP puts on the wire. Parsing is total: any byte string gives a value or
//! an error, never a panic. docs/PROTOCOL.md gives the same layouts with offsets.
//!
//! Every envelope starts with `version (1) | type (1)`.

pub mod bundle;
pub mod envelope;
pub mod group;
pub mod padding;
pub mod reader;

pub use bundle::BundleFields;
pub use envelope::{MessageEnvelope, PrekeyHeader, RatchetHeader};
pub use padding::Padding;

use crate::error::{Error, Result};

/// The protocol version this build speaks (suite DMP1).
pub const PROTOCOL_VERSION: u8 = 1;

/// The envelope type byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageType {
    /// An initiator's message that also carries what the responder needs to set up the session.
    PrekeyMessage = 1,
    /// A Double Ratchet message in an established session.
    Message = 2,
    /// A prekey bundle, published so that others can start sessions.
    PrekeyBundle = 3,
    /// A group message, encrypted once under the sender's key and signed.
    GroupMessage = 4,
    /// A sender-key distribution, carried inside a pairwise session.
    SenderKeyDistribution = 5,
}

impl MessageType {
    /// The type for a type byte.
    pub fn from_u8(v: u8) -> Option<MessageType> {
        match v {
            1 => Some(MessageType::PrekeyMessage),
            2 => Some(MessageType::Message),
            3 => Some(MessageType::PrekeyBundle),
            4 => Some(MessageType::GroupMessage),
            5 => Some(MessageType::SenderKeyDistribution),
            _ => None,
        }
    }
}

/// Reads the common header of any envelope: the first steps of the parse order every call
/// follows (docs/PROTOCOL.md section 4.1). An input under 2 bytes is `BadEnvelope`; then a
/// version other than 1 is `UnsupportedVersion`; then a type byte not in the table is
/// `BadEnvelope`.
pub fn peek_type(bytes: &[u8]) -> Result<MessageType> {
    let [version, ty, ..] = *bytes else {
        return Err(Error::BadEnvelope);
    };
    if version != PROTOCOL_VERSION {
        return Err(Error::UnsupportedVersion);
    }
    MessageType::from_u8(ty).ok_or(Error::BadEnvelope)
}

/// [`peek_type`], then the type check of section 4.1: a well-formed type that the call does not
/// take (not in `takes`) is `WrongMessageType`, whatever the rest of the input.
pub fn expect_type(bytes: &[u8], takes: &[MessageType]) -> Result<MessageType> {
    let ty = peek_type(bytes)?;
    if !takes.contains(&ty) {
        return Err(Error::WrongMessageType);
    }
    Ok(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_type_is_total() {
        assert_eq!(peek_type(&[]), Err(Error::BadEnvelope));
        assert_eq!(peek_type(&[1]), Err(Error::BadEnvelope));
        assert_eq!(peek_type(&[2]), Err(Error::BadEnvelope), "under 2 bytes, whatever the version");
        assert_eq!(peek_type(&[0]), Err(Error::BadEnvelope));
        assert_eq!(peek_type(&[2, 1]), Err(Error::UnsupportedVersion));
        assert_eq!(peek_type(&[0, 1]), Err(Error::UnsupportedVersion));
        assert_eq!(peek_type(&[1, 0]), Err(Error::BadEnvelope));
        assert_eq!(peek_type(&[1, 6]), Err(Error::BadEnvelope));
        assert_eq!(peek_type(&[1, 4]), Ok(MessageType::GroupMessage));
        assert_eq!(peek_type(&[1, 5]), Ok(MessageType::SenderKeyDistribution));
        assert_eq!(peek_type(&[1, 1]), Ok(MessageType::PrekeyMessage));
        assert_eq!(peek_type(&[1, 2]), Ok(MessageType::Message));
        assert_eq!(peek_type(&[1, 3]), Ok(MessageType::PrekeyBundle));
    }

    #[test]
    fn parse_order_is_length_version_type_then_the_call_s_types() {
        use MessageType::*;
        // Each step decides before the next one looks.
        assert_eq!(expect_type(&[7], &[Message]), Err(Error::BadEnvelope));
        assert_eq!(expect_type(&[7, 9, 9], &[Message]), Err(Error::UnsupportedVersion));
        assert_eq!(expect_type(&[1, 9, 9], &[Message]), Err(Error::BadEnvelope));
        assert_eq!(expect_type(&[1, 4], &[Message, PrekeyMessage]), Err(Error::WrongMessageType));
        assert_eq!(expect_type(&[1, 2], &[PrekeyMessage]), Err(Error::WrongMessageType));
        assert_eq!(expect_type(&[1, 2], &[Message, PrekeyMessage]), Ok(Message));
    }
}
