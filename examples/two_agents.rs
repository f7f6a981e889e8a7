//! Two agents set up a DMP session and talk, printing the session lifecycle as it goes.
//!
//! Run: `cargo run --example two_agents`

use dmp::{Identity, PrekeyBundle, Session, SessionConfig, StorageKey};

fn main() -> Result<(), dmp::Error> {
    let planner = Identity::generate()?;
    let mut worker = Identity::generate()?;
    worker.generate_one_time_prekeys(4)?;
    println!("planner  id {}", planner.agent_id().fingerprint());
    println!("worker   id {}", worker.agent_id().fingerprint());

    // The worker publishes a bundle; the planner verifies it and starts a session while the
    // worker is offline.
    let published = worker.bundle(true)?.to_bytes();
    println!("worker publishes a prekey bundle ({} bytes)", published.len());
    let bundle = PrekeyBundle::from_bytes(&published)?;
    let mut planner_session = Session::initiate(planner.keys(), &bundle, SessionConfig::default())?;
    println!("planner  session {:?}", planner_session.state());

    let first = planner_session.encrypt(b"task 1: summarise the logs")?;
    let second = planner_session.encrypt(b"task 2: report anomalies")?;
    println!(
        "planner  session {:?} (2 messages queued, {} and {} bytes)",
        planner_session.state(),
        first.len(),
        second.len()
    );

    // The worker comes online; the second message happens to arrive first.
    let (mut worker_session, text) = Session::accept(&mut worker, &second, SessionConfig::default())?;
    println!("worker   session {:?} <- {:?}", worker_session.state(), String::from_utf8_lossy(&text));
    let text = worker_session.decrypt(&first)?;
    println!("worker   <- {:?} (out of order)", String::from_utf8_lossy(&text));

    // A replay is refused with its own error, and changes nothing.
    match worker_session.decrypt(&first) {
        Err(e) => println!("worker   replay refused: {} ({})", e.name(), e.code()),
        Ok(_) => unreachable!("a replay must be refused"),
    }

    let reply = worker_session.encrypt(b"ack: both tasks accepted")?;
    let text = planner_session.decrypt(&reply)?;
    println!("planner  session {:?} <- {:?}", planner_session.state(), String::from_utf8_lossy(&text));

    // The worker restarts: its session is saved encrypted and restored.
    let storage_key = StorageKey::from_bytes([7; 32]);
    let saved = worker_session.to_sealed(&storage_key)?;
    let mut worker_session = Session::from_sealed(&saved, &storage_key)?;
    println!("worker   restored from {} bytes of encrypted state", saved.len());

    for i in 0..3 {
        let m = planner_session.encrypt(format!("status {i}?").as_bytes())?;
        worker_session.decrypt(&m)?;
        let r = worker_session.encrypt(format!("status {i}: ok").as_bytes())?;
        println!("planner  <- {:?}", String::from_utf8_lossy(&planner_session.decrypt(&r)?));
    }

    planner_session.close()?;
    worker_session.close()?;
    println!("planner  session {:?}, worker session {:?}", planner_session.state(), worker_session.state());
    Ok(())
}
