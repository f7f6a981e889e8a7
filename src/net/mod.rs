//! The node: one agent on a libp2p swarm (PROTOCOL section 17), behind the cargo feature `net`.
//!
//! A node owns its agent and runs it, with the swarm, on its own thread and tokio runtime.
//! Nothing async leaks out: callers make plain blocking calls (`publish`, `send`, `with_agent`)
//! and collect what arrives with [`Node::next_event`], or poll [`Node::event_fd`], readable while
//! events wait. The core never imports this module; it drives the agent through its public API.
//!
//! This first part of the node: TCP + Noise + Yamux, identify and ping; agent records published
//! and found on a Kademlia DHT that validates every record before storing it; envelopes carried
//! to the recipient's node over request-response and acknowledged after the recipient committed
//! them. Relays, hole punching, QUIC, mailboxes and the C ABI come next (see the issues).

mod codec;
mod driver;
mod events;
pub mod record;
mod swarm;

use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc as tmpsc;

use crate::agent::{Agent, Event};
use crate::error::Error;
use crate::identity::AgentId;

pub use events::MAX_QUEUED_EVENTS;
pub use record::{AgentRecord, record_key};

/// The agent secret that holds the node's libp2p key (an Ed25519 secret of its own, never the
/// identity key), so that a node restarted on the same store keeps its peer id.
pub const NODE_KEY_SECRET: &str = "net.node-key";
/// Default lifetime of a published agent record (24 hours); the node republishes it every
/// half-lifetime.
pub const DEFAULT_RECORD_LIFETIME_SECS: u64 = 24 * 3600;
/// Inbound envelope requests taken from one peer per second; beyond, the node answers `BUSY`
/// without reading the envelope into the agent, so one peer cannot monopolize it.
pub const MAX_REQUESTS_PER_PEER_PER_SEC: u32 = 200;

/// How a node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/0`.
    pub listen: Vec<String>,
    /// Multiaddrs of known nodes, each ending in `/p2p/<peer id>`.
    pub bootstrap: Vec<String>,
    /// Serve the DHT (store records for others); a node behind a NAT would be a client.
    pub dht_server: bool,
    /// Lifetime of the agent record this node publishes (at most 48 hours).
    pub record_lifetime_secs: u64,
    /// How long a request to another node, and a DHT query, may take.
    pub request_timeout: Duration,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            bootstrap: Vec::new(),
            dht_server: true,
            record_lifetime_secs: DEFAULT_RECORD_LIFETIME_SECS,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What the node reports.
#[derive(Debug)]
pub enum NodeEvent {
    /// An envelope from the network, received by the agent (and committed) before it was
    /// acknowledged to its sender.
    Received(Box<Event>),
    /// An envelope from the network that the agent refused (its error; the sender was told).
    Refused {
        /// The sending node's peer id.
        peer: String,
        /// Why.
        error: Error,
    },
}

/// Why a node call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The agent refused (its error code).
    Core(Error),
    /// The configuration is unusable (a listen or bootstrap address that does not parse...).
    BadConfig(String),
    /// No valid record of that agent was found in the DHT.
    NotFound,
    /// The recipient's node could not be reached (the envelope was made; it is lost).
    Unreachable(String),
    /// The recipient's agent refused the envelope with this error.
    Refused(Error),
    /// The recipient's node was busy (its event queue full, or this peer over its rate); the
    /// envelope was not taken.
    Busy,
    /// The node has stopped.
    Stopped,
}

impl From<Error> for NetError {
    fn from(e: Error) -> Self {
        NetError::Core(e)
    }
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NetError::Core(e) => write!(f, "{} ({})", e.message(), e.name()),
            NetError::BadConfig(s) => write!(f, "bad configuration: {s}"),
            NetError::NotFound => f.write_str("no valid record of that agent in the DHT"),
            NetError::Unreachable(s) => write!(f, "unreachable: {s}"),
            NetError::Refused(e) => write!(f, "refused by the recipient: {} ({})", e.message(), e.name()),
            NetError::Busy => f.write_str("the recipient's node is busy"),
            NetError::Stopped => f.write_str("the node has stopped"),
        }
    }
}

impl std::error::Error for NetError {}

/// A running node.
pub struct Node {
    commands: tmpsc::UnboundedSender<driver::Command>,
    events: Arc<events::EventQueue>,
    thread: Option<JoinHandle<Option<Agent>>>,
    agent_id: AgentId,
    peer_id: String,
    wait: Duration,
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node").field("agent_id", &self.agent_id).field("peer_id", &self.peer_id).finish()
    }
}

impl Node {
    /// Starts a node for `agent` (which it owns until [`stop`](Self::stop)): takes or makes its
    /// libp2p key (agent secret [`NODE_KEY_SECRET`]), listens, dials the bootstrap nodes.
    pub fn start(mut agent: Agent, config: NodeConfig) -> Result<Node, NetError> {
        if config.record_lifetime_secs == 0
            || config.record_lifetime_secs > record::MAX_AGENT_RECORD_LIFETIME_SECS
        {
            return Err(NetError::BadConfig("record_lifetime_secs must be 1..=172800".into()));
        }
        let key = swarm::node_key(&mut agent)?;
        let plan = swarm::Plan::parse(&config)?;
        let events = Arc::new(events::EventQueue::new().map_err(|e| NetError::BadConfig(e.to_string()))?);
        let (commands, inbox) = tmpsc::unbounded_channel();
        let (started_tx, started) = mpsc::channel();
        let agent_id = agent.agent_id();
        let queue = Arc::clone(&events);
        let cfg = config.clone();
        let thread = std::thread::Builder::new()
            .name("dmp-node".into())
            .spawn(move || driver::run(agent, key, plan, cfg, inbox, queue, started_tx))
            .map_err(|e| NetError::BadConfig(e.to_string()))?;
        let wait = config.request_timeout.saturating_mul(3);
        match started.recv_timeout(wait) {
            Ok(Ok(peer_id)) => Ok(Node { commands, events, thread: Some(thread), agent_id, peer_id, wait }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(NetError::Stopped),
        }
    }

    /// The agent's id.
    pub fn agent_id(&self) -> AgentId {
        self.agent_id
    }

    /// The node's libp2p peer id (base58).
    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    fn call<R>(&self, make: impl FnOnce(mpsc::Sender<R>) -> driver::Command) -> Result<R, NetError> {
        let (tx, rx) = mpsc::channel();
        self.commands.send(make(tx)).map_err(|_| NetError::Stopped)?;
        rx.recv_timeout(self.wait).map_err(|_| NetError::Stopped)
    }

    /// The addresses the node listens on, each ending in `/p2p/<peer id>` (give one to another
    /// node as a bootstrap address).
    pub fn listen_addrs(&self) -> Result<Vec<String>, NetError> {
        self.call(driver::Command::ListenAddrs)
    }

    /// Publishes (or republishes) the agent's record in the DHT: its peer id, listen addresses
    /// and current bundle, signed by the agent, with a higher sequence than any before. The node
    /// republishes it every half-lifetime by itself once published.
    pub fn publish(&self) -> Result<(), NetError> {
        self.call(driver::Command::Publish)?
    }

    /// Sends `plaintext` to the agent `to`: its record is looked up in the DHT the first time
    /// (and its bundle added), the envelope is made by the agent and carried to `to`'s node,
    /// which acknowledges it once its agent committed it. `Refused(DUPLICATE)` never happens: a
    /// duplicate means it arrived.
    pub fn send(&self, to: &AgentId, plaintext: &[u8]) -> Result<(), NetError> {
        let pt = plaintext.to_vec();
        self.call(|reply| driver::Command::Send { to: *to, plaintext: pt, reply })?
    }

    /// Encrypts `plaintext` once for the agent's group `group` and carries the envelope to every
    /// member's node (looking records up as `send` does); `Ok` once every member acknowledged,
    /// else the first failure. Sender keys the agent queues (`group_add`, `group_remove` through
    /// [`with_agent`](Self::with_agent), answers to invitations) are sent by the node itself, each
    /// forgotten from the outbox only when its recipient acknowledged it.
    pub fn group_send(&self, group: &[u8; 32], plaintext: &[u8]) -> Result<(), NetError> {
        let (group, plaintext) = (*group, plaintext.to_vec());
        self.call(|reply| driver::Command::GroupSend { group, plaintext, reply })?
    }

    /// The oldest event, waiting up to `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<NodeEvent> {
        self.events.pop(timeout)
    }

    /// A descriptor that is readable while events wait (level-triggered): poll it in any event
    /// loop, then call [`next_event`](Self::next_event) with a zero timeout.
    pub fn event_fd(&self) -> RawFd {
        self.events.fd()
    }

    /// Runs `f` on the agent, on the node's thread (groups, bundles, maintenance...).
    pub fn with_agent<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Agent) -> R + Send + 'static,
    ) -> Result<R, NetError> {
        let (tx, rx) = mpsc::channel();
        let job: driver::Job = Box::new(move |a| {
            let _ = tx.send(f(a));
        });
        self.commands.send(driver::Command::WithAgent(job)).map_err(|_| NetError::Stopped)?;
        rx.recv_timeout(self.wait).map_err(|_| NetError::Stopped)
    }

    /// The record this node's DHT store holds for `agent`, if any (what this node would answer
    /// a lookup with).
    pub fn dht_record(&self, agent: &AgentId) -> Result<Option<Vec<u8>>, NetError> {
        let key = record_key(agent);
        self.call(|reply| driver::Command::DhtRecord { key, reply })
    }

    /// Tests: puts `bytes` under `key` in the DHT without checking it here (the other nodes
    /// check it).
    #[doc(hidden)]
    pub fn put_unchecked_record(&self, key: [u8; 32], bytes: Vec<u8>) -> Result<(), NetError> {
        self.call(|reply| driver::Command::PutUnchecked { key, bytes, reply })?
    }

    /// Stops the node and gives the agent back.
    pub fn stop(mut self) -> Result<Agent, NetError> {
        let _ = self.commands.send(driver::Command::Stop);
        self.thread.take().and_then(|t| t.join().ok()).flatten().ok_or(NetError::Stopped)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.commands.send(driver::Command::Stop);
            let _ = t.join();
        }
    }
}
