"""Finds and loads the DMP shared library.

Search order, first existing file wins:

1. the ``DMP_LIBRARY`` environment variable (a path to the library file);
2. next to the package: ``<site-packages>/dmp/libdmp.so``, then ``<site-packages>/libdmp.so``;
3. ``<repo>/target/release/libdmp.so``, where ``<repo>`` is the nearest ancestor of this package
   (or, failing that, of the working directory) that holds ``Cargo.toml`` and ``include/dmp.h``.

If none exists, :class:`LibraryNotFoundError` names every place tried.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

ENV_VAR = "DMP_LIBRARY"

if sys.platform == "darwin":
    LIBRARY_FILE = "libdmp.dylib"
elif sys.platform == "win32":
    LIBRARY_FILE = "dmp.dll"
else:
    LIBRARY_FILE = "libdmp.so"

PACKAGE_DIR = Path(__file__).resolve().parent


class LibraryNotFoundError(ImportError):
    """The DMP shared library was found nowhere; the message lists the places tried."""


def _find_repo(start: Path) -> Path | None:
    for d in [start, *start.parents]:
        if (d / "Cargo.toml").is_file() and (d / "include" / "dmp.h").is_file():
            return d
    return None


def candidates() -> list[tuple[str, Path | None]]:
    """The places searched, in order: (description, path or None if not applicable)."""
    out: list[tuple[str, Path | None]] = []
    env = os.environ.get(ENV_VAR)
    out.append((f"${ENV_VAR}" + ("" if env else " (not set)"), Path(env) if env else None))
    out.append(("next to the package", PACKAGE_DIR / LIBRARY_FILE))
    out.append(("next to the package", PACKAGE_DIR.parent / LIBRARY_FILE))
    repos: list[Path] = []
    for start in (PACKAGE_DIR, Path.cwd().resolve()):
        repo = _find_repo(start)
        if repo is not None and repo not in repos:
            repos.append(repo)
    if not repos:
        out.append(("<repo>/target/release (no repository found above the package or the working directory)", None))
    for repo in repos:
        out.append(("<repo>/target/release", repo / "target" / "release" / LIBRARY_FILE))
    return out


def find_library() -> Path:
    """The path of the library to load, or LibraryNotFoundError naming every place tried."""
    tried = candidates()
    for _, path in tried:
        if path is not None and path.is_file():
            return path
    lines = [f"  - {what}: {path if path is not None else '-'}" for what, path in tried]
    raise LibraryNotFoundError(
        f"DMP shared library ({LIBRARY_FILE}) not found. Looked in, in order:\n"
        + "\n".join(lines)
        + f"\nBuild it with `cargo build --release --lib` at the repository root, or set {ENV_VAR}"
        " to the library's path."
    )


def load_library() -> ctypes.CDLL:
    path = find_library()
    try:
        return ctypes.CDLL(str(path))
    except OSError as e:
        raise ImportError(f"cannot load the DMP library at {path}: {e}") from e
