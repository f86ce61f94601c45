"""Frozen values that flow between stages: manifest -> measurement -> comparison -> report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    scale: str | None = None           # "fraction" | "percent" | None (infer where a convention exists)
    format: str | None = None          # "lm-eval" | "model-index" | "csv" | "json" | None (detect)
    field: str = ""                    # "models[0].evals[1]", for messages


@dataclass(frozen=True)
class TaskScore:
    """One task's result, normalised to an error fraction in [0, 1]."""

    task: str
    metric: str               # the metric key as the source spells it ("acc_norm,none", "accuracy")
    score: float              # the value as read, in the source's scale
    error: float              # error fraction in [0, 1] (1 - score for higher-is-better rates)
    stderr: float | None      # standard error on the fraction scale; None when unknown
    source: str               # the file (repo-relative) or "inline"
    scale: str = "fraction"   # scale of ``score``: "fraction" | "percent"
    scale_inferred: bool = False
    # A partial run's sample count ("100 of 1172 examples"; lm-eval --limit, lighteval max_samples):
    # part of what two measurements must share to be compared. None for a full run.
    partial: str | None = None


@dataclass(frozen=True)
class EvalResult:
    """What one reader got from one source."""

    tasks: tuple[TaskScore, ...]
    notices: tuple[str, ...] = field(default_factory=tuple)
