//! Rewrites the fuzz seed corpora under fuzz/corpus/: genuine envelopes, bundles, records and a few
//! deterministic mutations of each. Run: `cargo run --example fuzz_seeds` (see docs/FUZZING.md).

// Shared with the cargo-fuzz binaries; each includer uses part of it.
#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::fs;
use std::path::PathBuf;

use dmp::{Identity, Suite};

fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

/// Deterministic mutations of a genuine input: truncations, a bit flip, a changed type byte, a
/// changed suite/version byte, an extension.
fn mutations(v: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    out.push(v[..v.len() / 2].to_vec());
    out.push(v[..v.len().saturating_sub(1)].to_vec());
    let mut flip = v.to_vec();
    if !flip.is_empty() {
        let i = flip.len() / 2;
        flip[i] ^= 0x10;
    }
    out.push(flip);
    if v.len() > 2 {
        let mut t = v.to_vec();
        t[1] = t[1].wrapping_add(1);
        out.push(t);
        let mut s = v.to_vec();
        s[0] ^= 0x03;
        out.push(s);
    }
    let mut ext = v.to_vec();
    ext.extend_from_slice(&[0xA5; 17]);
    out.push(ext);
    out
}

fn write_corpus(name: &str, genuine: &[Vec<u8>]) {
    let dir = corpus_root().join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create corpus dir");
    let mut all: Vec<Vec<u8>> = vec![Vec::new()];
    for g in genuine {
        all.push(g.clone());
        all.extend(mutations(g));
    }
    for (i, data) in all.iter().enumerate() {
        fs::write(dir.join(format!("seed-{i:03}")), data).expect("write corpus file");
    }
}

fn main() {
    let f = targets::fixture();
    let mut alice = f.alice.clone();
    let msgs: Vec<Vec<u8>> = (0..2u8).map(|i| alice.encrypt(&[i; 24]).expect("encrypt")).collect();
    let mut ga = f.group_alice.clone();
    let group_msg = ga.encrypt(b"group message").expect("group encrypt");
    let distribution = f.group_alice.distribution().to_vec();
    let mut classical = Identity::from_seed_with(&[6; 32], Suite::Classical).expect("classical identity");
    let classical_bundle = classical.bundle(false).expect("classical bundle").to_bytes();

    write_corpus("envelope_parse", &[f.first_message.clone(), msgs[0].clone()]);
    write_corpus("bundle_parse", &[f.bundle.clone(), classical_bundle]);
    write_corpus("group_parse", &[group_msg.clone(), distribution.clone()]);
    write_corpus("session_decrypt", &msgs);
    write_corpus("session_accept", std::slice::from_ref(&f.first_message));
    write_corpus("group_decrypt", &[group_msg, distribution]);
    write_corpus("state_records", &f.sealed);
    let agent_msgs = {
        let mut a = targets::agents().lock().expect("agents");
        let id = a.receiver_id;
        vec![a.sender.send(&id, b"agent one").expect("send"), a.sender.send(&id, b"agent two").expect("send")]
    };
    write_corpus("agent_receive", &agent_msgs);
    // ffi_raw: selector, five length bytes (key, ad, input, salt, info), then the buffers.
    let mut ffi = Vec::new();
    for (sel, lens) in [(0u8, [32u8, 0, 40, 0, 0]), (8, [32, 5, 64, 16, 4]), (255, [0, 0, 0, 0, 0])] {
        let mut v = vec![sel];
        v.extend_from_slice(&lens);
        let body: usize = lens.iter().map(|&l| usize::from(l)).sum::<usize>() + 23;
        v.extend((0..body).map(|i| (i * 7 + usize::from(sel)) as u8));
        ffi.push(v);
    }
    write_corpus("ffi_raw", &ffi);
}
