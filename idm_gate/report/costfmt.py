"""Error costs (``costs:`` on a classification eval) in the reports: both numbers, always.

A model whose tasks carry costs counts the cost-weighted error in its error rate and density (what the
gate compares), a departure from the published metric; every renderer shows the plain figures beside
them. Nothing here is shown for a model without costs, so their reports are unchanged. Shared by the
text reports (measure and check), the measure Markdown and the PR comment.
"""

from __future__ import annotations

from ..data import ModelMeasurement, ModelVerdict
from .fmt import num

DEPARTURE = "a departure from the published metric"


def has_costs(x: ModelMeasurement | None) -> bool:
    return x is not None and x.plain_error_rate is not None


def costed_tasks(x: ModelMeasurement) -> list[str]:
    return [t.task for t in x.tasks if t.cost_error is not None]


def measure_lines(x: ModelMeasurement, unit: str) -> list[str]:
    """The ``measure`` text report's lines for one model: the plain figures and each task's costs."""
    if not has_costs(x):
        return []
    out = [f"  error costs ({DEPARTURE}): error rate and density above count the cost-weighted error; plain "
           f"error rate {num(x.plain_error_rate)}, plain density {num(x.plain_density)} {unit}"]
    out += [f"    {t.task}: costs {t.costs}" for t in x.tasks if t.cost_error is not None]
    return out


def pair_text(base: ModelMeasurement | None, cur: ModelMeasurement | None, unit: str, arrow: str = "->",
              space: str = " ") -> str:
    """``error rate 0.25 -> 0.2333, density 2.773 -> 2.91 nats/GB``: the plain figures of ``base`` and ``cur``
    (either may be None). A side without costs shows its error rate and density, which are then plain.
    """
    def err(x: ModelMeasurement) -> float:
        return x.plain_error_rate if x.plain_error_rate is not None else x.error_rate

    def dens(x: ModelMeasurement) -> float:
        return x.plain_density if x.plain_density is not None else x.density

    sides = [x for x in (base, cur) if x is not None]
    e = f"{space}{arrow} ".join(num(err(x)) for x in sides)  # the arrow kept with the value before it
    d = f"{space}{arrow} ".join(num(dens(x)) for x in sides)
    return f"error rate {e}, density {d}{space}{unit}"


def check_lines(v: ModelVerdict, unit: str) -> list[str]:
    """The ``check`` text report's lines for a model with costs on either side (none otherwise)."""
    if not (has_costs(v.current) or has_costs(v.baseline)):
        return []
    if v.plain_compared:
        return [f"  plain    {pair_text(v.baseline, v.current, unit)} (without costs; the density above compares "
                f"{', '.join(v.plain_compared)} on the plain error, since the PR changed the costs; {DEPARTURE})"]
    return [f"  plain    {pair_text(v.baseline, v.current, unit)} (without costs; the density and error above are "
            f"cost-weighted, {DEPARTURE})"]


def markdown_note(v: ModelVerdict, unit: str) -> list[str]:
    """One line under the model's row in the PR comment: both numbers."""
    from .explain import ARROW
    from .fmt import NBSP
    from .markdown import esc

    if not (has_costs(v.current) or has_costs(v.baseline)):
        return []
    shown = v.current or v.baseline
    assert shown is not None
    tasks = ", ".join(esc(t) for t in costed_tasks(shown) if t not in v.plain_compared)
    pair = pair_text(v.baseline, v.current, unit, ARROW, NBSP)
    if v.plain_compared:
        changed = ", ".join(esc(t) for t in v.plain_compared)
        counted = f"; the cost-weighted error of {tasks} counts" if tasks else ""
        return [f"- Error costs ({DEPARTURE}): the PR changed the costs of {changed}, compared on the plain error"
                f"{counted}; without costs, {pair}."]
    return [f"- Error costs ({DEPARTURE}): density and error rate count the cost-weighted error of {tasks or 'none'}; "
            f"without costs, {pair}."]


def markdown_section(v: ModelVerdict, r: object = None) -> list[str]:
    """A table of each cost-weighted task in the model's folded details: costs, plain and weighted errors."""
    from .fmt import NBSP
    from .markdown import esc

    cur = {t.task: t for t in v.current.tasks} if v.current else {}
    base = {t.task: t for t in v.baseline.tasks} if v.baseline else {}
    names = [n for n in list(cur) + [t for t in base if t not in cur]
             if (n in cur and cur[n].cost_error is not None) or (n in base and base[n].cost_error is not None)]
    if not names:
        return []
    out = [f"Error costs ({DEPARTURE}; the cost-weighted error counts):", "",
           "| task | costs | plain error, baseline | plain error, PR | cost-weighted, baseline | cost-weighted, PR |",
           "|---|---|---:|---:|---:|---:|"]
    for n in names:
        c, b = cur.get(n), base.get(n)
        costs = (c or base[n]).costs  # a name comes from the PR's tasks or the baseline's
        if c is not None and b is not None and c.costs != b.costs:
            costs = f"{b.costs or 'none'}{NBSP}→ {c.costs or 'none'}"
        out.append(f"| {esc(n)} | {esc(costs or 'none', 300)} | {num(b.error) if b else '—'} | "
                   f"{num(c.error) if c else '—'} | {num(b.cost_error) if b else '—'} | "
                   f"{num(c.cost_error) if c else '—'} |")
    return out
