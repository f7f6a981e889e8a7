//! The Double Ratchet's key kinds, one type each, so that a message key can never be used where
//! a chain key is expected.
//!
//! * KDF_RK(RK, dh_out) = HKDF-SHA256(salt = RK, ikm = dh_out, info = "DMP1 root", L = 64)
//!   -> (RK', CK)
//! * KDF_FIRST(SK) = HKDF-SHA256(salt = SK, ikm = "", info = "DMP1 first chain", L = 64)
//!   -> (RK, CK): the initiator's first sending chain, straight from the handshake secret
//! * KDF_CK(CK): MK = HMAC-SHA256(CK, 0x01), CK' = HMAC-SHA256(CK, 0x02)

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::kdf::{hkdf_array, hmac_sha256_pair};
use crate::crypto::{AeadKey, SharedSecret};
use crate::limits::KEY_LEN;

const ROOT_INFO: &[u8] = b"DMP1 root";
const FIRST_CHAIN_INFO: &[u8] = b"DMP1 first chain";
const MESSAGE_KEY_SEED: u8 = 0x01;
const CHAIN_KEY_SEED: u8 = 0x02;

macro_rules! secret_key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
        pub struct $name([u8; KEY_LEN]);

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl $name {
            /// Wraps key bytes (when restoring state).
            pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                $name(bytes)
            }

            /// The key bytes (when serializing state).
            pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }
    };
}

secret_key_type!(
    /// RK: the root key, advanced by every DH ratchet step.
    RootKey
);
secret_key_type!(
    /// CK: a sending or receiving chain key, advanced once per message.
    ChainKey
);
secret_key_type!(
    /// MK: the key of exactly one message, used once as the XChaCha20-Poly1305 key.
    MessageKey
);

impl RootKey {
    /// KDF_RK: mixes a DH output into the root key, giving the next root key and a chain key.
    pub fn ratchet(&self, dh_out: &SharedSecret) -> (RootKey, ChainKey) {
        Self::split(hkdf_array(&self.0, dh_out.as_bytes(), ROOT_INFO))
    }

    /// KDF_FIRST: the handshake secret SK gives the first root key and the initiator's first
    /// sending chain, with no DH of its own (as Olm does): SK already mixes fresh DHs of the
    /// initiator's ephemeral key with the responder's keys, and one more DH with a second fresh
    /// key of the initiator against the same signed prekey (Signal's RatchetInitAlice) adds
    /// nothing the peer does not already contribute, at the price of a DH on both sides.
    pub fn first_chain(&self) -> (RootKey, ChainKey) {
        Self::split(hkdf_array(&self.0, &[], FIRST_CHAIN_INFO))
    }

    fn split(mut okm: [u8; 64]) -> (RootKey, ChainKey) {
        let mut rk = [0u8; KEY_LEN];
        let mut ck = [0u8; KEY_LEN];
        rk.copy_from_slice(&okm[..32]);
        ck.copy_from_slice(&okm[32..]);
        okm.zeroize();
        (RootKey(rk), ChainKey(ck))
    }
}

impl ChainKey {
    /// KDF_CK: returns this step's message key and advances the chain.
    pub fn step(&mut self) -> MessageKey {
        let (mk, mut next) = hmac_sha256_pair(&self.0, &[MESSAGE_KEY_SEED], &[CHAIN_KEY_SEED]);
        self.0.copy_from_slice(&next);
        next.zeroize();
        MessageKey(mk)
    }
}

impl MessageKey {
    /// The AEAD key for this message.
    pub fn aead_key(&self) -> AeadKey {
        AeadKey::from_bytes(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_steps_are_distinct_and_deterministic() {
        let mut a = ChainKey::from_bytes([1; 32]);
        let mut b = ChainKey::from_bytes([1; 32]);
        let m0 = a.step();
        let m1 = a.step();
        assert_ne!(m0, m1);
        assert_eq!(b.step(), m0);
        assert_eq!(b.step(), m1);
        assert_ne!(a.as_bytes(), &[1; 32]);
        assert_ne!(a.as_bytes(), m1.as_bytes());
    }

    /// KDF_CK's bytes, fixed: MK = HMAC-SHA256(CK, 0x01), CK' = HMAC-SHA256(CK, 0x02) (values
    /// from Python's `hmac`), so no change to how the chain is computed can alter them.
    #[test]
    fn chain_step_known_answer() {
        let hex = |s: &str| -> [u8; 32] {
            core::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        };
        let mut ck = ChainKey::from_bytes([1; 32]);
        let mk0 = ck.step();
        assert_eq!(mk0.as_bytes(), &hex("cc6efb872c237f565ee82df42e4cab00098b13710395e3c6d29f2907d69e4f04"));
        assert_eq!(ck.as_bytes(), &hex("c31d79abaf8f2150ee1cfe3dc732eed02a56f79647909bad055a831cb762e9a2"));
        assert_eq!(
            ck.step().as_bytes(),
            &hex("7f9b7eee1ac1776859f044f1ff38b8be2f1098100c357c2060305853f192ccd1")
        );
    }

    /// KDF_FIRST's bytes, fixed (HKDF computed with Python's `hmac`): RK || CK =
    /// HKDF-SHA256(salt = SK, ikm = "", info = "DMP1 first chain", L = 64).
    #[test]
    fn first_chain_known_answer() {
        let hex = |s: &str| -> [u8; 32] {
            core::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        };
        let (rk, ck) = RootKey::from_bytes([1; 32]).first_chain();
        assert_eq!(rk.as_bytes(), &hex("152bcf661ce9bcbabcbe44760b8d9c903d1065f7d531e178502ae6ec388e1ec5"));
        assert_eq!(ck.as_bytes(), &hex("92099bd86ae288666a40680feb5caacb073c7ffce9f1921fa2e40476bd382c8e"));
    }

    #[test]
    fn debug_redacts() {
        assert_eq!(format!("{:?}", MessageKey::from_bytes([3; 32])), "MessageKey(<redacted>)");
        assert_eq!(format!("{:?}", RootKey::from_bytes([3; 32])), "RootKey(<redacted>)");
    }
}
