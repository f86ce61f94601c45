"""Inference benchmark figures (``bench:``) as words and numbers, for every format that shows them.

Format-neutral helpers only: a figure with its unit and standard error, its setup, its change against
the baseline or why it has none ("not comparable: threads 8 -> 16"). ``space`` is what goes between a
number and its unit (a no-break space in Markdown). The text lines are in :mod:`.text`, the PR
comment's table in :mod:`.check_markdown`, the JSON in :mod:`idm_gate.checkdoc`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..data import BenchMetric, BenchResult
from .fmt import num, percent, size

if TYPE_CHECKING:  # a check's values: measure's report does not create their classes
    from ..verdicts import BenchChange

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
