"""Domains (manifest ``groups:``) in the reports: each group's error rate and density, and the worst group.

Shared by the text reports (measure and check) and the Markdown renderers (the JSON check report's part is
built by :mod:`idm_gate.checkdoc`); every renderer shows nothing for a model without groups. The worst group
is the one with the lowest density (all of a model's groups divide by the same size, so it is also the one
with the highest error rate).
"""

from __future__ import annotations

from ..data import GroupChange, ModelMeasurement, ModelVerdict
from .fmt import NBSP, num, percent, pm


def _tasks(names: tuple[str, ...], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def measure_lines(x: ModelMeasurement, unit: str) -> list[str]:
    """The ``measure`` text report's lines for one model's groups (none without ``groups:``)."""
    worst = x.worst_group
    if worst is None:
        return []
    rows = [["    group", "tasks", "error rate", f"density ({unit})", ""]]
    for g in x.groups:
        rows.append([f"    {g.name}", str(len(g.tasks)), pm(g.error_rate, g.error_stderr),
                     pm(g.density, g.density_stderr), "worst" if g is worst else ""])
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = [f"  groups ({len(x.groups)}; worst: {worst.name}, density {num(worst.density)} {unit}):"]
    for r in rows:
        out.append("  ".join(c.rjust(w) if i in (1, 3) else c.ljust(w) for i, (c, w) in
                             enumerate(zip(r, widths, strict=True))).rstrip())
    return out


def change_text(c: GroupChange, space: str = " ") -> str:
    """``▼ -60.0 %`` when compared; else why not (``new group``, ``not in the PR``)."""
    if c.delta_rel is not None:
        arrow = "▲" if c.delta_rel > 0 else ("▼" if c.delta_rel < 0 else "=")
        return f"{arrow}{space}{percent(c.delta_rel, space=space)}"
    return c.why or "n/a"


def check_lines(v: ModelVerdict, unit: str) -> list[str]:
    """The ``check`` text report's lines: each group's density, baseline -> PR, with its change."""
    if not v.groups:
        return []
    worst = v.current.worst_group if v.current else None
    out = []
    for c in v.groups:
        mark = "  (worst group)" if worst is not None and c.current is worst else ""
        if c.cur is not None and c.base is not None:
            out.append(f"  group    {c.name}: {num(c.base.density)} -> {num(c.cur.density)} {unit}  "
                       f"({change_text(c)}){mark}")
        elif c.current is not None:
            out.append(f"  group    {c.name}: {pm(c.current.density, c.current.density_stderr)} {unit}"
                       + (f"  ({c.why})" if c.why else "") + mark)
        elif c.baseline is not None:
            out.append(f"  group    {c.name}: {num(c.baseline.density)} {unit} at the baseline  ({c.why})")
    return out


def measure_markdown(x: ModelMeasurement, unit: str) -> list[str]:
    """A model's groups in the measure report's folded details: a table, or nothing without groups."""
    from .markdown import esc

    worst = x.worst_group
    if worst is None:
        return []
    out = [f"Groups (worst: **{esc(worst.name)}**):", "",
           f"| group | tasks | error rate | density ({unit}) |", "|---|---|---:|---:|"]
    for g in x.groups:
        out.append(f"| {esc(g.name)} | {esc(_tasks(g.tasks), 400)} | {pm(g.error_rate, g.error_stderr)} | "
                   f"{'**' if g is worst else ''}{pm(g.density, g.density_stderr)}{'**' if g is worst else ''} |")
    return out


def markdown_section(v: ModelVerdict, unit: str) -> list[str]:
    """A model's groups in its folded details of the PR comment: baseline -> PR per group."""
    from .markdown import esc

    if not v.groups:
        return []
    worst = v.current.worst_group if v.current else None
    head = f"Groups (worst: **{esc(worst.name)}**):" if worst is not None else "Groups:"
    out = [head, "", f"| group | tasks | density, baseline ({unit}) | density, PR | change |",
           "|---|---|---:|---:|---:|"]
    for c in v.groups:
        shown = c.current or c.baseline
        assert shown is not None
        base = num(c.base.density if c.base else c.baseline.density) if c.baseline else "—"
        cur = num(c.cur.density if c.cur else c.current.density) if c.current else "—"
        if worst is not None and c.current is worst:
            cur = f"**{cur}**"
        out.append(f"| {esc(c.name)} | {esc(_tasks(shown.tasks), 400)} | {base} | {cur} | "
                   f"{esc(change_text(c, NBSP))} |")
    return out


def worst_line(v: ModelVerdict, unit: str) -> str | None:
    """``Worst group: **code**, 0.4236 nats/GB (▼ -38.9 %).`` under a model in the PR comment's head."""
    from .markdown import esc

    worst = v.current.worst_group if v.current else None
    if worst is None:
        return None
    c = next((c for c in v.groups if c.current is worst), None)
    change = f" ({change_text(c, NBSP)})" if c is not None and c.delta_rel is not None else ""
    return f"Worst group: **{esc(worst.name)}**, {num(worst.density)}{NBSP}{unit}{change}."
