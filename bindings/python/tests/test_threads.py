"""Threads sharing one Agent (and one Session): calls are serialized inside, nothing is lost."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import dmp
from dmp import Agent, EventKind, Session
from support import introduce, open_pair

THREADS = 8
ROUNDS = 15


def test_eight_threads_share_one_agent(tmp_path: Path, storage_key: bytes) -> None:
    hub = Agent.open(tmp_path / "hub.db", storage_key)  # every call also writes the store
    spokes = [Agent.in_memory() for _ in range(THREADS)]
    for s in spokes:
        introduce(s, hub)  # each spoke starts its session with the hub
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(i: int) -> int:
        spoke = spokes[i]
        barrier.wait()
        done = 0
        for r in range(ROUNDS):
            text = b"spoke %d round %d" % (i, r)
            ev = hub.receive(spoke.send(hub.agent_id, text))  # the shared hub, concurrently
            assert (ev.kind, ev.peer, ev.plaintext) == (EventKind.MESSAGE, spoke.agent_id, text)
            reply = hub.send(spoke.agent_id, b"ack " + text)
            assert spoke.receive(reply).plaintext == b"ack " + text
            assert hub.session_state(spoke.agent_id) is dmp.SessionState.ACTIVE
            assert spoke.agent_id in hub.peers
            done += 1
        return done

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(work, i) for i in range(THREADS)]
            results = []
            for f in futures:
                try:
                    results.append(f.result(timeout=120))
                except BaseException as e:  # collect, then fail with all of them
                    errors.append(e)
        assert not errors, errors
        assert results == [ROUNDS] * THREADS
        assert sorted(hub.peers) == sorted(s.agent_id for s in spokes)
        hub.close()
        with Agent.open(tmp_path / "hub.db", storage_key) as again:  # all of it was saved
            assert sorted(again.peers) == sorted(s.agent_id for s in spokes)
            for s in spokes:
                assert again.receive(s.send(again.agent_id, b"after")).plaintext == b"after"
    finally:
        hub.close()
        for s in spokes:
            s.close()


def test_eight_threads_send_to_one_peer_through_one_agent() -> None:
    with Agent.in_memory() as a, Agent.in_memory() as b:
        introduce(a, b)
        b.receive(a.send(b.agent_id, b"setup"))
        a.receive(b.send(a.agent_id, b"setup ack"))
        with ThreadPoolExecutor(THREADS) as pool:
            envs = list(pool.map(lambda i: a.send(b.agent_id, b"msg %d" % i), range(THREADS * 10)))
        got = sorted(b.receive(e).plaintext for e in reversed(envs))  # any order
        assert got == sorted(b"msg %d" % i for i in range(THREADS * 10))


def test_eight_threads_share_one_session(alice: dmp.Identity, bob: dmp.Identity) -> None:
    a, b = open_pair(alice, bob)
    with a, b, ThreadPoolExecutor(THREADS) as pool:
        envs = list(pool.map(lambda i: a.encrypt(b"%d" % i), range(200)))
        texts = list(pool.map(b.decrypt, envs))
        assert sorted(texts) == sorted(b"%d" % i for i in range(200))


def hammer(agent: Agent, stop: threading.Event, outcomes: list[str]) -> None:
    while not stop.is_set():
        try:
            _ = agent.fingerprint
            agent.bundle(one_time_prekey=False)
        except dmp.ClosedError:
            outcomes.append("closed")
            return
    outcomes.append("stopped")


def test_close_while_other_threads_use_the_handle() -> None:
    # close() waits for the call in flight; later calls get ClosedError, never a freed pointer.
    for _ in range(5):
        agent = Agent.in_memory()
        stop = threading.Event()
        outcomes: list[str] = []
        ts = [threading.Thread(target=hammer, args=(agent, stop, outcomes)) for _ in range(THREADS)]
        for t in ts:
            t.start()
        agent.close()
        stop.set()
        for t in ts:
            t.join(30)
        assert len(outcomes) == THREADS and set(outcomes) <= {"closed", "stopped"}


def test_session_handles_are_independent(alice: dmp.Identity, bob: dmp.Identity) -> None:
    pairs = [open_pair(alice, bob) for _ in range(4)]

    def talk(p: tuple[Session, Session]) -> None:
        a, b = p
        for i in range(20):
            assert b.decrypt(a.encrypt(b"x%d" % i)) == b"x%d" % i
            assert a.decrypt(b.encrypt(b"y%d" % i)) == b"y%d" % i

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(talk, pairs))
    for a, b in pairs:
        a.close()
        b.close()


def test_two_threads_drain_one_outbox_and_no_envelope_is_lost() -> None:
    members = [Agent.in_memory() for _ in range(THREADS)]
    with Agent.in_memory() as hub:
        by_id = {m.agent_id: m for m in members}
        gid = hub.group_create()
        for m in members:
            introduce(hub, m)
            hub.group_add(gid, m.agent_id)
        assert hub.outbox_count == THREADS
        delivered: list[tuple[bytes, bytes]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(2)

        def deliver(peer: bytes, env: bytes) -> None:
            with lock:
                delivered.append((peer, env))
            time.sleep(0.002)  # the other thread runs meanwhile (deliver holds no agent lock)

        def drain(_: int) -> int:
            barrier.wait()
            return hub.drain_outbox(deliver)

        with ThreadPoolExecutor(2) as pool:
            counts = list(pool.map(drain, range(2)))
        assert hub.outbox_count == 0
        assert sum(counts) >= THREADS  # an entry both threads sent counts twice
        # Every member got its sender key at least once; a second copy is refused as Duplicate.
        firsts: dict[bytes, bytes] = {}
        for peer, env in delivered:
            if peer in firsts:  # the same entry, sent by both threads: refused the second time
                assert env == firsts[peer]
                with pytest.raises(dmp.Duplicate):
                    by_id[peer].receive(env)
            else:
                firsts[peer] = env
                assert by_id[peer].receive(env).kind is EventKind.DISTRIBUTION_CONSUMED
        assert sorted(firsts) == sorted(by_id)
    for m in members:
        m.close()
