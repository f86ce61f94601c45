"""Frozen values a check produces: one model's verdict against its baseline, and the whole check's result.

These are the comparison -> report half of the values :mod:`idm_gate.data` starts: they hold
:class:`~idm_gate.data.ModelMeasurement` and :class:`~idm_gate.data.Policy` values and carry densities in
the check's ``log_base`` unit (nats/GB or bits/GB), relative changes as fractions ((new - old) / old).
They live apart from :mod:`idm_gate.data` so that ``measure``, which never builds them, does not pay for
creating their classes at start-up (each frozen dataclass costs about 1 ms of compiling on Python 3.11;
benchmarks/bench_measure.py). Nothing here does I/O, and this module imports only :mod:`idm_gate.data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .data import VERDICT_RANK, BenchResult, GroupMeasurement, LogBase, ModelMeasurement, ModelStatus, Policy, Verdict


@dataclass(frozen=True)
class Decomposition:
    """``Δln D = Δln(-ln Pe) - Δln size``: how much of a change came from accuracy, how much from size."""

    total: float          # ln(D_new / D_old)
    accuracy: float       # ln(-ln Pe_new / -ln Pe_old)
    size: float           # -ln(size_new / size_old)
    break_even_bytes: float | None  # size at which Pe_new would keep D_old; None when undefined


@dataclass(frozen=True, kw_only=True)
class Side:
    """One side of a comparison, on the tasks both sides share."""

    density: float
    density_stderr: float | None
    error_rate: float
    size_bytes: int


@dataclass(frozen=True, kw_only=True)
class GroupChange:
    """One group (domain) of a model against the baseline's group of the same name.

    ``compared_tasks`` are the tasks both sides' groups hold with the same metric; ``cur`` and ``base`` are
    the group's figures on them. ``delta_rel`` is (cur - base) / base density; None when the group is
    new, gone or not comparable, and ``why`` then says which.
    """

    name: str
    current: GroupMeasurement | None
    baseline: GroupMeasurement | None
    compared_tasks: tuple[str, ...] = ()
    cur: Side | None = None
    base: Side | None = None
    delta_rel: float | None = None
    why: str | None = None


@dataclass(frozen=True, kw_only=True)
class BenchChange:
    """One benchmark figure of a model, against the baseline's figure of the same ``key``.

    ``comparable`` is False when either side is missing or their setups differ; ``why`` then says what
    differs ("threads 8 -> 16"). ``delta_rel`` is (current - baseline) / baseline when comparable.
    """

    key: str
    current: BenchResult | None
    baseline: BenchResult | None
    comparable: bool = False
    why: str | None = None
    delta_rel: float | None = None


@dataclass(frozen=True, kw_only=True)
class ModelVerdict:
    name: str
    verdict: Verdict
    status: ModelStatus
    current: ModelMeasurement | None
    baseline: ModelMeasurement | None
    policy: Policy
    cur: Side | None = None            # compared values (common tasks)
    base: Side | None = None
    delta: float | None = None         # density change, absolute
    delta_rel: float | None = None     # (cur - base) / base
    decomposition: Decomposition | None = None
    within_noise: bool = False
    density_failed: bool = False       # a FAIL from density, size, error-rate or group rules (not bench: figures)
    missing_in_pr: tuple[str, ...] = ()
    new_in_pr: tuple[str, ...] = ()
    metric_changed: tuple[str, ...] = ()
    # tasks whose costs the PR changed and whose counts could not be weighed with the base's costs: ``cur``
    # and ``base`` count their plain error rate (compare.py), the rest of the model as usual
    plain_compared: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    # a failing model that the PR's own (not applied) ``gate:`` for it would pass: the policy is the issue
    pr_policy_passes: bool = False
    # the baseline model this one was compared with under its previous name (manifest ``previous_names``)
    renamed_from: str | None = None
    bench: tuple[BenchChange, ...] = ()  # benchmark figures beside density, each with its change
    groups: tuple[GroupChange, ...] = ()  # the model's domains (groups:), each with its change


@dataclass(frozen=True, kw_only=True)
class RecordedDensity:
    """One model's density in one baseline record of the base branch, for the PR comment's charts."""

    commit: str     # the recorded commit's SHA
    model: str      # the model's name in that record
    density: float  # in the CheckResult's log_base.unit


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    verdict: Verdict                   # the worst model verdict (pass without models)
    models: tuple[ModelVerdict, ...]
    log_base: LogBase                  # the unit of every density compared (the current run's)
    baseline_commit: str | None = None
    baseline_distance: int | None = None
    merge_base: str | None = None
    notices: tuple[str, ...] = field(default_factory=tuple)
    head_commit: str | None = None     # the commit that was measured (a PR's merge commit in Actions)
    baseline_date: str | None = None   # committer date of baseline_commit, ISO 8601
    # the base branch's last recorded densities, oldest first, ending at the baseline (charts only)
    history: tuple[RecordedDensity, ...] = ()
    # what the comment's frontier chart is drawn against: "size", or a bench: figure (--frontier-axis,
    # the action's frontier-axis input; idm_gate.report.axis)
    frontier_axis: str = "size"

    def largest_change(self) -> ModelVerdict | None:
        """The compared model whose density changed most in relative terms, up or down."""
        moved = [v for v in self.models if v.delta_rel is not None and v.delta_rel != 0]
        return max(moved, key=lambda v: abs(v.delta_rel or 0.0), default=None)

    def worst_model(self) -> ModelVerdict | None:
        """The model with the worst outcome: worst verdict, then the largest relative drop."""
        if not self.models:
            return None
        return max(self.models,
                   key=lambda v: (VERDICT_RANK[v.verdict], -(v.delta_rel if v.delta_rel is not None else 0)))
