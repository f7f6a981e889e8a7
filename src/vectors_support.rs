//! Deterministic randomness and a fixed clock, for the published test vectors only
//! (docs/vectors/, generated and checked by tests/spec_vectors.rs; docs/PROTOCOL.md appendix B).
//!
//! This module exists only with the cargo feature `test-vectors`, which is off by default. Why it
//! cannot reach a shipped library:
//! * nothing enables the feature: not the default features, not the Makefile's library builds
//!   (`cargo build --release --lib`, the C, Python, Zig and Janus tests), not the C ABI;
//! * even where the feature is on, a release build refuses to compile (`compile_error!` in
//!   `lib.rs`): the feature builds in the debug test profile only;
//! * even in such a build, OS randomness and the system clock are replaced only on a thread that
//!   is inside [`with_deterministic_randomness`], for the duration of its closure; every other
//!   thread, and that thread after the closure returns or unwinds, gets the OS and the clock.
//!
//! The stream: a key `K = SHA-256("DMP1 test vectors" || label)`; draw number `i` (counting
//! from 0 within the closure) of `n` bytes is the first `n` bytes of
//! `HMAC-SHA256(K, u64_be(i) || u32_be(0)) || HMAC-SHA256(K, u64_be(i) || u32_be(1)) || ...`.
//! An implementer never needs it: every vector lists the bytes drawn, in the order drawn.

use std::cell::RefCell;

use crate::crypto::kdf::{hmac_sha256, sha256};

const STREAM_LABEL: &[u8] = b"DMP1 test vectors";

struct Stream {
    key: [u8; 32],
    next: u64,
    now: u64,
    drawn: Vec<Vec<u8>>,
}

thread_local! {
    static STREAM: RefCell<Option<Stream>> = const { RefCell::new(None) };
}

/// Clears the thread's stream when the closure returns or unwinds.
struct Reset;

impl Drop for Reset {
    fn drop(&mut self) {
        STREAM.with(|s| s.borrow_mut().take());
    }
}

/// Runs `f` with every random byte the library draws on this thread taken from the stream of
/// `label` (module docs), and with the library's clock reading `now` (Unix seconds).
/// Nested calls are refused with a panic: a vector has one stream.
pub fn with_deterministic_randomness<R>(label: &str, now: u64, f: impl FnOnce() -> R) -> R {
    STREAM.with(|s| {
        let mut s = s.borrow_mut();
        assert!(s.is_none(), "with_deterministic_randomness does not nest");
        *s = Some(Stream { key: sha256(&[STREAM_LABEL, label.as_bytes()]), next: 0, now, drawn: Vec::new() })
    });
    let _reset = Reset;
    f()
}

/// The draws made on this thread since the last call (or since the stream started), oldest
/// first, each as the bytes the library received. Empty outside [`with_deterministic_randomness`].
pub fn take_draws() -> Vec<Vec<u8>> {
    STREAM.with(|s| s.borrow_mut().as_mut().map(|s| std::mem::take(&mut s.drawn)).unwrap_or_default())
}

/// Fills `out` from this thread's stream, if one is set: `true`, else `false` (the caller then
/// asks the OS).
pub(crate) fn fill(out: &mut [u8]) -> bool {
    STREAM.with(|s| {
        let mut s = s.borrow_mut();
        let Some(stream) = s.as_mut() else { return false };
        let draw = stream.next;
        stream.next += 1;
        for (block, chunk) in out.chunks_mut(32).enumerate() {
            let mut input = [0u8; 12];
            input[..8].copy_from_slice(&draw.to_be_bytes());
            input[8..].copy_from_slice(&(block as u32).to_be_bytes());
            chunk.copy_from_slice(&hmac_sha256(&stream.key, &input)[..chunk.len()]);
        }
        stream.drawn.push(out.to_vec());
        true
    })
}

/// The X25519 identity secret `ik` of an identity (docs/PROTOCOL.md section 2), which the library
/// keeps to itself: the identity vectors publish it.
pub fn identity_dh_secret(keys: &crate::identity::IdentityKeyPair) -> [u8; 32] {
    keys.dh_secret().to_bytes()
}

/// This thread's fixed clock, if one is set.
pub(crate) fn now() -> Option<u64> {
    STREAM.with(|s| s.borrow().as_ref().map(|s| s.now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_deterministic_and_ends_with_the_closure() {
        let run = || {
            with_deterministic_randomness("t", 7, || {
                let a: [u8; 40] = crate::crypto::random::array().unwrap();
                let b: [u8; 4] = crate::crypto::random::array().unwrap();
                assert_eq!(now(), Some(7));
                assert_eq!(take_draws(), vec![a.to_vec(), b.to_vec()]);
                (a, b)
            })
        };
        let (a, b) = run();
        assert_eq!(run(), (a, b));
        assert_ne!(a[..4], b[..]);
        assert_eq!(now(), None);
        let os: [u8; 40] = crate::crypto::random::array().unwrap();
        assert_ne!(os, a);
        assert!(take_draws().is_empty());
    }

    #[test]
    fn a_panic_inside_the_closure_restores_the_os() {
        let r = std::panic::catch_unwind(|| with_deterministic_randomness("p", 1, || panic!("inside")));
        assert!(r.is_err());
        assert_eq!(now(), None);
    }
}
