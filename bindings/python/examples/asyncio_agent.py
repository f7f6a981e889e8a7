#!/usr/bin/env python3
"""Two DMP agents talk over loopback TCP with asyncio, printing the session lifecycle.

The worker listens on 127.0.0.1 (port 0: the kernel picks one); the planner dials it. Frames are
those of the Zig reference transport (zig/src/transport.zig): a u32 big-endian length, then that
many bytes of one DMP envelope. A zero length, a length above MAX_FRAME_LEN (DMP_MAX_ENVELOPE_LEN
+ 16) or a connection that ends inside a frame is refused and the connection closed; an end of
stream between frames is a clean close. Each frame must arrive within 10 s.

The conversation: the worker sends its prekey bundle as the first frame; the planner verifies it
and sends its first message (which sets up the session); they then exchange messages both ways,
the planner shows that a replayed envelope is refused, and both close.

Run: python3 examples/asyncio_agent.py   (exit status 0 on success)
"""

from __future__ import annotations

import asyncio
import struct
import sys
from pathlib import Path

try:
    import dmp
except ImportError:  # run from the source tree without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import dmp

from dmp import Agent, DmpError, EventKind, PrekeyBundle

HEADER = struct.Struct(">I")
"""The length prefix: u32, big-endian."""
MAX_FRAME_LEN = dmp.constants.MAX_ENVELOPE_LEN + 16
"""The largest payload a frame may carry (the Zig transport's default_max_frame_len)."""
FRAME_TIMEOUT = 10.0
"""Seconds for one whole frame to arrive or leave (the Zig transport's default)."""


class FrameError(Exception):
    """A refused frame: the connection is closed, as the byte stream cannot be trusted."""


async def write_frame(writer: asyncio.StreamWriter, payload: bytes, max_len: int = MAX_FRAME_LEN) -> None:
    """Sends one frame. Empty or oversized payloads are refused before any byte is sent."""
    if not payload:
        raise FrameError("refusing to send an empty frame")
    if len(payload) > max_len:
        raise FrameError(f"refusing to send a {len(payload)}-byte frame (maximum {max_len})")
    writer.write(HEADER.pack(len(payload)) + payload)
    await asyncio.wait_for(writer.drain(), FRAME_TIMEOUT)


async def read_frame(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None = None, max_len: int = MAX_FRAME_LEN
) -> bytes | None:
    """Receives one frame, or None if the peer closed cleanly between frames. A refused frame
    raises FrameError and closes the connection (if ``writer`` is given)."""
    try:
        try:
            header = await asyncio.wait_for(reader.readexactly(HEADER.size), FRAME_TIMEOUT)
        except asyncio.IncompleteReadError as e:
            if not e.partial:
                return None
            raise FrameError(f"connection ended inside a length prefix ({len(e.partial)} of 4 bytes)") from None
        (length,) = HEADER.unpack(header)
        if length == 0:
            raise FrameError("empty frame (zero length prefix)")
        if length > max_len:
            raise FrameError(f"frame of {length} bytes is above the maximum {max_len}")
        try:
            return await asyncio.wait_for(reader.readexactly(length), FRAME_TIMEOUT)
        except asyncio.IncompleteReadError as e:
            raise FrameError(f"connection ended inside a frame ({len(e.partial)} of {length} bytes)") from None
    except (FrameError, asyncio.TimeoutError):
        if writer is not None:
            writer.close()
        raise


def short(agent_id: bytes) -> str:
    return agent_id[:4].hex()


ROUNDS = [
    (b"task 1: summarise the logs", b"ack 1: 3 anomalies found"),
    (b"task 2: report the anomalies", b"ack 2: report sent"),
    (b"task 3: stand by", b"ack 3: standing by"),
]


async def worker_side(
    agent: Agent, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, done: asyncio.Future[None]
) -> None:
    try:
        me = "worker "
        bundle = agent.bundle(one_time_prekey=True)
        await write_frame(writer, bundle)
        print(f"{me} published its prekey bundle ({len(bundle)} bytes) over the connection")
        replies = iter(ROUNDS)
        while True:
            frame = await read_frame(reader, writer)
            if frame is None:
                print(f"{me} connection closed by the planner")
                break
            event = agent.receive(frame)
            peer = event.peer
            state = agent.session_state(peer).name
            if event.kind is EventKind.MESSAGE:
                note = " (new session)" if event.new_session else ""
                print(f"{me} <- {event.plaintext.decode()!r}  session {state}{note}")
                _, reply = next(replies)
                await write_frame(writer, agent.send(peer, reply))
                print(f"{me} -> {reply.decode()!r}  session {agent.session_state(peer).name}")
            else:
                print(f"{me} event {event.kind.name}")
        done.set_result(None)
    except BaseException as e:  # hand any failure to main()
        if not done.done():
            done.set_exception(e)
    finally:
        writer.close()


async def planner_side(agent: Agent, port: int) -> None:
    me = "planner"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    print(f"{me} connected to 127.0.0.1:{port}")
    try:
        published = await read_frame(reader, writer)
        if published is None:
            raise RuntimeError("the worker closed before sending its bundle")
        bundle = PrekeyBundle(published)  # verified here
        worker_id = agent.add_bundle(bundle)
        print(f"{me} verified the worker's bundle: {bundle.fingerprint}")
        try:
            agent.session_state(worker_id)
        except dmp.NoSession:
            print(f"{me} session with {short(worker_id)}: none yet")
        for i, (task, expected) in enumerate(ROUNDS):
            envelope = agent.send(worker_id, task)
            await write_frame(writer, envelope)
            print(f"{me} -> {task.decode()!r}  ({len(envelope)} bytes) session {agent.session_state(worker_id).name}")
            frame = await read_frame(reader, writer)
            if frame is None:
                raise RuntimeError("the worker closed the connection early")
            event = agent.receive(frame)
            if event.plaintext != expected or event.peer != worker_id:
                raise RuntimeError(f"unexpected reply {event}")
            print(f"{me} <- {event.plaintext.decode()!r}  session {agent.session_state(worker_id).name}")
            if i == 0:
                # A copy of the worker's first reply, replayed: refused, and nothing changes.
                try:
                    agent.receive(frame)
                    raise RuntimeError("a replayed envelope was accepted")
                except dmp.Duplicate as e:
                    print(f"{me} replayed envelope refused: {e.name} ({e.code})")
    finally:
        writer.close()
        await writer.wait_closed()
    print(f"{me} closed the connection")


async def main() -> int:
    print(f"dmp {dmp.version()} (ABI {dmp.abi_version()}); frames: u32 BE length + envelope, max {MAX_FRAME_LEN} bytes")
    with Agent.in_memory() as worker, Agent.in_memory() as planner:
        print(f"worker  id {worker.fingerprint}")
        print(f"planner id {planner.fingerprint}")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        connections = 0

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            if connections > 1:  # one conversation only
                writer.close()
                return
            await worker_side(worker, reader, writer, done)

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        print(f"worker  listening on 127.0.0.1:{port}")
        async with server:
            await asyncio.wait_for(planner_side(planner, port), 30)
            await asyncio.wait_for(done, 30)
        planner_peers = [short(p) for p in planner.peers]
        worker_peers = [short(p) for p in worker.peers]
        print(f"planner sessions: {planner_peers}, worker sessions: {worker_peers}")
    print("both agents closed; done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except (DmpError, FrameError, RuntimeError, OSError, asyncio.TimeoutError) as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
