//! HKDF-SHA256 and HMAC-SHA256 (RFC 5869, RFC 2104).

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::block_api::compress256;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// HKDF-SHA256 output longer than this is refused (RFC 5869: 255 * HashLen).
pub const HKDF_MAX_OUTPUT: usize = 255 * 32;

/// HKDF-SHA256 extract-then-expand into `out`. An empty `salt` means a zero-filled salt (RFC 5869).
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    if out.len() > HKDF_MAX_OUTPUT {
        return Err(Error::TooLarge);
    }
    let salt = if salt.is_empty() { None } else { Some(salt) };
    Hkdf::<Sha256>::new(salt, ikm).expand(info, out).map_err(|_| Error::TooLarge)
}

/// HKDF-SHA256 into a fixed-size array.
pub fn hkdf_array<const N: usize>(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    // N is a compile-time constant far below HKDF_MAX_OUTPUT, so expand cannot fail.
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .expect("HKDF output length is a small constant");
    out
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `(HMAC-SHA256(key, a), HMAC-SHA256(key, b))`, keying HMAC once: the key's inner and outer
/// pads are hashed a single time, two SHA-256 compressions fewer than two separate calls. (The
/// chain KDF of every message takes both outputs from the same chain key.)
///
/// For a key of at most one block and messages that fit the inner hash's single block (the
/// chain KDF: a 32-byte key, one-byte messages) HMAC is computed straight on SHA-256's
/// compression function: six compressions and nothing else, where the generic `hmac`/`digest`
/// layers (block buffers, padding, copies of the keyed state) added a fifth to the time.
/// Every intermediate (keyed states, inner hashes, the padded key) is cleared after use. Other
/// inputs take the `hmac` crate; `tests::hmac_pair_is_two_hmacs` checks both against it.
pub fn hmac_sha256_pair(key: &[u8], a: &[u8], b: &[u8]) -> ([u8; 32], [u8; 32]) {
    if key.len() <= SHA256_BLOCK_LEN && a.len() <= SINGLE_BLOCK_MAX && b.len() <= SINGLE_BLOCK_MAX {
        return hmac_sha256_pair_short(key, a, b);
    }
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    let mut first = keyed.clone();
    first.update(a);
    let mut second = keyed;
    second.update(b);
    (first.finalize().into_bytes().into(), second.finalize().into_bytes().into())
}

const SHA256_BLOCK_LEN: usize = 64;
/// The longest message whose SHA-256 padding (0x80 and the 8-byte length) fits its block.
const SINGLE_BLOCK_MAX: usize = SHA256_BLOCK_LEN - 9;
/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// [`hmac_sha256_pair`] for `key.len() <= 64` and messages of at most 55 bytes (RFC 2104 with
/// the key zero-padded to the block, FIPS 180-4 padding written by hand).
fn hmac_sha256_pair_short(key: &[u8], a: &[u8], b: &[u8]) -> ([u8; 32], [u8; 32]) {
    // K ^ ipad, then K ^ opad: each hashed once, as the first block of its hash.
    let mut block = Zeroizing::new([[0x36u8; SHA256_BLOCK_LEN]]);
    for (p, k) in block[0].iter_mut().zip(key) {
        *p ^= k;
    }
    let mut inner = Zeroizing::new(SHA256_IV);
    compress256(&mut inner, &block[..]);
    for p in block[0].iter_mut() {
        *p ^= 0x36 ^ 0x5c;
    }
    let mut outer = Zeroizing::new(SHA256_IV);
    compress256(&mut outer, &block[..]);
    // Inner hashes H(K ^ ipad || msg): each message and its padding in one second block. The
    // two messages' compressions are independent, as are the two outer ones below: issued next
    // to each other, the CPU overlaps them.
    let mut blocks = Zeroizing::new([[[0u8; SHA256_BLOCK_LEN]]; 2]);
    let mut states = Zeroizing::new([*inner; 2]);
    for ((block, state), msg) in blocks.iter_mut().zip(states.iter_mut()).zip([a, b]) {
        block[0][..msg.len()].copy_from_slice(msg);
        block[0][msg.len()] = 0x80;
        block[0][56..].copy_from_slice(&(((SHA256_BLOCK_LEN + msg.len()) * 8) as u64).to_be_bytes());
        compress256(state, &block[..]);
    }
    // Outer hashes H(K ^ opad || inner hash), likewise one second block each.
    let mut out = [[0u8; 32]; 2];
    for ((block, state), out) in blocks.iter_mut().zip(states.iter_mut()).zip(out.iter_mut()) {
        block[0] = [0; SHA256_BLOCK_LEN];
        for (bytes, word) in block[0].chunks_exact_mut(4).zip(state.iter()) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        block[0][32] = 0x80;
        block[0][56..].copy_from_slice(&(((SHA256_BLOCK_LEN + 32) * 8) as u64).to_be_bytes());
        *state = *outer;
        compress256(state, &block[..]);
        for (bytes, word) in out.chunks_exact_mut(4).zip(state.iter()) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
    }
    (out[0], out[1])
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_pair_is_two_hmacs() {
        for key in [&[][..], &[7u8; 32], &[9u8; 100]] {
            let (a, b) = hmac_sha256_pair(key, b"\x01", b"\x02");
            assert_eq!(a, hmac_sha256(key, b"\x01"));
            assert_eq!(b, hmac_sha256(key, b"\x02"));
            assert_ne!(a, b);
        }
        // Both routes (one-block key and messages computed on the compression function, the
        // rest by the `hmac` crate) at every length around their limits.
        let bytes: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        for key_len in [0, 1, 31, 32, 33, 55, 63, 64, 65, 100, 128, 129] {
            let key = &bytes[..key_len];
            for a_len in 0..=66 {
                let (a, b) = (&bytes[100..100 + a_len], &bytes[3..3 + (a_len * 7) % 70]);
                let (ma, mb) = hmac_sha256_pair(key, a, b);
                assert_eq!(ma, hmac_sha256(key, a), "key {key_len} a {a_len}");
                assert_eq!(mb, hmac_sha256(key, b), "key {key_len} b {}", b.len());
            }
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn rfc5869_test_case_1() {
        let ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = hex("000102030405060708090a0b0c");
        let info = hex("f0f1f2f3f4f5f6f7f8f9");
        let mut okm = [0u8; 42];
        hkdf_sha256(&salt, &ikm, &info, &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
    }

    #[test]
    fn rfc4231_hmac_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(mac.to_vec(), hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
        // The same vector through the pair's compression-function route.
        let (a, b) = hmac_sha256_pair(b"Jefe", b"what do ya want for nothing?", b"");
        assert_eq!(a, mac);
        assert_eq!(b, hmac_sha256(b"Jefe", b""));
    }

    #[test]
    fn hkdf_refuses_too_long_output() {
        let mut out = vec![0u8; HKDF_MAX_OUTPUT + 1];
        assert_eq!(hkdf_sha256(b"", b"k", b"", &mut out), Err(Error::TooLarge));
        let mut ok = vec![0u8; HKDF_MAX_OUTPUT];
        assert!(hkdf_sha256(b"", b"k", b"", &mut ok).is_ok());
    }
}
