//! Plaintext framing inside every message AEAD: `plaintext || 0x80 || 0x00*` (ISO/IEC 7816-4).
//!
//! The marker byte is always present, so the receiver never needs to know whether the sender
//! padded. With padding on, the framed length is rounded up to a bucket: powers of two from
//! `PADDING_MIN_BUCKET` to `PADDING_MAX_BUCKET`, then multiples of `PADDING_MAX_BUCKET`.

use crate::error::{Error, Result};
use crate::limits::{PADDING_MAX_BUCKET, PADDING_MIN_BUCKET};

/// Whether messages are padded to size buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Padding {
    /// Only the one marker byte is added.
    #[default]
    None,
    /// The framed plaintext is rounded up to a bucket size, hiding the exact length.
    Buckets,
}

impl Padding {
    /// The wire/C value of this mode.
    pub fn to_u8(self) -> u8 {
        match self {
            Padding::None => 0,
            Padding::Buckets => 1,
        }
    }

    /// The mode for a wire/C value.
    pub fn from_u8(v: u8) -> Option<Padding> {
        match v {
            0 => Some(Padding::None),
            1 => Some(Padding::Buckets),
            _ => None,
        }
    }
}

const MARKER: u8 = 0x80;

/// The framed length of a `len`-byte plaintext.
pub fn framed_len(len: usize, padding: Padding) -> usize {
    let min = len + 1;
    match padding {
        Padding::None => min,
        Padding::Buckets if min <= PADDING_MIN_BUCKET => PADDING_MIN_BUCKET,
        Padding::Buckets if min <= PADDING_MAX_BUCKET => min.next_power_of_two(),
        Padding::Buckets => min.div_ceil(PADDING_MAX_BUCKET) * PADDING_MAX_BUCKET,
    }
}

/// Writes the framing of `plaintext` into `out` (its framed length: plaintext, marker, zeros), so
/// that it can be encrypted in place where the envelope will carry it.
pub fn frame_into(plaintext: &[u8], out: &mut [u8]) {
    let (body, tail) = out.split_at_mut(plaintext.len());
    body.copy_from_slice(plaintext);
    tail[0] = MARKER;
    tail[1..].fill(0);
}

/// Removes the framing from a decrypted plaintext, in place.
pub fn unpad(framed: &mut Vec<u8>) -> Result<()> {
    let end = unpadded_len(framed)?;
    framed.truncate(end);
    Ok(())
}

/// The length of the plaintext inside a decrypted framed plaintext.
pub fn unpadded_len(framed: &[u8]) -> Result<usize> {
    let end = framed.iter().rposition(|&b| b != 0).ok_or(Error::BadEnvelope)?;
    if framed[end] != MARKER {
        return Err(Error::BadEnvelope);
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames `plaintext` into a new vector (messages are framed in place, with `frame_into`).
    fn pad(plaintext: &[u8], padding: Padding) -> Vec<u8> {
        let mut out = vec![0u8; framed_len(plaintext.len(), padding)];
        frame_into(plaintext, &mut out);
        out
    }

    #[test]
    fn round_trips_every_small_length_in_both_modes() {
        for mode in [Padding::None, Padding::Buckets] {
            for len in 0..300 {
                let pt: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let mut framed = pad(&pt, mode);
                assert_eq!(framed.len(), framed_len(len, mode));
                unpad(&mut framed).unwrap();
                assert_eq!(framed, pt);
            }
        }
    }

    #[test]
    fn plaintext_ending_in_zeros_survives() {
        let mut framed = pad(&[0, 0, 0x80, 0], Padding::Buckets);
        unpad(&mut framed).unwrap();
        assert_eq!(framed, vec![0, 0, 0x80, 0]);
    }

    #[test]
    fn buckets() {
        assert_eq!(framed_len(0, Padding::Buckets), 64);
        assert_eq!(framed_len(63, Padding::Buckets), 64);
        assert_eq!(framed_len(64, Padding::Buckets), 128);
        assert_eq!(framed_len(1000, Padding::Buckets), 1024);
        assert_eq!(framed_len(65_535, Padding::Buckets), 65_536);
        assert_eq!(framed_len(65_536, Padding::Buckets), 131_072);
        assert_eq!(framed_len(200_000, Padding::Buckets), 4 * 65_536);
        assert_eq!(framed_len(10, Padding::None), 11);
    }

    #[test]
    fn missing_marker_is_refused() {
        assert_eq!(unpad(&mut vec![]), Err(Error::BadEnvelope));
        assert_eq!(unpad(&mut vec![0, 0]), Err(Error::BadEnvelope));
        assert_eq!(unpad(&mut vec![1, 2, 0]), Err(Error::BadEnvelope));
    }
}
