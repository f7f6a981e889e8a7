//! X25519 (RFC 7748). An all-zero shared secret (a small-order peer key) is an error.

use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::random;
use crate::error::{Error, Result};
use crate::limits::{PUBLIC_KEY_LEN, SECRET_KEY_LEN};

/// An X25519 secret key (identity, signed prekey, one-time prekey, ephemeral or ratchet key).
/// `StaticSecret` zeroizes itself on drop (x25519-dalek feature `zeroize`). The public key is
/// computed once, on first use (a base-point multiplication: it was a third of a message's cost
/// when recomputed for every header).
#[derive(Clone)]
pub struct X25519SecretKey(StaticSecret, std::sync::OnceLock<X25519PublicKey>);

/// An X25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct X25519PublicKey(pub [u8; PUBLIC_KEY_LEN]);

/// The output of one Diffie-Hellman; never all zero.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret([u8; 32]);

impl core::fmt::Debug for X25519SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "X25519SecretKey(public: {:?})", self.public_key())
    }
}

impl core::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

impl X25519SecretKey {
    /// A fresh key from the OS random number generator.
    pub fn generate() -> Result<Self> {
        let mut bytes: [u8; SECRET_KEY_LEN] = random::array()?;
        let key = Self::from_bytes(bytes);
        bytes.zeroize();
        Ok(key)
    }

    /// A key from its 32 secret bytes (clamped by X25519 itself).
    pub fn from_bytes(bytes: [u8; SECRET_KEY_LEN]) -> Self {
        X25519SecretKey(StaticSecret::from(bytes), std::sync::OnceLock::new())
    }

    /// The secret bytes, for serialization.
    pub fn to_bytes(&self) -> [u8; SECRET_KEY_LEN] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> X25519PublicKey {
        *self.1.get_or_init(|| X25519PublicKey(PublicKey::from(&self.0).to_bytes()))
    }

    /// X25519(self, peer). A peer key of small order gives an all-zero output: `WeakKey`.
    pub fn diffie_hellman(&self, peer: &X25519PublicKey) -> Result<SharedSecret> {
        let shared = self.0.diffie_hellman(&PublicKey::from(peer.0));
        let bytes = *shared.as_bytes();
        let secret = SharedSecret(bytes);
        if bool::from(secret.0.ct_eq(&[0u8; 32])) {
            return Err(Error::WeakKey);
        }
        Ok(secret)
    }
}

impl SharedSecret {
    /// The 32 shared bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl X25519PublicKey {
    /// The 32 public bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let v: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
        v.try_into().unwrap()
    }

    #[test]
    fn rfc7748_section_6_1() {
        let a = X25519SecretKey::from_bytes(hex32(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ));
        let b = X25519SecretKey::from_bytes(hex32(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        ));
        assert_eq!(
            a.public_key().0,
            hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            b.public_key().0,
            hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        );
        let k = hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(*a.diffie_hellman(&b.public_key()).unwrap().as_bytes(), k);
        assert_eq!(*b.diffie_hellman(&a.public_key()).unwrap().as_bytes(), k);
    }

    #[test]
    fn small_order_points_are_weak() {
        let me = X25519SecretKey::generate().unwrap();
        // The identity point (0) and the point of order 2 (1) give an all-zero output.
        for p in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            assert_eq!(me.diffie_hellman(&X25519PublicKey(p)).unwrap_err(), Error::WeakKey);
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let k = X25519SecretKey::from_bytes([7u8; 32]);
        let s = format!("{k:?}");
        assert!(s.starts_with("X25519SecretKey(public"));
        assert!(!s.contains("7, 7, 7"));
    }
}
