"""Every DMP_ERR_* status has its exception class, carrying the code and the detail."""

from __future__ import annotations

import threading

import pytest

import dmp
from dmp import errors


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def test_every_error_code_of_the_header_has_its_class(header_defines: dict[str, int]) -> None:
    codes = {k: v for k, v in header_defines.items() if k.startswith("DMP_ERR_")}
    assert len(codes) >= 28
    for name, code in codes.items():
        cls = errors.ERRORS_BY_CODE.get(code)
        assert cls is not None, f"{name} ({code}) has no exception class in dmp/errors.py"
        assert issubclass(cls, dmp.DmpError)
        assert cls.code == code and cls.name == name
        assert getattr(dmp, cls.__name__) is cls, f"dmp.{cls.__name__} is not exported"
        # The class name is the code's name (InternalError keeps clear of the builtin-ish Internal).
        assert cls.__name__ in (camel(name[len("DMP_ERR_") :]), "InternalError")
    assert set(errors.ERRORS_BY_CODE) == set(codes.values()), "a class for a code the header lacks"
    assert header_defines["DMP_OK"] == 0


def test_required_names_exist() -> None:
    for n in ("AuthFailed", "Duplicate", "WrongState", "BufferTooSmall", "StoreLocked", "WrongStorageKey"):
        assert issubclass(getattr(dmp, n), dmp.DmpError)


def test_strerror_of_every_code() -> None:
    for code in errors.ERRORS_BY_CODE:
        assert errors.strerror(code)
    assert errors.strerror(0) == "success"
    assert "unknown" in errors.strerror(-9999)


def test_exception_carries_code_and_last_error_detail() -> None:
    with pytest.raises(dmp.BadEnvelope) as info:
        dmp.PrekeyBundle(b"")
    e = info.value
    assert e.code == -5 and e.name == "DMP_ERR_BAD_ENVELOPE"
    assert "dmp_bundle_verify" in e.detail
    assert e.detail == errors.last_error_message()
    assert e.message == errors.strerror(-5)
    assert "DMP_ERR_BAD_ENVELOPE" in str(e) and "-5" in str(e)
    assert isinstance(e, dmp.DmpError)


def test_unknown_code_gives_a_plain_dmp_error() -> None:
    e = errors.error_for(-999)
    assert type(e) is dmp.DmpError and e.code == -999


def test_check_raises_the_mapped_class() -> None:
    errors.check(0)
    for code, cls in errors.ERRORS_BY_CODE.items():
        with pytest.raises(cls) as info:
            errors.check(code)
        assert info.value.code == code


def test_detail_is_per_thread() -> None:
    seen: dict[str, str] = {}

    def fail(tag: str, data: bytes) -> None:
        try:
            dmp.Session.deserialize(data, bytes(32))
        except dmp.DmpError as e:
            seen[tag] = e.detail

    ts = [threading.Thread(target=fail, args=(str(i), bytes([i]) * (i + 1))) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(seen) == 4 and all("dmp_session_deserialize" in d for d in seen.values())


def test_records_of_another_kind_are_bad_state(alice: dmp.Identity, bob: dmp.Identity, storage_key: bytes) -> None:
    with dmp.Session.initiate(alice, bob.bundle()) as s, dmp.Group.create(alice) as g:
        records = {
            dmp.Identity: alice.serialize(storage_key),
            dmp.Session: s.serialize(storage_key),
            dmp.Group: g.serialize(storage_key),
        }
    for kind, record in records.items():
        for cls in (dmp.Identity, dmp.Session, dmp.Group):
            if cls is kind:
                cls.deserialize(record, storage_key).close()
            else:
                with pytest.raises(dmp.BadState):
                    cls.deserialize(record, storage_key)


def test_a_handle_of_another_kind_is_invalid_argument(alice: dmp.Identity, bob: dmp.Identity) -> None:
    from ctypes import POINTER, byref, c_int32, cast

    from dmp._lib import dmp_identity_t, lib

    with dmp.Session.initiate(alice, bob.bundle()) as s, s._use() as p:
        v = c_int32()
        assert lib.dmp_identity_suite(cast(p, POINTER(dmp_identity_t)), byref(v)) == dmp.InvalidArgument.code
        assert "not a dmp_identity_t" in errors.last_error_message()


def test_null_pointers_are_refused_by_the_library() -> None:
    # The binding never passes NULL; the library refuses it with NullPointer all the same.
    from ctypes import byref, c_int32

    from dmp._lib import lib

    v = c_int32()
    assert lib.dmp_session_state(None, byref(v)) == dmp.NullPointer.code
    assert lib.dmp_x25519_public(None, None) == dmp.NullPointer.code
    assert lib.dmp_aead_seal(None, None, 0, None, 0, None, 0, None) == dmp.NullPointer.code
