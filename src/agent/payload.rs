//! What an agent puts inside a pairwise message: `kind (1) || body`.
//!
//! | kind | body |
//! |---|---|
//! | 0 `APP` | the application's plaintext |
//! | 1 `DISTRIBUTION` | a sender-key distribution (138 bytes) |
//! | 2 `HELLO` | empty: sets up the session without a message |

use crate::error::{Error, Result};

/// The application's plaintext.
pub const APP: u8 = 0;
/// A sender-key distribution, handled by the agent.
pub const DISTRIBUTION: u8 = 1;
/// An empty set-up message.
pub const HELLO: u8 = 2;

/// Frames a body.
pub fn frame(kind: u8, body: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut v = zeroize::Zeroizing::new(Vec::with_capacity(1 + body.len()));
    v.push(kind);
    v.extend_from_slice(body);
    v
}

/// Splits a payload into kind and body; an empty payload or unknown kind is `BadEnvelope`.
pub fn split(payload: &[u8]) -> Result<(u8, &[u8])> {
    match payload.split_first() {
        Some((&k, body)) if k <= HELLO => {
            if k == HELLO && !body.is_empty() {
                return Err(Error::BadEnvelope);
            }
            Ok((k, body))
        }
        _ => Err(Error::BadEnvelope),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_ones_are_refused() {
        assert_eq!(split(&frame(APP, b"hi")).unwrap(), (APP, &b"hi"[..]));
        assert_eq!(split(&frame(HELLO, b"")).unwrap(), (HELLO, &b""[..]));
        assert_eq!(split(&[]).unwrap_err(), Error::BadEnvelope);
        assert_eq!(split(&[3]).unwrap_err(), Error::BadEnvelope);
        assert_eq!(split(&[HELLO, 1]).unwrap_err(), Error::BadEnvelope);
    }
}
