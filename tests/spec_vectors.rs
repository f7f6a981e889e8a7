//! The published test vectors, docs/vectors/*.json (docs/PROTOCOL.md appendix B).
//!
//! Every vector is produced by the library itself: its randomness comes from the seeded stream
//! of `dmp::vectors_support` (feature `test-vectors`) and its clock reads [`NOW`], so the bytes
//! are the same on every run. Each test regenerates one file in memory and compares it with the
//! committed one, field by field (a failure names the file and the field), then byte for byte.
//!
//! Rewrite the files after an intended change of the protocol (and say so in the commit):
//!
//! ```text
//! DMP_WRITE_VECTORS=1 cargo test --features test-vectors --test spec_vectors
//! ```
//!
//! Where the library keeps an intermediate to itself (the KDF chain of a conversation, the DH
//! outputs of a set-up), it is computed here with the library's own public functions (the KDFs
//! of `ratchet::keys`, X25519 and ML-KEM of `crypto`), and every such value is checked against
//! what the library sent: each message key must open its envelope, each SK must be the one the
//! handshake derived.

use std::path::PathBuf;

use dmp::crypto::X25519SecretKey;
use dmp::crypto::kdf::hkdf_sha256;
use dmp::crypto::kem::{KemCiphertext, KemSecretKey};
use dmp::crypto::{SigningKey, X25519PublicKey, aead};
use dmp::handshake;
use dmp::identity::IdentityKeyPair;
use dmp::prekey::DEFAULT_BUNDLE_LIFETIME_SECS;
use dmp::ratchet::keys::{ChainKey, MessageKey, RootKey};
use dmp::state::{RecordKind, open_record_named};
use dmp::vectors_support::{take_draws, with_deterministic_randomness};
use dmp::wire::bundle::KemPrekeyKind;
use dmp::wire::envelope::{MessageEnvelope, associated_data};
use dmp::wire::group::{GroupEnvelope, signed_digest};
use dmp::{
    Error, Group, Identity, Padding, PqPolicy, PrekeyBundle, Session, SessionConfig, StorageKey, Suite,
};
use serde_json::{Value, json};

/// The clock of every vector: 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;
/// The initiator's (Alice's) identity seed in every pairwise and group vector.
const SEED_A: [u8; 32] = [0xA1; 32];
/// The responder's (Bob's) identity seed.
const SEED_B: [u8; 32] = [0xB2; 32];
/// The storage key of the state-record vectors.
const STORAGE_KEY: [u8; 32] = [0x5C; 32];

const ENCODING: &str = "Bytes are lowercase hex strings; integers are JSON numbers; text is ASCII. \
    `random_draws` lists, in the order the library drew them, every random byte string a step \
    used (a vector needs no random number generator: feed these where your implementation draws).";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `DMP_ERR_<NAME>` of an error (its Rust name in capitals, words split by `_`).
fn error_name(e: Error) -> String {
    let mut out = String::from("DMP_ERR_");
    for (i, c) in format!("{e:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn outcome<T>(r: &Result<T, Error>) -> Value {
    match r {
        Ok(_) => json!("ok"),
        Err(e) => json!({ "error": error_name(*e), "code": e.code() }),
    }
}

/// Names the draws of a step, in order; the count must be exactly the names'.
fn name_draws(draws: Vec<Vec<u8>>, names: &[&str]) -> Vec<(String, Vec<u8>)> {
    assert_eq!(
        draws.len(),
        names.len(),
        "draws {:?}, expected {names:?}",
        draws.iter().map(Vec::len).collect::<Vec<_>>()
    );
    names.iter().map(|n| n.to_string()).zip(draws).collect()
}

fn draws_json(draws: &[(String, Vec<u8>)]) -> Value {
    Value::Array(draws.iter().map(|(n, b)| json!({ "name": n, "bytes": hex(b) })).collect())
}

fn draw<'a>(draws: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &draws.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no draw {name}")).1
}

fn arr32(b: &[u8]) -> [u8; 32] {
    b.try_into().expect("32 bytes")
}

fn x25519_public(secret: &[u8]) -> X25519PublicKey {
    X25519SecretKey::from_bytes(arr32(secret)).public_key()
}

fn dh(secret: &[u8], public: &X25519PublicKey) -> Vec<u8> {
    X25519SecretKey::from_bytes(arr32(secret)).diffie_hellman(public).expect("DH").as_bytes().to_vec()
}

fn prekey_id_start(r: &[u8]) -> u32 {
    1 + u32::from_be_bytes(r.try_into().unwrap()) % dmp::identity::PREKEY_ID_START_MAX
}

// ---------------------------------------------------------------------------------------------
// Identities and bundles (sections 2, 3, 4.2)
// ---------------------------------------------------------------------------------------------

/// The responder of one set-up: Bob's identity of `suite`, and one bundle made at [`NOW`].
struct Responder {
    suite: Suite,
    identity: Identity,
    draws: Vec<(String, Vec<u8>)>,
    bundle: PrekeyBundle,
}

const BUNDLE_CASES: [(&str, Suite, bool); 3] = [
    ("classical_with_opk", Suite::Classical, true),
    ("hybrid_last_resort", Suite::Hybrid, false),
    ("hybrid_with_opk", Suite::Hybrid, true),
];

fn responder(case: &'static str) -> Responder {
    let (_, suite, with_opk) = *BUNDLE_CASES.iter().find(|c| c.0 == case).expect("bundle case");
    with_deterministic_randomness(&format!("bundle {case}"), NOW, || {
        let mut identity = Identity::from_seed_with(&SEED_B, suite).unwrap();
        let mut draws = match suite {
            Suite::Classical => {
                name_draws(take_draws(), &["spk_id_start", "spk_x25519_secret", "opk_id_start"])
            }
            Suite::Hybrid => name_draws(
                take_draws(),
                &["spk_id_start", "spk_mlkem_seed", "spk_x25519_secret", "opk_id_start"],
            ),
        };
        let bundle = identity.bundle_at(with_opk, NOW, DEFAULT_BUNDLE_LIFETIME_SECS).unwrap();
        let opk_names: &[&str] = match (with_opk, suite) {
            (false, _) => &[],
            (true, Suite::Classical) => &["opk_x25519_secret"],
            (true, Suite::Hybrid) => &["opk_mlkem_seed", "opk_x25519_secret"],
        };
        draws.extend(name_draws(take_draws(), opk_names));
        // The draws are the keys the bundle carries.
        let f = bundle.fields();
        assert_eq!(f.signed_prekey_id, prekey_id_start(draw(&draws, "spk_id_start")));
        assert_eq!(f.signed_prekey, x25519_public(draw(&draws, "spk_x25519_secret")));
        if let Some((id, key)) = f.one_time_prekey {
            assert_eq!(id, prekey_id_start(draw(&draws, "opk_id_start")));
            assert_eq!(key, x25519_public(draw(&draws, "opk_x25519_secret")));
        }
        Responder { suite, identity, draws, bundle }
    })
}

fn suite_name(s: Suite) -> &'static str {
    match s {
        Suite::Classical => "classical",
        Suite::Hybrid => "hybrid",
    }
}

/// The ML-KEM prekey of the bundle: kind, id and the seed of its decapsulation key.
fn bundle_kem(r: &Responder) -> Option<(KemPrekeyKind, u32, Vec<u8>)> {
    r.bundle.kem_prekey().map(|(kind, id, public)| {
        let seed = match kind {
            KemPrekeyKind::LastResort => draw(&r.draws, "spk_mlkem_seed"),
            KemPrekeyKind::OneTime => draw(&r.draws, "opk_mlkem_seed"),
        };
        let seed: [u8; 64] = seed.try_into().unwrap();
        assert_eq!(KemSecretKey::from_seed(seed).public_key().as_bytes(), public.as_bytes());
        (kind, id, seed.to_vec())
    })
}

fn responder_json(r: &Responder) -> Value {
    let f = r.bundle.fields();
    let kem = bundle_kem(r);
    json!({
        "identity_seed": hex(&SEED_B),
        "suite": suite_name(r.suite),
        "random_draws": draws_json(&r.draws),
        "agent_id": hex(&r.identity.agent_id().to_bytes()),
        "spk_id": f.signed_prekey_id,
        "spk_public": hex(f.signed_prekey.as_bytes()),
        "opk_id": f.one_time_prekey.map(|(id, _)| id),
        "opk_public": f.one_time_prekey.map(|(_, k)| hex(k.as_bytes())),
        "mlkem_kind": kem.as_ref().map(|k| k.0 as u8),
        "mlkem_id": kem.as_ref().map(|k| k.1),
        "mlkem_seed": kem.as_ref().map(|k| hex(&k.2)),
        "mlkem_public": r.bundle.kem_prekey().map(|(_, _, k)| hex(k.as_bytes())),
    })
}

fn identity_vectors() -> Value {
    let identities: Vec<Value> = [("alice", SEED_A), ("bob", SEED_B), ("zero", [0u8; 32])]
        .iter()
        .map(|(name, seed)| {
            let keys = IdentityKeyPair::from_seed(seed);
            let id = keys.agent_id();
            json!({
                "name": name,
                "seed": hex(seed),
                "agent_id": hex(&id.to_bytes()),
                "x25519_secret": hex(&dmp::vectors_support::identity_dh_secret(&keys)),
                "x25519_public": hex(id.dh_public_key().as_bytes()),
                "fingerprint": id.fingerprint(),
            })
        })
        .collect();
    json!({
        "file": "identity.json",
        "about": "Identity key pairs from 32-byte seeds: the agent id (RFC 8032 public key), the X25519 \
            identity secret ik (first 32 bytes of SHA-512(seed), unclamped) and public IK (Montgomery u \
            of the agent id), and the fingerprint.",
        "sections": ["2"],
        "encoding": ENCODING,
        "identities": identities,
    })
}

fn bundle_vectors() -> Value {
    let cases: Vec<Value> = BUNDLE_CASES
        .iter()
        .map(|(case, _, _)| {
            let r = responder(case);
            let f = r.bundle.fields();
            let bytes = r.bundle.to_bytes();
            // The library verifies what it made, at the vector's clock.
            assert_eq!(PrekeyBundle::from_bytes_at(&bytes, NOW).unwrap().to_bytes(), bytes);
            json!({
                "case": case,
                "now": NOW,
                "lifetime_secs": DEFAULT_BUNDLE_LIFETIME_SECS,
                "with_one_time_prekey": f.one_time_prekey.is_some(),
                "identity": responder_json(&r),
                "expires_at": f.expires_at,
                "signature_input": hex(&f.signed_message()),
                "signature": hex(&f.signature.0),
                "bundle": hex(&bytes),
            })
        })
        .collect();
    json!({
        "file": "bundle.json",
        "about": "Prekey bundles of Bob's identity (seed 0xb2*32) made at `now`: an identity from its \
            seed draws its first SPK (ML-KEM seed first, then the X25519 secret, for a hybrid one) and \
            the random starts of its two id counters (id = 1 + (u32_be(draw) mod 2^31)); a bundle with \
            an OPK draws that OPK. `signature_input` is M_bundle; `signature` is Ed25519 over it with \
            the identity key; `bundle` is the envelope.",
        "sections": ["3", "4.2"],
        "encoding": ENCODING,
        "cases": cases,
    })
}

// ---------------------------------------------------------------------------------------------
// Set-ups (sections 5, 4.4, 6, 7, 8)
// ---------------------------------------------------------------------------------------------

struct Setup {
    responder: Responder,
    policy: PqPolicy,
    keys: IdentityKeyPair,
    draws: Vec<(String, Vec<u8>)>,
    root_key: RootKey,
    session_id: [u8; 8],
    alice: Session,
    bob: Session,
    first_plaintext: Vec<u8>,
    first_envelope: Vec<u8>,
}

fn setup(case: &'static str) -> Setup {
    let responder = responder(case);
    let policy = match responder.suite {
        Suite::Classical => PqPolicy::AllowClassical,
        Suite::Hybrid => PqPolicy::RequireHybrid,
    };
    let config = SessionConfig { pq_policy: policy, ..SessionConfig::default() };
    let keys = IdentityKeyPair::from_seed(&SEED_A);
    let label = format!("handshake {case}");
    // The handshake alone (for SK), then the whole session from the same stream: the same draws.
    let hs =
        with_deterministic_randomness(&label, NOW, || handshake::initiate(&keys, &responder.bundle, policy))
            .unwrap();
    let names: &[&str] = match responder.suite {
        Suite::Classical => &["ek_a_secret", "ratchet_secret_a0"],
        Suite::Hybrid => &["ek_a_secret", "mlkem_encaps_m", "ratchet_secret_a0"],
    };
    let first_plaintext = format!("first message, {case}").into_bytes();
    let (alice, draws, first_envelope) = with_deterministic_randomness(&label, NOW, || {
        let mut alice = Session::initiate(&keys, &responder.bundle, config).unwrap();
        let draws = name_draws(take_draws(), names);
        let envelope = alice.encrypt(&first_plaintext).unwrap();
        assert!(take_draws().is_empty(), "a first message draws nothing");
        (alice, draws, envelope)
    });
    assert_eq!(alice.session_id(), hs.session_id);
    let mut identity = responder.identity.clone();
    let (bob, plaintext) = Session::accept(&mut identity, &first_envelope, config).unwrap();
    assert_eq!(plaintext, first_plaintext);
    Setup {
        responder,
        policy,
        keys,
        draws,
        root_key: hs.root_key,
        session_id: hs.session_id,
        alice,
        bob,
        first_plaintext,
        first_envelope,
    }
}

fn handshake_case(case: &'static str) -> Value {
    let s = setup(case);
    let r = &s.responder;
    let f = r.bundle.fields();
    let ek = draw(&s.draws, "ek_a_secret");
    let ik_a = dmp::vectors_support::identity_dh_secret(&s.keys);
    let mut dhs = vec![
        dh(&ik_a, &f.signed_prekey),
        dh(ek, &r.identity.agent_id().dh_public_key()),
        dh(ek, &f.signed_prekey),
    ];
    if let Some((_, opk)) = &f.one_time_prekey {
        dhs.push(dh(ek, opk));
    }
    let env = MessageEnvelope::parse(&s.first_envelope).unwrap();
    let prekey = env.prekey.as_ref().unwrap();
    // SS from the responder's side: decapsulating the ciphertext the initiator sent.
    let kem = bundle_kem(r).map(|(kind, id, seed)| {
        let k = prekey.kem.as_ref().expect("hybrid message");
        assert_eq!((k.kind, k.id), (kind, id));
        let ss = KemSecretKey::from_seed(seed.try_into().unwrap())
            .decapsulate(&KemCiphertext(k.ciphertext.0.clone()));
        (k.ciphertext.0.to_vec(), ss.as_bytes().to_vec())
    });
    let mut ikm = vec![0xFF; 32];
    dhs.iter().for_each(|d| ikm.extend_from_slice(d));
    if let Some((_, ss)) = &kem {
        ikm.extend_from_slice(ss);
    }
    let info: &str = if kem.is_some() { "DMP1 PQXDH X25519 ML-KEM-768" } else { "DMP1 X3DH" };
    let mut okm = [0u8; 40];
    hkdf_sha256(&[0u8; 32], &ikm, info.as_bytes(), &mut okm).unwrap();
    assert_eq!(&okm[..32], s.root_key.as_bytes(), "SK");
    assert_eq!(okm[32..], s.session_id, "session id");
    let (rk, mut ck) = s.root_key.first_chain();
    let ck0 = ck.as_bytes().to_vec();
    let mk = ck.step();
    let header = env.header_bytes;
    let ad = associated_data(header, &s.keys.agent_id().to_bytes(), &r.identity.agent_id().to_bytes());
    let framed = open_with(&mk, &ad, env.sealed);
    assert_eq!(framed[..s.first_plaintext.len()], s.first_plaintext[..]);
    assert_eq!(x25519_public(draw(&s.draws, "ratchet_secret_a0")), env.ratchet.ratchet_key);
    json!({
        "case": case,
        "about": format!("Alice (seed 0xa1*32) starts a session from Bob's bundle `{case}` of bundle.json and sends one message; Bob accepts it."),
        "policy": format!("{:?}", s.policy),
        "responder": responder_json(r),
        "bundle": hex(&r.bundle.to_bytes()),
        "now": NOW,
        "initiator": {
            "identity_seed": hex(&SEED_A),
            "agent_id": hex(&s.keys.agent_id().to_bytes()),
            "ik_x25519_secret": hex(&ik_a),
            "random_draws": draws_json(&s.draws),
            "ek_a_public": hex(prekey.ephemeral_key.as_bytes()),
            "ratchet_public_a0": hex(env.ratchet.ratchet_key.as_bytes()),
        },
        "dh1": hex(&dhs[0]),
        "dh2": hex(&dhs[1]),
        "dh3": hex(&dhs[2]),
        "dh4": dhs.get(3).map(|d| hex(d)),
        "mlkem_ciphertext": kem.as_ref().map(|k| hex(&k.0)),
        "mlkem_shared_secret": kem.as_ref().map(|k| hex(&k.1)),
        "ikm": hex(&ikm),
        "info": info,
        "okm": hex(&okm),
        "sk": hex(s.root_key.as_bytes()),
        "session_id": hex(&s.session_id),
        "kdf_first": { "rk": hex(rk.as_bytes()), "ck": hex(&ck0) },
        "message_key_0": hex(mk.as_bytes()),
        "chain_key_1": hex(ck.as_bytes()),
        "plaintext": hex(&s.first_plaintext),
        "padding": "none",
        "first_message": {
            "header": hex(header),
            "associated_data": hex(&ad),
            "sealed": hex(env.sealed),
            "envelope": hex(&s.first_envelope),
        },
        "responder_plaintext": hex(&s.first_plaintext),
    })
}

/// Opens a single-use seal (all-zero nonce) and returns the framed plaintext.
fn open_with(mk: &MessageKey, ad: &[u8], sealed: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; sealed.len() - 16];
    aead::open_single_use_into(&mk.aead_key(), ad, sealed, &mut out)
        .expect("the message key opens the envelope");
    out
}

fn handshake_vectors() -> Value {
    let cases: Vec<Value> = BUNDLE_CASES.iter().map(|(case, _, _)| handshake_case(case)).collect();
    json!({
        "file": "handshake.json",
        "about": "Complete set-ups, classical (X3DH) and hybrid (ML-KEM-768), with every private input: \
            DH1..DH4, the ML-KEM shared secret, IKM, OKM, SK, the session id, KDF_FIRST, the first \
            message key and the first envelope (a PREKEY_MESSAGE, no padding).",
        "sections": ["5", "4.4", "6", "7", "8"],
        "encoding": ENCODING,
        "cases": cases,
    })
}

fn kdf_vectors() -> Value {
    let sk: [u8; 32] = std::array::from_fn(|i| i as u8);
    let (rk1, ck1) = RootKey::from_bytes(sk).first_chain();
    let a: [u8; 32] = std::array::from_fn(|i| 0x40 + i as u8);
    let b: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
    let b_public = x25519_public(&b);
    let dh_out = X25519SecretKey::from_bytes(a).diffie_hellman(&b_public).unwrap();
    assert_eq!(dh_out.as_bytes().to_vec(), dh(&b, &x25519_public(&a)));
    let (rk2, ck2) = rk1.ratchet(&dh_out);
    let mut ck = ChainKey::from_bytes(*ck2.as_bytes());
    let steps: Vec<Value> = (0..3)
        .map(|n| {
            let before = hex(ck.as_bytes());
            let mk = ck.step();
            json!({ "n": n, "chain_key": before, "message_key": hex(mk.as_bytes()), "next_chain_key": hex(ck.as_bytes()) })
        })
        .collect();
    json!({
        "file": "kdf.json",
        "about": "The ratchet's key derivations. KDF_FIRST(SK) = HKDF-SHA256(salt = SK, ikm = empty, info = \
            \"DMP1 first chain\", 64) -> (RK, CK); KDF_RK(RK, dh_out) = HKDF-SHA256(salt = RK, ikm = dh_out, \
            info = \"DMP1 root\", 64) -> (RK', CK); KDF_CK(CK): MK = HMAC-SHA256(CK, 0x01), CK' = \
            HMAC-SHA256(CK, 0x02). The DH output is X25519(a, B) = X25519(b, A).",
        "sections": ["6", "1"],
        "encoding": ENCODING,
        "kdf_first": { "sk": hex(&sk), "rk": hex(rk1.as_bytes()), "ck": hex(ck1.as_bytes()) },
        "kdf_rk": {
            "rk": hex(rk1.as_bytes()),
            "x25519_secret_a": hex(&a),
            "x25519_public_a": hex(x25519_public(&a).as_bytes()),
            "x25519_secret_b": hex(&b),
            "x25519_public_b": hex(b_public.as_bytes()),
            "dh_output": hex(dh_out.as_bytes()),
            "next_rk": hex(rk2.as_bytes()),
            "ck": hex(ck2.as_bytes()),
        },
        "kdf_ck": steps,
    })
}

// ---------------------------------------------------------------------------------------------
// A conversation (section 6)
// ---------------------------------------------------------------------------------------------

/// A sending chain of the conversation: its ratchet key and chain key.
struct Chain {
    ratchet_key: X25519PublicKey,
    chain_key: ChainKey,
}

struct Conversation {
    json: Value,
    setup: Setup,
    envelopes: Vec<(String, Vec<u8>)>,
}

fn conversation() -> Conversation {
    let mut s = setup("classical_with_opk");
    let a = s.keys.agent_id().to_bytes();
    let b = s.responder.identity.agent_id().to_bytes();
    let (rk0, ck_a0) = s.root_key.first_chain();
    let a0_secret = draw(&s.draws, "ratchet_secret_a0").to_vec();
    let mut chains = vec![Chain { ratchet_key: x25519_public(&a0_secret), chain_key: ck_a0.clone() }];
    let mut chain_json = vec![json!({
        "name": "A0", "sender": "A", "derivation": "KDF_FIRST(SK)", "sk": hex(s.root_key.as_bytes()),
        "ratchet_public": hex(chains[0].ratchet_key.as_bytes()), "root_key": hex(rk0.as_bytes()),
        "chain_key": hex(ck_a0.as_bytes()),
    })];
    let mut root = rk0;
    let mut envelopes: Vec<(String, Vec<u8>)> = vec![("a0".into(), s.first_envelope.clone())];
    // (own ratchet secret, peer ratchet public) of each side's current key, for the DH steps.
    let mut secret_a = a0_secret;
    let mut public_b: Option<X25519PublicKey> = None;
    let mut steps = Vec::new();
    let script: &[(&str, &str, &str)] = &[
        ("A", "encrypt", "a1"),
        ("A", "encrypt", "a2"),
        ("B", "decrypt", "a2"),
        ("B", "encrypt", "b0"),
        ("B", "encrypt", "b1"),
        ("A", "decrypt", "b1"),
        ("A", "decrypt", "b0"),
        ("A", "encrypt", "a3"),
        ("A", "encrypt", "a4"),
        ("B", "decrypt", "a4"),
        ("B", "decrypt", "a1"),
        ("B", "decrypt", "a4"),
        ("B", "decrypt", "a3"),
        ("B", "padding", "buckets"),
        ("B", "encrypt", "b2"),
        ("A", "decrypt", "b2"),
    ];
    with_deterministic_randomness("ratchet", NOW, || {
        for (i, (actor, op, msg)) in script.iter().enumerate() {
            let (session, local, peer) =
                if *actor == "A" { (&mut s.alice, a, b) } else { (&mut s.bob, b, a) };
            let mut step = json!({ "step": i + 1, "actor": actor, "op": op });
            match *op {
                "padding" => {
                    session.set_padding(Padding::Buckets).unwrap();
                    step["padding"] = json!(msg);
                }
                "encrypt" => {
                    let plaintext = format!("message {msg}").into_bytes();
                    let envelope = session.encrypt(&plaintext).unwrap();
                    let draws = take_draws();
                    let env = MessageEnvelope::parse(&envelope).unwrap();
                    let key = env.ratchet.ratchet_key;
                    if !chains.iter().any(|c| c.ratchet_key == key) {
                        // A sending half of a DH ratchet step: a new ratchet key was drawn.
                        let draws = name_draws(draws.clone(), &["ratchet_secret"]);
                        let secret = draws[0].1.clone();
                        assert_eq!(x25519_public(&secret), key);
                        let peer_public =
                            if *actor == "A" { public_b.unwrap() } else { x25519_public(&secret_a) };
                        let dh_out =
                            X25519SecretKey::from_bytes(arr32(&secret)).diffie_hellman(&peer_public).unwrap();
                        let (next_root, chain_key) = root.ratchet(&dh_out);
                        chain_json.push(json!({
                            "name": format!("{actor}{}", chains.len()), "sender": actor,
                            "derivation": "KDF_RK(RK, DH(ratchet_secret, peer ratchet public))",
                            "root_key_in": hex(root.as_bytes()), "ratchet_secret": hex(&secret),
                            "ratchet_public": hex(key.as_bytes()), "peer_ratchet_public": hex(peer_public.as_bytes()),
                            "dh_output": hex(dh_out.as_bytes()), "root_key": hex(next_root.as_bytes()),
                            "chain_key": hex(chain_key.as_bytes()),
                        }));
                        chains.push(Chain { ratchet_key: key, chain_key });
                        root = next_root;
                        if *actor == "A" {
                            secret_a = secret;
                        } else {
                            public_b = Some(key);
                        }
                    } else {
                        assert!(draws.is_empty(), "step {} drew", i + 1);
                    }
                    step["random_draws"] = draws_json(
                        &draws.iter().map(|d| ("ratchet_secret".to_string(), d.clone())).collect::<Vec<_>>(),
                    );
                    // The message key: step the chain of its ratchet key N + 1 times.
                    let chain = chains.iter().find(|c| c.ratchet_key == key).unwrap();
                    let mut ck = chain.chain_key.clone();
                    let mk = (0..=env.ratchet.message_number).map(|_| ck.step()).last().unwrap();
                    let ad = associated_data(env.header_bytes, &local, &peer);
                    let framed = open_with(&mk, &ad, env.sealed);
                    assert!(framed.starts_with(&plaintext));
                    step["message"] = json!(msg);
                    step["plaintext"] = json!(hex(&plaintext));
                    step["type"] = json!(envelope[1]);
                    step["ratchet_public"] = json!(hex(key.as_bytes()));
                    step["pn"] = json!(env.ratchet.previous_chain_len);
                    step["n"] = json!(env.ratchet.message_number);
                    step["message_key"] = json!(hex(mk.as_bytes()));
                    step["framed"] = json!(hex(&framed));
                    step["envelope"] = json!(hex(&envelope));
                    envelopes.push((msg.to_string(), envelope));
                }
                _ => {
                    let envelope = &envelopes.iter().find(|(n, _)| n == msg).unwrap().1;
                    let result = session.decrypt(envelope);
                    assert!(take_draws().is_empty(), "decrypting draws nothing");
                    step["message"] = json!(msg);
                    step["result"] = outcome(&result);
                    if let Ok(pt) = &result {
                        assert_eq!(pt, &format!("message {msg}").into_bytes());
                        step["plaintext"] = json!(hex(pt));
                    }
                    step["skipped_keys_after"] = json!(session.skipped_key_count().unwrap());
                    step["state_after"] = json!(format!("{:?}", session.state()));
                }
            }
            steps.push(step);
        }
    });
    let json = json!({
        "file": "ratchet.json",
        "about": "A conversation on the classical set-up `classical_with_opk` of handshake.json (envelope a0 \
            is its first message; Bob accepted it). Alice (A) and Bob (B) exchange messages across three DH \
            ratchet steps (B's first send, A's next send, B's next send) with out-of-order delivery (a1 \
            after a2 and a4, b0 after b1, a3 after a4) and one replay (a4 again: DMP_ERR_DUPLICATE). \
            `chains` gives every sending chain with the root key it came from; each message's key is \
            its chain key stepped N + 1 times with KDF_CK. Each encrypt lists what it drew (a fresh \
            ratchet secret at the first send of a new chain). `framed` is the plaintext with its \
            padding (section 8); from step 14 on, B pads to buckets.",
        "sections": ["6", "4.3", "7", "8", "9"],
        "encoding": ENCODING,
        "session_id": hex(&s.session_id),
        "agent_id_a": hex(&a),
        "agent_id_b": hex(&b),
        "sk": hex(s.root_key.as_bytes()),
        "chains": chain_json,
        "steps": steps,
    });
    Conversation { json, setup: s, envelopes }
}

// ---------------------------------------------------------------------------------------------
// Groups (section 10)
// ---------------------------------------------------------------------------------------------

struct GroupRun {
    json: Value,
    alice: Group,
    /// Bob's group after A's distribution, before any message.
    bob_fresh: Group,
    /// Bob's group after m0 and m2 (the key of m1 skipped and stored).
    bob_mid: Group,
    distribution: Vec<u8>,
    messages: Vec<Vec<u8>>,
}

const GROUP_ID: [u8; 32] = [0x67; 32];

fn group_run() -> GroupRun {
    let a = IdentityKeyPair::from_seed(&SEED_A).agent_id();
    let b = IdentityKeyPair::from_seed(&SEED_B).agent_id();
    with_deterministic_randomness("group", NOW, || {
        let mut alice = Group::new(a, GROUP_ID).unwrap();
        let a_draws = name_draws(take_draws(), &["chain_key", "signing_seed"]);
        let mut bob = Group::new(b, GROUP_ID).unwrap();
        let b_draws = name_draws(take_draws(), &["chain_key", "signing_seed"]);
        alice.add_member(&b).unwrap();
        bob.add_member(&a).unwrap();
        let distribution = alice.distribution().to_vec();
        let signing =
            SigningKey::from_seed(&arr32(draw(&a_draws, "signing_seed"))).verifying_key().to_bytes();
        assert_eq!(distribution[106..138], signing);
        assert_eq!(distribution[74..106], *draw(&a_draws, "chain_key"));
        bob.process_distribution(&a, &distribution).unwrap();
        let bob_fresh = bob.clone();
        let mut ck = ChainKey::from_bytes(arr32(draw(&a_draws, "chain_key")));
        let mut messages = Vec::new();
        let mut sent = Vec::new();
        for i in 0..3u32 {
            if i == 2 {
                alice.set_padding(Padding::Buckets);
            }
            let plaintext = format!("group message {i}").into_bytes();
            let before = hex(ck.as_bytes());
            let envelope = alice.encrypt(&plaintext).unwrap();
            assert!(take_draws().is_empty(), "a group message draws nothing");
            let mk = ck.step();
            let env = GroupEnvelope::parse(&envelope).unwrap();
            assert_eq!(env.header.iteration, i);
            let framed = open_with(&mk, env.header_bytes, env.sealed);
            assert!(framed.starts_with(&plaintext));
            sent.push(json!({
                "iteration": i,
                "plaintext": hex(&plaintext),
                "padding": if i == 2 { "buckets" } else { "none" },
                "chain_key": before,
                "message_key": hex(mk.as_bytes()),
                "next_chain_key": hex(ck.as_bytes()),
                "header": hex(env.header_bytes),
                "framed": hex(&framed),
                "sealed": hex(env.sealed),
                "signature_digest": hex(&signed_digest(env.signed)),
                "signature": hex(&env.signature.0),
                "envelope": hex(&envelope),
            }));
            messages.push(envelope);
        }
        let mut received = Vec::new();
        let mut bob_mid = None;
        for i in [0usize, 2, 1, 1] {
            if i == 1 && bob_mid.is_none() {
                bob_mid = Some(bob.clone());
            }
            let result = bob.decrypt(&messages[i]);
            let mut r = json!({ "message": i, "result": outcome(&result) });
            if let Ok((sender, pt)) = &result {
                assert_eq!(*sender, a);
                r["sender"] = json!(hex(&sender.to_bytes()));
                r["plaintext"] = json!(hex(pt));
            }
            r["skipped_keys_after"] = json!(bob.skipped_key_count(&a).unwrap());
            received.push(r);
        }
        let json = json!({
            "file": "group.json",
            "about": "Sender Keys: Alice (seed 0xa1*32) and Bob (seed 0xb2*32) each create the group (id \
                0x67*32), drawing a chain key and a signing seed, and add each other. Alice's distribution \
                goes to Bob (inside a pairwise message, not shown), then three group messages (the third \
                padded to buckets). Bob receives them in the order 0, 2, 1, then 1 again \
                (DMP_ERR_DUPLICATE). Each message: MK = KDF_CK of the chain, AEAD with the all-zero nonce \
                and AD = header, signature over SHA-256(\"DMP1 group message\" || header || sealed).",
            "sections": ["10", "8"],
            "encoding": ENCODING,
            "group_id": hex(&GROUP_ID),
            "alice": { "agent_id": hex(&a.to_bytes()), "random_draws": draws_json(&a_draws), "signing_public": hex(&signing) },
            "bob": { "agent_id": hex(&b.to_bytes()), "random_draws": draws_json(&b_draws) },
            "distribution": hex(&distribution),
            "messages": sent,
            "bob_receives": received,
        });
        GroupRun { json, alice, bob_fresh, bob_mid: bob_mid.unwrap(), distribution, messages }
    })
}

// ---------------------------------------------------------------------------------------------
// State records (section 12)
// ---------------------------------------------------------------------------------------------

fn record_json(what: &str, kind: RecordKind, name: &str, record: Vec<u8>, draws: Vec<Vec<u8>>) -> Value {
    let draws = name_draws(draws, &["nonce"]);
    assert_eq!(record[2..26], draws[0].1[..]);
    let key = StorageKey::from_bytes(STORAGE_KEY);
    let plaintext = open_record_named(kind, &key, name.as_bytes(), &record).unwrap();
    let mut ad = b"DMP1 state".to_vec();
    ad.extend_from_slice(&[1, kind as u8]);
    ad.extend_from_slice(name.as_bytes());
    json!({
        "record": what,
        "kind": kind as u8,
        "kind_name": format!("{kind:?}"),
        "name": name,
        "associated_data": hex(&ad),
        "random_draws": draws_json(&draws),
        "plaintext": hex(&plaintext),
        "sealed_record": hex(&record),
    })
}

fn state_record_vectors() -> Value {
    let key = StorageKey::from_bytes(STORAGE_KEY);
    let conv = setup("classical_with_opk");
    let hybrid = setup("hybrid_with_opk");
    let group = group_run();
    let hybrid_identity = responder("hybrid_with_opk").identity;
    let session_name = format!("session/{}", hex(&conv.session_id));
    let records = with_deterministic_randomness("state records", NOW, || {
        let mut out = Vec::new();
        let mut add = |what: &str, kind: RecordKind, name: &str, record: dmp::Result<Vec<u8>>| {
            let record = record.unwrap();
            out.push(record_json(what, kind, name, record, take_draws()));
        };
        add(
            "the classical initiator session after its first message (INITIATING, with its prekey header)",
            RecordKind::Session,
            "",
            conv.alice.to_sealed(&key),
        );
        add(
            "the hybrid initiator session after its first message (INITIATING, prekey header with the ML-KEM block)",
            RecordKind::Session,
            "",
            hybrid.alice.to_sealed(&key),
        );
        add(
            "the classical responder session after accepting (ACTIVE, no sending chain yet)",
            RecordKind::Session,
            "",
            conv.bob.to_sealed(&key),
        );
        add(
            "the same responder session bound to its agent-store name",
            RecordKind::Session,
            &session_name,
            conv.bob.to_sealed_named(&key, session_name.as_bytes()),
        );
        add(
            "Bob's classical identity after its bundle (one published OPK)",
            RecordKind::Identity,
            "",
            conv.responder.identity.to_sealed(&key),
        );
        add(
            "Bob's hybrid identity after its bundle (one published OPK with its ML-KEM half)",
            RecordKind::Identity,
            "",
            hybrid_identity.to_sealed(&key),
        );
        add(
            "Alice's group of group.json after sending its three messages",
            RecordKind::Group,
            "",
            group.alice.to_sealed(&key),
        );
        add(
            "Bob's group of group.json after messages 0 and 2 (the key of message 1 skipped and stored)",
            RecordKind::Group,
            "",
            group.bob_mid.to_sealed(&key),
        );
        out
    });
    json!({
        "file": "state_records.json",
        "about": "State records sealed under the storage key 0x5c*32: record = 0x01 || kind || nonce (24, \
            drawn) || XChaCha20-Poly1305(storage key, nonce, AD, plaintext). Decrypt `sealed_record` \
            with `associated_data` and compare with `plaintext`; parse `plaintext` with the layout of \
            its kind and serialize it again: the bytes must be equal. The sessions, identities and \
            groups are those of handshake.json and group.json. (The agent's own kinds 4 to 12 are \
            laid out in section 11.9 and have no vector here.)",
        "sections": ["12", "12.1", "12.2", "12.3"],
        "encoding": ENCODING,
        "storage_key": hex(&STORAGE_KEY),
        "records": records,
    })
}

// ---------------------------------------------------------------------------------------------
// Refusals (sections 3, 4, 5, 6, 10, 12, 14)
// ---------------------------------------------------------------------------------------------

fn flip(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= mask;
    b
}

fn refusal(
    name: &str,
    call: &str,
    context: &str,
    section: &str,
    input: &[u8],
    result: Result<(), Error>,
) -> Value {
    let e = result.expect_err(name);
    json!({
        "name": name,
        "call": call,
        "context": context,
        "section": section,
        "input": hex(input),
        "error": error_name(e),
        "code": e.code(),
    })
}

fn refusal_vectors() -> Value {
    let mut out = Vec::new();
    // Bundles.
    let classical = responder("classical_with_opk").bundle.to_bytes();
    let hybrid = responder("hybrid_last_resort").bundle.to_bytes();
    let verify = |b: &[u8]| PrekeyBundle::from_bytes_at(b, NOW).map(|_| ());
    let ctx = "verify at now = 1767225600 (bundle.json's clock)";
    let call = "bundle verification (PrekeyBundle::from_bytes_at, dmp_bundle_verify)";
    let expires_at = u64::from_be_bytes(classical[70..78].try_into().unwrap());
    let mut small_order_identity = classical.clone();
    small_order_identity[2..34].copy_from_slice(&{
        let mut k = [0u8; 32];
        k[0] = 1; // the neutral point (0, 1): order 1
        k
    });
    let mut trailing = classical.clone();
    trailing.push(0);
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("empty input", "4.1", vec![]),
        ("lone version byte 2", "4.1", vec![2]),
        ("version 1 without a type byte", "4.1", vec![1]),
        ("unknown type 9", "4.1", vec![1, 9, 0, 0]),
        ("a MESSAGE given as a bundle", "4.1", conversation_free_message()),
        ("classical bundle truncated by one byte", "4.2", classical[..classical.len() - 1].to_vec()),
        ("classical bundle with a trailing byte", "4.2", trailing),
        ("flag bit 2 set", "4.2", flip(&classical, 142, 0x04)),
        ("ML-KEM kind byte 3", "4.2", {
            let mut b = hybrid.clone();
            b[143] = 3;
            b
        }),
        ("identity key of small order", "2, 3", small_order_identity),
        ("signature bit flipped", "3", flip(&classical, 100, 0x01)),
        ("expiry changed", "3", flip(&classical, 77, 0x01)),
        ("ML-KEM block removed (flag bit 1 cleared)", "3", {
            let mut b = hybrid[..143].to_vec();
            b[142] = 0;
            b
        }),
    ];
    for (name, section, input) in cases {
        let r = verify(&input);
        out.push(refusal(name, call, ctx, section, &input, r));
    }
    out.push(refusal(
        "expired: verified at now = expires_at",
        call,
        &format!("verify at now = {expires_at} (the bundle's expires_at)"),
        "3",
        &classical,
        PrekeyBundle::from_bytes_at(&classical, expires_at).map(|_| ()),
    ));
    // First messages at the responder.
    for case in ["classical_with_opk", "hybrid_last_resort"] {
        let s = setup(case);
        let first = s.first_envelope.clone();
        let config = SessionConfig { pq_policy: s.policy, ..SessionConfig::default() };
        let ctx = format!(
            "Bob's identity of bundle.json `{case}` as it was when the bundle was made; policy {:?}",
            s.policy
        );
        let call = "Session::accept (dmp_session_accept_with)";
        let accept = |input: &[u8], config: SessionConfig| {
            let mut identity = s.responder.identity.clone();
            Session::accept(&mut identity, input, config).map(|_| ())
        };
        let last = first.len() - 1;
        let header_len = MessageEnvelope::parse(&first).unwrap().header_bytes.len();
        let mut cases: Vec<(String, &str, Vec<u8>, SessionConfig)> = vec![
            (format!("{case}: tag bit flipped"), "5 step 13", flip(&first, last, 0x01), config),
            (format!("{case}: session id changed"), "5 step 12", flip(&first, 2, 0x01), config),
            (format!("{case}: unknown signed prekey id"), "5 step 4", flip(&first, 77, 0x01), config),
            (format!("{case}: flag bit 2 set"), "4.4", flip(&first, 78, 0x04), config),
            (
                format!("{case}: N written in two bytes (80 00)"),
                "4.3",
                [&first[..header_len - 1], &[0x80, 0x00], &first[header_len..]].concat(),
                config,
            ),
        ];
        if case == "classical_with_opk" {
            cases.push((
                format!("{case}: under RequireHybrid"),
                "5 step 6",
                first.clone(),
                SessionConfig::default(),
            ));
            cases.push((format!("{case}: OPK flag cleared, id kept"), "4.4", flip(&first, 78, 0x01), config));
        } else {
            // The ML-KEM block (bytes 83..1176) cut out and flag bit 1 cleared: a downgrade.
            let mut stripped = [&first[..83], &first[1176..]].concat();
            stripped[78] &= !0x02;
            cases.push((
                format!("{case}: ML-KEM block removed"),
                "5 step 5",
                stripped,
                SessionConfig::default(),
            ));
            cases.push((
                format!("{case}: ML-KEM kind 2 without an OPK"),
                "5 step 7",
                {
                    let mut b = first.clone();
                    b[83] = 2;
                    b
                },
                config,
            ));
        }
        for (name, section, input, config) in cases {
            let r = accept(&input, config);
            let ctx = if config == SessionConfig::default() && s.policy != PqPolicy::RequireHybrid {
                ctx.replace("AllowClassical", "RequireHybrid")
            } else {
                ctx.clone()
            };
            out.push(refusal(&name, call, &ctx, section, &input, r));
        }
        if case == "classical_with_opk" {
            let ctx = "Bob's session right after accepting the first message of handshake.json `classical_with_opk`";
            let call = "Session::decrypt (dmp_session_decrypt)";
            let mut bob = s.bob.clone();
            out.push(refusal(
                "the first message again",
                call,
                ctx,
                "6, 9",
                &first,
                bob.decrypt(&first).map(|_| ()),
            ));
            let other = flip(&first, 9, 0x80);
            out.push(refusal("another session id", call, ctx, "9", &other, bob.decrypt(&other).map(|_| ())));
            let bundle = s.responder.bundle.to_bytes();
            out.push(refusal("a bundle", call, ctx, "4.5", &bundle, bob.decrypt(&bundle).map(|_| ())));
        }
    }
    // Groups.
    let g = group_run();
    let a = IdentityKeyPair::from_seed(&SEED_A).agent_id();
    let ctx = "Bob's group of group.json after processing Alice's distribution, before any message";
    let call = "Group::decrypt (dmp_group_decrypt)";
    let m0 = &g.messages[0];
    let group_cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("signature bit flipped", "10.5 step 7", flip(m0, m0.len() - 1, 0x01)),
        ("ciphertext bit flipped (the signature no longer verifies)", "10.5 step 7", flip(m0, 80, 0x01)),
        ("154 bytes", "10.2", m0[..154].to_vec()),
        ("another group id", "10.5 step 2", flip(m0, 2, 0x01)),
        ("key id 3, not yet distributed", "10.5 step 6", flip(m0, 69, 0x02)),
        ("a distribution", "10.2", g.distribution.clone()),
    ];
    for (name, section, input) in group_cases {
        let mut bob = g.bob_fresh.clone();
        let r = bob.decrypt(&input).map(|_| ());
        out.push(refusal(name, call, ctx, section, &input, r));
    }
    let call = "Group::process_distribution(from = Alice) (dmp_group_process_distribution)";
    let dist_cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("137 bytes", "10.3", g.distribution[..137].to_vec()),
        ("the same key id again", "10.4 step 8", g.distribution.clone()),
        ("another group id", "10.4 step 2", flip(&g.distribution, 2, 0x01)),
    ];
    for (name, section, input) in dist_cases {
        let mut bob = g.bob_fresh.clone();
        let r = bob.process_distribution(&a, &input);
        out.push(refusal(name, call, ctx, section, &input, r));
    }
    // State records.
    let conv = setup("classical_with_opk");
    let key = StorageKey::from_bytes(STORAGE_KEY);
    let record = with_deterministic_randomness("refusals record", NOW, || conv.bob.to_sealed(&key).unwrap());
    let ctx = "storage key 0x5c*32, name empty";
    let call = "Session::from_sealed (dmp_session_deserialize)";
    let record_cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("one byte", "12", vec![1]),
        ("version 2", "12", flip(&record, 0, 0x03)),
        ("kind 2 (an identity) where a session is expected", "12", flip(&record, 1, 0x03)),
        ("tag bit flipped", "12", flip(&record, record.len() - 1, 0x01)),
        ("sealed part of 39 bytes", "12", record[..2 + 39].to_vec()),
    ];
    for (name, section, input) in record_cases {
        let r = Session::from_sealed(&input, &key).map(|_| ());
        out.push(refusal(name, call, ctx, section, &input, r));
    }
    let r = Session::from_sealed_named(&record, &key, b"session/0000000000000000").map(|_| ());
    out.push(refusal(
        "opened under another name",
        "Session::from_sealed_named(name = \"session/0000000000000000\")",
        "storage key 0x5c*32; the record was sealed with the empty name",
        "12",
        &record,
        r,
    ));
    json!({
        "file": "refusals.json",
        "about": "Inputs that must be refused, each with the call, the state it is given to (`context`) and \
            the error code that must come back. The inputs are made from the other files' vectors by the \
            change the name says. A refusal changes nothing (sections 5, 6, 10.5, 12).",
        "sections": ["2", "3", "4", "5", "6", "9", "10", "12", "14"],
        "encoding": ENCODING,
        "refusals": out,
    })
}

/// A MESSAGE (type 2) envelope from the conversation: Bob's first reply.
fn conversation_free_message() -> Vec<u8> {
    let mut s = setup("classical_with_opk");
    with_deterministic_randomness("refusals message", NOW, || s.bob.encrypt(b"reply").unwrap())
}

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/vectors")
}

/// The path of the first difference between two JSON values, if any.
fn first_difference(committed: &Value, fresh: &Value, path: &str) -> Option<String> {
    match (committed, fresh) {
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().chain(b.keys()) {
                let p = format!("{path}.{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => {
                        if let Some(d) = first_difference(x, y, &p) {
                            return Some(d);
                        }
                    }
                    (None, _) => return Some(format!("{p} (missing from the committed file)")),
                    (_, None) => return Some(format!("{p} (no longer produced by the library)")),
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(x, y, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (a.len() != b.len())
                .then(|| format!("{path} (committed {} entries, library {})", a.len(), b.len()))
        }
        _ => (committed != fresh).then(|| format!("{path}: committed {committed}, library {fresh}")),
    }
}

fn check(file: &str, fresh: Value) {
    assert_eq!(fresh["file"], json!(file));
    let text = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
    let path = vectors_dir().join(file);
    if std::env::var_os("DMP_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(vectors_dir()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("docs/vectors/{file}: {e}; write it with DMP_WRITE_VECTORS=1 cargo test --features test-vectors --test spec_vectors")
    });
    let parsed: Value =
        serde_json::from_str(&committed).unwrap_or_else(|e| panic!("docs/vectors/{file} is not JSON: {e}"));
    if let Some(diff) = first_difference(&parsed, &fresh, "") {
        panic!("docs/vectors/{file}: the library no longer reproduces field {diff}");
    }
    assert!(
        committed == text,
        "docs/vectors/{file}: same values, other formatting; rewrite it with DMP_WRITE_VECTORS=1"
    );
}

#[test]
fn identity_vectors_are_reproduced() {
    check("identity.json", identity_vectors());
}

#[test]
fn kdf_vectors_are_reproduced() {
    check("kdf.json", kdf_vectors());
}

#[test]
fn bundle_vectors_are_reproduced() {
    check("bundle.json", bundle_vectors());
}

#[test]
fn handshake_vectors_are_reproduced() {
    check("handshake.json", handshake_vectors());
}

#[test]
fn ratchet_vectors_are_reproduced() {
    let c = conversation();
    assert_eq!(c.envelopes.len(), 8, "a0 to a4, b0 to b2");
    assert_eq!(c.setup.alice.state(), dmp::SessionState::Active);
    check("ratchet.json", c.json);
}

#[test]
fn group_vectors_are_reproduced() {
    check("group.json", group_run().json);
}

#[test]
fn state_record_vectors_are_reproduced() {
    check("state_records.json", state_record_vectors());
}

#[test]
fn refusal_vectors_are_reproduced() {
    check("refusals.json", refusal_vectors());
}

#[test]
fn every_committed_vector_file_is_checked() {
    let checked = [
        "identity.json",
        "kdf.json",
        "bundle.json",
        "handshake.json",
        "ratchet.json",
        "group.json",
        "state_records.json",
        "refusals.json",
    ];
    let Ok(dir) = std::fs::read_dir(vectors_dir()) else {
        assert!(std::env::var_os("DMP_WRITE_VECTORS").is_some(), "docs/vectors/ is missing");
        return;
    };
    for entry in dir {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            checked.contains(&name.as_str()) || name == "README.md",
            "docs/vectors/{name} is checked by no test"
        );
    }
}

#[test]
fn the_deterministic_stream_is_what_the_vectors_use() {
    // Two runs of one set-up give the same bytes; outside the closure the OS answers again.
    let a = setup("hybrid_last_resort").first_envelope;
    let b = setup("hybrid_last_resort").first_envelope;
    assert_eq!(a, b);
    let os = Identity::from_seed_with(&SEED_B, Suite::Classical).unwrap();
    assert_ne!(os.signed_prekey_id(), responder("classical_with_opk").identity.signed_prekey_id());
}
