"""Handle ownership: freed by close(), by a with block, or on garbage collection; never twice."""

from __future__ import annotations

import copy
import gc
import pickle
import weakref

import pytest

import dmp
from dmp import Agent, Group, Identity, Session
from support import Spy, address_of, open_pair


def test_garbage_collection_frees_each_handle_once(monkeypatch: pytest.MonkeyPatch) -> None:
    spies = {n: Spy(monkeypatch, f"dmp_{n}_free") for n in ("identity", "session", "group", "agent")}
    ident = Identity.generate()
    other = Identity.generate()
    a, b = open_pair(ident, other)
    group = Group.create(ident)
    agent = Agent.in_memory()
    objs = {"identity": [ident, other], "session": [a, b], "group": [group], "agent": [agent]}
    addrs = {n: [address_of(x) for x in xs] for n, xs in objs.items()}
    refs = [weakref.ref(x) for xs in objs.values() for x in xs]
    del ident, other, a, b, group, agent, objs
    gc.collect()
    assert all(r() is None for r in refs)
    for n, xs in addrs.items():
        assert [spies[n].count(x) for x in xs] == [1] * len(xs), n
    gc.collect()
    for n, xs in addrs.items():
        assert [spies[n].count(x) for x in xs] == [1] * len(xs), n


def test_close_then_collection_frees_once(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, "dmp_identity_free")
    i = Identity.generate()
    addr = address_of(i)
    i.close()
    i.close()
    del i
    gc.collect()
    assert spy.count(addr) == 1


def test_with_block_frees(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, "dmp_group_free")
    with Identity.generate() as ident:
        with Group.create(ident) as g:
            assert not g.closed
            addr = address_of(g)
        assert g.closed and spy.count(addr) == 1
    assert ident.closed


def test_with_block_frees_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, "dmp_agent_free")
    addr = 0
    with pytest.raises(RuntimeError):
        with Agent.in_memory() as agent:
            addr = address_of(agent)
            raise RuntimeError("boom")
    assert spy.count(addr) == 1


def test_failed_creation_leaves_nothing_to_free(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.collect()
    spy = Spy(monkeypatch, "dmp_session_free")
    with pytest.raises(dmp.DmpError):
        Session.deserialize(b"x" * 100, bytes(32))
    assert spy.calls == 0


def test_handles_cannot_be_copied_or_pickled() -> None:
    with Identity.generate() as i:
        for op in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError, match="cannot be copied"):
                op(i)


def test_closed_error_is_clear() -> None:
    s_ident = Identity.generate()
    s_ident.close()
    with pytest.raises(dmp.ClosedError) as info:
        _ = s_ident.fingerprint
    assert "Identity is closed" in str(info.value)
    assert isinstance(info.value, ValueError) and not isinstance(info.value, dmp.DmpError)


def test_objects_used_by_closed_identity(alice: Identity, bob: Identity) -> None:
    # A session outlives the identity it was created with (it holds its own keys).
    a, b = open_pair(alice, bob)
    alice.close()
    assert b.decrypt(a.encrypt(b"still fine")) == b"still fine"
    with pytest.raises(dmp.ClosedError):
        Session.initiate(alice, bob.bundle())
    with pytest.raises(dmp.ClosedError):
        Group.create(alice)
    a.close()
    b.close()
