"""PyTorch checkpoints (``.pt``, ``.pth``, ``.bin``, ``.ckpt``): size only, never unpickled.

A PyTorch checkpoint is a pickle (since torch 1.6 inside a zip archive). Unpickling runs arbitrary
code from the file, so we never do it, not even to count parameters: ``params`` is None. The file is
reported as format ``"pytorch"`` when it is a zip archive (starts with ``PK\\x03\\x04``); a legacy
bare pickle or some other ``.bin`` is sized with format None.
"""

from __future__ import annotations

from pathlib import Path

from ..data import ArtifactSize
from ._io import read_prefix

ZIP_MAGIC = b"PK\x03\x04"


def measure(path: str | Path, shown: str, what: str) -> ArtifactSize:
    """Size of one checkpoint; format "pytorch" when it is a zip archive."""
    head, size = read_prefix(path, 4, what, shown)
    fmt = "pytorch" if head == ZIP_MAGIC else None
    return ArtifactSize(path=shown, size_bytes=size, source="stat", format=fmt)
