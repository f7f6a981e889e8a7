//! Randomness from the operating system, and nothing else. (The one exception, the seeded stream
//! of the published test vectors, exists only with the `test-vectors` feature, which no shipped
//! build has: src/vectors_support.rs.)

use crate::error::{Error, Result};

/// Fills `out` with bytes from the operating system's CSPRNG.
pub fn fill(out: &mut [u8]) -> Result<()> {
    // Test vectors only (feature `test-vectors`, never in a shipped build: src/vectors_support.rs).
    #[cfg(feature = "test-vectors")]
    if crate::vectors_support::fill(out) {
        return Ok(());
    }
    getrandom::fill(out).map_err(|_| Error::RandomFailure)
}

/// Returns `N` fresh random bytes.
pub fn array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_draws_differ() {
        let a: [u8; 32] = super::array().unwrap();
        let b: [u8; 32] = super::array().unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
