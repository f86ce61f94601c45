"""The ``text`` format: reports for a terminal or a CI log, columns a reader can recompute by hand.

``render_measurement`` is ``measure``'s report; ``render_check`` is ``check``'s (verdicts coloured by a
``Painter``; ``PLAIN`` writes no escape codes); ``render_history`` is ``history``'s table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import __version__
from ..color import PLAIN, Painter
from ..data import Measurement, ModelMeasurement, ModelStatus
from .benchfmt import change_text as bench_change
from .benchfmt import setup_text, value_text
from .costfmt import DEPARTURE, has_costs, pair_text
from .fmt import count, gb, num, percent, pm, score, size, size_pair
from .groupfmt import change_text as group_change

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..history import HistoryPoint
    from ..verdicts import CheckResult, ModelVerdict


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        out.append("  ".join(cells).rstrip())
    return out


def files_line(x: ModelMeasurement) -> str:
    """One line naming the files counted in a model's size and the source of each (check report)."""
    shown = [f"{a.path} ({a.source})" for a in x.artifacts[:6]]
    more = f" and {len(x.artifacts) - 6} more" if len(x.artifacts) > 6 else ""
    return f"{len(x.artifacts)} counted: {', '.join(shown)}{more}"


def render_measurement(m: Measurement, details: bool = True) -> str:
    u = m.log_base.unit
    log = m.log_base.symbol
    lines = [f"idm-gate {__version__}: intelligence density of {len(m.models)} model(s) in {m.manifest}",
             f"D = -{log}(error rate) / size_GB, in {u}; error rate = mean task error; size_GB = bytes / 1e9"]
    if any(has_costs(x) for x in m.models):
        lines.append(f"error costs: where an eval has costs:, its cost-weighted error counts ({DEPARTURE}); "
                     "the plain figures are listed under the model")
    lines.append("")
    rows = [["model", "size GB", "bytes", "source", "params", "bits/param", "tasks", "error rate", f"density ({u})"]]
    for x in m.models:
        rows.append([x.name, gb(x.size_bytes), f"{x.size_bytes:,}", x.size_source, count(x.params),
                     num(x.bits_per_param, 3) if x.bits_per_param is not None else "n/a", str(len(x.tasks)),
                     pm(x.error_rate, x.error_stderr), pm(x.density, x.density_stderr)])
    lines += _table(rows, {1, 2, 4, 5, 6})
    if details:
        for x in m.models:
            lines += ["", f"{x.name}: {len(x.tasks)} task(s), {x.tasks_with_stderr} with a standard error"]
            if has_costs(x):  # the stderr is the cost-weighted error's: it stands beside it
                trows = [["  task", "metric", "score", "error", "cost-weighted", "stderr", "source"]]
                for t in x.tasks:
                    trows.append([f"  {t.task}", t.metric, score(t.score, t.scale), num(t.error),
                                  num(t.cost_error) if t.cost_error is not None else "=", num(t.stderr), t.source])
                lines += _table(trows, {2, 3, 4, 5})
            else:
                trows = [["  task", "metric", "score", "error", "stderr", "source"]]
                for t in x.tasks:
                    trows.append([f"  {t.task}", t.metric, score(t.score, t.scale), num(t.error), num(t.stderr),
                                  t.source])
                lines += _table(trows, {2, 3, 4})
            if x.artifacts:
                lines.append(f"  {len(x.artifacts)} file(s) counted in the size:")
                frows = [["  file", "bytes", "size from", "note"]]
                frows += [[f"  {a.path}", f"{a.size_bytes:,}", a.source, a.note or ""] for a in x.artifacts]
                lines += _table(frows, {1})
            lines += bench_lines(x)
            lines += cost_lines(x, u)
            lines += group_lines(x, u)
            for n in x.notices:
                lines.append(f"  note: {n}")
    for n in m.notices:
        lines.append(f"note: {n}")
    return "\n".join(lines) + "\n"


def bench_lines(x: ModelMeasurement) -> list[str]:
    """The ``measure`` text report's lines for one model's figures (none without ``bench:``)."""
    if not x.bench:
        return []
    out = [f"  inference benchmarks ({len(x.bench)} figure(s), beside density, not part of it):"]
    for b in x.bench:
        setup = setup_text(b)
        out.append(f"    {b.key}: {value_text(b)}" + (f"  [{setup}]" if setup else "") + f"  ({b.source})")
    return out


def cost_lines(x: ModelMeasurement, unit: str) -> list[str]:
    """The ``measure`` text report's lines for one model: the plain figures and each task's costs."""
    if not has_costs(x):
        return []
    out = [f"  error costs ({DEPARTURE}): error rate and density above count the cost-weighted error; plain "
           f"error rate {num(x.plain_error_rate)}, plain density {num(x.plain_density)} {unit}"]
    out += [f"    {t.task}: costs {t.costs}" for t in x.tasks if t.cost_error is not None]
    return out


def group_lines(x: ModelMeasurement, unit: str) -> list[str]:
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


# -- check ------------------------------------------------------------------------------------------

def baseline_line(r: CheckResult) -> str:
    if r.baseline_commit is None:
        return "no baseline"
    sha = r.baseline_commit[:7]
    when = f", committed {r.baseline_date[:10]}" if r.baseline_date else ""
    if not r.baseline_distance:
        return f"baseline from {sha}, the merge base{when}"
    n = r.baseline_distance
    return (f"baseline from {sha}, {n} commit{'s' if n != 1 else ''} before the merge base "
            f"{(r.merge_base or '')[:7]}{when}")


def change(v: ModelVerdict) -> str:
    if v.delta_rel is None:
        return "n/a"
    arrow = "▲" if v.delta_rel > 0 else ("▼" if v.delta_rel < 0 else "=")
    return f"{arrow} {percent(v.delta_rel)}"


def cost_check_lines(v: ModelVerdict, unit: str) -> list[str]:
    """The ``check`` text report's lines for a model with costs on either side (none otherwise)."""
    if not (has_costs(v.current) or has_costs(v.baseline)):
        return []
    if v.plain_compared:
        return [f"  plain    {pair_text(v.baseline, v.current, unit)} (without costs; the density above compares "
                f"{', '.join(v.plain_compared)} on the plain error, since the PR changed the costs; {DEPARTURE})"]
    return [f"  plain    {pair_text(v.baseline, v.current, unit)} (without costs; the density and error above are "
            f"cost-weighted, {DEPARTURE})"]


def bench_check_lines(v: ModelVerdict) -> list[str]:
    """The ``check`` text report's lines: each figure, baseline -> PR, with its change."""
    out = []
    for c in v.bench:
        if c.current is not None and c.baseline is not None:
            out.append(f"  bench    {c.key}: {value_text(c.baseline)} -> {value_text(c.current)}  ({bench_change(c)})")
        elif c.current is not None:
            out.append(f"  bench    {c.key}: {value_text(c.current)}" + (f"  ({c.why})" if c.why else ""))
        elif c.baseline is not None:
            out.append(f"  bench    {c.key}: {value_text(c.baseline)} at the baseline  ({bench_change(c)})")
    return out


def group_check_lines(v: ModelVerdict, unit: str) -> list[str]:
    """The ``check`` text report's lines: each group's density, baseline -> PR, with its change."""
    if not v.groups:
        return []
    worst = v.current.worst_group if v.current else None
    out = []
    for c in v.groups:
        mark = "  (worst group)" if worst is not None and c.current is worst else ""
        if c.cur is not None and c.base is not None:
            out.append(f"  group    {c.name}: {num(c.base.density)} -> {num(c.cur.density)} {unit}  "
                       f"({group_change(c)}){mark}")
        elif c.current is not None:
            out.append(f"  group    {c.name}: {pm(c.current.density, c.current.density_stderr)} {unit}"
                       + (f"  ({c.why})" if c.why else "") + mark)
        elif c.baseline is not None:
            out.append(f"  group    {c.name}: {num(c.baseline.density)} {unit} at the baseline  ({c.why})")
    return out


def render_check(r: CheckResult, paint: Painter = PLAIN) -> str:
    """``check``'s report for a terminal or a CI log; ``paint`` colours the verdicts (PLAIN: no escape codes)."""
    from .explain import advice  # loads compare: only a gate run needs it, not measure

    u = r.log_base.unit
    lines = [f"idm-gate {__version__}: {paint(r.verdict, r.verdict.upper())}  ({baseline_line(r)})", ""]
    for v in r.models:
        cur, base = v.current, v.baseline
        head = f"{v.name}: {paint(v.verdict, v.verdict.upper())} [{v.status}]"
        lines.append(head)
        if v.cur and v.base:
            lines.append(f"  density  {num(v.base.density)} -> {num(v.cur.density)} {u}  ({change(v)})")
        elif cur:
            lines.append(f"  density  {pm(cur.density, cur.density_stderr)} {u}")
        if cur and base:
            lines.append("  size     {} -> {}".format(*size_pair(base.size_bytes, cur.size_bytes)))
            lines.append(f"  error    {num(base.error_rate)} -> {num(cur.error_rate)}")
        elif cur:
            lines.append(f"  size     {size(cur.size_bytes)}, error rate {num(cur.error_rate)}")
        if cur and cur.artifacts:
            lines.append(f"  files    {files_line(cur)}")
        lines += cost_check_lines(v, u)
        lines += bench_check_lines(v)
        lines += group_check_lines(v, u)
        for reason in v.reasons:
            lines.append(f"  - {reason}")
        for said in advice(v, r.log_base) if v.status is not ModelStatus.UNCHANGED else ():
            lines.append(f"  {said}")
        lines.append("")
    for n in r.notices:
        lines.append(f"{paint('note', 'note:')} {n}")
    return "\n".join(lines).rstrip() + "\n"


# -- history ----------------------------------------------------------------------------------------

def render_history(pts: Sequence[HistoryPoint]) -> str:
    """``history``'s table: one line per model and recorded commit, oldest first, columns aligned (numbers
    to the right); no points give the header only."""
    from .history import TABLE_HEAD, table_cells

    rows = [TABLE_HEAD, *table_cells(pts)]
    widths = [max(len(x) for x in col) for col in zip(*rows, strict=True)]
    right = {3, 5, 6, 7}
    out = ["  ".join(x.rjust(w) if i in right else x.ljust(w) for i, (x, w) in enumerate(zip(r, widths, strict=True)))
           .rstrip() for r in rows]
    return "\n".join(out) + "\n"
