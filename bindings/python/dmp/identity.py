"""Identities (an agent's long-term keys and prekeys) and prekey bundles."""

from __future__ import annotations

from ctypes import POINTER, byref, c_int32, c_uint32

from ._lib import dmp_identity_t, lib
from ._util import U32_MAX, BytesLike, Handle, as_bytes, call_out, fixed, fixed_out, int_in
from .constants import (
    BUNDLE_MAX_LEN,
    FINGERPRINT_LEN,
    KEY_LEN,
    PUBLIC_KEY_LEN,
    SECRET_KEY_LEN,
    SIGNATURE_LEN,
    Suite,
)
from .errors import check

__all__ = ["Identity", "PrekeyBundle", "fingerprint"]


def fingerprint(agent_id: BytesLike) -> str:
    """The human-comparable fingerprint of any 32-byte agent id, e.g. ``"1a2b 3c4d ... 7e8f"``.
    BadEnvelope or WeakKey if it is not a valid agent id."""
    a = fixed(agent_id, PUBLIC_KEY_LEN, "agent_id")
    return call_out(lib.dmp_fingerprint, a, size=FINGERPRINT_LEN).decode("ascii")


def _suite(suite: object) -> int:
    if isinstance(suite, bool) or not isinstance(suite, int):
        raise TypeError(f"suite must be a Suite, not {type(suite).__name__}")
    return int(suite)


class Identity(Handle):
    """An agent's identity: its Ed25519 identity key (whose public key is the agent id), its
    signed prekeys and one-time prekeys. Create one with :meth:`generate`, :meth:`from_seed` or
    :meth:`deserialize`; release it with :meth:`close` or a ``with`` block."""

    _free_name = "dmp_identity_free"

    def __init__(self) -> None:
        raise TypeError("use Identity.generate(), Identity.from_seed() or Identity.deserialize()")

    @classmethod
    def generate(cls, suite: Suite = Suite.HYBRID) -> Identity:
        """A fresh random identity (hybrid X25519 + ML-KEM-768 by default) with a first signed
        prekey."""
        out = POINTER(dmp_identity_t)()
        check(lib.dmp_identity_generate_with(_suite(suite), byref(out)))
        return cls._adopt(out)

    @classmethod
    def from_seed(cls, seed: BytesLike, suite: Suite = Suite.HYBRID) -> Identity:
        """The identity of a 32-byte seed: the same seed always gives the same agent id; its prekeys
        are fresh randomness (a seed restores the id, not the sessions or prekeys)."""
        s = fixed(seed, SECRET_KEY_LEN, "seed")
        out = POINTER(dmp_identity_t)()
        check(lib.dmp_identity_from_seed_with(s, _suite(suite), byref(out)))
        return cls._adopt(out)

    @classmethod
    def deserialize(cls, record: BytesLike, storage_key: BytesLike) -> Identity:
        """Restores :meth:`serialize` output. WrongStorageKey if the key differs or the record
        was altered."""
        r = as_bytes(record, "record")
        k = fixed(storage_key, KEY_LEN, "storage_key")
        out = POINTER(dmp_identity_t)()
        check(lib.dmp_identity_deserialize(r, len(r), k, byref(out)))
        return cls._adopt(out)

    @property
    def agent_id(self) -> bytes:
        """The 32-byte agent id (the Ed25519 public identity key)."""
        with self._use() as p:
            return fixed_out(lib.dmp_identity_public_key, p, size=PUBLIC_KEY_LEN)

    public_key = agent_id

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the agent id, for people to compare out of band."""
        with self._use() as p:
            return call_out(lib.dmp_identity_fingerprint, p, size=FINGERPRINT_LEN).decode("ascii")

    @property
    def suite(self) -> Suite:
        with self._use() as p:
            v = c_int32()
            check(lib.dmp_identity_suite(p, byref(v)))
            return Suite(v.value)

    def sign(self, message: BytesLike) -> bytes:
        """A 64-byte Ed25519 signature by the identity key (verifies under :attr:`agent_id` with
        ``crypto.ed25519_verify``). InvalidArgument for a message that begins with ``b"DMP"``:
        those are the protocol's own (a prekey bundle's signature)."""
        m = as_bytes(message, "message")
        with self._use() as p:
            return fixed_out(lib.dmp_identity_sign, p, m, len(m), size=SIGNATURE_LEN)

    def bundle(self, one_time_prekey: bool = False) -> bytes:
        """The prekey bundle to publish. With ``one_time_prekey`` the oldest one-time prekey not
        handed out yet is included (one is generated if none is left) and marked handed out."""
        flag = 1 if one_time_prekey else 0
        with self._use() as p:
            return call_out(lib.dmp_identity_bundle, p, flag, size=BUNDLE_MAX_LEN)

    def rotate_signed_prekey(self) -> int:
        """Replaces the signed prekey with a fresh one; returns its id. The replaced one still
        accepts first messages until the next rotation."""
        with self._use() as p:
            v = c_uint32()
            check(lib.dmp_identity_rotate_signed_prekey(p, byref(v)))
            return v.value

    @property
    def signed_prekey_id(self) -> int:
        with self._use() as p:
            v = c_uint32()
            check(lib.dmp_identity_signed_prekey_id(p, byref(v)))
            return v.value

    def generate_one_time_prekeys(self, count: int) -> None:
        """Generates ``count`` one-time prekeys (TooLarge, and none generated, beyond
        ``MAX_ONE_TIME_PREKEYS`` held)."""
        n = int_in(count, "count", 0, U32_MAX)
        with self._use() as p:
            check(lib.dmp_identity_generate_one_time_prekeys(p, n))

    @property
    def one_time_prekey_count(self) -> int:
        """One-time prekeys held (handed out or not; used ones are deleted)."""
        with self._use() as p:
            v = c_uint32()
            check(lib.dmp_identity_one_time_prekey_count(p, byref(v)))
            return v.value

    def serialize(self, storage_key: BytesLike) -> bytes:
        """The identity with every prekey secret, encrypted with the 32-byte storage key."""
        k = fixed(storage_key, KEY_LEN, "storage_key")
        with self._use() as p:
            return call_out(lib.dmp_identity_serialize, p, k)

    def __repr__(self) -> str:
        if self.closed:
            return "<dmp.Identity closed>"
        return f"<dmp.Identity {self.suite.name} {self.fingerprint}>"


class PrekeyBundle:
    """A verified prekey bundle: construct it from the published bytes (verification runs at
    once: format, identity key, strict signatures, ML-KEM key, no small-order prekey). Holds no C
    handle."""

    __slots__ = ("_data", "_agent_id")

    def __init__(self, data: BytesLike) -> None:
        d = as_bytes(data, "bundle")
        self._agent_id = PrekeyBundle.verify(d)
        self._data = d

    @staticmethod
    def verify(data: BytesLike) -> bytes:
        """Verifies bundle bytes and returns the agent id they belong to. Raises BadEnvelope,
        UnsupportedVersion, WrongMessageType, BadSignature (any change, a stripped
        ML-KEM block included) or WeakKey."""
        d = as_bytes(data, "bundle")
        return fixed_out(lib.dmp_bundle_verify, d, len(d), size=PUBLIC_KEY_LEN)

    @property
    def data(self) -> bytes:
        """The bundle's bytes, as published."""
        return self._data

    @property
    def agent_id(self) -> bytes:
        """The 32-byte id of the agent that published it."""
        return self._agent_id

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._agent_id)

    def __bytes__(self) -> bytes:
        return self._data

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrekeyBundle) and other._data == self._data

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        return f"<dmp.PrekeyBundle of {self.fingerprint} ({len(self._data)} bytes)>"
