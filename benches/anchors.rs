//! DMP side by side with an anchor, vodozemac (Matrix's Olm and Megolm), in the same run and with
//! the same criterion settings. Run: `cargo bench --bench anchors` (or `benches/run_all.sh`).
//!
//! Every case is a pair `<group>/dmp_*` and `<group>/vodozemac*`; at the end the medians are read
//! back from criterion's `estimates.json` files written by this run and the ratios DMP / anchor
//! are printed (`ratio: ...` lines), with the sizes (`size: ...` lines). The report is
//! docs/BENCHMARKS.md.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::SystemTime;

use criterion::{BatchSize, Criterion, criterion_group};
use dmp::{Group, Identity, PqPolicy, PrekeyBundle, Session, SessionConfig, StorageKey, Suite};
use vodozemac::megolm::{self, GroupSession, InboundGroupSession};
use vodozemac::olm::{self, Account, OlmMessage};

/// Where criterion writes (and this file reads back) the estimates: set explicitly so both agree.
fn output_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("criterion")
}

/// A DMP pair of ACTIVE sessions (one message each way already exchanged).
fn dmp_pair() -> (Session, Session) {
    let alice = Identity::generate().unwrap();
    let mut bob = Identity::generate().unwrap();
    let mut a =
        Session::initiate(alice.keys(), &bob.bundle(false).unwrap(), SessionConfig::default()).unwrap();
    let (mut b, _) = Session::accept(&mut bob, &a.encrypt(b"hi").unwrap(), SessionConfig::default()).unwrap();
    a.decrypt(&b.encrypt(b"hi").unwrap()).unwrap();
    (a, b)
}

/// A vodozemac pair of Olm sessions, one message each way already exchanged (so Alice no longer
/// sends pre-key messages).
fn olm_pair() -> (olm::Session, olm::Session) {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    bob.mark_keys_as_published();
    let mut a =
        alice.create_outbound_session(olm::SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(first) = a.encrypt(b"hi").unwrap() else { panic!("expected a pre-key message") };
    let mut b = bob
        .create_inbound_session(olm::SessionConfig::version_1(), alice.curve25519_key(), &first)
        .unwrap()
        .session;
    a.decrypt(&b.encrypt(b"hi").unwrap()).unwrap();
    (a, b)
}

/// Outbound creation + first message + inbound creation from it. DMP: from the peer's bundle
/// (parsed and its signature verified), no one-time prekey; vodozemac: from the peer's identity key
/// and fallback key (not consumed on use, like DMP's signed prekey), no signature checked.
fn session_establishment(c: &mut Criterion) {
    let mut g = c.benchmark_group("anchor_session_establishment");
    for (name, suite) in [("dmp_hybrid", Suite::Hybrid), ("dmp_classical", Suite::Classical)] {
        let alice = Identity::generate().unwrap();
        let mut bob = Identity::generate_with(suite).unwrap();
        let bundle_bytes = bob.bundle(false).unwrap().to_bytes();
        let config = SessionConfig { pq_policy: PqPolicy::AllowClassical, ..SessionConfig::default() };
        g.bench_function(name, |bn| {
            bn.iter(|| {
                let bundle = PrekeyBundle::from_bytes(black_box(&bundle_bytes)).unwrap();
                let mut a = Session::initiate(alice.keys(), &bundle, config).unwrap();
                let first = a.encrypt(b"hello").unwrap();
                Session::accept(&mut bob, &first, config).unwrap()
            })
        });
    }
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_fallback_key();
    let fallback = *bob.fallback_key().values().next().unwrap();
    bob.mark_keys_as_published();
    let (alice_key, bob_key) = (alice.curve25519_key(), bob.curve25519_key());
    let config = olm::SessionConfig::version_1();
    g.bench_function("vodozemac_olm", |bn| {
        bn.iter(|| {
            let mut a = alice.create_outbound_session(config, black_box(bob_key), fallback).unwrap();
            let OlmMessage::PreKey(first) = a.encrypt(b"hello").unwrap() else { panic!("pre-key") };
            bob.create_inbound_session(config, alice_key, &first).unwrap()
        })
    });
    g.finish();
}

fn pairwise(c: &mut Criterion) {
    let pt = vec![1u8; 1024];
    let mut g = c.benchmark_group("anchor_pairwise_1KiB_same_direction");
    let (mut a, mut b) = dmp_pair();
    g.bench_function("dmp", |bn| bn.iter(|| b.decrypt(&a.encrypt(black_box(&pt)).unwrap()).unwrap()));
    let (mut a, mut b) = olm_pair();
    g.bench_function("vodozemac_olm", |bn| {
        bn.iter(|| b.decrypt(&a.encrypt(black_box(&pt)).unwrap()).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("anchor_pairwise_1KiB_alternating_two_messages");
    let (mut a, mut b) = dmp_pair();
    g.bench_function("dmp", |bn| {
        bn.iter(|| {
            b.decrypt(&a.encrypt(black_box(&pt)).unwrap()).unwrap();
            a.decrypt(&b.encrypt(black_box(&pt)).unwrap()).unwrap()
        })
    });
    let (mut a, mut b) = olm_pair();
    g.bench_function("vodozemac_olm", |bn| {
        bn.iter(|| {
            b.decrypt(&a.encrypt(black_box(&pt)).unwrap()).unwrap();
            a.decrypt(&b.encrypt(black_box(&pt)).unwrap()).unwrap()
        })
    });
    g.finish();
}

/// A DMP two-member group: (sender, receiver) with the sender's key distributed.
fn dmp_group_pair() -> (Group, Group) {
    let ids: Vec<Identity> = (0..2).map(|_| Identity::generate_with(Suite::Classical).unwrap()).collect();
    let gid = [9u8; 32];
    let mut sender = Group::new(ids[0].agent_id(), gid).unwrap();
    let mut receiver = Group::new(ids[1].agent_id(), gid).unwrap();
    sender.add_member(&ids[1].agent_id()).unwrap();
    receiver.add_member(&ids[0].agent_id()).unwrap();
    receiver.process_distribution(&ids[0].agent_id(), &sender.distribution()).unwrap();
    (sender, receiver)
}

fn megolm_pair() -> (GroupSession, InboundGroupSession) {
    let outbound = GroupSession::new(megolm::SessionConfig::version_1());
    let inbound = InboundGroupSession::new(&outbound.session_key(), megolm::SessionConfig::version_1());
    (outbound, inbound)
}

/// Group messages of 1 KiB at 2 members (Megolm's cost does not depend on the member count).
/// Decrypt alone: the messages are made, in order, in the untimed set-up of each batch.
fn groups(c: &mut Criterion) {
    let pt = vec![1u8; 1024];
    let mut g = c.benchmark_group("anchor_group_1KiB_encrypt");
    let (mut sender, _) = dmp_group_pair();
    g.bench_function("dmp_2_members", |bn| bn.iter(|| sender.encrypt(black_box(&pt)).unwrap()));
    let (mut outbound, _) = megolm_pair();
    g.bench_function("vodozemac_megolm", |bn| bn.iter(|| outbound.encrypt(black_box(&pt))));
    g.finish();

    let mut g = c.benchmark_group("anchor_group_1KiB_decrypt");
    let (mut sender, mut receiver) = dmp_group_pair();
    g.bench_function("dmp_2_members", |bn| {
        bn.iter_batched(
            || sender.encrypt(&pt).unwrap(),
            |m| receiver.decrypt(&m).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let (mut outbound, mut inbound) = megolm_pair();
    g.bench_function("vodozemac_megolm", |bn| {
        bn.iter_batched(|| outbound.encrypt(&pt), |m| inbound.decrypt(&m).unwrap(), BatchSize::SmallInput)
    });
    g.finish();
}

/// The signatures under the group numbers: Ed25519 sign and strict verify of a 1 KiB message,
/// DMP (ed25519-dalek 3 / curve25519-dalek 5) next to vodozemac's (ed25519-dalek 2 /
/// curve25519-dalek 4.1), both `verify_strict`.
fn signatures(c: &mut Criterion) {
    let msg = vec![7u8; 1024];
    let ours = dmp::crypto::SigningKey::generate().unwrap();
    let theirs = vodozemac::Ed25519Keypair::new();
    let mut g = c.benchmark_group("anchor_ed25519_sign_1KiB");
    g.bench_function("dmp", |bn| bn.iter(|| ours.sign(black_box(&msg))));
    g.bench_function("vodozemac", |bn| bn.iter(|| theirs.sign(black_box(&msg))));
    g.finish();
    let (our_sig, our_key) = (ours.sign(&msg), ours.verifying_key());
    let (their_sig, their_key) = (theirs.sign(&msg), theirs.public_key());
    let mut g = c.benchmark_group("anchor_ed25519_verify_strict_1KiB");
    g.bench_function("dmp", |bn| bn.iter(|| our_key.verify(black_box(&msg), &our_sig).unwrap()));
    g.bench_function("vodozemac", |bn| bn.iter(|| their_key.verify(black_box(&msg), &their_sig).unwrap()));
    g.finish();
}

/// Not timings: stored state, printed once. DMP: records sealed with the storage key (binary);
/// vodozemac: pickles encrypted with a pickle key (base64 text, as vodozemac returns them).
fn sizes(_c: &mut Criterion) {
    let key = StorageKey::from_bytes([1; 32]);
    let pickle_key = [1u8; 32];
    let (a, _) = dmp_pair();
    let (oa, _) = olm_pair();
    let dmp_session = a.to_sealed(&key).unwrap().len();
    let olm_session = oa.pickle().encrypt(&pickle_key).len();
    println!(
        "size: idle pairwise session: dmp record {dmp_session} bytes; vodozemac Olm session pickle {olm_session} bytes (base64, ~{} binary)",
        olm_session * 3 / 4
    );
    println!(
        "ratio: size_session dmp/vodozemac(binary) {:.2}",
        dmp_session as f64 / (olm_session * 3 / 4) as f64
    );
    // A member's state: its own sender key and the peer's (Megolm: one outbound + one inbound).
    let (me, peer) = (Identity::generate().unwrap(), Identity::generate().unwrap());
    let mut mine = Group::new(me.agent_id(), [1; 32]).unwrap();
    mine.add_member(&peer.agent_id()).unwrap();
    let mut theirs = Group::new(peer.agent_id(), [1; 32]).unwrap();
    theirs.add_member(&me.agent_id()).unwrap();
    mine.process_distribution(&peer.agent_id(), &theirs.distribution()).unwrap();
    let (outbound, inbound) = megolm_pair();
    let dmp_group = mine.to_sealed(&key).unwrap().len();
    let out_p = outbound.pickle().encrypt(&pickle_key).len();
    let in_p = inbound.pickle().encrypt(&pickle_key).len();
    println!(
        "size: two-member group: dmp record {dmp_group} bytes (own sender key + the peer's); vodozemac Megolm outbound pickle {out_p} + inbound pickle {in_p} = {} bytes (base64, ~{} binary)",
        out_p + in_p,
        (out_p + in_p) * 3 / 4
    );
    println!(
        "ratio: size_group dmp/vodozemac(binary) {:.2}",
        dmp_group as f64 / ((out_p + in_p) * 3 / 4) as f64
    );
}

/// The median (ns) of `group/name` from this run, if criterion wrote it after `since`.
fn median_ns(group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let path = output_dir().join(group).join(name).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let median = &text[text.find("\"median\"")?..];
    let point = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = point.find([',', '}'])?;
    point[..end].trim().parse().ok()
}

fn ratios(since: SystemTime) {
    let cases = [
        ("anchor_session_establishment", "dmp_hybrid", "vodozemac_olm"),
        ("anchor_session_establishment", "dmp_classical", "vodozemac_olm"),
        ("anchor_pairwise_1KiB_same_direction", "dmp", "vodozemac_olm"),
        ("anchor_pairwise_1KiB_alternating_two_messages", "dmp", "vodozemac_olm"),
        ("anchor_group_1KiB_encrypt", "dmp_2_members", "vodozemac_megolm"),
        ("anchor_group_1KiB_decrypt", "dmp_2_members", "vodozemac_megolm"),
        ("anchor_ed25519_sign_1KiB", "dmp", "vodozemac"),
        ("anchor_ed25519_verify_strict_1KiB", "dmp", "vodozemac"),
    ];
    println!("\nMedians of this run (us) and ratio DMP / anchor:");
    for (group, ours, anchor) in cases {
        match (median_ns(group, ours, since), median_ns(group, anchor, since)) {
            (Some(o), Some(a)) => println!(
                "ratio: {group} {ours} {:.2} us / {anchor} {:.2} us = {:.2}",
                o / 1e3,
                a / 1e3,
                o / a
            ),
            _ => println!("ratio: {group} {ours} / {anchor}: not measured in this run"),
        }
    }
}

fn config() -> Criterion {
    Criterion::default().output_directory(&output_dir())
}

criterion_group! {
    name = benches;
    config = config();
    targets = session_establishment, pairwise, groups, signatures, sizes
}

fn main() {
    let since = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios(since);
}
