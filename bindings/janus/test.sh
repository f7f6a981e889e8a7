#!/usr/bin/env bash
# Tests the Janus bridge from Zig, the way `janus build` would use it (the Janus compiler itself
# cannot be built on these machines; see README.md). Last line: `janus-bridge: N passed, M failed`;
# exits non-zero on any failure.
#
#  1. zig fmt --check on the Zig files.
#  2. dmp_bridge.zig compiled exactly as `janus build` compiles a `use zig` file
#     (zig build-obj -O ReleaseSafe -fno-stack-check -lc); its exports are the dmpj_* functions
#     and it references no libdmp symbol (the library is loaded at run time).
#  3. test_bridge.zig linked with that object: every exported function called with Janus's
#     types, error paths, the signature check (only i32, i64, pointers), the first-app lifecycle.
#  4. `janus build` end to end without Janus: examples/first_app.ll (first_app.jan lowered to the
#     IR Janus emits) through llc, linked with a plain `cc first_app.o dmp_bridge.o` (no -l/-L),
#     then run: with $DMP_LIBRARY, with LD_LIBRARY_PATH only, with libdmp.so next to the
#     executable, with a missing library and with a wrong library (both must fail cleanly).
#  5. The optional static object (build_static.sh): linked with the same plain `cc`, run with no
#     libdmp.so anywhere; only dmpj_* symbols are global in it.
#  6. first_app under valgrind (if installed): no error, no definite leak.
#  Optional: ZIG_ALT_PYTHONPATH=DIR (a folder holding another ziglang wheel, e.g. 0.16.0 from
#  `pip install --target DIR ziglang==0.16.0`) also builds the bridge with that Zig and runs it.
#
# Environment: CARGO=0 skips `cargo build --release --lib`; ZIG_GLOBAL_CACHE_DIR (default
# $HOME/.cache/dmp-zig); PYTHON (default python3); VALGRIND=0 skips step 6.
set -uo pipefail

ZIG_VERSION=0.17.1
PYTHON="${PYTHON:-python3}"
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$HOME/.cache/dmp-zig}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
libso="$repo/target/release/libdmp.so"
start=$(date +%s)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "janus-bridge: ok   $1" >&2; }
flunk() { failed=$((failed + 1)); echo "janus-bridge: FAIL $1" >&2; }
finish() {
    echo "janus-bridge: $(( $(date +%s) - start ))s, ZIG_GLOBAL_CACHE_DIR=$ZIG_GLOBAL_CACHE_DIR" >&2
    echo "janus-bridge: ${passed} passed, ${failed} failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
zig() { "$PYTHON" -m ziglang "$@"; }

if [ "$(zig version 2>/dev/null)" != "$ZIG_VERSION" ]; then
    echo "janus-bridge: installing ziglang==$ZIG_VERSION from PyPI" >&2
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIG_VERSION" || {
        flunk "install ziglang==$ZIG_VERSION"
        finish
    }
fi
if [ "${CARGO:-1}" != "0" ]; then
    (cd "$repo" && cargo build --release --lib --quiet) || { flunk "cargo build --release --lib"; finish; }
fi
[ -f "$libso" ] && [ -f "$repo/target/release/libdmp.a" ] || { flunk "libdmp.so and libdmp.a in target/release"; finish; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$here" || exit 1

# ---- 1. formatting --------------------------------------------------------------------------
if zig fmt --check dmp_bridge.zig dmp_api.zig dmp_bridge_static.zig static_libm.zig test_bridge.zig >&2; then
    pass "zig fmt --check"
else
    flunk "zig fmt --check (run: python3 -m ziglang fmt bindings/janus/*.zig)"
fi

# ---- 2. the bridge object, as `janus build` compiles it -------------------------------------
janus_flags=(-O ReleaseSafe -fno-stack-check -lc)
if zig build-obj dmp_bridge.zig "${janus_flags[@]}" -femit-bin="$work/dmp_bridge.o" >&2; then
    pass "zig build-obj dmp_bridge.zig ${janus_flags[*]} (janus build's command)"
else
    flunk "zig build-obj dmp_bridge.zig ${janus_flags[*]}"
    finish
fi
exports="$(readelf -sW "$work/dmp_bridge.o" | awk '$5=="GLOBAL" && $7!="UND" {print $8}' | sort)"
undefined="$(readelf -sW "$work/dmp_bridge.o" | awk '($5=="GLOBAL" || $5=="WEAK") && $7=="UND" {print $8}' | sort)"
n_exports=$(grep -c '^dmpj_' <<<"$exports")
if [ "$n_exports" -gt 90 ] && ! grep -qv '^dmpj_' <<<"$exports" && ! grep -q '^dmp_' <<<"$undefined"; then
    pass "the object exports $n_exports dmpj_* functions, nothing else, and needs no libdmp symbol"
else
    flunk "bridge object symbols: exports $(grep -v '^dmpj_' <<<"$exports" | tr '\n' ' ') undefined dmp_*: $(grep '^dmp_' <<<"$undefined" | tr '\n' ' ')"
fi

# ---- 3. the Zig test of every export ---------------------------------------------------------
log="$work/zig-test.log"
DMP_LIBRARY="$libso" zig test -fllvm --dep dmp_c -Mroot=test_bridge.zig -Mdmp_c="$repo/zig/src/c.zig" \
    "$work/dmp_bridge.o" -lc >"$log" 2>&1
status=$?
cat "$log" >&2
zpass=0
zfail=0
if line="$(grep -E '^All [0-9]+ tests passed' "$log" | tail -n 1)" && [ -n "$line" ]; then
    zpass=$(sed -E 's/^All ([0-9]+) tests.*/\1/' <<<"$line")
elif line="$(grep -E '^[0-9]+ passed; [0-9]+ skipped; [0-9]+ failed' "$log" | tail -n 1)" && [ -n "$line" ]; then
    zpass=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
    zfail=$(sed -E 's/.*skipped; ([0-9]+) failed.*/\1/' <<<"$line")
fi
if [ "$status" -ne 0 ] && [ "$zfail" -eq 0 ]; then
    zfail=1
    echo "janus-bridge: the Zig test did not build or crashed (exit $status)" >&2
fi
passed=$((passed + zpass))
failed=$((failed + zfail))
echo "janus-bridge: zig test: $zpass passed, $zfail failed" >&2

# ---- 4. `janus build` without Janus: llc, build-obj, plain cc; then run ---------------------
expect_lines=("Alice: DORMANT" "Alice: INITIATING" "Bob received: hello Bob, this is Alice" "Bob: ACTIVE"
    "Alice and Bob share one session id" "Alice received: hi Alice, Bob here" "Alice: ACTIVE"
    "a replayed envelope is refused: DMP_ERR_DUPLICATE" "Alice: CLOSED" "first app: OK")
# The output holds every expected line, in this order.
lifecycle_ok() {
    local out="$1" at=0 line n
    for line in "${expect_lines[@]}"; do
        n=$(grep -nxF "$line" <<<"$out" | head -n 1 | cut -d: -f1)
        [ -n "$n" ] && [ "$n" -gt "$at" ] || { echo "janus-bridge: missing or out of order: $line" >&2; return 1; }
        at=$n
    done
}
obj="$work/first_app.o"
if command -v llc >/dev/null 2>&1 &&
    { llc -filetype=obj -relocation-model=pic -opaque-pointers examples/first_app.ll -o "$obj" 2>/dev/null ||
      llc -filetype=obj -relocation-model=pic examples/first_app.ll -o "$obj" 2>/dev/null; }; then
    pass "llc examples/first_app.ll (the IR Janus emits for first_app.jan)"
elif zig cc -c -Wno-override-module examples/first_app.ll -o "$obj" >&2; then
    pass "examples/first_app.ll compiled (zig cc: no llc here)"
else
    flunk "compile examples/first_app.ll"
fi
if cc "$obj" "$work/dmp_bridge.o" -o "$work/first_app" >&2; then
    pass "cc first_app.o dmp_bridge.o -o first_app (no -l, no -L)"
else
    flunk "plain cc link of first_app.o and dmp_bridge.o"
fi
run_app() { # env assignments..., then the executable
    env -u DMP_LIBRARY -u LD_LIBRARY_PATH "$@" 2>&1
}
out="$(run_app DMP_LIBRARY="$libso" "$work/first_app")"
st=$?
echo "$out" >&2
if [ $st -eq 0 ] && lifecycle_ok "$out"; then
    pass "first_app with DMP_LIBRARY: DORMANT -> INITIATING -> ACTIVE -> CLOSED, real messages"
else
    flunk "first_app with DMP_LIBRARY (exit $st)"
fi
out="$(run_app LD_LIBRARY_PATH="$repo/target/release" "$work/first_app")"
st=$?
if [ $st -eq 0 ] && lifecycle_ok "$out"; then
    pass "first_app finds libdmp.so through the loader's search (LD_LIBRARY_PATH)"
else
    echo "$out" >&2
    flunk "first_app with LD_LIBRARY_PATH (exit $st)"
fi
mkdir -p "$work/app"
cp "$work/first_app" "$libso" "$work/app/"
out="$(cd / && run_app "$work/app/first_app")"
st=$?
if [ $st -eq 0 ] && lifecycle_ok "$out"; then
    pass "first_app finds libdmp.so next to the executable (no environment)"
else
    echo "$out" >&2
    flunk "first_app with libdmp.so next to it (exit $st)"
fi
out="$(run_app DMP_LIBRARY=/nonexistent/libdmp.so "$work/app/first_app")"
st=$?
echo "$out" >&2
if [ $st -eq 1 ] && grep -q "step 1 failed with status -1000" <<<"$out" &&
    grep -q "DMPJ_ERR_LIBRARY_UNAVAILABLE" <<<"$out" && grep -q "/nonexistent/libdmp.so" <<<"$out"; then
    pass "a missing library: status -1000 and a message naming the path (an explicit DMP_LIBRARY is used alone)"
else
    flunk "first_app with a missing library (exit $st)"
fi
out="$(cd / && run_app DMP_LIBRARY= "$work/app/first_app")"
st=$?
if [ $st -eq 0 ] && lifecycle_ok "$out"; then
    pass "an empty DMP_LIBRARY counts as unset (libdmp.so found next to the executable)"
else
    echo "$out" >&2
    flunk "first_app with an empty DMP_LIBRARY (exit $st)"
fi
wrong_lib="$(ldd "$work/first_app" | awk '/libc\.so/ {print $3}')"
out="$(run_app DMP_LIBRARY="$wrong_lib" "$work/first_app")"
st=$?
echo "$out" >&2
if [ $st -eq 1 ] && grep -q "no symbol dmp_" <<<"$out"; then
    pass "a library that is not libdmp ($wrong_lib): refused cleanly"
else
    flunk "first_app with a wrong library (exit $st)"
fi

# ---- 5. the optional static object -----------------------------------------------------------
if CARGO=0 ./build_static.sh "$work/static" >&2; then
    pass "build_static.sh: one relocatable object with libdmp.a inside"
    globals="$(readelf -sW "$work/static/dmp_bridge_static.o" | awk '($5=="GLOBAL" || $5=="WEAK") && $7!="UND" {print $8}')"
    if [ "$(grep -c '^dmpj_' <<<"$globals")" -eq "$n_exports" ] && ! grep -qv '^dmpj_' <<<"$globals"; then
        pass "static object: only the $n_exports dmpj_* functions are global"
    else
        flunk "static object globals: $(grep -v '^dmpj_' <<<"$globals" | head -n 5 | tr '\n' ' ')"
    fi
    if cc "$obj" "$work/static/dmp_bridge_static.o" -o "$work/first_app_static" >&2; then
        pass "cc first_app.o dmp_bridge_static.o -o first_app_static (no -l, no -L)"
        mkdir -p "$work/static_run"
        cp "$work/first_app_static" "$work/static_run/"
        out="$(cd / && run_app "$work/static_run/first_app_static")"
        st=$?
        if [ $st -eq 0 ] && lifecycle_ok "$out" && ! ldd "$work/static_run/first_app_static" | grep -q libdmp; then
            pass "first_app_static runs with no libdmp.so anywhere"
        else
            echo "$out" >&2
            flunk "first_app_static (exit $st)"
        fi
    else
        flunk "plain cc link of the static object"
    fi
else
    flunk "build_static.sh"
fi

# ---- 5b. another Zig (optional): the `zig` a Janus toolchain has may be 0.16 ------------------
# ZIG_ALT_PYTHONPATH: a folder with another ziglang wheel (pip install --target DIR ziglang==0.16.0).
if [ -n "${ZIG_ALT_PYTHONPATH:-}" ]; then
    alt_version="$(PYTHONPATH="$ZIG_ALT_PYTHONPATH" "$PYTHON" -m ziglang version 2>/dev/null)"
    if PYTHONPATH="$ZIG_ALT_PYTHONPATH" ZIG_GLOBAL_CACHE_DIR="$ZIG_GLOBAL_CACHE_DIR-$alt_version" "$PYTHON" -m ziglang \
        build-obj dmp_bridge.zig "${janus_flags[@]}" -femit-bin="$work/dmp_bridge_alt.o" >&2 &&
        cc "$obj" "$work/dmp_bridge_alt.o" -o "$work/first_app_alt" >&2 &&
        out="$(run_app DMP_LIBRARY="$libso" "$work/first_app_alt")" && lifecycle_ok "$out"; then
        pass "the bridge built by Zig $alt_version runs first_app too"
    else
        flunk "the bridge with Zig ${alt_version:-from $ZIG_ALT_PYTHONPATH}"
    fi
fi

# ---- 6. valgrind ----------------------------------------------------------------------------
# zig build-obj targets the build machine's CPU; valgrind decodes no AVX-512, so this run uses
# a baseline x86-64 build of the same source and flags.
if [ "${VALGRIND:-1}" != "0" ] && command -v valgrind >/dev/null 2>&1; then
    if zig build-obj dmp_bridge.zig "${janus_flags[@]}" -mcpu=baseline -femit-bin="$work/dmp_bridge_base.o" >&2 &&
        cc "$obj" "$work/dmp_bridge_base.o" -o "$work/first_app_base" >&2; then
        out="$(run_app DMP_LIBRARY="$libso" valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite "$work/first_app_base")"
        st=$?
        if [ $st -eq 0 ] && lifecycle_ok "$out"; then
            pass "first_app under valgrind: no error, no definite leak"
        else
            echo "$out" >&2
            flunk "first_app under valgrind (exit $st)"
        fi
    else
        flunk "baseline build for valgrind"
    fi
else
    echo "janus-bridge: valgrind not run" >&2
fi

finish
