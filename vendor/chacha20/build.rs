//! DMP patch (the whole file; not in the published crate): turn on the run-time-detected AVX-512
//! backend without a `--cfg chacha20_avx512` flag from the user.
//!
//! Upstream keeps that backend behind the cfg because its intrinsics and
//! `#[target_feature(enable = "avx512f")]` need Rust 1.89 while the crate supports 1.85. This
//! script sets the cfg only when the compiler is 1.89 or newer, so older compilers build the
//! published code paths (AVX2/SSE2/soft) unchanged. The backend is still only used after
//! `cpufeatures` has found AVX-512F and AVX-512VL (and their register state enabled by the OS)
//! at run time; every other CPU keeps the AVX2, SSE2 or portable backend as before.

use std::{env, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if (arch == "x86_64" || arch == "x86") && rustc_minor().is_some_and(|minor| minor >= 89) {
        println!("cargo:rustc-cfg=chacha20_avx512");
    }
}

/// The minor version of the compiler building this crate (`rustc 1.MINOR.PATCH ...`), if known.
fn rustc_minor() -> Option<u32> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(out.stdout).ok()?;
    let mut parts = version.split_whitespace().nth(1)?.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}
