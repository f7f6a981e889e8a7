#!/usr/bin/env bash
# Builds dmp_bridge_static.o: the Janus bridge with libdmp.a linked inside, as ONE relocatable
# object that a plain `cc main.o dmp_bridge_static.o -o app` links (no -l, no -L, no libdmp.so
# at run time). Only the bridge's dmpj_* functions stay global; the library's own symbols
# (Rust, SQLite, ...) are made local so they cannot clash with anything else in the program.
#
# `janus build` compiles dmp_bridge.zig itself and cannot take this object (see README.md:
# it uses run-time loading); this is for build pipelines that can add an object file.
#
# Usage: ./build_static.sh [OUT_DIR]   (default: ./build; writes OUT_DIR/dmp_bridge_static.o)
# Environment: CARGO=0 skips `cargo build --release --lib`; ZIG_GLOBAL_CACHE_DIR, PYTHON.
# Needs: cargo, python3 -m ziglang (0.17.1), ld and objcopy (binutils).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$here/build}"
PYTHON="${PYTHON:-python3}"
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$HOME/.cache/dmp-zig}"

if [ "${CARGO:-1}" != "0" ]; then
    (cd "$repo" && cargo build --release --lib --quiet)
fi
lib="$repo/target/release/libdmp.a"
[ -f "$lib" ] || { echo "build_static: $lib not found (run cargo build --release --lib)" >&2; exit 1; }

mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. The bridge, compiled exactly as `janus build` compiles a `use zig` file, with the root
#    file that selects the static table (and carries the one libm function, `log`).
"$PYTHON" -m ziglang build-obj "$here/dmp_bridge_static.zig" -O ReleaseSafe -fno-stack-check -lc \
    -femit-bin="$work/bridge.o"
# 2. One relocatable object: the bridge plus every member of libdmp.a it needs.
ld -r -o "$work/merged.o" "$work/bridge.o" "$lib"
# 3. Keep only the bridge's exports global.
objcopy --wildcard --keep-global-symbol='dmpj_*' "$work/merged.o" "$out/dmp_bridge_static.o"
echo "build_static: wrote $out/dmp_bridge_static.o ($(du -h "$out/dmp_bridge_static.o" | cut -f1))"
