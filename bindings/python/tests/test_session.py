"""Session: lifecycle, every refusal, persistence, buffer sizes."""

from __future__ import annotations

from ctypes import byref, c_int32, c_size_t, create_string_buffer

import pytest

import dmp
from dmp import Identity, PqPolicy, Session, SessionState, Suite
from dmp._lib import lib
from dmp.constants import MAX_PLAINTEXT_LEN, MESSAGE_HEADER_LEN, SESSION_ID_LEN, TAG_LEN
from support import Spy, address_of, open_pair


def test_lifecycle(alice: Identity, bob: Identity) -> None:
    bundle = dmp.PrekeyBundle(bob.bundle(True))
    with Session.initiate(alice, bundle) as a:
        assert a.state is SessionState.DORMANT
        assert a.peer_id == bob.agent_id
        assert len(a.session_id) == SESSION_ID_LEN
        with pytest.raises(dmp.WrongState):
            a.decrypt(b"\x00" * 200)  # nothing to decrypt while DORMANT
        first = a.encrypt(b"first")
        assert a.state is SessionState.INITIATING
        b, text = Session.accept(bob, first)
        with b:
            assert text == b"first"
            assert b.state is SessionState.ACTIVE
            assert b.peer_id == alice.agent_id and b.session_id == a.session_id
            assert a.decrypt(b.encrypt(b"reply")) == b"reply"
            assert a.state is SessionState.ACTIVE
            for i in range(5):
                assert b.decrypt(a.encrypt(b"a%d" % i)) == b"a%d" % i
                assert a.decrypt(b.encrypt(b"b%d" % i)) == b"b%d" % i
            a.end()
            assert a.state is SessionState.CLOSED
            assert a.peer_id == bob.agent_id and len(a.session_id) == SESSION_ID_LEN
            with pytest.raises(dmp.WrongState):
                a.encrypt(b"after end")
            with pytest.raises(dmp.WrongState):
                a.decrypt(b.encrypt(b"to an ended session"))
            with pytest.raises(dmp.WrongState):
                a.serialize(bytes(32))
            with pytest.raises(dmp.WrongState):
                a.encrypted_len(1)
            with pytest.raises(dmp.WrongState):
                a.set_padding(dmp.Padding.BUCKETS)
            with pytest.raises(dmp.WrongState):
                a.set_limits(10, 10)
            with pytest.raises(dmp.WrongState):
                a.end()  # ending twice
    assert a.closed and b.closed


def test_initiator_may_send_many_before_any_reply(alice: Identity, bob: Identity) -> None:
    a = Session.initiate(alice, bob.bundle(True))
    msgs = [a.encrypt(b"m%d" % i) for i in range(4)]
    b, text = Session.accept(bob, msgs[2])  # any first message sets the session up
    assert text == b"m2"
    assert [b.decrypt(m) for m in (msgs[0], msgs[3], msgs[1])] == [b"m0", b"m3", b"m1"]
    a.close()
    b.close()


def test_tampered_envelope_is_refused_and_changes_nothing(pair: tuple[Session, Session]) -> None:
    a, b = pair
    env = a.encrypt(b"payload")
    for i in (len(env) - 1, len(env) - 20, len(env) // 2):
        bad = bytearray(env)
        bad[i] ^= 1
        with pytest.raises(dmp.AuthFailed):
            b.decrypt(bytes(bad))
    assert b.decrypt(env) == b"payload"  # the session did not move


def test_replay_is_duplicate(pair: tuple[Session, Session]) -> None:
    a, b = pair
    env = a.encrypt(b"once")
    assert b.decrypt(env) == b"once"
    with pytest.raises(dmp.Duplicate) as info:
        b.decrypt(env)
    assert info.value.code == -9 and "dmp_session_decrypt" in info.value.detail
    assert b.decrypt(a.encrypt(b"next")) == b"next"


def test_truncated_and_garbage_envelopes(pair: tuple[Session, Session]) -> None:
    a, b = pair
    env = a.encrypt(b"payload")
    for cut in (0, 1, 10, MESSAGE_HEADER_LEN - 1, MESSAGE_HEADER_LEN, MESSAGE_HEADER_LEN + TAG_LEN, len(env) - 1):
        with pytest.raises((dmp.BadEnvelope, dmp.AuthFailed)):
            b.decrypt(env[:cut])
    assert b.decrypt(env) == b"payload"


def test_envelope_of_another_session_is_wrong_session(
    alice: Identity, bob: Identity, pair: tuple[Session, Session]
) -> None:
    a, b = pair
    a2, b2 = open_pair(alice, bob)
    with a2, b2:
        with pytest.raises(dmp.WrongSession):
            b.decrypt(a2.encrypt(b"for the other session"))


def test_too_far_ahead(pair: tuple[Session, Session]) -> None:
    a, b = pair
    b.set_limits(3, 10)
    skipped = [a.encrypt(b"skip") for _ in range(4)]
    far = a.encrypt(b"far")
    with pytest.raises(dmp.TooFarAhead):
        b.decrypt(far)
    assert b.decrypt(skipped[3]) == b"skip"  # within the limit
    assert b.decrypt(far) == b"far"
    with pytest.raises(ValueError):
        b.set_limits(0, 10)
    with pytest.raises(ValueError):
        b.set_limits(10, dmp.constants.MAX_SKIPPED_KEYS_CEILING + 1)


def test_responder_cannot_accept_twice(alice: Identity, bob: Identity) -> None:
    a = Session.initiate(alice, bob.bundle(True))
    first = a.encrypt(b"x")
    b, _ = Session.accept(bob, first)
    with pytest.raises(dmp.UnknownPrekey):  # its one-time prekey is gone
        Session.accept(bob, first)
    with pytest.raises(dmp.WrongMessageType):
        Session.accept(bob, b.encrypt(b"not a first message"))
    a.close()
    b.close()


def test_accept_refuses_garbage_and_foreign_messages(alice: Identity, bob: Identity) -> None:
    with Identity.generate() as carol:
        first = Session.initiate(alice, bob.bundle(True)).encrypt(b"for bob")
        with pytest.raises(dmp.UnknownPrekey):
            Session.accept(carol, first)
    # PROTOCOL section 4.1: accept takes type 1 only, checked before the length and the fields.
    with pytest.raises(dmp.WrongMessageType):
        Session.accept(bob, b"\x01\x02\x03")  # a truncated MESSAGE
    with pytest.raises(dmp.BadEnvelope):
        Session.accept(bob, b"\x01\x01\x03")  # a truncated PREKEY_MESSAGE
    with pytest.raises(dmp.BadEnvelope):
        Session.accept(bob, b"\x02")  # under 2 bytes, whatever the version
    with pytest.raises(dmp.BadEnvelope):
        Session.accept(bob, b"")


def test_own_bundle_is_refused(alice: Identity) -> None:
    with pytest.raises(dmp.InvalidArgument):
        Session.initiate(alice, alice.bundle())


def test_post_quantum_policy(alice: Identity) -> None:
    with Identity.generate(Suite.CLASSICAL) as classical:
        with pytest.raises(dmp.PqRequired):
            Session.initiate(alice, classical.bundle(True))
        with Session.initiate(alice, classical.bundle(True), PqPolicy.ALLOW_CLASSICAL) as a:
            first = a.encrypt(b"classical")
            with pytest.raises(dmp.PqRequired):
                Session.accept(classical, first)
            b, text = Session.accept(classical, first, PqPolicy.ALLOW_CLASSICAL)
            with b:
                assert text == b"classical"
                assert a.decrypt(b.encrypt(b"ok")) == b"ok"
    with pytest.raises(dmp.InvalidArgument):
        Session.initiate(alice, alice.bundle(), 7)  # type: ignore[arg-type]


def test_stripped_hybrid_bundle_fails_its_signature(bob: Identity) -> None:
    # A hybrid bundle cut to the classical size is refused (never silently classical): cut
    # alone, its flags still announce the ML-KEM block (malformed); with the flag cleared too,
    # the signature over the whole bundle no longer matches.
    data = bytearray(bob.bundle())
    with pytest.raises(dmp.BadEnvelope):
        dmp.PrekeyBundle(bytes(data[: dmp.constants.BUNDLE_LEN]))
    data[dmp.constants.BUNDLE_LEN - 1] &= ~0x02  # the flags, the last byte of a classical bundle
    with pytest.raises(dmp.BadSignature):
        dmp.PrekeyBundle(bytes(data[: dmp.constants.BUNDLE_LEN]))


def test_serialize_round_trip(pair: tuple[Session, Session], storage_key: bytes) -> None:
    a, b = pair
    record = b.serialize(storage_key)
    b.close()
    with Session.deserialize(record, storage_key) as restored:
        assert restored.state is SessionState.ACTIVE
        assert restored.decrypt(a.encrypt(b"after restore")) == b"after restore"
        assert a.decrypt(restored.encrypt(b"back")) == b"back"
    with pytest.raises(dmp.WrongStorageKey):
        Session.deserialize(record, bytes(32))
    bad = bytearray(record)
    bad[-1] ^= 1
    with pytest.raises(dmp.WrongStorageKey):
        Session.deserialize(bytes(bad), storage_key)
    with pytest.raises(ValueError):
        Session.deserialize(record, b"")


def test_padding(pair: tuple[Session, Session]) -> None:
    a, b = pair
    plain = len(a.encrypt(b"x"))
    a.set_padding(dmp.Padding.BUCKETS)
    sizes = {len(a.encrypt(b"x" * n)) for n in range(1, 40)}
    assert len(sizes) == 1 and sizes.pop() > plain
    assert b.decrypt(a.encrypt(b"padded")) == b"padded"
    with pytest.raises(dmp.InvalidArgument):
        a.set_padding(5)  # type: ignore[arg-type]


def test_large_and_empty_messages(pair: tuple[Session, Session]) -> None:
    a, b = pair
    big = bytes(range(256)) * (MAX_PLAINTEXT_LEN // 256)
    assert len(big) == MAX_PLAINTEXT_LEN
    env = a.encrypt(big)
    assert len(env) == a.encrypted_len(0) + MAX_PLAINTEXT_LEN
    assert b.decrypt(env) == big
    assert b.decrypt(a.encrypt(b"")) == b""
    with pytest.raises(dmp.TooLarge):
        a.encrypt(bytes(MAX_PLAINTEXT_LEN + 1))
    with pytest.raises(dmp.TooLarge):
        a.encrypted_len(MAX_PLAINTEXT_LEN + 1)


def test_encrypted_len_is_exact(alice: Identity, bob: Identity) -> None:
    a = Session.initiate(alice, bob.bundle(True))
    for n in (0, 1, 100, 5000):
        assert len(a.encrypt(bytes(n))) == a.encrypted_len(n)
    a.close()


def test_buffer_too_small_changes_nothing_and_reports_the_size(alice: Identity, bob: Identity) -> None:
    # The raw convention the binding relies on: NULL out with cap 0 asks for the size.
    a = Session.initiate(alice, bob.bundle(True))
    with a._use() as p:
        n = c_size_t()
        assert lib.dmp_session_encrypt(p, b"hello", 5, None, 0, byref(n)) == dmp.BufferTooSmall.code
        assert n.value == a.encrypted_len(5)
        small = create_string_buffer(10)
        assert lib.dmp_session_encrypt(p, b"hello", 5, small, 10, byref(n)) == dmp.BufferTooSmall.code
        assert "need" in dmp.errors.last_error_message()
        state = c_int32()
        assert lib.dmp_session_state(p, byref(state)) == 0 and state.value == SessionState.DORMANT
    first = a.encrypt(b"hello")
    b, _ = Session.accept(bob, first)
    env = b.encrypt(b"a reply of some length")
    with a._use() as p:
        for cap in (0, 3):
            out = create_string_buffer(cap) if cap else None
            assert lib.dmp_session_decrypt(p, env, len(env), out, cap, byref(n)) == dmp.BufferTooSmall.code
            assert n.value == len(b"a reply of some length")
    assert a.decrypt(env) == b"a reply of some length"  # the same envelope, still decryptable
    a.close()
    b.close()


def test_decrypt_needs_one_call_when_unpadded(monkeypatch: pytest.MonkeyPatch, pair: tuple[Session, Session]) -> None:
    # The binding's first buffer (envelope - header - tag - framing byte) is the exact plaintext
    # size of an unpadded MESSAGE with short counters: no size query, no retry.
    a, b = pair
    spy = Spy(monkeypatch, "dmp_session_decrypt")
    for n in (0, 1, 1000):
        env = a.encrypt(bytes(n))
        assert len(env) == MESSAGE_HEADER_LEN + TAG_LEN + 1 + n
        before = spy.calls
        assert b.decrypt(env) == bytes(n)
        assert spy.calls == before + 1


def test_binding_retries_when_its_first_guess_is_small(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[Session, Session]
) -> None:
    a, b = pair
    spy = Spy(monkeypatch, "dmp_session_serialize")
    record = b.serialize(bytes(32))  # size query, then the exact size
    assert spy.calls == 2 and len(record) > 100


def test_wrong_length_inputs_raise_before_c(monkeypatch: pytest.MonkeyPatch, pair: tuple[Session, Session]) -> None:
    a, _ = pair
    Spy(monkeypatch, "dmp_session_serialize", forbid=True)
    Spy(monkeypatch, "dmp_session_deserialize", forbid=True)
    for key in (b"", bytes(16), bytes(64)):
        with pytest.raises(ValueError):
            a.serialize(key)
        with pytest.raises(ValueError):
            Session.deserialize(b"record", key)
    with pytest.raises(ValueError):
        a.serialize(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        a.encrypt("text")  # type: ignore[arg-type]


def test_closed_session_handle(alice: Identity, bob: Identity, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = open_pair(alice, bob)
    addr_a, addr_b = address_of(a), address_of(b)
    spy = Spy(monkeypatch, "dmp_session_free")
    env = a.encrypt(b"x")
    b.close()
    assert spy.count(addr_b) == 1
    with pytest.raises(dmp.ClosedError, match="Session is closed"):
        b.decrypt(env)
    with pytest.raises(dmp.ClosedError):
        _ = b.state
    with pytest.raises(dmp.ClosedError):
        b.end()
    b.close()
    del b
    assert spy.count(addr_b) == 1
    a.close()
    assert spy.count(addr_a) == 1 and spy.count(addr_b) == 1
