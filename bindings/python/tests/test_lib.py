"""The declarations module against include/dmp.h, and the library loader."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import dmp
from dmp import _lib, _loader
from support import BINDING, HEADER


def header_functions(header_text: str) -> set[str]:
    # Independent of the generator's parser: every identifier followed by "(" in a declaration.
    body = re.sub(r"/\*.*?\*/", "", header_text, flags=re.S)
    return set(re.findall(r"\b(dmp_[a-z0-9_]+)\s*\(", body))


def test_every_header_function_is_declared(header_text: str) -> None:
    names = header_functions(header_text)
    assert len(names) > 100
    missing = sorted(names - set(_lib.FUNCTIONS))
    assert not missing, f"declared in include/dmp.h but not in dmp/_lib.py: {missing} (run tools/gen_lib.py)"
    extra = sorted(set(_lib.FUNCTIONS) - names)
    assert not extra, f"declared in dmp/_lib.py but gone from include/dmp.h: {extra}"


def test_declarations_are_generated_from_the_current_header(gen_lib: ModuleType, header_text: str) -> None:
    fresh = gen_lib.render(gen_lib.parse_header(header_text))
    committed = (BINDING / "dmp" / "_lib.py").read_text()
    assert committed == fresh, "dmp/_lib.py is stale: run python3 bindings/python/tools/gen_lib.py"


C_TO_CTYPES = {
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "const uint8_t *": ctypes.c_char_p,
    "uint8_t *": ctypes.c_char_p,
    "const char *": ctypes.c_char_p,
    "int32_t *": ctypes.POINTER(ctypes.c_int32),
    "uint32_t *": ctypes.POINTER(ctypes.c_uint32),
    "uint64_t *": ctypes.POINTER(ctypes.c_uint64),
    "size_t *": ctypes.POINTER(ctypes.c_size_t),
}


def expected_ctype(ctype: str) -> object:
    if ctype == "void":
        return None
    if ctype in C_TO_CTYPES:
        return C_TO_CTYPES[ctype]
    m = re.fullmatch(r"(?:const )?(dmp_[a-z0-9_]+_t) (\*+)", ctype)
    assert m, f"unexpected C type {ctype!r}"
    t: object = getattr(_lib, m.group(1))
    for _ in m.group(2):
        t = ctypes.POINTER(t)  # type: ignore[arg-type]
    return t


def test_every_function_has_argtypes_and_restype_matching_the_header(gen_lib: ModuleType, header_text: str) -> None:
    parsed = gen_lib.parse_header(header_text)
    assert set(parsed) == header_functions(header_text)
    for name, (ret, params) in parsed.items():
        fn = getattr(_lib.lib, name)
        assert fn.restype == expected_ctype(ret), name
        assert fn.argtypes is not None, name
        assert list(fn.argtypes) == [expected_ctype(t) for t, _ in params], name


def test_library_exports_every_declared_function() -> None:
    for name in _lib.FUNCTIONS:
        assert hasattr(_lib.lib, name), name


def test_versions() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", dmp.version())
    assert dmp.abi_version() == dmp.constants.ABI_VERSION == 2


def test_dmp_library_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "libdmp-custom.so"
    fake.write_bytes(b"")
    monkeypatch.setenv("DMP_LIBRARY", str(fake))
    assert _loader.find_library() == fake


def test_repo_build_is_found_from_the_working_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "include").mkdir(parents=True)
    (repo / "include" / "dmp.h").write_text("")
    (repo / "Cargo.toml").write_text("")
    (repo / "target" / "release").mkdir(parents=True)
    built = repo / "target" / "release" / _loader.LIBRARY_FILE
    built.write_bytes(b"")
    monkeypatch.delenv("DMP_LIBRARY", raising=False)
    monkeypatch.setattr(_loader, "PACKAGE_DIR", tmp_path / "site-packages" / "dmp")
    monkeypatch.chdir(repo / "include")
    assert _loader.find_library() == built


def test_missing_library_names_every_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pkg = tmp_path / "site-packages" / "dmp"
    pkg.mkdir(parents=True)
    monkeypatch.setenv("DMP_LIBRARY", str(tmp_path / "nowhere" / "libdmp.so"))
    monkeypatch.setattr(_loader, "PACKAGE_DIR", pkg)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(_loader.LibraryNotFoundError) as info:
        _loader.find_library()
    text = str(info.value)
    assert "DMP_LIBRARY" in text
    assert str(tmp_path / "nowhere" / "libdmp.so") in text
    assert str(pkg / _loader.LIBRARY_FILE) in text
    assert "<repo>/target/release" in text
    assert "cargo build --release --lib" in text
    assert isinstance(info.value, ImportError)


def test_import_fails_cleanly_without_a_library(tmp_path: Path) -> None:
    # A copy of the package in a directory with no repository above it and no library in it.
    import shutil

    shutil.copytree(BINDING / "dmp", tmp_path / "dmp", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    env = {k: v for k, v in os.environ.items() if k not in ("DMP_LIBRARY", "PYTHONPATH")}
    env["DMP_LIBRARY"] = str(tmp_path / "missing.so")
    r = subprocess.run(
        [sys.executable, "-c", "import dmp"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode != 0
    assert "LibraryNotFoundError" in r.stderr
    assert "DMP_LIBRARY" in r.stderr and "next to the package" in r.stderr


def test_header_is_where_the_tests_expect_it() -> None:
    assert HEADER.is_file()


def test_package_is_typed() -> None:
    assert (Path(dmp.__file__).parent / "py.typed").is_file()
