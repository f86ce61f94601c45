"""Timing shared by the benchmarks: the median of repeated runs (robust to a noisy neighbour)."""

from __future__ import annotations

import statistics
import time


def median_seconds(fn, repeat: int, before=None) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs; ``before()`` runs untimed ahead of each."""
    times = []
    for _ in range(repeat):
        if before:
            before()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
