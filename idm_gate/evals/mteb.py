"""Read an MTEB result file (one JSON per task, ``results/<model>/<revision>/<TaskName>.json``).

Shape since mteb 1.11 (``TaskResult.to_disk``)::

    {"dataset_revision": "0fd18e25b25c072e09e0d92ab615fda904d66300",
     "task_name": "Banking77Classification", "mteb_version": "1.12.0",
     "scores": {"test": [{"accuracy": 0.81, "f1": 0.80, "main_score": 0.81,
                          "hf_subset": "default", "languages": ["eng-Latn"]}]},
     "evaluation_time": 11.2, "kg_co2_emissions": null}

Files from before 1.11 name the task ``mteb_dataset_name``, keep ``evaluation_time`` inside each
split and have no ``main_score``: a split holds the metrics directly (``{"accuracy": 0.81, ...}``)
or one object per language (``{"en": {...}, "de": {...}}``), and some metrics are nested
(``{"cos_sim": {"spearman": 0.8}}``, read as ``cos_sim_spearman``, as mteb itself flattens them).

Task score
    ``main_score`` on the ``test`` split, the unweighted mean over its subsets (``hf_subset``:
    languages, language pairs, ``default``), as ``TaskResult.get_score`` computes it and the MTEB
    leaderboard averages. The task is named by ``task_name``; the metric is reported as
    ``main_score``. Error = 1 - score (MTEB's scores are fractions where higher is better).

No ``test`` split
    Some tasks are evaluated on another split (MSMARCO on ``dev``). A file with one split only is read
    on that split, with a notice naming it; a file with several splits and none named ``test`` is an
    error listing them, since picking one would be a guess.

Old files without ``main_score``
    The main metric lives in mteb's task registry, not in the file, so idm-gate does not guess it:
    name it in the manifest (``metrics: {Banking77Classification: accuracy}``), or re-save the file
    with mteb 1.11 or later. A metric named in the manifest is read instead of ``main_score`` in new
    files as well.

Not every main score is an accuracy: retrieval's ``ndcg_at_10``, clustering's ``v_measure`` and STS's
``cosine_spearman`` (a correlation) are counted as ``1 - score`` by MTEB's convention, with a notice
naming the metric; a negative correlation is outside 0..1 and refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..data import Scale, TaskScore
from ..errors import one_line
from . import rates
from ._common import (
    EvalReadResult,
    fail,
    kind_of,
    load_json,
    number,
    require_mapping,
    show,
    task_score,
)

MAIN = "main_score"
SPLIT = "test"
_SUBSET_KEYS = frozenset({"hf_subset", "languages", "evaluation_time"})


def looks_like_mteb(doc: Any) -> bool:
    """True for a parsed JSON document mteb wrote for one task (format detection)."""
    if not isinstance(doc, dict):
        return False
    if isinstance(doc.get("task_name"), str) and isinstance(doc.get("scores"), dict):
        return True
    return isinstance(doc.get("mteb_dataset_name"), str) and "mteb_version" in doc


def read(data: bytes, *, file: str, source: str, scale: Scale | None,
         overrides: Mapping[str, str]) -> EvalReadResult:
    return read_doc(load_json(data, file), file=file, source=source, scale=scale, overrides=overrides)


def read_doc(doc: Any, *, file: str, source: str, scale: Scale | None,
             overrides: Mapping[str, str]) -> EvalReadResult:
    require_mapping(doc, file, "top level", "an object with task_name and scores (an MTEB result file)")
    if isinstance(doc.get("task_name"), str):
        task, old = doc["task_name"], False
        splits = require_mapping(doc.get("scores"), file, "scores", "an object of split -> list of subset scores")
    elif isinstance(doc.get("mteb_dataset_name"), str):
        task, old = doc["mteb_dataset_name"], True
        splits = {k: v for k, v in doc.items() if k not in ("mteb_dataset_name", "mteb_version", "dataset_revision")
                  and isinstance(v, dict)}
    else:
        raise fail(file, "task_name", "missing", "an MTEB result file names its task in task_name")
    if not task.strip():
        raise fail(file, "task_name", "is empty", "the MTEB task's name")
    where = "scores" if not old else ""
    notices: list[str] = []
    if not splits:
        raise fail(file, where or "top level", "holds no split", "scores: {test: [...]} as mteb writes it")
    if SPLIT in splits:
        split = SPLIT
    elif len(splits) == 1:
        split = next(iter(splits))
        notices.append(one_line(f"{file}: {task}: no test split; read on {split!r}, the only split in the file"))
    else:
        raise fail(file, where or "top level", f"has the splits {', '.join(map(repr, splits))} but no 'test'",
                   "idm-gate reads MTEB scores on the test split; keep only the split to count in this file")
    place = f"{where}.{split}" if where else split
    subsets = _subsets(splits[split], old, file, place)
    override = overrides.get(task)
    metric = MAIN if override is None else override
    values: list[float] = []
    named: set[str] = set()
    for label, scores in subsets:
        sp = f"{place}[{label}]"
        raw = scores.get(metric)
        if metric not in scores:
            if metric == MAIN and old:
                raise fail(file, sp, "has no main_score (an mteb file from before 1.11; its main metric lives in "
                           "mteb's task registry, not in the file)",
                           f"name it in the manifest, e.g. metrics: {{{task}: accuracy}}, or re-save with mteb >= 1.11")
            have = ", ".join(k for k in scores if k not in _SUBSET_KEYS)
            raise fail(file, sp, f"has no {metric!r}", f"its metrics are: {have or 'none'}")
        value = number(raw)
        if value is None or math.isnan(value):
            raise fail(file, f"{sp}.{metric}", f"is {kind_of(raw)}, not a finite number",
                       "re-run the task, or name another metric for it in the manifest")
        if override is not None and rates.classify(metric) == rates.NOT_RATE:
            raise fail(file, f"{sp}.{metric}", f"the manifest picks {metric}, which is {rates.why_not(metric)}",
                       "pick main_score or an accuracy-like metric")
        values.append(value)
        if metric == MAIN:
            named.update(k for k, v in scores.items() if k not in _SUBSET_KEYS and k != MAIN and v == raw
                         and number(v) is not None)
    scale_used, inferred = (Scale.FRACTION, True) if scale is None else (scale, False)
    mean = math.fsum(values) / len(values)
    t: TaskScore = task_score(task, metric, mean, rates.HIGHER, None, source=source, scale=scale_used,
                              scale_inferred=inferred, file=file, place=f"{place} (mean of {len(values)} subsets)")
    if len(values) > 1:
        notices.append(one_line(f"{file}: {task}: {metric} is the mean of {len(values)} subsets of the {split} split"))
    if metric == MAIN:
        not_acc = sorted(n for n in named if not rates.is_candidate(n))
        if not_acc and not any(rates.is_candidate(n) for n in named):
            notices.append(one_line(f"{file}: {task}: main_score is {', '.join(not_acc[:2])}, not an accuracy; "
                                    "counted as 1 - score by MTEB's convention"))
    return EvalReadResult(tasks=(t,), notices=tuple(notices))


def _subsets(split: Any, old: bool, file: str, place: str) -> list[tuple[str, Mapping[str, Any]]]:
    """(label, flat metric dict) per subset of one split."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(split, list):
        if not split:
            raise fail(file, place, "is an empty list", "one object per subset, with main_score")
        for i, entry in enumerate(split):
            entry = require_mapping(entry, file, f"{place}[{i}]", "an object with main_score and hf_subset")
            label = entry.get("hf_subset")
            out.append((show(label) if isinstance(label, str) else str(i), _flat(entry)))
        return out
    split = require_mapping(split, file, place, "a list of subset scores (or, before mteb 1.11, an object)")
    nested = {k: v for k, v in split.items() if isinstance(v, dict) and k not in _NESTED_METRICS}
    if old and nested:
        for lang, entry in nested.items():
            out.append((show(lang), _flat(entry)))
        return out
    return [("default", _flat(split))]


# Metric groups mteb nested before 1.11 (a split object with these keys is not per language).
_NESTED_METRICS = frozenset({"v_measures", "cos_sim", "euclidean", "manhattan", "dot", "max", "similarity"})


def _flat(entry: Mapping[str, Any]) -> dict[str, Any]:
    """``{"cos_sim": {"spearman": x}}`` -> ``{"cos_sim_spearman": x}``, as mteb flattens old files."""
    out: dict[str, Any] = {}
    for k, v in entry.items():
        if isinstance(v, dict) and k != "languages":
            for k2, v2 in v.items():
                out[f"{k}_{k2}"] = v2
        else:
            out[k] = v
    return out
