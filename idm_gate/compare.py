"""Baseline + current measurement + policy -> verdicts. Pure: no I/O.

Rules (README "The gate"):
- absolute budgets (min_density, max_size_gb, max_error_rate) apply to every model, new ones included;
- a relative density drop beyond ``max_drop`` fails and beyond ``warn_drop`` warns;
- with significance on and a standard error on both sides, a drop beyond ``max_drop`` fails only when it
  also lies beyond ``z`` combined standard errors; otherwise it warns as "within noise";
- when the task set, a task's metric or a partial run's sample count differ, both sides are recomputed on
  the common tasks and the difference is named; with no common task the model cannot be compared (warn);
- costs are policy: a classification task whose costs the PR changed (and that the check could not weigh
  with the base's costs, see gate.check) is compared on its plain error rate on both sides, with a warning
  naming both costs; it never leaves the comparison (groups still compare only tasks with equal costs);
- every change is split into its accuracy and size parts, with the break-even size;
- groups (domains, manifest ``groups:``): ``min_group_density`` applies to every group of every model, new
  ones included; a group present at both sides is compared on the tasks both versions of it hold (among
  the model's comparable tasks) under the same ``max_drop``/``warn_drop``/significance rule as the model,
  so a model that improves on average but collapses in one domain fails; a group whose tasks changed,
  or that the PR no longer has, warns;
- inference figures (``bench:``) stand beside density, never folded into it: their absolute budgets
  (min_tokens_per_s, max_latency_ms, max_peak_memory_gb, max_energy_per_token_j) apply to every model; a
  figure is compared with the baseline's of the same key only when their setups (backend, threads,
  prompt/generation lengths, hardware label, and the engine settings that change speed, e.g. llama-bench's
  n_gpu_layers, flash_attn, type_k) match, else it is "not comparable" (warn) with the reason;
  a comparable tokens_per_s drop beyond ``max_throughput_drop`` fails, or with significance on warns
  when it lies within ``z`` combined standard errors; a baseline figure the PR no longer measures warns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from . import groups, metric
from .data import (
    BYTES_PER_GB,
    VERDICT_RANK,
    BenchMetric,
    LogBase,
    Measurement,
    ModelMeasurement,
    ModelStatus,
    Policy,
    TaskScore,
    Verdict,
)
from .policy import DEFAULTS
from .verdicts import BenchChange, CheckResult, GroupChange, ModelVerdict, Side

PASS, WARN, FAIL = Verdict.PASS, Verdict.WARN, Verdict.FAIL
_NO_POLICY = Policy()  # a model no policy names: nothing set (frozen, so one serves all)


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=VERDICT_RANK.__getitem__, default=PASS)


def _plain(t: TaskScore) -> TaskScore:
    """``t`` counting its plain error rate: without its costs, and without a standard error, since the
    measurement keeps only the cost-weighted error's (the plain one needs the sample count)."""
    return replace(t, cost_error=None, costs=None, stderr=None) if t.cost_error is not None else t


def _side(m: ModelMeasurement, tasks: list[str], log_base: LogBase, plain: frozenset[str] = frozenset()) -> Side:
    """``m`` on the task names ``tasks``; those in ``plain`` count their plain error rate (:func:`_plain`), and
    the side then has no density standard error."""
    by = {t.task: t for t in m.tasks}
    chosen = [_plain(by[t]) if t in plain else by[t] for t in tasks]
    if len(chosen) == len(m.tasks) and m.log_base == log_base and not plain & set(tasks):
        return Side(density=m.density, density_stderr=m.density_stderr, error_rate=m.error_rate,
                    size_bytes=m.size_bytes)
    w = [float(m.weights.get(t.task, 1.0)) for t in chosen] if m.weights else None
    agg = metric.aggregate_error([t.counted_error for t in chosen], [t.stderr for t in chosen], w,
                                 m.error_rate if m.min_error_applied else None)
    d = metric.density(agg.error_rate, m.size_bytes, log_base)
    sd = metric.density_stderr(agg.error_rate, agg.error_stderr, m.size_bytes, log_base)
    if plain & set(tasks):  # a task without its standard error would shrink the noise allowance: none at all
        sd = None
    return Side(density=d, density_stderr=sd, error_rate=agg.error_rate, size_bytes=m.size_bytes)


def _pc(x: float) -> str:
    """One percentage format in every report: 0.05 -> "5.0 %"."""
    return f"{x * 100:.1f} %"


def _budgets(cur: ModelMeasurement, p: Policy, unit: str) -> list[tuple[Verdict, str]]:
    out: list[tuple[Verdict, str]] = []
    if p.min_density is not None and cur.density < p.min_density:
        out.append((FAIL, f"density {cur.density:.4g} {unit} is below min_density {p.min_density:g}"))
    if p.max_size_gb is not None and cur.size_gb > p.max_size_gb:
        out.append((FAIL, f"size {cur.size_gb:.4g} GB is over max_size_gb {p.max_size_gb:g}"))
    if p.max_error_rate is not None and cur.error_rate > p.max_error_rate:
        out.append((FAIL, f"error rate {cur.error_rate:.4g} is over max_error_rate {p.max_error_rate:g}"))
    for g in cur.groups:
        if p.min_group_density is not None and g.density < p.min_group_density:
            out.append((FAIL, f"group {g.name}: density {g.density:.4g} {unit} is below min_group_density "
                              f"{p.min_group_density:g}"))
    return out


def _bench_budgets(cur: ModelMeasurement, p: Policy) -> list[tuple[Verdict, str]]:
    out: list[tuple[Verdict, str]] = []
    for b in cur.bench:
        if b.metric is BenchMetric.TOKENS_PER_S and p.min_tokens_per_s is not None and b.value < p.min_tokens_per_s:
            out.append((FAIL, f"{b.key} {b.value:.4g} is below min_tokens_per_s {p.min_tokens_per_s:g}"))
        elif b.metric in (BenchMetric.LATENCY_P50_MS, BenchMetric.LATENCY_P95_MS) and p.max_latency_ms is not None \
                and b.value > p.max_latency_ms:
            out.append((FAIL, f"{b.key} {b.value:.4g} is over max_latency_ms {p.max_latency_ms:g}"))
        elif b.metric is BenchMetric.PEAK_MEMORY_BYTES and p.max_peak_memory_gb is not None \
                and b.value / BYTES_PER_GB > p.max_peak_memory_gb:
            out.append((FAIL, f"peak memory {b.value / BYTES_PER_GB:.4g} GB is over max_peak_memory_gb "
                              f"{p.max_peak_memory_gb:g}"))
        elif b.metric is BenchMetric.ENERGY_PER_TOKEN_J and p.max_energy_per_token_j is not None \
                and b.value > p.max_energy_per_token_j:
            out.append((FAIL, f"{b.key} {b.value:.4g} is over max_energy_per_token_j {p.max_energy_per_token_j:g}"))
    return out


def _setup_diff(cur: dict[str, Any], base: dict[str, Any]) -> str:
    """What differs between two benchmark setups: ``threads 8 -> 16, hardware 'a' -> 'b'``. A setting one
    side states and the other does not is a difference (``use_mmap unstated -> true``): its value at the
    baseline is unknown. Booleans read as the integers they equal (llama-bench wrote ``flash_attn`` as
    ``false``/``true`` before it became ``0``/``1``/``-1``)."""
    def show(v: Any) -> str:
        if v is None:
            return "unstated"
        if isinstance(v, bool):
            return "true" if v else "false"
        return repr(v) if isinstance(v, str) else str(v)
    keys = [*cur, *(k for k in base if k not in cur)]
    return ", ".join(f"{k} {show(base.get(k))} -> {show(cur.get(k))}" for k in keys if cur.get(k) != base.get(k))


def compare_bench(cur: ModelMeasurement, base: ModelMeasurement | None,
                  p: Policy) -> tuple[tuple[BenchChange, ...], list[tuple[Verdict, str]]]:
    """Each benchmark figure of ``cur`` against ``base``'s of the same key (and the baseline's figures the
    PR no longer has), with the verdicts the relative rule gives. ``p`` has DEFAULTS applied."""
    changes: list[BenchChange] = []
    results: list[tuple[Verdict, str]] = []
    base_by = {b.key: b for b in base.bench} if base is not None else {}
    for b in cur.bench:
        old = base_by.pop(b.key, None)
        if old is None:
            changes.append(BenchChange(key=b.key, current=b, baseline=None,
                                       why="no baseline figure" if base is not None else None))
            continue
        if b.settings and not old.settings:
            # a baseline recorded before idm-gate kept the engine settings: one short reason, not one per setting
            cur_setup = {k: v for k, v in b.setup.items() if k not in dict(b.settings)}
            diff = ", ".join(x for x in (_setup_diff(cur_setup, old.setup), f"the baseline states none of the "
                             f"engine settings ({', '.join(k for k, _ in b.settings)}): record it again") if x)
        else:
            diff = _setup_diff(b.setup, old.setup)
        if diff:
            changes.append(BenchChange(key=b.key, current=b, baseline=old, why=diff))
            results.append((WARN, f"{b.key} not comparable with the baseline: {diff}"))
            continue
        rel = (b.value - old.value) / old.value if old.value > 0 else None
        changes.append(BenchChange(key=b.key, current=b, baseline=old, comparable=True, delta_rel=rel))
        if b.metric is not BenchMetric.TOKENS_PER_S or rel is None or p.max_throughput_drop is None:
            continue
        drop = -rel
        if drop > p.max_throughput_drop:
            se = (math.hypot(b.stderr, old.stderr) if b.stderr is not None and old.stderr is not None else None)
            if p.significance and se is not None and old.value - b.value <= (p.z or 0) * se:
                results.append((WARN, f"{b.key} down {_pc(drop)} (over max_throughput_drop "
                                      f"{_pc(p.max_throughput_drop)}) but within noise: {old.value - b.value:.3g} <= "
                                      f"{p.z:g} x {se:.3g} combined standard error"))
            else:
                results.append((FAIL, f"{b.key} down {_pc(drop)}, over max_throughput_drop "
                                      f"{_pc(p.max_throughput_drop)}"))
    for old in base_by.values():
        changes.append(BenchChange(key=old.key, current=None, baseline=old, why="not measured in the PR"))
    if base_by:
        # A warning, as for a group that disappears: deleting bench: (or a test from its file) would
        # otherwise take the figure out of the gate unnoticed.
        results.append((WARN, f"{', '.join(base_by)} {'is' if len(base_by) == 1 else 'are'} in the baseline's "
                              "benchmark figures but not measured in the PR: no longer gated (restore the bench: "
                              "file or test to keep it compared)"))
    return tuple(changes), results


def _drop_rule(cs: Side, bs: Side, p: Policy, what: str = "") -> tuple[list[tuple[Verdict, str]], bool]:
    """The relative rule on one density change (a model's, or with ``what`` "group math: " a group's):
    beyond ``max_drop`` fails (or warns within noise under significance), beyond ``warn_drop`` warns.
    Returns the verdicts and whether the drop was within noise. ``p`` has DEFAULTS applied."""
    results: list[tuple[Verdict, str]] = []
    delta = cs.density - bs.density
    rel = delta / bs.density if bs.density > 0 else None
    drop = -rel if rel is not None else None
    noise = False
    assert p.max_drop is not None and p.z is not None  # DEFAULTS sets both
    if drop is not None and drop > p.max_drop:
        se = (math.sqrt(cs.density_stderr ** 2 + bs.density_stderr ** 2)
              if cs.density_stderr is not None and bs.density_stderr is not None else None)
        if p.significance and se is not None and -delta <= p.z * se:
            noise = True
            results.append((WARN, f"{what}density down {_pc(drop)} (over max_drop {_pc(p.max_drop)}) but within "
                                  f"noise: {-delta:.3g} <= {p.z:g} x {se:.3g} combined standard error"))
        else:
            results.append((FAIL, f"{what}density down {_pc(drop)}, over max_drop {_pc(p.max_drop)}"))
    elif drop is not None and p.warn_drop is not None and drop > p.warn_drop:
        results.append((WARN, f"{what}density down {_pc(drop)}, over warn_drop {_pc(p.warn_drop)}"))
    elif rel is None:
        results.append((WARN, f"{what}baseline density is not positive; relative change undefined"))
    return results, noise


def compare_groups(cur: ModelMeasurement, base: ModelMeasurement | None, common: list[str], p: Policy,
                   log_base: LogBase) -> tuple[tuple[GroupChange, ...], list[tuple[Verdict, str]]]:
    """Each group of ``cur`` against ``base``'s group of the same name, on the tasks both groups hold among
    ``common`` (the model's comparable tasks), under the model's relative rule; and the baseline's groups
    the PR no longer has (a warning: the domain would otherwise leave the gate unnoticed)."""
    changes: list[GroupChange] = []
    results: list[tuple[Verdict, str]] = []
    base_by = {g.name: g for g in base.groups} if base is not None else {}
    comparable = set(common)
    for g in cur.groups:
        old = base_by.pop(g.name, None)
        if old is None:
            changes.append(GroupChange(name=g.name, current=g, baseline=None,
                                       why="new group" if base is not None else None))
            continue
        assert base is not None
        what = f"group {g.name}: "
        left = [t for t in old.tasks if t not in g.tasks]
        joined = [t for t in g.tasks if t not in old.tasks]
        on = tuple(t for t in g.tasks if t in old.tasks and t in comparable)
        if left or joined:
            moved = "; ".join(x for x in (f"left: {', '.join(left)}" if left else "",
                                          f"joined: {', '.join(joined)}" if joined else "") if x)
            results.append((WARN, f"{what}its tasks changed ({moved}); compared on the {len(on)} task(s) both "
                                  "versions hold"))
        if not on:
            changes.append(GroupChange(name=g.name, current=g, baseline=old,
                                       why="no comparable task in common with the baseline's group"))
            continue
        try:
            cs = groups.side(g, cur.tasks, on, cur.weights, cur.size_bytes, log_base)
            bs = groups.side(old, base.tasks, on, base.weights, base.size_bytes, log_base)
        except metric.MetricError as e:
            results.append((WARN, f"{what}not comparable with the baseline: {e}"))
            changes.append(GroupChange(name=g.name, current=g, baseline=old, compared_tasks=on,
                                       why=f"not comparable: {e}"))
            continue
        rel = (cs.density - bs.density) / bs.density if bs.density > 0 else None
        changes.append(GroupChange(name=g.name, current=g, baseline=old, compared_tasks=on, cur=cs, base=bs,
                                   delta_rel=rel, why=None if rel is not None else "baseline density not positive"))
        results += _drop_rule(cs, bs, p, what)[0]
    for old in base_by.values():
        changes.append(GroupChange(name=old.name, current=None, baseline=old, why="not in the PR's groups"))
        results.append((WARN, f"group {old.name} is in the baseline but not in the PR's groups: that domain is no "
                              "longer compared (if it was renamed, its baseline is not followed)"))
    return tuple(changes), results


def budget_breaches(cur: ModelMeasurement, policy: Policy, log_base: LogBase) -> list[str]:
    """The absolute budgets of ``policy`` (min_density in ``log_base``'s unit, max_size_gb in GB of 10^9
    bytes, max_error_rate as a fraction) that ``cur`` breaks, one message each; [] when none or unset."""
    return [r for _, r in _budgets(cur, policy, log_base.unit) + _bench_budgets(cur, policy)]


def compare_model(cur: ModelMeasurement | None, base: ModelMeasurement | None, policy: Policy,
                  log_base: LogBase) -> ModelVerdict:
    p = policy.over(DEFAULTS)
    unit = log_base.unit
    if cur is None:
        assert base is not None, "compare_model needs a current or a baseline model"
        # A warning, not a pass: renaming a model would otherwise slip it past the comparison.
        return ModelVerdict(name=base.name, verdict=WARN, status=ModelStatus.REMOVED, current=None,
                            baseline=base, policy=p,
                            reasons=("removed in this PR (if it was renamed, list this name under the new name's "
                                     "previous_names so the comparison follows it)",))
    results = _budgets(cur, p, unit)
    bench, bench_results = compare_bench(cur, base, p)
    bench_results = _bench_budgets(cur, p) + bench_results
    results += bench_results
    # which verdicts came from the benchmark figures, so the report can tell a density failure from one on
    # throughput, latency, memory or energy alone (size advice fits only the first)
    bench_ids = {id(x) for x in bench_results}

    def density_failed() -> bool:
        return any(x[0] is FAIL and id(x) not in bench_ids for x in results)
    if base is None:
        results.append((PASS, "new model: no baseline, held to the absolute budgets only"))
        return ModelVerdict(name=cur.name, verdict=worst(v for v, _ in results), status=ModelStatus.NEW,
                            current=cur, baseline=None, policy=p, reasons=tuple(r for _, r in results),
                            density_failed=density_failed(),
                            bench=bench, groups=compare_groups(cur, None, [], p, log_base)[0])

    fb, fc = base.fingerprint, cur.fingerprint
    missing = tuple(sorted(set(fb) - set(fc)))
    added = tuple(sorted(set(fc) - set(fb)))
    changed_metric = tuple(sorted(t for t in set(fb) & set(fc) if fb[t] != fc[t]))
    common = [t.task for t in cur.tasks if t.task in fb and fb[t.task] == fc[t.task]]
    plain: frozenset[str] = frozenset()  # tasks whose costs the PR changed, compared on their plain error
    same = (cur.size_bytes == base.size_bytes and fb == fc
            and math.isclose(cur.error_rate, base.error_rate, rel_tol=0, abs_tol=1e-12))
    status = ModelStatus.UNCHANGED if same else ModelStatus.CHANGED
    if missing:
        results.append((WARN, f"{', '.join(missing)} missing in the PR; compared on the common tasks"))
    if added:
        results.append((PASS, f"{', '.join(added)} new in the PR; not in the comparison"))
    if changed_metric:
        # The fingerprint holds the metric and, for a partial (--limit) run, the sample count, and the costs: of
        # a cost-weighted classification task.
        bt, ct = {t.task: t for t in base.tasks}, {t.task: t for t in cur.tasks}
        costs = [t for t in changed_metric if bt[t].metric == ct[t].metric and bt[t].partial == ct[t].partial]
        samples = [t for t in changed_metric if bt[t].metric == ct[t].metric and t not in costs]
        metrics = [t for t in changed_metric if t not in samples and t not in costs]
        if costs:
            # Costs are policy: the PR must not loosen its own gate by changing them. Where the check could not
            # weigh the PR's counts with the base's costs (gate.check does when it reads the files), both sides
            # count the task's plain error rate, which no costs change.
            plain = frozenset(costs)
            results.append((WARN, "costs changed for " + ", ".join(
                f"{t} ({bt[t].costs or 'no costs'} -> {ct[t].costs or 'no costs'})" for t in costs)
                + "; the PR's counts cannot be weighed with the base's costs here, so "
                + ("these tasks are" if len(costs) > 1 else "the task is")
                + " compared on the plain error rate (no standard error, so no noise allowance); the new costs "
                  "take effect once merged"))
        if metrics:
            results.append((WARN, f"metric changed for {', '.join(metrics)}; compared without them"))
        if samples:
            results.append((WARN, "sample count changed for " + ", ".join(
                f"{t} ({bt[t].partial or 'full run'} -> {ct[t].partial or 'full run'})" for t in samples)
                + "; a partial run is compared only with one on the same examples; compared without them"))
    group_changes, group_results = compare_groups(cur, base, common, p, log_base)
    common = [t.task for t in cur.tasks if t.task in common or t.task in plain]  # in the PR's order
    if not common:
        results.append((WARN, "no task in common with the baseline: density change not comparable"))
        results += group_results
        return ModelVerdict(name=cur.name, verdict=worst(v for v, _ in results), status=status, current=cur,
                            baseline=base, policy=p, missing_in_pr=missing, new_in_pr=added,
                            metric_changed=changed_metric, reasons=tuple(r for _, r in results),
                            density_failed=density_failed(), bench=bench,
                            groups=group_changes)

    cs, bs = _side(cur, common, log_base, plain), _side(base, common, log_base, plain)
    delta = cs.density - bs.density
    rel = delta / bs.density if bs.density > 0 else None
    dec = metric.decompose(bs.error_rate, bs.size_bytes, cs.error_rate, cs.size_bytes, log_base)
    rule, noise = _drop_rule(cs, bs, p)
    results += rule + group_results
    return ModelVerdict(name=cur.name, verdict=worst(v for v, _ in results), status=status, current=cur,
                        baseline=base, policy=p, cur=cs, base=bs, delta=delta, delta_rel=rel, decomposition=dec,
                        within_noise=noise, missing_in_pr=missing, new_in_pr=added, metric_changed=changed_metric,
                        plain_compared=tuple(t for t in common if t in plain), reasons=tuple(r for _, r in results),
                        density_failed=density_failed(), bench=bench, groups=group_changes)


def compare(current: Measurement, baseline: Measurement | None, policies: dict[str, Policy],
            renames: dict[str, str] | None = None, **meta: Any) -> CheckResult:
    """``policies`` maps model name -> effective policy (already merged: base manifest, CLI).

    ``renames`` maps a current model's name to the baseline name it is compared with (a rename the
    manifest's ``previous_names`` declares, already checked to be unambiguous); that baseline model is
    then not reported as removed.
    """
    renames = renames or {}
    verdicts = []
    # by name, once: ``baseline.model(name)`` per model would make 10,000 models a 10^8-step compare
    base_by_name = {b.name: b for b in reversed(baseline.models)} if baseline else {}
    followed = set()
    for m in current.models:
        old = renames.get(m.name) if m.name not in base_by_name else None
        b = base_by_name.get(old if old in base_by_name else m.name)
        v = compare_model(m, b, policies.get(m.name, _NO_POLICY), current.log_base)
        if b is not None and old is not None:
            followed.add(old)
            v = replace(v, renamed_from=old, reasons=(f"renamed from {old} (previous_names): compared with "
                                                      f"{old}'s baseline",) + v.reasons)
        verdicts.append(v)
    if baseline:
        names = {m.name for m in current.models} | followed
        for b in baseline.models:
            if b.name not in names:
                verdicts.append(compare_model(None, b, policies.get(b.name, _NO_POLICY), current.log_base))
    notices = list(dict.fromkeys(meta.pop("notices", ())))  # each notice once, in order
    if baseline is not None and baseline.log_base != current.log_base:
        notices.append(f"baseline used log_base {baseline.log_base}, this run {current.log_base}; "
                       "the baseline was recomputed in this run's base")
    return CheckResult(verdict=worst(v.verdict for v in verdicts), models=tuple(verdicts),
                       log_base=current.log_base, notices=tuple(notices), **meta)
