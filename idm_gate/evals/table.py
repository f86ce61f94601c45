"""Read plain score tables: CSV, JSON, and inline ``scores:`` from the manifest.

CSV
    A header row is required: ``task,score`` with an optional ``stderr`` column, in any order and
    case. A UTF-8 BOM and CRLF line ends are accepted; blank lines are skipped; an empty stderr cell
    means unknown. Other columns are an error (a typo like ``stdder`` should not be silently lost).

JSON
    ``{"task": score}`` or ``{"task": {"score": x, "stderr": y}}`` (stderr optional or null); the
    two forms may be mixed. Duplicate keys are an error.

Inline
    The manifest's ``scores: {task: value}`` with the same two value forms as JSON.

Every value is an accuracy-like score (higher is better): error = 1 - score. Its metric is reported
as ``score``; a manifest metric choice other than ``score`` for one of these tasks is an error.

Scale
    No convention exists for these formats, so nothing is guessed from the values: without a declared
    ``scale`` the values are fractions (``scale_inferred`` is True, because the manifest did not say),
    and a value outside 0..1 is an error that suggests ``scale: percent``. Under ``scale: percent``
    values must be within 0..100 and standard errors are divided by 100 as well.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

from ..data import Scale, TaskScore
from . import rates
from ._common import (
    EvalReadResult,
    decode_text,
    fail,
    kind_of,
    load_json,
    number,
    show,
    stderr_fraction,
    task_score,
)

METRIC = "score"
_COLUMNS = ("task", "score", "stderr")


def _scale(scale: Scale | None) -> tuple[Scale, bool]:
    return (Scale.FRACTION, True) if scale is None else (scale, False)


def _check_override(task: str, overrides: Mapping[str, str], file: str, place: str) -> None:
    o = overrides.get(task)
    if o is not None and rates.normalize(o) != METRIC:
        raise fail(file, place, f"the manifest picks metric {o!r} for {task}, but this source has one value "
                   "per task", f"its metrics are: {METRIC}; metric choices apply to lm-eval and model-index sources")


def read_csv(data: bytes, *, file: str, source: str, scale: Scale | None,
             overrides: Mapping[str, str]) -> EvalReadResult:
    import csv  # here, not at import: inline scores (this module's other reader) need none of it

    text = decode_text(data, file)
    scale_used, inferred = _scale(scale)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    cols: dict[str, int] = {}
    tasks: list[TaskScore] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
                if "task" not in header and "score" not in header:
                    raise fail(file, f"line {line}", f"the first row {show(','.join(row), 60)} is not a header",
                               "start the file with a header row: task,score[,stderr]")
                for i, name in enumerate(header):
                    if name not in _COLUMNS:
                        raise fail(file, f"line {line}", f"unknown column {show(row[i])} in the header",
                                   "the header is task,score with an optional stderr column")
                    if name in cols:
                        raise fail(file, f"line {line}", f"column {name!r} appears twice in the header",
                                   "the header is task,score with an optional stderr column")
                    cols[name] = i
                if "task" not in cols or "score" not in cols:
                    raise fail(file, f"line {line}", "the header lacks the "
                               + " and ".join(c for c in ("task", "score") if c not in cols) + " column",
                               "the header is task,score with an optional stderr column")
                continue
            if len(row) != len(header):
                raise fail(file, f"line {line}", f"{len(row)} fields, but the header has {len(header)}",
                           "one value per column; quote a task name that contains a comma")
            task = row[cols["task"]].strip()
            if not task:
                raise fail(file, f"line {line}", "the task name is empty", "name the task")
            place = f"line {line} ({task})"
            if task in seen:
                raise fail(file, place, f"task {task!r} appears twice (also on line {seen[task]})",
                           "list each task once")
            seen[task] = line
            _check_override(task, overrides, file, place)
            value = _parse_number(row[cols["score"]], file, place, "score")
            stderr = None
            if "stderr" in cols and row[cols["stderr"]].strip():
                raw = _parse_number(row[cols["stderr"]], file, place, "stderr")
                stderr = stderr_fraction(raw, scale_used, file, place)
            tasks.append(task_score(task, METRIC, value, rates.HIGHER, stderr, source=source, scale=scale_used,
                                    scale_inferred=inferred, file=file, place=place))
    except csv.Error as e:
        raise fail(file, f"line {reader.line_num}", f"not valid CSV ({str(e)[:80]})",
                   "a CSV file with a task,score[,stderr] header") from None
    if header is None:
        raise fail(file, None, "is empty", "a CSV file with a task,score[,stderr] header and one row per task")
    return EvalReadResult(tasks=tuple(tasks))


def _parse_number(cell: str, file: str, place: str, what: str) -> float:
    s = cell.strip()
    try:
        f = float(s)
    except ValueError:
        raise fail(file, place, f"{what} {show(s)} is not a number", "write a decimal number like 0.734") from None
    if not math.isfinite(f):
        raise fail(file, place, f"{what} {show(s)} is not finite", "write a finite decimal number")
    return f


def read_json(data: bytes, *, file: str, source: str, scale: Scale | None,
              overrides: Mapping[str, str]) -> EvalReadResult:
    return read_json_doc(load_json(data, file), file=file, source=source, scale=scale, overrides=overrides)


def read_json_doc(doc: Any, *, file: str, source: str, scale: Scale | None,
                  overrides: Mapping[str, str]) -> EvalReadResult:
    if not isinstance(doc, dict):
        raise fail(file, "top level", f"is {kind_of(doc)}",
                   'an object {"task": score} or {"task": {"score": x, "stderr": y}}')
    if isinstance(doc.get("results"), dict):
        raise fail(file, "results", "format is json, but the file looks like lm-eval output (a top-level "
                   "results object)", "set format: lm-eval for this source, or leave format out")
    return read_mapping(doc, file=file, source=source, scale=scale, overrides=overrides, place_prefix="")


def read_inline(scores: Any, *, file: str, source: str, scale: Scale | None,
                overrides: Mapping[str, str]) -> EvalReadResult:
    """``file`` is the message prefix for the manifest field (``idm.yaml: models[0].evals[1].scores``)."""
    if not isinstance(scores, dict):
        raise fail(file, None, f"is {kind_of(scores)}", "a mapping of task: score")
    return read_mapping(scores, file=file, source=source, scale=scale, overrides=overrides, place_prefix="")


def read_mapping(doc: Mapping[str, Any], *, file: str, source: str, scale: Scale | None, overrides: Mapping[str, str],
                 place_prefix: str = "") -> EvalReadResult:
    scale_used, inferred = _scale(scale)
    tasks: list[TaskScore] = []
    for task, entry in doc.items():
        if not isinstance(task, str) or not task.strip():
            raise fail(file, f"{place_prefix}{show(task)}", "a task name must be non-empty text",
                       "name each task with text")
        place = f"{place_prefix}{task}"
        _check_override(task, overrides, file, place)
        stderr_raw: Any = None
        if isinstance(entry, dict):
            extra = [k for k in entry if k not in ("score", "stderr")]
            if extra or "score" not in entry:
                what = (f"unknown key {show(extra[0])}" if extra else "has no score")
                raise fail(file, place, what, 'use {"score": x} with an optional "stderr": y')
            value_raw, stderr_raw = entry["score"], entry.get("stderr")
            vplace = f"{place}.score"
        else:
            value_raw, vplace = entry, place
        value = number(value_raw)
        if value is None:
            raise fail(file, vplace, f"is {kind_of(value_raw)}, not a number",
                       'a score as a number, or {"score": x, "stderr": y}')
        if math.isnan(value):
            raise fail(file, vplace, f"is not finite ({show(value_raw)})", "write a finite number")
        stderr = None
        if stderr_raw is not None:
            s = number(stderr_raw)
            if s is None or math.isnan(s):
                raise fail(file, f"{place}.stderr", f"is {kind_of(stderr_raw)}, not a finite number",
                           "a standard error as a number, or leave it out")
            stderr = stderr_fraction(s, scale_used, file, f"{place}.stderr")
        tasks.append(task_score(task, METRIC, value, rates.HIGHER, stderr, source=source, scale=scale_used,
                                scale_inferred=inferred, file=file, place=vplace))
    return EvalReadResult(tasks=tuple(tasks))
