//! What strangers can make an agent keep, and the calls that let the application decide: the
//! bound on strangers, replay protection per signed prekey, candidate sessions, close and forget,
//! unanswered sessions, signing as the agent, one-time prekeys as records of their own.

use dmp::agent::payload;
use dmp::limits::{MAX_FIRST_MESSAGES_PER_PREKEY, MAX_STRANGERS};
use dmp::{Agent, AgentConfig, AgentId, Error, Identity, PrekeyBundle, Session, SessionConfig, Suite};

mod common;
use common::{memory_agent as mem, storage_key as key, temp_dir};

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A throwaway identity's first message to `bundle` (a HELLO, as `Agent::connect` sends), and
/// the identity's id.
fn stranger_hello(bundle: &PrekeyBundle) -> (AgentId, Vec<u8>) {
    let id = Identity::generate_with(Suite::Classical).unwrap();
    let mut s = Session::initiate(id.keys(), bundle, SessionConfig::default()).unwrap();
    (id.agent_id(), s.encrypt(&[payload::HELLO]).unwrap())
}

/// `a` and `b` introduced and answered both ways: each accepted by the other.
fn friends(a: &mut Agent, b: &mut Agent) {
    a.add_bundle(&b.bundle(true).unwrap()).unwrap();
    b.receive(&a.send(&b.agent_id(), b"hi").unwrap()).unwrap();
    a.receive(&b.send(&a.agent_id(), b"hello").unwrap()).unwrap();
}

#[test]
fn strangers_are_bounded_and_never_push_out_an_accepted_peer() {
    let (mut a, mut friend) = (mem(), mem());
    friends(&mut a, &mut friend);
    let bundle = PrekeyBundle::from_bytes(&a.bundle(false).unwrap()).unwrap();
    let mut first = None;
    for _ in 0..MAX_STRANGERS + 50 {
        let (id, hello) = stranger_hello(&bundle);
        let ev = a.receive(&hello).unwrap();
        assert!(ev.new_session);
        assert!(!a.is_accepted(&id).unwrap(), "a peer known only from its first message is a stranger");
        first.get_or_insert(id);
    }
    assert_eq!(a.peers().len(), MAX_STRANGERS + 1, "the friend and the bound's worth of strangers");
    assert_eq!(a.session_count(), MAX_STRANGERS + 1);
    // The least recently used strangers made room; the friend is untouched.
    assert_eq!(a.is_accepted(&first.unwrap()).unwrap_err(), Error::NoSession);
    assert!(a.is_accepted(&friend.agent_id()).unwrap());
    let m = friend.send(&a.agent_id(), b"still here").unwrap();
    assert_eq!(a.receive(&m).unwrap().plaintext[..], b"still here"[..]);
}

#[test]
fn idle_strangers_are_pruned_and_accepted_peers_survive_maintenance_and_reopening() {
    let path = temp_dir("prune").join("a.db");
    let (friend_id, kept_id);
    {
        let mut a = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
        let mut friend = mem();
        friend_id = friend.agent_id();
        friends(&mut a, &mut friend);
        let bundle = PrekeyBundle::from_bytes(&a.bundle(false).unwrap()).unwrap();
        for _ in 0..300 {
            a.receive(&stranger_hello(&bundle).1).unwrap();
        }
        // One stranger the application chose to keep.
        let (id, hello) = stranger_hello(&bundle);
        a.receive(&hello).unwrap();
        a.accept_peer(&id).unwrap();
        kept_id = id;
        assert_eq!(a.peers().len(), 302);
        let done = a.maintain(now() + 10 * 365 * 24 * 3600).unwrap();
        assert_eq!(done.strangers_dropped, 300);
        assert_eq!(a.peers().len(), 2);
    }
    let a = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
    let mut expected = vec![friend_id, kept_id];
    expected.sort_by_key(|id| id.to_bytes());
    assert_eq!(a.peers(), expected);
    assert_eq!(a.session_count(), 2);
    assert!(a.is_accepted(&kept_id).unwrap());
}

#[test]
fn a_flood_of_first_messages_cannot_flush_the_replay_protection_and_fills_only_its_own_prekey() {
    let mut a = mem();
    let published = a.bundle(false).unwrap();
    let bundle = PrekeyBundle::from_bytes(&published).unwrap();
    let first_prekey = bundle.fields().signed_prekey_id;
    // The victim's first message, made without a one-time prekey: only the agent's memory of it
    // stops a replay. The victim then starts four newer sessions, so the first one is dropped.
    let victim = Identity::generate_with(Suite::Classical).unwrap();
    let mut s = Session::initiate(victim.keys(), &bundle, SessionConfig::default()).unwrap();
    let recorded = s.encrypt(&payload::frame(payload::APP, b"pay 10")).unwrap();
    assert_eq!(a.receive(&recorded).unwrap().plaintext[..], b"pay 10"[..]);
    for _ in 0..dmp::agent::MAX_SESSIONS_PER_PEER {
        let mut s = Session::initiate(victim.keys(), &bundle, SessionConfig::default()).unwrap();
        a.receive(&s.encrypt(&[payload::HELLO]).unwrap()).unwrap();
    }
    // An attacker floods first messages from one throwaway identity, up to the prekey's bound.
    let attacker = Identity::generate_with(Suite::Classical).unwrap();
    let flood = MAX_FIRST_MESSAGES_PER_PREKEY - 1 - dmp::agent::MAX_SESSIONS_PER_PEER;
    for _ in 0..flood {
        let mut s = Session::initiate(attacker.keys(), &bundle, SessionConfig::default()).unwrap();
        a.receive(&s.encrypt(&[payload::HELLO]).unwrap()).unwrap();
    }
    assert_eq!(
        a.receive(&recorded).unwrap_err(),
        Error::Duplicate,
        "the victim's first message is still remembered"
    );
    // The set of the first prekey is full: it was rotated at once, and takes no new session.
    let now_bundle = PrekeyBundle::from_bytes(&a.bundle(false).unwrap()).unwrap();
    assert_ne!(now_bundle.fields().signed_prekey_id, first_prekey);
    let mut late = Session::initiate(attacker.keys(), &bundle, SessionConfig::default()).unwrap();
    let sessions = a.session_count();
    assert_eq!(a.receive(&late.encrypt(&[payload::HELLO]).unwrap()).unwrap_err(), Error::UnknownPrekey);
    assert_eq!(a.session_count(), sessions, "a refused first message changes nothing");
    assert_eq!(a.receive(&recorded).unwrap_err(), Error::Duplicate);
    // The new prekey takes new sessions.
    let (_, hello) = stranger_hello(&now_bundle);
    assert!(a.receive(&hello).unwrap().new_session);
}

#[test]
fn close_session_erases_the_sessions_and_the_next_send_starts_afresh() {
    let (mut a, mut b) = (mem(), mem());
    friends(&mut a, &mut b);
    let old = a.primary_session_id(&b.agent_id()).unwrap();
    let in_flight = b.send(&a.agent_id(), b"in flight").unwrap();
    a.close_session(&b.agent_id()).unwrap();
    assert_eq!(a.session_count(), 0);
    assert_eq!(a.session_state(&b.agent_id()).unwrap_err(), Error::NoSession);
    assert_eq!(a.receive(&in_flight).unwrap_err(), Error::WrongSession, "its keys are gone");
    assert_eq!(a.close_session(&b.agent_id()).unwrap_err(), Error::NoSession);
    // The bundle it was started from carried a one-time prekey: it is spent.
    assert_eq!(a.send(&b.agent_id(), b"x").unwrap_err(), Error::NoSession);
    // With a fresh bundle the next send starts a new session. B's answered session stays its
    // primary until A's second message on the new one.
    a.add_bundle(&b.bundle(true).unwrap()).unwrap();
    let m1 = a.send(&b.agent_id(), b"new 1").unwrap();
    assert_ne!(a.primary_session_id(&b.agent_id()).unwrap(), old);
    assert!(b.receive(&m1).unwrap().new_session);
    assert_eq!(b.primary_session_id(&a.agent_id()).unwrap(), old);
    let m2 = a.send(&b.agent_id(), b"new 2").unwrap();
    b.receive(&m2).unwrap();
    assert_eq!(b.primary_session_id(&a.agent_id()), a.primary_session_id(&b.agent_id()));
    let r = b.send(&a.agent_id(), b"answer").unwrap();
    assert_eq!(a.receive(&r).unwrap().plaintext[..], b"answer"[..]);
}

#[test]
fn forget_peer_forgets_sessions_bundle_and_acceptance_durably() {
    let path = temp_dir("forget").join("a.db");
    let mut b = mem();
    let in_flight;
    {
        let mut a = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
        friends(&mut a, &mut b);
        in_flight = b.send(&a.agent_id(), b"in flight").unwrap();
        a.forget_peer(&b.agent_id()).unwrap();
        assert!(a.peers().is_empty());
        assert_eq!(a.send(&b.agent_id(), b"x").unwrap_err(), Error::NoSession, "the bundle is gone too");
        assert_eq!(a.forget_peer(&b.agent_id()).unwrap_err(), Error::NoSession);
        assert_eq!(a.accept_peer(&b.agent_id()).unwrap_err(), Error::NoSession);
    }
    let mut a = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
    assert!(a.peers().is_empty());
    assert_eq!(a.session_count(), 0);
    assert_eq!(a.receive(&in_flight).unwrap_err(), Error::WrongSession);
    assert_eq!(a.is_accepted(&b.agent_id()).unwrap_err(), Error::NoSession);
}

#[test]
fn sessions_left_unanswered_are_reported_until_answered() {
    let (mut a, mut b) = (mem(), mem());
    a.add_bundle(&b.bundle(true).unwrap()).unwrap();
    let m = a.send(&b.agent_id(), b"anyone?").unwrap();
    let t = now();
    let later = t + AgentConfig::default().unanswered_session_secs + 10;
    assert!(a.unanswered_peers(t).is_empty());
    assert_eq!(a.unanswered_peers(later), vec![b.agent_id()]);
    b.receive(&m).unwrap();
    a.receive(&b.send(&a.agent_id(), b"yes").unwrap()).unwrap();
    assert!(a.unanswered_peers(later).is_empty());
    // A session the peer started (we are the responder) is never "unanswered".
    assert!(b.unanswered_peers(later).is_empty());
    let mut c = mem();
    c.add_bundle(&a.bundle(true).unwrap()).unwrap();
    c.send(&a.agent_id(), b"hello?").unwrap();
    assert_eq!(c.maintain(later).unwrap().unanswered_sessions, 1);
}

#[test]
fn the_agent_signs_as_its_id_and_refuses_the_reserved_prefix() {
    let a = mem();
    let sig = a.sign(b"directory entry").unwrap();
    let vk = dmp::crypto::sign::VerifyingKey::from_bytes(&a.agent_id().to_bytes()).unwrap();
    vk.verify(b"directory entry", &sig).unwrap();
    assert!(vk.verify(b"directory entrY", &sig).is_err());
    assert_eq!(a.sign(b"DMP1 prekey bundle").unwrap_err(), Error::InvalidArgument);
    assert_eq!(a.sign(b"DMP").unwrap_err(), Error::InvalidArgument);
    assert!(a.sign(b"").is_ok());
}

/// (identity record, one-time prekey records) of a closed store, read by kind.
fn identity_rows(path: &std::path::Path) -> (Vec<u8>, usize) {
    let db = rusqlite::Connection::open(path).unwrap();
    let identity: Vec<u8> =
        db.query_row("SELECT value FROM records WHERE kind = 2", [], |r| r.get(0)).unwrap();
    let otks: i64 = db.query_row("SELECT COUNT(*) FROM records WHERE kind = 12", [], |r| r.get(0)).unwrap();
    (identity, otks as usize)
}

#[test]
fn a_first_message_deletes_its_one_time_prekey_record_and_leaves_the_identity_record_alone() {
    let path = temp_dir("otk").join("a.db");
    let (bundle, a_id);
    {
        let mut a = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
        bundle = a.bundle(true).unwrap();
        a_id = a.agent_id();
    }
    let (identity_before, otks_before) = identity_rows(&path);
    assert_eq!(otks_before, AgentConfig::default().one_time_prekey_target);
    let mut b = mem();
    b.add_bundle(&bundle).unwrap();
    let first = b.send(&a_id, b"hi").unwrap();
    {
        let mut a = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
        assert!(a.receive(&first).unwrap().new_session);
    }
    let (identity_after, otks_after) = identity_rows(&path);
    assert_eq!(identity_after, identity_before, "the identity record was not rewritten");
    assert_eq!(otks_after, otks_before - 1, "the used one-time prekey's record was deleted");
    // And the store opens with its prekeys intact: a new bundle still carries a one-time prekey.
    let mut a = Agent::open(Some(&path), key(), AgentConfig::default()).unwrap();
    assert_eq!(a.bundle(true).unwrap().len(), bundle.len());
}

#[test]
fn an_inviter_stays_a_stranger_and_leaving_its_group_lets_maintenance_drop_it() {
    let mut a = mem();
    for _ in 0..3 {
        let mut inviter = mem();
        inviter.add_bundle(&a.bundle(true).unwrap()).unwrap();
        let gid = inviter.group_create().unwrap();
        inviter.group_add(&gid, &a.agent_id()).unwrap();
        let invitation = inviter.outbox_next().unwrap().envelope.to_vec();
        let ev = a.receive(&invitation).unwrap();
        assert!(ev.new_group);
        // The agent's own answer does not accept the inviter.
        assert!(!a.is_accepted(&inviter.agent_id()).unwrap());
        a.group_leave(&gid).unwrap();
    }
    let done = a.maintain(now() + 10 * 365 * 24 * 3600).unwrap();
    assert_eq!(done.strangers_dropped, 3);
    assert!(a.peers().is_empty());
}

#[test]
fn a_strangers_session_keeps_few_skipped_keys_until_the_peer_is_accepted() {
    use dmp::limits::{STRANGER_MAX_FORWARD_JUMP, STRANGER_MAX_SKIPPED_KEYS};
    let mut a = mem();
    let bundle = PrekeyBundle::from_bytes(&a.bundle(false).unwrap()).unwrap();
    let id = Identity::generate_with(Suite::Classical).unwrap();
    let mut s = Session::initiate(id.keys(), &bundle, SessionConfig::default()).unwrap();
    let msgs: Vec<Vec<u8>> =
        (0..200).map(|i| s.encrypt(&payload::frame(payload::APP, &[i as u8])).unwrap()).collect();
    // A first message far into its chain is refused before anything is kept.
    let far = STRANGER_MAX_FORWARD_JUMP as usize + 1;
    assert_eq!(a.receive(&msgs[far]).unwrap_err(), Error::TooFarAhead);
    assert_eq!(a.session_count(), 0);
    // Within the jump it is taken; a second jump keeps at most STRANGER_MAX_SKIPPED_KEYS keys, so
    // the oldest skipped ones are gone.
    let (jump, cap) = (STRANGER_MAX_FORWARD_JUMP as usize, STRANGER_MAX_SKIPPED_KEYS as usize);
    a.receive(&msgs[jump]).unwrap();
    a.receive(&msgs[2 * jump]).unwrap();
    assert_eq!(a.receive(&msgs[0]).unwrap_err(), Error::Duplicate, "evicted under the stranger cap");
    assert_eq!(a.receive(&msgs[2 * jump - 1]).unwrap().plaintext[..], [(2 * jump - 1) as u8][..]);
    assert!(2 * jump - 1 - (jump + 1) < cap);
    assert_eq!(a.receive(&msgs[150]).unwrap_err(), Error::TooFarAhead);
    // Accepted, the peer's sessions take the configured limits: the same message is read.
    a.accept_peer(&id.agent_id()).unwrap();
    assert_eq!(a.receive(&msgs[150]).unwrap().plaintext[..], [150u8][..]);
    assert_eq!(a.receive(&msgs[100]).unwrap().plaintext[..], [100u8][..]);
}

#[test]
fn a_bundle_expires_no_later_than_its_signed_prekey_can_be_erased() {
    let period = 1_000;
    let config = AgentConfig { signed_prekey_rotation_secs: period, ..AgentConfig::default() };
    let mut a = Agent::open(None, key(), config).unwrap();
    let t = now();
    let fields = |b: &[u8]| PrekeyBundle::from_bytes(b).unwrap().fields().expires_at;
    // Just created (rotated at t): two periods from the prekey's rotation.
    let e = fields(&a.bundle(false).unwrap());
    assert!((t + 2 * period..=t + 2 * period + 5).contains(&e), "{e} vs {t}");
    // Rotated later (the agent's clock runs ahead): two periods from that rotation.
    assert!(a.maintain(t + 10 * period).unwrap().rotated_signed_prekey);
    assert_eq!(fields(&a.bundle(false).unwrap()), t + 12 * period);
}
