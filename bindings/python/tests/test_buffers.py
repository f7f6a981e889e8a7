"""The C ABI's output-buffer convention, which the binding relies on to size buffers for the
user: a too-small buffer (NULL with cap 0 included) fails with DMP_ERR_BUFFER_TOO_SMALL, reports
the size needed in *out_len, and changes nothing."""

from __future__ import annotations

from ctypes import POINTER, byref, c_size_t, c_uint64, create_string_buffer

import dmp
from dmp import crypto
from dmp._lib import dmp_session_t, lib

BTS = dmp.BufferTooSmall.code


def test_identity_bundle_query_hands_out_no_prekey(alice: dmp.Identity) -> None:
    n = c_size_t()
    with alice._use() as p:
        assert lib.dmp_identity_bundle(p, 1, None, 0, byref(n)) == BTS
        assert n.value == dmp.constants.BUNDLE_MAX_LEN
        small = create_string_buffer(100)
        assert lib.dmp_identity_bundle(p, 1, small, 100, byref(n)) == BTS
    assert alice.one_time_prekey_count == 0
    assert len(alice.bundle(True)) == n.value
    assert alice.one_time_prekey_count == 1


def test_accept_query_creates_and_consumes_nothing(alice: dmp.Identity, bob: dmp.Identity) -> None:
    with dmp.Session.initiate(alice, bob.bundle(True)) as s:
        env = s.encrypt(b"hello there")
    n = c_size_t()
    with bob._use() as p:
        for cap in (0, 5):
            out = POINTER(dmp_session_t)()
            buf = create_string_buffer(cap) if cap else None
            assert lib.dmp_session_accept(p, env, len(env), byref(out), buf, cap, byref(n)) == BTS
            assert n.value == len(b"hello there") and not out
    assert bob.one_time_prekey_count == 1  # not consumed
    r, text = dmp.Session.accept(bob, env)
    assert text == b"hello there" and bob.one_time_prekey_count == 0
    r.close()


def test_group_decrypt_query_writes_no_sender(alice: dmp.Identity, bob: dmp.Identity) -> None:
    with dmp.Group.create(alice) as ga, dmp.Group.create(bob, ga.group_id) as gb:
        ga.add_member(bob.agent_id)
        gb.add_member(alice.agent_id)
        gb.process_distribution(alice.agent_id, ga.distribution())
        env = ga.encrypt(b"group text")
        n = c_size_t()
        with gb._use() as p:
            sender = create_string_buffer(32)
            assert lib.dmp_group_decrypt(p, env, len(env), sender, None, 0, byref(n)) == BTS
            assert n.value == len(b"group text") and sender.raw == bytes(32)
        assert gb.decrypt(env) == (alice.agent_id, b"group text")  # still decryptable


def test_aead(alice: dmp.Identity) -> None:
    key = bytes(32)
    n = c_size_t()
    assert lib.dmp_aead_seal(key, None, 0, b"abc", 3, None, 0, byref(n)) == BTS
    assert n.value == 3 + dmp.constants.AEAD_OVERHEAD
    sealed = crypto.aead_seal(key, b"secret data")
    assert lib.dmp_aead_open(key, None, 0, sealed, len(sealed), None, 0, byref(n)) == BTS
    assert n.value == 11
    # On an authentication failure nothing is left in the output buffer.
    bad = bytearray(sealed)
    bad[-1] ^= 1
    out = create_string_buffer(b"\xff" * 11, 11)
    assert lib.dmp_aead_open(key, None, 0, bytes(bad), len(bad), out, 11, byref(n)) == dmp.AuthFailed.code
    assert out.raw == bytes(11)


def test_agent_queries_change_nothing() -> None:
    with dmp.Agent.in_memory() as x, dmp.Agent.in_memory() as y:
        x.add_bundle(y.bundle())
        gid = x.group_create()
        x.group_add(gid, y.agent_id)
        n = c_size_t()
        with x._use() as p:
            peer = create_string_buffer(32)
            seq = c_uint64(7)
            assert lib.dmp_agent_outbox_next(p, peer, None, 0, byref(n), byref(seq)) == BTS and n.value > 0
            assert seq.value == 7  # not written by the size query
            outbox_len = n.value
            assert lib.dmp_agent_group_send(p, gid, b"abc", 3, None, 0, byref(n)) == BTS
            group_len = n.value
            assert lib.dmp_agent_peers(p, None, 0, byref(n)) == BTS and n.value == 32
            assert lib.dmp_agent_fingerprint(p, None, 0, byref(n)) == BTS
            assert n.value == dmp.constants.FINGERPRINT_LEN
        assert x.outbox_count == 1
        entry = x.outbox_next()
        assert entry is not None and entry.peer == y.agent_id and len(entry.envelope) == outbox_len
        assert len(x.group_send(gid, b"abc")) == group_len
