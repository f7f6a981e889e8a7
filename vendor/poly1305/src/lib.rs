#![no_std]
#![doc = include_str!("../README.md")]
#![doc(
    html_logo_url = "https://raw.githubusercontent.com/RustCrypto/media/8f1a9894/logo.svg",
    html_favicon_url = "https://raw.githubusercontent.com/RustCrypto/media/8f1a9894/logo.svg"
)]

pub use universal_hash;

use core::fmt::{self, Debug};
use universal_hash::{
    KeyInit, UhfBackend, UhfClosure, UniversalHash,
    array::Array,
    common::{BlockSizeUser, KeySizeUser},
    consts::{U16, U32},
};

mod backend;

// DMP patch: differential tests of `Poly1305::new_soft` (test builds only).
#[cfg(test)]
mod dmp_soft_tests;

#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    not(poly1305_backend = "soft"),
    target_feature = "avx2", // Fuzz tests bypass AVX2 autodetection code
    any(fuzzing, test)
))]
mod fuzz;

#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    not(poly1305_backend = "soft")
))]
use crate::backend::autodetect::State;

#[cfg(not(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    not(poly1305_backend = "soft")
)))]
use crate::backend::soft::State;

/// Size of a Poly1305 key
pub const KEY_SIZE: usize = 32;

/// Size of the blocks Poly1305 acts upon
pub const BLOCK_SIZE: usize = 16;

/// Poly1305 keys (32-bytes)
pub type Key = universal_hash::Key<Poly1305>;

/// Poly1305 blocks (16-bytes)
pub type Block = universal_hash::Block<Poly1305>;

/// Poly1305 tags (16-bytes)
pub type Tag = universal_hash::Block<Poly1305>;

/// The Poly1305 universal hash function.
///
/// Note that Poly1305 is not a traditional MAC and is single-use only
/// (a.k.a. "one-time authenticator").
///
/// For this reason it doesn't impl the `crypto_mac::Mac` trait.
#[derive(Clone)]
pub struct Poly1305 {
    state: State,
}

impl KeySizeUser for Poly1305 {
    type KeySize = U32;
}

impl KeyInit for Poly1305 {
    /// Initialize Poly1305 with the given key
    fn new(key: &Key) -> Poly1305 {
        Poly1305 {
            state: State::new(key),
        }
    }
}

impl BlockSizeUser for Poly1305 {
    type BlockSize = U16;
}

impl UniversalHash for Poly1305 {
    fn update_with_backend(&mut self, f: impl UhfClosure<BlockSize = Self::BlockSize>) {
        self.state.update_with_backend(f);
    }

    // DMP patch: `update` aligned to the backend's parallel blocks (see vendor/README.md). The
    // trait's default hands every group of four blocks to `proc_par_blocks`, which, when blocks
    // are already cached (the input so far was not a multiple of four blocks, e.g. an AEAD's
    // associated data of 5-7 blocks), copies them one by one through the cache. Here the blocks
    // the backend asks for (`blocks_needed_to_align`) go first, one at a time, and the rest
    // in groups of four straight from the input: the same blocks in the same order.
    fn update(&mut self, blocks: &[Block]) {
        struct Aligned<'a> {
            blocks: &'a [Block],
        }

        impl BlockSizeUser for Aligned<'_> {
            type BlockSize = U16;
        }

        impl UhfClosure for Aligned<'_> {
            #[inline(always)]
            fn call<B: UhfBackend<BlockSize = U16>>(self, backend: &mut B) {
                let head = backend.blocks_needed_to_align().min(self.blocks.len());
                let (head, rest) = self.blocks.split_at(head);
                for block in head {
                    backend.proc_block(block);
                }
                let (par_blocks, tail) = Array::slice_as_chunks(rest);
                for par_block in par_blocks {
                    backend.proc_par_blocks(par_block);
                }
                for block in tail {
                    backend.proc_block(block);
                }
            }
        }

        self.update_with_backend(Aligned { blocks });
    }

    /// Get the hashed output
    fn finalize(mut self) -> Tag {
        self.state.finalize()
    }
}

impl Poly1305 {
    /// DMP patch: initialize Poly1305 with the given key on the portable (`soft`) backend, even
    /// on a CPU with AVX2. Computes the same function as [`KeyInit::new`]; faster for short
    /// inputs, where the AVX2 backend's set-up and finalization outweigh its 4-way block
    /// processing (see DMP's vendor/README.md).
    #[must_use]
    #[inline]
    pub fn new_soft(key: &Key) -> Poly1305 {
        #[cfg(all(
            any(target_arch = "x86", target_arch = "x86_64"),
            not(poly1305_backend = "soft")
        ))]
        let state = State::new_soft(key);
        #[cfg(not(all(
            any(target_arch = "x86", target_arch = "x86_64"),
            not(poly1305_backend = "soft")
        )))]
        let state = State::new(key);
        Poly1305 { state }
    }

    /// Compute unpadded Poly1305 for the given input data.
    ///
    /// The main use case for this is XSalsa20Poly1305.
    #[must_use]
    pub fn compute_unpadded(mut self, data: &[u8]) -> Tag {
        let (blocks, remaining) = Block::slice_as_chunks(data);

        for block in blocks {
            self.state.compute_block(block, false);
        }

        if !remaining.is_empty() {
            let mut block = Block::default();
            block[..remaining.len()].copy_from_slice(remaining);
            block[remaining.len()] = 1;
            self.state.compute_block(&block, true);
        }

        self.state.finalize()
    }
}

impl Debug for Poly1305 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poly1305").finish_non_exhaustive()
    }
}

impl Drop for Poly1305 {
    fn drop(&mut self) {
        // SAFETY: `Poly1305` satisfies the safety conditions of `zeroize_flat_type`
        #[cfg(feature = "zeroize")]
        unsafe {
            zeroize::zeroize_flat_type(self);
        }
    }
}

#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    not(poly1305_backend = "soft"),
    target_feature = "avx2", // Fuzz tests bypass AVX2 autodetection code
    any(fuzzing, test)
))]
pub use crate::fuzz::fuzz_avx2;
