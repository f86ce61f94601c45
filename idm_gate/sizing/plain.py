"""Any other file: its size from ``stat``; no parameter count."""

from __future__ import annotations

from pathlib import Path

from ..data import ArtifactSize
from ..paths import check_regular_file


def measure(path: str | Path, shown: str, what: str) -> ArtifactSize:
    """Size of a regular file from ``stat`` (never opened)."""
    st = check_regular_file(path, what, shown)
    return ArtifactSize(path=shown, size_bytes=st.st_size, source="stat", format=None)
