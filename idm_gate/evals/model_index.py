"""Read the ``model-index`` of a Hugging Face model card (``README.md`` with YAML front matter).

Shape (the Hub's model-card metadata)::

    ---
    model-index:
    - name: my-model
      results:
      - task: {type: text-generation, name: Text Generation}
        dataset: {name: HellaSwag (10-Shot), type: hellaswag, config: ..., split: validation, args: ...}
        metrics:
        - {type: acc_norm, value: 86.22, name: normalized accuracy, verified: false}
        source: {name: Open LLM Leaderboard, url: https://huggingface.co/spaces/...}
    ---

Safety
    The front matter is parsed with idm-gate's strict YAML loader (:mod:`idm_gate.yamlsafe`, as for
    the manifest and .dvc files): duplicate keys and tags such as ``!!python/object`` are refused, and
    here any anchor or alias too (no "billion laughs"); it is limited to :data:`FRONT_MATTER_CAP`
    bytes. Line numbers in messages are the README's.

Task names
    ``dataset.type`` (the dataset's id: ``hellaswag``, ``cais/mmlu``), falling back to
    ``dataset.name`` when there is no type or a placeholder one (``unknown``). Display names like
    "HellaSwag (10-Shot)" change between cards; ids do not, so two cards of the same family compare
    task by task. Many cards reuse one type for several results (a category such as
    ``instruction-following``, one dataset with two splits, configs, languages or task types); those
    results are different tasks, named with the fewest
    fields that tell them apart, in this order: ``<type>:<config>`` (``ai2_arc:ARC-Challenge``), then
    ``[split=..., args=..., task=..., name=...]`` (``gsm8k [split=test]``,
    ``instruction-following [name=IFEval]``). Results equal in all of these are an error. A card with
    several models in ``model-index`` is an error.

Values
    Numbers, or text holding one when it is unambiguous (``"0.91"``, ``"85%"``: a % sign states its
    own scale). A decimal comma (``"0,912"``) is an error quoting the value. ``-1``, an empty value,
    ``null`` or ``"N/A"`` mean "not reported": the result is left out with a notice.

Other scales
    A benchmark scored on another scale is not a percent even when its metric is typed ``accuracy``
    or ``pass@1``: MT-Bench (a 1-10 judge rating) and arena Elo ratings are left out with a notice
    (recognised by the dataset's type, name or config, or an ``elo``/``rating`` metric).

Speech recognition
    ``wer`` and ``cer`` are error rates and count as the task's error (WER first, after any accuracy
    the result also reports); read on the card's scale, an error rate above 1 (100 %) is an error.

Metric
    Each result's metrics go through the primary-metric rule of :mod:`idm_gate.evals.rates`, using
    ``type`` and, when ``type`` is not a known metric, the display ``name`` ("strict accuracy"); names
    are compared ignoring case, spaces and hyphens. The manifest may pick another metric by type or name.

Scale
    Cards conventionally publish percentages. Without a declared scale the values are read as percent,
    unless every chosen value is at most 1, then as fractions; either way ``scale_inferred`` is True and
    a notice says so. A percent card holding values in (0, 1] (``0.91`` beside ``70.0``) reads them as
    percents with a warning naming them: they may be fractions the card mixed in. Card metrics carry
    no standard error (stderr is None).

Open LLM Leaderboard
    Results whose ``source`` is the Open LLM Leaderboard get a notice. Leaderboard v2 (the
    ``open-llm-leaderboard/open_llm_leaderboard`` space: IFEval, BBH, MATH Lvl 5, GPQA, MuSR, MMLU-PRO)
    publishes *normalised* scores, rescaled so that random guessing is 0, not accuracies: one minus
    such a score over-states the error, so the notice asks for the raw lm-eval results instead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ..data import Scale, TaskScore
from ..errors import one_line
from ..yamlsafe import load_yaml
from . import rates
from ._common import (
    EvalReadResult,
    decode_text,
    fail,
    kind_of,
    number,
    show,
    skipped_notice,
    task_score,
)

FRONT_MATTER_CAP = 1024 * 1024

_V2_MARKERS = ("open-llm-leaderboard/open_llm_leaderboard",)
_V1_MARKERS = ("huggingfaceh4/open_llm_leaderboard",)


def front_matter(text: str, file: str) -> tuple[str, int]:
    """Return the YAML between the opening and closing ``---`` lines, and its first line number."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        raise fail(file, "line 1", "no YAML front matter (the file does not start with a --- line)",
                   "a model card keeps model-index between --- lines at the top of README.md")
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            body = "".join(lines[1:i])
            if len(body.encode("utf-8")) > FRONT_MATTER_CAP:
                raise fail(file, "front matter", f"is {len(body.encode('utf-8')):,} bytes, over the "
                           f"{FRONT_MATTER_CAP:,}-byte limit", "keep model-index metadata small")
            return body, 2
    raise fail(file, "line 1", "the front matter opened by --- is never closed",
               "end the YAML block with a --- line")


def load_front_matter(text: str, file: str) -> Any:
    """The front matter's YAML, read with idm-gate's strict loader, anchors and aliases refused."""
    body, first_line = front_matter(text, file)
    return load_yaml(body.encode("utf-8"), f"{file}: front matter", line_offset=first_line - 1, aliases=False)


_NOT_REPORTED = object()


def _value(raw: Any, file: str, place: str) -> tuple[float, bool] | object | None:
    """A metric value as (number, written with a % sign); ``_NOT_REPORTED`` for -1 or an empty value;
    None when it is not a number at all. Text is read when unambiguous ("85%", "0.91", " 72.5 "); a
    decimal comma ("0,912") is refused, quoting it, since 0,912 and 0.912 and 912 are all plausible."""
    if raw is None:
        return _NOT_REPORTED
    f = number(raw)
    if f is not None:
        return _NOT_REPORTED if f == -1 else (f, False)
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if text in ("", "-", "-1", "N/A", "n/a", "NA"):
        return _NOT_REPORTED
    pct = text.endswith("%")
    body = text[:-1].strip() if pct else text
    if "," in body:
        raise fail(file, place, f"{show(raw)} has a decimal comma", "write the value with a decimal point "
                   f"({show(body.replace(',', '.'))} if that is what it means)")
    try:
        f = float(body)
    except ValueError:
        return None
    if not math.isfinite(f):
        return (math.nan, pct)
    return (f, pct)


_PLACEHOLDER_TYPES = frozenset({"unknown", "other", "none", "n/a", "custom"})

# A benchmark on another scale is never a percent, whatever its metric is typed as: MT-Bench is
# rated 1-10 by a judge model, arenas give Elo ratings.
_OTHER_SCALE = (
    (re.compile(r"mt_?bench"), "MT-Bench rates answers 1-10, not a percent"),
    (re.compile(r"(chatbot|lmsys)_?arena|arena_elo|(^|_)elo($|_)"), "an Elo rating, not a percent"),
)
_OTHER_SCALE_METRIC = (
    (re.compile(r"(^|_)elo($|_)"), "an Elo rating, not a percent"),
    (re.compile(r"(^|_)rating($|_)|1_?10|out_of_10"), "a rating on its own scale, not a percent"),
)


def _other_scale(dataset: Mapping[str, Any], metric: Mapping[str, Any]) -> str | None:
    """Why a result is on a scale that is not a percent or a fraction, or None."""
    for key in ("type", "name", "config"):
        v = dataset.get(key)
        if isinstance(v, str):
            n = rates.normalize(v).replace("/", "_")
            for pattern, why in _OTHER_SCALE:
                if pattern.search(n):
                    return why
    for key in ("type", "name"):
        v = metric.get(key)
        if isinstance(v, str):
            n = rates.normalize(v)
            for pattern, why in _OTHER_SCALE_METRIC:
                if pattern.search(n):
                    return why
    return None


def _effective_name(metric: Mapping[str, Any]) -> str:
    mtype, mname = metric.get("type"), metric.get("name")
    if isinstance(mtype, str) and mtype.strip() and rates.classify(mtype) != rates.UNKNOWN:
        return mtype
    if isinstance(mname, str) and mname.strip() and rates.classify(mname) != rates.UNKNOWN:
        return mname
    if isinstance(mtype, str) and mtype.strip():
        return mtype
    return mname if isinstance(mname, str) else ""


def _label(metric: Mapping[str, Any]) -> str:
    mtype = metric.get("type")
    return mtype if isinstance(mtype, str) and mtype.strip() else str(metric.get("name", ""))


def read(data: bytes, *, file: str, source: str, scale: Scale | None,
         overrides: Mapping[str, str]) -> EvalReadResult:
    text = decode_text(data, file)
    doc = load_front_matter(text, file)
    if not isinstance(doc, dict):
        raise fail(file, "front matter", f"is {kind_of(doc)}, expected a mapping with model-index",
                   "add model-index to the card's metadata, or use a csv/json results file")
    if "model-index" not in doc:
        raise fail(file, "front matter", "has no model-index",
                   "add model-index to the card's metadata, or use a csv/json results file")
    index = doc["model-index"]
    if not isinstance(index, list) or not index:
        raise fail(file, "model-index", f"is {kind_of(index)}, expected a list with one model",
                   "model-index: [{name: ..., results: [...]}]")
    if len(index) > 1:
        names = ", ".join(show(m.get("name") if isinstance(m, dict) else m, 30) for m in index)
        raise fail(file, "model-index", f"describes {len(index)} models ({names})",
                   "idm-gate reads a card with one model; split the card or use a csv/json results file")
    model = index[0]
    if not isinstance(model, dict):
        raise fail(file, "model-index[0]", f"is {kind_of(model)}", "an entry with name and results")
    results = model.get("results")
    if not isinstance(results, list):
        raise fail(file, "model-index[0].results", f"is {kind_of(results)}", "a list of results")

    # First pass: names and metric choice.
    rows: list[dict[str, Any]] = []
    for i, result in enumerate(results):
        place = f"model-index[0].results[{i}]"
        if not isinstance(result, dict):
            raise fail(file, place, f"is {kind_of(result)}", "a mapping with task, dataset and metrics")
        dataset = result.get("dataset")
        if not isinstance(dataset, dict):
            raise fail(file, f"{place}.dataset", f"is {kind_of(dataset)}", "a mapping with type and name")
        base = None
        for key in ("type", "name"):
            v = dataset.get(key)
            if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip():
                if key == "type" and str(v).strip().lower() in _PLACEHOLDER_TYPES and dataset.get("name"):
                    continue  # "type: unknown" (as on zephyr's MT-Bench row): the name says more
                base = str(v).strip()
                break
        if base is None:
            raise fail(file, f"{place}.dataset", "has neither type nor name", "give the dataset a type (its id)")
        metrics = result.get("metrics")
        if not isinstance(metrics, list) or not metrics:
            raise fail(file, f"{place}.metrics", f"is {kind_of(metrics)}", "a list of {type, value} entries")
        for j, m in enumerate(metrics):
            if not isinstance(m, dict):
                raise fail(file, f"{place}.metrics[{j}]", f"is {kind_of(m)}", "a mapping with type and value")
        src = result.get("source")
        task = result.get("task")
        rows.append({"place": place, "base": base, "dataset": dataset, "metrics": metrics,
                     "task_type": task.get("type") if isinstance(task, dict) else None,
                     "source": src if isinstance(src, dict) else {}})
    _name_rows(rows, file)

    chosen: list[tuple[dict[str, Any], int, Mapping[str, Any], str, float, bool]] = []
    notices: list[str] = []
    skipped: list[tuple[str, str]] = []

    def skip(task: str, reason: str) -> None:
        skipped.append((task, reason))
        notices.append(skipped_notice(file, task, reason))

    for r in rows:
        picked = _pick(r, overrides.get(r["task"]), file)
        if isinstance(picked, str):
            skip(r["task"], picked)
            continue
        j, metric, direction = picked
        mplace = f"{r['place']}.metrics[{j}].value"
        other = _other_scale(r["dataset"], metric)
        if other is not None:
            skip(r["task"], f"{other} (typed {show(_label(metric), 30)})")
            continue
        value = _value(metric.get("value"), file, mplace)
        if value is _NOT_REPORTED:
            skip(r["task"], f"not reported (value {show(metric.get('value'))})")
            continue
        if not isinstance(value, tuple):
            raise fail(file, mplace, f"is {kind_of(metric.get('value'))}, not a number", "write the score as a number")
        number_, pct = value
        if math.isnan(number_):
            raise fail(file, mplace, f"is not finite ({show(metric.get('value'))})",
                       "write the score as a finite number")
        chosen.append((r, j, metric, direction, number_, pct))

    plain = [c[4] for c in chosen if not c[5]]
    if scale is None:
        # A value written with a % sign says its own scale; the others follow the card's convention.
        scale_used = Scale.FRACTION if plain and all(v <= 1.0 for v in plain) else Scale.PERCENT
        inferred = True
        if chosen:
            why = ("every value is at most 1" if scale_used is Scale.FRACTION
                   else "model cards conventionally publish percentages")
            notices.append(one_line(f"{file}: values read on the {scale_used} scale (inferred: {why}); "
                           "set scale: fraction or percent in the manifest to declare it"))
        if scale_used is Scale.PERCENT:
            # A card mixing 0.91 with 70.0 may be reporting a hard task (0.91 %) or a fraction
            # (91 %): read as the card's percent, but never silently.
            low = [(c[0]["task"], c[4]) for c in chosen if not c[5] and 0.0 < c[4] <= 1.0]
            if low:
                shown = ", ".join(f"{t} {v:g}" for t, v in low[:3])
                shown += f" and {len(low) - 3} more" if len(low) > 3 else ""
                notices.append(one_line(
                    f"{file}: warning: {shown}: at most 1 on a card whose other values are percentages, so read "
                    f"as at most 1 % (an error rate near 1); if a value is a fraction, write it with a % sign "
                    f"in the card ('91%' for 0.91), or leave the task out with tasks:"))
    else:
        scale_used, inferred = scale, False
    if scale_used is Scale.FRACTION:
        chosen = [(r, j, m, d, v / 100.0 if pct else v, pct) for r, j, m, d, v, pct in chosen]

    tasks: list[TaskScore] = []
    v1: list[str] = []
    v2: list[str] = []
    for r, j, metric, direction, value, _pct in chosen:
        tasks.append(task_score(r["task"], _label(metric), value, direction, None, source=source, scale=scale_used,
                                scale_inferred=inferred, file=file, place=f"{r['place']}.metrics[{j}].value"))
        board = _leaderboard(r["source"])
        if board == 2:
            v2.append(r["task"])
        elif board == 1:
            v1.append(r["task"])
    if v2:
        notices.append(one_line(f"{file}: {', '.join(v2)}: from the Open LLM Leaderboard v2, which publishes "
                       "normalised scores (random guessing rescaled to 0), not accuracies, so 1 - score "
                       "over-states the error; prefer the lm-eval results file"))
    if v1:
        notices.append(one_line(f"{file}: {', '.join(v1)}: copied from the Open LLM Leaderboard (v1); read as the "
                       "accuracies it published"))
    return EvalReadResult(tasks=tuple(tasks), notices=tuple(notices), skipped=tuple(skipped))


def _text(value: Any) -> str | None:
    """A dataset field as a short, stable string (``args`` may be a mapping), or None when absent."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    text = str(value).strip()
    return text or None


# The fields that tell two results of one dataset id apart, in the order they appear in a name.
_QUALIFIERS = ("split", "args", "task", "name")


def _name_rows(rows: list[dict[str, Any]], file: str) -> None:
    """Give each row a task name: ``dataset.type`` alone when no other row shares it; otherwise
    ``<type>:<config>`` and ``[split=..., args=..., task=..., name=...]`` with the fewest of these fields,
    in that order, that tell apart the rows sharing the type (stable as long as the card lists the same
    results; a card that adds a sibling row may lengthen a name)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        ds = r["dataset"]
        r["fields"] = {"config": _text(ds.get("config")), "split": _text(ds.get("split")),
                       "args": _text(ds.get("args")), "task": _text(r["task_type"]), "name": _text(ds.get("name"))}
        groups.setdefault(r["base"], []).append(r)
    names: dict[int, str] = {}
    for base, group in groups.items():
        order = ("config",) + _QUALIFIERS
        # The fewest fields, in that order, that tell the group's results apart.
        use: tuple[str, ...] = order
        for k in range(len(order) + 1):
            cand = tuple(f for f in order[:k] if len({g["fields"][f] for g in group}) > 1)
            if len({tuple(g["fields"][f] for f in cand) for g in group}) == len(group):
                use = cand
                break
        for r in group:
            name = base
            if "config" in use and r["fields"]["config"] is not None:
                name += f":{r['fields']['config']}"
            extra = [f"{k}={r['fields'][k] if r['fields'][k] is not None else '-'}" for k in _QUALIFIERS if k in use]
            if extra:
                name += f" [{', '.join(extra)}]"
            names[id(r)] = name
    seen: dict[str, str] = {}
    for r in rows:
        name = names[id(r)]
        if name in seen:
            raise fail(file, r["place"], f"task {name!r} appears twice (also at {seen[name]})",
                       "results of one dataset must differ in dataset config, split, args, name or task type; "
                       "remove the duplicate")
        seen[name] = r["place"]
        r["task"] = name


def _pick(row: dict[str, Any], override: str | None, file: str) -> tuple[int, Mapping[str, Any], str] | str:
    """Return (index, metric, direction) or the reason the result has no rate metric."""
    metrics: list[Mapping[str, Any]] = row["metrics"]
    place = f"{row['place']}.metrics"
    if override is not None:
        want = rates.normalize(override)
        for j, m in enumerate(metrics):
            names = [m.get("type"), m.get("name")]
            if any(isinstance(n, str) and rates.normalize(n) == want for n in names):
                eff = _effective_name(m)
                if rates.classify(eff) == rates.NOT_RATE:
                    raise fail(file, f"{place}[{j}]", f"the manifest picks {override!r}, which is {rates.why_not(eff)}",
                               "pick an accuracy-like rate or an error rate in [0, 1]")
                direction = rates.default_direction(eff)
                if direction is None:
                    raise fail(file, f"{place}[{j}]", f"the manifest picks {override!r}, whose direction is unknown",
                               "pick an accuracy-like rate or an error rate")
                return j, m, direction
        have = ", ".join(show(_label(m), 50) for m in metrics)
        raise fail(file, place, f"the manifest picks metric {override!r} for {row['task']}, which this result "
                   "does not have", f"its metrics are: {have}")
    candidates = [(j, m, _effective_name(m)) for j, m in enumerate(metrics)]
    # Speech recognition cards report word and character error rates: on a card they are the task's
    # error (WER first, then CER), after any accuracy-like rate the result also has.
    ok = [c for c in candidates if rates.is_candidate(c[2]) or rates.classify(c[2]) == rates.DECLARED_ONLY]
    if not ok:
        unnamed = list(dict.fromkeys(str(c[2] or "(unnamed)") for c in candidates))
        return "no rate metric (" + "; ".join(f"{n}: {rates.why_not(n)}" for n in unnamed) + ")"
    j, m, eff = min(ok, key=lambda c: (_speech_rank(c[2]), rates.rank(c[2]), c[0]))
    return j, m, rates.default_direction(eff) or rates.HIGHER


def _speech_rank(name: str) -> int:
    """0 for rates and error rates, 1 for a word error rate, 2 for a character error rate."""
    if rates.classify(name) != rates.DECLARED_ONLY:
        return 0
    return 2 if "cer" in rates.normalize(name) or "char" in rates.normalize(name) else 1


def _leaderboard(src: Mapping[str, Any]) -> int:
    """2 for the Open LLM Leaderboard v2, 1 for v1, 0 otherwise."""
    url = src.get("url")
    url = url.lower() if isinstance(url, str) else ""
    name = src.get("name")
    name = name.lower() if isinstance(name, str) else ""
    if any(m in url for m in _V2_MARKERS):
        return 2
    if any(m in url for m in _V1_MARKERS):
        return 1
    if "open llm leaderboard" in name:
        return 2 if "v2" in name else 1
    return 0
