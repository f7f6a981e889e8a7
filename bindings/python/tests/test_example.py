"""The asyncio example: its framing (that of zig/src/transport.zig) and a full run."""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
from types import ModuleType

import pytest

import dmp
from support import BINDING, REPO, load_tool

EXAMPLE = BINDING / "examples" / "asyncio_agent.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_tool("dmp_asyncio_example", EXAMPLE)


def read(example: ModuleType, data: bytes, eof: bool = True) -> bytes | None:
    async def go() -> bytes | None:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        if eof:
            reader.feed_eof()
        result: bytes | None = await example.read_frame(reader)
        return result

    return asyncio.run(go())


def test_frame_constants_match_the_zig_transport(example: ModuleType) -> None:
    assert example.MAX_FRAME_LEN == dmp.constants.MAX_ENVELOPE_LEN + 16
    assert example.HEADER.format == ">I" and example.HEADER.size == 4
    zig = REPO / "zig" / "src" / "transport.zig"
    text = zig.read_text()  # the Zig transport's frame constants are ours
    assert "c.DMP_MAX_ENVELOPE_LEN + 16" in text
    assert "pub const header_len = 4;" in text


def test_read_frames(example: ModuleType) -> None:
    assert read(example, struct.pack(">I", 3) + b"abc") == b"abc"
    assert read(example, b"") is None  # a clean close between frames
    big = bytes(example.MAX_FRAME_LEN)
    assert read(example, struct.pack(">I", len(big)) + big) == big


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (struct.pack(">I", 0), "empty frame"),
        (struct.pack(">I", dmp.constants.MAX_ENVELOPE_LEN + 17), "above the maximum"),
        (struct.pack(">I", 0xFFFFFFFF), "above the maximum"),
        (b"\x00\x00", "inside a length prefix"),
        (struct.pack(">I", 10) + b"short", "inside a frame"),
    ],
)
def test_refused_frames(example: ModuleType, data: bytes, match: str) -> None:
    with pytest.raises(example.FrameError, match=match):
        read(example, data)


def test_write_refuses_empty_and_oversized_frames(example: ModuleType) -> None:
    async def go(payload: bytes) -> None:
        class NoWriter:
            def write(self, _: bytes) -> None:
                raise AssertionError("nothing may be sent")

        await example.write_frame(NoWriter(), payload)

    with pytest.raises(example.FrameError, match="empty"):
        asyncio.run(go(b""))
    with pytest.raises(example.FrameError, match="maximum"):
        asyncio.run(go(bytes(example.MAX_FRAME_LEN + 1)))


def test_the_example_runs(tmp_path: object) -> None:
    env = dict(os.environ)
    r = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for needle in (
        "listening on 127.0.0.1:",
        "session INITIATING",
        "session ACTIVE (new session)",
        "replayed envelope refused: DMP_ERR_DUPLICATE",
        "ack 3: standing by",
        "both agents closed; done",
    ):
        assert needle in out, out
