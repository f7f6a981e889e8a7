//! Rewrites the fuzz fixtures under fuzz/fixtures/ and the seed corpora under fuzz/corpus/.
//! Run: `cargo run --example fuzz_seeds` (see docs/FUZZING.md).
//!
//! The stateful targets (`session_decrypt`, `session_accept`, `group_decrypt`, `agent_receive`)
//! load their receiving side from the fixture files (sealed records under the fixed storage key,
//! and an agent's SQLite store), so this program plays the whole conversation once: it writes the
//! receiving side's state as fixtures, and the envelopes the other parties sent as seeds. A seed
//! named `ok-*` must be accepted by the fixture written with it, one named `refused-*` must be
//! refused (tests/fuzz_corpus.rs checks both); `mut-*` are deterministic mutations, `seed-*`
//! genuine inputs of the stateless targets.
//!
//! Adding a fixture file: declare it in fuzz/src/lib.rs and create it empty once (it is embedded
//! with `include_bytes!`, which needs the file to exist to compile this program).

// Shared with the cargo-fuzz binaries; each includer uses part of it.
#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::fs;
use std::path::{Path, PathBuf};

use dmp::limits::DEFAULT_MAX_FORWARD_JUMP;
use dmp::{
    Agent, AgentId, Group, Identity, OutboxEntry, PrekeyBundle, Session, SessionConfig, StorageKey, Suite,
};
use targets::FixtureFile;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Deterministic mutations of a genuine input: truncations, a bit flip, a changed type byte, a
/// changed suite/version byte, an extension.
fn mutations(v: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    out.push(v[..v.len() / 2].to_vec());
    out.push(v[..v.len().saturating_sub(1)].to_vec());
    let mut flip = v.to_vec();
    if !flip.is_empty() {
        let i = flip.len() / 2;
        flip[i] ^= 0x10;
    }
    out.push(flip);
    if v.len() > 2 {
        let mut t = v.to_vec();
        t[1] = t[1].wrapping_add(1);
        out.push(t);
        let mut s = v.to_vec();
        s[0] ^= 0x03;
        out.push(s);
    }
    let mut ext = v.to_vec();
    ext.extend_from_slice(&[0xA5; 17]);
    out.push(ext);
    out
}

/// The seed files of one target, by name.
#[derive(Default)]
struct Corpus {
    names: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
}

impl Corpus {
    fn add(&mut self, prefix: &str, name: &str, data: &[u8], mutate: bool) {
        assert!(!self.names.iter().any(|n| n == name), "seed {name} twice");
        self.names.push(name.to_owned());
        self.files.push((format!("{prefix}{name}"), data.to_vec()));
        if mutate {
            for (i, m) in mutations(data).into_iter().enumerate() {
                self.files.push((format!("{}{name}-{i}", targets::MUTATION_PREFIX), m));
            }
        }
    }

    /// A genuine input the target's fixture must accept, and its mutations.
    fn ok(&mut self, name: &str, data: &[u8]) {
        self.add(targets::OK_PREFIX, name, data, true);
    }

    /// A genuine input the target's fixture must refuse (a replay, a removed member, ...). Not
    /// mutated: its accepted siblings already are.
    fn refused(&mut self, name: &str, data: &[u8]) {
        self.add(targets::REFUSED_PREFIX, name, data, false);
    }

    /// A genuine input of a stateless target, and its mutations.
    fn seed(&mut self, name: &str, data: &[u8]) {
        self.add(targets::SEED_PREFIX, name, data, true);
    }

    fn write(self, target: &str) {
        let dir = root().join("corpus").join(target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create corpus dir");
        fs::write(dir.join("empty"), b"").expect("write corpus file");
        for (name, data) in &self.files {
            fs::write(dir.join(name), data).expect("write corpus file");
        }
        println!("{target}: {} files", self.files.len() + 1);
    }
}

fn write_fixture(file: &FixtureFile, data: &[u8]) {
    let dir = root().join("fixtures");
    fs::create_dir_all(&dir).expect("create fixture dir");
    fs::write(dir.join(file.name), data).expect("write fixture");
    println!("fixture {}: {} bytes", file.name, data.len());
}

fn storage_key() -> StorageKey {
    StorageKey::from_bytes(targets::STORAGE_KEY)
}

fn identity(seed: &[u8; 32]) -> Identity {
    Identity::from_seed(seed).expect("identity from seed")
}

/// Alice starts a session with Bob; Bob receives some of her messages out of order, answers,
/// and so on over two DH ratchet steps. Fixtures: Bob's identity before he accepted anything
/// (`session_accept`) and Bob's session at the end (`session_decrypt`).
fn sessions(corpora: &mut Corpora) {
    let config = SessionConfig::default();
    let key = storage_key();
    let alice_id = identity(&targets::ALICE_SEED);
    let mut bob_id = identity(&targets::BOB_SEED);
    let bundle = bob_id.bundle(true).expect("bob bundle").to_bytes();
    let bundle_no_otk = bob_id.bundle(false).expect("bob bundle").to_bytes();
    // Bob's identity as `session_accept` sees it: both bundles handed out, nothing accepted.
    write_fixture(&targets::BOB_IDENTITY, &bob_id.to_sealed(&key).expect("seal identity"));

    let mut alice = Session::initiate(
        alice_id.keys(),
        &PrekeyBundle::from_bytes(&bundle).expect("bundle parses"),
        config,
    )
    .expect("initiate");
    // Chain A1 (prekey messages): m0..m3.
    let m: Vec<Vec<u8>> = (0..4u8).map(|i| alice.encrypt(&[i; 24]).expect("encrypt")).collect();
    let (mut bob, _) = Session::accept(&mut bob_id.clone(), &m[0], config).expect("accept");
    bob.decrypt(&m[2]).expect("m2"); // m1 skipped: its key is stored
    let r0 = bob.encrypt(b"reply 0").expect("reply");
    alice.decrypt(&r0).expect("r0");
    // Chain A2 (after Alice's DH step): a0..a5, previous chain length 4.
    let a: Vec<Vec<u8>> = (0..6u8).map(|i| alice.encrypt(&[0x40 | i; 40]).expect("encrypt")).collect();
    bob.decrypt(&a[1]).expect("a1"); // Bob's DH step; m3 and a0 skipped
    let r1 = bob.encrypt(b"reply 1").expect("reply");
    alice.decrypt(&r1).expect("r1");
    // Chain A3: b0..b3, previous chain length 6.
    let b: Vec<Vec<u8>> = (0..4u8).map(|i| alice.encrypt(&[0x80 | i; 8]).expect("encrypt")).collect();
    // Far ahead on chain A3: message number DEFAULT_MAX_FORWARD_JUMP + 1 (b0..b3 are 0..3).
    let far = (4..=DEFAULT_MAX_FORWARD_JUMP + 1)
        .map(|_| alice.encrypt(b"far").expect("encrypt"))
        .last()
        .expect("far message");
    assert_eq!(bob.skipped_key_count().expect("skipped"), 3, "m1, m3, a0 skipped");
    write_fixture(&targets::BOB_SESSION, &bob.to_sealed(&key).expect("seal session"));

    let c = &mut corpora.session_decrypt;
    c.ok("m1-skipped-key-old-chain", &m[1]);
    c.ok("m3-skipped-key-old-chain", &m[3]);
    c.ok("a0-skipped-key-current-chain", &a[0]);
    c.ok("a2-in-order", &a[2]);
    c.ok("a4-skip-ahead", &a[4]);
    c.ok("b0-dh-step", &b[0]);
    c.ok("b2-dh-step-skip-ahead", &b[2]);
    c.refused("m0-replay-old-chain", &m[0]);
    c.refused("m2-replay-old-chain", &m[2]);
    c.refused("a1-replay", &a[1]);
    c.refused("far-ahead", &far);
    c.refused("own-reply", &r1);

    // Other first messages to Bob's identity fixture: with the one-time prekey (m0, m1) and
    // without (a second initiator, from the bundle without one-time prekey).
    let eve_id = identity(&targets::EVE_SEED);
    let mut eve = Session::initiate(
        eve_id.keys(),
        &PrekeyBundle::from_bytes(&bundle_no_otk).expect("bundle parses"),
        config,
    )
    .expect("initiate");
    let eve0 = eve.encrypt(b"no one-time prekey").expect("encrypt");
    let c = &mut corpora.session_accept;
    c.ok("m0-one-time-prekey", &m[0]);
    c.ok("m1-one-time-prekey-second-message", &m[1]);
    c.ok("eve0-no-one-time-prekey", &eve0);
    c.refused("a0-not-a-first-message", &a[0]);

    corpora.envelope_parse.seed("prekey-message", &m[0]);
    corpora.envelope_parse.seed("message", &a[0]);
    corpora.bundle_parse.seed("hybrid-one-time-prekey", &bundle);
    corpora.bundle_parse.seed("hybrid", &bundle_no_otk);
    let mut classical = Identity::from_seed_with(&[6; 32], Suite::Classical).expect("classical identity");
    let classical_bundle = classical.bundle(true).expect("classical bundle").to_bytes();
    corpora.bundle_parse.seed("classical-one-time-prekey", &classical_bundle);
}

/// Bob's copy of a group with Alice (two sender keys: the current and the previous one, in its
/// grace window), Carol, and Dave (removed). Fixture: Bob's group (`group_decrypt`).
fn groups(corpora: &mut Corpora) {
    let key = storage_key();
    let gid = targets::GROUP_ID;
    let [alice, bob, carol, dave] =
        [targets::ALICE_SEED, targets::BOB_SEED, targets::CAROL_SEED, targets::DAVE_SEED]
            .map(|s| identity(&s).agent_id());
    let group = |own: AgentId, others: &[AgentId]| {
        let mut g = Group::new(own, gid).expect("group");
        for o in others {
            g.add_member(o).expect("add member");
        }
        g
    };
    let mut ga = group(alice, &[bob, carol]);
    let mut gb = group(bob, &[alice, carol, dave]);
    let mut gc = group(carol, &[alice, bob]);
    let mut gd = group(dave, &[alice, bob]);
    let d1 = ga.distribution().to_vec();
    gb.process_distribution(&alice, &d1).expect("alice key 1");
    gb.process_distribution(&carol, &gc.distribution()).expect("carol key");
    gb.process_distribution(&dave, &gd.distribution()).expect("dave key");
    // Key 1: g0..g3; Bob reads g0 and g2 (g1 skipped).
    let g: Vec<Vec<u8>> = (0..4u8).map(|i| ga.encrypt(&[i; 16]).expect("group encrypt")).collect();
    gb.decrypt(&g[0]).expect("g0");
    gb.decrypt(&g[2]).expect("g2");
    // Alice rotates to key 2: h0..h3; Bob reads h1 (h0 skipped). Key 1 stays in its grace window.
    ga.rotate().expect("rotate");
    let d2 = ga.distribution().to_vec();
    gb.process_distribution(&alice, &d2).expect("alice key 2");
    let h: Vec<Vec<u8>> = (0..4u8).map(|i| ga.encrypt(&[0x20 | i; 33]).expect("group encrypt")).collect();
    gb.decrypt(&h[1]).expect("h1");
    // Bob removes Dave (Bob's own key rotates).
    gb.remove_member(&dave).expect("remove dave");
    let dave_msg = gd.encrypt(b"from a removed member").expect("group encrypt");
    let carol_msg = gc.encrypt(b"from carol").expect("group encrypt");
    let bob_msg = gb.encrypt(b"from bob").expect("group encrypt");
    // Alice rotates to key 3: a distribution Bob has not seen, and a message under it.
    ga.rotate().expect("rotate");
    let d3 = ga.distribution().to_vec();
    let k3 = ga.encrypt(b"under key 3").expect("group encrypt");
    write_fixture(&targets::BOB_GROUP, &gb.to_sealed(&key).expect("seal group"));

    let c = &mut corpora.group_decrypt;
    c.ok("g1-previous-key-skipped", &g[1]);
    c.ok("g3-previous-key-in-order", &g[3]);
    c.ok("h0-current-key-skipped", &h[0]);
    c.ok("h2-current-key-in-order", &h[2]);
    c.ok("h3-current-key-skip-ahead", &h[3]);
    c.ok("carol-message", &carol_msg);
    c.ok("d3-rotated-distribution", &d3);
    c.refused("g0-replay", &g[0]);
    c.refused("h1-replay", &h[1]);
    c.refused("dave-removed-member", &dave_msg);
    c.refused("bob-own-message", &bob_msg);
    c.refused("k3-unknown-key-id", &k3);
    c.refused("d1-superseded-distribution", &d1);
    c.refused("d2-duplicate-distribution", &d2);

    corpora.group_parse.seed("message", &g[0]);
    corpora.group_parse.seed("distribution", &d1);
}

/// Next outbox envelope of `agent` (it must be for `to`), marked sent.
fn take_outbox(agent: &mut Agent, to: &AgentId) -> Vec<u8> {
    let OutboxEntry { seq, peer, envelope: env } = agent.outbox_next().expect("outbox envelope");
    assert_eq!(peer, *to);
    let env = env.to_vec();
    agent.outbox_done(seq).expect("outbox done");
    env
}

/// Agent R (on disk) talks with S (pairwise and in a group) and is invited by T. Fixture: R's
/// SQLite store (`agent_receive`).
fn agents(corpora: &mut Corpora) {
    let config = targets::agent_config();
    let path = std::env::temp_dir().join(format!("dmp-fuzz-seeds-{}.db", std::process::id()));
    remove_db(&path);
    let mut r = Agent::open_with_seed(Some(&path), storage_key(), config, &targets::AGENT_SEED)
        .expect("receiver agent");
    let mut s = Agent::open_with_seed(None, storage_key(), config, &[4; 32]).expect("sender agent");
    let rid = s.add_bundle(&r.bundle(true).expect("bundle")).expect("add bundle");
    let sid = s.agent_id();
    // Chain S1 (prekey messages): e0..e2; R reads e0 and e2.
    let e: Vec<Vec<u8>> = (0..3u8).map(|i| s.send(&rid, &[i; 10]).expect("send")).collect();
    r.receive(&e[0]).expect("e0");
    r.receive(&e[2]).expect("e2");
    let reply = r.send(&sid, b"reply").expect("reply");
    s.receive(&reply).expect("reply");
    // Chain S2: an invitation to a group (its distribution), then x1..x3; R reads the invitation
    // and x2 (x1 skipped). R joins and sends S its own distribution (R's chain R2).
    let gid = s.group_create().expect("group");
    s.group_add(&gid, &rid).expect("group add");
    let invite = take_outbox(&mut s, &rid);
    let x: Vec<Vec<u8>> = (0..4u8).map(|i| s.send(&rid, &[0x10 | i; 20]).expect("send")).collect();
    r.receive(&invite).expect("invitation");
    r.receive(&x[2]).expect("x2");
    let r_dist = take_outbox(&mut r, &sid);
    s.receive(&r_dist).expect("r's distribution");
    // Group: g0..g3; R reads g0 and g2.
    let g: Vec<Vec<u8>> =
        (0..4u8).map(|i| s.group_send(&gid, &[0x30 | i; 30]).expect("group send")).collect();
    r.receive(&g[0]).expect("g0");
    r.receive(&g[2]).expect("g2");
    // Chain S3 (S's DH step after R's distribution): y0..y2, then an invitation to a second group.
    let y: Vec<Vec<u8>> = (0..3u8).map(|i| s.send(&rid, &[0x50 | i; 12]).expect("send")).collect();
    let gid2 = s.group_create().expect("group");
    s.group_add(&gid2, &rid).expect("group add");
    let invite2 = take_outbox(&mut s, &rid);
    // T starts a session with R (a HELLO, no payload).
    let mut t = Agent::open_with_seed(None, storage_key(), config, &[8; 32]).expect("third agent");
    let rid_t = t.add_bundle(&r.bundle(true).expect("bundle")).expect("add bundle");
    let hello = t.connect(&rid_t).expect("connect");
    let bundle = r.bundle(false).expect("bundle");
    drop(r);
    assert!(!wal(&path).exists(), "the store was not checkpointed on close");
    write_fixture(&targets::AGENT_STORE, &fs::read(&path).expect("read agent store"));
    remove_db(&path);

    let c = &mut corpora.agent_receive;
    c.ok("e1-prekey-message-skipped-key", &e[1]);
    c.ok("x1-skipped-key", &x[1]);
    c.ok("x3-in-order", &x[3]);
    c.ok("y0-dh-step", &y[0]);
    c.ok("y2-dh-step-skip-ahead", &y[2]);
    c.ok("invite2-distribution-dh-step", &invite2);
    c.ok("g1-group-skipped-key", &g[1]);
    c.ok("g3-group-skip-ahead", &g[3]);
    c.ok("t-hello-new-session", &hello);
    c.refused("e0-replay", &e[0]);
    c.refused("invite-replay", &invite);
    c.refused("g0-group-replay", &g[0]);
    c.refused("own-reply", &reply);
    c.refused("bundle", &bundle);
}

fn wal(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

fn remove_db(path: &Path) {
    let _ = fs::remove_file(path);
    let _ = fs::remove_file(wal(path));
}

#[derive(Default)]
struct Corpora {
    envelope_parse: Corpus,
    bundle_parse: Corpus,
    group_parse: Corpus,
    session_decrypt: Corpus,
    session_accept: Corpus,
    group_decrypt: Corpus,
    agent_receive: Corpus,
}

fn main() {
    let mut corpora = Corpora::default();
    sessions(&mut corpora);
    groups(&mut corpora);
    agents(&mut corpora);

    // state_records: the three sealed fixtures, read back from disk.
    let mut records = Corpus::default();
    for file in [&targets::BOB_SESSION, &targets::BOB_IDENTITY, &targets::BOB_GROUP] {
        let bytes = fs::read(root().join("fixtures").join(file.name)).expect("read fixture");
        records.seed(file.name, &bytes);
    }

    // ffi_raw: selector, five length bytes (key, ad, input, salt, info), then the buffers.
    let mut ffi = Corpus::default();
    for (sel, lens) in [(0u8, [32u8, 0, 40, 0, 0]), (8, [32, 5, 64, 16, 4]), (255, [0, 0, 0, 0, 0])] {
        let mut v = vec![sel];
        v.extend_from_slice(&lens);
        let body: usize = lens.iter().map(|&l| usize::from(l)).sum::<usize>() + 23;
        v.extend((0..body).map(|i| (i * 7 + usize::from(sel)) as u8));
        ffi.seed(&format!("selector-{sel}"), &v);
    }

    let Corpora {
        envelope_parse,
        bundle_parse,
        group_parse,
        session_decrypt,
        session_accept,
        group_decrypt,
        agent_receive,
    } = corpora;
    envelope_parse.write("envelope_parse");
    bundle_parse.write("bundle_parse");
    group_parse.write("group_parse");
    session_decrypt.write("session_decrypt");
    session_accept.write("session_accept");
    group_decrypt.write("group_decrypt");
    records.write("state_records");
    agent_receive.write("agent_receive");
    ffi.write("ffi_raw");
}
