//! Message exchange, asynchronous set-up, and every refusal leaving the session unchanged.

mod common;

use common::*;
use dmp::limits::MAX_PLAINTEXT_LEN;
use dmp::wire::envelope::MESSAGE_HEADER_LEN;
use dmp::{Error, Identity, Limits, Padding, PrekeyBundle, Session, SessionConfig, SessionState};

#[test]
fn initiator_sends_several_messages_before_responder_is_online() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let bundle = bob_id.bundle(true).unwrap();
    let mut alice = Session::initiate(alice_id.keys(), &bundle, SessionConfig::default()).unwrap();
    let queued: Vec<Vec<u8>> = (0..5).map(|i| alice.encrypt(format!("m{i}").as_bytes()).unwrap()).collect();
    // Bob comes online later and the first message he sees is the third.
    let (mut bob, pt) = Session::accept(&mut bob_id, &queued[2], SessionConfig::default()).unwrap();
    assert_eq!(pt, b"m2");
    for i in [0usize, 4, 1, 3] {
        assert_eq!(bob.decrypt(&queued[i]).unwrap(), format!("m{i}").as_bytes());
    }
    let reply = bob.encrypt(b"ack").unwrap();
    assert_eq!(alice.decrypt(&reply).unwrap(), b"ack");
    assert_eq!(alice.state(), SessionState::Active);
}

#[test]
fn one_time_prekey_used_twice_is_refused() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let bundle = bob_id.bundle(true).unwrap();
    let mut alice = Session::initiate(alice_id.keys(), &bundle, SessionConfig::default()).unwrap();
    let first = alice.encrypt(b"x").unwrap();
    Session::accept(&mut bob_id, &first, SessionConfig::default()).unwrap();
    assert_eq!(bob_id.one_time_prekey_count(), 0);
    assert_eq!(
        Session::accept(&mut bob_id, &first, SessionConfig::default()).unwrap_err(),
        Error::UnknownPrekey
    );
    // A second initiator holding the same bundle is refused too.
    let carol = Identity::generate().unwrap();
    let mut c = Session::initiate(carol.keys(), &bundle, SessionConfig::default()).unwrap();
    let env = c.encrypt(b"y").unwrap();
    assert_eq!(
        Session::accept(&mut bob_id, &env, SessionConfig::default()).unwrap_err(),
        Error::UnknownPrekey
    );
}

#[test]
fn used_one_time_prekey_stays_used_across_identity_restore() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let bundle = bob_id.bundle(true).unwrap();
    let mut alice = Session::initiate(alice_id.keys(), &bundle, SessionConfig::default()).unwrap();
    let first = alice.encrypt(b"x").unwrap();
    Session::accept(&mut bob_id, &first, SessionConfig::default()).unwrap();
    let key = storage_key();
    let mut restored = Identity::from_sealed(&bob_id.to_sealed(&key).unwrap(), &key).unwrap();
    assert_eq!(
        Session::accept(&mut restored, &first, SessionConfig::default()).unwrap_err(),
        Error::UnknownPrekey
    );
}

#[test]
fn failed_accept_keeps_the_one_time_prekey() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let bundle = bob_id.bundle(true).unwrap();
    let mut alice = Session::initiate(alice_id.keys(), &bundle, SessionConfig::default()).unwrap();
    let first = alice.encrypt(b"x").unwrap();
    let mut tampered = first.clone();
    *tampered.last_mut().unwrap() ^= 0x40;
    assert_eq!(
        Session::accept(&mut bob_id, &tampered, SessionConfig::default()).unwrap_err(),
        Error::AuthFailed
    );
    assert_eq!(bob_id.one_time_prekey_count(), 1);
    assert!(Session::accept(&mut bob_id, &first, SessionConfig::default()).is_ok());
}

#[test]
fn accept_refuses_a_plain_message() {
    let mut p = active();
    let env = p.alice.encrypt(b"x").unwrap();
    assert_eq!(
        Session::accept(&mut p.bob_id, &env, SessionConfig::default()).unwrap_err(),
        Error::WrongMessageType
    );
}

#[test]
fn accept_refuses_a_bundle() {
    let mut bob = Identity::generate().unwrap();
    let b = bob.bundle(false).unwrap().to_bytes();
    assert_eq!(Session::accept(&mut bob, &b, SessionConfig::default()).unwrap_err(), Error::WrongMessageType);
}

#[test]
fn message_for_another_identity_is_refused_by_accept() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let mut eve_id = Identity::generate().unwrap();
    let mut alice =
        Session::initiate(alice_id.keys(), &bob_id.bundle(false).unwrap(), SessionConfig::default()).unwrap();
    let mut first = alice.encrypt(b"for bob").unwrap();
    // Eve holds no prekey of that id (ids start at random points).
    assert_eq!(
        Session::accept(&mut eve_id, &first, SessionConfig::default()).unwrap_err(),
        Error::UnknownPrekey
    );
    // Renamed to Eve's signed prekey id (offset 74, and the paired last-resort ML-KEM id at 84):
    // she holds those prekeys, but her keys differ.
    let eve_spk = eve_id.signed_prekey_id().to_be_bytes();
    first[74..78].copy_from_slice(&eve_spk);
    first[84..88].copy_from_slice(&eve_spk);
    assert_eq!(
        Session::accept(&mut eve_id, &first, SessionConfig::default()).unwrap_err(),
        Error::AuthFailed
    );
}

#[test]
fn previous_signed_prekey_is_accepted_until_the_next_rotation() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let old_bundle = bob_id.bundle(false).unwrap();
    bob_id.rotate_signed_prekey().unwrap();
    let mut a1 = Session::initiate(alice_id.keys(), &old_bundle, SessionConfig::default()).unwrap();
    assert!(Session::accept(&mut bob_id, &a1.encrypt(b"x").unwrap(), SessionConfig::default()).is_ok());
    bob_id.rotate_signed_prekey().unwrap();
    let mut a2 = Session::initiate(alice_id.keys(), &old_bundle, SessionConfig::default()).unwrap();
    assert_eq!(
        Session::accept(&mut bob_id, &a2.encrypt(b"x").unwrap(), SessionConfig::default()).unwrap_err(),
        Error::UnknownPrekey
    );
}

#[test]
fn identity_from_seed_talks() {
    let alice_id = Identity::from_seed(&[1; 32]).unwrap();
    let mut bob_id = Identity::from_seed(&[2; 32]).unwrap();
    // The seed gives the agent id (prekeys are fresh randomness each time).
    assert_eq!(alice_id.agent_id(), Identity::from_seed(&[1; 32]).unwrap().agent_id());
    let mut alice =
        Session::initiate(alice_id.keys(), &bob_id.bundle(false).unwrap(), SessionConfig::default()).unwrap();
    let (mut bob, _) =
        Session::accept(&mut bob_id, &alice.encrypt(b"x").unwrap(), SessionConfig::default()).unwrap();
    assert_eq!(alice.decrypt(&bob.encrypt(b"y").unwrap()).unwrap(), b"y");
}

#[test]
fn ratchet_key_changes_with_direction() {
    let mut p = active();
    let a1 = p.alice.encrypt(b"1").unwrap();
    let a2 = p.alice.encrypt(b"2").unwrap();
    assert_eq!(a1[10..42], a2[10..42], "same chain, same ratchet key");
    p.bob.decrypt(&a1).unwrap();
    p.bob.decrypt(&a2).unwrap();
    let b1 = p.bob.encrypt(b"3").unwrap();
    p.alice.decrypt(&b1).unwrap();
    let a3 = p.alice.encrypt(b"4").unwrap();
    assert_ne!(a1[10..42], a3[10..42], "a DH ratchet step on direction change");
}

#[test]
fn empty_and_maximum_plaintexts() {
    let mut p = active();
    assert_eq!(p.bob.decrypt(&p.alice.encrypt(b"").unwrap()).unwrap(), b"");
    let big = vec![0xA5u8; MAX_PLAINTEXT_LEN];
    assert_eq!(p.bob.decrypt(&p.alice.encrypt(&big).unwrap()).unwrap(), big);
}

#[test]
fn oversized_plaintext_is_refused_without_advancing() {
    let mut p = active();
    let before = snapshot(&p.alice);
    let too_big = vec![0u8; MAX_PLAINTEXT_LEN + 1];
    assert_eq!(p.alice.encrypt(&too_big).unwrap_err(), Error::TooLarge);
    assert_eq!(snapshot(&p.alice), before);
}

#[test]
fn encrypted_len_is_exact_in_both_padding_modes() {
    for padding in [Padding::None, Padding::Buckets] {
        let mut p = established_with(SessionConfig { padding, ..Default::default() });
        for len in [0usize, 1, 63, 64, 1000, 70_000] {
            let want = p.alice.encrypted_len(len).unwrap();
            assert_eq!(p.alice.encrypt(&vec![1u8; len]).unwrap().len(), want);
        }
    }
}

#[test]
fn encrypted_len_is_exact_for_every_header_shape() {
    // Varints grow at 128: message numbers past it in a chain, and a previous-chain length past
    // it in the first message of a new chain, which is predicted before its ratchet key exists.
    let mut p = active();
    let exact = |s: &mut dmp::Session| {
        let want = s.encrypted_len(10).unwrap();
        let env = s.encrypt(&[7; 10]).unwrap();
        assert_eq!(env.len(), want);
        env
    };
    for round in 0..3 {
        for _ in 0..(130 + round) {
            let env = exact(&mut p.alice);
            p.bob.decrypt(&env).unwrap();
        }
        for _ in 0..(129 + round) {
            let env = exact(&mut p.bob);
            p.alice.decrypt(&env).unwrap();
        }
    }
}

#[test]
fn padding_hides_length_within_a_bucket() {
    let mut p = established_with(SessionConfig { padding: Padding::Buckets, ..Default::default() });
    let reply = p.bob.encrypt(b"r").unwrap();
    p.alice.decrypt(&reply).unwrap();
    let a = p.alice.encrypt(b"yes").unwrap();
    let b = p.alice.encrypt(b"no, and here is a longer answer").unwrap();
    assert_eq!(a.len(), b.len());
    assert_eq!(p.bob.decrypt(&a).unwrap(), b"yes");
    assert_eq!(p.bob.decrypt(&b).unwrap(), b"no, and here is a longer answer");
}

#[test]
fn padded_and_unpadded_peers_interoperate() {
    let mut p = established_with(SessionConfig { padding: Padding::None, ..Default::default() });
    p.bob.set_padding(Padding::Buckets).unwrap();
    let m = p.bob.encrypt(b"padded").unwrap();
    assert_eq!(p.alice.decrypt(&m).unwrap(), b"padded");
    assert_eq!(p.bob.decrypt(&p.alice.encrypt(b"plain").unwrap()).unwrap(), b"plain");
}

// ---- refusals: each with its own code, and the session byte-for-byte unchanged ----

fn assert_refused(s: &mut Session, env: &[u8]) -> Error {
    let before = snapshot(s);
    let state = s.state();
    let err = s.decrypt(env).unwrap_err();
    assert_eq!(snapshot(s), before, "state changed after {err:?}");
    assert_eq!(s.state(), state);
    err
}

#[test]
fn every_single_bit_flip_of_a_message_is_refused_and_state_unchanged() {
    let mut p = active();
    let env = p.alice.encrypt(b"short").unwrap();
    for bit in 0..env.len() * 8 {
        let mut t = env.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        let err = assert_refused(&mut p.bob, &t);
        let expected: &[Error] = match bit / 8 {
            0 => &[Error::UnsupportedVersion],
            1 => &[Error::BadEnvelope, Error::WrongMessageType],
            2..=9 => &[Error::WrongSession],
            10..=41 => &[Error::AuthFailed, Error::WeakKey],
            // PN and N, one-byte varints here: a changed count, or a varint made to run on.
            42..=43 => &[Error::AuthFailed, Error::TooFarAhead, Error::BadEnvelope],
            _ => &[Error::AuthFailed],
        };
        assert!(expected.contains(&err), "bit {bit}: {err:?}");
    }
    assert_eq!(p.bob.decrypt(&env).unwrap(), b"short", "the genuine message still decrypts");
}

#[test]
fn every_single_bit_flip_of_a_first_message_is_refused_by_accept() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    bob_id.generate_one_time_prekeys(1).unwrap();
    let bundle = bob_id.bundle(true).unwrap();
    let mut alice = Session::initiate(alice_id.keys(), &bundle, SessionConfig::default()).unwrap();
    let env = alice.encrypt(b"hi").unwrap();
    let key = storage_key();
    let identity_before = bob_id.to_sealed(&key).unwrap().len();
    for bit in 0..env.len() * 8 {
        let mut t = env.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(Session::accept(&mut bob_id, &t, SessionConfig::default()).is_err(), "bit {bit}");
        assert_eq!(bob_id.one_time_prekey_count(), 1, "bit {bit} consumed the one-time prekey");
    }
    assert_eq!(bob_id.to_sealed(&key).unwrap().len(), identity_before);
    assert!(Session::accept(&mut bob_id, &env, SessionConfig::default()).is_ok());
}

#[test]
fn every_single_bit_flip_of_a_repeated_prekey_message_is_refused() {
    let mut p = established();
    let second = p.alice.encrypt(b"again").unwrap();
    assert_eq!(second[1], 1);
    for bit in (0..second.len() * 8).step_by(3) {
        let mut t = second.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        assert_refused(&mut p.bob, &t);
    }
    assert_eq!(p.bob.decrypt(&second).unwrap(), b"again");
}

#[test]
fn every_truncation_is_refused_and_state_unchanged() {
    let mut p = active();
    let env = p.alice.encrypt(b"truncate me").unwrap();
    for n in 0..env.len() {
        let err = assert_refused(&mut p.bob, &env[..n]);
        assert!(matches!(err, Error::BadEnvelope | Error::AuthFailed), "len {n}: {err:?}");
    }
    let mut longer = env.clone();
    longer.push(0);
    assert_eq!(assert_refused(&mut p.bob, &longer), Error::AuthFailed);
    assert_eq!(p.bob.decrypt(&env).unwrap(), b"truncate me");
}

#[test]
fn replay_is_refused_and_state_unchanged() {
    let mut p = active();
    let env = p.alice.encrypt(b"once").unwrap();
    p.bob.decrypt(&env).unwrap();
    assert_eq!(assert_refused(&mut p.bob, &env), Error::Duplicate);
}

#[test]
fn replay_of_an_out_of_order_message_is_refused() {
    let mut p = active();
    let m0 = p.alice.encrypt(b"0").unwrap();
    let m1 = p.alice.encrypt(b"1").unwrap();
    p.bob.decrypt(&m1).unwrap();
    p.bob.decrypt(&m0).unwrap();
    assert_eq!(assert_refused(&mut p.bob, &m0), Error::Duplicate);
    assert_eq!(assert_refused(&mut p.bob, &m1), Error::Duplicate);
}

#[test]
fn first_message_replayed_into_the_responder_session_is_refused() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let mut alice =
        Session::initiate(alice_id.keys(), &bob_id.bundle(false).unwrap(), SessionConfig::default()).unwrap();
    let first = alice.encrypt(b"first").unwrap();
    let (mut bob, _) = Session::accept(&mut bob_id, &first, SessionConfig::default()).unwrap();
    assert_eq!(assert_refused(&mut bob, &first), Error::Duplicate);
}

#[test]
fn envelope_of_another_session_is_refused() {
    let mut p = active();
    let mut q = active();
    let foreign = q.alice.encrypt(b"elsewhere").unwrap();
    assert_eq!(assert_refused(&mut p.bob, &foreign), Error::WrongSession);
    // The same peers, a second session: still another session.
    let mut second =
        Session::initiate(p.alice_id.keys(), &p.bob_id.bundle(false).unwrap(), SessionConfig::default())
            .unwrap();
    let env = second.encrypt(b"parallel").unwrap();
    assert_eq!(assert_refused(&mut p.bob, &env), Error::WrongSession);
}

#[test]
fn own_message_reflected_back_is_refused() {
    let mut p = active();
    let mine = p.alice.encrypt(b"mine").unwrap();
    assert_eq!(assert_refused(&mut p.alice, &mine), Error::AuthFailed);
    let mut q = established();
    let first = q.alice.encrypt(b"prekey").unwrap();
    let reply = q.bob.encrypt(b"r").unwrap();
    q.alice.decrypt(&reply).unwrap();
    assert_eq!(assert_refused(&mut q.alice, &first), Error::WrongMessageType);
}

#[test]
fn bundle_given_to_decrypt_is_wrong_type() {
    let mut p = active();
    let bundle = p.bob_id.bundle(false).unwrap().to_bytes();
    assert_eq!(assert_refused(&mut p.alice, &bundle), Error::WrongMessageType);
}

#[test]
fn garbage_is_refused() {
    let mut p = active();
    let mut rng = Rng::new(7);
    // Around the shortest header (44) and the shortest envelope (44 + 1 + 16 = 61).
    for len in [0usize, 1, 2, 43, 44, 60, 61, 200, 5000] {
        let mut g: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len >= 2 {
            g[0] = 1;
            g[1] = 2;
        }
        assert_refused(&mut p.bob, &g);
    }
}

#[test]
fn out_of_order_within_the_limit_across_ratchet_steps() {
    let mut p = active();
    let round1: Vec<_> = (0..10).map(|i| p.alice.encrypt(&[i]).unwrap()).collect();
    p.bob.decrypt(&round1[9]).unwrap();
    let reply = p.bob.encrypt(b"r").unwrap();
    p.alice.decrypt(&reply).unwrap();
    let round2: Vec<_> = (10..20).map(|i| p.alice.encrypt(&[i]).unwrap()).collect();
    p.bob.decrypt(&round2[5]).unwrap();
    for (i, m) in round1.iter().enumerate().take(9).rev() {
        assert_eq!(p.bob.decrypt(m).unwrap(), [i as u8]);
    }
    for (i, m) in round2.iter().enumerate() {
        if i != 5 {
            assert_eq!(p.bob.decrypt(m).unwrap(), [(i + 10) as u8]);
        }
    }
    assert_eq!(p.bob.skipped_key_count().unwrap(), 0);
}

#[test]
fn beyond_the_forward_limit_is_refused_with_state_intact() {
    let limits = Limits::new(50, 100).unwrap();
    let mut p = established_with(SessionConfig { limits, ..Default::default() });
    let reply = p.bob.encrypt(b"r").unwrap();
    p.alice.decrypt(&reply).unwrap();
    let msgs: Vec<_> = (0..52u32).map(|i| p.alice.encrypt(&i.to_be_bytes()).unwrap()).collect();
    assert_eq!(assert_refused(&mut p.bob, &msgs[51]), Error::TooFarAhead);
    assert_eq!(p.bob.decrypt(&msgs[50]).unwrap(), 50u32.to_be_bytes());
    assert_eq!(p.bob.decrypt(&msgs[51]).unwrap(), 51u32.to_be_bytes());
    assert_eq!(p.bob.decrypt(&msgs[0]).unwrap(), 0u32.to_be_bytes());
}

#[test]
fn skipped_keys_stay_bounded_under_a_flood_of_gaps() {
    let limits = Limits::new(100, 150).unwrap();
    let mut p = established_with(SessionConfig { limits, ..Default::default() });
    for _round in 0..5 {
        let msgs: Vec<_> = (0..100).map(|_| p.alice.encrypt(b"x").unwrap()).collect();
        p.bob.decrypt(msgs.last().unwrap()).unwrap();
        assert!(p.bob.skipped_key_count().unwrap() <= 150);
    }
    assert_eq!(p.bob.skipped_key_count().unwrap(), 150);
}

#[test]
fn default_limits_are_the_documented_ones() {
    let p = active();
    let l = p.alice.limits().unwrap();
    assert_eq!(l.max_forward_jump, dmp::limits::DEFAULT_MAX_FORWARD_JUMP);
    assert_eq!(l.max_skipped_keys, dmp::limits::DEFAULT_MAX_SKIPPED_KEYS);
}

#[test]
fn default_limit_allows_a_jump_of_exactly_one_thousand() {
    let mut p = active();
    let msgs: Vec<_> = (0..1002).map(|_| p.alice.encrypt(b"x").unwrap()).collect();
    assert_eq!(p.bob.decrypt(&msgs[1001]).unwrap_err(), Error::TooFarAhead);
    p.bob.decrypt(&msgs[1000]).unwrap();
    assert_eq!(p.bob.skipped_key_count().unwrap(), 1000);
}

#[test]
fn bundle_bytes_round_trip_through_verification() {
    let mut bob = Identity::generate().unwrap();
    let b = bob.bundle(true).unwrap();
    assert_eq!(PrekeyBundle::from_bytes(&b.to_bytes()).unwrap(), b);
}

#[test]
fn failing_sink_leaves_session_unchanged_and_message_readable() {
    let mut p = active();
    let env = p.alice.encrypt(b"payload").unwrap();
    let before = snapshot(&p.bob);
    assert_eq!(p.bob.decrypt_with(&env, |_| Err(Error::BufferTooSmall)), Err(Error::BufferTooSmall));
    assert_eq!(snapshot(&p.bob), before);
    assert_eq!(p.bob.decrypt(&env).unwrap(), b"payload");
}

#[test]
fn failing_sink_in_accept_consumes_nothing() {
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let mut alice =
        Session::initiate(alice_id.keys(), &bob_id.bundle(true).unwrap(), SessionConfig::default()).unwrap();
    let first = alice.encrypt(b"x").unwrap();
    let r =
        Session::accept_with(&mut bob_id, &first, SessionConfig::default(), |_| Err(Error::BufferTooSmall));
    assert_eq!(r.unwrap_err(), Error::BufferTooSmall);
    assert_eq!(bob_id.one_time_prekey_count(), 1);
    assert!(Session::accept(&mut bob_id, &first, SessionConfig::default()).is_ok());
}

#[test]
fn lowering_the_skipped_cap_evicts_now() {
    let mut p = active();
    let msgs: Vec<_> = (0..20).map(|_| p.alice.encrypt(b"x").unwrap()).collect();
    p.bob.decrypt(&msgs[19]).unwrap();
    assert_eq!(p.bob.skipped_key_count().unwrap(), 19);
    p.bob.set_limits(Limits::new(100, 5).unwrap()).unwrap();
    assert_eq!(p.bob.skipped_key_count().unwrap(), 5);
    assert_eq!(p.bob.decrypt(&msgs[0]).unwrap_err(), Error::Duplicate);
    assert_eq!(p.bob.decrypt(&msgs[18]).unwrap(), b"x");
    let key = storage_key();
    let back = Session::from_sealed(&p.bob.to_sealed(&key).unwrap(), &key).unwrap();
    assert_eq!(back.limits().unwrap(), Limits::new(100, 5).unwrap());
}

#[test]
fn maximum_plaintext_with_bucket_padding_round_trips() {
    let mut p = established_with(SessionConfig { padding: Padding::Buckets, ..Default::default() });
    let big = vec![0x5Au8; MAX_PLAINTEXT_LEN];
    let first = p.alice.encrypt(&big).unwrap();
    assert!(first.len() <= dmp::limits::MAX_ENVELOPE_LEN);
    assert_eq!(p.bob.decrypt(&first).unwrap(), big);
    let reply = p.bob.encrypt(&big).unwrap();
    assert_eq!(p.alice.decrypt(&reply).unwrap(), big);
}

#[test]
fn short_bundle_given_to_decrypt_is_wrong_type() {
    let mut p = active();
    assert_eq!(p.bob.decrypt(&[1, 3, 0]).unwrap_err(), Error::WrongMessageType);
}

#[test]
fn set_padding_on_a_closed_session_is_refused() {
    let mut p = active();
    p.alice.close().unwrap();
    assert_eq!(p.alice.set_padding(Padding::Buckets).unwrap_err(), Error::WrongState);
}

// ---- decrypt_into: straight into the caller's buffer ----

#[test]
fn decrypt_into_writes_the_plaintext_where_asked_and_clears_the_framing() {
    for padding in [Padding::None, Padding::Buckets] {
        let mut p = active();
        p.alice.set_padding(padding).unwrap();
        let env = p.alice.encrypt(b"into the caller's buffer").unwrap();
        // The documented size: envelope - shortest header - tag.
        let mut out = vec![0xEEu8; env.len() - MESSAGE_HEADER_LEN - 16];
        let n = p.bob.decrypt_into(&env, &mut out).unwrap();
        assert_eq!(&out[..n], b"into the caller's buffer");
        assert!(out[n..].iter().all(|&b| b == 0 || b == 0xEE), "framing left behind: {:02x?}", &out[n..]);
        assert!(!out[n..].contains(&0x80), "the marker is not the caller's");
        assert_eq!(p.bob.decrypt_into(&env, &mut out).unwrap_err(), Error::Duplicate);
    }
}

#[test]
fn decrypt_into_a_short_buffer_changes_nothing() {
    let mut p = active();
    let env = p.alice.encrypt(b"twelve bytes").unwrap();
    let before = snapshot(&p.bob);
    // Room for the plaintext but not its framing byte: the exact-size path is decrypt_with.
    let mut out = vec![0u8; 12];
    assert_eq!(p.bob.decrypt_into(&env, &mut out).unwrap_err(), Error::BufferTooSmall);
    assert_eq!(snapshot(&p.bob), before);
    assert_eq!(out, vec![0u8; 12]);
    let mut out = vec![0u8; 13];
    assert_eq!(p.bob.decrypt_into(&env, &mut out).unwrap(), 12);
    assert_eq!(&out[..12], b"twelve bytes");
}

#[test]
fn decrypt_into_refusals_leave_no_plaintext_and_change_nothing() {
    let mut p = active();
    let env = p.alice.encrypt(b"secret").unwrap();
    let before = snapshot(&p.bob);
    let mut tampered = env.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let mut out = vec![0xEEu8; 64];
    assert_eq!(p.bob.decrypt_into(&tampered, &mut out).unwrap_err(), Error::AuthFailed);
    assert!(!out.windows(6).any(|w| w == b"secret"));
    assert_eq!(snapshot(&p.bob), before);
    assert_eq!(p.bob.decrypt_into(&env, &mut out).unwrap(), 6);
    assert_eq!(&out[..6], b"secret");
}

#[test]
fn an_envelope_over_the_limit_is_too_large_and_changes_nothing() {
    let mut p = active();
    let mut env = p.alice.encrypt(b"x").unwrap();
    env.resize(dmp::limits::MAX_ENVELOPE_LEN + 1, 0);
    assert_eq!(assert_refused(&mut p.bob, &env), Error::TooLarge);
    let mut out = vec![0u8; 64];
    assert_eq!(p.bob.decrypt_into(&env, &mut out).unwrap_err(), Error::TooLarge);
}
