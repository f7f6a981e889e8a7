//! Sender keys: per group and per sender, a hash-ratchet chain (one message key per message,
//! KDF_CK as in the pairwise ratchet) and an Ed25519 signing key pair, under a key id that
//! increases on every rotation.

use std::collections::BTreeMap;

use zeroize::{Zeroize, Zeroizing};

use crate::crypto::{Signature, SigningKey, VerifyingKey, aead};
use crate::error::{Error, Result};
use crate::ratchet::Limits;
use crate::ratchet::keys::{ChainKey, MessageKey};
use crate::wire::group::{Distribution, GroupEnvelope, signed_digest};
use crate::wire::padding::unpadded_len;
use crate::wire::reader::{Reader, Writer};

/// Our own sender key in one group.
#[derive(Clone)]
pub struct OwnSenderKey {
    /// Its id; the first is 1, each rotation adds 1.
    pub key_id: u32,
    /// The iteration of the next message.
    pub iteration: u32,
    chain_key: ChainKey,
    signing: SigningKey,
}

impl OwnSenderKey {
    /// A fresh key: random chain key, random signing key.
    pub fn generate(key_id: u32) -> Result<Self> {
        let chain: [u8; 32] = crate::crypto::random::array()?;
        Ok(OwnSenderKey {
            key_id,
            iteration: 0,
            chain_key: ChainKey::from_bytes(chain),
            signing: SigningKey::generate()?,
        })
    }

    /// The key of the next message and its iteration; advances the chain.
    pub fn next_message_key(&mut self) -> Result<(u32, MessageKey)> {
        let iteration = self.iteration;
        let next = iteration.checked_add(1).ok_or(Error::TooLarge)?;
        let key = self.chain_key.step();
        self.iteration = next;
        Ok((iteration, key))
    }

    /// Signs a group message.
    pub fn sign(&self, signed: &[u8]) -> Signature {
        self.signing.sign(signed)
    }

    /// The distribution of this key at its current iteration.
    pub fn distribution(&self, group_id: [u8; 32], sender: [u8; 32]) -> Distribution {
        Distribution {
            group_id,
            sender,
            key_id: self.key_id,
            iteration: self.iteration,
            chain_key: *self.chain_key.as_bytes(),
            signing_key: self.signing.verifying_key().to_bytes(),
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.key_id)
            .u32(self.iteration)
            .bytes(self.chain_key.as_bytes())
            .bytes(&Zeroizing::new(self.signing.to_seed())[..]);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(OwnSenderKey {
            key_id: r.u32()?,
            iteration: r.u32()?,
            chain_key: ChainKey::from_bytes(r.array()?),
            signing: SigningKey::from_seed(&Zeroizing::new(r.array()?)),
        })
    }
}

/// A sender key as a receiver holds it.
#[derive(Clone)]
pub struct SenderKeyState {
    /// The key id.
    pub key_id: u32,
    /// The next iteration expected on the chain.
    pub iteration: u32,
    chain_key: ChainKey,
    signing_key: VerifyingKey,
    /// Message keys of iterations skipped over, kept for late messages (bounded).
    skipped: BTreeMap<u32, MessageKey>,
}

impl SenderKeyState {
    /// The state a distribution describes. A signing key that is not a valid point is
    /// `BadEnvelope`; one of small order `WeakKey`.
    pub fn from_distribution(d: &Distribution) -> Result<Self> {
        Ok(SenderKeyState {
            key_id: d.key_id,
            iteration: d.iteration,
            chain_key: ChainKey::from_bytes(d.chain_key),
            signing_key: VerifyingKey::from_bytes(&d.signing_key)?,
            skipped: BTreeMap::new(),
        })
    }

    /// How many skipped message keys are stored.
    pub fn skipped_len(&self) -> usize {
        self.skipped.len()
    }

    /// Verifies the signature first, then finds or derives the message key, opens the message
    /// and hands the plaintext to `sink`. State changes only if everything succeeded.
    pub fn decrypt(
        &mut self,
        env: &GroupEnvelope<'_>,
        limits: Limits,
        sink: impl FnOnce(&[u8]) -> Result<()>,
    ) -> Result<()> {
        self.signing_key.verify(&signed_digest(env.signed), &env.signature)?;
        let it = env.header.iteration;
        if let Some(key) = self.skipped.get(&it) {
            open(key, env, sink)?;
            self.skipped.remove(&it);
            return Ok(());
        }
        if it < self.iteration {
            return Err(Error::Duplicate);
        }
        if it - self.iteration > limits.max_forward_jump {
            return Err(Error::TooFarAhead);
        }
        let mut chain = self.chain_key.clone();
        let mut fresh = Vec::with_capacity((it - self.iteration) as usize);
        for i in self.iteration..it {
            fresh.push((i, chain.step()));
        }
        let key = chain.step();
        let next = it.checked_add(1).ok_or(Error::TooLarge)?;
        open(&key, env, sink)?;
        self.chain_key = chain;
        self.iteration = next;
        self.skipped.extend(fresh.drain(..));
        // The keys were moved out bit for bit: clear the copies left in `fresh`'s buffer.
        fresh.spare_capacity_mut().zeroize();
        self.trim(limits.max_skipped_keys as usize);
        Ok(())
    }

    /// Evicts the oldest skipped keys beyond `cap`.
    pub fn trim(&mut self, cap: usize) {
        while self.skipped.len() > cap {
            self.skipped.pop_first();
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.key_id)
            .u32(self.iteration)
            .bytes(self.chain_key.as_bytes())
            .bytes(&self.signing_key.to_bytes())
            .u32(self.skipped.len() as u32);
        for (i, k) in &self.skipped {
            w.u32(*i).bytes(k.as_bytes());
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>, limits: Limits) -> Result<Self> {
        let key_id = r.u32()?;
        let iteration = r.u32()?;
        let chain_key = ChainKey::from_bytes(r.array()?);
        let signing_key = VerifyingKey::from_bytes(&r.array()?).map_err(|_| Error::BadState)?;
        let count = r.u32()?;
        if count > limits.max_skipped_keys {
            return Err(Error::BadState);
        }
        let mut skipped = BTreeMap::new();
        for _ in 0..count {
            let i = r.u32()?;
            if i >= iteration || skipped.insert(i, MessageKey::from_bytes(r.array()?)).is_some() {
                return Err(Error::BadState);
            }
        }
        Ok(SenderKeyState { key_id, iteration, chain_key, signing_key, skipped })
    }
}

fn open(key: &MessageKey, env: &GroupEnvelope<'_>, sink: impl FnOnce(&[u8]) -> Result<()>) -> Result<()> {
    let framed_len = env.sealed.len().checked_sub(crate::limits::TAG_LEN).ok_or(Error::AuthFailed)?;
    let mut framed = Zeroizing::new(vec![0u8; framed_len]);
    aead::open_single_use_into(&key.aead_key(), env.header_bytes, env.sealed, &mut framed)?;
    let len = unpadded_len(&framed)?;
    if len > crate::limits::MAX_PLAINTEXT_LEN {
        return Err(Error::TooLarge);
    }
    sink(&framed[..len])
}
