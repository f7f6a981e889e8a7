//! Security properties stated as tests: forward secrecy and post-compromise security for
//! sessions and groups, and state records that reveal nothing without their storage key.

mod common;

use common::{Pair, active, storage_key};
use dmp::{Error, Group, Identity, Session, StorageKey};

/// What an attacker who copies a session's sealed record and its storage key holds.
fn steal(s: &Session) -> Session {
    let key = storage_key();
    Session::from_sealed(&s.to_sealed(&key).unwrap(), &key).unwrap()
}

fn steal_group(g: &Group) -> Group {
    let key = storage_key();
    Group::from_sealed(&g.to_sealed(&key).unwrap(), &key).unwrap()
}

fn send(from: &mut Session, to: &mut Session, pt: &[u8]) -> Vec<u8> {
    let env = from.encrypt(pt).unwrap();
    assert_eq!(to.decrypt(&env).unwrap(), pt);
    env
}

#[test]
fn forward_secrecy_a_stolen_session_cannot_read_what_was_already_read() {
    let Pair { mut alice, mut bob, .. } = active();
    // Three chains from Alice, each read by Bob, with one message of the second chain read late.
    let mut past = Vec::new();
    past.push(send(&mut alice, &mut bob, b"chain 1, message 0"));
    past.push(send(&mut alice, &mut bob, b"chain 1, message 1"));
    send(&mut bob, &mut alice, b"turn");
    let late = alice.encrypt(b"chain 2, message 0 (read late)").unwrap();
    past.push(send(&mut alice, &mut bob, b"chain 2, message 1"));
    assert_eq!(bob.decrypt(&late).unwrap(), b"chain 2, message 0 (read late)");
    past.push(late);
    send(&mut bob, &mut alice, b"turn");
    past.push(send(&mut alice, &mut bob, b"chain 3, message 0"));

    // Captured after the last message Bob read: every earlier message is out of reach, both the
    // ones of the current chain and those of older chains, in order or read late.
    let mut thief = steal(&bob);
    for (i, env) in past.iter().enumerate() {
        assert_eq!(thief.decrypt(env).unwrap_err(), Error::Duplicate, "past message {i}");
    }
    // The copy is a working copy (so the refusals above are not an artefact of a broken state).
    let next = alice.encrypt(b"next").unwrap();
    assert_eq!(thief.decrypt(&next).unwrap(), b"next");
}

#[test]
fn forward_secrecy_holds_for_the_sender_too() {
    // The sender's state after sending cannot re-derive its own sent message keys: its own
    // envelope, fed to a copy of the sender, does not open.
    let Pair { mut alice, mut bob, .. } = active();
    let env = send(&mut alice, &mut bob, b"sent");
    let mut thief = steal(&alice);
    assert_eq!(thief.decrypt(&env).unwrap_err(), Error::AuthFailed);
}

#[test]
fn post_compromise_security_the_victims_next_send_locks_the_thief_out() {
    let Pair { mut alice, mut bob, .. } = active();
    send(&mut alice, &mut bob, b"before");
    let mut thief = steal(&bob);

    // The compromise is real: right after the theft the copy reads Alice's next message.
    let m = send(&mut alice, &mut bob, b"still readable by the thief");
    assert_eq!(thief.decrypt(&m).unwrap(), b"still readable by the thief");

    // Bob makes his next ratchet key when he next sends, after the theft (DMP makes a sending
    // chain when it is first needed; Signal's specification makes it on receipt, so a state
    // stolen between a receipt and the next send holds it and healing takes one more round
    // trip). Alice's answer is keyed with that fresh key: the thief is out at once.
    send(&mut bob, &mut alice, b"bob's fresh ratchet key, made after the theft");
    let after = send(&mut alice, &mut bob, b"healed");
    assert_eq!(thief.decrypt(&after).unwrap_err(), Error::AuthFailed);
    let after2 = send(&mut alice, &mut bob, b"healed, second message");
    assert_eq!(thief.decrypt(&after2).unwrap_err(), Error::AuthFailed);

    // And the thief cannot impersonate Bob to Alice any more either: a message encrypted by
    // the stale copy is refused by Alice, and refusing it changes nothing.
    let forged = thief.encrypt(b"from the thief").unwrap();
    assert!(alice.decrypt(&forged).is_err());
    send(&mut bob, &mut alice, b"the real conversation goes on");
    send(&mut alice, &mut bob, b"both ways");
}

#[test]
fn a_message_reflected_to_its_sender_is_refused() {
    let Pair { mut alice, mut bob, .. } = active();
    let env = alice.encrypt(b"to bob").unwrap();
    assert_eq!(alice.decrypt(&env).unwrap_err(), Error::AuthFailed);
    assert_eq!(bob.decrypt(&env).unwrap(), b"to bob");
}

#[test]
fn a_message_of_another_session_is_wrong_session() {
    let Pair { mut alice, .. } = active();
    let Pair { bob: mut other_bob, .. } = active();
    let env = alice.encrypt(b"x").unwrap();
    assert_eq!(other_bob.decrypt(&env).unwrap_err(), Error::WrongSession);
}

// ------------------------------------------------------------------------------------------
// Groups

struct Members {
    ids: Vec<Identity>,
    groups: Vec<Group>,
}

fn group(n: usize) -> Members {
    let ids: Vec<Identity> = (0..n).map(|_| Identity::generate().unwrap()).collect();
    let mut groups: Vec<Group> = ids.iter().map(|i| Group::new(i.agent_id(), [9; 32]).unwrap()).collect();
    for (a, g) in groups.iter_mut().enumerate() {
        for (b, other) in ids.iter().enumerate() {
            if a != b {
                g.add_member(&other.agent_id()).unwrap();
            }
        }
    }
    let mut m = Members { ids, groups };
    for from in 0..n {
        m.distribute(from);
    }
    m
}

impl Members {
    fn distribute(&mut self, from: usize) {
        let d = self.groups[from].distribution();
        let id = self.ids[from].agent_id();
        for to in 0..self.groups.len() {
            if to != from
                && self.groups[to].is_member(&id)
                && self.groups[from].is_member(&self.ids[to].agent_id())
            {
                self.groups[to].process_distribution(&id, &d).unwrap();
            }
        }
    }

    /// Member `from` sends; every other member in `to` reads it.
    fn send(&mut self, from: usize, to: &[usize], pt: &[u8]) -> Vec<u8> {
        let env = self.groups[from].encrypt(pt).unwrap();
        for &t in to {
            assert_eq!(self.groups[t].decrypt(&env).unwrap(), (self.ids[from].agent_id(), pt.to_vec()));
        }
        env
    }
}

#[test]
fn group_forward_secrecy_a_chain_stolen_at_iteration_n_cannot_read_before_n() {
    let mut m = group(3);
    let past: Vec<Vec<u8>> = (0..5).map(|i| m.send(0, &[1, 2], format!("m{i}").as_bytes())).collect();
    // Member 1's state, holding member 0's chain at iteration 5.
    let mut thief = steal_group(&m.groups[1]);
    for (i, env) in past.iter().enumerate() {
        assert_eq!(thief.decrypt(env).unwrap_err(), Error::Duplicate, "iteration {i}");
    }
    // It is a working copy: iteration 5 opens.
    let next = m.send(0, &[1, 2], b"m5");
    assert_eq!(thief.decrypt(&next).unwrap().1, b"m5");
}

#[test]
fn group_forward_secrecy_a_distribution_taken_at_iteration_n_cannot_read_before_n() {
    let mut m = group(2);
    let past: Vec<Vec<u8>> = (0..4).map(|i| m.send(0, &[1], format!("m{i}").as_bytes())).collect();
    // A newcomer (or anyone who intercepts the current distribution) gets the chain at iteration 4.
    let newcomer = Identity::generate().unwrap();
    let mut late = Group::new(newcomer.agent_id(), [9; 32]).unwrap();
    late.add_member(&m.ids[0].agent_id()).unwrap();
    late.process_distribution(&m.ids[0].agent_id(), &m.groups[0].distribution()).unwrap();
    for (i, env) in past.iter().enumerate() {
        assert_eq!(late.decrypt(env).unwrap_err(), Error::Duplicate, "iteration {i}");
    }
    let next = m.send(0, &[1], b"m4");
    assert_eq!(late.decrypt(&next).unwrap().1, b"m4");
}

#[test]
fn group_post_compromise_after_rotation_the_old_state_cannot_read_new_messages() {
    let mut m = group(3);
    m.send(0, &[1, 2], b"before");
    let mut thief = steal_group(&m.groups[1]);
    // Before the rotation the stolen state reads the sender's messages.
    let m1 = m.send(0, &[1, 2], b"readable");
    assert_eq!(thief.decrypt(&m1).unwrap().1, b"readable");

    m.groups[0].rotate().unwrap();
    m.distribute(0);
    let after = m.send(0, &[1, 2], b"after rotation");
    assert_eq!(thief.decrypt(&after).unwrap_err(), Error::UnknownKeyId);
}

#[test]
fn group_post_compromise_a_removed_member_cannot_read_new_messages() {
    let mut m = group(3);
    m.send(0, &[1, 2], b"before");
    // Everyone removes member 2; the senders rotate and redistribute to the others only.
    for g in 0..2 {
        let id = m.ids[2].agent_id();
        m.groups[g].remove_member(&id).unwrap();
    }
    m.distribute(0);
    m.distribute(1);
    for from in 0..2 {
        let env = m.send(from, &[1 - from], b"without member 2");
        assert_eq!(m.groups[2].decrypt(&env).unwrap_err(), Error::UnknownKeyId);
    }
    // And what the removed member sends is refused.
    let env = m.groups[2].encrypt(b"still here?").unwrap();
    assert_eq!(m.groups[0].decrypt(&env).unwrap_err(), Error::MemberRemoved);
}

#[test]
fn group_a_member_cannot_forge_another_members_message() {
    // Every member holds every chain key, but only the sender holds the signing key.
    let mut m = group(3);
    let env = m.send(0, &[1, 2], b"genuine");
    let mut forged = env.clone();
    let body = forged.len() - 64 - 20;
    forged[body] ^= 1;
    assert_eq!(m.groups[1].decrypt(&forged).unwrap_err(), Error::BadSignature);
    // A member's own message sent back to it: its own id is never a member.
    assert_eq!(m.groups[0].decrypt(&env).unwrap_err(), Error::UnknownSender);
}

// ------------------------------------------------------------------------------------------
// State at rest

#[test]
fn a_stolen_identity_record_without_the_storage_key_reveals_nothing() {
    let id = Identity::generate().unwrap();
    let key = StorageKey::from_bytes([0xA1; 32]);
    let record = id.to_sealed(&key).unwrap();
    let seed = id.keys().seed();
    // Wrong keys, including one differing in a single bit, are refused as such.
    for wrong in [[0xA0; 32], [0; 32], {
        let mut k = [0xA1; 32];
        k[31] ^= 0x80;
        k
    }] {
        assert_eq!(
            Identity::from_sealed(&record, &StorageKey::from_bytes(wrong)).unwrap_err(),
            Error::WrongStorageKey
        );
    }
    // The secret seed does not appear in the record, not even in part (8-byte windows).
    assert!(!record.windows(8).any(|w| seed.windows(8).any(|s| s == w)));
    // Sealing is randomized: the same identity sealed twice gives unrelated records.
    let again = id.to_sealed(&key).unwrap();
    assert_ne!(record, again);
    // The right key opens it, to the same identity.
    assert_eq!(Identity::from_sealed(&record, &key).unwrap().agent_id(), id.agent_id());
}

#[test]
fn stolen_session_and_group_records_without_the_storage_key_reveal_nothing() {
    let Pair { alice, .. } = active();
    let key = storage_key();
    let wrong = StorageKey::from_bytes([0x5B; 32]);
    let record = alice.to_sealed(&key).unwrap();
    assert_eq!(Session::from_sealed(&record, &wrong).unwrap_err(), Error::WrongStorageKey);
    let m = group(2);
    let grecord = m.groups[0].to_sealed(&key).unwrap();
    assert_eq!(Group::from_sealed(&grecord, &wrong).unwrap_err(), Error::WrongStorageKey);
}

#[test]
fn a_record_cannot_be_swapped_for_another_record() {
    // A record sealed under one name does not open under another (an attacker with write
    // access to the store cannot substitute one session's record for another's), and a record
    // of one kind does not open as another kind.
    let Pair { alice, bob, .. } = active();
    let key = storage_key();
    let a = alice.to_sealed_named(&key, b"session-a").unwrap();
    assert_eq!(Session::from_sealed_named(&a, &key, b"session-b").unwrap_err(), Error::WrongStorageKey);
    assert!(Session::from_sealed_named(&a, &key, b"session-a").is_ok());
    let b = bob.to_sealed(&key).unwrap();
    assert!(Identity::from_sealed(&b, &key).is_err());
    let id = Identity::generate().unwrap().to_sealed(&key).unwrap();
    assert!(Session::from_sealed(&id, &key).is_err());
}

#[test]
fn a_tampered_record_is_refused() {
    let Pair { alice, .. } = active();
    let key = storage_key();
    let record = alice.to_sealed(&key).unwrap();
    for i in [0, record.len() / 2, record.len() - 1] {
        let mut t = record.clone();
        t[i] ^= 1;
        assert!(Session::from_sealed(&t, &key).is_err(), "byte {i}");
    }
}
