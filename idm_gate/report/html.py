"""The ``html`` format: ``leaderboard`` as one self-contained page (no script, nothing fetched).

The page holds the ranking table, the models' inference figures where ``bench:`` files give them, and
two inline SVG charts (report/svg.py): the frontier's axis (log scale) against error rate with the
frontier as a step line, and each model's recorded density along the branch (``idm-gate history``), of
the :data:`HISTORY_LINES` highest-ranked models. Untrusted text (model and group names) is escaped with
``html.escape``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from .. import __version__
from .axis import SIZE, FrontierAxis
from .benchfmt import setup_text, value_text
from .fmt import count, num, size
from .leaderboard import COSTS_NOTE, Standing, any_costed, any_grouped, bpp, frontier_note, plain_cell, worst_cell
from .svg import frontier_svg, history_svg

if TYPE_CHECKING:
    from ..data import LogBase
    from ..history import HistoryPoint

HISTORY_LINES = 10  # the history chart draws the highest-ranked models only, one line each
CHARTS_HISTORY: Final = True  # the page draws the recorded densities (read from the baseline store)

_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#24292f;background:#fff}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #d0d7de}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.frontier td{background:#dafbe1}
figure{margin:1.5em 0}figcaption{font-size:90%;color:#57606a}"""


def render_leaderboard(rows: Sequence[Standing], log_base: LogBase, history: Sequence[HistoryPoint] = (), *,
                       axis: FrontierAxis = SIZE, title: str = "idm-gate leaderboard") -> str:
    """One self-contained page: the table, the frontier chart and the history chart (inline SVG, no script)."""
    u = log_base.unit
    top = {s.model.name for s in rows[:HISTORY_LINES]}
    grouped, costed = any_grouped(rows), any_costed(rows)
    body = []
    for s in rows:
        x = s.model
        cls = ' class="frontier"' if s.on_frontier else ""
        where = "" if axis.is_size else \
            f"<td class=n>{html.escape(axis.text(s.position)) if s.position is not None else '—'}</td>"
        body.append(f"<tr{cls}><td class=n>{s.rank}</td><td>{html.escape(x.name)}</td>"
                    f"<td class=n>{num(x.density)}</td>{f'<td class=n>{plain_cell(x)}</td>' if costed else ''}"
                    f"<td class=n>{html.escape(size(x.size_bytes))}</td>"
                    f"<td class=n>{num(x.error_rate)}</td><td class=n>{count(x.params)}</td>"
                    f"<td class=n>{bpp(x.bits_per_param)}</td>"
                    f"{f'<td>{html.escape(worst_cell(x))}</td>' if grouped else ''}{where}"
                    f"<td>{'★ frontier' if s.on_frontier else ''}</td></tr>")
    head_axis = "" if axis.is_size else f"<th>{html.escape(axis.title)}</th>"
    intro = ("Green rows are on the efficiency frontier: no other model is both smaller and more accurate."
             if axis.is_size else html.escape(frontier_note(rows, axis).replace("★ on", "Green rows are on", 1)))
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(rows)} models ranked by intelligence density D = −{log_base.symbol}"
        f"(error rate) / size in GB, in {u}. {intro}</p>",
        "<table>", f"<thead><tr><th>rank</th><th>model</th><th>density ({u})</th>"
        f"{'<th>plain density</th>' if costed else ''}<th>size</th><th>error rate</th>"
        f"<th>params</th><th>bits/param</th>{'<th>worst group</th>' if grouped else ''}{head_axis}<th>frontier</th>"
        "</tr></thead>", "<tbody>", *body, "</tbody>",
        "</table>", *([f"<p>{html.escape(COSTS_NOTE.replace('`', ''))}</p>"] if costed else []),
        *_bench_html(rows), "<figure>", frontier_svg(rows, axis),
        f"<figcaption>{html.escape(axis.title.capitalize())} (log scale) against error rate. Green: on the "
        "frontier, joined by the dashed step line.</figcaption>", "</figure>",
        "<figure>", history_svg([p for p in history if p.model.name in top], u),
        f"<figcaption>Recorded density along the branch (first-parent order), oldest commit left"
        f"{f', of the {HISTORY_LINES} highest-ranked models' if len(rows) > HISTORY_LINES else ''}.</figcaption>",
        "</figure>", f"<p><small>idm-gate {__version__}</small></p>", "</body>", "</html>", ""])


def _bench_html(rows: Sequence[Standing]) -> list[str]:
    """The models' inference figures as a second table; nothing when no model lists bench: files."""
    cells = [f"<tr><td>{html.escape(s.model.name)}</td><td>{html.escape(b.key)}</td>"
             f"<td class=n>{html.escape(value_text(b))}</td><td>{html.escape(setup_text(b))}</td></tr>"
             for s in rows for b in s.model.bench]
    if not cells:
        return []
    return ["<h2>Inference benchmarks</h2>", "<p>From the models' bench: files, beside density, never folded "
            "into it.</p>", "<table>", "<thead><tr><th>model</th><th>figure</th><th>value</th><th>setup</th></tr>"
            "</thead>", "<tbody>", *cells, "</tbody>", "</table>"]
