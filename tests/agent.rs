//! The agent: many sessions and groups behind one identity, persisted, crash-safe.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dmp::store::{Change, Store};
use dmp::{
    Agent, AgentConfig, Error, EventKind, Group, Identity, OutboxEntry, PrekeyBundle, Session, SessionConfig,
    SessionState, StorageKey,
};

fn key() -> StorageKey {
    StorageKey::from_bytes([0x11; 32])
}

fn mem() -> Agent {
    Agent::open(None, key(), AgentConfig::default()).unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dmp-agent-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Delivers every outbox envelope between `x` and `y`, both ways, until both are empty.
fn drain(x: &mut Agent, y: &mut Agent) {
    while x.outbox_len() + y.outbox_len() > 0 {
        pump(x, y);
        pump(y, x);
    }
}

fn pump(from: &mut Agent, to: &mut Agent) {
    while let Some(OutboxEntry { seq, peer, envelope: env }) = from.outbox_next() {
        assert_eq!(peer, to.agent_id());
        let env = env.to_vec();
        to.receive(&env).unwrap();
        from.outbox_done(seq).unwrap();
    }
}

fn introduce(a: &mut Agent, b: &mut Agent) {
    let bundle = b.bundle(true).unwrap();
    assert_eq!(a.add_bundle(&bundle).unwrap(), b.agent_id());
}

#[test]
fn send_sets_up_the_session_and_receive_reports_it() {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let env = a.send(&b.agent_id(), b"hello").unwrap();
    assert_eq!(a.session_state(&b.agent_id()).unwrap(), SessionState::Initiating);
    let ev = b.receive(&env).unwrap();
    assert_eq!(
        (ev.kind, ev.peer, &ev.plaintext[..], ev.new_session),
        (EventKind::Message, a.agent_id(), &b"hello"[..], true)
    );
    let reply = b.send(&a.agent_id(), b"hi").unwrap();
    let ev = a.receive(&reply).unwrap();
    assert_eq!((ev.kind, &ev.plaintext[..], ev.new_session), (EventKind::Message, &b"hi"[..], false));
    assert_eq!(a.session_state(&b.agent_id()).unwrap(), SessionState::Active);
    assert_eq!(a.peers(), vec![b.agent_id()]);
}

#[test]
fn connect_establishes_without_a_message() {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let env = a.connect(&b.agent_id()).unwrap();
    let ev = b.receive(&env).unwrap();
    assert_eq!((ev.kind, ev.plaintext.len()), (EventKind::SessionEstablished, 0));
}

#[test]
fn sending_without_session_or_bundle_is_no_session() {
    let (mut a, b) = (mem(), mem());
    assert_eq!(a.send(&b.agent_id(), b"x").unwrap_err(), Error::NoSession);
    assert_eq!(a.session_state(&b.agent_id()).unwrap_err(), Error::NoSession);
}

#[test]
fn refused_envelopes_change_nothing() {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let env = a.send(&b.agent_id(), b"one").unwrap();
    let mut t = env.clone();
    *t.last_mut().unwrap() ^= 1;
    assert_eq!(b.receive(&t).unwrap_err(), Error::AuthFailed);
    assert_eq!(b.session_count(), 0);
    assert_eq!(b.receive(&env).unwrap().plaintext[..], b"one"[..]);
    assert_eq!(b.receive(&env).unwrap_err(), Error::Duplicate);
    assert_eq!(b.receive(&a.bundle(false).unwrap()).unwrap_err(), Error::WrongMessageType);
    assert_eq!(b.receive(&[1, 2]).unwrap_err(), Error::BadEnvelope);
}

#[test]
fn simultaneous_initiation_converges_on_one_session() {
    for _ in 0..5 {
        let (mut a, mut b) = (mem(), mem());
        introduce(&mut a, &mut b);
        introduce(&mut b, &mut a);
        let from_a = a.send(&b.agent_id(), b"from a").unwrap();
        let from_b = b.send(&a.agent_id(), b"from b").unwrap();
        assert_eq!(b.receive(&from_a).unwrap().plaintext[..], b"from a"[..]);
        assert_eq!(a.receive(&from_b).unwrap().plaintext[..], b"from b"[..]);
        let sa = a.primary_session_id(&b.agent_id()).unwrap();
        let sb = b.primary_session_id(&a.agent_id()).unwrap();
        assert_eq!(sa, sb, "both sides chose the same session");
        // And it carries traffic both ways.
        let m = a.send(&b.agent_id(), b"next").unwrap();
        assert_eq!(b.receive(&m).unwrap().plaintext[..], b"next"[..]);
        let m = b.send(&a.agent_id(), b"back").unwrap();
        assert_eq!(a.receive(&m).unwrap().plaintext[..], b"back"[..]);
        assert_eq!(a.session_state(&b.agent_id()).unwrap(), SessionState::Active);
    }
}

#[test]
fn a_peer_that_restarts_its_session_is_followed_at_its_second_message_and_the_old_one_stays_readable() {
    let mut a = mem();
    let mut b = Agent::open_with_seed(None, key(), AgentConfig::default(), &[5; 32]).unwrap();
    introduce(&mut b, &mut a);
    let m = b.send(&a.agent_id(), b"1").unwrap();
    a.receive(&m).unwrap();
    let r = a.send(&b.agent_id(), b"2").unwrap();
    b.receive(&r).unwrap();
    let old = a.primary_session_id(&b.agent_id()).unwrap();
    let late_on_old = b.send(&a.agent_id(), b"late, old session").unwrap();
    // B restarts from its seed with no state and starts a new session.
    let mut b2 = Agent::open_with_seed(None, key(), AgentConfig::default(), &[5; 32]).unwrap();
    introduce(&mut b2, &mut a);
    let m = b2.send(&a.agent_id(), b"new session").unwrap();
    assert!(a.receive(&m).unwrap().new_session);
    // One first message (which anyone who recorded it could replay) does not move A's sends
    // away from the answered session...
    assert_eq!(a.primary_session_id(&b.agent_id()).unwrap(), old);
    assert_eq!(a.receive(&late_on_old).unwrap().plaintext[..], b"late, old session"[..]);
    // ...the peer's next message on the new session does.
    let m = b2.send(&a.agent_id(), b"still new").unwrap();
    assert!(!a.receive(&m).unwrap().new_session);
    let new = a.primary_session_id(&b.agent_id()).unwrap();
    assert_ne!(new, old);
    let r = a.send(&b2.agent_id(), b"to the new one").unwrap();
    assert_eq!(b2.receive(&r).unwrap().plaintext[..], b"to the new one"[..]);
}

#[test]
fn many_peers_behind_one_identity() {
    let mut hub = mem();
    let mut spokes: Vec<Agent> = (0..20).map(|_| mem()).collect();
    for s in spokes.iter_mut() {
        introduce(s, &mut hub);
        let env = s.send(&hub.agent_id(), b"hi hub").unwrap();
        let ev = hub.receive(&env).unwrap();
        assert_eq!(ev.peer, s.agent_id());
    }
    assert_eq!(hub.peers().len(), 20);
    for s in spokes.iter_mut() {
        let env = hub.send(&s.agent_id(), &s.agent_id().to_bytes()).unwrap();
        assert_eq!(s.receive(&env).unwrap().plaintext[..], s.agent_id().to_bytes()[..]);
    }
}

#[test]
fn groups_of_three_with_invites_add_and_remove() {
    let (mut a, mut b, mut c) = (mem(), mem(), mem());
    introduce(&mut a, &mut b);
    introduce(&mut a, &mut c);
    introduce(&mut b, &mut c);
    introduce(&mut c, &mut b);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    a.group_add(&gid, &c.agent_id()).unwrap();
    assert_eq!(a.outbox_len(), 2);
    // Deliver A's distributions; B and C are invited and answer with theirs.
    while let Some(OutboxEntry { seq, peer: to, envelope: env }) = a.outbox_next() {
        let env = env.to_vec();
        let target = if to == b.agent_id() { &mut b } else { &mut c };
        let ev = target.receive(&env).unwrap();
        assert_eq!((ev.kind, ev.group_id), (EventKind::DistributionConsumed, Some(gid)));
        a.outbox_done(seq).unwrap();
    }
    drain(&mut b, &mut a);
    drain(&mut c, &mut a);
    // B and C each add the other (their apps agree on the membership), then exchange keys. A key
    // from a non-member is refused, and the same envelope is accepted once the sender is added.
    b.group_add(&gid, &c.agent_id()).unwrap();
    let OutboxEntry { envelope: early, .. } = b.outbox_next().unwrap();
    let early = early.to_vec();
    assert_eq!(c.receive(&early).unwrap_err(), Error::UnknownSender);
    c.group_add(&gid, &b.agent_id()).unwrap();
    drain(&mut b, &mut c);
    assert_eq!(b.group_members(&gid).unwrap().len(), 2);
    assert_eq!(c.group_members(&gid).unwrap().len(), 2);

    let m = a.group_send(&gid, b"from a").unwrap();
    for r in [&mut b, &mut c] {
        let ev = r.receive(&m).unwrap();
        assert_eq!(
            (ev.kind, ev.peer, &ev.plaintext[..]),
            (EventKind::GroupMessage, a.agent_id(), &b"from a"[..])
        );
    }
    let m = b.group_send(&gid, b"from b").unwrap();
    assert_eq!(a.receive(&m).unwrap().plaintext[..], b"from b"[..]);
    assert_eq!(c.receive(&m).unwrap().plaintext[..], b"from b"[..]);

    // A removes C: A's key rotates and the new one goes to B only.
    a.group_remove(&gid, &c.agent_id()).unwrap();
    assert_eq!(a.outbox_next().unwrap().peer, b.agent_id());
    drain(&mut a, &mut b);
    let secret = a.group_send(&gid, b"without c").unwrap();
    assert_eq!(b.receive(&secret).unwrap().plaintext[..], b"without c"[..]);
    assert_eq!(c.receive(&secret).unwrap_err(), Error::UnknownKeyId);
    let from_c = c.group_send(&gid, b"still here").unwrap();
    assert_eq!(a.receive(&from_c).unwrap_err(), Error::MemberRemoved);
}

/// What an agent sends over a session: a payload kind byte, then the body.
fn raw_distribution(from: &Identity, to: &mut Agent, group: &Group) -> Vec<u8> {
    let bundle = PrekeyBundle::from_bytes(&to.bundle(true).unwrap()).unwrap();
    let mut s = Session::initiate(from.keys(), &bundle, SessionConfig::default()).unwrap();
    s.encrypt(&dmp::agent::payload::frame(dmp::agent::payload::DISTRIBUTION, &group.distribution())).unwrap()
}

#[test]
fn knowing_a_group_id_earns_no_sender_key_and_a_removed_member_cannot_rejoin() {
    let mut a = mem();
    let mut b = Agent::open_with_seed(None, key(), AgentConfig::default(), &[9; 32]).unwrap();
    introduce(&mut a, &mut b);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    drain(&mut a, &mut b);
    // Mallory learned the group id (it is in the clear in group messages) and has a session with A.
    let mallory = Identity::generate().unwrap();
    let mut forged = Group::new(mallory.agent_id(), gid).unwrap();
    forged.add_member(&a.agent_id()).unwrap();
    let env = raw_distribution(&mallory, &mut a, &forged);
    let outbox_before = a.outbox_len();
    assert_eq!(a.receive(&env).unwrap_err(), Error::UnknownSender);
    assert_eq!(a.outbox_len(), outbox_before, "no sender key goes back");
    assert_eq!(a.group_members(&gid).unwrap(), vec![b.agent_id()]);
    // B is removed, then offers a fresh (rotated) key: refused as a removed member.
    a.group_remove(&gid, &b.agent_id()).unwrap();
    let b_keys = Identity::from_seed(&[9; 32]).unwrap();
    let mut rejoin = Group::new(b_keys.agent_id(), gid).unwrap();
    rejoin.add_member(&a.agent_id()).unwrap();
    rejoin.rotate().unwrap();
    rejoin.rotate().unwrap();
    let env = raw_distribution(&b_keys, &mut a, &rejoin);
    assert_eq!(a.receive(&env).unwrap_err(), Error::MemberRemoved);
    assert!(a.group_members(&gid).unwrap().is_empty());
}

#[test]
fn an_invitation_is_marked_and_an_unwanted_one_can_be_left() {
    let dir = temp_dir("leave");
    let path = dir.join("b.db");
    let mut a = mem();
    let mut b = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
    introduce(&mut a, &mut b);
    let gid = a.group_create().unwrap();
    // Mallory learned the group id and invites B into it before A does.
    let mallory = Identity::generate().unwrap();
    let mut squat = Group::new(mallory.agent_id(), gid).unwrap();
    squat.add_member(&b.agent_id()).unwrap();
    let env = raw_distribution(&mallory, &mut b, &squat);
    let ev = b.receive(&env).unwrap();
    assert_eq!(
        (ev.kind, ev.peer, ev.group_id, ev.new_group),
        (EventKind::DistributionConsumed, mallory.agent_id(), Some(gid), true)
    );
    assert_eq!(b.group_members(&gid).unwrap(), vec![mallory.agent_id()]);
    assert_eq!(b.outbox_next().unwrap().peer, mallory.agent_id(), "B's key answers the invitation");
    b.outbox_done(b.outbox_next().unwrap().seq).unwrap();
    // While B holds the group, A's invitation is a non-member's key.
    a.group_add(&gid, &b.agent_id()).unwrap();
    let real = a.outbox_next().unwrap().envelope.to_vec();
    assert_eq!(b.receive(&real).unwrap_err(), Error::UnknownSender);
    // B's application did not expect Mallory to invite it: it leaves, and takes A's invitation.
    b.group_leave(&gid).unwrap();
    assert!(b.groups().is_empty());
    assert_eq!(b.group_members(&gid).unwrap_err(), Error::WrongSession);
    assert_eq!(b.group_leave(&gid).unwrap_err(), Error::WrongSession);
    let ev = b.receive(&real).unwrap();
    assert_eq!((ev.peer, ev.new_group), (a.agent_id(), true));
    a.outbox_done(a.outbox_next().unwrap().seq).unwrap();
    assert_eq!(b.group_members(&gid).unwrap(), vec![a.agent_id()]);
    // A key from a member of a group held is no invitation.
    let answer = b.outbox_next().unwrap().envelope.to_vec();
    let ev = a.receive(&answer).unwrap();
    assert_eq!((ev.kind, ev.peer, ev.new_group), (EventKind::DistributionConsumed, b.agent_id(), false));
    b.outbox_done(b.outbox_next().unwrap().seq).unwrap();
    let m = a.group_send(&gid, b"welcome").unwrap();
    assert_eq!(b.receive(&m).unwrap().plaintext[..], b"welcome"[..]);
    // Leaving is durable, and a group message for a group left is WRONG_SESSION.
    b.group_leave(&gid).unwrap();
    drop(b);
    let mut b = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
    assert!(b.groups().is_empty());
    let m = a.group_send(&gid, b"gone").unwrap();
    assert_eq!(b.receive(&m).unwrap_err(), Error::WrongSession);
}

#[test]
fn the_number_of_groups_is_bounded() {
    use dmp::limits::MAX_AGENT_GROUPS;
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    let invitation = a.outbox_next().unwrap().envelope.to_vec();
    for _ in 0..MAX_AGENT_GROUPS {
        b.group_create().unwrap();
    }
    assert_eq!(b.group_create().unwrap_err(), Error::TooLarge);
    // An invitation beyond the bound is refused and changes nothing; after leaving one group it
    // is taken.
    assert_eq!(b.receive(&invitation).unwrap_err(), Error::TooLarge);
    assert_eq!((b.groups().len(), b.outbox_len()), (MAX_AGENT_GROUPS, 0));
    let some = b.groups()[0];
    b.group_leave(&some).unwrap();
    assert!(b.receive(&invitation).unwrap().new_group);
    assert_eq!(b.groups().len(), MAX_AGENT_GROUPS);
}

#[test]
fn invites_can_be_refused() {
    let config = AgentConfig { accept_group_invites: false, ..AgentConfig::default() };
    let mut a = mem();
    let mut b = Agent::open(None, key(), config).unwrap();
    introduce(&mut a, &mut b);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    let OutboxEntry { envelope: env, .. } = a.outbox_next().unwrap();
    let env = env.to_vec();
    assert_eq!(b.receive(&env).unwrap_err(), Error::UnknownSender);
    assert!(b.groups().is_empty());
}

#[test]
fn outbox_done_forgets_exactly_the_entry_it_names() {
    let (mut a, mut b, mut c) = (mem(), mem(), mem());
    a.add_bundle(&b.bundle(true).unwrap()).unwrap();
    a.add_bundle(&c.bundle(true).unwrap()).unwrap();
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    a.group_add(&gid, &c.agent_id()).unwrap();
    // Two threads drain the outbox: both took the first entry; one also took the second and
    // marks it done first. The entry it did not send must stay.
    let first = a.outbox_next().unwrap();
    let (first_seq, first_env) = (first.seq, first.envelope.to_vec());
    assert_eq!(first.peer, b.agent_id());
    let second_seq = first_seq + 1;
    a.outbox_done(second_seq).unwrap();
    assert_eq!(a.outbox_len(), 1);
    let left = a.outbox_next().unwrap();
    assert_eq!((left.seq, left.peer, left.envelope), (first_seq, b.agent_id(), &first_env[..]));
    // Done twice (both threads sent it) is fine; a number never given is refused.
    a.outbox_done(second_seq).unwrap();
    assert_eq!(a.outbox_done(second_seq + 1).unwrap_err(), Error::InvalidArgument);
    assert_eq!(a.outbox_len(), 1);
    b.receive(&first_env).unwrap();
    a.outbox_done(first_seq).unwrap();
    assert!(a.outbox_next().is_none());
}

#[test]
fn maintenance_rotates_replenishes_and_prunes() {
    let config =
        AgentConfig { signed_prekey_rotation_secs: 100, old_session_ttl_secs: 50, ..AgentConfig::default() };
    let mut a = Agent::open(None, key(), config).unwrap();
    let t0 = 4_000_000_000;
    assert!(a.maintain(t0).unwrap().rotated_signed_prekey);
    assert!(!a.maintain(t0 + 99).unwrap().rotated_signed_prekey);
    assert!(a.maintain(t0 + 100).unwrap().rotated_signed_prekey);
    // Hand out one-time prekeys until below the low-water mark: maintenance tops them up.
    assert_eq!(a.maintain(t0 + 101).unwrap().one_time_prekeys_generated, 0);
    for _ in 0..90 {
        a.bundle(true).unwrap();
    }
    assert!(a.maintain(t0 + 102).unwrap().one_time_prekeys_generated > 0);
    // Two sessions with the same peer identity: the old, non-primary one goes once unused.
    let mut b = Agent::open_with_seed(None, key(), AgentConfig::default(), &[6; 32]).unwrap();
    introduce(&mut b, &mut a);
    a.receive(&b.send(&a.agent_id(), b"1").unwrap()).unwrap();
    let mut b2 = Agent::open_with_seed(None, key(), AgentConfig::default(), &[6; 32]).unwrap();
    introduce(&mut b2, &mut a);
    a.receive(&b2.send(&a.agent_id(), b"2").unwrap()).unwrap();
    assert_eq!(a.session_count(), 2);
    assert_eq!(a.maintain(t0 + 120).unwrap().sessions_dropped, 0, "still fresh");
    assert_eq!(a.maintain(t0 + 200).unwrap().sessions_dropped, 1);
    assert_eq!(a.session_count(), 1);
    assert_eq!(a.maintain(t0 + 10_000).unwrap().sessions_dropped, 0, "the primary is never dropped");
}

#[test]
fn state_survives_reopen_and_the_conversation_continues() {
    let dir = temp_dir("reopen");
    let (pa, pb) = (dir.join("a.db"), dir.join("b.db"));
    let (ida, idb);
    let gid;
    {
        let mut a = Agent::open(Some(&pa), key(), AgentConfig::default()).unwrap();
        let mut b = Agent::open(Some(&pb), key(), AgentConfig::default()).unwrap();
        ida = a.agent_id();
        idb = b.agent_id();
        introduce(&mut a, &mut b);
        let m = a.send(&idb, b"before").unwrap();
        b.receive(&m).unwrap();
        gid = a.group_create().unwrap();
        a.group_add(&gid, &idb).unwrap();
        // The distribution stays in the outbox across the restart.
    }
    let mut a = Agent::open(Some(&pa), key(), AgentConfig::default()).unwrap();
    let mut b = Agent::open(Some(&pb), key(), AgentConfig::default()).unwrap();
    assert_eq!((a.agent_id(), b.agent_id()), (ida, idb));
    assert_eq!(a.outbox_len(), 1);
    drain(&mut a, &mut b);
    let m = b.send(&ida, b"after").unwrap();
    assert_eq!(a.receive(&m).unwrap().plaintext[..], b"after"[..]);
    let g = a.group_send(&gid, b"group after restart").unwrap();
    assert_eq!(b.receive(&g).unwrap().plaintext[..], b"group after restart"[..]);
}

#[test]
fn after_a_reopen_sends_continue_where_they_stopped() {
    // Every send commits the step it used: a reopened agent never seals under a key it used
    // before (the receiver would see a DUPLICATE, and the keystream would be reused).
    let dir = temp_dir("resume");
    let pa = dir.join("a.db");
    let mut b = mem();
    let gid;
    {
        let mut a = Agent::open(Some(&pa), key(), AgentConfig::default()).unwrap();
        introduce(&mut a, &mut b);
        gid = a.group_create().unwrap();
        a.group_add(&gid, &b.agent_id()).unwrap();
        drain(&mut a, &mut b);
        for i in 0..3u8 {
            let m = a.send(&b.agent_id(), &[i]).unwrap();
            assert_eq!(b.receive(&m).unwrap().plaintext[..], [i]);
            let g = a.group_send(&gid, &[i]).unwrap();
            assert_eq!(b.receive(&g).unwrap().plaintext[..], [i]);
        }
    }
    let mut a = Agent::open(Some(&pa), key(), AgentConfig::default()).unwrap();
    let m = a.send(&b.agent_id(), b"after").unwrap();
    let ev = b.receive(&m).unwrap();
    assert_eq!((&ev.plaintext[..], ev.new_session), (&b"after"[..], false));
    let g = a.group_send(&gid, b"after").unwrap();
    assert_eq!(b.receive(&g).unwrap().plaintext[..], b"after"[..]);
}

#[test]
fn wrong_storage_key_locked_store_and_corrupted_file_are_refused() {
    let dir = temp_dir("refusals");
    let p = dir.join("a.db");
    {
        let _a = Agent::open(Some(&p), key(), AgentConfig::default()).unwrap();
        assert_eq!(Agent::open(Some(&p), key(), AgentConfig::default()).unwrap_err(), Error::StoreLocked);
    }
    assert_eq!(
        Agent::open(Some(&p), StorageKey::from_bytes([0x22; 32]), AgentConfig::default()).unwrap_err(),
        Error::WrongStorageKey
    );
    let garbage = dir.join("garbage.db");
    std::fs::write(&garbage, vec![0x5A; 16384]).unwrap();
    assert_eq!(Agent::open(Some(&garbage), key(), AgentConfig::default()).unwrap_err(), Error::StoreFailed);
    // A database whose records were tampered with is refused, not half-loaded.
    {
        let db = rusqlite_free_tamper(&p);
        assert!(db);
    }
    assert!(Agent::open(Some(&p), key(), AgentConfig::default()).is_err());
}

/// Flips a byte inside the identity record with plain file I/O (no SQL): the page checksum-free
/// SQLite format keeps the file readable, and the record no longer authenticates.
fn rusqlite_free_tamper(path: &std::path::Path) -> bool {
    let mut bytes = std::fs::read(path).unwrap();
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        return false;
    }
    // The identity record's ciphertext is the longest run of high-entropy bytes; flip one near the
    // end of the file, where SQLite stores cell content.
    let n = bytes.len();
    let mut flipped = false;
    for i in (n / 2..n).rev() {
        if bytes[i] != 0 {
            bytes[i] ^= 0x01;
            flipped = true;
            break;
        }
    }
    std::fs::write(path, bytes).unwrap();
    flipped
}

#[test]
fn seeded_agent_keeps_its_identity_and_refuses_another_seed() {
    let dir = temp_dir("seed");
    let p = dir.join("a.db");
    let id = Agent::open_with_seed(Some(&p), key(), AgentConfig::default(), &[7; 32]).unwrap().agent_id();
    assert_eq!(Agent::open_with_seed(None, key(), AgentConfig::default(), &[7; 32]).unwrap().agent_id(), id);
    assert_eq!(
        Agent::open_with_seed(Some(&p), key(), AgentConfig::default(), &[7; 32]).unwrap().agent_id(),
        id
    );
    assert_eq!(
        Agent::open_with_seed(Some(&p), key(), AgentConfig::default(), &[8; 32]).unwrap_err(),
        Error::InvalidArgument
    );
}

#[test]
fn eight_threads_share_one_agent() {
    let a = Arc::new(Mutex::new(mem()));
    let mut b = mem();
    {
        let mut guard = a.lock().unwrap();
        introduce(&mut guard, &mut b);
        let m = guard.send(&b.agent_id(), b"setup").unwrap();
        b.receive(&m).unwrap();
        // Messages from a stranger may be at most 32 out of order: B expects this burst.
        b.accept_peer(&guard.agent_id()).unwrap();
    }
    let bid = b.agent_id();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let a = Arc::clone(&a);
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| a.lock().unwrap().send(&bid, format!("{t}:{i}").as_bytes()).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let all: Vec<Vec<u8>> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    for env in all {
        let ev = b.receive(&env).unwrap();
        assert!(seen.insert(ev.plaintext.to_vec()));
    }
    assert_eq!(seen.len(), 400);
}

#[test]
fn retained_events_survive_a_restart_until_acknowledged() {
    let dir = temp_dir("inbox");
    let pb = dir.join("b.db");
    let config = AgentConfig { retain_events: true, ..AgentConfig::default() };
    let mut a = mem();
    let seqs;
    {
        let mut b = Agent::open(Some(&pb), key(), config).unwrap();
        introduce(&mut a, &mut b);
        let e1 = b.receive(&a.send(&b.agent_id(), b"one").unwrap()).unwrap();
        let e2 = b.receive(&a.send(&b.agent_id(), b"two").unwrap()).unwrap();
        assert!(e2.seq > e1.seq);
        b.ack(e1.seq).unwrap();
        assert_eq!(b.ack(e1.seq).unwrap_err(), Error::InvalidArgument);
        seqs = (e1.seq, e2.seq);
    }
    let mut b = Agent::open(Some(&pb), key(), config).unwrap();
    let pending = b.pending_events();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].seq, &pending[0].plaintext[..]), (seqs.1, &b"two"[..]));
    b.ack(seqs.1).unwrap();
    let e3 = b.receive(&a.send(&b.agent_id(), b"three").unwrap()).unwrap();
    assert!(e3.seq > seqs.1, "event numbers keep counting across restarts");
    drop(b);
    let b = Agent::open(Some(&pb), key(), config).unwrap();
    assert_eq!(b.pending_events().len(), 1);
}

#[test]
fn without_retention_nothing_is_kept() {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let e = b.receive(&a.send(&b.agent_id(), b"x").unwrap()).unwrap();
    assert!(b.pending_events().is_empty());
    assert_eq!(b.ack(e.seq).unwrap_err(), Error::InvalidArgument);
}

#[test]
fn send_len_is_exact_before_and_after_the_session_exists() {
    let (mut a, mut b) = (mem(), mem());
    assert_eq!(a.send_len(&b.agent_id(), 5).unwrap_err(), Error::NoSession);
    introduce(&mut a, &mut b);
    for n in [0usize, 5, 1000] {
        let want = a.send_len(&b.agent_id(), n).unwrap();
        let env = a.send(&b.agent_id(), &vec![7; n]).unwrap();
        assert_eq!(env.len(), want);
        b.receive(&env).unwrap();
    }
    let gid = a.group_create().unwrap();
    assert_eq!(a.group_send_len(&gid, 10).unwrap(), a.group_send(&gid, &[1; 10]).unwrap().len());
}

#[test]
fn a_replayed_first_message_of_a_dropped_session_does_not_recreate_it_while_its_prekey_is_held() {
    let dir = temp_dir("dropped");
    let pa = dir.join("a.db");
    let config =
        AgentConfig { old_session_ttl_secs: 50, signed_prekey_rotation_secs: 1000, ..AgentConfig::default() };
    let first_of_old;
    let t0 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 10;
    {
        let mut a = Agent::open(Some(&pa), key(), config).unwrap();
        a.maintain(t0).unwrap();
        // Two sessions from the same peer; the older one is then pruned.
        let mut b = Agent::open_with_seed(None, key(), AgentConfig::default(), &[4; 32]).unwrap();
        // No one-time prekey: only the remembered first message stops a replay of it.
        let bundle = a.bundle(false).unwrap();
        b.add_bundle(&bundle).unwrap();
        first_of_old = b.send(&a.agent_id(), b"old").unwrap();
        a.receive(&first_of_old).unwrap();
        a.accept_peer(&b.agent_id()).unwrap();
        let mut b2 = Agent::open_with_seed(None, key(), AgentConfig::default(), &[4; 32]).unwrap();
        introduce(&mut b2, &mut a);
        a.receive(&b2.send(&a.agent_id(), b"new").unwrap()).unwrap();
        a.receive(&b2.send(&a.agent_id(), b"new again").unwrap()).unwrap();
        assert_eq!(a.maintain(t0 + 100).unwrap().sessions_dropped, 1);
        assert_eq!(a.receive(&first_of_old).unwrap_err(), Error::Duplicate);
        assert_eq!(a.session_count(), 1);
    }
    // Remembered across a restart, and after one rotation (the prekey is still held)...
    let mut a = Agent::open(Some(&pa), key(), config).unwrap();
    assert_eq!(a.receive(&first_of_old).unwrap_err(), Error::Duplicate);
    assert!(a.maintain(t0 + 1_000).unwrap().rotated_signed_prekey);
    assert_eq!(a.receive(&first_of_old).unwrap_err(), Error::Duplicate);
    // ...and once the prekey is erased, its first messages name an unknown prekey.
    assert!(a.maintain(t0 + 2_000).unwrap().rotated_signed_prekey);
    assert_eq!(a.receive(&first_of_old).unwrap_err(), Error::UnknownPrekey);
    assert_eq!(a.session_count(), 1);
}

#[test]
fn a_store_missing_its_identity_or_meta_record_is_refused() {
    for missing in ["identity", "meta"] {
        let dir = temp_dir(&format!("missing-{missing}"));
        let p = dir.join("a.db");
        {
            let mut a = Agent::open(Some(&p), key(), AgentConfig::default()).unwrap();
            let mut b = mem();
            introduce(&mut a, &mut b);
            a.send(&b.agent_id(), b"x").unwrap();
        }
        Store::open(&p, &key()).unwrap().commit(&[Change::Delete { name: missing.into() }]).unwrap();
        assert_eq!(
            Agent::open(Some(&p), key(), AgentConfig::default()).unwrap_err(),
            Error::BadState,
            "{missing}"
        );
    }
}

#[test]
fn a_group_is_stored_as_its_head_and_one_record_per_member() {
    let dir = temp_dir("members");
    let p = dir.join("a.db");
    let (mut b, mut c) = (mem(), mem());
    let gid;
    {
        let mut a = Agent::open(Some(&p), key(), AgentConfig::default()).unwrap();
        introduce(&mut a, &mut b);
        introduce(&mut a, &mut c);
        gid = a.group_create().unwrap();
        a.group_add(&gid, &b.agent_id()).unwrap();
        a.group_add(&gid, &c.agent_id()).unwrap();
        while let Some(OutboxEntry { seq, peer: to, envelope: env }) = a.outbox_next() {
            let env = env.to_vec();
            if to == b.agent_id() { &mut b } else { &mut c }.receive(&env).unwrap();
            a.outbox_done(seq).unwrap();
        }
        pump(&mut b, &mut a);
        pump(&mut c, &mut a);
        for (x, text) in [(&mut b, &b"from b"[..]), (&mut c, &b"from c"[..])] {
            let m = x.group_send(&gid, text).unwrap();
            assert_eq!(a.receive(&m).unwrap().plaintext[..], text[..]);
        }
        a.group_remove(&gid, &c.agent_id()).unwrap();
        drain(&mut a, &mut b);
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    // Rows are found by a keyed hash of their names (section 11.8): the store reads and moves them
    // by name.
    let names = || -> Vec<String> {
        let rows = Store::open(&p, &key()).unwrap().load_all().unwrap();
        let mut v: Vec<String> = rows
            .into_iter()
            .map(|(n, _, _)| n)
            .filter(|n| n.starts_with("group/") || n.starts_with("member/"))
            .collect();
        v.sort();
        v
    };
    let rename = |from: &str, to: &str| {
        let mut s = Store::open(&p, &key()).unwrap();
        let (_, kind, value) = s.load_all().unwrap().into_iter().find(|(n, _, _)| n == from).unwrap();
        s.commit(&[Change::Delete { name: from.into() }, Change::Put { name: to.into(), kind, value }])
            .unwrap();
    };
    let member_b = format!("member/{}/{}", hex(&gid), hex(&b.agent_id().to_bytes()));
    assert_eq!(names(), vec![format!("group/{}", hex(&gid)), member_b.clone()], "c's record went with c");
    {
        // Reopened: b's keys continue where they were, c is a removed member.
        let mut a = Agent::open(Some(&p), key(), AgentConfig::default()).unwrap();
        assert_eq!(a.group_members(&gid).unwrap(), vec![b.agent_id()]);
        let m = b.group_send(&gid, b"after").unwrap();
        assert_eq!(a.receive(&m).unwrap().plaintext[..], b"after"[..]);
        assert_eq!(a.receive(&m).unwrap_err(), Error::Duplicate);
        let m = c.group_send(&gid, b"still here").unwrap();
        assert_eq!(a.receive(&m).unwrap_err(), Error::MemberRemoved);
    }
    // A member record moved to another member's name does not open.
    let elsewhere = format!("member/{}/{}", hex(&gid), hex(&c.agent_id().to_bytes()));
    rename(&member_b, &elsewhere);
    assert_eq!(Agent::open(Some(&p), key(), AgentConfig::default()).unwrap_err(), Error::WrongStorageKey);
    rename(&elsewhere, &member_b);
    // A member record without its group's head, or with a malformed name.
    let head = format!("group/{}", hex(&gid));
    rename(&head, "parked");
    assert_eq!(Agent::open(Some(&p), key(), AgentConfig::default()).unwrap_err(), Error::BadState);
    rename("parked", &head);
    rename(&member_b, &format!("member/{}", hex(&gid)));
    assert_eq!(Agent::open(Some(&p), key(), AgentConfig::default()).unwrap_err(), Error::BadState);
    rename(&format!("member/{}", hex(&gid)), &member_b);
    let a = Agent::open(Some(&p), key(), AgentConfig::default()).unwrap();
    assert_eq!(a.group_members(&gid).unwrap(), vec![b.agent_id()], "put back, it opens again");
}

#[test]
fn an_agent_restarted_from_its_seed_cannot_read_first_messages_to_its_old_bundles() {
    // The seed restores the agent id, not the prekeys: a first message made from a bundle of the
    // lost store (or replayed) is refused, and the restarted agent can be reached again from a
    // new bundle.
    for with_one_time_prekey in [false, true] {
        let mut a = mem();
        let mut b = Agent::open_with_seed(None, key(), AgentConfig::default(), &[0x5E; 32]).unwrap();
        a.add_bundle(&b.bundle(with_one_time_prekey).unwrap()).unwrap();
        let first = a.send(&b.agent_id(), b"to the lost store").unwrap();
        assert_eq!(b.receive(&first).unwrap().plaintext[..], b"to the lost store"[..]);
        drop(b);
        let mut b2 = Agent::open_with_seed(None, key(), AgentConfig::default(), &[0x5E; 32]).unwrap();
        assert_eq!(b2.agent_id(), a.peers()[0]);
        assert_eq!(b2.receive(&first).unwrap_err(), Error::UnknownPrekey);
        assert_eq!(b2.session_count(), 0);
        let mut c = mem();
        introduce(&mut c, &mut b2);
        let hello = c.send(&b2.agent_id(), b"new bundle").unwrap();
        assert_eq!(b2.receive(&hello).unwrap().plaintext[..], b"new bundle"[..]);
    }
}

#[test]
fn an_expired_bundle_is_refused_by_the_agent() {
    let (mut a, mut b) = (mem(), mem());
    // A bundle whose signed expiry has passed (as a relay serving an old bundle would hand out)
    // is refused; a fresh one is taken.
    let mut old = Identity::generate().unwrap();
    let expired = old.bundle_at(false, 1_000_000, 3600).unwrap().to_bytes();
    assert_eq!(a.add_bundle(&expired).unwrap_err(), Error::ExpiredBundle);
    introduce(&mut a, &mut b);
    assert!(a.send(&b.agent_id(), b"fresh").is_ok());
}
