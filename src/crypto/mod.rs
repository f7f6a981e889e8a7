//! The only module that touches cryptographic primitives.
//!
//! Each submodule is a thin, typed wrapper: a type per key kind, secrets zeroized on drop and
//! never printed by `Debug`. Nothing here implements a primitive; RustCrypto and dalek do.

pub mod aead;
pub mod dh;
pub mod kdf;
pub mod kem;
pub mod random;
pub mod sign;

pub use aead::AeadKey;
pub use dh::{PreparedPeer, SharedSecret, X25519PublicKey, X25519SecretKey};
pub use sign::{Signature, SigningKey, VerifyingKey};
