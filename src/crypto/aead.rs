//! XChaCha20-Poly1305, two ways.
//!
//! - [`seal`]/[`open`]: a fresh random 24-byte nonce for every encryption, for keys that seal
//!   many messages (raw C ABI, state records). Sealed format: `nonce (24) || ciphertext || tag
//!   (16)`, the same bytes libsodium's `crypto_aead_xchacha20poly1305_ietf_encrypt` produces after
//!   its caller prepends the nonce.
//! - [`seal_single_use_in_place`]/[`open_single_use_into`]: for a key that seals exactly one message (a
//!   Double Ratchet message key), with the all-zero nonce, which is not sent: `ciphertext || tag`.
//!   A nonce only has to be unique per key; with one message per key any fixed value is, and a
//!   random one would cost 24 bytes per message and an OS call.

use chacha20poly1305::aead::inout::InOutBuf;
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
    // Encrypted from the caller's plaintext straight into `out`: no copy first.
    let buf = InOutBuf::new(plaintext, body).map_err(|_| Error::Internal)?;
    let tag = key
        .cipher()
        .encrypt_inout_detached(<&XNonce>::from(&to_nonce(nonce)), ad, buf)
        .map_err(|_| Error::TooLarge)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// The nonce of every single-use seal.
const SINGLE_USE_NONCE: [u8; NONCE_LEN] = [0; NONCE_LEN];

/// Length of a single-use seal of a `plaintext_len`-byte plaintext: ciphertext and tag.
pub const fn single_use_sealed_len(plaintext_len: usize) -> usize {
    plaintext_len + TAG_LEN
}

/// Encrypts, under a key that seals nothing else, the plaintext already in `buf` (all but its
/// last `TAG_LEN` bytes) in place, and writes the tag into those last bytes: `buf` becomes
/// `ciphertext || tag`. Encrypting where the envelope carries the bytes saves a copy.
///
/// The caller guarantees `key` is never used for another plaintext: the ratchet steps its chain
/// before an envelope leaves `Session::encrypt`, and the agent commits that step before it
/// returns the envelope.
pub fn seal_single_use_in_place(key: &AeadKey, ad: &[u8], buf: &mut [u8]) -> Result<()> {
    let body_len = buf.len().checked_sub(TAG_LEN).ok_or(Error::BufferTooSmall)?;
    let (body, tag_out) = buf.split_at_mut(body_len);
    let tag = key
        .cipher()
        .encrypt_inout_detached(<&XNonce>::from(&SINGLE_USE_NONCE), ad, body.into())
        .map_err(|_| Error::TooLarge)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// Decrypts a single-use seal (`ciphertext || tag`) into `out`, exactly `sealed.len() - TAG_LEN`
/// bytes (else `BufferTooSmall`); tampering, truncation or a wrong key is `AuthFailed`. The
/// ciphertext is read where it lies (no copy first), and the tag is checked before anything is
/// written: after a failure `out` holds what it held before.
pub fn open_single_use_into(key: &AeadKey, ad: &[u8], sealed: &[u8], out: &mut [u8]) -> Result<()> {
    let body_len = sealed.len().checked_sub(TAG_LEN).ok_or(Error::AuthFailed)?;
    if out.len() != body_len {
        return Err(Error::BufferTooSmall);
    }
    let (body, tag) = sealed.split_at(body_len);
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::AuthFailed)?;
    let buf = InOutBuf::new(body, out).map_err(|_| Error::Internal)?;
    key.cipher()
        .decrypt_inout_detached(<&XNonce>::from(&SINGLE_USE_NONCE), ad, buf, <&Tag>::from(&tag))
        .map_err(|_| Error::AuthFailed)
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
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::AuthFailed)?;
    // Decrypted from where the ciphertext lies straight into `out` (the tag is checked first:
    // on failure nothing is written, and `out` is zeroed anyway below).
    let buf = InOutBuf::new(body, &mut *out).map_err(|_| Error::Internal)?;
    let result =
        key.cipher().decrypt_inout_detached(<&XNonce>::from(&to_nonce(nonce)), ad, buf, <&Tag>::from(&tag));
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

    /// [`open_single_use_into`] into a buffer of the right size.
    fn open_single_use(key: &AeadKey, ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; sealed.len().checked_sub(TAG_LEN).ok_or(Error::AuthFailed)?];
        open_single_use_into(key, ad, sealed, &mut out)?;
        Ok(out)
    }

    #[test]
    fn single_use_open_into_a_wrong_size_is_refused_and_writes_nothing() {
        let mut sealed = b"abc".to_vec();
        sealed.resize(single_use_sealed_len(3), 0);
        seal_single_use_in_place(&key(1), b"", &mut sealed).unwrap();
        for len in [0, 2, 4] {
            let mut out = vec![0xEEu8; len];
            assert_eq!(open_single_use_into(&key(1), b"", &sealed, &mut out), Err(Error::BufferTooSmall));
            assert!(out.iter().all(|&b| b == 0xEE));
        }
        let mut out = [0xEEu8; 3];
        sealed[0] ^= 1;
        assert_eq!(open_single_use_into(&key(1), b"", &sealed, &mut out), Err(Error::AuthFailed));
        assert_eq!(out, [0xEE; 3], "the tag is checked before anything is written");
    }

    #[test]
    fn single_use_round_trips_and_is_libsodium_with_a_zero_nonce() {
        let mut sealed = b"hello".to_vec();
        sealed.resize(single_use_sealed_len(5), 0);
        seal_single_use_in_place(&key(1), b"ad", &mut sealed).unwrap();
        assert_ne!(&sealed[..5], b"hello");
        assert_eq!(&open_single_use(&key(1), b"ad", &sealed).unwrap()[..], b"hello");
        // The same bytes as the random-nonce format with the nonce stripped, when it is zero.
        let mut with_nonce = vec![0u8; NONCE_LEN];
        with_nonce.extend_from_slice(&sealed);
        assert_eq!(open(&key(1), b"ad", &with_nonce).unwrap(), b"hello");
    }

    #[test]
    fn single_use_refuses_tampering_truncation_wrong_key_and_ad() {
        let mut sealed = b"abc".to_vec();
        sealed.resize(single_use_sealed_len(3), 0);
        seal_single_use_in_place(&key(1), b"ad", &mut sealed).unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(open_single_use(&key(1), b"ad", &bad).err(), Some(Error::AuthFailed));
        }
        for n in 0..sealed.len() {
            assert_eq!(open_single_use(&key(1), b"ad", &sealed[..n]).err(), Some(Error::AuthFailed));
        }
        assert_eq!(open_single_use(&key(2), b"ad", &sealed).err(), Some(Error::AuthFailed));
        assert_eq!(open_single_use(&key(1), b"ax", &sealed).err(), Some(Error::AuthFailed));
        let mut short = vec![0u8; TAG_LEN - 1];
        assert_eq!(seal_single_use_in_place(&key(1), b"", &mut short), Err(Error::BufferTooSmall));
        // An empty plaintext is just a tag.
        let mut tag_only = vec![0u8; TAG_LEN];
        seal_single_use_in_place(&key(1), b"", &mut tag_only).unwrap();
        assert!(open_single_use(&key(1), b"", &tag_only).unwrap().is_empty());
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
