//! Application secrets in the agent's store (section 11.9, `secret/<label>`): set, read, replace,
//! remove; persisted and sealed; every bound refused with its code and nothing changed; damaged
//! stores refused.

use std::path::Path;

use dmp::limits::{MAX_AGENT_SECRETS, MAX_SECRET_LABEL_LEN, MAX_SECRET_LEN};
use dmp::state::{RecordKind, seal_record_named};
use dmp::store::{Change, Store};
use dmp::{Agent, AgentConfig, Error, StorageKey};

mod common;
use common::{memory_agent as mem, storage_key as key, temp_dir};

fn open(p: &Path) -> Result<Agent, Error> {
    Agent::open(Some(p), key(), AgentConfig::default())
}

/// Every secret the agent holds, label and value, in label order.
fn all(a: &Agent) -> Vec<(String, Vec<u8>)> {
    a.secret_labels().into_iter().map(|l| (l.clone(), a.secret(&l).unwrap().to_vec())).collect()
}

#[test]
fn a_secret_is_set_read_replaced_and_removed() {
    let mut a = mem();
    assert_eq!(a.secret("net.libp2p-ed25519"), None);
    assert!(a.secret_labels().is_empty());
    a.set_secret("net.libp2p-ed25519", &[7; 32]).unwrap();
    assert_eq!(a.secret("net.libp2p-ed25519").unwrap()[..], [7; 32]);
    a.set_secret("relay_token", b"t").unwrap();
    assert_eq!(a.secret_labels(), vec!["net.libp2p-ed25519".to_string(), "relay_token".to_string()]);
    a.set_secret("net.libp2p-ed25519", &[8; 64]).unwrap();
    assert_eq!(a.secret("net.libp2p-ed25519").unwrap()[..], [8; 64], "replaced");
    assert_eq!(a.secret_labels().len(), 2);
    a.remove_secret("net.libp2p-ed25519").unwrap();
    assert_eq!(a.secret("net.libp2p-ed25519"), None);
    assert_eq!(all(&a), vec![("relay_token".to_string(), b"t".to_vec())]);
    assert_eq!(a.remove_secret("net.libp2p-ed25519").unwrap_err(), Error::InvalidArgument, "no such secret");
    assert_eq!(a.remove_secret("Not A Label").unwrap_err(), Error::InvalidArgument);
    assert_eq!(all(&a), vec![("relay_token".to_string(), b"t".to_vec())]);
}

#[test]
fn secrets_persist_across_reopen_sealed_and_a_wrong_storage_key_is_still_refused() {
    let dir = temp_dir("reopen");
    let p = dir.join("a.db");
    let value = *b"a libp2p key, never in the file";
    let id;
    {
        let mut a = open(&p).unwrap();
        id = a.agent_id();
        a.set_secret("net", &value).unwrap();
        a.set_secret("gone", b"removed before the restart").unwrap();
        a.set_secret("kept", b"first").unwrap();
        a.set_secret("kept", b"second").unwrap();
        a.remove_secret("gone").unwrap();
    }
    let files: Vec<u8> =
        std::fs::read_dir(&dir).unwrap().flat_map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    assert!(!files.windows(value.len()).any(|w| w == value), "the value is sealed in the files");
    assert!(!files.windows(6).any(|w| w == b"secret"), "so is its name");
    {
        let mut a = open(&p).unwrap();
        assert_eq!(a.agent_id(), id);
        assert_eq!(
            all(&a),
            vec![("kept".to_string(), b"second".to_vec()), ("net".to_string(), value.to_vec())]
        );
        a.remove_secret("kept").unwrap();
    }
    assert_eq!(
        Agent::open(Some(&p), StorageKey::from_bytes([0x44; 32]), AgentConfig::default()).unwrap_err(),
        Error::WrongStorageKey
    );
    let a = open(&p).unwrap();
    assert_eq!(all(&a), vec![("net".to_string(), value.to_vec())], "the removal was committed");
}

#[test]
fn bad_labels_and_values_are_refused_with_their_code_and_change_nothing() {
    let dir = temp_dir("bounds");
    let p = dir.join("a.db");
    let longest = "a".repeat(MAX_SECRET_LABEL_LEN);
    let before;
    {
        let mut a = open(&p).unwrap();
        a.set_secret("net", b"value").unwrap();
        a.set_secret(&longest, &[1; MAX_SECRET_LEN]).unwrap();
        a.set_secret("0.9_-z", &[2]).unwrap();
        before = all(&a);
        let too_long = "a".repeat(MAX_SECRET_LABEL_LEN + 1);
        for label in ["", too_long.as_str(), "Net", "net/x", "net x", "n\u{e9}t", "net\0", "secret/net"] {
            assert_eq!(a.set_secret(label, b"v").unwrap_err(), Error::InvalidArgument, "{label:?}");
            assert_eq!(a.secret(label), None);
        }
        assert_eq!(a.set_secret("net", b"").unwrap_err(), Error::InvalidArgument, "empty value");
        assert_eq!(a.set_secret("new", b"").unwrap_err(), Error::InvalidArgument);
        assert_eq!(a.set_secret("net", &[3; MAX_SECRET_LEN + 1]).unwrap_err(), Error::TooLarge);
        assert_eq!(a.set_secret("new", &[3; MAX_SECRET_LEN + 1]).unwrap_err(), Error::TooLarge);
        // A bad label wins over a bad value.
        assert_eq!(a.set_secret("Bad", &[3; MAX_SECRET_LEN + 1]).unwrap_err(), Error::InvalidArgument);
        assert_eq!(all(&a), before);
    }
    assert_eq!(all(&open(&p).unwrap()), before, "nothing was written");
}

#[test]
fn a_seventeenth_label_is_too_large_and_replacing_or_removing_one_is_fine() {
    let mut a = mem();
    for i in 0..MAX_AGENT_SECRETS {
        a.set_secret(&format!("k{i}"), &[i as u8 + 1]).unwrap();
    }
    let full = all(&a);
    assert_eq!(full.len(), MAX_AGENT_SECRETS);
    assert_eq!(a.set_secret("one-more", b"x").unwrap_err(), Error::TooLarge);
    assert_eq!(all(&a), full, "nothing changed");
    a.set_secret("k3", b"replaced").unwrap();
    assert_eq!(a.secret("k3").unwrap()[..], b"replaced"[..]);
    assert_eq!(a.secret_labels().len(), MAX_AGENT_SECRETS);
    a.remove_secret("k0").unwrap();
    a.set_secret("one-more", b"x").unwrap();
    assert_eq!(a.secret_labels().len(), MAX_AGENT_SECRETS);
    assert_eq!(a.set_secret("k0", b"y").unwrap_err(), Error::TooLarge);
}

/// Moves record `from` to name `to` (the store reads and writes rows by name, section 11.8).
fn rename(p: &Path, from: &str, to: &str) {
    let mut s = Store::open(p, &key()).unwrap();
    let (_, kind, value) = s.load_all().unwrap().into_iter().find(|(n, _, _)| n == from).unwrap();
    s.commit(&[Change::Delete { name: from.into() }, Change::Put { name: to.into(), kind, value }]).unwrap();
}

/// Writes a secret record sealed under its own name, as the agent would, whatever it holds.
fn put(p: &Path, name: &str, kind: RecordKind, plaintext: &[u8]) {
    let value = seal_record_named(kind, &key(), name.as_bytes(), plaintext).unwrap();
    Store::open(p, &key())
        .unwrap()
        .commit(&[Change::Put { name: name.into(), kind: kind as u8, value }])
        .unwrap();
}

fn delete(p: &Path, name: &str) {
    Store::open(p, &key()).unwrap().commit(&[Change::Delete { name: name.into() }]).unwrap();
}

#[test]
fn a_store_with_a_malformed_secret_record_is_refused() {
    let dir = temp_dir("damaged");
    let p = dir.join("a.db");
    open(&p).unwrap().set_secret("net", b"value").unwrap();
    let too_long = format!("secret/{}", "a".repeat(MAX_SECRET_LABEL_LEN + 1));
    // A malformed name, whether the record was moved there or sealed under it.
    for bad in ["secret/", "secret/NET", "secret/n t", "secret/net/x", too_long.as_str()] {
        rename(&p, "secret/net", bad);
        assert_eq!(open(&p).unwrap_err(), Error::BadState, "moved to {bad:?}");
        rename(&p, bad, "secret/net");
        put(&p, bad, RecordKind::Secret, b"value");
        assert_eq!(open(&p).unwrap_err(), Error::BadState, "sealed as {bad:?}");
        delete(&p, bad);
    }
    // Moved to another well-formed label: its name is in the AD.
    rename(&p, "secret/net", "secret/other");
    assert_eq!(open(&p).unwrap_err(), Error::WrongStorageKey);
    rename(&p, "secret/other", "secret/net");
    // A value out of bounds, a record of another kind.
    for (kind, plain) in [
        (RecordKind::Secret, vec![]),
        (RecordKind::Secret, vec![1; MAX_SECRET_LEN + 1]),
        (RecordKind::Outgoing, vec![1; 40]),
    ] {
        put(&p, "secret/extra", kind, &plain);
        assert_eq!(open(&p).unwrap_err(), Error::BadState, "{kind:?} of {} bytes", plain.len());
        delete(&p, "secret/extra");
    }
    // More secrets than the bound.
    for i in 1..=MAX_AGENT_SECRETS {
        put(&p, &format!("secret/k{i}"), RecordKind::Secret, b"v");
    }
    assert_eq!(open(&p).unwrap_err(), Error::BadState);
    delete(&p, "secret/k1");
    let a = open(&p).unwrap();
    assert_eq!(a.secret_labels().len(), MAX_AGENT_SECRETS, "within the bound, it opens again");
    assert_eq!(a.secret("net").unwrap()[..], b"value"[..]);
}

#[test]
fn debug_of_an_agent_does_not_print_its_secrets() {
    let mut a = mem();
    let value = b"hunter2-hunter2";
    a.set_secret("net", value).unwrap();
    let shown = format!("{a:?} {a:#?}");
    let as_numbers = format!("{:?}", &value[..]);
    assert!(shown.contains("secrets: 1"), "{shown}");
    assert!(!shown.contains("hunter2") && !shown.contains(&as_numbers[1..20]), "{shown}");
}
