//! Nodes on loopback (127.0.0.1 only): agents find each other by agent id through the DHT alone,
//! talk both ways, and DHT nodes keep only valid agent records.

use std::time::Duration;

use dmp::net::{AgentRecord, Node, NodeConfig, NodeEvent, record_key};
use dmp::{Agent, AgentConfig, AgentId, EventKind, StorageKey};

const WAIT: Duration = Duration::from_secs(20);

fn agent() -> Agent {
    Agent::open(None, StorageKey::from_bytes([5; 32]), AgentConfig::default()).unwrap()
}

fn node(bootstrap: &[String]) -> Node {
    let config = NodeConfig { bootstrap: bootstrap.to_vec(), ..NodeConfig::default() };
    Node::start(agent(), config).unwrap()
}

/// `n` nodes, each bootstrapped from the first, each with its record published.
fn network(n: usize) -> Vec<Node> {
    let first = node(&[]);
    let boot = first.listen_addrs().unwrap();
    assert!(boot.iter().all(|a| a.starts_with("/ip4/127.0.0.1/tcp/")), "{boot:?}");
    let mut nodes = vec![first];
    for _ in 1..n {
        nodes.push(node(&boot));
    }
    // Every node knows the first; give the routing tables a moment to fill through it.
    for n in &nodes {
        n.listen_addrs().unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    for n in &nodes {
        publish(n);
    }
    nodes
}

fn publish(n: &Node) {
    // The first publication can precede the first connection: retry briefly.
    for _ in 0..50 {
        if n.publish().is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    n.publish().unwrap();
}

fn next_message(n: &Node) -> (EventKind, AgentId, Vec<u8>, bool) {
    match n.next_event(WAIT) {
        Some(NodeEvent::Received(e)) => (e.kind, e.peer, e.plaintext.to_vec(), e.new_session),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn twenty_nodes_find_an_agent_by_its_id_alone_and_talk_both_ways() {
    let nodes = network(20);
    let (a, b) = (&nodes[5], &nodes[17]);
    // A knows nothing of B but its agent id: the record comes from the DHT.
    a.send(&b.agent_id(), b"hello from 5").unwrap();
    assert_eq!(next_message(b), (EventKind::Message, a.agent_id(), b"hello from 5".to_vec(), true));
    b.send(&a.agent_id(), b"hello back").unwrap();
    assert_eq!(next_message(a), (EventKind::Message, b.agent_id(), b"hello back".to_vec(), false));
    for i in 0..5u8 {
        a.send(&b.agent_id(), &[i]).unwrap();
        assert_eq!(next_message(b).2, vec![i]);
    }
    // A third agent reaches B the same way; B's sessions with both stay apart.
    let c = &nodes[11];
    c.send(&b.agent_id(), b"from 11").unwrap();
    assert_eq!(next_message(b), (EventKind::Message, c.agent_id(), b"from 11".to_vec(), true));
    assert!(b.next_event(Duration::ZERO).is_none(), "every message arrived exactly once");
    let peers = b.with_agent(|agent| agent.peers()).unwrap();
    assert_eq!(peers.len(), 2);
}

#[test]
fn an_agent_with_no_record_is_not_found_and_nothing_is_sent() {
    let nodes = network(4);
    let stranger = agent().agent_id();
    assert_eq!(nodes[1].send(&stranger, b"anyone?").unwrap_err(), dmp::net::NetError::NotFound);
    assert_eq!(
        nodes[1].with_agent(move |a| a.session_state(&stranger)).unwrap().unwrap_err(),
        dmp::Error::NoSession
    );
    // An agent cannot send to itself through its node: its own record is found, its own bundle
    // refused, nothing made.
    let me = nodes[1].agent_id();
    assert_eq!(nodes[1].send(&me, b"me").unwrap_err(), dmp::net::NetError::Core(dmp::Error::InvalidArgument));
}

#[test]
fn dht_nodes_keep_no_forged_expired_oversized_or_misfiled_record() {
    let nodes = network(6);
    let victim = &nodes[2];
    let genuine = victim.dht_record(&victim.agent_id()).unwrap().expect("the publisher holds its record");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let valid = AgentRecord::verify(&genuine, now).unwrap();
    let liar = &nodes[4];
    let others: Vec<&Node> = nodes.iter().filter(|n| n.agent_id() != liar.agent_id()).collect();

    // A forged record (one signature bit flipped) under the victim's key.
    let mut forged = genuine.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    // An oversized one.
    let oversized = vec![7u8; dmp::net::record::AGENT_RECORD_MAX_LEN + 1];
    // The victim's valid record filed under another agent's key.
    let other = nodes[3].agent_id();
    for (key, bytes) in [
        (record_key(&victim.agent_id()), forged.clone()),
        (record_key(&victim.agent_id()), oversized),
        (record_key(&other), genuine.clone()),
    ] {
        let _ = liar.put_unchecked_record(key, bytes);
    }
    std::thread::sleep(Duration::from_millis(500));
    for n in &others {
        if let Some(held) = n.dht_record(&victim.agent_id()).unwrap() {
            assert_eq!(held, genuine, "a node holds something other than the victim's genuine record");
        }
        if n.agent_id() != other {
            assert!(
                n.dht_record(&other)
                    .unwrap()
                    .is_none_or(|r| AgentRecord::verify(&r, now).unwrap().agent_id == other),
                "a record filed under another agent's key was kept"
            );
        }
    }
    // An older record (lower sequence) does not replace the newer one anywhere. The liar cannot
    // sign one, so it replays the genuine one after the victim published a newer one.
    publish(victim);
    let newer = victim.dht_record(&victim.agent_id()).unwrap().unwrap();
    assert!(AgentRecord::verify(&newer, now).unwrap().sequence > valid.sequence);
    let _ = liar.put_unchecked_record(record_key(&victim.agent_id()), genuine.clone());
    std::thread::sleep(Duration::from_millis(500));
    let mut holders = 0;
    for n in &others {
        if let Some(held) = n.dht_record(&victim.agent_id()).unwrap() {
            assert_eq!(held, newer, "an older record replaced a newer one");
            holders += 1;
        }
    }
    assert!(holders >= 2, "the genuine record is stored by the DHT (positive control): {holders}");
}

#[test]
fn a_node_restarted_on_its_store_keeps_its_peer_id() {
    let dir = std::env::temp_dir().join(format!("dmp-net-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.db");
    let open = || Agent::open(Some(&path), StorageKey::from_bytes([6; 32]), AgentConfig::default()).unwrap();
    let n = Node::start(open(), NodeConfig::default()).unwrap();
    let id = n.peer_id().to_string();
    drop(n.stop().unwrap());
    let n = Node::start(open(), NodeConfig::default()).unwrap();
    assert_eq!(n.peer_id(), id);
    // The libp2p key is the agent's own secret, not its identity key.
    let secret = n.with_agent(|a| a.secret(dmp::net::NODE_KEY_SECRET).map(|s| s.len())).unwrap();
    assert_eq!(secret, Some(32));
}

#[test]
fn bad_configurations_are_refused() {
    let bad = |config: NodeConfig| Node::start(agent(), config).unwrap_err();
    assert!(matches!(
        bad(NodeConfig { listen: vec!["not an address".into()], ..NodeConfig::default() }),
        dmp::net::NetError::BadConfig(_)
    ));
    assert!(matches!(
        bad(NodeConfig { bootstrap: vec!["/ip4/127.0.0.1/tcp/1".into()], ..NodeConfig::default() }),
        dmp::net::NetError::BadConfig(_)
    ));
    assert!(matches!(
        bad(NodeConfig { record_lifetime_secs: 0, ..NodeConfig::default() }),
        dmp::net::NetError::BadConfig(_)
    ));
}

#[test]
fn a_group_over_the_network_its_sender_keys_and_a_message_to_every_member() {
    let nodes = network(5);
    let (a, b, c) = (&nodes[1], &nodes[2], &nodes[3]);
    // A reaches B and C once (their records from the DHT), then makes a group with both.
    for n in [b, c] {
        a.send(&n.agent_id(), b"hi").unwrap();
        assert_eq!(next_message(n).2, b"hi".to_vec());
    }
    let (bid, cid) = (b.agent_id(), c.agent_id());
    let gid = a
        .with_agent(move |agent| {
            let gid = agent.group_create().unwrap();
            agent.group_add(&gid, &bid).unwrap();
            agent.group_add(&gid, &cid).unwrap();
            gid
        })
        .unwrap();
    // The node sends the queued sender keys itself: each member is invited, and answers.
    for n in [b, c] {
        match n.next_event(WAIT) {
            Some(NodeEvent::Received(e)) => {
                assert_eq!(
                    (e.kind, e.peer, e.group_id, e.new_group),
                    (EventKind::DistributionConsumed, a.agent_id(), Some(gid), true)
                )
            }
            other => panic!("expected an invitation, got {other:?}"),
        }
    }
    for _ in [b, c] {
        match a.next_event(WAIT) {
            Some(NodeEvent::Received(e)) => {
                assert_eq!((e.kind, e.group_id), (EventKind::DistributionConsumed, Some(gid)))
            }
            other => panic!("expected an answer, got {other:?}"),
        }
    }
    // Every outbox entry was acknowledged, so each was forgotten.
    for n in [a, b, c] {
        let mut left = 1;
        for _ in 0..100 {
            left = n.with_agent(|agent| agent.outbox_len()).unwrap();
            if left == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(left, 0);
    }
    a.group_send(&gid, b"to everyone").unwrap();
    for n in [b, c] {
        assert_eq!(next_message(n), (EventKind::GroupMessage, a.agent_id(), b"to everyone".to_vec(), false));
    }
    // A group the agent does not hold is refused, nothing sent.
    assert_eq!(a.group_send(&[9; 32], b"x").unwrap_err(), dmp::net::NetError::Core(dmp::Error::WrongSession));
}
