#!/usr/bin/env bash
# Tests of the Python binding, from a fresh machine:
#   1. a virtualenv in bindings/python/.venv (gitignored) with the package and requirements-test.txt;
#   2. the library, built with `cargo build --release --lib` at the repository root if it is
#      missing or older than the Rust sources (or taken from $DMP_LIBRARY if that is set);
#   3. the asyncio example, then pytest (quiet; its summary line is the last line printed).
# Exits non-zero on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"
PIP_FLAGS=(--quiet --disable-pip-version-check --no-input)

step() { printf '== %s\n' "$*"; }

# 1. virtualenv and packages
if [ ! -x "$VENV/bin/python" ]; then
    step "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
step "installing requirements-test.txt and the dmp package"
"$VPY" -m pip install "${PIP_FLAGS[@]}" -r "$HERE/requirements-test.txt"
# --force-reinstall: the version does not change between edits of the sources.
"$VPY" -m pip install "${PIP_FLAGS[@]}" --no-deps --force-reinstall "$HERE"
rm -rf "$HERE/build" "$HERE/dmp.egg-info" # what setuptools left in the source folder

# 2. the library
if [ -n "${DMP_LIBRARY:-}" ]; then
    [ -f "$DMP_LIBRARY" ] || { echo "DMP_LIBRARY=$DMP_LIBRARY does not exist" >&2; exit 1; }
    step "library: $DMP_LIBRARY (from DMP_LIBRARY)"
else
    LIB="$REPO/target/release/libdmp.so"
    if [ ! -f "$LIB" ] || [ -n "$(cd "$REPO" && find src Cargo.toml Cargo.lock build.rs -newer "$LIB" -print -quit 2>/dev/null)" ]; then
        step "building the library: cargo build --release --lib"
        (cd "$REPO" && cargo build --release --lib)
    fi
    step "library: $LIB"
fi

# 3. the example, then the tests (so that pytest's summary line closes the output). Both run through
# the venv from outside the source folder, so that `import dmp` is the installed package.
step "examples/asyncio_agent.py"
(cd "$HERE/tests" && "$VPY" "$HERE/examples/asyncio_agent.py")
step "pytest"
cd "$HERE/tests"
exec "$VENV/bin/pytest" -q -p no:cacheprovider .
