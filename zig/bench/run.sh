#!/usr/bin/env bash
# Builds and runs zig/bench/aead.zig (XChaCha20-Poly1305: dmp_aead_seal/open vs Zig std.crypto).
# Standalone: does not touch build.zig. Needs ../../target/release/libdmp.a (built here with
# `cargo build --release --lib` unless DMP_SKIP_CARGO=1) and Zig 0.17.1 from PyPI (`ziglang`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$HOME/.cache/dmp-zig}"
if [ "${DMP_SKIP_CARGO:-0}" != 1 ]; then
    (cd "$repo" && cargo build --release --lib --quiet)
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$PYTHON" -m ziglang build-exe -O ReleaseFast -fno-emit-docs "$here/aead.zig" "$repo/target/release/libdmp.a" \
    -lc -lunwind --name aead-bench -femit-bin="$out/aead-bench" --cache-dir "$out/cache"
"$out/aead-bench"
