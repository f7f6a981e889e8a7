//! The asynchronous session set-up: X3DH (Signal specification, revision 1) over the identities
//! of [`crate::identity`].
//!
//! ```text
//! DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)   DH4 = DH(EK_A, OPK_B)
//! SK || session id = HKDF-SHA256(salt = 0x00 * 32, ikm = 0xFF * 32 || DH1 || DH2 || DH3 [|| DH4],
//!                                info = "DMP1 X3DH", L = 48)
//! ```
//! Hybrid (PQXDH-style, the default): the initiator also encapsulates to the bundle's ML-KEM-768
//! prekey, appends the KEM shared secret SS to the IKM (`... || DH4 || SS`) and uses the info
//! "DMP1 PQXDH X25519 ML-KEM-768"; the first message carries the ciphertext.
//! IK are the agents' Ed25519 keys in X25519 form. The initiator can send at once; the responder
//! derives the same SK from the first message's prekey header.

use zeroize::Zeroizing;

use crate::crypto::kdf::hkdf_array;
use crate::crypto::kem::KemSharedSecret;
use crate::crypto::{SharedSecret, X25519SecretKey};
use crate::error::{Error, Result};
use crate::identity::{AgentId, Identity, IdentityKeyPair};
use crate::limits::SESSION_ID_LEN;
use crate::prekey::{PqPolicy, PrekeyBundle, Suite};
use crate::ratchet::keys::RootKey;
use crate::wire::PrekeyHeader;
use crate::wire::bundle::KemPrekeyKind;
use crate::wire::envelope::KemHeader;

const X3DH_INFO: &[u8] = b"DMP1 X3DH";
const PQXDH_INFO: &[u8] = b"DMP1 PQXDH X25519 ML-KEM-768";
/// X3DH's F: 32 0xFF bytes, so that the first 32 bytes of IKM are never a valid X25519 output.
const X3DH_PREFIX: [u8; 32] = [0xFF; 32];

/// What the initiator keeps from the handshake.
pub struct InitiatorHandshake {
    /// The session id both sides derive.
    pub session_id: [u8; SESSION_ID_LEN],
    /// SK, the first root key.
    pub root_key: RootKey,
    /// Carried by every message until the responder answers.
    pub prekey_header: PrekeyHeader,
    /// The responder.
    pub peer: AgentId,
}

/// What the responder gets from a first message.
pub struct ResponderHandshake {
    /// The session id both sides derive.
    pub session_id: [u8; SESSION_ID_LEN],
    /// SK, the first root key.
    pub root_key: RootKey,
    /// The initiator.
    pub peer: AgentId,
}

/// Runs the initiator's side against a verified bundle. A hybrid bundle is always used with its
/// ML-KEM prekey; a classical one only if `policy` allows it (`PqRequired` otherwise).
/// Refuses a bundle of one's own identity (`InvalidArgument`).
pub fn initiate(
    keys: &IdentityKeyPair,
    bundle: &PrekeyBundle,
    policy: PqPolicy,
) -> Result<InitiatorHandshake> {
    let peer = bundle.agent_id();
    if peer == keys.agent_id() {
        return Err(Error::InvalidArgument);
    }
    if bundle.suite() == Suite::Classical && policy == PqPolicy::RequireHybrid {
        return Err(Error::PqRequired);
    }
    let fields = bundle.fields();
    let ephemeral = X25519SecretKey::generate()?;
    // The signed prekey takes part in two of the Diffie-Hellmans: converted once.
    let spk = fields.signed_prekey.prepare();
    let mut dhs = vec![
        keys.dh_secret().diffie_hellman_prepared(&spk)?,
        ephemeral.diffie_hellman_prepared(&peer.dh_peer())?,
        ephemeral.diffie_hellman_prepared(&spk)?,
    ];
    if let Some((_, otk)) = &fields.one_time_prekey {
        dhs.push(ephemeral.diffie_hellman(otk)?);
    }
    let (kem, kem_secret) = match bundle.kem_prekey() {
        None => (None, None),
        Some((kind, id, key)) => {
            let (ciphertext, ss) = key.encapsulate()?;
            (Some(KemHeader { kind, id, ciphertext }), Some(ss))
        }
    };
    let (session_id, root_key) = derive(&dhs, kem_secret.as_ref());
    Ok(InitiatorHandshake {
        session_id,
        root_key,
        prekey_header: PrekeyHeader {
            initiator: keys.agent_id().to_bytes(),
            ephemeral_key: ephemeral.public_key(),
            signed_prekey_id: fields.signed_prekey_id,
            one_time_prekey_id: fields.one_time_prekey.map(|(id, _)| id),
            kem,
        },
        peer,
    })
}

/// Runs the responder's side for a first message's prekey header. Changes nothing: the caller
/// deletes the one-time prekeys only after the first message decrypted.
/// Errors: `UnknownPrekey`, `BadEnvelope` (an ML-KEM prekey not paired as in a bundle),
/// `Downgrade` (a classical message naming a hybrid signed prekey),
/// `PqRequired` (classical, refused by `policy`), `BadEnvelope`/`WeakKey` (bad initiator or
/// ephemeral key), `InvalidArgument` (a session with oneself).
pub fn respond(identity: &Identity, header: &PrekeyHeader, policy: PqPolicy) -> Result<ResponderHandshake> {
    let peer = AgentId::from_bytes(&header.initiator)?;
    if peer == identity.agent_id() {
        return Err(Error::InvalidArgument);
    }
    let spk = identity.signed_prekey(header.signed_prekey_id)?;
    if header.kem.is_none() {
        if spk.suite() == Suite::Hybrid {
            return Err(Error::Downgrade);
        }
        if policy == PqPolicy::RequireHybrid {
            return Err(Error::PqRequired);
        }
    }
    if let Some(k) = &header.kem {
        // The same pairing a verified bundle has: last-resort with the signed prekey, one-time
        // with the one-time prekey.
        let paired = match k.kind {
            KemPrekeyKind::LastResort => Some(header.signed_prekey_id),
            KemPrekeyKind::OneTime => header.one_time_prekey_id,
        };
        if paired != Some(k.id) {
            return Err(Error::BadEnvelope);
        }
    }
    let otk = header.one_time_prekey_id.map(|id| identity.one_time_prekey_secret(id)).transpose()?;
    let kem_secret = match &header.kem {
        None => None,
        Some(k) => {
            let secret = identity.kem_prekey_secret(k.kind, k.id)?;
            // A last-resort key serves every set-up until rotation: kept expanded. A one-time
            // key serves one, and the message naming it may be forged: expanded only for now.
            Some(match k.kind {
                KemPrekeyKind::LastResort => secret.decapsulate(&k.ciphertext),
                KemPrekeyKind::OneTime => secret.decapsulate_once(&k.ciphertext),
            })
        }
    };
    // The initiator's ephemeral key takes part in two or three: converted once.
    let ek = header.ephemeral_key.prepare();
    let mut dhs = vec![
        spk.secret.diffie_hellman_prepared(&peer.dh_peer())?,
        identity.keys().dh_secret().diffie_hellman_prepared(&ek)?,
        spk.secret.diffie_hellman_prepared(&ek)?,
    ];
    if let Some(otk) = otk {
        dhs.push(otk.diffie_hellman_prepared(&ek)?);
    }
    let (session_id, root_key) = derive(&dhs, kem_secret.as_ref());
    Ok(ResponderHandshake { session_id, root_key, peer })
}

/// The one-time prekey ids a first message used (X25519 and ML-KEM halves share ids).
pub fn one_time_prekeys_used(header: &PrekeyHeader) -> impl Iterator<Item = u32> {
    let kem = header.kem.as_ref().filter(|k| k.kind == KemPrekeyKind::OneTime).map(|k| k.id);
    header.one_time_prekey_id.into_iter().chain(kem)
}

fn derive(dhs: &[SharedSecret], kem: Option<&KemSharedSecret>) -> ([u8; SESSION_ID_LEN], RootKey) {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * (dhs.len() + 2)));
    ikm.extend_from_slice(&X3DH_PREFIX);
    for dh in dhs {
        ikm.extend_from_slice(dh.as_bytes());
    }
    let info = match kem {
        Some(ss) => {
            ikm.extend_from_slice(ss.as_bytes());
            PQXDH_INFO
        }
        None => X3DH_INFO,
    };
    let okm = Zeroizing::new(hkdf_array::<{ 32 + SESSION_ID_LEN }>(&[0u8; 32], &ikm, info));
    let mut sk = [0u8; 32];
    sk.copy_from_slice(&okm[..32]);
    let mut session_id = [0u8; SESSION_ID_LEN];
    session_id.copy_from_slice(&okm[32..]);
    (session_id, RootKey::from_bytes(sk))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::X25519PublicKey;

    #[test]
    fn both_sides_derive_the_same_secret_with_and_without_one_time_prekey() {
        for otk in [false, true] {
            let alice = IdentityKeyPair::generate().unwrap();
            let mut bob = Identity::generate().unwrap();
            let bundle = bob.bundle(otk).unwrap();
            let a = initiate(&alice, &bundle, PqPolicy::RequireHybrid).unwrap();
            let b = respond(&bob, &a.prekey_header, PqPolicy::RequireHybrid).unwrap();
            assert_eq!(a.session_id, b.session_id);
            assert_eq!(a.root_key, b.root_key);
            assert_eq!(a.peer, bob.agent_id());
            assert_eq!(b.peer, alice.agent_id());
            assert_eq!(a.prekey_header.one_time_prekey_id.is_some(), otk);
        }
    }

    #[test]
    fn each_initiation_is_fresh() {
        let alice = IdentityKeyPair::generate().unwrap();
        let mut bob = Identity::generate().unwrap();
        let bundle = bob.bundle(false).unwrap();
        let a1 = initiate(&alice, &bundle, PqPolicy::RequireHybrid).unwrap();
        let a2 = initiate(&alice, &bundle, PqPolicy::RequireHybrid).unwrap();
        assert_ne!(a1.session_id, a2.session_id);
        assert_ne!(a1.root_key, a2.root_key);
    }

    #[test]
    fn unknown_prekeys_are_refused() {
        for suite in [Suite::Classical, Suite::Hybrid] {
            let alice = IdentityKeyPair::generate().unwrap();
            let mut bob = Identity::generate_with(suite).unwrap();
            bob.generate_one_time_prekeys(2).unwrap();
            let a = initiate(&alice, &bob.bundle(true).unwrap(), PqPolicy::AllowClassical).unwrap();
            // Ids no one handed out: just below the current ones (ids count up from a random start).
            let (spk, otk) = (bob.signed_prekey_id(), a.prekey_header.one_time_prekey_id.unwrap());
            let mut h = a.prekey_header.clone();
            h.signed_prekey_id = spk - 1;
            let want = if suite == Suite::Hybrid { Error::BadEnvelope } else { Error::UnknownPrekey };
            assert_eq!(respond(&bob, &h, PqPolicy::AllowClassical).err().unwrap(), Error::UnknownPrekey);
            let mut h = a.prekey_header.clone();
            h.one_time_prekey_id = Some(otk - 1);
            assert_eq!(respond(&bob, &h, PqPolicy::AllowClassical).err().unwrap(), want, "{suite:?}");
            if let Some(k) = h.kem.as_mut() {
                k.id = otk - 1;
                assert_eq!(respond(&bob, &h, PqPolicy::AllowClassical).err().unwrap(), Error::UnknownPrekey);
            }
        }
    }

    #[test]
    fn a_kem_prekey_not_paired_as_in_a_bundle_is_refused() {
        let alice = IdentityKeyPair::generate().unwrap();
        let mut bob = Identity::generate().unwrap();
        bob.generate_one_time_prekeys(3).unwrap();
        let a = initiate(&alice, &bob.bundle(true).unwrap(), PqPolicy::RequireHybrid).unwrap();
        let otk = a.prekey_header.one_time_prekey_id.unwrap();
        let mut h = a.prekey_header.clone();
        h.one_time_prekey_id = Some(otk + 1); // the next OPK with the one-time ML-KEM of this one
        assert_eq!(respond(&bob, &h, PqPolicy::RequireHybrid).err().unwrap(), Error::BadEnvelope);
        let mut h = a.prekey_header.clone();
        h.one_time_prekey_id = None; // one-time ML-KEM without its OPK
        assert_eq!(respond(&bob, &h, PqPolicy::RequireHybrid).err().unwrap(), Error::BadEnvelope);
    }

    #[test]
    fn a_one_time_prekey_with_the_last_resort_kem_prekey_is_accepted_and_consumed() {
        // Section 5, "One-time prekey with the last-resort ML-KEM prekey": a bundle (from another
        // implementation) may pair its OPK with the last-resort ML-KEM prekey of its SPK. Both
        // sides then use DH4 and the last-resort SS, and the responder consumes the OPK (both
        // halves), not the last-resort key.
        use crate::wire::bundle::BundleKem;
        let alice = IdentityKeyPair::generate().unwrap();
        let mut bob = Identity::generate().unwrap();
        let spk = bob.signed_prekey_id();
        let mut fields = bob.bundle(true).unwrap().fields().clone();
        let last_resort = bob.last_resort_kem_public_key().unwrap();
        fields.kem = Some(BundleKem {
            kind: KemPrekeyKind::LastResort,
            id: spk,
            public_key: Box::new(*last_resort.as_bytes()),
        });
        fields.signature = bob.keys().sign_protocol(&fields.signed_message());
        let bundle = PrekeyBundle::verify(fields).unwrap();
        let a = initiate(&alice, &bundle, PqPolicy::RequireHybrid).unwrap();
        let otk = a.prekey_header.one_time_prekey_id.unwrap();
        assert_eq!(
            a.prekey_header.kem.as_ref().map(|k| (k.kind, k.id)),
            Some((KemPrekeyKind::LastResort, spk))
        );
        let b = respond(&bob, &a.prekey_header, PqPolicy::RequireHybrid).unwrap();
        assert_eq!((a.session_id, &a.root_key), (b.session_id, &b.root_key));
        // DH4 is part of the secret: the same message without its OPK derives another one.
        let mut without = a.prekey_header.clone();
        without.one_time_prekey_id = None;
        assert_ne!(respond(&bob, &without, PqPolicy::RequireHybrid).unwrap().session_id, a.session_id);
        // Consumed: the OPK id only, which removes its X25519 and its (unused) ML-KEM half.
        let used: Vec<u32> = one_time_prekeys_used(&a.prekey_header).collect();
        assert_eq!(used, vec![otk]);
        bob.consume_one_time_prekey(otk);
        assert!(bob.one_time_prekey_secret(otk).is_err());
        assert!(bob.kem_prekey_secret(KemPrekeyKind::OneTime, otk).is_err());
        assert!(bob.kem_prekey_secret(KemPrekeyKind::LastResort, spk).is_ok());
        assert_eq!(
            respond(&bob, &a.prekey_header, PqPolicy::RequireHybrid).err().unwrap(),
            Error::UnknownPrekey
        );
    }

    #[test]
    fn only_last_resort_kem_prekeys_stay_expanded() {
        let alice = IdentityKeyPair::generate().unwrap();
        let mut bob = Identity::generate().unwrap();
        bob.generate_one_time_prekeys(1).unwrap();
        let last_resort = initiate(&alice, &bob.bundle(false).unwrap(), PqPolicy::RequireHybrid).unwrap();
        let one_time = initiate(&alice, &bob.bundle(true).unwrap(), PqPolicy::RequireHybrid).unwrap();
        let id = one_time.prekey_header.one_time_prekey_id.unwrap();
        let spk = bob.signed_prekey_id();
        let expanded = |bob: &Identity, kind| {
            bob.kem_prekey_secret(kind, if kind == KemPrekeyKind::OneTime { id } else { spk })
                .unwrap()
                .is_expanded()
        };
        // A first message naming the one-time prekey, genuine or forged (here a copy of the
        // genuine one with another ephemeral key: it decapsulates, then fails later).
        let mut forged = one_time.prekey_header.clone();
        forged.ephemeral_key = X25519SecretKey::generate().unwrap().public_key();
        for h in [&forged, &one_time.prekey_header] {
            respond(&bob, h, PqPolicy::RequireHybrid).unwrap();
            assert!(!expanded(&bob, KemPrekeyKind::OneTime));
        }
        respond(&bob, &last_resort.prekey_header, PqPolicy::RequireHybrid).unwrap();
        assert!(expanded(&bob, KemPrekeyKind::LastResort));
    }

    #[test]
    fn stripping_the_one_time_prekey_changes_the_secret() {
        let alice = IdentityKeyPair::generate().unwrap();
        let mut bob = Identity::generate_with(Suite::Classical).unwrap();
        let a = initiate(&alice, &bob.bundle(true).unwrap(), PqPolicy::AllowClassical).unwrap();
        let mut h = a.prekey_header.clone();
        h.one_time_prekey_id = None;
        let b = respond(&bob, &h, PqPolicy::AllowClassical).unwrap();
        assert_ne!(a.root_key, b.root_key);
    }

    #[test]
    fn session_with_oneself_is_refused() {
        let mut me = Identity::generate().unwrap();
        let bundle = me.bundle(false).unwrap();
        assert_eq!(
            initiate(me.keys(), &bundle, PqPolicy::RequireHybrid).err().unwrap(),
            Error::InvalidArgument
        );
        let other = IdentityKeyPair::generate().unwrap();
        let mut h = initiate(&other, &bundle, PqPolicy::RequireHybrid).unwrap().prekey_header;
        h.initiator = me.agent_id().to_bytes();
        assert_eq!(respond(&me, &h, PqPolicy::RequireHybrid).err().unwrap(), Error::InvalidArgument);
    }

    #[test]
    fn an_initiator_id_with_a_small_order_component_is_weak() {
        // A + T has the X25519 identity key of A: without the subgroup check Bob would derive
        // Alice's keys for a first message that names another id.
        use curve25519_dalek::constants::EIGHT_TORSION;
        let alice = IdentityKeyPair::generate().unwrap();
        let mut bob = Identity::generate().unwrap();
        let a = initiate(&alice, &bob.bundle(false).unwrap(), PqPolicy::RequireHybrid).unwrap();
        let point = alice.agent_id().verifying_key().to_edwards();
        for t in &EIGHT_TORSION[1..] {
            let mut h = a.prekey_header.clone();
            h.initiator = (point + t).compress().to_bytes();
            assert_eq!(respond(&bob, &h, PqPolicy::RequireHybrid).err().unwrap(), Error::WeakKey);
        }
        assert!(respond(&bob, &a.prekey_header, PqPolicy::RequireHybrid).is_ok());
    }

    #[test]
    fn small_order_ephemeral_is_weak() {
        let alice = IdentityKeyPair::generate().unwrap();
        let mut bob = Identity::generate().unwrap();
        let mut h =
            initiate(&alice, &bob.bundle(false).unwrap(), PqPolicy::RequireHybrid).unwrap().prekey_header;
        h.ephemeral_key = X25519PublicKey([0; 32]);
        assert_eq!(respond(&bob, &h, PqPolicy::RequireHybrid).err().unwrap(), Error::WeakKey);
    }
}
