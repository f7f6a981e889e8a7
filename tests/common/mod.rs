//! Shared helpers for the integration tests.
#![allow(dead_code)]

use dmp::state::{RecordKind, open_record};
use dmp::{Identity, PrekeyBundle, Session, SessionConfig, StorageKey};

/// A deterministic xorshift generator, so a failing random schedule can be replayed by seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub fn storage_key() -> StorageKey {
    StorageKey::from_bytes([0x5A; 32])
}

/// An agent in memory under [`storage_key`].
pub fn memory_agent() -> dmp::Agent {
    dmp::Agent::open(None, storage_key(), dmp::AgentConfig::default()).unwrap()
}

/// A fresh, empty directory for this test binary and `tag`.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let exe =
        std::env::current_exe().ok().and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    let d =
        std::env::temp_dir().join(format!("dmp-{}-{tag}-{}", exe.unwrap_or_default(), std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The decrypted plaintext of a session's state record: equal bytes mean equal state.
pub fn snapshot(s: &Session) -> Vec<u8> {
    let key = storage_key();
    open_record(RecordKind::Session, &key, &s.to_sealed(&key).unwrap()).unwrap().to_vec()
}

pub struct Pair {
    pub alice_id: Identity,
    pub bob_id: Identity,
    pub alice: Session,
    pub bob: Session,
}

/// Alice initiates from Bob's bundle (with a one-time prekey), sends "hello", Bob accepts.
pub fn established_with(config: SessionConfig) -> Pair {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let bundle = PrekeyBundle::from_bytes(&bob_id.bundle(true).unwrap().to_bytes()).unwrap();
    let mut alice = Session::initiate(alice_id.keys(), &bundle, config).unwrap();
    let first = alice.encrypt(b"hello").unwrap();
    let (bob, pt) = Session::accept(&mut bob_id, &first, config).unwrap();
    assert_eq!(pt, b"hello");
    Pair { alice_id, bob_id, alice, bob }
}

pub fn established() -> Pair {
    established_with(SessionConfig::default())
}

/// Established, and Bob has replied so both sides are ACTIVE.
pub fn active() -> Pair {
    let mut p = established();
    let reply = p.bob.encrypt(b"hi").unwrap();
    assert_eq!(p.alice.decrypt(&reply).unwrap(), b"hi");
    p
}
