"""XChaCha20-Poly1305 seal+open from Python: dmp.crypto (ctypes into libdmp) vs PyNaCl (libsodium).

Run with the binding's virtualenv (created by bindings/python/test.sh; PyNaCl is pinned in
requirements-test.txt):

    bindings/python/.venv/bin/python bindings/python/benchmarks/aead_vs_pynacl.py [--repeat N] [--clock wall]

What is timed, per size (64 B, 1 KiB, 16 KiB, 1 MiB), as one seal then one open of its output,
with 2 bytes of associated data and a fresh random 24-byte nonce per seal:

- ``dmp``: ``dmp.crypto.aead_seal`` / ``aead_open``. The library draws the nonce (OS CSPRNG)
  and returns ``nonce || ciphertext || tag``; both calls return new ``bytes``.
- ``pynacl``: PyNaCl's public API, ``nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt``
  / ``_decrypt``, with the nonce from ``nacl.utils.random(24)`` (``os.urandom``), as an
  application does it. Both calls return new ``bytes``. This is the comparison of the
  benchmarks issue: the ratio ``dmp / pynacl`` must stay below 1 at every size.
- ``sodium-raw``: libsodium's own functions through PyNaCl's cffi module (``nacl._sodium.lib``,
  private to PyNaCl) with caller buffers allocated once and reused, the nonce drawn by
  libsodium's ``randombytes`` into one of them. PyNaCl has no public caller-buffer API: each of its
  ``nacl.bindings`` functions allocates its output (``ffi.new``, zero-filled) and copies it into
  a new ``bytes`` (``ffi.buffer(...)[:]``). This variant does less work than ``dmp`` and
  ``pynacl`` (no result objects, no allocation at all: the output stays in the reused buffers),
  so it is the lower bound of libsodium from Python, shown for reference (ratio ``dmp / raw``).
- ``dmp_into``: ``dmp.crypto.aead_seal_into`` / ``aead_open_into`` with caller buffers allocated
  once and reused, the same work as ``sodium-raw`` (a bytearray sealed into, then opened from in
  place, and one for the plaintext; no result objects, no allocation). The benchmarks issue wants
  it no slower than ``sodium-raw`` at 1 MiB: the ratio ``into / raw`` at most 1 there.

Timing: the cases are interleaved (each run of `repeat` times each case once, in turn), so that
load from other processes hits all of them alike; by default the clock is the process's CPU time
(``time.process_time``: user + system, page faults included, time spent descheduled excluded;
``--clock wall`` for ``time.perf_counter``). Reported: the median over the runs of the time per
seal+open, in microseconds.

At 1 MiB, a good part of the time of ``dmp`` and ``pynacl`` is the allocator rather than the
cipher: with glibc's default thresholds, the fresh 1 MiB outputs of each round trip are given
back to the OS (heap trim) when freed, and their pages are faulted in again on the next call.
``sodium-raw`` and ``dmp_into`` reuse their buffers, so they do not pay that. Running with
``MALLOC_TRIM_THRESHOLD_=134217728 MALLOC_MMAP_THRESHOLD_=67108864`` removes most of it (on a
2-vCPU VM: dmp ~2.6 -> ~1.6 ms, pynacl ~3.0 -> ~1.7 ms, sodium-raw ~1.5 ms either way).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the dmp package from the source tree, the library from target/release

import nacl.bindings as sodium  # noqa: E402
import nacl.utils  # noqa: E402
from nacl._sodium import ffi as sodium_ffi  # noqa: E402
from nacl._sodium import lib as sodium_lib  # noqa: E402

from dmp import crypto  # noqa: E402
from dmp.constants import AEAD_OVERHEAD  # noqa: E402

SIZES = [64, 1024, 16 * 1024, 1 << 20]
KEY = bytes(range(32))
AD = b"ad"
NONCE_LEN = 24
TAG_LEN = 16


def dmp_round(pt: bytes) -> bytes:
    return crypto.aead_open(KEY, crypto.aead_seal(KEY, pt, AD), AD)


def dmp_into_round_for(size: int) -> tuple[Callable[[bytes], object], Callable[[], bytes]]:
    """A seal+open through ``aead_seal_into`` / ``aead_open_into`` into bytearrays made once for
    ``size``; and a function returning the last opened plaintext (for the correctness check)."""
    sealed = bytearray(size + AEAD_OVERHEAD)
    out = bytearray(size)
    seal_into, open_into = crypto.aead_seal_into, crypto.aead_open_into

    def round_trip(pt: bytes) -> object:
        seal_into(KEY, pt, sealed, AD)
        return open_into(KEY, sealed, out, AD)

    return round_trip, lambda: bytes(out)


def nacl_round(pt: bytes) -> bytes:
    nonce = nacl.utils.random(NONCE_LEN)
    ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, AD, nonce, KEY)
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, AD, nonce, KEY)


def sodium_raw_round_for(size: int) -> tuple[Callable[[bytes], object], Callable[[], bytes]]:
    """A seal+open through libsodium's C functions into buffers made once for ``size``; and a
    function returning the last opened plaintext (for the correctness check)."""
    nonce = sodium_ffi.new("unsigned char[]", NONCE_LEN)
    ct = sodium_ffi.new("unsigned char[]", size + TAG_LEN)
    out = sodium_ffi.new("unsigned char[]", max(size, 1))
    out_len = sodium_ffi.new("unsigned long long *")
    null = sodium_ffi.NULL
    encrypt = sodium_lib.crypto_aead_xchacha20poly1305_ietf_encrypt
    decrypt = sodium_lib.crypto_aead_xchacha20poly1305_ietf_decrypt
    random_buf = sodium_lib.randombytes  # libsodium's randombytes(buf, len); PyNaCl does not export randombytes_buf
    ad_len = len(AD)

    def round_trip(pt: bytes) -> object:
        random_buf(nonce, NONCE_LEN)
        if encrypt(ct, out_len, pt, len(pt), AD, ad_len, null, nonce, KEY) != 0:
            raise RuntimeError("crypto_aead_xchacha20poly1305_ietf_encrypt failed")
        if decrypt(out, out_len, null, ct, len(pt) + TAG_LEN, AD, ad_len, nonce, KEY) != 0:
            raise RuntimeError("crypto_aead_xchacha20poly1305_ietf_decrypt failed")
        return out

    return round_trip, lambda: sodium_ffi.buffer(out, out_len[0])[:]


def calibrate(fn: Callable[[bytes], object], pt: bytes, clock: Callable[[], float], target: float = 0.2) -> int:
    """Calls per run: enough for ``target`` seconds (as timeit's autorange)."""
    number = 1
    while True:
        t0 = clock()
        for _ in range(number):
            fn(pt)
        if clock() - t0 >= target:
            return number
        number *= 2


def per_call_us(
    cases: dict[str, Callable[[bytes], object]], pt: bytes, repeat: int, clock: Callable[[], float]
) -> dict[str, float]:
    """The median time per call of each case, over ``repeat`` interleaved runs."""
    numbers = {name: calibrate(fn, pt, clock) for name, fn in cases.items()}
    runs: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            n = numbers[name]
            t0 = clock()
            for _ in range(n):
                fn(pt)
            runs[name].append((clock() - t0) / n * 1e6)
    return {name: statistics.median(r) for name, r in runs.items()}


def human(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1024 else f"{n} B"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="interleaved runs per case (median taken)")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="process CPU time (default) or wall time")
    args = ap.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    raw_rounds = {size: sodium_raw_round_for(size) for size in SIZES}
    into_rounds = {size: dmp_into_round_for(size) for size in SIZES}
    for size in SIZES:  # every side agrees before anything is timed
        pt = os.urandom(size)
        raw_round, raw_result = raw_rounds[size]
        raw_round(pt)
        into_round, into_result = into_rounds[size]
        into_round(pt)
        assert dmp_round(pt) == pt and nacl_round(pt) == pt and raw_result() == pt and into_result() == pt, size
    print(
        f"python {sys.version.split()[0]}, PyNaCl {nacl.__version__}; us per seal+open, "
        f"median of {args.repeat} interleaved runs, {args.clock} time"
    )
    print(
        f"{'size':>8}  {'dmp':>10}  {'pynacl':>10}  {'dmp/pynacl':>10}  {'sodium-raw':>10}  {'dmp/raw':>8}"
        f"  {'dmp_into':>10}  {'into/raw':>8}"
    )
    for size in SIZES:
        pt = os.urandom(size)
        cases = {"dmp": dmp_round, "pynacl": nacl_round, "raw": raw_rounds[size][0], "into": into_rounds[size][0]}
        t = per_call_us(cases, pt, args.repeat, clock)
        print(
            f"{human(size):>8}  {t['dmp']:>10.2f}  {t['pynacl']:>10.2f}  {t['dmp'] / t['pynacl']:>10.2f}"
            f"  {t['raw']:>10.2f}  {t['dmp'] / t['raw']:>8.2f}  {t['into']:>10.2f}  {t['into'] / t['raw']:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
