//! Sender Keys groups: encrypt once, signed, rotation on membership change, nothing lost.

mod common;

use common::*;
use dmp::state::{RecordKind, open_record};
use dmp::{Error, Group, Identity, Limits, Session, SessionConfig};

fn gsnap(g: &Group) -> Vec<u8> {
    let key = storage_key();
    open_record(RecordKind::Group, &key, &g.to_sealed(&key).unwrap()).unwrap().to_vec()
}

struct Swarm {
    ids: Vec<Identity>,
    groups: Vec<Group>,
}

impl Swarm {
    /// `n` agents in one group, every distribution delivered.
    fn new(n: usize) -> Swarm {
        let ids: Vec<Identity> = (0..n).map(|_| Identity::generate().unwrap()).collect();
        let gid = [0x42; 32];
        let mut groups: Vec<Group> = ids.iter().map(|i| Group::new(i.agent_id(), gid).unwrap()).collect();
        for (a, g) in groups.iter_mut().enumerate() {
            for (b, other) in ids.iter().enumerate() {
                if a != b {
                    g.add_member(&other.agent_id()).unwrap();
                }
            }
        }
        let mut s = Swarm { ids, groups };
        for i in 0..n {
            s.distribute(i);
        }
        s
    }

    /// Member `from` sends its current distribution to every other current member.
    fn distribute(&mut self, from: usize) {
        let d = self.groups[from].distribution();
        let id = self.ids[from].agent_id();
        for j in 0..self.groups.len() {
            if j != from
                && self.groups[j].is_member(&id)
                && self.groups[from].is_member(&self.ids[j].agent_id())
            {
                self.groups[j].process_distribution(&id, &d).unwrap();
            }
        }
    }
}

#[test]
fn groups_of_two_three_and_fifty_exchange_messages_in_random_order() {
    for (n, msgs) in [(2usize, 200usize), (3, 200), (50, 300)] {
        let mut s = Swarm::new(n);
        let mut rng = Rng::new(n as u64);
        let mut in_flight: Vec<(usize, usize, Vec<u8>, Vec<u8>)> = Vec::new();
        for k in 0..msgs {
            let from = rng.below(n);
            let pt = format!("{from}:{k}").into_bytes();
            let env = s.groups[from].encrypt(&pt).unwrap();
            for to in 0..n {
                if to != from {
                    in_flight.push((from, to, env.clone(), pt.clone()));
                }
            }
            // Deliver a random handful now, keep the rest in flight (out of order).
            for _ in 0..rng.below(2 * n) {
                if in_flight.is_empty() {
                    break;
                }
                let (from, to, env, pt) = in_flight.swap_remove(rng.below(in_flight.len()));
                let (sender, got) = s.groups[to].decrypt(&env).unwrap();
                assert_eq!((sender, got), (s.ids[from].agent_id(), pt));
            }
        }
        while !in_flight.is_empty() {
            let (from, to, env, pt) = in_flight.swap_remove(rng.below(in_flight.len()));
            let (sender, got) = s.groups[to].decrypt(&env).unwrap();
            assert_eq!((sender, got), (s.ids[from].agent_id(), pt));
        }
    }
}

#[test]
fn message_size_does_not_depend_on_group_size() {
    let mut small = Swarm::new(2);
    let mut big = Swarm::new(50);
    let a = small.groups[0].encrypt(&[7; 1024]).unwrap();
    let b = big.groups[0].encrypt(&[7; 1024]).unwrap();
    assert_eq!(a.len(), b.len());
    assert_eq!(a.len(), small.groups[0].encrypted_len(1024).unwrap());
}

#[test]
fn the_signature_signs_the_labelled_sha256_digest_and_the_nonce_is_not_sent() {
    use dmp::crypto::{Signature, VerifyingKey};
    use dmp::wire::group::{Distribution, GROUP_MESSAGE_HEADER_LEN, signed_digest};
    let mut s = Swarm::new(2);
    let dist = Distribution::parse(&s.groups[0].distribution()).unwrap();
    let m = s.groups[0].encrypt(b"hello").unwrap();
    // header, then ciphertext || tag of the 6 framed bytes, then the signature: no nonce.
    assert_eq!(m.len(), GROUP_MESSAGE_HEADER_LEN + 6 + 16 + 64);
    let (signed, sig) = m.split_at(m.len() - 64);
    let sig = Signature(sig.try_into().unwrap());
    let vk = VerifyingKey::from_bytes(&dist.signing_key).unwrap();
    vk.verify(&signed_digest(signed), &sig).unwrap();
    // Not a signature over the envelope itself, nor over an unlabelled digest.
    assert_eq!(vk.verify(signed, &sig), Err(Error::BadSignature));
    assert_eq!(vk.verify(&dmp::crypto::kdf::sha256(&[signed]), &sig), Err(Error::BadSignature));
    assert_eq!(s.groups[1].decrypt(&m).unwrap().1, b"hello");
}

#[test]
fn late_joiner_reads_only_from_joining_on() {
    let mut s = Swarm::new(3);
    let before = s.groups[0].encrypt(b"before").unwrap();
    for g in 1..3 {
        s.groups[g].decrypt(&before).unwrap();
    }
    let late = Identity::generate().unwrap();
    let gid = s.groups[0].group_id();
    let mut lg = Group::new(late.agent_id(), gid).unwrap();
    for i in 0..3 {
        s.groups[i].add_member(&late.agent_id()).unwrap();
        lg.add_member(&s.ids[i].agent_id()).unwrap();
        lg.process_distribution(&s.ids[i].agent_id(), &s.groups[i].distribution()).unwrap();
    }
    let after = s.groups[0].encrypt(b"after").unwrap();
    assert_eq!(lg.decrypt(&after).unwrap().1, b"after");
    assert_eq!(lg.decrypt(&before).unwrap_err(), Error::Duplicate, "history is not readable");
}

#[test]
fn removal_rotates_and_the_removed_member_cannot_read_or_send() {
    let mut s = Swarm::new(3);
    let eve = s.ids[2].agent_id();
    let eve_old = s.groups[2].encrypt(b"from eve before removal").unwrap();
    for g in 0..2 {
        let key_before = s.groups[g].key_id();
        assert!(!s.groups[g].is_removed(&eve));
        s.groups[g].remove_member(&eve).unwrap();
        assert!(s.groups[g].is_removed(&eve) && !s.groups[g].is_member(&eve));
        assert_eq!(s.groups[g].key_id(), key_before + 1, "removal rotates our sender key");
    }
    s.distribute(0);
    s.distribute(1);
    let secret = s.groups[0].encrypt(b"after removal").unwrap();
    assert_eq!(s.groups[1].decrypt(&secret).unwrap().1, b"after removal");
    // Eve still holds the old key of member 0: the new key id is unknown to her.
    assert_eq!(s.groups[2].decrypt(&secret).unwrap_err(), Error::UnknownKeyId);
    // And what Eve sends is refused with its own code, even messages sent before the removal.
    let before = gsnap(&s.groups[1]);
    assert_eq!(s.groups[1].decrypt(&eve_old).unwrap_err(), Error::MemberRemoved);
    let eve_new = s.groups[2].encrypt(b"still here?").unwrap();
    assert_eq!(s.groups[1].decrypt(&eve_new).unwrap_err(), Error::MemberRemoved);
    assert_eq!(gsnap(&s.groups[1]), before);
    let d = s.groups[2].distribution();
    assert_eq!(s.groups[1].process_distribution(&eve, &d).unwrap_err(), Error::MemberRemoved);
}

#[test]
fn removed_member_can_be_added_back() {
    let mut s = Swarm::new(2);
    let b = s.ids[1].agent_id();
    s.groups[0].remove_member(&b).unwrap();
    s.groups[0].add_member(&b).unwrap();
    s.groups[1].rotate().unwrap();
    let d = s.groups[1].distribution();
    s.groups[0].process_distribution(&b, &d).unwrap();
    let m = s.groups[1].encrypt(b"back").unwrap();
    assert_eq!(s.groups[0].decrypt(&m).unwrap().1, b"back");
}

#[test]
fn superseded_key_is_readable_within_the_grace_window_then_refused() {
    use dmp::limits::GROUP_KEY_GRACE_MESSAGES;
    let mut s = Swarm::new(2);
    let in_flight = s.groups[0].encrypt(b"old key, late").unwrap();
    let also_late = s.groups[0].encrypt(b"old key, later").unwrap();
    s.groups[0].rotate().unwrap();
    s.distribute(0);
    let first_new = s.groups[0].encrypt(b"new").unwrap();
    s.groups[1].decrypt(&first_new).unwrap();
    assert_eq!(s.groups[1].decrypt(&in_flight).unwrap().1, b"old key, late");
    for _ in 1..GROUP_KEY_GRACE_MESSAGES {
        let m = s.groups[0].encrypt(b"n").unwrap();
        s.groups[1].decrypt(&m).unwrap();
    }
    let before = gsnap(&s.groups[1]);
    assert_eq!(s.groups[1].decrypt(&also_late).unwrap_err(), Error::SupersededKey);
    assert_eq!(gsnap(&s.groups[1]), before);
}

#[test]
fn refusals_during_a_grace_window_leave_the_window_as_it_was() {
    // After a rotation the receiver holds the sender's previous key and counts the messages
    // under the new one: no refused message, under either key, may count or change anything.
    let mut s = Swarm::new(2);
    let late = s.groups[0].encrypt(b"old key, late").unwrap();
    s.groups[0].rotate().unwrap();
    s.distribute(0);
    let first = s.groups[0].encrypt(b"new").unwrap();
    s.groups[1].decrypt(&first).unwrap();
    let next = s.groups[0].encrypt(b"next").unwrap();
    let before = gsnap(&s.groups[1]);
    assert_eq!(s.groups[1].decrypt(&first).unwrap_err(), Error::Duplicate);
    for m in [&next, &late] {
        for bit in 0..m.len() * 8 {
            let mut t = m.clone();
            t[bit / 8] ^= 1 << (bit % 8);
            assert!(s.groups[1].decrypt(&t).is_err(), "bit {bit}");
        }
        for n in 0..m.len() {
            assert!(s.groups[1].decrypt(&m[..n]).is_err(), "len {n}");
        }
    }
    assert_eq!(gsnap(&s.groups[1]), before);
    assert_eq!(s.groups[1].decrypt(&late).unwrap().1, b"old key, late");
    assert_eq!(s.groups[1].decrypt(&next).unwrap().1, b"next");
}

#[test]
fn stale_and_repeated_distributions_are_refused() {
    let mut s = Swarm::new(2);
    let a = s.ids[0].agent_id();
    let old = s.groups[0].distribution();
    assert_eq!(s.groups[1].process_distribution(&a, &old).unwrap_err(), Error::Duplicate);
    s.groups[0].rotate().unwrap();
    s.distribute(0);
    let before = gsnap(&s.groups[1]);
    assert_eq!(s.groups[1].process_distribution(&a, &old).unwrap_err(), Error::SupersededKey);
    assert_eq!(gsnap(&s.groups[1]), before);
}

#[test]
fn distribution_must_come_from_its_own_sender_and_a_member() {
    let mut s = Swarm::new(3);
    let forwarded = s.groups[0].distribution();
    // Member 1 relays member 0's key as if it were its own: refused.
    let relay = s.ids[1].agent_id();
    assert_eq!(s.groups[2].process_distribution(&relay, &forwarded).unwrap_err(), Error::UnknownSender);
    let stranger = Identity::generate().unwrap();
    let mut sg = Group::new(stranger.agent_id(), s.groups[0].group_id()).unwrap();
    sg.add_member(&s.ids[0].agent_id()).unwrap();
    assert_eq!(
        s.groups[0].process_distribution(&stranger.agent_id(), &sg.distribution()).unwrap_err(),
        Error::UnknownSender
    );
    let other_group = Group::new(s.ids[1].agent_id(), [9; 32]).unwrap();
    let one = s.ids[1].agent_id();
    assert_eq!(
        s.groups[0].process_distribution(&one, &other_group.distribution()).unwrap_err(),
        Error::WrongSession
    );
}

#[test]
fn unknown_sender_and_unknown_key_id() {
    let mut s = Swarm::new(2);
    let stranger = Identity::generate().unwrap();
    let mut sg = Group::new(stranger.agent_id(), s.groups[0].group_id()).unwrap();
    let m = sg.encrypt(b"hi").unwrap();
    assert_eq!(s.groups[0].decrypt(&m).unwrap_err(), Error::UnknownSender);
    // A member whose distribution has not arrived yet.
    s.groups[0].add_member(&stranger.agent_id()).unwrap();
    assert_eq!(s.groups[0].decrypt(&m).unwrap_err(), Error::UnknownKeyId);
    // Our own message, reflected back.
    let own = s.groups[0].encrypt(b"mine").unwrap();
    assert_eq!(s.groups[0].decrypt(&own).unwrap_err(), Error::UnknownSender);
}

#[test]
fn replay_is_refused_and_state_unchanged() {
    let mut s = Swarm::new(2);
    let m = s.groups[0].encrypt(b"once").unwrap();
    s.groups[1].decrypt(&m).unwrap();
    let before = gsnap(&s.groups[1]);
    assert_eq!(s.groups[1].decrypt(&m).unwrap_err(), Error::Duplicate);
    assert_eq!(gsnap(&s.groups[1]), before);
}

#[test]
fn every_bit_flip_is_refused_and_state_unchanged() {
    let mut s = Swarm::new(2);
    let m = s.groups[0].encrypt(b"flip").unwrap();
    let before = gsnap(&s.groups[1]);
    for bit in 0..m.len() * 8 {
        let mut t = m.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        let err = s.groups[1].decrypt(&t).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion
                    | Error::BadEnvelope
                    | Error::WrongMessageType
                    | Error::WrongSession
                    | Error::UnknownSender
                    | Error::UnknownKeyId
                    | Error::SupersededKey
                    | Error::BadSignature
            ),
            "bit {bit}: {err:?}"
        );
        assert_eq!(gsnap(&s.groups[1]), before, "bit {bit}");
    }
    assert_eq!(s.groups[1].decrypt(&m).unwrap().1, b"flip");
}

#[test]
fn every_truncation_is_refused() {
    let mut s = Swarm::new(2);
    let m = s.groups[0].encrypt(b"cut").unwrap();
    for n in 0..m.len() {
        assert!(s.groups[1].decrypt(&m[..n]).is_err(), "len {n}");
    }
    assert_eq!(s.groups[1].decrypt(&m).unwrap().1, b"cut");
}

#[test]
fn forged_signature_from_another_member_is_refused() {
    // Member 2 knows member 0's chain key (it is a member) and forges a message "from" 0:
    // the AEAD would open, but the signature under 0's signing key cannot be made.
    let mut s = Swarm::new(3);
    let genuine = s.groups[0].encrypt(b"genuine").unwrap();
    let mut forged = genuine.clone();
    let sig_at = forged.len() - 64;
    let mallory = s.groups[2].encrypt(b"genuine").unwrap();
    forged[sig_at..].copy_from_slice(&mallory[mallory.len() - 64..]);
    let before = gsnap(&s.groups[1]);
    assert_eq!(s.groups[1].decrypt(&forged).unwrap_err(), Error::BadSignature);
    assert_eq!(gsnap(&s.groups[1]), before);
    // Re-signing 0's header with member 2's own signing key fails the same way.
    let mut resigned = mallory.clone();
    resigned[34..66].copy_from_slice(&s.ids[0].agent_id().to_bytes());
    assert!(matches!(s.groups[1].decrypt(&resigned).unwrap_err(), Error::BadSignature | Error::UnknownKeyId));
    assert_eq!(s.groups[1].decrypt(&genuine).unwrap().1, b"genuine");
}

#[test]
fn out_of_order_within_the_limit_and_beyond() {
    let mut s = Swarm::new(2);
    s.groups[1].set_limits(Limits::new(10, 20).unwrap());
    let msgs: Vec<_> = (0..12u8).map(|i| s.groups[0].encrypt(&[i]).unwrap()).collect();
    let before = gsnap(&s.groups[1]);
    assert_eq!(s.groups[1].decrypt(&msgs[11]).unwrap_err(), Error::TooFarAhead);
    assert_eq!(gsnap(&s.groups[1]), before);
    assert_eq!(s.groups[1].decrypt(&msgs[10]).unwrap().1, [10]);
    assert_eq!(s.groups[1].skipped_key_count(&s.ids[0].agent_id()), Some(10));
    for i in (0..10).rev() {
        assert_eq!(s.groups[1].decrypt(&msgs[i]).unwrap().1, [i as u8]);
    }
    assert_eq!(s.groups[1].decrypt(&msgs[11]).unwrap().1, [11]);
}

#[test]
fn serialize_and_restore_mid_stream() {
    let mut s = Swarm::new(3);
    let early: Vec<_> = (0..4u8).map(|i| s.groups[0].encrypt(&[i]).unwrap()).collect();
    s.groups[1].decrypt(&early[3]).unwrap();
    let key = storage_key();
    let mut restored = Group::from_sealed(&s.groups[1].to_sealed(&key).unwrap(), &key).unwrap();
    assert_eq!(gsnap(&restored), gsnap(&s.groups[1]));
    for (i, m) in early.iter().enumerate().take(3) {
        assert_eq!(restored.decrypt(m).unwrap().1, [i as u8]);
    }
    let mine = restored.encrypt(b"from restored").unwrap();
    assert_eq!(s.groups[2].decrypt(&mine).unwrap().1, b"from restored");
    let wrong = dmp::StorageKey::from_bytes([1; 32]);
    assert_eq!(
        Group::from_sealed(&s.groups[1].to_sealed(&key).unwrap(), &wrong).unwrap_err(),
        Error::WrongStorageKey
    );
}

#[test]
fn membership_errors() {
    let mut s = Swarm::new(2);
    let me = s.ids[0].agent_id();
    let other = s.ids[1].agent_id();
    assert_eq!(s.groups[0].add_member(&me).unwrap_err(), Error::InvalidArgument);
    assert_eq!(s.groups[0].add_member(&other).unwrap_err(), Error::InvalidArgument);
    let stranger = Identity::generate().unwrap().agent_id();
    assert_eq!(s.groups[0].remove_member(&stranger).unwrap_err(), Error::UnknownSender);
    assert_eq!(s.groups[0].members(), vec![other.to_bytes()]);
}

#[test]
fn distributions_travel_over_pairwise_sessions() {
    // The whole path: a distribution is sealed in a DMP session and opened by the peer, who
    // knows from the session whom it came from.
    let alice_id = Identity::generate().unwrap();
    let mut bob_id = Identity::generate().unwrap();
    let mut a =
        Session::initiate(alice_id.keys(), &bob_id.bundle(true).unwrap(), SessionConfig::default()).unwrap();
    let gid = [3; 32];
    let mut ga = Group::new(alice_id.agent_id(), gid).unwrap();
    let mut gb = Group::new(bob_id.agent_id(), gid).unwrap();
    ga.add_member(&bob_id.agent_id()).unwrap();
    gb.add_member(&alice_id.agent_id()).unwrap();
    let env = a.encrypt(&ga.distribution()).unwrap();
    let (b, dist) = Session::accept(&mut bob_id, &env, SessionConfig::default()).unwrap();
    gb.process_distribution(&b.peer_id(), &dist).unwrap();
    let m = ga.encrypt(b"to the group").unwrap();
    assert_eq!(gb.decrypt(&m).unwrap(), (alice_id.agent_id(), b"to the group".to_vec()));
}

#[test]
fn a_re_added_member_must_use_a_newer_key() {
    let mut s = Swarm::new(2);
    let b = s.ids[1].agent_id();
    let old_dist = s.groups[1].distribution();
    let sent_while_removed = {
        s.groups[0].remove_member(&b).unwrap();
        s.groups[1].encrypt(b"sent while removed").unwrap()
    };
    s.groups[0].add_member(&b).unwrap();
    // Its old key (still the same key id) is not accepted again...
    assert_eq!(s.groups[0].process_distribution(&b, &old_dist).unwrap_err(), Error::SupersededKey);
    assert_eq!(s.groups[0].decrypt(&sent_while_removed).unwrap_err(), Error::UnknownKeyId);
    // ...a rotated one is.
    s.groups[1].rotate().unwrap();
    let d = s.groups[1].distribution();
    s.groups[0].process_distribution(&b, &d).unwrap();
    let m = s.groups[1].encrypt(b"welcome back").unwrap();
    assert_eq!(s.groups[0].decrypt(&m).unwrap().1, b"welcome back");
    let key = storage_key();
    let restored = Group::from_sealed(&s.groups[0].to_sealed(&key).unwrap(), &key).unwrap();
    assert_eq!(gsnap(&restored), gsnap(&s.groups[0]));
}
