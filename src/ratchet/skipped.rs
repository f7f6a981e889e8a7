//! Message keys kept for messages that have not arrived yet (out-of-order delivery), bounded.
//!
//! Keys are kept in arrival order; when the cap is reached the oldest is evicted (as libsignal
//! does), so memory stays bounded and a session never wedges. A message whose key was evicted is
//! refused as `Duplicate`.

use std::collections::VecDeque;

use zeroize::Zeroize;

use super::keys::MessageKey;
use crate::crypto::X25519PublicKey;

/// One stored key: which chain (by the sender's ratchet key), which message number.
#[derive(Clone, Debug)]
pub struct SkippedKey {
    /// The sender's ratchet public key of the chain.
    pub ratchet_key: X25519PublicKey,
    /// The message number in that chain.
    pub message_number: u32,
    /// The message key.
    pub key: MessageKey,
}

/// The bounded store.
#[derive(Clone, Debug, Default)]
pub struct SkippedKeys {
    keys: VecDeque<SkippedKey>,
}

impl SkippedKeys {
    /// Where the key for (`ratchet_key`, `n`) is, if stored.
    pub fn find(&self, ratchet_key: &X25519PublicKey, n: u32) -> Option<usize> {
        self.keys.iter().position(|k| k.message_number == n && k.ratchet_key == *ratchet_key)
    }

    /// The key at `index`.
    pub fn get(&self, index: usize) -> Option<&MessageKey> {
        self.keys.get(index).map(|k| &k.key)
    }

    /// Removes (and zeroizes) the key at `index`.
    pub fn remove(&mut self, index: usize) {
        self.keys.remove(index);
    }

    /// Appends keys, evicting the oldest beyond `cap`.
    pub fn extend(&mut self, mut fresh: Vec<SkippedKey>, cap: usize) {
        self.keys.extend(fresh.drain(..));
        // The keys were moved out bit for bit: clear the copies left in `fresh`'s buffer.
        fresh.spare_capacity_mut().zeroize();
        while self.keys.len() > cap {
            self.keys.pop_front();
        }
    }

    /// How many keys are stored.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The stored keys, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &SkippedKey> {
        self.keys.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(chain: u8, n: u32) -> SkippedKey {
        SkippedKey {
            ratchet_key: X25519PublicKey([chain; 32]),
            message_number: n,
            key: MessageKey::from_bytes([n as u8; 32]),
        }
    }

    #[test]
    fn cap_evicts_oldest_first() {
        let mut s = SkippedKeys::default();
        s.extend((0..5).map(|n| key(1, n)).collect(), 3);
        assert_eq!(s.len(), 3);
        assert_eq!(s.find(&X25519PublicKey([1; 32]), 0), None);
        assert_eq!(s.find(&X25519PublicKey([1; 32]), 2), Some(0));
        assert_eq!(s.find(&X25519PublicKey([2; 32]), 2), None);
        s.remove(0);
        assert_eq!(s.find(&X25519PublicKey([1; 32]), 2), None);
        assert_eq!(s.find(&X25519PublicKey([1; 32]), 3), Some(0));
        assert_eq!(s.find(&X25519PublicKey([2; 32]), 3), None);
    }
}
