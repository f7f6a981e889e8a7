//! X25519 (RFC 7748). An all-zero shared secret (a small-order peer key) is an error.
//!
//! The shared secret is computed on the Edwards form of the curve when the peer's key has one
//! (every honest key does): `X25519(k, u) = u([k] P)` for either point `P` of the curve with
//! Montgomery coordinate `u`, and curve25519-dalek's Edwards scalar multiplication uses its AVX2
//! backend when the CPU has it, while its Montgomery ladder is scalar code. That makes a
//! Diffie-Hellman ~1.5x faster (two per ratchet step with the same peer key share the
//! conversion: [`PreparedPeer`]). Keys on the curve's twist, and u = -1, have no Edwards form and
//! take the ladder. Both routes multiply by the same clamped, unreduced scalar, so the results are
//! the same bytes (`edwards_and_ladder_agree` checks it on random keys, twist points, small values
//! and non-canonical encodings, `small_order_points_are_weak` on every small-order point;
//! Wycheproof in tests/vectors.rs).

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

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
        self.diffie_hellman_prepared(&peer.prepare())
    }

    /// X25519(self, peer) with the peer's key already converted ([`X25519PublicKey::prepare`]).
    pub fn diffie_hellman_prepared(&self, peer: &PreparedPeer) -> Result<SharedSecret> {
        let scalar = Zeroizing::new(self.0.to_bytes());
        // The shared point is as secret as its coordinate: both are cleared after use.
        let shared = match peer {
            PreparedPeer::Edwards(point) => Zeroizing::new(point.mul_clamped(*scalar)).to_montgomery(),
            PreparedPeer::Ladder(u) => u.mul_clamped(*scalar),
        };
        let shared = Zeroizing::new(shared);
        let secret = SharedSecret(shared.to_bytes());
        if bool::from(secret.0.ct_eq(&[0u8; 32])) {
            return Err(Error::WeakKey);
        }
        Ok(secret)
    }
}

/// A peer's X25519 key ready for Diffie-Hellman: its Edwards form, found once (a square root),
/// when it has one.
#[derive(Clone, Copy)]
pub enum PreparedPeer {
    /// A point of the curve (either lift of the key's `u`).
    Edwards(EdwardsPoint),
    /// A key on the twist, or u = -1: the Montgomery ladder.
    Ladder(MontgomeryPoint),
}

impl PreparedPeer {
    /// The key of an Edwards point: X25519 with it is X25519 with its Montgomery `u` (an agent id
    /// is one, already decompressed by its verifying key: no conversion at all).
    pub fn from_edwards(point: EdwardsPoint) -> Self {
        PreparedPeer::Edwards(point)
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

    /// Whether this key has small order (1, 2, 4 or 8, on the curve or its twist): exactly the
    /// keys with which every X25519 output is all zero (a clamped scalar is a multiple of 8 and
    /// smaller than either large prime order). Checked without a Diffie-Hellman: `u([8] P)` is 0
    /// for those and only those, and the ladder over the bits of 8 is three doublings.
    pub fn is_small_order(&self) -> bool {
        const EIGHT_BIG_ENDIAN: [bool; 4] = [true, false, false, false];
        let eight_p = MontgomeryPoint(self.0).mul_bits_be(EIGHT_BIG_ENDIAN.into_iter());
        bool::from(eight_p.to_bytes().ct_eq(&[0u8; 32]))
    }

    /// This key converted for [`X25519SecretKey::diffie_hellman_prepared`]. Either Edwards point
    /// with this `u` would do (their multiples share their `u`); sign 0 is taken.
    pub fn prepare(&self) -> PreparedPeer {
        let montgomery = MontgomeryPoint(self.0);
        match montgomery.to_edwards(0) {
            Some(point) => PreparedPeer::Edwards(point),
            None => PreparedPeer::Ladder(montgomery),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7748's X25519 as x25519-dalek computes it (the Montgomery ladder), for comparison.
    fn ladder(secret: &X25519SecretKey, u: [u8; 32]) -> [u8; 32] {
        secret.0.diffie_hellman(&PublicKey::from(u)).to_bytes()
    }

    fn routed(secret: &X25519SecretKey, u: [u8; 32]) -> [u8; 32] {
        match secret.diffie_hellman(&X25519PublicKey(u)) {
            Ok(s) => *s.as_bytes(),
            Err(Error::WeakKey) => [0; 32],
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn edwards_and_ladder_agree() {
        let mut us: Vec<[u8; 32]> = Vec::new();
        // Honest keys, and the same with the ignored top bit set.
        for _ in 0..64 {
            let u = X25519SecretKey::generate().unwrap().public_key().0;
            us.push(u);
            let mut high = u;
            high[31] |= 0x80;
            us.push(high);
        }
        // Random 32-byte strings: about half are on the twist (no Edwards form: the ladder).
        for _ in 0..64 {
            us.push(random::array().unwrap());
        }
        // Small values, u = p - 1 (= -1, no Edwards form), p, p + 1 and 2^255 - 1 (non-canonical).
        let p_minus = |d: u8| {
            let mut b = [0xFF; 32];
            b[0] = 0xED - d;
            b[31] = 0x7F;
            b
        };
        for v in 0..10u8 {
            let mut b = [0; 32];
            b[0] = v;
            us.push(b);
        }
        us.extend([p_minus(1), p_minus(0), [0xFF; 32]]);
        let mut p_plus_1 = p_minus(0);
        p_plus_1[0] = 0xEE;
        us.push(p_plus_1);
        let mut twist = 0;
        for u in us {
            let k = X25519SecretKey::generate().unwrap();
            assert_eq!(routed(&k, u), ladder(&k, u), "u = {u:02x?}");
            twist += usize::from(matches!(X25519PublicKey(u).prepare(), PreparedPeer::Ladder(_)));
        }
        assert!(twist > 10, "the ladder route was exercised ({twist} keys)");
    }

    #[test]
    fn a_prepared_peer_serves_several_secrets() {
        let peer = X25519SecretKey::generate().unwrap();
        let prepared = peer.public_key().prepare();
        for _ in 0..4 {
            let me = X25519SecretKey::generate().unwrap();
            assert_eq!(
                me.diffie_hellman_prepared(&prepared).unwrap().as_bytes(),
                peer.diffie_hellman(&me.public_key()).unwrap().as_bytes()
            );
        }
    }

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
        // The points of small order (libsodium's list: 0, 1, the two of order 8, and p - 1, p,
        // p + 1 as non-canonical encodings) give an all-zero output on either route.
        let hex = |s: &str| -> [u8; 32] {
            let v: Vec<u8> =
                (0..64).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
            v.try_into().unwrap()
        };
        let small = [
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ];
        for p in small {
            let u = hex(p);
            assert_eq!(me.diffie_hellman(&X25519PublicKey(u)).unwrap_err(), Error::WeakKey, "{p}");
            assert_eq!(ladder(&me, u), [0; 32], "{p}");
            assert!(X25519PublicKey(u).is_small_order(), "{p}");
            // X25519 ignores the top bit.
            let mut high = u;
            high[31] |= 0x80;
            assert!(X25519PublicKey(high).is_small_order(), "{p} with the top bit set");
        }
    }

    #[test]
    fn small_order_check_agrees_with_an_all_zero_diffie_hellman() {
        let me = X25519SecretKey::generate().unwrap();
        // Honest keys, random strings (curve or twist), and small values.
        let mut keys: Vec<[u8; 32]> =
            (0..64).map(|_| X25519SecretKey::generate().unwrap().public_key().0).collect();
        keys.extend((0..64).map(|_| random::array::<32>().unwrap()));
        keys.extend((0..=20u8).map(|v| {
            let mut k = [0u8; 32];
            k[0] = v;
            k
        }));
        for u in keys {
            let zero = me.diffie_hellman(&X25519PublicKey(u)).is_err();
            assert_eq!(X25519PublicKey(u).is_small_order(), zero, "{u:02x?}");
        }
    }

    /// The small-order rule exactly as docs/PROTOCOL.md section 6 states it, with nothing but
    /// byte arithmetic: clear bit 255, reduce modulo p, compare with the five small-order `u`.
    fn small_order_as_written(k: [u8; 32]) -> bool {
        let mut u = k;
        u[31] &= 0x7f;
        // Values p ..= 2^255 - 1 are ed..ff ff*30 7f (little-endian): u - p = u[0] - 0xed.
        if u[0] >= 0xed && u[1..31].iter().all(|&b| b == 0xff) && u[31] == 0x7f {
            u = [0; 32];
            u[0] = k[0] - 0xed;
        }
        let mut p_minus_1 = [0xff; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        let zero = [0u8; 32];
        let mut one = [0u8; 32];
        one[0] = 1;
        [
            zero,
            one,
            p_minus_1,
            hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            hex32("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        ]
        .contains(&u)
    }

    #[test]
    fn the_small_order_rule_as_written_matches_the_library() {
        let mut keys: Vec<[u8; 32]> = Vec::new();
        // Every value below 256, and every value from p - 256 to 2^255 - 1 (the non-canonical
        // p ..= p + 18 among them).
        for v in 0..=255u8 {
            let mut low = [0u8; 32];
            low[0] = v;
            keys.push(low);
            let mut high = [0xff; 32];
            high[0] = v;
            high[31] = 0x7f;
            keys.push(high);
            let mut below_p = high;
            below_p[1] = 0xfe;
            keys.push(below_p);
        }
        // The two points of order 8, and random keys and strings (curve and twist).
        keys.push(hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"));
        keys.push(hex32("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"));
        keys.extend((0..64).map(|_| X25519SecretKey::generate().unwrap().public_key().0));
        keys.extend((0..64).map(|_| random::array::<32>().unwrap()));
        // Each of them with bit 255 set as well.
        let with_bit_255: Vec<[u8; 32]> = keys
            .iter()
            .map(|k| {
                let mut k = *k;
                k[31] |= 0x80;
                k
            })
            .collect();
        keys.extend(with_bit_255);
        let fixed = [X25519SecretKey::from_bytes([0; 32]), X25519SecretKey::from_bytes([0xff; 32])];
        let mut small = 0;
        for k in keys {
            let rule = small_order_as_written(k);
            small += usize::from(rule);
            assert_eq!(X25519PublicKey(k).is_small_order(), rule, "{k:02x?}");
            // The equivalent test with RFC 7748 alone: X25519 with any one secret is all zero.
            for me in &fixed {
                assert_eq!(ladder(me, k) == [0; 32], rule, "{k:02x?}");
                assert_eq!(me.diffie_hellman(&X25519PublicKey(k)).is_err(), rule, "{k:02x?}");
            }
        }
        // Every small-order encoding was met once: 0, 1, p - 1, p, p + 1 and the two of order
        // 8, each with bit 255 clear and set.
        assert_eq!(small, 14);
    }

    #[test]
    fn debug_hides_secrets() {
        let k = X25519SecretKey::from_bytes([7u8; 32]);
        let s = format!("{k:?}");
        assert!(s.starts_with("X25519SecretKey(public"));
        assert!(!s.contains("7, 7, 7"));
    }
}
