"""Read an OpenCompass summary CSV (``outputs/<run>/<time>/summary/summary_<time>.csv``).

Shape (written by OpenCompass's ``DefaultSummarizer``)::

    dataset,version,metric,mode,internlm2-chat-7b-hf
    --------- 考试 Exam ---------,-,-,-,-
    mmlu,-,naive_average,gen,63.72
    gsm8k,1d7fe4,accuracy,gen,70.58
    openai_humaneval,8e312c,humaneval_pass@1,gen,59.76
    race-high,9a54b6,accuracy,gen,-

One row per (dataset, metric), one column per model after ``mode``; values are printed with two
decimals on OpenCompass's 0-100 scale; ``-`` means no result. The writer does not quote fields: it
replaces commas inside names by spaces.

What is read
    The file must have exactly one model column (a summary of several models is refused: which
    column is this model cannot be told from the file). Each row with a value is a task named by its
    ``dataset``; its metric is the ``metric`` column, chosen by the primary-metric rule of
    :mod:`idm_gate.evals.rates` when a dataset has several rows.

Not counted (each with a notice)
    Aggregate rows: the summary groups OpenCompass computes (``naive_average``, ``weighted_average``,
    ``harmonic_mean``, ``sum``, ``standard_deviation``), which are averages over other datasets;
    section separators and datasets without a value (``-``); metrics that are not rates (``bleu``,
    ``rouge1``, ``matthews_correlation``) and the generic ``score`` unless the manifest names it
    for the dataset (``metrics: {mbpp: score}``), since what it measures depends on the dataset.

Scale: percent, as OpenCompass prints (``scale_inferred`` unless the manifest declares one).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping

from ..data import Scale, TaskScore
from ..errors import one_line
from . import rates
from ._common import EvalReadResult, decode_text, fail, show, skipped_notice, task_score

HEADER = ("dataset", "version", "metric", "mode")
AGGREGATES = frozenset({"naive_average", "weighted_average", "harmonic_mean", "sum", "standard_deviation"})
MISSING = "-"


def looks_like_opencompass(first_line: str) -> bool:
    """True for the header line OpenCompass's summarizer writes (format detection)."""
    cols = [c.strip().lower() for c in first_line.lstrip("\ufeff").split(",")]
    return tuple(cols[:4]) == HEADER and len(cols) >= 5


def read(data: bytes, *, file: str, source: str, scale: Scale | None,
         overrides: Mapping[str, str]) -> EvalReadResult:
    text = decode_text(data, file)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                rows.append((reader.line_num, row))
    except csv.Error as e:
        raise fail(file, f"line {reader.line_num}", f"not valid CSV ({str(e)[:80]})",
                   "an OpenCompass summary CSV") from None
    if not rows:
        raise fail(file, None, "is empty", "an OpenCompass summary CSV starts with dataset,version,metric,mode,<model>")
    line, header = rows[0]
    if not looks_like_opencompass(",".join(header)):
        raise fail(file, f"line {line}", f"the header {show(','.join(header), 60)} is not OpenCompass's",
                   "dataset,version,metric,mode followed by one column per model")
    models = [h.strip() for h in header[4:]]
    if len(models) != 1:
        raise fail(file, f"line {line}", f"has {len(models)} model columns ({', '.join(map(repr, models[:4]))})",
                   "idm-gate reads a summary of one model; run the summarizer for this model alone, "
                   "or keep only its column")
    scale_used, inferred = (Scale.PERCENT, True) if scale is None else (scale, False)

    # dataset -> [(line, metric, raw value)] in file order
    by_dataset: dict[str, list[tuple[int, str, str]]] = {}
    aggregates: list[str] = []
    empty: list[str] = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise fail(file, f"line {line}", f"{len(row)} fields, but the header has {len(header)}",
                       "one value per column, as OpenCompass writes them")
        dataset, _version, metric, _mode, value = (c.strip() for c in row)
        if not dataset:
            raise fail(file, f"line {line}", "the dataset name is empty", "name the dataset")
        if metric == MISSING and value == MISSING:
            if not dataset.startswith("---"):
                empty.append(dataset)
            continue  # a section separator, or a dataset with no result at all
        if metric in AGGREGATES:
            aggregates.append(f"{dataset} ({metric})")
            continue
        by_dataset.setdefault(dataset, []).append((line, metric, value))

    tasks: list[TaskScore] = []
    notices: list[str] = []
    skipped: list[tuple[str, str]] = []
    for dataset, entries in by_dataset.items():
        override = overrides.get(dataset)
        picked = _pick(dataset, entries, override, file)
        if isinstance(picked, str):
            skipped.append((dataset, picked))
            notices.append(skipped_notice(file, dataset, picked))
            continue
        line, metric, raw, direction = picked
        place = f"line {line} ({dataset}, {metric})"
        if raw == MISSING:
            skipped.append((dataset, f"no value for {metric} ('-')"))
            notices.append(skipped_notice(file, dataset, f"no value for {metric} ('-')"))
            continue
        try:
            score = float(raw)
        except ValueError:
            raise fail(file, place, f"the value {show(raw)} is not a number",
                       "OpenCompass writes a number with two decimals, or '-' for no result") from None
        if not math.isfinite(score):
            raise fail(file, place, f"the value {show(raw)} is not finite", "a finite number")
        tasks.append(task_score(dataset, metric, score, direction, None, source=source, scale=scale_used,
                                scale_inferred=inferred, file=file, place=place))
    if aggregates:
        notices.append(one_line(f"{file}: not counted: {', '.join(aggregates[:6])}"
                                + (f" and {len(aggregates) - 6} more" if len(aggregates) > 6 else "")
                                + ": OpenCompass summary groups, averages over other datasets"))
    if empty:
        notices.append(one_line(f"{file}: no result for {', '.join(empty[:6])}"
                                + (f" and {len(empty) - 6} more" if len(empty) > 6 else "") + " ('-')"))
    if tasks:
        notices.append(one_line(f"{file}: values read on the {scale_used} scale"
                                + (" (inferred: OpenCompass prints 0-100)" if inferred else "")))
    return EvalReadResult(tasks=tuple(tasks), notices=tuple(notices), skipped=tuple(skipped))


def _pick(dataset: str, entries: list[tuple[int, str, str]], override: str | None,
          file: str) -> tuple[int, str, str, str] | str:
    """(line, metric, raw value, direction) for a dataset, or why none of its rows counts."""
    if override is not None:
        want = rates.normalize(override)
        for line, metric, raw in entries:
            if rates.normalize(metric) == want:
                kind = rates.classify(metric)
                if kind == rates.NOT_RATE:
                    raise fail(file, f"line {line} ({dataset})", f"the manifest picks {metric}, which is "
                               f"{rates.why_not(metric)}", "pick an accuracy-like rate")
                return line, metric, raw, rates.default_direction(metric) or rates.HIGHER
        have = ", ".join(m for _, m, _ in entries)
        raise fail(file, dataset, f"the manifest picks metric {override!r}, which this dataset does not have",
                   f"its metrics are: {have}")
    ok = [(line, metric, raw) for line, metric, raw in entries if rates.is_candidate(metric)]
    if not ok:
        names = list(dict.fromkeys(m for _, m, _ in entries))
        score = "what it measures depends on the dataset; name it in metrics: to count it"
        why = "; ".join(f"{n}: {score if n == 'score' else rates.why_not(n)}" for n in names)
        return f"no rate metric ({why})"
    line, metric, raw = min(ok, key=lambda e: (rates.rank(e[1]), e[0]))
    return line, metric, raw, rates.default_direction(metric) or rates.HIGHER
