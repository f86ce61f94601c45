"""The pre-commit hook (.pre-commit-hooks.yaml) and what it runs, `idm-gate measure --enforce-budgets`.

The hooks file is checked by pre-commit itself (`pre-commit validate-manifest`, its own schema of hook
definitions) and run the way a user's repository would run it (`pre-commit try-repo`, which installs
this repository into a fresh virtualenv as it would for `repo:` in .pre-commit-config.yaml).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from gitrepo import git_env, make_repo

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent))

# Two models at Pe = 0.5, so D = -ln(0.5) / GB = 0.6931 / GB:
#   a: 2 GB -> D 0.3466, over the global max_size_gb 1.5
#   b: 1 GB -> D 0.6931, under its own min_density 1 (its gate: over the top-level one)
BREACHING = """\
version: 1
gate: {max_size_gb: 1.5}
models:
  - name: a
    size_gb: 2
    evals: [{scores: {x: 0.5}}]
  - name: b
    size_gb: 1
    gate: {min_density: 1}
    evals: [{scores: {x: 0.5}}]
"""
BREACHES = [
    "idm-gate: over budget: a: size 2 GB is over max_size_gb 1.5 (gate: in idm.yaml)",
    "idm-gate: over budget: b: density 0.6931 nats/GB is below min_density 1 (gate: in idm.yaml)",
]
WITHIN = BREACHING.replace("max_size_gb: 1.5", "max_size_gb: 2").replace("min_density: 1", "min_density: 0.5")


def idm(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def hook() -> dict:
    [h] = yaml.safe_load(HOOKS.read_text())
    return h


def test_pre_commit_accepts_the_hooks_file():
    p = subprocess.run([PRE_COMMIT, "validate-manifest", str(HOOKS)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout + p.stderr == ""  # not even an "Unexpected key(s)" warning


def test_the_hook_runs_measure_with_enforce_budgets_on_the_whole_manifest():
    h = hook()
    assert h["id"] == "idm-gate-budgets" and h["language"] == "python"
    assert shlex.split(h["entry"]) == ["idm-gate", "measure", "--enforce-budgets"]
    # it measures the manifest, not the files a commit touches
    assert h["pass_filenames"] is False and h["always_run"] is True


def test_enforce_budgets_exits_1_with_one_line_per_breach(tmp_path):
    (tmp_path / "idm.yaml").write_text(BREACHING)
    p = idm("measure", "--enforce-budgets", cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr.splitlines() == BREACHES
    assert p.stdout.startswith("idm-gate ")  # the report is still printed


def test_within_budgets_is_silent_and_exit_0(tmp_path):
    (tmp_path / "idm.yaml").write_text(WITHIN)
    p = idm("measure", "--enforce-budgets", cwd=tmp_path)
    assert (p.returncode, p.stderr) == (0, "")


def test_without_enforce_budgets_a_breach_is_only_reported(tmp_path):
    (tmp_path / "idm.yaml").write_text(BREACHING)
    p = idm("measure", cwd=tmp_path)
    assert (p.returncode, p.stderr) == (0, "")


def test_a_manifest_without_budgets_says_there_is_nothing_to_enforce(tmp_path):
    (tmp_path / "idm.yaml").write_text("version: 1\nmodels: [{name: a, size_gb: 2, evals: [{scores: {x: 0.5}}]}]\n")
    p = idm("measure", "--enforce-budgets", cwd=tmp_path)
    assert p.returncode == 0
    assert p.stderr == ("idm-gate: warning: --enforce-budgets: idm.yaml sets no absolute budget (min_density, "
                        "max_size_gb, max_error_rate or an inference budget under gate:); nothing to enforce\n")


def test_json_stays_clean_on_stdout(tmp_path):
    (tmp_path / "idm.yaml").write_text(BREACHING)
    p = idm("measure", "--enforce-budgets", "-f", "json", cwd=tmp_path)
    assert p.returncode == 1 and p.stderr.splitlines() == BREACHES
    assert [m["name"] for m in json.loads(p.stdout)["models"]] == ["a", "b"]


def test_a_shard_cannot_enforce_budgets(tmp_path):
    (tmp_path / "idm.yaml").write_text(BREACHING)
    p = idm("measure", "--enforce-budgets", "--shard", "1/2", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.startswith("idm-gate: error: --enforce-budgets: a --shard part")


def test_pre_commit_runs_the_hook_from_this_repository(tmp_path):
    # As a user's .pre-commit-config.yaml would: pre-commit installs this repository (with its
    # uncommitted changes to tracked files) into its own virtualenv and runs the hook there.
    r = make_repo(tmp_path, {"idm.yaml": BREACHING})
    env = {**git_env(tmp_path), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PATH": os.environ.get("PATH", "")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})  # this machine's package index
    p = subprocess.run([PRE_COMMIT, "try-repo", str(ROOT), "idm-gate-budgets", "--all-files"], cwd=r.path,
                       env=env, capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "idm-gate budgets" in out and "Failed" in out and "- exit code: 1" in out
    for line in BREACHES:
        assert line in out
    # (within budgets the same command exits 0: test_within_budgets_is_silent_and_exit_0; one pre-commit
    # environment install per run of the suite is enough)
