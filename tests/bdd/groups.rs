//! Steps of groups (sender keys) through `dmp_group_*`; distributions travel inside pairwise
//! sessions, as the header requires.

use std::ptr;

use cucumber::{given, then, when};

use crate::abi::*;
use crate::world::{DmpWorld, names};

fn new_group(w: &DmpWorld, who: &str, gid: &[u8; 32]) -> Group {
    let mut out = ptr::null_mut();
    // SAFETY: live identity; 32-byte id; pointer write.
    ok(unsafe { dmp_group_new(w.id(who).0, gid.as_ptr(), &mut out) }, "dmp_group_new");
    Group(out)
}

fn add_member(w: &DmpWorld, who: &str, member: &str) {
    let id = w.id(member).id();
    // SAFETY: live group; 32-byte id.
    ok(unsafe { dmp_group_add_member(w.group(who).0, id.as_ptr()) }, "dmp_group_add_member");
}

/// The members (besides the actor) of the actor's group.
fn members_of(w: &DmpWorld, who: &str) -> Vec<String> {
    let g = w.group(who).0;
    let bytes = read_out(|out, cap, len| {
        // SAFETY: live group; buffer and length valid.
        unsafe { dmp_group_members(g, out, cap, len) }
    })
    .unwrap_or_else(|rc| panic!("dmp_group_members: {}", describe(rc)));
    bytes
        .chunks(32)
        .map(|id| {
            w.ids
                .iter()
                .find(|(_, i)| i.id() == id)
                .map(|(n, _)| n.clone())
                .expect("a member the scenario does not know")
        })
        .collect()
}

#[given(regex = r"^a group of ((?:\w+, )*\w+ and \w+) whose sender keys have been exchanged$")]
fn group_of(w: &mut DmpWorld, list: String) {
    let members = names(&list);
    let mut gid = [0u8; 32];
    // SAFETY: 32 writable bytes.
    ok(unsafe { dmp_random_bytes(gid.as_mut_ptr(), 32) }, "dmp_random_bytes");
    w.group_id = gid;
    for m in &members {
        w.ensure_identity(m, DMP_SUITE_HYBRID);
        let g = new_group(w, m, &gid);
        w.groups.insert(m.clone(), g);
    }
    for m in &members {
        for other in members.iter().filter(|o| *o != m) {
            add_member(w, m, other);
        }
    }
    for m in &members {
        for other in members.iter().filter(|o| *o != m) {
            w.distribute(m, other);
        }
    }
    for m in &members {
        let mut count = 0u32;
        // SAFETY: live group; valid write.
        ok(unsafe { dmp_group_member_count(w.group(m).0, &mut count) }, "dmp_group_member_count");
        assert_eq!(count as usize, members.len() - 1, "{m}'s group has {count} other members");
    }
}

#[when(regex = r#"^(\w+) sends "([^"]*)" to the group$"#)]
fn sends_to_group(w: &mut DmpWorld, who: String, text: String) {
    let env = w.group(&who).encrypt(text.as_bytes());
    w.post(&who, "the group", &text, env, text.as_bytes().to_vec());
}

#[when(regex = r#"^(\w+), who is not a member, sends "([^"]*)" to a group with the same id$"#)]
fn stranger_sends(w: &mut DmpWorld, who: String, text: String) {
    let gid = w.group_id;
    let g = new_group(w, &who, &gid);
    let env = g.encrypt(text.as_bytes());
    w.post(&who, "the group", &text, env, text.as_bytes().to_vec());
}

#[given(regex = r#"^(\w+) reads "([^"]*)" from (\w+) in the group$"#)]
#[when(regex = r#"^(\w+) reads "([^"]*)" from (\w+) in the group$"#)]
#[then(regex = r#"^(\w+) reads "([^"]*)" from (\w+) in the group$"#)]
fn reads_in_group(w: &mut DmpWorld, who: String, label: String, sender: String) {
    let mail = w.letter(&label);
    let (from, pt) = w
        .group(&who)
        .decrypt(&mail.bytes)
        .unwrap_or_else(|rc| panic!("{who} cannot read {label:?}: {}", describe(rc)));
    assert_eq!(from, w.id(&sender).id(), "the sender {who} was told is not {sender}");
    assert_eq!(pt, mail.text, "{who} read another plaintext");
}

fn observe_group(w: &mut DmpWorld, who: &str) {
    let snap = w.group(who).snapshot();
    w.group_before.insert(who.to_string(), snap);
}

fn try_read(w: &mut DmpWorld, who: &str, env: &[u8]) {
    observe_group(w, who);
    let rc = w.group(who).decrypt(env).err().unwrap_or(DMP_OK);
    w.tried(rc);
}

#[when(regex = r#"^(\w+) tries to read "([^"]*)" in the group$"#)]
fn tries_read(w: &mut DmpWorld, who: String, label: String) {
    let env = w.letter(&label).bytes;
    try_read(w, &who, &env);
}

/// A copy of a group message with the damage a feature names.
fn damage_group(w: &DmpWorld, env: &[u8], damage: &str) -> Vec<u8> {
    assert_eq!(env[1], 4, "not a group message");
    let mut e = env.to_vec();
    let n = e.len();
    match damage {
        "a bit flipped in the ciphertext" => e[74 + 24] ^= 0x01,
        "a bit flipped in the signature" => e[n - 1] ^= 0x01,
        "a bit flipped in the iteration" => e[73] ^= 0x01,
        "Carol named as the sender" => e[34..66].copy_from_slice(&w.id("Carol").id()),
        "a stranger named as the sender" => {
            let (mut seed, mut public) = ([0u8; 32], [0u8; 32]);
            // SAFETY: 32 writable bytes each.
            ok(unsafe { dmp_ed25519_keypair(seed.as_mut_ptr(), public.as_mut_ptr()) }, "dmp_ed25519_keypair");
            e[34..66].copy_from_slice(&public);
        }
        "a later key id" => {
            let k = u32::from_be_bytes(e[66..70].try_into().expect("4 bytes")) + 1;
            e[66..70].copy_from_slice(&k.to_be_bytes());
        }
        "the id of another group" => {
            // SAFETY: 32 writable bytes.
            ok(unsafe { dmp_random_bytes(e[2..34].as_mut_ptr(), 32) }, "dmp_random_bytes");
        }
        "protocol version 2" => e[0] = 2,
        "the type of a pairwise message" => e[1] = 2,
        "its signature cut off" => e.truncate(n - 64),
        other => panic!("no such damage: {other}"),
    }
    e
}

#[when(regex = r#"^(\w+) tries to read "([^"]*)" in the group with (.+)$"#)]
fn tries_read_damaged(w: &mut DmpWorld, who: String, label: String, damage: String) {
    let env = damage_group(w, &w.letter(&label).bytes, &damage);
    try_read(w, &who, &env);
}

#[then(regex = r"^(\w+)'s group is unchanged$")]
fn group_unchanged(w: &mut DmpWorld, who: String) {
    let before = w.group_before.get(&who).unwrap_or_else(|| panic!("no observation of {who}'s group"));
    assert!(*before == w.group(&who).snapshot(), "{who}'s group changed");
}

#[then(regex = r#"^the envelope of "([^"]*)" is as long as for a group of one member$"#)]
fn same_length_as_alone(w: &mut DmpWorld, label: String) {
    let mail = w.letter(&label);
    let gid = w.group_id;
    let alone = new_group(w, &mail.from, &gid);
    let mut len = 0usize;
    // SAFETY: live group; valid write.
    ok(unsafe { dmp_group_encrypted_len(alone.0, mail.text.len(), &mut len) }, "dmp_group_encrypted_len");
    assert_eq!(mail.bytes.len(), len, "a group message's size depends on the group's size");
}

#[when(regex = r"^(\w+) removes (\w+) from the group and sends (?:his|her) new sender key to the others$")]
fn removes(w: &mut DmpWorld, who: String, member: String) {
    let id = w.id(&member).id();
    // SAFETY: live group; 32-byte id.
    ok(unsafe { dmp_group_remove_member(w.group(&who).0, id.as_ptr()) }, "dmp_group_remove_member");
    for other in members_of(w, &who) {
        w.distribute(&who, &other);
    }
}

#[when(regex = r"^(\w+) adds (\w+) to the group and sends (?:him|her) (?:his|her) sender key$")]
fn adds(w: &mut DmpWorld, who: String, member: String) {
    w.ensure_identity(&member, DMP_SUITE_HYBRID);
    let gid = w.group_id;
    let g = new_group(w, &member, &gid);
    w.groups.insert(member.clone(), g);
    add_member(w, &who, &member);
    add_member(w, &member, &who);
    w.distribute(&who, &member);
}

fn rotate(w: &DmpWorld, who: &str) {
    let before = w.group(who).key_id();
    // SAFETY: live group.
    ok(unsafe { dmp_group_rotate(w.group(who).0) }, "dmp_group_rotate");
    assert_eq!(w.group(who).key_id(), before + 1, "a rotation takes the next key id");
}

#[when(regex = r"^(\w+) rotates (?:his|her) sender key and sends it to the others$")]
fn rotates_sender_key(w: &mut DmpWorld, who: String) {
    rotate(w, &who);
    for other in members_of(w, &who) {
        w.distribute(&who, &other);
    }
}

const DELAYED: &str = "(a delayed sender key)";

#[when(regex = r"^(\w+) rotates (?:his|her) sender key and sends it to (\w+), where it is delayed$")]
fn rotates_delayed(w: &mut DmpWorld, who: String, to: String) {
    rotate(w, &who);
    let dist = w.group(&who).distribution();
    w.send_bytes(&who, &to, DELAYED, &dist);
}

#[when(regex = r"^the delayed sender key reaches (\w+)$")]
fn delayed_arrives(w: &mut DmpWorld, to: String) {
    let mail = w.letter(DELAYED);
    assert_eq!(mail.to, to);
    let pt = w.deliver(&to, &mail.from, &mail.bytes).unwrap_or_else(|rc| panic!("{}", describe(rc)));
    let mut sender = [0u8; 32];
    // SAFETY: live session; 32 writable bytes.
    ok(
        unsafe { dmp_session_peer_id(w.session(&to, &mail.from).0, sender.as_mut_ptr()) },
        "dmp_session_peer_id",
    );
    // SAFETY: live group; 32-byte sender; distribution valid for its length.
    let rc =
        unsafe { dmp_group_process_distribution(w.group(&to).0, sender.as_ptr(), pt.as_ptr(), pt.len()) };
    ok(rc, "dmp_group_process_distribution");
}

#[then(regex = r"^(\w+)'s sender key id is (\d+)$")]
fn sender_key_id(w: &mut DmpWorld, who: String, want: u32) {
    assert_eq!(w.group(&who).key_id(), want);
}

#[when(regex = r"^(\w+) sends (\d+) messages to the group and (\w+) reads them all$")]
fn many_to_group(w: &mut DmpWorld, who: String, n: usize, reader: String) {
    for i in 0..n {
        let text = format!("message {i} under the current key");
        let env = w.group(&who).encrypt(text.as_bytes());
        let (from, pt) = w
            .group(&reader)
            .decrypt(&env)
            .unwrap_or_else(|rc| panic!("{reader} cannot read {text:?}: {}", describe(rc)));
        assert_eq!((from, pt), (w.id(&who).id(), text.into_bytes()));
    }
}

#[when(regex = r#"^(\w+) tries to read "([^"]*)" in the group into a buffer of (\d+) bytes$"#)]
fn tries_read_small(w: &mut DmpWorld, who: String, label: String, cap: usize) {
    let mail = w.letter(&label);
    observe_group(w, &who);
    let mut sender = [0u8; 32];
    let mut buf = vec![0u8; cap];
    let mut needed = 0usize;
    // SAFETY: live group; envelope valid; 32 writable bytes; buffer of `cap` bytes; length write.
    let rc = unsafe {
        dmp_group_decrypt(
            w.group(&who).0,
            mail.bytes.as_ptr(),
            mail.bytes.len(),
            sender.as_mut_ptr(),
            buf.as_mut_ptr(),
            cap,
            &mut needed,
        )
    };
    w.tried(rc);
    w.last_needed = Some(needed);
    w.last_sender = Some(sender);
}

#[then(regex = r"^no sender was written$")]
fn no_sender_written(w: &mut DmpWorld) {
    assert_eq!(w.last_sender, Some([0u8; 32]), "a refused call wrote a sender id");
}

#[given(regex = r"^(\w+) accepts forward jumps of at most (\d+) messages in the group$")]
fn group_jump_limit(w: &mut DmpWorld, who: String, n: u32) {
    // SAFETY: live group.
    ok(
        unsafe { dmp_group_set_limits(w.group(&who).0, n, dmp_default_max_skipped_keys()) },
        "dmp_group_set_limits",
    );
}

#[when(regex = r#"^(\w+) sends (\d+) messages to the group, "([^"\d]+)1" to "[^"]+"$"#)]
fn sends_many_to_group(w: &mut DmpWorld, who: String, n: usize, prefix: String) {
    for i in 1..=n {
        sends_to_group(w, who.clone(), format!("{prefix}{i}"));
    }
}
