//! DMP patch (the whole file; not in the published crate): differential tests of the x86 SIMD
//! backends (AVX-512, AVX2, SSE2) against the portable `soft` backend, in one test binary.
//!
//! Each backend is forced through a test-only core that wraps `ChaChaCore` and calls exactly one
//! backend from `process_with_backend`, then driven through the `cipher` crate's
//! `StreamCipherCoreWrapper` (the type `ChaCha20` is): seeks to odd byte positions, partial
//! blocks, single blocks, tails and full parallel batches, and keystreams split over two calls.
//! The default dispatch (`ChaCha20`, which picks AVX-512 on a CPU that has it) is compared too.
//! Backends the CPU lacks are skipped (with a note on stderr).

use crate::{ChaChaCore, R8, R12, R20, Rounds, Variant, backends, variants::Ietf};
use cipher::{
    BlockSizeUser, KeyIvInit, StreamCipher, StreamCipherClosure, StreamCipherCore,
    StreamCipherCoreWrapper, StreamCipherSeek, StreamCipherSeekCore, consts::U64,
};

extern crate std;
use std::{vec, vec::Vec};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    Soft,
    Sse2,
    Avx2,
    #[cfg(chacha20_avx512)]
    Avx512,
}

impl Which {
    fn available(self) -> bool {
        match self {
            Which::Soft => true,
            Which::Sse2 => std::is_x86_feature_detected!("sse2"),
            Which::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(chacha20_avx512)]
            Which::Avx512 => {
                std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512vl")
            }
        }
    }
}

const SIMD: &[Which] = &[
    Which::Sse2,
    Which::Avx2,
    #[cfg(chacha20_avx512)]
    Which::Avx512,
];

struct Forced<R: Rounds, V: Variant> {
    core: ChaChaCore<R, V>,
    which: Which,
}

impl<R: Rounds, V: Variant> BlockSizeUser for Forced<R, V> {
    type BlockSize = U64;
}

impl<R: Rounds, V: Variant> StreamCipherCore for Forced<R, V> {
    fn remaining_blocks(&self) -> Option<usize> {
        self.core.remaining_blocks()
    }

    fn process_with_backend(&mut self, f: impl StreamCipherClosure<BlockSize = U64>) {
        assert!(self.which.available());
        // SAFETY: `available()` checked the CPU features each backend needs.
        unsafe {
            match self.which {
                Which::Soft => f.call(&mut backends::soft::Backend(&mut self.core)),
                Which::Sse2 => backends::sse2::inner::<R, _, V>(&mut self.core.state, f),
                Which::Avx2 => backends::avx2::inner::<R, _, V>(&mut self.core.state, f),
                #[cfg(chacha20_avx512)]
                Which::Avx512 => backends::avx512::inner::<R, _, V>(&mut self.core.state, f),
            }
        }
    }
}

impl<R: Rounds, V: Variant> StreamCipherSeekCore for Forced<R, V> {
    type Counter = V::Counter;

    fn get_block_pos(&self) -> V::Counter {
        self.core.get_block_pos()
    }

    fn set_block_pos(&mut self, pos: V::Counter) {
        self.core.set_block_pos(pos);
    }
}

fn cipher<R: Rounds, V: Variant>(
    which: Which,
    key: &[u8; 32],
    iv: &[u8],
) -> StreamCipherCoreWrapper<Forced<R, V>> {
    StreamCipherCoreWrapper::from_core(Forced {
        core: ChaChaCore::new_internal(key, iv),
        which,
    })
}

/// Keystream of `len` bytes from byte position `pos`, produced in one call, or in two calls split
/// at `split` when given.
fn keystream<R: Rounds, V: Variant>(
    which: Which,
    key: &[u8; 32],
    iv: &[u8],
    pos: u64,
    len: usize,
    split: Option<usize>,
) -> Vec<u8> {
    let mut c = cipher::<R, V>(which, key, iv);
    c.seek(pos);
    let mut buf = vec![0u8; len];
    match split {
        Some(s) if s < len => {
            let (a, b) = buf.split_at_mut(s);
            c.apply_keystream(a);
            c.apply_keystream(b);
        }
        _ => c.apply_keystream(&mut buf),
    }
    buf
}

const MAX_LEN: usize = 2000;
/// Byte offsets added to each base position: block boundaries and odd positions around them.
const OFFSETS: &[usize] = &[0, 1, 7, 31, 63, 64, 65, 100, 191, 1023, 1025];
const SPLITS: &[usize] = &[1, 33, 64, 65, 500, 1024];

/// Every SIMD backend the CPU has against `soft`: lengths 0..MAX_LEN (every `len_step`-th) at each
/// offset from `base` (one call), and a coarser sweep of lengths with the keystream split over two calls.
fn compare<R: Rounds, V: Variant>(key: &[u8; 32], iv: &[u8], base: u64, len_step: usize) {
    let max_off = *OFFSETS.iter().max().unwrap();
    let reference = keystream::<R, V>(Which::Soft, key, iv, base, max_off + MAX_LEN, None);
    let mut tested = 0;
    for &which in SIMD {
        if !which.available() {
            std::eprintln!("skipped: {which:?} backend not available on this CPU");
            continue;
        }
        tested += 1;
        for &off in OFFSETS {
            let pos = base + off as u64;
            for len in (0..MAX_LEN).step_by(len_step) {
                let ks = keystream::<R, V>(which, key, iv, pos, len, None);
                assert!(
                    ks == reference[off..off + len],
                    "{which:?} rounds={} pos={pos} len={len}",
                    R::COUNT * 2
                );
            }
            for &split in SPLITS {
                for len in (split..MAX_LEN).step_by(37) {
                    let ks = keystream::<R, V>(which, key, iv, pos, len, Some(split));
                    assert!(
                        ks == reference[off..off + len],
                        "{which:?} rounds={} pos={pos} len={len} split={split}",
                        R::COUNT * 2
                    );
                }
            }
        }
    }
    assert!(tested > 0 || !cfg!(target_feature = "sse2"));
}

const KEY: [u8; 32] = [
    0x1c, 0x92, 0x40, 0xa5, 0xeb, 0x55, 0xd3, 0x8a, 0xf3, 0x33, 0x88, 0x86, 0x04, 0xf6, 0xb5, 0xf0,
    0x47, 0x39, 0x17, 0xc1, 0x40, 0x2b, 0x80, 0x09, 0x9d, 0xca, 0x5c, 0xbc, 0x20, 0x70, 0x75, 0xc0,
];
const IV12: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 2, 0x4a, 0x91, 0x3c, 0xee];

#[test]
fn ietf_r20_from_start() {
    compare::<R20, Ietf>(&KEY, &IV12, 0, 1);
}

#[test]
fn ietf_r20_high_counter() {
    // Block counter around 2^31 and close to (not past) the 32-bit end of the IETF keystream.
    compare::<R20, Ietf>(&KEY, &IV12, (1u64 << 31) * 64 + 5, 7);
    compare::<R20, Ietf>(&KEY, &IV12, (u64::from(u32::MAX) - 100) * 64, 7);
}

#[test]
fn ietf_reduced_rounds() {
    compare::<R8, Ietf>(&KEY, &IV12, 3, 7);
    compare::<R12, Ietf>(&KEY, &IV12, 3, 7);
}

#[cfg(feature = "legacy")]
#[test]
fn legacy_64bit_counter_carry() {
    // 64-bit block counter crossing 2^32 (the carry into the second counter word).
    let iv8 = [0x0b, 0xad, 0xc0, 0xff, 0xee, 0x01, 0x02, 0x03];
    compare::<R20, crate::variants::Legacy>(&KEY, &iv8, ((1u64 << 32) - 20) * 64 + 3, 1);
}

#[test]
fn default_dispatch_matches_soft() {
    // `ChaCha20` as users get it: the backend chosen at run time (AVX-512 on a CPU with
    // AVX-512F and AVX-512VL when built with rustc >= 1.89).
    let max_off = *OFFSETS.iter().max().unwrap();
    let reference = keystream::<R20, Ietf>(Which::Soft, &KEY, &IV12, 0, max_off + MAX_LEN, None);
    for &off in OFFSETS {
        for len in 0..MAX_LEN {
            let mut c = crate::ChaCha20::new(&KEY.into(), &IV12.into());
            c.seek(off as u64);
            let mut buf = vec![0u8; len];
            c.apply_keystream(&mut buf);
            assert!(buf == reference[off..off + len], "pos={off} len={len}");
        }
    }
}
