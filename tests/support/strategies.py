"""Hypothesis strategies shared by the property tests of every reader."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from hypothesis import strategies as st


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """``seed`` cut at a random length, then up to four random splices (overwrite, insert or delete)."""
    raw = bytearray(seed[:draw(st.integers(0, len(seed)))])
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(raw)))
        raw[i:i + draw(st.integers(0, 3))] = draw(st.binary(min_size=0, max_size=8))
    return bytes(raw)


def scratch_dir(prefix: str) -> Path:
    """A folder for property tests (function-scoped fixtures do not mix with @given), removed at exit."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, d, True)
    return d
