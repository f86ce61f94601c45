"""Read a lighteval results file (``results_<date>.json``; also the Open LLM Leaderboard v1 files).

Shape (written by lighteval's ``EvaluationTracker.save``)::

    {"config_general": {"lighteval_sha": ..., "max_samples": null, "model_name": ..., ...},
     "results": {"all": {...},
                 "harness|arc:challenge|25": {"acc": 0.557, "acc_stderr": 0.0145, "acc_norm": 0.594, ...},
                 "harness|hendrycksTest-anatomy|5": {"acc": 0.615, ...},
                 "leaderboard|mmlu:anatomy|5": {...}, "leaderboard|mmlu:_average|5": {...}},
     "versions": {...}, "config_tasks": {...}, "summary_tasks": {...}, "summary_general": {...}}

Only ``results`` is needed (the issue-tracker excerpts people paste have nothing else);
``config_general.max_samples`` and ``config_tasks.<task>.effective_num_docs`` /
``original_num_docs`` are read when present (a partial run, see below).

Keys
    ``suite|task|num_fewshot`` (``harness|arc:challenge|25``), ``task|num_fewshot`` in the newest
    releases, or ``suite|task|num_fewshot|truncate_few_shots`` before lighteval 0.5
    (``lighteval|mmlu:anatomy|5|0``; a benchmark read per subject is then ``lighteval|mmlu|5|0``).
    Metrics are plain names (``acc``, ``acc_norm``, ``em``, ``qem``, ``mc2``, lighteval's
    ``truthfulqa_mc2``); the standard error sits beside them as ``<metric>_stderr``.

Aggregates are never tasks
    ``all`` (lighteval's mean over every metric of every task) and ``<base>:_average`` entries (its
    mean over a benchmark's subjects) are skipped: the subjects themselves are read.

A benchmark reported per subject counts once, as the mean of its subjects
    Subjects are the entries that share a suite and a few-shot count and either a ``<base>:`` prefix
    when more than one entry has it (lighteval's own grouping: ``mmlu:anatomy``, ``mmlu:virology``)
    or the harness's ``hendrycksTest-`` prefix (MMLU in the Open LLM Leaderboard v1 files). The
    benchmark is named ``suite|base|num_fewshot`` (``harness|hendrycksTest|5``, ``leaderboard|mmlu|5``);
    its score is the unweighted mean of its subjects' scores (the leaderboard's convention) and its
    standard error ``sqrt(sum se_i^2) / n`` when every subject has one. A subject name can be neither
    picked in ``tasks:`` nor given a metric; the benchmark can.

Metric
    The primary-metric rule of :mod:`idm_gate.evals.rates` (``acc_norm`` before ``acc`` ...), except
    that MMLU (``hendrycksTest``, ``mmlu``) counts by ``acc`` when its subjects have it, as the Open
    LLM Leaderboard did. Every subject of a benchmark must have the chosen metric. The manifest's
    ``metrics:`` can name another one for a task or a benchmark.

Partial runs
    ``config_general.max_samples`` set, or a task whose ``effective_num_docs`` is below its
    ``original_num_docs``: a notice says the numbers come from a smoke test, and the number of
    examples scored (:attr:`TaskScore.samples`) becomes part of what two measurements must share to be
    compared.

Values are fractions, as lighteval writes them (``scale_inferred`` unless the manifest declares one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..data import Scale, TaskScore
from ..errors import one_line
from . import lmeval, rates
from ._common import (
    EvalReadResult,
    fail,
    kind_of,
    load_json,
    number,
    require_mapping,
    show,
    skipped_notice,
    stderr_fraction,
    task_score,
)

AGGREGATE = "all"
_AVERAGE = ":_average"
# suite|task|num_fewshot, task|num_fewshot, or (lighteval before 0.5) suite|task|num_fewshot|truncate_few_shots
# ("lighteval|mmlu:anatomy|5|0"): the trailing 0/1 stays part of "fewshot", so names keep the file's style.
# A task name is never only digits, which keeps "gsm8k|5|0" from reading as suite "gsm8k", task "5".
_KEY = re.compile(r"^(?:(?P<suite>[^|]*)\|)?(?P<task>[^|]*[^|\d][^|]*)\|(?P<fewshot>\d+(?:\|[01])?)$")
_HARNESS_MMLU = "hendrycksTest-"
# Benchmarks the Open LLM Leaderboard counted by accuracy, not normalised accuracy.
_BY_ACC = frozenset({"hendrycksTest", "mmlu"})


def looks_like_lighteval(doc: Any) -> bool:
    """True for a parsed JSON document lighteval wrote (format detection).

    Either the tracker's ``config_general`` next to ``results``, or a ``results`` object whose keys
    are lighteval's: ``all`` or ``task|num_fewshot`` names (lm-eval task names never hold ``|``).
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        return False
    if isinstance(doc.get("config_general"), dict):
        return True
    keys = [k for k in doc["results"] if isinstance(k, str)]
    return bool(keys) and any(_KEY.match(k) for k in keys) and all(k == AGGREGATE or _KEY.match(k) for k in keys)


@dataclass
class _Benchmark:
    name: str
    base: str | None                      # "hendrycksTest", "mmlu"; None for a task on its own
    members: list[str] = field(default_factory=list)


def read(data: bytes, *, file: str, source: str, scale: Scale | None,
         overrides: Mapping[str, str]) -> EvalReadResult:
    doc = load_json(data, file)
    return read_doc(doc, file=file, source=source, scale=scale, overrides=overrides)


def read_doc(doc: Any, *, file: str, source: str, scale: Scale | None,
             overrides: Mapping[str, str]) -> EvalReadResult:
    require_mapping(doc, file, "top level", "an object with a 'results' object (lighteval results)")
    if "results" not in doc:
        raise fail(file, "results", "missing", "a lighteval results file has a top-level 'results' object")
    results = require_mapping(doc["results"], file, "results", "an object of 'suite|task|num_fewshot' -> metrics")
    for key, entry in results.items():
        require_mapping(entry, file, f"results.{key}", "an object of metric -> value")
    scale_used, inferred = (Scale.FRACTION, True) if scale is None else (scale, False)
    samples, partial, partial_what = _samples(doc, file)

    benchmarks = _benchmarks(results, file)
    tasks: list[TaskScore] = []
    notices: list[str] = []
    skipped: list[tuple[str, str]] = []
    for b in benchmarks:
        override = overrides.get(b.name)
        for m in b.members:
            if m in overrides and m != b.name:
                raise fail(file, f"results.{m}", f"the manifest picks a metric for {m!r}, a subject of {b.name}",
                           f"name the benchmark instead: metrics: {{{b.name!r}: ...}}")
        picked = _pick(b, results, override, file)
        if isinstance(picked, str):
            skipped.append((b.name, picked))
            notices.append(skipped_notice(file, b.name, picked))
            continue
        metric, direction, passed_over = picked
        values: list[float] = []
        errors: list[float | None] = []
        docs: list[tuple[int, int] | None] = []
        for m in b.members:
            entry = results[m]
            place = f"results.{m}[{show(metric, 60)}]"
            if metric not in entry:
                have = ", ".join(k for k in entry if isinstance(k, str) and not k.endswith(rates.STDERR_SUFFIX))
                raise fail(file, place, f"missing, but the other subjects of {b.name} are counted by {metric}",
                           f"its metrics are: {have or 'none'}; name a metric all subjects share in the manifest")
            value = number(entry[metric])
            if value is None:
                raise fail(file, place, f"the value is {kind_of(entry[metric])}, not a number",
                           "re-run the task, or name another metric for it in the manifest")
            if math.isnan(value):
                raise fail(file, place, f"the value is not finite ({show(entry[metric])})",
                           "re-run the task, or name another metric for it in the manifest")
            # Range check per subject, so a bad one is named.
            task_score(m, metric, value, direction, None, source=source, scale=scale_used,
                       scale_inferred=inferred, file=file, place=place)
            values.append(value)
            skey = metric + rates.STDERR_SUFFIX
            errors.append(stderr_fraction(entry.get(skey), scale_used, file, f"results.{m}[{show(skey, 60)}]"))
            docs.append(samples.get(m))
        mean = math.fsum(values) / len(values)
        stderr = None
        if all(e is not None for e in errors):
            stderr = math.sqrt(math.fsum(e * e for e in errors if e is not None)) / len(errors)
        part = None
        if partial:
            known = [d for d in docs if d is not None]
            part = (f"{sum(e for e, _ in known)} of {sum(o for _, o in known)} examples" if len(known) == len(docs)
                    else partial_what)
        place = f"results.{b.members[0]}[{show(metric, 60)}]" if len(b.members) == 1 else f"results.{b.name}"
        t = task_score(b.name, metric, mean, direction, stderr, source=source, scale=scale_used,
                       scale_inferred=inferred, file=file, place=place)
        tasks.append(replace(t, partial=part) if part is not None else t)
        if passed_over:
            notices.append(one_line(f"{file}: {b.name}: counted {metric}; passed over " + "; ".join(
                f"{k} ({why})" for k, why in passed_over)))
    grouped = [b for b in benchmarks if b.base is not None]
    if grouped:
        notices.append(one_line(f"{file}: " + "; ".join(
            f"{b.name}: mean of {len(b.members)} subjects" for b in grouped)
            + " (a benchmark reported per subject counts once)"))
    if partial:
        notices.append(one_line(f"{file}: a partial run ({partial}): a smoke test, not a benchmark; its scores "
                                "are compared only with runs on the same number of examples"))
    return EvalReadResult(tasks=tuple(tasks), notices=tuple(notices), skipped=tuple(skipped))


def _benchmarks(results: Mapping[str, Any], file: str) -> list[_Benchmark]:
    """Group result keys into benchmarks, in the file's order; aggregates left out."""
    parsed: dict[str, tuple[str | None, str, str, str | None]] = {}  # key -> (suite, task, fewshot, base)
    prefix_count: dict[tuple[str | None, str, str], int] = {}
    for key in results:
        if key == AGGREGATE:
            continue
        m = _KEY.match(key)
        if m is None:
            continue
        suite, task, fewshot = m.group("suite"), m.group("task"), m.group("fewshot")
        if task.endswith(_AVERAGE):
            continue
        base = None
        if task.startswith(_HARNESS_MMLU) and len(task) > len(_HARNESS_MMLU):
            base = _HARNESS_MMLU[:-1]
        elif ":" in task:
            base = task.split(":", 1)[0]
            prefix_count[(suite, base, fewshot)] = prefix_count.get((suite, base, fewshot), 0) + 1
        parsed[key] = (suite, task, fewshot, base)
    out: list[_Benchmark] = []
    by_name: dict[str, _Benchmark] = {}
    for key in results:
        if key == AGGREGATE:
            continue
        if key not in parsed:
            if _KEY.match(key) is None:  # a name lighteval would not write: counted on its own
                b = _Benchmark(name=key, base=None, members=[key])
                out.append(b)
            continue
        suite, task, fewshot, base = parsed[key]
        if base is not None and ":" in task and prefix_count[(suite, base, fewshot)] < 2:
            base = None
        if base is None:
            out.append(_Benchmark(name=key, base=None, members=[key]))
            continue
        name = f"{suite}|{base}|{fewshot}" if suite is not None else f"{base}|{fewshot}"
        group = by_name.get(name)
        if group is None:
            group = by_name[name] = _Benchmark(name=name, base=base)
            out.append(group)
        group.members.append(key)
    # A real task whose key equals a benchmark's name would be counted twice under one name.
    names = [b.name for b in out]
    for b in out:
        if names.count(b.name) > 1:
            raise fail(file, f"results.{b.name}", "is both a task and the name of a benchmark read per subject",
                       "rename the task")
    return out


def _pick(b: _Benchmark, results: Mapping[str, Any], override: str | None,
          file: str) -> tuple[str, str, list[tuple[str, str]]] | str:
    """The metric key, direction and passed-over metrics for a benchmark; a reason string when none."""
    first = results[b.members[0]]
    override_used: str | None
    if override is None and b.base in _BY_ACC and all("acc" in results[m] for m in b.members):
        override_used = "acc"
    else:
        override_used = override
    picked = lmeval._pick(b.name, first, {}, override_used, file, is_group=False)
    if isinstance(picked, str):
        return picked
    metric, direction, passed_over = picked
    return metric.key, direction, passed_over


def _samples(doc: Mapping[str, Any], file: str) -> tuple[dict[str, tuple[int, int]], str, str]:
    """From config_general and config_tasks: result key -> (examples scored, examples in the task);
    why the run is partial ("" when it is not); and a short tag for tasks without counts."""
    why: list[str] = []
    tag = ""
    general = doc.get("config_general")
    if isinstance(general, dict):
        ms = general.get("max_samples")
        if ms is not None and not isinstance(ms, bool):
            why.append(f"config_general.max_samples is {show(ms)}")
            tag = f"max_samples {show(ms)}"
    samples: dict[str, tuple[int, int]] = {}
    short: list[str] = []
    configs = doc.get("config_tasks")
    results = doc.get("results")
    if isinstance(configs, dict) and isinstance(results, dict):
        for key in results:
            km = _KEY.match(key) if isinstance(key, str) else None
            if km is None:
                continue
            bare = f"{km.group('suite')}|{km.group('task')}" if km.group("suite") is not None else km.group("task")
            cfg = configs.get(bare, configs.get(key))
            if not isinstance(cfg, dict):
                continue
            eff, orig = _count(cfg.get("effective_num_docs")), _count(cfg.get("original_num_docs"))
            if eff is None or orig is None:
                continue
            samples[key] = (eff, orig)
            if eff < orig:
                short.append(f"{key}: {eff} of {orig}")
    if short:
        why.append("examples scored " + ", ".join(short[:3])
                   + (f" and {len(short) - 3} more" if len(short) > 3 else ""))
        tag = tag or "partial"
    return samples, "; ".join(why), tag


def _count(value: Any) -> int | None:
    f = number(value)
    if f is None or math.isnan(f) or f < 0 or f != int(f):
        return None
    return int(f)
