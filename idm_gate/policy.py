"""Which gate applies to a pull request: a PR cannot loosen its own gate. Pure: no git, no files.

The rules (README "The gate"):
- the policy that applies to a model is its gate at the base commit (its own ``gate:`` over the
  manifest's), with the defaults (``DEFAULTS``: max_drop 5 %, significance on, z 1.96) counting as set
  there: nothing the PR controls may loosen them;
- a flag or action input (the workflow file comes from the PR too) may tighten that gate, never loosen
  it; a looser value is ignored with a warning that names the base's setting;
- a model the PR adds has no gate at the base: the PR's own gate for it counts where it is stricter than
  the base's global gate;
- a PR that changes a model's gate is told so (the new gate applies after merge) and ``pr_only`` keeps
  that gate, so a failure it would pass can be marked as a policy question;
- ``min_density`` and ``min_group_density`` are converted when the PR switches ``log_base`` (nats/GB <->
  bits/GB);
- costs are policy (:func:`costs_at_base`): a classification task whose ``costs:`` the PR changes is
  weighed with the base commit's costs; the PR's costs take effect once merged.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from .data import EvalSource, LogBase, Policy

DEFAULTS = Policy(max_drop=0.05, significance=True, z=1.96)
RELATIVE = ("max_drop", "warn_drop", "max_throughput_drop")  # fractions, written as percentages

_N = TypeVar("_N", int, float)


def tighten(base: Policy, extra: Policy) -> Policy:
    """``base`` with ``extra`` filling unset values and tightening set ones; never loosening."""

    def pick(a: _N | None, b: _N | None, stricter: Callable[[_N, _N], _N]) -> _N | None:
        if a is None:
            return b
        if b is None:
            return a
        return stricter(a, b)

    sig = base.significance
    if extra.significance is False:
        sig = False  # turning the noise allowance off is stricter
    elif sig is None:
        sig = extra.significance
    return Policy(
        max_drop=pick(base.max_drop, extra.max_drop, min),
        warn_drop=pick(base.warn_drop, extra.warn_drop, min),
        min_density=pick(base.min_density, extra.min_density, max),
        max_size_gb=pick(base.max_size_gb, extra.max_size_gb, min),
        max_error_rate=pick(base.max_error_rate, extra.max_error_rate, min),
        significance=sig,
        z=pick(base.z, extra.z, min),
        min_tokens_per_s=pick(base.min_tokens_per_s, extra.min_tokens_per_s, max),
        max_latency_ms=pick(base.max_latency_ms, extra.max_latency_ms, min),
        max_peak_memory_gb=pick(base.max_peak_memory_gb, extra.max_peak_memory_gb, min),
        max_energy_per_token_j=pick(base.max_energy_per_token_j, extra.max_energy_per_token_j, min),
        max_throughput_drop=pick(base.max_throughput_drop, extra.max_throughput_drop, min),
        min_group_density=pick(base.min_group_density, extra.min_group_density, max),
    )


def in_unit(p: Policy, from_base: LogBase, to_base: LogBase) -> Policy:
    """``p`` with ``min_density`` and ``min_group_density`` (in the base manifest's ``log_base``) in this
    run's unit.

    Otherwise a PR switching ``log_base: e`` to ``2`` would meet a nats/GB budget with bits/GB figures,
    1.44 times larger.
    """
    if from_base == to_base:
        return p
    k = from_base.factor / to_base.factor
    return replace(p, min_density=None if p.min_density is None else p.min_density * k,
                   min_group_density=None if p.min_group_density is None else p.min_group_density * k)


def follow_renames(previous: Mapping[str, tuple[str, ...]], base_names: Container[str]) -> dict[str, str]:
    """Current name -> the name it had at the base commit, for each model whose own name the base
    commit's manifest lacks and one of whose ``previous_names`` (tried in order) it has.

    The names come from the base commit's manifest, which the PR cannot change; the manifest parser has
    already refused a previous name that a current model still has or that two models claim, so no
    baseline stands for two models and none escapes being compared.
    """
    out: dict[str, str] = {}
    for name, olds in previous.items():
        if name not in base_names:
            old = next((o for o in olds if o in base_names), None)
            if old is not None:
                out[name] = old
    return out


def setting_text(k: str, v: float | bool | None) -> str:
    """One policy setting as the manifest writes it: ``max_drop 5%``, ``significance on``, ``z 1.96``."""
    if v is None:
        return f"{k} unset"
    if isinstance(v, bool):
        return f"{k} {'on' if v else 'off'}"
    if k in RELATIVE:
        return f"{k} {v * 100:.4g}%"
    return f"{k} {v:.4g}"


def policy_text(p: Policy) -> str:
    """A policy in a report notice, percentages in the reports' one format: ``max_drop 5.0 %``."""
    d = p.as_dict()
    if not d:
        return "defaults"
    return ", ".join(f"{k} {v * 100:.1f} %" if k in RELATIVE and not isinstance(v, bool)
                     else setting_text(k, v) for k, v in d.items())


@dataclass(frozen=True)
class BaseGate:
    """The gate the base commit sets for this PR's models.

    ``policies``: model -> the policy that applies; ``pr_only``: model -> the PR's own gate for it where
    the PR changes it (it applies after merge); ``notices`` and ``warnings``: one line each, for the
    report and for standard error.
    """

    policies: dict[str, Policy]
    pr_only: dict[str, Policy] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def at_base(models: Sequence[str], renames: Mapping[str, str], base_policies: Mapping[str, Policy],
            base_gate: Policy, base_log_base: LogBase, log_base: LogBase, pr_policies: Mapping[str, Policy] | None,
            cli: Policy, cli_terms: Mapping[str, str]) -> BaseGate:
    """The policies for ``models`` (current names) when the base commit has a manifest.

    ``base_policies`` are the base manifest's per-model gates (each over its global ``base_gate``), in
    ``base_log_base``'s unit; ``pr_policies`` the PR manifest's (None when it is not read: publish mode);
    ``cli`` what flags or action inputs set, ``cli_terms`` how the user wrote each (for the warnings).
    """
    policies: dict[str, Policy] = {}
    pr_only: dict[str, Policy] = {}
    notices: list[str] = []
    ignored: dict[str, list[str]] = {}  # policy field the user loosened -> models it was ignored for
    cli_set = cli.as_dict()
    # Most models share their gate (the manifest's own, frozen and shared): each one is worked out once.
    # Keyed by identity, not equality: gates that are equal but not the same (1 and 1.0) keep their own
    # values in the result. Each value holds its key objects, so no id is reused while the dicts live.
    floors: dict[int, tuple[Policy, Policy]] = {}  # id(base policy) -> (floor, base policy)
    # (id(floor), id(extra)) -> (policy, cli fields lost, extra)
    applied: dict[tuple[int, int], tuple[Policy, list[str], Policy]] = {}
    for name in models:
        was = renames.get(name, name)  # a renamed model is held to its old name's gate
        bp = base_policies.get(was, base_gate)
        # What applies when the base sets nothing (max_drop 5 %, z 1.96) is the base's gate too.
        known = floors.get(id(bp))
        if known is None:
            known = floors[id(bp)] = (in_unit(bp, base_log_base, log_base).over(DEFAULTS), bp)
        floor = known[0]
        new_model = was not in base_policies
        extra = cli
        if new_model and pr_policies and name in pr_policies:
            # A model the PR adds has no policy at the base: the PR's own budget for it counts too,
            # but only where it is stricter than the base's global gate.
            extra = tighten(pr_policies[name], cli)
        done = applied.get((id(floor), id(extra)))
        if done is None:
            done = applied[(id(floor), id(extra))] = (tighten(floor, extra), [
                k for k, v in cli_set.items() if getattr(tighten(floor, Policy(**{k: v})), k) != v], extra)
        policies[name] = done[0]
        for k in done[1]:
            ignored.setdefault(k, []).append(name)
        pp = (pr_policies or {}).get(name)
        if pp is not None and pp != bp and not new_model:
            pr_only[name] = tighten(pp.over(DEFAULTS), cli)
            notices.append(f"this PR changes the gate policy of {name} "
                           f"({policy_text(bp)} -> {policy_text(pp)}); the new policy applies after merge")
    warnings = []
    for k, names in ignored.items():
        floor_k = {getattr(in_unit(base_policies.get(n, base_gate), base_log_base, log_base).over(DEFAULTS), k)
                   for n in names}
        which = "every model" if len(names) == len(models) else ", ".join(names)
        base_says = " / ".join(sorted(setting_text(k, v) for v in floor_k))
        warnings.append(f"{cli_terms.get(k, setting_text(k, getattr(cli, k)))} was ignored for "
                        f"{which}: it is looser than the base commit's gate ({base_says}), and a pull request "
                        "cannot relax its own gate; change gate: in the base branch's manifest instead")
    return BaseGate(policies=policies, pr_only=pr_only, notices=tuple(notices), warnings=tuple(warnings))


def introduced(models: Sequence[str], pr_policies: Mapping[str, Policy] | None, cli: Policy) -> dict[str, Policy]:
    """The policies when the base commit has no manifest (the PR introduces the gate).

    The PR's own gates apply (tightened by ``cli``): there is no baseline to compare with, so only their
    absolute budgets can matter. In publish mode (``pr_policies`` None) the PR's manifest is not trusted,
    and only what the workflow sets applies.
    """
    if pr_policies is None:
        return {name: cli for name in models}
    return {k: tighten(v, cli) for k, v in pr_policies.items()}


@dataclass(frozen=True)
class CostsAtBase:
    """The evals to measure a PR with when costs are policy.

    ``evals``: model (current name) -> its ``evals:`` entries, each with the base commit's ``costs:``
    where the PR changed them; ``notices``: one line per changed entry, for the report. No notices:
    nothing changed, and ``evals`` holds the PR's entries as they are.
    """

    evals: dict[str, tuple[EvalSource, ...]]
    notices: tuple[str, ...] = ()


def costs_at_base(models: Sequence[tuple[str, Sequence[EvalSource]]],
                  base_models: Mapping[str, Sequence[EvalSource]], renames: Mapping[str, str],
                  shown: str) -> CostsAtBase:
    """Costs are policy: a PR must not loosen its own gate by changing what a mistake costs.

    ``models``: the PR manifest's (name, evals) in order; ``base_models``: the base commit's manifest,
    name -> evals; ``renames``: current name -> name at the base (:func:`follow_renames`); ``shown``: how
    messages name the PR's manifest. A results-file entry is matched to the base's entry for the same
    task (its ``task:``, or the file's stem); when their ``costs:`` differ, the base's replace the PR's.
    An entry without a file (inline scores), a task the base lacks and a model the base lacks keep the
    PR's costs: there is nothing at the base they could loosen.
    """
    from .evals.confusion import default_task, describe_costs  # pure helpers; loaded only when needed

    def task_of(e: EvalSource) -> str | None:
        return e.task or default_task(e.path) if e.path is not None else None

    out: dict[str, tuple[EvalSource, ...]] = {}
    notices: list[str] = []
    for name, evals in models:
        at_base = {task_of(e): e for e in base_models.get(renames.get(name, name), ()) if e.path is not None}
        kept = []
        for e in evals:
            b = at_base.get(task_of(e))
            if b is not None and b.costs != e.costs:
                notices.append(f"{shown}: {e.field}.costs: this PR changes the costs of task {task_of(e)} "
                               f"({describe_costs(b.costs)} -> {describe_costs(e.costs)}); costs are policy, so "
                               "the gate weighs the PR's counts with the base commit's costs; the new costs take "
                               "effect once merged")
                e = replace(e, costs=b.costs)
            kept.append(e)
        out[name] = tuple(kept)
    return CostsAtBase(evals=out, notices=tuple(notices))
