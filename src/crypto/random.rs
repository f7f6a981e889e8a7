//! Randomness from the operating system, and nothing else.

use crate::error::{Error, Result};

/// Fills `out` with bytes from the operating system's CSPRNG.
pub fn fill(out: &mut [u8]) -> Result<()> {
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
