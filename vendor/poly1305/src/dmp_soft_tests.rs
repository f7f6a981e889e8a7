//! DMP patch (test-only): `Poly1305::new_soft` against `Poly1305::new` (run-time detection: the
//! AVX2 backend on a CPU with AVX2), which must compute the same tags. See DMP's
//! vendor/README.md.

use crate::{Block, Key, Poly1305};
use universal_hash::{KeyInit, UniversalHash};

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

/// Three pseudo-random keys, the all-zero key and the all-0xff key.
fn keys() -> [Key; 5] {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut keys = [Key::default(); 5];
    for k in &mut keys[..3] {
        rng.fill(k);
    }
    keys[4] = [0xff; 32].into();
    keys
}

/// Tag of `ad` and `msg` the way ChaCha20Poly1305 feeds Poly1305: both padded, then the lengths.
fn aead_style(mut mac: Poly1305, ad: &[u8], msg: &[u8]) -> [u8; 16] {
    mac.update_padded(ad);
    mac.update_padded(msg);
    let mut lengths = Block::default();
    lengths[..8].copy_from_slice(&(ad.len() as u64).to_le_bytes());
    lengths[8..].copy_from_slice(&(msg.len() as u64).to_le_bytes());
    mac.update(&[lengths]);
    mac.finalize().into()
}

#[test]
fn soft_equals_default_every_length() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut data = [0u8; 2000];
    rng.fill(&mut data);
    // Maximal limbs: all-0xff input exercises the carries.
    let ones = [0xffu8; 2000];
    for key in keys() {
        for input in [&data[..], &ones[..]] {
            for len in 0..2000 {
                let msg = &input[..len];
                assert_eq!(
                    Poly1305::new_soft(&key).compute_unpadded(msg),
                    Poly1305::new(&key).compute_unpadded(msg),
                    "compute_unpadded, len {len}"
                );
                for ad_len in [0, 1, 13, 16, 17, 64] {
                    let ad = &input[1000 - ad_len..1000];
                    assert_eq!(
                        aead_style(Poly1305::new_soft(&key), ad, msg),
                        aead_style(Poly1305::new(&key), ad, msg),
                        "padded, ad {ad_len}, len {len}"
                    );
                }
            }
        }
    }
}

#[test]
fn soft_clone_and_block_by_block() {
    let mut rng = Rng(42);
    let mut data = [0u8; 16 * 37];
    rng.fill(&mut data);
    let key = keys()[0];
    let (blocks, _) = Block::slice_as_chunks(&data);
    let mut soft = Poly1305::new_soft(&key);
    let mut default = Poly1305::new(&key);
    for (i, block) in blocks.iter().enumerate() {
        soft.update(core::slice::from_ref(block));
        default.update(core::slice::from_ref(block));
        assert_eq!(soft.clone().finalize(), default.clone().finalize(), "after block {i}");
    }
}
