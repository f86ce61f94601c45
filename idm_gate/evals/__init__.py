"""Eval results readers: one per format, one entry point.

``read_eval(source, base_dir, root, manifest_name, metric_overrides)`` reads one ``evals:`` entry of
a model in the manifest and returns its tasks as error fractions. Formats, and the scale used
when the manifest does not declare one:

- ``lm-eval``: an lm-evaluation-harness results JSON; fraction by the harness's convention.
- ``model-index``: a Hugging Face ``README.md`` front matter; percent, or fraction when every value
  is at most 1 (cards' convention).
- ``csv``: ``task,score[,stderr]``; ``json``: ``{task: score}`` or ``{task: {score, stderr}}``;
  inline ``scores: {task: score}`` in the manifest: no convention, so fraction unless the manifest
  says ``scale: percent``, and a value outside 0..1 is an error suggesting it.

The scale named in the manifest always wins; ``TaskScore.scale_inferred`` is True whenever the
manifest did not name one.

When ``format`` is not given it is detected: a ``.json`` file with a top-level ``results`` object
is lm-eval, any other ``.json`` is json, ``.md`` is model-index, ``.csv`` is csv.

The result is an :class:`EvalReadResult` (an ``EvalResult`` with ``skipped``: the ``(task, reason)``
pairs a reader saw but could not count, such as ``wikitext`` with only perplexities). Notices are one
line each and start with the file; a skipped task's notice reads ``"<file>: <task>: skipped: <why>"``.
A source from which no task can be counted is an error. Every problem with the user's input raises
:class:`~idm_gate.errors.InputError` with one line: ``<file>: <place>: <what is wrong>; <what is valid>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..data import EvalResult, EvalSource
from ..paths import EVAL_FILE_CAP, read_capped, resolve_inside
from . import lmeval, model_index, table
from ._common import EvalReadResult, check_scale, fail, load_json, show

FORMATS = ("lm-eval", "model-index", "csv", "json")

__all__ = ["FORMATS", "EvalReadResult", "read_eval", "skipped_tasks"]


def read_eval(source: EvalSource, base_dir: Path, root: Path, manifest_name: str,
              metric_overrides: Mapping[str, str]) -> EvalResult:
    """Read one eval source into task error fractions (see the module docstring)."""
    field = source.field or "evals"
    overrides = dict(metric_overrides or {})
    check_scale(source.scale, manifest_name, field)
    if source.format is not None and source.format not in FORMATS:
        raise fail(manifest_name, f"{field}.format", f"unknown format {show(source.format)}",
                   f"use one of {', '.join(FORMATS)}, or leave it out to detect it")
    if (source.path is None) == (source.scores is None):
        raise fail(manifest_name, field, "needs exactly one of path and scores",
                   "path: a results file, or scores: {task: value}")

    if source.scores is not None:
        if source.format is not None:
            raise fail(manifest_name, f"{field}.format", "applies to a file, but this entry has inline scores",
                       "drop format, or move the scores to a file")
        result = table.read_inline(source.scores, file=f"{manifest_name}: {field}.scores", source="inline",
                                   scale=source.scale, overrides=overrides)
        return _non_empty(result, f"{manifest_name}: {field}.scores")

    what = f"{manifest_name}: {field}.path"
    path = resolve_inside(source.path, base_dir, root, what)
    data = read_capped(path, EVAL_FILE_CAP, what, source.path)
    file = source.path
    fmt = source.format
    kwargs = dict(file=file, source=source.path, scale=source.scale, overrides=overrides)
    if fmt is None:
        suffix = Path(source.path).suffix.lower()
        if suffix == ".json":
            doc = load_json(data, file)
            reader = lmeval.read_doc if lmeval.looks_like_lmeval(doc) else table.read_json_doc
            return _non_empty(reader(doc, **kwargs), file)
        fmt = {".md": "model-index", ".markdown": "model-index", ".csv": "csv"}.get(suffix)
        if fmt is None:
            raise fail(manifest_name, f"{field}.path", f"cannot tell the format of {source.path!r} from its name",
                       "set format: to one of " + ", ".join(FORMATS)
                       + " (detected: .json lm-eval or json, .md model-index, .csv csv)")
    reader = {"lm-eval": lmeval.read, "model-index": model_index.read, "csv": table.read_csv,
              "json": table.read_json}[fmt]
    return _non_empty(reader(data, **kwargs), file)


def _non_empty(result: EvalReadResult, file: str) -> EvalReadResult:
    if result.tasks:
        return result
    if result.skipped:
        why = "; ".join(f"{t}: {r}" for t, r in result.skipped[:3])
        more = f" (and {len(result.skipped) - 3} more)" if len(result.skipped) > 3 else ""
        raise fail(file, None, f"no task can be counted ({why}{more})",
                   "idm-gate needs tasks scored by an accuracy-like rate or an error rate")
    raise fail(file, None, "holds no tasks", "list at least one task with its score")


def skipped_tasks(result: EvalResult) -> dict[str, str]:
    """Task -> reason for the tasks a reader saw but could not count (empty for other results)."""
    return dict(getattr(result, "skipped", ()))
