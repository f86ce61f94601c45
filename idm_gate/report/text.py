"""Plain-text report for a terminal: columns a reader can recompute by hand."""

from __future__ import annotations

from .. import __version__, metric
from ..data import Measurement, ModelMeasurement
from . import costfmt
from .benchfmt import measure_lines
from .fmt import count, gb, num, pm
from .groupfmt import measure_lines as group_lines


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
    u = metric.unit(m.log_base)
    log = "ln" if m.log_base == "e" else "log2"
    lines = [f"idm-gate {__version__}: intelligence density of {len(m.models)} model(s) in {m.manifest}",
             f"D = -{log}(error rate) / size_GB, in {u}; error rate = mean task error; size_GB = bytes / 1e9"]
    if any(costfmt.has_costs(x) for x in m.models):
        lines.append(f"error costs: where an eval has costs:, its cost-weighted error counts ({costfmt.DEPARTURE}); "
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
            if costfmt.has_costs(x):  # the stderr is the cost-weighted error's: it stands beside it
                trows = [["  task", "metric", "score", "error", "cost-weighted", "stderr", "source"]]
                for t in x.tasks:
                    score = f"{num(t.score)}{' %' if t.scale == 'percent' else ''}"
                    trows.append([f"  {t.task}", t.metric, score, num(t.error),
                                  num(t.cost_error) if t.cost_error is not None else "=", num(t.stderr), t.source])
                lines += _table(trows, {2, 3, 4, 5})
            else:
                trows = [["  task", "metric", "score", "error", "stderr", "source"]]
                for t in x.tasks:
                    score = f"{num(t.score)}{' %' if t.scale == 'percent' else ''}"
                    trows.append([f"  {t.task}", t.metric, score, num(t.error), num(t.stderr), t.source])
                lines += _table(trows, {2, 3, 4})
            if x.artifacts:
                lines.append(f"  {len(x.artifacts)} file(s) counted in the size:")
                frows = [["  file", "bytes", "size from", "note"]]
                frows += [[f"  {a.path}", f"{a.size_bytes:,}", a.source, a.note or ""] for a in x.artifacts]
                lines += _table(frows, {1})
            lines += measure_lines(x)
            lines += costfmt.measure_lines(x, u)
            lines += group_lines(x, u)
            for n in x.notices:
                lines.append(f"  note: {n}")
    for n in m.notices:
        lines.append(f"note: {n}")
    return "\n".join(lines) + "\n"
