//! Raw primitives: the layer that replaces the Zig crypto shim. Signatures are fixed by the
//! project (every binding and outside checker relies on them).

use zeroize::{Zeroize, Zeroizing};

use super::{FfiError, FfiResult, OutBuf, array_in, array_out, bytes, disjoint, guard, input, scalar};
use crate::crypto::{AeadKey, SigningKey, VerifyingKey, X25519PublicKey, X25519SecretKey, aead, kdf, random};
use crate::error::Error;
use crate::limits::{AEAD_OVERHEAD, NONCE_LEN, SIGNATURE_LEN};

fn key_in(key32: *const u8) -> FfiResult<AeadKey> {
    // SAFETY: the exported functions' contracts require key32 to point to 32 bytes (or be NULL).
    let bytes = unsafe { array_in::<32>(key32, "key32") }?;
    Ok(AeadKey::from_bytes(*bytes))
}

/// XChaCha20-Poly1305 encryption with a fresh random nonce.
///
/// Writes `nonce (24) || ciphertext || tag (16)` to `out`: exactly `pt_len + DMP_AEAD_OVERHEAD`
/// bytes, openable by libsodium's `crypto_aead_xchacha20poly1305_ietf_decrypt` (nonce first).
/// `ad` and `pt` may be NULL when their length is 0.
///
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_BUFFER_TOO_SMALL` (`*out_len` = size needed),
/// `DMP_ERR_TOO_LARGE`, `DMP_ERR_RANDOM_FAILURE`. Thread-safe (no shared state).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given; `key32` for 32 bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_aead_seal(
    key32: *const u8,
    ad: *const u8,
    ad_len: usize,
    pt: *const u8,
    pt_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_aead_seal", || {
        disjoint(
            &[bytes("key32", key32, 32), bytes("ad", ad, ad_len), bytes("pt", pt, pt_len)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        let key = key_in(key32)?;
        // SAFETY: caller contract.
        let (ad, pt, mut out) = unsafe {
            (input(ad, ad_len, "ad")?, input(pt, pt_len, "pt")?, OutBuf::new(out, out_cap, out_len)?)
        };
        let needed = pt.len().checked_add(AEAD_OVERHEAD).ok_or(Error::TooLarge)?;
        aead::seal_into(&key, ad, pt, out.reserve(needed)?)?;
        Ok(())
    })
}

/// XChaCha20-Poly1305 decryption of `nonce || ciphertext || tag`.
///
/// Writes `in_len - DMP_AEAD_OVERHEAD` bytes of plaintext. On any failure nothing is left in
/// `out` (it is zeroed). Errors: `DMP_ERR_AUTH_FAILED` (tampered, truncated below
/// `DMP_AEAD_OVERHEAD`, wrong key or wrong `ad`), `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_BUFFER_TOO_SMALL` (`*out_len` = size needed). Thread-safe.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given; `key32` for 32 bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_aead_open(
    key32: *const u8,
    ad: *const u8,
    ad_len: usize,
    in_: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard("dmp_aead_open", || {
        disjoint(
            &[bytes("key32", key32, 32), bytes("ad", ad, ad_len), bytes("in", in_, in_len)],
            &[bytes("out", out, out_cap), scalar("out_len", out_len)],
        )?;
        let key = key_in(key32)?;
        // SAFETY: caller contract.
        let (ad, sealed, mut out) = unsafe {
            (input(ad, ad_len, "ad")?, input(in_, in_len, "in")?, OutBuf::new(out, out_cap, out_len)?)
        };
        if sealed.len() < AEAD_OVERHEAD {
            return Err(FfiError::new(
                Error::AuthFailed,
                format!("input of {} bytes is shorter than nonce and tag", sealed.len()),
            ));
        }
        aead::open_into(&key, ad, sealed, out.reserve(sealed.len() - AEAD_OVERHEAD)?)?;
        Ok(())
    })
}

/// Fills `out` with `len` bytes from the operating system's CSPRNG. `out` may be NULL if `len`
/// is 0. Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`. Thread-safe.
///
/// # Safety
/// `out` must be NULL or valid for `len` writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_random_bytes(out: *mut u8, len: usize) -> i32 {
    guard("dmp_random_bytes", || {
        if len == 0 {
            return Ok(());
        }
        let mut n = 0usize;
        // SAFETY: caller contract; OutBuf checks NULL.
        let mut buf = unsafe { OutBuf::new(out, len, &mut n) }?;
        random::fill(buf.reserve(len)?)?;
        Ok(())
    })
}

/// Zeroes `len` bytes at `buf` in a way the compiler cannot optimise away. `buf` may be NULL if
/// `len` is 0. Errors: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// `buf` must be NULL or valid for `len` writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_memzero(buf: *mut u8, len: usize) -> i32 {
    guard("dmp_memzero", || {
        if len == 0 {
            return Ok(());
        }
        let mut n = 0usize;
        // SAFETY: caller contract; OutBuf checks NULL.
        let mut out = unsafe { OutBuf::new(buf, len, &mut n) }?;
        out.reserve(len)?.zeroize();
        Ok(())
    })
}

/// A fresh X25519 key pair: 32 secret bytes and the matching public key.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// Each pointer must be NULL or valid for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_x25519_keypair(secret32_out: *mut u8, public32_out: *mut u8) -> i32 {
    guard("dmp_x25519_keypair", || {
        disjoint(&[], &[bytes("secret32_out", secret32_out, 32), bytes("public32_out", public32_out, 32)])?;
        // SAFETY: caller contract.
        let (s, p) = unsafe {
            (array_out::<32>(secret32_out, "secret32_out")?, array_out::<32>(public32_out, "public32_out")?)
        };
        let key = X25519SecretKey::generate()?;
        *s = key.to_bytes();
        *p = key.public_key().0;
        Ok(())
    })
}

/// The X25519 public key of a secret key. Errors: `DMP_ERR_NULL_POINTER`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `secret32` must be NULL or valid for 32 reads; `public32_out` for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_x25519_public(secret32: *const u8, public32_out: *mut u8) -> i32 {
    guard("dmp_x25519_public", || {
        disjoint(&[bytes("secret32", secret32, 32)], &[bytes("public32_out", public32_out, 32)])?;
        // SAFETY: caller contract.
        let (s, p) = unsafe {
            (array_in::<32>(secret32, "secret32")?, array_out::<32>(public32_out, "public32_out")?)
        };
        *p = X25519SecretKey::from_bytes(*Zeroizing::new(*s)).public_key().0;
        Ok(())
    })
}

/// X25519(secret, public) into `shared32_out`. An all-zero result (a small-order public key) is
/// refused with `DMP_ERR_WEAK_KEY` and nothing is written. Errors: `DMP_ERR_NULL_POINTER`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `secret32`, `public32` must be NULL or valid for 32 reads; `shared32_out` for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_x25519(secret32: *const u8, public32: *const u8, shared32_out: *mut u8) -> i32 {
    guard("dmp_x25519", || {
        disjoint(
            &[bytes("secret32", secret32, 32), bytes("public32", public32, 32)],
            &[bytes("shared32_out", shared32_out, 32)],
        )?;
        // SAFETY: caller contract.
        let (s, p, out) = unsafe {
            (
                array_in::<32>(secret32, "secret32")?,
                array_in::<32>(public32, "public32")?,
                array_out::<32>(shared32_out, "shared32_out")?,
            )
        };
        let shared = X25519SecretKey::from_bytes(*Zeroizing::new(*s)).diffie_hellman(&X25519PublicKey(*p))?;
        *out = *shared.as_bytes();
        Ok(())
    })
}

/// A fresh Ed25519 key pair: its 32-byte seed (the secret) and public key.
/// Errors: `DMP_ERR_NULL_POINTER`, `DMP_ERR_RANDOM_FAILURE`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// Each pointer must be NULL or valid for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_ed25519_keypair(seed32_out: *mut u8, public32_out: *mut u8) -> i32 {
    guard("dmp_ed25519_keypair", || {
        disjoint(&[], &[bytes("seed32_out", seed32_out, 32), bytes("public32_out", public32_out, 32)])?;
        // SAFETY: caller contract.
        let (s, p) = unsafe {
            (array_out::<32>(seed32_out, "seed32_out")?, array_out::<32>(public32_out, "public32_out")?)
        };
        let key = SigningKey::generate()?;
        *s = key.to_seed();
        *p = key.verifying_key().to_bytes();
        Ok(())
    })
}

/// The Ed25519 public key of a seed. Errors: `DMP_ERR_NULL_POINTER`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// `seed32` must be NULL or valid for 32 reads; `public32_out` for 32 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_ed25519_public(seed32: *const u8, public32_out: *mut u8) -> i32 {
    guard("dmp_ed25519_public", || {
        disjoint(&[bytes("seed32", seed32, 32)], &[bytes("public32_out", public32_out, 32)])?;
        // SAFETY: caller contract.
        let (s, p) =
            unsafe { (array_in::<32>(seed32, "seed32")?, array_out::<32>(public32_out, "public32_out")?) };
        *p = SigningKey::from_seed(s).verifying_key().to_bytes();
        Ok(())
    })
}

/// Signs `msg` (RFC 8032 Ed25519) with the key of `seed32`; writes 64 bytes.
/// `msg` may be NULL when `msg_len` is 0. Messages that begin with the three bytes "DMP" are
/// reserved for the protocol's own signatures (a prekey bundle's signature covers
/// "DMP1 prekey bundle" || ...) and are refused, as by `dmp_identity_sign`, so that no signature
/// made here with an identity's seed can pass for a bundle. Errors: `DMP_ERR_NULL_POINTER`,
/// `DMP_ERR_INVALID_ARGUMENT` (a reserved message; nothing written).
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// Pointers must be NULL or valid: `seed32` 32 reads, `msg` `msg_len` reads, `sig64_out` 64 writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_ed25519_sign(
    seed32: *const u8,
    msg: *const u8,
    msg_len: usize,
    sig64_out: *mut u8,
) -> i32 {
    guard("dmp_ed25519_sign", || {
        disjoint(
            &[bytes("seed32", seed32, 32), bytes("msg", msg, msg_len)],
            &[bytes("sig64_out", sig64_out, SIGNATURE_LEN)],
        )?;
        // SAFETY: caller contract.
        let (s, m, out) = unsafe {
            (
                array_in::<32>(seed32, "seed32")?,
                input(msg, msg_len, "msg")?,
                array_out::<SIGNATURE_LEN>(sig64_out, "sig64_out")?,
            )
        };
        *out = SigningKey::from_seed(s).sign(super::application_message(m)?).0;
        Ok(())
    })
}

/// Strict Ed25519 verification: `DMP_OK` or `DMP_ERR_BAD_SIGNATURE` (also for a public key that
/// is not a valid point or is of small order, and for non-canonical signatures).
/// Errors besides: `DMP_ERR_NULL_POINTER`.
///
/// # Safety
/// Pointers must be NULL or valid: `public32` 32 reads, `msg` `msg_len` reads, `sig64` 64 reads.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_ed25519_verify(
    public32: *const u8,
    msg: *const u8,
    msg_len: usize,
    sig64: *const u8,
) -> i32 {
    guard("dmp_ed25519_verify", || {
        // SAFETY: caller contract.
        let (p, m, sig) = unsafe {
            (
                array_in::<32>(public32, "public32")?,
                input(msg, msg_len, "msg")?,
                array_in::<SIGNATURE_LEN>(sig64, "sig64")?,
            )
        };
        let key = VerifyingKey::from_bytes(p).map_err(|e| {
            FfiError::new(Error::BadSignature, format!("public key refused: {}", e.message()))
        })?;
        key.verify(m, &crate::crypto::Signature(*sig))?;
        Ok(())
    })
}

/// HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and `info`, writing exactly `out_len` bytes.
/// An empty salt means a zero-filled salt. `out_len` above `DMP_HKDF_MAX_LEN` is
/// `DMP_ERR_TOO_LARGE`. Any input may be NULL when its length is 0; `out` when `out_len` is 0.
/// Errors besides: `DMP_ERR_NULL_POINTER`.
/// No output may overlap an input or another output: `DMP_ERR_INVALID_ARGUMENT`, checked
/// before anything else, nothing written.
///
/// # Safety
/// Pointers must be NULL or valid for the lengths given.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn dmp_hkdf_sha256(
    salt: *const u8,
    salt_len: usize,
    ikm: *const u8,
    ikm_len: usize,
    info: *const u8,
    info_len: usize,
    out: *mut u8,
    out_len: usize,
) -> i32 {
    guard("dmp_hkdf_sha256", || {
        disjoint(
            &[bytes("salt", salt, salt_len), bytes("ikm", ikm, ikm_len), bytes("info", info, info_len)],
            &[bytes("out", out, out_len)],
        )?;
        // SAFETY: caller contract.
        let (salt, ikm, info) = unsafe {
            (input(salt, salt_len, "salt")?, input(ikm, ikm_len, "ikm")?, input(info, info_len, "info")?)
        };
        if out_len > kdf::HKDF_MAX_OUTPUT {
            return Err(FfiError::new(
                Error::TooLarge,
                format!("out_len {out_len} exceeds {}", kdf::HKDF_MAX_OUTPUT),
            ));
        }
        let mut n = 0usize;
        // SAFETY: caller contract; OutBuf checks NULL.
        let mut buf = unsafe { OutBuf::new(out, out_len, &mut n) }?;
        kdf::hkdf_sha256(salt, ikm, info, buf.reserve(out_len)?)?;
        Ok(())
    })
}

const _: () = assert!(NONCE_LEN == 24);
