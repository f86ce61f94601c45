"""Mermaid charts in the PR comment: GitHub draws them itself from fenced ```` ```mermaid ```` blocks.

Two sections about the whole PR, registered in ``check_markdown.PR_SECTIONS``:

- ``history_section``: for each changed model (failing, warning, then passing; largest change first;
  at most ``MAX_HISTORY_CHARTS``), its density in the base branch's last recorded commits
  (``CheckResult.history``, oldest first) with the PR as the last point, as an ``xychart-beta`` line chart.
- ``frontier_section``: size against error rate for the PR's models, each changed model at its baseline
  and its PR position, the efficiency frontier (``history.pareto_frontier`` over the PR's models)
  marked with ★, as a ``quadrantChart``. With ``--frontier-axis`` (``CheckResult.frontier_axis``) a
  ``bench:`` figure (latency, peak memory, energy per token) takes size's place, for the models that have it.

Why a quadrant chart: Mermaid has no scatter chart. ``xychart-beta`` draws lines and bars over one shared
x axis, so models of different sizes cannot each sit at their own x, and its points carry no labels. A
``quadrantChart`` places named points anywhere in the unit square: with size (log scale, since sizes
span orders of magnitude) and error rate each mapped linearly onto [0.05, 0.95], and the real ranges
written on the axes, it is a labelled scatter plot that GitHub renders. The quadrants then read as
"smaller and more accurate" (bottom left) to "larger and more error-prone" (top right).

Each section is one ``<details>``, open when it charts at most ``FOLD_AFTER`` models and folded
otherwise, so a PR touching many models keeps its comment short. Text placed in a chart goes through
``label``: no quote, backtick or line break can end a Mermaid string or the code fence.
"""

from __future__ import annotations

import math
import re

from ..data import VERDICT_RANK, ModelMeasurement, ModelStatus
from ..errors import InputError, truncate
from ..history import pareto_frontier
from ..verdicts import CheckResult, ModelVerdict
from .axis import SIZE, FrontierAxis, parse_axis
from .fmt import num

MAX_HISTORY_CHARTS = 10   # changed models charted, largest change first
MAX_FRONTIER_POINTS = 40  # points of the quadrant chart: changed models (two each), frontier, then others
FOLD_AFTER = 3            # more charted models than this: the section starts folded
_UNSAFE = re.compile(r"[\"`\\\x00-\x1f\x7f\u2028\u2029;#%]")


def label(text: str, limit: int = 40) -> str:
    """``text`` safe inside a Mermaid double-quoted string: quotes, backticks, backslashes, ``;#%`` (entity
    and comment syntax) and control characters become ``_``; at most ``limit`` characters."""
    text = _UNSAFE.sub("_", text)
    return truncate(text, limit)


def _fence(lines: list[str]) -> list[str]:
    return ["```mermaid", *lines, "```"]


def _details(summary: str, count: int, body: list[str]) -> list[str]:
    opened = " open" if count <= FOLD_AFTER else ""
    return [f"<details{opened}><summary>{summary}</summary>", "", *body, "", "</details>"]


def _axis_max(values: list[float]) -> float:
    """A round upper bound a little above ``max(values)``: 1.386 -> 1.6, 6759 -> 8000."""
    top = max(values) * 1.1
    if top <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(top))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * step >= top:
            return float(f"{m * step:.6g}")
    return top


def history_chart(name: str, series: list[tuple[str, float]], unit: str) -> list[str]:
    """An ``xychart-beta`` block (without the fence) of ``series``: (x label, density) pairs in order."""
    xs = ", ".join(f'"{label(x, 12)}"' for x, _ in series)
    ys = ", ".join(f"{d:.6g}" for _, d in series)
    return ["xychart-beta", f'    title "{label(name)}: density"', f"    x-axis [{xs}]",
            f'    y-axis "{unit}" 0 --> {_axis_max([d for _, d in series]):g}', f"    line [{ys}]"]


def _changed(r: CheckResult) -> list[ModelVerdict]:
    moved = [v for v in r.models if v.status is ModelStatus.CHANGED and v.current is not None]
    # as the comment's table: failing, then warning, then passing; the largest change first within each
    return sorted(moved, key=lambda v: (-VERDICT_RANK[v.verdict], -abs(v.delta_rel or 0.0), v.name))


def history_section(r: CheckResult) -> list[str]:
    """Each changed model's recorded densities on the base branch, then the PR's; none without history."""
    recorded: dict[str, list[tuple[str, float]]] = {}
    for p in r.history:
        recorded.setdefault(p.model, []).append((p.commit[:7], p.density))
    charts: list[list[str]] = []
    changed = _changed(r)
    for v in changed:
        past = recorded.get(v.renamed_from or v.name)
        if not past or v.current is None:
            continue
        if len(charts) == MAX_HISTORY_CHARTS:
            break
        charts.append(_fence(history_chart(v.name, [*past, ("PR", v.current.density)], r.log_base.unit)))
    if not charts:
        return []
    body: list[str] = []
    for c in charts:
        body += [*c, ""]
    more = sum(1 for v in changed if recorded.get(v.renamed_from or v.name)) - len(charts)
    if more > 0:
        body.append(f"{more} more changed model{'s' if more != 1 else ''}: `idm-gate history --model NAME`.")
    n = len(charts)
    return _details(f"📈 Density history of {n} changed model{'s' if n != 1 else ''}, the PR last", n, body)


def _norm(x: float, lo: float, hi: float) -> float:
    return 0.5 if hi <= lo else round(0.05 + 0.9 * (x - lo) / (hi - lo), 4)


def _axis(r: CheckResult) -> tuple[FrontierAxis, str]:
    """The chart's axis, and a note when the requested one cannot be drawn and size stands in."""
    axis = parse_axis(r.frontier_axis)  # validated where the user gave it (check --frontier-axis, the input)
    if axis.is_size:
        return axis, ""
    try:
        placed = [p for v in r.models if v.current is not None and (p := axis.value(v.current)) is not None]
    except InputError as e:  # a model with two figures of the metric: say so, draw size
        return SIZE, f"The chart shows size: {e}."
    if not placed:
        return SIZE, f"The chart shows size: no model's bench: files give {axis.key}."
    return axis, ""


def frontier_section(r: CheckResult) -> list[str]:
    """The PR's models by size (or ``r.frontier_axis``) and error rate, changed ones at both positions, the
    frontier marked ★.

    Drawn when at least one model changed (otherwise nothing moved and the chart says nothing new). On
    another axis than size only models with that bench: figure are placed; the note counts the others.
    """
    changed = _changed(r)
    current = [v for v in r.models if v.current is not None]
    if not changed:
        return []
    axis, fallback = _axis(r)

    def at(m: ModelMeasurement | None) -> float | None:
        return axis.value(m) if m is not None else None

    pos = {v.name: at(v.current) for v in current}
    front = pareto_frontier((v.name, p, v.current.error_rate)
                            for v in current if v.current is not None and (p := pos[v.name]) is not None)
    # (label, position on the axis, error rate), most important first, at most MAX_FRONTIER_POINTS
    pts: list[tuple[str, float, float]] = []
    shown: set[str] = set()
    for v in changed:
        if v.current is None or len(pts) + 2 > MAX_FRONTIER_POINTS:
            break
        now = pos[v.name]
        if now is None:
            continue
        star = "★ " if v.name in front else ""
        before = at(v.baseline)
        if v.baseline is not None and before is not None:
            pts.append((f"{v.name} (base)", before, v.baseline.error_rate))
        pts.append((f"{star}{v.name} (PR)", now, v.current.error_rate))
        shown.add(v.name)
    rest = sorted((v for v in current if v.name not in shown and pos[v.name] is not None),
                  key=lambda v: (v.name not in front, -(v.current.density if v.current else 0.0), v.name))
    drawn = set(shown)
    for v in rest:
        p = pos[v.name]
        if len(pts) == MAX_FRONTIER_POINTS or v.current is None or p is None:
            break
        pts.append((("★ " if v.name in front else "") + v.name, p, v.current.error_rate))
        drawn.add(v.name)
    positive = [p for p in pts if p[1] > 0]
    if not positive:
        return []
    logs = [math.log10(s) for _, s, _ in positive]
    errs = [e for _, _, e in positive]
    x_lo, x_hi = min(logs), max(logs)
    e_lo, e_hi = min(errs), max(errs)
    lo, hi = axis.words
    lines = ["quadrantChart",
             f'    title "{axis.title.capitalize()} against error rate (★ on the efficiency frontier)"',
             f'    x-axis "{lo}, {label(axis.text(10 ** x_lo))}" --> '
             f'"{hi}, {label(axis.text(10 ** x_hi))} (log scale)"',
             f'    y-axis "fewer errors, {num(e_lo)}" --> "more errors, {num(e_hi)}"',
             f'    quadrant-1 "{hi} and more error-prone"', f'    quadrant-2 "{lo} but more error-prone"',
             f'    quadrant-3 "{lo} and more accurate"', f'    quadrant-4 "{hi} but more accurate"']
    for name, s, e in positive:
        lines.append(f'    "{label(name, 60)}": [{_norm(math.log10(s), x_lo, x_hi)}, {_norm(e, e_lo, e_hi)}]')
    unplaced = sum(1 for v in current if pos[v.name] is None)
    left = len(current) - len(drawn) - unplaced
    body = _fence(lines)
    note = (f"Positions are scaled to the chart: {axis.title} on a log scale, error rate linearly, each between "
            "the smallest and largest value shown on its axis.")
    if not axis.is_size:
        note += (f" {axis.title.capitalize()} from each model's bench: files ({axis.key}); the frontier is taken "
                 "over the models that have it.")
    if unplaced > 0:
        note += f" {unplaced} model{'s' if unplaced != 1 else ''} without a {axis.key} figure not placed."
    if left > 0:
        note += f" {left} more model{'s' if left != 1 else ''} not drawn: `idm-gate leaderboard` ranks them all."
    if fallback:
        note = f"{fallback} {note}"
    body += ["", note]
    return _details(f"🎯 Efficiency frontier: {len(shown)} changed model{'s' if len(shown) != 1 else ''} at "
                    "baseline and PR" + ("" if axis.is_size else f", by {axis.title}"), len(drawn), body)
