"""Error costs (``costs:`` on a classification eval) as words and numbers, for every format: both numbers.

A model whose tasks carry costs counts the cost-weighted error in its error rate and density (what the
gate compares), a departure from the published metric; every format shows the plain figures beside
them, and nothing about costs for a model without them. Format-neutral helpers only: whether a model has
costs, which tasks, and the plain figures of both sides; the text lines are in :mod:`.text`, the
Markdown in :mod:`.markdown` and :mod:`.check_markdown`.
"""

from __future__ import annotations

from ..data import ModelMeasurement
from .fmt import num

DEPARTURE = "a departure from the published metric"


def has_costs(x: ModelMeasurement | None) -> bool:
    return x is not None and x.plain_error_rate is not None


def costed_tasks(x: ModelMeasurement) -> list[str]:
    return [t.task for t in x.tasks if t.cost_error is not None]


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
