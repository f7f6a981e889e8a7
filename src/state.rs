//! Serialized state, encrypted at rest with a caller-supplied 32-byte storage key.
//!
//! ```text
//! record := version (1) | kind (1) | nonce (24) | ciphertext | tag (16)
//! AD     := "DMP1 state" || version || kind || name
//! ```
//! `name` is empty for a record the caller stores itself; the agent's store binds each record to
//! its row (e.g. `session/<id>`), so that records cannot be swapped between rows.
//! The plaintext layouts of each kind are in docs/PROTOCOL.md and next to each type's codec.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::kdf::hkdf_array;
use crate::crypto::{AeadKey, aead};
use crate::error::{Error, Result};
use crate::limits::{AEAD_OVERHEAD, KEY_LEN};

/// Version of the state record format.
pub const STATE_FORMAT_VERSION: u8 = 1;

const STATE_LABEL: &[u8] = b"DMP1 state";

/// What a state record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordKind {
    /// A pairwise session.
    Session = 1,
    /// An identity with its prekeys.
    Identity = 2,
    /// A group: members and sender keys.
    Group = 3,
    /// An agent's own metadata (settings, schedule).
    AgentMeta = 4,
    /// What an agent knows of a peer: its sessions and its bundle.
    Peer = 5,
    /// An outgoing envelope waiting in an agent's outbox.
    Outgoing = 6,
    /// A received event an agent retains until acknowledged.
    Event = 7,
    // 8 is retired (a list of dropped session ids, replaced by kind 11).
    /// An agent's group without its members: group id, own id, settings, own sender key,
    /// removed members (the head of a `Group` record).
    GroupHead = 9,
    /// One member of an agent's group: its id and the sender keys held for it.
    GroupMember = 10,
    /// A first message an agent accepted under one of its signed prekeys (its session id), so
    /// that a replay of it is refused while that prekey is held.
    FirstMessage = 11,
    /// One of an agent's one-time prekeys (the identity record holds none in an agent's store).
    OneTimePrekey = 12,
    /// An application secret an agent keeps for a layer above it (the network node's libp2p
    /// key): the value, under the name `secret/<label>`.
    Secret = 13,
}

/// The caller's 32-byte key for state at rest.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StorageKey(AeadKey);

impl core::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StorageKey(<redacted>)")
    }
}

impl StorageKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        StorageKey(AeadKey::from_bytes(bytes))
    }

    /// A 32-byte key for another use of the storage key (the store's row names): HKDF-SHA256
    /// with an all-zero salt, the storage key as input key material and `label` as info, so that
    /// it reveals nothing of the storage key or of keys under other labels.
    pub(crate) fn derive(&self, label: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(hkdf_array::<KEY_LEN>(&[0u8; 32], self.0.as_bytes(), label))
    }
}

fn associated_data(kind: RecordKind, name: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(STATE_LABEL.len() + 2 + name.len());
    ad.extend_from_slice(STATE_LABEL);
    ad.push(STATE_FORMAT_VERSION);
    ad.push(kind as u8);
    ad.extend_from_slice(name);
    ad
}

/// Encrypts a record's plaintext (no name).
pub fn seal_record(kind: RecordKind, key: &StorageKey, plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_record_named(kind, key, b"", plaintext)
}

/// Encrypts a record's plaintext bound to `name`.
pub fn seal_record_named(
    kind: RecordKind,
    key: &StorageKey,
    name: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut out = vec![0u8; 2 + plaintext.len() + AEAD_OVERHEAD];
    out[0] = STATE_FORMAT_VERSION;
    out[1] = kind as u8;
    aead::seal_into(&key.0, &associated_data(kind, name), plaintext, &mut out[2..])?;
    Ok(out)
}

/// Decrypts a record of the expected kind (no name). Another version is `UnsupportedVersion`,
/// another kind or a short record `BadState`, a failed authentication `WrongStorageKey`.
pub fn open_record(kind: RecordKind, key: &StorageKey, record: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    open_record_named(kind, key, b"", record)
}

/// Decrypts a record of the expected kind bound to `name`; a record of another name does not
/// authenticate (`WrongStorageKey`).
pub fn open_record_named(
    kind: RecordKind,
    key: &StorageKey,
    name: &[u8],
    record: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let [version, found_kind, sealed @ ..] = record else {
        return Err(Error::BadState);
    };
    if *version != STATE_FORMAT_VERSION {
        return Err(Error::UnsupportedVersion);
    }
    if *found_kind != kind as u8 {
        return Err(Error::BadState);
    }
    if sealed.len() < AEAD_OVERHEAD {
        return Err(Error::BadState);
    }
    let mut out = Zeroizing::new(vec![0u8; sealed.len() - AEAD_OVERHEAD]);
    aead::open_into(&key.0, &associated_data(kind, name), sealed, &mut out)
        .map_err(|_| Error::WrongStorageKey)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let k = StorageKey::from_bytes([1; 32]);
        let rec = seal_record(RecordKind::Session, &k, b"state").unwrap();
        assert_eq!(&open_record(RecordKind::Session, &k, &rec).unwrap()[..], b"state");
        let wrong = StorageKey::from_bytes([2; 32]);
        assert_eq!(open_record(RecordKind::Session, &wrong, &rec).unwrap_err(), Error::WrongStorageKey);
        assert_eq!(open_record(RecordKind::Identity, &k, &rec).unwrap_err(), Error::BadState);
        let mut v = rec.clone();
        v[0] = 9;
        assert_eq!(open_record(RecordKind::Session, &k, &v).unwrap_err(), Error::UnsupportedVersion);
        for n in 0..rec.len() {
            assert!(open_record(RecordKind::Session, &k, &rec[..n]).is_err());
        }
        let mut t = rec.clone();
        *t.last_mut().unwrap() ^= 1;
        assert_eq!(open_record(RecordKind::Session, &k, &t).unwrap_err(), Error::WrongStorageKey);
    }

    #[test]
    fn name_is_bound() {
        let k = StorageKey::from_bytes([1; 32]);
        let rec = seal_record_named(RecordKind::Session, &k, b"session/a", b"x").unwrap();
        assert_eq!(&open_record_named(RecordKind::Session, &k, b"session/a", &rec).unwrap()[..], b"x");
        assert_eq!(
            open_record_named(RecordKind::Session, &k, b"session/b", &rec).unwrap_err(),
            Error::WrongStorageKey
        );
        assert_eq!(open_record(RecordKind::Session, &k, &rec).unwrap_err(), Error::WrongStorageKey);
    }

    #[test]
    fn kind_byte_is_authenticated() {
        let k = StorageKey::from_bytes([1; 32]);
        let mut rec = seal_record(RecordKind::Identity, &k, b"x").unwrap();
        rec[1] = RecordKind::Session as u8;
        assert_eq!(open_record(RecordKind::Session, &k, &rec).unwrap_err(), Error::WrongStorageKey);
    }
}
