"""Costs are policy: a PR that changes an eval entry's ``costs:`` is gated under the base commit's costs.

The reviewer's case: the bundled fraud-screen classifier (examples/model-repo), its confusion matrix written by
pandas, the base costing a missed fraud 20 false alarms. The PR lets 500 of 1000 frauds through and lowers that
cost to 19; compared under its own costs the model would be "not comparable" and pass.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gitrepo import make_repo

BASE_COSTS = {"fraud": {"fraud": 0, "legit": 20}, "legit": {"fraud": 1, "legit": 0}}
PR_COSTS = {"fraud": {"fraud": 0, "legit": 19}, "legit": {"fraud": 1, "legit": 0}}


def matrix_csv(missed: int, alarms: int) -> str:
    """1000 frauds and 9000 legitimate transactions: ``missed`` frauds predicted legit, ``alarms`` legit ones
    predicted fraud, as pd.crosstab of series named true and predicted writes it (rows true, columns predicted)."""
    y_true = ["fraud"] * 1000 + ["legit"] * 9000
    y_pred = ["legit"] * missed + ["fraud"] * (1000 - missed) + ["fraud"] * alarms + ["legit"] * (9000 - alarms)
    return pd.crosstab(pd.Series(y_true, name="true"), pd.Series(y_pred, name="predicted")).to_csv()


def manifest(costs: dict) -> dict:
    return {"version": 1, "models": [{
        "name": "fraud-screen", "size_bytes": 50_000_000,
        "evals": [{"path": "evals/fraud-screen.csv", "task": "fraud_holdout", "costs": costs}]}]}


@pytest.fixture
def pr(tmp_path):
    """A recorded base (120 missed, 450 alarms, base costs) and a PR commit: 500 missed, costs loosened."""
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE_COSTS), "evals/fraud-screen.csv": matrix_csv(120, 450)})
    assert matrix_csv(120, 450) == "true,fraud,legit\nfraud,880,120\nlegit,450,8550\n"  # the example's file
    res = r.idm("record")
    assert res.returncode == 0, res.stderr
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest(PR_COSTS))
    r.write("evals/fraud-screen.csv", matrix_csv(500, 450))
    r.commit("loosen the cost of a missed fraud")
    return r


def test_a_pr_cannot_escape_the_gate_by_changing_its_costs(pr):
    res = pr.idm("check", "--base-ref", "origin/main", "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    (m,) = doc["models"]
    assert m["verdict"] == "fail"
    # Under the base's costs (largest 20): baseline (120 x 20 + 450 x 1) / (10000 x 20) = 2850 / 200000 = 0.01425;
    # the PR (500 x 20 + 450 x 1) / 200000 = 10450 / 200000 = 0.05225 (under its own costs 9950 / 190000 = 0.0524).
    # Density -ln(0.01425) / 0.05 GB = 4.250998 / 0.05 = 85.020 -> -ln(0.05225) / 0.05 GB = 2.951715 / 0.05 = 59.034
    # nats/GB: (2.951715 - 4.250998) / 4.250998 = -0.305642, down 30.6 %.
    assert m["baseline"]["error_rate"] == pytest.approx(0.01425, abs=1e-12)
    assert m["current"]["error_rate"] == pytest.approx(0.05225, abs=1e-12)
    assert m["current"]["plain_error_rate"] == pytest.approx(0.095, abs=1e-12)  # 950 / 10000
    assert m["delta"]["density_rel"] == pytest.approx(-0.305642, abs=1e-6)
    assert "density down 30.6 %, over max_drop 5.0 %" in m["reasons"]
    notice = ("idm.yaml: models[0].evals[0].costs: this PR changes the costs of task fraud_holdout (matrix "
              "fraud>legit=20, legit>fraud=1 -> matrix fraud>legit=19, legit>fraud=1); costs are policy, so the gate "
              "weighs the PR's counts with the base commit's costs; the new costs take effect once merged")
    assert notice in doc["notices"]


def test_a_report_without_counts_is_gated_on_the_plain_error(pr):
    """A measured report (measure --format json) keeps no per-class counts to weigh again: the task is compared
    on its plain error rate on both sides rather than left out of the comparison."""
    measured = pr.idm("measure", "--format", "json")
    assert measured.returncode == 0, measured.stderr
    (pr.path.parent / "report.json").write_text(measured.stdout)
    res = pr.idm("check", "--base-ref", "origin/main", "--report", str(pr.path.parent / "report.json"))
    assert res.returncode == 1, res.stdout + res.stderr
    # plain error 570 / 10000 = 0.057 -> 950 / 10000 = 0.095; density -ln(0.057) / 0.05 = 57.29 -> -ln(0.095) / 0.05
    # = 47.08 nats/GB: down 17.8 %, and with no standard error for a plain error there is no noise allowance
    assert "density down 17.8 %, over max_drop 5.0 %" in res.stdout
    assert ("costs changed for fraud_holdout (matrix fraud>legit=20, legit>fraud=1 -> matrix fraud>legit=19, "
            "legit>fraud=1); the PR's counts cannot be weighed with the base's costs here") in res.stdout


def test_costs_that_do_not_fit_the_prs_classes_fall_back_to_the_plain_error(tmp_path):
    """The PR adds a class the base's cost matrix lacks: its counts cannot be weighed with the base's costs,
    so check warns and compares the task on its plain error rate instead of refusing or skipping it."""
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE_COSTS), "evals/fraud-screen.csv": matrix_csv(120, 450)})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    three = {"fraud": {"fraud": 0, "legit": 20, "review": 2}, "legit": {"fraud": 1, "legit": 0, "review": 1},
             "review": {"fraud": 1, "legit": 1, "review": 0}}
    r.write("idm.yaml", manifest(three))
    y_true = ["fraud"] * 1000 + ["legit"] * 9000 + ["review"] * 1000
    y_pred = ["legit"] * 120 + ["fraud"] * 880 + ["fraud"] * 450 + ["legit"] * 8550 + ["review"] * 1000
    r.write("evals/fraud-screen.csv",
            pd.crosstab(pd.Series(y_true, name="true"), pd.Series(y_pred, name="predicted")).to_csv())
    r.commit("a third class")
    res = r.idm("check", "--base-ref", "origin/main")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "its counts do not fit the base commit's costs" in res.stderr
    assert "lacks class 'review'" in res.stderr
    # plain error 570 / 10000 = 0.057 -> 570 / 11000 = 0.0518182; density -ln(0.057) / 0.05 = 57.29 ->
    # -ln(0.0518182) / 0.05 = 59.20 nats/GB, up 3.3 %: a warning for the changed costs, not a failure
    assert "fraud-screen: WARN" in res.stdout and "  density  57.29 -> 59.2 nats/GB  (▲ +3.3 %)" in res.stdout
    assert "the task is compared on the plain error rate" in res.stdout
    # the explanation speaks of accuracy, not of a cost-weighted error: the compared error is the plain one
    assert "Same size (50.0 MB) at higher accuracy (error rate 0.057 → 0.05182)." in res.stdout
    assert ("(without costs; the density above compares fraud_holdout on the plain error, since the PR changed the "
            "costs;") in res.stdout
