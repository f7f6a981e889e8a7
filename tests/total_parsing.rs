//! Every parser and decrypt path is total: random and mutated inputs give a value or an error,
//! never a panic, and a refused input changes nothing. A cheap, deterministic stand-in for the
//! fuzzing of issue #10, run on every `cargo test`.

mod common;

use common::*;
use dmp::wire::bundle::BundleFields;
use dmp::wire::group::{Distribution, GroupEnvelope};
use dmp::wire::{MessageEnvelope, peek_type};
use dmp::{Agent, AgentConfig, Group, Identity, PrekeyBundle, Session, SessionConfig, StorageKey};

/// Random bytes, and mutations of `seeds` (bit flips, truncations, extensions, splices).
fn inputs(seeds: &[Vec<u8>], n: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut v = if seeds.is_empty() || i % 5 == 0 {
            let len = rng.below(400);
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        for _ in 0..1 + rng.below(4) {
            match rng.below(5) {
                0 if !v.is_empty() => {
                    let i = rng.below(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
                1 if !v.is_empty() => v.truncate(rng.below(v.len())),
                2 => v.extend((0..rng.below(40)).map(|_| rng.next() as u8)),
                3 if v.len() > 2 => {
                    let i = rng.below(v.len());
                    v[i] = rng.next() as u8;
                }
                _ => {
                    if v.len() >= 2 {
                        v[0] = 1;
                        v[1] = 1 + rng.below(5) as u8;
                    }
                }
            }
        }
        out.push(v);
    }
    out
}

#[test]
fn wire_parsers_never_panic() {
    let mut rng = Rng::new(11);
    let mut p = active();
    let mut seeds = vec![p.alice.encrypt(b"x").unwrap(), p.bob_id.bundle(true).unwrap().to_bytes()];
    let mut g = Group::new(p.alice_id.agent_id(), [1; 32]).unwrap();
    seeds.push(g.encrypt(b"g").unwrap());
    seeds.push(g.distribution().to_vec());
    for input in inputs(&seeds, 20_000, &mut rng) {
        let _ = peek_type(&input);
        let _ = MessageEnvelope::parse(&input);
        let _ = BundleFields::parse(&input);
        let _ = PrekeyBundle::from_bytes(&input);
        let _ = GroupEnvelope::parse(&input);
        let _ = Distribution::parse(&input);
    }
}

#[test]
fn decrypt_paths_never_panic_and_refusals_change_nothing() {
    let mut rng = Rng::new(12);
    let mut p = active();
    let seeds: Vec<Vec<u8>> = (0..4).map(|i| p.alice.encrypt(&[i; 20]).unwrap()).collect();
    let before = snapshot(&p.bob);
    for input in inputs(&seeds, 3_000, &mut rng) {
        if seeds.contains(&input) {
            continue; // an untouched genuine envelope would (rightly) decrypt
        }
        assert!(p.bob.decrypt(&input).is_err());
        assert_eq!(snapshot(&p.bob), before);
    }
    for (i, m) in seeds.iter().enumerate() {
        assert_eq!(p.bob.decrypt(m).unwrap(), [i as u8; 20]);
    }
}

#[test]
fn accept_and_group_decrypt_never_panic() {
    let mut rng = Rng::new(13);
    let alice = Identity::generate().unwrap();
    let mut bob = Identity::generate().unwrap();
    let mut s =
        Session::initiate(alice.keys(), &bob.bundle(true).unwrap(), SessionConfig::default()).unwrap();
    let first = s.encrypt(b"first").unwrap();
    let count = bob.one_time_prekey_count();
    for input in inputs(std::slice::from_ref(&first), 600, &mut rng) {
        if input != first {
            assert!(Session::accept(&mut bob, &input, SessionConfig::default()).is_err());
            assert_eq!(bob.one_time_prekey_count(), count);
        }
    }
    let mut ga = Group::new(alice.agent_id(), [2; 32]).unwrap();
    let mut gb = Group::new(bob.agent_id(), [2; 32]).unwrap();
    ga.add_member(&bob.agent_id()).unwrap();
    gb.add_member(&alice.agent_id()).unwrap();
    gb.process_distribution(&alice.agent_id(), &ga.distribution()).unwrap();
    let m = ga.encrypt(b"group").unwrap();
    for input in inputs(std::slice::from_ref(&m), 3_000, &mut rng) {
        if input != m {
            assert!(gb.decrypt(&input).is_err());
        }
        let _ = gb.process_distribution(&alice.agent_id(), &input);
    }
    assert_eq!(gb.decrypt(&m).unwrap().1, b"group");
}

#[test]
fn state_records_never_panic() {
    let mut rng = Rng::new(14);
    let key = storage_key();
    let p = active();
    let seeds = vec![p.bob.to_sealed(&key).unwrap(), p.bob_id.to_sealed(&key).unwrap()];
    for input in inputs(&seeds, 3_000, &mut rng) {
        let _ = Session::from_sealed(&input, &key);
        let _ = Identity::from_sealed(&input, &key);
        let _ = Group::from_sealed(&input, &key);
    }
}

#[test]
fn agent_receive_never_panics_and_keeps_working() {
    let mut rng = Rng::new(15);
    let key = StorageKey::from_bytes([1; 32]);
    let mut a = Agent::open(None, key.clone(), AgentConfig::default()).unwrap();
    let mut b = Agent::open(None, key, AgentConfig::default()).unwrap();
    let bid = a.add_bundle(&b.bundle(true).unwrap()).unwrap();
    let first = a.send(&bid, b"first").unwrap();
    let seeds = vec![first.clone(), a.send(&bid, b"second").unwrap()];
    for input in inputs(&seeds, 1_500, &mut rng) {
        if !seeds.contains(&input) {
            assert!(b.receive(&input).is_err());
        }
    }
    assert_eq!(b.receive(&first).unwrap().plaintext[..], b"first"[..]);
}

#[test]
fn c_entry_points_with_arbitrary_lengths_never_panic() {
    use dmp::ffi::raw::{dmp_aead_open, dmp_hkdf_sha256};
    use dmp::ffi::status::DMP_ERR_INTERNAL;
    let mut rng = Rng::new(16);
    let key = [7u8; 32];
    let mut out = vec![0u8; 2048];
    for _ in 0..2_000 {
        let len = rng.below(300);
        let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let cap = rng.below(400);
        let mut out_len = 0usize;
        // SAFETY: every pointer is valid for the length given.
        let rc = unsafe {
            dmp_aead_open(
                key.as_ptr(),
                input.as_ptr(),
                len,
                input.as_ptr(),
                len,
                out.as_mut_ptr(),
                cap,
                &mut out_len,
            )
        };
        assert!(rc < 0 && rc != DMP_ERR_INTERNAL);
        // SAFETY: as above; out_len bounded by the buffer.
        let rc = unsafe {
            dmp_hkdf_sha256(
                input.as_ptr(),
                len,
                input.as_ptr(),
                len,
                input.as_ptr(),
                len,
                out.as_mut_ptr(),
                cap.min(2048),
            )
        };
        assert_eq!(rc, 0);
    }
}

/// The one parse order of docs/PROTOCOL.md section 4.1, for every call that takes envelopes: an
/// input under 2 bytes, then the version, then an unknown type, then a type the call does not
/// take (whatever the length and the rest), then the type's size rule, then the fields.
#[test]
fn every_call_reports_length_version_type_size_then_fields() {
    use dmp::Error::{self, *};
    let key = StorageKey::from_bytes([1; 32]);
    let mut agent = Agent::open(None, key, AgentConfig::default()).unwrap();
    let mut p = active();
    let mut group = Group::new(p.bob_id.agent_id(), [2; 32]).unwrap();
    group.add_member(&p.alice_id.agent_id()).unwrap();
    let alice = p.alice_id.agent_id();
    let bob_id = &mut p.bob_id;
    let bob = &mut p.bob;
    let unit = |r: Result<(), Error>| r.err();
    // (name, the call, the types it takes, its size rule: the error just over its largest input).
    #[allow(clippy::type_complexity)]
    let mut calls: Vec<(&str, Box<dyn FnMut(&[u8]) -> Option<Error> + '_>, Vec<u8>, (usize, Error))> = vec![
        (
            "bundle",
            Box::new(|b: &[u8]| unit(PrekeyBundle::from_bytes(b).map(drop))),
            vec![3],
            (1368, BadEnvelope),
        ),
        (
            "accept",
            Box::new(move |b: &[u8]| unit(Session::accept(bob_id, b, SessionConfig::default()).map(drop))),
            vec![1],
            (1_179_648, TooLarge),
        ),
        (
            "decrypt",
            Box::new(move |b: &[u8]| unit(bob.decrypt(b).map(drop))),
            vec![1, 2],
            (1_179_648, TooLarge),
        ),
        (
            "group decrypt",
            Box::new(|b: &[u8]| unit(group.clone().decrypt(b).map(drop))),
            vec![4],
            (1_179_648, TooLarge),
        ),
        (
            "distribution",
            Box::new(|b: &[u8]| unit(group.clone().process_distribution(&alice, b))),
            vec![5],
            (138, BadEnvelope),
        ),
        (
            "agent",
            Box::new(|b: &[u8]| unit(agent.receive(b).map(drop))),
            vec![1, 2, 4],
            (1_179_648, TooLarge),
        ),
    ];
    for (name, call, takes, (max, over)) in calls.iter_mut() {
        assert_eq!(call(&[]), Some(BadEnvelope), "{name}: empty");
        for v in [0u8, 2, 0xff] {
            assert_eq!(call(&[v]), Some(BadEnvelope), "{name}: lone version byte {v}");
            assert_eq!(call(&[v, 7, 0]), Some(UnsupportedVersion), "{name}: version {v}, bad type");
            assert_eq!(call(&[v, takes[0]]), Some(UnsupportedVersion), "{name}: version {v}");
        }
        assert_eq!(call(&[1]), Some(BadEnvelope), "{name}: version alone");
        for ty in [0u8, 6, 0xff] {
            assert_eq!(call(&[1, ty]), Some(BadEnvelope), "{name}: unknown type {ty}");
        }
        for ty in 1..=5u8 {
            if takes.contains(&ty) {
                // Taken: too short for its fields, then just over its size rule.
                assert_eq!(call(&[1, ty]), Some(BadEnvelope), "{name}: type {ty} truncated");
                let mut long = vec![0u8; *max + 1];
                long[..2].copy_from_slice(&[1, ty]);
                assert_eq!(call(&long), Some(*over), "{name}: type {ty}, {} bytes", long.len());
            } else {
                // Not taken: the wrong type, whatever the length.
                for len in [2, 60, 1_179_649] {
                    let mut input = vec![0u8; len];
                    input[..2].copy_from_slice(&[1, ty]);
                    assert_eq!(call(&input), Some(WrongMessageType), "{name}: type {ty}, {len} bytes");
                }
            }
        }
    }
}
