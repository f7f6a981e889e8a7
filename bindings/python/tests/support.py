"""Helpers shared by the binding's tests (imported as `support`: tests/ is on sys.path)."""

from __future__ import annotations

import ctypes
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import dmp

BINDING = Path(__file__).resolve().parents[1]
REPO = BINDING.parents[1]
HEADER = REPO / "include" / "dmp.h"


def load_tool(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def open_pair(
    initiator: dmp.Identity, responder: dmp.Identity, text: bytes = b"hello"
) -> tuple[dmp.Session, dmp.Session]:
    """An ACTIVE session pair: initiator -> responder first message, and one reply back."""
    a = dmp.Session.initiate(initiator, responder.bundle(one_time_prekey=True))
    b, got = dmp.Session.accept(responder, a.encrypt(text))
    assert got == text
    assert a.decrypt(b.encrypt(b"reply")) == b"reply"
    return a, b


def introduce(a: dmp.Agent, b: dmp.Agent) -> None:
    """``a`` learns ``b``'s bundle."""
    assert a.add_bundle(b.bundle(one_time_prekey=True)) == b.agent_id


def converse(a: dmp.Agent, b: dmp.Agent) -> None:
    """Sets up an ACTIVE session between two agents (a introduced to b first)."""
    introduce(a, b)
    ev = b.receive(a.send(b.agent_id, b"hi"))
    assert ev.kind is dmp.EventKind.MESSAGE and ev.peer == a.agent_id
    ev = a.receive(b.send(a.agent_id, b"hello"))
    assert ev.plaintext == b"hello"


class Spy:
    """Replaces one library function for a test; counts calls and forwards to the original
    (or fails the test if ``forbid``). ``owner`` is where the function is looked up: the ``lib``
    of dmp/_lib.py by default, or a module holding its own handle on it (``dmp.crypto`` calls
    ``_aead_seal``, an argtypes-free handle on ``dmp_aead_seal``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, forbid: bool = False, owner: object = None) -> None:
        from dmp._lib import lib

        owner = lib if owner is None else owner
        self.calls = 0
        self.first_args: list[object] = []
        self.original = getattr(owner, name)
        self.name = name
        self.forbid = forbid
        monkeypatch.setattr(owner, name, self)

    def __call__(self, *args: object) -> object:
        self.calls += 1
        self.first_args.append(args[0] if args else None)
        if self.forbid:
            pytest.fail(f"{self.name} was called although the input was refused before C")
        return self.original(*args)

    def count(self, address: int) -> int:
        """Calls whose first argument (a handle) was at ``address`` (see ``address_of``)."""
        return sum(1 for a in self.first_args if address_of(a) == address)


def address_of(handle: object) -> int:
    """The address a ctypes pointer (or a binding object's handle) points to."""
    ptr = getattr(handle, "_ptr", handle)
    if ptr is None:
        return 0
    return ctypes.cast(ptr, ctypes.c_void_p).value or 0
