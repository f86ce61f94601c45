"""Reading one ``bench:`` file as the manifest's first model's first entry, or its one-line refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from idm_gate.bench import BenchRead, read_bench
from idm_gate.data import BenchSource
from idm_gate.errors import InputError


def read(path: Path, **kw: str) -> BenchRead:
    """``path`` read as ``models[0].bench[0]`` of an ``idm.yaml`` beside it (``kw``: format, hardware, ...)."""
    return read_bench(BenchSource(path=path.name, field="models[0].bench[0]", **kw), path.parent, path.parent,
                      "idm.yaml")


def refused(path: Path, **kw: str) -> str:
    """The InputError's message reading ``path`` raises; it must be one line."""
    with pytest.raises(InputError) as e:
        read(path, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    return msg
