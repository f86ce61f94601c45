"""What ``idm-gate leaderboard``'s formats share, no format's own: the ranking and the efficiency frontier.

The leaderboard ranks every model of a measurement by density (highest first; ties by name) and says
which are on the efficiency frontier (``history.pareto_frontier``: no other model is both no larger and
no more error-prone). With ``--frontier-axis`` (:mod:`idm_gate.report.axis`) the frontier is taken
against a ``bench:`` figure instead of size (latency, peak memory, energy per token), over the models
that have it; the others are shown without a position. When any model has groups (manifest
``groups:``), each row names its worst group (lowest density) with that density. Where models list
``bench:`` files, every format also gives their inference figures (a second table; ``bench`` per model
in JSON), beside density and never folded into it; without them the output is as it was.

Each format's rendering is ``render_leaderboard`` in report/markdown.py, json.py and html.py (the page
with inline SVG charts from report/svg.py), chosen by ``report.FORMATS``. The cells and notes here are
plain text: each format escapes them (``markdown.esc``, ``html.escape``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..data import Measurement, ModelMeasurement
from ..history import pareto_frontier
from .axis import SIZE, FrontierAxis
from .fmt import num


@dataclass(frozen=True, kw_only=True)
class Standing:
    """One leaderboard row: 1-based rank by density, the model, whether it is on the frontier, and its
    position on the frontier's axis (its size, or its bench: figure; None when it has none)."""

    rank: int
    model: ModelMeasurement
    on_frontier: bool
    position: float | None = None


def standings(m: Measurement, axis: FrontierAxis = SIZE) -> list[Standing]:
    """Every model of ``m`` ranked by density, highest first (equal densities share the order by name),
    the frontier taken against ``axis`` over the models that have a position on it."""
    pos = {x.name: axis.value(x) for x in m.models}
    frontier = pareto_frontier((x.name, p, x.error_rate) for x in m.models if (p := pos[x.name]) is not None)
    ordered = sorted(m.models, key=lambda x: (-x.density, x.name))
    return [Standing(rank=i, model=x, on_frontier=x.name in frontier, position=pos[x.name])
            for i, x in enumerate(ordered, 1)]


def bpp(x: float | None) -> str:
    """Bits per parameter to three decimals, or ``n/a`` without a parameter count."""
    return num(x, 3) if x is not None else "n/a"


def frontier_note(rows: Sequence[Standing], axis: FrontierAxis) -> str:
    """``★ on the efficiency frontier (3 of 6): no other model is both smaller and more accurate.``"""
    on = sum(s.on_frontier for s in rows)
    placed = [s for s in rows if s.position is not None]
    if axis.is_size:
        return f"★ on the efficiency frontier ({on} of {len(rows)}): no other model is both smaller and more accurate."
    note = (f"★ on the efficiency frontier of {axis.title} against error rate ({on} of the {len(placed)} models "
            f"with a {axis.key} figure): no other is both {axis.words[0]} and more accurate.")
    if len(placed) < len(rows):
        note += f" {len(rows) - len(placed)} without the figure (no bench: file gives it) are not placed."
    setups = {tuple(sorted((k, str(v)) for k, v in b.setup.items()))
              for s in placed for b in s.model.bench if b.key == key_of(s.model, axis)}
    if len(setups) > 1:
        note += f" The figures come from {len(setups)} different setups (backend, threads, lengths, hardware): " \
                "compare positions within one setup only."
    return note


def key_of(m: ModelMeasurement, axis: FrontierAxis) -> str | None:
    """The key of the bench figure ``axis`` reads for ``m`` (None for size or without one)."""
    if axis.metric is None:
        return None
    found = [b.key for b in m.bench if b.metric is axis.metric and (axis.test is None or b.test == axis.test)]
    return found[0] if len(found) == 1 else None


def any_grouped(rows: Sequence[Standing]) -> bool:
    """Whether any model has groups (manifest ``groups:``): only then is there a worst-group column."""
    return any(s.model.groups for s in rows)


COSTS_NOTE = ("Where an eval has `costs:`, density and error rate count its cost-weighted error (a departure from "
               "the published metric); the plain density is beside it.")


def any_costed(rows: Sequence[Standing]) -> bool:
    """Whether any model counts a cost-weighted error (an eval's ``costs:``): only then a plain density column."""
    return any(s.model.plain_density is not None for s in rows)


def plain_cell(x: ModelMeasurement) -> str:
    """The model's plain density (its error without costs), or ``=`` when its density is already the plain one."""
    return "=" if x.plain_density is None else num(x.plain_density)


def worst_cell(x: ModelMeasurement) -> str:
    """``code (0.5108)``: the model's group with the lowest density, or ``—`` without groups."""
    g = x.worst_group
    return "—" if g is None else f"{g.name} ({num(g.density)})"
