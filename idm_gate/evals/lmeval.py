"""Read an lm-evaluation-harness results file (``results_<date>.json``, v0.3 and v0.4.x).

What is read
    ``results`` (task -> metrics), ``groups`` (group aggregates, v0.4), ``group_subtasks`` (group ->
    its subtasks), ``higher_is_better`` (task -> metric -> bool), and ``config.limit`` with
    ``n-samples`` for partial runs (below). Everything else (``configs``, ``versions``, ``n-shot``, ...)
    is ignored. Metric keys are
    ``"<metric>,<filter>"`` in v0.4 (``"acc,none"``, ``"exact_match,strict-match"``) and ``"<metric>"``
    in v0.3; the standard error sits beside them as ``"<metric>_stderr,<filter>"``. A task is named by
    its key in ``results``; the display ``alias`` (``" - humanities"``) is not a name (its indentation
    matters only in files without ``group_subtasks``, see Groups).

Primary metric (one rule, see :mod:`idm_gate.evals.rates`)
    Among the task's rate metrics, the first in the order ``acc_norm``, ``acc``, ``accuracy``,
    ``mc2``, ``exact_match``, ``em``, ``prompt_level_strict_acc``, ``inst_level_strict_acc``,
    ``pass@1``, ``f1``, ``mc1``, then other rates alphabetically, then error rates; among filters of
    that metric ``none``, then ``strict-match``, then alphabetical. The manifest can name another
    metric for a task (``acc`` or the full key ``exact_match,flexible-extract``); a metric the task
    lacks, or one that is not a rate, is an error.

Groups
    A group is counted once, never together with its subtasks: when the group's own entry (in
    ``results`` or ``groups``) has a rate metric, the aggregate is counted and its subtasks are not
    (``mmlu`` and its 57 subjects count once, as ``mmlu``); when it has none (a tag-like group with
    only an ``alias``), its subtasks are counted instead, applying the same rule to subgroups. A task
    listed under two groups is counted once. Files of lm-eval 0.4.0 and 0.4.1 have ``groups`` but no
    ``group_subtasks``; there an entry whose alias the harness indented under a group (``" - humanities"``,
    ``"  - formal_logic"``) is inside a group aggregate and is not counted on its own.

Partial runs
    A file from ``--limit`` (``config.limit`` set, or ``n-samples.<task>.effective`` below
    ``original``) is a smoke test: a notice says so, and each task's sample count ("10 of 1172
    examples"; a group sums its leaves) becomes :attr:`TaskScore.partial`, part of what two
    measurements must share to be compared.

Direction
    ``higher_is_better[task][metric]`` when the file gives it; the metric name's rule otherwise.

Values
    Fractions by the harness's convention (``scale_inferred`` is True unless the manifest declares a
    scale); a value above 1 on the fraction scale is an error. A standard error of ``"N/A"``, NaN or
    ±Infinity is unknown. A non-finite value of a metric that is not chosen is ignored; of the chosen
    metric it is an error. A task whose metrics are all non-rates (``wikitext``: perplexities, bits
    per byte) is skipped with a notice and listed in ``EvalReadResult.skipped``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    skipped_notice,
    stderr_fraction,
    task_score,
)


@dataclass(frozen=True)
class _Metric:
    key: str            # as written: "acc_norm,none"
    name: str           # "acc_norm"
    filter: str | None  # "none", "strict-match", or None (v0.3)
    value: Any


def looks_like_lmeval(doc: Any) -> bool:
    """True for a parsed JSON document with a top-level ``results`` object (format detection)."""
    return isinstance(doc, dict) and isinstance(doc.get("results"), dict)


def read(data: bytes, *, file: str, source: str, scale: Scale | None,
         overrides: Mapping[str, str]) -> EvalReadResult:
    doc = load_json(data, file)
    return read_doc(doc, file=file, source=source, scale=scale, overrides=overrides)


def read_doc(doc: Any, *, file: str, source: str, scale: Scale | None,
             overrides: Mapping[str, str]) -> EvalReadResult:
    require_mapping(doc, file, "top level", "an object with a 'results' object (lm-eval results)")
    if "results" not in doc:
        raise fail(file, "results", "missing", "an lm-eval results file has a top-level 'results' object")
    results = require_mapping(doc["results"], file, "results", "an object of task -> metrics")
    groups = doc.get("groups")
    groups = {} if groups is None else require_mapping(groups, file, "groups", "an object of group -> metrics")
    entries: dict[str, Mapping[str, Any]] = {}
    for section, table in (("results", results), ("groups", groups)):
        for task, entry in table.items():
            require_mapping(entry, file, f"{section}.{task}", "an object of metric -> value")
            entries.setdefault(task, entry)  # v0.4 repeats group aggregates in both; results wins
    children = _group_subtasks(doc.get("group_subtasks"), file)
    hib = _higher_is_better(doc.get("higher_is_better"), file)
    _refuse_cycles(children, file)
    nested: set[str] = set()
    if doc.get("group_subtasks") is None and groups:
        # lm-eval 0.4.0 and 0.4.1 write groups without group_subtasks. Their results list a group's
        # subtasks after it with the alias indented (" - humanities", "  - formal_logic"), as the
        # harness prints its table; those are inside an aggregate that counts, so not counted again.
        nested = {name for name, entry in results.items() if _indented(entry.get("alias"))}

    if scale is None:
        scale_used, inferred = Scale.FRACTION, True
    else:
        scale_used, inferred = scale, False

    listed_children = {c for subs in children.values() for c in subs}
    order: list[str] = []
    seen_order: set[str] = set()
    for name in list(entries) + list(children):
        if name not in listed_children and name not in nested and name not in seen_order:
            seen_order.add(name)
            order.append(name)

    tasks: list[TaskScore] = []
    notices: list[str] = []
    skipped: list[tuple[str, str]] = []
    visited: set[str] = set()
    stack = list(reversed(order))
    while stack:
        name = stack.pop()
        if name in visited:
            continue
        visited.add(name)
        entry = entries.get(name)
        subs = children.get(name, [])
        if entry is None:
            if subs:
                stack.extend(reversed(subs))
            else:
                reason = "listed in group_subtasks but has no entry in results"
                skipped.append((name, reason))
                notices.append(skipped_notice(file, name, reason))
            continue
        picked = _pick(name, entry, hib.get(name, {}), overrides.get(name), file, is_group=bool(subs))
        if isinstance(picked, str):  # no rate metric
            if subs:
                stack.extend(reversed(subs))
                continue
            skipped.append((name, picked))
            notices.append(skipped_notice(file, name, picked))
            continue
        metric, direction, passed_over = picked
        place = f"results.{name}[{show(metric.key, 60)}]"
        value = number(metric.value)
        if value is None:
            raise fail(file, place, f"the value is {kind_of(metric.value)}, not a number",
                       "re-run the task, or name another metric for it in the manifest")
        if math.isnan(value):
            raise fail(file, place, f"the value is not finite ({show(metric.value)})",
                       "re-run the task, or name another metric for it in the manifest")
        stderr_key = f"{metric.name}{rates.STDERR_SUFFIX}" + (
            f",{metric.filter}" if metric.filter is not None else "")
        stderr = stderr_fraction(entry.get(stderr_key), scale_used, file, f"results.{name}[{show(stderr_key, 60)}]")
        tasks.append(task_score(name, metric.key, value, direction, stderr, source=source, scale=scale_used,
                                scale_inferred=inferred, file=file, place=place))
        if passed_over:
            notices.append(one_line(f"{file}: {name}: counted {metric.key}; passed over " + "; ".join(
                f"{k} ({why})" for k, why in passed_over)))
    why = _partial_run(doc, tasks, children)
    if why is not None:
        reason, counts = why
        limit = doc["config"].get("limit") if isinstance(doc.get("config"), dict) else None
        tasks = [replace(t, partial=f"{counts[t.task][0]} of {counts[t.task][1]} examples" if t.task in counts
                         else f"limit {show(limit)}") for t in tasks]
        notices.append(one_line(f"{file}: a partial run ({reason}): a smoke test, not a benchmark; its scores are "
                                "compared only with runs on the same number of examples"))
    return EvalReadResult(tasks=tuple(tasks), notices=tuple(notices), skipped=tuple(skipped))


def _partial_run(doc: Mapping[str, Any], tasks: list[TaskScore],
                 children: Mapping[str, list[str]]) -> tuple[str, dict[str, tuple[int, int]]] | None:
    """(why the run is partial, task -> (effective, original) examples) for a ``--limit`` run; None otherwise.

    lm-eval writes ``config.limit`` (a count or a fraction, null for a full run) and, since 0.4.2,
    ``n-samples: {task: {original, effective}}`` for each leaf task; a group's count is its leaves' sum.
    """
    config = doc.get("config")
    limit = config.get("limit") if isinstance(config, dict) else None
    raw = doc.get("n-samples")
    leaves: dict[str, tuple[int, int]] = {}
    if isinstance(raw, dict):
        for name, entry in raw.items():
            if isinstance(entry, dict):
                eff, orig = _count(entry.get("effective")), _count(entry.get("original"))
                if eff is not None and orig is not None:
                    leaves[name] = (eff, orig)
    short = [f"{n}: {e} of {o}" for n, (e, o) in leaves.items() if e < o]
    if (limit is None or isinstance(limit, bool)) and not short:
        return None
    counts: dict[str, tuple[int, int]] = {}
    for t in tasks:
        total = _leaf_sum(t.task, leaves, children)
        if total is not None:
            counts[t.task] = total
    why = [f"config.limit is {show(limit)}"] if limit is not None and not isinstance(limit, bool) else []
    if short:
        why.append("examples scored " + ", ".join(short[:3])
                   + (f" and {len(short) - 3} more" if len(short) > 3 else ""))
    return "; ".join(why), counts


def _leaf_sum(name: str, leaves: Mapping[str, tuple[int, int]],
              children: Mapping[str, list[str]]) -> tuple[int, int] | None:
    """(effective, original) summed over a task's leaves; None when a leaf has no count."""
    if name in leaves:
        return leaves[name]
    subs = children.get(name)
    if not subs:
        return None
    eff = orig = 0
    stack, seen = list(subs), set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in leaves:
            eff, orig = eff + leaves[n][0], orig + leaves[n][1]
        elif children.get(n):
            stack.extend(children[n])
        else:
            return None
    return eff, orig


def _count(value: Any) -> int | None:
    f = number(value)
    if f is None or math.isnan(f) or f < 0 or f != int(f):
        return None
    return int(f)


def _indented(alias: Any) -> bool:
    """True for an lm-eval alias that the harness indented under a group (" - humanities")."""
    return isinstance(alias, str) and alias.lstrip(" ").startswith("- ")


def _metrics(entry: Mapping[str, Any]) -> list[_Metric]:
    out = []
    for key, value in entry.items():
        if not isinstance(key, str):
            continue
        name, comma, filt = key.partition(",")
        if name in rates.BOOKKEEPING or name.endswith(rates.STDERR_SUFFIX):
            continue
        out.append(_Metric(key=key, name=name, filter=filt if comma else None, value=value))
    return out


def _direction(metric: _Metric, hib: Mapping[str, Any]) -> str | None:
    declared = hib.get(metric.name)
    if isinstance(declared, bool):
        return rates.HIGHER if declared else rates.LOWER
    return rates.default_direction(metric.name)


def _pick(task: str, entry: Mapping[str, Any], hib: Mapping[str, Any], override: str | None, file: str, *,
          is_group: bool) -> tuple[_Metric, str, list[tuple[str, str]]] | str:
    """Return (metric, direction, passed_over) or, when the task has no rate metric, the reason."""
    metrics = _metrics(entry)
    place = f"results.{task}"
    if override is not None:
        if "," in override:
            matches = [m for m in metrics if m.key == override]
        else:
            matches = [m for m in metrics if m.name == override or rates.normalize(m.name) == rates.normalize(override)]
        if not matches:
            have = ", ".join(m.key for m in metrics) or "none"
            what = f"the manifest picks metric {override!r}, which this task does not have"
            if is_group and not any(rates.is_candidate(m.name) for m in metrics):
                what += " (a group without an aggregate is counted through its subtasks; pick their metrics)"
            raise fail(file, place, what, f"its metrics are: {have}")
        metric = min(matches, key=lambda m: rates.filter_rank(m.filter))
        if rates.classify(metric.name) == rates.NOT_RATE:
            raise fail(file, place, f"the manifest picks {metric.key}, which is {rates.why_not(metric.name)}",
                       "pick an accuracy-like rate or an error rate in [0, 1]" + _rate_hint(metrics))
        direction = _direction(metric, hib)
        if direction is None:
            raise fail(file, place, f"the manifest picks {metric.key}, whose direction is unknown "
                       "(not a metric idm-gate knows and no higher_is_better for it in the file)",
                       "pick an accuracy-like rate or an error rate" + _rate_hint(metrics))
        return metric, direction, []
    candidates = [m for m in metrics if rates.is_candidate(m.name)]
    if not candidates:
        if not metrics:
            return "no metrics"
        names = list(dict.fromkeys(m.name for m in metrics))
        return "no rate metric (" + "; ".join(f"{n}: {rates.why_not(n)}" for n in names) + ")"
    metric = min(candidates, key=lambda m: rates.rank(m.name, m.filter))
    direction = _direction(metric, hib) or rates.HIGHER
    passed_over: list[tuple[str, str]] = []
    for m in metrics:
        if not rates.is_candidate(m.name) and number(m.value) is not None:
            passed_over.append((m.key, rates.why_not(m.name)))
    return metric, direction, passed_over


def _rate_hint(metrics: list[_Metric]) -> str:
    cands = [m.key for m in metrics if rates.is_candidate(m.name)]
    return f" (this task has: {', '.join(cands)})" if cands else ""


def _group_subtasks(value: Any, file: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    table = require_mapping(value, file, "group_subtasks", "an object of group -> list of subtasks")
    out: dict[str, list[str]] = {}
    for group, subs in table.items():
        if not isinstance(subs, list) or not all(isinstance(s, str) for s in subs):
            raise fail(file, f"group_subtasks.{group}", f"is {kind_of(subs)}", "a list of task names")
        if subs:
            out[group] = list(dict.fromkeys(subs))
    return out


def _higher_is_better(value: Any, file: str) -> dict[str, Mapping[str, Any]]:
    if value is None:
        return {}
    table = require_mapping(value, file, "higher_is_better", "an object of task -> {metric: true/false}")
    out = {}
    for task, metrics in table.items():
        if metrics is None:
            continue
        out[task] = require_mapping(metrics, file, f"higher_is_better.{task}", "an object of metric -> true/false")
    return out


def _refuse_cycles(children: Mapping[str, list[str]], file: str) -> None:
    """A group may not contain itself, directly or through subgroups (iterative: no recursion limit)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in children:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            subs = children.get(node, [])
            if i < len(subs):
                stack[-1] = (node, i + 1)
                child = subs[i]
                st = state.get(child)
                if st == 1:
                    raise fail(file, f"group_subtasks.{node}", f"lists {child!r}, which contains {node!r} itself",
                               "a group's subtasks form a tree")
                if st is None:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[node] = 2
                stack.pop()
