"""Exceptions: one class per ``DMP_ERR_*`` status code, all subclasses of :class:`DmpError`.

Each carries ``.code`` (the negative status), ``.name`` (``"DMP_ERR_AUTH_FAILED"``), ``.message``
(``dmp_strerror``) and ``.detail`` (``dmp_last_error_message()`` right after the failing call).
"""

from __future__ import annotations

from typing import ClassVar

from ._lib import lib

__all__ = [
    "DmpError",
    "ClosedError",
    "InternalError",
    "InvalidArgument",
    "NullPointer",
    "BufferTooSmall",
    "BadEnvelope",
    "UnsupportedVersion",
    "WrongMessageType",
    "AuthFailed",
    "Duplicate",
    "TooFarAhead",
    "WrongSession",
    "WrongState",
    "BadSignature",
    "WeakKey",
    "UnknownPrekey",
    "WrongStorageKey",
    "RandomFailure",
    "TooLarge",
    "BadState",
    "UnknownSender",
    "UnknownKeyId",
    "MemberRemoved",
    "SupersededKey",
    "Downgrade",
    "PqRequired",
    "NoSession",
    "StoreLocked",
    "StoreFailed",
    "ExpiredBundle",
    "ERRORS_BY_CODE",
    "error_for",
    "check",
    "strerror",
    "last_error_message",
]


def strerror(code: int) -> str:
    """The library's static description of a status code (``dmp_strerror``)."""
    raw: bytes = lib.dmp_strerror(code)
    return raw.decode("utf-8", "replace")


def last_error_message() -> str:
    """The detail of the last failure on this thread (``dmp_last_error_message``)."""
    raw: bytes = lib.dmp_last_error_message()
    return raw.decode("utf-8", "replace")


class DmpError(Exception):
    """A DMP call failed. ``code`` is its ``DMP_ERR_*`` status (None only for errors raised by the
    binding itself, which are never DmpError but ValueError/TypeError/ClosedError)."""

    code: ClassVar[int] = 0
    name: ClassVar[str] = "DMP_ERR_UNKNOWN"

    def __init__(self, code: int | None = None, detail: str = "", message: str | None = None) -> None:
        if code is not None and code != type(self).code:
            # Only DmpError itself is instantiated with a code that is not the class's own (an
            # unknown code from a newer library).
            self.code = code  # type: ignore[misc]
        self.message = message if message is not None else strerror(self.code)
        self.detail = detail
        super().__init__(self.code, detail or self.message)

    def __str__(self) -> str:
        text = self.detail or self.message
        return f"{text} [{self.name} ({self.code})]"


class ClosedError(ValueError):
    """The Python object's handle was released (``close()``, or the ``with`` block ended): it can
    no longer be used. Not a library status, so not a DmpError."""


class InternalError(DmpError):
    """DMP_ERR_INTERNAL: a bug or a panic inside the library."""

    code = -1
    name = "DMP_ERR_INTERNAL"


class InvalidArgument(DmpError):
    """DMP_ERR_INVALID_ARGUMENT: an argument is out of its documented range."""

    code = -2
    name = "DMP_ERR_INVALID_ARGUMENT"


class NullPointer(DmpError):
    """DMP_ERR_NULL_POINTER: a required pointer was NULL (the binding never passes one)."""

    code = -3
    name = "DMP_ERR_NULL_POINTER"


class BufferTooSmall(DmpError):
    """DMP_ERR_BUFFER_TOO_SMALL: an output buffer was too small (the binding retries for you)."""

    code = -4
    name = "DMP_ERR_BUFFER_TOO_SMALL"


class BadEnvelope(DmpError):
    """DMP_ERR_BAD_ENVELOPE: not a well-formed DMP envelope, bundle or record."""

    code = -5
    name = "DMP_ERR_BAD_ENVELOPE"


class UnsupportedVersion(DmpError):
    """DMP_ERR_UNSUPPORTED_VERSION: a protocol or format version this build does not speak."""

    code = -6
    name = "DMP_ERR_UNSUPPORTED_VERSION"


class WrongMessageType(DmpError):
    """DMP_ERR_WRONG_MESSAGE_TYPE: a well-formed envelope of a type this call does not take."""

    code = -7
    name = "DMP_ERR_WRONG_MESSAGE_TYPE"


class AuthFailed(DmpError):
    """DMP_ERR_AUTH_FAILED: authenticated decryption failed (tampered, or not for this key)."""

    code = -8
    name = "DMP_ERR_AUTH_FAILED"


class Duplicate(DmpError):
    """DMP_ERR_DUPLICATE: already decrypted (a replay), or its key was discarded."""

    code = -9
    name = "DMP_ERR_DUPLICATE"


class TooFarAhead(DmpError):
    """DMP_ERR_TOO_FAR_AHEAD: beyond the forward-jump limit."""

    code = -10
    name = "DMP_ERR_TOO_FAR_AHEAD"


class WrongSession(DmpError):
    """DMP_ERR_WRONG_SESSION: the envelope belongs to another session (or group)."""

    code = -11
    name = "DMP_ERR_WRONG_SESSION"


class WrongState(DmpError):
    """DMP_ERR_WRONG_STATE: not allowed in the current state (e.g. a CLOSED session)."""

    code = -12
    name = "DMP_ERR_WRONG_STATE"


class BadSignature(DmpError):
    """DMP_ERR_BAD_SIGNATURE: a signature did not verify."""

    code = -13
    name = "DMP_ERR_BAD_SIGNATURE"


class WeakKey(DmpError):
    """DMP_ERR_WEAK_KEY: a small-order public key, or an all-zero DH output."""

    code = -14
    name = "DMP_ERR_WEAK_KEY"


class UnknownPrekey(DmpError):
    """DMP_ERR_UNKNOWN_PREKEY: unknown prekey, or a one-time prekey already used."""

    code = -15
    name = "DMP_ERR_UNKNOWN_PREKEY"


class WrongStorageKey(DmpError):
    """DMP_ERR_WRONG_STORAGE_KEY: a stored record did not authenticate (wrong key, or corrupted)."""

    code = -16
    name = "DMP_ERR_WRONG_STORAGE_KEY"


class RandomFailure(DmpError):
    """DMP_ERR_RANDOM_FAILURE: the operating system's random number generator failed."""

    code = -17
    name = "DMP_ERR_RANDOM_FAILURE"


class TooLarge(DmpError):
    """DMP_ERR_TOO_LARGE: an input exceeds a documented size limit."""

    code = -18
    name = "DMP_ERR_TOO_LARGE"


class BadState(DmpError):
    """DMP_ERR_BAD_STATE: a decrypted state record is malformed or of another kind."""

    code = -19
    name = "DMP_ERR_BAD_STATE"


class UnknownSender(DmpError):
    """DMP_ERR_UNKNOWN_SENDER: a group message or distribution from a non-member."""

    code = -20
    name = "DMP_ERR_UNKNOWN_SENDER"


class UnknownKeyId(DmpError):
    """DMP_ERR_UNKNOWN_KEY_ID: a group message under a sender key id never distributed to us."""

    code = -21
    name = "DMP_ERR_UNKNOWN_KEY_ID"


class MemberRemoved(DmpError):
    """DMP_ERR_MEMBER_REMOVED: a group message or distribution from a removed member."""

    code = -22
    name = "DMP_ERR_MEMBER_REMOVED"


class SupersededKey(DmpError):
    """DMP_ERR_SUPERSEDED_KEY: a group message under a replaced key past its grace window."""

    code = -23
    name = "DMP_ERR_SUPERSEDED_KEY"


class Downgrade(DmpError):
    """DMP_ERR_DOWNGRADE: the post-quantum part of a first message to a hybrid prekey was removed."""

    code = -24
    name = "DMP_ERR_DOWNGRADE"


class PqRequired(DmpError):
    """DMP_ERR_PQ_REQUIRED: a classical-only set-up was refused by the policy."""

    code = -25
    name = "DMP_ERR_PQ_REQUIRED"


class NoSession(DmpError):
    """DMP_ERR_NO_SESSION: no session with this peer, and no bundle of it to start one."""

    code = -26
    name = "DMP_ERR_NO_SESSION"


class StoreLocked(DmpError):
    """DMP_ERR_STORE_LOCKED: the store is open in another process or handle."""

    code = -27
    name = "DMP_ERR_STORE_LOCKED"


class StoreFailed(DmpError):
    """DMP_ERR_STORE_FAILED: an I/O error, or a corrupted or foreign database file."""

    code = -28
    name = "DMP_ERR_STORE_FAILED"


class ExpiredBundle(DmpError):
    """DMP_ERR_EXPIRED_BUNDLE: a prekey bundle whose signed expiry has passed; fetch a newer one."""

    code = -29
    name = "DMP_ERR_EXPIRED_BUNDLE"


ERRORS_BY_CODE: dict[int, type[DmpError]] = {
    cls.code: cls
    for cls in (
        InternalError,
        InvalidArgument,
        NullPointer,
        BufferTooSmall,
        BadEnvelope,
        UnsupportedVersion,
        WrongMessageType,
        AuthFailed,
        Duplicate,
        TooFarAhead,
        WrongSession,
        WrongState,
        BadSignature,
        WeakKey,
        UnknownPrekey,
        WrongStorageKey,
        RandomFailure,
        TooLarge,
        BadState,
        UnknownSender,
        UnknownKeyId,
        MemberRemoved,
        SupersededKey,
        Downgrade,
        PqRequired,
        NoSession,
        StoreLocked,
        StoreFailed,
        ExpiredBundle,
    )
}


def error_for(code: int) -> DmpError:
    """The exception for a failed status, with this thread's ``dmp_last_error_message`` detail.
    Call it right after the failing call, on the same thread."""
    detail = last_error_message()
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:
        return DmpError(code, detail)
    return cls(code, detail)


def check(status: int) -> None:
    """Raises the exception of a non-zero status."""
    if status != 0:
        raise error_for(status)
