//! Stable-Rust replay of the committed fuzz corpora: every file under `fuzz/corpus/<target>/` is
//! run through the same target function the cargo-fuzz binaries call (`fuzz/src/lib.rs`,
//! included here so no libfuzzer is needed). A panic is a failure.
//!
//! `cargo run --example fuzz_seeds` rewrites the seed corpora (genuine envelopes, bundles, records
//! and a few mutations of each); see docs/FUZZING.md.

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

#[test]
fn replay_committed_corpora() {
    let root = corpus_root();
    let start = Instant::now();
    let mut total_bytes = 0usize;
    for (name, run) in targets::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
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
