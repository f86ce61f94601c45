"""Error costs in every report: the cost-weighted figures that count, and the plain ones beside them.

The case: a fraud screen on 1,000 transactions (100 fraud, 900 legit), 50 MB, where a missed fraud costs
20 and a false alarm 1. The PR makes fewer mistakes in all but misses more fraud:

                 fraud->legit (missed)  legit->fraud (alarm)  plain error     cost-weighted error
    baseline             20                    60             80/1000 = 0.08   (20x20 + 60x1) / (1000x20) = 0.023
    PR                   40                    20             60/1000 = 0.06   (40x20 + 20x1) / (1000x20) = 0.041

Densities (size 0.05 GB): cost-weighted -ln(0.023)/0.05 = 3.772261/0.05 = 75.4452 -> -ln(0.041)/0.05 =
3.194183/0.05 = 63.8837 (-15.3 %); plain -ln(0.08)/0.05 = 2.525729/0.05 = 50.5146 -> -ln(0.06)/0.05 =
2.813411/0.05 = 56.2682 (+11.4 %). Significance: sd(D) base 0.00443177/(0.023 x 0.05) = 3.8537, PR
0.00619737/(0.041 x 0.05) = 3.0231 (test_confusion.py shows the standard error's arithmetic); combined
4.8980, x 1.96 = 9.600 < the 11.56 drop: it fails, beyond noise. The confusion matrices are written by
pandas (crosstab(...).to_csv()), measured by the product's own measure and compared by compare.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import checkcases as cc
from idm_gate.checkdoc import check_to_dict
from idm_gate.data import Verdict
from idm_gate.report.check_markdown import Provenance, render_markdown
from idm_gate.report.markdown import render_measurement as measure_markdown
from idm_gate.report.text import render_check as render_text
from idm_gate.report.text import render_measurement as measure_text

NB = "\u00a0"
COSTS = {"fraud": {"fraud": 0, "legit": 20}, "legit": {"fraud": 1, "legit": 0}}


def write_matrix(path: Path, missed: int, alarms: int) -> None:
    y_true = ["fraud"] * 100 + ["legit"] * 900
    y_pred = (["legit"] * missed + ["fraud"] * (100 - missed) + ["fraud"] * alarms + ["legit"] * (900 - alarms))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.crosstab(pd.Series(y_true, name="true"), pd.Series(y_pred, name="predicted")).to_csv(path)


def fraud_case(tmp: Path, pr_costs: dict | None = None) -> cc.CheckResult:
    base, pr = cc.sides(tmp)
    for side, (missed, alarms), costs in ((base, (20, 60), COSTS), (pr, (40, 20), pr_costs or COSTS)):
        write_matrix(side.folder / "evals" / "fraud-screen.csv", missed, alarms)
        side.models.append({"name": "fraud-screen", "size_bytes": 50_000_000,
                            "evals": [{"path": "evals/fraud-screen.csv", "task": "fraud", "costs": costs}]})
        side.add("acme-lm-1b", {"arc_easy": 0.72}, size_bytes=2_000_000_000)
    return cc.run(base, pr)


def test_the_pr_comment_shows_both_numbers_and_fails_on_the_cost_weighted_one(tmp_path, golden):
    res = fraud_case(tmp_path)
    v = next(m for m in res.models if m.name == "fraud-screen")
    assert v.verdict is Verdict.FAIL and res.verdict is Verdict.FAIL
    assert v.base.density == pytest.approx(75.4452, rel=1e-5) and v.cur.density == pytest.approx(63.8837, rel=1e-5)
    assert v.current.plain_density == pytest.approx(56.2682, rel=1e-5)
    assert v.baseline.plain_density == pytest.approx(50.5146, rel=1e-5)
    assert "density down 15.3 %, over max_drop 5.0 %" in v.reasons
    md = render_markdown(res, Provenance("https://github.com", "acme/models", cc.PR_HEAD_SHA))
    golden("comment-costs.md", md)
    seen = cc.Seen(cc.to_html(md))
    row = next(r for r in seen.cells if len(r) == 8 and r[1] == "fraud-screen")
    assert row[2:4] == [f"75.45{NB}→ 63.88", f"▼{NB}-15.3{NB}%"] and row[5] == f"0.023{NB}→ 0.041"
    assert (f"Error costs (a departure from the published metric): density and error rate count the cost-weighted "
            f"error of fraud; without costs, error rate 0.08{NB}→ 0.06, density 50.51{NB}→ 56.27{NB}nats/GB.") \
        in seen.all_text
    costs_table = seen.cells[seen.cells.index(["task", "costs", "plain error, baseline", "plain error, PR",
                                               "cost-weighted, baseline", "cost-weighted, PR"]) + 1]
    assert costs_table == ["fraud", "matrix fraud>legit=20, legit>fraud=1", "0.08", "0.06", "0.023", "0.041"]


def test_check_text_and_json_carry_the_plain_figures(tmp_path):
    res = fraud_case(tmp_path)
    text = render_text(res)
    block = text.split("fraud-screen: FAIL [changed]\n")[1].split("\n\n")[0]
    assert "  density  75.45 -> 63.88 nats/GB  (▼ -15.3 %)" in block
    assert "  error    0.023 -> 0.041" in block
    assert ("  plain    error rate 0.08 -> 0.06, density 50.51 -> 56.27 nats/GB (without costs; the density and "
            "error above are cost-weighted, a departure from the published metric)") in block
    assert "plain" not in text.split("acme-lm-1b")[1]  # a model without costs: nothing about them
    doc = check_to_dict(res)
    m = next(x for x in doc["models"] if x["name"] == "fraud-screen")
    assert (m["current"]["error_rate"], m["current"]["plain_error_rate"]) == (pytest.approx(0.041, abs=1e-15), 0.06)
    assert m["baseline"]["plain_density"] == pytest.approx(50.5146, rel=1e-5)
    other = next(x for x in doc["models"] if x["name"] == "acme-lm-1b")
    assert "plain_error_rate" not in other["current"]


def test_changed_costs_warn_and_the_comment_shows_both_costs(tmp_path):
    res = fraud_case(tmp_path, pr_costs={"fraud": {"fraud": 0, "legit": 5}, "legit": {"fraud": 1, "legit": 0}})
    v = next(m for m in res.models if m.name == "fraud-screen")
    assert v.metric_changed == ("fraud",)
    assert any(r.startswith("costs changed for fraud (matrix fraud>legit=20, legit>fraud=1 -> matrix fraud>legit=5, "
                            "legit>fraud=1); the PR's counts cannot be weighed with the base's costs here, so the task "
                            "is compared on the plain error rate") for r in v.reasons)
    # costs are policy: the task stays in the comparison on its plain error, (20 + 60) / 1000 = 0.08 -> (40 + 20) /
    # 1000 = 0.06; density -ln(0.08) / 0.05 GB = 50.51 -> -ln(0.06) / 0.05 GB = 56.27 nats/GB, no standard error
    assert (v.base.error_rate, v.cur.error_rate) == (pytest.approx(0.08), pytest.approx(0.06))
    assert (v.base.density, v.cur.density) == (pytest.approx(50.5146, rel=1e-5), pytest.approx(56.2682, rel=1e-5))
    assert v.cur.density_stderr is None and v.verdict is Verdict.WARN and v.plain_compared == ("fraud",)
    m = next(x for x in check_to_dict(res)["models"] if x["name"] == "fraud-screen")
    assert (m["plain_compared"], m["density_failed"]) == (["fraud"], False)  # a warning, not a failure
    # the PR's costs, largest 5: (40 x 5 + 20 x 1) / (1000 x 5) = 220 / 5000 = 0.044
    seen = cc.Seen(cc.to_html(render_markdown(res)))
    assert (f"Error costs (a departure from the published metric): the PR changed the costs of fraud, compared on the "
            f"plain error; without costs, error rate 0.08{NB}→ 0.06, density 50.51{NB}→ 56.27{NB}nats/GB.") \
        in seen.all_text
    assert ["fraud", f"matrix fraud>legit=20, legit>fraud=1{NB}→ matrix fraud>legit=5, legit>fraud=1", "0.08",
            "0.06", "0.023", "0.044"] in seen.cells


def test_measure_reports_show_the_plain_figures(tmp_path):
    write_matrix(tmp_path / "evals" / "fraud-screen.csv", 20, 60)
    (tmp_path / "idm.yaml").write_text(json.dumps({"version": 1, "models": [
        {"name": "fraud-screen", "size_bytes": 50_000_000,
         "evals": [{"path": "evals/fraud-screen.csv", "task": "fraud", "costs": COSTS}]},
        {"name": "other", "size_bytes": 50_000_000, "evals": [{"scores": {"arc": 0.5}}]}]}))
    r = subprocess.run([sys.executable, "-m", "idm_gate", "measure"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^fraud-screen .* 0\.023 ± 0\.004432  75\.45 ± 3\.854$", r.stdout, re.M), r.stdout
    assert ("  error costs (a departure from the published metric): error rate and density above count the "
            "cost-weighted error; plain error rate 0.08, plain density 50.51 nats/GB") in r.stdout
    assert "  fraud  accuracy   0.92   0.08          0.023  0.004432  evals/fraud-screen.csv\n" in r.stdout
    assert "    fraud: costs matrix fraud>legit=20, legit>fraud=1\n" in r.stdout

    from idm_gate.manifest import load_manifest
    from idm_gate.measure import measure

    m = measure(load_manifest(tmp_path / "idm.yaml", "idm.yaml"), tmp_path)
    assert measure_text(m) == r.stdout
    seen = cc.Seen(cc.to_html(measure_markdown(m)))
    assert seen.cells[0][-2:] == ["plain error rate", "plain density"]
    assert seen.cells[1][-4:] == ["0.023 ± 0.004432", "75.45 ± 3.854", "0.08", "50.51"]
    assert seen.cells[2][-2:] == ["=", "="]  # no costs: the plain figures are the ones to the left
    assert ["fraud", "accuracy", "0.92", "0.08", "0.023", "0.004432", "matrix fraud>legit=20, legit>fraud=1",
            "evals/fraud-screen.csv"] in seen.cells


def test_the_leaderboard_shows_the_plain_density_beside_only_where_costs_apply():
    from idm_gate.data import LogBase
    from idm_gate.manifest import load_manifest
    from idm_gate.measure import measure
    from idm_gate.report.html import render_leaderboard as render_html
    from idm_gate.report.json import render_leaderboard as render_json
    from idm_gate.report.leaderboard import standings
    from idm_gate.report.markdown import render_leaderboard as render_markdown

    example = Path(__file__).resolve().parents[2] / "examples" / "model-repo"
    rows = standings(measure(load_manifest(example / "idm.yaml", "idm.yaml"), example))
    # fraud-screen ranks first on its cost-weighted density, -ln(0.01425) / 17,504e-9 = 242,858.7; its plain
    # density -ln(0.057) / 17,504e-9 = 163,660.0 stands beside it (tests/project/test_example_repo.py)
    seen = cc.Seen(cc.to_html(render_markdown(rows, LogBase.E)))
    assert seen.cells[0][:4] == ["rank", "model", "density (nats/GB)", "plain density"]
    assert seen.cells[1][:4] == ["1", "fraud-screen", "242,859", "163,660"]
    assert [r[3] for r in seen.cells[2:5]] == ["=", "=", "="]  # no costs: their density is the plain one
    assert "the plain density is beside it" in seen.all_text
    doc = json.loads(render_json(rows, LogBase.E))
    fraud = doc["models"][0]
    assert fraud["name"] == "fraud-screen" and fraud["plain_density"] == pytest.approx(163_660.0, rel=1e-6)
    assert all("plain_density" not in m for m in doc["models"][1:])
    page = render_html(rows, LogBase.E)
    assert "<th>plain density</th>" in page and "<td class=n>163,660</td>" in page
