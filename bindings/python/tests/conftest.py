"""Fixtures of the binding's tests; helpers are in support.py."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

import dmp
from support import BINDING, HEADER, load_tool, open_pair


@pytest.fixture(scope="session")
def gen_lib() -> ModuleType:
    return load_tool("dmp_gen_lib", BINDING / "tools" / "gen_lib.py")


@pytest.fixture(scope="session")
def header_text() -> str:
    assert HEADER.is_file(), f"{HEADER} is missing"
    return HEADER.read_text()


@pytest.fixture(scope="session")
def header_defines(gen_lib: ModuleType, header_text: str) -> dict[str, int]:
    return gen_lib.parse_defines(header_text)


@pytest.fixture
def storage_key() -> bytes:
    return bytes(range(32))


@pytest.fixture
def alice() -> Iterator[dmp.Identity]:
    with dmp.Identity.generate() as i:
        yield i


@pytest.fixture
def bob() -> Iterator[dmp.Identity]:
    with dmp.Identity.generate() as i:
        yield i


@pytest.fixture
def pair(alice: dmp.Identity, bob: dmp.Identity) -> Iterator[tuple[dmp.Session, dmp.Session]]:
    a, b = open_pair(alice, bob)
    with a, b:
        yield a, b


@pytest.fixture
def agents() -> Iterator[list[dmp.Agent]]:
    """Three in-memory agents, closed after the test."""
    xs = [dmp.Agent.in_memory() for _ in range(3)]
    try:
        yield xs
    finally:
        for x in xs:
            x.close()
