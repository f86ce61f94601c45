"""Eval results readers: one per format, one entry point.

``read_eval(source, base_dir, root, manifest_name, metric_overrides)`` reads one ``evals:`` entry of
a model in the manifest and returns its tasks as error fractions. Formats, and the scale used
when the manifest does not declare one:

- ``lm-eval``: an lm-evaluation-harness results JSON; fraction by the harness's convention.
- ``lighteval``: a lighteval results JSON (and the Open LLM Leaderboard v1 files); fraction.
- ``mteb``: one MTEB result file per task (``main_score`` on the test split); fraction.
- ``opencompass``: an OpenCompass summary CSV (aggregate rows not counted); percent.
- ``model-index``: a Hugging Face ``README.md`` front matter; percent, or fraction when every value
  is at most 1 (cards' convention).
- ``csv``: ``task,score[,stderr]``; ``json``: ``{task: score}`` or ``{task: {score, stderr}}``;
  inline ``scores: {task: score}`` in the manifest: no convention, so fraction unless the manifest
  says ``scale: percent``, and a value outside 0..1 is an error suggesting it.

The scale named in the manifest always wins; ``TaskScore.scale_inferred`` is True whenever the
manifest did not name one.

When ``format`` is not given it is detected from the content by :func:`detect_format` (the same
function ``idm-gate init`` uses); a file of no known format is one line naming the formats read.

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
from . import lighteval, lmeval, model_index, mteb, opencompass, table
from ._common import EvalReadResult, check_scale, decode_text, fail, load_json, show

FORMATS = ("lm-eval", "lighteval", "mteb", "opencompass", "model-index", "csv", "json")

# One line naming what idm-gate reads, for a file of no known format.
KNOWN = ("lm-eval (lm-evaluation-harness results JSON), lighteval (results JSON), mteb (one JSON per task), "
         "opencompass (summary CSV dataset,version,metric,mode,<model>), "
         "model-index (a model card's README.md), csv (task,score[,stderr]), json ({task: score})")

__all__ = ["FORMATS", "EvalReadResult", "detect_format", "read_eval", "skipped_tasks"]


def detect_format(data: bytes, name: str) -> str | None:
    """The format of an eval results file from its content (and, for Markdown, its name); None if unknown.

    ``data`` is the file's bytes, ``name`` its file name (only the suffix is looked at). Returns one of
    :data:`FORMATS`, or None when the file is none of them (not UTF-8, not parseable, or an unknown
    shape). Never raises. Rules, first match wins:

    - JSON object with ``results`` and lighteval's ``config_general`` or ``suite|task|num_fewshot``
      keys: ``lighteval``; with any other ``results`` object: ``lm-eval``;
    - JSON object with ``task_name`` and ``scores`` (or, before mteb 1.11, ``mteb_dataset_name``): ``mteb``;
    - JSON object whose values are all plain values or ``{score, stderr}`` objects: ``json`` (as is
      any JSON that is not an object, so the json reader can say what the top level should be);
    - text starting with a ``---`` line (YAML front matter), or a ``.md``/``.markdown`` name:
      ``model-index``;
    - text whose first non-blank line is ``dataset,version,metric,mode,<model>...``: ``opencompass``;
    - text whose first non-blank line is a CSV header with ``task`` and ``score`` columns: ``csv``.
    """
    try:
        text = decode_text(data, name)
    except Exception:  # noqa: BLE001 - detection never raises; the reader will say what is wrong
        return None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            doc = load_json(data, name)
        except Exception:  # noqa: BLE001
            return None
        return _json_format(doc)
    suffix = Path(name).suffix.lower()
    first = text.splitlines()[0].rstrip() if text.splitlines() else ""
    if first == "---" or suffix in (".md", ".markdown"):
        return "model-index"
    header = next((line for line in text.splitlines() if line.strip()), "")
    if opencompass.looks_like_opencompass(header):
        return "opencompass"
    cols = [c.strip().strip('"').lower() for c in header.split(",")]
    if "task" in cols and "score" in cols:
        return "csv"
    return None


def _json_format(doc: object) -> str | None:
    if lighteval.looks_like_lighteval(doc):
        return "lighteval"
    if lmeval.looks_like_lmeval(doc):
        return "lm-eval"
    if mteb.looks_like_mteb(doc):
        return "mteb"
    if not isinstance(doc, dict):
        return "json"  # the json reader says what the top level should be
    if all(not isinstance(v, (dict, list)) or (isinstance(v, dict) and set(v) & {"score", "stderr"})
           for v in doc.values()):
        return "json"
    return None


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
        if suffix == ".json" or data.lstrip()[:1] in (b"{", b"["):
            doc = load_json(data, file)  # a broken JSON file: say where, not "unknown format"
            fmt = _json_format(doc)
            doc_reader = {"lighteval": lighteval.read_doc, "lm-eval": lmeval.read_doc, "mteb": mteb.read_doc,
                          "json": table.read_json_doc}.get(fmt or "")
            if doc_reader is not None:
                return _non_empty(doc_reader(doc, **kwargs), file)
        else:
            decode_text(data, file)
            fmt = detect_format(data, source.path)
        if fmt is None and suffix == ".csv":
            fmt = "csv"  # the CSV reader says what is wrong with the header
        if fmt is None:
            raise fail(file, None, "not a results format idm-gate reads",
                       f"it reads {KNOWN}; set format: in the manifest if the file is one of them")
    reader = {"lm-eval": lmeval.read, "lighteval": lighteval.read, "mteb": mteb.read,
              "opencompass": opencompass.read, "model-index": model_index.read,
              "csv": table.read_csv, "json": table.read_json}[fmt]
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
