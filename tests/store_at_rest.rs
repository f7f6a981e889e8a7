//! The store at rest: what its files show to someone who copies them, with or without the
//! storage key (docs/PROTOCOL.md section 11.8, docs/SECURITY.md "State at rest").

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use dmp::{Agent, AgentConfig, AgentId, Error, StorageKey};

mod common;
use common::{memory_agent as mem, storage_key as key, temp_dir};

fn side(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

fn introduce(a: &mut Agent, b: &mut Agent) {
    let bundle = b.bundle(true).unwrap();
    a.add_bundle(&bundle).unwrap();
}

/// Delivers `from`'s outbox to whichever of `to` each envelope is for.
fn pump(from: &mut Agent, to: &mut [&mut Agent]) {
    while let Some(entry) = from.outbox_next() {
        let (seq, peer, env) = (entry.seq, entry.peer, entry.envelope.to_vec());
        let dest = to.iter_mut().find(|x| x.agent_id() == peer).unwrap();
        dest.receive(&env).unwrap();
        from.outbox_done(seq).unwrap();
    }
}

/// Every byte of the store's files as they are on disk now: the database, its WAL, shared-memory
/// and rollback journal files (those that exist).
fn image(db: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let Ok(bytes) = std::fs::read(side(db, suffix)) {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// The sealed values of every row of the store as its live files give them (the agent still
/// has it open): the files are copied aside and read there, WAL included.
fn current_values(db: &Path, scratch: &Path) -> HashSet<Vec<u8>> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let copy = scratch.join("copy.db");
    std::fs::copy(db, &copy).unwrap();
    if side(db, "-wal").exists() {
        std::fs::copy(side(db, "-wal"), side(&copy, "-wal")).unwrap();
    }
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let mut st = conn.prepare("SELECT value FROM records").unwrap();
    st.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap().map(|r| r.unwrap()).collect()
}

const PROBE: usize = 32;

/// 32-byte probes of a sealed value, one every 32 bytes after its two header bytes: the first
/// holds its random nonce, so each probe belongs to this one seal. A probe is found in an image
/// if that stretch of the record survives there.
fn probes(value: &[u8]) -> Vec<[u8; PROBE]> {
    value[2..].chunks_exact(PROBE).map(|c| c.try_into().unwrap()).collect()
}

/// The old values of which some probe is in `image`.
fn survivors<'a>(image: &[u8], old: &'a [Vec<u8>]) -> Vec<&'a Vec<u8>> {
    let mut by_prefix: HashMap<u64, Vec<(usize, [u8; PROBE])>> = HashMap::new();
    for (i, v) in old.iter().enumerate() {
        for p in probes(v) {
            by_prefix.entry(u64::from_le_bytes(p[..8].try_into().unwrap())).or_default().push((i, p));
        }
    }
    let mut found = HashSet::new();
    for w in image.windows(PROBE) {
        if let Some(cands) = by_prefix.get(&u64::from_le_bytes(w[..8].try_into().unwrap())) {
            for (i, p) in cands {
                if w == p {
                    found.insert(*i);
                }
            }
        }
    }
    let mut found: Vec<usize> = found.into_iter().collect();
    found.sort();
    found.into_iter().map(|i| &old[i]).collect()
}

/// Forward secrecy at rest: two persistent agents exchange messages over many ratchet steps,
/// with messages out of order so that skipped keys make session records span several pages.
/// After every call that returns, the files of each store hold no record that is no longer
/// current: no older session state (which would decrypt messages the agent read and erased its
/// keys for), no older peer, group or meta record, no outbox entry already sent.
#[test]
fn no_older_record_survives_in_the_store_files_after_a_call_returns() {
    let dir = temp_dir("fs");
    let (pa, pb) = (dir.join("a.db"), dir.join("b.db"));
    let mut a = Agent::open(Some(&pa), key(), AgentConfig::default()).unwrap();
    let mut b = Agent::open(Some(&pb), key(), AgentConfig::default()).unwrap();
    let mut c = mem();
    introduce(&mut a, &mut b);
    introduce(&mut a, &mut c);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    a.group_add(&gid, &c.agent_id()).unwrap();
    pump(&mut a, &mut [&mut b, &mut c]);
    pump(&mut b, &mut [&mut a]);
    pump(&mut c, &mut [&mut a]);

    let mut history: HashMap<PathBuf, Vec<Vec<u8>>> = HashMap::new();
    let mut check = |path: &Path, step: &str| {
        let now = current_values(path, &dir.join("scratch"));
        let seen = history.entry(path.to_path_buf()).or_default();
        let old: Vec<Vec<u8>> = seen.iter().filter(|v| !now.contains(*v)).cloned().collect();
        let left = survivors(&image(path), &old);
        assert!(
            left.is_empty(),
            "{step}: {} of {} older records of {} still in its files (kinds {:?})",
            left.len(),
            old.len(),
            path.display(),
            left.iter().map(|v| v[1]).collect::<Vec<_>>()
        );
        for v in now {
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
    };
    check(&pa, "set-up");
    check(&pb, "set-up");
    let (ida, idb) = (a.agent_id(), b.agent_id());
    for step in 0..10 {
        // A DH ratchet step each way, with one message of each burst held back (a skipped key).
        let burst: Vec<Vec<u8>> =
            (0..4).map(|i| a.send(&idb, format!("a{step}.{i}").as_bytes()).unwrap()).collect();
        for env in [&burst[3], &burst[0], &burst[2]] {
            b.receive(env).unwrap();
            check(&pb, &format!("step {step}: b received"));
        }
        check(&pa, &format!("step {step}: a sent"));
        let back: Vec<Vec<u8>> =
            (0..3).map(|i| b.send(&ida, format!("b{step}.{i}").as_bytes()).unwrap()).collect();
        for env in [&back[2], &back[0]] {
            a.receive(env).unwrap();
        }
        check(&pa, &format!("step {step}: a received"));
        check(&pb, &format!("step {step}: b sent"));
        let g = b.group_send(&gid, format!("g{step}").as_bytes()).unwrap();
        a.receive(&g).unwrap();
        check(&pa, &format!("step {step}: a received a group message"));
    }
    // The skipped keys held back are still there: the records checked were the real ones.
    assert!(history[&pa].len() > 30 && history[&pb].len() > 30);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A persistent agent with two peers, a group with both, and something in its outbox.
fn agent_with_contacts(path: &Path) -> (Agent, Vec<AgentId>, [u8; 32], Vec<[u8; 8]>) {
    let mut a = Agent::open(Some(path), key(), AgentConfig::default()).unwrap();
    let (mut b, mut c) = (mem(), mem());
    introduce(&mut a, &mut b);
    introduce(&mut a, &mut c);
    let gid = a.group_create().unwrap();
    a.group_add(&gid, &b.agent_id()).unwrap();
    a.group_add(&gid, &c.agent_id()).unwrap();
    pump(&mut a, &mut [&mut b, &mut c]);
    pump(&mut b, &mut [&mut a]);
    pump(&mut c, &mut [&mut a]);
    a.receive(&b.send(&a.agent_id(), b"hello").unwrap()).unwrap();
    a.group_send(&gid, b"queued? no: returned").unwrap();
    let sids = [b.agent_id(), c.agent_id()].iter().map(|p| a.primary_session_id(p).unwrap()).collect();
    (a, vec![b.agent_id(), c.agent_id()], gid, sids)
}

/// The store's files show no contact, group or session of the agent without the storage key:
/// no peer's agent id, group id or session id, raw or in hexadecimal, and no row named in clear.
#[test]
fn the_store_files_name_no_peer_group_or_session_in_clear() {
    let dir = temp_dir("names");
    let p = dir.join("a.db");
    let (a, peers, gid, sids) = agent_with_contacts(&p);
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for id in &peers {
        secrets.push(id.to_bytes().to_vec());
        secrets.push(hex(&id.to_bytes()).into_bytes());
    }
    secrets.push(gid.to_vec());
    secrets.push(hex(&gid).into_bytes());
    for s in &sids {
        secrets.push(s.to_vec());
        secrets.push(hex(s).into_bytes());
    }
    let words: [&[u8]; 6] = [b"peer/", b"member/", b"session/", b"group/", b"outbox/", b"identity"];
    let look = |when: &str| {
        let img = image(&p);
        for s in &secrets {
            assert!(!contains(&img, s), "{when}: {} found in the files", String::from_utf8_lossy(s));
        }
        for w in words {
            assert!(!contains(&img, w), "{when}: {} found in the files", String::from_utf8_lossy(w));
        }
    };
    look("open");
    drop(a);
    look("closed");
    // Every row is a 32-byte id and a sealed name: nothing readable.
    let db = rusqlite::Connection::open(&p).unwrap();
    let mut st = db.prepare("SELECT id, name FROM records").unwrap();
    let rows: Vec<(Vec<u8>, Vec<u8>)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
    assert!(rows.len() >= 8, "identity, meta, 2 peers, 2 sessions, a group head, 2 members");
    for (id, name) in &rows {
        assert_eq!(id.len(), 32);
        assert!(name.len() >= 24 + 16, "a nonce, the name, a tag");
    }
    let ids: HashSet<&Vec<u8>> = rows.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), rows.len());
}

/// Opens the store at `path` after `sql` ran on it; the agent must refuse it with `err`, and
/// open again once `undo` ran.
fn refused_after(path: &Path, sql: &str, undo: &str, err: Error) {
    rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
    assert_eq!(Agent::open(Some(path), key(), AgentConfig::default()).unwrap_err(), err, "{sql}");
    rusqlite::Connection::open(path).unwrap().execute_batch(undo).unwrap();
    drop(Agent::open(Some(path), key(), AgentConfig::default()).unwrap());
}

#[test]
fn a_wrong_key_a_tampered_row_name_or_swapped_names_are_refused() {
    let dir = temp_dir("tamper");
    let p = dir.join("a.db");
    drop(agent_with_contacts(&p).0);
    assert_eq!(
        Agent::open(Some(&p), StorageKey::from_bytes([0x44; 32]), AgentConfig::default()).unwrap_err(),
        Error::WrongStorageKey
    );
    // A row id changed (its last byte flipped), then put back.
    refused_after(
        &p,
        "CREATE TABLE saved AS SELECT rowid AS r, id FROM records WHERE rowid = (SELECT max(rowid) FROM records);
         UPDATE records SET id = zeroblob(32) WHERE rowid = (SELECT r FROM saved);",
        "UPDATE records SET id = (SELECT id FROM saved) WHERE rowid = (SELECT r FROM saved); DROP TABLE saved;",
        Error::WrongStorageKey,
    );
    // Two rows' sealed names swapped, then swapped back.
    let swap = "CREATE TEMP TABLE two AS SELECT rowid AS r, name FROM records ORDER BY rowid LIMIT 2;
         UPDATE records SET name = (SELECT name FROM two WHERE r != records.rowid)
          WHERE rowid IN (SELECT r FROM two);";
    rusqlite::Connection::open(&p).unwrap().execute_batch(swap).unwrap();
    assert_eq!(Agent::open(Some(&p), key(), AgentConfig::default()).unwrap_err(), Error::WrongStorageKey);
    rusqlite::Connection::open(&p).unwrap().execute_batch(swap).unwrap();
    drop(Agent::open(Some(&p), key(), AgentConfig::default()).unwrap());
    // Two peers' records swapped between their rows: each record's AD names its own row.
    refused_after(
        &p,
        "CREATE TABLE saved AS SELECT rowid AS r, value FROM records WHERE kind = 5 ORDER BY rowid LIMIT 2;
         UPDATE records SET value = (SELECT value FROM saved WHERE r != records.rowid)
          WHERE rowid IN (SELECT r FROM saved);",
        "UPDATE records SET value = (SELECT value FROM saved WHERE r = records.rowid)
          WHERE rowid IN (SELECT r FROM saved); DROP TABLE saved;",
        Error::WrongStorageKey,
    );
}

#[cfg(unix)]
#[test]
fn the_store_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("modes");
    let p = dir.join("a.db");
    let (a, _, _, _) = agent_with_contacts(&p);
    let mut found = 0;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let Ok(m) = std::fs::metadata(side(&p, suffix)) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{suffix}");
            found += 1;
        }
    }
    assert!(found >= 1);
    drop(a);
    assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
}
