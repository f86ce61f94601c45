"""optimum-benchmark reports as bench: figures (idm_gate.bench_optimum), unit and end to end.

The fixtures are real outputs, field for field (tests/data/bench/SOURCES.md): a 0.5.0 inference run of
Llama-3.1-8B-Instruct (torchao int4) on an A100 with per-token latencies and memory, and a 0.6.0.dev0
energy_star run of Llama-3.1-8B-Instruct on an H100 with energy only. Older and other shapes are derived
from them by the change optimum-benchmark's own source made (cited at each), and every expected value is
worked out by hand in a comment.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchfiles import read, refused
from idm_gate.bench import BenchRead
from idm_gate.compare import compare_model
from idm_gate.data import BenchMetric, LogBase, ModelMeasurement, Policy, TaskScore, Verdict
from idm_gate.errors import InputError
from weightfiles import run_measure

DATA = Path(__file__).parents[1] / "data" / "bench"
INFERENCE = DATA / "optimum-benchmark-llama-torchao.json"
ENERGY_STAR = DATA / "optimum-benchmark-energy-star.json"

A100 = "AMD EPYC 7742 64-Core Processor / NVIDIA A100-SXM4-80GB"


def write(tmp_path: Path, doc: Any, name: str = "benchmark.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc, indent=4))
    return p


def figures(r: BenchRead) -> dict[str, float]:
    return {b.key: b.value for b in r.results}


def test_inference_run_gives_throughput_latency_and_memory_with_its_setup():
    r = read(INFERENCE)
    got = {b.key: b for b in r.results}
    assert list(got) == ["tokens_per_s decode", "latency_p50_ms prefill", "latency_p95_ms prefill",
                         "latency_p50_ms per_token", "latency_p95_ms per_token", "peak_memory_bytes max_process_vram"]
    tps = got["tokens_per_s decode"]
    # decode.throughput.value as written: 1 sequence x 1 beam x (64 - 1) tokens / 2.5223018798828125 s mean
    # = 24.977184730531548 tokens/s. Standard error by the delta method over the 10 decode runs:
    # 24.977184730531548 x 0.12945611596538867 (population stdev) / (2.5223018798828125 x sqrt(10 - 1))
    # = 3.2334493229646 / 7.5669056396484375 = 0.42731460876
    assert tps.value == 24.977184730531548
    assert tps.stderr == pytest.approx(0.42731460876, rel=1e-9)
    assert tps.samples == 10
    # p50 / p95 in seconds x 1000
    assert got["latency_p50_ms prefill"].value == pytest.approx(59.96020889282226)    # 0.05996020889282226 s
    assert got["latency_p95_ms prefill"].value == pytest.approx(60.06700038909912)    # 0.06006700038909912 s
    assert got["latency_p50_ms per_token"].value == pytest.approx(39.228416442871096)  # 0.039228416442871096 s
    assert got["latency_p95_ms per_token"].value == pytest.approx(39.61548614501953)   # 0.03961548614501953 s
    assert got["latency_p50_ms per_token"].samples == 3510
    # max_process_vram: prefill 6499.074048 MB, decode 6499.074048 MB; the larger x 10^6 bytes (the tracker
    # divides bytes by 1e6). load_model's 7465.86112 MB (loading, not serving) is left out.
    assert got["peak_memory_bytes max_process_vram"].value == pytest.approx(6_499_074_048)
    # setup from config: backend name and device, no intra_op threads set, sequence_length 64,
    # max_new_tokens 64, batch_size 1; environment.cpu without its leading space; device_ids "1" picks
    # gpu[1] of the five listed (the DGX display adapter is not used)
    assert tps.setup == {"backend": "pytorch (cuda)", "threads": None, "n_prompt": 64, "n_gen": 64, "batch": 1,
                         "hardware": A100}
    assert r.notices == ()


def test_energy_star_run_gives_energy_per_token():
    r = read(ENERGY_STAR)
    (e,) = r.results
    # 3.6e6 J/kWh / 7,059,021.617039943 tokens/kWh = 0.50998568857 J per token. Cross-check: decode energy
    # 0.14152102857830748 kWh x 3.6e6 = 509,475.70 J over 1000 samples x 999 tokens after the first = 0.5099857
    assert (e.metric, e.test) == (BenchMetric.ENERGY_PER_TOKEN_J, "decode")
    assert e.value == pytest.approx(0.50998568857, rel=1e-9)
    assert e.setup == {"backend": "pytorch (cuda)", "threads": None, "n_prompt": None, "n_gen": 1000, "batch": 1,
                       "hardware": "AMD EPYC 7R13 Processor / NVIDIA H100 80GB HBM3"}


def test_report_alone_gives_the_same_figures_without_a_setup(tmp_path):
    # benchmark_report.json is the "report" object of benchmark.json, saved on its own by the same run
    doc = json.loads(INFERENCE.read_text())
    r = read(write(tmp_path, doc["report"], "benchmark_report.json"))
    assert figures(r) == figures(read(INFERENCE))
    assert {b.backend for b in r.results} == {None}
    assert r.notices == ("benchmark_report.json: a report without its config (benchmark_report.json) states no "
                         "setup (backend, device, shapes, hardware), so its figures compare with any baseline's; "
                         "read benchmark.json from the same run folder instead",)
    # the manifest's hardware label applies either way
    assert {b.hardware for b in read(tmp_path / "benchmark_report.json", hardware="lab-a100").results} == {"lab-a100"}


def test_flat_json_reads_like_the_nested_one(tmp_path):
    # save_json(path, flat=True): flatten_dict with reducer="dot", lists kept as lists
    def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict) and v:
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    doc = json.loads(INFERENCE.read_text())
    r = read(write(tmp_path, flat(doc)))
    assert [(b.key, b.value, b.stderr, b.setup) for b in r.results] == [
        (b.key, b.value, b.stderr, b.setup) for b in read(INFERENCE).results]


def test_older_report_shape(tmp_path):
    # 0.2 to 0.4 (optimum_benchmark/scenarios/inference/scenario.py at v0.4.0): the load target is "load",
    # prefill throughput is in tokens/s and per_token has a tokens/s throughput of its own; Latency has no
    # stdev_ field before 0.5. Only decode's throughput is taken, whatever other targets state.
    doc = json.loads(INFERENCE.read_text())
    report = doc["report"]
    report["load"] = report.pop("load_model")
    report["prefill"]["throughput"] = {"unit": "tokens/s", "value": 1067.1491914326063}  # 64 tokens / mean
    report["per_token"]["throughput"] = {"unit": "tokens/s", "value": 24.533}
    for t in report.values():
        if t["latency"] is not None:
            del t["latency"]["stdev_"]
    assert figures(read(write(tmp_path, doc))) == figures(read(INFERENCE))


def test_classifier_run_gives_forward_latency_and_memory(tmp_path):
    # a task that is not text generation (scenarios/inference/scenario.py, 0.6): the targets are
    # load_model, first_forward and forward; forward's throughput is in samples/s, so no tokens_per_s
    doc = json.loads(INFERENCE.read_text())
    report = doc["report"]
    doc["config"]["backend"]["task"] = "text-classification"
    doc["report"] = {"load_model": report["load_model"], "first_forward": report["load_model"],
                     "forward": dict(report["prefill"], throughput={"unit": "samples/s", "value": 16.674206116134474})}
    r = read(write(tmp_path, doc))
    # forward's p50 / p95 x 1000, and its max_process_vram 6499.074048 MB x 10^6
    assert [(b.key, b.value) for b in r.results] == [
        ("latency_p50_ms forward", pytest.approx(59.96020889282226)),
        ("latency_p95_ms forward", pytest.approx(60.06700038909912)),
        ("peak_memory_bytes max_process_vram", pytest.approx(6_499_074_048))]


def test_cpu_run_takes_the_largest_resident_memory(tmp_path):
    # on a CPU the memory tracker fills max_ram only (trackers/memory.py: the VRAM fields stay None)
    doc = json.loads(INFERENCE.read_text())
    doc["config"]["backend"]["device"] = "cpu"
    for t in doc["report"].values():
        if t["memory"] is not None:
            t["memory"].update(max_global_vram=None, max_process_vram=None, max_reserved=None, max_allocated=None)
    doc["report"]["decode"]["memory"]["max_ram"] = 1402.5  # prefill 1395.167232 MB: decode's is the larger
    r = read(write(tmp_path, doc))
    mem = next(b for b in r.results if b.metric is BenchMetric.PEAK_MEMORY_BYTES)
    assert (mem.test, mem.value) == ("max_ram", 1_402_500_000.0)  # 1402.5 MB x 10^6
    # a CPU run names the processor alone, whatever GPUs the machine lists
    assert (mem.backend, mem.hardware) == ("pytorch (cpu)", "AMD EPYC 7742 64-Core Processor")


def test_process_vram_invisible_in_a_container_falls_back_to_global_with_a_notice(tmp_path):
    # NVML lists no process from another PID namespace, so max_process_vram stays 0 (trackers/memory.py)
    doc = json.loads(INFERENCE.read_text())
    for t in doc["report"].values():
        if t["memory"] is not None:
            t["memory"]["max_process_vram"] = 0
    r = read(write(tmp_path, doc))
    mem = next(b for b in r.results if b.metric is BenchMetric.PEAK_MEMORY_BYTES)
    assert (mem.test, mem.value) == ("max_global_vram", pytest.approx(7_426_408_448))  # 7426.408448 MB
    assert r.notices == ("benchmark.json: max_process_vram is 0 (NVML could not see the benchmark's process, as "
                         "inside a container): max_global_vram, everything on those GPUs, stands in and overstates "
                         "the model's memory",)


def test_random_weights_are_named_in_a_notice(tmp_path):
    doc = json.loads(INFERENCE.read_text())
    doc["config"]["backend"]["no_weights"] = True
    assert "backend.no_weights is true: the benchmark ran random weights" in read(write(tmp_path, doc)).notices[0]


def _broken(change: str) -> Any:
    doc = json.loads(INFERENCE.read_text())
    report = doc["report"]
    if change == "latency unit":
        report["prefill"]["latency"]["unit"] = "ms"
    elif change == "decode samples/s":
        report["decode"]["throughput"]["unit"] = "samples/s"
    elif change == "NaN mean":
        report["decode"]["throughput"]["value"] = float("nan")  # json.dump writes NaN for numpy's empty mean
    elif change == "no p95":
        del report["per_token"]["latency"]["p95"]
    elif change == "zero efficiency":
        report["decode"]["energy"] = {"unit": "kWh", "cpu": 0.0, "ram": 0.0, "gpu": 0.0, "total": 0.0}
        report["decode"]["efficiency"] = {"unit": "tokens/kWh", "value": 0}  # Efficiency.from_energy: total <= 0
    elif change == "no vram tracked":
        for t in report.values():
            if t["memory"] is not None:
                t["memory"].update(max_process_vram=0.0, max_global_vram=0.0)
    elif change == "report list":
        doc["report"] = [report]
    elif change == "training":
        # a training scenario's targets: no inference figure among them
        doc["report"] = {"overall": {"memory": None, "latency": None, "throughput": {"unit": "samples/s", "value": 3.1},
                                     "energy": None, "efficiency": None}}
    return doc


@pytest.mark.parametrize(("change", "expect"), [
    ("latency unit", "b.json: report.prefill.latency.unit: is 'ms'; idm-gate reads 's' here, as optimum-benchmark "
                     "writes it"),
    ("decode samples/s", "b.json: report.decode.throughput.unit: is 'samples/s'; idm-gate reads 'tokens/s' here, as "
                         "optimum-benchmark writes it"),
    ("NaN mean", "b.json: report.decode.throughput.value: is nan, not a measurement; optimum-benchmark writes a "
                 "finite non-negative number here; rerun the benchmark"),
    ("no p95", "b.json: report.per_token.latency.p95: is missing; optimum-benchmark writes a finite non-negative "
               "number here; rerun the benchmark"),
    ("zero efficiency", "b.json: report.decode.efficiency.value: is 0 tokens/kWh: the decode energy read was 0 or "
                        "less (codecarbon samples power once a second, too coarse for a run this short); rerun "
                        "with a longer scenario.duration, or with energy: false"),
    ("no vram tracked", "b.json: report.prefill.memory: max_process_vram and max_global_vram are both 0 on a GPU "
                        "run, so VRAM was not tracked; rerun with NVML (nvidia-ml-py) or AMD SMI available"),
    ("report list", "b.json: report: is a list; optimum-benchmark writes an object here"),
    ("training", "b.json: holds no figure idm-gate reads (targets: overall); an inference run of optimum-benchmark: "
                 "decode throughput, prefill/per_token/forward/call latency, memory of the serving phases, or "
                 "decode efficiency"),
])
def test_broken_reports_are_refused_in_one_line(tmp_path, change, expect):
    p = tmp_path / "b.json"
    p.write_text(json.dumps(_broken(change)))  # allow_nan: Python's json writes NaN, as optimum-benchmark's does
    assert refused(p) == expect


def test_csv_output_is_refused_with_a_hint(tmp_path):
    # save_csv: one row, the flat dotted keys as columns (pandas)
    p = tmp_path / "benchmark.csv"
    p.write_text("config.name,config.backend.name,report.decode.throughput.unit,report.decode.throughput.value\n"
                 "llama,pytorch,tokens/s,24.97\n")
    assert refused(p) == ("benchmark.csv: line 1: is optimum-benchmark's CSV (save_csv), which idm-gate does not "
                          "read; use the benchmark.json the run wrote, or save_json")


def test_format_named_in_the_manifest_refuses_another_json(tmp_path):
    p = write(tmp_path, {"tokens_per_s": 12.5})
    assert refused(p, format="optimum-benchmark") == (
        "benchmark.json: top level: is not an optimum-benchmark report; optimum-benchmark writes benchmark.json "
        '({"config", "report"}) or benchmark_report.json (an object of targets such as prefill and decode)')


# ---------------------------------------------------------------- comparability and the gate

MODEL = ModelMeasurement(name="m", size_bytes=10**9, size_source="declared", params=None, bits_per_param=None,
                         error_rate=0.25, raw_error_rate=0.25, error_stderr=None, tasks_with_stderr=0,
                         density=1.3862943611198906, density_stderr=None, log_base=LogBase.E,
                         tasks=(TaskScore(task="arc", metric="score", score=0.75, error=0.25, stderr=None,
                                          source="inline"),))


def test_another_batch_size_is_not_comparable(tmp_path):
    # batch 4 decodes four sequences at once: its tokens/s is no speed-up of the model
    from dataclasses import replace

    base = read(INFERENCE).results
    doc = json.loads(INFERENCE.read_text())
    doc["config"]["scenario"]["input_shapes"]["batch_size"] = 4
    doc["report"]["decode"]["throughput"]["value"] = 4 * 24.977184730531548
    cur = read(write(tmp_path, doc)).results
    v = compare_model(replace(MODEL, bench=cur), replace(MODEL, bench=base), Policy(max_throughput_drop=0.05), LogBase.E)
    c = next(c for c in v.bench if c.key == "tokens_per_s decode")
    assert (c.comparable, c.why) == (False, "batch 1 -> 4")
    assert v.verdict is Verdict.WARN


def test_measure_and_check_gate_an_optimum_benchmark_file_end_to_end(tmp_path):
    # min_tokens_per_s 30 against decode's 24.98 tokens/s: measure --enforce-budgets fails the model
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "benchmark.json").write_bytes(INFERENCE.read_bytes())
    doc = {"version": 1, "gate": {"min_tokens_per_s": 30},
           "models": [{"name": "llama-int4", "size_gb": 5.7, "evals": [{"scores": {"arc": 0.75}}],
                       "bench": [{"path": "bench/benchmark.json"}]}]}
    (tmp_path / "idm.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    r = run_measure(tmp_path, "--format", "json")
    assert r.returncode == 0, r.stderr
    (m,) = json.loads(r.stdout)["models"]
    got = {(b["metric"], b["test"]): b for b in m["bench"]}
    assert got[("tokens_per_s", "decode")]["value"] == 24.977184730531548
    assert got[("tokens_per_s", "decode")]["batch"] == 1
    assert got[("peak_memory_bytes", "max_process_vram")]["value"] == pytest.approx(6_499_074_048)
    r = run_measure(tmp_path, "--enforce-budgets")
    assert r.returncode == 1
    assert "tokens_per_s decode 24.98 is below min_tokens_per_s 30" in r.stdout + r.stderr


def test_measure_refuses_a_broken_report_in_one_line(tmp_path):
    (tmp_path / "benchmark.json").write_text(json.dumps(_broken("latency unit")))
    doc = {"version": 1, "models": [{"name": "m", "size_gb": 5.7, "evals": [{"scores": {"arc": 0.75}}],
                                     "bench": [{"path": "benchmark.json"}]}]}
    (tmp_path / "idm.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    r = run_measure(tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].endswith(
        "benchmark.json: report.prefill.latency.unit: is 'ms'; idm-gate reads 's' here, as optimum-benchmark writes it")
    assert "Traceback" not in r.stderr


# ---------------------------------------------------------------- any damage: a figure or one line

def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(node, list):
        return [path]  # a list is replaced whole (values, environment.gpu)
    return [path]


_DOC = json.loads(INFERENCE.read_text())
_PATHS = [p for p in _leaves(_DOC) if p]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(_PATHS),
       value=st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                       st.text(max_size=8), st.lists(st.integers(), max_size=2), st.just({})))
def test_a_damaged_report_gives_sound_figures_or_one_line(tmp_path, path, value):
    doc = json.loads(json.dumps(_DOC))
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    p = tmp_path / "benchmark.json"
    p.write_text(json.dumps(doc))
    try:
        r = read(p)
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith("benchmark.json")
        return
    for b in r.results:
        assert math.isfinite(b.value) and b.value >= 0
        assert b.stderr is None or (math.isfinite(b.stderr) and b.stderr >= 0)
