//! Message envelopes: `PREKEY_MESSAGE` (type 1) and `MESSAGE` (type 2).
//!
//! ```text
//! MESSAGE                                  PREKEY_MESSAGE
//!  0  version            1                  0  version            1
//!  1  type = 2           1                  1  type = 1           1
//!  2  session id         8                  2  session id         8
//! 10  ratchet key       32                 10  initiator id      32  (Ed25519)
//! 42  previous chain n   1-5 (varint)      42  ephemeral key     32  (X25519)
//!  +  message number     1-5 (varint)      74  signed prekey id   4
//!  +  sealed: ct | tag 16                  78  flags              1  (bit 0: one-time prekey used,
//!                                                                      bit 1: ML-KEM block follows)
//!                                          79  one-time prekey id 4  (0 when bit 0 clear)
//!                                          83  [ML-KEM block   1093: kind 1 | id 4 | ciphertext 1088]
//!                                           +  ratchet key       32
//!                                           +  previous chain n   1-5 (varint)
//!                                           +  message number     1-5 (varint)
//!                                              sealed: ct | tag 16
//! ```
//! Counters are unsigned LEB128 varints, shortest form only. A MESSAGE header is 44 bytes while
//! both counters are below 128 (46 below 16,384; 52 at most); a PREKEY_MESSAGE header is 117
//! bytes classical, 1,210 bytes hybrid (same counter rule). The sealed part carries no nonce:
//! every message key seals one message, under the all-zero nonce (`aead::seal_single_use_into`).
//! With the framing byte, a message adds 61 bytes to its plaintext in the usual case.
//! The AEAD's associated data is the header (every byte before `sealed`) followed by the sender's
//! and the recipient's agent ids.

use super::bundle::KemPrekeyKind;
use super::reader::{Reader, VARINT_U32_MAX_LEN, Writer, varint_u32_len};
use super::{MessageType, PROTOCOL_VERSION, expect_type};
use crate::crypto::X25519PublicKey;
use crate::crypto::kem::{KEM_CIPHERTEXT_LEN, KemCiphertext};
use crate::error::{Error, Result};
use crate::limits::{MAX_ENVELOPE_LEN, PUBLIC_KEY_LEN, SESSION_ID_LEN, TAG_LEN};

/// The ratchet part of every header with both counters below 128: key and two one-byte varints.
const RATCHET_PART_MIN_LEN: usize = PUBLIC_KEY_LEN + 2;
/// Header length of a `MESSAGE` whose counters are both below 128 (each larger counter adds up
/// to 4 bytes, see [`MESSAGE_HEADER_MAX_LEN`]).
pub const MESSAGE_HEADER_LEN: usize = 2 + SESSION_ID_LEN + RATCHET_PART_MIN_LEN;
/// Longest `MESSAGE` header: both counters in five-byte varints.
pub const MESSAGE_HEADER_MAX_LEN: usize = MESSAGE_HEADER_LEN + 2 * (VARINT_U32_MAX_LEN - 1);
/// Header length of a classical `PREKEY_MESSAGE` whose counters are below 128.
pub const PREKEY_MESSAGE_HEADER_LEN: usize = 2 + SESSION_ID_LEN + 32 + 32 + 4 + 1 + 4 + RATCHET_PART_MIN_LEN;
/// Bytes the ML-KEM block adds to a hybrid `PREKEY_MESSAGE` header.
pub const KEM_BLOCK_LEN: usize = 1 + 4 + KEM_CIPHERTEXT_LEN;
/// Header length of a hybrid `PREKEY_MESSAGE` whose counters are below 128.
pub const HYBRID_PREKEY_MESSAGE_HEADER_LEN: usize = PREKEY_MESSAGE_HEADER_LEN + KEM_BLOCK_LEN;
/// Smallest sealed part: one framing byte and the tag.
pub const MIN_SEALED_LEN: usize = 1 + TAG_LEN;

const FLAG_ONE_TIME_PREKEY: u8 = 0x01;
const FLAG_KEM: u8 = 0x02;

/// The ML-KEM part of a hybrid first message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KemHeader {
    /// Which kind of the responder's ML-KEM prekeys was used.
    pub kind: KemPrekeyKind,
    /// Its id.
    pub id: u32,
    /// The encapsulation to it.
    pub ciphertext: KemCiphertext,
}

/// The Double Ratchet header: the sender's current ratchet public key, the length of its
/// previous sending chain (PN) and this message's number in the current chain (N).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatchetHeader {
    /// DHs: the sender's ratchet public key.
    pub ratchet_key: X25519PublicKey,
    /// PN: number of messages in the sender's previous sending chain.
    pub previous_chain_len: u32,
    /// N: this message's index in the current sending chain.
    pub message_number: u32,
}

/// What a responder needs to run the handshake from an initiator's first messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrekeyHeader {
    /// The initiator's agent id (Ed25519 public key).
    pub initiator: [u8; PUBLIC_KEY_LEN],
    /// EK_A: the initiator's ephemeral X25519 key.
    pub ephemeral_key: X25519PublicKey,
    /// Which of the responder's signed prekeys was used.
    pub signed_prekey_id: u32,
    /// Which one-time prekey was used, if any.
    pub one_time_prekey_id: Option<u32>,
    /// The ML-KEM encapsulation of a hybrid set-up.
    pub kem: Option<KemHeader>,
}

/// A parsed message envelope, borrowing from the input.
#[derive(Clone, Debug)]
pub struct MessageEnvelope<'a> {
    /// The session id both sides derived from the handshake.
    pub session_id: [u8; SESSION_ID_LEN],
    /// Present on `PREKEY_MESSAGE`s.
    pub prekey: Option<PrekeyHeader>,
    /// The ratchet header.
    pub ratchet: RatchetHeader,
    /// Every byte before `sealed`, bound as associated data.
    pub header_bytes: &'a [u8],
    /// `ciphertext || tag`.
    pub sealed: &'a [u8],
}

impl<'a> MessageEnvelope<'a> {
    /// Parses a `MESSAGE` or `PREKEY_MESSAGE`. Any other type is `WrongMessageType`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        Self::parse_taking(bytes, &[MessageType::Message, MessageType::PrekeyMessage])
    }

    /// Parses a `PREKEY_MESSAGE` only (what `accept` takes). Any other type, a `MESSAGE`
    /// included, is `WrongMessageType` before the body is looked at.
    pub fn parse_prekey_message(bytes: &'a [u8]) -> Result<Self> {
        Self::parse_taking(bytes, &[MessageType::PrekeyMessage])
    }

    /// The parse order of docs/PROTOCOL.md section 4.1: common header, the call's types, the
    /// size limit, then the fields in order.
    fn parse_taking(bytes: &'a [u8], takes: &[MessageType]) -> Result<Self> {
        let is_prekey_message = expect_type(bytes, takes)? == MessageType::PrekeyMessage;
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(Error::TooLarge);
        }
        let mut r = Reader::new(bytes);
        r.take(2)?;
        let session_id = r.array()?;
        let prekey = if is_prekey_message {
            let initiator = r.array()?;
            let ephemeral_key = X25519PublicKey(r.array()?);
            let signed_prekey_id = r.u32()?;
            let flags = r.u8()?;
            let otk_id = r.u32()?;
            if flags & !(FLAG_ONE_TIME_PREKEY | FLAG_KEM) != 0 {
                return Err(Error::BadEnvelope);
            }
            let one_time_prekey_id = match flags & FLAG_ONE_TIME_PREKEY {
                0 if otk_id == 0 => None,
                0 => return Err(Error::BadEnvelope),
                _ => Some(otk_id),
            };
            let kem = if flags & FLAG_KEM != 0 {
                let kind = KemPrekeyKind::from_u8(r.u8()?).ok_or(Error::BadEnvelope)?;
                let id = r.u32()?;
                let mut ct = Box::new([0u8; KEM_CIPHERTEXT_LEN]);
                ct.copy_from_slice(r.take(KEM_CIPHERTEXT_LEN)?);
                Some(KemHeader { kind, id, ciphertext: KemCiphertext(ct) })
            } else {
                None
            };
            Some(PrekeyHeader { initiator, ephemeral_key, signed_prekey_id, one_time_prekey_id, kem })
        } else {
            None
        };
        let ratchet = RatchetHeader {
            ratchet_key: X25519PublicKey(r.array()?),
            previous_chain_len: r.varint_u32()?,
            message_number: r.varint_u32()?,
        };
        let header_len = r.position();
        let sealed = r.rest();
        if sealed.len() < MIN_SEALED_LEN {
            return Err(Error::BadEnvelope);
        }
        Ok(MessageEnvelope { session_id, prekey, ratchet, header_bytes: &bytes[..header_len], sealed })
    }
}

/// Encodes a message header (everything before the sealed part).
pub fn encode_header(
    session_id: &[u8; SESSION_ID_LEN],
    prekey: Option<&PrekeyHeader>,
    ratchet: &RatchetHeader,
) -> Vec<u8> {
    let header_len = header_len(prekey, ratchet);
    let mut w = Writer::with_capacity(header_len);
    w.u8(PROTOCOL_VERSION);
    match prekey {
        None => {
            w.u8(MessageType::Message as u8).bytes(session_id);
        }
        Some(p) => {
            w.u8(MessageType::PrekeyMessage as u8)
                .bytes(session_id)
                .bytes(&p.initiator)
                .bytes(p.ephemeral_key.as_bytes())
                .u32(p.signed_prekey_id);
            let flags = if p.one_time_prekey_id.is_some() { FLAG_ONE_TIME_PREKEY } else { 0 }
                | if p.kem.is_some() { FLAG_KEM } else { 0 };
            w.u8(flags).u32(p.one_time_prekey_id.unwrap_or(0));
            if let Some(k) = &p.kem {
                w.u8(k.kind as u8).u32(k.id).bytes(&k.ciphertext.0[..]);
            }
        }
    }
    w.bytes(ratchet.ratchet_key.as_bytes())
        .varint_u32(ratchet.previous_chain_len)
        .varint_u32(ratchet.message_number);
    debug_assert_eq!(w.buf.len(), header_len);
    w.buf
}

/// The header length of a message with this prekey header (none: a plain `MESSAGE`) and these
/// counters.
pub fn header_len(prekey: Option<&PrekeyHeader>, ratchet: &RatchetHeader) -> usize {
    let base = match prekey {
        None => MESSAGE_HEADER_LEN,
        Some(p) if p.kem.is_some() => HYBRID_PREKEY_MESSAGE_HEADER_LEN,
        Some(_) => PREKEY_MESSAGE_HEADER_LEN,
    };
    base - 2 + varint_u32_len(ratchet.previous_chain_len) + varint_u32_len(ratchet.message_number)
}

/// Associated data this long or shorter is built on the stack: any `MESSAGE`'s.
const INLINE_AD_LEN: usize = MESSAGE_HEADER_MAX_LEN + 2 * PUBLIC_KEY_LEN;

/// Calls `f` with the associated data of a message AEAD ([`associated_data`]), built on the
/// stack for a `MESSAGE` (a `PREKEY_MESSAGE`'s, up to 1,274 bytes, goes in a vector): no
/// allocation per message.
pub fn with_associated_data<T>(
    header: &[u8],
    sender: &[u8; 32],
    recipient: &[u8; 32],
    f: impl FnOnce(&[u8]) -> T,
) -> T {
    let len = header.len() + 64;
    if len > INLINE_AD_LEN {
        return f(&associated_data(header, sender, recipient));
    }
    let mut ad = [0u8; INLINE_AD_LEN];
    ad[..header.len()].copy_from_slice(header);
    ad[header.len()..len - 32].copy_from_slice(sender);
    ad[len - 32..len].copy_from_slice(recipient);
    f(&ad[..len])
}

/// The associated data of a message AEAD: header, sender id, recipient id.
pub fn associated_data(header: &[u8], sender: &[u8; 32], recipient: &[u8; 32]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(header.len() + 64);
    ad.extend_from_slice(header);
    ad.extend_from_slice(sender);
    ad.extend_from_slice(recipient);
    ad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratchet() -> RatchetHeader {
        RatchetHeader { ratchet_key: X25519PublicKey([7; 32]), previous_chain_len: 3, message_number: 9 }
    }

    fn prekey(otk: Option<u32>) -> PrekeyHeader {
        PrekeyHeader {
            initiator: [1; 32],
            ephemeral_key: X25519PublicKey([2; 32]),
            signed_prekey_id: 5,
            one_time_prekey_id: otk,
            kem: None,
        }
    }

    fn with_sealed(mut header: Vec<u8>) -> Vec<u8> {
        header.extend_from_slice(&[0xAA; MIN_SEALED_LEN]);
        header
    }

    #[test]
    fn message_round_trips_with_documented_offsets() {
        let h = encode_header(&[9; 8], None, &ratchet());
        assert_eq!(h.len(), MESSAGE_HEADER_LEN);
        assert_eq!(MESSAGE_HEADER_LEN, 44);
        assert_eq!(&h[..2], &[1, 2]);
        assert_eq!(&h[2..10], &[9; 8]);
        assert_eq!(&h[10..42], &[7; 32]);
        assert_eq!(&h[42..44], &[3, 9]);
        let bytes = with_sealed(h.clone());
        let env = MessageEnvelope::parse(&bytes).unwrap();
        assert_eq!(env.session_id, [9; 8]);
        assert_eq!(env.prekey, None);
        assert_eq!(env.ratchet, ratchet());
        assert_eq!(env.header_bytes, &h[..]);
        assert_eq!(env.sealed.len(), MIN_SEALED_LEN);
    }

    #[test]
    fn prekey_message_round_trips_with_and_without_one_time_prekey() {
        for otk in [None, Some(0), Some(77)] {
            let h = encode_header(&[9; 8], Some(&prekey(otk)), &ratchet());
            assert_eq!(h.len(), PREKEY_MESSAGE_HEADER_LEN);
            assert_eq!(h.len(), 117);
            assert_eq!(h.len(), header_len(Some(&prekey(otk)), &ratchet()));
            let bytes = with_sealed(h);
            let env = MessageEnvelope::parse(&bytes).unwrap();
            assert_eq!(env.prekey, Some(prekey(otk)));
            assert_eq!(env.ratchet, ratchet());
        }
    }

    #[test]
    fn hybrid_prekey_message_round_trips() {
        let mut p = prekey(Some(3));
        p.kem = Some(KemHeader {
            kind: KemPrekeyKind::OneTime,
            id: 3,
            ciphertext: KemCiphertext(Box::new([8; KEM_CIPHERTEXT_LEN])),
        });
        let h = encode_header(&[9; 8], Some(&p), &ratchet());
        assert_eq!(h.len(), HYBRID_PREKEY_MESSAGE_HEADER_LEN);
        assert_eq!(h.len(), 1210);
        assert_eq!(h[78], 3);
        let bytes = with_sealed(h);
        let env = MessageEnvelope::parse(&bytes).unwrap();
        assert_eq!(env.prekey, Some(p));
        assert_eq!(env.ratchet, ratchet());
        for n in (0..bytes.len()).step_by(7) {
            assert!(MessageEnvelope::parse(&bytes[..n]).is_err());
        }
        let mut kind = bytes.clone();
        kind[83] = 9;
        assert_eq!(MessageEnvelope::parse(&kind).unwrap_err(), Error::BadEnvelope);
    }

    #[test]
    fn associated_data_on_the_stack_equals_the_vector_form() {
        // Both sides of INLINE_AD_LEN: empty, a MESSAGE header, the largest one, one byte over,
        // and a hybrid PREKEY_MESSAGE header (which takes the vector).
        for len in [0, MESSAGE_HEADER_LEN, INLINE_AD_LEN - 64, INLINE_AD_LEN - 63, 1210] {
            let header: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let (a, b) = ([0xA1; 32], [0xB2; 32]);
            let expected = associated_data(&header, &a, &b);
            assert_eq!(expected.len(), len + 64);
            with_associated_data(&header, &a, &b, |ad| assert_eq!(ad, &expected[..], "len {len}"));
            // Sender and recipient are not interchangeable.
            with_associated_data(&header, &b, &a, |ad| assert_ne!(ad, &expected[..], "len {len}"));
        }
    }

    #[test]
    fn every_truncation_is_refused() {
        for p in [None, Some(prekey(Some(1)))] {
            let bytes = with_sealed(encode_header(&[9; 8], p.as_ref(), &ratchet()));
            for n in 0..bytes.len() {
                assert!(MessageEnvelope::parse(&bytes[..n]).is_err(), "len {n}");
            }
        }
    }

    #[test]
    fn bad_flags_are_refused() {
        let mut bytes = with_sealed(encode_header(&[9; 8], Some(&prekey(None)), &ratchet()));
        bytes[78] = 4;
        assert_eq!(MessageEnvelope::parse(&bytes).unwrap_err(), Error::BadEnvelope);
        bytes[78] = 0;
        bytes[82] = 1; // id present while the flag says none
        assert_eq!(MessageEnvelope::parse(&bytes).unwrap_err(), Error::BadEnvelope);
    }

    #[test]
    fn bundle_type_is_wrong_type_and_version_is_checked() {
        let mut bytes = with_sealed(encode_header(&[9; 8], None, &ratchet()));
        bytes[1] = MessageType::PrekeyBundle as u8;
        assert_eq!(MessageEnvelope::parse(&bytes).unwrap_err(), Error::WrongMessageType);
        bytes[1] = 2;
        bytes[0] = 2;
        assert_eq!(MessageEnvelope::parse(&bytes).unwrap_err(), Error::UnsupportedVersion);
    }

    #[test]
    fn counters_take_varints_and_the_header_length_follows() {
        for (pn, n) in [(0, 0), (127, 128), (16_383, 16_384), (u32::MAX, u32::MAX)] {
            let r = RatchetHeader {
                ratchet_key: X25519PublicKey([7; 32]),
                previous_chain_len: pn,
                message_number: n,
            };
            let h = encode_header(&[9; 8], None, &r);
            assert_eq!(h.len(), header_len(None, &r));
            assert!(h.len() >= MESSAGE_HEADER_LEN && h.len() <= MESSAGE_HEADER_MAX_LEN);
            let bytes = with_sealed(h);
            assert_eq!(MessageEnvelope::parse(&bytes).unwrap().ratchet, r);
        }
        let r = RatchetHeader {
            ratchet_key: X25519PublicKey([7; 32]),
            previous_chain_len: u32::MAX,
            message_number: u32::MAX,
        };
        assert_eq!(header_len(None, &r), MESSAGE_HEADER_MAX_LEN);
    }

    #[test]
    fn header_into_a_slice_is_the_writer_encoding() {
        use crate::wire::reader::Writer;
        for (pn, n) in [(0, 0), (127, 128), (16_383, 16_384), (0x1F_FFFF, 0x20_0000), (u32::MAX, 0xFFF_FFFF)]
        {
            let r = RatchetHeader {
                ratchet_key: X25519PublicKey([7; 32]),
                previous_chain_len: pn,
                message_number: n,
            };
            let mut w = Writer::default();
            w.u8(PROTOCOL_VERSION).u8(MessageType::Message as u8).bytes(&[9; 8]).bytes(&[7; 32]);
            w.varint_u32(pn).varint_u32(n);
            assert_eq!(encode_header(&[9; 8], None, &r), w.buf);
        }
    }

    #[test]
    fn associated_data_on_the_stack_or_not_is_the_same() {
        for p in [None, Some(prekey(Some(1)))] {
            for r in [
                ratchet(),
                RatchetHeader { previous_chain_len: u32::MAX, message_number: u32::MAX, ..ratchet() },
            ] {
                let h = encode_header(&[9; 8], p.as_ref(), &r);
                let ad = with_associated_data(&h, &[1; 32], &[2; 32], <[u8]>::to_vec);
                assert_eq!(ad, associated_data(&h, &[1; 32], &[2; 32]));
                assert_eq!(ad.len(), h.len() + 64);
            }
        }
    }

    #[test]
    fn an_overlong_counter_is_refused() {
        // PN = 3 written as 0x83 0x00 instead of 0x03: a second form of the same header.
        let mut bytes = encode_header(&[9; 8], None, &ratchet());
        bytes.truncate(42);
        bytes.extend_from_slice(&[0x83, 0x00, 9]);
        let bytes = with_sealed(bytes);
        assert_eq!(MessageEnvelope::parse(&bytes).unwrap_err(), Error::BadEnvelope);
    }

    #[test]
    fn a_first_message_parse_refuses_any_other_type_before_the_body() {
        // A MESSAGE given where only a PREKEY_MESSAGE is taken is the wrong type, truncated or
        // not, oversized or not: the type is checked before the length and the fields.
        let full = with_sealed(encode_header(&[9; 8], None, &ratchet()));
        for n in [2, 10, full.len()] {
            assert_eq!(
                MessageEnvelope::parse_prekey_message(&full[..n]).unwrap_err(),
                Error::WrongMessageType
            );
        }
        let mut huge = full.clone();
        huge.resize(MAX_ENVELOPE_LEN + 1, 0);
        assert_eq!(MessageEnvelope::parse_prekey_message(&huge).unwrap_err(), Error::WrongMessageType);
        // The same bytes as a PREKEY_MESSAGE: the body is parsed, so truncation is malformed.
        let mut first = full.clone();
        first[1] = MessageType::PrekeyMessage as u8;
        assert_eq!(MessageEnvelope::parse_prekey_message(&first[..10]).unwrap_err(), Error::BadEnvelope);
        let p = with_sealed(encode_header(&[9; 8], Some(&prekey(None)), &ratchet()));
        assert!(MessageEnvelope::parse_prekey_message(&p).unwrap().prekey.is_some());
    }

    #[test]
    fn oversized_envelope_is_refused() {
        let mut bytes = encode_header(&[9; 8], None, &ratchet());
        bytes.resize(MAX_ENVELOPE_LEN + 1, 0);
        assert_eq!(MessageEnvelope::parse(&bytes).unwrap_err(), Error::TooLarge);
    }
}
