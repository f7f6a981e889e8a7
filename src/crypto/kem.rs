//! ML-KEM-768 (FIPS 203), RustCrypto's `ml-kem`. Keys are kept as their 64-byte seed (d || z,
//! FIPS 203 KeyGen_internal); encapsulation draws its 32-byte message from the OS RNG and calls
//! Encaps_internal, so that an RNG failure is an error rather than a panic.

use ml_kem::array::Array;
use ml_kem::{Decapsulate, EncapsulationKey, KeyExport, MlKem768};
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

type DecapsulationKey768 = ml_kem::DecapsulationKey<MlKem768>;
type EncapsulationKey768 = EncapsulationKey<MlKem768>;

/// An ML-KEM-768 decapsulation key, held as its seed, and kept expanded once it has
/// decapsulated (expanding re-derives the whole key from the seed, a third of a decapsulation's
/// cost; a last-resort prekey decapsulates for every session started from it). Only
/// decapsulation keeps the expansion: an identity holds up to 10,000 one-time prekeys, each used
/// once, and keeping every one expanded (~4 KB each) after signing or publishing it would cost
/// megabytes. The expanded key zeroizes itself when dropped (ml-kem feature `zeroize`).
#[derive(Clone)]
pub struct KemSecretKey(Zeroizing<[u8; KEM_SEED_LEN]>, OnceLock<Box<DecapsulationKey768>>);

/// An ML-KEM-768 encapsulation key: its bytes, and the key they decoded to (validated once, when
/// the bundle was parsed; decoding also hashes the key, so encapsulation reuses it).
#[derive(Clone)]
pub struct KemPublicKey(Box<[u8; KEM_PUBLIC_KEY_LEN]>, Box<EncapsulationKey768>);

impl PartialEq for KemPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
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
        write!(f, "KemPublicKey({}..)", crate::crypto::sign::hex(&self.0[..8]))
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

    fn expand(&self) -> DecapsulationKey768 {
        DecapsulationKey768::from_seed(Array::from(*self.0))
    }

    /// The encapsulation key.
    pub fn public_key(&self) -> KemPublicKey {
        let to_public = |dk: &DecapsulationKey768| {
            let ek = dk.encapsulation_key();
            let mut out = Box::new([0u8; KEM_PUBLIC_KEY_LEN]);
            out.copy_from_slice(ek.to_bytes().as_slice());
            KemPublicKey(out, Box::new(ek.clone()))
        };
        match self.1.get() {
            Some(dk) => to_public(dk),
            None => to_public(&self.expand()),
        }
    }

    /// Decapsulates. ML-KEM never fails here: a tampered ciphertext yields an unrelated secret
    /// (implicit rejection), so the handshake derives another session id and key and the first
    /// message is refused (`AuthFailed`).
    pub fn decapsulate(&self, ct: &KemCiphertext) -> KemSharedSecret {
        let ct = Array::from(*ct.0);
        let dk = self.1.get_or_init(|| Box::new(self.expand()));
        let mut ss = dk.decapsulate(&ct);
        let mut out = Zeroizing::new([0u8; KEM_SHARED_SECRET_LEN]);
        out.copy_from_slice(ss.as_slice());
        ss.as_mut_slice().zeroize();
        KemSharedSecret(out)
    }
}

impl KemPublicKey {
    /// Decodes and validates an encapsulation key (FIPS 203 modulus check): `BadEnvelope` if
    /// it is not one.
    pub fn from_bytes(bytes: &[u8; KEM_PUBLIC_KEY_LEN]) -> Result<Self> {
        let key = EncapsulationKey768::new(&Array::from(*bytes)).map_err(|_| Error::BadEnvelope)?;
        Ok(KemPublicKey(Box::new(*bytes), Box::new(key)))
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8; KEM_PUBLIC_KEY_LEN] {
        &self.0
    }

    /// Encapsulates to this key: a ciphertext and the shared secret.
    pub fn encapsulate(&self) -> Result<(KemCiphertext, KemSharedSecret)> {
        let m = Zeroizing::new(random::array::<32>()?);
        let (ct, mut ss) = self.1.encapsulate_deterministic(&Array::from(*m));
        let mut ct_out = Box::new([0u8; KEM_CIPHERTEXT_LEN]);
        ct_out.copy_from_slice(ct.as_slice());
        let mut out = Zeroizing::new([0u8; KEM_SHARED_SECRET_LEN]);
        out.copy_from_slice(ss.as_slice());
        ss.as_mut_slice().zeroize();
        Ok((KemCiphertext(ct_out), KemSharedSecret(out)))
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

    #[test]
    fn debug_redacts() {
        assert_eq!(format!("{:?}", KemSecretKey::from_seed([1; 64])), "KemSecretKey(<redacted>)");
    }
}
