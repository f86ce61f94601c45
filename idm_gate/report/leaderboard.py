"""``idm-gate leaderboard`` (Markdown, JSON, one self-contained HTML page) and ``idm-gate badge`` (SVG).

The leaderboard ranks every model of a measurement by density (highest first; ties by name) and says
which are on the efficiency frontier (``history.pareto_frontier``: no other model is both no larger and
no more error-prone). With ``--frontier-axis`` (:mod:`idm_gate.report.axis`) the frontier is taken
against a ``bench:`` figure instead of size (latency, peak memory, energy per token), over the models
that have it; the others are shown without a position. The HTML page draws two inline SVG charts, with
no script and nothing fetched: the axis (log scale) against error rate with the frontier as a step line,
and each model's recorded density along the branch (``idm-gate history``). When any model has groups
(manifest ``groups:``), each row names its worst group (lowest density) with that density. Where models
list ``bench:`` files, every format also gives their inference figures (a second table; ``bench`` per
model in JSON), beside density and never folded into it; without them the output is as it was.
Untrusted text (model and group names) is escaped with ``html.escape`` in HTML and SVG and with
``markdown.esc`` in Markdown.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .. import __version__
from ..data import LogBase, Measurement, ModelMeasurement
from ..history import HistoryPoint, pareto_frontier
from ..serialize import bench_to_dict, dumps
from .axis import SIZE, FrontierAxis
from .benchfmt import setup_text, value_text
from .fmt import count, num, size
from .markdown import esc


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


def _bpp(x: float | None) -> str:
    return num(x, 3) if x is not None else "n/a"


def _frontier_note(rows: list[Standing], axis: FrontierAxis) -> str:
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
              for s in placed for b in s.model.bench if b.key == _key_of(s.model, axis)}
    if len(setups) > 1:
        note += f" The figures come from {len(setups)} different setups (backend, threads, lengths, hardware): " \
                "compare positions within one setup only."
    return note


def _key_of(m: ModelMeasurement, axis: FrontierAxis) -> str | None:
    """The key of the bench figure ``axis`` reads for ``m`` (None for size or without one)."""
    if axis.metric is None:
        return None
    found = [b.key for b in m.bench if b.metric is axis.metric and (axis.test is None or b.test == axis.test)]
    return found[0] if len(found) == 1 else None


def _grouped(rows: Sequence[Standing]) -> bool:
    """Whether any model has groups (manifest ``groups:``): only then is there a worst-group column."""
    return any(s.model.groups for s in rows)


_COSTS_NOTE = ("Where an eval has `costs:`, density and error rate count its cost-weighted error (a departure from "
               "the published metric); the plain density is beside it.")


def _costed(rows: Sequence[Standing]) -> bool:
    """Whether any model counts a cost-weighted error (an eval's ``costs:``): only then a plain density column."""
    return any(s.model.plain_density is not None for s in rows)


def _plain(x: ModelMeasurement) -> str:
    """The model's plain density (its error without costs), or ``=`` when its density is already the plain one."""
    return "=" if x.plain_density is None else num(x.plain_density)


def _worst(x: ModelMeasurement) -> str:
    """``code (0.5108)``: the model's group with the lowest density, or ``—`` without groups."""
    g = x.worst_group
    return "—" if g is None else f"{g.name} ({num(g.density)})"


def render_markdown(rows: list[Standing], log_base: LogBase, axis: FrontierAxis = SIZE) -> str:
    u = log_base.unit
    extra = "" if axis.is_size else f" {axis.title} |"
    grouped, costed = _grouped(rows), _costed(rows)
    lines = [f"| rank | model | density ({u}) |{' plain density |' if costed else ''} size | error rate | params | "
             f"bits/param |{' worst group |' if grouped else ''}{extra} frontier |",
             "|---:|---|---:|" + ("---:|" if costed else "") + "---:|---:|---:|---:|" + ("---|" if grouped else "")
             + ("" if axis.is_size else "---:|") + ":---:|"]
    for s in rows:
        cell = "" if axis.is_size else f" {axis.text(s.position) if s.position is not None else '—'} |"
        worst = f" {esc(_worst(s.model))} |" if grouped else ""
        plain = f" {_plain(s.model)} |" if costed else ""
        lines.append(f"| {s.rank} | {esc(s.model.name)} | {num(s.model.density)} |{plain} {size(s.model.size_bytes)} | "
                     f"{num(s.model.error_rate)} | {count(s.model.params)} | {_bpp(s.model.bits_per_param)} |{worst}"
                     f"{cell} {'★' if s.on_frontier else ''} |")
    lines += ["", _frontier_note(rows, axis)]
    if costed:
        lines += ["", _COSTS_NOTE]
    benched = [s for s in rows if s.model.bench]
    if benched:  # only where present: a manifest without bench: files gets the table above alone
        lines += ["", "Inference benchmarks of the models that list `bench:` files (beside density, never folded "
                  "into it):", "", "| model | figure | value | setup |", "|---|---|---:|---|"]
        lines += [f"| {esc(s.model.name)} | `{b.key}` | {value_text(b)} | {esc(setup_text(b))} |"
                  for s in benched for b in s.model.bench]
    return "\n".join(lines) + "\n"


def render_json(rows: list[Standing], log_base: LogBase, axis: FrontierAxis = SIZE) -> str:
    # against size the document is as before; another axis adds its name and each model's position on it
    return dumps({"unit": log_base.unit, **({} if axis.is_size else {"frontier_axis": axis.key}), "models": [
        {"rank": s.rank, "name": s.model.name, "density": s.model.density, "size_bytes": s.model.size_bytes,
         "error_rate": s.model.error_rate, "params": s.model.params, "bits_per_param": s.model.bits_per_param,
         **({} if axis.is_size else {"frontier_position": s.position}), "on_frontier": s.on_frontier,
         # only for a model with groups (manifest groups:), so leaderboards without them are unchanged
         **({"worst_group": {"name": g.name, "density": g.density, "error_rate": g.error_rate}}
            if (g := s.model.worst_group) is not None else {}),
         # only for a model with costs: (a cost-weighted error counts), as in the measurement report
         **({"plain_error_rate": s.model.plain_error_rate, "plain_density": s.model.plain_density}
            if s.model.plain_density is not None else {}),
         **({"bench": [bench_to_dict(b) for b in s.model.bench]} if s.model.bench else {})}
        for s in rows]})


# -- SVG --------------------------------------------------------------------------------------------

_W, _H, _PAD = 640, 360, 56
_FRONTIER, _OTHER = "#1a7f37", "#8c959f"
_LABEL_ALL = 30     # up to this many models every point is labelled; beyond, the frontier's (all have a tooltip)
HISTORY_LINES = 10  # the history chart draws the highest-ranked models only, one line each
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


_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#24292f;background:#fff}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #d0d7de}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.frontier td{background:#dafbe1}
figure{margin:1.5em 0}figcaption{font-size:90%;color:#57606a}"""


def render_html(rows: list[Standing], log_base: LogBase, history: Sequence[HistoryPoint] = (),
                title: str = "idm-gate leaderboard", axis: FrontierAxis = SIZE) -> str:
    """One self-contained page: the table, the frontier chart and the history chart (inline SVG, no script)."""
    u = log_base.unit
    top = {s.model.name for s in rows[:HISTORY_LINES]}
    grouped, costed = _grouped(rows), _costed(rows)
    body = []
    for s in rows:
        x = s.model
        cls = ' class="frontier"' if s.on_frontier else ""
        where = "" if axis.is_size else \
            f"<td class=n>{html.escape(axis.text(s.position)) if s.position is not None else '—'}</td>"
        body.append(f"<tr{cls}><td class=n>{s.rank}</td><td>{html.escape(x.name)}</td>"
                    f"<td class=n>{num(x.density)}</td>{f'<td class=n>{_plain(x)}</td>' if costed else ''}"
                    f"<td class=n>{html.escape(size(x.size_bytes))}</td>"
                    f"<td class=n>{num(x.error_rate)}</td><td class=n>{count(x.params)}</td>"
                    f"<td class=n>{_bpp(x.bits_per_param)}</td>"
                    f"{f'<td>{html.escape(_worst(x))}</td>' if grouped else ''}{where}"
                    f"<td>{'★ frontier' if s.on_frontier else ''}</td></tr>")
    head_axis = "" if axis.is_size else f"<th>{html.escape(axis.title)}</th>"
    intro = ("Green rows are on the efficiency frontier: no other model is both smaller and more accurate."
             if axis.is_size else html.escape(_frontier_note(rows, axis).replace("★ on", "Green rows are on", 1)))
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
        "</table>", *([f"<p>{html.escape(_COSTS_NOTE.replace('`', ''))}</p>"] if costed else []),
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


# -- badge ------------------------------------------------------------------------------------------

BADGE_COLOURS = {"pass": "#2ea44f", "warn": "#dbab09", "fail": "#cb2431", "unknown": "#6e7781"}


def _text_width(text: str) -> int:
    """Rough width in px of ``text`` at 11 px Verdana (about 6.5 px a character, wider for capitals)."""
    return round(sum(7.5 if ch.isupper() or ch in "mwMW" else 6.2 for ch in text)) + 10


def badge_svg(label: str, value: str, status: str) -> str:
    """A flat two-part badge: grey ``label`` left, ``value`` right on the colour of ``status``
    (``pass``, ``warn``, ``fail`` or ``unknown``), 20 px high, as README badges are."""
    colour = BADGE_COLOURS[status]
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
