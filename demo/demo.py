#!/usr/bin/env python3
"""The cross-language DMP demo: a Zig `dmp-node` and two Python agents on loopback TCP.

  1. Asynchronous set-up: the node publishes its bundle and exits; Python agent P1 reads it and
     sends BEFORE the node is listening (the envelopes are held); the node comes back listening,
     P1 connects and delivers; the node answers; messages go both ways (sessions turn ACTIVE).
  2. A group of three (P1, P2, the node): every member adds every other; sender keys travel
     through the outboxes over the connections; each member's group messages reach the two others.
  3. A summary; exit status 0, or non-zero with a message naming what failed.

Usage: demo.py --node PATH/TO/dmp-node [--timeout SECONDS]
Every wait has a timeout; the node process is always killed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import struct
import sys
import tempfile
import time
from pathlib import Path

import dmp
from dmp import Agent, DmpError, EventKind, SessionState

HELLO, ENVELOPE, CLOSE = 0x01, 0x02, 0x03
MAX_FRAME = 1_179_664
STEP_TIMEOUT = 10.0  # any single wait
T0 = time.monotonic()


class DemoFailure(Exception):
    pass


def log(who: str, what: str) -> None:
    print(f"[{time.monotonic() - T0:6.2f}s] {who:<5} {what}", flush=True)


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def short(b: bytes | str) -> str:
    h = b.hex() if isinstance(b, bytes) else b
    return h[:8]


# ---------------------------------------------------------------- framing (zig/README.md)


def control(kind: int, body: bytes = b"") -> bytes:
    return struct.pack(">I", 1 + len(body)) + bytes([kind]) + body


async def read_control(reader: asyncio.StreamReader) -> tuple[int, bytes] | None:
    try:
        header = await reader.readexactly(4)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise
        return None
    (length,) = struct.unpack(">I", header)
    if not 1 <= length <= MAX_FRAME:
        raise DemoFailure(f"bad frame length {length}")
    payload = await asyncio.wait_for(reader.readexactly(length), 5.0)
    return payload[0], payload[1:]


# ---------------------------------------------------------------- a Python agent on the network


class PyAgent:
    """One dmp.Agent with its own store, its connections (one per peer), envelopes held for peers
    that are not connected, and envelopes refused as UnknownSender kept until a group_add."""

    def __init__(self, name: str, store: Path, key: bytes):
        self.name = name
        self.agent = Agent.open(store, key)
        self.id = self.agent.agent_id
        self.fp = self.agent.fingerprint.replace(" ", "")
        self.writers: dict[bytes, asyncio.StreamWriter] = {}
        self.held: dict[bytes, list[bytes]] = {}
        self.kept: dict[bytes, list[bytes]] = {}
        self.events: list[dmp.Event] = []
        self.new_event = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.names: dict[bytes, str] = {}
        self.server: asyncio.base_events.Server | None = None
        self.stats = {"sent": 0, "received": 0, "group_sent": 0, "group_received": 0, "keys": 0}

    def who(self, peer: bytes) -> str:
        return self.names.get(peer, short(peer))

    # -- sending
    def _write(self, peer: bytes, env: bytes) -> bool:
        w = self.writers.get(peer)
        if w is None or w.is_closing():
            self.held.setdefault(peer, []).append(env)
            return False
        w.write(control(ENVELOPE, env))
        return True

    def send(self, peer: bytes, text: str) -> None:
        env = self.agent.send(peer, text.encode())
        self.stats["sent"] += 1
        delivered = self._write(peer, env)
        state = self.agent.session_state(peer).name
        how = "written to the connection" if delivered else "HELD (peer not connected)"
        log(self.name, f"send -> {self.who(peer)}: {text!r} ({len(env)} bytes, {how}); session {state}")

    def flush_outbox(self) -> None:
        # Oldest first, while the recipient is connected; an entry leaves the agent's outbox (its
        # store) only once written: one for a peer not connected stays until it connects.
        def deliver(to: bytes, env: bytes) -> bool:
            w = self.writers.get(to)
            if w is None or w.is_closing():
                return False
            w.write(control(ENVELOPE, env))
            log(self.name, f"outbox -> {self.who(to)}: {len(env)} bytes written")
            return True

        self.agent.drain_outbox(deliver)

    def group_send(self, gid: bytes, text: str) -> None:
        env = self.agent.group_send(gid, text.encode())
        members = self.agent.group_members(gid)
        for m in members:
            self._write(m, env)
        self.stats["group_sent"] += 1
        log(self.name, f"group-send {short(gid)}: {text!r} -> {', '.join(self.who(m) for m in members)}")

    def group_add(self, gid: bytes, peer: bytes) -> None:
        self.agent.group_add(gid, peer)
        log(self.name, f"group-add {self.who(peer)} to {short(gid)} (our sender key queued in the outbox)")
        kept = self.kept.pop(peer, [])
        for env in kept:
            log(self.name, f"re-delivering a kept envelope from {self.who(peer)}")
            self._receive(peer, env)
        self.flush_outbox()

    # -- receiving
    def _receive(self, conn_peer: bytes, env: bytes) -> None:
        try:
            ev = self.agent.receive(env)
        except dmp.UnknownSender as e:
            self.kept.setdefault(conn_peer, []).append(env)
            log(self.name, f"REFUSED from {self.who(conn_peer)}: UnknownSender (kept until group-add) {e.detail or ''}")
            return
        except DmpError as e:
            log(self.name, f"REFUSED from {self.who(conn_peer)}: {type(e).__name__} {e.detail or ''}")
            return
        if ev.kind == EventKind.MESSAGE:
            self.stats["received"] += 1
            log(self.name, f"recv <- {self.who(ev.peer)}: {ev.plaintext.decode()!r}; "
                           f"session {self.agent.session_state(ev.peer).name}")
        elif ev.kind == EventKind.GROUP_MESSAGE:
            self.stats["group_received"] += 1
            log(self.name, f"group {short(ev.group_id)} <- {self.who(ev.peer)}: {ev.plaintext.decode()!r}")
        elif ev.kind == EventKind.DISTRIBUTION_CONSUMED:
            self.stats["keys"] += 1
            log(self.name, f"group-key {short(ev.group_id)} from {self.who(ev.peer)} taken in")
        else:
            log(self.name, f"event {ev.kind.name} from {self.who(ev.peer)}")
        self.events.append(ev)
        self.new_event.set()
        self.flush_outbox()

    async def _reader(self, peer: bytes, reader: asyncio.StreamReader) -> None:
        try:
            while (frame := await read_control(reader)) is not None:
                kind, body = frame
                if kind == ENVELOPE:
                    self._receive(peer, body)
                elif kind == CLOSE:
                    log(self.name, f"CLOSE from {self.who(peer)}: {body.decode(errors='replace')}")
                    break
                else:
                    log(self.name, f"unexpected frame kind {kind} from {self.who(peer)}")
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
            log(self.name, f"connection with {self.who(peer)} ended: {type(e).__name__}")
        finally:
            w = self.writers.pop(peer, None)
            if w is not None:
                w.close()

    async def attach(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, label: str) -> bytes:
        writer.write(control(HELLO, self.agent.bundle(one_time_prekey=False)))  # our HELLO first
        frame = await asyncio.wait_for(read_control(reader), STEP_TIMEOUT)
        if frame is None or frame[0] != HELLO:
            raise DemoFailure(f"{self.name}: no HELLO on {label}")
        peer = self.agent.add_bundle(frame[1])
        log(self.name, f"connected ({label}); HELLO from {self.who(peer)} verified")
        self.writers[peer] = writer
        self.tasks.append(asyncio.create_task(self._reader(peer, reader)))
        held = self.held.pop(peer, [])
        for env in held:
            writer.write(control(ENVELOPE, env))
        if held:
            log(self.name, f"delivered {len(held)} held envelope(s) to {self.who(peer)}")
        self.flush_outbox()
        await writer.drain()
        return peer

    async def dial(self, port: int, label: str) -> bytes:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), STEP_TIMEOUT)
        return await self.attach(reader, writer, label)

    async def listen(self) -> int:
        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                await self.attach(r, w, "inbound")
            except Exception as e:  # reported, the demo fails on its own wait
                log(self.name, f"inbound connection failed: {e!r}")
                w.close()

        self.server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        log(self.name, f"listening on 127.0.0.1:{port}")
        return port

    async def expect(self, what: str, pred, timeout: float = STEP_TIMEOUT) -> dmp.Event:
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if pred(ev):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise DemoFailure(f"{self.name}: timed out after {timeout:.0f}s waiting for {what}")
            self.new_event.clear()
            try:
                await asyncio.wait_for(self.new_event.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        for w in list(self.writers.values()):
            try:
                w.write(control(CLOSE, b"Quit"))
                w.close()
            except Exception:
                pass
        if self.server is not None:
            self.server.close()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.agent.close()


# ---------------------------------------------------------------- the Zig node, driven by its stdin/stdout


class Node:
    def __init__(self, exe: str, store: Path, key_file: Path):
        self.exe, self.store, self.key_file = exe, store, key_file
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self.new_line = asyncio.Event()
        self.reader_task: asyncio.Task | None = None
        self.fp = ""
        self.id = ""

    async def run_once(self, *args: str) -> list[str]:
        """Runs the node with stdin closed (= /quit) and returns its stdout lines."""
        proc = await asyncio.create_subprocess_exec(
            self.exe, "--store", str(self.store), "--key-file", str(self.key_file), *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise DemoFailure("node: one-shot run timed out")
        if proc.returncode != 0:
            raise DemoFailure(f"node exited with {proc.returncode}: {err.decode(errors='replace').strip()}")
        lines = out.decode().splitlines()
        for line in lines:
            log("node", f"| {line}")
        return lines

    async def start(self, *args: str) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.exe, "--store", str(self.store), "--key-file", str(self.key_file), *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self.reader_task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        while line := await self.proc.stdout.readline():
            text = line.decode(errors="replace").rstrip("\n")
            self.lines.append(text)
            log("node", f"| {text}")
            self.new_line.set()
        self.new_line.set()

    def mark(self) -> int:
        return len(self.lines)

    async def expect(self, pattern: str, since: int = 0, timeout: float = STEP_TIMEOUT) -> re.Match:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = since
        while True:
            while i < len(self.lines):
                m = rx.search(self.lines[i])
                i += 1
                if m:
                    return m
            if self.proc and self.proc.returncode is not None and self.reader_task and self.reader_task.done():
                raise DemoFailure(f"node exited ({self.proc.returncode}) while waiting for /{pattern}/")
            left = deadline - time.monotonic()
            if left <= 0:
                raise DemoFailure(f"node: timed out after {timeout:.0f}s waiting for a line /{pattern}/")
            self.new_line.clear()
            try:
                await asyncio.wait_for(self.new_line.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def command(self, line: str) -> int:
        assert self.proc and self.proc.stdin
        m = self.mark()
        log("node", f"< {line}")
        self.proc.stdin.write((line + "\n").encode())
        await asyncio.wait_for(self.proc.stdin.drain(), STEP_TIMEOUT)
        return m

    async def quit(self) -> int:
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else 0
        m = await self.command("/quit")
        await self.expect(r"^BYE$", m)
        return await asyncio.wait_for(self.proc.wait(), STEP_TIMEOUT)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self.reader_task is not None:
            self.reader_task.cancel()
            await asyncio.gather(self.reader_task, return_exceptions=True)


# ---------------------------------------------------------------- the scenario


async def scenario(exe: str, tmp: Path) -> dict:
    node_key = tmp / "node.key"
    node_key.write_text(os.urandom(32).hex() + "\n")
    node = Node(exe, tmp / "node.db", node_key)
    p1 = PyAgent("P1", tmp / "p1.db", os.urandom(32))
    p2 = PyAgent("P2", tmp / "p2.db", os.urandom(32))
    summary: dict = {}
    try:
        log("P1", f"agent {p1.fp} (store {tmp / 'p1.db'})")
        log("P2", f"agent {p2.fp} (store {tmp / 'p2.db'})")

        # ---- 1. asynchronous set-up
        step("1. asynchronous set-up: the node publishes its bundle and goes away")
        bundle_path = tmp / "node.bundle"
        lines = await node.run_once("--bundle-out", str(bundle_path))
        agent_line = next((l for l in lines if l.startswith("AGENT ")), None)
        if agent_line is None or not bundle_path.exists():
            raise DemoFailure("node did not publish its bundle")
        _, node.fp, node.id = agent_line.split()
        node_id = bytes.fromhex(node.id)
        for pa in (p1, p2):
            pa.names.update({node_id: "node", p1.id: "P1", p2.id: "P2"})

        step("1. P1 reads the bundle and writes while the node is offline")
        peer = p1.agent.add_bundle(bytes.fromhex(bundle_path.read_text()))
        if peer != node_id:
            raise DemoFailure("the bundle's agent id differs from the node's AGENT line")
        log("P1", f"added the node's bundle ({node.fp}); session: none yet")
        p1.send(node_id, "hello node, written while you were offline")
        p1.send(node_id, "second message, also held")
        if p1.agent.session_state(node_id) != SessionState.INITIATING:
            raise DemoFailure(f"P1's session should be INITIATING, is {p1.agent.session_state(node_id).name}")

        step("1. the node comes back, listening; P1 connects and delivers")
        await node.start("--listen", "127.0.0.1:0")
        port = int((await node.expect(r"^LISTENING (\d+)$")).group(1))
        m = node.mark()
        await p1.dial(port, f"outbound to node :{port}")
        await node.expect(rf"^SESSION {p1.fp} ACTIVE$", m)
        await node.expect(rf"^RECV {p1.fp} hello node, written while you were offline$", m)
        await node.expect(rf"^RECV {p1.fp} second message, also held$", m)

        step("1. the node replies; messages both ways")
        m = await node.command(f"/to {p1.id.hex()} hi P1, this is the Zig node")
        await node.expect(rf"^SENT {p1.fp} \d+$", m)
        ev = await p1.expect("the node's reply", lambda e: e.kind == EventKind.MESSAGE and e.peer == node_id)
        if ev.plaintext != b"hi P1, this is the Zig node":
            raise DemoFailure(f"P1 got {ev.plaintext!r}")
        if p1.agent.session_state(node_id) != SessionState.ACTIVE:
            raise DemoFailure("P1's session with the node is not ACTIVE after the reply")
        node_sent = 1
        for i in range(1, 4):
            text = f"ping {i} from python"
            m = node.mark()
            p1.send(node_id, text)
            await node.expect(rf"^RECV {p1.fp} {re.escape(text)}$", m)
            m = await node.command(f"pong {i} from zig")  # the current peer: P1, the first to connect
            node_sent += 1
            ev = await p1.expect(f"pong {i}", lambda e: e.kind == EventKind.MESSAGE and e.peer == node_id)
            if ev.plaintext != f"pong {i} from zig".encode():
                raise DemoFailure(f"P1 got {ev.plaintext!r}, expected pong {i}")
        log("P1", f"session with node: {p1.agent.session_state(node_id).name}")

        # ---- 2. a group of three
        step("2. P2 joins the network: dials the node, P1 listens for P2")
        m = node.mark()
        await p2.dial(port, f"outbound to node :{port}")
        await node.expect(rf"^HELLO \d+ {p2.fp} ", m)
        # P2 starts its session with the node before any group traffic: if both sides initiated at
        # once (P2's sender key and the node's crossing), each would hold two sessions and which one
        # is primary on each side varies from run to run (see the report in demo/README.md).
        m = node.mark()
        p2.send(node_id, "hello node, this is P2")
        await node.expect(rf"^RECV {p2.fp} hello node, this is P2$", m)
        m = await node.command(f"/to {p2.id.hex()} welcome P2")
        node_sent += 1
        ev = await p2.expect("the node's welcome", lambda e: e.kind == EventKind.MESSAGE and e.peer == node_id)
        if ev.plaintext != b"welcome P2" or p2.agent.session_state(node_id) != SessionState.ACTIVE:
            raise DemoFailure(f"P2 got {ev.plaintext!r}, session {p2.agent.session_state(node_id).name}")
        p1_port = await p1.listen()
        await p2.dial(p1_port, f"outbound to P1 :{p1_port}")
        for _ in range(int(STEP_TIMEOUT * 10)):
            if p2.id in p1.writers:
                break
            await asyncio.sleep(0.1)
        else:
            raise DemoFailure("P1 never saw P2's HELLO")

        step("2. P1 creates the group and adds the node and P2")
        gid = p1.agent.group_create()
        g = gid.hex()
        log("P1", f"group-create {g}")
        m = node.mark()
        p1.group_add(gid, node_id)
        p1.group_add(gid, p2.id)
        await node.expect(rf"^GROUP-KEY {g} {p1.fp}$", m)  # invitation accepted, its key goes back
        await p2.expect("P1's invitation", lambda e: e.kind == EventKind.DISTRIBUTION_CONSUMED and e.peer == p1.id)
        await p1.expect("the node's key", lambda e: e.kind == EventKind.DISTRIBUTION_CONSUMED and e.peer == node_id)
        await p1.expect("P2's key", lambda e: e.kind == EventKind.DISTRIBUTION_CONSUMED and e.peer == p2.id)

        step("2. P2 and the node add each other (every member adds every other)")
        m = node.mark()
        p2.group_add(gid, node_id)  # the node has not added P2 yet: it refuses and keeps the key
        await node.expect(rf"^REFUSED \d+ {p2.fp} UnknownSender", m)
        m = await node.command(f"/group {g}")
        await node.expect(rf"^CURRENT-GROUP {g}$", m)
        m = await node.command(f"/group-add {p2.id.hex()}")
        await node.expect(rf"^GROUP-KEY {g} {p2.fp}$", m)  # the kept key, taken in
        await node.expect(rf"^GROUP-ADDED {g} {p2.fp}$", m)
        await p2.expect("the node's key", lambda e: e.kind == EventKind.DISTRIBUTION_CONSUMED and e.peer == node_id)
        m = await node.command("/group-members")
        mm = await node.expect(rf"^MEMBERS {g} (\d+)(.*)$", m)
        node_members = set(mm.group(2).split())
        if int(mm.group(1)) != 2 or node_members != {p1.fp, p2.fp}:
            raise DemoFailure(f"node's members: {mm.group(0)}")
        for pa, others in ((p1, {node_id, p2.id}), (p2, {node_id, p1.id})):
            got = set(pa.agent.group_members(gid))
            if got != others:
                raise DemoFailure(f"{pa.name}'s members: {[pa.who(x) for x in got]}")
            log(pa.name, f"members of {short(gid)}: {', '.join(sorted(pa.who(x) for x in got))}")

        step("2. group messages from all three, each received by the two others")
        node_group_sent = 0
        for rnd in range(1, 3):
            for sender in (p1, p2):
                text = f"group message {rnd} from {sender.name}"
                m = node.mark()
                sender.group_send(gid, text)
                other = p2 if sender is p1 else p1
                await node.expect(rf"^GROUP {g} {sender.fp} {re.escape(text)}$", m)
                ev = await other.expect(text, lambda e, s=sender: e.kind == EventKind.GROUP_MESSAGE and e.peer == s.id)
                if ev.plaintext != text.encode() or ev.group_id != gid:
                    raise DemoFailure(f"{other.name} got {ev.plaintext!r}")
            text = f"group message {rnd} from node"
            m = await node.command(f"/group-send {text}")
            await node.expect(rf"^GROUP-SENT {g} 2$", m)
            node_group_sent += 1
            for pa in (p1, p2):
                ev = await pa.expect(text, lambda e: e.kind == EventKind.GROUP_MESSAGE and e.peer == node_id)
                if ev.plaintext != text.encode():
                    raise DemoFailure(f"{pa.name} got {ev.plaintext!r}")

        # ---- 3. summary
        step("3. summary")
        m = await node.command("/peers")
        await node.expect(r"^LIST-END$", m)
        node_states = {}
        for line in node.lines[m:]:
            if line.startswith("LIST "):
                _, fp, _, state, online, _waiting = line.split()
                node_states[{p1.fp: "P1", p2.fp: "P2"}.get(fp, fp[:8])] = f"{state} {online}"
        node_recv = sum(1 for l in node.lines if l.startswith("RECV "))
        node_grecv = sum(1 for l in node.lines if l.startswith("GROUP "))
        for pa in (p1, p2):
            states = ", ".join(f"{pa.who(x)} {pa.agent.session_state(x).name}" for x in sorted(pa.agent.peers, key=pa.who))
            s = pa.stats
            print(f"  {pa.name:<5} sent {s['sent']}, received {s['received']}, group sent {s['group_sent']}, "
                  f"group received {s['group_received']}, sender keys taken in {s['keys']}; sessions: {states}")
        print(f"  node  sent {node_sent}, received {node_recv}, group sent {node_group_sent}, "
              f"group received {node_grecv}; sessions: "
              + ", ".join(f"{k} {v}" for k, v in sorted(node_states.items())))
        summary = {"p1": dict(p1.stats), "p2": dict(p2.stats), "node_recv": node_recv,
                   "node_group_recv": node_grecv, "node_states": node_states}
        checks = [
            (p1.stats["sent"], 5, "P1 sent"), (p1.stats["received"], 4, "P1 received"),
            (node_recv, 6, "node received"), (p2.stats["received"], 1, "P2 received"), (p1.stats["group_received"], 4, "P1 group received"),
            (p2.stats["group_received"], 4, "P2 group received"), (node_grecv, 4, "node group received"),
        ]
        for got, want, what in checks:
            if got != want:
                raise DemoFailure(f"{what}: {got}, expected {want}")
        for a, b, state in ((p1, p2, p1.agent.session_state(p2.id)), (p2, p1, p2.agent.session_state(p1.id)),
                            (p1, "node", p1.agent.session_state(node_id)), (p2, "node", p2.agent.session_state(node_id))):
            if state != SessionState.ACTIVE:
                raise DemoFailure(f"{a.name}'s session with {b if isinstance(b, str) else b.name} is {state.name}, not ACTIVE")
        for who in ("P1", "P2"):
            if not node_states.get(who, "").startswith("ACTIVE"):
                raise DemoFailure(f"the node's session with {who} is {node_states.get(who)}, not ACTIVE")

        status = await node.quit()
        if status != 0:
            raise DemoFailure(f"node exited with status {status}")
        log("node", "exited 0")
        return summary
    finally:
        await node.kill()
        await p1.close()
        await p2.close()


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node", required=True, help="path to dmp-node")
    ap.add_argument("--timeout", type=float, default=50.0, help="the whole scenario (seconds)")
    args = ap.parse_args()
    print(f"DMP cross-language demo: dmp {dmp.version()}, node {args.node}")
    with tempfile.TemporaryDirectory(prefix="dmp-demo-") as tmp:
        try:
            await asyncio.wait_for(scenario(args.node, Path(tmp)), args.timeout)
        except asyncio.TimeoutError:
            print(f"\nDEMO FAILED: the scenario did not finish within {args.timeout:.0f}s", file=sys.stderr)
            return 1
        except DemoFailure as e:
            print(f"\nDEMO FAILED: {e}", file=sys.stderr)
            return 1
        except DmpError as e:
            print(f"\nDEMO FAILED: library error {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    print(f"\nDEMO OK in {time.monotonic() - T0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
