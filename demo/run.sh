#!/usr/bin/env bash
# The cross-language demo of DMP, from a fresh machine: a Zig dmp-node and two Python agents on
# loopback TCP (see demo/demo.py). Set-up, each step skipped when already done:
#   1. the Rust library: `cargo build --release --lib` at the repository root if
#      target/release/libdmp.so is missing or older than the Rust sources (or $DMP_LIBRARY);
#   2. Zig 0.17.1 from PyPI (`pip install ziglang==0.17.1` if `python3 -m ziglang version` differs),
#      then `python3 -m ziglang build node` in zig/ (-> zig/zig-out/bin/dmp-node; fast when warm);
#   3. the Python virtualenv bindings/python/.venv, as bindings/python/test.sh makes it (the
#      package is reinstalled only when the installed copy differs from the sources);
# then runs demo.py with the venv's python and exits with its status.
#
# Environment: PYTHON (default python3), DEMO_VENV (default bindings/python/.venv), ZIG_GLOBAL_CACHE_DIR (default $HOME/.cache/dmp-zig),
#              DMP_LIBRARY (use this libdmp.so instead of building one), DEMO_TIMEOUT (seconds, 50).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PY_DIR="$REPO/bindings/python"
VENV="${DEMO_VENV:-$PY_DIR/.venv}"  # DEMO_VENV: another venv (tests of this script)
PYTHON="${PYTHON:-python3}"
ZIG_VERSION=0.17.1
PIP_FLAGS=(--quiet --disable-pip-version-check --no-input)
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$HOME/.cache/dmp-zig}"

step() { printf '== %s\n' "$*" >&2; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# 1. the library (as bindings/python/test.sh)
if [ -n "${DMP_LIBRARY:-}" ]; then
    [ -f "$DMP_LIBRARY" ] || die "DMP_LIBRARY=$DMP_LIBRARY does not exist"
    step "library: $DMP_LIBRARY (from DMP_LIBRARY)"
else
    LIB="$REPO/target/release/libdmp.so"
    if [ ! -f "$LIB" ] || [ -n "$(cd "$REPO" && find src Cargo.toml Cargo.lock build.rs -newer "$LIB" -print -quit 2>/dev/null)" ]; then
        step "building the library: cargo build --release --lib"
        (cd "$REPO" && cargo build --release --lib) || die "cargo build failed"
    fi
    step "library: $LIB"
    export DMP_LIBRARY="$LIB"  # what the demo loads, wherever the venv is
fi

# 2. Zig from PyPI (as zig/test.sh), then dmp-node
if [ "$("$PYTHON" -m ziglang version 2>/dev/null)" != "$ZIG_VERSION" ]; then
    step "installing ziglang==$ZIG_VERSION from PyPI"
    "$PYTHON" -m pip install "${PIP_FLAGS[@]}" "ziglang==$ZIG_VERSION" || die "could not install ziglang==$ZIG_VERSION"
fi
step "building dmp-node: python3 -m ziglang build node (ZIG_GLOBAL_CACHE_DIR=$ZIG_GLOBAL_CACHE_DIR)"
(cd "$REPO/zig" && "$PYTHON" -m ziglang build node) || die "zig build node failed"
NODE="$REPO/zig/zig-out/bin/dmp-node"
[ -x "$NODE" ] || die "$NODE was not built"

# 3. the virtualenv (as bindings/python/test.sh)
if [ ! -x "$VENV/bin/python" ]; then
    step "creating $VENV"
    "$PYTHON" -m venv "$VENV" || die "could not create $VENV"
fi
VPY="$VENV/bin/python"
# where the venv's dmp package is (found without importing it: the import needs the library)
installed="$(cd / && "$VPY" -c 'import importlib.util as u, os; s = u.find_spec("dmp"); print(os.path.dirname(s.origin) if s else "")' 2>/dev/null || true)"
if [ -z "$installed" ] || ! diff -rq -x __pycache__ -x 'libdmp.*' "$PY_DIR/dmp" "$installed" >/dev/null 2>&1; then
    step "installing requirements-test.txt and the dmp package into $VENV"
    "$VPY" -m pip install "${PIP_FLAGS[@]}" -r "$PY_DIR/requirements-test.txt" || die "pip install failed"
    "$VPY" -m pip install "${PIP_FLAGS[@]}" --no-deps --force-reinstall "$PY_DIR" || die "pip install failed"
    rm -rf "$PY_DIR/build" "$PY_DIR/dmp.egg-info" # what setuptools left in the source folder
fi

# 4. the demo, from outside the source folder so that `import dmp` is the installed package
step "demo.py"
cd "$HERE"
status=0
limit="${DEMO_TIMEOUT:-50}"
# demo.py gives up 5 s before the hard limit, so that it still kills the node and says why.
timeout -k 5 "$limit" "$VPY" "$HERE/demo.py" --node "$NODE" --timeout "$(( limit > 10 ? limit - 5 : limit ))" || status=$?
[ "$status" -eq 124 ] && echo "demo: killed after ${limit}s" >&2
exit "$status"
