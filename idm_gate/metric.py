"""Intelligence density, the pure math. No I/O.

The published definition (PrismML, 1-bit Bonsai models): ``D = -ln(Pe) / size_GB`` where ``Pe`` is the
model's average error rate over its benchmarks (``1 - mean score``, scores as fractions) and
``size_GB = bytes / 1e9``. Their later whitepaper uses ``log2`` ("bits per GB"); ``log_base`` selects.
It is the log of the *mean* error, never a mean of per-task logs.

Departure (opt-in): per-task ``weights`` give a weighted mean error.

Departure (opt-in): a classification task with ``costs:`` counts its cost-weighted error
(:func:`cost_weighted_error`) in ``Pe`` instead of its plain error rate.

Uncertainty: with independent per-task standard errors ``s_i`` and weights ``w_i`` (``W = sum w``),
``sd(Pe) = sqrt(sum((w_i / W)^2 s_i^2))`` over the tasks that carry one, and by the delta method
``sd(D) = sd(Pe) / (Pe * size_GB * ln(base))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from .data import BYTES_PER_GB, LogBase

if TYPE_CHECKING:  # built only by a check (decompose): measure does not create the class
    from .verdicts import Decomposition


class MetricError(ValueError):
    """A value the formula cannot take; the caller turns it into an InputError naming the model."""


# A NamedTuple, not a frozen dataclass: as immutable, and its class is made about 7x faster at import
# (0.08 vs 0.53 ms on Python 3.11), which every run's start-up pays (benchmarks/bench_measure.py).
class ErrorAggregate(NamedTuple):
    error_rate: float              # Pe actually used (after any min_error clamp)
    raw_error_rate: float          # Pe before clamping
    error_stderr: float | None     # sd(Pe), None when no task carried a stderr
    tasks_with_stderr: int
    clamped: bool


def aggregate_error(
    errors: Sequence[float],
    stderrs: Sequence[float | None],
    weights: Sequence[float] | None = None,
    min_error: float | None = None,
) -> ErrorAggregate:
    """Mean error (weighted when ``weights`` is given) and its propagated standard error."""
    if not errors:
        raise MetricError("no tasks to average")
    w = list(weights) if weights is not None else [1.0] * len(errors)
    if len(w) != len(errors) or len(stderrs) != len(errors):
        raise MetricError("errors, stderrs and weights differ in length")
    for e in errors:
        if not math.isfinite(e):
            raise MetricError(f"an error rate is not a finite number ({e})")
        if not 0.0 <= e <= 1.0:
            raise MetricError(f"an error rate is outside [0, 1] ({e})")
    for x in w:
        if not math.isfinite(x) or x <= 0:
            raise MetricError(f"a task weight must be a positive number, not {x}")
    top = max(w)
    w = [x / top for x in w]  # weights are relative: rescaled so their sum cannot overflow
    total = math.fsum(w)
    pe = math.fsum(wi * ei for wi, ei in zip(w, errors, strict=True)) / total
    var, n_se = 0.0, 0
    for wi, si in zip(w, stderrs, strict=True):
        if si is None or not math.isfinite(si):
            continue
        n_se += 1
        var += (wi / total) ** 2 * si * si
    sd = math.sqrt(var) if n_se else None
    clamped = False
    used = pe
    if pe <= 0.0:
        if min_error is None:
            raise MetricError(
                "the mean error rate is 0, so -log(error) is infinite; set min_error (e.g. 0.001) "
                "to clamp it"
            )
        used, clamped = min_error, True
    elif min_error is not None and pe < min_error:
        used, clamped = min_error, True
    return ErrorAggregate(used, pe, sd, n_se, clamped)


def cost_weighted_error(mistakes: Sequence[tuple[int, float]], total: int,
                        max_cost: float) -> tuple[float, float | None]:
    """A classifier's cost-weighted error fraction and its standard error.

    ``mistakes`` holds ``(count, cost)`` for each kind of mistake: the samples of true class ``i``
    predicted as ``j != i`` with the cost ``C[i][j]`` of that mistake (a cost matrix), or the samples
    of true class ``i`` predicted as any other class with the weight ``w[i]`` (per-class weights).
    ``total`` is the number of samples N, correct ones included; ``max_cost`` the largest cost declared
    (over the whole matrix or every class, not only the mistakes that occurred).

    ``Pe_cost = sum(count * cost) / (N * max_cost)``: each sample's loss is its mistake's cost over
    the largest cost (0 when correct), and ``Pe_cost`` is the mean loss, a fraction in [0, 1]. Costs
    are relative (scaling them all changes nothing), and when every mistake costs the same ``Pe_cost``
    is exactly the plain error rate ``sum(count) / N``. Its standard error is the sample standard
    deviation of the losses over ``sqrt(N)`` (the convention lm-evaluation-harness uses for accuracy),
    None when ``N`` is 1.

    Raises :class:`MetricError` for no samples, a negative or non-finite count or cost, a count
    larger than ``total`` in all, or a ``max_cost`` that is not positive.
    """
    if total <= 0:
        raise MetricError("no samples to compute an error rate from")
    if not (math.isfinite(max_cost) and max_cost > 0):
        raise MetricError(f"the largest cost must be positive, not {max_cost}")
    wrong = 0
    s1 = s2 = 0.0
    for count, cost in mistakes:
        if count < 0 or not math.isfinite(cost) or not 0 <= cost <= max_cost:
            raise MetricError(f"a mistake count must be >= 0 and its cost in [0, {max_cost}], not {count}, {cost}")
        wrong += count
        loss = cost / max_cost
        s1 += count * loss
        s2 += count * loss * loss
    if wrong > total:
        raise MetricError(f"{wrong} mistakes among {total} samples")
    mean = s1 / total
    if total == 1:
        return mean, None
    var = max(0.0, (s2 - total * mean * mean) / (total - 1))
    return mean, math.sqrt(var / total)


def density(error_rate: float, size_bytes: int, log_base: LogBase = LogBase.E) -> float:
    """``-log_base(Pe) / size_GB``. Pe >= 1 gives a density <= 0 (the caller warns)."""
    if size_bytes <= 0:
        raise MetricError(f"size must be positive, not {size_bytes} bytes")
    if not (math.isfinite(error_rate) and 0.0 < error_rate):
        raise MetricError(f"error rate must be in (0, 1], not {error_rate}")
    return -math.log(error_rate) / log_base.factor / (size_bytes / BYTES_PER_GB)


def density_stderr(error_rate: float, error_stderr: float | None, size_bytes: int,
                   log_base: LogBase = LogBase.E) -> float | None:
    """Delta-method standard error of the density; None when the error rate has none, or when it is
    not finite (an error rate so close to 0 that the quotient overflows: no usable uncertainty)."""
    if error_stderr is None:
        return None
    # divided step by step: the product of a tiny error rate and a tiny size can underflow to 0
    sd = error_stderr / error_rate / (size_bytes / BYTES_PER_GB) / log_base.factor
    return sd if math.isfinite(sd) else None


def decompose(pe_old: float, bytes_old: int, pe_new: float, bytes_new: int,
              log_base: LogBase = LogBase.E) -> Decomposition | None:
    """Split a density change into its accuracy part and its size part.

    Undefined (None) when either error rate is >= 1 (``-ln Pe <= 0`` has no logarithm).
    """
    if pe_old >= 1.0 or pe_new >= 1.0:
        return None
    acc = math.log(-math.log(pe_new)) - math.log(-math.log(pe_old))
    size = -(math.log(bytes_new) - math.log(bytes_old))
    d_old = density(pe_old, bytes_old, log_base)
    be = (-math.log(pe_new) / log_base.factor) / d_old * BYTES_PER_GB if d_old > 0 else None
    from .verdicts import Decomposition

    return Decomposition(acc + size, acc, size, be)
