"""Helpers shared by the wrappers: argument checks, output buffers, handle ownership."""

from __future__ import annotations

import sys
import threading
import weakref
from ctypes import addressof, byref, c_char, c_size_t, c_ssize_t, create_string_buffer, py_object, pythonapi, string_at
from typing import Any, Callable, ClassVar, NoReturn, TypeVar, Union

from ._lib import FUNCTIONS, lib
from .errors import BufferTooSmall, ClosedError, check, error_for

BytesLike = Union[bytes, bytearray, memoryview]
"""What byte arguments accept. They are copied to ``bytes`` before the call."""

WritableBuffer = Any
"""A writable, C-contiguous buffer of the caller's (``bytearray``, a memoryview of one, a ctypes
array, ``array.array``, a writable ``mmap``...) that the library writes into in place."""

_BUFFER_TOO_SMALL = BufferTooSmall.code


def as_bytes(value: object, what: str) -> bytes:
    """``value`` as immutable bytes, or TypeError (a ``str`` is refused: encode it first)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes-like, not {type(value).__name__}")


def fixed(value: object, length: int, what: str) -> bytes:
    """A fixed-size input (key, id, seed...): bytes of exactly ``length``, or ValueError. This
    check runs before any C call, so C never reads past a short buffer."""
    if value is None:
        raise ValueError(f"{what} is required ({length} bytes), got None")
    b = as_bytes(value, what)
    if len(b) != length:
        raise ValueError(f"{what} must be {length} bytes, got {len(b)}")
    return b


def int_in(value: object, what: str, lo: int, hi: int) -> int:
    """An integer argument within [lo, hi], or TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{what} must be in [{lo}, {hi}], got {value}")
    return value


U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF


def call_out(fn: Callable[..., int], *args: Any, size: int = 0, attempts: int = 4) -> bytes:
    """Calls ``fn(*args, out, cap, &out_len)`` and returns the output.

    Starts with a ``size``-byte buffer (0: a NULL buffer, i.e. the size query of the C ABI). On
    DMP_ERR_BUFFER_TOO_SMALL, which changes nothing and reports the size needed, retries with
    that size. Other failures raise their exception.
    """
    for _ in range(attempts):
        buf = create_string_buffer(size) if size > 0 else None
        n = c_size_t(0)
        rc = fn(*args, buf, size, byref(n))
        if rc == _BUFFER_TOO_SMALL and n.value > size:
            size = n.value
            continue
        check(rc)
        if buf is None or n.value == 0:
            return b""
        return string_at(buf, n.value)
    raise error_for(rc)


def untyped(name: str, restype: Any, argtypes: list[Any]) -> Any:
    """A second handle on the library function ``name``, without ``argtypes``, for hot paths.

    With ``argtypes`` set, ctypes converts every argument through ``argtype.from_param`` (a
    Python-level call that allocates a new argument object): about 0.1 us per argument, 1 us for
    an 8-argument call. Without them, ``bytes`` and ``None`` pass straight through as ``char *``
    and NULL, and ctypes instances (``c_size_t(n)``, ``byref(...)``) as themselves. The caller
    must then pass exactly the C types: never a bare ``int`` (it would go as a C ``int``), always
    ``c_size_t(n)`` for a ``size_t``.

    ``argtypes`` is what the caller passes; it must equal the generated declaration of
    ``dmp/_lib.py`` (so, the header), or this raises ImportError at import time: a changed
    prototype cannot go unnoticed into an unchecked call. ``lib[name]`` (unlike ``lib.name``)
    makes a new function object, so ``lib.<name>`` keeps its declaration.
    """
    declared_restype, declared_argtypes, proto = FUNCTIONS[name]
    if declared_restype is not restype or list(declared_argtypes) != list(argtypes):
        raise ImportError(f"dmp: the hot path of {name} no longer matches its C prototype `{proto}`")
    fn = lib[name]
    fn.restype = restype
    return fn


# Output buffers the library writes into and that are returned as they are, without a copy.
#
# On CPython, a ctypes call without argtypes passes a ``bytes`` argument as a pointer to the
# object's own storage, so the library can write the result straight into a new ``bytes`` object,
# which is then returned: no ``create_string_buffer`` (zero-filled), no copy into a new ``bytes``
# at the end (``.raw`` or ``string_at``). For 1 MiB, that is one 1 MiB allocation instead of two,
# and a 1 MiB memset and a 1 MiB copy less, per call. It is safe because the object is new
# (refcount 1, hash not computed yet: nothing else can see it or have cached anything about it)
# until the library has filled it; it is how C extensions build a ``bytes``
# (``PyBytes_FromStringAndSize(NULL, n)``, then fill it). ``bytes(n)`` and
# ``PyBytes_FromStringAndSize(NULL, n)`` return a new object for every ``n`` >= 1; never use this
# for 0 bytes: ``bytes(0)`` is the shared empty object (callers pass NULL for an empty output).
#
# Below ``FRESH_BYTES_ZEROED_MAX``, ``bytes(n)`` (zero-filled, ~60 ns) is the cheapest new object;
# above, ``PyBytes_FromStringAndSize(NULL, n)`` (~0.2 us per call through ctypes, but no memset:
# 15 us less for 1 MiB).
#
# Elsewhere (PyPy...), a ``bytes`` passed to ctypes may be a temporary copy: a
# ``create_string_buffer`` is filled, and ``.raw`` copies it out.
FRESH_BYTES_ARE_WRITABLE = sys.implementation.name == "cpython"
FRESH_BYTES_ZEROED_MAX = 64 * 1024

if FRESH_BYTES_ARE_WRITABLE:
    _bytes_uninitialized = pythonapi["PyBytes_FromStringAndSize"]  # PyDLL: runs with the GIL held
    _bytes_uninitialized.restype = py_object
    _bytes_uninitialized.argtypes = None  # (NULL, c_ssize_t): passed as the C types, see untyped()


def fresh_output(n: int) -> Any:
    """A new ``n``-byte (``n`` > 0) buffer for the library to fill, private to the caller (so,
    thread-safe). If ``FRESH_BYTES_ARE_WRITABLE``, it is the ``bytes`` object to return once
    filled; otherwise a ``create_string_buffer`` whose ``.raw`` is."""
    if not FRESH_BYTES_ARE_WRITABLE:
        return create_string_buffer(n)
    if n <= FRESH_BYTES_ZEROED_MAX:
        return bytes(n)
    return _bytes_uninitialized(None, c_ssize_t(n))


# Caller buffers, used in place (the ``*_into`` functions of dmp.crypto).
#
# ``BUFFER_START.from_buffer(buf)`` is a zero-length ctypes array at the first byte of ``buf``:
# passed to an argtypes-free handle (see untyped), it goes as a ``char *`` to the caller's own
# memory, no copy. ``from_buffer`` refuses a read-only or non-contiguous buffer (TypeError), and
# the array holds the buffer, as a memoryview does, until it is dropped: a bytearray cannot be
# resized (its memory moved or freed) while the library works on it with the GIL released. Read
# its size after that, never before, so that it cannot change between the check and the call. (A
# ``c_char * n`` array would check the size itself, but finding that type costs ~0.4 us per call:
# ctypes builds a key and looks it up in its cache of array types.)
BUFFER_START = c_char * 0


def writable_buffer(buf: object, what: str) -> tuple[Any, int]:
    """``(arg, nbytes)``: ``arg`` points the library to the start of the caller's writable,
    C-contiguous buffer ``buf`` (no copy) and holds it until dropped; ``nbytes`` is its size.
    TypeError for anything else."""
    try:
        at = BUFFER_START.from_buffer(buf)
    except TypeError:
        raise TypeError(not_writable(buf, what)) from None
    return at, len(buf) if type(buf) is bytearray else memoryview(buf).nbytes


def not_writable(buf: object, what: str) -> str:
    """The message of the TypeError for a ``buf`` that ``BUFFER_START.from_buffer`` refused."""
    try:
        view = memoryview(buf)  # type: ignore[arg-type]
    except TypeError:
        return f"{what} must be a writable buffer (bytearray, memoryview, ctypes array...), not {type(buf).__name__}"
    if view.readonly:
        return f"{what} must be writable: this {type(buf).__name__} is read-only (use a bytearray)"
    return f"{what} must be a C-contiguous buffer"


def input_buffer(value: object, what: str) -> tuple[Any, int, int]:
    """``(arg, nbytes, address)`` for a byte input that is read in place when it can be: a
    ``bytes`` as it is (``address`` 0: no writable buffer can overlap it); a bytearray or a
    writable, C-contiguous memoryview in place, no copy (``address`` is where it starts, to check
    that an output does not overlap it); any other memoryview copied to ``bytes`` (``address``
    0). Anything else: TypeError, as :func:`as_bytes`."""
    if isinstance(value, bytes):
        return value, len(value), 0
    if isinstance(value, bytearray) or (isinstance(value, memoryview) and not value.readonly and value.c_contiguous):
        at, n = writable_buffer(value, what)
        return at, n, addressof(at)
    value = as_bytes(value, what)
    return value, len(value), 0


def fixed_out(fn: Callable[..., int], *args: Any, size: int) -> bytes:
    """Calls ``fn(*args, out)`` with a fixed-size output buffer and returns its bytes."""
    buf = create_string_buffer(size)
    check(fn(*args, buf))
    return buf.raw


HandleT = TypeVar("HandleT", bound="Handle")


def _release(free_name: str, ptr: Any) -> None:
    getattr(lib, free_name)(ptr)


class Handle:
    """Owns one C handle. Released exactly once: by ``close()`` (or leaving a ``with`` block), or
    when the object is garbage-collected, or at interpreter exit. Calls on one object are
    serialized by a lock (the C side serializes them too), so ``close()`` never races a call in
    another thread. After ``close()`` every method raises :class:`ClosedError`."""

    _free_name: ClassVar[str] = ""

    __slots__ = ("_ptr", "_lock", "_finalizer", "__weakref__")

    def __init__(self, ptr: Any) -> None:
        if not ptr:
            raise ValueError("the library returned a NULL handle")
        self._ptr: Any = ptr
        self._lock = threading.RLock()
        self._finalizer = weakref.finalize(self, _release, self._free_name, ptr)

    @classmethod
    def _adopt(cls: type[HandleT], ptr: Any) -> HandleT:
        obj = cls.__new__(cls)
        Handle.__init__(obj, ptr)
        return obj

    def _closed_error(self) -> NoReturn:
        raise ClosedError(f"this {type(self).__name__} is closed (close() was called); it cannot be used")

    def _use(self) -> _Use:
        return _Use(self)

    @property
    def closed(self) -> bool:
        """True once the handle was released."""
        return self._ptr is None

    def close(self) -> None:
        """Releases the handle now (its secrets are zeroized by the library). Idempotent."""
        with self._lock:
            if self._ptr is None:
                return
            self._ptr = None
            self._finalizer()

    def __enter__(self: HandleT) -> HandleT:
        if self._ptr is None:
            self._closed_error()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} holds a C handle and cannot be copied or pickled")

    def __copy__(self) -> NoReturn:
        self.__reduce__()

    def __deepcopy__(self, memo: object) -> NoReturn:
        self.__reduce__()


class _Use:
    """``with obj._use() as ptr:`` holds the object's lock and yields its live pointer."""

    __slots__ = ("_h",)

    def __init__(self, h: Handle) -> None:
        self._h = h

    def __enter__(self) -> Any:
        h = self._h
        h._lock.acquire()
        if h._ptr is None:
            h._lock.release()
            h._closed_error()
        return h._ptr

    def __exit__(self, *exc: object) -> None:
        self._h._lock.release()
