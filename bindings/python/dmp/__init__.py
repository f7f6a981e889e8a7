"""DMP, the Direct Messaging Protocol: end-to-end encrypted messaging between AI agents.

A ctypes binding of the DMP C library (``libdmp.so``; see ``dmp._loader`` for where it is
looked for). Everything takes and returns ``bytes``; every failure of the library raises a
subclass of :class:`DmpError`; every object that owns a C handle has ``close()`` and is a context
manager (and is released on garbage collection otherwise).
"""

from __future__ import annotations

from . import crypto, errors
from ._lib import lib as _clib
from ._loader import LibraryNotFoundError
from .agent import Agent, Event, OutboxEntry
from .constants import (
    ABI_VERSION,
    AgentFlag,
    EventKind,
    Padding,
    PqPolicy,
    SessionState,
    Suite,
)
from .errors import *  # noqa: F403  (every exception class)
from .errors import ClosedError, DmpError
from .group import Group
from .identity import Identity, PrekeyBundle, fingerprint
from .session import Session


def version() -> str:
    """The version of the loaded library (``dmp_version``)."""
    raw: bytes = _clib.dmp_version()
    return raw.decode("ascii")


def abi_version() -> int:
    """The ABI version of the loaded library (``dmp_abi_version``)."""
    return int(_clib.dmp_abi_version())


if abi_version() != ABI_VERSION:
    raise ImportError(
        f"the DMP library speaks ABI {abi_version()}, this binding ABI {ABI_VERSION}: "
        "rebuild the library or update the binding"
    )

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AgentFlag",
    "ClosedError",
    "DmpError",
    "Event",
    "EventKind",
    "Group",
    "Identity",
    "LibraryNotFoundError",
    "OutboxEntry",
    "Padding",
    "PqPolicy",
    "PrekeyBundle",
    "Session",
    "SessionState",
    "Suite",
    "abi_version",
    "crypto",
    "errors",
    "fingerprint",
    "version",
    *(n for n in errors.__all__ if n[0].isupper() and n != "ERRORS_BY_CODE"),
]
