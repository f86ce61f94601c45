"""Lazy, capped glob over a directory, and the same glob semantics for remote path lists.

Semantics follow ``glob.glob(recursive=True)``: ``*``, ``?`` and ``[...]`` match within one path
component, ``**`` as a whole component matches zero or more directories, names starting with ``.``
match only a component that starts with ``.``. Differences, on purpose: ``**`` does not descend into
symlinked directories (no loops, no wandering out of the repository), and a trailing ``**`` yields
the files below a folder, not the folders themselves.

The walk is a generator over ``os.scandir`` so a caller can stop at a match cap without the whole
list being built, and it raises once it has looked at ``scan_cap`` directory entries.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator

_MAGIC = re.compile(r"[*?[]")


def has_magic(pattern: str) -> bool:
    return _MAGIC.search(pattern) is not None


def split(pattern: str) -> list[str]:
    """Pattern components, without empty and ``.`` parts, with repeated ``**`` collapsed."""
    parts: list[str] = []
    for p in pattern.split("/"):
        if p in ("", "."):
            continue
        if p == "**" and parts and parts[-1] == "**":
            continue
        parts.append(p)
    return parts


def matcher(component: str) -> Callable[[str], re.Match[str] | None]:
    """``fnmatch.fnmatchcase(name, component)`` as one compiled regex's ``match``, for a loop over a
    folder's entries (fnmatchcase looks its pattern up in a cache on every call)."""
    return re.compile(fnmatch.translate(component)).match


class _Scanner:
    def __init__(self, base: str, scan_cap: int, on_cap: Callable[[int], Exception]) -> None:
        self.base, self.scan_cap, self.on_cap, self.seen = base, scan_cap, on_cap, 0

    def entries(self, rel: str) -> Iterator[os.DirEntry[str]]:
        try:
            it = os.scandir(os.path.join(self.base, rel) if rel else self.base)
        except OSError:
            return
        with it:
            for e in it:
                self.seen += 1
                if self.seen > self.scan_cap:
                    raise self.on_cap(self.scan_cap)
                yield e

    def matches(self, rel: str, prefix: str, part: str, dot_ok: bool) -> Iterator[tuple[str, str | None]]:
        """``(prefix + name, kind)`` of the entries of folder ``rel`` whose name matches ``part``, the
        pattern's last component (a hidden name only when ``dot_ok``).

        :meth:`entries` and :func:`_kind` in one loop, run once per file a glob such as
        ``weights/*.safetensors`` matches: the count against ``scan_cap`` kept in a local, and a
        component ``*<text>`` (no other wildcard) tested with ``str.endswith``, as ``fnmatchcase`` decides
        it (``*`` matches any run of characters, within a name)."""
        suffix = part[1:]  # tested alone when part is '*' and text; the matcher (a translate) only if not
        match = None if part.startswith("*") and not has_magic(suffix) else matcher(part)
        try:
            it = os.scandir(os.path.join(self.base, rel) if rel else self.base)
        except OSError:
            return
        seen, cap = self.seen, self.scan_cap
        try:
            with it:
                for e in it:
                    seen += 1
                    if seen > cap:
                        raise self.on_cap(cap)
                    name = e.name
                    if (not name.endswith(suffix) if match is None else match(name) is None) or (
                            not dot_ok and name.startswith(".")):  # a hidden name: '.*' only
                        continue
                    try:  # _kind(e), inline
                        kind = ("file" if e.is_file(follow_symlinks=False)
                                else "dir" if e.is_dir(follow_symlinks=False) else None)
                    except OSError:
                        kind = None
                    yield prefix + name, kind
        finally:
            self.seen = seen

    def tree(self, rel: str, dirs: bool) -> Iterator[tuple[str, str | None]]:
        """Everything below ``rel`` (not following symlinked folders, skipping hidden names):
        the folders when ``dirs``, else the non-folders; each with its kind (see
        ``iter_glob_kinds``)."""
        stack = [rel]
        while stack:
            cur = stack.pop()
            for e in self.entries(cur):
                if e.name.startswith("."):
                    continue
                child = f"{cur}/{e.name}" if cur else e.name
                try:
                    is_dir = e.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    stack.append(child)
                    if dirs:
                        yield child, "dir"
                elif not dirs:
                    yield child, _kind(e)


def iter_glob(base: str, pattern: str, scan_cap: int,
              on_cap: Callable[[int], Exception]) -> Iterator[str]:
    """Paths (relative to ``base``, ``/``-separated) matching ``pattern``, lazily."""
    return (rel for rel, _ in iter_glob_kinds(base, pattern, scan_cap, on_cap))


def iter_glob_kinds(base: str, pattern: str, scan_cap: int,
                    on_cap: Callable[[int], Exception]) -> Iterator[tuple[str, str | None]]:
    """``(path, kind)`` for each match of ``pattern``: ``kind`` is ``"file"`` (a regular file) or
    ``"dir"`` when ``os.scandir`` reported the last component as such and not as a symlink (from
    the directory entry's type, no system call), else None (a symlink, or a literal name that was
    not listed): the caller must resolve and stat those itself."""
    parts = split(pattern)
    if not parts:
        return
    sc = _Scanner(base, scan_cap, on_cap)

    def walk(rel: str, i: int) -> Iterator[tuple[str, str | None]]:
        part, last = parts[i], i == len(parts) - 1
        if part == "**":
            if last:
                yield from sc.tree(rel, dirs=False)
                return
            yield from walk(rel, i + 1)
            for d, _ in sc.tree(rel, dirs=True):
                yield from walk(d, i + 1)
        elif has_magic(part):
            dot_ok = part.startswith(".")
            prefix = f"{rel}/" if rel else ""
            if last:
                yield from sc.matches(rel, prefix, part, dot_ok)
                return
            match = matcher(part)
            for e in sc.entries(rel):
                name = e.name
                if match(name) is None or (not dot_ok and name.startswith(".")):  # a hidden name: '.*' only
                    continue
                try:
                    if e.is_dir():
                        yield from walk(prefix + name, i + 1)
                except OSError:
                    continue
        else:
            child = f"{rel}/{part}" if rel else part
            full = os.path.join(base, child)
            if last:
                if os.path.lexists(full):
                    yield child, None
            elif os.path.isdir(full):
                yield from walk(child, i + 1)

    # a fixed leading folder ('models/m00001' of 'models/m00001/*.safetensors') is checked once, so
    # the matches below it are not handed up through one generator per folder level
    rel, i = "", 0
    while i < len(parts) - 1 and not has_magic(parts[i]):
        rel = f"{rel}/{parts[i]}" if rel else parts[i]
        if not os.path.isdir(os.path.join(base, rel)):
            return
        i += 1
    yield from walk(rel, i)


def _kind(e: os.DirEntry[str]) -> str | None:
    try:  # not following links: a symlink is neither (is_symlink() would be one more call per entry)
        if e.is_file(follow_symlinks=False):
            return "file"
        if e.is_dir(follow_symlinks=False):
            return "dir"
    except OSError:
        pass
    return None


def _component_regex(part: str) -> str:
    out, i, n = [], 0, len(part)
    while i < n:
        c = part[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i
            if j < n and part[j] in "!^":
                j += 1
            if j < n and part[j] == "]":
                j += 1
            while j < n and part[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
                continue
            body = part[i:j].replace("\\", "\\\\")
            i = j + 1
            if body[:1] in "!^" and body:
                body = "^" + body[1:]
            out.append(f"(?!/)[{body}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex matching ``/``-separated paths the way ``iter_glob`` matches files."""
    parts = split(pattern)
    rx = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            rx.append(r"(?:[^/.][^/]*/)*[^/.][^/]*" if last else r"(?:[^/.][^/]*/)*")
        else:
            hidden = "" if part.startswith(".") else r"(?!\.)"
            rx.append(hidden + _component_regex(part) + ("" if last else "/"))
    return re.compile("".join(rx) if parts else r"(?!)")
