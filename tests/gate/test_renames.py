"""previous_names: a renamed model (a requantization renames it) is compared with its old baseline.

End to end: the CLI in a subprocess, a real git repository with a bare origin, `record` on main and
`check` on a PR branch. Densities worked by hand: Pe = mean(1 - score) over the tasks, D = -ln(Pe) / GB.
"""

from __future__ import annotations

import json

import pytest

from gitrepo import make_repo

SCORES = {"arc": 0.70, "gsm8k": 0.60}   # Pe = (0.30 + 0.40) / 2 = 0.35
OLD, NEW = "bonsai-8b-Q4_K_M", "bonsai-8b-Q3_K_M"


def model(name: str, size_bytes: int, **extra) -> dict:
    return {"name": name, "size_bytes": size_bytes, "evals": [{"scores": SCORES}], **extra}


def manifest(*models, gate=None) -> dict:
    m = {"version": 1, "models": list(models)}
    if gate:
        m["gate"] = gate
    return m


def pr(tmp_path, base: dict, head: dict):
    r = make_repo(tmp_path, {"idm.yaml": base})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", head)
    r.commit("requantize")
    return r


def check_json(r) -> tuple[int, dict]:
    p = r.idm("check", "--base-ref", "origin/main", "-f", "json")
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def test_a_declared_rename_is_compared_with_the_old_baseline(tmp_path):
    r = pr(tmp_path, manifest(model(OLD, 2_000_000_000)),
           manifest(model(NEW, 1_600_000_000, previous_names=[OLD])))
    rc, doc = check_json(r)
    assert rc == 0 and doc["verdict"] == "pass"
    [v] = doc["models"]  # one row: not "removed" plus "new"
    assert v["name"] == NEW and v["renamed_from"] == OLD and v["status"] == "changed"
    # same Pe, 2.0 GB -> 1.6 GB: D goes from -ln(0.35)/2.0 = 0.52491 to -ln(0.35)/1.6 = 0.65614, +25 %
    assert v["delta"]["density_rel"] == pytest.approx(2.0 / 1.6 - 1)
    assert v["reasons"][0] == f"renamed from {OLD} (previous_names): compared with {OLD}'s baseline"
    text = r.idm("check", "--base-ref", "origin/main").stdout
    assert f"{NEW}: PASS [changed]" in text and f"renamed from {OLD}" in text
    # the PR comment: one row for the renamed model (no "removed"), and the reason a reviewer reads
    md = r.idm("check", "--base-ref", "origin/main", "-f", "markdown").stdout
    new_md, old_md = (name.replace("_", "\\_") for name in (NEW, OLD))  # Markdown-escaped underscores
    assert f"| ✅ | {new_md} |" in md and "removed" not in md
    assert f"renamed from {old_md} (previous\\_names)" in md


def test_a_renamed_model_that_regresses_still_fails(tmp_path):
    r = pr(tmp_path, manifest(model(OLD, 2_000_000_000)),
           manifest(model(NEW, 2_200_000_000, previous_names=[OLD])))
    rc, doc = check_json(r)
    # 2.0 GB -> 2.2 GB at the same Pe: 2.0/2.2 - 1 = -9.1 %, over the default max_drop of 5 %
    assert rc == 1 and doc["verdict"] == "fail"
    [v] = doc["models"]
    assert v["verdict"] == "fail" and "density down 9.1 %, over max_drop 5.0 %" in v["reasons"]


def test_the_old_names_gate_at_the_base_holds_the_renamed_model(tmp_path):
    # The base holds this model to max_drop 1 %; the global default is 5 %. A 3 % bigger file drops
    # the density by 1 - 1/1.03 = 2.9 %: a fail under the old name's gate, a pass under the default.
    base = manifest(model(OLD, 2_000_000_000, gate={"max_drop": "1%"}))
    head = manifest(model(NEW, 2_060_000_000, previous_names=[OLD]))
    rc, doc = check_json(pr(tmp_path, base, head))
    assert rc == 1
    [v] = doc["models"]
    assert v["policy"]["max_drop"] == pytest.approx(0.01) and "over max_drop 1.0 %" in v["reasons"][1]


def test_without_previous_names_a_rename_is_removed_plus_new(tmp_path):
    rc, doc = check_json(pr(tmp_path, manifest(model(OLD, 2_000_000_000)), manifest(model(NEW, 1_600_000_000))))
    by = {m["name"]: m for m in doc["models"]}
    assert by[OLD]["status"] == "removed" and by[NEW]["status"] == "new" and doc["verdict"] == "warn"
    assert "list this name under the new name's previous_names" in by[OLD]["reasons"][0]


def test_previous_names_unknown_at_the_base_are_said_to_match_nothing(tmp_path):
    head = manifest(model(OLD, 2_000_000_000), model(NEW, 1_000_000_000, previous_names=["bonsai-8b-fp16"]))
    rc, doc = check_json(pr(tmp_path, manifest(model(OLD, 2_000_000_000)), head))
    by = {m["name"]: m for m in doc["models"]}
    assert by[NEW]["status"] == "new" and by[NEW]["renamed_from"] is None
    assert by[NEW]["reasons"][-1] == ("previous_names bonsai-8b-fp16: none is a model at the base commit, so this "
                                      "model is compared with nothing")


def test_a_rename_cannot_turn_a_regression_into_a_pass(tmp_path):
    # The PR makes the strong model bigger (a fail if compared with itself) and tries to have it
    # compared with the weak model's baseline instead, dropping the weak model. Every baseline model
    # is either compared or reported removed, so the best it gets is a warning, as an undeclared
    # rename would, and the report names both.
    strong, weak = model("strong", 1_000_000_000), model("weak", 4_000_000_000)
    head = manifest(model("strong-v2", 1_500_000_000, previous_names=["weak"]))
    rc, doc = check_json(pr(tmp_path, manifest(strong, weak), head))
    by = {m["name"]: m for m in doc["models"]}
    assert by["strong"]["status"] == "removed" and by["strong"]["verdict"] == "warn"
    assert by["strong-v2"]["renamed_from"] == "weak"
    assert doc["verdict"] == "warn" and rc == 0


BAD = [
    ("own name", manifest(model(NEW, 1, previous_names=[NEW])),
     f"idm.yaml: models[0].previous_names[0]: '{NEW}' is this model's own name; list only names it had before "
     f"(line 10, model '{NEW}')"),
    ("a current model's name", manifest(model(OLD, 1), model(NEW, 1, previous_names=[OLD])),
     f"idm.yaml: models[1].previous_names[0]: '{OLD}' is the name of models[0], which is still in the manifest; "
     f"a previous name must be one no model has now (line 14, model '{NEW}')"),
    # the two models share one scores mapping, which PyYAML writes once with an anchor (&id001) and then
    # as an alias: model b's previous_names start on line 15 and its second entry is on line 17
    ("claimed twice", manifest(model("a", 1, previous_names=[OLD]), model("b", 1, previous_names=["x", OLD])),
     f"idm.yaml: models[1].previous_names[1]: '{OLD}' is already claimed by models[0]; a previous name may "
     "follow one model only (line 17, model 'b')"),
]


@pytest.mark.parametrize("head, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_ambiguous_previous_names_are_refused(tmp_path, head, message):
    r = make_repo(tmp_path, {"idm.yaml": head})
    p = r.idm("measure")
    assert p.returncode == 2 and p.stderr == f"idm-gate: error: {message}\n", p.stderr
