//! A pairwise session: the lifecycle state machine around a Double Ratchet.
//!
//! | state      | encrypt            | decrypt                  | close    | serialize |
//! |------------|--------------------|--------------------------|----------|-----------|
//! | DORMANT    | -> INITIATING      | refused (`WrongState`)   | -> CLOSED| allowed   |
//! | INITIATING | stays              | -> ACTIVE                | -> CLOSED| allowed   |
//! | ACTIVE     | stays              | stays                    | -> CLOSED| allowed   |
//! | CLOSED     | refused            | refused                  | refused  | refused   |
//!
//! An initiator starts DORMANT (created from a bundle, nothing sent); its messages carry the
//! prekey header until a message from the peer decrypts. A responder starts ACTIVE, since it was
//! created by decrypting the peer's first message. CLOSED erases every key.

use zeroize::{Zeroize, Zeroizing};

use crate::crypto::kem::{KEM_CIPHERTEXT_LEN, KemCiphertext};
use crate::crypto::{X25519PublicKey, aead};
use crate::error::{Error, Result};
use crate::handshake;
use crate::identity::{AgentId, Identity, IdentityKeyPair};
use crate::limits::{MAX_ENVELOPE_LEN, MAX_PLAINTEXT_LEN, SESSION_ID_LEN, TAG_LEN};
use crate::prekey::{PqPolicy, PrekeyBundle};
use crate::ratchet::keys::MessageKey;
use crate::ratchet::{DoubleRatchet, Limits};
use crate::state::{RecordKind, StorageKey, open_record_named, seal_record_named};
use crate::wire::bundle::KemPrekeyKind;
use crate::wire::envelope::KemHeader;
use crate::wire::envelope::{encode_header, with_associated_data};
use crate::wire::padding::{frame_into, unpadded_len};
use crate::wire::reader::{Reader, Writer};
use crate::wire::{MessageEnvelope, Padding, PrekeyHeader};

/// The lifecycle state of a session. The numeric values are the C ABI's `DMP_SESSION_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(i32)]
pub enum SessionState {
    /// Created from a bundle; nothing sent yet.
    Dormant = 0,
    /// Sent at least one message; no reply decrypted yet.
    Initiating = 1,
    /// A message from the peer has been decrypted.
    Active = 2,
    /// Keys erased; every call but the accessors (state, ids) is refused.
    Closed = 3,
}

impl SessionState {
    /// The state for its numeric value.
    pub fn from_i32(v: i32) -> Option<Self> {
        match v {
            0 => Some(SessionState::Dormant),
            1 => Some(SessionState::Initiating),
            2 => Some(SessionState::Active),
            3 => Some(SessionState::Closed),
            _ => None,
        }
    }
}

/// Which side of the handshake this session was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Started the session from the peer's bundle.
    Initiator,
    /// Created the session from the peer's first message.
    Responder,
}

/// Per-session options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionConfig {
    /// Out-of-order limits.
    pub limits: Limits,
    /// Whether outgoing plaintexts are padded to size buckets.
    pub padding: Padding,
    /// Whether a classical-only (no ML-KEM) set-up is accepted. Default: hybrid required.
    pub pq_policy: PqPolicy,
}

/// A pairwise DMP session.
#[derive(Clone)]
pub struct Session {
    state: SessionState,
    role: Role,
    session_id: [u8; SESSION_ID_LEN],
    local: AgentId,
    peer: AgentId,
    /// Sent with every message while the initiator has had no reply.
    prekey_header: Option<PrekeyHeader>,
    /// `None` once CLOSED: the keys are gone.
    ratchet: Option<DoubleRatchet>,
    padding: Padding,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("state", &self.state)
            .field("role", &self.role)
            .field("peer", &self.peer)
            .field("ratchet", &self.ratchet)
            .finish_non_exhaustive()
    }
}

/// Opens a message's sealed part with its key into `out` (the framed length) and returns the
/// plaintext's length inside it: the one decryption both `decrypt_into` and `decrypt_with` do.
fn open_framed(key: &MessageKey, ad: &[u8], sealed: &[u8], out: &mut [u8]) -> Result<usize> {
    aead::open_single_use_into(&key.aead_key(), ad, sealed, out)?;
    let len = unpadded_len(out)?;
    if len > MAX_PLAINTEXT_LEN {
        return Err(Error::TooLarge);
    }
    Ok(len)
}

impl Session {
    /// Starts a session from a verified bundle (DORMANT). Nothing is sent until `encrypt`.
    pub fn initiate(keys: &IdentityKeyPair, bundle: &PrekeyBundle, config: SessionConfig) -> Result<Self> {
        let hs = handshake::initiate(keys, bundle, config.pq_policy)?;
        let ratchet = DoubleRatchet::new_initiator(hs.root_key, config.limits)?;
        Ok(Session {
            state: SessionState::Dormant,
            role: Role::Initiator,
            session_id: hs.session_id,
            local: keys.agent_id(),
            peer: hs.peer,
            prekey_header: Some(hs.prekey_header),
            ratchet: Some(ratchet),
            padding: config.padding,
        })
    }

    /// Creates the responder's session from a first message (`PREKEY_MESSAGE`) and returns it
    /// (ACTIVE) with the message's plaintext. The one-time prekey it used is deleted from
    /// `identity` only on success; on any error `identity` is unchanged.
    ///
    /// Errors: `BadEnvelope`, `UnsupportedVersion`, `WrongMessageType` (not a first message),
    /// `UnknownPrekey` (unknown signed prekey, or a one-time prekey already used), `Downgrade`
    /// (a classical message naming a hybrid signed prekey), `PqRequired` (classical, refused by
    /// the policy), `WeakKey`,
    /// `InvalidArgument` (from oneself), `AuthFailed`, `TooFarAhead`.
    pub fn accept(
        identity: &mut Identity,
        envelope: &[u8],
        config: SessionConfig,
    ) -> Result<(Self, Vec<u8>)> {
        let mut plaintext = Vec::new();
        let session = Self::accept_with(identity, envelope, config, |pt| {
            plaintext = pt.to_vec();
            Ok(())
        })?;
        Ok((session, plaintext))
    }

    /// [`accept`](Self::accept), handing the plaintext to `sink` instead of returning it. If
    /// `sink` fails (say, the caller's buffer is too small) nothing is created or consumed and
    /// its error is returned, so the same first message can be accepted again.
    pub fn accept_with(
        identity: &mut Identity,
        envelope: &[u8],
        config: SessionConfig,
        sink: impl FnOnce(&[u8]) -> Result<()>,
    ) -> Result<Self> {
        let env = MessageEnvelope::parse_prekey_message(envelope)?;
        // A parsed PREKEY_MESSAGE always has its prekey header.
        let prekey = env.prekey.as_ref().ok_or(Error::Internal)?;
        let hs = handshake::respond(identity, prekey, config.pq_policy)?;
        if hs.session_id != env.session_id {
            return Err(Error::AuthFailed);
        }
        // The first message's chain is the initiator's first, under its ratchet key.
        let ratchet = DoubleRatchet::new_responder(hs.root_key, env.ratchet.ratchet_key, config.limits)?;
        let mut session = Session {
            state: SessionState::Active,
            role: Role::Responder,
            session_id: hs.session_id,
            local: identity.agent_id(),
            peer: hs.peer,
            prekey_header: None,
            ratchet: Some(ratchet),
            padding: config.padding,
        };
        session.open(&env, sink)?;
        for id in handshake::one_time_prekeys_used(prekey) {
            identity.consume_one_time_prekey(id);
        }
        Ok(session)
    }

    /// The lifecycle state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Which side of the handshake this was.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The peer's agent id.
    pub fn peer_id(&self) -> AgentId {
        self.peer
    }

    /// Our own agent id.
    pub fn local_id(&self) -> AgentId {
        self.local
    }

    /// The session id carried by every envelope.
    pub fn session_id(&self) -> [u8; SESSION_ID_LEN] {
        self.session_id
    }

    /// The out-of-order limits (`WrongState` once CLOSED).
    pub fn limits(&self) -> Result<Limits> {
        Ok(self.ratchet()?.limits())
    }

    /// The padding mode for outgoing messages.
    pub fn padding(&self) -> Padding {
        self.padding
    }

    /// Changes the padding mode for outgoing messages (`WrongState` once CLOSED).
    pub fn set_padding(&mut self, padding: Padding) -> Result<()> {
        if self.state == SessionState::Closed {
            return Err(Error::WrongState);
        }
        self.padding = padding;
        Ok(())
    }

    fn ratchet(&self) -> Result<&DoubleRatchet> {
        self.ratchet.as_ref().ok_or(Error::WrongState)
    }

    /// The exact envelope length `encrypt` will produce for a `len`-byte plaintext.
    pub fn encrypted_len(&self, len: usize) -> Result<usize> {
        if self.state == SessionState::Closed {
            return Err(Error::WrongState);
        }
        if len > MAX_PLAINTEXT_LEN {
            return Err(Error::TooLarge);
        }
        let ratchet = self.ratchet.as_ref().ok_or(Error::WrongState)?.peek_sending()?;
        let header = crate::wire::envelope::header_len(self.prekey_header.as_ref(), &ratchet);
        Ok(header + aead::single_use_sealed_len(crate::wire::padding::framed_len(len, self.padding)))
    }

    /// Encrypts `plaintext` into an envelope. DORMANT becomes INITIATING.
    /// Errors: `WrongState` (CLOSED), `TooLarge` (over [`MAX_PLAINTEXT_LEN`]), `RandomFailure`
    /// (the first send after a new peer ratchet key makes a fresh ratchet key; nothing changed).
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.encrypted_len(plaintext.len())?];
        self.encrypt_into(plaintext, &mut out)?;
        Ok(out)
    }

    /// [`encrypt`](Self::encrypt) into `out`, which must be exactly
    /// [`encrypted_len`](Self::encrypted_len) bytes (else `BufferTooSmall`, nothing changed).
    pub fn encrypt_into(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        let total = self.encrypted_len(plaintext.len())?;
        if out.len() != total {
            return Err(Error::BufferTooSmall);
        }
        let ratchet = self.ratchet.as_mut().ok_or(Error::WrongState)?;
        let (ratchet_header, key) = ratchet.next_sending()?;
        let header = encode_header(&self.session_id, self.prekey_header.as_ref(), &ratchet_header);
        // `encrypted_len` predicted this header's length from `peek_sending`; the two must agree
        // (tested for every shape of header). Were they ever not to, no envelope leaves.
        let sealed_len =
            aead::single_use_sealed_len(crate::wire::padding::framed_len(plaintext.len(), self.padding));
        debug_assert_eq!(header.len() + sealed_len, total, "peek_sending and next_sending disagree");
        if header.len() + sealed_len != total {
            return Err(Error::Internal);
        }
        let (head, sealed) = out.split_at_mut(header.len());
        head.copy_from_slice(&header);
        // The plaintext is framed and encrypted where the envelope carries it: one copy in all.
        let framed_len = sealed.len() - TAG_LEN;
        frame_into(plaintext, &mut sealed[..framed_len]);
        // The AD: the header, then the two agent ids.
        with_associated_data(head, &self.local.to_bytes(), &self.peer.to_bytes(), |ad| {
            aead::seal_single_use_in_place(&key.aead_key(), ad, sealed)
        })?;
        if self.state == SessionState::Dormant {
            self.state = SessionState::Initiating;
        }
        Ok(())
    }

    /// Decrypts an envelope from the peer. INITIATING becomes ACTIVE. On any error the session
    /// is unchanged.
    ///
    /// Errors: `WrongState` (DORMANT or CLOSED), `BadEnvelope`, `UnsupportedVersion`,
    /// `WrongMessageType`, `WrongSession`, `AuthFailed`, `Duplicate`, `TooFarAhead`, `WeakKey`.
    pub fn decrypt(&mut self, envelope: &[u8]) -> Result<Vec<u8>> {
        // The envelope's length bounds the framed plaintext: one buffer, decrypted straight in.
        // (An envelope over the limit is refused by the parse: no buffer the size of it.)
        let mut plaintext = vec![0u8; envelope.len().min(MAX_ENVELOPE_LEN)];
        let len = self.decrypt_into(envelope, &mut plaintext)?;
        plaintext.truncate(len);
        Ok(plaintext)
    }

    /// [`decrypt`](Self::decrypt), handing the plaintext to `sink` before anything is committed.
    /// If `sink` fails (say, the caller's buffer is too small) the session is unchanged and the
    /// same envelope can be decrypted again. The plaintext buffer is zeroized after `sink` runs.
    pub fn decrypt_with(&mut self, envelope: &[u8], sink: impl FnOnce(&[u8]) -> Result<()>) -> Result<()> {
        let env = self.check_envelope(envelope)?;
        self.open(&env, sink)?;
        self.opened();
        Ok(())
    }

    /// [`decrypt`](Self::decrypt) straight into `out`, returning the plaintext's length: the
    /// AEAD writes the plaintext where the caller wants it, no buffer in between (for large
    /// messages that copy, and the fresh pages behind it, were a tenth of the time).
    /// `out` must hold the framed plaintext, `envelope.len() - header - TAG_LEN` bytes; a buffer
    /// of `envelope.len() - MESSAGE_HEADER_LEN - TAG_LEN` always does. Shorter:
    /// `BufferTooSmall`, nothing changed (use [`decrypt_with`](Self::decrypt_with) for an exact
    /// fit). On any error the session is unchanged and `out` holds no plaintext.
    pub fn decrypt_into(&mut self, envelope: &[u8], out: &mut [u8]) -> Result<usize> {
        let env = self.check_envelope(envelope)?;
        let framed_len = env.sealed.len() - TAG_LEN;
        let out = out.get_mut(..framed_len).ok_or(Error::BufferTooSmall)?;
        let ratchet = self.ratchet.as_mut().ok_or(Error::WrongState)?;
        let result =
            with_associated_data(env.header_bytes, &self.peer.to_bytes(), &self.local.to_bytes(), |ad| {
                ratchet.decrypt(&env.ratchet, |key| open_framed(key, ad, env.sealed, out))
            });
        match result {
            Ok(len) => {
                // The framing after the plaintext is not the caller's: cleared.
                out[len..].fill(0);
                self.opened();
                Ok(len)
            }
            Err(e) => {
                // Authenticated but refused (bad framing, too large): no plaintext stays behind.
                out.zeroize();
                Err(e)
            }
        }
    }

    /// The checks every decryption starts with; the parsed envelope. (`parse` guarantees
    /// `sealed` holds at least the tag and the framing byte.)
    fn check_envelope<'e>(&self, envelope: &'e [u8]) -> Result<MessageEnvelope<'e>> {
        if matches!(self.state, SessionState::Dormant | SessionState::Closed) {
            return Err(Error::WrongState);
        }
        let env = MessageEnvelope::parse(envelope)?;
        if env.session_id != self.session_id {
            return Err(Error::WrongSession);
        }
        if env.prekey.is_some() && self.role == Role::Initiator {
            // Only the initiator sends prekey messages; one arriving here is reflected.
            return Err(Error::WrongMessageType);
        }
        Ok(env)
    }

    /// After a message decrypted: INITIATING becomes ACTIVE (the peer has the session).
    fn opened(&mut self) {
        if self.state == SessionState::Initiating {
            self.state = SessionState::Active;
            self.prekey_header = None;
        }
    }

    fn open(&mut self, env: &MessageEnvelope<'_>, sink: impl FnOnce(&[u8]) -> Result<()>) -> Result<()> {
        let ratchet = self.ratchet.as_mut().ok_or(Error::WrongState)?;
        with_associated_data(env.header_bytes, &self.peer.to_bytes(), &self.local.to_bytes(), |ad| {
            ratchet.decrypt(&env.ratchet, |key| {
                let mut framed = Zeroizing::new(vec![0u8; env.sealed.len() - TAG_LEN]);
                let len = open_framed(key, ad, env.sealed, &mut framed)?;
                sink(&framed[..len])
            })
        })
    }

    /// Changes the out-of-order limits. Lowering the skipped-key cap evicts the oldest keys now.
    /// `WrongState` once CLOSED.
    pub fn set_limits(&mut self, limits: Limits) -> Result<()> {
        self.ratchet.as_mut().ok_or(Error::WrongState)?.set_limits(limits);
        Ok(())
    }

    /// Closes the session: every key is erased (zeroized on drop) and every later call refused.
    /// Closing a CLOSED session is `WrongState`.
    pub fn close(&mut self) -> Result<()> {
        if self.state == SessionState::Closed {
            return Err(Error::WrongState);
        }
        self.ratchet = None;
        self.prekey_header = None;
        self.state = SessionState::Closed;
        Ok(())
    }

    /// Serializes the session and encrypts it with `key`. A CLOSED session has nothing to save:
    /// `WrongState`.
    pub fn to_sealed(&self, key: &StorageKey) -> Result<Vec<u8>> {
        self.to_sealed_named(key, b"")
    }

    /// [`to_sealed`](Self::to_sealed), bound to a record name (see [`crate::state`]).
    pub fn to_sealed_named(&self, key: &StorageKey, name: &[u8]) -> Result<Vec<u8>> {
        let plain = Zeroizing::new(self.encode()?);
        seal_record_named(RecordKind::Session, key, name, &plain)
    }

    /// Restores a session from [`to_sealed`](Self::to_sealed) output.
    /// Errors: `WrongStorageKey`, `BadState`, `UnsupportedVersion`.
    pub fn from_sealed(record: &[u8], key: &StorageKey) -> Result<Self> {
        Self::from_sealed_named(record, key, b"")
    }

    /// [`from_sealed`](Self::from_sealed) for a record bound to `name`.
    pub fn from_sealed_named(record: &[u8], key: &StorageKey, name: &[u8]) -> Result<Self> {
        let plain = open_record_named(RecordKind::Session, key, name, record)?;
        let mut r = Reader::for_state(&plain);
        let session = Self::decode(&mut r)?;
        r.finish()?;
        Ok(session)
    }

    /// Session record plaintext; layout in docs/PROTOCOL.md.
    fn encode(&self) -> Result<Vec<u8>> {
        let ratchet = self.ratchet()?;
        let mut w = Writer::with_capacity(512);
        w.u8(self.state as i32 as u8)
            .u8(match self.role {
                Role::Initiator => 0,
                Role::Responder => 1,
            })
            .bytes(&self.session_id)
            .bytes(&self.local.to_bytes())
            .bytes(&self.peer.to_bytes())
            .u8(self.padding.to_u8());
        match &self.prekey_header {
            None => {
                w.u8(0);
            }
            Some(p) => {
                w.u8(1)
                    .bytes(&p.initiator)
                    .bytes(p.ephemeral_key.as_bytes())
                    .u32(p.signed_prekey_id)
                    .bool(p.one_time_prekey_id.is_some())
                    .u32(p.one_time_prekey_id.unwrap_or(0));
                w.bool(p.kem.is_some());
                if let Some(k) = &p.kem {
                    w.u8(k.kind as u8).u32(k.id).bytes(&k.ciphertext.0[..]);
                }
            }
        }
        ratchet.encode(&mut w);
        Ok(w.buf)
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let state = match SessionState::from_i32(r.u8()? as i32) {
            Some(s @ (SessionState::Dormant | SessionState::Initiating | SessionState::Active)) => s,
            _ => return Err(Error::BadState),
        };
        let role = match r.u8()? {
            0 => Role::Initiator,
            1 => Role::Responder,
            _ => return Err(Error::BadState),
        };
        let session_id = r.array()?;
        let local = AgentId::from_stored_bytes(&r.array()?).map_err(|_| Error::BadState)?;
        let peer = AgentId::from_stored_bytes(&r.array()?).map_err(|_| Error::BadState)?;
        if local == peer {
            return Err(Error::BadState);
        }
        let padding = Padding::from_u8(r.u8()?).ok_or(Error::BadState)?;
        let prekey_header = if r.bool()? {
            let initiator = r.array()?;
            let ephemeral_key = X25519PublicKey(r.array()?);
            let signed_prekey_id = r.u32()?;
            let has_otk = r.bool()?;
            let otk = r.u32()?;
            if (!has_otk && otk != 0) || initiator != local.to_bytes() {
                return Err(Error::BadState);
            }
            let kem = if r.bool()? {
                let kind = KemPrekeyKind::from_u8(r.u8()?).ok_or(Error::BadState)?;
                let id = r.u32()?;
                let mut ct = Box::new([0u8; KEM_CIPHERTEXT_LEN]);
                ct.copy_from_slice(r.take(KEM_CIPHERTEXT_LEN)?);
                Some(KemHeader { kind, id, ciphertext: KemCiphertext(ct) })
            } else {
                None
            };
            Some(PrekeyHeader {
                initiator,
                ephemeral_key,
                signed_prekey_id,
                one_time_prekey_id: has_otk.then_some(otk),
                kem,
            })
        } else {
            None
        };
        let ratchet = DoubleRatchet::decode(r)?;
        // Consistency: only an initiator that has had no reply carries a prekey header.
        let expects_header = role == Role::Initiator && state != SessionState::Active;
        if expects_header != prekey_header.is_some()
            || (role == Role::Responder && state != SessionState::Active)
        {
            return Err(Error::BadState);
        }
        Ok(Session { state, role, session_id, local, peer, prekey_header, ratchet: Some(ratchet), padding })
    }

    /// How many skipped message keys (for out-of-order messages) are stored.
    pub fn skipped_key_count(&self) -> Result<usize> {
        Ok(self.ratchet()?.skipped_key_count())
    }
}
