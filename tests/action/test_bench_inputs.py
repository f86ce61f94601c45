"""The action's inference-budget inputs (min-tokens-per-s ... max-throughput-drop) reach the check.

`idm-gate action` end to end, as the runner starts the container: inputs as INPUT_<NAME> variables, a real
git repository with a recorded baseline, and the fake GitHub REST server. Each input tightens the base
commit's gate: the PR passes without it and fails with it; a looser one is ignored with a warning; a
malformed one is one line, exit 2.
"""

from __future__ import annotations

import pytest

from actionrunner import OWNER, PR, REPO, TOKEN, Runner, pr_check, pr_env, pr_payload, recorded_main
from gatecase import BASE, manifest
from gitrepo import make_repo

# base commit's gate: min_tokens_per_s 30 and max_throughput_drop 20 %, nothing for latency, memory, energy
GATE = {"max_drop": "5%", "warn_drop": "2%", "min_tokens_per_s": 30, "max_throughput_drop": "20%"}
BENCH = {"bench": [{"path": "bench.csv", "hardware": "ci-runner"}]}


def bench_csv(tokens_per_s: float) -> str:
    return ("metric,value,stderr,unit\n"
            f"tokens_per_s,{tokens_per_s},0.5,tokens/s\n"
            "latency_p95_ms,120,,ms\n"
            "peak_memory_bytes,2.5,,GB\n"
            "energy_per_token_j,300,,mJ\n")


@pytest.fixture
def pr(tmp_path, fake_github):
    """main recorded with 40 tokens/s; the PR's checkout at 36 tokens/s (-10 %), the other figures unchanged."""
    repo = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE, extra=BENCH), "bench.csv": bench_csv(40),
                                ".gitignore": ".idm-gate/\n"})
    runner = recorded_main(repo, fake_github, tmp_path)
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("bench.csv", bench_csv(36))
    repo.commit()
    return pr_check(runner, repo)


def test_each_inference_input_tightens_the_base_gate(pr):
    # without inputs: 36 >= 30 tokens/s and a 10 % drop within the base's 20 %: pass
    code, model, out = pr({})
    assert (code, model["verdict"]) == (0, "pass"), out
    cases = {
        # 36 < 38
        "min-tokens-per-s": ("38", "tokens_per_s 36 is below min_tokens_per_s 38"),
        # p95 120 ms > 100 ms
        "max-latency-ms": ("100", "latency_p95_ms 120 is over max_latency_ms 100"),
        # 2.5 GB (2.5 x 10^9 bytes) > 2 GB
        "max-peak-memory-gb": ("2", "peak memory 2.5 GB is over max_peak_memory_gb 2"),
        # 300 mJ = 0.3 J > 0.25 J
        "max-energy-per-token-j": ("0.25", "energy_per_token_j 0.3 is over max_energy_per_token_j 0.25"),
        # (36 - 40) / 40 = -10 %, over 5 %; 4 > 1.96 x hypot(0.5, 0.5) = 1.386: beyond the noise
        "max-throughput-drop": ("5%", "tokens_per_s down 10.0 %, over max_throughput_drop 5.0 %"),
    }
    for name, (value, reason) in cases.items():
        code, model, out = pr({name: value})
        assert (code, model["verdict"]) == (1, "fail"), f"{name}: {out}"
        assert model["reasons"] == [reason], name


def test_a_looser_input_is_ignored_with_a_warning(pr):
    # 20 tokens/s would loosen the base's 30: the base's applies, and the warning names both
    code, model, out = pr({"min-tokens-per-s": "20", "max-throughput-drop": "50%"})
    assert (code, model["verdict"]) == (0, "pass"), out
    assert model["policy"]["min_tokens_per_s"] == 30
    assert model["policy"]["max_throughput_drop"] == 0.2
    assert "::warning::input min-tokens-per-s: 20 was ignored for every model: it is looser than the base commit's gate " \
           "(min_tokens_per_s 30)" in out
    # a workflow command escapes % as %25 (actions/toolkit), so the runner shows "50%"
    assert "::warning::input max-throughput-drop: 50%25 was ignored for every model: it is looser than the base " \
           "commit's gate (max_throughput_drop 20%25)" in out


@pytest.mark.parametrize(("name", "value", "msg"), [
    ("min-tokens-per-s", "fast", "input min-tokens-per-s: 'fast' is not valid; write a finite number such as 0.5"),
    ("max-latency-ms", "-5", "input max-latency-ms: '-5' is out of range; write a number above 0 (the bounds of "
                             "gate: max_latency_ms in a manifest)"),
    ("max-peak-memory-gb", "inf", "input max-peak-memory-gb: 'inf' is not valid; write a finite number such as 0.5"),
    ("max-throughput-drop", "10", "input max-throughput-drop: '10' is not valid; write a percentage such as 5% or "
                                  "a fraction in [0, 1]"),
    ("frontier-axis", "speed", "input frontier-axis: 'speed' is not valid; use size, latency, memory, energy"),
])
def test_a_malformed_input_is_one_line_exit_2(tmp_path, fake_github, name, value, msg):
    repo = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    repo.git("checkout", "-q", "-b", "pr")
    p = Runner(repo, fake_github, tmp_path).run("pull_request", pr_payload(repo), {name: value}, extra_env=pr_env(repo))
    assert p.returncode == 2, p.stderr
    assert msg in p.stderr and "Traceback" not in p.stderr
    assert len([ln for ln in p.stderr.splitlines() if name in ln]) == 1


def test_frontier_axis_input_draws_the_comments_chart_by_that_figure(tmp_path, fake_github):
    # bonsai gets more accurate (arc 70 -> 80 %) and its p95 latency drops 120 -> 90 ms: a changed model
    repo = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE, extra=BENCH), "bench.csv": bench_csv(40),
                                ".gitignore": ".idm-gate/\n"})
    runner = recorded_main(repo, fake_github, tmp_path)
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("idm.yaml", manifest(dict(BASE, arc=80.0), gate=GATE, extra=BENCH))
    repo.write("bench.csv", bench_csv(40).replace("latency_p95_ms,120", "latency_p95_ms,90"))
    repo.commit()
    p = runner.run("pull_request", pr_payload(repo), {"frontier-axis": "latency_p95_ms"}, extra_env=pr_env(repo))
    assert p.returncode == 0, p.stderr + p.stdout
    (comment,) = fake_github.issue_comments(OWNER, REPO, PR)
    body = comment["body"]
    assert '    title "Latency p95 against error rate (★ on the efficiency frontier)"' in body
    assert '    x-axis "faster, 90 ms" --> "slower, 120 ms (log scale)"' in body
    # one model at two positions: the baseline at the slow, error-prone corner, the PR at the other
    assert '"bonsai (base)": [0.95, 0.95]' in body and '"★ bonsai (PR)": [0.05, 0.05]' in body
