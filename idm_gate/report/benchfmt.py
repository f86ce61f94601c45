"""Inference benchmark figures (``bench:``) in the reports: beside density, never folded into it.

Shared by the text report (measure and check) and the Markdown comment (the JSON check report's part is built
by :mod:`idm_gate.checkdoc`); every renderer shows a figure with its unit, its standard error when known, its
setup, and its change against the baseline, or why it has none ("not comparable: threads 8 -> 16").
"""

from __future__ import annotations

from ..data import BenchChange, BenchMetric, BenchResult, ModelMeasurement, ModelVerdict
from .fmt import num, percent, size

_UNIT = {BenchMetric.TOKENS_PER_S: "tokens/s", BenchMetric.LATENCY_P50_MS: "ms", BenchMetric.LATENCY_P95_MS: "ms",
         BenchMetric.ENERGY_PER_TOKEN_J: "J/token"}


def value_text(b: BenchResult, space: str = " ") -> str:
    """``118.9 ± 0.4659 tokens/s``, ``85 ms``, ``1.61 GB``, ``0.12 J/token``."""
    if b.metric is BenchMetric.PEAK_MEMORY_BYTES:
        return size(b.value, space=space) + (f" ± {size(b.stderr, space=space)}" if b.stderr else "")
    se = f" ± {num(b.stderr)}" if b.stderr is not None else ""
    return f"{num(b.value)}{se}{space}{_UNIT[b.metric]}"


def setup_text(b: BenchResult) -> str:
    """What the figure was measured under: ``CUDA, 8 threads, AMD Ryzen 7 7800X3D / RTX 4080``; "" if unstated."""
    parts = [b.backend or "", f"{b.threads} threads" if b.threads is not None else "",
             f"batch {b.batch}" if b.batch is not None else "", b.hardware or ""]
    return ", ".join(p for p in parts if p)


def change_text(c: BenchChange, space: str = " ") -> str:
    """``▼ 25.0 %`` when comparable; else why not (``not comparable: threads 8 -> 16``, ``new``)."""
    if c.comparable and c.delta_rel is not None:
        arrow = "▲" if c.delta_rel > 0 else ("▼" if c.delta_rel < 0 else "=")
        return f"{arrow} {percent(c.delta_rel, space=space)}"
    if c.current is not None and c.baseline is not None:
        return f"not comparable: {c.why}"
    return c.why or "no baseline"


def measure_lines(x: ModelMeasurement) -> list[str]:
    """The ``measure`` text report's lines for one model's figures (none without ``bench:``)."""
    if not x.bench:
        return []
    out = [f"  inference benchmarks ({len(x.bench)} figure(s), beside density, not part of it):"]
    for b in x.bench:
        setup = setup_text(b)
        out.append(f"    {b.key}: {value_text(b)}" + (f"  [{setup}]" if setup else "") + f"  ({b.source})")
    return out


def check_lines(v: ModelVerdict) -> list[str]:
    """The ``check`` text report's lines: each figure, baseline -> PR, with its change."""
    out = []
    for c in v.bench:
        if c.current is not None and c.baseline is not None:
            out.append(f"  bench    {c.key}: {value_text(c.baseline)} -> {value_text(c.current)}  ({change_text(c)})")
        elif c.current is not None:
            out.append(f"  bench    {c.key}: {value_text(c.current)}" + (f"  ({c.why})" if c.why else ""))
        elif c.baseline is not None:
            out.append(f"  bench    {c.key}: {value_text(c.baseline)} at the baseline  ({change_text(c)})")
    return out


def markdown_section(v: ModelVerdict, r: object = None) -> list[str]:
    """A model's figures in its folded details of the PR comment: a table, or nothing without ``bench:``."""
    from .fmt import NBSP
    from .markdown import esc

    if not v.bench:
        return []
    out = ["Inference benchmarks (beside density, not part of it):", "",
           "| figure | baseline | PR | change | setup |", "|---|---:|---:|---:|---|"]
    for c in v.bench:
        shown = c.current or c.baseline
        assert shown is not None
        base = value_text(c.baseline, NBSP) if c.baseline else "—"
        cur = value_text(c.current, NBSP) if c.current else "—"
        out.append(f"| {esc(c.key)} | {base} | {cur} | {esc(change_text(c, NBSP))} | {esc(setup_text(shown)) or '—'} |")
    return out
