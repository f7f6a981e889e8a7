//! The fuzz targets of DMP, one `pub fn` per target taking the raw input.
//!
//! Shared by the cargo-fuzz binaries in `fuzz/fuzz_targets/` (each a one-line `fuzz_target!`
//! calling into this crate) and by the stable-Rust replay test `tests/fuzz_corpus.rs`, which
//! includes this file with `#[path]`. It therefore uses only `dmp` and `std`: no libfuzzer.
//!
//! Every target must return normally for every input: a refusal (`Err`) is fine, a panic is a
//! finding. The stateful targets run against fixtures built once (in a `static`) and work on a
//! clone, so one input cannot influence the next.

use std::sync::{Mutex, OnceLock};

use dmp::ffi::raw::{dmp_aead_open, dmp_ed25519_verify, dmp_hkdf_sha256};
use dmp::ffi::status::DMP_ERR_INTERNAL;
use dmp::wire::bundle::BundleFields;
use dmp::wire::group::{Distribution, GroupEnvelope};
use dmp::wire::{MessageEnvelope, peek_type};
use dmp::{Agent, AgentConfig, AgentId, Group, Identity, PrekeyBundle, Session, SessionConfig, StorageKey};

/// The storage key of every sealed record in the fixtures and of `state_records`.
pub const STORAGE_KEY: [u8; 32] = [0x5A; 32];

/// The deterministic identities, sessions and groups the stateful targets decrypt against.
/// Identities come from fixed seeds; prekeys, ratchet keys and group chain keys are random, so
/// a genuine envelope from another process is (rightly) refused: it still exercises the parse
/// and key-lookup paths in full.
pub struct Fixture {
    /// Alice's identity (hybrid, from seed 0x01..).
    pub alice_id: Identity,
    /// Bob's identity with its one-time prekeys, before accepting anything (`session_accept`).
    pub bob_id: Identity,
    /// Alice's side of the active session.
    pub alice: Session,
    /// Bob's side of the active session (`session_decrypt`).
    pub bob: Session,
    /// Alice's group (sender).
    pub group_alice: Group,
    /// Bob's copy of the group, holding Alice's sender key (`group_decrypt`).
    pub group_bob: Group,
    /// Sealed records of the three kinds under `STORAGE_KEY` (seeds for `state_records`).
    pub sealed: Vec<Vec<u8>>,
    /// Alice's first (prekey) message to `bob_id`, accepted by `bob`.
    pub first_message: Vec<u8>,
    /// Bob's published bundle.
    pub bundle: Vec<u8>,
}

fn build_fixture() -> Fixture {
    let alice_id = Identity::from_seed(&[1; 32]).expect("alice identity");
    let mut bob_id = Identity::from_seed(&[2; 32]).expect("bob identity");
    let bundle = bob_id.bundle(true).expect("bob bundle").to_bytes();
    let parsed = PrekeyBundle::from_bytes(&bundle).expect("bundle parses");
    let config = SessionConfig::default();
    let mut alice = Session::initiate(alice_id.keys(), &parsed, config).expect("initiate");
    let first_message = alice.encrypt(b"hello").expect("first message");
    // Accept on a clone: `bob_id` keeps its one-time prekey, so `session_accept` can consume it.
    let (mut bob, _) = Session::accept(&mut bob_id.clone(), &first_message, config).expect("accept");
    let reply = bob.encrypt(b"hi").expect("reply");
    alice.decrypt(&reply).expect("reply decrypts");

    let mut group_alice = Group::new(alice_id.agent_id(), [3; 32]).expect("group");
    let mut group_bob = Group::new(bob_id.agent_id(), [3; 32]).expect("group");
    group_alice.add_member(&bob_id.agent_id()).expect("add bob");
    group_bob.add_member(&alice_id.agent_id()).expect("add alice");
    group_bob.process_distribution(&alice_id.agent_id(), &group_alice.distribution()).expect("distribution");

    let key = StorageKey::from_bytes(STORAGE_KEY);
    let sealed = vec![
        bob.to_sealed(&key).expect("seal session"),
        bob_id.to_sealed(&key).expect("seal identity"),
        group_bob.to_sealed(&key).expect("seal group"),
    ];
    Fixture { alice_id, bob_id, alice, bob, group_alice, group_bob, sealed, first_message, bundle }
}

/// The fixture, built on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

/// Two in-memory agents: `sender` has Bob's bundle and has sent to him; `receiver` is Bob.
pub struct Agents {
    /// The receiving agent (`agent_receive`).
    pub receiver: Agent,
    /// The sending agent, with a session to `receiver`.
    pub sender: Agent,
    /// The receiver's id as the sender knows it.
    pub receiver_id: AgentId,
}

fn build_agents() -> Agents {
    let key = StorageKey::from_bytes(STORAGE_KEY);
    let mut sender =
        Agent::open_with_seed(None, key.clone(), AgentConfig::default(), &[4; 32]).expect("sender agent");
    let mut receiver =
        Agent::open_with_seed(None, key, AgentConfig::default(), &[5; 32]).expect("receiver agent");
    let receiver_id = sender.add_bundle(&receiver.bundle(true).expect("bundle")).expect("add bundle");
    let first = sender.send(&receiver_id, b"first").expect("send");
    receiver.receive(&first).expect("receive first");
    Agents { receiver, sender, receiver_id }
}

/// The agents, built on first use. A mutex: `Agent` is not `Clone`, so inputs run against the
/// same agent; `receive` promises that a refused input changes nothing.
pub fn agents() -> &'static Mutex<Agents> {
    static AGENTS: OnceLock<Mutex<Agents>> = OnceLock::new();
    AGENTS.get_or_init(|| Mutex::new(build_agents()))
}

/// `MessageEnvelope::parse` (and `peek_type`).
pub fn envelope_parse(data: &[u8]) {
    let _ = peek_type(data);
    let _ = MessageEnvelope::parse(data);
}

/// `BundleFields::parse` and `PrekeyBundle::from_bytes` (which also verifies the signature).
pub fn bundle_parse(data: &[u8]) {
    let _ = BundleFields::parse(data);
    if let Ok(bundle) = PrekeyBundle::from_bytes(data) {
        // A bundle that parses must re-encode (what a peer would be handed back).
        let _ = bundle.to_bytes();
    }
}

/// `GroupEnvelope::parse` and `Distribution::parse`.
pub fn group_parse(data: &[u8]) {
    let _ = GroupEnvelope::parse(data);
    let _ = Distribution::parse(data);
}

/// `Session::decrypt` on a clone of Bob's active session.
pub fn session_decrypt(data: &[u8]) {
    let mut bob = fixture().bob.clone();
    let _ = bob.decrypt(data);
}

/// `Session::accept` on a clone of Bob's identity (one-time prekeys intact).
pub fn session_accept(data: &[u8]) {
    let mut bob_id = fixture().bob_id.clone();
    let _ = Session::accept(&mut bob_id, data, SessionConfig::default());
}

/// `Group::decrypt` and `Group::process_distribution` (from Alice) on clones of Bob's group.
pub fn group_decrypt(data: &[u8]) {
    let f = fixture();
    let mut g = f.group_bob.clone();
    let _ = g.decrypt(data);
    let mut g = f.group_bob.clone();
    let _ = g.process_distribution(&f.alice_id.agent_id(), data);
}

/// `Session`, `Identity` and `Group::from_sealed` under the fixed storage key.
pub fn state_records(data: &[u8]) {
    let key = StorageKey::from_bytes(STORAGE_KEY);
    let _ = Session::from_sealed(data, &key);
    let _ = Identity::from_sealed(data, &key);
    let _ = Group::from_sealed(data, &key);
}

/// `Agent::receive` on the in-memory receiving agent.
pub fn agent_receive(data: &[u8]) {
    // A poisoned mutex only means an earlier input panicked (already a finding): keep going.
    let mut agents = agents().lock().unwrap_or_else(|e| e.into_inner());
    let _ = agents.receiver.receive(data);
}

/// Splits `data` as: one length byte per buffer (scaled to what is left), then the buffers.
fn split<const N: usize>(data: &[u8]) -> ([&[u8]; N], &[u8]) {
    let (lens, mut rest) = data.split_at(N.min(data.len()));
    let mut out = [&[][..]; N];
    for (i, slot) in out.iter_mut().enumerate() {
        let want = lens.get(i).copied().unwrap_or(0) as usize;
        let take = want.min(rest.len());
        let (head, tail) = rest.split_at(take);
        *slot = head;
        rest = tail;
    }
    (out, rest)
}

/// Pointer of a slice, NULL when empty (the C ABI allows NULL for a zero length).
fn ptr(s: &[u8]) -> *const u8 {
    if s.is_empty() { std::ptr::null() } else { s.as_ptr() }
}

/// `dmp_aead_open`, `dmp_hkdf_sha256` and `dmp_ed25519_verify` with lengths from the input.
/// A panic inside the C ABI is caught and turned into `DMP_ERR_INTERNAL`: that is a finding,
/// so it is asserted against.
pub fn ffi_raw(data: &[u8]) {
    let Some((&sel, data)) = data.split_first() else { return };
    let ([key, ad, input, salt, info], rest) = split::<5>(data);
    let mut key32 = [0u8; 32];
    key32[..key.len().min(32)].copy_from_slice(&key[..key.len().min(32)]);
    // Output capacity from the selector byte; the buffer is always that large.
    let cap = (sel as usize) * 4 + (rest.len() % 7);
    let mut out = vec![0u8; cap.max(1)];
    let mut out_len = 0usize;
    // SAFETY: every pointer is valid (or NULL) for the length given; `out` holds `cap` bytes.
    let rc = unsafe {
        dmp_aead_open(
            key32.as_ptr(),
            ptr(ad),
            ad.len(),
            ptr(input),
            input.len(),
            out.as_mut_ptr(),
            cap,
            &mut out_len,
        )
    };
    assert_ne!(rc, DMP_ERR_INTERNAL, "dmp_aead_open panicked");
    if rc == 0 {
        assert!(out_len <= cap);
    }
    // HKDF: output lengths up to a bit over the maximum (255 * 32), so TooLarge is reached too.
    let hkdf_len = (usize::from(sel) << 5) | (rest.len() & 31);
    let mut okm = vec![0u8; hkdf_len.max(1)];
    // SAFETY: as above; `okm` holds at least `hkdf_len` bytes.
    let rc = unsafe {
        dmp_hkdf_sha256(
            ptr(salt),
            salt.len(),
            ptr(rest),
            rest.len(),
            ptr(info),
            info.len(),
            okm.as_mut_ptr(),
            hkdf_len,
        )
    };
    assert_ne!(rc, DMP_ERR_INTERNAL, "dmp_hkdf_sha256 panicked");
    // Ed25519: public key and signature from the input (zero-padded), message the rest.
    let mut public = [0u8; 32];
    let mut sig = [0u8; 64];
    public[..key.len().min(32)].copy_from_slice(&key[..key.len().min(32)]);
    sig[..input.len().min(64)].copy_from_slice(&input[..input.len().min(64)]);
    // SAFETY: `public` 32 bytes, `sig` 64 bytes, `rest` valid for its length.
    let rc = unsafe { dmp_ed25519_verify(public.as_ptr(), ptr(rest), rest.len(), sig.as_ptr()) };
    assert_ne!(rc, DMP_ERR_INTERNAL, "dmp_ed25519_verify panicked");
}

/// A fuzz target: takes the raw input, returns normally (never panics).
pub type Target = fn(&[u8]);

/// Every target by name, in the order of `fuzz/corpus/<name>/`.
pub const TARGETS: [(&str, Target); 9] = [
    ("envelope_parse", envelope_parse),
    ("bundle_parse", bundle_parse),
    ("group_parse", group_parse),
    ("session_decrypt", session_decrypt),
    ("session_accept", session_accept),
    ("group_decrypt", group_decrypt),
    ("state_records", state_records),
    ("agent_receive", agent_receive),
    ("ffi_raw", ffi_raw),
];
