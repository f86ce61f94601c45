"""The action's min-group-density input reaches the check, as `idm-gate action` runs in the container.

Inputs as INPUT_<NAME> variables, a real git repository with a recorded baseline, the fake GitHub REST
server. Scores as fractions, size 1 GB (so D = -ln Pe): main has code (humaneval, mbpp) at errors 0.5 and
0.5 (D = ln 2 = 0.6931); the PR has 0.5 and 0.55, code Pe 0.525 and D = -ln 0.525 = 0.6444, down 7.0 %,
within the base's max_drop 10 %: it passes without the input.
"""

from __future__ import annotations

import pytest

from actionrunner import TOKEN, Runner, pr_check, pr_env, pr_payload, recorded_main
from gitrepo import make_repo


def manifest(mbpp: float) -> dict:
    return {"version": 1, "gate": {"max_drop": "10%", "min_group_density": 0.5},
            "groups": {"code": ["humaneval", "mbpp"]},
            "models": [{"name": "coder", "size_bytes": 10**9,
                        "evals": [{"scores": {"humaneval": 0.5, "mbpp": mbpp, "mmlu": 0.6}}]}]}


@pytest.fixture
def pr(tmp_path, fake_github):
    repo = make_repo(tmp_path, {"idm.yaml": manifest(0.5), ".gitignore": ".idm-gate/\n"})
    runner = recorded_main(repo, fake_github, tmp_path)
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("idm.yaml", manifest(0.45))
    repo.commit()
    return pr_check(runner, repo)


def test_min_group_density_input_tightens_and_never_loosens(pr):
    code, model, out = pr({})
    assert (code, model["verdict"]) == (0, "pass"), out
    assert model["worst_group"] == "code"
    # 0.6444 < 0.65: the input's budget fails the code group
    code, model, out = pr({"min-group-density": "0.65"})
    assert (code, model["verdict"]) == (1, "fail"), out
    assert model["reasons"] == ["group code: density 0.6444 nats/GB is below min_group_density 0.65"]
    # 0.1 would loosen the base's 0.5: ignored, with a warning naming the base's setting
    code, model, out = pr({"min-group-density": "0.1"})
    assert (code, model["policy"]["min_group_density"]) == (0, 0.5), out
    assert ("::warning::input min-group-density: 0.1 was ignored for every model: it is looser than the base "
            "commit's gate (min_group_density 0.5)") in out


def test_a_malformed_min_group_density_is_one_line_exit_2(tmp_path, fake_github):
    repo = make_repo(tmp_path, {"idm.yaml": manifest(0.5)})
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    repo.git("checkout", "-q", "-b", "pr")
    p = Runner(repo, fake_github, tmp_path).run("pull_request", pr_payload(repo), {"min-group-density": "dense"},
                                                extra_env=pr_env(repo))
    assert p.returncode == 2, p.stderr
    assert "input min-group-density: 'dense' is not valid; write a finite number such as 0.5" in p.stderr
    assert "Traceback" not in p.stderr
    assert len([ln for ln in p.stderr.splitlines() if "min-group-density" in ln]) == 1
