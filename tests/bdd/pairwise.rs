//! Steps of identities, prekeys and pairwise sessions: lifecycle, messages, refusals, keys and
//! the post-quantum policy. Every step drives the C ABI.

use std::ptr;

use cucumber::{given, then, when};

use crate::abi::*;
use crate::world::{DmpWorld, names};

// ---- identities and bundles ----

#[given(regex = r"^((?:\w+, )*\w+ and \w+) each have a new identity$")]
fn each_new_identity(w: &mut DmpWorld, list: String) {
    for who in names(&list) {
        w.ensure_identity(&who, DMP_SUITE_HYBRID);
    }
}

#[given(regex = r"^(\w+) has a new identity$")]
fn new_identity(w: &mut DmpWorld, who: String) {
    w.ensure_identity(&who, DMP_SUITE_HYBRID);
}

#[given(regex = r"^(\w+) has a new classical identity$")]
fn new_classical_identity(w: &mut DmpWorld, who: String) {
    w.ensure_identity(&who, DMP_SUITE_CLASSICAL);
}

fn suite_code(name: &str) -> i32 {
    match name {
        "hybrid" => DMP_SUITE_HYBRID,
        "classical" => DMP_SUITE_CLASSICAL,
        other => panic!("{other} is not a suite"),
    }
}

fn seed_of(byte: &str) -> [u8; 32] {
    let b = u8::from_str_radix(byte.trim_start_matches("0x"), 16).expect("a hex byte");
    [b; 32]
}

#[given(regex = r"^(\w+) is made from a seed of 32 bytes (0x[0-9a-f]{2}) as a (hybrid|classical) identity$")]
fn from_seed(w: &mut DmpWorld, who: String, byte: String, suite: String) {
    let id = Identity::from_seed(&seed_of(&byte), suite_code(&suite));
    let mut got = 0;
    // SAFETY: live handle; valid write.
    ok(unsafe { dmp_identity_suite(id.0, &mut got) }, "dmp_identity_suite");
    assert_eq!(got, suite_code(&suite), "the identity is not of the suite asked for");
    w.ids.insert(who, id);
}

#[given(
    regex = r"^(\w+) is lost, and a new \w+ is made from a seed of 32 bytes (0x[0-9a-f]{2}) as a (hybrid|classical) identity$"
)]
fn lost_and_remade(w: &mut DmpWorld, who: String, byte: String, suite: String) {
    w.ids.remove(&who);
    from_seed(w, who, byte, suite);
}

#[given(regex = r"^(\w+) has published a bundle (with|without) a one-time prekey$")]
#[when(regex = r"^(\w+) publishes a bundle (with|without) a one-time prekey$")]
fn publishes(w: &mut DmpWorld, who: String, with: String) {
    w.publish(&who, with == "with");
}

#[when(regex = r"^(\w+) publishes (\d+) bundles with a one-time prekey$")]
fn publishes_many(w: &mut DmpWorld, who: String, n: usize) {
    for _ in 0..n {
        let b = w.publish(&who, true);
        w.published.push(b);
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Offsets in a bundle (docs/PROTOCOL.md 4.2).
const BUNDLE_FLAGS: usize = 142;
const BUNDLE_OPK_ID: usize = 143;

#[then(regex = r"^those bundles carry (\d+) consecutive one-time prekeys, each once$")]
fn bundles_carry_opks(w: &mut DmpWorld, n: u32) {
    let got: Vec<u32> = w
        .published
        .iter()
        .map(|b| {
            assert_eq!(b[BUNDLE_FLAGS] & 1, 1, "a bundle published with a one-time prekey has none");
            u32_at(b, BUNDLE_OPK_ID)
        })
        .collect();
    let want: Vec<u32> = (0..n).map(|i| got[0] + i).collect();
    assert_eq!(got, want, "one-time prekey ids handed out (the first is random)");
}

#[given(regex = r"^(\w+) goes offline, keeping only (?:his|her) identity record$")]
fn goes_offline(w: &mut DmpWorld, who: String) {
    let record =
        w.id(&who).serialize(&storage_key("offline")).unwrap_or_else(|rc| panic!("{}", describe(rc)));
    w.ids.remove(&who);
    w.offline.insert(who, record);
}

#[when(regex = r"^(\w+) comes back online$")]
fn comes_back(w: &mut DmpWorld, who: String) {
    let record = w.offline.remove(&who).unwrap_or_else(|| panic!("{who} was not offline"));
    let key = storage_key("offline");
    let mut out = ptr::null_mut();
    // SAFETY: record valid for its length; 32-byte key; pointer write.
    ok(
        unsafe { dmp_identity_deserialize(record.as_ptr(), record.len(), key.as_ptr(), &mut out) },
        "dmp_identity_deserialize",
    );
    w.ids.insert(who, Identity(out));
}

// ---- starting sessions ----

#[given(regex = r"^(\w+) has started a session from (\w+)'s bundle$")]
#[when(regex = r"^(\w+) starts a session from (\w+)'s bundle$")]
fn starts_session(w: &mut DmpWorld, owner: String, peer: String) {
    w.initiate(&owner, &peer);
}

#[given(regex = r"^(\w+) has started a session from (\w+)'s bundle under policy (\w+)$")]
fn started_with_policy(w: &mut DmpWorld, owner: String, peer: String, policy: String) {
    let bundle = w.bundle(&peer);
    let rc = w.try_initiate(&owner, &peer, &bundle, policy_code(&policy));
    ok(rc, "dmp_session_initiate_with");
}

#[when(regex = r"^(\w+) tries to start a session from (\w+)'s bundle under policy (\w+)$")]
fn try_start_with_policy(w: &mut DmpWorld, owner: String, peer: String, policy: String) {
    let bundle = w.bundle(&peer);
    let rc = w.try_initiate(&owner, &peer, &bundle, policy_code(&policy));
    w.tried(rc);
}

#[when(regex = r"^(\w+) tries to start a session from (\w+)'s bundle with the default call$")]
fn try_start_default(w: &mut DmpWorld, owner: String, peer: String) {
    let bundle = w.bundle(&peer);
    let mut out = ptr::null_mut();
    // SAFETY: live identity; bundle valid for its length; pointer write.
    let rc = unsafe { dmp_session_initiate(w.id(&owner).0, bundle.as_ptr(), bundle.len(), &mut out) };
    if rc == DMP_OK {
        w.sessions.insert((owner, peer), Session(out));
    } else {
        assert!(out.is_null(), "a refused dmp_session_initiate left a handle behind");
    }
    w.tried(rc);
}

#[given(regex = r"^(\w+) and (\w+) have an active session$")]
fn active_session(w: &mut DmpWorld, a: String, b: String) {
    w.ensure_identity(&a, DMP_SUITE_HYBRID);
    w.ensure_identity(&b, DMP_SUITE_HYBRID);
    w.publish(&b, true);
    w.initiate(&a, &b);
    let first = w.send_bytes(&a, &b, "(set-up) hello", b"hello");
    let pt = w.deliver(&b, &a, &first).unwrap_or_else(|rc| panic!("{b} cannot accept: {}", describe(rc)));
    assert_eq!(pt, b"hello");
    let reply = w.send_bytes(&b, &a, "(set-up) hi", b"hi");
    let pt =
        w.deliver(&a, &b, &reply).unwrap_or_else(|rc| panic!("{a} cannot read the reply: {}", describe(rc)));
    assert_eq!(pt, b"hi");
    assert_eq!(w.session(&a, &b).state(), DMP_SESSION_ACTIVE);
    assert_eq!(w.session(&b, &a).state(), DMP_SESSION_ACTIVE);
}

// ---- sending and receiving ----

#[given(regex = r#"^(\w+) has sent "([^"]*)" to (\w+)$"#)]
#[when(regex = r#"^(\w+) sends "([^"]*)" to (\w+)$"#)]
fn sends(w: &mut DmpWorld, from: String, text: String, to: String) {
    w.send(&from, &to, &text);
}

#[when(regex = r#"^(\w+) sends (\d+) messages to (\w+), "([^"\d]+)1" to "[^"]+"$"#)]
fn sends_many(w: &mut DmpWorld, from: String, n: usize, to: String, prefix: String) {
    for i in 1..=n {
        w.send(&from, &to, &format!("{prefix}{i}"));
    }
}

#[when(regex = r#"^(\w+) sends a plaintext of DMP_MAX_PLAINTEXT_LEN bytes to (\w+), "([^"]*)"$"#)]
fn sends_largest(w: &mut DmpWorld, from: String, to: String, label: String) {
    let pt: Vec<u8> = (0..dmp_max_plaintext_len()).map(|i| (i % 251) as u8).collect();
    w.send_bytes(&from, &to, &label, &pt);
}

#[when(regex = r#"^(\w+) sends an empty plaintext to (\w+), "([^"]*)"$"#)]
fn sends_empty(w: &mut DmpWorld, from: String, to: String, label: String) {
    w.send_bytes(&from, &to, &label, &[]);
}

#[when(regex = r"^(\w+) tries to send a plaintext of DMP_MAX_PLAINTEXT_LEN \+ 1 bytes to (\w+)$")]
fn sends_too_large(w: &mut DmpWorld, from: String, to: String) {
    w.observe_session(&from, &to);
    let pt = vec![7u8; dmp_max_plaintext_len() + 1];
    let s = w.session(&from, &to).0;
    // Room for any envelope, so that only the plaintext's size can be refused.
    let result = read_into(dmp_max_envelope_len() * 2, |out, cap, len| {
        // SAFETY: live session; pt valid; buffer and length valid.
        unsafe { dmp_session_encrypt(s, pt.as_ptr(), pt.len(), out, cap, len) }
    });
    w.tried(result.err().unwrap_or(DMP_OK));
}

#[given(regex = r#"^(\w+) has received "([^"]*)"$"#)]
#[when(regex = r#"^(\w+) receives "([^"]*)"$"#)]
#[then(regex = r#"^(\w+) receives "([^"]*)"$"#)]
fn receives(w: &mut DmpWorld, who: String, label: String) {
    let mail = w.letter(&label);
    assert_eq!(mail.to, who, "{label:?} was sent to {}, not {who}", mail.to);
    let pt = w
        .deliver(&who, &mail.from, &mail.bytes)
        .unwrap_or_else(|rc| panic!("{who} cannot read {label:?}: {}", describe(rc)));
    assert!(pt == mail.text, "{who} read {} bytes that differ from the {} sent", pt.len(), mail.text.len());
}

#[when(regex = r#"^(\w+) tries to receive "([^"]*)"(?: again)?$"#)]
fn tries_to_receive(w: &mut DmpWorld, who: String, label: String) {
    let mail = w.letter(&label);
    w.observe_session(&who, &mail.from);
    let rc = w.deliver(&who, &mail.from, &mail.bytes).err().unwrap_or(DMP_OK);
    w.tried(rc);
}

/// Offsets of a pairwise envelope (docs/PROTOCOL.md section 4): the ratchet key, the message
/// number N (after the PN varint) and the end of the header (after the N varint).
struct Layout {
    ratchet_key: usize,
    message_number: usize,
    header: usize,
}

fn pairwise_layout(env: &[u8]) -> Layout {
    let ratchet_key = match env[1] {
        2 => 10,
        1 if env[78] & 2 != 0 => 83 + 1093,
        1 => 83,
        t => panic!("not a pairwise envelope (type {t})"),
    };
    let varint_end = |at: usize| at + env[at..].iter().position(|b| b & 0x80 == 0).expect("a varint") + 1;
    let message_number = varint_end(ratchet_key + 32);
    Layout { ratchet_key, message_number, header: varint_end(message_number) }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // SAFETY: N writable bytes.
    ok(unsafe { dmp_random_bytes(b.as_mut_ptr(), N) }, "dmp_random_bytes");
    b
}

/// A copy of a pairwise envelope with the damage a feature names.
pub fn damage_pairwise(env: &[u8], damage: &str) -> Vec<u8> {
    let mut e = env.to_vec();
    let Layout { ratchet_key: dhs, message_number, header } = pairwise_layout(env);
    let n = e.len();
    match damage {
        "a bit flipped in the ciphertext" => e[header] ^= 0x01,
        "a bit flipped in the authentication tag" => e[n - 1] ^= 0x01,
        "a bit flipped in the message number" => e[message_number] ^= 0x01,
        "a bit flipped in the previous chain length" => e[dhs + 32] ^= 0x01,
        "a bit flipped in the ratchet key" => e[dhs] ^= 0x01,
        "a ratchet key of small order" => e[dhs..dhs + 32].fill(0),
        "the session id of another session" => e[2..10].copy_from_slice(&random_bytes::<8>()),
        // The same number in two bytes: a second encoding of the header, refused as malformed.
        "an overlong message number" => {
            assert_eq!(header, message_number + 1, "a one-byte message number");
            e[message_number] |= 0x80;
            e.insert(header, 0x00);
        }
        "its last byte cut off" => {
            e.pop();
        }
        "only its header left" => e.truncate(header),
        "nothing left" => e.clear(),
        "protocol version 2" => e[0] = 2,
        "an unknown type" => e[1] = 9,
        "the type of a prekey bundle" => e[1] = 3,
        "the type of a group message" => e[1] = 4,
        "a length over DMP_MAX_ENVELOPE_LEN" => e.resize(dmp_max_envelope_len() + 1, 0),
        other => panic!("no such damage: {other}"),
    }
    e
}

#[when(regex = r#"^(\w+) tries to receive "([^"]*)" with (.+)$"#)]
fn tries_to_receive_damaged(w: &mut DmpWorld, who: String, label: String, damage: String) {
    let mail = w.letter(&label);
    let bad = damage_pairwise(&mail.bytes, &damage);
    w.observe_session(&who, &mail.from);
    let rc = w.deliver(&who, &mail.from, &bad).err().unwrap_or(DMP_OK);
    w.tried(rc);
}

#[when(regex = r#"^(\w+) tries to receive "([^"]*)" into a buffer of (\d+) bytes$"#)]
fn tries_small_buffer(w: &mut DmpWorld, who: String, label: String, cap: usize) {
    let mail = w.letter(&label);
    w.observe_session(&who, &mail.from);
    let s = w.session(&who, &mail.from).0;
    let mut buf = vec![0u8; cap];
    let mut needed = 0usize;
    // SAFETY: live session; envelope valid; buffer of `cap` bytes; valid length write.
    let rc = unsafe {
        dmp_session_decrypt(s, mail.bytes.as_ptr(), mail.bytes.len(), buf.as_mut_ptr(), cap, &mut needed)
    };
    w.tried(rc);
    w.last_needed = Some(needed);
}

#[then(regex = r"^the call said it needs (\d+) bytes$")]
fn said_needs(w: &mut DmpWorld, n: usize) {
    assert_eq!(w.last_needed, Some(n), "the size the refused call reported");
}

#[given(regex = r"^(\d+) more round trips have passed between (\w+) and (\w+)$")]
fn round_trips(w: &mut DmpWorld, n: usize, a: String, b: String) {
    for i in 0..n {
        let label = format!("(round trip {i}) from {a}");
        w.send(&a, &b, &label);
        receives(w, b.clone(), label);
        let label = format!("(round trip {i}) from {b}");
        w.send(&b, &a, &label);
        receives(w, a.clone(), label);
    }
}

#[given(regex = r"^(\w+) accepts forward jumps of at most (\d+) messages from (\w+)$")]
fn forward_jump_limit(w: &mut DmpWorld, who: String, n: u32, peer: String) {
    let s = w.session(&who, &peer).0;
    // SAFETY: live session.
    ok(unsafe { dmp_session_set_limits(s, n, dmp_default_max_skipped_keys()) }, "dmp_session_set_limits");
}

#[then(regex = r#"^the messages "([^"\d]+)1" to "[^"\d]+(\d+)" are all first messages of one session$"#)]
fn all_first_messages(w: &mut DmpWorld, prefix: String, n: usize) {
    let envs: Vec<Vec<u8>> = (1..=n).map(|i| w.letter(&format!("{prefix}{i}")).bytes).collect();
    for e in &envs {
        assert_eq!(e[1], 1, "not a first (prekey) message");
        let dhs = pairwise_layout(e).ratchet_key;
        assert_eq!(e[2..dhs], envs[0][2..dhs], "first messages differ in their session id or prekey fields");
    }
}

// ---- state ----

#[then(regex = r"^(\w+)'s session with (\w+) is (DORMANT|INITIATING|ACTIVE|CLOSED)$")]
fn session_state_is(w: &mut DmpWorld, owner: String, peer: String, state: String) {
    let got = w.session(&owner, &peer).state();
    assert_eq!(got, state_code(&state), "{owner}'s session with {peer} is in state {got}, not {state}");
}

#[then(regex = r"^(\w+)'s session with (\w+) is unchanged$")]
fn session_unchanged(w: &mut DmpWorld, owner: String, peer: String) {
    let before = w
        .session_before
        .get(&(owner.clone(), peer.clone()))
        .unwrap_or_else(|| panic!("no observation of {owner}'s session with {peer} was taken"));
    let now = w.session(&owner, &peer).view();
    assert!(
        now == *before,
        "{owner}'s session with {peer} changed: was state {}, now {}",
        before.state,
        now.state
    );
}

#[then(regex = r"^the call returns (DMP_\w+)$")]
fn call_returns(w: &mut DmpWorld, name: String) {
    let got = w.last.expect("no call was tried");
    assert!(got == code(&name), "expected {name}, the call returned {}", describe(got));
}

/// The one peer an actor has a session with.
fn only_peer(w: &DmpWorld, owner: &str) -> String {
    let peers: Vec<&String> = w.sessions.keys().filter(|(o, _)| o == owner).map(|(_, p)| p).collect();
    assert_eq!(peers.len(), 1, "{owner} has {} sessions, the step needs one", peers.len());
    peers[0].clone()
}

#[given(
    regex = r"^(\w+)'s session with (\w+) is (DORMANT|INITIATING|ACTIVE|CLOSED), with a reply from \w+ in transit$"
)]
fn session_in_state(w: &mut DmpWorld, a: String, b: String, state: String) {
    if !w.bundles.contains_key(&b) {
        w.publish(&b, true);
    }
    w.initiate(&a, &b);
    if state == "DORMANT" {
        // A copy of the DORMANT session sends the first message, so that the reply in transit is
        // a genuine one for this very session, which has sent nothing.
        let record = w.session(&a, &b).serialize(&SNAPSHOT_KEY).expect("serialize a DORMANT session");
        let copy = Session::deserialize(&record, &SNAPSHOT_KEY).expect("restore it");
        let first = copy.encrypt(b"hello").expect("the copy encrypts");
        drop(copy);
        w.deliver(&b, &a, &first).unwrap_or_else(|rc| panic!("{b} cannot accept: {}", describe(rc)));
        w.send(&b, &a, "the reply");
        assert_eq!(w.session(&a, &b).state(), DMP_SESSION_DORMANT);
        return;
    }
    let first = w.send(&a, &b, "(set-up) hello");
    w.deliver(&b, &a, &first).unwrap_or_else(|rc| panic!("{b} cannot accept: {}", describe(rc)));
    if state == "INITIATING" {
        w.send(&b, &a, "the reply");
        return;
    }
    let earlier = w.send(&b, &a, "(set-up) earlier reply");
    w.deliver(&a, &b, &earlier).unwrap_or_else(|rc| panic!("{a} cannot read the reply: {}", describe(rc)));
    w.send(&b, &a, "the reply");
    if state == "CLOSED" {
        // SAFETY: live session.
        ok(unsafe { dmp_session_close(w.session(&a, &b).0) }, "dmp_session_close");
    }
    assert_eq!(w.session(&a, &b).state(), state_code(&state));
}

#[when(
    regex = r"^(\w+) tries to (encrypt a message|decrypt the reply|close the session|serialize the session|ask the encrypted length|set the limits|set the padding|decrypt a tampered reply|decrypt its own first message|encrypt into a buffer too small|decrypt the reply into a buffer too small)$"
)]
fn tries_operation(w: &mut DmpWorld, owner: String, operation: String) {
    let peer = only_peer(w, &owner);
    w.observe_session(&owner, &peer);
    let s = w.session(&owner, &peer);
    let rc = match operation.as_str() {
        "encrypt a message" => {
            let pt = b"another message";
            // Room for any envelope, so that only the state can refuse it.
            read_into(dmp_bundle_max_len() + 256, |out, cap, len| {
                // SAFETY: live session; pt valid; buffer and length valid.
                unsafe { dmp_session_encrypt(s.0, pt.as_ptr(), pt.len(), out, cap, len) }
            })
            .err()
            .unwrap_or(DMP_OK)
        }
        "decrypt the reply" => {
            let mail = w.letter("the reply");
            s.decrypt(&mail.bytes).err().unwrap_or(DMP_OK)
        }
        "encrypt into a buffer too small" => {
            let pt = b"another message";
            read_into(pt.len(), |out, cap, len| {
                // SAFETY: live session; pt valid; buffer and length valid.
                unsafe { dmp_session_encrypt(s.0, pt.as_ptr(), pt.len(), out, cap, len) }
            })
            .err()
            .unwrap_or(DMP_OK)
        }
        "decrypt the reply into a buffer too small" => {
            let mail = w.letter("the reply");
            read_into(mail.text.len() - 1, |out, cap, len| {
                // SAFETY: live session; envelope valid; buffer and length valid.
                unsafe { dmp_session_decrypt(s.0, mail.bytes.as_ptr(), mail.bytes.len(), out, cap, len) }
            })
            .err()
            .unwrap_or(DMP_OK)
        }
        "decrypt a tampered reply" => {
            let mail = w.letter("the reply");
            s.decrypt(&damage_pairwise(&mail.bytes, "a bit flipped in the ciphertext"))
                .err()
                .unwrap_or(DMP_OK)
        }
        "decrypt its own first message" => {
            let mail = w.letter("(set-up) hello");
            assert_eq!(
                (mail.from.as_str(), mail.bytes[1]),
                (owner.as_str(), 1),
                "not the owner's first message"
            );
            s.decrypt(&mail.bytes).err().unwrap_or(DMP_OK)
        }
        // SAFETY: live session.
        "close the session" => unsafe { dmp_session_close(s.0) },
        "serialize the session" => s.serialize(&storage_key("K1")).err().unwrap_or(DMP_OK),
        "ask the encrypted length" => {
            let mut n = 0usize;
            // SAFETY: live session; valid write.
            unsafe { dmp_session_encrypted_len(s.0, 10, &mut n) }
        }
        // SAFETY: live session.
        "set the limits" => unsafe { dmp_session_set_limits(s.0, 100, 200) },
        // SAFETY: live session.
        "set the padding" => unsafe { dmp_session_set_padding(s.0, DMP_PADDING_BUCKETS) },
        other => unreachable!("{other}"),
    };
    w.tried(rc);
}

#[when(regex = r"^(\w+) closes (?:his|her) session with (\w+)$")]
fn closes(w: &mut DmpWorld, owner: String, peer: String) {
    w.observe_session(&owner, &peer);
    // SAFETY: live session.
    ok(unsafe { dmp_session_close(w.session(&owner, &peer).0) }, "dmp_session_close");
}

#[then(regex = r"^(\w+)'s session with (\w+) still names \w+ as its peer and keeps its session id$")]
fn closed_keeps_ids(w: &mut DmpWorld, owner: String, peer: String) {
    let before = &w.session_before[&(owner.clone(), peer.clone())];
    let now = w.session(&owner, &peer).view();
    assert_eq!(now.peer, w.id(&peer).id(), "the peer id of the closed session");
    assert_eq!((now.peer, now.id), (before.peer, before.id), "the closed session's ids changed");
}

// ---- accepting ----

#[when(regex = r#"^(\w+) tries to accept "([^"]*)" as a new session$"#)]
fn tries_accept(w: &mut DmpWorld, who: String, label: String) {
    let mail = w.letter(&label);
    w.observe_identity(&who);
    let identity = w.id(&who).0;
    let mut session = ptr::null_mut();
    let result = read_into(mail.bytes.len(), |out, cap, len| {
        // SAFETY: live identity; envelope valid; pointer write; buffer and length valid.
        unsafe {
            dmp_session_accept(identity, mail.bytes.as_ptr(), mail.bytes.len(), &mut session, out, cap, len)
        }
    });
    match result {
        Ok(pt) => {
            assert_eq!(pt, mail.text, "the accepted plaintext");
            w.sessions.insert((who, mail.from), Session(session));
            w.tried(DMP_OK);
        }
        Err(rc) => {
            assert!(session.is_null(), "a refused dmp_session_accept left a session behind");
            w.tried(rc);
        }
    }
}

#[when(regex = r#"^(\w+) tries to accept "([^"]*)" as a new session under policy (\w+)$"#)]
fn tries_accept_policy(w: &mut DmpWorld, who: String, label: String, policy: String) {
    let mail = w.letter(&label);
    w.observe_identity(&who);
    let rc = match w.try_accept(&who, &mail.from, &mail.bytes, policy_code(&policy)) {
        Ok(pt) => {
            assert_eq!(pt, mail.text, "the accepted plaintext");
            DMP_OK
        }
        Err(rc) => rc,
    };
    w.tried(rc);
}

#[then(regex = r"^(\w+)'s identity is (unchanged|changed)$")]
fn identity_unchanged(w: &mut DmpWorld, who: String, how: String) {
    let before = w.identity_before.get(&who).unwrap_or_else(|| panic!("no observation of {who}'s identity"));
    let same = *before == w.id(&who).snapshot();
    assert_eq!(same, how == "unchanged", "{who}'s identity is not {how}");
}

// ---- prekeys ----

#[when(regex = r"^(\w+) rotates (?:his|her) signed prekey$")]
fn rotates(w: &mut DmpWorld, who: String) {
    rotated_times(w, who, 1);
}

#[given(regex = r"^(\w+) has rotated (?:his|her) signed prekey (\d+) times$")]
fn rotated_times(w: &mut DmpWorld, who: String, n: u32) {
    let id = w.id(&who).0;
    for _ in 0..n {
        let mut before = 0u32;
        let mut new_id = 0u32;
        // SAFETY: live identity; valid writes.
        ok(unsafe { dmp_identity_signed_prekey_id(id, &mut before) }, "dmp_identity_signed_prekey_id");
        // SAFETY: as above.
        ok(
            unsafe { dmp_identity_rotate_signed_prekey(id, &mut new_id) },
            "dmp_identity_rotate_signed_prekey",
        );
        assert_eq!(new_id, before + 1, "a rotation makes the next signed prekey id current");
    }
}

#[then(regex = r"^(\w+)'s signed prekey id is (\d+)$")]
fn signed_prekey_id(w: &mut DmpWorld, who: String, want: u32) {
    let mut got = 0u32;
    // SAFETY: live identity; valid write.
    ok(unsafe { dmp_identity_signed_prekey_id(w.id(&who).0, &mut got) }, "dmp_identity_signed_prekey_id");
    assert_eq!(got, want);
}

#[then(regex = r"^a bundle (\w+) publishes now names (?:his|her) current signed prekey$")]
fn bundle_names_spk(w: &mut DmpWorld, who: String) {
    let mut want = 0u32;
    // SAFETY: live identity; valid write.
    ok(unsafe { dmp_identity_signed_prekey_id(w.id(&who).0, &mut want) }, "dmp_identity_signed_prekey_id");
    let b = w.publish(&who, false);
    assert_eq!(u32_at(&b, 34), want, "the signed prekey id in the bundle");
}

#[given(regex = r"^(\w+) holds (\d+) one-time prekeys?$")]
#[then(regex = r"^(\w+) holds (\d+) one-time prekeys?$")]
fn holds_opks(w: &mut DmpWorld, who: String, want: u32) {
    let mut got = u32::MAX;
    // SAFETY: live identity; valid write.
    ok(
        unsafe { dmp_identity_one_time_prekey_count(w.id(&who).0, &mut got) },
        "dmp_identity_one_time_prekey_count",
    );
    assert_eq!(got, want, "{who}'s one-time prekeys");
}

fn fingerprint(w: &DmpWorld, who: &str) -> Vec<u8> {
    let id = w.id(who).0;
    read_out(|out, cap, len| {
        // SAFETY: live identity; buffer and length valid.
        unsafe { dmp_identity_fingerprint(id, out, cap, len) }
    })
    .unwrap_or_else(|rc| panic!("dmp_identity_fingerprint: {}", describe(rc)))
}

#[then(regex = r"^(\w+) and (\w+) have the same (agent id|fingerprint)$")]
fn same_id(w: &mut DmpWorld, a: String, b: String, what: String) {
    if what == "agent id" {
        assert_eq!(w.id(&a).id(), w.id(&b).id());
    } else {
        let fa = fingerprint(w, &a);
        assert_eq!(fa.len(), dmp_fingerprint_len());
        assert_eq!(fa, fingerprint(w, &b));
    }
}

#[then(regex = r"^(\w+) and (\w+) publish bundles that share no prekey$")]
fn bundles_share_no_prekey(w: &mut DmpWorld, a: String, b: String) {
    let (ba, bb) = (w.id(&a).bundle(true), w.id(&b).bundle(true));
    // The signed prekey (id and key) and the one-time prekey (id and key) all differ.
    for (range, what) in [
        (34..38, "signed prekey id"),
        (38..70, "signed prekey"),
        (143..147, "one-time prekey id"),
        (147..179, "one-time prekey"),
    ] {
        assert_ne!(ba[range.clone()], bb[range], "{a} and {b} share their {what}");
    }
}

#[then(regex = r"^(\w+) and (\w+) have different agent ids$")]
fn different_ids(w: &mut DmpWorld, a: String, b: String) {
    assert_ne!(w.id(&a).id(), w.id(&b).id());
}

// ---- post-quantum ----

#[then(regex = r"^(\w+)'s identity is of the (hybrid|classical) suite$")]
fn suite_is(w: &mut DmpWorld, who: String, suite: String) {
    let mut got = 0;
    // SAFETY: live identity; valid write.
    ok(unsafe { dmp_identity_suite(w.id(&who).0, &mut got) }, "dmp_identity_suite");
    assert_eq!(got, suite_code(&suite));
}

/// Checks a bundle's length and that it carries a verified ML-KEM prekey.
pub fn check_hybrid_bundle(b: &[u8], size: &str) {
    assert_eq!(b.len(), size_named(size), "the bundle is not {size} bytes");
    assert_eq!(b[BUNDLE_FLAGS] & 2, 2, "the bundle has no ML-KEM block");
    let mut id = [0u8; 32];
    // SAFETY: bundle valid for its length; 32 writable bytes.
    ok(unsafe { dmp_bundle_verify(b.as_ptr(), b.len(), id.as_mut_ptr()) }, "dmp_bundle_verify");
}

#[then(regex = r"^(\w+)'s bundle is (DMP_\w+) bytes long and carries an ML-KEM prekey$")]
fn bundle_is_hybrid(w: &mut DmpWorld, who: String, size: String) {
    check_hybrid_bundle(&w.bundle(&who), &size);
}

#[then(regex = r#"^the message "([^"]*)" is a first message carrying an ML-KEM ciphertext$"#)]
fn first_message_hybrid(w: &mut DmpWorld, label: String) {
    let e = w.letter(&label).bytes;
    assert_eq!(e[1], 1, "not a first (prekey) message");
    assert_eq!(e[78] & 2, 2, "the first message has no ML-KEM block");
    assert!(
        e.len() > dmp_hybrid_prekey_message_header_len() + dmp_tag_len(),
        "too short for a hybrid first message"
    );
}

/// A bundle without its ML-KEM block (and its flag), as an attacker on the way would send it.
pub fn strip(bundle: &[u8]) -> Vec<u8> {
    let flags = bundle[BUNDLE_FLAGS];
    assert_eq!(flags & 2, 2, "the bundle has no ML-KEM part to strip");
    let keep = if flags & 1 == 1 { BUNDLE_OPK_ID + 36 } else { BUNDLE_OPK_ID };
    let mut b = bundle[..keep].to_vec();
    b[BUNDLE_FLAGS] = flags & !2;
    b
}

/// A hybrid first message without its ML-KEM block (and its flag): PROTOCOL 4.4, the block
/// (kind, id, ciphertext: 1,093 bytes) follows the OPK id at offset 83.
#[given(regex = r#"^an attacker has stripped the ML-KEM part from "([^"]*)"$"#)]
fn strips_first_message(w: &mut DmpWorld, label: String) {
    let mut mail = w.letter(&label);
    let e = &mail.bytes;
    assert_eq!((e[1], e[78] & 2), (1, 2), "not a hybrid first message");
    let mut stripped = e[..83].to_vec();
    stripped[78] &= !2;
    stripped.extend_from_slice(&e[83 + 1093..]);
    mail.bytes = stripped;
    w.mail.insert(label, mail);
}

#[when(regex = r"^an attacker strips the ML-KEM part from (\w+)'s bundle$")]
fn strips(w: &mut DmpWorld, who: String) {
    w.stripped = Some(strip(&w.bundle(&who)));
}

#[then(regex = r"^verifying the stripped bundle returns (DMP_\w+)$")]
fn verify_stripped(w: &mut DmpWorld, name: String) {
    let b = w.stripped.clone().expect("no stripped bundle");
    let mut id = [0u8; 32];
    // SAFETY: bundle valid for its length; 32 writable bytes.
    let rc = unsafe { dmp_bundle_verify(b.as_ptr(), b.len(), id.as_mut_ptr()) };
    assert!(rc == code(&name), "expected {name}, dmp_bundle_verify returned {}", describe(rc));
}

#[when(regex = r"^(\w+) tries to start a session from the stripped bundle under policy (\w+)$")]
fn start_from_stripped(w: &mut DmpWorld, owner: String, policy: String) {
    let b = w.stripped.clone().expect("no stripped bundle");
    let rc = w.try_initiate(&owner, "the stripped bundle's owner", &b, policy_code(&policy));
    w.tried(rc);
}

// ---- records under storage keys ----

fn record_kind(what: &str) -> u8 {
    match what {
        "session" => RECORD_SESSION,
        "identity" => RECORD_IDENTITY,
        "group" => RECORD_GROUP,
        other => panic!("{other} is not a kind of record"),
    }
}

fn serialize_what(w: &DmpWorld, who: &str, what: &str, key: &[u8; 32]) -> Vec<u8> {
    let r = match what {
        "session" => w.session(who, &only_peer(w, who)).serialize(key),
        "identity" => w.id(who).serialize(key),
        "group" => w.group(who).serialize(key),
        other => panic!("{other} is not a kind of record"),
    };
    r.unwrap_or_else(|rc| panic!("serializing {who}'s {what}: {}", describe(rc)))
}

#[when(regex = r#"^(\w+) saves (?:his|her) (session|identity|group) with storage key "(\w+)"$"#)]
fn saves(w: &mut DmpWorld, who: String, what: String, key: String) {
    let key = storage_key(&key);
    let record = serialize_what(w, &who, &what, &key);
    let plain = open_record(&key, record_kind(&what), &record);
    w.saved.insert((who, what), (record, plain));
}

#[when(regex = r#"^(\w+) tries to restore (?:his|her) (session|identity|group) with storage key "(\w+)"$"#)]
fn tries_restore(w: &mut DmpWorld, who: String, what: String, key: String) {
    let (record, _) = w.saved.get(&(who.clone(), what.clone())).cloned().expect("nothing was saved");
    let key = storage_key(&key);
    let rc = match what.as_str() {
        "session" => {
            let peer = only_peer(w, &who);
            match Session::deserialize(&record, &key) {
                Ok(s) => {
                    w.sessions.insert((who, peer), s);
                    DMP_OK
                }
                Err(rc) => rc,
            }
        }
        "identity" => {
            let mut out = ptr::null_mut();
            // SAFETY: record valid for its length; 32-byte key; pointer write.
            let rc =
                unsafe { dmp_identity_deserialize(record.as_ptr(), record.len(), key.as_ptr(), &mut out) };
            if rc == DMP_OK {
                w.ids.insert(who, Identity(out));
            } else {
                assert!(out.is_null(), "a refused dmp_identity_deserialize left a handle behind");
            }
            rc
        }
        _ => {
            let mut out = ptr::null_mut();
            // SAFETY: record valid for its length; 32-byte key; pointer write.
            let rc = unsafe { dmp_group_deserialize(record.as_ptr(), record.len(), key.as_ptr(), &mut out) };
            if rc == DMP_OK {
                w.groups.insert(who, Group(out));
            } else {
                assert!(out.is_null(), "a refused dmp_group_deserialize left a handle behind");
            }
            rc
        }
    };
    w.tried(rc);
}

#[then(regex = r"^(\w+)'s restored (session|identity|group) holds the same state as the saved one$")]
fn restored_same(w: &mut DmpWorld, who: String, what: String) {
    let (_, plain) = w.saved.get(&(who.clone(), what.clone())).cloned().expect("nothing was saved");
    let record = serialize_what(w, &who, &what, &SNAPSHOT_KEY);
    let now = open_record(&SNAPSHOT_KEY, record_kind(&what), &record);
    assert!(now == plain, "{who}'s restored {what} differs from the saved one");
}

#[when(regex = r#"^(\w+) tries to accept "([^"]*)" into a buffer of (\d+) bytes$"#)]
fn tries_accept_small(w: &mut DmpWorld, who: String, label: String, cap: usize) {
    let mail = w.letter(&label);
    w.observe_identity(&who);
    let mut session = ptr::null_mut();
    let mut buf = vec![0u8; cap];
    let mut needed = 0usize;
    // SAFETY: live identity; envelope valid; pointer write; buffer of `cap` bytes; length write.
    let rc = unsafe {
        dmp_session_accept(
            w.id(&who).0,
            mail.bytes.as_ptr(),
            mail.bytes.len(),
            &mut session,
            buf.as_mut_ptr(),
            cap,
            &mut needed,
        )
    };
    if rc == DMP_OK {
        w.sessions.insert((who, mail.from), Session(session));
    } else {
        assert!(session.is_null(), "a refused dmp_session_accept left a session behind");
    }
    w.tried(rc);
    w.last_needed = Some(needed);
}
