"""dmp.crypto: the raw primitives, their refusals, known-answer vectors and libsodium interop."""

from __future__ import annotations

import array
from concurrent.futures import ThreadPoolExecutor
from ctypes import POINTER, addressof, c_char, c_char_p, c_int32, c_size_t

import nacl.bindings
import nacl.signing
import pytest

from dmp import AuthFailed, BadSignature, InvalidArgument, WeakKey, _lib, _util, crypto, errors
from dmp.constants import AEAD_OVERHEAD, HKDF_MAX_LEN, NONCE_LEN, TAG_LEN
from support import Spy

KEY = bytes(range(32))


# ---- AEAD ----


def test_seal_open_round_trip() -> None:
    for pt in (b"", b"x", b"hello world" * 100, bytes(1 << 20)):
        sealed = crypto.aead_seal(KEY, pt, b"ad")
        assert len(sealed) == len(pt) + AEAD_OVERHEAD
        assert crypto.aead_open(KEY, sealed, b"ad") == pt


def test_seal_uses_a_fresh_nonce() -> None:
    assert crypto.aead_seal(KEY, b"same")[:NONCE_LEN] != crypto.aead_seal(KEY, b"same")[:NONCE_LEN]


def test_open_refuses_tampering_wrong_key_wrong_ad_and_truncation() -> None:
    sealed = crypto.aead_seal(KEY, b"secret", b"ad")
    for i in (0, NONCE_LEN, len(sealed) - 1):
        bad = bytearray(sealed)
        bad[i] ^= 1
        with pytest.raises(AuthFailed):
            crypto.aead_open(KEY, bytes(bad), b"ad")
    with pytest.raises(AuthFailed):
        crypto.aead_open(bytes(32), sealed, b"ad")
    with pytest.raises(AuthFailed):
        crypto.aead_open(KEY, sealed, b"other")
    for n in (0, 1, AEAD_OVERHEAD - 1, len(sealed) - 1):
        with pytest.raises(AuthFailed):
            crypto.aead_open(KEY, sealed[:n], b"ad")


def test_aead_output_opens_with_libsodium() -> None:
    pt, ad = b"interop with libsodium via PyNaCl", b"associated"
    sealed = crypto.aead_seal(KEY, pt, ad)
    nonce, ct = sealed[:NONCE_LEN], sealed[NONCE_LEN:]
    assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, ad, nonce, KEY) == pt
    # No associated data: DMP's empty ad is libsodium's NULL/empty ad.
    sealed = crypto.aead_seal(KEY, pt)
    assert (
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[NONCE_LEN:], None, sealed[:NONCE_LEN], KEY)
        == pt
    )


def test_libsodium_output_opens_with_dmp() -> None:
    nonce = bytes(range(NONCE_LEN))
    ct = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(b"from libsodium", b"ad", nonce, KEY)
    assert len(ct) == len(b"from libsodium") + TAG_LEN
    assert crypto.aead_open(KEY, nonce + ct, b"ad") == b"from libsodium"


def test_every_length_agrees_with_libsodium_both_ways() -> None:
    # Every Poly1305 block boundary and partial block, on the patched AVX2 path (vendor/README.md):
    # DMP's tag must be libsodium's, and each side must open the other's output.
    for n in range(0, 1101):
        pt = bytes((i * 7 + n) & 0xFF for i in range(n))
        ad = bytes(n % 37)
        key = bytes((n + i) & 0xFF for i in range(32))
        sealed = crypto.aead_seal(key, pt, ad)
        nonce, ct = sealed[:NONCE_LEN], sealed[NONCE_LEN:]
        assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, ad, nonce, key) == ct, n
        assert crypto.aead_open(key, sealed, ad) == pt


def test_wrong_length_keys_raise_value_error_before_c(monkeypatch: pytest.MonkeyPatch) -> None:
    Spy(monkeypatch, "dmp_aead_seal", forbid=True)
    Spy(monkeypatch, "dmp_aead_open", forbid=True)
    Spy(monkeypatch, "_aead_seal", forbid=True, owner=crypto)  # the handles crypto calls
    Spy(monkeypatch, "_aead_open", forbid=True, owner=crypto)
    for key in (b"", b"short", bytes(31), bytes(33)):
        with pytest.raises(ValueError, match="32 bytes"):
            crypto.aead_seal(key, b"x")
        with pytest.raises(ValueError, match="32 bytes"):
            crypto.aead_open(key, bytes(64))
    with pytest.raises(ValueError):
        crypto.aead_seal(None, b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_seal("a" * 32, b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_seal(KEY, "text")  # type: ignore[arg-type]


def test_bytes_like_inputs() -> None:
    sealed = crypto.aead_seal(bytearray(KEY), memoryview(b"pt"), bytearray(b"ad"))
    assert crypto.aead_open(memoryview(KEY), bytearray(sealed), b"ad") == b"pt"


AEAD_SIZES = (0, 1, 2, 63, 64, 4096, _util.FRESH_BYTES_ZEROED_MAX - 40, _util.FRESH_BYTES_ZEROED_MAX + 1, 1 << 20)


def test_aead_returns_new_bytes_objects_of_the_exact_size() -> None:
    # The library writes into the returned bytes object itself (see _util.fresh_output): each
    # result must be a new, plain bytes object, equal to libsodium's output, hashable like any.
    for n in AEAD_SIZES:
        pt = bytes((i * 31 + n) & 0xFF for i in range(n))
        a, b = crypto.aead_seal(KEY, pt, b"ad"), crypto.aead_seal(KEY, pt, b"ad")
        assert type(a) is bytes and type(b) is bytes and a is not b and len(a) == n + AEAD_OVERHEAD
        nonce = a[:NONCE_LEN]
        assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, b"ad", nonce, KEY) == a[NONCE_LEN:], n
        opened = crypto.aead_open(KEY, a, b"ad")
        assert type(opened) is bytes and opened == pt and hash(opened) == hash(pt), n
        assert opened is not crypto.aead_open(KEY, b, b"ad") or n == 0
    empty = crypto.aead_open(KEY, crypto.aead_seal(KEY, b""))  # NULL output: nothing written
    assert type(empty) is bytes and empty == b""


def test_aead_failures_at_every_output_path() -> None:
    for n in AEAD_SIZES:
        sealed = bytearray(crypto.aead_seal(KEY, bytes(n), b"ad"))
        sealed[-1] ^= 1
        with pytest.raises(AuthFailed, match="DMP_ERR_AUTH_FAILED"):
            crypto.aead_open(KEY, bytes(sealed), b"ad")
    with pytest.raises(AuthFailed, match="shorter than nonce and tag"):  # the library's detail
        crypto.aead_open(KEY, bytes(AEAD_OVERHEAD - 1))


def test_aead_without_writable_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The path of Python implementations where a bytes argument may be a copy (not CPython):
    # a create_string_buffer is filled, then copied out.
    monkeypatch.setattr(_util, "FRESH_BYTES_ARE_WRITABLE", False)
    monkeypatch.setattr(crypto, "FRESH_BYTES_ARE_WRITABLE", False)
    for n in AEAD_SIZES:
        pt = bytes(range(256)) * (n // 256) + bytes(n % 256)
        sealed = crypto.aead_seal(KEY, pt, b"ad")
        assert type(sealed) is bytes and len(sealed) == n + AEAD_OVERHEAD
        opened = crypto.aead_open(KEY, sealed, b"ad")
        assert type(opened) is bytes and opened == pt
    with pytest.raises(AuthFailed):
        crypto.aead_open(KEY, sealed, b"other")


def test_aead_from_many_threads() -> None:
    # No shared output buffer: every call has its own output and length objects.
    def work(i: int) -> bool:
        key = bytes([i]) * 32
        for r in range(200):
            pt = bytes([i, r & 0xFF]) * (1 + (i * 97 + r * 13) % 3000)
            if crypto.aead_open(key, crypto.aead_seal(key, pt, b"%d" % i), b"%d" % i) != pt:
                return False
        return True

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))


def test_hot_path_checks_the_prototype_against_the_header() -> None:
    # _util.untyped refuses a signature that is not the generated declaration's, so a changed
    # header cannot turn the argtypes-free calls into silently wrong ones.
    args = [c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(c_size_t)]
    assert _util.untyped("dmp_aead_open", c_int32, args) is not crypto._aead_open
    assert _util.untyped("dmp_aead_open", c_int32, args).argtypes is None
    assert _lib.lib.dmp_aead_open.argtypes is not None  # the declared handle is untouched
    with pytest.raises(ImportError, match="no longer matches its C prototype"):
        _util.untyped("dmp_aead_open", c_int32, args[:-1])
    with pytest.raises(ImportError, match="no longer matches"):
        _util.untyped("dmp_aead_open", c_int32, [*args[:-1], POINTER(c_int32)])
    with pytest.raises(ImportError, match="no longer matches"):
        _util.untyped("dmp_aead_open", c_size_t, args)


# ---- AEAD into caller buffers ----


def forbid_aead_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if the library's AEAD functions are called (through either handle)."""
    Spy(monkeypatch, "dmp_aead_seal", forbid=True)
    Spy(monkeypatch, "dmp_aead_open", forbid=True)
    Spy(monkeypatch, "_aead_seal", forbid=True, owner=crypto)
    Spy(monkeypatch, "_aead_open", forbid=True, owner=crypto)


def test_into_round_trips_bytearray_and_memoryview() -> None:
    for n in AEAD_SIZES:
        pt = bytes((i * 13 + n) & 0xFF for i in range(n))
        sealed = bytearray(n + AEAD_OVERHEAD)
        assert crypto.aead_seal_into(KEY, pt, sealed, b"ad") == n + AEAD_OVERHEAD
        assert crypto.aead_open(KEY, bytes(sealed), b"ad") == pt
        out = bytearray(n)
        assert crypto.aead_open_into(KEY, sealed, out, b"ad") == n  # a bytearray input, read in place
        assert out == pt
        # Memoryviews both ways, larger than needed: only the count is written.
        big = bytearray(b"\x5a" * (n + AEAD_OVERHEAD + 9))
        assert crypto.aead_seal_into(KEY, memoryview(pt), memoryview(big), b"ad") == n + AEAD_OVERHEAD
        assert big[n + AEAD_OVERHEAD :] == b"\x5a" * 9
        opened = bytearray(b"\xa5" * (n + 3))
        got = crypto.aead_open_into(KEY, memoryview(big)[: n + AEAD_OVERHEAD], memoryview(opened), b"ad")
        assert got == n and opened[:n] == pt and opened[n:] == b"\xa5" * 3
        assert crypto.aead_open(KEY, bytes(big[: n + AEAD_OVERHEAD]), b"ad") == pt  # bytes in, as aead_open


def test_into_other_writable_buffers() -> None:
    pt = b"into a ctypes array, an array.array, a bytearray plaintext"
    n = len(pt) + AEAD_OVERHEAD
    carr = (c_char * n)()
    assert crypto.aead_seal_into(KEY, bytearray(pt), carr) == n
    words = array.array("I", bytes(64))  # 16 items of 4 bytes: sizes are counted in bytes
    assert crypto.aead_open_into(KEY, memoryview(carr).cast("B"), words) == len(pt)
    assert words.tobytes()[: len(pt)] == pt
    grid = memoryview(bytearray(len(pt))).cast("B", (2, len(pt) // 2))  # 2-D: len() is 2, nbytes all
    assert crypto.aead_open_into(KEY, bytes(carr), grid) == len(pt) and grid.tobytes() == pt


def test_into_interop_with_libsodium_both_ways() -> None:
    ad = b"associated"
    for n in (0, 1, 17, 1000, 1 << 20):
        pt = bytes((i * 3 + n) & 0xFF for i in range(n))
        sealed = bytearray(n + AEAD_OVERHEAD)
        crypto.aead_seal_into(KEY, pt, sealed, ad)
        nonce, ct = bytes(sealed[:NONCE_LEN]), bytes(sealed[NONCE_LEN:])
        assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, ad, nonce, KEY) == pt, n
        nonce = bytes(range(NONCE_LEN))
        theirs = nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, ad, nonce, KEY)
        out = bytearray(n)
        assert crypto.aead_open_into(KEY, theirs, out, ad) == n and out == pt, n


def test_into_writes_at_an_offset_and_nowhere_else() -> None:
    pt = b"written at an offset"
    n = len(pt) + AEAD_OVERHEAD
    buf = bytearray(b"\xee" * (7 + n + len(pt) + 11))
    assert crypto.aead_seal_into(KEY, pt, memoryview(buf)[7:], b"ad") == n
    assert buf[:7] == b"\xee" * 7 and buf[7 + n :] == b"\xee" * (len(pt) + 11)
    assert crypto.aead_open(KEY, bytes(buf[7 : 7 + n]), b"ad") == pt
    # Opened from a slice of the buffer into the slice right after it (apart, so allowed).
    assert crypto.aead_open_into(KEY, memoryview(buf)[7 : 7 + n], memoryview(buf)[7 + n :], b"ad") == len(pt)
    assert buf[:7] == b"\xee" * 7 and buf[7 + n :] == pt + b"\xee" * 11
    room = bytearray(b"\xee" * (3 + len(pt) + 5))
    assert crypto.aead_open_into(KEY, bytes(buf[7 : 7 + n]), memoryview(room)[3:], b"ad") == len(pt)
    assert room == b"\xee" * 3 + pt + b"\xee" * 5


def test_into_too_small_out_raises_value_error_before_c(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_aead_calls(monkeypatch)
    for n in (0, 1, 100):
        out = bytearray(b"\x11" * (n + AEAD_OVERHEAD - 1))
        with pytest.raises(ValueError, match=f"{n + AEAD_OVERHEAD} bytes needed"):
            crypto.aead_seal_into(KEY, bytes(n), out)
        with pytest.raises(ValueError, match=f"{n + AEAD_OVERHEAD} bytes needed"):
            crypto.aead_seal_into(KEY, bytes(n), memoryview(bytearray(100 + n))[: n + AEAD_OVERHEAD - 1])
        assert out == b"\x11" * (n + AEAD_OVERHEAD - 1)
        if n:
            with pytest.raises(ValueError, match=f"{n} bytes needed"):
                crypto.aead_open_into(KEY, bytes(n + AEAD_OVERHEAD), bytearray(n - 1))


def test_into_refuses_read_only_and_non_buffer_out(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_aead_calls(monkeypatch)
    sealed = bytes(AEAD_OVERHEAD + 4)
    for out in (bytes(64), memoryview(bytes(64)), memoryview(bytearray(64)).toreadonly()):
        with pytest.raises(TypeError, match="read-only"):
            crypto.aead_seal_into(KEY, b"pt", out)
        with pytest.raises(TypeError, match="read-only"):
            crypto.aead_open_into(KEY, sealed, out)
    for out in ("a" * 64, None, 64, [0] * 64):
        with pytest.raises(TypeError, match="writable buffer"):
            crypto.aead_seal_into(KEY, b"pt", out)
        with pytest.raises(TypeError, match="writable buffer"):
            crypto.aead_open_into(KEY, sealed, out)
    with pytest.raises(TypeError, match="C-contiguous"):
        crypto.aead_seal_into(KEY, b"pt", memoryview(bytearray(200))[::2])


def test_into_same_key_and_ad_checks_as_aead_seal(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_aead_calls(monkeypatch)
    out = bytearray(100)
    for key in (b"", bytes(31), bytes(33), None):
        with pytest.raises(ValueError, match="32 bytes"):
            crypto.aead_seal_into(key, b"x", out)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="32 bytes"):
            crypto.aead_open_into(key, bytes(64), out)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_seal_into("a" * 32, b"x", out)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_seal_into(KEY, "text", out)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_open_into(KEY, "text", out)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_seal_into(KEY, b"x", out, "ad")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_open_into(KEY, bytes(64), out, "ad")  # type: ignore[arg-type]
    assert out == bytes(100)


def test_into_bytes_like_key_and_ad() -> None:
    sealed = bytearray(2 + AEAD_OVERHEAD)
    crypto.aead_seal_into(bytearray(KEY), b"pt", sealed, memoryview(b"ad"))
    out = bytearray(2)
    crypto.aead_open_into(memoryview(KEY), sealed, out, bytearray(b"ad"))
    assert out == b"pt"


def test_open_into_failure_zeroes_what_it_was_given() -> None:
    for n in AEAD_SIZES:
        sealed = bytearray(n + AEAD_OVERHEAD)
        crypto.aead_seal_into(KEY, b"\x77" * n, sealed, b"ad")
        sealed[-1] ^= 1
        out = bytearray(b"\x33" * (n + 5))
        with pytest.raises(AuthFailed, match="DMP_ERR_AUTH_FAILED"):
            crypto.aead_open_into(KEY, sealed, out, b"ad")
        assert out[:n] == bytes(n) and out[n:] == b"\x33" * 5, n
        sealed[-1] ^= 1
        out = bytearray(b"\x33" * n)
        with pytest.raises(AuthFailed):
            crypto.aead_open_into(KEY, sealed, out, b"other ad")
        assert out == bytes(n)
    # Shorter than nonce and tag: AuthFailed from the library, nothing written.
    out = bytearray(b"\x33" * 8)
    with pytest.raises(AuthFailed, match="shorter than nonce and tag"):
        crypto.aead_open_into(KEY, bytes(AEAD_OVERHEAD - 1), out)
    assert out == b"\x33" * 8


def test_into_refuses_out_overlapping_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = bytearray(300)
    pt_view = memoryview(buf)[:100]
    with monkeypatch.context() as m:
        forbid_aead_calls(m)
        for start in (0, 50, 99):  # out starts inside the plaintext
            with pytest.raises(ValueError, match="overlaps plaintext"):
                crypto.aead_seal_into(KEY, pt_view, memoryview(buf)[start:])
        with pytest.raises(ValueError, match="overlaps plaintext"):  # out ends inside it
            crypto.aead_seal_into(KEY, memoryview(buf)[100:200], memoryview(buf)[:140])
        with pytest.raises(ValueError, match="overlaps plaintext"):  # in place
            crypto.aead_seal_into(KEY, memoryview(buf)[:200], buf)
        with pytest.raises(ValueError, match="overlaps sealed"):
            crypto.aead_open_into(KEY, memoryview(buf)[:100], memoryview(buf)[50:])
        with pytest.raises(ValueError, match="overlaps sealed"):
            crypto.aead_open_into(KEY, buf, buf)
    # Next to each other is fine; a read-only view is copied first, so it may be anywhere.
    assert crypto.aead_seal_into(KEY, pt_view, memoryview(buf)[100:]) == 100 + AEAD_OVERHEAD
    assert crypto.aead_open_into(KEY, memoryview(buf)[100:240], memoryview(buf)[:100]) == 100
    assert buf[:100] == bytes(100)
    assert crypto.aead_seal_into(KEY, pt_view.toreadonly(), buf) == 100 + AEAD_OVERHEAD


def test_into_reads_and_writes_the_caller_buffers_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither the output nor a bytearray input is copied: the library gets pointers into them,
    # and holds them during the call (a bytearray cannot be resized under the library).
    sealed = bytearray(5 + AEAD_OVERHEAD)
    out = bytearray(5)
    seen: list[tuple[int, int]] = []

    def spy(original: object, src: bytearray, dst: bytearray) -> object:
        def call(*args: object) -> object:
            seen.append((addressof(args[3]), addressof(args[5])))  # type: ignore[arg-type]
            for held in (src, dst):
                with pytest.raises(BufferError):
                    held.extend(b"x")
            return original(*args)  # type: ignore[operator]

        return call

    pt = bytearray(b"hello")
    monkeypatch.setattr(crypto, "_aead_seal", spy(crypto._aead_seal, pt, sealed))
    crypto.aead_seal_into(KEY, pt, sealed)
    monkeypatch.setattr(crypto, "_aead_open", spy(crypto._aead_open, sealed, out))
    crypto.aead_open_into(KEY, sealed, out)
    assert out == b"hello"
    at = [addressof((c_char * len(b)).from_buffer(b)) for b in (pt, sealed, out)]
    assert seen == [(at[0], at[1]), (at[1], at[2])]
    sealed.extend(b"x")  # released after the calls
    pt.extend(b"x")


def test_into_from_many_threads() -> None:
    def work(i: int) -> bool:
        key = bytes([i]) * 32
        sealed, out = bytearray(3000 * 2 + AEAD_OVERHEAD), bytearray(3000 * 2)
        for r in range(200):
            pt = bytes([i, r & 0xFF]) * (1 + (i * 97 + r * 13) % 3000)
            n = crypto.aead_seal_into(key, pt, sealed, b"%d" % i)
            if crypto.aead_open_into(key, memoryview(sealed)[:n], out, b"%d" % i) != len(pt):
                return False
            if out[: len(pt)] != pt:
                return False
        return True

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))


# ---- random, memzero ----


def test_random_bytes() -> None:
    assert crypto.random_bytes(0) == b""
    a, b = crypto.random_bytes(32), crypto.random_bytes(32)
    assert len(a) == 32 and a != b
    with pytest.raises(ValueError):
        crypto.random_bytes(-1)
    with pytest.raises(TypeError):
        crypto.random_bytes(1.5)  # type: ignore[arg-type]


def test_memzero() -> None:
    buf = bytearray(b"secret!!")
    crypto.memzero(buf)
    assert buf == bytearray(8)
    crypto.memzero(bytearray())
    with pytest.raises(TypeError):
        crypto.memzero(b"immutable")  # type: ignore[arg-type]


# ---- X25519 ----

RFC7748_A = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
RFC7748_A_PUB = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
RFC7748_B = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
RFC7748_B_PUB = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
RFC7748_SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")


def test_x25519_rfc7748() -> None:
    assert crypto.x25519_public(RFC7748_A) == RFC7748_A_PUB
    assert crypto.x25519_public(RFC7748_B) == RFC7748_B_PUB
    assert crypto.x25519(RFC7748_A, RFC7748_B_PUB) == RFC7748_SHARED
    assert crypto.x25519_dh(RFC7748_B, RFC7748_A_PUB) == RFC7748_SHARED
    assert nacl.bindings.crypto_scalarmult(RFC7748_A, RFC7748_B_PUB) == RFC7748_SHARED


def test_x25519_keypairs_agree() -> None:
    (sa, pa), (sb, pb) = crypto.x25519_keypair(), crypto.x25519_keypair()
    assert crypto.x25519_public(sa) == pa
    assert crypto.x25519(sa, pb) == crypto.x25519(sb, pa)


def test_x25519_refuses_small_order_points() -> None:
    secret, _ = crypto.x25519_keypair()
    for point in (bytes(32), (1).to_bytes(32, "little")):
        with pytest.raises(WeakKey):
            crypto.x25519(secret, point)


def test_x25519_wrong_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    Spy(monkeypatch, "dmp_x25519", forbid=True)
    Spy(monkeypatch, "dmp_x25519_public", forbid=True)
    with pytest.raises(ValueError):
        crypto.x25519(bytes(31), bytes(32))
    with pytest.raises(ValueError):
        crypto.x25519(bytes(32), bytes(33))
    with pytest.raises(ValueError):
        crypto.x25519_public(b"")


# ---- Ed25519 ----

RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUB = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIG = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_ed25519_rfc8032() -> None:
    assert crypto.ed25519_public(RFC8032_SEED) == RFC8032_PUB
    assert crypto.ed25519_sign(RFC8032_SEED, b"") == RFC8032_SIG
    crypto.ed25519_verify(RFC8032_PUB, b"", RFC8032_SIG)


def test_ed25519_matches_libsodium() -> None:
    seed, public = crypto.ed25519_keypair()
    key = nacl.signing.SigningKey(seed)
    assert bytes(key.verify_key) == public
    sig = crypto.ed25519_sign(seed, b"message")
    assert key.sign(b"message").signature == sig
    key.verify_key.verify(b"message", sig)


def test_ed25519_refusals() -> None:
    seed, public = crypto.ed25519_keypair()
    sig = crypto.ed25519_sign(seed, b"m")
    with pytest.raises(BadSignature):
        crypto.ed25519_verify(public, b"M", sig)
    bad = bytearray(sig)
    bad[5] ^= 1
    with pytest.raises(BadSignature):
        crypto.ed25519_verify(public, b"m", bytes(bad))
    with pytest.raises(BadSignature):  # a small-order public key
        crypto.ed25519_verify((1).to_bytes(32, "little"), b"m", sig)
    # A non-canonical S (S + L) is refused by strict verification.
    ell = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(sig[32:], "little") + ell
    if s < 2**256:
        with pytest.raises(BadSignature):
            crypto.ed25519_verify(public, b"m", sig[:32] + s.to_bytes(32, "little"))
    with pytest.raises(ValueError):
        crypto.ed25519_verify(public, b"m", sig[:63])
    with pytest.raises(ValueError):
        crypto.ed25519_sign(seed[:16], b"m")


def test_ed25519_sign_refuses_the_protocols_reserved_messages() -> None:
    # The seed of an identity signs its bundles as "DMP1 prekey bundle" || bundle bytes: a raw
    # signature must never be one (the same rule as Identity.sign).
    seed, public = crypto.ed25519_keypair()
    for msg in (b"DMP1 prekey bundle" + bytes(100), b"DMP", b"DMP2 anything"):
        with pytest.raises(InvalidArgument, match="reserved for the protocol's own signatures"):
            crypto.ed25519_sign(seed, msg)
    crypto.ed25519_verify(public, b"DM", crypto.ed25519_sign(seed, b"DM"))
    crypto.ed25519_verify(public, b"xDMP", crypto.ed25519_sign(seed, b"xDMP"))


# ---- HKDF ----


def test_hkdf_rfc5869_case_1() -> None:
    okm = crypto.hkdf_sha256(b"\x0b" * 22, 42, salt=bytes(range(13)), info=bytes(range(0xF0, 0xFA)))
    assert okm.hex() == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"


def test_hkdf_rfc5869_case_3_empty_salt_and_info() -> None:
    okm = crypto.hkdf_sha256(b"\x0b" * 22, 42)
    assert okm.hex() == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"


def test_hkdf_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    assert crypto.hkdf_sha256(b"k", 0) == b""
    assert len(crypto.hkdf_sha256(b"k", HKDF_MAX_LEN)) == HKDF_MAX_LEN
    Spy(monkeypatch, "dmp_hkdf_sha256", forbid=True)
    with pytest.raises(ValueError):
        crypto.hkdf_sha256(b"k", HKDF_MAX_LEN + 1)


def test_raw_too_large_hkdf_is_refused_by_c() -> None:
    # The binding refuses it first; the library refuses it too.
    from ctypes import create_string_buffer

    from dmp._lib import lib

    out = create_string_buffer(HKDF_MAX_LEN + 1)
    rc = lib.dmp_hkdf_sha256(None, 0, b"k", 1, None, 0, out, HKDF_MAX_LEN + 1)
    assert rc == errors.TooLarge.code
