"""What ``idm-gate history``'s formats share, no format's own: the columns of its tables.

The rows themselves are ``idm_gate.history.history_rows`` (json, csv: every field, full precision);
:func:`table_cells` gives the rounded cells the text and markdown tables show. Each format's rendering
is ``render_history`` in report/text.py, json.py, csv.py and markdown.py (chosen by ``report.FORMATS``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..history import HistoryPoint
from .fmt import count, num, size

FIELDS = ("commit", "date", "model", "density", "unit", "size_bytes", "error_rate", "params", "bits_per_param")
"""The fields of every row, in order: the CSV header and the keys of the JSON rows."""

TABLE_HEAD = ("commit", "date", "model", "density", "unit", "size", "error rate", "params")
"""The header of the text and markdown tables (sizes and counts shown for a reader, not as numbers)."""


def table_cells(pts: Iterable[HistoryPoint]) -> list[tuple[str, ...]]:
    """One row of cells per point, as :data:`TABLE_HEAD` names them: short SHA, day, model, density, unit,
    size (``1.2 GB``), error rate and parameter count, each rounded for reading."""
    return [(p.commit[:7], (p.date or "")[:10], p.model.name, num(p.model.density), p.log_base.unit,
             size(p.model.size_bytes), num(p.model.error_rate), count(p.model.params)) for p in pts]
