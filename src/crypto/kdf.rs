//! HKDF-SHA256 and HMAC-SHA256 (RFC 5869, RFC 2104).

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

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
pub fn hmac_sha256_pair(key: &[u8], a: &[u8], b: &[u8]) -> ([u8; 32], [u8; 32]) {
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    let mut first = keyed.clone();
    first.update(a);
    let mut second = keyed;
    second.update(b);
    (first.finalize().into_bytes().into(), second.finalize().into_bytes().into())
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
    }

    #[test]
    fn hkdf_refuses_too_long_output() {
        let mut out = vec![0u8; HKDF_MAX_OUTPUT + 1];
        assert_eq!(hkdf_sha256(b"", b"k", b"", &mut out), Err(Error::TooLarge));
        let mut ok = vec![0u8; HKDF_MAX_OUTPUT];
        assert!(hkdf_sha256(b"", b"k", b"", &mut ok).is_ok());
    }
}
