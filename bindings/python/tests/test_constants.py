"""Constants against include/dmp.h and the library's size functions."""

from __future__ import annotations

from enum import Enum

import pytest

import dmp
from dmp import constants
from dmp._lib import lib

ENUMS: dict[str, type[Enum]] = {
    "DMP_SESSION_": constants.SessionState,
    "DMP_EVENT_": constants.EventKind,
    "DMP_SUITE_": constants.Suite,
    "DMP_PQ_": constants.PqPolicy,
    "DMP_AGENT_": constants.AgentFlag,
    "DMP_PADDING_": constants.Padding,
}


@pytest.mark.parametrize("prefix", sorted(ENUMS))
def test_every_enumeration_of_the_header_is_bound(prefix: str, header_defines: dict[str, int]) -> None:
    enum = ENUMS[prefix]
    defined = {
        k[len(prefix) :]: v for k, v in header_defines.items() if k.startswith(prefix) and not k.endswith("_LEN")
    }
    assert defined, prefix
    for member, value in defined.items():
        assert enum[member].value == value, f"{prefix}{member}"
        assert getattr(constants, prefix + member) == value
    bound = {m.name for m in enum if m.name != "NONE" or prefix != "DMP_AGENT_"}  # type: ignore[union-attr]
    assert bound == set(defined), f"{enum.__name__} has members the header lacks"


def test_sizes_agree_with_the_header_and_the_library(header_defines: dict[str, int]) -> None:
    for name in constants.SIZE_NAMES:
        value = getattr(constants, name)
        assert header_defines["DMP_" + name] == value, name
        assert getattr(lib, "dmp_" + name.lower())() == value, name
        assert getattr(constants, "DMP_" + name) == value
    # Every size function of the header is bound as a constant.
    from dmp._lib import FUNCTIONS

    size_fns = {
        n
        for n, (_, args, _) in FUNCTIONS.items()
        if not args and n not in ("dmp_last_error_message", "dmp_version", "dmp_abi_version")
    }
    assert {"dmp_" + n.lower() for n in constants.SIZE_NAMES} == size_fns


def test_abi_and_frame_constants(header_defines: dict[str, int]) -> None:
    assert header_defines["DMP_ABI_VERSION"] == constants.ABI_VERSION == dmp.abi_version()
    assert constants.AEAD_OVERHEAD == constants.NONCE_LEN + constants.TAG_LEN


def test_session_message_layout() -> None:
    # version, type, session id (8), ratchet key (32), PN and N as one-byte varints; a session
    # message sends no nonce, so it adds header + tag + framing byte = 61 bytes to its plaintext.
    assert constants.SESSION_ID_LEN == 8
    assert constants.MESSAGE_HEADER_LEN == 2 + constants.SESSION_ID_LEN + constants.PUBLIC_KEY_LEN + 2 == 44
    assert constants.MESSAGE_HEADER_LEN + constants.TAG_LEN + 1 == 61
    # A first message adds initiator id, ephemeral key, signed prekey id, flags, one-time prekey id;
    # a hybrid one the ML-KEM block (kind, id, ciphertext).
    assert constants.PREKEY_MESSAGE_HEADER_LEN == constants.MESSAGE_HEADER_LEN + 32 + 32 + 4 + 1 + 4 == 117
    assert (
        constants.HYBRID_PREKEY_MESSAGE_HEADER_LEN
        == constants.PREKEY_MESSAGE_HEADER_LEN + 1 + 4 + constants.KEM_CIPHERTEXT_LEN
        == 1210
    )


def test_enums_are_ints() -> None:
    assert constants.SessionState.ACTIVE == 2
    assert constants.AgentFlag.RETAIN_EVENTS | constants.AgentFlag.ALLOW_CLASSICAL == 5
