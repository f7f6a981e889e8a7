//! The README's two quick starts, compiled and run so that they stay true.
//!
//! Run: `cargo run --example quickstart`

use dmp::{Agent, AgentConfig, Identity, OutboxEntry, PrekeyBundle, Session, SessionConfig, StorageKey};

fn sessions() -> Result<(), dmp::Error> {
    let alice = Identity::generate()?;
    let mut bob = Identity::generate()?;
    let published: Vec<u8> = bob.bundle(true)?.to_bytes(); // Bob publishes this

    let bundle = PrekeyBundle::from_bytes(&published)?; // verified before use
    let mut a = Session::initiate(alice.keys(), &bundle, SessionConfig::default())?;
    let first = a.encrypt(b"hello")?; // Bob may be offline

    let (mut b, text) = Session::accept(&mut bob, &first, SessionConfig::default())?;
    assert_eq!(text, b"hello");
    let reply = b.encrypt(b"hi")?;
    assert_eq!(a.decrypt(&reply)?, b"hi"); // both sides ACTIVE now
    Ok(())
}

fn agents() -> Result<(), dmp::Error> {
    let dir = std::env::temp_dir().join(format!("dmp-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|_| dmp::Error::StoreFailed)?;
    let key = StorageKey::from_bytes([7; 32]); // keep it secret
    let mut planner = Agent::open(Some(&dir.join("planner.db")), key.clone(), AgentConfig::default())?;
    let mut worker = Agent::open(None, key, AgentConfig::default())?; // in memory

    let worker_id = planner.add_bundle(&worker.bundle(true)?)?;
    let envelope = planner.send(&worker_id, b"task 1")?; // saved before it is returned
    let event = worker.receive(&envelope)?; // any envelope: pairwise or group
    assert_eq!(&event.plaintext[..], b"task 1");

    let group = planner.group_create()?;
    planner.group_add(&group, &worker_id)?; // sender key queued in the outbox
    while let Some(OutboxEntry { seq, peer: to, envelope: env }) = planner.outbox_next() {
        let env = env.to_vec();
        assert_eq!(to, worker_id); // send `env` to `to` over your transport
        let invitation = worker.receive(&env)?;
        // A new group: check that its inviter is one you expect, else `worker.group_leave`.
        assert!(invitation.new_group && invitation.peer == planner.agent_id());
        planner.outbox_done(seq)?;
    }
    let broadcast = planner.group_send(&group, b"to everyone")?;
    assert_eq!(&worker.receive(&broadcast)?.plaintext[..], b"to everyone");
    drop(planner);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() -> Result<(), dmp::Error> {
    sessions()?;
    agents()?;
    println!("quickstart: both README examples ran");
    Ok(())
}
