//! DMP's own costs, measured with criterion. Run: `cargo bench --bench dmp` (or `make bench`).
//! Anchors (libsodium, vodozemac, Zig std.crypto) and the ratio tables are in docs/BENCHMARKS.md.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dmp::crypto::{AeadKey, SigningKey, X25519SecretKey, aead};
use dmp::{
    Agent, AgentConfig, Group, Identity, PqPolicy, PrekeyBundle, Session, SessionConfig, StorageKey, Suite,
};

fn aead_seal_open(c: &mut Criterion) {
    let mut g = c.benchmark_group("aead_seal_open");
    let key = AeadKey::from_bytes([7; 32]);
    for size in [64usize, 1024, 16 * 1024, 1 << 20] {
        let pt = vec![0x42u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &pt, |b, pt| {
            b.iter(|| {
                let sealed = aead::seal(&key, b"ad", black_box(pt)).unwrap();
                aead::open(&key, b"ad", &sealed).unwrap()
            })
        });
    }
    g.finish();
}

/// 1 MiB through a session against the raw AEAD in the same run, both into caller buffers: the
/// session adds a chain step each way and the framing byte, nothing else (no copy either way
/// beyond the AEAD's own in-out pass, as the raw calls).
fn one_mib(c: &mut Criterion) {
    let mut g = c.benchmark_group("one_MiB_seal_open");
    let size = 1 << 20;
    let pt = vec![0x42u8; size];
    g.throughput(Throughput::Bytes(size as u64));
    let key = AeadKey::from_bytes([7; 32]);
    let mut sealed = vec![0u8; aead::sealed_len(size)];
    let mut opened = vec![0u8; size + 1]; // + the framing byte, for the session
    g.bench_function("raw_aead_into", |bn| {
        bn.iter(|| {
            aead::seal_into(&key, b"ad", black_box(&pt), &mut sealed).unwrap();
            aead::open_into(&key, b"ad", &sealed, &mut opened[..size]).unwrap();
        })
    });
    let (mut a, mut b) = pair();
    let mut env = Vec::new();
    g.bench_function("session_into", |bn| {
        bn.iter(|| {
            // The exact length grows by a byte when the message number reaches 128 (a varint).
            env.resize(a.encrypted_len(size).unwrap(), 0);
            a.encrypt_into(black_box(&pt), &mut env).unwrap();
            // What dmp_session_decrypt does with a buffer that holds the framed plaintext.
            assert_eq!(b.decrypt_into(&env, &mut opened).unwrap(), size);
        })
    });
    g.finish();
}

fn primitives(c: &mut Criterion) {
    let a = X25519SecretKey::generate().unwrap();
    let b = X25519SecretKey::generate().unwrap().public_key();
    c.bench_function("x25519_dh", |bn| bn.iter(|| a.diffie_hellman(black_box(&b)).unwrap()));
    let sk = SigningKey::generate().unwrap();
    let vk = sk.verifying_key();
    let sig = sk.sign(b"message");
    c.bench_function("ed25519_sign", |bn| bn.iter(|| sk.sign(black_box(b"message"))));
    c.bench_function("ed25519_verify_strict", |bn| {
        bn.iter(|| vk.verify(black_box(b"message"), &sig).unwrap())
    });
}

/// Bundle -> first message -> accepted, for both suites.
fn session_establishment(c: &mut Criterion) {
    let mut g = c.benchmark_group("session_establishment");
    for suite in [Suite::Classical, Suite::Hybrid] {
        let alice = Identity::generate().unwrap();
        let mut bob = Identity::generate_with(suite).unwrap();
        let bundle_bytes = bob.bundle(false).unwrap().to_bytes();
        let config = SessionConfig { pq_policy: PqPolicy::AllowClassical, ..SessionConfig::default() };
        g.bench_function(format!("{suite:?}"), |bn| {
            bn.iter(|| {
                let bundle = PrekeyBundle::from_bytes(&bundle_bytes).unwrap();
                let mut a = Session::initiate(alice.keys(), &bundle, config).unwrap();
                let first = a.encrypt(b"hello").unwrap();
                Session::accept(&mut bob, &first, config).unwrap()
            })
        });
    }
    g.finish();
}

fn pair() -> (Session, Session) {
    let alice = Identity::generate().unwrap();
    let mut bob = Identity::generate().unwrap();
    let mut a =
        Session::initiate(alice.keys(), &bob.bundle(false).unwrap(), SessionConfig::default()).unwrap();
    let (mut b, _) = Session::accept(&mut bob, &a.encrypt(b"hi").unwrap(), SessionConfig::default()).unwrap();
    a.decrypt(&b.encrypt(b"hi").unwrap()).unwrap();
    (a, b)
}

fn messages(c: &mut Criterion) {
    let mut g = c.benchmark_group("pairwise_1KiB");
    let pt = vec![1u8; 1024];
    let (mut a, mut b) = pair();
    g.bench_function("same_direction", |bn| {
        bn.iter(|| b.decrypt(&a.encrypt(black_box(&pt)).unwrap()).unwrap())
    });
    let (mut a, mut b) = pair();
    g.bench_function("alternating_two_messages", |bn| {
        bn.iter(|| {
            b.decrypt(&a.encrypt(&pt).unwrap()).unwrap();
            a.decrypt(&b.encrypt(&pt).unwrap()).unwrap()
        })
    });
    g.finish();
    c.bench_function("out_of_order_catch_up_1000_gap", |bn| {
        bn.iter_batched(
            || {
                let (mut a, b) = pair();
                let msgs: Vec<_> = (0..1001).map(|_| a.encrypt(b"x").unwrap()).collect();
                (b, msgs)
            },
            |(mut b, msgs)| {
                b.decrypt(&msgs[1000]).unwrap();
                for m in &msgs[..1000] {
                    b.decrypt(m).unwrap();
                }
            },
            BatchSize::LargeInput,
        )
    });
}

fn groups(c: &mut Criterion) {
    let mut g = c.benchmark_group("group_1KiB");
    let pt = vec![1u8; 1024];
    for n in [2usize, 100, 1000] {
        let ids: Vec<Identity> = (0..n).map(|_| Identity::generate_with(Suite::Classical).unwrap()).collect();
        let gid = [9u8; 32];
        let mut sender = Group::new(ids[0].agent_id(), gid).unwrap();
        let mut receiver = Group::new(ids[1].agent_id(), gid).unwrap();
        for id in &ids[1..] {
            sender.add_member(&id.agent_id()).unwrap();
        }
        for id in ids.iter().filter(|i| i.agent_id() != ids[1].agent_id()) {
            receiver.add_member(&id.agent_id()).unwrap();
        }
        receiver.process_distribution(&ids[0].agent_id(), &sender.distribution()).unwrap();
        // Encrypt-only runs on a copy, so the receiver's chain is not left thousands of steps behind.
        let mut encrypt_only = sender.clone();
        g.bench_function(BenchmarkId::new("encrypt", n), |bn| {
            bn.iter(|| encrypt_only.encrypt(black_box(&pt)).unwrap())
        });
        g.bench_function(BenchmarkId::new("encrypt_decrypt", n), |bn| {
            bn.iter(|| receiver.decrypt(&sender.encrypt(black_box(&pt)).unwrap()).unwrap())
        });
    }
    g.finish();
}

/// An agent holding `n` sessions receives from one of them.
fn agent_receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("agent_receive_1KiB");
    g.sample_size(20);
    let key = StorageKey::from_bytes([3; 32]);
    let config = AgentConfig { one_time_prekey_target: 0, ..AgentConfig::default() };
    for n in [10usize, 10_000] {
        let mut hub = Agent::open(None, key.clone(), config).unwrap();
        let mut last = None;
        for _ in 0..n {
            // Sessions from many peers, set up directly with the hub's bundle.
            let peer = Identity::generate().unwrap();
            let bundle = PrekeyBundle::from_bytes(&hub.bundle(false).unwrap()).unwrap();
            let mut s = Session::initiate(peer.keys(), &bundle, SessionConfig::default()).unwrap();
            let env = s.encrypt(&[2]).unwrap(); // payload kind HELLO
            hub.receive(&env).unwrap();
            last = Some(s);
        }
        let mut s = last.unwrap();
        let mut framed = vec![0u8]; // payload kind APP
        framed.extend_from_slice(&[1u8; 1024]);
        g.bench_function(BenchmarkId::from_parameter(n), |bn| {
            bn.iter(|| hub.receive(&s.encrypt(&framed).unwrap()).unwrap())
        });
    }
    g.finish();
}

/// An agent in a group of `n` members (keys from all of them) receives and sends a group
/// message: the group decryption or encryption plus what the agent adds (the changed records
/// sealed; the store is in memory here).
fn agent_group_receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("agent_group_1KiB");
    g.sample_size(20);
    let key = StorageKey::from_bytes([6; 32]);
    let config = AgentConfig { one_time_prekey_target: 0, ..AgentConfig::default() };
    let gid = [7u8; 32];
    let app = vec![1u8; 1024];
    for n in [2usize, 100, 1000] {
        let mut hub = Agent::open(None, key.clone(), config).unwrap();
        let mut first: Option<Group> = None;
        for i in 1..n {
            let peer = Identity::generate_with(Suite::Classical).unwrap();
            let bundle = PrekeyBundle::from_bytes(&hub.bundle(false).unwrap()).unwrap();
            let mut s = Session::initiate(peer.keys(), &bundle, SessionConfig::default()).unwrap();
            hub.receive(&s.encrypt(&[2]).unwrap()).unwrap(); // HELLO
            let mut pg = Group::new(peer.agent_id(), gid).unwrap();
            pg.add_member(&hub.agent_id()).unwrap();
            if i > 1 {
                hub.group_add(&gid, &peer.agent_id()).unwrap(); // the first one invited the hub
            }
            let mut d = vec![1u8]; // payload kind DISTRIBUTION
            d.extend_from_slice(&pg.distribution());
            hub.receive(&s.encrypt(&d).unwrap()).unwrap();
            if first.is_none() {
                first = Some(pg);
            }
        }
        while hub.outbox_len() > 0 {
            hub.outbox_done(hub.outbox_next().unwrap().seq).unwrap();
        }
        assert_eq!(hub.group_members(&gid).unwrap().len(), n - 1);
        let mut sender = first.unwrap();
        g.bench_function(BenchmarkId::new("receive", n), |bn| {
            bn.iter(|| hub.receive(&sender.encrypt(black_box(&app)).unwrap()).unwrap())
        });
        g.bench_function(BenchmarkId::new("send", n), |bn| {
            bn.iter(|| hub.group_send(&gid, black_box(&app)).unwrap())
        });
    }
    g.finish();
}

fn agent_persisted_vs_memory(c: &mut Criterion) {
    let mut g = c.benchmark_group("agent_send_receive_1KiB");
    g.sample_size(20);
    let key = StorageKey::from_bytes([4; 32]);
    let dir = std::env::temp_dir().join(format!("dmp-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pt = vec![5u8; 1024];
    for persisted in [false, true] {
        let config = AgentConfig { one_time_prekey_target: 1, ..AgentConfig::default() };
        let (pa, pb) = (dir.join(format!("a{persisted}.db")), dir.join(format!("b{persisted}.db")));
        let mut a = Agent::open(persisted.then_some(pa.as_path()), key.clone(), config).unwrap();
        let mut b = Agent::open(persisted.then_some(pb.as_path()), key.clone(), config).unwrap();
        let bundle = b.bundle(false).unwrap();
        let bid = a.add_bundle(&bundle).unwrap();
        b.receive(&a.send(&bid, b"setup").unwrap()).unwrap();
        let name = if persisted { "sqlite" } else { "memory" };
        g.bench_function(name, |bn| bn.iter(|| b.receive(&a.send(&bid, black_box(&pt)).unwrap()).unwrap()));
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Not timings: sizes, printed once so the benchmark report can quote them.
fn sizes(c: &mut Criterion) {
    let key = StorageKey::from_bytes([1; 32]);
    let (a, _) = pair();
    let mut id = Identity::generate().unwrap();
    let mut classical = Identity::generate_with(Suite::Classical).unwrap();
    let mut group = Group::new(id.agent_id(), [1; 32]).unwrap();
    let member = Identity::generate().unwrap();
    group.add_member(&member.agent_id()).unwrap();
    let mut g2 = Group::new(member.agent_id(), [1; 32]).unwrap();
    g2.add_member(&id.agent_id()).unwrap();
    group.process_distribution(&member.agent_id(), &g2.distribution()).unwrap();
    println!("size: idle session record {} bytes", a.to_sealed(&key).unwrap().len());
    println!(
        "size: in-memory Session {} bytes inline (+ 8 bytes per remembered peer ratchet key, at most 128; \
         + 1,088 bytes of ML-KEM ciphertext while an initiator is unanswered; + ~70 bytes per skipped key)",
        std::mem::size_of::<Session>()
    );
    println!("size: two-member group record {} bytes", group.to_sealed(&key).unwrap().len());
    println!(
        "size: hybrid bundle {} / with one-time prekey {} bytes",
        id.bundle(false).unwrap().to_bytes().len(),
        id.bundle(true).unwrap().to_bytes().len()
    );
    println!(
        "size: classical bundle {} / with one-time prekey {} bytes",
        classical.bundle(false).unwrap().to_bytes().len(),
        classical.bundle(true).unwrap().to_bytes().len()
    );
    let alice = Identity::generate().unwrap();
    let mut s =
        Session::initiate(alice.keys(), &id.bundle(false).unwrap(), SessionConfig::default()).unwrap();
    println!("size: hybrid first message with 1 KiB {} bytes", s.encrypt(&[0; 1024]).unwrap().len());
    c.bench_function("session_serialize_idle", |bn| bn.iter(|| a.to_sealed(&key).unwrap()));
}

criterion_group!(
    benches,
    aead_seal_open,
    one_mib,
    primitives,
    session_establishment,
    messages,
    groups,
    agent_receive,
    agent_group_receive,
    agent_persisted_vs_memory,
    sizes
);
criterion_main!(benches);
