"""docs/quickstart.md, followed to the letter: from a repository holding only model files to a failed check.

The test builds what the page assumes and nothing more: idm-gate's source beside the user's repository
(``../idm-gate``, the files git would clone), a fresh virtualenv on ``PATH`` as "the virtualenv you work
in", a repository with the page's example layout (float16 safetensors weights written by safetensors,
the real lm-eval results file pointed at them) pushed to a bare ``origin``, and the float32 export the
page's step 5 copies from ``~/exports``. Then every line of every ``sh`` block runs in order, in bash, from
the repository's top; a line whose comment says ``exits N`` must exit N, every other line 0. After the
steps the page describes an outcome for, the test checks that outcome.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from gitrepo import git_env
from modelfiles import lmeval_results

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "quickstart.md"
LEAKS = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PIP_USER", "PIP_PREFIX", "PIP_TARGET")


def doc_commands(text: str) -> list[tuple[str, int]]:
    """(command, expected exit code) for each line of each ```sh block."""
    out = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.search(r"#\s*exits (\d+)", line)
            out.append((line.split("  #")[0].strip(), int(m.group(1)) if m else 0))
    return out


def test_the_doc_has_the_steps_the_issue_asks_for():
    cmds = [c for c, _ in doc_commands(DOC.read_text())]
    assert cmds[0] == "python -m pip install ../idm-gate"
    # ... and, for a reader with no virtualenv yet, how to make one (a distribution's own Python refuses pip)
    assert "`python3 -m venv ~/.venvs/idm-gate && . ~/.venvs/idm-gate/bin/activate`" in DOC.read_text()
    for expected in ("idm-gate init", "idm-gate init --workflow", "idm-gate record", "git push origin main"):
        assert expected in cmds
    assert [c for c, code in doc_commands(DOC.read_text()) if code == 1] == ["idm-gate check --base-ref origin/main"]


def _tensors(dtype) -> dict:
    rng = np.random.RandomState(3)
    return {"model.embed_tokens.weight": rng.standard_normal((64, 32)).astype(dtype),
            "model.layers.0.mlp.weight": rng.standard_normal((32, 32)).astype(dtype),
            "lm_head.weight": rng.standard_normal((64, 32)).astype(dtype)}


def test_the_quickstart_from_model_files_to_a_failed_check(tmp_path):
    from safetensors.numpy import save_file

    # idm-gate's source as a clone beside the repository has it
    src = tmp_path / "idm-gate"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in (f for f in listed if f and (ROOT / f).is_file()):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in git_env(home).items() if k not in LEAKS}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv))

    # the user's repository: model files only, on main, pushed to origin
    origin, repo = tmp_path / "origin.git", tmp_path / "models-repo"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], env=env, check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], env=env, check=True)
    (repo / "models" / "tiny-llm").mkdir(parents=True)
    save_file(_tensors(np.float16), str(repo / "models" / "tiny-llm" / "model.safetensors"), metadata={"format": "pt"})
    lmeval_results(repo / "evals" / "tiny-llm" / "results_2026-03-01T12-00-00.000000.json",
                   "pretrained=models/tiny-llm,dtype=float16", "models/tiny-llm")
    for cmd in (["git", "remote", "add", "origin", str(origin)], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "tiny-llm"], ["git", "push", "-q", "origin", "main"]):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    # what step 5 copies in: the same tensors exported in float32
    export = home / "exports" / "tiny-llm-fp32" / "model.safetensors"
    export.parent.mkdir(parents=True)
    save_file(_tensors(np.float32), str(export), metadata={"format": "pt"})
    f16_size = (repo / "models" / "tiny-llm" / "model.safetensors").stat().st_size

    outputs = {}
    for cmd, want in doc_commands(DOC.read_text()):
        p = subprocess.run(["bash", "-c", cmd], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
        assert p.returncode == want, f"{cmd!r} exited {p.returncode}, the page says {want}:\n{p.stdout[-3000:]}" \
                                     f"\n{p.stderr[-3000:]}"
        outputs[cmd] = p

    # step 1: the installed command is the venv's, not the test runner's
    assert shutil.which("idm-gate", path=env["PATH"]) == str(venv / "bin" / "idm-gate")
    # step 2: one model, its weights by the folder's glob, the lm-eval file placed on it
    (model,) = yaml.safe_load((repo / "idm.yaml").read_text())["models"]
    assert model == {"name": "tiny-llm", "artifacts": ["models/tiny-llm/*.safetensors"],
                     "evals": [{"path": "evals/tiny-llm/results_2026-03-01T12-00-00.000000.json"}]}
    assert "tiny-llm" in outputs["idm-gate measure"].stdout
    # step 3: the workflow gates this manifest
    wf = yaml.safe_load((repo / ".github" / "workflows" / "idm-gate.yml").read_text())
    assert {s["with"]["manifest"] for j in wf["jobs"].values() for s in j["steps"] if "with" in s
            and "manifest" in s["with"]} == {"idm.yaml"}
    # step 4: the baseline is on origin's idm-baselines branch
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "refs/heads/idm-baselines"], cwd=origin,
                          env=env, capture_output=True).returncode == 0
    # step 5: the float32 export doubled the tensor bytes (+ a header), the scores did not move: the density
    # fell to f16_size / fp32_size of the baseline's, a ~50 % drop, beyond max_drop 5 %
    fp32_size = export.stat().st_size
    assert fp32_size > 1.9 * f16_size
    check = outputs["idm-gate check --base-ref origin/main"]
    report = subprocess.run(["bash", "-c", "idm-gate check --base-ref origin/main -f json --no-fail"], cwd=repo,
                            env=env, capture_output=True, text=True, timeout=120)
    doc = json.loads(report.stdout)
    (m,) = doc["models"]
    assert (doc["verdict"], m["verdict"]) == ("fail", "fail")
    # density = -ln(Pe) / GB with Pe unchanged, so the ratio of densities is the inverse ratio of sizes
    assert m["delta"]["density_rel"] == pytest.approx(f16_size / fp32_size - 1, rel=1e-6)
    assert m["compared"]["current"]["error_rate"] == m["compared"]["baseline"]["error_rate"]
    assert "tiny-llm" in check.stdout
