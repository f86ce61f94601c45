"""DVC-tracked weights: the size recorded in a ``<name>.dvc`` file.

A ``.dvc`` file is YAML with ``outs: [{md5 | hash, size, path, ...}]``; ``size`` is the byte size of
the tracked file (or of a tracked directory's contents). We sum ``outs[].size``. The file is read
with a small cap and idm-gate's strict YAML loader; an ``outs`` entry without a non-negative integer ``size``
is an error (``dvc commit`` writes it).
"""

from __future__ import annotations

from pathlib import Path

from ..data import ArtifactSize
from ..errors import InputError
from ..paths import read_capped
from ._io import format_from_name

DVC_CAP = 1024 * 1024


def measure(path: Path, shown: str, what: str) -> ArtifactSize:
    """Total ``outs[].size`` of one ``.dvc`` file."""
    from ..yamlsafe import load_yaml

    raw = read_capped(path, DVC_CAP, what, shown)
    try:
        doc = load_yaml(raw, "")
    except InputError as e:
        # the same strict YAML as the manifest: duplicate keys, alias bombs and tags are refused
        detail = str(e).lstrip(": ")
        raise InputError(f"{what}: {shown!r} is not a valid YAML .dvc file ({detail}); regenerate it "
                         "with 'dvc add'") from None
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(outs, list) or not outs:
        raise InputError(f"{what}: {shown!r} has no 'outs' list; a .dvc file names its outputs "
                         "as outs: [{md5, size, path}]")
    total, formats = 0, set()
    for i, out in enumerate(outs):
        size = out.get("size") if isinstance(out, dict) else None
        if type(size) is not int or size < 0:
            raise InputError(f"{what}: {shown!r}: outs[{i}].size is missing or not a non-negative "
                             "integer; run 'dvc commit' to record it")
        total += size
        p = out.get("path")
        formats.add(format_from_name(p) if isinstance(p, str) else None)
    fmt = formats.pop() if len(formats) == 1 else None
    return ArtifactSize(path=shown, size_bytes=total, source="dvc", format=fmt)
