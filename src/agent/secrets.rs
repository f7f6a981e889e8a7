//! Application secrets: a few keys of the layers above the protocol, sealed in the agent's store.
//!
//! The network node runs one agent and needs a key of its own: its libp2p key, an Ed25519 secret
//! that is **not** the agent's identity key (the node signs transport handshakes with it, and an
//! agent record binds the two). Kept here, a node restarted on the same store keeps its peer id,
//! and the key is as safe as the agent's own: sealed under the storage key, in the same file,
//! written in the same kind of transaction. Other layers' keys (a transport's, a credential for a
//! relay or a directory) fit the same way; the agent gives none of them a meaning.
//!
//! A secret is an opaque value of 1 to [`MAX_SECRET_LEN`] bytes under a label of 1 to
//! [`MAX_SECRET_LABEL_LEN`] bytes of `[a-z0-9._-]`, at most [`MAX_AGENT_SECRETS`] of them. Each is
//! the record `secret/<label>` (kind 13, [`RecordKind::Secret`]), whose plaintext is the value
//! (docs/PROTOCOL.md, section 11.9). Values are secret: in memory they live in zeroizing buffers,
//! erased when replaced, removed or dropped; `secret` hands out a zeroizing copy; no `Debug`
//! prints them.

use std::collections::BTreeMap;

use super::*;
use crate::limits::{MAX_AGENT_SECRETS, MAX_SECRET_LABEL_LEN, MAX_SECRET_LEN};

/// A secret's value, erased when dropped.
pub(super) type SecretValue = Zeroizing<Vec<u8>>;

/// The secrets an agent holds, by label (in label order, for [`Agent::secret_labels`]).
pub(super) type Secrets = BTreeMap<String, SecretValue>;

/// Whether `label` is 1 to [`MAX_SECRET_LABEL_LEN`] bytes of `[a-z0-9._-]`. (Lowercase ASCII
/// only, so that one label has one spelling and its record name is plain ASCII.)
fn is_label(label: &str) -> bool {
    (1..=MAX_SECRET_LABEL_LEN).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// The label of a `secret/<label>` name read at open, checked before its record is opened: a
/// malformed one is `BadState` (the name says no secret), not the `WrongStorageKey` of a record
/// moved to another name.
pub(super) fn check_loaded_label(label: &str) -> Result<()> {
    if is_label(label) { Ok(()) } else { Err(Error::BadState) }
}

/// The value of a `secret/<label>` record read at open: outside 1 to [`MAX_SECRET_LEN`] bytes,
/// `BadState`.
pub(super) fn check_loaded_value(value: Zeroizing<Vec<u8>>) -> Result<SecretValue> {
    if (1..=MAX_SECRET_LEN).contains(&value.len()) { Ok(value) } else { Err(Error::BadState) }
}

/// Checks the count of secrets read at open (`BadState` beyond [`MAX_AGENT_SECRETS`]).
pub(super) fn check_loaded_count(secrets: &Secrets) -> Result<()> {
    if secrets.len() > MAX_AGENT_SECRETS { Err(Error::BadState) } else { Ok(()) }
}

impl Agent {
    /// A copy of the secret under `label`, erased when dropped; `None` if there is none (a label
    /// that is not well formed names none).
    pub fn secret(&self, label: &str) -> Option<Zeroizing<Vec<u8>>> {
        self.secrets.get(label).cloned()
    }

    /// The labels of the secrets held, in order (the values stay inside).
    pub fn secret_labels(&self) -> Vec<String> {
        self.secrets.keys().cloned().collect()
    }

    /// Keeps `value` as the secret under `label`, replacing the one held under it, and commits it
    /// before returning (a replaced value is erased). Refused, changing nothing: a label that is
    /// not 1 to [`MAX_SECRET_LABEL_LEN`] bytes of `[a-z0-9._-]`, or an empty value,
    /// `InvalidArgument`; a value over [`MAX_SECRET_LEN`] bytes, or a new label when
    /// [`MAX_AGENT_SECRETS`] are held, `TooLarge`; a failed commit, `StoreFailed`.
    pub fn set_secret(&mut self, label: &str, value: &[u8]) -> Result<()> {
        if !is_label(label) || value.is_empty() {
            return Err(Error::InvalidArgument);
        }
        if value.len() > MAX_SECRET_LEN
            || (!self.secrets.contains_key(label) && self.secrets.len() >= MAX_AGENT_SECRETS)
        {
            return Err(Error::TooLarge);
        }
        let value = Zeroizing::new(value.to_vec());
        let mut p = Pending::default();
        self.put_sealed(&mut p, secret_name(label), RecordKind::Secret, |w| {
            w.bytes(&value);
            Ok(())
        })?;
        p.secrets.push((label.to_owned(), Some(value)));
        self.apply(p)
    }

    /// Forgets the secret under `label` (its record is deleted, its value erased).
    /// `InvalidArgument` if no secret has that label; `StoreFailed` if the commit fails (it is
    /// then still held).
    pub fn remove_secret(&mut self, label: &str) -> Result<()> {
        if !self.secrets.contains_key(label) {
            return Err(Error::InvalidArgument);
        }
        let p = Pending {
            changes: vec![Change::Delete { name: secret_name(label) }],
            secrets: vec![(label.to_owned(), None)],
            ..Pending::default()
        };
        self.apply(p)
    }
}
