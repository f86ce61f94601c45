"""A measurement as a report document (a JSON object) and back: the one serialized form of a measurement.

The same document is ``measure --format json``'s output, the ``report`` of every stored baseline record,
a ``measure --shard`` part, what ``merge``, ``check --report``/``record --report`` and the action's publish
step read back, and the ``current``/``baseline`` of each model in a check report. Its shape is
``idm_gate/schemas/report.schema.json``.

Writing: :func:`measurement_to_dict`, then :func:`dumps`. Reading: :func:`loads_strict` (standard JSON
only), then :func:`measurement_from_dict`, which validates the schema and that the figures follow from
each other, because the document may come from an untrusted pull request (an uploaded artifact, a
record on a branch anyone with push access can edit). The renderers in ``report/`` only write.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from . import __version__, metric
from .data import (
    ArtifactSize,
    BenchMetric,
    BenchResult,
    GroupMeasurement,
    LogBase,
    Measurement,
    ModelMeasurement,
    Scale,
    TaskScore,
)
from .errors import InputError, truncate


def measurement_to_dict(m: Measurement) -> dict[str, Any]:
    return {
        "version": 1,
        "kind": "measurement",
        "tool_version": __version__,
        "manifest": m.manifest,
        "manifest_digest": m.manifest_digest,
        "log_base": m.log_base,
        "unit": m.log_base.unit,
        "notices": [_cut(n) for n in m.notices],
        "models": [model_to_dict(x) for x in m.models],
    }


def _cut(notice: str, limit: int = 4096) -> str:
    """Notices quote names from the PR; keep each within the report schema's limit."""
    return truncate(notice, limit)


def model_to_dict(x: ModelMeasurement) -> dict[str, Any]:
    return {
        "name": x.name,
        "size_bytes": x.size_bytes,
        "size_gb": x.size_gb,
        "size_source": x.size_source,
        "params": x.params,
        "bits_per_param": x.bits_per_param,
        "error_rate": x.error_rate,
        "raw_error_rate": x.raw_error_rate,
        "error_stderr": x.error_stderr,
        "tasks_with_stderr": x.tasks_with_stderr,
        "density": x.density,
        "density_stderr": x.density_stderr,
        # only with costs: (cost-weighted error above), so reports without them are unchanged
        **({"plain_error_rate": x.plain_error_rate, "plain_density": x.plain_density}
           if x.plain_error_rate is not None else {}),
        "log_base": x.log_base,
        "min_error_applied": x.min_error_applied,
        "weights": x.weights,
        "fingerprint": x.fingerprint,
        "tasks": [
            {"name": t.task, "metric": t.metric, "score": t.score, "error": t.error, "stderr": t.stderr,
             "source": t.source, "scale": t.scale, "scale_inferred": t.scale_inferred,
             **({"partial": t.partial} if t.partial is not None else {}),
             **({"cost_error": t.cost_error, "costs": t.costs} if t.cost_error is not None else {})}
            for t in x.tasks
        ],
        "artifacts": [
            {"path": a.path, "size_bytes": a.size_bytes, "source": a.source, "format": a.format,
             "params": a.params, "bits_per_param": a.bits_per_param, "note": a.note}
            for a in x.artifacts
        ],
        "notices": [_cut(n) for n in x.notices],
        # only when the manifest lists bench: files, so reports (and stored baselines) without them are unchanged
        **({"bench": [bench_to_dict(b) for b in x.bench]} if x.bench else {}),
        # likewise only with groups: (domains)
        **({"groups": [group_to_dict(g) for g in x.groups]} if x.groups else {}),
    }


def group_to_dict(g: GroupMeasurement) -> dict[str, Any]:
    return {"name": g.name, "tasks": list(g.tasks), "error_rate": g.error_rate, "raw_error_rate": g.raw_error_rate,
            "error_stderr": g.error_stderr, "tasks_with_stderr": g.tasks_with_stderr, "density": g.density,
            "density_stderr": g.density_stderr, "min_error_applied": g.min_error_applied}


def _groups_from(x: dict[str, Any], tasks: tuple[TaskScore, ...], where: str) -> tuple[GroupMeasurement, ...]:
    """A report's groups, recomputed from its tasks: an edited group density or error rate is refused."""
    if not x.get("groups"):
        return ()
    from .groups import measure_group

    by = {t.task: t for t in tasks}
    out = []
    seen: set[str] = set()
    for k, g in enumerate(x.get("groups", ())):
        at = f"{where}.groups[{k}]"
        if g["name"] in seen:
            raise InputError(f"{at}: group {g['name']!r} is listed twice; the report was edited")
        seen.add(g["name"])
        unknown = [t for t in g["tasks"] if t not in by]
        if unknown or len(set(g["tasks"])) != len(g["tasks"]):
            raise InputError(f"{at}: lists {unknown[0]!r}, not a task of the model; the report was edited" if unknown
                             else f"{at}: lists a task twice; the report was edited")
        clamp = g["error_rate"] if g["min_error_applied"] else None
        try:
            got = measure_group(g["name"], [by[t] for t in g["tasks"]], x["weights"], clamp, x["size_bytes"],
                                LogBase(x["log_base"]))
        except metric.MetricError as e:
            raise InputError(f"{at}: {e}") from None
        for k2 in ("error_rate", "raw_error_rate", "density", "error_stderr", "density_stderr", "tasks_with_stderr"):
            want, have = getattr(got, k2), g[k2]
            if (want is None) != (have is None) or (want is not None and not math.isclose(
                    want, have, rel_tol=1e-9, abs_tol=1e-15)):
                raise InputError(f"{at}: {k2} does not follow from its tasks; the report was edited")
        out.append(got)
    return tuple(out)


def bench_to_dict(b: BenchResult) -> dict[str, Any]:
    return {"metric": b.metric.value, "test": b.test, "value": b.value, "stderr": b.stderr, "source": b.source,
            "samples": b.samples, "backend": b.backend, "threads": b.threads, "n_prompt": b.n_prompt,
            "n_gen": b.n_gen, "batch": b.batch, "hardware": b.hardware,
            # only when the tool stated them, so figures from the other readers are written as before
            **({"settings": dict(b.settings)} if b.settings else {})}


def bench_from_dict(d: dict[str, Any]) -> BenchResult:
    return BenchResult(metric=BenchMetric(d["metric"]), test=d["test"], value=d["value"], stderr=d["stderr"],
                       source=d["source"], samples=d.get("samples"), backend=d.get("backend"),
                       threads=d.get("threads"), n_prompt=d.get("n_prompt"), n_gen=d.get("n_gen"),
                       hardware=d.get("hardware"), batch=d.get("batch"),
                       settings=tuple(d.get("settings", {}).items()))


def loads_strict(data: bytes, shown: str) -> Any:
    """Standard JSON only (:mod:`idm_gate.jsonsafe`): no NaN/Infinity, no duplicate keys, bounded nesting."""
    from .jsonsafe import load_json

    return load_json(data, shown, allow_nan=False)


def validate_report(doc: object, shown: str, valid: frozenset[str] = frozenset()) -> None:
    """``InputError`` (one line, the most relevant problem) unless ``doc`` matches the report schema.

    ``valid``: ``manifest.model_entries`` of reports this schema already accepted in this run (the
    records along a branch share most models): entries found there are not validated again, with
    the same outcome (``manifest.schema_errors``).
    """
    import jsonschema

    from .manifest import _field_path, model_entries, schema, schema_errors

    sch = schema("report")
    v = jsonschema.Draft202012Validator(sch)
    if valid and isinstance(doc, dict):
        errors = schema_errors(v, doc, model_entries(doc.get("models")), valid)
    else:
        errors = list(v.iter_errors(doc))
    err = jsonschema.exceptions.best_match(errors)
    if err is not None:
        field = _field_path(err.absolute_path) or "(top level)"
        raise InputError(f"{shown}: {field}: {err.message[:200]}; the report must match idm-gate's report schema")


def measurement_from_dict(doc: dict[str, Any], shown: str, *, valid: frozenset[str] = frozenset()) -> Measurement:
    """Validate and rebuild a measurement (a stored baseline or an uploaded report); ``valid`` as for
    :func:`validate_report` (every other check runs on every model)."""
    validate_report(doc, shown, valid)
    _numbers_fit(doc, shown)
    models = []
    for i, x in enumerate(doc["models"]):
        for k in ("density", "size_gb", "error_rate"):
            if not math.isfinite(x[k]):
                raise InputError(f"{shown}: models[{i}].{k}: not a finite number")
        if abs(x["size_gb"] * 1e9 - x["size_bytes"]) > 1 + 1e-9 * x["size_bytes"]:
            raise InputError(f"{shown}: models[{i}]: size_gb and size_bytes disagree; the report was edited")
        _check_consistent(x, f"{shown}: models[{i}]")
        tasks = tuple(TaskScore(task=t["name"], metric=t["metric"], score=t["score"], error=t["error"],
                                stderr=t["stderr"], source=t["source"], scale=Scale(t["scale"]),
                                scale_inferred=t["scale_inferred"], partial=t.get("partial"),
                                cost_error=t.get("cost_error"), costs=t.get("costs"))
                      for t in x["tasks"])
        models.append(ModelMeasurement(
            name=x["name"], size_bytes=x["size_bytes"], size_source=x["size_source"], params=x["params"],
            bits_per_param=x["bits_per_param"], error_rate=x["error_rate"], raw_error_rate=x["raw_error_rate"],
            error_stderr=x["error_stderr"], tasks_with_stderr=x["tasks_with_stderr"], density=x["density"],
            density_stderr=x["density_stderr"], log_base=LogBase(x["log_base"]),
            tasks=tasks,
            artifacts=tuple(ArtifactSize(path=a["path"], size_bytes=a["size_bytes"], source=a["source"],
                                         format=a["format"], params=a["params"],
                                         bits_per_param=a.get("bits_per_param"), note=a.get("note"))
                            for a in x["artifacts"]),
            min_error_applied=x["min_error_applied"], weights=x["weights"], notices=tuple(x["notices"]),
            bench=tuple(bench_from_dict(b) for b in x.get("bench", ())),
            plain_error_rate=x.get("plain_error_rate"), plain_density=x.get("plain_density"),
            groups=_groups_from(x, tasks, f"{shown}: models[{i}]"),
        ))
    return Measurement(manifest=doc["manifest"], manifest_digest=doc["manifest_digest"],
                       log_base=LogBase(doc["log_base"]),
                       models=tuple(models), notices=tuple(doc["notices"]))


def _numbers_fit(doc: Any, shown: str) -> None:
    """JSON integers have no bound, Python floats do: a report figure beyond float range (a hand-edited
    400-digit integer) would raise OverflowError wherever it meets float arithmetic; refuse it here, once,
    for every field (every number idm-gate writes is a float or an int well within range)."""
    import orjson

    try:
        orjson.dumps(doc)  # writes every integer within 64 bits, far inside float range, and refuses larger ones
        return
    except TypeError:  # orjson.JSONEncodeError: a larger integer, or something else orjson refuses; look
        pass
    at = _too_big(doc)
    if at is None:
        return
    path, value = "", doc
    for part in at:
        path = f"{path}[{part}]" if isinstance(value, list) else (f"{path}.{part}" if path else str(part))
        value = value[part]
    raise InputError(f"{shown}: {path}: a number of {len(str(abs(value)))} digits, beyond what a report holds; "
                     "the report was edited")


_FLOAT_MAX = int(sys.float_info.max)


def _too_big(doc: Any) -> tuple[Any, ...] | None:
    """The keys and indices leading to the first integer in ``doc`` beyond float range, None when there is
    none (``()`` for ``doc`` itself). Called once per list or mapping, not per value: a 1,000-model record
    holds some 50,000 values."""
    if isinstance(doc, dict):
        items: Any = doc.items()
    elif isinstance(doc, list):
        items = enumerate(doc)
    else:
        return () if isinstance(doc, int) and not isinstance(doc, bool) and abs(doc) > _FLOAT_MAX else None
    for k, v in items:
        if isinstance(v, (dict, list)) or (isinstance(v, int) and not isinstance(v, bool) and abs(v) > _FLOAT_MAX):
            below = _too_big(v)
            if below is not None:
                return (k, *below)
    return None


def _check_consistent(x: dict[str, Any], where: str) -> None:
    """The figures must follow from each other: a hand-edited report cannot claim a better density."""
    tasks = x["tasks"]
    try:
        w = [float((x["weights"] or {}).get(t["name"], 1.0)) for t in tasks] if x["weights"] else None
        agg = metric.aggregate_error([t.get("cost_error", t["error"]) for t in tasks], [t["stderr"] for t in tasks], w)
        pe = x["error_rate"] if x["min_error_applied"] else agg.error_rate
        d = metric.density(pe, x["size_bytes"], LogBase(x["log_base"]))
    except metric.MetricError as e:
        raise InputError(f"{where}: {e}") from None
    if x["min_error_applied"] and not x["error_rate"] >= agg.raw_error_rate:
        raise InputError(f"{where}: error_rate is below the tasks' mean error; the report was edited")
    if not math.isclose(agg.raw_error_rate, x["raw_error_rate"], rel_tol=1e-9, abs_tol=1e-12) or \
            not math.isclose(pe, x["error_rate"], rel_tol=1e-9, abs_tol=1e-12):
        raise InputError(f"{where}: error_rate does not match its tasks' errors; the report was edited")
    if not math.isclose(d, x["density"], rel_tol=1e-9, abs_tol=1e-12):
        raise InputError(f"{where}: density does not follow from error_rate and size; the report was edited")
    # The uncertainties decide "within noise" under significance: on, so they must follow too.
    sd = metric.density_stderr(pe, agg.error_stderr, x["size_bytes"], LogBase(x["log_base"]))
    for name, want in (("error_stderr", agg.error_stderr), ("density_stderr", sd)):
        got = x[name]
        if (got is None) != (want is None) or (want is not None and not math.isclose(
                got, want, rel_tol=1e-9, abs_tol=1e-15)):
            raise InputError(f"{where}: {name} does not follow from its tasks' standard errors; the report was edited")
    if x["tasks_with_stderr"] != agg.tasks_with_stderr:
        raise InputError(f"{where}: tasks_with_stderr does not match its tasks; the report was edited")
    _check_plain(x, w, where)


def _check_plain(x: dict[str, Any], w: list[float] | None, where: str) -> None:
    """With costs, the plain figures follow from the tasks' plain errors, clamped as error_rate was."""
    costed = any("cost_error" in t for t in x["tasks"])
    if costed != ("plain_error_rate" in x) or ("plain_error_rate" in x) != ("plain_density" in x):
        raise InputError(f"{where}: plain_error_rate and plain_density go with tasks that have a cost_error, and only "
                         "with them; the report was edited")
    if not costed:
        return
    for t in x["tasks"]:  # no mistake costs more than the largest cost: a cost-weighted error is never above the plain
        if "cost_error" in t and t["cost_error"] > t["error"] + 1e-12:
            raise InputError(f"{where}: task {t['name'][:100]!r}: cost_error {t['cost_error']:g} is above its plain "
                             f"error {t['error']:g}, which no costs can give; the report was edited")
    min_error = x["error_rate"] if x["min_error_applied"] else None
    try:
        plain = metric.aggregate_error([t["error"] for t in x["tasks"]], [None] * len(x["tasks"]), w)
        pe = max(plain.error_rate, min_error) if min_error is not None else plain.error_rate
        d = metric.density(pe, x["size_bytes"], LogBase(x["log_base"]))
    except metric.MetricError as e:
        raise InputError(f"{where}: {e}") from None
    if not math.isclose(pe, x["plain_error_rate"], rel_tol=1e-9, abs_tol=1e-12) or \
            not math.isclose(d, x["plain_density"], rel_tol=1e-9, abs_tol=1e-12):
        raise InputError(f"{where}: plain_error_rate or plain_density does not follow from the tasks' errors; the "
                         "report was edited")


def dumps(doc: dict[str, Any]) -> str:
    """``doc`` as the JSON text idm-gate writes: indented by 2, keys in insertion order, one trailing newline.

    Raises ``ValueError`` for NaN or an infinity, which standard JSON cannot hold (the documents hold
    none: the report schema requires finite numbers).
    """
    return json.dumps(doc, indent=2, sort_keys=False, allow_nan=False) + "\n"
