#!/usr/bin/env bash
# Builds and runs benches/c/aead_vs_libsodium.c: XChaCha20-Poly1305 seal+open from C, DMP's raw
# AEAD (dmp_aead_seal/open, static target/release/libdmp.a) vs libsodium, same process.
# Prints one `ratio: aead_c_<size> dmp X us / libsodium Y us = Z` line per size.
#
# Usage: benches/c/run.sh [--wall]   (--wall: CLOCK_MONOTONIC instead of the process CPU clock)
# Environment: CC (default cc), SODIUM (path of libsodium.so.23; default: found with ldconfig or
# in the usual library directories), DMP_SKIP_CARGO=1 to use the libdmp.a already built.
# libsodium is used through its runtime library only (no headers: the program declares the
# prototypes); without it the script prints "skipped: libsodium not found" and exits 0.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
CC="${CC:-cc}"

sodium="${SODIUM:-}"
if [ -z "$sodium" ]; then
    sodium="$( (/sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true) |
        awk '/libsodium\.so\.23 .*x86-64|libsodium\.so\.23 \(libc6\)/ { print $NF; exit }')"
fi
if [ -z "$sodium" ]; then
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        if [ -e "$d/libsodium.so.23" ]; then sodium="$d/libsodium.so.23"; break; fi
    done
fi
if [ -z "$sodium" ] || [ ! -e "$sodium" ]; then
    echo "skipped: libsodium not found (need libsodium.so.23, e.g. apt-get install libsodium23)"
    exit 0
fi
sodium_dir="$(dirname "$sodium")"

if [ "${DMP_SKIP_CARGO:-0}" != 1 ]; then
    (cd "$repo" && cargo build --release --lib --quiet)
fi
lib="$repo/target/release/libdmp.a"
[ -f "$lib" ] || { echo "missing $lib (cargo build --release --lib)" >&2; exit 1; }

out="$repo/target/bench-c"
mkdir -p "$out"
# Link line of tests/c/Makefile (STATIC_LIBS) for the static library, plus libsodium by soname.
"$CC" -std=c11 -O2 -Wall -Wextra -pedantic -I"$repo/include" \
    "$here/aead_vs_libsodium.c" -o "$out/aead_vs_libsodium" \
    "$lib" -L"$sodium_dir" -Wl,-rpath,"$sodium_dir" -l:libsodium.so.23 \
    -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
"$out/aead_vs_libsodium" "$@"
