"""Eval results readers: one per format, one entry point.

``read_eval(source, base_dir, root, manifest_name, metric_overrides)`` reads one ``evals:`` entry of
a model in the manifest and returns its tasks as error fractions. Each format is one
:class:`EvalFormat` entry of :data:`EVAL_FORMATS` (its readers, its description, its scale
convention). Formats, and the scale used when the manifest does not declare one:

- ``lm-eval``: an lm-evaluation-harness results JSON; fraction by the harness's convention.
- ``lighteval``: a lighteval results JSON (and the Open LLM Leaderboard v1 files); fraction.
- ``mteb``: one MTEB result file per task (``main_score`` on the test split); fraction.
- ``opencompass``: an OpenCompass summary CSV (aggregate rows not counted); percent.
- ``model-index``: a Hugging Face ``README.md`` front matter; percent, or fraction when every value
  is at most 1 (cards' convention).
- ``csv``: ``task,score[,stderr]``; ``json``: ``{task: score}`` or ``{task: {score, stderr}}``;
  inline ``scores: {task: score}`` in the manifest: no convention, so fraction unless the manifest
  says ``scale: percent``, and a value outside 0..1 is an error suggesting it.
- ``confusion-matrix`` (a CSV, rows true class, columns predicted) and ``classification-report``
  (scikit-learn's ``classification_report(output_dict=True)`` JSON): counts, so no scale; one task named
  after the file (or the entry's ``task:``), weighted by the entry's ``costs:`` when it has them
  (:mod:`idm_gate.evals.confusion`).

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

import importlib
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from ..data import EvalSource, Scale, TaskScore
from ..errors import one_line
from ..paths import EVAL_FILE_CAP, read_capped, resolve_inside
from ..sizing._glob import has_magic
from ._common import (
    EvalDocReader,
    EvalReader,
    EvalReadResult,
    decode_text,
    fail,
    load_json,
    show,
)


def _reader(module: str, name: str) -> EvalReader:
    """``module.name`` (a module of this package), imported when a file of its format is first read: a
    measure of inline scores or of lm-eval files loads no other reader (start-up time)."""

    def read(data: bytes, /, *, file: str, source: str, scale: Scale | None,
             overrides: Mapping[str, str]) -> EvalReadResult:
        fn: EvalReader = getattr(_module(module), name)
        return fn(data, file=file, source=source, scale=scale, overrides=overrides)

    return read


def _doc_reader(module: str, name: str) -> EvalDocReader:
    """As :func:`_reader`, for a reader of a JSON document already parsed."""

    def read(doc: Any, /, *, file: str, source: str, scale: Scale | None,
             overrides: Mapping[str, str]) -> EvalReadResult:
        fn: EvalDocReader = getattr(_module(module), name)
        return fn(doc, file=file, source=source, scale=scale, overrides=overrides)

    return read


def _module(name: str) -> Any:
    return importlib.import_module(f"{__name__}.{name}")


# A NamedTuple, not a frozen dataclass: as immutable, and its class is made about 7x faster at import
# (0.08 vs 0.53 ms on Python 3.11), which every run's start-up pays (benchmarks/bench_measure.py).
class EvalFormat(NamedTuple):
    """One results format idm-gate reads: the one place that says how a format is read.

    ``name`` is the manifest's ``format:`` value; ``read`` reads the file's bytes; ``read_doc``, for a
    JSON format, reads the document already parsed (when the format was detected from it), else None;
    ``described`` is what the format is, in the words of the "it reads ..." line for a file of no known
    format; ``scale_convention`` is the scale the format's own tool writes (None: inferred from the
    values). A format whose convention is a fraction always holds fractions: a declared ``scale: percent``
    on it is warned about.
    """

    name: str
    read: EvalReader
    described: str
    read_doc: EvalDocReader | None = None
    scale_convention: Scale | None = None


# One entry per results format, in the order messages list them.
EVAL_FORMATS: dict[str, EvalFormat] = {f.name: f for f in (
    EvalFormat("lm-eval", _reader("lmeval", "read"), "lm-evaluation-harness results JSON",
               _doc_reader("lmeval", "read_doc"), Scale.FRACTION),
    EvalFormat("lighteval", _reader("lighteval", "read"), "results JSON",
               _doc_reader("lighteval", "read_doc"), Scale.FRACTION),
    EvalFormat("mteb", _reader("mteb", "read"), "one JSON per task", _doc_reader("mteb", "read_doc"), Scale.FRACTION),
    EvalFormat("opencompass", _reader("opencompass", "read"), "summary CSV dataset,version,metric,mode,<model>",
               scale_convention=Scale.PERCENT),
    EvalFormat("model-index", _reader("model_index", "read"), "a model card's README.md"),
    EvalFormat("csv", _reader("table", "read_csv"), "task,score[,stderr]"),
    EvalFormat("json", _reader("table", "read_json"), "{task: score}", _doc_reader("table", "read_json_doc")),
    EvalFormat("confusion-matrix", _reader("confusion", "read_csv"),
               "CSV: a header of class labels, a row per true class"),
    EvalFormat("classification-report", _reader("confusion", "read_report"),
               "scikit-learn's classification_report(output_dict=True) JSON",
               _doc_reader("confusion", "read_report_doc")),
)}
FORMATS = tuple(EVAL_FORMATS)

# One line naming what idm-gate reads, for a file of no known format.
KNOWN = ", ".join(f"{f.name} ({f.described})" for f in EVAL_FORMATS.values())

__all__ = ["FORMATS", "EvalReadResult", "detect_format", "read_eval", "skipped_tasks"]


def detect_format(data: bytes, name: str) -> str | None:
    """The format of an eval results file from its content (and, for Markdown, its name); None if unknown.

    ``data`` is the file's bytes, ``name`` its file name (only the suffix is looked at). Returns one of
    :data:`FORMATS`, or None when the file is none of them (not UTF-8, not parseable, or an unknown
    shape). Never raises. Rules, first match wins:

    - JSON object with ``results`` and lighteval's ``config_general`` or ``suite|task|num_fewshot``
      keys: ``lighteval``; with any other ``results`` object: ``lm-eval``;
    - JSON object with ``task_name`` and ``scores`` (or, before mteb 1.11, ``mteb_dataset_name``): ``mteb``;
    - JSON object with ``macro avg`` or ``weighted avg`` holding recall and support: ``classification-report``;
    - JSON object whose values are all plain values or ``{score, stderr}`` objects: ``json`` (as is
      any JSON that is not an object, so the json reader can say what the top level should be);
    - text starting with a ``---`` line (YAML front matter), or a ``.md``/``.markdown`` name:
      ``model-index``;
    - text whose first non-blank line is ``dataset,version,metric,mode,<model>...``: ``opencompass``;
    - text whose first non-blank line is a CSV header with ``task`` and ``score`` columns: ``csv``;
    - a CSV of a header ``<name>,<class>,<class>...`` and rows ``<class>,<count>...`` sharing a class
      with the header: ``confusion-matrix``.
    """
    try:
        text = decode_text(data, name)
    except Exception:  # detection never raises; the reader will say what is wrong
        return None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            doc = load_json(data, name)
        except Exception:
            return None
        return _json_format(doc)
    suffix = Path(name).suffix.lower()
    first = text.splitlines()[0].rstrip() if text.splitlines() else ""
    if first == "---" or suffix in (".md", ".markdown"):
        return "model-index"
    header = next((line for line in text.splitlines() if line.strip()), "")
    from .opencompass import looks_like_opencompass

    if looks_like_opencompass(header):
        return "opencompass"
    cols = [c.strip().strip('"').lower() for c in header.split(",")]
    if "task" in cols and "score" in cols:
        return "csv"
    from .confusion import looks_like_confusion_csv

    if looks_like_confusion_csv(text):
        return "confusion-matrix"
    return None


def _json_format(doc: object) -> str | None:
    from .lighteval import looks_like_lighteval
    from .lmeval import looks_like_lmeval
    from .mteb import looks_like_mteb

    if looks_like_lighteval(doc):
        return "lighteval"
    if looks_like_lmeval(doc):
        return "lm-eval"
    if looks_like_mteb(doc):
        return "mteb"
    from .confusion import looks_like_report

    if looks_like_report(doc):
        return "classification-report"
    if not isinstance(doc, dict):
        return "json"  # the json reader says what the top level should be
    if all(not isinstance(v, (dict, list)) or (isinstance(v, dict) and set(v) & {"score", "stderr"})
           for v in doc.values()):
        return "json"
    return None


def read_eval(source: EvalSource, base_dir: Path, root: Path, manifest_name: str,
              metric_overrides: Mapping[str, str]) -> EvalReadResult:
    """Read one eval source into task error fractions (see the module docstring), with the tasks the
    reader saw but could not count in ``skipped``."""
    field = source.field or "evals"
    overrides = dict(metric_overrides or {})
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
        from .table import read_inline

        _classification_only(source, manifest_name, field, "inline scores")
        result = read_inline(source.scores, file=f"{manifest_name}: {field}.scores", source="inline",
                                   scale=source.scale, overrides=overrides)
        return _non_empty(_check_percent(result, None, source, f"{manifest_name}: {field}.scores"),
                          f"{manifest_name}: {field}.scores")

    what = f"{manifest_name}: {field}.path"
    assert source.path is not None  # exactly one of path and scores, checked above
    if has_magic(source.path):
        _classification_only(source, manifest_name, field, "a glob")
        return _read_glob(source, base_dir, root, what, overrides)
    path = resolve_inside(source.path, base_dir, root, what)
    result = _read_file(source, source.path, path, what, overrides)
    if result.classes is not None and source.scale is not None:
        raise fail(f"{manifest_name}: {field}.scale", None, f"does not apply: {source.path} holds counts of samples",
                   "drop scale: for a confusion matrix or a classification report")
    if result.classes is not None or source.task is not None or source.costs is not None:
        from .confusion import finish

        result = finish(result, task=source.task, costs=source.costs, file=source.path,
                        field=f"{manifest_name}: {field}", overrides=overrides)
    return _non_empty(result, source.path)


def _classification_only(source: EvalSource, manifest_name: str, field: str, what: str) -> None:
    """``task:`` and ``costs:`` name and weigh the one task of one classification results file."""
    for name, value in (("task", source.task), ("costs", source.costs)):
        if value is not None:
            raise fail(f"{manifest_name}: {field}.{name}", None, f"applies to one confusion matrix or classification "
                       f"report file, not to {what}", "give the file's path without wildcards")


class _Unknown(Exception):
    """A file of no known format (raised only so a glob can skip it)."""


def _read_file(source: EvalSource, rel: str, path: Path, what: str, overrides: Mapping[str, str],
               *, in_glob: bool = False) -> EvalReadResult:
    data = read_capped(path, EVAL_FILE_CAP, what, rel)
    file = rel
    fmt = source.format
    if fmt is None:
        suffix = Path(rel).suffix.lower()
        if suffix == ".json" or data.lstrip()[:1] in (b"{", b"["):
            doc = load_json(data, file)  # a broken JSON file: say where, not "unknown format"
            fmt = _json_format(doc)
            known = EVAL_FORMATS.get(fmt or "")
            if known is not None and known.read_doc is not None:
                read = known.read_doc(doc, file=file, source=rel, scale=source.scale, overrides=overrides)
                return _check_percent(_by_convention(read, fmt), fmt, source, file)
        else:
            decode_text(data, file)
            fmt = detect_format(data, rel)
        if fmt is None and suffix == ".csv" and not in_glob:
            fmt = "csv"  # the CSV reader says what is wrong with the header
        if fmt is None:
            if in_glob:
                raise _Unknown(rel)
            raise fail(file, None, "not a results format idm-gate reads",
                       f"it reads {KNOWN}; set format: in the manifest if the file is one of them")
    read = EVAL_FORMATS[fmt].read(data, file=file, source=rel, scale=source.scale, overrides=overrides)
    return _check_percent(_by_convention(read, fmt), fmt, source, file)


def _by_convention(result: EvalReadResult, fmt: str | None) -> EvalReadResult:
    known = EVAL_FORMATS.get(fmt or "")
    convention = known.scale_convention if known is not None else None
    return result if convention is None else replace(result, scale_convention=convention)


# Formats whose values are always fractions (their tool's convention): a declared percent scale divides
# them by 100.
FRACTION_FORMATS = tuple(f.name for f in EVAL_FORMATS.values() if f.scale_convention is Scale.FRACTION)


def _check_percent(result: EvalReadResult, fmt: str | None, source: EvalSource, file: str) -> EvalReadResult:
    """Warn when ``scale: percent`` is declared on fractions: every error would come out near 1."""
    if source.scale is not Scale.PERCENT or not result.tasks:
        return result
    if fmt in FRACTION_FORMATS:
        why = f"{fmt} writes fractions (0..1)"
    elif all(t.score <= 1.0 for t in result.tasks):
        why = "every value is at most 1"
    else:
        return result
    warning = one_line(f"{file}: warning: scale: percent is declared, but {why}, so each is read as at most 1 % "
                       "(an error rate near 1); use scale: fraction or leave scale out")
    return replace(result, notices=result.notices + (warning,))


GLOB_MAX_FILES = 1000
_GLOB_MAX_SCANNED = 200_000
# lm-eval and lighteval name a run's file results_<ISO time with '-' for ':'>.json (compiled by re on
# first use: only runs reading such files pay for it).
_STAMP = r"results_(\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:\.\d+)?)"


def run_timestamp(name: str) -> str | None:
    """The run time in an lm-eval/lighteval file name (``results_2025-03-14T09-26-53.118402.json``)
    as a sortable ``YYYY-MM-DDTHH-MM-SS.ffffff`` string; None when the name has none."""
    m = re.search(_STAMP, Path(name).name)
    if m is None:
        return None
    stamp = m.group(1).replace(":", "-")
    head, dot, frac = stamp.partition(".")
    return f"{head}.{(frac + '000000')[:6]}" if dot else f"{head}.000000"


def _read_glob(source: EvalSource, base_dir: Path, root: Path, what: str,
               overrides: Mapping[str, str]) -> EvalReadResult:
    """Read every file a glob matches; a task found in several files comes from the newest run.

    Files are ordered by the run time in their names (``results_<time>.json``). When two files hold
    the same task and either name has no time, which one is current cannot be told: an error. A file
    of no known format (mteb's ``model_meta.json`` beside its task files) is skipped with a notice;
    a glob matching no readable file is an error.
    """
    from ..errors import InputError
    from ..sizing._glob import iter_glob

    pattern = source.path or ""
    if "\x00" in pattern or Path(pattern).is_absolute():
        resolve_inside(pattern, base_dir, root, what)  # raises the shared message

    def on_cap(n: int) -> InputError:
        return InputError(f"{what}: {pattern[:200]!r} looked at over {n:,} directory entries; narrow the glob "
                          "to the folder with the results files")

    matches: list[tuple[str, Path]] = []
    for rel in iter_glob(str(base_dir), pattern, _GLOB_MAX_SCANNED, on_cap):
        resolved = resolve_inside(rel, base_dir, root, what)
        if resolved.is_dir():
            continue
        if len(matches) == GLOB_MAX_FILES:
            raise fail(what, None, f"{pattern[:200]!r} matches over {GLOB_MAX_FILES:,} files",
                       "narrow the glob to the results files")
        matches.append((rel, resolved))
    if not matches:
        raise fail(what, None, f"{pattern[:200]!r} matches no file", "check the glob against the results folder")
    # Newest run first; files without a time in the name after those with one, in name order.
    matches.sort(key=lambda m: (run_timestamp(m[0]) is None, _invert(run_timestamp(m[0]) or ""), m[0]))
    tasks: list[TaskScore] = []
    notices: list[str] = []
    skipped: list[tuple[str, str]] = []
    unknown: list[str] = []
    origin: dict[str, str] = {}
    older: dict[str, list[str]] = {}
    conventions: set[Scale | None] = set()  # of the files whose tasks are used
    for rel, resolved in matches:
        try:
            res = _read_file(source, rel, resolved, what, overrides, in_glob=True)
        except _Unknown:
            unknown.append(rel)
            continue
        used_before = len(tasks)
        seen_skip = {n for n, _ in skipped}
        for t in res.tasks:
            if t.task in origin:
                first = origin[t.task]
                if run_timestamp(first) is None or run_timestamp(rel) is None:
                    raise fail(what, None, f"task {t.task!r} is in both {first!r} and {rel!r}, and the file "
                               "names do not say which run is newer",
                               "narrow the glob to one file per task, or keep lm-eval's results_<time>.json names")
                older.setdefault(t.task, []).append(rel)
                continue
            origin[t.task] = rel
            tasks.append(t)
        new_skips = [(n, r) for n, r in res.skipped if n not in origin and n not in seen_skip]
        skipped.extend(new_skips)
        if len(tasks) > used_before:
            conventions.add(res.scale_convention)
        if len(tasks) > used_before or new_skips:
            notices.extend(res.notices)  # a file whose results were all superseded says nothing more
    if unknown:
        notices.append(one_line(f"{pattern}: skipped {', '.join(unknown[:4])}"
                                + (f" and {len(unknown) - 4} more" if len(unknown) > 4 else "")
                                + ": not a results format idm-gate reads"))
    if not tasks and not skipped:
        raise fail(what, None, f"{pattern[:200]!r} matches no results file ({', '.join(unknown[:3])})",
                   f"idm-gate reads {KNOWN}")
    by_file: dict[str, list[str]] = {}
    for task in older:
        by_file.setdefault(origin[task], []).append(task)
    for newest, names in by_file.items():
        olds = sorted({f for n in names for f in older[n]})
        notices.append(one_line(f"{pattern}: {', '.join(names[:6])}{' ...' if len(names) > 6 else ''} from {newest}, "
                                f"the newest run; older results in {', '.join(olds[:3])} not used"))
    if len(matches) > 1:
        used = sorted(set(origin.values()))
        notices.append(one_line(f"{pattern}: read {', '.join(used[:6])}" + (" ..." if len(used) > 6 else "")))
    convention = next(iter(conventions)) if len(conventions) == 1 else None
    return _non_empty(EvalReadResult(tasks=tuple(tasks), notices=tuple(notices), skipped=tuple(skipped),
                                     scale_convention=convention), pattern)


def _invert(stamp: str) -> str:
    """A key that sorts time stamps newest first (digits complemented)."""
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in stamp)


def _non_empty(result: EvalReadResult, file: str) -> EvalReadResult:
    if result.tasks:
        return result
    if result.skipped:
        why = "; ".join(f"{t}: {r}" for t, r in result.skipped[:3])
        more = f" (and {len(result.skipped) - 3} more)" if len(result.skipped) > 3 else ""
        raise fail(file, None, f"no task can be counted ({why}{more})",
                   "idm-gate needs tasks scored by an accuracy-like rate or an error rate")
    raise fail(file, None, "holds no tasks", "list at least one task with its score")


def skipped_tasks(result: EvalReadResult) -> dict[str, str]:
    """Task -> reason for the tasks a reader saw but could not count."""
    return dict(result.skipped)
