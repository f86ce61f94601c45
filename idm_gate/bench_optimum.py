"""optimum-benchmark's reports (huggingface/optimum-benchmark, 0.2 onwards) as ``bench:`` figures.

Files read: ``benchmark.json`` (``{"config": ..., "report": ...}``: what the ``optimum-benchmark`` command
writes in each run folder, and ``Benchmark.save_json``), ``benchmark_report.json`` (the report alone,
which states no setup), and either one written with ``save_json(path, flat=True)`` (dotted keys such as
``"report.decode.throughput.value"``). Its ``save_csv`` output is refused with a hint.

A report maps each *target* (a phase the scenario timed: ``load_model`` (``load`` before 0.5),
``prefill``, ``decode``, ``per_token``, ``generate``, ``forward``, ``call``, ...) to five measurements,
each null when not tracked:

- ``latency``: ``unit`` ``"s"``, ``values`` (one per run), ``count``, ``total``, ``mean``, ``stdev``
  (numpy's population deviation), ``p50``, ``p90``, ``p95``, ``p99`` (numpy's linear percentiles) and,
  from 0.5, ``stdev_`` (percent of the mean);
- ``throughput``: ``unit`` (``"tokens/s"`` for decode; ``"samples/s"`` for prefill from 0.5) and ``value``;
- ``memory``: ``unit`` ``"MB"`` (10^6 bytes: the trackers divide bytes by 1e6), ``max_ram``, and on a GPU
  ``max_global_vram``, ``max_process_vram`` (and with PyTorch ``max_reserved``, ``max_allocated``), else null;
- ``energy``: ``unit`` ``"kWh"``, ``cpu``, ``ram``, ``gpu``, ``total`` (codecarbon's, per run);
- ``efficiency``: ``unit`` (``"tokens/kWh"`` for decode) and ``value`` (0 when the energy read was <= 0).

Figures taken (see the README's table):

``tokens_per_s decode``
    ``decode.throughput.value``: generated tokens (after the first, which prefill makes) over the mean
    decode time. Standard error by the delta method from the decode latencies:
    ``value * stdev / (mean * sqrt(count - 1))`` (``stdev / sqrt(count - 1)`` is the standard error of the
    mean, as ``stdev`` divides by ``count``); none for a single run.
``latency_p50_ms <target>``, ``latency_p95_ms <target>``
    ``p50`` and ``p95`` x 1000 for ``prefill`` (time to the first token), ``per_token`` (time per output
    token, on the backends that track it), ``forward`` (one request to a non-generative model) and
    ``call`` (one diffusion request). Not ``decode``, ``generate`` or ``load_model``: whole generations and
    loads are not the per-request latencies a ``max_latency_ms`` budget means.
``peak_memory_bytes <field>``
    The largest value over the serving targets (``prefill``, ``decode``, ``generate``, ``forward``,
    ``call``; not ``load_model``) x 10^6, of ``max_process_vram`` on a GPU (the benchmark's own processes'
    VRAM); where that reads 0 (NVML cannot see the process, as inside a container) of ``max_global_vram``
    (everything on those devices: an overstatement), with a notice; without VRAM fields (a CPU run) of
    ``max_ram`` (the process's resident memory). The field names the test, so a figure is compared only
    with the same field.
``energy_per_token_j decode``
    ``3.6e6 / decode.efficiency.value`` (J per kWh over tokens per kWh): the decode energy per generated
    token; codecarbon's ``cpu + ram + gpu``.

The setup two figures must share comes from ``config`` (``benchmark.json``): backend
``"<backend.name> (<backend.device>)"``, threads ``backend.intra_op_num_threads``, ``n_prompt``
``scenario.input_shapes.sequence_length``, ``n_gen`` ``scenario.generate_kwargs.max_new_tokens`` (or the
older ``scenario.new_tokens``), ``batch`` ``scenario.input_shapes.batch_size``; the hardware label is the
manifest's ``hardware:``, else ``environment.cpu`` and the names in ``environment.gpu`` at
``backend.device_ids`` (optimum-benchmark orders devices by PCI bus, as NVML lists them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .bench import BenchRead
from .data import BenchMetric, BenchResult
from .evals._common import fail, kind_of, show

MEASUREMENTS = ("memory", "latency", "throughput", "energy", "efficiency")
LATENCY_TARGETS = ("prefill", "per_token", "forward", "call")
SERVING_TARGETS = ("prefill", "decode", "generate", "forward", "call")
J_PER_KWH = 3.6e6
MB = 1e6


def looks_like_report(doc: Any) -> bool:
    """True for a parsed ``benchmark.json`` or ``benchmark_report.json`` (nested or flat)."""
    doc = unflatten(doc) if isinstance(doc, Mapping) else doc
    if not isinstance(doc, Mapping) or not doc:
        return False
    if "report" in doc and "config" in doc:
        return True  # benchmark.json, however damaged: its own reader says what is wrong
    return all(isinstance(v, Mapping) and v and set(v) <= set(MEASUREMENTS) for v in doc.values())


def unflatten(doc: Mapping[str, Any]) -> Any:
    """``save_json(flat=True)``'s dotted keys back into nested objects; other documents as they are."""
    if not any(isinstance(k, str) and "." in k for k in doc):
        return doc
    out: dict[str, Any] = {}
    for key, value in doc.items():
        *parents, last = key.split(".")
        node = out
        for p in parents:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                return doc  # a key is both a value and a parent: not a flattened report
            node = child
        if last in node:
            return doc
        node[last] = value
    return out


class _Reader:
    def __init__(self, file: str, report: Mapping[str, Any], prefix: str) -> None:
        self.file, self.report, self.prefix = file, report, prefix

    def place(self, *parts: str) -> str:
        return self.prefix + ".".join(parts)

    def section(self, target: str, name: str) -> Mapping[str, Any] | None:
        t = self.report.get(target)
        if t is None:
            return None
        if not isinstance(t, Mapping):
            raise fail(self.file, self.place(target), f"is {kind_of(t)}",
                       "optimum-benchmark writes an object of memory, latency, throughput, energy, efficiency")
        s = t.get(name)
        if s is None:
            return None
        if not isinstance(s, Mapping):
            raise fail(self.file, self.place(target, name), f"is {kind_of(s)}",
                       "optimum-benchmark writes an object or null here")
        return s

    def unit(self, target: str, name: str, s: Mapping[str, Any], valid: tuple[str, ...]) -> str:
        u = s.get("unit")
        if u not in valid:
            raise fail(self.file, self.place(target, name, "unit"),
                       f"is {show(u) if 'unit' in s else 'missing'}",
                       f"idm-gate reads {' or '.join(repr(v) for v in valid)} here, as optimum-benchmark writes it")
        return str(u)

    def number(self, target: str, name: str, s: Mapping[str, Any], key: str, *,
               optional: bool = False) -> float | None:
        v = s.get(key)
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            what = "missing" if key not in s else f"{show(v)}, not a measurement" if v is not None else "null"
            raise fail(self.file, self.place(target, name, key), f"is {what}",
                       "optimum-benchmark writes a finite non-negative number here; rerun the benchmark")
        return float(v)


def _setup(config: Mapping[str, Any] | None, hardware: str | None) -> dict[str, Any]:
    """backend, threads, n_prompt, n_gen, batch and hardware from a ``benchmark.json``'s config (None: unstated)."""
    def get(m: Any, *path: str) -> Any:
        for p in path:
            m = m.get(p) if isinstance(m, Mapping) else None
        return m

    def count(v: Any) -> int | None:
        return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None

    name, device = get(config, "backend", "name"), get(config, "backend", "device")
    backend = None
    if isinstance(name, str) and name:
        backend = f"{name} ({device})" if isinstance(device, str) and device else name
    shapes = get(config, "scenario", "input_shapes")
    n_gen = count(get(config, "scenario", "generate_kwargs", "max_new_tokens"))
    if n_gen is None:
        n_gen = count(get(config, "scenario", "new_tokens"))
    batch = count(get(shapes, "batch_size"))
    if hardware is None:
        cpu = get(config, "environment", "cpu")
        cpu = cpu.strip() if isinstance(cpu, str) else ""  # get_cpu() keeps /proc/cpuinfo's leading space
        gpus = get(config, "environment", "gpu")
        used: list[str] = []
        if isinstance(gpus, list) and device not in (None, "cpu") and all(isinstance(g, str) for g in gpus):
            ids = get(config, "backend", "device_ids")
            idx = [int(x) for x in ids.split(",") if x.strip().isdigit()] if isinstance(ids, str) \
                else [ids] if isinstance(ids, int) else []
            used = [gpus[i] for i in idx if 0 <= i < len(gpus)] if idx else []
            if not used or len(used) != len(idx):
                used = list(dict.fromkeys(gpus))  # ids unknown: every GPU the machine lists, once each
        names = list(dict.fromkeys(used))
        hardware = " / ".join(p for p in (cpu, ", ".join(names)) if p) or None
    return {"backend": backend, "threads": count(get(config, "backend", "intra_op_num_threads")),
            "n_prompt": count(get(shapes, "sequence_length")), "n_gen": n_gen, "batch": batch or None,
            "hardware": hardware}


def read_optimum(doc: Any, file: str, hardware: str | None) -> BenchRead:
    """The figures of one optimum-benchmark report (see the module docstring); ``InputError`` otherwise."""
    doc = unflatten(doc) if isinstance(doc, Mapping) else doc
    if not isinstance(doc, Mapping) or not looks_like_report(doc):
        raise fail(file, "top level", "is not an optimum-benchmark report",
                   "optimum-benchmark writes benchmark.json ({\"config\", \"report\"}) or benchmark_report.json "
                   "(an object of targets such as prefill and decode)")
    notices: list[str] = []
    if "report" in doc and "config" in doc:
        for key in ("config", "report"):
            if not isinstance(doc[key], Mapping):
                raise fail(file, key, f"is {kind_of(doc[key])}", "optimum-benchmark writes an object here")
        config: Mapping[str, Any] | None = doc["config"]
        r = _Reader(file, doc["report"], "report.")
    else:
        config = None
        r = _Reader(file, doc, "")
        notices.append(f"{file}: a report without its config (benchmark_report.json) states no setup (backend, "
                       "device, shapes, hardware), so its figures compare with any baseline's; read benchmark.json "
                       "from the same run folder instead")
    setup = _setup(config, hardware)
    backend_config = config.get("backend") if config is not None else None
    if isinstance(backend_config, Mapping) and backend_config.get("no_weights") is True:
        notices.append(f"{file}: backend.no_weights is true: the benchmark ran random weights of the model's "
                       "architecture, not these weights; speed and memory follow the architecture and dtype only")
    out: list[BenchResult] = []

    def add(metric: BenchMetric, test: str, value: float, stderr: float | None = None,
            samples: int | None = None) -> None:
        out.append(BenchResult(metric=metric, test=test, value=value, stderr=stderr, source=file,
                               samples=samples, **setup))

    # throughput: decode tokens per second, its standard error from the decode latencies
    tp = r.section("decode", "throughput")
    if tp is not None:
        r.unit("decode", "throughput", tp, ("tokens/s",))
        value = r.number("decode", "throughput", tp, "value")
        assert value is not None
        if value == 0:
            raise fail(file, r.place("decode", "throughput", "value"), "is 0 tokens per second",
                       "a run that generated tokens (the decode latency's mean was 0)")
        stderr, n = None, None
        lat = r.section("decode", "latency")
        if lat is not None:
            r.unit("decode", "latency", lat, ("s",))
            mean = r.number("decode", "latency", lat, "mean")
            sd = r.number("decode", "latency", lat, "stdev")
            c = lat.get("count")
            if isinstance(c, int) and not isinstance(c, bool) and c >= 1:
                n = c
            if n is not None and n >= 2 and mean:
                assert sd is not None
                stderr = value * sd / (mean * math.sqrt(n - 1))
        add(BenchMetric.TOKENS_PER_S, "decode", value, stderr, n)

    # latencies of one request or one token: p50 and p95, seconds -> ms
    for target in LATENCY_TARGETS:
        lat = r.section(target, "latency")
        if lat is None:
            continue
        r.unit(target, "latency", lat, ("s",))
        c = lat.get("count")
        n = c if isinstance(c, int) and not isinstance(c, bool) and c >= 1 else None
        for key, metric in (("p50", BenchMetric.LATENCY_P50_MS), ("p95", BenchMetric.LATENCY_P95_MS)):
            v = r.number(target, "latency", lat, key)
            assert v is not None
            add(metric, target, v * 1000.0, None, n)

    # peak memory over the serving targets: the process's VRAM on a GPU, its RAM on a CPU
    mems = [(t, m) for t in SERVING_TARGETS if (m := r.section(t, "memory")) is not None]
    if mems:
        for t, m in mems:
            r.unit(t, "memory", m, ("MB",))
        gpu = any(m.get("max_process_vram") is not None or m.get("max_global_vram") is not None for _, m in mems)
        if gpu:
            fields = ("max_process_vram", "max_global_vram")
            peaks = {f: max((r.number(t, "memory", m, f, optional=True) or 0.0) for t, m in mems) for f in fields}
            if peaks["max_process_vram"] > 0:
                field = "max_process_vram"
            elif peaks["max_global_vram"] > 0:
                field = "max_global_vram"
                notices.append(f"{file}: max_process_vram is 0 (NVML could not see the benchmark's process, as "
                               "inside a container): max_global_vram, everything on those GPUs, stands in and "
                               "overstates the model's memory")
            else:
                t0 = mems[0][0]
                raise fail(file, r.place(t0, "memory"), "max_process_vram and max_global_vram are both 0 on a GPU "
                           "run, so VRAM was not tracked", "rerun with NVML (nvidia-ml-py) or AMD SMI available")
            add(BenchMetric.PEAK_MEMORY_BYTES, field, peaks[field] * MB)
        else:
            peak = max((r.number(t, "memory", m, "max_ram") or 0.0) for t, m in mems)
            add(BenchMetric.PEAK_MEMORY_BYTES, "max_ram", peak * MB)

    # energy per generated token from the decode efficiency (tokens per kWh)
    eff = r.section("decode", "efficiency")
    if eff is not None:
        r.unit("decode", "efficiency", eff, ("tokens/kWh",))
        value = r.number("decode", "efficiency", eff, "value")
        assert value is not None
        if value == 0:
            raise fail(file, r.place("decode", "efficiency", "value"),
                       "is 0 tokens/kWh: the decode energy read was 0 or less (codecarbon samples power once a "
                       "second, too coarse for a run this short)",
                       "rerun with a longer scenario.duration, or with energy: false")
        add(BenchMetric.ENERGY_PER_TOKEN_J, "decode", J_PER_KWH / value)

    if not out:
        targets = ", ".join(str(k) for k in r.report) or "none"
        raise fail(file, None, f"holds no figure idm-gate reads (targets: {targets})",
                   "an inference run of optimum-benchmark: decode throughput, prefill/per_token/forward/call "
                   "latency, memory of the serving phases, or decode efficiency")
    return BenchRead(results=tuple(out), notices=tuple(notices))


__all__ = ["looks_like_report", "read_optimum", "unflatten"]
