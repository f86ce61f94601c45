"""Frozen values that flow between stages: manifest -> measurement (-> comparison -> report).

The values a check builds from these (verdicts, the check's result) are in :mod:`idm_gate.verdicts`.

Units: sizes in bytes (``size_bytes``) or decimal gigabytes (``*_gb``, 10^9 bytes); error rates and
their standard errors as fractions in [0, 1]; densities in nats/GB when ``log_base`` is
:attr:`LogBase.E` and in bits/GB when it is :attr:`LogBase.TWO` (``-log(error_rate) / size_gb``).
Closed sets are ``StrEnum``s: they compare by member, and serialize (JSON, f-strings) as their value.
Nothing here does I/O: importing this module loads no YAML, JSON Schema, HTTP or git code, and it
imports no other module of the package (:mod:`idm_gate.metric` imports it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

BYTES_PER_GB = 1e9  # sizes in GB are decimal gigabytes, as model cards and the published density use


class Verdict(StrEnum):
    """A model's or a whole check's outcome; ``fail`` makes ``check`` exit 1."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


VERDICT_RANK = {Verdict.PASS: 0, Verdict.WARN: 1, Verdict.FAIL: 2}  # worse is larger


class LogBase(StrEnum):
    """The logarithm's base in ``D = -log(Pe) / size_GB``: it sets the unit of every density.

    The manifest's ``log_base`` (``e`` or ``2``; YAML's number 2 is read as ``"2"``) and the reports'
    ``log_base`` field spell it by its value.
    """

    E = "e"    # natural log: densities in nats/GB (the published definition, and the default)
    TWO = "2"  # base-2 log: densities in bits/GB (the later whitepaper's choice)

    @property
    def factor(self) -> float:
        """``ln(base)``: a natural log divided by this is the log in this base (1 for ``e``, 0.693 for 2)."""
        match self:
            case LogBase.E:
                return 1.0
            case LogBase.TWO:
                return math.log(2.0)

    @property
    def unit(self) -> str:
        """The density unit: ``"nats/GB"`` or ``"bits/GB"``, as the reports and their schemas spell it."""
        match self:
            case LogBase.E:
                return "nats/GB"
            case LogBase.TWO:
                return "bits/GB"

    @property
    def symbol(self) -> str:
        """The log's name in the formula the reports print: ``"ln"`` or ``"log2"``."""
        match self:
            case LogBase.E:
                return "ln"
            case LogBase.TWO:
                return "log2"


class Scale(StrEnum):
    """The scale an eval score is written on: the manifest's ``scale:`` and a report task's ``scale``.

    A source without a declared scale (``EvalSource.scale`` None) is read on its format's convention
    or an inferred scale, and ``TaskScore.scale_inferred`` says so.
    """

    FRACTION = "fraction"  # scores in 0..1 (lm-eval, lighteval, MTEB write these)
    PERCENT = "percent"    # scores in 0..100 (model cards, OpenCompass); divided by 100 to a fraction


class ModelStatus(StrEnum):
    """How a model of the PR relates to the baseline."""

    NEW = "new"              # no baseline model of that name (or previous name)
    REMOVED = "removed"      # in the baseline, not in the PR
    CHANGED = "changed"      # size, error or the compared tasks differ
    UNCHANGED = "unchanged"  # same size, same tasks and metrics, same error rate


@dataclass(frozen=True)
class ArtifactSize:
    """One weight file (or remote object) and what its header told us.

    ``note`` says why a file that was not named is counted, or where a size came from when the
    source alone does not say it ("external data of onnx/model.onnx", "shard 2 of 4 named by
    model.safetensors.index.json"); it is shown in the reports. ``split``, ``arch`` and
    ``external`` are header facts the layout checks use (:mod:`idm_gate.sizing.layout`); they are
    not part of the report.
    """

    path: str                 # as shown to the user: repo-relative path, or the remote address
    size_bytes: int
    source: str               # "stat" | "lfs-pointer" | "dvc" | "index" | "hf-hub" | "http-head"
    format: str | None = None  # "safetensors" | "gguf" | "onnx" | "pytorch" | None
    params: int | None = None  # parameter count when the header gives it cheaply
    bits_per_param: float | None = None  # from the tensor dtypes, when known
    note: str | None = None   # why it is counted / where its size comes from, for the reports
    # GGUF: (split.no, split.count) as llama.cpp's gguf-split writes them; None for a whole file
    split: tuple[int, int] | None = field(default=None, compare=False)
    arch: str | None = field(default=None, compare=False)  # GGUF general.architecture
    # ONNX: the external data files its initializers name (``location``), relative to its folder
    external: tuple[str, ...] = field(default=(), compare=False)
    # GGUF: the bytes of tensor data (the sum of ggml_nbytes, padding excluded): what llama.cpp's
    # llama_model_size() and llama-bench's model_size report; None when a tensor type is unknown
    tensor_bytes: int | None = field(default=None, compare=False)
    # ONNX: a digest of the shapes of the graph's weight matrices (initializers of 2 or more dims and at
    # least 256 values), whatever their names and data types; two graphs with the same digest likely hold
    # the same weights (an export with and without past key values, one model in two precisions)
    weight_shapes: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SizeResult:
    """The sum over a model's artifacts."""

    size_bytes: int
    source: str                # one source, or "mixed" when several kinds contributed
    files: tuple[ArtifactSize, ...] = ()
    params: int | None = None  # None unless every file with weights gave a count
    bits_per_param: float | None = None  # 8 * size_bytes / params when params is known
    notices: tuple[str, ...] = ()  # what was left out or added, and plausibility warnings


@dataclass(frozen=True)
class EvalSource:
    """One entry of a model's ``evals:`` list in the manifest."""

    path: str | None = None           # file relative to the manifest's folder
    scores: dict[str, Any] | None = None         # inline {task: value}
    scale: Scale | None = None         # None: the format's convention, or inferred from the values
    format: str | None = None          # "lm-eval" | "model-index" | "csv" | "json" | None (detect)
    field: str = ""                    # "models[0].evals[1]", for messages
    # A classification result (confusion matrix, classification report) only: the task's name (default: the
    # file's stem) and the costs of its mistakes, {class: weight} or {true class: {predicted class: cost}}
    task: str | None = None
    costs: dict[str, Any] | None = None


@dataclass(frozen=True)
class TaskScore:
    """One task's result, normalised to an error fraction in [0, 1]."""

    task: str
    metric: str               # the metric key as the source spells it ("acc_norm,none", "accuracy")
    score: float              # the value as read, in the source's scale
    error: float              # error fraction in [0, 1] (1 - score for higher-is-better rates)
    stderr: float | None      # standard error on the fraction scale; None when unknown
    source: str               # the file (repo-relative) or "inline"
    scale: Scale = Scale.FRACTION  # scale of ``score``
    scale_inferred: bool = False
    # A partial run's sample count ("100 of 1172 examples"; lm-eval --limit, lighteval max_samples):
    # part of what two measurements must share to be compared. None for a full run.
    partial: str | None = None
    # A classification task with costs: (a departure from the published metric): its cost-weighted error
    # fraction in [0, 1] (metric.cost_weighted_error), counted in Pe instead of ``error``, and the costs it
    # was weighted with ("per-class fraud=10", "matrix sha256:..."), part of what makes two runs comparable.
    # ``stderr`` is then the standard error of ``cost_error``.
    cost_error: float | None = None
    costs: str | None = None

    @property
    def counted_error(self) -> float:
        """The error fraction this task contributes to Pe: ``cost_error`` when costs apply, else ``error``."""
        return self.error if self.cost_error is None else self.cost_error


@dataclass(frozen=True)
class EvalResult:
    """What one reader got from one source."""

    tasks: tuple[TaskScore, ...]
    notices: tuple[str, ...] = field(default_factory=tuple)


class BenchMetric(StrEnum):
    """An inference benchmark figure, each in one unit (the name ends with it)."""

    TOKENS_PER_S = "tokens_per_s"              # throughput, tokens per second (higher is better)
    LATENCY_P50_MS = "latency_p50_ms"          # median request latency, milliseconds
    LATENCY_P95_MS = "latency_p95_ms"          # 95th-percentile request latency, milliseconds
    PEAK_MEMORY_BYTES = "peak_memory_bytes"    # peak memory while serving, bytes
    ENERGY_PER_TOKEN_J = "energy_per_token_j"  # energy per generated token, joules


@dataclass(frozen=True)
class BenchSource:
    """One entry of a model's ``bench:`` list in the manifest."""

    path: str                     # file relative to the manifest's folder
    format: str | None = None     # "llama-bench" | "optimum-benchmark" | "csv" | "json" | None (detect)
    hardware: str | None = None   # the hardware label; llama-bench's cpu_info / gpu_info when absent
    field: str = ""               # "models[0].bench[1]", for messages


@dataclass(frozen=True, kw_only=True)
class BenchResult:
    """One benchmark figure of one model, with the setup it was measured under.

    Two results are comparable only when ``setup`` is equal: backend, threads, prompt and generation
    lengths (llama-bench's ``n_prompt``/``n_gen``), the batch size, the hardware label and the engine
    ``settings`` that change speed (llama-bench's ``n_gpu_layers``, ``flash_attn``, ``type_k`` ...,
    as written in its output). ``stderr`` is
    the standard error of ``value`` in its unit: llama-bench's sample standard deviation over the square
    root of its repetitions; optimum-benchmark's from its latency samples; a plain file's ``stderr``
    column as written.
    """

    metric: BenchMetric
    test: str                     # what was run: "pp512", "tg128", "pp512+tg128", "pp512 @ d512" (llama-bench);
                                  # "decode", "prefill", "per_token", "max_process_vram" (optimum-benchmark); ""
    value: float                  # in the metric's unit
    stderr: float | None
    source: str                   # the file, repository-relative
    samples: int | None = None    # runs behind the figure (llama-bench: len(samples_ts); optimum-benchmark: count)
    backend: str | None = None    # llama-bench ``backends`` ("CUDA", "CPU", "Metal,BLAS"); "pytorch (cuda)"
    threads: int | None = None    # llama-bench ``n_threads``
    n_prompt: int | None = None   # prompt tokens per run
    n_gen: int | None = None      # generated tokens per run
    hardware: str | None = None   # the manifest's label, or llama-bench's "cpu_info / gpu_info"
    batch: int | None = None      # sequences per run (optimum-benchmark's input_shapes.batch_size)
    # engine settings that change speed, (field, value) in the tool's order: llama-bench's
    # (("n_batch", 2048), ("type_k", "f16"), ("n_gpu_layers", 99), ("flash_attn", False), ...)
    settings: tuple[tuple[str, str | int | float | bool], ...] = ()

    @property
    def key(self) -> str:
        """What a baseline result is matched by: ``tokens_per_s`` or ``tokens_per_s tg128``."""
        return f"{self.metric} {self.test}" if self.test else str(self.metric)

    @property
    def setup(self) -> dict[str, Any]:
        """The conditions two results must share to be compared (None: not stated), settings included."""
        return {"backend": self.backend, "threads": self.threads, "n_prompt": self.n_prompt,
                "n_gen": self.n_gen, "batch": self.batch, "hardware": self.hardware, **dict(self.settings)}


@dataclass(frozen=True)
class Policy:
    """Gate settings of one model; None means "not set at this layer", so layers merge with ``over``."""

    max_drop: float | None = None        # largest allowed relative density drop, a fraction (0.05 = 5 %)
    warn_drop: float | None = None       # relative density drop that warns, a fraction
    min_density: float | None = None     # absolute floor, in the manifest's density unit (nats/GB or bits/GB)
    max_size_gb: float | None = None     # absolute ceiling on the size, in GB (10^9 bytes)
    max_error_rate: float | None = None  # absolute ceiling on the aggregated error rate, a fraction
    significance: bool | None = None     # a drop within z combined standard errors only warns
    z: float | None = None               # standard errors that count as noise (1.96: two-sided 95 %)
    # Inference budgets on the model's bench: figures (absolute, new models included), and a relative one
    min_tokens_per_s: float | None = None        # every tokens_per_s figure at least this
    max_latency_ms: float | None = None          # every latency figure (p50, p95) at most this, ms
    max_peak_memory_gb: float | None = None      # peak memory at most this, GB (10^9 bytes)
    max_energy_per_token_j: float | None = None  # energy per token at most this, joules
    max_throughput_drop: float | None = None     # a comparable tokens_per_s drop beyond this fraction fails
    min_group_density: float | None = None  # every group (manifest groups:) at least this density, same unit

    def over(self, other: Policy) -> Policy:
        """This policy's values where set, ``other``'s elsewhere: ``other`` itself when this one sets nothing
        (a model without its own ``gate:``), this one when it sets all ``other`` sets (a policy that already
        has the defaults); policies are frozen, so sharing one is safe."""
        mine = self.__dict__
        if all(v is None for v in mine.values()):
            return other
        theirs = other.__dict__
        if all(mine[k] is not None for k, v in theirs.items() if v is not None):
            return self  # sets everything ``other`` sets
        return Policy(**{k: (v if v is not None else theirs[k]) for k, v in mine.items()})

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class GroupMeasurement:
    """A domain of a model (manifest ``groups:``): its tasks' mean error and the density it gives.

    Averaged as the model's overall error rate is (the model's ``weights:`` and ``min_error`` apply), over
    the group's tasks only; the density divides by the whole model's size: ``-log(error_rate) / size_gb``.
    """

    name: str
    tasks: tuple[str, ...]           # the model's task names in the group, in the model's order
    error_rate: float                # mean error of those tasks (a fraction), after min_error
    raw_error_rate: float            # before min_error clamped it
    error_stderr: float | None       # standard error of error_rate; None when no task in it had one
    tasks_with_stderr: int
    density: float                   # same unit as the model's density
    density_stderr: float | None
    min_error_applied: bool = False


@dataclass(frozen=True)
class ModelMeasurement:
    """One model measured: its size, its aggregated error and the density they give."""

    name: str
    size_bytes: int                  # bytes counted (artifacts summed, or the declared size)
    size_source: str                 # "declared", one ArtifactSize.source, or "mixed"
    params: int | None               # parameter count when every weight file gave one
    bits_per_param: float | None     # 8 * size_bytes / params, when params is known
    error_rate: float                # aggregated error Pe in (0, 1], after min_error
    raw_error_rate: float            # the aggregate before min_error clamped it
    error_stderr: float | None       # standard error of Pe (a fraction); None when no task had one
    tasks_with_stderr: int           # tasks that contributed a standard error
    density: float                   # -log(Pe) / size_gb, in log_base.unit (nats/GB or bits/GB)
    density_stderr: float | None     # delta-method standard error of density, same unit
    log_base: LogBase                # the unit of density
    tasks: tuple[TaskScore, ...]
    artifacts: tuple[ArtifactSize, ...] = ()
    min_error_applied: bool = False  # Pe was raised to the manifest's min_error
    weights: dict[str, Any] | None = None  # task -> relative weight in the mean; None: equal weights
    notices: tuple[str, ...] = ()
    bench: tuple[BenchResult, ...] = ()  # inference benchmark results (manifest ``bench:``), beside density
    # With a task weighted by costs: (a departure), ``error_rate`` and ``density`` count its cost-weighted
    # error; these are the same figures with every task's plain error rate. None without costs.
    plain_error_rate: float | None = None
    plain_density: float | None = None
    groups: tuple[GroupMeasurement, ...] = ()  # domains (manifest ``groups:``), in the manifest's order

    @property
    def worst_group(self) -> GroupMeasurement | None:
        """The group with the lowest density (the first of equals); None without groups."""
        return min(self.groups, key=lambda g: g.density, default=None)

    @property
    def size_gb(self) -> float:
        """Size in decimal gigabytes (10^9 bytes)."""
        return self.size_bytes / BYTES_PER_GB

    @property
    def fingerprint(self) -> dict[str, Any]:
        """Task -> metric key (and, for a partial run, its sample count): what makes two measurements comparable.

        A full run's entry is the metric key alone (``"acc_norm,none"``), as in reports stored before
        partial runs were recognised; a partial run's is ``"acc_norm,none [100 of 1172 examples]"``; a
        task weighted by costs adds them: ``"accuracy [costs per-class fraud=10]"``.
        """
        return {t.task: t.metric + "".join(f" [{x}]" for x in (t.partial, t.costs and f"costs {t.costs}") if x)
                for t in self.tasks}


@dataclass(frozen=True)
class Measurement:
    """Every model of one manifest, measured at one commit (or working tree)."""

    manifest: str                    # the manifest as shown to the user (repository-relative path)
    manifest_digest: str             # SHA-256 of the manifest's bytes, hex
    log_base: LogBase                # densities in nats/GB or bits/GB
    models: tuple[ModelMeasurement, ...]
    notices: tuple[str, ...] = field(default_factory=tuple)

    def model(self, name: str) -> ModelMeasurement | None:
        return next((m for m in self.models if m.name == name), None)
