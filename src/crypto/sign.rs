//! Ed25519 (RFC 8032) with strict verification: non-canonical encodings and small-order keys
//! or `R` components are refused (ed25519-dalek's `verify_strict`).

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use sha2::Sha512;
use zeroize::Zeroize;

use crate::crypto::random;
use crate::error::{Error, Result};
use crate::limits::{PUBLIC_KEY_LEN, SECRET_KEY_LEN, SIGNATURE_LEN};

/// An Ed25519 signing key: the 32-byte seed and, kept beside it, its RFC 8032 expansion
/// (`SHA-512(seed)`: the clamped scalar and the nonce prefix), so that a signature does not
/// hash the seed again (~0.4 us of a ~17 us signature; a group message is one signature).
/// Both halves are zeroized on drop by ed25519-dalek (feature `zeroize`).
pub struct SigningKey {
    seed: ed25519_dalek::SigningKey,
    expanded: ExpandedSecretKey,
}

impl Clone for SigningKey {
    fn clone(&self) -> Self {
        SigningKey {
            seed: self.seed.clone(),
            expanded: ExpandedSecretKey {
                scalar: self.expanded.scalar,
                hash_prefix: self.expanded.hash_prefix,
            },
        }
    }
}

/// An Ed25519 public key that decoded to a point that is not of small order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SigningKey(public: {:?})", self.verifying_key())
    }
}

impl core::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VerifyingKey({})", hex(&self.to_bytes()))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SigningKey {
    /// A fresh key from the OS random number generator.
    pub fn generate() -> Result<Self> {
        let mut seed: [u8; SECRET_KEY_LEN] = random::array()?;
        let key = Self::from_seed(&seed);
        seed.zeroize();
        Ok(key)
    }

    /// The key for a 32-byte seed (deterministic).
    pub fn from_seed(seed: &[u8; SECRET_KEY_LEN]) -> Self {
        let seed = ed25519_dalek::SigningKey::from_bytes(seed);
        // The standard expansion (what `ed25519_dalek::SigningKey::sign` computes per call).
        let expanded = ExpandedSecretKey::from(seed.as_bytes());
        SigningKey { seed, expanded }
    }

    /// The 32-byte seed (secret).
    pub fn to_seed(&self) -> [u8; SECRET_KEY_LEN] {
        self.seed.to_bytes()
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.seed.verifying_key())
    }

    /// Signs `msg` (RFC 8032 Ed25519: the same bytes as `ed25519_dalek::SigningKey::sign`).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(raw_sign::<Sha512>(&self.expanded, msg, &self.seed.verifying_key()).to_bytes())
    }

    /// The X25519 secret scalar bytes that match this key's Montgomery form (RFC 8032 expanded
    /// secret, first half). Used for the identity DH key; see docs/PROTOCOL.md.
    pub(crate) fn to_x25519_secret_bytes(&self) -> [u8; 32] {
        self.seed.to_scalar_bytes()
    }
}

impl VerifyingKey {
    /// Decodes a public key. Refuses encodings that do not decompress or are not canonical
    /// (`BadEnvelope`: one point must have one id and one fingerprint) and points of small order
    /// (`WeakKey`).
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Error::BadEnvelope)?;
        if key.to_edwards().compress().to_bytes() != *bytes {
            return Err(Error::BadEnvelope);
        }
        if key.is_weak() {
            return Err(Error::WeakKey);
        }
        Ok(VerifyingKey(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0.to_bytes()
    }

    /// Strict verification of `sig` over `msg`.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<()> {
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        self.0.verify_strict(msg, &sig).map_err(|_| Error::BadSignature)
    }

    /// The point itself (decompressed when the key was decoded).
    pub(crate) fn to_edwards(self) -> curve25519_dalek::edwards::EdwardsPoint {
        self.0.to_edwards()
    }

    /// The X25519 public key of the same point (birational map to Montgomery form).
    pub(crate) fn to_x25519_public_bytes(self) -> [u8; 32] {
        self.0.to_montgomery().to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn rfc8032_test_1() {
        let seed: [u8; 32] =
            unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").try_into().unwrap();
        let sk = SigningKey::from_seed(&seed);
        assert_eq!(
            sk.verifying_key().to_bytes().to_vec(),
            unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        let sig = sk.sign(b"");
        assert_eq!(
            sig.0.to_vec(),
            unhex(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            )
        );
        sk.verifying_key().verify(b"", &sig).unwrap();
    }

    #[test]
    fn the_cached_expansion_signs_what_ed25519_dalek_signs() {
        use ed25519_dalek::Signer;
        for len in [0usize, 1, 32, 111, 112, 1024] {
            let sk = SigningKey::generate().unwrap();
            let msg: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let reference = ed25519_dalek::SigningKey::from_bytes(&sk.to_seed()).sign(&msg).to_bytes();
            assert_eq!(sk.sign(&msg).0, reference, "len {len}");
            assert_eq!(sk.clone().sign(&msg).0, reference, "clone, len {len}");
        }
    }

    #[test]
    fn tampered_message_or_signature_is_refused() {
        let sk = SigningKey::generate().unwrap();
        let sig = sk.sign(b"msg");
        let vk = sk.verifying_key();
        assert_eq!(vk.verify(b"msG", &sig), Err(Error::BadSignature));
        for i in 0..64 * 8 {
            let mut s = sig;
            s.0[i / 8] ^= 1 << (i % 8);
            assert_eq!(vk.verify(b"msg", &s), Err(Error::BadSignature), "bit {i}");
        }
    }

    #[test]
    fn small_order_public_key_is_weak() {
        // The Edwards identity point (0, 1) encodes as 1 followed by zeros.
        let mut id = [0u8; 32];
        id[0] = 1;
        assert_eq!(VerifyingKey::from_bytes(&id).unwrap_err(), Error::WeakKey);
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        // y = 2^255 - 1 (all 0xff) is y = 18 mod p, the same point as its canonical encoding.
        assert_eq!(VerifyingKey::from_bytes(&[0xff; 32]).unwrap_err(), Error::BadEnvelope);
        let mut canonical = [0u8; 32];
        canonical[0] = 0x12;
        canonical[31] = 0x80;
        assert!(VerifyingKey::from_bytes(&canonical).is_ok());
    }

    /// Little-endian bytes of `p - d` with the sign bit set as given: y = p - d (d <= 19) or,
    /// with `d` negative through `plus`, the non-canonical y = p + plus.
    fn y_bytes(low: u8, sign: bool) -> [u8; 32] {
        let mut b = [0xff; 32];
        b[0] = low;
        b[31] = if sign { 0xff } else { 0x7f };
        b
    }

    #[test]
    fn a_key_both_non_canonical_and_of_small_order_is_bad_envelope() {
        // The order of the checks (section 1): decode, canonical, small order. So the
        // non-canonical encodings of small-order points are BadEnvelope, never WeakKey.
        let mut one_signed = [0u8; 32];
        one_signed[0] = 1;
        one_signed[31] = 0x80; // y = 1 (the identity) with the sign bit of x = 0 set
        let non_canonical_small = [
            y_bytes(0xed, false), // y = p: y = 0, a point of order 4
            y_bytes(0xed, true),  // the other one
            y_bytes(0xee, false), // y = p + 1: the identity
            y_bytes(0xee, true),
            y_bytes(0xec, true), // y = p - 1 (order 2, x = 0) with the sign bit set
            one_signed,
        ];
        for b in non_canonical_small {
            // Each decodes to a small-order point once reduced...
            let point = curve25519_dalek::edwards::CompressedEdwardsY(b).decompress().unwrap();
            assert!(point.is_small_order(), "{b:02x?}");
            // ...and is refused as malformed.
            assert_eq!(VerifyingKey::from_bytes(&b).unwrap_err(), Error::BadEnvelope, "{b:02x?}");
        }
        // Their canonical encodings are WeakKey.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        for b in [identity, [0u8; 32], y_bytes(0xec, false)] {
            assert_eq!(VerifyingKey::from_bytes(&b).unwrap_err(), Error::WeakKey, "{b:02x?}");
        }
    }

    /// An Ed25519 signature made by hand for the public key bytes `a_bytes` (which need not be
    /// `[a]B`): `k = SHA-512(R || A || M) mod L`, `S = r + k a`. Returns it with `k`.
    fn raw_signature(
        a: &curve25519_dalek::Scalar,
        a_bytes: &[u8; 32],
        r_bytes: &[u8; 32],
        r: &curve25519_dalek::Scalar,
        msg: &[u8],
    ) -> (Signature, curve25519_dalek::Scalar) {
        use sha2::{Digest, Sha512};
        let h: [u8; 64] =
            Sha512::new().chain_update(r_bytes).chain_update(a_bytes).chain_update(msg).finalize().into();
        let k = curve25519_dalek::Scalar::from_bytes_mod_order_wide(&h);
        let s = r + k * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(r_bytes);
        sig[32..].copy_from_slice(s.as_bytes());
        (Signature(sig), k)
    }

    fn random_scalar() -> curve25519_dalek::Scalar {
        curve25519_dalek::Scalar::from_bytes_mod_order_wide(&random::array::<64>().unwrap())
    }

    #[test]
    fn strict_verification_refuses_a_non_canonical_s() {
        // S + L satisfies the equation as S does (L is the group order): refused all the same.
        let sk = SigningKey::generate().unwrap();
        let sig = sk.sign(b"m");
        // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l: [u8; 32] =
            unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").try_into().unwrap();
        let mut s_plus_l = sig;
        let mut carry = 0u16;
        for (i, &l_i) in l.iter().enumerate() {
            let v = u16::from(sig.0[32 + i]) + u16::from(l_i) + carry;
            s_plus_l.0[32 + i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
        sk.verifying_key().verify(b"m", &sig).unwrap();
        assert_eq!(sk.verifying_key().verify(b"m", &s_plus_l), Err(Error::BadSignature));
        // S = L exactly, and the largest 256-bit value.
        for s in [l, [0xff; 32]] {
            let mut t = sig;
            t.0[32..].copy_from_slice(&s);
            assert_eq!(sk.verifying_key().verify(b"m", &t), Err(Error::BadSignature));
        }
    }

    #[test]
    fn strict_verification_refuses_a_small_order_or_undecodable_r_even_when_the_equation_holds() {
        use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
        let a = random_scalar();
        let a_bytes = EdwardsPoint::mul_base(&a).compress().to_bytes();
        let vk = VerifyingKey::from_bytes(&a_bytes).unwrap();
        // R = the identity, canonical (r = 0) or as y = p + 1: [S]B - [k]A = R holds for
        // S = k a, and the signature is refused for R's order (and the second for its encoding).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        for r_bytes in [identity, y_bytes(0xee, false)] {
            let (sig, _) = raw_signature(&a, &a_bytes, &r_bytes, &curve25519_dalek::Scalar::ZERO, b"m");
            assert_eq!(vk.verify(b"m", &sig), Err(Error::BadSignature), "{r_bytes:02x?}");
        }
        // An R that decodes to no point.
        let not_a_point = (2u8..=255)
            .map(|y| {
                let mut b = [0u8; 32];
                b[0] = y;
                b
            })
            .find(|b| CompressedEdwardsY(*b).decompress().is_none())
            .unwrap();
        let (mut sig, _) = raw_signature(&a, &a_bytes, &not_a_point, &random_scalar(), b"m");
        assert_eq!(vk.verify(b"m", &sig), Err(Error::BadSignature));
        // A hand-made signature with an honest R verifies: the helper is RFC 8032's.
        let r = random_scalar();
        let r_bytes = EdwardsPoint::mul_base(&r).compress().to_bytes();
        sig = raw_signature(&a, &a_bytes, &r_bytes, &r, b"m").0;
        vk.verify(b"m", &sig).unwrap();
    }

    #[test]
    fn strict_verification_checks_the_cofactorless_equation() {
        // A key with a small-order component, A' = [a]B + T (T of order 8: a valid sender-key
        // signing key, section 1). A signature made with k over A' satisfies the cofactored
        // equation [8][S]B = [8]R + [8][k]A' always, the cofactorless [S]B = R + [k]A' only when
        // [k]T = 0, that is k = 0 mod 8. Strict verification accepts exactly those.
        use curve25519_dalek::constants::EIGHT_TORSION;
        use curve25519_dalek::edwards::EdwardsPoint;
        use curve25519_dalek::traits::IsIdentity;
        let a = random_scalar();
        let t = EIGHT_TORSION[1];
        let a_bytes = (EdwardsPoint::mul_base(&a) + t).compress().to_bytes();
        let vk = VerifyingKey::from_bytes(&a_bytes).unwrap();
        let (mut accepted, mut refused) = (0, 0);
        for i in 0u32..2000 {
            let msg = i.to_be_bytes();
            let r = random_scalar();
            let r_bytes = EdwardsPoint::mul_base(&r).compress().to_bytes();
            let (sig, k) = raw_signature(&a, &a_bytes, &r_bytes, &r, &msg);
            let cofactorless_holds = (k * t).is_identity();
            assert_eq!(vk.verify(&msg, &sig).is_ok(), cofactorless_holds, "message {i}");
            if cofactorless_holds {
                accepted += 1
            } else {
                refused += 1
            }
            if accepted >= 2 && refused >= 2 {
                return;
            }
        }
        panic!("both outcomes expected within 2,000 messages ({accepted} accepted, {refused} refused)");
    }

    #[test]
    fn montgomery_forms_agree() {
        let sk = SigningKey::generate().unwrap();
        let xs = crate::crypto::X25519SecretKey::from_bytes(sk.to_x25519_secret_bytes());
        assert_eq!(xs.public_key().0, sk.verifying_key().to_x25519_public_bytes());
    }
}
