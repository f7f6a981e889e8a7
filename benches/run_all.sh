#!/usr/bin/env bash
# Regenerates every number of docs/BENCHMARKS.md, in this order:
#   1. cargo bench --bench dmp       DMP's own costs (criterion)
#   2. cargo bench --bench anchors   DMP vs vodozemac, same run, same criterion settings; ends with
#                                    `ratio:` and `size:` lines
#   3. Python: bindings/python/benchmarks/aead_vs_pynacl.py   dmp.crypto vs PyNaCl (libsodium)
#   4. Zig:    zig/bench/run.sh      dmp_aead_seal/open vs std.crypto XChaCha20Poly1305
#   5. C:      benches/c/run.sh      dmp_aead_seal/open (static libdmp.a) vs libsodium from C, same
#                                    process (the AEAD anchor); ends with `ratio: aead_c_<size>`
#                                    lines. Prints "skipped: libsodium not found" without it.
# Logs go to target/bench-results/<name>.log (and to the terminal). Takes ~15 minutes on 2 cores.
#
# Usage: benches/run_all.sh [dmp] [anchors] [python] [zig] [c]   (no argument: all five)
# The Python step uses bindings/python/.venv (made by bindings/python/test.sh; created here with
# requirements-test.txt if missing). The Zig step needs `python3 -m ziglang` 0.17.1 (zig/test.sh
# installs it). The C step needs a C compiler and libsodium.so.23 (runtime library, no headers).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="$repo/target/bench-results"
mkdir -p "$out"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(dmp anchors python zig c)

{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "cores: $(nproc) (online), flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|sha_ni' | sort -u | tr '\n' ' ')"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rustc: $(rustc --version)"
} | tee "$out/machine.log"

for step in "${steps[@]}"; do
    echo "== $step" >&2
    case "$step" in
        dmp | anchors)
            cargo bench --bench "$step" 2>&1 | tee "$out/$step.log"
            ;;
        python)
            venv="$repo/bindings/python/.venv"
            if [ ! -x "$venv/bin/python" ]; then
                python3 -m venv "$venv"
                "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
                    -r "$repo/bindings/python/requirements-test.txt"
            fi
            cargo build --release --lib --quiet
            "$venv/bin/python" "$repo/bindings/python/benchmarks/aead_vs_pynacl.py" 2>&1 | tee "$out/python.log"
            ;;
        zig)
            "$repo/zig/bench/run.sh" 2>&1 | tee "$out/zig.log"
            ;;
        c)
            "$repo/benches/c/run.sh" 2>&1 | tee "$out/c.log"
            ;;
        *)
            echo "unknown step: $step (dmp, anchors, python, zig, c)" >&2
            exit 2
            ;;
    esac
done
echo "== ratios (anchors, c)" >&2
grep -h -E '^(ratio|size):' "$out/anchors.log" "$out/c.log" 2>/dev/null || true
