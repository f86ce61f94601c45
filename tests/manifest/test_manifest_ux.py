"""The manifest as a newcomer meets it: found from a subfolder, and every mistake reported in one run.

The CLI runs in a subprocess, in real git repositories in temp folders.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from actionrunner import Runner
from gitrepo import git_env, make_repo

GOOD = {"version": 1, "models": [{"name": "bonsai", "size_bytes": 2 * 10**9,
                                  "evals": [{"scores": {"arc": 0.7, "gsm8k": 0.6}}]}]}
TAIL = "; run idm-gate in the folder of your manifest, pass --manifest PATH, or write one with `idm-gate init`\n"


def idm(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


# -- found from a subfolder -----------------------------------------------------------------------

def test_measure_check_and_record_find_the_manifest_from_a_subfolder(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": GOOD, "weights/q4/README.md": "weights go here\n"})
    sub = r.path / "weights" / "q4"
    p = idm("measure", "-f", "json", cwd=sub, env=r.env)
    assert p.returncode == 0, p.stderr
    assert '"manifest": "../../idm.yaml"' in p.stdout
    p = idm("record", cwd=sub, env=r.env)
    assert p.returncode == 0, p.stderr
    head = r.git("rev-parse", "HEAD")
    assert r.records_on_origin()[head]["manifest"] == "idm.yaml"  # the same gate as from the top
    p = idm("check", "--base-ref", "origin/main", cwd=sub, env=r.env)
    assert p.returncode == 0, p.stderr
    assert "bonsai: PASS [unchanged]" in p.stdout


def test_the_nearest_manifest_wins(tmp_path):
    inner = {**GOOD, "models": [{**GOOD["models"][0], "name": "inner-model"}]}
    r = make_repo(tmp_path, {"idm.yaml": GOOD, "team/idm.yaml": inner, "team/evals/x.txt": "x\n"})
    p = idm("measure", cwd=r.path / "team" / "evals", env=r.env)
    assert p.returncode == 0, p.stderr
    assert "inner-model" in p.stdout and "bonsai" not in p.stdout
    assert p.stdout.startswith("idm-gate ") and " in ../idm.yaml\n" in p.stdout.splitlines()[0] + "\n"


def test_not_found_says_where_it_looked(tmp_path):
    r = make_repo(tmp_path, {"models/a/README.md": "no manifest anywhere\n"})
    here = r.path / "models" / "a"
    p = idm("measure", cwd=here, env=r.env)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == (f"idm-gate: error: idm.yaml: not found in {here.resolve()} or any folder above it up to "
                        f"the repository's top level {r.path.resolve()}" + TAIL)
    p = idm("check", "--base-ref", "origin/main", cwd=r.path, env=r.env)
    assert p.stderr == f"idm-gate: error: idm.yaml: not found in {r.path.resolve()}" + TAIL


def test_the_search_stops_at_the_repository_top(tmp_path):
    # A manifest above the repository belongs to something else: never picked.
    (tmp_path / "idm.yaml").write_text("version: 1\n")
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    env = git_env(tmp_path)
    subprocess.run(["git", "init", "-q", str(repo)], env=env, check=True)
    p = idm("measure", cwd=repo / "sub", env=env)
    assert p.returncode == 2
    assert f"up to the repository's top level {repo.resolve()}; " in p.stderr


def test_outside_a_repository_only_the_current_folder_counts(tmp_path):
    (tmp_path / "idm.yaml").write_text("version: 1\n")
    (tmp_path / "sub").mkdir()
    p = idm("measure", cwd=tmp_path / "sub", env=git_env(tmp_path))
    assert p.returncode == 2
    assert p.stderr == (f"idm-gate: error: idm.yaml: not found in {(tmp_path / 'sub').resolve()} (not inside a "
                        "git repository, so no folder above it was searched)" + TAIL)


def test_an_explicit_manifest_is_taken_as_given(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": GOOD, "sub/x.txt": "x\n"})
    p = idm("measure", "-m", "idm.yaml", cwd=r.path / "sub", env=r.env)
    assert p.returncode == 2 and p.stderr == "idm-gate: error: idm.yaml: 'idm.yaml' does not exist\n"
    assert idm("measure", "-m", "../idm.yaml", cwd=r.path / "sub", env=r.env).returncode == 0


# -- every problem at once ------------------------------------------------------------------------

TWO_MISTAKES = """\
version: 1
gate:
  max_dorp: 5%
models:
  - name: bonsai-q4
    artifact: [weights/q4/*.gguf]
    size_gb: big
    evals:
      - path: evals/q4.json
  - name: edge
    size_gb: 1
    tasks: [arc]
    weights: {gsm8k: 2}
    evals: [{scores: {arc: 0.5}, scale: pct}]
  - name: edge
    size_gb: .inf
    evals: [{scores: {arc: 0.5}}]
  - name: tiny
    evals: [{scores: {arc: 0.5}}]
    colour: blue
"""


def test_every_problem_is_reported_at_once_with_its_line_and_model(tmp_path):
    (tmp_path / "idm.yaml").write_text(TWO_MISTAKES)
    p = idm("measure", cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.splitlines() == [
        "idm-gate: error: idm.yaml: gate: unknown field 'max_dorp'; did you mean 'max_drop'? (line 3)",
        "idm-gate: error: idm.yaml: models[0]: unknown field 'artifact'; did you mean 'artifacts'? "
        "(line 6, model 'bonsai-q4')",
        "idm-gate: error: idm.yaml: models[0].size_gb: expected a number, got 'big' (line 7, model 'bonsai-q4')",
        "idm-gate: error: idm.yaml: models[1].evals[0].scale: 'pct' is not valid; use one of 'fraction', "
        "'percent' (line 14, model 'edge')",
        "idm-gate: error: idm.yaml: models[2].name: 'edge' is already used by models[1]; names must be unique "
        "(line 15)",
        "idm-gate: error: idm.yaml: models[2].size_gb: inf is not a finite number (line 16, model 'edge')",
        "idm-gate: error: idm.yaml: models[3]: no size given; add artifacts, size_gb or size_bytes "
        "(line 18, model 'tiny')",
        "idm-gate: error: idm.yaml: models[3]: unknown field 'colour'; valid fields are artifacts, bench, evals, gate, "
        "groups, metrics, min_error, name, previous_names, size_bytes, size_gb, tasks, weights (line 20, model 'tiny')",
    ]


def test_checks_that_need_a_valid_model_still_run_on_the_valid_ones(tmp_path):
    text = TWO_MISTAKES.replace("scale: pct", "scale: percent")
    (tmp_path / "idm.yaml").write_text(text)
    err = idm("measure", cwd=tmp_path).stderr.splitlines()
    assert ("idm-gate: error: idm.yaml: models[1].weights: 'gsm8k' is not in tasks; weight only tasks that count "
            "(line 13, model 'edge')") in err
    assert len(err) == 8


def test_a_flood_of_problems_is_cut_after_fifty_lines(tmp_path):
    models = "".join(f"  - name: m{i}\n    size_gb: {i}\n    evals: [{{scores: {{x: 0.5}}}}]\n    weight: {{x: 2}}\n"
                     for i in range(1, 61))
    (tmp_path / "idm.yaml").write_text("version: 1\nmodels:\n" + models)
    err = idm("measure", cwd=tmp_path).stderr.splitlines()
    assert len(err) == 51
    # models[0] starts on line 3; its fourth line holds 'weight'
    assert err[0] == ("idm-gate: error: idm.yaml: models[0]: unknown field 'weight'; did you mean 'weights'? "
                      "(line 6, model 'm1')")
    assert err[-1] == "idm-gate: error: idm.yaml: 10 more problems not listed; fix these and run again"


@pytest.mark.parametrize("base_name", ["idm.yaml"])
def test_the_base_commits_manifest_is_reported_the_same_way(tmp_path, base_name):
    # check reads the merge base's manifest too: a broken one names its commit and every problem.
    r = make_repo(tmp_path, {base_name: TWO_MISTAKES})
    r.git("checkout", "-q", "-b", "pr")
    r.write(base_name, GOOD)
    r.commit("fix the manifest")
    p = r.idm("check", "--base-ref", "origin/main")
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert len(lines) == 8 and all(ln.startswith(f"idm-gate: error: {base_name}@") for ln in lines)


def test_the_action_annotates_every_problem(tmp_path):
    # In Actions each problem is also an ::error:: annotation (the run's summary page lists them), not
    # only the first: mode measure on a push, no token needed.
    r = make_repo(tmp_path, {"idm.yaml": TWO_MISTAKES})
    no_github = SimpleNamespace(url="http://127.0.0.1:9")  # mode measure without a token calls no API
    p = Runner(r, no_github, tmp_path).run("push", {"ref": "refs/heads/feature"}, {"mode": "measure"}, token=None,
                                           extra_env={"GITHUB_REF": "refs/heads/feature"})
    assert p.returncode == 2
    annotations = [ln for ln in p.stdout.splitlines() if ln.startswith("::error")]
    assert len(annotations) == 8
    assert annotations[1].endswith("idm.yaml: models[0]: unknown field 'artifact'; did you mean 'artifacts'? "
                                   "(line 6, model 'bonsai-q4')")
    assert len([ln for ln in p.stderr.splitlines() if ln.startswith("idm-gate: error: ")]) == 8
