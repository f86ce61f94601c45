"""Inference benchmark results (a model's ``bench:`` list in the manifest): one reader per format.

Formats, detected from the content unless the manifest's ``format:`` says:

``llama-bench``
    llama.cpp's ``llama-bench -o json`` (a JSON array of test objects) or ``-o jsonl`` (one test object
    per line). Each test gives ``tokens_per_s`` = ``avg_ts`` for the test ``pp<n_prompt>``,
    ``tg<n_gen>`` or ``pp<n_prompt>+tg<n_gen>`` (with `` @ d<n_depth>`` for a prefilled context), as
    llama-bench's own Markdown table names it. Files of every llama-bench build are read: those from before
    the ``backends`` field wrote one boolean per backend (``cuda``, ``opencl``,
    ``vulkan``, ``kompute``, ``metal``, ``sycl``, ``gpu_blas``, ``blas``, and ``rpc`` as "0"/"1"), named
    here as those builds named them: the first true one ("CUDA", "OpenCL", ..., "GPU BLAS", "BLAS"),
    else "CPU", with ",RPC" when ``rpc`` is set. Its standard error is ``stddev_ts / sqrt(len(samples_ts))``
    (``stddev_ts`` is the sample standard deviation over the repetitions); files from before
    ``samples_ts`` existed give ``stddev_ts`` itself, a conservative stand-in. The setup comes from
    ``backends``, ``n_threads``, ``n_prompt``, ``n_gen``, the hardware label (the manifest's
    ``hardware:``, else ``cpu_info`` and ``gpu_info``) and the settings that change speed, as written
    (``n_batch``, ``n_ubatch``, ``type_k``, ``type_v``, ``n_gpu_layers``, ``flash_attn``, ``split_mode``,
    ``main_gpu``, ``tensor_split``, ``use_mmap`` ... where the file has them). The file must hold one model
    (``model_filename``) and each test once; its ``model_size`` (bytes of tensor data, as
    ``llama_model_size()`` counts them) and ``model_n_params`` are returned for the caller's
    cross-check against the measured artifacts. Its ``-o csv``, ``md`` and ``sql`` outputs are refused
    with a hint to use ``-o json``.
``optimum-benchmark``
    huggingface/optimum-benchmark's ``benchmark.json`` or ``benchmark_report.json``: decode tokens per
    second, prefill / per-token / forward latencies, peak memory and decode energy per token, with the
    setup from its config (:mod:`idm_gate.bench_optimum`). Its ``save_csv`` output is refused with a hint.
``csv``
    A header row ``metric,value`` with optional ``stderr`` and ``unit`` columns (any order and case),
    one row per metric.
``json``
    ``{"metric": value}`` or ``{"metric": {"value": v, "stderr": s, "unit": u}}`` (stderr, unit optional).

Plain metrics are the :class:`~idm_gate.data.BenchMetric` names: ``tokens_per_s``, ``latency_p50_ms``,
``latency_p95_ms``, ``peak_memory_bytes``, ``energy_per_token_j``. A ``unit`` other than the name's own
is converted (``s`` and ``us`` to ms; ``kB``/``KB``/``MB``/``GB`` and ``KiB``/``MiB``/``GiB`` to bytes; ``mJ``
to J; ``tok/s``, ``t/s``, ``tokens/s`` are tokens per second); any other unit is an error naming the valid
ones. Unit symbols are matched in their exact case (``MJ`` is mega, not milli; ``Mb`` megabits, not
megabytes: both refused); only the words ``bytes`` and ``tokens/s`` (``tok/s``, ``t/s``, ``tokens_per_s``)
match in any case. Every problem is one :class:`~idm_gate.errors.InputError` line: file, place, what is wrong, what
would be valid.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import BenchMetric, BenchResult, BenchSource
from .evals._common import decode_text, fail, kind_of, number, show
from .jsonsafe import load_json
from .paths import EVAL_FILE_CAP, read_capped, resolve_inside

FORMATS = ("llama-bench", "optimum-benchmark", "csv", "json")

# unit as written -> factor to the metric's own unit, per metric. Symbols match in their exact case, as SI
# writes them: a prefix's case is its meaning (mJ milli, MJ mega; B byte, b bit), so "MJ" or "Mb" is refused,
# never read as mJ or MB. Only the spelled-out words in _WORDS match in any case.
_RATE = {"": 1.0, "tokens/s": 1.0, "tok/s": 1.0, "t/s": 1.0, "tokens_per_s": 1.0}
_MS = {"": 1.0, "ms": 1.0, "s": 1000.0, "us": 1e-3, "µs": 1e-3}
_BYTES = {"": 1.0, "B": 1.0, "bytes": 1.0, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9,
          "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3}
_J = {"": 1.0, "J": 1.0, "mJ": 1e-3}
_WORDS = frozenset(("tokens/s", "tok/s", "t/s", "tokens_per_s", "bytes"))
UNITS: dict[BenchMetric, dict[str, float]] = {
    BenchMetric.TOKENS_PER_S: _RATE, BenchMetric.LATENCY_P50_MS: _MS, BenchMetric.LATENCY_P95_MS: _MS,
    BenchMetric.PEAK_MEMORY_BYTES: _BYTES, BenchMetric.ENERGY_PER_TOKEN_J: _J,
}
_METRICS = ", ".join(m.value for m in BenchMetric)

# The fields of one llama-bench test this reader needs (its json/jsonl printers, from the first llama-bench;
# the backend from ``backends``, or in older builds from the boolean fields below).
_LB_INT = ("model_size", "model_n_params", "n_threads", "n_prompt", "n_gen")
_LB_STR = ("model_filename", "cpu_info", "gpu_info")
# Before ``backends`` (the ggml backend registry), llama-bench wrote one boolean per compiled-in backend and
# named the backend by the first true one in this order (its test::get_backend()); ``cuda`` was also true in
# ROCm builds, which it named ROCm (the files do not tell them apart: the hardware label does). ``rpc``
# (written as the string "0"/"1") added "+RPC", written here as the registry's ",RPC".
_LB_OLD_BACKENDS = (("cuda", "CUDA"), ("opencl", "OpenCL"), ("vulkan", "Vulkan"), ("kompute", "Kompute"),
                    ("metal", "Metal"), ("sycl", "SYCL"), ("gpu_blas", "GPU BLAS"), ("blas", "BLAS"))
_LB_NUM = ("avg_ts", "stddev_ts")
# The fields of a llama-bench test that change its speed besides backends, threads, lengths and hardware,
# in llama-bench's own order (its test::get_fields(); current builds and the older names use_mmap,
# defrag_thold, f16_kv, mul_mat_q). Those a file holds go into the result's settings: two figures are
# compared only when they agree (a run with -ngl 0 or -fa 1 is another setup, not a slower model).
_LB_SETTINGS = ("n_batch", "n_ubatch", "cpu_mask", "cpu_strict", "poll", "type_k", "type_v", "n_gpu_layers",
                "n_cpu_moe", "split_mode", "main_gpu", "no_kv_offload", "flash_attn", "devices", "tensor_split",
                "tensor_buft_overrides", "defrag_thold", "use_mmap", "load_mode", "use_direct_io", "embeddings",
                "no_op_offload", "no_host", "fit_target", "fit_min_ctx", "f16_kv", "mul_mat_q")


@dataclass(frozen=True)
class BenchRead:
    """What one ``bench:`` source gave: its results, and what it says about the model it ran."""

    results: tuple[BenchResult, ...]
    notices: tuple[str, ...] = ()
    model_filename: str | None = None  # llama-bench: the file it ran
    model_size: int | None = None      # llama-bench: bytes of tensor data
    model_n_params: int | None = None  # llama-bench: parameter count


def read_bench(src: BenchSource, base_dir: Path, root: Path, manifest_name: str) -> BenchRead:
    """Read one ``bench:`` entry of the manifest (see the module docstring)."""
    field = src.field or "bench"
    if src.format is not None and src.format not in FORMATS:
        raise fail(manifest_name, f"{field}.format", f"unknown format {show(src.format)}",
                   f"use one of {', '.join(FORMATS)}, or leave it out to detect it")
    path = resolve_inside(src.path, base_dir, root, f"{manifest_name}: {field}.path")
    data = read_capped(path, EVAL_FILE_CAP, f"{manifest_name}: {field}.path", src.path)
    file = src.path
    text = decode_text(data, file)
    fmt = src.format or _detect(text, file)
    if fmt == "llama-bench":
        return _read_llama_bench(_llama_bench_tests(text, file), file, src.hardware)
    if fmt in ("json", "optimum-benchmark"):
        from .bench_optimum import looks_like_report, read_optimum

        # optimum-benchmark writes NaN where numpy had nothing to average; the plain format never holds one
        doc = load_json(data, file, allow_nan=True)
        if fmt == "optimum-benchmark" or (src.format is None and looks_like_report(doc)):
            return read_optimum(doc, file, src.hardware)
        return _read_plain_json(load_json(data, file, allow_nan=False), file, src.hardware)
    return _read_plain_csv(text, file, src.hardware)


def _detect(text: str, file: str) -> str:
    s = text.lstrip()
    if s.startswith("["):
        return "llama-bench"
    if s.startswith("{"):
        first = s.splitlines()[0]
        return "llama-bench" if '"avg_ts"' in first or '"build_commit"' in first else "json"
    header = s.splitlines()[0] if s else ""
    cols = [c.strip().strip('"').lower() for c in header.split(",")]
    if "build_commit" in cols and "avg_ts" in cols:
        raise fail(file, "line 1", "is llama-bench's CSV output, which idm-gate does not read",
                   "run llama-bench with -o json or -o jsonl")
    if any(c.startswith(("report.", "config.backend.")) or ".throughput." in c for c in cols):
        raise fail(file, "line 1", "is optimum-benchmark's CSV (save_csv), which idm-gate does not read",
                   "use the benchmark.json the run wrote, or save_json")
    if header.startswith("|") or header.upper().startswith("CREATE TABLE"):
        raise fail(file, "line 1", "looks like llama-bench's Markdown or SQL output, which idm-gate does not read",
                   "run llama-bench with -o json or -o jsonl")
    if "metric" in cols and "value" in cols:
        return "csv"
    raise fail(file, None, "not a benchmark format idm-gate reads",
               "it reads llama-bench -o json / -o jsonl, optimum-benchmark's benchmark.json, a CSV with a "
               'metric,value[,stderr][,unit] header, and JSON {"metric": value}; set format: in the manifest '
               "if the file is one of them")


def _llama_bench_tests(text: str, file: str) -> list[tuple[str, Any]]:
    """(place, test object) pairs from ``-o json`` (an array) or ``-o jsonl`` (an object per line)."""
    s = text.lstrip()
    if s.startswith("["):
        doc = load_json(text.encode("utf-8"), file, allow_nan=False)
        if not isinstance(doc, list) or not doc:
            raise fail(file, "top level", "is an empty list" if isinstance(doc, list) else f"is {kind_of(doc)}",
                       "llama-bench -o json writes a list with one object per test")
        return [(f"[{i}]", t) for i, t in enumerate(doc)]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            out.append((f"line {n}", load_json(line.encode("utf-8"), f"{file}: line {n}", allow_nan=False)))
    if not out:
        raise fail(file, None, "is empty", "llama-bench -o jsonl writes one object per test and line")
    return out


def _read_llama_bench(tests: Sequence[tuple[str, Any]], file: str, hardware: str | None) -> BenchRead:
    results: list[BenchResult] = []
    seen: dict[str, str] = {}
    model: tuple[str, int, int] | None = None
    notices: list[str] = []
    for place, t in tests:
        if not isinstance(t, dict):
            raise fail(file, place, f"is {kind_of(t)}", "each llama-bench test is an object")
        for k in _LB_INT:
            v = t.get(k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise fail(file, f"{place}.{k}", f"is {kind_of(v) if k in t else 'missing'}",
                           "llama-bench writes a non-negative integer here; is this llama-bench -o json output?")
        for k in _LB_STR:
            if not isinstance(t.get(k), str):
                raise fail(file, f"{place}.{k}", f"is {kind_of(t.get(k)) if k in t else 'missing'}",
                           "llama-bench writes a string here; is this llama-bench -o json output?")
        backend = _llama_bench_backend(t, file, place)
        for k in _LB_NUM:
            v = number(t.get(k))
            if v is None or math.isnan(v) or v < 0:
                raise fail(file, f"{place}.{k}", f"is {kind_of(t.get(k)) if k in t else 'missing'}",
                           "llama-bench writes a finite non-negative number here")
        this = (t["model_filename"], t["model_size"], t["model_n_params"])
        if model is None:
            model = this
        elif this != model:
            raise fail(file, f"{place}.model_filename", f"{show(this[0], 80)} is a second model in the file "
                       f"(the first is {show(model[0], 80)})", "benchmark one model per file (llama-bench -m once)")
        depth = t.get("n_depth", 0)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise fail(file, f"{place}.n_depth", f"is {kind_of(depth)}", "a non-negative integer")
        n_prompt, n_gen = t["n_prompt"], t["n_gen"]
        if n_prompt == 0 and n_gen == 0:
            raise fail(file, place, "n_prompt and n_gen are both 0, so no test was run", "a test with tokens")
        test = f"pp{n_prompt}" if n_gen == 0 else f"tg{n_gen}" if n_prompt == 0 else f"pp{n_prompt}+tg{n_gen}"
        test += f" @ d{depth}" if depth else ""
        if test in seen:
            raise fail(file, place, f"test {test} appears twice (also at {seen[test]}), with other settings",
                       "keep one configuration per test in a gated file (no -t/-ngl/-b sweeps)")
        seen[test] = place
        avg, sd = float(t["avg_ts"]), float(t["stddev_ts"])
        if avg <= 0:
            raise fail(file, f"{place}.avg_ts", "is 0 tokens per second", "a run that produced tokens")
        samples = t.get("samples_ts")
        n: int | None = None
        if isinstance(samples, list) and samples:
            n = len(samples)
            stderr = sd / math.sqrt(n)
        else:
            stderr = sd
            if not notices:
                notices.append(f"{file}: no samples_ts (an older llama-bench): stddev_ts stands in for the "
                               "standard error, which overstates the noise")
        settings = []
        for k in _LB_SETTINGS:
            if k not in t:
                continue
            v = t[k]
            if not isinstance(v, (str, int, float)) or (isinstance(v, float) and not math.isfinite(v)) \
                    or (isinstance(v, str) and len(v) > 400):
                raise fail(file, f"{place}.{k}", f"is {kind_of(v)}",
                           "llama-bench writes a number, boolean or short string here")
            settings.append((k, v))
        hw = hardware or (f"{t['cpu_info']} / {t['gpu_info']}" if t["gpu_info"] else t["cpu_info"])
        results.append(BenchResult(
            metric=BenchMetric.TOKENS_PER_S, test=test, value=avg, stderr=stderr, source=file, samples=n,
            backend=backend, threads=t["n_threads"], n_prompt=n_prompt, n_gen=n_gen, hardware=hw or None,
            settings=tuple(settings),
        ))
    assert model is not None  # at least one test, checked by _llama_bench_tests
    return BenchRead(results=tuple(results), notices=tuple(notices), model_filename=model[0],
                     model_size=model[1], model_n_params=model[2])


def _llama_bench_backend(t: Mapping[str, Any], file: str, place: str) -> str:
    """``backends`` as written, or the name older builds gave from their boolean backend fields."""
    if "backends" in t:
        if not isinstance(t["backends"], str):
            raise fail(file, f"{place}.backends", f"is {kind_of(t['backends'])}",
                       "llama-bench writes a string here; is this llama-bench -o json output?")
        return str(t["backends"])
    old = [k for k, _ in _LB_OLD_BACKENDS if k in t]
    if not old:
        raise fail(file, f"{place}.backends", "is missing, and so are the older builds' backend fields "
                   f"({', '.join(k for k, _ in _LB_OLD_BACKENDS)})",
                   "llama-bench -o json writes one or the other; is this llama-bench -o json output?")
    for k in old:
        if not isinstance(t[k], bool):
            raise fail(file, f"{place}.{k}", f"is {kind_of(t[k])}", "llama-bench writes true or false here")
    name = next((n for k, n in _LB_OLD_BACKENDS if t.get(k) is True), "CPU")
    rpc = t.get("rpc", False)
    if rpc not in (True, False, "0", "1"):
        raise fail(file, f"{place}.rpc", f"is {show(rpc)}", 'llama-bench writes "0" or "1" here')
    if rpc in (True, "1"):
        name = "RPC" if name == "CPU" else f"{name},RPC"
    return name


def _plain(metric_raw: Any, value_raw: Any, stderr_raw: Any, unit_raw: Any, file: str, place: str,
           hardware: str | None) -> BenchResult:
    try:
        metric = BenchMetric(metric_raw)
    except ValueError:
        raise fail(file, place, f"unknown metric {show(metric_raw)}", f"use one of {_METRICS}") from None
    unit = (unit_raw or "").strip() if isinstance(unit_raw, str) or unit_raw is None else None
    factors = UNITS[metric]
    if unit is not None and unit not in factors and unit.lower() in _WORDS and unit.lower() in factors:
        unit = unit.lower()
    if unit is None or unit not in factors:
        valid = ", ".join(u for u in factors if u)
        case = " (unit symbols are case-sensitive: m is milli and M mega, b a bit and B a byte)" if unit and any(
            unit.lower() == u.lower() for u in factors) else ""
        raise fail(file, f"{place}.unit", f"{show(unit_raw)} is not a unit of {metric}{case}",
                   f"use {valid} or leave it empty")
    factor = factors[unit]
    value = _finite(value_raw, file, f"{place}.value")
    if value < 0 or (value == 0 and metric is BenchMetric.TOKENS_PER_S):
        raise fail(file, f"{place}.value", f"{value:g} is not a possible {metric}",
                   "a positive throughput" if metric is BenchMetric.TOKENS_PER_S else "0 or more")
    stderr = None
    if stderr_raw not in (None, ""):
        stderr = _finite(stderr_raw, file, f"{place}.stderr")
        if stderr < 0:
            raise fail(file, f"{place}.stderr", f"{stderr:g} is negative", "a standard error is 0 or more")
        stderr *= factor
    return BenchResult(metric=metric, test="", value=value * factor, stderr=stderr, source=file, hardware=hardware)


def _finite(raw: Any, file: str, place: str) -> float:
    if isinstance(raw, str):
        try:
            v: float | None = float(raw.strip())
        except ValueError:
            v = None
    else:
        v = number(raw)
    if v is None or not math.isfinite(v):
        raise fail(file, place, f"{show(raw)} is not a finite number", "write a decimal number like 41.7")
    return v


def _read_plain_csv(text: str, file: str, hardware: str | None) -> BenchRead:
    reader = csv.reader(io.StringIO(text, newline=""))
    cols: dict[str, int] = {}
    out: list[BenchResult] = []
    seen: dict[str, int] = {}
    valid = "the header is metric,value with optional stderr and unit columns"
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if not cols:
                for i, c in enumerate(row):
                    name = c.strip().lower()
                    if name not in ("metric", "value", "stderr", "unit") or name in cols:
                        raise fail(file, f"line {line}", f"column {show(c)} is unknown or repeated", valid)
                    cols[name] = i
                if "metric" not in cols or "value" not in cols:
                    raise fail(file, f"line {line}", "the header lacks the metric or value column", valid)
                continue
            if len(row) != len(cols):
                raise fail(file, f"line {line}", f"{len(row)} fields, but the header has {len(cols)}",
                           "one value per column")
            metric = row[cols["metric"]].strip()
            place = f"line {line} ({metric})"
            if metric in seen:
                raise fail(file, place, f"{metric} appears twice (also on line {seen[metric]})",
                           "list each metric once")
            seen[metric] = line
            out.append(_plain(metric, row[cols["value"]], row[cols["stderr"]] if "stderr" in cols else None,
                              row[cols["unit"]] if "unit" in cols else None, file, place, hardware))
    except csv.Error as e:
        raise fail(file, f"line {reader.line_num}", f"not valid CSV ({str(e)[:80]})", valid) from None
    if not out:
        raise fail(file, None, "holds no metric rows", "a metric,value header and one row per metric")
    return BenchRead(results=tuple(out))


def _read_plain_json(doc: Any, file: str, hardware: str | None) -> BenchRead:
    if not isinstance(doc, Mapping) or not doc:
        raise fail(file, "top level", f"is {kind_of(doc)}" if not isinstance(doc, Mapping) else "is empty",
                   '{"tokens_per_s": 41.7} or {"latency_p50_ms": {"value": 23.1, "stderr": 0.4, "unit": "ms"}}')
    out = []
    for k, v in doc.items():
        if isinstance(v, Mapping):
            extra = sorted(set(v) - {"value", "stderr", "unit"})
            if extra or "value" not in v:
                raise fail(file, k, f"unknown key {show(extra[0])}" if extra else "has no value",
                           'use {"value": v} with optional "stderr" and "unit"')
            out.append(_plain(k, v["value"], v.get("stderr"), v.get("unit"), file, k, hardware))
        else:
            out.append(_plain(k, v, None, None, file, k, hardware))
    return BenchRead(results=tuple(out))


__all__ = ["FORMATS", "UNITS", "BenchRead", "read_bench"]
