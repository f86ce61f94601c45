"""Find a repository's weights and eval results and group them into models (``idm-gate init``).

``scan(root)`` lists the files under ``root`` (``git ls-files`` where ``root`` is in a git work tree,
so ignored files stay out as they would in a CI checkout; a plain walk otherwise), then:

Weights (``WeightSet``: one candidate model each)
    - ``.safetensors``, ``.gguf``, ``.onnx`` and PyTorch checkpoints (``.pt .pth .bin .ckpt``), Git LFS
      pointers included (sizing reads their ``size`` line; the name gives the format).
    - Shards ``<prefix>-00001-of-00003.<ext>`` (Hugging Face sharded safetensors and ``.bin``,
      llama.cpp split GGUF) form one set; a set with a shard missing, or whose
      ``<prefix>.<ext>.index.json`` names a file that is not there, is refused (a partial size would
      be a plausible wrong number).
    - Every other GGUF file is its own model: one model per quantization. A vision projector (a GGUF
      of architecture ``clip``, llama.cpp's ``mmproj-*.gguf``) alone in a folder of GGUF models goes
      with each of them.
    - An ONNX model takes the external data files its graph names (``location``; read by the ONNX
      header reader, counted by sizing).
    - Which file is weights, shards, indexes and trainer state follow :mod:`idm_gate.sizing.layout`
      (``sniff``, ``SHARD_RE``, ``read_index``, ``TRAINING_STATE``), the rules sizing applies.
    - A folder holding ``model*.safetensors`` and ``pytorch_model*.bin`` holds the same weights twice
      (the Hub's two formats): the ``.bin`` set is left out so the size is counted once.
    - Trainer state (``optimizer.pt``, ``scheduler.pt``, ``rng_state*.pth``, ``training_args.bin``, ...)
      is not weights and is left out.
    - A ``<path>.dvc`` file stands for the file or folder it tracks (its ``outs[].size``); a weight
      file or folder a ``dvc.lock`` stage outputs is a model named by its path (sizing reads the lock).

Eval results (``EvalFile``)
    lm-evaluation-harness, lighteval and MTEB results JSON, OpenCompass summary CSVs (placed by their
    model column), ``task,score`` CSVs, and ``README.md``
    model cards whose front matter has a ``model-index``, as :func:`idm_gate.evals.detect_format`
    (the detection ``measure`` uses) tells them apart. ``init`` then reads each with ``measure``'s
    reader; one that does not read is reported with the reader's error, never placed.

Placing an eval file on a model goes from the most to the least specific evidence, stopping at the
first that names exactly one model (two or more is "ambiguous", reported, never guessed):
1. paths the file names (lm-eval's ``model_args`` ``pretrained=``/``gguf_file=``; lighteval's and
   MTEB's model name when it is a path in the repository);
2. where the file is: inside the folder of exactly one model;
3. names: the model name the file records (lm-eval ``model_name``, the folder lm-eval writes its
   results to, a card's ``model-index`` name, MTEB's model folder, a CSV's file name), compared with
   each model's name, weight-file stem and folder name;
4. the repository holds one model only.

Nothing here writes a file; ``init`` renders and verifies the manifest.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .paths import EVAL_FILE_CAP
from .sizing.layout import SHARD_RE, TRAINING_STATE, is_index, read_index, sniff

MAX_FILES = 200_000        # files listed under the scanned folder
MAX_JSON_FILES = 5_000     # JSON files opened to see whether they are eval results
SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".dvc",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", ".ipynb_checkpoints"}

WEIGHT_EXTENSIONS = {".safetensors": "safetensors", ".gguf": "gguf", ".onnx": "onnx", ".pt": "pytorch",
                     ".pth": "pytorch", ".bin": "pytorch", ".ckpt": "pytorch"}
FORMAT_LABELS = {"safetensors": "safetensors", "gguf": "GGUF", "onnx": "ONNX", "pytorch": "PyTorch",
                 "dvc": "DVC-tracked"}

# Hub conventions: stems that name no model, so the folder names it.
GENERIC_STEMS = {"model", "pytorch_model", "diffusion_pytorch_model", "adapter_model", "consolidated",
                 "weights", "checkpoint", "last", "best", "final", "model.fp16", "flax_model"}
# Where a JSON file is certainly not eval results (Hub model folders hold many of these).
NOT_EVAL_JSON = re.compile(r"(^|/)(config|tokenizer|tokenizer_config|generation_config|special_tokens_map|"
                           r"vocab|added_tokens|preprocessor_config|adapter_config|trainer_state|"
                           r"model_index|package|package-lock|tsconfig|model_meta)\.json$|\.index\.json$", re.I)
LFS_VERSION = b"version https://git-lfs.github.com/spec/v1"
FRONT_MATTER_MODEL_INDEX = re.compile(r"^model-index\s*:", re.M)


@dataclass(frozen=True)
class WeightSet:
    """The files of one candidate model.

    ``files`` are paths relative to the scanned folder; ``artifacts`` what the manifest lists (the
    same paths, or the ``.dvc`` file for a DVC-tracked folder); ``note`` one line for the manifest's
    comment ("3 shards, as model.safetensors.index.json lists").
    """

    name: str
    format: str
    folder: str
    files: tuple[str, ...]
    artifacts: tuple[str, ...]
    note: str
    stem: str


@dataclass(frozen=True)
class EvalFile:
    """One eval results file and what it says about the model it measured.

    ``kind`` is the format (``lm-eval``, ``lighteval``, ``mteb``, ``model-index``); ``paths`` are
    repository paths the file names as its model, ``names`` model names it records; ``date`` orders
    reruns (newest first), 0 when unknown.
    """

    path: str
    kind: str
    paths: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    date: float = 0.0


@dataclass(frozen=True)
class Finding:
    """A file found but not placed in the manifest, and why (one line)."""

    path: str
    reason: str


@dataclass
class ScanResult:
    weights: list[WeightSet] = field(default_factory=list)
    evals: list[EvalFile] = field(default_factory=list)
    unplaced: list[Finding] = field(default_factory=list)
    dvc_tracked: set[str] = field(default_factory=set)   # paths .dvc files and dvc.lock stand for


# ---------------------------------------------------------------------------------------------
# listing


def list_files(root: Path) -> list[str]:
    """Files under ``root``, ``/``-separated and relative to it, sorted; hidden and tool folders skipped.

    Inside a git work tree: tracked files plus untracked ones that are not ignored (``git ls-files
    --cached --others --exclude-standard``), as a fresh checkout of the commit would have them once
    committed. Elsewhere: a walk. More than ``MAX_FILES`` is an InputError.
    """
    files = _git_files(root)
    if files is None:
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, root)
            for name in filenames:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                files.append(rel)
                if len(files) > MAX_FILES:
                    raise _too_many(root)
    kept = [f for f in files if not any(p in SKIP_DIRS or p.startswith(".") for p in f.split("/")[:-1])
            and not f.rsplit("/", 1)[-1].startswith(".")]
    if len(kept) > MAX_FILES:
        raise _too_many(root)
    return sorted(set(kept))


def _too_many(root: Path) -> InputError:
    return InputError(f"init: {str(root)!r} holds over {MAX_FILES:,} files; point init at the folder "
                      "that holds the models (idm-gate init PATH)")


def _git_files(root: Path) -> list[str] | None:
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=root, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if inside.returncode or inside.stdout.strip() != "true":
        return None
    proc = subprocess.run(["git", "-c", "core.quotepath=off", "ls-files", "-z", "--cached", "--others",
                           "--exclude-standard", "--", "."], cwd=root, capture_output=True, stdin=subprocess.DEVNULL)
    if proc.returncode:
        return None
    out = []
    for raw in proc.stdout.split(b"\0"):
        if not raw:
            continue
        rel = os.fsdecode(raw)
        if os.path.lexists(root / rel):  # a tracked file deleted in the work tree is not there to size
            out.append(rel)
    return out


def git_ignored_weights(root: Path) -> list[str]:
    """Weight files under ``root`` that git ignores (a CI checkout will not have them); [] outside git."""
    try:
        proc = subprocess.run(["git", "-c", "core.quotepath=off", "ls-files", "-z", "--others", "--ignored",
                               "--exclude-standard", "--", "."], cwd=root, capture_output=True,
                              stdin=subprocess.DEVNULL)
    except (FileNotFoundError, NotADirectoryError):
        return []
    if proc.returncode:
        return []
    out = []
    for raw in proc.stdout.split(b"\0"):
        rel = os.fsdecode(raw)
        if rel and weight_format(rel) and not any(p in SKIP_DIRS or p.startswith(".")
                                                  for p in rel.split("/")[:-1]):
            out.append(rel)
        if len(out) >= 1000:
            break
    return sorted(out)


# ---------------------------------------------------------------------------------------------
# weights


def weight_format(rel: str) -> str | None:
    """The weight format a file name implies (``safetensors``, ``gguf``, ``onnx``, ``pytorch``) or None.

    Trainer state files (``optimizer.pt``, ``training_args.bin``, ...) are not weights: None.
    """
    name = rel.rsplit("/", 1)[-1]
    if TRAINING_STATE.fullmatch(name):
        return None
    low = name.lower()
    for ext, fmt in WEIGHT_EXTENSIONS.items():
        if low.endswith(ext):
            return fmt
    return None


def _folder(rel: str) -> str:
    return posixpath.dirname(rel)


def _strip_ext(name: str) -> str:
    low = name.lower()
    for ext in WEIGHT_EXTENSIONS:
        if low.endswith(ext):
            return name[: -len(ext)]
    return name


def _read_small(path: Path, cap: int) -> bytes | None:
    try:
        if path.stat().st_size > cap or not path.is_file():
            return None
        return path.read_bytes()
    except OSError:
        return None


def _is_lfs_pointer(path: Path) -> bool:
    data = _read_small(path, 1023)
    return bool(data and data.startswith(LFS_VERSION))


def _index_files(root: Path, folder: str, index_name: str, result: ScanResult) -> set[str] | None:
    """The shard file names a ``*.index.json`` lists (:func:`idm_gate.sizing.layout.read_index`), or
    None without one; an unreadable index is reported."""
    rel = posixpath.join(folder, index_name)
    if not (root / rel).is_file():
        return None
    try:
        return set(read_index(root / rel, rel, "init").shards)
    except InputError as e:
        result.unplaced.append(Finding(rel, f"a shard index that cannot be read ({str(e).split(': ', 2)[-1]})"))
        return None


def group_weights(root: Path, files: list[str], result: ScanResult) -> None:
    """Group the weight files of ``files`` into ``result.weights`` (see the module docstring)."""
    present = set(files)
    dvc_tracked = result.dvc_tracked
    sets: list[WeightSet] = []
    for rel in files:
        if rel.endswith(".dvc"):
            _dvc_file(root, rel, result, sets, dvc_tracked)
        elif rel.rsplit("/", 1)[-1] == "dvc.lock":
            _dvc_lock(root, rel, result, sets, dvc_tracked)

    shards: dict[tuple[str, str, str, int], dict[int, str]] = {}
    singles: list[tuple[str, str]] = []
    for rel in files:
        fmt = weight_format(rel)
        name = rel.rsplit("/", 1)[-1]
        if fmt is None or rel in dvc_tracked or any(rel.startswith(d + "/") for d in dvc_tracked):
            if TRAINING_STATE.fullmatch(name) and rel not in dvc_tracked:
                result.unplaced.append(Finding(rel, "training state (optimizer, scheduler, RNG), not weights"))
            continue
        try:
            sniffed = sniff(root / rel, rel, "init")
        except InputError as e:
            result.unplaced.append(Finding(rel, str(e).split(": ", 1)[-1]))
            continue
        if sniffed is None:
            # a .bin that is neither a PyTorch zip nor a legacy torch.save pickle (sizing.layout.sniff)
            result.unplaced.append(Finding(rel, f"named like {fmt} weights, but its first bytes are not"))
            continue
        m = SHARD_RE.fullmatch(name)
        if m and m["ext"].lower() in (".safetensors", ".gguf", ".bin"):
            key = (_folder(rel), m["stem"], m["ext"][1:].lower(), int(m["count"]))
            shards.setdefault(key, {})[int(m["no"])] = rel
        else:
            singles.append((rel, fmt))

    for (folder, prefix, ext, n), parts in sorted(shards.items()):
        fmt = WEIGHT_EXTENSIONS["." + ext]
        rels = tuple(parts[i] for i in sorted(parts))
        missing = [i for i in range(1, n + 1) if i not in parts]
        if missing or n == 0:
            have = ", ".join(r.rsplit("/", 1)[-1] for r in rels)
            for r in rels:
                result.unplaced.append(Finding(r, f"shard set {prefix}-*-of-{n:05d}.{ext} is incomplete "
                                                  f"({len(parts)} of {n} present: {have}); a partial size "
                                                  "would be wrong"))
            continue
        index_name = f"{prefix}.{ext}.index.json"
        listed = _index_files(root, folder, index_name, result)
        note = f"{n} shards"
        if listed is not None:
            names = {r.rsplit("/", 1)[-1] for r in rels}
            absent = sorted(listed - names)
            if absent:
                for r in rels:
                    result.unplaced.append(Finding(r, f"{index_name} lists {', '.join(absent[:3])}, which is not "
                                                      "in the repository; a partial size would be wrong"))
                continue
            note += f", as {index_name} lists"
        sets.append(_set(fmt, folder, prefix, rels, rels, note))

    for rel, fmt in singles:
        folder, name = _folder(rel), rel.rsplit("/", 1)[-1]
        stem = _strip_ext(name)
        files_ = [rel]
        note = "1 file"
        if _is_lfs_pointer(root / rel):
            note = "Git LFS pointer (its size line is used)"
        if fmt == "onnx":
            # sizing counts the external data files the graph names (ArtifactSize.external); the
            # manifest lists the .onnx file only
            from .sizing import onnx as onnx_reader

            try:
                external = onnx_reader.measure(root / rel, rel, "init").external
            except InputError as e:
                result.unplaced.append(Finding(rel, str(e).split(": ", 1)[-1]))
                continue
            data = [posixpath.normpath(posixpath.join(folder, x)) for x in external]
            files_ += [d for d in data if d in present]
            if data:
                note = f"with its external data {', '.join(d.rsplit('/', 1)[-1] for d in data)}"
        sets.append(_set(fmt, folder, stem, tuple(files_), (rel,), note))

    sets = _drop_duplicate_formats(sets, result)
    sets = _attach_projectors(root, sets, result)
    result.weights.extend(_unique_names(sets, root))


def _attach_projectors(root: Path, sets: list[WeightSet], result: ScanResult) -> list[WeightSet]:
    """A llama.cpp vision projector (a GGUF of architecture ``clip``, ``mmproj-*.gguf``) beside language
    model GGUFs belongs to each of them: a multimodal model runs with both, so both are its bytes. With
    two projectors in one folder (f16 and q8, say) which one goes with which model is not said: they stay
    apart and are reported."""
    from .sizing import gguf as gguf_reader

    arch: dict[str, str | None] = {}
    for w in sets:
        if w.format == "gguf" and len(w.files) == 1 and w.files == w.artifacts:
            try:
                arch[w.files[0]] = gguf_reader.measure(root / w.files[0], w.files[0], "init").arch
            except InputError:
                arch[w.files[0]] = None  # sizing will say what is wrong when it is measured
    by_folder: dict[str, list[WeightSet]] = {}
    for w in sets:
        if w.format == "gguf" and arch.get(w.files[0]) == "clip":
            by_folder.setdefault(w.folder, []).append(w)
    out = []
    for w in sets:
        projectors = by_folder.get(w.folder, [])
        if w in projectors:
            models = [x for x in sets if x.folder == w.folder and x.format == "gguf" and x not in projectors]
            if len(projectors) == 1 and models:
                continue  # attached to each model below
            if models:
                result.unplaced.append(Finding(w.files[0], f"one of {len(projectors)} vision projectors beside "
                                                           f"{len(models)} GGUF models; add it to the artifacts of "
                                                           "the models it goes with"))
            out.append(w)
        elif w.format == "gguf" and len(projectors) == 1:
            p = projectors[0]
            name = p.files[0].rsplit("/", 1)[-1]
            out.append(WeightSet(w.name, w.format, w.folder, w.files + p.files, w.artifacts + p.artifacts,
                                 f"{w.note}, with the vision projector {name}", w.stem))
        else:
            out.append(w)
    return out


def _set(fmt: str, folder: str, stem: str, files: tuple[str, ...], artifacts: tuple[str, ...],
         note: str) -> WeightSet:
    return WeightSet(name="", format=fmt, folder=folder, files=files, artifacts=artifacts, note=note, stem=stem)


def _drop_duplicate_formats(sets: list[WeightSet], result: ScanResult) -> list[WeightSet]:
    """``pytorch_model*.bin`` beside ``model*.safetensors`` (same folder) is the same weights again."""
    twins = {"pytorch_model": "model", "diffusion_pytorch_model": "diffusion_pytorch_model",
             "adapter_model": "adapter_model"}
    safe = {(s.folder, s.stem) for s in sets if s.format == "safetensors"}
    kept = []
    for s in sets:
        twin = twins.get(s.stem, s.stem)
        if s.format == "pytorch" and (s.folder, twin) in safe:
            for f in s.files:
                result.unplaced.append(Finding(f, f"the same weights as {posixpath.join(s.folder, twin)}"
                                                  "*.safetensors in PyTorch format; left out so the size "
                                                  "counts once"))
            continue
        kept.append(s)
    return kept


def _unique_names(sets: list[WeightSet], root: Path) -> list[WeightSet]:
    def base_name(s: WeightSet) -> str:
        if s.format == "gguf" or s.stem.lower() not in GENERIC_STEMS:
            return s.stem
        folder = s.folder or root.resolve().name
        return folder.rsplit("/", 1)[-1] or s.stem

    names = [base_name(s) for s in sets]
    out = []
    for s, n in zip(sets, names, strict=True):
        if names.count(n) > 1:  # disambiguate with the path, shortest unique suffix first
            parts = [p for p in s.folder.split("/") if p] + [s.stem]
            for k in range(2, len(parts) + 1):
                cand = "/".join(parts[-k:])
                if sum(1 for t in sets if "/".join(([p for p in t.folder.split("/") if p] + [t.stem])[-k:])
                       == cand) == 1:
                    n = cand
                    break
            else:
                n = "/".join(parts)
        out.append(WeightSet(n, s.format, s.folder, s.files, s.artifacts, s.note, s.stem))
    return out


def _dvc_file(root: Path, rel: str, result: ScanResult, sets: list[WeightSet], tracked: set[str]) -> None:
    from .yamlsafe import load_yaml

    data = _read_small(root / rel, 1024 * 1024)
    try:
        doc = load_yaml(data, rel) if data is not None else None
    except InputError as e:
        result.unplaced.append(Finding(rel, f"not a readable .dvc file ({e})"))
        return
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(outs, list) or not outs or not all(isinstance(o, dict) for o in outs):
        result.unplaced.append(Finding(rel, "a .dvc file without an outs list"))
        return
    folder = _folder(rel)
    paths = [posixpath.normpath(posixpath.join(folder, str(o.get("path", "")))) for o in outs]
    tracked.update(paths)
    if len(outs) == 1 and weight_format(paths[0]) and "nfiles" not in outs[0]:
        # `dvc add weights/m.gguf` -> weights/m.gguf.dvc; the manifest names the tracked file, which
        # sizing finds itself when pulled and through the .dvc file when not
        fmt = weight_format(paths[0]) or "dvc"
        stem = _strip_ext(paths[0].rsplit("/", 1)[-1])
        sets.append(_set(fmt, _folder(paths[0]), stem, (rel,), (paths[0],),
                                   f"tracked by DVC ({rel.rsplit('/', 1)[-1]}: outs size)"))
        return
    stem = paths[0].rsplit("/", 1)[-1] if len(paths) == 1 else _strip_ext(rel.rsplit("/", 1)[-1])
    sets.append(_set("dvc", folder, stem, (rel,), (rel,),
                               "a DVC-tracked folder, counted whole (outs size)"))


def _dvc_lock(root: Path, rel: str, result: ScanResult, sets: list[WeightSet], tracked: set[str]) -> None:
    """Each weight file or folder a ``dvc.lock`` stage outputs (:func:`idm_gate.sizing.dvc.read_lock`) is a
    model; the manifest names the output's path, which sizing finds through the lock when not pulled."""
    from .sizing.dvc import read_lock

    try:
        outs = read_lock(root / rel, rel, "init")
    except InputError as e:
        result.unplaced.append(Finding(rel, str(e).split(": ", 1)[-1]))
        return
    folder = _folder(rel)
    for stage, wdir, out in outs:
        full = posixpath.normpath(posixpath.join(folder, wdir, out["path"]))
        tracked.add(full)
        fmt = weight_format(full)
        if fmt is None and out.get("nfiles") is None:
            continue  # metrics, plots, data: not weights
        name = full.rsplit("/", 1)[-1]
        note = f"output of DVC stage {stage} ({rel} records its size)"
        if fmt is None:
            sets.append(_set("dvc", _folder(full), name, (rel,), (full,), note + "; a folder, counted whole"))
        else:
            sets.append(_set(fmt, _folder(full), _strip_ext(name), (rel,), (full,), note))


# ---------------------------------------------------------------------------------------------
# eval results


def find_evals(root: Path, files: list[str], result: ScanResult) -> None:
    """Add the eval results files of ``files`` to ``result.evals``.

    The format is :func:`idm_gate.evals.detect_format`'s, the one ``measure`` uses; this module only
    adds what each file says about its model. Candidates: ``README.md`` (a card counts when its front
    matter has ``model-index``), ``*.csv``, and ``*.json`` other than the Hub's config files; generic
    ``{task: score}`` JSON is not taken (any JSON of numbers would look like it).
    """
    from .evals import detect_format
    from .jsonsafe import load_json

    opened = 0
    for rel in files:
        name = rel.rsplit("/", 1)[-1]
        low = name.lower()
        if not (low == "readme.md" or low.endswith(".csv")
                or (low.endswith(".json") and not is_index(name) and not NOT_EVAL_JSON.search(rel))):
            continue
        if opened >= MAX_JSON_FILES:
            result.unplaced.append(Finding(rel, f"not opened: over {MAX_JSON_FILES:,} candidate eval files in the "
                                                "scanned folder; point init at a smaller folder"))
            continue
        opened += 1
        data = _read_small(root / rel, EVAL_FILE_CAP)
        if not data:
            continue
        fmt = detect_format(data, name)
        if fmt == "model-index":
            if low == "readme.md":
                _model_card(data, rel, result)
        elif fmt in ("csv", "confusion-matrix", "classification-report"):
            # named by the file (evals/edge-classifier.csv, evals/fraud-screen/report.json) or its folder
            stem = name.rsplit(".", 1)[0] if low.endswith((".csv", ".json")) else name
            result.evals.append(EvalFile(rel, fmt, names=_names([stem, _parent_name(rel)])))
        elif fmt == "opencompass":
            # the model is named by its column: dataset,version,metric,mode,<model abbr>
            header = data.decode("utf-8", "replace").lstrip("\ufeff").splitlines()[0].split(",")
            result.evals.append(EvalFile(rel, "opencompass", names=_names([c.strip() for c in header[4:]])))
        elif fmt in ("lm-eval", "lighteval", "mteb"):
            try:
                doc = load_json(data, rel, allow_nan=True)
            except InputError:
                continue
            result.evals.append(describe_json(fmt, doc, rel, root))
        elif fmt is None and low.startswith("results") and low.endswith(".json"):
            result.unplaced.append(Finding(rel, "named like eval results, but not in a format idm-gate reads "
                                                "(lm-eval, lighteval, MTEB)"))


def describe_json(fmt: str, doc: Any, rel: str, root: Path) -> EvalFile:
    """What a results JSON of format ``fmt`` says about its model (paths, names, date).

    - lm-eval: ``config.model_args`` (``pretrained=``, ``gguf_file=``, ``peft=``; a string or, since
      0.4, a mapping), ``model_name``, the folder it writes to (``<output>/<model_name_sanitized>/``),
      ``date``;
    - lighteval: ``config_general.model_name``, ``start_time``;
    - MTEB: ``model_meta.json`` beside the file (``name``), and the folders it writes to
      (``results/<org__name>/<revision>/<Task>.json``).
    """
    d = doc if isinstance(doc, dict) else {}
    if fmt == "lighteval":
        cg_obj = d.get("config_general")
        cg: dict[str, Any] = cg_obj if isinstance(cg_obj, dict) else {}
        name = cg.get("model_name") if isinstance(cg.get("model_name"), str) else None
        return EvalFile(rel, "lighteval", paths=_path_hints([name]), names=_names([name, _parent_name(rel)]),
                        date=_number(cg.get("start_time")) or _stamp(rel))
    if fmt == "mteb":
        parts = _folder(rel).split("/")
        meta_name = None
        meta = _read_small(root / _folder(rel) / "model_meta.json", 1024 * 1024)
        if meta:
            try:
                from .jsonsafe import load_json

                m = load_json(meta, "model_meta.json", allow_nan=True)
                meta_name = m.get("name") if isinstance(m, dict) and isinstance(m.get("name"), str) else None
            except InputError:
                meta_name = None
        return EvalFile(rel, "mteb", names=_names([meta_name, *reversed(parts[-2:])]))
    paths: list[str | None] = []
    cfg_obj = d.get("config")
    cfg: dict[str, Any] = cfg_obj if isinstance(cfg_obj, dict) else {}
    args = _model_args(cfg.get("model_args"))
    pretrained = args.get("pretrained") or args.get("model") or args.get("path") or args.get("model_path")
    gguf = args.get("gguf_file")
    if pretrained and gguf:
        paths.append(posixpath.join(pretrained, gguf))
    paths += [pretrained, args.get("peft"), gguf]
    names = [d.get("model_name"), pretrained, _parent_name(rel)]
    return EvalFile(rel, "lm-eval", paths=_path_hints(paths), names=_names(names),
                    date=_number(d.get("date")) or _stamp(rel))


def _model_card(data: bytes, rel: str, result: ScanResult) -> None:
    text = data.decode("utf-8", "replace")
    if not text.startswith("---"):
        return
    end = text.find("\n---", 3)
    front = text[: end if end > 0 else len(text)]
    if not FRONT_MATTER_MODEL_INDEX.search(front):
        return
    m = re.search(r"^model-index\s*:\s*\n\s*-\s*name\s*:\s*(.+?)\s*$", front, re.M)
    name = m.group(1).strip("'\"") if m else None
    result.evals.append(EvalFile(rel, "model-index", names=_names([name, _parent_name(rel)])))


def _model_args(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, (str, int, float))}
    if isinstance(value, str):
        out = {}
        for part in value.split(","):
            k, sep, v = part.partition("=")
            if sep:
                out[k.strip()] = v.strip()
        return out
    return {}


def _path_hints(values: list[str | None]) -> tuple[str, ...]:
    out = []
    for v in values:
        if isinstance(v, str) and v.strip():
            p = posixpath.normpath(v.strip().replace("\\", "/"))
            if p not in out:
                out.append(p)
    return tuple(out)


def _names(values: list[Any]) -> tuple[str, ...]:
    out = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            continue
        # lm-eval and MTEB write "org/name" as "org__name"; a path's last part is the model's name
        last = v.strip().replace("__", "/").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        if last and last not in out and last not in (".", ".."):
            out.append(last)
    return tuple(out)


def _parent_name(rel: str) -> str | None:
    folder = _folder(rel)
    return folder.rsplit("/", 1)[-1] if folder else None


def _number(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})[-:](\d{2})[-:](\d{2})")


def _stamp(rel: str) -> float:
    """A sortable number from lm-eval's ``results_2026-11-01T10-00-00.123456.json`` name, 0 without one."""
    m = _STAMP.search(rel.rsplit("/", 1)[-1])
    return float("".join(m.groups())) if m else 0.0


# ---------------------------------------------------------------------------------------------
# placing evals on models


def place(ev: EvalFile, weights: list[WeightSet]) -> tuple[WeightSet | None, str]:
    """The one model ``ev`` measured, or None with the reason (see the module docstring)."""
    def by_path(p: str) -> list[WeightSet]:
        exact = [w for w in weights if p in w.files or p in w.artifacts]
        if exact:
            return exact
        return [w for w in weights if w.folder == p or w.folder.startswith(p + "/")]

    for p in ev.paths:
        hits = by_path(p)
        if len(hits) == 1:
            return hits[0], f"it names {p}"
        if len(hits) > 1:
            return None, f"it names {p}, which holds {len(hits)} models ({_list(hits)}); add it to the one it measured"
    folder = _folder(ev.path)
    inside = [w for w in weights if folder == w.folder or (w.folder and folder.startswith(w.folder + "/"))]
    if inside:
        deepest = max(len(w.folder) for w in inside)
        inside = [w for w in inside if len(w.folder) == deepest]
        if len(inside) == 1:
            return inside[0], "it is in the model's folder"
        return None, f"its folder holds {len(inside)} models ({_list(inside)}); add it to the one it measured"
    for n in ev.names:
        low = n.lower()
        hits = [w for w in weights if low in {w.name.lower(), w.stem.lower(), w.folder.rsplit("/", 1)[-1].lower()}]
        if len(hits) == 1:
            return hits[0], f"it names the model {n!r}"
        if len(hits) > 1:
            return None, f"its model name {n!r} fits {len(hits)} models ({_list(hits)}); add it to the one it measured"
    if len(weights) == 1:
        return weights[0], "the repository holds only this model"
    said = ", ".join(repr(n) for n in (*ev.paths, *ev.names)) or "nothing"
    return None, f"no model found that it names (it names {said})"


def _list(ws: list[WeightSet]) -> str:
    names = [w.name for w in ws[:3]]
    return ", ".join(names) + (f" and {len(ws) - 3} more" if len(ws) > 3 else "")


def scan(root: Path) -> ScanResult:
    """List, group and classify (no eval file is read beyond detection; see :mod:`idm_gate.init`)."""
    files = list_files(root)
    result = ScanResult()
    # a symlink out of the repository is never read (sizing and the readers would refuse it anyway)
    inside = os.path.realpath(root)
    for rel in list(files):
        real = os.path.realpath(root / rel)
        if real != inside and not real.startswith(inside.rstrip(os.sep) + os.sep):
            files.remove(rel)
            result.unplaced.append(Finding(rel, "a symlink that leads out of the scanned folder; not read"))
    group_weights(root, files, result)
    covered = result.dvc_tracked
    for rel in git_ignored_weights(root):
        if rel not in covered and not any(rel.startswith(d + "/") for d in covered):
            result.unplaced.append(Finding(rel, "ignored by git, so a checkout in CI will not have it; track it "
                                                "with Git LFS or DVC (dvc add) to gate it"))
    find_evals(root, files, result)
    return result
