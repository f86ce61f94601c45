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

import importlib
import operator
import os
import posixpath
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..data import ArtifactSize, SizeResult
from ..errors import InputError
from ..paths import check_regular_file, quote, resolve_inside
from . import layout, lfs, plain, safetensors
from ._glob import compile_glob, has_magic, iter_glob_kinds
from ._io import format_from_name, read_prefix

if TYPE_CHECKING:
    from . import dvc

MAX_MATCHES = 10_000
MAX_SCANNED = 1_000_000

class Sizer(Protocol):
    """Sizes one local weight file: ``path`` -> its bytes and, where the header says, its parameter count.

    ``shown`` names the file in messages and in the report, ``what`` the manifest field that led to it.
    ``InputError`` (one line) for a file that is not what its format says.
    """

    def __call__(self, path: str | Path, shown: str, what: str, /) -> ArtifactSize: ...


def _sizer(module: str) -> Sizer:
    """``module.measure`` (a module of this package), imported when a file of its format is first
    sized: a measure of safetensors shards loads no GGUF, ONNX or PyTorch reader (start-up time)."""

    def measure(path: str | Path, shown: str, what: str, /) -> ArtifactSize:
        fn: Sizer = importlib.import_module(f"{__name__}.{module}").measure
        return fn(path, shown, what)

    return measure


# One sizer per weight format (``data.ArtifactSize.format``); any other file is sized by plain.measure.
SIZERS: dict[str, Sizer] = {
    "safetensors": safetensors.measure,
    "gguf": _sizer("gguf"),
    "onnx": _sizer("onnx"),
    "pytorch": _sizer("pytorch"),
}

__all__ = ["MAX_MATCHES", "measure_file", "size_artifacts"]


def size_artifacts(patterns: list[str], base_dir: Path, root: Path, what: str) -> SizeResult:
    """Sum the sizes of every artifact the ``patterns`` name, each weight file once.

    ``base_dir`` is the manifest's folder (patterns are relative to it), ``root`` the repository
    top level that every local match must resolve inside, ``what`` the message prefix
    (``"idm.yaml: models[0].artifacts"``); entry ``i`` is reported as ``what[i]``.

    Beyond the matched files (see :mod:`idm_gate.sizing.layout` for the rules): a shard index
    stands for the shards it names (or for its ``metadata.total_size`` when none is present); a
    folder stands for the weight files in it; an ONNX model brings its external data files; a
    path that is not checked out is sized from its ``.dvc`` file or a ``dvc.lock`` output. The
    result's ``notices`` say what was added or left out; errors are ``InputError``.
    """
    if not isinstance(patterns, (list, tuple)) or not patterns:
        raise InputError(f"{what}: no artifacts listed; name at least one weight file or glob, "
                         "e.g. 'weights/*.safetensors'")
    acc = _Collect(Path(base_dir), Path(root))
    for i, pat in enumerate(patterns):
        w = f"{what}[{i}]"
        if not isinstance(pat, str) or not pat.strip():
            raise InputError(f"{w}: must be a non-empty path, glob, hf://org/repo@rev/glob or "
                             "https:// URL")
        if pat.startswith("hf://"):
            from . import hub

            acc.hub(pat, hub.size_hf(pat, w), w)
        elif pat.startswith(("https://", "http://")):
            from . import hub

            acc.remote(hub.size_url(pat, w), w)
        elif "://" in pat:
            raise InputError(f"{w}: {pat[:200]!r} has an unsupported scheme; use a path or glob, "
                             "hf://org/repo@revision/glob or an https:// URL")
        else:
            acc.local(pat, w)
    acc.expand_indexes()
    acc.expand_external()
    files = tuple(sorted(acc.found.values(), key=_by_path))
    names = layout.shard_names(files)
    layout.check_sets(files, what, names=names)
    res = aggregate(files)
    filtered = [f"{a.path}: {a.note}" for a in files if a.source == "lfs-pointer" and a.note]
    notices = (acc.notices + filtered + acc.left_out_notices() + layout.same_format_twice(files, names=names)
               + layout.same_onnx_weights(files)
               + layout.unread_onnx_data(files, acc.exists)
               + layout.plausibility(res.size_bytes, res.params, files))
    return replace(res, notices=tuple(notices))


_by_path = operator.attrgetter("path")


class _Collect:
    """The files of one model as they are found: matched, then added by indexes and ONNX graphs."""

    def __init__(self, base_dir: Path, root: Path) -> None:
        self.base = os.path.realpath(base_dir)
        self.root = root
        self.root_r = os.path.realpath(root)
        self._root_prefix = self.root_r.rstrip(os.sep) + os.sep
        self.found: dict[object, ArtifactSize] = {}
        self.where: dict[object, tuple[str, str]] = {}  # key -> (resolved path, what) of files with external data
        self.indexes: dict[str, tuple[str, str]] = {}  # resolved index -> (shown, what)
        self.left_out: dict[str, list[tuple[str, str]]] = {}  # folder shown -> [(path, why)]
        self.notices: list[str] = []
        self.remote_indexes: dict[str, str] = {}  # Hub address of a shard index -> what
        self.locks: dict[str, list[dvc.LockOut]] = {}  # folder -> dvc.lock outputs above it
        self._real_dirs: dict[str, str] = {}  # folder relative to base -> its resolved path + os.sep
        self._base_shown: str | None = None  # the base as messages show it, with a trailing '/'
        if os.sep == "/" and (self.base == self.root_r or self.base.startswith(self._root_prefix)):
            self._base_shown = "" if self.base == self.root_r else self.base[len(self._root_prefix):] + "/"

    def remote(self, a: ArtifactSize, what: str) -> None:
        if layout.is_index(a.path):
            self.remote_indexes.setdefault(a.path, what)  # never weight bytes; see expand_indexes
        else:
            self.found.setdefault(("remote", a.path), a)

    def hub(self, pat: str, matched: list[ArtifactSize], what: str) -> None:
        """What a Hub address matched. As with a local glob, a glob's text files by name (config.json,
        tokenizer.json, README.md: never weight bytes, though large tokenizers are LFS files too) are
        left out and listed; the Hub's listing gives no content to sniff, so the name decides."""
        from .hub import parse_hf

        text = []
        if has_magic(parse_hf(pat, what)[2]):
            text = [a for a in matched if not layout.is_index(a.path)
                    and layout.TEXT_BY_NAME.fullmatch(posixpath.basename(a.path))]
        if text and len(text) == len(matched):
            shown = layout.listed([a.path for a in text], 6)
            raise InputError(f"{what}: {pat[:200]!r} matches no weight file, only text files idm-gate leaves "
                             f"out ({shown}); match the weight files (e.g. '*.safetensors'), or give size_bytes")
        left_out = {a.path for a in text}
        for a in matched:
            if a.path not in left_out:
                self.remote(a, what)
        if text:
            names = [a.path.split("@", 1)[1].split("/", 1)[1] for a in text]
            self.notices.append(f"{pat}: {len(text)} file(s) left out (not weights: {layout.listed(names)})")

    def add(self, resolved: str, a: ArtifactSize, what: str) -> None:
        # the same file through two globs or a symlink: count it once, under a stable name
        key = _normcase(resolved)
        had = self.found.get(key)
        if had is None or a.path < had.path:
            self.found[key] = a
            if a.external:  # read by expand_external only
                self.where[key] = (resolved, what)

    def has(self, resolved: str) -> bool:
        key = _normcase(resolved)
        return key in self.found or ("index", key) in self.found

    def local(self, pat: str, what: str) -> None:
        if os.path.isabs(pat) or "\x00" in pat:
            resolve_inside(pat, Path(self.base), self.root, what)  # raises the shared message
        matches: list[tuple[str, str | None]] = []
        for rel, kind in iter_glob_kinds(self.base, pat, MAX_SCANNED, self._on_cap(pat, what)):
            if len(matches) == MAX_MATCHES:
                raise InputError(f"{what}: {pat[:200]!r} matches over {MAX_MATCHES:,} files; narrow the "
                                 "glob to the weight files (e.g. 'weights/*.safetensors')")
            matches.append((rel, kind))
        folders = []
        text: list[str] = []
        magic = has_magic(pat)
        text_by_name = layout.TEXT_BY_NAME.fullmatch
        real_dirs, root_prefix, shown_of, add = self._real_dirs, self._root_prefix, self.shown, self.add
        for rel, kind in matches:
            folder, _, name = rel.rpartition("/")
            resolved = None
            if kind == "file":  # resolve()'s first step, inline: this loop runs once per shard
                real = real_dirs.get(folder)
                if real is not None and (full := real + name).startswith(root_prefix):
                    resolved = full
            if resolved is None:
                resolved = self.resolve(rel, what, kind)
            if kind == "file" or (kind is None and not os.path.isdir(resolved)):
                if (magic and text_by_name(name) and not layout.is_index(rel)
                        and layout.sniff(resolved, shown_of(rel), what) is None):
                    text.append(resolved)  # config.json, tokenizer.json, README.md: never weight bytes
                    continue
                if kind == "file" and name[-12:].lower() == ".safetensors":
                    # self.file(..., regular=True) for a shard (no index: it ends in .json), inline
                    shown = shown_of(rel)
                    add(resolved, safetensors.measure(resolved, shown, what, pointer=True), what)
                    continue
                self.file(rel, resolved, what, kind == "file")
            elif magic:
                folders.append(rel)  # a glob sizes the files it matches; '**' reaches into folders
            else:
                self.folder(rel, pat, what)
        if text:
            text.sort()
            if len(text) == len(matches):
                shown = layout.listed([self._shown_abs(p) for p in text], 6)
                raise InputError(f"{what}: {pat[:200]!r} matches no weight file, only text files idm-gate leaves "
                                 f"out ({shown}); match the weight files (e.g. '*.safetensors'), or give size_bytes")
            self.left_out.setdefault(pat, []).extend((p, "not weights") for p in text)
        if folders and len(folders) == len(matches):
            raise InputError(f"{what}: {pat[:200]!r} matches only folders ({layout.listed(folders, 3)}); name "
                             "a folder without a glob to size the weights in it, or match the files")
        if matches:
            return
        if not has_magic(pat):
            if self.missing(pat.rstrip("/"), what):
                return
            raise InputError(f"{what}: {pat[:200]!r} does not exist (relative to the manifest's folder); "
                             "check the path, or commit a .dvc file or Git LFS pointer for it")
        if self.lock_glob(pat, what):
            return
        raise InputError(f"{what}: {pat[:200]!r} matches no file; check the glob (relative to the "
                         "manifest's folder)")

    def resolve(self, rel: str, what: str, kind: str | None = None) -> str:
        """``rel`` (relative to the manifest's folder) resolved, symlinks followed; an error when it
        leaves the repository.

        The root is resolved once; each folder once (``realpath``); an entry ``scandir`` reported
        as a regular file or folder, not a symlink (``kind``), is its folder's resolved path plus
        its name, with no further system call. Anything else goes through ``realpath``.
        """
        if kind is not None:
            folder, _, name = rel.rpartition("/")
            real = self._real_dirs.get(folder)
            if real is None:  # kept with a trailing separator: each path below is one concatenation
                real = os.path.join(os.path.realpath(os.path.join(self.base, folder)), "")
                self._real_dirs[folder] = real
            full = real + name
            if full.startswith(self._root_prefix):
                return full
        return str(resolve_inside(rel, Path(self.base), self.root, what))  # the slow path, and its message

    def file(self, rel: str, resolved: str, what: str, regular: bool = False) -> None:
        shown = self.shown(rel)
        if layout.is_index(rel):
            self.indexes.setdefault(resolved, (shown, what))
        else:
            self.add(resolved, measure_file(resolved, shown, what, regular=regular), what)

    def folder(self, rel: str, pat: str, what: str) -> None:
        scan = layout.scan_folder(rel, self.base, self.root_r, what, MAX_SCANNED, self._on_cap(pat, what))
        for r in scan.weights:
            self.file(r, str(resolve_inside(r, Path(self.base), self.root, what)), what)
        for r in scan.indexes:
            self.file(r, str(resolve_inside(r, Path(self.base), self.root, what)), what)
        if not scan.weights and not scan.indexes:
            raise InputError(f"{what}: folder {self.shown(rel)!r} holds no weight file idm-gate recognises "
                             f"(safetensors, GGUF, ONNX, PyTorch; found: "
                             f"{layout.listed([self.shown(p) for p, _ in scan.left_out], 6) or 'nothing'}); "
                             "name the weight files, or give size_bytes")
        out = self.left_out.setdefault(self.shown(rel), [])
        out.extend((os.path.join(self.base, p), why) for p, why in scan.left_out)
        out.extend((os.path.join(self.base, p), "shard index: its shards are counted") for p in scan.indexes)

    def missing(self, rel: str, what: str) -> bool:
        """Size a path that is not checked out from DVC's records; False when there are none."""
        full = os.path.normpath(os.path.join(self.base, rel))
        got = self.tracked(full, what)
        if got is None:
            return False
        self.add(*got, what)
        return True

    def tracked(self, full: str, what: str, note: str | None = None) -> tuple[str, ArtifactSize] | None:
        """(key path, size) of a file that is not checked out, from ``<file>.dvc`` or a ``dvc.lock``."""
        rel = os.path.relpath(full, self.base)
        if os.path.lexists(full + ".dvc"):
            resolved = str(resolve_inside(rel + ".dvc", Path(self.base), self.root, what))
            a = measure_file(Path(resolved), self.shown(rel + ".dvc"), what)
            return resolved, replace(a, note=note) if note else a
        resolve_inside(rel, Path(self.base), self.root, what)  # never look outside the repository
        from . import dvc

        for out in self.lock_outs(os.path.dirname(full), what):
            if out.path == full:
                a = dvc.from_lock(out, self._shown_abs(full), what)
                return full, replace(a, note=f"{note}; {a.note}") if note else a
            if full.startswith(out.path + os.sep):
                raise InputError(f"{what}: {quote(self._shown_abs(full))} is inside the DVC output "
                                 f"{quote(self._shown_abs(out.path))} of {out.lock} (stage {out.stage!r}), which is "
                                 "not checked out and records only its total size; name the folder, or 'dvc pull' it")
        return None

    def lock_outs(self, folder: str, what: str) -> list[dvc.LockOut]:
        key = os.path.normpath(folder)
        if key not in self.locks:
            from . import dvc

            self.locks[key] = dvc.find_lock_outs(key, self.root_r, self._shown_abs, what)
        return self.locks[key]

    def lock_glob(self, pat: str, what: str) -> bool:
        """Outputs of ``dvc.lock`` files that a glob matching no file would match; False if none."""
        fixed = []
        for part in pat.split("/"):
            if has_magic(part):
                break
            fixed.append(part)
        start = os.path.normpath(os.path.join(self.base, *fixed)) if fixed else self.base
        if not start.startswith(self.root_r):
            return False
        rx = compile_glob(pat)
        hits = [o for o in self.lock_outs(start if os.path.isdir(start) else os.path.dirname(start), what)
                if rx.fullmatch(os.path.relpath(o.path, self.base).replace(os.sep, "/"))]
        from . import dvc

        for o in hits:
            self.add(o.path, dvc.from_lock(o, self._shown_abs(o.path), what), what)
        return bool(hits)

    def expand_indexes(self) -> None:
        for path, what in sorted(self.remote_indexes.items()):
            folder = path.rsplit("/", 1)[0] + "/"
            shards = [a.path for k, a in self.found.items() if isinstance(k, tuple) and k[0] == "remote"
                      and a.path.startswith(folder) and "/" not in a.path[len(folder):]
                      and layout.SHARD_RE.fullmatch(a.path[len(folder):])]
            if shards:
                self.notices.append(f"{path}: a shard index, not weights: left out ({len(shards)} shards counted)")
            else:
                self.remote_index(path, folder, what)
        for resolved, (shown, what) in sorted(self.indexes.items()):
            ix = layout.read_index(Path(resolved), shown, what)
            folder = os.path.dirname(resolved)
            tracked = {s: self.tracked(os.path.join(folder, s), what, note=f"shard named by {os.path.basename(shown)}")
                       for s in ix.shards if not os.path.lexists(os.path.join(folder, s))}
            here = [s for s in ix.shards if os.path.lexists(os.path.join(folder, s)) or tracked.get(s)]
            if not here:
                if ix.total_size is None:
                    raise InputError(f"{what}: {quote(shown)} has no metadata.total_size and none of its "
                                     f"{len(ix.shards)} shards ({layout.listed(ix.shards, 3)}) is present; check "
                                     "the shards out, or give size_bytes")
                self.found[("index", os.path.normcase(resolved))] = ArtifactSize(
                    path=shown, size_bytes=ix.total_size, source="index", format=ix.format,
                    note=f"metadata.total_size; none of its {len(ix.shards)} shards is checked out")
                self.notices.append(f"{shown}: sized from the index's metadata.total_size ({ix.total_size:,} "
                                    f"bytes of tensors, shard headers not included): none of its "
                                    f"{len(ix.shards)} shards is checked out")
                continue
            gone = [s for s in ix.shards if s not in here]
            if gone:
                more = f" (and {len(gone) - 1} more)" if len(gone) > 1 else ""
                raise InputError(f"{what}: {quote(shown)} names shard {quote(gone[0])}{more}, which does not "
                                 f"exist beside it ({len(here)} of {len(ix.shards)} shards present); check it "
                                 "out (git lfs pull, dvc pull) or fix the index")
            name = os.path.basename(shown)
            for s in ix.shards:
                p = os.path.join(folder, s)
                got = tracked.get(s)
                if got is not None:
                    self.add(got[0], got[1], what)
                    continue
                r = str(resolve_inside(os.path.relpath(p, self.base), Path(self.base), self.root, what))
                if self.has(r):
                    continue
                a = measure_file(r, self._shown_abs(p), what)
                self.add(r, replace(a, note=f"shard named by {name}"), what)

    def remote_index(self, path: str, folder: str, what: str) -> None:
        """A Hub shard index matched without its shards: read it (a small download) and size the
        shards it names from one more tree listing of its folder; none there -> its total_size."""
        from . import hub

        ix = layout.parse_index(hub.read_hf_file(path, what, layout.INDEX_CAP), path, what)
        listed = {a.path[len(folder):]: a for a in hub.size_hf(folder + "*", what)}
        here = [s for s in ix.shards if s in listed]
        name = path[len(folder):]
        if not here:
            if ix.total_size is None:
                raise InputError(f"{what}: {quote(path)} has no metadata.total_size and none of its "
                                 f"{len(ix.shards)} shards is in the repository; give size_bytes")
            self.found[("index", path)] = ArtifactSize(
                path=path, size_bytes=ix.total_size, source="index", format=ix.format,
                note=f"metadata.total_size; none of its {len(ix.shards)} shards is in the repository")
            return
        gone = [s for s in ix.shards if s not in listed]
        if gone:
            more = f" (and {len(gone) - 1} more)" if len(gone) > 1 else ""
            raise InputError(f"{what}: {quote(path)} names shard {quote(gone[0])}{more}, which is not in the "
                             f"repository at that revision ({len(here)} of {len(ix.shards)} shards present)")
        for s in ix.shards:
            self.found.setdefault(("remote", listed[s].path), replace(listed[s], note=f"shard named by {name}"))

    def expand_external(self) -> None:
        with_external = [(k, a) for k, a in self.found.items() if a.external]
        for key, a in sorted(with_external, key=lambda kv: kv[1].path):
            resolved, what = self.where[key]
            folder = os.path.dirname(resolved)
            counted = []
            for loc in a.external:
                p = os.path.normpath(os.path.join(folder, loc))
                if os.path.isabs(loc):
                    resolve_inside(loc, Path(self.base), self.root, what)  # raises: absolute path
                if not os.path.lexists(p):
                    got = self.tracked(p, what, note=f"external data of {a.path}")
                    if got is None:
                        raise InputError(f"{what}: {quote(a.path)} keeps initializers in external data "
                                         f"{quote(loc)}, which does not exist beside it; check it out (git lfs "
                                         "pull, dvc pull) or save the model with its weights inside "
                                         "(onnx.save_model(..., save_as_external_data=False))")
                    counted.append(got[1].path)
                    if not self.has(got[0]):
                        self.add(*got, what)
                    continue
                r = str(resolve_inside(os.path.relpath(p, self.base), Path(self.base), self.root, what))
                shown = self._shown_abs(p)
                counted.append(shown)
                if self.has(r):
                    continue
                ext = measure_file(r, shown, what)
                self.add(r, replace(ext, note=f"external data of {a.path}"), what)
            self.notices.append(f"{a.path}: its initializers' external data counted with it: "
                                f"{layout.listed(counted, 6)}")

    def left_out_notices(self) -> list[str]:
        out = []
        for folder, items in sorted(self.left_out.items()):
            rest = [(self._shown_abs(p), why) for p, why in items
                    if not self.has(os.path.realpath(p))]
            if not rest:
                continue
            by_why: dict[str, list[str]] = {}
            for p, why in rest:
                by_why.setdefault(why, []).append(posixpath.relpath(p, folder) if p.startswith(folder + "/") else p)
            parts = "; ".join(f"{why}: {layout.listed(ps)}" for why, ps in by_why.items())
            out.append(f"{folder}: {len(rest)} file(s) left out ({parts})")
        return out

    def exists(self, shown: str) -> bool:
        """Whether a repository-relative path (as artifacts are shown) exists."""
        return "://" not in shown and os.path.lexists(os.path.join(self.root_r, shown))

    def _on_cap(self, pat: str, what: str) -> Callable[[int], InputError]:
        def on_cap(n: int) -> InputError:
            return InputError(f"{what}: {pat[:200]!r} looked at over {n:,} directory entries; narrow "
                              "the glob to the folder that holds the weights")
        return on_cap

    def shown(self, rel: str) -> str:
        # A clean relative path (what the glob yields) below a base inside the root: the base's
        # shown prefix plus the path, without relpath's work for each of thousands of shards.
        if self._base_shown is not None:
            parts = f"/{rel}/"  # clean: no empty, '.' or '..' component
            if "//" not in parts and "/./" not in parts and "/../" not in parts:
                return self._base_shown + rel
        return _shown(self.base, rel, self.root_r)

    def _shown_abs(self, full: str) -> str:
        return _shown(self.base, os.path.relpath(full, self.base), self.root_r)


def aggregate(files: tuple[ArtifactSize, ...]) -> SizeResult:
    """Combine per-file sizes: total, source kind, and params when every weight file has them."""
    size = sum(a.size_bytes for a in files)
    sources = {a.source for a in files}
    source = sources.pop() if len(sources) == 1 else "mixed"
    weights = [a for a in files if a.format is not None]
    counts = [a.params for a in weights if a.params is not None]
    params = sum(counts) if weights and len(counts) == len(weights) else None
    bpp = 8 * size / params if params else None
    return SizeResult(size_bytes=size, source=source, files=files, params=params, bits_per_param=bpp)


# os.path.normcase, without a call per file where it changes nothing (POSIX)
_normcase: Callable[[str], str] = os.path.normcase if os.path.normcase("A") != "A" else str


def _shown(base: str, rel: str, root_r: str) -> str:
    full = os.path.normpath(os.path.join(base, rel))
    shown = os.path.relpath(full, root_r)
    if shown.startswith(".."):
        shown = full
    return shown.replace(os.sep, "/")


def measure_file(path: str | Path, shown: str, what: str, *, regular: bool = False) -> ArtifactSize:
    """Size one local file, dispatching on LFS pointer content, then ``.dvc``, then extension
    (and, for ``.bin`` and unknown extensions, the GGUF or safetensors magic).

    ``regular``: ``os.scandir`` listed ``path`` as a regular file, not a symlink (its entry's type,
    no system call). A ``.safetensors`` file is then opened without a ``stat`` first: its reader's
    ``fstat`` on the open file checks the kind again and gives the size, and the first read tells an
    LFS pointer apart. Anything else is ``stat``-ed first, so a device or FIFO is never opened.
    """
    if regular and shown[-12:].lower() == ".safetensors":  # format_from_name(shown) == "safetensors"
        return safetensors.measure(path, shown, what, pointer=True)
    st = check_regular_file(path, what, shown)
    if st.st_size < lfs.POINTER_MAX:
        head, size = read_prefix(path, len(lfs.VERSION_LINE), what, shown)
        if lfs.is_pointer(head, size):
            return lfs.measure(path, shown, what)
    if shown.lower().endswith(".dvc"):
        from . import dvc

        return dvc.measure(path, shown, what)
    fmt = format_from_name(shown)
    if fmt in (None, "pytorch"):
        # recognised by content too: a GGUF or safetensors file named .bin (or with no extension)
        fmt = layout.sniff(path, shown, what) or fmt
    sizer: Sizer = SIZERS.get(fmt or "", plain.measure)
    return sizer(path, shown, what)
