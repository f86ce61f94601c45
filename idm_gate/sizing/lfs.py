"""Git LFS pointer files: the real size from the pointer, as a checkout without LFS leaves them.

A pointer is a small text file (under 1024 bytes)::

    version https://git-lfs.github.com/spec/v1
    oid sha256:<64 lowercase hex>
    size <bytes>

We read it only when the file is that small and starts with the version line; a pointer with a
missing or malformed ``oid`` or ``size`` is an error. Its format comes from the file name.

A pointer written through Git LFS extensions (``docs/extensions.md``) has ``ext-<order>-<name>
<oid>`` lines before ``oid``; its ``oid`` and ``size`` are those of the object after the
extensions' clean filters (compressed, encrypted ...), not of the file a checkout writes. The size
is still the best figure without the object: it is used, and ``note`` says so.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..data import ArtifactSize
from ..errors import InputError
from ._io import format_from_name, read_prefix

POINTER_MAX = 1024
VERSION_LINE = b"version https://git-lfs.github.com/spec/v1"
# Patterns as strings, compiled by re on the first pointer read (a run without LFS pointers never
# pays for them) and taken from re's cache after.
_OID = r"sha256:[0-9a-f]{64}"
_SIZE = r"[0-9]{1,19}"
_EXT = r"ext-([0-9]+)-([a-z0-9.-]+)"


def is_pointer(head: bytes, size: int) -> bool:
    """True when a file of ``size`` bytes starting with ``head`` looks like an LFS pointer."""
    return size < POINTER_MAX and head.startswith(VERSION_LINE)


def measure(path: str | Path, shown: str, what: str) -> ArtifactSize:
    """The size an LFS pointer file records for the object it stands for."""
    raw, size = read_prefix(path, POINTER_MAX, what, shown)
    if not is_pointer(raw, size):
        raise _err(what, shown, "is not a Git LFS pointer (a file under 1024 bytes starting with "
                   "'version https://git-lfs.github.com/spec/v1')")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _err(what, shown, "is a Git LFS pointer that is not valid UTF-8") from None
    fields: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(" ")
        if key:
            fields.setdefault(key, value)
    oid, lsize = fields.get("oid"), fields.get("size")
    if oid is None or not re.fullmatch(_OID, oid):
        raise _err(what, shown, "is a Git LFS pointer without a valid 'oid sha256:<64 hex digits>' "
                   "line; run 'git lfs pull' or fix the pointer")
    if lsize is None or not re.fullmatch(_SIZE, lsize):
        raise _err(what, shown, "is a Git LFS pointer whose 'size' line is missing or not a "
                   "non-negative integer; run 'git lfs pull' or fix the pointer")
    exts = [m.group(2) for k in fields if (m := re.fullmatch(_EXT, k))]
    note = None
    if exts:
        note = (f"Git LFS pointer with extension{'s' if len(exts) > 1 else ''} {', '.join(exts)}: its size is "
                "that of the filtered object in LFS storage, not of the file a checkout writes")
    return ArtifactSize(path=shown, size_bytes=int(lsize), source="lfs-pointer",
                        format=format_from_name(shown), note=note)


def _err(what: str, shown: str, msg: str) -> InputError:
    return InputError(f"{what}: {shown!r} {msg}")
