//! The libp2p side: the node's key, its composed behaviour, and the swarm built from them.

use std::time::Duration;

use libp2p::kad::{self, store::MemoryStore, store::MemoryStoreConfig};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, identify, identity, noise, ping, tcp, yamux};
use zeroize::Zeroizing;

use super::codec::{ENVELOPE_PROTOCOL, FrameCodec};
use super::record::AGENT_RECORD_MAX_LEN;
use super::{NODE_KEY_SECRET, NetError, NodeConfig};
use crate::agent::Agent;

/// DMP's own DHT: its records are agent records only, so it is kept apart from IPFS's.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/dmp/kad/1");
/// The identify protocol's version string.
const IDENTIFY_PROTOCOL: &str = "/dmp/id/1";
/// Records a DHT node stores for others (4 KB each at most: 16 MB).
pub const MAX_DHT_RECORDS: usize = 4096;
/// Envelope streams one connection may have open at once.
pub const MAX_CONCURRENT_STREAMS: usize = 16;
/// A connection with no stream open is closed after this long.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// The protocols a node speaks, composed (one event type, matched in one place: `driver`).
#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    pub(super) kad: kad::Behaviour<MemoryStore>,
    pub(super) envelope: request_response::Behaviour<FrameCodec>,
    pub(super) identify: identify::Behaviour,
    pub(super) ping: ping::Behaviour,
}

/// The node's libp2p key, from the agent's store, made (and sealed there) the first time.
pub(super) fn node_key(agent: &mut Agent) -> Result<identity::Keypair, NetError> {
    let mut secret = match agent.secret(NODE_KEY_SECRET) {
        Some(s) if s.len() == 32 => s,
        Some(_) => return Err(NetError::Core(crate::error::Error::BadState)),
        None => {
            let fresh: Zeroizing<[u8; 32]> = Zeroizing::new(crate::crypto::random::array()?);
            agent.set_secret(NODE_KEY_SECRET, &fresh[..])?;
            Zeroizing::new(fresh.to_vec())
        }
    };
    // `ed25519_from_bytes` zeroizes the buffer it is given.
    identity::Keypair::ed25519_from_bytes(&mut secret[..])
        .map_err(|_| NetError::Core(crate::error::Error::BadState))
}

/// The configuration's addresses, parsed.
pub(super) struct Plan {
    pub(super) listen: Vec<Multiaddr>,
    pub(super) bootstrap: Vec<(PeerId, Multiaddr)>,
}

impl Plan {
    pub(super) fn parse(config: &NodeConfig) -> Result<Plan, NetError> {
        let addr = |s: &String| s.parse::<Multiaddr>().map_err(|e| NetError::BadConfig(format!("{s}: {e}")));
        let listen = config.listen.iter().map(addr).collect::<Result<Vec<_>, _>>()?;
        let mut bootstrap = Vec::new();
        for s in &config.bootstrap {
            let a = addr(s)?;
            let Some(libp2p::multiaddr::Protocol::P2p(peer)) = a.iter().last() else {
                return Err(NetError::BadConfig(format!("{s}: a bootstrap address ends in /p2p/<peer id>")));
            };
            bootstrap.push((peer, a));
        }
        Ok(Plan { listen, bootstrap })
    }
}

pub(super) fn build(key: identity::Keypair, config: &NodeConfig) -> Result<Swarm<Behaviour>, NetError> {
    let bad = |e: &dyn std::fmt::Display| NetError::BadConfig(e.to_string());
    let timeout = config.request_timeout;
    let server = config.dht_server;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| bad(&e))?
        .with_behaviour(|key| {
            let peer = key.public().to_peer_id();
            let mut kad_config = kad::Config::new(KAD_PROTOCOL);
            // Every record a peer asks us to store is checked first (driver::take_record).
            kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
            kad_config.set_query_timeout(timeout);
            // Agents republish their records themselves; stored records expire with them.
            kad_config.set_publication_interval(None);
            kad_config
                .set_record_ttl(Some(Duration::from_secs(super::record::MAX_AGENT_RECORD_LIFETIME_SECS)));
            let store_config = MemoryStoreConfig {
                max_records: MAX_DHT_RECORDS,
                max_value_bytes: AGENT_RECORD_MAX_LEN,
                ..MemoryStoreConfig::default()
            };
            let mut kad =
                kad::Behaviour::with_config(peer, MemoryStore::with_config(peer, store_config), kad_config);
            kad.set_mode(Some(if server { kad::Mode::Server } else { kad::Mode::Client }));
            let envelope = request_response::Behaviour::with_codec(
                FrameCodec::envelope(),
                [(ENVELOPE_PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(timeout)
                    .with_max_concurrent_streams(MAX_CONCURRENT_STREAMS),
            );
            let identify =
                identify::Behaviour::new(identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public()));
            Ok(Behaviour { kad, envelope, identify, ping: ping::Behaviour::default() })
        })
        .map_err(|e| bad(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    Ok(swarm)
}
