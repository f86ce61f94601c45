"""Domains (groups:) through record and check: the CLI in a subprocess, real git repositories, a bare origin.

The numbers, for a 1 GB model (so D = -ln Pe), scores as fractions:

- baseline: gsm8k 0.60, math_hard 0.40 (math Pe = (0.4 + 0.6) / 2 = 0.5), humaneval 0.50, mbpp 0.50
  (code Pe 0.5), mmlu 0.50: overall Pe = 0.5, and every density is ln 2 = 0.6931 nats/GB;
- the PR: gsm8k 0.95, math_hard 0.85 (math Pe 0.10, D 2.303), humaneval 0.40, mbpp 0.40 (code Pe 0.60,
  D = -ln 0.6 = 0.5108), mmlu 0.70: overall Pe = (0.05 + 0.15 + 0.6 + 0.6 + 0.3) / 5 = 0.34,
  D = -ln 0.34 = 1.079, up 55.6 %; but code is down (0.5108 - 0.6931) / 0.6931 = -26.3 %.
"""

from __future__ import annotations

import json

import pytest

from gitrepo import make_repo

BASE = {"gsm8k": 0.60, "math_hard": 0.40, "humaneval": 0.50, "mbpp": 0.50, "mmlu": 0.50}
PR = {"gsm8k": 0.95, "math_hard": 0.85, "humaneval": 0.40, "mbpp": 0.40, "mmlu": 0.70}
DOMAINS = {"math": ["gsm8k", "math_*"], "code": ["humaneval", "mbpp"]}


def manifest(scores: dict, gate: dict | None = None, groups: dict | None = DOMAINS) -> dict:
    doc: dict = {"version": 1, "gate": gate or {"max_drop": "5%"}}
    if groups is not None:
        doc["groups"] = groups
    doc["models"] = [{"name": "bonsai", "size_bytes": 10**9, "evals": [{"scores": scores}]}]
    return doc


def check_schema():
    import jsonschema
    from referencing import Registry, Resource

    from idm_gate.manifest import schema

    reg = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in (schema("report"), schema("check")))
    return jsonschema.Draft202012Validator(schema("check"), registry=reg)


def recorded(tmp_path, **kw):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, **kw)})
    res = r.idm("record")
    assert res.returncode == 0, res.stderr
    r.git("checkout", "-q", "-b", "pr")
    return r


def check(r, *extra):
    return r.idm("check", "--base-ref", "origin/main", *extra)


def test_better_on_average_but_collapsed_in_one_domain_fails_with_the_group_named(tmp_path):
    r = recorded(tmp_path)
    r.write("idm.yaml", manifest(PR))
    r.commit("better on average")
    res = check(r)
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "bonsai: FAIL [changed]" in res.stdout
    assert "  density  0.6931 -> 1.079 nats/GB  (▲ +55.6 %)" in res.stdout
    assert "  group    math: 0.6931 -> 2.303 nats/GB  (▲ +232.2 %)" in res.stdout
    assert "  group    code: 0.6931 -> 0.5108 nats/GB  (▼ -26.3 %)  (worst group)" in res.stdout
    assert "  - group code: density down 26.3 %, over max_drop 5.0 %" in res.stdout
    doc = json.loads(check(r, "--format", "json").stdout)
    check_schema().validate(doc)  # the published schema of the check report holds groups and worst_group
    m = doc["models"][0]
    assert doc["verdict"] == "fail" and m["worst_group"] == "code"
    code = next(g for g in m["groups"] if g["name"] == "code")
    assert code["delta_rel"] == pytest.approx(-0.263034, rel=1e-5)
    assert code["baseline"]["density"] == pytest.approx(0.693147, rel=1e-6)  # from the stored baseline record
    md = check(r, "--format", "markdown").stdout
    assert "**❌ bonsai**: group code&#58; density down 26.3\u00a0%, over max\\_drop 5.0\u00a0%" in md
    assert "| code | humaneval, mbpp | 0.6931 | **0.5108** | ▼\u00a0-26.3\u00a0% |" in md


def test_min_group_density_comes_from_the_base_and_flags_only_tighten(tmp_path):
    # the base's budget: every group at least 0.6 nats/GB; the PR's code group has 0.5108
    r = recorded(tmp_path, gate={"max_drop": "90%", "min_group_density": 0.6})
    r.write("idm.yaml", manifest(PR, gate={"max_drop": "90%", "min_group_density": 0.1}))  # loosened in the PR
    r.commit("the PR loosens its own budget")
    res = check(r)
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "  - group code: density 0.5108 nats/GB is below min_group_density 0.6" in res.stdout
    assert "changes the gate policy of bonsai" in res.stdout
    # a looser flag is ignored with a warning; a stricter one (3 > math's 2.303) fails math too
    res = check(r, "--min-group-density", "0.2")
    assert res.returncode == 1
    assert "--min-group-density 0.2 was ignored for every model" in res.stderr
    res = check(r, "--min-group-density", "3")
    assert "  - group math: density 2.303 nats/GB is below min_group_density 3" in res.stdout
    res = check(r, "--min-group-density", "big")
    assert res.returncode == 2
    assert res.stderr == "idm-gate: error: --min-group-density: 'big' is not valid; write a finite number such as 0.5\n"


def test_dropping_the_groups_in_the_pr_warns_per_group(tmp_path):
    r = recorded(tmp_path)
    r.write("idm.yaml", manifest(PR, groups=None))
    r.commit("no more domains")
    res = check(r)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert "bonsai: WARN [changed]" in res.stdout
    assert ("  - group code is in the baseline but not in the PR's groups: that domain is no longer compared (if it "
            "was renamed, its baseline is not followed)") in res.stdout
    doc = json.loads(check(r, "--format", "json").stdout)
    check_schema().validate(doc)
    m = doc["models"][0]
    assert "worst_group" not in m  # the PR's model has no groups
    assert [(g["name"], g["current"], g["why_not_compared"]) for g in m["groups"]] == [
        ("math", None, "not in the PR's groups"), ("code", None, "not in the PR's groups")]


def test_a_group_whose_tasks_change_warns_and_still_compares(tmp_path):
    # the PR takes mbpp out of code; code is compared on humaneval: 0.5 -> 0.6 error, -26.3 %: still a fail
    r = recorded(tmp_path)
    r.write("idm.yaml", manifest(PR, groups={"math": ["gsm8k", "math_*"], "code": ["humaneval"]}))
    r.commit("move mbpp")
    res = check(r)
    assert res.returncode == 1
    assert ("  - group code: its tasks changed (left: mbpp); compared on the 1 task(s) both versions hold"
            in res.stdout)
    assert "  - group code: density down 26.3 %, over max_drop 5.0 %" in res.stdout


def test_measure_enforce_budgets_checks_min_group_density(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(PR, gate={"min_group_density": 0.6})})
    res = r.idm("measure", "--enforce-budgets")
    assert res.returncode == 1
    assert "bonsai: group code: density 0.5108 nats/GB is below min_group_density 0.6 (gate: in idm.yaml)" \
        in res.stderr


def test_a_report_whose_group_density_was_edited_is_refused(tmp_path):
    # check --report gates a report measured elsewhere (a sharded run, a CI artifact): its group figures must
    # follow from its tasks, as its density must, or an edited report could hide a collapsed domain
    r = recorded(tmp_path)
    r.write("idm.yaml", manifest(PR))
    r.commit("better on average")
    res = r.idm("measure", "-f", "json", "-o", "report.json")
    assert res.returncode == 0, res.stderr
    doc = json.loads((r.path / "report.json").read_text())
    code = doc["models"][0]["groups"][1]
    assert code["name"] == "code" and code["density"] == pytest.approx(0.510826, rel=1e-6)
    code["density"] = 0.7  # above the baseline's 0.6931: the collapse would pass
    (r.path / "report.json").write_text(json.dumps(doc))
    res = check(r, "--report", "report.json")
    assert res.returncode == 2, res.stdout
    assert res.stderr == ("idm-gate: error: --report report.json: models[0].groups[1]: density does not follow from "
                          "its tasks; the report was edited\n")
