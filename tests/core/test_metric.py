"""The published figures, to the digit, and the edge cases the issue defines."""

import json
import math

import pytest

from idm_gate import metric
from idm_gate.data import LogBase


@pytest.mark.parametrize("score,gb,base,published,tol,exact", [
    # Bonsai 8B (PrismML): published 1.06; -ln(0.295)/1.15 = 1.061548 (the "1.0616" is within 1e-4)
    (0.7050, 1.15, LogBase.E, 1.0616, 1e-4, 1.061548),
    (0.7930, 16.38, LogBase.E, 0.0962, 5e-5, 0.096156),    # Qwen3-8B
    (0.7611, 3.9, LogBase.TWO, 0.530, 5e-4, 0.529621),       # log2 convention of the later whitepaper
])
def test_published_reference_values(score, gb, base, published, tol, exact):
    agg = metric.aggregate_error([1 - score], [None])
    d = metric.density(agg.error_rate, int(gb * 1e9), base)
    assert d == pytest.approx(exact, abs=5e-7)
    assert d == pytest.approx(published, abs=tol)  # as rounded in the issue


def test_log_base_sets_the_unit_and_serializes_as_the_manifest_spells_it():
    assert (LogBase.E.factor, LogBase.E.unit, LogBase.E.symbol) == (1.0, "nats/GB", "ln")
    assert (LogBase.TWO.factor, LogBase.TWO.unit, LogBase.TWO.symbol) == (math.log(2), "bits/GB", "log2")
    # 1 nat = 1 / ln 2 = 1.4427 bits: the same model is 1.4427 times denser in bits/GB
    assert metric.density(0.25, 10**9, LogBase.TWO) == pytest.approx(2.0)  # -log2(0.25) / 1 GB
    assert metric.density(0.25, 10**9, LogBase.E) == pytest.approx(math.log(4))  # 1.386 nats/GB
    # reports and outputs keep the values the manifest and the report schema use
    assert (json.dumps([LogBase.E, LogBase.TWO]), f"{LogBase.TWO}") == ('["e", "2"]', "2")
    assert LogBase("2") is LogBase.TWO
    with pytest.raises(ValueError):
        LogBase("10")


def test_log_of_mean_error_not_mean_of_logs():
    agg = metric.aggregate_error([0.1, 0.5], [None, None])
    assert agg.error_rate == pytest.approx(0.3)
    d = metric.density(agg.error_rate, 10**9)
    assert d == pytest.approx(-math.log(0.3))
    assert d != pytest.approx((-math.log(0.1) - math.log(0.5)) / 2)


def test_weighted_mean():
    agg = metric.aggregate_error([0.1, 0.5], [None, None], weights=[3, 1])
    assert agg.error_rate == pytest.approx(0.2)


def test_weighted_stderr_uses_the_weights():
    # sd(Pe) = sqrt(sum((w_i / W)^2 s_i^2)): a heavily weighted noisy task dominates the uncertainty
    agg = metric.aggregate_error([0.1, 0.5], [0.01, 0.02], weights=[3, 1])
    assert agg.error_stderr == pytest.approx(math.sqrt((0.75 * 0.01) ** 2 + (0.25 * 0.02) ** 2))
    assert agg.error_stderr != pytest.approx(math.sqrt(0.01**2 + 0.02**2) / 2)


def test_stderr_propagation_counts_only_tasks_with_one():
    agg = metric.aggregate_error([0.2, 0.4, 0.3], [0.01, None, 0.02])
    assert agg.tasks_with_stderr == 2
    assert agg.error_stderr == pytest.approx(math.sqrt(0.01**2 + 0.02**2) / 3)
    sd = metric.density_stderr(agg.error_rate, agg.error_stderr, 2 * 10**9, LogBase.TWO)
    assert sd == pytest.approx(agg.error_stderr / (agg.error_rate * 2 * math.log(2)))
    assert metric.density_stderr(0.3, None, 10**9) is None


def test_zero_error_needs_min_error():
    with pytest.raises(metric.MetricError, match="min_error"):
        metric.aggregate_error([0.0, 0.0], [None, None])
    agg = metric.aggregate_error([0.0], [None], min_error=0.001)
    assert agg.clamped and agg.error_rate == 0.001 and agg.raw_error_rate == 0.0


def test_all_wrong_gives_zero_density():
    assert metric.density(1.0, 10**9) == 0.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, 1.1])
def test_non_finite_or_out_of_range_error_is_refused(bad):
    with pytest.raises(metric.MetricError):
        metric.aggregate_error([0.2, bad], [None, None])


def test_zero_size_is_refused():
    with pytest.raises(metric.MetricError, match="size"):
        metric.density(0.3, 0)


def test_decomposition_adds_up_and_break_even():
    dec = metric.decompose(0.30, 2 * 10**9, 0.28, 3 * 10**9)
    d_old = metric.density(0.30, 2 * 10**9)
    d_new = metric.density(0.28, 3 * 10**9)
    assert dec.total == pytest.approx(math.log(d_new / d_old))
    assert dec.accuracy + dec.size == pytest.approx(dec.total)
    assert dec.size == pytest.approx(-math.log(1.5))
    # at the break-even size the new error rate gives exactly the old density
    assert metric.density(0.28, int(dec.break_even_bytes)) == pytest.approx(d_old, rel=1e-8)
    assert metric.decompose(1.0, 10**9, 0.3, 10**9) is None
