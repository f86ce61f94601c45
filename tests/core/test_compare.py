"""compare() and the policy rules: pure functions, no git."""

from __future__ import annotations

import math

import pytest

from idm_gate import metric
from idm_gate.compare import compare
from idm_gate.data import LogBase, Measurement, ModelMeasurement, ModelStatus, Policy, TaskScore, Verdict
from idm_gate.policy import tighten


def model(name="m", errors=(0.3, 0.4), size=10**9, stderr=None, metric_name="acc", log_base=LogBase.E):
    tasks = tuple(TaskScore(f"t{i}", metric_name, 1 - e, e, stderr, "inline") for i, e in enumerate(errors))
    agg = metric.aggregate_error([t.error for t in tasks], [t.stderr for t in tasks])
    return ModelMeasurement(
        name=name, size_bytes=size, size_source="declared", params=None, bits_per_param=None,
        error_rate=agg.error_rate, raw_error_rate=agg.raw_error_rate, error_stderr=agg.error_stderr,
        tasks_with_stderr=agg.tasks_with_stderr, density=metric.density(agg.error_rate, size, log_base),
        density_stderr=metric.density_stderr(agg.error_rate, agg.error_stderr, size, log_base),
        log_base=log_base, tasks=tasks)


def meas(*models, log_base=LogBase.E):
    return Measurement("idm.yaml", "0" * 64, log_base, tuple(models))


_DEFAULT_POLICY = Policy()


def one(cur, base, policy=_DEFAULT_POLICY):
    return compare(meas(cur), meas(base), {cur.name: policy}).models[0]


def test_default_max_drop_is_five_percent():
    base = model()
    assert one(model(size=int(1.04e9)), base).verdict is Verdict.PASS
    v = one(model(size=int(1.06e9)), base)
    assert v.verdict is Verdict.FAIL and v.delta_rel == pytest.approx(1 / 1.06 - 1)


def test_warn_drop():
    v = one(model(size=int(1.03e9)), model(), Policy(warn_drop=0.02))
    assert v.verdict is Verdict.WARN and "over warn_drop 2.0 %" in v.reasons[0]


def test_within_noise_warns_and_significance_off_fails():
    base, cur = model(stderr=0.05), model(size=int(1.10e9), stderr=0.05)
    v = one(cur, base)
    assert v.verdict is Verdict.WARN and v.within_noise and "within noise" in v.reasons[0]
    assert one(cur, base, Policy(significance=False)).verdict is Verdict.FAIL
    # a drop far beyond the noise fails even with significance on
    assert one(model(size=int(3e9), stderr=0.001), model(stderr=0.001)).verdict is Verdict.FAIL


def test_comparability_uses_common_tasks_and_names_the_rest():
    base = model(errors=(0.3, 0.4))
    cur = model(errors=(0.3,))
    v = one(cur, base)
    assert v.missing_in_pr == ("t1",) and "t1 missing in the PR" in v.reasons[0]
    assert v.base.error_rate == pytest.approx(0.3) and v.delta_rel == pytest.approx(0.0)
    other_metric = model(metric_name="acc_norm")
    v = one(other_metric, base)
    assert v.metric_changed == ("t0", "t1") and v.verdict is Verdict.WARN and v.delta is None


def test_absolute_budgets_apply_to_new_models():
    res = compare(meas(model("new", size=5 * 10**9)), meas(model("old")),
                  {"new": Policy(max_size_gb=4.0)})
    by = {v.name: v for v in res.models}
    assert by["new"].status is ModelStatus.NEW and by["new"].verdict is Verdict.FAIL
    assert "over max_size_gb 4" in by["new"].reasons[0]
    assert by["old"].status is ModelStatus.REMOVED and res.verdict is Verdict.FAIL


def test_decomposition_and_break_even():
    base, cur = model(size=10**9), model(errors=(0.25, 0.35), size=2 * 10**9)
    d = one(cur, base).decomposition
    assert d.size == pytest.approx(-math.log(2))
    assert d.accuracy == pytest.approx(math.log(-math.log(0.3) / -math.log(0.35)))
    assert d.break_even_bytes == pytest.approx(-math.log(0.3) / (-math.log(0.35) / 1.0) * 1e9)


def test_log_base_mismatch_is_recomputed():
    res = compare(meas(model(log_base=LogBase.TWO), log_base=LogBase.TWO), meas(model()), {})
    assert res.models[0].delta_rel == pytest.approx(0.0)
    assert any("recomputed" in n for n in res.notices)


@pytest.mark.parametrize("base,extra,want", [
    (Policy(max_drop=0.05), Policy(max_drop=0.5), Policy(max_drop=0.05)),       # cannot loosen
    (Policy(max_drop=0.05), Policy(max_drop=0.01), Policy(max_drop=0.01)),      # can tighten
    (Policy(), Policy(warn_drop=0.02), Policy(warn_drop=0.02)),                 # fills in
    (Policy(min_density=1.0), Policy(min_density=0.5), Policy(min_density=1.0)),
    (Policy(max_size_gb=4), Policy(max_size_gb=8), Policy(max_size_gb=4)),
    (Policy(significance=False), Policy(significance=True), Policy(significance=False)),
    (Policy(significance=True), Policy(significance=False), Policy(significance=False)),
    (Policy(z=1.96), Policy(z=3.0), Policy(z=1.96)),
])
def test_tighten_never_loosens(base, extra, want):
    assert tighten(base, extra) == want
