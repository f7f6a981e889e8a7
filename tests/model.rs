//! Model-based tests: random schedules of send / deliver / drop / duplicate / reorder / tamper /
//! save-and-restore, between two sessions, within a 3-member group and between two agents,
//! checked against a simple model of what the network did.

mod common;

use common::{active, snapshot, storage_key};
use dmp::state::{RecordKind, open_record};
use dmp::{Agent, AgentConfig, Error, EventKind, Group, Identity, Session, StorageKey};
use proptest::prelude::*;

/// One step of a schedule. Indices are taken modulo the size of the list they pick from, so every
/// schedule is valid and shrinks towards index 0 and bit 0.
#[derive(Clone, Debug)]
enum Act {
    /// `from` (a side or a member index) encrypts a fresh message.
    Send(usize),
    /// The network delivers a random in-flight copy.
    Deliver(usize),
    /// The network delivers the most recent in-flight copy (out of order when several are queued).
    Reorder,
    /// The network loses an in-flight copy for good.
    Drop(usize),
    /// The network delivers an already delivered copy again.
    Duplicate(usize),
    /// The network flips one bit of an in-flight copy and delivers that (the original stays in flight).
    Tamper(usize, usize),
    /// A side (or member) saves its state sealed and restarts from the record.
    Restore(usize),
}

fn act(parties: usize, restore: bool) -> impl Strategy<Value = Act> {
    let restore_weight = if restore { 1 } else { 0 };
    prop_oneof![
        4 => (0..parties).prop_map(Act::Send),
        4 => any::<usize>().prop_map(Act::Deliver),
        1 => Just(Act::Reorder),
        1 => any::<usize>().prop_map(Act::Drop),
        1 => any::<usize>().prop_map(Act::Duplicate),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(i, b)| Act::Tamper(i, b)),
        restore_weight => (0..parties).prop_map(Act::Restore),
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() }
}

fn flip(env: &[u8], bit: usize) -> (Vec<u8>, usize, u8) {
    let bit = bit % (env.len() * 8);
    let mut t = env.to_vec();
    t[bit / 8] ^= 1 << (bit % 8);
    (t, bit / 8, 1 << (bit % 8))
}

/// The errors a one-bit flip of a pairwise MESSAGE envelope (type 2, section 4.3) may give, by
/// the byte flipped. `old_chain`: the original's ratchet key is one the receiver has moved past.
fn pairwise_tamper_errors(byte: usize, mask: u8, old_chain: bool) -> &'static [Error] {
    match byte {
        0 => &[Error::UnsupportedVersion],
        // 0x02 ^ 0x01 = 0x03, a PREKEY_BUNDLE: known but wrong type; any other flip: unknown type.
        1 if mask == 0x01 => &[Error::WrongMessageType],
        1 => &[Error::BadEnvelope],
        2..10 => &[Error::WrongSession],
        // The first 8 bytes of the ratchet key are the prefix remembered for old chains.
        10..18 => &[Error::AuthFailed],
        // A changed key with an old chain's prefix is taken for that old chain: a replay.
        18..42 if old_chain => &[Error::AuthFailed, Error::Duplicate],
        18..42 => &[Error::AuthFailed],
        // PN and N (one-byte varints: a schedule never counts to 128) steer the key search:
        // another stored key, a used number, a big jump; a flipped top bit makes the varint run
        // on into the next bytes, which may not be a valid varint at all.
        42..44 => &[Error::AuthFailed, Error::Duplicate, Error::TooFarAhead, Error::BadEnvelope],
        _ => &[Error::AuthFailed],
    }
}

// ------------------------------------------------------------------------------------------
// Pairwise: two sessions, or two agents, behind one trait.

trait Side {
    fn send(&mut self, pt: &[u8]) -> Vec<u8>;
    fn recv(&mut self, env: &[u8]) -> Result<Vec<u8>, Error>;
    /// Bytes that change iff the state changes (`None`: not observable).
    fn state(&self) -> Option<Vec<u8>>;
    fn restore(&mut self);
}

struct SessionSide(Session, StorageKey);

impl Side for SessionSide {
    fn send(&mut self, pt: &[u8]) -> Vec<u8> {
        self.0.encrypt(pt).unwrap()
    }
    fn recv(&mut self, env: &[u8]) -> Result<Vec<u8>, Error> {
        self.0.decrypt(env)
    }
    fn state(&self) -> Option<Vec<u8>> {
        Some(snapshot(&self.0))
    }
    fn restore(&mut self) {
        let before = snapshot(&self.0);
        let record = self.0.to_sealed(&self.1).unwrap();
        self.0 = Session::from_sealed(&record, &self.1).unwrap();
        assert_eq!(snapshot(&self.0), before, "restore changed the state");
    }
}

struct AgentSide {
    agent: Agent,
    peer: dmp::AgentId,
}

impl Side for AgentSide {
    fn send(&mut self, pt: &[u8]) -> Vec<u8> {
        self.agent.send(&self.peer, pt).unwrap()
    }
    fn recv(&mut self, env: &[u8]) -> Result<Vec<u8>, Error> {
        let ev = self.agent.receive(env)?;
        assert_eq!((ev.kind, ev.peer, ev.new_session), (EventKind::Message, self.peer, false));
        Ok(ev.plaintext.to_vec())
    }
    fn state(&self) -> Option<Vec<u8>> {
        None
    }
    fn restore(&mut self) {
        unreachable!("in-memory agents are not restored")
    }
}

struct Msg {
    from: usize,
    env: Vec<u8>,
    pt: Vec<u8>,
    delivered: bool,
    /// Number of the sender's sending chain (it changes each time the sender has read a
    /// message of a newer chain of the peer).
    chain: usize,
}

struct PairModel<S: Side> {
    sides: [S; 2],
    msgs: Vec<Msg>,
    in_flight: Vec<usize>,
    /// Per side: the chain number of its last send.
    chain: [usize; 2],
    /// Per side: the highest chain number of the peer it has read.
    seen: [Option<usize>; 2],
    /// Per side: the chain number its next send uses.
    next_chain: [usize; 2],
}

impl<S: Side> PairModel<S> {
    fn new(sides: [S; 2]) -> Self {
        // After the set-up (side 0 sent on its chain 0, side 1 replied on its chain 0), side 0 has
        // read a new chain of side 1, so its next send starts its chain 1.
        PairModel {
            sides,
            msgs: Vec::new(),
            in_flight: Vec::new(),
            chain: [0, 0],
            seen: [Some(0), Some(0)],
            next_chain: [1, 0],
        }
    }

    fn send(&mut self, from: usize) {
        let id = self.msgs.len();
        // Varying lengths so padding buckets differ; the content names the message.
        let pt = format!("{from}:{id}:{}", "x".repeat(id % 7)).into_bytes();
        let env = self.sides[from].send(&pt);
        self.chain[from] = self.next_chain[from];
        self.msgs.push(Msg { from, env, pt, delivered: false, chain: self.chain[from] });
        self.in_flight.push(id);
    }

    fn deliver(&mut self, slot: usize) {
        let id = self.in_flight.remove(slot);
        let m = &mut self.msgs[id];
        let to = 1 - m.from;
        let got = self.sides[to].recv(&m.env);
        assert_eq!(got.as_deref(), Ok(&m.pt[..]), "message {id} from side {} not decrypted", m.from);
        m.delivered = true;
        if self.seen[to].is_none_or(|c| m.chain > c) {
            self.seen[to] = Some(m.chain);
            // Reading a newer chain of the peer makes the next send start a new chain.
            self.next_chain[to] = self.chain[to] + 1;
        }
    }

    /// Delivers `env` to `to`, expects one of `errors`, and checks the refusal changed nothing.
    fn refuse(&mut self, to: usize, env: &[u8], errors: &[Error], what: &str) {
        let before = self.sides[to].state();
        let got = self.sides[to].recv(env);
        match got {
            Err(e) if errors.contains(&e) => {}
            other => panic!("{what}: expected one of {errors:?}, got {other:?}"),
        }
        assert_eq!(self.sides[to].state(), before, "{what}: a refused input changed the state");
    }

    fn step(&mut self, a: &Act) {
        match *a {
            Act::Send(from) => self.send(from % 2),
            Act::Deliver(i) if !self.in_flight.is_empty() => self.deliver(i % self.in_flight.len()),
            Act::Reorder if !self.in_flight.is_empty() => self.deliver(self.in_flight.len() - 1),
            Act::Drop(i) if !self.in_flight.is_empty() => {
                let n = self.in_flight.len();
                self.in_flight.remove(i % n);
            }
            Act::Duplicate(i) => {
                let done: Vec<usize> = (0..self.msgs.len()).filter(|&k| self.msgs[k].delivered).collect();
                if done.is_empty() {
                    return;
                }
                let id = done[i % done.len()];
                let (to, env) = (1 - self.msgs[id].from, self.msgs[id].env.clone());
                // Chains more than MAX_OLD_RATCHET_KEYS (128) steps old would be forgotten; a
                // schedule of at most 60 actions never gets there, so a replay is always Duplicate.
                self.refuse(to, &env, &[Error::Duplicate], &format!("replay of message {id}"));
            }
            Act::Tamper(i, bit) if !self.in_flight.is_empty() => {
                let id = self.in_flight[i % self.in_flight.len()];
                let m = &self.msgs[id];
                let to = 1 - m.from;
                let (t, byte, mask) = flip(&m.env, bit);
                let old_chain = self.seen[to].is_some_and(|c| m.chain < c);
                let errors = pairwise_tamper_errors(byte, mask, old_chain);
                self.refuse(to, &t, errors, &format!("message {id} with byte {byte} ^ {mask:#04x}"));
            }
            Act::Restore(side) => self.sides[side % 2].restore(),
            _ => {}
        }
    }

    /// Everything still in flight arrives (in order), then both sides talk both ways.
    fn finish(&mut self) {
        while !self.in_flight.is_empty() {
            self.deliver(0);
        }
        for from in [0, 1, 0, 1] {
            self.send(from);
            self.deliver(0);
        }
        let delivered = self.msgs.iter().filter(|m| m.delivered).count();
        assert!(delivered >= 4);
    }
}

fn run_pair<S: Side>(sides: [S; 2], acts: &[Act]) {
    let mut m = PairModel::new(sides);
    for a in acts {
        m.step(a);
    }
    m.finish();
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn two_sessions_follow_the_model(acts in prop::collection::vec(act(2, true), 0..60)) {
        let p = active();
        let key = storage_key();
        run_pair([SessionSide(p.alice, key.clone()), SessionSide(p.bob, key)], &acts);
    }

    #[test]
    fn two_agents_follow_the_model(acts in prop::collection::vec(act(2, false), 0..60)) {
        let key = StorageKey::from_bytes([0x33; 32]);
        let mut a = Agent::open(None, key.clone(), AgentConfig::default()).unwrap();
        let mut b = Agent::open(None, key, AgentConfig::default()).unwrap();
        let bundle = b.bundle(true).unwrap();
        a.add_bundle(&bundle).unwrap();
        let first = a.send(&b.agent_id(), b"hello").unwrap();
        assert_eq!(&b.receive(&first).unwrap().plaintext[..], b"hello");
        let reply = b.send(&a.agent_id(), b"hi").unwrap();
        assert_eq!(&a.receive(&reply).unwrap().plaintext[..], b"hi");
        let (aid, bid) = (a.agent_id(), b.agent_id());
        run_pair([AgentSide { agent: a, peer: bid }, AgentSide { agent: b, peer: aid }], &acts);
    }
}

// ------------------------------------------------------------------------------------------
// A 3-member group.

struct GroupModel {
    ids: Vec<Identity>,
    groups: Vec<Group>,
    key: StorageKey,
    /// (sender, envelope, plaintext)
    msgs: Vec<(usize, Vec<u8>, Vec<u8>)>,
    /// (message, recipient)
    in_flight: Vec<(usize, usize)>,
    delivered: Vec<(usize, usize)>,
}

fn gsnap(g: &Group, key: &StorageKey) -> Vec<u8> {
    open_record(RecordKind::Group, key, &g.to_sealed(key).unwrap()).unwrap().to_vec()
}

impl GroupModel {
    fn new(n: usize) -> Self {
        let ids: Vec<Identity> = (0..n).map(|_| Identity::generate().unwrap()).collect();
        let gid = [0x42; 32];
        let mut groups: Vec<Group> = ids.iter().map(|i| Group::new(i.agent_id(), gid).unwrap()).collect();
        for (a, g) in groups.iter_mut().enumerate() {
            for (b, other) in ids.iter().enumerate() {
                if a != b {
                    g.add_member(&other.agent_id()).unwrap();
                }
            }
        }
        for from in 0..n {
            let d = groups[from].distribution();
            for (to, g) in groups.iter_mut().enumerate() {
                if to != from {
                    g.process_distribution(&ids[from].agent_id(), &d).unwrap();
                }
            }
        }
        GroupModel {
            ids,
            groups,
            key: StorageKey::from_bytes([0x77; 32]),
            msgs: Vec::new(),
            in_flight: Vec::new(),
            delivered: Vec::new(),
        }
    }

    fn send(&mut self, from: usize) {
        let id = self.msgs.len();
        let pt = format!("{from}:{id}:{}", "y".repeat(id % 5)).into_bytes();
        let env = self.groups[from].encrypt(&pt).unwrap();
        for to in 0..self.groups.len() {
            if to != from {
                self.in_flight.push((id, to));
            }
        }
        self.msgs.push((from, env, pt));
    }

    fn deliver(&mut self, slot: usize) {
        let (id, to) = self.in_flight.remove(slot);
        let (from, env, pt) = &self.msgs[id];
        let got = self.groups[to].decrypt(env);
        assert_eq!(got, Ok((self.ids[*from].agent_id(), pt.clone())), "message {id} to member {to}");
        self.delivered.push((id, to));
    }

    fn refuse(&mut self, to: usize, env: &[u8], errors: &[Error], what: &str) {
        let before = gsnap(&self.groups[to], &self.key);
        match self.groups[to].decrypt(env) {
            Err(e) if errors.contains(&e) => {}
            other => panic!("{what}: expected one of {errors:?}, got {other:?}"),
        }
        assert_eq!(gsnap(&self.groups[to], &self.key), before, "{what}: a refused input changed the state");
    }

    fn step(&mut self, a: &Act) {
        let n = self.groups.len();
        match *a {
            Act::Send(from) => self.send(from % n),
            Act::Deliver(i) if !self.in_flight.is_empty() => self.deliver(i % self.in_flight.len()),
            Act::Reorder if !self.in_flight.is_empty() => self.deliver(self.in_flight.len() - 1),
            Act::Drop(i) if !self.in_flight.is_empty() => {
                let len = self.in_flight.len();
                self.in_flight.remove(i % len);
            }
            Act::Duplicate(i) if !self.delivered.is_empty() => {
                let (id, to) = self.delivered[i % self.delivered.len()];
                let env = self.msgs[id].1.clone();
                self.refuse(to, &env, &[Error::Duplicate], &format!("replay of message {id} to {to}"));
            }
            Act::Tamper(i, bit) if !self.in_flight.is_empty() => {
                let (id, to) = self.in_flight[i % self.in_flight.len()];
                let env = &self.msgs[id].1;
                let (t, byte, mask) = flip(env, bit);
                let key_id = |e: &[u8]| u32::from_be_bytes(e[66..70].try_into().unwrap());
                let errors: &[Error] = match byte {
                    0 => &[Error::UnsupportedVersion],
                    // 0x04 ^ 0x01 = 0x05, a SENDER_KEY_DISTRIBUTION; other flips: unknown types.
                    1 if mask == 0x01 => &[Error::WrongMessageType],
                    1 => &[Error::BadEnvelope],
                    2..34 => &[Error::WrongSession],
                    34..66 => &[Error::UnknownSender],
                    // No rotation in this schedule: a greater key id is unknown, a smaller superseded.
                    66..70 if key_id(&t) > key_id(env) => &[Error::UnknownKeyId],
                    66..70 => &[Error::SupersededKey],
                    // Iteration, sealed part, signature: all covered by the signature.
                    _ => &[Error::BadSignature],
                };
                self.refuse(to, &t, errors, &format!("message {id} to {to} with byte {byte} ^ {mask:#04x}"));
            }
            Act::Restore(m) => {
                let m = m % n;
                let before = gsnap(&self.groups[m], &self.key);
                let record = self.groups[m].to_sealed(&self.key).unwrap();
                self.groups[m] = Group::from_sealed(&record, &self.key).unwrap();
                assert_eq!(gsnap(&self.groups[m], &self.key), before, "restore changed member {m}");
            }
            _ => {}
        }
    }

    fn finish(&mut self) {
        while !self.in_flight.is_empty() {
            self.deliver(0);
        }
        for from in 0..self.groups.len() {
            self.send(from);
            while !self.in_flight.is_empty() {
                self.deliver(0);
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn three_member_group_follows_the_model(acts in prop::collection::vec(act(3, true), 0..60)) {
        let mut m = GroupModel::new(3);
        for a in &acts {
            m.step(a);
        }
        m.finish();
    }
}
