//! The node's thread: one loop that takes the caller's commands and the swarm's events, and the
//! one place where swarm events become agent calls and DMP events.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::kad::store::RecordStore;
use libp2p::kad::{self, GetRecordOk, PeerRecord, QueryId, QueryResult, Quorum, RecordKey};
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, identify, identity};
use tokio::sync::mpsc as tmpsc;

use super::events::EventQueue;
use super::record::{AgentRecord, record_key};
use super::swarm::{Behaviour, BehaviourEvent, Plan, build};
use super::{MAX_REQUESTS_PER_PEER_PER_SEC, NetError, NodeConfig, NodeEvent};
use crate::agent::Agent;
use crate::error::Error;
use crate::identity::AgentId;
use crate::prekey::unix_now;

/// A closure run on the agent (`Node::with_agent`).
pub(super) type Job = Box<dyn FnOnce(&mut Agent) + Send>;

/// What the caller asks of the node.
pub(super) enum Command {
    ListenAddrs(mpsc::Sender<Vec<String>>),
    Publish(mpsc::Sender<Result<(), NetError>>),
    Send { to: AgentId, plaintext: Vec<u8>, reply: mpsc::Sender<Result<(), NetError>> },
    GroupSend { group: [u8; 32], plaintext: Vec<u8>, reply: mpsc::Sender<Result<(), NetError>> },
    WithAgent(Job),
    DhtRecord { key: [u8; 32], reply: mpsc::Sender<Option<Vec<u8>>> },
    PutUnchecked { key: [u8; 32], bytes: Vec<u8>, reply: mpsc::Sender<Result<(), NetError>> },
    Stop,
}

/// The answer status of the envelope protocol for "not taken now, try later": positive, so it
/// never collides with an error code (all negative).
const STATUS_BUSY: i32 = 1;

struct Driver {
    swarm: Swarm<Behaviour>,
    agent: Agent,
    config: NodeConfig,
    events: Arc<EventQueue>,
    /// Where each agent we have a record of lives.
    routes: HashMap<[u8; 32], (PeerId, Vec<Multiaddr>)>,
    /// Sends waiting for the recipient's record.
    lookups: HashMap<QueryId, Vec<PendingSend>>,
    /// Envelopes in flight, waiting for the recipient's acknowledgement.
    in_flight: HashMap<OutboundRequestId, Completion>,
    /// Outbox entries in flight (not sent again until their answer or failure).
    outbox_in_flight: std::collections::HashSet<u64>,
    /// Publications waiting for the DHT.
    publications: HashMap<QueryId, mpsc::Sender<Result<(), NetError>>>,
    /// Inbound requests per peer in the current one-second window.
    rates: HashMap<PeerId, (Instant, u32)>,
    /// The sequence of the last record published.
    sequence: u64,
    published: bool,
}

struct PendingSend {
    to: AgentId,
    payload: Payload,
    done: Completion,
}

/// What goes to the recipient.
enum Payload {
    /// A plaintext the agent encrypts when the route is known (`Node::send`).
    Plain(Vec<u8>),
    /// An envelope already made (a group message, an outbox entry).
    Envelope(Vec<u8>),
}

/// Who learns how a delivery ended.
enum Completion {
    /// A caller waiting in `Node::send`.
    Caller(mpsc::Sender<Result<(), NetError>>),
    /// The agent's outbox entry `seq`: forgotten once acknowledged (at least once).
    Outbox(u64),
    /// One member of a group send.
    Group(Arc<std::sync::Mutex<GroupTally>>),
}

/// A group send's members still waiting, and its first failure.
struct GroupTally {
    waiting: usize,
    failure: Option<NetError>,
    reply: Option<mpsc::Sender<Result<(), NetError>>>,
}

impl Completion {
    fn finish(self, d: &mut Driver, result: Result<(), NetError>) {
        match self {
            Completion::Caller(reply) => {
                let _ = reply.send(result);
            }
            Completion::Outbox(seq) => {
                d.outbox_in_flight.remove(&seq);
                if result.is_ok() {
                    let _ = d.agent.outbox_done(seq);
                }
            }
            Completion::Group(tally) => {
                let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                if let Err(e) = result {
                    t.failure.get_or_insert(e);
                }
                t.waiting = t.waiting.saturating_sub(1);
                if t.waiting == 0
                    && let Some(reply) = t.reply.take()
                {
                    let _ = reply.send(t.failure.take().map_or(Ok(()), Err));
                }
            }
        }
    }
}

pub(super) fn run(
    agent: Agent,
    key: identity::Keypair,
    plan: Plan,
    config: NodeConfig,
    commands: tmpsc::UnboundedReceiver<Command>,
    events: Arc<EventQueue>,
    started: mpsc::Sender<Result<String, NetError>>,
) -> Option<Agent> {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = started.send(Err(NetError::BadConfig(e.to_string())));
            return Some(agent);
        }
    };
    runtime.block_on(async move {
        let peer_id = key.public().to_peer_id();
        let mut swarm = match build(key, &config) {
            Ok(s) => s,
            Err(e) => {
                let _ = started.send(Err(e));
                return Some(agent);
            }
        };
        for addr in &plan.listen {
            if let Err(e) = swarm.listen_on(addr.clone()) {
                let _ = started.send(Err(NetError::BadConfig(format!("{addr}: {e}"))));
                return Some(agent);
            }
        }
        for (peer, addr) in &plan.bootstrap {
            swarm.behaviour_mut().kad.add_address(peer, addr.clone());
            let _ = swarm.dial(addr.clone());
        }
        let mut d = Driver {
            swarm,
            agent,
            config,
            events,
            routes: HashMap::new(),
            lookups: HashMap::new(),
            in_flight: HashMap::new(),
            outbox_in_flight: std::collections::HashSet::new(),
            publications: HashMap::new(),
            rates: HashMap::new(),
            sequence: 0,
            published: false,
        };
        // Listening starts in the loop; the caller's first `listen_addrs` waits for it.
        let _ = started.send(Ok(peer_id.to_base58()));
        d.run(commands).await;
        Some(d.agent)
    })
}

impl Driver {
    async fn run(&mut self, mut commands: tmpsc::UnboundedReceiver<Command>) {
        let half_life = Duration::from_secs(self.config.record_lifetime_secs.div_ceil(2).max(1));
        let mut republish = tokio::time::interval(half_life);
        republish.tick().await;
        let mut refresh = tokio::time::interval(Duration::from_secs(30));
        let mut listen_waiters: Vec<mpsc::Sender<Vec<String>>> = Vec::new();
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None | Some(Command::Stop) => return,
                    Some(Command::ListenAddrs(reply)) => {
                        if self.swarm.listeners().next().is_some() {
                            let _ = reply.send(self.listen_addrs());
                        } else {
                            listen_waiters.push(reply);
                        }
                    }
                    Some(cmd) => self.command(cmd),
                },
                event = self.swarm.select_next_some() => {
                    if let SwarmEvent::NewListenAddr { .. } = event {
                        let addrs = self.listen_addrs();
                        for w in listen_waiters.drain(..) {
                            let _ = w.send(addrs.clone());
                        }
                    }
                    self.swarm_event(event);
                }
                _ = republish.tick() => {
                    if self.published {
                        let (tx, _) = mpsc::channel();
                        self.publish(tx);
                    }
                }
                _ = refresh.tick() => {
                    // Keep the routing table fresh (an error only says no peer is known yet).
                    let _ = self.swarm.behaviour_mut().kad.bootstrap();
                    // An outbox entry whose delivery failed is tried again.
                    self.flush_outbox();
                }
            }
        }
    }

    fn listen_addrs(&self) -> Vec<String> {
        let me = *self.swarm.local_peer_id();
        self.swarm
            .listeners()
            .map(|a| a.clone().with_p2p(me).map_or_else(|a| a.to_string(), |a| a.to_string()))
            .collect()
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Publish(reply) => self.publish(reply),
            Command::Send { to, plaintext, reply } => self.send(PendingSend {
                to,
                payload: Payload::Plain(plaintext),
                done: Completion::Caller(reply),
            }),
            Command::GroupSend { group, plaintext, reply } => self.group_send(group, plaintext, reply),
            Command::WithAgent(job) => {
                job(&mut self.agent);
                // The closure may have queued sender keys (group_add, group_remove).
                self.flush_outbox();
            }
            Command::DhtRecord { key, reply } => {
                let record = self.swarm.behaviour_mut().kad.store_mut().get(&RecordKey::new(&key));
                let _ = reply.send(record.map(|r| r.value.clone()));
            }
            Command::PutUnchecked { key, bytes, reply } => {
                let record = kad::Record::new(RecordKey::new(&key), bytes);
                match self.swarm.behaviour_mut().kad.put_record(record, Quorum::One) {
                    Ok(id) => {
                        self.publications.insert(id, reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(NetError::Unreachable(e.to_string())));
                    }
                }
            }
            Command::ListenAddrs(_) | Command::Stop => {}
        }
    }

    /// Signs and puts our record: peer id, listen addresses, current bundle, a higher sequence.
    fn publish(&mut self, reply: mpsc::Sender<Result<(), NetError>>) {
        let now = unix_now();
        let result = (|| -> Result<Vec<u8>, NetError> {
            let bundle = self.agent.bundle(false)?;
            // Milliseconds keep sequences increasing across restarts (no counter to persist).
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            self.sequence = millis.max(self.sequence + 1);
            let record = AgentRecord {
                agent_id: self.agent.agent_id(),
                sequence: self.sequence,
                expires_at: now + self.config.record_lifetime_secs,
                peer_id: self.swarm.local_peer_id().to_bytes(),
                addresses: self
                    .swarm
                    .listeners()
                    .take(super::record::MAX_RECORD_ADDRS)
                    .map(|a| a.to_vec())
                    .collect(),
                bundle: Some(bundle),
            };
            let agent = &self.agent;
            Ok(record.to_signed(|body| agent.sign_agent_record(body))?)
        })();
        let bytes = match result {
            Ok(b) => b,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let mut record = kad::Record::new(RecordKey::new(&record_key(&self.agent.agent_id())), bytes);
        record.expires = Some(Instant::now() + Duration::from_secs(self.config.record_lifetime_secs));
        match self.swarm.behaviour_mut().kad.put_record(record, Quorum::One) {
            Ok(id) => {
                self.published = true;
                self.publications.insert(id, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(NetError::Unreachable(e.to_string())));
            }
        }
    }

    /// Sends now if the recipient's node is known; otherwise looks its record up first.
    fn send(&mut self, pending: PendingSend) {
        let to = pending.to.to_bytes();
        if self.routes.contains_key(&to) {
            return self.deliver(pending);
        }
        let key = RecordKey::new(&record_key(&pending.to));
        let id = self.swarm.behaviour_mut().kad.get_record(key);
        self.lookups.entry(id).or_default().push(pending);
    }

    /// Encrypts with the agent if needed and carries the envelope to the recipient's node.
    fn deliver(&mut self, pending: PendingSend) {
        let Some((peer, addrs)) = self.routes.get(&pending.to.to_bytes()).cloned() else {
            pending.done.finish(self, Err(NetError::NotFound));
            return;
        };
        let envelope = match pending.payload {
            Payload::Envelope(e) => e,
            Payload::Plain(pt) => match self.agent.send(&pending.to, &pt) {
                Ok(e) => e,
                Err(e) => {
                    pending.done.finish(self, Err(e.into()));
                    return;
                }
            },
        };
        for a in addrs {
            self.swarm.add_peer_address(peer, a);
        }
        let id = self.swarm.behaviour_mut().envelope.send_request(&peer, envelope);
        self.in_flight.insert(id, pending.done);
    }

    /// Encrypts once for the group and carries the envelope to every member; answers once every
    /// member acknowledged (or with the first failure).
    fn group_send(&mut self, group: [u8; 32], plaintext: Vec<u8>, reply: mpsc::Sender<Result<(), NetError>>) {
        let members = match self.agent.group_members(&group) {
            Ok(m) => m,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let envelope = match self.agent.group_send(&group, &plaintext) {
            Ok(e) => e,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        if members.is_empty() {
            let _ = reply.send(Ok(()));
            return;
        }
        let tally = Arc::new(std::sync::Mutex::new(GroupTally {
            waiting: members.len(),
            failure: None,
            reply: Some(reply),
        }));
        for m in members {
            let done = Completion::Group(Arc::clone(&tally));
            self.send(PendingSend { to: m, payload: Payload::Envelope(envelope.clone()), done });
        }
    }

    /// Sends the oldest entry of the agent's outbox (a sender key) unless it is already in
    /// flight; it is forgotten only when its recipient acknowledged it (at least once), and the
    /// next one goes out on that answer.
    fn flush_outbox(&mut self) {
        let Some(e) = self.agent.outbox_next() else { return };
        if self.outbox_in_flight.contains(&e.seq) {
            return;
        }
        let (seq, peer, envelope) = (e.seq, e.peer, e.envelope.to_vec());
        self.outbox_in_flight.insert(seq);
        self.send(PendingSend {
            to: peer,
            payload: Payload::Envelope(envelope),
            done: Completion::Outbox(seq),
        });
    }

    /// A record found in a lookup: verified here too (a DHT node may be lying), then the route
    /// and the bundle are taken and the waiting sends go out.
    fn found(&mut self, id: QueryId, record: PeerRecord) {
        let Some(waiting) = self.lookups.get(&id) else { return };
        let Some(first) = waiting.first() else { return };
        let to = first.to;
        let Ok(verified) = AgentRecord::verify(&record.record.value, unix_now()) else { return };
        if record.record.key.as_ref() != record_key(&to) || verified.agent_id != to {
            return;
        }
        let Ok(peer) = PeerId::from_bytes(&verified.peer_id) else { return };
        let addrs = verified.addresses.iter().filter_map(|a| Multiaddr::try_from(a.clone()).ok()).collect();
        // The bundle matters only while there is no session with the agent.
        if self.agent.session_state(&to).is_err()
            && let Some(bundle) = &verified.bundle
            && let Err(e) = self.agent.add_bundle(bundle)
        {
            for p in self.lookups.remove(&id).unwrap_or_default() {
                p.done.finish(self, Err(e.into()));
            }
            return;
        }
        self.routes.insert(to.to_bytes(), (peer, addrs));
        for p in self.lookups.remove(&id).unwrap_or_default() {
            self.deliver(p);
        }
    }

    fn swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Kad(e)) => self.kad_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Envelope(e)) => self.envelope_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                // What a peer says it listens on makes it routable in the DHT.
                for addr in info.listen_addrs {
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                }
            }
            _ => {}
        }
    }

    fn kad_event(&mut self, event: kad::Event) {
        match event {
            kad::Event::InboundRequest {
                request: kad::InboundRequest::PutRecord { record: Some(record), .. },
            } => {
                self.take_record(record);
            }
            kad::Event::OutboundQueryProgressed { id, result, step, .. } => match result {
                QueryResult::GetRecord(Ok(GetRecordOk::FoundRecord(record))) => self.found(id, record),
                QueryResult::GetRecord(_) if step.last => {
                    for p in self.lookups.remove(&id).unwrap_or_default() {
                        p.done.finish(self, Err(NetError::NotFound));
                    }
                }
                QueryResult::PutRecord(result) => {
                    if let Some(reply) = self.publications.remove(&id) {
                        let _ =
                            reply.send(result.map(|_| ()).map_err(|e| NetError::Unreachable(e.to_string())));
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// A record a peer asks us to store: kept only if it is a valid agent record under its own
    /// key, and replaces nothing newer (PROTOCOL 17.2).
    fn take_record(&mut self, record: kad::Record) {
        let now = unix_now();
        let Ok(new) = AgentRecord::verify(&record.value, now) else { return };
        if record.key.as_ref() != record_key(&new.agent_id) {
            return;
        }
        let store = self.swarm.behaviour_mut().kad.store_mut();
        if let Some(old) = store.get(&record.key) {
            let keep_old = match AgentRecord::verify(&old.value, now) {
                Ok(stored) => !AgentRecord::replaces(&record.value, &new, &old.value, &stored),
                Err(_) => false,
            };
            if keep_old {
                return;
            }
        }
        let mut record = record;
        // A stored record lives no longer than its own expiry.
        let left = new.expires_at.saturating_sub(now);
        record.expires = Some(Instant::now() + Duration::from_secs(left));
        let _ = store.put(record);
    }

    fn envelope_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    let status = self.take_envelope(peer, &request);
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .envelope
                        .send_response(channel, status.to_be_bytes().to_vec());
                    // An invitation queues our answer.
                    self.flush_outbox();
                }
                request_response::Message::Response { request_id, response } => {
                    let Some(done) = self.in_flight.remove(&request_id) else { return };
                    let status = <[u8; 4]>::try_from(response.as_slice()).map(i32::from_be_bytes);
                    let result = match status {
                        Ok(0) => Ok(()),
                        Ok(c) if c == Error::Duplicate.code() => Ok(()),
                        Ok(STATUS_BUSY) => Err(NetError::Busy),
                        Ok(c) => Err(Error::from_code(c)
                            .map_or(NetError::Unreachable(format!("status {c}")), NetError::Refused)),
                        Err(_) => Err(NetError::Unreachable("malformed answer".into())),
                    };
                    done.finish(self, result);
                    self.flush_outbox();
                }
            },
            request_response::Event::OutboundFailure { request_id, error, .. } => {
                if let Some(done) = self.in_flight.remove(&request_id) {
                    done.finish(self, Err(NetError::Unreachable(error.to_string())));
                }
            }
            _ => {}
        }
    }

    /// An envelope from `peer`: given to the agent (committed before we answer), unless the peer
    /// is over its rate or the event queue is full (`BUSY`: not taken, the sender keeps it).
    fn take_envelope(&mut self, peer: PeerId, envelope: &[u8]) -> i32 {
        let now = Instant::now();
        let (start, count) = self.rates.entry(peer).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(1) {
            *start = now;
            *count = 0;
        }
        *count += 1;
        if *count > MAX_REQUESTS_PER_PEER_PER_SEC || !self.events.has_room() {
            return STATUS_BUSY;
        }
        // The rate table holds only peers heard from in the last second.
        if self.rates.len() > 4096 {
            self.rates.retain(|_, (s, _)| now.duration_since(*s) < Duration::from_secs(1));
        }
        match self.agent.receive(envelope) {
            Ok(event) => {
                self.events.push(NodeEvent::Received(Box::new(event)));
                0
            }
            Err(error) => {
                if error != Error::Duplicate {
                    self.events.push(NodeEvent::Refused { peer: peer.to_base58(), error });
                }
                error.code()
            }
        }
    }
}
