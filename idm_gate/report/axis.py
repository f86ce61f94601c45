"""What the efficiency frontier is drawn against: size (the default), or an inference figure of ``bench:``.

``--frontier-axis`` (``leaderboard``, ``check``; the action's ``frontier-axis`` input) takes:

- ``size``: the model's size in bytes, as density divides by it;
- ``latency``: its ``latency_p50_ms`` figure (median latency, ms);
- ``memory``: its ``peak_memory_bytes`` figure;
- ``energy``: its ``energy_per_token_j`` figure;
- a figure's full key as the reports print it, for a model with several of one metric:
  ``"latency_p95_ms per_token"``, ``"latency_p50_ms prefill"``, ``"peak_memory_bytes max_ram"``.

Each is lower-is-better, as size is, so the frontier keeps its meaning: no other model is both no higher on
the axis and no more error-prone (``history.pareto_frontier``). Throughput is not an axis: it is
higher-is-better, and its inverse is the latency the benchmark already reports. A model without the
figure is left off the chart (and off the frontier) and counted in a note; a model with two figures the
name fits (``latency`` for a model with prefill and per-token latencies) is an ``InputError`` naming them,
so a chart never silently mixes two measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data import BenchMetric, ModelMeasurement
from ..errors import InputError
from .fmt import num, size

NAMES = {"latency": BenchMetric.LATENCY_P50_MS, "memory": BenchMetric.PEAK_MEMORY_BYTES,
         "energy": BenchMetric.ENERGY_PER_TOKEN_J}
_WORDS = {None: ("smaller", "larger"), BenchMetric.LATENCY_P50_MS: ("faster", "slower"),
          BenchMetric.LATENCY_P95_MS: ("faster", "slower"),
          BenchMetric.PEAK_MEMORY_BYTES: ("less memory", "more memory"),
          BenchMetric.ENERGY_PER_TOKEN_J: ("less energy", "more energy")}
_TITLE = {None: "size", BenchMetric.LATENCY_P50_MS: "latency p50", BenchMetric.LATENCY_P95_MS: "latency p95",
          BenchMetric.PEAK_MEMORY_BYTES: "peak memory", BenchMetric.ENERGY_PER_TOKEN_J: "energy per token"}
VALID = ("size, latency, memory, energy, or a bench figure's key such as 'latency_p95_ms per_token' "
         "(latency_p50_ms, latency_p95_ms, peak_memory_bytes or energy_per_token_j, then its test)")


@dataclass(frozen=True)
class FrontierAxis:
    """One axis: ``metric`` None for size; ``test`` None for "the model's only figure of ``metric``"."""

    spec: str                         # as the user wrote it ("size", "latency", "latency_p95_ms per_token")
    metric: BenchMetric | None = None
    test: str | None = None
    flag: str = "--frontier-axis"     # where the user wrote it, for messages ("input frontier-axis")

    @property
    def is_size(self) -> bool:
        return self.metric is None

    @property
    def title(self) -> str:
        """``size``, ``latency p50``, ``latency p95 (per_token)``: the axis in words."""
        t = _TITLE[self.metric]
        return f"{t} ({self.test})" if self.test else t

    @property
    def words(self) -> tuple[str, str]:
        """The low and the high end in words: ("smaller", "larger"), ("faster", "slower")."""
        return _WORDS[self.metric]

    @property
    def key(self) -> str:
        """``size``, or the bench metric (and test) this axis reads, for JSON."""
        if self.metric is None:
            return "size"
        return f"{self.metric} {self.test}" if self.test else str(self.metric)

    def value(self, m: ModelMeasurement) -> float | None:
        """The model's position on the axis (bytes, ms or J per token); None when it has no such figure."""
        if self.metric is None:
            return float(m.size_bytes)
        found = [b for b in m.bench if b.metric is self.metric and (self.test is None or b.test == self.test)]
        if len(found) > 1:
            keys = ", ".join(repr(b.key) for b in found)
            raise InputError(f"{self.flag} {self.spec}: model {m.name!r} has {len(found)} {self.metric} figures "
                             f"({keys}); name one, e.g. {self.flag} {found[0].key!r}")
        return found[0].value if found else None

    def text(self, v: float) -> str:
        """A position as the reports write it: ``1.2 GB``, ``85 ms``, ``0.31 J/token``."""
        if self.metric is None or self.metric is BenchMetric.PEAK_MEMORY_BYTES:
            return size(v)
        unit = "ms" if self.metric in (BenchMetric.LATENCY_P50_MS, BenchMetric.LATENCY_P95_MS) else "J/token"
        return f"{num(v)} {unit}"


SIZE = FrontierAxis("size")


def parse_axis(spec: str, flag: str = "--frontier-axis") -> FrontierAxis:
    """``--frontier-axis``'s text -> the axis; an ``InputError`` naming the valid values otherwise."""
    s = spec.strip()
    if s == "size":
        return SIZE
    if s in NAMES:
        return FrontierAxis(s, NAMES[s], flag=flag)
    name, _, test = s.partition(" ")
    try:
        metric = BenchMetric(name)
    except ValueError:
        metric = None
    if metric is BenchMetric.TOKENS_PER_S:
        raise InputError(f"{flag}: {spec!r} is not an axis (tokens per second is higher-is-better, and its "
                         f"inverse is a latency); use {VALID}")
    if metric is None:
        raise InputError(f"{flag}: {spec!r} is not valid; use {VALID}")
    return FrontierAxis(s, metric, test.strip() or None, flag=flag)


__all__ = ["NAMES", "SIZE", "FrontierAxis", "parse_axis"]
