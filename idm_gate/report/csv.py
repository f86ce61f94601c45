"""The ``csv`` format: ``history``'s rows for a spreadsheet, one per model and recorded commit, oldest first.

The header is ``report.history.FIELDS``; a missing value (no date, no parameter count) is an empty cell;
numbers are written at full precision. Lines end in ``\\n``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..history import HistoryPoint


def render_history(pts: Sequence[HistoryPoint]) -> str:
    """``pts`` as CSV text: the header, then ``history.history_rows``; no points give the header only."""
    from ..history import history_rows
    from .history import FIELDS

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for doc in history_rows(pts):
        w.writerow({k: ("" if v is None else v) for k, v in doc.items()})
    return buf.getvalue()
