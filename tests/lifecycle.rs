//! Every transition of the session state machine, allowed and refused.

mod common;

use common::*;
use dmp::{Error, Identity, PrekeyBundle, Session, SessionConfig, SessionState};

fn dormant() -> (Session, Identity) {
    let alice = Identity::generate().unwrap();
    let mut bob = Identity::generate().unwrap();
    let bundle = bob.bundle(true).unwrap();
    (Session::initiate(alice.keys(), &bundle, SessionConfig::default()).unwrap(), bob)
}

#[test]
fn initiator_starts_dormant() {
    let (s, bob) = dormant();
    assert_eq!(s.state(), SessionState::Dormant);
    assert_eq!(s.peer_id(), bob.agent_id());
}

#[test]
fn dormant_encrypt_becomes_initiating() {
    let (mut s, _) = dormant();
    s.encrypt(b"x").unwrap();
    assert_eq!(s.state(), SessionState::Initiating);
}

#[test]
fn initiating_stays_initiating_and_keeps_sending_prekey_messages() {
    let (mut s, _) = dormant();
    for _ in 0..3 {
        let env = s.encrypt(b"x").unwrap();
        assert_eq!(env[1], 1, "PREKEY_MESSAGE until a reply arrives");
        assert_eq!(s.state(), SessionState::Initiating);
    }
}

#[test]
fn responder_starts_active() {
    let p = established();
    assert_eq!(p.bob.state(), SessionState::Active);
    assert_eq!(p.bob.peer_id(), p.alice_id.agent_id());
    assert_eq!(p.bob.session_id(), p.alice.session_id());
}

#[test]
fn initiating_becomes_active_on_first_reply_and_stops_prekey_messages() {
    let mut p = established();
    assert_eq!(p.alice.state(), SessionState::Initiating);
    let reply = p.bob.encrypt(b"r").unwrap();
    p.alice.decrypt(&reply).unwrap();
    assert_eq!(p.alice.state(), SessionState::Active);
    assert_eq!(p.alice.encrypt(b"x").unwrap()[1], 2, "plain MESSAGE once active");
}

#[test]
fn active_stays_active_on_encrypt_and_decrypt() {
    let mut p = active();
    let m = p.alice.encrypt(b"1").unwrap();
    assert_eq!(p.alice.state(), SessionState::Active);
    p.bob.decrypt(&m).unwrap();
    assert_eq!(p.bob.state(), SessionState::Active);
}

#[test]
fn dormant_decrypt_is_refused_and_state_unchanged() {
    let p = established();
    let (mut s, _) = dormant();
    let before = snapshot(&s);
    let mut bob = p.bob;
    let env = bob.encrypt(b"x").unwrap();
    assert_eq!(s.decrypt(&env), Err(Error::WrongState));
    assert_eq!(s.state(), SessionState::Dormant);
    assert_eq!(snapshot(&s), before);
}

#[test]
fn close_is_allowed_from_every_open_state() {
    let (mut d, _) = dormant();
    d.close().unwrap();
    assert_eq!(d.state(), SessionState::Closed);
    let mut p = established();
    p.alice.close().unwrap(); // INITIATING
    assert_eq!(p.alice.state(), SessionState::Closed);
    p.bob.close().unwrap(); // ACTIVE
    assert_eq!(p.bob.state(), SessionState::Closed);
}

#[test]
fn closed_refuses_every_call() {
    let mut p = active();
    let pending = p.alice.encrypt(b"in flight").unwrap();
    p.bob.close().unwrap();
    let key = storage_key();
    assert_eq!(p.bob.encrypt(b"x"), Err(Error::WrongState));
    assert_eq!(p.bob.decrypt(&pending), Err(Error::WrongState));
    assert_eq!(p.bob.close(), Err(Error::WrongState));
    assert_eq!(p.bob.to_sealed(&key).unwrap_err(), Error::WrongState);
    assert_eq!(p.bob.limits().unwrap_err(), Error::WrongState);
    assert_eq!(p.bob.encrypted_len(1).unwrap_err(), Error::WrongState);
    assert_eq!(p.bob.state(), SessionState::Closed);
}

#[test]
fn closed_session_has_erased_its_keys() {
    let mut p = active();
    p.bob.close().unwrap();
    // Nothing to serialize: the ratchet (and every key in it) was dropped and zeroized.
    assert_eq!(p.bob.skipped_key_count().unwrap_err(), Error::WrongState);
}

#[test]
fn states_have_stable_numbers() {
    assert_eq!(SessionState::Dormant as i32, 0);
    assert_eq!(SessionState::Initiating as i32, 1);
    assert_eq!(SessionState::Active as i32, 2);
    assert_eq!(SessionState::Closed as i32, 3);
    for v in 0..4 {
        assert_eq!(SessionState::from_i32(v).unwrap() as i32, v);
    }
    assert_eq!(SessionState::from_i32(4), None);
    assert_eq!(SessionState::from_i32(-1), None);
}

#[test]
fn state_survives_serialization_in_every_open_state() {
    let key = storage_key();
    let (d, _) = dormant();
    let p = established();
    let a = active();
    for (s, want) in
        [(&d, SessionState::Dormant), (&p.alice, SessionState::Initiating), (&a.bob, SessionState::Active)]
    {
        let back = Session::from_sealed(&s.to_sealed(&key).unwrap(), &key).unwrap();
        assert_eq!(back.state(), want);
        assert_eq!(snapshot(&back), snapshot(s));
    }
}

#[test]
fn initiator_from_verified_bundle_bytes_only() {
    let mut bob = Identity::generate().unwrap();
    let mut bytes = bob.bundle(false).unwrap().to_bytes();
    bytes[100] ^= 1; // inside the signature
    assert_eq!(PrekeyBundle::from_bytes(&bytes).unwrap_err(), Error::BadSignature);
}
