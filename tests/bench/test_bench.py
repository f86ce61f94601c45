"""Inference benchmark readers (idm_gate.bench) and the ``bench:`` cross-check in measure.

llama-bench fixtures are the outputs printed in llama.cpp's own README (tests/data/bench/SOURCES.md);
the files for the cross-check are written by the gguf library, and each expected value is worked out
by hand in a comment.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from benchfiles import read, refused
from idm_gate.data import BenchMetric
from weightfiles import gguf_model, run_measure

DATA = Path(__file__).parents[1] / "data" / "bench"


@pytest.mark.parametrize("name", ["llama-bench-readme.json", "llama-bench-readme.jsonl"])
def test_llama_bench_json_and_jsonl(name):
    r = read(DATA / name)
    assert r.model_filename == "models/Qwen2.5-7B-Instruct-Q4_K_M.gguf"
    assert (r.model_size, r.model_n_params) == (4_677_120_000, 7_615_616_512)
    pp, tg = r.results
    assert (pp.metric, pp.test, tg.metric, tg.test) == (BenchMetric.TOKENS_PER_S, "pp512",
                                                        BenchMetric.TOKENS_PER_S, "tg128")
    assert (pp.key, tg.key) == ("tokens_per_s pp512", "tokens_per_s tg128")
    # the engine settings that change speed, as the file writes them, in llama-bench's order
    settings = {"n_batch": 2048, "n_ubatch": 512, "cpu_mask": "0x0", "cpu_strict": False, "poll": 50,
                "type_k": "f16", "type_v": "f16", "n_gpu_layers": 99, "split_mode": "layer", "main_gpu": 0,
                "no_kv_offload": False, "flash_attn": False, "tensor_split": "0.00", "use_mmap": True,
                "embeddings": False}
    assert tg.setup == {"backend": "CUDA", "threads": 8, "n_prompt": 0, "n_gen": 128, "batch": None,
                        "hardware": "AMD Ryzen 7 7800X3D 8-Core Processor / NVIDIA GeForce RTX 4080", **settings}
    assert tuple(tg.settings) == tuple(settings.items())
    assert pp.samples == tg.samples == 5
    if name.endswith(".json"):
        # avg_ts as written; stderr = stddev_ts / sqrt(5 samples): 140.341520 / 2.2360680 = 62.76264,
        # 1.041811 / 2.2360680 = 0.4659120
        assert (pp.value, tg.value) == (7100.002165, 118.881588)
        assert pp.stderr == pytest.approx(62.76264, rel=1e-6)
        assert tg.stderr == pytest.approx(0.4659120, rel=1e-6)
    else:
        # 90.940578 / 2.2360680 = 40.66986; 0.699739 / 2.2360680 = 0.3129328
        assert (pp.value, tg.value) == (7263.609157, 119.844681)
        assert pp.stderr == pytest.approx(40.66986, rel=1e-6)
        assert tg.stderr == pytest.approx(0.3129328, rel=1e-6)


def test_llama_bench_hardware_label_from_the_manifest_and_older_files(tmp_path):
    tests = json.loads((DATA / "llama-bench-readme.json").read_text())
    for t in tests:
        del t["samples_ns"], t["samples_ts"], t["n_depth"]  # as llama-bench wrote before they existed
    tests[1]["n_prompt"] = 512  # a -pg 512,128 test
    p = tmp_path / "old.json"
    p.write_text(json.dumps(tests))
    r = read(p, hardware="ci-runner-4080")
    pp, pg = r.results
    assert (pp.test, pg.test) == ("pp512", "pp512+tg128")
    assert pp.hardware == "ci-runner-4080"
    assert (pp.stderr, pp.samples) == (140.341520, None)  # no samples: stddev_ts stands in
    assert r.notices == ("old.json: no samples_ts (an older llama-bench): stddev_ts stands in for the standard "
                         "error, which overstates the noise",)


def test_llama_bench_prefilled_context_is_its_own_test(tmp_path):
    tests = json.loads((DATA / "llama-bench-readme.json").read_text())
    tests[1] = dict(tests[0], n_depth=512)
    p = tmp_path / "d.json"
    p.write_text(json.dumps(tests))
    assert [x.test for x in read(p).results] == ["pp512", "pp512 @ d512"]


def test_llama_bench_outputs_it_does_not_read_and_broken_files(tmp_path):
    assert refused(DATA / "llama-bench-readme.csv") == (
        "llama-bench-readme.csv: line 1: is llama-bench's CSV output, which idm-gate does not read; "
        "run llama-bench with -o json or -o jsonl")
    tests = json.loads((DATA / "llama-bench-readme.json").read_text())
    two = [tests[0], dict(tests[1], model_filename="models/other.gguf", model_size=1)]
    (tmp_path / "two.json").write_text(json.dumps(two))
    assert "[1].model_filename: 'models/other.gguf' is a second model" in refused(tmp_path / "two.json")
    sweep = [tests[0], dict(tests[0], n_threads=16)]
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    assert "test pp512 appears twice (also at [0])" in refused(tmp_path / "sweep.json")
    (tmp_path / "nostd.json").write_text(json.dumps([{k: v for k, v in tests[0].items() if k != "stddev_ts"}]))
    assert refused(tmp_path / "nostd.json") == ("nostd.json: [0].stddev_ts: is missing; llama-bench writes a finite "
                                                "non-negative number here")
    (tmp_path / "bad.jsonl").write_text(json.dumps(tests[0]) + "\n{\"avg_ts\": \n")
    assert refused(tmp_path / "bad.jsonl").startswith("bad.jsonl: line 2")


def test_plain_csv_converts_units(tmp_path):
    p = tmp_path / "bench.csv"
    p.write_text("Metric,Value,StdErr,Unit\r\n"
                 "tokens_per_s,41.7,0.3,tok/s\r\n"
                 "latency_p95_ms,0.2,0.01,s\r\n"
                 "latency_p50_ms,85,,\r\n"
                 "peak_memory_bytes,1.5,,GiB\r\n"
                 "energy_per_token_j,120,4,mJ\r\n")
    got = {r.metric: (r.value, r.stderr) for r in read(p).results}
    assert got[BenchMetric.TOKENS_PER_S] == (41.7, 0.3)
    assert got[BenchMetric.LATENCY_P95_MS] == pytest.approx((200.0, 10.0))      # 0.2 s = 200 ms; 0.01 s = 10 ms
    assert got[BenchMetric.LATENCY_P50_MS] == (85.0, None)
    assert got[BenchMetric.PEAK_MEMORY_BYTES] == (1_610_612_736.0, None)        # 1.5 * 2^30
    assert got[BenchMetric.ENERGY_PER_TOKEN_J] == pytest.approx((0.12, 0.004))  # 120 mJ, 4 mJ


def test_plain_units_words_in_any_case_symbols_in_their_own(tmp_path):
    p = tmp_path / "bench.csv"
    p.write_text("metric,value,unit\n"
                 "tokens_per_s,41.7,Tokens/S\n"
                 "peak_memory_bytes,2,Bytes\n"
                 "latency_p50_ms,3,ms\n"
                 "latency_p95_ms,4,s\n"
                 "energy_per_token_j,5,J\n")
    got = {r.metric: r.value for r in read(p).results}
    # words in any case: 41.7 tokens/s, 2 bytes; symbols as written: 3 ms, 4 s = 4000 ms, 5 J
    assert got == {BenchMetric.TOKENS_PER_S: 41.7, BenchMetric.PEAK_MEMORY_BYTES: 2.0,
                   BenchMetric.LATENCY_P50_MS: 3.0, BenchMetric.LATENCY_P95_MS: 4000.0,
                   BenchMetric.ENERGY_PER_TOKEN_J: 5.0}


def test_plain_json(tmp_path):
    p = tmp_path / "bench.json"
    p.write_text(json.dumps({"tokens_per_s": 12.5, "peak_memory_bytes": {"value": 2.0, "unit": "GB", "stderr": 0.1}}))
    r = read(p, hardware="pixel-8")
    assert [(x.key, x.value, x.stderr, x.hardware) for x in r.results] == [
        ("tokens_per_s", 12.5, None, "pixel-8"), ("peak_memory_bytes", 2e9, 1e8, "pixel-8")]


@pytest.mark.parametrize(("text", "suffix", "expect"), [
    ("metric,value,unit\ntokens_per_s,10,furlongs\n", "csv",
     "b.csv: line 2 (tokens_per_s).unit: 'furlongs' is not a unit of tokens_per_s; use tokens/s, tok/s, t/s, "
     "tokens_per_s or leave it empty"),
    # 2 MJ (megajoules) per token is not 2 mJ = 0.002 J: a prefix's case is its meaning, so refused, not misread
    ("metric,value,unit\nenergy_per_token_j,2,MJ\n", "csv",
     "b.csv: line 2 (energy_per_token_j).unit: 'MJ' is not a unit of energy_per_token_j (unit symbols are "
     "case-sensitive: m is milli and M mega, b a bit and B a byte); use J, mJ or leave it empty"),
    # Mb is megabits (1.25e5 bytes), not MB (1e6 bytes)
    ('{"peak_memory_bytes": {"value": 3, "unit": "Mb"}}', "json",
     "b.json: peak_memory_bytes.unit: 'Mb' is not a unit of peak_memory_bytes (unit symbols are case-sensitive: "
     "m is milli and M mega, b a bit and B a byte); use B, bytes, kB, KB, MB, GB, KiB, MiB, GiB or leave it empty"),
    ("metric,value,unit\nlatency_p50_ms,2,MS\n", "csv",
     "b.csv: line 2 (latency_p50_ms).unit: 'MS' is not a unit of latency_p50_ms (unit symbols are case-sensitive: "
     "m is milli and M mega, b a bit and B a byte); use ms, s, us, µs or leave it empty"),
    ("metric,value\nthroughput,10\n", "csv",
     "b.csv: line 2 (throughput): unknown metric 'throughput'; use one of tokens_per_s, latency_p50_ms, "
     "latency_p95_ms, peak_memory_bytes, energy_per_token_j"),
    ("metric,value\ntokens_per_s,10\ntokens_per_s,11\n", "csv",
     "b.csv: line 3 (tokens_per_s): tokens_per_s appears twice (also on line 2); list each metric once"),
    ("metric,value\ntokens_per_s,0\n", "csv",
     "b.csv: line 2 (tokens_per_s).value: 0 is not a possible tokens_per_s; a positive throughput"),
    ("metric,value\nlatency_p50_ms,fast\n", "csv",
     "b.csv: line 2 (latency_p50_ms).value: 'fast' is not a finite number; write a decimal number like 41.7"),
    ('{"tokens_per_s": {"value": 3, "sdev": 1}}', "json",
     "b.json: tokens_per_s: unknown key 'sdev'; use {\"value\": v} with optional \"stderr\" and \"unit\""),
    ("task,score\narc,0.5\n", "csv",
     "b.csv: not a benchmark format idm-gate reads; it reads llama-bench -o json / -o jsonl, optimum-benchmark's "
     "benchmark.json, a CSV with a "
     "metric,value[,stderr][,unit] header, and JSON {\"metric\": value}; set format: in the manifest if the "
     "file is one of them"),
])
def test_plain_files_refused_in_one_line(tmp_path, text, suffix, expect):
    p = tmp_path / f"b.{suffix}"
    p.write_text(text)
    assert refused(p) == expect


# ---------------------------------------------------------------- cross-check in measure, end to end

def _model(folder: Path) -> None:
    # 2 tensors written by the gguf library: F32 32x64 (2048 params, 8192 bytes) and F16 16x32 (512 params,
    # 1024 bytes): 2560 parameters and 9216 bytes of tensor data; the file adds header and metadata.
    gguf_model(folder / "w" / "m.gguf", {"a.weight": np.ones((32, 64), dtype=np.float32),
                                          "b.weight": np.ones((16, 32), dtype=np.float16)})


def _bench_file(folder: Path, **change: object) -> None:
    tests = json.loads((DATA / "llama-bench-readme.json").read_text())
    for t in tests:
        t.update({"model_filename": "w/m.gguf", "model_size": 9216, "model_n_params": 2560, **change})
    (folder / "lb.json").write_text(json.dumps(tests, indent=2))


def _manifest(folder: Path, bench: list[dict[str, str]]) -> None:
    doc = {"version": 1, "models": [{"name": "m", "artifacts": ["w/m.gguf"], "evals": [{"scores": {"arc": 0.75}}],
                                     "bench": bench}]}
    (folder / "idm.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def test_measure_reads_bench_when_llama_bench_ran_the_measured_file(tmp_path):
    _model(tmp_path)
    _bench_file(tmp_path)
    _manifest(tmp_path, [{"path": "lb.json"}])
    r = run_measure(tmp_path, "--format", "json")
    assert r.returncode == 0, r.stderr
    (m,) = json.loads(r.stdout)["models"]
    assert m["params"] == 2560
    assert m["size_bytes"] == (tmp_path / "w" / "m.gguf").stat().st_size > 9216


@pytest.mark.parametrize(("change", "expect"), [
    ({"model_n_params": 2561},
     "idm.yaml: models[0].bench[0]: lb.json: llama-bench ran 'w/m.gguf' with model_n_params 2,561, but the "
     "artifacts hold 2,560 parameters; the benchmark ran another file: rerun it on this model's weights"),
    ({"model_size": 9216 + 32},
     "idm.yaml: models[0].bench[0]: lb.json: llama-bench ran 'w/m.gguf' with model_size 9,248 bytes of tensor "
     "data, but the GGUF artifacts hold 9,216; the benchmark ran another file: rerun it on this model's weights"),
])
def test_measure_refuses_a_benchmark_of_another_file(tmp_path, change, expect):
    _model(tmp_path)
    _bench_file(tmp_path, **change)
    _manifest(tmp_path, [{"path": "lb.json"}])
    r = run_measure(tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().endswith(expect)
    assert "Traceback" not in r.stderr


def test_measure_cross_checks_an_lfs_pointer_by_file_size(tmp_path):
    # An LFS pointer gives the file size only: llama-bench's tensor bytes may be below it by the GGUF header
    # and metadata, at most max(2 %, 64 MiB). 4,683,073,504 bytes (the published Q4_K_M file) - 4,677,120,000
    # = 5,953,504 bytes of metadata: accepted. A 5,000,000,000-byte file leaves 322,880,000: refused.
    (tmp_path / "w").mkdir()
    for size, code in ((4_683_073_504, 0), (5_000_000_000, 2)):
        (tmp_path / "w" / "m.gguf").write_text("version https://git-lfs.github.com/spec/v1\n"
                                               "oid sha256:" + "a" * 64 + f"\nsize {size}\n")
        tests = json.loads((DATA / "llama-bench-readme.json").read_text())
        (tmp_path / "lb.json").write_text(json.dumps(tests))
        _manifest(tmp_path, [{"path": "lb.json"}])
        r = run_measure(tmp_path)
        assert r.returncode == code, r.stderr
    assert "more than a GGUF header can explain (at most 2 % or 64 MiB)" in r.stderr


def test_llama_bench_setting_of_the_wrong_shape_is_refused(tmp_path):
    tests = json.loads((DATA / "llama-bench-readme.json").read_text())
    tests[1]["n_gpu_layers"] = [99, 0]  # a list where llama-bench writes one integer per test
    p = tmp_path / "lb.json"
    p.write_text(json.dumps(tests))
    assert refused(p) == "lb.json: [1].n_gpu_layers: is a list; llama-bench writes a number, boolean or short string here"


# The field lists of older llama-bench JSON printers (llama.cpp's test::get_fields() at the time), in order;
# a test of such a build is the README's test with these fields only (``rpc`` was typed as a string there).
OLD_WITH_OPENCL = ("build_commit", "build_number", "cuda", "opencl", "metal", "gpu_blas", "blas", "cpu_info", "gpu_info",
               "model_filename", "model_type", "model_size", "model_n_params", "n_batch", "n_threads", "type_k",
               "type_v", "n_gpu_layers", "split_mode", "main_gpu", "no_kv_offload", "mul_mat_q", "tensor_split",
               "n_prompt", "n_gen", "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns",
               "samples_ts")
OLD_WITH_RPC = ("build_commit", "build_number", "cuda", "vulkan", "kompute", "metal", "sycl", "rpc", "gpu_blas", "blas",
               "cpu_info", "gpu_info", "model_filename", "model_type", "model_size", "model_n_params", "n_batch",
               "n_ubatch", "n_threads", "type_k", "type_v", "n_gpu_layers", "split_mode", "main_gpu", "no_kv_offload",
               "flash_attn", "tensor_split", "use_mmap", "embeddings", "n_prompt", "n_gen", "test_time", "avg_ns",
               "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts")


def old_build(tmp_path: Path, fields: tuple[str, ...], **flags: object) -> Path:
    out = []
    for t in json.loads((DATA / "llama-bench-readme.json").read_text()):
        t.update({k: False for k in fields if k not in t})
        t.update({"mul_mat_q": True, "rpc": "0", **flags})
        out.append({k: t[k] for k in fields})
    p = tmp_path / "old.json"
    p.write_text(json.dumps(out, indent=4))
    return p


@pytest.mark.parametrize(("fields", "flags", "backend"), [
    # a cuBLAS build set cuda and gpu_blas (ggml_cpu_has_gpublas() was true for cuBLAS): the first true, CUDA
    (OLD_WITH_OPENCL, {"cuda": True, "gpu_blas": True}, "CUDA"),
    # an Apple build: metal and blas (Accelerate), with an RPC server: Metal, and RPC as the registry writes it
    (OLD_WITH_RPC, {"metal": True, "blas": True, "rpc": "1"}, "Metal,RPC"),
    # kompute was written as a copy of vulkan (a bug of that printer): vulkan comes first, so Vulkan
    (OLD_WITH_RPC, {"vulkan": True, "kompute": True}, "Vulkan"),
    (OLD_WITH_RPC, {}, "CPU"),
])
def test_llama_bench_before_the_backends_field(tmp_path, fields, flags, backend):
    pp, tg = read(old_build(tmp_path, fields, **flags)).results
    assert (pp.backend, tg.backend) == (backend, backend)
    # the figures as with a current build: 118.881588 tokens/s, 1.041811 / sqrt(5) = 0.4659120
    assert (tg.test, tg.value, tg.threads) == ("tg128", 118.881588, 8)
    assert tg.stderr == pytest.approx(0.4659120, rel=1e-6)
    assert dict(tg.settings)["n_gpu_layers"] == 99


def test_llama_bench_with_no_backend_field_of_any_build_is_refused(tmp_path):
    p = old_build(tmp_path, tuple(k for k in OLD_WITH_OPENCL if k not in ("cuda", "opencl", "metal", "gpu_blas", "blas")))
    assert refused(p) == ("old.json: [0].backends: is missing, and so are the older builds' backend fields (cuda, "
                          "opencl, vulkan, kompute, metal, sycl, gpu_blas, blas); llama-bench -o json writes one or "
                          "the other; is this llama-bench -o json output?")
    p = old_build(tmp_path, OLD_WITH_OPENCL, cuda="yes")
    assert refused(p) == "old.json: [0].cuda: is the text 'yes'; llama-bench writes true or false here"
