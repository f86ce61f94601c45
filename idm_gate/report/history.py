"""``idm-gate history`` in four formats: text (a table for a terminal), json, csv and markdown.

Rows are ``history.history_rows``: one per model and recorded commit, oldest first; the JSON form is
``{"unit": ..., "rows": [...]}`` with the same fields as the CSV header.
"""

from __future__ import annotations

import csv
import io

from ..history import HistoryPoint, history_rows
from ..serialize import dumps
from .fmt import count, num, size
from .markdown import esc

FIELDS = ("commit", "date", "model", "density", "unit", "size_bytes", "error_rate", "params", "bits_per_param")


def render_history(pts: list[HistoryPoint], fmt: str) -> str:
    """``pts`` as ``fmt`` ("text", "json", "csv" or "markdown"); empty history gives a header only."""
    if fmt == "json":
        return dumps({"rows": history_rows(pts)})
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        for doc in history_rows(pts):
            w.writerow({k: ("" if v is None else v) for k, v in doc.items()})
        return buf.getvalue()
    cells = [(p.commit[:7], (p.date or "")[:10], p.model.name, num(p.model.density),
              p.log_base.unit, size(p.model.size_bytes), num(p.model.error_rate),
              count(p.model.params)) for p in pts]
    head = ("commit", "date", "model", "density", "unit", "size", "error rate", "params")
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|---|---|---|---:|---|---:|---:|---:|"]
        lines += [f"| `{c[0]}` | {c[1]} | {esc(c[2])} | " + " | ".join(c[3:]) + " |" for c in cells]
        return "\n".join(lines) + "\n"
    widths = [max(len(str(x)) for x in col) for col in zip(head, *cells, strict=False)]
    right = {3, 5, 6, 7}
    out = []
    for r in (head, *cells):
        out.append("  ".join(str(x).rjust(w) if i in right else str(x).ljust(w)
                             for i, (x, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    return "\n".join(out) + "\n"
