//! A store commit that fails leaves the agent as it was: every call computes its changes on
//! copies, commits, and only then replaces its in-memory state (section 11.8). Each test makes
//! one call's commit fail, checks the error and that nothing visible changed, then repeats the
//! call and checks that it now does what it should (so a refused envelope can be delivered
//! again, and a failed send made again).

use super::*;
use crate::store::TestFailure;

fn mem() -> Agent {
    Agent::open(None, StorageKey::from_bytes([0x21; 32]), AgentConfig::default()).unwrap()
}

fn introduce(a: &mut Agent, b: &mut Agent) {
    let bundle = b.bundle(true).unwrap();
    a.add_bundle(&bundle).unwrap();
}

/// Delivers `from`'s whole outbox to `to`.
fn pump(from: &mut Agent, to: &mut Agent) {
    while let Some(OutboxEntry { seq, envelope: env, .. }) = from.outbox_next() {
        let env = env.to_vec();
        to.receive(&env).unwrap();
        from.outbox_done(seq).unwrap();
    }
}

/// Runs `call` with the next commit failing; it must fail with `StoreFailed`.
fn failing<T: core::fmt::Debug>(agent: &mut Agent, call: impl FnOnce(&mut Agent) -> Result<T>) {
    agent.store.fail_next_commit = Some(TestFailure::Statement);
    assert_eq!(call(agent).unwrap_err(), Error::StoreFailed);
    assert!(agent.store.fail_next_commit.is_none(), "the call reached its commit");
}

/// Two agents with an active session and a group of the two.
fn pair_with_group() -> (Agent, Agent, [u8; GROUP_ID_LEN]) {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let first = a.send(&b.agent_id(), b"hi").unwrap();
    b.receive(&first).unwrap();
    let reply = b.send(&a.agent_id(), b"hello").unwrap();
    a.receive(&reply).unwrap();
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    pump(&mut a, &mut b);
    pump(&mut b, &mut a);
    (a, b, gid)
}

#[test]
fn a_first_message_whose_commit_fails_can_be_received_again() {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let first = a.send(&b.agent_id(), b"first").unwrap();
    let prekeys = b.identity.one_time_prekey_count();
    failing(&mut b, |b| b.receive(&first));
    assert_eq!(b.session_count(), 0);
    assert_eq!(b.identity.one_time_prekey_count(), prekeys, "the one-time prekey is kept");
    let ev = b.receive(&first).unwrap();
    assert_eq!((&ev.plaintext[..], ev.new_session), (&b"first"[..], true));
    assert_eq!(b.identity.one_time_prekey_count(), prekeys - 1);
}

#[test]
fn a_message_whose_commit_fails_can_be_received_again() {
    let (mut a, mut b, gid) = pair_with_group();
    let m = a.send(&b.agent_id(), b"pairwise").unwrap();
    failing(&mut b, |b| b.receive(&m));
    assert_eq!(b.receive(&m).unwrap().plaintext[..], b"pairwise"[..]);
    assert_eq!(b.receive(&m).unwrap_err(), Error::Duplicate);
    let g = a.group_send(&gid, b"group").unwrap();
    failing(&mut b, |b| b.receive(&g));
    assert_eq!(b.receive(&g).unwrap().plaintext[..], b"group"[..]);
    assert_eq!(b.receive(&g).unwrap_err(), Error::Duplicate);
}

#[test]
fn a_distribution_whose_commit_fails_creates_nothing_and_can_be_received_again() {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    let env = a.outbox_next().unwrap().envelope.to_vec();
    failing(&mut b, |b| b.receive(&env));
    assert!(b.groups().is_empty());
    assert_eq!(b.outbox_len(), 0, "no answer queued");
    assert!(b.receive(&env).unwrap().new_group);
    assert_eq!(b.outbox_len(), 1);
}

#[test]
fn sends_whose_commit_fails_return_nothing_and_the_next_ones_are_read() {
    // The failed send's message key is used again by the next send: its envelope never left
    // the call, so that is no reuse, and the receiver sees no gap (no skipped key).
    let (mut a, mut b, gid) = pair_with_group();
    let skipped = |b: &Agent| {
        let sid = b.primary_session_id(&a_id(&b.peers())).unwrap();
        b.sessions[&sid].skipped_key_count().unwrap()
    };
    failing(&mut a, |a| a.send(&b.agent_id(), b"lost"));
    let m = a.send(&b.agent_id(), b"kept").unwrap();
    assert_eq!(b.receive(&m).unwrap().plaintext[..], b"kept"[..]);
    assert_eq!(skipped(&b), 0);
    failing(&mut a, |a| a.group_send(&gid, b"lost"));
    let g = a.group_send(&gid, b"kept").unwrap();
    assert_eq!(b.receive(&g).unwrap().plaintext[..], b"kept"[..]);
    assert_eq!(b.groups[&gid].skipped_key_count(&a.agent_id()), Some(0));
    let g = a.group_send(&gid, b"next").unwrap();
    assert_eq!(b.receive(&g).unwrap().plaintext[..], b"next"[..]);
}

/// The only peer in `peers`.
fn a_id(peers: &[AgentId]) -> AgentId {
    assert_eq!(peers.len(), 1);
    peers[0]
}

#[test]
fn group_changes_whose_commit_fails_change_nothing() {
    let (mut a, mut b, gid) = pair_with_group();
    let c = mem();
    let mut c = c;
    introduce(&mut a, &mut c);
    let members = a.group_members(&gid).unwrap();
    failing(&mut a, |a| a.group_add(&gid, &c.agent_id()));
    assert_eq!((a.group_members(&gid).unwrap(), a.outbox_len()), (members.clone(), 0));
    failing(&mut a, |a| a.group_remove(&gid, &b.agent_id()));
    assert_eq!((a.group_members(&gid).unwrap(), a.outbox_len()), (members.clone(), 0));
    // Our key did not rotate: b still reads us.
    let g = a.group_send(&gid, b"same key").unwrap();
    assert_eq!(b.receive(&g).unwrap().plaintext[..], b"same key"[..]);
    failing(&mut a, |a| a.group_leave(&gid));
    assert_eq!(a.group_members(&gid).unwrap(), members);
    failing(&mut a, |a| a.group_create());
    assert_eq!(a.groups(), vec![gid]);
    // Done for real.
    a.group_add(&gid, &c.agent_id()).unwrap();
    a.group_remove(&gid, &b.agent_id()).unwrap();
    assert_eq!(a.group_members(&gid).unwrap(), vec![c.agent_id()]);
    a.group_leave(&gid).unwrap();
    assert!(a.groups().is_empty());
}

#[test]
fn outbox_bundle_and_maintenance_whose_commit_fails_change_nothing() {
    let (mut a, mut b) = (mem(), mem());
    introduce(&mut a, &mut b);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    failing(&mut a, |a| a.outbox_done(a.outbox_next().unwrap().seq));
    assert_eq!(a.outbox_len(), 1);
    a.outbox_done(a.outbox_next().unwrap().seq).unwrap();
    assert_eq!(a.outbox_len(), 0);

    let unpublished = a.identity.unpublished_one_time_prekey_count();
    failing(&mut a, |a| a.bundle(true));
    assert_eq!(a.identity.unpublished_one_time_prekey_count(), unpublished, "no prekey handed out");
    a.bundle(true).unwrap();
    assert_eq!(a.identity.unpublished_one_time_prekey_count(), unpublished - 1);

    let spk = a.identity.signed_prekey_id();
    let later = a.meta.now + 365 * 24 * 3600;
    failing(&mut a, |a| a.maintain(later));
    assert_eq!(a.identity.signed_prekey_id(), spk, "not rotated");
    assert!(a.maintain(later).unwrap().rotated_signed_prekey);
    assert_ne!(a.identity.signed_prekey_id(), spk);
}

#[test]
fn after_a_failed_commit_statement_the_agent_writes_nothing_more_until_reopened() {
    // The COMMIT itself failed: the transaction may be durable. Suppose it was: `a`'s outbox
    // holds a distribution sealed under its next pairwise message key. Were `a` to go on from its
    // in-memory state, its next message would be sealed under the same key, and both would
    // leave. So nothing more is written, and nothing more leaves.
    let (mut a, mut b, gid) = pair_with_group();
    let mut c = mem();
    introduce(&mut a, &mut c);
    a.store.fail_next_commit = Some(TestFailure::Commit);
    assert_eq!(a.group_add(&gid, &c.agent_id()).unwrap_err(), Error::StoreFailed);
    assert_eq!(a.send(&b.agent_id(), b"would reuse a key").unwrap_err(), Error::StoreFailed);
    assert_eq!(a.group_send(&gid, b"x").unwrap_err(), Error::StoreFailed);
    let m = b.send(&a.agent_id(), b"to a").unwrap();
    assert_eq!(a.receive(&m).unwrap_err(), Error::StoreFailed, "no plaintext without its state");
    assert_eq!(a.group_create().unwrap_err(), Error::StoreFailed);
    // What only reads memory still answers.
    assert_eq!(a.group_members(&gid).unwrap(), vec![b.agent_id()]);
    assert_eq!(a.outbox_len(), 0);
    // `b` is not affected.
    b.group_send(&gid, b"fine").unwrap();
}

#[test]
fn secret_changes_whose_commit_fails_change_nothing() {
    let mut a = mem();
    let held =
        |a: &Agent| a.secret_labels().into_iter().map(|l| (a.secret(&l).unwrap(), l)).collect::<Vec<_>>();
    failing(&mut a, |a| a.set_secret("net", b"first"));
    assert!(held(&a).is_empty());
    a.set_secret("net", b"first").unwrap();
    let before = held(&a);
    failing(&mut a, |a| a.set_secret("net", b"second"));
    assert_eq!(held(&a), before, "not replaced");
    failing(&mut a, |a| a.remove_secret("net"));
    assert_eq!(held(&a), before, "not removed");
    a.set_secret("net", b"second").unwrap();
    assert_eq!(a.secret("net").unwrap()[..], b"second"[..]);
    a.remove_secret("net").unwrap();
    assert!(held(&a).is_empty());
    // After a COMMIT whose outcome is unknown, nothing more is written.
    a.store.fail_next_commit = Some(TestFailure::Commit);
    assert_eq!(a.set_secret("net", b"x").unwrap_err(), Error::StoreFailed);
    assert_eq!(a.set_secret("net", b"x").unwrap_err(), Error::StoreFailed);
    assert_eq!(a.secret("net"), None);
}
