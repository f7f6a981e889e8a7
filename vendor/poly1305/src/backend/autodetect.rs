//! Autodetection support for AVX2 CPU intrinsics on x86 CPUs, with fallback
//! to the "soft" backend when it's unavailable.

use universal_hash::{UhfClosure, consts::U16};

use crate::{Block, Key, Tag, backend};
use core::mem::ManuallyDrop;

cpufeatures::new!(avx2_cpuid, "avx2");

pub(crate) struct State {
    inner: Inner,
    // DMP patch: which backend `inner` holds, instead of re-reading the CPUID token on every call
    // (`false` also when AVX2 is present but `new_soft` was used; see vendor/README.md).
    avx2: bool,
}

union Inner {
    avx2: ManuallyDrop<backend::avx2::State>,
    soft: ManuallyDrop<backend::soft::State>,
}

impl State {
    /// Initialize Poly1305 [`State`] with the given key
    #[inline]
    pub(crate) fn new(key: &Key) -> State {
        let avx2_present = avx2_cpuid::get(); // DMP patch: the token is no longer kept

        let inner = if avx2_present {
            Inner {
                avx2: ManuallyDrop::new(backend::avx2::State::new(key)),
            }
        } else {
            Inner {
                soft: ManuallyDrop::new(backend::soft::State::new(key)),
            }
        };

        // DMP patch: remember the backend chosen
        Self {
            inner,
            avx2: avx2_present,
        }
    }

    /// DMP patch: initialize with the portable backend whatever the CPU has. For short inputs
    /// (ChaCha20Poly1305 with little data), where the AVX2 backend's set-up and finalization cost
    /// more than its 4-way block processing saves. Same function, same tags.
    #[inline]
    pub(crate) fn new_soft(key: &Key) -> State {
        Self {
            inner: Inner {
                soft: ManuallyDrop::new(backend::soft::State::new(key)),
            },
            avx2: false,
        }
    }

    /// Compute a Poly1305 block
    #[inline]
    pub(crate) fn compute_block(&mut self, block: &Block, partial: bool) {
        // DMP patch: was `self.token.get()`
        if self.avx2 {
            unsafe { (*self.inner.avx2).compute_block(block, partial) }
        } else {
            unsafe { (*self.inner.soft).compute_block(block, partial) }
        }
    }

    pub(crate) fn update_with_backend(&mut self, f: impl UhfClosure<BlockSize = U16>) {
        // DMP patch: was `self.token.get()`
        if self.avx2 {
            unsafe { f.call(&mut *self.inner.avx2) }
        } else {
            unsafe { f.call(&mut *self.inner.soft) }
        }
    }

    pub(crate) fn finalize(&mut self) -> Tag {
        // DMP patch: was `self.token.get()`
        if self.avx2 {
            unsafe { (*self.inner.avx2).finalize() }
        } else {
            unsafe { (*self.inner.soft).finalize() }
        }
    }
}

impl Clone for State {
    fn clone(&self) -> Self {
        // DMP patch: was `self.token.get()`
        let inner = if self.avx2 {
            Inner {
                avx2: ManuallyDrop::new(unsafe { (*self.inner.avx2).clone() }),
            }
        } else {
            Inner {
                soft: ManuallyDrop::new(unsafe { (*self.inner.soft).clone() }),
            }
        };

        Self {
            inner,
            avx2: self.avx2, // DMP patch: was `token: self.token`
        }
    }
}
