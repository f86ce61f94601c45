"""ONNX models: size from ``stat``; parameter count is not read.

Counting parameters would mean walking the protobuf wire format of ``ModelProto.graph.initializer``
(and external-data tensors stored beside the model). That is possible with bounded reads, but without
the ``onnx`` package in the test dependencies it could only be tested against hand-made bytes, so it
is left out: ``params`` is None and the model is sized by bytes alone.
"""

from __future__ import annotations

from pathlib import Path

from ..data import ArtifactSize
from ._io import HeaderReader


def measure(path: Path, shown: str, what: str) -> ArtifactSize:
    """Size of one ``.onnx`` file; ``params`` is None (see the module docstring)."""
    with HeaderReader(path, what, shown, cap=1) as r:
        size = r.size
    return ArtifactSize(path=shown, size_bytes=size, source="stat", format="onnx")
