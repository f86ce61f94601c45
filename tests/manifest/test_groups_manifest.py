"""Manifest groups: (domains) through the CLI: what measure reports for each group, and every mistake
as one line with exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parents[1] / "data"
LM_EVAL = DATA / "evals" / "lm-eval" / "results_2025-03-14T09-26-53.118402.json"
LIGHTEVAL = DATA / "evals" / "lighteval" / "results_2024-01-04T13-27-32.660899.json"
SCORES = {"gsm8k": 0.60, "math_hard": 0.40, "humaneval": 0.50, "mbpp": 0.50, "mmlu": 0.50}


def measure(tmp_path: Path, doc: dict, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "idm.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return subprocess.run([sys.executable, "-m", "idm_gate", "measure", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)


def one_model(groups=None, scores=None, top=None, **extra) -> dict:
    m = {"name": "bonsai", "size_bytes": 10**9, "evals": [{"scores": scores or SCORES}], **extra}
    if groups is not None:
        m["groups"] = groups
    doc = {"version": 1, "models": [m]}
    if top is not None:
        doc["groups"] = top
    return doc


def one_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == "" and "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_measure_reports_each_group_and_the_worst(tmp_path):
    # errors: gsm8k 0.4, math_hard 0.6 -> math Pe 0.5, D = ln 2 = 0.6931; humaneval 0.5, mbpp 0.5 and mmlu 0.5
    # make code Pe 0.5 too; overlap: reasoning = gsm8k + mmlu, Pe 0.45, D = -ln 0.45 = 0.7985 (size 1 GB)
    p = measure(tmp_path, one_model(
        {"math": ["gsm8k", "math_*"], "code": ["humaneval", "mbpp"], "reasoning": ["gsm8k", "mmlu"]},
        scores={**SCORES, "mbpp": 0.30}))
    assert p.returncode == 0, p.stderr
    # code: humaneval 0.5, mbpp 0.7 -> Pe 0.6, D = -ln 0.6 = 0.5108: the worst
    assert "  groups (3; worst: code, density 0.5108 nats/GB):\n" in p.stdout
    assert "    math           2  0.5                    0.6931\n" in p.stdout
    assert "    code           2  0.6                    0.5108  worst\n" in p.stdout
    assert "    reasoning      2  0.45                   0.7985\n" in p.stdout
    doc = json.loads(measure(tmp_path, one_model({"math": ["gsm8k", "math_*"]}), "-f", "json").stdout)
    g = doc["models"][0]["groups"]
    assert [(x["name"], x["tasks"], x["error_rate"]) for x in g] == [("math", ["gsm8k", "math_hard"],
                                                                      pytest.approx(0.5))]
    md = measure(tmp_path, one_model({"math": ["gsm8k", "math_*"], "code": ["humaneval", "mbpp"]},
                                     scores={**SCORES, "mbpp": 0.30}), "-f", "markdown").stdout
    assert "Groups (worst: **code**):" in md
    assert "| math | gsm8k, math\\_hard | 0.5 | 0.6931 |\n| code | humaneval, mbpp | 0.6 | **0.5108** |" in md


def test_without_groups_the_reports_are_as_before(tmp_path):
    p = measure(tmp_path, one_model(), "-f", "json")
    assert "groups" not in json.loads(p.stdout)["models"][0]
    assert "groups" not in measure(tmp_path, one_model()).stdout


def test_groups_over_a_real_lm_eval_file_by_its_task_names(tmp_path):
    shutil.copy(LM_EVAL, tmp_path / LM_EVAL.name)
    doc = {"version": 1, "models": [{"name": "llama", "size_bytes": 2 * 10**9, "evals": [{"path": LM_EVAL.name}],
                                     "groups": {"knowledge": ["mmlu", "truthfulqa_*"], "math": ["gsm8k"]}}]}
    p = measure(tmp_path, doc, "-f", "json")
    assert p.returncode == 0, p.stderr
    know = json.loads(p.stdout)["models"][0]["groups"][0]
    # the file's mmlu acc,none 0.557114 (its aggregate counts once, as "mmlu") and truthfulqa_mc2 acc,none
    # 0.422555: errors 0.442886 and 0.577445, Pe = 0.510165; D = -ln(0.510165) / 2 GB = 0.336510
    # sd(Pe) = sqrt(0.5^2 * 0.003955^2 + 0.5^2 * 0.014267^2) = 0.0074027; sd(D) = 0.0074027 / (0.510165 * 2)
    # = 0.0072552
    assert know["tasks"] == ["mmlu", "truthfulqa_mc2"]
    assert know["error_rate"] == pytest.approx(0.510165, rel=1e-5)
    assert know["density"] == pytest.approx(0.336510, rel=1e-5)
    assert know["error_stderr"] == pytest.approx(0.0074027, rel=1e-4)
    assert know["density_stderr"] == pytest.approx(0.0072552, rel=1e-4)
    # the subjects are inside the mmlu aggregate, not counted tasks: a glob over them matches nothing, and
    # the message lists what is counted
    doc["models"][0]["groups"] = {"stem": ["mmlu_abstract_*"]}
    assert one_error(measure(tmp_path, doc)) == (
        "idm-gate: error: idm.yaml: models[0].groups.stem: 'mmlu_abstract_*' matches none of the model's tasks; "
        "tasks counted: arc_challenge, gsm8k, hellaswag, mmlu, truthfulqa_mc2, winogrande (model 'llama')")


def test_lighteval_names_and_globs(tmp_path):
    shutil.copy(LIGHTEVAL, tmp_path / LIGHTEVAL.name)
    doc = {"version": 1, "models": [{"name": "lv", "size_bytes": 10**9, "evals": [{"path": LIGHTEVAL.name}],
                                     "groups": {"arc": ["harness|arc:*"], "mmlu": ["harness|hendrycksTest|5"]}}]}
    p = measure(tmp_path, doc, "-f", "json")
    assert p.returncode == 0, p.stderr
    got = {g["name"]: g["tasks"] for g in json.loads(p.stdout)["models"][0]["groups"]}
    assert got == {"arc": ["harness|arc:challenge|25"], "mmlu": ["harness|hendrycksTest|5"]}


def test_a_top_level_group_applies_to_the_models_that_count_its_tasks(tmp_path):
    doc = {"version": 1, "groups": {"math": ["gsm8k", "math_hard"]}, "models": [
        {"name": "llm", "size_bytes": 10**9, "evals": [{"scores": SCORES}]},
        {"name": "classifier", "size_bytes": 10**9, "evals": [{"scores": {"sst2": 0.9}}]},
        {"name": "own", "size_bytes": 10**9, "evals": [{"scores": SCORES}], "groups": {"code": ["humaneval"]}}]}
    p = measure(tmp_path, doc, "-f", "json")
    assert p.returncode == 0, p.stderr
    got = {m["name"]: [g["name"] for g in m.get("groups", [])] for m in json.loads(p.stdout)["models"]}
    assert got == {"llm": ["math"], "classifier": [], "own": ["code"]}  # a model's own groups replace the top's
    # a model that counts gsm8k but not math_hard would give "math" another meaning: an error
    doc["models"][1]["evals"] = [{"scores": {"sst2": 0.9, "gsm8k": 0.5}}]
    assert one_error(measure(tmp_path, doc)) == (
        "idm-gate: error: idm.yaml: groups.math: 'math_hard' is not a task of this model (it applies because the "
        "model counts other tasks of the group); tasks counted: sst2, gsm8k (models[1], model 'classifier')")


def test_a_top_level_group_no_model_counts_is_a_typo_not_a_domain(tmp_path):
    # 'gsm8kk' matches nothing in any model that uses the top-level groups: the group would vanish from every
    # report without a word (each model leaves out a top-level group it counts none of), so it is an error
    doc = {"version": 1, "groups": {"math": ["gsm8kk"], "code": ["humaneval"]}, "models": [
        {"name": "llm", "size_bytes": 10**9, "evals": [{"scores": SCORES}]},
        {"name": "classifier", "size_bytes": 10**9, "evals": [{"scores": {"sst2": 0.9}}]}]}
    assert one_error(measure(tmp_path, doc)) == (
        "idm-gate: error: idm.yaml: groups.math: no model counts any of its tasks (gsm8kk); did you mean 'gsm8k'? "
        "tasks counted: gsm8k, math_hard, humaneval, mbpp, mmlu, sst2")
    # a shard that holds every model checks it too; one that holds some cannot tell (another shard's model
    # may count the tasks), so 1 of 2 passes here
    shard = [sys.executable, "-m", "idm_gate", "measure", "--shard"]
    p = subprocess.run([*shard, "1/1"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "groups.math: no model counts" in p.stderr
    parts = [subprocess.run([*shard, f"{k}/2"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
             for k in (1, 2)]
    assert [x.returncode for x in parts] == [0, 0], [x.stderr for x in parts]
    doc["groups"]["math"] = ["gsm8k"]
    assert measure(tmp_path, doc).returncode == 0


@pytest.mark.parametrize(("groups", "want"), [
    ({"code": ["humaneval", "humaneva1"]},
     "models[0].groups.code: 'humaneva1' is not a task of this model; did you mean 'humaneval'? tasks counted: "
     "gsm8k, math_hard, humaneval, mbpp, mmlu (model 'bonsai')"),
    ({"code": ["mbpp", "apps_*"]},
     "models[0].groups.code: 'apps_*' matches none of the model's tasks; tasks counted: gsm8k, math_hard, "
     "humaneval, mbpp, mmlu (model 'bonsai')"),
    ({"code": []}, "models[0].groups.code: must not be empty (line {key}, model 'bonsai')"),
    ({}, "models[0].groups: must not be empty (line {line}, model 'bonsai')"),
    ({"code": ["mbpp", "mbpp"]}, "models[0].groups.code: lists the same entry twice; list each once "
                                 "(line {key}, model 'bonsai')"),
    ({"co\x01de": ["mbpp"]}, "models[0].groups: a group name contains control characters; use printable text "
                             "(line {key}, model 'bonsai')"),
    ({"x" * 201: ["mbpp"]}, "models[0].groups: a group name of 201 characters ('" + "x" * 56 + "...); use 1 to "
                            "200 characters (line {line}, model 'bonsai')"),
    (["mbpp"], "models[0].groups: expected a mapping, got [\"mbpp\"] (line {line}, model 'bonsai')"),
])
def test_each_group_mistake_is_one_line_and_exit_2(tmp_path, groups, want):
    p = measure(tmp_path, one_model(groups))
    # the YAML line of the model's groups: (and of the group's key, on the next line) as safe_dump wrote it
    line = next(i for i, x in enumerate((tmp_path / "idm.yaml").read_text().splitlines(), 1)
                if x.startswith("  groups:"))
    want = want.replace("{line}", str(line)).replace("{key}", str(line + 1))
    assert one_error(p) == f"idm-gate: error: idm.yaml: {want}"


def test_a_task_in_two_groups_is_allowed(tmp_path):
    p = measure(tmp_path, one_model({"math": ["gsm8k"], "reasoning": ["gsm8k", "mmlu"]}), "-f", "json")
    assert p.returncode == 0, p.stderr
    assert [g["tasks"] for g in json.loads(p.stdout)["models"][0]["groups"]] == [["gsm8k"], ["gsm8k", "mmlu"]]


def test_a_perfect_group_needs_min_error_as_a_perfect_model_does(tmp_path):
    scores = {**SCORES, "humaneval": 1.0}
    assert one_error(measure(tmp_path, one_model({"code": ["humaneval"]}, scores=scores))) == (
        "idm-gate: error: idm.yaml: models[0].groups.code: the mean error rate is 0, so -log(error) is infinite; "
        "set min_error (e.g. 0.001) to clamp it (model 'bonsai')")
    # with min_error 0.001: D = -ln(0.001) / 1 GB = 6.907755
    p = measure(tmp_path, one_model({"code": ["humaneval"]}, scores=scores, min_error=0.001), "-f", "json")
    g = json.loads(p.stdout)["models"][0]["groups"][0]
    assert g["min_error_applied"] is True and g["density"] == pytest.approx(6.907755, rel=1e-6)
