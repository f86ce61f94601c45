"""A comparison in plain terms, for the text report and the PR comment alike. Pure: no I/O.

``change_sentence`` says what changed ("size ×2.00 (120 MB → 240 MB) at about the same accuracy
(error rate 0.6663 → 0.6658)"); ``bounds_sentence`` gives the two break-evens a reviewer can act on:
the largest size at the PR's error rate, and the largest error rate at the PR's size, that keep a
target density (the baseline's, or the lowest the gate accepts).

The break-evens invert ``D = -log_b(Pe) / size_GB``: at error rate ``Pe`` the size that gives density
``T`` is ``-log_b(Pe) / T`` GB, and at size ``S`` GB the error rate is ``b^(-T * S)``. Both are rounded
*down* (``floor_sig``), so a reviewer who meets the bound as shown does keep the density.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..data import BYTES_PER_GB, LogBase, Verdict
from ..verdicts import ModelVerdict, Side
from .fmt import floor_sig, num, percent, ratio, size, size_pair

ARROW = "→"
# A change of accuracy worth less than 1 % of density (|Δln(-ln Pe)| < 0.01) reads as "about the same".
SAME_ACCURACY = 0.01


@dataclass(frozen=True)
class Bounds:
    """What keeps density ``target``: at most ``size_bytes`` at the PR's error rate, or at most
    ``error_rate`` at the PR's size. Either is None when no value would do (a size over
    ``max_size_gb`` passes at no error rate)."""

    target: float
    size_bytes: float | None
    error_rate: float | None
    rules: tuple[str, ...] = ()  # the policy settings that set these bounds, as a reader names them


def _log_b(pe: float, log_base: LogBase) -> float:
    return -math.log(pe) / log_base.factor


def change_sentence(v: ModelVerdict, space: str = " ") -> str | None:
    """Size and accuracy of a compared model, baseline → PR, in plain terms; None when not compared."""
    if v.cur is None or v.base is None:
        return None
    b, c = v.base, v.cur
    if b.size_bytes == c.size_bytes:
        part_size = f"same size ({size(c.size_bytes, space=space)})"
    else:
        x, y = size_pair(b.size_bytes, c.size_bytes, space=space)
        part_size = f"size {ratio(c.size_bytes / b.size_bytes)} ({x} {ARROW} {y})"
    errs = f"error rate {num(b.error_rate)} {ARROW} {num(c.error_rate)}"
    d = v.decomposition
    # with costs: the error rate is cost-weighted, and may move against accuracy (report/costfmt.py)
    # (a task compared on its plain error, its costs changed in the PR, does not count: compare.py)
    costed = any(t.cost_error is not None and t.task not in v.plain_compared
                 for x in (v.current, v.baseline) if x is not None for t in x.tasks)
    same, better, worse = (("the same cost-weighted error", "a lower cost-weighted error", "a higher cost-weighted "
                            "error") if costed else ("the same accuracy", "higher accuracy", "lower accuracy"))
    if b.error_rate == c.error_rate:
        acc = f"{same} (error rate {num(c.error_rate)})"
    elif d is not None and abs(d.accuracy) < SAME_ACCURACY:
        acc = f"about {same} ({errs})"
    elif c.error_rate < b.error_rate:
        acc = f"{better} ({errs})"
    else:
        acc = f"{worse} ({errs})"
    return f"{part_size} at {acc}"


def bounds(side: Side, target: float, log_base: LogBase) -> Bounds | None:
    """Break-evens for density ``target`` (in ``log_base``'s unit) from ``side``'s error rate and size;
    None when undefined (a target <= 0, an error rate of 0 or >= 1)."""
    if target <= 0 or not 0 < side.error_rate < 1:
        return None
    s_gb = _log_b(side.error_rate, log_base) / target
    pe = math.exp(-target * log_base.factor * side.size_bytes / BYTES_PER_GB)
    return Bounds(target, s_gb * BYTES_PER_GB, pe)


def pass_bounds(v: ModelVerdict, log_base: LogBase, space: str = " ") -> Bounds | None:
    """What would pass the gate: the relative rule (``max_drop``) and the absolute budgets together.

    None when no single bound can be given: the model is gone, or the relative rule (on the tasks
    both sides share) and the absolute budgets (on all of the PR's tasks) see different error rates.
    ``rules`` names the settings that decided the bounds ("a drop of at most 5.0 %", "min_density 2").
    """
    cur, p = v.current, v.policy
    if cur is None:
        return None
    full = Side(density=cur.density, density_stderr=cur.density_stderr, error_rate=cur.error_rate,
                size_bytes=cur.size_bytes)
    side = v.cur or full
    targets: list[tuple[float, str]] = []
    if v.base is not None and v.cur is not None and v.base.density > 0 and p.max_drop is not None:
        targets.append((v.base.density * (1 - p.max_drop),
                        f"a drop of at most {percent(p.max_drop, sign=False, space=space)}"))
    absolute = p.min_density is not None or p.max_error_rate is not None
    if targets and absolute and side.error_rate != full.error_rate:
        return None
    if p.min_density is not None:
        targets.append((p.min_density, f"min_density {p.min_density:g}"))
    target, rule = max(targets, default=(None, ""))
    rules = [rule] if rule else []
    b = bounds(side, target, log_base) if target is not None else Bounds(0.0, math.inf, 1.0)
    if b is None:
        return None
    s: float | None = b.size_bytes
    e: float | None = b.error_rate
    if p.max_size_gb is not None:
        cap = p.max_size_gb * BYTES_PER_GB
        if s is not None and cap < s or side.size_bytes > cap:
            rules.append(f"max_size_gb {p.max_size_gb:g}")
        s = min(s, cap) if s is not None else None
        if side.size_bytes > cap:
            e = None  # no error rate passes at a size over the budget
    if p.max_error_rate is not None:
        if e is not None and p.max_error_rate < e or side.error_rate > p.max_error_rate:
            rules.append(f"max_error_rate {p.max_error_rate:g}")
        if side.error_rate > p.max_error_rate:
            s = None  # no size passes at an error rate over the budget
        e = min(e, p.max_error_rate) if e is not None else None
    by_group = group_size_bounds(v, log_base, space)
    if by_group:
        e = None  # each group has its own error rate: no one bound on the model's
        g_size, g_rule = min(by_group, key=lambda x: x[0])
        if s is not None and g_size < s:
            s = g_size
            rules = [g_rule]  # the group's rule binds; the model's own allows more
    return Bounds(b.target, s, e, tuple(rules))


def group_size_bounds(v: ModelVerdict, log_base: LogBase, space: str = " ") -> list[tuple[float, str]]:
    """The largest size (bytes) at which each group (domain) keeps its relative rule and
    ``min_group_density``, at the group's own error rate in the PR, with the rule that sets it."""
    p, out = v.policy, []
    for c in v.groups:
        if c.current is None or not 0 < c.current.error_rate < 1:
            continue
        if c.cur is not None and c.base is not None and c.base.density > 0 and p.max_drop is not None \
                and 0 < c.cur.error_rate < 1:
            out.append((_log_b(c.cur.error_rate, log_base) / (c.base.density * (1 - p.max_drop))
                        * BYTES_PER_GB,
                        f"group {c.name}: a drop of at most {percent(p.max_drop, sign=False, space=space)}"))
        if p.min_group_density is not None and p.min_group_density > 0:
            out.append((_log_b(c.current.error_rate, log_base) / p.min_group_density * BYTES_PER_GB,
                        f"group {c.name}: min_group_density {p.min_group_density:g}"))
    return out


def bounds_sentence(b: Bounds, space: str = " ") -> str | None:
    parts = []
    if b.size_bytes is not None and math.isfinite(b.size_bytes):
        parts.append(f"at most {size(floor_sig(b.size_bytes, 3), space=space)} at this error rate")
    if b.error_rate is not None and b.error_rate < 1:
        parts.append(f"an error rate of at most {num(floor_sig(b.error_rate, 4))} at this size")
    return ", or ".join(parts) if parts else None


def advice(v: ModelVerdict, log_base: LogBase, space: str = " ") -> list[str]:
    """The lines under a compared model: what changed, and what would keep or restore its density."""
    out = []
    what = change_sentence(v, space)
    if what:
        out.append(what[0].upper() + what[1:] + ".")
    if v.verdict is Verdict.FAIL:
        if v.pr_policy_passes:
            out.append("This PR's own `gate:` would pass it, but the policy is read from the base branch so "
                       "a PR cannot loosen its own gate: change `gate:` on the base branch first.")
        # size and error-rate bounds answer a density failure only: a model that failed on a benchmark
        # figure alone (throughput, latency, memory, energy) gets none
        pb = pass_bounds(v, log_base, space) if v.density_failed else None
        said = bounds_sentence(pb, space) if pb else None
        if said and pb is not None:
            why = f" ({', '.join(pb.rules)})" if pb.rules else ""
            out.append(f"To pass{why}: {said}.")
    elif v.delta_rel is not None and v.delta_rel < 0 and v.base is not None:
        kb = bounds(v.cur, v.base.density, log_base) if v.cur else None
        said = bounds_sentence(kb, space) if kb else None
        if said:
            out.append(f"To keep the baseline density: {said}.")
    return out
