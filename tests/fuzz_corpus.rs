//! Stable-Rust replay of the committed fuzz corpora: every file under `fuzz/corpus/<target>/` is
//! run through the same target function the cargo-fuzz binaries call (`fuzz/src/lib.rs`,
//! included here so no libfuzzer is needed). A panic is a failure.
//!
//! The stateful targets decrypt against fixtures (`fuzz/fixtures/`) written together with their
//! seeds, so the genuine seeds must get through authentication: every `ok-*` seed must be
//! accepted and every `refused-*` one refused. A stale fixture or seed (say, after a change of a
//! wire or record format) fails here rather than silently fuzzing only the refusal paths.
//!
//! `cargo run --example fuzz_seeds` rewrites the fixtures and the seed corpora (genuine envelopes,
//! bundles, records and a few mutations of each); see docs/FUZZING.md.

// Shared with the cargo-fuzz binaries; each includer uses part of it.
#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus")
}

/// The files of one target's corpus, sorted.
fn corpus_files(name: &str) -> Vec<PathBuf> {
    let dir = corpus_root().join(name);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).expect("corpus file name")
}

const REGENERATE: &str = "stale fixture or seed? regenerate both with `cargo run --example fuzz_seeds`";

#[test]
fn replay_committed_corpora() {
    let start = Instant::now();
    let mut total_bytes = 0usize;
    for (name, run) in targets::TARGETS {
        let files = corpus_files(name);
        assert!(!files.is_empty(), "no corpus file for target {name}");
        for file in &files {
            let data = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            total_bytes += data.len();
            // A panic here names the file through the message below (panics propagate).
            eprintln!("replay {name}: {}", file.display());
            run(&data);
        }
    }
    assert!(total_bytes < 300 * 1024, "seed corpora too large: {total_bytes} bytes");
    eprintln!("replayed {total_bytes} bytes in {:?}", start.elapsed());
}

/// The fixtures accept their genuine seeds: `ok-*` accepted, `refused-*` refused, and at least
/// one accepted seed per stateful target (for `group_decrypt`: a message and a distribution).
#[test]
fn genuine_seeds_pass_authentication() {
    for (name, accepted) in targets::ACCEPTING {
        let (mut ok, mut refused) = (0, 0);
        for file in corpus_files(name) {
            let seed = file_name(&file);
            let data = fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if seed.starts_with(targets::OK_PREFIX) {
                assert!(accepted(&data), "{name}/{seed} refused by the fixture: {REGENERATE}");
                ok += 1;
            } else if seed.starts_with(targets::REFUSED_PREFIX) {
                assert!(!accepted(&data), "{name}/{seed} accepted by the fixture: {REGENERATE}");
                refused += 1;
            }
        }
        assert!(ok > 0, "{name}: no ok-* seed: {REGENERATE}");
        eprintln!("{name}: {ok} genuine seeds accepted, {refused} refused as expected");
    }
    let (mut messages, mut distributions) = (0, 0);
    for file in corpus_files("group_decrypt") {
        if file_name(&file).starts_with(targets::OK_PREFIX) {
            let outcome = targets::group_decrypt_outcome(&fs::read(&file).expect("corpus file"));
            messages += usize::from(outcome.decrypted);
            distributions += usize::from(outcome.distribution);
        }
    }
    assert!(
        messages > 0 && distributions > 0,
        "group_decrypt: {messages} messages, {distributions} distributions decrypted: {REGENERATE}"
    );
}
