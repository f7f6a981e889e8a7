"""The raw primitives of suite DMP1, as the library implements them.

XChaCha20-Poly1305 (``aead_seal`` output is ``nonce (24) || ciphertext || tag (16)``, the layout
libsodium's ``crypto_aead_xchacha20poly1305_ietf_decrypt`` opens with the nonce split off),
X25519, Ed25519 with strict verification, HKDF-SHA256, and the OS random number generator.
Every function takes and returns ``bytes``, except ``aead_seal_into`` / ``aead_open_into``, which
write into a buffer of the caller's (as libsodium's C API does) and return the size written;
fixed-size arguments of the wrong length raise ValueError before the library is called.
"""

from __future__ import annotations

from ctypes import POINTER, addressof, byref, c_char, c_char_p, c_int32, c_size_t, create_string_buffer
from typing import Any

from ._lib import lib
from ._util import (
    FRESH_BYTES_ARE_WRITABLE,
    BytesLike,
    WritableBuffer,
    as_bytes,
    fixed,
    fresh_output,
    input_buffer,
    int_in,
    untyped,
    writable_buffer,
)
from .constants import (
    AEAD_OVERHEAD,
    HKDF_MAX_LEN,
    KEY_LEN,
    PUBLIC_KEY_LEN,
    SECRET_KEY_LEN,
    SHARED_SECRET_LEN,
    SIGNATURE_LEN,
)
from .errors import check, error_for

__all__ = [
    "aead_seal",
    "aead_open",
    "aead_seal_into",
    "aead_open_into",
    "random_bytes",
    "memzero",
    "x25519_keypair",
    "x25519_public",
    "x25519",
    "x25519_dh",
    "ed25519_keypair",
    "ed25519_public",
    "ed25519_sign",
    "ed25519_verify",
    "hkdf_sha256",
]


# The two AEAD functions are the binding's hot path (benchmarks/aead_vs_pynacl.py): for small
# messages the cost of a ctypes call is mostly argument handling, not the cipher. So they call
# argtypes-free handles on the C functions (see _util.untyped; the signature is checked against
# the generated declaration at import), with explicitly typed arguments, and the library writes
# into the very ``bytes`` object that is returned (see _util.fresh_output). The output size is
# exact and known in advance, so there is one C call, never a size query.
_AEAD_ARGTYPES = [c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(c_size_t)]
_aead_seal = untyped("dmp_aead_seal", c_int32, _AEAD_ARGTYPES)
_aead_open = untyped("dmp_aead_open", c_int32, _AEAD_ARGTYPES)


def aead_seal(key: BytesLike, plaintext: BytesLike, ad: BytesLike = b"") -> bytes:
    """XChaCha20-Poly1305 with a fresh random nonce: ``nonce || ciphertext || tag``
    (``len(plaintext) + AEAD_OVERHEAD`` bytes). ``key`` is 32 bytes."""
    # The usual case, bytes arguments, is checked inline (a helper call costs ~0.1 us each);
    # anything else goes through the same checks as everywhere (bytearray and memoryview are
    # copied to bytes: the GIL is released during the call, and they could change under it).
    if type(key) is not bytes or len(key) != KEY_LEN:
        key = fixed(key, KEY_LEN, "key")
    if type(plaintext) is not bytes:
        plaintext = as_bytes(plaintext, "plaintext")
    if type(ad) is not bytes:
        ad = as_bytes(ad, "ad")
    n = len(plaintext) + AEAD_OVERHEAD  # exactly what the library writes
    out = fresh_output(n)
    # `cap` goes by value as out_cap, and byref(cap) is out_len: the library reads its value
    # before writing the length there, so one object serves both (each ctypes object costs ~0.1 us).
    cap = c_size_t(n)
    rc = _aead_seal(key, ad, c_size_t(len(ad)), plaintext, c_size_t(len(plaintext)), out, cap, byref(cap))
    if rc:
        raise error_for(rc)
    return out if FRESH_BYTES_ARE_WRITABLE else out.raw


def aead_open(key: BytesLike, sealed: BytesLike, ad: BytesLike = b"") -> bytes:
    """Opens ``aead_seal`` output; AuthFailed if tampered, truncated, or the key or ``ad`` differ."""
    if type(key) is not bytes or len(key) != KEY_LEN:
        key = fixed(key, KEY_LEN, "key")
    if type(sealed) is not bytes:
        sealed = as_bytes(sealed, "sealed")
    if type(ad) is not bytes:
        ad = as_bytes(ad, "ad")
    n = len(sealed) - AEAD_OVERHEAD  # exactly what the library writes, when it succeeds
    # Shorter than nonce and tag: the library reports AuthFailed (with its detail); NULL and a
    # capacity of 0 then, as for an empty plaintext (bytes(0) is shared: never written into).
    out = fresh_output(n) if n > 0 else None
    cap = c_size_t(max(n, 0))  # out_cap and out_len, as in aead_seal
    rc = _aead_open(key, ad, c_size_t(len(ad)), sealed, c_size_t(len(sealed)), out, cap, byref(cap))
    if rc:
        raise error_for(rc)  # the library has zeroed `out`, which is dropped
    if out is None:
        return b""
    return out if FRESH_BYTES_ARE_WRITABLE else out.raw


# The caller-buffer variants: no output object at all, the library writes into `out` in place
# (for 1 MiB, no 1 MiB allocation per call, which glibc gives back to the OS when it is freed and
# faults in again on the next call). The plaintext or sealed input is read in place too when it
# is a bytearray or a writable memoryview, so that a buffer sealed into opens without a copy; key
# and ad are copied to bytes if they are not, as in aead_seal. The C functions require `out` not
# to overlap their inputs: only an input read in place can, and that is checked (addresses). Both
# run _into, on _util's input_buffer and writable_buffer (see _util.BUFFER_START for the buffers).
# Each buffer used in place costs a ctypes from_buffer (~0.25 us), so up to 16 KiB at least
# aead_seal/aead_open are as fast or faster (benchmarks/aead_vs_pynacl.py: 64 B, 5.2 us per
# seal+open into reused bytearrays vs 4.1 us; 16 KiB, 27.0 vs 26.6; 1 MiB, 1448 vs 2178).


def aead_seal_into(key: BytesLike, plaintext: BytesLike, out: WritableBuffer, ad: BytesLike = b"") -> int:
    """:func:`aead_seal` into the caller's buffer: writes ``nonce || ciphertext || tag``
    (``len(plaintext) + AEAD_OVERHEAD`` bytes) at the start of ``out`` and returns that count.

    ``out`` is any writable, C-contiguous buffer (a ``bytearray``, a memoryview of one, such as
    ``memoryview(buf)[offset:]`` to write at an offset, a ctypes array...), written in place: it
    is never copied, and its bytes past the count are left alone. TypeError if it is read-only (a
    ``bytes``) or not a buffer, ValueError if it is shorter than the count; neither calls the
    library. ``out`` must not overlap ``plaintext`` (the ciphertext is written as the plaintext is
    read): ValueError if it does. A ``bytearray`` or writable memoryview ``plaintext`` is read in
    place too (other memoryviews are copied): do not change these buffers from another thread
    during the call (they cannot be resized meanwhile: the call holds them)."""
    return _into(_aead_seal, key, plaintext, "plaintext", out, ad, AEAD_OVERHEAD)


def aead_open_into(key: BytesLike, sealed: BytesLike, out: WritableBuffer, ad: BytesLike = b"") -> int:
    """:func:`aead_open` into the caller's buffer: writes the plaintext
    (``len(sealed) - AEAD_OVERHEAD`` bytes) at the start of ``out`` and returns that count.

    AuthFailed as :func:`aead_open` (tampered, truncated, wrong key or ``ad``); the library has
    then zeroed the bytes of ``out`` it was given (the first ``len(sealed) - AEAD_OVERHEAD``, none
    if ``sealed`` is shorter than ``AEAD_OVERHEAD``). ``out`` as in :func:`aead_seal_into`:
    written in place, never copied; TypeError if read-only, ValueError if too short (neither
    calls the library), ValueError if it overlaps ``sealed``, which is read in place when it is a
    ``bytearray`` or a writable memoryview (not to be changed from another thread meanwhile)."""
    return _into(_aead_open, key, sealed, "sealed", out, ad, -AEAD_OVERHEAD)


def _into(fn: Any, key: BytesLike, data: BytesLike, what: str, out: object, ad: BytesLike, grow: int) -> int:
    """The body of aead_seal_into (``grow`` = +AEAD_OVERHEAD) and aead_open_into (-AEAD_OVERHEAD):
    checks, zero-copy access to ``data`` (when it is a bytearray or writable memoryview) and to
    ``out``, one C call writing ``len(data) + grow`` bytes (0 if negative: the library then
    reports AuthFailed with its detail) at the start of ``out``; returns that count."""
    if type(key) is not bytes or len(key) != KEY_LEN:
        key = fixed(key, KEY_LEN, "key")
    src, src_len, src_at = input_buffer(data, what)  # held first, then measured
    if type(ad) is not bytes:
        ad = as_bytes(ad, "ad")
    dst, size = writable_buffer(out, "out")
    n = max(src_len + grow, 0)  # exactly what the library writes when it succeeds
    if size < n:
        sign = "+" if grow > 0 else "-"
        raise ValueError(f"out is too small: {n} bytes needed (len({what}) {sign} AEAD_OVERHEAD), it has {size}")
    if n and src_at:  # [src_at, +src_len) and [dst, +n) must not intersect
        at = addressof(dst)
        if src_at < at + n and at < src_at + src_len:
            raise ValueError(f"out overlaps {what}: the library needs them apart")
    cap = c_size_t(n)  # out_cap and out_len, as in aead_seal
    rc = fn(key, ad, c_size_t(len(ad)), src, c_size_t(src_len), dst, cap, byref(cap))
    if rc:
        raise error_for(rc)  # after a failed open the library has zeroed out[:n]
    return n


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's CSPRNG."""
    n = int_in(n, "n", 0, 1 << 31)
    if n == 0:
        return b""
    buf = create_string_buffer(n)
    check(lib.dmp_random_bytes(buf, n))
    return buf.raw


def memzero(buf: bytearray) -> None:
    """Zeroes a mutable buffer in place, in a way the compiler cannot optimise away. (Python
    ``bytes`` are immutable and may have copies: keep secrets you want to wipe in a bytearray.)"""
    if not isinstance(buf, bytearray):
        raise TypeError(f"memzero needs a bytearray, not {type(buf).__name__}")
    n = len(buf)
    if n == 0:
        return
    view = (c_char * n).from_buffer(buf)
    check(lib.dmp_memzero(view, n))


def x25519_keypair() -> tuple[bytes, bytes]:
    """A fresh X25519 key pair: ``(secret, public)``, 32 bytes each."""
    secret = create_string_buffer(SECRET_KEY_LEN)
    public = create_string_buffer(PUBLIC_KEY_LEN)
    check(lib.dmp_x25519_keypair(secret, public))
    return secret.raw, public.raw


def x25519_public(secret: BytesLike) -> bytes:
    """The X25519 public key of a 32-byte secret."""
    s = fixed(secret, SECRET_KEY_LEN, "secret")
    public = create_string_buffer(PUBLIC_KEY_LEN)
    check(lib.dmp_x25519_public(s, public))
    return public.raw


def x25519(secret: BytesLike, public: BytesLike) -> bytes:
    """X25519(secret, public): the 32-byte shared secret. WeakKey for a small-order public key
    (an all-zero result)."""
    s = fixed(secret, SECRET_KEY_LEN, "secret")
    p = fixed(public, PUBLIC_KEY_LEN, "public")
    shared = create_string_buffer(SHARED_SECRET_LEN)
    check(lib.dmp_x25519(s, p, shared))
    return shared.raw


x25519_dh = x25519
"""Alias of :func:`x25519`."""


def ed25519_keypair() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key pair: ``(seed, public)``, 32 bytes each (the seed is the secret)."""
    seed = create_string_buffer(SECRET_KEY_LEN)
    public = create_string_buffer(PUBLIC_KEY_LEN)
    check(lib.dmp_ed25519_keypair(seed, public))
    return seed.raw, public.raw


def ed25519_public(seed: BytesLike) -> bytes:
    """The Ed25519 public key of a 32-byte seed."""
    s = fixed(seed, SECRET_KEY_LEN, "seed")
    public = create_string_buffer(PUBLIC_KEY_LEN)
    check(lib.dmp_ed25519_public(s, public))
    return public.raw


def ed25519_sign(seed: BytesLike, message: BytesLike) -> bytes:
    """The 64-byte RFC 8032 signature of ``message`` by the key of ``seed``. InvalidArgument for a
    message that begins with ``b"DMP"``: those are reserved for the protocol's own signatures (a
    bundle's), as for ``Identity.sign``."""
    s = fixed(seed, SECRET_KEY_LEN, "seed")
    m = as_bytes(message, "message")
    sig = create_string_buffer(SIGNATURE_LEN)
    check(lib.dmp_ed25519_sign(s, m, len(m), sig))
    return sig.raw


def ed25519_verify(public: BytesLike, message: BytesLike, signature: BytesLike) -> None:
    """Strict Ed25519 verification: returns None, or raises BadSignature (also for an invalid or
    small-order public key and a non-canonical signature)."""
    p = fixed(public, PUBLIC_KEY_LEN, "public")
    m = as_bytes(message, "message")
    sig = fixed(signature, SIGNATURE_LEN, "signature")
    check(lib.dmp_ed25519_verify(p, m, len(m), sig))


def hkdf_sha256(ikm: BytesLike, length: int, salt: BytesLike = b"", info: BytesLike = b"") -> bytes:
    """HKDF-SHA256 (RFC 5869): ``length`` bytes (at most ``HKDF_MAX_LEN``). An empty salt means a
    zero-filled one."""
    k = as_bytes(ikm, "ikm")
    s = as_bytes(salt, "salt")
    i = as_bytes(info, "info")
    n = int_in(length, "length", 0, HKDF_MAX_LEN)
    out = create_string_buffer(n) if n else None
    check(lib.dmp_hkdf_sha256(s, len(s), k, len(k), i, len(i), out, n))
    return out.raw if out is not None else b""
