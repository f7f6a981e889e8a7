"""Pairwise sessions: the asynchronous set-up and the Double Ratchet, one peer each."""

from __future__ import annotations

from ctypes import POINTER, byref, c_int32, c_size_t, create_string_buffer, string_at

from ._lib import dmp_session_t, lib
from ._util import BytesLike, Handle, as_bytes, call_out, fixed, fixed_out, int_in
from .constants import (
    KEY_LEN,
    MAX_FORWARD_JUMP_CEILING,
    MAX_SKIPPED_KEYS_CEILING,
    MESSAGE_HEADER_LEN,
    PUBLIC_KEY_LEN,
    SESSION_ID_LEN,
    TAG_LEN,
    Padding,
    PqPolicy,
    SessionState,
)
from .errors import BufferTooSmall, check
from .identity import Identity, PrekeyBundle

__all__ = ["Session"]


def _policy(pq_policy: object) -> int:
    if isinstance(pq_policy, bool) or not isinstance(pq_policy, int):
        raise TypeError(f"pq_policy must be a PqPolicy, not {type(pq_policy).__name__}")
    return int(pq_policy)


def _bundle_bytes(bundle: PrekeyBundle | BytesLike) -> bytes:
    if isinstance(bundle, PrekeyBundle):
        return bundle.data
    return as_bytes(bundle, "bundle")


class Session(Handle):
    """A pairwise session with one peer. The initiator calls :meth:`initiate` with the peer's
    bundle and may :meth:`encrypt` at once; the responder calls :meth:`accept` with the first
    envelope it receives. States: DORMANT -> INITIATING -> ACTIVE -> CLOSED (:meth:`end`).

    :meth:`close` (or leaving a ``with`` block) releases the handle; :meth:`end` erases the keys
    but keeps the handle, so ``state`` still reads CLOSED and every other call raises WrongState.
    """

    _free_name = "dmp_session_free"

    def __init__(self) -> None:
        raise TypeError("use Session.initiate(), Session.accept() or Session.deserialize()")

    @classmethod
    def initiate(
        cls,
        identity: Identity,
        bundle: PrekeyBundle | BytesLike,
        pq_policy: PqPolicy = PqPolicy.REQUIRE_HYBRID,
    ) -> Session:
        """Starts a DORMANT session from the peer's prekey bundle (verified first)."""
        b = _bundle_bytes(bundle)
        pol = _policy(pq_policy)
        out = POINTER(dmp_session_t)()
        with identity._use() as ip:
            check(lib.dmp_session_initiate_with(ip, b, len(b), pol, byref(out)))
        return cls._adopt(out)

    @classmethod
    def accept(
        cls,
        identity: Identity,
        envelope: BytesLike,
        pq_policy: PqPolicy = PqPolicy.REQUIRE_HYBRID,
    ) -> tuple[Session, bytes]:
        """Creates the responder's session (ACTIVE) from the peer's first envelope; returns it
        and the envelope's plaintext. The one-time prekey used is deleted from ``identity``."""
        env = as_bytes(envelope, "envelope")
        pol = _policy(pq_policy)
        cap = len(env)  # a plaintext is always shorter than its envelope
        with identity._use() as ip:
            for _ in range(4):
                out = POINTER(dmp_session_t)()
                pt = create_string_buffer(cap) if cap else None
                n = c_size_t(0)
                rc = lib.dmp_session_accept_with(ip, env, len(env), pol, byref(out), pt, cap, byref(n))
                if rc == BufferTooSmall.code and n.value > cap:
                    cap = n.value  # nothing was created or consumed: retry with the size needed
                    continue
                break
            check(rc)
        text = string_at(pt, n.value) if pt is not None and n.value else b""
        return cls._adopt(out), text

    @classmethod
    def deserialize(cls, record: BytesLike, storage_key: BytesLike) -> Session:
        """Restores :meth:`serialize` output (WrongStorageKey if the key differs or the record
        was altered)."""
        r = as_bytes(record, "record")
        k = fixed(storage_key, KEY_LEN, "storage_key")
        out = POINTER(dmp_session_t)()
        check(lib.dmp_session_deserialize(r, len(r), k, byref(out)))
        return cls._adopt(out)

    def encrypted_len(self, plaintext_len: int) -> int:
        """The exact envelope size :meth:`encrypt` produces for a plaintext of that length now."""
        n = int_in(plaintext_len, "plaintext_len", 0, (1 << 63) - 1)
        with self._use() as p:
            v = c_size_t()
            check(lib.dmp_session_encrypted_len(p, n, byref(v)))
            return v.value

    def encrypt(self, plaintext: BytesLike) -> bytes:
        """Encrypts a message for the peer and returns the envelope. DORMANT becomes INITIATING."""
        pt = as_bytes(plaintext, "plaintext")
        with self._use() as p:
            v = c_size_t()
            check(lib.dmp_session_encrypted_len(p, len(pt), byref(v)))
            return call_out(lib.dmp_session_encrypt, p, pt, len(pt), size=v.value)

    def decrypt(self, envelope: BytesLike) -> bytes:
        """Decrypts an envelope from the peer. INITIATING becomes ACTIVE. On any error (AuthFailed,
        Duplicate, WrongSession, TooFarAhead, ...) the session is unchanged."""
        env = as_bytes(envelope, "envelope")
        # The C ABI's bound: header, tag (no nonce is sent) and the framing byte are not plaintext.
        bound = max(len(env) - MESSAGE_HEADER_LEN - TAG_LEN - 1, 0)
        with self._use() as p:
            return call_out(lib.dmp_session_decrypt, p, env, len(env), size=bound)

    @property
    def state(self) -> SessionState:
        """The lifecycle state (readable in every state, CLOSED included)."""
        with self._use() as p:
            v = c_int32()
            check(lib.dmp_session_state(p, byref(v)))
            return SessionState(v.value)

    @property
    def peer_id(self) -> bytes:
        """The peer's 32-byte agent id."""
        with self._use() as p:
            return fixed_out(lib.dmp_session_peer_id, p, size=PUBLIC_KEY_LEN)

    @property
    def session_id(self) -> bytes:
        """The ``SESSION_ID_LEN``-byte (8) session id carried by every envelope of the session."""
        with self._use() as p:
            return fixed_out(lib.dmp_session_id, p, size=SESSION_ID_LEN)

    def set_padding(self, mode: Padding) -> None:
        """Padding of outgoing messages (``Padding.NONE`` or ``Padding.BUCKETS``)."""
        if isinstance(mode, bool) or not isinstance(mode, int):
            raise TypeError(f"mode must be a Padding, not {type(mode).__name__}")
        with self._use() as p:
            check(lib.dmp_session_set_padding(p, int(mode)))

    def set_limits(self, max_forward_jump: int, max_skipped_keys: int) -> None:
        """Out-of-order limits: largest forward jump in one chain, cap on stored skipped keys."""
        j = int_in(max_forward_jump, "max_forward_jump", 1, MAX_FORWARD_JUMP_CEILING)
        k = int_in(max_skipped_keys, "max_skipped_keys", 1, MAX_SKIPPED_KEYS_CEILING)
        with self._use() as p:
            check(lib.dmp_session_set_limits(p, j, k))

    def end(self) -> None:
        """Closes the session in the protocol sense: every key is erased, the state becomes
        CLOSED, and every later call but ``state``, ``peer_id`` and ``session_id`` raises
        WrongState (ending an ended session too). The handle stays until :meth:`close`."""
        with self._use() as p:
            check(lib.dmp_session_close(p))

    def serialize(self, storage_key: BytesLike) -> bytes:
        """The session's state, encrypted with the 32-byte storage key."""
        k = fixed(storage_key, KEY_LEN, "storage_key")
        with self._use() as p:
            return call_out(lib.dmp_session_serialize, p, k)

    def __repr__(self) -> str:
        if self.closed:
            return "<dmp.Session closed>"
        return f"<dmp.Session {self.state.name} peer={self.peer_id[:4].hex()}… id={self.session_id.hex()}>"
