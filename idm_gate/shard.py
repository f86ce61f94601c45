"""Measurement past one machine: ``measure --shard K/N`` measures a stable 1/N of the models,
``merge`` joins the N parts into one report that ``check``, ``record`` and ``publish`` take with
``--report`` instead of measuring again.

- **Which models a part holds.** Model ``name`` belongs to part ``1 + H(name) mod N``, ``H`` the
  first 8 bytes of the SHA-256 of the UTF-8 name as a big-endian integer. It depends on the name
  and N only: adding, removing or reordering models never moves another model to another part, so
  a part's runner keeps its caches. With few models some parts may be empty; that is still a part.
- **A part** is the JSON report of those models (``measure --format json``) plus ``commit`` (the
  checkout's HEAD, null outside git) and ``shard``: ``{"index": K, "count": N, "models": M,
  "positions": [...]}`` (M models in the manifest; each of this part's models' index in it).
- **merge** refuses, naming the file: a file that is not a part; parts of different manifests
  (digest), commits, idm-gate versions or part counts; a part given twice (overlap) or missing
  (gap); a model in the wrong part, in two parts, or in none. The merged report lists the models in
  manifest order and keeps ``commit``; it is an ordinary report (no ``shard``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, truncate
from .manifest import Manifest

if TYPE_CHECKING:
    from .data import Measurement

MAX_PARTS = 1000
_SHARD = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N) with 1 <= K <= N <= ``MAX_PARTS``; else an ``InputError``."""
    m = _SHARD.match(text or "")
    k, n = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if not m or not 1 <= k <= n <= MAX_PARTS:
        raise InputError(f"--shard: {text!r} is not valid; write K/N with 1 <= K <= N <= {MAX_PARTS}, "
                         "e.g. 2/8 for the second of eight parts")
    return k, n


def part_of(name: str, count: int) -> int:
    """The part (1-based, of ``count``) that model ``name`` belongs to."""
    h = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return 1 + h % count


def select(man: Manifest, index: int, count: int) -> Manifest:
    """The manifest with only part ``index`` of ``count``'s models (each keeps its ``models[i]``)."""
    return replace(man, models=tuple(s for s in man.models if part_of(s.name, count) == index))


def part_doc(report: dict[str, Any], man: Manifest, part: Manifest, index: int, count: int,
             commit: str | None) -> dict[str, Any]:
    """The part's JSON: ``report`` (of ``part``'s models) with ``commit`` and ``shard``."""
    return {**report, "commit": commit,
            "shard": {"index": index, "count": count, "models": len(man.models),
                      "positions": [s.index for s in part.models]}}


def load_part(path: Path) -> dict[str, Any]:
    """Read a part: strict JSON, a report (schema and figures checked) with a ``shard``."""
    from .paths import EVAL_FILE_CAP, read_capped
    from .serialize import loads_strict, measurement_from_dict

    shown = str(path)
    doc = loads_strict(read_capped(path, EVAL_FILE_CAP, shown, shown), shown)
    if not isinstance(doc, dict) or doc.get("kind") != "measurement":
        raise InputError(f"{shown}: not an idm-gate report; expected a part written by "
                         "'idm-gate measure --shard K/N'")
    if "shard" not in doc:
        raise InputError(f"{shown}: a whole report, not a part (no 'shard'); merge only the parts written by "
                         "'idm-gate measure --shard K/N'")
    # the schema (shard included) and the figures; "context" is the action's note of its PR
    measurement_from_dict({k: v for k, v in doc.items() if k != "context"}, shown)
    return doc


def merge(parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Join parts (``(shown, doc)`` from ``load_part``) into one report; ``InputError`` on any
    overlap, gap or mismatch (see the module docstring)."""
    if not parts:
        raise InputError("idm-gate merge: no parts given; pass every part-*.json that measure --shard wrote")
    first_shown, first = parts[0]
    same = (("manifest_digest", "manifests"), ("commit", "commits"), ("tool_version", "idm-gate versions"),
            ("log_base", "manifests"))
    for shown, doc in parts[1:]:
        for key, what in same:
            if doc.get(key) != first.get(key):
                raise InputError(f"{shown}: a part of different {what} ({key} {_short(doc.get(key))}, but "
                                 f"{first_shown} has {_short(first.get(key))}); merge the parts of one measure run")
        for key in ("count", "models"):
            if doc["shard"][key] != first["shard"][key]:
                what = "part count" if key == "count" else "model count"
                raise InputError(f"{shown}: shard {key} {doc['shard'][key]}, but {first_shown} has "
                                 f"{first['shard'][key]}: parts of a different {what}; merge the parts of one run")
    count, total = first["shard"]["count"], first["shard"]["models"]
    by_index: dict[int, str] = {}
    for shown, doc in parts:
        k = doc["shard"]["index"]
        if not 1 <= k <= count:
            raise InputError(f"{shown}: shard index {k} is outside 1..{count}")
        if k in by_index:
            raise InputError(f"{shown}: part {k} of {count} is also given as {by_index[k]} (an overlap); pass each "
                             "part once")
        by_index[k] = shown
    missing = [k for k in range(1, count + 1) if k not in by_index]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"idm-gate merge: part {missing[0]} of {count}{more} is missing (a gap: {len(by_index)} of "
                         f"{count} given); pass every part-*.json the measure jobs wrote")
    placed: dict[int, tuple[dict[str, Any], str]] = {}
    names: dict[str, str] = {}
    for shown, doc in parts:
        k, pos = doc["shard"]["index"], doc["shard"]["positions"]
        if len(pos) != len(doc["models"]):
            raise InputError(f"{shown}: shard positions list {len(pos)} models but the part holds "
                             f"{len(doc['models'])}; the part was edited")
        for i, (p, model) in enumerate(zip(pos, doc["models"], strict=True)):
            name = model["name"]
            if part_of(name, count) != k:
                raise InputError(f"{shown}: models[{i}] {_short(name)} belongs to part {part_of(name, count)} of "
                                 f"{count}, not {k}; the part was not written by measure --shard {k}/{count}")
            if name in names:
                raise InputError(f"{shown}: model {_short(name)} is also in {names[name]} (an overlap)")
            if not 0 <= p < total or p in placed:
                raise InputError(f"{shown}: model {_short(name)} has manifest position {p}, "
                                 f"{'taken by another model' if p in placed else f'outside 0..{total - 1}'}; "
                                 "the part was edited")
            names[name] = shown
            placed[p] = (model, shown)
    if len(placed) != total:
        gap = next(p for p in range(total) if p not in placed)
        raise InputError(f"idm-gate merge: models[{gap}] of the manifest is in no part ({len(placed)} of {total} "
                         "models measured); the parts do not cover the manifest")
    merged = {k: v for k, v in first.items() if k not in ("shard", "models", "notices")}
    merged["models"] = [placed[p][0] for p in range(total)]
    notices: list[str] = []
    for _, doc in sorted(parts, key=lambda sd: sd[1]["shard"]["index"]):
        notices.extend(n for n in doc["notices"] if n not in notices)
    merged["notices"] = notices
    return merged


def _short(v: object) -> str:
    r = repr(v)
    return truncate(r, 80, "...")


def load_report(path: Path, man: Manifest, head: str | None, flag: str = "--report") -> Measurement:
    """A whole report (``measure --format json`` or ``merge``) of this checkout, for ``check`` and
    ``record``: refused when it is a part, of another manifest (digest) or of another commit."""
    from .paths import EVAL_FILE_CAP, read_capped
    from .serialize import loads_strict

    shown = f"{flag} {path}"
    doc = loads_strict(read_capped(path, EVAL_FILE_CAP, shown, str(path)), shown)
    if not isinstance(doc, dict):
        raise InputError(f"{shown}: not a JSON object; expected a report from idm-gate measure or merge")
    if "shard" in doc:
        s = doc["shard"]
        raise InputError(f"{shown}: part {s.get('index') if isinstance(s, dict) else '?'} of "
                         f"{s.get('count') if isinstance(s, dict) else '?'}, not a whole report; join the parts "
                         "first: idm-gate merge part-*.json -o report.json")
    return report_of_checkout(doc, shown, man, head)


def load_measured(paths: list[Path], man: Manifest, head: str | None, flag: str) -> Measurement:
    """One whole report, or every part of a sharded run (merged here), as ``load_report`` checks it.
    For the action's ``measured-report`` input, which may name the parts with a glob."""
    if len(paths) == 1:
        try:
            return load_report(paths[0], man, head, flag)
        except InputError as e:
            if "not a whole report" not in str(e):
                raise
    merged = merge([(str(p), load_part(p)) for p in paths])
    return report_of_checkout(merged, f"{flag} (merged from {len(paths)} parts)", man, head)


def report_of_checkout(doc: dict[str, Any], shown: str, man: Manifest, head: str | None) -> Measurement:
    """``doc`` as a ``Measurement`` once it is checked to be of ``man`` and, when it names its commit,
    of ``head``."""
    from .serialize import measurement_from_dict

    doc = dict(doc)
    doc.pop("context", None)  # the action's measure mode notes its PR; the commit check below covers it
    m = measurement_from_dict(doc, shown)
    if m.manifest_digest != man.digest:
        raise InputError(f"{shown}: measured from another manifest (digest {m.manifest_digest[:12]}, this checkout's "
                         f"{man.shown} is {man.digest[:12]}); measure this checkout, or pass its report")
    commit = doc.get("commit")
    if commit is not None and head is not None and commit != head:
        raise InputError(f"{shown}: measured at commit {commit[:12]}, but HEAD is {head[:12]}; measure this "
                         "checkout, or pass its report")
    return m
