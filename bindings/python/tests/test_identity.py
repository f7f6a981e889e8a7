"""Identity and PrekeyBundle."""

from __future__ import annotations

import re

import pytest

import dmp
from dmp import Identity, PrekeyBundle, Suite, crypto
from dmp.constants import BUNDLE_LEN, BUNDLE_MAX_LEN, FINGERPRINT_LEN, HYBRID_BUNDLE_LEN
from support import Spy, address_of

FP = re.compile(r"^[0-9a-f]{4}( [0-9a-f]{4}){7}$")


def test_generate(alice: Identity) -> None:
    assert len(alice.agent_id) == 32 and alice.public_key == alice.agent_id
    assert alice.suite is Suite.HYBRID
    assert FP.match(alice.fingerprint) and len(alice.fingerprint) == FINGERPRINT_LEN
    assert alice.fingerprint == dmp.fingerprint(alice.agent_id)
    assert alice.fingerprint in repr(alice)
    with Identity.generate() as other:
        assert other.agent_id != alice.agent_id


def test_from_seed_gives_the_agent_id_and_fresh_prekeys() -> None:
    seed = bytes([7]) * 32
    with Identity.from_seed(seed) as a, Identity.from_seed(seed) as b, Identity.from_seed(seed, Suite.CLASSICAL) as c:
        assert a.agent_id == b.agent_id == c.agent_id
        ba, bb = a.bundle(), b.bundle()
        assert ba[34:70] != bb[34:70]  # the signed prekey (id and key) is fresh in each copy
        assert c.suite is Suite.CLASSICAL
    with pytest.raises(ValueError, match="32 bytes"):
        Identity.from_seed(bytes(31))
    with pytest.raises(dmp.InvalidArgument):
        Identity.from_seed(seed, 99)  # type: ignore[arg-type]
    with pytest.raises(dmp.InvalidArgument):
        Identity.generate(0)  # type: ignore[arg-type]


def test_constructor_is_not_public() -> None:
    with pytest.raises(TypeError):
        Identity()


def test_sign_verifies_under_the_agent_id(alice: Identity) -> None:
    sig = alice.sign(b"statement")
    crypto.ed25519_verify(alice.agent_id, b"statement", sig)
    with pytest.raises(dmp.BadSignature):
        crypto.ed25519_verify(alice.agent_id, b"other", sig)


def test_sign_refuses_the_protocols_reserved_messages(alice: Identity) -> None:
    # A bundle's signature covers "DMP1 prekey bundle" || bundle bytes: an application
    # signature must never be one.
    for msg in (b"DMP1 prekey bundle" + alice.bundle(), b"DMP", b"DMP2 anything"):
        with pytest.raises(dmp.InvalidArgument):
            alice.sign(msg)
    crypto.ed25519_verify(alice.agent_id, b"DM", alice.sign(b"DM"))


def test_bundle_sizes_and_one_time_prekeys(alice: Identity) -> None:
    assert alice.one_time_prekey_count == 0
    assert len(alice.bundle()) == HYBRID_BUNDLE_LEN
    assert len(alice.bundle(one_time_prekey=True)) == BUNDLE_MAX_LEN
    assert alice.one_time_prekey_count == 1  # generated on demand
    alice.generate_one_time_prekeys(5)
    assert alice.one_time_prekey_count == 6
    with Identity.generate(Suite.CLASSICAL) as c:
        assert len(c.bundle()) == BUNDLE_LEN
        assert len(c.bundle(True)) == BUNDLE_LEN + 36


def test_too_many_one_time_prekeys(alice: Identity) -> None:
    with pytest.raises(dmp.TooLarge):
        alice.generate_one_time_prekeys(dmp.constants.MAX_ONE_TIME_PREKEYS + 1)
    assert alice.one_time_prekey_count == 0
    with pytest.raises(ValueError):
        alice.generate_one_time_prekeys(-1)


def test_prekey_bundle(alice: Identity) -> None:
    data = alice.bundle(True)
    b = PrekeyBundle(data)
    assert b.agent_id == alice.agent_id == PrekeyBundle.verify(data)
    assert bytes(b) == b.data == data and len(b) == len(data)
    assert b.fingerprint == alice.fingerprint
    assert b == PrekeyBundle(data) and hash(b) == hash(PrekeyBundle(data))
    assert "PrekeyBundle" in repr(b)


BUNDLE_REFUSALS = (
    dmp.BadSignature,
    dmp.BadEnvelope,
    dmp.UnsupportedVersion,
    dmp.WrongMessageType,
    dmp.WeakKey,
)


@pytest.mark.parametrize("one_time_prekey", [False, True])
def test_tampered_bundles_are_refused(alice: Identity, one_time_prekey: bool) -> None:
    # One signature covers the whole bundle, the one-time prekey block included.
    data = alice.bundle(one_time_prekey)
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x40
        with pytest.raises(BUNDLE_REFUSALS):
            PrekeyBundle(bytes(bad))
    with pytest.raises(dmp.BadEnvelope):
        PrekeyBundle(data[:-1])
    with pytest.raises(dmp.BadEnvelope):
        PrekeyBundle(b"")
    with pytest.raises(TypeError):
        PrekeyBundle("not bytes")  # type: ignore[arg-type]


def test_rotate_signed_prekey(alice: Identity) -> None:
    first = alice.signed_prekey_id
    assert alice.rotate_signed_prekey() == alice.signed_prekey_id != first


def test_serialize_round_trip_and_wrong_key(alice: Identity, storage_key: bytes) -> None:
    alice.generate_one_time_prekeys(3)
    record = alice.serialize(storage_key)
    with Identity.deserialize(record, storage_key) as restored:
        assert restored.agent_id == alice.agent_id
        assert restored.one_time_prekey_count == 3
        assert restored.signed_prekey_id == alice.signed_prekey_id
    with pytest.raises(dmp.WrongStorageKey):
        Identity.deserialize(record, bytes(32))
    bad = bytearray(record)
    bad[len(bad) // 2] ^= 1
    with pytest.raises(dmp.WrongStorageKey):
        Identity.deserialize(bytes(bad), storage_key)
    with pytest.raises(dmp.DmpError):
        Identity.deserialize(b"", storage_key)
    with pytest.raises(ValueError):
        alice.serialize(storage_key[:16])
    with pytest.raises(ValueError):
        Identity.deserialize(record, storage_key + b"\0")


def test_fingerprint_of_an_invalid_id() -> None:
    # PROTOCOL section 2: a fingerprint exists only for a valid agent id.
    with pytest.raises(dmp.WeakKey):
        dmp.fingerprint(bytes(32))  # y = 0: a point of order 4
    with pytest.raises(dmp.WeakKey):
        dmp.fingerprint(b"\x01" + bytes(31))  # the identity
    with pytest.raises(dmp.BadEnvelope):
        dmp.fingerprint(b"\xff" * 32)  # y >= p: not canonical
    with pytest.raises(dmp.BadEnvelope):
        dmp.fingerprint(b"\xee" + b"\xff" * 30 + b"\x7f")  # y = p + 1: the identity, not canonical
    with pytest.raises(ValueError):
        dmp.fingerprint(bytes(16))


def test_closed_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    i = Identity.generate()
    addr = address_of(i)
    spy = Spy(monkeypatch, "dmp_identity_free")
    assert not i.closed
    i.close()
    assert i.closed and spy.count(addr) == 1
    i.close()  # idempotent
    assert spy.count(addr) == 1
    for op in (lambda: i.agent_id, lambda: i.bundle(), lambda: i.sign(b"x"), lambda: i.serialize(bytes(32))):
        with pytest.raises(dmp.ClosedError, match="Identity is closed"):
            op()
    assert "closed" in repr(i)
    with pytest.raises(dmp.ClosedError):
        with i:
            pass
