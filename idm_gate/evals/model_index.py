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
    ``dataset.name`` when there is no type. Display names like "HellaSwag (10-Shot)" change between
    cards; ids do not, so two cards of the same family compare task by task. When several results
    share a dataset id, each becomes ``<id>:<config>`` (``ai2_arc:ARC-Challenge``); results still
    equal after that are an error. A card with several models in ``model-index`` is an error.

Metric
    Each result's metrics go through the primary-metric rule of :mod:`idm_gate.evals.rates`, using
    ``type`` and, when ``type`` is not a known metric, the display ``name`` ("strict accuracy"); names
    are compared ignoring case, spaces and hyphens. The manifest may pick another metric by type or name.

Scale
    Cards conventionally publish percentages. Without a declared scale the values are read as percent,
    unless every chosen value is at most 1, then as fractions; either way ``scale_inferred`` is True and
    a notice says so. Card metrics carry no standard error (stderr is None).

Open LLM Leaderboard
    Results whose ``source`` is the Open LLM Leaderboard get a notice. Leaderboard v2 (the
    ``open-llm-leaderboard/open_llm_leaderboard`` space: IFEval, BBH, MATH Lvl 5, GPQA, MuSR, MMLU-PRO)
    publishes *normalised* scores, rescaled so that random guessing is 0, not accuracies: one minus
    such a score over-states the error, so the notice asks for the raw lm-eval results instead.
"""

from __future__ import annotations

import math
from typing import Any, Mapping


from ..data import TaskScore
from ..yamlsafe import load_yaml
from . import rates
from ._common import (FRACTION, PERCENT, EvalReadResult, decode_text, fail, kind_of, number, one_line,
                      show, skipped_notice, task_score)

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


def _value(raw: Any) -> float | None:
    """A metric value: a number, or text holding one (some cards quote them). NaN when not finite."""
    f = number(raw)
    if f is not None:
        return f
    if isinstance(raw, str):
        try:
            f = float(raw.strip().rstrip("%"))
        except ValueError:
            return None
        return f if math.isfinite(f) else math.nan
    return None


def _effective_name(metric: Mapping) -> str:
    mtype, mname = metric.get("type"), metric.get("name")
    if isinstance(mtype, str) and mtype.strip() and rates.classify(mtype) != rates.UNKNOWN:
        return mtype
    if isinstance(mname, str) and mname.strip() and rates.classify(mname) != rates.UNKNOWN:
        return mname
    if isinstance(mtype, str) and mtype.strip():
        return mtype
    return mname if isinstance(mname, str) else ""


def _label(metric: Mapping) -> str:
    mtype = metric.get("type")
    return mtype if isinstance(mtype, str) and mtype.strip() else str(metric.get("name", ""))


def read(data: bytes, *, file: str, source: str, scale: str | None,
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
    rows: list[dict] = []
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
                base = str(v).strip()
                break
        if base is None:
            raise fail(file, f"{place}.dataset", "has neither type nor name", "give the dataset a type (its id)")
        config = dataset.get("config")
        metrics = result.get("metrics")
        if not isinstance(metrics, list) or not metrics:
            raise fail(file, f"{place}.metrics", f"is {kind_of(metrics)}", "a list of {type, value} entries")
        for j, m in enumerate(metrics):
            if not isinstance(m, dict):
                raise fail(file, f"{place}.metrics[{j}]", f"is {kind_of(m)}", "a mapping with type and value")
        src = result.get("source")
        rows.append({"place": place, "base": base, "config": config, "metrics": metrics,
                     "source": src if isinstance(src, dict) else {}})

    counts: dict[str, int] = {}
    for r in rows:
        counts[r["base"]] = counts.get(r["base"], 0) + 1
    seen: dict[str, str] = {}
    for r in rows:
        name = r["base"]
        if counts[name] > 1 and isinstance(r["config"], (str, int, float)) and str(r["config"]).strip():
            name = f"{name}:{str(r['config']).strip()}"
        if name in seen:
            raise fail(file, r["place"], f"task {name!r} appears twice (also at {seen[name]})",
                       "give each result a distinct dataset.config, or remove the duplicate")
        seen[name] = r["place"]
        r["task"] = name

    chosen: list[tuple[dict, int, Mapping, str, float]] = []
    notices: list[str] = []
    skipped: list[tuple[str, str]] = []
    for r in rows:
        picked = _pick(r, overrides.get(r["task"]), file)
        if isinstance(picked, str):
            skipped.append((r["task"], picked))
            notices.append(skipped_notice(file, r["task"], picked))
            continue
        j, metric, direction = picked
        mplace = f"{r['place']}.metrics[{j}].value"
        value = _value(metric.get("value"))
        if value is None:
            raise fail(file, mplace, f"is {kind_of(metric.get('value'))}, not a number", "write the score as a number")
        if math.isnan(value):
            raise fail(file, mplace, f"is not finite ({show(metric.get('value'))})", "write the score as a finite number")
        chosen.append((r, j, metric, direction, value))

    if scale is None:
        scale_used = FRACTION if chosen and all(c[4] <= 1.0 for c in chosen) else PERCENT
        inferred = True
        if chosen:
            why = ("every value is at most 1" if scale_used == FRACTION
                   else "model cards conventionally publish percentages")
            notices.append(one_line(f"{file}: values read on the {scale_used} scale (inferred: {why}); "
                           "set scale: fraction or percent in the manifest to declare it"))
    else:
        scale_used, inferred = scale, False

    tasks: list[TaskScore] = []
    v1: list[str] = []
    v2: list[str] = []
    for r, j, metric, direction, value in chosen:
        tasks.append(task_score(r["task"], _label(metric), value, direction, None, source=source, scale=scale_used,
                                scale_inferred=inferred, file=file, place=f"{r['place']}.metrics[{j}].value"))
        board = _leaderboard(r["source"])
        if board == 2:
            v2.append(r["task"])
        elif board == 1:
            v1.append(r["task"])
    if v2:
        notices.append(one_line(f"{file}: {', '.join(v2)}: from the Open LLM Leaderboard v2, which publishes normalised "
                       "scores (random guessing rescaled to 0), not accuracies, so 1 - score over-states the "
                       "error; prefer the lm-eval results file"))
    if v1:
        notices.append(one_line(f"{file}: {', '.join(v1)}: copied from the Open LLM Leaderboard (v1); read as the "
                       "accuracies it published"))
    return EvalReadResult(tasks=tuple(tasks), notices=tuple(notices), skipped=tuple(skipped))


def _pick(row: dict, override: str | None, file: str):
    """Return (index, metric, direction) or the reason the result has no rate metric."""
    metrics: list[Mapping] = row["metrics"]
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
    ok = [c for c in candidates if rates.is_candidate(c[2])]
    if not ok:
        names = list(dict.fromkeys(c[2] or "(unnamed)" for c in candidates))
        return "no rate metric (" + "; ".join(f"{n}: {rates.why_not(n)}" for n in names) + ")"
    j, m, eff = min(ok, key=lambda c: (rates.rank(c[2]), c[0]))
    return j, m, rates.default_direction(eff) or rates.HIGHER


def _leaderboard(src: Mapping) -> int:
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
