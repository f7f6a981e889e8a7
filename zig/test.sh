#!/usr/bin/env bash
# Runs every Zig test of DMP (wrapper, header check, interop, transport, conversation, agent,
# host: agents over TCP, node: dmp-node processes) from a fresh machine: installs the pinned Zig
# from PyPI if it is missing, then `python3 -m ziglang build test` here, which runs
# `cargo build --release --lib` first and builds dmp-node for the node tests.
# Exits non-zero on any failure; the last line reads `zig: N passed, M failed`.
#
# Environment: ZIG_GLOBAL_CACHE_DIR (default $HOME/.cache/dmp-zig: cache it in CI),
#              PYTHON (default python3), extra arguments are passed to `zig build test`.
set -uo pipefail

ZIG_VERSION=0.17.1
PYTHON="${PYTHON:-python3}"
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$HOME/.cache/dmp-zig}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "$("$PYTHON" -m ziglang version 2>/dev/null)" != "$ZIG_VERSION" ]; then
    echo "zig: installing ziglang==$ZIG_VERSION from PyPI" >&2
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIG_VERSION" || {
        echo "zig: could not install ziglang==$ZIG_VERSION" >&2
        echo "zig: 0 passed, 1 failed"
        exit 1
    }
fi

cd "$here" || exit 1
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

start=$(date +%s)
"$PYTHON" -m ziglang build test --summary all "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
elapsed=$(( $(date +%s) - start ))

# "Build Summary: 5/5 steps succeeded; 60/60 tests passed"
# "Build Summary: 3/5 steps succeeded (1 failed); 57/60 tests passed (3 failed)"
summary="$(grep -E '^Build Summary:' "$log" | tail -n 1)"
passed=0
total=0
if [[ "$summary" =~ ([0-9]+)/([0-9]+)\ tests\ passed ]]; then
    passed=${BASH_REMATCH[1]}
    total=${BASH_REMATCH[2]}
fi
failed=$(( total - passed ))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "zig: the build failed before the tests could run (exit $status)" >&2
    failed=1
fi
if [ "$total" -eq 0 ] && [ "$status" -eq 0 ]; then
    echo "zig: no test ran" >&2
    status=1
    failed=1
fi
echo "zig: ${elapsed}s, ZIG_GLOBAL_CACHE_DIR=$ZIG_GLOBAL_CACHE_DIR" >&2
echo "zig: ${passed} passed, ${failed} failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
