"""Which files of a model are weights, and which of them belong together.

Sizing a model means summing the bytes of its weights, once each, and nothing else. This module
holds the rules that decide that, apart from the per-format header readers, so other commands
(``idm-gate init`` proposing a manifest) can reuse them:

- :func:`is_index` / :func:`read_index`: a Hugging Face shard index (``model.safetensors.index.json``,
  ``pytorch_model.bin.index.json``) is never weight bytes; it names the shards
  (``weight_map: {tensor: file}``) and their tensor bytes (``metadata.total_size``).
- :func:`sniff`: the weight format of a file from its first bytes (GGUF magic, a safetensors
  header length followed by ``{``, a PyTorch zip or legacy pickle), not only its extension.
- :func:`scan_folder`: a folder given as an artifact, split into weight files, shard indexes and
  the files left out (tokenizer, config, README, training state ...), each with the reason.
- :func:`check_sets`: what must hold across a model's files: no gap in a ``-NNNNN-of-NNNNN`` shard
  set, GGUF split files consistent with their ``split.no``/``split.count`` metadata (llama.cpp's
  ``gguf-split``), at most one complete GGUF model per architecture, one weight format per model.
- :func:`plausibility`: bits per parameter outside [0.5, 64] means something was not counted, or
  was counted twice.

Every function raises ``InputError`` with one line naming the file and what would be valid.
"""

from __future__ import annotations

import posixpath
import re
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from ..data import ArtifactSize
from ..errors import InputError
from ..paths import quote, read_capped
from . import lfs
from ._glob import iter_glob
from ._io import format_from_name, read_prefix

# ``<stem>-<no>-of-<count><ext>``: transformers' shards (model-00001-of-00004.safetensors,
# pytorch_model-00001-of-00002.bin) and llama.cpp's gguf-split files (x-00001-of-00003.gguf).
SHARD_RE = re.compile(r"(?P<stem>.+)-(?P<no>[0-9]{5})-of-(?P<count>[0-9]{5})(?P<ext>\.[A-Za-z0-9]+)")
INDEX_SUFFIXES = (".safetensors.index.json", ".bin.index.json")
INDEX_CAP = 16 * 1024 * 1024
# Formats that each hold a complete copy of a model's weights.
WEIGHT_FORMATS = ("safetensors", "gguf", "onnx", "pytorch")
# What a Hugging Face Trainer checkpoint folder holds besides the model: optimizer and scheduler
# state, RNG state, the training arguments. Pickles too, never weights of the model.
TRAINING_STATE = re.compile(r"(optimizer|scheduler|scaler|training_args|rng_state(_[0-9]+)?)\.(pt|pth|bin)")
LOW_BITS, HIGH_BITS = 0.5, 64.0
# What a glob may match beside the weights in a model folder (config.json, tokenizer.json,
# tokenizer_config.json, README.md, merges.txt, chat_template.jinja, the manifest itself): text by
# name. Such a file that is not a weight file by content is left out of a glob's match.
TEXT_BY_NAME = re.compile(r".*\.(json|md|txt|yaml|yml|jinja|py|csv|gitattributes)|\.gitattributes|LICENSE(\..*)?",
                          re.IGNORECASE)
_LEGACY_TORCH = b"\x80\x02\x8a\x0a"  # torch.save before 1.6: pickle protocol 2, then a 10-byte magic number
_LISTED = 12  # names listed in a notice before "and N more"


# A NamedTuple, not a frozen dataclass: as immutable, and its class is made about 7x faster at import
# (0.08 vs 0.53 ms on Python 3.11), which every run's start-up pays (benchmarks/bench_measure.py).
class ShardIndex(NamedTuple):
    """What a shard index says: the shard files (in the index's folder) and their tensor bytes."""

    path: str                  # the index as shown to the user
    total_size: int | None     # metadata.total_size: bytes of every tensor, without shard headers
    shards: tuple[str, ...]    # file names, sorted, each once
    format: str | None         # the shards' format, from their names


class FolderScan(NamedTuple):  # a NamedTuple for the reason ShardIndex is one
    """A folder's files, split into what counts and what does not (paths relative to the repo)."""

    weights: tuple[str, ...]                 # weight files, LFS pointers to them, .dvc files for them
    indexes: tuple[str, ...]                 # shard indexes (read with read_index)
    left_out: tuple[tuple[str, str], ...]    # (path, why it is not counted)


def is_index(name: str) -> bool:
    """True for a Hugging Face shard index file name."""
    return name.lower().endswith(INDEX_SUFFIXES)


def shard_name(stem: str, no: int, count: int, ext: str) -> str:
    return f"{stem}-{no:05d}-of-{count:05d}{ext}"


def read_index(path: Path, shown: str, what: str) -> ShardIndex:
    """Read a shard index: ``{"metadata": {"total_size": int}, "weight_map": {tensor: file}}``.

    ``metadata.total_size`` may be absent (older exports); it is needed only when no shard is
    present. A shard name must be a plain file name (the shards live beside the index).
    """
    return parse_index(read_capped(path, INDEX_CAP, what, shown), shown, what)


def parse_index(raw: bytes, shown: str, what: str) -> ShardIndex:
    """:func:`read_index` on bytes already read (a local file, or a Hub download)."""
    from ..jsonsafe import load_json

    doc = load_json(raw, f"{what}: {quote(shown)}", allow_nan=False)
    where = f"{what}: {quote(shown)}"
    if not isinstance(doc, dict) or not isinstance(doc.get("weight_map"), dict) or not doc["weight_map"]:
        raise InputError(f"{where}: not a shard index: expected a JSON object with a non-empty 'weight_map' "
                         "({tensor name: shard file}), as transformers' save_pretrained writes")
    meta = doc.get("metadata", {})
    if not isinstance(meta, dict):
        raise InputError(f"{where}: 'metadata' must be an object such as {{\"total_size\": 7241732096}}")
    total = meta.get("total_size")
    if total is not None and (type(total) is not int or total < 0):
        # float totals exist in some exports ("total_size": 1.2e10 is not a byte count)
        if isinstance(total, float) and total.is_integer() and total >= 0:
            total = int(total)
        else:
            raise InputError(f"{where}: metadata.total_size must be a non-negative integer byte count")
    shards = set()
    for tensor, f in doc["weight_map"].items():
        if (not isinstance(f, str) or not f or f in (".", "..") or "/" in f or "\\" in f
                or "\x00" in f):
            raise InputError(f"{where}: weight_map[{tensor[:80]!r}] must name a shard file beside the index "
                             "(a plain file name such as 'model-00001-of-00002.safetensors')")
        shards.add(f)
    fmts = {format_from_name(s) for s in shards}
    return ShardIndex(path=shown, total_size=total, shards=tuple(sorted(shards)),
                      format=fmts.pop() if len(fmts) == 1 else None)


def sniff(path: str | Path, shown: str, what: str) -> str | None:
    """The weight format of a file from its first bytes (and, for ONNX, its extension), or None.

    GGUF starts with ``GGUF``; safetensors with a little-endian u64 header length that fits the
    file, then ``{"``; a PyTorch checkpoint is a zip archive (``PK\\x03\\x04``) with a checkpoint
    extension, or a legacy ``torch.save`` pickle (protocol 2 and its magic number). ONNX has no
    magic: the ``.onnx`` extension decides and the reader then checks the protobuf. A Git LFS
    pointer returns the format its name implies.
    """
    head, size = read_prefix(path, 64, what, shown)
    if lfs.is_pointer(head, size):
        return format_from_name(shown)
    if head[:4] == b"GGUF":
        return "gguf"
    if size > 10 and head[8:10] == b'{"':  # the header is a JSON object with no leading space
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n and n + 8 <= size:
            return "safetensors"
    ext = format_from_name(shown)
    if head[:4] == b"PK\x03\x04" and ext == "pytorch":
        return "pytorch"
    if head.startswith(_LEGACY_TORCH):
        return "pytorch"
    if ext == "onnx":
        return "onnx"
    return None


def scan_folder(folder_rel: str, base: str, root_r: str, what: str, scan_cap: int,
                on_cap: Callable[[int], Exception]) -> FolderScan:
    """Split the files below ``folder_rel`` (relative to ``base``) into weights, indexes, the rest.

    Hidden files and folders are skipped and symlinked folders are not followed (as for ``**``);
    a file (or symlink) that resolves outside ``root_r`` is an error before it is opened. Returned
    paths are relative to ``base`` and ``/``-separated.
    """
    from ..paths import resolve_inside

    weights: list[str] = []
    indexes: list[str] = []
    left: list[tuple[str, str]] = []
    names = set(iter_glob(base, folder_rel.rstrip("/") + "/**", scan_cap, on_cap))
    for rel in sorted(names):
        name = posixpath.basename(rel)
        full = resolve_inside(rel, Path(base), Path(root_r), what)
        if not full.is_file():
            left.append((rel, "not a regular file"))
            continue
        if is_index(name):
            indexes.append(rel)
            continue
        if TRAINING_STATE.fullmatch(name):
            left.append((rel, "training state"))
            continue
        if name.lower().endswith(".dvc"):
            target = rel[: -len(".dvc")]
            if target in names:
                left.append((rel, "its file is present"))
            elif format_from_name(target) is not None:
                weights.append(rel)
            else:
                left.append((rel, "tracks a file that is not weights"))
            continue
        fmt = sniff(full, rel, what)
        if fmt is None:
            left.append((rel, "not weights"))
        else:
            weights.append(rel)
    return FolderScan(weights=tuple(weights), indexes=tuple(indexes), left_out=tuple(left))


def listed(names: Sequence[str], limit: int = _LISTED) -> str:
    """``a, b, c`` or ``a, b, ... and 7 more``."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


def _gguf_unit(a: ArtifactSize) -> tuple[str, int, int] | None:
    """(stem, no, count) for a GGUF split file (1-based no), from its metadata or else its name."""
    m = SHARD_RE.fullmatch(posixpath.basename(a.path))
    if a.split is not None and a.split[1] > 1:
        no, count = a.split[0] + 1, a.split[1]
        return (m.group("stem") if m else "", no, count)
    if a.split is None and m:
        return (m.group("stem"), int(m.group("no")), int(m.group("count")))
    return None


ShardNames = list[tuple[str, str, "re.Match[str] | None"]]


def shard_names(files: Sequence[ArtifactSize]) -> ShardNames:
    """``(folder, name, SHARD_RE match or None)`` of each file's shown path, in order: what
    :func:`check_sets` and :func:`same_format_twice` look at, worked out once for both."""
    shard = SHARD_RE.fullmatch
    out: ShardNames = []
    for a in files:
        folder, _, name = a.path.rpartition("/")  # posixpath.split, without its call
        out.append((folder, name, shard(name) if "-of-" in name else None))
    return out


def check_sets(files: Sequence[ArtifactSize], what: str, *, names: ShardNames | None = None) -> None:
    """Refuse a model whose files do not form one model (see the module docstring). ``names``:
    :func:`shard_names` of ``files``, when the caller has it."""
    sets: dict[tuple[str, str, int, str], dict[int, str]] = {}
    for a, (folder, _, m) in zip(files, names if names is not None else shard_names(files), strict=True):
        if a.format == "gguf" and a.split is not None and a.split[1] > 1:
            no, count = a.split[0] + 1, a.split[1]
            if no > count:
                raise InputError(f"{what}: {quote(a.path)}: GGUF split.no {a.split[0]} is not below split.count "
                                 f"{count}; the file is corrupt")
            if m and (int(m.group("no")), int(m.group("count"))) != (no, count):
                raise InputError(f"{what}: {quote(a.path)} is named as split {int(m.group('no'))} of "
                                 f"{int(m.group('count'))}, but its metadata (split.no {a.split[0]}, split.count "
                                 f"{count}) says split {no} of {count}; restore the name gguf-split gave it")
        if not m:
            continue
        stem, no_s, count_s, ext = m.groups()
        no, count = int(no_s), int(count_s)
        if count < 1 or not 1 <= no <= count:
            raise InputError(f"{what}: {quote(a.path)}: shard number {no} of {count} is out of range; "
                             "shards are numbered 00001 to the count")
        got = sets.get((folder, stem, count, ext))
        if got is None:
            got = sets[(folder, stem, count, ext)] = {}
        got[no] = a.path
    for (folder, stem, count, ext), got in sorted(sets.items()):
        if len(got) == count:  # numbers 1..count, each once (checked above): none is missing
            continue
        missing = [n for n in range(1, count + 1) if n not in got]
        if missing:
            first = posixpath.join(folder, shard_name(stem, missing[0], count, ext))
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise InputError(f"{what}: shard {quote(first)}{more} of the {count}-file set {stem}-*-of-{count:05d}{ext} "
                             f"is missing ({len(got)} of {count} present); check it out (git lfs pull, dvc pull) "
                             "or match every shard")
    # complete GGUF models: one per architecture (a vision projector beside a language model is fine).
    # gguf-split copies the metadata (general.architecture included) into the first split only.
    units: dict[str | None, list[str]] = {}
    split_sets: dict[tuple[str, str, int], tuple[set[int], list[str | None], str]] = {}
    for a in [a for a in files if a.format == "gguf"]:
        u = _gguf_unit(a)
        if u is None:
            units.setdefault(a.arch, []).append(a.path)
            continue
        nos, arches, _ = split_sets.setdefault((posixpath.dirname(a.path), u[0], u[2]), (set(), [], a.path))
        nos.add(u[1])
        arches.append(a.arch)
    for (folder, stem, count), (nos, arches, first) in sorted(split_sets.items()):
        if not stem:  # split metadata on files not named as gguf-split names them: check the numbers
            missing = [n for n in range(1, count + 1) if n not in nos]
            if missing:
                raise InputError(f"{what}: GGUF split {missing[0]} of {count} (split.no {missing[0] - 1}) "
                                 f"in {quote(folder or '.')} is missing; match every file of the split model")
        known = sorted({x for x in arches if x is not None})
        units.setdefault(known[0] if len(known) == 1 else None, []).append(first)
    flat = [(arch, p) for arch, ps in units.items() for p in ps]
    for arch, _ in flat:  # an unknown architecture (an LFS pointer, no metadata) clashes with any
        paths = [p for a2, p in flat if arch is None or a2 is None or a2 == arch]
        if len(paths) > 1:
            kind = f" (architecture {arch!r})" if arch else ""
            raise InputError(f"{what}: {listed([quote(p) for p in sorted(paths)], 4)} are each a complete GGUF "
                             f"model{kind}; one model's artifacts hold one of them (split files "
                             "-00001-of-0000N.gguf are one model): give each its own entry under models:, or "
                             "narrow the glob")
    if len({a.format for a in files if a.format in WEIGHT_FORMATS}) < 2:
        return
    fmts: dict[str, list[str]] = {}
    for a in files:
        if a.format in WEIGHT_FORMATS:
            fmts.setdefault(a.format, []).append(a.path)
    if len(fmts) > 1:
        parts = "; ".join(f"{f} ({listed([quote(p) for p in ps], 3)})" for f, ps in sorted(fmts.items()))
        raise InputError(f"{what}: the artifacts hold weights in {len(fmts)} formats: {parts}; the same weights in "
                         "several formats would be counted twice: keep the files of one format (e.g. "
                         "'*.safetensors'), or give each format its own entry under models:")


def same_format_twice(files: Sequence[ArtifactSize], *, names: ShardNames | None = None) -> list[str]:
    """Warnings for a folder holding a shard set and, beside it, a single file of the same format.

    Checkpoints published both ways (``consolidated.safetensors`` beside
    ``model-0000N-of-0000M.safetensors``) hold the same weights twice; the parameter count doubles
    with the bytes, so plausibility cannot see it.
    """
    by_dir: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for a, (folder, name, m) in zip(files, names if names is not None else shard_names(files), strict=True):
        fmt = a.format
        if fmt != "safetensors" and fmt != "pytorch":
            continue
        got = by_dir.get((folder, fmt))
        if got is None:
            got = by_dir[(folder, fmt)] = ([], [])
        got[0 if m else 1].append(name)
    out = []
    for (folder, fmt), (sets, singles) in sorted(by_dir.items()):
        if sets and singles:
            stems = sorted({m.group("stem") for n in sets if (m := SHARD_RE.fullmatch(n))})
            out.append(f"warning: {folder or '.'} holds the {fmt} shards {listed([s + '-*' for s in stems], 3)} "
                       f"and {listed(singles, 3)} beside them: if these are the same weights saved twice, they are "
                       "counted twice; keep the files of one of them")
    return out


def same_onnx_weights(files: Sequence[ArtifactSize]) -> list[str]:
    """Warnings for ONNX graphs of one model whose weight matrices have the same shapes.

    optimum exports a decoder with and without past key values (``decoder_model.onnx``,
    ``decoder_with_past_model.onnx`` and the ``decoder_model_merged.onnx`` that holds both), and
    model folders often keep one graph in several precisions (``model.onnx``, ``model_fp16.onnx``,
    ``model_quantized.onnx``); a glob over such a folder sums the same weights two or more times, and
    the parameter count grows with the bytes, so plausibility cannot see it. An encoder and a decoder
    differ in shapes and are not flagged. A warning, not an error: two distinct models of the same
    architecture (an ensemble) also match.
    """
    groups: dict[str, list[str]] = {}
    for a in files:
        if a.format == "onnx" and a.weight_shapes:
            groups.setdefault(a.weight_shapes, []).append(a.path)
    out = []
    for digest, paths in sorted(groups.items(), key=lambda kv: sorted(kv[1])):
        if len(paths) > 1:
            n = digest.rsplit("/", 1)[1]
            out.append(f"warning: {listed([quote(p) for p in sorted(paths)], 4)} hold weight matrices of the same "
                       f"{n} shapes: if they are one model's weights exported twice (with and without past key "
                       "values) or saved in two precisions, they are counted twice; keep one of them")
    return out


def unread_onnx_data(files: Sequence[ArtifactSize], exists: Callable[[str], bool]) -> list[str]:
    """Warnings for an ONNX graph that could not be read (an LFS pointer, a .dvc record): its
    external data files cannot be known, so files beside it with the usual names are named.

    ``exists(path)`` tells whether a path shown like the artifacts' exists.
    """
    counted = {a.path for a in files}
    out = []
    for a in files:
        if a.format != "onnx" or a.source == "stat":
            continue
        folder, name = posixpath.split(a.path)
        stem = name[: -len(".onnx")] if name.lower().endswith(".onnx") else name
        usual = {f"{name}.data", f"{name}_data", f"{stem}.data", f"{stem}.onnx_data"}
        near = sorted(n for n in usual if posixpath.join(folder, n) not in counted
                      and exists(posixpath.join(folder, n)))
        if near:
            out.append(f"warning: {a.path} is sized from its {a.source} record, so its external data is not known; "
                       f"{listed([posixpath.join(folder, n) for n in near], 3)} beside it looks like it: list it "
                       "too if the model keeps its weights there")
    return out


def plausibility(size_bytes: int, params: int | None, files: Sequence[ArtifactSize]) -> list[str]:
    """A warning when 8 * bytes / params is below 0.5 or above 64 bits per parameter."""
    if not params:
        return []
    bpp = 8 * size_bytes / params
    if LOW_BITS <= bpp <= HIGH_BITS:
        return []
    why = ("below 0.5: weights were probably not counted (external data, shards, LFS objects)"
           if bpp < LOW_BITS else "above 64: bytes were probably counted twice, or files that are not weights")
    return [(f"warning: {size_bytes:,} bytes for {params:,} parameters is {bpp:.4g} bits per parameter, {why}; "
            f"files: {listed([a.path for a in files], 6)}")]
