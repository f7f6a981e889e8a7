//! DMP patch (test-only): the length-dependent Poly1305 backend choice (`SOFT_POLY1305_BELOW` in
//! `cipher.rs`) must not change any output. See DMP's vendor/README.md.
//!
//! - Against the published crate (`chacha20poly1305` 0.11.0 from crates.io, with the published
//!   `poly1305` and `chacha20`): same ciphertext and tag, each opens the other's output.
//! - The tag recomputed from the ciphertext with `Poly1305::new_soft` and with `Poly1305::new`
//!   (run-time detection: AVX2 on a CPU with it) equals the tag produced, at every length.
//!
//! Every message length 0..2000, associated data of 0, 2, 17 and 200 bytes (so the MAC input
//! crosses the threshold with and without AD), ChaCha20Poly1305 and XChaCha20Poly1305.

extern crate alloc;

use crate::cipher::SOFT_POLY1305_BELOW;
use crate::{ChaCha20Poly1305, XChaCha20Poly1305};
use aead::{Aead, KeyInit, Payload};
use alloc::vec;
use chacha20::{ChaCha20, XChaCha20};
use cipher::{KeyIvInit, StreamCipher};
use poly1305::{
    Block, Poly1305,
    universal_hash::UniversalHash,
};

const MAX_LEN: usize = 2000;
const AD_LENS: [usize; 4] = [0, 2, 17, 200];

// Both branches of the dispatch are exercised, with and without AD.
const _: () = assert!(SOFT_POLY1305_BELOW > 17 && SOFT_POLY1305_BELOW + 200 < MAX_LEN);

/// xorshift64*: deterministic filler, no dependency.
struct Rng(u64);

impl Rng {
    fn next_u8(&mut self) -> u8 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
    }

    fn fill(&mut self, out: &mut [u8]) {
        out.iter_mut().for_each(|b| *b = self.next_u8());
    }
}

/// The ChaCha20Poly1305 tag of `ct` and `ad` under the Poly1305 `mac` (RFC 8439 section 2.8).
fn tag_with(mut mac: Poly1305, ad: &[u8], ct: &[u8]) -> [u8; 16] {
    mac.update_padded(ad);
    mac.update_padded(ct);
    let mut lengths = Block::default();
    lengths[..8].copy_from_slice(&(ad.len() as u64).to_le_bytes());
    lengths[8..].copy_from_slice(&(ct.len() as u64).to_le_bytes());
    mac.update(&[lengths]);
    mac.finalize().into()
}

/// Checks one sealed message against the tags recomputed with both Poly1305 backends.
fn check_tag_both_backends(mut stream: impl StreamCipher, ad: &[u8], sealed: &[u8], what: &str) {
    let mut mac_key = poly1305::Key::default();
    stream.apply_keystream(&mut mac_key);
    let (ct, tag) = sealed.split_at(sealed.len() - 16);
    let soft = tag_with(Poly1305::new_soft(&mac_key), ad, ct);
    let default = tag_with(Poly1305::new(&mac_key), ad, ct);
    assert_eq!(soft, default, "{what}: soft vs default Poly1305");
    assert_eq!(tag, &soft[..], "{what}: produced tag vs recomputed");
}

#[test]
fn same_as_published_every_length() {
    use chacha20poly1305_published as published;

    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut data = vec![0u8; MAX_LEN + 200];
    rng.fill(&mut data);

    for len in 0..MAX_LEN {
        let mut key = [0u8; 32];
        let mut nonce = [0u8; 24];
        rng.fill(&mut key);
        rng.fill(&mut nonce);
        let msg = &data[..len];
        for ad_len in AD_LENS {
            let ad = &data[MAX_LEN..MAX_LEN + ad_len];
            let payload = || Payload { msg, aad: ad };
            let what = alloc::format!("len {len}, ad {ad_len}");

            // XChaCha20Poly1305
            let ours = XChaCha20Poly1305::new(&key.into());
            let theirs = published::XChaCha20Poly1305::new(&key.into());
            let sealed = ours.encrypt(&nonce.into(), payload()).expect("seal");
            let reference = theirs.encrypt(&nonce.into(), payload()).expect("seal");
            assert_eq!(sealed, reference, "XChaCha20Poly1305 {what}");
            let opened = ours.decrypt(&nonce.into(), Payload { msg: &reference, aad: ad });
            assert_eq!(opened.as_deref(), Ok(msg), "XChaCha20Poly1305 open {what}");
            let mut forged = sealed.clone();
            let last = forged.len() - 1 - (len % 16);
            forged[last] ^= 0x20;
            let rejected = ours.decrypt(&nonce.into(), Payload { msg: &forged, aad: ad });
            assert!(rejected.is_err(), "XChaCha20Poly1305 forgery accepted, {what}");
            check_tag_both_backends(
                XChaCha20::new(&key.into(), &nonce.into()),
                ad,
                &sealed,
                &what,
            );

            // ChaCha20Poly1305 (12-byte nonce)
            let nonce12: [u8; 12] = nonce[..12].try_into().expect("12 bytes");
            let ours = ChaCha20Poly1305::new(&key.into());
            let theirs = published::ChaCha20Poly1305::new(&key.into());
            let sealed = ours.encrypt(&nonce12.into(), payload()).expect("seal");
            let reference = theirs.encrypt(&nonce12.into(), payload()).expect("seal");
            assert_eq!(sealed, reference, "ChaCha20Poly1305 {what}");
            let opened = ours.decrypt(&nonce12.into(), Payload { msg: &reference, aad: ad });
            assert_eq!(opened.as_deref(), Ok(msg), "ChaCha20Poly1305 open {what}");
            let opened = theirs.decrypt(&nonce12.into(), Payload { msg: &sealed, aad: ad });
            assert_eq!(opened.as_deref(), Ok(msg), "published opens ours, {what}");
            check_tag_both_backends(
                ChaCha20::new(&key.into(), &nonce12.into()),
                ad,
                &sealed,
                &what,
            );
        }
    }
}
