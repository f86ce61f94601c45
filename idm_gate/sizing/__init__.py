"""Size a model's weight artifacts without reading whole files.

``size_artifacts`` takes the manifest's ``artifacts`` entries (local paths or globs, ``hf://`` Hub
globs, ``https://`` URLs) and returns one ``SizeResult``. Each kind of file has its own module that
returns an ``ArtifactSize``: ``plain`` (stat), ``safetensors`` and ``gguf`` (header parse for the
parameter count), ``onnx`` (parameters from the graph's initializers), ``pytorch`` (size only),
``lfs`` (Git LFS pointers), ``dvc`` (``.dvc`` files) and ``hub`` (Hugging Face Hub tree API, HTTP
HEAD).

Local matches must resolve inside the repository and be regular files; header readers parse only
headers, with caps on bytes and time, and never print the content of a file they refuse.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..data import ArtifactSize, SizeResult
from ..errors import InputError
from ..paths import check_regular_file, resolve_inside
from . import dvc, gguf, lfs, onnx, plain, pytorch, safetensors
from ._glob import has_magic, iter_glob
from ._io import format_from_name, read_prefix

MAX_MATCHES = 10_000
MAX_SCANNED = 1_000_000

_READERS = {
    "safetensors": safetensors.measure,
    "gguf": gguf.measure,
    "onnx": onnx.measure,
    "pytorch": pytorch.measure,
}

__all__ = ["size_artifacts", "measure_file", "MAX_MATCHES"]


def size_artifacts(patterns: list[str], base_dir: Path, root: Path, what: str) -> SizeResult:
    """Sum the sizes of every artifact the ``patterns`` name.

    ``base_dir`` is the manifest's folder (patterns are relative to it), ``root`` the repository
    top level that every local match must resolve inside, ``what`` the message prefix
    (``"idm.yaml: models[0].artifacts"``); entry ``i`` is reported as ``what[i]``.
    """
    if not isinstance(patterns, (list, tuple)) or not patterns:
        raise InputError(f"{what}: no artifacts listed; name at least one weight file or glob, "
                         "e.g. 'weights/*.safetensors'")
    found: dict[object, ArtifactSize] = {}
    for i, pat in enumerate(patterns):
        w = f"{what}[{i}]"
        if not isinstance(pat, str) or not pat.strip():
            raise InputError(f"{w}: must be a non-empty path, glob, hf://org/repo@rev/glob or "
                             "https:// URL")
        if pat.startswith("hf://"):
            from . import hub

            for a in hub.size_hf(pat, w):
                found.setdefault(("remote", a.path), a)
        elif pat.startswith(("https://", "http://")):
            from . import hub

            a = hub.size_url(pat, w)
            found.setdefault(("remote", a.path), a)
        elif "://" in pat:
            raise InputError(f"{w}: {pat[:200]!r} has an unsupported scheme; use a path or glob, "
                             "hf://org/repo@revision/glob or an https:// URL")
        else:
            for key, a in _size_local(pat, Path(base_dir), Path(root), w):
                # the same file through two globs or a symlink: count it once, under a stable name
                if key not in found or a.path < found[key].path:
                    found[key] = a
    files = tuple(sorted(found.values(), key=lambda a: a.path))
    return aggregate(files)


def aggregate(files: tuple[ArtifactSize, ...]) -> SizeResult:
    """Combine per-file sizes: total, source kind, and params when every weight file has them."""
    size = sum(a.size_bytes for a in files)
    sources = {a.source for a in files}
    source = sources.pop() if len(sources) == 1 else "mixed"
    weights = [a for a in files if a.format is not None]
    params = None
    if weights and all(a.params is not None for a in weights):
        params = sum(a.params for a in weights)  # type: ignore[misc]
    bpp = 8 * size / params if params else None
    return SizeResult(size_bytes=size, source=source, files=files, params=params, bits_per_param=bpp)


def _size_local(pat: str, base_dir: Path, root: Path, what: str):
    if os.path.isabs(pat) or "\x00" in pat:
        resolve_inside(pat, base_dir, root, what)  # raises the shared message
    base = os.path.realpath(base_dir)
    root_r = os.path.realpath(root)

    def on_cap(n: int) -> InputError:
        return InputError(f"{what}: {pat[:200]!r} looked at over {n:,} directory entries; narrow "
                          "the glob to the folder that holds the weights")

    matches: list[str] = []
    for rel in iter_glob(base, pat, MAX_SCANNED, on_cap):
        if len(matches) == MAX_MATCHES:
            raise InputError(f"{what}: {pat[:200]!r} matches over {MAX_MATCHES:,} files; narrow the "
                             "glob to the weight files (e.g. 'weights/*.safetensors')")
        matches.append(rel)
    for rel in matches:
        shown = _shown(base, rel, root_r)
        resolved = resolve_inside(rel, Path(base), root, what)
        yield os.path.normcase(resolved), measure_file(resolved, shown, what)
    count = len(matches)
    if count:
        return
    if not has_magic(pat):
        dvc_rel = pat.rstrip("/") + ".dvc"
        if os.path.lexists(os.path.join(base, dvc_rel)):
            resolved = resolve_inside(dvc_rel, Path(base), root, what)
            shown = _shown(base, dvc_rel, root_r)
            yield os.path.normcase(resolved), measure_file(resolved, shown, what)
            return
        raise InputError(f"{what}: {pat[:200]!r} does not exist (relative to the manifest's folder); "
                         "check the path, or commit a .dvc file or Git LFS pointer for it")
    raise InputError(f"{what}: {pat[:200]!r} matches no file; check the glob (relative to the "
                     "manifest's folder)")


def _shown(base: str, rel: str, root_r: str) -> str:
    full = os.path.normpath(os.path.join(base, rel))
    shown = os.path.relpath(full, root_r)
    if shown.startswith(".."):
        shown = full
    return shown.replace(os.sep, "/")


def measure_file(path: Path, shown: str, what: str) -> ArtifactSize:
    """Size one local file, dispatching on LFS pointer content, then ``.dvc``, then extension."""
    st = check_regular_file(path, what, shown)
    if st.st_size < lfs.POINTER_MAX:
        head, size = read_prefix(path, len(lfs.VERSION_LINE), what, shown)
        if lfs.is_pointer(head, size):
            return lfs.measure(path, shown, what)
    if shown.lower().endswith(".dvc"):
        return dvc.measure(path, shown, what)
    reader = _READERS.get(format_from_name(shown) or "", plain.measure)
    return reader(path, shown, what)
