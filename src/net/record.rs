//! The agent record: what an agent publishes in the DHT so that others can find and reach it by
//! its agent id alone (PROTOCOL section 17.2).
//!
//! ```text
//! offset  field
//!  0      version            1   = 1
//!  1      agent id           32  the Ed25519 identity key
//! 33      sequence           8   u64 BE: a newer record of the same agent has a higher one
//! 41      expires at         8   u64 BE, Unix seconds: refused from then on
//! 49      peer id length     1   1..=64
//! 50      peer id            n   the node's libp2p peer id (multihash bytes)
//!  +      address count      1   0..=MAX_RECORD_ADDRS
//!  +      addresses          each: length u16 BE (1..=MAX_RECORD_ADDR_LEN) || multiaddr bytes
//!  +      bundle length      2   u16 BE, 0 or the length of a bundle without a one-time prekey
//!  +      bundle             L   the agent's current bundle (section 3)
//!  +      signature          64  Ed25519 by the agent id over "DMP1 agent record" || all the above
//! ```
//!
//! The node's libp2p key is its own (sealed in the agent's store), never the identity key: the
//! record, signed by the identity, is what binds the two.

use sha2::{Digest, Sha256};

use crate::crypto::sign::{Signature, VerifyingKey};
use crate::error::{Error, Result};
use crate::identity::{AGENT_RECORD_LABEL, AgentId};
use crate::limits::{PUBLIC_KEY_LEN, SIGNATURE_LEN};
use crate::prekey::PrekeyBundle;
use crate::wire::bundle::BUNDLE_MAX_LEN;
use crate::wire::reader::{Reader, Writer};

/// Version of the agent record format.
pub const AGENT_RECORD_VERSION: u8 = 1;
/// Most addresses a record lists.
pub const MAX_RECORD_ADDRS: usize = 8;
/// Longest address (a multiaddr's bytes) a record lists.
pub const MAX_RECORD_ADDR_LEN: usize = 255;
/// Longest peer id (libp2p's multihash of an Ed25519 key is 38 bytes).
pub const MAX_PEER_ID_LEN: usize = 64;
/// Largest agent record: every field at its largest (about 3.6 KB), rounded up. DHT nodes refuse
/// anything larger before parsing it.
pub const AGENT_RECORD_MAX_LEN: usize = 4096;
/// Longest time ahead a record may expire (48 hours): a node republishes its record well before
/// then, and a record that claims to live longer is refused, so a stolen or stale record cannot
/// be pinned in the DHT for long.
pub const MAX_AGENT_RECORD_LIFETIME_SECS: u64 = 48 * 3600;
/// The label of the DHT key under which an agent's record is stored.
const RECORD_KEY_LABEL: &[u8] = b"DMP1 agent record key";

/// The DHT key of the record of `agent`: SHA-256("DMP1 agent record key" || agent id).
pub fn record_key(agent: &AgentId) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(RECORD_KEY_LABEL);
    h.update(agent.to_bytes());
    h.finalize().into()
}

/// A verified agent record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRecord {
    /// The agent.
    pub agent_id: AgentId,
    /// Higher replaces lower.
    pub sequence: u64,
    /// Unix seconds from which the record is refused.
    pub expires_at: u64,
    /// The node's libp2p peer id, as bytes.
    pub peer_id: Vec<u8>,
    /// Where the node listens (multiaddr bytes).
    pub addresses: Vec<Vec<u8>>,
    /// The agent's bundle (no one-time prekey), to start a session with it; may be absent.
    pub bundle: Option<Vec<u8>>,
}

impl AgentRecord {
    /// The bytes the signature covers (everything but the signature). `InvalidArgument` if a
    /// field is beyond its limit.
    pub fn body(&self) -> Result<Vec<u8>> {
        if self.peer_id.is_empty()
            || self.peer_id.len() > MAX_PEER_ID_LEN
            || self.addresses.len() > MAX_RECORD_ADDRS
            || self.addresses.iter().any(|a| a.is_empty() || a.len() > MAX_RECORD_ADDR_LEN)
            || self.bundle.as_ref().is_some_and(|b| b.len() > BUNDLE_MAX_LEN)
        {
            return Err(Error::InvalidArgument);
        }
        let mut w = Writer::with_capacity(AGENT_RECORD_MAX_LEN);
        w.u8(AGENT_RECORD_VERSION).bytes(&self.agent_id.to_bytes()).u64(self.sequence).u64(self.expires_at);
        w.u8(self.peer_id.len() as u8).bytes(&self.peer_id);
        w.u8(self.addresses.len() as u8);
        for a in &self.addresses {
            w.bytes(&(a.len() as u16).to_be_bytes()).bytes(a);
        }
        let bundle = self.bundle.as_deref().unwrap_or(&[]);
        w.bytes(&(bundle.len() as u16).to_be_bytes()).bytes(bundle);
        Ok(w.buf)
    }

    /// The signed record: `body || signature`, with `sign` (the agent's
    /// [`sign_agent_record`](crate::Agent::sign_agent_record)) over the body.
    pub fn to_signed(&self, sign: impl FnOnce(&[u8]) -> Signature) -> Result<Vec<u8>> {
        let mut out = self.body()?;
        let sig = sign(&out);
        out.extend_from_slice(&sig.0);
        Ok(out)
    }

    /// Parses and verifies a signed record at time `now` (Unix seconds), in this order:
    /// longer than [`AGENT_RECORD_MAX_LEN`]: `TooLarge`; malformed: `BadEnvelope`; a version other
    /// than 1: `UnsupportedVersion`; an invalid agent id: its error (`WeakKey`...); a signature
    /// that does not verify strictly: `BadSignature`; expired (`now >= expires_at`):
    /// `ExpiredBundle`; expiring more than [`MAX_AGENT_RECORD_LIFETIME_SECS`] after `now`:
    /// `InvalidArgument`; a bundle that does not verify at `now` (its own error), belongs to
    /// another agent, carries a one-time prekey or expires before the record: `InvalidArgument`
    /// (or the bundle's error).
    pub fn verify(bytes: &[u8], now: u64) -> Result<AgentRecord> {
        if bytes.len() > AGENT_RECORD_MAX_LEN {
            return Err(Error::TooLarge);
        }
        if bytes.len() < SIGNATURE_LEN + 1 {
            return Err(Error::BadEnvelope);
        }
        let (body, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        let record = Self::parse_body(body)?;
        let mut signed = Vec::with_capacity(AGENT_RECORD_LABEL.len() + body.len());
        signed.extend_from_slice(AGENT_RECORD_LABEL);
        signed.extend_from_slice(body);
        let key = VerifyingKey::from_bytes(&record.agent_id.to_bytes()).map_err(|_| Error::BadSignature)?;
        let sig = Signature(sig.try_into().map_err(|_| Error::BadEnvelope)?);
        key.verify(&signed, &sig).map_err(|_| Error::BadSignature)?;
        if now >= record.expires_at {
            return Err(Error::ExpiredBundle);
        }
        if record.expires_at - now > MAX_AGENT_RECORD_LIFETIME_SECS {
            return Err(Error::InvalidArgument);
        }
        if let Some(b) = &record.bundle {
            let bundle = PrekeyBundle::from_bytes_at(b, now)?;
            if bundle.agent_id() != record.agent_id
                || bundle.fields().one_time_prekey.is_some()
                || bundle.fields().expires_at < record.expires_at
            {
                return Err(Error::InvalidArgument);
            }
        }
        Ok(record)
    }

    fn parse_body(body: &[u8]) -> Result<AgentRecord> {
        let mut r = Reader::new(body);
        let version = r.u8()?;
        if version != AGENT_RECORD_VERSION {
            return Err(Error::UnsupportedVersion);
        }
        let agent_id = AgentId::from_bytes(&r.array::<PUBLIC_KEY_LEN>()?)?;
        let sequence = r.u64()?;
        let expires_at = r.u64()?;
        let peer_len = r.u8()? as usize;
        if peer_len == 0 || peer_len > MAX_PEER_ID_LEN {
            return Err(Error::BadEnvelope);
        }
        let peer_id = r.take(peer_len)?.to_vec();
        let count = r.u8()? as usize;
        if count > MAX_RECORD_ADDRS {
            return Err(Error::BadEnvelope);
        }
        let mut addresses = Vec::with_capacity(count);
        for _ in 0..count {
            let len = u16::from_be_bytes(r.array()?) as usize;
            if len == 0 || len > MAX_RECORD_ADDR_LEN {
                return Err(Error::BadEnvelope);
            }
            addresses.push(r.take(len)?.to_vec());
        }
        let bundle_len = u16::from_be_bytes(r.array()?) as usize;
        if bundle_len > BUNDLE_MAX_LEN {
            return Err(Error::BadEnvelope);
        }
        let bundle = if bundle_len == 0 { None } else { Some(r.take(bundle_len)?.to_vec()) };
        r.finish()?;
        Ok(AgentRecord { agent_id, sequence, expires_at, peer_id, addresses, bundle })
    }

    /// Whether a DHT node holding `stored` (a verified record of the same agent) takes `self`
    /// instead: a higher sequence replaces a lower one; the same sequence only as the same bytes
    /// (a republication).
    pub fn replaces(new_bytes: &[u8], new: &AgentRecord, stored_bytes: &[u8], stored: &AgentRecord) -> bool {
        new.agent_id == stored.agent_id
            && (new.sequence > stored.sequence
                || (new.sequence == stored.sequence && new_bytes == stored_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Agent, AgentConfig};
    use crate::state::StorageKey;

    fn agent() -> Agent {
        Agent::open(None, StorageKey::from_bytes([3; 32]), AgentConfig::default()).unwrap()
    }

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    fn record(a: &mut Agent, sequence: u64, expires_at: u64) -> AgentRecord {
        AgentRecord {
            agent_id: a.agent_id(),
            sequence,
            expires_at,
            peer_id: vec![0, 36, 8, 1, 18, 32, 7, 7],
            addresses: vec![b"/ip4/127.0.0.1/tcp/4001".to_vec()],
            bundle: Some(a.bundle(false).unwrap()),
        }
    }

    fn signed(a: &Agent, r: &AgentRecord) -> Vec<u8> {
        r.to_signed(|body| a.sign_agent_record(body)).unwrap()
    }

    #[test]
    fn a_signed_record_verifies_and_every_bit_flip_or_cut_is_refused() {
        let mut a = agent();
        let r = record(&mut a, 1, now() + 3600);
        let bytes = signed(&a, &r);
        assert_eq!(AgentRecord::verify(&bytes, now()).unwrap(), r);
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(AgentRecord::verify(&b, now()).is_err(), "bit {i} accepted");
        }
        for n in 0..bytes.len() {
            assert!(AgentRecord::verify(&bytes[..n], now()).is_err(), "cut at {n} accepted");
        }
    }

    #[test]
    fn expired_far_future_oversized_and_foreign_records_are_refused() {
        let mut a = agent();
        let t = now();
        let r = record(&mut a, 1, t + 10);
        assert_eq!(AgentRecord::verify(&signed(&a, &r), t + 10).unwrap_err(), Error::ExpiredBundle);
        let far = record(&mut a, 1, t + MAX_AGENT_RECORD_LIFETIME_SECS + 1);
        assert_eq!(AgentRecord::verify(&signed(&a, &far), t).unwrap_err(), Error::InvalidArgument);
        assert_eq!(AgentRecord::verify(&vec![1; AGENT_RECORD_MAX_LEN + 1], t).unwrap_err(), Error::TooLarge);
        // Another agent's bundle in our record, and a bundle with a one-time prekey.
        let mut b = agent();
        let mut r = record(&mut a, 1, t + 60);
        r.bundle = Some(b.bundle(false).unwrap());
        assert_eq!(AgentRecord::verify(&signed(&a, &r), t).unwrap_err(), Error::InvalidArgument);
        r.bundle = Some(a.bundle(true).unwrap());
        assert_eq!(AgentRecord::verify(&signed(&a, &r), t).unwrap_err(), Error::InvalidArgument);
        // Signed by someone else.
        let r = record(&mut a, 1, t + 60);
        assert_eq!(AgentRecord::verify(&signed(&b, &r), t).unwrap_err(), Error::BadSignature);
        // Limits on fields.
        let mut r = record(&mut a, 1, t + 60);
        r.addresses = vec![vec![1; 4]; MAX_RECORD_ADDRS + 1];
        assert_eq!(r.body().unwrap_err(), Error::InvalidArgument);
    }

    #[test]
    fn a_record_signature_is_neither_an_application_nor_a_bundle_signature() {
        let a = agent();
        let body = b"anything";
        let sig = a.sign_agent_record(body);
        let key = VerifyingKey::from_bytes(&a.agent_id().to_bytes()).unwrap();
        assert!(key.verify(body, &sig).is_err());
        let mut labelled = AGENT_RECORD_LABEL.to_vec();
        labelled.extend_from_slice(body);
        key.verify(&labelled, &sig).unwrap();
        assert_eq!(
            a.sign(&labelled).unwrap_err(),
            Error::InvalidArgument,
            "applications cannot sign records"
        );
    }

    #[test]
    fn a_higher_sequence_replaces_and_a_lower_one_does_not() {
        let mut a = agent();
        let t = now();
        let (r1, r2) = (record(&mut a, 5, t + 60), record(&mut a, 6, t + 60));
        let (b1, b2) = (signed(&a, &r1), signed(&a, &r2));
        assert!(AgentRecord::replaces(&b2, &r2, &b1, &r1));
        assert!(!AgentRecord::replaces(&b1, &r1, &b2, &r2));
        assert!(AgentRecord::replaces(&b1, &r1, &b1, &r1), "a republication of the same bytes");
        let r3 = record(&mut a, 5, t + 61);
        let other = signed(&a, &r3);
        assert!(!AgentRecord::replaces(&other, &AgentRecord::verify(&other, t).unwrap(), &b1, &r1));
        assert_ne!(record_key(&a.agent_id()), record_key(&agent().agent_id()));
    }
}
