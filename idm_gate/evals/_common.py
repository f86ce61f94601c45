"""Pieces every reader shares: safe JSON and text decoding, numbers, scales, building a TaskScore."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..data import EvalResult, Scale, TaskScore
from ..errors import InputError, one_line, truncate
from ..jsonsafe import load_json as _load_json
from . import rates

if TYPE_CHECKING:
    from .confusion import ClassCounts


@dataclass(frozen=True)
class EvalReadResult(EvalResult):
    """An :class:`EvalResult` that also lists the tasks the reader saw but could not count.

    ``skipped`` holds ``(task, reason)`` pairs, e.g. ``("wikitext", "no rate metric: ...")``, so a
    caller can turn "the manifest asks for wikitext" into an error that says why. Each pair also
    appears in ``notices`` as ``"<file>: <task>: skipped: <reason>"``.
    """

    skipped: tuple[tuple[str, str], ...] = ()
    # A classification reader's per-class counts (its one task's), which the manifest's costs: weigh
    classes: ClassCounts | None = None
    # The scale the format's own tool always writes (lm-eval, lighteval and mteb fractions, OpenCompass
    # percent): a scale the manifest leaves out is then the format's, not a guess. None for formats with
    # no convention (csv, json, inline scores), whose scale is inferred from the values.
    scale_convention: Scale | None = None


class EvalReader(Protocol):
    """Reads one results file: ``data`` (its bytes) -> the tasks it scores, error fractions in [0, 1].

    ``file`` names the file in messages, ``source`` is stored with each task (the repository-relative
    path), ``scale`` is the manifest's ``scale:`` (None: the format's convention or inference) and
    ``overrides`` maps task -> the metric the manifest picks. ``InputError`` for a file it cannot read.
    """

    def __call__(self, data: bytes, /, *, file: str, source: str, scale: Scale | None,
                 overrides: Mapping[str, str]) -> EvalReadResult: ...


class EvalDocReader(Protocol):
    """An :class:`EvalReader` for a JSON format, over the document already parsed (parsed once, when the
    format is detected from the document itself)."""

    def __call__(self, doc: Any, /, *, file: str, source: str, scale: Scale | None,
                 overrides: Mapping[str, str]) -> EvalReadResult: ...


def fail(file: str, place: str | None, what: str, valid: str | None = None) -> InputError:
    """Build the one-line error: ``<file>: <place>: <what is wrong>; <what would be valid>``."""
    msg = f"{file}: {place}: {what}" if place else f"{file}: {what}"
    if valid:
        msg += f"; {valid}"
    return InputError(one_line(msg))


def show(value: Any, limit: int = 40) -> str:
    """A short, single-line rendering of a value taken from a user's file."""
    try:
        s = repr(value)
    except Exception:  # repr of a parsed value cannot really fail; be safe
        s = f"<{type(value).__name__}>"
    return one_line(truncate(s, limit, "..."))


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 (a leading BOM is dropped); an error names the byte offset otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise fail(file, f"byte {e.start}", "not UTF-8 text (binary file?)",
                   "eval results must be UTF-8 JSON, CSV or Markdown") from None
    if "\x00" in text:
        raise fail(file, f"character {text.index(chr(0))}", "contains a NUL character (binary file?)",
                   "eval results must be UTF-8 text")
    return text


def load_json(data: bytes, file: str) -> Any:
    """Strict JSON (:func:`idm_gate.jsonsafe.load_json`); NaN and Infinity allowed, as lm-eval writes them."""
    return _load_json(decode_text(data, file).encode("utf-8"), file, allow_nan=True)


def number(value: Any) -> float | None:
    """The value as a float when it is a JSON/YAML number (not a bool); None otherwise.

    Non-finite results (NaN, infinities, integers too large for a float) come back as NaN so the
    caller can tell "not a number at all" (None) from "a number that is not finite" (NaN).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        f = float(value)
    except OverflowError:
        return math.nan
    return f if math.isfinite(f) else math.nan


def to_fraction(value: float, scale: Scale, file: str, place: str, *, what: str = "score") -> float:
    """Check a finite value against its scale's range and return it as a fraction."""
    if scale is Scale.FRACTION:
        if 0.0 <= value <= 1.0:
            return value
        valid = "a fraction is between 0 and 1"
        if 1.0 < value <= 100.0:
            valid += "; if the values are percentages, set scale: percent for this source"
        raise fail(file, place, f"{what} {value:g} is outside 0..1 on the fraction scale", valid)
    if 0.0 <= value <= 100.0:
        return value / 100.0
    raise fail(file, place, f"{what} {value:g} is outside 0..100 on the percent scale",
               "a percentage is between 0 and 100")


def stderr_fraction(value: Any, scale: Scale, file: str, place: str) -> float | None:
    """A standard error on the fraction scale; None when unknown ("N/A", NaN, absent, not a number)."""
    f = number(value)
    if f is None or math.isnan(f):
        return None
    if f < 0:
        raise fail(file, place, f"standard error {f:g} is negative", "a standard error is 0 or more")
    if f > 100.0:  # beyond any scale; a fraction-scale score over 1 gets the better hint
        raise fail(file, place, f"standard error {f:g} is larger than any score scale (0..100)",
                   "a score's standard error is at most half its scale; check the column")
    return f / 100.0 if scale is Scale.PERCENT else f


def task_score(task: str, metric: str, value: float, direction: str, stderr: float | None, *,
               source: str, scale: Scale, scale_inferred: bool, file: str, place: str) -> TaskScore:
    """Build a TaskScore from a finite value on ``scale`` pointing ``direction`` (HIGHER/LOWER)."""
    frac = to_fraction(value, scale, file, place,
                       what="score" if direction == rates.HIGHER else "error rate")
    error = 1.0 - frac if direction == rates.HIGHER else frac
    error = min(1.0, max(0.0, error))
    return TaskScore(task=task, metric=metric, score=value, error=error, stderr=stderr, source=source,
                     scale=scale, scale_inferred=scale_inferred)


def require_mapping(value: Any, file: str, place: str, expected: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise fail(file, place, f"is {_kind(value)}, expected {expected}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {show(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def kind_of(value: Any) -> str:
    """How a value reads in a message: ``null``, ``a list``, ``the text 'N/A'``."""
    return _kind(value)


def skipped_notice(file: str, task: str, reason: str) -> str:
    return one_line(f"{file}: {task}: skipped: {reason}")
