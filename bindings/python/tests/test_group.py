"""Group (Sender Keys), three members, distributions handed over directly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import dmp
from dmp import Group, Identity
from dmp.constants import DISTRIBUTION_LEN, GROUP_ID_LEN

Members = tuple[list[Identity], list[Group]]


@pytest.fixture
def trio() -> Iterator[Members]:
    ids = [Identity.generate() for _ in range(3)]
    gid = dmp.crypto.random_bytes(GROUP_ID_LEN)
    groups = [Group.create(i, gid) for i in ids]
    # Everyone adds everyone and takes in everyone's distribution (over pairwise sessions in real
    # life; handed over directly here).
    for gi, me in zip(groups, ids):
        for other in ids:
            if other is not me:
                gi.add_member(other.agent_id)
    for gi, me in zip(groups, ids):
        d = gi.distribution()
        assert len(d) == DISTRIBUTION_LEN
        for gj, other in zip(groups, ids):
            if other is not me:
                gj.process_distribution(me.agent_id, d)
    try:
        yield ids, groups
    finally:
        for g in groups:
            g.close()
        for i in ids:
            i.close()


def test_members_and_ids(trio: Members) -> None:
    ids, (ga, gb, gc) = trio
    assert ga.group_id == gb.group_id == gc.group_id
    assert ga.member_count == 2
    assert ga.members == sorted([ids[1].agent_id, ids[2].agent_id])
    assert ga.key_id == 1
    assert "members=2" in repr(ga)


def test_encrypt_once_for_everyone(trio: Members) -> None:
    ids, (ga, gb, gc) = trio
    env = ga.encrypt(b"to the group")
    assert len(env) == ga.encrypted_len(len(b"to the group"))
    assert gb.decrypt(env) == (ids[0].agent_id, b"to the group")
    assert gc.decrypt(env) == (ids[0].agent_id, b"to the group")
    env = gc.encrypt(b"from c")
    assert ga.decrypt(env) == (ids[2].agent_id, b"from c")
    assert gb.decrypt(env) == (ids[2].agent_id, b"from c")
    assert gb.decrypt(ga.encrypt(b"")) == (ids[0].agent_id, b"")


def test_refusals(trio: Members) -> None:
    ids, (ga, gb, gc) = trio
    env = ga.encrypt(b"hello")
    assert gb.decrypt(env)[1] == b"hello"
    with pytest.raises(dmp.Duplicate):
        gb.decrypt(env)
    bad = bytearray(ga.encrypt(b"tampered"))
    bad[-70] ^= 1  # inside the signed part
    with pytest.raises((dmp.BadSignature, dmp.AuthFailed)):
        gc.decrypt(bytes(bad))
    with pytest.raises(dmp.BadEnvelope):
        gc.decrypt(ga.encrypt(b"cut")[:20])
    with pytest.raises(dmp.UnsupportedVersion):
        gc.decrypt(b"\x00\x01")
    # Another group, and someone not in ours.
    with Identity.generate() as dave, Group.create(dave) as other:
        other.add_member(ids[1].agent_id)
        with pytest.raises(dmp.WrongSession):
            gb.decrypt(other.encrypt(b"wrong group"))
        with Group.create(dave, ga.group_id) as intruder:
            with pytest.raises(dmp.UnknownSender):
                gb.decrypt(intruder.encrypt(b"not a member"))
            with pytest.raises(dmp.UnknownSender):
                gb.process_distribution(dave.agent_id, intruder.distribution())
    with pytest.raises(dmp.Duplicate):
        gb.process_distribution(ids[0].agent_id, ga.distribution())


def test_remove_member_rotates_the_key(trio: Members) -> None:
    ids, (ga, gb, gc) = trio
    ga.remove_member(ids[2].agent_id)
    assert ga.key_id == 2 and ga.member_count == 1
    gb.process_distribution(ids[0].agent_id, ga.distribution())
    env = ga.encrypt(b"without c")
    assert gb.decrypt(env)[1] == b"without c"
    with pytest.raises(dmp.UnknownKeyId):
        gc.decrypt(env)
    with pytest.raises(dmp.MemberRemoved):
        ga.decrypt(gc.encrypt(b"still here"))
    with pytest.raises(dmp.UnknownSender):
        ga.remove_member(ids[2].agent_id)


def test_rotate_and_superseded_key(trio: Members) -> None:
    ids, (ga, gb, _) = trio
    old = ga.encrypt(b"under key 1")
    ga.rotate()
    assert ga.key_id == 2
    gb.process_distribution(ids[0].agent_id, ga.distribution())
    for _ in range(dmp.constants.GROUP_KEY_GRACE_MESSAGES + 1):
        gb.decrypt(ga.encrypt(b"new"))
    with pytest.raises(dmp.SupersededKey):
        gb.decrypt(old)


def test_add_member_refusals(trio: Members) -> None:
    ids, (ga, _, _) = trio
    with pytest.raises(dmp.InvalidArgument):
        ga.add_member(ids[1].agent_id)  # already a member
    with pytest.raises(dmp.InvalidArgument):
        ga.add_member(ids[0].agent_id)  # ourselves
    with pytest.raises(ValueError):
        ga.add_member(bytes(31))


def test_too_far_ahead_and_limits(trio: Members) -> None:
    ids, (ga, gb, _) = trio
    gb.set_limits(2, 5)
    for _ in range(3):
        ga.encrypt(b"lost")
    with pytest.raises(dmp.TooFarAhead):
        gb.decrypt(ga.encrypt(b"far"))
    with pytest.raises(ValueError):
        gb.set_limits(0, 1)


def test_padding(trio: Members) -> None:
    _, (ga, gb, _) = trio
    ga.set_padding(dmp.Padding.BUCKETS)
    assert len({len(ga.encrypt(b"x" * n)) for n in range(1, 30)}) == 1
    with pytest.raises(dmp.InvalidArgument):
        ga.set_padding(9)  # type: ignore[arg-type]


def test_serialize_round_trip(trio: Members, storage_key: bytes) -> None:
    ids, (ga, gb, _) = trio
    record = gb.serialize(storage_key)
    with Group.deserialize(record, storage_key) as restored:
        assert restored.members == gb.members
        assert restored.decrypt(ga.encrypt(b"after restore")) == (ids[0].agent_id, b"after restore")
    with pytest.raises(dmp.WrongStorageKey):
        Group.deserialize(record, bytes(32))


def test_group_id_and_closed(alice: Identity) -> None:
    g = Group.create(alice)
    assert len(g.group_id) == GROUP_ID_LEN
    with pytest.raises(ValueError):
        Group.create(alice, b"short")
    g.close()
    with pytest.raises(dmp.ClosedError):
        g.encrypt(b"x")
    with pytest.raises(TypeError):
        Group()
