//! XChaCha20-Poly1305 with a fresh random 24-byte nonce for every encryption.
//!
//! Sealed format: `nonce (24) || ciphertext || tag (16)`, the same bytes libsodium's
//! `crypto_aead_xchacha20poly1305_ietf_encrypt` produces after its caller prepends the nonce.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::random;
use crate::error::{Error, Result};
use crate::limits::{AEAD_OVERHEAD, KEY_LEN, NONCE_LEN, TAG_LEN};

/// A 32-byte XChaCha20-Poly1305 key.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct AeadKey([u8; KEY_LEN]);

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AeadKey(<redacted>)")
    }
}

impl AeadKey {
    /// Wraps key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        AeadKey(bytes)
    }

    /// The key bytes (for serialization of state; handle with care).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(<&Key>::from(&self.0))
    }
}

/// Length of the sealed form of a `plaintext_len`-byte plaintext.
pub const fn sealed_len(plaintext_len: usize) -> usize {
    plaintext_len + AEAD_OVERHEAD
}

/// Encrypts `plaintext` under `key` with associated data `ad`; returns `nonce || ct || tag`.
pub fn seal(key: &AeadKey, ad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![0u8; sealed_len(plaintext.len())];
    seal_into(key, ad, plaintext, &mut out)?;
    Ok(out)
}

/// Encrypts into `out`, which must be exactly `sealed_len(plaintext.len())` bytes.
pub fn seal_into(key: &AeadKey, ad: &[u8], plaintext: &[u8], out: &mut [u8]) -> Result<()> {
    if out.len() != sealed_len(plaintext.len()) {
        return Err(Error::BufferTooSmall);
    }
    let (nonce, rest) = out.split_at_mut(NONCE_LEN);
    random::fill(nonce)?;
    let (body, tag_out) = rest.split_at_mut(plaintext.len());
    body.copy_from_slice(plaintext);
    let tag = key
        .cipher()
        .encrypt_inout_detached(<&XNonce>::from(&to_nonce(nonce)), ad, body.into())
        .map_err(|_| Error::TooLarge)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// Decrypts `nonce || ct || tag`; any tampering, truncation or wrong key is `AuthFailed`.
pub fn open(key: &AeadKey, ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < AEAD_OVERHEAD {
        return Err(Error::AuthFailed);
    }
    let mut out = vec![0u8; sealed.len() - AEAD_OVERHEAD];
    open_into(key, ad, sealed, &mut out)?;
    Ok(out)
}

/// Decrypts into `out`, which must be exactly `sealed.len() - AEAD_OVERHEAD` bytes.
/// On failure `out` is zeroed, so no unauthenticated plaintext is left behind.
pub fn open_into(key: &AeadKey, ad: &[u8], sealed: &[u8], out: &mut [u8]) -> Result<()> {
    if sealed.len() < AEAD_OVERHEAD {
        return Err(Error::AuthFailed);
    }
    if out.len() != sealed.len() - AEAD_OVERHEAD {
        return Err(Error::BufferTooSmall);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    out.copy_from_slice(body);
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::AuthFailed)?;
    let result = key.cipher().decrypt_inout_detached(
        <&XNonce>::from(&to_nonce(nonce)),
        ad,
        (&mut *out).into(),
        <&Tag>::from(&tag),
    );
    if result.is_err() {
        out.zeroize();
        return Err(Error::AuthFailed);
    }
    Ok(())
}

fn to_nonce(bytes: &[u8]) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(bytes);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> AeadKey {
        AeadKey::from_bytes([b; 32])
    }

    #[test]
    fn round_trip_with_ad() {
        let sealed = seal(&key(1), b"ad", b"hello").unwrap();
        assert_eq!(sealed.len(), 5 + AEAD_OVERHEAD);
        assert_eq!(open(&key(1), b"ad", &sealed).unwrap(), b"hello");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let sealed = seal(&key(1), b"", b"").unwrap();
        assert_eq!(open(&key(1), b"", &sealed).unwrap(), b"");
    }

    #[test]
    fn nonces_are_fresh() {
        let a = seal(&key(1), b"", b"same").unwrap();
        let b = seal(&key(1), b"", b"same").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
    }

    #[test]
    fn wrong_key_wrong_ad_and_every_bit_flip_fail() {
        let sealed = seal(&key(1), b"ad", b"msg").unwrap();
        assert_eq!(open(&key(2), b"ad", &sealed), Err(Error::AuthFailed));
        assert_eq!(open(&key(1), b"ax", &sealed), Err(Error::AuthFailed));
        for i in 0..sealed.len() * 8 {
            let mut t = sealed.clone();
            t[i / 8] ^= 1 << (i % 8);
            assert_eq!(open(&key(1), b"ad", &t), Err(Error::AuthFailed), "bit {i}");
        }
    }

    #[test]
    fn every_truncation_fails() {
        let sealed = seal(&key(1), b"", b"message").unwrap();
        for n in 0..sealed.len() {
            assert_eq!(open(&key(1), b"", &sealed[..n]), Err(Error::AuthFailed), "len {n}");
        }
    }

    #[test]
    fn debug_does_not_print_key() {
        assert_eq!(format!("{:?}", key(0xAB)), "AeadKey(<redacted>)");
    }
}
