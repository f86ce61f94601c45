"""DVC-tracked weights: the size recorded in a ``<name>.dvc`` file or a pipeline's ``dvc.lock``.

A ``.dvc`` file is YAML with ``outs: [{md5 | hash, size, path, ...}]``; ``size`` is the byte size of
the tracked file (or of a tracked directory's contents). We sum ``outs[].size``. The file is read
with a small cap and idm-gate's strict YAML loader; an ``outs`` entry without a non-negative integer ``size``
is an error (``dvc commit`` writes it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data import ArtifactSize
from ..errors import InputError
from ..paths import read_capped
from ._io import format_from_name

DVC_CAP = 1024 * 1024


def measure(path: str | Path, shown: str, what: str) -> ArtifactSize:
    """Total ``outs[].size`` of one ``.dvc`` file."""
    from ..yamlsafe import load_yaml

    raw = read_capped(Path(path), DVC_CAP, what, shown)
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


# ---------------------------------------------------------------- dvc.lock: pipeline stage outputs

LOCK_NAME = "dvc.lock"
LOCK_CAP = 16 * 1024 * 1024


@dataclass(frozen=True)
class LockOut:
    """One ``stages.<name>.outs[]`` entry of a ``dvc.lock``, its path resolved from the repo root."""

    path: str             # '/'-separated, relative to the folder the lookup started from (see find)
    size: int | None      # bytes (a folder out: its files' total)
    nfiles: int | None    # set for a folder out (md5 ending in .dir)
    stage: str
    lock: str             # the dvc.lock as shown to the user


def _load(path: Path, shown: str, what: str, cap: int) -> Any:
    from ..yamlsafe import load_yaml

    raw = read_capped(path, cap, what, shown)
    try:
        return load_yaml(raw, "")
    except InputError as e:
        detail = str(e).lstrip(": ")
        raise InputError(f"{what}: {shown!r} is not valid YAML ({detail}); regenerate it with "
                         "'dvc repro' or 'dvc commit'") from None


def read_lock(path: Path, shown: str, what: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(stage, wdir, out)`` for every output a ``dvc.lock`` (schema 2.0) records.

    The file is what ``dvc repro`` / ``dvc commit`` write::

        schema: '2.0'
        stages:
          quantize:
            cmd: python quantize.py
            deps: [{path, hash: md5, md5, size}]
            outs: [{path, hash: md5, md5, size}]        # a folder: md5 '<hex>.dir', size, nfiles

    Output paths are relative to the stage's ``wdir``, which only ``dvc.yaml`` beside the lock
    records (default ``.``); ``wdir`` is returned relative to the lock's folder. A lock without
    ``schema: '2.0'`` is DVC 1's format, which records no sizes: an error.
    """
    doc = _load(path, shown, what, LOCK_CAP)
    if not isinstance(doc, dict) or str(doc.get("schema")) != "2.0" or not isinstance(doc.get("stages"), dict):
        raise InputError(f"{what}: {shown!r} is not a dvc.lock of schema '2.0' (a mapping with schema: '2.0' and "
                         "stages:); DVC 1 lock files record no sizes: run 'dvc commit' with DVC 2 or later")
    wdirs: dict[str, str] = {}
    yml = path.with_name("dvc.yaml")
    if yml.is_file():
        spec = _load(yml, shown[: -len(LOCK_NAME)] + "dvc.yaml", what, LOCK_CAP)
        stages = spec.get("stages") if isinstance(spec, dict) else None
        for name, st in stages.items() if isinstance(stages, dict) else ():
            if isinstance(st, dict) and isinstance(st.get("wdir"), str):
                wdirs[str(name)] = st["wdir"]
    out: list[tuple[str, str, dict[str, Any]]] = []
    for name, st in doc["stages"].items():
        outs = st.get("outs", []) if isinstance(st, dict) else None
        if not isinstance(outs, list):
            raise InputError(f"{what}: {shown!r}: stages.{name}.outs must be a list of {{path, md5, size}}")
        base = str(name).split("@", 1)[0]  # foreach stages are locked as name@key
        for i, o in enumerate(outs):
            if not isinstance(o, dict) or not isinstance(o.get("path"), str) or not o["path"]:
                raise InputError(f"{what}: {shown!r}: stages.{name}.outs[{i}] has no path; regenerate it "
                                 "with 'dvc commit'")
            out.append((str(name), wdirs.get(str(name), wdirs.get(base, ".")), o))
    return out


def find_lock_outs(target_dir: str, root: str, shown_of: Callable[[str], str], what: str) -> list[LockOut]:
    """Every output of every ``dvc.lock`` in ``target_dir`` and its parents up to ``root``.

    ``shown_of(full_path)`` gives the repo-relative name for messages. Paths in the result are
    absolute and normalised (``os.path.normpath``).
    """
    found: list[LockOut] = []
    d = os.path.realpath(target_dir)
    root = os.path.realpath(root)
    while True:
        lock = os.path.join(d, LOCK_NAME)
        if os.path.isfile(lock):
            shown = shown_of(lock)
            for stage, wdir, o in read_lock(Path(lock), shown, what):
                full = os.path.normpath(os.path.join(d, wdir, o["path"]))
                size, nfiles = o.get("size"), o.get("nfiles")
                found.append(LockOut(path=full, size=size if type(size) is int and size >= 0 else None,
                                     nfiles=nfiles if type(nfiles) is int else None, stage=stage, lock=shown))
        if d == root or not d.startswith(root + os.sep):
            break
        d = os.path.dirname(d)
    return found


def from_lock(out: LockOut, shown: str, what: str) -> ArtifactSize:
    """The size ``dvc.lock`` records for an output that is not checked out."""
    if out.size is None:
        raise InputError(f"{what}: {shown!r}: {out.lock} records no integer size for it (stage {out.stage!r}); "
                         "run 'dvc commit' to record it")
    note = f"{out.lock}, stage {out.stage!r}, not checked out"
    if out.nfiles is not None:
        note += f"; a folder of {out.nfiles} files, all counted (dvc.lock records only the total)"
    return ArtifactSize(path=shown, size_bytes=out.size, source="dvc", format=format_from_name(shown), note=note)
