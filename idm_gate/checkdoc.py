"""The check document: a :class:`~idm_gate.data.CheckResult` as a JSON object (``"kind": "check"``) and back.

It is ``check --format json``'s output and the file the action writes to its ``report`` output (beside an
uploaded report in publish mode, as ``*-check.json``); ``badge --check FILE`` reads it back for a model's
verdict. Its shape is ``idm_gate/schemas/check.schema.json``; each model's ``current``/``baseline`` is the
measurement document of :mod:`idm_gate.serialize`.

Writing: :func:`check_to_dict`, then :func:`idm_gate.serialize.dumps`. Reading:
:func:`idm_gate.serialize.loads_strict`, then :func:`verdict_of`. The ``json`` format
(:mod:`idm_gate.report.json`) only renders what this module builds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import __version__
from .data import Verdict
from .errors import InputError
from .serialize import bench_to_dict, group_to_dict, model_to_dict

if TYPE_CHECKING:
    from .verdicts import BenchChange, CheckResult, GroupChange, Side


def _side(s: Side | None) -> dict[str, Any] | None:
    """A compared side (over the tasks both sides share): density, its standard error, error rate, size."""
    return None if s is None else {"density": s.density, "density_stderr": s.density_stderr,
                                   "error_rate": s.error_rate, "size_bytes": s.size_bytes}


def bench_change_to_dict(c: BenchChange) -> dict[str, Any]:
    """One ``bench:`` figure against the baseline: both figures, comparable or why not, relative change."""
    return {"key": c.key, "current": bench_to_dict(c.current) if c.current else None,
            "baseline": bench_to_dict(c.baseline) if c.baseline else None, "comparable": c.comparable,
            "why_not_comparable": None if c.comparable else c.why, "delta_rel": c.delta_rel}


def group_change_to_dict(c: GroupChange) -> dict[str, Any]:
    """One group (manifest ``groups:``) against the baseline: both sides, the tasks compared, relative change."""
    return {"name": c.name, "current": group_to_dict(c.current) if c.current else None,
            "baseline": group_to_dict(c.baseline) if c.baseline else None,
            "compared_tasks": list(c.compared_tasks),
            "compared": {"current": _side(c.cur), "baseline": _side(c.base)},
            "delta_rel": c.delta_rel, "why_not_compared": c.why if c.delta_rel is None else None}


def check_to_dict(r: CheckResult) -> dict[str, Any]:
    """The check document of ``r``: the overall verdict, the baseline's provenance and one entry per model.

    A model's ``bench``, ``groups`` and ``worst_group`` appear only when it has them, so the documents of
    models without ``bench:`` or ``groups:`` are unchanged; costs show in its measurement documents.
    """
    models = []
    for v in r.models:
        d = v.decomposition
        models.append({
            "name": v.name,
            "verdict": v.verdict,
            "status": v.status,
            "renamed_from": v.renamed_from,
            "current": model_to_dict(v.current) if v.current else None,
            "baseline": model_to_dict(v.baseline) if v.baseline else None,
            "baseline_commit": r.baseline_commit if v.baseline else None,
            "compared": {"current": _side(v.cur), "baseline": _side(v.base)},
            "delta": {"density_abs": v.delta, "density_rel": v.delta_rel},
            "decomposition": None if d is None else {
                "log_ratio": d.total, "accuracy": d.accuracy, "size": d.size,
                "break_even_size_bytes": d.break_even_bytes},
            "within_noise": v.within_noise,
            "density_failed": v.density_failed,
            "plain_compared": list(v.plain_compared),
            "comparability": {"missing_in_pr": list(v.missing_in_pr), "new_in_pr": list(v.new_in_pr),
                              "metric_changed": list(v.metric_changed)},
            "policy": v.policy.as_dict(),
            "reasons": list(v.reasons),
            **({"bench": [bench_change_to_dict(c) for c in v.bench]} if v.bench else {}),
            **({"groups": [group_change_to_dict(c) for c in v.groups]} if v.groups else {}),
            **({"worst_group": v.current.worst_group.name}
               if v.current is not None and v.current.worst_group is not None else {}),
        })
    return {
        "version": 1,
        "kind": "check",
        "tool_version": __version__,
        "verdict": r.verdict,
        "log_base": r.log_base,
        "unit": r.log_base.unit,
        "merge_base": r.merge_base,
        "baseline_commit": r.baseline_commit,
        "baseline_distance": r.baseline_distance,
        "baseline_date": r.baseline_date,
        "head_commit": r.head_commit,
        "notices": list(r.notices),
        "models": models,
    }


def verdict_of(doc: object, model: str, shown: str) -> Verdict:
    """The verdict (pass, warn or fail) the check document ``doc`` (parsed JSON, from
    ``shown``) gives ``model``.

    Raises ``InputError`` (one line naming ``shown``) when ``doc`` is not a check document (no
    ``"kind": "check"`` with a ``models`` list) or holds no valid verdict for ``model``.
    """
    models = doc.get("models") if isinstance(doc, dict) and doc.get("kind") == "check" else None
    if not isinstance(models, list):
        raise InputError(f"{shown}: not a check report; write one with idm-gate check --format json -o FILE")
    verdict = next((v.get("verdict") for v in models if isinstance(v, dict) and v.get("name") == model), None)
    if verdict not in tuple(Verdict):
        raise InputError(f"{shown}: has no verdict for model {model!r}; check the same manifest, or drop --check")
    return Verdict(verdict)
