"""Domains (manifest groups:): resolving task names and globs, each group's density, and the gate's
per-group rules. Pure functions, no git; the CLI paths are in tests/manifest and tests/gate."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idm_gate import groups, metric
from idm_gate.checkdoc import check_to_dict
from idm_gate.compare import budget_breaches, compare
from idm_gate.data import LogBase, Measurement, ModelMeasurement, Policy, TaskScore, Verdict
from idm_gate.policy import in_unit, tighten
from idm_gate.report.check_markdown import render_markdown
from idm_gate.report.text import render_check as render_text
from idm_gate.serialize import measurement_from_dict, measurement_to_dict

TASKS = ["gsm8k", "math_hard", "humaneval", "mbpp", "mmlu"]


def test_exact_names_and_globs_resolve_in_the_models_order():
    got = groups.resolve({"math": ["math_*", "gsm8k"], "code": ["humaneval", "mb?p"]}, TASKS)
    assert got == {"math": ("gsm8k", "math_hard"), "code": ("humaneval", "mbpp")}


def test_a_task_may_be_in_two_groups_and_a_glob_and_a_name_count_it_once():
    got = groups.resolve({"math": ["gsm8k", "math_hard"], "reasoning": ["gsm8k", "g*", "mmlu"]}, TASKS)
    assert got == {"math": ("gsm8k", "math_hard"), "reasoning": ("gsm8k", "mmlu")}


def test_an_entry_that_is_a_tasks_name_is_that_task_even_with_glob_characters():
    # lighteval names hold '|' and ':'; a name with '[' would be a character class as a glob
    tasks = ["leaderboard|mmlu:[a]|5", "leaderboard|mmlu:a|5", "harness|arc:challenge|25"]
    assert groups.resolve({"g": ["leaderboard|mmlu:[a]|5"]}, tasks) == {"g": ("leaderboard|mmlu:[a]|5",)}
    assert groups.resolve({"arc": ["harness|arc:*"]}, tasks) == {"arc": ("harness|arc:challenge|25",)}


def test_globs_are_case_sensitive_as_task_names_are():
    with pytest.raises(groups.GroupError, match="'GSM\\*' matches none of the model's tasks"):
        groups.resolve({"math": ["GSM*"]}, TASKS)


def test_a_missing_task_is_an_error_naming_the_group_the_entry_and_a_close_name():
    with pytest.raises(groups.GroupError) as e:
        groups.resolve({"code": ["humaneval", "humaneva1"]}, TASKS)
    assert e.value.group == "code"
    assert str(e.value) == ("'humaneva1' is not a task of this model; did you mean 'humaneval'? tasks counted: "
                            "gsm8k, math_hard, humaneval, mbpp, mmlu")


def test_a_top_level_group_skips_a_model_with_none_of_its_tasks_but_not_one_with_some():
    defined = {"math": ["gsm8k", "math_*"], "vision": ["vqa*", "coco"]}
    assert groups.resolve(defined, TASKS, top_level=True) == {"math": ("gsm8k", "math_hard")}
    with pytest.raises(groups.GroupError, match="'coco' is not a task of this model \\(it applies because"):
        groups.resolve({"vision": ["mmlu", "coco"]}, TASKS, top_level=True)


def ts(name, error, stderr=None):
    return TaskScore(name, "acc", 1 - error, error, stderr, "inline")


def test_group_density_is_minus_log_of_the_groups_mean_error_over_the_whole_size():
    # math = gsm8k (error 0.05) and math_hard (0.15): Pe = 0.10; size 2 GB: D = -ln(0.1) / 2 = 1.151293
    g = groups.measure_group("math", [ts("gsm8k", 0.05, 0.01), ts("math_hard", 0.15)], None, None, 2 * 10**9, LogBase.E)
    assert g.tasks == ("gsm8k", "math_hard") and g.error_rate == pytest.approx(0.10)
    assert g.density == pytest.approx(1.151293, rel=1e-6)
    # sd(Pe) = sqrt((1/2)^2 * 0.01^2) = 0.005 (one task has a standard error); sd(D) = 0.005 / (0.1 * 2) = 0.025
    assert (g.error_stderr, g.tasks_with_stderr) == (pytest.approx(0.005), 1)
    assert g.density_stderr == pytest.approx(0.025)
    # in bits: -log2(0.1) / 2 = 3.321928 / 2 = 1.660964
    assert groups.measure_group("m", [ts("a", 0.05), ts("b", 0.15)], None, None, 2 * 10**9, LogBase.TWO).density == \
        pytest.approx(1.660964, rel=1e-6)


def test_group_error_uses_the_models_weights_and_min_error():
    # weights gsm8k 3, math_hard 1: Pe = (3 * 0.05 + 0.15) / 4 = 0.075; D = -ln(0.075) / 1 = 2.590267
    g = groups.measure_group("math", [ts("gsm8k", 0.05), ts("math_hard", 0.15)], {"gsm8k": 3, "mmlu": 5}, None,
                             10**9, LogBase.E)
    assert g.error_rate == pytest.approx(0.075) and g.density == pytest.approx(2.590267, rel=1e-6)
    # a perfect group: Pe = 0 is clamped to min_error 0.001 (D = -ln(0.001) = 6.907755) ...
    g = groups.measure_group("code", [ts("humaneval", 0.0)], None, 0.001, 10**9, LogBase.E)
    assert (g.raw_error_rate, g.error_rate, g.min_error_applied) == (0.0, 0.001, True)
    assert g.density == pytest.approx(6.907755, rel=1e-6)
    # ... and without min_error it is the metric's own error, which says how to fix it
    with pytest.raises(metric.MetricError, match="set min_error"):
        groups.measure_group("code", [ts("humaneval", 0.0)], None, None, 10**9, LogBase.E)


def model(errors: dict, size=10**9, defined=None, log_base=LogBase.E, stderr=None):
    tasks = tuple(ts(k, e, stderr) for k, e in errors.items())
    agg = metric.aggregate_error([t.error for t in tasks], [t.stderr for t in tasks])
    members = groups.resolve(defined or {}, list(errors))
    by = {t.task: t for t in tasks}
    return ModelMeasurement(
        name="bonsai", size_bytes=size, size_source="declared", params=None, bits_per_param=None,
        error_rate=agg.error_rate, raw_error_rate=agg.raw_error_rate, error_stderr=agg.error_stderr,
        tasks_with_stderr=agg.tasks_with_stderr, density=metric.density(agg.error_rate, size, log_base),
        density_stderr=metric.density_stderr(agg.error_rate, agg.error_stderr, size, log_base), log_base=log_base,
        tasks=tasks, groups=tuple(groups.measure_group(n, [by[t] for t in ts_], None, None, size, log_base)
                                  for n, ts_ in members.items()))


DOMAINS = {"math": ["gsm8k", "math_hard"], "code": ["humaneval", "mbpp"]}
# errors 0.4, 0.6 | 0.5, 0.5 | 0.5: Pe = 0.5 overall, math 0.5, code 0.5; at 1 GB every D = ln 2 = 0.693147
BASE = {"gsm8k": 0.40, "math_hard": 0.60, "humaneval": 0.50, "mbpp": 0.50, "mmlu": 0.50}
# math gets much better (0.05, 0.15: Pe 0.1), code collapses (0.6, 0.6: Pe 0.6), mmlu 0.3:
# overall Pe = (0.05 + 0.15 + 0.6 + 0.6 + 0.3) / 5 = 0.34, D = -ln 0.34 = 1.078810 (+55.6 %)
# code D = -ln 0.6 = 0.510826: (0.510826 - 0.693147) / 0.693147 = -26.3 %
COLLAPSE = {"gsm8k": 0.05, "math_hard": 0.15, "humaneval": 0.60, "mbpp": 0.60, "mmlu": 0.30}


def one(cur, base, policy=None):
    return compare(Measurement("idm.yaml", "0" * 64, LogBase.E, (cur,)),
                   None if base is None else Measurement("idm.yaml", "0" * 64, LogBase.E, (base,)),
                   {"bonsai": policy or Policy()}).models[0]


def test_better_on_average_but_collapsed_in_one_domain_fails_naming_it():
    v = one(model(COLLAPSE, defined=DOMAINS), model(BASE, defined=DOMAINS))
    assert v.delta_rel == pytest.approx(0.556393, rel=1e-5)
    assert v.verdict is Verdict.FAIL
    assert v.reasons == ("group code: density down 26.3 %, over max_drop 5.0 %",)
    code = next(c for c in v.groups if c.name == "code")
    assert code.delta_rel == pytest.approx(-0.263034, rel=1e-5) and code.compared_tasks == ("humaneval", "mbpp")
    math_ = next(c for c in v.groups if c.name == "math")
    # math: -ln(0.1) / -ln(0.5) - 1 = 2.302585 / 0.693147 - 1 = +232.2 %
    assert math_.delta_rel == pytest.approx(2.321928, rel=1e-5)
    assert v.current is not None and v.current.worst_group is not None and v.current.worst_group.name == "code"


def test_the_group_rule_is_the_models_max_drop_warn_drop_and_significance():
    # warn_drop 2 %, max_drop 30 %: code's 26.3 % drop only warns
    v = one(model(COLLAPSE, defined=DOMAINS), model(BASE, defined=DOMAINS), Policy(max_drop=0.30, warn_drop=0.02))
    assert v.verdict is Verdict.WARN and v.reasons == ("group code: density down 26.3 %, over warn_drop 2.0 %",)
    # standard error 0.1 on every task: code's sd(Pe) = sqrt(2 * (0.5 * 0.1)^2) = 0.070711 on both sides;
    # sd(D) = 0.070711 / 0.6 = 0.117851 (PR), 0.070711 / 0.5 = 0.141421 (base); combined 0.184089, and the
    # drop 0.182322 <= 1.96 x 0.184089: within noise, a warning
    v = one(model(COLLAPSE, defined=DOMAINS, stderr=0.1), model(BASE, defined=DOMAINS, stderr=0.1))
    assert v.verdict is Verdict.WARN
    assert v.reasons == ("group code: density down 26.3 % (over max_drop 5.0 %) but within noise: 0.182 <= "
                         "1.96 x 0.184 combined standard error",)


def test_min_group_density_holds_every_group_new_models_included():
    # new model: code D = 0.510826 < 0.6 fails; math D = 2.302585 passes
    v = one(model(COLLAPSE, defined=DOMAINS), None, Policy(min_group_density=0.6))
    assert v.verdict is Verdict.FAIL
    assert v.reasons[0] == "group code: density 0.5108 nats/GB is below min_group_density 0.6"
    assert budget_breaches(model(COLLAPSE, defined=DOMAINS), Policy(min_group_density=0.6), LogBase.E) == \
        ["group code: density 0.5108 nats/GB is below min_group_density 0.6"]
    assert one(model(COLLAPSE, defined=DOMAINS), None, Policy(min_group_density=0.5)).verdict is Verdict.PASS


def test_a_group_whose_tasks_changed_warns_and_is_compared_on_the_tasks_both_hold():
    # the PR moves mbpp out of code: code is compared on humaneval alone (0.5 -> 0.6: -ln .6 / -ln .5 - 1 = -26.3 %)
    v = one(model(COLLAPSE, defined={"code": ["humaneval"]}), model(BASE, defined={"code": ["humaneval", "mbpp"]}))
    assert v.verdict is Verdict.FAIL
    assert v.reasons == ("group code: its tasks changed (left: mbpp); compared on the 1 task(s) both versions hold",
                         "group code: density down 26.3 %, over max_drop 5.0 %")
    assert v.groups[0].compared_tasks == ("humaneval",)


def test_a_group_the_pr_drops_warns_and_a_new_group_is_only_reported():
    v = one(model(BASE, defined={"math": ["gsm8k"]}), model(BASE, defined={"code": ["humaneval"]}))
    assert v.verdict is Verdict.WARN
    assert v.reasons == ("group code is in the baseline but not in the PR's groups: that domain is no longer "
                         "compared (if it was renamed, its baseline is not followed)",)
    assert [(c.name, c.why) for c in v.groups] == [("math", "new group"), ("code", "not in the PR's groups")]


def test_without_groups_nothing_changes():
    v = one(model(COLLAPSE), model(BASE))
    assert v.verdict is Verdict.PASS and v.groups == ()
    assert "groups" not in check_to_dict(compare(Measurement("idm.yaml", "0" * 64, LogBase.E, (model(COLLAPSE),)),
                                                 None, {})).get("models")[0]


def test_min_group_density_tightens_and_converts_like_min_density():
    assert tighten(Policy(min_group_density=0.5), Policy(min_group_density=0.4)).min_group_density == 0.5
    assert tighten(Policy(min_group_density=0.5), Policy(min_group_density=0.7)).min_group_density == 0.7
    # 0.5 nats/GB = 0.5 / ln 2 = 0.721348 bits/GB
    assert in_unit(Policy(min_group_density=0.5), LogBase.E, LogBase.TWO).min_group_density == pytest.approx(0.721348, rel=1e-6)


def test_reports_show_each_group_baseline_to_pr_and_the_worst():
    res = compare(Measurement("idm.yaml", "0" * 64, LogBase.E, (model(COLLAPSE, defined=DOMAINS),)),
                  Measurement("idm.yaml", "0" * 64, LogBase.E, (model(BASE, defined=DOMAINS),)), {})
    text = render_text(res)
    assert "  group    math: 0.6931 -> 2.303 nats/GB  (▲ +232.2 %)\n" in text
    assert "  group    code: 0.6931 -> 0.5108 nats/GB  (▼ -26.3 %)  (worst group)\n" in text
    doc = check_to_dict(res)["models"][0]
    assert doc["worst_group"] == "code"
    assert [(g["name"], g["compared_tasks"], round(g["delta_rel"], 6)) for g in doc["groups"]] == [
        ("math", ["gsm8k", "math_hard"], 2.321928), ("code", ["humaneval", "mbpp"], -0.263034)]
    md = render_markdown(res)
    assert "Worst group: **code**, 0.5108\u00a0nats/GB (▼\u00a0-26.3\u00a0%)." in md
    assert "| code | humaneval, mbpp | 0.6931 | **0.5108** | ▼\u00a0-26.3\u00a0% |" in md
    # a failure from a group: the size that passes is the group's (code keeps 95 % of ln 2 at
    # -ln(0.6) / (0.95 * 0.693147) = 0.775753 GB), and no single error rate can be named
    assert "To pass (group code: a drop of at most 5.0\u00a0%): at most 775\u00a0MB at this error rate." in md


def test_a_reports_groups_are_recomputed_when_read_back():
    m = Measurement("idm.yaml", "0" * 64, LogBase.E, (model(COLLAPSE, defined=DOMAINS),))
    doc = measurement_to_dict(m)
    assert measurement_from_dict(doc, "r.json").models[0].groups == m.models[0].groups
    doc["models"][0]["groups"][1]["density"] = 0.9  # a hand-edited report hiding the collapse
    with pytest.raises(Exception, match=r"r.json: models\[0\].groups\[1\]: density does not follow from its tasks"):
        measurement_from_dict(doc, "r.json")
    doc["models"][0]["groups"][1].update(density=0.510826, tasks=["humaneval", "cobol"])
    with pytest.raises(Exception, match="lists 'cobol', not a task of the model"):
        measurement_from_dict(doc, "r.json")


def test_bounds_in_bits_scale_with_log_base():
    # sanity of the unit: a 2 GB model's group in bits is its nats figure / ln 2
    nats = model(COLLAPSE, size=2 * 10**9, defined=DOMAINS).groups[1].density
    bits = model(COLLAPSE, size=2 * 10**9, defined=DOMAINS, log_base=LogBase.TWO).groups[1].density
    assert bits == pytest.approx(nats / math.log(2))


@settings(max_examples=200, deadline=None)
@given(errors=st.lists(st.floats(0.001, 0.999), min_size=2, max_size=12),
       weights=st.lists(st.floats(0.1, 10.0), min_size=12, max_size=12),
       cut=st.integers(1, 11), size=st.integers(10**6, 10**11), log_base=st.sampled_from(list(LogBase)))
def test_when_groups_partition_the_tasks_the_models_density_lies_between_theirs(errors, weights, cut, size,
                                                                                log_base):
    # Pe is the (weighted) mean of the group means, weighted by each group's total weight, so it lies between
    # them; -log(Pe) / size falls as Pe rises, so D lies between the groups' densities: the worst group is
    # never better than the model.
    cut = min(cut, len(errors) - 1)
    tasks = [ts(f"t{i}", e) for i, e in enumerate(errors)]
    w = {f"t{i}": weights[i] for i in range(len(errors))}
    a = groups.measure_group("a", tasks[:cut], w, None, size, log_base)
    b = groups.measure_group("b", tasks[cut:], w, None, size, log_base)
    whole = groups.measure_group("all", tasks, w, None, size, log_base)
    lo, hi = sorted((a.density, b.density))
    assert lo * (1 - 1e-9) - 1e-12 <= whole.density <= hi * (1 + 1e-9) + 1e-12
