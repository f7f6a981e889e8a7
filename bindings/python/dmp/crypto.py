"""The raw primitives of suite DMP1, as the library implements them.

XChaCha20-Poly1305 (``aead_seal`` output is ``nonce (24) || ciphertext || tag (16)``, the layout
libsodium's ``crypto_aead_xchacha20poly1305_ietf_decrypt`` opens with the nonce split off),
X25519, Ed25519 with strict verification, HKDF-SHA256, and the OS random number generator.
Every function takes and returns ``bytes``; fixed-size arguments of the wrong length raise
ValueError before the library is called.
"""

from __future__ import annotations

from ctypes import c_char, create_string_buffer

from ._lib import lib
from ._util import BytesLike, as_bytes, call_out, fixed, int_in
from .constants import (
    AEAD_OVERHEAD,
    HKDF_MAX_LEN,
    KEY_LEN,
    PUBLIC_KEY_LEN,
    SECRET_KEY_LEN,
    SHARED_SECRET_LEN,
    SIGNATURE_LEN,
)
from .errors import check

__all__ = [
    "aead_seal",
    "aead_open",
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


def aead_seal(key: BytesLike, plaintext: BytesLike, ad: BytesLike = b"") -> bytes:
    """XChaCha20-Poly1305 with a fresh random nonce: ``nonce || ciphertext || tag``
    (``len(plaintext) + AEAD_OVERHEAD`` bytes). ``key`` is 32 bytes."""
    k = fixed(key, KEY_LEN, "key")
    pt = as_bytes(plaintext, "plaintext")
    a = as_bytes(ad, "ad")
    return call_out(lib.dmp_aead_seal, k, a, len(a), pt, len(pt), size=len(pt) + AEAD_OVERHEAD)


def aead_open(key: BytesLike, sealed: BytesLike, ad: BytesLike = b"") -> bytes:
    """Opens ``aead_seal`` output; AuthFailed if tampered, truncated, or the key or ``ad`` differ."""
    k = fixed(key, KEY_LEN, "key")
    s = as_bytes(sealed, "sealed")
    a = as_bytes(ad, "ad")
    return call_out(lib.dmp_aead_open, k, a, len(a), s, len(s), size=max(len(s) - AEAD_OVERHEAD, 0))


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
    """The 64-byte RFC 8032 signature of ``message`` by the key of ``seed``."""
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
