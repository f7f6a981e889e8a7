//! The fuzz targets of DMP, one `pub fn` per target taking the raw input.
//!
//! Shared by the cargo-fuzz binaries in `fuzz/fuzz_targets/` (each a one-line `fuzz_target!`
//! calling into this crate), by the stable-Rust replay test `tests/fuzz_corpus.rs` and by the
//! seed writer `examples/fuzz_seeds.rs`, which include this file with `#[path]`. It therefore uses
//! only `dmp` and `std`: no libfuzzer.
//!
//! Every target must return normally for every input: a refusal (`Err`) is fine, a panic is a
//! finding. The stateful targets run against fixtures loaded once (in a `static`) from the files
//! in `fuzz/fixtures/` and work on a clone (the agent: on a copy restored after every accepted
//! input), so one input cannot influence the next. The fixtures are the receiving side of the
//! conversation that `examples/fuzz_seeds.rs` plays and whose envelopes it commits as seeds, so
//! genuine seeds authenticate and go through the ratchet and the group chains.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use dmp::ffi::raw::{dmp_aead_open, dmp_ed25519_verify, dmp_hkdf_sha256};
use dmp::ffi::status::DMP_ERR_INTERNAL;
use dmp::wire::bundle::BundleFields;
use dmp::wire::group::{Distribution, GroupEnvelope};
use dmp::wire::{MessageEnvelope, peek_type};
use dmp::{Agent, AgentConfig, AgentId, Group, Identity, PrekeyBundle, Session, SessionConfig, StorageKey};

/// The storage key of every sealed record in the fixtures and of `state_records`.
pub const STORAGE_KEY: [u8; 32] = [0x5A; 32];
/// Identity seeds of the parties of the fixture conversation (`examples/fuzz_seeds.rs`).
pub const ALICE_SEED: [u8; 32] = [1; 32];
/// Bob: the receiving side of `session_decrypt`, `session_accept` and `group_decrypt`.
pub const BOB_SEED: [u8; 32] = [2; 32];
/// Carol: a group member whose sender key Bob holds.
pub const CAROL_SEED: [u8; 32] = [3; 32];
/// Dave: a group member Bob removed.
pub const DAVE_SEED: [u8; 32] = [7; 32];
/// Eve: a second initiator to Bob (a bundle without one-time prekey).
pub const EVE_SEED: [u8; 32] = [9; 32];
/// The receiving agent of `agent_receive`.
pub const AGENT_SEED: [u8; 32] = [5; 32];
/// The group of `group_decrypt`.
pub const GROUP_ID: [u8; 32] = [0x33; 32];

/// Seed file names in `fuzz/corpus/<target>/`: a genuine input the target's fixture accepts.
pub const OK_PREFIX: &str = "ok-";
/// A genuine input the fixture refuses (a replay, a removed member, ...).
pub const REFUSED_PREFIX: &str = "refused-";
/// A deterministic mutation of a genuine input (no expectation).
pub const MUTATION_PREFIX: &str = "mut-";
/// A genuine input of a stateless target.
pub const SEED_PREFIX: &str = "seed-";

/// A fixture file: its name in `fuzz/fixtures/` and its bytes, embedded at build time (the path
/// is relative to this file, so it holds for every includer).
pub struct FixtureFile {
    /// File name in `fuzz/fixtures/`.
    pub name: &'static str,
    /// The bytes committed there.
    pub bytes: &'static [u8],
}

macro_rules! fixture_file {
    ($name:literal) => {
        FixtureFile { name: $name, bytes: include_bytes!(concat!("../fixtures/", $name)) }
    };
}

/// Bob's identity (sealed, `STORAGE_KEY`), one-time prekey handed out, nothing accepted yet.
pub const BOB_IDENTITY: FixtureFile = fixture_file!("bob_identity.sealed");
/// Bob's session with Alice (sealed), two DH steps in, three skipped keys stored.
pub const BOB_SESSION: FixtureFile = fixture_file!("bob_session.sealed");
/// Bob's copy of the group (sealed): Alice's current and previous sender keys, Carol's, Dave removed.
pub const BOB_GROUP: FixtureFile = fixture_file!("bob_group.sealed");
/// The receiving agent's SQLite store (records sealed under `STORAGE_KEY`).
pub const AGENT_STORE: FixtureFile = fixture_file!("agent_store.db");

/// The configuration of the fixture agents (few one-time prekeys: a small store).
pub fn agent_config() -> AgentConfig {
    AgentConfig {
        one_time_prekey_target: 3,
        one_time_prekey_low_water: 1,
        retain_events: true,
        ..AgentConfig::default()
    }
}

fn storage_key() -> StorageKey {
    StorageKey::from_bytes(STORAGE_KEY)
}

/// A fixture that does not load was written by another build (record format changed).
fn stale(file: &FixtureFile, e: impl std::fmt::Debug) -> ! {
    panic!(
        "fuzz fixture fuzz/fixtures/{} does not load ({e:?}): regenerate with `cargo run --example fuzz_seeds`",
        file.name
    )
}

/// What the stateful targets decrypt against, loaded from `fuzz/fixtures/`.
pub struct Fixture {
    /// Alice's agent id (the sender of the distributions `group_decrypt` processes).
    pub alice: AgentId,
    /// Bob's identity with its one-time prekey, before accepting anything (`session_accept`).
    pub bob_id: Identity,
    /// Bob's side of the session with Alice (`session_decrypt`).
    pub bob: Session,
    /// Bob's copy of the group (`group_decrypt`).
    pub group_bob: Group,
}

fn load_fixture() -> Fixture {
    let key = storage_key();
    let alice = Identity::from_seed(&ALICE_SEED).expect("alice identity").agent_id();
    let bob_id = Identity::from_sealed(BOB_IDENTITY.bytes, &key).unwrap_or_else(|e| stale(&BOB_IDENTITY, e));
    let bob = Session::from_sealed(BOB_SESSION.bytes, &key).unwrap_or_else(|e| stale(&BOB_SESSION, e));
    let group_bob = Group::from_sealed(BOB_GROUP.bytes, &key).unwrap_or_else(|e| stale(&BOB_GROUP, e));
    Fixture { alice, bob_id, bob, group_bob }
}

/// The fixture, loaded on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(load_fixture)
}

/// The receiving agent, opened on a per-process copy of `AGENT_STORE` in the temp directory
/// (`dmp-fuzz-agent-<pid>.db`). `None` only while it is being restored.
struct AgentFixture {
    path: PathBuf,
    agent: Option<Agent>,
}

impl AgentFixture {
    /// Drops the agent (closing its store), rewrites the store from the fixture and reopens it.
    fn restore(&mut self) {
        self.agent = None;
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let _ = fs::remove_file(&wal);
        fs::write(&self.path, AGENT_STORE.bytes).unwrap_or_else(|e| panic!("{}: {e}", self.path.display()));
        let agent = Agent::open(Some(&self.path), storage_key(), agent_config())
            .unwrap_or_else(|e| stale(&AGENT_STORE, e));
        self.agent = Some(agent);
    }
}

const AGENT_COPY_PREFIX: &str = "dmp-fuzz-agent-";

/// Removes the store copies of processes that are gone, so that runs do not pile them up. Only
/// where `/proc/<pid>` tells whether a process lives (Linux); elsewhere they stay.
fn remove_stale_agent_copies(dir: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(AGENT_COPY_PREFIX)) else { continue };
        let Some(pid) = pid.split('.').next().filter(|p| p.parse::<u32>().is_ok()) else { continue };
        if !proc.join(pid).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn agent_fixture() -> &'static Mutex<AgentFixture> {
    static AGENT: OnceLock<Mutex<AgentFixture>> = OnceLock::new();
    AGENT.get_or_init(|| {
        let dir = std::env::temp_dir();
        remove_stale_agent_copies(&dir);
        let path = dir.join(format!("{AGENT_COPY_PREFIX}{}.db", std::process::id()));
        let mut f = AgentFixture { path, agent: None };
        f.restore();
        Mutex::new(f)
    })
}

/// `Session::decrypt` on a clone of Bob's session; whether it decrypted.
pub fn session_decrypt_ok(data: &[u8]) -> bool {
    let mut bob = fixture().bob.clone();
    bob.decrypt(data).is_ok()
}

/// `Session::accept` on a clone of Bob's identity; whether it accepted.
pub fn session_accept_ok(data: &[u8]) -> bool {
    let mut bob_id = fixture().bob_id.clone();
    Session::accept(&mut bob_id, data, SessionConfig::default()).is_ok()
}

/// What `group_decrypt` did with an input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupOutcome {
    /// `Group::decrypt` succeeded.
    pub decrypted: bool,
    /// `Group::process_distribution` (from Alice) succeeded.
    pub distribution: bool,
}

/// `Group::decrypt` and `Group::process_distribution` (from Alice) on clones of Bob's group.
pub fn group_decrypt_outcome(data: &[u8]) -> GroupOutcome {
    let f = fixture();
    let mut g = f.group_bob.clone();
    let decrypted = g.decrypt(data).is_ok();
    let mut g = f.group_bob.clone();
    let distribution = g.process_distribution(&f.alice, data).is_ok();
    GroupOutcome { decrypted, distribution }
}

/// Whether `group_decrypt` accepted the input (as a message or as a distribution).
pub fn group_decrypt_ok(data: &[u8]) -> bool {
    let o = group_decrypt_outcome(data);
    o.decrypted || o.distribution
}

/// `Agent::receive` on the restored agent; whether it accepted. A refused input changes nothing
/// (`receive`'s guarantee); after an accepted one the agent is restored from the fixture.
pub fn agent_receive_ok(data: &[u8]) -> bool {
    // A poisoned mutex means an earlier input panicked (already a finding): restore, keep going.
    let mut f = match agent_fixture().lock() {
        Ok(f) => f,
        Err(poisoned) => {
            let mut f = poisoned.into_inner();
            f.restore();
            agent_fixture().clear_poison();
            f
        }
    };
    let ok = f.agent.as_mut().is_some_and(|a| a.receive(data).is_ok());
    if ok {
        f.restore();
    }
    ok
}

/// A stateful target's acceptance check: whether its fixture accepted the input.
pub type Accepts = fn(&[u8]) -> bool;

/// The stateful targets with their acceptance check, for the replay test: every `ok-*` seed of
/// these must be accepted and every `refused-*` one refused.
pub const ACCEPTING: [(&str, Accepts); 4] = [
    ("session_decrypt", session_decrypt_ok),
    ("session_accept", session_accept_ok),
    ("group_decrypt", group_decrypt_ok),
    ("agent_receive", agent_receive_ok),
];

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

/// `Session::decrypt` on a clone of Bob's session.
pub fn session_decrypt(data: &[u8]) {
    let _ = session_decrypt_ok(data);
}

/// `Session::accept` on a clone of Bob's identity (one-time prekey intact).
pub fn session_accept(data: &[u8]) {
    let _ = session_accept_ok(data);
}

/// `Group::decrypt` and `Group::process_distribution` (from Alice) on clones of Bob's group.
pub fn group_decrypt(data: &[u8]) {
    let _ = group_decrypt_outcome(data);
}

/// `Session`, `Identity` and `Group::from_sealed` under the fixed storage key.
pub fn state_records(data: &[u8]) {
    let key = StorageKey::from_bytes(STORAGE_KEY);
    let _ = Session::from_sealed(data, &key);
    let _ = Identity::from_sealed(data, &key);
    let _ = Group::from_sealed(data, &key);
}

/// `Agent::receive` on the agent restored from its fixture store.
pub fn agent_receive(data: &[u8]) {
    let _ = agent_receive_ok(data);
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
