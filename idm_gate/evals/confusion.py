"""Classification results: a confusion matrix (CSV) and scikit-learn's ``classification_report`` (JSON).

Each file is one task: a classifier's error rate over its test samples, ``1 - accuracy``, with the
standard error of that mean (``sqrt(p(1-p)/(N-1))``, lm-evaluation-harness's convention for accuracy).
The task is named after the file's stem unless the manifest's ``task:`` names it. The per-class counts
the reader recovers (:class:`ClassCounts`) are what ``costs:`` weighs (:func:`apply_costs`).

**Confusion matrix CSV**: rows are the true class, columns the predicted class (scikit-learn's
``confusion_matrix`` convention), with a header row of class labels, as pandas writes it::

    pd.crosstab(y_true, y_pred, rownames=["true"], colnames=["predicted"]).to_csv(path)
                                                        # true,bird,cat,dog / bird,3,0,0 / ...
    labels = ["cat", "dog", "bird"]
    pd.DataFrame(confusion_matrix(y_true, y_pred, labels=labels), index=labels, columns=labels).to_csv(path)
                                                        # ,cat,dog,bird / cat,3,1,1 / ...

- The header's first cell must say which axis the rows are, since read the other way round every
  per-class figure differs while the plain error stays plausible. Empty: scikit-learn's convention, rows
  true. Its first axis word naming the true class (``true``, ``actual``, ``gold``, ``truth``, ``target``,
  ``label``, ``expected``, ``reference``, ``y_true``, ``y_test``; ``true\\pred``, ``true_label``): rows true.
  Naming predictions (``predicted``, ``pred``, ``y_pred``, ``yhat``, ``output``; ``pred\\true``): refused as
  transposed. Anything else, pandas' ``row_0`` (crosstab of unnamed arrays, either way round) included:
  refused, with how to name the rows.
- Rows and columns may list different classes: crosstab leaves out a class that was never predicted
  (no column) or never true (no row). Such a cell counts 0.
- ``margins=True`` adds an ``All`` row and column of totals; when they add up they are dropped.
- A prefix on every row and every column label (``true_cat`` / ``pred_cat``, ``actual: cat`` /
  ``predicted: cat``) is dropped when the names then match.
- Cells are counts, whole numbers >= 0 (``3`` or ``3.0``). A normalised matrix
  (``confusion_matrix(normalize="true")``, fractions) is refused: the error rate needs counts.

**classification_report JSON** (``json.dump(classification_report(y_true, y_pred, output_dict=True), f)``)::

    {"cat": {"precision": 0.75, "recall": 0.6, "f1-score": 0.667, "support": 5.0}, ...,
     "accuracy": 0.75, "macro avg": {...}, "weighted avg": {...}}

- ``accuracy`` is a bare number, unlike every other key. With ``labels=`` naming only some of the
  classes, scikit-learn writes ``micro avg`` (an object) instead, and the report covers only the
  samples of those classes; the error is then ``1 - micro avg recall`` over them, and a notice says so.
- Errors per true class are ``support * (1 - recall)``; each must be a whole number of samples (a
  report whose values were rounded is refused) and they must add up to ``1 - accuracy``. Each class's
  predictions, ``hits / precision``, must be a whole number too.
- ``sample_weight`` is caught only where it leaves a fraction in those counts. Whole-number weights
  cannot be told from the file: a report weighted by ``w_s`` is, to the last bit, the report of the
  unweighted samples with sample ``s`` repeated ``w_s`` times, so its supports are read as sample counts
  (weights all 2 read 200 samples for 100, and the standard error is ``sqrt(2)`` times too small).
- The confusion matrix cannot be recovered from it, so only per-class weights apply to it.
- A multilabel report (``samples avg``) is refused: its per-label errors are not one classification's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import metric
from ..data import Scale, TaskScore
from ..errors import one_line
from ._common import EvalReadResult, decode_text, fail, kind_of, load_json, number, show

CONFUSION = "confusion-matrix"
REPORT = "classification-report"

_AVERAGES = ("macro avg", "weighted avg", "micro avg", "samples avg")
_PER_CLASS_KEYS = frozenset({"precision", "recall", "f1-score", "support"})
# Words naming each axis in a header's first cell ("true", "Actual", "true\\pred", "y_pred").
_TRUE_WORDS = frozenset({"true", "actual", "actuals", "gold", "truth", "target", "targets", "label", "labels",
                         "expected", "reference", "y_true", "ytrue", "y_test", "ytest"})
_PRED_WORDS = frozenset({"pred", "preds", "predicted", "prediction", "predictions", "y_pred", "ypred", "yhat", "y_hat",
                         "output", "outputs"})
_NAMED_CROSSTAB = "pd.crosstab(y_true, y_pred, rownames=['true'], colnames=['predicted']).to_csv(path)"
_ROW_PREFIX = re.compile(r"^(true|actual|gold)\s*[_:=\-]\s*(.+)$", re.IGNORECASE)
_COL_PREFIX = re.compile(r"^(pred|predicted|prediction)\s*[_:=\-]\s*(.+)$", re.IGNORECASE)
_MARGINS = "All"  # pandas.crosstab(margins=True)'s margins_name
_WHOLE = 1e-6  # a report's support * (1 - recall) must be this close to a whole number


@dataclass(frozen=True)
class ClassCounts:
    """A classifier's results per class.

    ``labels`` are the classes in the file's order; ``support[i]`` the samples whose true class is
    ``labels[i]`` and ``errors[i]`` how many of them were predicted as another class. ``matrix[i][j]``
    counts samples of true class ``labels[i]`` predicted as ``labels[j]``; None for a classification
    report, which does not hold it. ``metric`` names the score: ``accuracy``, or ``micro avg recall``
    for a report restricted to some classes.
    """

    kind: str
    labels: tuple[str, ...]
    support: tuple[int, ...]
    errors: tuple[int, ...]
    matrix: tuple[tuple[int, ...], ...] | None
    metric: str = "accuracy"

    @property
    def total(self) -> int:
        return sum(self.support)

    @property
    def wrong(self) -> int:
        return sum(self.errors)


# ------------------------------------------------------------------------------------------------
# Detection
# ------------------------------------------------------------------------------------------------

def looks_like_report(doc: object) -> bool:
    """A ``classification_report(output_dict=True)`` dump: an object with ``macro avg`` or ``weighted avg``
    holding precision/recall/f1-score/support."""
    if not isinstance(doc, dict):
        return False
    return any(isinstance(doc.get(k), dict) and {"recall", "support"} <= set(doc[k])
               for k in ("macro avg", "weighted avg"))


def looks_like_confusion_csv(text: str) -> bool:
    """A CSV whose header is ``<name or empty>,<label>,<label>...`` and whose rows are ``<label>,<number>...``,
    with at least one class both a row and a column (prefixes like ``true_``/``pred_`` dropped)."""
    try:
        rows = [r for r in csv.reader(io.StringIO(text[:65536])) if any(c.strip() for c in r)][:51]
    except csv.Error:
        return False
    if len(rows) < 2 or len(rows[0]) < 3:
        return False
    header, body = rows[0], rows[1:]
    if text[:65536] != text:
        body = body[:-1]  # the last line may be cut
    for r in body:
        if len(r) != len(header) or not r[0].strip():
            return False
        for c in r[1:]:
            f = _float(c)
            if f is None or not math.isfinite(f) or f < 0:
                return False
    cols, names = _strip_prefixes([c.strip() for c in header[1:]], [r[0].strip() for r in body])
    return bool(set(cols) & set(names))


def _corner_axis(corner: str) -> str | None:
    """Which class the rows of a confusion matrix CSV hold, from the header's first cell: ``"true"`` when it
    is empty (scikit-learn's convention, what ``DataFrame(confusion_matrix(...)).to_csv()`` writes) or when
    its first axis word names the true class (``true``, ``Actual``, ``y_true``, ``true\\pred``, ``gold``),
    ``"predicted"`` when that word names predictions (``predicted``, ``y_pred``, ``pred\\true``), None
    for anything else (``row_0``, ``class``): the reader refuses to guess."""
    if not corner:
        return "true"
    for token in re.split(r"[^0-9a-z_]+", corner.lower()):
        for word in (token, *token.split("_")):
            if word in _TRUE_WORDS:
                return "true"
            if word in _PRED_WORDS:
                return "predicted"
    return None


def _float(cell: str) -> float | None:
    try:
        return float(cell.strip())
    except ValueError:
        return None


def _strip_prefixes(cols: list[str], rows: list[str]) -> tuple[list[str], list[str]]:
    """Drop a ``true_``/``pred_`` style prefix when every row and every column carries one."""
    rm = [_ROW_PREFIX.match(r) for r in rows]
    cm = [_COL_PREFIX.match(c) for c in cols]
    if rows and cols and all(rm) and all(cm):
        new_rows = [m.group(2).strip() for m in rm if m]
        new_cols = [m.group(2).strip() for m in cm if m]
        if set(new_rows) & set(new_cols):
            return new_cols, new_rows
    return cols, rows


# ------------------------------------------------------------------------------------------------
# Confusion matrix CSV
# ------------------------------------------------------------------------------------------------

_CSV_VALID = ("a confusion matrix CSV: a header row ',<class>,<class>...' then one row per true class "
              f"'<class>,<count>,<count>...' (pandas: {_NAMED_CROSSTAB})")


def read_confusion_counts(data: bytes, file: str) -> tuple[ClassCounts, tuple[str, ...]]:
    """The counts of a confusion matrix CSV (see the module docstring) and notices about what was dropped.

    InputError (one line naming the file and the row or cell) for anything else.
    """
    text = decode_text(data, file)
    try:
        parsed = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise fail(file, None, f"not valid CSV ({str(e)[:80]})", _CSV_VALID) from None
    lines = [(i + 1, r) for i, r in enumerate(parsed) if any(c.strip() for c in r)]
    if not lines:
        raise fail(file, None, "is empty", _CSV_VALID)
    _, header = lines[0]
    if len(header) < 3:
        raise fail(file, "line 1", f"the header has {len(header)} cell{'s' if len(header) != 1 else ''}, "
                   "not a corner cell and at least two class labels", _CSV_VALID)
    corner = header[0].strip()
    axis = _corner_axis(corner)
    if axis == "predicted":
        raise fail(file, "line 1", f"the first header cell {show(corner)} says the rows are predicted classes",
                   "idm-gate reads rows as the true class and columns as the predicted class (scikit-learn's "
                   "convention); write pd.crosstab(y_true, y_pred, rownames=['true'], colnames=['predicted'])"
                   ".to_csv(path), or transpose the matrix")
    if axis is None:
        raise fail(file, "line 1", f"the first header cell {show(corner)} does not say whether the rows are the true "
                   "or the predicted class (pandas writes 'row_0' for unnamed crosstab rows), and a transposed "
                   "matrix gives other per-class errors",
                   "name the rows: pd.crosstab(y_true, y_pred, rownames=['true'], colnames=['predicted']).to_csv(path) "
                   "writes 'true' there; an empty first cell means rows are the true class (scikit-learn's convention)")
    cols = [c.strip() for c in header[1:]]
    names: list[str] = []
    cells: list[list[int]] = []
    for line, row in lines[1:]:
        if len(row) != len(header):
            raise fail(file, f"line {line}", f"{len(row)} cells, but the header has {len(header)}",
                       "one count per predicted class after the row's true class; quote a label that contains "
                       "a comma")
        label = row[0].strip()
        if not label:
            raise fail(file, f"line {line}", "the row has no class label in its first cell", _CSV_VALID)
        counts = []
        for j, cell in enumerate(row[1:]):
            place = f"line {line}, column {show(cols[j])}"
            f = _float(cell)
            if f is None or not math.isfinite(f):
                raise fail(file, place, f"{show(cell.strip())} is not a count", "write a whole number of samples")
            if f < 0 or f != int(f):
                raise fail(file, place, f"{cell.strip()} is not a count of samples",
                           "write counts (whole numbers >= 0); a normalised matrix (normalize='true') holds "
                           "fractions, which do not give an error rate")
            counts.append(int(f))
        names.append(label)
        cells.append(counts)
    if not names:
        raise fail(file, None, "has a header but no rows", _CSV_VALID)
    notices: list[str] = []
    if names[-1] == _MARGINS and cols[-1] == _MARGINS:
        names, cols, cells = _drop_margins(names, cols, cells, file, lines[-1][0])
        notices.append(one_line(f"{file}: dropped the {_MARGINS!r} row and column (pandas.crosstab margins=True "
                                "totals)"))
    stripped_cols, stripped_names = _strip_prefixes(cols, names)
    if (stripped_cols, stripped_names) != (cols, names):
        notices.append(one_line(f"{file}: read row {show(names[0])} and column {show(cols[0])} as class "
                                f"{show(stripped_names[0])} (labels prefixed on every row and column)"))
        cols, names = stripped_cols, stripped_names
    for what, seq in (("row", names), ("column", cols)):
        seen: set[str] = set()
        for x in seq:
            if x in seen:
                raise fail(file, None, f"class {show(x)} labels two {what}s", f"label each {what} once")
            seen.add(x)
    if not set(names) & set(cols):
        raise fail(file, "line 1", f"no class is both a row and a column (rows {_list(names)}; columns "
                   f"{_list(cols)})", "label rows and columns with the same class names")
    labels = list(names) + [c for c in cols if c not in names]
    col_at = {c: j for j, c in enumerate(cols)}
    row_at = {n: i for i, n in enumerate(names)}
    matrix = tuple(tuple(cells[row_at[t]][col_at[p]] if t in row_at and p in col_at else 0 for p in labels)
                   for t in labels)
    support = tuple(sum(r) for r in matrix)
    errors = tuple(s - matrix[i][i] for i, s in enumerate(support))
    if sum(support) == 0:
        raise fail(file, None, "counts no samples (every cell is 0)", "write the confusion matrix of a test run")
    return ClassCounts(kind="confusion matrix", labels=tuple(labels), support=support, errors=errors,
                       matrix=matrix), tuple(notices)


def _drop_margins(names: list[str], cols: list[str], cells: list[list[int]], file: str,
                  last_line: int) -> tuple[list[str], list[str], list[list[int]]]:
    inner = [r[:-1] for r in cells[:-1]]
    totals_ok = (all(sum(r) == cells[i][-1] for i, r in enumerate(inner))
                 and all(sum(r[j] for r in inner) == cells[-1][j] for j in range(len(cols) - 1))
                 and sum(map(sum, inner)) == cells[-1][-1])
    if not totals_ok:
        raise fail(file, f"line {last_line}", f"the {_MARGINS!r} row and column do not add up to the other cells",
                   "write the matrix without margins, or with pandas.crosstab(margins=True) totals")
    return names[:-1], cols[:-1], inner


def _list(items: list[str] | tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(show(x, 30) for x in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# ------------------------------------------------------------------------------------------------
# classification_report(output_dict=True) JSON
# ------------------------------------------------------------------------------------------------

_REPORT_VALID = ("scikit-learn's classification_report(y_true, y_pred, output_dict=True) written with json.dump: "
                 '{"<class>": {"precision", "recall", "f1-score", "support"}, ..., "accuracy": x, "macro avg": '
                 '{...}, "weighted avg": {...}}')


def read_report_counts(doc: Any, file: str) -> tuple[ClassCounts, tuple[str, ...]]:
    """Errors per true class from a classification report (see the module docstring) and notices."""
    if not isinstance(doc, dict):
        raise fail(file, "top level", f"is {kind_of(doc)}", _REPORT_VALID)
    if "samples avg" in doc:
        raise fail(file, "samples avg", "is a multilabel report (per-label results, not one classification per "
                   "sample)", "idm-gate reads single-label reports: binary or multiclass")
    labels: list[str] = []
    support: list[int] = []
    errors: list[int] = []
    for key, entry in doc.items():
        if key == "accuracy" or key in _AVERAGES:
            continue
        if not isinstance(entry, dict) or not _PER_CLASS_KEYS <= set(entry):
            raise fail(file, show(key), f"is {kind_of(entry)}, not a class's precision, recall, f1-score and "
                       "support", _REPORT_VALID)
        n = _whole(entry["support"], file, f"{show(key)}.support", "support")
        recall = number(entry["recall"])
        if recall is None or not 0.0 <= recall <= 1.0:
            raise fail(file, f"{show(key)}.recall", f"is {kind_of(entry['recall'])}, not a recall in [0, 1]",
                       _REPORT_VALID)
        wrong = n * (1.0 - recall)
        if abs(wrong - round(wrong)) > _WHOLE * max(1, n):
            raise fail(file, f"{show(key)}.recall", f"{recall!r} x support {n} is {wrong:.6g}, not a whole number "
                       "of samples (rounded values?)", "write the report with output_dict=True and json.dump, "
                       "unrounded")
        _check_predicted(entry, n - round(wrong), file, key)
        labels.append(key)
        support.append(n)
        errors.append(round(wrong))
    if not labels:
        raise fail(file, None, "lists no class", _REPORT_VALID)
    total, wrong_all = sum(support), sum(errors)
    if total == 0:
        raise fail(file, None, "has no samples (every support is 0)", "write the report of a test run")
    notices: list[str] = []
    if "accuracy" in doc:
        acc = number(doc["accuracy"])
        if acc is None or math.isnan(acc):
            raise fail(file, "accuracy", f"is {kind_of(doc['accuracy'])}, not a number", _REPORT_VALID)
        score, metric_name, place = acc, "accuracy", "accuracy"
    elif isinstance(doc.get("micro avg"), dict):
        micro = doc["micro avg"]
        r = number(micro.get("recall"))
        if r is None or math.isnan(r):
            raise fail(file, "micro avg.recall", f"is {kind_of(micro.get('recall'))}, not a number", _REPORT_VALID)
        if _whole(micro.get("support"), file, "micro avg.support", "support") != total:
            raise fail(file, "micro avg.support", f"is {show(micro.get('support'))}, but the classes' supports add "
                       f"up to {total}", "the report was edited; write it again with classification_report")
        score, metric_name, place = r, "micro avg recall", "micro avg.recall"
        notices.append(one_line(f"{file}: no accuracy: the report covers only the classes it lists "
                                f"({_list(labels)}; scikit-learn's labels= argument), so the error rate is over "
                                f"their {total} samples"))
    else:
        raise fail(file, None, "has neither accuracy nor micro avg", _REPORT_VALID)
    if not math.isclose(1.0 - score, wrong_all / total, rel_tol=0, abs_tol=1e-9):
        raise fail(file, place, f"{score!r} does not match the classes' recall and support (1 - {wrong_all}/{total} "
                   f"= {1 - wrong_all / total:.6g})",
                   "the report was edited; write it again with classification_report")
    return ClassCounts(kind="classification report", labels=tuple(labels), support=tuple(support),
                       errors=tuple(errors), matrix=None, metric=metric_name), tuple(notices)


def _check_predicted(entry: Mapping[str, Any], hits: int, file: str, key: str) -> None:
    """A class's precision must fit whole counts too: ``hits / precision`` is how many samples were
    predicted as the class. A report written with fractional ``sample_weight`` can have whole supports
    and errors and still fail this (its weighted predictions per class are sums of fractions)."""
    precision = number(entry["precision"])
    if precision is None or not 0.0 <= precision <= 1.0:
        raise fail(file, f"{show(key)}.precision", f"is {kind_of(entry['precision'])}, not a precision in [0, 1]",
                   _REPORT_VALID)
    if hits == 0 or precision == 0.0:  # no hits: precision is 0 (or zero_division's value) whatever was predicted
        return
    predicted = hits / precision
    if abs(predicted - round(predicted)) > _WHOLE * max(1.0, predicted):
        raise fail(file, f"{show(key)}.precision", f"{precision!r} gives {hits} correct of {predicted:.6g} predicted, "
                   "not a whole number of samples (sample_weight, or rounded values?)",
                   "write the report without sample_weight, with output_dict=True and json.dump, unrounded")


def _whole(value: Any, file: str, place: str, what: str) -> int:
    f = number(value)
    if f is None or math.isnan(f) or f < 0 or f != int(f):
        raise fail(file, place, f"is {kind_of(value)}, not a whole number of samples",
                   f"{what} counts samples (a report written with sample_weight holds weights, not counts)")
    return int(f)


# ------------------------------------------------------------------------------------------------
# One task, and costs
# ------------------------------------------------------------------------------------------------

def task_from_counts(counts: ClassCounts, *, task: str, source: str) -> TaskScore:
    """The plain task: error ``wrong / N``, score ``1 - error``, standard error of the mean."""
    error, stderr = metric.cost_weighted_error([(counts.wrong, 1.0)], counts.total, 1.0)
    return TaskScore(task=task, metric=counts.metric, score=1.0 - error, error=error, stderr=stderr, source=source)


def default_task(source: str) -> str:
    """A results file's task name when the manifest gives none: its file name without the extension."""
    return Path(source).stem or source


def apply_costs(task: TaskScore, counts: ClassCounts, costs: Mapping[str, Any], file: str,
                where: str) -> TaskScore:
    """``task`` with its cost-weighted error (:func:`idm_gate.metric.cost_weighted_error`) and costs.

    ``costs`` is the manifest's ``costs:``: ``{class: weight}`` (a mistake on a sample of that true class
    costs the weight; classes not listed cost 1) or ``{true class: {predicted class: cost}}`` (a full square
    matrix over exactly the file's classes, 0 on the diagonal). ``where`` names the field in messages
    (``idm.yaml: models[0].evals[1].costs``). InputError for an unknown or missing class, a negative cost,
    a nonzero diagonal, a matrix that is not square, a matrix on a classification report, or all costs 0.
    """
    kinds = {"matrix" if isinstance(v, dict) else "weights" for v in costs.values()}
    if kinds == {"matrix", "weights"}:
        raise fail(where, None, "mixes per-class weights (numbers) with cost matrix rows (mappings)",
                   "give either {class: weight} or {true class: {predicted class: cost}}")
    index = {c: i for i, c in enumerate(counts.labels)}
    for c in costs:
        if c not in index:
            raise fail(where, show(c), f"unknown class {show(c)}; the classes in {file} are {_list(counts.labels)}",
                       "name classes as the file labels them")
    if kinds == {"weights"}:
        weights = [1.0] * len(counts.labels)
        for c, w in costs.items():
            weights[index[c]] = _cost(w, where, show(c))
        top = max(weights)
        if top <= 0:
            raise fail(where, None, "every class costs 0", "give at least one class a positive weight")
        pe, se = metric.cost_weighted_error(list(zip(counts.errors, weights, strict=True)), counts.total, top)
        desc = _describe("per-class", {c: w for c, w in costs.items() if _cost(w, where, show(c)) != 1.0})
        return replace(task, cost_error=pe, stderr=se, costs=desc)
    if counts.matrix is None:
        raise fail(where, None, f"is a cost matrix, but {file} is a {counts.kind}, which holds each class's recall "
                   "and support, not the confusion matrix", "give per-class weights {class: weight} for mistakes on "
                   "each true class, or measure from a confusion matrix CSV")
    rows = list(costs)
    for t in rows:
        row = costs[t]
        for p in row:
            if p not in index:
                raise fail(where, f"{show(t)}.{show(p)}", f"unknown class {show(p)}; the classes in {file} are "
                           f"{_list(counts.labels)}", "name classes as the file labels them")
        if set(row) != set(rows):
            missing = [c for c in rows if c not in row]
            extra = [c for c in row if c not in costs]
            what = (f"lacks column {show(missing[0])}" if missing
                    else f"has column {show(extra[0])}, which is not a row")
            raise fail(where, show(t), f"{what}: the matrix is not square",
                       f"give every row a cost for each of the {len(rows)} classes it lists ({_list(rows)})")
        if _cost(row[t], where, f"{show(t)}.{show(t)}") != 0:
            raise fail(where, f"{show(t)}.{show(t)}", f"is {row[t]!r}: a correct prediction must cost 0",
                       "set the diagonal to 0")
    missing = [c for c in counts.labels if c not in costs]
    if missing:
        raise fail(where, None, f"lacks class {show(missing[0])}, which {file} has; a cost matrix lists every class "
                   f"as a row and a column ({_list(counts.labels)})", "add it, or give per-class weights instead")
    matrix = counts.matrix
    mistakes = []
    top = 0.0
    for t, row in costs.items():
        i = index[t]
        for p, c in row.items():
            cost = _cost(c, where, f"{show(t)}.{show(p)}")
            top = max(top, cost)
            if p != t:
                mistakes.append((matrix[i][index[p]], cost))
    if top <= 0:
        raise fail(where, None, "every mistake costs 0", "give at least one mistake a positive cost")
    pe, se = metric.cost_weighted_error(mistakes, counts.total, top)
    desc = _describe("matrix", {f"{t}>{p}": c for t, row in costs.items() for p, c in row.items() if p != t})
    return replace(task, cost_error=pe, stderr=se, costs=desc)


def _cost(value: Any, where: str, place: str) -> float:
    f = number(value)
    if f is None or math.isnan(f) or f < 0:
        raise fail(where, place, f"is {kind_of(value)}, not a cost", "a cost is a finite number >= 0")
    return f


def describe_costs(costs: Mapping[str, Any] | None) -> str:
    """An ``evals:`` entry's ``costs:`` as reports name it (``matrix fraud>legit=20, legit>fraud=1``,
    ``per-class fraud=10``), or ``no costs``; for a manifest the schema accepted."""
    if costs is None:
        return "no costs"
    if any(isinstance(v, Mapping) for v in costs.values()):
        return _describe("matrix", {f"{t}>{p}": c for t, row in costs.items() for p, c in row.items() if p != t})
    return _describe("per-class", {c: w for c, w in costs.items() if float(w) != 1.0})


def _describe(kind: str, entries: Mapping[str, Any]) -> str:
    """How the costs read in reports and fingerprints: ``per-class fraud=10``; a digest when that is long."""
    text = f"{kind} " + (", ".join(f"{k}={float(v):g}" for k, v in sorted(entries.items())) or "all 1")
    if len(text) <= 160 and "\n" not in text:
        return text
    canon = json.dumps(sorted((k, float(v)) for k, v in entries.items()), separators=(",", ":"))
    return f"{kind} sha256:{hashlib.sha256(canon.encode()).hexdigest()[:16]}"


# ------------------------------------------------------------------------------------------------
# The readers (idm_gate.evals.EVAL_FORMATS) and the manifest's task: and costs:
# ------------------------------------------------------------------------------------------------

def read_csv(data: bytes, *, file: str, source: str, scale: Scale | None,
             overrides: Mapping[str, str]) -> EvalReadResult:
    """A confusion matrix CSV as one task named after the file (:class:`~idm_gate.evals._common.EvalReader`)."""
    counts, notices = read_confusion_counts(data, file)
    return _result(counts, notices, file=file, source=source, overrides=overrides)


def read_report(data: bytes, *, file: str, source: str, scale: Scale | None,
                overrides: Mapping[str, str]) -> EvalReadResult:
    """A classification report JSON as one task named after the file."""
    return read_report_doc(load_json(data, file), file=file, source=source, scale=scale, overrides=overrides)


def read_report_doc(doc: Any, *, file: str, source: str, scale: Scale | None,
                    overrides: Mapping[str, str]) -> EvalReadResult:
    counts, notices = read_report_counts(doc, file)
    return _result(counts, notices, file=file, source=source, overrides=overrides)


def _result(counts: ClassCounts, notices: tuple[str, ...], *, file: str, source: str,
            overrides: Mapping[str, str]) -> EvalReadResult:
    task = task_from_counts(counts, task=default_task(source), source=source)
    _check_override(task, overrides, file)
    return EvalReadResult(tasks=(task,), notices=notices, classes=counts)


def _check_override(task: TaskScore, overrides: Mapping[str, str], file: str) -> None:
    want = overrides.get(task.task)
    if want is not None and want != task.metric:
        raise fail(file, task.task, f"metrics: asks for {show(want)}, but a {task.metric!r} task has no other metric",
                   f"drop {task.task} from metrics:")


def finish(result: EvalReadResult, *, task: str | None, costs: Mapping[str, Any] | None, file: str,
           field: str, overrides: Mapping[str, str]) -> EvalReadResult:
    """Apply an ``evals:`` entry's ``task:`` (the task's name) and ``costs:`` to what a classification reader
    read. ``field`` names the entry in messages (``idm.yaml: models[0].evals[1]``)."""
    counts = result.classes
    if counts is None:
        for name, value in (("task", task), ("costs", costs)):
            if value is not None:
                raise fail(f"{field}.{name}", None, f"applies to a confusion matrix or a classification report, but "
                           f"{file} is neither", f"drop {name}:, or point the entry at a {CONFUSION} CSV or a "
                           f"{REPORT} JSON")
        return result
    (t,) = result.tasks
    if task is not None:
        t = replace(t, task=task)
        _check_override(t, overrides, file)
    if costs is not None:  # the reports show both errors (report/costfmt.py)
        t = apply_costs(t, counts, costs, file, f"{field}.costs")
    return replace(result, tasks=(t,))
