//! Long conversations with random interleavings, reordering, replays and restores.

mod common;

use common::*;
use dmp::{Error, Identity, Session, SessionConfig, StorageKey};

struct InFlight {
    to_bob: bool,
    envelope: Vec<u8>,
    plaintext: Vec<u8>,
}

/// Runs `steps` random actions and checks that every message is decrypted exactly once with the
/// right content, replays are refused, and the conversation never wedges.
fn random_conversation(seed: u64, steps: usize) {
    let mut rng = Rng::new(seed);
    let mut p = active();
    let mut in_flight: Vec<InFlight> = Vec::new();
    let mut delivered: Vec<InFlight> = Vec::new();
    let mut counter = 0u64;
    let (mut replays, mut duplicates) = (0u32, 0u32);
    let key = storage_key();
    for _ in 0..steps {
        match rng.below(100) {
            // Send from either side; bursts in one direction are common.
            0..=44 => {
                let to_bob = rng.chance(50);
                counter += 1;
                let plaintext = format!("{seed}:{counter}").into_bytes();
                let sender = if to_bob { &mut p.alice } else { &mut p.bob };
                let envelope = sender.encrypt(&plaintext).unwrap();
                in_flight.push(InFlight { to_bob, envelope, plaintext });
            }
            // Deliver a random in-flight message (out of order).
            45..=89 if !in_flight.is_empty() => {
                let i = rng.below(in_flight.len());
                let m = in_flight.swap_remove(i);
                let receiver = if m.to_bob { &mut p.bob } else { &mut p.alice };
                assert_eq!(receiver.decrypt(&m.envelope).unwrap(), m.plaintext, "seed {seed}");
                delivered.push(m);
            }
            // Replay something already delivered.
            90..=94 if !delivered.is_empty() => {
                let m = &delivered[rng.below(delivered.len())];
                let receiver = if m.to_bob { &mut p.bob } else { &mut p.alice };
                let before = snapshot(receiver);
                // Duplicate while the chain is among the last MAX_OLD_RATCHET_KEYS; older
                // replays fail authentication. Refused and unchanged either way.
                let err = receiver.decrypt(&m.envelope).unwrap_err();
                assert!(matches!(err, Error::Duplicate | Error::AuthFailed), "seed {seed}: {err:?}");
                assert_eq!(snapshot(receiver), before, "seed {seed}");
                replays += 1;
                duplicates += (err == Error::Duplicate) as u32;
            }
            // Crash and restore one side from its serialized state.
            95..=99 => {
                let side = if rng.chance(50) { &mut p.alice } else { &mut p.bob };
                *side = Session::from_sealed(&side.to_sealed(&key).unwrap(), &key).unwrap();
            }
            _ => {}
        }
    }
    // Drain: everything still in flight arrives, in random order.
    while !in_flight.is_empty() {
        let m = in_flight.swap_remove(rng.below(in_flight.len()));
        let receiver = if m.to_bob { &mut p.bob } else { &mut p.alice };
        assert_eq!(receiver.decrypt(&m.envelope).unwrap(), m.plaintext, "seed {seed}");
    }
    assert!(
        duplicates * 10 >= replays * 8,
        "seed {seed}: only {duplicates} of {replays} replays named Duplicate"
    );
    // And the conversation still works both ways.
    let m = p.alice.encrypt(b"end").unwrap();
    assert_eq!(p.bob.decrypt(&m).unwrap(), b"end");
    let m = p.bob.encrypt(b"end").unwrap();
    assert_eq!(p.alice.decrypt(&m).unwrap(), b"end");
}

#[test]
fn thousands_of_messages_with_random_interleavings_seed_1() {
    random_conversation(1, 4000);
}

#[test]
fn thousands_of_messages_with_random_interleavings_seed_2() {
    random_conversation(2, 4000);
}

#[test]
fn many_short_random_conversations() {
    for seed in 100..140 {
        random_conversation(seed, 200);
    }
}

#[test]
fn in_order_alternating_conversation_of_two_thousand_messages() {
    let mut p = active();
    for i in 0..2000u32 {
        let (s, r) = if i % 3 == 0 { (&mut p.bob, &mut p.alice) } else { (&mut p.alice, &mut p.bob) };
        let m = s.encrypt(&i.to_le_bytes()).unwrap();
        assert_eq!(r.decrypt(&m).unwrap(), i.to_le_bytes());
    }
}

#[test]
fn first_messages_delivered_in_any_order() {
    for seed in 0..20 {
        let mut rng = Rng::new(seed);
        let alice_id = Identity::generate().unwrap();
        let mut bob_id = Identity::generate().unwrap();
        let bundle = bob_id.bundle(rng.chance(50)).unwrap();
        let mut alice = Session::initiate(alice_id.keys(), &bundle, SessionConfig::default()).unwrap();
        let mut queued: Vec<(Vec<u8>, Vec<u8>)> = (0..6u8)
            .map(|i| {
                let pt = vec![i; i as usize + 1];
                (alice.encrypt(&pt).unwrap(), pt)
            })
            .collect();
        let (env, pt) = queued.swap_remove(rng.below(queued.len()));
        let (mut bob, got) = Session::accept(&mut bob_id, &env, SessionConfig::default()).unwrap();
        assert_eq!(got, pt);
        while !queued.is_empty() {
            let (env, pt) = queued.swap_remove(rng.below(queued.len()));
            assert_eq!(bob.decrypt(&env).unwrap(), pt);
        }
    }
}

#[test]
fn restore_mid_conversation_keeps_skipped_keys() {
    let mut p = active();
    let early: Vec<_> = (0..5u8).map(|i| p.alice.encrypt(&[i]).unwrap()).collect();
    p.bob.decrypt(&early[4]).unwrap();
    let key = storage_key();
    let record = p.bob.to_sealed(&key).unwrap();
    let mut restored = Session::from_sealed(&record, &key).unwrap();
    assert_eq!(restored.skipped_key_count().unwrap(), 4);
    for (i, e) in early.iter().enumerate().take(4) {
        assert_eq!(restored.decrypt(e).unwrap(), [i as u8]);
    }
    let reply = restored.encrypt(b"from the restored side").unwrap();
    assert_eq!(p.alice.decrypt(&reply).unwrap(), b"from the restored side");
}

#[test]
fn restored_initiator_still_sends_prekey_messages() {
    let mut p = established();
    let key = storage_key();
    let mut alice = Session::from_sealed(&p.alice.to_sealed(&key).unwrap(), &key).unwrap();
    let m = alice.encrypt(b"after restore").unwrap();
    assert_eq!(m[1], 1);
    assert_eq!(p.bob.decrypt(&m).unwrap(), b"after restore");
}

#[test]
fn wrong_storage_key_is_refused() {
    let p = active();
    let record = p.alice.to_sealed(&storage_key()).unwrap();
    let wrong = StorageKey::from_bytes([0x5B; 32]);
    assert_eq!(Session::from_sealed(&record, &wrong).unwrap_err(), Error::WrongStorageKey);
}

#[test]
fn tampered_or_truncated_record_is_refused() {
    let p = active();
    let key = storage_key();
    let record = p.alice.to_sealed(&key).unwrap();
    for i in (0..record.len() * 8).step_by(7) {
        let mut t = record.clone();
        t[i / 8] ^= 1 << (i % 8);
        assert!(Session::from_sealed(&t, &key).is_err(), "bit {i}");
    }
    for n in 0..record.len() {
        assert!(Session::from_sealed(&record[..n], &key).is_err(), "len {n}");
    }
}

#[test]
fn record_of_another_kind_is_refused() {
    let id = Identity::generate().unwrap();
    let key = storage_key();
    assert_eq!(Session::from_sealed(&id.to_sealed(&key).unwrap(), &key).unwrap_err(), Error::BadState);
    let p = active();
    assert_eq!(Identity::from_sealed(&p.bob.to_sealed(&key).unwrap(), &key).unwrap_err(), Error::BadState);
}

#[test]
fn restoring_an_old_copy_cannot_read_new_messages_after_a_round_trip() {
    // Post-compromise flavour: a stolen copy of Bob's state falls behind after a DH round trip.
    let mut p = active();
    let key = storage_key();
    let stolen = Session::from_sealed(&p.bob.to_sealed(&key).unwrap(), &key).unwrap();
    let r = p.bob.encrypt(b"r").unwrap();
    p.alice.decrypt(&r).unwrap();
    let m = p.alice.encrypt(b"x").unwrap();
    p.bob.decrypt(&m).unwrap();
    let r2 = p.bob.encrypt(b"r2").unwrap();
    p.alice.decrypt(&r2).unwrap();
    let secret = p.alice.encrypt(b"after healing").unwrap();
    let mut stolen = stolen;
    assert!(stolen.decrypt(&secret).is_err());
}

#[test]
fn replay_from_a_recent_finished_chain_is_duplicate_and_an_ancient_one_is_refused() {
    use dmp::ratchet::MAX_OLD_RATCHET_KEYS;
    let mut p = active();
    let mut history = Vec::new();
    for _ in 0..MAX_OLD_RATCHET_KEYS + 10 {
        let m = p.alice.encrypt(b"a").unwrap();
        p.bob.decrypt(&m).unwrap();
        history.push(m);
        let r = p.bob.encrypt(b"b").unwrap();
        p.alice.decrypt(&r).unwrap();
    }
    let recent = &history[history.len() - MAX_OLD_RATCHET_KEYS + 1];
    assert_eq!(p.bob.decrypt(recent), Err(Error::Duplicate));
    let before = snapshot(&p.bob);
    assert_eq!(p.bob.decrypt(&history[0]), Err(Error::AuthFailed));
    assert_eq!(snapshot(&p.bob), before);
}
