//! Steps of the agent (`dmp_agent_*`, `dmp_event_*`): many peers, stores, restarts, groups.

use std::ptr;

use cucumber::{given, then, when};

use crate::abi::*;
use crate::pairwise::{check_hybrid_bundle, damage_pairwise, strip};
use crate::world::{DmpWorld, names};

const RIGHT_KEY: &str = "the right storage key";
const WRONG_KEY: &str = "a wrong storage key";

#[given(regex = r"^agents ((?:\w+, )*\w+(?: and \w+)?), each (in memory|with its own store)$")]
fn agents(w: &mut DmpWorld, list: String, kind: String) {
    // An agent's clock starts at its creation (seconds since 1970, as `dmp_agent_maintain` takes).
    w.agents_created_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    for who in names(&list) {
        let path = if kind == "in memory" { String::new() } else { w.store_path(&who) };
        let agent = Agent::open(&path, &storage_key(RIGHT_KEY), 0)
            .unwrap_or_else(|rc| panic!("dmp_agent_open for {who}: {}", describe(rc)));
        w.agent_ids.insert(who.clone(), agent.id());
        w.agents.insert(who, agent);
    }
}

fn agent_bundle(w: &DmpWorld, who: &str) -> Vec<u8> {
    let a = w.agent(who).0;
    read_out(|out, cap, len| {
        // SAFETY: live agent; buffer and length valid.
        unsafe { dmp_agent_bundle(a, 1, out, cap, len) }
    })
    .unwrap_or_else(|rc| panic!("dmp_agent_bundle: {}", describe(rc)))
}

#[given(regex = r"^(\w+)'s agent knows the bundles of (.+)$")]
fn knows_bundles(w: &mut DmpWorld, who: String, list: String) {
    for peer in names(&list) {
        let bundle = agent_bundle(w, &peer);
        let mut id = [0u8; 32];
        // SAFETY: live agent; bundle valid; 32 writable bytes.
        let rc =
            unsafe { dmp_agent_add_bundle(w.agent(&who).0, bundle.as_ptr(), bundle.len(), id.as_mut_ptr()) };
        ok(rc, "dmp_agent_add_bundle");
        assert_eq!(id, w.agent_id(&peer), "the bundle's agent id is not {peer}'s");
    }
}

#[then(regex = r"^(\w+)'s agent publishes a bundle of (DMP_\w+) bytes with an ML-KEM prekey$")]
fn agent_bundle_hybrid(w: &mut DmpWorld, who: String, size: String) {
    check_hybrid_bundle(&agent_bundle(w, &who), &size);
}

#[when(regex = r"^an attacker strips the ML-KEM part from the bundle of (\w+)'s agent$")]
fn strips_agent_bundle(w: &mut DmpWorld, who: String) {
    w.stripped = Some(strip(&agent_bundle(w, &who)));
}

#[when(regex = r"^(\w+)'s agent tries to add the stripped bundle$")]
fn add_stripped(w: &mut DmpWorld, who: String) {
    let b = w.stripped.clone().expect("no stripped bundle");
    let mut id = [0u8; 32];
    // SAFETY: live agent; bundle valid; 32 writable bytes.
    let rc = unsafe { dmp_agent_add_bundle(w.agent(&who).0, b.as_ptr(), b.len(), id.as_mut_ptr()) };
    w.tried(rc);
}

fn agent_send(w: &DmpWorld, who: &str, to: &str, text: &str) -> Result<Vec<u8>, i32> {
    let a = w.agent(who).0;
    let peer = w.agent_id(to);
    read_out(|out, cap, len| {
        // SAFETY: live agent; 32-byte peer id; plaintext valid; buffer and length valid.
        unsafe { dmp_agent_send(a, peer.as_ptr(), text.as_ptr(), text.len(), out, cap, len) }
    })
}

#[when(regex = r#"^(\w+)'s agent sends "([^"]*)" to (\w+)$"#)]
fn agent_sends(w: &mut DmpWorld, who: String, text: String, to: String) {
    let env = agent_send(w, &who, &to, &text).unwrap_or_else(|rc| panic!("dmp_agent_send: {}", describe(rc)));
    w.post(&who, &to, &text, env, text.as_bytes().to_vec());
}

#[when(regex = r#"^(\w+)'s agent tries to send "([^"]*)" to (\w+)$"#)]
fn agent_tries_send(w: &mut DmpWorld, who: String, text: String, to: String) {
    let rc = agent_send(w, &who, &to, &text).err().unwrap_or(DMP_OK);
    w.tried(rc);
}

fn agent_receive(w: &DmpWorld, who: &str, env: &[u8]) -> Result<EventView, i32> {
    let mut event = ptr::null_mut();
    // SAFETY: live agent; envelope valid; pointer write.
    let rc = unsafe { dmp_agent_receive(w.agent(who).0, env.as_ptr(), env.len(), &mut event) };
    if rc != DMP_OK {
        assert!(event.is_null(), "a refused dmp_agent_receive left an event behind");
        return Err(rc);
    }
    let event = Event(event);
    Ok(event.read())
}

fn receive_expecting(w: &DmpWorld, who: &str, label: &str, kind: i32) -> EventView {
    let mail = w.letter(label);
    let ev = agent_receive(w, who, &mail.bytes)
        .unwrap_or_else(|rc| panic!("{who} cannot read {label:?}: {}", describe(rc)));
    assert_eq!(ev.kind, kind, "the kind of event {who} got for {label:?}");
    assert_eq!(ev.peer, w.agent_id(&mail.from), "the event does not come from {}", mail.from);
    assert_eq!(ev.plaintext, mail.text, "{who} read another plaintext");
    ev
}

#[then(regex = r#"^(\w+)'s agent receives "([^"]*)" from (\w+)$"#)]
#[when(regex = r#"^(\w+)'s agent receives "([^"]*)" from (\w+)$"#)]
fn agent_receives(w: &mut DmpWorld, who: String, label: String, from: String) {
    assert_eq!(w.letter(&label).from, from);
    let ev = receive_expecting(w, &who, &label, DMP_EVENT_MESSAGE);
    assert_eq!(ev.group, None, "a pairwise message reported a group");
}

#[when(regex = r#"^(\w+)'s agent tries to receive "([^"]*)"(?: again)?$"#)]
fn agent_tries_receive(w: &mut DmpWorld, who: String, label: String) {
    let env = w.letter(&label).bytes;
    let rc = agent_receive(w, &who, &env).err().unwrap_or(DMP_OK);
    w.tried(rc);
}

#[when(regex = r#"^(\w+)'s agent tries to receive "([^"]*)" with (.+)$"#)]
fn agent_tries_receive_damaged(w: &mut DmpWorld, who: String, label: String, damage: String) {
    let env = damage_pairwise(&w.letter(&label).bytes, &damage);
    let rc = agent_receive(w, &who, &env).err().unwrap_or(DMP_OK);
    w.tried(rc);
}

fn peers_of(w: &DmpWorld, who: &str) -> Vec<[u8; 32]> {
    let a = w.agent(who).0;
    let bytes = read_out(|out, cap, len| {
        // SAFETY: live agent; buffer and length valid.
        unsafe { dmp_agent_peers(a, out, cap, len) }
    })
    .unwrap_or_else(|rc| panic!("dmp_agent_peers: {}", describe(rc)));
    bytes.chunks(32).map(|c| c.try_into().expect("32 bytes")).collect()
}

#[then(regex = r"^(\w+)'s agent lists (.+) as its peers$")]
fn lists_peers(w: &mut DmpWorld, who: String, list: String) {
    let mut want: Vec<[u8; 32]> = names(&list).iter().map(|n| w.agent_id(n)).collect();
    want.sort();
    assert_eq!(peers_of(w, &who), want, "{who}'s peers, in id order");
}

#[then(regex = r"^(\w+)'s agent has no peers$")]
fn no_peers(w: &mut DmpWorld, who: String) {
    assert!(peers_of(w, &who).is_empty(), "{who}'s agent has peers");
}

#[then(regex = r"^(\w+)'s agent session with (\w+) is (DORMANT|INITIATING|ACTIVE|CLOSED)$")]
fn agent_session_state(w: &mut DmpWorld, who: String, peer: String, state: String) {
    let id = w.agent_id(&peer);
    let mut got = -1;
    // SAFETY: live agent; 32-byte id; valid write.
    ok(unsafe { dmp_agent_session_state(w.agent(&who).0, id.as_ptr(), &mut got) }, "dmp_agent_session_state");
    assert_eq!(got, state_code(&state), "{who}'s session with {peer} is in state {got}, not {state}");
}

#[then(regex = r"^the next messages of (\w+)'s and (\w+)'s agents carry the same session id$")]
fn same_session_id(w: &mut DmpWorld, a: String, b: String) {
    let la = format!("(next) from {a}");
    let lb = format!("(next) from {b}");
    agent_sends(w, a.clone(), la.clone(), b.clone());
    agent_sends(w, b.clone(), lb.clone(), a.clone());
    let (ea, eb) = (w.letter(&la).bytes, w.letter(&lb).bytes);
    assert_eq!(ea[2..10], eb[2..10], "the two agents send on different sessions");
    agent_receives(w, b.clone(), la, a.clone());
    agent_receives(w, a, lb, b);
}

#[when(regex = r"^(\w+)'s agent is closed$")]
fn agent_closed(w: &mut DmpWorld, who: String) {
    assert!(w.agents.remove(&who).is_some(), "{who} has no open agent");
}

fn open_store(w: &mut DmpWorld, who: &str, key: &str) -> Result<Agent, i32> {
    let path = w.store_path(who);
    Agent::open(&path, &storage_key(key), 0)
}

#[when(regex = r"^(\w+)'s agent opens (?:his|her) store with the right storage key$")]
fn reopens(w: &mut DmpWorld, who: String) {
    let agent = open_store(w, &who, RIGHT_KEY)
        .unwrap_or_else(|rc| panic!("reopening {who}'s store: {}", describe(rc)));
    w.agents.insert(who, agent);
}

#[when(regex = r"^(\w+) tries to open (?:his|her) store a second time with (the right|a wrong) storage key$")]
fn tries_open_again(w: &mut DmpWorld, who: String, which: String) {
    let key = if which == "the right" { RIGHT_KEY } else { WRONG_KEY };
    match open_store(w, &who, key) {
        Ok(agent) => {
            assert_eq!(agent.id(), w.agent_id(&who), "the store holds another identity");
            // The store's first handle, if it is still open, stays where it is.
            match w.agents.entry(who.clone()) {
                std::collections::btree_map::Entry::Occupied(_) => {
                    w.second_agents.insert(who, agent);
                }
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(agent);
                }
            }
            w.tried(DMP_OK);
        }
        Err(rc) => w.tried(rc),
    }
}

#[then(regex = r"^(\w+)'s agent has the same agent id as before$")]
fn same_agent_id(w: &mut DmpWorld, who: String) {
    assert_eq!(w.agent(&who).id(), w.agent_id(&who));
}

#[when(regex = r"^(\w+)'s agent connects to (\w+)$")]
fn connects(w: &mut DmpWorld, who: String, to: String) {
    let a = w.agent(&who).0;
    let peer = w.agent_id(&to);
    let env = read_out(|out, cap, len| {
        // SAFETY: live agent; 32-byte peer id; buffer and length valid.
        unsafe { dmp_agent_connect(a, peer.as_ptr(), out, cap, len) }
    })
    .unwrap_or_else(|rc| panic!("dmp_agent_connect: {}", describe(rc)));
    w.post(&who, &to, &format!("(connect) {who} to {to}"), env, Vec::new());
}

#[then(regex = r"^(\w+)'s agent reports that (\w+) established a session$")]
fn reports_established(w: &mut DmpWorld, who: String, from: String) {
    let ev = receive_expecting(w, &who, &format!("(connect) {from} to {who}"), DMP_EVENT_SESSION_ESTABLISHED);
    assert!(ev.new_session, "the event does not say a session was created");
}

/// Delivers every agent's outbox until all are empty (receivers may queue replies).
fn deliver_outboxes(w: &mut DmpWorld) {
    loop {
        let mut delivered = 0;
        let senders: Vec<String> = w.agents.keys().cloned().collect();
        for from in senders {
            loop {
                let a = w.agent(&from).0;
                let mut count = 0usize;
                // SAFETY: live agent; valid write.
                ok(unsafe { dmp_agent_outbox_count(a, &mut count) }, "dmp_agent_outbox_count");
                if count == 0 {
                    break;
                }
                let mut peer = [0u8; 32];
                let mut seq = 0u64;
                let env = read_out(|out, cap, len| {
                    // SAFETY: live agent; 32 writable bytes; buffer, length and seq valid.
                    unsafe { dmp_agent_outbox_next(a, peer.as_mut_ptr(), out, cap, len, &mut seq) }
                })
                .unwrap_or_else(|rc| panic!("dmp_agent_outbox_next: {}", describe(rc)));
                let to = w.agent_named(&peer);
                let ev = agent_receive(w, &to, &env).unwrap_or_else(|rc| {
                    panic!("{to} cannot take {from}'s outbox envelope: {}", describe(rc))
                });
                assert_eq!(
                    ev.kind, DMP_EVENT_DISTRIBUTION_CONSUMED,
                    "an outbox envelope that is not a sender key"
                );
                assert_eq!(ev.group, w.agent_group, "a sender key for another group");
                if ev.new_group {
                    w.invitations.push((to.clone(), ev.peer, ev.group.expect("a group event")));
                }
                // SAFETY: live agent.
                ok(unsafe { dmp_agent_outbox_done(a, seq) }, "dmp_agent_outbox_done");
                delivered += 1;
            }
        }
        if delivered == 0 {
            return;
        }
    }
}

#[when(regex = r"^(\w+)'s agent creates a group with (.+) and delivers its outbox$")]
fn creates_group(w: &mut DmpWorld, who: String, list: String) {
    let mut gid = [0u8; 32];
    // SAFETY: live agent; 32 writable bytes.
    ok(unsafe { dmp_agent_group_create(w.agent(&who).0, gid.as_mut_ptr()) }, "dmp_agent_group_create");
    w.agent_group = Some(gid);
    for member in names(&list) {
        let id = w.agent_id(&member);
        // SAFETY: live agent; 32-byte ids.
        ok(unsafe { dmp_agent_group_add(w.agent(&who).0, gid.as_ptr(), id.as_ptr()) }, "dmp_agent_group_add");
    }
    deliver_outboxes(w);
}

#[when(regex = r"^(\w+)'s agent removes (\w+) from the group and delivers its outbox$")]
fn removes_from_group(w: &mut DmpWorld, who: String, member: String) {
    let gid = w.agent_group.expect("no group");
    let id = w.agent_id(&member);
    // SAFETY: live agent; 32-byte ids.
    ok(
        unsafe { dmp_agent_group_remove(w.agent(&who).0, gid.as_ptr(), id.as_ptr()) },
        "dmp_agent_group_remove",
    );
    deliver_outboxes(w);
}

#[then(regex = r"^(\w+)'s agent was invited into the group by (\w+), and nobody else was invited$")]
fn invited_by(w: &mut DmpWorld, who: String, inviter: String) {
    let want = vec![(who, w.agent_id(&inviter), w.agent_group.expect("no group"))];
    assert_eq!(w.invitations, want);
}

#[when(regex = r"^(\w+)'s agent leaves the group$")]
fn leaves_group(w: &mut DmpWorld, who: String) {
    let gid = w.agent_group.expect("no group");
    // SAFETY: live agent; 32-byte group id.
    ok(unsafe { dmp_agent_group_leave(w.agent(&who).0, gid.as_ptr()) }, "dmp_agent_group_leave");
}

#[when(regex = r#"^(\w+)'s agent sends "([^"]*)" to the group$"#)]
fn agent_group_send(w: &mut DmpWorld, who: String, text: String) {
    let gid = w.agent_group.expect("no group");
    let a = w.agent(&who).0;
    let env = read_out(|out, cap, len| {
        // SAFETY: live agent; 32-byte group id; plaintext valid; buffer and length valid.
        unsafe { dmp_agent_group_send(a, gid.as_ptr(), text.as_ptr(), text.len(), out, cap, len) }
    })
    .unwrap_or_else(|rc| panic!("dmp_agent_group_send: {}", describe(rc)));
    w.post(&who, "the group", &text, env, text.as_bytes().to_vec());
}

#[then(regex = r#"^(\w+)'s agent receives "([^"]*)" from (\w+) in the group$"#)]
fn agent_receives_group(w: &mut DmpWorld, who: String, label: String, from: String) {
    assert_eq!(w.letter(&label).from, from);
    let ev = receive_expecting(w, &who, &label, DMP_EVENT_GROUP_MESSAGE);
    assert_eq!(ev.group, w.agent_group, "the event names another group");
}

#[given(regex = r"^(\w+)'s agent does its upkeep (\d+) days after the agents were created$")]
#[when(regex = r"^(\w+)'s agent does its upkeep (\d+) days after the agents were created$")]
fn upkeep(w: &mut DmpWorld, who: String, days: u64) {
    let now = w.agents_created_at + days * 24 * 3600;
    // SAFETY: live agent.
    ok(unsafe { dmp_agent_maintain(w.agent(&who).0, now) }, "dmp_agent_maintain");
}

fn agent_bundle_without_opk(w: &DmpWorld, who: &str) -> Vec<u8> {
    let a = w.agent(who).0;
    read_out(|out, cap, len| {
        // SAFETY: live agent; buffer and length valid.
        unsafe { dmp_agent_bundle(a, 0, out, cap, len) }
    })
    .unwrap_or_else(|rc| panic!("dmp_agent_bundle: {}", describe(rc)))
}

fn spk_id_of(bundle: &[u8]) -> u32 {
    u32::from_be_bytes(bundle[34..38].try_into().expect("4 bytes"))
}

/// Signed prekeys are counted from the agent's first one (#1), whose id is random.
#[given(regex = r"^(\w+)'s agent has published a bundle naming its first signed prekey$")]
fn agent_published(w: &mut DmpWorld, who: String) {
    let b = agent_bundle_without_opk(w, &who);
    w.bundles.insert(who, b);
}

#[then(regex = r"^a bundle of (\w+)'s agent names signed prekey #(\d+)$")]
fn agent_bundle_names(w: &mut DmpWorld, who: String, nth: u32) {
    let first = spk_id_of(&w.bundle(&who));
    let b = agent_bundle_without_opk(w, &who);
    assert_eq!(spk_id_of(&b), first + nth - 1, "the bundle's signed prekey id, counted from the first");
}

#[when(regex = r"^(\w+)'s agent adds (\w+)'s earlier bundle$")]
fn adds_earlier_bundle(w: &mut DmpWorld, who: String, peer: String) {
    let b = w.bundle(&peer);
    let mut id = [0u8; 32];
    // SAFETY: live agent; bundle valid; 32 writable bytes.
    ok(
        unsafe { dmp_agent_add_bundle(w.agent(&who).0, b.as_ptr(), b.len(), id.as_mut_ptr()) },
        "dmp_agent_add_bundle",
    );
    assert_eq!(id, w.agent_id(&peer));
}

#[given(regex = r"^(\d+) messages have been exchanged between (\w+)'s and (\w+)'s agents$")]
fn exchanged(w: &mut DmpWorld, n: usize, a: String, b: String) {
    for i in 0..n {
        let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let label = format!("(exchange {i}) from {from}");
        agent_sends(w, from.clone(), label.clone(), to.clone());
        agent_receives(w, to.clone(), label, from.clone());
    }
}

#[given(
    regex = r"^agents (\w+) and (\w+) made from the seeds (0x[0-9a-f]{2}) and (0x[0-9a-f]{2}), each in memory$"
)]
fn seeded_agents(w: &mut DmpWorld, a: String, b: String, seed_a: String, seed_b: String) {
    for (who, seed) in [(a, seed_a), (b, seed_b)] {
        let byte = u8::from_str_radix(seed.trim_start_matches("0x"), 16).expect("a hex byte");
        let seed = [byte; 32];
        let key = storage_key(RIGHT_KEY);
        let mut out = ptr::null_mut();
        // SAFETY: empty path (in memory); 32-byte key and seed; pointer write.
        let rc =
            unsafe { dmp_agent_open_with_seed(ptr::null(), 0, key.as_ptr(), seed.as_ptr(), 0, &mut out) };
        ok(rc, "dmp_agent_open_with_seed");
        let agent = Agent(out);
        assert_eq!(
            agent.id(),
            Identity::from_seed(&seed, DMP_SUITE_HYBRID).id(),
            "the agent is not its seed's identity"
        );
        w.agent_ids.insert(who.clone(), agent.id());
        w.agents.insert(who, agent);
    }
}

#[given(regex = r"^(\w+)'s agent id is (lower|higher) than (\w+)'s$")]
fn id_order(w: &mut DmpWorld, a: String, order: String, b: String) {
    let lower = w.agent_id(&a) < w.agent_id(&b);
    assert_eq!(lower, order == "lower", "{a}'s agent id is not {order} than {b}'s");
}

#[when(regex = r#"^(\w+)'s agent tries to send "([^"]*)" to (\w+) into a buffer of (\d+) bytes$"#)]
fn agent_send_small(w: &mut DmpWorld, who: String, text: String, to: String, cap: usize) {
    let peer = w.agent_id(&to);
    let mut buf = vec![0u8; cap];
    let mut needed = 0usize;
    // SAFETY: live agent; 32-byte peer; plaintext valid; buffer of `cap` bytes; length write.
    let rc = unsafe {
        dmp_agent_send(
            w.agent(&who).0,
            peer.as_ptr(),
            text.as_ptr(),
            text.len(),
            buf.as_mut_ptr(),
            cap,
            &mut needed,
        )
    };
    w.tried(rc);
    w.last_needed = Some(needed);
}

#[then(regex = r"^(\w+)'s agent has no session with (\w+)$")]
fn agent_no_session(w: &mut DmpWorld, who: String, peer: String) {
    let id = w.agent_id(&peer);
    let mut state = -1;
    // SAFETY: live agent; 32-byte id; valid write.
    let rc = unsafe { dmp_agent_session_state(w.agent(&who).0, id.as_ptr(), &mut state) };
    assert!(rc == DMP_ERR_NO_SESSION, "expected DMP_ERR_NO_SESSION, got {}", describe(rc));
}
