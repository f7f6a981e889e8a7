"""XChaCha20-Poly1305 seal+open from Python: dmp.crypto (ctypes into libdmp) vs PyNaCl (libsodium).

Run with the binding's virtualenv (created by bindings/python/test.sh; PyNaCl is pinned in
requirements-test.txt):

    bindings/python/.venv/bin/python bindings/python/benchmarks/aead_vs_pynacl.py [--repeat N]

Both sides do the same work per call: a fresh random 24-byte nonce, seal, then open, with 2 bytes of
associated data. dmp.crypto draws the nonce inside the library; for PyNaCl the nonce comes from
nacl.utils.random (os.urandom), as an application would do it. Timing: timeit, the median over
`repeat` runs of the per-call time; the ratio is DMP / PyNaCl (above 1: DMP slower).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the dmp package from the source tree, the library from target/release

import nacl.bindings as sodium  # noqa: E402
import nacl.utils  # noqa: E402

from dmp import crypto  # noqa: E402

SIZES = [64, 1024, 16 * 1024, 1 << 20]
KEY = bytes(range(32))
AD = b"ad"


def dmp_round(pt: bytes) -> bytes:
    return crypto.aead_open(KEY, crypto.aead_seal(KEY, pt, AD), AD)


def nacl_round(pt: bytes) -> bytes:
    nonce = nacl.utils.random(24)
    ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, AD, nonce, KEY)
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, AD, nonce, KEY)


def per_call_us(fn, pt: bytes, repeat: int) -> float:
    timer = timeit.Timer(lambda: fn(pt))
    number, _ = timer.autorange()  # enough calls for >= 0.2 s per run
    runs = timer.repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number * 1e6


def human(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1024 else f"{n} B"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="timeit runs per case (median taken)")
    args = ap.parse_args()
    for size in SIZES:  # both sides agree before anything is timed
        pt = os.urandom(size)
        assert dmp_round(pt) == pt and nacl_round(pt) == pt
    print(f"python {sys.version.split()[0]}, PyNaCl {nacl.__version__}, libsodium via PyNaCl; medians of {args.repeat}")
    print(f"{'size':>8}  {'dmp us':>10}  {'pynacl us':>10}  {'ratio dmp/pynacl':>16}")
    for size in SIZES:
        pt = os.urandom(size)
        d = per_call_us(dmp_round, pt, args.repeat)
        n = per_call_us(nacl_round, pt, args.repeat)
        print(f"{human(size):>8}  {d:>10.2f}  {n:>10.2f}  {d / n:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
