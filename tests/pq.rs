//! Post-quantum hybrid set-up (X25519 + ML-KEM-768, PQXDH-style): round trips, policies,
//! downgrades, tampering and one-time KEM prekey reuse.

mod common;

use common::*;
use dmp::wire::bundle::{BUNDLE_FLAGS_OFFSET, BUNDLE_LEN, BUNDLE_WITH_ONE_TIME_PREKEY_LEN};
use dmp::wire::envelope::{HYBRID_PREKEY_MESSAGE_HEADER_LEN, PREKEY_MESSAGE_HEADER_LEN};
use dmp::{Error, Identity, PqPolicy, PrekeyBundle, Session, SessionConfig, Suite};

fn allow_classical() -> SessionConfig {
    SessionConfig { pq_policy: PqPolicy::AllowClassical, ..SessionConfig::default() }
}

fn first_message(bob: &mut Identity, otk: bool) -> (Identity, Session, Vec<u8>) {
    let alice = Identity::generate().unwrap();
    let bundle = bob.bundle(otk).unwrap();
    let mut s = Session::initiate(alice.keys(), &bundle, SessionConfig::default()).unwrap();
    let env = s.encrypt(b"post-quantum hello").unwrap();
    (alice, s, env)
}

#[test]
fn hybrid_is_the_default_and_round_trips_with_and_without_one_time_prekeys() {
    for otk in [false, true] {
        let mut bob = Identity::generate().unwrap();
        assert_eq!(bob.suite(), Suite::Hybrid);
        let (_, mut alice, env) = first_message(&mut bob, otk);
        assert_eq!(env[78] & 2, 2, "the ML-KEM block flag is set");
        assert!(env.len() > HYBRID_PREKEY_MESSAGE_HEADER_LEN);
        let (mut b, pt) = Session::accept(&mut bob, &env, SessionConfig::default()).unwrap();
        assert_eq!(pt, b"post-quantum hello");
        let reply = b.encrypt(b"and back").unwrap();
        assert_eq!(alice.decrypt(&reply).unwrap(), b"and back");
        assert_eq!(bob.one_time_prekey_count(), 0);
    }
}

#[test]
fn initiator_requiring_hybrid_refuses_a_classical_bundle() {
    let alice = Identity::generate().unwrap();
    let mut bob = Identity::generate_with(Suite::Classical).unwrap();
    let bundle = PrekeyBundle::from_bytes(&bob.bundle(true).unwrap().to_bytes()).unwrap();
    assert_eq!(bundle.suite(), Suite::Classical);
    assert_eq!(
        Session::initiate(alice.keys(), &bundle, SessionConfig::default()).unwrap_err(),
        Error::PqRequired
    );
}

#[test]
fn classical_peers_talk_when_both_policies_allow_it() {
    let alice = Identity::generate_with(Suite::Classical).unwrap();
    let mut bob = Identity::generate_with(Suite::Classical).unwrap();
    let mut a = Session::initiate(alice.keys(), &bob.bundle(true).unwrap(), allow_classical()).unwrap();
    let env = a.encrypt(b"classical").unwrap();
    assert_eq!(env.len(), PREKEY_MESSAGE_HEADER_LEN + 16 + b"classical".len() + 1);
    // A responder requiring hybrid refuses it, and nothing is consumed.
    assert_eq!(Session::accept(&mut bob, &env, SessionConfig::default()).unwrap_err(), Error::PqRequired);
    assert_eq!(bob.one_time_prekey_count(), 1);
    let (mut b, pt) = Session::accept(&mut bob, &env, allow_classical()).unwrap();
    assert_eq!(pt, b"classical");
    assert_eq!(a.decrypt(&b.encrypt(b"ok").unwrap()).unwrap(), b"ok");
}

#[test]
fn a_hybrid_initiator_with_a_permissive_policy_still_uses_ml_kem() {
    let alice = Identity::generate().unwrap();
    let mut bob = Identity::generate().unwrap();
    let mut a = Session::initiate(alice.keys(), &bob.bundle(false).unwrap(), allow_classical()).unwrap();
    let env = a.encrypt(b"x").unwrap();
    assert_eq!(env[78] & 2, 2);
    // And a responder requiring hybrid accepts it.
    assert!(Session::accept(&mut bob, &env, SessionConfig::default()).is_ok());
}

#[test]
fn stripping_ml_kem_from_a_bundle_breaks_its_signature() {
    // One signature covers the whole bundle: whatever is removed, it no longer verifies, with or
    // without a permissive policy (the initiator never sees a classical bundle).
    let mut bob = Identity::generate().unwrap();
    let bytes = bob.bundle(false).unwrap().to_bytes();
    let mut stripped = bytes[..BUNDLE_LEN].to_vec();
    stripped[BUNDLE_FLAGS_OFFSET] &= !2;
    assert_eq!(PrekeyBundle::from_bytes(&stripped).unwrap_err(), Error::BadSignature);
    let mut bytes = bob.bundle(true).unwrap().to_bytes();
    bytes.truncate(BUNDLE_WITH_ONE_TIME_PREKEY_LEN);
    bytes[BUNDLE_FLAGS_OFFSET] &= !2;
    assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::BadSignature);
}

#[test]
fn stripping_ml_kem_from_a_first_message_is_a_downgrade_even_when_classical_is_allowed() {
    let mut bob = Identity::generate().unwrap();
    let (_, _, env) = first_message(&mut bob, true);
    let mut stripped = env[..83].to_vec();
    stripped[78] &= !2;
    stripped.extend_from_slice(&env[83 + 1093..]);
    for config in [SessionConfig::default(), allow_classical()] {
        assert_eq!(Session::accept(&mut bob, &stripped, config).unwrap_err(), Error::Downgrade);
    }
    assert_eq!(bob.one_time_prekey_count(), 1, "nothing consumed");
    assert!(Session::accept(&mut bob, &env, SessionConfig::default()).is_ok());
}

#[test]
fn tampered_kem_ciphertext_is_refused_and_nothing_consumed() {
    let mut bob = Identity::generate().unwrap();
    let (_, _, env) = first_message(&mut bob, true);
    let key = storage_key();
    let before = bob.to_sealed(&key).unwrap().len();
    for offset in [96usize, 500, 1000, 1183] {
        let mut t = env.clone();
        t[offset] ^= 0x01;
        assert_eq!(Session::accept(&mut bob, &t, SessionConfig::default()).unwrap_err(), Error::AuthFailed);
        assert_eq!(bob.one_time_prekey_count(), 1);
    }
    assert_eq!(bob.to_sealed(&key).unwrap().len(), before);
    assert!(Session::accept(&mut bob, &env, SessionConfig::default()).is_ok());
}

#[test]
fn one_time_kem_prekey_reuse_is_refused() {
    let mut bob = Identity::generate().unwrap();
    let (_, _, env) = first_message(&mut bob, true);
    Session::accept(&mut bob, &env, SessionConfig::default()).unwrap();
    assert_eq!(Session::accept(&mut bob, &env, SessionConfig::default()).unwrap_err(), Error::UnknownPrekey);
}

#[test]
fn kem_prekey_of_a_rotated_signed_prekey_works_until_the_next_rotation() {
    let mut bob = Identity::generate().unwrap();
    let (_, _, env) = first_message(&mut bob, false);
    bob.rotate_signed_prekey().unwrap();
    assert!(Session::accept(&mut bob, &env, SessionConfig::default()).is_ok());
    let (_, _, env2) = first_message(&mut bob, false);
    bob.rotate_signed_prekey().unwrap();
    bob.rotate_signed_prekey().unwrap();
    assert_eq!(Session::accept(&mut bob, &env2, SessionConfig::default()).unwrap_err(), Error::UnknownPrekey);
}

#[test]
fn a_kem_kind_or_id_swapped_in_the_first_message_is_refused() {
    let mut bob = Identity::generate().unwrap();
    bob.generate_one_time_prekeys(2).unwrap();
    let (_, _, env) = first_message(&mut bob, true);
    let mut kind = env.clone();
    kind[83] = 1; // one-time relabelled last-resort, still with the OPK's id: not paired
    assert_eq!(Session::accept(&mut bob, &kind, SessionConfig::default()).unwrap_err(), Error::BadEnvelope);
    // Relabelled and paired with the SPK (ids count from random starts, so they differ):
    // decapsulated with the last-resort key, another secret.
    let spk_id = env[74..78].to_vec();
    kind[84..88].copy_from_slice(&spk_id);
    assert_eq!(Session::accept(&mut bob, &kind, SessionConfig::default()).unwrap_err(), Error::AuthFailed);
    let mut id = env.clone();
    id[87] ^= 3; // another one-time KEM prekey id: no longer paired with the OPK
    assert_eq!(Session::accept(&mut bob, &id, SessionConfig::default()).unwrap_err(), Error::BadEnvelope);
    assert_eq!(bob.one_time_prekey_count(), 2);
    assert!(Session::accept(&mut bob, &env, SessionConfig::default()).is_ok());
}

#[test]
fn every_byte_of_a_hybrid_first_message_header_is_bound() {
    let mut bob = Identity::generate().unwrap();
    let (_, _, env) = first_message(&mut bob, true);
    // Every 11th byte, and all of flags (78), one-time prekey id (79..83) and ML-KEM kind and id (83..88).
    for i in (0..HYBRID_PREKEY_MESSAGE_HEADER_LEN).step_by(11).chain(78..88) {
        let mut t = env.clone();
        t[i] ^= 0x20;
        assert!(Session::accept(&mut bob, &t, SessionConfig::default()).is_err(), "byte {i}");
        assert_eq!(bob.one_time_prekey_count(), 1);
    }
}

#[test]
fn restored_hybrid_initiator_keeps_sending_the_kem_ciphertext() {
    let mut bob = Identity::generate().unwrap();
    let (_, alice, _) = first_message(&mut bob, false);
    let key = storage_key();
    let mut restored = Session::from_sealed(&alice.to_sealed(&key).unwrap(), &key).unwrap();
    let env = restored.encrypt(b"again").unwrap();
    assert_eq!(env[78] & 2, 2);
    let (_, pt) = Session::accept(&mut bob, &env, SessionConfig::default()).unwrap();
    assert_eq!(pt, b"again");
}

#[test]
fn an_identity_from_a_seed_shares_no_prekey_with_another_from_the_same_seed() {
    // The seed gives the identity key only: the signed prekey and its last-resort ML-KEM prekey
    // are fresh, so whoever later learns the seed cannot decrypt first messages made from a
    // bundle whose prekeys were erased, and a copy made from the seed cannot read (or be made
    // to read again, by a replay) first messages sent to the other copy's bundles.
    for otk in [false, true] {
        let mut a = Identity::from_seed(&[3; 32]).unwrap();
        let mut b = Identity::from_seed(&[3; 32]).unwrap();
        assert_eq!(a.agent_id(), b.agent_id());
        assert_ne!(a.last_resort_kem_public_key(), b.last_resort_kem_public_key());
        let (_, _, env) = first_message(&mut a, otk);
        b.generate_one_time_prekeys(2).unwrap();
        assert_eq!(
            Session::accept(&mut b, &env, SessionConfig::default()).unwrap_err(),
            Error::UnknownPrekey
        );
        assert_eq!(b.one_time_prekey_count(), 2, "nothing consumed");
        assert!(Session::accept(&mut a, &env, SessionConfig::default()).is_ok(), "otk: {otk}");
    }
}
