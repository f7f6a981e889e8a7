"""Agent and Event: pairwise, groups of three with the outbox delivered here, the outbox's
entries, strangers and accepted peers, closing and forgetting, agent signatures, unanswered
sessions, retained events, persistence, store locking and storage keys."""

from __future__ import annotations

import time
from ctypes import byref, c_size_t
from pathlib import Path

import pytest

import dmp
from dmp import Agent, AgentFlag, EventKind, SessionState
from dmp._lib import lib
from support import Spy, address_of, converse, introduce


def test_send_sets_up_the_session_and_receive_reports_it(agents: list[Agent]) -> None:
    a, b, _ = agents
    introduce(a, b)
    with pytest.raises(dmp.NoSession):
        a.session_state(b.agent_id)
    env = a.send(b.agent_id, b"hello")
    assert a.session_state(b.agent_id) is SessionState.INITIATING
    ev = b.receive(env)
    assert ev == dmp.Event(EventKind.MESSAGE, a.agent_id, None, b"hello", ev.seq, True)
    ev = a.receive(b.send(a.agent_id, b"hi"))
    assert (ev.kind, ev.plaintext, ev.new_session) == (EventKind.MESSAGE, b"hi", False)
    assert a.session_state(b.agent_id) is SessionState.ACTIVE
    assert a.peers == [b.agent_id] and b.peers == [a.agent_id]


def test_connect_establishes_without_a_message(agents: list[Agent]) -> None:
    a, b, _ = agents
    introduce(a, b)
    ev = b.receive(a.connect(b.agent_id))
    assert (ev.kind, ev.plaintext, ev.peer) == (EventKind.SESSION_ESTABLISHED, b"", a.agent_id)


def test_no_session_without_a_bundle(agents: list[Agent]) -> None:
    a, b, _ = agents
    with pytest.raises(dmp.NoSession):
        a.send(b.agent_id, b"x")
    with pytest.raises(dmp.NoSession):
        a.connect(b.agent_id)


def test_refused_envelopes_change_nothing(agents: list[Agent]) -> None:
    a, b, _ = agents
    introduce(a, b)
    env = a.send(b.agent_id, b"one")
    bad = bytearray(env)
    bad[-1] ^= 1
    with pytest.raises(dmp.AuthFailed):
        b.receive(bytes(bad))
    assert b.peers == []
    assert b.receive(env).plaintext == b"one"
    with pytest.raises(dmp.Duplicate):
        b.receive(env)
    with pytest.raises(dmp.WrongMessageType):
        b.receive(a.bundle(one_time_prekey=False))
    with pytest.raises(dmp.BadEnvelope):
        b.receive(b"\x01\x02")
    with pytest.raises(dmp.BadEnvelope):
        b.receive(b"")


def test_add_bundle_refusals(agents: list[Agent]) -> None:
    a, b, _ = agents
    with pytest.raises(dmp.InvalidArgument):
        a.add_bundle(a.bundle())
    bad = bytearray(b.bundle())
    bad[-1] ^= 1
    with pytest.raises(dmp.BadSignature):
        a.add_bundle(bytes(bad))
    assert a.add_bundle(dmp.PrekeyBundle(b.bundle())) == b.agent_id


def test_large_message_buffer_is_sized_for_the_user(agents: list[Agent]) -> None:
    a, b, _ = agents
    converse(a, b)
    # An agent's pairwise payload is `kind (1) || plaintext` inside a session message, so its
    # largest plaintext is one byte under MAX_PLAINTEXT_LEN.
    big = (bytes(range(256)) * 4096)[: dmp.constants.MAX_PLAINTEXT_LEN - 1]
    assert b.receive(a.send(b.agent_id, big)).plaintext == big
    with pytest.raises(dmp.TooLarge):
        a.send(b.agent_id, big + b"!")


def test_send_size_query_changes_nothing(agents: list[Agent]) -> None:
    a, b, _ = agents
    introduce(a, b)
    with a._use() as p:
        n = c_size_t()
        rc = lib.dmp_agent_send(p, b.agent_id, b"hello", 5, None, 0, byref(n))
        assert rc == dmp.BufferTooSmall.code and n.value > 5
    assert a.peers == []  # no session was started by the query
    env = a.send(b.agent_id, b"hello")
    assert len(env) == n.value
    assert b.receive(env).plaintext == b"hello"


def test_send_uses_the_size_query_then_the_exact_size(monkeypatch: pytest.MonkeyPatch, agents: list[Agent]) -> None:
    a, b, _ = agents
    converse(a, b)
    spy = Spy(monkeypatch, "dmp_agent_send")
    a.send(b.agent_id, b"x")
    assert spy.calls == 2


def test_groups_of_three_with_the_outbox_delivered_by_the_test(agents: list[Agent]) -> None:
    a, b, c = agents
    by_id = {x.agent_id: x for x in agents}

    def deliver(sender: Agent) -> list[dmp.Event]:
        events = []
        while (entry := sender.outbox_next()) is not None:
            events.append(by_id[entry.peer].receive(entry.envelope))
            sender.outbox_done(entry.seq)
        return events

    def drain_all() -> None:
        while sum(x.outbox_count for x in agents):
            for x in agents:
                deliver(x)

    introduce(a, b)
    introduce(a, c)
    introduce(b, c)
    introduce(c, b)
    gid = a.group_create()
    assert a.group_members(gid) == []
    a.group_add(gid, b.agent_id)
    a.group_add(gid, c.agent_id)
    assert a.outbox_count == 2
    for ev in deliver(a):  # B and C are invited and answer with their own sender keys
        assert (ev.kind, ev.group_id, ev.peer, ev.new_group) == (EventKind.DISTRIBUTION_CONSUMED, gid, a.agent_id, True)
    assert b.outbox_count == 1 and c.outbox_count == 1
    for ev in deliver(b) + deliver(c):  # a member's key is no invitation
        assert (ev.kind, ev.group_id, ev.new_group) == (EventKind.DISTRIBUTION_CONSUMED, gid, False)
    drain_all()
    # In a group it holds, an agent takes keys only from members: B and C add each other first.
    b.group_add(gid, c.agent_id)
    c.group_add(gid, b.agent_id)
    drain_all()
    for x in agents:
        assert len(x.group_members(gid)) == 2
    assert sorted(a.group_members(gid)) == sorted([b.agent_id, c.agent_id])

    for sender in agents:
        text = b"from " + sender.agent_id[:4].hex().encode()
        env = sender.group_send(gid, text)
        for r in agents:
            if r is not sender:
                ev = r.receive(env)
                assert (ev.kind, ev.peer, ev.group_id, ev.plaintext) == (
                    EventKind.GROUP_MESSAGE,
                    sender.agent_id,
                    gid,
                    text,
                )
        with pytest.raises(dmp.Duplicate):
            (b if sender is not b else a).receive(env)

    # A removes C: A's key rotates and the new one goes to B only.
    a.group_remove(gid, c.agent_id)
    assert a.outbox_count == 1
    entry = a.outbox_next()
    assert entry is not None and entry.peer == b.agent_id
    drain_all()
    secret = a.group_send(gid, b"without c")
    assert b.receive(secret).plaintext == b"without c"
    with pytest.raises(dmp.UnknownKeyId):
        c.receive(secret)
    with pytest.raises(dmp.MemberRemoved):
        a.receive(c.group_send(gid, b"still here"))
    with pytest.raises(dmp.UnknownSender):
        a.group_remove(gid, c.agent_id)


def test_group_refusals(agents: list[Agent]) -> None:
    a, b, c = agents
    unknown = bytes(32)
    with pytest.raises(dmp.WrongSession):
        a.group_send(unknown, b"x")
    with pytest.raises(dmp.WrongSession):
        a.group_members(unknown)
    gid = a.group_create()
    with pytest.raises(dmp.NoSession):
        a.group_add(gid, b.agent_id)
    with pytest.raises(dmp.InvalidArgument):
        a.group_add(gid, a.agent_id)
    with pytest.raises(ValueError):
        a.group_add(gid[:31], b.agent_id)
    assert a.outbox_next() is None
    with pytest.raises(dmp.InvalidArgument):  # no entry was ever given
        a.outbox_done(0)
    assert a.drain_outbox(lambda peer, env: pytest.fail("the outbox is empty")) == 0


def test_an_unwanted_invitation_is_left() -> None:
    with Agent.in_memory() as a, Agent.in_memory() as b:
        introduce(a, b)
        gid = a.group_create()
        a.group_add(gid, b.agent_id)
        sent: list[bytes] = []
        assert a.drain_outbox(lambda peer, env: sent.append(env)) == 1
        ev = b.receive(sent[0])
        assert (ev.new_group, b.group_members(gid)) == (True, [a.agent_id])
        b.group_leave(gid)
        with pytest.raises(dmp.WrongSession):
            b.group_members(gid)
        with pytest.raises(dmp.WrongSession):
            b.group_leave(gid)
        with pytest.raises(dmp.WrongSession):
            b.receive(a.group_send(gid, b"not for b any more"))
        with pytest.raises(ValueError):
            b.group_leave(b"short")


def test_group_invites_can_be_refused() -> None:
    with Agent.in_memory() as a, Agent.in_memory(flags=AgentFlag.REFUSE_GROUP_INVITES) as b:
        introduce(a, b)
        gid = a.group_create()
        a.group_add(gid, b.agent_id)
        entry = a.outbox_next()
        assert entry is not None and entry.peer == b.agent_id
        with pytest.raises(dmp.UnknownSender):
            b.receive(entry.envelope)


def _two_outbox_entries(agents: list[Agent]) -> tuple[dmp.OutboxEntry, dmp.OutboxEntry]:
    """A's outbox holds its sender key for B, then for C. Returns the first entry as read, and
    the number of the second (one agent numbers its entries consecutively; a thread that
    read it holds exactly that number), with the envelope left out."""
    a, b, c = agents
    introduce(a, b)
    introduce(a, c)
    gid = a.group_create()
    a.group_add(gid, b.agent_id)
    a.group_add(gid, c.agent_id)
    first = a.outbox_next()
    assert first is not None and first.peer == b.agent_id
    return first, dmp.OutboxEntry(c.agent_id, b"", first.seq + 1)


def test_outbox_done_forgets_exactly_the_entry_it_names(agents: list[Agent]) -> None:
    a, b, c = agents
    first, second = _two_outbox_entries(agents)
    # Two threads drain: both read the first entry; one sent the second and marks it done first.
    # The first entry, not sent yet, must stay.
    a.outbox_done(second.seq)
    assert a.outbox_count == 1
    assert a.outbox_next() == first
    a.outbox_done(second.seq)  # done twice (both threads sent it): fine
    with pytest.raises(dmp.InvalidArgument):
        a.outbox_done(second.seq + 1)  # a number never given
    assert a.outbox_count == 1
    assert b.receive(first.envelope).kind is EventKind.DISTRIBUTION_CONSUMED
    a.outbox_done(first.seq)
    assert a.outbox_next() is None
    for bad in (-1, 1 << 64):
        with pytest.raises(ValueError):
            a.outbox_done(bad)
    with pytest.raises(TypeError):
        a.outbox_done(True)
    with pytest.raises(TypeError):
        a.outbox_done(first)  # type: ignore[arg-type]


def test_drain_outbox_removes_an_entry_only_after_its_delivery(agents: list[Agent]) -> None:
    a, b, c = agents
    by_id = {x.agent_id: x for x in agents}
    _two_outbox_entries(agents)

    class Offline(Exception):
        pass

    def fails(peer: bytes, env: bytes) -> None:
        raise Offline

    with pytest.raises(Offline):
        a.drain_outbox(fails)
    assert a.outbox_count == 2  # the delivery did not finish: nothing removed
    assert a.drain_outbox(lambda peer, env: False) == 0  # "not delivered, stop"
    assert a.outbox_count == 2

    got: list[tuple[bytes, dmp.Event]] = []

    def deliver_to_b_only(peer: bytes, env: bytes) -> bool:
        if peer != b.agent_id:
            return False
        got.append((peer, by_id[peer].receive(env)))
        return True

    assert a.drain_outbox(deliver_to_b_only) == 1
    assert [(p, e.kind) for p, e in got] == [(b.agent_id, EventKind.DISTRIBUTION_CONSUMED)]
    entry = a.outbox_next()
    assert entry is not None and entry.peer == c.agent_id
    assert a.drain_outbox(lambda peer, env: by_id[peer].receive(env)) == 1
    assert a.outbox_count == 0
    with pytest.raises(TypeError):
        a.drain_outbox(None)  # type: ignore[arg-type]


def test_agent_signatures_verify_under_the_agent_id(agents: list[Agent]) -> None:
    a, b, _ = agents
    sig = a.sign(b"I, agent A, agree")
    assert len(sig) == dmp.constants.SIGNATURE_LEN
    dmp.crypto.ed25519_verify(a.agent_id, b"I, agent A, agree", sig)
    dmp.crypto.ed25519_verify(a.agent_id, b"", a.sign(b""))
    dmp.crypto.ed25519_verify(a.agent_id, b"xDMP", a.sign(bytearray(b"xDMP")))
    with pytest.raises(dmp.BadSignature):
        dmp.crypto.ed25519_verify(a.agent_id, b"I, agent A, agree!", sig)
    with pytest.raises(dmp.BadSignature):
        dmp.crypto.ed25519_verify(b.agent_id, b"I, agent A, agree", sig)
    # The protocol's own signatures (a bundle's) begin with "DMP": an agent never signs those.
    for reserved in (b"DMP", b"DMP1 bundle", b"DMP\x00"):
        with pytest.raises(dmp.InvalidArgument):
            a.sign(reserved)
    with pytest.raises(TypeError):
        a.sign("text")  # type: ignore[arg-type]


def test_a_stranger_is_accepted_by_accept_peer_or_a_reply(agents: list[Agent]) -> None:
    a, b, c = agents
    introduce(a, b)
    assert a.is_accepted(b.agent_id)  # adding a bundle accepts
    b.receive(a.send(b.agent_id, b"hello from a stranger"))
    assert not b.is_accepted(a.agent_id)  # known only from its first message
    b.accept_peer(a.agent_id)
    assert b.is_accepted(a.agent_id)
    b.accept_peer(a.agent_id)  # again: nothing to do

    introduce(c, b)
    b.receive(c.send(b.agent_id, b"hello too"))
    assert not b.is_accepted(c.agent_id)
    c.receive(b.send(c.agent_id, b"answered"))  # sending accepts
    assert b.is_accepted(c.agent_id)

    for call in (a.accept_peer, a.is_accepted):
        with pytest.raises(dmp.NoSession):  # A knows nothing of C
            call(c.agent_id)
        with pytest.raises(ValueError):
            call(c.agent_id[:31])


def test_close_session_then_send_starts_a_new_session(agents: list[Agent]) -> None:
    a, b, c = agents
    assert a.add_bundle(b.bundle(one_time_prekey=False)) == b.agent_id
    b.receive(a.send(b.agent_id, b"hi"))
    a.receive(b.send(a.agent_id, b"hello"))
    a.close_session(b.agent_id)
    with pytest.raises(dmp.NoSession):
        a.session_state(b.agent_id)
    with pytest.raises(dmp.NoSession):
        a.close_session(b.agent_id)  # nothing left to close
    assert a.is_accepted(b.agent_id)  # the peer stays known, with its bundle
    ev = b.receive(a.send(b.agent_id, b"a new session"))  # from the stored bundle
    assert (ev.plaintext, ev.new_session) == (b"a new session", True)
    assert a.session_state(b.agent_id) is SessionState.INITIATING
    # The flow for an unanswered session: a current bundle, then close, then send.
    converse(a, c)
    a.add_bundle(c.bundle())
    a.close_session(c.agent_id)
    assert c.receive(a.send(c.agent_id, b"again")).new_session
    with pytest.raises(ValueError):
        a.close_session(b"")


def test_close_session_needs_a_session(agents: list[Agent]) -> None:
    a, b, c = agents
    with pytest.raises(dmp.NoSession):
        a.close_session(c.agent_id)  # never known
    introduce(a, c)
    with pytest.raises(dmp.NoSession):
        a.close_session(c.agent_id)  # known, but no session yet


def test_forget_peer_forgets_its_bundle_too(agents: list[Agent]) -> None:
    a, b, c = agents
    converse(a, b)
    a.forget_peer(b.agent_id)
    assert a.peers == []
    with pytest.raises(dmp.NoSession):
        a.send(b.agent_id, b"x")  # no session, and no bundle to start one
    for call in (a.forget_peer, a.is_accepted, a.accept_peer):
        with pytest.raises(dmp.NoSession):
            call(b.agent_id)
    with pytest.raises(dmp.NoSession):
        a.forget_peer(c.agent_id)
    introduce(a, b)  # known again through a new bundle
    assert b.receive(a.send(b.agent_id, b"hello again")).new_session
    with pytest.raises(ValueError):
        a.forget_peer(bytes(33))


def test_unanswered_peers_are_those_we_wrote_to_without_reply(agents: list[Agent]) -> None:
    a, b, c = agents
    day = 24 * 3600
    introduce(a, b)
    introduce(a, c)
    to_b = a.send(b.agent_id, b"anyone there?")
    a.send(c.agent_id, b"and you?")
    now = int(time.time())
    assert a.unanswered_peers() == [] and a.unanswered_peers(now) == []
    later = now + 15 * day  # beyond the default 14 days
    assert a.unanswered_peers(later) == sorted([b.agent_id, c.agent_id])
    b.receive(to_b)
    a.receive(b.send(a.agent_id, b"here"))
    assert a.unanswered_peers(later) == [c.agent_id]
    assert b.unanswered_peers(later) == []  # B did not start its session
    for bad in (-1, 1 << 64):
        with pytest.raises(ValueError):
            a.unanswered_peers(bad)


def test_retained_events_until_ack() -> None:
    with Agent.in_memory(flags=AgentFlag.RETAIN_EVENTS) as b, Agent.in_memory() as a:
        introduce(a, b)
        evs = [b.receive(a.send(b.agent_id, b"m%d" % i)) for i in range(3)]
        assert b.pending_count == 3
        pending = b.pending_events()
        assert [e.plaintext for e in pending] == [b"m0", b"m1", b"m2"]
        assert [e.seq for e in pending] == [e.seq for e in evs]
        b.ack(evs[1].seq)
        assert [e.plaintext for e in b.pending_events()] == [b"m0", b"m2"]
        with pytest.raises(dmp.InvalidArgument):
            b.ack(evs[1].seq)
        with pytest.raises(dmp.InvalidArgument):
            b.pending_event(5)
        assert a.pending_count == 0  # without the flag nothing is retained


def test_bad_flags_and_inputs(monkeypatch: pytest.MonkeyPatch, agents: list[Agent]) -> None:
    with pytest.raises(dmp.InvalidArgument):
        Agent.in_memory(flags=64)
    Spy(monkeypatch, "dmp_agent_open", forbid=True)
    Spy(monkeypatch, "dmp_agent_send", forbid=True)
    Spy(monkeypatch, "dmp_agent_session_state", forbid=True)
    with pytest.raises(ValueError):
        Agent.in_memory(bytes(31))
    with pytest.raises(ValueError):
        Agent.in_memory(flags=-1)
    with pytest.raises(ValueError):
        Agent.open("", bytes(32))
    with pytest.raises(TypeError):
        Agent()
    a = agents[0]
    for bad in (b"", bytes(31), bytes(33)):
        with pytest.raises(ValueError):
            a.send(bad, b"x")
        with pytest.raises(ValueError):
            a.session_state(bad)
    with pytest.raises(ValueError):
        a.send(None, b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        a.send(bytes(32), "text")  # type: ignore[arg-type]


def test_seeded_agents(tmp_path: Path, storage_key: bytes) -> None:
    seed = bytes([9]) * 32
    with Agent.in_memory(seed=seed) as x, Agent.in_memory(seed=seed) as y:
        assert x.agent_id == y.agent_id == dmp.Identity.from_seed(seed).agent_id
    store = tmp_path / "seeded.db"
    with Agent.open(store, storage_key, seed=seed) as x:
        ident = x.agent_id
    with Agent.open(store, storage_key, seed=seed) as x:
        assert x.agent_id == ident
    with pytest.raises(dmp.InvalidArgument):
        Agent.open(store, storage_key, seed=bytes([8]) * 32)
    with pytest.raises(ValueError):
        Agent.open(store, storage_key, seed=b"short")


def test_persistence_across_reopen(tmp_path: Path, storage_key: bytes) -> None:
    store = tmp_path / "alice.db"
    with Agent.in_memory() as bob:
        alice = Agent.open(store, storage_key)
        alice_id = alice.agent_id
        converse(alice, bob)
        gid = alice.group_create()
        alice.group_add(gid, bob.agent_id)
        assert alice.outbox_count == 1
        pending_env = bob.send(alice_id, b"sent while alice is down")
        alice.close()

        with Agent.open(str(store), storage_key) as again:
            assert again.agent_id == alice_id
            assert again.peers == [bob.agent_id]
            assert again.session_state(bob.agent_id) is SessionState.ACTIVE
            assert again.group_members(gid) == [bob.agent_id]
            assert again.outbox_count == 1  # the queued sender key survived
            assert again.receive(pending_env).plaintext == b"sent while alice is down"
            assert bob.receive(again.send(bob.agent_id, b"back again")).plaintext == b"back again"
            with pytest.raises(dmp.Duplicate):
                again.receive(pending_env)

        with Agent.open(store, storage_key) as third:  # what the second handle did was saved
            with pytest.raises(dmp.Duplicate):
                third.receive(pending_env)
            assert bob.receive(third.send(bob.agent_id, b"third time")).plaintext == b"third time"


def test_second_open_of_the_same_store_is_store_locked(tmp_path: Path, storage_key: bytes) -> None:
    store = tmp_path / "locked.db"
    with Agent.open(store, storage_key) as first:
        with pytest.raises(dmp.StoreLocked) as info:
            Agent.open(store, storage_key)
        assert info.value.code == -27
        assert first.fingerprint  # still usable
    with Agent.open(store, storage_key):  # the lock went with close()
        pass


def test_store_lock_is_released_when_the_agent_is_collected(tmp_path: Path, storage_key: bytes) -> None:
    import gc

    store = tmp_path / "gc.db"
    a = Agent.open(store, storage_key)
    del a
    gc.collect()
    with Agent.open(store, storage_key):
        pass


def test_wrong_storage_key(tmp_path: Path, storage_key: bytes) -> None:
    store = tmp_path / "keyed.db"
    with Agent.open(store, storage_key):
        pass
    with pytest.raises(dmp.WrongStorageKey):
        Agent.open(store, bytes(32))
    with pytest.raises(ValueError):
        Agent.open(store, storage_key[:31])


def test_not_a_store(tmp_path: Path, storage_key: bytes) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(dmp.StoreFailed):
        Agent.open(junk, storage_key)
    with pytest.raises(dmp.StoreFailed):
        Agent.open(tmp_path / "no" / "such" / "dir" / "x.db", storage_key)


def test_maintain(agents: list[Agent]) -> None:
    a = agents[0]
    a.maintain()
    a.maintain(4_000_000_000)
    with pytest.raises(ValueError):
        a.maintain(-1)


def test_closed_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    a = Agent.in_memory()
    addr = address_of(a)
    spy = Spy(monkeypatch, "dmp_agent_free")
    with a:
        assert a.fingerprint in repr(a)
    assert a.closed and spy.count(addr) == 1
    with pytest.raises(dmp.ClosedError, match="Agent is closed"):
        a.send(bytes(32), b"x")
    with pytest.raises(dmp.ClosedError):
        _ = a.peers
    with pytest.raises(dmp.ClosedError):
        a.sign(b"x")
    a.close()
    assert spy.count(addr) == 1 and repr(a) == "<dmp.Agent closed>"
