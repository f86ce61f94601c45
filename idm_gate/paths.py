"""Resolve user-named paths safely and read files with a size cap.

A manifest may only name files inside the repository (or the manifest's folder when there is no
repository). Errors never include the content of a file that was refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError

# Caps on what we read from any single user-named file (documented in the README).
MANIFEST_CAP = 10 * 1024 * 1024
EVAL_FILE_CAP = 64 * 1024 * 1024
HEADER_CAP = 100 * 1024 * 1024


def quote(path: str, limit: int = 200) -> str:
    """A path as messages show it: repr, cut in the middle when longer than ``limit``."""
    r = repr(str(path))
    return r if len(r) <= limit else r[: limit // 2 - 2] + "..." + r[-(limit // 2 - 2):]


def resolve_inside(rel: str, base_dir: Path, root: Path, what: str) -> Path:
    """Return ``base_dir / rel`` resolved (symlinks followed); error when it leaves ``root``.

    ``what`` is the message prefix (``"idm.yaml: models[0].evals[1].path"``).
    """
    if "\x00" in rel:
        raise InputError(f"{what}: path contains a NUL byte; use a relative path inside the repository")
    p = Path(rel)
    if p.is_absolute():
        raise InputError(f"{what}: {quote(rel)} is an absolute path; use a path relative to the manifest's folder")
    resolved = Path(os.path.realpath(base_dir / p))
    root_r = Path(os.path.realpath(root))
    if resolved != root_r and root_r not in resolved.parents:
        raise InputError(
            f"{what}: {quote(rel)} resolves outside the repository ({root_r}); name a file inside it"
        )
    return resolved


def check_regular_file(path: str | Path, what: str, shown: str) -> os.stat_result:
    """Stat ``path`` and require a regular file (no FIFO, device or directory)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{what}: {quote(shown)} does not exist") from None
    except OSError as e:
        raise InputError(f"{what}: {quote(shown)} cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what}: {quote(shown)} is a directory; name a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what}: {quote(shown)} is not a regular file (device, FIFO or socket); name a file")
    return st


def read_capped(path: Path, cap: int, what: str, shown: str) -> bytes:
    """Read a regular file whole, refusing it when it is larger than ``cap`` bytes."""
    st = check_regular_file(path, what, shown)
    if st.st_size > cap:
        raise InputError(
            f"{what}: {quote(shown)} is {st.st_size:,} bytes, over the {cap:,}-byte limit for this kind of file"
        )
    # O_NONBLOCK so a file swapped for a FIFO between stat and open cannot hang us.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        chunks, total = [], 0
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            total += len(b)
            if total > cap:
                raise InputError(f"{what}: {quote(shown)} grew over the {cap:,}-byte limit while being read")
            chunks.append(b)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all: a temporary file beside it, then a rename,
    so an interrupted run never leaves half a file. ``OSError`` (the temporary file removed) when it
    cannot; the caller's message names the input that gave the path."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
