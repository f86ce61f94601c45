"""Inference budgets and regressions (gate: min_tokens_per_s ... max_throughput_drop): compare, unit and e2e.

Every expected figure is worked out by hand in a comment.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gitrepo import make_repo
from idm_gate.compare import compare_model
from idm_gate.data import BenchMetric, BenchResult, LogBase, ModelMeasurement, Policy, TaskScore, Verdict
from idm_gate.policy import tighten
from idm_gate.serialize import measurement_from_dict, measurement_to_dict

# Pe 0.25 at 1 GB: density -ln(0.25) / 1 = 1.386294 nats/GB
MODEL = ModelMeasurement(name="m", size_bytes=10**9, size_source="declared", params=None, bits_per_param=None,
                         error_rate=0.25, raw_error_rate=0.25, error_stderr=None, tasks_with_stderr=0,
                         density=1.3862943611198906, density_stderr=None, log_base=LogBase.E,
                         tasks=(TaskScore(task="arc", metric="score", score=0.75, error=0.25, stderr=None,
                                          source="inline"),))


def tg(value: float, stderr: float | None = 1.0, **setup: object) -> BenchResult:
    base = {"backend": "CPU", "threads": 8, "n_prompt": 0, "n_gen": 128, "hardware": "ci-x86"}
    return BenchResult(metric=BenchMetric.TOKENS_PER_S, test="tg128", value=value, stderr=stderr,
                       source="lb.json", samples=5, **{**base, **setup})  # type: ignore[arg-type]


def with_bench(*b: BenchResult) -> ModelMeasurement:
    return replace(MODEL, bench=b)


def test_throughput_drop_fails_beyond_max_throughput_drop():
    # 40 -> 34 tokens/s: (34 - 40) / 40 = -15 %, over 10 %; difference 6 > 1.96 x hypot(1, 1) = 2.77: significant
    v = compare_model(with_bench(tg(34.0)), with_bench(tg(40.0)), Policy(max_throughput_drop=0.10), LogBase.E)
    assert v.verdict is Verdict.FAIL
    assert "tokens_per_s tg128 down 15.0 %, over max_throughput_drop 10.0 %" in v.reasons
    (c,) = v.bench
    assert c.comparable and c.delta_rel == pytest.approx(-0.15)
    assert v.delta_rel == 0  # density itself unchanged: never folded together


def test_throughput_drop_within_noise_warns():
    # 40 -> 35: a 12.5 % drop, but 5 <= 1.96 x hypot(2, 2) = 5.544: within noise under significance on
    v = compare_model(with_bench(tg(35.0, 2.0)), with_bench(tg(40.0, 2.0)), Policy(max_throughput_drop=0.10), LogBase.E)
    assert v.verdict is Verdict.WARN
    assert ("tokens_per_s tg128 down 12.5 % (over max_throughput_drop 10.0 %) but within noise: 5 <= 1.96 x 2.83 "
            "combined standard error") in v.reasons
    off = compare_model(with_bench(tg(35.0, 2.0)), with_bench(tg(40.0, 2.0)),
                        Policy(max_throughput_drop=0.10, significance=False), LogBase.E)
    assert off.verdict is Verdict.FAIL


@pytest.mark.parametrize(("setup", "why"), [
    ({"threads": 16}, "threads 8 -> 16"),
    ({"hardware": "ci-arm", "backend": "Metal"}, "backend 'CPU' -> 'Metal', hardware 'ci-x86' -> 'ci-arm'"),
    ({"n_gen": 256}, "n_gen 128 -> 256"),
])
def test_results_on_another_setup_are_not_comparable(setup, why):
    # a 50 % drop on other threads/hardware says nothing about the model: warn, do not fail
    v = compare_model(with_bench(tg(20.0, **setup)), with_bench(tg(40.0)), Policy(max_throughput_drop=0.10), LogBase.E)
    assert v.verdict is Verdict.WARN
    assert v.reasons == (f"tokens_per_s tg128 not comparable with the baseline: {why}",)
    (c,) = v.bench
    assert (c.comparable, c.why, c.delta_rel) == (False, why, None)


def test_absolute_inference_budgets_hold_new_models_too():
    figures = (tg(12.0),
               BenchResult(metric=BenchMetric.LATENCY_P95_MS, test="", value=180.0, stderr=None, source="d.csv"),
               BenchResult(metric=BenchMetric.LATENCY_P50_MS, test="", value=90.0, stderr=None, source="d.csv"),
               BenchResult(metric=BenchMetric.PEAK_MEMORY_BYTES, test="", value=2.5e9, stderr=None, source="d.csv"),
               BenchResult(metric=BenchMetric.ENERGY_PER_TOKEN_J, test="", value=0.3, stderr=None, source="d.csv"))
    p = Policy(min_tokens_per_s=15, max_latency_ms=100, max_peak_memory_gb=2, max_energy_per_token_j=0.25)
    v = compare_model(with_bench(*figures), None, p, LogBase.E)
    assert v.verdict is Verdict.FAIL
    # p50 90 ms is within 100 ms; p95 180 ms is not; 2.5e9 bytes = 2.5 GB > 2
    assert v.reasons[:4] == ("tokens_per_s tg128 12 is below min_tokens_per_s 15",
                             "latency_p95_ms 180 is over max_latency_ms 100",
                             "peak memory 2.5 GB is over max_peak_memory_gb 2",
                             "energy_per_token_j 0.3 is over max_energy_per_token_j 0.25")
    assert compare_model(with_bench(*figures), None, Policy(), LogBase.E).verdict is Verdict.PASS


def test_flags_only_tighten_the_inference_budgets():
    base = Policy(min_tokens_per_s=20, max_latency_ms=100, max_throughput_drop=0.10)
    assert tighten(base, Policy(min_tokens_per_s=10, max_latency_ms=200, max_throughput_drop=0.5)) == base
    assert tighten(base, Policy(min_tokens_per_s=30, max_latency_ms=50, max_throughput_drop=0.05)) == Policy(
        min_tokens_per_s=30, max_latency_ms=50, max_throughput_drop=0.05)


def test_bench_figures_survive_the_json_report():
    from idm_gate.data import Measurement
    from idm_gate.serialize import loads_strict

    m = Measurement(manifest="idm.yaml", manifest_digest="0" * 64, log_base=LogBase.E, models=(with_bench(tg(40.0)),))
    doc = loads_strict(json.dumps(measurement_to_dict(m)).encode(), "r.json")
    assert doc["models"][0]["bench"] == [{"metric": "tokens_per_s", "test": "tg128", "value": 40.0, "stderr": 1.0,
                                          "source": "lb.json", "samples": 5, "backend": "CPU", "threads": 8,
                                          "n_prompt": 0, "n_gen": 128, "batch": None, "hardware": "ci-x86"}]
    assert measurement_from_dict(doc, "r.json").models[0].bench == (tg(40.0),)
    plain = Measurement(manifest="idm.yaml", manifest_digest="0" * 64, log_base=LogBase.E, models=(MODEL,))
    assert "bench" not in measurement_to_dict(plain)["models"][0]  # reports without bench: are unchanged


# ---------------------------------------------------------------- end to end: record, then check a PR

def manifest(tps: str, gate: dict, hardware: str = "ci-x86") -> dict:
    return {"version": 1, "gate": gate, "models": [{
        "name": "edge", "size_bytes": 10**9, "evals": [{"scores": {"arc": 0.75}}],
        "bench": [{"path": "bench.csv", "hardware": hardware}]}]}


def csv_text(tps: float, stderr: float = 0.5, p95: float = 80.0) -> str:
    return f"metric,value,stderr,unit\ntokens_per_s,{tps},{stderr},tok/s\nlatency_p95_ms,{p95},,ms\n"


GATE = {"max_throughput_drop": "10%", "max_latency_ms": 100}


@pytest.fixture
def repo(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest("", GATE), "bench.csv": csv_text(40.0)})
    res = r.idm("record")
    assert res.returncode == 0, res.stderr
    r.git("checkout", "-q", "-b", "pr")
    return r


def check(r, *extra):
    return r.idm("check", "--base-ref", "origin/main", *extra)


def check_schema():
    import jsonschema
    from referencing import Registry, Resource

    from idm_gate.manifest import schema

    reg = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in (schema("report"), schema("check")))
    return jsonschema.Draft202012Validator(schema("check"), registry=reg)


def test_measure_shows_the_figures_beside_density(repo):
    res = repo.idm("measure")
    assert res.returncode == 0, res.stderr
    assert "  inference benchmarks (2 figure(s), beside density, not part of it):" in res.stdout
    assert "    tokens_per_s: 40 ± 0.5 tokens/s  [ci-x86]  (bench.csv)" in res.stdout
    assert "    latency_p95_ms: 80 ms  [ci-x86]  (bench.csv)" in res.stdout


def test_a_slower_pr_fails_and_cannot_loosen_its_own_gate(repo):
    # 40 -> 30 tokens/s: a 25 % drop; 10 > 1.96 x hypot(0.5, 0.5) = 1.39, so significant
    repo.write("bench.csv", csv_text(30.0))
    repo.write("idm.yaml", manifest("", {"max_throughput_drop": "50%", "max_latency_ms": 100}))
    repo.commit()
    res = check(repo)
    assert res.returncode == 1, res.stdout
    assert "tokens_per_s down 25.0 %, over max_throughput_drop 10.0 %" in res.stdout
    # beside density, baseline -> PR with the change: (30 - 40) / 40 = -25 %
    assert "  bench    tokens_per_s: 40 ± 0.5 tokens/s -> 30 ± 0.5 tokens/s  (▼ -25.0 %)" in res.stdout
    assert "  bench    latency_p95_ms: 80 ms -> 80 ms  (= +0.0 %)" in res.stdout
    assert "  density  1.386 -> 1.386 nats/GB" in res.stdout  # -ln(0.25) / 1 GB, untouched
    res = check(repo, "--format", "json")
    doc = json.loads(res.stdout)
    check_schema().validate(doc)
    assert doc["verdict"] == "fail"
    tps = doc["models"][0]["bench"][0]
    assert (tps["key"], tps["comparable"], tps["why_not_comparable"]) == ("tokens_per_s", True, None)
    assert tps["delta_rel"] == pytest.approx(-0.25)
    assert (tps["baseline"]["value"], tps["current"]["value"], tps["current"]["hardware"]) == (40.0, 30.0, "ci-x86")
    md = check(repo, "--format", "markdown").stdout
    assert "| tokens\\_per\\_s | 40 ± 0.5\u00a0tokens/s | 30 ± 0.5\u00a0tokens/s | ▼ -25.0\u00a0% | ci-x86 |" in md


def test_a_pr_over_the_latency_budget_fails_and_a_new_runner_is_not_comparable(repo):
    repo.write("bench.csv", csv_text(40.0, p95=120.0))
    repo.commit()
    res = check(repo)
    assert res.returncode == 1
    assert "latency_p95_ms 120 is over max_latency_ms 100" in res.stdout
    repo.write("bench.csv", csv_text(20.0))
    repo.write("idm.yaml", manifest("", GATE, hardware="ci-arm"))
    repo.commit()
    res = check(repo)
    assert res.returncode == 0, res.stdout
    assert "tokens_per_s not comparable with the baseline: hardware 'ci-x86' -> 'ci-arm'" in res.stdout


def test_flags_tighten_the_base_gate_and_a_looser_one_is_ignored(repo):
    # base: max_throughput_drop 10 %, max_latency_ms 100; PR: 40 -> 37 tokens/s, a 7.5 % drop (3 > 1.96 x
    # hypot(0.5, 0.5) = 1.39: significant); p95 80 ms
    repo.write("bench.csv", csv_text(37.0))
    repo.commit()
    assert check(repo).returncode == 0
    res = check(repo, "--max-throughput-drop", "5%", "--min-tokens-per-s", "38")
    assert res.returncode == 1
    assert "tokens_per_s down 7.5 %, over max_throughput_drop 5.0 %" in res.stdout
    assert "tokens_per_s 37 is below min_tokens_per_s 38" in res.stdout
    res = check(repo, "--max-latency-ms", "500")
    assert res.returncode == 0
    assert ("--max-latency-ms 500 was ignored for every model: it is looser than the base commit's gate "
            "(max_latency_ms 100)") in res.stderr
    res = check(repo, "--max-latency-ms", "75")
    assert res.returncode == 1 and "latency_p95_ms 80 is over max_latency_ms 75" in res.stdout


# ---------------------------------------------------------------- llama-bench settings that change speed

LB_README = Path(__file__).parents[1] / "data" / "bench" / "llama-bench-readme.json"


def lb_manifest() -> dict:
    # llama-bench's model_size 4,677,120,000 bytes of tensor data in the published 4,683,073,504-byte file:
    # 5,953,504 bytes of GGUF metadata, within the 2 % the cross-check allows
    return {"version": 1, "gate": {"max_throughput_drop": "10%"}, "models": [{
        "name": "qwen", "size_bytes": 4_683_073_504, "evals": [{"scores": {"arc": 0.75}}],
        "bench": [{"path": "lb.json"}]}]}


def test_a_llama_bench_run_with_other_engine_settings_is_not_comparable(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": lb_manifest(), "lb.json": LB_README.read_text()})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    tests = json.loads(LB_README.read_text())
    for t in tests:  # the same file rerun with -ngl 0 -fa 1 -ctk q4_0: half the speed, the model unchanged
        t.update(n_gpu_layers=0, flash_attn=True, type_k="q4_0", avg_ts=t["avg_ts"] / 2,
                 samples_ts=[x / 2 for x in t["samples_ts"]], stddev_ts=t["stddev_ts"] / 2)
    r.write("lb.json", json.dumps(tests, indent=2))
    r.commit()
    res = check(r)
    # before: tg128 118.88 -> 59.44 read as "down 50.0 %, over max_throughput_drop 10.0 %", a failure blamed
    # on the model; the settings differ, so the figures say nothing about it: a warning naming them, in
    # llama-bench's field order
    assert res.returncode == 0, res.stdout
    why = "type_k 'f16' -> 'q4_0', n_gpu_layers 99 -> 0, flash_attn false -> true"
    assert f"tokens_per_s tg128 not comparable with the baseline: {why}" in res.stdout
    assert f"tokens_per_s pp512 not comparable with the baseline: {why}" in res.stdout
    assert "down 50.0 %" not in res.stdout
    doc = json.loads(check(r, "--format", "json").stdout)
    check_schema().validate(doc)
    tg = next(b for b in doc["models"][0]["bench"] if b["key"] == "tokens_per_s tg128")
    assert (tg["comparable"], tg["why_not_comparable"]) == (False, why)
    assert tg["baseline"]["settings"]["n_gpu_layers"] == 99 and tg["current"]["settings"]["n_gpu_layers"] == 0


def test_settings_a_baseline_did_not_state_are_a_difference_and_old_booleans_equal_new_integers():
    # llama-bench wrote flash_attn false before it became 0 (1, -1 auto): the same setting, so comparable;
    # use_mmap stated at one side only: its value at the other is unknown, so not comparable
    same = compare_model(with_bench(tg(40.0, settings=(("flash_attn", 0),))),
                         with_bench(tg(40.0, settings=(("flash_attn", False),))), Policy(), LogBase.E)
    assert same.verdict is Verdict.PASS and same.bench[0].comparable
    v = compare_model(with_bench(tg(40.0, settings=(("flash_attn", 0), ("use_mmap", True)))),
                      with_bench(tg(40.0, settings=(("flash_attn", False),))), Policy(), LogBase.E)
    assert v.reasons == ("tokens_per_s tg128 not comparable with the baseline: use_mmap unstated -> true",)


# ---------------------------------------------------------------- a PR that stops measuring

def test_a_pr_that_drops_bench_or_one_of_its_tests_warns_naming_them(repo):
    # the PR keeps latency_p95_ms but no longer measures tokens_per_s: before, PASS with the figure listed
    # "at the baseline (not measured in the PR)"; now a warning naming it, in the report and the PR comment
    repo.write("bench.csv", "metric,value,stderr,unit\nlatency_p95_ms,80,,ms\n")
    repo.commit()
    one = ("tokens_per_s is in the baseline's benchmark figures but not measured in the PR: no longer gated "
           "(restore the bench: file or test to keep it compared)")
    res = check(repo)
    assert res.returncode == 0, res.stdout
    assert "idm-gate 0.1.0: WARN" in res.stdout.splitlines()[0]
    assert one in res.stdout
    # the whole bench: list deleted: both figures named, in the baseline's order
    doc = manifest("", GATE)
    del doc["models"][0]["bench"]
    repo.write("idm.yaml", doc)
    repo.commit()
    both = ("tokens_per_s, latency_p95_ms are in the baseline's benchmark figures but not measured in the PR: "
            "no longer gated (restore the bench: file or test to keep it compared)")
    res = check(repo)
    assert res.returncode == 0, res.stdout
    assert both in res.stdout and "WARN" in res.stdout.splitlines()[0]
    md = check(repo, "--format", "markdown").stdout
    # the PR comment escapes Markdown's _ and the colons (which could start a link scheme)
    assert ("**⚠️ edge**: tokens\\_per\\_s, latency\\_p95\\_ms are in the baseline's benchmark figures but not "
            "measured in the PR&#58; no longer gated (restore the bench&#58; file or test to keep it compared)") in md
    assert json.loads(check(repo, "--format", "json").stdout)["verdict"] == "warn"


# ---------------------------------------------------------------- size advice only for a density failure

def test_a_pr_failing_on_throughput_alone_gets_no_size_advice(repo):
    # 40 -> 30 tokens/s: a 25 % drop over 10 %, a failure; density unchanged at -ln(0.25) / 1 GB = 1.386
    # nats/GB. Before: "To pass (a drop of at most 5.0 %): at most 1.05 GB at this error rate" under it,
    # advice about size for a model whose size and accuracy never moved
    repo.write("bench.csv", csv_text(30.0))
    repo.commit()
    md = check(repo, "--format", "markdown").stdout
    assert "**❌ edge**: tokens\\_per\\_s down 25.0 %, over max\\_throughput\\_drop 10.0 %" in md.replace("\u00a0", " ")
    assert "To pass" not in md
    assert "To pass" not in check(repo).stdout
    # the JSON tells a failure on bench: figures alone from a density failure
    m = json.loads(check(repo, "--format", "json").stdout)["models"][0]
    assert (m["verdict"], m["density_failed"], m["plain_compared"]) == ("fail", False, [])


def test_a_density_failure_beside_a_throughput_failure_keeps_its_size_advice(repo):
    # error rate 0.25 -> 0.5 at 1 GB: density ln 2 / 1 = 0.6931 nats/GB, down 50 % (over the default
    # max_drop 5 %). To pass: a density of at least 1.386294 x 0.95 = 1.316979 at Pe 0.5, i.e. at most
    # 0.693147 / 1.316979 = 0.5263 GB, shown floored to 3 significant figures: 526 MB
    doc = manifest("", GATE)
    doc["models"][0]["evals"] = [{"scores": {"arc": 0.5}}]
    repo.write("idm.yaml", doc)
    repo.write("bench.csv", csv_text(30.0))
    repo.commit()
    md = check(repo, "--format", "markdown").stdout.replace("\u00a0", " ")
    assert "To pass (a drop of at most 5.0 %): at most 526 MB at this error rate" in md
    m = json.loads(check(repo, "--format", "json").stdout)["models"][0]
    assert (m["verdict"], m["density_failed"]) == ("fail", True)


def test_a_baseline_recorded_without_engine_settings_is_named_once_not_per_setting():
    # a baseline from before idm-gate kept llama-bench's settings: one reason naming them, beside any other
    # difference of the setup (threads 8 -> 16)
    cur = tg(40.0, threads=16, settings=(("n_batch", 2048), ("n_gpu_layers", 99)))
    v = compare_model(with_bench(cur), with_bench(tg(40.0)), Policy(), LogBase.E)
    assert v.reasons == ("tokens_per_s tg128 not comparable with the baseline: threads 8 -> 16, the baseline states "
                         "none of the engine settings (n_batch, n_gpu_layers): record it again",)
