"""SVG drawings, self-contained (no script, nothing fetched): the HTML leaderboard's two charts and
``idm-gate badge``'s badge, whose only format is SVG.

- :func:`frontier_svg`: the frontier's axis (size or a ``bench:`` figure, log scale) against error rate,
  the frontier as a dashed step line;
- :func:`history_svg`: each model's recorded density along the branch (``idm-gate history``);
- :func:`badge_svg`: a flat two-part README badge.

Untrusted text (model names, labels) is escaped with ``html.escape``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..data import Verdict
from .axis import SIZE, FrontierAxis
from .fmt import num

if TYPE_CHECKING:
    from ..history import HistoryPoint
    from .leaderboard import Standing

_W, _H, _PAD = 640, 360, 56
_FRONTIER, _OTHER = "#1a7f37", "#8c959f"
_LABEL_ALL = 30     # up to this many models every point is labelled; beyond, the frontier's (all have a tooltip)
_SERIES = ("#0969da", "#cf222e", "#8250df", "#1a7f37", "#bf8700", "#e16f24", "#57606a", "#0a3069")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def frontier_svg(rows: Sequence[Standing], axis: FrontierAxis = SIZE) -> str:
    """``axis`` (size or a bench: figure; log10 scale, x) against error rate (y, 0 at the bottom): frontier
    models green and joined. Models without a position on the axis are not drawn."""
    at = {s.model.name: s.position for s in rows if s.position is not None and s.position > 0}
    pts = [(s, math.log10(at[s.model.name])) for s in rows if s.model.name in at]
    if not pts:
        what = "a positive size" if axis.is_size else f"a {axis.key} figure (bench:)"
        return f"<p>No model has {html.escape(what)} to draw.</p>"
    xs = [x for _, x in pts]
    x_lo, x_hi = min(xs) - 0.1, max(xs) + 0.1
    y_hi = min(1.0, max(s.model.error_rate for s, _ in pts) * 1.1) or 1.0

    def px(lx: float) -> float:
        return _PAD + (lx - x_lo) / (x_hi - x_lo) * (_W - 2 * _PAD)

    def py(err: float) -> float:
        return _H - _PAD - err / y_hi * (_H - 2 * _PAD)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
           'role="img" aria-labelledby="frontier-title">',
           f'<title id="frontier-title">{html.escape(axis.title.capitalize())} against error rate; the efficiency '
           'frontier in green</title>',
           f'<rect width="{_W}" height="{_H}" fill="#ffffff"/>',
           f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#24292f"/>',
           f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#24292f"/>']
    for lx in _ticks(x_lo, x_hi):
        out.append(f'<text x="{px(lx):.1f}" y="{_H - _PAD + 16}" font-size="11" text-anchor="middle">'
                   f'{html.escape(axis.text(10 ** lx))}</text>')
    for err in _ticks(0.0, y_hi):
        out.append(f'<text x="{_PAD - 6}" y="{py(err) + 4:.1f}" font-size="11" text-anchor="end">{num(err, 2)}</text>')
    out.append(f'<text x="{_W / 2}" y="{_H - 12}" font-size="12" text-anchor="middle">'
               f'{html.escape(axis.title)} (log scale)</text>')
    out.append(f'<text x="14" y="{_H / 2}" font-size="12" text-anchor="middle" '
               f'transform="rotate(-90 14 {_H / 2})">error rate</text>')
    front = sorted(((x, s.model.error_rate) for s, x in pts if s.on_frontier))
    if len(front) > 1:
        steps = []
        for (x0, e0), (x1, _) in zip(front, front[1:], strict=False):
            steps += [f"{px(x0):.1f},{py(e0):.1f}", f"{px(x1):.1f},{py(e0):.1f}"]
        steps.append(f"{px(front[-1][0]):.1f},{py(front[-1][1]):.1f}")
        out.append(f'<polyline points="{" ".join(steps)}" fill="none" stroke="{_FRONTIER}" '
                   'stroke-dasharray="4 3"/>')
    for s, x in pts:
        colour = _FRONTIER if s.on_frontier else _OTHER
        name = html.escape(s.model.name)
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(s.model.error_rate):.1f}" r="5" fill="{colour}">'
                   f'<title>{name}: {html.escape(axis.text(at[s.model.name]))}, error rate '
                   f'{num(s.model.error_rate)}</title></circle>')
        if s.on_frontier or len(pts) <= _LABEL_ALL:  # with many models only the frontier is labelled
            out.append(f'<text x="{px(x) + 7:.1f}" y="{py(s.model.error_rate) - 6:.1f}" font-size="10">{name}</text>')
    out.append("</svg>")
    return "\n".join(out)


def history_svg(pts: Sequence[HistoryPoint], unit: str) -> str:
    """Each model's recorded density (y) by recorded commit (x, oldest left), one line per model."""
    commits = list(dict.fromkeys(p.commit for p in pts))
    if not commits:
        return "<p>No recorded history: <code>idm-gate record</code> on the base branch writes it.</p>"
    by_model: dict[str, dict[str, float]] = {}
    for p in pts:
        by_model.setdefault(p.model.name, {})[p.commit] = p.model.density
    values = [d for series in by_model.values() for d in series.values()]
    y_lo, y_hi = min(0.0, min(values)), max(values) * 1.1 or 1.0

    def px(i: int) -> float:
        return _PAD + (i / max(1, len(commits) - 1)) * (_W - 2 * _PAD - 120)

    def py(d: float) -> float:
        return _H - _PAD - (d - y_lo) / (y_hi - y_lo) * (_H - 2 * _PAD)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
           'role="img" aria-labelledby="history-title">',
           f'<title id="history-title">Recorded density ({html.escape(unit)}) by commit</title>',
           f'<rect width="{_W}" height="{_H}" fill="#ffffff"/>',
           f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD - 120}" y2="{_H - _PAD}" stroke="#24292f"/>',
           f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#24292f"/>']
    for i, c in enumerate(commits):
        out.append(f'<text x="{px(i):.1f}" y="{_H - _PAD + 16}" font-size="10" text-anchor="middle" '
                   f'font-family="monospace">{html.escape(c[:7])}</text>')
    for d in _ticks(y_lo, y_hi):
        out.append(f'<text x="{_PAD - 6}" y="{py(d) + 4:.1f}" font-size="11" text-anchor="end">{num(d, 3)}</text>')
    out.append(f'<text x="14" y="{_H / 2}" font-size="12" text-anchor="middle" '
               f'transform="rotate(-90 14 {_H / 2})">density ({html.escape(unit)})</text>')
    for k, (name, series) in enumerate(by_model.items()):
        colour = _SERIES[k % len(_SERIES)]
        coords = [(px(i), py(series[c])) for i, c in enumerate(commits) if c in series]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coords]
        out.append(f'<text x="{_W - _PAD - 110}" y="{_PAD + 14 * k}" font-size="11" fill="{colour}">'
                   f'{html.escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# -- badge ------------------------------------------------------------------------------------------

BADGE_COLOURS = {Verdict.PASS: "#2ea44f", Verdict.WARN: "#dbab09", Verdict.FAIL: "#cb2431"}
UNKNOWN_COLOUR = "#6e7781"  # no verdict: the model has no budget and no check report was given


def _text_width(text: str) -> int:
    """Rough width in px of ``text`` at 11 px Verdana (about 6.5 px a character, wider for capitals)."""
    return round(sum(7.5 if ch.isupper() or ch in "mwMW" else 6.2 for ch in text)) + 10


def badge_svg(label: str, value: str, verdict: Verdict | None) -> str:
    """A flat two-part badge: grey ``label`` left, ``value`` right on the colour of ``verdict``
    (grey when None: unknown), 20 px high, as README badges are."""
    colour = BADGE_COLOURS[verdict] if verdict is not None else UNKNOWN_COLOUR
    lw, vw = _text_width(label), _text_width(value)
    w = lw + vw
    lab, val = html.escape(label), html.escape(value)
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{lab}: {val}">',
        f"<title>{lab}: {val}</title>",
        f'<rect width="{lw}" height="20" fill="#555"/>',
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/>',
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">',
        f'<text x="{lw / 2:.1f}" y="14">{lab}</text>',
        f'<text x="{lw + vw / 2:.1f}" y="14">{val}</text>',
        "</g>", "</svg>", ""])
