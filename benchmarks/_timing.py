"""Shared by the benchmarks: the median of repeated runs (robust to a noisy neighbour) and I/O counters."""

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


def proc_io(field: bytes) -> int | None:
    """``field`` (``b"rchar"``, ``b"read_bytes"``) of /proc/self/io, in bytes; None where there is none."""
    try:
        with open("/proc/self/io", "rb") as f:
            for line in f.read().splitlines():
                if line.startswith(field + b":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def io_delta(field: bytes, fn) -> int | None:
    """``field`` of /proc/self/io gained while ``fn`` ran, minus what reading the counter costs."""
    a = proc_io(field)
    if a is None:
        return None
    b = proc_io(field)
    fn()
    c = proc_io(field)
    return (c - b) - (b - a)  # type: ignore[operator]
