"""Recorded densities along a branch: the baseline store read in first-parent order.

``read_history`` walks ``rev`` and its first-parent ancestors (one ``git log``), asks the store for
every one of them at once (one ``store.get_many``: for the branch store one ``git cat-file --batch``),
and returns the commits that have a usable record, oldest first, so a chart reads left to right.
A record whose report does not parse is warned about and left out, as ``check`` does.

``pareto_frontier`` is pure: which models no other model beats on both size and error rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .data import LogBase, Measurement, ModelMeasurement
from .errors import InputError

if TYPE_CHECKING:
    from .gitutil import Git
    from .store import BaselineStore

Warn = Callable[[str], None]
# a first-parent walk (commit, committer date) and the store's records for its commits
Walked = tuple[Sequence[tuple[str, "str | None"]], Mapping[str, dict[str, Any]]]


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    """One recorded commit of the branch: its SHA, committer date (ISO 8601) and measurement."""

    commit: str
    date: str | None
    measurement: Measurement


@dataclass(frozen=True, kw_only=True)
class HistoryPoint:
    """One model at one recorded commit (a row of ``idm-gate history``)."""

    commit: str
    date: str | None
    model: ModelMeasurement
    log_base: LogBase  # the unit of the record's density: nats/GB or bits/GB


def read_history(store: BaselineStore, git: Git, rev: str, *, limit: int, max_walk: int,
                 warn: Warn, parsed: Mapping[str, Measurement] | None = None,
                 valid: frozenset[str] = frozenset(),
                 walked: Walked | None = None) -> list[HistoryEntry]:
    """The newest ``limit`` recorded commits among ``rev``'s first ``max_walk`` first-parent commits.

    Oldest first. ``InputError`` when ``limit`` or ``max_walk`` is below 1 or ``rev`` is unknown.
    Three git processes at most (``rev-parse``, ``log`` for SHAs and dates, one store lookup), however
    many records. ``parsed`` holds records the caller already read and validated from the same store
    (commit -> measurement; ``check`` passes its baseline): those are not validated again (a 1,000-model
    record takes a large part of a second with jsonschema). Records along a branch share most models: a
    model entry identical to one of a record already validated in this call (or in ``valid``,
    ``manifest.model_entries`` of reports validated before) is not validated again.
    ``walked``: ``(walk, records)``, this very walk as the caller already made it (``check``, whose
    baseline is its merge base): ``walk`` is ``git.first_parent_log(rev, max_walk)`` and ``records``
    ``store.get_many`` of its commits; then git and the store are not asked again. Taken only when
    ``rev`` is the walk's first commit.
    """
    from .manifest import model_entries
    from .serialize import measurement_from_dict

    if limit < 1:
        raise InputError(f"--limit {limit}: must be at least 1")
    if max_walk < 1:
        raise InputError(f"--max-walk {max_walk}: must be at least 1")
    if walked is not None and walked[0] and walked[0][0][0] == rev:
        dated, found = walked
    else:
        dated = git.first_parent_log(git.rev_parse(rev), max_walk)
        found = store.get_many([commit for commit, _ in dated])
    dates = dict(dated)
    entries: list[HistoryEntry] = []
    # Reports validated in this walk (or by the caller) whose model entries vouch for older records;
    # turned into canonical JSON only when an older record is actually validated.
    vouching: list[Any] = []

    def vouched() -> frozenset[str]:
        nonlocal valid
        for models in vouching:
            valid = valid | {e for e in model_entries(models) if e is not None}
        vouching.clear()
        return valid

    for commit in dates:  # nearest first
        record = found.get(commit)
        if parsed and commit in parsed:
            entries.append(HistoryEntry(commit=commit, date=dates[commit], measurement=parsed[commit]))
            if len(entries) == limit:
                break
            report = record.get("report") if record is not None else None
            if isinstance(report, dict):  # the record the caller validated: its entries vouch for older ones
                vouching.append(report.get("models"))
            continue
        if record is None:
            continue
        report = record.get("report")
        try:
            if not isinstance(report, dict):
                raise InputError("the record has no report object")
            m = measurement_from_dict(report, f"baseline record {commit[:12]}", valid=vouched())
        except InputError as e:
            # the words check's own walk uses, so a run that reads both warns once
            warn(f"skipping the corrupt baseline record for {commit[:12]} ({e}); trying older commits")
            continue
        entries.append(HistoryEntry(commit=commit, date=dates[commit], measurement=m))
        if len(entries) == limit:
            break
        vouching.append(report["models"])
    entries.reverse()
    return entries


def points(entries: Iterable[HistoryEntry], model: str | None = None) -> list[HistoryPoint]:
    """One point per model and recorded commit, in the entries' order (models in manifest order)."""
    out = []
    for e in entries:
        for x in e.measurement.models:
            if model is None or x.name == model:
                out.append(HistoryPoint(commit=e.commit, date=e.date, model=x, log_base=e.measurement.log_base))
    return out


def known_models(entries: Iterable[HistoryEntry]) -> list[str]:
    """Every model name in ``entries``, first appearance first."""
    return list(dict.fromkeys(x.name for e in entries for x in e.measurement.models))


def check_model(entries: list[HistoryEntry], model: str, rev: str) -> None:
    """``InputError`` naming the recorded models when ``model`` is in none of ``entries`` (none: no error)."""
    names = known_models(entries)
    if entries and model not in names:
        shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        raise InputError(f"--model {model!r}: no record along {rev} has this model; recorded models: {shown}")


def pareto_frontier(models: Iterable[tuple[str, float, float]]) -> set[str]:
    """Names of the models on the efficiency frontier, from ``(name, size, error_rate)`` triples.

    A model is on the frontier when no other model is at most as large *and* at most as error-prone
    while being strictly better in one of the two (Pareto dominance; size in any one unit, error rate a
    fraction). So of two models of the same size only the more accurate one is on it, and exact
    duplicates both are. O(n log n): sorted by size, a model is on it when its error rate is below
    every smaller model's and lowest among those of its own size.
    """
    ordered = sorted(models, key=lambda t: (t[1], t[2]))
    frontier: set[str] = set()
    best = float("inf")  # lowest error rate among strictly smaller models
    i = 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][1] == ordered[i][1]:
            j += 1
        lowest = ordered[i][2]  # sorted by error within one size
        if lowest < best:
            frontier.update(name for name, _, err in ordered[i:j] if err == lowest)
            best = lowest
        i = j
    return frontier


def history_rows(pts: Iterable[HistoryPoint]) -> list[dict[str, Any]]:
    """The rows ``history --format json|csv`` writes: one per model and commit, oldest first."""
    return [{"commit": p.commit, "date": p.date, "model": p.model.name, "density": p.model.density,
             "unit": p.log_base.unit, "size_bytes": p.model.size_bytes, "error_rate": p.model.error_rate,
             "params": p.model.params, "bits_per_param": p.model.bits_per_param} for p in pts]
