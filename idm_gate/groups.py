"""Domains: a model's tasks tagged by group (manifest ``groups:``), and the density of each. Pure: no I/O.

A group lists task names as the eval readers name them (``gsm8k``, lm-eval's ``mmlu_abstract_algebra``,
lighteval's ``leaderboard|mmlu|5``) or shell-style globs over them (``mmlu_*``, ``*|arc:*|*``; ``*``,
``?`` and ``[...]`` as in :func:`fnmatch.fnmatchcase`, case-sensitive). An entry that is exactly a task's
name is that task even when it holds a glob character.

Resolution against one model's counted tasks:
- an exact name the model does not count is an error, and so is a glob that matches none of them (a typo
  would otherwise shrink the group without a word);
- a group defined at the top level of the manifest applies to every model without its own ``groups:``;
  for a model that counts *none* of its tasks it does not apply (a classifier has no "math"), but one
  that counts some of them must count all, or the group would mean different tasks on different models;
- a task may be in several groups (domains overlap, as lm-eval's ``mmlu_stem`` and ``mmlu`` do); a task
  in no group counts only in the overall error rate.

A group's error rate is averaged as the model's (PrismML's mean task error, or the model's ``weights:``
restricted to the group's tasks, with its ``min_error``; a task with ``costs:`` counts its cost-weighted
error, as in the model's Pe); its density divides by the whole model's size:
``D_g = -log(Pe_g) / size_GB``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from . import metric
from .data import GroupMeasurement, LogBase, TaskScore
from .errors import truncate

if TYPE_CHECKING:  # a check's values (side()): measure does not create their classes
    from .verdicts import Side

_GLOB = frozenset("*?[")


class GroupError(ValueError):
    """A group that does not fit a model's tasks; ``group`` names it, ``str()`` says what is wrong."""

    def __init__(self, group: str, message: str):
        super().__init__(message)
        self.group = group


def is_glob(entry: str) -> bool:
    return any(c in _GLOB for c in entry)


def suggest(tasks: Sequence[str], entry: str) -> str:
    """'did you mean ...? tasks counted: ...' for an ``entry`` that matches none of ``tasks``."""
    import difflib  # only for a "did you mean"

    close = difflib.get_close_matches(entry, tasks, n=1, cutoff=0.6)
    shown = ", ".join(tasks[:20]) + (f" and {len(tasks) - 20} more" if len(tasks) > 20 else "")
    return (f"did you mean {close[0]!r}? " if close else "") + f"tasks counted: {shown}"


def resolve(groups: Mapping[str, Sequence[str]], tasks: Sequence[str],
            top_level: bool = False) -> dict[str, tuple[str, ...]]:
    """Group name -> the tasks of ``tasks`` it holds, in the order of ``tasks``.

    ``groups`` maps each group to its entries (names or globs); ``tasks`` are the model's counted task
    names. ``top_level`` marks the manifest's top-level ``groups:``: a group none of whose entries
    matches is then left out instead of being an error. Raises :class:`GroupError` for an entry that
    matches nothing (a top-level group that matches partly included).
    """
    have = set(tasks)
    out: dict[str, tuple[str, ...]] = {}
    for name, entries in groups.items():
        picked: set[str] = set()
        unmatched: list[str] = []
        for entry in entries:
            if entry in have:
                picked.add(entry)
                continue
            hits = [t for t in tasks if fnmatchcase(t, entry)] if is_glob(entry) else []
            if hits:
                picked.update(hits)
            else:
                unmatched.append(entry)
        if top_level and not picked:
            continue
        if unmatched:
            entry = unmatched[0]
            what = "matches none of the model's tasks" if is_glob(entry) else "is not a task of this model"
            also = " (it applies because the model counts other tasks of the group)" if top_level else ""
            raise GroupError(name, f"{truncate(repr(entry), 80, '...')} {what}{also}; {suggest(list(tasks), entry)}")
        out[name] = tuple(t for t in tasks if t in picked)
    return out


def aggregate(tasks: Sequence[TaskScore], weights: Mapping[str, float] | None, min_error: float | None,
              size_bytes: int, log_base: LogBase) -> tuple[metric.ErrorAggregate, float, float | None]:
    """(error aggregate, density, its standard error) over ``tasks``, averaged as a model's error is.

    ``weights`` are the model's (task -> weight; None: the published unweighted mean). Raises
    :class:`metric.MetricError` as :func:`metric.aggregate_error` and :func:`metric.density` do.
    """
    w = [float(weights.get(t.task, 1.0)) for t in tasks] if weights else None
    agg = metric.aggregate_error([t.counted_error for t in tasks], [t.stderr for t in tasks], w, min_error)
    d = metric.density(agg.error_rate, size_bytes, log_base)
    return agg, d, metric.density_stderr(agg.error_rate, agg.error_stderr, size_bytes, log_base)


def measure_group(name: str, members: Sequence[TaskScore], weights: Mapping[str, float] | None,
                  min_error: float | None, size_bytes: int, log_base: LogBase) -> GroupMeasurement:
    """One group's figures from its member tasks (see :func:`aggregate`)."""
    agg, d, sd = aggregate(members, weights, min_error, size_bytes, log_base)
    return GroupMeasurement(name=name, tasks=tuple(t.task for t in members), error_rate=agg.error_rate,
                            raw_error_rate=agg.raw_error_rate, error_stderr=agg.error_stderr,
                            tasks_with_stderr=agg.tasks_with_stderr, density=d, density_stderr=sd,
                            min_error_applied=agg.clamped)


def side(g: GroupMeasurement, tasks: Sequence[TaskScore], on: Sequence[str], weights: Mapping[str, float] | None,
         size_bytes: int, log_base: LogBase) -> Side:
    """``g`` on the task names ``on`` (a subset of its own, in its order), in ``log_base``'s unit: from its
    recorded error rate when ``on`` is all of it, else recomputed from ``tasks`` (the model's) with its
    clamp. Raises :class:`metric.MetricError` when the subset's mean error is 0 and nothing clamps it."""
    from .verdicts import Side

    if tuple(on) == g.tasks:  # in this run's unit: a baseline may have been recorded in the other log base
        return Side(density=metric.density(g.error_rate, size_bytes, log_base),
                    density_stderr=metric.density_stderr(g.error_rate, g.error_stderr, size_bytes, log_base),
                    error_rate=g.error_rate, size_bytes=size_bytes)
    by = {t.task: t for t in tasks}
    agg, d, sd = aggregate([by[t] for t in on], weights, g.error_rate if g.min_error_applied else None,
                           size_bytes, log_base)
    return Side(density=d, density_stderr=sd, error_rate=agg.error_rate, size_bytes=size_bytes)
