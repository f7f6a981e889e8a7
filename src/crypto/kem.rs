//! ML-KEM-768 (FIPS 203), Cryspen's `libcrux-ml-kem`: formally verified (hax/F*), the
//! implementation libsignal uses, with AVX2 (x86-64) and NEON (aarch64) code chosen at run time
//! and a portable fallback. It replaced RustCrypto's `ml-kem` (portable only), which took 37 us
//! to encapsulate and 44 us to decapsulate where libcrux takes ~22 and ~23 (docs/BENCHMARKS.md).
//! The encodings are FIPS 203's, so keys, ciphertexts and secrets are the same bytes: tests check
//! it against RustCrypto's `ml-kem` (a dev-dependency) both ways.
//!
//! Keys are kept as their 64-byte seed (d || z, FIPS 203 KeyGen_internal); encapsulation draws its
//! 32-byte message from the OS RNG and calls Encaps_internal, so that an RNG failure is an error
//! rather than a panic.

use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PrivateKey, MlKem768PublicKey};
use std::sync::OnceLock;

use zeroize::{Zeroize, Zeroizing};

use crate::crypto::random;
use crate::error::{Error, Result};

/// Bytes of an ML-KEM-768 encapsulation (public) key.
pub const KEM_PUBLIC_KEY_LEN: usize = 1184;
/// Bytes of an ML-KEM-768 ciphertext.
pub const KEM_CIPHERTEXT_LEN: usize = 1088;
/// Bytes of an ML-KEM decapsulation key seed (d || z).
pub const KEM_SEED_LEN: usize = 64;
/// Bytes of the shared secret.
pub const KEM_SHARED_SECRET_LEN: usize = 32;
/// Bytes of an expanded decapsulation key (FIPS 203: dk_PKE || ek || H(ek) || z).
const KEM_EXPANDED_KEY_LEN: usize = 2400;
/// Where the encapsulation key sits in the expanded decapsulation key (after dk_PKE).
const EK_OFFSET_IN_EXPANDED_KEY: usize = 1152;

const _: () = assert!(MlKem768PrivateKey::len() == KEM_EXPANDED_KEY_LEN);

/// An expanded decapsulation key; libcrux's type does not clear itself, this wrapper does.
#[derive(Clone)]
struct ExpandedKey(MlKem768PrivateKey);

impl Drop for ExpandedKey {
    fn drop(&mut self) {
        self.0[0..].zeroize();
    }
}

impl ExpandedKey {
    fn from_seed(seed: &[u8; KEM_SEED_LEN]) -> Self {
        // The public key is also inside the expanded key (FIPS 203's dk holds ek).
        let (sk, _public) = mlkem768::generate_key_pair(*seed).into_parts();
        ExpandedKey(sk)
    }

    fn public_key_bytes(&self) -> &[u8] {
        &self.0[EK_OFFSET_IN_EXPANDED_KEY..EK_OFFSET_IN_EXPANDED_KEY + KEM_PUBLIC_KEY_LEN]
    }
}

/// An ML-KEM-768 decapsulation key, held as its seed, and kept expanded once it has
/// decapsulated (expanding re-derives the whole key from the seed, as much as a decapsulation
/// costs; a last-resort prekey decapsulates for every session started from it). Only
/// [`decapsulate`](Self::decapsulate) keeps the expansion, and the handshake uses it for
/// last-resort keys only: an identity holds up to 10,000 one-time prekeys, each used once, and
/// keeping every one expanded (2,400 bytes each) after publishing it, or after a forged first
/// message named it, would cost megabytes. The expanded key is cleared when dropped.
#[derive(Clone)]
pub struct KemSecretKey(Zeroizing<[u8; KEM_SEED_LEN]>, OnceLock<Box<ExpandedKey>>);

/// An ML-KEM-768 encapsulation key, validated when it was decoded (FIPS 203 section 7.2).
#[derive(Clone)]
pub struct KemPublicKey(Box<MlKem768PublicKey>);

impl PartialEq for KemPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for KemPublicKey {}

/// An ML-KEM-768 ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct KemCiphertext(pub Box<[u8; KEM_CIPHERTEXT_LEN]>);

/// The 32-byte KEM shared secret.
pub struct KemSharedSecret(Zeroizing<[u8; KEM_SHARED_SECRET_LEN]>);

impl core::fmt::Debug for KemSecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KemSecretKey(<redacted>)")
    }
}

impl core::fmt::Debug for KemPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KemPublicKey({}..)", crate::crypto::sign::hex(&self.as_bytes()[..8]))
    }
}

impl core::fmt::Debug for KemCiphertext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KemCiphertext({}..)", crate::crypto::sign::hex(&self.0[..8]))
    }
}

impl KemSecretKey {
    /// A fresh key from the OS RNG.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; KEM_SEED_LEN]);
        random::fill(&mut seed[..])?;
        Ok(KemSecretKey(seed, OnceLock::new()))
    }

    /// The key of a 64-byte seed (deterministic).
    pub fn from_seed(seed: [u8; KEM_SEED_LEN]) -> Self {
        KemSecretKey(Zeroizing::new(seed), OnceLock::new())
    }

    /// The seed (secret).
    pub fn seed(&self) -> &[u8; KEM_SEED_LEN] {
        &self.0
    }

    /// The encapsulation key.
    pub fn public_key(&self) -> KemPublicKey {
        let to_public = |dk: &ExpandedKey| {
            let mut ek = [0u8; KEM_PUBLIC_KEY_LEN];
            ek.copy_from_slice(dk.public_key_bytes());
            KemPublicKey(Box::new(MlKem768PublicKey::from(ek)))
        };
        match self.1.get() {
            Some(dk) => to_public(dk),
            None => to_public(&ExpandedKey::from_seed(&self.0)),
        }
    }

    /// Decapsulates. ML-KEM never fails here: a tampered ciphertext yields an unrelated secret
    /// (implicit rejection), so the handshake derives another session id and key and the first
    /// message is refused (`AuthFailed`).
    pub fn decapsulate(&self, ct: &KemCiphertext) -> KemSharedSecret {
        decapsulate_with(self.1.get_or_init(|| Box::new(ExpandedKey::from_seed(&self.0))), ct)
    }

    /// [`decapsulate`](Self::decapsulate) without keeping the expansion, for a key used once
    /// (a one-time prekey). Whoever names a one-time prekey in a first message makes it
    /// decapsulate, before anything is authenticated: kept expanded, every published one-time
    /// prekey could be made to hold 2,400 more bytes by forged messages.
    pub fn decapsulate_once(&self, ct: &KemCiphertext) -> KemSharedSecret {
        match self.1.get() {
            Some(dk) => decapsulate_with(dk, ct),
            None => decapsulate_with(&ExpandedKey::from_seed(&self.0), ct),
        }
    }
}

#[cfg(test)]
impl KemSecretKey {
    /// Whether the expansion is kept.
    pub(crate) fn is_expanded(&self) -> bool {
        self.1.get().is_some()
    }
}

fn decapsulate_with(dk: &ExpandedKey, ct: &KemCiphertext) -> KemSharedSecret {
    let mut ss = mlkem768::decapsulate(&dk.0, &MlKem768Ciphertext::from(&*ct.0));
    let out = Zeroizing::new(ss);
    ss.zeroize();
    KemSharedSecret(out)
}

impl KemPublicKey {
    /// Decodes and validates an encapsulation key (FIPS 203 modulus check): `BadEnvelope` if
    /// it is not one.
    pub fn from_bytes(bytes: &[u8; KEM_PUBLIC_KEY_LEN]) -> Result<Self> {
        let key = Box::new(MlKem768PublicKey::from(bytes));
        if !mlkem768::validate_public_key(&key) {
            return Err(Error::BadEnvelope);
        }
        Ok(KemPublicKey(key))
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8; KEM_PUBLIC_KEY_LEN] {
        self.0.as_slice()
    }

    /// Encapsulates to this key: a ciphertext and the shared secret.
    pub fn encapsulate(&self) -> Result<(KemCiphertext, KemSharedSecret)> {
        let m = Zeroizing::new(random::array::<32>()?);
        let (ct, mut ss) = mlkem768::encapsulate(&self.0, *m);
        let out = Zeroizing::new(ss);
        ss.zeroize();
        Ok((KemCiphertext(Box::new(*ct.as_slice())), KemSharedSecret(out)))
    }
}

impl KemSharedSecret {
    /// The 32 shared bytes.
    pub fn as_bytes(&self) -> &[u8; KEM_SHARED_SECRET_LEN] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_decapsulation_keeps_the_key_expanded() {
        let sk = KemSecretKey::generate().unwrap();
        let pk = sk.public_key();
        assert!(sk.1.get().is_none(), "publishing a key does not keep it expanded");
        let (ct, ss) = pk.encapsulate().unwrap();
        assert_eq!(sk.decapsulate_once(&ct).as_bytes(), ss.as_bytes());
        assert!(sk.1.get().is_none(), "a one-time decapsulation does not keep it expanded");
        assert_eq!(sk.decapsulate(&ct).as_bytes(), ss.as_bytes());
        assert!(sk.1.get().is_some());
        // The kept expansion gives the same answers.
        assert_eq!(sk.public_key(), pk);
        let (ct, ss) = pk.encapsulate().unwrap();
        assert_eq!(sk.decapsulate(&ct).as_bytes(), ss.as_bytes());
    }

    #[test]
    fn round_trip_and_sizes() {
        let sk = KemSecretKey::generate().unwrap();
        let pk = sk.public_key();
        let (ct, ss) = pk.encapsulate().unwrap();
        assert_eq!(sk.decapsulate(&ct).as_bytes(), ss.as_bytes());
        assert_eq!(KemPublicKey::from_bytes(pk.as_bytes()).unwrap(), pk);
    }

    #[test]
    fn seed_is_deterministic() {
        let a = KemSecretKey::from_seed([7; 64]).public_key();
        let b = KemSecretKey::from_seed([7; 64]).public_key();
        let c = KemSecretKey::from_seed([8; 64]).public_key();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn tampered_ciphertext_gives_another_secret() {
        let sk = KemSecretKey::generate().unwrap();
        let (mut ct, ss) = sk.public_key().encapsulate().unwrap();
        ct.0[100] ^= 1;
        assert_ne!(sk.decapsulate(&ct).as_bytes(), ss.as_bytes());
    }

    #[test]
    fn invalid_public_key_is_refused() {
        // Coefficients are 12-bit values < q = 3329; all-ones bytes encode 4095.
        assert_eq!(KemPublicKey::from_bytes(&[0xFF; KEM_PUBLIC_KEY_LEN]).unwrap_err(), Error::BadEnvelope);
    }

    /// RustCrypto's ML-KEM-768, the reference: the same key from the same seed.
    fn reference_key(seed: &[u8; KEM_SEED_LEN]) -> ml_kem::DecapsulationKey<ml_kem::MlKem768> {
        ml_kem::DecapsulationKey::from_seed(ml_kem::array::Array::from(*seed))
    }

    #[test]
    fn keys_from_a_seed_are_those_of_the_reference_implementation() {
        use ml_kem::KeyExport;
        for i in 0..8u8 {
            let seed: [u8; KEM_SEED_LEN] = if i == 0 { [0; 64] } else { random::array().unwrap() };
            let ours = KemSecretKey::from_seed(seed).public_key();
            let theirs = reference_key(&seed).encapsulation_key().to_bytes();
            assert_eq!(ours.as_bytes().as_slice(), theirs.as_slice(), "seed {i}");
        }
    }

    #[test]
    fn encapsulations_interoperate_with_the_reference_both_ways() {
        use ml_kem::Decapsulate;
        use ml_kem::array::Array;
        let seed: [u8; KEM_SEED_LEN] = random::array().unwrap();
        let ours = KemSecretKey::from_seed(seed);
        let theirs = reference_key(&seed);
        for _ in 0..4 {
            // Ours to theirs.
            let (ct, ss) = ours.public_key().encapsulate().unwrap();
            assert_eq!(theirs.decapsulate(&Array::from(*ct.0)).as_slice(), ss.as_bytes());
            // Theirs to ours, including a tampered ciphertext (implicit rejection: both derive
            // the same unrelated secret).
            let m: [u8; 32] = random::array().unwrap();
            let (ct, ss) = theirs.encapsulation_key().encapsulate_deterministic(&Array::from(m));
            let mut ct = KemCiphertext(Box::new(ct.into()));
            assert_eq!(ours.decapsulate(&ct).as_bytes(), ss.as_slice());
            ct.0[7] ^= 0x40;
            let rejected = ours.decapsulate(&ct);
            assert_ne!(rejected.as_bytes(), ss.as_slice());
            assert_eq!(rejected.as_bytes(), theirs.decapsulate(&Array::from(*ct.0)).as_slice());
        }
    }

    #[test]
    fn the_encapsulation_key_check_agrees_with_the_reference() {
        let valid = *KemSecretKey::generate().unwrap().public_key().as_bytes();
        // Coefficient 0 of polynomial j is the low 12 bits of bytes 384j, 384j+1: set to q = 3329
        // (0xD01), the smallest value out of range, then to q - 1, the largest in range.
        for (j, coefficient, ok) in [(0, 3329u16, false), (2, 3329, false), (1, 3328, true)] {
            let mut key = valid;
            key[384 * j] = (coefficient & 0xFF) as u8;
            key[384 * j + 1] = (key[384 * j + 1] & 0xF0) | (coefficient >> 8) as u8;
            let reference =
                ml_kem::EncapsulationKey::<ml_kem::MlKem768>::new(&ml_kem::array::Array::from(key));
            assert_eq!(reference.is_ok(), ok, "reference, polynomial {j}");
            assert_eq!(KemPublicKey::from_bytes(&key).is_ok(), ok, "ours, polynomial {j}");
        }
    }

    #[test]
    fn debug_redacts() {
        assert_eq!(format!("{:?}", KemSecretKey::from_seed([1; 64])), "KemSecretKey(<redacted>)");
    }
}
